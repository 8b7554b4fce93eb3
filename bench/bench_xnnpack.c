/*
 * bench_xnnpack.c — etpu's `--profile litert` interpreter against a native
 * peer: the same .tflite built from Debian's XNNPACK operators
 * (libxnnpack-dev 0.0~git20220216, its 2022 operator API) and run in the same
 * process, 1 and 2 threads; and a second, native, bit-exact oracle for the
 * litert profile.
 *
 * For each model it reads the graph through etpu's public API and maps op
 * after op, in model order, to an XNNPACK operator: CONV_2D and
 * DEPTHWISE_CONV_2D to convolution2d_nhwc (qu8; int8 per-channel weights to
 * qc8, per-tensor to qs8; depthwise with XNN_FLAG_DEPTHWISE_CONVOLUTION),
 * with TFLite's SAME padding made explicit and the fused activation as
 * output_min/max = lrintf(clamp(f / scale + zero_point)); ADD to add_nd;
 * AVERAGE_POOL_2D over the whole image and MEAN over H and W to
 * global_average_pooling_nwc; MAX_POOL_2D to max_pooling2d_nhwc;
 * FULLY_CONNECTED to fully_connected_nc; uint8 SOFTMAX to softmax_nc_qu8;
 * RESHAPE and SQUEEZE to nothing (the output shares the input's bytes);
 * CONCATENATION on the channel axis (operands sharing the output's
 * quantization) to one copy_nc_x8 per operand; float QUANTIZE / DEQUANTIZE
 * to convert_nc. The first op it cannot map ends the built part (the reason
 * is printed); what it built — the whole model or a prefix, e.g. DeepLab
 * v3's MobileNet v2 backbone before its resize — is what both sides run:
 * etpu runs the same prefix with etpu_interp_invoke_prefix.
 *
 * Per model it prints XNNPACK's and etpu's median invoke time (after a
 * warm-up) with 1 and 2 threads (etpu: etpu_interp_options.num_threads) and
 * the ratio etpu / XNNPACK, then XNNPACK's time per op type. Before timing it
 * checks the bytes: every op output of the built part, XNNPACK against
 * etpu's litert profile (keep_all_tensors), on each input (images given with
 * --image, else cat.bmp; with --random K also K seeded random inputs; the
 * first input on 1 and on 2 threads); mismatches are printed (tensor, count,
 * first index, both values) and make the program exit 1. Each op reads
 * etpu's bytes for its inputs, so a difference is charged to the op that
 * made it. 8-bit pooling is run and timed but not compared
 * (LITERT_POOL_NOTE): its differences are printed as notes.
 *
 * Memory: after timing, each engine runs the built part on one thread in a
 * process of its own (this program re-executed with --rss-child, so neither
 * inherits the other's pages) and reports its peak resident set (VmHWM of
 * /proc/self/status) and its resident set before building (after XNNPACK's
 * initialization, the model's opening and the input's decoding). Note that
 * this peer gives every tensor its own buffer and copies the constants it
 * reads (xnet_build), as a graph built from operators must; LiteRT's own
 * XNNPACK delegate plans its activations in an arena.
 *
 * Usage: bench_xnnpack [N] [options] [MODEL.tflite[@MIN_OPS]...]
 *   N             timed invokes per side and thread count (default 20)
 *   --check       byte check only, no timing (the xnnpack_peer test)
 *   --markdown    end with the README table: per model the medians and the
 *                 etpu / XNNPACK ratio of medians (and of minima), 1 and 2
 *                 threads, under a line naming the CPU and the load
 *   --image FILE  an input image (repeatable)
 *   --random K    also K inputs of seeded random bytes
 *   MODEL@MIN_OPS the check fails unless XNNPACK built at least MIN_OPS ops
 * Without models: default_models below, from the shared data folder; when
 * the folder is absent the program exits 77 (1 when
 * ETPU_REQUIRE_SHARED_DATA=1). A model that cannot be opened fails the check
 * (and is skipped when timing); one etpu cannot run, or of which XNNPACK
 * builds no op, is skipped unless it has a MIN_OPS. Exit 77 also when
 * XNNPACK does not support this CPU, 2 on a usage error. Built only when
 * CMake finds xnnpack.h, libXNNPACK and libpthreadpool (bench/xnnpack.cmake).
 */
#define _POSIX_C_SOURCE 200809L

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pthreadpool.h>
#include <xnnpack.h>

#include "bench_util.h"
#include "etpu/etpu.h"

enum { WARMUP = 3, DEFAULT_REPS = 20, MAX_REPS = 100000, MAX_IMAGES = 16, MAX_MODELS = 512, MAX_CONCAT = 64 };

/* LiteRT's XNNPACK delegate takes float pooling only: its 8-bit pools run
 * TFLite's builtin kernels, which round the average differently (±1) from
 * XNNPACK's global average pooling. Such ops (and the convolutions
 * conv_delegate_note names) are timed, not compared. */
#define LITERT_POOL_NOTE "LiteRT runs 8-bit pooling in TFLite's builtin kernel, not in XNNPACK"

/* TFLite enum values read from op options. */
enum { PAD_SAME = 0, PAD_VALID = 1 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU_N1_TO_1 = 2, ACT_RELU6 = 3 };
enum { OP_MAX_POOL = ETPU_OP_MAX_POOL_2D, OP_SQUEEZE = 43 };

/* What one built op is, for setup. */
typedef enum node_kind {
  K_CONV,    /* convolution2d_nhwc (also depthwise) */
  K_ADD,     /* add_nd */
  K_GAP,     /* global_average_pooling_nwc */
  K_MAXPOOL, /* max_pooling2d_nhwc */
  K_FC,      /* fully_connected_nc */
  K_SOFTMAX, /* softmax_nc_qu8 */
  K_ALIAS,   /* RESHAPE / SQUEEZE: output shares the input's bytes */
  K_CONCAT,  /* one copy_nc_x8 per operand */
  K_CONVERT, /* convert_nc between float and quantized */
} node_kind;

typedef struct node {
  uint32_t op;          /* model op index */
  int32_t code;         /* BuiltinOperator */
  node_kind kind;
  int32_t dtype;        /* ETPU_UINT8 / ETPU_INT8 (of the output; the input for DEQUANTIZE) */
  bool qc8;             /* conv with per-channel int8 weights */
  bool to_float;        /* K_CONVERT: quantized -> float (DEQUANTIZE) */
  const char *not_oracle; /* why LiteRT does not run this op in XNNPACK (its bytes are then not compared); NULL */
  uint32_t nx;          /* XNNPACK operators (concat: one per operand) */
  xnn_operator_t *x;    /* nx operators */
  int32_t in[2];        /* input tensors (ADD: two; others: in[0]) */
  int32_t out;          /* output tensor */
  int32_t *cat_in;      /* K_CONCAT: nx operand tensors */
  size_t *cat_off;      /* K_CONCAT: channel offset of each operand */
  size_t batch, h, w;   /* setup sizes: conv/maxpool N,H,W of the input; GAP N and H*W; FC/softmax/convert rows */
  size_t shape[2][4];   /* K_ADD: operand shapes */
  size_t rank[2];
} node;

/* A model built from XNNPACK operators: the first `built` ops of subgraph 0. */
typedef struct xnet {
  const etpu_model *m;
  uint32_t op_count;    /* ops in the model */
  uint32_t built;       /* ops mapped (a prefix) */
  char why[512];        /* why the next op was not mapped; "" if all were */
  node *nodes;          /* built entries */
  uint32_t tensor_count;
  uint8_t **mem;        /* per tensor: owned buffer (NULL for constants and aliases) */
  uint8_t **ptr;        /* per tensor: where its bytes are (aliases point into another's) */
} xnet;

static size_t tensor_elems(const etpu_tensor_info *t) {
  size_t n = 1;
  for (uint32_t d = 0; d < t->rank; d++) n *= (size_t)(t->shape[d] > 0 ? t->shape[d] : 0);
  return n;
}

static size_t tensor_bytes(const etpu_tensor_info *t) { return tensor_elems(t) * etpu_dtype_size(t->type); }

static bool is_q8(int32_t type) { return type == ETPU_UINT8 || type == ETPU_INT8; }

/* Record why op `op` cannot be built and return false. */
static bool refuse(xnet *n, uint32_t op, int32_t code, const char *fmt, const char *detail) {
  char d[256];
  snprintf(d, sizeof d, fmt, detail ? detail : "");
  snprintf(n->why, sizeof n->why, "op %u %s: %s", op, etpu_op_code_name(code), d);
  return false;
}

/* The quantized bound of a real activation limit, as XNNPACK's TFLite
 * delegate computes it: lrintf(clamp(f / scale + zero_point)). */
static int32_t qbound(float f, const etpu_tensor_info *o, int32_t qmin, int32_t qmax) {
  float v = f / o->scale[0] + (float)o->zero_point[0];
  if (v < (float)qmin) v = (float)qmin;
  if (v > (float)qmax) v = (float)qmax;
  return (int32_t)lrintf(v);
}

