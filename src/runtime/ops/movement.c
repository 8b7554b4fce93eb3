/*
 * movement.c — op glue for the data-movement kernels of tensor_ops.h:
 * CONCATENATION, PACK, SPLIT, SPLIT_V, UNPACK, PAD, PADV2, SLICE,
 * STRIDED_SLICE, TRANSPOSE, GATHER, GATHER_ND, MIRROR_PAD, TILE, SHAPE,
 * SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND. Index tensors (axes, paddings,
 * begin/end/strides, sizes, perm) must be constants, except TILE's
 * multiples and the space/batch ops' block shape and paddings, which
 * dilated convolutions compute (SHAPE → ... → PACK) and which are read when
 * the op runs. The output shapes in the model are checked against what
 * TFLite would compute.
 *
 * These ops copy bytes, so both profiles give the same result; the one
 * arithmetic is CONCATENATION of 8-bit inputs whose quantization differs
 * from the output's (TFLite's ConcatenationWithScaling, which LiteRT runs
 * because XNNPACK refuses mixed quantization).
 */
#include <stdio.h>
#include <string.h>

#include "runtime/ops/tensor_glue.h"

static bool same_dims(const etpu_rtensor *t, const int32_t *dims, int32_t rank) {
  if ((int32_t)t->rank != rank) return false;
  for (int32_t d = 0; d < rank; d++)
    if (t->dims[d] != dims[d]) return false;
  return true;
}

static etpu_status shape_fail(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const int32_t *dims,
                              int32_t rank) {
  char want[160] = "";
  size_t n = 0;
  for (int32_t d = 0; d < rank && n < sizeof want - 16; d++)
    n += (size_t)snprintf(want + n, sizeof want - n, "%s%d", d ? "," : "", dims[d]);
  return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' has the wrong shape; expected [%s]", t->name, want);
}

static int32_t norm_axis(int64_t a, int32_t rank) { return (int32_t)(a < 0 ? a + rank : a); }

/* ---- CONCATENATION and PACK ----------------------------------------------- */

typedef struct concat_op {
  etpu_concat_params p;
  size_t *chunk;
  etpu_concat_rescale *rescale;
  const void **ptrs; /* filled at eval */
} concat_op;

static etpu_status concat_alloc(etpu_interp *ip, etpu_rop *op, concat_op *c, uint32_t n, bool rescale) {
  c->chunk = etpu_op_alloc(ip, n * sizeof *c->chunk);
  c->ptrs = etpu_op_alloc(ip, n * sizeof *c->ptrs);
  c->rescale = rescale ? etpu_op_alloc(ip, n * sizeof *c->rescale) : NULL;
  if (!c->chunk || !c->ptrs || (rescale && !c->rescale)) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  c->p.count = (int32_t)n;
  c->p.chunk = c->chunk;
  c->p.rescale = c->rescale;
  return ETPU_OK;
}

static etpu_status concat_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 4096, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, op->nin - 1)) != ETPU_OK) return st;
  for (uint32_t k = 0; k < op->nin; k++)
    if (!etpu_in(ip, op, k)) return etpu_op_fail(ip, op, ETPU_MALFORMED, "input %u is missing", k);
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  const int32_t rank = (int32_t)o->rank;
  const int64_t a = etpu_op_opt_int(op, ETPU_T_ConcatenationOptions, ETPU_F_ConcatenationOptions_axis);
  if (etpu_op_opt_int(op, ETPU_T_ConcatenationOptions, ETPU_F_ConcatenationOptions_fused_activation_function) != 0)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "a fused activation on CONCATENATION is not supported (TFLite refuses it)");
  if (rank < 1 || a < -rank || a >= rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "axis %lld outside [%d, %d)", (long long)a, -rank, rank);
  const int32_t axis = norm_axis(a, rank);
  bool rescale = false;
  if (etpu_glue_is_q8(o->type)) {
    if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
    for (uint32_t k = 0; k < op->nin; k++) {
      const etpu_rtensor *t = etpu_in(ip, op, k);
      if ((st = etpu_glue_check_q8(ip, op, t, "input")) != ETPU_OK) return st;
      if (t->scale != o->scale || t->zero_point != o->zero_point) rescale = true;
    }
  }
  concat_op *c;
  ETPU_GLUE_ALLOC(ip, op, c);
  if ((st = concat_alloc(ip, op, c, op->nin, rescale)) != ETPU_OK) return st;
  c->p.elem_size = es;
  c->p.type = (etpu_dtype)o->type;
  c->p.output_zero_point = o->zero_point;
  c->p.outer = 1;
  for (int32_t d = 0; d < axis; d++) c->p.outer *= (size_t)o->dims[d];
  size_t inner = 1;
  for (int32_t d = axis + 1; d < rank; d++) inner *= (size_t)o->dims[d];
  int64_t total = 0;
  for (uint32_t k = 0; k < op->nin; k++) {
    const etpu_rtensor *t = etpu_in(ip, op, k);
    bool ok = (int32_t)t->rank == rank;
    for (int32_t d = 0; ok && d < rank; d++) ok = d == axis || t->dims[d] == o->dims[d];
    if (!ok)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "input %u '%s' does not match the output except on axis %d", k,
                          t->name, axis);
    total += t->dims[axis];
    c->chunk[k] = (size_t)t->dims[axis] * inner;
    if (rescale) {
      const etpu_qparam qi = etpu_glue_q(t), qo = etpu_glue_q(o);
      if (etpu_concat_rescale_init(&qi, &qo, &c->rescale[k]) != ETPU_OK)
        return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s", etpu_errmsg());
    }
  }
  if (total != o->dims[axis])
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "inputs add up to %lld on axis %d; output '%s' has %d", (long long)total,
                        axis, o->name, o->dims[axis]);
  return ETPU_OK;
}

