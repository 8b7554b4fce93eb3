/*
 * common.c — what both on-device learners share (see learn.h): a seeded
 * PCG32 generator, exp/log built from basic IEEE-754 operations so trained
 * bytes are the same on every machine, libcoral's quantization rules
 * (coral/learn/utils.h, coral/tflite_utils.h, as LEARNING.md §2 states
 * them), the dense-layer math of last-layer backpropagation, and small
 * model-editing helpers over the internal graph.
 */
#include <math.h>
#include <string.h>

#include "learn/learn.h"

#if defined(__clang__)
/* Also set by -ffp-contract=off in CMakeLists.txt; kept here so a build
 * without that flag still rounds every product on its own under clang. */
#pragma STDC FP_CONTRACT OFF
#endif

/* ---- PCG32 --------------------------------------------------------------- */

#define PCG_MULT 6364136223846793005ULL
#define PCG_STREAM 0xda3e39cb94b95bdbULL

uint32_t etpu_pcg32_next(etpu_pcg32 *r) {
  uint64_t old = r->state;
  r->state = old * PCG_MULT + r->inc;
  uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
  uint32_t rot = (uint32_t)(old >> 59u);
  return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

void etpu_pcg32_seed_stream(etpu_pcg32 *r, uint64_t seed, uint64_t stream) {
  r->state = 0;
  r->inc = (stream << 1u) | 1u;
  (void)etpu_pcg32_next(r);
  r->state += seed;
  (void)etpu_pcg32_next(r);
}

void etpu_pcg32_seed(etpu_pcg32 *r, uint64_t seed) { etpu_pcg32_seed_stream(r, seed, PCG_STREAM); }

uint32_t etpu_pcg32_below(etpu_pcg32 *r, uint32_t n) {
  if (n <= 1) return 0;
  /* Reject the lowest (2^32 mod n) values so every residue is equally likely. */
  uint32_t threshold = (uint32_t)(0u - n) % n;
  for (;;) {
    uint32_t x = etpu_pcg32_next(r);
    if (x >= threshold) return x % n;
  }
}

double etpu_pcg32_uniform(etpu_pcg32 *r) {
  uint32_t a = etpu_pcg32_next(r) >> 5; /* 27 bits */
  uint32_t b = etpu_pcg32_next(r) >> 6; /* 26 bits */
  return ((double)a * 67108864.0 + (double)b) * (1.0 / 9007199254740992.0);
}

double etpu_pcg32_normal(etpu_pcg32 *r) {
  double u, v, s;
  do {
    u = 2.0 * etpu_pcg32_uniform(r) - 1.0;
    v = 2.0 * etpu_pcg32_uniform(r) - 1.0;
    s = u * u + v * v;
  } while (s >= 1.0 || s == 0.0);
  return u * sqrt(-2.0 * etpu_det_log(s) / s);
}

/* ---- exp and log from +, -, *, / ---------------------------------------- */

/* ln 2 split so that n * LN2_HI is exact for |n| < 2^20 (fdlibm's split). */
#define LN2_HI 6.93147180369123816490e-01
#define LN2_LO 1.90821492927058770002e-10
#define INV_LN2 1.44269504088896338700e+00

static double bits_to_double(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}

static uint64_t double_to_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

/* 2^n for n in [-1022, 1023]. */
static double pow2(int n) { return bits_to_double((uint64_t)(n + 1023) << 52); }

double etpu_det_exp(double x) {
  if (x != x) return x;
  if (x > 709.782712893384) return INFINITY;
  if (x < -745.2) return 0.0;
  double kf = x * INV_LN2;
  int n = (int)(kf >= 0 ? kf + 0.5 : kf - 0.5);
  double r = (x - (double)n * LN2_HI) - (double)n * LN2_LO; /* |r| <= 0.347 */
  /* exp(r) = 1 + r(1 + r/2(1 + r/3(1 + ...))), 14 terms: error < 1e-17. */
  double t = 1.0;
  for (int k = 14; k >= 1; k--) t = 1.0 + r / (double)k * t;
  if (n > 1023) return t * pow2(1023) * pow2(n - 1023);
  if (n < -1022) return t * pow2(-1022) * pow2(n + 1022);
  return t * pow2(n);
}

double etpu_det_log(double x) {
  if (x != x || x < 0) return NAN;
  if (x == 0) return -INFINITY;
  if (x == INFINITY) return INFINITY;
  int e = 0;
  uint64_t b = double_to_bits(x);
  if ((b >> 52) == 0) {       /* subnormal: scale into the normal range */
    x *= 18014398509481984.0; /* 2^54 */
    e = -54;
    b = double_to_bits(x);
  }
  e += (int)(b >> 52) - 1023;
  double m = bits_to_double((b & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1, 2) */
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  /* log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716: 12 odd terms. */
  double s = (m - 1.0) / (m + 1.0);
  double s2 = s * s;
  double t = 0.0;
  for (int k = 23; k >= 3; k -= 2) t = (t + 1.0 / (double)k) * s2;
  double lm = 2.0 * s + 2.0 * s * t;
  return (double)e * LN2_HI + ((double)e * LN2_LO + lm);
}

/* ---- libcoral's quantization rules --------------------------------------- */

bool etpu_learn_choose_qparams(float f_min, float f_max, int32_t qmin, int32_t qmax, float *scale_out,
                               int32_t *zp_out) {
  *scale_out = 0;
  *zp_out = 0;
  if (!(f_min <= 0) || !(f_max >= 0) || f_min == f_max) return false;
  const float qmin_f = (float)qmin, qmax_f = (float)qmax;
  const float scale = (f_max - f_min) / (qmax_f - qmin_f);
  const float zp_from_min = qmin_f - f_min / scale;
  const float zp_from_max = qmax_f - f_max / scale;
  const float err_min = fabsf(qmin_f) + fabsf(f_min / scale);
  const float err_max = fabsf(qmax_f) + fabsf(f_max / scale);
  const float zp_f = err_min < err_max ? zp_from_min : zp_from_max;
  int32_t zp;
  if (zp_f < qmin_f)
    zp = qmin;
  else if (zp_f > qmax_f)
    zp = qmax;
  else
    zp = (int32_t)roundf(zp_f); /* roundf is exact: no libm variation */
  *scale_out = scale;
  *zp_out = zp;
  return true;
}

int32_t etpu_learn_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax) {
  const float r = roundf((float)zp + x / scale);
  /* std::max(qmin, std::min(qmax, r)) with std's comparisons (NaN -> qmax). */
  const float hi = (r < (float)qmax) ? r : (float)qmax;
  const float v = ((float)qmin < hi) ? hi : (float)qmin;
  if (v >= 2147483647.0f) return INT32_MAX; /* (float)INT32_MAX rounds to 2^31 */
  return (int32_t)v;
}

float etpu_learn_l2_normalize(float *v, size_t n) {
  float acc = 0.0f;
  for (size_t i = 0; i < n; i++) acc += v[i] * v[i];
  const float norm = sqrtf(acc);
  if ((double)fabsf(norm) > 1e-5)
    for (size_t i = 0; i < n; i++) v[i] /= norm;
  return norm;
}

void etpu_learn_qrange(int32_t type, int32_t *qmin, int32_t *qmax) {
  if (type == ETPU_INT8) {
    *qmin = -128;
    *qmax = 127;
  } else {
    *qmin = 0;
    *qmax = 255;
  }
}

/* ---- dense-layer math ---------------------------------------------------- */

void etpu_learn_fc_forward(const float *x, uint32_t n, uint32_t d, const float *w, const float *b, uint32_t c,
                           float *logits) {
  for (uint32_t i = 0; i < n; i++) {
    const float *xi = x + (size_t)i * d;
    for (uint32_t k = 0; k < c; k++) {
      const float *wk = w + (size_t)k * d;
      float acc = 0.0f;
      for (uint32_t j = 0; j < d; j++) acc += xi[j] * wk[j];
      logits[(size_t)i * c + k] = acc + b[k];
    }
  }
}

void etpu_learn_softmax(const float *logits, uint32_t n, uint32_t c, float *probs) {
  for (uint32_t i = 0; i < n; i++) {
    const float *z = logits + (size_t)i * c;
    float *p = probs + (size_t)i * c;
    float mx = z[0];
    for (uint32_t k = 1; k < c; k++)
      if (z[k] > mx) mx = z[k];
    float sum = 0.0f;
    for (uint32_t k = 0; k < c; k++) {
      p[k] = (float)etpu_det_exp((double)(z[k] - mx));
      sum += p[k];
    }
    for (uint32_t k = 0; k < c; k++) p[k] /= sum;
  }
}

float etpu_learn_cross_entropy(const float *probs, const float *onehot, uint32_t n, uint32_t c) {
  float loss = 0.0f;
  for (size_t i = 0; i < (size_t)n * c; i++)
    if (onehot[i] != 0.0f) loss -= onehot[i] * (float)etpu_det_log((double)probs[i]);
  return loss / (float)n;
}

void etpu_learn_cross_entropy_grad(const float *probs, const float *onehot, uint32_t n, uint32_t c, float *dprobs) {
  for (size_t i = 0; i < (size_t)n * c; i++) dprobs[i] = onehot[i] != 0.0f ? -onehot[i] / probs[i] / (float)n : 0.0f;
}

void etpu_learn_softmax_backward(const float *probs, const float *dprobs, uint32_t n, uint32_t c, float *dlogits) {
  for (uint32_t i = 0; i < n; i++) {
    const float *p = probs + (size_t)i * c, *dp = dprobs + (size_t)i * c;
    float *dz = dlogits + (size_t)i * c;
    float s = 0.0f;
    for (uint32_t k = 0; k < c; k++) s += dp[k] * p[k];
    for (uint32_t k = 0; k < c; k++) dz[k] = p[k] * dp[k] - p[k] * s;
  }
}

void etpu_learn_softmax_ce_grad(const float *probs, const uint32_t *labels, uint32_t n, uint32_t c, float *dlogits) {
  const float fn = (float)n;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < c; k++) {
      size_t at = (size_t)i * c + k;
      dlogits[at] = (probs[at] - (labels[i] == k ? 1.0f : 0.0f)) / fn;
    }
}

