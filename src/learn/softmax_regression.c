/*
 * softmax_regression.c — last-layer backpropagation as Coral's libcoral does
 * it (coral/learn/backprop/, LEARNING.md §4), made reproducible: train
 * logits = W·x + b with softmax cross-entropy by mini-batch SGD on
 * embeddings, then append the trained layer to an embedding extractor as
 * FULLY_CONNECTED (+ RESHAPE) + SOFTMAX, quantized as libcoral's
 * AppendFullyConnectedAndSoftmaxLayerToModel does.
 *
 * Where etpu differs from libcoral, on purpose:
 *  - one seeded PCG32 stream (initial weights, then batch sampling) instead
 *    of std::random_device, and exp/log of our own (learn.h), so the same
 *    seed and examples give the same bytes on every machine;
 *  - the gradient of softmax + cross-entropy is the fused (p - y)/N, not
 *    -y/p/N pushed through the softmax Jacobian: equal in exact arithmetic,
 *    and finite when a probability underflows to 0;
 *  - L2 regularisation is real: the loss gets λ/2·ΣW² and the gradient λW.
 *    libcoral adds 0.5·λ·sum(WᵀW) to the reported loss only and never to the
 *    gradient, so its `reg` does not change the weights. With λ = 0 (the
 *    default in both) the two agree;
 *  - int8 extractors get an int8 layer (symmetric int8 weights as the TFLite
 *    spec requires, int8 logits, softmax output 1/256 with zero point -128);
 *    libcoral writes uint8 whatever the extractor;
 *  - the FULLY_CONNECTED output is stored as [batch, C], the shape the op
 *    computes, not libcoral's [1,1,1,C] (TFLite resizes it anyway; etpu's
 *    interpreter and other strict readers reject the mismatch). The RESHAPE
 *    libcoral adds after a 4-D embedding is kept, so the graph is the same.
 *
 * Memory: examples are copied in one at a time into arrays that grow
 * geometrically up to options.max_examples (training and validation
 * together); training needs C·D + (C + 2)·batch floats more.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "learn/learn.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define DEFAULT_MAX_EXAMPLES 65536u

typedef struct example_set {
  float *x;        /* n x D */
  uint32_t *label; /* n */
  uint32_t n, cap;
} example_set;

struct etpu_softmax_regression {
  uint32_t d, c;
  float l2;
  uint32_t max_examples;
  float *w;                   /* C x D, the TFLite FULLY_CONNECTED layout */
  float *b;                   /* C */
  float logit_min, logit_max; /* over every training-batch logit seen (libcoral) */
  uint64_t steps;             /* SGD steps taken so far */
  etpu_pcg32 rng;
  example_set set[2]; /* 0 = training, 1 = validation */
};

void etpu_softmax_regression_default_options(uint32_t feature_dim, uint32_t class_count, etpu_sr_options *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  out->feature_dim = feature_dim;
  out->class_count = class_count;
  out->weight_scale = 0.01f;
  out->l2_reg = 0.0f;
  out->seed = 1;
  out->max_examples = DEFAULT_MAX_EXAMPLES;
}

etpu_status etpu_softmax_regression_create(const etpu_sr_options *o, etpu_softmax_regression **sr_out) {
  if (!o || !sr_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: NULL argument");
  if (o->feature_dim < 1 || o->class_count < 2)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "softmax regression: feature_dim %u and class_count %u: need at least 1 feature and 2 classes",
                     o->feature_dim, o->class_count);
  if (!isfinite(o->weight_scale) || o->weight_scale < 0 || !isfinite(o->l2_reg) || o->l2_reg < 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: weight_scale %g and l2_reg %g must be finite and >= 0",
                     (double)o->weight_scale, (double)o->l2_reg);
  size_t cd;
  if (!etpu_mul_size(o->feature_dim, o->class_count, &cd) || cd > ((size_t)1 << 28))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: %u x %u weights are too many", o->class_count,
                     o->feature_dim);
  etpu_softmax_regression *sr = etpu_calloc(1, sizeof *sr);
  if (!sr) return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: out of memory");
  sr->d = o->feature_dim;
  sr->c = o->class_count;
  sr->l2 = o->l2_reg;
  sr->max_examples = o->max_examples ? o->max_examples : DEFAULT_MAX_EXAMPLES;
  sr->w = etpu_calloc(cd, sizeof *sr->w);
  sr->b = etpu_calloc(sr->c, sizeof *sr->b);
  if (!sr->w || !sr->b) {
    etpu_softmax_regression_free(sr);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: out of memory for %zu weights", cd);
  }
  sr->logit_min = INFINITY;
  sr->logit_max = -INFINITY;
  etpu_pcg32_seed(&sr->rng, o->seed);
  /* libcoral: W = weight_scale * N(0, 1), b = 0. Drawn in C x D order. */
  for (size_t i = 0; i < cd; i++) sr->w[i] = o->weight_scale * (float)etpu_pcg32_normal(&sr->rng);
  *sr_out = sr;
  return ETPU_OK;
}

