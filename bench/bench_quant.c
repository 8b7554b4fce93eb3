/*
 * bench_quant.c — calibration throughput of etpu's post-training quantizer
 * (issue 6), against plain float inference of the same model in the same run,
 * and the time etpu_quantize takes once calibration is done.
 *
 * For each float model (float/mobilenet_v1_0.25_128.tflite with inputs
 * (x - 127.5) / 127.5 and float/vww_96_float.tflite with x / 255 under the
 * shared data folder, or the paths given, read with mean 127.5 / std 127.5)
 * it loads a set of shared photos as float inputs (decoding and resizing are
 * not timed: both sides get the same ready tensors), then measures, as the
 * median of R passes over all photos (the two kinds of pass alternate):
 *   peer         etpu_interp_set_input + etpu_interp_invoke per photo on a
 *                planned float interpreter (profile tflite-ref, the one
 *                calibration runs, arena shared between tensors);
 *   calibration  etpu_calibration_run per photo (the same float kernels with
 *                every tensor kept, plus the min/max of every tensor);
 *   histogram    etpu_calibration_run_histogram per photo (the second pass
 *                of --calib-method percentile / mse: the float model again,
 *                each value into its tensor's 2048-bin histogram);
 * and prints images per second for each and its ratio to the peer (the
 * calibration overhead: 1.00x would be free). Then etpu_quantize (ranges ->
 * int8 model, int8 I/O) is timed, median of 3, with each range method
 * (minmax, percentile=99.99, mse; with etpu_calibration_set_method, which
 * searches the clipped ranges), beside the
 * time of one calibration pass; then etpu_quantize_refine (--bias-correct,
 * --gptq, both) once each on the same photos. A model etpu cannot run or quantize yet is reported with etpu's
 * reason; the program still exits 0: benchmarks are not tests.
 *
 * Usage: bench_quant [R] [MODEL.tflite...]     (R: timed passes, default 5)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etpu/etpu.h"
#include "bench_util.h"


enum { DEFAULT_PASSES = 5, MAX_PASSES = 1000, QUANT_REPS = 3, MAX_IMAGES = 16 };

static const char *const photos[] = {
    "coral/cat.bmp",    "coral/bird.bmp",    "coral/sunflower.bmp", "coral/grace_hopper.bmp",
    "coral/squat.bmp",  "coral/parrot.jpg",  "coral/owl.jpg",       "float/images/sparrow.png",
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

typedef struct inputs {
  float *data[MAX_IMAGES];
  size_t bytes;
  int n;
} inputs;

/* The photos as the model's float input; false if the model is not a
 * single float image input. */
static bool load_inputs(const etpu_model *m, const char *dir, float mean, float std, inputs *in) {
  memset(in, 0, sizeof *in);
  etpu_tensor_info ti;
  if (etpu_model_input_count(m, 0) != 1 ||
      etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &ti) != ETPU_OK || ti.type != ETPU_FLOAT32) {
    printf("  skipped: not a model with one float32 input\n");
    return false;
  }
  in->bytes = sizeof(float);
  for (uint32_t d = 0; d < ti.rank; d++) in->bytes *= (size_t)(ti.shape[d] > 0 ? ti.shape[d] : 1);
  etpu_input_options o;
  memset(&o, 0, sizeof o);
  o.resize = ETPU_RESIZE_BILINEAR;
  o.normalize = true;
  o.mean = mean;
  o.std = std;
  for (size_t k = 0; k < sizeof photos / sizeof *photos && in->n < MAX_IMAGES; k++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, photos[k]);
    float *buf = malloc(in->bytes);
    if (!buf) break;
    if (etpu_tensor_load(path, &ti, &o, buf, in->bytes, NULL) != ETPU_OK) {
      free(buf);
      continue;
    }
    in->data[in->n++] = buf;
  }
  if (!in->n) printf("  skipped: none of the photos loads as this model's input: %s\n", etpu_errmsg());
  return in->n > 0;
}

static void free_inputs(inputs *in) {
  for (int k = 0; k < in->n; k++) free(in->data[k]);
}

