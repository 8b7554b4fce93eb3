/*
 * opt_internal.h — what the optimized kernels of src/kernels/opt/ share:
 * the per-value requantization, inlined, and the entry points that
 * etpu_opt_conv_run() dispatches to.
 *
 * etpu_opt_requant() computes exactly etpu_requant_output() (requant.h) with
 * the same integer and float32 steps; it only avoids the out-of-line calls
 * and replaces floorf/fmodf in the half-to-even rounding by a truncating
 * conversion, which is exact for the clamped |v| < 2^23 and, like the
 * reference, independent of the FPU rounding mode. The kernel tester
 * (tests/test_kernels_opt.c) checks the two agree on every mode and on edge
 * accumulators.
 */
#ifndef ETPU_KERNELS_OPT_OPT_INTERNAL_H
#define ETPU_KERNELS_OPT_OPT_INTERNAL_H

#include "kernels/opt/opt.h"
#include "kernels/ukernel/ukernel.h"

/* Round half to even of |x| < 2^23, whatever the FPU rounding mode:
 * t = trunc(x) exactly, frac = x − t exactly, then step away from zero on
 * frac > 1/2, or on 1/2 with t odd. Same result as etpu_round_half_even_f32. */
static inline int32_t etpu_opt_round_half_even(float x) {
  int32_t t = (int32_t)x;
  const float frac = x - (float)t;
  if (frac > 0.5f || (frac == 0.5f && (t & 1))) t += 1;
  else if (frac < -0.5f || (frac == -0.5f && (t & 1))) t -= 1;
  return t;
}

/* etpu_requant_output(acc, rq, mode, zero_point, act_min, act_max). */
static inline int32_t etpu_opt_requant(int32_t acc, const etpu_requant *rq, etpu_requant_mode mode,
                                       int32_t zero_point, int32_t act_min, int32_t act_max) {
  int64_t v;
  switch (mode) {
    case ETPU_REQUANT_DOUBLE_ROUND: {
      const int32_t shift = rq->shift, m = rq->multiplier;
      const int left = shift > 0 ? (int)shift : 0;
      const int right = shift > 0 ? 0 : (int)-shift;
      const int32_t a = (int32_t)((uint32_t)acc << left);
      int32_t hi;
      if (a == INT32_MIN && m == INT32_MIN) {
        hi = INT32_MAX;
      } else {
        const int64_t ab = (int64_t)a * (int64_t)m;
        const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
        hi = (int32_t)((ab + nudge) / ((int64_t)1 << 31));
      }
      const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
      const int32_t remainder = hi & mask;
      const int32_t threshold = (mask >> 1) + (hi < 0 ? 1 : 0);
      v = (int64_t)((hi >> right) + (remainder > threshold ? 1 : 0)) + zero_point;
      break;
    }
    case ETPU_REQUANT_SINGLE_ROUND: {
      const int total = 31 - (int)rq->shift;
      const int64_t round_bit = (int64_t)1 << (total - 1);
      v = (int64_t)(int32_t)(((int64_t)acc * (int64_t)rq->multiplier + round_bit) >> total) + zero_point;
      break;
    }
    case ETPU_REQUANT_FP32: {
      const float lo = (float)(act_min - zero_point);
      const float hi = (float)(act_max - zero_point);
      float f = (float)acc * rq->scale;
      if (f < lo) f = lo;
      if (f > hi) f = hi;
      return etpu_opt_round_half_even(f) + zero_point;
    }
    default:
      return act_min;
  }
  if (v < act_min) v = act_min;
  if (v > act_max) v = act_max;
  return (int32_t)v;
}

/* dst[i] = src[i] + off for n int8 or uint8 values (is_u8). */
static inline void etpu_opt_widen(int16_t *restrict dst, const void *src, int32_t n, int32_t off, bool is_u8) {
  if (is_u8) {
    const uint8_t *restrict s = src;
    for (int32_t i = 0; i < n; i++) dst[i] = (int16_t)(s[i] + off);
  } else {
    const int8_t *restrict s = src;
    for (int32_t i = 0; i < n; i++) dst[i] = (int16_t)(s[i] + off);
  }
}

