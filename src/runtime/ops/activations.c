/*
 * activations.c — runtime glue of the activation ops: SOFTMAX, LOGISTIC,
 * TANH, L2_NORMALIZATION, RELU, RELU6, RELU_N1_TO_1, LEAKY_RELU, PRELU and
 * HARD_SWISH, for int8, uint8 and float32 (kernels: kernels/activations.h).
 *
 * Prepare checks types, shapes, options and the fixed output quantization
 * the kernels assume, and builds the parameters (and lookup tables) once.
 * The arithmetic follows the interpreter's profile (TFLITE.md §9):
 *
 *   op                 tflite-ref (TFLite Micro)        litert (LiteRT builtin kernels)
 *   SOFTMAX int8/uint8 fixed point (§7.7a)             float exp table (§7.7b)
 *   LOGISTIC, TANH     gemmlowp fixed point (§7.8)      256-entry table, round half away
 *   the others         TFLite reference kernels         the same
 *
 * Every SOFTMAX and LOGISTIC op of the goldens (TFLite Micro; LiteRT 2.5.3)
 * matches byte for byte, but those inputs do not tell the two arithmetics
 * apart (both give the same bytes there); litert follows TFLite's builtin
 * kernels as TFLITE.md §9.2 says (LiteRT ran SOFTMAX as a builtin; whether its
 * XNNPACK delegate takes quantized LOGISTIC is not known — its table would
 * differ only where a value falls exactly between two steps).
 */
#include <math.h>
#include <string.h>

#include "kernels/activations.h"
#include "runtime/interp.h"

/* Which kernel an op runs (chosen at prepare). */
typedef enum act_kind {
  K_F32 = 0,  /* float32 kernel */
  K_FIXED,    /* fixed-point / reference integer kernel */
  K_LUT,      /* 256-entry table */
  K_SOFTMAX_LUT,
  K_S8_S16,   /* SOFTMAX int8 → int16 */
} act_kind;

typedef struct act_params {
  act_kind kind;
  int32_t type;    /* input element type */
  int32_t outer;   /* rows (softmax, l2norm) */
  int32_t depth;   /* last dimension */
  float beta;      /* softmax f32 */
  float lo, hi;    /* relu f32 */
  float alpha;     /* leaky relu f32 */
  etpu_shape4 in_shape, alpha_shape, out_shape; /* prelu */
  union {
    etpu_softmax_params softmax;
    etpu_softmax_lut_params softmax_lut;
    etpu_sigmoid_params sigmoid;
    uint8_t table[256];
    etpu_relu_params relu;
    etpu_leaky_relu_params leaky;
    etpu_prelu_params prelu;
    etpu_hard_swish_params hard_swish;
  } u;
} act_params;

static act_params *new_params(etpu_interp *ip, etpu_rop *op) {
  act_params *p = etpu_op_alloc(ip, sizeof *p);
  op->params = p;
  return p;
}

static bool is_q8(int32_t type) { return type == ETPU_INT8 || type == ETPU_UINT8; }

/* Common checks of a one-input, one-output op whose output has the input's
 * shape and type (int8, uint8 or float32). */
static etpu_status unary_prepare(etpu_interp *ip, etpu_rop *op, etpu_rtensor **in_out, etpu_rtensor **out_out) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  if (in->type != ETPU_FLOAT32 && !is_q8(in->type))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; this kernel takes int8, uint8 or float32",
                        in->name, etpu_dtype_name(in->type));
  if ((st = etpu_op_check_same_shape(ip, op, in, out)) != ETPU_OK) return st;
  if (is_q8(in->type)) {
    if ((st = etpu_op_check_quant(ip, op, in, "input")) != ETPU_OK) return st;
    if ((st = etpu_op_check_quant(ip, op, out, "output")) != ETPU_OK) return st;
  }
  *in_out = in;
  *out_out = out;
  return ETPU_OK;
}

static etpu_status check_out_type(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *in, const etpu_rtensor *out) {
  return etpu_op_check_type(ip, op, out, "output", in->type);
}

/* The fixed output quantization some kernels assume: exact zero point and a
 * scale within TFLite's tolerance (0.1 %). */
