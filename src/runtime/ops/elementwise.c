/*
 * elementwise.c — op glue for the elementwise kernels of tensor_ops.h:
 * ADD, SUB, MUL, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE, DIV, FLOOR_DIV, POW,
 * FLOOR_MOD (with broadcasting), SQRT, RSQRT, FLOOR, ABS and CAST.
 *
 * Arithmetic per profile (TFLITE.md §9):
 *  - tflite-ref: TFLite Micro / reference kernels. ADD uses the double
 *    ratios of add_common.cc, SUB the float ratios of TFLM's sub_common.cc;
 *    MUL double rounding; TFLite's activation rounding.
 *  - litert: what LiteRT 2.5.3 runs. Its XNNPACK delegate takes an 8-bit
 *    ADD or SUB when both s_i/s_out lie in [2^−10, 2^8), and an 8-bit MUL
 *    when (s1·s2)/s_out lies in [2^−16, 2^8) (float32 ratios; the
 *    delegate's CheckTensorsInputOutputScale / ...ProductOutputScale), and
 *    ranks <= 6; those use XNNPACK's schemes, with XNNPACK's clamp for a
 *    fused activation. Otherwise TFLite's builtin kernels run: ADD and SUB
 *    with double ratios, MUL double rounding. The other ops here compute
 *    the same bytes in both runtimes (float ops are IEEE-exact or XNNPACK
 *    does not take them; integer ops are plain C). POW is TFLite's builtin
 *    powf in both (XNNPACK has no POW); a quantized ABS is TFLite's
 *    AbsEvalQuantized in both (XNNPACK's delegate takes float ABS only).
 *
 * An 8-bit ADD or SUB whose inputs both have the output's shape runs the
 * per-ISA micro-kernels (src/kernels/opt/eltwise_opt.c), the same bytes as
 * the reference, split in element ranges over the interpreter's threads
 * when it is large enough; a broadcast runs the reference.
 */
#include <math.h>

#include "kernels/opt/eltwise_opt.h"
#include "runtime/ops/tensor_glue.h"

/* XNNPACK's XNN_MAX_TENSOR_DIMS. */
#define XNN_MAX_DIMS 6

typedef struct binary_params {
  etpu_bcast plan;
  etpu_addsub_params as; /* ADD, SUB, SQUARED_DIFFERENCE (8-bit) */
  etpu_mul_params mul;   /* MUL (8-bit) */
  etpu_act_f32 actf;     /* float clamp */
  etpu_act_int acti;     /* integer clamp */
  etpu_opt_addsub opt;   /* 8-bit ADD/SUB without broadcasting: the micro-kernels */
  bool use_opt;
} binary_params;

/* Elements below which an ADD/SUB stays on one thread, and the grain of a
 * split (a cache line of each input). */
enum { OPT_MIN_CHUNK = 8192, OPT_GRAIN = 64 };

static int32_t activation_of(const etpu_rop *op) {
  switch (op->code) {
    case ETPU_OP_ADD: return (int32_t)etpu_op_opt_int(op, ETPU_T_AddOptions, ETPU_F_AddOptions_fused_activation_function);
    case ETPU_OP_SUB: return (int32_t)etpu_op_opt_int(op, ETPU_T_SubOptions, ETPU_F_SubOptions_fused_activation_function);
    case ETPU_OP_MUL: return (int32_t)etpu_op_opt_int(op, ETPU_T_MulOptions, ETPU_F_MulOptions_fused_activation_function);
    case ETPU_OP_DIV:
      return (int32_t)etpu_op_opt_int(op, ETPU_T_DivOptions, ETPU_F_DivOptions_fused_activation_function);
    default: return ETPU_ACT_NONE;
  }
}

static bool in_range(float r, float lo, float hi) { return r >= lo && r < hi; }

