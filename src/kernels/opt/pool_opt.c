/*
 * pool_opt.c — the optimized 8-bit average and max pooling of pool_opt.h:
 * per unit, int32 accumulators for up to POOL_BLOCK channels, one pass over
 * the window's input rows (contiguous channels: vectorized adds or
 * maximums), then the reference's rounding division or the clamp.
 */
#include "kernels/opt/pool_opt.h"
#include "kernels/ref/tensor_util.h"

enum { POOL_BLOCK = 512 };

/* The clipped window of output (oy, ox), as the reference clips it. */
static void window(const etpu_opt_pool *d, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1, int32_t *x0,
                   int32_t *x1) {
  const int64_t iy = (int64_t)oy * d->p.stride_h - d->p.pad_h, ix = (int64_t)ox * d->p.stride_w - d->p.pad_w;
  const int64_t ylo = iy < 0 ? 0 : iy, xlo = ix < 0 ? 0 : ix;
  const int64_t yhi = iy + d->p.filter_h < d->in.h ? iy + d->p.filter_h : d->in.h;
  const int64_t xhi = ix + d->p.filter_w < d->in.w ? ix + d->p.filter_w : d->in.w;
  *y0 = (int32_t)ylo, *x0 = (int32_t)xlo;
  *y1 = (int32_t)(yhi > ylo ? yhi : ylo), *x1 = (int32_t)(xhi > xlo ? xhi : xlo);
}

bool etpu_opt_pool_init(bool avg, bool is_signed, const etpu_pool_params *params, const etpu_dims *in_dims,
                        const etpu_dims *out_dims, etpu_opt_pool *out) {
  const int32_t qmin = is_signed ? -128 : 0, qmax = is_signed ? 127 : 255;
  if (etpu_pool2d_check("pool_opt", params, in_dims, in_dims, out_dims, out_dims, qmin, qmax) != ETPU_OK) return false;
  etpu_opt_pool d = {*params, *in_dims, *out_dims, avg, is_signed, (in_dims->c + POOL_BLOCK - 1) / POOL_BLOCK};
  /* sums of up to filter cells of |v| <= 255 must fit int32 */
  if ((int64_t)d.p.filter_h * d.p.filter_w > INT32_MAX / 256) return false;
  for (int32_t oy = 0; avg && oy < d.out.h; oy++)
    for (int32_t ox = 0; ox < d.out.w; ox++) {
      int32_t y0, y1, x0, x1;
      window(&d, oy, ox, &y0, &y1, &x0, &x1);
      if (y1 <= y0 || x1 <= x0) return false;
    }
  *out = d;
  return true;
}

size_t etpu_opt_pool_units(const etpu_opt_pool *d) {
  return (size_t)d->out.n * (size_t)d->out.h * (size_t)d->out.w * (size_t)d->blocks;
}

/* Sum (or max) of the window's cells for channels [c0, c0 + nc) of image n. */
static void accumulate(const etpu_opt_pool *d, const void *in, int32_t n, int32_t y0, int32_t y1, int32_t x0,
                       int32_t x1, int32_t c0, int32_t nc, int32_t *acc) {
  const size_t row = (size_t)d->in.w * (size_t)d->in.c;
  const int32_t init = d->avg ? 0 : d->is_signed ? -128 : 0;
  for (int32_t c = 0; c < nc; c++) acc[c] = init;
  for (int32_t y = y0; y < y1; y++)
    for (int32_t x = x0; x < x1; x++) {
      const size_t at = ((size_t)n * (size_t)d->in.h + (size_t)y) * row + (size_t)x * (size_t)d->in.c + (size_t)c0;
      if (d->is_signed) {
        const int8_t *v = (const int8_t *)in + at;
        if (d->avg)
          for (int32_t c = 0; c < nc; c++) acc[c] += v[c];
        else
          for (int32_t c = 0; c < nc; c++) acc[c] = v[c] > acc[c] ? v[c] : acc[c];
      } else {
        const uint8_t *v = (const uint8_t *)in + at;
        if (d->avg)
          for (int32_t c = 0; c < nc; c++) acc[c] += v[c];
        else
          for (int32_t c = 0; c < nc; c++) acc[c] = v[c] > acc[c] ? v[c] : acc[c];
      }
    }
}

void etpu_opt_pool_run_range(const etpu_opt_pool *d, const void *in, void *out, size_t begin, size_t end) {
  int32_t acc[POOL_BLOCK];
  for (size_t u = begin; u < end; u++) {
    const size_t pixel = u / (size_t)d->blocks;
    const int32_t c0 = (int32_t)(u % (size_t)d->blocks) * POOL_BLOCK;
    const int32_t nc = d->out.c - c0 < POOL_BLOCK ? d->out.c - c0 : POOL_BLOCK;
    const int32_t ox = (int32_t)(pixel % (size_t)d->out.w), oy = (int32_t)(pixel / (size_t)d->out.w % (size_t)d->out.h);
    const int32_t n = (int32_t)(pixel / ((size_t)d->out.w * (size_t)d->out.h));
    int32_t y0, y1, x0, x1;
    window(d, oy, ox, &y0, &y1, &x0, &x1);
    accumulate(d, in, n, y0, y1, x0, x1, c0, nc, acc);
    const int32_t count = (y1 - y0) * (x1 - x0);
    uint8_t *o = (uint8_t *)out + pixel * (size_t)d->out.c + (size_t)c0;
    for (int32_t c = 0; c < nc; c++) {
      int32_t v = acc[c];
      if (d->avg) v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
      v = v < d->p.activation_min ? d->p.activation_min : v > d->p.activation_max ? d->p.activation_max : v;
      o[c] = (uint8_t)v; /* int8: the low byte is the two's complement value */
    }
  }
}
