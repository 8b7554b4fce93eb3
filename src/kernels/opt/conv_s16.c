/*
 * conv_s16.c — the int16 GEMM of CONV_2D and FULLY_CONNECTED for the ISA
 * levels below AVX2 (scalar, sse41, and so every aarch64/armhf machine),
 * where it is faster than the uint8 × int8 blocks of conv_opt.c: conv_opt.c
 * calls it when the micro-kernel table has a gemm_s16 kernel (ukernel.h).
 *
 * Packed: int16 rows w + filter_offset, [C_out][KH][KW][C_f], each padded
 * with zeros to K rounded up to 8 (so the vectorized dot products have no
 * scalar tail), then NR − 1 rows of zeros: the micro-kernel always reads NR
 * rows, and past a group's last channel reads the next ones (or those
 * zeros), whose sums are not used. Output pixels are taken in tiles of `tile` pixels, one unit
 * of etpu_opt_conv_range_count each. For each tile and group, im2col writes
 * one int16 row of x + input_offset per pixel (0 where the window leaves the
 * input: the reference skips those positions, which adds the same 0), the
 * micro-kernel takes the dot products of 2 pixels × 4 channels in int32, and
 * the tile's sums plus bias are requantized by etpu_opt_requant_row (exact
 * under any FPU rounding mode). FULLY_CONNECTED is the 1×1 case with batches
 * as pixels. A window row of at most SHORT_RUN values (the 3×3×3 stem's 9)
 * is widened in fixed-size moves that may write past it, into what the next
 * write covers. Scratch: the tile's int32 sums and float scales, the tile of
 * rows, and SHORT_RUN spare values after it.
 */
#include <string.h>

#include "base/base.h"
#include "kernels/kernel_util.h"
#include "kernels/opt/opt_internal.h"

enum { MR = 2, NR = 4, TILE_ELEMS = 16384, TILE_MAX = 64, SHORT_RUN = 16 };

/* Products summed into one output value, and that rounded up to 8. */
static int64_t products(const etpu_opt_conv_desc *d) { return (int64_t)d->f_d.h * d->f_d.w * d->f_d.c; }
static int64_t row_len(const etpu_opt_conv_desc *d) { return (products(d) + 7) & ~(int64_t)7; }

/* Pixels per tile: a multiple of MR, the tile about TILE_ELEMS values. */
static int32_t tile_pixels(const etpu_opt_conv_desc *d) {
  int64_t t = TILE_ELEMS / row_len(d);
  if (t > TILE_MAX) t = TILE_MAX;
  t -= t % MR;
  return t < MR ? MR : (int32_t)t;
}

size_t etpu_opt_s16_packed_bytes(const etpu_opt_conv_desc *d) {
  return ((size_t)d->f_d.n + NR - 1) * (size_t)row_len(d) * sizeof(int16_t);
}

void etpu_opt_s16_pack(const etpu_opt_conv_desc *d, const void *filter, int16_t *packed) {
  const int32_t off = d->filter_offset;
  const size_t rows = (size_t)d->f_d.n, k = (size_t)products(d), stride = (size_t)row_len(d);
  for (size_t r = 0; r < rows; r++) {
    int16_t *dst = packed + r * stride;
    if (d->is_u8) {
      const uint8_t *f = (const uint8_t *)filter + r * k;
      for (size_t i = 0; i < k; i++) dst[i] = (int16_t)(f[i] + off);
    } else {
      const int8_t *f = (const int8_t *)filter + r * k;
      for (size_t i = 0; i < k; i++) dst[i] = (int16_t)(f[i] + off);
    }
    for (size_t i = k; i < stride; i++) dst[i] = 0;
  }
  memset(packed + rows * stride, 0, (NR - 1) * stride * sizeof *packed);
}

size_t etpu_opt_s16_buffer_size(const etpu_opt_conv_desc *d) {
  /* int32 sums [tile][C_out], float scales [tile][C_out], int16 rows
   * [tile][K], then SHORT_RUN values the last row's short runs may spill into */
  const size_t tile = (size_t)tile_pixels(d), out_c = (size_t)d->out_d.c;
  return tile * out_c * (sizeof(int32_t) + sizeof(float)) + (tile * (size_t)row_len(d) + SHORT_RUN) * sizeof(int16_t);
}

