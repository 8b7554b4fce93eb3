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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

/* Every sample is held in memory as float32 for the comparison and
 * refinement passes: at most this many, and at most this many bytes. */
#define MAX_SAMPLES 100000
#define MAX_SAMPLE_BYTES ((size_t)2 << 30)

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu quantize MODEL.tflite --calib DIR -o OUT.tflite [options]\n"
          "\n"
          "Post-training int8 quantization as TensorFlow's converter does it: calibrate on every\n"
          "image (BMP, PNG, JPEG), .npy or raw file in DIR, then quantize weights per channel,\n"
          "activations from the calibrated ranges.\n"
          "\n"
          "options:\n"
          "  --calib DIR            calibration samples, one file per sample (sorted by name); a model\n"
          "                         with N inputs takes N folders, in input order, paired by name order.\n"
          "                         Optional when the model records every range (TensorFlow's\n"
          "                         calibrated float models)\n"
          "  --calib-method M       how ranges are chosen: minmax (TensorFlow's converter, the default),\n"
          "                         percentile=P (drop values beyond the P-th percentile, e.g. 99.99),\n"
          "                         mse (the clipped range of least int8 squared error); the last two\n"
          "                         run the samples twice to build histograms\n"
          "  --mean M --std S       images: real = (pixel - M) / S (default: the normalization the model's\n"
          "                         metadata records, else 0 and 1: raw pixels)\n"
          "  --io float|int8|uint8  type of the model's inputs and outputs (default float: QUANTIZE\n"
          "                         first, DEQUANTIZE last)\n"
          "  --integer-only         fail, listing each op that cannot be quantized (the default)\n"
          "  --allow-float          keep such ops in float, between DEQUANTIZE and QUANTIZE ops\n"
          "  --bias-correct         then, layer by layer, subtract each conv/FC output channel's mean\n"
          "                         int8-vs-float error on the samples from its bias (not done by\n"
          "                         TensorFlow's converter; recovers much of what depthwise-separable\n"
          "                         nets such as MobileNet lose)\n"
          "  --gptq                 then, layer by layer, re-round each conv/FC's int8 weights so that\n"
          "                         the channel's output error on the samples' inputs is least (GPTQ:\n"
          "                         each weight's rounding error moved onto the weights not yet\n"
          "                         rounded; same scales; not done by TensorFlow's converter)\n"
          "  -o, --output OUT.tflite  the file to write (atomically); -o names where a command writes\n"
          "  --json                 print the report as one JSON document instead\n"
          "  -h, --help             this help\n"
          "Every flag takes \"--flag value\" or \"--flag=value\". Text files in a --calib folder (.txt,\n"
          "  .csv, .md, .json, ...) are skipped with a warning.\n"
          "  -q, --quiet            print only the summary lines\n");
}

/* One line naming the flag or argument; exit 2. */
static int bad_usage(const char *msg, const char *arg) {
  char line[512];
  snprintf(line, sizeof line, msg, cli_t(arg));
  return cli_usage_error("quantize", "%s", line);
}

/* Text files that sit beside samples (labels, notes, CSV indexes) are not
 * samples: a name ending in one of these is skipped with a warning. */
static bool is_note_name(const char *path) {
  static const char *const ext[] = {".txt", ".csv", ".md", ".json", ".log", ".xml", ".yaml", ".yml"};
  const char *dot = strrchr(path, '.');
  if (!dot || strchr(dot, '/')) return false;
  for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++)
    if (!strcasecmp(dot, ext[k])) return true;
  return false;
}

/* Sorted paths of the sample files in a calibration folder (dotfiles and
 * notes skipped). */
static int list_dir(const char *dir, char ***out, size_t *n_out) {
  int rc = cli_list_dir("quantize: cannot open calibration folder", dir, CLI_ENTRIES_ALL, out, n_out);
  size_t kept = 0, skipped = 0;
  for (size_t k = 0; rc == 0 && k < *n_out; k++) {
    if (!is_note_name((*out)[k])) {
      (*out)[kept++] = (*out)[k];
      continue;
    }
    if (skipped++ < 3)
      fprintf(stderr, "etpu: warning: quantize: %s: not a calibration sample (a text file): skipped\n",
              cli_t((*out)[k]));
    free((*out)[k]);
  }
  if (skipped > 3)
    fprintf(stderr, "etpu: warning: quantize: %s: %zu more text files skipped\n", cli_t(dir), skipped - 3);
  if (rc == 0) *n_out = kept;
  return rc;
}

