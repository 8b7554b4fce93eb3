/*
 * tensor_util.h — what the kernels of tensor_ops.h share internally (not
 * for callers): argument checks, the broadcast iterator, the reduction
 * iterator and clamps. Checks record a message naming the kernel and return
 * ETPU_INVALID_ARGUMENT.
 */
#ifndef ETPU_KERNELS_REF_TENSOR_UTIL_H
#define ETPU_KERNELS_REF_TENSOR_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "kernels/tensor_ops.h"

/* rank in [0, ETPU_KMAX_RANK], dims >= 0, the element count fits size_t. */
etpu_status etpu_tcheck_shape(const char *kernel, const char *what, const etpu_shape *s, size_t *count_out);

/* A consistent broadcast plan. */
etpu_status etpu_tcheck_bcast(const char *kernel, const etpu_bcast *plan);

/* A consistent reduction plan. */
etpu_status etpu_tcheck_reduce(const char *kernel, const etpu_reduce_plan *plan);

/* Non-NULL pointers (up to three; pass a non-NULL dummy for unused ones). */
static inline etpu_status etpu_tcheck_ptrs(const char *kernel, const void *a, const void *b, const void *c) {
  if (!a || !b || !c) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", kernel);
  return ETPU_OK;
}

/* Walks the output of a broadcast in row-major order, tracking the element
 * offsets of both inputs. */
typedef struct etpu_bcast_iter {
  int32_t idx[ETPU_KMAX_RANK];
  size_t off1, off2;
} etpu_bcast_iter;

static inline void etpu_bcast_iter_next(const etpu_bcast *p, etpu_bcast_iter *it) {
  for (int32_t d = p->rank - 1; d >= 0; d--) {
    it->off1 += p->stride1[d];
    it->off2 += p->stride2[d];
    if (++it->idx[d] < p->dims[d]) return;
    it->off1 -= p->stride1[d] * (size_t)p->dims[d];
    it->off2 -= p->stride2[d] * (size_t)p->dims[d];
    it->idx[d] = 0;
  }
}

/* Walks a reduction: for each output in order, the input offsets it folds.
 * Offsets are in elements. */
typedef struct etpu_reduce_iter {
  size_t stride[ETPU_KMAX_RANK];   /* input element strides */
  int32_t kept[ETPU_KMAX_RANK];    /* kept dims, in order */
  int32_t nkept;
  int32_t red[ETPU_KMAX_RANK];     /* reduced dims, in order */
  int32_t nred;
  int32_t kidx[ETPU_KMAX_RANK];    /* index over kept dims */
  size_t base;                     /* input offset of the current output's first element */
  int32_t ridx[ETPU_KMAX_RANK];    /* index over reduced dims */
  size_t off;                      /* current input offset */
} etpu_reduce_iter;

void etpu_reduce_iter_init(const etpu_reduce_plan *p, etpu_reduce_iter *it);

/* Start folding the current output: it->off = it->base. */
static inline void etpu_reduce_iter_begin(etpu_reduce_iter *it) {
  for (int32_t k = 0; k < it->nred; k++) it->ridx[k] = 0;
  it->off = it->base;
}

/* Advance to the next input of the current output (call reduce_count − 1
 * times after begin). */
static inline void etpu_reduce_iter_step(const etpu_reduce_plan *p, etpu_reduce_iter *it) {
  for (int32_t k = it->nred - 1; k >= 0; k--) {
    const int32_t d = it->red[k];
    it->off += it->stride[d];
    if (++it->ridx[k] < p->dims[d]) return;
    it->off -= it->stride[d] * (size_t)p->dims[d];
    it->ridx[k] = 0;
  }
}

/* Advance to the next output. */
static inline void etpu_reduce_iter_next_output(const etpu_reduce_plan *p, etpu_reduce_iter *it) {
  for (int32_t k = it->nkept - 1; k >= 0; k--) {
    const int32_t d = it->kept[k];
    it->base += it->stride[d];
    if (++it->kidx[k] < p->dims[d]) return;
    it->base -= it->stride[d] * (size_t)p->dims[d];
    it->kidx[k] = 0;
  }
}

static inline int32_t etpu_clamp_i32(int64_t v, int32_t lo, int32_t hi) {
  return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

/* int32 arithmetic that wraps like the two's complement hardware TFLite
 * runs on (signed overflow is undefined in C). */
static inline int32_t etpu_wrap_add32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t etpu_wrap_sub32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline int32_t etpu_wrap_mul32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a * (uint32_t)b); }
static inline int64_t etpu_wrap_add64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static inline int64_t etpu_wrap_sub64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static inline int64_t etpu_wrap_mul64(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }

