/*
 * dw_taps_avx2.c — the depthwise micro-kernels of ukernel.h in plain C
 * (dw_taps.inc) compiled for the avx2 level.
 */
#define ETPU_DW_TAPS_NAME3 etpu_dw_taps_avx23
#define ETPU_DW_TAPS_NAME1 etpu_dw_taps_avx21
#include "kernels/ukernel/dw_taps.inc"
