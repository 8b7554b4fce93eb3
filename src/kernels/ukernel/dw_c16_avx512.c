/*
 * dw_c16_avx512.c — the fused depthwise micro-kernel of ukernel.h with
 * AVX-512F/BW: a tile of 16 channels of two pixels at once (each tap's
 * weights loaded once for both) in vectors of int32 sums, each tap's
 * 16 input bytes zero- or sign-extended straight into int32
 * (vpmovzxbd/vpmovsxbd), times the int16 weights extended likewise
 * (vpmulld), added in wrapping int32; the last, partial tile uses masked
 * loads and stores, so no byte past C is read or written. The fp32
 * requantization is requant_fp32_x16_avx512.c's, in registers: float
 * conversion and multiply (rounded by MXCSR, as the C reference's), clamp,
 * rounding half to even with an embedded rounding mode ({rn-sae}) and the low
 * bytes stored (vpmovdb). 3×3 (9 taps) and 5×5 (25 taps) have copies with
 * the tap count constant, uint8 and int8 input each.
 */
#include <immintrin.h>

#include "kernels/ukernel/ukernel.h"

#define DW_INLINE static inline __attribute__((always_inline))

DW_INLINE __m512i load16(const uint8_t *x, __mmask16 k, bool full, bool s8) {
  const __m128i v = full ? _mm_loadu_si128((const __m128i *)(const void *)x) : _mm_maskz_loadu_epi8(k, x);
  return s8 ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v);
}

/* acc = requantized or int32 store of one pixel's tile at o + c0. */
DW_INLINE void store(const etpu_dw_ukernel_params *p, __m512i acc, bool full, __mmask16 k, size_t c0, __m512 lo,
                     __m512 hi, __m512i zp, void *o) {
  if (!p->scale) {
    _mm512_mask_storeu_epi32((int32_t *)o + c0, k, acc);
    return;
  }
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_loadu_ps(p->scale + c0));
  f = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  const __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), zp);
  /* vpmovdb to a register, then a plain store: its memory form is slow on Zen 4 */
  const __m128i b = _mm512_cvtepi32_epi8(q);
  if (full)
    _mm_storeu_si128((__m128i *)(void *)((uint8_t *)o + c0), b);
  else
    _mm_mask_storeu_epi8((uint8_t *)o + c0, k, b);
}

/* One tile of channels [c0, c0 + 16) of `np` (1 or 2) pixels, their
 * pointers at ind and ind + ind_step: each tap's weights are loaded once for
 * both. */
DW_INLINE void tile(const etpu_dw_ukernel_params *p, size_t taps, bool s8, bool full, __mmask16 k, size_t np,
                    const uint8_t *const *ind, size_t ind_step, size_t c0, const int16_t *w, __m512 lo, __m512 hi,
                    __m512i zp, void *o, size_t out_px) {
  const __m512i b = _mm512_loadu_si512((const void *)(p->bias + c0));
  __m512i acc0 = b, acc1 = b;
  const uint8_t *const *ind1 = ind + ind_step;
  for (size_t t = 0; t < taps; t++, w += 16) {
    const __m512i wv = _mm512_cvtepi16_epi32(_mm256_loadu_si256((const __m256i *)(const void *)w));
    acc0 = _mm512_add_epi32(acc0, _mm512_mullo_epi32(load16(ind[t] + c0, k, full, s8), wv));
    if (np == 2) acc1 = _mm512_add_epi32(acc1, _mm512_mullo_epi32(load16(ind1[t] + c0, k, full, s8), wv));
  }
  store(p, acc0, full, k, c0, lo, hi, zp, o);
  if (np == 2) store(p, acc1, full, k, c0, lo, hi, zp, (uint8_t *)o + out_px);
}

DW_INLINE void run(const etpu_dw_ukernel_params *p, size_t taps, bool s8, size_t pixels, const uint8_t *const *ind,
                   size_t ind_step, void *out) {
  const size_t ch = p->channels, out_px = p->scale ? p->out_stride : p->out_stride * sizeof(int32_t);
  const __m512 lo = _mm512_set1_ps(p->lo), hi = _mm512_set1_ps(p->hi);
  const __m512i zp = _mm512_set1_epi32(p->zp);
  const size_t full = ch / 16, rest = ch % 16;
  const __mmask16 k_rest = (__mmask16)((1u << rest) - 1);
  size_t px = 0;
  for (; px + 2 <= pixels; px += 2, ind += 2 * ind_step) {
    void *o = (uint8_t *)out + px * out_px;
    const int16_t *w = p->w;
    for (size_t i = 0; i < full; i++, w += 16 * taps)
      tile(p, taps, s8, true, (__mmask16)0xffff, 2, ind, ind_step, 16 * i, w, lo, hi, zp, o, out_px);
    if (rest) tile(p, taps, s8, false, k_rest, 2, ind, ind_step, 16 * full, w, lo, hi, zp, o, out_px);
  }
  if (px < pixels) {
    void *o = (uint8_t *)out + px * out_px;
    const int16_t *w = p->w;
    for (size_t i = 0; i < full; i++, w += 16 * taps)
      tile(p, taps, s8, true, (__mmask16)0xffff, 1, ind, ind_step, 16 * i, w, lo, hi, zp, o, out_px);
    if (rest) tile(p, taps, s8, false, k_rest, 1, ind, ind_step, 16 * full, w, lo, hi, zp, o, out_px);
  }
}

void etpu_dw_c16_avx512(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                        void *out) {
  ETPU_DW_SPECIALISE(run, p, pixels, ind, ind_step, out);
}
