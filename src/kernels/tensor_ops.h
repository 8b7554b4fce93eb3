/*
 * tensor_ops.h — etpu's reference kernels for the non-convolution ops:
 * elementwise arithmetic with broadcasting (ADD, SUB, MUL, MAXIMUM,
 * MINIMUM, SQUARED_DIFFERENCE, DIV, FLOOR_DIV), unary math (SQRT, RSQRT,
 * FLOOR), CAST, pooling, reductions (MEAN, SUM, REDUCE_MAX/MIN, ARG_MAX)
 * and data movement (CONCATENATION, PACK, SPLIT, UNPACK, PAD, SLICE,
 * STRIDED_SLICE, TRANSPOSE, GATHER, GATHER_ND). One op per file in
 * src/kernels/ref/.
 *
 * Each quantized op offers the arithmetic of the implementations etpu's
 * profiles follow (TFLITE.md §7, §9): the TensorFlow Lite reference kernels /
 * TFLite Micro ("TFLITE" schemes, double-rounding fixed point from
 * requant.h) and XNNPACK, which LiteRT runs for the ops its delegate takes
 * ("XNNPACK" schemes). A *_params_init function turns the tensors' scales
 * into a scheme's parameters once, at plan time; the kernel then only
 * applies them.
 *
 * Example (an int8 ADD of a [2,3] tensor and a [3] tensor):
 *
 *   etpu_shape a = {2, {2, 3}}, b = {1, {3}}, o = {2, {2, 3}};
 *   etpu_bcast plan;
 *   etpu_addsub_params p;
 *   etpu_qparam qa = {0.5f, -3}, qb = {0.25f, 1}, qo = {0.6f, 0};
 *   if (etpu_bcast_init(&a, &b, &o, &plan) != ETPU_OK ||
 *       etpu_addsub_params_init(ETPU_ADDSUB_TFLITE, false, &qa, &qb, &qo, -128, 127, &p) != ETPU_OK ||
 *       etpu_add_s8(&p, &plan, in_a, in_b, out) != ETPU_OK) { ... etpu_errmsg() ... }
 *
 * Conventions:
 *  - Shapes are row-major, up to ETPU_KMAX_RANK dimensions (rank 0 is a
 *    scalar). Quantized tensors are per-tensor: real = scale·(q − zero_point).
 *  - Kernels never allocate and need no scratch memory.
 *  - Every function checks its arguments and returns ETPU_INVALID_ARGUMENT
 *    (message in etpu_errmsg()) on NULL pointers, inconsistent shapes or
 *    out-of-range parameters, writing nothing; data-dependent failures
 *    (an index out of range, an integer division by zero) are reported the
 *    same way but may leave the output partly written. Otherwise ETPU_OK.
 *  - Inputs and outputs must not overlap.
 */
#ifndef ETPU_KERNELS_TENSOR_OPS_H
#define ETPU_KERNELS_TENSOR_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"
#include "kernels/kernels.h"
#include "kernels/requant.h"

#define ETPU_KMAX_RANK 8

/* A row-major tensor shape. */
typedef struct etpu_shape {
  int32_t rank;                 /* 0..ETPU_KMAX_RANK */
  int32_t dims[ETPU_KMAX_RANK]; /* each >= 0 */
} etpu_shape;

/* A per-tensor quantization. */
typedef struct etpu_qparam {
  float scale;        /* finite, > 0 */
  int32_t zero_point; /* within the tensor type's range */
} etpu_qparam;

/* A clamp for float results (a fused activation; ±INFINITY for none). */
typedef struct etpu_act_f32 {
  float min; /* <= max */
  float max;
} etpu_act_f32;

/* A clamp for int32/int64 results. */
typedef struct etpu_act_int {
  int64_t min; /* <= max */
  int64_t max;
} etpu_act_int;

/* ---- broadcasting ------------------------------------------------------ */

/* How two inputs map onto the output of a binary elementwise op (NumPy
 * broadcasting, as TFLite: shapes are aligned at the last dimension; an
 * input dimension of 1, or a missing leading one, repeats). */
typedef struct etpu_bcast {
  int32_t rank;                     /* output rank, 1..ETPU_KMAX_RANK */
  int32_t dims[ETPU_KMAX_RANK];     /* output extents */
  size_t stride1[ETPU_KMAX_RANK];   /* input 1 element stride per output dim (0: repeated) */
  size_t stride2[ETPU_KMAX_RANK];   /* input 2 element stride per output dim (0: repeated) */
  size_t count;                     /* output elements */
} etpu_bcast;

/* Plan the broadcast of in1 and in2 to out. out must be the broadcast shape
 * (rank = the larger rank; each dim = the inputs' common extent, or the one
 * that is not 1). ETPU_INVALID_ARGUMENT otherwise. */
