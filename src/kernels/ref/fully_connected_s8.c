/*
 * fully_connected_s8.c — etpu_fully_connected_s8, the reference int8
 * FULLY_CONNECTED on a [batches, depth] input and [units, depth] weights.
 * Written from TFLITE.md §7.2: acc = bias[u] + Σ (w + filter_offset)·(x −
 * zp_in); out = clamp(requant(acc) + zp_out). Layouts are in kernels.h.
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_fully_connected_s8(const etpu_fc_params *params, const etpu_requant_params *quant,
                                    const etpu_dims *input_dims, const int8_t *input, const etpu_dims *filter_dims,
                                    const int8_t *filter, const int32_t *bias, const etpu_dims *output_dims,
                                    int8_t *output) {
  static const char kname[] = "fully_connected_s8";
  etpu_status st;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_dims(kname, "input", input_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "filter", filter_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "output", output_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_s8_io(kname, params->input_offset, params->output_offset, params->activation_min,
                              params->activation_max)) != ETPU_OK)
    return st;
  if (params->filter_offset < -127 || params->filter_offset > 128)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter_offset %d outside [-127, 128]", kname,
                     params->filter_offset);
  if (input_dims->h != 1 || input_dims->w != 1 || filter_dims->h != 1 || filter_dims->w != 1 ||
      output_dims->h != 1 || output_dims->w != 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input, filter and output must be [n, 1, 1, c]", kname);
  const int32_t batches = input_dims->n, depth = input_dims->c, units = filter_dims->n;
  if (filter_dims->c != depth)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter depth %d != input depth %d", kname, filter_dims->c, depth);
  if (output_dims->n != batches || output_dims->c != units)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output [%d, %d] != [batches %d, units %d]", kname, output_dims->n,
                     output_dims->c, batches, units);
  if ((st = etpu_kcheck_quant(kname, quant, units)) != ETPU_OK) return st;

  const int32_t input_offset = params->input_offset, filter_offset = params->filter_offset;
  const etpu_requant_mode mode = quant->mode;
  for (int32_t b = 0; b < batches; b++) {
    const int8_t *x = input + (size_t)b * (size_t)depth;
    int8_t *out_row = output + (size_t)b * (size_t)units;
    for (int32_t u = 0; u < units; u++) {
      const int8_t *w = filter + (size_t)u * (size_t)depth;
      int64_t acc = 0;
      for (int32_t d = 0; d < depth; d++) acc += ((int32_t)w[d] + filter_offset) * ((int32_t)x[d] + input_offset);
      if (bias) acc += bias[u];
      const int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc; /* int32 wrap, as TFLite */
      const etpu_requant *rq = &quant->channels[quant->count == 1 ? 0 : u];
      out_row[u] = (int8_t)etpu_requant_output(acc32, rq, mode, params->output_offset, params->activation_min,
                                               params->activation_max);
    }
  }
  return ETPU_OK;
}
