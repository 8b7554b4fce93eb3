/*
 * pow.c — POW with broadcasting (TFLite pow.cc, reference Pow /
 * BroadcastPow4DSlow): float32 is std::pow on two floats, i.e. powf; int32
 * is TFLite's IntegerPow (square and multiply over the exponent's bits),
 * whose products wrap here as TFLite's int multiply does on every target it
 * runs on. A negative int32 exponent is refused, as TFLite's Eval refuses it.
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_pow_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out) {
  etpu_status st = etpu_tcheck_binary("pow_f32", plan, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, powf(in1[it.off1], in2[it.off2]));
  return ETPU_OK;
}

etpu_status etpu_pow_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2, int32_t *out) {
  etpu_status st = etpu_tcheck_binary("pow_s32", plan, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  etpu_bcast_iter it = {{0}, 0, 0};
  for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {
    int32_t e = in2[it.off2];
    if (e < 0)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "pow_s32: exponent %d at output %zu is negative (integer POW needs >= 0)",
                       e, i);
    uint32_t base = (uint32_t)in1[it.off1], r = 1;
    for (; e; e >>= 1) {
      if (e & 1) r *= base;
      base *= base;
    }
    out[i] = (int32_t)r;
  }
  return ETPU_OK;
}
