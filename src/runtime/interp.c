/*
 * interp.c — the interpreter lifecycle: create (check every op and prepare
 * it) → plan (one arena by tensor lifetimes) → set inputs → invoke →
 * read outputs → destroy. Calls out of order return ETPU_INVALID_STATE.
 *
 * Memory plan: every non-constant, non-variable tensor used by the graph
 * lives from the op that writes it (graph inputs: from the start) to the
 * last op that reads it (graph inputs and outputs: to the end). Tensors are placed
 * largest first at the lowest 16-aligned offset that does not overlap a
 * placed tensor whose lifetime intersects (a greedy-by-size plan, the way
 * TFLite's arena planner works). With keep_all_tensors every tensor gets
 * its own range, so intermediate results survive for inspection.
 *
 * Shapes: etpu runs the shapes the model stores. A graph converted with
 * dynamic dimensions (shape_signature −1) stores placeholders for the
 * tensors TFLite resizes at prepare; for those, create resolves the shapes
 * from the graph inputs' stored shapes, as TFLite's prepare does: integer
 * ops whose inputs are all known at create (SHAPE and the index arithmetic
 * after it, as in a dilated convolution: SHAPE → STRIDED_SLICE → ... →
 * SPACE_TO_BATCH_ND paddings) are run once there and their outputs become
 * constants, and ops whose output is such a placeholder set its shape
 * (etpu_op_set_output_shape; CONV_2D and DEPTHWISE_CONV_2D here, the
 * elementwise and space/batch ops in their glue).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "runtime/interp.h"

#include "base/pool.h"

const char *etpu_profile_name(int p) {
  switch (p) {
    case ETPU_PROFILE_TFLITE_REF: return "tflite-ref";
    case ETPU_PROFILE_LITERT: return "litert";
    default: return "unknown";
  }
}

etpu_status etpu_op_fail(const etpu_interp *ip, const etpu_rop *op, etpu_status st, const char *fmt, ...) {
  char msg[700];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return etpu_fail(st, "%s: op %u %s: %s", ip->model->label, op->index, op->name, msg);
}

void *etpu_op_alloc(etpu_interp *ip, size_t bytes) { return etpu_arena_alloc(&ip->arena, bytes ? bytes : 1); }

etpu_status etpu_op_check_io(etpu_interp *ip, const etpu_rop *op, uint32_t min_in, uint32_t max_in, uint32_t nout) {
  if (op->nin < min_in || op->nin > max_in)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "has %u inputs; expected %u..%u", op->nin, min_in, max_in);
  if (op->nout != nout) return etpu_op_fail(ip, op, ETPU_MALFORMED, "has %u outputs; expected %u", op->nout, nout);
  for (uint32_t k = 0; k < min_in; k++)
    if (op->in[k] < 0) return etpu_op_fail(ip, op, ETPU_MALFORMED, "required input %u is missing", k);
  return ETPU_OK;
}

etpu_status etpu_op_check_type(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what,
                               int32_t type) {
  if (t->type != type)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' is %s; this kernel needs %s", what, t->name,
                        etpu_dtype_name(t->type), etpu_dtype_name(type));
  return ETPU_OK;
}

etpu_status etpu_op_check_quant(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what) {
  if (!t->has_quant || !(t->scale > 0.0f) || t->scale != t->scale)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' (%s) has no usable quantization scale", what, t->name,
                        etpu_dtype_name(t->type));
  return ETPU_OK;
}

etpu_status etpu_op_check_same_shape(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *a,
                                     const etpu_rtensor *b) {
  bool same = a->rank == b->rank;
  for (uint32_t d = 0; same && d < a->rank; d++) same = a->dims[d] == b->dims[d];
  if (!same && a->elems == b->elems && a->elems <= 1) same = true;
  if (!same) return etpu_op_fail(ip, op, ETPU_MALFORMED, "'%s' and '%s' must have the same shape", a->name, b->name);
  return ETPU_OK;
}

int64_t etpu_op_opt_int(const etpu_rop *op, uint16_t table, uint16_t field) {
  const etpu_fbt *o = op->gop->options;
  if (o && o->desc == table) return etpu_fbt_int(o, field);
  const struct etpu_fb_fdesc *fd = etpu_fb_field_desc(table, field);
  return fd ? fd->def_int : 0;
}

double etpu_op_opt_float(const etpu_rop *op, uint16_t table, uint16_t field) {
  const etpu_fbt *o = op->gop->options;
  if (o && o->desc == table) return etpu_fbt_float(o, field);
  const struct etpu_fb_fdesc *fd = etpu_fb_field_desc(table, field);
  return fd ? fd->def_float : 0.0;
}

etpu_requant_mode etpu_profile_requant_mode(etpu_profile p, int32_t code) {
  if (p == ETPU_PROFILE_TFLITE_REF) return ETPU_REQUANT_DOUBLE_ROUND;
  /* litert: XNNPACK takes conv, depthwise and fully connected (fp32
   * requantization); the rest keeps TFLite's builtin arithmetic. */
  switch (code) {
    case ETPU_OP_CONV_2D:
    case ETPU_OP_DEPTHWISE_CONV_2D:
    case ETPU_OP_FULLY_CONNECTED:
      return ETPU_REQUANT_FP32;
    default:
      return ETPU_REQUANT_DOUBLE_ROUND;
  }
}

