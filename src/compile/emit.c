/*
 * emit.c — build the compiled model(s).
 *
 * An output model is a list of items: ops kept from the input model (CPU
 * ops, unchanged, with their original tensor names) and one
 * edgetpu-custom-op per Edge TPU segment. Items are ordered topologically
 * (Kahn's algorithm, ties broken by the position of each item's first op in
 * the input), so CPU ops before the cut precede the custom op and ops behind
 * it follow. Only the tensors the items and graph I/O use are kept, in their
 * original relative order; constant data is borrowed from the input model
 * while the output is serialized. The custom op's payload is the segment as
 * a complete .tflite (format in compile.h), built by the same routine.
 */
#include <stdio.h>
#include <string.h>

#include "compile/compile.h"

typedef struct item {
  int32_t op;       /* input op index, or -1 for a custom op */
  int32_t seg;      /* segment of a custom op */
  uint32_t key;     /* position for ordering */
  uint32_t nin, nout;
  int32_t *in, *out; /* input-model tensor indices (custom op only) */
  const uint8_t *payload;
  size_t payload_size;
} item;

typedef struct emitter {
  const etpu_compilation *c;
  const etpu_model *src;
  const etpu_gsubgraph *g;
  etpu_arena *a;
} emitter;

static etpu_status oom(const emitter *e) { return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory while compiling", e->src->label); }

static void item_io(const emitter *e, const item *it, uint32_t *nin, const int32_t **in, uint32_t *nout,
                    const int32_t **out) {
  if (it->op >= 0) {
    const etpu_gop *op = &e->g->ops[it->op];
    *nin = op->ninputs;
    *in = op->inputs;
    *nout = op->noutputs;
    *out = op->outputs;
  } else {
    *nin = it->nin;
    *in = it->in;
    *nout = it->nout;
    *out = it->out;
  }
}

/* Order items topologically, ties by key. */
static etpu_status order_items(const emitter *e, item *items, uint32_t n) {
  uint32_t nt = e->g->ntensors;
  int32_t *producer = etpu_arena_array(e->a, nt + 1, sizeof(int32_t));
  uint8_t *done = etpu_arena_alloc(e->a, n + 1);
  item *sorted = etpu_arena_array(e->a, n + 1, sizeof(item));
  if (!producer || !done || !sorted) return oom(e);
  for (uint32_t t = 0; t < nt; t++) producer[t] = -1;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t nin, nout;
    const int32_t *in, *out;
    item_io(e, &items[i], &nin, &in, &nout, &out);
    for (uint32_t k = 0; k < nout; k++) producer[out[k]] = (int32_t)i;
  }
  for (uint32_t placed = 0; placed < n; placed++) {
    int32_t best = -1;
    for (uint32_t i = 0; i < n; i++) {
      if (done[i]) continue;
      uint32_t nin, nout;
      const int32_t *in, *out;
      item_io(e, &items[i], &nin, &in, &nout, &out);
      bool ready = true;
      for (uint32_t k = 0; k < nin && ready; k++)
        if (in[k] >= 0 && producer[in[k]] >= 0 && producer[in[k]] != (int32_t)i && !done[producer[in[k]]]) ready = false;
      if (ready && (best < 0 || items[i].key < items[best].key)) best = (int32_t)i;
    }
    if (best < 0)
      return etpu_fail(ETPU_INVALID_STATE, "%s: internal error: the partition is not acyclic", e->src->label);
    done[best] = 1;
    sorted[placed] = items[best];
  }
  memcpy(items, sorted, n * sizeof *items);
  return ETPU_OK;
}

/* Build a model of `items` with graph I/O `gin`/`gout` (input-model tensor
 * indices), writing it to a heap buffer. */
