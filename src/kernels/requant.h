/*
 * requant.h — the one requantization routine set of etpu's integer kernels:
 * how an int32 accumulator becomes an 8-bit output, in every arithmetic the
 * runtime profiles need (docs: TFLITE.md §7.1, §8, §9).
 *
 * A kernel never computes a multiplier itself. The caller (the interpreter,
 * at plan time) turns each output channel's real scale
 * in_scale · w_scale[c] / out_scale into an etpu_requant with
 * etpu_requant_init(), once, and hands the kernel the array together with an
 * etpu_requant_mode. The kernel then calls etpu_requant_output() per value.
 *
 * Modes and the profiles that use them:
 *
 *   mode                      arithmetic                                   used by
 *   ------------------------  -------------------------------------------  -------------------------------
 *   ETPU_REQUANT_DOUBLE_ROUND  SRDHM then RoundingDivideByPOT (gemmlowp);   profile tflite-ref (every op);
 *                              multiplier from QuantizeMultiplier(double)   litert: builtin DEPTHWISE_CONV_2D
 *   ETPU_REQUANT_SINGLE_ROUND  one 64-bit multiply, one rounding shift      litert: builtin CONV_2D (an op
 *                              (TFLITE_SINGLE_ROUNDING)                     XNNPACK refused)
 *   ETPU_REQUANT_FP32          float32 scale, float multiply, clamp, round  litert: ops XNNPACK runs
 *                              half to even, + zero point (XNNPACK "fp32")
 *
 * Assumptions, true of every compiler etpu supports (gcc, clang): `>>` on a
 * negative int32/int64 is an arithmetic shift, and converting an out-of-range
 * unsigned value to int32_t wraps (two's complement). The tests check both.
 */
#ifndef ETPU_KERNELS_REQUANT_H
#define ETPU_KERNELS_REQUANT_H

#include <stdint.h>

#include "etpu/etpu.h"

/* How an accumulator is scaled to the output. Append-only. */
#define ETPU_REQUANT_MODE_LIST(X)                                          \
  X(ETPU_REQUANT_DOUBLE_ROUND, 0, "double-round")                          \
  X(ETPU_REQUANT_SINGLE_ROUND, 1, "single-round")                          \
  X(ETPU_REQUANT_FP32, 2, "fp32")

typedef enum etpu_requant_mode {
#define ETPU_X_(name, value, text) name = value,
  ETPU_REQUANT_MODE_LIST(ETPU_X_)
#undef ETPU_X_
} etpu_requant_mode;

/* Short name of a mode ("double-round"); "unknown" for other values. */
const char *etpu_requant_mode_name(int mode);

/* One output channel's scale, in the forms every mode needs. Built by
 * etpu_requant_init(); a kernel only reads the fields its mode uses. */
typedef struct etpu_requant {
  int32_t multiplier; /* Q31 significand: [2^30, 2^31) for a positive scale, 0 for a tiny one */
  int32_t shift;      /* power-of-two exponent, > 0 = left shift: scale ≈ multiplier·2^(shift−31) */
  float scale;        /* float32 scale (ETPU_REQUANT_FP32), computed in float32 as XNNPACK does */
} etpu_requant;

/* ---- gemmlowp / TFLite fixed-point primitives (TFLITE.md §7.1) ---------- */

/* SaturatingRoundingDoublingHighMul (ARM VQRDMULH): round(a·b / 2^31) with
 * ties toward +infinity; the one overflow, INT32_MIN·INT32_MIN, gives
 * INT32_MAX. */
int32_t etpu_sat_rounding_doubling_high_mul(int32_t a, int32_t b);

/* RoundingDivideByPOT: x / 2^exponent rounded half away from zero.
 * exponent must be in [0, 31]. */
int32_t etpu_rounding_divide_by_pot(int32_t x, int exponent);

/* QuantizeMultiplier: split a real multiplier m into (multiplier, shift) with
 * m ≈ multiplier·2^(shift−31): frexp, round half away from zero, the 2^31
 * carry (→ 2^30, shift+1), and shift < −31 → (0, 0). m = 0 gives (0, 0).
 * Negative m gives a negative multiplier (no kernel uses one).
 * single_round != 0 applies the single-rounding build's extra rule: a shift
 * above 30 saturates to (2^31 − 1, 30).
 * Returns ETPU_INVALID_ARGUMENT (outputs untouched) if m is not finite. */
ETPU_WUR etpu_status etpu_quantize_multiplier(double m, int single_round, int32_t *multiplier_out,
                                              int32_t *shift_out);

/* MultiplyByQuantizedMultiplier, double rounding (TFLite/TFLM default):
 * RoundingDivideByPOT(SRDHM(x·2^max(shift,0), multiplier), max(−shift,0)).
 * shift must be in [−31, 31]. The left shift wraps on int32 overflow, as
 * the TFLite code does in practice (only multipliers > 1 shift left). */
