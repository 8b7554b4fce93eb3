/*
 * reduce_max.c — REDUCE_MAX over any set of axes, on raw values (TFLite
 * reduce.cc / TFLM reduce_common.cc: quantized input and output share scale
 * and zero point). The fold starts from the type's lowest value and keeps
 * `in > cur ? in : cur` (float: a NaN input compares false and is skipped).
 */
#include <float.h>

#include "kernels/ref/tensor_util.h"

#define ETPU_REDUCE_LOOP(type, init)                                                         \
  do {                                                                                       \
    const type *src = in;                                                                    \
    type *dst = out;                                                                         \
    etpu_reduce_iter it;                                                                     \
    etpu_reduce_iter_init(plan, &it);                                                        \
    for (size_t o = 0; o < plan->out_count; o++, etpu_reduce_iter_next_output(plan, &it)) { \
      etpu_reduce_iter_begin(&it);                                                           \
      type cur = (init);                                                                     \
      for (size_t r = 0; r < plan->reduce_count; r++) {                                      \
        if (r) etpu_reduce_iter_step(plan, &it);                                             \
        const type v = src[it.off];                                                          \
        cur = v > cur ? v : cur;                                                             \
      }                                                                                      \
      dst[o] = cur;                                                                          \
    }                                                                                        \
  } while (0)

etpu_status etpu_reduce_max(etpu_dtype type, const etpu_reduce_plan *plan, const void *in, void *out) {
  static const char kname[] = "reduce_max";
  etpu_status st = etpu_tcheck_ptrs(kname, plan, in, out);
  if (st != ETPU_OK) return st;
  if ((st = etpu_tcheck_reduce(kname, plan)) != ETPU_OK) return st;
  switch (type) {
    case ETPU_INT8: ETPU_REDUCE_LOOP(int8_t, INT8_MIN); break;
    case ETPU_UINT8: ETPU_REDUCE_LOOP(uint8_t, 0); break;
    case ETPU_INT16: ETPU_REDUCE_LOOP(int16_t, INT16_MIN); break;
    case ETPU_INT32: ETPU_REDUCE_LOOP(int32_t, INT32_MIN); break;
    case ETPU_INT64: ETPU_REDUCE_LOOP(int64_t, INT64_MIN); break;
    case ETPU_FLOAT32: ETPU_REDUCE_LOOP(float, -FLT_MAX); break;
    default:
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: type %s is not supported", kname, etpu_dtype_name(type));
  }
  return ETPU_OK;
}
