/*
 * test_threads.c — the thread pool (src/base/pool.c) and the promise that
 * every thread count gives the same bytes.
 *
 * Pool: every unit of [0, count) runs exactly once for 1 to 5 threads and
 * counts around the thread count; a failing unit's status and message reach
 * the caller and the pool still works afterwards; a NULL pool runs on the
 * caller.
 *
 * Interpreter: each shared Coral model etpu can run (and the goldens'
 * int8-I/O MobileNet v2), fed seeded random inputs, keeps every tensor
 * (keep_all_tensors) with 1 thread; the same model with 2, 3 and 4 threads
 * must give every tensor byte for byte. The optimized kernels split each
 * layer into units of work that threads claim in a different order every
 * run, so a kernel whose result depended on the split, or two units writing
 * the same bytes, would show here (and under ThreadSanitizer in CI).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/pool.h"
#include "testutil.h"

/* ---- the pool ----------------------------------------------------------- */

typedef struct count_ctx {
  atomic_int *hits;
  size_t fail_at; /* SIZE_MAX: none */
  atomic_int workers_seen[8];
} count_ctx;

static etpu_status count_unit(void *ctx, uint32_t worker, size_t unit) {
  count_ctx *c = ctx;
  if (worker < 8) atomic_fetch_add(&c->workers_seen[worker], 1);
  if (unit == c->fail_at) return etpu_fail(ETPU_MALFORMED, "unit %zu refused on purpose", unit);
  atomic_fetch_add(&c->hits[unit], 1);
  return ETPU_OK;
}

static void test_pool(void) {
  enum { MAX_UNITS = 1000 };
  atomic_int *hits = calloc(MAX_UNITS, sizeof *hits);
  CHECK(hits != NULL);
  if (!hits) return;
  static const size_t counts[] = {0, 1, 2, 3, 4, 5, 7, 64, 999, 1000};
  for (uint32_t threads = 1; threads <= 5; threads++) {
    etpu_pool *p = NULL;
    CHECK_OK(etpu_pool_create(threads, &p));
    if (!p) continue;
    CHECK_MSG(etpu_pool_threads(p) == threads, "asked for %u threads, got %u", threads, etpu_pool_threads(p));
    for (int round = 0; round < 20; round++) {
      for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        const size_t n = counts[k];
        count_ctx c;
        memset(&c, 0, sizeof c);
        c.hits = hits;
        c.fail_at = SIZE_MAX;
        for (size_t u = 0; u < MAX_UNITS; u++) atomic_store(&hits[u], 0);
        CHECK_OK(etpu_pool_run(p, n, count_unit, &c));
        int wrong = 0;
        for (size_t u = 0; u < MAX_UNITS; u++) wrong += atomic_load(&hits[u]) != (u < n ? 1 : 0);
        CHECK_MSG(wrong == 0, "%u threads, %zu units: %d units not run exactly once", threads, n, wrong);
        int seen = 0;
        for (int w = 0; w < 8; w++) seen += atomic_load(&c.workers_seen[w]);
        CHECK_MSG(seen == (int)n, "%u threads, %zu units: %d task calls", threads, n, seen);
        for (uint32_t w = threads; w < 8; w++) CHECK(atomic_load(&c.workers_seen[w]) == 0);
      }
    }
    /* A failing unit: its status and message reach the caller. */
    count_ctx c;
    memset(&c, 0, sizeof c);
    c.hits = hits;
    c.fail_at = 17;
    etpu_clear_error();
    const etpu_status st = etpu_pool_run(p, 100, count_unit, &c);
    CHECK_MSG(st == ETPU_MALFORMED, "%u threads: a failing unit gave %s", threads, etpu_status_name(st));
    CHECK_MSG(strstr(etpu_errmsg(), "unit 17 refused on purpose") != NULL, "message \"%s\"", etpu_errmsg());
    /* ... and the pool still runs every unit of the next job. */
    c.fail_at = SIZE_MAX;
    for (size_t u = 0; u < MAX_UNITS; u++) atomic_store(&hits[u], 0);
    CHECK_OK(etpu_pool_run(p, 300, count_unit, &c));
    int wrong = 0;
    for (size_t u = 0; u < 300; u++) wrong += atomic_load(&hits[u]) != 1;
    CHECK_MSG(wrong == 0, "%u threads: after a failure, %d units not run once", threads, wrong);
    etpu_pool_free(p);
  }
  /* NULL pool: the caller runs every unit. */
  count_ctx c;
  memset(&c, 0, sizeof c);
  c.hits = hits;
  c.fail_at = SIZE_MAX;
  for (size_t u = 0; u < MAX_UNITS; u++) atomic_store(&hits[u], 0);
  CHECK_OK(etpu_pool_run(NULL, 10, count_unit, &c));
  CHECK(atomic_load(&c.workers_seen[0]) == 10);
  CHECK(etpu_pool_threads(NULL) == 1);
  CHECK(etpu_pool_run(NULL, 10, NULL, &c) == ETPU_INVALID_ARGUMENT);
  etpu_pool *p = NULL;
  CHECK(etpu_pool_create(ETPU_POOL_MAX_THREADS + 1, &p) == ETPU_INVALID_ARGUMENT && p == NULL);
  CHECK(etpu_pool_default_threads() >= 1);
  free(hits);
}