static etpu_status build(const emitter *e, item *items, uint32_t n, const int32_t *gin, uint32_t ngin,
                         const int32_t *gout, uint32_t ngout, bool keep_metadata, void **data_out, size_t *size_out) {
  const etpu_model *src = e->src;
  const etpu_gsubgraph *g = e->g;
  ETPU_TRY(order_items(e, items, n));
  uint32_t nt = g->ntensors;
  int32_t *map = etpu_arena_array(e->a, nt + 1, sizeof(int32_t));
  uint8_t *used = etpu_arena_alloc(e->a, nt + 1);
  if (!map || !used) return oom(e);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t nin, nout;
    const int32_t *in, *out;
    item_io(e, &items[i], &nin, &in, &nout, &out);
    for (uint32_t k = 0; k < nin; k++)
      if (in[k] >= 0) used[in[k]] = 1;
    for (uint32_t k = 0; k < nout; k++) used[out[k]] = 1;
    if (items[i].op >= 0) {
      const etpu_gop *op = &g->ops[items[i].op];
      for (uint32_t k = 0; k < op->nintermediates; k++) used[op->intermediates[k]] = 1;
    }
  }
  for (uint32_t k = 0; k < ngin; k++) used[gin[k]] = 1;
  for (uint32_t k = 0; k < ngout; k++) used[gout[k]] = 1;

  etpu_model *m = NULL;
  ETPU_TRY(etpu_model_create(&m));
  etpu_status st = ETPU_OK;
  etpu_gsubgraph *ng = &m->subgraphs[0];
  ng->name = g->name;
  m->description = src->description;
  /* Tensors, in original order; constant data borrowed. */
  for (uint32_t t = 0; t < nt && st == ETPU_OK; t++) {
    map[t] = -1;
    if (!used[t]) continue;
    st = etpu_graph_grow(m, (void **)&ng->tensors, ng->ntensors, &ng->cap_tensors, sizeof *ng->tensors);
    if (st != ETPU_OK) break;
    etpu_gtensor nt_ = g->tensors[t];
    nt_.buffer = 0;
    size_t size;
    const uint8_t *d = etpu_graph_tensor_data(src, &g->tensors[t], &size);
    if (d) {
      st = etpu_graph_grow(m, (void **)&m->buffers, m->nbuffers, &m->cap_buffers, sizeof *m->buffers);
      if (st != ETPU_OK) break;
      m->buffers[m->nbuffers] = (etpu_gbuffer){d, size, false};
      nt_.buffer = m->nbuffers++;
    }
    map[t] = (int32_t)ng->ntensors;
    ng->tensors[ng->ntensors++] = nt_;
  }
  /* Ops. */
  for (uint32_t i = 0; i < n && st == ETPU_OK; i++) {
    uint32_t nin, nout;
    const int32_t *in, *out;
    item_io(e, &items[i], &nin, &in, &nout, &out);
    int32_t *nin_v = etpu_arena_array(&m->arena, nin + 1, sizeof(int32_t));
    int32_t *nout_v = etpu_arena_array(&m->arena, nout + 1, sizeof(int32_t));
    if (!nin_v || !nout_v) {
      st = oom(e);
      break;
    }
    for (uint32_t k = 0; k < nin; k++) nin_v[k] = in[k] >= 0 ? map[in[k]] : -1;
    for (uint32_t k = 0; k < nout; k++) nout_v[k] = map[out[k]];
    etpu_gop op = {0};
    if (items[i].op >= 0) {
      const etpu_gop *so = &g->ops[items[i].op];
      const etpu_gopcode *oc = &src->opcodes[so->opcode];
      op = *so; /* options, custom options and other fields are shared */
      st = etpu_graph_opcode(m, oc->code, oc->custom_code, oc->version, &op.opcode);
      if (st != ETPU_OK) break;
      if (so->nintermediates) {
        int32_t *iv = etpu_arena_array(&m->arena, so->nintermediates, sizeof(int32_t));
        if (!iv) {
          st = oom(e);
          break;
        }
        for (uint32_t k = 0; k < so->nintermediates; k++) iv[k] = map[so->intermediates[k]];
        op.intermediates = iv;
      }
    } else {
      st = etpu_graph_opcode(m, ETPU_OP_CUSTOM, ETPU_EDGETPU_CUSTOM_CODE, 1, &op.opcode);
      if (st != ETPU_OK) break;
      op.custom = items[i].payload;
      op.custom_size = (uint32_t)items[i].payload_size;
    }
    op.inputs = nin_v;
    op.ninputs = nin;
    op.outputs = nout_v;
    op.noutputs = nout;
    st = etpu_graph_grow(m, (void **)&ng->ops, ng->nops, &ng->cap_ops, sizeof *ng->ops);
    if (st != ETPU_OK) break;
    ng->ops[ng->nops++] = op;
  }
  if (st == ETPU_OK) {
    int32_t *a = etpu_arena_array(&m->arena, ngin + 1, sizeof(int32_t));
    int32_t *b = etpu_arena_array(&m->arena, ngout + 1, sizeof(int32_t));
    if (!a || !b) st = oom(e);
    for (uint32_t k = 0; st == ETPU_OK && k < ngin; k++) a[k] = map[gin[k]];
    for (uint32_t k = 0; st == ETPU_OK && k < ngout; k++) b[k] = map[gout[k]];
    ng->inputs = a;
    ng->ninputs = ngin;
    ng->outputs = b;
    ng->noutputs = ngout;
  }
  /* Keep the input's metadata (with its buffers); signatures are dropped
   * because tensor indices change. */
  if (st == ETPU_OK && keep_metadata && src->rest) {
    const etpu_fbv *md = etpu_fbt_get(src->rest, ETPU_F_Model_metadata);
    if (md && md->count) {
      etpu_fbt **arr = etpu_arena_array(&m->arena, md->count, sizeof *arr);
      m->rest = etpu_fbt_new(&m->arena, ETPU_T_Model);
      if (!arr || !m->rest) st = oom(e);
      for (uint32_t i = 0; st == ETPU_OK && i < md->count; i++) {
        uint32_t b = (uint32_t)etpu_fbt_int(md->v.tv[i], ETPU_F_Metadata_buffer);
        st = etpu_graph_grow(m, (void **)&m->buffers, m->nbuffers, &m->cap_buffers, sizeof *m->buffers);
        if (st != ETPU_OK) break;
        m->buffers[m->nbuffers] = src->buffers[b];
        arr[i] = etpu_fbt_new(&m->arena, ETPU_T_Metadata);
        if (!arr[i]) {
          st = oom(e);
          break;
        }
        const etpu_fbv *name = etpu_fbt_get(md->v.tv[i], ETPU_F_Metadata_name);
        if (name) st = etpu_fbt_put(&m->arena, arr[i], name);
        if (st == ETPU_OK) st = etpu_fbt_put_int(&m->arena, arr[i], ETPU_F_Metadata_buffer, m->nbuffers);
        m->nbuffers++;
      }
      if (st == ETPU_OK) {
        etpu_fbv v = {.id = ETPU_F_Model_metadata, .kind = ETPU_FB_VECTOR, .elem = ETPU_FB_TABLE, .count = md->count};
        v.v.tv = arr;
        st = etpu_fbt_put(&m->arena, m->rest, &v);
      }
    }
  }
  if (st == ETPU_OK) {
    etpu_graph_link(m, 0);
    st = etpu_model_write_buffer(m, 0, data_out, size_out);
  }
  etpu_model_free(m);
  return st;
}