void etpu_learn_fc_backward(const float *x, uint32_t n, uint32_t d, const float *w, uint32_t c, const float *dlogits,
                            float *dw, float *db, float *dx) {
  memset(dw, 0, (size_t)c * d * sizeof *dw);
  memset(db, 0, (size_t)c * sizeof *db);
  for (uint32_t i = 0; i < n; i++) {
    const float *xi = x + (size_t)i * d;
    for (uint32_t k = 0; k < c; k++) {
      const float g = dlogits[(size_t)i * c + k];
      float *dwk = dw + (size_t)k * d;
      for (uint32_t j = 0; j < d; j++) dwk[j] += g * xi[j];
      db[k] += g;
    }
  }
  if (!dx) return;
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < d; j++) {
      float acc = 0.0f;
      for (uint32_t k = 0; k < c; k++) acc += dlogits[(size_t)i * c + k] * w[(size_t)k * d + j];
      dx[(size_t)i * d + j] = acc;
    }
}

void etpu_learn_sgd(float *param, const float *grad, size_t count, float lr) {
  for (size_t i = 0; i < count; i++) param[i] -= lr * grad[i];
}

/* ---- embedding extractors ---------------------------------------------- */

etpu_status etpu_extractor_check(const etpu_model *m) {
  if (!m) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_extractor_check: NULL model");
  const char *label = etpu_model_label(m);
  /* libcoral's rules for the extractor (LEARNING.md 4.2), in its words. */
  if (m->nsubgraphs != 1)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: Model must have one and only one subgraph. Actual: %u.", label,
                     m->nsubgraphs);
  const etpu_gsubgraph *g = &m->subgraphs[0];
  if (g->noutputs != 1)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: Model must have one and only one output. Actual: %u.", label, g->noutputs);
  /* Walk back from the output through ops that only reshape or convert it. */
  int32_t t = g->outputs[0];
  for (uint32_t steps = 0; t >= 0 && (uint32_t)t < g->ntensors && steps <= g->nops; steps++) {
    int32_t p = g->tensors[t].producer;
    if (p < 0 || (uint32_t)p >= g->nops) break;
    const etpu_gop *op = &g->ops[p];
    int32_t code = etpu_graph_op_code(m, op);
    if (code == ETPU_OP_SOFTMAX || code == 50 /* LOG_SOFTMAX */)
      return etpu_fail(ETPU_UNSUPPORTED,
                       "%s: output '%s' comes from op %d %s: this is a classifier, whose output is a probability "
                       "distribution over its classes, not an embedding; give the embedding extractor (the model "
                       "cut before its classification layer, e.g. Coral's *_embedding_extractor.tflite)",
                       label, g->tensors[g->outputs[0]].name, p, etpu_graph_op_name(m, op));
    bool passthrough = code == ETPU_OP_RESHAPE || code == 43 /* SQUEEZE */ || code == ETPU_OP_QUANTIZE ||
                       code == ETPU_OP_DEQUANTIZE;
    if (!passthrough || op->ninputs < 1) break;
    t = op->inputs[0];
  }
  return ETPU_OK;
}