/* Would LiteRT's XNNPACK delegate take this 8-bit ADD/SUB/MUL? */
static bool xnnpack_takes(const etpu_rop *op, const etpu_rtensor *a, const etpu_rtensor *b, const etpu_rtensor *o,
                          int32_t activation) {
  if (a->rank > XNN_MAX_DIMS || b->rank > XNN_MAX_DIMS || o->rank > XNN_MAX_DIMS) return false;
  if (activation != ETPU_ACT_NONE && activation != ETPU_ACT_RELU && activation != ETPU_ACT_RELU6 &&
      activation != ETPU_ACT_RELU_N1_TO_1)
    return false;
  if (op->code == ETPU_OP_MUL) return in_range((a->scale * b->scale) / o->scale, 0x1.0p-16f, 0x1.0p+8f);
  return in_range(a->scale / o->scale, 0x1.0p-10f, 0x1.0p+8f) && in_range(b->scale / o->scale, 0x1.0p-10f, 0x1.0p+8f);
}

static etpu_status prepare_q8(etpu_interp *ip, etpu_rop *op, binary_params *p, int32_t activation) {
  etpu_rtensor *a = etpu_in(ip, op, 0), *b = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  etpu_status st;
  if ((st = etpu_glue_check_q8(ip, op, a, "input 1")) != ETPU_OK) return st;
  if ((st = etpu_glue_check_q8(ip, op, b, "input 2")) != ETPU_OK) return st;
  if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
  const bool litert = ip->profile == ETPU_PROFILE_LITERT;
  const bool xnn = litert && (op->code == ETPU_OP_ADD || op->code == ETPU_OP_SUB || op->code == ETPU_OP_MUL) &&
                   xnnpack_takes(op, a, b, o, activation);
  int32_t lo, hi;
  if ((st = etpu_glue_act_q8(ip, op, activation, o, xnn, &lo, &hi)) != ETPU_OK) return st;
  const etpu_qparam qa = etpu_glue_q(a), qb = etpu_glue_q(b), qo = etpu_glue_q(o);
  switch (op->code) {
    case ETPU_OP_ADD:
    case ETPU_OP_SUB: {
      etpu_addsub_scheme scheme = ETPU_ADDSUB_TFLITE;
      if (xnn) scheme = ETPU_ADDSUB_XNNPACK;
      else if (!litert && op->code == ETPU_OP_SUB) scheme = ETPU_ADDSUB_TFLITE_FLOAT_RATIOS;
      st = etpu_addsub_params_init(scheme, op->code == ETPU_OP_SUB, &qa, &qb, &qo, lo, hi, &p->as);
      if (st == ETPU_OK && a->elems == o->elems && b->elems == o->elems)
        p->use_opt = etpu_opt_addsub_init(&p->as, op->code == ETPU_OP_SUB, o->type == ETPU_INT8, &p->opt);
      break;
    }
    case ETPU_OP_MUL:
      st = etpu_mul_params_init(xnn ? ETPU_MUL_XNNPACK : ETPU_MUL_TFLITE, &qa, &qb, &qo, lo, hi, &p->mul);
      break;
    case ETPU_OP_SQUARED_DIFFERENCE:
      st = etpu_squared_difference_params_init(&qa, &qb, &qo, lo, hi, &p->as);
      break;
    case ETPU_OP_MAXIMUM:
    case ETPU_OP_MINIMUM:
      /* Raw values are compared; TFLite checks nothing more. */
      return ETPU_OK;
    default:
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "8-bit %s is not supported", etpu_dtype_name(o->type));
  }
  if (st != ETPU_OK) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "quantization parameters: %s", etpu_errmsg());
  return ETPU_OK;
}

