/*
 * quant.c — calibration and post-training int8 quantization (TFLITE.md §5-6).
 *
 * Calibration runs the float model with every tensor kept and records each
 * float32 tensor's global min/max over all samples (NaN skipped), as
 * TensorFlow's MinMax logger does; ranges the model records (or the caller
 * sets) stand in for tensors no sample reached; an optional second pass
 * fills histograms for percentile or MSE clipping.
 *
 * etpu_quantize copies the model and rewrites it in place, keeping tensor
 * indices: float16 weights behind DEQUANTIZE are folded; every op is decided
 * (int8 rule, or kept in float with --allow-float, with DEQUANTIZE/QUANTIZE
 * at the boundaries); ops whose inputs and outputs must share parameters
 * join union-find classes that take the union of their members' ranges;
 * activations become int8 asymmetric, weights int8 symmetric (per channel
 * for convs), biases int32 at input x weight scale; each op's version is
 * the larger of the float model's and the one TensorFlow writes for its int8
 * form. etpu_quantize_correct_bias is the optional empirical bias correction
 * that runs after it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "model/fb.h"
#include "model/graph.h"
#include "model/schema_gen.h"
#include "quant/quant_internal.h"

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


static bool is_activation(const etpu_model *m, const etpu_gtensor *t) {
  size_t sz;
  return t->type == ETPU_FLOAT32 && etpu_graph_tensor_data(m, t, &sz) == NULL && !t->is_variable;
}

/* A range a converter recorded in the model (QuantizationParameters min and
 * max without scale: TensorFlow's calibrated float models, e.g. its quantizer
 * test models), used for tensors no sample reached. */
static void record_range(etpu_calibration *c, const etpu_gtensor *t, uint32_t i) {
  if (t->type != ETPU_FLOAT32 || !t->quant || !t->quant->rest) return;
  const etpu_fbv *mn = etpu_fbt_get(t->quant->rest, ETPU_F_QuantizationParameters_min);
  const etpu_fbv *mx = etpu_fbt_get(t->quant->rest, ETPU_F_QuantizationParameters_max);
  if (!mn || !mx || mn->kind != ETPU_FB_VECTOR || mx->kind != ETPU_FB_VECTOR || mn->elem != ETPU_FB_F32 ||
      mx->elem != ETPU_FB_F32 || mn->count == 0 || mx->count == 0)
    return;
  float lo = INFINITY, hi = -INFINITY;
  for (uint32_t k = 0; k < mn->count; k++) {
    uint32_t bits = etpu_rd32((const uint8_t *)mn->v.p + 4 * k);
    float v;
    memcpy(&v, &bits, 4);
    if (v < lo) lo = v;
  }
  for (uint32_t k = 0; k < mx->count; k++) {
    uint32_t bits = etpu_rd32((const uint8_t *)mx->v.p + 4 * k);
    float v;
    memcpy(&v, &bits, 4);
    if (v > hi) hi = v;
  }
  if (!(lo <= hi)) return;
  c->rmin[i] = lo;
  c->rmax[i] = hi;
  c->recorded++;
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
  c->rmin = etpu_calloc(g->ntensors, sizeof *c->rmin);
  c->rmax = etpu_calloc(g->ntensors, sizeof *c->rmax);
  if (!c->min || !c->max || !c->sig || !c->err || !c->compared || !c->rmin || !c->rmax) {
    etpu_calibration_free(c);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory");
  }
  for (uint32_t i = 0; i < g->ntensors; i++) {
    c->min[i] = c->rmin[i] = INFINITY;
    c->max[i] = c->rmax[i] = -INFINITY;
    record_range(c, &g->tensors[i], i);
  }
  *cal_out = c;
  return ETPU_OK;
}

void etpu_calibration_free(etpu_calibration *c) {
  if (!c) return;
  etpu_interp_free(c->interp);
  etpu_free(c->min);
  etpu_free(c->max);
  etpu_free(c->sig);
  etpu_free(c->err);
  etpu_free(c->compared);
  etpu_free(c->hist);
  etpu_free(c->rmin);
  etpu_free(c->rmax);
  etpu_free(c->clo);
  etpu_free(c->chi);
  etpu_free(c->covered);
  etpu_free(c);
}

uint32_t etpu_calibration_samples(const etpu_calibration *c) { return c ? c->samples : 0; }

uint32_t etpu_calibration_recorded(const etpu_calibration *c) { return c ? c->recorded : 0; }

/* The argument checks of etpu_calibration_set_range and _cover_range. */
static etpu_status check_range(const etpu_calibration *c, uint32_t t, float min, float max, const char *fn) {
  if (!c) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL calibration", fn);
  if (t >= c->ntensors)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: no tensor %u (the model has %u)", c->model->label, t, c->ntensors);
  if (!isfinite(min) || !isfinite(max) || min > max)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u: range [%g, %g] is not finite and ordered",
                     c->model->label, t, (double)min, (double)max);
  return ETPU_OK;
}

etpu_status etpu_calibration_set_range(etpu_calibration *c, uint32_t t, float min, float max) {
  ETPU_TRY(check_range(c, t, min, max, "etpu_calibration_set_range"));
  if (!(c->rmin[t] <= c->rmax[t])) c->recorded++;
  c->rmin[t] = min;
  c->rmax[t] = max;
  return ETPU_OK;
}

/* The float interpreter, made on first use (a model whose ranges are all
 * recorded needs none, and may hold ops etpu cannot run). */
etpu_status etpu_calib_float_interp(etpu_calibration *c) {
  if (c->interp) return ETPU_OK;
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = true;
  etpu_status st = etpu_interp_create(c->model, &o, &c->interp);
  if (st == ETPU_OK) st = etpu_interp_plan(c->interp, NULL);
  if (st != ETPU_OK) {
    etpu_interp_free(c->interp);
    c->interp = NULL;
  }
  return st;
}

/* Clip [*lo, *hi] by the chosen method, from tensor t's histogram. */
static void clip_range(const etpu_calibration *c, uint32_t t, float *lo, float *hi);

etpu_status etpu_calibration_cover_range(etpu_calibration *c, uint32_t t, float min, float max) {
  ETPU_TRY(check_range(c, t, min, max, "etpu_calibration_cover_range"));
  if (!c->covered && !(c->covered = etpu_calloc(c->ntensors ? c->ntensors : 1, sizeof *c->covered)))
    return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory");
  if (min < c->min[t]) c->min[t] = min;
  if (max > c->max[t]) c->max[t] = max;
  c->covered[t] = true;
  return ETPU_OK;
}

