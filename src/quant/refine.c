/*
 * refine.c — layer-by-layer refinement of a model etpu_quantize made, on the
 * calibration samples: GPTQ weight rounding and empirical bias correction.
 *
 * Both walk the CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED ops in graph
 * order, each seeing the int8 model with every earlier layer already
 * refined, so that a layer answers for the error its inputs really carry.
 *
 * GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for
 * Generative Pre-trained Transformers", 2022, after Optimal Brain
 * Quantization): rounding each weight to nearest ignores how the errors of
 * a channel's weights add up on real inputs. A 3x3 edge filter of MobileNet
 * v1 with taps of +-5.5 and a sum of 0.04, fed inputs whose mean is 3.6,
 * loses its whole DC response when each tap is rounded alone. With H the
 * Gram matrix of the layer's input patches (sum of x x^T over every output
 * position of every sample), the output error of a channel is dw^T H dw;
 * GPTQ rounds the weights one at a time and moves the rounding error onto
 * the weights not yet rounded, along the rows of the Cholesky factor of
 * H^-1, so that they compensate for it. Scales stay as etpu_quantize chose
 * them, so biases and every other parameter are unchanged. H is summed
 * exactly in int64 from the int8 inputs minus their zero point (the input
 * scale cancels out of GPTQ), so it does not depend on summation order.
 *
 * Bias correction: quantization error is not zero-mean after a layer:
 * rounding the inputs and weights of a conv, then clipping at RELU/RELU6,
 * shifts each output channel's mean, and the shifts compound through a deep
 * net. Each output channel's mean error (dequantized int8 minus float, over
 * every value of every sample) is subtracted from its int32 bias (Nagel et
 * al., "Data-Free Quantization Through Weight Equalization and Bias
 * Correction", 2019, empirical variant).
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "model/fb.h"
#include "model/graph.h"
#include "model/schema_gen.h"
#include "quant/quant_internal.h"

/* Largest patch (weights per output channel) GPTQ takes on: its matrices
 * hold K x K doubles (32 MiB each at 2048). Larger layers are rounded to
 * nearest, and the report counts them. */
#define GPTQ_MAX_K 2048

/* GPTQ's dampening: a fraction of the mean diagonal added to H, so that
 * directions the samples never excite cost something. */
#define GPTQ_DAMP 0.01

/* A refinable layer of the quantized model, with its float twin. */
typedef struct layer {
  int32_t code;
  uint32_t index; /* op index */
  const etpu_gop *op;
  int32_t in, w, b, out;      /* tensor indices (b = -1: no bias) */
  const etpu_gtensor *qin, *qw, *qout, *fw;
  const float *fwd;           /* the float model's weights (NULL: not float32, no GPTQ) */
  bool window;                /* geometry known: GPTQ can take the layer */
  /* Geometry: K weights per output channel; groups of channels sharing one
   * H (conv, FC: 1; depthwise: one per input channel). */
  uint32_t k, groups, nout;
  /* conv/depthwise window */
  int32_t ih, iw, ic, oh, ow, kh, kw, sh, sw, dh, dw, ph, pw, mult;
} layer;

/* Padding offset as TFLite computes it from the sizes (ComputePadding). */
static int32_t pad_of(int64_t padding, int32_t in, int32_t out, int32_t k, int32_t stride, int32_t dil) {
  if (padding != 0 /* SAME */) return 0;
  int64_t total = (int64_t)(out - 1) * stride + (int64_t)(k - 1) * dil + 1 - in;
  return total > 0 ? (int32_t)(total / 2) : 0;
}

