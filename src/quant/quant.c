/*
 * quant.c — calibration and post-training int8 quantization (TFLITE.md §5-6).
 *
 * Calibration runs the float model with every tensor kept and records each
 * float32 tensor's global min/max over all samples (NaN skipped), as
 * TensorFlow's MinMax logger does. etpu_quantize then copies the model and
 * rewrites it in place, keeping tensor indices: activations become int8
 * asymmetric, weights int8 symmetric, biases int32, and each op's version is
 * set to the one TensorFlow writes for its int8 form (read from the shared
 * vww_96_int8, pretrainedResnet_quant and kws_ref_model models).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/graph.h"

#define TRY(x)                      \
  do {                              \
    etpu_status st_ = (x);          \
    if (st_ != ETPU_OK) return st_; \
  } while (0)

struct etpu_calibration {
  const etpu_model *model;
  etpu_interp *interp;
  uint32_t ntensors;
  uint32_t samples;
  float *min, *max;  /* per tensor; min > max = no value seen */
  double *sig, *err; /* compare accumulators */
  bool *compared;
};

static bool is_activation(const etpu_model *m, const etpu_gtensor *t) {
  size_t sz;
  return t->type == ETPU_FLOAT32 && etpu_graph_tensor_data(m, t, &sz) == NULL && !t->is_variable;
}

etpu_status etpu_calibration_create(const etpu_model *model, etpu_calibration **cal_out) {
  if (!model || !cal_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_create: NULL argument");
  const etpu_gsubgraph *g = &model->subgraphs[0];
  uint32_t nfloat = 0;
  for (uint32_t i = 0; i < g->ntensors; i++) nfloat += is_activation(model, &g->tensors[i]);
  if (nfloat == 0 || g->ninputs == 0 || g->tensors[g->inputs[0]].type != ETPU_FLOAT32) {
    for (uint32_t i = 0; i < g->ntensors; i++)
      if (g->tensors[i].quant && g->tensors[i].quant->count)
        return etpu_fail(ETPU_INVALID_ARGUMENT,
                         "%s: already quantized (tensor %u '%s' is %s with quantization parameters); "
                         "quantize the float model it was made from",
                         model->label, i, g->tensors[i].name, etpu_dtype_name(g->tensors[i].type));
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: no float32 input or activation to calibrate", model->label);
  }
  etpu_calibration *c = etpu_calloc(1, sizeof *c);
  if (!c) return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory");
  c->model = model;
  c->ntensors = g->ntensors;
  c->min = etpu_calloc(g->ntensors, sizeof *c->min);
  c->max = etpu_calloc(g->ntensors, sizeof *c->max);
  c->sig = etpu_calloc(g->ntensors, sizeof *c->sig);
  c->err = etpu_calloc(g->ntensors, sizeof *c->err);
  c->compared = etpu_calloc(g->ntensors, sizeof *c->compared);
  if (!c->min || !c->max || !c->sig || !c->err || !c->compared) {
    etpu_calibration_free(c);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory");
  }
  for (uint32_t i = 0; i < g->ntensors; i++) {
    c->min[i] = INFINITY;
    c->max[i] = -INFINITY;
  }
  etpu_interp_options o = {ETPU_PROFILE_TFLITE_REF, true};
  etpu_status st = etpu_interp_create(model, &o, &c->interp);
  if (st == ETPU_OK) st = etpu_interp_plan(c->interp, NULL);
  if (st != ETPU_OK) {
    etpu_calibration_free(c);
    return st;
  }
  *cal_out = c;
  return ETPU_OK;
}

void etpu_calibration_free(etpu_calibration *c) {
  if (!c) return;
  etpu_interp_destroy(c->interp);
  etpu_free(c->min);
  etpu_free(c->max);
  etpu_free(c->sig);
  etpu_free(c->err);
  etpu_free(c->compared);
  etpu_free(c);
}

uint32_t etpu_calibration_samples(const etpu_calibration *c) { return c ? c->samples : 0; }

bool etpu_calibration_range(const etpu_calibration *c, uint32_t t, float *min_out, float *max_out) {
  if (!c || t >= c->ntensors || !(c->min[t] <= c->max[t])) return false;
  *min_out = c->min[t];
  *max_out = c->max[t];
  return true;
}

static etpu_status set_inputs(etpu_interp *it, const etpu_model *m, const float *const *inputs, const size_t *sizes,
                              uint32_t n) {
  if (n != etpu_interp_input_count(it))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %u calibration inputs given, the model has %u", m->label, n,
                     etpu_interp_input_count(it));
  for (uint32_t i = 0; i < n; i++) {
    const etpu_gtensor *t = &m->subgraphs[0].tensors[etpu_interp_input_index(it, i)];
    uint64_t count = 0;
    if (!etpu_shape_elements(t->rank, t->shape, &count) || sizes[i] != count * sizeof(float))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u '%s': sample of %zu bytes, the tensor holds %llu floats",
                       m->label, i, t->name, sizes[i], (unsigned long long)count);
    if (t->type == ETPU_FLOAT32) {
      TRY(etpu_interp_set_input(it, i, inputs[i], sizes[i]));
      continue;
    }
    if ((t->type != ETPU_INT8 && t->type != ETPU_UINT8) || !t->quant || t->quant->count != 1)
      return etpu_fail(ETPU_UNSUPPORTED, "%s: input %u '%s' is %s, not float32 or quantized 8-bit", m->label, i,
                       t->name, etpu_dtype_name(t->type));
    uint8_t *q = etpu_malloc(count ? count : 1);
    if (!q) return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory");
    float s = t->quant->scale[0];
    int64_t zp = t->quant->zp_count ? t->quant->zero_point[0] : 0;
    int lo = t->type == ETPU_INT8 ? -128 : 0, hi = lo + 255;
    for (uint64_t k = 0; k < count; k++) {
      double v = round((double)inputs[i][k] / s) + (double)zp;
      int iv = v < lo ? lo : v > hi ? hi : (int)v;
      q[k] = t->type == ETPU_INT8 ? (uint8_t)(int8_t)iv : (uint8_t)iv;
    }
    etpu_status st = etpu_interp_set_input(it, i, q, (size_t)count);
    etpu_free(q);
    TRY(st);
  }
  return ETPU_OK;
}

