/*
 * add.c — ADD: etpu_addsub_params_init (shared with SUB, sub.c) and the
 * int8/uint8/float32/int32/int64 kernels, with broadcasting.
 *
 * TFLITE schemes (TFLITE.md §7.3; TFLite add.cc / sub.cc, TFLM
 * add_common.cc / sub_common.cc): x_i' = (x_i − zp_i)·2^20;
 * u_i = MBQM(x_i', m_i, s_i) (double rounding, shifts <= 0);
 * out = clamp(MBQM(u_1 ± u_2, m_out, s_out) + zp_out).
 *
 * XNNPACK scheme (src/microparams-init.c xnn_init_qs8_add_minmax_scalar_params
 * and the qs8-vadd kernels, read in google/XNNPACK): in float32,
 * r_i = s_i / s_out (SUB: r_2 = −s_2 / s_out); shift = 20 − the binary
 * exponent of max |r_i|; m_i = lrintf(r_i·2^shift) (half to even);
 * bias = 2^(shift−1) − m_1·zp_1 − m_2·zp_2; out = clamp(((bias + m_1·x_1 +
 * m_2·x_2) >> shift) + zp_out) with an arithmetic shift.
 */
#include <math.h>
#include <string.h>

#include "kernels/ref/tensor_util.h"

static bool scale_ok(float s) { return isfinite(s) && s > 0.0f; }

static etpu_status init_tflite(bool float_ratios, const etpu_qparam *in1, const etpu_qparam *in2,
                               const etpu_qparam *out, etpu_addsub_params *p) {
  double m1, m2, mo;
  if (float_ratios) {
    /* TFLM sub_common.cc: every ratio in float, then widened. */
    const float twice_max = 2.0f * (in1->scale > in2->scale ? in1->scale : in2->scale);
    m1 = (double)(in1->scale / twice_max);
    m2 = (double)(in2->scale / twice_max);
    mo = (double)(twice_max / ((float)(1 << 20) * out->scale));
  } else {
    const double twice_max = 2.0 * (double)(in1->scale > in2->scale ? in1->scale : in2->scale);
    m1 = (double)in1->scale / twice_max;
    m2 = (double)in2->scale / twice_max;
    mo = twice_max / ((double)(1 << 20) * (double)out->scale);
  }
  etpu_status st;
  if ((st = etpu_quantize_multiplier(m1, 0, &p->input1.multiplier, &p->input1.shift)) != ETPU_OK) return st;
  if ((st = etpu_quantize_multiplier(m2, 0, &p->input2.multiplier, &p->input2.shift)) != ETPU_OK) return st;
  if ((st = etpu_quantize_multiplier(mo, 0, &p->output.multiplier, &p->output.shift)) != ETPU_OK) return st;
  if (p->output.shift > 31)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: output ratio %g is too large", mo);
  p->input1.scale = p->input2.scale = p->output.scale = 0.0f;
  p->left_shift = 20;
  p->input1_offset = -in1->zero_point;
  p->input2_offset = -in2->zero_point;
  return ETPU_OK;
}

static int32_t float_exponent(float f) {
  uint32_t bits;
  memcpy(&bits, &f, 4);
  return (int32_t)((bits >> 23) & 0xff) - 127;
}

static etpu_status init_xnnpack(bool subtract, const etpu_qparam *in1, const etpu_qparam *in2,
                                const etpu_qparam *out, etpu_addsub_params *p) {
  const float r1 = in1->scale / out->scale;
  const float r2 = in2->scale / out->scale; /* |−s2/s_out| is the same float */
  const float lo = 0x1.0p-10f, hi = 0x1.0p+8f;
  if (!(r1 >= lo && r1 < hi && r2 >= lo && r2 < hi))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: XNNPACK needs input/output scale ratios in [2^-10, 2^8); "
                     "got %g and %g", (double)r1, (double)r2);
  const float rmax = r1 > r2 ? r1 : r2;
  const int32_t shift = 20 - float_exponent(rmax); /* [12, 30] */
  /* r·2^shift is exact (an exponent change); lrintf rounds half to even. */
  const int32_t m1 = (int32_t)etpu_round_half_even_f32(ldexpf(r1, shift));
  const int32_t m2a = (int32_t)etpu_round_half_even_f32(ldexpf(r2, shift));
  const int32_t m2 = subtract ? -m2a : m2a;
  p->xnn_multiplier1 = m1;
  p->xnn_multiplier2 = m2;
  p->xnn_shift = shift;
  p->xnn_bias = (int32_t)(((int64_t)1 << (shift - 1)) - (int64_t)m1 * in1->zero_point - (int64_t)m2 * in2->zero_point);
  return ETPU_OK;
}

