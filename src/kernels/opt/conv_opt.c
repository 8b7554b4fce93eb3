/*
 * conv_opt.c — the optimized integer CONV_2D and FULLY_CONNECTED (a GEMM of
 * uint8 im2col rows with int8 weights, run by the micro-kernels of
 * src/kernels/ukernel/) and the shared part of opt.h: which layers may run
 * optimized, weight packing, scratch size and the run entry points.
 *
 * Arithmetic: for uint8 layers the kernels see xu = x and ws = w − 128; for
 * int8 layers xu = x + 128 (x XOR 0x80) and ws = w; so xu is uint8 and ws
 * int8 as vpdpbusd wants them, and with a = input_offset (uint8) or
 * input_offset − 128 (int8), b = filter_offset + 128 (uint8) or
 * filter_offset (int8):
 *   Σ (x + input_offset)(w + filter_offset) = Σ (xu + a)(ws + b)
 *     = Σ xu·ws + b·Σ xu + a·Σ ws + K·a·b.
 * The last two terms are per column (packed once, beside the weights), b·Σxu
 * per pixel (summed once per tile of pixels; none when b = 0, as for int8
 * CONV_2D), and the kernel adds both and the bias to its sums. A window
 * position outside the input holds xu = −a (the input zero point, always a
 * byte), whose term (xu + a) is 0 as the reference's skipped position; the
 * padding of K to a multiple of 4 holds xu = 0 and ws = 0, which adds nothing
 * to any term. All sums wrap in int32 and are exact: the true result fits
 * (etpu_opt_conv_supported).
 *
 * The ISA levels below AVX2 (a gemm_s16 kernel in the table) run the int16
 * GEMM of conv_s16.c instead, with its own packed layout, scratch and units:
 * the layout follows the table chosen once for the process (config.c), and
 * the _isa entry points of opt_internal.h take another table explicitly.
 *
 * Packed (bytes, int32-aligned): int32 col[groups·NB·16], then int8 blocks
 * [groups·NB][Kp/4][16][4] (ukernel.h), NB = ⌈C_out per group / 16⌉,
 * Kp = K rounded up to 4, zero-padded: K bytes per output channel, not the
 * int16 copy of before.
 *
 * Work units (etpu_opt_conv_run_range): tiles of TM pixels × groups ×
 * chunks of CHUNK_BLOCKS blocks of columns. A unit gathers its pixels' im2col
 * rows (none for a 1×1 stride-1 layer: the input rows are the A rows), sums
 * them if b ≠ 0, and runs the micro-kernel over its columns; consecutive units
 * of the same tile and group reuse the gathered rows. In the fp32 mode
 * (litert) the kernel requantizes and stores the bytes; in the integer modes
 * it stores int32 sums that etpu_opt_requant turns into bytes.
 */
#include "kernels/opt/opt.h"

#include <fenv.h>
#include <string.h>

#include "base/base.h"
#include "kernels/kernel_util.h"
#include "kernels/opt/opt_internal.h"

enum { TM_MAX = 64, A_TILE_BYTES = 65536, CHUNK_BLOCKS = 8, MR_MAX = 8, NR_MAX = 32 };

static int64_t dims_count(const etpu_dims *d) { return (int64_t)d->n * d->h * d->w * d->c; }

static bool dims_ok(const etpu_dims *d) {
  return d->n >= 1 && d->h >= 1 && d->w >= 1 && d->c >= 1 && dims_count(d) <= ((int64_t)1 << 40);
}

/* Products summed into one output value. */
static int64_t products_per_output(const etpu_opt_conv_desc *d) { return (int64_t)d->f_d.h * d->f_d.w * d->f_d.c; }

/* CONV_2D / FULLY_CONNECTED: K rounded up to 4, the packed row length. */
static int64_t row_stride(const etpu_opt_conv_desc *d) { return (products_per_output(d) + 3) & ~(int64_t)3; }
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

/* ---- GEMM layout ---------------------------------------------------------- */

