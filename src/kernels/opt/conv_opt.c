/*
 * conv_opt.c — the optimized integer CONV_2D and FULLY_CONNECTED (a GEMM on
 * int16 im2col rows) and the shared part of opt.h: which layers may run
 * optimized, weight packing, scratch size and the run entry point.
 *
 * GEMM: output pixels are taken in tiles of `tile` pixels. For each tile and
 * each group, im2col writes one int16 row of K = KH·KW·C_f values
 * x + input_offset per pixel (0 where the window leaves the input: the
 * reference skips those positions, which adds the same 0), then a 2-pixel ×
 * 4-channel micro-kernel takes the dot products with the packed weight rows
 * ([C_out][KH][KW][C_f], the same order) in int32, and each sum plus bias is
 * requantized at once. FULLY_CONNECTED is the 1×1 case with batches as
 * pixels. A window row of at most SHORT_RUN values (the 3×3×3 stem's 9) is
 * widened in fixed-size moves that may write past it, into what the next
 * write covers. Scratch: the tile's int32 sums and float scales, the tile of
 * rows, and SHORT_RUN spare values after it.
 */
#include "kernels/opt/opt.h"

#include <fenv.h>
#include <string.h>

#include "base/base.h"
#include "kernels/kernel_util.h"
#include "kernels/opt/opt_internal.h"

enum { MR = 2, NR = 4, TILE_ELEMS = 16384, TILE_MAX = 64, SHORT_RUN = 16 };

static int64_t dims_count(const etpu_dims *d) { return (int64_t)d->n * d->h * d->w * d->c; }

static bool dims_ok(const etpu_dims *d) {
  return d->n >= 1 && d->h >= 1 && d->w >= 1 && d->c >= 1 && dims_count(d) <= ((int64_t)1 << 40);
}

/* Products summed into one output value. */
static int64_t products_per_output(const etpu_opt_conv_desc *d) { return (int64_t)d->f_d.h * d->f_d.w * d->f_d.c; }

/* CONV_2D / FULLY_CONNECTED: the packed row length, K rounded up to 8 so the
 * vectorized dot products have no scalar tail (the extra values are 0). */
static int64_t row_stride(const etpu_opt_conv_desc *d) { return (products_per_output(d) + 7) & ~(int64_t)7; }

bool etpu_opt_conv_supported(const etpu_opt_conv_desc *d, const int32_t *bias) {
  if (!d || !dims_ok(&d->in_d) || !dims_ok(&d->f_d) || !dims_ok(&d->out_d)) return false;
  if (d->stride_h < 1 || d->stride_w < 1 || d->dilation_h < 1 || d->dilation_w < 1 || d->pad_h < 0 || d->pad_w < 0)
    return false;
  const int32_t lo = d->is_u8 ? 0 : -128, hi = d->is_u8 ? 255 : 127;
  const int32_t io_lo = d->is_u8 ? -255 : -127, io_hi = d->is_u8 ? 0 : 128;
  if (d->input_offset < io_lo || d->input_offset > io_hi) return false;
  const int32_t fo_lo = d->is_u8 ? -255 : -127, fo_hi = d->is_u8 ? 0 : 128;
  if (d->filter_offset < fo_lo || d->filter_offset > fo_hi) return false;
  if (d->output_offset < lo || d->output_offset > hi || d->activation_min < lo || d->activation_max > hi ||
      d->activation_min > d->activation_max)
    return false;
  if (d->out_d.n != d->in_d.n) return false;
  int32_t out_c;
  switch (d->kind) {
    case ETPU_OPT_CONV:
      out_c = d->f_d.n;
      if (d->in_d.c % d->f_d.c != 0 || out_c % (d->in_d.c / d->f_d.c) != 0) return false;
      break;
    case ETPU_OPT_DW:
      out_c = d->f_d.c;
      if (d->f_d.n != 1 || d->depth_multiplier < 1 || (int64_t)d->in_d.c * d->depth_multiplier != out_c) return false;
      break;
    case ETPU_OPT_FC:
      out_c = d->f_d.n;
      if (d->in_d.h != 1 || d->in_d.w != 1 || d->f_d.h != 1 || d->f_d.w != 1 || d->out_d.h != 1 ||
          d->out_d.w != 1 || d->f_d.c != d->in_d.c || d->stride_h != 1 || d->stride_w != 1 || d->pad_h != 0 ||
          d->pad_w != 0)
        return false;
      break;
    default:
      return false;
  }
  if (d->out_d.c != out_c) return false;
  /* No int32 overflow: |bias| + K·255·255 <= INT32_MAX. */
  int64_t max_bias = 0;
  for (int32_t c = 0; bias && c < out_c; c++) {
    const int64_t b = bias[c] < 0 ? -(int64_t)bias[c] : bias[c];
    if (b > max_bias) max_bias = b;
  }
  const int64_t k = d->kind == ETPU_OPT_DW ? (int64_t)d->f_d.h * d->f_d.w : products_per_output(d);
  return k <= 40000 && max_bias + k * 255 * 255 <= INT32_MAX;
}