etpu_status etpu_addsub_params_init(etpu_addsub_scheme scheme, bool subtract, const etpu_qparam *in1,
                                    const etpu_qparam *in2, const etpu_qparam *out, int32_t activation_min,
                                    int32_t activation_max, etpu_addsub_params *params_out) {
  if (!in1 || !in2 || !out || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: NULL argument");
  if (!scale_ok(in1->scale) || !scale_ok(in2->scale) || !scale_ok(out->scale))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: scales %g, %g, %g must be finite and > 0",
                     (double)in1->scale, (double)in2->scale, (double)out->scale);
  if (activation_min > activation_max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: activation range [%d, %d] is empty", activation_min,
                     activation_max);
  if (in1->zero_point < -255 || in1->zero_point > 255 || in2->zero_point < -255 || in2->zero_point > 255 ||
      out->zero_point < -255 || out->zero_point > 255)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: zero points %d, %d, %d are not 8-bit", in1->zero_point,
                     in2->zero_point, out->zero_point);
  etpu_addsub_params p;
  memset(&p, 0, sizeof p);
  p.scheme = scheme;
  p.output_offset = out->zero_point;
  p.activation_min = activation_min;
  p.activation_max = activation_max;
  etpu_status st;
  switch (scheme) {
    case ETPU_ADDSUB_TFLITE:
    case ETPU_ADDSUB_TFLITE_FLOAT_RATIOS:
      st = init_tflite(scheme == ETPU_ADDSUB_TFLITE_FLOAT_RATIOS, in1, in2, out, &p);
      break;
    case ETPU_ADDSUB_XNNPACK:
      st = init_xnnpack(subtract, in1, in2, out, &p);
      break;
    default:
      return etpu_fail(ETPU_INVALID_ARGUMENT, "add/sub params: unknown scheme %d", (int)scheme);
  }
  if (st != ETPU_OK) return st;
  *params_out = p;
  return ETPU_OK;
}

/* One quantized ADD/SUB output from raw input values. */
static inline int32_t addsub_one(const etpu_addsub_params *p, bool subtract, int32_t x1, int32_t x2) {
  if (p->scheme == ETPU_ADDSUB_XNNPACK) {
    /* |m·x| < 2^21·2^8 and the bias is bounded alike: no int32 overflow. */
    const int32_t acc = p->xnn_bias + p->xnn_multiplier1 * x1 + p->xnn_multiplier2 * x2;
    return etpu_clamp_i32((int64_t)(acc >> p->xnn_shift) + p->output_offset, p->activation_min, p->activation_max);
  }
  const int32_t v1 = (x1 + p->input1_offset) * (1 << p->left_shift);
  const int32_t v2 = (x2 + p->input2_offset) * (1 << p->left_shift);
  const int32_t u1 = etpu_mbqm_double_round(v1, p->input1.multiplier, p->input1.shift);
  const int32_t u2 = etpu_mbqm_double_round(v2, p->input2.multiplier, p->input2.shift);
  const int32_t raw = subtract ? u1 - u2 : u1 + u2;
  const int32_t o = etpu_mbqm_double_round(raw, p->output.multiplier, p->output.shift);
  return etpu_clamp_i32((int64_t)o + p->output_offset, p->activation_min, p->activation_max);
}