bool etpu_calibration_range(const etpu_calibration *c, uint32_t t, float *min_out, float *max_out) {
  if (!c || t >= c->ntensors) return false;
  if (c->min[t] <= c->max[t]) {
    *min_out = c->min[t];
    *max_out = c->max[t];
    if (c->covered && c->covered[t]) return true;
    if (c->clip_ready) {
      *min_out = c->clo[t];
      *max_out = c->chi[t];
    } else {
      clip_range(c, t, min_out, max_out);
    }
    return true;
  }
  if (c->rmin[t] <= c->rmax[t]) {
    *min_out = c->rmin[t];
    *max_out = c->rmax[t];
    return true;
  }
  return false;
}

etpu_status etpu_calib_set_inputs(etpu_interp *it, const etpu_model *m, const float *const *inputs,
                                  const size_t *sizes, uint32_t n) {
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
      ETPU_TRY(etpu_interp_set_input(it, i, inputs[i], sizes[i]));
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
    ETPU_TRY(st);
  }
  return ETPU_OK;
}

etpu_status etpu_calibration_run(etpu_calibration *c, const float *const *inputs, const size_t *sizes, uint32_t n) {
  if (!c || (n && (!inputs || !sizes))) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_run: NULL argument");
  ETPU_TRY(etpu_calib_float_interp(c));
  ETPU_TRY(etpu_calib_set_inputs(c->interp, c->model, inputs, sizes, n));
  ETPU_TRY(etpu_interp_invoke(c->interp));
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
  c->clip_ready = false;
  return ETPU_OK;
}

/* ---- clipping: histograms of a second pass (percentile, MSE) ---------- */