static etpu_status check_fixed_out(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *out, float scale, int32_t zp) {
  if (out->zero_point != zp || fabsf(out->scale - scale) > 0.001f * scale)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' has quantization (%g, %d); %s %s needs (%g, %d)",
                        out->name, (double)out->scale, out->zero_point, etpu_dtype_name(out->type), op->name,
                        (double)scale, zp);
  return ETPU_OK;
}

/* Rows of the last dimension. */
static etpu_status rows(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *in, act_params *p) {
  if (in->rank < 1 || in->elems == 0)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' must have rank >= 1 and elements", in->name);
  p->depth = in->dims[in->rank - 1];
  if (p->depth < 1 || in->elems / (size_t)p->depth > INT32_MAX)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is too large", in->name);
  p->outer = (int32_t)(in->elems / (size_t)p->depth);
  return ETPU_OK;
}

static etpu_status kernel_fail(etpu_interp *ip, etpu_rop *op, etpu_status st) {
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

/* ---- SOFTMAX ------------------------------------------------------------- */

static etpu_status softmax_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  if ((st = etpu_op_check_same_shape(ip, op, in, out)) != ETPU_OK) return st;
  if ((st = rows(ip, op, in, p)) != ETPU_OK) return st;
  const double beta = etpu_op_opt_float(op, ETPU_T_SoftmaxOptions, ETPU_F_SoftmaxOptions_beta);
  p->beta = (float)beta;
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return check_out_type(ip, op, in, out);
  }
  if (!is_q8(in->type))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; SOFTMAX takes int8, uint8 or float32", in->name,
                        etpu_dtype_name(in->type));
  if ((st = etpu_op_check_quant(ip, op, in, "input")) != ETPU_OK) return st;
  if ((st = etpu_op_check_quant(ip, op, out, "output")) != ETPU_OK) return st;
  if (in->type == ETPU_INT8 && out->type == ETPU_INT16 && ip->profile == ETPU_PROFILE_TFLITE_REF) {
    if ((st = check_fixed_out(ip, op, out, 1.0f / 32768.0f, 0)) != ETPU_OK) return st;
    p->kind = K_S8_S16;
    return kernel_fail(ip, op, etpu_softmax_params_init(beta, (double)in->scale, &p->u.softmax));
  }
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  if ((st = check_fixed_out(ip, op, out, 1.0f / 256.0f, in->type == ETPU_INT8 ? -128 : 0)) != ETPU_OK) return st;
  if (ip->profile == ETPU_PROFILE_TFLITE_REF) {
    p->kind = K_FIXED;
    return kernel_fail(ip, op, etpu_softmax_params_init(beta, (double)in->scale, &p->u.softmax));
  }
  p->kind = K_SOFTMAX_LUT;
  return kernel_fail(ip, op,
                     etpu_softmax_lut_params_init(p->beta, in->scale, out->scale, out->zero_point, &p->u.softmax_lut));
}

static etpu_status softmax_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  switch (p->kind) {
    case K_F32:
      st = etpu_softmax_f32(p->beta, p->outer, p->depth, (const float *)in->data, (float *)out->data);
      break;
    case K_FIXED:
      st = p->type == ETPU_INT8 ? etpu_softmax_s8(&p->u.softmax, p->outer, p->depth, (const int8_t *)in->data,
                                                  (int8_t *)out->data)
                                : etpu_softmax_u8(&p->u.softmax, p->outer, p->depth, in->data, out->data);
      break;
    case K_S8_S16:
      st = etpu_softmax_s8_s16(&p->u.softmax, p->outer, p->depth, (const int8_t *)in->data, (int16_t *)out->data);
      break;
    default:
      st = p->type == ETPU_INT8 ? etpu_softmax_lut_s8(&p->u.softmax_lut, p->outer, p->depth,
                                                      (const int8_t *)in->data, (int8_t *)out->data)
                                : etpu_softmax_lut_u8(&p->u.softmax_lut, p->outer, p->depth, in->data, out->data);
  }
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_softmax = {ETPU_OP_SOFTMAX, NULL, softmax_prepare, softmax_eval, NULL};

