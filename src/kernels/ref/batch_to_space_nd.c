/*
 * batch_to_space_nd.c — BATCH_TO_SPACE_ND on NHWC (TFLite reference
 * BatchToSpaceND), the inverse of SPACE_TO_BATCH_ND: input batch
 * b = (sh·block_w + sw)·N + n fills the output cells (n, y·block_h + sh − top,
 * x·block_w + sw − left) that survive the crops (the walk of
 * space_to_batch_nd.c, copied the other way).
 */
#include "kernels/ref/tensor_util.h"

etpu_status etpu_batch_to_space_nd(const etpu_space_batch_params *params, const etpu_dims *input_dims,
                                   const void *input, const etpu_dims *output_dims, void *output) {
  /* The input is only read: the walk copies batch -> space. */
  return etpu_space_batch_move("batch_to_space_nd", params, output_dims, output, input_dims, (void *)(uintptr_t)input,
                               false);
}
