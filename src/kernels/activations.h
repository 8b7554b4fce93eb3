/*
 * activations.h — etpu's reference kernels for the element-wise and
 * normalizing activation ops (src/kernels/ref/, one op per file): SOFTMAX,
 * LOGISTIC, TANH, the 256-entry lookup tables, L2_NORMALIZATION, RELU /
 * RELU6 / RELU_N1_TO_1, LEAKY_RELU, PRELU and HARD_SWISH, for int8, uint8 and
 * float32.
 *
 * Two arithmetics exist for several of them (TFLITE.md §7.7–§7.9, §9):
 *  - the TFLite reference kernels / TFLite Micro (profile tflite-ref):
 *    gemmlowp fixed point (fixedpoint.h), bit-exact and platform-independent;
 *  - TFLite's builtin optimized kernels (profile litert): SOFTMAX with a float
 *    exp table (etpu_softmax_lut_*), LOGISTIC / TANH with a 256-entry table
 *    (etpu_lut_*). These use float32 and expf and match a platform whose expf
 *    is correctly rounded on the values met (glibc, musl).
 *
 * Conventions:
 *  - Data is a flat array; ops that normalize over the last axis take
 *    outer_size rows of depth values (row-major).
 *  - Parameters are computed once by the *_params_init helpers (at plan
 *    time), never by the kernel. The kernels never allocate and need no
 *    scratch memory.
 *  - Every kernel checks its arguments and returns ETPU_INVALID_ARGUMENT on
 *    NULL pointers, non-positive sizes or out-of-range parameters, writing
 *    nothing; otherwise ETPU_OK. Input and output may be the same buffer for
 *    the purely element-wise kernels (LUT, RELU, LEAKY_RELU, HARD_SWISH,
 *    LOGISTIC, TANH); SOFTMAX and L2_NORMALIZATION read a row twice, so for
 *    them input and output must not overlap unless they are identical rows
 *    already consumed — pass distinct buffers.
 */
#ifndef ETPU_KERNELS_ACTIVATIONS_H
#define ETPU_KERNELS_ACTIVATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"

/* ---- SOFTMAX (softmax.c) -------------------------------------------------- */

/* Fixed-point reference softmax (TFLITE.md §7.7a). */
typedef struct etpu_softmax_params {
  int32_t input_multiplier; /* QuantizeMultiplierGreaterThanOne(min(beta·s_in·2^26, 2^31 − 1)) */
  int32_t input_left_shift; /* its shift, [0, 31] */
  int32_t diff_min;         /* −CalculateInputRadius(5, left_shift): elements with x − max below are 0 */
} etpu_softmax_params;

/* From beta and the input scale (double, as TFLite). ETPU_UNSUPPORTED when
 * beta·s_in·2^26 <= 1 (TFLite's CHECK) or not finite. */
ETPU_WUR etpu_status etpu_softmax_params_init(double beta, double input_scale, etpu_softmax_params *params_out);

/* int8 → int8 with output (1/256, −128), uint8 → uint8 with output (1/256, 0):
 * input zero points cancel out (only x − max is used). */
ETPU_WUR etpu_status etpu_softmax_s8(const etpu_softmax_params *params, int32_t outer_size, int32_t depth,
                                     const int8_t *input, int8_t *output);
ETPU_WUR etpu_status etpu_softmax_u8(const etpu_softmax_params *params, int32_t outer_size, int32_t depth,
                                     const uint8_t *input, uint8_t *output);
/* int8 → int16 with output (1/32768, 0) (TFLM's int8-in, int16-out softmax). */
ETPU_WUR etpu_status etpu_softmax_s8_s16(const etpu_softmax_params *params, int32_t outer_size, int32_t depth,
                                         const int8_t *input, int16_t *output);

/* Float-table softmax of TFLite's builtin kernels (TFLITE.md §7.7b). */
typedef struct etpu_softmax_lut_params {
  float table[256];     /* table[255 − v] = expf(−s_in·beta · v) */
  float output_scale;   /* s_out */
  int32_t output_zero_point;
} etpu_softmax_lut_params;

