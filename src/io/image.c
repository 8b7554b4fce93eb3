/*
 * image.c — images: allocation, decoding by signature (BMP, PNG, JPEG),
 * resizing (bilinear with half-pixel centres, or nearest), channel
 * conversion, and the mapping of pixels into a model's input tensor with
 * its normalization and quantization (etpu.h, "Images and tensors").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "io/io.h"

etpu_status etpu_io_image_new(uint32_t w, uint32_t h, uint32_t ch, const char *label, etpu_image **out) {
  if (w == 0 || h == 0 || w > ETPU_IMAGE_MAX_SIDE || h > ETPU_IMAGE_MAX_SIDE)
    return etpu_fail(ETPU_MALFORMED, "%s: image %ux%u: each side must be 1..%u", label, w, h, ETPU_IMAGE_MAX_SIDE);
  if (ch != 1 && ch != 3)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: images have 1 or 3 channels, not %u", label, ch);
  uint64_t bytes = (uint64_t)w * h * ch;
  if (bytes > ETPU_IMAGE_MAX_BYTES)
    return etpu_fail(ETPU_MALFORMED, "%s: image %ux%ux%u is %llu bytes, over etpu's limit of %zu", label, w, h, ch,
                     (unsigned long long)bytes, ETPU_IMAGE_MAX_BYTES);
  size_t head = (sizeof(etpu_image) + 15u) & ~(size_t)15u;
  etpu_image *img = etpu_malloc(head + (size_t)bytes);
  if (!img) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for a %ux%u image", label, w, h);
  img->width = w;
  img->height = h;
  img->channels = ch;
  img->pixels = (uint8_t *)img + head;
  memset(img->pixels, 0, (size_t)bytes);
  *out = img;
  return ETPU_OK;
}

etpu_status etpu_image_create(uint32_t w, uint32_t h, uint32_t ch, etpu_image **out) {
  if (!out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_create: NULL argument");
  etpu_status st = etpu_io_image_new(w, h, ch, "etpu_image_create", out);
  return st == ETPU_MALFORMED ? ETPU_INVALID_ARGUMENT : st;
}

void etpu_image_free(etpu_image *img) { etpu_free(img); }

etpu_status etpu_image_decode(const void *data, size_t size, const char *label, etpu_image **out) {
  if (!label) label = "<buffer>";
  if (!out || (!data && size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_decode: NULL argument");
  const uint8_t *d = data;
  if (size >= 2 && d[0] == 'B' && d[1] == 'M') return etpu_io_bmp_decode(d, size, label, out);
  if (size >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return etpu_io_png_decode(d, size, label, out);
  if (size >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff) return etpu_io_jpeg_decode(d, size, label, out);
  if (size == 0) return etpu_fail(ETPU_MALFORMED, "%s: empty file, not an image", label);
  return etpu_fail(ETPU_UNSUPPORTED, "%s: not a BMP, PNG or JPEG image (unknown first bytes)", label);
}

etpu_status etpu_image_read(const char *path, etpu_image **out) {
  if (!path || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_read: NULL argument");
  etpu_file_image f;
  etpu_status st = etpu_file_map(path, &f);
  if (st != ETPU_OK) return st;
  st = etpu_image_decode(f.data, f.size, path, out);
  etpu_file_unmap(&f);
  return st;
}

/* ---- resize and convert ------------------------------------------------- */

/* One output coordinate's source: TFLite's ResizeBilinear with
 * half_pixel_centers (what libcoral's test and example code use to resize
 * images): src = (dst + 0.5) * (in / out) - 0.5 in float32, lower = max(floor,
 * 0), upper = min(ceil, in - 1), weight = src - lower (float32). */
typedef struct tap {
  uint32_t i0, i1;
  float f; /* src - i0 */
} tap;

