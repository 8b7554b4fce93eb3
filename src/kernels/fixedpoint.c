/*
 * fixedpoint.c — gemmlowp's fixed-point exp, logistic, tanh, reciprocal and
 * inverse square root (fixedpoint.h), written from the algorithm
 * descriptions of TFLITE.md §7.1 and §7.7–§7.9. Wrapping int32 additions go
 * through uint32 so that C has no signed overflow; products use SRDHM.
 */
#include "kernels/fixedpoint.h"

#include "kernels/requant.h"

static inline int32_t add_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t sub_wrap(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t mul(int32_t a, int32_t b) { return etpu_sat_rounding_doubling_high_mul(a, b); }

int etpu_fp_clz32(uint32_t x) {
  if (x == 0) return 32;
  int n = 0;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
}

int32_t etpu_fp_mul_by_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return etpu_rounding_divide_by_pot(x, -exponent);
  const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

int32_t etpu_fp_rounding_half_sum(int32_t a, int32_t b) {
  const int64_t sum = (int64_t)a + (int64_t)b;
  const int64_t sign = sum >= 0 ? 1 : -1;
  return (int32_t)((sum + sign) / 2);
}

/* exp(a) for a Q0 value a in [−1/4, 0): Taylor series around −1/8. */
static int32_t exp_on_interval_quarter(int32_t a) {
  const int32_t constant_term = 1895147668; /* exp(−1/8) */
  const int32_t one_third = 715827883;
  const int32_t x = add_wrap(a, 1 << 28); /* a + 1/8 */
  const int32_t x2 = mul(x, x);
  const int32_t x3 = mul(x2, x);
  const int32_t x4 = mul(x2, x2);
  const int32_t x4_over_4 = etpu_fp_mul_by_pot(x4, -2);
  const int32_t poly = etpu_fp_mul_by_pot(add_wrap(mul(add_wrap(x4_over_4, x3), one_third), x2), -1);
  return add_wrap(constant_term, mul(constant_term, add_wrap(x, poly)));
}

int32_t etpu_fp_exp_on_negative_values(int32_t a, int integer_bits) {
  /* exp(−2^k) in Q0 for k = −2..4. */
  static const int32_t k_barrel[7] = {1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
  const int frac = 31 - integer_bits;
  const int32_t one_quarter = (int32_t)1 << (frac - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_one_quarter = sub_wrap(a & mask, one_quarter);
  int32_t result = exp_on_interval_quarter(etpu_fp_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
  const int32_t remainder = sub_wrap(a_mod_quarter_minus_one_quarter, a);
  for (int e = -2; e <= 4; e++) {
    if (integer_bits <= e) break;
    const int shift = frac + e;
    if (remainder & ((int32_t)1 << shift)) result = mul(result, k_barrel[e + 2]);
  }
  if (integer_bits > 5) {
    const int32_t clamp = -(int32_t)((int64_t)1 << (36 - integer_bits)); /* −32.0 */
    if (a < clamp) result = 0;
  }
  if (a == 0) result = INT32_MAX;
  return result;
}

/* Newton–Raphson for 1 / (2·half_denominator), Q2 result. */
static int32_t newton_reciprocal_q2(int32_t half_denominator) {
  const int32_t c48_17 = 1515870810;   /* 48/17 in Q2 */
  const int32_t cm32_17 = -1010580540; /* −32/17 in Q2 */
  int32_t x = add_wrap(c48_17, mul(half_denominator, cm32_17));
  for (int i = 0; i < 3; i++) {
    const int32_t half_denominator_times_x = mul(half_denominator, x);
    const int32_t one_minus = sub_wrap((int32_t)1 << 29, half_denominator_times_x);
    x = add_wrap(x, etpu_fp_rescale(mul(x, one_minus), 4, 2));
  }
  return x;
}

int32_t etpu_fp_one_over_one_plus_x(int32_t a) {
  const int32_t x = newton_reciprocal_q2(etpu_fp_rounding_half_sum(a, INT32_MAX));
  /* x / 2 read as Q1, then rescaled to Q0. */
  return etpu_fp_rescale(x, 1, 0);
}

int32_t etpu_fp_one_minus_x_over_one_plus_x(int32_t a) {
  const int32_t x = newton_reciprocal_q2(etpu_fp_rounding_half_sum(a, INT32_MAX));
  return etpu_fp_rescale(sub_wrap(x, (int32_t)1 << 29), 2, 0);
}

int32_t etpu_fp_logistic(int32_t a, int integer_bits) {
  if (a == 0) return (int32_t)1 << 30;
  const int32_t neg_abs = a > 0 ? sub_wrap(0, a) : a;
  const int32_t pos = etpu_fp_one_over_one_plus_x(etpu_fp_exp_on_negative_values(neg_abs, integer_bits));
  return a > 0 ? pos : sub_wrap(INT32_MAX, pos);
}

int32_t etpu_fp_tanh(int32_t a, int integer_bits) {
  if (a == 0) return 0;
  const int32_t neg_abs = a < 0 ? a : sub_wrap(0, a);
  /* exp(2·n): the same raw value read with one more integer bit. */
  const int32_t t = etpu_fp_one_minus_x_over_one_plus_x(etpu_fp_exp_on_negative_values(neg_abs, integer_bits + 1));
  return a < 0 ? sub_wrap(0, t) : t;
}

int32_t etpu_fp_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit) {
  const int headroom_plus_one = etpu_fp_clz32((uint32_t)x);
  *num_bits_over_unit = x_integer_digits - headroom_plus_one;
  const uint32_t shifted = headroom_plus_one >= 32 ? 0u : ((uint32_t)x << headroom_plus_one);
  const int32_t shifted_sum_minus_one = (int32_t)(shifted - 0x80000000u);
  return etpu_fp_one_over_one_plus_x(shifted_sum_minus_one);
}

void etpu_fp_inv_sqrt_multiplier_exp(int32_t input, int reverse_shift, int32_t *multiplier_out, int *shift_out) {
  if (input <= 1) {
    *multiplier_out = INT32_MAX;
    *shift_out = 0;
    return;
  }
  int shift = 11;
  while (input >= (1 << 29)) {
    input /= 4;
    shift++;
  }
  const unsigned max_left_shift_bits = (unsigned)etpu_fp_clz32((uint32_t)input) - 1;
  const unsigned left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
  shift -= (int)left_shift_bit_pairs;
  input = (int32_t)((uint32_t)input << (2 * left_shift_bit_pairs));
  /* Q3 Newton–Raphson for 1/sqrt, starting from 1. */
  const int32_t fp_input = input >> 1;
  const int32_t fp_half_input = etpu_fp_mul_by_pot(fp_input, -1);
  const int32_t fp_half_three = (1 << 28) + (1 << 27);
  int32_t x = 1 << 28; /* 1.0 in Q3 */
  for (int i = 0; i < 5; i++) {
    const int32_t x3 = etpu_fp_rescale(mul(mul(x, x), x), 9, 3);
    x = etpu_fp_rescale(sub_wrap(mul(fp_half_three, x), mul(fp_half_input, x3)), 6, 3);
  }
  x = mul(x, 1518500250); /* · sqrt(2)/2 (Q0) */
  if (shift < 0) {
    x = (int32_t)((uint32_t)x << -shift);
    shift = 0;
  }
  *multiplier_out = x;
  *shift_out = shift * reverse_shift;
}

int32_t etpu_fp_input_radius(int integer_bits, int left_shift, int total_signed_bits) {
  const double max_input_rescaled = 1.0 * (double)((1 << integer_bits) - 1) *
                                    (double)((int64_t)1 << (total_signed_bits - integer_bits)) /
                                    (double)((int64_t)1 << left_shift);
  const double f = max_input_rescaled < 2147483647.0 ? max_input_rescaled : 2147483647.0;
  return (int32_t)f; /* floor: the value is >= 0 */
}
