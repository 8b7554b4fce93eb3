/*
 * bench_compile.c — how long `etpu compile` takes on real models, measured
 * against opening the same model (the work every etpu command does first).
 *
 * For each model (by default the shared movenet_single_pose_lightning_ptq
 * (157 ops) and traffic_model (185 ops), or the paths given) it times, as the
 * median of many repetitions:
 *   open     etpu_model_open + etpu_model_free (mmap, verify, lift, checks)
 *   compile  etpu_compile + etpu_compilation_free on an open model: the
 *            decisions only (every rule of every op, the dataflow cut, the
 *            memory estimate)
 *   write    etpu_compilation_write of every output model + etpu_free on a
 *            finished compilation (the output models with their payloads)
 * and prints ms, the ratio compile/open and (compile+write)/open.
 *
 * Usage: bench_compile [MODEL.tflite...]
 * Without arguments the models come from ETPU_SHARED_DATA (environment) or
 * the folder configured in CMake. Missing shared data is reported and the
 * program exits 0: benchmarks are not tests.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "etpu/etpu.h"
#include "bench_util.h"


enum { MIN_REPS = 20, MAX_REPS = 5000 };
static const double TARGET_SECONDS = 0.5; /* per measurement, beyond MIN_REPS */

static const char *const k_default_models[] = {
    "coral/movenet_single_pose_lightning_ptq.tflite",
    "coral/traffic_model.tflite",
};

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

typedef struct bench_ctx {
  const char *path;
  etpu_model *model;       /* open, for compile and write */
  etpu_compilation *comp;  /* finished, for write */
  volatile unsigned sink;
} bench_ctx;

typedef int (*bench_fn)(bench_ctx *c);

/* Run fn until MIN_REPS and TARGET_SECONDS are both reached (or MAX_REPS);
 * the median in seconds, or a negative value if fn failed. */
static double median_time(bench_fn fn, bench_ctx *c, int *reps_out) {
  static double samples[MAX_REPS];
  int n = 0;
  double total = 0;
  if (fn(c) != 0) return -1; /* warm-up */
  while (n < MAX_REPS) {
    double t0 = now_seconds();
    if (fn(c) != 0) return -1;
    double dt = now_seconds() - t0;
    samples[n++] = dt;
    total += dt;
    if (n >= MIN_REPS && total >= TARGET_SECONDS) break;
  }
  qsort(samples, (size_t)n, sizeof samples[0], cmp_double);
  *reps_out = n;
  return n % 2 ? samples[n / 2] : 0.5 * (samples[n / 2 - 1] + samples[n / 2]);
}

static int do_open(bench_ctx *c) {
  etpu_model *m;
  if (etpu_model_open(c->path, &m) != ETPU_OK) return -1;
  c->sink += etpu_model_op_count(m, 0);
  etpu_model_free(m);
  return 0;
}

static int do_compile(bench_ctx *c) {
  etpu_compilation *comp;
  if (etpu_compile(c->model, NULL, &comp) != ETPU_OK) return -1;
  c->sink += etpu_compilation_op_count(comp);
  etpu_compilation_free(comp);
  return 0;
}

static int do_write(bench_ctx *c) {
  etpu_compile_summary s;
  etpu_compilation_summary(c->comp, &s);
  for (uint32_t k = 0; k < s.output_models; k++) {
    void *out;
    size_t size;
    if (etpu_compilation_write(c->comp, k, &out, &size) != ETPU_OK) return -1;
    c->sink += (unsigned)size;
    etpu_free(out);
  }
  return 0;
}

/* Benchmark one model; 0 on success, 1 if etpu failed on it. */
static int bench_model(const char *path) {
  bench_ctx c = {0};
  c.path = path;
  struct stat st;
  if (stat(path, &st) != 0) {
    printf("%s: not found; skipped\n", path);
    return 0;
  }
  if (etpu_model_open(path, &c.model) != ETPU_OK || etpu_compile(c.model, NULL, &c.comp) != ETPU_OK) {
    fprintf(stderr, "bench_compile: %s\n", etpu_errmsg());
    etpu_model_free(c.model);
    return 1;
  }
  etpu_compile_summary s;
  etpu_compilation_summary(c.comp, &s);
  void *out = NULL;
  size_t out_size = 0;
  if (etpu_compilation_write(c.comp, 0, &out, &out_size) != ETPU_OK) {
    fprintf(stderr, "bench_compile: %s\n", etpu_errmsg());
    etpu_compilation_free(c.comp);
    etpu_model_free(c.model);
    return 1;
  }
  etpu_free(out);
  printf("model: %s\n", path);
  printf("  %lld bytes, %u ops (%u on the Edge TPU, %u on the CPU, %u Edge TPU subgraph(s)), output %zu bytes\n",
         (long long)st.st_size, s.total_ops, s.edgetpu_ops, s.cpu_ops, s.edgetpu_subgraphs, out_size);

  struct {
    const char *name;
    bench_fn fn;
    double t;
    int reps;
  } runs[] = {{"open", do_open, 0, 0}, {"compile", do_compile, 0, 0}, {"write", do_write, 0, 0}};
  int rc = 0;
  for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
    runs[i].t = median_time(runs[i].fn, &c, &runs[i].reps);
    if (runs[i].t < 0) {
      fprintf(stderr, "bench_compile: %s failed: %s\n", runs[i].name, etpu_errmsg());
      rc = 1;
      break;
    }
    printf("  %-8s %9.3f ms  (median of %d)\n", runs[i].name, runs[i].t * 1e3, runs[i].reps);
  }
  if (rc == 0) {
    printf("  compile/open: %.2fx   (compile+write)/open: %.2fx   compile per op: %.2f us\n", runs[1].t / runs[0].t,
           (runs[1].t + runs[2].t) / runs[0].t, runs[1].t * 1e6 / (s.total_ops ? s.total_ops : 1));
  }
  etpu_compilation_free(c.comp);
  etpu_model_free(c.model);
  return rc;
}

int main(int argc, char **argv) {
  printf("bench_compile: etpu %s (medians; ratios against open measured in the same run)\n", etpu_version());
  int rc = 0;
  if (argc > 1) {
    for (int i = 1; i < argc; i++) rc |= bench_model(argv[i]);
    return rc;
  }
  const char *dir = bench_shared_dir();
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    printf("bench_compile: shared data not found at '%s' (put ../shared/data beside the clone, set "
           "ETPU_SHARED_DATA=DIR or pass model paths); nothing to measure\n",
           dir);
    return 0;
  }
  for (size_t i = 0; i < sizeof k_default_models / sizeof k_default_models[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, k_default_models[i]);
    rc |= bench_model(path);
  }
  return rc;
}