typedef struct gemm_shape {
  int32_t groups, per_group, nb; /* groups; output channels and 16-column blocks per group */
  int32_t k, kp;                 /* products per output; rounded up to 4 */
  int32_t tm;                    /* pixels per tile, a multiple of MR_MAX */
  int64_t pixels, tiles;         /* output pixels (batches · out_h · out_w); their tiles */
  int32_t chunks;                /* column chunks per group */
  int32_t a_shift, b_shift;      /* a and b of the file comment */
  bool direct;                   /* the A rows are the input's (1×1, stride 1, no padding, K % 4 == 0) */
} gemm_shape;

static gemm_shape gemm_shape_of(const etpu_opt_conv_desc *d) {
  gemm_shape s;
  s.groups = d->kind == ETPU_OPT_CONV ? d->in_d.c / d->f_d.c : 1;
  s.per_group = d->out_d.c / s.groups;
  s.nb = (s.per_group + ETPU_GEMM_BLOCK - 1) / ETPU_GEMM_BLOCK;
  s.k = (int32_t)products_per_output(d);
  s.kp = (int32_t)row_stride(d);
  int64_t tm = A_TILE_BYTES / s.kp;
  tm = tm > TM_MAX ? TM_MAX : tm < MR_MAX ? MR_MAX : tm - tm % MR_MAX;
  s.tm = (int32_t)tm;
  s.pixels = (int64_t)d->out_d.n * d->out_d.h * d->out_d.w;
  s.tiles = (s.pixels + s.tm - 1) / s.tm;
  s.chunks = (s.nb + CHUNK_BLOCKS - 1) / CHUNK_BLOCKS;
  s.a_shift = d->is_u8 ? d->input_offset : d->input_offset - 128;
  s.b_shift = d->is_u8 ? d->filter_offset + 128 : d->filter_offset;
  s.direct = s.k == s.kp && d->f_d.h == 1 && d->f_d.w == 1 && d->stride_h == 1 && d->stride_w == 1 &&
             d->pad_h == 0 && d->pad_w == 0 && s.groups == 1 && d->out_d.h == d->in_d.h && d->out_d.w == d->in_d.w;
  return s;
}

/* Packed bytes: the int32 column terms, then the int8 blocks. */
static size_t gemm_col_bytes(const gemm_shape *s) {
  return (size_t)s->groups * (size_t)s->nb * ETPU_GEMM_BLOCK * sizeof(int32_t);
}

size_t etpu_opt_conv_packed_bytes_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d) {
  if (d->kind == ETPU_OPT_DW) return etpu_opt_dw_packed_bytes(d);
  if (cfg->gemm_s16) return etpu_opt_s16_packed_bytes(d);
  const gemm_shape s = gemm_shape_of(d);
  return gemm_col_bytes(&s) + (size_t)s.groups * (size_t)s.nb * ETPU_GEMM_BLOCK * (size_t)s.kp;
}

size_t etpu_opt_conv_packed_bytes(const etpu_opt_conv_desc *d) {
  return etpu_opt_conv_packed_bytes_isa(etpu_ukernel_config_get(), d);
}

