/*
 * gemm_s16_2x4_scalar.c — the int16 GEMM micro-kernel of ukernel.h for the
 * levels below AVX2 (scalar, sse41; every aarch64/armhf machine): the dot
 * products of one or two int16 rows (x + input_offset) with four int16
 * weight rows (w + filter_offset) over kc values, in int32. Plain C written
 * for the vectorizer: gcc and clang turn the loop into pmaddwd (x86-64 SSE2)
 * or smlal (NEON), which on these levels is faster than the uint8 × int8
 * blocks of gemm_c4.inc that need pmaddubsw or vpdpbusd to pay off.
 */
#include "kernels/ukernel/ukernel.h"

void etpu_gemm_s16_2x4_scalar(size_t mr, size_t kc, const int16_t *a, size_t a_stride, const int16_t *w,
                              size_t w_stride, int32_t out[8]) {
  const int16_t *restrict w0 = w, *restrict w1 = w + w_stride, *restrict w2 = w + 2 * w_stride;
  const int16_t *restrict w3 = w + 3 * w_stride;
  if (mr < 2) {
    const int16_t *restrict a0 = a;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < kc; i++) {
      const int32_t x = a0[i];
      s0 += w0[i] * x;
      s1 += w1[i] * x;
      s2 += w2[i] * x;
      s3 += w3[i] * x;
    }
    out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
    return;
  }
  const int16_t *restrict a0 = a, *restrict a1 = a + a_stride;
  int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  for (size_t i = 0; i < kc; i++) {
    const int32_t x0 = a0[i], x1 = a1[i];
    s00 += w0[i] * x0;
    s01 += w1[i] * x0;
    s02 += w2[i] * x0;
    s03 += w3[i] * x0;
    s10 += w0[i] * x1;
    s11 += w1[i] * x1;
    s12 += w2[i] * x1;
    s13 += w3[i] * x1;
  }
  out[0] = s00, out[1] = s01, out[2] = s02, out[3] = s03;
  out[4] = s10, out[5] = s11, out[6] = s12, out[7] = s13;
}
