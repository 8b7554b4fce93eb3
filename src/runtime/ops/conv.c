/*
 * conv.c — CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV and FULLY_CONNECTED:
 * the glue between the graph and the kernels of src/kernels/ (int8 with
 * per-channel or per-tensor int8 weights, uint8 with asymmetric per-tensor
 * weights, float32).
 *
 * Prepare checks the op completely (types, ranks, options, per-axis
 * quantization, that the declared output shape is the one the op computes)
 * and computes everything eval needs: kernel dims and parameters, one
 * etpu_requant per output channel, the fused-activation clamp, an aligned
 * copy of the bias (flatbuffer data need not be 4-byte aligned), and the
 * TRANSPOSE_CONV scratch. Eval only calls the kernel.
 *
 * Arithmetic per profile (TFLITE.md §7.2, §8, §9):
 *
 *   profile     op taken by          requantization          activation clamp
 *   ----------  -------------------  ----------------------  ---------------------------------
 *   tflite-ref  (TFLite reference)   double rounding         CalculateActivationRangeQuantized
 *   litert      XNNPACK              fp32 (float scale,      XNNPACK: lrintf(clamp(f/scale + zp))
 *                                    half-to-even)
 *   litert      TFLite builtin, when single rounding for     CalculateActivationRangeQuantized
 *               XNNPACK refuses      CONV_2D and FULLY_CONNECTED (their GEMM path),
 *                                    double for DEPTHWISE_CONV_2D and TRANSPOSE_CONV
 *
 * XNNPACK's delegate leaves an op to TFLite's builtin kernel when a weight,
 * input or output scale is not a positive normal float (or an activation is
 * quantized per axis), when int8 weights have a non-zero zero point, when the
 * weights or bias are not constant, when a CONV_2D / DEPTHWISE_CONV_2D has no
 * bias, when a conv's bias has no quantization (or a non-positive scale),
 * and when DEPTHWISE_CONV_2D's depth_multiplier option is 0 (its schema
 * default). Each of these, and the builtin roundings in the table, was
 * checked against LiteRT.js 2.5.3 on single-op models: depthwise and
 * transpose conv round twice, conv and FULLY_CONNECTED match single rounding
 * (fp32 and single rounding almost never differ, so "single" there is the
 * best fit, not a proof).
 *
 * A float32 scale in·w/out >= 256 (or not finite and positive) is refused
 * later, when XNNPACK builds its runtime: LiteRT.js 2.5.3 then fails the
 * whole model ("failed to create XNNPACK runtime"), and TFLite C++ restores
 * its builtin kernels for every op of the graph. etpu runs just that op the
 * builtin way; neither runtime's behaviour is reproduced for such models.
 *
 * Hybrid ops (float32 activations, constant int8 weights: TFLite's
 * dynamic-range quantization, e.g. MLPerf Tiny's kws_ref_model_float32) run
 * as float ops on weights dequantized once in prepare. TFLite's hybrid
 * kernels instead quantize the activations to int8 on every run, so their
 * results differ from etpu's by up to that quantization error; neither
 * profile promises bit equality for float ops.
 *
 * Bias quantization is not read (TFLite's int8 kernels do not, and
 * person_detect's bias names axis 3 of a 1-D tensor), except for TFLite's
 * sanity check |in·w − bias_scale| / out ≤ 0.02 on per-tensor uint8 ops and
 * per-tensor FULLY_CONNECTED, applied when the bias has a scale.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/opt/opt.h"
#include "runtime/interp.h"

typedef enum conv_kind { KIND_CONV, KIND_DW, KIND_TCONV, KIND_FC } conv_kind;

/* An op's prepared state. */
typedef struct conv_op {
  conv_kind kind;
  int32_t dtype;                 /* ETPU_INT8, ETPU_UINT8 or ETPU_FLOAT32 */
  int32_t in_i, w_i, b_i, out_i; /* tensor indices; b_i = -1 without bias */
  etpu_dims in_d, f_d, out_d;    /* kernel dims */
  etpu_conv_params s8;           /* int8 CONV_2D */
  etpu_dw_conv_params dw_s8;     /* int8 DEPTHWISE_CONV_2D */
  etpu_fc_params fc_s8;          /* int8 FULLY_CONNECTED */
  etpu_conv_u8_params u8;        /* uint8 CONV_2D */
  etpu_dw_conv_u8_params dw_u8;  /* uint8 DEPTHWISE_CONV_2D */
  etpu_fc_u8_params fc_u8;       /* uint8 FULLY_CONNECTED */
  etpu_transpose_conv_params tc; /* integer TRANSPOSE_CONV */
  etpu_conv_f32_params f32;      /* float CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV */
  etpu_fc_f32_params fc_f32;     /* float FULLY_CONNECTED */
  etpu_requant_params quant;     /* integer ops: one entry per output channel, or 1 */
  const void *weights;           /* constant weights (possibly an aligned copy); NULL: read the tensor */
  const void *bias;              /* aligned copy of a constant bias; NULL: none, or read the tensor */
  int32_t *scratch;              /* integer TRANSPOSE_CONV accumulators */
  size_t scratch_bytes;
  bool xnnpack;                  /* litert: the op runs as XNNPACK would */
  bool xnn_option_refused;       /* litert: an option XNNPACK's delegate rejects (depth_multiplier 0) */
  bool hybrid;                   /* float32 activations with constant int8 weights (dequantized in prepare) */
  bool opt;                      /* integer CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED: optimized kernel */
  etpu_opt_conv_desc opt_desc;   /* its layer */
  void *opt_packed;              /* its packed weights */
  void *opt_scratch;             /* its scratch: opt_threads blocks of opt_scratch_stride bytes */
  size_t opt_scratch_bytes;      /* one thread's scratch */
  size_t opt_scratch_stride;     /* opt_scratch_bytes rounded up to 64 (no false sharing) */
  uint32_t opt_threads;          /* threads that may run units of this layer at once */
} conv_op;

/* ---- small helpers ------------------------------------------------------ */

static const char *kind_name(conv_kind k) {
  switch (k) {
    case KIND_CONV: return "CONV_2D";
    case KIND_DW: return "DEPTHWISE_CONV_2D";
    case KIND_TCONV: return "TRANSPOSE_CONV";
    default: return "FULLY_CONNECTED";
  }
}