/* ---- the interpreter ---------------------------------------------------- */

static uint64_t g_rng = 0x7468726561647331ull; /* "threads1" */

static uint8_t rnd8(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint8_t)(g_rng >> 24);
}

typedef struct snapshot {
  uint32_t n;      /* tensors */
  uint8_t **data;  /* NULL where the tensor cannot be read */
  size_t *size;
} snapshot;

static void snapshot_free(snapshot *s) {
  for (uint32_t i = 0; s->data && i < s->n; i++) free(s->data[i]);
  free(s->data);
  free(s->size);
  memset(s, 0, sizeof *s);
}

/* Run model with `threads` threads on inputs; copy every tensor. */
static etpu_status run_model(const etpu_model *m, etpu_profile profile, uint32_t threads, uint8_t **inputs,
                             snapshot *out) {
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = profile;
  o.keep_all_tensors = true;
  o.num_threads = threads;
  etpu_interp *ip = NULL;
  etpu_status st = etpu_interp_create(m, &o, &ip);
  if (st != ETPU_OK) return st;
  CHECK_MSG(etpu_interp_threads(ip) == threads, "interpreter has %u threads, asked for %u", etpu_interp_threads(ip),
            threads);
  st = etpu_interp_plan(ip, NULL);
  for (uint32_t i = 0; st == ETPU_OK && i < etpu_interp_input_count(ip); i++) {
    etpu_tensor_info t;
    st = etpu_model_tensor(m, 0, (uint32_t)etpu_interp_input_index(ip, i), &t);
    if (st == ETPU_OK) st = etpu_interp_set_input(ip, i, inputs[i], t.bytes);
  }
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  const uint32_t nt = etpu_model_tensor_count(m, 0);
  if (st == ETPU_OK) {
    out->n = nt;
    out->data = calloc(nt + 1, sizeof *out->data);
    out->size = calloc(nt + 1, sizeof *out->size);
    if (!out->data || !out->size) st = ETPU_OUT_OF_MEMORY;
  }
  for (uint32_t i = 0; st == ETPU_OK && i < nt; i++) {
    const void *d = NULL;
    size_t sz = 0;
    if (etpu_interp_tensor(ip, i, &d, &sz) != ETPU_OK || !d) continue;
    out->data[i] = malloc(sz ? sz : 1);
    if (!out->data[i]) {
      st = ETPU_OUT_OF_MEMORY;
      break;
    }
    memcpy(out->data[i], d, sz);
    out->size[i] = sz;
  }
  etpu_interp_free(ip);
  return st;
}

/* 1 thread, then 2, 3, 4: every tensor equal. Returns tensors compared. */
static uint32_t check_model(const char *path, etpu_profile profile) {
  etpu_model *m = NULL;
  if (etpu_model_open(path, &m) != ETPU_OK) {
    CHECK_MSG(false, "%s: %s", path, etpu_errmsg());
    return 0;
  }
  /* Seeded random bytes for each input. */
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.num_threads = 1;
  etpu_interp *probe = NULL;
  if (etpu_interp_create(m, &o, &probe) != ETPU_OK) {
    printf("  %s: not run (%s)\n", path, etpu_errmsg());
    etpu_model_free(m);
    return 0;
  }
  const uint32_t nin = etpu_interp_input_count(probe);
  uint8_t *inputs[16] = {0};
  bool ok = nin <= 16;
  for (uint32_t i = 0; ok && i < nin; i++) {
    etpu_tensor_info t;
    ok = etpu_model_tensor(m, 0, (uint32_t)etpu_interp_input_index(probe, i), &t) == ETPU_OK;
    if (ok) inputs[i] = malloc(t.bytes ? t.bytes : 1);
    ok = ok && inputs[i];
    for (size_t k = 0; ok && k < t.bytes; k++) inputs[i][k] = rnd8();
    /* float inputs: small finite values, not random bit patterns */
    if (ok && t.type == ETPU_FLOAT32)
      for (size_t k = 0; k + 4 <= t.bytes; k += 4) {
        const float f = (float)(inputs[i][k] % 200) / 100.0f - 1.0f;
        memcpy(inputs[i] + k, &f, 4);
      }
  }
  etpu_interp_free(probe);
  uint32_t compared = 0;
  snapshot one = {0};
  if (ok && run_model(m, profile, 1, inputs, &one) == ETPU_OK) {
    for (uint32_t threads = 2; threads <= 4; threads++) {
      snapshot many = {0};
      const etpu_status st = run_model(m, profile, threads, inputs, &many);
      CHECK_MSG(st == ETPU_OK, "%s: %u threads: %s", path, threads, etpu_errmsg());
      for (uint32_t i = 0; st == ETPU_OK && i < one.n && i < many.n; i++) {
        if (!one.data[i]) continue;
        compared++;
        CHECK_MSG(many.data[i] && many.size[i] == one.size[i] && !memcmp(many.data[i], one.data[i], one.size[i]),
                  "%s (%s): tensor %u differs with %u threads from 1 thread", path, etpu_profile_name((int)profile),
                  i, threads);
      }
      snapshot_free(&many);
    }
  } else {
    CHECK_MSG(false, "%s: 1 thread: %s", path, etpu_errmsg());
  }
  snapshot_free(&one);
  for (uint32_t i = 0; i < 16; i++) free(inputs[i]);
  etpu_model_free(m);
  return compared;
}

