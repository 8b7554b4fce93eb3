/*
 * l2norm.c — L2_NORMALIZATION over the last axis (TFLITE.md §7.9): the
 * integer sum of squares of x − zp, its inverse square root as a fixed-point
 * multiplier (gemmlowp Newton–Raphson, fixedpoint.h), then per element
 * int8: MBQM(x − zp, m, shift + 7) → (1/128, 0);
 * uint8: 128 + RoundingDivideByPOT(SRDHM(128·(x − zp), m), −shift) → (1/128, 128).
 * No epsilon in the quantized path; float32 divides by max(norm, epsilon).
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/fixedpoint.h"
#include "kernels/requant.h"

static etpu_status check(const char *k, int32_t zp, int32_t lo, int32_t hi, int32_t outer, int32_t depth,
                         const void *in, const void *out) {
  if (!in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (outer < 1 || depth < 1 || depth >= 32768)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d rows of %d: need >= 1 rows of 1..32767", k, outer, depth);
  if (zp < lo || zp > hi) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: zero point %d outside [%d, %d]", k, zp, lo, hi);
  return ETPU_OK;
}

etpu_status etpu_l2norm_s8(int32_t input_zero_point, int32_t outer_size, int32_t depth, const int8_t *input,
                           int8_t *output) {
  etpu_status st = check("etpu_l2norm_s8", input_zero_point, -128, 127, outer_size, depth, input, output);
  if (st != ETPU_OK) return st;
  for (int32_t i = 0; i < outer_size; i++) {
    const int8_t *x = input + (size_t)i * (size_t)depth;
    int8_t *y = output + (size_t)i * (size_t)depth;
    int32_t acc = 0; /* depth < 2^15 and (x − zp)² < 2^16: no overflow */
    for (int32_t c = 0; c < depth; c++) {
      const int32_t d = (int32_t)x[c] - input_zero_point;
      acc += d * d;
    }
    int32_t m;
    int shift;
    etpu_fp_inv_sqrt_multiplier_exp(acc, -1, &m, &shift);
    for (int32_t c = 0; c < depth; c++) {
      const int32_t d = (int32_t)x[c] - input_zero_point;
      int32_t v = etpu_mbqm_double_round(d, m, shift + 7);
      y[c] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
  }
  return ETPU_OK;
}

etpu_status etpu_l2norm_u8(int32_t input_zero_point, int32_t outer_size, int32_t depth, const uint8_t *input,
                           uint8_t *output) {
  etpu_status st = check("etpu_l2norm_u8", input_zero_point, 0, 255, outer_size, depth, input, output);
  if (st != ETPU_OK) return st;
  for (int32_t i = 0; i < outer_size; i++) {
    const uint8_t *x = input + (size_t)i * (size_t)depth;
    uint8_t *y = output + (size_t)i * (size_t)depth;
    int32_t acc = 0;
    for (int32_t c = 0; c < depth; c++) {
      const int32_t d = (int32_t)x[c] - input_zero_point;
      acc += d * d;
    }
    int32_t m;
    int shift;
    etpu_fp_inv_sqrt_multiplier_exp(acc, -1, &m, &shift);
    for (int32_t c = 0; c < depth; c++) {
      const int32_t d = (int32_t)x[c] - input_zero_point;
      /* MultiplyByQuantizedMultiplierSmallerThanOneExp(128·d, m, shift), shift <= 0 */
      const int32_t r = etpu_rounding_divide_by_pot(etpu_sat_rounding_doubling_high_mul(128 * d, m), -shift);
      const int32_t v = 128 + r;
      y[c] = (uint8_t)(v < 0 ? 0 : (v > 255 ? 255 : v));
    }
  }
  return ETPU_OK;
}

etpu_status etpu_l2norm_f32(float epsilon, int32_t outer_size, int32_t depth, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_l2norm_f32: NULL argument");
  if (outer_size < 1 || depth < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_l2norm_f32: %d rows of %d: both must be >= 1", outer_size, depth);
  for (int32_t i = 0; i < outer_size; i++) {
    const float *x = input + (size_t)i * (size_t)depth;
    float *y = output + (size_t)i * (size_t)depth;
    float sq = 0.0f;
    for (int32_t c = 0; c < depth; c++) sq += x[c] * x[c];
    float norm = sqrtf(sq);
    if (norm < epsilon) norm = epsilon;
    for (int32_t c = 0; c < depth; c++) y[c] = x[c] / norm;
  }
  return ETPU_OK;
}