static bool type_range(int32_t type, int32_t *lo, int32_t *hi) {
  switch (type) {
    case ETPU_INT8: *lo = -128; *hi = 127; return true;
    case ETPU_UINT8: *lo = 0; *hi = 255; return true;
    default: return false;
  }
}

/* "[1,96,96,3]" */
static const char *shape_text(char *buf, size_t cap, uint32_t rank, const int32_t *dims) {
  size_t n = 0;
  buf[0] = '\0';
  n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "[");
  for (uint32_t d = 0; d < rank; d++)
    n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, d ? ",%d" : "%d", dims[d]);
  if (n < cap) snprintf(buf + n, cap - n, "]");
  return buf;
}

/* A rank-4 tensor as etpu_dims, every dimension >= 1. */
static etpu_status dims4(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what,
                         etpu_dims *d) {
  char s[96];
  if (t->rank != 4)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' has shape %s; this op needs rank 4", what, t->name,
                        shape_text(s, sizeof s, t->rank, t->dims));
  for (uint32_t k = 0; k < 4; k++)
    if (t->dims[k] < 1)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' has shape %s; empty tensors are not supported", what,
                          t->name, shape_text(s, sizeof s, t->rank, t->dims));
  *d = (etpu_dims){t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
  return ETPU_OK;
}

/* The output tensor must have exactly the shape the op computes. */
static etpu_status check_output_shape(etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *out, uint32_t rank,
                                      const int32_t *want) {
  bool same = out->rank == rank;
  for (uint32_t d = 0; same && d < rank; d++) same = out->dims[d] == want[d];
  if (same) return ETPU_OK;
  char a[96], b[96];
  return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' has shape %s but the op computes %s", out->name,
                      shape_text(a, sizeof a, out->rank, out->dims), shape_text(b, sizeof b, rank, want));
}

/* Float clamp range of a fused activation (TFLite CalculateActivationRange). */
static etpu_status float_activation(etpu_interp *ip, const etpu_rop *op, int64_t act, float *lo, float *hi) {
  switch (act) {
    case ETPU_ACT_NONE: *lo = -FLT_MAX; *hi = FLT_MAX; return ETPU_OK;
    case ETPU_ACT_RELU: *lo = 0.0f; *hi = FLT_MAX; return ETPU_OK;
    case ETPU_ACT_RELU_N1_TO_1: *lo = -1.0f; *hi = 1.0f; return ETPU_OK;
    case ETPU_ACT_RELU6: *lo = 0.0f; *hi = 6.0f; return ETPU_OK;
    case ETPU_ACT_TANH:
    case ETPU_ACT_SIGN_BIT:
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "fused activation %lld (TANH/SIGN_BIT) is not supported",
                          (long long)act);
    default:
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "unknown fused activation %lld", (long long)act);
  }
}

/* XNNPACK's quantized clamp bound: lrintf(clamp(f / scale + zp, qmin, qmax)),
 * float32 throughout, ties to even (xnn_qs8_quantize / xnn_qu8_quantize). */
static int32_t xnn_quantize_bound(float f, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  float v = (float)(f / scale);
  v = (float)(v + (float)zp);
  v = fmaxf(v, (float)qmin);
  v = fminf(v, (float)qmax);
  return (int32_t)etpu_round_half_even_f32(v);
}

/* A weight/input/output scale XNNPACK takes: positive and normal. */
static bool xnn_scale_ok(float s) { return s > 0.0f && isnormal(s); }

/* A per-tensor activation quantization XNNPACK's delegate takes. */
static bool xnn_activation_ok(const etpu_rtensor *t) {
  return t->quant && t->quant->count == 1 && xnn_scale_ok(t->scale);
}

/* The bias checks of XNNPACK's delegate for CONV_2D, DEPTHWISE_CONV_2D and
 * TRANSPOSE_CONV (measured against LiteRT 2.5.3, see the file comment):
 * conv and depthwise need a bias; a bias needs a quantization with zero
 * point 0, positive normal scales, one or out_c of them on dimension 0.
 * FULLY_CONNECTED takes any bias, or none. */
static bool xnn_bias_ok(const conv_op *c, const etpu_rtensor *b, int32_t out_c) {
  if (c->kind == KIND_FC) return true;
  if (!b) return c->kind == KIND_TCONV;
  const etpu_gquant *q = b->quant;
  if (!b->has_quant || !q || (q->count != 1 && q->count != (uint32_t)out_c)) return false;
  if (q->count > 1 && q->quantized_dimension != 0) return false;
  for (uint32_t k = 0; k < q->count; k++)
    if (!xnn_scale_ok(q->scale[k]) || (k < q->zp_count && q->zero_point[k] != 0)) return false;
  return true;
}

/* ---- quantization ------------------------------------------------------- */

/* Weight zero point of channel c (or the only one). */
static int64_t weight_zp(const etpu_rtensor *w, uint32_t c) {
  const etpu_gquant *q = w->quant;
  if (!q || q->zp_count == 0) return 0;
  return q->zero_point[q->zp_count == 1 ? 0 : c];
}

/* Requantization tables, clamp and offsets of an integer op with out_c
 * output channels and per-axis weight quantization on dimension qdim. */