etpu_status etpu_opt_conv_pack_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d, const void *filter,
                                   void *packed) {
  if (!cfg || !d || !filter || !packed) return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv pack: NULL descriptor or data");
  if (!etpu_opt_conv_supported(d, NULL))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv pack: the layer is not one the optimized kernels take");
  if ((uintptr_t)packed % sizeof(int32_t) != 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv pack: the packed buffer is not int32-aligned");
  if (d->kind == ETPU_OPT_DW) {
    etpu_opt_dw_pack(d, filter, packed);
    return ETPU_OK;
  }
  if (cfg->gemm_s16) {
    etpu_opt_s16_pack(d, filter, packed);
    return ETPU_OK;
  }
  const gemm_shape s = gemm_shape_of(d);
  int32_t *col = packed;
  int8_t *blocks = (int8_t *)packed + gemm_col_bytes(&s);
  const size_t k = (size_t)s.k, kp = (size_t)s.kp, block_bytes = ETPU_GEMM_BLOCK * kp;
  memset(blocks, 0, (size_t)s.groups * (size_t)s.nb * block_bytes);
  for (int32_t g = 0; g < s.groups; g++) {
    for (int32_t j = 0; j < s.nb * ETPU_GEMM_BLOCK; j++) {
      int32_t *cj = &col[(size_t)g * (size_t)s.nb * ETPU_GEMM_BLOCK + (size_t)j];
      *cj = 0;
      if (j >= s.per_group) continue;
      const size_t oc = (size_t)g * (size_t)s.per_group + (size_t)j;
      int8_t *blk = blocks + ((size_t)g * (size_t)s.nb + (size_t)j / ETPU_GEMM_BLOCK) * block_bytes;
      const size_t lane = (size_t)j % ETPU_GEMM_BLOCK;
      int64_t sum_ws = 0;
      for (size_t i = 0; i < k; i++) {
        const int32_t ws = d->is_u8 ? (int32_t)((const uint8_t *)filter)[oc * k + i] - 128
                                    : (int32_t)((const int8_t *)filter)[oc * k + i];
        blk[(i / 4) * 4 * ETPU_GEMM_BLOCK + lane * 4 + i % 4] = (int8_t)ws;
        sum_ws += ws;
      }
      /* a·Σws + K·a·b, wrapped to int32 as every sum of the kernel */
      *cj = (int32_t)(uint32_t)(uint64_t)(s.a_shift * sum_ws + (int64_t)s.k * s.a_shift * s.b_shift);
    }
  }
  return ETPU_OK;
}

/* Scratch: int32 column terms + bias, float scales, int32 multipliers and
 * shifts of every packed column (groups·NB·16, filled once per call), the tile's
 * row terms, an MR_MAX × NR_MAX int32 tile for the integer modes, then the
 * tile's uint8 A rows (none when direct). */
static size_t gemm_buffer_size(const gemm_shape *s) {
  const size_t cols = (size_t)s->groups * (size_t)s->nb * ETPU_GEMM_BLOCK;
  return cols * (3 * sizeof(int32_t) + sizeof(float)) + (size_t)s->tm * sizeof(int32_t) +
         MR_MAX * NR_MAX * sizeof(int32_t) + (s->direct ? 0 : (size_t)s->tm * (size_t)s->kp);
}

etpu_status etpu_opt_conv_pack(const etpu_opt_conv_desc *d, const void *filter, void *packed) {
  return etpu_opt_conv_pack_isa(etpu_ukernel_config_get(), d, filter, packed);
}

size_t etpu_opt_conv_get_buffer_size_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d) {
  if (d->kind == ETPU_OPT_DW) return etpu_opt_dw_buffer_size(d);
  if (cfg->gemm_s16) return etpu_opt_s16_buffer_size(d);
  const gemm_shape s = gemm_shape_of(d);
  return gemm_buffer_size(&s);
}

size_t etpu_opt_conv_get_buffer_size(const etpu_opt_conv_desc *d) {
  return etpu_opt_conv_get_buffer_size_isa(etpu_ukernel_config_get(), d);
}

size_t etpu_opt_conv_range_count_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d) {
  if (!cfg || !d || !etpu_opt_conv_supported(d, NULL)) return 0;
  if (d->kind == ETPU_OPT_DW) return etpu_opt_dw_range_count(d);
  if (cfg->gemm_s16) return etpu_opt_s16_range_count(d);
  const gemm_shape s = gemm_shape_of(d);
  return (size_t)s.tiles * (size_t)s.groups * (size_t)s.chunks;
}

size_t etpu_opt_conv_range_count(const etpu_opt_conv_desc *d) {
  return etpu_opt_conv_range_count_isa(etpu_ukernel_config_get(), d);
}

/* One im2col row in the kernel's domain: pixel (b, oy, ox), input channels
 * [ic0, ic0 + f_c) of each window position as xu (pad: the zero point
 * byte), then zeros up to kp. */