/* ---- LOGISTIC and TANH --------------------------------------------------- */

static etpu_status sigmoid_prepare(etpu_interp *ip, etpu_rop *op, bool is_tanh) {
  etpu_rtensor *in = NULL, *out = NULL;
  etpu_status st = unary_prepare(ip, op, &in, &out);
  if (st != ETPU_OK) return st;
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return ETPU_OK;
  }
  const bool s8 = in->type == ETPU_INT8;
  if (is_tanh) st = check_fixed_out(ip, op, out, 1.0f / 128.0f, s8 ? 0 : 128);
  else st = check_fixed_out(ip, op, out, 1.0f / 256.0f, s8 ? -128 : 0);
  if (st != ETPU_OK) return st;
  if (ip->profile == ETPU_PROFILE_TFLITE_REF) {
    p->kind = K_FIXED;
    st = s8 ? etpu_sigmoid_params_init_s8(in->scale, in->zero_point, &p->u.sigmoid)
            : etpu_sigmoid_params_init_u8(in->scale, in->zero_point, &p->u.sigmoid);
    return kernel_fail(ip, op, st);
  }
  p->kind = K_LUT;
  st = etpu_lut_init(is_tanh ? ETPU_LUT_TANH : ETPU_LUT_LOGISTIC, ETPU_LUT_ROUND_HALF_AWAY, s8, in->scale,
                     in->zero_point, out->scale, out->zero_point, p->u.table);
  return kernel_fail(ip, op, st);
}

static etpu_status logistic_prepare(etpu_interp *ip, etpu_rop *op) { return sigmoid_prepare(ip, op, false); }
static etpu_status tanh_prepare(etpu_interp *ip, etpu_rop *op) { return sigmoid_prepare(ip, op, true); }

static etpu_status lut_eval(etpu_interp *ip, etpu_rop *op, const act_params *p) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  etpu_status st = p->type == ETPU_INT8 ? etpu_lut_s8(p->u.table, in->elems, (const int8_t *)in->data, (int8_t *)out->data)
                                        : etpu_lut_u8(p->u.table, in->elems, in->data, out->data);
  return kernel_fail(ip, op, st);
}

static etpu_status logistic_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_LUT) return lut_eval(ip, op, p);
  if (p->kind == K_F32) st = etpu_logistic_f32(in->elems, (const float *)in->data, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_logistic_s8(&p->u.sigmoid, in->elems, (const int8_t *)in->data, (int8_t *)out->data);
  else st = etpu_logistic_u8(&p->u.sigmoid, in->elems, in->data, out->data);
  return kernel_fail(ip, op, st);
}

static etpu_status tanh_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_LUT) return lut_eval(ip, op, p);
  if (p->kind == K_F32) st = etpu_tanh_f32(in->elems, (const float *)in->data, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_tanh_s8(&p->u.sigmoid, in->elems, (const int8_t *)in->data, (int8_t *)out->data);
  else st = etpu_tanh_u8(&p->u.sigmoid, in->elems, in->data, out->data);
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_logistic = {ETPU_OP_LOGISTIC, NULL, logistic_prepare, logistic_eval, NULL};
const etpu_kernel_reg etpu_reg_tanh = {ETPU_OP_TANH, NULL, tanh_prepare, tanh_eval, NULL};

/* ---- L2_NORMALIZATION ---------------------------------------------------- */

static etpu_status l2norm_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = NULL, *out = NULL;
  etpu_status st = unary_prepare(ip, op, &in, &out);
  if (st != ETPU_OK) return st;
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  if ((st = rows(ip, op, in, p)) != ETPU_OK) return st;
  const int64_t act = etpu_op_opt_int(op, ETPU_T_L2NormOptions, ETPU_F_L2NormOptions_fused_activation_function);
  if (act != 0) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "fused activation %lld is not supported", (long long)act);
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return ETPU_OK;
  }
  p->kind = K_FIXED;
  if (p->depth >= 32768)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "last dimension %d is too large (the int32 sum could overflow)",
                        p->depth);
  return check_fixed_out(ip, op, out, 1.0f / 128.0f, in->type == ETPU_INT8 ? 0 : 128);
}