static bool act_range(int64_t act, const etpu_tensor_info *o, int32_t *lo, int32_t *hi) {
  int32_t qmin = o->type == ETPU_INT8 ? -128 : 0, qmax = o->type == ETPU_INT8 ? 127 : 255;
  *lo = qmin;
  *hi = qmax;
  switch (act) {
    case ACT_NONE: return true;
    case ACT_RELU: *lo = qbound(0.0f, o, qmin, qmax); return true;
    case ACT_RELU_N1_TO_1: *lo = qbound(-1.0f, o, qmin, qmax); *hi = qbound(1.0f, o, qmin, qmax); return true;
    case ACT_RELU6: *lo = qbound(0.0f, o, qmin, qmax); *hi = qbound(6.0f, o, qmin, qmax); return true;
    default: return false;
  }
}

static int64_t opt_int(const etpu_model *m, uint32_t op, const char *field, int64_t dflt) {
  int64_t v;
  return etpu_model_op_option_int(m, 0, op, field, &v) == ETPU_OK ? v : dflt;
}

/* The fused activation as output bounds; false (refused) if unsupported. */
static bool fused_range(xnet *n, uint32_t i, int32_t code, int64_t act, const etpu_tensor_info *o, int32_t *lo,
                        int32_t *hi) {
  return act_range(act, o, lo, hi) || refuse(n, i, code, "fused activation not supported%s", NULL);
}

/* Room for count XNNPACK operators (created by the caller, deleted by xnet_free). */
static bool alloc_ops(xnet *n, node *e, uint32_t i, int32_t code, uint32_t count) {
  e->x = calloc(count, sizeof *e->x);
  e->nx = e->x ? count : 0;
  return e->x || refuse(n, i, code, "out of memory%s", NULL);
}

/* TFLite's padding: SAME puts the odd pixel after. */
static void same_pad(int64_t padding, size_t in, size_t k, size_t stride, size_t dil, uint32_t *before,
                     uint32_t *after) {
  *before = *after = 0;
  if (padding != PAD_SAME) return;
  size_t out = (in + stride - 1) / stride, eff = (k - 1) * dil + 1;
  size_t need = (out - 1) * stride + eff;
  size_t total = need > in ? need - in : 0;
  *before = (uint32_t)(total / 2);
  *after = (uint32_t)(total - total / 2);
}

static bool one_quant(const etpu_tensor_info *t) { return t->quant_count == 1 && t->scale && t->zero_point; }

/* Check that an activation tensor is a per-tensor quantized 8-bit NHWC one. */
static bool act_tensor_ok(const etpu_tensor_info *t, uint32_t rank) {
  return is_q8(t->type) && one_quant(t) && (rank == 0 || t->rank == rank);
}

/* Describe op i's first input and its output; false (refused) when the op
 * has no input or more than max_inputs, or they cannot be read. */
static bool io_info(xnet *n, const etpu_op_info *op, uint32_t i, uint32_t max_inputs, etpu_tensor_info *in,
                    etpu_tensor_info *o) {
  if (op->input_count < 1 || op->input_count > max_inputs || op->inputs[0] < 0 ||
      etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[0], in) != ETPU_OK ||
      etpu_model_tensor(n->m, 0, (uint32_t)op->outputs[0], o) != ETPU_OK)
    return refuse(n, i, op->code, "operands unreadable or too many%s", NULL);
  return true;
}

/* Record what a builder made of op e->op; true. */
static bool mapped(node *e, node_kind kind, int32_t dtype, int32_t input) {
  e->kind = kind;
  e->dtype = dtype;
  e->in[0] = input;
  return true;
}

/* The int32 bias of a conv or FC layer (b, or *zero_bias_out: oc zeros the
 * caller frees once the operator is created) and room for its operator. */
static bool bias_and_op(xnet *n, node *e, uint32_t i, int32_t code, const etpu_tensor_info *b, size_t oc,
                        const int32_t **bias_out, int32_t **zero_bias_out) {
  *zero_bias_out = b ? NULL : calloc(oc ? oc : 1, sizeof **zero_bias_out);
  *bias_out = b ? (const int32_t *)b->data : *zero_bias_out;
  if (!*bias_out) return refuse(n, i, code, "out of memory%s", NULL);
  if (alloc_ops(n, e, i, code, 1)) return true;
  free(*zero_bias_out);
  return false;
}

/* Why LiteRT's XNNPACK delegate would leave this CONV_2D / DEPTHWISE_CONV_2D
 * to TFLite's builtin kernel (which rounds differently), or NULL when it
 * takes it. The rules (etpu's src/runtime/ops/conv.c states them as measured
 * against LiteRT 2.5.3): a bias is required, quantized with zero point 0 and
 * positive normal scales, one or one per output channel on dimension 0; a
 * depthwise depth_multiplier must not be 0. */
static const char *conv_delegate_note(const etpu_model *m, uint32_t i, bool dw, const etpu_tensor_info *b,
                                      size_t oc) {
  if (dw && opt_int(m, i, "depth_multiplier", 0) == 0)
    return "LiteRT's XNNPACK delegate refuses depth_multiplier 0: TFLite's builtin kernel runs it";
  if (!b) return "LiteRT's XNNPACK delegate refuses a conv without bias: TFLite's builtin kernel runs it";
  bool ok = b->quant_count == 1 || (b->quant_count == oc && b->quantized_dimension == 0);
  for (uint32_t k = 0; ok && k < b->quant_count; k++)
    ok = b->scale[k] > 0.0f && isnormal(b->scale[k]) && b->zero_point[k] == 0;
  return ok ? NULL
            : "LiteRT's XNNPACK delegate refuses this bias quantization (not per tensor or per channel on "
              "dimension 0 with zero point 0): TFLite's builtin kernel runs it";
}

/* Map CONV_2D / DEPTHWISE_CONV_2D. */
static bool build_conv(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  const etpu_model *m = n->m;
  etpu_tensor_info in, f, b, o;
  bool dw = op->code == ETPU_OP_DEPTHWISE_CONV_2D;
  if (op->input_count < 2 || etpu_model_tensor(m, 0, (uint32_t)op->inputs[0], &in) != ETPU_OK ||
      etpu_model_tensor(m, 0, (uint32_t)op->inputs[1], &f) != ETPU_OK ||
      etpu_model_tensor(m, 0, (uint32_t)op->outputs[0], &o) != ETPU_OK)
    return refuse(n, i, op->code, "operands unreadable%s", NULL);
  bool has_bias = op->input_count > 2 && op->inputs[2] >= 0;
  if (has_bias && etpu_model_tensor(m, 0, (uint32_t)op->inputs[2], &b) != ETPU_OK)
    return refuse(n, i, op->code, "bias unreadable%s", NULL);
  if (!act_tensor_ok(&in, 4) || !act_tensor_ok(&o, 4) || in.type != o.type || f.type != in.type || f.rank != 4 ||
      !f.data || f.quant_count == 0 || (has_bias && (b.type != ETPU_INT32 || !b.data)))
    return refuse(n, i, op->code, "only 8-bit NHWC tensors with constant weights and int32 bias%s", NULL);
  size_t kh = (size_t)f.shape[1], kw = (size_t)f.shape[2];
  size_t ih = (size_t)in.shape[1], iw = (size_t)in.shape[2], ic = (size_t)in.shape[3], oc = (size_t)o.shape[3];
  size_t sh = (size_t)opt_int(m, i, "stride_h", 1), sw = (size_t)opt_int(m, i, "stride_w", 1);
  size_t dh = (size_t)opt_int(m, i, "dilation_h_factor", 1), dwf = (size_t)opt_int(m, i, "dilation_w_factor", 1);
  int64_t padding = opt_int(m, i, "padding", PAD_SAME), act = opt_int(m, i, "fused_activation_function", 0);
  if (!sh || !sw || !dh || !dwf || !kh || !kw) return refuse(n, i, op->code, "zero stride, dilation or kernel%s", NULL);
  uint32_t pt, pb, pl, pr;
  same_pad(padding, ih, kh, sh, dh, &pt, &pb);
  same_pad(padding, iw, kw, sw, dwf, &pl, &pr);
  size_t groups = dw ? ic : 1, gic = dw ? 1 : ic, goc = dw ? oc / ic : oc;
  if ((dw && (oc % ic || (size_t)f.shape[3] != oc || f.shape[0] != 1)) ||
      (!dw && ((size_t)f.shape[0] != oc || (size_t)f.shape[3] != ic)))
    return refuse(n, i, op->code, "filter shape does not fit the input and output%s", NULL);
  size_t eh = (kh - 1) * dh + 1, ew = (kw - 1) * dwf + 1;
  if (ih + pt + pb < eh || iw + pl + pr < ew || (ih + pt + pb - eh) / sh + 1 != (size_t)o.shape[1] ||
      (iw + pl + pr - ew) / sw + 1 != (size_t)o.shape[2])
    return refuse(n, i, op->code, "output size is not TFLite's for this padding%s", NULL);
  if (has_bias && (b.data_size < oc * 4)) return refuse(n, i, op->code, "bias shorter than the output channels%s", NULL);
  int32_t lo, hi;
  if (!fused_range(n, i, op->code, act, &o, &lo, &hi)) return false;
  if (in.type == ETPU_UINT8 && f.quant_count != 1)
    return refuse(n, i, op->code, "uint8 weights quantized per channel%s", NULL);
  if (in.type == ETPU_INT8 && f.quant_count == 1 && f.zero_point[0] != 0)
    return refuse(n, i, op->code, "int8 weights with a non-zero zero point%s", NULL);
  if (in.type == ETPU_INT8 && f.quant_count != 1 && f.quant_count != oc)
    return refuse(n, i, op->code, "per-channel scales do not match the output channels%s", NULL);
  int32_t *zero_bias;
  const int32_t *bias;
  if (!bias_and_op(n, e, i, op->code, has_bias ? &b : NULL, oc, &bias, &zero_bias)) return false;
  uint32_t flags = dw ? XNN_FLAG_DEPTHWISE_CONVOLUTION : 0;
  enum xnn_status st;
  if (in.type == ETPU_UINT8) {
    st = xnn_create_convolution2d_nhwc_qu8(pt, pr, pb, pl, (uint32_t)kh, (uint32_t)kw, (uint32_t)sh, (uint32_t)sw,
                                           (uint32_t)dh, (uint32_t)dwf, (uint32_t)groups, gic, goc, ic, oc,
                                           (uint8_t)in.zero_point[0], in.scale[0], (uint8_t)f.zero_point[0],
                                           f.scale[0], (const uint8_t *)f.data, bias, (uint8_t)o.zero_point[0],
                                           o.scale[0], (uint8_t)lo, (uint8_t)hi, flags, &e->x[0]);
  } else if (f.quant_count == 1) {
    st = xnn_create_convolution2d_nhwc_qs8(pt, pr, pb, pl, (uint32_t)kh, (uint32_t)kw, (uint32_t)sh, (uint32_t)sw,
                                           (uint32_t)dh, (uint32_t)dwf, (uint32_t)groups, gic, goc, ic, oc,
                                           (int8_t)in.zero_point[0], in.scale[0], f.scale[0],
                                           (const int8_t *)f.data, bias, (int8_t)o.zero_point[0], o.scale[0],
                                           (int8_t)lo, (int8_t)hi, flags, &e->x[0]);
  } else {
    e->qc8 = true;
    st = xnn_create_convolution2d_nhwc_qc8(pt, pr, pb, pl, (uint32_t)kh, (uint32_t)kw, (uint32_t)sh, (uint32_t)sw,
                                           (uint32_t)dh, (uint32_t)dwf, (uint32_t)groups, gic, goc, ic, oc,
                                           (int8_t)in.zero_point[0], in.scale[0], f.scale, (const int8_t *)f.data,
                                           bias, (int8_t)o.zero_point[0], o.scale[0], (int8_t)lo, (int8_t)hi, flags,
                                           &e->x[0]);
  }
  free(zero_bias); /* weights and bias are packed at create time */
  if (st != xnn_status_success) return refuse(n, i, op->code, "XNNPACK refused the convolution%s", NULL);
  e->batch = (size_t)in.shape[0];
  e->h = ih;
  e->w = iw;
  e->not_oracle = conv_delegate_note(n->m, i, dw, has_bias ? &b : NULL, oc);
  return mapped(e, K_CONV, in.type, op->inputs[0]);
}

