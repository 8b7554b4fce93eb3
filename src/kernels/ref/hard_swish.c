/*
 * hard_swish.c — HARD_SWISH, x·relu6(x + 3)/6. Quantized: TFLite's
 * reference_ops::HardSwish, int16 fixed point. The input, centered and
 * shifted left by 7 ("hires" scale s_in/128), is (1) multiplied by a Q15
 * output multiplier (value on the output scale before the final shift) and
 * (2) rescaled, with saturation, to a "reluish" value where 3.0 ↔ 32768,
 * mapped from [−1, 1] to [0, 1]; the product of the two (truncating
 * doubling high mul) is shifted right by the output exponent, + zp_out, and
 * clamped.
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/requant.h"

/* TFLite DownScaleInt32ToInt16Multiplier. */
static int16_t down_scale(int32_t m) {
  if (m >= INT32_MAX - (1 << 15)) return INT16_MAX;
  return (int16_t)((m + (1 << 15)) >> 16);
}

etpu_status etpu_hard_swish_params_init(float input_scale, int32_t input_zero_point, float output_scale,
                                        int32_t output_zero_point, etpu_hard_swish_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "hard swish params: NULL argument");
  if (!isfinite(input_scale) || !(input_scale > 0.0f) || !isfinite(output_scale) || !(output_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "hard swish params: scales %g, %g must be finite and > 0",
                     (double)input_scale, (double)output_scale);
  const float hires_input_scale = (1.0f / 128.0f) * input_scale;
  const float reluish_scale = 3.0f / 32768.0f;
  const float output_multiplier = hires_input_scale / output_scale;
  const float reluish_multiplier = hires_input_scale / reluish_scale;
  int32_t om, oe, rm, re;
  etpu_status st = etpu_quantize_multiplier((double)output_multiplier, 0, &om, &oe);
  if (st == ETPU_OK) st = etpu_quantize_multiplier((double)reluish_multiplier, 0, &rm, &re);
  if (st != ETPU_OK) return st;
  if (oe > 0)
    return etpu_fail(ETPU_UNSUPPORTED, "hard swish: output multiplier %g >= 1 (TFLite requires exponent <= 0)",
                     (double)output_multiplier);
  /* gemmlowp's int16 RoundingDivideByPOT misbehaves beyond 15 bits, and the
   * saturating left shift needs re <= 15: refuse such (absurd) scales. */
  if (oe < -15 || re < -15 || re > 15)
    return etpu_fail(ETPU_UNSUPPORTED, "hard swish: multipliers %g, %g out of range", (double)output_multiplier,
                     (double)reluish_multiplier);
  params_out->input_zero_point = input_zero_point;
  params_out->output_zero_point = output_zero_point;
  params_out->output_multiplier = down_scale(om);
  params_out->output_exponent = oe;
  params_out->reluish_multiplier = down_scale(rm);
  params_out->reluish_exponent = re;
  return ETPU_OK;
}

static inline int16_t sat16(int32_t v) { return (int16_t)(v < INT16_MIN ? INT16_MIN : (v > INT16_MAX ? INT16_MAX : v)); }

/* gemmlowp SaturatingRoundingDoublingHighMul on int16. */
static inline int16_t srdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  const int32_t ab = (int32_t)a * (int32_t)b;
  const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
  return (int16_t)((ab + nudge) / (1 << 15));
}

/* TFLite SaturatingDoublingHighMul (truncating) on int16. */
static inline int16_t sdhm16(int16_t a, int16_t b) {
  if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
  return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* RoundingDivideByPOT on int16 (exponent in [0, 15]). */
static inline int16_t rdbpot16(int16_t x, int e) {
  const int32_t mask = (1 << e) - 1;
  const int32_t rem = x & mask;
  const int32_t thr = (mask >> 1) + (x < 0 ? 1 : 0);
  return (int16_t)((x >> e) + (rem > thr ? 1 : 0));
}

static inline int32_t hard_swish_one(const etpu_hard_swish_params *p, int32_t q, int32_t lo, int32_t hi) {
  const int16_t x = (int16_t)(q - p->input_zero_point);
  const int16_t hires = (int16_t)(x * 128);
  const int16_t preshift_out = srdhm16(hires, p->output_multiplier);
  int16_t reluish = hires;
  if (p->reluish_exponent > 0) reluish = sat16((int32_t)reluish * (1 << (p->reluish_exponent - 1)));
  reluish = srdhm16(reluish, p->reluish_multiplier);
  if (p->reluish_exponent > 0) reluish = sat16((int32_t)reluish * 2);
  if (p->reluish_exponent < 0) reluish = rdbpot16(reluish, -p->reluish_exponent);
  reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
  const int16_t pre = sdhm16(reluish, preshift_out);
  int32_t v = rdbpot16(pre, -p->output_exponent);
  v = (int16_t)(v + p->output_zero_point);
  return v < lo ? lo : (v > hi ? hi : v);
}

static etpu_status check(const char *k, const etpu_hard_swish_params *p, const void *in, const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (p->output_exponent > 0 || p->output_exponent < -15 || p->reluish_exponent > 15 || p->reluish_exponent < -15)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: exponents %d, %d out of range", k, p->output_exponent,
                     p->reluish_exponent);
  return ETPU_OK;
}

etpu_status etpu_hard_swish_s8(const etpu_hard_swish_params *params, size_t size, const int8_t *input,
                               int8_t *output) {
  etpu_status st = check("etpu_hard_swish_s8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) output[i] = (int8_t)hard_swish_one(params, input[i], -128, 127);
  return ETPU_OK;
}

etpu_status etpu_hard_swish_u8(const etpu_hard_swish_params *params, size_t size, const uint8_t *input,
                               uint8_t *output) {
  etpu_status st = check("etpu_hard_swish_u8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) output[i] = (uint8_t)hard_swish_one(params, input[i], 0, 255);
  return ETPU_OK;
}

etpu_status etpu_hard_swish_f32(size_t size, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_hard_swish_f32: NULL argument");
  for (size_t i = 0; i < size; i++) {
    const float x = input[i];
    float r = x + 3.0f;
    r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
    output[i] = x * r / 6.0f;
  }
  return ETPU_OK;
}
