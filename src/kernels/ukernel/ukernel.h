/*
 * ukernel.h — etpu's per-ISA integer micro-kernels and the table that
 * chooses them once per process (src/kernels/config.c).
 *
 * A micro-kernel does the innermost work of a driver in src/kernels/opt/ for
 * one tile and nothing else: no allocation, no checks, no loops over a
 * layer. Each lives in its own file, ukernel/<op>_<tile>_<isa>.c, compiled
 * with that ISA's -m flags (CMakeLists.txt), so the library runs on any
 * x86-64 and calls an AVX-512 kernel only where the CPU and the OS support
 * it. The scalar kernels are plain C for every target; they are the
 * fallback and, with the reference kernels of src/kernels/ref/, the oracle
 * of the kernel tester (tests/test_kernels_opt.c).
 *
 * GEMM (CONV_2D as im2col rows, FULLY_CONNECTED): activations are uint8 A
 * rows (int8 activations XOR 0x80, i.e. x + 128), weights int8 packed in
 * blocks of 16 columns, [K/4][16][4] (column j's k..k+3 at 64·(k/4) + 4·j),
 * K a multiple of 4 and zero-padded; col and scale hold nc values rounded up
 * to a multiple of 16 (zeros past nc). The kernel sums Σ a·w in wrapping int32
 * (exact when the true sum fits int32, which etpu_opt_conv_supported
 * guarantees), adds col[n] + row[m], then either stores the int32 values or,
 * in the fp32 mode, requantizes them as etpu_requantize_fp32 does (float
 * multiply, clamp, round half to even whatever the FPU rounding mode) and
 * stores the low bytes.
 */
#ifndef ETPU_KERNELS_UKERNEL_UKERNEL_H
#define ETPU_KERNELS_UKERNEL_UKERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__aarch64__) || defined(__arm__)
#define ETPU_UKERNEL_ARM 1
#endif

/* ISA levels, lowest first; each implies the ones below it. The levels are
 * the target's: x86-64's, ARM's (aarch64 and armv7), or scalar alone. */
typedef enum etpu_isa {
  ETPU_ISA_SCALAR = 0,     /* plain C */
#if defined(ETPU_UKERNEL_ARM)
  ETPU_ISA_NEON = 1,       /* Advanced SIMD (aarch64: always; armv7: HWCAP_NEON) */
  ETPU_ISA_NEONDOT = 2,    /* aarch64 dot product (HWCAP_ASIMDDP: sdot/udot) */
  ETPU_ISA_COUNT = 3
#else
  ETPU_ISA_SSE41 = 1,      /* SSE4.1 */
  ETPU_ISA_AVX2 = 2,       /* AVX2 (+ OS ymm state) */
  ETPU_ISA_AVX512 = 3,     /* AVX-512 F/BW/VL (+ OS zmm state) */
  ETPU_ISA_AVX512VNNI = 4, /* AVX-512 VNNI */
  ETPU_ISA_COUNT = 5
#endif
} etpu_isa;

/* Rows of 16 int8 weights by 4: bytes of one packed weight block of kc. */
#define ETPU_GEMM_BLOCK 16

/* What the GEMM micro-kernel adds and how it stores (see the file comment). */
typedef struct etpu_gemm_epilogue {
  const int32_t *col; /* nc per-column addends (bias and the zero-point terms) */
  const int32_t *row; /* mr per-row addends, or NULL: none */
  const float *scale; /* fp32: nc per-column scales; NULL: store int32 */
  float lo, hi;       /* fp32: the clamp, act_min − zp and act_max − zp */
  int32_t zp;         /* fp32: output zero point */
} etpu_gemm_epilogue;

/* c[m][n] = Σ_{k<kc} (a[m·a_stride + k] ^ a_xor's byte) · w_n[k] + col[n] + row[m]
 * for m < mr (<= the kernel's MR), n < nc (<= its NR). w: the packed block of
 * columns 0–15, those of 16–31 w_stride bytes further on, and so on. kc > 0
 * and a multiple of 4; a_xor 0 or 0x80808080. Output: ep->scale NULL →
 * int32 values at out + m·out_stride (bytes) + 4·n; else the fp32
 * requantized bytes at out + m·out_stride + n. */