static etpu_status prepare_quant(etpu_interp *ip, const etpu_rop *op, conv_op *c, const etpu_rtensor *in,
                                 const etpu_rtensor *w, const etpu_rtensor *b, const etpu_rtensor *out, int32_t out_c,
                                 int32_t qdim, int64_t act, int32_t *act_min, int32_t *act_max, int32_t *filter_zp) {
  etpu_status st;
  int32_t qmin = 0, qmax = 0;
  type_range(c->dtype, &qmin, &qmax);
  if ((st = etpu_op_check_quant(ip, op, in, "input")) != ETPU_OK) return st;
  if ((st = etpu_op_check_quant(ip, op, out, "output")) != ETPU_OK) return st;
  if (!(isfinite(in->scale) && isfinite(out->scale)))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input scale %g or output scale %g is not finite", (double)in->scale,
                        (double)out->scale);
  if (in->zero_point < qmin || in->zero_point > qmax || out->zero_point < qmin || out->zero_point > qmax)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "zero points (input %d, output %d) are outside the %s range",
                        in->zero_point, out->zero_point, etpu_dtype_name(c->dtype));
  const etpu_gquant *wq = w->quant;
  if (!w->has_quant || !wq || wq->count == 0)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have no quantization", w->name);
  const bool per_channel = wq->count > 1;
  if (per_channel && (wq->count != (uint32_t)out_c || wq->quantized_dimension != qdim))
    return etpu_op_fail(ip, op, ETPU_MALFORMED,
                        "weights '%s' have %u scales on dimension %d; expected 1, or %d on dimension %d", w->name,
                        wq->count, wq->quantized_dimension, out_c, qdim);
  if (wq->zp_count != 0 && wq->zp_count != wq->count)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have %u zero points for %u scales", w->name,
                        wq->zp_count, wq->count);
  if (per_channel && c->dtype == ETPU_UINT8)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "uint8 weights '%s' are quantized per channel", w->name);
  /* Weight zero point: one value. int8 CONV/DEPTHWISE/TRANSPOSE_CONV have
   * none in TFLite's kernels; FULLY_CONNECTED takes one (filter_offset). */
  const int64_t zp0 = weight_zp(w, 0);
  for (uint32_t k = 1; k < wq->count; k++)
    if (weight_zp(w, k) != zp0)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "weights '%s' have different zero points per channel", w->name);
  if (zp0 < qmin || zp0 > qmax || (c->dtype == ETPU_INT8 && zp0 == -128))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have zero point %lld, outside the %s range", w->name,
                        (long long)zp0, etpu_dtype_name(c->dtype));
  if (c->dtype == ETPU_INT8 && zp0 != 0 && c->kind != KIND_FC)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "int8 weights '%s' have zero point %lld; %s needs 0", w->name,
                        (long long)zp0, kind_name(c->kind));
  *filter_zp = (int32_t)zp0;
  for (uint32_t k = 0; k < wq->count; k++)
    if (!(wq->scale[k] >= 0.0f) || !isfinite(wq->scale[k]))
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s': scale %u is %g", w->name, k, (double)wq->scale[k]);

  /* TFLite's legacy sanity check (GetQuantizedConvolutionMultipler), on
   * per-tensor uint8 ops and per-tensor FULLY_CONNECTED. */
  if (b && b->has_quant && !per_channel && (c->dtype == ETPU_UINT8 || c->kind == KIND_FC)) {
    const double product = (double)in->scale * (double)wq->scale[0];
    const double diff = fabs(product - (double)b->scale);
    if (!(diff / (double)out->scale <= 0.02))
      return etpu_op_fail(ip, op, ETPU_MALFORMED,
                          "bias '%s' scale %g differs from input x weight scale %g by more than 2%% of the output "
                          "scale %g",
                          b->name, (double)b->scale, product, (double)out->scale);
  }

  /* Which arithmetic (see the table atop this file). */
  bool xnn = false;
  if (ip->profile == ETPU_PROFILE_LITERT) {
    xnn = xnn_activation_ok(in) && xnn_activation_ok(out) && w->is_const && (!b || b->is_const) &&
          (c->dtype == ETPU_UINT8 || zp0 == 0) && xnn_bias_ok(c, b, out_c) && !c->xnn_option_refused;
    for (uint32_t k = 0; xnn && k < wq->count; k++) {
      const float s = wq->scale[k];
      const float r = (float)((float)(in->scale * s) / out->scale);
      xnn = xnn_scale_ok(s) && isfinite(r) && r > 0.0f && r < 256.0f;
    }
  }
  c->xnnpack = xnn;
  etpu_requant_mode mode = ETPU_REQUANT_DOUBLE_ROUND;
  if (xnn)
    mode = ETPU_REQUANT_FP32;
  else if (ip->profile == ETPU_PROFILE_LITERT && (c->kind == KIND_CONV || c->kind == KIND_FC))
    mode = ETPU_REQUANT_SINGLE_ROUND;

  const int32_t count = per_channel ? out_c : 1;
  etpu_requant *rq = etpu_op_alloc(ip, (size_t)count * sizeof *rq);
  if (!rq) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  for (int32_t k = 0; k < count; k++) {
    const float ws = wq->scale[k];
    if (ws == 0.0f) { /* TFLite: QuantizeMultiplier(0) = (0, 0): the channel outputs its zero point */
      rq[k] = (etpu_requant){0, 0, 0.0f};
      continue;
    }
    st = etpu_requant_init(in->scale, ws, out->scale, mode, &rq[k]);
    if (st != ETPU_OK)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "channel %d: scale %g x %g / %g: %s", k, (double)in->scale,
                          (double)ws, (double)out->scale, etpu_errmsg());
  }
  c->quant = (etpu_requant_params){rq, count, mode};

  if (xnn) {
    float lo = -INFINITY, hi = INFINITY;
    switch (act) {
      case ETPU_ACT_NONE: break;
      case ETPU_ACT_RELU: lo = 0.0f; break;
      case ETPU_ACT_RELU_N1_TO_1: lo = -1.0f; hi = 1.0f; break;
      case ETPU_ACT_RELU6: lo = 0.0f; hi = 6.0f; break;
      case ETPU_ACT_TANH:
      case ETPU_ACT_SIGN_BIT:
        return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "fused activation %lld (TANH/SIGN_BIT) is not supported",
                            (long long)act);
      default:
        return etpu_op_fail(ip, op, ETPU_MALFORMED, "unknown fused activation %lld", (long long)act);
    }
    *act_min = xnn_quantize_bound(lo, out->scale, out->zero_point, qmin, qmax);
    *act_max = xnn_quantize_bound(hi, out->scale, out->zero_point, qmin, qmax);
    return ETPU_OK;
  }
  st = etpu_activation_range_quantized((int32_t)act, out->scale, out->zero_point, qmin, qmax, act_min, act_max);
  if (st != ETPU_OK) return etpu_op_fail(ip, op, st, "fused activation %lld: %s", (long long)act, etpu_errmsg());
  return ETPU_OK;
}

/* ---- shared prepare steps ----------------------------------------------- */

