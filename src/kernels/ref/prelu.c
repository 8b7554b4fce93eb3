/*
 * prelu.c — PRELU: x for x >= 0, alpha·x otherwise, with alpha a tensor
 * broadcast to the input (usually one value per channel). Quantized (TFLite
 * reference BroadcastPrelu4DSlow): x' = x − zp_in; x' >= 0 →
 * MBQM(x', s_in/s_out), else MBQM(x'·(a − zp_a), s_in·s_a/s_out); + zp_out;
 * clamped to the type (double rounding). Shapes are 4-D, broadcast numpy
 * style (each input dimension equals the output's or is 1).
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/requant.h"

etpu_status etpu_prelu_params_init(float input_scale, int32_t input_zero_point, float alpha_scale,
                                   int32_t alpha_zero_point, float output_scale, int32_t output_zero_point,
                                   int float_ratios, etpu_prelu_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "prelu params: NULL argument");
  if (!isfinite(input_scale) || !(input_scale > 0.0f) || !isfinite(alpha_scale) || !(alpha_scale > 0.0f) ||
      !isfinite(output_scale) || !(output_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "prelu params: scales %g, %g, %g must be finite and > 0",
                     (double)input_scale, (double)alpha_scale, (double)output_scale);
  double r1, r2;
  if (float_ratios) {
    r1 = (double)(input_scale / output_scale);
    r2 = (double)(input_scale * alpha_scale / output_scale);
  } else {
    r1 = (double)input_scale / (double)output_scale;
    r2 = (double)input_scale * (double)alpha_scale / (double)output_scale;
  }
  int32_t m1, s1, m2, s2;
  etpu_status st = etpu_quantize_multiplier(r1, 0, &m1, &s1);
  if (st == ETPU_OK) st = etpu_quantize_multiplier(r2, 0, &m2, &s2);
  if (st != ETPU_OK) return st;
  if (s1 > 31 || s1 < -31 || s2 > 31 || s2 < -31)
    return etpu_fail(ETPU_UNSUPPORTED, "prelu: scale ratios %g, %g out of range", r1, r2);
  params_out->input_zero_point = input_zero_point;
  params_out->alpha_zero_point = alpha_zero_point;
  params_out->output_zero_point = output_zero_point;
  params_out->multiplier_identity = m1;
  params_out->shift_identity = s1;
  params_out->multiplier_alpha = m2;
  params_out->shift_alpha = s2;
  return ETPU_OK;
}

/* Strides of a broadcast operand: 0 along the dimensions it repeats. */
static etpu_status strides(const char *k, const char *what, const etpu_shape4 *s, const etpu_shape4 *out,
                           size_t st[4]) {
  size_t acc = 1;
  for (int d = 3; d >= 0; d--) {
    if (s->d[d] < 1) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s dimension %d is %d", k, what, d, s->d[d]);
    if (s->d[d] != out->d[d] && s->d[d] != 1)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s dimension %d is %d; the output's is %d", k, what, d, s->d[d],
                       out->d[d]);
    st[d] = s->d[d] == 1 ? 0 : acc;
    acc *= (size_t)s->d[d];
  }
  return ETPU_OK;
}

static etpu_status check(const char *k, const void *p, const etpu_shape4 *is, const void *in, const etpu_shape4 *as,
                         const void *al, const etpu_shape4 *os, const void *out, size_t si[4], size_t sa[4]) {
  if (!p || !is || !in || !as || !al || !os || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  for (int d = 0; d < 4; d++)
    if (os->d[d] < 1) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output dimension %d is %d", k, d, os->d[d]);
  etpu_status st = strides(k, "input", is, os, si);
  if (st == ETPU_OK) st = strides(k, "alpha", as, os, sa);
  return st;
}

#define ETPU_PRELU_LOOP(BODY)                                                                \
  for (int32_t b = 0; b < output_shape->d[0]; b++)                                           \
    for (int32_t y = 0; y < output_shape->d[1]; y++)                                         \
      for (int32_t x = 0; x < output_shape->d[2]; x++)                                       \
        for (int32_t c = 0; c < output_shape->d[3]; c++) {                                   \
          const size_t ii = b * si[0] + y * si[1] + x * si[2] + c * si[3];                   \
          const size_t ai = b * sa[0] + y * sa[1] + x * sa[2] + c * sa[3];                   \
          BODY;                                                                              \
          o++;                                                                               \
        }

static inline int32_t prelu_one(const etpu_prelu_params *p, int32_t q, int32_t a, int32_t lo, int32_t hi) {
  const int32_t x = q - p->input_zero_point;
  int32_t r;
  if (x >= 0) r = etpu_mbqm_double_round(x, p->multiplier_identity, p->shift_identity);
  else r = etpu_mbqm_double_round(x * (a - p->alpha_zero_point), p->multiplier_alpha, p->shift_alpha);
  const int64_t v = (int64_t)r + p->output_zero_point;
  return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

etpu_status etpu_prelu_s8(const etpu_prelu_params *params, const etpu_shape4 *input_shape, const int8_t *input,
                          const etpu_shape4 *alpha_shape, const int8_t *alpha, const etpu_shape4 *output_shape,
                          int8_t *output) {
  size_t si[4], sa[4];
  etpu_status st = check("etpu_prelu_s8", params, input_shape, input, alpha_shape, alpha, output_shape, output, si, sa);
  if (st != ETPU_OK) return st;
  int8_t *o = output;
  ETPU_PRELU_LOOP(*o = (int8_t)prelu_one(params, input[ii], alpha[ai], -128, 127))
  return ETPU_OK;
}

etpu_status etpu_prelu_u8(const etpu_prelu_params *params, const etpu_shape4 *input_shape, const uint8_t *input,
                          const etpu_shape4 *alpha_shape, const uint8_t *alpha, const etpu_shape4 *output_shape,
                          uint8_t *output) {
  size_t si[4], sa[4];
  etpu_status st = check("etpu_prelu_u8", params, input_shape, input, alpha_shape, alpha, output_shape, output, si, sa);
  if (st != ETPU_OK) return st;
  uint8_t *o = output;
  ETPU_PRELU_LOOP(*o = (uint8_t)prelu_one(params, input[ii], alpha[ai], 0, 255))
  return ETPU_OK;
}

etpu_status etpu_prelu_f32(const etpu_shape4 *input_shape, const float *input, const etpu_shape4 *alpha_shape,
                           const float *alpha, const etpu_shape4 *output_shape, float *output) {
  size_t si[4], sa[4];
  etpu_status st = check("etpu_prelu_f32", input, input_shape, input, alpha_shape, alpha, output_shape, output, si, sa);
  if (st != ETPU_OK) return st;
  float *o = output;
  ETPU_PRELU_LOOP(*o = input[ii] >= 0.0f ? input[ii] : input[ii] * alpha[ai])
  return ETPU_OK;
}
