/*
 * conv2d_s8.c — etpu_conv2d_s8, the reference int8 CONV_2D (per-channel
 * weights, optional groups, stride, dilation, explicit top/left padding).
 * Written from TFLITE.md §7.2: acc = bias[oc] + Σ w·(x − zp_in) over the
 * window positions inside the input; out = clamp(requant(acc) + zp_out).
 * Layouts and ranges are documented in kernels.h.
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_conv2d_s8(const etpu_conv_params *params, const etpu_requant_params *quant,
                           const etpu_dims *input_dims, const int8_t *input, const etpu_dims *filter_dims,
                           const int8_t *filter, const int32_t *bias, const etpu_dims *output_dims, int8_t *output) {
  static const char kname[] = "conv2d_s8";
  etpu_status st;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_dims(kname, "input", input_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "filter", filter_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "output", output_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_s8_io(kname, params->input_offset, params->output_offset, params->activation_min,
                              params->activation_max)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_window(kname, params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                               params->pad_h, params->pad_w)) != ETPU_OK)
    return st;
  const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
  const int32_t out_c = filter_dims->n, k_h = filter_dims->h, k_w = filter_dims->w, f_c = filter_dims->c;
  const int32_t out_h = output_dims->h, out_w = output_dims->w;
  if (output_dims->n != batches)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output batch %d != input batch %d", kname, output_dims->n, batches);
  if (output_dims->c != out_c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output has %d channels, filter has %d output channels", kname,
                     output_dims->c, out_c);
  if (in_c % f_c != 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input channels %d are not a multiple of filter channels %d", kname,
                     in_c, f_c);
  const int32_t groups = in_c / f_c;
  if (out_c % groups != 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d output channels do not split into %d groups", kname, out_c,
                     groups);
  if ((st = etpu_kcheck_quant(kname, quant, out_c)) != ETPU_OK) return st;

  const int32_t per_group = out_c / groups;
  const int32_t input_offset = params->input_offset;
  const etpu_requant_mode mode = quant->mode;
  for (int32_t b = 0; b < batches; b++) {
    for (int32_t oy = 0; oy < out_h; oy++) {
      const int64_t y0 = (int64_t)oy * params->stride_h - params->pad_h;
      for (int32_t ox = 0; ox < out_w; ox++) {
        const int64_t x0 = (int64_t)ox * params->stride_w - params->pad_w;
        int8_t *out_px = output + etpu_nhwc_offset(output_dims, b, oy, ox);
        for (int32_t oc = 0; oc < out_c; oc++) {
          const size_t ic0 = (size_t)(oc / per_group) * (size_t)f_c;
          int64_t acc = 0;
          for (int32_t ky = 0; ky < k_h; ky++) {
            const int64_t iy = y0 + (int64_t)ky * params->dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; kx++) {
              const int64_t ix = x0 + (int64_t)kx * params->dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              const int8_t *ip = input + etpu_nhwc_offset(input_dims, b, iy, ix) + ic0;
              const int8_t *wp = filter + etpu_nhwc_offset(filter_dims, oc, ky, kx);
              for (int32_t ic = 0; ic < f_c; ic++) acc += (int32_t)wp[ic] * ((int32_t)ip[ic] + input_offset);
            }
          }
          if (bias) acc += bias[oc];
          /* int32 wrap, as TFLite's int32 accumulator (defined here). */
          const int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc;
          const etpu_requant *rq = &quant->channels[quant->count == 1 ? 0 : oc];
          out_px[oc] = (int8_t)etpu_requant_output(acc32, rq, mode, params->output_offset, params->activation_min,
                                                   params->activation_max);
        }
      }
    }
  }
  return ETPU_OK;
}
