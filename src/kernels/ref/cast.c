/*
 * cast.c — CAST between FLOAT32, INT64, INT32, UINT32, INT16, UINT16, INT8,
 * UINT8 and BOOL, as TFLite's cast.cc (CastValue): float → integer is
 * SafeCast (NaN → the type's max, below min → min, at or above the
 * exclusive upper bound → max, else truncation toward zero); everything else
 * is a C++ static_cast (integers wrap modulo the target width, integer →
 * float rounds to nearest, → BOOL is x != 0, BOOL → 0 or 1).
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/tensor_util.h"

static bool cast_type_ok(etpu_dtype t) {
  switch (t) {
    case ETPU_FLOAT32: case ETPU_INT64: case ETPU_INT32: case ETPU_UINT32: case ETPU_INT16:
    case ETPU_UINT16: case ETPU_INT8: case ETPU_UINT8: case ETPU_BOOL:
      return true;
    default:
      return false;
  }
}

/* An element read as an integer (is_float false) or a float. */
typedef struct cast_val {
  bool is_float;
  float f;
  int64_t i; /* UINT32 fits; INT64 exactly */
} cast_val;

static cast_val load(etpu_dtype t, const uint8_t *p) {
  cast_val v = {false, 0.0f, 0};
  switch (t) {
    case ETPU_FLOAT32: v.is_float = true; memcpy(&v.f, p, 4); break;
    case ETPU_INT64: memcpy(&v.i, p, 8); break;
    case ETPU_INT32: { int32_t x; memcpy(&x, p, 4); v.i = x; break; }
    case ETPU_UINT32: { uint32_t x; memcpy(&x, p, 4); v.i = x; break; }
    case ETPU_INT16: { int16_t x; memcpy(&x, p, 2); v.i = x; break; }
    case ETPU_UINT16: { uint16_t x; memcpy(&x, p, 2); v.i = x; break; }
    case ETPU_INT8: v.i = (int8_t)p[0]; break;
    case ETPU_BOOL: v.i = p[0] != 0; break;
    default: v.i = p[0]; break; /* UINT8 */
  }
  return v;
}

/* TFLite SafeCast of a float to an integer type of `bits` bits. */
static int64_t safe_cast(float x, bool is_signed, int bits) {
  const int64_t max = is_signed ? (int64_t)((UINT64_C(1) << (bits - 1)) - 1) : (int64_t)((UINT64_C(1) << bits) - 1);
  const int64_t min = is_signed ? -max - 1 : 0;
  if (isnan(x)) return max;
  if (x < (float)min) return min;
  /* The exclusive upper bound 2^(bits − sign) is exact in float. */
  if (x >= ldexpf(1.0f, is_signed ? bits - 1 : bits)) return max;
  return (int64_t)x;
}

static void store(etpu_dtype t, uint8_t *p, cast_val v) {
  switch (t) {
    case ETPU_FLOAT32: {
      const float f = v.is_float ? v.f : (float)v.i;
      memcpy(p, &f, 4);
      break;
    }
    case ETPU_BOOL: p[0] = v.is_float ? v.f != 0.0f : v.i != 0; break;
    case ETPU_INT64: {
      const int64_t x = v.is_float ? safe_cast(v.f, true, 64) : v.i;
      memcpy(p, &x, 8);
      break;
    }
    case ETPU_INT32: {
      const int32_t x = (int32_t)(uint32_t)(uint64_t)(v.is_float ? safe_cast(v.f, true, 32) : v.i);
      memcpy(p, &x, 4);
      break;
    }
    case ETPU_UINT32: {
      const uint32_t x = (uint32_t)(uint64_t)(v.is_float ? safe_cast(v.f, false, 32) : v.i);
      memcpy(p, &x, 4);
      break;
    }
    case ETPU_INT16: {
      const int16_t x = (int16_t)(uint16_t)(uint64_t)(v.is_float ? safe_cast(v.f, true, 16) : v.i);
      memcpy(p, &x, 2);
      break;
    }
    case ETPU_UINT16: {
      const uint16_t x = (uint16_t)(uint64_t)(v.is_float ? safe_cast(v.f, false, 16) : v.i);
      memcpy(p, &x, 2);
      break;
    }
    case ETPU_INT8: p[0] = (uint8_t)(uint64_t)(v.is_float ? safe_cast(v.f, true, 8) : v.i); break;
    default: p[0] = (uint8_t)(uint64_t)(v.is_float ? safe_cast(v.f, false, 8) : v.i); break; /* UINT8 */
  }
}

etpu_status etpu_cast(etpu_dtype from, etpu_dtype to, size_t count, const void *in, void *out) {
  etpu_status st = etpu_tcheck_ptrs("cast", in, out, out);
  if (st != ETPU_OK) return st;
  if (!cast_type_ok(from) || !cast_type_ok(to))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "cast: %s -> %s is not supported", etpu_dtype_name(from),
                     etpu_dtype_name(to));
  const size_t fs = etpu_dtype_size(from), ts = etpu_dtype_size(to);
  const uint8_t *src = in;
  uint8_t *dst = out;
  for (size_t i = 0; i < count; i++) store(to, dst + i * ts, load(from, src + i * fs));
  return ETPU_OK;
}