typedef struct args {
  const char *model, *out;
  const char *calib[16];
  int ncalib;
  etpu_input_options in_opts;
  etpu_quantize_options q;
  etpu_calib_method method;
  float percentile;
  bool bias_correct;
  bool gptq;
  bool quiet;
  bool json; /* the report as one JSON document */
} args;

static int parse(int argc, char **argv, args *a) {
  memset(a, 0, sizeof *a);
  a->in_opts.resize = ETPU_RESIZE_BILINEAR;
  a->in_opts.std = 1.0f;
  bool has_mean = false, has_std = false, integer_only = false;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i], *v = NULL;
    int r;
    if (cli_is_help(s)) {
      usage(stdout);
      return -1;
    }
    static const char *const switches[] = {"--integer-only", "--allow-float", "--bias-correct", "--gptq", "--json"};
    int sw = -1;
    for (int k = 0; k < 5 && sw < 0; k++) {
      if ((r = cli_flag_switch("quantize", s, switches[k], NULL)) < 0) return 2;
      if (r) sw = k;
    }
    if (sw < 0 && (r = cli_flag_switch("quantize", s, "--quiet", "-q")) != 0) {
      if (r < 0) return 2;
      a->quiet = true;
      continue;
    }
    if (sw == 0) integer_only = true;
    else if (sw == 1) a->q.allow_float = true;
    else if (sw == 2) a->bias_correct = true;
    else if (sw == 3) a->gptq = true;
    else if (sw == 4) a->json = true;
    if (sw >= 0) continue;
    if ((r = cli_flag_value("quantize", argc, argv, &i, "--calib", NULL, &v)) != 0) {
      if (r < 0) return 2;
      if (a->ncalib == 16) return bad_usage("at most 16 --calib folders%s", "");
      a->calib[a->ncalib++] = v;
    } else if ((r = cli_flag_value("quantize", argc, argv, &i, "--output", "-o", &v)) != 0) {
      if (r < 0) return 2;
      a->out = v;
    } else if ((r = cli_flag_value("quantize", argc, argv, &i, "--calib-method", NULL, &v)) != 0) {
      if (r < 0) return 2;
      char *end;
      if (!strcmp(v, "minmax")) {
        a->method = ETPU_CALIB_MINMAX;
      } else if (!strcmp(v, "mse")) {
        a->method = ETPU_CALIB_MSE;
      } else if (!strncmp(v, "percentile=", 11)) {
        float pc = strtof(v + 11, &end);
        if (end == v + 11 || *end || !(pc > 50.0f && pc <= 100.0f))
          return cli_bad_value("quantize", "--calib-method percentile=P", "P in (50, 100]", v);
        a->method = ETPU_CALIB_PERCENTILE;
        a->percentile = pc;
      } else {
        return cli_bad_value("quantize", "--calib-method", "minmax, percentile=P or mse", v);
      }
    } else if ((r = cli_flag_value("quantize", argc, argv, &i, "--io", NULL, &v)) != 0) {
      if (r < 0) return 2;
      if (!strcmp(v, "float")) a->q.io = ETPU_QUANT_IO_FLOAT;
      else if (!strcmp(v, "int8")) a->q.io = ETPU_QUANT_IO_INT8;
      else if (!strcmp(v, "uint8")) a->q.io = ETPU_QUANT_IO_UINT8;
      else return cli_bad_value("quantize", "--io", "float, int8 or uint8", v);
    } else if ((r = cli_flag_value("quantize", argc, argv, &i, "--mean", NULL, &v)) != 0 ||
               (r = cli_flag_value("quantize", argc, argv, &i, "--std", NULL, &v)) != 0) {
      if (r < 0) return 2;
      bool is_mean = !strncmp(s, "--mean", 6);
      char *end;
      float f = strtof(v, &end);
      if (end == v || *end || !isfinite(f) || (!is_mean && !(f > 0)))
        return cli_bad_value("quantize", is_mean ? "--mean" : "--std", is_mean ? "a number" : "a number > 0", v);
      if (is_mean) {
        a->in_opts.mean = f;
        has_mean = true;
      } else {
        a->in_opts.std = f;
        has_std = true;
      }
    } else if (s[0] == '-' && s[1]) {
      return bad_usage("unknown option '%s'", s);
    } else if (!a->model) {
      a->model = s;
    } else {
      return bad_usage("more than one model given ('%s')", s);
    }
  }
  if (integer_only && a->q.allow_float)
    return bad_usage("--integer-only and --allow-float contradict each other: give one%s", "");
  a->in_opts.normalize = has_mean || has_std;
  if (!a->model) return bad_usage("no model given%s", "");
  if (!a->out) return bad_usage("-o OUT.tflite is required%s", "");
  return 0;
}