static etpu_status l2norm_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_F32)
    st = etpu_l2norm_f32(1e-6f, p->outer, p->depth, (const float *)in->data, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_l2norm_s8(in->zero_point, p->outer, p->depth, (const int8_t *)in->data, (int8_t *)out->data);
  else st = etpu_l2norm_u8(in->zero_point, p->outer, p->depth, in->data, out->data);
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_l2_normalization = {ETPU_OP_L2_NORMALIZATION, NULL, l2norm_prepare, l2norm_eval, NULL};

/* ---- RELU, RELU6, RELU_N1_TO_1 ------------------------------------------- */

static etpu_status relu_prepare_range(etpu_interp *ip, etpu_rop *op, float lo, float hi) {
  etpu_rtensor *in = NULL, *out = NULL;
  etpu_status st = unary_prepare(ip, op, &in, &out);
  if (st != ETPU_OK) return st;
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  p->lo = lo;
  p->hi = hi;
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return ETPU_OK;
  }
  p->kind = K_FIXED;
  const bool s8 = in->type == ETPU_INT8;
  return kernel_fail(ip, op,
                     etpu_relu_params_init(lo, hi, in->scale, in->zero_point, out->scale, out->zero_point,
                                           s8 ? -128 : 0, s8 ? 127 : 255, &p->u.relu));
}

static etpu_status relu_prepare(etpu_interp *ip, etpu_rop *op) { return relu_prepare_range(ip, op, 0.0f, INFINITY); }
static etpu_status relu6_prepare(etpu_interp *ip, etpu_rop *op) { return relu_prepare_range(ip, op, 0.0f, 6.0f); }
static etpu_status relu1_prepare(etpu_interp *ip, etpu_rop *op) { return relu_prepare_range(ip, op, -1.0f, 1.0f); }

static etpu_status relu_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_F32) st = etpu_relu_f32(p->lo, p->hi, in->elems, (const float *)in->data, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_relu_s8(&p->u.relu, in->elems, (const int8_t *)in->data, (int8_t *)out->data);
  else st = etpu_relu_u8(&p->u.relu, in->elems, in->data, out->data);
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_relu = {ETPU_OP_RELU, NULL, relu_prepare, relu_eval, NULL};
const etpu_kernel_reg etpu_reg_relu6 = {ETPU_OP_RELU6, NULL, relu6_prepare, relu_eval, NULL};
const etpu_kernel_reg etpu_reg_relu_n1_to_1 = {ETPU_OP_RELU_N1_TO_1, NULL, relu1_prepare, relu_eval, NULL};

/* ---- LEAKY_RELU ---------------------------------------------------------- */

static etpu_status leaky_relu_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = NULL, *out = NULL;
  etpu_status st = unary_prepare(ip, op, &in, &out);
  if (st != ETPU_OK) return st;
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  p->alpha = (float)etpu_op_opt_float(op, ETPU_T_LeakyReluOptions, ETPU_F_LeakyReluOptions_alpha);
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return ETPU_OK;
  }
  p->kind = K_FIXED;
  return kernel_fail(ip, op, etpu_leaky_relu_params_init(p->alpha, in->scale, in->zero_point, out->scale,
                                                         out->zero_point, &p->u.leaky));
}

static etpu_status leaky_relu_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_F32) st = etpu_leaky_relu_f32(p->alpha, in->elems, (const float *)in->data, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_leaky_relu_s8(&p->u.leaky, in->elems, (const int8_t *)in->data, (int8_t *)out->data);
  else st = etpu_leaky_relu_u8(&p->u.leaky, in->elems, in->data, out->data);
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_leaky_relu = {ETPU_OP_LEAKY_RELU, NULL, leaky_relu_prepare, leaky_relu_eval, NULL};

/* ---- PRELU --------------------------------------------------------------- */

static etpu_status shape4(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *t, etpu_shape4 *s) {
  if (t->rank > 4) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "'%s' has rank %u; PRELU takes up to 4", t->name, t->rank);
  for (int d = 0; d < 4; d++) s->d[d] = 1;
  for (uint32_t d = 0; d < t->rank; d++) s->d[4 - t->rank + d] = t->dims[d];
  return ETPU_OK;
}

