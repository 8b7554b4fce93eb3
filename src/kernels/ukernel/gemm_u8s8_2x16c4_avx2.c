/*
 * gemm_u8s8_2x16c4_avx2.c — the GEMM micro-kernel of ukernel.h for AVX2:
 * 2 rows × 16 columns with vpmaddwd on values widened to int16 (vpmaddubsw
 * would saturate its int16 pair sums, so it is not exact). A step of 4 k
 * widens the block's 64 weight bytes to four ymm of 4 columns × 4 k, and a
 * row's 4 uint8 values to int16, broadcast; vpmaddwd leaves each column's
 * two pair sums in adjacent int32 lanes, which vphaddd adds at the end.
 * Every sum is exact (|pair| <= 2·255·128) and the int32 accumulation wraps
 * (exact when the true sum fits int32).
 *
 * The fp32 epilogue: vcvtdq2ps and the multiply round as the C reference's
 * conversion and multiply do (MXCSR); vroundps with an explicit
 * round-to-nearest-even immediate makes the rounding independent of the FPU
 * mode, as in the reference; the integral result converts exactly.
 */
#include <immintrin.h>
#include <string.h>

#include "kernels/ukernel/ukernel.h"

enum { MR = 2 };

/* The 8 int32 sums of columns 8h..8h+7 from the pair sums of columns 0–3 and 4–7. */
static inline __m256i reduce8(__m256i lo, __m256i hi) {
  return _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo, hi), _MM_SHUFFLE(3, 1, 2, 0));
}

static inline void store8(__m256i v, size_t j0, size_t n, const etpu_gemm_epilogue *ep, void *out) {
  if (!ep->scale) {
    if (n >= 8) {
      _mm256_storeu_si256((__m256i *)((int32_t *)out + j0), v);
    } else {
      int32_t t[8];
      _mm256_storeu_si256((__m256i *)t, v);
      memcpy((int32_t *)out + j0, t, n * sizeof t[0]);
    }
    return;
  }
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_loadu_ps(ep->scale + j0));
  f = _mm256_min_ps(_mm256_max_ps(f, _mm256_set1_ps(ep->lo)), _mm256_set1_ps(ep->hi));
  f = _mm256_round_ps(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256i q = _mm256_add_epi32(_mm256_cvttps_epi32(f), _mm256_set1_epi32(ep->zp));
  const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 0, 4, 8, 12, -1,
                                        -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
  q = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(q, pick), _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1));
  const uint64_t bytes = (uint64_t)_mm_cvtsi128_si64(_mm256_castsi256_si128(q));
  memcpy((uint8_t *)out + j0, &bytes, n >= 8 ? 8 : n);
}

void etpu_gemm_u8s8_2x16c4_avx2(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                size_t out_stride) {
  (void)w_stride; /* one block of 16 columns */
  const uint8_t *a0 = a, *a1 = a + (mr > 1 ? a_stride : 0);
  __m256i s[MR][4];
  for (size_t m = 0; m < MR; m++) s[m][0] = s[m][1] = s[m][2] = s[m][3] = _mm256_setzero_si256();
  for (size_t k = 0; k < kc; k += 4) {
    const int8_t *wk = w + 16 * k;
    const __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)wk));
    const __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wk + 16)));
    const __m256i w2 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wk + 32)));
    const __m256i w3 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wk + 48)));
    uint32_t v0, v1;
    memcpy(&v0, a0 + k, 4);
    memcpy(&v1, a1 + k, 4);
    const __m256i x0 = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)(v0 ^ a_xor))));
    const __m256i x1 = _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128((int)(v1 ^ a_xor))));
    s[0][0] = _mm256_add_epi32(s[0][0], _mm256_madd_epi16(x0, w0));
    s[0][1] = _mm256_add_epi32(s[0][1], _mm256_madd_epi16(x0, w1));
    s[0][2] = _mm256_add_epi32(s[0][2], _mm256_madd_epi16(x0, w2));
    s[0][3] = _mm256_add_epi32(s[0][3], _mm256_madd_epi16(x0, w3));
    s[1][0] = _mm256_add_epi32(s[1][0], _mm256_madd_epi16(x1, w0));
    s[1][1] = _mm256_add_epi32(s[1][1], _mm256_madd_epi16(x1, w1));
    s[1][2] = _mm256_add_epi32(s[1][2], _mm256_madd_epi16(x1, w2));
    s[1][3] = _mm256_add_epi32(s[1][3], _mm256_madd_epi16(x1, w3));
  }
  const __m256i c0 = _mm256_loadu_si256((const __m256i *)ep->col);
  const __m256i c1 = _mm256_loadu_si256((const __m256i *)(ep->col + 8));
  for (size_t m = 0; m < mr; m++) {
    const __m256i r = _mm256_set1_epi32(ep->row ? ep->row[m] : 0);
    char *o = (char *)out + m * out_stride;
    store8(_mm256_add_epi32(_mm256_add_epi32(reduce8(s[m][0], s[m][1]), c0), r), 0, nc, ep, o);
    if (nc > 8)
      store8(_mm256_add_epi32(_mm256_add_epi32(reduce8(s[m][2], s[m][3]), c1), r), 8, nc - 8, ep, o);
  }
}
