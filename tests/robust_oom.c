/*
 * robust_oom.c — every allocation etpu makes can fail, cleanly.
 *
 * An etpu_allocator counts allocations (malloc and realloc calls) and
 * outstanding blocks, and fails the Nth allocation (once, or — in "sticky"
 * mode — the Nth and every later one). For each scenario the test first
 * counts the K allocations a clean run makes, then runs it again for
 * N = 1..K+1 in both modes: each step must return ETPU_OK or
 * ETPU_OUT_OF_MEMORY with a message (and never another status), the run must
 * succeed when N > K, and after everything is closed and freed no block may
 * be outstanding. ASan (ETPU_SANITIZE=ON) also checks every failure path for
 * use-after-free and double free.
 *
 * Scenarios: open from memory (ETPU_OPEN_COPY) and from a file; write (plain
 * and compact) a model opened beforehand; its HTML page (etpu_visualize_html); a builder session (create, add
 * tensors with data and quantization, add ops with options, set io, edit,
 * remove, validate, write, reopen), once small and once with 300 more ops.
 * Models: coral/tools/split_concat, coral/keras_lstm_mnist_ptq(_edgetpu),
 * tflite-micro/hello_world_int8, the float/ops models, and every shared model
 * up to 64 KiB (etpu's arena makes only a handful of allocations per model,
 * so many models are needed to reach many allocation sites). The builder
 * needs no shared data. ETPU_ROBUST_VERBOSE=1 lists each scenario.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- the failing allocator ---------------------------------------------- */

typedef struct oom_state {
  uint64_t calls;       /* allocations attempted (malloc + realloc) */
  uint64_t fail_at;     /* 0 = never */
  bool sticky;          /* fail fail_at and every later allocation */
  uint64_t failed;      /* allocations refused */
  int64_t outstanding;  /* live blocks */
} oom_state;

static oom_state g;

static bool should_fail(void) {
  g.calls++;
  if (g.fail_at == 0) return false;
  bool f = g.sticky ? g.calls >= g.fail_at : g.calls == g.fail_at;
  if (f) g.failed++;
  return f;
}

static void *t_malloc(void *u, size_t n) {
  (void)u;
  if (should_fail()) return NULL;
  void *p = malloc(n ? n : 1);
  if (p) g.outstanding++;
  return p;
}

static void *t_realloc(void *u, void *p, size_t n) {
  (void)u;
  if (should_fail()) return NULL;
  void *q = realloc(p, n ? n : 1);
  if (q && !p) g.outstanding++;
  return q;
}

static void t_free(void *u, void *p) {
  (void)u;
  if (p) {
    g.outstanding--;
    free(p);
  }
}

static void arm(uint64_t fail_at, bool sticky) {
  g.calls = 0;
  g.failed = 0;
  g.fail_at = fail_at;
  g.sticky = sticky;
}

/* A step's status: OK, or OUT_OF_MEMORY with a message. Returns true if OK. */
static bool step_ok(const char *scenario, const char *step, uint64_t n, etpu_status st, bool *oom_seen) {
  if (st == ETPU_OK) return true;
  CHECK_MSG(st == ETPU_OUT_OF_MEMORY, "%s: fail #%llu: %s returned %s (%s), expected out of memory", scenario,
            (unsigned long long)n, step, etpu_status_name(st), etpu_errmsg());
  CHECK_MSG(etpu_errmsg()[0] != 0, "%s: fail #%llu: %s: empty message", scenario, (unsigned long long)n, step);
  CHECK_MSG(g.failed > 0, "%s: fail #%llu: %s reports %s but no allocation failed", scenario, (unsigned long long)n,
            step, etpu_status_name(st));
  *oom_seen = true;
  return false;
}

/* ---- scenarios ----------------------------------------------------------- */

typedef struct scenario_ctx {
  const char *path;
  const unsigned char *bytes;
  size_t size;
  etpu_model *pre; /* opened before arming (write scenarios) */
  int extra;       /* builder: extra RELU ops appended (to cross many arena blocks) */
} scenario_ctx;

