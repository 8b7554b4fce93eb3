/*
 * requant.c — the fixed-point and fp32 requantization primitives of
 * requant.h, written from the formulas of TFLITE.md §7.1 (gemmlowp's
 * SaturatingRoundingDoublingHighMul and RoundingDivideByPOT, TFLite's
 * QuantizeMultiplier and MultiplyByQuantizedMultiplier) and §8 (XNNPACK's
 * fp32 requantization). Every result is exact integer arithmetic except the
 * fp32 mode, whose float steps follow XNNPACK's order of operations.
 */
#include "kernels/requant.h"

#include <math.h>

#include "base/base.h"

const char *etpu_requant_mode_name(int mode) {
  switch (mode) {
#define ETPU_X_(name, value, text) \
  case value:                      \
    return text;
    ETPU_REQUANT_MODE_LIST(ETPU_X_)
#undef ETPU_X_
    default:
      return "unknown";
  }
}

int32_t etpu_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  /* |ab| <= 2^62, so adding the nudge cannot overflow; C division truncates
   * toward zero, which with this nudge rounds ties toward +infinity. */
  const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t etpu_rounding_divide_by_pot(int32_t x, int exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

etpu_status etpu_quantize_multiplier(double m, int single_round, int32_t *multiplier_out, int32_t *shift_out) {
  if (!isfinite(m)) return etpu_fail(ETPU_INVALID_ARGUMENT, "quantize multiplier: %g is not finite", m);
  if (m == 0.0) {
    *multiplier_out = 0;
    *shift_out = 0;
    return ETPU_OK;
  }
  int exponent = 0;
  const double q = frexp(m, &exponent); /* |q| in [0.5, 1) */
  int64_t q_fixed = (int64_t)round(q * 2147483648.0); /* round(): half away from zero */
  if (q_fixed == ((int64_t)1 << 31)) {                 /* q rounded up to 1.0 */
    q_fixed /= 2;
    exponent += 1;
  }
  if (exponent < -31) { /* every bit would be shifted out */
    exponent = 0;
    q_fixed = 0;
  }
  if (single_round && exponent > 30) {
    exponent = 30;
    q_fixed = ((int64_t)1 << 31) - 1;
  }
  *multiplier_out = (int32_t)q_fixed;
  *shift_out = exponent;
  return ETPU_OK;
}

int32_t etpu_mbqm_double_round(int32_t x, int32_t multiplier, int32_t shift) {
  const int left = shift > 0 ? (int)shift : 0;
  const int right = shift > 0 ? 0 : (int)-shift;
  /* x · 2^left, wrapping like TFLite's int multiply (never reached for
   * multipliers below 1, which is every conv in practice). */
  const int32_t shifted = (int32_t)((uint32_t)x << left);
  return etpu_rounding_divide_by_pot(etpu_sat_rounding_doubling_high_mul(shifted, multiplier), right);
}

int32_t etpu_mbqm_single_round(int32_t x, int32_t multiplier, int32_t shift) {
  const int total = 31 - (int)shift; /* [1, 62] */
  const int64_t round_bit = (int64_t)1 << (total - 1);
  /* |x · multiplier| < 2^62 and round_bit <= 2^61: no overflow. */
  const int64_t result = ((int64_t)x * (int64_t)multiplier + round_bit) >> total;
  return (int32_t)result;
}

float etpu_round_half_even_f32(float x) {
  float f = floorf(x);
  const float frac = x - f; /* exact for |x| < 2^23 */
  if (frac > 0.5f || (frac == 0.5f && fmodf(f, 2.0f) != 0.0f)) f += 1.0f;
  return f;
}

int32_t etpu_requantize_fp32(int32_t acc, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  const float lo = (float)(qmin - zero_point);
  const float hi = (float)(qmax - zero_point);
  float v = (float)acc * scale;
  if (v < lo) v = lo;
  if (v > hi) v = hi;
  return (int32_t)etpu_round_half_even_f32(v) + zero_point;
}

static bool scale_ok(float s) { return isfinite(s) && s > 0.0f; }

etpu_status etpu_requant_init(float in_scale, float w_scale, float out_scale, etpu_requant_mode mode,
                              etpu_requant *out) {
  if (!scale_ok(in_scale) || !scale_ok(w_scale) || !scale_ok(out_scale))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "requant: scales must be finite and > 0 (input %g, weight %g, output %g)",
                     (double)in_scale, (double)w_scale, (double)out_scale);
  if (mode != ETPU_REQUANT_DOUBLE_ROUND && mode != ETPU_REQUANT_SINGLE_ROUND && mode != ETPU_REQUANT_FP32)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "requant: unknown mode %d", (int)mode);
  const double real = (double)in_scale * (double)w_scale / (double)out_scale;
  /* float32, one rounding per step, left to right (the casts force it even
   * where FLT_EVAL_METHOD != 0). */
  const float fscale = (float)((float)(in_scale * w_scale) / out_scale);
  etpu_requant rq;
  rq.scale = fscale;
  etpu_status st = etpu_quantize_multiplier(real, mode == ETPU_REQUANT_SINGLE_ROUND, &rq.multiplier, &rq.shift);
  if (st != ETPU_OK) return st;
  if (mode == ETPU_REQUANT_DOUBLE_ROUND && rq.shift > 31)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "requant: scale %g is too large (shift %d > 31)", real, (int)rq.shift);
  if (mode == ETPU_REQUANT_FP32 && !(isfinite(fscale) && fscale > 0.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "requant: float32 scale of %g is not a positive finite float", real);
  *out = rq;
  return ETPU_OK;
}