size_t etpu_opt_s16_range_count(const etpu_opt_conv_desc *d) {
  const int64_t pixels = (int64_t)d->out_d.n * d->out_d.h * d->out_d.w, tile = tile_pixels(d);
  return (size_t)((pixels + tile - 1) / tile);
}

/* dst[i] = src[i] + off for i < SHORT_RUN, int8 or uint8: a short window
 * row in fixed-size vector moves; what lies past the run is overwritten by
 * the next run, the row's zero tail or the next row (or is the scratch's
 * SHORT_RUN spare values). */
static void widen_short(int16_t *restrict dst, const uint8_t *restrict src, int32_t off, bool is_u8) {
  if (is_u8) {
    for (int32_t i = 0; i < SHORT_RUN; i++) dst[i] = (int16_t)(src[i] + off);
  } else {
    const int8_t *restrict s = (const int8_t *)src;
    for (int32_t i = 0; i < SHORT_RUN; i++) dst[i] = (int16_t)(s[i] + off);
  }
}

/* One im2col row: pixel (b, oy, ox), input channels [ic0, ic0 + f_c), then
 * zeros up to row_len. Rows are written in order: a short run may write up
 * to SHORT_RUN values past its end. */
static void im2col_row(const etpu_opt_conv_desc *d, const void *input, int32_t b, int32_t oy, int32_t ox,
                       int32_t ic0, int16_t *row) {
  const int32_t k = (int32_t)products(d), ks = (int32_t)row_len(d);
  int16_t *const row0 = row;
  const int32_t k_h = d->f_d.h, k_w = d->f_d.w, f_c = d->f_d.c, run = k_w * f_c;
  const int32_t y0 = oy * d->stride_h - d->pad_h, x0 = ox * d->stride_w - d->pad_w;
  const size_t in_bytes = (size_t)d->in_d.n * (size_t)d->in_d.h * (size_t)d->in_d.w * (size_t)d->in_d.c;
  /* A window row inside the input, undilated, all channels: contiguous. */
  const bool whole_rows = d->dilation_w == 1 && f_c == d->in_d.c && x0 >= 0 && x0 + k_w <= d->in_d.w;
  for (int32_t ky = 0; ky < k_h; ky++) {
    const int32_t iy = y0 + ky * d->dilation_h;
    if (whole_rows && iy >= 0 && iy < d->in_d.h) {
      const size_t at = etpu_nhwc_offset(&d->in_d, b, iy, x0);
      if (run <= SHORT_RUN && in_bytes - at >= SHORT_RUN) /* the stem's 3×3×3: runs of 9 */
        widen_short(row, (const uint8_t *)input + at, d->input_offset, d->is_u8);
      else
        etpu_opt_widen(row, (const uint8_t *)input + at, run, d->input_offset, d->is_u8);
      row += run;
      continue;
    }
    for (int32_t kx = 0; kx < k_w; kx++, row += f_c) {
      const int32_t ix = x0 + kx * d->dilation_w;
      if (iy < 0 || iy >= d->in_d.h || ix < 0 || ix >= d->in_d.w) {
        memset(row, 0, (size_t)f_c * sizeof *row);
        continue;
      }
      const char *src = (const char *)input + (etpu_nhwc_offset(&d->in_d, b, iy, ix) + (size_t)ic0);
      etpu_opt_widen(row, src, f_c, d->input_offset, d->is_u8);
    }
  }
  for (int32_t i = k; i < ks; i++) row0[i] = 0;
}

