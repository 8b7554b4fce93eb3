/*
 * lut.c — 256-entry lookup tables for 8-bit element-wise functions: how
 * TFLite's builtin kernels evaluate quantized LOGISTIC and TANH (TFLITE.md
 * §7.8, profile litert), and how XNNPACK builds its tables (round half to
 * even). The table is built once from float32 arithmetic; evaluation is one
 * load per element.
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/requant.h"

static float apply(etpu_lut_fn fn, float x) {
  switch (fn) {
    case ETPU_LUT_LOGISTIC: return 1.0f / (1.0f + expf(-x));
    case ETPU_LUT_TANH: return tanhf(x);
  }
  return 0.0f;
}

etpu_status etpu_lut_init(etpu_lut_fn fn, etpu_lut_rounding rounding, int is_signed, float input_scale,
                          int32_t input_zero_point, float output_scale, int32_t output_zero_point, uint8_t table[256]) {
  if (!table) return etpu_fail(ETPU_INVALID_ARGUMENT, "lut: NULL table");
  if (fn != ETPU_LUT_LOGISTIC && fn != ETPU_LUT_TANH)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "lut: unknown function %d", (int)fn);
  if (rounding != ETPU_LUT_ROUND_HALF_AWAY && rounding != ETPU_LUT_ROUND_HALF_EVEN)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "lut: unknown rounding %d", (int)rounding);
  if (!isfinite(input_scale) || !(input_scale > 0.0f) || !isfinite(output_scale) || !(output_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "lut: scales %g, %g must be finite and > 0", (double)input_scale,
                     (double)output_scale);
  const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
  if (input_zero_point < qmin || input_zero_point > qmax || output_zero_point < qmin || output_zero_point > qmax)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "lut: zero points %d, %d outside [%d, %d]", input_zero_point,
                     output_zero_point, qmin, qmax);
  const float inverse_scale = 1.0f / output_scale;
  for (int32_t q = qmin; q <= qmax; q++) {
    const float x = input_scale * (float)(q - input_zero_point);
    const float y = apply(fn, x);
    int32_t v;
    if (rounding == ETPU_LUT_ROUND_HALF_AWAY) {
      /* TFLite LUTPopulate: round(y · (1/s_out)), + zp in float, truncated. */
      const float r = roundf(y * inverse_scale) + (float)output_zero_point;
      v = r > 1e6f ? qmax : (r < -1e6f ? qmin : (int32_t)r);
    } else {
      /* XNNPACK: y / s_out clamped to [qmin − zp, qmax − zp], half to even. */
      float r = y / output_scale;
      const float lo = (float)(qmin - output_zero_point), hi = (float)(qmax - output_zero_point);
      r = r < lo ? lo : (r > hi ? hi : r);
      v = (int32_t)etpu_round_half_even_f32(r) + output_zero_point;
    }
    v = v < qmin ? qmin : (v > qmax ? qmax : v);
    table[(uint8_t)q] = (uint8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_lut_s8(const uint8_t table[256], size_t size, const int8_t *input, int8_t *output) {
  if (!table || !input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_lut_s8: NULL argument");
  for (size_t i = 0; i < size; i++) output[i] = (int8_t)table[(uint8_t)input[i]];
  return ETPU_OK;
}

etpu_status etpu_lut_u8(const uint8_t table[256], size_t size, const uint8_t *input, uint8_t *output) {
  if (!table || !input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_lut_u8: NULL argument");
  for (size_t i = 0; i < size; i++) output[i] = table[input[i]];
  return ETPU_OK;
}
