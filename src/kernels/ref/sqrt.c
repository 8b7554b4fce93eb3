/*
 * sqrt.c — SQRT on float32: sqrtf per element (IEEE correctly rounded, so
 * TFLite's std::sqrt and XNNPACK's vsqrt agree).
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_sqrt_f32(size_t count, const float *in, float *out) {
  etpu_status st = etpu_tcheck_ptrs("sqrt_f32", in, out, out);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < count; i++) out[i] = sqrtf(in[i]);
  return ETPU_OK;
}