etpu_status etpu_calibration_run_histogram(etpu_calibration *c, const float *const *inputs, const size_t *sizes,
                                           uint32_t n) {
  if (!c || (n && (!inputs || !sizes)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_run_histogram: NULL argument");
  if (c->samples == 0)
    return etpu_fail(ETPU_INVALID_STATE, "%s: histograms need the ranges of a first pass (etpu_calibration_run)",
                     c->model->label);
  if (!c->hist) {
    size_t cells;
    if (!etpu_mul_size(c->ntensors, ETPU_CALIB_BINS, &cells) || !(c->hist = etpu_calloc(cells, sizeof *c->hist)))
      return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory for %u histograms", c->ntensors);
  }
  ETPU_TRY(etpu_calib_float_interp(c));
  ETPU_TRY(etpu_calib_set_inputs(c->interp, c->model, inputs, sizes, n));
  ETPU_TRY(etpu_interp_invoke(c->interp));
  const etpu_gsubgraph *g = &c->model->subgraphs[0];
  for (uint32_t i = 0; i < g->ntensors; i++) {
    if (!is_activation(c->model, &g->tensors[i]) || !(c->min[i] < c->max[i])) continue;
    const void *d;
    size_t sz;
    if (etpu_interp_tensor(c->interp, i, &d, &sz) != ETPU_OK) continue;
    const float *f = d;
    uint32_t *h = c->hist + (size_t)i * ETPU_CALIB_BINS;
    double lo = c->min[i], w = ((double)c->max[i] - lo) / ETPU_CALIB_BINS;
    for (size_t k = 0; k < sz / sizeof(float); k++) {
      if (isnan(f[k])) continue;
      double b = floor(((double)f[k] - lo) / w);
      uint32_t bin = b < 0 ? 0 : b >= ETPU_CALIB_BINS ? ETPU_CALIB_BINS - 1 : (uint32_t)b;
      if (h[bin] < UINT32_MAX) h[bin]++;
    }
  }
  c->hist_samples++;
  c->clip_ready = false;
  return ETPU_OK;
}

etpu_status etpu_calibration_set_method(etpu_calibration *c, etpu_calib_method method, float percentile) {
  if (!c) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_set_method: NULL argument");
  if (method != ETPU_CALIB_MINMAX && method != ETPU_CALIB_PERCENTILE && method != ETPU_CALIB_MSE)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "calibration: unknown method %d", (int)method);
  if (method == ETPU_CALIB_PERCENTILE && !(percentile > 50.0f && percentile <= 100.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "calibration: percentile %g is not in (50, 100]", (double)percentile);
  if (method != ETPU_CALIB_MINMAX && !c->hist_samples)
    return etpu_fail(ETPU_INVALID_STATE, "%s: %s clipping needs histograms (etpu_calibration_run_histogram)",
                     c->model->label, method == ETPU_CALIB_MSE ? "MSE" : "percentile");
  c->method = method;
  c->percentile = percentile;
  /* The clipped ranges, searched once here rather than each time a range is
   * asked for (the MSE search scans a histogram 128 times per tensor). */
  c->clip_ready = false;
  if (method != ETPU_CALIB_MINMAX) {
    if (!c->clo) c->clo = etpu_calloc(c->ntensors ? c->ntensors : 1, sizeof *c->clo);
    if (!c->chi) c->chi = etpu_calloc(c->ntensors ? c->ntensors : 1, sizeof *c->chi);
    if (!c->clo || !c->chi) return etpu_fail(ETPU_OUT_OF_MEMORY, "calibration: out of memory");
    for (uint32_t t = 0; t < c->ntensors; t++) {
      c->clo[t] = c->min[t];
      c->chi[t] = c->max[t];
      if (c->min[t] <= c->max[t]) clip_range(c, t, &c->clo[t], &c->chi[t]);
    }
    c->clip_ready = true;
  }
  return ETPU_OK;
}

/* Squared error, summed over the histogram (bin centres), of quantizing
 * with the int8 parameters of [lo, hi]. */
static double hist_mse(const uint32_t *h, double mn, double w, float lo, float hi) {
  qparam p = asym_params(lo, hi);
  double err = 0;
  for (uint32_t b = 0; b < ETPU_CALIB_BINS; b++) {
    if (!h[b]) continue;
    double x = mn + ((double)b + 0.5) * w;
    double q = round(x / p.scale) + p.zp;
    q = q < -128 ? -128 : q > 127 ? 127 : q;
    double d = (q - p.zp) * p.scale - x;
    err += (double)h[b] * d * d;
  }
  return err;
}

static void clip_range(const etpu_calibration *c, uint32_t t, float *lo, float *hi) {
  if (c->method == ETPU_CALIB_MINMAX || !c->hist || !(*lo < *hi)) return;
  const uint32_t *h = c->hist + (size_t)t * ETPU_CALIB_BINS;
  double mn = *lo, w = ((double)*hi - mn) / ETPU_CALIB_BINS;
  uint64_t total = 0;
  for (uint32_t b = 0; b < ETPU_CALIB_BINS; b++) total += h[b];
  if (!total) return;
  if (c->method == ETPU_CALIB_PERCENTILE) {
    /* Drop (100 - p)% of the values from the top, and as much from the
     * bottom when the range is signed. */
    double tail = (double)total * (100.0 - c->percentile) / 100.0;
    uint64_t acc = 0;
    uint32_t top = ETPU_CALIB_BINS;
    while (top > 1 && (double)(acc + h[top - 1]) <= tail) acc += h[--top];
    float nhi = (float)(mn + top * w);
    float nlo = *lo;
    if (*lo < 0) {
      acc = 0;
      uint32_t bot = 0;
      while (bot + 1 < top && (double)(acc + h[bot]) <= tail) acc += h[bot++];
      nlo = (float)(mn + bot * w);
    }
    if (nlo < nhi) {
      *lo = nlo;
      *hi = nhi;
    }
    return;
  }
  /* MSE: shrink the range towards 0 by a common factor (only the top when
   * the range is not signed) and keep the one of least squared error. */
  float best_lo = *lo, best_hi = *hi;
  double best = hist_mse(h, mn, w, *lo, *hi);
  for (uint32_t k = 1; k < 128; k++) {
    double f = 1.0 - (double)k / 128.0;
    float nlo = *lo < 0 ? (float)(*lo * f) : *lo, nhi = *hi > 0 ? (float)(*hi * f) : *hi;
    if (!(nlo < nhi)) break;
    double e = hist_mse(h, mn, w, nlo, nhi);
    if (e < best) {
      best = e;
      best_lo = nlo;
      best_hi = nhi;
    }
  }
  *lo = best_lo;
  *hi = best_hi;
}

etpu_status etpu_calibration_compare(etpu_calibration *c, const etpu_model *q, const float *const *inputs,
                                     const size_t *sizes, uint32_t n) {
  if (!c || !q || (n && (!inputs || !sizes)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_calibration_compare: NULL argument");
  ETPU_TRY(etpu_calib_float_interp(c));
  ETPU_TRY(etpu_calib_set_inputs(c->interp, c->model, inputs, sizes, n));
  ETPU_TRY(etpu_interp_invoke(c->interp));
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = true;
  etpu_interp *qi = NULL;
  ETPU_TRY(etpu_interp_create(q, &o, &qi));
  etpu_status st = etpu_interp_plan(qi, NULL);
  if (st == ETPU_OK) st = etpu_calib_set_inputs(qi, q, inputs, sizes, n);
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
  etpu_interp_free(qi);
  return st;
}

bool etpu_calibration_sqnr(const etpu_calibration *c, uint32_t t, double *out) {
  if (!c || t >= c->ntensors || !c->compared[t]) return false;
  *out = c->err[t] == 0 ? INFINITY : 10.0 * log10(c->sig[t] / c->err[t]);
  return true;
}

/* ---- quantization -------------------------------------------------------- */

/* What an op needs (TFLITE.md §5; TensorFlow's operator_property.cc):
 *  K_WEIGHTS  int8 symmetric weights (per channel on wdim, per tensor when
 *             wdim < 0), int32 bias at input × weight scale, own output;
 *  K_OWN      own output parameters from calibration (ADD, MUL, MEAN, ...);
 *  K_SAME     every float input and output shares one (scale, zero point):
 *             pooling, RESHAPE, CONCATENATION, SPLIT, TRANSPOSE, ...;
 *  K_FIXED    fixed output parameters (SOFTMAX, LOGISTIC, TANH, ...);
 *  K_INPUTS   only the inputs are quantized (ARG_MAX: the output is an index).
 * act/w/b: input positions of the activation, weights and bias. version:
 * the op version TensorFlow writes for the int8 form (op_version.cc; the
 * larger of it and the float model's version is kept). */
typedef enum op_kind { K_WEIGHTS, K_OWN, K_SAME, K_FIXED, K_INPUTS } op_kind;

typedef struct op_rule {
  int32_t code;
  op_kind kind;
  int32_t version;
  float fixed_scale;
  int32_t fixed_zp;
  int8_t act, w, b, wdim;
} op_rule;

#define W_(code, v, act, w, b, dim) {code, K_WEIGHTS, v, 0, 0, act, w, b, dim}
#define K_(code, kind, v) {code, kind, v, 0, 0, 0, -1, -1, -1}
#define F_(code, v, s, zp) {code, K_FIXED, v, s, zp, 0, -1, -1, -1}
static const op_rule RULES[] = {
    W_(ETPU_OP_CONV_2D, 3, 0, 1, 2, 0),
    W_(ETPU_OP_DEPTHWISE_CONV_2D, 3, 0, 1, 2, 3),
    W_(ETPU_OP_FULLY_CONNECTED, 4, 0, 1, 2, -1),
    W_(ETPU_OP_TRANSPOSE_CONV, 2, 2, 1, 3, 0),
    K_(ETPU_OP_ADD, K_OWN, 2),
    K_(ETPU_OP_SUB, K_OWN, 2),
    K_(ETPU_OP_MUL, K_OWN, 2),
    K_(ETPU_OP_MEAN, K_OWN, 2),
    K_(ETPU_OP_SUM, K_OWN, 2),
    K_(ETPU_OP_RELU, K_OWN, 2),
    K_(ETPU_OP_RELU6, K_OWN, 2),
    K_(ETPU_OP_RELU_N1_TO_1, K_OWN, 2),
    K_(ETPU_OP_LEAKY_RELU, K_OWN, 2),
    K_(ETPU_OP_PRELU, K_OWN, 1),
    K_(ETPU_OP_HARD_SWISH, K_OWN, 1),
    K_(ETPU_OP_SQUARED_DIFFERENCE, K_OWN, 2),
    K_(ETPU_OP_RSQRT, K_OWN, 2),
    K_(ETPU_OP_ABS, K_OWN, 2),
    K_(ETPU_OP_AVERAGE_POOL_2D, K_SAME, 2),
    K_(ETPU_OP_MAX_POOL_2D, K_SAME, 2),
    K_(ETPU_OP_RESHAPE, K_SAME, 1),
    K_(ETPU_OP_SQUEEZE, K_SAME, 1),
    K_(ETPU_OP_EXPAND_DIMS, K_SAME, 1),
    K_(ETPU_OP_PAD, K_SAME, 2),
    K_(ETPU_OP_PADV2, K_SAME, 2),
    K_(ETPU_OP_MIRROR_PAD, K_SAME, 2),
    K_(ETPU_OP_TILE, K_SAME, 2),
    K_(ETPU_OP_SPACE_TO_BATCH_ND, K_SAME, 2),
    K_(ETPU_OP_BATCH_TO_SPACE_ND, K_SAME, 2),
    K_(ETPU_OP_RESIZE_BILINEAR, K_SAME, 2),
    K_(ETPU_OP_RESIZE_NEAREST_NEIGHBOR, K_SAME, 2),
    K_(ETPU_OP_CONCATENATION, K_SAME, 2),
    K_(ETPU_OP_SPLIT, K_SAME, 2),
    K_(ETPU_OP_SPLIT_V, K_SAME, 2),
    K_(ETPU_OP_PACK, K_SAME, 2),
    K_(ETPU_OP_UNPACK, K_SAME, 2),
    K_(ETPU_OP_TRANSPOSE, K_SAME, 2),
    K_(ETPU_OP_STRIDED_SLICE, K_SAME, 2),
    K_(ETPU_OP_SLICE, K_SAME, 2),
    K_(ETPU_OP_GATHER, K_SAME, 2),
    K_(ETPU_OP_GATHER_ND, K_SAME, 2),
    K_(ETPU_OP_MAXIMUM, K_SAME, 2),
    K_(ETPU_OP_MINIMUM, K_SAME, 2),
    K_(ETPU_OP_REDUCE_MAX, K_SAME, 2),
    K_(ETPU_OP_REDUCE_MIN, K_SAME, 2),
    K_(ETPU_OP_ARG_MAX, K_INPUTS, 2),
    K_(ETPU_OP_SHAPE, K_INPUTS, 1),
    F_(ETPU_OP_SOFTMAX, 2, 1.0f / 256, -128),
    F_(ETPU_OP_LOGISTIC, 2, 1.0f / 256, -128),
    F_(ETPU_OP_TANH, 2, 1.0f / 128, 0),
    F_(ETPU_OP_L2_NORMALIZATION, 2, 1.0f / 128, 0),
};
#undef W_
#undef K_
#undef F_

static const op_rule *find_rule(int32_t code) {
  for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
    if (RULES[i].code == code) return &RULES[i];
  return NULL;
}

typedef struct qctx {
  etpu_model *m;
  const etpu_calibration *cal;
  const etpu_quantize_options *o;
  uint32_t cap;    /* entries of the per-tensor arrays */
  qparam *p;       /* per tensor: activation params decided */
  bool *done;      /* constants already rewritten */
  bool *fop;       /* per tensor: written by an op kept in float */
  bool *isq;       /* per tensor: becomes an int8 activation */
  int32_t *src;    /* per tensor: the float model's tensor whose range it has */
  int32_t *parent; /* union-find over tensors that share parameters */
  float *lo, *hi;  /* per class root: union of the members' ranges */
  qparam *fixed;   /* per class root: fixed parameters, if any */
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
  if (((uintptr_t)d & 3u) != 0)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: tensor %u '%s': float32 data is not 4-byte aligned", m->label, t,
                     gt->name);
  *f_out = (const float *)(const void *)d;
  *n_out = n;
  return ETPU_OK;
}

static bool is_const(const etpu_model *m, int32_t t) {
  size_t sz;
  return t >= 0 && etpu_graph_tensor_data(m, &m->subgraphs[0].tensors[t], &sz) != NULL;
}

/* A float32 tensor computed at run time (not a constant, not a state). */
static bool is_float_act(const etpu_model *m, int32_t t) {
  if (t < 0) return false;
  const etpu_gtensor *gt = &m->subgraphs[0].tensors[t];
  return gt->type == ETPU_FLOAT32 && !gt->is_variable && !is_const(m, t);
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
  ETPU_TRY(const_floats(m, t, &f, &n));
  uint32_t nch = dim >= 0 && (uint32_t)dim < gt->rank ? (uint32_t)gt->shape[dim] : 1;
  uint64_t inner = 1;
  if (dim >= 0)
    for (uint32_t k = (uint32_t)dim + 1; k < gt->rank; k++) inner *= (uint64_t)gt->shape[k];
  float *scales = etpu_calloc(nch ? nch : 1, sizeof *scales);
  int64_t *zps = etpu_calloc(nch ? nch : 1, sizeof *zps);
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
  ETPU_TRY(const_floats(m, t, &f, &n));
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
    /* In float32, by the reciprocal, as TensorFlow's bias quantizer does:
     * near the 2^30 a widened dead channel's bias reaches, float32's step is
     * 128, and a double division would land elsewhere. */
    const float inv = (float)(1.0 / (double)scales[ns == 1 ? 0 : k]);
    const float fv = f[k] * inv;
    double v = round((double)fv);
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

/* Range of a float constant's values. */
static etpu_status const_range(const etpu_model *m, uint32_t t, float *lo, float *hi) {
  const float *f;
  uint64_t n;
  ETPU_TRY(const_floats(m, t, &f, &n));
  float mn = 0, mx = 0;
  for (uint64_t k = 0; k < n; k++) {
    if (f[k] < mn) mn = f[k];
    if (f[k] > mx) mx = f[k];
  }
  *lo = mn;
  *hi = mx;
  return ETPU_OK;
}

/* A float constant an op reads as an activation-like input: int8 with the
 * given parameters (p.set) or asymmetric over its own values. */
static etpu_status quant_other_const(qctx *q, uint32_t t, qparam p) {
  const float *f;
  uint64_t n;
  ETPU_TRY(const_floats(q->m, t, &f, &n));
  if (!p.set) {
    float mn, mx;
    ETPU_TRY(const_range(q->m, t, &mn, &mx));
    p = asym_params(mn, mx);
  }
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

static etpu_status copy_model(const etpu_model *m, etpu_model **out) {
  void *buf;
  size_t size;
  ETPU_TRY(etpu_model_write_buffer(m, 0, &buf, &size));
  etpu_status st = etpu_model_open_buffer(buf, size, m->label, ETPU_OPEN_COPY, out);
  etpu_free(buf);
  return st;
}

/* Append a 2-tensor op and move it to position `at`. */
static etpu_status insert_op(etpu_model *m, int32_t code, int32_t version, int32_t in, int32_t out, uint32_t at) {
  int32_t idx;
  ETPU_TRY(etpu_model_add_op(m, 0, code, NULL, version, 1, &in, 1, &out, 0, NULL, NULL, 0, &idx));
  etpu_gsubgraph *g = &m->subgraphs[0];
  etpu_gop op = g->ops[idx];
  memmove(&g->ops[at + 1], &g->ops[at], ((size_t)idx - at) * sizeof op);
  g->ops[at] = op;
  etpu_graph_link(m, 0);
  return ETPU_OK;
}

/* A new tensor shaped like `like`, named like it plus suffix. */
static etpu_status add_like(etpu_model *m, uint32_t like, const char *suffix, int32_t type, const qparam *p,
                            int32_t *idx_out) {
  const etpu_gtensor *t = &m->subgraphs[0].tensors[like];
  char name[512];
  snprintf(name, sizeof name, "%.480s%s", t->name, suffix);
  float s = p ? p->scale : 0;
  int64_t z = p ? p->zp : 0;
  etpu_quant_params qp = {1, &s, &z, 0};
  return etpu_model_add_tensor(m, 0, name, type, t->rank, t->shape, p ? &qp : NULL, NULL, 0, idx_out);
}

/* Make room in the per-tensor arrays for tensors added by the rewrite. */
static etpu_status grow(qctx *q) {
  uint32_t n = q->m->subgraphs[0].ntensors;
  if (n <= q->cap) return ETPU_OK;
  uint32_t cap = n + 64;
#define GROW_(field)                                                         \
  do {                                                                       \
    void *nv = etpu_realloc(q->field, (size_t)cap * sizeof *q->field);      \
    if (!nv) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory"); \
    q->field = nv;                                                           \
    memset(q->field + q->cap, 0, (size_t)(cap - q->cap) * sizeof *q->field); \
  } while (0)
  GROW_(p);
  GROW_(done);
  GROW_(fop);
  GROW_(isq);
  GROW_(src);
  GROW_(parent);
  GROW_(lo);
  GROW_(hi);
  GROW_(fixed);
#undef GROW_
  for (uint32_t t = q->cap; t < cap; t++) {
    q->src[t] = (int32_t)t;
    q->parent[t] = (int32_t)t;
  }
  q->cap = cap;
  return ETPU_OK;
}

/* Rewire input k of op i to tensor t. */
static etpu_status set_op_input(etpu_model *m, uint32_t i, uint32_t k, int32_t t) {
  etpu_gop *op = &m->subgraphs[0].ops[i];
  int32_t *v = etpu_arena_dup(&m->arena, op->inputs, op->ninputs * sizeof(int32_t));
  if (!v) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  v[k] = t;
  op->inputs = v;
  etpu_graph_link(m, 0);
  return ETPU_OK;
}

static float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31u, mant = h & 1023u;
  float v;
  if (e == 0) v = ldexpf((float)mant, -24);
  else if (e == 31) v = mant ? NAN : INFINITY;
  else v = ldexpf((float)(mant | 1024u), (int)e - 25);
  return sign ? -v : v;
}

/* float16 weights (TensorFlow's float16 quantization: a FLOAT16 constant
 * read through DEQUANTIZE): the DEQUANTIZE goes, its output becomes the
 * float32 constant, which is then quantized like any float weight. */
static etpu_status fold_fp16(etpu_model *m) {
  etpu_gsubgraph *g = &m->subgraphs[0];
  for (uint32_t i = g->nops; i-- > 0;) {
    const etpu_gop *op = &g->ops[i];
    if (etpu_graph_op_code(m, op) != ETPU_OP_DEQUANTIZE || op->ninputs != 1 || op->noutputs != 1) continue;
    int32_t in = op->inputs[0], out = op->outputs[0];
    const etpu_gtensor *ti = &g->tensors[in];
    size_t sz;
    const uint8_t *d = etpu_graph_tensor_data(m, ti, &sz);
    uint64_t n;
    if (ti->type != ETPU_FLOAT16 || !d || g->tensors[out].type != ETPU_FLOAT32 ||
        !etpu_shape_elements(ti->rank, ti->shape, &n) || n * 2 != sz)
      continue;
    float *f = etpu_malloc(n ? n * sizeof *f : 1);
    if (!f) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
    for (uint64_t k = 0; k < n; k++) f[k] = half_to_float(etpu_rd16(d + 2 * k));
    etpu_status st = etpu_model_remove_op(m, 0, i);
    if (st == ETPU_OK) st = etpu_model_set_tensor_data(m, 0, (uint32_t)out, f, (size_t)n * sizeof *f);
    etpu_free(f);
    ETPU_TRY(st);
    g = &m->subgraphs[0];
  }
  return ETPU_OK;
}

/* Why op i cannot be quantized to int8, or NULL if it can. */
static const char *why_float(const qctx *q, uint32_t i) {
  const etpu_model *m = q->m;
  const etpu_gsubgraph *g = &m->subgraphs[0];
  const etpu_gop *op = &g->ops[i];
  int32_t code = etpu_graph_op_code(m, op);
  const op_rule *r = find_rule(code);
  bool any_float = false;
  for (uint32_t k = 0; k < op->ninputs; k++) {
    int32_t t = op->inputs[k];
    if (t < 0) continue;
    if (g->tensors[t].is_variable) return "it keeps state in a variable tensor, which etpu's quantizer does not handle";
    any_float |= g->tensors[t].type == ETPU_FLOAT32;
  }
  for (uint32_t k = 0; k < op->noutputs; k++) any_float |= g->tensors[op->outputs[k]].type == ETPU_FLOAT32;
  if (!any_float) return NULL; /* nothing to quantize (an int32 shape op, ...) */
  if (!r) return "no int8 rule for this op in etpu's quantizer (TFLITE.md §5 lists the int8 ops)";
  if (r->kind == K_WEIGHTS) {
    if ((uint32_t)r->act >= op->ninputs || (uint32_t)r->w >= op->ninputs || op->inputs[r->act] < 0 ||
        op->inputs[r->w] < 0)
      return "missing input or weights";
    if (!is_float_act(m, op->inputs[r->act])) return "its input is not a float32 activation";
    int32_t w = op->inputs[r->w];
    if (g->tensors[w].type != ETPU_FLOAT32)
      return "weights are not float32 (a hybrid, dynamic-range quantized model: quantize its float original)";
    if (!is_const(m, w)) return "weights are not constant (computed at run time)";
    if ((uint32_t)r->b < op->ninputs && op->inputs[r->b] >= 0 &&
        (g->tensors[op->inputs[r->b]].type != ETPU_FLOAT32 || !is_const(m, op->inputs[r->b])))
      return "the bias is not a float32 constant";
  }
  for (uint32_t k = 0; k < op->noutputs; k++) {
    int32_t t = op->outputs[k];
    if (r->kind != K_INPUTS && g->tensors[t].type != ETPU_FLOAT32)
      return "an output is not float32";
  }
  return NULL;
}

/* Parameters-sharing classes (union-find with path halving). */
static int32_t find(qctx *q, int32_t t) {
  while (q->parent[t] != t) {
    q->parent[t] = q->parent[q->parent[t]];
    t = q->parent[t];
  }
  return t;
}

static bool same_param(qparam a, qparam b) { return a.scale == b.scale && a.zp == b.zp; }

/* Join the classes of a and b; false (nothing joined) if both carry
 * different fixed parameters. */
static bool join(qctx *q, int32_t a, int32_t b) {
  a = find(q, a);
  b = find(q, b);
  if (a == b) return true;
  if (q->fixed[a].set && q->fixed[b].set && !same_param(q->fixed[a], q->fixed[b])) return false;
  q->parent[b] = a;
  if (q->lo[b] < q->lo[a]) q->lo[a] = q->lo[b];
  if (q->hi[b] > q->hi[a]) q->hi[a] = q->hi[b];
  if (!q->fixed[a].set) q->fixed[a] = q->fixed[b];
  return true;
}

/* Tensor t's calibrated range; none (no sample reached it and the model
 * records none) gives the empty range [+inf, -inf], which a class's union
 * ignores and no_range finds. */
static void range_of(const qctx *q, uint32_t t, float *lo, float *hi) {
  int32_t s = q->src[t];
  float mn = INFINITY, mx = -INFINITY;
  if (s >= 0 && !etpu_calibration_range(q->cal, (uint32_t)s, &mn, &mx)) mn = INFINITY, mx = -INFINITY;
  *lo = mn;
  *hi = mx;
}

/* Refuse to quantize when an int8 activation's parameters would come from no
 * range at all (its class neither fixed nor holding any calibrated or
 * recorded range): it would silently become scale 1, zero point -128, every
 * value 0. Names the first few such tensors and counts them all. */
static etpu_status no_range(qctx *q) {
  const etpu_gsubgraph *g = &q->m->subgraphs[0];
  char list[1024];
  size_t len = 0;
  uint32_t missing = 0;
  for (uint32_t t = 0; t < g->ntensors; t++) {
    if (!q->isq[t]) continue;
    int32_t r = find(q, (int32_t)t);
    if (q->fixed[r].set || q->lo[r] <= q->hi[r]) continue;
    if (missing++ < 5 && len < sizeof list - 160)
      len += (size_t)snprintf(list + len, sizeof list - len, "%s t%d '%.80s'", missing > 1 ? "," : "", q->src[t],
                              g->tensors[t].name);
  }
  if (!missing) return ETPU_OK;
  return etpu_fail(ETPU_INVALID_STATE,
                   "%s: %u activation tensor(s) have no range (no calibration sample reached them and the model "
                   "records none), so their int8 parameters would be made up:%s%s; run calibration samples",
                   q->m->label, missing, list, missing > 5 ? ", ..." : "");
}

/* Insert `code` (QUANTIZE or DEQUANTIZE) reading tensor t before op `at`,
 * into a new tensor of `type`; return the new tensor. */
static etpu_status convert_before(qctx *q, uint32_t at, int32_t t, int32_t code, int32_t type, const char *suffix,
                                  int32_t *nt_out) {
  int32_t nt;
  ETPU_TRY(add_like(q->m, (uint32_t)t, suffix, type, NULL, &nt));
  ETPU_TRY(grow(q));
  ETPU_TRY(insert_op(q->m, code, code == ETPU_OP_DEQUANTIZE ? 2 : 1, t, nt, at));
  q->src[nt] = q->src[t];
  *nt_out = nt;
  return ETPU_OK;
}

/* Op domains during the rewrite. */
enum { D_INT8 = 0, D_FLOAT = 1, D_CONVERT = 2 };

/* Insert a conversion op before op *i (dom shifted to match, *i and *n
 * advanced past it). */
static etpu_status convert_at(qctx *q, uint8_t *dom, uint32_t *n, uint32_t *i, int32_t t, int32_t code,
                              const char *suffix, int32_t *nt_out) {
  ETPU_TRY(convert_before(q, *i, t, code, ETPU_FLOAT32, suffix, nt_out));
  memmove(&dom[*i + 1], &dom[*i], (size_t)(*n - *i) * sizeof *dom);
  dom[*i] = D_CONVERT;
  (*n)++;
  (*i)++;
  return ETPU_OK;
}

/* --allow-float: ops kept in float read float copies of int8 tensors
 * (DEQUANTIZE inserted), int8 ops read int8 copies of float results
 * (QUANTIZE inserted); each copy is made once and shared by the later
 * readers of the same domain. */
static etpu_status insert_boundaries(qctx *q, uint8_t *dom, uint32_t *nops_io) {
  etpu_model *m = q->m;
  uint32_t n = *nops_io;
  /* A graph input only float ops read stays float (no int8 round trip). */
  for (uint32_t k = 0; k < m->subgraphs[0].ninputs; k++) {
    int32_t t = m->subgraphs[0].inputs[k];
    bool float_only = is_float_act(m, t);
    for (uint32_t i = 0; float_only && i < n; i++)
      for (uint32_t j = 0; j < m->subgraphs[0].ops[i].ninputs; j++)
        if (m->subgraphs[0].ops[i].inputs[j] == t && dom[i] != D_FLOAT) float_only = false;
    if (float_only) q->fop[t] = true;
  }
  for (uint32_t i = 0; i < n; i++) {
    if (dom[i] == D_CONVERT) continue;
    bool fl = dom[i] == D_FLOAT;
    for (uint32_t k = 0; k < m->subgraphs[0].ops[i].ninputs; k++) {
      int32_t t = m->subgraphs[0].ops[i].inputs[k];
      if (!is_float_act(m, t) || fl == q->fop[t]) continue;
      int32_t nt;
      ETPU_TRY(convert_at(q, dom, &n, &i, t, fl ? ETPU_OP_DEQUANTIZE : ETPU_OP_QUANTIZE,
                     fl ? "_dequantized" : "_quantized", &nt));
      q->fop[nt] = fl;
      for (uint32_t j = i; j < n; j++) {
        if (dom[j] != (fl ? D_FLOAT : D_INT8)) continue;
        for (uint32_t kk = 0; kk < m->subgraphs[0].ops[j].ninputs; kk++)
          if (m->subgraphs[0].ops[j].inputs[kk] == t) ETPU_TRY(set_op_input(m, j, kk, nt));
      }
    }
    if (fl)
      for (uint32_t k = 0; k < m->subgraphs[0].ops[i].noutputs; k++) q->fop[m->subgraphs[0].ops[i].outputs[k]] = true;
  }
  *nops_io = n;
  return ETPU_OK;
}

static qparam class_param(qctx *q, int32_t t) {
  int32_t r = find(q, t);
  return q->fixed[r].set ? q->fixed[r] : asym_params(q->lo[r], q->hi[r]);
}

static etpu_status rewrite(qctx *q, uint8_t **dom_out) {
  etpu_model *m = q->m;
  const etpu_quantize_options *o = q->o;
  ETPU_TRY(fold_fp16(m));
  etpu_gsubgraph *g = &m->subgraphs[0];
  uint32_t nops = g->nops;
  size_t cap = (size_t)nops + 1;
  for (uint32_t i = 0; i < nops; i++) cap += g->ops[i].ninputs;
  uint8_t *dom = etpu_calloc(cap, 1);
  if (!dom) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  *dom_out = dom;
  /* 1. Decide every op, collecting all the ops that cannot be quantized. */
  char list[4096];
  size_t len = 0;
  uint32_t bad = 0;
  for (uint32_t i = 0; i < nops; i++) {
    const char *why = why_float(q, i);
    if (!why) continue;
    dom[i] = D_FLOAT;
    bad++;
    if (len < sizeof list - 200)
      len += (size_t)snprintf(list + len, sizeof list - len, "\n  op %u %s: %s", i,
                              etpu_graph_op_name(m, &g->ops[i]), why);
  }
  if (bad && !o->allow_float)
    return etpu_fail(ETPU_UNSUPPORTED,
                     "%s: %u op(s) cannot be quantized to int8 (integer-only mode; --allow-float keeps them in "
                     "float between DEQUANTIZE and QUANTIZE):%s",
                     m->label, bad, list);
  if (bad) ETPU_TRY(insert_boundaries(q, dom, &nops));
  g = &m->subgraphs[0];
  ETPU_TRY(grow(q));
  /* 2. int8 activations, fixed outputs, classes of shared parameters. */
  for (uint32_t t = 0; t < g->ntensors; t++) {
    q->isq[t] = is_float_act(m, (int32_t)t) && !q->fop[t];
    if (q->isq[t]) range_of(q, t, &q->lo[t], &q->hi[t]);
  }
  for (uint32_t i = 0; i < nops; i++) {
    const op_rule *r = dom[i] == D_INT8 ? find_rule(etpu_graph_op_code(m, &g->ops[i])) : NULL;
    if (r && r->kind == K_FIXED)
      for (uint32_t k = 0; k < g->ops[i].noutputs; k++)
        q->fixed[g->ops[i].outputs[k]] = (qparam){true, r->fixed_scale, r->fixed_zp};
  }
  for (uint32_t i = 0; i < nops; i++) {
    const op_rule *r = dom[i] == D_INT8 ? find_rule(etpu_graph_op_code(m, &g->ops[i])) : NULL;
    if (!r || r->kind != K_SAME) continue;
    int32_t first = -1;
    for (uint32_t k = 0; k < g->ops[i].noutputs; k++) {
      int32_t t = g->ops[i].outputs[k];
      if (!q->isq[t]) continue;
      if (first < 0) first = t;
      else (void)join(q, first, t); /* outputs are never fixed here */
    }
    for (uint32_t k = 0; k < g->ops[i].ninputs; k++) {
      int32_t t = g->ops[i].inputs[k];
      if (t < 0 || g->tensors[t].type != ETPU_FLOAT32 || g->tensors[t].is_variable) continue;
      if (is_const(m, t)) {
        ETPU_TRY(const_range(m, (uint32_t)t, &q->lo[t], &q->hi[t]));
      } else if (!q->isq[t]) {
        continue;
      }
      if (first < 0) {
        first = t;
      } else if (!join(q, first, t)) {
        /* Two fixed parameter sets meet (e.g. SOFTMAX and TANH outputs
         * concatenated): the one place a requantization is unavoidable. */
        int32_t nt;
        ETPU_TRY(convert_at(q, dom, &nops, &i, t, ETPU_OP_QUANTIZE, "_requantized", &nt));
        g = &m->subgraphs[0];
        ETPU_TRY(grow(q));
        q->isq[nt] = true;
        q->lo[nt] = q->lo[find(q, t)];
        q->hi[nt] = q->hi[find(q, t)];
        (void)join(q, first, nt);
        ETPU_TRY(set_op_input(m, i, k, nt));
        g = &m->subgraphs[0];
      }
    }
  }
  ETPU_TRY(no_range(q));
  for (uint32_t t = 0; t < g->ntensors; t++)
    if (q->isq[t]) q->p[t] = class_param(q, (int32_t)t);
  /* 3. Constants: weights and bias of conv/depthwise/FC/transpose conv, then
   * any other float constant an int8 op reads; op versions. */
  for (uint32_t i = 0; i < nops; i++) {
    if (dom[i] != D_INT8) continue;
    const etpu_gop *op = &g->ops[i];
    int32_t code = etpu_graph_op_code(m, op);
    const op_rule *r = find_rule(code);
    if (!r) continue; /* touches no float tensor */
    int32_t bt = r->kind == K_WEIGHTS && (uint32_t)r->b < op->ninputs ? op->inputs[r->b] : -1;
    if (r->kind == K_WEIGHTS && q->done[op->inputs[r->w]] && bt >= 0 && !q->done[bt]) {
      /* Weights shared with an earlier op: the bias follows their scales. */
      const etpu_gquant *wq = g->tensors[op->inputs[r->w]].quant;
      ETPU_TRY(quant_bias(q, (uint32_t)bt, q->p[op->inputs[r->act]].scale, wq->scale, wq->count));
      g = &m->subgraphs[0];
      op = &g->ops[i];
    }
    if (r->kind == K_WEIGHTS && !q->done[op->inputs[r->w]]) {
      float *ws = NULL;
      uint32_t nws = 0;
      const float *bias = NULL;
      uint64_t nbias = 0;
      if (bt >= 0 && !q->done[bt]) ETPU_TRY(const_floats(m, (uint32_t)bt, &bias, &nbias));
      float in_scale = q->p[op->inputs[r->act]].scale;
      ETPU_TRY(quant_weights(q, (uint32_t)op->inputs[r->w], r->wdim, bias, nbias, in_scale, &ws, &nws));
      etpu_status st = ETPU_OK;
      if (bt >= 0 && !q->done[bt]) st = quant_bias(q, (uint32_t)bt, in_scale, ws, nws);
      etpu_free(ws);
      ETPU_TRY(st);
      g = &m->subgraphs[0];
      op = &g->ops[i];
    }
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t < 0 || q->done[t] || g->tensors[t].type != ETPU_FLOAT32 || !is_const(m, t)) continue;
      qparam none = {false, 0, 0};
      ETPU_TRY(quant_other_const(q, (uint32_t)t, r->kind == K_SAME ? class_param(q, t) : none));
      g = &m->subgraphs[0];
      op = &g->ops[i];
    }
    int32_t version = m->opcodes[op->opcode].version;
    uint32_t idx;
    ETPU_TRY(etpu_graph_opcode(m, code, NULL, version > r->version ? version : r->version, &idx));
    g->ops[i].opcode = idx;
  }
  /* 4. Activations become int8. */
  for (uint32_t t = 0; t < g->ntensors; t++) {
    if (!q->isq[t] || q->done[t]) continue;
    float s = q->p[t].scale;
    int64_t z = q->p[t].zp;
    g->tensors[t].type = ETPU_INT8;
    ETPU_TRY(set_quant(m, t, 1, &s, &z, 0));
  }
  /* 5. Static shapes: the Edge TPU (and etpu compile) refuse a dynamic
   * batch, which TensorFlow's converter writes as shape_signature -1; the
   * shapes themselves (batch 1) are kept. A dynamic graph's placeholders
   * (dilated_conv: the space/batch and conv outputs of a 1x1 stored input)
   * take the shapes calibration ran with, so that the static model is the
   * graph at the stored input shape. */
  const etpu_gsubgraph *fg = &q->cal->model->subgraphs[0];
  for (uint32_t t = 0; t < g->ntensors; t++) {
    etpu_gtensor *gt = &g->tensors[t];
    uint32_t rank = 0;
    const int32_t *dims = NULL;
    bool dynamic = false;
    for (uint32_t d = 0; gt->has_signature && d < gt->sig_rank; d++) dynamic |= gt->shape_signature[d] < 0;
    if (dynamic && t < fg->ntensors && !strcmp(fg->tensors[t].name, gt->name) &&
        etpu_interp_tensor_shape(q->cal->interp, t, &rank, &dims) == ETPU_OK && rank == gt->rank &&
        memcmp(dims, gt->shape, rank * sizeof *dims) != 0) {
      int32_t *shape = etpu_arena_dup(&m->arena, dims, rank * sizeof *dims);
      if (!shape) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
      gt->shape = shape;
    }
    gt->has_signature = false;
  }
  /* 6. Graph inputs and outputs (outputs of float ops stay float). */
  if (o->io == ETPU_QUANT_IO_INT8) return ETPU_OK;
  uint32_t nin = g->ninputs, nout = g->noutputs;
  int32_t *ins = etpu_calloc(nin + nout + 1, sizeof *ins);
  if (!ins) return etpu_fail(ETPU_OUT_OF_MEMORY, "quantize: out of memory");
  int32_t *outs = ins + nin;
  int32_t io_type = o->io == ETPU_QUANT_IO_FLOAT ? ETPU_FLOAT32 : ETPU_UINT8;
  const char *suffix = io_type == ETPU_FLOAT32 ? "_float" : "_uint8";
  etpu_status st = ETPU_OK;
  for (uint32_t i = 0; st == ETPU_OK && i < nin; i++) {
    int32_t t = m->subgraphs[0].inputs[i], nt = t;
    if (q->isq[t]) {
      qparam p = q->p[t];
      if (io_type == ETPU_UINT8) p.zp += 128;
      st = add_like(m, (uint32_t)t, suffix, io_type, io_type == ETPU_FLOAT32 ? NULL : &p, &nt);
      if (st == ETPU_OK) st = insert_op(m, ETPU_OP_QUANTIZE, 1, nt, t, i);
    }
    ins[i] = nt;
  }
  for (uint32_t i = 0; st == ETPU_OK && i < nout; i++) {
    int32_t t = m->subgraphs[0].outputs[i], nt = t;
    if (q->isq[t]) {
      qparam p = q->p[t];
      if (io_type == ETPU_UINT8) p.zp += 128;
      st = add_like(m, (uint32_t)t, suffix, io_type, io_type == ETPU_FLOAT32 ? NULL : &p, &nt);
      int32_t code = io_type == ETPU_FLOAT32 ? ETPU_OP_DEQUANTIZE : ETPU_OP_QUANTIZE;
      if (st == ETPU_OK) st = insert_op(m, code, code == ETPU_OP_DEQUANTIZE ? 2 : 1, t, nt, m->subgraphs[0].nops);
    }
    outs[i] = nt;
  }
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, nin, ins, nout, outs);
  etpu_free(ins);
  return st;
}

etpu_status etpu_quantize(const etpu_model *model, const etpu_calibration *cal, const etpu_quantize_options *o,
                          etpu_model **model_out) {
  if (!model || !cal || !o || !model_out || cal->model != model)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_quantize: NULL argument, or a calibration of another model");
  if (cal->samples == 0 && cal->recorded == 0)
    return etpu_fail(ETPU_INVALID_STATE, "%s: no calibration sample was run, and the model records no ranges",
                     model->label);
  if (model->nsubgraphs != 1)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: %u subgraphs; only single-subgraph models are quantized", model->label,
                     model->nsubgraphs);
  etpu_model *m = NULL;
  ETPU_TRY(copy_model(model, &m));
  qctx q;
  memset(&q, 0, sizeof q);
  q.m = m;
  q.cal = cal;
  q.o = o;
  uint8_t *dom = NULL;
  etpu_status st = grow(&q);
  if (st == ETPU_OK) st = rewrite(&q, &dom);
  if (st == ETPU_OK) st = etpu_model_validate(m);
  etpu_free(dom);
  etpu_free(q.p);
  etpu_free(q.done);
  etpu_free(q.fop);
  etpu_free(q.isq);
  etpu_free(q.src);
  etpu_free(q.parent);
  etpu_free(q.lo);
  etpu_free(q.hi);
  etpu_free(q.fixed);
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return st;
  }
  *model_out = m;
  return ETPU_OK;
}
