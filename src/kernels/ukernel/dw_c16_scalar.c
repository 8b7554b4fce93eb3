/*
 * dw_c16_scalar.c — the fused depthwise micro-kernel of ukernel.h in plain C
 * (dw_c16.inc) compiled for the scalar level.
 */
#define ETPU_DW_C16_NAME etpu_dw_c16_scalar
#include "kernels/ukernel/dw_c16.inc"
