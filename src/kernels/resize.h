/*
 * resize.h — etpu's reference RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR
 * kernels (src/kernels/ref/resize_bilinear.c, resize_nearest.c), NHWC, for
 * int8, uint8 and float32.
 *
 * Bilinear resizing exists in three arithmetics (TFLITE.md §7.10), chosen by
 * etpu_bilinear_method:
 *  - FLOAT_REF: TFLite's reference_ops::ResizeBilinear<T>: float source
 *    coordinates, floor/ceil neighbours clamped to the input, the four
 *    products in float32, + 0.5 and truncation toward zero for integer T.
 *  - INTEGER: TFLite's ResizeBilinearInteger (TFLite Micro's int8 kernel):
 *    source coordinates in 1/1024 steps, the sum in Q20 rounded half away
 *    from zero (double-rounding build).
 *  - XNNPACK_Q11: XNNPACK's resize-bilinear: float source coordinates
 *    clamped to the input, weights lrintf(alpha·2048), two 11-bit lerps, the
 *    result (acc + 2^21) >> 22.
 * The runtime picks the method of its profile; the goldens settle which.
 *
 * Kernels never allocate. Each checks its arguments (NULL, sizes >= 1,
 * batches and channels equal, not both align_corners and half_pixel_centers)
 * and returns ETPU_INVALID_ARGUMENT, writing nothing; otherwise ETPU_OK.
 * Input and output must not overlap.
 */
#ifndef ETPU_KERNELS_RESIZE_H
#define ETPU_KERNELS_RESIZE_H

#include <stdbool.h>
#include <stdint.h>

#include "etpu/etpu.h"
#include "kernels/kernels.h"

/* Bilinear arithmetic. Append-only. */
typedef enum etpu_bilinear_method {
  ETPU_BILINEAR_FLOAT_REF = 0,
  ETPU_BILINEAR_INTEGER = 1,
  ETPU_BILINEAR_XNNPACK_Q11 = 2,
} etpu_bilinear_method;

/* Options shared by both resize ops (TFLite ResizeBilinearOptions /
 * ResizeNearestNeighborOptions). */
typedef struct etpu_resize_params {
  bool align_corners;        /* map corner pixel centres onto each other */
  bool half_pixel_centers;   /* sample at pixel centres (x + 0.5) */
  etpu_bilinear_method method; /* bilinear only */
} etpu_resize_params;

/* input [N, H, W, C] → output [N, OH, OW, C]. */
ETPU_WUR etpu_status etpu_resize_bilinear_s8(const etpu_resize_params *params, const etpu_dims *input_dims,
                                             const int8_t *input, const etpu_dims *output_dims, int8_t *output);
ETPU_WUR etpu_status etpu_resize_bilinear_u8(const etpu_resize_params *params, const etpu_dims *input_dims,
                                             const uint8_t *input, const etpu_dims *output_dims, uint8_t *output);
/* Float32: FLOAT_REF arithmetic (the method is ignored). */
ETPU_WUR etpu_status etpu_resize_bilinear_f32(const etpu_resize_params *params, const etpu_dims *input_dims,
                                              const float *input, const etpu_dims *output_dims, float *output);

/* RESIZE_NEAREST_NEIGHBOR (TFLite reference GetNearestNeighbor): the source
 * index floor((dst + offset)·scale), or round(...) with align_corners,
 * clamped to the input; offset 0.5 with half_pixel_centers. Copies elements
 * of elem_size bytes (1 for int8/uint8, 4 for float32). */
ETPU_WUR etpu_status etpu_resize_nearest(const etpu_resize_params *params, size_t elem_size,
                                         const etpu_dims *input_dims, const void *input, const etpu_dims *output_dims,
                                         void *output);

#endif /* ETPU_KERNELS_RESIZE_H */