static bool build_add(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info a, b, o;
  if (op->input_count != 2 || etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[0], &a) != ETPU_OK ||
      etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[1], &b) != ETPU_OK ||
      etpu_model_tensor(n->m, 0, (uint32_t)op->outputs[0], &o) != ETPU_OK)
    return refuse(n, i, op->code, "operands unreadable%s", NULL);
  if (!act_tensor_ok(&a, 0) || !act_tensor_ok(&b, 0) || !act_tensor_ok(&o, 0) || a.type != o.type ||
      b.type != o.type || a.rank > 4 || b.rank > 4)
    return refuse(n, i, op->code, "only per-tensor 8-bit operands of rank <= 4%s", NULL);
  int32_t lo, hi;
  if (!fused_range(n, i, op->code, opt_int(n->m, i, "fused_activation_function", 0), &o, &lo, &hi)) return false;
  if (!alloc_ops(n, e, i, op->code, 1)) return false;
  enum xnn_status st =
      o.type == ETPU_UINT8
          ? xnn_create_add_nd_qu8((uint8_t)a.zero_point[0], a.scale[0], (uint8_t)b.zero_point[0], b.scale[0],
                                  (uint8_t)o.zero_point[0], o.scale[0], (uint8_t)lo, (uint8_t)hi, 0, &e->x[0])
          : xnn_create_add_nd_qs8((int8_t)a.zero_point[0], a.scale[0], (int8_t)b.zero_point[0], b.scale[0],
                                  (int8_t)o.zero_point[0], o.scale[0], (int8_t)lo, (int8_t)hi, 0, &e->x[0]);
  if (st != xnn_status_success) return refuse(n, i, op->code, "XNNPACK refused the addition%s", NULL);
  e->kind = K_ADD;
  e->dtype = o.type;
  const etpu_tensor_info *ops[2] = {&a, &b};
  for (int k = 0; k < 2; k++) {
    e->in[k] = op->inputs[k];
    e->rank[k] = ops[k]->rank;
    for (uint32_t d = 0; d < ops[k]->rank; d++) e->shape[k][d] = (size_t)ops[k]->shape[d];
  }
  return true;
}

/* AVERAGE_POOL_2D whose window is the whole image, and MEAN over H and W. */
static bool build_gap(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info in, o;
  if (!io_info(n, op, i, UINT32_MAX, &in, &o)) return false;
  if (!act_tensor_ok(&in, 4) || !act_tensor_ok(&o, 0) || in.type != o.type)
    return refuse(n, i, op->code, "only per-tensor 8-bit NHWC input%s", NULL);
  size_t c = (size_t)in.shape[3];
  int64_t act = ACT_NONE;
  if (op->code == ETPU_OP_AVERAGE_POOL_2D) {
    int64_t fh = opt_int(n->m, i, "filter_height", 0), fw = opt_int(n->m, i, "filter_width", 0);
    if (fh != in.shape[1] || fw != in.shape[2] || tensor_elems(&o) != (size_t)in.shape[0] * c)
      return refuse(n, i, op->code, "only a window covering the whole image (global pooling)%s", NULL);
    act = opt_int(n->m, i, "fused_activation_function", 0);
  } else { /* MEAN: axes must be exactly {1, 2} */
    etpu_tensor_info ax;
    if (op->input_count != 2 || etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[1], &ax) != ETPU_OK ||
        ax.type != ETPU_INT32 || !ax.data || ax.data_size != 8)
      return refuse(n, i, op->code, "axes must be a constant pair%s", NULL);
    int32_t a0, a1;
    memcpy(&a0, ax.data, 4);
    memcpy(&a1, (const uint8_t *)ax.data + 4, 4);
    if (!((a0 == 1 && a1 == 2) || (a0 == 2 && a1 == 1)) || tensor_elems(&o) != (size_t)in.shape[0] * c)
      return refuse(n, i, op->code, "only the mean over H and W (axes 1, 2)%s", NULL);
  }
  int32_t lo, hi;
  if (!fused_range(n, i, op->code, act, &o, &lo, &hi)) return false;
  if (!alloc_ops(n, e, i, op->code, 1)) return false;
  enum xnn_status st =
      o.type == ETPU_UINT8
          ? xnn_create_global_average_pooling_nwc_qu8(c, c, c, (uint8_t)in.zero_point[0], in.scale[0],
                                                      (uint8_t)o.zero_point[0], o.scale[0], (uint8_t)lo,
                                                      (uint8_t)hi, 0, &e->x[0])
          : xnn_create_global_average_pooling_nwc_qs8(c, c, c, (int8_t)in.zero_point[0], in.scale[0],
                                                      (int8_t)o.zero_point[0], o.scale[0], (int8_t)lo, (int8_t)hi,
                                                      0, &e->x[0]);
  if (st != xnn_status_success) return refuse(n, i, op->code, "XNNPACK refused the global pooling%s", NULL);
  if (op->code == ETPU_OP_AVERAGE_POOL_2D) e->not_oracle = LITERT_POOL_NOTE;
  e->batch = (size_t)in.shape[0];
  e->w = (size_t)in.shape[1] * (size_t)in.shape[2];
  return mapped(e, K_GAP, o.type, op->inputs[0]);
}

static bool build_maxpool(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info in, o;
  if (!io_info(n, op, i, 1, &in, &o)) return false;
  if (!act_tensor_ok(&in, 4) || !act_tensor_ok(&o, 4) || in.type != o.type ||
      in.scale[0] != o.scale[0] || in.zero_point[0] != o.zero_point[0])
    return refuse(n, i, op->code, "only 8-bit NHWC with the same quantization in and out%s", NULL);
  size_t fh = (size_t)opt_int(n->m, i, "filter_height", 0), fw = (size_t)opt_int(n->m, i, "filter_width", 0);
  size_t sh = (size_t)opt_int(n->m, i, "stride_h", 1), sw = (size_t)opt_int(n->m, i, "stride_w", 1);
  if (!fh || !fw || !sh || !sw) return refuse(n, i, op->code, "zero window or stride%s", NULL);
  int64_t padding = opt_int(n->m, i, "padding", PAD_SAME);
  size_t ih = (size_t)in.shape[1], iw = (size_t)in.shape[2], c = (size_t)in.shape[3];
  uint32_t pt, pb, pl, pr;
  same_pad(padding, ih, fh, sh, 1, &pt, &pb);
  same_pad(padding, iw, fw, sw, 1, &pl, &pr);
  if (ih + pt + pb < fh || iw + pl + pr < fw || (ih + pt + pb - fh) / sh + 1 != (size_t)o.shape[1] ||
      (iw + pl + pr - fw) / sw + 1 != (size_t)o.shape[2])
    return refuse(n, i, op->code, "output size is not TFLite's for this padding%s", NULL);
  int32_t lo, hi;
  if (!fused_range(n, i, op->code, opt_int(n->m, i, "fused_activation_function", 0), &o, &lo, &hi)) return false;
  if (!alloc_ops(n, e, i, op->code, 1)) return false;
  enum xnn_status st =
      o.type == ETPU_UINT8
          ? xnn_create_max_pooling2d_nhwc_u8(pt, pr, pb, pl, (uint32_t)fh, (uint32_t)fw, (uint32_t)sh, (uint32_t)sw,
                                             1, 1, c, c, c, (uint8_t)lo, (uint8_t)hi, 0, &e->x[0])
          : xnn_create_max_pooling2d_nhwc_s8(pt, pr, pb, pl, (uint32_t)fh, (uint32_t)fw, (uint32_t)sh, (uint32_t)sw,
                                             1, 1, c, c, c, (int8_t)lo, (int8_t)hi, 0, &e->x[0]);
  if (st != xnn_status_success) return refuse(n, i, op->code, "XNNPACK refused the max pooling%s", NULL);
  e->not_oracle = LITERT_POOL_NOTE;
  e->batch = (size_t)in.shape[0];
  e->h = ih;
  e->w = iw;
  return mapped(e, K_MAXPOOL, o.type, op->inputs[0]);
}

