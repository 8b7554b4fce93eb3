/*
 * gemm_u8s8_8x32c4_avx512vnni.c — the GEMM micro-kernel of ukernel.h for
 * AVX-512 VNNI: 8 rows × 32 columns (two blocks of 16) in 16 zmm
 * accumulators. Each step of 4 k broadcasts a row's 4 uint8 values to every
 * lane and vpdpbusd multiplies them with the 16 columns' 4 int8 weights,
 * summing the 4 products into each column's int32 lane (wrapping, exact when
 * the true sum fits int32). Rows past mr repeat row mr − 1 (their results are
 * not stored), columns past nc are masked.
 *
 * The fp32 epilogue: int32 → float (vcvtdq2ps) and the multiply round as the
 * C reference's conversion and multiply do (MXCSR); the clamp is max/min;
 * the conversion back rounds half to even with an embedded rounding mode
 * ({rn-sae}), so, as in the reference, the result does not depend on the FPU
 * rounding mode; vpmovdb stores the low bytes.
 */
#include <immintrin.h>
#include <stdbool.h>
#include <string.h>

#include "kernels/ukernel/ukernel.h"

/* Row m's 4 bytes at k, in every lane; XORed with 0x80 bytes when flip. */
static inline __m512i bcast4(const uint8_t *p, bool flip) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  const __m512i b = _mm512_set1_epi32(v);
  return flip ? _mm512_xor_si512(b, _mm512_set1_epi32((int)0x80808080u)) : b;
}

static inline void store_row(__m512i v, size_t j, __mmask16 mask, const etpu_gemm_epilogue *ep, void *out) {
  if (!ep->scale) {
    _mm512_mask_storeu_epi32((int32_t *)out + 16 * j, mask, v);
    return;
  }
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_maskz_loadu_ps(mask, ep->scale + 16 * j));
  f = _mm512_min_ps(_mm512_max_ps(f, _mm512_set1_ps(ep->lo)), _mm512_set1_ps(ep->hi));
  const __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC),
                                     _mm512_set1_epi32(ep->zp));
  _mm512_mask_cvtepi32_storeu_epi8((uint8_t *)out + 16 * j, mask, q);
}

/* The kernel for nb blocks of 16 columns (1 or 2) and flip (a_xor != 0),
 * constants once inlined. The accumulators are named variables, not an
 * array, so that they stay in registers. */
static inline __attribute__((always_inline)) void gemm_nb(size_t nb, bool flip, size_t mr, size_t nc, size_t kc,
                                                          const uint8_t *a, size_t a_stride, const int8_t *w,
                                                          size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                                          size_t out_stride) {
  const uint8_t *a0 = a, *a1 = a0 + (mr > 1 ? a_stride : 0), *a2 = a1 + (mr > 2 ? a_stride : 0);
  const uint8_t *a3 = a2 + (mr > 3 ? a_stride : 0), *a4 = a3 + (mr > 4 ? a_stride : 0);
  const uint8_t *a5 = a4 + (mr > 5 ? a_stride : 0), *a6 = a5 + (mr > 6 ? a_stride : 0);
  const uint8_t *a7 = a6 + (mr > 7 ? a_stride : 0);
  __m512i c00 = _mm512_setzero_si512(), c10 = c00, c20 = c00, c30 = c00, c40 = c00, c50 = c00, c60 = c00, c70 = c00;
  __m512i c01 = c00, c11 = c00, c21 = c00, c31 = c00, c41 = c00, c51 = c00, c61 = c00, c71 = c00;
  const int8_t *w1 = w + w_stride;
  for (size_t k = 0; k < kc; k += 4) {
    const __m512i b0 = _mm512_loadu_si512(w + 16 * k);
    const __m512i b1 = nb > 1 ? _mm512_loadu_si512(w1 + 16 * k) : b0;
#define ETPU_ROW_(m)                                                   \
  {                                                                    \
    const __m512i va = bcast4(a##m + k, flip);                         \
    c##m##0 = _mm512_dpbusd_epi32(c##m##0, va, b0);                    \
    if (nb > 1) c##m##1 = _mm512_dpbusd_epi32(c##m##1, va, b1);        \
  }
    ETPU_ROW_(0) ETPU_ROW_(1) ETPU_ROW_(2) ETPU_ROW_(3) ETPU_ROW_(4) ETPU_ROW_(5) ETPU_ROW_(6) ETPU_ROW_(7)
#undef ETPU_ROW_
  }
  const __mmask16 m0 = nc >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << nc) - 1);
  const __mmask16 m1 = nc >= 32 ? (__mmask16)0xffff : nc > 16 ? (__mmask16)((1u << (nc - 16)) - 1) : 0;
  const __m512i k0 = _mm512_maskz_loadu_epi32(m0, ep->col), k1 = _mm512_maskz_loadu_epi32(m1, ep->col + 16);
  const __m512i acc[8][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31},
                             {c40, c41}, {c50, c51}, {c60, c61}, {c70, c71}};
  for (size_t m = 0; m < mr; m++) {
    const __m512i r = _mm512_set1_epi32(ep->row ? ep->row[m] : 0);
    char *o = (char *)out + m * out_stride;
    store_row(_mm512_add_epi32(_mm512_add_epi32(acc[m][0], k0), r), 0, m0, ep, o);
    if (nb > 1) store_row(_mm512_add_epi32(_mm512_add_epi32(acc[m][1], k1), r), 1, m1, ep, o);
  }
}

void etpu_gemm_u8s8_8x32c4_avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                                      uint32_t a_xor, const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep,
                                      void *out, size_t out_stride) {
  if (a_xor) {
    if (nc > 16)
      gemm_nb(2, true, mr, nc, kc, a, a_stride, w, w_stride, ep, out, out_stride);
    else
      gemm_nb(1, true, mr, nc, kc, a, a_stride, w, w_stride, ep, out, out_stride);
  } else if (nc > 16) {
    gemm_nb(2, false, mr, nc, kc, a, a_stride, w, w_stride, ep, out, out_stride);
  } else {
    gemm_nb(1, false, mr, nc, kc, a, a_stride, w, w_stride, ep, out, out_stride);
  }
}
