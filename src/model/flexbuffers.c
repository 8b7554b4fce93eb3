/*
 * flexbuffers.c — a bounds-checked reader for FlexBuffers maps
 * (flexbuffers.h), from the format's public description (flatbuffers.dev,
 * "FlexBuffers"):
 *
 *   end of buffer:  [root value: W bytes][packed type: 1 byte][W: 1 byte]
 *   packed type:    type << 2 | log2(byte width of the value it points to)
 *   map at M (element width w, n elements):
 *     M − 3w: offset back to the keys vector   M − 2w: keys byte width
 *     M − w:  n        M .. M + n·w: values    M + n·w: n packed types
 *   untyped vector at V: V − w: n, then n values, then n packed types;
 *   typed vector (INT, UINT, FLOAT, KEY): V − w: n, then n values of width w
 *   string / blob at S: S − w: length, then the bytes (a string adds a NUL)
 *   keys vector K (width kw): K[i] holds an offset back to a NUL-terminated key
 *   offsets are unsigned and point backwards: target = slot − value.
 */
#include "model/flexbuffers.h"

#include <string.h>

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

static bool root_map(span s, size_t *map, size_t *w, size_t *n, size_t *keys, size_t *kw) {
  if (!s.b || s.n < 3) return false;
  const size_t root_w = s.b[s.n - 1];
  const uint8_t root_packed = s.b[s.n - 2];
  if (!width_ok(root_w) || root_w > s.n - 2) return false;
  if ((root_packed >> 2) != ETPU_FLEX_MAP) return false;
  if (!follow(s, s.n - 2 - root_w, root_w, map)) return false;
  *w = (size_t)1 << (root_packed & 3);
  if (*map < 3 * *w) return false;
  uint64_t n64, kw64, kn;
  if (!rd_uint(s, *map - *w, *w, &n64) || !rd_uint(s, *map - 2 * *w, *w, &kw64) ||
      !follow(s, *map - 3 * *w, *w, keys))
    return false;
  *kw = (size_t)kw64;
  if (!width_ok(*kw) || n64 > s.n || n64 * *w > s.n - *map || n64 > s.n - *map - n64 * *w) return false;
  *n = (size_t)n64;
  if (*keys < *kw || !rd_uint(s, *keys - *kw, *kw, &kn) || kn != n64 || *n * *kw > s.n - *keys) return false;
  return true;
}

bool etpu_flex_map_find(const uint8_t *buf, size_t size, const char *key, etpu_flex_ref *ref_out) {
  memset(ref_out, 0, sizeof *ref_out);
  span s = {buf, size};
  size_t map, w, n, keys, kw;
  if (!key || !root_map(s, &map, &w, &n, &keys, &kw)) return false;
  for (size_t i = 0; i < n; i++) {
    size_t kat;
    if (!follow(s, keys + i * kw, kw, &kat)) return false;
    if (!key_equals(s, kat, key)) continue;
    const uint8_t packed = buf[map + n * w + i];
    ref_out->type = (uint8_t)(packed >> 2);
    ref_out->width = (uint8_t)w;
    ref_out->child = (uint8_t)(1u << (packed & 3));
    ref_out->at = map + i * w;
    return true;
  }
  return true;
}

bool etpu_flex_int(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, int64_t *value_out) {
  span s = {buf, size};
  size_t t;
  uint64_t u;
  switch (ref->type) {
    case ETPU_FLEX_INT:
      return rd_int(s, ref->at, ref->width, value_out);
    case ETPU_FLEX_UINT:
    case ETPU_FLEX_BOOL:
      if (!rd_uint(s, ref->at, ref->width, &u)) return false;
      *value_out = (int64_t)u;
      return true;
    case ETPU_FLEX_INDIRECT_INT:
      return follow(s, ref->at, ref->width, &t) && rd_int(s, t, ref->child, value_out);
    case ETPU_FLEX_INDIRECT_UINT:
      if (!follow(s, ref->at, ref->width, &t) || !rd_uint(s, t, ref->child, &u)) return false;
      *value_out = (int64_t)u;
      return true;
    default:
      return false;
  }
}

