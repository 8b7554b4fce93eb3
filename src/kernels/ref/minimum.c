/*
 * minimum.c — MINIMUM with broadcasting, on raw values (TFLite
 * maximum_minimum.cc: quantized inputs and output share scale and zero
 * point, so no rescaling). float32: `a < b ? a : b` (TFLite's functor; a NaN
 * compares false, so the result is in2).
 */
#include "kernels/ref/tensor_util.h"

#define ETPU_MINIMUM_KERNEL(suffix, type)                                                                  \
  etpu_status etpu_minimum_##suffix(const etpu_bcast *plan, const type *in1, const type *in2, type *out) {   \
    etpu_status st = etpu_tcheck_binary("minimum_" #suffix, plan, plan, in1, in2, out);                      \
    if (st != ETPU_OK) return st;                                                                        \
    ETPU_BINARY_LOOP(plan, out, in1[it.off1] < in2[it.off2] ? in1[it.off1] : in2[it.off2]);              \
    return ETPU_OK;                                                                                      \
  }

ETPU_MINIMUM_KERNEL(s8, int8_t)
ETPU_MINIMUM_KERNEL(u8, uint8_t)
ETPU_MINIMUM_KERNEL(s16, int16_t)
ETPU_MINIMUM_KERNEL(s32, int32_t)
ETPU_MINIMUM_KERNEL(s64, int64_t)
ETPU_MINIMUM_KERNEL(f32, float)