static void bench_model(const char *path, float mean, float std, const char *dir, int passes) {
  etpu_model *m = NULL, *q = NULL;
  etpu_interp *ip = NULL;
  etpu_calibration *cal = NULL, *hcal = NULL;
  double *peer = calloc((size_t)passes, sizeof *peer), *calib = calloc((size_t)passes, sizeof *calib),
         *hist = calloc((size_t)passes, sizeof *hist);
  inputs in;
  memset(&in, 0, sizeof in);
  printf("%s\n", path);
  if (!peer || !calib || !hist) goto done;
  if (etpu_model_open(path, &m) != ETPU_OK) {
    printf("  skipped: %s\n", etpu_errmsg());
    goto done;
  }
  if (!load_inputs(m, dir, mean, std, &in)) goto done;
  printf("  %d photos, mean %g std %g, %d timed passes (median)\n", in.n, (double)mean, (double)std, passes);

  etpu_interp_options io;
  etpu_interp_options_init(&io);
  io.profile = ETPU_PROFILE_TFLITE_REF;
  size_t arena = 0;
  if (etpu_interp_create(m, &io, &ip) != ETPU_OK || etpu_interp_plan(ip, &arena) != ETPU_OK) {
    printf("  not runnable yet: %s\n", etpu_errmsg());
    goto done;
  }
  double t_create = now_ms();
  if (etpu_calibration_create(m, &cal) != ETPU_OK) {
    printf("  calibration not possible: %s\n", etpu_errmsg());
    goto done;
  }
  t_create = now_ms() - t_create;
  /* A second calibration, whose first pass is done here untimed, for the
   * histogram passes of --calib-method percentile / mse. */
  if (etpu_calibration_create(m, &hcal) != ETPU_OK) goto done;
  for (int k = 0; k < in.n; k++) {
    const float *const one[1] = {in.data[k]};
    if (etpu_calibration_run(hcal, one, &in.bytes, 1) != ETPU_OK) {
      printf("  calibration failed: %s\n", etpu_errmsg());
      goto done;
    }
  }
  /* Peer, calibration and histogram passes alternate, so a change in the
   * machine's load reaches all three; pass -1 is a warm-up of each. */
  for (int r = -1; r < passes; r++) {
    double t0 = now_ms();
    for (int k = 0; k < in.n; k++)
      if (etpu_interp_set_input(ip, 0, in.data[k], in.bytes) != ETPU_OK || etpu_interp_invoke(ip) != ETPU_OK) {
        printf("  float invoke failed: %s\n", etpu_errmsg());
        goto done;
      }
    double t1 = now_ms();
    for (int k = 0; k < in.n; k++) {
      const float *const one[1] = {in.data[k]};
      if (etpu_calibration_run(cal, one, &in.bytes, 1) != ETPU_OK) {
        printf("  calibration failed: %s\n", etpu_errmsg());
        goto done;
      }
    }
    double t2 = now_ms();
    for (int k = 0; k < in.n; k++) {
      const float *const one[1] = {in.data[k]};
      if (etpu_calibration_run_histogram(hcal, one, &in.bytes, 1) != ETPU_OK) {
        printf("  histogram pass failed: %s\n", etpu_errmsg());
        goto done;
      }
    }
    if (r >= 0) {
      peer[r] = t1 - t0;
      calib[r] = t2 - t1;
      hist[r] = now_ms() - t2;
    }
  }
  double peer_ms = median(peer, passes) / in.n, calib_ms = median(calib, passes) / in.n,
         hist_ms = median(hist, passes) / in.n;
  printf("  peer: float invoke   %8.3f ms/image  %8.1f images/s\n", peer_ms, 1e3 / peer_ms);
  printf("  calibration run      %8.3f ms/image  %8.1f images/s  (%.2fx the float invoke; create %.2f ms)\n",
         calib_ms, 1e3 / calib_ms, calib_ms / peer_ms, t_create);
  printf("  histogram run        %8.3f ms/image  %8.1f images/s  (%.2fx the float invoke; percentile/mse's 2nd pass)\n",
         hist_ms, 1e3 / hist_ms, hist_ms / peer_ms);

  etpu_quantize_options qo;
  memset(&qo, 0, sizeof qo);
  qo.io = ETPU_QUANT_IO_INT8;
  static const struct {
    const char *name;
    etpu_calib_method method;
    float percentile;
  } methods[] = {{"minmax", ETPU_CALIB_MINMAX, 0}, {"percentile=99.99", ETPU_CALIB_PERCENTILE, 99.99f},
                 {"mse", ETPU_CALIB_MSE, 0}};
  for (size_t k = 0; k < sizeof methods / sizeof *methods; k++) {
    if (etpu_calibration_set_method(hcal, methods[k].method, methods[k].percentile) != ETPU_OK) {
      printf("  %s: %s\n", methods[k].name, etpu_errmsg());
      continue;
    }
    double tq[QUANT_REPS];
    for (int r = 0; r < QUANT_REPS; r++) {
      double t0 = now_ms();
      /* the range search of percentile/mse runs here */
      if (etpu_calibration_set_method(hcal, methods[k].method, methods[k].percentile) != ETPU_OK ||
          etpu_quantize(m, hcal, &qo, &q) != ETPU_OK) {
        printf("  etpu_quantize: %s\n", etpu_errmsg());
        goto done;
      }
      tq[r] = now_ms() - t0;
      etpu_model_free(q);
      q = NULL;
    }
    double quant_ms = median(tq, QUANT_REPS);
    printf("  etpu_quantize %-16s %8.3f ms  (%.2fx one calibration pass of %d photos)\n", methods[k].name, quant_ms,
           quant_ms / (calib_ms * in.n), in.n);
  }
  /* Refinement on the same photos (minmax ranges), once each: it runs the
   * int8 model's prefix twice per layer and photo. */
  if (etpu_calibration_set_method(hcal, ETPU_CALIB_MINMAX, 0) == ETPU_OK) {
    static const struct {
      const char *name;
      etpu_refine_options o;
    } refines[] = {{"--bias-correct", {false, true}}, {"--gptq", {true, false}}, {"--gptq --bias-correct", {true, true}}};
    const float *one[MAX_IMAGES][1];
    const float *const *per[MAX_IMAGES];
    for (int k = 0; k < in.n; k++) {
      one[k][0] = in.data[k];
      per[k] = one[k];
    }
    for (size_t k = 0; k < sizeof refines / sizeof *refines; k++) {
      if (etpu_quantize(m, hcal, &qo, &q) != ETPU_OK) {
        printf("  etpu_quantize: %s\n", etpu_errmsg());
        break;
      }
      etpu_refine_report rr;
      double t0 = now_ms();
      etpu_status st = etpu_quantize_refine(hcal, q, &refines[k].o, (uint32_t)in.n, per, &in.bytes, 1, &rr);
      double refine_ms = now_ms() - t0;
      etpu_model_free(q);
      q = NULL;
      if (st != ETPU_OK) {
        printf("  refine %s: %s\n", refines[k].name, etpu_errmsg());
        continue;
      }
      printf("  refine %-22s %8.1f ms  (%.1fx one calibration pass of %d photos; %u layers re-rounded, %u "
             "corrected)\n",
             refines[k].name, refine_ms, refine_ms / (calib_ms * in.n), in.n, rr.rounded, rr.corrected);
    }
  }
done:
  etpu_model_free(q);
  etpu_calibration_free(cal);
  etpu_calibration_free(hcal);
  etpu_interp_free(ip);
  free_inputs(&in);
  etpu_model_free(m);
  free(peer);
  free(calib);
  free(hist);
}

int main(int argc, char **argv) {
  const char *dir = bench_shared_dir();
  int passes = DEFAULT_PASSES, first = bench_leading_count(argc, argv, MAX_PASSES, &passes);
  printf("bench_quant: calibration images/s vs float invoke of the same model, single thread\n");
  if (argc > first) {
    for (int k = first; k < argc; k++) bench_model(argv[k], 127.5f, 127.5f, dir, passes);
    return 0;
  }
  static const struct {
    const char *name;
    float mean, std;
  } defaults[] = {{"float/mobilenet_v1_0.25_128.tflite", 127.5f, 127.5f}, {"float/vww_96_float.tflite", 0.0f, 255.0f}};
  for (size_t k = 0; k < sizeof defaults / sizeof *defaults; k++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, defaults[k].name);
    bench_model(path, defaults[k].mean, defaults[k].std, dir, passes);
  }
  return 0;
}