typedef struct state {
  etpu_model *model, *qmodel;
  etpu_calibration *cal;
  uint32_t ninputs;
  char **files;       /* nsamples x ninputs paths, sample-major */
  size_t nsamples;
  float **samples;    /* nsamples x ninputs buffers */
  size_t *bytes;      /* per input */
  etpu_input_options in_opts[16]; /* per input: --mean/--std, or the model metadata's normalization */
  bool images[16];                /* per input: some sample was an image (so in_opts applied) */
  void *qbytes;
  etpu_compilation *comp;
  const char *label; /* the model's path, for messages */
  bool from_meta[16];      /* input i normalized as the model's metadata says */
  bool refined;            /* --gptq or --bias-correct ran: rr holds the counts */
  etpu_refine_report rr;
} state;

/* A progress line on a terminal (nothing when stderr is redirected). */
static void progress(const char *what, size_t done, size_t total) {
  static int tty = -1;
  if (tty < 0) tty = isatty(fileno(stderr));
  if (!tty || total == 0) return;
  int width = 30, fill = (int)((double)done / (double)total * width);
  fprintf(stderr, "\r%-12s [%.*s%*s] %zu/%zu", what, fill, "##############################", width - fill, "", done,
          total);
  if (done == total) fputc('\n', stderr);
  fflush(stderr);
}

/* Run every sample through fn (calibration pass, histogram pass, compare). */
typedef etpu_status (*sample_fn)(state *s, const float *const *inputs);

static etpu_status pass_run(state *s, const float *const *in) {
  return etpu_calibration_run(s->cal, in, s->bytes, s->ninputs);
}
static etpu_status pass_hist(state *s, const float *const *in) {
  return etpu_calibration_run_histogram(s->cal, in, s->bytes, s->ninputs);
}
static etpu_status pass_compare(state *s, const float *const *in) {
  return etpu_calibration_compare(s->cal, s->qmodel, in, s->bytes, s->ninputs);
}

static int each_sample(state *s, const char *what, sample_fn fn) {
  for (size_t k = 0; k < s->nsamples; k++) {
    progress(what, k, s->nsamples);
    etpu_status st = fn(s, (const float *const *)(s->samples + k * s->ninputs));
    if (st != ETPU_OK) {
      if (isatty(fileno(stderr))) fputc('\n', stderr);
      fprintf(stderr, "etpu: error: quantize: sample %s%s: %s\n", cli_t(s->files[k * s->ninputs]),
              s->ninputs > 1 ? " (and its pair)" : "", etpu_errmsg());
      return cli_exit_code(st, true);
    }
  }
  progress(what, s->nsamples, s->nsamples);
  return 0;
}

/* Bytes of input i as float32 (0 when a dimension is not static). */
static size_t input_bytes(const state *s, uint32_t i) {
  etpu_tensor_info ti;
  if (etpu_model_tensor(s->model, 0, (uint32_t)etpu_model_input(s->model, 0, i), &ti) != ETPU_OK) return 0;
  size_t b = sizeof(float);
  for (uint32_t d = 0; d < ti.rank; d++) b *= ti.shape[d] > 0 ? (size_t)ti.shape[d] : 0u;
  return b;
}

/* List the folders: one per input (paired by name order), or, for a single
 * input, all folders together. */
