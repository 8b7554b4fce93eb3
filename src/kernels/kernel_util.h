/*
 * kernel_util.h — what the kernels of src/kernels/ share internally (not for
 * callers): NHWC addressing and argument checks. Each check records a message
 * naming the kernel and the rule broken, and returns ETPU_INVALID_ARGUMENT.
 */
#ifndef ETPU_KERNELS_KERNEL_UTIL_H
#define ETPU_KERNELS_KERNEL_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* Offset of pixel (n, y, x), channel 0, in an NHWC tensor of dims d (checked
 * by etpu_kcheck_dims, so the product fits in size_t). */
static inline size_t etpu_nhwc_offset(const etpu_dims *d, int64_t n, int64_t y, int64_t x) {
  return (((size_t)n * (size_t)d->h + (size_t)y) * (size_t)d->w + (size_t)x) * (size_t)d->c;
}

/* Every dimension >= 1 and the element count fits in size_t; *count_out
 * (if not NULL) gets the count. what: "input", "filter", ... */
etpu_status etpu_kcheck_dims(const char *kernel, const char *what, const etpu_dims *d, size_t *count_out);

/* input_offset in [−127, 128], output_offset in [−128, 127],
 * −128 <= activation_min <= activation_max <= 127. */
etpu_status etpu_kcheck_s8_io(const char *kernel, int32_t input_offset, int32_t output_offset,
                              int32_t activation_min, int32_t activation_max);

/* uint8 kernels: input_offset and filter_offset in [−255, 0],
 * output_offset in [0, 255], 0 <= activation_min <= activation_max <= 255. */
etpu_status etpu_kcheck_u8_io(const char *kernel, int32_t input_offset, int32_t filter_offset, int32_t output_offset,
                              int32_t activation_min, int32_t activation_max);

/* float kernels: activation_min <= activation_max, neither NaN. */
etpu_status etpu_kcheck_f32_act(const char *kernel, float activation_min, float activation_max);

/* CONV_2D shapes (input, filter [C_out, KH, KW, C_f], output): each dims
 * valid, equal batches, output channels = C_out, C_in a multiple of C_f and
 * C_out a multiple of the groups; *groups_out = C_in / C_f. */
etpu_status etpu_kcheck_conv_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                  const etpu_dims *output, int32_t *groups_out);

/* DEPTHWISE_CONV_2D shapes (filter [1, KH, KW, C_out]): each dims valid,
 * equal batches, C_out = C_in · depth_multiplier with depth_multiplier >= 1. */
etpu_status etpu_kcheck_dw_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                const etpu_dims *output, int32_t depth_multiplier);

/* FULLY_CONNECTED shapes: [B,1,1,D] x [U,1,1,D] -> [B,1,1,U]. */
etpu_status etpu_kcheck_fc_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                const etpu_dims *output);

/* TRANSPOSE_CONV shapes: input [N,H,W,C_in], filter [C_out,KH,KW,C_in],
 * output [N,OH,OW,C_out]; stride >= 1, padding >= 0. */
etpu_status etpu_kcheck_tconv_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                   const etpu_dims *output, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                                   int32_t pad_w);

/* clamp(v, lo, hi) for the float kernels; NaN passes through (TFLite's
 * ActivationFunctionWithMinMax: min(max(v, lo), hi)). */
/* The float TRANSPOSE_CONV scatter in TFLite's reference loop order (batch,
 * input y, x, channel, filter y, x, output channel): every x·w is added to
 * the output cell it reaches. Dims already checked (etpu_kcheck_tconv_dims);
 * the caller initialises the output (zeros, or MediaPipe's bias). */
void etpu_tconv_f32_accumulate(int32_t stride_h, int32_t stride_w, int32_t pad_h, int32_t pad_w,
                               const etpu_dims *input_dims, const float *input, const etpu_dims *filter_dims,
                               const float *filter, const etpu_dims *output_dims, float *output);

static inline float etpu_clamp_f32(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return hi < v ? hi : v;
}

/* The int32 wrap of a 64-bit accumulator, as TFLite's int32 sum. */
static inline int32_t etpu_wrap_i32(int64_t acc) { return (int32_t)(uint32_t)(uint64_t)acc; }

/* channels non-NULL, count = out_channels or 1, a known mode. */
etpu_status etpu_kcheck_quant(const char *kernel, const etpu_requant_params *q, int32_t out_channels);

/* stride, dilation >= 1; padding >= 0. */
etpu_status etpu_kcheck_window(const char *kernel, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                               int32_t dilation_w, int32_t pad_h, int32_t pad_w);

#endif /* ETPU_KERNELS_KERNEL_UTIL_H */
