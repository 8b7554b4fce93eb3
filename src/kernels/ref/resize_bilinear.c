/*
 * resize_bilinear.c — RESIZE_BILINEAR in the three arithmetics of resize.h:
 * TFLite's float-style reference, TFLite's integer (1/1024) reference, and
 * XNNPACK's Q11 weights. Every method computes, per output row and column,
 * two source indices and a weight once, then blends the channels.
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "kernels/kernel_util.h"
#include "kernels/resize.h"

static etpu_status check(const char *k, const etpu_resize_params *p, const etpu_dims *in_dims, const void *in,
                         const etpu_dims *out_dims, const void *out) {
  if (!p || !in_dims || !in || !out_dims || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  if (p->align_corners && p->half_pixel_centers)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: align_corners and half_pixel_centers are exclusive", k);
  if (p->method != ETPU_BILINEAR_FLOAT_REF && p->method != ETPU_BILINEAR_INTEGER && p->method != ETPU_BILINEAR_XNNPACK_Q11)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: unknown method %d", k, (int)p->method);
  etpu_status st = etpu_kcheck_dims(k, "input", in_dims, NULL);
  if (st == ETPU_OK) st = etpu_kcheck_dims(k, "output", out_dims, NULL);
  if (st != ETPU_OK) return st;
  if (in_dims->n != out_dims->n || in_dims->c != out_dims->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input [%d,.,.,%d] and output [%d,.,.,%d] differ in batch or channels",
                     k, in_dims->n, in_dims->c, out_dims->n, out_dims->c);
  if (in_dims->h >= (1 << 20) || in_dims->w >= (1 << 20) || out_dims->h >= (1 << 20) || out_dims->w >= (1 << 20))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: sizes of 2^20 or more are not supported", k);
  return ETPU_OK;
}

/* ---- FLOAT_REF ------------------------------------------------------------- */

static float ref_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return (float)(in - 1) / (float)(out - 1);
  return (float)in / (float)out;
}

/* TFLite ComputeInterpolationValues. */
static void ref_coord(int32_t v, float scale, bool half, int32_t in_size, float *scaled, int32_t *lo, int32_t *hi) {
  *scaled = half ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
  const int32_t f = (int32_t)floorf(*scaled);
  const int32_t c = (int32_t)ceilf(*scaled);
  *lo = f > 0 ? f : 0;
  *hi = c < in_size - 1 ? c : in_size - 1;
}

/* The float blend, exactly TFLite's expression order. */
static inline float ref_blend(float v00, float v10, float v01, float v11, float iy, int32_t y0, float ix, int32_t x0) {
  const float dy = iy - (float)y0, dx = ix - (float)x0;
  return v00 * (1 - dy) * (1 - dx) + v10 * dy * (1 - dx) + v01 * (1 - dy) * dx + v11 * dy * dx;
}

/* ---- INTEGER --------------------------------------------------------------- */