static bool build_fc(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info in, f, b, o;
  if (op->input_count < 2 || etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[0], &in) != ETPU_OK ||
      etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[1], &f) != ETPU_OK ||
      etpu_model_tensor(n->m, 0, (uint32_t)op->outputs[0], &o) != ETPU_OK)
    return refuse(n, i, op->code, "operands unreadable%s", NULL);
  bool has_bias = op->input_count > 2 && op->inputs[2] >= 0;
  if (has_bias && etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[2], &b) != ETPU_OK)
    return refuse(n, i, op->code, "bias unreadable%s", NULL);
  if (!act_tensor_ok(&in, 0) || !act_tensor_ok(&o, 0) || in.type != o.type || f.type != in.type ||
      f.rank != 2 || !f.data || (has_bias && (b.type != ETPU_INT32 || !b.data)))
    return refuse(n, i, op->code, "only 8-bit tensors with constant weights and int32 bias%s", NULL);
  if (f.quant_count != 1) return refuse(n, i, op->code, "per-channel weights (no qc8 fully connected in this XNNPACK)%s", NULL);
  if (opt_int(n->m, i, "keep_num_dims", 0)) return refuse(n, i, op->code, "keep_num_dims%s", NULL);
  size_t oc = (size_t)f.shape[0], ic = (size_t)f.shape[1];
  if (!ic || tensor_elems(&in) % ic || tensor_elems(&o) != tensor_elems(&in) / ic * oc ||
      (has_bias && b.data_size < oc * 4))
    return refuse(n, i, op->code, "shapes do not fit the weights%s", NULL);
  int32_t lo, hi;
  if (!fused_range(n, i, op->code, opt_int(n->m, i, "fused_activation_function", 0), &o, &lo, &hi)) return false;
  int32_t *zero_bias;
  const int32_t *bias;
  if (!bias_and_op(n, e, i, op->code, has_bias ? &b : NULL, oc, &bias, &zero_bias)) return false;
  enum xnn_status st;
  if (o.type == ETPU_UINT8)
    st = xnn_create_fully_connected_nc_qu8(ic, oc, ic, oc, (uint8_t)in.zero_point[0], in.scale[0],
                                           (uint8_t)f.zero_point[0], f.scale[0], (const uint8_t *)f.data, bias,
                                           (uint8_t)o.zero_point[0], o.scale[0], (uint8_t)lo, (uint8_t)hi, 0,
                                           &e->x[0]);
  else if (f.zero_point[0] != 0)
    st = xnn_status_unsupported_parameter;
  else
    st = xnn_create_fully_connected_nc_qs8(ic, oc, ic, oc, (int8_t)in.zero_point[0], in.scale[0], f.scale[0],
                                           (const int8_t *)f.data, bias, (int8_t)o.zero_point[0], o.scale[0],
                                           (int8_t)lo, (int8_t)hi, 0, &e->x[0]);
  free(zero_bias);
  if (st != xnn_status_success) return refuse(n, i, op->code, "XNNPACK refused the fully connected layer%s", NULL);
  e->batch = tensor_elems(&in) / ic;
  return mapped(e, K_FC, o.type, op->inputs[0]);
}

static bool build_softmax(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info in, o;
  double beta = 1.0;
  if (!io_info(n, op, i, 1, &in, &o)) return false;
  if (in.type != ETPU_UINT8 || o.type != ETPU_UINT8 || !one_quant(&in) || !one_quant(&o) || in.rank == 0)
    return refuse(n, i, op->code, "%s tensors: this XNNPACK has a softmax for uint8 only", etpu_dtype_name(in.type));
  if (etpu_model_op_option_float(n->m, 0, i, "beta", &beta) == ETPU_OK && beta != 1.0)
    return refuse(n, i, op->code, "beta other than 1%s", NULL);
  size_t c = (size_t)in.shape[in.rank - 1];
  if (!c) return refuse(n, i, op->code, "empty last dimension%s", NULL);
  if (!alloc_ops(n, e, i, op->code, 1)) return false;
  if (xnn_create_softmax_nc_qu8(c, c, c, in.scale[0], (uint8_t)o.zero_point[0], o.scale[0], 0, &e->x[0]) !=
      xnn_status_success)
    return refuse(n, i, op->code, "XNNPACK refused the softmax (it needs output scale 1/256, zero point 0)%s", NULL);
  e->batch = tensor_elems(&in) / c;
  return mapped(e, K_SOFTMAX, o.type, op->inputs[0]);
}

static bool build_alias(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info in, o;
  if (!io_info(n, op, i, UINT32_MAX, &in, &o)) return false;
  if (in.data || tensor_bytes(&in) != tensor_bytes(&o) || in.type != o.type)
    return refuse(n, i, op->code, "input and output differ in size or type, or the input is constant%s", NULL);
  return mapped(e, K_ALIAS, o.type, op->inputs[0]);
}

/* CONCATENATION on the last axis, every operand quantized as the output. */
static bool build_concat(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info o;
  if (op->input_count < 1 || etpu_model_tensor(n->m, 0, (uint32_t)op->outputs[0], &o) != ETPU_OK ||
      !act_tensor_ok(&o, 0) || o.rank == 0)
    return refuse(n, i, op->code, "only 8-bit per-tensor output%s", NULL);
  int64_t axis = opt_int(n->m, i, "axis", 0);
  if (axis < 0) axis += o.rank;
  if (axis != (int64_t)o.rank - 1 || opt_int(n->m, i, "fused_activation_function", 0) != ACT_NONE)
    return refuse(n, i, op->code, "only on the last axis, without activation%s", NULL);
  size_t oc = (size_t)o.shape[o.rank - 1], rows = oc ? tensor_elems(&o) / oc : 0, off = 0;
  if (op->input_count > MAX_CONCAT) return refuse(n, i, op->code, "more operands than this program takes%s", NULL);
  if (!alloc_ops(n, e, i, op->code, op->input_count)) return false;
  e->cat_in = calloc(op->input_count, sizeof *e->cat_in);
  e->cat_off = calloc(op->input_count, sizeof *e->cat_off);
  if (!e->cat_in || !e->cat_off) return refuse(n, i, op->code, "out of memory%s", NULL);
  for (uint32_t k = 0; k < op->input_count; k++) {
    etpu_tensor_info in;
    if (op->inputs[k] < 0 || etpu_model_tensor(n->m, 0, (uint32_t)op->inputs[k], &in) != ETPU_OK ||
        !act_tensor_ok(&in, o.rank) || in.type != o.type || in.scale[0] != o.scale[0] ||
        in.zero_point[0] != o.zero_point[0])
      return refuse(n, i, op->code, "operands quantized unlike the output (TFLite requantizes them)%s", NULL);
    size_t c = (size_t)in.shape[in.rank - 1];
    if (!c || tensor_elems(&in) / c != rows) return refuse(n, i, op->code, "operand shape does not fit%s", NULL);
    if (xnn_create_copy_nc_x8(c, c, oc, 0, &e->x[k]) != xnn_status_success)
      return refuse(n, i, op->code, "XNNPACK refused the copy%s", NULL);
    e->cat_in[k] = op->inputs[k];
    e->cat_off[k] = off;
    off += c;
  }
  if (off != oc) return refuse(n, i, op->code, "operand channels do not add up to the output's%s", NULL);
  e->kind = K_CONCAT;
  e->dtype = o.type;
  e->batch = rows;
  return true;
}