/* The weights' geometry (K per channel, groups, window) of layer L. */
static bool window_of(layer *L, const etpu_gop *o) {
  const etpu_gtensor *wt = L->qw;
  int32_t code = L->code;
  if (code == ETPU_OP_FULLY_CONNECTED) {
    if (wt->rank != 2 || wt->shape[0] <= 0 || wt->shape[1] <= 0) return false;
    L->nout = (uint32_t)wt->shape[0];
    L->k = (uint32_t)wt->shape[1];
    L->groups = 1;
    return true;
  }
  if (wt->rank != 4 || L->qin->rank != 4 || L->qout->rank != 4 || !o->options) return false;
  bool dw = code == ETPU_OP_DEPTHWISE_CONV_2D;
  L->ih = L->qin->shape[1];
  L->iw = L->qin->shape[2];
  L->ic = L->qin->shape[3];
  L->oh = L->qout->shape[1];
  L->ow = L->qout->shape[2];
  L->kh = wt->shape[1];
  L->kw = wt->shape[2];
  int64_t padding = etpu_fbt_int(o->options, dw ? ETPU_F_DepthwiseConv2DOptions_padding : ETPU_F_Conv2DOptions_padding);
  int64_t sh = etpu_fbt_int(o->options, dw ? ETPU_F_DepthwiseConv2DOptions_stride_h : ETPU_F_Conv2DOptions_stride_h);
  int64_t sw = etpu_fbt_int(o->options, dw ? ETPU_F_DepthwiseConv2DOptions_stride_w : ETPU_F_Conv2DOptions_stride_w);
  int64_t dh = etpu_fbt_int(o->options, dw ? ETPU_F_DepthwiseConv2DOptions_dilation_h_factor
                                           : ETPU_F_Conv2DOptions_dilation_h_factor);
  int64_t dwf = etpu_fbt_int(o->options, dw ? ETPU_F_DepthwiseConv2DOptions_dilation_w_factor
                                            : ETPU_F_Conv2DOptions_dilation_w_factor);
  if (sh < 1 || sw < 1 || dh < 1 || dwf < 1 || sh > 65536 || sw > 65536 || dh > 65536 || dwf > 65536 ||
      L->ih <= 0 || L->iw <= 0 || L->ic <= 0 || L->oh <= 0 || L->ow <= 0 || L->kh <= 0 || L->kw <= 0)
    return false;
  L->sh = (int32_t)sh;
  L->sw = (int32_t)sw;
  L->dh = (int32_t)dh;
  L->dw = (int32_t)dwf;
  L->ph = pad_of(padding, L->ih, L->oh, L->kh, L->sh, L->dh);
  L->pw = pad_of(padding, L->iw, L->ow, L->kw, L->sw, L->dw);
  if (dw) {
    int32_t oc = wt->shape[3];
    if (wt->shape[0] != 1 || oc <= 0 || oc % L->ic != 0 || L->qout->shape[3] != oc) return false;
    if ((int64_t)L->kh * L->kw > GPTQ_MAX_K) return false;
    L->mult = oc / L->ic;
    L->nout = (uint32_t)oc;
    L->k = (uint32_t)(L->kh * L->kw);
    L->groups = (uint32_t)L->ic;
  } else {
    if (wt->shape[3] != L->ic || L->qout->shape[3] != wt->shape[0]) return false;
    if ((int64_t)L->kh * L->kw * L->ic > GPTQ_MAX_K) return false;
    L->nout = (uint32_t)wt->shape[0];
    L->k = (uint32_t)(L->kh * L->kw * L->ic);
    L->groups = 1;
  }
  return true;
}

/* Is op i of q a layer bias correction can refine (and GPTQ, when L->fwd
 * and L->window are set)? Fills *L. */