/* Fill the table (float32 arithmetic as TFLite's PopulateSoftmaxLookupTable). */
ETPU_WUR etpu_status etpu_softmax_lut_params_init(float beta, float input_scale, float output_scale,
                                                  int32_t output_zero_point, etpu_softmax_lut_params *params_out);
/* int8: q = round(p) + zp; uint8: q = (int)(p + 0.5) (zero point ignored, as
 * TFLite off aarch64); both clamped to the type range. */
ETPU_WUR etpu_status etpu_softmax_lut_s8(const etpu_softmax_lut_params *params, int32_t outer_size, int32_t depth,
                                         const int8_t *input, int8_t *output);
ETPU_WUR etpu_status etpu_softmax_lut_u8(const etpu_softmax_lut_params *params, int32_t outer_size, int32_t depth,
                                         const uint8_t *input, uint8_t *output);

/* Float softmax: exp(beta·(x − max)) / Σ, float32. */
ETPU_WUR etpu_status etpu_softmax_f32(float beta, int32_t outer_size, int32_t depth, const float *input,
                                      float *output);

/* ---- LOGISTIC and TANH, fixed point (logistic.c, tanh.c) ------------------ */

typedef struct etpu_sigmoid_params {
  int32_t input_zero_point;   /* [−128, 127] (int8) or [0, 255] (uint8) */
  int32_t input_range_radius; /* |x − zp| >= radius saturates */
  int32_t input_multiplier;   /* s_in·2^27 = multiplier · 2^(left_shift − 31) */
  int32_t input_left_shift;   /* [0, 31] */
} etpu_sigmoid_params;

/* TFLite Micro's int8 parameters (logistic_common.cc / tanh_common.cc): the
 * multiplier is round(frexp(s_in·2^27)·2^31) without QuantizeMultiplier's
 * carry rule (a significand rounding to 2^31 wraps, as the C++ cast does on
 * x86). ETPU_UNSUPPORTED when s_in·2^27 < 1 (the shift would be negative). */
ETPU_WUR etpu_status etpu_sigmoid_params_init_s8(float input_scale, int32_t input_zero_point,
                                                 etpu_sigmoid_params *params_out);
/* TFLite's uint8 parameters: QuantizeMultiplierGreaterThanOne(s_in·2^27). */
ETPU_WUR etpu_status etpu_sigmoid_params_init_u8(float input_scale, int32_t input_zero_point,
                                                 etpu_sigmoid_params *params_out);

/* LOGISTIC: int8 output (1/256, −128); uint8 output (1/256, 0). */
ETPU_WUR etpu_status etpu_logistic_s8(const etpu_sigmoid_params *params, size_t size, const int8_t *input,
                                      int8_t *output);
ETPU_WUR etpu_status etpu_logistic_u8(const etpu_sigmoid_params *params, size_t size, const uint8_t *input,
                                      uint8_t *output);
ETPU_WUR etpu_status etpu_logistic_f32(size_t size, const float *input, float *output);

/* TANH: int8 output (1/128, 0); uint8 output (1/128, 128). */
ETPU_WUR etpu_status etpu_tanh_s8(const etpu_sigmoid_params *params, size_t size, const int8_t *input,
                                  int8_t *output);
ETPU_WUR etpu_status etpu_tanh_u8(const etpu_sigmoid_params *params, size_t size, const uint8_t *input,
                                  uint8_t *output);
ETPU_WUR etpu_status etpu_tanh_f32(size_t size, const float *input, float *output);

/* ---- 256-entry lookup tables (lut.c) -------------------------------------- */

/* The element functions a table can hold. Append-only. */
typedef enum etpu_lut_fn {
  ETPU_LUT_LOGISTIC = 0, /* 1 / (1 + expf(−x)) */
  ETPU_LUT_TANH = 1,     /* tanhf(x) */
} etpu_lut_fn;

