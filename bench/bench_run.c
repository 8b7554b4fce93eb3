/*
 * bench_run.c — single-thread inference latency and memory of etpu's
 * interpreter on Coral's MobileNets, one arithmetic profile against the
 * other in the same run.
 *
 * For each model (coral/mobilenet_v1_0.25_128_quant.tflite and
 * coral/mobilenet_v2_1.0_224_quant.tflite under the shared data folder, or
 * the paths given) and each profile (tflite-ref, litert) it creates the
 * interpreter, plans it, loads cat.bmp as the input (zeros if the image is
 * absent), runs a few warm-up invokes and then N timed ones, and prints:
 *   median and min invoke time (ms), and the litert / tflite-ref ratio;
 *   the planned arena beside the sum of all non-constant tensor sizes
 *   (etpu_interp_tensor_bytes: what a runtime without a planner would
 *   allocate), and their ratio.
 * A model etpu cannot run yet (an op not implemented) is reported with the
 * interpreter's reason and skipped; the program still exits 0: benchmarks
 * are not tests.
 *
 * Usage: bench_run [N] [MODEL.tflite...]     (N: timed invokes, default 20)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etpu/etpu.h"
#include "bench_util.h"


enum { WARMUP = 2, DEFAULT_REPS = 20, MAX_REPS = 100000 };

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct measure {
  bool ok;
  double median_ms, min_ms;
  size_t arena, tensors;
} measure;

/* One model under one profile; false (after printing why) if it cannot run. */
static bool bench_one(const etpu_model *m, etpu_profile profile, const char *image, int reps, measure *out) {
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = profile;
  o.keep_all_tensors = false;
  o.num_threads = 1; /* what this bench says it measures (0 would be every core) */
  etpu_interp *ip = NULL;
  void *in = NULL;
  double *t = NULL;
  bool ok = false;
  if (etpu_interp_create(m, &o, &ip) != ETPU_OK || etpu_interp_plan(ip, &out->arena) != ETPU_OK) {
    printf("  %-10s not runnable yet: %s\n", etpu_profile_name((int)profile), etpu_errmsg());
    goto done;
  }
  out->tensors = etpu_interp_tensor_bytes(ip);
  for (uint32_t i = 0; i < etpu_interp_input_count(ip); i++) {
    etpu_tensor_info ti;
    if (etpu_model_tensor(m, 0, (uint32_t)etpu_interp_input_index(ip, i), &ti) != ETPU_OK) goto done;
    size_t bytes = etpu_dtype_size(ti.type);
    for (uint32_t d = 0; d < ti.rank; d++) bytes *= (size_t)(ti.shape[d] > 0 ? ti.shape[d] : 0);
    free(in);
    in = calloc(bytes ? bytes : 1, 1);
    if (!in) goto done;
    if (i == 0 && image && etpu_tensor_load(image, &ti, NULL, in, bytes, NULL) != ETPU_OK)
      memset(in, 0, bytes); /* not an image input: zeros */
    if (etpu_interp_set_input(ip, i, in, bytes) != ETPU_OK) goto done;
  }
  t = malloc((size_t)reps * sizeof *t);
  if (!t) goto done;
  for (int r = 0; r < WARMUP + reps; r++) {
    double t0 = now_ms();
    if (etpu_interp_invoke(ip) != ETPU_OK) {
      printf("  %-10s invoke failed: %s\n", etpu_profile_name((int)profile), etpu_errmsg());
      goto done;
    }
    if (r >= WARMUP) t[r - WARMUP] = now_ms() - t0;
  }
  qsort(t, (size_t)reps, sizeof *t, cmp_double);
  out->min_ms = t[0];
  out->median_ms = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
  printf("  %-10s median %9.3f ms  min %9.3f ms  (%d invokes)  arena %zu B, all tensors %zu B (%.2fx)\n",
         etpu_profile_name((int)profile), out->median_ms, out->min_ms, reps, out->arena, out->tensors,
         out->arena ? (double)out->tensors / (double)out->arena : 0.0);
  ok = true;
done:
  free(t);
  free(in);
  etpu_interp_free(ip);
  out->ok = ok;
  return ok;
}

int main(int argc, char **argv) {
  const char *dir = bench_shared_dir();
  int reps = DEFAULT_REPS, first = bench_leading_count(argc, argv, MAX_REPS, &reps);
  static const char *const defaults[] = {"coral/mobilenet_v1_0.25_128_quant.tflite",
                                         "coral/mobilenet_v2_1.0_224_quant.tflite"};
  int nmodels = argc > first ? argc - first : 2;
  char image[4096];
  snprintf(image, sizeof image, "%s/coral/cat.bmp", dir);
  FILE *f = fopen(image, "rb");
  if (f)
    fclose(f);
  else
    image[0] = 0;
  printf("bench_run: single-thread invoke latency, median of %d (after %d warm-up); input %s; kernels %s "
         "(ETPU_ISA overrides)\n",
         reps, WARMUP, image[0] ? image : "zeros", etpu_isa_name());
  for (int k = 0; k < nmodels; k++) {
    char path[4096];
    if (argc > first)
      snprintf(path, sizeof path, "%s", argv[first + k]);
    else
      snprintf(path, sizeof path, "%s/%s", dir, defaults[k]);
    etpu_model *m;
    if (etpu_model_open(path, &m) != ETPU_OK) {
      printf("%s: skipped: %s\n", path, etpu_errmsg());
      continue;
    }
    printf("%s\n", path);
    measure ref = {0}, lit = {0};
    bench_one(m, ETPU_PROFILE_TFLITE_REF, image[0] ? image : NULL, reps, &ref);
    bench_one(m, ETPU_PROFILE_LITERT, image[0] ? image : NULL, reps, &lit);
    if (ref.ok && lit.ok && ref.median_ms > 0)
      printf("  litert / tflite-ref median: %.2fx\n", lit.median_ms / ref.median_ms);
    etpu_model_free(m);
  }
  return 0;
}