static etpu_status pack_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 4096, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *o = etpu_out(ip, op, 0), *in0 = etpu_in(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, op->nin - 1)) != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  const int64_t count = etpu_op_opt_int(op, ETPU_T_PackOptions, ETPU_F_PackOptions_values_count);
  if (count != (int64_t)op->nin)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "values_count %lld but %u inputs", (long long)count, op->nin);
  const int32_t rank = (int32_t)in0->rank + 1;
  const int64_t a = etpu_op_opt_int(op, ETPU_T_PackOptions, ETPU_F_PackOptions_axis);
  if (a < -rank || a >= rank || rank > ETPU_KMAX_RANK)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "axis %lld outside [%d, %d)", (long long)a, -rank, rank);
  const int32_t axis = norm_axis(a, rank);
  int32_t want[ETPU_KMAX_RANK];
  for (int32_t d = 0, k = 0; d < rank; d++) want[d] = d == axis ? (int32_t)op->nin : in0->dims[k++];
  if (!same_dims(o, want, rank)) return shape_fail(ip, op, o, want, rank);
  for (uint32_t k = 0; k < op->nin; k++) {
    const etpu_rtensor *t = etpu_in(ip, op, k);
    if (!t) return etpu_op_fail(ip, op, ETPU_MALFORMED, "input %u is missing", k);
    if ((st = etpu_op_check_same_shape(ip, op, t, in0)) != ETPU_OK) return st;
    if (etpu_glue_is_q8(o->type) && (st = etpu_glue_same_quant(ip, op, t, o)) != ETPU_OK) return st;
  }
  concat_op *c;
  ETPU_GLUE_ALLOC(ip, op, c);
  if ((st = concat_alloc(ip, op, c, op->nin, false)) != ETPU_OK) return st;
  c->p.elem_size = es;
  c->p.type = (etpu_dtype)o->type;
  c->p.outer = 1;
  for (int32_t d = 0; d < axis; d++) c->p.outer *= (size_t)o->dims[d];
  size_t inner = 1;
  for (int32_t d = axis + 1; d < rank; d++) inner *= (size_t)o->dims[d];
  for (uint32_t k = 0; k < op->nin; k++) c->chunk[k] = inner;
  return ETPU_OK;
}

static etpu_status concat_eval(etpu_interp *ip, etpu_rop *op) {
  concat_op *c = op->params;
  for (uint32_t k = 0; k < op->nin; k++) c->ptrs[k] = etpu_in(ip, op, k)->data;
  etpu_status st = etpu_concatenation(&c->p, c->ptrs, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_concatenation = {ETPU_OP_CONCATENATION, NULL, concat_prepare, concat_eval, NULL};
const etpu_kernel_reg etpu_reg_pack = {ETPU_OP_PACK, NULL, pack_prepare, concat_eval, NULL};

/* ---- SPLIT, SPLIT_V, UNPACK ------------------------------------------------- */

typedef struct split_op {
  etpu_concat_params p;
  size_t *chunk;
  void **ptrs;
  uint32_t input; /* index of the data input */
} split_op;

/* Fill the split of input `in` along `axis` into op->nout outputs of sizes
 * sizes[k]; squeeze: UNPACK (the outputs lack the axis). */
static etpu_status split_setup(etpu_interp *ip, etpu_rop *op, uint32_t input, int32_t axis, const int64_t *sizes,
                               bool squeeze) {
  etpu_rtensor *in = etpu_in(ip, op, input);
  const int32_t rank = (int32_t)in->rank;
  const size_t es = etpu_dtype_size(in->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s", in->name, etpu_dtype_name(in->type));
  split_op *s;
  ETPU_GLUE_ALLOC(ip, op, s);
  s->chunk = etpu_op_alloc(ip, op->nout * sizeof *s->chunk);
  s->ptrs = etpu_op_alloc(ip, op->nout * sizeof *s->ptrs);
  if (!s->chunk || !s->ptrs) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  s->input = input;
  s->p.count = (int32_t)op->nout;
  s->p.chunk = s->chunk;
  s->p.elem_size = es;
  s->p.type = (etpu_dtype)in->type;
  s->p.outer = 1;
  for (int32_t d = 0; d < axis; d++) s->p.outer *= (size_t)in->dims[d];
  size_t inner = 1;
  for (int32_t d = axis + 1; d < rank; d++) inner *= (size_t)in->dims[d];
  for (uint32_t k = 0; k < op->nout; k++) {
    etpu_rtensor *o = etpu_out(ip, op, k);
    if (o->type != in->type)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "output %u '%s' is %s, input is %s", k, o->name,
                          etpu_dtype_name(o->type), etpu_dtype_name(in->type));
    if (etpu_glue_is_q8(in->type)) {
      etpu_status st = etpu_glue_same_quant(ip, op, in, o);
      if (st != ETPU_OK) return st;
    }
    int32_t want[ETPU_KMAX_RANK];
    int32_t r = 0;
    for (int32_t d = 0; d < rank; d++) {
      if (d != axis) want[r++] = in->dims[d];
      else if (!squeeze) want[r++] = (int32_t)sizes[k];
    }
    if (!same_dims(o, want, r)) return shape_fail(ip, op, o, want, r);
    s->chunk[k] = (size_t)sizes[k] * inner;
  }
  return ETPU_OK;
}

static etpu_status split_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, op->nout);
  if (st != ETPU_OK) return st;
  if (op->nout < 1) return etpu_op_fail(ip, op, ETPU_MALFORMED, "no outputs");
  etpu_rtensor *in = etpu_in(ip, op, 1);
  int64_t a;
  size_t n;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 0), "axis", 1, &a, &n)) != ETPU_OK) return st;
  const int32_t rank = (int32_t)in->rank;
  if (n != 1 || a < -rank || a >= rank) return etpu_op_fail(ip, op, ETPU_MALFORMED, "bad axis");
  const int32_t axis = norm_axis(a, rank);
  const int64_t num = etpu_op_opt_int(op, ETPU_T_SplitOptions, ETPU_F_SplitOptions_num_splits);
  if (num != (int64_t)op->nout || in->dims[axis] % (int32_t)op->nout != 0)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "num_splits %lld, %u outputs, axis extent %d", (long long)num,
                        op->nout, in->dims[axis]);
  int64_t sizes[4096];
  if (op->nout > 4096) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "too many outputs");
  for (uint32_t k = 0; k < op->nout; k++) sizes[k] = in->dims[axis] / (int32_t)op->nout;
  return split_setup(ip, op, 1, axis, sizes, false);
}

