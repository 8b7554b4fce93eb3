/*
 * rsqrt.c — RSQRT: float32 1/sqrtf(x); int8 in TFLite's fixed point
 * (elementwise.cc RsqrtEvalQuantized, the same in TFLM).
 *
 * int8: v = q − zp_in (v < 0 is refused: "defined for positive values");
 * v = 0 → 127. Otherwise (inv, s) = GetInvSqrtQuantizedMultiplierExp(v)
 * (TFLITE.md §7.9: 1/sqrt(v) ≈ inv·2^(s−31) by five Newton-Raphson steps in
 * gemmlowp Q3.28 fixed point), data = MBQM(1, inv, s + 20) and
 * out = clamp(MBQM(data, m, shift − 20) + zp_out) where (m, shift) =
 * QuantizeMultiplier(1 / (sqrtf(s_in)·s_out)) (the product in float).
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_rsqrt_f32(size_t count, const float *in, float *out) {
  etpu_status st = etpu_tcheck_ptrs("rsqrt_f32", in, out, out);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < count; i++) out[i] = 1.0f / sqrtf(in[i]);
  return ETPU_OK;
}

etpu_status etpu_rsqrt_params_init(const etpu_qparam *in, const etpu_qparam *out, etpu_rsqrt_params *params_out) {
  if (!in || !out || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "rsqrt params: NULL argument");
  if (!(in->scale > 0.0f && isfinite(in->scale) && out->scale > 0.0f && isfinite(out->scale)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "rsqrt params: scales must be finite and > 0");
  const float prod = sqrtf(in->scale) * out->scale;
  etpu_rsqrt_params p;
  etpu_status st = etpu_quantize_multiplier(1.0 / (double)prod, 0, &p.multiplier, &p.shift);
  if (st != ETPU_OK) return st;
  if (p.shift - 20 < -31 || p.shift - 20 > 31)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "rsqrt params: scale 1/(sqrt(%g)·%g) out of range", (double)in->scale,
                     (double)out->scale);
  p.input_zero_point = in->zero_point;
  p.output_zero_point = out->zero_point;
  *params_out = p;
  return ETPU_OK;
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<e> for e > 0. */
static int32_t sat_shift_left(int32_t x, int e) {
  const int32_t threshold = (int32_t)(((int64_t)1 << (31 - e)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << e);
}

static int clz32(uint32_t x) {
  int n = 0;
  if (!x) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
}

/* TFLite GetInvSqrtQuantizedMultiplierExp with reverse_shift = −1, for
 * input >= 0. */
static void inv_sqrt_multiplier_exp(int32_t input, int32_t *mult_out, int32_t *shift_out) {
  if (input <= 1) {
    *mult_out = INT32_MAX;
    *shift_out = 0;
    return;
  }
  int32_t shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    shift++;
  }
  const int max_left_shift_bits = clz32((uint32_t)input) - 1;
  const int left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
  shift -= left_shift_bit_pairs;
  input <<= 2 * left_shift_bit_pairs;
  /* Q3.28 (gemmlowp FixedPoint<int32, 3>); a product of Qa and Qb is
   * SRDHM(raw, raw) in Q(a+b). */
  const int32_t fp_input = input >> 1;
  const int32_t fp_half_input = etpu_rounding_divide_by_pot(fp_input, 1);
  const int32_t fp_half_three = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28; /* 1.0 */
  for (int i = 0; i < 5; i++) {
    const int32_t x2 = etpu_sat_rounding_doubling_high_mul(x, x);    /* Q6 */
    const int32_t x3 = etpu_sat_rounding_doubling_high_mul(x2, x);   /* Q9 */
    const int32_t x3r = sat_shift_left(x3, 6);                       /* Rescale<3>: Q3 */
    const int32_t a = etpu_sat_rounding_doubling_high_mul(fp_half_three, x); /* Q6 */
    const int32_t b = etpu_sat_rounding_doubling_high_mul(fp_half_input, x3r);
    x = sat_shift_left((int32_t)((uint32_t)a - (uint32_t)b), 3); /* Rescale<3> of Q6 */
  }
  x = etpu_sat_rounding_doubling_high_mul(x, 1518500250); /* × sqrt(2)/2 in Q0.31 */
  if (shift < 0) {
    x = (int32_t)((uint32_t)x << -shift);
    shift = 0;
  }
  *mult_out = x;
  *shift_out = -shift;
}

etpu_status etpu_rsqrt_s8(const etpu_rsqrt_params *params, size_t count, const int8_t *in, int8_t *out) {
  static const char kname[] = "rsqrt_s8";
  etpu_status st = etpu_tcheck_ptrs(kname, params, in, out);
  if (st != ETPU_OK) return st;
  if (params->shift - 20 < -31 || params->shift - 20 > 31 || params->input_zero_point < -128 ||
      params->input_zero_point > 127 || params->output_zero_point < -128 || params->output_zero_point > 127)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: parameters out of range", kname);
  for (size_t i = 0; i < count; i++) {
    const int32_t v = (int32_t)in[i] - params->input_zero_point;
    if (v < 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %zu is negative; RSQRT is defined for positive values",
                                kname, i);
    if (v == 0) {
      out[i] = 127;
      continue;
    }
    int32_t inv, s;
    inv_sqrt_multiplier_exp(v, &inv, &s);
    const int32_t data = etpu_mbqm_double_round(1, inv, s + 20);
    const int32_t o = etpu_mbqm_double_round(data, params->multiplier, params->shift - 20);
    out[i] = (int8_t)etpu_clamp_i32((int64_t)o + params->output_zero_point, -128, 127);
  }
  return ETPU_OK;
}