static etpu_status prelu_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *alpha = etpu_in(ip, op, 1), *out = etpu_out(ip, op, 0);
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  if (in->type != ETPU_FLOAT32 && !is_q8(in->type))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; PRELU takes int8, uint8 or float32", in->name,
                        etpu_dtype_name(in->type));
  if ((st = etpu_op_check_type(ip, op, alpha, "alpha", in->type)) != ETPU_OK) return st;
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  if ((st = shape4(ip, op, in, &p->in_shape)) != ETPU_OK) return st;
  if ((st = shape4(ip, op, alpha, &p->alpha_shape)) != ETPU_OK) return st;
  if ((st = shape4(ip, op, out, &p->out_shape)) != ETPU_OK) return st;
  for (int d = 0; d < 4; d++) {
    const int32_t o = p->in_shape.d[d] > p->alpha_shape.d[d] ? p->in_shape.d[d] : p->alpha_shape.d[d];
    if ((p->in_shape.d[d] != o && p->in_shape.d[d] != 1) || (p->alpha_shape.d[d] != o && p->alpha_shape.d[d] != 1) ||
        p->out_shape.d[d] != o)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "input, alpha and output shapes do not broadcast");
  }
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return ETPU_OK;
  }
  if ((st = etpu_op_check_quant(ip, op, in, "input")) != ETPU_OK) return st;
  if ((st = etpu_op_check_quant(ip, op, alpha, "alpha")) != ETPU_OK) return st;
  if ((st = etpu_op_check_quant(ip, op, out, "output")) != ETPU_OK) return st;
  if (alpha->quant && alpha->quant->count > 1)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "per-channel alpha quantization is not supported");
  p->kind = K_FIXED;
  return kernel_fail(ip, op,
                     etpu_prelu_params_init(in->scale, in->zero_point, alpha->scale, alpha->zero_point, out->scale,
                                            out->zero_point, ip->profile == ETPU_PROFILE_LITERT, &p->u.prelu));
}

static etpu_status prelu_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *alpha = etpu_in(ip, op, 1), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_F32)
    st = etpu_prelu_f32(&p->in_shape, (const float *)in->data, &p->alpha_shape, (const float *)alpha->data,
                        &p->out_shape, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_prelu_s8(&p->u.prelu, &p->in_shape, (const int8_t *)in->data, &p->alpha_shape,
                       (const int8_t *)alpha->data, &p->out_shape, (int8_t *)out->data);
  else
    st = etpu_prelu_u8(&p->u.prelu, &p->in_shape, in->data, &p->alpha_shape, alpha->data, &p->out_shape, out->data);
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_prelu = {ETPU_OP_PRELU, NULL, prelu_prepare, prelu_eval, NULL};

/* ---- HARD_SWISH ---------------------------------------------------------- */

static etpu_status hard_swish_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = NULL, *out = NULL;
  etpu_status st = unary_prepare(ip, op, &in, &out);
  if (st != ETPU_OK) return st;
  if ((st = check_out_type(ip, op, in, out)) != ETPU_OK) return st;
  act_params *p = new_params(ip, op);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  p->type = in->type;
  if (in->type == ETPU_FLOAT32) {
    p->kind = K_F32;
    return ETPU_OK;
  }
  p->kind = K_FIXED;
  return kernel_fail(ip, op, etpu_hard_swish_params_init(in->scale, in->zero_point, out->scale, out->zero_point,
                                                         &p->u.hard_swish));
}

static etpu_status hard_swish_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const act_params *p = op->params;
  etpu_status st;
  if (p->kind == K_F32) st = etpu_hard_swish_f32(in->elems, (const float *)in->data, (float *)out->data);
  else if (p->type == ETPU_INT8)
    st = etpu_hard_swish_s8(&p->u.hard_swish, in->elems, (const int8_t *)in->data, (int8_t *)out->data);
  else st = etpu_hard_swish_u8(&p->u.hard_swish, in->elems, in->data, out->data);
  return kernel_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_hard_swish = {ETPU_OP_HARD_SWISH, NULL, hard_swish_prepare, hard_swish_eval, NULL};
