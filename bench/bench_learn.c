/*
 * bench_learn.c — images per second of on-device learning (etpu_imprint_*,
 * etpu_softmax_regression_*) on Coral's embedding extractor, against the
 * embedding alone measured in the same run.
 *
 * The images are libcoral's seven imprinting test images (cat, dog, hotdog
 * under coral/imprinting/ in the shared data), fitted to the extractor's
 * input once, before any timing. Three measurements over P passes of the
 * seven images (one image = one labelled example), taken in turn within
 * each pass (in a rotating order) after one warm-up invoke:
 *   embed    the peer: etpu_interp_invoke of
 *            mobilenet_v1_1.0_224_quant_embedding_extractor.tflite per image
 *            (tflite-ref profile, as `etpu imprint` and `etpu train` use);
 *   imprint  what `etpu imprint --make` does per image: run the imprinting
 *            model's extractor (the backbone + L2Norm), dequantize, add it to
 *            its class with etpu_imprint_train; then build the model once;
 *   train    what `etpu train` does: embed and add every image, then 500
 *            SGD steps of batch 100 (libcoral's example settings) and append
 *            the layer; the SGD and append time is also shown on its own.
 * Each line gives images/s and the ratio to the embed rate: 1.00x means the
 * learning itself costs nothing beside the backbone.
 *
 * Usage: bench_learn [P]    (passes over the seven images, default 3)
 * A missing file or a model etpu cannot run is reported and the program
 * exits 0: benchmarks are not tests.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etpu/etpu.h"
#include "bench_util.h"


enum { NIMG = 7, DEFAULT_PASSES = 3, MAX_PASSES = 1000, SGD_STEPS = 500, SGD_BATCH = 100 };

static const char *const k_images[NIMG] = {"cat_train_0", "cat_test_0",     "dog_train_0",  "dog_test_0",
                                           "hotdog_train_0", "hotdog_train_1", "hotdog_test_0"};
static const uint32_t k_class[NIMG] = {0, 0, 1, 1, 2, 2, 2};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* An interpreter over a model with one uint8/int8 input and output. */
typedef struct runner {
  etpu_interp *ip;
  etpu_tensor_info out;
} runner;

static bool runner_init(runner *r, const etpu_model *m) {
  memset(r, 0, sizeof *r);
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = false;
  size_t arena;
  if (etpu_interp_create(m, &o, &r->ip) != ETPU_OK || etpu_interp_plan(r->ip, &arena) != ETPU_OK ||
      etpu_model_tensor(m, 0, (uint32_t)etpu_model_output(m, 0, 0), &r->out) != ETPU_OK) {
    printf("  not runnable: %s\n", etpu_errmsg());
    return false;
  }
  return true;
}

/* Run one input; the dequantized output into emb (if not NULL). */
static bool runner_embed(runner *r, const uint8_t *in, size_t n, float *emb, uint32_t dim) {
  const void *data = NULL;
  size_t got = 0;
  if (etpu_interp_set_input(r->ip, 0, in, n) != ETPU_OK || etpu_interp_invoke(r->ip) != ETPU_OK ||
      etpu_interp_output(r->ip, 0, &data, &got) != ETPU_OK || got < dim) {
    printf("  invoke failed: %s\n", etpu_errmsg());
    return false;
  }
  for (uint32_t i = 0; emb && i < dim; i++) {
    int32_t q = r->out.type == ETPU_INT8 ? ((const int8_t *)data)[i] : ((const uint8_t *)data)[i];
    emb[i] = r->out.scale[0] * (float)(q - (int32_t)r->out.zero_point[0]);
  }
  return true;
}

static void line(const char *what, double seconds, uint32_t images, double peer_rate) {
  double rate = (double)images / seconds;
  printf("  %-8s %7.2f images/s  (%u images in %.2f s)", what, rate, images, seconds);
  if (peer_rate > 0) printf("  %.2fx the embed rate", rate / peer_rate);
  printf("\n");
}