/* Each returns true when every step succeeded. */
typedef bool (*scenario_fn)(const scenario_ctx *c, const char *name, uint64_t n, bool *oom_seen);

static bool sc_open_buffer(const scenario_ctx *c, const char *name, uint64_t n, bool *oom_seen) {
  etpu_model *const sentinel = (etpu_model *)(uintptr_t)0x1234;
  etpu_model *m = sentinel;
  etpu_status st = etpu_model_open_buffer(c->bytes, c->size, c->path, ETPU_OPEN_COPY, &m);
  if (!step_ok(name, "open_buffer", n, st, oom_seen)) {
    CHECK_MSG(m == sentinel, "%s: fail #%llu: model_out changed on failure", name, (unsigned long long)n);
    return false;
  }
  CHECK(etpu_model_subgraph_count(m) > 0);
  etpu_model_free(m);
  return true;
}

static bool sc_open_file(const scenario_ctx *c, const char *name, uint64_t n, bool *oom_seen) {
  etpu_model *m = NULL;
  etpu_status st = etpu_model_open(c->path, &m);
  if (!step_ok(name, "open", n, st, oom_seen)) return false;
  etpu_model_free(m);
  return true;
}

static bool write_and_check(const etpu_model *m, unsigned flags, const char *name, uint64_t n, bool *oom_seen) {
  void *out = (void *)(uintptr_t)0x1234;
  size_t size = 777;
  etpu_status st = etpu_model_write_buffer(m, flags, &out, &size);
  if (!step_ok(name, flags ? "write_buffer(COMPACT)" : "write_buffer", n, st, oom_seen)) {
    CHECK_MSG(out == (void *)(uintptr_t)0x1234 && size == 777, "%s: fail #%llu: outputs changed on failure", name,
              (unsigned long long)n);
    return false;
  }
  CHECK(size >= 8 && memcmp((const char *)out + 4, "TFL3", 4) == 0);
  etpu_free(out);
  return true;
}

static bool sc_write(const scenario_ctx *c, const char *name, uint64_t n, bool *oom_seen) {
  if (!write_and_check(c->pre, 0, name, n, oom_seen)) return false;
  return write_and_check(c->pre, ETPU_WRITE_COMPACT, name, n, oom_seen);
}

/* The HTML page of a model opened beforehand (compiled in memory, payloads
 * opened, laid out, written into a growing string). */
static bool sc_visualize(const scenario_ctx *c, const char *name, uint64_t n, bool *oom_seen) {
  char *html = (char *)(uintptr_t)0x1234;
  size_t size = 777;
  etpu_status st = etpu_visualize_html(c->pre, NULL, &html, &size);
  if (!step_ok(name, "visualize_html", n, st, oom_seen)) {
    CHECK_MSG(html == (char *)(uintptr_t)0x1234 && size == 777, "%s: fail #%llu: outputs changed on failure", name,
              (unsigned long long)n);
    return false;
  }
  CHECK(size > 100 && strlen(html) == size && strncmp(html, "<!DOCTYPE html>", 15) == 0);
  etpu_free(html);
  return true;
}

#define STEP(label, expr)                                      \
  do {                                                         \
    if (!step_ok(name, label, n, (expr), oom_seen)) goto done; \
  } while (0)

