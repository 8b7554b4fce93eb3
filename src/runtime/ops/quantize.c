/*
 * quantize.c — QUANTIZE and DEQUANTIZE (TFLITE.md §7.11).
 *
 * QUANTIZE float32 -> int8/uint8/int16: q = clamp(round(x / scale) + zp),
 * the division in float32 and rounding half away from zero (TFLite's
 * reference AffineQuantize). QUANTIZE int -> int (requantize, e.g. the
 * uint8 <-> int8 edges of Coral models): clamp(MBQM(x - zp_in, m, shift) +
 * zp_out) with m = s_in / s_out in double, double rounding.
 * DEQUANTIZE int8/uint8/int16 -> float32: (float)(scale * (q - zp)) with the
 * product in double; float16 -> float32 converts the half-precision value.
 */
#include <math.h>
#include <string.h>

#include "runtime/interp.h"

typedef struct quant_params {
  int32_t mult, shift;   /* requantize, TFLite (double rounding) */
  int32_t qmin, qmax;
  bool xnn;              /* litert: XNNPACK's 8-bit convert */
  int32_t xnn_mult;      /* lrintf(256 * s_in / s_out) */
  int32_t xnn_bias;      /* 256 * zp_out - xnn_mult * zp_in + 128 */
} quant_params;

static bool int_type_range(int32_t type, int32_t *lo, int32_t *hi) {
  switch (type) {
    case ETPU_INT8: *lo = -128; *hi = 127; return true;
    case ETPU_UINT8: *lo = 0; *hi = 255; return true;
    case ETPU_INT16: *lo = -32768; *hi = 32767; return true;
    default: return false;
  }
}

static int32_t load_int(const uint8_t *p, int32_t type, size_t i) {
  switch (type) {
    case ETPU_INT8: return (int8_t)p[i];
    case ETPU_UINT8: return p[i];
    default: {
      int16_t v;
      memcpy(&v, p + 2 * i, 2);
      return v;
    }
  }
}

static void store_int(uint8_t *p, int32_t type, size_t i, int32_t v) {
  switch (type) {
    case ETPU_INT8: p[i] = (uint8_t)(int8_t)v; break;
    case ETPU_UINT8: p[i] = (uint8_t)v; break;
    default: {
      int16_t s = (int16_t)v;
      memcpy(p + 2 * i, &s, 2);
    }
  }
}

static etpu_status quantize_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  quant_params *p = etpu_op_alloc(ip, sizeof *p);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = p;
  if (!int_type_range(out->type, &p->qmin, &p->qmax))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s; QUANTIZE produces int8, uint8 or int16", out->name,
                        etpu_dtype_name(out->type));
  if ((st = etpu_op_check_quant(ip, op, out, "output")) != ETPU_OK) return st;
  if ((st = etpu_op_check_same_shape(ip, op, in, out)) != ETPU_OK) return st;
  if (in->type == ETPU_FLOAT32) return ETPU_OK;
  int32_t lo, hi;
  if (!int_type_range(in->type, &lo, &hi))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; QUANTIZE takes float32, int8, uint8 or int16",
                        in->name, etpu_dtype_name(in->type));
  if ((st = etpu_op_check_quant(ip, op, in, "input")) != ETPU_OK) return st;
  st = etpu_quantize_multiplier((double)in->scale / (double)out->scale, 0, &p->mult, &p->shift);
  if (st != ETPU_OK) return etpu_op_fail(ip, op, ETPU_MALFORMED, "scale ratio is not finite");
  if (p->shift > 31 || p->shift < -31)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "scale ratio %g is out of range", (double)in->scale / out->scale);
  /* LiteRT hands 8-bit -> 8-bit QUANTIZE to XNNPACK's convert operator when
   * the scale ratio is in its range [2^-8, 2^7]: a multiplier with 8
   * fractional bits, out = (256*zp_out - m*zp_in + 128 + m*x) >> 8, clamped
   * (matches LiteRT on the deeplab goldens; for equal scales it is the same
   * exact +-128 as TFLite's). */
  float ratio = in->scale / out->scale;
  if (ip->profile == ETPU_PROFILE_LITERT && in->type != ETPU_INT16 && out->type != ETPU_INT16 &&
      ratio >= 1.0f / 256.0f && ratio <= 128.0f) {
    p->xnn = true;
    p->xnn_mult = (int32_t)lrintf(256.0f * ratio);
    p->xnn_bias = 256 * out->zero_point - p->xnn_mult * in->zero_point + 128;
  }
  return ETPU_OK;
}

