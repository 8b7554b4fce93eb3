/*
 * tensor.c — etpu_tensor_load: fill a model input from a file, choosing
 * the reader by extension (else by the first bytes): .npy arrays (same
 * dtype, or float32 quantized on the way in), images, or raw bytes of
 * exactly the tensor's size. Nothing is written to the caller's buffer
 * unless the whole file fits the tensor.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "io/io.h"

static bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* Byte size of a tensor description (0 for types without a fixed size,
 * negative dimensions, or a size that overflows). */
static size_t tensor_bytes(const etpu_tensor_info *t) { return etpu_tensor_size(t->type, t->rank, t->shape); }

static void describe(const etpu_tensor_info *t, char *buf, size_t cap) {
  size_t k = (size_t)snprintf(buf, cap, "'%s' %s[", t->name ? t->name : "", etpu_dtype_name(t->type));
  for (uint32_t i = 0; i < t->rank && k < cap; i++) k += (size_t)snprintf(buf + k, cap - k, "%s%d", i ? "," : "", t->shape[i]);
  if (k < cap) snprintf(buf + k, cap - k, "] (%zu bytes)", tensor_bytes(t));
}

/* Shapes equal once leading 1s are dropped from both. */
static bool same_shape(uint32_t ra, const int32_t *a, uint32_t rb, const int32_t *b) {
  while (ra && a[0] == 1) a++, ra--;
  while (rb && b[0] == 1) b++, rb--;
  if (ra != rb) return false;
  for (uint32_t i = 0; i < ra; i++)
    if (a[i] != b[i]) return false;
  return true;
}

static etpu_status from_npy(const char *path, const uint8_t *d, size_t n, const etpu_tensor_info *t, void *out,
                            size_t size, const char *desc) {
  etpu_npy *a;
  etpu_status st = etpu_npy_decode(d, n, path, &a);
  if (st != ETPU_OK) return st;
  char shp[120];
  size_t k = (size_t)snprintf(shp, sizeof shp, "(");
  for (uint32_t i = 0; i < a->rank && k < sizeof shp; i++)
    k += (size_t)snprintf(shp + k, sizeof shp - k, "%s%d", i ? ", " : "", a->shape[i]);
  if (k < sizeof shp) snprintf(shp + k, sizeof shp - k, ")");
  if (!same_shape(a->rank, a->shape, t->rank, t->shape)) {
    st = etpu_fail(ETPU_INVALID_ARGUMENT, "%s: array of shape %s does not fit input %s", path, shp, desc);
  } else if (a->type == t->type) {
    memcpy(out, a->data, size);
  } else if (a->type == ETPU_FLOAT32 && t->quant_count == 1 &&
             (t->type == ETPU_UINT8 || t->type == ETPU_INT8 || t->type == ETPU_INT16)) {
    double scale = t->scale[0], zp = t->zero_point ? (double)t->zero_point[0] : 0.0;
    double lo = t->type == ETPU_UINT8 ? 0 : t->type == ETPU_INT8 ? -128 : -32768;
    double hi = t->type == ETPU_UINT8 ? 255 : t->type == ETPU_INT8 ? 127 : 32767;
    if (!(scale > 0.0) || !isfinite(scale)) {
      st = etpu_fail(ETPU_UNSUPPORTED, "%s: input %s has quantization scale %g", path, desc, scale);
    } else {
      size_t elems = a->size / 4, es = etpu_dtype_size(t->type);
      uint8_t *o = out;
      for (size_t i = 0; i < elems; i++) {
        float x;
        memcpy(&x, (const uint8_t *)a->data + 4 * i, 4);
        double q = x != x ? zp : nearbyint((double)x / scale) + zp;
        q = q < lo ? lo : q > hi ? hi : q;
        if (es == 1) {
          o[i] = t->type == ETPU_UINT8 ? (uint8_t)q : (uint8_t)(int8_t)q;
        } else {
          int16_t v = (int16_t)q;
          memcpy(o + 2 * i, &v, 2);
        }
      }
    }
  } else {
    st = etpu_fail(ETPU_INVALID_ARGUMENT, "%s: array of dtype %s does not fit input %s%s", path,
                   etpu_dtype_name(a->type), desc,
                   a->type == ETPU_FLOAT32 ? " (float32 converts only into a quantized input)" : "");
  }
  etpu_npy_free(a);
  return st;
}

etpu_status etpu_tensor_load(const char *path, const etpu_tensor_info *t, const etpu_input_options *o, void *out,
                             size_t size, etpu_input_kind *kind_out) {
  if (!path || !t || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_tensor_load: NULL argument");
  char desc[200];
  describe(t, desc, sizeof desc);
  size_t need = tensor_bytes(t);
  if (need == 0 || size != need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %s: buffer of %zu bytes given", path, desc, size);
  etpu_file_image f;
  etpu_status st = etpu_file_map(path, &f);
  if (st != ETPU_OK) return st;
  const uint8_t *d = f.data;
  size_t n = f.size;
  etpu_input_kind kind;
  if (ends_with(path, ".npy"))
    kind = ETPU_INPUT_NPY;
  else if (ends_with(path, ".bmp") || ends_with(path, ".png") || ends_with(path, ".jpg") || ends_with(path, ".jpeg"))
    kind = ETPU_INPUT_IMAGE;
  else if (ends_with(path, ".raw") || ends_with(path, ".bin") || ends_with(path, ".rgb"))
    kind = ETPU_INPUT_RAW;
  else if (n >= 6 && !memcmp(d, "\x93NUMPY", 6))
    kind = ETPU_INPUT_NPY;
  else if ((n >= 2 && d[0] == 'B' && d[1] == 'M') || (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) ||
           (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff))
    kind = ETPU_INPUT_IMAGE;
  else
    kind = ETPU_INPUT_RAW;
  if (kind == ETPU_INPUT_NPY) {
    st = from_npy(path, d, n, t, out, size, desc);
  } else if (kind == ETPU_INPUT_IMAGE) {
    etpu_image *img;
    st = etpu_image_decode(d, n, path, &img);
    if (st == ETPU_OK) {
      st = etpu_image_to_tensor(img, t, o, out, size);
      if (st != ETPU_OK) st = etpu_fail_prefix(st, path);
      etpu_image_free(img);
    }
  } else if (n != size) {
    st = etpu_fail(ETPU_INVALID_ARGUMENT, "%s: raw input of %zu bytes; input %s needs exactly %zu", path, n, desc, size);
  } else {
    memcpy(out, d, size);
  }
  etpu_file_unmap(&f);
  if (st == ETPU_OK && kind_out) *kind_out = kind;
  return st;
}
