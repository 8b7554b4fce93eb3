/*
 * requant_fp32_x16_avx512.c — the fp32 requantization micro-kernel of
 * ukernel.h with AVX-512F, 16 values a step: etpu_requantize_fp32's float
 * conversion and multiply (rounded as the C reference's, by MXCSR), its clamp,
 * and the half-to-even rounding with an embedded rounding mode ({rn-sae}), so
 * the result does not depend on the FPU rounding mode, as the reference's
 * does not. A partial last step is masked.
 */
#include <immintrin.h>

#include "kernels/ukernel/ukernel.h"

void etpu_requant_fp32_x16_avx512(const int32_t *acc, size_t n, const float *scale, float lo, float hi, int32_t zp,
                                  uint8_t *out) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  const __m512i z = _mm512_set1_epi32(zp);
  for (size_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(k, acc + i)),
                             _mm512_maskz_loadu_ps(k, scale + i));
    f = _mm512_min_ps(_mm512_max_ps(f, vlo), vhi);
    const __m512i q = _mm512_add_epi32(_mm512_cvt_roundps_epi32(f, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), z);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, k, q);
  }
}