void etpu_softmax_regression_free(etpu_softmax_regression *sr) {
  if (!sr) return;
  for (int s = 0; s < 2; s++) {
    etpu_free(sr->set[s].x);
    etpu_free(sr->set[s].label);
  }
  etpu_free(sr->w);
  etpu_free(sr->b);
  etpu_free(sr);
}

etpu_status etpu_softmax_regression_add(etpu_softmax_regression *sr, const float *embedding, uint32_t dim,
                                        uint32_t label, bool validation) {
  if (!sr || !embedding) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: add: NULL argument");
  if (dim != sr->d)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: add: embedding has %u values, the layer takes %u", dim,
                     sr->d);
  if (label >= sr->c)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: add: label %u is not a class (0..%u)", label,
                     sr->c - 1);
  for (uint32_t i = 0; i < dim; i++)
    if (!isfinite(embedding[i]))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: add: embedding value %u is not finite", i);
  if (sr->set[0].n + sr->set[1].n >= sr->max_examples)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "softmax regression: add: already holding %u examples, the max_examples bound", sr->max_examples);
  example_set *s = &sr->set[validation ? 1 : 0];
  if (s->n == s->cap) {
    uint32_t ncap = s->cap ? s->cap * 2 : 64;
    if (ncap > sr->max_examples) ncap = sr->max_examples;
    size_t xs;
    if (!etpu_mul_size((size_t)ncap * sr->d, sizeof(float), &xs))
      return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: add: %u examples overflow memory", ncap);
    float *nx = etpu_realloc(s->x, xs);
    if (!nx) return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: add: out of memory for %u examples", ncap);
    s->x = nx;
    uint32_t *nl = etpu_realloc(s->label, (size_t)ncap * sizeof *nl);
    if (!nl) return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: add: out of memory for %u examples", ncap);
    s->label = nl;
    s->cap = ncap;
  }
  memcpy(s->x + (size_t)s->n * sr->d, embedding, (size_t)sr->d * sizeof(float));
  s->label[s->n++] = label;
  return ETPU_OK;
}

void etpu_softmax_regression_clear(etpu_softmax_regression *sr) {
  if (!sr) return;
  sr->set[0].n = 0;
  sr->set[1].n = 0;
}

uint32_t etpu_softmax_regression_count(const etpu_softmax_regression *sr, bool validation) {
  return sr ? sr->set[validation ? 1 : 0].n : 0;
}

/* Mean cross-entropy (from log-sum-exp, finite even for tiny probabilities)
 * and accuracy (argmax, first maximum wins, like Eigen's maxCoeff) of a set
 * under the current weights. logits: scratch of C floats. */
static void evaluate_set(const etpu_softmax_regression *sr, const example_set *s, float *logits, float *loss,
                         float *acc) {
  if (s->n == 0) {
    *loss = -1.0f;
    *acc = -1.0f;
    return;
  }
  double total = 0.0;
  uint32_t right = 0;
  for (uint32_t i = 0; i < s->n; i++) {
    etpu_learn_fc_forward(s->x + (size_t)i * sr->d, 1, sr->d, sr->w, sr->b, sr->c, logits);
    uint32_t best = 0;
    for (uint32_t k = 1; k < sr->c; k++)
      if (logits[k] > logits[best]) best = k;
    right += best == s->label[i];
    double sum = 0.0;
    for (uint32_t k = 0; k < sr->c; k++) sum += etpu_det_exp((double)logits[k] - (double)logits[best]);
    total += etpu_det_log(sum) - ((double)logits[s->label[i]] - (double)logits[best]);
  }
  *loss = (float)(total / s->n);
  *acc = (float)right / (float)s->n;
}

