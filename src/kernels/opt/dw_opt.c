/*
 * dw_opt.c — the optimized integer DEPTHWISE_CONV_2D of opt.h: vectorized
 * along an output row, over a run of pixels and all their channels at once.
 *
 * The input rows a window needs are widened once into int16 rows of the
 * padded width PW = (out_w − 1)·stride_w + (KW − 1)·dilation_w + 1, holding
 * x + input_offset for output channel oc (input channel oc / multiplier) and
 * 0 where the window leaves the input (the reference skips those positions,
 * which adds the same 0). A row is stored as stride_w phases of
 * P = ⌈PW / stride_w⌉ pixels (phase f holds pixels f, f + stride_w, …), so
 * the input pixels tap kx reads for consecutive output pixels are
 * consecutive: phase (kx·dilation_w) mod stride_w from pixel
 * ⌊kx·dilation_w / stride_w⌋ + ox on. KH row slots are reused from one output
 * row to the next (a row is widened once per stride step, not once per tap);
 * rows above or below the input are skipped (they would add 0).
 *
 * An output row is taken in segments of L = ⌊SEG_VALS / C_out⌋ pixels (1 to
 * out_w): the packed weights repeat each tap's C_out weights L times
 * ([KH][KW][L][C_out]), so a tap is one flat loop of L·C_out products
 * acc[i] += x[i]·w[i] however few the channels (8 on MobileNet v1 0.25's
 * first layers), in int32. SEG_VALS = 2048 (a tap's packed weights 4 KiB)
 * measured best: longer loops amortize each call, and MobileNet v2's
 * 96 to 576 channels gain as much as v1's 8 to 128; past it nothing changes.
 * A whole output row is summed, then requantized at once (a flat loop that
 * vectorizes even for few channels), exactly as the reference.
 *
 * The tap loops and the requantization of a row are the micro-kernels of
 * the chosen ISA (ukernel.h: dw_taps3/dw_taps1, requant_fp32, requant_q31).
 * Units of work (etpu_opt_conv_run_range) are output rows; the row slots
 * start empty at each call, so any split of the rows gives the same bytes.
 *
 * Scratch, 32-bit words first: acc[out_w·C_out], bias[L·C_out], tag[KH],
 * used[KH], slot_of[KH], float scale[out_w·C_out], int32 multipliers and
 * shifts [out_w·C_out] (the integer modes), then KH int16 rows of
 * stride_w·P·C_out.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/opt/opt_internal.h"

enum { SEG_VALS = 2048 };

static int32_t padded_width(const etpu_opt_conv_desc *d) {
  return (d->out_d.w - 1) * d->stride_w + (d->f_d.w - 1) * d->dilation_w + 1;
}

/* Pixels of one phase of a widened row. */
static int32_t phase_len(const etpu_opt_conv_desc *d) { return (padded_width(d) + d->stride_w - 1) / d->stride_w; }

/* Output pixels per segment, L. */
static int32_t seg_pixels(const etpu_opt_conv_desc *d) {
  const int32_t l = SEG_VALS / d->out_d.c;
  return l < 1 ? 1 : l > d->out_d.w ? d->out_d.w : l;
}

static size_t int32_words(const etpu_opt_conv_desc *d) {
  return (4 * (size_t)d->out_d.w + (size_t)seg_pixels(d)) * (size_t)d->out_d.c + 3 * (size_t)d->f_d.h;
}

size_t etpu_opt_dw_buffer_size(const etpu_opt_conv_desc *d) {
  return int32_words(d) * sizeof(int32_t) + (size_t)d->f_d.h * (size_t)d->stride_w * (size_t)phase_len(d) *
                                                (size_t)d->out_d.c * sizeof(int16_t);
}

size_t etpu_opt_dw_packed_count(const etpu_opt_conv_desc *d) {
  return (size_t)d->f_d.h * (size_t)d->f_d.w * (size_t)seg_pixels(d) * (size_t)d->out_d.c;
}