static void bilinear_taps(uint32_t in, uint32_t out, tap *t) {
  float scale = (float)in / (float)out;
  for (uint32_t i = 0; i < out; i++) {
    float src = ((float)i + 0.5f) * scale - 0.5f;
    float lo = floorf(src), hi = ceilf(src);
    int32_t i0 = lo < 0.0f ? 0 : (int32_t)lo;
    int32_t i1 = hi > (float)(in - 1) ? (int32_t)in - 1 : (int32_t)hi;
    if (i1 < 0) i1 = 0;
    if (i0 > (int32_t)in - 1) i0 = (int32_t)in - 1;
    t[i].i0 = (uint32_t)i0;
    t[i].i1 = (uint32_t)i1;
    t[i].f = src - (float)i0;
  }
}

etpu_status etpu_image_resize(const etpu_image *src, uint32_t w, uint32_t h, etpu_resize_method method,
                              etpu_image **out) {
  if (!src || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_resize: NULL argument");
  if (method != ETPU_RESIZE_BILINEAR && method != ETPU_RESIZE_NEAREST)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_resize: unknown method %d", (int)method);
  etpu_image *dst;
  etpu_status st = etpu_io_image_new(w, h, src->channels, "etpu_image_resize", &dst);
  if (st != ETPU_OK) return st == ETPU_MALFORMED ? ETPU_INVALID_ARGUMENT : st;
  uint32_t ch = src->channels, sw = src->width, sh = src->height;
  if (sw == w && sh == h) { /* libcoral copies an image of the right size unchanged */
    memcpy(dst->pixels, src->pixels, (size_t)w * h * ch);
    *out = dst;
    return ETPU_OK;
  }
  tap *tx = etpu_calloc((size_t)w + h, sizeof *tx);
  if (!tx) {
    etpu_image_free(dst);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "etpu_image_resize: out of memory");
  }
  tap *ty = tx + w;
  const size_t srow = (size_t)sw * ch;
  if (method == ETPU_RESIZE_NEAREST) {
    for (uint32_t x = 0; x < w; x++) {
      uint64_t s = ((uint64_t)x * 2u + 1u) * sw / (2u * (uint64_t)w);
      tx[x].i0 = (uint32_t)(s < sw ? s : sw - 1u);
    }
    for (uint32_t y = 0; y < h; y++) {
      uint64_t s = ((uint64_t)y * 2u + 1u) * sh / (2u * (uint64_t)h);
      ty[y].i0 = (uint32_t)(s < sh ? s : sh - 1u);
    }
    for (uint32_t y = 0; y < h; y++)
      for (uint32_t x = 0; x < w; x++)
        memcpy(dst->pixels + ((size_t)y * w + x) * ch, src->pixels + ty[y].i0 * srow + (size_t)tx[x].i0 * ch, ch);
  } else {
    bilinear_taps(sw, w, tx);
    bilinear_taps(sh, h, ty);
    for (uint32_t y = 0; y < h; y++) {
      const uint8_t *r0 = src->pixels + ty[y].i0 * srow, *r1 = src->pixels + ty[y].i1 * srow;
      float dy = ty[y].f;
      uint8_t *o = dst->pixels + (size_t)y * w * ch;
      for (uint32_t x = 0; x < w; x++) {
        size_t a = (size_t)tx[x].i0 * ch, b = (size_t)tx[x].i1 * ch;
        float dx = tx[x].f;
        for (uint32_t c = 0; c < ch; c++) {
          /* TFLite's float formula, term by term, then truncation to uint8
           * as libcoral's std::copy from the float output does. */
          float v = (float)r0[a + c] * (1.0f - dy) * (1.0f - dx) + (float)r1[a + c] * dy * (1.0f - dx) +
                    (float)r0[b + c] * (1.0f - dy) * dx + (float)r1[b + c] * dy * dx;
          if (!(v > 0.0f)) v = 0.0f;
          if (v > 255.0f) v = 255.0f;
          o[(size_t)x * ch + c] = (uint8_t)v;
        }
      }
    }
  }
  etpu_free(tx);
  *out = dst;
  return ETPU_OK;
}

