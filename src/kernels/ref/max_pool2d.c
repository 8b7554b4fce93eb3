/*
 * max_pool2d.c — MAX_POOL_2D on NHWC int8/uint8/float32 (TFLITE.md §7.5;
 * TFLite reference pooling): the largest raw value of the window clipped to
 * the input, starting from the type's lowest value (float: std::max, so a
 * NaN cell is skipped), then the clamp.
 */
#include <float.h>

#include "kernels/kernel_util.h"
#include "kernels/ref/tensor_util.h"

typedef enum { POOL_S8, POOL_U8, POOL_F32 } pool_type;

static etpu_status max_pool(const char *kname, pool_type t, const etpu_pool_params *p, const etpu_dims *in_dims,
                            const void *in, const etpu_dims *out_dims, void *out) {
  const int32_t qmin = t == POOL_S8 ? -128 : 0, qmax = t == POOL_S8 ? 127 : (t == POOL_U8 ? 255 : -1);
  etpu_status st = etpu_pool2d_check(kname, p, in_dims, in, out_dims, out, qmin, qmax);
  if (st != ETPU_OK) return st;
  for (int32_t n = 0; n < out_dims->n; n++)
    for (int32_t oy = 0; oy < out_dims->h; oy++)
      for (int32_t ox = 0; ox < out_dims->w; ox++) {
        const int64_t iy = (int64_t)oy * p->stride_h - p->pad_h, ix = (int64_t)ox * p->stride_w - p->pad_w;
        const int64_t y0 = iy < 0 ? 0 : iy, x0 = ix < 0 ? 0 : ix;
        const int64_t y1 = iy + p->filter_h < in_dims->h ? iy + p->filter_h : in_dims->h;
        const int64_t x1 = ix + p->filter_w < in_dims->w ? ix + p->filter_w : in_dims->w;
        const size_t o = etpu_nhwc_offset(out_dims, n, oy, ox);
        for (int32_t c = 0; c < in_dims->c; c++) {
          if (t == POOL_F32) {
            float m = -FLT_MAX;
            for (int64_t y = y0; y < y1; y++)
              for (int64_t x = x0; x < x1; x++) {
                const float v = ((const float *)in)[etpu_nhwc_offset(in_dims, n, y, x) + c];
                if (m < v) m = v;
              }
            ((float *)out)[o + c] = etpu_clamp_f(m, &p->act_f32);
            continue;
          }
          int32_t m = qmin;
          for (int64_t y = y0; y < y1; y++)
            for (int64_t x = x0; x < x1; x++) {
              const size_t i = etpu_nhwc_offset(in_dims, n, y, x) + c;
              const int32_t v = t == POOL_S8 ? ((const int8_t *)in)[i] : ((const uint8_t *)in)[i];
              if (v > m) m = v;
            }
          m = etpu_clamp_i32(m, p->activation_min, p->activation_max);
          if (t == POOL_S8) ((int8_t *)out)[o + c] = (int8_t)m;
          else ((uint8_t *)out)[o + c] = (uint8_t)m;
        }
      }
  return ETPU_OK;
}

etpu_status etpu_max_pool2d_s8(const etpu_pool_params *params, const etpu_dims *input_dims, const int8_t *input,
                               const etpu_dims *output_dims, int8_t *output) {
  return max_pool("max_pool2d_s8", POOL_S8, params, input_dims, input, output_dims, output);
}

etpu_status etpu_max_pool2d_u8(const etpu_pool_params *params, const etpu_dims *input_dims, const uint8_t *input,
                               const etpu_dims *output_dims, uint8_t *output) {
  return max_pool("max_pool2d_u8", POOL_U8, params, input_dims, input, output_dims, output);
}

etpu_status etpu_max_pool2d_f32(const etpu_pool_params *params, const etpu_dims *input_dims, const float *input,
                                const etpu_dims *output_dims, float *output) {
  return max_pool("max_pool2d_f32", POOL_F32, params, input_dims, input, output_dims, output);
}
