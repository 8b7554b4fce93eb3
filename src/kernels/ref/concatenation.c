/*
 * concatenation.c — CONCATENATION (and PACK): inputs [outer, chunk_i] laid
 * side by side into [outer, Σ chunk_i]. An 8-bit input whose quantization
 * differs from the output's is requantized as TFLite's
 * ConcatenationWithScaling (reference and optimized alike):
 * q = clamp(round(x·scale + bias) + zp_out) with scale = s_in·(1/s_out) and
 * bias = −zp_in·scale in float32, round half away from zero. (TFLite and
 * TFLM apply it to uint8 only; both refuse int8 inputs with another
 * scale. etpu applies the same formula to int8.)
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_concat_rescale_init(const etpu_qparam *in, const etpu_qparam *out, etpu_concat_rescale *rescale_out) {
  if (!in || !out || !rescale_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "concat rescale: NULL argument");
  if (!(in->scale > 0.0f && isfinite(in->scale) && out->scale > 0.0f && isfinite(out->scale)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "concat rescale: scales must be finite and > 0");
  etpu_concat_rescale r;
  r.copy = in->scale == out->scale && in->zero_point == out->zero_point;
  const float inverse_output_scale = 1.0f / out->scale;
  r.scale = in->scale * inverse_output_scale;
  r.bias = (float)(-in->zero_point) * r.scale;
  *rescale_out = r;
  return ETPU_OK;
}

etpu_status etpu_concat_check(const char *kname, const etpu_concat_params *p, bool allow_rescale) {
  if (!p) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params", kname);
  if (p->count < 1 || !p->chunk)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d tensors (need >= 1 and chunk sizes)", kname, p->count);
  if (!etpu_elem_size_ok(p->elem_size))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu", kname, p->elem_size);
  if (p->rescale) {
    if (!allow_rescale) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: cannot rescale", kname);
    if (p->elem_size != 1 || (p->type != ETPU_INT8 && p->type != ETPU_UINT8))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: rescaling needs INT8 or UINT8 elements", kname);
    const int32_t lo = p->type == ETPU_INT8 ? -128 : 0, hi = p->type == ETPU_INT8 ? 127 : 255;
    if (p->output_zero_point < lo || p->output_zero_point > hi)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output zero point %d", kname, p->output_zero_point);
  }
  size_t total = 0, n;
  for (int32_t i = 0; i < p->count; i++)
    if (!etpu_add_size(total, p->chunk[i], &total))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: sizes overflow", kname);
  if (!etpu_mul_size(total, p->outer, &n) || !etpu_mul_size(n, p->elem_size, &n))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: sizes overflow", kname);
  return ETPU_OK;
}

static void rescale_copy(const etpu_concat_params *p, const etpu_concat_rescale *r, const uint8_t *src, uint8_t *dst,
                         size_t n) {
  const bool s8 = p->type == ETPU_INT8;
  const int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
  for (size_t j = 0; j < n; j++) {
    const float x = s8 ? (float)(int8_t)src[j] : (float)src[j];
    const float v = x * r->scale + r->bias;
    const int64_t q = (int64_t)roundf(v) + p->output_zero_point;
    const int32_t c = etpu_clamp_i32(q, lo, hi);
    dst[j] = s8 ? (uint8_t)(int8_t)c : (uint8_t)c;
  }
}

etpu_status etpu_concatenation(const etpu_concat_params *params, const void *const *inputs, void *output) {
  static const char kname[] = "concatenation";
  etpu_status st = etpu_concat_check(kname, params, true);
  if (st != ETPU_OK) return st;
  if (!inputs || !output) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL data", kname);
  for (int32_t i = 0; i < params->count; i++)
    if (!inputs[i]) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %d is NULL", kname, i);
  const size_t es = params->elem_size;
  uint8_t *dst = output;
  for (size_t k = 0; k < params->outer; k++)
    for (int32_t i = 0; i < params->count; i++) {
      const size_t n = params->chunk[i];
      const uint8_t *src = (const uint8_t *)inputs[i] + k * n * es;
      if (params->rescale && !params->rescale[i].copy) rescale_copy(params, &params->rescale[i], src, dst, n);
      else if (n) memcpy(dst, src, n * es);
      dst += n * es;
    }
  return ETPU_OK;
}
