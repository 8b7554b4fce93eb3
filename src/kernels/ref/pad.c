/*
 * pad.c — PAD and PADV2: each output cell is the input cell at
 * (i_d − before_d) when that lies inside the input, else the fill value
 * (TFLite reference Pad; for a quantized PAD the caller passes the output
 * zero point, for PADV2 the constant's raw value).
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_pad(const etpu_pad_params *params, const etpu_shape *input_shape, const void *input, void *output) {
  static const char kname[] = "pad";
  etpu_status st = etpu_tcheck_ptrs(kname, params, input, output);
  if (st != ETPU_OK) return st;
  if ((st = etpu_tcheck_shape(kname, "input", input_shape, NULL)) != ETPU_OK) return st;
  if (!etpu_elem_size_ok(params->elem_size) || !params->fill)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: element size %zu or fill value missing", kname, params->elem_size);
  const int32_t rank = input_shape->rank;
  int32_t odims[ETPU_KMAX_RANK];
  size_t ocount = 1;
  for (int32_t d = 0; d < rank; d++) {
    if (params->before[d] < 0 || params->after[d] < 0)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: negative padding on dim %d", kname, d);
    const int64_t e = (int64_t)input_shape->dims[d] + params->before[d] + params->after[d];
    if (e > INT32_MAX || !etpu_mul_size(ocount, (size_t)e, &ocount))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output size overflows", kname);
    odims[d] = (int32_t)e;
  }
  const size_t es = params->elem_size;
  size_t istride[ETPU_KMAX_RANK];
  size_t s = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    istride[d] = s;
    s *= (size_t)input_shape->dims[d];
  }
  int32_t idx[ETPU_KMAX_RANK] = {0};
  uint8_t *dst = output;
  const uint8_t *src = input;
  for (size_t o = 0; o < ocount; o++) {
    bool inside = true;
    size_t off = 0;
    for (int32_t d = 0; d < rank; d++) {
      const int32_t i = idx[d] - params->before[d];
      if (i < 0 || i >= input_shape->dims[d]) {
        inside = false;
        break;
      }
      off += (size_t)i * istride[d];
    }
    memcpy(dst + o * es, inside ? src + off * es : (const uint8_t *)params->fill, es);
    for (int32_t d = rank - 1; d >= 0; d--) {
      if (++idx[d] < odims[d]) break;
      idx[d] = 0;
    }
  }
  return ETPU_OK;
}