/* ---- create ------------------------------------------------------------- */

static etpu_status init_tensor(etpu_interp *ip, uint32_t i) {
  const etpu_gtensor *g = &ip->model->subgraphs[ip->sg].tensors[i];
  etpu_rtensor *t = &ip->t[i];
  t->name = g->name;
  t->type = g->type;
  t->first_use = t->last_use = -2; /* unused */
  if (g->rank > ETPU_MAX_RANK)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: tensor %u '%s' has rank %u; etpu runs tensors of rank <= %d",
                     ip->model->label, i, g->name, g->rank, ETPU_MAX_RANK);
  t->rank = g->rank;
  size_t n = 1;
  bool fits = true; /* the element count and the bytes fit size_t (32 bits on armhf) */
  for (uint32_t d = 0; d < g->rank; d++) {
    if (g->shape[d] < 0)
      return etpu_fail(ETPU_UNSUPPORTED, "%s: tensor %u '%s' has a dynamic dimension; etpu runs static shapes only",
                       ip->model->label, i, g->name);
    t->dims[d] = g->shape[d];
    fits = fits && etpu_mul_size(n, (size_t)g->shape[d], &n);
  }
  t->elems = n;
  size_t es = etpu_dtype_size(g->type);
  if (!fits || !etpu_mul_size(n, es, &t->bytes)) {
    uint64_t bytes = 0;
    const bool known = etpu_tensor_bytes(g->type, g->rank, g->shape, &bytes);
    return etpu_fail(ETPU_UNSUPPORTED,
                     "%s: tensor %u '%s' holds %s%llu bytes: more than this %u-bit build can address (size_t)",
                     ip->model->label, i, g->name, known ? "" : "over ", (unsigned long long)bytes,
                     (unsigned)(sizeof(size_t) * 8));
  }
  if (g->quant && g->quant->count) {
    t->has_quant = true;
    t->scale = g->quant->scale[0];
    t->zero_point = g->quant->zp_count ? (int32_t)g->quant->zero_point[0] : 0;
    t->quant = g->quant;
  }
  size_t size;
  const uint8_t *d = etpu_graph_tensor_data(ip->model, g, &size);
  if (d) {
    if (es == 0 || size != t->bytes)
      return etpu_fail(ETPU_UNSUPPORTED, "%s: tensor %u '%s': constant data of type %s is not supported",
                       ip->model->label, i, g->name, etpu_dtype_name(g->type));
    /* Constant data is only ever read; 16-byte alignment holds for mapped
     * files written by TFLite tools, and kernels read via memcpy-safe types. */
    t->data = (uint8_t *)(uintptr_t)d;
    t->is_const = true;
  }
  t->is_variable = g->is_variable;
  return ETPU_OK;
}

bool etpu_op_output_is_dynamic(const etpu_interp *ip, int32_t tensor) {
  if (tensor < 0 || (uint32_t)tensor >= ip->ntensors) return false;
  const etpu_gtensor *g = &ip->model->subgraphs[ip->sg].tensors[tensor];
  for (uint32_t d = 0; g->has_signature && d < g->sig_rank; d++)
    if (g->shape_signature[d] < 0) return true;
  return false;
}