/* Checks shared by quantized binary kernels: activation range inside the
 * 8-bit type range [lo, hi]. */
static inline etpu_status etpu_tcheck_act8(const char *kernel, int32_t act_min, int32_t act_max, int32_t lo,
                                           int32_t hi) {
  if (act_min < lo || act_max > hi || act_min > act_max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: activation range [%d, %d] is not within [%d, %d]", kernel, act_min,
                     act_max, lo, hi);
  return ETPU_OK;
}

/* Element sizes the data-movement kernels copy. */
static inline bool etpu_elem_size_ok(size_t s) { return s == 1 || s == 2 || s == 4 || s == 8; }


/* Float and integer clamps of etpu_act_f32 / etpu_act_int (NaN passes
 * through, as TFLite's std::min(std::max(x, lo), hi)). */
static inline float etpu_clamp_f(float v, const etpu_act_f32 *act) {
  if (v < act->min) v = act->min;
  if (v > act->max) v = act->max;
  return v;
}
static inline int64_t etpu_clamp_int(int64_t v, const etpu_act_int *act) {
  return v < act->min ? act->min : (v > act->max ? act->max : v);
}

/* The argument checks of a binary elementwise kernel (extra: the params or
 * activation pointer, or the plan when there is none). */
static inline etpu_status etpu_tcheck_binary(const char *kernel, const void *extra, const etpu_bcast *plan,
                                             const void *in1, const void *in2, const void *out) {
  etpu_status st;
  if ((st = etpu_tcheck_ptrs(kernel, extra, in1, in2)) != ETPU_OK) return st;
  if ((st = etpu_tcheck_ptrs(kernel, out, out, out)) != ETPU_OK) return st;
  return etpu_tcheck_bcast(kernel, plan);
}

/* The loop of a binary elementwise kernel: out[i] = expr, where expr reads
 * in1[it.off1] and in2[it.off2]. */
#define ETPU_BINARY_LOOP(plan, out, expr)                                                  \
  do {                                                                                     \
    etpu_bcast_iter it = {{0}, 0, 0};                                                      \
    for (size_t i_ = 0; i_ < (plan)->count; i_++, etpu_bcast_iter_next((plan), &it)) {     \
      (out)[i_] = (expr);                                                                  \
    }                                                                                      \
  } while (0)

/* The quantized ADD/SUB engine (add.c), shared by sub.c. */
etpu_status etpu_addsub_q8(const char *kname, bool subtract, bool is_signed, const etpu_addsub_params *p,
                           const etpu_bcast *plan, const void *in1, const void *in2, void *out);

/* Argument checks of the pooling kernels (avg_pool2d.c); qmin > qmax skips
 * the activation check (float). */
etpu_status etpu_pool2d_check(const char *kname, const etpu_pool_params *p, const etpu_dims *in_dims,
                              const void *in, const etpu_dims *out_dims, const void *out, int32_t qmin,
                              int32_t qmax);

/* The quantized MEAN/SUM engine (mean.c), shared by sum.c. */
etpu_status etpu_mean_q8(const char *kname, bool is_signed, const etpu_mean_params *p, const etpu_reduce_plan *plan,
                         const void *in, void *out);

/* Argument checks of CONCATENATION and SPLIT (concatenation.c). */
etpu_status etpu_concat_check(const char *kname, const etpu_concat_params *p, bool allow_rescale);

/* The checks of a data-movement kernel over one input shape: non-NULL
 * pointers, a valid shape, an element size of 1, 2, 4 or 8. */
static inline etpu_status etpu_tcheck_move(const char *kernel, const void *params, const etpu_shape *shape,
                                           const void *in, void *out, size_t elem_size) {
  etpu_status st = etpu_tcheck_ptrs(kernel, params, in, out);
  if (st != ETPU_OK) return st;
  if ((st = etpu_tcheck_shape(kernel, "input", shape, NULL)) != ETPU_OK) return st;
  if (!etpu_elem_size_ok(elem_size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu", kernel, elem_size);
  return ETPU_OK;
}

/* The index walk of SPACE_TO_BATCH_ND (to_batch: space -> batch, padding
 * cells get p->fill) and BATCH_TO_SPACE_ND (batch -> space, cropped cells
 * dropped), space_to_batch_nd.c. Checks as etpu_space_batch_check. */
etpu_status etpu_space_batch_move(const char *kname, const etpu_space_batch_params *p, const etpu_dims *space_dims,
                                  void *space, const etpu_dims *batch_dims, void *batch, bool to_batch);

#endif /* ETPU_KERNELS_REF_TENSOR_UTIL_H */