ETPU_WUR etpu_status etpu_bcast_init(const etpu_shape *in1, const etpu_shape *in2, const etpu_shape *out,
                                     etpu_bcast *plan_out);

/* ---- fused activation ranges -------------------------------------------- */

/* XNNPACK's clamp for a fused activation on a quantized output: each float
 * bound f becomes lrintf(clamp(f/scale + zero_point, qmin, qmax)) (round half
 * to even; NONE → [qmin, qmax], RELU → [Q(0), qmax], RELU6 → [Q(0), Q(6)],
 * RELU_N1_TO_1 → [Q(−1), Q(1)]). Statuses as etpu_activation_range_quantized
 * (requant.h), which gives TFLite's rule. */
ETPU_WUR etpu_status etpu_activation_range_xnnpack(int32_t activation, float scale, int32_t zero_point,
                                                   int32_t qmin, int32_t qmax, int32_t *act_min_out,
                                                   int32_t *act_max_out);

/* The float clamp of a fused activation (TFLite CalculateActivationRange):
 * NONE → ±inf, RELU → [0, inf], RELU6 → [0, 6], RELU_N1_TO_1 → [−1, 1].
 * ETPU_UNSUPPORTED for TANH / SIGN_BIT, ETPU_INVALID_ARGUMENT otherwise. */
ETPU_WUR etpu_status etpu_activation_range_f32(int32_t activation, etpu_act_f32 *out);

/* ---- ADD / SUB (TFLITE.md §7.3) ---------------------------------------- */

typedef enum etpu_addsub_scheme {
  /* TFLite reference / builtin and TFLite Micro ADD: left shift 20;
   * multipliers s_i/(2·max s) and 2·max s/(2^20·s_out) in double. */
  ETPU_ADDSUB_TFLITE = 0,
  /* TFLite Micro SUB (sub_common.cc): the same with the ratios in float. */
  ETPU_ADDSUB_TFLITE_FLOAT_RATIOS = 1,
  /* XNNPACK qs8/qu8 vadd: m_i = lrintf(s_i/s_out · 2^shift) with
   * shift = 20 − exponent(max m) (float32), out = (bias + m1·x1 + m2·x2) >>
   * shift (arithmetic, so rounding half up) + zp_out; SUB negates m2. */
  ETPU_ADDSUB_XNNPACK = 2,
} etpu_addsub_scheme;

/* Parameters of a quantized ADD or SUB (also SQUARED_DIFFERENCE, below). */
typedef struct etpu_addsub_params {
  etpu_addsub_scheme scheme;
  int32_t input1_offset;  /* −zero point of input 1 (TFLITE schemes) */
  int32_t input2_offset;  /* −zero point of input 2 (TFLITE schemes) */
  int32_t output_offset;  /* output zero point */
  int32_t left_shift;     /* TFLITE schemes: 20 (ADD/SUB), 7 (SQUARED_DIFFERENCE) */
  etpu_requant input1;    /* TFLITE schemes: multiplier/shift of input 1 */
  etpu_requant input2;    /* TFLITE schemes: multiplier/shift of input 2 */
  etpu_requant output;    /* TFLITE schemes: multiplier/shift of the sum */
  int32_t xnn_bias;       /* XNNPACK: 2^(shift−1) − m1·zp1 − m2·zp2 */
  int32_t xnn_multiplier1; /* XNNPACK: m1, |m1| <= 2^21 */
  int32_t xnn_multiplier2; /* XNNPACK: m2 (negative for SUB) */
  int32_t xnn_shift;      /* XNNPACK: [12, 30] */
  int32_t activation_min; /* output clamp, within the type range */
  int32_t activation_max; /* output clamp */
} etpu_addsub_params;

/* Fill *out for out = in1 + in2 (subtract: in1 − in2), clamped to
 * [activation_min, activation_max] (already within the output type range).
 * ETPU_INVALID_ARGUMENT for a scale not finite and > 0, an unknown scheme,
 * or ratios outside what the scheme can represent (XNNPACK: each s_i/s_out
 * in [2^−10, 2^8)); *out untouched then. */
ETPU_WUR etpu_status etpu_addsub_params_init(etpu_addsub_scheme scheme, bool subtract, const etpu_qparam *in1,
                                             const etpu_qparam *in2, const etpu_qparam *out,
                                             int32_t activation_min, int32_t activation_max,
                                             etpu_addsub_params *params_out);

ETPU_WUR etpu_status etpu_add_s8(const etpu_addsub_params *params, const etpu_bcast *plan, const int8_t *in1,
                                 const int8_t *in2, int8_t *out);
ETPU_WUR etpu_status etpu_add_u8(const etpu_addsub_params *params, const etpu_bcast *plan, const uint8_t *in1,
                                 const uint8_t *in2, uint8_t *out);
