/*
 * dw_taps_avx512.c — the depthwise micro-kernels of ukernel.h in plain C
 * (dw_taps.inc) compiled for the avx512 level.
 */
#define ETPU_DW_TAPS_NAME3 etpu_dw_taps_avx5123
#define ETPU_DW_TAPS_NAME1 etpu_dw_taps_avx5121
#include "kernels/ukernel/dw_taps.inc"
