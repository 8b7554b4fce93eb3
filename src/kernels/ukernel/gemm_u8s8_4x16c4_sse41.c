/*
 * gemm_u8s8_4x16c4_sse41.c — the GEMM micro-kernel of ukernel.h, 4 rows × 16
 * columns, in plain C (gemm_c4.inc) compiled for the sse41 level.
 */
#define ETPU_GEMM_C4_NAME etpu_gemm_u8s8_4x16c4_sse41
#include "kernels/ukernel/gemm_c4.inc"
