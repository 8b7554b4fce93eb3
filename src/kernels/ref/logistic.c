/*
 * logistic.c — LOGISTIC (sigmoid) in the TFLite reference fixed point
 * (TFLITE.md §7.8): x − zp_in, saturated to the type's ends beyond the input
 * radius, else scaled by s_in·2^27 into Q4.27, gemmlowp logistic (Q0.31),
 * then RoundingDivideByPOT by 2^23 to 1/256 steps. Also the sigmoid
 * parameters shared with TANH (tanh.c) and the float32 kernel.
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/fixedpoint.h"
#include "kernels/requant.h"

enum { kInputIntegerBits = 4 };

/* A shift above 31 (input scale >= 16: selfie segmentation's calibrated
 * gates) gives TFLite's input radius 0, so every input takes the saturated
 * branch and the multiplier is never applied: that is TFLite's result, kept
 * exactly, with the unused shift stored as 31. */
static etpu_status finish_params(int32_t mult, int shift, int32_t zp, etpu_sigmoid_params *p) {
  const int32_t radius = shift >= 0 && shift < 63 ? etpu_fp_input_radius(kInputIntegerBits, shift, 31) : -1;
  if (shift < 0 || (shift > 31 && radius != 0))
    return etpu_fail(ETPU_UNSUPPORTED, "logistic/tanh: input scale gives shift %d; the kernel needs [0, 31]", shift);
  p->input_zero_point = zp;
  p->input_multiplier = mult;
  p->input_left_shift = shift > 31 ? 31 : shift;
  p->input_range_radius = radius;
  return ETPU_OK;
}

etpu_status etpu_sigmoid_params_init_s8(float input_scale, int32_t input_zero_point, etpu_sigmoid_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "sigmoid params: NULL argument");
  if (!isfinite(input_scale) || !(input_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "sigmoid params: input scale %g", (double)input_scale);
  const double m = (double)input_scale * (double)(1 << (31 - kInputIntegerBits));
  int shift = 0;
  const double q = frexp(m, &shift);
  const double r = round(q * 2147483648.0);
  /* TFLM casts without QuantizeMultiplier's carry rule: 2^31 wraps. */
  const int32_t mult = r >= 2147483648.0 ? INT32_MIN : (int32_t)r;
  return finish_params(mult, shift, input_zero_point, params_out);
}

etpu_status etpu_sigmoid_params_init_u8(float input_scale, int32_t input_zero_point, etpu_sigmoid_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "sigmoid params: NULL argument");
  if (!isfinite(input_scale) || !(input_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "sigmoid params: input scale %g", (double)input_scale);
  const double m = (double)input_scale * (double)(1 << (31 - kInputIntegerBits));
  if (!(m > 1.0)) return etpu_fail(ETPU_UNSUPPORTED, "logistic/tanh: input scale %g is too small", (double)input_scale);
  int32_t mult, shift;
  etpu_status st = etpu_quantize_multiplier(m, 0, &mult, &shift);
  if (st != ETPU_OK) return st;
  return finish_params(mult, shift, input_zero_point, params_out);
}

static etpu_status check(const char *k, const etpu_sigmoid_params *p, const void *in, const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (p->input_left_shift < 0 || p->input_left_shift > 31 || p->input_range_radius < 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: left shift %d / radius %d out of range", k, p->input_left_shift,
                     p->input_range_radius);
  return ETPU_OK;
}

/* The Q0.31 logistic of a centered input inside the radius. */
static inline int32_t logistic_q0(const etpu_sigmoid_params *p, int32_t x) {
  const int32_t q4 = etpu_mbqm_double_round(x, p->input_multiplier, p->input_left_shift);
  return etpu_fp_logistic(q4, kInputIntegerBits);
}

etpu_status etpu_logistic_s8(const etpu_sigmoid_params *params, size_t size, const int8_t *input, int8_t *output) {
  etpu_status st = check("etpu_logistic_s8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) {
    const int32_t x = (int32_t)input[i] - params->input_zero_point;
    int32_t v;
    if (x <= -params->input_range_radius) {
      v = -128;
    } else if (x >= params->input_range_radius) {
      v = 127;
    } else {
      v = etpu_rounding_divide_by_pot(logistic_q0(params, x), 31 - 8) - 128;
      v = v < -128 ? -128 : (v > 127 ? 127 : v);
    }
    output[i] = (int8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_logistic_u8(const etpu_sigmoid_params *params, size_t size, const uint8_t *input, uint8_t *output) {
  etpu_status st = check("etpu_logistic_u8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) {
    const int32_t x = (int32_t)input[i] - params->input_zero_point;
    int32_t v;
    if (x <= -params->input_range_radius) {
      v = 0;
    } else if (x >= params->input_range_radius) {
      v = 255;
    } else {
      v = etpu_rounding_divide_by_pot(logistic_q0(params, x), 23);
      if (v == 256) v = 255;
      v = v < 0 ? 0 : (v > 255 ? 255 : v);
    }
    output[i] = (uint8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_logistic_f32(size_t size, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_logistic_f32: NULL argument");
  /* TFLite's reference cut-offs: beyond them the float result is exact. */
  const float cutoff_upper = 16.619047164916992188f, cutoff_lower = -9.0f;
  for (size_t i = 0; i < size; i++) {
    const float x = input[i];
    float y;
    if (x > cutoff_upper) y = 1.0f;
    else if (x < cutoff_lower) y = expf(x);
    else y = 1.0f / (1.0f + expf(-x));
    output[i] = y;
  }
  return ETPU_OK;
}