etpu_status etpu_op_set_output_shape(etpu_interp *ip, const etpu_rop *op, uint32_t k, uint32_t rank,
                                     const int32_t *dims) {
  etpu_rtensor *t = etpu_out(ip, op, k);
  if (!t) return etpu_op_fail(ip, op, ETPU_MALFORMED, "has no output %u", k);
  bool same = t->rank == rank;
  for (uint32_t d = 0; same && d < rank; d++) same = t->dims[d] == dims[d];
  if (same) return ETPU_OK;
  char want[160] = "";
  size_t n = 0;
  for (uint32_t d = 0; d < rank && n < sizeof want - 16; d++)
    n += (size_t)snprintf(want + n, sizeof want - n, "%s%d", d ? "," : "", dims[d]);
  if (ip->planned)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED,
                        "output '%s' would be [%s] after memory was planned for its shape (values computed when the "
                        "model runs change shapes; etpu plans static shapes)",
                        t->name, want);
  if (!etpu_op_output_is_dynamic(ip, op->out[k]) || t->is_const || rank > ETPU_MAX_RANK)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' does not have the shape the op computes, [%s]", t->name,
                        want);
  size_t elems = 1;
  for (uint32_t d = 0; d < rank; d++)
    if (dims[d] < 0 || !etpu_mul_size(elems, (size_t)dims[d], &elems))
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' would be [%s]", t->name, want);
  const size_t es = etpu_dtype_size(t->type);
  if (es == 0 || elems > SIZE_MAX / es)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' [%s] of type %s", t->name, want, etpu_dtype_name(t->type));
  t->rank = rank;
  for (uint32_t d = 0; d < rank; d++) t->dims[d] = dims[d];
  t->elems = elems;
  t->bytes = elems * es;
  return ETPU_OK;
}

/* CONV_2D / DEPTHWISE_CONV_2D output shape from the input, the filter and
 * the options (TFLite's ComputeOutSize), for a placeholder output. */
static etpu_status resolve_conv_output(etpu_interp *ip, etpu_rop *op) {
  const bool dw = op->code == ETPU_OP_DEPTHWISE_CONV_2D;
  if ((op->code != ETPU_OP_CONV_2D && !dw) || op->nin < 2 || op->nout != 1 || !etpu_op_output_is_dynamic(ip, op->out[0]))
    return ETPU_OK;
  const etpu_rtensor *in = etpu_in(ip, op, 0), *f = etpu_in(ip, op, 1);
  if (!in || !f || in->rank != 4 || f->rank != 4) return ETPU_OK; /* prepare names the problem */
  const uint16_t tab = dw ? ETPU_T_DepthwiseConv2DOptions : ETPU_T_Conv2DOptions;
  const int64_t pad = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_padding : ETPU_F_Conv2DOptions_padding);
  const int64_t sw = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_stride_w : ETPU_F_Conv2DOptions_stride_w);
  const int64_t sh = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_stride_h : ETPU_F_Conv2DOptions_stride_h);
  const int64_t dwf = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_dilation_w_factor
                                                  : ETPU_F_Conv2DOptions_dilation_w_factor);
  const int64_t dhf = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_dilation_h_factor
                                                  : ETPU_F_Conv2DOptions_dilation_h_factor);
  if (sw < 1 || sh < 1 || dwf < 1 || dhf < 1 || sw > INT32_MAX || sh > INT32_MAX || dwf > INT32_MAX || dhf > INT32_MAX)
    return ETPU_OK; /* prepare refuses these */
  const etpu_window_axis ah = {in->dims[1], f->dims[1], (int32_t)sh, (int32_t)dhf};
  const etpu_window_axis aw = {in->dims[2], f->dims[2], (int32_t)sw, (int32_t)dwf};
  etpu_window_geometry gh, gw;
  const etpu_padding p = pad == 0 ? ETPU_PADDING_SAME : ETPU_PADDING_VALID;
  if (etpu_conv_output_size(p, &ah, &gh) != ETPU_OK || etpu_conv_output_size(p, &aw, &gw) != ETPU_OK)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output size: %s", etpu_errmsg());
  const int32_t dims[4] = {in->dims[0], gh.out_size, gw.out_size, dw ? f->dims[3] : f->dims[0]};
  return etpu_op_set_output_shape(ip, op, 0, 4, dims);
}

/* An op whose outputs are small integer tensors computed from inputs all
 * known at create (constants, or the outputs of ops folded before it; SHAPE
 * needs only its input's shape) runs now, and its outputs become constants:
 * the shape arithmetic of a dynamic graph. Graph outputs are left alone. */
