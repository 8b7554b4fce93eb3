/*
 * leaky_relu.c — LEAKY_RELU: x for x >= 0, alpha·x otherwise. Quantized
 * (TFLite / TFLM QuantizeLeakyRelu): x' = x − zp_in; x' >= 0 →
 * zp_out + MBQM(x', s_in/s_out), else zp_out + MBQM(x', s_in·alpha/s_out),
 * clamped to the type (double rounding). TFLite forms s_in·alpha/s_out in
 * float32 before widening it to double; so do we.
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/requant.h"

etpu_status etpu_leaky_relu_params_init(float alpha, float input_scale, int32_t input_zero_point, float output_scale,
                                        int32_t output_zero_point, etpu_leaky_relu_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "leaky relu params: NULL argument");
  if (!isfinite(alpha) || !isfinite(input_scale) || !(input_scale > 0.0f) || !isfinite(output_scale) ||
      !(output_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "leaky relu params: alpha %g, scales %g, %g", (double)alpha,
                     (double)input_scale, (double)output_scale);
  const float alpha_m = input_scale * alpha / output_scale;
  const float identity_m = input_scale / output_scale;
  int32_t ma, sa, mi, si;
  etpu_status st = etpu_quantize_multiplier((double)alpha_m, 0, &ma, &sa);
  if (st == ETPU_OK) st = etpu_quantize_multiplier((double)identity_m, 0, &mi, &si);
  if (st != ETPU_OK) return st;
  if (sa > 31 || sa < -31 || si > 31 || si < -31)
    return etpu_fail(ETPU_UNSUPPORTED, "leaky relu: multipliers %g, %g out of range", (double)alpha_m,
                     (double)identity_m);
  params_out->input_zero_point = input_zero_point;
  params_out->output_zero_point = output_zero_point;
  params_out->multiplier_alpha = ma;
  params_out->shift_alpha = sa;
  params_out->multiplier_identity = mi;
  params_out->shift_identity = si;
  return ETPU_OK;
}

static etpu_status check(const char *k, const etpu_leaky_relu_params *p, const void *in, const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (p->shift_alpha < -31 || p->shift_alpha > 31 || p->shift_identity < -31 || p->shift_identity > 31)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: shifts %d, %d out of range", k, p->shift_alpha, p->shift_identity);
  return ETPU_OK;
}

static inline int32_t leaky_one(const etpu_leaky_relu_params *p, int32_t q, int32_t lo, int32_t hi) {
  const int32_t x = q - p->input_zero_point;
  const int32_t r = x >= 0 ? etpu_mbqm_double_round(x, p->multiplier_identity, p->shift_identity)
                           : etpu_mbqm_double_round(x, p->multiplier_alpha, p->shift_alpha);
  const int64_t v = (int64_t)p->output_zero_point + r;
  return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

etpu_status etpu_leaky_relu_s8(const etpu_leaky_relu_params *params, size_t size, const int8_t *input,
                               int8_t *output) {
  etpu_status st = check("etpu_leaky_relu_s8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) output[i] = (int8_t)leaky_one(params, input[i], -128, 127);
  return ETPU_OK;
}

etpu_status etpu_leaky_relu_u8(const etpu_leaky_relu_params *params, size_t size, const uint8_t *input,
                               uint8_t *output) {
  etpu_status st = check("etpu_leaky_relu_u8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) output[i] = (uint8_t)leaky_one(params, input[i], 0, 255);
  return ETPU_OK;
}

etpu_status etpu_leaky_relu_f32(float alpha, size_t size, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_leaky_relu_f32: NULL argument");
  for (size_t i = 0; i < size; i++) {
    const float x = input[i];
    output[i] = x > 0.0f ? x : x * alpha;
  }
  return ETPU_OK;
}
