/*
 * tensor_glue.h — helpers shared by the op glue of elementwise.c, pool.c,
 * reduce.c, movement.c and the custom ops: runtime tensors as kernel shapes
 * and quantizations, constant integer tensors, the fused-activation ranges
 * of each profile, and float outputs whose shape the options decide.
 */
#ifndef ETPU_RUNTIME_OPS_TENSOR_GLUE_H
#define ETPU_RUNTIME_OPS_TENSOR_GLUE_H

#include <string.h>

#include "kernels/tensor_ops.h"
#include "runtime/interp.h"

/* The tensor's shape (rank <= ETPU_KMAX_RANK, which ETPU_MAX_RANK keeps). */
static inline etpu_shape etpu_glue_shape(const etpu_rtensor *t) {
  etpu_shape s;
  memset(&s, 0, sizeof s);
  s.rank = (int32_t)t->rank;
  for (uint32_t d = 0; d < t->rank && d < ETPU_KMAX_RANK; d++) s.dims[d] = t->dims[d];
  return s;
}

static inline etpu_qparam etpu_glue_q(const etpu_rtensor *t) {
  etpu_qparam q = {t->scale, t->zero_point};
  return q;
}

static inline bool etpu_glue_is_q8(int32_t type) { return type == ETPU_INT8 || type == ETPU_UINT8; }

/* Type range of an 8-bit type. */
static inline void etpu_glue_q8_range(int32_t type, int32_t *lo, int32_t *hi) {
  *lo = type == ETPU_INT8 ? -128 : 0;
  *hi = type == ETPU_INT8 ? 127 : 255;
}

/* A usable per-tensor 8-bit quantization: a positive finite scale, one
 * (scale, zero point) pair, the zero point inside the type range. */
etpu_status etpu_glue_check_q8(struct etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what);

/* The values of a constant INT32 or INT64 tensor of at most max elements,
 * as int64. Fails (naming the op) when the tensor is not constant, has
 * another type or too many elements. */
etpu_status etpu_glue_const_ints(struct etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what,
                                 size_t max, int64_t *values_out, size_t *count_out);

/* The activation clamp for a quantized output in the profile's arithmetic:
 * xnnpack selects XNNPACK's rounding (etpu_activation_range_xnnpack), else
 * TFLite's (etpu_activation_range_quantized). */
etpu_status etpu_glue_act_q8(struct etpu_interp *ip, const etpu_rop *op, int32_t activation, const etpu_rtensor *out,
                             bool xnnpack, int32_t *lo, int32_t *hi);

/* Integer clamp of a fused activation on an int32/int64 output (TFLite
 * CalculateActivationRange<int>). */
etpu_status etpu_glue_act_int(struct etpu_interp *ip, const etpu_rop *op, int32_t activation, int32_t type,
                              etpu_act_int *out);

/* Every input and output of the op has the same type as output 0; inputs
 * from first_in to last_in inclusive are checked. */
etpu_status etpu_glue_same_types(struct etpu_interp *ip, const etpu_rop *op, uint32_t first_in, uint32_t last_in);

/* Same quantization (scale and zero point) on a and b. */
etpu_status etpu_glue_same_quant(struct etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *a,
                                 const etpu_rtensor *b);

/* Allocate the op's params (zeroed) or fail with out of memory. */
#define ETPU_GLUE_ALLOC(ip, op, ptr)                                                          \
  do {                                                                                         \
    (ptr) = etpu_op_alloc((ip), sizeof *(ptr));                                                \
    if (!(ptr)) return etpu_op_fail((ip), (op), ETPU_OUT_OF_MEMORY, "out of memory");          \
    (op)->params = (ptr);                                                                      \
  } while (0)

/* Output k of a custom op is float32 of the shape its options give: an
 * output stored without a shape gets it (as TFLite computes it); a stored
 * shape must hold as many elements. */
etpu_status etpu_glue_float_output(struct etpu_interp *ip, etpu_rop *op, uint32_t k, uint32_t rank,
                                   const int32_t *dims);

/* A kernel failure at eval, prefixed with the op. */
etpu_status etpu_glue_eval_fail(struct etpu_interp *ip, const etpu_rop *op, etpu_status st);

/* An optimized driver's run over units [begin, end) of descriptor d. */
typedef void (*etpu_glue_range_fn)(const void *d, const void *in, void *out, size_t begin, size_t end);

/* The ranges to split `units` in at eval: 1 (one thread) unless the
 * interpreter has threads and work (bytes touched) is at least twice
 * min_work; then one per min_work, at most 4 per thread and one per unit. */
size_t etpu_glue_chunks(const struct etpu_interp *ip, size_t units, double work, double min_work);

/* run(d, in, out, ...) over [0, units) in `chunks` contiguous ranges on the
 * interpreter's threads (chunks <= 1: one call on this thread). The
 * driver's contract — each output depends only on its unit — makes every
 * split give the same bytes. */
etpu_status etpu_glue_run_ranges(struct etpu_interp *ip, etpu_glue_range_fn run, const void *d, const void *in,
                                 void *out, size_t units, size_t chunks);

#endif /* ETPU_RUNTIME_OPS_TENSOR_GLUE_H */