ETPU_WUR etpu_status etpu_sub_s8(const etpu_addsub_params *params, const etpu_bcast *plan, const int8_t *in1,
                                 const int8_t *in2, int8_t *out);
ETPU_WUR etpu_status etpu_sub_u8(const etpu_addsub_params *params, const etpu_bcast *plan, const uint8_t *in1,
                                 const uint8_t *in2, uint8_t *out);

/* Unquantized ADD/SUB: float32 (IEEE, then the clamp), int32/int64
 * (wrapping two's complement, then the clamp). */
ETPU_WUR etpu_status etpu_add_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1,
                                  const float *in2, float *out);
ETPU_WUR etpu_status etpu_add_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1,
                                  const int32_t *in2, int32_t *out);
ETPU_WUR etpu_status etpu_add_s64(const etpu_act_int *act, const etpu_bcast *plan, const int64_t *in1,
                                  const int64_t *in2, int64_t *out);
ETPU_WUR etpu_status etpu_sub_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1,
                                  const float *in2, float *out);
ETPU_WUR etpu_status etpu_sub_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1,
                                  const int32_t *in2, int32_t *out);
ETPU_WUR etpu_status etpu_sub_s64(const etpu_act_int *act, const etpu_bcast *plan, const int64_t *in1,
                                  const int64_t *in2, int64_t *out);

/* ---- MUL (TFLITE.md §7.4) ---------------------------------------------- */

typedef enum etpu_mul_scheme {
  /* TFLite / TFLM: m = s1·s2/s_out in double, double rounding. */
  ETPU_MUL_TFLITE = 0,
  /* XNNPACK qs8/qu8 vmul fp32: m = (s1·s2)/s_out in float32, acc·m rounded
   * half to even (requant.h ETPU_REQUANT_FP32). */
  ETPU_MUL_XNNPACK = 1,
} etpu_mul_scheme;

typedef struct etpu_mul_params {
  int32_t input1_offset;  /* −zero point of input 1 */
  int32_t input2_offset;  /* −zero point of input 2 */
  int32_t output_offset;  /* output zero point */
  etpu_requant rq;        /* the product's scale */
  etpu_requant_mode mode; /* ETPU_REQUANT_DOUBLE_ROUND (TFLITE) or ETPU_REQUANT_FP32 (XNNPACK) */
  int32_t activation_min; /* output clamp, within the type range */
  int32_t activation_max;
  bool saturate;          /* TFLITE: s1·s2/s_out >= 2^31, saturated (rq unused) */
} etpu_mul_params;

/* ETPU_INVALID_ARGUMENT for bad scales or a product scale XNNPACK cannot
 * represent ([2^−16, 2^8)). TFLITE with a product scale of 2^31 or more
 * (QuantizeMultiplier's shift > 31; traffic_model's LSTM MUL has 3e30):
 * TFLite's QuantizeMultiplier saturates such a multiplier to (2^31 − 1,
 * shift 30), about 2^30, so every non-zero product lands beyond the 8-bit
 * range: out = activation_max for a positive product, activation_min for a
 * negative one, clamp(zp_out) for zero. (TFLite's int32 arithmetic on that
 * multiplier overflows — undefined in C++ — etpu computes the saturation
 * the multiplier stands for, in both profiles.) */
ETPU_WUR etpu_status etpu_mul_params_init(etpu_mul_scheme scheme, const etpu_qparam *in1, const etpu_qparam *in2,
                                          const etpu_qparam *out, int32_t activation_min, int32_t activation_max,
                                          etpu_mul_params *params_out);

ETPU_WUR etpu_status etpu_mul_s8(const etpu_mul_params *params, const etpu_bcast *plan, const int8_t *in1,
                                 const int8_t *in2, int8_t *out);
ETPU_WUR etpu_status etpu_mul_u8(const etpu_mul_params *params, const etpu_bcast *plan, const uint8_t *in1,
                                 const uint8_t *in2, uint8_t *out);
ETPU_WUR etpu_status etpu_mul_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1,
                                  const float *in2, float *out);
ETPU_WUR etpu_status etpu_mul_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1,
                                  const int32_t *in2, int32_t *out);
ETPU_WUR etpu_status etpu_mul_s64(const etpu_act_int *act, const etpu_bcast *plan, const int64_t *in1,
                                  const int64_t *in2, int64_t *out);

/* ---- MAXIMUM / MINIMUM -------------------------------------------------- */
/* Raw values compared (quantized inputs and output share scale and zero
 * point). float: TFLite's `a > b ? a : b` / `a < b ? a : b`. */