static etpu_status split_v_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 3, 3, op->nout);
  if (st != ETPU_OK) return st;
  if (op->nout < 1 || op->nout > 4096) return etpu_op_fail(ip, op, ETPU_MALFORMED, "%u outputs", op->nout);
  etpu_rtensor *in = etpu_in(ip, op, 0);
  int64_t a, sizes[4096];
  size_t n, ns;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 2), "axis", 1, &a, &n)) != ETPU_OK) return st;
  const int32_t rank = (int32_t)in->rank;
  if (n != 1 || a < -rank || a >= rank) return etpu_op_fail(ip, op, ETPU_MALFORMED, "bad axis");
  const int32_t axis = norm_axis(a, rank);
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 1), "size_splits", 4096, sizes, &ns)) != ETPU_OK) return st;
  if (ns != op->nout) return etpu_op_fail(ip, op, ETPU_MALFORMED, "%zu sizes for %u outputs", ns, op->nout);
  int64_t total = 0, unknown = -1;
  for (size_t k = 0; k < ns; k++) {
    if (sizes[k] == -1 && unknown < 0) unknown = (int64_t)k;
    else if (sizes[k] < 0) return etpu_op_fail(ip, op, ETPU_MALFORMED, "size %lld", (long long)sizes[k]);
    else total += sizes[k];
  }
  if (unknown >= 0) sizes[unknown] = in->dims[axis] - total;
  if ((unknown >= 0 && sizes[unknown] < 0) || (unknown < 0 && total != in->dims[axis]))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "sizes do not add up to the axis extent %d", in->dims[axis]);
  return split_setup(ip, op, 0, axis, sizes, false);
}

static etpu_status unpack_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, op->nout);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0);
  const int32_t rank = (int32_t)in->rank;
  const int64_t a = etpu_op_opt_int(op, ETPU_T_UnpackOptions, ETPU_F_UnpackOptions_axis);
  const int64_t num = etpu_op_opt_int(op, ETPU_T_UnpackOptions, ETPU_F_UnpackOptions_num);
  if (rank < 1 || a < -rank || a >= rank) return etpu_op_fail(ip, op, ETPU_MALFORMED, "axis %lld", (long long)a);
  const int32_t axis = norm_axis(a, rank);
  if (num != (int64_t)op->nout || in->dims[axis] != (int32_t)op->nout || op->nout > 4096 || op->nout < 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "num %lld, %u outputs, axis extent %d", (long long)num, op->nout,
                        in->dims[axis]);
  int64_t sizes[4096];
  for (uint32_t k = 0; k < op->nout; k++) sizes[k] = 1;
  return split_setup(ip, op, 0, axis, sizes, true);
}