/* Custom op I/O of segment s: inputs in order of first use (not produced in
 * the segment, not constant); outputs produced in the segment and read
 * outside it or graph outputs, in producer order. */
static etpu_status segment_io(const emitter *e, int32_t s, item *it) {
  const etpu_compilation *c = e->c;
  const etpu_gsubgraph *g = e->g;
  uint32_t nt = g->ntensors;
  uint8_t *inside = etpu_arena_alloc(e->a, nt + 1);
  uint8_t *listed = etpu_arena_alloc(e->a, nt + 1);
  uint8_t *read_outside = etpu_arena_alloc(e->a, nt + 1);
  it->in = etpu_arena_array(e->a, nt + 1, sizeof(int32_t));
  it->out = etpu_arena_array(e->a, nt + 1, sizeof(int32_t));
  if (!inside || !listed || !read_outside || !it->in || !it->out) return oom(e);
  for (uint32_t o = 0; o < c->nops; o++) {
    const etpu_gop *op = &g->ops[o];
    bool mine = c->ops[o].on_tpu && c->ops[o].segment == s;
    for (uint32_t k = 0; k < op->noutputs; k++)
      if (mine) inside[op->outputs[k]] = 1;
  }
  for (uint32_t o = 0; o < c->nops; o++) {
    const etpu_gop *op = &g->ops[o];
    bool mine = c->ops[o].on_tpu && c->ops[o].segment == s;
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t < 0) continue;
      if (!mine) {
        read_outside[t] = 1;
        continue;
      }
      if (inside[t] || listed[t]) continue;
      size_t size;
      if (etpu_graph_tensor_data(e->src, &g->tensors[t], &size)) continue;
      listed[t] = 1;
      it->in[it->nin++] = t;
    }
  }
  for (uint32_t k = 0; k < g->noutputs; k++) read_outside[g->outputs[k]] = 1;
  for (uint32_t o = 0; o < c->nops; o++) {
    if (!(c->ops[o].on_tpu && c->ops[o].segment == s)) continue;
    const etpu_gop *op = &g->ops[o];
    for (uint32_t k = 0; k < op->noutputs; k++)
      if (read_outside[op->outputs[k]]) it->out[it->nout++] = op->outputs[k];
  }
  return ETPU_OK;
}

