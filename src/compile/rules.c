/*
 * rules.c — the Edge TPU's requirements, as data plus one limit function.
 *
 * Sources: Coral's "Edge TPU model requirements" and its Table 1 (EDGETPU.md
 * §1-§2), the compiler's status strings (§9) and the real compiled pairs
 * (§5.2). Each row of the table says which runtime version added the op,
 * the newest op version the compiler accepts, and the role of each input:
 * an activation (8-bit quantized, counted by the rank rule), a parameter
 * (must be constant at compile time) or free. Checks run in this order and
 * the first failure is the op's verdict:
 *   1. op in the table for the runtime version     "Operation not supported"
 *   2. op version                                   "Operation version not supported"
 *   3. 8-bit quantized activations, typed params    "... unsupported data type"
 *   4. parameters constant                          "Filter, bias, or other param ..."
 *   5. at most 3 innermost dimensions > 1           "Tensor has unsupported rank ..."
 *   6. the op's known limitations                   "... unspecified limitation"
 *
 * Op versions: the newest versions accepted are those of the TensorFlow
 * Lite release the v16 compiler was built with (mid 2021); this is inferred,
 * not documented by Google [uncertain], and errs on the side of accepting.
 *
 * ResizeBilinear / ResizeNearestNeighbor "might not be mapped to avoid loss
 * in precision" (Table 1). The threshold is not published; etpu refuses an
 * upscale factor above 32 per axis, which reproduces the real compiler on
 * the deeplabv3 pairs (1x1 -> 33x33 refused) [inferred].
 */
#include <stdio.h>
#include <string.h>

#include "compile/compile.h"

/* Input roles. */
enum { R_FREE = 0, R_ACT = 1, R_PARAM8 = 2, R_PARAM32 = 3, R_PARAMI = 4, R_STATE = 5 };

#define MAX_ROLES 24

typedef struct op_row {
  int32_t code;
  const char *table_name; /* Table 1 name */
  int32_t min_rt;         /* runtime version that added it */
  int32_t max_version;    /* newest op version accepted */
  bool all_act;           /* every input is an activation (Concatenation, Pack) */
  uint8_t roles[MAX_ROLES];
} op_row;

/* R_PARAM8: constant 8-bit weights; R_PARAM32: constant int32 (bias);
 * R_PARAMI: constant integer parameter (shape, axis, paddings, ...). */