static etpu_status fold_if_known(etpu_interp *ip, etpu_rop *op) {
  const etpu_gsubgraph *g = &ip->model->subgraphs[ip->sg];
  if (op->code == ETPU_OP_CUSTOM || op->nout == 0) return ETPU_OK;
  for (uint32_t k = 0; k < op->nout; k++) {
    const etpu_rtensor *t = &ip->t[op->out[k]];
    if ((t->type != ETPU_INT32 && t->type != ETPU_INT64) || t->elems > 64 || t->is_variable) return ETPU_OK;
    for (uint32_t i = 0; i < g->noutputs; i++)
      if (g->outputs[i] == op->out[k]) return ETPU_OK;
  }
  for (uint32_t k = 0; op->code != ETPU_OP_SHAPE && k < op->nin; k++)
    if (op->in[k] >= 0 && !ip->t[op->in[k]].is_const) return ETPU_OK;
  for (uint32_t k = 0; k < op->nout; k++) {
    etpu_rtensor *t = &ip->t[op->out[k]];
    if (!(t->data = etpu_op_alloc(ip, t->bytes))) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  }
  etpu_status st = op->reg->eval(ip, op);
  for (uint32_t k = 0; k < op->nout; k++) ip->t[op->out[k]].is_const = true;
  return st;
}

void etpu_interp_options_init(etpu_interp_options *o) {
  if (!o) return;
  memset(o, 0, sizeof *o);
  o->struct_size = sizeof *o;
  o->profile = ETPU_PROFILE_LITERT;
  o->keep_all_tensors = false;
  o->num_threads = 0;
}

static etpu_status create(const etpu_model *m, const etpu_interp_options *o, const etpu_interp *outer,
                          etpu_interp **out) {
  if (!m || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_create: NULL argument");
  if (m->nsubgraphs == 0) return etpu_fail(ETPU_MALFORMED, "%s: model has no subgraph", m->label);
  etpu_interp *ip = etpu_calloc(1, sizeof *ip);
  if (!ip) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  etpu_arena_init(&ip->arena);
  ip->model = m;
  etpu_interp_options opts;
  etpu_interp_options_init(&opts);
  etpu_status st = ETPU_OK;
  /* The first published struct ended at keep_all_tensors; a caller built
   * against it passes that size and gets defaults for the rest. */
  const size_t v1_size = offsetof(etpu_interp_options, keep_all_tensors) + sizeof(bool);
  if (o && (o->struct_size < v1_size || o->struct_size > sizeof *o))
    st = etpu_fail(ETPU_INVALID_ARGUMENT,
                   "%s: interpreter options have struct_size %zu (expected %zu..%zu): fill them with "
                   "etpu_interp_options_init() first",
                   m->label, o->struct_size, v1_size, sizeof *o);
  else if (o)
    memcpy(&opts, o, o->struct_size);
  opts.struct_size = sizeof opts;
  ip->profile = opts.profile;
  ip->keep_all = opts.keep_all_tensors;
  ip->num_threads = opts.num_threads;
  if (st == ETPU_OK && opts.num_threads > ETPU_POOL_MAX_THREADS)
    st = etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %u threads asked for: at most %d", m->label, opts.num_threads,
                   ETPU_POOL_MAX_THREADS);
  /* The pool exists before any op is prepared: ops size their per-thread
   * scratch by it. */
  if (st == ETPU_OK && outer) {
    ip->pool = outer->pool;
    ip->pool_borrowed = true;
  } else if (st == ETPU_OK) {
    st = etpu_pool_create(opts.num_threads, &ip->pool);
  }
  if (ip->profile != ETPU_PROFILE_TFLITE_REF && ip->profile != ETPU_PROFILE_LITERT)
    st = etpu_fail(ETPU_INVALID_ARGUMENT, "%s: unknown arithmetic profile %d", m->label, (int)ip->profile);
  const etpu_gsubgraph *g = &m->subgraphs[0];
  ip->ntensors = g->ntensors;
  ip->nops = g->nops;
  if (st == ETPU_OK) {
    ip->t = etpu_arena_array(&ip->arena, g->ntensors + 1, sizeof *ip->t);
    ip->ops = etpu_arena_array(&ip->arena, g->nops + 1, sizeof *ip->ops);
    if (!ip->t || !ip->ops) st = etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  }
  for (uint32_t i = 0; st == ETPU_OK && i < g->ntensors; i++) st = init_tensor(ip, i);
  /* Find a kernel for every op before preparing any: the first error names
   * the first op etpu cannot run. */
  for (uint32_t i = 0; st == ETPU_OK && i < g->nops; i++) {
    etpu_rop *op = &ip->ops[i];
    op->index = i;
    op->gop = &g->ops[i];
    op->code = etpu_graph_op_code(m, op->gop);
    op->name = etpu_graph_op_name(m, op->gop);
    op->nin = op->gop->ninputs;
    op->in = op->gop->inputs;
    op->nout = op->gop->noutputs;
    op->out = op->gop->outputs;
    const etpu_gopcode *oc = &m->opcodes[op->gop->opcode];
    op->reg = etpu_find_kernel(op->code, oc->custom_code);
    if (!op->reg)
      st = etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "etpu cannot run this operation (version %d) yet", oc->version);
  }
  for (uint32_t i = 0; st == ETPU_OK && i < g->nops; i++) {
    etpu_rop *op = &ip->ops[i];
    for (uint32_t k = 0; k < op->nout; k++)
      if (ip->t[op->out[k]].is_const)
        st = etpu_op_fail(ip, op, ETPU_MALFORMED, "writes constant tensor '%s'", ip->t[op->out[k]].name);
    if (st == ETPU_OK) st = resolve_conv_output(ip, op);
    if (st == ETPU_OK) st = op->reg->prepare(ip, op);
    if (st == ETPU_OK) st = fold_if_known(ip, op);
  }
  if (st != ETPU_OK) {
    etpu_interp_free(ip);
    return st;
  }
  *out = ip;
  return ETPU_OK;
}

