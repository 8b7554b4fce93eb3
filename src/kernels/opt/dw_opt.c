/*
 * dw_opt.c — the optimized integer DEPTHWISE_CONV_2D of opt.h: vectorized
 * over the output channels of an NHWC pixel.
 *
 * The input rows a window needs are widened once into int16 rows of the
 * padded width PW = (out_w − 1)·stride_w + (KW − 1)·dilation_w + 1, holding
 * x + input_offset for output channel oc (input channel oc / multiplier) and
 * 0 where the window leaves the input (the reference skips those positions,
 * which adds the same 0). KH row slots are reused from one output row to the
 * next (a row is widened once per stride step, not once per tap); rows above
 * or below the input are skipped (they would add 0). Each output pixel is then
 * bias + Σ taps x·w over contiguous int16 channels, in int32, requantized
 * per value exactly as the reference.
 *
 * A whole output row is summed, then requantized at once (a flat loop that
 * vectorizes even for few channels).
 *
 * Scratch, 32-bit words first: acc[out_w·C_out], tag[KH], used[KH],
 * slot_of[KH], float scale[out_w·C_out], then KH int16 rows of PW·C_out.
 */
#include <string.h>

#include "kernels/kernel_util.h"
#include "kernels/opt/opt_internal.h"

static int32_t padded_width(const etpu_opt_conv_desc *d) {
  return (d->out_d.w - 1) * d->stride_w + (d->f_d.w - 1) * d->dilation_w + 1;
}

static size_t int32_words(const etpu_opt_conv_desc *d) {
  return 2 * (size_t)d->out_d.w * (size_t)d->out_d.c + 3 * (size_t)d->f_d.h;
}

size_t etpu_opt_dw_buffer_size(const etpu_opt_conv_desc *d) {
  return int32_words(d) * sizeof(int32_t) +
         (size_t)d->f_d.h * (size_t)padded_width(d) * (size_t)d->out_d.c * sizeof(int16_t);
}

/* Widen input row (b, iy) into r: PW positions of C_out channels. */
static void widen_row(const etpu_opt_conv_desc *d, const void *input, int32_t b, int32_t iy, int16_t *restrict r) {
  const int32_t pw = padded_width(d), out_c = d->out_d.c, in_c = d->in_d.c, mult = d->depth_multiplier;
  const int32_t off = d->input_offset;
  for (int32_t px = 0; px < pw; px++, r += out_c) {
    const int32_t ix = px - d->pad_w;
    if (ix < 0 || ix >= d->in_d.w) {
      memset(r, 0, (size_t)out_c * sizeof *r);
      continue;
    }
    const size_t at = etpu_nhwc_offset(&d->in_d, b, iy, ix);
    if (d->is_u8) {
      const uint8_t *restrict s = (const uint8_t *)input + at;
      if (mult == 1)
        for (int32_t c = 0; c < in_c; c++) r[c] = (int16_t)(s[c] + off);
      else
        for (int32_t c = 0; c < out_c; c++) r[c] = (int16_t)(s[c / mult] + off);
    } else {
      const int8_t *restrict s = (const int8_t *)input + at;
      if (mult == 1)
        for (int32_t c = 0; c < in_c; c++) r[c] = (int16_t)(s[c] + off);
      else
        for (int32_t c = 0; c < out_c; c++) r[c] = (int16_t)(s[c / mult] + off);
    }
  }
}

/* acc[c] += x0[c]·w0[c] + x1[c]·w1[c] + x2[c]·w2[c]: one window row of 3. */
static void taps3(int32_t *restrict acc, const int16_t *restrict x0, const int16_t *restrict x1,
                  const int16_t *restrict x2, const int16_t *restrict w0, const int16_t *restrict w1,
                  const int16_t *restrict w2, int32_t n) {
  for (int32_t c = 0; c < n; c++) acc[c] += x0[c] * w0[c] + x1[c] * w1[c] + x2[c] * w2[c];
}

/* acc[c] += x[c]·w[c]. */
static void taps1(int32_t *restrict acc, const int16_t *restrict x, const int16_t *restrict w, int32_t n) {
  for (int32_t c = 0; c < n; c++) acc[c] += x[c] * w[c];
}

void etpu_opt_dw_run(const etpu_opt_conv_desc *d, const etpu_requant_params *q, const void *input,
                     const int16_t *packed, const int32_t *bias, void *output, void *scratch) {
  const int32_t out_c = d->out_d.c, k_h = d->f_d.h, k_w = d->f_d.w, pw = padded_width(d);
  const size_t row_vals = (size_t)pw * (size_t)out_c;
  const int32_t row_n = d->out_d.w * out_c; /* values of an output row */
  int32_t *acc_row = scratch;
  int32_t *tag = acc_row + row_n, *used = tag + k_h, *slot_of = used + k_h;
  float *scale = (float *)(slot_of + k_h);
  etpu_opt_requant_scales(q, out_c, d->out_d.w, scale);
  const bool nearest = etpu_opt_round_to_nearest();
  int16_t *rows = (int16_t *)(acc_row + int32_words(d));
  for (int32_t s = 0; s < k_h; s++) tag[s] = -1;
  const int32_t zp = d->output_offset, amin = d->activation_min, amax = d->activation_max;
  const int32_t xstep = d->stride_w * out_c, kstep = d->dilation_w * out_c;
  uint8_t *out = output;
  for (int32_t b = 0; b < d->in_d.n; b++) {
    for (int32_t oy = 0; oy < d->out_d.h; oy++) {
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
      for (int32_t ox = 0; ox < d->out_d.w; ox++) {
        int32_t *acc = acc_row + (size_t)ox * (size_t)out_c;
        if (bias)
          memcpy(acc, bias, (size_t)out_c * sizeof *acc);
        else
          memset(acc, 0, (size_t)out_c * sizeof *acc);
        for (int32_t ky = 0; ky < k_h; ky++) {
          if (slot_of[ky] < 0) continue; /* a row outside the input adds nothing */
          const int16_t *x = rows + (size_t)slot_of[ky] * row_vals + (size_t)ox * (size_t)xstep;
          const int16_t *w = packed + (size_t)ky * (size_t)k_w * (size_t)out_c;
          int32_t kx = 0;
          for (; kx + 3 <= k_w; kx += 3)
            taps3(acc, x + (size_t)kx * (size_t)kstep, x + (size_t)(kx + 1) * (size_t)kstep,
                  x + (size_t)(kx + 2) * (size_t)kstep, w + (size_t)kx * (size_t)out_c,
                  w + (size_t)(kx + 1) * (size_t)out_c, w + (size_t)(kx + 2) * (size_t)out_c, out_c);
          for (; kx < k_w; kx++) taps1(acc, x + (size_t)kx * (size_t)kstep, w + (size_t)kx * (size_t)out_c, out_c);
        }
      }
      etpu_opt_requant_row(acc_row, q, scale, nearest, row_n, out_c, zp, amin, amax, out);
      out += row_n;
    }
  }
}
