/*
 * fully_connected_f32.c — etpu_fully_connected_f32, the reference float32
 * FULLY_CONNECTED on a [batches, depth] input and [units, depth] weights, in
 * TFLite's reference order: total = Σ x·w over depth in float32;
 * out = clamp(total + bias[u]).
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_fully_connected_f32(const etpu_fc_f32_params *params, const etpu_dims *input_dims,
                                     const float *input, const etpu_dims *filter_dims, const float *filter,
                                     const float *bias, const etpu_dims *output_dims, float *output) {
  static const char kname[] = "fully_connected_f32";
  etpu_status st;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_fc_dims(kname, input_dims, filter_dims, output_dims)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_f32_act(kname, params->activation_min, params->activation_max)) != ETPU_OK) return st;

  const int32_t batches = input_dims->n, depth = input_dims->c, units = filter_dims->n;
  for (int32_t b = 0; b < batches; b++) {
    const float *x = input + (size_t)b * (size_t)depth;
    float *out_row = output + (size_t)b * (size_t)units;
    for (int32_t u = 0; u < units; u++) {
      const float *w = filter + (size_t)u * (size_t)depth;
      float total = 0.0f;
      for (int32_t d = 0; d < depth; d++) total += x[d] * w[d];
      const float bias_value = bias ? bias[u] : 0.0f;
      out_row[u] = etpu_clamp_f32(total + bias_value, params->activation_min, params->activation_max);
    }
  }
  return ETPU_OK;
}