static bool layer_of(const etpu_calibration *c, const etpu_model *q, uint32_t i, layer *L) {
  const etpu_gsubgraph *qg = &q->subgraphs[0], *fg = &c->model->subgraphs[0];
  const etpu_gop *o = &qg->ops[i];
  int32_t code = etpu_graph_op_code(q, o);
  if ((code != ETPU_OP_CONV_2D && code != ETPU_OP_DEPTHWISE_CONV_2D && code != ETPU_OP_FULLY_CONNECTED) ||
      o->ninputs < 2 || o->noutputs != 1 || o->inputs[0] < 0 || o->inputs[1] < 0 || o->outputs[0] < 0)
    return false;
  memset(L, 0, sizeof *L);
  L->code = code;
  L->index = i;
  L->op = o;
  L->in = o->inputs[0];
  L->w = o->inputs[1];
  L->b = o->ninputs > 2 ? o->inputs[2] : -1;
  L->out = o->outputs[0];
  if ((uint32_t)L->out >= fg->ntensors || (uint32_t)L->w >= fg->ntensors) return false;
  L->qin = &qg->tensors[L->in];
  L->qw = &qg->tensors[L->w];
  L->qout = &qg->tensors[L->out];
  L->fw = &fg->tensors[L->w];
  /* The float model's output of the same index and name (etpu_quantize
   * keeps indices), an int8 per-tensor output. */
  if (strcmp(fg->tensors[L->out].name, L->qout->name) != 0 || L->qout->type != ETPU_INT8 || !L->qout->quant ||
      L->qout->quant->count != 1 || L->qout->rank == 0)
    return false;
  /* GPTQ also needs an int8 per-tensor input, the float32 weights of the
   * same name (not float16 behind a DEQUANTIZE), used by this op alone (a
   * rounding fitted to one op's inputs would serve another badly), and the
   * window geometry. */
  size_t fsz, qsz;
  etpu_tensor_info wi;
  if (L->qin->type == ETPU_INT8 && L->qin->quant && L->qin->quant->count == 1 &&
      strcmp(L->fw->name, L->qw->name) == 0 && L->qw->type == ETPU_INT8 && L->qw->quant &&
      L->fw->type == ETPU_FLOAT32 && L->fw->rank == L->qw->rank &&
      (L->qw->quant->count == 1 || L->qw->quant->count == (uint32_t)L->qout->shape[L->qout->rank - 1]) &&
      etpu_model_tensor(q, 0, (uint32_t)L->w, &wi) == ETPU_OK && wi.consumer_count == 1) {
    L->fwd = (const float *)(const void *)etpu_graph_tensor_data(c->model, L->fw, &fsz);
    if (L->fwd && (!etpu_graph_tensor_data(q, L->qw, &qsz) || fsz != qsz * sizeof(float))) L->fwd = NULL;
  }
  if (L->fwd) L->window = window_of(L, o);
  return true;
}

/* An interpreter of the int8 model being refined, every tensor kept; the
 * litert kernels, the faster ones. */
static etpu_status quant_interp(const etpu_model *q, etpu_interp **out) {
  etpu_interp_options io;
  etpu_interp_options_init(&io);
  io.profile = ETPU_PROFILE_LITERT;
  io.keep_all_tensors = true;
  *out = NULL;
  etpu_status st = etpu_interp_create(q, &io, out);
  if (st == ETPU_OK) st = etpu_interp_plan(*out, NULL);
  return st;
}

/* The error for a layer output whose float twin is missing or of another
 * size: the model was not made by etpu_quantize from cal's model. */
static etpu_status no_twin(int32_t t, const char *name) {
  return etpu_fail(ETPU_INVALID_ARGUMENT,
                   "refinement: tensor %d '%s' of the quantized model has no float twin of its size (not made by "
                   "etpu_quantize from this model?)",
                   t, name);
}

/* ---- GPTQ ------------------------------------------------------------------ */

/* The Gram matrices of a layer's input patches (upper triangles, K x K per
 * group), summed exactly: products of int8 values minus a zero point are at
 * most 255^2, so 32768 patches fit an int32 sum, which the compiler
 * vectorizes; every 32768 patches it is flushed into the int64 total. */
typedef struct gram {
  uint32_t k, groups;
  int64_t *h;
  int32_t *h32;
  int16_t *patch;
  const int8_t **tap; /* conv/depthwise: the input pixel under each tap, NULL in the padding */
  uint32_t pending;   /* patches in h32 */
  uint64_t rows;      /* patches in all */
} gram;

#define GRAM_FLUSH 32768

static void gram_flush(gram *g) {
  size_t n = (size_t)g->groups * g->k * g->k;
  for (size_t i = 0; i < n; i++) {
    g->h[i] += g->h32[i];
    g->h32[i] = 0;
  }
  g->pending = 0;
}

/* h32 += the outer product of the patch (upper triangle). */
static void gram_add(int32_t *h32, const int16_t *p, uint32_t K) {
  for (uint32_t a = 0; a < K; a++) {
    if (!p[a]) continue;
    int32_t *row = h32 + (size_t)a * K;
    const int32_t pa = p[a];
    for (uint32_t b = a; b < K; b++) row[b] += pa * p[b];
  }
}

/* One more patch position summed. */
static void gram_counted(gram *g) {
  g->rows++;
  if (++g->pending == GRAM_FLUSH) gram_flush(g);
}

/* g += the patches of one sample's layer input x (int8 minus the zero
 * point; padding is 0). */
