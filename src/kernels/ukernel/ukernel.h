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

/* Depthwise (opt/dw_opt.c): the fused micro-kernel's operands. Output
 * channel c of a pixel is Σ_t x_t[c]·w[t][c] + bias[c], x_t the input bytes
 * (uint8, or int8 when is_s8) that indirection pointer t of the pixel
 * addresses, summed in wrapping int32 straight from the bytes: the input
 * zero point is not subtracted per product but folded into bias (bias[c] +
 * input_offset·Σ_t w[t][c], dw_opt.c), and a window position in the padding
 * points at a buffer of zero-point bytes, whose products that correction
 * cancels exactly as the reference's skipped position adds nothing.
 * Channels go in tiles of 16: bias and scale hold ⌈C/16⌉·16 values, the
 * weights w + filter_offset are int16 [⌈C/16⌉][taps][16], zero past C. The
 * kernel reads exactly C bytes at each pointer. */
typedef struct etpu_dw_ukernel_params {
  size_t channels;      /* C: channels of each pixel read at each pointer and written */
  size_t out_stride;    /* output values (bytes or int32) from one pixel to the next, >= C */
  size_t taps;          /* window positions per pixel, the packed order (>= 1) */
  bool is_s8;           /* the input bytes are int8 (sign-extended); else uint8 */
  const int32_t *bias;  /* ⌈C/16⌉·16 addends: bias + the zero-point correction */
  const int16_t *w;     /* [⌈C/16⌉][taps][16] weights w + filter_offset */
  const float *scale;   /* NULL: store the int32 sums; else ⌈C/16⌉·16 fp32 scales: requantize, store bytes */
  float lo, hi;         /* fp32: act_min − zp and act_max − zp */
  int32_t zp;           /* fp32: output zero point */
} etpu_dw_ukernel_params;

/* For each of `pixels` output pixels: its taps pointers are ind[0 .. taps)
 * (ind advances by ind_step pointers from one pixel to the next, so
 * neighbouring pixels of a stride-s window share pointers); writes C values
 * per pixel, pixels p->out_stride values apart: int32 sums (p->scale NULL) or the bytes of
 * etpu_requantize_fp32(sum, scale[c], zp, ...), exact under any FPU rounding
 * mode. */
typedef void (*etpu_dw_ukernel)(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind,
                                size_t ind_step, void *out);

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

/* Quantized ADD/SUB of two equal-length byte arrays, out[i] from a[i] and
 * b[i] (src/kernels/opt/eltwise_opt.c prepares these from the reference's
 * etpu_addsub_params). Values are taken in the uint8 domain: u = byte ^ flip
 * (flip 0x80 for int8 tensors, so u = x + 128; 0 for uint8), and the result
 * byte is v ^ flip; offsets, biases and zero points below are folded to that
 * domain, so an int8 and a uint8 tensor run the same code. */
typedef struct etpu_vadd_params {
  uint32_t flip;     /* 0 or 0x80 */
  int32_t zp;        /* output zero point (uint8 domain) */
  int32_t lo, hi;    /* the clamp of v, within [0, 255] */
  /* XNNPACK scheme: v = clamp(((bias + m1·u1 + m2·u2) >> shift) + zp), the
   * sum in wrapping int32 (its true value fits), the shift arithmetic. */
  int32_t bias, m1, m2, shift; /* |m| <= 2^21, shift 1..30 */
  /* TFLite scheme (left shift 20, double rounding): t_i = MBQM((u_i + off_i)
   * · 2^left, mult_i, shift_i); v = clamp(MBQM(t1 ± t2, multo, shifto) + zp),
   * MBQM = etpu_mbqm_double_round (fixedpoint.h). */
  int32_t off1, off2, left;    /* offsets −zp_i, folded; left 0..20 */
  int32_t mult1, shift1, mult2, shift2, multo, shifto; /* shift1/2 in [−31, 0], shifto in [−31, 31] */
  int32_t subtract;            /* TFLite scheme: t1 − t2 */
} etpu_vadd_params;