static int gather_files(const args *a, state *s) {
  if (s->ninputs > 1 && (uint32_t)a->ncalib != s->ninputs) {
    fprintf(stderr,
            "etpu: error: quantize: %s has %u inputs, and %d --calib folder(s) were given: give one folder per "
            "input, in input order\n",
            cli_t(a->model), s->ninputs, a->ncalib);
    return 2;
  }
  char **lists[16] = {0};
  size_t counts[16] = {0};
  int rc = 0;
  for (int c = 0; c < a->ncalib && rc == 0; c++) rc = list_dir(a->calib[c], &lists[c], &counts[c]);
  size_t total = 0;
  for (int c = 0; c < a->ncalib; c++) total += counts[c];
  if (rc == 0 && s->ninputs > 1) {
    for (int c = 1; c < a->ncalib && rc == 0; c++)
      if (counts[c] != counts[0]) {
        fprintf(stderr, "etpu: error: quantize: %s holds %zu sample(s) and %s %zu: folders of a %u-input model "
                "must pair up file for file\n", cli_t(a->calib[0]), counts[0], cli_t(a->calib[c]), counts[c], s->ninputs);
        rc = 2;
      }
    total = counts[0];
  }
  if (rc == 0 && total == 0) {
    fprintf(stderr, "etpu: error: quantize: no calibration sample in %s\n", cli_t(a->calib[0]));
    rc = 2;
  }
  size_t per = 0; /* float32 bytes of one sample, all inputs */
  for (uint32_t i = 0; rc == 0 && i < s->ninputs; i++) per += input_bytes(s, i);
  size_t cap = MAX_SAMPLES;
  if (per && MAX_SAMPLE_BYTES / per < cap) cap = MAX_SAMPLE_BYTES / per ? MAX_SAMPLE_BYTES / per : 1;
  if (rc == 0 && total > cap) {
    fprintf(stderr,
            "etpu: warning: quantize: using the first %zu of %zu samples (in name order): each is held in memory "
            "as float32 (%zu bytes), up to %zu samples and %zu MiB\n",
            cap, total, per, (size_t)MAX_SAMPLES, MAX_SAMPLE_BYTES >> 20);
    total = cap;
  }
  if (rc == 0 && !(s->files = calloc(total * s->ninputs, sizeof *s->files))) rc = 3;
  if (rc == 0) {
    s->nsamples = total;
    if (s->ninputs > 1) {
      for (size_t k = 0; k < total; k++)
        for (uint32_t i = 0; i < s->ninputs; i++) {
          s->files[k * s->ninputs + i] = lists[i][k];
          lists[i][k] = NULL;
        }
    } else {
      size_t k = 0;
      for (int c = 0; c < a->ncalib; c++)
        for (size_t j = 0; j < counts[c]; j++)
          if (k < total) {
            s->files[k++] = lists[c][j];
            lists[c][j] = NULL;
          }
    }
  }
  for (int c = 0; c < a->ncalib; c++) {
    for (size_t j = 0; lists[c] && j < counts[c]; j++) free(lists[c][j]);
    free(lists[c]);
  }
  return rc;
}

/* Each input's image options: --mean/--std when either is given; else the
 * normalization the model's metadata records for the input (tflite-support's
 * NormalizationOptions), when it has one; else the defaults (raw pixels).
 * etpu normalizes every channel alike, so per-channel metadata values that
 * differ are refused (give --mean/--std). Metadata that cannot be read is
 * advisory: a warning, then the defaults. */
static int input_options(const args *a, state *s) {
  for (uint32_t i = 0; i < s->ninputs; i++) s->in_opts[i] = a->in_opts;
  if (a->in_opts.normalize) return 0;
  for (uint32_t i = 0; i < s->ninputs; i++) {
    bool applied;
    if (cli_metadata_normalization("quantize", a->model, s->model, i, &s->in_opts[i], &applied)) return 1;
    if (!applied) continue;
    s->from_meta[i] = true;
    if (a->json) continue;
    if (s->ninputs > 1) printf("input %u: ", i);
    printf("normalization from the model's metadata: mean %g, std %g\n", s->in_opts[i].mean, s->in_opts[i].std);
  }
  return 0;
}

