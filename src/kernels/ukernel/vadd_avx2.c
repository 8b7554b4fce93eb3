/*
 * vadd_avx2.c — the quantized ADD/SUB micro-kernels of ukernel.h with AVX2,
 * 16 values a step, the same arithmetic as vadd_scalar.c:
 *   XNNPACK scheme: bytes widened to int32, bias + m1·u1 + m2·u2 with
 *   vpmulld (wrapping, as the scalar kernel), an arithmetic shift, + zp,
 *   clamped in int32 and packed to bytes (the clamp keeps packing exact);
 *   TFLite scheme: each double-rounding multiply of gemmlowp
 *   (SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT) from two
 *   vpmuldq of the even and odd lanes: the 64-bit product plus the nudge,
 *   truncated toward zero by 2^31 (the low 32 bits of the quotient are bits
 *   31..62 of the adjusted sum, so a logical 64-bit shift gives them), then
 *   the rounding right shift with gemmlowp's remainder threshold.
 * The AVX-512 levels use this TFLite-scheme kernel too (config.c). A last
 * partial step runs the scalar kernel.
 */
#include <immintrin.h>

#include "kernels/ukernel/ukernel.h"

/* 16 bytes at p, XOR flip, as two vectors of 8 int32. */
static inline void widen16(const uint8_t *p, __m128i flip, __m256i *lo, __m256i *hi) {
  const __m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)p), flip);
  *lo = _mm256_cvtepu8_epi32(x);
  *hi = _mm256_cvtepu8_epi32(_mm_srli_si128(x, 8));
}

/* Two vectors of 8 int32 values in [0, 255] stored as 16 bytes XOR flip. */
static inline void store16(uint8_t *p, __m256i lo, __m256i hi, __m128i flip) {
  const __m256i w = _mm256_permute4x64_epi64(_mm256_packs_epi32(lo, hi), 0xd8); /* int16, in order */
  const __m128i b = _mm_packus_epi16(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
  _mm_storeu_si128((__m128i *)p, _mm_xor_si128(b, flip));
}

void etpu_vadd_xnn_avx2(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p) {
  const __m128i flip = _mm_set1_epi8((char)p->flip), shift = _mm_cvtsi32_si128(p->shift);
  const __m256i bias = _mm256_set1_epi32(p->bias), m1 = _mm256_set1_epi32(p->m1), m2 = _mm256_set1_epi32(p->m2);
  const __m256i zp = _mm256_set1_epi32(p->zp), lo = _mm256_set1_epi32(p->lo), hi = _mm256_set1_epi32(p->hi);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a0, a1, b0, b1;
    widen16(a + i, flip, &a0, &a1);
    widen16(b + i, flip, &b0, &b1);
    __m256i v0 = _mm256_add_epi32(bias, _mm256_add_epi32(_mm256_mullo_epi32(a0, m1), _mm256_mullo_epi32(b0, m2)));
    __m256i v1 = _mm256_add_epi32(bias, _mm256_add_epi32(_mm256_mullo_epi32(a1, m1), _mm256_mullo_epi32(b1, m2)));
    v0 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(_mm256_sra_epi32(v0, shift), zp), lo), hi);
    v1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(_mm256_sra_epi32(v1, shift), zp), lo), hi);
    store16(out + i, v0, v1, flip);
  }
  if (i < n) etpu_vadd_xnn_scalar(n - i, a + i, b + i, out + i, p);
}

/* trunc((p + nudge) / 2^31) in the low 32 bits of each 64-bit lane of the
 * products p (gemmlowp's nudge: 2^30, or 1 − 2^30 for p < 0). */
static inline __m256i high_mul64(__m256i prod) {
  const __m256i zero = _mm256_setzero_si256(), max31 = _mm256_set1_epi64x(((int64_t)1 << 31) - 1);
  const __m256i nudge =
      _mm256_sub_epi64(_mm256_set1_epi64x((int64_t)1 << 30), _mm256_and_si256(_mm256_cmpgt_epi64(zero, prod), max31));
  const __m256i x = _mm256_add_epi64(prod, nudge);
  return _mm256_srli_epi64(_mm256_add_epi64(x, _mm256_and_si256(_mm256_cmpgt_epi64(zero, x), max31)), 31);
}

/* One uniform double-rounding multiply: left/right the shift counts, mask
 * 2^right − 1. */
typedef struct dr_params {
  __m256i m, mask, half_mask;
  __m128i left, right;
  int32_t mult;
} dr_params;

static inline dr_params dr_init(int32_t mult, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
  dr_params d = {_mm256_set1_epi32(mult), _mm256_set1_epi32(mask), _mm256_set1_epi32(mask >> 1),
                 _mm_cvtsi32_si128(left), _mm_cvtsi32_si128(right), mult};
  return d;
}

static inline __m256i double_round(__m256i acc, const dr_params *d) {
  const __m256i x = _mm256_sll_epi32(acc, d->left);
  const __m256i even = high_mul64(_mm256_mul_epi32(x, d->m));
  const __m256i odd = high_mul64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(d->m, 32)));
  __m256i h = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xaa);
  if (d->mult == INT32_MIN) { /* INT32_MIN · INT32_MIN saturates to INT32_MAX */
    const __m256i min32 = _mm256_set1_epi32(INT32_MIN);
    h = _mm256_blendv_epi8(h, _mm256_set1_epi32(INT32_MAX), _mm256_cmpeq_epi32(x, min32));
  }
  const __m256i rem = _mm256_and_si256(h, d->mask);
  const __m256i thr = _mm256_sub_epi32(d->half_mask, _mm256_srai_epi32(h, 31));
  /* q + (rem > thr): the comparison's −1 subtracted */
  return _mm256_sub_epi32(_mm256_sra_epi32(h, d->right), _mm256_cmpgt_epi32(rem, thr));
}

void etpu_vadd_q31_avx2(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p) {
  const __m128i flip = _mm_set1_epi8((char)p->flip), left = _mm_cvtsi32_si128(p->left);
  const __m256i off1 = _mm256_set1_epi32(p->off1), off2 = _mm256_set1_epi32(p->off2);
  const dr_params r1 = dr_init(p->mult1, p->shift1), r2 = dr_init(p->mult2, p->shift2);
  const dr_params ro = dr_init(p->multo, p->shifto);
  /* clamp o to [lo − zp, hi − zp], then + zp: no int32 overflow */
  const __m256i zp = _mm256_set1_epi32(p->zp), lo = _mm256_set1_epi32(p->lo - p->zp);
  const __m256i hi = _mm256_set1_epi32(p->hi - p->zp);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256i a01[2], b01[2], v[2];
    widen16(a + i, flip, &a01[0], &a01[1]);
    widen16(b + i, flip, &b01[0], &b01[1]);
    for (int h = 0; h < 2; h++) {
      const __m256i t1 = double_round(_mm256_sll_epi32(_mm256_add_epi32(a01[h], off1), left), &r1);
      const __m256i t2 = double_round(_mm256_sll_epi32(_mm256_add_epi32(b01[h], off2), left), &r2);
      const __m256i raw = p->subtract ? _mm256_sub_epi32(t1, t2) : _mm256_add_epi32(t1, t2);
      v[h] = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(double_round(raw, &ro), lo), hi), zp);
    }
    store16(out + i, v[0], v[1], flip);
  }
  if (i < n) etpu_vadd_q31_scalar(n - i, a + i, b + i, out + i, p);
}
