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

/* channels non-NULL, count = out_channels or 1, a known mode. */
etpu_status etpu_kcheck_quant(const char *kernel, const etpu_requant_params *q, int32_t out_channels);

/* stride, dilation >= 1; padding >= 0. */
etpu_status etpu_kcheck_window(const char *kernel, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                               int32_t dilation_w, int32_t pad_h, int32_t pad_w);

#endif /* ETPU_KERNELS_KERNEL_UTIL_H */