static void accumulate(const layer *L, const int8_t *x, size_t n, gram *g) {
  const int32_t zp = L->qin->quant->zp_count ? (int32_t)L->qin->quant->zero_point[0] : 0;
  const uint32_t K = L->k;
  int16_t *patch = g->patch;
  if (L->code == ETPU_OP_FULLY_CONNECTED) {
    for (size_t r = 0; r + K <= n; r += K) {
      for (uint32_t a = 0; a < K; a++) patch[a] = (int16_t)(x[r + a] - zp);
      gram_add(g->h32, patch, K);
      gram_counted(g);
    }
    return;
  }
  const int32_t ih = L->ih, iw = L->iw, ic = L->ic, taps = L->kh * L->kw;
  const size_t image = (size_t)ih * iw * ic;
  for (size_t base = 0; base + image <= n; base += image) {
    const int8_t *img = x + base;
    for (int32_t oy = 0; oy < L->oh; oy++)
      for (int32_t ox = 0; ox < L->ow; ox++) {
        for (int32_t ky = 0, t = 0; ky < L->kh; ky++)
          for (int32_t kx = 0; kx < L->kw; kx++, t++) {
            int32_t y = oy * L->sh - L->ph + ky * L->dh, xx = ox * L->sw - L->pw + kx * L->dw;
            g->tap[t] = y >= 0 && y < ih && xx >= 0 && xx < iw ? img + ((size_t)y * iw + (size_t)xx) * ic : NULL;
          }
        if (L->code == ETPU_OP_CONV_2D) {
          /* one patch of taps x channels */
          for (int32_t t = 0, a = 0; t < taps; t++)
            for (int32_t c = 0; c < ic; c++) patch[a++] = (int16_t)(g->tap[t] ? g->tap[t][c] - zp : 0);
          gram_add(g->h32, patch, K);
        } else {
          /* depthwise: one patch of taps per input channel, into its group */
          for (int32_t c = 0; c < ic; c++) {
            for (int32_t t = 0; t < taps; t++) patch[t] = (int16_t)(g->tap[t] ? g->tap[t][c] - zp : 0);
            gram_add(g->h32 + (size_t)c * K * K, patch, K);
          }
        }
        gram_counted(g);
      }
  }
}

/* In place, the lower Cholesky factor of the n x n symmetric matrix a (row
 * major, lower triangle read). false if a is not positive definite. */
static bool cholesky(double *a, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    double d = a[(size_t)j * n + j];
    for (uint32_t k = 0; k < j; k++) d -= a[(size_t)j * n + k] * a[(size_t)j * n + k];
    if (!(d > 0)) return false;
    d = sqrt(d);
    a[(size_t)j * n + j] = d;
    for (uint32_t i = j + 1; i < n; i++) {
      double s = a[(size_t)i * n + j];
      for (uint32_t k = 0; k < j; k++) s -= a[(size_t)i * n + k] * a[(size_t)j * n + k];
      a[(size_t)i * n + j] = s / d;
    }
  }
  return true;
}

/* The order GPTQ rounds a group's weights in: inputs of largest energy
 * (diagonal of H) first, so that the weights that matter most are rounded
 * while the most weights remain to absorb their error (GPTQ's "act order");
 * ties in index order. */
static void act_order(const int64_t *h, uint32_t K, uint32_t *perm) {
  for (uint32_t i = 0; i < K; i++) {
    uint32_t j = i;
    int64_t d = h[(size_t)i * K + i];
    while (j > 0 && h[(size_t)perm[j - 1] * K + perm[j - 1]] < d) {
      perm[j] = perm[j - 1];
      j--;
    }
    perm[j] = i;
  }
}

/* From the group's int64 Gram matrix h (upper triangle), rows and columns
 * taken in perm's order, u = the lower Cholesky factor of (H + damp I)^-1,
 * whose column i (rows >= i) is row i of the upper factor GPTQ walks.
 * Inputs the samples never reach (zero diagonal) get the mean diagonal, so
 * that their weights round to nearest alone. t is scratch of K x K. false
 * if H stays singular even dampened. */