etpu_status etpu_softmax_regression_evaluate(const etpu_softmax_regression *sr, bool validation, float *loss_out,
                                             float *accuracy_out) {
  if (!sr) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: evaluate: NULL argument");
  const example_set *s = &sr->set[validation ? 1 : 0];
  if (s->n == 0)
    return etpu_fail(ETPU_INVALID_STATE, "softmax regression: evaluate: no %s examples",
                     validation ? "validation" : "training");
  float *logits = etpu_malloc((size_t)sr->c * sizeof *logits);
  if (!logits) return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: out of memory");
  float loss, acc;
  evaluate_set(sr, s, logits, &loss, &acc);
  etpu_free(logits);
  if (loss_out) *loss_out = loss;
  if (accuracy_out) *accuracy_out = acc;
  return ETPU_OK;
}

etpu_status etpu_softmax_regression_predict(const etpu_softmax_regression *sr, const float *embedding, uint32_t dim,
                                            float *probs_out, uint32_t *class_out) {
  if (!sr || !embedding) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: predict: NULL argument");
  if (dim != sr->d)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: predict: embedding has %u values, the layer takes %u",
                     dim, sr->d);
  float *logits = etpu_malloc((size_t)sr->c * 2 * sizeof *logits);
  if (!logits) return etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: out of memory");
  etpu_learn_fc_forward(embedding, 1, sr->d, sr->w, sr->b, sr->c, logits);
  uint32_t best = 0;
  for (uint32_t k = 1; k < sr->c; k++)
    if (logits[k] > logits[best]) best = k;
  if (probs_out) {
    etpu_learn_softmax(logits, 1, sr->c, logits + sr->c);
    memcpy(probs_out, logits + sr->c, (size_t)sr->c * sizeof *probs_out);
  }
  if (class_out) *class_out = best;
  etpu_free(logits);
  return ETPU_OK;
}

etpu_status etpu_softmax_regression_train(etpu_softmax_regression *sr, const etpu_sr_train_options *o) {
  if (!sr || !o) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: train: NULL argument");
  const example_set *tr = &sr->set[0];
  if (tr->n == 0) return etpu_fail(ETPU_INVALID_STATE, "softmax regression: train: no training examples added");
  if (o->batch_size < 1 || !isfinite(o->learning_rate) || o->learning_rate <= 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "softmax regression: train: batch_size %u and learning_rate %g: need batch >= 1 and rate > 0",
                     o->batch_size, (double)o->learning_rate);
  if (o->batch_size > (1u << 20))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: train: batch_size %u is above 2^20", o->batch_size);
  const uint32_t d = sr->d, c = sr->c, nb = o->batch_size;
  const size_t cd = (size_t)c * d;
  size_t nd = 0, nc = 0, xbytes = 0, zbytes = 0;
  const bool fits = etpu_mul_size(nb, d, &nd) && etpu_mul_size(nd, sizeof(float), &xbytes) &&
                    etpu_mul_size(nb, c, &nc) && etpu_mul_size(nc, sizeof(float), &zbytes);
  float *dw = etpu_malloc(cd * sizeof *dw);
  float *db = etpu_malloc((size_t)c * sizeof *db);
  float *x = fits ? etpu_malloc(xbytes) : NULL;
  float *z = fits ? etpu_malloc(zbytes) : NULL;
  float *p = fits ? etpu_malloc(zbytes) : NULL;
  uint32_t *lab = etpu_malloc((size_t)nb * sizeof *lab);
  etpu_status st = ETPU_OK;
  if (!dw || !db || !x || !z || !p || !lab) {
    st = etpu_fail(ETPU_OUT_OF_MEMORY, "softmax regression: train: out of memory for batch %u", nb);
    goto done;
  }
  for (uint32_t it = 0; it < o->iterations; it++) {
    /* libcoral: batch_size row indices, uniform with replacement. */
    for (uint32_t i = 0; i < nb; i++) {
      uint32_t r = etpu_pcg32_below(&sr->rng, tr->n);
      memcpy(x + (size_t)i * d, tr->x + (size_t)r * d, (size_t)d * sizeof *x);
      lab[i] = tr->label[r];
    }
    etpu_learn_fc_forward(x, nb, d, sr->w, sr->b, c, z);
    for (size_t i = 0; i < (size_t)nb * c; i++) {
      if (z[i] < sr->logit_min) sr->logit_min = z[i];
      if (z[i] > sr->logit_max) sr->logit_max = z[i];
    }
    etpu_learn_softmax(z, nb, c, p);
    /* Batch loss (reported only): mean cross-entropy + λ/2·ΣW². */
    double ce = 0.0;
    for (uint32_t i = 0; i < nb; i++) {
      const float *zi = z + (size_t)i * c;
      float mx = zi[0];
      for (uint32_t k = 1; k < c; k++)
        if (zi[k] > mx) mx = zi[k];
      double sum = 0.0;
      for (uint32_t k = 0; k < c; k++) sum += etpu_det_exp((double)zi[k] - (double)mx);
      ce += etpu_det_log(sum) - ((double)zi[lab[i]] - (double)mx);
    }
    double batch_loss = ce / nb;
    if (sr->l2 > 0) {
      double ww = 0.0;
      for (size_t i = 0; i < cd; i++) ww += (double)sr->w[i] * (double)sr->w[i];
      batch_loss += 0.5 * (double)sr->l2 * ww;
    }
    etpu_learn_softmax_ce_grad(p, lab, nb, c, z); /* z now holds dlogits */
    etpu_learn_fc_backward(x, nb, d, sr->w, c, z, dw, db, NULL);
    if (sr->l2 > 0)
      for (size_t i = 0; i < cd; i++) dw[i] += sr->l2 * sr->w[i];
    etpu_learn_sgd(sr->w, dw, cd, o->learning_rate);
    etpu_learn_sgd(sr->b, db, c, o->learning_rate);
    sr->steps++;
    bool last = it + 1 == o->iterations;
    if (o->progress && (last || (o->report_every && (it + 1) % o->report_every == 0))) {
      etpu_sr_progress pr;
      memset(&pr, 0, sizeof pr);
      pr.iteration = it + 1;
      pr.iterations = o->iterations;
      pr.batch_loss = (float)batch_loss;
      evaluate_set(sr, &sr->set[0], z, &pr.train_loss, &pr.train_accuracy);
      evaluate_set(sr, &sr->set[1], z, &pr.val_loss, &pr.val_accuracy);
      if (!o->progress(o->user, &pr)) break;
    }
  }
done:
  etpu_free(dw);
  etpu_free(db);
  etpu_free(x);
  etpu_free(z);
  etpu_free(p);
  etpu_free(lab);
  return st;
}