/* QUANTIZE from float, DEQUANTIZE to float. */
static bool build_convert(xnet *n, node *e, const etpu_op_info *op, uint32_t i) {
  etpu_tensor_info in, o;
  if (!io_info(n, op, i, 1, &in, &o)) return false;
  bool deq = op->code == ETPU_OP_DEQUANTIZE;
  const etpu_tensor_info *q = deq ? &in : &o, *f = deq ? &o : &in;
  if (f->type != ETPU_FLOAT32 || !act_tensor_ok(q, 0) || in.data || tensor_elems(&in) != tensor_elems(&o))
    return refuse(n, i, op->code, "only between float32 and 8-bit per tensor (no 8-bit to 8-bit convert in this XNNPACK)%s", NULL);
  size_t c = q->rank ? (size_t)q->shape[q->rank - 1] : 1;
  if (!c) return refuse(n, i, op->code, "empty last dimension%s", NULL);
  if (!alloc_ops(n, e, i, op->code, 1)) return false;
  enum xnn_status st;
  uint8_t zu = (uint8_t)q->zero_point[0];
  int8_t zs = (int8_t)q->zero_point[0];
  if (deq)
    st = q->type == ETPU_UINT8 ? xnn_create_convert_nc_qu8_f32(c, c, c, q->scale[0], zu, 0, &e->x[0])
                               : xnn_create_convert_nc_qs8_f32(c, c, c, q->scale[0], zs, 0, &e->x[0]);
  else
    st = q->type == ETPU_UINT8 ? xnn_create_convert_nc_f32_qu8(c, c, c, q->scale[0], zu, 0, 255, 0, &e->x[0])
                               : xnn_create_convert_nc_f32_qs8(c, c, c, q->scale[0], zs, -128, 127, 0, &e->x[0]);
  if (st != xnn_status_success) return refuse(n, i, op->code, "XNNPACK refused the conversion%s", NULL);
  e->to_float = deq;
  e->batch = tensor_elems(&in) / c;
  return mapped(e, K_CONVERT, q->type, op->inputs[0]);
}

static bool build_op(xnet *n, node *e, uint32_t i) {
  etpu_op_info op;
  if (etpu_model_op(n->m, 0, i, &op) != ETPU_OK || op.output_count < 1 || op.outputs[0] < 0)
    return refuse(n, i, -1, "unreadable op%s", NULL);
  e->op = i;
  e->code = op.code;
  e->out = op.outputs[0];
  e->in[0] = e->in[1] = -1;
  if (op.output_count != 1) return refuse(n, i, op.code, "more than one output%s", NULL);
  switch (op.code) {
    case ETPU_OP_CONV_2D:
    case ETPU_OP_DEPTHWISE_CONV_2D: return build_conv(n, e, &op, i);
    case ETPU_OP_ADD: return build_add(n, e, &op, i);
    case ETPU_OP_AVERAGE_POOL_2D:
    case ETPU_OP_MEAN: return build_gap(n, e, &op, i);
    case OP_MAX_POOL: return build_maxpool(n, e, &op, i);
    case ETPU_OP_FULLY_CONNECTED: return build_fc(n, e, &op, i);
    case ETPU_OP_SOFTMAX: return build_softmax(n, e, &op, i);
    case ETPU_OP_RESHAPE:
    case OP_SQUEEZE: return build_alias(n, e, &op, i);
    case ETPU_OP_CONCATENATION: return build_concat(n, e, &op, i);
    case ETPU_OP_QUANTIZE:
    case ETPU_OP_DEQUANTIZE: return build_convert(n, e, &op, i);
    default: return refuse(n, i, op.code, "no XNNPACK operator mapped for this op%s", NULL);
  }
}

static void xnet_free(xnet *n) {
  if (n->nodes) {
    for (uint32_t k = 0; k <= n->built && k < n->op_count; k++) {
      node *e = &n->nodes[k];
      for (uint32_t j = 0; j < e->nx; j++)
        if (e->x[j]) xnn_delete_operator(e->x[j]);
      free(e->x);
      free(e->cat_in);
      free(e->cat_off);
    }
  }
  if (n->mem)
    for (uint32_t t = 0; t < n->tensor_count; t++) free(n->mem[t]);
  free(n->mem);
  free(n->ptr);
  free(n->nodes);
  memset(n, 0, sizeof *n);
}

/* Map the longest prefix of the model's ops and give every tensor it touches
 * memory. False only when out of memory; n->built says how far it went. */
static bool xnet_build(const etpu_model *m, xnet *n) {
  memset(n, 0, sizeof *n);
  n->m = m;
  n->op_count = etpu_model_op_count(m, 0);
  n->tensor_count = etpu_model_tensor_count(m, 0);
  n->nodes = calloc(n->op_count + 1, sizeof *n->nodes);
  n->mem = calloc(n->tensor_count + 1, sizeof *n->mem);
  n->ptr = calloc(n->tensor_count + 1, sizeof *n->ptr);
  if (!n->nodes || !n->mem || !n->ptr) return false;
  while (n->built < n->op_count && build_op(n, &n->nodes[n->built], n->built)) n->built++;
  /* Memory: every non-constant tensor read or written by a built op; aliases share. */
  for (uint32_t k = 0; k < n->built; k++) {
    node *e = &n->nodes[k];
    int32_t ins[MAX_CONCAT];
    uint32_t nin = 0;
    if (e->kind == K_CONCAT)
      for (uint32_t j = 0; j < e->nx && nin < MAX_CONCAT; j++) ins[nin++] = e->cat_in[j];
    else
      for (int j = 0; j < 2; j++)
        if (e->in[j] >= 0) ins[nin++] = e->in[j];
    for (uint32_t j = 0; j < nin; j++) {
      uint32_t t = (uint32_t)ins[j];
      if (n->ptr[t]) continue;
      etpu_tensor_info ti;
      if (etpu_model_tensor(m, 0, t, &ti) != ETPU_OK) return false;
      n->mem[t] = calloc(tensor_bytes(&ti) + XNN_EXTRA_BYTES, 1);
      if (!n->mem[t]) return false;
      if (ti.data) memcpy(n->mem[t], ti.data, ti.data_size < tensor_bytes(&ti) ? ti.data_size : tensor_bytes(&ti));
      n->ptr[t] = n->mem[t];
    }
    uint32_t t = (uint32_t)e->out;
    if (n->ptr[t]) continue; /* an output written twice: the model verifier refuses those */
    if (e->kind == K_ALIAS) {
      n->ptr[t] = n->ptr[e->in[0]];
      continue;
    }
    etpu_tensor_info ti;
    if (etpu_model_tensor(m, 0, t, &ti) != ETPU_OK) return false;
    n->mem[t] = calloc(tensor_bytes(&ti) + XNN_EXTRA_BYTES, 1);
    if (!n->mem[t]) return false;
    n->ptr[t] = n->mem[t];
  }
  return true;
}

/* Bind every built operator to its buffers and to the thread pool. */
static bool xnet_setup(xnet *n, pthreadpool_t pool) {
  for (uint32_t k = 0; k < n->built; k++) {
    node *e = &n->nodes[k];
    const void *in = e->in[0] >= 0 ? n->ptr[e->in[0]] : NULL;
    void *out = n->ptr[e->out];
    bool u8 = e->dtype == ETPU_UINT8;
    enum xnn_status st = xnn_status_success;
    switch (e->kind) {
      case K_CONV:
        st = u8 ? xnn_setup_convolution2d_nhwc_qu8(e->x[0], e->batch, e->h, e->w, in, out, pool)
             : e->qc8 ? xnn_setup_convolution2d_nhwc_qc8(e->x[0], e->batch, e->h, e->w, in, out, pool)
                      : xnn_setup_convolution2d_nhwc_qs8(e->x[0], e->batch, e->h, e->w, in, out, pool);
        break;
      case K_ADD:
        st = u8 ? xnn_setup_add_nd_qu8(e->x[0], e->rank[0], e->shape[0], e->rank[1], e->shape[1], in,
                                       n->ptr[e->in[1]], out, pool)
                : xnn_setup_add_nd_qs8(e->x[0], e->rank[0], e->shape[0], e->rank[1], e->shape[1], in,
                                       (const int8_t *)n->ptr[e->in[1]], out, pool);
        break;
      case K_GAP:
        st = u8 ? xnn_setup_global_average_pooling_nwc_qu8(e->x[0], e->batch, e->w, in, out, pool)
                : xnn_setup_global_average_pooling_nwc_qs8(e->x[0], e->batch, e->w, in, out, pool);
        break;
      case K_MAXPOOL:
        st = u8 ? xnn_setup_max_pooling2d_nhwc_u8(e->x[0], e->batch, e->h, e->w, in, out, pool)
                : xnn_setup_max_pooling2d_nhwc_s8(e->x[0], e->batch, e->h, e->w, in, out, pool);
        break;
      case K_FC:
        st = u8 ? xnn_setup_fully_connected_nc_qu8(e->x[0], e->batch, in, out, pool)
                : xnn_setup_fully_connected_nc_qs8(e->x[0], e->batch, in, out, pool);
        break;
      case K_SOFTMAX: st = xnn_setup_softmax_nc_qu8(e->x[0], e->batch, in, out, pool); break;
      case K_ALIAS: break;
      case K_CONCAT:
        for (uint32_t j = 0; j < e->nx && st == xnn_status_success; j++)
          st = xnn_setup_copy_nc_x8(e->x[j], e->batch, n->ptr[e->cat_in[j]], (uint8_t *)out + e->cat_off[j], pool);
        break;
      case K_CONVERT:
        if (e->to_float)
          st = u8 ? xnn_setup_convert_nc_qu8_f32(e->x[0], e->batch, in, out, pool)
                  : xnn_setup_convert_nc_qs8_f32(e->x[0], e->batch, in, out, pool);
        else
          st = u8 ? xnn_setup_convert_nc_f32_qu8(e->x[0], e->batch, in, out, pool)
                  : xnn_setup_convert_nc_f32_qs8(e->x[0], e->batch, in, out, pool);
        break;
    }
    if (st != xnn_status_success) {
      snprintf(n->why, sizeof n->why, "op %u %s: XNNPACK setup failed (status %d)", e->op,
               etpu_op_code_name(e->code), (int)st);
      return false;
    }
  }
  return true;
}

