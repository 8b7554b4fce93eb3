/*
 * sub.c — SUB: int8/uint8 (the ADD engine of add.c with the difference:
 * TFLITE schemes subtract the rescaled inputs, XNNPACK adds with a negated
 * second multiplier) and float32/int32/int64 with broadcasting.
 */
#include "kernels/ref/tensor_util.h"

etpu_status etpu_sub_s8(const etpu_addsub_params *params, const etpu_bcast *plan, const int8_t *in1,
                        const int8_t *in2, int8_t *out) {
  return etpu_addsub_q8("sub_s8", true, true, params, plan, in1, in2, out);
}

etpu_status etpu_sub_u8(const etpu_addsub_params *params, const etpu_bcast *plan, const uint8_t *in1,
                        const uint8_t *in2, uint8_t *out) {
  return etpu_addsub_q8("sub_u8", true, false, params, plan, in1, in2, out);
}

etpu_status etpu_sub_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1, const float *in2,
                         float *out) {
  etpu_status st = etpu_tcheck_binary("sub_f32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_f(in1[it.off1] - in2[it.off2], act));
  return ETPU_OK;
}

etpu_status etpu_sub_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                         int32_t *out) {
  etpu_status st = etpu_tcheck_binary("sub_s32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, (int32_t)etpu_clamp_int(etpu_wrap_sub32(in1[it.off1], in2[it.off2]), act));
  return ETPU_OK;
}

etpu_status etpu_sub_s64(const etpu_act_int *act, const etpu_bcast *plan, const int64_t *in1, const int64_t *in2,
                         int64_t *out) {
  etpu_status st = etpu_tcheck_binary("sub_s64", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_int(etpu_wrap_sub64(in1[it.off1], in2[it.off2]), act));
  return ETPU_OK;
}
