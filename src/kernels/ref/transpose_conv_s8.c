/*
 * transpose_conv_s8.c — etpu_transpose_conv_s8, the reference int8
 * TRANSPOSE_CONV (per-channel weights on dim 0), after TFLite's reference
 * integer TransposeConv: every input value, offset by −zp_in, is multiplied
 * by each filter tap and summed into the int32 scratch at the output
 * position it reaches; then out = clamp(requant(acc + bias[oc]) + zp_out).
 * Layouts and the scratch size are documented in kernels.h.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_transpose_conv_s8(const etpu_transpose_conv_params *params, const etpu_requant_params *quant,
                                   const etpu_dims *input_dims, const int8_t *input, const etpu_dims *filter_dims,
                                   const int8_t *filter, const int32_t *bias, const etpu_dims *output_dims,
                                   int8_t *output, int32_t *scratch, size_t scratch_bytes) {
  static const char kname[] = "transpose_conv_s8";
  etpu_status st;
  if (!params || !input || !filter || !output || !scratch)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params, data or scratch pointer", kname);
  if ((st = etpu_kcheck_tconv_dims(kname, input_dims, filter_dims, output_dims, params->stride_h, params->stride_w,
                                   params->pad_h, params->pad_w)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_s8_io(kname, params->input_offset, params->output_offset, params->activation_min,
                              params->activation_max)) != ETPU_OK)
    return st;
  if (params->filter_offset < -127 || params->filter_offset > 128)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter_offset %d outside [-127, 128]", kname,
                     params->filter_offset);
  if ((st = etpu_kcheck_quant(kname, quant, filter_dims->n)) != ETPU_OK) return st;
  const size_t need = etpu_transpose_conv_get_buffer_size(output_dims);
  if (need == 0 || scratch_bytes < need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes, need %zu", kname, scratch_bytes, need);

  const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
  const int32_t out_c = filter_dims->n, k_h = filter_dims->h, k_w = filter_dims->w;
  const int32_t out_h = output_dims->h, out_w = output_dims->w;
  const int32_t input_offset = params->input_offset, filter_offset = params->filter_offset;
  uint32_t *acc = (uint32_t *)scratch; /* unsigned: int32 wrap as TFLite, defined in C */
  memset(acc, 0, need);
  for (int32_t b = 0; b < batches; b++)
    for (int32_t iy = 0; iy < in_h; iy++)
      for (int32_t ix = 0; ix < in_w; ix++) {
        const int8_t *ip = input + etpu_nhwc_offset(input_dims, b, iy, ix);
        const int64_t y0 = (int64_t)iy * params->stride_h - params->pad_h;
        const int64_t x0 = (int64_t)ix * params->stride_w - params->pad_w;
        for (int32_t ky = 0; ky < k_h; ky++) {
          const int64_t oy = y0 + ky;
          if (oy < 0 || oy >= out_h) continue;
          for (int32_t kx = 0; kx < k_w; kx++) {
            const int64_t ox = x0 + kx;
            if (ox < 0 || ox >= out_w) continue;
            uint32_t *ap = acc + etpu_nhwc_offset(output_dims, b, oy, ox);
            for (int32_t oc = 0; oc < out_c; oc++) {
              const int8_t *wp = filter + etpu_nhwc_offset(filter_dims, oc, ky, kx);
              uint32_t sum = 0;
              for (int32_t ic = 0; ic < in_c; ic++)
                sum += (uint32_t)(((int32_t)wp[ic] + filter_offset) * ((int32_t)ip[ic] + input_offset));
              ap[oc] += sum;
            }
          }
        }
      }
  const etpu_requant_mode mode = quant->mode;
  const size_t n_out = need / sizeof(int32_t);
  for (size_t i = 0; i < n_out; i++) {
    const int32_t oc = (int32_t)(i % (size_t)out_c);
    uint32_t a = acc[i];
    if (bias) a += (uint32_t)bias[oc];
    const etpu_requant *rq = &quant->channels[quant->count == 1 ? 0 : oc];
    output[i] = (int8_t)etpu_requant_output((int32_t)a, rq, mode, params->output_offset, params->activation_min,
                                            params->activation_max);
  }
  return ETPU_OK;
}