static void im2col_row(const etpu_opt_conv_desc *d, const gemm_shape *s, const void *input, int32_t b, int32_t oy,
                       int32_t ox, int32_t ic0, uint8_t *row) {
  uint8_t *const row0 = row;
  const int32_t k_h = d->f_d.h, k_w = d->f_d.w, f_c = d->f_d.c, run = k_w * f_c;
  const int32_t y0 = oy * d->stride_h - d->pad_h, x0 = ox * d->stride_w - d->pad_w;
  const uint8_t flip = d->is_u8 ? 0 : 0x80, pad = (uint8_t)-s->a_shift;
  /* A window row inside the input, undilated, all channels: contiguous. */
  const bool whole_rows = d->dilation_w == 1 && f_c == d->in_d.c && x0 >= 0 && x0 + k_w <= d->in_d.w;
  for (int32_t ky = 0; ky < k_h; ky++) {
    const int32_t iy = y0 + ky * d->dilation_h;
    if (iy < 0 || iy >= d->in_d.h) {
      memset(row, pad, (size_t)run);
      row += run;
      continue;
    }
    if (whole_rows) {
      const uint8_t *src = (const uint8_t *)input + etpu_nhwc_offset(&d->in_d, b, iy, x0);
      for (int32_t i = 0; i < run; i++) row[i] = src[i] ^ flip;
      row += run;
      continue;
    }
    for (int32_t kx = 0; kx < k_w; kx++, row += f_c) {
      const int32_t ix = x0 + kx * d->dilation_w;
      if (ix < 0 || ix >= d->in_d.w) {
        memset(row, pad, (size_t)f_c);
        continue;
      }
      const uint8_t *src = (const uint8_t *)input + (etpu_nhwc_offset(&d->in_d, b, iy, ix) + (size_t)ic0);
      for (int32_t i = 0; i < f_c; i++) row[i] = src[i] ^ flip;
    }
  }
  memset(row0 + s->k, 0, (size_t)(s->kp - s->k));
}

/* row[m] = b·Σ (a[m][i] ^ flip) over the kp bytes of each of np rows. */
static void row_terms(const uint8_t *a, size_t a_stride, uint8_t flip, int32_t kp, int32_t np, int32_t b,
                      int32_t *row) {
  for (int32_t m = 0; m < np; m++) {
    const uint8_t *r = a + (size_t)m * a_stride;
    uint32_t sum = 0;
    for (int32_t i = 0; i < kp; i++) sum += (uint32_t)(r[i] ^ flip);
    row[m] = (int32_t)(sum * (uint32_t)b);
  }
}

