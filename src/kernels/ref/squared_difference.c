/*
 * squared_difference.c — SQUARED_DIFFERENCE with broadcasting.
 *
 * int8 (TFLite squared_difference.cc; TFLM the same): left shift 7;
 * twice_max = 2·max(s1, s2) and the ratios s_i/twice_max,
 * twice_max²/(2^14·s_out) in double; x_i' = (x_i − zp_i)·2^7;
 * u_i = MBQM(x_i', m_i, s_i); d = u_1 − u_2; out = clamp(MBQM(d², m_out,
 * s_out) + zp_out). uint8 (which TFLite does not offer) uses the same
 * formula on [0, 255]. float32: (a − b)²; int32: (a − b)² wrapping.
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_squared_difference_params_init(const etpu_qparam *in1, const etpu_qparam *in2,
                                                const etpu_qparam *out, int32_t activation_min,
                                                int32_t activation_max, etpu_addsub_params *params_out) {
  if (!in1 || !in2 || !out || !params_out)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "squared difference params: NULL argument");
  if (!(in1->scale > 0.0f && isfinite(in1->scale) && in2->scale > 0.0f && isfinite(in2->scale) &&
        out->scale > 0.0f && isfinite(out->scale)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "squared difference params: scales must be finite and > 0");
  if (activation_min > activation_max || in1->zero_point < -255 || in1->zero_point > 255 ||
      in2->zero_point < -255 || in2->zero_point > 255 || out->zero_point < -255 || out->zero_point > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "squared difference params: bad zero points or activation range");
  etpu_addsub_params p;
  memset(&p, 0, sizeof p);
  p.scheme = ETPU_ADDSUB_TFLITE;
  p.left_shift = 7;
  const double twice_max = 2.0 * (double)(in1->scale > in2->scale ? in1->scale : in2->scale);
  const double m1 = (double)in1->scale / twice_max, m2 = (double)in2->scale / twice_max;
  /* (1 << 14) · s_out is a float product in TFLite (exact: a power of two). */
  const double mo = twice_max * twice_max / (double)((float)(1 << 14) * out->scale);
  etpu_status st;
  if ((st = etpu_quantize_multiplier(m1, 0, &p.input1.multiplier, &p.input1.shift)) != ETPU_OK ||
      (st = etpu_quantize_multiplier(m2, 0, &p.input2.multiplier, &p.input2.shift)) != ETPU_OK ||
      (st = etpu_quantize_multiplier(mo, 0, &p.output.multiplier, &p.output.shift)) != ETPU_OK)
    return st;
  if (p.output.shift > 31)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "squared difference params: output ratio %g too large", mo);
  p.input1_offset = -in1->zero_point;
  p.input2_offset = -in2->zero_point;
  p.output_offset = out->zero_point;
  p.activation_min = activation_min;
  p.activation_max = activation_max;
  *params_out = p;
  return ETPU_OK;
}

static inline int32_t sqdiff_one(const etpu_addsub_params *p, int32_t x1, int32_t x2) {
  const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
  const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
  const int32_t d = etpu_mbqm_double_round(v1, p->input1.multiplier, p->input1.shift) -
                    etpu_mbqm_double_round(v2, p->input2.multiplier, p->input2.shift);
  /* |d| <= 510·2^7: d² < 2^31. */
  const int32_t o = etpu_mbqm_double_round(d * d, p->output.multiplier, p->output.shift);
  return etpu_clamp_i32((int64_t)o + p->output_offset, p->activation_min, p->activation_max);
}

static etpu_status sqdiff_q8(const char *kname, bool is_signed, const etpu_addsub_params *p,
                             const etpu_bcast *plan, const void *in1, const void *in2, void *out) {
  etpu_status st = etpu_tcheck_binary(kname, p, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  if ((st = etpu_tcheck_act8(kname, p->activation_min, p->activation_max, is_signed ? -128 : 0,
                             is_signed ? 127 : 255)) != ETPU_OK)
    return st;
  if (p->scheme != ETPU_ADDSUB_TFLITE || p->left_shift != 7 || p->input1.shift > 0 || p->input2.shift > 0 ||
      p->input1.shift < -31 || p->input2.shift < -31 || p->output.shift < -31 || p->output.shift > 31 ||
      p->input1_offset < -255 || p->input1_offset > 255 || p->input2_offset < -255 || p->input2_offset > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: parameters not from etpu_squared_difference_params_init", kname);
  etpu_bcast_iter it = {{0}, 0, 0};
  for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {
    if (is_signed)
      ((int8_t *)out)[i] = (int8_t)sqdiff_one(p, ((const int8_t *)in1)[it.off1], ((const int8_t *)in2)[it.off2]);
    else
      ((uint8_t *)out)[i] =
          (uint8_t)sqdiff_one(p, ((const uint8_t *)in1)[it.off1], ((const uint8_t *)in2)[it.off2]);
  }
  return ETPU_OK;
}

etpu_status etpu_squared_difference_s8(const etpu_addsub_params *params, const etpu_bcast *plan,
                                       const int8_t *in1, const int8_t *in2, int8_t *out) {
  return sqdiff_q8("squared_difference_s8", true, params, plan, in1, in2, out);
}

etpu_status etpu_squared_difference_u8(const etpu_addsub_params *params, const etpu_bcast *plan,
                                       const uint8_t *in1, const uint8_t *in2, uint8_t *out) {
  return sqdiff_q8("squared_difference_u8", false, params, plan, in1, in2, out);
}

static inline float sqdiff_f(float a, float b) {
  const float d = a - b;
  return d * d;
}

static inline int32_t sqdiff_i(int32_t a, int32_t b) {
  const int32_t d = etpu_wrap_sub32(a, b);
  return etpu_wrap_mul32(d, d);
}

etpu_status etpu_squared_difference_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out) {
  etpu_status st = etpu_tcheck_binary("squared_difference_f32", plan, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, sqdiff_f(in1[it.off1], in2[it.off2]));
  return ETPU_OK;
}

etpu_status etpu_squared_difference_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                                        int32_t *out) {
  etpu_status st = etpu_tcheck_binary("squared_difference_s32", plan, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, sqdiff_i(in1[it.off1], in2[it.off2]));
  return ETPU_OK;
}