/* The payload of segment s: header + the segment as a .tflite. */
static etpu_status make_payload(const emitter *e, int32_t s, item *custom) {
  const etpu_compilation *c = e->c;
  uint32_t n = 0;
  for (uint32_t o = 0; o < c->nops; o++) n += c->ops[o].on_tpu && c->ops[o].segment == s;
  item *items = etpu_arena_array(e->a, n + 1, sizeof(item));
  int32_t *gin = etpu_arena_array(e->a, custom->nin + 1, sizeof(int32_t));
  if (!items || !gin) return oom(e);
  uint32_t k = 0;
  for (uint32_t o = 0; o < c->nops; o++)
    if (c->ops[o].on_tpu && c->ops[o].segment == s) items[k++] = (item){.op = (int32_t)o, .key = o};
  uint32_t ngin = 0;
  for (uint32_t i = 0; i < custom->nin; i++)
    if (!e->g->tensors[custom->in[i]].is_variable) gin[ngin++] = custom->in[i];
  void *model;
  size_t size;
  ETPU_TRY(build(e, items, n, gin, ngin, custom->out, custom->nout, false, &model, &size));
  /* The header goes in front of the model in place: no second copy. The
   * payload is heap memory, freed by etpu_emit_model. */
  uint8_t *p = etpu_realloc(model, ETPU_PAYLOAD_HEADER_BYTES + size);
  if (!p) {
    etpu_free(model);
    return oom(e);
  }
  memmove(p + ETPU_PAYLOAD_HEADER_BYTES, p, size);
  memcpy(p, ETPU_PAYLOAD_MAGIC, 8);
  etpu_wr32(p + 8, ETPU_PAYLOAD_VERSION);
  etpu_wr32(p + 12, (uint32_t)c->seg_runtime[s]);
  etpu_wr64(p + 16, c->seg_params[s]);
  etpu_wr64(p + 24, c->seg_onchip[s]);
  etpu_wr64(p + 32, c->seg_params[s] - c->seg_onchip[s]);
  etpu_wr32(p + 40, n);
  etpu_wr32(p + 44, (uint32_t)size);
  custom->payload = p;
  custom->payload_size = ETPU_PAYLOAD_HEADER_BYTES + size;
  return ETPU_OK;
}