ETPU_WUR etpu_status etpu_maximum_s8(const etpu_bcast *plan, const int8_t *in1, const int8_t *in2, int8_t *out);
ETPU_WUR etpu_status etpu_maximum_u8(const etpu_bcast *plan, const uint8_t *in1, const uint8_t *in2, uint8_t *out);
ETPU_WUR etpu_status etpu_maximum_s16(const etpu_bcast *plan, const int16_t *in1, const int16_t *in2, int16_t *out);
ETPU_WUR etpu_status etpu_maximum_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2, int32_t *out);
ETPU_WUR etpu_status etpu_maximum_s64(const etpu_bcast *plan, const int64_t *in1, const int64_t *in2, int64_t *out);
ETPU_WUR etpu_status etpu_maximum_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out);
ETPU_WUR etpu_status etpu_minimum_s8(const etpu_bcast *plan, const int8_t *in1, const int8_t *in2, int8_t *out);
ETPU_WUR etpu_status etpu_minimum_u8(const etpu_bcast *plan, const uint8_t *in1, const uint8_t *in2, uint8_t *out);
ETPU_WUR etpu_status etpu_minimum_s16(const etpu_bcast *plan, const int16_t *in1, const int16_t *in2, int16_t *out);
ETPU_WUR etpu_status etpu_minimum_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2, int32_t *out);
ETPU_WUR etpu_status etpu_minimum_s64(const etpu_bcast *plan, const int64_t *in1, const int64_t *in2, int64_t *out);
ETPU_WUR etpu_status etpu_minimum_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out);

/* ---- SQUARED_DIFFERENCE ------------------------------------------------- */
/* Quantized (TFLite squared_difference.cc, TFLM the same): left shift 7,
 * multipliers s_i/(2·max s) and (2·max s)²/(2^14·s_out) in double;
 * d = MBQM(x1', m1) − MBQM(x2', m2); out = clamp(MBQM(d², m_out) + zp_out).
 * Fills an etpu_addsub_params (scheme ETPU_ADDSUB_TFLITE, left_shift 7). */
ETPU_WUR etpu_status etpu_squared_difference_params_init(const etpu_qparam *in1, const etpu_qparam *in2,
                                                         const etpu_qparam *out, int32_t activation_min,
                                                         int32_t activation_max, etpu_addsub_params *params_out);
ETPU_WUR etpu_status etpu_squared_difference_s8(const etpu_addsub_params *params, const etpu_bcast *plan,
                                                const int8_t *in1, const int8_t *in2, int8_t *out);
ETPU_WUR etpu_status etpu_squared_difference_u8(const etpu_addsub_params *params, const etpu_bcast *plan,
                                                const uint8_t *in1, const uint8_t *in2, uint8_t *out);
ETPU_WUR etpu_status etpu_squared_difference_f32(const etpu_bcast *plan, const float *in1, const float *in2,
                                                 float *out);
ETPU_WUR etpu_status etpu_squared_difference_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                                                 int32_t *out);

/* ---- DIV / FLOOR_DIV ---------------------------------------------------- */
/* DIV: float32 x/y (IEEE) then the clamp; int32 C division (truncation)
 * then the clamp, ETPU_INVALID_ARGUMENT on a zero divisor.
 * FLOOR_DIV: float32 (float)floor((double)x/(double)y); integers
 * floor((double)x/(double)y) (TFLite reference FloorDiv), zero divisor an
 * error. */
ETPU_WUR etpu_status etpu_div_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1,
                                  const float *in2, float *out);
ETPU_WUR etpu_status etpu_div_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1,
                                  const int32_t *in2, int32_t *out);
ETPU_WUR etpu_status etpu_floor_div_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out);
ETPU_WUR etpu_status etpu_floor_div_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                                        int32_t *out);
ETPU_WUR etpu_status etpu_floor_div_s16(const etpu_bcast *plan, const int16_t *in1, const int16_t *in2,
                                        int16_t *out);
ETPU_WUR etpu_status etpu_floor_div_s8(const etpu_bcast *plan, const int8_t *in1, const int8_t *in2, int8_t *out);

/* ---- unary math --------------------------------------------------------- */
/* float32: sqrtf, 1/sqrtf, floorf, element by element. */
ETPU_WUR etpu_status etpu_sqrt_f32(size_t count, const float *in, float *out);
ETPU_WUR etpu_status etpu_rsqrt_f32(size_t count, const float *in, float *out);
ETPU_WUR etpu_status etpu_floor_f32(size_t count, const float *in, float *out);

/* RSQRT int8 (TFLite / TFLM elementwise.cc): v = q − zp_in; v = 0 → 127;
 * v < 0 → ETPU_INVALID_ARGUMENT ("defined for positive values"); otherwise
 * GetInvSqrtQuantizedMultiplierExp(v) (fixed-point Newton-Raphson),
 * data = MBQM(1, inv, shift + 20), out = clamp(MBQM(data, m, s − 20) + zp_out)
 * with (m, s) = QuantizeMultiplier(1 / (sqrt(s_in) · s_out)). */