/* Set inputs once, invoke twice: inputs intact, outputs equal. */
static void check_inputs_kept(const char *path, uint32_t threads) {
  etpu_model *m = NULL;
  if (etpu_model_open(path, &m) != ETPU_OK) {
    CHECK_MSG(false, "%s: %s", path, etpu_errmsg());
    return;
  }
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.num_threads = threads;
  etpu_interp *ip = NULL;
  CHECK_OK(etpu_interp_create(m, &o, &ip));
  if (ip) CHECK_OK(etpu_interp_plan(ip, NULL));
  etpu_tensor_info t;
  const int32_t ti = ip ? etpu_interp_input_index(ip, 0) : -1;
  uint8_t *in = NULL, *out1 = NULL;
  size_t out_size = 0;
  if (ti >= 0 && etpu_model_tensor(m, 0, (uint32_t)ti, &t) == ETPU_OK && (in = malloc(t.bytes)) != NULL) {
    for (size_t k = 0; k < t.bytes; k++) in[k] = rnd8();
    CHECK_OK(etpu_interp_set_input(ip, 0, in, t.bytes));
    CHECK_OK(etpu_interp_invoke(ip));
    const void *d = NULL;
    size_t sz = 0;
    CHECK_OK(etpu_interp_tensor(ip, (uint32_t)ti, &d, &sz));
    CHECK_MSG(d && sz == t.bytes && !memcmp(d, in, sz), "%s, %u threads: the input changed during invoke", path,
              threads);
    CHECK_OK(etpu_interp_output(ip, 0, &d, &out_size));
    out1 = malloc(out_size ? out_size : 1);
    if (out1 && d) memcpy(out1, d, out_size);
    CHECK_OK(etpu_interp_invoke(ip));
    CHECK_OK(etpu_interp_output(ip, 0, &d, &sz));
    CHECK_MSG(out1 && d && sz == out_size && !memcmp(d, out1, sz),
              "%s, %u threads: a second invoke on the same inputs gave other outputs", path, threads);
  } else {
    CHECK_MSG(false, "%s: no input to set", path);
  }
  free(in);
  free(out1);
  etpu_interp_free(ip);
  etpu_model_free(m);
}

int main(void) {
  test_pool();
  const char *dir = tu_shared_dir();
  if (!dir) {
    tu_finish("test_threads (pool only)");
    return tu_skip_code();
  }
  static const char *const models[] = {
      "coral/mobilenet_v1_0.25_128_quant.tflite",
      "coral/mobilenet_v1_0.5_160_quant.tflite",
      "coral/mobilenet_v2_1.0_224_quant.tflite",
      "coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
      "coral/mobilenet_edgetpu_0.75_224_post_training_quant.tflite",
      "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite",
      "coral/deeplabv3_mnv2_dm05_pascal_quant.tflite",
      "coral/movenet_single_pose_lightning_ptq.tflite",
      "coral/keras_lstm_mnist_ptq.tflite",
      "goldens/models/mnv2_int8io.tflite",
      "float/vww_96_int8.tflite",
  };
  for (uint32_t threads = 1; threads <= 3; threads++)
    for (size_t k = 0; k < 3; k++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, models[k]);
      check_inputs_kept(path, threads);
    }
  uint32_t models_run = 0;
  for (size_t k = 0; k < sizeof models / sizeof models[0]; k++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, models[k]);
    for (int prof = 0; prof < 2; prof++) {
      /* tflite-ref on the small ones: the split is the same code, other requantization */
      if (prof == 0 && k >= 2 && k != 9) continue;
      const etpu_profile p = prof ? ETPU_PROFILE_LITERT : ETPU_PROFILE_TFLITE_REF;
      const uint32_t n = check_model(path, p);
      printf("  %s (%s): %u tensors equal with 2, 3 and 4 threads\n", models[k], etpu_profile_name((int)p), n);
      models_run += n > 0;
    }
  }
  /* A test that compared nothing would prove nothing. */
  CHECK_MSG(models_run >= 10, "only %u model runs compared tensors", models_run);
  return tu_finish("test_threads");
}
