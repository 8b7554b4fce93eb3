/*
 * resize_nearest.c — RESIZE_NEAREST_NEIGHBOR (TFLite reference
 * GetNearestNeighbor, which TFLite's optimized kernel and TFLite Micro
 * follow): scale = in/out, or (in − 1)/(out − 1) with align_corners;
 * src = min(floor((dst + offset)·scale), in − 1), or round(...) with
 * align_corners; offset 0.5 and src >= 0 with half_pixel_centers. The
 * arithmetic is float32. Elements are copied, so one kernel serves every type.
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "kernels/kernel_util.h"
#include "kernels/resize.h"

static int32_t nearest(int32_t v, int32_t in, int32_t out, bool align, bool half) {
  const float scale = (align && out > 1) ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
  const float offset = half ? 0.5f : 0.0f;
  const float s = ((float)v + offset) * scale;
  int32_t r = align ? (int32_t)roundf(s) : (int32_t)floorf(s);
  if (r > in - 1) r = in - 1;
  if (half && r < 0) r = 0;
  return r;
}

etpu_status etpu_resize_nearest(const etpu_resize_params *params, size_t elem_size, const etpu_dims *input_dims,
                                const void *input, const etpu_dims *output_dims, void *output) {
  const char *k = "etpu_resize_nearest";
  if (!params || !input_dims || !input || !output_dims || !output)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu", k, elem_size);
  etpu_status st = etpu_kcheck_dims(k, "input", input_dims, NULL);
  if (st == ETPU_OK) st = etpu_kcheck_dims(k, "output", output_dims, NULL);
  if (st != ETPU_OK) return st;
  if (input_dims->n != output_dims->n || input_dims->c != output_dims->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: batch or channels differ", k);
  if (input_dims->h >= (1 << 24) || input_dims->w >= (1 << 24))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: sizes of 2^24 or more are not supported", k);
  const int32_t ih = input_dims->h, iw = input_dims->w, oh = output_dims->h, ow = output_dims->w;
  const size_t pix = (size_t)input_dims->c * elem_size;
  const uint8_t *in = input;
  uint8_t *out = output;
  for (int32_t b = 0; b < input_dims->n; b++) {
    const uint8_t *in_b = in + (size_t)b * (size_t)ih * (size_t)iw * pix;
    for (int32_t y = 0; y < oh; y++) {
      const int32_t sy = nearest(y, ih, oh, params->align_corners, params->half_pixel_centers);
      for (int32_t x = 0; x < ow; x++) {
        const int32_t sx = nearest(x, iw, ow, params->align_corners, params->half_pixel_centers);
        memcpy(out, in_b + ((size_t)sy * (size_t)iw + (size_t)sx) * pix, pix);
        out += pix;
      }
    }
  }
  return ETPU_OK;
}
