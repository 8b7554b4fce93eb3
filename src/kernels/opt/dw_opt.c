/*
 * dw_opt.c — the optimized integer DEPTHWISE_CONV_2D of opt.h: the driver of
 * the fused depthwise micro-kernels (ukernel.h, etpu_dw_ukernel), which sum
 * each tap straight from the input bytes and requantize in registers.
 *
 * Arithmetic. The reference sums (x + input_offset)·(w + filter_offset) over
 * the window positions inside the input. With w' = w + filter_offset,
 *   Σ_t (x_t + input_offset)·w'_t = Σ_t x_t·w'_t + input_offset·Σ_t w'_t,
 * so the kernel sums x·w' over all KH·KW taps of every pixel and starts from
 * bias + input_offset·Σ_t w'_t (the correction packed once per channel,
 * beside the weights). A tap in the padding points at a buffer of the input
 * zero point, x = −input_offset, whose product −input_offset·w'_t cancels
 * its share of the correction: it adds 0, as the reference's skipped
 * position does, at every edge, for rows and columns alike. All sums wrap in
 * int32 and are exact because the true result fits (etpu_opt_conv_supported).
 *
 * Indirection (XNNPACK's dwconv shape). For a run of output pixels of one
 * output row the driver writes the input pointer of every tap, column-major:
 * column j holds KH pointers (ky = 0 .. KH − 1). Undilated, column j is
 * input column ox0·stride_w − pad_w + j and pixel ox's taps are the KH·KW
 * pointers from column (ox − ox0)·stride_w on, so neighbours share pointers
 * (ind_step = stride_w·KH); dilated, each pixel has its own KW columns
 * (ind_step = KW·KH). Taps are in the order kx·KH + ky, the packed order.
 * A run holds at most IND_MAX pointers (at least one pixel's).
 *
 * Depth multiplier > 1 (rare: the generic path): the KH input rows of an
 * output row are first expanded to C_out channels (x[c / multiplier]) in
 * scratch, and the pointers address those copies.
 *
 * Requantization: litert's fp32 mode inside the kernel (bytes out) from the
 * avx2 level on; below it (portable C, whose in-kernel rounding is the slow
 * truncate-and-compare form) the kernel stores int32 sums and
 * etpu_opt_requant_row's round-to-nearest fast path turns each pixel's into
 * bytes, as before the fused kernel; the
 * integer modes (tflite-ref) take the kernel's int32 sums of a whole output
 * row and requantize them with the ISA's requant_q31 kernel.
 *
 * Packed (bytes, int32-aligned): int32 corr[C16] (input_offset·Σ_t w'_t,
 * wrapped; 0 past C_out), then int16 w'[C16/16][KH·KW][16] (zero past
 * C_out), C16 = C_out rounded up to 16.
 *
 * Units (etpu_opt_conv_run_range): output rows × channel groups, a row's
 * ⌈C16/16⌉ tiles split into ⌈tiles / GROUP_TILES⌉ near-equal groups (one
 * group up to 256 channels), so that the 7×7 and 14×14 layers of 384 to 960
 * channels split into enough units for the threads; each call fills its own
 * tables, so any split of the units gives the same bytes.
 *
 * Scratch (from a pointer-aligned start): IND_MAX or taps pointers, KH row
 * pointers; int32
 * bias'[C16]; float scale[C16]; the integer modes' int32 row of sums and
 * multipliers and shifts [out_w·C_out] each; the zero-point bytes [C16];
 * with a multiplier, KH expanded rows of in_w·C_out bytes.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/opt/opt_internal.h"

enum { IND_MAX = 4096, TILE = 16, GROUP_TILES = 16 };

static size_t c16(const etpu_opt_conv_desc *d) { return ((size_t)d->out_d.c + TILE - 1) / TILE * TILE; }
static size_t taps_of(const etpu_opt_conv_desc *d) { return (size_t)d->f_d.h * (size_t)d->f_d.w; }

/* Channel groups of an output row, and group g's first tile. */
static size_t groups_of(const etpu_opt_conv_desc *d) { return (c16(d) / TILE + GROUP_TILES - 1) / GROUP_TILES; }
static size_t group_tile(const etpu_opt_conv_desc *d, size_t g) { return g * (c16(d) / TILE) / groups_of(d); }

size_t etpu_opt_dw_range_count(const etpu_opt_conv_desc *d) {
  return (size_t)d->out_d.n * (size_t)d->out_d.h * groups_of(d);
}

/* Pointers in scratch: a run of pixels, at least one pixel's taps. */
static size_t ind_cap(const etpu_opt_conv_desc *d) { return taps_of(d) > IND_MAX ? taps_of(d) : IND_MAX; }

