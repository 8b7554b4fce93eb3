/*
 * gemm_store.h — the epilogue of the 4 × 16 GEMM micro-kernels of ukernel.h
 * (gemm_c4.inc's plain C and the aarch64 dot-product kernel): adds the
 * column and row terms to a tile of int32 sums and stores the int32 values
 * or, in the fp32 mode, the requantized bytes. One definition, inlined into
 * each kernel's file and so compiled with that ISA's flags. Adding the
 * terms wraps in uint32_t (signed overflow would be UB; the wrapped value is
 * the exact one whenever the true sum fits int32); the fp32 path rounds half
 * to even as etpu_opt_round_half_even does, whatever the FPU rounding mode.
 */
#ifndef ETPU_KERNELS_UKERNEL_GEMM_STORE_H
#define ETPU_KERNELS_UKERNEL_GEMM_STORE_H

#include <string.h>

#include "kernels/ukernel/ukernel.h"

enum { ETPU_GEMM_STORE_MR = 4, ETPU_GEMM_STORE_NR = 16 };

/* Rows m < mr of acc, columns n < nc, to out as ukernel.h's GEMM contract
 * says (all 16 lanes are computed: col and scale hold 16 values). */
static inline void etpu_gemm_store_4x16(size_t mr, size_t nc, const int32_t acc[ETPU_GEMM_STORE_MR][ETPU_GEMM_STORE_NR],
                                        const etpu_gemm_epilogue *ep, void *out, size_t out_stride) {
  enum { NR = ETPU_GEMM_STORE_NR };
  for (size_t m = 0; m < mr; m++) {
    const uint32_t r = ep->row ? (uint32_t)ep->row[m] : 0;
    int32_t v[NR];
    for (size_t j = 0; j < NR; j++) v[j] = (int32_t)((uint32_t)acc[m][j] + (uint32_t)ep->col[j] + r);
    if (!ep->scale) {
      memcpy((char *)out + m * out_stride, v, nc * sizeof v[0]);
      continue;
    }
    /* etpu_opt_round_half_even, branch-free so that it vectorizes */
    uint8_t o[NR];
    for (size_t j = 0; j < NR; j++) {
      float f = (float)v[j] * ep->scale[j];
      f = f < ep->lo ? ep->lo : f;
      f = f > ep->hi ? ep->hi : f;
      const int32_t t = (int32_t)f;
      const float frac = f - (float)t;
      const int32_t odd = t & 1;
      const int32_t up = (frac > 0.5f) | ((frac == 0.5f) & odd);
      const int32_t down = (frac < -0.5f) | ((frac == -0.5f) & odd);
      o[j] = (uint8_t)((uint32_t)(t + up - down + ep->zp) & 0xff);
    }
    memcpy((uint8_t *)out + m * out_stride, o, nc);
  }
}

#endif /* ETPU_KERNELS_UKERNEL_GEMM_STORE_H */