static etpu_status split_eval(etpu_interp *ip, etpu_rop *op) {
  split_op *s = op->params;
  for (uint32_t k = 0; k < op->nout; k++) s->ptrs[k] = etpu_out(ip, op, k)->data;
  etpu_status st = etpu_split(&s->p, etpu_in(ip, op, s->input)->data, s->ptrs);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_split = {ETPU_OP_SPLIT, NULL, split_prepare, split_eval, NULL};
const etpu_kernel_reg etpu_reg_split_v = {ETPU_OP_SPLIT_V, NULL, split_v_prepare, split_eval, NULL};
const etpu_kernel_reg etpu_reg_unpack = {ETPU_OP_UNPACK, NULL, unpack_prepare, split_eval, NULL};

/* ---- PAD, PADV2 ------------------------------------------------------------- */

typedef struct pad_op {
  etpu_pad_params p;
  etpu_shape in;
  uint8_t fill[8];
} pad_op;

static etpu_status pad_prepare(etpu_interp *ip, etpu_rop *op) {
  const bool v2 = op->code == ETPU_OP_PADV2;
  etpu_status st = etpu_op_check_io(ip, op, 2, 3, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0), *cv = etpu_in(ip, op, 2);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  const int32_t rank = (int32_t)in->rank;
  int64_t pads[2 * ETPU_KMAX_RANK];
  size_t n;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 1), "paddings", 2 * ETPU_KMAX_RANK, pads, &n)) != ETPU_OK)
    return st;
  if (n != 2 * (size_t)rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "paddings has %zu values for rank %d", n, rank);
  pad_op *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->in = etpu_glue_shape(in);
  p->p.elem_size = es;
  p->p.fill = p->fill;
  int32_t want[ETPU_KMAX_RANK];
  for (int32_t d = 0; d < rank; d++) {
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 || pads[2 * d] > INT32_MAX / 2 || pads[2 * d + 1] > INT32_MAX / 2)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "padding of dim %d is out of range", d);
    p->p.before[d] = (int32_t)pads[2 * d];
    p->p.after[d] = (int32_t)pads[2 * d + 1];
    want[d] = in->dims[d] + p->p.before[d] + p->p.after[d];
  }
  if (!same_dims(o, want, rank)) return shape_fail(ip, op, o, want, rank);
  if (etpu_glue_is_q8(o->type)) {
    if ((st = etpu_glue_check_q8(ip, op, in, "input")) != ETPU_OK) return st;
    if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
    if ((st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  }
  if (v2 && cv) {
    if (cv->type != o->type || cv->elems != 1)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "constant_values '%s' must be one %s value", cv->name,
                          etpu_dtype_name(o->type));
    if (etpu_glue_is_q8(o->type) && (st = etpu_glue_same_quant(ip, op, cv, o)) != ETPU_OK) return st;
    return ETPU_OK; /* read at eval: it may be computed */
  }
  if (etpu_glue_is_q8(o->type)) {
    /* TFLite PAD fills a quantized tensor with the output zero point. */
    if (o->type == ETPU_INT8) p->fill[0] = (uint8_t)(int8_t)o->zero_point;
    else p->fill[0] = (uint8_t)o->zero_point;
  }
  return ETPU_OK;
}

static etpu_status pad_eval(etpu_interp *ip, etpu_rop *op) {
  pad_op *p = op->params;
  const etpu_rtensor *cv = op->code == ETPU_OP_PADV2 ? etpu_in(ip, op, 2) : NULL;
  if (cv) memcpy(p->fill, cv->data, p->p.elem_size);
  etpu_status st = etpu_pad(&p->p, &p->in, etpu_in(ip, op, 0)->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_pad = {ETPU_OP_PAD, NULL, pad_prepare, pad_eval, NULL};
const etpu_kernel_reg etpu_reg_padv2 = {ETPU_OP_PADV2, NULL, pad_prepare, pad_eval, NULL};

/* ---- SLICE, STRIDED_SLICE ------------------------------------------------------ */

typedef struct slice_op {
  etpu_slice_params p;
  etpu_shape in;
} slice_op;

static etpu_status slice_common(etpu_interp *ip, etpu_rop *op, slice_op **out) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  etpu_status st = etpu_glue_same_types(ip, op, 0, 0);
  if (st != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  if (etpu_glue_is_q8(o->type) && (st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  slice_op *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->in = etpu_glue_shape(in);
  p->p.elem_size = es;
  *out = p;
  return ETPU_OK;
}

static etpu_status slice_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 3, 3, 1);
  if (st != ETPU_OK) return st;
  slice_op *p;
  if ((st = slice_common(ip, op, &p)) != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  const int32_t rank = (int32_t)in->rank;
  int64_t begin[ETPU_KMAX_RANK], size[ETPU_KMAX_RANK];
  size_t nb, ns;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 1), "begin", ETPU_KMAX_RANK, begin, &nb)) != ETPU_OK ||
      (st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 2), "size", ETPU_KMAX_RANK, size, &ns)) != ETPU_OK)
    return st;
  if (nb != (size_t)rank || ns != (size_t)rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "begin and size need %d values", rank);
  for (int32_t d = 0; d < rank; d++) {
    const int64_t b = begin[d], s = size[d] == -1 ? in->dims[d] - b : size[d];
    if (b < 0 || s < 0 || b + s > in->dims[d])
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "dim %d: begin %lld size %lld exceed the extent %d", d,
                          (long long)b, (long long)size[d], in->dims[d]);
    p->p.begin[d] = (int32_t)b;
    p->p.stride[d] = 1;
    p->p.out_dims[d] = (int32_t)s;
  }
  if (!same_dims(o, p->p.out_dims, rank)) return shape_fail(ip, op, o, p->p.out_dims, rank);
  return ETPU_OK;
}