etpu_status etpu_addsub_q8(const char *kname, bool subtract, bool is_signed, const etpu_addsub_params *p,
                           const etpu_bcast *plan, const void *in1, const void *in2, void *out) {
  etpu_status st;
  if ((st = etpu_tcheck_ptrs(kname, p, in1, in2)) != ETPU_OK) return st;
  if ((st = etpu_tcheck_ptrs(kname, out, out, out)) != ETPU_OK) return st;
  if ((st = etpu_tcheck_bcast(kname, plan)) != ETPU_OK) return st;
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  if ((st = etpu_tcheck_act8(kname, p->activation_min, p->activation_max, lo, hi)) != ETPU_OK) return st;
  if (p->scheme == ETPU_ADDSUB_XNNPACK) {
    if (p->xnn_shift < 1 || p->xnn_shift > 30 || p->xnn_multiplier1 < -(1 << 21) || p->xnn_multiplier1 > (1 << 21) ||
        p->xnn_multiplier2 < -(1 << 21) || p->xnn_multiplier2 > (1 << 21))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: XNNPACK multipliers %d, %d or shift %d out of range", kname,
                       p->xnn_multiplier1, p->xnn_multiplier2, p->xnn_shift);
  } else if (p->scheme == ETPU_ADDSUB_TFLITE || p->scheme == ETPU_ADDSUB_TFLITE_FLOAT_RATIOS) {
    if (p->left_shift < 0 || p->left_shift > 20 || p->input1.shift > 0 || p->input2.shift > 0 ||
        p->input1.shift < -31 || p->input2.shift < -31 || p->output.shift < -31 || p->output.shift > 31 ||
        p->input1_offset < -255 || p->input1_offset > 255 || p->input2_offset < -255 || p->input2_offset > 255)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: fixed-point parameters out of range", kname);
  } else {
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: unknown scheme %d", kname, (int)p->scheme);
  }
  etpu_bcast_iter it = {{0}, 0, 0};
  if (is_signed) {
    const int8_t *a = in1, *b = in2;
    int8_t *o = out;
    for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it))
      o[i] = (int8_t)addsub_one(p, subtract, a[it.off1], b[it.off2]);
  } else {
    const uint8_t *a = in1, *b = in2;
    uint8_t *o = out;
    for (size_t i = 0; i < plan->count; i++, etpu_bcast_iter_next(plan, &it))
      o[i] = (uint8_t)addsub_one(p, subtract, a[it.off1], b[it.off2]);
  }
  return ETPU_OK;
}

etpu_status etpu_add_s8(const etpu_addsub_params *params, const etpu_bcast *plan, const int8_t *in1,
                        const int8_t *in2, int8_t *out) {
  return etpu_addsub_q8("add_s8", false, true, params, plan, in1, in2, out);
}

etpu_status etpu_add_u8(const etpu_addsub_params *params, const etpu_bcast *plan, const uint8_t *in1,
                        const uint8_t *in2, uint8_t *out) {
  return etpu_addsub_q8("add_u8", false, false, params, plan, in1, in2, out);
}

etpu_status etpu_add_f32(const etpu_act_f32 *act, const etpu_bcast *plan, const float *in1, const float *in2,
                         float *out) {
  etpu_status st = etpu_tcheck_binary("add_f32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_f(in1[it.off1] + in2[it.off2], act));
  return ETPU_OK;
}

etpu_status etpu_add_s32(const etpu_act_int *act, const etpu_bcast *plan, const int32_t *in1, const int32_t *in2,
                         int32_t *out) {
  etpu_status st = etpu_tcheck_binary("add_s32", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, (int32_t)etpu_clamp_int(etpu_wrap_add32(in1[it.off1], in2[it.off2]), act));
  return ETPU_OK;
}

etpu_status etpu_add_s64(const etpu_act_int *act, const etpu_bcast *plan, const int64_t *in1, const int64_t *in2,
                         int64_t *out) {
  etpu_status st = etpu_tcheck_binary("add_s64", act, plan, in1, in2, out);
  if (st != ETPU_OK) return st;
  ETPU_BINARY_LOOP(plan, out, etpu_clamp_int(etpu_wrap_add64(in1[it.off1], in2[it.off2]), act));
  return ETPU_OK;
}