static bool inverse_factor(const int64_t *h, const uint32_t *perm, uint32_t K, double *u, double *t) {
  double mean = 0;
  for (uint32_t i = 0; i < K; i++) mean += (double)h[(size_t)i * K + i];
  mean /= K;
  if (mean == 0) mean = 1;
  for (double damp = GPTQ_DAMP; damp <= 1.0; damp *= 10) {
    for (uint32_t i = 0; i < K; i++)
      for (uint32_t j = 0; j <= i; j++) {
        uint32_t a = perm[i] < perm[j] ? perm[i] : perm[j], b = perm[i] < perm[j] ? perm[j] : perm[i];
        double v = (double)h[(size_t)a * K + b];
        if (i == j) v = (v == 0 ? mean : v) + damp * mean;
        t[(size_t)i * K + j] = v;
      }
    if (!cholesky(t, K)) continue;
    /* u = L^-1 (lower), by forward substitution column by column */
    for (uint32_t j = 0; j < K; j++)
      for (uint32_t i = 0; i < K; i++) {
        if (i < j) {
          u[(size_t)i * K + j] = 0;
          continue;
        }
        double s = i == j ? 1.0 : 0.0;
        for (uint32_t k = j; k < i; k++) s -= t[(size_t)i * K + k] * u[(size_t)k * K + j];
        u[(size_t)i * K + j] = s / t[(size_t)i * K + i];
      }
    /* t = H^-1 = L^-T L^-1 (lower triangle) */
    for (uint32_t i = 0; i < K; i++)
      for (uint32_t j = 0; j <= i; j++) {
        double s = 0;
        for (uint32_t k = i; k < K; k++) s += u[(size_t)k * K + i] * u[(size_t)k * K + j];
        t[(size_t)i * K + j] = s;
      }
    if (!cholesky(t, K)) continue;
    memcpy(u, t, (size_t)K * K * sizeof *u);
    return true;
  }
  return false;
}

/* GPTQ one output channel: w (K floats in perm's order, overwritten)
 * rounded at scale s to q (in the weights' order), the error of each weight
 * moved onto the later ones along u. */
static void gptq_row(double *w, uint32_t K, double s, const double *u, const uint32_t *perm, int8_t *q) {
  for (uint32_t i = 0; i < K; i++) {
    double v = round(w[i] / s);
    v = v < -127 ? -127 : v > 127 ? 127 : v;
    q[perm[i]] = (int8_t)v;
    double d = u[(size_t)i * K + i];
    double e = (w[i] - v * s) / d;
    for (uint32_t j = i + 1; j < K; j++) w[j] -= e * u[(size_t)j * K + i];
  }
}

static double weight_scale(const layer *L, uint32_t ch) {
  const etpu_gquant *qq = L->qw->quant;
  return qq->scale[qq->count == 1 ? 0 : ch];
}

/* Rounds layer L's weights by GPTQ on the samples; *done says whether it
 * did (false: a layer too wide, or too few sample rows to tell). */
