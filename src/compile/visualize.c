/*
 * visualize.c — etpu_visualize_html: one self-contained HTML page showing a
 * model's graph and its Edge TPU mapping (etpu visualize).
 *
 * The page is built here, in C, and needs nothing but the file: the graph is
 * inline SVG laid out by data flow, the summary tables and every op's
 * details are HTML, and a small script of our own (PAGE_SCRIPT below) adds
 * hover and click (an op's details into the side panel), search over op and
 * tensor names, and zoom. A Content-Security-Policy forbids every network
 * request. Every string that comes from the model (names, custom codes,
 * descriptions, the compiler's reasons that quote them, metadata) goes
 * through etpu_escape_html, so a hostile model cannot inject markup.
 *
 * What the nodes are:
 *  - an uncompiled model is compiled in memory (etpu_compile with the
 *    caller's options); each op is coloured by where it runs, and CPU ops
 *    carry the rule broken and the fix. When the compiler refuses the whole
 *    model (float, dynamic shapes) the page says so at the top and every op
 *    is shown as not compiled;
 *  - an etpu-compiled model: each edgetpu-custom-op holding etpu's payload
 *    (compile.h) is replaced by the ops of its embedded model, linked to the
 *    outer graph through the payload's graph inputs and outputs, and framed;
 *  - a Google-compiled model: the TFLite shell with the custom op as one
 *    opaque Edge TPU node and a note (google_package_html is the hook where
 *    a decoded DWN1 package will be shown).
 *
 * Layout (deterministic, O(nodes + edges) per sweep): nodes are the graph
 * inputs, the ops and the graph outputs; an edge is a tensor from its
 * producer to each consumer (constants are not edges). Layers by longest
 * path from the sources (Kahn's order; a node left in a cycle of a broken
 * graph goes below everything), then four barycentre sweeps order each
 * layer, ties kept by the previous order. Same model and options, same
 * bytes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "compile/compile.h"

typedef etpu_strbuf strbuf;
#define sb etpu_strbuf_printf

/* Node geometry, in SVG user units. */
enum { NODE_W = 168, NODE_H = 38, GAP_X = 22, GAP_Y = 64, MARGIN = 24, CLUSTER_PAD = 10 };

enum { K_OP = 0, K_IN = 1, K_OUT = 2 };
enum { W_TPU = 0, W_CPU = 1, W_NONE = 2, W_HOST = 3 };
static const char *const WHERE_CLASS[] = {"tpu", "cpu", "none", "io"};
static const char *const WHERE_TEXT[] = {"Edge TPU", "CPU", "not compiled", "graph I/O"};

/* An edgetpu-custom-op of the drawn model and what its payload holds. */
typedef struct vpayload {
  uint32_t op;            /* the custom op's index in the outer model */
  bool ours;              /* etpu's payload (magic ETPUSIM1) */
  etpu_model *model;      /* the embedded model, when ours and it opened */
  char error[480];        /* why it could not be expanded ("" if it was) */
  uint32_t runtime, nops; /* header fields (ours) */
  uint64_t params, onchip, offchip;
  int32_t *gid;           /* inner tensor -> global tensor id */
  int32_t first_node, last_node; /* its inner nodes, when expanded */
} vpayload;

typedef struct vnode {
  uint8_t kind, where;
  const etpu_model *m;    /* model holding the op (outer or a payload's) */
  uint32_t op;            /* op index in m; position among graph I/O for K_IN/K_OUT */
  int32_t pl;             /* payload index for inner ops and opaque custom ops, else -1 */
  int32_t tensor;         /* global tensor of K_IN / K_OUT */
  bool has_status;
  etpu_map_status status;
  int32_t segment, blocked_by;
  const char *reason, *fix;
  uint32_t layer, pos;
  double key;
  int32_t x, y;
} vnode;

typedef struct vedge {
  uint32_t from, to;
  int32_t tensor;
} vedge;

typedef struct vctx {
  const etpu_model *m;
  const etpu_visualize_options *o;
  etpu_arena a;
  strbuf *b;
  etpu_compilation *comp;         /* uncompiled models */
  char compile_error[600];        /* the compiler's refusal, "" if none */
  int32_t rt;                     /* runtime version of the rules shown */
  vpayload *pls;
  uint32_t npl;
  /* global tensors: outer ones first (id = index), then each payload's own */
  uint32_t ntensors;
  const etpu_model **tm;
  uint32_t *tidx;
  int32_t *producer;              /* node writing the tensor, -1 */
  vnode *nodes;
  uint32_t nnodes;
  vedge *edges;
  uint32_t nedges, cap_edges;
  uint32_t nlayers, width, height;
} vctx;

static etpu_status oom(const vctx *c) {
  return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory while drawing the report", c->m->label);
}

static void esc(vctx *c, const char *s) { etpu_escape_html(c->b, s); }

/* At most max characters of s (each UTF-8 sequence or stray byte counts
 * one), escaped; "…" when cut. */
static void esc_short(vctx *c, const char *s, size_t max) {
  const unsigned char *u = (const unsigned char *)s;
  size_t n = strlen(s), i = 0, chars = 0;
  while (i < n && chars < max) {
    size_t k = etpu_utf8_seq(u + i, n - i);
    i += k ? k : 1;
    chars++;
  }
  char buf[256];
  if (i >= sizeof buf) i = 0; /* cannot happen: max is small */
  memcpy(buf, s, i);
  buf[i] = 0;
  esc(c, buf);
  if (i < n) sb(c->b, "\xe2\x80\xa6");
}

static bool is_edgetpu_op(const etpu_op_info *op) {
  return op->code == ETPU_OP_CUSTOM && !strcmp(op->name, ETPU_EDGETPU_CUSTOM_CODE);
}

/* ---- the model's payloads ------------------------------------------------ */

/* Open an etpu payload and link its graph I/O to the outer custom op's
 * tensors; on a broken payload p->error says why and nothing is expanded. */
static etpu_status open_payload(vctx *c, vpayload *p, const etpu_op_info *op) {
  const uint8_t *d = op->custom_options;
  size_t n = op->custom_options_size;
  if (n < ETPU_PAYLOAD_HEADER_BYTES) {
    snprintf(p->error, sizeof p->error, "etpu payload of %zu bytes is truncated (the header is %d)", n,
             ETPU_PAYLOAD_HEADER_BYTES);
    return ETPU_OK;
  }
  uint32_t version = etpu_rd32(d + 8), size = etpu_rd32(d + 44);
  p->runtime = etpu_rd32(d + 12);
  p->params = etpu_rd64(d + 16);
  p->onchip = etpu_rd64(d + 24);
  p->offchip = etpu_rd64(d + 32);
  p->nops = etpu_rd32(d + 40);
  if (version != ETPU_PAYLOAD_VERSION) {
    snprintf(p->error, sizeof p->error, "etpu payload format version %u; this etpu reads version %d", version,
             ETPU_PAYLOAD_VERSION);
    return ETPU_OK;
  }
  if (size > n - ETPU_PAYLOAD_HEADER_BYTES) {
    snprintf(p->error, sizeof p->error, "etpu payload says %u model bytes but holds %zu", size,
             n - ETPU_PAYLOAD_HEADER_BYTES);
    return ETPU_OK;
  }
  char label[160];
  snprintf(label, sizeof label, "op %u edgetpu-custom-op payload", p->op);
  etpu_status st = etpu_model_open_buffer(d + ETPU_PAYLOAD_HEADER_BYTES, size, label, ETPU_OPEN_COPY, &p->model);
  if (st == ETPU_OUT_OF_MEMORY) return st;
  if (st != ETPU_OK) {
    snprintf(p->error, sizeof p->error, "%s", etpu_errmsg());
    p->model = NULL;
    return ETPU_OK;
  }
  /* Inner graph inputs = the custom op's non-variable inputs, in order;
   * inner graph outputs = its outputs. */
  uint32_t nin = 0;
  for (uint32_t k = 0; k < op->input_count; k++) {
    etpu_tensor_info t;
    if (op->inputs[k] >= 0 && etpu_model_tensor(c->m, 0, (uint32_t)op->inputs[k], &t) == ETPU_OK && !t.is_variable)
      nin++;
  }
  if (etpu_model_subgraph_count(p->model) == 0 || nin != etpu_model_input_count(p->model, 0) ||
      op->output_count != etpu_model_output_count(p->model, 0)) {
    snprintf(p->error, sizeof p->error,
             "the custom op has %u inputs / %u outputs but its payload model %u / %u: not expanded", nin,
             op->output_count, etpu_model_subgraph_count(p->model) ? etpu_model_input_count(p->model, 0) : 0,
             etpu_model_subgraph_count(p->model) ? etpu_model_output_count(p->model, 0) : 0);
    etpu_model_free(p->model);
    p->model = NULL;
  }
  return ETPU_OK;
}

