/*
 * dw_c16_sse41.c — the fused depthwise micro-kernel of ukernel.h in plain C
 * (dw_c16.inc) compiled for the sse41 level.
 */
#define ETPU_DW_C16_NAME etpu_dw_c16_sse41
#include "kernels/ukernel/dw_c16.inc"