static const op_row k_table[] = {
    {ETPU_OP_ADD, "Add", 10, 4, false, {R_ACT, R_ACT}},
    {ETPU_OP_AVERAGE_POOL_2D, "AveragePool2d", 10, 3, false, {R_ACT}},
    {ETPU_OP_CONCATENATION, "Concatenation", 10, 3, true, {0}},
    {ETPU_OP_CONV_2D, "Conv2d", 10, 5, false, {R_ACT, R_PARAM8, R_PARAM32}},
    {ETPU_OP_DEPTHWISE_CONV_2D, "DepthwiseConv2d", 10, 6, false, {R_ACT, R_PARAM8, R_PARAM32}},
    {ETPU_OP_EXPAND_DIMS, "ExpandDims", 13, 1, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_FULLY_CONNECTED, "FullyConnected", 10, 9, false, {R_ACT, R_PARAM8, R_PARAM32}},
    {ETPU_OP_L2_NORMALIZATION, "L2Normalization", 10, 2, false, {R_ACT}},
    {ETPU_OP_LOGISTIC, "Logistic", 10, 3, false, {R_ACT}},
    {ETPU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM, "LSTM", 14, 3, false,
     {R_ACT, R_PARAM8, R_PARAM8, R_PARAM8, R_PARAM8, R_PARAM8, R_PARAM8, R_PARAM8, R_PARAM8, R_PARAMI, R_PARAMI,
      R_PARAMI, R_PARAM32, R_PARAM32, R_PARAM32, R_PARAM32, R_PARAM8, R_PARAM32, R_STATE, R_STATE, R_PARAMI, R_PARAMI,
      R_PARAMI, R_PARAMI}},
    {ETPU_OP_MAXIMUM, "Maximum", 10, 4, false, {R_ACT, R_ACT}},
    {ETPU_OP_MAX_POOL_2D, "MaxPool2d", 10, 3, false, {R_ACT}},
    {ETPU_OP_MEAN, "Mean", 10, 2, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_MINIMUM, "Minimum", 10, 4, false, {R_ACT, R_ACT}},
    {ETPU_OP_MUL, "Mul", 10, 4, false, {R_ACT, R_ACT}},
    {ETPU_OP_PACK, "Pack", 13, 2, true, {0}},
    {ETPU_OP_PAD, "Pad", 10, 2, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_PRELU, "PReLU", 13, 1, false, {R_ACT, R_PARAM8}},
    {ETPU_OP_QUANTIZE, "Quantize", 13, 2, false, {R_ACT}},
    {ETPU_OP_REDUCE_MAX, "ReduceMax", 14, 2, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_REDUCE_MIN, "ReduceMin", 14, 2, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_RELU, "ReLU", 10, 2, false, {R_ACT}},
    {ETPU_OP_RELU6, "ReLU6", 10, 2, false, {R_ACT}},
    {ETPU_OP_RELU_N1_TO_1, "ReLUN1To1", 10, 1, false, {R_ACT}},
    {ETPU_OP_RESHAPE, "Reshape", 10, 1, false, {R_ACT, R_FREE}},
    {ETPU_OP_RESIZE_BILINEAR, "ResizeBilinear", 10, 4, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_RESIZE_NEAREST_NEIGHBOR, "ResizeNearestNeighbor", 10, 3, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_RSQRT, "Rsqrt", 14, 2, false, {R_ACT}},
    {ETPU_OP_SLICE, "Slice", 10, 4, false, {R_ACT, R_PARAMI, R_PARAMI}},
    {ETPU_OP_SOFTMAX, "Softmax", 10, 3, false, {R_ACT}},
    {ETPU_OP_SPACE_TO_DEPTH, "SpaceToDepth", 10, 2, false, {R_ACT}},
    {ETPU_OP_SPLIT, "Split", 10, 4, false, {R_PARAMI, R_ACT}},
    {ETPU_OP_SQUEEZE, "Squeeze", 10, 1, false, {R_ACT}},
    {ETPU_OP_STRIDED_SLICE, "StridedSlice", 10, 5, false, {R_ACT, R_PARAMI, R_PARAMI, R_PARAMI}},
    {ETPU_OP_SUB, "Sub", 10, 5, false, {R_ACT, R_ACT}},
    {ETPU_OP_SUM, "Sum", 13, 1, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_SQUARED_DIFFERENCE, "Squared-difference", 14, 2, false, {R_ACT, R_ACT}},
    {ETPU_OP_TANH, "Tanh", 10, 3, false, {R_ACT}},
    {ETPU_OP_TRANSPOSE, "Transpose", 14, 5, false, {R_ACT, R_PARAMI}},
    {ETPU_OP_TRANSPOSE_CONV, "TransposeConv", 13, 3, false, {R_PARAMI, R_PARAM8, R_ACT, R_PARAM32}},
};

/* Ops the Edge TPU does not map, with what would let the compiler map the
 * work instead (the reason is the table's: "not an Edge TPU operation").
 * Ops without a line here get the general advice. */
typedef struct op_advice {
  int32_t code;            /* builtin code, or ETPU_OP_CUSTOM with custom_code */
  const char *custom_code;
  const char *fix;
} op_advice;

static const op_advice k_advice[] = {
    {ETPU_OP_TILE, NULL,
     "runs on the CPU; let ADD/MUL broadcast the smaller tensor, or CONCATENATION of copies (both mapped), instead of "
     "TILE"},
    {ETPU_OP_MIRROR_PAD, NULL, "runs on the CPU; PAD (zero padding) is mapped, so use it if the model tolerates it"},
    {ETPU_OP_ABS, NULL, "runs on the CPU; write |x| as MAXIMUM(x, MUL(x, -1)) (both mapped)"},
    {ETPU_OP_POW, NULL,
     "runs on the CPU; for a small constant integer exponent use repeated MUL (x^2 = MUL(x, x)), which is mapped"},
    {ETPU_OP_SHAPE, NULL,
     "runs on the CPU; convert with a fixed input shape so that the converter folds the shape arithmetic into "
     "constants"},
    {ETPU_OP_FLOOR_MOD, NULL,
     "runs on the CPU; convert with a fixed input shape so that the converter folds this index arithmetic into "
     "constants"},
    {ETPU_OP_SPACE_TO_BATCH_ND, NULL,
     "runs on the CPU; convert with a fixed input shape so that SPACE_TO_BATCH_ND + CONV_2D + BATCH_TO_SPACE_ND fold "
     "into one dilated CONV_2D, which is mapped"},
    {ETPU_OP_BATCH_TO_SPACE_ND, NULL,
     "runs on the CPU; convert with a fixed input shape so that SPACE_TO_BATCH_ND + CONV_2D + BATCH_TO_SPACE_ND fold "
     "into one dilated CONV_2D, which is mapped"},
    {ETPU_OP_CUSTOM, "Convolution2DTransposeBias",
     "custom ops always run on the CPU; the builtin TRANSPOSE_CONV with the bias as its 4th input computes the same "
     "and is mapped (-m 13 or newer)"},
};