size_t etpu_opt_dw_buffer_size(const etpu_opt_conv_desc *d) {
  const size_t row = (size_t)d->out_d.w * (size_t)d->out_d.c;
  size_t n = sizeof(void *) + (ind_cap(d) + (size_t)d->f_d.h) * sizeof(void *) + c16(d) * (2 * sizeof(int32_t) + 1) +
             3 * row * sizeof(int32_t);
  if (d->depth_multiplier > 1) n += (size_t)d->f_d.h * (size_t)d->in_d.w * (size_t)d->out_d.c;
  return n;
}

size_t etpu_opt_dw_packed_bytes(const etpu_opt_conv_desc *d) {
  return c16(d) * sizeof(int32_t) + c16(d) * taps_of(d) * sizeof(int16_t);
}

void etpu_opt_dw_pack(const etpu_opt_conv_desc *d, const void *filter, void *packed) {
  const size_t out_c = (size_t)d->out_d.c, taps = taps_of(d), n16 = c16(d);
  const size_t k_h = (size_t)d->f_d.h, k_w = (size_t)d->f_d.w;
  int32_t *corr = packed;
  int16_t *w = (int16_t *)(corr + n16);
  memset(w, 0, n16 * taps * sizeof *w);
  for (size_t c = 0; c < n16; c++) {
    uint32_t sum = 0;
    for (size_t kx = 0; kx < k_w && c < out_c; kx++)
      for (size_t ky = 0; ky < k_h; ky++) {
        const size_t src = (ky * k_w + kx) * out_c + c; /* filter [1][KH][KW][C_out] */
        const int32_t v = (d->is_u8 ? (int32_t)((const uint8_t *)filter)[src] : (int32_t)((const int8_t *)filter)[src]) +
                          d->filter_offset;
        w[(c / TILE * taps + kx * k_h + ky) * TILE + c % TILE] = (int16_t)v;
        sum += (uint32_t)v;
      }
    corr[c] = (int32_t)(sum * (uint32_t)d->input_offset);
  }
}

/* Expand input row (b, iy) to C_out channels: dst[ix·C_out + c] = x[c / mult]. */
static void expand_row(const etpu_opt_conv_desc *d, const void *input, int32_t b, int32_t iy, uint8_t *dst) {
  const uint8_t *src = (const uint8_t *)input + etpu_nhwc_offset(&d->in_d, b, iy, 0);
  const int32_t mult = d->depth_multiplier, out_c = d->out_d.c, in_c = d->in_d.c;
  for (int32_t ix = 0; ix < d->in_d.w; ix++, src += in_c, dst += out_c)
    for (int32_t c = 0; c < out_c; c++) dst[c] = src[c / mult];
}

