/*
 * config.c — chooses the micro-kernels of src/kernels/ukernel/ once per
 * process: detects the CPU's instruction sets with cpuid and the OS's
 * support of the ymm/zmm register state with xgetbv, applies the ETPU_ISA
 * override (a lower level only: scalar, sse41, avx2, avx512, avx512vnni) and
 * keeps the chosen table. An unknown or unsupported ETPU_ISA is reported once
 * on stderr and the best level is used: the override exists for tests and
 * benchmarks, and every level computes the same bytes, so running on is
 * never a wrong result. On ARM Linux the levels are scalar, neon and (aarch64)
 * neondot, read from the kernel's hwcaps (getauxval(AT_HWCAP): HWCAP_NEON on
 * armv7, HWCAP_ASIMD and HWCAP_ASIMDDP on aarch64); on other targets only the
 * scalar level exists.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etpu/etpu.h"
#include "kernels/ukernel/ukernel.h"

#ifdef ETPU_UKERNEL_X86
#include <cpuid.h>
#endif
#if defined(ETPU_UKERNEL_ARM) && defined(__linux__)
#include <sys/auxv.h>
/* The hwcap bits (asm/hwcap.h), spelled here for older headers. */
#if defined(__aarch64__)
#define ETPU_HWCAP_ASIMD (1ul << 1)
#define ETPU_HWCAP_ASIMDDP (1ul << 20)
#else
#define ETPU_HWCAP_NEON (1ul << 12)
#endif
#endif

static const etpu_ukernel_config k_configs[ETPU_ISA_COUNT] = {
    {ETPU_ISA_SCALAR, "scalar", etpu_gemm_u8s8_4x16c4_scalar, 4, 16, etpu_dw_c16_scalar,
     etpu_requant_q31_scalar, NULL, etpu_gemm_s16_2x4_scalar, etpu_vadd_xnn_scalar, etpu_vadd_q31_scalar},
#ifdef ETPU_UKERNEL_X86
    {ETPU_ISA_SSE41, "sse41", etpu_gemm_u8s8_4x16c4_sse41, 4, 16, etpu_dw_c16_sse41,
     etpu_requant_q31_scalar, NULL, etpu_gemm_s16_2x4_scalar, etpu_vadd_xnn_scalar, etpu_vadd_q31_scalar},
    {ETPU_ISA_AVX2, "avx2", etpu_gemm_u8s8_2x16c4_avx2, 2, 16, etpu_dw_c16_avx2,
     etpu_requant_q31_scalar, NULL, NULL, etpu_vadd_xnn_avx2, etpu_vadd_q31_avx2},
    {ETPU_ISA_AVX512, "avx512", etpu_gemm_u8s8_2x16c4_avx2, 2, 16, etpu_dw_c16_avx512,
     etpu_requant_q31_x16_avx512, etpu_requant_fp32_x16_avx512, NULL, etpu_vadd_xnn_avx512, etpu_vadd_q31_avx2},
    {ETPU_ISA_AVX512VNNI, "avx512vnni", etpu_gemm_u8s8_8x32c4_avx512vnni, 8, 32, etpu_dw_c16_avx512,
     etpu_requant_q31_x16_avx512, etpu_requant_fp32_x16_avx512, NULL, etpu_vadd_xnn_avx512, etpu_vadd_q31_avx2},
#endif
#if defined(ETPU_UKERNEL_ARM)
    /* neon: the int16 GEMM in vmlal_s16 (aarch64 and armv7) */
    {ETPU_ISA_NEON, "neon", etpu_gemm_u8s8_4x16c4_scalar, 4, 16, etpu_dw_c16_scalar, etpu_requant_q31_scalar,
     NULL, etpu_gemm_s16_2x4_neon, etpu_vadd_xnn_scalar, etpu_vadd_q31_scalar},
#endif
#if defined(__aarch64__)
    /* neondot: the uint8 × int8 blocks with sdot */
    {ETPU_ISA_NEONDOT, "neondot", etpu_gemm_u8s8_4x16c4_neondot, 4, 16, etpu_dw_c16_scalar,
     etpu_requant_q31_scalar, NULL, NULL, etpu_vadd_xnn_scalar, etpu_vadd_q31_scalar},
#endif
};