static etpu_status strided_slice_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 4, 4, 1);
  if (st != ETPU_OK) return st;
  slice_op *p;
  if ((st = slice_common(ip, op, &p)) != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  const int32_t rank = (int32_t)in->rank;
  int64_t b[ETPU_KMAX_RANK], e[ETPU_KMAX_RANK], s[ETPU_KMAX_RANK];
  size_t nb, ne, ns;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 1), "begin", ETPU_KMAX_RANK, b, &nb)) != ETPU_OK ||
      (st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 2), "end", ETPU_KMAX_RANK, e, &ne)) != ETPU_OK ||
      (st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 3), "strides", ETPU_KMAX_RANK, s, &ns)) != ETPU_OK)
    return st;
  if (nb != ne || nb != ns || nb > (size_t)rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "begin, end and strides need the same count (<= rank %d)", rank);
  const uint32_t begin_mask =
      (uint32_t)etpu_op_opt_int(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_begin_mask);
  const uint32_t end_mask =
      (uint32_t)etpu_op_opt_int(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_end_mask);
  const uint32_t shrink =
      (uint32_t)etpu_op_opt_int(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_shrink_axis_mask);
  const bool offset = etpu_op_opt_int(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_offset) != 0;
  if (etpu_op_opt_int(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_ellipsis_mask) != 0 ||
      etpu_op_opt_int(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_new_axis_mask) != 0)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "ellipsis_mask and new_axis_mask are not supported yet");
  int32_t want[ETPU_KMAX_RANK], r = 0;
  for (int32_t d = 0; d < rank; d++) {
    const int64_t size = in->dims[d];
    /* Dims past the given indices take everything (TFLite sets both masks). */
    const bool given = (size_t)d < nb;
    const int64_t stride = given ? s[d] : 1;
    if (stride == 0 || stride < INT32_MIN + 1 || stride > INT32_MAX)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "stride of dim %d is %lld", d, (long long)stride);
    const bool bm = !given || (begin_mask >> d & 1), em = !given || (end_mask >> d & 1);
    const bool sh = given && (shrink >> d & 1);
    /* TFLite reference_ops StartForAxis / EndForAxis (DynamicStridedSliceParams). */
    int64_t start = given ? b[d] : 0;
    if (start < 0) start += size;
    if (stride > 0) start = start < 0 ? 0 : (start > size ? size : start);
    else start = start < -1 ? -1 : (start > size - 1 ? size - 1 : start);
    if (bm) start = stride > 0 ? 0 : size - 1;
    int64_t end;
    if (sh) {
      end = start >= size ? start : start + 1;
    } else {
      end = given ? e[d] : 0;
      if (offset && given) end += start;
      if (end < 0) end += size;
      if (stride > 0) end = end < 0 ? 0 : (end > size ? size : end);
      else end = end < -1 ? -1 : (end > size - 1 ? size - 1 : end);
      if (em) end = stride > 0 ? size : -1;
    }
    int64_t n = end - start;
    if ((n < 0) != (stride < 0)) n = 0;
    else if (stride < 0) n = (n + 1) / stride + 1;
    else n = n == 0 ? 0 : (n - 1) / stride + 1;
    p->p.begin[d] = (int32_t)start;
    p->p.stride[d] = (int32_t)stride;
    p->p.out_dims[d] = (int32_t)n;
    if (!sh) want[r++] = (int32_t)n;
    else if (n != 1 || start < 0 || start >= size)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "shrunk dim %d selects index %lld of %lld", d, (long long)start,
                          (long long)size);
  }
  if (!same_dims(o, want, r)) return shape_fail(ip, op, o, want, r);
  return ETPU_OK;
}

static etpu_status slice_eval(etpu_interp *ip, etpu_rop *op) {
  const slice_op *p = op->params;
  etpu_status st = etpu_strided_slice(&p->p, &p->in, etpu_in(ip, op, 0)->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_slice = {ETPU_OP_SLICE, NULL, slice_prepare, slice_eval, NULL};
const etpu_kernel_reg etpu_reg_strided_slice = {ETPU_OP_STRIDED_SLICE, NULL, strided_slice_prepare, slice_eval, NULL};

/* ---- TRANSPOSE ------------------------------------------------------------------ */

typedef struct transpose_op {
  etpu_shape in;
  int32_t perm[ETPU_KMAX_RANK];
  size_t es;
} transpose_op;

static etpu_status transpose_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  if (etpu_glue_is_q8(o->type) && (st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  const int32_t rank = (int32_t)in->rank;
  int64_t perm[ETPU_KMAX_RANK];
  size_t n;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 1), "perm", ETPU_KMAX_RANK, perm, &n)) != ETPU_OK) return st;
  if (n != (size_t)rank) return etpu_op_fail(ip, op, ETPU_MALFORMED, "perm has %zu values for rank %d", n, rank);
  transpose_op *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->in = etpu_glue_shape(in);
  p->es = es;
  int32_t want[ETPU_KMAX_RANK];
  bool seen[ETPU_KMAX_RANK] = {false};
  for (int32_t d = 0; d < rank; d++) {
    const int64_t v = perm[d] < 0 ? perm[d] + rank : perm[d];
    if (v < 0 || v >= rank || seen[v]) return etpu_op_fail(ip, op, ETPU_MALFORMED, "perm is not a permutation");
    seen[v] = true;
    p->perm[d] = (int32_t)v;
    want[d] = in->dims[v];
  }
  if (!same_dims(o, want, rank)) return shape_fail(ip, op, o, want, rank);
  return ETPU_OK;
}

