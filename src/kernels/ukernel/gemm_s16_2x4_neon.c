/*
 * gemm_s16_2x4_neon.c — the int16 GEMM micro-kernel of ukernel.h (one or two
 * int16 rows · four int16 weight rows, int32 sums) in NEON intrinsics, for
 * the neon level on aarch64 and armv7 (compiled with -mfpu=neon there).
 * Eight values per step: vmlal_s16 multiplies int16 lanes and adds the
 * exact int32 products into four lanes per row-and-column pair; the lanes
 * are summed at the end. Wrapping int32 lane sums equal the scalar kernel's
 * sums whenever those fit int32, which the caller guarantees, so the result
 * is gemm_s16_2x4_scalar.c's bit for bit. A tail of kc % 8 values (none in
 * conv_s16.c's rows, padded to 8) is added in plain C.
 */
#include <arm_neon.h>

#include "kernels/ukernel/ukernel.h"

/* The four lanes' sum, wrapping as the lanes do. */
static inline int32_t hsum(int32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_s32(v);
#else
  const int32x2_t s = vadd_s32(vget_low_s32(v), vget_high_s32(v));
  return vget_lane_s32(vpadd_s32(s, s), 0);
#endif
}

/* acc += x · w over eight int16 lanes. */
static inline int32x4_t mla8(int32x4_t acc, int16x8_t x, int16x8_t w) {
  acc = vmlal_s16(acc, vget_low_s16(x), vget_low_s16(w));
  return vmlal_s16(acc, vget_high_s16(x), vget_high_s16(w));
}

/* The scalar tail: Σ_{i in [k0, kc)} a[i] · w[i], wrapping in uint32_t. */
static inline int32_t tail(const int16_t *a, const int16_t *w, size_t k0, size_t kc) {
  uint32_t s = 0;
  for (size_t i = k0; i < kc; i++) s += (uint32_t)((int32_t)a[i] * w[i]);
  return (int32_t)s;
}

void etpu_gemm_s16_2x4_neon(size_t mr, size_t kc, const int16_t *a, size_t a_stride, const int16_t *w,
                            size_t w_stride, int32_t out[8]) {
  const int16_t *w0 = w, *w1 = w + w_stride, *w2 = w + 2 * w_stride, *w3 = w + 3 * w_stride;
  const size_t k8 = kc - kc % 8;
  const size_t rows = mr < 2 ? 1 : 2;
  int32x4_t acc[2][4];
  for (size_t m = 0; m < 2; m++)
    for (size_t n = 0; n < 4; n++) acc[m][n] = vdupq_n_s32(0);
  if (rows == 1) {
    for (size_t i = 0; i < k8; i += 8) {
      const int16x8_t x = vld1q_s16(a + i);
      acc[0][0] = mla8(acc[0][0], x, vld1q_s16(w0 + i));
      acc[0][1] = mla8(acc[0][1], x, vld1q_s16(w1 + i));
      acc[0][2] = mla8(acc[0][2], x, vld1q_s16(w2 + i));
      acc[0][3] = mla8(acc[0][3], x, vld1q_s16(w3 + i));
    }
  } else {
    const int16_t *a1 = a + a_stride;
    for (size_t i = 0; i < k8; i += 8) {
      const int16x8_t x0 = vld1q_s16(a + i), x1 = vld1q_s16(a1 + i);
      const int16x8_t v0 = vld1q_s16(w0 + i), v1 = vld1q_s16(w1 + i);
      const int16x8_t v2 = vld1q_s16(w2 + i), v3 = vld1q_s16(w3 + i);
      acc[0][0] = mla8(acc[0][0], x0, v0);
      acc[0][1] = mla8(acc[0][1], x0, v1);
      acc[0][2] = mla8(acc[0][2], x0, v2);
      acc[0][3] = mla8(acc[0][3], x0, v3);
      acc[1][0] = mla8(acc[1][0], x1, v0);
      acc[1][1] = mla8(acc[1][1], x1, v1);
      acc[1][2] = mla8(acc[1][2], x1, v2);
      acc[1][3] = mla8(acc[1][3], x1, v3);
    }
  }
  const int16_t *wr[4] = {w0, w1, w2, w3};
  for (size_t m = 0; m < rows; m++)
    for (size_t n = 0; n < 4; n++)
      out[4 * m + n] = (int32_t)((uint32_t)hsum(acc[m][n]) + (uint32_t)tail(a + m * a_stride, wr[n], k8, kc));
}