static void gemm_run_range(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d, const etpu_requant_params *q,
                           const void *input, const void *packed, const int32_t *bias, void *output, void *scratch,
                           size_t begin, size_t end) {
  const gemm_shape s = gemm_shape_of(d);
  const int32_t out_c = d->out_d.c, f_c = d->f_d.c, hw = d->out_d.h * d->out_d.w;
  const size_t chunk = CHUNK_BLOCKS * ETPU_GEMM_BLOCK, kp = (size_t)s.kp;
  const int32_t *packed_col = packed; /* a·Σws + K·a·b per packed column */
  const int8_t *blocks = (const int8_t *)packed + gemm_col_bytes(&s);
  const size_t cols = (size_t)s.groups * (size_t)s.nb * ETPU_GEMM_BLOCK;
  int32_t *colb = scratch;
  float *scale = (float *)(colb + cols);
  int32_t *mult = (int32_t *)(scale + cols), *shift = mult + cols;
  int32_t *rowt = shift + cols;
  int32_t *ctile = rowt + s.tm;
  uint8_t *a_tile = (uint8_t *)(ctile + MR_MAX * NR_MAX);
  const bool fp32 = q->mode == ETPU_REQUANT_FP32;
  const size_t mr_k = (size_t)cfg->gemm_mr, nr_k = (size_t)cfg->gemm_nr;
  etpu_gemm_epilogue ep = {colb, NULL, fp32 ? scale : NULL, (float)(d->activation_min - d->output_offset),
                           (float)(d->activation_max - d->output_offset), d->output_offset};
  const uint32_t a_xor = s.direct && !d->is_u8 ? 0x80808080u : 0;
  const uint8_t flip = (uint8_t)a_xor;
  /* Every packed column (g, j): bias + column terms and its requantization;
   * zeros past the group's channels. */
  for (int32_t g = 0; g < s.groups; g++)
    for (int32_t j = 0; j < s.nb * ETPU_GEMM_BLOCK; j++) {
      const size_t at = (size_t)g * (size_t)s.nb * ETPU_GEMM_BLOCK + (size_t)j;
      const int32_t oc = g * s.per_group + j;
      const bool real = j < s.per_group;
      const etpu_requant *rq = &q->channels[q->count == 1 || !real ? 0 : oc];
      colb[at] = real ? (int32_t)((uint32_t)packed_col[at] + (uint32_t)(bias ? bias[oc] : 0)) : 0;
      scale[at] = real ? rq->scale : 0.0f;
      mult[at] = rq->multiplier, shift[at] = rq->shift;
    }
  int64_t have_t = -1; /* the tile and group whose A rows and row terms are ready */
  int32_t have_g = -1;
  for (size_t u = begin; u < end; u++) {
    const int64_t t = (int64_t)(u / ((size_t)s.groups * (size_t)s.chunks));
    const int32_t g = (int32_t)(u / (size_t)s.chunks % (size_t)s.groups), ch = (int32_t)(u % (size_t)s.chunks);
    const int64_t p0 = t * s.tm;
    const int32_t np = (int32_t)(s.pixels - p0 < s.tm ? s.pixels - p0 : s.tm);
    const uint8_t *a = s.direct ? (const uint8_t *)input + (size_t)p0 * kp : a_tile;
    if (t != have_t || g != have_g) {
      if (!s.direct) {
        int32_t b = (int32_t)(p0 / hw), oy = (int32_t)(p0 % hw) / d->out_d.w, ox = (int32_t)(p0 % hw) % d->out_d.w;
        for (int32_t p = 0; p < np; p++) {
          im2col_row(d, &s, input, b, oy, ox, g * f_c, a_tile + (size_t)p * kp);
          if (++ox == d->out_d.w) {
            ox = 0;
            if (++oy == d->out_d.h) oy = 0, b++;
          }
        }
      }
      if (s.b_shift != 0) row_terms(a, kp, flip, s.kp, np, s.b_shift, rowt);
      have_t = t, have_g = g;
    }
    ep.row = s.b_shift != 0 ? rowt : NULL;
    /* The chunk's columns [col0, col0 + ncols) of group g. */
    const int32_t col0 = ch * CHUNK_BLOCKS * ETPU_GEMM_BLOCK;
    const int32_t ncols = s.per_group - col0 < (int32_t)chunk ? s.per_group - col0 : (int32_t)chunk;
    const int32_t oc0 = g * s.per_group + col0;
    const size_t c0 = (size_t)g * (size_t)s.nb * ETPU_GEMM_BLOCK + (size_t)col0; /* packed column */
    for (int32_t n0 = 0; n0 < ncols; n0 += (int32_t)nr_k) {
      const size_t nc = (size_t)(ncols - n0) < nr_k ? (size_t)(ncols - n0) : nr_k;
      const int8_t *w = blocks + ((size_t)g * (size_t)s.nb + (size_t)(col0 + n0) / ETPU_GEMM_BLOCK) *
                                     ETPU_GEMM_BLOCK * kp;
      ep.col = colb + c0 + n0;
      ep.scale = fp32 ? scale + c0 + n0 : NULL;
      for (int32_t m0 = 0; m0 < np; m0 += (int32_t)mr_k) {
        const size_t mr = (size_t)(np - m0) < mr_k ? (size_t)(np - m0) : mr_k;
        uint8_t *o = (uint8_t *)output + (size_t)(p0 + m0) * (size_t)out_c + (size_t)(oc0 + n0);
        ep.row = s.b_shift != 0 ? rowt + m0 : NULL;
        if (fp32) {
          cfg->gemm(mr, nc, kp, a + (size_t)m0 * kp, kp, a_xor, w, ETPU_GEMM_BLOCK * kp, &ep, o, (size_t)out_c);
          continue;
        }
        cfg->gemm(mr, nc, kp, a + (size_t)m0 * kp, kp, a_xor, w, ETPU_GEMM_BLOCK * kp, &ep, ctile,
                  NR_MAX * sizeof(int32_t));
        for (size_t m = 0; m < mr; m++)
          cfg->requant_q31(ctile + m * NR_MAX, nc, mult + c0 + n0, shift + c0 + n0, (int)q->mode, d->output_offset,
                           d->activation_min, d->activation_max, o + m * (size_t)out_c);
      }
    }
  }
}

