/*
 * space_to_batch_nd.c — SPACE_TO_BATCH_ND on NHWC (TFLite reference
 * SpaceToBatchND): output batch b = (sh·block_w + sw)·N + n takes phase
 * (sh, sw) of input batch n padded by (top, bottom, left, right); cells in
 * the padding get the fill value (0, or the output zero point when
 * quantized).
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/ref/tensor_util.h"

/* Shared argument checks of both directions: `space` is the spatial side. */
etpu_status etpu_space_batch_check(const char *kname, const etpu_space_batch_params *p, const etpu_dims *space,
                                   const etpu_dims *batch) {
  etpu_status st;
  if ((st = etpu_kcheck_dims(kname, "space", space, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "batch", batch, NULL)) != ETPU_OK) return st;
  if (!etpu_elem_size_ok(p->elem_size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu", kname, p->elem_size);
  if (p->block_h < 1 || p->block_w < 1 || p->pad_top < 0 || p->pad_bottom < 0 || p->pad_left < 0 || p->pad_right < 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: block %dx%d or paddings (%d, %d, %d, %d) out of range", kname,
                     p->block_h, p->block_w, p->pad_top, p->pad_bottom, p->pad_left, p->pad_right);
  const int64_t ph = (int64_t)space->h + p->pad_top + p->pad_bottom, pw = (int64_t)space->w + p->pad_left + p->pad_right;
  if (ph % p->block_h || pw % p->block_w || batch->n != (int64_t)space->n * p->block_h * p->block_w ||
      batch->h != ph / p->block_h || batch->w != pw / p->block_w || batch->c != space->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "%s: space %dx%dx%dx%d with block %dx%d and paddings (%d, %d, %d, %d) does not give batch "
                     "%dx%dx%dx%d",
                     kname, space->n, space->h, space->w, space->c, p->block_h, p->block_w, p->pad_top, p->pad_bottom,
                     p->pad_left, p->pad_right, batch->n, batch->h, batch->w, batch->c);
  return ETPU_OK;
}

etpu_status etpu_space_to_batch_nd(const etpu_space_batch_params *params, const etpu_dims *input_dims,
                                   const void *input, const etpu_dims *output_dims, void *output) {
  static const char kname[] = "space_to_batch_nd";
  etpu_status st = etpu_tcheck_ptrs(kname, params, input, output);
  if (st != ETPU_OK) return st;
  if (!params->fill || !input_dims || !output_dims)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL fill or dims", kname);
  if ((st = etpu_space_batch_check(kname, params, input_dims, output_dims)) != ETPU_OK) return st;
  const size_t es = params->elem_size, row = (size_t)output_dims->c * es;
  uint8_t *dst = output;
  const uint8_t *src = input;
  for (int32_t b = 0; b < output_dims->n; b++) {
    const int32_t n = b % input_dims->n, phase = b / input_dims->n;
    const int32_t sw = phase % params->block_w, sh = phase / params->block_w;
    for (int32_t y = 0; y < output_dims->h; y++) {
      const int64_t iy = (int64_t)y * params->block_h + sh - params->pad_top;
      for (int32_t x = 0; x < output_dims->w; x++, dst += row) {
        const int64_t ix = (int64_t)x * params->block_w + sw - params->pad_left;
        if (iy < 0 || iy >= input_dims->h || ix < 0 || ix >= input_dims->w) {
          for (int32_t c = 0; c < output_dims->c; c++) memcpy(dst + (size_t)c * es, params->fill, es);
        } else {
          memcpy(dst, src + etpu_nhwc_offset(input_dims, n, iy, ix) * es, row);
        }
      }
    }
  }
  return ETPU_OK;
}