static bool xnet_run_node(node *e, pthreadpool_t pool) {
  for (uint32_t j = 0; j < e->nx; j++)
    if (xnn_run_operator(e->x[j], pool) != xnn_status_success) return false;
  return true;
}

/* Run every built op; with op_ms (n->built entries), time each. */
static bool xnet_run(xnet *n, pthreadpool_t pool, double *op_ms) {
  for (uint32_t k = 0; k < n->built; k++) {
    double t0 = op_ms ? bench_now_ms() : 0;
    if (!xnet_run_node(&n->nodes[k], pool)) return false;
    if (op_ms) op_ms[k] = bench_now_ms() - t0;
  }
  return true;
}

/* ---- inputs -------------------------------------------------------------- */

/* Fill the model's input (bytes of its size) from an image, or seeded random
 * bytes when image is NULL. */
static bool make_input(const etpu_model *m, const char *image, uint32_t seed, uint8_t **buf_out, size_t *size_out) {
  etpu_tensor_info ti;
  if (etpu_model_input_count(m, 0) != 1 || etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &ti) != ETPU_OK)
    return false;
  size_t bytes = tensor_bytes(&ti);
  uint8_t *buf = calloc(bytes ? bytes : 1, 1);
  if (!buf) return false;
  if (image && etpu_tensor_load(image, &ti, NULL, buf, bytes, NULL) != ETPU_OK) {
    printf("  input %s does not fit this model (%s): seeded random bytes instead\n", image, etpu_errmsg());
    image = NULL;
  }
  if (image) {
    /* loaded */
  } else if (ti.type == ETPU_FLOAT32) {
    uint32_t s = seed * 2654435761u + 1;
    for (size_t k = 0; k + 4 <= bytes; k += 4) {
      s = s * 1664525u + 1013904223u;
      float v = (float)(s >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
      memcpy(buf + k, &v, 4);
    }
  } else {
    uint32_t s = seed * 2654435761u + 1;
    for (size_t k = 0; k < bytes; k++) {
      s = s * 1664525u + 1013904223u;
      buf[k] = (uint8_t)(s >> 24);
    }
  }
  *buf_out = buf;
  *size_out = bytes;
  return true;
}

static bool etpu_side(const etpu_model *m, bool keep_all, uint32_t threads, etpu_interp **ip_out) {
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_LITERT;
  o.keep_all_tensors = keep_all;
  o.num_threads = threads;
  size_t arena;
  *ip_out = NULL;
  if (etpu_interp_create(m, &o, ip_out) != ETPU_OK || etpu_interp_plan(*ip_out, &arena) != ETPU_OK) {
    printf("  etpu cannot run it: %s\n", etpu_errmsg());
    etpu_interp_free(*ip_out);
    *ip_out = NULL;
    return false;
  }
  return true;
}

static etpu_status etpu_run_prefix(etpu_interp *ip, const xnet *n) {
  return n->built == n->op_count ? etpu_interp_invoke(ip) : etpu_interp_invoke_prefix(ip, n->built);
}

/* Compare every op output of the built part with etpu's. Returns the number
 * of tensors that differ (printing each), or -1 if a side failed to run. */
static long check_one(xnet *n, etpu_interp *ip, const uint8_t *in, size_t in_size, pthreadpool_t pool,
                      bool verbose_notes) {
  int32_t t_in = etpu_model_input(n->m, 0, 0);
  if (n->ptr[t_in]) memcpy(n->ptr[t_in], in, in_size); /* NULL: no built op reads it */
  if (etpu_interp_set_input(ip, 0, in, in_size) != ETPU_OK || etpu_run_prefix(ip, n) != ETPU_OK) {
    printf("  etpu failed: %s\n", etpu_errmsg());
    return -1;
  }
  long bad = 0;
  for (uint32_t k = 0; k < n->built; k++) {
    node *e = &n->nodes[k];
    if (!xnet_run_node(e, pool)) {
      printf("  op %u %s: XNNPACK run failed\n", e->op, etpu_op_code_name(e->code));
      return -1;
    }
    const void *ref;
    size_t size;
    etpu_tensor_info ti;
    if (etpu_interp_tensor(ip, (uint32_t)e->out, &ref, &size) != ETPU_OK ||
        etpu_model_tensor(n->m, 0, (uint32_t)e->out, &ti) != ETPU_OK || size != tensor_bytes(&ti)) {
      printf("  op %u %s: etpu's output unreadable: %s\n", e->op, etpu_op_code_name(e->code), etpu_errmsg());
      bad++;
      continue;
    }
    const uint8_t *a = ref;
    uint8_t *b = n->ptr[e->out];
    size_t diff = 0, first = 0;
    for (size_t j = 0; j < size; j++)
      if (a[j] != b[j] && diff++ == 0) first = j;
    if (e->not_oracle) {
      if (diff && verbose_notes)
        printf("  note: op %u %s: %zu of %zu bytes differ (%s): not compared\n", e->op,
               etpu_op_code_name(e->code), diff, size, e->not_oracle);
    } else if (diff) {
      printf("  MISMATCH op %u %s (t%d '%.60s'): %zu of %zu bytes differ, first at %zu: etpu %u, XNNPACK %u\n",
             e->op, etpu_op_code_name(e->code), e->out, ti.name, diff, size, first, a[first], b[first]);
      bad++;
    }
    /* The next ops read etpu's bytes: each op is checked on the same input
     * on both sides, and a difference is charged to the op that made it,
     * not to every op after it. */
    memcpy(b, a, size);
  }
  return bad;
}

/* ---- timing -------------------------------------------------------------- */

typedef struct timing {
  bool ok;
  double xnn_ms[2], etpu_ms[2];   /* medians; [0]: 1 thread, [1]: 2 threads */
  double xnn_min[2], etpu_min[2]; /* minima */
} timing;

/* Time both sides on one thread count, alternating in blocks of BLOCK timed
 * invokes so that both see the same load from whatever else runs on the
 * machine; each block starts with one untimed invoke (XNNPACK's idle pool
 * workers spin for a while after a run, which would slow etpu's next one).
 * With op_ms (built x reps entries) also XNNPACK's time per op and run. */
static bool time_pair(const etpu_model *m, xnet *n, int th, pthreadpool_t pool, const uint8_t *in, size_t in_size,
                      int reps, timing *tm, double *op_ms) {
  enum { BLOCK = 5 };
  etpu_interp *ip;
  if (!xnet_setup(n, pool) || !etpu_side(m, false, (uint32_t)th + 1, &ip)) return false;
  double *tx = malloc((size_t)reps * sizeof *tx), *te = malloc((size_t)reps * sizeof *te);
  bool ok = tx && te && etpu_interp_set_input(ip, 0, in, in_size) == ETPU_OK;
  for (int w = 0; ok && w < WARMUP; w++) ok = xnet_run(n, pool, NULL) && etpu_run_prefix(ip, n) == ETPU_OK;
  for (int done = 0; ok && done < reps; done += BLOCK) {
    int count = reps - done < BLOCK ? reps - done : BLOCK;
    ok = xnet_run(n, pool, NULL);
    for (int r = done; ok && r < done + count; r++) {
      double t0 = bench_now_ms();
      ok = xnet_run(n, pool, op_ms ? op_ms + (size_t)r * n->built : NULL);
      tx[r] = bench_now_ms() - t0;
    }
    ok = ok && etpu_run_prefix(ip, n) == ETPU_OK;
    for (int r = done; ok && r < done + count; r++) {
      double t0 = bench_now_ms();
      ok = etpu_run_prefix(ip, n) == ETPU_OK;
      te[r] = bench_now_ms() - t0;
    }
  }
  if (!ok) printf("  timing failed: %s\n", etpu_errmsg());
  if (ok) {
    tm->xnn_ms[th] = bench_median(tx, reps); /* sorts */
    tm->xnn_min[th] = tx[0];
    tm->etpu_ms[th] = bench_median(te, reps);
    tm->etpu_min[th] = te[0];
  }
  free(tx);
  free(te);
  etpu_interp_free(ip);
  return ok;
}

/* XNNPACK's time per op type: the sum over its ops of each op's median. */
static void print_op_table(const xnet *n, double *op_ms, int reps) {
  double *col = malloc((size_t)reps * sizeof *col), *med = calloc(n->built, sizeof *med), total = 0;
  if (!col || !med) goto done;
  for (uint32_t k = 0; k < n->built; k++) {
    for (int r = 0; r < reps; r++) col[r] = op_ms[(size_t)r * n->built + k];
    med[k] = bench_median(col, reps);
    total += med[k];
  }
  if (total <= 0) goto done;
  printf("  XNNPACK 1 thread, per op type (sum of each op's median, share):\n");
  bool seen[256] = {false};
  for (uint32_t k = 0; k < n->built; k++) {
    int32_t code = n->nodes[k].code;
    if (code < 0 || code > 255 || seen[code]) continue;
    seen[code] = true;
    double ms = 0;
    uint32_t count = 0;
    for (uint32_t j = k; j < n->built; j++)
      if (n->nodes[j].code == code) {
        ms += med[j];
        count++;
      }
    printf("    %-20s x%-3u %9.3f ms  %5.1f%%\n", etpu_op_code_name(code), count, ms, 100.0 * ms / total);
  }
done:
  free(col);
  free(med);
}