static etpu_status transpose_eval(etpu_interp *ip, etpu_rop *op) {
  const transpose_op *p = op->params;
  etpu_status st = etpu_transpose(&p->in, p->perm, p->es, etpu_in(ip, op, 0)->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_transpose = {ETPU_OP_TRANSPOSE, NULL, transpose_prepare, transpose_eval, NULL};

/* ---- GATHER, GATHER_ND ------------------------------------------------------------ */

static etpu_status gather_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *idx = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  if (idx->type != ETPU_INT32 && idx->type != ETPU_INT64)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "indices '%s' is %s", idx->name, etpu_dtype_name(idx->type));
  if (etpu_glue_is_q8(o->type) && (st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  const int32_t rank = (int32_t)in->rank, irank = (int32_t)idx->rank;
  int64_t a = etpu_op_opt_int(op, ETPU_T_GatherOptions, ETPU_F_GatherOptions_axis);
  int64_t bd = etpu_op_opt_int(op, ETPU_T_GatherOptions, ETPU_F_GatherOptions_batch_dims);
  if (a < 0) a += rank;
  if (bd < 0) bd += irank;
  if (a < 0 || a >= rank || bd < 0 || bd > a || bd > irank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "axis %lld / batch_dims %lld invalid for ranks %d and %d",
                        (long long)a, (long long)bd, rank, irank);
  etpu_gather_params *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->batch = p->outer = p->inner = p->coords = 1;
  int32_t want[ETPU_KMAX_RANK * 2];
  int32_t r = 0;
  for (int64_t d = 0; d < bd; d++) {
    if (in->dims[d] != idx->dims[d]) return etpu_op_fail(ip, op, ETPU_MALFORMED, "batch dims differ");
    p->batch *= (size_t)in->dims[d];
  }
  for (int64_t d = 0; d < a; d++) want[r++] = in->dims[d];
  for (int64_t d = bd; d < a; d++) p->outer *= (size_t)in->dims[d];
  for (int64_t d = bd; d < irank; d++) {
    want[r++] = idx->dims[d];
    p->coords *= (size_t)idx->dims[d];
  }
  for (int64_t d = a + 1; d < rank; d++) {
    want[r++] = in->dims[d];
    p->inner *= (size_t)in->dims[d];
  }
  p->axis_size = (size_t)in->dims[a];
  p->elem_size = es;
  p->index_type = (etpu_dtype)idx->type;
  if (r > ETPU_KMAX_RANK || !same_dims(o, want, r)) return shape_fail(ip, op, o, want, r > ETPU_KMAX_RANK ? 0 : r);
  return ETPU_OK;
}

static etpu_status gather_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_status st =
      etpu_gather(op->params, etpu_in(ip, op, 0)->data, etpu_in(ip, op, 1)->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

static etpu_status gather_nd_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *idx = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  if (idx->type != ETPU_INT32 && idx->type != ETPU_INT64)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "indices '%s' is %s", idx->name, etpu_dtype_name(idx->type));
  if (etpu_glue_is_q8(o->type) && (st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  const int32_t rank = (int32_t)in->rank, irank = (int32_t)idx->rank;
  if (irank < 1) return etpu_op_fail(ip, op, ETPU_MALFORMED, "indices must have rank >= 1");
  const int32_t depth = idx->dims[irank - 1];
  if (depth < 1 || depth > rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "index depth %d for params of rank %d", depth, rank);
  etpu_gather_nd_params *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->params_shape = etpu_glue_shape(in);
  p->depth = depth;
  p->elem_size = es;
  p->index_type = (etpu_dtype)idx->type;
  p->n = idx->elems / (size_t)depth;
  int32_t want[ETPU_KMAX_RANK * 2], r = 0;
  for (int32_t d = 0; d < irank - 1; d++) want[r++] = idx->dims[d];
  for (int32_t d = depth; d < rank; d++) want[r++] = in->dims[d];
  if (r > ETPU_KMAX_RANK || !same_dims(o, want, r)) return shape_fail(ip, op, o, want, r > ETPU_KMAX_RANK ? 0 : r);
  return ETPU_OK;
}

static etpu_status gather_nd_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_status st =
      etpu_gather_nd(op->params, etpu_in(ip, op, 0)->data, etpu_in(ip, op, 1)->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_gather = {ETPU_OP_GATHER, NULL, gather_prepare, gather_eval, NULL};
const etpu_kernel_reg etpu_reg_gather_nd = {ETPU_OP_GATHER_ND, NULL, gather_nd_prepare, gather_nd_eval, NULL};

/* ---- MIRROR_PAD, TILE ----------------------------------------------------------- */

/* Integer values of a 1-D or 2-D INT32/INT64 tensor (constant or computed),
 * read when the op runs; at most max. */
static etpu_status read_ints(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what,
                             size_t max, int64_t *v, size_t *n) {
  if (!t || (t->type != ETPU_INT32 && t->type != ETPU_INT64))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' must be INT32 or INT64", what, t ? t->name : "(absent)");
  if (t->elems > max) return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' has %zu values; at most %zu", what, t->name, t->elems, max);
  for (size_t i = 0; i < t->elems; i++) {
    if (t->type == ETPU_INT32) {
      int32_t x;
      memcpy(&x, t->data + 4 * i, 4);
      v[i] = x;
    } else {
      memcpy(&v[i], t->data + 8 * i, 8);
    }
  }
  *n = t->elems;
  return ETPU_OK;
}

/* Prepare checks common to the ops here that copy elements of any type:
 * same type in and out, and, for 8-bit quantized tensors, the same
 * quantization (TFLite requires it of TILE, MIRROR_PAD and the
 * space/batch ops). */
static etpu_status copy_op_types(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *in, const etpu_rtensor *o) {
  etpu_status st;
  if ((st = etpu_op_check_type(ip, op, o, "output", in->type)) != ETPU_OK) return st;
  const size_t es = etpu_dtype_size(o->type);
  if (!es || es > 8 || (es & (es - 1)))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s", o->name, etpu_dtype_name(o->type));
  if (etpu_glue_is_q8(o->type)) {
    if ((st = etpu_glue_check_q8(ip, op, in, "input")) != ETPU_OK) return st;
    if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
    if ((st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  }
  return ETPU_OK;
}

static etpu_status mirror_pad_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  if ((st = copy_op_types(ip, op, in, o)) != ETPU_OK) return st;
  const int32_t rank = (int32_t)in->rank;
  int64_t pads[2 * ETPU_KMAX_RANK];
  size_t n;
  if ((st = etpu_glue_const_ints(ip, op, etpu_in(ip, op, 1), "paddings", 2 * ETPU_KMAX_RANK, pads, &n)) != ETPU_OK)
    return st;
  if (n != 2 * (size_t)rank) return etpu_op_fail(ip, op, ETPU_MALFORMED, "paddings has %zu values for rank %d", n, rank);
  etpu_mirror_pad_params *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->elem_size = etpu_dtype_size(o->type);
  p->symmetric = etpu_op_opt_int(op, ETPU_T_MirrorPadOptions, ETPU_F_MirrorPadOptions_mode) == 1;
  int32_t want[ETPU_KMAX_RANK];
  for (int32_t d = 0; d < rank; d++) {
    const int64_t lim = (int64_t)in->dims[d] - (p->symmetric ? 0 : 1);
    if (pads[2 * d] < 0 || pads[2 * d + 1] < 0 || pads[2 * d] > lim || pads[2 * d + 1] > lim)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "padding (%lld, %lld) of dim %d: %s padding takes 0 to %lld",
                          (long long)pads[2 * d], (long long)pads[2 * d + 1], d, p->symmetric ? "SYMMETRIC" : "REFLECT",
                          (long long)(lim < 0 ? 0 : lim));
    p->before[d] = (int32_t)pads[2 * d];
    p->after[d] = (int32_t)pads[2 * d + 1];
    want[d] = in->dims[d] + p->before[d] + p->after[d];
  }
  if (!same_dims(o, want, rank)) return shape_fail(ip, op, o, want, rank);
  return ETPU_OK;
}

static etpu_status mirror_pad_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0);
  const etpu_shape s = etpu_glue_shape(in);
  etpu_status st = etpu_mirror_pad(op->params, &s, in->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_mirror_pad = {ETPU_OP_MIRROR_PAD, NULL, mirror_pad_prepare, mirror_pad_eval, NULL};

static etpu_status tile_check(etpu_interp *ip, const etpu_rop *op, int64_t *mult) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  size_t n;
  etpu_status st = read_ints(ip, op, etpu_in(ip, op, 1), "multiples", ETPU_KMAX_RANK, mult, &n);
  if (st != ETPU_OK) return st;
  if (n != in->rank) return etpu_op_fail(ip, op, ETPU_MALFORMED, "multiples has %zu values for rank %u", n, in->rank);
  int32_t want[ETPU_KMAX_RANK];
  for (uint32_t d = 0; d < in->rank; d++) {
    const int64_t e = mult[d] * in->dims[d];
    if (mult[d] < 0 || e > INT32_MAX)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "multiple %lld of dim %u is out of range", (long long)mult[d], d);
    want[d] = (int32_t)e;
  }
  if (!same_dims(o, want, (int32_t)in->rank)) return shape_fail(ip, op, o, want, (int32_t)in->rank);
  return ETPU_OK;
}

static etpu_status tile_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0), *m = etpu_in(ip, op, 1);
  if ((st = copy_op_types(ip, op, in, o)) != ETPU_OK) return st;
  int64_t mult[ETPU_KMAX_RANK];
  /* Computed multiples are read and checked against the output when the op runs. */
  return m && !m->is_const ? ETPU_OK : tile_check(ip, op, mult);
}

