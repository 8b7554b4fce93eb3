/*
 * softmax.c — SOFTMAX over the last axis, in the two arithmetics of
 * TFLITE.md §7.7:
 *
 *  (a) the TFLite reference / TFLite Micro fixed point: per row, the max;
 *      d = x − max scaled by beta·s_in into Q5.26; exp(d) (gemmlowp) summed in
 *      Q12.19; the reciprocal of the sum by Newton–Raphson; each output
 *      RoundingDivideByPOT(recip·exp(d), bits_over_unit + 31 − out_bits) +
 *      the type minimum. Elements with d < diff_min give the type minimum.
 *  (b) TFLite's builtin optimized kernel: a float table of expf(−s_in·beta·v)
 *      for v = 0..255, a float sum, p = t·(1/(sum·s_out)), rounded.
 *
 * Plus the float32 softmax.
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/fixedpoint.h"
#include "kernels/requant.h"

enum { kScaledDiffIntegerBits = 5, kAccumulationIntegerBits = 12 };

etpu_status etpu_softmax_params_init(double beta, double input_scale, etpu_softmax_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax params: NULL argument");
  const double max_real = 2147483647.0; /* (1 << 31) − 1, double-rounding build */
  double m = beta * input_scale * (double)(1 << (31 - kScaledDiffIntegerBits));
  if (!isfinite(m) || !(m > 1.0))
    return etpu_fail(ETPU_UNSUPPORTED, "softmax: beta %g · input scale %g is too small for the fixed-point kernel",
                     beta, input_scale);
  if (m > max_real) m = max_real;
  int32_t mult, shift;
  etpu_status st = etpu_quantize_multiplier(m, 0, &mult, &shift);
  if (st != ETPU_OK) return st;
  if (shift < 0 || shift > 31)
    return etpu_fail(ETPU_UNSUPPORTED, "softmax: multiplier shift %d out of range", (int)shift);
  params_out->input_multiplier = mult;
  params_out->input_left_shift = shift;
  params_out->diff_min = -etpu_fp_input_radius(kScaledDiffIntegerBits, shift, 31);
  return ETPU_OK;
}