/* ---- model editing -------------------------------------------------------- */

etpu_status etpu_learn_copy_model(const etpu_model *src, const char *label, etpu_model **out) {
  void *buf = NULL;
  size_t size = 0;
  etpu_status st = etpu_model_write_buffer(src, 0, &buf, &size);
  if (st != ETPU_OK) return st;
  st = etpu_model_open_buffer(buf, size, label, ETPU_OPEN_COPY, out);
  etpu_free(buf);
  return st;
}

static etpu_status make_gquant(etpu_model *m, const etpu_learn_quant *q, etpu_gquant **out) {
  etpu_gquant *gq = etpu_arena_alloc(&m->arena, sizeof *gq);
  float *s = etpu_arena_alloc(&m->arena, sizeof *s);
  int64_t *z = etpu_arena_alloc(&m->arena, sizeof *z);
  if (!gq || !s || !z) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  *s = q->scale;
  *z = q->zero_point;
  gq->count = gq->zp_count = 1;
  gq->scale = s;
  gq->zero_point = z;
  gq->quantized_dimension = 0;
  if (q->has_range) {
    float *mn = etpu_arena_alloc(&m->arena, sizeof *mn);
    float *mx = etpu_arena_alloc(&m->arena, sizeof *mx);
    etpu_fbt *rest = etpu_fbt_new(&m->arena, ETPU_T_QuantizationParameters);
    if (!mn || !mx || !rest) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    *mn = q->min;
    *mx = q->max;
    etpu_fbv v = {.id = ETPU_F_QuantizationParameters_min, .kind = ETPU_FB_VECTOR, .elem = ETPU_FB_F32, .count = 1};
    v.v.p = mn;
    etpu_status st = etpu_fbt_put(&m->arena, rest, &v);
    if (st != ETPU_OK) return st;
    v.id = ETPU_F_QuantizationParameters_max;
    v.v.p = mx;
    st = etpu_fbt_put(&m->arena, rest, &v);
    if (st != ETPU_OK) return st;
    gq->rest = rest;
  }
  *out = gq;
  return ETPU_OK;
}

