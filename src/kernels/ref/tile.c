/*
 * tile.c — TILE (TFLite tile.cc): the input repeated multiples[d] times
 * along each dimension d; out[i_0, …] = in[i_0 mod in_0, …]. Any element
 * size; the caller checks the output shape.
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_tile(const etpu_shape *input_shape, const int64_t *multiples, size_t elem_size, const void *input,
                      void *output) {
  static const char kname[] = "tile";
  etpu_status st = etpu_tcheck_move(kname, multiples, input_shape, input, output, elem_size);
  if (st != ETPU_OK) return st;
  const int32_t rank = input_shape->rank;
  int64_t odims[ETPU_KMAX_RANK];
  size_t ocount = 1, istride[ETPU_KMAX_RANK], s = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    istride[d] = s;
    s *= (size_t)input_shape->dims[d];
  }
  for (int32_t d = 0; d < rank; d++) {
    if (multiples[d] < 0 || multiples[d] > INT32_MAX)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: multiple %lld of dim %d is out of range", kname,
                       (long long)multiples[d], d);
    odims[d] = (int64_t)input_shape->dims[d] * multiples[d];
    if (odims[d] > INT32_MAX || !etpu_mul_size(ocount, (size_t)odims[d], &ocount))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output size overflows", kname);
  }
  int64_t idx[ETPU_KMAX_RANK] = {0};
  uint8_t *dst = output;
  const uint8_t *src = input;
  for (size_t o = 0; o < ocount; o++) {
    size_t off = 0;
    for (int32_t d = 0; d < rank; d++) off += (size_t)(idx[d] % input_shape->dims[d]) * istride[d];
    memcpy(dst + o * elem_size, src + off * elem_size, elem_size);
    for (int32_t d = rank - 1; d >= 0; d--) {
      if (++idx[d] < odims[d]) break;
      idx[d] = 0;
    }
  }
  return ETPU_OK;
}