typedef struct etpu_rsqrt_params {
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier; /* QuantizeMultiplier of 1/(sqrt(s_in)·s_out) */
  int32_t shift;
} etpu_rsqrt_params;
ETPU_WUR etpu_status etpu_rsqrt_params_init(const etpu_qparam *in, const etpu_qparam *out,
                                            etpu_rsqrt_params *params_out);
ETPU_WUR etpu_status etpu_rsqrt_s8(const etpu_rsqrt_params *params, size_t count, const int8_t *in, int8_t *out);

/* ---- CAST --------------------------------------------------------------- */
/* Convert count elements between FLOAT32, INT32, INT64, INT16, INT8, UINT8,
 * UINT16, UINT32 and BOOL as TFLite's cast.cc: float → int is SafeCast
 * (truncation toward zero, saturating; NaN gives the type's max); int →
 * float rounds to nearest; → BOOL is x != 0; BOOL → 0/1; integers wrap
 * modulo the target width. */
ETPU_WUR etpu_status etpu_cast(etpu_dtype from, etpu_dtype to, size_t count, const void *in, void *out);

/* ---- pooling (TFLITE.md §7.5) ------------------------------------------- */

typedef struct etpu_pool_params {
  int32_t stride_h, stride_w;   /* >= 1 */
  int32_t filter_h, filter_w;   /* >= 1 */
  int32_t pad_h, pad_w;         /* top / left padding, >= 0 */
  int32_t activation_min;       /* quantized clamp, within the type range */
  int32_t activation_max;
  etpu_act_f32 act_f32;         /* float clamp */
} etpu_pool_params;

/* NHWC input [N, H, W, C] and output [N, OH, OW, C]; the window is clipped to
 * the input and padding cells are not counted. Average: integer sum of raw
 * values, divided by the count rounding half away from zero (the sum of a
 * quantized window is never negative for uint8); float sum / count. A window
 * entirely in the padding is an ETPU_INVALID_ARGUMENT. Max: the largest raw
 * value. Then the clamp. */
ETPU_WUR etpu_status etpu_avg_pool2d_s8(const etpu_pool_params *params, const etpu_dims *input_dims,
                                        const int8_t *input, const etpu_dims *output_dims, int8_t *output);
ETPU_WUR etpu_status etpu_avg_pool2d_u8(const etpu_pool_params *params, const etpu_dims *input_dims,
                                        const uint8_t *input, const etpu_dims *output_dims, uint8_t *output);
ETPU_WUR etpu_status etpu_avg_pool2d_f32(const etpu_pool_params *params, const etpu_dims *input_dims,
                                         const float *input, const etpu_dims *output_dims, float *output);
ETPU_WUR etpu_status etpu_max_pool2d_s8(const etpu_pool_params *params, const etpu_dims *input_dims,
                                        const int8_t *input, const etpu_dims *output_dims, int8_t *output);
ETPU_WUR etpu_status etpu_max_pool2d_u8(const etpu_pool_params *params, const etpu_dims *input_dims,
                                        const uint8_t *input, const etpu_dims *output_dims, uint8_t *output);
ETPU_WUR etpu_status etpu_max_pool2d_f32(const etpu_pool_params *params, const etpu_dims *input_dims,
                                         const float *input, const etpu_dims *output_dims, float *output);

/* ---- reductions ---------------------------------------------------------- */

/* Which dimensions of an input a reduction folds. Outputs are enumerated in
 * row-major order of the kept dimensions (keep_dims only changes the output
 * shape, not the order); each output folds its inputs in row-major order of
 * the reduced dimensions. */
typedef struct etpu_reduce_plan {
  int32_t rank;                  /* input rank, 0..ETPU_KMAX_RANK */
  int32_t dims[ETPU_KMAX_RANK];  /* input extents */
  bool reduced[ETPU_KMAX_RANK];  /* folded dimensions */
  size_t out_count;              /* outputs = product of kept extents */
  size_t reduce_count;           /* inputs per output = product of folded extents */
} etpu_reduce_plan;

/* axes: naxes entries in [−rank, rank), negative counting from the end,
 * repeats allowed (TFLite ResolveAxis). ETPU_INVALID_ARGUMENT otherwise. */
ETPU_WUR etpu_status etpu_reduce_plan_init(const etpu_shape *input, const int32_t *axes, int32_t naxes,
                                           etpu_reduce_plan *plan_out);

typedef enum etpu_mean_scheme {
  /* TFLite reference QuantizedMeanOrSum (TFLM MEAN/SUM, TFLITE.md §7.6):
   * (m, s) = QuantizeMultiplier(s_in/s_out); MEAN folds 1/n into m with
   * shift = min(63 − clz64(n), 32, 31 + s), m' = (m << shift)/n, s −= shift;
   * out = clamp(MBQM(Σx − zp_in·n, m', s) + zp_out). */
  ETPU_MEAN_TFLITE = 0,
  /* XNNPACK reduce-nd (qs8/qu8 MEAN, SUM): float32 scale
   * k = (s_in/s_out)·(1/n) (MEAN) or s_in/s_out (SUM); float zero point
   * z = zp_out − (float)(n·zp_in)·k; out = clamp(nearbyint((float)Σx·k + z)). */
  ETPU_MEAN_XNNPACK = 1,
} etpu_mean_scheme;