typedef void (*etpu_gemm_ukernel)(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                  const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                  size_t out_stride);

/* The int16 GEMM of the levels below AVX2 (opt/conv_s16.c): for m < mr
 * (1 or 2) and n < 4, out[4·m + n] = Σ_{k<kc} a[m·a_stride + k] ·
 * w[n·w_stride + k] in int32 (the caller's operands keep it from
 * overflowing); a holds x + input_offset, w rows w + filter_offset. */
typedef void (*etpu_gemm_s16_ukernel)(size_t mr, size_t kc, const int16_t *a, size_t a_stride, const int16_t *w,
                                      size_t w_stride, int32_t out[8]);

/* acc[c] += x0[c]·w0[c] + x1[c]·w1[c] + x2[c]·w2[c] for c < n (int16 values,
 * int32 sums that cannot overflow): a depthwise window row of three taps. */
typedef void (*etpu_dw_taps3_ukernel)(int32_t *acc, const int16_t *x0, const int16_t *x1, const int16_t *x2,
                                      const int16_t *w0, const int16_t *w1, const int16_t *w2, int32_t n);
/* acc[c] += x[c]·w[c] for c < n. */
typedef void (*etpu_dw_taps1_ukernel)(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n);

/* out[i] = the low byte of etpu_requant_output(acc[i], {mult[i], shift[i]},
 * mode, zp, amin, amax) for i < n, mode ETPU_REQUANT_DOUBLE_ROUND or
 * ETPU_REQUANT_SINGLE_ROUND (shifts in the ranges etpu_kcheck_quant admits). */
typedef void (*etpu_requant_q31_ukernel)(const int32_t *acc, size_t n, const int32_t *mult, const int32_t *shift,
                                         int mode, int32_t zp, int32_t amin, int32_t amax, uint8_t *out);

/* out[i] = the low byte of etpu_requantize_fp32(acc[i], scale[i], zp, ...)
 * for i < n, lo = act_min − zp and hi = act_max − zp as floats; exact under
 * any FPU rounding mode. */
typedef void (*etpu_requant_fp32_ukernel)(const int32_t *acc, size_t n, const float *scale, float lo, float hi,
                                          int32_t zp, uint8_t *out);

/* One ISA's kernels. */
typedef struct etpu_ukernel_config {
  etpu_isa isa;
  const char *name; /* "scalar", "sse41", "avx2", "avx512", "avx512vnni"; ARM: "neon", "neondot" */
  etpu_gemm_ukernel gemm;
  int gemm_mr, gemm_nr; /* the GEMM kernel's tile: rows, columns (a multiple of 16) */
  etpu_dw_taps3_ukernel dw_taps3;
  etpu_dw_taps1_ukernel dw_taps1;
  etpu_requant_q31_ukernel requant_q31;
  etpu_requant_fp32_ukernel requant_fp32; /* NULL: the portable etpu_opt_requant_row */
  etpu_gemm_s16_ukernel gemm_s16; /* non-NULL: CONV_2D/FC use the int16 GEMM and its layout, not gemm */
} etpu_ukernel_config;

/* The kernels in use: the best the CPU and OS support, or the lower level
 * ETPU_ISA names (scalar, sse41, avx2, avx512, avx512vnni; on ARM scalar,
 * neon, neondot). Chosen on the
 * first call (thread-safe: every racing caller computes the same table). */
const etpu_ukernel_config *etpu_ukernel_config_get(void);

/* The kernels of level isa, or NULL when this CPU/OS (or this build, on a
 * target without that level) cannot run them. For the kernel tester and benchmarks. */
const etpu_ukernel_config *etpu_ukernel_config_for(etpu_isa isa);