/* How a table entry is rounded to the output type. Append-only. */
typedef enum etpu_lut_rounding {
  ETPU_LUT_ROUND_HALF_AWAY = 0, /* TFLite LUTPopulate: round(f(x)/s_out) + zp */
  ETPU_LUT_ROUND_HALF_EVEN = 1, /* XNNPACK: lrintf(f(x)/s_out), clamped, + zp */
} etpu_lut_rounding;

/* table[(uint8)q] for every q of the input type (is_signed: int8, else
 * uint8): f = s_in·(q − zp_in) in float32, y = fn(f), quantized to the
 * output. ETPU_INVALID_ARGUMENT for a bad scale or function. */
ETPU_WUR etpu_status etpu_lut_init(etpu_lut_fn fn, etpu_lut_rounding rounding, int is_signed, float input_scale,
                                   int32_t input_zero_point, float output_scale, int32_t output_zero_point,
                                   uint8_t table[256]);
/* output[i] = table[(uint8)input[i]]. */
ETPU_WUR etpu_status etpu_lut_s8(const uint8_t table[256], size_t size, const int8_t *input, int8_t *output);
ETPU_WUR etpu_status etpu_lut_u8(const uint8_t table[256], size_t size, const uint8_t *input, uint8_t *output);

/* ---- L2_NORMALIZATION (l2norm.c) ------------------------------------------ */

/* int8: output (1/128, 0); uint8: output (1/128, 128). depth < 2^15 (the
 * int32 sum of squares cannot overflow). */
ETPU_WUR etpu_status etpu_l2norm_s8(int32_t input_zero_point, int32_t outer_size, int32_t depth,
                                    const int8_t *input, int8_t *output);
ETPU_WUR etpu_status etpu_l2norm_u8(int32_t input_zero_point, int32_t outer_size, int32_t depth,
                                    const uint8_t *input, uint8_t *output);
/* x / max(sqrt(Σx²), epsilon) in float32. */
ETPU_WUR etpu_status etpu_l2norm_f32(float epsilon, int32_t outer_size, int32_t depth, const float *input,
                                     float *output);

/* ---- RELU, RELU6, RELU_N1_TO_1 (relu.c) ----------------------------------- */

typedef struct etpu_relu_params {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;     /* s_in / s_out, QuantizeMultiplier */
  int32_t shift;          /* [−31, 31] */
  int32_t activation_min; /* clamp in the output type */
  int32_t activation_max;
} etpu_relu_params;

/* For the clamp [lo, hi] in real values (hi = +INFINITY for RELU):
 * act_min = max(qmin, zp_out + round(lo/s_out)), act_max likewise (TFLite
 * QuantizedReluX). */
ETPU_WUR etpu_status etpu_relu_params_init(float lo, float hi, float input_scale, int32_t input_zero_point,
                                           float output_scale, int32_t output_zero_point, int32_t qmin,
                                           int32_t qmax, etpu_relu_params *params_out);
/* out = clamp(zp_out + MBQM(x − zp_in), act_min, act_max) (double rounding). */
ETPU_WUR etpu_status etpu_relu_s8(const etpu_relu_params *params, size_t size, const int8_t *input, int8_t *output);
ETPU_WUR etpu_status etpu_relu_u8(const etpu_relu_params *params, size_t size, const uint8_t *input,
                                  uint8_t *output);
/* out = min(max(x, lo), hi). */
ETPU_WUR etpu_status etpu_relu_f32(float lo, float hi, size_t size, const float *input, float *output);

/* ---- LEAKY_RELU (leaky_relu.c) -------------------------------------------- */

typedef struct etpu_leaky_relu_params {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier_identity; /* s_in / s_out */
  int32_t shift_identity;
  int32_t multiplier_alpha;    /* s_in·alpha / s_out (float32 product, as TFLite) */
  int32_t shift_alpha;
} etpu_leaky_relu_params;

ETPU_WUR etpu_status etpu_leaky_relu_params_init(float alpha, float input_scale, int32_t input_zero_point,
                                                 float output_scale, int32_t output_zero_point,
                                                 etpu_leaky_relu_params *params_out);
