/*
 * sum.c — SUM: int8/uint8 through the MEAN engine of mean.c (parameters
 * from etpu_mean_params_init with sum = true: no 1/n), and float32 / int32
 * / int64 sums in the plan's order (integers wrap).
 */
#include "kernels/ref/tensor_util.h"

etpu_status etpu_sum_s8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const int8_t *in,
                        int8_t *out) {
  return etpu_mean_q8("sum_s8", true, params, plan, in, out);
}

etpu_status etpu_sum_u8(const etpu_mean_params *params, const etpu_reduce_plan *plan, const uint8_t *in,
                        uint8_t *out) {
  return etpu_mean_q8("sum_u8", false, params, plan, in, out);
}

#define ETPU_SUM_KERNEL(suffix, type, add)                                                   \
  etpu_status etpu_sum_##suffix(const etpu_reduce_plan *plan, const type *in, type *out) {  \
    etpu_status st = etpu_tcheck_ptrs("sum_" #suffix, plan, in, out);                        \
    if (st != ETPU_OK) return st;                                                            \
    if ((st = etpu_tcheck_reduce("sum_" #suffix, plan)) != ETPU_OK) return st;               \
    etpu_reduce_iter it;                                                                     \
    etpu_reduce_iter_init(plan, &it);                                                        \
    for (size_t o = 0; o < plan->out_count; o++, etpu_reduce_iter_next_output(plan, &it)) { \
      etpu_reduce_iter_begin(&it);                                                           \
      type acc = 0;                                                                          \
      for (size_t r = 0; r < plan->reduce_count; r++) {                                      \
        if (r) etpu_reduce_iter_step(plan, &it);                                             \
        acc = add(acc, in[it.off]);                                                          \
      }                                                                                      \
      out[o] = acc;                                                                          \
    }                                                                                        \
    return ETPU_OK;                                                                          \
  }

static inline float add_f(float a, float b) { return a + b; }

ETPU_SUM_KERNEL(f32, float, add_f)
ETPU_SUM_KERNEL(s32, int32_t, etpu_wrap_add32)
ETPU_SUM_KERNEL(s64, int64_t, etpu_wrap_add64)