static const char *advice_for(int32_t code, const char *custom_code) {
  for (size_t i = 0; i < sizeof k_advice / sizeof k_advice[0]; i++)
    if (k_advice[i].code == code &&
        (code != ETPU_OP_CUSTOM || (custom_code && !strcmp(custom_code, k_advice[i].custom_code))))
      return k_advice[i].fix;
  return NULL;
}

static const op_row *find_row(int32_t code) {
  for (size_t i = 0; i < sizeof k_table / sizeof k_table[0]; i++)
    if (k_table[i].code == code) return &k_table[i];
  return NULL;
}

int32_t etpu_rules_min_runtime(int32_t code) {
  const op_row *r = find_row(code);
  return r ? r->min_rt : 0;
}

const char *etpu_map_status_text(etpu_map_status s) {
  switch (s) {
#define ETPU_X_(name, value, text) \
  case name:                       \
    return text;
    ETPU_MAP_STATUS_LIST(ETPU_X_)
#undef ETPU_X_
  }
  return "unknown status";
}

/* ---- helpers ------------------------------------------------------------ */

static const etpu_gsubgraph *sg0(const etpu_model *m) { return &m->subgraphs[0]; }

static int64_t opt(const etpu_gop *op, uint16_t table, uint16_t id) {
  if (op->options && op->options->desc == table) return etpu_fbt_int(op->options, id);
  const struct etpu_fb_fdesc *fd = etpu_fb_field_desc(table, id);
  return fd ? fd->def_int : 0;
}

static bool is_8bit(int32_t t) { return t == ETPU_INT8 || t == ETPU_UINT8; }

static void shape_str(const etpu_gtensor *t, char *buf, size_t cap) {
  size_t n = 0;
  n += (size_t)snprintf(buf + n, cap - n, "[");
  for (uint32_t i = 0; i < t->rank && n < cap; i++) n += (size_t)snprintf(buf + n, cap - n, "%s%d", i ? "," : "", t->shape[i]);
  if (n < cap) snprintf(buf + n, cap - n, "]");
}

static etpu_map_status fail(etpu_rule_result *r, etpu_map_status st, const char *fix, const char *fmt, ...)
    ETPU_PRINTF(4, 5);
static etpu_map_status fail(etpu_rule_result *r, etpu_map_status st, const char *fix, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->reason, sizeof r->reason, fmt, ap);
  va_end(ap);
  snprintf(r->fix, sizeof r->fix, "%s", fix ? fix : "");
  r->status = st;
  return st;
}

/* Constant int32 vector data of a tensor, or NULL. */
static const int32_t *const_i32(const etpu_model *m, int32_t ti, uint32_t *n) {
  *n = 0;
  if (ti < 0) return NULL;
  const etpu_gtensor *t = &sg0(m)->tensors[ti];
  size_t size;
  const uint8_t *d = etpu_graph_tensor_data(m, t, &size);
  if (!d || t->type != ETPU_INT32 || size % 4) return NULL;
  *n = (uint32_t)(size / 4);
  return (const int32_t *)(const void *)d;
}

static int32_t norm_axis(int32_t a, uint32_t rank) { return a < 0 ? a + (int32_t)rank : a; }

/* Dims other than the 3 innermost must be 1. */
static bool rank_ok(const etpu_gtensor *t, uint32_t *bad_dim) {
  for (uint32_t d = 0; d + 3 < t->rank; d++)
    if (t->shape[d] != 1) {
      *bad_dim = d;
      return false;
    }
  return true;
}

/* The batch dimension: axis 0 of a 4-D NHWC tensor. */
static bool is_batch_axis(int32_t axis, uint32_t rank) { return rank == 4 && axis == 0; }

/* ---- the op's known limitations (Table 1) ------------------------------ */