static bool type_supported(int32_t code, int32_t type) {
  switch (code) {
    case ETPU_OP_ADD:
    case ETPU_OP_SUB:
    case ETPU_OP_MUL:
      return type == ETPU_INT8 || type == ETPU_UINT8 || type == ETPU_FLOAT32 || type == ETPU_INT32 ||
             type == ETPU_INT64;
    case ETPU_OP_MAXIMUM:
    case ETPU_OP_MINIMUM:
      return type == ETPU_INT8 || type == ETPU_UINT8 || type == ETPU_INT16 || type == ETPU_FLOAT32 ||
             type == ETPU_INT32 || type == ETPU_INT64;
    case ETPU_OP_SQUARED_DIFFERENCE:
      return type == ETPU_INT8 || type == ETPU_UINT8 || type == ETPU_FLOAT32 || type == ETPU_INT32;
    case ETPU_OP_DIV:
      return type == ETPU_FLOAT32 || type == ETPU_INT32;
    case ETPU_OP_FLOOR_DIV:
      return type == ETPU_FLOAT32 || type == ETPU_INT32 || type == ETPU_INT16 || type == ETPU_INT8;
    case ETPU_OP_POW:
      return type == ETPU_FLOAT32 || type == ETPU_INT32;
    case ETPU_OP_FLOOR_MOD:
      return type == ETPU_FLOAT32 || type == ETPU_INT32 || type == ETPU_INT64;
    default:
      return false;
  }
}

static etpu_status binary_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *a = etpu_in(ip, op, 0), *b = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 1)) != ETPU_OK) return st;
  if (!type_supported(op->code, o->type))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s; this op takes other types", o->name,
                        etpu_dtype_name(o->type));
  if (etpu_op_output_is_dynamic(ip, op->out[0]) && a->rank <= ETPU_MAX_RANK && b->rank <= ETPU_MAX_RANK) {
    /* A placeholder output takes the broadcast shape (aligned at the last dim). */
    const uint32_t r = a->rank > b->rank ? a->rank : b->rank;
    int32_t dims[ETPU_MAX_RANK];
    for (uint32_t d = 0; d < r; d++) {
      const int32_t da = d + a->rank >= r ? a->dims[d + a->rank - r] : 1;
      const int32_t db = d + b->rank >= r ? b->dims[d + b->rank - r] : 1;
      dims[d] = da == 1 ? db : da;
    }
    if ((st = etpu_op_set_output_shape(ip, op, 0, r, dims)) != ETPU_OK) return st;
  }
  binary_params *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  const etpu_shape sa = etpu_glue_shape(a), sb = etpu_glue_shape(b), so = etpu_glue_shape(o);
  if (etpu_bcast_init(&sa, &sb, &so, &p->plan) != ETPU_OK)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "shapes of '%s', '%s' and '%s': %s", a->name, b->name, o->name,
                        etpu_errmsg());
  const int32_t activation = activation_of(op);
  if (etpu_glue_is_q8(o->type)) return prepare_q8(ip, op, p, activation);
  if (o->type == ETPU_FLOAT32) {
    if (etpu_activation_range_f32(activation, &p->actf) != ETPU_OK)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s", etpu_errmsg());
    return ETPU_OK;
  }
  return etpu_glue_act_int(ip, op, activation, o->type, &p->acti);
}

#define IN1(T) ((const T *)a->data)
#define IN2(T) ((const T *)b->data)
#define OUT(T) ((T *)o->data)

/* The optimized ADD/SUB in units of OPT_GRAIN elements: the descriptor
 * with the second input and the length. */
typedef struct addsub_range {
  const etpu_opt_addsub *d;
  const void *b;
  size_t n;
} addsub_range;

static void addsub_units(const void *ctx, const void *a, void *out, size_t begin, size_t end) {
  const addsub_range *r = ctx;
  const size_t from = begin * OPT_GRAIN, to = end * OPT_GRAIN < r->n ? end * OPT_GRAIN : r->n;
  etpu_opt_addsub_run(NULL, r->d, a, r->b, out, from, to);
}

/* Each output byte depends on its index only, so any split gives the same
 * bytes; ranges of at least OPT_MIN_CHUNK elements. */
static etpu_status addsub_opt_eval(etpu_interp *ip, const binary_params *p, const void *a, const void *b, void *out,
                                   size_t n) {
  const addsub_range r = {&p->opt, b, n};
  const size_t units = (n + OPT_GRAIN - 1) / OPT_GRAIN;
  return etpu_glue_run_ranges(ip, addsub_units, &r, a, out, units, etpu_glue_chunks(ip, units, (double)n, OPT_MIN_CHUNK));
}