/* The checks of etpu_opt_conv_run and _run_range. */
static etpu_status check_run(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d, const etpu_requant_params *quant, const void *input,
                             const void *packed, const int32_t *bias, void *output, void *scratch,
                             size_t scratch_bytes, size_t begin, size_t end) {
  static const char kname[] = "opt conv";
  if (!d || !quant || !input || !packed || !output || !scratch)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL descriptor or data pointer", kname);
  if (!etpu_opt_conv_supported(d, bias))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: the layer is not one the optimized kernels take", kname);
  etpu_status st = etpu_kcheck_quant(kname, quant, d->out_d.c);
  if (st != ETPU_OK) return st;
  const size_t need = etpu_opt_conv_get_buffer_size_isa(cfg, d);
  if (scratch_bytes < need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes, the layer needs %zu", kname, scratch_bytes,
                     need);
  if ((uintptr_t)scratch % sizeof(int32_t) != 0 || (uintptr_t)packed % sizeof(int32_t) != 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch or packed weights not int32-aligned", kname);
  const size_t units = etpu_opt_conv_range_count_isa(cfg, d);
  if (begin > end || end > units)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: range [%zu, %zu) outside the layer's %zu units", kname, begin, end,
                     units);
  return ETPU_OK;
}

etpu_status etpu_opt_conv_run_range_isa(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d,
                                        const etpu_requant_params *quant, const void *input, const void *packed,
                                        const int32_t *bias, void *output, void *scratch, size_t scratch_bytes,
                                        size_t begin, size_t end) {
  if (!cfg) return etpu_fail(ETPU_INVALID_ARGUMENT, "opt conv: no micro-kernel table");
  etpu_status st = check_run(cfg, d, quant, input, packed, bias, output, scratch, scratch_bytes, begin, end);
  if (st != ETPU_OK) return st;
  if (d->kind == ETPU_OPT_DW)
    etpu_opt_dw_run(cfg, d, quant, input, packed, bias, output, scratch, begin, end);
  else if (cfg->gemm_s16)
    etpu_opt_s16_run(cfg, d, quant, input, packed, bias, output, scratch, begin, end);
  else
    gemm_run_range(cfg, d, quant, input, packed, bias, output, scratch, begin, end);
  return ETPU_OK;
}

etpu_status etpu_opt_conv_run_range(const etpu_opt_conv_desc *d, const etpu_requant_params *quant, const void *input,
                                    const void *packed, const int32_t *bias, void *output, void *scratch,
                                    size_t scratch_bytes, size_t begin, size_t end) {
  return etpu_opt_conv_run_range_isa(etpu_ukernel_config_get(), d, quant, input, packed, bias, output, scratch,
                                     scratch_bytes, begin, end);
}

etpu_status etpu_opt_conv_run(const etpu_opt_conv_desc *d, const etpu_requant_params *quant, const void *input,
                              const void *packed, const int32_t *bias, void *output, void *scratch,
                              size_t scratch_bytes) {
  return etpu_opt_conv_run_range(d, quant, input, packed, bias, output, scratch, scratch_bytes, 0,
                                 etpu_opt_conv_range_count(d));
}
void etpu_opt_requant_scales(const etpu_requant_params *q, int32_t n_ch, int32_t reps, float *scale) {
  if (q->count == 1) return; /* per tensor: etpu_opt_requant_row reads the one scale itself */
  for (int32_t p = 0; p < reps; p++)
    for (int32_t c = 0; c < n_ch; c++)
      scale[(size_t)p * (size_t)n_ch + (size_t)c] = q->channels[q->count == 1 ? 0 : c].scale;
}

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

