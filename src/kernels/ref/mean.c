/*
 * mean.c — MEAN: etpu_mean_params_init (shared with SUM, sum.c) and the
 * int8/uint8/float32 kernels over any set of axes (TFLITE.md §7.6).
 *
 * TFLITE scheme (TFLite reference QuantizedMeanOrSum, which TFLM runs):
 * (m, s) = QuantizeMultiplier(s_in/s_out) in double; MEAN folds 1/n in:
 * k = min(63 − clz64(n), 32, 31 + s); m = (m·2^k)/n (int64, truncated);
 * s −= k. out = clamp(MBQM(Σx − zp_in·n, m, s) + zp_out) (double rounding).
 *
 * XNNPACK scheme (src/operators/reduce-nd.c, src/microparams-init.c and the
 * reference int32 → qs8/qu8 convert, read in google/XNNPACK): in float32,
 * k = (s_in/s_out)·(1/(float)n) for MEAN, s_in/s_out for SUM;
 * z = (float)zp_out − ((float)n·(float)zp_in)·k;
 * out = clamp(nearbyint((float)Σx·k + z)) (round half to even).
 *
 * float32 MEAN: Σ in float in the plan's order, then / (float)n (TFLite
 * reference Mean).
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/tensor_util.h"

static int clz64(uint64_t x) {
  int n = 0;
  if (!x) return 64;
  while (!(x & (UINT64_C(1) << 63))) {
    x <<= 1;
    n++;
  }
  return n;
}

etpu_status etpu_mean_params_init(etpu_mean_scheme scheme, bool sum, const etpu_qparam *in, const etpu_qparam *out,
                                  size_t reduce_count, etpu_mean_params *params_out) {
  if (!in || !out || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: NULL argument");
  if (!(in->scale > 0.0f && isfinite(in->scale) && out->scale > 0.0f && isfinite(out->scale)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: scales must be finite and > 0");
  if (reduce_count < 1 || reduce_count > ((size_t)1 << 23))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: %zu elements per output (1..2^23 supported)",
                     reduce_count);
  if (in->zero_point < -255 || in->zero_point > 255 || out->zero_point < -255 || out->zero_point > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: zero points %d, %d are not 8-bit", in->zero_point,
                     out->zero_point);
  etpu_mean_params p;
  memset(&p, 0, sizeof p);
  p.scheme = scheme;
  p.input_zero_point = in->zero_point;
  p.output_zero_point = out->zero_point;
  p.reduce_count = reduce_count;
  if (scheme == ETPU_MEAN_TFLITE) {
    etpu_status st =
        etpu_quantize_multiplier((double)in->scale / (double)out->scale, 0, &p.multiplier, &p.shift);
    if (st != ETPU_OK) return st;
    if (p.shift > 31 || p.shift < -31)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: scale ratio %g out of range",
                       (double)in->scale / (double)out->scale);
    if (!sum) {
      const int64_t n = (int64_t)reduce_count;
      int k = 63 - clz64((uint64_t)n);
      if (k > 32) k = 32;
      if (k > 31 + p.shift) k = 31 + p.shift;
      p.multiplier = (int32_t)(((int64_t)p.multiplier << k) / n);
      p.shift -= k;
    }
  } else if (scheme == ETPU_MEAN_XNNPACK) {
    const float ratio = in->scale / out->scale;
    p.xnn_scale = sum ? ratio : ratio * (1.0f / (float)reduce_count);
    p.xnn_zero_point =
        (float)out->zero_point - ((float)(int32_t)reduce_count * (float)in->zero_point) * p.xnn_scale;
    if (!isfinite(p.xnn_scale) || !isfinite(p.xnn_zero_point))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: XNNPACK scale is not finite");
  } else {
    return etpu_fail(ETPU_INVALID_ARGUMENT, "mean params: unknown scheme %d", (int)scheme);
  }
  *params_out = p;
  return ETPU_OK;
}

/* XNNPACK round_float_to_int<int8/uint8>: NaN → 0, nearbyint, saturate. */
static int32_t xnn_round_to_int(float x, int32_t lo, int32_t hi) {
  if (isnan(x)) x = 0.0f;
  if (x < (float)lo) return lo;
  if (x > (float)hi) return hi;
  return (int32_t)etpu_round_half_even_f32(x);
}

etpu_status etpu_mean_q8(const char *kname, bool is_signed, const etpu_mean_params *p, const etpu_reduce_plan *plan,
                         const void *in, void *out) {
  etpu_status st = etpu_tcheck_ptrs(kname, p, in, out);
  if (st != ETPU_OK) return st;
  if ((st = etpu_tcheck_reduce(kname, plan)) != ETPU_OK) return st;
  if (plan->reduce_count != p->reduce_count)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: params made for %zu elements per output, the plan folds %zu",
                     kname, p->reduce_count, plan->reduce_count);
  if (p->scheme == ETPU_MEAN_TFLITE ? (p->shift < -31 || p->shift > 31) : p->scheme != ETPU_MEAN_XNNPACK)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: parameters out of range", kname);
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  etpu_reduce_iter it;
  etpu_reduce_iter_init(plan, &it);
  for (size_t o = 0; o < plan->out_count; o++, etpu_reduce_iter_next_output(plan, &it)) {
    etpu_reduce_iter_begin(&it);
    int32_t acc = 0; /* n <= 2^23 and |x| <= 255: no overflow */
    for (size_t r = 0; r < plan->reduce_count; r++) {
      if (r) etpu_reduce_iter_step(plan, &it);
      acc += is_signed ? ((const int8_t *)in)[it.off] : ((const uint8_t *)in)[it.off];
    }
    int32_t v;
    if (p->scheme == ETPU_MEAN_TFLITE) {
      const int32_t shifted = (int32_t)((int64_t)acc - (int64_t)p->input_zero_point * (int64_t)p->reduce_count);
      v = etpu_clamp_i32((int64_t)etpu_mbqm_double_round(shifted, p->multiplier, p->shift) + p->output_zero_point, lo,
                         hi);
    } else {
      v = xnn_round_to_int((float)acc * p->xnn_scale + p->xnn_zero_point, lo, hi);
    }
    if (is_signed) ((int8_t *)out)[o] = (int8_t)v;
    else ((uint8_t *)out)[o] = (uint8_t)v;
  }
  return ETPU_OK;
}

etpu_status etpu_mean_s8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const int8_t *in,
                         int8_t *out) {
  return etpu_mean_q8("mean_s8", true, params, plan, in, out);
}

etpu_status etpu_mean_u8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const uint8_t *in,
                         uint8_t *out) {
  return etpu_mean_q8("mean_u8", false, params, plan, in, out);
}

etpu_status etpu_mean_f32(const etpu_reduce_plan *plan, const float *in, float *out) {
  etpu_status st = etpu_tcheck_ptrs("mean_f32", plan, in, out);
  if (st != ETPU_OK) return st;
  if ((st = etpu_tcheck_reduce("mean_f32", plan)) != ETPU_OK) return st;
  etpu_reduce_iter it;
  etpu_reduce_iter_init(plan, &it);
  for (size_t o = 0; o < plan->out_count; o++, etpu_reduce_iter_next_output(plan, &it)) {
    etpu_reduce_iter_begin(&it);
    float acc = 0.0f;
    for (size_t r = 0; r < plan->reduce_count; r++) {
      if (r) etpu_reduce_iter_step(plan, &it);
      acc += in[it.off];
    }
    out[o] = acc / (float)plan->reduce_count;
  }
  return ETPU_OK;
}
