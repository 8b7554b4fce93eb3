/*
 * transpose_conv_bias_f32.c — etpu_transpose_conv_bias_f32, MediaPipe's
 * Convolution2DTransposeBias custom op (selfie segmentation's upsampling
 * layer): a float32 TRANSPOSE_CONV whose outputs start at the bias and then
 * take the scatter of transpose_conv_f32.c in the same order, so the float
 * sums are MediaPipe's (bias first, no activation).
 */
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

#include "base/base.h"

etpu_status etpu_transpose_conv_bias_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                         const float *input, const etpu_dims *filter_dims, const float *filter,
                                         const float *bias, const etpu_dims *output_dims, float *output) {
  static const char kname[] = "transpose_conv_bias_f32";
  etpu_status st;
  if (!params || !input || !filter || !bias || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or data pointer", kname);
  if ((st = etpu_kcheck_tconv_dims(kname, input_dims, filter_dims, output_dims, params->stride_h, params->stride_w,
                                   params->pad_h, params->pad_w)) != ETPU_OK)
    return st;
  const size_t out_c = (size_t)filter_dims->n;
  const size_t n_out = (size_t)output_dims->n * (size_t)output_dims->h * (size_t)output_dims->w * out_c;
  for (size_t i = 0; i < n_out; i++) output[i] = bias[i % out_c];
  etpu_tconv_f32_accumulate(params->stride_h, params->stride_w, params->pad_h, params->pad_w, input_dims, input,
                            filter_dims, filter, output_dims, output);
  return ETPU_OK;
}
