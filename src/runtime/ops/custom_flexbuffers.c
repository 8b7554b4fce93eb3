/*
 * custom_flexbuffers.c — a bounds-checked reader for the root map of a
 * FlexBuffers buffer (custom_flexbuffers.h), from the format's public
 * description (flatbuffers.dev, "FlexBuffers"):
 *
 *   end of buffer:  [root value: W bytes][packed type: 1 byte][W: 1 byte]
 *   packed type:    type << 2 | log2(byte width of the value it points to)
 *   map at M (element width w, n elements):
 *     M − 3w: offset back to the keys vector   M − 2w: keys byte width
 *     M − w:  n        M .. M + n·w: values    M + n·w: n packed types
 *   keys vector K (width kw): K[i] holds an offset back to a NUL-terminated key
 *   offsets are unsigned and point backwards: target = slot − value.
 */
#include "runtime/ops/custom_flexbuffers.h"

#include <string.h>

enum {
  FT_NULL = 0,
  FT_INT = 1,
  FT_UINT = 2,
  FT_FLOAT = 3,
  FT_INDIRECT_INT = 6,
  FT_INDIRECT_UINT = 7,
  FT_INDIRECT_FLOAT = 8,
  FT_MAP = 9,
  FT_BOOL = 26,
};

typedef struct span {
  const uint8_t *b;
  size_t n;
} span;

static bool width_ok(size_t w) { return w == 1 || w == 2 || w == 4 || w == 8; }

static bool rd_uint(span s, size_t at, size_t w, uint64_t *v) {
  if (!width_ok(w) || at > s.n || w > s.n - at) return false;
  uint64_t r = 0;
  for (size_t i = 0; i < w; i++) r |= (uint64_t)s.b[at + i] << (8 * i);
  *v = r;
  return true;
}

static bool rd_int(span s, size_t at, size_t w, int64_t *v) {
  uint64_t u;
  if (!rd_uint(s, at, w, &u)) return false;
  if (w < 8 && (u >> (8 * w - 1)) & 1) u |= ~(uint64_t)0 << (8 * w); /* sign-extend */
  *v = (int64_t)u;
  return true;
}

static bool rd_float(span s, size_t at, size_t w, double *v) {
  uint64_t u;
  if (!rd_uint(s, at, w, &u)) return false;
  if (w == 4) {
    uint32_t b = (uint32_t)u;
    float f;
    memcpy(&f, &b, 4);
    *v = f;
  } else if (w == 8) {
    memcpy(v, &u, 8);
  } else {
    return false;
  }
  return true;
}

/* target = at − offset stored at `at` (width w). */
static bool follow(span s, size_t at, size_t w, size_t *target) {
  uint64_t off;
  if (!rd_uint(s, at, w, &off) || off > at) return false;
  *target = at - (size_t)off;
  return true;
}

static bool key_equals(span s, size_t at, const char *key) {
  size_t n = strlen(key);
  if (at > s.n || n >= s.n - at) return false;
  return memcmp(s.b + at, key, n) == 0 && s.b[at + n] == 0;
}

bool etpu_flex_map_get(const uint8_t *buf, size_t size, const char *key, etpu_flex_value *value_out) {
  memset(value_out, 0, sizeof *value_out);
  if (!buf || size < 3 || !key) return false;
  span s = {buf, size};
  const size_t root_w = buf[size - 1];
  const uint8_t root_packed = buf[size - 2];
  if (!width_ok(root_w) || root_w > size - 2) return false;
  if ((root_packed >> 2) != FT_MAP) return false;
  size_t map;
  if (!follow(s, size - 2 - root_w, root_w, &map)) return false;
  const size_t w = (size_t)1 << (root_packed & 3);
  if (map < 3 * w) return false;
  uint64_t n, kw64;
  size_t keys;
  if (!rd_uint(s, map - w, w, &n) || !rd_uint(s, map - 2 * w, w, &kw64) || !follow(s, map - 3 * w, w, &keys))
    return false;
  const size_t kw = (size_t)kw64;
  if (!width_ok(kw) || n > s.n || n * w > s.n - map || n > s.n - map - n * w) return false;
  uint64_t kn;
  if (keys < kw || !rd_uint(s, keys - kw, kw, &kn) || kn != n || n * kw > s.n - keys) return false;
  for (size_t i = 0; i < (size_t)n; i++) {
    size_t kat;
    if (!follow(s, keys + i * kw, kw, &kat)) return false;
    if (!key_equals(s, kat, key)) continue;
    const uint8_t packed = buf[map + (size_t)n * w + i];
    const size_t vat = map + i * w, cw = (size_t)1 << (packed & 3);
    size_t t;
    switch (packed >> 2) {
      case FT_NULL:
        return true;
      case FT_INT:
        if (!rd_int(s, vat, w, &value_out->i)) return false;
        value_out->f = (double)value_out->i;
        break;
      case FT_UINT:
      case FT_BOOL: {
        uint64_t u;
        if (!rd_uint(s, vat, w, &u)) return false;
        value_out->i = (int64_t)u;
        value_out->f = (double)u;
        break;
      }
      case FT_FLOAT:
        if (!rd_float(s, vat, w, &value_out->f)) return false;
        value_out->is_float = true;
        break;
      case FT_INDIRECT_INT:
        if (!follow(s, vat, w, &t) || !rd_int(s, t, cw, &value_out->i)) return false;
        value_out->f = (double)value_out->i;
        break;
      case FT_INDIRECT_UINT: {
        uint64_t u;
        if (!follow(s, vat, w, &t) || !rd_uint(s, t, cw, &u)) return false;
        value_out->i = (int64_t)u;
        value_out->f = (double)u;
        break;
      }
      case FT_INDIRECT_FLOAT:
        if (!follow(s, vat, w, &t) || !rd_float(s, t, cw, &value_out->f)) return false;
        value_out->is_float = true;
        break;
      default:
        return false; /* strings, vectors, maps: not an option these ops use */
    }
    if (value_out->is_float) {
      const double f = value_out->f;
      value_out->i = f != f ? 0 : (f >= 9.2e18 ? INT64_MAX : (f <= -9.2e18 ? INT64_MIN : (int64_t)f));
    }
    value_out->present = true;
    return true;
  }
  return true;
}
