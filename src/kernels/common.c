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

etpu_status etpu_kcheck_u8_io(const char *kernel, int32_t input_offset, int32_t filter_offset, int32_t output_offset,
                              int32_t activation_min, int32_t activation_max) {
  if (input_offset < -255 || input_offset > 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input_offset %d outside [-255, 0]", kernel, input_offset);
  if (filter_offset < -255 || filter_offset > 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter_offset %d outside [-255, 0]", kernel, filter_offset);
  if (output_offset < 0 || output_offset > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output_offset %d outside [0, 255]", kernel, output_offset);
  if (activation_min < 0 || activation_max > 255 || activation_min > activation_max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: activation range [%d, %d] is not within [0, 255]", kernel,
                     activation_min, activation_max);
  return ETPU_OK;
}

etpu_status etpu_kcheck_f32_act(const char *kernel, float activation_min, float activation_max) {
  if (!(activation_min <= activation_max))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: activation range [%g, %g] is empty or NaN", kernel,
                     (double)activation_min, (double)activation_max);
  return ETPU_OK;
}

static etpu_status check_three(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                               const etpu_dims *output) {
  etpu_status st;
  if ((st = etpu_kcheck_dims(kernel, "input", input, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kernel, "filter", filter, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kernel, "output", output, NULL)) != ETPU_OK) return st;
  if (output->n != input->n)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output batch %d != input batch %d", kernel, output->n, input->n);
  return ETPU_OK;
}

etpu_status etpu_kcheck_conv_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                  const etpu_dims *output, int32_t *groups_out) {
  etpu_status st = check_three(kernel, input, filter, output);
  if (st != ETPU_OK) return st;
  if (output->c != filter->n)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output has %d channels, filter has %d output channels", kernel,
                     output->c, filter->n);
  if (input->c % filter->c != 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input channels %d are not a multiple of filter channels %d", kernel,
                     input->c, filter->c);
  const int32_t groups = input->c / filter->c;
  if (filter->n % groups != 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d output channels do not split into %d groups", kernel, filter->n,
                     groups);
  *groups_out = groups;
  return ETPU_OK;
}

etpu_status etpu_kcheck_dw_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                const etpu_dims *output, int32_t depth_multiplier) {
  etpu_status st = check_three(kernel, input, filter, output);
  if (st != ETPU_OK) return st;
  if (filter->n != 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter dim 0 is %d, must be 1", kernel, filter->n);
  if (output->c != filter->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output has %d channels, filter has %d", kernel, output->c,
                     filter->c);
  if (depth_multiplier < 1 || (int64_t)input->c * depth_multiplier != filter->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d input channels x depth multiplier %d != %d output channels",
                     kernel, input->c, depth_multiplier, filter->c);
  return ETPU_OK;
}

etpu_status etpu_kcheck_fc_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                const etpu_dims *output) {
  etpu_status st = check_three(kernel, input, filter, output);
  if (st != ETPU_OK) return st;
  if (input->h != 1 || input->w != 1 || filter->h != 1 || filter->w != 1 || output->h != 1 || output->w != 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input, filter and output must be [n, 1, 1, c]", kernel);
  if (filter->c != input->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter depth %d != input depth %d", kernel, filter->c, input->c);
  if (output->c != filter->n)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output [%d, %d] != [batches %d, units %d]", kernel, output->n,
                     output->c, input->n, filter->n);
  return ETPU_OK;
}

etpu_status etpu_kcheck_tconv_dims(const char *kernel, const etpu_dims *input, const etpu_dims *filter,
                                   const etpu_dims *output, int32_t stride_h, int32_t stride_w, int32_t pad_h,
                                   int32_t pad_w) {
  etpu_status st = check_three(kernel, input, filter, output);
  if (st != ETPU_OK) return st;
  if (filter->c != input->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter has %d input channels, input has %d", kernel, filter->c,
                     input->c);
  if (output->c != filter->n)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output has %d channels, filter has %d output channels", kernel,
                     output->c, filter->n);
  return etpu_kcheck_window(kernel, stride_h, stride_w, 1, 1, pad_h, pad_w);
}

size_t etpu_transpose_conv_get_buffer_size(const etpu_dims *output_dims) {
  size_t n = 0;
  if (!output_dims || output_dims->n < 1 || output_dims->h < 1 || output_dims->w < 1 || output_dims->c < 1) return 0;
  n = (size_t)output_dims->n;
  if (!etpu_mul_size(n, (size_t)output_dims->h, &n) || !etpu_mul_size(n, (size_t)output_dims->w, &n) ||
      !etpu_mul_size(n, (size_t)output_dims->c, &n) || !etpu_mul_size(n, sizeof(int32_t), &n))
    return 0;
  return n;
}