static bool sc_builder(const scenario_ctx *c, const char *name, uint64_t n, bool *oom_seen) {
  bool ok = false;
  etpu_model *m = NULL, *m2 = NULL;
  void *out = NULL;
  size_t out_size = 0;
  STEP("create", etpu_model_create(&m));
  STEP("set_description", etpu_model_set_description(m, "robust_oom builder model"));
  const int32_t in_shape[4] = {1, 8, 8, 3}, w_shape[4] = {4, 3, 3, 3}, b_shape[1] = {4}, out_shape[4] = {1, 8, 8, 4};
  const int32_t flat_shape[2] = {1, 256};
  int8_t weights[4 * 3 * 3 * 3];
  int32_t bias[4] = {1, -2, 3, -4};
  for (size_t i = 0; i < sizeof weights; i++) weights[i] = (int8_t)(i * 7 - 50);
  const float in_scale[1] = {0.5f}, w_scale[4] = {0.01f, 0.02f, 0.03f, 0.04f}, b_scale[4] = {0.005f, 0.01f, 0.015f, 0.02f};
  const int64_t in_zp[1] = {-1}, w_zp[4] = {0, 0, 0, 0};
  etpu_quant_params qin = {1, in_scale, in_zp, 0};
  etpu_quant_params qw = {4, w_scale, w_zp, 0};
  etpu_quant_params qb = {4, b_scale, w_zp, 0};
  int32_t tin, tw, tb, tconv, tflat, tsoft, tspare;
  STEP("add_tensor input", etpu_model_add_tensor(m, 0, "input", ETPU_INT8, 4, in_shape, &qin, NULL, 0, &tin));
  STEP("add_tensor weights",
       etpu_model_add_tensor(m, 0, "weights", ETPU_INT8, 4, w_shape, &qw, weights, sizeof weights, &tw));
  STEP("add_tensor bias", etpu_model_add_tensor(m, 0, "bias", ETPU_INT32, 1, b_shape, &qb, bias, sizeof bias, &tb));
  STEP("add_tensor conv", etpu_model_add_tensor(m, 0, "conv", ETPU_INT8, 4, out_shape, &qin, NULL, 0, &tconv));
  STEP("add_tensor flat", etpu_model_add_tensor(m, 0, "flat", ETPU_INT8, 2, flat_shape, &qin, NULL, 0, &tflat));
  STEP("add_tensor softmax", etpu_model_add_tensor(m, 0, "softmax", ETPU_INT8, 2, flat_shape, &qin, NULL, 0, &tsoft));
  STEP("add_tensor spare", etpu_model_add_tensor(m, 0, "spare", ETPU_FLOAT32, 0, NULL, NULL, NULL, 0, &tspare));
  const float one = 1.0f;
  STEP("set_tensor_data", etpu_model_set_tensor_data(m, 0, (uint32_t)tspare, &one, sizeof one));
  STEP("set_tensor_quant", etpu_model_set_tensor_quant(m, 0, (uint32_t)tconv, &qin));
  STEP("set_tensor_variable", etpu_model_set_tensor_variable(m, 0, (uint32_t)tspare, false));
  const etpu_option conv_opts[] = {{"padding", 0, 0, 0, NULL},
                                   {"stride_w", 1, 0, 0, NULL},
                                   {"stride_h", 1, 0, 0, NULL},
                                   {"fused_activation_function", 1, 0, 0, NULL}};
  const int32_t conv_in[3] = {tin, tw, tb}, conv_out[1] = {tconv};
  STEP("add_op CONV_2D", etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, 1, 3, conv_in, 1, conv_out, 4, conv_opts,
                                           NULL, 0, NULL));
  const int32_t new_shape[2] = {1, 256};
  const etpu_option reshape_opts[] = {{"new_shape", 0, 0, 2, new_shape}};
  const int32_t r_in[1] = {tconv}, r_out[1] = {tflat};
  STEP("add_op RESHAPE", etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, 1, 1, r_in, 1, r_out, 1, reshape_opts, NULL,
                                           0, NULL));
  const etpu_option soft_opts[] = {{"beta", 0, 1.0, 0, NULL}};
  const int32_t s_in[1] = {tflat}, s_out[1] = {tsoft};
  STEP("add_op SOFTMAX",
       etpu_model_add_op(m, 0, ETPU_OP_SOFTMAX, NULL, 1, 1, s_in, 1, s_out, 1, soft_opts, NULL, 0, NULL));
  const uint8_t custom[5] = {1, 2, 3, 4, 5};
  int32_t tcustom;
  STEP("add_tensor custom out",
       etpu_model_add_tensor(m, 0, "custom_out", ETPU_INT8, 2, flat_shape, NULL, NULL, 0, &tcustom));
  const int32_t c_in[1] = {tsoft}, c_out[1] = {tcustom};
  int32_t custom_op;
  STEP("add_op custom", etpu_model_add_op(m, 0, ETPU_OP_CUSTOM, "robust-custom-op", 1, 1, c_in, 1, c_out, 0, NULL,
                                          custom, sizeof custom, &custom_op));
  STEP("remove_op", etpu_model_remove_op(m, 0, (uint32_t)custom_op));
  STEP("remove_tensor", etpu_model_remove_tensor(m, 0, (uint32_t)tcustom));
  int32_t last = tsoft;
  for (int i = 0; i < c->extra; i++) {
    char tname[32];
    snprintf(tname, sizeof tname, "relu_%d", i);
    int32_t t;
    STEP("add_tensor chain", etpu_model_add_tensor(m, 0, tname, ETPU_INT8, 2, flat_shape, &qin, NULL, 0, &t));
    const int32_t x_in[1] = {last}, x_out[1] = {t};
    STEP("add_op chain", etpu_model_add_op(m, 0, i % 2 ? ETPU_OP_RELU : ETPU_OP_RELU6, NULL, 1 + i % 3, 1, x_in, 1,
                                           x_out, 0, NULL, NULL, 0, NULL));
    last = t;
  }
  const int32_t gin[1] = {tin}, gout[1] = {last};
  STEP("set_io", etpu_model_set_io(m, 0, 1, gin, 1, gout));
  STEP("validate", etpu_model_validate(m));
  STEP("write_buffer", etpu_model_write_buffer(m, 0, &out, &out_size));
  STEP("open_buffer of the built model", etpu_model_open_buffer(out, out_size, "built", ETPU_OPEN_COPY, &m2));
  CHECK(etpu_model_op_count(m2, 0) == 3 + (uint32_t)c->extra && etpu_model_tensor_count(m2, 0) == 7 + (uint32_t)c->extra);
  ok = true;
