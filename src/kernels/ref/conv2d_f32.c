/*
 * conv2d_f32.c — etpu_conv2d_f32, the reference float32 CONV_2D (optional
 * groups, stride, dilation, explicit top/left padding) in TFLite's reference
 * order: total = Σ x·w over ky, kx, then the group's input channels, in
 * float32; out = clamp(total + bias[oc]). Layouts are in kernels.h.
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_conv2d_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims, const float *input,
                            const etpu_dims *filter_dims, const float *filter, const float *bias,
                            const etpu_dims *output_dims, float *output) {
  static const char kname[] = "conv2d_f32";
  etpu_status st;
  int32_t groups = 1;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_conv_dims(kname, input_dims, filter_dims, output_dims, &groups)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_f32_act(kname, params->activation_min, params->activation_max)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_window(kname, params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                               params->pad_h, params->pad_w)) != ETPU_OK)
    return st;

  const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w;
  const int32_t out_c = filter_dims->n, k_h = filter_dims->h, k_w = filter_dims->w, f_c = filter_dims->c;
  const int32_t out_h = output_dims->h, out_w = output_dims->w;
  const int32_t per_group = out_c / groups;
  for (int32_t b = 0; b < batches; b++) {
    for (int32_t oy = 0; oy < out_h; oy++) {
      const int64_t y0 = (int64_t)oy * params->stride_h - params->pad_h;
      for (int32_t ox = 0; ox < out_w; ox++) {
        const int64_t x0 = (int64_t)ox * params->stride_w - params->pad_w;
        float *out_px = output + etpu_nhwc_offset(output_dims, b, oy, ox);
        for (int32_t oc = 0; oc < out_c; oc++) {
          const size_t ic0 = (size_t)(oc / per_group) * (size_t)f_c;
          float total = 0.0f;
          for (int32_t ky = 0; ky < k_h; ky++) {
            const int64_t iy = y0 + (int64_t)ky * params->dilation_h;
            if (iy < 0 || iy >= in_h) continue;
            for (int32_t kx = 0; kx < k_w; kx++) {
              const int64_t ix = x0 + (int64_t)kx * params->dilation_w;
              if (ix < 0 || ix >= in_w) continue;
              const float *ip = input + etpu_nhwc_offset(input_dims, b, iy, ix) + ic0;
              const float *wp = filter + etpu_nhwc_offset(filter_dims, oc, ky, kx);
              for (int32_t ic = 0; ic < f_c; ic++) total += ip[ic] * wp[ic];
            }
          }
          const float bias_value = bias ? bias[oc] : 0.0f;
          out_px[oc] = etpu_clamp_f32(total + bias_value, params->activation_min, params->activation_max);
        }
      }
    }
  }
  return ETPU_OK;
}
