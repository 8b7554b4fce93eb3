/*
 * eltwise_opt.c — the driver of the quantized ADD/SUB micro-kernels
 * (eltwise_opt.h): folds the reference's parameters to the uint8 domain
 * once and hands element ranges to the ISA's kernel.
 *
 * Folding int8 (u = x + 128, the byte XOR 0x80): XNNPACK scheme,
 * bias + m1·x1 + m2·x2 = (bias − 128·(m1 + m2)) + m1·u1 + m2·u2, output
 * zero point and clamp + 128; TFLite scheme, x + off = u + (off − 128).
 * The checks are the reference kernel's (src/kernels/ref/add.c), so the
 * kernels never see parameters the reference would refuse.
 */
#include <string.h>

#include "kernels/opt/eltwise_opt.h"

bool etpu_opt_addsub_init(const etpu_addsub_params *q, bool subtract, bool is_signed, etpu_opt_addsub *out) {
  const int32_t tlo = is_signed ? -128 : 0, thi = is_signed ? 127 : 255, fold = is_signed ? 128 : 0;
  if (q->activation_min < tlo || q->activation_max > thi || q->activation_min > q->activation_max) return false;
  if (q->output_offset < -255 || q->output_offset > 255) return false;
  etpu_vadd_params p;
  memset(&p, 0, sizeof p);
  p.flip = is_signed ? 0x80u : 0u;
  p.zp = q->output_offset + fold;
  p.lo = q->activation_min + fold;
  p.hi = q->activation_max + fold;
  if (q->scheme == ETPU_ADDSUB_XNNPACK) {
    if (q->xnn_shift < 1 || q->xnn_shift > 30 || q->xnn_multiplier1 < -(1 << 21) || q->xnn_multiplier1 > (1 << 21) ||
        q->xnn_multiplier2 < -(1 << 21) || q->xnn_multiplier2 > (1 << 21))
      return false;
    const int64_t bias = (int64_t)q->xnn_bias - (int64_t)fold * ((int64_t)q->xnn_multiplier1 + q->xnn_multiplier2);
    if (bias < INT32_MIN || bias > INT32_MAX) return false;
    p.bias = (int32_t)bias, p.m1 = q->xnn_multiplier1, p.m2 = q->xnn_multiplier2, p.shift = q->xnn_shift;
  } else if (q->scheme == ETPU_ADDSUB_TFLITE || q->scheme == ETPU_ADDSUB_TFLITE_FLOAT_RATIOS) {
    if (q->left_shift < 0 || q->left_shift > 20 || q->input1.shift > 0 || q->input2.shift > 0 ||
        q->input1.shift < -31 || q->input2.shift < -31 || q->output.shift < -31 || q->output.shift > 31 ||
        q->input1_offset < -255 || q->input1_offset > 255 || q->input2_offset < -255 || q->input2_offset > 255)
      return false;
    p.off1 = q->input1_offset - fold, p.off2 = q->input2_offset - fold, p.left = q->left_shift;
    p.mult1 = q->input1.multiplier, p.shift1 = q->input1.shift;
    p.mult2 = q->input2.multiplier, p.shift2 = q->input2.shift;
    p.multo = q->output.multiplier, p.shifto = q->output.shift;
    p.subtract = subtract;
  } else {
    return false;
  }
  out->p = p;
  out->xnn = q->scheme == ETPU_ADDSUB_XNNPACK;
  return true;
}

void etpu_opt_addsub_run(const etpu_ukernel_config *cfg, const etpu_opt_addsub *d, const void *a, const void *b,
                         void *out, size_t begin, size_t end) {
  if (!cfg) cfg = etpu_ukernel_config_get();
  etpu_vadd_ukernel k = d->xnn ? cfg->vadd_xnn : cfg->vadd_q31;
  if (!k) k = d->xnn ? etpu_vadd_xnn_scalar : etpu_vadd_q31_scalar;
  if (end > begin)
    k(end - begin, (const uint8_t *)a + begin, (const uint8_t *)b + begin, (uint8_t *)out + begin, &d->p);
}