#if defined(ETPU_UKERNEL_ARM)
static const char *const k_names[ETPU_ISA_COUNT] = {"scalar", "neon", "neondot"};
#define ETPU_ISA_LIST "scalar, neon, neondot"
#else
static const char *const k_names[ETPU_ISA_COUNT] = {"scalar", "sse41", "avx2", "avx512", "avx512vnni"};
#define ETPU_ISA_LIST "scalar, sse41, avx2, avx512, avx512vnni"
#endif

const char *etpu_isa_level_name(etpu_isa isa) {
  return (int)isa >= 0 && isa < ETPU_ISA_COUNT ? k_names[isa] : NULL;
}

etpu_isa etpu_isa_detect(void) {
#ifdef ETPU_UKERNEL_X86
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return ETPU_ISA_SCALAR;
  if (!(c & (1u << 19))) return ETPU_ISA_SCALAR; /* SSE4.1 */
  const bool osxsave = (c & (1u << 27)) != 0, avx = (c & (1u << 28)) != 0;
  if (!osxsave || !avx) return ETPU_ISA_SSE41;
  unsigned xlo, xhi;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  (void)xhi;
  if ((xlo & 0x6) != 0x6) return ETPU_ISA_SSE41; /* the OS saves xmm and ymm state */
  if (__get_cpuid_max(0, NULL) < 7) return ETPU_ISA_SSE41;
  __cpuid_count(7, 0, a, b, c, d);
  if (!(b & (1u << 5))) return ETPU_ISA_SSE41; /* AVX2 */
  const unsigned avx512 = (1u << 16) | (1u << 30) | (1u << 31); /* F, BW, VL */
  if ((b & avx512) != avx512 || (xlo & 0xe0) != 0xe0) return ETPU_ISA_AVX2; /* and opmask/zmm state */
  if (!(c & (1u << 11))) return ETPU_ISA_AVX512; /* VNNI */
  return ETPU_ISA_AVX512VNNI;
#elif defined(__aarch64__) && defined(__linux__)
  const unsigned long hw = getauxval(AT_HWCAP);
  if (!(hw & ETPU_HWCAP_ASIMD)) return ETPU_ISA_SCALAR;
  return (hw & ETPU_HWCAP_ASIMDDP) ? ETPU_ISA_NEONDOT : ETPU_ISA_NEON;
#elif defined(__arm__) && defined(__linux__)
  return (getauxval(AT_HWCAP) & ETPU_HWCAP_NEON) ? ETPU_ISA_NEON : ETPU_ISA_SCALAR;
#else
  return ETPU_ISA_SCALAR;
#endif
}

const etpu_ukernel_config *etpu_ukernel_config_for(etpu_isa isa) {
  if ((int)isa < 0 || isa >= ETPU_ISA_COUNT || isa > etpu_isa_detect()) return NULL;
  return &k_configs[isa];
}

static atomic_int g_chosen = -1;

const etpu_ukernel_config *etpu_ukernel_config_get(void) {
  int level = atomic_load_explicit(&g_chosen, memory_order_acquire);
  if (level >= 0) return &k_configs[level];
  const etpu_isa best = etpu_isa_detect();
  etpu_isa pick = best;
  const char *env = getenv("ETPU_ISA");
  const char *problem = NULL;
  if (env && *env) {
    int want = -1;
    for (int i = 0; i < ETPU_ISA_COUNT; i++)
      if (strcmp(env, k_names[i]) == 0) want = i;
    if (want < 0)
      problem = "is not one of " ETPU_ISA_LIST;
    else if (want > (int)best)
      problem = "is not supported by this CPU or OS";
    else
      pick = (etpu_isa)want;
  }
  int expected = -1;
  if (atomic_compare_exchange_strong_explicit(&g_chosen, &expected, (int)pick, memory_order_acq_rel,
                                              memory_order_acquire)) {
    if (problem)
      fprintf(stderr, "etpu: ETPU_ISA=%s %s; using %s\n", env, problem, k_names[best]);
    return &k_configs[pick];
  }
  return &k_configs[expected];
}

const char *etpu_isa_name(void) { return etpu_ukernel_config_get()->name; }