void etpu_opt_s16_run(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d, const etpu_requant_params *q,
                      const void *input, const int16_t *packed, const int32_t *bias, void *output, void *scratch,
                      size_t begin, size_t end) {
  const int32_t out_c = d->out_d.c, f_c = d->f_d.c;
  const int32_t groups = d->kind == ETPU_OPT_CONV ? d->in_d.c / f_c : 1;
  const int32_t per_group = out_c / groups;
  const int32_t k = (int32_t)row_len(d);
  const int32_t tile = tile_pixels(d);
  const int64_t pixels = (int64_t)d->out_d.n * d->out_d.h * d->out_d.w;
  const int32_t hw = d->out_d.h * d->out_d.w;
  const int32_t zp = d->output_offset, amin = d->activation_min, amax = d->activation_max;
  const bool direct = k == products(d) && d->f_d.h == 1 && d->f_d.w == 1 && d->stride_h == 1 && d->stride_w == 1 &&
                      d->pad_h == 0 && d->pad_w == 0 && groups == 1 && d->out_d.h == d->in_d.h &&
                      d->out_d.w == d->in_d.w;
  int32_t *acc_tile = scratch;
  float *scale = (float *)(acc_tile + (size_t)tile * (size_t)out_c);
  int16_t *tile_buf = (int16_t *)(scale + (size_t)tile * (size_t)out_c);
  etpu_opt_requant_scales(q, out_c, tile, scale);
  const bool nearest = etpu_opt_round_to_nearest();
  for (size_t u = begin; u < end; u++) {
    const int64_t p0 = (int64_t)u * tile;
    const int32_t np = (int32_t)(pixels - p0 < tile ? pixels - p0 : tile);
    for (int32_t g = 0; g < groups; g++) {
      if (direct) {
        /* 1×1, stride 1, no padding, one group: the rows are the input's */
        etpu_opt_widen(tile_buf, (const uint8_t *)input + (size_t)p0 * (size_t)k, np * k, d->input_offset, d->is_u8);
      } else {
        /* Pixel p0 = (b, oy, ox), then step: no division per pixel. */
        int32_t b = (int32_t)(p0 / hw), oy = (int32_t)(p0 % hw) / d->out_d.w, ox = (int32_t)(p0 % hw) % d->out_d.w;
        for (int32_t p = 0; p < np; p++) {
          im2col_row(d, input, b, oy, ox, g * f_c, tile_buf + (size_t)p * (size_t)k);
          if (++ox == d->out_d.w) {
            ox = 0;
            if (++oy == d->out_d.h) oy = 0, b++;
          }
        }
      }
      for (int32_t oc0 = g * per_group; oc0 < (g + 1) * per_group; oc0 += NR) {
        const int32_t nc = (g + 1) * per_group - oc0 < NR ? (g + 1) * per_group - oc0 : NR;
        const int16_t *w0 = packed + (size_t)oc0 * (size_t)k;
        for (int32_t p = 0; p < np; p += MR) {
          int32_t s[MR * NR];
          const size_t mr = p + MR <= np ? MR : 1; /* 1: the layer's last pixel (an FC's one batch) */
          if (mr < MR) memset(s, 0, sizeof s);
          cfg->gemm_s16(mr, (size_t)k, tile_buf + (size_t)p * (size_t)k, (size_t)k, w0, (size_t)k, s);
          /* Rows past np are scratch the tile has room for (tile % MR == 0). */
          int32_t *a_row = acc_tile + (size_t)p * (size_t)out_c + (size_t)oc0;
          if (nc == NR) {
            const int32_t b0 = bias ? bias[oc0] : 0, b1 = bias ? bias[oc0 + 1] : 0;
            const int32_t b2 = bias ? bias[oc0 + 2] : 0, b3 = bias ? bias[oc0 + 3] : 0;
            for (int32_t i = 0; i < MR; i++, a_row += out_c) {
              a_row[0] = (int32_t)((uint32_t)s[i * NR] + (uint32_t)b0);
              a_row[1] = (int32_t)((uint32_t)s[i * NR + 1] + (uint32_t)b1);
              a_row[2] = (int32_t)((uint32_t)s[i * NR + 2] + (uint32_t)b2);
              a_row[3] = (int32_t)((uint32_t)s[i * NR + 3] + (uint32_t)b3);
            }
          } else {
            for (int32_t i = 0; i < MR; i++, a_row += out_c)
              for (int32_t j = 0; j < nc; j++)
                a_row[j] = (int32_t)((uint32_t)s[i * NR + j] + (uint32_t)(bias ? bias[oc0 + j] : 0));
          }
        }
      }
    }
    etpu_opt_requant_row(acc_tile, q, scale, nearest, np * out_c, out_c, zp, amin, amax,
                         (uint8_t *)output + (size_t)p0 * (size_t)out_c);
  }
}