etpu_status etpu_learn_set_quant(etpu_model *m, uint32_t tensor, const etpu_learn_quant *q) {
  etpu_gsubgraph *g = &m->subgraphs[0];
  if (tensor >= g->ntensors) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u does not exist", m->label, tensor);
  etpu_gquant *gq = NULL;
  etpu_status st = make_gquant(m, q, &gq);
  if (st != ETPU_OK) return st;
  g->tensors[tensor].quant = gq;
  return ETPU_OK;
}

etpu_status etpu_learn_set_shape(etpu_model *m, uint32_t tensor, uint32_t rank, const int32_t *shape) {
  etpu_gsubgraph *g = &m->subgraphs[0];
  if (tensor >= g->ntensors) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u does not exist", m->label, tensor);
  int32_t *copy = etpu_arena_dup(&m->arena, shape, (size_t)rank * sizeof *shape);
  if (rank && !copy) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  etpu_gtensor *t = &g->tensors[tensor];
  t->shape = copy;
  t->rank = rank;
  if (t->has_signature) {
    t->shape_signature = copy;
    t->sig_rank = rank;
  }
  return ETPU_OK;
}

etpu_status etpu_learn_add_tensor(etpu_model *m, const char *name, int32_t type, uint32_t rank, const int32_t *shape,
                                  const etpu_learn_quant *q, const void *data, size_t size, bool empty_buffer,
                                  int32_t *index_out) {
  int32_t idx = -1;
  etpu_status st = etpu_model_add_tensor(m, 0, name, type, rank, shape, NULL, data, size, &idx);
  if (st != ETPU_OK) return st;
  etpu_gtensor *t = &m->subgraphs[0].tensors[idx];
  if (q) {
    st = make_gquant(m, q, &t->quant);
    if (st != ETPU_OK) return st;
  }
  if (!size && empty_buffer) {
    st = etpu_graph_grow(m, (void **)&m->buffers, m->nbuffers, &m->cap_buffers, sizeof *m->buffers);
    if (st != ETPU_OK) return st;
    memset(&m->buffers[m->nbuffers], 0, sizeof m->buffers[0]);
    t->buffer = m->nbuffers++;
  }
  *index_out = idx;
  return ETPU_OK;
}

int32_t etpu_learn_op_version(const etpu_model *m, int32_t code, int32_t min_version) {
  for (uint32_t i = 0; i < m->nopcodes; i++)
    if (m->opcodes[i].code == code) return m->opcodes[i].version >= min_version ? m->opcodes[i].version : min_version;
  return min_version;
}

bool etpu_learn_has_tensor_named(const etpu_model *m, const char *name) {
  const etpu_gsubgraph *g = &m->subgraphs[0];
  for (uint32_t i = 0; i < g->ntensors; i++)
    if (strcmp(g->tensors[i].name, name) == 0) return true;
  return false;
}