typedef struct etpu_mean_params {
  etpu_mean_scheme scheme;
  int32_t input_zero_point;
  int32_t output_zero_point;
  int32_t multiplier;     /* TFLITE: m' */
  int32_t shift;          /* TFLITE: s after folding 1/n, [−31, 31] */
  float xnn_scale;        /* XNNPACK: k */
  float xnn_zero_point;   /* XNNPACK: z */
  size_t reduce_count;    /* n, >= 1 */
} etpu_mean_params;

/* sum: SUM instead of MEAN. reduce_count: n of the plan. */
ETPU_WUR etpu_status etpu_mean_params_init(etpu_mean_scheme scheme, bool sum, const etpu_qparam *in,
                                           const etpu_qparam *out, size_t reduce_count,
                                           etpu_mean_params *params_out);

/* MEAN. Quantized: as above. float32: Σ in float, in order, then / n
 * (TFLite reference). */
ETPU_WUR etpu_status etpu_mean_s8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const int8_t *in,
                                  int8_t *out);
ETPU_WUR etpu_status etpu_mean_u8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const uint8_t *in,
                                  uint8_t *out);
ETPU_WUR etpu_status etpu_mean_f32(const etpu_reduce_plan *plan, const float *in, float *out);

/* SUM (params from etpu_mean_params_init with sum = true). int32/int64
 * wrap. */
ETPU_WUR etpu_status etpu_sum_s8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const int8_t *in,
                                 int8_t *out);
ETPU_WUR etpu_status etpu_sum_u8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const uint8_t *in,
                                 uint8_t *out);
ETPU_WUR etpu_status etpu_sum_f32(const etpu_reduce_plan *plan, const float *in, float *out);
ETPU_WUR etpu_status etpu_sum_s32(const etpu_reduce_plan *plan, const int32_t *in, int32_t *out);
ETPU_WUR etpu_status etpu_sum_s64(const etpu_reduce_plan *plan, const int64_t *in, int64_t *out);

/* REDUCE_MAX / REDUCE_MIN of raw values; type is INT8, UINT8, INT16,
 * INT32, INT64 or FLOAT32 (float: TFLite's `in > cur ? in : cur`, starting
 * from the lowest value). An empty fold gives the lowest (max) or highest
 * (min) value of the type. */
ETPU_WUR etpu_status etpu_reduce_max(etpu_dtype type, const etpu_reduce_plan *plan, const void *in, void *out);
ETPU_WUR etpu_status etpu_reduce_min(etpu_dtype type, const etpu_reduce_plan *plan, const void *in, void *out);

/* A tensor seen as [outer, axis, inner] around one dimension. */
typedef struct etpu_axis_split {
  size_t outer; /* product of the dims before the axis */
  size_t axis;  /* the axis extent, >= 1 */
  size_t inner; /* product of the dims after the axis */
} etpu_axis_split;

/* ARG_MAX over the middle dimension: out[o, i] = the first index of the
 * largest in[o, ·, i] (TFLite's strict `>`). in_type INT8, UINT8, INT16,
 * INT32, INT64 or FLOAT32; out_type INT32 or INT64. */
ETPU_WUR etpu_status etpu_arg_max(etpu_dtype in_type, etpu_dtype out_type, const etpu_axis_split *split,
                                  const void *in, void *out);

/* ---- data movement ------------------------------------------------------- */

/* Requantization of one 8-bit input of CONCATENATION (TFLite
 * ConcatenationWithScaling): q = clamp(round(x·scale + bias) + zp_out) with
 * scale = s_in·(1/s_out), bias = −zp_in·scale in float32, round half away
 * from zero. */
typedef struct etpu_concat_rescale {
  bool copy;   /* same scale and zero point as the output: copy bytes */
  float scale;
  float bias;
} etpu_concat_rescale;

/* CONCATENATION and PACK: inputs are [outer, chunk_i] and the output
 * [outer, Σ chunk_i] in elements. */
typedef struct etpu_concat_params {
  int32_t count;                       /* inputs, >= 1 */
  size_t outer;                        /* product of the output dims before the axis */
  const size_t *chunk;                 /* count entries: input i's axis extent × the inner size */
  size_t elem_size;                    /* bytes per element: 1, 2, 4 or 8 */
  etpu_dtype type;                     /* INT8 or UINT8 when rescale is set */
  const etpu_concat_rescale *rescale;  /* NULL (copy every input) or count entries */
  int32_t output_zero_point;           /* with rescale */
} etpu_concat_params;