done:
  etpu_model_free(m2);
  etpu_free(out);
  etpu_model_free(m);
  return ok;
}

/* ---- driver ------------------------------------------------------------- */

static uint64_t g_runs = 0, g_scenarios = 0, g_max_k = 0;

static void run_scenario(const char *name, scenario_fn fn, const scenario_ctx *c) {
  /* Clean run: count K. */
  int64_t base = g.outstanding;
  arm(0, false);
  bool dummy = false;
  bool ok = fn(c, name, 0, &dummy);
  uint64_t K = g.calls;
  CHECK_MSG(ok, "%s: fails without any allocation failure: %s", name, etpu_errmsg());
  CHECK_MSG(g.outstanding == base, "%s: %lld blocks leaked by a clean run", name, (long long)(g.outstanding - base));
  if (!ok) return;
  for (int sticky = 0; sticky < 2; sticky++) {
    for (uint64_t n = 1; n <= K + 1; n++) {
      arm(n, sticky != 0);
      bool oom_seen = false;
      ok = fn(c, name, n, &oom_seen);
      g_runs++;
      g.fail_at = 0;
      if (n > K) CHECK_MSG(ok, "%s: failing allocation #%llu (of %llu) still failed", name, (unsigned long long)n,
                           (unsigned long long)K);
      /* A refused allocation must be reported, not swallowed (except by the
       * few paths that can fall back: none today, so require it). */
      if (n <= K)
        CHECK_MSG(!ok && oom_seen, "%s: %s allocation #%llu of %llu refused but every step returned OK", name,
                  sticky ? "sticky" : "single", (unsigned long long)n, (unsigned long long)K);
      CHECK_MSG(g.outstanding == base, "%s: %s failure of allocation #%llu: %lld blocks leaked", name,
                sticky ? "sticky" : "single", (unsigned long long)n, (long long)(g.outstanding - base));
      g.outstanding = base; /* report each leak once */
    }
  }
  if (getenv("ETPU_ROBUST_VERBOSE")) printf("  %-60s %4llu allocations\n", name, (unsigned long long)K);
  g_scenarios++;
  if (K > g_max_k) g_max_k = K;
}