/* Types of input, weights, bias and output; sets c->dtype. */
static etpu_status check_types(etpu_interp *ip, const etpu_rop *op, conv_op *c, const etpu_rtensor *in,
                               const etpu_rtensor *w, const etpu_rtensor *b, const etpu_rtensor *out) {
  if (in->type != ETPU_INT8 && in->type != ETPU_UINT8 && in->type != ETPU_FLOAT32)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; etpu runs int8, uint8 and float32 %s", in->name,
                        etpu_dtype_name(in->type), kind_name(c->kind));
  c->dtype = in->type;
  c->hybrid = in->type == ETPU_FLOAT32 && w->type == ETPU_INT8 && w->is_const;
  if (w->type != in->type && !c->hybrid)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "weights '%s' are %s with %s input '%s' (mixed-type ops other "
                        "than float with constant int8 weights are not supported)", w->name,
                        etpu_dtype_name(w->type), etpu_dtype_name(in->type), in->name);
  if (out->type != in->type)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output '%s' is %s but input '%s' is %s", out->name,
                        etpu_dtype_name(out->type), in->name, etpu_dtype_name(in->type));
  if (b) {
    const int32_t want = in->type == ETPU_FLOAT32 ? ETPU_FLOAT32 : ETPU_INT32;
    if (b->type != want)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "bias '%s' is %s; a %s op needs %s bias", b->name,
                          etpu_dtype_name(b->type), etpu_dtype_name(in->type), etpu_dtype_name(want));
  }
  return ETPU_OK;
}

/* Bias of out_c values: an aligned copy if constant, else read at eval. */
static etpu_status prepare_bias(etpu_interp *ip, const etpu_rop *op, conv_op *c, const etpu_rtensor *b,
                                int32_t out_c) {
  if (!b) return ETPU_OK;
  if (b->elems != (size_t)out_c)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "bias '%s' has %zu values for %d output channels", b->name, b->elems,
                        out_c);
  if (!b->is_const) return ETPU_OK;
  void *copy = etpu_op_alloc(ip, b->bytes);
  if (!copy) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  memcpy(copy, b->data, b->bytes);
  c->bias = copy;
  return ETPU_OK;
}

/* A hybrid op's int8 weights as float32: scale[ch]·(q − zp[ch]), ch the
 * index on dimension qdim (per-axis) or 0 (per tensor). */
static etpu_status dequantize_weights(etpu_interp *ip, const etpu_rop *op, conv_op *c, const etpu_rtensor *w,
                                      int32_t qdim) {
  const etpu_gquant *q = w->quant;
  if (!w->has_quant || !q || q->count == 0)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "int8 weights '%s' of a float op have no quantization", w->name);
  if (q->count > 1 && (q->quantized_dimension != qdim || (uint32_t)qdim >= w->rank ||
                       q->count != (uint32_t)w->dims[qdim]))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have %u scales on dimension %d; expected 1, or one per "
                        "channel of dimension %d", w->name, q->count, q->quantized_dimension, qdim);
  if (q->zp_count != 0 && q->zp_count != q->count)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have %u zero points for %u scales", w->name,
                        q->zp_count, q->count);
  for (uint32_t k = 0; k < q->count; k++)
    if (!isfinite(q->scale[k]))
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s': scale %u is %g", w->name, k, (double)q->scale[k]);
  size_t inner = 1; /* elements per step of dimension qdim */
  for (uint32_t d = (uint32_t)qdim + 1; d < w->rank; d++) inner *= (size_t)w->dims[d];
  float *f = etpu_op_alloc(ip, w->elems * sizeof *f);
  if (!f) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  const int8_t *src = (const int8_t *)w->data;
  for (size_t i = 0; i < w->elems; i++) {
    const size_t ch = q->count > 1 ? (i / inner) % (size_t)w->dims[qdim] : 0;
    const int64_t zp = q->zp_count ? q->zero_point[ch] : 0;
    f[i] = q->scale[ch] * (float)((int64_t)src[i] - zp);
  }
  c->weights = f;
  return ETPU_OK;
}

/* Constant weights: used in place, or copied when float data is not
 * 4-byte aligned in the file; a hybrid op's weights dequantized. */
static etpu_status prepare_weights(etpu_interp *ip, const etpu_rop *op, conv_op *c, const etpu_rtensor *w,
                                   int32_t qdim) {
  if (c->hybrid) return dequantize_weights(ip, op, c, w, qdim);
  if (!w->is_const) return ETPU_OK;
  c->weights = w->data;
  if (c->dtype == ETPU_FLOAT32 && ((uintptr_t)w->data % _Alignof(float)) != 0) {
    void *copy = etpu_op_alloc(ip, w->bytes);
    if (!copy) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
    memcpy(copy, w->data, w->bytes);
    c->weights = copy;
  }
  return ETPU_OK;
}

/* One spatial axis of a CONV_2D / DEPTHWISE_CONV_2D window. */
static etpu_status window_axis(etpu_interp *ip, const etpu_rop *op, const char *axis, int64_t padding, int64_t stride,
                               int64_t dilation, int32_t in_size, int32_t filter_size, etpu_window_geometry *g) {
  if (padding != ETPU_PADDING_SAME && padding != ETPU_PADDING_VALID)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "unknown padding %lld", (long long)padding);
  if (stride < 1 || stride > INT32_MAX || dilation < 1 || dilation > INT32_MAX)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "stride_%s %lld and dilation_%s %lld must be >= 1", axis,
                        (long long)stride, axis, (long long)dilation);
  const etpu_window_axis a = {in_size, filter_size, (int32_t)stride, (int32_t)dilation};
  if (etpu_conv_output_size((etpu_padding)padding, &a, g) != ETPU_OK) {
    /* A model with dynamic shapes (shape_signature -1) carries placeholder
     * shapes that TFLite resizes at run time; etpu runs the static shapes. */
    const etpu_gtensor *gt = &ip->model->subgraphs[ip->sg].tensors[op->out[0]];
    bool dynamic = false;
    for (uint32_t d = 0; gt->has_signature && d < gt->sig_rank; d++) dynamic |= gt->shape_signature[d] < 0;
    return etpu_op_fail(ip, op, dynamic ? ETPU_UNSUPPORTED : ETPU_MALFORMED, "%s axis: %s%s", axis, etpu_errmsg(),
                        dynamic ? " (the model's shapes are dynamic placeholders; etpu runs static shapes only)"
                                : "");
  }
  return ETPU_OK;
}

static conv_op *new_state(etpu_interp *ip, etpu_rop *op, conv_kind kind) {
  conv_op *c = etpu_op_alloc(ip, sizeof *c);
  if (!c) return NULL;
  c->kind = kind;
  c->b_i = -1;
  op->params = c;
  return c;
}