static int load_samples(state *s) {
  uint32_t n = s->ninputs;
  if (!(s->bytes = calloc(n, sizeof *s->bytes)) || !(s->samples = calloc(s->nsamples * n, sizeof *s->samples))) {
    fprintf(stderr, "etpu: error: out of memory\n");
    return 3;
  }
  etpu_tensor_info in[16];
  for (uint32_t i = 0; i < n; i++) {
    etpu_status st = etpu_model_tensor(s->model, 0, (uint32_t)etpu_model_input(s->model, 0, i), &in[i]);
    if (st != ETPU_OK) return cli_report(st);
    s->bytes[i] = input_bytes(s, i);
  }
  for (size_t k = 0; k < s->nsamples; k++) {
    progress("loading", k, s->nsamples);
    for (uint32_t i = 0; i < n; i++) {
      float **slot = &s->samples[k * n + i];
      if (!(*slot = malloc(s->bytes[i] ? s->bytes[i] : 1))) {
        fprintf(stderr, "etpu: error: out of memory\n");
        return 3;
      }
      etpu_input_kind kind = ETPU_INPUT_RAW;
      etpu_status st = etpu_tensor_load(s->files[k * n + i], &in[i], &s->in_opts[i], *slot, s->bytes[i], &kind);
      if (st != ETPU_OK) {
        fprintf(stderr, "etpu: error: quantize: calibration sample %s: %s\n", cli_t(s->files[k * n + i]), etpu_errmsg());
        return cli_exit_code(st, true);
      }
      if (kind == ETPU_INPUT_IMAGE && !s->images[i]) {
        s->images[i] = true;
        if (!s->in_opts[i].normalize) {
          /* Raw pixels, as etpu_image_to_tensor's default: say so, and record it. */
          s->in_opts[i].mean = 0.0f;
          s->in_opts[i].std = 1.0f;
          cli_warn_assumed_normalization("quantize", s->label, i);
        }
      }
    }
  }
  progress("loading", s->nsamples, s->nsamples);
  return 0;
}