/* ---- main ---------------------------------------------------------------- */

typedef struct result {
  char name[128];
  uint32_t built, op_count;
  timing tm;
} result;

static void cpu_name(char *name, size_t cap, char *flags, size_t fcap) {
  snprintf(name, cap, "unknown CPU");
  flags[0] = 0;
  FILE *f = fopen("/proc/cpuinfo", "r");
  if (!f) return;
  char line[8192];
  bool got_name = false, got_flags = false;
  while ((!got_name || !got_flags) && fgets(line, sizeof line, f)) {
    char *colon = strchr(line, ':');
    if (!colon) continue;
    char *v = colon + 1;
    while (*v == ' ') v++;
    v[strcspn(v, "\n")] = 0;
    if (!got_name && !strncmp(line, "model name", 10)) {
      snprintf(name, cap, "%s", v);
      got_name = true;
    } else if (!got_flags && !strncmp(line, "flags", 5)) {
      static const char *const wanted[] = {"avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni",
                                           "amx_int8"};
      size_t used = 0;
      for (size_t k = 0; k < sizeof wanted / sizeof *wanted; k++) {
        char pat[32];
        snprintf(pat, sizeof pat, " %s ", wanted[k]);
        char padded[8200];
        snprintf(padded, sizeof padded, " %s ", v);
        if (strstr(padded, pat) && used + strlen(wanted[k]) + 2 < fcap)
          used += (size_t)snprintf(flags + used, fcap - used, "%s%s", used ? " " : "", wanted[k]);
      }
      got_flags = true;
    }
  }
  fclose(f);
}

static long sysconf_cores(void) { return sysconf(_SC_NPROCESSORS_ONLN); }

static void print_markdown(const result *res, int count, int reps) {
  char name[256], flags[256];
  cpu_name(name, sizeof name, flags, sizeof flags);
  double load = -1;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &load) != 1) load = -1;
    fclose(f);
  }
  printf("\nCPU: %s (%s); %ld online cores, load average %.1f at the end; median of %d invokes; etpu "
         "--profile litert vs XNNPACK 0.0~git20220216 (Debian 12)\n\n",
         name, flags[0] ? flags : "no AVX2", sysconf_cores(), load, reps);
  printf("| model | ops | etpu 1T ms | XNNPACK 1T ms | etpu / XNNPACK 1T (minima) | etpu 2T ms | XNNPACK 2T ms | "
         "etpu / XNNPACK 2T (minima) |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  for (int k = 0; k < count; k++) {
    const result *r = &res[k];
    if (!r->tm.ok) continue;
    char ops[32];
    if (r->built == r->op_count)
      snprintf(ops, sizeof ops, "all %u", r->op_count);
    else
      snprintf(ops, sizeof ops, "first %u of %u", r->built, r->op_count);
    printf("| %s | %s | %.2f | %.2f | %.2fx (%.2fx) | %.2f | %.2f | %.2fx (%.2fx) |\n", r->name, ops,
           r->tm.etpu_ms[0], r->tm.xnn_ms[0], r->tm.etpu_ms[0] / r->tm.xnn_ms[0],
           r->tm.etpu_min[0] / r->tm.xnn_min[0], r->tm.etpu_ms[1], r->tm.xnn_ms[1],
           r->tm.etpu_ms[1] / r->tm.xnn_ms[1], r->tm.etpu_min[1] / r->tm.xnn_min[1]);
  }
}

typedef struct model_spec {
  const char *path;  /* relative to the shared data folder */
  uint32_t min_ops;  /* --check fails if XNNPACK builds fewer */
} model_spec;

/* The models of the issue: Coral's MobileNets v1 (0.25, 0.5, 0.75; 1.0 as
 * the embedding extractor) and v2 (ImageNet, iNat birds and insects; not the
 * TF2 PTQ and EdgeTPU-MobileNet ones, whose first op is a uint8 -> int8
 * QUANTIZE this XNNPACK has no operator for), mnv2_int8io (int8 I/O, per-channel weights: up to its
 * int8 SOFTMAX), DeepLab v3's MobileNet v2 backbone (up to its resize) and
 * micro_speech (int8 conv and fully connected, up to its int8 SOFTMAX). */
static const model_spec default_models[] = {
    {"coral/mobilenet_v1_0.25_128_quant.tflite", 31},
    {"coral/mobilenet_v1_0.5_160_quant.tflite", 31},
    {"coral/mobilenet_v1_0.75_192_quant.tflite", 31},
    {"coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", 28},
    {"coral/mobilenet_v2_1.0_224_quant.tflite", 66},
    {"coral/mobilenet_v2_1.0_224_inat_bird_quant.tflite", 65},
    {"coral/mobilenet_v2_1.0_224_inat_insect_quant.tflite", 65},
    {"goldens/models/mnv2_int8io.tflite", 64},
    {"coral/deeplabv3_mnv2_pascal_quant.tflite", 64},
    {"coral/deeplabv3_mnv2_dm05_pascal_quant.tflite", 64},
    {"goldens/models/micro_speech_quantized.tflite", 3},
};

typedef struct run_opts {
  int reps;
  bool check_only, markdown;
  const char *images[MAX_IMAGES];
  int image_count;
  int random_count;
} run_opts;

/* ---- peak memory, one engine per process --------------------------------- */

/* A "Vm...:" line of /proc/self/status in kB, -1 when unreadable. */
static long status_kb(const char *key) {
  FILE *f = fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  const size_t n = strlen(key);
  while (kb < 0 && fgets(line, sizeof line, f))
    if (!strncmp(line, key, n) && line[n] == ':') kb = strtol(line + n + 1, NULL, 10);
  fclose(f);
  return kb;
}

/* --rss-child ENGINE BUILT MODEL IMAGE: run the first BUILT ops of MODEL
 * three times with one engine (etpu or xnnpack), one thread; print
 * "rss BEFORE PEAK" in kB. Exit 0 when it ran. */
static int rss_child(const char *engine, const char *built_s, const char *path, const char *image) {
  const bool xnn = !strcmp(engine, "xnnpack");
  const uint32_t built = (uint32_t)strtoul(built_s, NULL, 10);
  etpu_model *m;
  uint8_t *in = NULL;
  size_t in_size = 0;
  if (xnn_initialize(NULL) != xnn_status_success || etpu_model_open(path, &m) != ETPU_OK) return 1;
  if (!make_input(m, image[0] ? image : NULL, 0, &in, &in_size)) return 1;
  const long before = status_kb("VmRSS");
  bool ok = true;
  if (xnn) {
    xnet n;
    pthreadpool_t pool = pthreadpool_create(1);
    ok = pool && xnet_build(m, &n) && n.built == built && xnet_setup(&n, pool);
    const int32_t t_in = etpu_model_input(m, 0, 0);
    if (ok && n.ptr[t_in]) memcpy(n.ptr[t_in], in, in_size);
    for (int r = 0; ok && r < 3; r++) ok = xnet_run(&n, pool, NULL);
    xnet_free(&n);
    if (pool) pthreadpool_destroy(pool);
  } else {
    etpu_interp *ip;
    ok = etpu_side(m, false, 1, &ip) && etpu_interp_set_input(ip, 0, in, in_size) == ETPU_OK;
    for (int r = 0; ok && r < 3; r++)
      ok = (built == etpu_model_op_count(m, 0) ? etpu_interp_invoke(ip) : etpu_interp_invoke_prefix(ip, built)) ==
           ETPU_OK;
    etpu_interp_free(ip);
  }
  printf("rss %ld %ld\n", before, status_kb("VmHWM"));
  free(in);
  etpu_model_free(m);
  return ok ? 0 : 1;
}

