/*
 * common.c — what every kernel shares: TensorFlow Lite's output-size and
 * padding rule (ComputePaddingHeightWidth, TFLITE.md §7.2 and the brief's
 * formulas) and the argument checks of kernel_check.h.
 */
#include "base/base.h"
#include "kernels/kernel_util.h"
#include "kernels/kernels.h"

etpu_status etpu_conv_output_size(etpu_padding padding, const etpu_window_axis *axis,
                                  etpu_window_geometry *geometry_out) {
  if (!axis || !geometry_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "conv output size: NULL argument");
  if (axis->in_size < 1 || axis->filter_size < 1 || axis->stride < 1 || axis->dilation < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "conv output size: input %d, filter %d, stride %d, dilation %d: each must be >= 1",
                     axis->in_size, axis->filter_size, axis->stride, axis->dilation);
  const int64_t in = axis->in_size, stride = axis->stride;
  const int64_t eff = ((int64_t)axis->filter_size - 1) * axis->dilation + 1;
  int64_t out;
  switch (padding) {
    case ETPU_PADDING_SAME:
      out = (in + stride - 1) / stride;
      break;
    case ETPU_PADDING_VALID:
      out = (in - eff + stride) / stride; /* C truncation, as TFLite */
      break;
    default:
      return etpu_fail(ETPU_INVALID_ARGUMENT, "conv output size: unknown padding %d", (int)padding);
  }
  if (out < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "conv output size: VALID window of %lld (filter %d, dilation %d) is larger than the input %d",
                     (long long)eff, axis->filter_size, axis->dilation, axis->in_size);
  int64_t total = (out - 1) * stride + eff - in;
  if (total < 0) total = 0;
  if (total / 2 + 1 > INT32_MAX)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "conv output size: padding %lld overflows", (long long)total);
  geometry_out->out_size = (int32_t)out;
  geometry_out->pad_before = (int32_t)(total / 2);
  geometry_out->pad_after = (int32_t)(total - total / 2);
  return ETPU_OK;
}

etpu_status etpu_kcheck_dims(const char *kernel, const char *what, const etpu_dims *d, size_t *count_out) {
  if (!d) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s dims are NULL", kernel, what);
  if (d->n < 1 || d->h < 1 || d->w < 1 || d->c < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s dims [%d,%d,%d,%d]: each must be >= 1", kernel, what, d->n,
                     d->h, d->w, d->c);
  size_t n = (size_t)d->n;
  if (!etpu_mul_size(n, (size_t)d->h, &n) || !etpu_mul_size(n, (size_t)d->w, &n) ||
      !etpu_mul_size(n, (size_t)d->c, &n))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s dims [%d,%d,%d,%d] overflow the address space", kernel, what,
                     d->n, d->h, d->w, d->c);
  if (count_out) *count_out = n;
  return ETPU_OK;
}

etpu_status etpu_kcheck_s8_io(const char *kernel, int32_t input_offset, int32_t output_offset,
                              int32_t activation_min, int32_t activation_max) {
  if (input_offset < -127 || input_offset > 128)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input_offset %d outside [-127, 128]", kernel, input_offset);
  if (output_offset < -128 || output_offset > 127)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output_offset %d outside [-128, 127]", kernel, output_offset);
  if (activation_min < -128 || activation_max > 127 || activation_min > activation_max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: activation range [%d, %d] is not within [-128, 127]", kernel,
                     activation_min, activation_max);
  return ETPU_OK;
}

etpu_status etpu_kcheck_quant(const char *kernel, const etpu_requant_params *q, int32_t out_channels) {
  if (!q || !q->channels) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: requant table is NULL", kernel);
  if (q->count != out_channels && q->count != 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d requant entries for %d output channels (need %d or 1)", kernel,
                     q->count, out_channels, out_channels);
  if (q->mode != ETPU_REQUANT_DOUBLE_ROUND && q->mode != ETPU_REQUANT_SINGLE_ROUND && q->mode != ETPU_REQUANT_FP32)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: unknown requant mode %d", kernel, (int)q->mode);
  for (int32_t c = 0; c < q->count; c++) {
    const etpu_requant *r = &q->channels[c];
    const bool shift_ok = q->mode == ETPU_REQUANT_SINGLE_ROUND
                              ? (r->shift >= -31 && r->shift <= 30 && r->multiplier >= 0)
                              : (r->shift >= -31 && r->shift <= 31);
    if (q->mode != ETPU_REQUANT_FP32 && !shift_ok)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: channel %d: multiplier %d shift %d out of range for %s", kernel,
                       c, r->multiplier, r->shift, etpu_requant_mode_name(q->mode));
    if (q->mode == ETPU_REQUANT_FP32 && !(r->scale > 0.0f && r->scale < 3.4e38f))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: channel %d: float scale %g is not positive and finite", kernel, c,
                       (double)r->scale);
  }
  return ETPU_OK;
}

etpu_status etpu_kcheck_window(const char *kernel, int32_t stride_h, int32_t stride_w, int32_t dilation_h,
                               int32_t dilation_w, int32_t pad_h, int32_t pad_w) {
  if (stride_h < 1 || stride_w < 1 || dilation_h < 1 || dilation_w < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: stride %dx%d, dilation %dx%d: each must be >= 1", kernel, stride_h,
                     stride_w, dilation_h, dilation_w);
  if (pad_h < 0 || pad_w < 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: padding %dx%d is negative", kernel, pad_h, pad_w);
  return ETPU_OK;
}