static etpu_status check_fixed(const char *k, const etpu_softmax_params *p, int32_t outer, int32_t depth,
                               const void *in, const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (outer < 1 || depth < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d rows of %d: both must be >= 1", k, outer, depth);
  if (p->input_left_shift < 0 || p->input_left_shift > 31 || p->diff_min > 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: left shift %d / diff_min %d out of range", k, p->input_left_shift,
                     p->diff_min);
  return ETPU_OK;
}

/* exp(beta·s_in·d) in Q0 for d = x − max <= 0 (diff >= diff_min). */
static inline int32_t exp_of_diff(const etpu_softmax_params *p, int32_t diff) {
  /* MultiplyByQuantizedMultiplierGreaterThanOne: SRDHM(d·2^shift, m). */
  const int32_t rescaled = etpu_mbqm_double_round(diff, p->input_multiplier, p->input_left_shift);
  return etpu_fp_exp_on_negative_values(rescaled, kScaledDiffIntegerBits);
}

/* One generic row loop over the element types; OUT_MIN/OUT_MAX are the
 * output type's range and OUT_BITS its width. */
#define ETPU_SOFTMAX_FIXED(NAME, IN_T, IN_MIN, OUT_T, OUT_MIN, OUT_MAX, OUT_BITS)                               \
  etpu_status NAME(const etpu_softmax_params *params, int32_t outer_size, int32_t depth, const IN_T *input,     \
                   OUT_T *output) {                                                                             \
    etpu_status st = check_fixed(#NAME, params, outer_size, depth, input, output);                              \
    if (st != ETPU_OK) return st;                                                                               \
    for (int32_t i = 0; i < outer_size; i++) {                                                                  \
      const IN_T *x = input + (size_t)i * (size_t)depth;                                                        \
      OUT_T *y = output + (size_t)i * (size_t)depth;                                                            \
      int32_t max_in_row = IN_MIN;                                                                              \
      for (int32_t c = 0; c < depth; c++)                                                                       \
        if (x[c] > max_in_row) max_in_row = x[c];                                                               \
      uint32_t sum_of_exps = 0; /* Q12.19, wrapping like TFLite's int32 */                                      \
      for (int32_t c = 0; c < depth; c++) {                                                                     \
        const int32_t diff = (int32_t)x[c] - max_in_row;                                                        \
        if (diff >= params->diff_min)                                                                           \
          sum_of_exps += (uint32_t)etpu_fp_rescale(exp_of_diff(params, diff), 0, kAccumulationIntegerBits);     \
      }                                                                                                         \
      int bits_over_unit;                                                                                       \
      const int32_t shifted_scale = etpu_fp_reciprocal((int32_t)sum_of_exps, kAccumulationIntegerBits,          \
                                                       &bits_over_unit);                                        \
      const int exponent = bits_over_unit + 31 - (OUT_BITS);                                                    \
      for (int32_t c = 0; c < depth; c++) {                                                                     \
        const int32_t diff = (int32_t)x[c] - max_in_row;                                                        \
        int32_t v = OUT_MIN;                                                                                    \
        if (diff >= params->diff_min) {                                                                         \
          const int32_t prod = etpu_sat_rounding_doubling_high_mul(shifted_scale, exp_of_diff(params, diff));   \
          const int32_t unsat = exponent >= 0 && exponent <= 31 ? etpu_rounding_divide_by_pot(prod, exponent)   \
                                                                : (exponent > 31 ? 0 : prod);                   \
          int64_t s = (int64_t)unsat + (OUT_MIN);                                                               \
          v = (int32_t)(s < (OUT_MIN) ? (OUT_MIN) : (s > (OUT_MAX) ? (OUT_MAX) : s));                           \
        }                                                                                                       \
        y[c] = (OUT_T)v;                                                                                        \
      }                                                                                                         \
    }                                                                                                           \
    return ETPU_OK;                                                                                             \
  }

ETPU_SOFTMAX_FIXED(etpu_softmax_s8, int8_t, -128, int8_t, -128, 127, 8)
ETPU_SOFTMAX_FIXED(etpu_softmax_u8, uint8_t, 0, uint8_t, 0, 255, 8)
ETPU_SOFTMAX_FIXED(etpu_softmax_s8_s16, int8_t, -128, int16_t, -32768, 32767, 16)

/* ---- (b) the float table -------------------------------------------------- */

etpu_status etpu_softmax_lut_params_init(float beta, float input_scale, float output_scale,
                                         int32_t output_zero_point, etpu_softmax_lut_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax table: NULL argument");
  if (!isfinite(beta) || !isfinite(input_scale) || !(input_scale > 0.0f) || !isfinite(output_scale) ||
      !(output_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax table: beta %g, input scale %g, output scale %g", (double)beta,
                     (double)input_scale, (double)output_scale);
  const float scale = -input_scale * beta;
  for (int32_t v = 0; v <= 255; v++) params_out->table[255 - v] = expf(scale * (float)v);
  params_out->output_scale = output_scale;
  params_out->output_zero_point = output_zero_point;
  return ETPU_OK;
}

static etpu_status check_lut(const char *k, const etpu_softmax_lut_params *p, int32_t outer, int32_t depth,
                             const void *in, const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (outer < 1 || depth < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d rows of %d: both must be >= 1", k, outer, depth);
  return ETPU_OK;
}

/* float → int32 as C++'s static_cast on the values met here (|v| < 2^31). */
static inline int32_t to_i32(float v) {
  if (!(v == v)) return 0;
  if (v >= 2147483520.0f) return INT32_MAX;
  if (v <= -2147483648.0f) return INT32_MIN;
  return (int32_t)v;
}

#define ETPU_SOFTMAX_LUT(NAME, T, TMIN, TMAX, QUANTIZE)                                                          \
  etpu_status NAME(const etpu_softmax_lut_params *params, int32_t outer_size, int32_t depth, const T *input,   \
                   T *output) {                                                                                \
    etpu_status st = check_lut(#NAME, params, outer_size, depth, input, output);                               \
    if (st != ETPU_OK) return st;                                                                              \
    for (int32_t i = 0; i < outer_size; i++) {                                                                 \
      const T *x = input + (size_t)i * (size_t)depth;                                                          \
      T *y = output + (size_t)i * (size_t)depth;                                                               \
      int32_t max_val = TMIN;                                                                                  \
      for (int32_t c = 0; c < depth; c++)                                                                      \
        if (x[c] > max_val) max_val = x[c];                                                                    \
      /* table[255 − max + x] = expf(−s·beta·(max − x)); the index is in                                       \
       * [0, 255] since max − 255 <= x <= max */                                                               \
      const float *t = params->table;                                                                          \
      const int32_t base = 255 - max_val;                                                                      \
      float sum_exp = 0.0f;                                                                                    \
      for (int32_t c = 0; c < depth; c++) sum_exp += t[base + x[c]];                                           \
      const float inv_sum_exp = 1.0f / (sum_exp * params->output_scale);                                       \
      for (int32_t c = 0; c < depth; c++) {                                                                    \
        const float p = t[base + x[c]] * inv_sum_exp;                                                          \
        int64_t q = QUANTIZE;                                                                                  \
        y[c] = (T)(q < (TMIN) ? (TMIN) : (q > (TMAX) ? (TMAX) : q));                                           \
      }                                                                                                        \
    }                                                                                                          \
    return ETPU_OK;                                                                                            \
  }

ETPU_SOFTMAX_LUT(etpu_softmax_lut_s8, int8_t, -128, 127, (int64_t)to_i32(roundf(p)) + params->output_zero_point)
ETPU_SOFTMAX_LUT(etpu_softmax_lut_u8, uint8_t, 0, 255, (int64_t)to_i32(p + 0.5f))

/* ---- float32 --------------------------------------------------------------- */

etpu_status etpu_softmax_f32(float beta, int32_t outer_size, int32_t depth, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_softmax_f32: NULL argument");
  if (outer_size < 1 || depth < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_softmax_f32: %d rows of %d: both must be >= 1", outer_size, depth);
  for (int32_t i = 0; i < outer_size; i++) {
    const float *x = input + (size_t)i * (size_t)depth;
    float *y = output + (size_t)i * (size_t)depth;
    float max = x[0];
    for (int32_t c = 1; c < depth; c++)
      if (x[c] > max) max = x[c];
    float sum = 0.0f;
    for (int32_t c = 0; c < depth; c++) {
      y[c] = expf((x[c] - max) * beta);
      sum += y[c];
    }
    for (int32_t c = 0; c < depth; c++) y[c] /= sum;
  }
  return ETPU_OK;
}