/* Fill *out for an 8-bit input (in) into the output (out). */
ETPU_WUR etpu_status etpu_concat_rescale_init(const etpu_qparam *in, const etpu_qparam *out,
                                              etpu_concat_rescale *rescale_out);
ETPU_WUR etpu_status etpu_concatenation(const etpu_concat_params *params, const void *const *inputs,
                                        void *output);

/* SPLIT, SPLIT_V, UNPACK: the input is [outer, Σ chunk_i] and output i is
 * [outer, chunk_i] (same fields as CONCATENATION; rescale must be NULL). */
ETPU_WUR etpu_status etpu_split(const etpu_concat_params *params, const void *input, void *const *outputs);

/* PAD / PADV2: output dim d = before[d] + input dim d + after[d]; cells
 * outside the input get the fill value (elem_size bytes: the output zero
 * point for a quantized PAD, the constant of PADV2). */
typedef struct etpu_pad_params {
  int32_t before[ETPU_KMAX_RANK]; /* >= 0, per input dimension */
  int32_t after[ETPU_KMAX_RANK];  /* >= 0 */
  size_t elem_size;               /* 1, 2, 4 or 8 */
  const void *fill;               /* elem_size bytes */
} etpu_pad_params;
ETPU_WUR etpu_status etpu_pad(const etpu_pad_params *params, const etpu_shape *input_shape, const void *input,
                              void *output);

/* SLICE and STRIDED_SLICE (after TFLite's mask logic, done by the caller):
 * out[i_0, …] = in[begin_0 + i_0·stride_0, …]; every index read must lie in
 * the input. */
typedef struct etpu_slice_params {
  int32_t begin[ETPU_KMAX_RANK];  /* first index per input dimension */
  int32_t stride[ETPU_KMAX_RANK]; /* non-zero */
  int32_t out_dims[ETPU_KMAX_RANK]; /* >= 0 */
  size_t elem_size;               /* 1, 2, 4 or 8 */
} etpu_slice_params;
ETPU_WUR etpu_status etpu_strided_slice(const etpu_slice_params *params, const etpu_shape *input_shape,
                                        const void *input, void *output);

/* TRANSPOSE: output dim d = input dim perm[d]; perm is a permutation of
 * 0..rank−1. */
ETPU_WUR etpu_status etpu_transpose(const etpu_shape *input_shape, const int32_t *perm, size_t elem_size,
                                    const void *input, void *output);

/* GATHER (axis, batch_dims): params [batch, outer, axis_size, inner],
 * indices [batch, coords] (INT32 or INT64), output
 * [batch, outer, coords, inner]. An index outside [0, axis_size) is an
 * error (TFLite reports it too). */
typedef struct etpu_gather_params {
  size_t batch;       /* product of the first batch_dims dims */
  size_t outer;       /* product of params dims from batch_dims to axis */
  size_t axis_size;   /* params dims[axis] */
  size_t inner;       /* product of params dims after the axis */
  size_t coords;      /* product of indices dims after batch_dims */
  size_t elem_size;   /* 1, 2, 4 or 8 */
  etpu_dtype index_type; /* INT32 or INT64 */
} etpu_gather_params;
ETPU_WUR etpu_status etpu_gather(const etpu_gather_params *params, const void *input, const void *indices,
                                 void *output);

/* GATHER_ND: indices [n, depth] (INT32 or INT64) address the first depth
 * dims of params_shape; each gathers a slice of the remaining dims. An
 * index out of range is an error. */
typedef struct etpu_gather_nd_params {
  etpu_shape params_shape;  /* rank >= depth */
  size_t n;                 /* number of index tuples */
  int32_t depth;            /* 1..rank */
  size_t elem_size;         /* 1, 2, 4 or 8 */
  etpu_dtype index_type;    /* INT32 or INT64 */
} etpu_gather_nd_params;
ETPU_WUR etpu_status etpu_gather_nd(const etpu_gather_nd_params *params, const void *input, const void *indices,
                                    void *output);

/* ---- ABS, POW, FLOOR_MOD ------------------------------------------------- */

/* ABS, float32: fabsf. */
ETPU_WUR etpu_status etpu_abs_f32(size_t count, const float *in, float *out);

/* Quantized ABS (TFLite elementwise.cc AbsEvalQuantized, both profiles:
 * XNNPACK's delegate takes float ABS only): v = |x − zp_in|; when the input
 * and output scales are equal out = clamp(v + zp_out), else
 * out = clamp(MBQM(v, m, shift) + zp_out) with m = s_in/s_out from
 * QuantizeMultiplier in double, double rounding. */
