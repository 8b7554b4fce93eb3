/*
 * tanh.c — TANH in the TFLite reference fixed point (TFLITE.md §7.8): like
 * LOGISTIC (logistic.c, which also builds the shared parameters) with
 * gemmlowp tanh and a RoundingDivideByPOT by 2^24 to 1/128 steps; int8 output
 * (1/128, 0), uint8 output (1/128, 128). Also the float32 kernel.
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/fixedpoint.h"
#include "kernels/requant.h"

enum { kInputIntegerBits = 4 };

static etpu_status check(const char *k, const etpu_sigmoid_params *p, const void *in, const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (p->input_left_shift < 0 || p->input_left_shift > 31 || p->input_range_radius < 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: left shift %d / radius %d out of range", k, p->input_left_shift,
                     p->input_range_radius);
  return ETPU_OK;
}

static inline int32_t tanh_q0(const etpu_sigmoid_params *p, int32_t x) {
  const int32_t q4 = etpu_mbqm_double_round(x, p->input_multiplier, p->input_left_shift);
  return etpu_fp_tanh(q4, kInputIntegerBits);
}

etpu_status etpu_tanh_s8(const etpu_sigmoid_params *params, size_t size, const int8_t *input, int8_t *output) {
  etpu_status st = check("etpu_tanh_s8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) {
    const int32_t x = (int32_t)input[i] - params->input_zero_point;
    int32_t v;
    if (x <= -params->input_range_radius) {
      v = -128;
    } else if (x >= params->input_range_radius) {
      v = 127;
    } else {
      v = etpu_rounding_divide_by_pot(tanh_q0(params, x), 31 - 7);
      v = v < -128 ? -128 : (v > 127 ? 127 : v);
    }
    output[i] = (int8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_tanh_u8(const etpu_sigmoid_params *params, size_t size, const uint8_t *input, uint8_t *output) {
  etpu_status st = check("etpu_tanh_u8", params, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) {
    const int32_t x = (int32_t)input[i] - params->input_zero_point;
    int32_t v;
    if (x <= -params->input_range_radius) {
      v = 0;
    } else if (x >= params->input_range_radius) {
      v = 255;
    } else {
      v = etpu_rounding_divide_by_pot(tanh_q0(params, x), 24) + 128;
      if (v == 256) v = 255;
      v = v < 0 ? 0 : (v > 255 ? 255 : v);
    }
    output[i] = (uint8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_tanh_f32(size_t size, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_tanh_f32: NULL argument");
  for (size_t i = 0; i < size; i++) output[i] = tanhf(input[i]);
  return ETPU_OK;
}
