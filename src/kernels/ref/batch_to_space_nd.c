/*
 * batch_to_space_nd.c — BATCH_TO_SPACE_ND on NHWC (TFLite reference
 * BatchToSpaceND), the inverse of SPACE_TO_BATCH_ND: input batch
 * b = (sh·block_w + sw)·N + n fills the output cells (n, y·block_h + sh − top,
 * x·block_w + sw − left) that survive the crops.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/ref/tensor_util.h"

etpu_status etpu_batch_to_space_nd(const etpu_space_batch_params *params, const etpu_dims *input_dims,
                                   const void *input, const etpu_dims *output_dims, void *output) {
  static const char kname[] = "batch_to_space_nd";
  etpu_status st = etpu_tcheck_ptrs(kname, params, input, output);
  if (st != ETPU_OK) return st;
  if (!input_dims || !output_dims) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL dims", kname);
  if ((st = etpu_space_batch_check(kname, params, output_dims, input_dims)) != ETPU_OK) return st;
  const size_t es = params->elem_size, row = (size_t)input_dims->c * es;
  uint8_t *dst = output;
  const uint8_t *src = input;
  for (int32_t b = 0; b < input_dims->n; b++) {
    const int32_t n = b % output_dims->n, phase = b / output_dims->n;
    const int32_t sw = phase % params->block_w, sh = phase / params->block_w;
    for (int32_t y = 0; y < input_dims->h; y++) {
      const int64_t oy = (int64_t)y * params->block_h + sh - params->pad_top;
      if (oy < 0 || oy >= output_dims->h) continue;
      for (int32_t x = 0; x < input_dims->w; x++) {
        const int64_t ox = (int64_t)x * params->block_w + sw - params->pad_left;
        if (ox < 0 || ox >= output_dims->w) continue;
        memcpy(dst + etpu_nhwc_offset(output_dims, n, oy, ox) * es, src + etpu_nhwc_offset(input_dims, b, y, x) * es,
               row);
      }
    }
  }
  return ETPU_OK;
}