static etpu_map_status limits(const etpu_model *m, const etpu_gop *op, int32_t code, int32_t rt,
                              etpu_rule_result *r) {
  const etpu_gsubgraph *g = sg0(m);
  const etpu_gtensor *in0 = op->ninputs && op->inputs[0] >= 0 ? &g->tensors[op->inputs[0]] : NULL;
  const etpu_gtensor *out0 = op->noutputs ? &g->tensors[op->outputs[0]] : NULL;
  const etpu_map_status L = ETPU_NOT_MAPPED_LIMITATION;
  char sh[96];
  switch (code) {
    case ETPU_OP_AVERAGE_POOL_2D:
    case ETPU_OP_MAX_POOL_2D: {
      int64_t act = opt(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_fused_activation_function);
      if (act != 0)
        return fail(r, L, "apply the activation as a separate RELU/RELU6 op after the pooling",
                    "pooling has fused activation %s; the Edge TPU allows none on pooling",
                    etpu_fb_enum_name(ETPU_E_ActivationFunctionType, act) ? etpu_fb_enum_name(ETPU_E_ActivationFunctionType, act) : "?");
      break;
    }
    case ETPU_OP_CONCATENATION: {
      int64_t act = opt(op, ETPU_T_ConcatenationOptions, ETPU_F_ConcatenationOptions_fused_activation_function);
      if (act != 0)
        return fail(r, L, "apply the activation as a separate op after the concatenation",
                    "concatenation has a fused activation; the Edge TPU allows none");
      for (uint32_t k = 0; k < op->ninputs; k++) {
        if (op->inputs[k] < 0) continue;
        const etpu_gtensor *t = &g->tensors[op->inputs[k]];
        size_t size;
        const uint8_t *d = etpu_graph_tensor_data(m, t, &size);
        if (!d) continue;
        if (op->ninputs != 2)
          return fail(r, L, "make the constant input a separate zero padding (PAD) or compute it at run time",
                      "input %u '%s' is a constant and the concatenation has %u inputs; a constant input is allowed only with exactly 2 inputs",
                      k, t->name, op->ninputs);
        int64_t zp = t->quant && t->quant->zp_count ? t->quant->zero_point[0] : 0;
        for (size_t i = 0; i < size; i++)
          if ((t->type == ETPU_INT8 ? (int64_t)(int8_t)d[i] : (int64_t)d[i]) != zp)
            return fail(r, L, "replace the constant by PAD (zero padding), the only constant concatenation the Edge TPU maps",
                        "constant input %u '%s' is not all zeros (element %zu is %d, zero is %lld)", k, t->name, i,
                        t->type == ETPU_INT8 ? (int)(int8_t)d[i] : (int)d[i], (long long)zp);
      }
      break;
    }
    case ETPU_OP_CONV_2D: {
      int64_t dw = opt(op, ETPU_T_Conv2DOptions, ETPU_F_Conv2DOptions_dilation_w_factor);
      int64_t dh = opt(op, ETPU_T_Conv2DOptions, ETPU_F_Conv2DOptions_dilation_h_factor);
      if (dw != dh)
        return fail(r, L, "use the same dilation in x and y",
                    "dilation is %lld in x and %lld in y; the Edge TPU needs the same dilation in both", (long long)dw,
                    (long long)dh);
      break;
    }
    case ETPU_OP_DEPTHWISE_CONV_2D: {
      int64_t dw = opt(op, ETPU_T_DepthwiseConv2DOptions, ETPU_F_DepthwiseConv2DOptions_dilation_w_factor);
      int64_t dh = opt(op, ETPU_T_DepthwiseConv2DOptions, ETPU_F_DepthwiseConv2DOptions_dilation_h_factor);
      if (rt <= 12 && (dw != 1 || dh != 1))
        return fail(r, L, dw == dh ? "-m 13 allows dilated DepthwiseConv2d" : "use equal dilation in x and y, and -m 13",
                    "dilation %lldx%lld: runtime %d does not support dilated DepthwiseConv2d (runtime 13 and later do)",
                    (long long)dw, (long long)dh, rt);
      if (dw != dh)
        return fail(r, L, "use the same dilation in x and y",
                    "dilation is %lld in x and %lld in y; the Edge TPU needs the same dilation in both", (long long)dw,
                    (long long)dh);
      break;
    }
    case ETPU_OP_FULLY_CONNECTED: {
      int64_t wf = opt(op, ETPU_T_FullyConnectedOptions, ETPU_F_FullyConnectedOptions_weights_format);
      if (wf != 0)
        return fail(r, L, "re-convert without shuffled weights (weights_format DEFAULT)",
                    "weights_format is %s; only the default format is supported",
                    etpu_fb_enum_name(ETPU_E_FullyConnectedOptionsWeightsFormat, wf) ? etpu_fb_enum_name(ETPU_E_FullyConnectedOptionsWeightsFormat, wf) : "?");
      uint32_t big = 0;
      for (uint32_t d = 0; out0 && d < out0->rank; d++) big += out0->shape[d] > 1;
      if (out0 && big > 1) {
        shape_str(out0, sh, sizeof sh);
        return fail(r, L, "reshape the input so that the fully-connected output is one-dimensional (batch 1)",
                    "output '%s' has shape %s; the Edge TPU needs a one-dimensional output", out0->name, sh);
      }
      break;
    }
    case ETPU_OP_MEAN:
    case ETPU_OP_SUM:
    case ETPU_OP_REDUCE_MAX:
    case ETPU_OP_REDUCE_MIN: {
      uint32_t n;
      const int32_t *axes = const_i32(m, op->ninputs > 1 ? op->inputs[1] : -1, &n);
      if (!in0 || !axes) break; /* non-constant axes are caught by the parameter rule */
      for (uint32_t i = 0; i < n; i++) {
        int32_t a = norm_axis(axes[i], in0->rank);
        if (is_batch_axis(a, in0->rank) || (in0->rank == 4 && a == 0))
          return fail(r, L, "reduce over height, width or channels only", "reduces the batch dimension (axis %d)", axes[i]);
        if (code == ETPU_OP_MEAN && rt <= 12 && !(in0->rank == 4 && (a == 1 || a == 2)))
          return fail(r, L, "-m 13 allows Mean over other axes", "runtime %d supports Mean over x and/or y only; axis %d is reduced",
                      rt, axes[i]);
        if (code == ETPU_OP_MEAN && rt >= 13 && a == (int32_t)in0->rank - 1 && in0->rank > 0 &&
            in0->shape[in0->rank - 1] % 4 != 0)
          return fail(r, L, "pad the channels to a multiple of 4",
                      "reduces the z dimension (axis %d) of size %d, which is not a multiple of 4", axes[i],
                      in0->shape[in0->rank - 1]);
      }
      break;
    }
    case ETPU_OP_PACK: {
      int64_t axis = opt(op, ETPU_T_PackOptions, ETPU_F_PackOptions_axis);
      if (out0 && is_batch_axis(norm_axis((int32_t)axis, out0->rank), out0->rank))
        return fail(r, L, "pack along another axis", "packs along the batch dimension (axis %lld)", (long long)axis);
      break;
    }
    case ETPU_OP_PAD: {
      uint32_t n;
      const int32_t *p = const_i32(m, op->ninputs > 1 ? op->inputs[1] : -1, &n);
      if (!in0 || !p || n != 2 * in0->rank) break;
      for (uint32_t d = 0; d < in0->rank; d++) {
        if (p[2 * d] == 0 && p[2 * d + 1] == 0) continue;
        if (is_batch_axis((int32_t)d, in0->rank))
          return fail(r, L, "do not pad the batch dimension", "pads the batch dimension (%d, %d)", p[0], p[1]);
        if (rt <= 12 && !(in0->rank == 4 && (d == 1 || d == 2)))
          return fail(r, L, "-m 13 allows padding in other dimensions",
                      "runtime %d supports padding along x and/or y only; dimension %u is padded", rt, d);
      }
      break;
    }
    case ETPU_OP_PRELU: {
      const etpu_gtensor *alpha = op->ninputs > 1 && op->inputs[1] >= 0 ? &g->tensors[op->inputs[1]] : NULL;
      if (!alpha) break;
      for (uint32_t d = 0; d + 1 < alpha->rank; d++)
        if (alpha->shape[d] != 1) {
          shape_str(alpha, sh, sizeof sh);
          return fail(r, L, "share alpha across height and width (Keras PReLU shared_axes=[1,2])",
                      "alpha '%s' has shape %s; only its innermost dimension may exceed 1", alpha->name, sh);
        }
      break;
    }
    case ETPU_OP_RESIZE_BILINEAR:
    case ETPU_OP_RESIZE_NEAREST_NEIGHBOR: {
      if (!in0 || !out0 || in0->rank != 4 || out0->rank != 4) break;
      for (int d = 1; d <= 2; d++) {
        int32_t i = in0->shape[d], o = out0->shape[d];
        if (i > 0 && o > 32 * i)
          return fail(r, L, "upscale in steps (e.g. two resizes of at most x32), or resize on the CPU after the Edge TPU part",
                      "%s %dx%d -> %dx%d upscales %s by %.1fx; etpu (like the real compiler on deeplabv3) refuses more than 32x to avoid loss of precision",
                      code == ETPU_OP_RESIZE_BILINEAR ? "resize" : "resize", in0->shape[1], in0->shape[2],
                      out0->shape[1], out0->shape[2], d == 1 ? "height" : "width", (double)o / i);
      }
      break;
    }
    case ETPU_OP_SOFTMAX: {
      if (!in0) break;
      uint64_t n = 1;
      for (uint32_t d = 0; d < in0->rank; d++) {
        if (d + 1 < in0->rank && in0->shape[d] != 1) {
          shape_str(in0, sh, sizeof sh);
          return fail(r, L, "reshape to a 1-D vector (e.g. [1,N]) before the softmax",
                      "input shape %s is not one-dimensional; the Edge TPU softmax takes a 1-D input", sh);
        }
        n *= (uint64_t)(in0->shape[d] > 0 ? in0->shape[d] : 1);
      }
      if (n > 16000)
        return fail(r, L, "split the classes, or run the softmax on the CPU",
                    "softmax over %llu elements; the Edge TPU allows at most 16,000", (unsigned long long)n);
      break;
    }
    case ETPU_OP_SPLIT: {
      uint32_t n;
      const int32_t *ax = const_i32(m, op->ninputs > 0 ? op->inputs[0] : -1, &n);
      const etpu_gtensor *val = op->ninputs > 1 && op->inputs[1] >= 0 ? &g->tensors[op->inputs[1]] : NULL;
      if (ax && n == 1 && val && is_batch_axis(norm_axis(ax[0], val->rank), val->rank))
        return fail(r, L, "split along another axis", "splits the batch dimension (axis %d)", ax[0]);
      break;
    }
    case ETPU_OP_SQUEEZE: {
      if (rt > 12 || !in0) break;
      /* Before runtime 13: only leading 1s may be removed (no relayout). */
      bool seen_big = false;
      for (uint32_t d = 0; d < in0->rank; d++) {
        if (in0->shape[d] != 1) seen_big = true;
        else if (seen_big) {
          shape_str(in0, sh, sizeof sh);
          return fail(r, L, "-m 13 supports any Squeeze",
                      "input %s has a size-1 dimension after a larger one (needs a relayout); runtime %d supports Squeeze of leading 1s only",
                      sh, rt);
        }
      }
      break;
    }
    case ETPU_OP_STRIDED_SLICE: {
      uint32_t n;
      const int32_t *st = const_i32(m, op->ninputs > 3 ? op->inputs[3] : -1, &n);
      for (uint32_t i = 0; st && i < n; i++)
        if (st[i] != 1)
          return fail(r, L, "use strides of 1 (a plain slice), and subsample with a strided conv or pooling",
                      "stride %d on axis %u; the Edge TPU needs all strides equal to 1", st[i], i);
      if (opt(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_ellipsis_mask) != 0)
        return fail(r, L, "spell the slice out without an ellipsis", "ellipsis_mask is not 0");
      if (opt(op, ETPU_T_StridedSliceOptions, ETPU_F_StridedSliceOptions_new_axis_mask) != 0)
        return fail(r, L, "add the axis with a RESHAPE instead", "new_axis_mask is not 0");
      break;
    }
    default:
      break;
  }
  return ETPU_MAPPED;
}

