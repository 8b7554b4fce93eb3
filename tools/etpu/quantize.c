/*
 * quantize.c — `etpu quantize`: post-training int8 quantization of a float
 * model from a folder of calibration samples (images, .npy or raw tensors).
 *
 * Flow: open → load every sample of --calib DIR (sorted by name) as the
 * float input → calibrate → etpu_quantize → measure each tensor's SQNR of
 * int8 against float on the same samples → write atomically → print the
 * ranges, scales and errors, then the `etpu compile` summary of the result.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_SAMPLES 100000

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu quantize MODEL.tflite --calib DIR -o OUT.tflite [options]\n"
          "\n"
          "Post-training int8 quantization as TensorFlow's converter does it: calibrate on every\n"
          "image (BMP, PNG, JPEG), .npy or raw file in DIR, then quantize weights per channel,\n"
          "activations from the calibrated ranges.\n"
          "\n"
          "options:\n"
          "  --calib DIR            calibration samples (one file per sample; single-input models)\n"
          "  --mean M --std S       images: real = (pixel - M) / S (default 0 and 1: raw pixels)\n"
          "  --io float|int8|uint8  type of the model's inputs and outputs (default float: QUANTIZE\n"
          "                         first, DEQUANTIZE last)\n"
          "  --integer-only         fail, listing each op that cannot be quantized (the default)\n"
          "  --allow-float          keep such ops in float (not implemented yet)\n"
          "  -o OUT.tflite          output (written atomically)\n"
          "  -q, --quiet            print only the summary lines\n");
}

static int bad_usage(const char *msg, const char *arg) {
  fprintf(stderr, "etpu: error: quantize: ");
  fprintf(stderr, msg, arg);
  fprintf(stderr, "\n");
  usage(stderr);
  return 2;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted paths of the regular-looking files in dir (dotfiles skipped). */
static int list_dir(const char *dir, char ***out, size_t *n_out) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "etpu: error: quantize: cannot open calibration folder %s\n", dir);
    return 3;
  }
  char **v = NULL;
  size_t n = 0, cap = 0;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 64;
      char **nv = realloc(v, cap * sizeof *v);
      if (!nv) {
        rc = 3;
        break;
      }
      v = nv;
    }
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    v[n] = malloc(len);
    if (!v[n]) {
      rc = 3;
      break;
    }
    snprintf(v[n], len, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (n) qsort(v, n, sizeof *v, cmp_str);
  *out = v;
  *n_out = n;
  if (rc) fprintf(stderr, "etpu: error: out of memory\n");
  return rc;
}

typedef struct args {
  const char *model, *out;
  const char *calib[16];
  int ncalib;
  etpu_input_options in_opts;
  etpu_quantize_options q;
  bool quiet;
} args;

static int parse(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  a->in_opts.resize = ETPU_RESIZE_BILINEAR;
  a->in_opts.std = 1.0f;
  bool has_mean = false, has_std = false;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
      usage(stdout);
      return -1;
    }
    if (!strcmp(s, "--integer-only")) {
      a->q.allow_float = false;
    } else if (!strcmp(s, "--allow-float")) {
      a->q.allow_float = true;
    } else if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
      a->quiet = true;
    } else if (!strcmp(s, "--calib") || !strcmp(s, "-o") || !strcmp(s, "--mean") || !strcmp(s, "--std") ||
               !strcmp(s, "--io")) {
      if (i + 1 >= argc) return bad_usage("%s needs a value", s);
      const char *v = argv[++i];
      char *end;
      if (!strcmp(s, "--calib")) {
        if (a->ncalib == 16) return bad_usage("at most 16 --calib folders%s", "");
        a->calib[a->ncalib++] = v;
      } else if (!strcmp(s, "-o")) {
        a->out = v;
      } else if (!strcmp(s, "--io")) {
        if (!strcmp(v, "float")) a->q.io = ETPU_QUANT_IO_FLOAT;
        else if (!strcmp(v, "int8")) a->q.io = ETPU_QUANT_IO_INT8;
        else if (!strcmp(v, "uint8")) a->q.io = ETPU_QUANT_IO_UINT8;
        else return bad_usage("--io must be float, int8 or uint8, not '%s'", v);
      } else {
        float f = strtof(v, &end);
        if (end == v || *end || !isfinite(f)) return bad_usage("%s needs a number", s);
        if (!strcmp(s, "--mean")) {
          a->in_opts.mean = f;
          has_mean = true;
        } else {
          if (!(f > 0)) return bad_usage("--std must be > 0, not '%s'", v);
          a->in_opts.std = f;
          has_std = true;
        }
      }
    } else if (s[0] == '-' && s[1]) {
      return bad_usage("unknown option '%s'", s);
    } else if (!a->model) {
      a->model = s;
    } else {
      return bad_usage("more than one model given ('%s')", s);
    }
  }
  a->in_opts.normalize = has_mean || has_std;
  if (!a->model) return bad_usage("no model given%s", "");
  if (!a->ncalib) return bad_usage("--calib DIR is required%s", "");
  if (!a->out) return bad_usage("-o OUT.tflite is required%s", "");
  return 0;
}

