/*
 * arg_max.c — ARG_MAX over one axis (TFLite reference ArgMinMax, also what
 * the builtin optimized kernel returns): the first index holding the
 * largest value (a later element wins only if strictly greater). Raw
 * values are compared (the scale of a quantized input does not matter).
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

#define ETPU_ARGMAX_LOOP(type)                                           \
  do {                                                                   \
    const type *src = in;                                                \
    for (size_t o = 0; o < s->outer; o++)                                \
      for (size_t i = 0; i < s->inner; i++) {                            \
        const type *p = src + o * s->axis * s->inner + i;                \
        type best = p[0];                                                \
        size_t bi = 0;                                                   \
        for (size_t a = 1; a < s->axis; a++)                             \
          if (p[a * s->inner] > best) {                                  \
            best = p[a * s->inner];                                      \
            bi = a;                                                      \
          }                                                              \
        const size_t k = o * s->inner + i;                               \
        if (out_type == ETPU_INT64) {                                    \
          const int64_t v = (int64_t)bi;                                 \
          memcpy((uint8_t *)out + 8 * k, &v, 8);                         \
        } else {                                                         \
          const int32_t v = (int32_t)bi;                                 \
          memcpy((uint8_t *)out + 4 * k, &v, 4);                         \
        }                                                                \
      }                                                                  \
  } while (0)

etpu_status etpu_arg_max(etpu_dtype in_type, etpu_dtype out_type, const etpu_axis_split *s, const void *in,
                         void *out) {
  static const char kname[] = "arg_max";
  etpu_status st = etpu_tcheck_ptrs(kname, s, in, out);
  if (st != ETPU_OK) return st;
  if (out_type != ETPU_INT32 && out_type != ETPU_INT64)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output type %s (INT32 or INT64)", kname, etpu_dtype_name(out_type));
  if (s->axis < 1 || (out_type == ETPU_INT32 && s->axis > (size_t)INT32_MAX))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: axis extent %zu", kname, s->axis);
  size_t n;
  if (!etpu_mul_size(s->outer, s->axis, &n) || !etpu_mul_size(n, s->inner, &n))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: size overflows", kname);
  switch (in_type) {
    case ETPU_INT8: ETPU_ARGMAX_LOOP(int8_t); break;
    case ETPU_UINT8: ETPU_ARGMAX_LOOP(uint8_t); break;
    case ETPU_INT16: ETPU_ARGMAX_LOOP(int16_t); break;
    case ETPU_INT32: ETPU_ARGMAX_LOOP(int32_t); break;
    case ETPU_INT64: ETPU_ARGMAX_LOOP(int64_t); break;
    case ETPU_FLOAT32: ETPU_ARGMAX_LOOP(float); break;
    default:
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input type %s is not supported", kname, etpu_dtype_name(in_type));
  }
  return ETPU_OK;
}