int main(int argc, char **argv) {
  const char *dir = bench_shared_dir();
  int passes = DEFAULT_PASSES;
  if (argc > 1) {
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end || v < 1 || v > MAX_PASSES) {
      fprintf(stderr, "usage: bench_learn [PASSES 1..%d]\n", MAX_PASSES);
      return 2;
    }
    passes = (int)v;
  }
  const uint32_t total = (uint32_t)passes * NIMG;
  char path[4096];
  snprintf(path, sizeof path, "%s/coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", dir);
  etpu_model *ex = NULL, *made = NULL, *built = NULL, *appended = NULL, *imx = NULL;
  etpu_imprint *im = NULL;
  etpu_softmax_regression *sr = NULL;
  runner er = {0}, ir = {0};
  uint8_t *pixels = NULL;
  float *emb = NULL;
  if (etpu_model_open(path, &ex) != ETPU_OK) {
    printf("bench_learn: skipped: %s\n", etpu_errmsg());
    return 0;
  }
  etpu_tensor_info in;
  if (etpu_model_tensor(ex, 0, (uint32_t)etpu_model_input(ex, 0, 0), &in) != ETPU_OK) goto out;
  size_t n = etpu_dtype_size(in.type);
  for (uint32_t d = 0; d < in.rank; d++) n *= (size_t)in.shape[d];
  pixels = malloc(n * NIMG);
  if (!pixels) goto out;
  for (int i = 0; i < NIMG; i++) {
    char ip[4096];
    snprintf(ip, sizeof ip, "%s/coral/imprinting/%s.bmp", dir, k_images[i]);
    if (etpu_tensor_load(ip, &in, NULL, pixels + (size_t)i * n, n, NULL) != ETPU_OK) {
      printf("bench_learn: skipped: %s\n", etpu_errmsg());
      goto out;
    }
  }
  printf("bench_learn: %s, %d pass%s over %d images (tflite-ref profile, one thread)\n", path, passes,
         passes == 1 ? "" : "es", NIMG);

  /* The three runners, warmed up with one invoke each. */
  if (!runner_init(&er, ex)) goto out;
  etpu_tensor_info eo = er.out;
  uint32_t dim = 1;
  for (uint32_t d = 0; d < eo.rank; d++) dim *= (uint32_t)eo.shape[d];
  emb = malloc(dim * sizeof *emb);
  if (!emb) goto out;
  etpu_sr_options so;
  etpu_softmax_regression_default_options(dim, 3, &so);
  so.seed = 1;
  if (etpu_imprint_make_model(ex, 0.0f, &made) != ETPU_OK || etpu_imprint_create(made, false, &im) != ETPU_OK ||
      etpu_imprint_extractor(im, &imx) != ETPU_OK || !runner_init(&ir, imx) ||
      etpu_softmax_regression_create(&so, &sr) != ETPU_OK) {
    printf("  %s\n", etpu_errmsg());
    goto out;
  }
  if (!runner_embed(&er, pixels, n, emb, dim) || !runner_embed(&ir, pixels, n, emb, dim)) goto out;
  /* Pass by pass, the three in turn, starting with a different one each
   * pass, so that a machine busy with other work (and whatever the previous
   * one left in the caches) weighs on all three alike. */
  double spent[3] = {0, 0, 0}; /* embed, imprint, train */
  for (int p = 0; p < passes; p++)
    for (int j = 0; j < 3; j++) {
      const int which = (p + j) % 3;
      double t0 = now_s();
      for (uint32_t k = 0; k < NIMG; k++) {
        if (!runner_embed(which == 1 ? &ir : &er, pixels + (size_t)k * n, n, emb, dim)) goto out;
        etpu_status st = ETPU_OK;
        if (which == 1) st = etpu_imprint_train(im, emb, dim, k_class[k]);
        if (which == 2) st = etpu_softmax_regression_add(sr, emb, dim, k_class[k], false);
        if (st != ETPU_OK) {
          printf("  %s: %s\n", which == 1 ? "imprint" : "train", etpu_errmsg());
          goto out;
        }
      }
      spent[which] += now_s() - t0;
    }
  double embed_s = spent[0], imprint_s = spent[1], train_s = spent[2];
  /* Then what each does once: write the imprinted model; train and append. */
  double t0 = now_s();
  if (etpu_imprint_build(im, &built) != ETPU_OK) {
    printf("  imprint: %s\n", etpu_errmsg());
    goto out;
  }
  double t1 = now_s();
  etpu_sr_train_options to = {SGD_STEPS, SGD_BATCH, 0.01f, 0, NULL, NULL};
  if (etpu_softmax_regression_train(sr, &to) != ETPU_OK || etpu_softmax_regression_append(ex, sr, &appended) != ETPU_OK) {
    printf("  train: %s\n", etpu_errmsg());
    goto out;
  }
  double t2 = now_s();
  imprint_s += t1 - t0;
  train_s += t2 - t1;
  double peer = (double)total / embed_s;
  line("embed", embed_s, total, 0);
  line("imprint", imprint_s, total, peer);
  printf("           of which the model build: %.3f s\n", t1 - t0);
  line("train", train_s, total, peer);
  printf("           of which %u SGD steps of %u and the append: %.3f s (%.0f steps/s)\n", SGD_STEPS, SGD_BATCH,
         t2 - t1, (double)SGD_STEPS / (t2 - t1));
out:
  etpu_interp_free(er.ip);
  etpu_interp_free(ir.ip);
  free(pixels);
  free(emb);
  etpu_model_free(appended);
  etpu_model_free(built);
  etpu_model_free(imx);
  etpu_softmax_regression_free(sr);
  etpu_imprint_free(im);
  etpu_model_free(made);
  etpu_model_free(ex);
  return 0;
}