/* Run rss_child in a fresh process (this executable); false on failure. */
static bool measure_rss(const char *engine, uint32_t built, const char *path, const char *image, long *before,
                        long *peak) {
  int fd[2];
  if (pipe(fd) != 0) return false;
  char built_s[16];
  snprintf(built_s, sizeof built_s, "%u", built);
  fflush(stdout);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fd[1], 1);
    close(fd[0]);
    close(fd[1]);
    char *const args[] = {"bench_xnnpack", "--rss-child", (char *)engine, built_s, (char *)path,
                          (char *)(image ? image : ""), NULL};
    execv("/proc/self/exe", args);
    _exit(127);
  }
  close(fd[1]);
  char buf[128] = {0};
  size_t got = 0;
  ssize_t r;
  while (pid > 0 && got + 1 < sizeof buf && (r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
  close(fd[0]);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return false;
  return sscanf(buf, "rss %ld %ld", before, peak) == 2 && *before > 0 && *peak > 0;
}

/* One model: build, check, time. Returns 0 (fine or skipped), 1 (check failed). */
static int run_model(const char *path, uint32_t min_ops, const run_opts *ro, pthreadpool_t pool[2], result *res) {
  etpu_model *m;
  if (etpu_model_open(path, &m) != ETPU_OK) {
    printf("%s: cannot open: %s\n", path, etpu_errmsg());
    return ro->check_only ? 1 : 0;
  }
  const char *base = strrchr(path, '/');
  snprintf(res->name, sizeof res->name, "%s", base ? base + 1 : path);
  char *dot = strstr(res->name, ".tflite");
  if (dot) *dot = 0;
  printf("%s\n", path);
  xnet n;
  int rc = 0;
  etpu_interp *ip = NULL;
  uint8_t *in = NULL;
  size_t in_size = 0;
  double *t = NULL;
  if (!xnet_build(m, &n)) {
    printf("  out of memory building the XNNPACK graph\n");
    rc = 1;
    goto done;
  }
  res->built = n.built;
  res->op_count = n.op_count;
  if (n.built == n.op_count)
    printf("  XNNPACK built all %u ops\n", n.op_count);
  else
    printf("  XNNPACK built the first %u of %u ops; stops at %s\n", n.built, n.op_count, n.why);
  if (n.built < min_ops) {
    printf("  FAIL: XNNPACK built %u ops, fewer than the %u expected\n", n.built, min_ops);
    rc = 1;
    goto done;
  }
  if (n.built > 0 && etpu_model_input_count(m, 0) != 1) {
    printf("  %s: %u inputs; this program feeds models with one\n", min_ops ? "FAIL" : "skipped",
           etpu_model_input_count(m, 0));
    rc = min_ops ? 1 : 0;
    goto done;
  }
  if (n.built == 0) {
    printf("  skipped: nothing to compare or time\n");
    goto done;
  }
  if (!etpu_side(m, false, 1, &ip)) { /* prints why */
    printf("  %s\n", min_ops ? "FAIL" : "skipped");
    rc = min_ops ? 1 : 0;
    goto done;
  }
  etpu_interp_free(ip);
  ip = NULL;
  /* Byte check: every input on 1 thread, the first also on 2. */
  int inputs = ro->image_count + ro->random_count;
  long mismatched = 0;
  int checked = 0;
  for (int k = 0; k < inputs && rc == 0; k++) {
    uint8_t *buf;
    size_t size;
    const char *img = k < ro->image_count ? ro->images[k] : NULL;
    if (!make_input(m, img, (uint32_t)k, &buf, &size)) {
      printf("  cannot make input %d for this model\n", k);
      rc = 1;
      break;
    }
    for (int th = 0; th < (k == 0 ? 2 : 1) && rc == 0; th++) {
      if (!etpu_side(m, true, (uint32_t)th + 1, &ip) || !xnet_setup(&n, pool[th])) {
        if (n.why[0] && ip) printf("  %s\n", n.why);
        rc = 1;
        break;
      }
      long bad = check_one(&n, ip, buf, size, pool[th], k == 0 && th == 0);
      etpu_interp_free(ip);
      ip = NULL;
      if (bad < 0) rc = 1;
      else mismatched += bad;
      checked++;
      if (bad > 0)
        printf("  input %s, %d thread(s): %ld op outputs differ\n", img ? img : "(random)", th + 1, bad);
    }
    if (k == 0) {
      in = buf;
      in_size = size;
    } else {
      free(buf);
    }
  }
  if (rc == 0 && mismatched) rc = 1;
  uint32_t skipped = 0;
  for (uint32_t k = 0; k < n.built; k++) skipped += n.nodes[k].not_oracle != NULL;
  printf("  byte check: %s (%u op outputs compared, %u not compared, x %d runs: %d image(s) + %d random input(s), "
         "the first on 1 and 2 threads)\n",
         rc == 0 ? "every compared op output equal to etpu --profile litert" : "FAILED", n.built - skipped, skipped,
         checked, ro->image_count, ro->random_count);
  if (rc != 0 || ro->check_only || !in) goto done;
  t = malloc((size_t)ro->reps * n.built * sizeof *t); /* XNNPACK's time per op and run, 1 thread */
  if (!t) goto done;
  int32_t t_in = etpu_model_input(m, 0, 0);
  if (n.ptr[t_in]) memcpy(n.ptr[t_in], in, in_size);
  timing *tm = &res->tm;
  for (int th = 0; th < 2; th++)
    if (!time_pair(m, &n, th, pool[th], in, in_size, ro->reps, tm, th == 0 ? t : NULL)) goto done;
  tm->ok = true;
  for (int th = 0; th < 2; th++)
    printf("  %d thread%s: etpu %8.3f ms (min %8.3f)  XNNPACK %8.3f ms (min %8.3f)  etpu / XNNPACK %.2fx\n",
           th + 1, th ? "s" : " ", tm->etpu_ms[th], tm->etpu_min[th], tm->xnn_ms[th], tm->xnn_min[th],
           tm->etpu_ms[th] / tm->xnn_ms[th]);
  print_op_table(&n, t, ro->reps);
  long xb, xp, eb, ep;
  const char *image = ro->image_count ? ro->images[0] : NULL;
  if (measure_rss("xnnpack", n.built, path, image, &xb, &xp) && measure_rss("etpu", n.built, path, image, &eb, &ep))
    printf("  peak RSS, 1 thread, each engine in its own process: etpu %.1f MB, XNNPACK %.1f MB (etpu / XNNPACK "
           "%.2fx; %.1f and %.1f MB before building)\n",
           (double)ep / 1024, (double)xp / 1024, (double)ep / (double)xp, (double)eb / 1024, (double)xb / 1024);
  else
    printf("  peak RSS: could not be measured (no /proc/self/status or the child failed)\n");
done:
  free(t);
  free(in);
  etpu_interp_free(ip);
  xnet_free(&n);
  etpu_model_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 6 && !strcmp(argv[1], "--rss-child")) return rss_child(argv[2], argv[3], argv[4], argv[5]);
  run_opts ro = {.reps = DEFAULT_REPS};
  int first = bench_leading_count(argc, argv, MAX_REPS, &ro.reps);
  const char *models[MAX_MODELS];
  uint32_t mins[MAX_MODELS];
  int model_count = 0;
  for (int k = first; k < argc; k++) {
    if (!strcmp(argv[k], "--check")) {
      ro.check_only = true;
    } else if (!strcmp(argv[k], "--markdown")) {
      ro.markdown = true;
    } else if (!strcmp(argv[k], "--image") && k + 1 < argc && ro.image_count < MAX_IMAGES) {
      ro.images[ro.image_count++] = argv[++k];
    } else if (!strcmp(argv[k], "--random") && k + 1 < argc) {
      ro.random_count = atoi(argv[++k]);
      if (ro.random_count < 0 || ro.random_count > 1000) ro.random_count = 0;
    } else if (model_count == MAX_MODELS) {
      fprintf(stderr, "bench_xnnpack: more than %d models\n", MAX_MODELS);
      return 2;
    } else if (argv[k][0] == '-') {
      fprintf(stderr, "usage: bench_xnnpack [N] [--check] [--markdown] [--image FILE]... [--random K] "
                      "[MODEL.tflite[@MIN_OPS]...]\n");
      return 2;
    } else {
      char *at = strrchr(argv[k], '@');
      mins[model_count] = 0;
      if (at && strstr(argv[k], ".tflite@")) {
        *at = 0;
        mins[model_count] = (uint32_t)strtoul(at + 1, NULL, 10);
      }
      models[model_count++] = argv[k];
    }
  }
  const char *dir = bench_shared_dir();
  static char paths[MAX_MODELS][4096];
  static char default_image[4096];
  if (model_count == 0) {
    char probe[4096];
    snprintf(probe, sizeof probe, "%s/coral", dir);
    FILE *f = fopen(probe, "r");
    if (!f) {
      const char *req = getenv("ETPU_REQUIRE_SHARED_DATA");
      printf("bench_xnnpack: shared data folder %s absent: nothing to run (set ETPU_SHARED_DATA)\n", dir);
      return (req && req[0] == '1') ? 1 : 77;
    }
    fclose(f);
    for (size_t k = 0; k < sizeof default_models / sizeof *default_models; k++) {
      snprintf(paths[model_count], sizeof paths[0], "%s/%s", dir, default_models[k].path);
      models[model_count] = paths[model_count];
      mins[model_count++] = default_models[k].min_ops;
    }
  }
  if (ro.image_count == 0) {
    snprintf(default_image, sizeof default_image, "%s/coral/cat.bmp", dir);
    FILE *f = fopen(default_image, "rb");
    if (f) {
      fclose(f);
      ro.images[ro.image_count++] = default_image;
    } else if (ro.random_count == 0) {
      ro.random_count = 1;
    }
  }
  if (xnn_initialize(NULL) != xnn_status_success) {
    printf("bench_xnnpack: skipped: XNNPACK does not support this CPU (xnn_initialize failed)\n");
    return 77;
  }
  pthreadpool_t pool[2] = {pthreadpool_create(1), pthreadpool_create(2)};
  if (!pool[0] || !pool[1]) {
    printf("bench_xnnpack: cannot create the thread pools\n");
    return 1;
  }
  printf("bench_xnnpack: etpu --profile litert vs XNNPACK (Debian libxnnpack 0.0~git20220216)%s\n",
         ro.check_only ? ": byte check only" : "");
  static result res[MAX_MODELS];
  int rc = 0;
  for (int k = 0; k < model_count; k++)
    if (run_model(models[k], mins[k], &ro, pool, &res[k]) != 0) rc = 1;
  if (ro.markdown && !ro.check_only) print_markdown(res, model_count, ro.reps);
  pthreadpool_destroy(pool[0]);
  pthreadpool_destroy(pool[1]);
  xnn_deinitialize();
  printf("bench_xnnpack: %s\n", rc ? "FAILED" : "ok");
  return rc;
}