static etpu_status find_payloads(vctx *c) {
  uint32_t nops = etpu_model_op_count(c->m, 0);
  for (uint32_t i = 0; i < nops; i++) {
    etpu_op_info op;
    if (etpu_model_op(c->m, 0, i, &op) == ETPU_OK && is_edgetpu_op(&op)) c->npl++;
  }
  c->pls = etpu_arena_array(&c->a, c->npl + 1, sizeof *c->pls);
  if (!c->pls) {
    c->npl = 0;
    return oom(c);
  }
  uint32_t k = 0;
  for (uint32_t i = 0; i < nops; i++) {
    etpu_op_info op;
    if (etpu_model_op(c->m, 0, i, &op) != ETPU_OK || !is_edgetpu_op(&op)) continue;
    vpayload *p = &c->pls[k++];
    p->op = i;
    p->first_node = p->last_node = -1;
    p->ours = op.custom_options && op.custom_options_size >= 8 && !memcmp(op.custom_options, ETPU_PAYLOAD_MAGIC, 8);
    if (p->ours) {
      etpu_status st = open_payload(c, p, &op);
      if (st != ETPU_OK) return st;
    }
  }
  return ETPU_OK;
}

static int32_t payload_of_op(const vctx *c, uint32_t op) {
  for (uint32_t k = 0; k < c->npl; k++)
    if (c->pls[k].op == op) return (int32_t)k;
  return -1;
}

/* ---- the graph ----------------------------------------------------------- */

/* Global tensor ids: the outer model's tensors keep their index; each
 * expanded payload's tensors map to the outer tensors at its graph I/O and
 * to new ids otherwise. */
static etpu_status number_tensors(vctx *c) {
  uint32_t total = etpu_model_tensor_count(c->m, 0);
  for (uint32_t k = 0; k < c->npl; k++)
    if (c->pls[k].model) total += etpu_model_tensor_count(c->pls[k].model, 0);
  c->tm = etpu_arena_array(&c->a, total + 1, sizeof *c->tm);
  c->tidx = etpu_arena_array(&c->a, total + 1, sizeof *c->tidx);
  c->producer = etpu_arena_array(&c->a, total + 1, sizeof *c->producer);
  if (!c->tm || !c->tidx || !c->producer) return oom(c);
  uint32_t n = etpu_model_tensor_count(c->m, 0);
  for (uint32_t t = 0; t < n; t++) {
    c->tm[t] = c->m;
    c->tidx[t] = t;
  }
  for (uint32_t k = 0; k < c->npl; k++) {
    vpayload *p = &c->pls[k];
    if (!p->model) continue;
    uint32_t nt = etpu_model_tensor_count(p->model, 0);
    p->gid = etpu_arena_array(&c->a, nt + 1, sizeof *p->gid);
    if (!p->gid) return oom(c);
    for (uint32_t t = 0; t < nt; t++) p->gid[t] = -1;
    etpu_op_info op;
    if (etpu_model_op(c->m, 0, p->op, &op) != ETPU_OK) return etpu_fail(ETPU_MALFORMED, "%s: op %u", c->m->label, p->op);
    uint32_t in = 0;
    for (uint32_t j = 0; j < op.input_count; j++) {
      etpu_tensor_info t;
      if (op.inputs[j] < 0 || etpu_model_tensor(c->m, 0, (uint32_t)op.inputs[j], &t) != ETPU_OK || t.is_variable)
        continue;
      int32_t inner = etpu_model_input(p->model, 0, in++);
      if (inner >= 0 && (uint32_t)inner < nt) p->gid[inner] = op.inputs[j];
    }
    for (uint32_t j = 0; j < op.output_count; j++) {
      int32_t inner = etpu_model_output(p->model, 0, j);
      if (inner >= 0 && (uint32_t)inner < nt) p->gid[inner] = op.outputs[j];
    }
    for (uint32_t t = 0; t < nt; t++) {
      if (p->gid[t] >= 0) continue;
      p->gid[t] = (int32_t)n;
      c->tm[n] = p->model;
      c->tidx[n] = t;
      n++;
    }
  }
  c->ntensors = n;
  for (uint32_t t = 0; t < n; t++) c->producer[t] = -1;
  return ETPU_OK;
}

/* Global id of tensor t of model m (-1 for an omitted input). */
static int32_t gid_of(const vctx *c, const etpu_model *m, int32_t pl, int32_t t) {
  if (t < 0) return -1;
  if (pl >= 0 && m == c->pls[pl].model) return c->pls[pl].gid[t];
  return t;
}

static void node_io(const vctx *c, const vnode *n, etpu_op_info *op) {
  memset(op, 0, sizeof *op);
  if (n->kind != K_OP || etpu_model_op(n->m, 0, n->op, op) != ETPU_OK) {
    memset(op, 0, sizeof *op);
    op->name = "";
    op->options_name = "";
  }
  (void)c;
}

/* Where op i of the outer model runs and why, for models not compiled here:
 * the op's own rule verdict (a supported op can still be on the CPU behind
 * the cut, or kept there by -i, in a compiled file). */
static etpu_status rule_verdict(vctx *c, vnode *n) {
  etpu_rule_result *r = etpu_arena_alloc(&c->a, sizeof *r);
  if (!r) return oom(c);
  etpu_rules_check(c->m, n->op, c->rt, r);
  n->has_status = r->status != ETPU_MAPPED;
  n->status = r->status;
  n->reason = etpu_arena_strdup(&c->a, r->reason);
  n->fix = etpu_arena_strdup(&c->a, r->fix);
  if (!n->reason || !n->fix) return oom(c);
  if (r->status == ETPU_MAPPED) {
    n->reason = "supported by itself; in this compiled file it runs on the CPU (behind the cut, or kept there "
                "with -i when it was compiled)";
    n->fix = "";
  }
  return ETPU_OK;
}

static etpu_status add_edge(vctx *c, uint32_t from, uint32_t to, int32_t tensor) {
  for (uint32_t e = c->nedges; e-- > 0 && c->edges[e].to == to;)
    if (c->edges[e].from == from && c->edges[e].tensor == tensor) return ETPU_OK;
  if (c->nedges == c->cap_edges) {
    uint32_t cap = c->cap_edges ? c->cap_edges * 2 : 256;
    vedge *ne = etpu_arena_array(&c->a, cap, sizeof *ne);
    if (!ne) return oom(c);
    if (c->nedges) memcpy(ne, c->edges, c->nedges * sizeof *ne);
    c->edges = ne;
    c->cap_edges = cap;
  }
  c->edges[c->nedges++] = (vedge){from, to, tensor};
  return ETPU_OK;
}

