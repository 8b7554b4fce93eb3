/*
 * vadd_avx512.c — the XNNPACK-scheme quantized ADD/SUB micro-kernel of
 * ukernel.h with AVX-512 F/BW/VL, 32 values a step as two vectors of 16
 * int32: bias + m1·u1 + m2·u2 with vpmulld (wrapping, as vadd_scalar.c), an
 * arithmetic shift, + zp, clamped in int32 and narrowed to bytes; the last
 * partial vectors are masked. (The TFLite scheme runs vadd_avx2.c's kernel
 * on these levels.)
 */
#include <immintrin.h>

#include "kernels/ukernel/ukernel.h"

typedef struct xnn_vec {
  __m512i bias, m1, m2, zp, lo, hi;
  __m128i shift, flip;
} xnn_vec;

/* The n <= 16 values at i, masked. */
static inline void xnn16(const xnn_vec *c, const uint8_t *a, const uint8_t *b, uint8_t *out, __mmask16 k) {
  const __m512i u1 = _mm512_cvtepu8_epi32(_mm_xor_si128(_mm_maskz_loadu_epi8(k, a), c->flip));
  const __m512i u2 = _mm512_cvtepu8_epi32(_mm_xor_si128(_mm_maskz_loadu_epi8(k, b), c->flip));
  __m512i v = _mm512_add_epi32(c->bias, _mm512_add_epi32(_mm512_mullo_epi32(u1, c->m1), _mm512_mullo_epi32(u2, c->m2)));
  v = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(_mm512_sra_epi32(v, c->shift), c->zp), c->lo), c->hi);
  _mm_mask_storeu_epi8(out, k, _mm_xor_si128(_mm512_cvtepi32_epi8(v), c->flip));
}

void etpu_vadd_xnn_avx512(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p) {
  const xnn_vec c = {_mm512_set1_epi32(p->bias), _mm512_set1_epi32(p->m1), _mm512_set1_epi32(p->m2),
                     _mm512_set1_epi32(p->zp),   _mm512_set1_epi32(p->lo), _mm512_set1_epi32(p->hi),
                     _mm_cvtsi32_si128(p->shift), _mm_set1_epi8((char)p->flip)};
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    xnn16(&c, a + i, b + i, out + i, (__mmask16)0xffff);
    xnn16(&c, a + i + 16, b + i + 16, out + i + 16, (__mmask16)0xffff);
  }
  for (; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    xnn16(&c, a + i, b + i, out + i, k);
  }
}