static void print_report(const args *a, const state *s) {
  uint32_t n = etpu_model_tensor_count(s->model, 0);
  if (!a->quiet)
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
    printf("%s\n", cli_t(qi.name));
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

static void json_number(double v) {
  if (isfinite(v))
    printf("%.9g", v);
  else
    printf("null");
}

/* --json: the report as one document (what the text report and the
 * compile check print). Returns an exit code. */
static int print_json(const args *a, state *s, size_t qsize) {
  static const char *const methods[] = {"minmax", "percentile", "mse"};
  printf("{\"model\": ");
  cli_json_string(stdout, a->model);
  printf(", \"output\": ");
  cli_json_string(stdout, a->out);
  printf(", \"bytes\": %zu, \"samples\": %u, \"calib_method\": \"%s\"", qsize,
         etpu_calibration_samples(s->cal), methods[a->method <= ETPU_CALIB_MSE ? a->method : 0]);
  if (a->method == ETPU_CALIB_PERCENTILE) printf(", \"percentile\": %.9g", (double)a->percentile);
  printf(",\n \"normalization\": [");
  for (uint32_t i = 0; i < s->ninputs; i++) {
    const etpu_input_options *o = &s->in_opts[i];
    printf("%s{\"input\": %u, \"from\": \"%s\"", i ? ", " : "", i,
           s->from_meta[i] ? "metadata" : (o->normalize ? "--mean/--std" : "none"));
    if (o->normalize) printf(", \"mean\": %.9g, \"std\": %.9g", (double)o->mean, (double)o->std);
    printf("}");
  }
  printf("]");
  if (s->refined)
    printf(",\n \"refine\": {\"gptq\": %s, \"bias_correct\": %s, \"rounded\": %u, \"rounded_to_nearest\": %u, "
           "\"corrected\": %u}",
           a->gptq ? "true" : "false", a->bias_correct ? "true" : "false", s->rr.rounded, s->rr.rounded_to_nearest,
           s->rr.corrected);
  printf(",\n \"tensors\": [");
  bool first = true;
  for (uint32_t t = 0; t < etpu_model_tensor_count(s->model, 0); t++) {
    float mn, mx;
    etpu_tensor_info qi;
    if (!etpu_calibration_range(s->cal, t, &mn, &mx) || etpu_model_tensor(s->qmodel, 0, t, &qi) != ETPU_OK) continue;
    double sq = NAN;
    bool has = etpu_calibration_sqnr(s->cal, t, &sq);
    printf("%s\n  {\"index\": %u, \"name\": ", first ? "" : ",", t);
    first = false;
    cli_json_string(stdout, qi.name);
    printf(", \"min\": ");
    json_number(mn);
    printf(", \"max\": ");
    json_number(mx);
    printf(", \"scale\": ");
    json_number(qi.quant_count ? qi.scale[0] : 0.0);
    printf(", \"zero_point\": %lld, \"sqnr_db\": ", qi.quant_count ? (long long)qi.zero_point[0] : 0LL);
    if (has)
      json_number(sq);
    else
      printf("null");
    printf("}");
  }
  printf("],\n \"outputs\": [");
  first = true;
  for (uint32_t i = 0; i < etpu_model_output_count(s->model, 0); i++) {
    double sq;
    int32_t t = etpu_model_output(s->model, 0, i);
    if (t < 0 || !etpu_calibration_sqnr(s->cal, (uint32_t)t, &sq)) continue;
    printf("%s{\"output\": %u, \"sqnr_db\": ", first ? "" : ", ", i);
    json_number(sq);
    printf("}");
    first = false;
  }
  printf("],\n \"compile\": ");
  etpu_compile_options co;
  memset(&co, 0, sizeof co);
  if (etpu_compile(s->qmodel, &co, &s->comp) != ETPU_OK) {
    printf("{\"error\": ");
    cli_json_string(stdout, etpu_errmsg());
    printf("}}\n");
    return 0;
  }
  etpu_compile_summary sum;
  etpu_compilation_summary(s->comp, &sum);
  printf("{\"total_ops\": %u, \"edgetpu_ops\": %u, \"cpu_ops\": %u, \"cpu\": [", sum.total_ops, sum.edgetpu_ops,
         sum.cpu_ops);
  first = true;
  for (uint32_t i = 0; i < etpu_compilation_op_count(s->comp); i++) {
    etpu_op_mapping mp;
    if (etpu_compilation_op(s->comp, i, &mp) != ETPU_OK || mp.on_edgetpu) continue;
    printf("%s{\"op\": %u, \"name\": ", first ? "" : ", ", mp.op);
    cli_json_string(stdout, mp.op_name);
    printf(", \"status\": ");
    cli_json_string(stdout, etpu_map_status_text(mp.status));
    printf(", \"reason\": ");
    cli_json_string(stdout, mp.reason);
    printf("}");
    first = false;
  }
  printf("]}}\n");
  return 0;
}

int etpu_cmd_quantize(int argc, char **argv) {
  args a;
  int rc = parse(argc, argv, &a);
  if (rc) return rc < 0 ? 0 : rc;
  state s;
  memset(&s, 0, sizeof s);
  s.label = a.model;
  etpu_status st;
  /* The output must be writable before calibration and refinement start. */
  if ((st = etpu_file_check_writable(a.out)) != ETPU_OK) return cli_report(st);
  if ((st = etpu_model_open(a.model, &s.model)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if ((st = etpu_calibration_create(s.model, &s.cal)) != ETPU_OK) {
    /* An already quantized model, or one with nothing float: the model's
     * fault (exit 1), not the command line's. */
    rc = cli_report_input(st);
    goto done;
  }
  s.ninputs = etpu_model_input_count(s.model, 0);
  if (s.ninputs == 0 || s.ninputs > 16) {
    fprintf(stderr, "etpu: error: quantize: %s has %u inputs; etpu quantizes models of 1 to 16 inputs\n", cli_t(a.model),
            s.ninputs);
    rc = 1;
    goto done;
  }
  if (!a.ncalib) {
    if (!etpu_calibration_recorded(s.cal)) {
      rc = bad_usage("--calib DIR is required (%s records no calibrated ranges)", a.model);
      goto done;
    }
    if (!a.quiet && !a.json)
      printf("no --calib: using the %u range(s) %s records\n", etpu_calibration_recorded(s.cal), cli_t(a.model));
  } else {
    if ((rc = gather_files(&a, &s)) != 0 || (rc = input_options(&a, &s)) != 0 || (rc = load_samples(&s)) != 0)
      goto done;
    if ((rc = each_sample(&s, "calibrating", pass_run)) != 0) goto done;
    if (a.method != ETPU_CALIB_MINMAX && (rc = each_sample(&s, "histograms", pass_hist)) != 0) goto done;
  }
  if ((st = etpu_calibration_set_method(s.cal, a.method, a.percentile)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  /* Integer inputs take raw pixels (uint8; int8: pixel - 128), as in Coral's
   * models and `etpu run`: give each image input the whole pixel range, so
   * that its parameters map pixels onto the normalized values. */
  for (uint32_t i = 0; a.q.io != ETPU_QUANT_IO_FLOAT && i < s.ninputs; i++) {
    if (!s.images[i]) continue;
    float lo = (0.0f - s.in_opts[i].mean) / s.in_opts[i].std, hi = (255.0f - s.in_opts[i].mean) / s.in_opts[i].std;
    if ((st = etpu_calibration_cover_range(s.cal, (uint32_t)etpu_model_input(s.model, 0, i), lo, hi)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
  }
  if ((st = etpu_quantize(s.model, s.cal, &a.q, &s.qmodel)) != ETPU_OK) {
    rc = cli_report(st);
    /* Ranges missing for want of samples: the command line's to fix. */
    if (st == ETPU_INVALID_STATE && !a.ncalib) {
      fprintf(stderr, "etpu: error: quantize: give --calib DIR with samples for them\n");
      rc = 2;
    }
    goto done;
  }
  if (a.bias_correct || a.gptq) {
    const char *what = a.gptq && a.bias_correct ? "--gptq and --bias-correct need"
                       : a.gptq                   ? "--gptq needs"
                                                  : "--bias-correct needs";
    if (!s.nsamples) {
      rc = bad_usage("%s calibration samples (--calib)", what);
      goto done;
    }
    const float *const **per = calloc(s.nsamples, sizeof *per);
    if (!per) {
      rc = 3;
      goto done;
    }
    for (size_t k = 0; k < s.nsamples; k++) per[k] = (const float *const *)(s.samples + k * s.ninputs);
    etpu_refine_options ro = {a.gptq, a.bias_correct};
    etpu_refine_report rr;
    progress("refine", 0, 1);
    st = etpu_quantize_refine(s.cal, s.qmodel, &ro, (uint32_t)s.nsamples, per, s.bytes, s.ninputs, &rr);
    s.refined = true;
    s.rr = rr;
    progress("refine", 1, 1);
    free(per);
    if (st != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
    if (!a.quiet && !a.json && a.gptq)
      printf("gptq: %u layer(s) re-rounded on %zu sample(s), %u left rounded to nearest\n", rr.rounded, s.nsamples,
             rr.rounded_to_nearest);
    if (!a.quiet && !a.json && a.bias_correct)
      printf("bias correction: %u layer(s) corrected on %zu sample(s)\n", rr.corrected, s.nsamples);
  }
  if ((rc = each_sample(&s, "comparing", pass_compare)) != 0) goto done;
  /* Record how images became inputs, so that `etpu run` on OUT needs no flags. */
  for (uint32_t i = 0; i < s.ninputs; i++) {
    if (!s.images[i]) continue;
    bool changed = false;
    if ((st = etpu_model_set_input_normalization(s.qmodel, i, s.in_opts[i].mean, s.in_opts[i].std, &changed)) !=
        ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
    if (changed && !a.quiet && !a.json)
      printf("input %u: normalization mean %g, std %g recorded in %s's metadata (TFLITE_METADATA)\n", i,
             s.in_opts[i].mean, s.in_opts[i].std, cli_t(a.out));
  }
  size_t qsize = 0;
  if ((st = etpu_model_write_buffer(s.qmodel, ETPU_WRITE_COMPACT, &s.qbytes, &qsize)) != ETPU_OK ||
      (st = etpu_write_file_atomic(a.out, s.qbytes, qsize)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if (a.json) {
    rc = print_json(&a, &s, qsize);
    goto done;
  }
  print_report(&a, &s);
  printf("wrote %s (%zu bytes)\n", cli_t(a.out), qsize);
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
    printf("  op %u %s on the CPU: %s%s%s\n", mp.op, cli_t(mp.op_name), etpu_map_status_text(mp.status),
           mp.reason[0] ? ": " : "", cli_t(mp.reason));
  }
done:
  etpu_compilation_free(s.comp);
  etpu_free(s.qbytes);
  if (s.samples)
    for (size_t k = 0; k < s.nsamples * s.ninputs; k++) free(s.samples[k]);
  free(s.samples);
  if (s.files)
    for (size_t k = 0; k < s.nsamples * s.ninputs; k++) free(s.files[k]);
  free(s.files);
  free(s.bytes);
  etpu_calibration_free(s.cal);
  etpu_model_free(s.qmodel);
  etpu_model_free(s.model);
  return rc;
}
