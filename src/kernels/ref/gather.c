/*
 * gather.c — GATHER (TFLite gather.cc / reference Gather, with axis and
 * batch_dims): out[b, o, c, :] = params[b, o, indices[b, c], :]. Indices
 * are INT32 or INT64; one outside [0, axis_size) is an error (TFLite returns
 * an error for it as well).
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_gather(const etpu_gather_params *p, const void *input, const void *indices, void *output) {
  static const char kname[] = "gather";
  etpu_status st = etpu_tcheck_ptrs(kname, p, input, indices);
  if (st != ETPU_OK) return st;
  if (!output) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL output", kname);
  if (!etpu_elem_size_ok(p->elem_size) || (p->index_type != ETPU_INT32 && p->index_type != ETPU_INT64))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu or index type %s", kname, p->elem_size,
                     etpu_dtype_name(p->index_type));
  size_t n;
  if (!etpu_mul_size(p->batch, p->outer, &n) || !etpu_mul_size(n, p->coords, &n) ||
      !etpu_mul_size(n, p->inner, &n) || !etpu_mul_size(n, p->elem_size, &n) ||
      !etpu_mul_size(p->batch, p->outer, &n) || !etpu_mul_size(n, p->axis_size, &n) ||
      !etpu_mul_size(n, p->inner, &n) || !etpu_mul_size(n, p->elem_size, &n))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: sizes overflow", kname);
  const size_t chunk = p->inner * p->elem_size;
  const uint8_t *src = input;
  uint8_t *dst = output;
  for (size_t b = 0; b < p->batch; b++)
    for (size_t o = 0; o < p->outer; o++)
      for (size_t c = 0; c < p->coords; c++) {
        const size_t k = b * p->coords + c;
        int64_t idx;
        if (p->index_type == ETPU_INT64) {
          memcpy(&idx, (const uint8_t *)indices + 8 * k, 8);
        } else {
          int32_t v;
          memcpy(&v, (const uint8_t *)indices + 4 * k, 4);
          idx = v;
        }
        if (idx < 0 || (uint64_t)idx >= p->axis_size)
          return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: index %lld outside [0, %zu)", kname, (long long)idx,
                           p->axis_size);
        if (chunk)
          memcpy(dst + ((b * p->outer + o) * p->coords + c) * chunk,
                 src + ((b * p->outer + o) * p->axis_size + (size_t)idx) * chunk, chunk);
      }
  return ETPU_OK;
}