/* The optimized kernel (src/kernels/opt/) for an integer CONV_2D,
 * DEPTHWISE_CONV_2D or FULLY_CONNECTED, chosen once here when it computes
 * exactly what the reference does: constant weights and bias (packed now),
 * and no possible int32 overflow. Otherwise eval runs the reference. */
static etpu_status prepare_opt(etpu_interp *ip, const etpu_rop *op, conv_op *c) {
  if (c->dtype == ETPU_FLOAT32 || !c->weights || (c->b_i >= 0 && !c->bias)) return ETPU_OK;
  const bool u8 = c->dtype == ETPU_UINT8;
  etpu_opt_conv_desc d = {.is_u8 = u8, .in_d = c->in_d, .f_d = c->f_d, .out_d = c->out_d, .stride_h = 1,
                          .stride_w = 1, .dilation_h = 1, .dilation_w = 1, .depth_multiplier = 1};
  switch (c->kind) {
    case KIND_CONV:
      d.kind = ETPU_OPT_CONV;
      if (u8) {
        const etpu_conv_u8_params *p = &c->u8;
        d.stride_h = p->stride_h, d.stride_w = p->stride_w, d.pad_h = p->pad_h, d.pad_w = p->pad_w;
        d.dilation_h = p->dilation_h, d.dilation_w = p->dilation_w;
        d.input_offset = p->input_offset, d.filter_offset = p->filter_offset, d.output_offset = p->output_offset;
        d.activation_min = p->activation_min, d.activation_max = p->activation_max;
      } else {
        const etpu_conv_params *p = &c->s8;
        d.stride_h = p->stride_h, d.stride_w = p->stride_w, d.pad_h = p->pad_h, d.pad_w = p->pad_w;
        d.dilation_h = p->dilation_h, d.dilation_w = p->dilation_w;
        d.input_offset = p->input_offset, d.output_offset = p->output_offset;
        d.activation_min = p->activation_min, d.activation_max = p->activation_max;
      }
      break;
    case KIND_DW:
      d.kind = ETPU_OPT_DW;
      if (u8) {
        const etpu_dw_conv_u8_params *p = &c->dw_u8;
        d.stride_h = p->stride_h, d.stride_w = p->stride_w, d.pad_h = p->pad_h, d.pad_w = p->pad_w;
        d.dilation_h = p->dilation_h, d.dilation_w = p->dilation_w, d.depth_multiplier = p->depth_multiplier;
        d.input_offset = p->input_offset, d.filter_offset = p->filter_offset, d.output_offset = p->output_offset;
        d.activation_min = p->activation_min, d.activation_max = p->activation_max;
      } else {
        const etpu_dw_conv_params *p = &c->dw_s8;
        d.stride_h = p->stride_h, d.stride_w = p->stride_w, d.pad_h = p->pad_h, d.pad_w = p->pad_w;
        d.dilation_h = p->dilation_h, d.dilation_w = p->dilation_w, d.depth_multiplier = p->depth_multiplier;
        d.input_offset = p->input_offset, d.output_offset = p->output_offset;
        d.activation_min = p->activation_min, d.activation_max = p->activation_max;
      }
      break;
    case KIND_FC:
      d.kind = ETPU_OPT_FC;
      if (u8) {
        const etpu_fc_u8_params *p = &c->fc_u8;
        d.input_offset = p->input_offset, d.filter_offset = p->filter_offset, d.output_offset = p->output_offset;
        d.activation_min = p->activation_min, d.activation_max = p->activation_max;
      } else {
        const etpu_fc_params *p = &c->fc_s8;
        d.input_offset = p->input_offset, d.filter_offset = p->filter_offset, d.output_offset = p->output_offset;
        d.activation_min = p->activation_min, d.activation_max = p->activation_max;
      }
      break;
    default:
      return ETPU_OK;
  }
  if (!etpu_opt_conv_supported(&d, c->bias)) return ETPU_OK;
  const size_t count = etpu_opt_conv_packed_bytes(&d);
  c->opt_packed = etpu_op_alloc(ip, count);
  c->opt_scratch_bytes = etpu_opt_conv_get_buffer_size(&d);
  c->opt_scratch_stride = (c->opt_scratch_bytes + 63) & ~(size_t)63;
  /* A thread beyond the layer's units of work would never get one. */
  const size_t units = etpu_opt_conv_range_count(&d);
  c->opt_threads = etpu_interp_threads(ip);
  if (units < c->opt_threads) c->opt_threads = units < 1 ? 1 : (uint32_t)units;
  size_t scratch_total = 0;
  if (!etpu_mul_size(c->opt_scratch_stride, etpu_interp_threads(ip), &scratch_total))
    return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "per-thread scratch of %zu bytes overflows", c->opt_scratch_stride);
  c->opt_scratch = etpu_op_alloc(ip, scratch_total);
  if (!c->opt_packed || !c->opt_scratch)
    return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY,
                        "out of memory for %zu bytes of packed weights and a %zu-byte scratch", count, scratch_total);
  etpu_status st = etpu_opt_conv_pack(&d, c->weights, c->opt_packed);
  if (st != ETPU_OK) return etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
  c->opt_desc = d;
  c->opt = true;
  /* eval reads the packed copy only: the model's pages of these weights
   * leave resident memory (read again from the file by whoever needs them). */
  if (c->weights == ip->t[c->w_i].data) etpu_file_release(&ip->model->file, c->weights, ip->t[c->w_i].bytes);
  return ETPU_OK;
}

/* One optimized layer's run, split over the interpreter's threads: the
 * kernel's units of work [0, count) in `chunks` contiguous ranges (a few per
 * thread, so a late thread costs little; each call fills per-call tables, so
 * ranges beat single units); worker w uses scratch block w. Any split gives
 * the same bytes (etpu_opt_conv_run_range's contract). */
typedef struct opt_job {
  const conv_op *c;
  const void *x, *b;
  void *y;
  size_t count, chunks;
} opt_job;

static etpu_status opt_chunk(void *ctx, uint32_t worker, size_t chunk) {
  const opt_job *j = ctx;
  const conv_op *c = j->c;
  const size_t begin = chunk * j->count / j->chunks, end = (chunk + 1) * j->count / j->chunks;
  return etpu_opt_conv_run_range(&c->opt_desc, &c->quant, j->x, c->opt_packed, j->b, j->y,
                                 (char *)c->opt_scratch + (size_t)worker * c->opt_scratch_stride,
                                 c->opt_scratch_bytes, begin, end);
}