static etpu_status gptq_layer(etpu_model *q, const layer *L, uint32_t nsamples,
                              const float *const *const *samples, const size_t *sizes, uint32_t n, bool *done) {
  *done = false;
  const uint32_t K = L->k, G = L->groups;
  if (!L->fwd || !L->window || K > GPTQ_MAX_K) return ETPU_OK;
  gram gm = {K, G, etpu_calloc((size_t)G * K * K, sizeof(int64_t)), etpu_calloc((size_t)G * K * K, sizeof(int32_t)),
             etpu_malloc((size_t)K * sizeof(int16_t)), etpu_malloc((size_t)K * sizeof(const int8_t *)), 0, 0};
  uint32_t *perm = etpu_malloc((size_t)K * sizeof *perm);
  double *u = etpu_malloc((size_t)K * K * sizeof *u), *t = etpu_malloc((size_t)K * K * sizeof *t);
  double *w = etpu_malloc((size_t)K * sizeof *w);
  size_t wsz = 0;
  const uint8_t *qwd = etpu_graph_tensor_data(q, L->qw, &wsz);
  int8_t *nw = etpu_malloc(wsz ? wsz : 1), *row = etpu_malloc(K);
  etpu_status st = gm.h && gm.h32 && gm.patch && gm.tap && perm && u && t && w && nw && row && qwd
                       ? ETPU_OK
                       : etpu_fail(ETPU_OUT_OF_MEMORY, "GPTQ: out of memory for layer '%s'", L->qout->name);
  etpu_interp *qi = NULL;
  if (st == ETPU_OK) st = quant_interp(q, &qi);
  for (uint32_t k = 0; st == ETPU_OK && k < nsamples; k++) {
    st = etpu_calib_set_inputs(qi, q, samples[k], sizes, n);
    if (st == ETPU_OK) st = etpu_interp_invoke_prefix(qi, L->index); /* the ops before write its input */
    const void *xd;
    size_t xsz;
    if (st == ETPU_OK && etpu_interp_tensor(qi, (uint32_t)L->in, &xd, &xsz) != ETPU_OK)
      st = etpu_fail(ETPU_INVALID_STATE, "GPTQ: input '%s' of layer '%s' was not kept", L->qin->name, L->qout->name);
    if (st == ETPU_OK) accumulate(L, xd, xsz, &gm);
  }
  if (st == ETPU_OK) gram_flush(&gm);
  etpu_interp_free(qi);
  /* Fewer sample rows than weights per channel cannot tell the directions
   * of the layer's input apart: GPTQ would fit the samples, not the data. */
  if (st == ETPU_OK && gm.rows >= K) {
    memcpy(nw, qwd, wsz);
    bool solved = true;
    for (uint32_t g = 0; solved && g < G; g++) {
      act_order(gm.h + (size_t)g * K * K, K, perm);
      if (!inverse_factor(gm.h + (size_t)g * K * K, perm, K, u, t)) {
        solved = false;
        break;
      }
      if (L->code == ETPU_OP_DEPTHWISE_CONV_2D) {
        for (int32_t m = 0; m < L->mult; m++) {
          uint32_t ch = g * (uint32_t)L->mult + (uint32_t)m;
          for (uint32_t a = 0; a < K; a++) w[a] = L->fwd[(size_t)perm[a] * L->nout + ch];
          gptq_row(w, K, weight_scale(L, ch), u, perm, row);
          for (uint32_t a = 0; a < K; a++) nw[(size_t)a * L->nout + ch] = row[a];
        }
      } else {
        for (uint32_t ch = 0; ch < L->nout; ch++) {
          for (uint32_t a = 0; a < K; a++) w[a] = L->fwd[(size_t)ch * K + perm[a]];
          gptq_row(w, K, weight_scale(L, ch), u, perm, row);
          memcpy(nw + (size_t)ch * K, row, K);
        }
      }
    }
    if (solved) {
      st = etpu_model_set_tensor_data(q, 0, (uint32_t)L->w, nw, wsz);
      *done = st == ETPU_OK;
    }
  }
  etpu_free(gm.h);
  etpu_free(gm.h32);
  etpu_free(gm.patch);
  etpu_free(gm.tap);
  etpu_free(perm);
  etpu_free(u);
  etpu_free(t);
  etpu_free(w);
  etpu_free(nw);
  etpu_free(row);
  return st;
}

/* ---- bias correction --------------------------------------------------- */

/* err holds 2 x channels doubles (sums of errors, then of squared errors),
 * cnt one count per channel. fcache: the float model's output of this layer
 * for every sample, one after another, or NULL to run the float model. */
