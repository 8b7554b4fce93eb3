/*
 * div.c — DIV with broadcasting: float32 x/y (IEEE; XNNPACK's vdiv gives
 * the same correctly rounded quotient) then the fused-activation clamp;
 * int32 C division (truncation toward zero, TFLite reference Div) then the
 * clamp. A zero int32 divisor is reported (TFLite checks it at eval too).
 */
#include "kernels/ref/tensor_util.h"

etpu_status etpu_div_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1, const float *in2,
                         float *out) {
  etpu_status st = etpu_tcheck_binary("div_f32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_f(in1[it.off1] / in2[it.off2], act));
  return ETPU_OK;
}

etpu_status etpu_div_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                         int32_t *out) {
  etpu_status st = etpu_tcheck_binary("div_s32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  etpu_bcast_iter it = {{0}, 0, 0};
  for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {
    const int32_t a = in1[it.off1], b = in2[it.off2];
    if (b == 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "div_s32: division by zero at output %zu", i);
    /* INT32_MIN / −1 overflows in C; two's complement hardware wraps it. */
    const int64_t q = (int64_t)a / (int64_t)b;
    out[i] = (int32_t)etpu_clamp_int((int64_t)(int32_t)(uint32_t)(uint64_t)q, act);
  }
  return ETPU_OK;
}