int32_t etpu_mbqm_double_round(int32_t x, int32_t multiplier, int32_t shift);

/* MultiplyByQuantizedMultiplier, single rounding (TFLITE_SINGLE_ROUNDING):
 * (x·multiplier + 2^(30−shift)) >> (31−shift) in 64 bits; the result is
 * truncated to int32 as TFLite does. Requires multiplier >= 0 and shift in
 * [−31, 30] (etpu_quantize_multiplier with single_round guarantees both). */
int32_t etpu_mbqm_single_round(int32_t x, int32_t multiplier, int32_t shift);

/* Round half to even, independent of the FPU rounding mode. |x| < 2^23. */
float etpu_round_half_even_f32(float x);

/* XNNPACK fp32 requantization of one accumulator: v = (float)acc · scale,
 * clamped to [qmin − zero_point, qmax − zero_point] in float, rounded half to
 * even, plus zero_point. Requires qmin <= qmax and a finite scale. */
int32_t etpu_requantize_fp32(int32_t acc, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);

/* ---- building the per-channel table ------------------------------------ */

/* Fill *out for the real scale in_scale·w_scale/out_scale:
 *  - multiplier/shift: QuantizeMultiplier of (double)in · (double)w / (double)out
 *    (TFLite PopulateConvolutionQuantizationParams / GetQuantizedConvolutionMultipler),
 *    with the single-rounding rule when mode is ETPU_REQUANT_SINGLE_ROUND;
 *  - scale: in · w / out evaluated in float32, left to right (XNNPACK).
 * Returns ETPU_INVALID_ARGUMENT if a scale is not finite and > 0 (*out is
 * untouched then). Range limits of a runtime (XNNPACK refuses a float scale
 * >= 256) and TFLite's |in·w − bias_scale| model check are the caller's. */
ETPU_WUR etpu_status etpu_requant_init(float in_scale, float w_scale, float out_scale, etpu_requant_mode mode,
                                       etpu_requant *out);

/* ---- activation range (TFLITE.md §7.2) --------------------------------- */

/* TensorFlow Lite ActivationFunctionType values. */
enum {
  ETPU_ACT_NONE = 0,
  ETPU_ACT_RELU = 1,
  ETPU_ACT_RELU_N1_TO_1 = 2,
  ETPU_ACT_RELU6 = 3,
  ETPU_ACT_TANH = 4,
  ETPU_ACT_SIGN_BIT = 5,
};

/* CalculateActivationRangeQuantized: the clamp range of a fused activation
 * on an output of (scale, zero_point) and type range [qmin, qmax], with
 * Q(f) = zero_point + round(f / scale) in float32 (half away from zero):
 * NONE → [qmin, qmax]; RELU → [max(qmin, Q(0)), qmax];
 * RELU6 → [max(qmin, Q(0)), min(qmax, Q(6))]; RELU_N1_TO_1 → [max(qmin, Q(−1)), min(qmax, Q(1))].
 * Returns ETPU_UNSUPPORTED for TANH / SIGN_BIT, ETPU_INVALID_ARGUMENT for an
 * unknown activation, a scale not finite and > 0, or qmin > qmax. */
ETPU_WUR etpu_status etpu_activation_range_quantized(int32_t activation, float scale, int32_t zero_point,
                                                     int32_t qmin, int32_t qmax, int32_t *act_min_out,
                                                     int32_t *act_max_out);

/* ---- the per-value step every kernel uses ------------------------------ */

/* out = clamp(requant(acc) + zero_point, act_min, act_max) in the given mode.
 * Requires act_min <= act_max and rq built by etpu_requant_init() for the
 * same mode (an unknown mode yields act_min). Inline: kernels call it per
 * output value. */
static inline int32_t etpu_requant_output(int32_t acc, const etpu_requant *rq, etpu_requant_mode mode,
                                          int32_t zero_point, int32_t act_min, int32_t act_max) {
  int64_t v;
  switch (mode) {
    case ETPU_REQUANT_DOUBLE_ROUND:
      v = (int64_t)etpu_mbqm_double_round(acc, rq->multiplier, rq->shift) + zero_point;
      break;
    case ETPU_REQUANT_SINGLE_ROUND:
      v = (int64_t)etpu_mbqm_single_round(acc, rq->multiplier, rq->shift) + zero_point;
      break;
    case ETPU_REQUANT_FP32:
      return etpu_requantize_fp32(acc, rq->scale, zero_point, act_min, act_max);
    default:
      return act_min;
  }
  if (v < act_min) v = act_min;
  if (v > act_max) v = act_max;
  return (int32_t)v;
}

#endif /* ETPU_KERNELS_REQUANT_H */