bool etpu_flex_bytes(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, const uint8_t **data_out,
                     size_t *len_out) {
  span s = {buf, size};
  if (ref->type != ETPU_FLEX_STRING && ref->type != ETPU_FLEX_BLOB) return false;
  size_t at;
  uint64_t len;
  const size_t cw = ref->child;
  if (!follow(s, ref->at, ref->width, &at) || at < cw || !rd_uint(s, at - cw, cw, &len)) return false;
  if (len > s.n - at) return false;
  if (ref->type == ETPU_FLEX_STRING && (len >= s.n - at || buf[at + len] != 0)) return false;
  *data_out = buf + at;
  *len_out = (size_t)len;
  return true;
}

static bool vector_base(span s, const etpu_flex_ref *ref, size_t *at, size_t *n, size_t *ew) {
  const uint8_t t = ref->type;
  if (t != ETPU_FLEX_VECTOR && (t < ETPU_FLEX_VECTOR_INT || t > ETPU_FLEX_VECTOR_KEY)) return false;
  uint64_t n64;
  *ew = ref->child;
  if (!follow(s, ref->at, ref->width, at) || *at < *ew || !rd_uint(s, *at - *ew, *ew, &n64)) return false;
  const size_t types = t == ETPU_FLEX_VECTOR ? 1 : 0; /* an untyped vector adds a type byte per element */
  if (n64 > s.n || n64 * (*ew + types) > s.n - *at) return false;
  *n = (size_t)n64;
  return true;
}

bool etpu_flex_vector_count(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, size_t *count_out) {
  span s = {buf, size};
  size_t at, ew;
  return vector_base(s, ref, &at, count_out, &ew);
}

bool etpu_flex_vector_at(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, size_t i,
                         etpu_flex_ref *elem_out) {
  span s = {buf, size};
  size_t at, n, ew;
  if (!vector_base(s, ref, &at, &n, &ew) || i >= n) return false;
  memset(elem_out, 0, sizeof *elem_out);
  elem_out->at = at + i * ew;
  elem_out->width = (uint8_t)ew;
  if (ref->type == ETPU_FLEX_VECTOR) {
    const uint8_t packed = buf[at + n * ew + i];
    elem_out->type = (uint8_t)(packed >> 2);
    elem_out->child = (uint8_t)(1u << (packed & 3));
  } else {
    elem_out->type = (uint8_t)(ref->type - ETPU_FLEX_VECTOR_INT + ETPU_FLEX_INT); /* INT, UINT, FLOAT, KEY */
    elem_out->child = (uint8_t)ew;
  }
  return true;
}

bool etpu_flex_map_get(const uint8_t *buf, size_t size, const char *key, etpu_flex_value *value_out) {
  memset(value_out, 0, sizeof *value_out);
  etpu_flex_ref r;
  if (!etpu_flex_map_find(buf, size, key, &r)) return false;
  span s = {buf, size};
  size_t t;
  switch (r.type) {
    case ETPU_FLEX_NULL:
      return true;
    case ETPU_FLEX_INT:
    case ETPU_FLEX_UINT:
    case ETPU_FLEX_BOOL:
    case ETPU_FLEX_INDIRECT_INT:
    case ETPU_FLEX_INDIRECT_UINT:
      if (!etpu_flex_int(buf, size, &r, &value_out->i)) return false;
      value_out->f = r.type == ETPU_FLEX_INT || r.type == ETPU_FLEX_INDIRECT_INT ? (double)value_out->i
                                                                                : (double)(uint64_t)value_out->i;
      break;
    case ETPU_FLEX_FLOAT:
      if (!rd_float(s, r.at, r.width, &value_out->f)) return false;
      value_out->is_float = true;
      break;
    case ETPU_FLEX_INDIRECT_FLOAT:
      if (!follow(s, r.at, r.width, &t) || !rd_float(s, t, r.child, &value_out->f)) return false;
      value_out->is_float = true;
      break;
    default:
      return false; /* strings, vectors, maps: not a scalar option */
  }
  if (value_out->is_float) {
    const double f = value_out->f;
    value_out->i = f != f ? 0 : (f >= 9.2e18 ? INT64_MAX : (f <= -9.2e18 ? INT64_MIN : (int64_t)f));
  }
  value_out->present = true;
  return true;
}