static etpu_status tile_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0);
  int64_t mult[ETPU_KMAX_RANK];
  etpu_status st = tile_check(ip, op, mult);
  if (st != ETPU_OK) return st;
  const etpu_shape s = etpu_glue_shape(in);
  st = etpu_tile(&s, mult, etpu_dtype_size(in->type), in->data, etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_tile = {ETPU_OP_TILE, NULL, tile_prepare, tile_eval, NULL};

/* ---- SHAPE ------------------------------------------------------------------------ */

static etpu_status shape_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  const int64_t out_type = etpu_op_opt_int(op, ETPU_T_ShapeOptions, ETPU_F_ShapeOptions_out_type);
  if (o->type != ETPU_INT32 && o->type != ETPU_INT64)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' is %s; SHAPE gives INT32 or INT64", o->name,
                        etpu_dtype_name(o->type));
  if (op->gop->options && out_type != o->type)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "out_type %s but output '%s' is %s",
                        etpu_dtype_name((int32_t)out_type), o->name, etpu_dtype_name(o->type));
  if (o->rank != 1 || o->elems != in->rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' must hold the %u dims of '%s'", o->name, in->rank,
                        in->name);
  return ETPU_OK;
}

static etpu_status shape_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  for (uint32_t d = 0; d < in->rank; d++) {
    if (o->type == ETPU_INT32) {
      const int32_t v = in->dims[d];
      memcpy(o->data + 4 * d, &v, 4);
    } else {
      const int64_t v = in->dims[d];
      memcpy(o->data + 8 * d, &v, 8);
    }
  }
  return ETPU_OK;
}

const etpu_kernel_reg etpu_reg_shape = {ETPU_OP_SHAPE, NULL, shape_prepare, shape_eval, NULL};

/* ---- SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND ---------------------------------------- */