etpu_status etpu_softmax_regression_layer(const etpu_softmax_regression *sr, etpu_linear_layer *layer_out) {
  if (!sr || !layer_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "softmax regression: layer: NULL argument");
  if (sr->steps == 0)
    return etpu_fail(ETPU_INVALID_STATE,
                     "softmax regression: not trained: the output range comes from the logits seen in training");
  layer_out->class_count = sr->c;
  layer_out->feature_dim = sr->d;
  layer_out->weights = sr->w;
  layer_out->bias = sr->b;
  layer_out->logit_min = sr->logit_min;
  layer_out->logit_max = sr->logit_max;
  return ETPU_OK;
}

/* ---- appending the trained layer ------------------------------------------ */

#define TRY(x)                    \
  do {                            \
    st = (x);                     \
    if (st != ETPU_OK) goto fail; \
  } while (0)

static float fmin0(const float *v, size_t n) {
  float m = v[0];
  for (size_t i = 1; i < n; i++)
    if (v[i] < m) m = v[i];
  return m < 0.0f ? m : 0.0f; /* std::min(0.0f, min) */
}

static float fmax0(const float *v, size_t n) {
  float m = v[0];
  for (size_t i = 1; i < n; i++)
    if (v[i] > m) m = v[i];
  return m > 0.0f ? m : 0.0f;
}