static etpu_status build_nodes(vctx *c) {
  const etpu_model *m = c->m;
  uint32_t nops = etpu_model_op_count(m, 0), nin = etpu_model_input_count(m, 0), nout = etpu_model_output_count(m, 0);
  uint32_t total = nin + nout + nops;
  for (uint32_t k = 0; k < c->npl; k++)
    if (c->pls[k].model) total += etpu_model_op_count(c->pls[k].model, 0);
  c->nodes = etpu_arena_array(&c->a, total + 1, sizeof *c->nodes);
  if (!c->nodes) return oom(c);
  for (uint32_t i = 0; i < nin; i++)
    c->nodes[c->nnodes++] = (vnode){.kind = K_IN, .where = W_HOST, .m = m, .op = i, .pl = -1,
                                    .tensor = etpu_model_input(m, 0, i), .segment = -1, .blocked_by = -1};
  for (uint32_t i = 0; i < nops; i++) {
    int32_t pl = payload_of_op(c, i);
    if (pl >= 0 && c->pls[pl].model) {
      vpayload *p = &c->pls[pl];
      p->first_node = (int32_t)c->nnodes;
      for (uint32_t j = 0; j < etpu_model_op_count(p->model, 0); j++)
        c->nodes[c->nnodes++] = (vnode){.kind = K_OP, .where = W_TPU, .m = p->model, .op = j, .pl = pl,
                                        .tensor = -1, .has_status = true, .status = ETPU_MAPPED,
                                        .segment = pl, .blocked_by = -1, .reason = "", .fix = ""};
      p->last_node = (int32_t)c->nnodes - 1;
      continue;
    }
    vnode n = {.kind = K_OP, .where = W_CPU, .m = m, .op = i, .pl = pl, .tensor = -1, .segment = -1,
               .blocked_by = -1, .reason = "", .fix = ""};
    if (c->comp) {
      etpu_op_mapping mp;
      if (etpu_compilation_op(c->comp, i, &mp) != ETPU_OK) return etpu_fail(ETPU_MALFORMED, "%s: op %u", m->label, i);
      n.where = mp.on_edgetpu ? W_TPU : W_CPU;
      n.has_status = true;
      n.status = mp.status;
      n.segment = mp.segment;
      n.blocked_by = mp.blocked_by;
      n.reason = mp.reason;
      n.fix = mp.fix;
    } else if (c->compile_error[0]) {
      n.where = W_NONE;
    } else if (pl >= 0) {
      n.where = W_TPU; /* Google's package, or an etpu payload that did not open */
    } else {
      etpu_status st = rule_verdict(c, &n);
      if (st != ETPU_OK) return st;
    }
    c->nodes[c->nnodes++] = n;
  }
  for (uint32_t i = 0; i < nout; i++)
    c->nodes[c->nnodes++] = (vnode){.kind = K_OUT, .where = W_HOST, .m = m, .op = i, .pl = -1,
                                    .tensor = etpu_model_output(m, 0, i), .segment = -1, .blocked_by = -1};
  /* Producers, then one edge per (producer, consumer, tensor). */
  for (uint32_t v = 0; v < c->nnodes; v++) {
    vnode *n = &c->nodes[v];
    if (n->kind == K_IN && n->tensor >= 0 && (uint32_t)n->tensor < c->ntensors && c->producer[n->tensor] < 0)
      c->producer[n->tensor] = (int32_t)v;
    if (n->kind != K_OP) continue;
    etpu_op_info op;
    node_io(c, n, &op);
    for (uint32_t k = 0; k < op.output_count; k++) {
      int32_t g = gid_of(c, n->m, n->pl, op.outputs[k]);
      if (g >= 0 && (uint32_t)g < c->ntensors) c->producer[g] = (int32_t)v;
    }
  }
  for (uint32_t v = 0; v < c->nnodes; v++) {
    vnode *n = &c->nodes[v];
    if (n->kind == K_IN) continue;
    etpu_op_info op;
    uint32_t count = 1;
    const int32_t *ins = &n->tensor;
    if (n->kind == K_OP) {
      node_io(c, n, &op);
      count = op.input_count;
      ins = op.inputs;
    }
    for (uint32_t k = 0; k < count; k++) {
      int32_t g = n->kind == K_OP ? gid_of(c, n->m, n->pl, ins[k]) : ins[k];
      if (g < 0 || (uint32_t)g >= c->ntensors || c->producer[g] < 0 || (uint32_t)c->producer[g] == v) continue;
      etpu_status st = add_edge(c, (uint32_t)c->producer[g], v, g);
      if (st != ETPU_OK) return st;
    }
  }
  return ETPU_OK;
}

/* ---- layout -------------------------------------------------------------- */

