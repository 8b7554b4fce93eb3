/*
 * transpose_conv_f32.c — etpu_transpose_conv_f32, the reference float32
 * TRANSPOSE_CONV in TFLite's reference loop order (batch, input y, input x,
 * input channel, filter y, filter x, output channel): the output is zeroed,
 * every x·w is added at the output position it reaches, then each output
 * gets clamp(out + bias[oc]). Layouts are in kernels.h.
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

void etpu_tconv_f32_accumulate(int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w,
                               const etpu_dims *input_dims, const float *input, const etpu_dims *filter_dims,
                               const float *filter, const etpu_dims *output_dims, float *output) {
  const int32_t batches = input_dims->n, in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
  const int32_t out_c = filter_dims->n, k_h = filter_dims->h, k_w = filter_dims->w;
  const int32_t out_h = output_dims->h, out_w = output_dims->w;
  for (int32_t b = 0; b < batches; b++)
    for (int32_t iy = 0; iy < in_h; iy++)
      for (int32_t ix = 0; ix < in_w; ix++) {
        const int64_t y0 = (int64_t)iy * stride_h - pad_h;
        const int64_t x0 = (int64_t)ix * stride_w - pad_w;
        for (int32_t ic = 0; ic < in_c; ic++) {
          const float x = input[etpu_nhwc_offset(input_dims, b, iy, ix) + (size_t)ic];
          for (int32_t ky = 0; ky < k_h; ky++) {
            const int64_t oy = y0 + ky;
            if (oy < 0 || oy >= out_h) continue;
            for (int32_t kx = 0; kx < k_w; kx++) {
              const int64_t ox = x0 + kx;
              if (ox < 0 || ox >= out_w) continue;
              float *op = output + etpu_nhwc_offset(output_dims, b, oy, ox);
              for (int32_t oc = 0; oc < out_c; oc++)
                op[oc] += x * filter[etpu_nhwc_offset(filter_dims, oc, ky, kx) + (size_t)ic];
            }
          }
        }
      }
}

etpu_status etpu_transpose_conv_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                    const float *input, const etpu_dims *filter_dims, const float *filter,
                                    const float *bias, const etpu_dims *output_dims, float *output) {
  static const char kname[] = "transpose_conv_f32";
  etpu_status st;
  if (!params || !input || !filter || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_tconv_dims(kname, input_dims, filter_dims, output_dims, params->stride_h, params->stride_w,
                                   params->pad_h, params->pad_w)) != ETPU_OK)
    return st;
  if ((st = etpu_kcheck_f32_act(kname, params->activation_min, params->activation_max)) != ETPU_OK) return st;

  const size_t n_out = (size_t)output_dims->n * (size_t)output_dims->h * (size_t)output_dims->w * (size_t)filter_dims->n;
  const int32_t out_c = filter_dims->n;
  for (size_t i = 0; i < n_out; i++) output[i] = 0.0f;
  etpu_tconv_f32_accumulate(params->stride_h, params->stride_w, params->pad_h, params->pad_w, input_dims, input,
                            filter_dims, filter, output_dims, output);
  for (size_t i = 0; i < n_out; i++) {
    const float bias_value = bias ? bias[i % (size_t)out_c] : 0.0f;
    output[i] = etpu_clamp_f32(output[i] + bias_value, params->activation_min, params->activation_max);
  }
  return ETPU_OK;
}