/* 3-D [N, S, C] tensors run as [N, S, 1, C] (TFLite extends them so). */
static bool space_dims(const etpu_rtensor *t, etpu_dims *d) {
  if (t->rank == 4) *d = (etpu_dims){t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
  else if (t->rank == 3) *d = (etpu_dims){t->dims[0], t->dims[1], 1, t->dims[2]};
  else return false;
  return true;
}

/* Block shape and paddings (or crops), read when the op runs: computed in
 * dilated convolutions (SHAPE → ... → PACK). */
static etpu_status space_params(etpu_interp *ip, const etpu_rop *op, etpu_space_batch_params *p) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  const bool s2b = op->code == ETPU_OP_SPACE_TO_BATCH_ND;
  int64_t blk[2], pad[4];
  size_t nb, np;
  etpu_status st = read_ints(ip, op, etpu_in(ip, op, 1), "block_shape", 2, blk, &nb);
  if (st == ETPU_OK) st = read_ints(ip, op, etpu_in(ip, op, 2), s2b ? "paddings" : "crops", 4, pad, &np);
  if (st != ETPU_OK) return st;
  const size_t sdims = in->rank - 2;
  if (nb != sdims || np != 2 * sdims)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "block_shape has %zu and %s %zu values for %zu spatial dims", nb,
                        s2b ? "paddings" : "crops", np, sdims);
  if (sdims == 1) {
    blk[1] = 1;
    pad[2] = pad[3] = 0;
  }
  for (int i = 0; i < 4; i++)
    if ((i < 2 && (blk[i] < 1 || blk[i] > INT32_MAX / 2)) || pad[i] < 0 || pad[i] > INT32_MAX / 2)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "block %lldx%lld or %s (%lld, %lld, %lld, %lld) out of range",
                          (long long)blk[0], (long long)blk[1], s2b ? "paddings" : "crops", (long long)pad[0],
                          (long long)pad[1], (long long)pad[2], (long long)pad[3]);
  p->block_h = (int32_t)blk[0];
  p->block_w = (int32_t)blk[1];
  p->pad_top = (int32_t)pad[0];
  p->pad_bottom = (int32_t)pad[1];
  p->pad_left = (int32_t)pad[2];
  p->pad_right = (int32_t)pad[3];
  p->elem_size = etpu_dtype_size(o->type);
  etpu_dims di, dout;
  space_dims(in, &di);
  if (etpu_op_output_is_dynamic(ip, op->out[0]) && (in->rank == 3 || in->rank == 4)) {
    /* A placeholder output (a dynamic graph) takes the shape these values give. */
    const int64_t h = s2b ? ((int64_t)di.h + pad[0] + pad[1]) / blk[0] : (int64_t)di.h * blk[0] - pad[0] - pad[1];
    const int64_t w = s2b ? ((int64_t)di.w + pad[2] + pad[3]) / blk[1] : (int64_t)di.w * blk[1] - pad[2] - pad[3];
    const int64_t n = s2b ? (int64_t)di.n * blk[0] * blk[1] : (int64_t)di.n / (blk[0] * blk[1]);
    if (h >= 0 && w >= 0 && n >= 0 && h <= INT32_MAX && w <= INT32_MAX && n <= INT32_MAX) {
      const int32_t d4[4] = {(int32_t)n, (int32_t)h, (int32_t)w, di.c}, d3[3] = {(int32_t)n, (int32_t)h, di.c};
      etpu_status st2 = etpu_op_set_output_shape(ip, op, 0, in->rank, in->rank == 4 ? d4 : d3);
      if (st2 != ETPU_OK) return st2;
    }
  }
  space_dims(o, &dout);
  if (etpu_space_batch_check(op->name, p, s2b ? &di : &dout, s2b ? &dout : &di) != ETPU_OK)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "the model's output shape is not what these values give (%s)",
                        etpu_errmsg());
  return ETPU_OK;
}

typedef struct space_op {
  etpu_space_batch_params p;
  uint8_t fill[8];
} space_op;

static etpu_status space_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 3, 3, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  if ((st = copy_op_types(ip, op, in, o)) != ETPU_OK) return st;
  etpu_dims d;
  if (in->rank != o->rank || !space_dims(in, &d))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "'%s' has rank %u; %s takes 3-D or 4-D tensors", in->name,
                        in->rank, op->name);
  space_op *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  /* TFLite pads a quantized tensor with the output zero point, floats with 0. */
  if (o->type == ETPU_INT8) p->fill[0] = (uint8_t)(int8_t)o->zero_point;
  else if (o->type == ETPU_UINT8) p->fill[0] = (uint8_t)o->zero_point;
  p->p.fill = p->fill;
  const etpu_rtensor *b = etpu_in(ip, op, 1), *c = etpu_in(ip, op, 2);
  return b && c && b->is_const && c->is_const ? space_params(ip, op, &p->p) : ETPU_OK;
}

static etpu_status space_eval(etpu_interp *ip, etpu_rop *op) {
  space_op *p = op->params;
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  etpu_status st = space_params(ip, op, &p->p);
  if (st != ETPU_OK) return st;
  etpu_dims di, dout;
  space_dims(in, &di);
  space_dims(o, &dout);
  st = op->code == ETPU_OP_SPACE_TO_BATCH_ND ? etpu_space_to_batch_nd(&p->p, &di, in->data, &dout, o->data)
                                             : etpu_batch_to_space_nd(&p->p, &di, in->data, &dout, o->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_space_to_batch_nd = {ETPU_OP_SPACE_TO_BATCH_ND, NULL, space_prepare, space_eval, NULL};
const etpu_kernel_reg etpu_reg_batch_to_space_nd = {ETPU_OP_BATCH_TO_SPACE_ND, NULL, space_prepare, space_eval, NULL};
