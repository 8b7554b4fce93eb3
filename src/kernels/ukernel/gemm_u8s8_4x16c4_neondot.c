/*
 * gemm_u8s8_4x16c4_neondot.c — the GEMM micro-kernel of ukernel.h (4 rows ×
 * 16 columns of the [K/4][16][4] blocks) with aarch64's signed dot product
 * (sdot, armv8.2-a+dotprod; this file alone is compiled with that flag and
 * called only where HWCAP_ASIMDDP is set).
 *
 * sdot multiplies int8 by int8, but a row holds uint8 values u (after the
 * a_xor of the contract). With s = u ^ 0x80 = u − 128 as int8,
 *   Σ u·w = Σ s·w + 128·Σ w = Σ s·w − Σ (−128)·w,
 * so each step takes one sdot per row and column quad, plus one per quad of
 * a vector of −128 for the correction, shared by the four rows. Both sums
 * are bounded by K·128·128 < 2^31 for the K that etpu_opt_conv_supported
 * admits, and the difference is computed in wrapping int32 lanes: exact
 * whenever the true sum fits int32, as gemm_c4.inc's. The epilogue is
 * gemm_store.h's, so the bytes are the scalar kernel's.
 */
#include <arm_neon.h>
#include <string.h>

#include "kernels/ukernel/gemm_store.h"
#include "kernels/ukernel/ukernel.h"

void etpu_gemm_u8s8_4x16c4_neondot(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                                   uint32_t a_xor, const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep,
                                   void *out, size_t out_stride) {
  (void)w_stride; /* one block of 16 columns */
  enum { MR = ETPU_GEMM_STORE_MR, NR = ETPU_GEMM_STORE_NR };
  const uint32_t to_s8 = a_xor ^ UINT32_C(0x80808080);
  const uint8_t *rows[MR];
  for (size_t m = 0; m < MR; m++) rows[m] = a + (m < mr ? m : mr - 1) * a_stride; /* rows past mr: repeats */
  const int8x16_t minus128 = vdupq_n_s8(-128);
  int32x4_t acc[MR][4], corr[4];
  for (size_t q = 0; q < 4; q++) {
    corr[q] = vdupq_n_s32(0);
    for (size_t m = 0; m < MR; m++) acc[m][q] = vdupq_n_s32(0);
  }
  for (size_t k = 0; k < kc; k += 4) {
    const int8_t *wk = w + k * NR;
    const int8x16_t w0 = vld1q_s8(wk), w1 = vld1q_s8(wk + 16), w2 = vld1q_s8(wk + 32), w3 = vld1q_s8(wk + 48);
    corr[0] = vdotq_s32(corr[0], minus128, w0);
    corr[1] = vdotq_s32(corr[1], minus128, w1);
    corr[2] = vdotq_s32(corr[2], minus128, w2);
    corr[3] = vdotq_s32(corr[3], minus128, w3);
    for (size_t m = 0; m < MR; m++) {
      uint32_t word;
      memcpy(&word, rows[m] + k, sizeof word);
      const int8x16_t s = vreinterpretq_s8_u32(vdupq_n_u32(word ^ to_s8));
      acc[m][0] = vdotq_s32(acc[m][0], s, w0);
      acc[m][1] = vdotq_s32(acc[m][1], s, w1);
      acc[m][2] = vdotq_s32(acc[m][2], s, w2);
      acc[m][3] = vdotq_s32(acc[m][3], s, w3);
    }
  }
  int32_t sums[MR][NR];
  for (size_t m = 0; m < MR; m++)
    for (size_t q = 0; q < 4; q++) vst1q_s32(&sums[m][4 * q], vsubq_s32(acc[m][q], corr[q]));
  etpu_gemm_store_4x16(mr, nc, sums, ep, out, out_stride);
}