static int32_t int_scale(int32_t in, int32_t out, bool align_corners) {
  if (align_corners && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
  return ((1 << 10) * in + out / 2) / out;
}

static void int_coord(int32_t v, int32_t scale10, bool half, int32_t in_size, int32_t *scaled, int32_t *lo,
                      int32_t *hi) {
  *scaled = half ? v * scale10 + scale10 / 2 - (1 << 9) : v * scale10;
  const int32_t l = *scaled / (1 << 10); /* C division, toward zero */
  const int32_t h = (*scaled + (1 << 10) - 1) / (1 << 10);
  *lo = l > 0 ? l : 0;
  *hi = h < in_size - 1 ? h : in_size - 1;
}

static inline int32_t int_blend(int32_t v00, int32_t v10, int32_t v01, int32_t v11, int32_t iy, int32_t y0, int32_t ix,
                                int32_t x0) {
  const int64_t wy = iy - (1 << 10) * y0, wx = ix - (1 << 10) * x0;
  const int64_t sum = (int64_t)v00 * ((1 << 10) - wy) * ((1 << 10) - wx) + (int64_t)v10 * wy * ((1 << 10) - wx) +
                      (int64_t)v01 * ((1 << 10) - wy) * wx + (int64_t)v11 * wy * wx;
  const int64_t round = sum > 0 ? (1 << 19) : -(1 << 19);
  return (int32_t)((sum + round) / (1 << 20));
}

/* ---- XNNPACK_Q11 ----------------------------------------------------------- */

/* Source index pair and Q11 weight of one output coordinate. */
static void q11_coord(int32_t v, float scale, bool legacy, int32_t in_size, int32_t *lo, int32_t *hi, int32_t *w) {
  float src;
  if (legacy) {
    src = (float)v * scale;
  } else {
    const float offset = 0.5f * scale - 0.5f;
    src = (float)v * scale + offset;
    const float maxf = (float)(in_size - 1);
    src = src < 0.0f ? 0.0f : (src > maxf ? maxf : src);
  }
  const int32_t top = (int32_t)src;
  *lo = top;
  *hi = top + 1 < in_size - 1 ? top + 1 : in_size - 1;
  const float alpha = src - (float)top;
  *w = (int32_t)(int16_t)lrintf(alpha * 2048.0f);
}

static inline int32_t q11_blend(int32_t tl, int32_t tr, int32_t bl, int32_t br, int32_t ah, int32_t av) {
  const int32_t ah16 = (int32_t)(uint16_t)ah, av16 = (int32_t)(uint16_t)av;
  const int32_t t = (int32_t)((uint32_t)tl << 11) + (tr - tl) * ah16;
  const int32_t b = (int32_t)((uint32_t)bl << 11) + (br - bl) * ah16;
  const int32_t acc = (int32_t)((uint32_t)t << 11) + (b - t) * av16;
  return (int32_t)((uint32_t)acc + 0x00200000u) >> 22; /* arithmetic shift (requant.h assumption) */
}

/* ---- the generic loop ----------------------------------------------------- */

/* One kernel body for every element type; LOAD(p) widens, STORE(v) narrows. */
#define ETPU_RESIZE_BILINEAR(NAME, T, IS_INT)                                                                    \
  etpu_status NAME(const etpu_resize_params *params, const etpu_dims *input_dims, const T *input,              \
                   const etpu_dims *output_dims, T *output) {                                                  \
    etpu_status st = check(#NAME, params, input_dims, input, output_dims, output);                             \
    if (st != ETPU_OK) return st;                                                                              \
    const int32_t ih = input_dims->h, iw = input_dims->w, oh = output_dims->h, ow = output_dims->w;            \
    const int32_t ch = input_dims->c;                                                                          \
    const bool ac = params->align_corners, half = params->half_pixel_centers;                                  \
    const etpu_bilinear_method method = IS_INT ? params->method : ETPU_BILINEAR_FLOAT_REF;                         \
    const float fsh = ref_scale(ih, oh, ac), fsw = ref_scale(iw, ow, ac);                                      \
    const int32_t ish = int_scale(ih, oh, ac), isw = int_scale(iw, ow, ac);                                    \
    /* XNNPACK: (in − adj)/(out − adj) in float, adj = 1 with align_corners and out != 1 */                   \
    const float qsh = (float)(ih - (ac && oh != 1)) / (float)(oh - (ac && oh != 1));                           \
    const float qsw = (float)(iw - (ac && ow != 1)) / (float)(ow - (ac && ow != 1));                           \
    const bool legacy = !half || ac;                                                                           \
    for (int32_t b = 0; b < input_dims->n; b++) {                                                              \
      const T *in_b = input + (size_t)b * (size_t)ih * (size_t)iw * (size_t)ch;                                \
      for (int32_t y = 0; y < oh; y++) {                                                                       \
        float fy = 0.0f;                                                                                       \
        int32_t iy = 0, y0 = 0, y1 = 0, wy = 0;                                                                \
        if (method == ETPU_BILINEAR_FLOAT_REF) ref_coord(y, fsh, half, ih, &fy, &y0, &y1);                       \
        else if (method == ETPU_BILINEAR_INTEGER) int_coord(y, ish, half, ih, &iy, &y0, &y1);                    \
        else q11_coord(y, qsh, legacy, ih, &y0, &y1, &wy);                                                     \
        for (int32_t x = 0; x < ow; x++) {                                                                     \
          float fx = 0.0f;                                                                                     \
          int32_t ix = 0, x0 = 0, x1 = 0, wx = 0;                                                              \
          if (method == ETPU_BILINEAR_FLOAT_REF) ref_coord(x, fsw, half, iw, &fx, &x0, &x1);                     \
          else if (method == ETPU_BILINEAR_INTEGER) int_coord(x, isw, half, iw, &ix, &x0, &x1);                  \
          else q11_coord(x, qsw, legacy, iw, &x0, &x1, &wx);                                                   \
          const T *p00 = in_b + ((size_t)y0 * (size_t)iw + (size_t)x0) * (size_t)ch;                          \
          const T *p10 = in_b + ((size_t)y1 * (size_t)iw + (size_t)x0) * (size_t)ch;                           \
          const T *p01 = in_b + ((size_t)y0 * (size_t)iw + (size_t)x1) * (size_t)ch;                           \
          const T *p11 = in_b + ((size_t)y1 * (size_t)iw + (size_t)x1) * (size_t)ch;                           \
          T *o = output + (((size_t)b * (size_t)oh + (size_t)y) * (size_t)ow + (size_t)x) * (size_t)ch;        \
          for (int32_t c = 0; c < ch; c++) {                                                                   \
            if (method == ETPU_BILINEAR_FLOAT_REF) {                                                             \
              const float v = ref_blend((float)p00[c], (float)p10[c], (float)p01[c], (float)p11[c], fy, y0, fx, \
                                        x0);                                                                   \
              o[c] = IS_INT ? (T)(v + 0.5f) : (T)v;                                                            \
            } else if (method == ETPU_BILINEAR_INTEGER) {                                                        \
              o[c] = (T)int_blend((int32_t)p00[c], (int32_t)p10[c], (int32_t)p01[c], (int32_t)p11[c], iy, y0,   \
                                  ix, x0);                                                                     \
            } else {                                                                                           \
              o[c] = (T)q11_blend((int32_t)p00[c], (int32_t)p01[c], (int32_t)p10[c], (int32_t)p11[c], wx, wy); \
            }                                                                                                  \
          }                                                                                                    \
        }                                                                                                      \
      }                                                                                                        \
    }                                                                                                          \
    return ETPU_OK;                                                                                            \
  }

ETPU_RESIZE_BILINEAR(etpu_resize_bilinear_s8, int8_t, 1)
ETPU_RESIZE_BILINEAR(etpu_resize_bilinear_u8, uint8_t, 1)
ETPU_RESIZE_BILINEAR(etpu_resize_bilinear_f32, float, 0)