etpu_status etpu_softmax_regression_append_layer(const etpu_model *extractor, const etpu_linear_layer *L,
                                                 etpu_model **model_out) {
  if (!extractor || !L || !model_out || !L->weights || !L->bias)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "append layer: NULL argument");
  const char *label = etpu_model_label(extractor);
  /* libcoral's ValidateClassificationModel, and no classifier's output. */
  ETPU_TRY(etpu_extractor_check(extractor));
  const etpu_gsubgraph *g0 = &extractor->subgraphs[0];
  const int32_t emb = g0->outputs[0];
  const etpu_gtensor *et = &g0->tensors[emb];
  if (et->rank < 1 || et->shape[et->rank - 1] < 1)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: output tensor %d '%s' has rank %u: not an embedding", label, emb, et->name,
                     et->rank);
  const uint32_t d = (uint32_t)et->shape[et->rank - 1];
  if (L->feature_dim != d || L->class_count < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "%s: the layer takes %u features for %u classes; the extractor's output '%s' has %u", label,
                     L->feature_dim, L->class_count, et->name, d);
  if (et->type != ETPU_UINT8 && et->type != ETPU_INT8)
    return etpu_fail(ETPU_UNSUPPORTED,
                     "%s: output tensor '%s' is %s; the appended layer needs a UINT8 or INT8 embedding", label,
                     et->name, etpu_dtype_name(et->type));
  if (!et->quant || et->quant->count != 1 || !(et->quant->scale[0] > 0))
    return etpu_fail(ETPU_UNSUPPORTED, "%s: output tensor '%s' is not quantized per tensor with a positive scale",
                     label, et->name);
  if (et->rank > 8) return etpu_fail(ETPU_UNSUPPORTED, "%s: output tensor '%s' has rank %u", label, et->name, et->rank);
  const bool s8 = et->type == ETPU_INT8;
  const uint32_t c = L->class_count;
  const size_t cd = (size_t)c * d;
  for (size_t i = 0; i < cd; i++)
    if (!isfinite(L->weights[i])) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: weight %zu is not finite", label, i);
  for (uint32_t i = 0; i < c; i++)
    if (!isfinite(L->bias[i])) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: bias %u is not finite", label, i);
  if (isnan(L->logit_min) || isnan(L->logit_max))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: logit range is NaN", label);

  /* Quantization (libcoral's WeightsQuantParam, BiasesQuantParam,
   * OutputTensorQuantParam; int8: symmetric weights). */
  const float wmin = fmin0(L->weights, cd), wmax = fmax0(L->weights, cd);
  float wscale;
  int32_t wzp;
  if (s8) {
    float a = -wmin > wmax ? -wmin : wmax;
    wscale = a / 127.0f;
    wzp = 0;
  } else if (!etpu_learn_choose_qparams(wmin, wmax, 0, 255, &wscale, &wzp)) {
    wscale = 0;
  }
  if (!(wscale > 0)) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: every weight is 0: no quantization scale", label);
  const float in_scale = et->quant->scale[0];
  const float bscale = in_scale * wscale;
  const float lmin = L->logit_min < 0.0f ? L->logit_min : 0.0f;
  const float lmax = L->logit_max > 0.0f ? L->logit_max : 0.0f;
  int32_t aqmin, aqmax;
  etpu_learn_qrange(et->type, &aqmin, &aqmax);
  float oscale;
  int32_t ozp;
  if (!etpu_learn_choose_qparams(lmin, lmax, aqmin, aqmax, &oscale, &ozp) || !isfinite(oscale))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: logit range [%g, %g] gives no output quantization", label,
                     (double)L->logit_min, (double)L->logit_max);

  uint8_t *wq = etpu_malloc(cd);
  int32_t *bq = etpu_malloc((size_t)c * sizeof *bq);
  etpu_model *m = NULL;
  etpu_status st = ETPU_OK;
  if (!wq || !bq) {
    st = etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", label);
    goto fail;
  }
  for (size_t i = 0; i < cd; i++) {
    int32_t q = s8 ? etpu_learn_quantize(L->weights[i], wscale, 0, -127, 127)
                   : etpu_learn_quantize(L->weights[i], wscale, wzp, 0, 255);
    wq[i] = (uint8_t)(s8 ? (uint8_t)(int8_t)q : (uint8_t)q);
  }
  for (uint32_t i = 0; i < c; i++) bq[i] = etpu_learn_quantize(L->bias[i], bscale, 0, INT32_MIN, INT32_MAX);

  char lab[512];
  snprintf(lab, sizeof lab, "%s + softmax layer", label);
  TRY(etpu_learn_copy_model(extractor, lab, &m));
  static const char *const names[] = {"Appended/FC/Weights", "Appended/FC/Bias", "Appended/FC/Output",
                                      "Imprinting/Reshape/Output", "Imprinting/Softmax/Output"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (etpu_learn_has_tensor_named(m, names[i])) {
      st = etpu_fail(ETPU_UNSUPPORTED, "%s: already has a tensor named '%s' (a layer was appended before?)", label,
                     names[i]);
      goto fail;
    }
  const int32_t atype = et->type;
  const uint32_t rank = et->rank;
  int32_t shape[8];
  memcpy(shape, et->shape, rank * sizeof *shape);
  etpu_learn_quant q_w = {wscale, wzp, true, wmin, wmax};
  etpu_learn_quant q_b = {bscale, 0, true, fmin0(L->bias, c), fmax0(L->bias, c)};
  etpu_learn_quant q_o = {oscale, ozp, true, lmin, lmax};
  int32_t tw, tb, tfc;
  int32_t in = emb;
  /* Tensors in libcoral's order: kernel, bias, output; each with its own buffer. */
  TRY(etpu_learn_add_tensor(m, names[0], s8 ? ETPU_INT8 : ETPU_UINT8, 2, (int32_t[]){(int32_t)c, (int32_t)d}, &q_w, wq,
                            cd, true, &tw));
  TRY(etpu_learn_add_tensor(m, names[1], ETPU_INT32, 1, (int32_t[]){(int32_t)c}, &q_b, bq, (size_t)c * 4, true, &tb));
  /* FULLY_CONNECTED (keep_num_dims false) computes [batch, C], batch = the
   * embedding's elements / D; TFLite resizes the output to that whatever
   * the file says. libcoral stores input shape[:-1] + [C] ([1,1,1,C]);
   * etpu stores what the op computes, which strict readers require. */
  uint64_t elems = 1;
  for (uint32_t i = 0; i < rank; i++) elems *= (uint64_t)shape[i];
  int32_t oshape[2] = {(int32_t)(elems / d), (int32_t)c};
  TRY(etpu_learn_add_tensor(m, names[2], atype, 2, oshape, &q_o, NULL, 0, true, &tfc));
  TRY(etpu_model_add_op(m, 0, ETPU_OP_FULLY_CONNECTED, NULL,
                        etpu_learn_op_version(m, ETPU_OP_FULLY_CONNECTED, s8 ? 4 : 1), 3, (int32_t[]){in, tw, tb}, 1,
                        &tfc, 0, NULL, NULL, 0, NULL));
  in = tfc;
  if (rank == 4) {
    /* libcoral's AppendReshape: {front, back}, new_shape only, input's quantization. */
    int32_t rs[2] = {oshape[0], oshape[1]};
    int32_t trs;
    TRY(etpu_learn_add_tensor(m, names[3], atype, 2, rs, &q_o, NULL, 0, true, &trs));
    etpu_option ro = {"new_shape", 0, 0, 2, rs};
    TRY(etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, etpu_learn_op_version(m, ETPU_OP_RESHAPE, 1), 1, &in, 1, &trs, 1,
                          &ro, NULL, 0, NULL));
    in = trs;
  }
  const etpu_gtensor *it = &m->subgraphs[0].tensors[in];
  int32_t sshape[8];
  uint32_t srank = it->rank;
  memcpy(sshape, it->shape, srank * sizeof *sshape);
  etpu_learn_quant q_s = {1.0f / 256, s8 ? -128 : 0, true, 0.0f, 1.0f};
  int32_t tsm;
  TRY(etpu_learn_add_tensor(m, names[4], atype, srank, sshape, &q_s, NULL, 0, true, &tsm));
  etpu_option so = {"beta", 0, 1.0, 0, NULL};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_SOFTMAX, NULL, etpu_learn_op_version(m, ETPU_OP_SOFTMAX, s8 ? 2 : 1), 1, &in, 1,
                        &tsm, 1, &so, NULL, 0, NULL));
  /* The graph output is the softmax; the inputs stay. */
  etpu_gsubgraph *g = &m->subgraphs[0];
  TRY(etpu_model_set_io(m, 0, g->ninputs, g->inputs, 1, &tsm));
  TRY(etpu_model_validate(m));
  etpu_free(wq);
  etpu_free(bq);
  *model_out = m;
  return ETPU_OK;
fail:
  etpu_free(wq);
  etpu_free(bq);
  etpu_model_free(m);
  return st;
}

etpu_status etpu_softmax_regression_append(const etpu_model *extractor, const etpu_softmax_regression *sr,
                                           etpu_model **model_out) {
  etpu_linear_layer layer;
  etpu_status st = etpu_softmax_regression_layer(sr, &layer);
  if (st != ETPU_OK) return st;
  return etpu_softmax_regression_append_layer(extractor, &layer, model_out);
}
