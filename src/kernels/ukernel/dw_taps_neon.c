/*
 * dw_taps_neon.c — the depthwise micro-kernels of ukernel.h in plain C
 * (dw_taps.inc) compiled for the neon level: on armv7 with -mfpu=neon, so
 * that gcc vectorizes them with NEON (Debian's armhf baseline has none); on
 * aarch64 the same code as the scalar level.
 */
#define ETPU_DW_TAPS_NAME3 etpu_dw_taps_neon3
#define ETPU_DW_TAPS_NAME1 etpu_dw_taps_neon1
#include "kernels/ukernel/dw_taps.inc"