etpu_status etpu_interp_create(const etpu_model *m, const etpu_interp_options *o, etpu_interp **out) {
  return create(m, o, NULL, out);
}

etpu_status etpu_interp_create_inner(const etpu_model *m, const etpu_interp_options *o, const etpu_interp *outer,
                                     etpu_interp **out) {
  return create(m, o, outer, out);
}

void etpu_interp_free(etpu_interp *ip) {
  if (!ip) return;
  for (uint32_t i = 0; i < ip->nops; i++)
    if (ip->ops && ip->ops[i].reg && ip->ops[i].reg->destroy) ip->ops[i].reg->destroy(ip, &ip->ops[i]);
  if (!ip->pool_borrowed) etpu_pool_free(ip->pool);
  etpu_free(ip->op_ns);
  etpu_free(ip->mem);
  etpu_arena_free(&ip->arena);
  etpu_free(ip);
}

uint32_t etpu_default_threads(void) { return etpu_pool_default_threads(); }

uint32_t etpu_interp_threads(const etpu_interp *ip) { return ip ? etpu_pool_threads(ip->pool) : 0; }

etpu_status etpu_interp_parallel(etpu_interp *ip, size_t count,
                                 etpu_status (*task)(void *ctx, uint32_t worker, size_t unit), void *ctx) {
  return etpu_pool_run(ip->pool, count, task, ctx);
}

/* ---- plan --------------------------------------------------------------- */

/* A state tensor's initial value, as TFLite and TFLite Micro reset it: the
 * zero point for int8 (so an LSTM's hidden state starts at real 0), else 0. */
static void reset_variable(etpu_rtensor *t) {
  int value = t->type == ETPU_INT8 && t->has_quant ? t->zero_point : 0;
  memset(t->data, value, t->bytes);
}

typedef struct placed {
  size_t off, size;
  int32_t first, last;
} placed;

static etpu_interp *g_sort_ip; /* qsort has no context argument in C11 */