typedef struct state {
  etpu_model *model, *qmodel;
  etpu_calibration *cal;
  char **files;
  size_t nfiles;
  float **samples;
  size_t sample_bytes;
  void *qbytes;
  etpu_compilation *comp;
} state;

static void print_report(const args *a, const state *s) {
  uint32_t n = etpu_model_tensor_count(s->model, 0);
  printf("%-5s %-12s %-12s %-12s %-5s %-9s %s\n", "t", "min", "max", "scale", "zp", "SQNR dB", "name");
  double worst = INFINITY;
  uint32_t worst_t = 0, measured = 0;
  for (uint32_t t = 0; t < n; t++) {
    float mn, mx;
    etpu_tensor_info qi;
    if (!etpu_calibration_range(s->cal, t, &mn, &mx) || etpu_model_tensor(s->qmodel, 0, t, &qi) != ETPU_OK) continue;
    double sq = NAN;
    bool has = etpu_calibration_sqnr(s->cal, t, &sq);
    if (has) {
      measured++;
      if (sq < worst) {
        worst = sq;
        worst_t = t;
      }
    }
    if (a->quiet) continue;
    printf("%-5u %-12.6g %-12.6g %-12.6g %-5lld ", t, mn, mx, qi.quant_count ? qi.scale[0] : 0.0,
           qi.quant_count ? (long long)qi.zero_point[0] : 0LL);
    if (has) printf("%-9.2f ", sq);
    else printf("%-9s ", "-");
    printf("%.80s\n", qi.name);
  }
  printf("calibration: %u sample(s); SQNR measured on %u tensor(s)", etpu_calibration_samples(s->cal), measured);
  if (measured) printf(", lowest %.2f dB (t%u)", worst, worst_t);
  printf("\n");
  for (uint32_t i = 0; i < etpu_model_output_count(s->model, 0); i++) {
    double sq;
    int32_t t = etpu_model_output(s->model, 0, i);
    /* The float output feeds from the int8 tensor of the same index when
     * --io is int8; with float I/O the original index is now int8 too. */
    if (t >= 0 && etpu_calibration_sqnr(s->cal, (uint32_t)t, &sq)) printf("output %u: SQNR %.2f dB\n", i, sq);
  }
}