static etpu_status opt_eval(etpu_interp *ip, const conv_op *c, const void *x, const void *b, void *y) {
  if (c->opt_threads <= 1)
    return etpu_opt_conv_run(&c->opt_desc, &c->quant, x, c->opt_packed, b, y, c->opt_scratch, c->opt_scratch_bytes);
  opt_job j = {c, x, b, y, etpu_opt_conv_range_count(&c->opt_desc), 0};
  j.chunks = (size_t)c->opt_threads * 4;
  if (j.chunks > j.count) j.chunks = j.count;
  return etpu_interp_parallel(ip, j.chunks, opt_chunk, &j);
}

/* ---- CONV_2D and DEPTHWISE_CONV_2D -------------------------------------- */

static etpu_status conv_dw_prepare(etpu_interp *ip, etpu_rop *op, conv_kind kind) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 3, 1);
  if (st != ETPU_OK) return st;
  conv_op *c = new_state(ip, op, kind);
  if (!c) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  etpu_rtensor *in = etpu_in(ip, op, 0), *w = etpu_in(ip, op, 1), *b = etpu_in(ip, op, 2), *out = etpu_out(ip, op, 0);
  c->in_i = op->in[0];
  c->w_i = op->in[1];
  c->b_i = b ? op->in[2] : -1;
  c->out_i = op->out[0];
  if ((st = check_types(ip, op, c, in, w, b, out)) != ETPU_OK) return st;
  if ((st = dims4(ip, op, in, "input", &c->in_d)) != ETPU_OK) return st;
  if ((st = dims4(ip, op, w, "weights", &c->f_d)) != ETPU_OK) return st;

  const bool dw = kind == KIND_DW;
  const uint16_t tab = dw ? ETPU_T_DepthwiseConv2DOptions : ETPU_T_Conv2DOptions;
  const int64_t padding = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_padding
                                                      : ETPU_F_Conv2DOptions_padding);
  const int64_t stride_w = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_stride_w
                                                       : ETPU_F_Conv2DOptions_stride_w);
  const int64_t stride_h = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_stride_h
                                                       : ETPU_F_Conv2DOptions_stride_h);
  const int64_t dil_w = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_dilation_w_factor
                                                    : ETPU_F_Conv2DOptions_dilation_w_factor);
  const int64_t dil_h = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_dilation_h_factor
                                                    : ETPU_F_Conv2DOptions_dilation_h_factor);
  const int64_t act = etpu_op_opt_int(op, tab, dw ? ETPU_F_DepthwiseConv2DOptions_fused_activation_function
                                                  : ETPU_F_Conv2DOptions_fused_activation_function);
  etpu_window_geometry gh, gw;
  if ((st = window_axis(ip, op, "h", padding, stride_h, dil_h, c->in_d.h, c->f_d.h, &gh)) != ETPU_OK) return st;
  if ((st = window_axis(ip, op, "w", padding, stride_w, dil_w, c->in_d.w, c->f_d.w, &gw)) != ETPU_OK) return st;

  int32_t out_c, depth_multiplier = 1;
  char s1[96], s2[96];
  if (!dw) {
    /* filter [C_out, KH, KW, C_f]; C_in = groups · C_f */
    out_c = c->f_d.n;
    if (c->in_d.c % c->f_d.c != 0 || out_c % (c->in_d.c / c->f_d.c) != 0)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "input '%s' %s and weights '%s' %s: channels do not group", in->name,
                          shape_text(s1, sizeof s1, in->rank, in->dims), w->name,
                          shape_text(s2, sizeof s2, w->rank, w->dims));
  } else {
    /* filter [1, KH, KW, C_out]; C_out = C_in · depth_multiplier. TFLite
     * derives the multiplier from the channels; the option must agree,
     * and its schema default 0 is accepted only because the channels do. */
    out_c = c->f_d.c;
    if (c->f_d.n != 1 || out_c % c->in_d.c != 0)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' %s do not fit input '%s' %s (need [1, h, w, k*%d])",
                          w->name, shape_text(s1, sizeof s1, w->rank, w->dims), in->name,
                          shape_text(s2, sizeof s2, in->rank, in->dims), c->in_d.c);
    depth_multiplier = out_c / c->in_d.c;
    const int64_t opt = etpu_op_opt_int(op, tab, ETPU_F_DepthwiseConv2DOptions_depth_multiplier);
    if (opt != 0 && opt != depth_multiplier)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "depth_multiplier %lld, but %d input and %d output channels give %d",
                          (long long)opt, c->in_d.c, out_c, depth_multiplier);
    c->xnn_option_refused = opt == 0; /* XNNPACK's delegate rejects depth_multiplier <= 0 */
  }
  const int32_t want[4] = {c->in_d.n, gh.out_size, gw.out_size, out_c};
  if ((st = check_output_shape(ip, op, out, 4, want)) != ETPU_OK) return st;
  c->out_d = (etpu_dims){want[0], want[1], want[2], want[3]};
  if ((st = prepare_bias(ip, op, c, b, out_c)) != ETPU_OK) return st;
  if ((st = prepare_weights(ip, op, c, w, dw ? 3 : 0)) != ETPU_OK) return st;

  const int32_t sh = (int32_t)stride_h, sw = (int32_t)stride_w, dh = (int32_t)dil_h, dwf = (int32_t)dil_w;
  if (c->dtype == ETPU_FLOAT32) {
    c->f32 = (etpu_conv_f32_params){sh, sw, gh.pad_before, gw.pad_before, dh, dwf, depth_multiplier, 0.0f, 0.0f};
    return float_activation(ip, op, act, &c->f32.activation_min, &c->f32.activation_max);
  }
  int32_t amin, amax, wzp;
  if ((st = prepare_quant(ip, op, c, in, w, b, out, out_c, dw ? 3 : 0, act, &amin, &amax, &wzp)) != ETPU_OK)
    return st;
  if (c->dtype == ETPU_INT8) {
    c->s8 = (etpu_conv_params){-in->zero_point, out->zero_point, sh, sw, gh.pad_before, gw.pad_before, dh, dwf,
                               amin, amax};
    c->dw_s8 = (etpu_dw_conv_params){-in->zero_point, out->zero_point, sh, sw, gh.pad_before, gw.pad_before, dh, dwf,
                                     depth_multiplier, amin, amax};
  } else {
    c->u8 = (etpu_conv_u8_params){-in->zero_point, -wzp, out->zero_point, sh, sw, gh.pad_before, gw.pad_before, dh,
                                  dwf, amin, amax};
    c->dw_u8 = (etpu_dw_conv_u8_params){-in->zero_point, -wzp, out->zero_point, sh, sw, gh.pad_before,
                                        gw.pad_before, dh, dwf, depth_multiplier, amin, amax};
  }
  return prepare_opt(ip, op, c);
}

