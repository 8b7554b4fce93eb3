/*
 * vadd_scalar.c — the quantized ADD/SUB micro-kernels of ukernel.h in plain
 * C, both schemes (etpu_vadd_params): XNNPACK's one multiply-add and shift
 * (the litert profile, where LiteRT's XNNPACK delegate takes the op) and
 * TFLite's three double-rounding fixed-point multiplies after a left shift
 * of 20 (the tflite-ref profile and TFLite's builtin kernel). Each value is
 * computed as the reference's addsub_one (src/kernels/ref/add.c) computes it,
 * in the uint8 domain the parameters are folded to; these are the fallback
 * of every level and the kernel tester's second oracle.
 */
#include "kernels/opt/opt_internal.h"
#include "kernels/ukernel/ukernel.h"

void etpu_vadd_xnn_scalar(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p) {
  const uint32_t flip = p->flip;
  for (size_t i = 0; i < n; i++) {
    const uint32_t u1 = a[i] ^ flip, u2 = b[i] ^ flip;
    /* wrapping: the folded bias alone may pass 2^31; the whole sum does not */
    const int32_t acc = (int32_t)((uint32_t)p->bias + (uint32_t)p->m1 * u1 + (uint32_t)p->m2 * u2);
    int32_t v = (acc >> p->shift) + p->zp;
    v = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
    out[i] = (uint8_t)((uint32_t)v ^ flip);
  }
}

void etpu_vadd_q31_scalar(size_t n, const uint8_t *a, const uint8_t *b, uint8_t *out, const etpu_vadd_params *p) {
  const uint32_t flip = p->flip;
  const etpu_requant r1 = {p->mult1, p->shift1, 0.0f}, r2 = {p->mult2, p->shift2, 0.0f};
  const etpu_requant ro = {p->multo, p->shifto, 0.0f};
  const etpu_requant_mode dr = ETPU_REQUANT_DOUBLE_ROUND;
  for (size_t i = 0; i < n; i++) {
    const int32_t v1 = (int32_t)((a[i] ^ flip) + p->off1) * (1 << p->left);
    const int32_t v2 = (int32_t)((b[i] ^ flip) + p->off2) * (1 << p->left);
    const int32_t t1 = etpu_opt_requant(v1, &r1, dr, 0, INT32_MIN, INT32_MAX);
    const int32_t t2 = etpu_opt_requant(v2, &r2, dr, 0, INT32_MIN, INT32_MAX);
    const int32_t v = etpu_opt_requant(p->subtract ? t1 - t2 : t1 + t2, &ro, dr, p->zp, p->lo, p->hi);
    out[i] = (uint8_t)((uint32_t)v ^ flip);
  }
}
