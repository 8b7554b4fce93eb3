/*
 * fully_connected_u8.c — etpu_fully_connected_u8, the reference uint8
 * FULLY_CONNECTED (TFLite's uint8 reference FullyConnected, TFLITE.md §7.2)
 * on a [batches, depth] input and [units, depth] weights:
 * acc = bias[u] + Σ (w − zp_w)·(x − zp_in); out = clamp(requant(acc) + zp_out).
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_fully_connected_u8(const etpu_fc_u8_params *params, const etpu_requant_params *quant,
                                    const etpu_dims *input_dims, const uint8_t *input, const etpu_dims *filter_dims,
                                    const uint8_t *filter, const int32_t *bias, const etpu_dims *output_dims,
                                    uint8_t *output) {
  static const char kname[] = "fully_connected_u8";
  etpu_status st;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_fc_dims(kname, input_dims, filter_dims, output_dims)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_u8_io(kname, params->input_offset, params->filter_offset, params->output_offset,
                              params->activation_min, params->activation_max)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_quant(kname, quant, filter_dims->n)) != ETPU_OK) return st;

  const int32_t batches = input_dims->n, depth = input_dims->c, units = filter_dims->n;
  const int32_t input_offset = params->input_offset, filter_offset = params->filter_offset;
  const etpu_requant_mode mode = quant->mode;
  for (int32_t b = 0; b < batches; b++) {
    const uint8_t *x = input + (size_t)b * (size_t)depth;
    uint8_t *out_row = output + (size_t)b * (size_t)units;
    for (int32_t u = 0; u < units; u++) {
      const uint8_t *w = filter + (size_t)u * (size_t)depth;
      int64_t acc = 0;
      for (int32_t d = 0; d < depth; d++) acc += ((int32_t)w[d] + filter_offset) * ((int32_t)x[d] + input_offset);
      if (bias) acc += bias[u];
      const etpu_requant *rq = &quant->channels[quant->count == 1 ? 0 : u];
      out_row[u] = (uint8_t)etpu_requant_output(etpu_wrap_i32(acc), rq, mode, params->output_offset,
                                                params->activation_min, params->activation_max);
    }
  }
  return ETPU_OK;
}