etpu_status etpu_emit_model(const etpu_compilation *c, uint32_t k, void **data_out, size_t *size_out) {
  if (k >= c->nmodels)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output model %u does not exist (%u written)", c->model->label, k,
                     c->nmodels);
  etpu_arena a;
  etpu_arena_init(&a);
  emitter e = {c, c->model, &c->model->subgraphs[0], &a};
  const etpu_gsubgraph *g = e.g;
  etpu_status st = ETPU_OK;
  item *items = etpu_arena_array(&a, c->nops + c->nsegments + 1, sizeof(item));
  if (!items) st = oom(&e);
  uint32_t n = 0;
  /* The segments of this model. */
  for (uint32_t s = 0; st == ETPU_OK && s < c->nsegments; s++) {
    int32_t first = -1;
    for (uint32_t o = 0; o < c->nops && first < 0; o++)
      if (c->ops[o].on_tpu && c->ops[o].segment == (int32_t)s) first = (int32_t)o;
    if (first < 0 || (c->nmodels > 1 && c->ops[first].model != (int32_t)k)) continue;
    item it = {.op = -1, .seg = (int32_t)s, .key = (uint32_t)first};
    st = segment_io(&e, (int32_t)s, &it);
    if (st == ETPU_OK) st = make_payload(&e, (int32_t)s, &it);
    items[n++] = it;
  }
  for (uint32_t o = 0; st == ETPU_OK && o < c->nops; o++) {
    if (c->ops[o].on_tpu) continue;
    if (c->nmodels > 1 && c->ops[o].model != (int32_t)k) continue;
    items[n++] = (item){.op = (int32_t)o, .key = o};
  }
  if (st == ETPU_OK) {
    if (c->nmodels == 1) {
      st = build(&e, items, n, g->inputs, g->ninputs, g->outputs, g->noutputs, true, data_out, size_out);
    } else {
      /* A pipeline segment: inputs are what it reads from outside, outputs
       * what it makes for later segments or the graph. */
      uint32_t nt = g->ntensors;
      uint8_t *made = etpu_arena_alloc(&a, nt + 1), *need_out = etpu_arena_alloc(&a, nt + 1),
              *listed = etpu_arena_alloc(&a, nt + 1);
      int32_t *gin = etpu_arena_array(&a, nt + 1, sizeof(int32_t)), *gout = etpu_arena_array(&a, nt + 1, sizeof(int32_t));
      if (!made || !need_out || !listed || !gin || !gout) st = oom(&e);
      uint32_t ngin = 0, ngout = 0;
      for (uint32_t o = 0; st == ETPU_OK && o < c->nops; o++) {
        const etpu_gop *op = &g->ops[o];
        bool mine = c->ops[o].model == (int32_t)k;
        for (uint32_t q = 0; q < op->noutputs; q++)
          if (mine) made[op->outputs[q]] = 1;
      }
      for (uint32_t q = 0; st == ETPU_OK && q < g->noutputs; q++) need_out[g->outputs[q]] = 1;
      for (uint32_t o = 0; st == ETPU_OK && o < c->nops; o++) {
        const etpu_gop *op = &g->ops[o];
        bool mine = c->ops[o].model == (int32_t)k;
        for (uint32_t q = 0; q < op->ninputs; q++) {
          int32_t t = op->inputs[q];
          if (t < 0) continue;
          if (!mine) {
            need_out[t] = 1;
            continue;
          }
          size_t size;
          if (made[t] || listed[t] || etpu_graph_tensor_data(c->model, &g->tensors[t], &size) ||
              g->tensors[t].is_variable)
            continue;
          listed[t] = 1;
          gin[ngin++] = t;
        }
      }
      for (uint32_t o = 0; st == ETPU_OK && o < c->nops; o++) {
        if (c->ops[o].model != (int32_t)k) continue;
        const etpu_gop *op = &g->ops[o];
        for (uint32_t q = 0; q < op->noutputs; q++)
          if (need_out[op->outputs[q]]) gout[ngout++] = op->outputs[q];
      }
      if (st == ETPU_OK) st = build(&e, items, n, gin, ngin, gout, ngout, k == c->nmodels - 1, data_out, size_out);
    }
  }
  for (uint32_t i = 0; items && i < n; i++)
    if (items[i].op < 0) etpu_free((void *)(uintptr_t)items[i].payload);
  etpu_arena_free(&a);
  return st;
}
