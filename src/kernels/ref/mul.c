/*
 * mul.c — MUL: etpu_mul_params_init and the int8/uint8/float32/int32/int64
 * kernels, with broadcasting (TFLITE.md §7.4).
 *
 * Quantized: acc = (x1 − zp1)·(x2 − zp2); out = clamp(requant(acc) + zp_out)
 * where requant is requant.h's etpu_requant_output in the scheme's mode:
 * TFLITE (TFLite mul.cc, TFLM mul_common.cc): QuantizeMultiplier of
 * s1·s2/s_out in double, double rounding. XNNPACK (qs8/qu8 vmul fp32,
 * xnn_init_qs8_mul_minmax_scalar_params): the float32 scale (s1·s2)/s_out,
 * acc·scale rounded half to even. A TFLITE product scale of 2^31 or more
 * saturates (tensor_ops.h).
 */
#include <math.h>
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/ref/tensor_util.h"

etpu_status etpu_mul_params_init(etpu_mul_scheme scheme, const etpu_qparam *in1, const etpu_qparam *in2,
                                 const etpu_qparam *out, int32_t activation_min, int32_t activation_max,
                                 etpu_mul_params *params_out) {
  if (!in1 || !in2 || !out || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "mul params: NULL argument");
  if (activation_min > activation_max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mul params: activation range [%d, %d] is empty", activation_min,
                     activation_max);
  if (in1->zero_point < -255 || in1->zero_point > 255 || in2->zero_point < -255 || in2->zero_point > 255 ||
      out->zero_point < -255 || out->zero_point > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mul params: zero points %d, %d, %d are not 8-bit", in1->zero_point,
                     in2->zero_point, out->zero_point);
  etpu_mul_params p;
  memset(&p, 0, sizeof p);
  etpu_requant_mode mode;
  switch (scheme) {
    case ETPU_MUL_TFLITE: mode = ETPU_REQUANT_DOUBLE_ROUND; break;
    case ETPU_MUL_XNNPACK: mode = ETPU_REQUANT_FP32; break;
    default: return etpu_fail(ETPU_INVALID_ARGUMENT, "mul params: unknown scheme %d", (int)scheme);
  }
  const double real = (double)in1->scale * (double)in2->scale / (double)out->scale;
  if (scheme == ETPU_MUL_TFLITE && isfinite(real) && real >= 0x1.0p+31) {
    p.saturate = true; /* QuantizeMultiplier's shift > 31: saturated, see tensor_ops.h */
  } else {
    etpu_status st = etpu_requant_init(in1->scale, in2->scale, out->scale, mode, &p.rq);
    if (st != ETPU_OK) return etpu_fail_prefix(st, "mul params");
  }
  if (scheme == ETPU_MUL_XNNPACK && !(p.rq.scale >= 0x1.0p-16f && p.rq.scale < 0x1.0p+8f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mul params: XNNPACK needs a product scale in [2^-16, 2^8); got %g",
                     (double)p.rq.scale);
  p.mode = mode;
  p.input1_offset = -in1->zero_point;
  p.input2_offset = -in2->zero_point;
  p.output_offset = out->zero_point;
  p.activation_min = activation_min;
  p.activation_max = activation_max;
  *params_out = p;
  return ETPU_OK;
}

static etpu_status mul_q8(const char *kname, bool is_signed, const etpu_mul_params *p, const etpu_bcast *plan,
                          const void *in1, const void *in2, void *out) {
  etpu_status st = etpu_tcheck_binary(kname, p, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  if ((st = etpu_tcheck_act8(kname, p->activation_min, p->activation_max, lo, hi)) != ETPU_OK) return st;
  const etpu_requant_params rqp = {&p->rq, 1, p->mode};
  if (!p->saturate && (st = etpu_kcheck_quant(kname, &rqp, 1)) != ETPU_OK) return st;
  const int32_t zero = p->output_offset < p->activation_min   ? p->activation_min
                       : p->output_offset > p->activation_max ? p->activation_max
                                                              : p->output_offset;
  if (p->input1_offset < -255 || p->input1_offset > 255 || p->input2_offset < -255 || p->input2_offset > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input offsets %d, %d out of range", kname, p->input1_offset,
                     p->input2_offset);
  etpu_bcast_iter it = {{0}, 0, 0};
  for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {
    const int32_t x1 = is_signed ? ((const int8_t *)in1)[it.off1] : ((const uint8_t *)in1)[it.off1];
    const int32_t x2 = is_signed ? ((const int8_t *)in2)[it.off2] : ((const uint8_t *)in2)[it.off2];
    const int32_t acc = (x1 + p->input1_offset) * (x2 + p->input2_offset);
    const int32_t v =
        p->saturate ? (acc > 0 ? p->activation_max : acc < 0 ? p->activation_min : zero)
                    : etpu_requant_output(acc, &p->rq, p->mode, p->output_offset, p->activation_min, p->activation_max);
    if (is_signed) ((int8_t *)out)[i] = (int8_t)v;
    else ((uint8_t *)out)[i] = (uint8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_mul_s8(const etpu_mul_params *params, const etpu_bcast *plan, const int8_t *in1,
                        const int8_t *in2, int8_t *out) {
  return mul_q8("mul_s8", true, params, plan, in1, in2, out);
}

etpu_status etpu_mul_u8(const etpu_mul_params *params, const etpu_bcast *plan, const uint8_t *in1,
                        const uint8_t *in2, uint8_t *out) {
  return mul_q8("mul_u8", false, params, plan, in1, in2, out);
}

etpu_status etpu_mul_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1, const float *in2,
                         float *out) {
  etpu_status st = etpu_tcheck_binary("mul_f32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_f(in1[it.off1] * in2[it.off2], act));
  return ETPU_OK;
}

etpu_status etpu_mul_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                         int32_t *out) {
  etpu_status st = etpu_tcheck_binary("mul_s32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, (int32_t)etpu_clamp_int(etpu_wrap_mul32(in1[it.off1], in2[it.off2]), act));
  return ETPU_OK;
}

etpu_status etpu_mul_s64(const etpu_act_int *act, const etpu_bcast *plan, const int64_t *in1, const int64_t *in2,
                         int64_t *out) {
  etpu_status st = etpu_tcheck_binary("mul_s64", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_int(etpu_wrap_mul64(in1[it.off1], in2[it.off2]), act));
  return ETPU_OK;
}
