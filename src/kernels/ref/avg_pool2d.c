/*
 * avg_pool2d.c — AVERAGE_POOL_2D on NHWC int8/uint8/float32 (TFLITE.md
 * §7.5; TFLite reference pooling.h and integer_ops/pooling.h, which TFLM
 * runs; TFLite's optimized 8-bit kernels give the same values).
 *
 * The window is clipped to the input; count = number of cells inside.
 * Quantized: acc = Σ raw values; avg = acc > 0 ? (acc + count/2)/count :
 * (acc − count/2)/count (C division: half away from zero); clamp.
 * float32: Σ in window order (rows, then columns), divided by (float)count,
 * clamp. A window with no cell inside the input is refused (TFLite's
 * reference returns an error for it).
 */
#include "kernels/kernel_util.h"
#include "kernels/ref/tensor_util.h"

typedef enum { POOL_S8, POOL_U8, POOL_F32 } pool_type;

etpu_status etpu_pool2d_check(const char *kname, const etpu_pool_params *p, const etpu_dims *in_dims,
                              const void *in, const etpu_dims *out_dims, const void *out, int32_t qmin,
                              int32_t qmax) {
  etpu_status st = etpu_tcheck_ptrs(kname, p, in, out);
  if (st != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "input", in_dims, NULL)) != ETPU_OK) return st;
  if ((st = etpu_kcheck_dims(kname, "output", out_dims, NULL)) != ETPU_OK) return st;
  if (in_dims->n != out_dims->n || in_dims->c != out_dims->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input [%d,%d,%d,%d] and output [%d,%d,%d,%d] differ in batch or depth",
                     kname, in_dims->n, in_dims->h, in_dims->w, in_dims->c, out_dims->n, out_dims->h, out_dims->w,
                     out_dims->c);
  if ((st = etpu_kcheck_window(kname, p->stride_h, p->stride_w, 1, 1, p->pad_h, p->pad_w)) != ETPU_OK) return st;
  if (p->filter_h < 1 || p->filter_w < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: filter %dx%d", kname, p->filter_h, p->filter_w);
  if (qmin <= qmax && (p->activation_min < qmin || p->activation_max > qmax || p->activation_min > p->activation_max))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: activation range [%d, %d] not within [%d, %d]", kname,
                     p->activation_min, p->activation_max, qmin, qmax);
  return ETPU_OK;
}

/* The clipped window of output (oy, ox): [y0, y1) × [x0, x1) in input rows
 * and columns. */
static void window(const etpu_pool_params *p, const etpu_dims *in, int32_t oy, int32_t ox, int32_t *y0, int32_t *y1,
                   int32_t *x0, int32_t *x1) {
  const int64_t iy = (int64_t)oy * p->stride_h - p->pad_h, ix = (int64_t)ox * p->stride_w - p->pad_w;
  const int64_t fy0 = iy < 0 ? -iy : 0, fx0 = ix < 0 ? -ix : 0;
  const int64_t fy1 = (int64_t)in->h - iy < p->filter_h ? (int64_t)in->h - iy : p->filter_h;
  const int64_t fx1 = (int64_t)in->w - ix < p->filter_w ? (int64_t)in->w - ix : p->filter_w;
  *y0 = (int32_t)(iy + fy0);
  *y1 = (int32_t)(iy + (fy1 > fy0 ? fy1 : fy0));
  *x0 = (int32_t)(ix + fx0);
  *x1 = (int32_t)(ix + (fx1 > fx0 ? fx1 : fx0));
}

static etpu_status avg_pool(const char *kname, pool_type t, const etpu_pool_params *p, const etpu_dims *in_dims,
                            const void *in, const etpu_dims *out_dims, void *out) {
  const int32_t qmin = t == POOL_S8 ? -128 : 0, qmax = t == POOL_S8 ? 127 : (t == POOL_U8 ? 255 : -1);
  etpu_status st = etpu_pool2d_check(kname, p, in_dims, in, out_dims, out, qmin, qmax);
  if (st != ETPU_OK) return st;
  const int32_t C = in_dims->c;
  for (int32_t n = 0; n < out_dims->n; n++)
    for (int32_t oy = 0; oy < out_dims->h; oy++)
      for (int32_t ox = 0; ox < out_dims->w; ox++) {
        int32_t y0, y1, x0, x1;
        window(p, in_dims, oy, ox, &y0, &y1, &x0, &x1);
        const int32_t count = (y1 - y0) * (x1 - x0);
        if (count <= 0)
          return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output (%d, %d) has no input cell in its window", kname, oy,
                           ox);
        const size_t o = etpu_nhwc_offset(out_dims, n, oy, ox);
        for (int32_t c = 0; c < C; c++) {
          if (t == POOL_F32) {
            float total = 0.0f;
            for (int32_t y = y0; y < y1; y++)
              for (int32_t x = x0; x < x1; x++) total += ((const float *)in)[etpu_nhwc_offset(in_dims, n, y, x) + c];
            ((float *)out)[o + c] = etpu_clamp_f(total / (float)count, &p->act_f32);
            continue;
          }
          int32_t acc = 0;
          for (int32_t y = y0; y < y1; y++)
            for (int32_t x = x0; x < x1; x++) {
              const size_t i = etpu_nhwc_offset(in_dims, n, y, x) + c;
              acc += t == POOL_S8 ? ((const int8_t *)in)[i] : ((const uint8_t *)in)[i];
            }
          acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
          acc = etpu_clamp_i32(acc, p->activation_min, p->activation_max);
          if (t == POOL_S8) ((int8_t *)out)[o + c] = (int8_t)acc;
          else ((uint8_t *)out)[o + c] = (uint8_t)acc;
        }
      }
  return ETPU_OK;
}

etpu_status etpu_avg_pool2d_s8(const etpu_pool_params *params, const etpu_dims *input_dims, const int8_t *input,
                               const etpu_dims *output_dims, int8_t *output) {
  return avg_pool("avg_pool2d_s8", POOL_S8, params, input_dims, input, output_dims, output);
}

etpu_status etpu_avg_pool2d_u8(const etpu_pool_params *params, const etpu_dims *input_dims, const uint8_t *input,
                               const etpu_dims *output_dims, uint8_t *output) {
  return avg_pool("avg_pool2d_u8", POOL_U8, params, input_dims, input, output_dims, output);
}

etpu_status etpu_avg_pool2d_f32(const etpu_pool_params *params, const etpu_dims *input_dims, const float *input,
                                const etpu_dims *output_dims, float *output) {
  return avg_pool("avg_pool2d_f32", POOL_F32, params, input_dims, input, output_dims, output);
}
