/*
 * abs.c — ABS: float32 fabsf, and the quantized form of TFLite's
 * elementwise.cc (AbsEvalQuantized): |x − zp_in| shifted to the output zero
 * point, rescaled by s_in/s_out (QuantizeMultiplier in double, double
 * rounding) only when the two scales differ, then clamped to the type.
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_abs_f32(size_t count, const float *in, float *out) {
  etpu_status st = etpu_tcheck_ptrs("abs_f32", in, out, in);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < count; i++) out[i] = fabsf(in[i]);
  return ETPU_OK;
}

etpu_status etpu_abs_params_init(const etpu_qparam *in, const etpu_qparam *out, etpu_abs_params *params_out) {
  if (!in || !out || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "abs params: NULL argument");
  if (in->zero_point < -128 || in->zero_point > 255 || out->zero_point < -128 || out->zero_point > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "abs params: zero points %d, %d are not 8-bit", in->zero_point,
                     out->zero_point);
  etpu_abs_params p;
  memset(&p, 0, sizeof p);
  p.input_zero_point = in->zero_point;
  p.output_zero_point = out->zero_point;
  p.rescale = in->scale != out->scale;
  /* s_in · 1 / s_out in double is TFLite's input_scale / output_scale. */
  etpu_status st = etpu_requant_init(in->scale, 1.0f, out->scale, ETPU_REQUANT_DOUBLE_ROUND, &p.rq);
  if (st != ETPU_OK) return etpu_fail_prefix(st, "abs params");
  *params_out = p;
  return ETPU_OK;
}

static int32_t abs_q(const etpu_abs_params *p, int32_t x, int32_t lo, int32_t hi) {
  const int32_t v = x >= p->input_zero_point ? x - p->input_zero_point : p->input_zero_point - x;
  const int32_t o = (p->rescale ? etpu_mbqm_double_round(v, p->rq.multiplier, p->rq.shift) : v) + p->output_zero_point;
  return o < lo ? lo : o > hi ? hi : o;
}

etpu_status etpu_abs_s8(const etpu_abs_params *params, size_t count, const int8_t *in, int8_t *out) {
  etpu_status st = etpu_tcheck_ptrs("abs_s8", params, in, out);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < count; i++) out[i] = (int8_t)abs_q(params, in[i], -128, 127);
  return ETPU_OK;
}

etpu_status etpu_abs_u8(const etpu_abs_params *params, size_t count, const uint8_t *in, uint8_t *out) {
  etpu_status st = etpu_tcheck_ptrs("abs_u8", params, in, out);
  if (st != ETPU_OK) return st;
  for (size_t i = 0; i < count; i++) out[i] = (uint8_t)abs_q(params, in[i], 0, 255);
  return ETPU_OK;
}
