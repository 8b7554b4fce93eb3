/*
 * fixedpoint.h — gemmlowp's fixed-point transcendental functions, as the
 * TFLite reference kernels use them (SOFTMAX, LOGISTIC, TANH,
 * L2_NORMALIZATION, the integer LSTM; TFLITE.md §7.7–§7.9).
 *
 * A value "Qk" is an int32 with k integer bits and 31 − k fractional bits:
 * real = raw / 2^(31 − k). Products of a Qa and a Qb value are Q(a+b), raw =
 * SRDHM(a, b) (requant.h). Additions and subtractions wrap like gemmlowp's
 * plain int32 arithmetic. Q0 "one" is INT32_MAX (1.0 is not representable).
 *
 * Everything here is pure integer arithmetic, exact and identical on every
 * platform; the algorithms are gemmlowp's (fixedpoint.h): a Taylor expansion
 * of exp on [−1/4, 0) with a barrel shifter of exp(−2^k) constants, and
 * Newton–Raphson division with the 48/17, −32/17 start.
 */
#ifndef ETPU_KERNELS_FIXEDPOINT_H
#define ETPU_KERNELS_FIXEDPOINT_H

#include <stdint.h>

/* x · 2^exponent rounded (half away from zero) for exponent < 0, and
 * saturated to the int32 range for exponent > 0 (gemmlowp
 * SaturatingRoundingMultiplyByPOT). exponent in [−31, 31]. */
int32_t etpu_fp_mul_by_pot(int32_t x, int exponent);

/* Rescale a Qsrc raw value to Qdst (saturating when dst < src). */
static inline int32_t etpu_fp_rescale(int32_t x, int src_integer_bits, int dst_integer_bits) {
  return etpu_fp_mul_by_pot(x, src_integer_bits - dst_integer_bits);
}

/* (a + b) / 2 rounded half away from zero, in 64 bits (RoundingHalfSum). */
int32_t etpu_fp_rounding_half_sum(int32_t a, int32_t b);

/* exp(a) for a Q(integer_bits) value a <= 0; result Q0 (exp(0) = INT32_MAX).
 * integer_bits in [0, 30]. */
int32_t etpu_fp_exp_on_negative_values(int32_t a, int integer_bits);

/* 1 / (1 + a) for a Q0 value a in [0, 1); result Q0. */
int32_t etpu_fp_one_over_one_plus_x(int32_t a);

/* (1 − a) / (1 + a) for a Q0 value a in [0, 1); result Q0. */
int32_t etpu_fp_one_minus_x_over_one_plus_x(int32_t a);

/* The logistic function of a Q(integer_bits) value; result Q0 (0.5 at 0). */
int32_t etpu_fp_logistic(int32_t a, int integer_bits);

/* tanh of a Q(integer_bits) value; result Q0. integer_bits <= 29. */
int32_t etpu_fp_tanh(int32_t a, int integer_bits);

/* TFLite GetReciprocal: for x > 0 a Q(x_integer_digits) value, returns a Q0
 * value s and *num_bits_over_unit = b such that 1/x ≈ s · 2^−b. */
int32_t etpu_fp_reciprocal(int32_t x, int x_integer_digits, int *num_bits_over_unit);

/* TFLite GetInvSqrtQuantizedMultiplierExp: 1/sqrt(input) as a multiplier and
 * shift, for input >= 0 (input <= 1 gives (INT32_MAX, 0)); the shift is
 * multiplied by reverse_shift (TFLite passes −1). */
void etpu_fp_inv_sqrt_multiplier_exp(int32_t input, int reverse_shift, int32_t *multiplier_out, int *shift_out);

/* TFLite CalculateInputRadius: floor((2^integer_bits − 1) ·
 * 2^(total_signed_bits − integer_bits) / 2^left_shift), the largest input
 * magnitude that does not saturate a Q(integer_bits) rescaling. left_shift
 * in [0, 62]. */
int32_t etpu_fp_input_radius(int integer_bits, int left_shift, int total_signed_bits);

/* Count of leading zero bits of a 32-bit value (32 for 0). */
int etpu_fp_clz32(uint32_t x);

#endif /* ETPU_KERNELS_FIXEDPOINT_H */
