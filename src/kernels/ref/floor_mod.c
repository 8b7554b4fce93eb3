/*
 * floor_mod.c — FLOOR_MOD with broadcasting (TFLite floor_mod.cc): the
 * truncated remainder (fmodf for float32, C's % for integers) moved onto the
 * divisor's side: r + y when r != 0 and the signs of r and y differ. TFLite
 * refuses a zero integer divisor at eval; so does this kernel. INT_MIN % −1,
 * undefined in C, is 0 (the mathematical remainder).
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_floor_mod_f32(const etpu_bcast *plan, const float *in1, const float *in2, float *out) {
  etpu_status st = etpu_tcheck_binary("floor_mod_f32", plan, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  etpu_bcast_iter it = {{0}, 0, 0};
  for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {
    const float y = in2[it.off2], r = fmodf(in1[it.off1], y);
    out[i] = r != 0.0f && ((y < 0.0f) != (r < 0.0f)) ? r + y : r;
  }
  return ETPU_OK;
}

#define ETPU_FLOOR_MOD_INT(suffix, type)                                                                    \
  etpu_status etpu_floor_mod_##suffix(const etpu_bcast *plan, const type *in1, const type *in2, type *out) { \
    etpu_status st = etpu_tcheck_binary("floor_mod_" #suffix, plan, plan, in1, in2, out);                   \
    if (st != ETPU_OK) return st;                                                                         \
    etpu_bcast_iter it = {{0}, 0, 0};                                                                     \
    for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it)) {                           \
      const type x = in1[it.off1], y = in2[it.off2];                                                      \
      if (y == 0)                                                                                         \
        return etpu_fail(ETPU_INVALID_ARGUMENT, "floor_mod_" #suffix ": division by zero at output %zu", i); \
      const type r = y == -1 ? 0 : (type)(x % y);                                                         \
      out[i] = r != 0 && ((y < 0) != (r < 0)) ? (type)(r + y) : r;                                        \
    }                                                                                                     \
    return ETPU_OK;                                                                                       \
  }

ETPU_FLOOR_MOD_INT(s32, int32_t)
ETPU_FLOOR_MOD_INT(s64, int64_t)
