/*
 * requant_q31_x16_avx512.c — the integer requantization micro-kernel of
 * ukernel.h with AVX-512F, 16 values a step, exactly the reference's
 * arithmetic (requant.c, TFLITE.md §7.1):
 *   double rounding: a = acc << left (wrapping); the doubling high multiply
 *   (a·m + nudge) / 2^31 truncated, from two vpmuldq of the even and odd
 *   lanes, INT32_MAX for INT32_MIN·INT32_MIN; then the rounding right shift
 *   by `right` with gemmlowp's remainder threshold;
 *   single rounding: (acc·m + 2^(total−1)) >> total in int64, low 32 bits.
 * The result is clamped to [act_min − zp, act_max − zp] before zp is added
 * (the same as clamping r + zp in int64, with no int32 overflow) and its low
 * bytes stored. A partial last step is masked.
 */
#include <immintrin.h>

#include "kernels/requant.h"
#include "kernels/ukernel/ukernel.h"

/* The even int32 lanes of lo and the even lanes of hi moved to the odd ones. */
static inline __m512i interleave_low32(__m512i even, __m512i odd) {
  return _mm512_mask_blend_epi32((__mmask16)0xAAAA, even, _mm512_slli_epi64(odd, 32));
}

/* trunc((a·m + nudge) / 2^31) for the int64 products p of the even lanes. */
static inline __m512i high_mul(__m512i p) {
  const __m512i neg = _mm512_srai_epi64(p, 63); /* −1 where p < 0 */
  const __m512i nudge = _mm512_sub_epi64(_mm512_set1_epi64((int64_t)1 << 30),
                                         _mm512_and_si512(neg, _mm512_set1_epi64(((int64_t)1 << 31) - 1)));
  const __m512i x = _mm512_add_epi64(p, nudge); /* p >= 0: 2^30; p < 0: 1 − 2^30 */
  const __m512i xneg = _mm512_srai_epi64(x, 63);
  return _mm512_srai_epi64(_mm512_add_epi64(x, _mm512_and_si512(xneg, _mm512_set1_epi64(((int64_t)1 << 31) - 1))),
                           31);
}

static inline __m512i double_round(__m512i acc, __m512i m, __m512i shift) {
  const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
  const __m512i left = _mm512_max_epi32(shift, zero), right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
  const __m512i a = _mm512_sllv_epi32(acc, left);
  const __m512i pe = _mm512_mul_epi32(a, m);
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(a, 32), _mm512_srli_epi64(m, 32));
  __m512i hi = interleave_low32(high_mul(pe), high_mul(po));
  const __m512i min32 = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 sat = _mm512_cmpeq_epi32_mask(a, min32) & _mm512_cmpeq_epi32_mask(m, min32);
  hi = _mm512_mask_mov_epi32(hi, sat, _mm512_set1_epi32(INT32_MAX));
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
  const __m512i rem = _mm512_and_si512(hi, mask);
  const __m512i thr = _mm512_sub_epi32(_mm512_srai_epi32(mask, 1), _mm512_srai_epi32(hi, 31));
  const __m512i q = _mm512_srav_epi32(hi, right);
  return _mm512_mask_add_epi32(q, _mm512_cmpgt_epi32_mask(rem, thr), q, one);
}

static inline __m512i single_round(__m512i acc, __m512i m, __m512i shift) {
  const __m512i total = _mm512_sub_epi32(_mm512_set1_epi32(31), shift); /* [1, 62] */
  const __m512i one64 = _mm512_set1_epi64(1);
  /* even lanes: low 32 bits of each 64-bit lane; odd lanes: shifted down */
  const __m512i te = _mm512_and_si512(total, _mm512_set1_epi64(0xffffffff));
  const __m512i to = _mm512_srli_epi64(total, 32);
  const __m512i pe = _mm512_mul_epi32(acc, m);
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(m, 32));
  const __m512i re =
      _mm512_srav_epi64(_mm512_add_epi64(pe, _mm512_sllv_epi64(one64, _mm512_sub_epi64(te, one64))), te);
  const __m512i ro =
      _mm512_srav_epi64(_mm512_add_epi64(po, _mm512_sllv_epi64(one64, _mm512_sub_epi64(to, one64))), to);
  return interleave_low32(re, ro);
}

void etpu_requant_q31_x16_avx512(const int32_t *acc, size_t n, const int32_t *mult, const int32_t *shift, int mode,
                                 int32_t zp, int32_t amin, int32_t amax, uint8_t *out) {
  const __m512i lo = _mm512_set1_epi32(amin - zp), hi = _mm512_set1_epi32(amax - zp), z = _mm512_set1_epi32(zp);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    const __m512i a = _mm512_maskz_loadu_epi32(k, acc + i), m = _mm512_maskz_loadu_epi32(k, mult + i);
    const __m512i s = _mm512_maskz_loadu_epi32(k, shift + i);
    __m512i r = mode == ETPU_REQUANT_DOUBLE_ROUND ? double_round(a, m, s) : single_round(a, m, s);
    r = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(r, lo), hi), z);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, k, r);
  }
}