static etpu_status conv_prepare(etpu_interp *ip, etpu_rop *op) { return conv_dw_prepare(ip, op, KIND_CONV); }
static etpu_status dw_prepare(etpu_interp *ip, etpu_rop *op) { return conv_dw_prepare(ip, op, KIND_DW); }

/* ---- TRANSPOSE_CONV ----------------------------------------------------- */

static etpu_status tconv_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 3, 4, 1);
  if (st != ETPU_OK) return st;
  conv_op *c = new_state(ip, op, KIND_TCONV);
  if (!c) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  /* inputs: output_shape, weights [C_out, KH, KW, C_in], input, bias */
  etpu_rtensor *shp = etpu_in(ip, op, 0), *w = etpu_in(ip, op, 1), *in = etpu_in(ip, op, 2), *b = etpu_in(ip, op, 3);
  etpu_rtensor *out = etpu_out(ip, op, 0);
  c->in_i = op->in[2];
  c->w_i = op->in[1];
  c->b_i = b ? op->in[3] : -1;
  c->out_i = op->out[0];
  if ((st = check_types(ip, op, c, in, w, b, out)) != ETPU_OK) return st;
  if ((st = dims4(ip, op, in, "input", &c->in_d)) != ETPU_OK) return st;
  if ((st = dims4(ip, op, w, "weights", &c->f_d)) != ETPU_OK) return st;
  if (shp->type != ETPU_INT32 || shp->elems != 4 || shp->rank != 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output_shape '%s' must be an int32 vector of 4", shp->name);
  if (!shp->is_const)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output_shape '%s' is computed at run time; etpu needs a constant",
                        shp->name);
  int32_t want[4];
  memcpy(want, shp->data, sizeof want);
  for (int k = 0; k < 4; k++)
    if (want[k] < 1)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "output_shape '%s' has dimension %d = %d", shp->name, k, want[k]);
  if ((st = check_output_shape(ip, op, out, 4, want)) != ETPU_OK) return st;
  char s1[96], s2[96];
  if (want[0] != c->in_d.n || want[3] != c->f_d.n || c->f_d.c != c->in_d.c)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input '%s' %s, weights '%s' %s and output '%s' do not agree",
                        in->name, shape_text(s1, sizeof s1, in->rank, in->dims), w->name,
                        shape_text(s2, sizeof s2, w->rank, w->dims), out->name);
  c->out_d = (etpu_dims){want[0], want[1], want[2], want[3]};

  const uint16_t tab = ETPU_T_TransposeConvOptions;
  const int64_t padding = etpu_op_opt_int(op, tab, ETPU_F_TransposeConvOptions_padding);
  const int64_t stride_w = etpu_op_opt_int(op, tab, ETPU_F_TransposeConvOptions_stride_w);
  const int64_t stride_h = etpu_op_opt_int(op, tab, ETPU_F_TransposeConvOptions_stride_h);
  const int64_t act = etpu_op_opt_int(op, tab, ETPU_F_TransposeConvOptions_fused_activation_function);
  /* TFLite pads as for a conv from the output back to the input:
   * ComputePaddingHeightWidth(stride, dilation 1, output size, filter). */
  etpu_window_geometry gh, gw;
  if ((st = window_axis(ip, op, "h", padding, stride_h, 1, want[1], c->f_d.h, &gh)) != ETPU_OK) return st;
  if ((st = window_axis(ip, op, "w", padding, stride_w, 1, want[2], c->f_d.w, &gw)) != ETPU_OK) return st;
  const int32_t out_c = c->f_d.n;
  if ((st = prepare_bias(ip, op, c, b, out_c)) != ETPU_OK) return st;
  if ((st = prepare_weights(ip, op, c, w, 0)) != ETPU_OK) return st;

  const int32_t sh = (int32_t)stride_h, sw = (int32_t)stride_w;
  if (c->dtype == ETPU_FLOAT32) {
    c->f32 = (etpu_conv_f32_params){sh, sw, gh.pad_before, gw.pad_before, 1, 1, 1, 0.0f, 0.0f};
    return float_activation(ip, op, act, &c->f32.activation_min, &c->f32.activation_max);
  }
  int32_t amin, amax, wzp;
  if ((st = prepare_quant(ip, op, c, in, w, b, out, out_c, 0, act, &amin, &amax, &wzp)) != ETPU_OK) return st;
  c->tc = (etpu_transpose_conv_params){-in->zero_point, -wzp, out->zero_point, sh, sw, gh.pad_before, gw.pad_before,
                                       amin, amax};
  c->scratch_bytes = etpu_transpose_conv_get_buffer_size(&c->out_d);
  c->scratch = c->scratch_bytes ? etpu_op_alloc(ip, c->scratch_bytes) : NULL;
  if (!c->scratch) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory for a %zu-byte scratch",
                                       c->scratch_bytes);
  return ETPU_OK;
}

/* ---- FULLY_CONNECTED ---------------------------------------------------- */