/* ---- the checks ---------------------------------------------------------- */

void etpu_rules_check(const etpu_model *m, uint32_t index, int32_t rt, etpu_rule_result *r) {
  const etpu_gsubgraph *g = sg0(m);
  const etpu_gop *op = &g->ops[index];
  int32_t code = etpu_graph_op_code(m, op);
  const char *name = etpu_graph_op_name(m, op);
  memset(r, 0, sizeof *r);
  r->status = ETPU_MAPPED;
  const op_row *row = code == ETPU_OP_CUSTOM ? NULL : find_row(code);

  if (!row) {
    /* Not in Table 1. The real compiler reports ops touching non-8-bit data
     * (float edges, CUSTOM, ARG_MAX's int64) as a data-type problem. */
    const char *advice = advice_for(code, code == ETPU_OP_CUSTOM ? name : NULL);
    for (uint32_t k = 0; k < op->noutputs; k++) {
      const etpu_gtensor *t = &g->tensors[op->outputs[k]];
      if (!is_8bit(t->type) || code == ETPU_OP_CUSTOM) {
        fail(r, ETPU_NOT_MAPPED_DATA_TYPE,
             advice                  ? advice
             : code == ETPU_OP_CUSTOM ? "custom ops always run on the CPU"
                                      : "keep it on the CPU, or use an op from the Edge TPU table",
             "%s is not an Edge TPU operation%s (output '%s' is %s)", name,
             code == ETPU_OP_CUSTOM ? " (custom op)" : "", t->name, etpu_dtype_name(t->type));
        return;
      }
    }
    fail(r, ETPU_NOT_MAPPED_OP, advice ? advice : "replace it with operations from the Edge TPU table (g.co/coral/model-reqs)",
         "%s is not in the Edge TPU's supported-operation table", name);
    return;
  }
  if (row->min_rt > rt) {
    char fix[64];
    snprintf(fix, sizeof fix, "-m %d (or newer) maps %s", row->min_rt, row->table_name);
    fail(r, ETPU_NOT_MAPPED_OP, fix, "%s needs Edge TPU runtime %d or newer; compiling for runtime %d (-m %d)",
         row->table_name, row->min_rt, rt, rt);
    return;
  }
  int32_t version = m->opcodes[op->opcode].version;
  if (version > row->max_version) {
    fail(r, ETPU_NOT_MAPPED_VERSION, "convert with a TensorFlow release from 2021 or earlier, or avoid the newer op features",
         "%s version %d is newer than the versions the Edge TPU compiler accepts (up to %d)", name, version,
         row->max_version);
    return;
  }
  /* Data types and constant parameters. */
  for (uint32_t k = 0; k < op->ninputs; k++) {
    if (op->inputs[k] < 0) continue;
    const etpu_gtensor *t = &g->tensors[op->inputs[k]];
    uint8_t role = row->all_act ? R_ACT : (k < MAX_ROLES ? row->roles[k] : R_FREE);
    size_t size;
    bool constant = etpu_graph_tensor_data(m, t, &size) != NULL;
    switch (role) {
      case R_ACT:
        if (!is_8bit(t->type)) {
          fail(r, ETPU_NOT_MAPPED_DATA_TYPE,
               t->type == ETPU_FLOAT32 ? "quantize the model fully to int8 (etpu quantize, or the TFLite converter with a representative dataset)"
                                       : "use int8 or uint8 tensors",
               "input %u '%s' is %s; the Edge TPU computes on 8-bit quantized tensors only", k, t->name,
               etpu_dtype_name(t->type));
          return;
        }
        if (!t->quant || t->quant->count == 0) {
          fail(r, ETPU_NOT_MAPPED_DATA_TYPE, "give the tensor quantization parameters (scale, zero point)",
               "input %u '%s' is %s without quantization parameters", k, t->name, etpu_dtype_name(t->type));
          return;
        }
        break;
      case R_PARAM8:
      case R_PARAM32:
      case R_PARAMI:
        if (!constant) {
          fail(r, ETPU_NOT_MAPPED_NOT_CONSTANT, "make the parameter a constant tensor (fold it in the converter)",
               "input %u '%s' (a %s) is computed at run time, not constant", k, t->name,
               role == R_PARAM8 ? "filter/weights" : role == R_PARAM32 ? "bias" : "parameter");
          return;
        }
        if (role == R_PARAM8 && !is_8bit(t->type)) {
          fail(r, ETPU_NOT_MAPPED_DATA_TYPE, "quantize the weights to int8 (full-integer quantization, not dynamic range)",
               "weights '%s' are %s; the Edge TPU needs 8-bit weights", t->name, etpu_dtype_name(t->type));
          return;
        }
        if (role == R_PARAM32 && t->type != ETPU_INT32 && !(code == ETPU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM && t->type == ETPU_INT16)) {
          fail(r, ETPU_NOT_MAPPED_DATA_TYPE, "quantize the bias to int32 (scale = input scale x weight scale)",
               "bias '%s' is %s; the Edge TPU needs int32 biases", t->name, etpu_dtype_name(t->type));
          return;
        }
        break;
      case R_STATE:
        if (t->type != ETPU_INT8 && t->type != ETPU_UINT8 && t->type != ETPU_INT16) {
          fail(r, ETPU_NOT_MAPPED_DATA_TYPE, "quantize the LSTM state (int8 output state, int16 cell state)",
               "state '%s' is %s", t->name, etpu_dtype_name(t->type));
          return;
        }
        break;
      default:
        break;
    }
  }
  for (uint32_t k = 0; k < op->noutputs; k++) {
    const etpu_gtensor *t = &g->tensors[op->outputs[k]];
    if (!is_8bit(t->type) || !t->quant || t->quant->count == 0) {
      fail(r, ETPU_NOT_MAPPED_DATA_TYPE,
           t->type == ETPU_FLOAT32 ? "give the model int8/uint8 outputs (the converter's inference_output_type)"
                                   : "use int8 or uint8 tensors",
           "output %u '%s' is %s%s; the Edge TPU produces 8-bit quantized tensors only", k, t->name,
           etpu_dtype_name(t->type), is_8bit(t->type) ? " without quantization parameters" : "");
      return;
    }
  }
  /* Rank: the activations and outputs. */
  for (uint32_t pass = 0; pass < 2; pass++) {
    uint32_t n = pass ? op->noutputs : op->ninputs;
    for (uint32_t k = 0; k < n; k++) {
      int32_t ti = pass ? op->outputs[k] : op->inputs[k];
      if (ti < 0) continue;
      if (!pass && !row->all_act && (k >= MAX_ROLES || row->roles[k] != R_ACT)) continue;
      const etpu_gtensor *t = &g->tensors[ti];
      uint32_t bad;
      if (!rank_ok(t, &bad)) {
        char sh[96];
        shape_str(t, sh, sizeof sh);
        fail(r, ETPU_NOT_MAPPED_RANK,
             bad == 0 && t->rank == 4 ? "use batch size 1 (run the batch as separate inferences)"
                                      : "reshape so that only the 3 innermost dimensions exceed 1",
             "%s '%s' has shape %s: dimension %u is %d, but only the 3 innermost dimensions may exceed 1",
             pass ? "output" : "input", t->name, sh, bad, t->shape[bad]);
        return;
      }
    }
  }
  limits(m, op, code, rt, r);
}

