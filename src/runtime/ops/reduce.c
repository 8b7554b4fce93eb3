/*
 * reduce.c — op glue for MEAN, SUM, REDUCE_MAX, REDUCE_MIN (axes from a
 * constant INT32/INT64 tensor, keep_dims from ReducerOptions) and ARG_MAX.
 *
 * 8-bit MEAN/SUM per profile (TFLITE.md §7.6, §9):
 *  - tflite-ref: TFLite's current QuantizedMeanOrSum (what TFLM runs).
 *  - litert: XNNPACK's reduce (its delegate takes 8-bit MEAN and SUM with
 *    constant INT32 axes, 1 to 6 of them, ranks <= 6); otherwise TFLite's
 *    QuantizedMeanOrSum.
 * REDUCE_MAX/MIN and ARG_MAX compare raw values; both profiles agree.
 *
 * An 8-bit MEAN/SUM over one contiguous run of axes (the mean over H×W)
 * runs the optimized driver (src/kernels/opt/mean_opt.c), the same bytes,
 * split over the interpreter's threads when the input is large enough.
 */
#include "kernels/opt/mean_opt.h"
#include "runtime/ops/tensor_glue.h"

#define XNN_MAX_DIMS 6

typedef struct reduce_op {
  etpu_reduce_plan plan;
  etpu_mean_params mean; /* 8-bit MEAN / SUM */
  etpu_opt_mean opt;     /* ... by the optimized driver */
  bool use_opt;
  size_t units, chunks;  /* its units, and the ranges they are split in (1: one thread) */
} reduce_op;

/* Input bytes below which a MEAN stays on one thread. */
enum { MEAN_MIN_WORK = 65536 };

static void mean_range(const void *d, const void *in, void *out, size_t begin, size_t end) {
  etpu_opt_mean_run_range(d, in, out, begin, end);
}

/* The output shape the reduction gives, checked against the output. */
static etpu_status check_reduced_shape(etpu_interp *ip, const etpu_rop *op, const etpu_reduce_plan *plan,
                                       bool keep_dims, const etpu_rtensor *o) {
  int32_t want[ETPU_KMAX_RANK];
  int32_t rank = 0;
  for (int32_t d = 0; d < plan->rank; d++) {
    if (!plan->reduced[d]) want[rank++] = plan->dims[d];
    else if (keep_dims) want[rank++] = 1;
  }
  bool ok = (int32_t)o->rank == rank;
  for (int32_t d = 0; ok && d < rank; d++) ok = o->dims[d] == want[d];
  /* TFLite models sometimes carry a squeezed or [1]-shaped scalar; accept
   * any shape of the same element count when the ranks differ. */
  if (!ok && o->elems == plan->out_count && (int32_t)o->rank != rank) ok = true;
  if (!ok)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' has %zu elements in rank %u; the reduction gives rank %d",
                        o->name, o->elems, o->rank, rank);
  return ETPU_OK;
}

static etpu_status reduce_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *axes = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  int64_t ax[ETPU_KMAX_RANK * 2];
  size_t nax;
  if ((st = etpu_glue_const_ints(ip, op, axes, "axes", ETPU_KMAX_RANK * 2, ax, &nax)) != ETPU_OK) return st;
  int32_t ax32[ETPU_KMAX_RANK * 2];
  for (size_t k = 0; k < nax; k++) ax32[k] = ax[k] < INT32_MIN ? INT32_MIN : (ax[k] > INT32_MAX ? INT32_MAX : (int32_t)ax[k]);
  reduce_op *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  const etpu_shape si = etpu_glue_shape(in);
  if (etpu_reduce_plan_init(&si, ax32, (int32_t)nax, &p->plan) != ETPU_OK)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s", etpu_errmsg());
  const bool keep_dims = etpu_op_opt_int(op, ETPU_T_ReducerOptions, ETPU_F_ReducerOptions_keep_dims) != 0;
  if ((st = check_reduced_shape(ip, op, &p->plan, keep_dims, o)) != ETPU_OK) return st;
  const int32_t t = in->type;
  const bool mean_or_sum = op->code == ETPU_OP_MEAN || op->code == ETPU_OP_SUM;
  if (etpu_glue_is_q8(t)) {
    if ((st = etpu_glue_check_q8(ip, op, in, "input")) != ETPU_OK) return st;
    if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
    if (!mean_or_sum) return etpu_glue_same_quant(ip, op, in, o);
    if (p->plan.reduce_count < 1)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "an empty 8-bit reduction is not supported");
    const bool xnn = ip->profile == ETPU_PROFILE_LITERT && axes->type == ETPU_INT32 && nax >= 1 &&
                     nax <= XNN_MAX_DIMS && in->rank <= XNN_MAX_DIMS;
    const etpu_qparam qi = etpu_glue_q(in), qo = etpu_glue_q(o);
    if (etpu_mean_params_init(xnn ? ETPU_MEAN_XNNPACK : ETPU_MEAN_TFLITE, op->code != ETPU_OP_MEAN, &qi, &qo,
                              p->plan.reduce_count, &p->mean) != ETPU_OK)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s", etpu_errmsg());
    p->use_opt = etpu_opt_mean_init(&p->mean, &p->plan, t == ETPU_INT8, &p->opt);
    if (p->use_opt) {
      p->units = etpu_opt_mean_units(&p->opt);
      p->chunks = etpu_glue_chunks(ip, p->units, (double)in->elems, MEAN_MIN_WORK);
    }
    return ETPU_OK;
  }
  bool ok;
  if (op->code == ETPU_OP_MEAN) ok = t == ETPU_FLOAT32;
  else if (op->code == ETPU_OP_SUM) ok = t == ETPU_FLOAT32 || t == ETPU_INT32 || t == ETPU_INT64;
  else ok = t == ETPU_FLOAT32 || t == ETPU_INT32 || t == ETPU_INT64 || t == ETPU_INT16;
  if (!ok)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; not supported by this reduction", in->name,
                        etpu_dtype_name(t));
  return ETPU_OK;
}