static etpu_status fc_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 3, 1);
  if (st != ETPU_OK) return st;
  conv_op *c = new_state(ip, op, KIND_FC);
  if (!c) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  etpu_rtensor *in = etpu_in(ip, op, 0), *w = etpu_in(ip, op, 1), *b = etpu_in(ip, op, 2), *out = etpu_out(ip, op, 0);
  c->in_i = op->in[0];
  c->w_i = op->in[1];
  c->b_i = b ? op->in[2] : -1;
  c->out_i = op->out[0];
  if ((st = check_types(ip, op, c, in, w, b, out)) != ETPU_OK) return st;
  const uint16_t tab = ETPU_T_FullyConnectedOptions;
  const int64_t act = etpu_op_opt_int(op, tab, ETPU_F_FullyConnectedOptions_fused_activation_function);
  const int64_t format = etpu_op_opt_int(op, tab, ETPU_F_FullyConnectedOptions_weights_format);
  const bool keep = etpu_op_opt_int(op, tab, ETPU_F_FullyConnectedOptions_keep_num_dims) != 0;
  if (format != 0)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "weights_format %lld (shuffled weights) is not supported",
                        (long long)format);
  char s1[96], s2[96];
  if (w->rank != 2 || w->dims[0] < 1 || w->dims[1] < 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have shape %s; expected [units, depth]", w->name,
                        shape_text(s1, sizeof s1, w->rank, w->dims));
  const int32_t units = w->dims[0], depth = w->dims[1];
  if (in->elems == 0 || in->elems % (size_t)depth != 0 || in->elems / (size_t)depth > INT32_MAX)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input '%s' %s does not split into rows of depth %d", in->name,
                        shape_text(s1, sizeof s1, in->rank, in->dims), depth);
  const int32_t batches = (int32_t)(in->elems / (size_t)depth);
  /* TFLite's output shape: the input's with the last dimension replaced by
   * units (keep_num_dims), else [batches, units]. */
  int32_t want[ETPU_MAX_RANK];
  uint32_t rank = 2;
  if (keep) {
    if (in->rank < 1 || in->dims[in->rank - 1] != depth)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "keep_num_dims: input '%s' %s must end in the depth %d of '%s' %s",
                          in->name, shape_text(s1, sizeof s1, in->rank, in->dims), depth, w->name,
                          shape_text(s2, sizeof s2, w->rank, w->dims));
    rank = in->rank;
    memcpy(want, in->dims, rank * sizeof want[0]);
    want[rank - 1] = units;
  } else {
    want[0] = batches;
    want[1] = units;
  }
  /* TFLite's Prepare never reads the stored output shape: it resizes the
   * output to the shape above (libcoral's retrained models store [1,1,1,C]
   * for a [1,C] result). etpu plans memory from the stored shapes, so it
   * takes TFLite's shape when the element count is the same, else refuses. */
  if (out->elems == (size_t)batches * (size_t)units) {
    out->rank = rank;
    memcpy(out->dims, want, rank * sizeof want[0]);
  }
  if ((st = check_output_shape(ip, op, out, rank, want)) != ETPU_OK) return st;
  c->in_d = (etpu_dims){batches, 1, 1, depth};
  c->f_d = (etpu_dims){units, 1, 1, depth};
  c->out_d = (etpu_dims){batches, 1, 1, units};
  if ((st = prepare_bias(ip, op, c, b, units)) != ETPU_OK) return st;
  if ((st = prepare_weights(ip, op, c, w, 0)) != ETPU_OK) return st;
  if (c->dtype == ETPU_FLOAT32)
    return float_activation(ip, op, act, &c->fc_f32.activation_min, &c->fc_f32.activation_max);
  int32_t amin, amax, wzp;
  if ((st = prepare_quant(ip, op, c, in, w, b, out, units, 0, act, &amin, &amax, &wzp)) != ETPU_OK) return st;
  if (c->dtype == ETPU_INT8)
    c->fc_s8 = (etpu_fc_params){-in->zero_point, -wzp, out->zero_point, amin, amax};
  else
    c->fc_u8 = (etpu_fc_u8_params){-in->zero_point, -wzp, out->zero_point, amin, amax};
  return prepare_opt(ip, op, c);
}

/* ---- eval --------------------------------------------------------------- */

static etpu_status conv_eval(etpu_interp *ip, etpu_rop *op) {
  const conv_op *c = op->params;
  const void *x = ip->t[c->in_i].data, *w = c->weights ? c->weights : ip->t[c->w_i].data;
  const void *b = c->bias ? c->bias : (c->b_i >= 0 ? ip->t[c->b_i].data : NULL);
  void *y = ip->t[c->out_i].data;
  const etpu_requant_params *q = &c->quant;
  etpu_status st = ETPU_INVALID_STATE;
  if (c->opt) {
    st = opt_eval(ip, c, x, b, y);
    if (st != ETPU_OK) return etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
    return ETPU_OK;
  }
  switch (c->kind) {
    case KIND_CONV:
      if (c->dtype == ETPU_INT8)
        st = etpu_conv2d_s8(&c->s8, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      else if (c->dtype == ETPU_UINT8)
        st = etpu_conv2d_u8(&c->u8, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      else
        st = etpu_conv2d_f32(&c->f32, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      break;
    case KIND_DW:
      if (c->dtype == ETPU_INT8)
        st = etpu_depthwise_conv2d_s8(&c->dw_s8, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      else if (c->dtype == ETPU_UINT8)
        st = etpu_depthwise_conv2d_u8(&c->dw_u8, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      else
        st = etpu_depthwise_conv2d_f32(&c->f32, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      break;
    case KIND_TCONV:
      if (c->dtype == ETPU_INT8)
        st = etpu_transpose_conv_s8(&c->tc, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y, c->scratch,
                                    c->scratch_bytes);
      else if (c->dtype == ETPU_UINT8)
        st = etpu_transpose_conv_u8(&c->tc, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y, c->scratch,
                                    c->scratch_bytes);
      else
        st = etpu_transpose_conv_f32(&c->f32, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      break;
    case KIND_FC:
      if (c->dtype == ETPU_INT8)
        st = etpu_fully_connected_s8(&c->fc_s8, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      else if (c->dtype == ETPU_UINT8)
        st = etpu_fully_connected_u8(&c->fc_u8, q, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      else
        st = etpu_fully_connected_f32(&c->fc_f32, &c->in_d, x, &c->f_d, w, b, &c->out_d, y);
      break;
  }
  if (st != ETPU_OK) return etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
  return ETPU_OK;
}

const etpu_kernel_reg etpu_reg_conv_2d = {ETPU_OP_CONV_2D, NULL, conv_prepare, conv_eval, NULL};
const etpu_kernel_reg etpu_reg_depthwise_conv_2d = {ETPU_OP_DEPTHWISE_CONV_2D, NULL, dw_prepare, conv_eval, NULL};
const etpu_kernel_reg etpu_reg_transpose_conv = {ETPU_OP_TRANSPOSE_CONV, NULL, tconv_prepare, conv_eval, NULL};
const etpu_kernel_reg etpu_reg_fully_connected = {ETPU_OP_FULLY_CONNECTED, NULL, fc_prepare, conv_eval, NULL};