/* zero_point + round(f / scale), float32 as TFLite's TfLiteRound, widened so
 * that a tiny scale cannot overflow the conversion. */
static int64_t quantize_act(float f, float scale, int32_t zero_point) {
  float r = roundf(f / scale);
  if (r > 4294967296.0f) r = 4294967296.0f;
  if (r < -4294967296.0f) r = -4294967296.0f;
  return (int64_t)zero_point + (int64_t)r;
}

static int32_t clamp_range(int64_t v, int32_t lo, int32_t hi) { return (int32_t)(v < lo ? lo : (v > hi ? hi : v)); }

etpu_status etpu_activation_range_quantized(int32_t activation, float scale, int32_t zero_point, int32_t qmin,
                                            int32_t qmax, int32_t *act_min_out, int32_t *act_max_out) {
  if (qmin > qmax) return etpu_fail(ETPU_INVALID_ARGUMENT, "activation range: qmin %d > qmax %d", qmin, qmax);
  if (!scale_ok(scale))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "activation range: output scale %g is not finite and > 0",
                     (double)scale);
  if (zero_point < qmin || zero_point > qmax)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "activation range: zero point %d outside [%d, %d]", zero_point, qmin,
                     qmax);
  int32_t lo = qmin, hi = qmax;
  switch (activation) {
    case ETPU_ACT_NONE:
      break;
    case ETPU_ACT_RELU:
      lo = clamp_range(quantize_act(0.0f, scale, zero_point), qmin, qmax);
      break;
    case ETPU_ACT_RELU6:
      lo = clamp_range(quantize_act(0.0f, scale, zero_point), qmin, qmax);
      hi = clamp_range(quantize_act(6.0f, scale, zero_point), qmin, qmax);
      break;
    case ETPU_ACT_RELU_N1_TO_1:
      lo = clamp_range(quantize_act(-1.0f, scale, zero_point), qmin, qmax);
      hi = clamp_range(quantize_act(1.0f, scale, zero_point), qmin, qmax);
      break;
    case ETPU_ACT_TANH:
    case ETPU_ACT_SIGN_BIT:
      return etpu_fail(ETPU_UNSUPPORTED, "activation range: fused activation %d is not supported on quantized ops",
                       activation);
    default:
      return etpu_fail(ETPU_INVALID_ARGUMENT, "activation range: unknown fused activation %d", activation);
  }
  *act_min_out = lo;
  *act_max_out = hi;
  return ETPU_OK;
}