typedef struct etpu_abs_params {
  int32_t input_zero_point;  /* within the type range */
  int32_t output_zero_point; /* within the type range */
  bool rescale;              /* the scales differ */
  etpu_requant rq;           /* s_in/s_out (double rounding) when rescale */
} etpu_abs_params;
ETPU_WUR etpu_status etpu_abs_params_init(const etpu_qparam *in, const etpu_qparam *out, etpu_abs_params *params_out);
ETPU_WUR etpu_status etpu_abs_s8(const etpu_abs_params *params, size_t count, const int8_t *in, int8_t *out);
ETPU_WUR etpu_status etpu_abs_u8(const etpu_abs_params *params, size_t count, const uint8_t *in, uint8_t *out);

/* POW with broadcasting (TFLite pow.cc): float32 powf(x, y) (std::pow on
 * floats); int32 by repeated squaring, wrapping as TFLite's int multiply
 * does, and a negative exponent is an error (TFLite refuses it at eval). */
ETPU_WUR etpu_status etpu_pow_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out);
ETPU_WUR etpu_status etpu_pow_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2, int32_t *out);

/* FLOOR_MOD with broadcasting (TFLite floor_mod.cc): the truncated remainder
 * (fmodf for float32, % for integers), plus the divisor when it is non-zero
 * and its sign differs from the divisor's. A zero integer divisor is an
 * error (TFLite: "Division by zero"). */
ETPU_WUR etpu_status etpu_floor_mod_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out);
ETPU_WUR etpu_status etpu_floor_mod_s32(const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                                        int32_t *out);
ETPU_WUR etpu_status etpu_floor_mod_s64(const etpu_bcast *plan, const int64_t *in1, const int64_t *in2,
                                        int64_t *out);

/* ---- TILE, MIRROR_PAD, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND ------------- */

/* TILE: output dim d = input dim d · multiples[d] (each >= 0);
 * out[i_0, …] = in[i_0 mod in_0, …]. */
ETPU_WUR etpu_status etpu_tile(const etpu_shape *input_shape, const int64_t *multiples, size_t elem_size,
                               const void *input, void *output);

/* MIRROR_PAD (TFLite mirror_pad.cc): output dim d = before[d] + input dim d
 * + after[d]; a cell outside the input mirrors the input about its edge,
 * REFLECT without repeating the edge, SYMMETRIC repeating it. TFLite's
 * index rule is followed exactly, including its clamp for paddings larger
 * than the input allows. */
typedef struct etpu_mirror_pad_params {
  int32_t before[ETPU_KMAX_RANK]; /* >= 0, per input dimension */
  int32_t after[ETPU_KMAX_RANK];  /* >= 0 */
  size_t elem_size;               /* 1, 2, 4 or 8 */
  bool symmetric;                 /* MirrorPadMode SYMMETRIC (1), else REFLECT (0) */
} etpu_mirror_pad_params;
ETPU_WUR etpu_status etpu_mirror_pad(const etpu_mirror_pad_params *params, const etpu_shape *input_shape,
                                     const void *input, void *output);

/* SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND on NHWC tensors (TFLite reference
 * SpaceToBatchND / BatchToSpaceND; 3-D inputs are the caller's [N, H, 1, C]).
 * SPACE_TO_BATCH_ND: the input padded by pad (top, bottom, left, right) with
 * the fill value, then each block_h × block_w phase becomes a batch:
 * out[(sh·block_w + sw)·N + n, y, x] = padded[n, y·block_h + sh, x·block_w + sw].
 * BATCH_TO_SPACE_ND is its inverse with pad read as crops. */
typedef struct etpu_space_batch_params {
  int32_t block_h, block_w;  /* >= 1 */
  int32_t pad_top, pad_bottom, pad_left, pad_right; /* >= 0: paddings (SPACE_TO_BATCH) or crops */
  size_t elem_size;          /* 1, 2, 4 or 8 */
  const void *fill;          /* SPACE_TO_BATCH: elem_size bytes (0, or the output zero point) */
} etpu_space_batch_params;
ETPU_WUR etpu_status etpu_space_to_batch_nd(const etpu_space_batch_params *params, const etpu_dims *input_dims,
                                            const void *input, const etpu_dims *output_dims, void *output);
/* The shape rule both share (also for callers checking a model's shapes):
 * `space` padded by p's paddings (or crops) and split into block_h × block_w
 * blocks gives `batch`; element size and ranges valid. ETPU_INVALID_ARGUMENT
 * (message naming kname) otherwise. */
ETPU_WUR etpu_status etpu_space_batch_check(const char *kname, const etpu_space_batch_params *p,
                                            const etpu_dims *space, const etpu_dims *batch);
ETPU_WUR etpu_status etpu_batch_to_space_nd(const etpu_space_batch_params *params, const etpu_dims *input_dims,
                                            const void *input, const etpu_dims *output_dims, void *output);

#endif /* ETPU_KERNELS_TENSOR_OPS_H */