static etpu_status reduce_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  const reduce_op *p = op->params;
  const int32_t t = in->type;
  etpu_status st;
  if (p->use_opt) return etpu_glue_run_ranges(ip, mean_range, &p->opt, in->data, o->data, p->units, p->chunks);
  switch (op->code) {
    case ETPU_OP_MEAN:
      if (t == ETPU_INT8) st = etpu_mean_s8(&p->mean, &p->plan, (const int8_t *)in->data, (int8_t *)o->data);
      else if (t == ETPU_UINT8) st = etpu_mean_u8(&p->mean, &p->plan, in->data, o->data);
      else st = etpu_mean_f32(&p->plan, (const float *)in->data, (float *)o->data);
      break;
    case ETPU_OP_SUM:
      if (t == ETPU_INT8) st = etpu_sum_s8(&p->mean, &p->plan, (const int8_t *)in->data, (int8_t *)o->data);
      else if (t == ETPU_UINT8) st = etpu_sum_u8(&p->mean, &p->plan, in->data, o->data);
      else if (t == ETPU_INT32) st = etpu_sum_s32(&p->plan, (const int32_t *)in->data, (int32_t *)o->data);
      else if (t == ETPU_INT64) st = etpu_sum_s64(&p->plan, (const int64_t *)in->data, (int64_t *)o->data);
      else st = etpu_sum_f32(&p->plan, (const float *)in->data, (float *)o->data);
      break;
    case ETPU_OP_REDUCE_MAX:
      st = etpu_reduce_max((etpu_dtype)t, &p->plan, in->data, o->data);
      break;
    default: /* REDUCE_MIN */
      st = etpu_reduce_min((etpu_dtype)t, &p->plan, in->data, o->data);
      break;
  }
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_mean = {ETPU_OP_MEAN, NULL, reduce_prepare, reduce_eval, NULL};
const etpu_kernel_reg etpu_reg_sum = {ETPU_OP_SUM, NULL, reduce_prepare, reduce_eval, NULL};
const etpu_kernel_reg etpu_reg_reduce_max = {ETPU_OP_REDUCE_MAX, NULL, reduce_prepare, reduce_eval, NULL};
const etpu_kernel_reg etpu_reg_reduce_min = {ETPU_OP_REDUCE_MIN, NULL, reduce_prepare, reduce_eval, NULL};

/* ---- ARG_MAX ---------------------------------------------------------------- */

static etpu_status arg_max_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *axis = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  int64_t a;
  size_t n;
  if ((st = etpu_glue_const_ints(ip, op, axis, "axis", 1, &a, &n)) != ETPU_OK) return st;
  if (n != 1) return etpu_op_fail(ip, op, ETPU_MALFORMED, "axis '%s' holds no value", axis->name);
  const int64_t rank = in->rank;
  if (rank < 1 || a < -rank || a >= rank)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "axis %lld outside [%lld, %lld)", (long long)a, (long long)-rank,
                        (long long)rank);
  if (a < 0) a += rank;
  if (o->type != ETPU_INT32 && o->type != ETPU_INT64)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' is %s; ARG_MAX gives INT32 or INT64", o->name,
                        etpu_dtype_name(o->type));
  const int32_t t = in->type;
  if (t != ETPU_INT8 && t != ETPU_UINT8 && t != ETPU_INT16 && t != ETPU_INT32 && t != ETPU_INT64 && t != ETPU_FLOAT32)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s", in->name, etpu_dtype_name(t));
  etpu_axis_split *s;
  ETPU_GLUE_ALLOC(ip, op, s);
  s->outer = s->inner = 1;
  for (int64_t d = 0; d < rank; d++) {
    if (d < a) s->outer *= (size_t)in->dims[d];
    else if (d > a) s->inner *= (size_t)in->dims[d];
  }
  s->axis = (size_t)in->dims[a];
  bool ok = (int64_t)o->rank == rank - 1;
  for (int64_t d = 0, k = 0; ok && d < rank; d++)
    if (d != a) ok = o->dims[k++] == in->dims[d];
  if (!ok) return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' must be the input shape without the axis", o->name);
  if (s->axis < 1) return etpu_op_fail(ip, op, ETPU_MALFORMED, "the axis of '%s' is empty", in->name);
  return ETPU_OK;
}

static etpu_status arg_max_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  etpu_status st = etpu_arg_max((etpu_dtype)in->type, (etpu_dtype)o->type, op->params, in->data, o->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_arg_max = {ETPU_OP_ARG_MAX, NULL, arg_max_prepare, arg_max_eval, NULL};