/* The best level this CPU and OS support (ignores ETPU_ISA). */
etpu_isa etpu_isa_detect(void);

/* The name of level isa on this target ("scalar", "neon", ...), or NULL past
 * the target's levels; the names ETPU_ISA takes. */
const char *etpu_isa_level_name(etpu_isa isa);

/* The micro-kernels, one per file (ukernel/<op>_<tile>_<isa>.c). */
void etpu_gemm_u8s8_4x16c4_scalar(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                  const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                  size_t out_stride);
void etpu_gemm_s16_2x4_scalar(size_t mr, size_t kc, const int16_t *a, size_t a_stride, const int16_t *w,
                              size_t w_stride, int32_t out[8]);
void etpu_dw_taps_scalar3(int32_t *acc, const int16_t *x0, const int16_t *x1, const int16_t *x2, const int16_t *w0,
                          const int16_t *w1, const int16_t *w2, int32_t n);
void etpu_dw_taps_scalar1(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n);
void etpu_requant_q31_scalar(const int32_t *acc, size_t n, const int32_t *mult, const int32_t *shift, int mode,
                             int32_t zp, int32_t amin, int32_t amax, uint8_t *out);
#if defined(__x86_64__) || defined(_M_X64)
#define ETPU_UKERNEL_X86 1
void etpu_gemm_u8s8_4x16c4_sse41(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                 const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                 size_t out_stride);
void etpu_gemm_u8s8_2x16c4_avx2(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                size_t out_stride);
void etpu_gemm_u8s8_8x32c4_avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                                      uint32_t a_xor, const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep,
                                      void *out, size_t out_stride);
void etpu_dw_taps_sse413(int32_t *acc, const int16_t *x0, const int16_t *x1, const int16_t *x2, const int16_t *w0,
                         const int16_t *w1, const int16_t *w2, int32_t n);
void etpu_dw_taps_sse411(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n);
void etpu_dw_taps_avx23(int32_t *acc, const int16_t *x0, const int16_t *x1, const int16_t *x2, const int16_t *w0,
                        const int16_t *w1, const int16_t *w2, int32_t n);
void etpu_dw_taps_avx21(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n);
void etpu_dw_taps_avx5123(int32_t *acc, const int16_t *x0, const int16_t *x1, const int16_t *x2, const int16_t *w0,
                          const int16_t *w1, const int16_t *w2, int32_t n);
void etpu_dw_taps_avx5121(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n);
void etpu_requant_fp32_x16_avx512(const int32_t *acc, size_t n, const float *scale, float lo, float hi, int32_t zp,
                                  uint8_t *out);
void etpu_requant_q31_x16_avx512(const int32_t *acc, size_t n, const int32_t *mult, const int32_t *shift, int mode,
                                 int32_t zp, int32_t amin, int32_t amax, uint8_t *out);
#endif
#if defined(ETPU_UKERNEL_ARM)
/* The ukernel/<op>_<tile>_neon.c files: compiled with -mfpu=neon on armv7
 * (NEON is optional there: HWCAP_NEON), as baseline code on aarch64. */
void etpu_gemm_s16_2x4_neon(size_t mr, size_t kc, const int16_t *a, size_t a_stride, const int16_t *w,
                            size_t w_stride, int32_t out[8]);
void etpu_dw_taps_neon3(int32_t *acc, const int16_t *x0, const int16_t *x1, const int16_t *x2, const int16_t *w0,
                        const int16_t *w1, const int16_t *w2, int32_t n);
void etpu_dw_taps_neon1(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n);
#endif
#if defined(__aarch64__)
/* The ukernel/<op>_<tile>_neondot.c files: -march=armv8.2-a+dotprod, called
 * only where HWCAP_ASIMDDP says the CPU has sdot. */
void etpu_gemm_u8s8_4x16c4_neondot(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                                   uint32_t a_xor, const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep,
                                   void *out, size_t out_stride);
#endif

#endif /* ETPU_KERNELS_UKERNEL_UKERNEL_H */