static int cmp_key(const void *pa, const void *pb, const vnode *nodes) {
  const vnode *a = &nodes[*(const uint32_t *)pa], *b = &nodes[*(const uint32_t *)pb];
  if (a->key != b->key) return a->key < b->key ? -1 : 1;
  return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* A merge sort (stable, deterministic) by (key, pos). */
static void sort_layer(uint32_t *v, uint32_t *tmp, uint32_t n, const vnode *nodes) {
  if (n < 2) return;
  uint32_t h = n / 2;
  sort_layer(v, tmp, h, nodes);
  sort_layer(v + h, tmp, n - h, nodes);
  uint32_t i = 0, j = h, k = 0;
  while (i < h && j < n) tmp[k++] = cmp_key(&v[j], &v[i], nodes) < 0 ? v[j++] : v[i++];
  while (i < h) tmp[k++] = v[i++];
  while (j < n) tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

static etpu_status layout(vctx *c) {
  uint32_t n = c->nnodes, ne = c->nedges;
  uint32_t *indeg = etpu_arena_array(&c->a, n + 1, sizeof *indeg);
  uint32_t *ostart = etpu_arena_array(&c->a, n + 2, sizeof *ostart);
  uint32_t *istart = etpu_arena_array(&c->a, n + 2, sizeof *istart);
  uint32_t *oadj = etpu_arena_array(&c->a, ne + 1, sizeof *oadj);
  uint32_t *iadj = etpu_arena_array(&c->a, ne + 1, sizeof *iadj);
  uint32_t *queue = etpu_arena_array(&c->a, n + 1, sizeof *queue);
  uint8_t *done = etpu_arena_alloc(&c->a, n + 1);
  if (!indeg || !ostart || !istart || !oadj || !iadj || !queue || !done) return oom(c);
  memset(done, 0, n + 1);
  for (uint32_t e = 0; e < ne; e++) {
    ostart[c->edges[e].from + 1]++;
    istart[c->edges[e].to + 1]++;
  }
  for (uint32_t v = 0; v < n; v++) {
    ostart[v + 1] += ostart[v];
    istart[v + 1] += istart[v];
  }
  uint32_t *ofill = etpu_arena_dup(&c->a, ostart, (n + 1) * sizeof *ofill);
  uint32_t *ifill = etpu_arena_dup(&c->a, istart, (n + 1) * sizeof *ifill);
  if (!ofill || !ifill) return oom(c);
  for (uint32_t e = 0; e < ne; e++) {
    oadj[ofill[c->edges[e].from]++] = c->edges[e].to;
    iadj[ifill[c->edges[e].to]++] = c->edges[e].from;
    indeg[c->edges[e].to]++;
  }
  /* Longest path from the sources, in Kahn's order (FIFO, index order). */
  uint32_t head = 0, tail = 0, maxl = 0;
  for (uint32_t v = 0; v < n; v++) {
    c->nodes[v].layer = 0;
    if (!indeg[v]) queue[tail++] = v;
  }
  while (head < tail) {
    uint32_t v = queue[head++];
    done[v] = 1;
    if (c->nodes[v].layer > maxl) maxl = c->nodes[v].layer;
    for (uint32_t k = ostart[v]; k < ostart[v + 1]; k++) {
      uint32_t w = oadj[k];
      if (c->nodes[w].layer < c->nodes[v].layer + 1) c->nodes[w].layer = c->nodes[v].layer + 1;
      if (--indeg[w] == 0) queue[tail++] = w;
    }
  }
  for (uint32_t v = 0; v < n; v++)
    if (!done[v]) c->nodes[v].layer = ++maxl; /* in a cycle: a broken graph, drawn below */
  /* An op that reads no activation (a DEQUANTIZE of constant weights) goes
   * just above its first reader rather than on the top layer. */
  for (uint32_t v = 0; v < n; v++) {
    if (c->nodes[v].kind != K_OP || istart[v + 1] != istart[v] || ostart[v + 1] == ostart[v]) continue;
    uint32_t low = UINT32_MAX;
    for (uint32_t k = ostart[v]; k < ostart[v + 1]; k++)
      if (c->nodes[oadj[k]].layer < low) low = c->nodes[oadj[k]].layer;
    c->nodes[v].layer = low > 0 ? low - 1 : 0;
  }
  /* Graph outputs on the last layer. */
  uint32_t last = maxl;
  for (uint32_t v = 0; v < n; v++)
    if (c->nodes[v].kind == K_OUT && c->nodes[v].layer < last) c->nodes[v].layer = last;
  c->nlayers = n ? last + 1 : 0;
  /* Layers as index lists, initial order by node index. */
  uint32_t *lstart = etpu_arena_array(&c->a, c->nlayers + 2, sizeof *lstart);
  uint32_t *order = etpu_arena_array(&c->a, n + 1, sizeof *order);
  uint32_t *tmp = etpu_arena_array(&c->a, n + 1, sizeof *tmp);
  if (!lstart || !order || !tmp) return oom(c);
  for (uint32_t v = 0; v < n; v++) lstart[c->nodes[v].layer + 1]++;
  for (uint32_t l = 0; l < c->nlayers; l++) lstart[l + 1] += lstart[l];
  memcpy(tmp, lstart, (c->nlayers + 1) * sizeof *tmp);
  for (uint32_t v = 0; v < n; v++) {
    c->nodes[v].pos = tmp[c->nodes[v].layer] - lstart[c->nodes[v].layer];
    order[tmp[c->nodes[v].layer]++] = v;
  }
  /* Barycentre sweeps: down by predecessors, up by successors. */
  for (int sweep = 0; sweep < 4; sweep++) {
    bool down = sweep % 2 == 0;
    for (uint32_t li = 0; li < c->nlayers; li++) {
      uint32_t l = down ? li : c->nlayers - 1 - li;
      uint32_t *v = order + lstart[l], cnt = lstart[l + 1] - lstart[l];
      for (uint32_t k = 0; k < cnt; k++) {
        vnode *nd = &c->nodes[v[k]];
        const uint32_t *adj = down ? iadj : oadj;
        uint32_t s = down ? istart[v[k]] : ostart[v[k]], e = down ? istart[v[k] + 1] : ostart[v[k] + 1];
        double sum = 0;
        for (uint32_t j = s; j < e; j++) sum += c->nodes[adj[j]].pos;
        nd->key = e > s ? sum / (e - s) : nd->pos;
      }
      sort_layer(v, tmp, cnt, c->nodes);
      for (uint32_t k = 0; k < cnt; k++) c->nodes[v[k]].pos = k;
    }
  }
  /* Coordinates: layers centred on the widest. */
  uint32_t widest = 1;
  for (uint32_t l = 0; l < c->nlayers; l++)
    if (lstart[l + 1] - lstart[l] > widest) widest = lstart[l + 1] - lstart[l];
  c->width = 2 * MARGIN + widest * NODE_W + (widest - 1) * GAP_X;
  c->height = 2 * MARGIN + (c->nlayers ? c->nlayers * NODE_H + (c->nlayers - 1) * GAP_Y : NODE_H);
  for (uint32_t v = 0; v < n; v++) {
    vnode *nd = &c->nodes[v];
    uint32_t cnt = lstart[nd->layer + 1] - lstart[nd->layer];
    uint32_t off = (widest - cnt) * (NODE_W + GAP_X) / 2;
    nd->x = (int32_t)(MARGIN + off + nd->pos * (NODE_W + GAP_X));
    nd->y = (int32_t)(MARGIN + nd->layer * (NODE_H + GAP_Y));
  }
  return ETPU_OK;
}

/* ---- tensors and ops as HTML ---------------------------------------------- */

static void tensor_name(vctx *c, int32_t g) {
  etpu_tensor_info t;
  if (g < 0 || (uint32_t)g >= c->ntensors || etpu_model_tensor(c->tm[g], 0, c->tidx[g], &t) != ETPU_OK) return;
  esc(c, t.name);
}

static void shape_str(strbuf *b, uint32_t rank, const int32_t *shape) {
  sb(b, "[");
  for (uint32_t i = 0; i < rank; i++) sb(b, "%s%d", i ? ", " : "", shape[i]);
  sb(b, "]");
}

/* One <tr> of a tensor table: name, dtype, shape, scale, zero point, bytes. */
static void tensor_row(vctx *c, const char *slot, int32_t g) {
  etpu_tensor_info t;
  if (g < 0 || (uint32_t)g >= c->ntensors || etpu_model_tensor(c->tm[g], 0, c->tidx[g], &t) != ETPU_OK) {
    sb(c->b, "<tr><td>%s</td><td colspan=\"6\">(omitted)</td></tr>", slot);
    return;
  }
  char bytes[40];
  etpu_report_size(t.bytes, bytes, sizeof bytes);
  sb(c->b, "<tr><td>%s</td><td class=\"tn\">", slot);
  esc(c, t.name);
  sb(c->b, "%s%s</td><td>%s</td><td>", t.data ? " <i>(constant)</i>" : "", t.is_variable ? " <i>(variable)</i>" : "",
     etpu_dtype_name(t.type));
  shape_str(c->b, t.rank, t.shape);
  if (t.quant_count == 1)
    sb(c->b, "</td><td>%.9g</td><td>%" PRId64 "</td>", t.scale[0], t.zero_point ? t.zero_point[0] : 0);
  else if (t.quant_count > 1)
    sb(c->b, "</td><td>per axis %d: %u scales, first %.6g</td><td>first %" PRId64 "</td>", t.quantized_dimension,
       t.quant_count, t.scale[0], t.zero_point ? t.zero_point[0] : 0);
  else
    sb(c->b, "</td><td>&ndash;</td><td>&ndash;</td>");
  sb(c->b, "<td>%s</td></tr>", t.bytes ? bytes : "dynamic");
}

static const char TENSOR_HEAD[] =
    "<tr><th></th><th>name</th><th>dtype</th><th>shape</th><th>scale</th><th>zero point</th><th>bytes</th></tr>";

/* The note on a Google-compiled edgetpu-custom-op. Hook: when etpu reads
 * Google's DWN1 package (its executables, parameter memory and layers), show
 * the decoded package here. */
static void google_package_html(vctx *c, const etpu_op_info *op) {
  sb(c->b,
     "<p class=\"note\">Compiled by Google's edgetpu_compiler: the %zu bytes of this op are an Edge TPU package "
     "(machine code for the chip, with its parameters). etpu does not decode it yet, so the ops it holds are not "
     "shown; the graph around it is the model's TFLite shell. To see the mapped ops, visualize the model it was "
     "compiled from.</p>",
     op->custom_options_size);
}

static void node_title(vctx *c, const vnode *n) {
  if (n->kind == K_IN || n->kind == K_OUT) {
    sb(c->b, "graph %s %u", n->kind == K_IN ? "input" : "output", n->op);
    return;
  }
  etpu_op_info op;
  node_io(c, n, &op);
  if (n->pl >= 0 && n->m != c->m)
    sb(c->b, "op %u.%u ", c->pls[n->pl].op, n->op);
  else
    sb(c->b, "op %u ", n->op);
  esc(c, op.name);
}

static void op_details(vctx *c, uint32_t v) {
  const vnode *n = &c->nodes[v];
  sb(c->b, "<div id=\"d%u\"><h3>", v);
  node_title(c, n);
  sb(c->b, "</h3>");
  if (n->kind != K_OP) {
    sb(c->b, "<table>%s", TENSOR_HEAD);
    tensor_row(c, n->kind == K_IN ? "in" : "out", n->tensor);
    sb(c->b, "</table></div>");
    return;
  }
  etpu_op_info op;
  node_io(c, n, &op);
  sb(c->b, "<p>version %d; runs on: <b class=\"w%s\">%s</b>", op.version, WHERE_CLASS[n->where],
     WHERE_TEXT[n->where]);
  if (n->where == W_TPU && n->segment >= 0) sb(c->b, " (Edge TPU segment %d)", n->segment);
  sb(c->b, "</p>");
  if (n->pl >= 0 && n->m != c->m)
    sb(c->b, "<p>inside the edgetpu-custom-op at op %u (etpu's payload, op %u of the embedded model)</p>",
       c->pls[n->pl].op, n->op);
  if (n->has_status && n->where != W_TPU) {
    sb(c->b, "<p><b>Compiler status:</b> %s</p>", etpu_map_status_text(n->status));
  }
  if (n->where == W_CPU && n->reason && n->reason[0]) {
    /* A rule the op breaks itself, or why a supported op is on the CPU. */
    bool own = n->has_status && n->status != ETPU_NOT_MAPPED_AFTER_CUT;
    sb(c->b, "<p class=\"why\"><b>%s</b> ", own ? "Rule broken:" : "Why on the CPU:");
    esc(c, n->reason);
    sb(c->b, "</p>");
  }
  if (n->where == W_CPU && n->blocked_by >= 0) sb(c->b, "<p>The cut was started by op %d.</p>", n->blocked_by);
  if (n->where == W_CPU && n->fix && n->fix[0]) {
    sb(c->b, "<p class=\"fix\"><b>Fix:</b> ");
    esc(c, n->fix);
    sb(c->b, "</p>");
  }
  if (n->where == W_NONE) sb(c->b, "<p class=\"why\">Not compiled: the compiler refused the whole model (see the top of the page).</p>");
  if (n->pl >= 0 && n->m == c->m) {
    const vpayload *p = &c->pls[n->pl];
    if (!p->ours)
      google_package_html(c, &op);
    else {
      sb(c->b, "<p class=\"why\">etpu payload, not expanded: ");
      esc(c, p->error);
      sb(c->b, "</p>");
    }
  }
  sb(c->b, "<h4>inputs</h4><table>%s", TENSOR_HEAD);
  for (uint32_t k = 0; k < op.input_count; k++) {
    char slot[16];
    snprintf(slot, sizeof slot, "%u", k);
    tensor_row(c, slot, gid_of(c, n->m, n->pl, op.inputs[k]));
  }
  sb(c->b, "</table><h4>outputs</h4><table>%s", TENSOR_HEAD);
  for (uint32_t k = 0; k < op.output_count; k++) {
    char slot[16];
    snprintf(slot, sizeof slot, "%u", k);
    tensor_row(c, slot, gid_of(c, n->m, n->pl, op.outputs[k]));
  }
  sb(c->b, "</table>");
  if (op.options_name[0]) {
    char small[512];
    size_t need = etpu_model_op_options_json(n->m, 0, n->op, small, sizeof small);
    char *buf = need > sizeof small ? etpu_malloc(need) : small;
    if (buf) {
      if (buf != small) etpu_model_op_options_json(n->m, 0, n->op, buf, need);
      sb(c->b, "<h4>options (%s)</h4><pre>", op.options_name);
      esc(c, buf);
      sb(c->b, "</pre>");
      if (buf != small) etpu_free(buf);
    } else {
      c->b->oom = true;
    }
  } else if (op.code == ETPU_OP_CUSTOM) {
    sb(c->b, "<h4>options</h4><p>custom options: %zu bytes</p>", op.custom_options_size);
  }
  sb(c->b, "</div>");
}

/* ---- SVG ----------------------------------------------------------------- */

static void svg_node(vctx *c, uint32_t v) {
  const vnode *n = &c->nodes[v];
  etpu_op_info op;
  node_io(c, n, &op);
  sb(c->b, "<g class=\"n %s%s\" id=\"n%u\" tabindex=\"0\"", WHERE_CLASS[n->where],
     n->kind == K_OP && n->pl >= 0 && n->m == c->m ? " opaque" : "", v);
  if (n->kind == K_OP && n->m == c->m)
    sb(c->b, " data-op=\"%u\"", n->op);
  else if (n->kind == K_OP)
    sb(c->b, " data-inner=\"%u.%u\"", c->pls[n->pl].op, n->op);
  else
    sb(c->b, " data-io=\"%s%u\"", n->kind == K_IN ? "in" : "out", n->op);
  sb(c->b, " data-where=\"%s\" data-s=\"", WHERE_CLASS[n->where]);
  /* Search keys, one per line: the op, then each tensor it touches. */
  node_title(c, n);
  if (n->kind == K_OP) {
    for (uint32_t k = 0; k < op.input_count + op.output_count; k++) {
      int32_t t = k < op.input_count ? op.inputs[k] : op.outputs[k - op.input_count];
      int32_t g = gid_of(c, n->m, n->pl, t);
      if (g < 0) continue;
      sb(c->b, "&#10;");
      tensor_name(c, g);
    }
  } else {
    sb(c->b, "&#10;");
    tensor_name(c, n->tensor);
  }
  sb(c->b, "\" transform=\"translate(%d,%d)\"><rect width=\"%d\" height=\"%d\" rx=\"6\"/><text x=\"8\" y=\"16\">",
     n->x, n->y, NODE_W, NODE_H);
  if (n->kind == K_OP)
    esc_short(c, op.name, 20);
  else
    sb(c->b, "%s %u", n->kind == K_IN ? "input" : "output", n->op);
  sb(c->b, "</text><text class=\"sub\" x=\"8\" y=\"31\">");
  if (n->kind == K_OP) {
    if (n->m != c->m)
      sb(c->b, "#%u.%u ", c->pls[n->pl].op, n->op);
    else
      sb(c->b, "#%u ", n->op);
  }
  int32_t first = n->kind == K_OP ? (op.output_count ? gid_of(c, n->m, n->pl, op.outputs[0]) : -1) : n->tensor;
  etpu_tensor_info t;
  if (first >= 0 && (uint32_t)first < c->ntensors && etpu_model_tensor(c->tm[first], 0, c->tidx[first], &t) == ETPU_OK)
    esc_short(c, t.name, 20);
  sb(c->b, "</text></g>\n");
}

static void svg_edge(vctx *c, const vedge *e) {
  const vnode *a = &c->nodes[e->from], *b = &c->nodes[e->to];
  bool cut = a->kind == K_OP && b->kind == K_OP &&
             ((a->where == W_TPU && b->where == W_CPU) || (a->where == W_CPU && b->where == W_TPU));
  int32_t x1 = a->x + NODE_W / 2, y1 = a->y + NODE_H, x2 = b->x + NODE_W / 2, y2 = b->y;
  int32_t dy = (y2 - y1) / 2;
  if (dy < 20) dy = 20;
  sb(c->b, "<path class=\"e%s\" d=\"M%d %d C%d %d %d %d %d %d\"><title>", cut ? " cut" : "", x1, y1, x1, y1 + dy, x2,
     y2 - dy, x2, y2);
  etpu_tensor_info t;
  if (etpu_model_tensor(c->tm[e->tensor], 0, c->tidx[e->tensor], &t) == ETPU_OK) {
    char bytes[40];
    etpu_report_size(t.bytes, bytes, sizeof bytes);
    esc(c, t.name);
    sb(c->b, " %s ", etpu_dtype_name(t.type));
    shape_str(c->b, t.rank, t.shape);
    sb(c->b, " %s%s", bytes, cut ? " (crosses the partition cut)" : "");
  }
  sb(c->b, "</title></path>\n");
}

/* A frame around each expanded payload's ops. */
static void svg_clusters(vctx *c) {
  for (uint32_t k = 0; k < c->npl; k++) {
    const vpayload *p = &c->pls[k];
    if (p->first_node < 0 || p->last_node < p->first_node) continue;
    int32_t x0 = INT32_MAX, y0 = INT32_MAX, x1 = INT32_MIN, y1 = INT32_MIN;
    for (int32_t v = p->first_node; v <= p->last_node; v++) {
      const vnode *n = &c->nodes[v];
      if (n->x < x0) x0 = n->x;
      if (n->y < y0) y0 = n->y;
      if (n->x + NODE_W > x1) x1 = n->x + NODE_W;
      if (n->y + NODE_H > y1) y1 = n->y + NODE_H;
    }
    sb(c->b,
       "<g class=\"cluster\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"10\"/><text x=\"%d\" "
       "y=\"%d\">edgetpu-custom-op (op %u): %u ops</text></g>\n",
       x0 - CLUSTER_PAD, y0 - CLUSTER_PAD - 14, x1 - x0 + 2 * CLUSTER_PAD, y1 - y0 + 2 * CLUSTER_PAD + 14,
       x0 - CLUSTER_PAD + 6, y0 - CLUSTER_PAD - 2, p->op, (unsigned)(p->last_node - p->first_node + 1));
  }
}

/* ---- summary --------------------------------------------------------------- */

/* The operator table of etpu compile: one row per distinct (type, status)
 * in order of first occurrence. */
static const char *row_type(const vctx *c, const vnode *n) {
  etpu_op_info op;
  node_io(c, n, &op);
  return op.code == ETPU_OP_CUSTOM ? "CUSTOM" : etpu_op_code_name(op.code);
}

static const char *row_status(const vctx *c, const vnode *n) {
  if (n->where == W_NONE) return "Not compiled (the compiler refused the model)";
  if (n->where == W_TPU) {
    if (n->pl >= 0 && n->m == c->m) return c->pls[n->pl].ours ? "Edge TPU (etpu payload not expanded)" : "Edge TPU (Google's compiled package)";
    return etpu_map_status_text(ETPU_MAPPED);
  }
  if (n->has_status) return etpu_map_status_text(n->status);
  return "Runs on the CPU in this compiled file (supported by itself)";
}

static etpu_status status_table(vctx *c) {
  uint32_t *first = etpu_arena_array(&c->a, c->nnodes + 1, sizeof *first);
  uint32_t *count = etpu_arena_array(&c->a, c->nnodes + 1, sizeof *count);
  if (!first || !count) return oom(c);
  uint32_t nrows = 0;
  for (uint32_t v = 0; v < c->nnodes; v++) {
    const vnode *n = &c->nodes[v];
    if (n->kind != K_OP) continue;
    uint32_t r = 0;
    for (; r < nrows; r++) {
      const vnode *f = &c->nodes[first[r]];
      if (f->where == n->where && !strcmp(row_status(c, f), row_status(c, n)) && !strcmp(row_type(c, f), row_type(c, n)))
        break;
    }
    if (r == nrows) {
      first[nrows++] = v;
      count[r] = 0;
    }
    count[r]++;
  }
  sb(c->b, "<h2>Operators by status</h2><table id=\"status\"><tr><th>Operator</th><th>Count</th><th>Status</th></tr>");
  for (uint32_t r = 0; r < nrows; r++) {
    const vnode *f = &c->nodes[first[r]];
    sb(c->b, "<tr class=\"r%s\"><td>%s</td><td>%u</td><td>%s</td></tr>", WHERE_CLASS[f->where], row_type(c, f),
       count[r], row_status(c, f));
  }
  sb(c->b, "</table>");
  return ETPU_OK;
}

static void memory_table(vctx *c) {
  char a[40], b[40], d[40], e[40];
  sb(c->b, "<h2>Parameter memory</h2>");
  if (c->comp) {
    etpu_compile_summary s;
    etpu_compilation_summary(c->comp, &s);
    etpu_report_size(s.parameter_bytes, a, sizeof a);
    etpu_report_size(s.on_chip_bytes, b, sizeof b);
    etpu_report_size(s.off_chip_bytes, d, sizeof d);
    etpu_report_size(s.on_chip_remaining_bytes, e, sizeof e);
    sb(c->b,
       "<table id=\"memory\"><tr><th>parameters of Edge TPU ops</th><td>%s</td></tr><tr><th>cached on chip "
       "(estimate)</th><td>%s</td></tr><tr><th>streamed from off chip per inference (estimate)</th><td>%s</td></tr>"
       "<tr><th>on-chip memory left</th><td>%s</td></tr></table>",
       a, b, d, e);
    return;
  }
  bool any = false;
  uint64_t p = 0, on = 0, off = 0;
  for (uint32_t k = 0; k < c->npl; k++)
    if (c->pls[k].ours && c->pls[k].model) {
      any = true;
      p += c->pls[k].params;
      on += c->pls[k].onchip;
      off += c->pls[k].offchip;
    }
  if (any) {
    etpu_report_size(p, a, sizeof a);
    etpu_report_size(on, b, sizeof b);
    etpu_report_size(off, d, sizeof d);
    sb(c->b,
       "<table id=\"memory\"><tr><th>parameters of Edge TPU ops</th><td>%s</td></tr><tr><th>cached on chip "
       "(estimate, from the payload)</th><td>%s</td></tr><tr><th>streamed from off chip per inference "
       "(estimate)</th><td>%s</td></tr></table>",
       a, b, d);
  } else if (c->npl) {
    sb(c->b, "<p class=\"note\">Unknown: Google's compiled package is not decoded.</p>");
  } else {
    sb(c->b, "<p class=\"note\">Unknown: the model was not compiled.</p>");
  }
}

/* Lines of a stored (uncompressed) .txt entry of the ZIP archive that
 * tflite-support appends to a model for its associated files (labels).
 * Walks the central directory from the end-of-central-directory record,
 * every offset checked against the file; anything else is skipped. */
static void labels_rows(vctx *c) {
  const uint8_t *d = c->m->file.data;
  size_t n = c->m->file.size;
  if (!d || n < 22) return;
  size_t eocd = n - 22, stop = n > 22 + 65535 ? n - 22 - 65535 : 0;
  for (;; eocd--) {
    if (etpu_rd32(d + eocd) == 0x06054b50u) break;
    if (eocd == stop) return;
  }
  uint32_t entries = etpu_rd16(d + eocd + 10), cd_size = etpu_rd32(d + eocd + 12), cd_off = etpu_rd32(d + eocd + 16);
  /* The archive may sit after the model: central directory offsets are
   * relative to the archive's start, which is where the directory ends minus
   * its size and offset. */
  if ((uint64_t)cd_size + cd_off > eocd) return;
  size_t base = eocd - cd_size - cd_off, p = eocd - cd_size;
  for (uint32_t i = 0; i < entries; i++) {
    if (p + 46 > eocd || etpu_rd32(d + p) != 0x02014b50u) return;
    uint32_t method = etpu_rd16(d + p + 10), csize = etpu_rd32(d + p + 20), usize = etpu_rd32(d + p + 24);
    uint32_t nlen = etpu_rd16(d + p + 28), xlen = etpu_rd16(d + p + 30), clen = etpu_rd16(d + p + 32);
    uint32_t loff = etpu_rd32(d + p + 42);
    if (p + 46 + (uint64_t)nlen + xlen + clen > eocd) return;
    char name[256];
    size_t nl = nlen < sizeof name - 1 ? nlen : sizeof name - 1;
    memcpy(name, d + p + 46, nl);
    name[nl] = 0;
    for (size_t k = 0; k < nl; k++)
      if (!name[k]) name[k] = '?';
    p += 46 + (size_t)nlen + xlen + clen;
    sb(c->b, "<tr><th>associated file</th><td>");
    esc(c, name);
    uint64_t lh = (uint64_t)base + loff;
    if (method != 0 || csize != usize) {
      sb(c->b, " (%u bytes, compressed: not read)</td></tr>", usize);
      continue;
    }
    uint64_t data = lh + 30 <= n ? lh + 30 + etpu_rd16(d + lh + 26) + etpu_rd16(d + lh + 28) : UINT64_MAX;
    if (data == UINT64_MAX || etpu_rd32(d + lh) != 0x04034b50u || data + usize > n) {
      sb(c->b, " (entry outside the file: not read)</td></tr>");
      continue;
    }
    uint32_t lines = 0;
    bool in_line = false;
    for (uint32_t k = 0; k < usize; k++) {
      uint8_t ch = d[data + k];
      if (ch == '\n') {
        in_line = false;
      } else if (ch != '\r' && !in_line) {
        in_line = true;
        lines++;
      }
    }
    sb(c->b, " (%u bytes): %u labels</td></tr>", usize, lines);
  }
}

static void metadata_table(vctx *c) {
  const etpu_model *m = c->m;
  sb(c->b, "<h2>Metadata</h2><table id=\"metadata\">");
  if (etpu_model_description(m)[0]) {
    sb(c->b, "<tr><th>description</th><td>");
    esc(c, etpu_model_description(m));
    sb(c->b, "</td></tr>");
  }
  for (uint32_t i = 0; i < etpu_model_metadata_count(m); i++) {
    const char *name;
    size_t size;
    if (etpu_model_metadata(m, i, &name, NULL, &size) != ETPU_OK) continue;
    sb(c->b, "<tr><th>entry</th><td>");
    esc(c, name);
    sb(c->b, " (%zu bytes)</td></tr>", size);
  }
  for (uint32_t i = 0; i < etpu_model_input_count(m, 0); i++) {
    float mean[16], std[16];
    uint32_t cnt = 0;
    sb(c->b, "<tr><th>input %u normalization</th><td>", i);
    if (etpu_model_input_normalization(m, i, 16, mean, std, &cnt) != ETPU_OK) {
      sb(c->b, "metadata unreadable: ");
      esc(c, etpu_errmsg());
    } else if (!cnt) {
      sb(c->b, "not recorded");
    } else {
      sb(c->b, "real = (x &minus; mean) / std; mean");
      for (uint32_t k = 0; k < cnt; k++) sb(c->b, " %g", mean[k]);
      sb(c->b, ", std");
      for (uint32_t k = 0; k < cnt; k++) sb(c->b, " %g", std[k]);
    }
    sb(c->b, "</td></tr>");
  }
  labels_rows(c);
  sb(c->b, "</table>");
}

static void io_table(vctx *c) {
  sb(c->b, "<h2>Graph inputs and outputs</h2><table id=\"io\">%s", TENSOR_HEAD);
  for (uint32_t i = 0; i < etpu_model_input_count(c->m, 0); i++) {
    char slot[24];
    snprintf(slot, sizeof slot, "input %u", i);
    tensor_row(c, slot, etpu_model_input(c->m, 0, i));
  }
  for (uint32_t i = 0; i < etpu_model_output_count(c->m, 0); i++) {
    char slot[24];
    snprintf(slot, sizeof slot, "output %u", i);
    tensor_row(c, slot, etpu_model_output(c->m, 0, i));
  }
  sb(c->b, "</table>");
}

/* ---- the page ------------------------------------------------------------- */

static const char PAGE_STYLE[] =
    "body{margin:0;font:14px/1.4 system-ui,sans-serif;color:#1d232a;background:#fafbfc}"
    "header{position:sticky;top:0;z-index:2;display:flex;gap:10px;align-items:center;padding:8px 14px;"
    "background:#22303c;color:#fff}"
    "header h1{font-size:16px;margin:0;flex:1;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    "header input{width:300px;padding:4px 8px;font-size:14px}header button{min-width:34px}"
    "#wrap{display:flex;align-items:flex-start}main{flex:1;min-width:0;padding:0 14px 14px}"
    "aside{position:sticky;top:46px;width:440px;max-height:calc(100vh - 56px);overflow:auto;padding:10px;"
    "border-left:1px solid #d0d7de;background:#fff;font-size:13px}"
    "h2{font-size:15px;margin:16px 0 6px}h3{font-size:15px;margin:4px 0}h4{margin:10px 0 4px}"
    "table{border-collapse:collapse;margin-bottom:6px}td,th{border:1px solid #d0d7de;padding:2px 6px;"
    "text-align:left;vertical-align:top}th{background:#f0f3f6}"
    ".tn{word-break:break-all}pre{white-space:pre-wrap;word-break:break-all;background:#f0f3f6;padding:6px}"
    ".banner{border:2px solid #c62828;background:#fdecea;padding:8px;margin-top:12px}"
    ".note{color:#6b4e00;background:#fff6d5;padding:6px;border-left:4px solid #e0a800}"
    ".why{color:#9a1c1c}.fix{color:#1b5e20}.wtpu{color:#1565c0}.wcpu{color:#c45100}"
    ".summary{display:flex;flex-wrap:wrap;gap:24px}"
    ".legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:14px;height:10px;"
    "margin-right:4px;border:1px solid #555}"
    "#gview{overflow:auto;border:1px solid #d0d7de;background:#fff;max-height:80vh}"
    "svg text{font:12px system-ui,sans-serif;pointer-events:none}svg text.sub{font-size:10px;fill:#39434d}"
    ".n rect{stroke:#39434d;stroke-width:1}.n{cursor:pointer}.n:focus{outline:none}"
    ".n.tpu rect,.legend .tpu{fill:#bbdefb;background:#bbdefb}"
    ".n.cpu rect,.legend .cpu{fill:#ffcc80;background:#ffcc80}"
    ".n.none rect,.legend .none{fill:#e0e0e0;background:#e0e0e0}"
    ".n.io rect,.legend .io{fill:#e8f5e9;background:#e8f5e9}"
    ".n.opaque rect{stroke-dasharray:5 3;stroke-width:2}"
    ".n.sel rect{stroke:#000;stroke-width:3}.searching .n{opacity:.25}.searching .n.hit{opacity:1}"
    ".n.hit rect{stroke:#d500f9;stroke-width:3}"
    ".e{fill:none;stroke:#8a96a3;stroke-width:1.2}.e.cut{stroke:#d32f2f;stroke-width:2.5;stroke-dasharray:6 3}"
    ".legend .cut{border:0;border-top:3px dashed #d32f2f;height:0}"
    ".cluster rect{fill:#e3f2fd;fill-opacity:.35;stroke:#1565c0;stroke-dasharray:8 4}"
    ".cluster text{fill:#1565c0;font-weight:bold}"
    "#results button{display:block;width:100%;text-align:left;margin:1px 0;font-size:12px;"
    "background:#fff;border:1px solid #d0d7de;cursor:pointer}#results{margin-bottom:8px}";

/* The page's script: hover or focus previews an op's details, a click pins
 * them; the search box marks the nodes whose op or tensor names contain the
 * text and lists them (names are read from data-s and shown as text only);
 * zoom scales the SVG. */
static const char PAGE_SCRIPT[] =
    "(function(){'use strict';\n"
    "var svg=document.getElementById('graph'),panel=document.getElementById('panel'),"
    "q=document.getElementById('q'),res=document.getElementById('results'),cnt=document.getElementById('count');\n"
    "var nodes=Array.prototype.slice.call(svg.querySelectorAll('g.n'));\n"
    "var keys=nodes.map(function(n){return (n.getAttribute('data-s')||'').split('\\n');});\n"
    "var low=keys.map(function(k){return k.map(function(s){return s.toLowerCase();});});\n"
    "var pinned=null;\n"
    "function details(n){var d=document.getElementById('d'+n.id.slice(1));panel.innerHTML=d?d.innerHTML:'';}\n"
    "function pin(n){if(pinned)pinned.classList.remove('sel');pinned=n;n.classList.add('sel');details(n);}\n"
    "svg.addEventListener('click',function(e){var n=e.target.closest('g.n');if(n)pin(n);});\n"
    "svg.addEventListener('mouseover',function(e){var n=e.target.closest('g.n');if(n&&!pinned)details(n);});\n"
    "svg.addEventListener('keydown',function(e){var n=e.target.closest('g.n');"
    "if(n&&(e.key==='Enter'||e.key===' ')){e.preventDefault();pin(n);}});\n"
    "function search(){var s=q.value.trim().toLowerCase();res.textContent='';\n"
    " if(!s){svg.classList.remove('searching');nodes.forEach(function(n){n.classList.remove('hit');});"
    "cnt.textContent='';return;}\n"
    " svg.classList.add('searching');var hits=0,shown=0;\n"
    " nodes.forEach(function(n,i){var hit=false,k=low[i];\n"
    "  for(var j=0;j<k.length;j++){if(k[j].indexOf(s)<0)continue;hit=true;\n"
    "   if(shown<200){shown++;var b=document.createElement('button');b.className='hit';\n"
    "    b.setAttribute('data-node',n.id);\n"
    "    b.textContent=(j?'tensor '+keys[i][j]+' \\u2014 ':'')+keys[i][0];\n"
    "    b.addEventListener('click',function(){pin(n);n.scrollIntoView({block:'center',inline:'center'});});\n"
    "    res.appendChild(b);}}\n"
    "  if(hit)hits++;n.classList.toggle('hit',hit);});\n"
    " cnt.textContent=hits+(hits===1?' op':' ops');}\n"
    "q.addEventListener('input',search);\n"
    "var W=+svg.getAttribute('width'),H=+svg.getAttribute('height'),z=1;\n"
    "function zoom(f){z=Math.max(0.1,Math.min(4,f));svg.setAttribute('width',Math.round(W*z));"
    "svg.setAttribute('height',Math.round(H*z));}\n"
    "document.getElementById('zi').addEventListener('click',function(){zoom(z*1.25);});\n"
    "document.getElementById('zo').addEventListener('click',function(){zoom(z/1.25);});\n"
    "document.getElementById('zf').addEventListener('click',function(){"
    "var v=document.getElementById('gview');zoom(Math.min(1,(v.clientWidth-4)/W));});\n"
    "})();\n";

static etpu_status page(vctx *c) {
  const etpu_model *m = c->m;
  const char *title = c->o && c->o->title ? c->o->title : etpu_model_label(m);
  strbuf *b = c->b;
  sb(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<meta name=\"generator\" content=\"etpu %s\">\n<link rel=\"icon\" href=\"data:,\">\n<title>etpu visualize: ",
     etpu_version());
  esc(c, title);
  sb(b, "</title>\n<style>%s</style></head>\n<body>\n<header><h1>etpu visualize: ", PAGE_STYLE);
  esc(c, title);
  sb(b, "</h1><input id=\"q\" type=\"search\" placeholder=\"search ops and tensors\" aria-label=\"search ops and "
        "tensors\"><span id=\"count\"></span><button id=\"zo\" title=\"zoom out\">&minus;</button><button id=\"zi\" "
        "title=\"zoom in\">+</button><button id=\"zf\" title=\"fit the width\">fit</button></header>\n"
        "<div id=\"wrap\"><main>\n");
  /* What the page shows, and anything that limits it. */
  uint32_t nops = 0, ntpu = 0, ncpu = 0;
  for (uint32_t v = 0; v < c->nnodes; v++) {
    if (c->nodes[v].kind != K_OP) continue;
    nops++;
    ntpu += c->nodes[v].where == W_TPU;
    ncpu += c->nodes[v].where == W_CPU;
  }
  sb(b, "<p id=\"facts\">Ops drawn: %u (Edge TPU %u, CPU %u); tensors: %u; schema version %u; subgraphs: %u. ",
     nops, ntpu, ncpu, etpu_model_tensor_count(m, 0), etpu_model_schema_version(m), etpu_model_subgraph_count(m));
  const etpu_compile_options *co = c->o ? c->o->compile : NULL;
  if (c->comp) {
    sb(b, "Not a compiled model: the mapping is what <code>etpu compile</code> decides with -m %d%s", c->rt,
       co && co->multiple_subgraphs ? " -a" : "");
    for (uint32_t k = 0; co && k < co->intermediate_count; k++) {
      sb(b, k ? "," : " -i ");
      esc(c, co->intermediate_tensors[k]);
    }
    sb(b, ".");
  } else if (c->npl) {
    uint32_t ours = 0;
    for (uint32_t k = 0; k < c->npl; k++) ours += c->pls[k].ours;
    if (ours)
      sb(b, "Compiled by <code>etpu compile</code>: each edgetpu-custom-op is drawn as the ops of its payload "
            "(framed); compile flags are not used for a compiled model.");
    if (ours < c->npl)
      sb(b, "Compiled by Google's edgetpu_compiler: the edgetpu-custom-op (dashed) holds an Edge TPU package that "
            "etpu does not decode; CPU ops show the rule that keeps them there.");
  }
  sb(b, "</p>\n");
  if (etpu_model_subgraph_count(m) > 1)
    sb(b, "<p class=\"note\">Only subgraph 0 (the main graph) is drawn; %u other subgraph(s) are not.</p>\n",
       etpu_model_subgraph_count(m) - 1);
  if (c->compile_error[0]) {
    sb(b, "<div class=\"banner\" id=\"refused\"><b>etpu compile refuses this model</b>, so no op is mapped: ");
    esc(c, c->compile_error);
    sb(b, "</div>\n");
  }
  for (uint32_t k = 0; k < c->npl; k++)
    if (c->pls[k].ours && !c->pls[k].model) {
      sb(b, "<div class=\"banner\">The etpu payload of op %u cannot be read, so its ops are not drawn: ", c->pls[k].op);
      esc(c, c->pls[k].error);
      sb(b, "</div>\n");
    }
  sb(b, "<div class=\"summary\"><div>");
  etpu_status st = status_table(c);
  if (st != ETPU_OK) return st;
  memory_table(c);
  sb(b, "</div><div>");
  metadata_table(c);
  io_table(c);
  sb(b, "</div></div>\n<h2>Graph</h2><p class=\"legend\"><span><i class=\"tpu\"></i>Edge TPU</span><span><i "
        "class=\"cpu\"></i>CPU</span><span><i class=\"none\"></i>not compiled</span><span><i "
        "class=\"io\"></i>graph input / output</span><span><i class=\"cut\"></i>partition cut (a tensor "
        "crossing between Edge TPU and CPU)</span> Hover or click an op for its tensors, options and mapping.</p>\n");
  sb(b, "<div id=\"gview\"><svg id=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" "
        "viewBox=\"0 0 %u %u\" role=\"img\" aria-label=\"model graph\">\n",
     c->width, c->height, c->width, c->height);
  svg_clusters(c);
  for (uint32_t e = 0; e < c->nedges; e++) svg_edge(c, &c->edges[e]);
  for (uint32_t v = 0; v < c->nnodes; v++) svg_node(c, v);
  sb(b, "</svg></div>\n</main><aside><div id=\"results\"></div><div id=\"panel\"><p>Hover or click an op to see "
        "its inputs and outputs (name, shape, dtype, scale, zero point, bytes), its options and, for CPU ops, the "
        "rule broken and the fix.</p></div></aside></div>\n<div id=\"details\" hidden>\n");
  for (uint32_t v = 0; v < c->nnodes; v++) op_details(c, v);
  sb(b, "</div>\n<script>%s</script>\n</body></html>\n", PAGE_SCRIPT);
  return b->oom ? oom(c) : ETPU_OK;
}

void etpu_visualize_options_init(etpu_visualize_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
}

etpu_status etpu_visualize_html(const etpu_model *model, const etpu_visualize_options *options, char **html_out,
                                size_t *size_out) {
  if (!model || !html_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_visualize_html: NULL argument");
  if (options && (options->struct_size < sizeof(size_t) || options->struct_size > sizeof *options))
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "etpu_visualize_html: options.struct_size %zu: fill the options with etpu_visualize_options_init",
                     options->struct_size);
  if (etpu_model_subgraph_count(model) == 0)
    return etpu_fail(ETPU_MALFORMED, "%s: the model has no subgraph to draw", model->label);
  etpu_visualize_options o;
  etpu_visualize_options_init(&o);
  if (options) memcpy(&o, options, options->struct_size);
  vctx c = {.m = model, .o = &o, .rt = 14};
  etpu_arena_init(&c.a);
  strbuf b = {0};
  c.b = &b;
  etpu_status st = find_payloads(&c);
  if (st == ETPU_OK && c.npl == 0) {
    st = etpu_compile(model, o.compile, &c.comp);
    if (st == ETPU_UNSUPPORTED) {
      /* The compiler refuses the whole model (float, dynamic shapes): draw
       * it anyway and say so at the top. */
      snprintf(c.compile_error, sizeof c.compile_error, "%s", etpu_errmsg());
      st = ETPU_OK;
    }
    if (o.compile && o.compile->min_runtime_version) c.rt = o.compile->min_runtime_version;
  } else if (st == ETPU_OK) {
    for (uint32_t k = 0; k < c.npl; k++)
      if (c.pls[k].ours && c.pls[k].model && c.pls[k].runtime >= 10 && c.pls[k].runtime <= 14) {
        c.rt = (int32_t)c.pls[k].runtime;
        break;
      }
  }
  if (st == ETPU_OK) st = number_tensors(&c);
  if (st == ETPU_OK) st = build_nodes(&c);
  if (st == ETPU_OK) st = layout(&c);
  if (st == ETPU_OK) st = page(&c);
  for (uint32_t k = 0; k < c.npl; k++) etpu_model_free(c.pls[k].model);
  etpu_compilation_free(c.comp);
  etpu_arena_free(&c.a);
  if (st != ETPU_OK) {
    etpu_strbuf_free(&b);
    return st;
  }
  *html_out = b.p;
  if (size_out) *size_out = b.len;
  return ETPU_OK;
}