ETPU_WUR etpu_status etpu_leaky_relu_s8(const etpu_leaky_relu_params *params, size_t size, const int8_t *input,
                                        int8_t *output);
ETPU_WUR etpu_status etpu_leaky_relu_u8(const etpu_leaky_relu_params *params, size_t size, const uint8_t *input,
                                        uint8_t *output);
ETPU_WUR etpu_status etpu_leaky_relu_f32(float alpha, size_t size, const float *input, float *output);

/* ---- PRELU (prelu.c) ------------------------------------------------------ */

/* A 4-D shape; lower-rank shapes are right-aligned and padded with 1. */
typedef struct etpu_shape4 {
  int32_t d[4];
} etpu_shape4;

typedef struct etpu_prelu_params {
  int32_t input_zero_point;
  int32_t alpha_zero_point;
  int32_t output_zero_point;
  int32_t multiplier_identity; /* s_in / s_out */
  int32_t shift_identity;
  int32_t multiplier_alpha;    /* s_in·s_alpha / s_out */
  int32_t shift_alpha;
} etpu_prelu_params;

/* float_ratios != 0 forms the two ratios in float32 (TFLite's prelu.cc);
 * 0 in double (TFLite Micro's prelu_common.cc). */
ETPU_WUR etpu_status etpu_prelu_params_init(float input_scale, int32_t input_zero_point, float alpha_scale,
                                            int32_t alpha_zero_point, float output_scale,
                                            int32_t output_zero_point, int float_ratios,
                                            etpu_prelu_params *params_out);
/* output has output_shape; input and alpha broadcast to it (each dimension
 * equal to the output's or 1). x >= 0: MBQM(x, identity); else
 * MBQM(x·a, alpha); + zp_out; clamp. (x, a with zero points removed.) */
ETPU_WUR etpu_status etpu_prelu_s8(const etpu_prelu_params *params, const etpu_shape4 *input_shape,
                                   const int8_t *input, const etpu_shape4 *alpha_shape, const int8_t *alpha,
                                   const etpu_shape4 *output_shape, int8_t *output);
ETPU_WUR etpu_status etpu_prelu_u8(const etpu_prelu_params *params, const etpu_shape4 *input_shape,
                                   const uint8_t *input, const etpu_shape4 *alpha_shape, const uint8_t *alpha,
                                   const etpu_shape4 *output_shape, uint8_t *output);
ETPU_WUR etpu_status etpu_prelu_f32(const etpu_shape4 *input_shape, const float *input, const etpu_shape4 *alpha_shape,
                                    const float *alpha, const etpu_shape4 *output_shape, float *output);

/* ---- HARD_SWISH (hard_swish.c) -------------------------------------------- */

typedef struct etpu_hard_swish_params {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int16_t reluish_multiplier;  /* Q15 multiplier of (s_in/128) / (3/32768) */
  int32_t reluish_exponent;    /* its power of two */
  int16_t output_multiplier;   /* Q15 multiplier of (s_in/128) / s_out */
  int32_t output_exponent;     /* its power of two, <= 0 */
} etpu_hard_swish_params;

/* TFLite HardSwishPrepare. ETPU_UNSUPPORTED when the output exponent would be
 * positive (TFLite refuses the model). */
ETPU_WUR etpu_status etpu_hard_swish_params_init(float input_scale, int32_t input_zero_point, float output_scale,
                                                 int32_t output_zero_point, etpu_hard_swish_params *params_out);
/* TFLite reference_ops::HardSwish (int16 fixed point). */
ETPU_WUR etpu_status etpu_hard_swish_s8(const etpu_hard_swish_params *params, size_t size, const int8_t *input,
                                        int8_t *output);
ETPU_WUR etpu_status etpu_hard_swish_u8(const etpu_hard_swish_params *params, size_t size, const uint8_t *input,
                                        uint8_t *output);
/* x · min(max(x + 3, 0), 6) / 6. */
ETPU_WUR etpu_status etpu_hard_swish_f32(size_t size, const float *input, float *output);

#endif /* ETPU_KERNELS_ACTIVATIONS_H */