/* out[i] for i < n, the XNNPACK scheme or the TFLite one. */
typedef void (*etpu_vadd_ukernel)(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out,
                                  const etpu_vadd_params *p);

/* The body of a depthwise kernel file, run(p, taps, s8, pixels, ind,
 * ind_step, out) inlined, called with the tap count and signedness constant
 * for the 3×3 and 5×5 windows (9 and 25 taps), and variable otherwise. */
#define ETPU_DW_SPECIALISE(run, p, pixels, ind, ind_step, out)                             \
  do {                                                                                     \
    if ((p)->is_s8) {                                                                      \
      if ((p)->taps == 9) run(p, 9, true, pixels, ind, ind_step, out);                     \
      else if ((p)->taps == 25) run(p, 25, true, pixels, ind, ind_step, out);              \
      else run(p, (p)->taps, true, pixels, ind, ind_step, out);                            \
    } else {                                                                               \
      if ((p)->taps == 9) run(p, 9, false, pixels, ind, ind_step, out);                    \
      else if ((p)->taps == 25) run(p, 25, false, pixels, ind, ind_step, out);             \
      else run(p, (p)->taps, false, pixels, ind, ind_step, out);                           \
    }                                                                                      \
  } while (0)

/* One ISA's kernels. */
typedef struct etpu_ukernel_config {
  etpu_isa isa;
  const char *name; /* "scalar", "sse41", "avx2", "avx512", "avx512vnni"; ARM: "neon", "neondot" */
  etpu_gemm_ukernel gemm;
  int gemm_mr, gemm_nr; /* the GEMM kernel's tile: rows, columns (a multiple of 16) */
  etpu_dw_ukernel dw; /* the fused depthwise kernel */
  etpu_requant_q31_ukernel requant_q31;
  etpu_requant_fp32_ukernel requant_fp32; /* NULL: the portable etpu_opt_requant_row */
  etpu_gemm_s16_ukernel gemm_s16; /* non-NULL: CONV_2D/FC use the int16 GEMM and its layout, not gemm */
  etpu_vadd_ukernel vadd_xnn;     /* ADD/SUB, XNNPACK scheme; NULL: the scalar one */
  etpu_vadd_ukernel vadd_q31;     /* ADD/SUB, TFLite scheme; NULL: the scalar one */
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
void etpu_dw_c16_scalar(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                        void *out);
void etpu_requant_q31_scalar(const int32_t *acc, size_t n, const int32_t *mult, const int32_t *shift, int mode,
                             int32_t zp, int32_t amin, int32_t amax, uint8_t *out);
void etpu_vadd_xnn_scalar(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p);
void etpu_vadd_q31_scalar(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p);
#if defined(__x86_64__) || defined(_M_X64)
#define ETPU_UKERNEL_X86 1
void etpu_vadd_xnn_avx2(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p);
void etpu_vadd_q31_avx2(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p);
void etpu_vadd_xnn_avx512(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p);
void etpu_gemm_u8s8_4x16c4_sse41(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                 const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                 size_t out_stride);
void etpu_gemm_u8s8_2x16c4_avx2(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                                const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                                size_t out_stride);
void etpu_gemm_u8s8_8x32c4_avx512vnni(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                                      uint32_t a_xor, const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep,
                                      void *out, size_t out_stride);
void etpu_dw_c16_sse41(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                       void *out);
void etpu_dw_c16_avx2(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                      void *out);
void etpu_dw_c16_avx512(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                        void *out);
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
#endif
#if defined(__aarch64__)
/* The ukernel/<op>_<tile>_neondot.c files: -march=armv8.2-a+dotprod, called
 * only where HWCAP_ASIMDDP says the CPU has sdot. */
void etpu_gemm_u8s8_4x16c4_neondot(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride,
                                   uint32_t a_xor, const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep,
                                   void *out, size_t out_stride);
#endif

#endif /* ETPU_KERNELS_UKERNEL_UKERNEL_H */
