/*
 * conv2d_u8.c — etpu_conv2d_u8, the reference uint8 CONV_2D of Coral's
 * legacy per-tensor asymmetric models (weights with a non-zero zero point),
 * after TFLite's uint8 reference conv (TFLITE.md §7.2):
 * acc = bias[oc] + Σ (w − zp_w)·(x − zp_in) over the window positions inside
 * the input; out = clamp(requant(acc) + zp_out). Layouts are in kernels.h.
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_conv2d_u8(const etpu_conv_u8_params *params, const etpu_requant_params *quant,
                           const etpu_dims *input_dims, const uint8_t *input, const etpu_dims *filter_dims,
                           const uint8_t *filter, const int32_t *bias, const etpu_dims *output_dims, uint8_t *output) {
  static const char kname[] = "conv2d_u8";
  etpu_status st;
  int32_t groups = 1;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_conv_dims(kname, input_dims, filter_dims, output_dims, &groups)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_u8_io(kname, params->input_offset, params->filter_offset, params->output_offset,
                              params->activation_min, params->activation_max)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_window(kname, params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                               params->pad_h, params->pad_w)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_quant(kname, quant, filter_dims->n)) != ETPU_OK) return st;

  const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w;
  const int32_t out_c = filter_dims->n, k_h = filter_dims->h, k_w = filter_dims->w, f_c = filter_dims->c;
  const int32_t out_h = output_dims->h, out_w = output_dims->w;
  const int32_t per_group = out_c / groups;
  const int32_t input_offset = params->input_offset, filter_offset = params->filter_offset;
  const etpu_requant_mode mode = quant->mode;
  for (int32_t b = 0; b < batches; b++) {
    for (int32_t oy = 0; oy < out_h; oy++) {
      const int64_t y0 = (int64_t)oy * params->stride_h - params->pad_h;
      for (int32_t ox = 0; ox < out_w; ox++) {
        const int64_t x0 = (int64_t)ox * params->stride_w - params->pad_w;
        uint8_t *out_px = output + etpu_nhwc_offset(output_dims, b, oy, ox);
        for (int32_t oc = 0; oc < out_c; oc++) {
          const size_t ic0 = (size_t)(oc / per_group) * (size_t)f_c;
          int64_t acc = 0;
          for (int32_t ky = 0; ky < k_h; ky++) {
            const int64_t iy = y0 + (int64_t)ky * params->dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; kx++) {
              const int64_t ix = x0 + (int64_t)kx * params->dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              const uint8_t *ip = input + etpu_nhwc_offset(input_dims, b, iy, ix) + ic0;
              const uint8_t *wp = filter + etpu_nhwc_offset(filter_dims, oc, ky, kx);
              for (int32_t ic = 0; ic < f_c; ic++)
                acc += ((int32_t)wp[ic] + filter_offset) * ((int32_t)ip[ic] + input_offset);
            }
          }
          if (bias) acc += bias[oc];
          const etpu_requant *rq = &quant->channels[quant->count == 1 ? 0 : oc];
          out_px[oc] = (uint8_t)etpu_requant_output(etpu_wrap_i32(acc), rq, mode, params->output_offset,
                                                    params->activation_min, params->activation_max);
        }
      }
    }
  }
  return ETPU_OK;
}
