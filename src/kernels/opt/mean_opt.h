/*
 * mean_opt.h — the optimized 8-bit MEAN and SUM over one contiguous run of
 * axes with kept axes on both sides or one (the mean over H×W of an NHWC
 * tensor: MobileNet v2's and EfficientNet's global average pool): the input
 * seen as [outer, middle, inner], summed over middle with inner contiguous
 * (int32 rows the compiler vectorizes), then each sum requantized exactly as
 * the reference etpu_mean_q8 does (src/kernels/ref/mean.c) in its scheme.
 * Units of (outer index, block of inner) split over threads; each output
 * depends on its unit only, so any split gives the same bytes.
 */
#ifndef ETPU_KERNELS_OPT_MEAN_OPT_H
#define ETPU_KERNELS_OPT_MEAN_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/tensor_ops.h"

typedef struct etpu_opt_mean {
  etpu_mean_params p;
  bool is_signed;
  size_t outer, middle, inner, blocks; /* blocks of inner per outer index */
} etpu_opt_mean;

/* False when the plan's folded axes are not one contiguous run or the
 * parameters lie outside what the reference takes: run the reference. */
bool etpu_opt_mean_init(const etpu_mean_params *params, const etpu_reduce_plan *plan, bool is_signed,
                        etpu_opt_mean *out);

/* Units of work (>= 1). */
size_t etpu_opt_mean_units(const etpu_opt_mean *d);

/* Outputs of units [begin, end); in and out: the whole tensors. */
void etpu_opt_mean_run_range(const etpu_opt_mean *d, const void *in, void *out, size_t begin, size_t end);

#endif /* ETPU_KERNELS_OPT_MEAN_OPT_H */