size_t etpu_opt_conv_packed_count(const etpu_opt_conv_desc *d) {
  if (d->kind == ETPU_OPT_DW) return etpu_opt_dw_packed_count(d);
  return (size_t)d->f_d.n * (size_t)row_stride(d);
}

etpu_status etpu_opt_conv_pack(const etpu_opt_conv_desc *d, const void *filter, int16_t *packed) {
  if (!d || !filter || !packed) return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv pack: NULL descriptor or data");
  if (!etpu_opt_conv_supported(d, NULL))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv pack: the layer is not one the optimized kernels take");
  if (d->kind == ETPU_OPT_DW) {
    etpu_opt_dw_pack(d, filter, packed);
    return ETPU_OK;
  }
  const int32_t off = d->filter_offset;
  /* Rows of K, each padded to row_stride. */
  const size_t rows = (size_t)d->f_d.n, k = (size_t)products_per_output(d), stride = (size_t)row_stride(d);
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
  return ETPU_OK;
}

/* Pixels per GEMM tile: a multiple of MR, the tile about TILE_ELEMS values. */
static int32_t gemm_tile(const etpu_opt_conv_desc *d) {
  int64_t t = TILE_ELEMS / row_stride(d);
  if (t > TILE_MAX) t = TILE_MAX;
  t -= t % MR;
  return t < MR ? MR : (int32_t)t;
}

size_t etpu_opt_conv_get_buffer_size(const etpu_opt_conv_desc *d) {
  if (d->kind == ETPU_OPT_DW) return etpu_opt_dw_buffer_size(d);
  /* int32 accumulators [tile][C_out], float scales [tile][C_out], int16 rows
   * [tile][K], then SHORT_RUN values the last row's short runs may spill into */
  const size_t tile = (size_t)gemm_tile(d), out_c = (size_t)d->out_d.c;
  return tile * out_c * (sizeof(int32_t) + sizeof(float)) +
         (tile * (size_t)row_stride(d) + SHORT_RUN) * sizeof(int16_t);
}

/* The 2 × 4 dot products of rows a0, a1 with weight rows w0..w3 over k. */
static void dot_2x4(const int16_t *restrict a0, const int16_t *restrict a1, const int16_t *restrict w0,
                    const int16_t *restrict w1, const int16_t *restrict w2, const int16_t *restrict w3, int32_t k,
                    int32_t out[8]) {
  int32_t s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
  for (int32_t i = 0; i < k; i++) {
    const int32_t x0 = a0[i], x1 = a1[i];
    s00 += w0[i] * x0;
    s01 += w1[i] * x0;
    s02 += w2[i] * x0;
    s03 += w3[i] * x0;
    s10 += w0[i] * x1;
    s11 += w1[i] * x1;
    s12 += w2[i] * x1;
    s13 += w3[i] * x1;
  }
  out[0] = s00, out[1] = s01, out[2] = s02, out[3] = s03;
  out[4] = s10, out[5] = s11, out[6] = s12, out[7] = s13;
}

