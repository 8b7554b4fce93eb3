/*
 * dw_c16_avx2.c — the fused depthwise micro-kernel of ukernel.h with AVX2:
 * a tile of 16 channels of two pixels at once (each tap's weights loaded
 * once for both) as vectors of 8 int32 sums, each tap's input
 * bytes zero- or sign-extended straight into int32 (vpmovzxbd/vpmovsxbd),
 * times the int16 weights extended likewise (vpmulld), added in wrapping
 * int32. The fp32 requantization is done in registers: float conversion and
 * multiply (rounded by MXCSR, as the C reference's), clamp, then rounding
 * half to even with an explicit rounding mode (vroundps imm 8), exact under
 * any FPU rounding mode, and the low bytes stored. A tile of fewer than 16
 * channels (the last one) reads and writes through a small local copy, so
 * no byte past C is touched. 3×3 (9 taps) and 5×5 (25 taps) have copies with
 * the tap count constant, uint8 and int8 input each.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/ukernel/ukernel.h"

#define DW_INLINE static inline __attribute__((always_inline))

DW_INLINE __m256i load8(const uint8_t *x, bool s8) {
  const __m128i v = _mm_loadl_epi64((const __m128i *)(const void *)x);
  return s8 ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

DW_INLINE __m256i loadw8(const int16_t *w) {
  return _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)w));
}

/* 8 sums → etpu_requantize_fp32 → 8 bytes at out. */
DW_INLINE void store_fp32(__m256i acc, const float *scale, __m256 lo, __m256 hi, __m256i zp, uint8_t out[8]) {
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_loadu_ps(scale));
  f = _mm256_min_ps(_mm256_max_ps(f, lo), hi);
  f = _mm256_round_ps(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(f), zp);
  /* the low byte of each lane: bytes 0, 4, 8, 12 of each 128-bit half */
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i b = _mm256_shuffle_epi8(q, pick);
  const __m128i v = _mm_unpacklo_epi32(_mm256_castsi256_si128(b), _mm256_extracti128_si256(b, 1));
  _mm_storel_epi64((__m128i *)(void *)out, v);
}

DW_INLINE void store8(const etpu_dw_ukernel_params *p, __m256i acc, size_t c, __m256 lo, __m256 hi, __m256i zp,
                      void *out_px, size_t n) {
  if (p->scale) {
    uint8_t b[8];
    store_fp32(acc, p->scale + c, lo, hi, zp, n == 8 ? (uint8_t *)out_px + c : b);
    if (n != 8) memcpy((uint8_t *)out_px + c, b, n);
  } else if (n == 8) {
    _mm256_storeu_si256((__m256i *)(void *)((int32_t *)out_px + c), acc);
  } else {
    int32_t v[8];
    _mm256_storeu_si256((__m256i *)(void *)v, acc);
    memcpy((int32_t *)out_px + c, v, n * sizeof *v);
  }
}

/* The full tile of channels [c0, c0 + 16) of np (1 or 2) pixels, the second
 * one's pointers ind_step further on: each tap's weights loaded once. */
DW_INLINE void tile16(const etpu_dw_ukernel_params *p, size_t taps, bool s8, size_t np, const uint8_t *const *ind,
                      size_t ind_step, size_t c0, const int16_t *w, __m256 lo, __m256 hi, __m256i zp, void *o,
                      size_t out_px) {
  const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(p->bias + c0));
  const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(p->bias + c0 + 8));
  __m256i a0 = b0, a1 = b1, e0 = b0, e1 = b1;
  const uint8_t *const *ind1 = ind + ind_step;
  for (size_t t = 0; t < taps; t++, w += 16) {
    const __m256i w0 = loadw8(w), w1 = loadw8(w + 8);
    const uint8_t *x = ind[t] + c0;
    a0 = _mm256_add_epi32(a0, _mm256_mullo_epi32(load8(x, s8), w0));
    a1 = _mm256_add_epi32(a1, _mm256_mullo_epi32(load8(x + 8, s8), w1));
    if (np == 2) {
      const uint8_t *y = ind1[t] + c0;
      e0 = _mm256_add_epi32(e0, _mm256_mullo_epi32(load8(y, s8), w0));
      e1 = _mm256_add_epi32(e1, _mm256_mullo_epi32(load8(y + 8, s8), w1));
    }
  }
  store8(p, a0, c0, lo, hi, zp, o, 8);
  store8(p, a1, c0 + 8, lo, hi, zp, o, 8);
  if (np == 2) {
    store8(p, e0, c0, lo, hi, zp, (uint8_t *)o + out_px, 8);
    store8(p, e1, c0 + 8, lo, hi, zp, (uint8_t *)o + out_px, 8);
  }
}

/* The last, partial tile of one pixel from c0 (weights w): groups of up to
 * 8 channels, a group of fewer through a local copy. */
DW_INLINE void tile_rest(const etpu_dw_ukernel_params *p, size_t taps, bool s8, const uint8_t *const *ind, size_t c0,
                         const int16_t *w, __m256 lo, __m256 hi, __m256i zp, void *o) {
  const size_t ch = p->channels;
  for (size_t g = 0; c0 + 8 * g < ch; g++) {
    const size_t c = c0 + 8 * g, n = ch - c < 8 ? ch - c : 8;
    const int16_t *wg = w + 8 * g;
    __m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(p->bias + c));
    for (size_t t = 0; t < taps; t++, wg += 16) {
      __m256i xv;
      if (n == 8) {
        xv = load8(ind[t] + c, s8);
      } else {
        uint8_t b[8] = {0};
        memcpy(b, ind[t] + c, n);
        xv = load8(b, s8);
      }
      a = _mm256_add_epi32(a, _mm256_mullo_epi32(xv, loadw8(wg)));
    }
    store8(p, a, c, lo, hi, zp, o, n);
  }
}

DW_INLINE void run(const etpu_dw_ukernel_params *p, size_t taps, bool s8, size_t pixels, const uint8_t *const *ind,
                   size_t ind_step, void *out) {
  const size_t ch = p->channels, out_px = p->scale ? p->out_stride : p->out_stride * sizeof(int32_t);
  const __m256 lo = _mm256_set1_ps(p->lo), hi = _mm256_set1_ps(p->hi);
  const __m256i zp = _mm256_set1_epi32(p->zp);
  const size_t full = ch / 16 * 16;
  for (size_t px = 0; px < pixels; px += 2, ind += 2 * ind_step) {
    const size_t np = pixels - px >= 2 ? 2 : 1;
    void *o = (uint8_t *)out + px * out_px;
    const int16_t *w = p->w;
    for (size_t c0 = 0; c0 < full; c0 += 16, w += 16 * taps)
      if (np == 2)
        tile16(p, taps, s8, 2, ind, ind_step, c0, w, lo, hi, zp, o, out_px);
      else
        tile16(p, taps, s8, 1, ind, ind_step, c0, w, lo, hi, zp, o, out_px);
    if (full == ch) continue;
    tile_rest(p, taps, s8, ind, full, w, lo, hi, zp, o);
    if (np == 2) tile_rest(p, taps, s8, ind + ind_step, full, w, lo, hi, zp, (uint8_t *)o + out_px);
  }
}

void etpu_dw_c16_avx2(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                      void *out) {
  ETPU_DW_SPECIALISE(run, p, pixels, ind, ind_step, out);
}