static etpu_status binary_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *a = etpu_in(ip, op, 0), *b = etpu_in(ip, op, 1), *o = etpu_out(ip, op, 0);
  const binary_params *p = op->params;
  const etpu_bcast *pl = &p->plan;
  const bool s8 = o->type == ETPU_INT8;
  etpu_status st = ETPU_INVALID_ARGUMENT;
  if (p->use_opt) return addsub_opt_eval(ip, p, a->data, b->data, o->data, o->elems);
  switch (op->code) {
    case ETPU_OP_ADD:
      switch (o->type) {
        case ETPU_INT8: st = etpu_add_s8(&p->as, pl, IN1(int8_t), IN2(int8_t), OUT(int8_t)); break;
        case ETPU_UINT8: st = etpu_add_u8(&p->as, pl, IN1(uint8_t), IN2(uint8_t), OUT(uint8_t)); break;
        case ETPU_FLOAT32: st = etpu_add_f32(&p->actf, pl, IN1(float), IN2(float), OUT(float)); break;
        case ETPU_INT32: st = etpu_add_s32(&p->acti, pl, IN1(int32_t), IN2(int32_t), OUT(int32_t)); break;
        default: st = etpu_add_s64(&p->acti, pl, IN1(int64_t), IN2(int64_t), OUT(int64_t)); break;
      }
      break;
    case ETPU_OP_SUB:
      switch (o->type) {
        case ETPU_INT8: st = etpu_sub_s8(&p->as, pl, IN1(int8_t), IN2(int8_t), OUT(int8_t)); break;
        case ETPU_UINT8: st = etpu_sub_u8(&p->as, pl, IN1(uint8_t), IN2(uint8_t), OUT(uint8_t)); break;
        case ETPU_FLOAT32: st = etpu_sub_f32(&p->actf, pl, IN1(float), IN2(float), OUT(float)); break;
        case ETPU_INT32: st = etpu_sub_s32(&p->acti, pl, IN1(int32_t), IN2(int32_t), OUT(int32_t)); break;
        default: st = etpu_sub_s64(&p->acti, pl, IN1(int64_t), IN2(int64_t), OUT(int64_t)); break;
      }
      break;
    case ETPU_OP_MUL:
      switch (o->type) {
        case ETPU_INT8: st = etpu_mul_s8(&p->mul, pl, IN1(int8_t), IN2(int8_t), OUT(int8_t)); break;
        case ETPU_UINT8: st = etpu_mul_u8(&p->mul, pl, IN1(uint8_t), IN2(uint8_t), OUT(uint8_t)); break;
        case ETPU_FLOAT32: st = etpu_mul_f32(&p->actf, pl, IN1(float), IN2(float), OUT(float)); break;
        case ETPU_INT32: st = etpu_mul_s32(&p->acti, pl, IN1(int32_t), IN2(int32_t), OUT(int32_t)); break;
        default: st = etpu_mul_s64(&p->acti, pl, IN1(int64_t), IN2(int64_t), OUT(int64_t)); break;
      }
      break;
    case ETPU_OP_MAXIMUM:
    case ETPU_OP_MINIMUM: {
      const bool mx = op->code == ETPU_OP_MAXIMUM;
      switch (o->type) {
        case ETPU_INT8:
          st = mx ? etpu_maximum_s8(pl, IN1(int8_t), IN2(int8_t), OUT(int8_t))
                  : etpu_minimum_s8(pl, IN1(int8_t), IN2(int8_t), OUT(int8_t));
          break;
        case ETPU_UINT8:
          st = mx ? etpu_maximum_u8(pl, IN1(uint8_t), IN2(uint8_t), OUT(uint8_t))
                  : etpu_minimum_u8(pl, IN1(uint8_t), IN2(uint8_t), OUT(uint8_t));
          break;
        case ETPU_INT16:
          st = mx ? etpu_maximum_s16(pl, IN1(int16_t), IN2(int16_t), OUT(int16_t))
                  : etpu_minimum_s16(pl, IN1(int16_t), IN2(int16_t), OUT(int16_t));
          break;
        case ETPU_INT32:
          st = mx ? etpu_maximum_s32(pl, IN1(int32_t), IN2(int32_t), OUT(int32_t))
                  : etpu_minimum_s32(pl, IN1(int32_t), IN2(int32_t), OUT(int32_t));
          break;
        case ETPU_INT64:
          st = mx ? etpu_maximum_s64(pl, IN1(int64_t), IN2(int64_t), OUT(int64_t))
                  : etpu_minimum_s64(pl, IN1(int64_t), IN2(int64_t), OUT(int64_t));
          break;
        default:
          st = mx ? etpu_maximum_f32(pl, IN1(float), IN2(float), OUT(float))
                  : etpu_minimum_f32(pl, IN1(float), IN2(float), OUT(float));
          break;
      }
      break;
    }
    case ETPU_OP_SQUARED_DIFFERENCE:
      switch (o->type) {
        case ETPU_INT8:
        case ETPU_UINT8:
          st = s8 ? etpu_squared_difference_s8(&p->as, pl, IN1(int8_t), IN2(int8_t), OUT(int8_t))
                  : etpu_squared_difference_u8(&p->as, pl, IN1(uint8_t), IN2(uint8_t), OUT(uint8_t));
          break;
        case ETPU_INT32: st = etpu_squared_difference_s32(pl, IN1(int32_t), IN2(int32_t), OUT(int32_t)); break;
        default: st = etpu_squared_difference_f32(pl, IN1(float), IN2(float), OUT(float)); break;
      }
      break;
    case ETPU_OP_DIV:
      st = o->type == ETPU_INT32 ? etpu_div_s32(&p->acti, pl, IN1(int32_t), IN2(int32_t), OUT(int32_t))
                                 : etpu_div_f32(&p->actf, pl, IN1(float), IN2(float), OUT(float));
      break;
    case ETPU_OP_FLOOR_DIV:
      switch (o->type) {
        case ETPU_INT8: st = etpu_floor_div_s8(pl, IN1(int8_t), IN2(int8_t), OUT(int8_t)); break;
        case ETPU_INT16: st = etpu_floor_div_s16(pl, IN1(int16_t), IN2(int16_t), OUT(int16_t)); break;
        case ETPU_INT32: st = etpu_floor_div_s32(pl, IN1(int32_t), IN2(int32_t), OUT(int32_t)); break;
        default: st = etpu_floor_div_f32(pl, IN1(float), IN2(float), OUT(float)); break;
      }
      break;
    case ETPU_OP_POW:
      st = o->type == ETPU_INT32 ? etpu_pow_s32(pl, IN1(int32_t), IN2(int32_t), OUT(int32_t))
                                 : etpu_pow_f32(pl, IN1(float), IN2(float), OUT(float));
      break;
    case ETPU_OP_FLOOR_MOD:
      switch (o->type) {
        case ETPU_INT32: st = etpu_floor_mod_s32(pl, IN1(int32_t), IN2(int32_t), OUT(int32_t)); break;
        case ETPU_INT64: st = etpu_floor_mod_s64(pl, IN1(int64_t), IN2(int64_t), OUT(int64_t)); break;
        default: st = etpu_floor_mod_f32(pl, IN1(float), IN2(float), OUT(float)); break;
      }
      break;
    default:
      break;
  }
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_add = {ETPU_OP_ADD, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_sub = {ETPU_OP_SUB, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_mul = {ETPU_OP_MUL, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_maximum = {ETPU_OP_MAXIMUM, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_minimum = {ETPU_OP_MINIMUM, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_squared_difference = {ETPU_OP_SQUARED_DIFFERENCE, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_div = {ETPU_OP_DIV, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_floor_div = {ETPU_OP_FLOOR_DIV, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_pow = {ETPU_OP_POW, NULL, binary_prepare, binary_eval, NULL};
const etpu_kernel_reg etpu_reg_floor_mod = {ETPU_OP_FLOOR_MOD, NULL, binary_prepare, binary_eval, NULL};

/* ---- unary: SQRT, RSQRT, FLOOR, ABS --------------------------------------- */

static etpu_status unary_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  if ((st = etpu_op_check_same_shape(ip, op, in, o)) != ETPU_OK) return st;
  if (o->type == ETPU_FLOAT32) return ETPU_OK;
  if (op->code == ETPU_OP_RSQRT && o->type == ETPU_INT8) {
    if ((st = etpu_glue_check_q8(ip, op, in, "input")) != ETPU_OK) return st;
    if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
    etpu_rsqrt_params *p;
    ETPU_GLUE_ALLOC(ip, op, p);
    const etpu_qparam qi = etpu_glue_q(in), qo = etpu_glue_q(o);
    if (etpu_rsqrt_params_init(&qi, &qo, p) != ETPU_OK)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s", etpu_errmsg());
    return ETPU_OK;
  }
  if (op->code == ETPU_OP_ABS && etpu_glue_is_q8(o->type)) {
    if ((st = etpu_glue_check_q8(ip, op, in, "input")) != ETPU_OK) return st;
    if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
    etpu_abs_params *p;
    ETPU_GLUE_ALLOC(ip, op, p);
    const etpu_qparam qi = etpu_glue_q(in), qo = etpu_glue_q(o);
    if (etpu_abs_params_init(&qi, &qo, p) != ETPU_OK) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s", etpu_errmsg());
    return ETPU_OK;
  }
  return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; this op takes FLOAT32%s", in->name,
                      etpu_dtype_name(in->type),
                      op->code == ETPU_OP_RSQRT ? " or INT8" : op->code == ETPU_OP_ABS ? ", INT8 or UINT8" : "");
}

static etpu_status unary_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  etpu_status st;
  switch (op->code) {
    case ETPU_OP_SQRT: st = etpu_sqrt_f32(o->elems, (const float *)in->data, (float *)o->data); break;
    case ETPU_OP_FLOOR: st = etpu_floor_f32(o->elems, (const float *)in->data, (float *)o->data); break;
    case ETPU_OP_ABS:
      switch (o->type) {
        case ETPU_INT8: st = etpu_abs_s8(op->params, o->elems, (const int8_t *)in->data, (int8_t *)o->data); break;
        case ETPU_UINT8: st = etpu_abs_u8(op->params, o->elems, in->data, o->data); break;
        default: st = etpu_abs_f32(o->elems, (const float *)in->data, (float *)o->data); break;
      }
      break;
    default:
      st = o->type == ETPU_INT8 ? etpu_rsqrt_s8(op->params, o->elems, (const int8_t *)in->data, (int8_t *)o->data)
                                : etpu_rsqrt_f32(o->elems, (const float *)in->data, (float *)o->data);
      break;
  }
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_sqrt = {ETPU_OP_SQRT, NULL, unary_prepare, unary_eval, NULL};
const etpu_kernel_reg etpu_reg_rsqrt = {ETPU_OP_RSQRT, NULL, unary_prepare, unary_eval, NULL};
const etpu_kernel_reg etpu_reg_floor = {ETPU_OP_FLOOR, NULL, unary_prepare, unary_eval, NULL};
const etpu_kernel_reg etpu_reg_abs = {ETPU_OP_ABS, NULL, unary_prepare, unary_eval, NULL};

/* ---- CAST ----------------------------------------------------------------- */

static bool cast_type(int32_t t) {
  switch (t) {
    case ETPU_FLOAT32: case ETPU_INT64: case ETPU_INT32: case ETPU_UINT32: case ETPU_INT16:
    case ETPU_UINT16: case ETPU_INT8: case ETPU_UINT8: case ETPU_BOOL:
      return true;
    default:
      return false;
  }
}

static etpu_status cast_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  if ((st = etpu_op_check_same_shape(ip, op, in, o)) != ETPU_OK) return st;
  if (!cast_type(in->type) || !cast_type(o->type))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "CAST %s -> %s is not supported", etpu_dtype_name(in->type),
                        etpu_dtype_name(o->type));
  return ETPU_OK;
}

static etpu_status cast_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  etpu_status st = etpu_cast((etpu_dtype)in->type, (etpu_dtype)o->type, o->elems, in->data, o->data);
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_cast = {ETPU_OP_CAST, NULL, cast_prepare, cast_eval, NULL};