void etpu_opt_dw_pack(const etpu_opt_conv_desc *d, const void *filter, int16_t *packed) {
  const size_t out_c = (size_t)d->out_d.c, taps = (size_t)d->f_d.h * (size_t)d->f_d.w;
  const size_t l = (size_t)seg_pixels(d);
  for (size_t t = 0; t < taps; t++)
    for (size_t p = 0; p < l; p++, packed += out_c)
      for (size_t c = 0; c < out_c; c++)
        packed[c] = (int16_t)((d->is_u8 ? (int32_t)((const uint8_t *)filter)[t * out_c + c]
                                        : (int32_t)((const int8_t *)filter)[t * out_c + c]) +
                              d->filter_offset);
}

/* Widen input row (b, iy) into r0: stride_w phases of P positions of C_out
 * channels. Stride 1 and multiplier 1: the interior is one flat copy. */
static void widen_row(const etpu_opt_conv_desc *d, const void *input, int32_t b, int32_t iy, int16_t *restrict r0) {
  const int32_t pw = padded_width(d), out_c = d->out_d.c, mult = d->depth_multiplier, pad = d->pad_w;
  const int32_t off = d->input_offset, sw = d->stride_w, plen = phase_len(d), in_w = d->in_d.w;
  const uint8_t *row_in = (const uint8_t *)input + etpu_nhwc_offset(&d->in_d, b, iy, 0); /* int8 alike */
  if (sw == 1 && mult == 1) {
    const int32_t lo = pad < pw ? pad : pw, hi = pad + in_w < pw ? pad + in_w : pw;
    memset(r0, 0, (size_t)lo * (size_t)out_c * sizeof *r0);
    if (hi > lo)
      etpu_opt_widen(r0 + (size_t)lo * (size_t)out_c, row_in, (hi - lo) * out_c, off, d->is_u8);
    const int32_t end = hi > lo ? hi : lo;
    memset(r0 + (size_t)end * (size_t)out_c, 0, (size_t)(pw - end) * (size_t)out_c * sizeof *r0);
    return;
  }
  for (int32_t f = 0; f < sw; f++) {
    int16_t *restrict r = r0 + (size_t)f * (size_t)plen * (size_t)out_c;
    for (int32_t px = f; px < pw; px += sw, r += out_c) {
      const int32_t ix = px - pad;
      if (ix < 0 || ix >= in_w) {
        memset(r, 0, (size_t)out_c * sizeof *r);
        continue;
      }
      const size_t at = (size_t)ix * (size_t)d->in_d.c;
      if (mult == 1) {
        etpu_opt_widen(r, row_in + at, out_c, off, d->is_u8);
      } else if (d->is_u8) {
        const uint8_t *restrict s = row_in + at;
        for (int32_t c = 0; c < out_c; c++) r[c] = (int16_t)(s[c / mult] + off);
      } else {
        const int8_t *restrict s = (const int8_t *)(row_in + at);
        for (int32_t c = 0; c < out_c; c++) r[c] = (int16_t)(s[c / mult] + off);
      }
    }
  }
}