int etpu_cmd_quantize(int argc, char **argv) {
  args a;
  int rc = parse(argc, argv, &a);
  if (rc) return rc < 0 ? 0 : rc;
  state s;
  memset(&s, 0, sizeof s);
  etpu_status st;
  etpu_tensor_info in;
  if ((st = etpu_model_open(a.model, &s.model)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if ((st = etpu_calibration_create(s.model, &s.cal)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if (etpu_model_input_count(s.model, 0) != 1) {
    fprintf(stderr, "etpu: error: quantize: %s has %u inputs; calibration folders feed single-input models only\n",
            a.model, etpu_model_input_count(s.model, 0));
    rc = 1;
    goto done;
  }
  if ((st = etpu_model_tensor(s.model, 0, (uint32_t)etpu_model_input(s.model, 0, 0), &in)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  s.sample_bytes = sizeof(float);
  for (uint32_t d = 0; d < in.rank; d++) s.sample_bytes *= in.shape[d] > 0 ? (size_t)in.shape[d] : 0u;
  for (int c = 0; c < a.ncalib; c++) {
    char **f = NULL;
    size_t nf = 0;
    if ((rc = list_dir(a.calib[c], &f, &nf)) != 0) goto done;
    char **nv = realloc(s.files, (s.nfiles + nf + 1) * sizeof *nv);
    if (!nv) {
      for (size_t k = 0; k < nf; k++) free(f[k]);
      free(f);
      rc = 3;
      goto done;
    }
    s.files = nv;
    memcpy(s.files + s.nfiles, f, nf * sizeof *f);
    s.nfiles += nf;
    free(f);
  }
  if (s.nfiles == 0) {
    fprintf(stderr, "etpu: error: quantize: no calibration sample in %s\n", a.calib[0]);
    rc = 2;
    goto done;
  }
  if (s.nfiles > MAX_SAMPLES) s.nfiles = MAX_SAMPLES;
  s.samples = calloc(s.nfiles, sizeof *s.samples);
  if (!s.samples) {
    rc = 3;
    goto done;
  }
  for (size_t k = 0; k < s.nfiles; k++) {
    s.samples[k] = malloc(s.sample_bytes ? s.sample_bytes : 1);
    if (!s.samples[k]) {
      fprintf(stderr, "etpu: error: out of memory\n");
      rc = 3;
      goto done;
    }
    if ((st = etpu_tensor_load(s.files[k], &in, &a.in_opts, s.samples[k], s.sample_bytes, NULL)) != ETPU_OK) {
      fprintf(stderr, "etpu: error: quantize: calibration sample %s: %s\n", s.files[k], etpu_errmsg());
      rc = st == ETPU_IO_ERROR || st == ETPU_OUT_OF_MEMORY ? 3 : 1;
      goto done;
    }
    const float *const inputs[1] = {s.samples[k]};
    if ((st = etpu_calibration_run(s.cal, inputs, &s.sample_bytes, 1)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
  }
  if ((st = etpu_quantize(s.model, s.cal, &a.q, &s.qmodel)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  for (size_t k = 0; k < s.nfiles; k++) {
    const float *const inputs[1] = {s.samples[k]};
    if ((st = etpu_calibration_compare(s.cal, s.qmodel, inputs, &s.sample_bytes, 1)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
  }
  size_t qsize = 0;
  if ((st = etpu_model_write_buffer(s.qmodel, ETPU_WRITE_COMPACT, &s.qbytes, &qsize)) != ETPU_OK ||
      (st = etpu_write_file_atomic(a.out, s.qbytes, qsize)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  print_report(&a, &s);
  printf("wrote %s (%zu bytes)\n", a.out, qsize);
  /* What the Edge TPU compiler would make of it. */
  etpu_compile_options co;
  memset(&co, 0, sizeof co);
  if ((st = etpu_compile(s.qmodel, &co, &s.comp)) != ETPU_OK) {
    fprintf(stderr, "etpu: warning: quantize: compile check: %s\n", etpu_errmsg());
    goto done;
  }
  etpu_compile_summary sum;
  etpu_compilation_summary(s.comp, &sum);
  printf("etpu compile: %u of %u ops mapped to the Edge TPU, %u on the CPU\n", sum.edgetpu_ops, sum.total_ops,
         sum.cpu_ops);
  for (uint32_t i = 0; i < etpu_compilation_op_count(s.comp); i++) {
    etpu_op_mapping mp;
    if (etpu_compilation_op(s.comp, i, &mp) != ETPU_OK || mp.on_edgetpu) continue;
    printf("  op %u %s on the CPU: %s%s%s\n", mp.op, mp.op_name, etpu_map_status_text(mp.status),
           mp.reason[0] ? ": " : "", mp.reason);
  }
done:
  etpu_compilation_free(s.comp);
  etpu_free(s.qbytes);
  if (s.samples)
    for (size_t k = 0; k < s.nfiles; k++) free(s.samples[k]);
  free(s.samples);
  for (size_t k = 0; k < s.nfiles; k++) free(s.files[k]);
  free(s.files);
  etpu_calibration_free(s.cal);
  etpu_model_close(s.qmodel);
  etpu_model_close(s.model);
  return rc;
}