static etpu_status quantize_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const quant_params *p = op->params;
  if (in->type == ETPU_FLOAT32) {
    for (size_t i = 0; i < in->elems; i++) {
      float x;
      memcpy(&x, in->data + 4 * i, 4);
      float r = roundf(x / out->scale);
      int32_t q;
      if (!(r == r)) q = out->zero_point; /* NaN */
      else if (r > 2147483520.0f) q = INT32_MAX;
      else if (r < -2147483648.0f) q = INT32_MIN;
      else q = (int32_t)r;
      int64_t v = (int64_t)q + out->zero_point;
      if (v < p->qmin) v = p->qmin;
      if (v > p->qmax) v = p->qmax;
      store_int(out->data, out->type, i, (int32_t)v);
    }
    return ETPU_OK;
  }
  if (p->xnn) {
    for (size_t i = 0; i < in->elems; i++) {
      int32_t v = (p->xnn_bias + p->xnn_mult * load_int(in->data, in->type, i)) >> 8;
      if (v < p->qmin) v = p->qmin;
      if (v > p->qmax) v = p->qmax;
      store_int(out->data, out->type, i, v);
    }
    return ETPU_OK;
  }
  for (size_t i = 0; i < in->elems; i++) {
    int32_t x = load_int(in->data, in->type, i) - in->zero_point;
    int64_t v = (int64_t)etpu_mbqm_double_round(x, p->mult, p->shift) + out->zero_point;
    if (v < p->qmin) v = p->qmin;
    if (v > p->qmax) v = p->qmax;
    store_int(out->data, out->type, i, (int32_t)v);
  }
  return ETPU_OK;
}

const etpu_kernel_reg etpu_reg_quantize = {ETPU_OP_QUANTIZE, NULL, quantize_prepare, quantize_eval, NULL};

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0) {
    if (man == 0) {
      bits = sign;
    } else { /* subnormal */
      int e = -1;
      do {
        e++;
        man <<= 1;
      } while (!(man & 0x400));
      bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (man << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (man << 13);
  }
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

static etpu_status dequantize_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  if ((st = etpu_op_check_type(ip, op, out, "output", ETPU_FLOAT32)) != ETPU_OK) return st;
  if ((st = etpu_op_check_same_shape(ip, op, in, out)) != ETPU_OK) return st;
  if (in->type == ETPU_FLOAT16) return ETPU_OK;
  int32_t lo, hi;
  if (!int_type_range(in->type, &lo, &hi))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; DEQUANTIZE takes int8, uint8, int16 or float16",
                        in->name, etpu_dtype_name(in->type));
  if (in->quant && in->quant->count > 1)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "per-axis DEQUANTIZE of '%s' is not supported yet", in->name);
  return etpu_op_check_quant(ip, op, in, "input");
}

static etpu_status dequantize_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  for (size_t i = 0; i < in->elems; i++) {
    float f;
    if (in->type == ETPU_FLOAT16) {
      uint16_t h;
      memcpy(&h, in->data + 2 * i, 2);
      f = half_to_float(h);
    } else {
      f = (float)((double)in->scale * (double)(load_int(in->data, in->type, i) - in->zero_point));
    }
    memcpy(out->data + 4 * i, &f, 4);
  }
  return ETPU_OK;
}

const etpu_kernel_reg etpu_reg_dequantize = {ETPU_OP_DEQUANTIZE, NULL, dequantize_prepare, dequantize_eval, NULL};