etpu_status etpu_image_convert(const etpu_image *src, uint32_t ch, etpu_image **out) {
  if (!src || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_convert: NULL argument");
  etpu_image *dst;
  etpu_status st = etpu_io_image_new(src->width, src->height, ch, "etpu_image_convert", &dst);
  if (st != ETPU_OK) return st;
  size_t n = (size_t)src->width * src->height;
  const uint8_t *s = src->pixels;
  uint8_t *d = dst->pixels;
  if (src->channels == ch) {
    memcpy(d, s, n * ch);
  } else if (ch == 3) {
    for (size_t i = 0; i < n; i++) d[3 * i] = d[3 * i + 1] = d[3 * i + 2] = s[i];
  } else {
    for (size_t i = 0; i < n; i++)
      d[i] = (uint8_t)((s[3 * i] * 19595u + s[3 * i + 1] * 38470u + s[3 * i + 2] * 7471u + 0x8000u) >> 16);
  }
  *out = dst;
  return ETPU_OK;
}

/* ---- into a tensor ------------------------------------------------------ */

/* The image layout of a tensor: [1,H,W,C], [H,W,C], [1,H,W], [H,W], with
 * H, W >= 2 and C = 1 or 3. */
static bool image_layout(const etpu_tensor_info *t, uint32_t *h, uint32_t *w, uint32_t *c) {
  const int32_t *s = t->shape;
  int64_t H, W, C;
  if (t->rank == 4) {
    if (s[0] != 1) return false;
    H = s[1], W = s[2], C = s[3];
  } else if (t->rank == 3) {
    if (s[2] == 1 || s[2] == 3)
      H = s[0], W = s[1], C = s[2];
    else if (s[0] == 1)
      H = s[1], W = s[2], C = 1;
    else
      return false;
  } else if (t->rank == 2) {
    H = s[0], W = s[1], C = 1;
  } else {
    return false;
  }
  /* A side of 1 is a vector, not a picture. */
  if ((C != 1 && C != 3) || H < 2 || W < 2 || H > ETPU_IMAGE_MAX_SIDE || W > ETPU_IMAGE_MAX_SIDE) return false;
  *h = (uint32_t)H;
  *w = (uint32_t)W;
  *c = (uint32_t)C;
  return true;
}

static void shape_text(const etpu_tensor_info *t, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "%s[", etpu_dtype_name(t->type));
  for (uint32_t i = 0; i < t->rank && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? "," : "", t->shape[i]);
  if (k < cap) snprintf(buf + k, cap - k, "]");
}

