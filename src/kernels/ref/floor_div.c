/*
 * floor_div.c — FLOOR_DIV with broadcasting (TFLite floor_div.cc and
 * reference FloorDiv): floor((double)x / (double)y) converted back to the
 * type, for float32 and int8/int16/int32. TFLite refuses a zero integer
 * divisor at eval ("Division by zero"); so does this kernel.
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_floor_div_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out) {
  etpu_status st = etpu_tcheck_binary("floor_div_f32", plan, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, (float)floor((double)in1[it.off1] / (double)in2[it.off2]));
  return ETPU_OK;
}

#define ETPU_FLOOR_DIV_INT(suffix, type)                                                                   \
  etpu_status etpu_floor_div_##suffix(const etpu_bcast *plan, const type *in1, const type *in2, type *out) { \
    etpu_status st = etpu_tcheck_binary("floor_div_" #suffix, plan, plan, in1, in2, out);                  \
    if (st != ETPU_OK) return st;                                                                        \
    etpu_bcast_iter it = {{0}, 0, 0};                                                                    \
    for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {                          \
      if (in2[it.off2] == 0)                                                                             \
        return etpu_fail(ETPU_INVALID_ARGUMENT, "floor_div_" #suffix ": division by zero at output %zu", i); \
      /* |quotient| <= 2^31: exact in double, and only INT_MIN / −1 leaves the type (it wraps). */       \
      const double q = floor((double)in1[it.off1] / (double)in2[it.off2]);                               \
      out[i] = (type)(int64_t)q;                                                                         \
    }                                                                                                    \
    return ETPU_OK;                                                                                      \
  }

ETPU_FLOOR_DIV_INT(s8, int8_t)
ETPU_FLOOR_DIV_INT(s16, int16_t)
ETPU_FLOOR_DIV_INT(s32, int32_t)
