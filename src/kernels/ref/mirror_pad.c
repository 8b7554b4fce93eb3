/*
 * mirror_pad.c — MIRROR_PAD (TFLite mirror_pad.cc, GetInputDimension): an
 * output index j of dimension d (input size n, left padding L) reads input
 * index
 *   j < L:        (L + k − 1) − min(j, L − 1)
 *   j − L >= n:   (n − 1 − k) − min(j − L − n, n − 1 − k)
 *   otherwise:    j − L
 * with k = 1 for REFLECT (the edge is not repeated) and 0 for SYMMETRIC.
 * Each padding must be at most n − k (TensorFlow's MirrorPad rule), which
 * keeps every index read inside the input; larger ones are refused.
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

static int64_t mirror_index(int64_t j, int64_t left, int64_t n, int64_t k) {
  if (j < left) {
    const int64_t orig = left + k - 1;
    const int64_t m = orig - k;
    return orig - (j < m ? j : m);
  }
  j -= left;
  if (j >= n) {
    j -= n;
    const int64_t orig = n - 1 - k;
    return orig - (j < orig ? j : orig);
  }
  return j;
}

etpu_status etpu_mirror_pad(const etpu_mirror_pad_params *params, const etpu_shape *input_shape, const void *input,
                            void *output) {
  static const char kname[] = "mirror_pad";
  etpu_status st = etpu_tcheck_move(kname, params, input_shape, input, output, params ? params->elem_size : 0);
  if (st != ETPU_OK) return st;
  const int32_t rank = input_shape->rank;
  const int64_t k = params->symmetric ? 0 : 1;
  int32_t odims[ETPU_KMAX_RANK];
  size_t ocount = 1, istride[ETPU_KMAX_RANK], s = 1;
  for (int32_t d = 0; d < rank; d++) {
    const int64_t n = input_shape->dims[d];
    if (params->before[d] < 0 || params->after[d] < 0)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: negative padding on dim %d", kname, d);
    /* TFLite: each padding at most n − k (REFLECT needs n − 1 cells beside the edge). */
    if ((params->before[d] || params->after[d]) && (params->before[d] > n - k || params->after[d] > n - k))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: padding (%d, %d) of dim %d exceeds the %s limit %lld", kname,
                       params->before[d], params->after[d], d, k ? "REFLECT" : "SYMMETRIC", (long long)(n - k));
    const int64_t e = n + params->before[d] + params->after[d];
    if (e > INT32_MAX || !etpu_mul_size(ocount, (size_t)e, &ocount))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output size overflows", kname);
    odims[d] = (int32_t)e;
  }
  for (int32_t d = rank - 1; d >= 0; d--) {
    istride[d] = s;
    s *= (size_t)input_shape->dims[d];
  }
  const size_t es = params->elem_size;
  int32_t idx[ETPU_KMAX_RANK] = {0};
  uint8_t *dst = output;
  const uint8_t *src = input;
  for (size_t o = 0; o < ocount; o++) {
    size_t off = 0;
    for (int32_t d = 0; d < rank; d++)
      off += (size_t)mirror_index(idx[d], params->before[d], input_shape->dims[d], k) * istride[d];
    memcpy(dst + o * es, src + off * es, es);
    for (int32_t d = rank - 1; d >= 0; d--) {
      if (++idx[d] < odims[d]) break;
      idx[d] = 0;
    }
  }
  return ETPU_OK;
}
