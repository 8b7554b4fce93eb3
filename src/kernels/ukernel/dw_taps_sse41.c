/*
 * dw_taps_sse41.c — the depthwise micro-kernels of ukernel.h in plain C
 * (dw_taps.inc) compiled for the sse41 level.
 */
#define ETPU_DW_TAPS_NAME3 etpu_dw_taps_sse413
#define ETPU_DW_TAPS_NAME1 etpu_dw_taps_sse411
#include "kernels/ukernel/dw_taps.inc"