/* True when the FPU rounds to nearest (fegetround), as it does unless a
 * program changes it; asked once per kernel run. */
bool etpu_opt_round_to_nearest(void);

/* out[i] = etpu_requant_output(acc[i], channel i % n_ch, ...) for i in
 * [0, n), n a multiple of n_ch (whole pixels of n_ch channels), the low byte
 * stored (int8 and uint8 alike). scale: n float32 scales, scale[i] that of
 * channel i % n_ch (used by ETPU_REQUANT_FP32, whose flat loop the compiler
 * vectorizes however few the channels; unread when q has one channel, whose
 * scale is used directly); nearest: etpu_opt_round_to_nearest(). */
void etpu_opt_requant_row(const int32_t *acc, const etpu_requant_params *q, const float *scale, bool nearest,
                          int32_t n, int32_t n_ch, int32_t zero_point, int32_t act_min, int32_t act_max,
                          uint8_t *out);

/* scale[p·n_ch + c] = the float32 scale of channel c, for reps pixels;
 * nothing when q has one channel (etpu_opt_requant_row does not read it). */
void etpu_opt_requant_scales(const etpu_requant_params *q, int32_t n_ch, int32_t reps, float *scale);

/* The depthwise kernel's packed weight count, packing, scratch, and the
 * kernel; desc already checked (etpu_opt_conv_supported / _run). */
size_t etpu_opt_dw_packed_bytes(const etpu_opt_conv_desc *desc);
void etpu_opt_dw_pack(const etpu_opt_conv_desc *desc, const void *filter, void *packed);
size_t etpu_opt_dw_buffer_size(const etpu_opt_conv_desc *desc);
/* Units of the layer: output rows × channel groups (dw_opt.c). */
size_t etpu_opt_dw_range_count(const etpu_opt_conv_desc *desc);
/* Units [begin, end) of the layer (etpu_opt_conv_range_count). */
void etpu_opt_dw_run(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc,
                     const etpu_requant_params *quant, const void *input, const void *packed, const int32_t *bias,
                     void *output, void *scratch, size_t begin, size_t end);

/* The int16 GEMM of the levels below AVX2 (conv_s16.c): packed bytes,
 * packing, scratch bytes, units (pixel tiles) and units [begin, end) of the
 * run with cfg->gemm_s16; desc already checked. */
size_t etpu_opt_s16_packed_bytes(const etpu_opt_conv_desc *desc);
void etpu_opt_s16_pack(const etpu_opt_conv_desc *desc, const void *filter, int16_t *packed);
size_t etpu_opt_s16_buffer_size(const etpu_opt_conv_desc *desc);
size_t etpu_opt_s16_range_count(const etpu_opt_conv_desc *desc);
void etpu_opt_s16_run(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc,
                      const etpu_requant_params *quant, const void *input, const int16_t *packed, const int32_t *bias,
                      void *output, void *scratch, size_t begin, size_t end);

/* etpu_opt_conv_packed_bytes, _pack, _get_buffer_size and _range_count for
 * the micro-kernels of cfg instead of the chosen ones: the packed layout,
 * scratch and units depend on the table (gemm_s16 or not). For the kernel
 * tester and benchmarks, with etpu_opt_conv_run_range_isa. */
size_t etpu_opt_conv_packed_bytes_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc);
ETPU_WUR etpu_status etpu_opt_conv_pack_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc,
                                            const void *filter, void *packed);
size_t etpu_opt_conv_get_buffer_size_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc);
size_t etpu_opt_conv_range_count_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc);

/* etpu_opt_conv_run_range with the micro-kernels of cfg (any ISA this CPU
 * runs, etpu_ukernel_config_for) instead of the chosen ones, on weights
 * packed by etpu_opt_conv_pack_isa with the same cfg: for the kernel tester
 * and benchmarks. */
ETPU_WUR etpu_status etpu_opt_conv_run_range_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *desc,
                                                 const etpu_requant_params *quant, const void *input,
                                                 const void *packed, const int32_t *bias, void *output,
                                                 void *scratch, size_t scratch_bytes, size_t begin, size_t end);

#endif /* ETPU_KERNELS_OPT_OPT_INTERNAL_H */