/* The 1 × 4 dot products of row a with weight rows w0..w3 over k. */
static void dot_1x4(const int16_t *restrict a, const int16_t *restrict w0, const int16_t *restrict w1,
                    const int16_t *restrict w2, const int16_t *restrict w3, int32_t k, int32_t out[4]) {
  int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (int32_t i = 0; i < k; i++) {
    const int32_t x = a[i];
    s0 += w0[i] * x;
    s1 += w1[i] * x;
    s2 += w2[i] * x;
    s3 += w3[i] * x;
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
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
 * zeros up to row_stride. Rows are written in order: a short run may write
 * up to SHORT_RUN values past its end. */
static void im2col_row(const etpu_opt_conv_desc *d, const void *input, int32_t b, int32_t oy, int32_t ox,
                       int32_t ic0, int16_t *row) {
  const int32_t k = (int32_t)products_per_output(d), ks = (int32_t)row_stride(d);
  int16_t *const row0 = row;
  const int32_t k_h = d->f_d.h, k_w = d->f_d.w, f_c = d->f_d.c, run = k_w * f_c;
  const int32_t y0 = oy * d->stride_h - d->pad_h, x0 = ox * d->stride_w - d->pad_w;
  const size_t in_bytes = (size_t)dims_count(&d->in_d); /* int8 and uint8 alike */
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

void etpu_opt_requant_scales(const etpu_requant_params *q, int32_t n_ch, int32_t reps, float *scale) {
  if (q->count == 1) return; /* per tensor: etpu_opt_requant_row reads the one scale itself */
  for (int32_t p = 0; p < reps; p++)
    for (int32_t c = 0; c < n_ch; c++)
      scale[(size_t)p * (size_t)n_ch + (size_t)c] = q->channels[q->count == 1 ? 0 : c].scale;
}

const char *etpu_isa_name(void) { return "portable"; }

bool etpu_opt_round_to_nearest(void) { return fegetround() == FE_TONEAREST; }

void etpu_opt_requant_row(const int32_t *restrict acc, const etpu_requant_params *q, const float *restrict scale,
                          bool nearest, int32_t n, int32_t n_ch, int32_t zp, int32_t amin, int32_t amax,
                          uint8_t *restrict out) {
  if (q->mode == ETPU_REQUANT_FP32) {
    /* etpu_requantize_fp32, branch-free so that it vectorizes: clamp in
     * float, then round half to even. The clamped |f| <= 510, so under the
     * default round-to-nearest mode f + 1.5·2^23 is exactly 1.5·2^23 plus
     * that rounding r (the sum lies where the float spacing is 1), and its
     * bits are 0x4B400000 + r: their low byte plus zp is the output byte,
     * with no conversion back to an integer. Under another mode the exact
     * truncate-and-compare form of etpu_opt_round_half_even runs instead, so
     * the result never depends on the mode, as the reference's does not. */
    const float lo = (float)(amin - zp), hi = (float)(amax - zp);
    if (nearest) {
      const float magic = 12582912.0f; /* 1.5·2^23 */
      if (q->count == 1) { /* per tensor: one scale, no table to read */
        const float s = q->channels[0].scale;
        for (int32_t c = 0; c < n; c++) {
          float f = (float)acc[c] * s;
          f = f < lo ? lo : f;
          f = f > hi ? hi : f;
          f += magic;
          uint32_t bits;
          memcpy(&bits, &f, sizeof bits);
          out[c] = (uint8_t)((bits + (uint32_t)zp) & 0xff);
        }
        return;
      }
      for (int32_t c = 0; c < n; c++) {
        float f = (float)acc[c] * scale[c];
        f = f < lo ? lo : f;
        f = f > hi ? hi : f;
        f += magic;
        uint32_t bits;
        memcpy(&bits, &f, sizeof bits);
        out[c] = (uint8_t)((bits + (uint32_t)zp) & 0xff);
      }
      return;
    }
    const float *restrict s1 = q->count == 1 ? &q->channels[0].scale : scale;
    const size_t s_step = q->count == 1 ? 0 : 1;
    for (int32_t c = 0; c < n; c++) {
      float f = (float)acc[c] * s1[(size_t)c * s_step];
      f = f < lo ? lo : f;
      f = f > hi ? hi : f;
      const int32_t t = (int32_t)f;
      const float frac = f - (float)t;
      const int32_t odd = t & 1;
      const int32_t up = (frac > 0.5f) | ((frac == 0.5f) & odd);
      const int32_t down = (frac < -0.5f) | ((frac == -0.5f) & odd);
      out[c] = (uint8_t)((t + up - down + zp) & 0xff);
    }
    return;
  }
  /* The integer modes: one loop per mode (the switch of etpu_opt_requant
   * folds away), and a per-tensor table read once. */
  const etpu_requant *ch = q->channels;
  const size_t step = q->count == 1 ? 0 : 1;
  for (int32_t p0 = 0; p0 < n; p0 += n_ch, acc += n_ch, out += n_ch) {
    switch (q->mode) {
      case ETPU_REQUANT_DOUBLE_ROUND:
        for (int32_t c = 0; c < n_ch; c++)
          out[c] = (uint8_t)(etpu_opt_requant(acc[c], &ch[(size_t)c * step], ETPU_REQUANT_DOUBLE_ROUND, zp, amin,
                                              amax) & 0xff);
        break;
      case ETPU_REQUANT_SINGLE_ROUND:
        for (int32_t c = 0; c < n_ch; c++)
          out[c] = (uint8_t)(etpu_opt_requant(acc[c], &ch[(size_t)c * step], ETPU_REQUANT_SINGLE_ROUND, zp, amin,
                                              amax) & 0xff);
        break;
      default:
        for (int32_t c = 0; c < n_ch; c++)
          out[c] = (uint8_t)(etpu_opt_requant(acc[c], &ch[(size_t)c * step], q->mode, zp, amin, amax) & 0xff);
        break;
    }
  }
}

static int64_t gemm_pixels(const etpu_opt_conv_desc *d) { return (int64_t)d->out_d.n * d->out_d.h * d->out_d.w; }

/* Pixel tiles [t0, t1) of the layer. */
static void gemm_run(const etpu_opt_conv_desc *d, const etpu_requant_params *q, const void *input,
                     const int16_t *packed, const int32_t *bias, void *output, void *scratch, int64_t t0,
                     int64_t t1) {
  const int32_t out_c = d->out_d.c, f_c = d->f_d.c;
  const int32_t groups = d->kind == ETPU_OPT_CONV ? d->in_d.c / f_c : 1;
  const int32_t per_group = out_c / groups;
  const int32_t k = (int32_t)row_stride(d);
  const int32_t tile = gemm_tile(d);
  const int64_t pixels = gemm_pixels(d) < t1 * tile ? gemm_pixels(d) : t1 * tile;
  const int32_t hw = d->out_d.h * d->out_d.w;
  const int32_t zp = d->output_offset, amin = d->activation_min, amax = d->activation_max;
  const bool direct = k == products_per_output(d) && d->f_d.h == 1 && d->f_d.w == 1 && d->stride_h == 1 &&
                      d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0 && groups == 1 &&
                      d->out_d.h == d->in_d.h && d->out_d.w == d->in_d.w;
  int32_t *acc_tile = scratch;
  float *scale = (float *)(acc_tile + (size_t)tile * (size_t)out_c);
  int16_t *tile_buf = (int16_t *)(scale + (size_t)tile * (size_t)out_c);
  etpu_opt_requant_scales(q, out_c, tile, scale);
  const bool nearest = etpu_opt_round_to_nearest();
  for (int64_t p0 = t0 * tile; p0 < pixels; p0 += tile) {
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
        /* Past the group's last channel, repeat its first (results unused). */
        const int16_t *w1 = nc > 1 ? w0 + k : w0, *w2 = nc > 2 ? w0 + 2 * (size_t)k : w0;
        const int16_t *w3 = nc > 3 ? w0 + 3 * (size_t)k : w0;
        for (int32_t p = 0; p < np; p += MR) {
          int32_t s[MR * NR];
          const int16_t *a0 = tile_buf + (size_t)p * (size_t)k;
          if (p + MR <= np) {
            dot_2x4(a0, a0 + k, w0, w1, w2, w3, k, s);
          } else { /* the last pixel of the layer (a FULLY_CONNECTED's one batch) */
            memset(s, 0, sizeof s);
            dot_1x4(a0, w0, w1, w2, w3, k, s);
          }
          /* Rows past np are scratch the tile has room for (tile % MR == 0). */
          int32_t *a_row = acc_tile + (size_t)p * (size_t)out_c + (size_t)oc0;
          if (nc == NR) {
            const int32_t b0 = bias ? bias[oc0] : 0, b1 = bias ? bias[oc0 + 1] : 0;
            const int32_t b2 = bias ? bias[oc0 + 2] : 0, b3 = bias ? bias[oc0 + 3] : 0;
            for (int32_t i = 0; i < MR; i++, a_row += out_c) {
              a_row[0] = s[i * NR] + b0;
              a_row[1] = s[i * NR + 1] + b1;
              a_row[2] = s[i * NR + 2] + b2;
              a_row[3] = s[i * NR + 3] + b3;
            }
          } else {
            for (int32_t i = 0; i < MR; i++, a_row += out_c)
              for (int32_t j = 0; j < nc; j++) a_row[j] = s[i * NR + j] + (bias ? bias[oc0 + j] : 0);
          }
        }
      }
    }
    etpu_opt_requant_row(acc_tile, q, scale, nearest, np * out_c, out_c, zp, amin, amax,
                         (uint8_t *)output + (size_t)p0 * (size_t)out_c);
  }
}

size_t etpu_opt_conv_range_count(const etpu_opt_conv_desc *d) {
  if (d->kind == ETPU_OPT_DW) return etpu_opt_dw_range_count(d);
  const int64_t tile = gemm_tile(d);
  return (size_t)((gemm_pixels(d) + tile - 1) / tile);
}

etpu_status etpu_opt_conv_run_range(const etpu_opt_conv_desc *d, const etpu_requant_params *quant,
                                    const void *input, const int16_t *packed, const int32_t *bias, void *output,
                                    void *scratch, size_t scratch_bytes, size_t begin, size_t end) {
  static const char kname[] = "opt conv";
  if (!d || !quant || !input || !packed || !output || !scratch)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL descriptor or data pointer", kname);
  if (!etpu_opt_conv_supported(d, bias))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: the layer is not one the optimized kernels take", kname);
  etpu_status st = etpu_kcheck_quant(kname, quant, d->out_d.c);
  if (st != ETPU_OK) return st;
  const size_t need = etpu_opt_conv_get_buffer_size(d);
  if (scratch_bytes < need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes, the layer needs %zu", kname, scratch_bytes,
                     need);
  const size_t count = etpu_opt_conv_range_count(d);
  if (begin > end || end > count)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: range [%zu, %zu) outside the layer's %zu units", kname, begin, end,
                     count);
  if (begin == end) return ETPU_OK;
  if (d->kind == ETPU_OPT_DW)
    etpu_opt_dw_run(d, quant, input, packed, bias, output, scratch, begin, end);
  else
    gemm_run(d, quant, input, packed, bias, output, scratch, (int64_t)begin, (int64_t)end);
  return ETPU_OK;
}

etpu_status etpu_opt_conv_run(const etpu_opt_conv_desc *d, const etpu_requant_params *quant, const void *input,
                              const int16_t *packed, const int32_t *bias, void *output, void *scratch,
                              size_t scratch_bytes) {
  if (!d) return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv: NULL descriptor or data pointer");
  return etpu_opt_conv_run_range(d, quant, input, packed, bias, output, scratch, scratch_bytes, 0,
                                 etpu_opt_conv_range_count(d));
}
