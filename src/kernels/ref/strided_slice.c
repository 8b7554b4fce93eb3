/*
 * strided_slice.c — SLICE and STRIDED_SLICE after the caller has resolved
 * TFLite's begin/end/stride and mask rules (strided_slice_logic.h): output
 * index i_d reads input index begin_d + i_d·stride_d. Every index read is
 * checked to lie inside the input before anything is written.
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_strided_slice(const etpu_slice_params *params, const etpu_shape *input_shape, const void *input,
                               void *output) {
  static const char kname[] = "strided_slice";
  etpu_status st = etpu_tcheck_move(kname, params, input_shape, input, output, params ? params->elem_size : 0);
  if (st != ETPU_OK) return st;
  const int32_t rank = input_shape->rank;
  size_t ocount = 1;
  for (int32_t d = 0; d < rank; d++) {
    const int32_t n = params->out_dims[d];
    if (n < 0 || !etpu_mul_size(ocount, (size_t)n, &ocount))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output dim %d is %d", kname, d, n);
    if (n == 0) continue;
    if (params->stride[d] == 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: stride %d is 0", kname, d);
    const int64_t first = params->begin[d], last = first + (int64_t)(n - 1) * params->stride[d];
    if (first < 0 || first >= input_shape->dims[d] || last < 0 || last >= input_shape->dims[d])
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: dim %d reads [%lld, %lld] of an extent %d", kname, d,
                       (long long)first, (long long)last, input_shape->dims[d]);
  }
  const size_t es = params->elem_size;
  size_t istride[ETPU_KMAX_RANK];
  size_t s = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    istride[d] = s;
    s *= (size_t)input_shape->dims[d];
  }
  int32_t idx[ETPU_KMAX_RANK] = {0};
  const uint8_t *src = input;
  uint8_t *dst = output;
  for (size_t o = 0; o < ocount; o++) {
    size_t off = 0;
    for (int32_t d = 0; d < rank; d++)
      off += (size_t)((int64_t)params->begin[d] + (int64_t)idx[d] * params->stride[d]) * istride[d];
    memcpy(dst + o * es, src + off * es, es);
    for (int32_t d = rank - 1; d >= 0; d--) {
      if (++idx[d] < params->out_dims[d]) break;
      idx[d] = 0;
    }
  }
  return ETPU_OK;
}
