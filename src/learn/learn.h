/*
 * learn.h — internals of etpu's on-device learning (src/learn/), shared by
 * softmax_regression.c and imprinting.c and exposed to tests/test_learn.c.
 *
 *   common.c              reproducible arithmetic (a PCG32 generator, exp and
 *                         log from IEEE-754 +, -, *, / only), libcoral's
 *                         quantization rules, the dense-layer math of
 *                         last-layer backpropagation, and the model-editing
 *                         helpers both learners use;
 *   softmax_regression.c  training and etpu_softmax_regression_append*;
 *   imprinting.c          etpu_imprint_*.
 *
 * Reproducibility. Everything that decides a trained byte is computed with
 * +, -, *, /, sqrt (all correctly rounded by IEEE 754, so identical on every
 * conforming machine) and etpu_det_exp/etpu_det_log below, in a fixed order.
 * libm's expf/logf/exp/log are never used on that path: their last bit
 * differs between libm versions (glibc, musl, Apple, MSVC). The sources are
 * built with -ffp-contract=off (CMakeLists.txt), because a fused multiply-add
 * rounds once where the plain expression rounds twice. This holds where
 * FLT_EVAL_METHOD == 0 (x86-64 SSE, AArch64, RISC-V, ...); on x87-only
 * targets the excess precision gives other bits.
 */
#ifndef ETPU_LEARN_H
#define ETPU_LEARN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/graph.h"

/* ---- reproducible random numbers ---------------------------------------- */

/* PCG32 (O'Neill's PCG-XSH-RR: 64-bit LCG state, 32-bit output). */
typedef struct etpu_pcg32 {
  uint64_t state;
  uint64_t inc; /* odd */
} etpu_pcg32;

void etpu_pcg32_seed(etpu_pcg32 *r, uint64_t seed);
/* PCG's own seeding (pcg32_srandom_r) with a chosen stream; etpu_pcg32_seed
 * uses a fixed stream. */
void etpu_pcg32_seed_stream(etpu_pcg32 *r, uint64_t seed, uint64_t stream);
uint32_t etpu_pcg32_next(etpu_pcg32 *r);
/* Uniform in [0, n), unbiased (rejection); n >= 1. */
uint32_t etpu_pcg32_below(etpu_pcg32 *r, uint32_t n);
/* Uniform in [0, 1) with 53 random bits. */
double etpu_pcg32_uniform(etpu_pcg32 *r);
/* Standard normal (Marsaglia's polar method with etpu_det_log and sqrt). */
double etpu_pcg32_normal(etpu_pcg32 *r);

/* exp and natural log from basic IEEE operations only (Cody-Waite range
 * reduction + series), so every machine gives the same bits. Relative error
 * below 1e-15 over the whole double range. */
double etpu_det_exp(double x);
double etpu_det_log(double x);

/* ---- libcoral's quantization rules (float arithmetic, as libcoral) ------ */

/* coral::QuantizationParams<T>(f_min, f_max) for a type with range
 * [qmin, qmax] (gemmlowp's ChooseQuantizationParams): needs f_min <= 0 <=
 * f_max; returns false when the range is a point (scale would be 0). */
bool etpu_learn_choose_qparams(float f_min, float f_max, int32_t qmin, int32_t qmax, float *scale_out, int32_t *zp_out);

/* coral::Quantize: clamp(round_half_away(zp + x / scale), qmin, qmax), zp
 * added before rounding, all in float. */
int32_t etpu_learn_quantize(float x, float scale, int32_t zp, int32_t qmin, int32_t qmax);

/* coral::L2Normalize: n = sqrt(sum v^2) summed in order in float; divides
 * v by n when n > 1e-5; returns n. */
float etpu_learn_l2_normalize(float *v, size_t n);

/* Type range of an 8-bit quantized type (UINT8 or INT8). */
void etpu_learn_qrange(int32_t type, int32_t *qmin, int32_t *qmax);

/* ---- dense-layer math (row-major; N examples, D features, C classes) ---- */

/* logits[N x C] = x[N x D] . w[C x D]^T + b[C]. */
void etpu_learn_fc_forward(const float *x, uint32_t n, uint32_t d, const float *w, const float *b, uint32_t c,
                           float *logits);
/* Row-wise softmax with the row maximum subtracted first. */
void etpu_learn_softmax(const float *logits, uint32_t n, uint32_t c, float *probs);
/* Mean over rows of -sum_c onehot * log(p). */
float etpu_learn_cross_entropy(const float *probs, const float *onehot, uint32_t n, uint32_t c);
/* d(cross entropy)/d(probs) = -onehot / p / N. */
void etpu_learn_cross_entropy_grad(const float *probs, const float *onehot, uint32_t n, uint32_t c, float *dprobs);
/* dlogits = dprobs . J per row, J = diag(p) - p p^T (libcoral's path). */
void etpu_learn_softmax_backward(const float *probs, const float *dprobs, uint32_t n, uint32_t c, float *dlogits);
/* Fused softmax + cross-entropy gradient: dlogits = (p - onehot(label)) / N.
 * Equal to the two calls above in exact arithmetic, and finite when a p
 * underflows to 0 (where -onehot/p is not). Training uses this. */
void etpu_learn_softmax_ce_grad(const float *probs, const uint32_t *labels, uint32_t n, uint32_t c, float *dlogits);
/* Gradients of the dense layer: dw[C x D] = dlogits^T . x, db[C] = column
 * sums, dx[N x D] = dlogits . w (dx may be NULL). Overwrites the outputs. */
void etpu_learn_fc_backward(const float *x, uint32_t n, uint32_t d, const float *w, uint32_t c, const float *dlogits,
                            float *dw, float *db, float *dx);
/* Plain SGD: param -= lr * grad. */
void etpu_learn_sgd(float *param, const float *grad, size_t count, float lr);

/* ---- model editing shared by both learners ------------------------------ */

/* A new, independent model holding the same content as src (serialized and
 * reopened), labelled `label`. */
etpu_status etpu_learn_copy_model(const etpu_model *src, const char *label, etpu_model **out);

/* Per-tensor quantization with libcoral's min/max fields. */
typedef struct etpu_learn_quant {
  float scale;
  int64_t zero_point;
  bool has_range; /* write min/max */
  float min, max;
} etpu_learn_quant;

/* Add a tensor to subgraph 0. Constants get their own buffer; with
 * empty_buffer an activation gets a new empty buffer, as libcoral's
 * AppendOperator gives every new tensor (else buffer 0). */
etpu_status etpu_learn_add_tensor(etpu_model *m, const char *name, int32_t type, uint32_t rank, const int32_t *shape,
                                  const etpu_learn_quant *q, const void *data, size_t size, bool empty_buffer,
                                  int32_t *index_out);
/* Replace a tensor's quantization (per tensor, with min/max if given). */
etpu_status etpu_learn_set_quant(etpu_model *m, uint32_t tensor, const etpu_learn_quant *q);
/* Replace a tensor's shape. */
etpu_status etpu_learn_set_shape(etpu_model *m, uint32_t tensor, uint32_t rank, const int32_t *shape);
/* The version to give a new op: the first existing operator code of this
 * builtin (libcoral's FindOrCreateOpcode reuses it whatever its version)
 * when it is at least min_version, else min_version. */
int32_t etpu_learn_op_version(const etpu_model *m, int32_t code, int32_t min_version);
/* True when subgraph 0 already has a tensor of this name. */
bool etpu_learn_has_tensor_named(const etpu_model *m, const char *name);

#endif