void etpu_opt_dw_run(const etpu_ukernel_config *cfg, const etpu_opt_conv_desc *d, const etpu_requant_params *q,
                     const void *input, const int16_t *packed, const int32_t *bias, void *output, void *scratch,
                     size_t begin, size_t end) {
  const int32_t out_c = d->out_d.c, k_h = d->f_d.h, k_w = d->f_d.w, out_w = d->out_d.w;
  const int32_t seg = seg_pixels(d), plen = phase_len(d), sw = d->stride_w;
  const size_t row_vals = (size_t)sw * (size_t)plen * (size_t)out_c;
  const size_t tap_vals = (size_t)seg * (size_t)out_c; /* packed values of one tap */
  const int32_t row_n = out_w * out_c; /* values of an output row */
  int32_t *acc_row = scratch;
  int32_t *bias_seg = acc_row + row_n;
  int32_t *tag = bias_seg + tap_vals, *used = tag + k_h, *slot_of = used + k_h;
  float *scale = (float *)(slot_of + k_h);
  int32_t *mult = (int32_t *)(scale + (size_t)out_w * (size_t)out_c), *shift = mult + (size_t)out_w * (size_t)out_c;
  etpu_opt_requant_scales(q, out_c, out_w, scale);
  const bool fp32_kernel = q->mode == ETPU_REQUANT_FP32 && cfg->requant_fp32;
  if (fp32_kernel && q->count == 1) /* the kernel reads one scale per value */
    for (size_t i = 0; i < (size_t)out_w * (size_t)out_c; i++) scale[i] = q->channels[0].scale;
  if (q->mode != ETPU_REQUANT_FP32)
    for (size_t i = 0; i < (size_t)out_w * (size_t)out_c; i++) {
      const etpu_requant *rq = &q->channels[q->count == 1 ? 0 : i % (size_t)out_c];
      mult[i] = rq->multiplier, shift[i] = rq->shift;
    }
  const bool nearest = etpu_opt_round_to_nearest();
  int16_t *rows = (int16_t *)(acc_row + int32_words(d));
  for (int32_t s = 0; s < k_h; s++) tag[s] = -1;
  for (int32_t p = 0; p < seg; p++)
    for (int32_t c = 0; c < out_c; c++) bias_seg[(size_t)p * (size_t)out_c + (size_t)c] = bias ? bias[c] : 0;
  const int32_t zp = d->output_offset, amin = d->activation_min, amax = d->activation_max;
  for (size_t unit = begin; unit < end; unit++) {
    const int32_t b = (int32_t)(unit / (size_t)d->out_d.h), oy = (int32_t)(unit % (size_t)d->out_d.h);
    uint8_t *out = (uint8_t *)output + unit * (size_t)row_n;
    {
      /* Find or widen the KH input rows of this output row. */
      const int32_t y0 = oy * d->stride_h - d->pad_h;
      for (int32_t s = 0; s < k_h; s++) used[s] = 0;
      for (int32_t ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * d->dilation_h;
        slot_of[ky] = -1;
        if (iy < 0 || iy >= d->in_d.h) continue;
        const int32_t want = b * d->in_d.h + iy;
        for (int32_t s = 0; s < k_h; s++)
          if (tag[s] == want) slot_of[ky] = s, used[s] = 1;
      }
      for (int32_t ky = 0; ky < k_h; ky++) {
        const int32_t iy = y0 + ky * d->dilation_h;
        if (iy < 0 || iy >= d->in_d.h || slot_of[ky] >= 0) continue;
        int32_t s = 0;
        while (used[s]) s++; /* KH slots, at most KH distinct rows: one is free */
        widen_row(d, input, b, iy, rows + (size_t)s * row_vals);
        tag[s] = b * d->in_d.h + iy;
        used[s] = 1;
        slot_of[ky] = s;
      }
      for (int32_t ox0 = 0; ox0 < out_w; ox0 += seg) {
        const int32_t n = (out_w - ox0 < seg ? out_w - ox0 : seg) * out_c;
        int32_t *acc = acc_row + (size_t)ox0 * (size_t)out_c;
        memcpy(acc, bias_seg, (size_t)n * sizeof *acc);
        for (int32_t ky = 0; ky < k_h; ky++) {
          if (slot_of[ky] < 0) continue; /* a row outside the input adds nothing */
          const int16_t *xr = rows + (size_t)slot_of[ky] * row_vals;
          const int16_t *w = packed + (size_t)ky * (size_t)k_w * tap_vals;
          /* Tap kx: phase (kx·dilation) mod stride, from pixel ox0 + (kx·dilation) / stride. */
          const int16_t *x[3];
          int32_t kx = 0;
          for (; kx < k_w; kx++) {
            const int32_t at = kx * d->dilation_w;
            x[kx % 3] = xr + ((size_t)(at % sw) * (size_t)plen + (size_t)(ox0 + at / sw)) * (size_t)out_c;
            if (kx % 3 == 2)
              cfg->dw_taps3(acc, x[0], x[1], x[2], w + (size_t)(kx - 2) * tap_vals, w + (size_t)(kx - 1) * tap_vals,
                    w + (size_t)kx * tap_vals, n);
          }
          for (int32_t t = k_w - k_w % 3; t < k_w; t++) cfg->dw_taps1(acc, x[t % 3], w + (size_t)t * tap_vals, n);
        }
      }
      if (fp32_kernel)
        cfg->requant_fp32(acc_row, (size_t)row_n, scale, (float)(amin - zp), (float)(amax - zp), zp, out);
      else if (q->mode == ETPU_REQUANT_FP32)
        etpu_opt_requant_row(acc_row, q, scale, nearest, row_n, out_c, zp, amin, amax, out);
      else
        cfg->requant_q31(acc_row, (size_t)row_n, mult, shift, (int)q->mode, zp, amin, amax, out);
    }
  }
}