static etpu_status correct_bias(etpu_calibration *c, etpu_model *q, const layer *L, uint32_t nsamples,
                                const float *const *const *samples, const size_t *sizes, uint32_t n,
                                const float *fcache, double *err, uint64_t *cnt, bool *done) {
  *done = false;
  const etpu_gsubgraph *qg = &q->subgraphs[0];
  if (L->b < 0) return ETPU_OK;
  const etpu_gtensor *qt = L->qout, *bt = &qg->tensors[L->b];
  if (bt->type != ETPU_INT32 || !bt->quant || !bt->quant->count) return ETPU_OK;
  size_t nch = (size_t)qt->shape[qt->rank - 1];
  for (size_t k = 0; k < nch; k++) {
    err[k] = 0;
    err[nch + k] = 0;
    cnt[k] = 0;
  }
  size_t bsz;
  const uint8_t *bd = etpu_graph_tensor_data(q, bt, &bsz);
  if (!bd || bsz != nch * 4) return ETPU_OK;
  if (!fcache) ETPU_TRY(etpu_calib_float_interp(c));
  etpu_interp *qi = NULL;
  etpu_status st = quant_interp(q, &qi);
  double s = qt->quant->scale[0], zp = qt->quant->zp_count ? (double)qt->quant->zero_point[0] : 0;
  for (uint32_t k = 0; st == ETPU_OK && k < nsamples; k++) {
    const void *fd = NULL, *qd;
    size_t fsz = 0, qsz;
    if (!fcache) {
      st = etpu_calib_set_inputs(c->interp, c->model, samples[k], sizes, n);
      if (st == ETPU_OK) st = etpu_interp_invoke(c->interp);
      if (st == ETPU_OK && etpu_interp_tensor(c->interp, (uint32_t)L->out, &fd, &fsz) != ETPU_OK) fd = NULL;
    }
    if (st == ETPU_OK) st = etpu_calib_set_inputs(qi, q, samples[k], sizes, n);
    if (st == ETPU_OK) st = etpu_interp_invoke_prefix(qi, L->index + 1);
    if (st == ETPU_OK && etpu_interp_tensor(qi, (uint32_t)L->out, &qd, &qsz) != ETPU_OK) qd = NULL;
    if (fcache) {
      fsz = qsz * sizeof(float);
      fd = fcache + (size_t)k * qsz;
    }
    if (st == ETPU_OK && (!fd || !qd || fsz != qsz * sizeof(float)))
      st = no_twin(L->out, qt->name);
    if (st != ETPU_OK) break;
    const float *f = fd;
    const int8_t *qv = qd;
    for (size_t e = 0; e < qsz; e++) {
      if (isnan(f[e])) continue;
      double d = ((double)qv[e] - zp) * s - (double)f[e];
      err[e % nch] += d;
      err[nch + e % nch] += d * d;
      cnt[e % nch]++;
    }
  }
  etpu_interp_free(qi);
  ETPU_TRY(st);
  int32_t *nb = etpu_malloc(bsz);
  if (!nb) return etpu_fail(ETPU_OUT_OF_MEMORY, "bias correction: out of memory");
  for (size_t k = 0; k < nch; k++) {
    int32_t v = (int32_t)etpu_rd32(bd + 4 * k);
    double bs = bt->quant->scale[bt->quant->count == 1 ? 0 : k];
    if (cnt[k] && bs > 0) {
      double mean = err[k] / (double)cnt[k], var = err[nch + k] / (double)cnt[k] - mean * mean;
      /* The mean from a few samples is noisy (the logits of a classifier
       * get one value per sample): shrink it by its squared standard error
       * (James-Stein), so that a correction smaller than its own noise is
       * not applied in full. */
      double shrink = mean != 0 ? 1.0 - var / (double)cnt[k] / (mean * mean) : 0.0;
      if (shrink < 0) shrink = 0;
      double corrected = (double)v - round(mean * shrink / bs);
      v = (int32_t)(corrected < -INT32_MAX ? -INT32_MAX : corrected > INT32_MAX ? INT32_MAX : corrected);
    }
    nb[k] = v;
  }
  st = etpu_model_set_tensor_data(q, 0, (uint32_t)L->b, nb, bsz);
  etpu_free(nb);
  *done = st == ETPU_OK;
  return st;
}

/* ---- the walk -------------------------------------------------------------- */

/* The float model's outputs of the layers bias correction compares do not
 * change from layer to layer: run it once per sample and keep them, when
 * they fit in this many bytes (else it runs again for every layer). */
#define FLOAT_CACHE_BYTES ((uint64_t)1 << 30)

/* Offsets of each op's cached float output (UINT64_MAX: none) and the
 * block, or *block_out = NULL when they would not fit. */
