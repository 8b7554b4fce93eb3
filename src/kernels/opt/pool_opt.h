/*
 * pool_opt.h — the optimized 8-bit AVERAGE_POOL_2D and MAX_POOL_2D: the
 * reference's arithmetic (src/kernels/ref/avg_pool2d.c, max_pool2d.c:
 * window clipped to the input, integer sum divided by the cell count
 * rounding half away from zero, or the largest value; then the clamp), with
 * the channels innermost so the compiler vectorizes the window sum, run in
 * units of (output pixel, block of channels) so a thread pool can split any
 * pool — a global average pool (one pixel, MobileNet's last 7×7×1280) too.
 * Each output byte depends only on its unit: any split gives the same bytes.
 */
#ifndef ETPU_KERNELS_OPT_POOL_OPT_H
#define ETPU_KERNELS_OPT_POOL_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/tensor_ops.h"

typedef struct etpu_opt_pool {
  etpu_pool_params p;
  etpu_dims in, out;
  bool avg;       /* average; else max */
  bool is_signed; /* int8; else uint8 */
  int32_t blocks; /* channel blocks per output pixel */
} etpu_opt_pool;

/* Describe an int8/uint8 pool for the run below. False when the reference
 * must run instead (it also reports what is wrong): parameters it would
 * refuse, or an average window with no input cell. */
bool etpu_opt_pool_init(bool avg, bool is_signed, const etpu_pool_params *params, const etpu_dims *in_dims,
                        const etpu_dims *out_dims, etpu_opt_pool *out);

/* Units of work of the pool (>= 1). */
size_t etpu_opt_pool_units(const etpu_opt_pool *d);

/* Outputs of units [begin, end). in and out: the whole tensors. */
void etpu_opt_pool_run_range(const etpu_opt_pool *d, const void *in, void *out, size_t begin, size_t end);

#endif /* ETPU_KERNELS_OPT_POOL_OPT_H */
