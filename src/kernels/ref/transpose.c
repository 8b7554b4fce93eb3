/*
 * transpose.c — TRANSPOSE: output dim d is input dim perm[d]; the output
 * is written in row-major order, each element read from its permuted
 * input position (bytes copied).
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_transpose(const etpu_shape *input_shape, const int32_t *perm, size_t elem_size, const void *input,
                           void *output) {
  static const char kname[] = "transpose";
  etpu_status st = etpu_tcheck_ptrs(kname, perm, input, output);
  if (st != ETPU_OK) return st;
  size_t count;
  if ((st = etpu_tcheck_shape(kname, "input", input_shape, &count)) != ETPU_OK) return st;
  if (!etpu_elem_size_ok(elem_size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu", kname, elem_size);
  const int32_t rank = input_shape->rank;
  bool seen[ETPU_KMAX_RANK] = {false};
  for (int32_t d = 0; d < rank; d++) {
    if (perm[d] < 0 || perm[d] >= rank || seen[perm[d]])
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: perm is not a permutation of 0..%d", kname, rank - 1);
    seen[perm[d]] = true;
  }
  size_t istride[ETPU_KMAX_RANK], s = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    istride[d] = s;
    s *= (size_t)input_shape->dims[d];
  }
  int32_t odims[ETPU_KMAX_RANK];
  size_t ostep[ETPU_KMAX_RANK]; /* input stride of each output dim */
  for (int32_t d = 0; d < rank; d++) {
    odims[d] = input_shape->dims[perm[d]];
    ostep[d] = istride[perm[d]];
  }
  int32_t idx[ETPU_KMAX_RANK] = {0};
  size_t off = 0;
  const uint8_t *src = input;
  uint8_t *dst = output;
  for (size_t o = 0; o < count; o++) {
    memcpy(dst + o * elem_size, src + off * elem_size, elem_size);
    for (int32_t d = rank - 1; d >= 0; d--) {
      off += ostep[d];
      if (++idx[d] < odims[d]) break;
      off -= ostep[d] * (size_t)odims[d];
      idx[d] = 0;
    }
  }
  return ETPU_OK;
}