static int cmp_idx(const void *a, const void *b) {
  const etpu_rtensor *x = &g_sort_ip->t[*(const uint32_t *)a], *y = &g_sort_ip->t[*(const uint32_t *)b];
  if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
  return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

etpu_status etpu_interp_plan(etpu_interp *ip, size_t *arena_bytes_out) {
  if (!ip) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_plan: NULL interpreter");
  if (ip->planned) return etpu_fail(ETPU_INVALID_STATE, "%s: the interpreter is already planned", ip->model->label);
  const etpu_gsubgraph *g = &ip->model->subgraphs[ip->sg];
  int32_t end = (int32_t)ip->nops;
  for (uint32_t i = 0; i < g->ninputs; i++) {
    etpu_rtensor *t = &ip->t[g->inputs[i]];
    t->first_use = -1;
    if (t->last_use < -1) t->last_use = -1;
  }
  for (uint32_t o = 0; o < ip->nops; o++) {
    const etpu_rop *op = &ip->ops[o];
    for (uint32_t k = 0; k < op->nin; k++) {
      if (op->in[k] < 0) continue;
      etpu_rtensor *t = &ip->t[op->in[k]];
      if (t->first_use < -1) t->first_use = (int32_t)o; /* read before written: live from here */
      if ((int32_t)o > t->last_use) t->last_use = (int32_t)o;
    }
    for (uint32_t k = 0; k < op->nout; k++) {
      etpu_rtensor *t = &ip->t[op->out[k]];
      if (t->first_use < -1 || (int32_t)o < t->first_use) t->first_use = (int32_t)o;
      if ((int32_t)o > t->last_use) t->last_use = (int32_t)o;
    }
  }
  for (uint32_t i = 0; i < g->noutputs; i++) {
    etpu_rtensor *t = &ip->t[g->outputs[i]];
    if (t->first_use < -1) t->first_use = -1;
    t->last_use = end;
  }
  /* Graph inputs keep their memory to the end, as TFLite's planner
   * preserves inputs: they can be read back after invoke, and a second
   * invoke without setting them again reads the same values. */
  for (uint32_t i = 0; i < g->ninputs; i++) ip->t[g->inputs[i]].last_use = end;
  /* Variables: persistent memory, reset as TFLite does. */
  for (uint32_t i = 0; i < ip->ntensors; i++) {
    etpu_rtensor *t = &ip->t[i];
    if (t->is_const || !t->is_variable) continue;
    t->data = etpu_arena_alloc(&ip->arena, t->bytes);
    if (!t->data) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for state tensor '%s'", ip->model->label, t->name);
    reset_variable(t);
  }
  uint32_t *order = etpu_calloc(ip->ntensors + 1, sizeof *order);
  placed *pl = etpu_calloc(ip->ntensors + 1, sizeof *pl);
  if (!order || !pl) {
    etpu_free(order);
    etpu_free(pl);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory planning memory", ip->model->label);
  }
  uint32_t n = 0;
  for (uint32_t i = 0; i < ip->ntensors; i++) {
    etpu_rtensor *t = &ip->t[i];
    if (t->is_const || t->is_variable || t->first_use < -1) continue;
    order[n++] = i;
  }
  g_sort_ip = ip;
  qsort(order, n, sizeof *order, cmp_idx);
  /* Each tensor lands at or below the sum of the sizes placed before it, so
   * when the sum of all (rounded) sizes fits size_t no offset or end below
   * can wrap; on a 32-bit target a model declaring gigabytes stops here. */
  size_t sum = 0;
  for (uint32_t k = 0; k < n; k++) {
    const etpu_rtensor *t = &ip->t[order[k]];
    if (t->bytes > SIZE_MAX - 15 || !etpu_add_size(sum, (t->bytes + 15) & ~(size_t)15, &sum)) {
      etpu_free(order);
      etpu_free(pl);
      return etpu_fail(ETPU_OUT_OF_MEMORY,
                       "%s: the activation tensors (up to '%s', %zu bytes) need more memory than this %u-bit build "
                       "can address", ip->model->label, t->name, t->bytes, (unsigned)(sizeof(size_t) * 8));
    }
  }
  size_t total = 0;
  uint32_t np = 0;
  for (uint32_t k = 0; k < n; k++) {
    etpu_rtensor *t = &ip->t[order[k]];
    size_t size = (t->bytes + 15) & ~(size_t)15;
    size_t off = 0;
    if (!ip->keep_all) {
      /* Lowest offset that fits between conflicting placements. */
      bool moved = true;
      while (moved) {
        moved = false;
        for (uint32_t q = 0; q < np; q++) {
          const placed *p = &pl[q];
          bool live = !(p->last < t->first_use || t->last_use < p->first);
          bool overlap = off < p->off + p->size && p->off < off + size;
          if (live && overlap) {
            off = p->off + p->size;
            moved = true;
          }
        }
      }
    } else {
      off = total;
    }
    pl[np++] = (placed){off, size, t->first_use, t->last_use};
    t->offset = off;
    t->in_arena = true;
    if (off + size > total) total = off + size;
  }
  etpu_free(order);
  etpu_free(pl);
  ip->mem = etpu_malloc(total ? total : 16);
  if (!ip->mem) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for a %zu-byte arena", ip->model->label, total);
  memset(ip->mem, 0, total ? total : 16);
  ip->mem_size = total;
  for (uint32_t i = 0; i < ip->ntensors; i++)
    if (ip->t[i].in_arena) ip->t[i].data = ip->mem + ip->t[i].offset;
  ip->planned = true;
  if (arena_bytes_out) *arena_bytes_out = total;
  return ETPU_OK;
}

size_t etpu_interp_tensor_bytes(const etpu_interp *ip) {
  size_t s = 0;
  for (uint32_t i = 0; ip && i < ip->ntensors; i++)
    if (!ip->t[i].is_const && ip->t[i].first_use >= -1) s += ip->t[i].bytes;
  return s;
}

/* ---- I/O and invoke ----------------------------------------------------- */

uint32_t etpu_interp_input_count(const etpu_interp *ip) { return ip ? ip->model->subgraphs[ip->sg].ninputs : 0; }
uint32_t etpu_interp_output_count(const etpu_interp *ip) { return ip ? ip->model->subgraphs[ip->sg].noutputs : 0; }

int32_t etpu_interp_input_index(const etpu_interp *ip, uint32_t i) {
  return ip && i < etpu_interp_input_count(ip) ? ip->model->subgraphs[ip->sg].inputs[i] : -1;
}
int32_t etpu_interp_output_index(const etpu_interp *ip, uint32_t i) {
  return ip && i < etpu_interp_output_count(ip) ? ip->model->subgraphs[ip->sg].outputs[i] : -1;
}

etpu_status etpu_interp_set_input(etpu_interp *ip, uint32_t i, const void *data, size_t size) {
  if (!ip || (!data && size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_set_input: NULL argument");
  if (!ip->planned) return etpu_fail(ETPU_INVALID_STATE, "%s: call etpu_interp_plan before setting inputs", ip->model->label);
  int32_t ti = etpu_interp_input_index(ip, i);
  if (ti < 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u does not exist (model has %u)", ip->model->label, i,
                               etpu_interp_input_count(ip));
  etpu_rtensor *t = &ip->t[ti];
  if (size != t->bytes)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u '%s' is %zu bytes (%s), got %zu", ip->model->label, i, t->name,
                     t->bytes, etpu_dtype_name(t->type), size);
  if (t->is_const) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u '%s' is a constant", ip->model->label, i, t->name);
  if (size) memcpy(t->data, data, size);
  return ETPU_OK;
}

/* ---- per-op timing ------------------------------------------------------ */

static uint64_t clock_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* invoke_prefix with a clock read around every op (timing on); the ops
 * not run keep the time of their last run. */
static etpu_status invoke_timed(etpu_interp *ip, uint32_t op_count) {
  uint64_t t0 = clock_ns();
  for (uint32_t o = 0; o < op_count; o++) {
    etpu_status st = ip->ops[o].reg->eval(ip, &ip->ops[o]);
    const uint64_t t1 = clock_ns();
    ip->op_ns[o] = t1 - t0;
    t0 = t1;
    if (st != ETPU_OK) return st;
  }
  return ETPU_OK;
}

etpu_status etpu_interp_set_op_timing(etpu_interp *ip, bool on) {
  if (!ip) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_set_op_timing: NULL interpreter");
  if (!on) {
    etpu_free(ip->op_ns);
    ip->op_ns = NULL;
    return ETPU_OK;
  }
  if (ip->op_ns) return ETPU_OK;
  ip->op_ns = etpu_calloc(ip->nops + 1, sizeof *ip->op_ns);
  if (!ip->op_ns) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for op timing", ip->model->label);
  return ETPU_OK;
}

uint32_t etpu_interp_op_count(const etpu_interp *ip) { return ip ? ip->nops : 0; }

etpu_status etpu_interp_op_time(const etpu_interp *ip, uint32_t index, uint64_t *ns_out) {
  if (!ip || !ns_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_op_time: NULL argument");
  if (index >= ip->nops)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: op %u does not exist (model has %u)", ip->model->label, index, ip->nops);
  if (!ip->op_ns)
    return etpu_fail(ETPU_INVALID_STATE, "%s: op timing is off (etpu_interp_set_op_timing)", ip->model->label);
  *ns_out = ip->op_ns[index];
  return ETPU_OK;
}

/* Product of dims [from, to) of t, 0 when one is negative. */
static uint64_t dims_product(const etpu_rtensor *t, uint32_t from, uint32_t to) {
  uint64_t n = 1;
  for (uint32_t d = from; d < to && d < t->rank; d++) n *= t->dims[d] > 0 ? (uint64_t)t->dims[d] : 0u;
  return n;
}

uint64_t etpu_interp_op_macs(const etpu_interp *ip, uint32_t index) {
  if (!ip || index >= ip->nops) return 0;
  const etpu_rop *op = &ip->ops[index];
  if (op->nin < 2 || op->nout < 1 || op->in[0] < 0 || op->in[1] < 0) return 0;
  const etpu_rtensor *w = &ip->t[op->in[1]], *y = &ip->t[op->out[0]];
  switch (op->code) {
    case ETPU_OP_CONV_2D: /* filter [O, KH, KW, I]: each output sums KH·KW·I products */
      return w->rank == 4 ? (uint64_t)y->elems * dims_product(w, 1, 4) : 0;
    case ETPU_OP_DEPTHWISE_CONV_2D: /* filter [1, KH, KW, C·M] */
      return w->rank == 4 ? (uint64_t)y->elems * dims_product(w, 1, 3) : 0;
    case ETPU_OP_FULLY_CONNECTED: /* weights [O, K] */
      return w->rank == 2 ? (uint64_t)y->elems * dims_product(w, 1, 2) : 0;
    case ETPU_OP_TRANSPOSE_CONV: { /* in: output_shape, weights [O, KH, KW, I], x */
      if (op->nin < 3 || op->in[2] < 0) return 0;
      const etpu_rtensor *tw = &ip->t[op->in[1]], *tx = &ip->t[op->in[2]];
      return tw->rank == 4 ? (uint64_t)tx->elems * dims_product(tw, 0, 3) : 0;
    }
    default:
      return 0;
  }
}

etpu_status etpu_interp_invoke(etpu_interp *ip) {
  if (!ip) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_invoke: NULL interpreter");
  return etpu_interp_invoke_prefix(ip, ip->nops);
}

etpu_status etpu_interp_invoke_prefix(etpu_interp *ip, uint32_t op_count) {
  if (!ip) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_invoke_prefix: NULL interpreter");
  if (!ip->planned) return etpu_fail(ETPU_INVALID_STATE, "%s: call etpu_interp_plan before invoke", ip->model->label);
  if (op_count > ip->nops)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: cannot run %u ops, the model has %u", ip->model->label, op_count,
                     ip->nops);
  if (ip->op_ns) return invoke_timed(ip, op_count);
  for (uint32_t o = 0; o < op_count; o++) {
    etpu_status st = ip->ops[o].reg->eval(ip, &ip->ops[o]);
    if (st != ETPU_OK) return st;
  }
  return ETPU_OK;
}

etpu_status etpu_interp_invoke_op(etpu_interp *ip, uint32_t index) {
  if (!ip || index >= ip->nops) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_invoke_op: no op %u", index);
  if (!ip->planned) return etpu_fail(ETPU_INVALID_STATE, "%s: call etpu_interp_plan before invoke", ip->model->label);
  return ip->ops[index].reg->eval(ip, &ip->ops[index]);
}

etpu_status etpu_interp_reset_state(etpu_interp *ip) {
  if (!ip) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_reset_state: NULL interpreter");
  if (!ip->planned) return etpu_fail(ETPU_INVALID_STATE, "%s: not planned", ip->model->label);
  for (uint32_t i = 0; i < ip->ntensors; i++)
    if (ip->t[i].is_variable && !ip->t[i].is_const && ip->t[i].data) reset_variable(&ip->t[i]);
  return ETPU_OK;
}

etpu_status etpu_interp_output(const etpu_interp *ip, uint32_t i, const void **data_out, size_t *size_out) {
  if (!ip || !data_out || !size_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_output: NULL argument");
  int32_t ti = etpu_interp_output_index(ip, i);
  if (ti < 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output %u does not exist (model has %u)", ip->model->label, i,
                               etpu_interp_output_count(ip));
  return etpu_interp_tensor(ip, (uint32_t)ti, data_out, size_out);
}

etpu_status etpu_interp_tensor(const etpu_interp *ip, uint32_t i, const void **data_out, size_t *size_out) {
  if (!ip || !data_out || !size_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_tensor: NULL argument");
  if (!ip->planned) return etpu_fail(ETPU_INVALID_STATE, "%s: not planned", ip->model->label);
  if (i >= ip->ntensors) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u does not exist", ip->model->label, i);
  const etpu_rtensor *t = &ip->t[i];
  bool io = t->last_use == (int32_t)ip->nops || t->first_use == -1;
  if (!t->data || !(t->is_const || t->is_variable || ip->keep_all || io))
    return etpu_fail(ETPU_INVALID_STATE, "%s: tensor %u '%s' is not kept after invoke (create the interpreter with keep_all_tensors)",
                     ip->model->label, i, t->name);
  *data_out = t->data;
  *size_out = t->bytes;
  return ETPU_OK;
}

etpu_status etpu_interp_tensor_shape(const etpu_interp *ip, uint32_t i, uint32_t *rank_out, const int32_t **dims_out) {
  if (!ip || !rank_out || !dims_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_interp_tensor_shape: NULL argument");
  if (i >= ip->ntensors) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u does not exist", ip->model->label, i);
  *rank_out = ip->t[i].rank;
  *dims_out = ip->t[i].dims;
  return ETPU_OK;
}
