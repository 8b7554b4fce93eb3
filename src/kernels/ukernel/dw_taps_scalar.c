/*
 * dw_taps_scalar.c — the depthwise micro-kernels of ukernel.h in plain C
 * (dw_taps.inc) compiled for the scalar level.
 */
#define ETPU_DW_TAPS_NAME3 etpu_dw_taps_scalar3
#define ETPU_DW_TAPS_NAME1 etpu_dw_taps_scalar1
#include "kernels/ukernel/dw_taps.inc"
