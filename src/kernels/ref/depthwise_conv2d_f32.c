/*
 * depthwise_conv2d_f32.c — etpu_depthwise_conv2d_f32, the reference float32
 * DEPTHWISE_CONV_2D in TFLite's reference order: output channel
 * oc = ic·depth_multiplier + m; total = Σ x·w over ky, kx in float32;
 * out = clamp(total + bias[oc]). Layouts are in kernels.h.
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_depthwise_conv2d_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                      const float *input, const etpu_dims *filter_dims, const float *filter,
                                      const float *bias, const etpu_dims *output_dims, float *output) {
  static const char kname[] = "depthwise_conv2d_f32";
  etpu_status st;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_dw_dims(kname, input_dims, filter_dims, output_dims, params->depth_multiplier)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_f32_act(kname, params->activation_min, params->activation_max)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_window(kname, params->stride_h, params->stride_w, params->dilation_h, params->dilation_w,
                               params->pad_h, params->pad_w)) != ETPU_OK)
    return st;

  const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
  const int32_t k_h = filter_dims->h, k_w = filter_dims->w;
  const int32_t out_h = output_dims->h, out_w = output_dims->w;
  const int32_t mult = params->depth_multiplier;
  for (int32_t b = 0; b < batches; b++) {
    for (int32_t oy = 0; oy < out_h; oy++) {
      const int64_t y0 = (int64_t)oy * params->stride_h - params->pad_h;
      for (int32_t ox = 0; ox < out_w; ox++) {
        const int64_t x0 = (int64_t)ox * params->stride_w - params->pad_w;
        float *out_px = output + etpu_nhwc_offset(output_dims, b, oy, ox);
        for (int32_t ic = 0; ic < in_c; ic++) {
          for (int32_t m = 0; m < mult; m++) {
            const int32_t oc = ic * mult + m;
            float total = 0.0f;
            for (int32_t ky = 0; ky < k_h; ky++) {
              const int64_t iy = y0 + (int64_t)ky * params->dilation_h;
              if (iy < 0 || iy >= in_h) continue;
              for (int32_t kx = 0; kx < k_w; kx++) {
                const int64_t ix = x0 + (int64_t)kx * params->dilation_w;
                if (ix < 0 || ix >= in_w) continue;
                total += input[etpu_nhwc_offset(input_dims, b, iy, ix) + (size_t)ic] *
                         filter[etpu_nhwc_offset(filter_dims, 0, ky, kx) + (size_t)oc];
              }
            }
            const float bias_value = bias ? bias[oc] : 0.0f;
            out_px[oc] = etpu_clamp_f32(total + bias_value, params->activation_min, params->activation_max);
          }
        }
      }
    }
  }
  return ETPU_OK;
}