void etpu_opt_dw_run(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d, const etpu_requant_params *q,
                     const void *input, const void *packed, const int32_t *bias, void *output, void *scratch,
                     size_t begin, size_t end) {
  const int32_t out_c = d->out_d.c, k_h = d->f_d.h, k_w = d->f_d.w, out_w = d->out_d.w, in_w = d->in_d.w;
  const size_t taps = taps_of(d), n16 = c16(d), row_n = (size_t)out_w * (size_t)out_c;
  const bool dilated = d->dilation_w > 1, expand = d->depth_multiplier > 1;
  const size_t ind_step = (size_t)(dilated ? k_w : d->stride_w) * (size_t)k_h;
  /* Pixels per run: its columns ((n − 1)·step + KW for undilated) fit IND_MAX. */
  size_t run_px = dilated ? ind_cap(d) / taps : (ind_cap(d) / (size_t)k_h - (size_t)k_w) / (size_t)d->stride_w + 1;
  if (run_px < 1) run_px = 1;
  if (run_px > (size_t)out_w) run_px = (size_t)out_w;

  uintptr_t at = ((uintptr_t)scratch + sizeof(void *) - 1) & ~(uintptr_t)(sizeof(void *) - 1);
  const uint8_t **ind = (const uint8_t **)at;
  const uint8_t **row_ptr = ind + ind_cap(d); /* per ky: the input row, or NULL outside */
  int32_t *bias_k = (int32_t *)(row_ptr + k_h);
  float *scale = (float *)(bias_k + n16);
  int32_t *acc_row = (int32_t *)(scale + n16), *mult = acc_row + row_n, *shift = mult + row_n;
  uint8_t *zero = (uint8_t *)(shift + row_n);
  uint8_t *rows = zero + n16; /* expanded rows, with a multiplier */

  const int32_t *corr = packed;
  for (size_t c = 0; c < n16; c++) {
    const bool real = c < (size_t)out_c;
    bias_k[c] = real ? (int32_t)((uint32_t)corr[c] + (uint32_t)(bias ? bias[c] : 0)) : 0;
    scale[c] = real ? q->channels[q->count == 1 ? 0 : c].scale : 0.0f;
  }
#ifdef ETPU_UKERNEL_X86
  const bool vector_requant = cfg->isa >= ETPU_ISA_AVX2; /* the AVX2 and AVX-512 kernels requantize themselves */
#else
  const bool vector_requant = false; /* the portable kernel (every ARM level today) stores int32 sums */
#endif
  const bool fp32 = q->mode == ETPU_REQUANT_FP32, fp32_in_kernel = fp32 && vector_requant;
  const bool nearest = fp32 && !fp32_in_kernel && etpu_opt_round_to_nearest();
  if (!fp32)
    for (size_t i = 0; i < row_n; i++) {
      const etpu_requant *rq = &q->channels[q->count == 1 ? 0 : i % (size_t)out_c];
      mult[i] = rq->multiplier, shift[i] = rq->shift;
    }
  memset(zero, (uint8_t)(-d->input_offset), n16);
  const int16_t *weights = (const int16_t *)(corr + n16);
  const size_t px_stride = expand ? (size_t)out_c : (size_t)d->in_d.c, groups = groups_of(d);
  for (size_t unit = begin; unit < end; unit++) {
    const size_t row = unit / groups, g = unit % groups;
    const int32_t b = (int32_t)(row / (size_t)d->out_d.h), oy = (int32_t)(row % (size_t)d->out_d.h);
    uint8_t *out = (uint8_t *)output + row * row_n;
    /* Channels [g0, g1) of the row. */
    const size_t g0 = group_tile(d, g) * TILE, g1_tile = group_tile(d, g + 1) * TILE;
    const size_t g1 = g1_tile < (size_t)out_c ? g1_tile : (size_t)out_c;
    const etpu_dw_ukernel_params p = {g1 - g0, (size_t)out_c, taps, !d->is_u8, bias_k + g0, weights + g0 * taps,
                                      fp32_in_kernel ? scale + g0 : NULL, (float)(d->activation_min - d->output_offset),
                                      (float)(d->activation_max - d->output_offset), d->output_offset};
    const int32_t y0 = oy * d->stride_h - d->pad_h;
    for (int32_t ky = 0; ky < k_h; ky++) {
      const int32_t iy = y0 + ky * d->dilation_h;
      row_ptr[ky] = NULL;
      if (iy < 0 || iy >= d->in_d.h) continue;
      if (expand) {
        uint8_t *r = rows + (size_t)ky * (size_t)in_w * (size_t)out_c;
        expand_row(d, input, b, iy, r);
        row_ptr[ky] = r;
      } else {
        row_ptr[ky] = (const uint8_t *)input + etpu_nhwc_offset(&d->in_d, b, iy, 0);
      }
    }
    for (int32_t ox0 = 0; ox0 < out_w; ox0 += (int32_t)run_px) {
      const size_t n = (size_t)(out_w - ox0) < run_px ? (size_t)(out_w - ox0) : run_px;
      const size_t cols = dilated ? n * (size_t)k_w : (n - 1) * (size_t)d->stride_w + (size_t)k_w;
      for (size_t j = 0; j < cols; j++) {
        const int32_t ix = dilated ? (ox0 + (int32_t)(j / (size_t)k_w)) * d->stride_w - d->pad_w +
                                         (int32_t)(j % (size_t)k_w) * d->dilation_w
                                   : ox0 * d->stride_w - d->pad_w + (int32_t)j;
        const bool in_x = ix >= 0 && ix < in_w;
        const uint8_t **col = ind + j * (size_t)k_h;
        for (int32_t ky = 0; ky < k_h; ky++)
          col[ky] = (row_ptr[ky] && in_x ? row_ptr[ky] + (size_t)ix * px_stride : zero) + g0;
      }
      if (fp32_in_kernel)
        cfg->dw(&p, n, ind, ind_step, out + (size_t)ox0 * (size_t)out_c + g0);
      else
        cfg->dw(&p, n, ind, ind_step, acc_row + (size_t)ox0 * (size_t)out_c + g0);
    }
    if (fp32_in_kernel) continue;
    if (fp32) {
      for (size_t px = 0; px < (size_t)out_w; px++) {
        const size_t v = px * (size_t)out_c + g0;
        etpu_opt_requant_row(acc_row + v, q, scale + g0, nearest, (int32_t)(g1 - g0), (int32_t)(g1 - g0),
                             d->output_offset, d->activation_min, d->activation_max, out + v);
      }
      continue;
    }
    if (groups == 1) {
      cfg->requant_q31(acc_row, row_n, mult, shift, (int)q->mode, d->output_offset, d->activation_min,
                       d->activation_max, out);
      continue;
    }
    for (size_t px = 0; px < (size_t)out_w; px++) {
      const size_t v = px * (size_t)out_c + g0;
      cfg->requant_q31(acc_row + v, g1 - g0, mult + v, shift + v, (int)q->mode, d->output_offset,
                       d->activation_min, d->activation_max, out + v);
    }
  }
}