static etpu_status float_cache(etpu_calibration *c, const etpu_model *q, uint32_t nsamples,
                               const float *const *const *samples, const size_t *sizes, uint32_t n, uint64_t *off,
                               float **block_out) {
  *block_out = NULL;
  const etpu_gsubgraph *qg = &q->subgraphs[0];
  uint64_t total = 0;
  for (uint32_t i = 0; i < qg->nops; i++) {
    layer L;
    off[i] = UINT64_MAX;
    uint64_t count = 0;
    if (!layer_of(c, q, i, &L) || !etpu_shape_elements(L.qout->rank, L.qout->shape, &count)) continue;
    off[i] = total;
    total += count * nsamples;
    if (total > FLOAT_CACHE_BYTES / sizeof(float)) return ETPU_OK;
  }
  float *block = etpu_malloc(total ? (size_t)total * sizeof(float) : 1);
  if (!block) return ETPU_OK; /* run the float model per layer instead */
  etpu_status st = etpu_calib_float_interp(c);
  for (uint32_t k = 0; st == ETPU_OK && k < nsamples; k++) {
    st = etpu_calib_set_inputs(c->interp, c->model, samples[k], sizes, n);
    if (st == ETPU_OK) st = etpu_interp_invoke(c->interp);
    for (uint32_t i = 0; st == ETPU_OK && i < qg->nops; i++) {
      if (off[i] == UINT64_MAX) continue;
      const etpu_gtensor *t = &qg->tensors[qg->ops[i].outputs[0]];
      uint64_t count = 0;
      const void *fd;
      size_t fsz;
      if (!etpu_shape_elements(t->rank, t->shape, &count) ||
          etpu_interp_tensor(c->interp, (uint32_t)qg->ops[i].outputs[0], &fd, &fsz) != ETPU_OK ||
          fsz != count * sizeof(float))
        st = no_twin(qg->ops[i].outputs[0], t->name);
      else
        memcpy(block + off[i] + (size_t)k * count, fd, fsz);
    }
  }
  if (st != ETPU_OK) {
    etpu_free(block);
    return st;
  }
  *block_out = block;
  return ETPU_OK;
}

etpu_status etpu_quantize_refine(etpu_calibration *c, etpu_model *q, const etpu_refine_options *o,
                                 uint32_t nsamples, const float *const *const *samples, const size_t *sizes,
                                 uint32_t n, etpu_refine_report *report_out) {
  etpu_refine_report r = {0, 0, 0};
  if (report_out) *report_out = r;
  if (!c || !q || !o || (nsamples && (!samples || !sizes)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_quantize_refine: NULL argument");
  if (!nsamples) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: refinement needs calibration samples", q->label);
  size_t maxch = 1;
  for (uint32_t t = 0; t < q->subgraphs[0].ntensors; t++) {
    const etpu_gtensor *gt = &q->subgraphs[0].tensors[t];
    if (gt->rank && gt->shape[gt->rank - 1] > 0 && (size_t)gt->shape[gt->rank - 1] > maxch)
      maxch = (size_t)gt->shape[gt->rank - 1];
  }
  double *err = etpu_malloc(2 * maxch * sizeof *err);
  uint64_t *cnt = etpu_malloc(maxch * sizeof *cnt);
  uint64_t *off = etpu_malloc((q->subgraphs[0].nops ? q->subgraphs[0].nops : 1) * sizeof *off);
  float *cache = NULL;
  etpu_status st = err && cnt && off ? ETPU_OK : etpu_fail(ETPU_OUT_OF_MEMORY, "refinement: out of memory");
  if (st == ETPU_OK && o->bias_correct) st = float_cache(c, q, nsamples, samples, sizes, n, off, &cache);
  for (uint32_t i = 0; st == ETPU_OK && i < q->subgraphs[0].nops; i++) {
    layer L;
    if (!layer_of(c, q, i, &L)) continue;
    bool done = false;
    if (o->gptq) {
      st = gptq_layer(q, &L, nsamples, samples, sizes, n, &done);
      if (done)
        r.rounded++;
      else
        r.rounded_to_nearest++;
      /* the edit replaced the buffers: look the layer up again */
      if (st == ETPU_OK && !layer_of(c, q, i, &L))
        st = etpu_fail(ETPU_INVALID_STATE, "refinement: op %u changed shape", i);
    }
    if (st == ETPU_OK && o->bias_correct) {
      st = correct_bias(c, q, &L, nsamples, samples, sizes, n, cache && off[i] != UINT64_MAX ? cache + off[i] : NULL,
                        err, cnt, &done);
      if (done) r.corrected++;
    }
  }
  etpu_free(err);
  etpu_free(cnt);
  etpu_free(off);
  etpu_free(cache);
  if (report_out) *report_out = r;
  return st;
}

etpu_status etpu_quantize_correct_bias(etpu_calibration *c, etpu_model *q, uint32_t nsamples,
                                       const float *const *const *samples, const size_t *sizes, uint32_t n,
                                       uint32_t *corrected_out) {
  if (corrected_out) *corrected_out = 0;
  etpu_refine_options o = {false, true};
  etpu_refine_report r;
  etpu_status st = etpu_quantize_refine(c, q, &o, nsamples, samples, sizes, n, &r);
  if (corrected_out) *corrected_out = r.corrected;
  return st;
}