etpu_status etpu_calibration_run(etpu_calibration *c, const float *const *inputs, const size_t *sizes, uint32_t n) {
  if (!c || (n && (!inputs || !sizes))) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_run: NULL argument");
  TRY(set_inputs(c->interp, c->model, inputs, sizes, n));
  TRY(etpu_interp_invoke(c->interp));
  const etpu_gsubgraph *g = &c->model->subgraphs[0];
  for (uint32_t i = 0; i < g->ntensors; i++) {
    if (!is_activation(c->model, &g->tensors[i])) continue;
    const void *d;
    size_t sz;
    if (etpu_interp_tensor(c->interp, i, &d, &sz) != ETPU_OK) continue;
    const float *f = d;
    for (size_t k = 0; k < sz / sizeof(float); k++) {
      float v = f[k];
      if (isnan(v)) continue;
      if (v < c->min[i]) c->min[i] = v;
      if (v > c->max[i]) c->max[i] = v;
    }
  }
  c->samples++;
  return ETPU_OK;
}

etpu_status etpu_calibration_compare(etpu_calibration *c, const etpu_model *q, const float *const *inputs,
                                     const size_t *sizes, uint32_t n) {
  if (!c || !q || (n && (!inputs || !sizes)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_compare: NULL argument");
  TRY(set_inputs(c->interp, c->model, inputs, sizes, n));
  TRY(etpu_interp_invoke(c->interp));
  etpu_interp_options o = {ETPU_PROFILE_TFLITE_REF, true};
  etpu_interp *qi = NULL;
  TRY(etpu_interp_create(q, &o, &qi));
  etpu_status st = etpu_interp_plan(qi, NULL);
  if (st == ETPU_OK) st = set_inputs(qi, q, inputs, sizes, n);
  if (st == ETPU_OK) st = etpu_interp_invoke(qi);
  const etpu_gsubgraph *g = &c->model->subgraphs[0], *qg = &q->subgraphs[0];
  for (uint32_t i = 0; st == ETPU_OK && i < g->ntensors && i < qg->ntensors; i++) {
    const etpu_gtensor *qt = &qg->tensors[i];
    if (!is_activation(c->model, &g->tensors[i]) || qt->type != ETPU_INT8 || !qt->quant || qt->quant->count != 1)
      continue;
    const void *fd, *qd;
    size_t fsz, qsz;
    if (etpu_interp_tensor(c->interp, i, &fd, &fsz) != ETPU_OK || etpu_interp_tensor(qi, i, &qd, &qsz) != ETPU_OK ||
        fsz != qsz * sizeof(float))
      continue;
    const float *f = fd;
    const int8_t *qv = qd;
    double s = qt->quant->scale[0], zp = qt->quant->zp_count ? (double)qt->quant->zero_point[0] : 0;
    for (size_t k = 0; k < qsz; k++) {
      if (isnan(f[k])) continue;
      double d = ((double)qv[k] - zp) * s - f[k];
      c->sig[i] += (double)f[k] * f[k];
      c->err[i] += d * d;
    }
    c->compared[i] = true;
  }
  etpu_interp_destroy(qi);
  return st;
}

bool etpu_calibration_sqnr(const etpu_calibration *c, uint32_t t, double *out) {
  if (!c || t >= c->ntensors || !c->compared[t]) return false;
  *out = c->err[t] == 0 ? INFINITY : 10.0 * log10(c->sig[t] / c->err[t]);
  return true;
}

/* ---- quantization -------------------------------------------------------- */

typedef struct qparam {
  bool set;
  float scale;
  int32_t zp;
} qparam;

/* GetAsymmetricQuantizationParams with int8 (TFLITE.md §6). */
static qparam asym_params(float mn, float mx) {
  qparam p = {true, 1.0f, 0};
  if (mn > 0) mn = 0;
  if (mx < 0) mx = 0;
  double scale = ((double)mx - (double)mn) / 255.0;
  /* An all-zero range gives scale 0, which no kernel accepts: keep 1 (every
   * value is 0 and quantizes to the zero point). */
  if (scale == 0) return (qparam){true, 1.0f, -128};
  p.scale = (float)scale;
  double zp = -128.0 - (double)mn / p.scale;
  p.zp = zp <= -128 ? -128 : zp >= 127 ? 127 : (int32_t)round(zp);
  return p;
}

/* What an op needs (TFLITE.md §5). */
typedef enum op_kind { K_UNSUPPORTED, K_WEIGHTS, K_OWN, K_SAME, K_FIXED } op_kind;

typedef struct op_rule {
  int32_t code;
  op_kind kind;
  int32_t version; /* int8 version TensorFlow writes */
  float fixed_scale;
  int32_t fixed_zp;
} op_rule;

static const op_rule RULES[] = {
    {ETPU_OP_CONV_2D, K_WEIGHTS, 3, 0, 0},
    {ETPU_OP_DEPTHWISE_CONV_2D, K_WEIGHTS, 3, 0, 0},
    {ETPU_OP_FULLY_CONNECTED, K_WEIGHTS, 4, 0, 0},
    {ETPU_OP_ADD, K_OWN, 2, 0, 0},
    {ETPU_OP_SUB, K_OWN, 2, 0, 0},
    {ETPU_OP_MUL, K_OWN, 2, 0, 0},
    {ETPU_OP_MEAN, K_OWN, 2, 0, 0},
    {ETPU_OP_RELU, K_OWN, 2, 0, 0},
    {ETPU_OP_RELU6, K_OWN, 2, 0, 0},
    {ETPU_OP_AVERAGE_POOL_2D, K_SAME, 2, 0, 0},
    {ETPU_OP_MAX_POOL_2D, K_SAME, 2, 0, 0},
    {ETPU_OP_RESHAPE, K_SAME, 1, 0, 0},
    {ETPU_OP_PAD, K_SAME, 2, 0, 0},
    {ETPU_OP_RESIZE_BILINEAR, K_SAME, 2, 0, 0},
    {ETPU_OP_SOFTMAX, K_FIXED, 2, 1.0f / 256, -128},
    {ETPU_OP_LOGISTIC, K_FIXED, 2, 1.0f / 256, -128},
    {ETPU_OP_TANH, K_FIXED, 2, 1.0f / 128, 0},
    {ETPU_OP_L2_NORMALIZATION, K_FIXED, 2, 1.0f / 128, 0},
};

static const op_rule *find_rule(int32_t code) {
  for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
    if (RULES[i].code == code) return &RULES[i];
  return NULL;
}

typedef struct qctx {
  etpu_model *m;
  const etpu_calibration *cal;
  qparam *p;      /* per tensor: activation params decided */
  bool *done;     /* constants already rewritten */
} qctx;

static etpu_status set_quant(etpu_model *m, uint32_t t, uint32_t n, const float *scale, const int64_t *zp,
                             int32_t dim) {
  etpu_quant_params q = {n, scale, zp, dim};
  return etpu_model_set_tensor_quant(m, 0, t, &q);
}

/* Replace a float constant by int8/int32 data of the same shape. */
static etpu_status set_const(etpu_model *m, uint32_t t, int32_t type, const void *data, size_t size) {
  m->subgraphs[0].tensors[t].type = type;
  return etpu_model_set_tensor_data(m, 0, t, data, size);
}

static etpu_status const_floats(const etpu_model *m, uint32_t t, const float **f_out, uint64_t *n_out) {
  const etpu_gtensor *gt = &m->subgraphs[0].tensors[t];
  size_t sz;
  const uint8_t *d = etpu_graph_tensor_data(m, gt, &sz);
  uint64_t n;
  if (!d || gt->type != ETPU_FLOAT32 || !etpu_shape_elements(gt->rank, gt->shape, &n) || n * 4 != sz)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: tensor %u '%s' is not a float32 constant", m->label, t, gt->name);
  *f_out = (const float *)(const void *)d;
  *n_out = n;
  return ETPU_OK;
}

/* Symmetric int8 weights, per channel along dim (or per tensor when dim < 0).
 * bias (nbias floats, or NULL) and in_scale: TensorFlow's
 * AdjustWeightsForBiasScale widens a channel's scale to 2|b|/(in_scale x
 * INT32_MAX) when |b| >= 0.5 x in_scale x w_scale x INT32_MAX, so that the
 * int32 bias stays at 2^30 instead of saturating (dead channels, whose
 * weights are ~1e-30, need this). */
static etpu_status quant_weights(qctx *q, uint32_t t, int32_t dim, const float *bias, uint64_t nbias, float in_scale,
                                 float **scales_out, uint32_t *nscales_out) {
  etpu_model *m = q->m;
  const etpu_gtensor *gt = &m->subgraphs[0].tensors[t];
  const float *f;
  uint64_t n;
  TRY(const_floats(m, t, &f, &n));
  uint32_t nch = dim >= 0 && (uint32_t)dim < gt->rank ? (uint32_t)gt->shape[dim] : 1;
  uint64_t inner = 1;
  if (dim >= 0)
    for (uint32_t k = (uint32_t)dim + 1; k < gt->rank; k++) inner *= (uint64_t)gt->shape[k];
  float *scales = etpu_calloc(nch, sizeof *scales);
  int64_t *zps = etpu_calloc(nch, sizeof *zps);
  int8_t *out = etpu_malloc(n ? n : 1);
  etpu_status st = ETPU_OK;
  if (!scales || !zps || !out) st = etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  for (uint64_t k = 0; st == ETPU_OK && k < n; k++) {
    uint32_t c = (uint32_t)((k / inner) % nch);
    float a = fabsf(f[k]);
    if (a > scales[c]) scales[c] = a;
  }
  for (uint32_t c = 0; st == ETPU_OK && c < nch; c++) scales[c] = scales[c] == 0 ? 1.0f : scales[c] / 127.0f;
  const double kmax = (double)INT32_MAX;
  for (uint64_t k = 0; st == ETPU_OK && bias && k < nbias && (nch == 1 || k < nch); k++) {
    uint32_t c = nch == 1 ? 0 : (uint32_t)k;
    double b = fabs((double)bias[k]);
    if (b >= 0.5 * (double)in_scale * (double)scales[c] * kmax) scales[c] = (float)(b * 2.0 / (double)in_scale / kmax);
  }
  for (uint64_t k = 0; st == ETPU_OK && k < n; k++) {
    uint32_t c = (uint32_t)((k / inner) % nch);
    double v = round((double)f[k] / scales[c]);
    out[k] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
  }
  if (st == ETPU_OK) st = set_const(m, t, ETPU_INT8, out, (size_t)n);
  if (st == ETPU_OK) st = set_quant(m, t, nch, scales, zps, dim < 0 ? 0 : dim);
  etpu_free(zps);
  etpu_free(out);
  if (st != ETPU_OK) {
    etpu_free(scales);
    return st;
  }
  q->done[t] = true;
  *scales_out = scales;
  *nscales_out = nch;
  return ETPU_OK;
}

static etpu_status quant_bias(qctx *q, uint32_t t, float in_scale, const float *ws, uint32_t nws) {
  etpu_model *m = q->m;
  const float *f;
  uint64_t n;
  TRY(const_floats(m, t, &f, &n));
  if (n != nws && nws != 1)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: bias tensor %u has %llu values for %u weight scales", m->label, t,
                     (unsigned long long)n, nws);
  uint32_t ns = nws == 1 ? 1 : (uint32_t)n;
  float *scales = etpu_calloc(ns ? ns : 1, sizeof *scales);
  int64_t *zps = etpu_calloc(ns ? ns : 1, sizeof *zps);
  int32_t *out = etpu_calloc(n ? n : 1, sizeof *out);
  etpu_status st = ETPU_OK;
  if (!scales || !zps || !out) st = etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  for (uint32_t c = 0; st == ETPU_OK && c < ns; c++) scales[c] = in_scale * ws[c];
  for (uint64_t k = 0; st == ETPU_OK && k < n; k++) {
    double v = round((double)f[k] / scales[ns == 1 ? 0 : k]);
    out[k] = (int32_t)(v < -INT32_MAX ? -INT32_MAX : v > INT32_MAX ? INT32_MAX : v);
  }
  if (st == ETPU_OK) st = set_const(m, t, ETPU_INT32, out, (size_t)n * 4);
  if (st == ETPU_OK) st = set_quant(m, t, ns, scales, zps, 0);
  etpu_free(scales);
  etpu_free(zps);
  etpu_free(out);
  if (st == ETPU_OK) q->done[t] = true;
  return st;
}

/* Any other float constant an op reads: int8 asymmetric over its values. */
static etpu_status quant_other_const(qctx *q, uint32_t t) {
  const float *f;
  uint64_t n;
  TRY(const_floats(q->m, t, &f, &n));
  float mn = 0, mx = 0;
  for (uint64_t k = 0; k < n; k++) {
    if (f[k] < mn) mn = f[k];
    if (f[k] > mx) mx = f[k];
  }
  qparam p = asym_params(mn, mx);
  int8_t *out = etpu_malloc(n ? n : 1);
  if (!out) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  for (uint64_t k = 0; k < n; k++) {
    double v = round((double)f[k] / p.scale) + p.zp;
    out[k] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
  etpu_status st = set_const(q->m, t, ETPU_INT8, out, (size_t)n);
  etpu_free(out);
  float s = p.scale;
  int64_t z = p.zp;
  if (st == ETPU_OK) st = set_quant(q->m, t, 1, &s, &z, 0);
  if (st == ETPU_OK) q->done[t] = true;
  return st;
}

static qparam calib_params(const qctx *q, uint32_t t) {
  float mn, mx;
  if (!etpu_calibration_range(q->cal, t, &mn, &mx)) mn = mx = 0;
  return asym_params(mn, mx);
}

/* Parameters of an activation tensor, from calibration unless decided. */
static qparam act(qctx *q, uint32_t t) {
  if (!q->p[t].set) q->p[t] = calib_params(q, t);
  return q->p[t];
}

static etpu_status copy_model(const etpu_model *m, etpu_model **out) {
  void *buf;
  size_t size;
  TRY(etpu_model_write_buffer(m, 0, &buf, &size));
  etpu_status st = etpu_model_open_buffer(buf, size, m->label, ETPU_OPEN_COPY, out);
  etpu_free(buf);
  return st;
}

/* Append a 2-tensor op and move it to position `at`. */
static etpu_status insert_op(etpu_model *m, int32_t code, int32_t version, int32_t in, int32_t out, uint32_t at) {
  int32_t idx;
  TRY(etpu_model_add_op(m, 0, code, NULL, version, 1, &in, 1, &out, 0, NULL, NULL, 0, &idx));
  etpu_gsubgraph *g = &m->subgraphs[0];
  etpu_gop op = g->ops[idx];
  memmove(&g->ops[at + 1], &g->ops[at], ((size_t)idx - at) * sizeof op);
  g->ops[at] = op;
  etpu_graph_link(m, 0);
  return ETPU_OK;
}

static etpu_status add_io_tensor(etpu_model *m, uint32_t like, const char *suffix, int32_t type, qparam p,
                                 int32_t *idx_out) {
  const etpu_gtensor *t = &m->subgraphs[0].tensors[like];
  char name[512];
  snprintf(name, sizeof name, "%s%s", t->name, suffix);
  float s = p.scale;
  int64_t z = p.zp;
  etpu_quant_params qp = {1, &s, &z, 0};
  return etpu_model_add_tensor(m, 0, name, type, t->rank, t->shape, type == ETPU_FLOAT32 ? NULL : &qp, NULL, 0,
                               idx_out);
}

static etpu_status rewrite(qctx *q, const etpu_quantize_options *o) {
  etpu_model *m = q->m;
  etpu_gsubgraph *g = &m->subgraphs[0];
  /* 1. Decide every op, collecting all the ops that cannot be quantized. */
  char list[4096];
  size_t len = 0;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < g->nops; i++) {
    const etpu_gop *op = &g->ops[i];
    int32_t code = etpu_graph_op_code(m, op);
    const op_rule *r = find_rule(code);
    const char *why = NULL;
    if (!r)
      why = "no int8 rule for this op in etpu's quantizer yet";
    else if (op->noutputs != 1 || op->ninputs < 1 || op->inputs[0] < 0)
      why = "unexpected inputs/outputs";
    else if (g->tensors[op->outputs[0]].type != ETPU_FLOAT32 || g->tensors[op->inputs[0]].type != ETPU_FLOAT32)
      why = "input or output is not float32";
    else if (r->kind == K_WEIGHTS && (op->ninputs < 2 || op->inputs[1] < 0 ||
                                      g->tensors[op->inputs[1]].type != ETPU_FLOAT32))
      why = "weights are not float32 (a hybrid, dynamic-range quantized model: quantize its float original)";
    if (!why) continue;
    bad++;
    if (len < sizeof list - 200)
      len += (size_t)snprintf(list + len, sizeof list - len, "\n  op %u %s: %s", i, etpu_graph_op_name(m, op), why);
  }
  if (bad)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: %u op(s) cannot be quantized to int8%s%s", m->label, bad,
                     o->allow_float ? " (--allow-float is not implemented yet)" : "", list);
  /* 2. Activation parameters, op by op (inputs are decided before outputs). */
  for (uint32_t i = 0; i < g->nops; i++) {
    const etpu_gop *op = &g->ops[i];
    const op_rule *r = find_rule(etpu_graph_op_code(m, op));
    uint32_t in = (uint32_t)op->inputs[0], out = (uint32_t)op->outputs[0];
    qparam pin = act(q, in);
    if (r->kind == K_SAME && !q->p[out].set)
      q->p[out] = pin;
    else if (r->kind == K_FIXED)
      q->p[out] = (qparam){true, r->fixed_scale, r->fixed_zp};
    else
      (void)act(q, out);
  }
  /* 3. Constants: weights and bias of conv/depthwise/FC, then any other. */
  for (uint32_t i = 0; i < g->nops; i++) {
    const etpu_gop *op = &g->ops[i];
    int32_t code = etpu_graph_op_code(m, op);
    const op_rule *r = find_rule(code);
    if (r->kind == K_WEIGHTS && op->ninputs >= 2 && op->inputs[1] >= 0 && !q->done[op->inputs[1]]) {
      int32_t dim = code == ETPU_OP_CONV_2D ? 0 : code == ETPU_OP_DEPTHWISE_CONV_2D ? 3 : -1;
      float *ws = NULL;
      uint32_t nws = 0;
      const float *bias = NULL;
      uint64_t nbias = 0;
      if (op->ninputs >= 3 && op->inputs[2] >= 0 && !q->done[op->inputs[2]])
        TRY(const_floats(m, (uint32_t)op->inputs[2], &bias, &nbias));
      TRY(quant_weights(q, (uint32_t)op->inputs[1], dim, bias, nbias, q->p[op->inputs[0]].scale, &ws, &nws));
      etpu_status st = ETPU_OK;
      if (op->ninputs >= 3 && op->inputs[2] >= 0 && !q->done[op->inputs[2]])
        st = quant_bias(q, (uint32_t)op->inputs[2], q->p[op->inputs[0]].scale, ws, nws);
      etpu_free(ws);
      TRY(st);
    }
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t < 0 || q->done[t] || g->tensors[t].type != ETPU_FLOAT32) continue;
      size_t sz;
      if (etpu_graph_tensor_data(m, &g->tensors[t], &sz)) TRY(quant_other_const(q, (uint32_t)t));
    }
    uint32_t idx;
    TRY(etpu_graph_opcode(m, code, NULL, r->version, &idx));
    g->ops[i].opcode = idx;
  }
  /* 4. Activations become int8. */
  for (uint32_t t = 0; t < g->ntensors; t++) {
    if (!q->p[t].set || q->done[t]) continue;
    float s = q->p[t].scale;
    int64_t z = q->p[t].zp;
    g->tensors[t].type = ETPU_INT8;
    TRY(set_quant(m, t, 1, &s, &z, 0));
  }
  /* 5. Static shapes: the Edge TPU (and etpu compile) refuse a dynamic
   * batch, which TensorFlow's converter writes as shape_signature -1; the
   * shapes themselves (batch 1) are kept. */
  for (uint32_t t = 0; t < g->ntensors; t++) g->tensors[t].has_signature = false;
  /* 6. Graph inputs and outputs. */
  if (o->io == ETPU_QUANT_IO_INT8) return ETPU_OK;
  uint32_t nin = g->ninputs, nout = g->noutputs;
  int32_t ins[64], outs[64];
  if (nin > 64 || nout > 64) return etpu_fail(ETPU_UNSUPPORTED, "%s: more than 64 graph inputs or outputs", m->label);
  int32_t io_type = o->io == ETPU_QUANT_IO_FLOAT ? ETPU_FLOAT32 : ETPU_UINT8;
  for (uint32_t i = 0; i < nin; i++) {
    int32_t t = g->inputs[i], nt;
    qparam p = q->p[t];
    if (io_type == ETPU_UINT8) p.zp += 128;
    TRY(add_io_tensor(m, (uint32_t)t, io_type == ETPU_FLOAT32 ? "_float" : "_uint8", io_type, p, &nt));
    g = &m->subgraphs[0];
    TRY(insert_op(m, ETPU_OP_QUANTIZE, 1, nt, t, i));
    g = &m->subgraphs[0];
    ins[i] = nt;
  }
  for (uint32_t i = 0; i < nout; i++) {
    int32_t t = g->outputs[i], nt;
    qparam p = q->p[t];
    if (io_type == ETPU_UINT8) p.zp += 128;
    TRY(add_io_tensor(m, (uint32_t)t, io_type == ETPU_FLOAT32 ? "_float" : "_uint8", io_type, p, &nt));
    g = &m->subgraphs[0];
    int32_t code = io_type == ETPU_FLOAT32 ? ETPU_OP_DEQUANTIZE : ETPU_OP_QUANTIZE;
    TRY(insert_op(m, code, code == ETPU_OP_DEQUANTIZE ? 2 : 1, t, nt, g->nops));
    g = &m->subgraphs[0];
    outs[i] = nt;
  }
  return etpu_model_set_io(m, 0, nin, ins, nout, outs);
}

etpu_status etpu_quantize(const etpu_model *model, const etpu_calibration *cal, const etpu_quantize_options *o,
                          etpu_model **model_out) {
  if (!model || !cal || !o || !model_out || cal->model != model)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_quantize: NULL argument, or a calibration of another model");
  if (cal->samples == 0)
    return etpu_fail(ETPU_INVALID_STATE, "%s: no calibration sample was run", model->label);
  if (model->nsubgraphs != 1)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: %u subgraphs; only single-subgraph models are quantized", model->label,
                     model->nsubgraphs);
  etpu_model *m = NULL;
  TRY(copy_model(model, &m));
  uint32_t n = m->subgraphs[0].ntensors;
  qctx q = {m, cal, etpu_calloc(n, sizeof(qparam)), etpu_calloc(n, sizeof(bool))};
  etpu_status st = q.p && q.done ? ETPU_OK : etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  if (st == ETPU_OK) st = rewrite(&q, o);
  if (st == ETPU_OK) st = etpu_model_validate(m);
  etpu_free(q.p);
  etpu_free(q.done);
  if (st != ETPU_OK) {
    etpu_model_close(m);
    return st;
  }
  *model_out = m;
  return ETPU_OK;
}
