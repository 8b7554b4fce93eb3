/*
 * space_to_batch_nd.c — SPACE_TO_BATCH_ND on NHWC (TFLite reference
 * SpaceToBatchND): output batch b = (sh·block_w + sw)·N + n takes phase
 * (sh, sw) of input batch n padded by (top, bottom, left, right); cells in
 * the padding get the fill value (0, or the output zero point when
 * quantized). Also the walk BATCH_TO_SPACE_ND shares (the same index map,
 * copied the other way) and the shape rule of both.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/ref/tensor_util.h"

etpu_status etpu_space_batch_check(const char *kname, const etpu_space_batch_params *p, const etpu_dims *space,
                                   const etpu_dims *batch) {
  etpu_status st;
  if (!p || !space || !batch) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL params or dims", kname);
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

etpu_status etpu_space_batch_move(const char *kname, const etpu_space_batch_params *p, const etpu_dims *space_dims,
                                  void *space, const etpu_dims *batch_dims, void *batch, bool to_batch) {
  etpu_status st = etpu_tcheck_ptrs(kname, p, space, batch);
  if (st != ETPU_OK) return st;
  if (to_batch && !p->fill) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL fill value", kname);
  if ((st = etpu_space_batch_check(kname, p, space_dims, batch_dims)) != ETPU_OK) return st;
  const size_t es = p->elem_size, row = (size_t)batch_dims->c * es;
  uint8_t *b_cell = batch, *s = space;
  for (int32_t b = 0; b < batch_dims->n; b++) {
    const int32_t n = b % space_dims->n, phase = b / space_dims->n;
    const int32_t sw = phase % p->block_w, sh = phase / p->block_w;
    for (int32_t y = 0; y < batch_dims->h; y++) {
      const int64_t sy = (int64_t)y * p->block_h + sh - p->pad_top;
      for (int32_t x = 0; x < batch_dims->w; x++, b_cell += row) {
        const int64_t sx = (int64_t)x * p->block_w + sw - p->pad_left;
        const bool inside = sy >= 0 && sy < space_dims->h && sx >= 0 && sx < space_dims->w;
        uint8_t *s_cell = inside ? s + etpu_nhwc_offset(space_dims, n, sy, sx) * es : NULL;
        if (!to_batch) {
          if (inside) memcpy(s_cell, b_cell, row);
        } else if (inside) {
          memcpy(b_cell, s_cell, row);
        } else {
          for (int32_t c = 0; c < batch_dims->c; c++) memcpy(b_cell + (size_t)c * es, p->fill, es);
        }
      }
    }
  }
  return ETPU_OK;
}

etpu_status etpu_space_to_batch_nd(const etpu_space_batch_params *params, const etpu_dims *input_dims,
                                   const void *input, const etpu_dims *output_dims, void *output) {
  /* The input is only read: the walk copies space -> batch. */
  return etpu_space_batch_move("space_to_batch_nd", params, input_dims, (void *)(uintptr_t)input, output_dims, output,
                               true);
}
