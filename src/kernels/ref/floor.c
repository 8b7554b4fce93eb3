/*
 * floor.c — FLOOR on float32: floorf per element (exact).
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_floor_f32(size_t count, const float *in, float *out) {
  etpu_status st = etpu_tcheck_ptrs("floor_f32", in, out, out);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < count; i++) out[i] = floorf(in[i]);
  return ETPU_OK;
}