/* The named models, the float/ops models, and every model up to 64 KiB
 * (the arena makes few allocations per model, so many models are needed to
 * reach many allocation sites). */
static bool wanted(const char *rel, size_t size) {
  if (size <= ((size_t)64 << 10)) return true;
  static const char *const named[] = {"coral/tools/split_concat.tflite", "coral/keras_lstm_mnist_ptq.tflite",
                                      "coral/keras_lstm_mnist_ptq_edgetpu.tflite",
                                      "tflite-micro/hello_world_int8.tflite"};
  for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
    if (strcmp(rel, named[i]) == 0) return true;
  return strncmp(rel, "float/ops/", 10) == 0;
}

int main(void) {
  const etpu_allocator a = {t_malloc, t_realloc, t_free, NULL};
  etpu_set_allocator(&a);

  run_scenario("builder", sc_builder, &(scenario_ctx){0});
  run_scenario("builder + 300 ops", sc_builder, &(scenario_ctx){.extra = 300});

  const char *dir = tu_shared_dir();
  if (!dir) {
    etpu_set_allocator(NULL);
    if (tu_failures) return tu_finish("robust_oom"); /* the builder part failed */
    return tu_skip_code();
  }
  char **paths = NULL;
  size_t np = tu_list_models(dir, &paths);
  size_t dlen = strlen(dir), models = 0, skipped = 0;
  for (size_t i = 0; i < np; i++) {
    const char *rel = paths[i];
    if (strncmp(rel, dir, dlen) == 0 && rel[dlen] == '/') rel += dlen + 1;
    unsigned char *bytes = NULL;
    size_t size = 0;
    if (!tu_read_file(paths[i], &bytes, &size)) {
      CHECK_MSG(false, "cannot read %s", paths[i]);
      continue;
    }
    if (!wanted(rel, size)) {
      free(bytes);
      continue;
    }
    scenario_ctx c = {.path = paths[i], .bytes = bytes, .size = size};
    /* Only models etpu opens are useful here. */
    arm(0, false);
    etpu_model *m = NULL;
    etpu_status st = etpu_model_open_buffer(bytes, size, paths[i], ETPU_OPEN_COPY, &m);
    if (st != ETPU_OK) {
      if (getenv("ETPU_ROBUST_VERBOSE")) printf("  %s: skipped (%s)\n", rel, etpu_errmsg());
      skipped++;
      free(bytes);
      continue;
    }
    c.pre = m;
    char name[400];
    snprintf(name, sizeof name, "%s open_buffer", rel);
    run_scenario(name, sc_open_buffer, &c);
    snprintf(name, sizeof name, "%s open", rel);
    run_scenario(name, sc_open_file, &c);
    snprintf(name, sizeof name, "%s write", rel);
    run_scenario(name, sc_write, &c);
    snprintf(name, sizeof name, "%s visualize", rel);
    run_scenario(name, sc_visualize, &c);
    etpu_model_free(m);
    CHECK_MSG(g.outstanding == 0, "%s: %lld blocks outstanding after close", rel, (long long)g.outstanding);
    g.outstanding = 0;
    free(bytes);
    models++;
  }
  tu_free_list(paths, np);
  CHECK_MSG(models >= 4, "only %zu of the chosen shared models were found", models);
  printf("robust_oom: 2 builder sessions + %zu models (%zu more do not open), %llu scenarios, up to %llu "
         "allocations each, %llu runs with a failing allocation\n",
         models, skipped, (unsigned long long)g_scenarios, (unsigned long long)g_max_k, (unsigned long long)g_runs);
  etpu_set_allocator(NULL);
  return tu_finish("robust_oom");
}