etpu_status etpu_rules_model_check(const etpu_model *m) {
  const etpu_gsubgraph *g = sg0(m);
  for (uint32_t i = 0; i < g->ntensors; i++) {
    const etpu_gtensor *t = &g->tensors[i];
    bool dyn = false;
    for (uint32_t d = 0; d < t->rank; d++) dyn |= t->shape[d] < 0;
    for (uint32_t d = 0; t->has_signature && d < t->sig_rank; d++) dyn |= t->shape_signature[d] < 0;
    if (dyn) {
      char sh[96];
      const etpu_gtensor *tt = t;
      size_t n = 0;
      n += (size_t)snprintf(sh + n, sizeof sh - n, "[");
      for (uint32_t d = 0; d < tt->sig_rank && n < sizeof sh; d++)
        n += (size_t)snprintf(sh + n, sizeof sh - n, "%s%d", d ? "," : "", tt->shape_signature[d]);
      if (n < sizeof sh) snprintf(sh + n, sizeof sh - n, "]");
      return etpu_fail(ETPU_UNSUPPORTED,
                       "%s: ERROR: Attempting to use a delegate that only supports static-sized tensors with a graph "
                       "that has dynamic-sized tensors. (etpu: tensor %u '%s' has shape_signature %s; -1 marks a "
                       "dynamic dimension. Fix: convert with a fixed input shape, e.g. batch 1.)",
                       m->label, i, t->name, t->has_signature ? sh : "(dynamic shape)");
    }
  }
  bool any8 = false;
  for (uint32_t i = 0; i < g->ntensors; i++) {
    const etpu_gtensor *t = &g->tensors[i];
    if (is_8bit(t->type) && t->quant && t->quant->count && !etpu_graph_tensor_data(m, t, &(size_t){0})) any8 = true;
  }
  if (!any8 && g->nops > 0)
    return etpu_fail(ETPU_UNSUPPORTED,
                     "%s: Invalid model: Model not quantized. (etpu: no activation tensor is int8/uint8 quantized; "
                     "the Edge TPU runs only fully 8-bit quantized models. Fix: etpu quantize MODEL --calib DIR, or "
                     "the TFLite converter's full-integer post-training quantization.)",
                     m->label);
  return ETPU_OK;
}