etpu_status etpu_image_to_tensor(const etpu_image *img, const etpu_tensor_info *t, const etpu_input_options *o,
                                 void *data_out, size_t size) {
  if (!img || !t || !data_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_image_to_tensor: NULL argument");
  etpu_input_options def = {ETPU_RESIZE_BILINEAR, false, 0.0f, 1.0f};
  if (!o) o = &def;
  char desc[160];
  shape_text(t, desc, sizeof desc);
  const char *name = t->name ? t->name : "";
  uint32_t H, W, C;
  if (!image_layout(t, &H, &W, &C))
    return etpu_fail(ETPU_UNSUPPORTED, "input '%s' %s is not an image ([1,H,W,C], [H,W,C], [1,H,W] or [H,W] with C = 1 or 3)",
                     name, desc);
  if (t->type != ETPU_FLOAT32 && t->type != ETPU_UINT8 && t->type != ETPU_INT8 && t->type != ETPU_INT16)
    return etpu_fail(ETPU_UNSUPPORTED, "input '%s' %s: images go into FLOAT32, UINT8, INT8 or INT16 inputs", name, desc);
  const size_t need = etpu_tensor_size(t->type, t->rank, t->shape);
  if (need == 0)
    return etpu_fail(ETPU_UNSUPPORTED, "input '%s' %s: no fixed byte size that fits memory", name, desc);
  if (size != need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "input '%s' %s is %zu bytes; the buffer given is %zu", name, desc, need, size);
  if (t->quant_count > 1)
    return etpu_fail(ETPU_UNSUPPORTED, "input '%s' %s has per-axis quantization; images need one scale", name, desc);
  double scale = 1.0, zp = 0.0;
  if (t->quant_count == 1 && t->type != ETPU_FLOAT32) {
    scale = t->scale[0];
    zp = t->zero_point ? (double)t->zero_point[0] : 0.0;
    if (!(scale > 0.0) || !isfinite(scale))
      return etpu_fail(ETPU_UNSUPPORTED, "input '%s' %s has quantization scale %g", name, desc, scale);
  }
  double mean, std;
  if (o->normalize) {
    mean = o->mean;
    std = o->std;
    if (!(std > 0.0) || !isfinite(std) || !isfinite(mean))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "std must be a positive number and mean finite (got mean %g, std %g)", mean,
                       std);
  } else if (t->type == ETPU_FLOAT32) {
    mean = 0.0;
    std = 1.0;
  } else {
    mean = t->type == ETPU_INT8 ? zp + 128.0 : zp;
    std = 1.0 / scale;
  }
  if (o->resize != ETPU_RESIZE_BILINEAR && o->resize != ETPU_RESIZE_NEAREST)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "unknown resize method %d", (int)o->resize);

  /* Pixel value -> element, for all 256 values. */
  float lut_f[256];
  int32_t lut_q[256];
  double lo = t->type == ETPU_UINT8 ? 0 : t->type == ETPU_INT8 ? -128 : -32768;
  double hi = t->type == ETPU_UINT8 ? 255 : t->type == ETPU_INT8 ? 127 : 32767;
  for (int p = 0; p < 256; p++) {
    double real = ((double)p - mean) / std;
    lut_f[p] = (float)real;
    double q = nearbyint(real / scale) + zp;
    /* The defaults map pixels exactly; compute them exactly, free of
     * rounding in (p - zp) * scale / scale. */
    if (!o->normalize) q = t->type == ETPU_INT8 ? p - 128 : (t->type == ETPU_UINT8 ? p : q);
    lut_q[p] = (int32_t)(q < lo ? lo : q > hi ? hi : q);
  }

  const etpu_image *cur = img;
  etpu_image *conv = NULL, *sized = NULL;
  etpu_status st = ETPU_OK;
  if (cur->channels != C) {
    st = etpu_image_convert(cur, C, &conv);
    if (st != ETPU_OK) return st;
    cur = conv;
  }
  if (cur->width != W || cur->height != H) {
    st = etpu_image_resize(cur, W, H, o->resize, &sized);
    if (st != ETPU_OK) {
      etpu_image_free(conv);
      return st;
    }
    cur = sized;
  }
  size_t n = (size_t)H * W * C;
  const uint8_t *px = cur->pixels;
  switch (t->type) {
    case ETPU_FLOAT32: {
      float *d = data_out;
      for (size_t i = 0; i < n; i++) d[i] = lut_f[px[i]];
      break;
    }
    case ETPU_UINT8: {
      uint8_t *d = data_out;
      for (size_t i = 0; i < n; i++) d[i] = (uint8_t)lut_q[px[i]];
      break;
    }
    case ETPU_INT8: {
      int8_t *d = data_out;
      for (size_t i = 0; i < n; i++) d[i] = (int8_t)lut_q[px[i]];
      break;
    }
    default: {
      int16_t v;
      uint8_t *d = data_out;
      for (size_t i = 0; i < n; i++) {
        v = (int16_t)lut_q[px[i]];
        memcpy(d + 2 * i, &v, 2);
      }
      break;
    }
  }
  etpu_image_free(sized);
  etpu_image_free(conv);
  return ETPU_OK;
}
