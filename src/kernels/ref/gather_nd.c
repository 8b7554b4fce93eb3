/*
 * gather_nd.c — GATHER_ND (TFLite reference GatherNd): each of the n index
 * tuples (depth INT32/INT64 values) addresses the first depth dims of the
 * params tensor and gathers the slice of the remaining dims. An index out
 * of range is an error (TFLite's reference reports it too).
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_gather_nd(const etpu_gather_nd_params *p, const void *input, const void *indices, void *output) {
  static const char kname[] = "gather_nd";
  etpu_status st = etpu_tcheck_ptrs(kname, p, input, indices);
  if (st != ETPU_OK) return st;
  if (!output) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL output", kname);
  if ((st = etpu_tcheck_shape(kname, "params", &p->params_shape, NULL)) != ETPU_OK) return st;
  const int32_t rank = p->params_shape.rank;
  if (p->depth < 1 || p->depth > rank || !etpu_elem_size_ok(p->elem_size) ||
      (p->index_type != ETPU_INT32 && p->index_type != ETPU_INT64))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: index depth %d for rank %d, element size %zu, index type %s", kname,
                     p->depth, rank, p->elem_size, etpu_dtype_name(p->index_type));
  size_t slice = 1;
  for (int32_t d = p->depth; d < rank; d++) slice *= (size_t)p->params_shape.dims[d];
  size_t stride[ETPU_KMAX_RANK], s = slice;
  for (int32_t d = p->depth - 1; d >= 0; d--) {
    stride[d] = s;
    s *= (size_t)p->params_shape.dims[d];
  }
  const size_t chunk = slice * p->elem_size;
  const uint8_t *src = input;
  uint8_t *dst = output;
  for (size_t i = 0; i < p->n; i++) {
    size_t off = 0;
    for (int32_t d = 0; d < p->depth; d++) {
      const size_t k = i * (size_t)p->depth + (size_t)d;
      int64_t idx;
      if (p->index_type == ETPU_INT64) {
        memcpy(&idx, (const uint8_t *)indices + 8 * k, 8);
      } else {
        int32_t v;
        memcpy(&v, (const uint8_t *)indices + 4 * k, 4);
        idx = v;
      }
      if (idx < 0 || idx >= p->params_shape.dims[d])
        return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: index %lld outside [0, %d) on dim %d", kname, (long long)idx,
                         p->params_shape.dims[d], d);
      off += (size_t)idx * stride[d];
    }
    if (chunk) memcpy(dst + i * chunk, src + off * p->elem_size, chunk);
  }
  return ETPU_OK;
}
