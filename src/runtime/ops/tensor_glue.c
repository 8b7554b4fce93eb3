/*
 * tensor_glue.c — the helpers of tensor_glue.h.
 */
#include <math.h>

#include "runtime/ops/tensor_glue.h"

etpu_status etpu_glue_check_q8(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what) {
  etpu_status st = etpu_op_check_quant(ip, op, t, what);
  if (st != ETPU_OK) return st;
  if (!isfinite(t->scale))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' has a non-finite scale", what, t->name);
  if (t->quant && t->quant->count > 1)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' is quantized per axis; this op needs one scale", what,
                        t->name);
  int32_t lo, hi;
  etpu_glue_q8_range(t->type, &lo, &hi);
  if (t->zero_point < lo || t->zero_point > hi)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' zero point %d is outside [%d, %d]", what, t->name,
                        t->zero_point, lo, hi);
  return ETPU_OK;
}

etpu_status etpu_glue_const_ints(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what,
                                 size_t max, int64_t *values_out, size_t *count_out) {
  if (!t) return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s is missing", what);
  if (!t->is_const || !t->data)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' is not a constant; etpu needs it at plan time", what,
                        t->name);
  if (t->type != ETPU_INT32 && t->type != ETPU_INT64)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' is %s; expected INT32 or INT64", what, t->name,
                        etpu_dtype_name(t->type));
  if (t->elems > max)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' has %zu values; at most %zu", what, t->name, t->elems, max);
  for (size_t i = 0; i < t->elems; i++) {
    if (t->type == ETPU_INT64) {
      memcpy(&values_out[i], t->data + 8 * i, 8);
    } else {
      int32_t v;
      memcpy(&v, t->data + 4 * i, 4);
      values_out[i] = v;
    }
  }
  *count_out = t->elems;
  return ETPU_OK;
}

etpu_status etpu_glue_act_q8(etpu_interp *ip, const etpu_rop *op, int32_t activation, const etpu_rtensor *out,
                             bool xnnpack, int32_t *lo, int32_t *hi) {
  int32_t qmin, qmax;
  etpu_glue_q8_range(out->type, &qmin, &qmax);
  etpu_status st = xnnpack ? etpu_activation_range_xnnpack(activation, out->scale, out->zero_point, qmin, qmax, lo, hi)
                           : etpu_activation_range_quantized(activation, out->scale, out->zero_point, qmin, qmax, lo,
                                                             hi);
  if (st != ETPU_OK)
    return etpu_op_fail(ip, op, st == ETPU_UNSUPPORTED ? ETPU_UNSUPPORTED : ETPU_MALFORMED,
                        "fused activation %d on output '%s': %s", activation, out->name, etpu_errmsg());
  return ETPU_OK;
}

etpu_status etpu_glue_act_int(etpu_interp *ip, const etpu_rop *op, int32_t activation, int32_t type,
                              etpu_act_int *out) {
  const int64_t tmin = type == ETPU_INT64 ? INT64_MIN : INT32_MIN, tmax = type == ETPU_INT64 ? INT64_MAX : INT32_MAX;
  switch (activation) {
    case ETPU_ACT_NONE: *out = (etpu_act_int){tmin, tmax}; break;
    case ETPU_ACT_RELU: *out = (etpu_act_int){0, tmax}; break;
    case ETPU_ACT_RELU6: *out = (etpu_act_int){0, 6}; break;
    case ETPU_ACT_RELU_N1_TO_1: *out = (etpu_act_int){-1, 1}; break;
    default:
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "fused activation %d on an integer output is not supported",
                          activation);
  }
  return ETPU_OK;
}

etpu_status etpu_glue_same_types(etpu_interp *ip, const etpu_rop *op, uint32_t first_in, uint32_t last_in) {
  const etpu_rtensor *out = etpu_out(ip, op, 0);
  for (uint32_t k = first_in; k <= last_in; k++) {
    const etpu_rtensor *t = etpu_in(ip, op, k);
    if (t && t->type != out->type)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "input %u '%s' is %s but output '%s' is %s", k, t->name,
                          etpu_dtype_name(t->type), out->name, etpu_dtype_name(out->type));
  }
  return ETPU_OK;
}

etpu_status etpu_glue_same_quant(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *a, const etpu_rtensor *b) {
  if (a->has_quant != b->has_quant || (a->has_quant && (a->scale != b->scale || a->zero_point != b->zero_point)))
    return etpu_op_fail(ip, op, ETPU_MALFORMED,
                        "'%s' (scale %g, zero point %d) and '%s' (scale %g, zero point %d) must share quantization",
                        a->name, (double)a->scale, a->zero_point, b->name, (double)b->scale, b->zero_point);
  return ETPU_OK;
}

etpu_status etpu_glue_eval_fail(etpu_interp *ip, const etpu_rop *op, etpu_status st) {
  return etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

etpu_status etpu_glue_float_output(etpu_interp *ip, etpu_rop *op, uint32_t k, uint32_t rank, const int32_t *dims) {
  etpu_rtensor *t = etpu_out(ip, op, k);
  etpu_status st = etpu_op_check_type(ip, op, t, "output", ETPU_FLOAT32);
  if (st != ETPU_OK) return st;
  size_t n = 1;
  for (uint32_t d = 0; d < rank; d++) n *= (size_t)dims[d];
  if (t->rank == 0 || (t->rank == 1 && t->dims[0] == 0)) {
    t->rank = rank;
    for (uint32_t d = 0; d < rank; d++) t->dims[d] = dims[d];
    t->elems = n;
    t->bytes = n * sizeof(float);
    return ETPU_OK;
  }
  if (t->elems != n)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output %u '%s' has %zu elements; the options give %zu", k, t->name,
                        t->elems, n);
  return ETPU_OK;
}

size_t etpu_glue_chunks(const etpu_interp *ip, size_t units, double work, double min_work) {
  const size_t threads = etpu_interp_threads(ip);
  if (threads <= 1 || work < 2.0 * min_work) return 1;
  const double most = work / min_work;
  size_t chunks = most < (double)(4 * threads) ? (size_t)most : 4 * threads;
  return chunks > units ? units : chunks;
}

typedef struct range_job {
  etpu_glue_range_fn run;
  const void *d, *in;
  void *out;
  size_t units, chunks;
} range_job;

static etpu_status range_chunk(void *ctx, uint32_t worker, size_t chunk) {
  (void)worker;
  const range_job *j = ctx;
  j->run(j->d, j->in, j->out, chunk * j->units / j->chunks, (chunk + 1) * j->units / j->chunks);
  return ETPU_OK;
}

etpu_status etpu_glue_run_ranges(etpu_interp *ip, etpu_glue_range_fn run, const void *d, const void *in, void *out,
                                 size_t units, size_t chunks) {
  if (chunks <= 1) {
    run(d, in, out, 0, units);
    return ETPU_OK;
  }
  range_job j = {run, d, in, out, units, chunks};
  return etpu_interp_parallel(ip, chunks, range_chunk, &j);
}
