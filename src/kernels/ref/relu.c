/*
 * relu.c — RELU, RELU6 and RELU_N1_TO_1: a clamp to [lo, hi] in real values.
 * Quantized (TFLite QuantizedReluX / TFLM CalculateReluOpData): the input is
 * requantized to the output scale, out = zp_out + MBQM(x − zp_in, s_in/s_out)
 * (double rounding), then clamped to [max(qmin, zp_out + round(lo/s_out)),
 * min(qmax, zp_out + round(hi/s_out))].
 */
#include <math.h>

#include "base/base.h"
#include "kernels/activations.h"
#include "kernels/requant.h"

static int64_t quantize_bound(float f, float scale, int32_t zp) {
  float r = roundf(f / scale);
  if (r > 4294967296.0f) r = 4294967296.0f;
  if (r < -4294967296.0f) r = -4294967296.0f;
  return (int64_t)zp + (int64_t)r;
}

etpu_status etpu_relu_params_init(float lo, float hi, float input_scale, int32_t input_zero_point, float output_scale,
                                  int32_t output_zero_point, int32_t qmin, int32_t qmax, etpu_relu_params *params_out) {
  if (!params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "relu params: NULL argument");
  if (!isfinite(input_scale) || !(input_scale > 0.0f) || !isfinite(output_scale) || !(output_scale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "relu params: scales %g, %g must be finite and > 0", (double)input_scale,
                     (double)output_scale);
  if (qmin > qmax || output_zero_point < qmin || output_zero_point > qmax || input_zero_point < qmin ||
      input_zero_point > qmax)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "relu params: zero points %d, %d outside [%d, %d]", input_zero_point,
                     output_zero_point, qmin, qmax);
  if (!(lo <= hi) || isnan(lo))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "relu params: range [%g, %g]", (double)lo, (double)hi);
  int32_t mult, shift;
  etpu_status st = etpu_quantize_multiplier((double)input_scale / (double)output_scale, 0, &mult, &shift);
  if (st != ETPU_OK) return st;
  if (shift > 31 || shift < -31)
    return etpu_fail(ETPU_UNSUPPORTED, "relu: scale ratio %g out of range",
                     (double)input_scale / (double)output_scale);
  int64_t amin = isinf(lo) ? qmin : quantize_bound(lo, output_scale, output_zero_point);
  int64_t amax = isinf(hi) ? qmax : quantize_bound(hi, output_scale, output_zero_point);
  if (amin < qmin) amin = qmin;
  if (amax > qmax) amax = qmax;
  if (amin > qmax) amin = qmax;
  if (amax < qmin) amax = qmin;
  params_out->input_zero_point = input_zero_point;
  params_out->output_zero_point = output_zero_point;
  params_out->multiplier = mult;
  params_out->shift = shift;
  params_out->activation_min = (int32_t)amin;
  params_out->activation_max = (int32_t)amax;
  return ETPU_OK;
}

static etpu_status check(const char *k, const etpu_relu_params *p, int32_t lo, int32_t hi, const void *in,
                         const void *out) {
  if (!p || !in || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (p->shift < -31 || p->shift > 31 || p->activation_min < lo || p->activation_max > hi ||
      p->activation_min > p->activation_max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: shift %d or range [%d, %d] out of range", k, p->shift,
                     p->activation_min, p->activation_max);
  return ETPU_OK;
}

static inline int32_t relu_one(const etpu_relu_params *p, int32_t x) {
  int64_t v = (int64_t)p->output_zero_point + etpu_mbqm_double_round(x - p->input_zero_point, p->multiplier, p->shift);
  if (v < p->activation_min) v = p->activation_min;
  if (v > p->activation_max) v = p->activation_max;
  return (int32_t)v;
}

etpu_status etpu_relu_s8(const etpu_relu_params *params, size_t size, const int8_t *input, int8_t *output) {
  etpu_status st = check("etpu_relu_s8", params, -128, 127, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) output[i] = (int8_t)relu_one(params, input[i]);
  return ETPU_OK;
}

etpu_status etpu_relu_u8(const etpu_relu_params *params, size_t size, const uint8_t *input, uint8_t *output) {
  etpu_status st = check("etpu_relu_u8", params, 0, 255, input, output);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < size; i++) output[i] = (uint8_t)relu_one(params, input[i]);
  return ETPU_OK;
}

etpu_status etpu_relu_f32(float lo, float hi, size_t size, const float *input, float *output) {
  if (!input || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_relu_f32: NULL argument");
  for (size_t i = 0; i < size; i++) {
    float x = input[i];
    x = x < lo ? lo : x;
    x = x > hi ? hi : x;
    output[i] = x;
  }
  return ETPU_OK;
}
