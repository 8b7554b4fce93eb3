/*
 * run.c — `etpu run MODEL --input FILE...`: run a model on images, .npy
 * arrays or raw bytes with etpu's interpreter, print the top classes (with
 * labels) and the timing, and optionally write every output, or every
 * tensor, as .npy files. The task of the model's outputs (etpu_task_detect,
 * or --task) decides what else is printed: detected objects, poses, or the
 * class shares of a segmentation mask, in the pixels of the input image
 * (stretched to the model input, no letterbox), and --draw writes the image
 * with them drawn on it (draw.c).
 *
 * A thin layer over the public header: etpu_model_open → etpu_interp_create
 * (which refuses ops etpu cannot run and models compiled by Google's
 * edgetpu_compiler) → plan → etpu_tensor_load per input → invoke N times →
 * outputs. Each repetition sets the inputs again and starts from zeroed
 * state tensors, so every run computes the same inference. Files are
 * written atomically, and only after the model has run.
 *
 * Exit codes: 0 ok; 1 the model or an input broke a rule (cannot run,
 * corrupt image, input of the wrong size or type); 2 usage; 3 I/O or out of
 * memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

#define MAX_INPUTS 64
#define DEFAULT_TOP 5
#define SMALL_OUTPUT 16     /* text output prints every value up to this many */
#define JSON_VALUES 4096    /* JSON carries every value up to this many */

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu run MODEL --input FILE... [options]\n"
          "  --input FILE...              one per model input: BMP/PNG/JPEG image, .npy, or raw bytes\n"
          "  --profile litert|tflite-ref  arithmetic profile (default litert: what TensorFlow Lite users get)\n"
          "  --target devboard-micro      run as the Dev Board Micro's TFLite Micro would (the tflite-ref profile)\n"
          "                               and report the arena etpu used next to the TFLM arena estimate;\n"
          "                               usb, pcie, devboard: the Edge TPU latency estimate of a compiled model\n"
          "  --threads N                  threads per invoke, 1..256 (default 0: the cores etpu may use);\n"
          "                               every count gives the same bytes\n"
          "  --top K                      print the K best classes of classifier outputs (default %d; 0: none)\n"
          "  --labels FILE                label file for the classes (a line per class, or 'ID label')\n"
          "  -o, --output-dir DIR         write output k as DIR/output_<k>.npy (-o names where a command\n"
          "                               writes: here a folder, as for compile)\n"
          "  --dump-tensors DIR           write every tensor i as DIR/t<i>.npy\n"
          "  --json                       print JSON for scripts\n"
          "  --repeat N                   run N times; print min and median invoke time (default 1)\n"
          "  --per-op                     time every op: a table of index, type, shapes, MACs, median\n"
          "                               time over the runs, %% of the total and GMAC/s\n"
          "  --mean M --std S             images: real = (pixel - M) / S (default: the input's quantization,\n"
          "                               i.e. raw pixels for uint8 models; for float inputs the\n"
          "                               normalization the model's metadata records, else 0 and 1)\n"
          "  --resize bilinear|nearest    how images are fitted to the input (default bilinear; the image is\n"
          "                               stretched to the input's size: no letterbox, no crop)\n"
          "  --task classify|detect|segment|pose\n"
          "                               what the outputs mean (default: found from the model's outputs)\n"
          "  --threshold T                detect, pose: keep objects, poses and keypoints scoring >= T (default 0.5)\n"
          "  --draw OUT.png               write the first input's image with the result drawn on it (detect,\n"
          "                               segment, pose)\n"
          "  -h, --help                   this help\n"
          "Every flag takes \"--flag value\" or \"--flag=value\". MODEL may also follow the --input files.\n",
          DEFAULT_TOP);
}

/* One line naming the flag or argument; exit 2. */
static int bad_usage(const char *fmt, const char *arg) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, cli_t(arg));
  return cli_usage_error("run", "%s", msg);
}

static bool parse_long(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static bool parse_float(const char *s, float *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || *end || !isfinite(v)) return false;
  *out = (float)v;
  return true;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Element i of a tensor as a real number (dequantized when quantized). */
static double element(const etpu_tensor_info *t, const void *data, size_t i) {
  const uint8_t *p = data;
  double v;
  switch (t->type) {
    case ETPU_FLOAT32: { float f; memcpy(&f, p + 4 * i, 4); return f; }
    case ETPU_FLOAT64: { double d; memcpy(&d, p + 8 * i, 8); return d; }
    case ETPU_UINT8: v = p[i]; break;
    case ETPU_INT8: v = (int8_t)p[i]; break;
    case ETPU_BOOL: v = p[i] != 0; break;
    case ETPU_INT16: { int16_t x; memcpy(&x, p + 2 * i, 2); v = x; break; }
    case ETPU_UINT16: { uint16_t x; memcpy(&x, p + 2 * i, 2); v = x; break; }
    case ETPU_INT32: { int32_t x; memcpy(&x, p + 4 * i, 4); v = x; break; }
    case ETPU_UINT32: { uint32_t x; memcpy(&x, p + 4 * i, 4); v = x; break; }
    case ETPU_INT64: { int64_t x; memcpy(&x, p + 8 * i, 8); v = (double)x; break; }
    default: return NAN;
  }
  if (t->quant_count >= 1 && t->type != ETPU_BOOL) v = (v - (double)(t->zero_point ? t->zero_point[0] : 0)) * t->scale[0];
  return v;
}

static size_t element_count(const etpu_tensor_info *t) {
  size_t n = 1;
  for (uint32_t i = 0; i < t->rank; i++) n *= t->shape[i] > 0 ? (size_t)t->shape[i] : 0u;
  return n;
}

/* A classifier output: one row of at least 2 scores ([N], [1,N], [1,1,1,N]...). */
static bool classifier_shaped(const etpu_tensor_info *t) {
  if (t->rank == 0 || etpu_dtype_size(t->type) == 0) return false;
  for (uint32_t i = 0; i + 1 < t->rank; i++)
    if (t->shape[i] != 1) return false;
  return t->shape[t->rank - 1] >= 2;
}

/* The k best indices, best first; ties keep the lower index first. */
static uint32_t top_k(const etpu_tensor_info *t, const void *data, size_t n, uint32_t k, uint32_t *idx) {
  uint32_t m = 0; /* idx[0..m) holds the best so far, best first */
  for (size_t i = 0; i < n && k > 0; i++) {
    double v = element(t, data, i);
    if (v != v) continue;
    if (m == k && !(v > element(t, data, idx[m - 1]))) continue;
    uint32_t pos = m;
    while (pos > 0 && element(t, data, idx[pos - 1]) < v) pos--;
    uint32_t last = m < k ? m : k - 1; /* slots pos..last-1 move down one */
    memmove(idx + pos + 1, idx + pos, (size_t)(last - pos) * sizeof *idx);
    idx[pos] = (uint32_t)i;
    if (m < k) m++;
  }
  return m;
}

/* Give t the shape the interpreter holds for tensor `tensor`: the model's,
 * or the one an op set for an output the model leaves unshaped (the
 * PosenetDecoderOp's, TFLite_Detection_PostProcess's), so text, --json and
 * .npy files report the real shape, not the declared empty one. */
static void use_interp_shape(const etpu_interp *interp, int32_t tensor, etpu_tensor_info *t) {
  uint32_t rank;
  const int32_t *dims;
  if (tensor >= 0 && etpu_interp_tensor_shape(interp, (uint32_t)tensor, &rank, &dims) == ETPU_OK) {
    t->rank = rank;
    t->shape = dims;
  }
}

static void print_shape(FILE *f, const etpu_tensor_info *t, bool json) {
  fputc('[', f);
  for (uint32_t i = 0; i < t->rank; i++) fprintf(f, "%s%d", i ? (json ? ", " : ",") : "", t->shape[i]);
  fputc(']', f);
}

static void print_number(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.9g", v);
  else
    fprintf(f, "\"%s\"", v != v ? "nan" : (v > 0 ? "inf" : "-inf"));
}

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static int ensure_dir(const char *dir) {
  struct stat sb;
  if (stat(dir, &sb) == 0) {
    if (S_ISDIR(sb.st_mode)) return 0;
    fprintf(stderr, "etpu: error: %s: exists and is not a directory\n", cli_t(dir));
    return 3;
  }
  if (mkdir(dir, 0777) != 0) {
    fprintf(stderr, "etpu: error: %s: cannot create directory: %s\n", cli_t(dir), strerror(errno));
    return 3;
  }
  return 0;
}

static const char *kind_name(etpu_input_kind k) {
  switch (k) {
    case ETPU_INPUT_IMAGE: return "image";
    case ETPU_INPUT_NPY: return "npy";
    default: return "raw";
  }
}

typedef struct run_args {
  const char *model;
  const char *inputs[MAX_INPUTS];
  uint32_t ninputs;
  etpu_profile profile;
  long top;               /* -1: default */
  const char *labels;
  const char *output_dir;
  const char *dump_dir;
  bool json;
  bool per_op;            /* --per-op: time every op */
  long repeat;
  long threads;           /* 0: the cores the process may use */
  bool has_mean, has_std;
  etpu_input_options in_opts;
  bool has_profile, has_target;
  etpu_target target;
  int task;               /* -1: found from the model's outputs */
  float threshold;
  const char *draw;
} run_args;

static int parse_args(int argc, char **argv, run_args *a) {
  memset(a, 0, sizeof *a);
  a->profile = ETPU_PROFILE_LITERT;
  a->top = -1;
  a->repeat = 1;
  a->in_opts.resize = ETPU_RESIZE_BILINEAR;
  a->in_opts.std = 1.0f;
  a->task = -1;
  a->threshold = 0.5f;
  int last_input_at = -1; /* argv index of the last file --input took */
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
      usage(stdout);
      return -1;
    }
    if (arg[0] != '-' || arg[1] == 0) {
      if (a->model) return bad_usage("unexpected argument '%s' (one MODEL; inputs go after --input)", arg);
      a->model = arg;
      continue;
    }
    /* -o is --output-dir: where run writes (a folder, as compile's -o). */
    if (!strncmp(arg, "-o=", 3)) {
      a->output_dir = arg + 3;
      continue;
    }
    if (!strcmp(arg, "-o")) arg = "--output-dir";
    char name[32];
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len >= sizeof name) return bad_usage("unknown option '%s'", arg);
    memcpy(name, arg, len);
    name[len] = 0;
    if (!strcmp(name, "--json")) {
      if (eq) return bad_usage("%s takes no value", name);
      a->json = true;
      continue;
    }
    if (!strcmp(name, "--per-op")) {
      if (eq) return bad_usage("%s takes no value", name);
      a->per_op = true;
      continue;
    }
    if (!strcmp(name, "--input")) {
      int before = (int)a->ninputs;
      if (eq) {
        if (a->ninputs == MAX_INPUTS) return bad_usage("more than 64 inputs%s", "");
        a->inputs[a->ninputs++] = eq + 1;
      }
      while (i + 1 < argc && (argv[i + 1][0] != '-' || argv[i + 1][1] == 0)) {
        if (a->ninputs == MAX_INPUTS) return bad_usage("more than 64 inputs%s", "");
        a->inputs[a->ninputs++] = argv[++i];
        last_input_at = i;
      }
      if ((int)a->ninputs == before) return bad_usage("%s needs a file", name);
      continue;
    }
    static const char *const valued[] = {"--profile", "--top",  "--labels", "--output-dir", "--dump-tensors",
                                         "--repeat",  "--mean", "--std",    "--resize", "--threads",
                                         "--target",  "--task", "--threshold", "--draw"};
    bool known = false;
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) known |= !strcmp(name, valued[k]);
    if (!known) return bad_usage("unknown option '%s'", arg);
    const char *val;
    if (eq)
      val = eq + 1;
    else if (i + 1 < argc)
      val = argv[++i];
    else
      return bad_usage("%s needs a value", name);
    if (!strcmp(name, "--target")) {
      if (etpu_target_parse(val, &a->target) != ETPU_OK)
        return bad_usage("--target takes usb, pcie, devboard or devboard-micro, not '%s'", val);
      a->has_target = true;
    } else if (!strcmp(name, "--profile")) {
      a->has_profile = true;
      if (!strcmp(val, "tflite-ref"))
        a->profile = ETPU_PROFILE_TFLITE_REF;
      else if (!strcmp(val, "litert"))
        a->profile = ETPU_PROFILE_LITERT;
      else
        return bad_usage("--profile must be tflite-ref or litert, not '%s'", val);
    } else if (!strcmp(name, "--top")) {
      if (!parse_long(val, 0, 100000, &a->top)) return bad_usage("--top needs a count 0..100000, not '%s'", val);
    } else if (!strcmp(name, "--task")) {
      a->task = -1;
      for (int k = ETPU_TASK_CLASSIFY; k <= ETPU_TASK_POSE; k++)
        if (!strcmp(val, etpu_task_name(k))) a->task = k;
      if (a->task < 0) return bad_usage("--task must be classify, detect, segment or pose, not '%s'", val);
    } else if (!strcmp(name, "--threshold")) {
      if (!parse_float(val, &a->threshold) || a->threshold < 0 || a->threshold > 1)
        return bad_usage("--threshold needs a number 0..1, not '%s'", val);
    } else if (!strcmp(name, "--draw")) {
      a->draw = val;
    } else if (!strcmp(name, "--labels")) {
      a->labels = val;
    } else if (!strcmp(name, "--output-dir")) {
      a->output_dir = val;
    } else if (!strcmp(name, "--dump-tensors")) {
      a->dump_dir = val;
    } else if (!strcmp(name, "--repeat")) {
      if (!parse_long(val, 1, 1000000, &a->repeat)) return bad_usage("--repeat needs a count 1..1000000, not '%s'", val);
    } else if (!strcmp(name, "--threads")) {
      if (!parse_long(val, 0, 256, &a->threads)) return bad_usage("--threads needs a count 0..256, not '%s'", val);
    } else if (!strcmp(name, "--mean")) {
      if (!parse_float(val, &a->in_opts.mean)) return bad_usage("--mean needs a number, not '%s'", val);
      a->has_mean = true;
    } else if (!strcmp(name, "--std")) {
      if (!parse_float(val, &a->in_opts.std) || !(a->in_opts.std > 0))
        return bad_usage("--std needs a positive number, not '%s'", val);
      a->has_std = true;
    } else {
      if (!strcmp(val, "bilinear"))
        a->in_opts.resize = ETPU_RESIZE_BILINEAR;
      else if (!strcmp(val, "nearest"))
        a->in_opts.resize = ETPU_RESIZE_NEAREST;
      else
        return bad_usage("--resize must be bilinear or nearest, not '%s'", val);
    }
  }
  /* "run --input X.bmp MODEL [options]": when no MODEL came before or after,
   * the last file --input took is the MODEL. */
  if (!a->model && last_input_at >= 0 && a->ninputs > 1) a->model = a->inputs[--a->ninputs];
  if (!a->model) return bad_usage("no MODEL given%s (etpu run MODEL --input FILE...)", "");
  if (a->ninputs == 0) return bad_usage("no --input given%s", "");
  if (a->has_mean != a->has_std) return bad_usage("--mean and --std go together%s", "");
  if (a->target == ETPU_TARGET_DEVBOARD_MICRO) {
    /* The board's CPU ops run under TFLite Micro: its reference kernels. */
    if (a->has_profile && a->profile != ETPU_PROFILE_TFLITE_REF)
      return bad_usage("--target devboard-micro runs TFLite Micro's arithmetic (--profile tflite-ref), not '%s'",
                       "litert");
    a->profile = ETPU_PROFILE_TFLITE_REF;
  }
  a->in_opts.normalize = a->has_mean;
  return 0;
}

/* Whether path names the same existing file as other (inputs are never
 * overwritten). */
static bool same_file(const char *path, const char *other) {
  struct stat a, b;
  return other && stat(path, &a) == 0 && stat(other, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Everything a run holds, released in one place. */
typedef struct run_state {
  etpu_model *model;
  etpu_interp *interp;
  etpu_labels *labels;
  void *in_buf[MAX_INPUTS];
  size_t in_size[MAX_INPUTS];
  etpu_input_kind in_kind[MAX_INPUTS];
  etpu_input_options in_opts[MAX_INPUTS]; /* .normalize set from the model's metadata: printed */
  bool from_meta[MAX_INPUTS];
  bool assumed[MAX_INPUTS]; /* a float image input given raw pixels for want of a normalization (warned) */
  double *times;
  char *target_text; /* --target block (malloc), or NULL */
  etpu_task task;             /* the outputs' task: found or --task */
  etpu_image *image;          /* input 0's image (task coordinates are its pixels), or NULL */
  etpu_task_result *result;   /* decoded detect / segment / pose outputs, or NULL */
  uint64_t *op_ns;  /* --per-op: repeat × op count times */
  uint32_t nops;
} run_state;

/* Input i's image options: --mean/--std when given; for a FLOAT32 input,
 * else the normalization the model's metadata records for it (quantized
 * inputs keep their quantization's default: raw pixels for Coral's uint8
 * models). etpu normalizes every channel alike: per-channel metadata values
 * that differ are refused (exit 1; give --mean/--std). Unreadable metadata
 * is advisory: a warning, then the defaults. */
static int input_options(const run_args *a, run_state *s, uint32_t i, const etpu_tensor_info *t) {
  s->in_opts[i] = a->in_opts;
  if (a->in_opts.normalize || t->type != ETPU_FLOAT32) return 0;
  return cli_metadata_normalization("run", a->model, s->model, i, &s->in_opts[i], &s->from_meta[i]);
}

static void run_free(run_state *s) {
  free(s->target_text);
  for (uint32_t i = 0; i < MAX_INPUTS; i++) free(s->in_buf[i]);
  free(s->times);
  etpu_task_result_free(s->result);
  etpu_image_free(s->image);
  free(s->op_ns);
  etpu_labels_free(s->labels);
  etpu_interp_free(s->interp);
  etpu_model_free(s->model);
}

static int write_outputs(const run_args *a, run_state *s, uint32_t nout) {
  int rc = ensure_dir(a->output_dir);
  if (rc) return rc;
  for (uint32_t k = 0; k < nout; k++) {
    etpu_tensor_info t;
    const void *data;
    size_t size;
    etpu_status st = etpu_interp_output(s->interp, k, &data, &size);
    if (st == ETPU_OK) st = etpu_model_tensor(s->model, 0, (uint32_t)etpu_interp_output_index(s->interp, k), &t);
    if (st != ETPU_OK) return cli_report(st);
    char name[32];
    snprintf(name, sizeof name, "output_%u.npy", k);
    char *path = path_join(a->output_dir, name);
    if (!path) return 3;
    use_interp_shape(s->interp, etpu_interp_output_index(s->interp, k), &t);
    st = etpu_npy_write(path, t.type, t.rank, t.shape, data, size);
    free(path);
    if (st != ETPU_OK) return cli_report(st);
  }
  return 0;
}

static int dump_tensors(const run_args *a, run_state *s, uint32_t *written, uint32_t *skipped) {
  int rc = ensure_dir(a->dump_dir);
  if (rc) return rc;
  *written = *skipped = 0;
  for (uint32_t i = 0; i < etpu_model_tensor_count(s->model, 0); i++) {
    etpu_tensor_info t;
    const void *data;
    size_t size;
    if (etpu_model_tensor(s->model, 0, i, &t) != ETPU_OK || etpu_interp_tensor(s->interp, i, &data, &size) != ETPU_OK ||
        t.rank > ETPU_NPY_MAX_RANK) {
      (*skipped)++; /* unused by the graph, or a type .npy cannot hold */
      continue;
    }
    char name[32];
    snprintf(name, sizeof name, "t%u.npy", i);
    char *path = path_join(a->dump_dir, name);
    if (!path) return 3;
    use_interp_shape(s->interp, (int32_t)i, &t);
    etpu_status st = etpu_npy_write(path, t.type, t.rank, t.shape, data, size);
    free(path);
    if (st == ETPU_UNSUPPORTED) {
      (*skipped)++;
      continue;
    }
    if (st != ETPU_OK) return cli_report(st);
    (*written)++;
  }
  return 0;
}

/* --target: the target block, built before printing (text lines, or JSON
 * members starting ", "); NULL without --target. */
static char *target_block(const run_args *a, const etpu_model *m, size_t arena, etpu_status *st) {
  etpu_latency lat;
  char *lt = NULL, *mt = NULL, *out = NULL;
  etpu_micro *mc = NULL;
  struct stat sb;
  *st = etpu_model_latency(m, a->target, &lat);
  if (*st == ETPU_OK) *st = etpu_latency_report(&lat, a->json ? ETPU_REPORT_JSON : ETPU_REPORT_CONSOLE, &lt);
  if (*st == ETPU_OK && a->target == ETPU_TARGET_DEVBOARD_MICRO)
    *st = etpu_micro_check(m, stat(a->model, &sb) == 0 ? (uint64_t)sb.st_size : 0, &mc);
  if (*st == ETPU_OK && mc) *st = etpu_micro_report(mc, a->json ? ETPU_REPORT_JSON : ETPU_REPORT_CONSOLE, &mt);
  if (*st == ETPU_OK) {
    etpu_micro_verdict v = {0};
    etpu_micro_summary(mc, &v);
    size_t n = strlen(lt) + (mt ? strlen(mt) : 0) + 512;
    out = malloc(n);
    if (!out)
      *st = ETPU_OUT_OF_MEMORY;
    else if (a->json)
      snprintf(out, n, ", \"target\": \"%s\", \"latency\": %s%s%s%s", etpu_target_name(a->target), lt,
               mt ? ", \"devboard_micro\": " : "", mt ? mt : "", "");
    else if (mc)
      snprintf(out, n,
               "target devboard-micro: arena etpu used %zu bytes; TFLite Micro's arena estimated %llu bytes (its "
               "greedy planner over the same tensors, plus its persistent allocations)\n%s%s",
               arena, (unsigned long long)v.arena_bytes, lt, mt);
    else
      snprintf(out, n, "target %s: %s\n%s", etpu_target_name(a->target), etpu_target_description(a->target), lt);
  }
  etpu_free(lt);
  etpu_free(mt);
  etpu_micro_free(mc);
  return out;
}

/* The label of class k (a line of --labels, no background offset), or "". */
static const char *class_label(const run_state *s, uint32_t k) {
  return s->labels ? etpu_labels_get(s->labels, etpu_labels_count(s->labels), k) : "";
}

static const char *mask_name = "mask.npy";

/* Segmentation: the image's class mask as DIR/mask.npy, [H, W], uint8 when
 * every class fits, else uint16. */
static int write_mask(const run_args *a, const run_state *s) {
  const etpu_task_result *r = s->result;
  int rc = ensure_dir(a->output_dir);
  if (rc) return rc;
  const size_t n = (size_t)r->image_width * r->image_height;
  const bool small = r->class_count <= 256;
  uint8_t *u8 = small ? malloc(n) : NULL;
  if (small && !u8) {
    fprintf(stderr, "etpu: error: out of memory\n");
    return 3;
  }
  for (size_t i = 0; small && i < n; i++) u8[i] = (uint8_t)r->mask[i];
  char *path = path_join(a->output_dir, mask_name);
  const int32_t shape[2] = {(int32_t)r->image_height, (int32_t)r->image_width};
  etpu_status st = path ? etpu_npy_write(path, small ? ETPU_UINT8 : ETPU_UINT16, 2, shape,
                                         small ? (const void *)u8 : (const void *)r->mask, small ? n : 2 * n)
                        : ETPU_OUT_OF_MEMORY;
  free(path);
  free(u8);
  return st == ETPU_OK ? 0 : cli_report(st);
}

/* What the task read: the op, or the output's name. */
static const char *task_source(const run_state *s) {
  const etpu_task_result *r = s->result;
  if (r->task == ETPU_TASK_DETECT) return "TFLite_Detection_PostProcess";
  etpu_tensor_info t;
  int32_t ti = etpu_model_output(s->model, 0, (uint32_t)r->source_output);
  if (etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK) return "";
  if (r->task == ETPU_TASK_POSE && t.producer >= 0) {
    etpu_op_info op;
    if (etpu_model_op(s->model, 0, (uint32_t)t.producer, &op) == ETPU_OK && op.code == ETPU_OP_CUSTOM) return op.name;
  }
  return t.name;
}

static void print_task_json(const run_args *a, const run_state *s) {
  const etpu_task_result *r = s->result;
  printf(", \"task\": {\"name\": \"%s\"", etpu_task_name((int)s->task));
  if (!r) {
    printf("}");
    return;
  }
  printf(", \"source\": ");
  cli_json_string(stdout, task_source(s));
  printf(", \"image\": [%u, %u], \"input\": [%u, %u], \"fit\": \"stretch\", \"resize\": \"%s\"", r->image_width,
         r->image_height, r->input_width, r->input_height,
         a->in_opts.resize == ETPU_RESIZE_NEAREST ? "nearest" : "bilinear");
  if (r->task == ETPU_TASK_DETECT) {
    printf(", \"threshold\": %.9g, \"objects\": [", a->threshold);
    for (uint32_t i = 0; i < r->detection_count; i++) {
      const etpu_detection *d = &r->detections[i];
      printf("%s{\"class\": %u, \"label\": ", i ? ", " : "", d->class_id);
      cli_json_string(stdout, class_label(s, d->class_id));
      printf(", \"score\": %.9g, \"xmin\": %.9g, \"ymin\": %.9g, \"xmax\": %.9g, \"ymax\": %.9g}", d->score,
             d->xmin, d->ymin, d->xmax, d->ymax);
    }
    printf("]");
  } else if (r->task == ETPU_TASK_POSE) {
    printf(", \"threshold\": %.9g, \"poses\": [", a->threshold);
    for (uint32_t p = 0; p < r->pose_count; p++) {
      printf("%s{\"score\": %.9g, \"keypoints\": [", p ? ", " : "", r->poses[p].score);
      for (uint32_t k = 0; k < ETPU_POSE_KEYPOINTS; k++) {
        const etpu_keypoint *kp = &r->poses[p].keypoints[k];
        printf("%s{\"name\": \"%s\", \"score\": %.9g, \"x\": %.9g, \"y\": %.9g}", k ? ", " : "",
               etpu_pose_keypoint_name(k), kp->score, kp->x, kp->y);
      }
      printf("]}");
    }
    printf("]");
  } else if (r->task == ETPU_TASK_SEGMENT) {
    printf(", \"map\": [%u, %u], \"mask_scaling\": \"nearest\", \"classes\": [", r->map_width, r->map_height);
    bool first = true;
    for (uint32_t k = 0; k < r->class_count; k++) {
      if (r->class_share[k] <= 0) continue;
      printf("%s{\"class\": %u, \"label\": ", first ? "" : ", ", k);
      cli_json_string(stdout, class_label(s, k));
      printf(", \"share\": %.9g}", r->class_share[k]);
      first = false;
    }
    printf("]");
    if (a->output_dir) {
      char *path = path_join(a->output_dir, mask_name);
      printf(", \"mask_file\": ");
      cli_json_string(stdout, path ? path : "");
      free(path);
    }
  }
  if (a->draw) {
    printf(", \"draw\": ");
    cli_json_string(stdout, a->draw);
  }
  printf("}");
}

static void print_task_text(const run_args *a, const run_state *s) {
  const etpu_task_result *r = s->result;
  if (!r) {
    if (s->task != ETPU_TASK_NONE) printf("task: %s\n", etpu_task_name((int)s->task));
    return;
  }
  printf("task: %s from %s; coordinates in pixels of the %ux%u image, which was stretched to the %ux%u input "
         "(%s, no letterbox)\n",
         etpu_task_name((int)s->task), cli_t(task_source(s)), r->image_width, r->image_height, r->input_width,
         r->input_height, a->in_opts.resize == ETPU_RESIZE_NEAREST ? "nearest" : "bilinear");
  if (r->task == ETPU_TASK_DETECT) {
    printf("  %u object%s with score >= %g (label score xmin ymin xmax ymax):\n", r->detection_count,
           r->detection_count == 1 ? "" : "s", a->threshold);
    for (uint32_t i = 0; i < r->detection_count; i++) {
      const etpu_detection *d = &r->detections[i];
      const char *l = class_label(s, d->class_id);
      if (*l)
        printf("  %s", cli_t(l));
      else
        printf("  %u", d->class_id);
      printf(" %.4f %.1f %.1f %.1f %.1f\n", d->score, d->xmin, d->ymin, d->xmax, d->ymax);
    }
  } else if (r->task == ETPU_TASK_POSE) {
    printf("  %u pose%s\n", r->pose_count, r->pose_count == 1 ? "" : "s");
    for (uint32_t p = 0; p < r->pose_count; p++) {
      printf("  pose %u score %.4f (keypoint score x y):\n", p, r->poses[p].score);
      for (uint32_t k = 0; k < ETPU_POSE_KEYPOINTS; k++) {
        const etpu_keypoint *kp = &r->poses[p].keypoints[k];
        printf("    %-15s %.4f %.1f %.1f\n", etpu_pose_keypoint_name(k), kp->score, kp->x, kp->y);
      }
    }
  } else if (r->task == ETPU_TASK_SEGMENT) {
    printf("  %ux%u class map, scaled to the image by nearest neighbour; share of the image per class:\n",
           r->map_width, r->map_height);
    for (uint32_t k = 0; k < r->class_count; k++) {
      if (r->class_share[k] <= 0) continue;
      printf("  %5u  %6.2f%%  %s\n", k, 100 * r->class_share[k], cli_t(class_label(s, k)));
    }
    if (a->output_dir) printf("  mask -> %s/%s\n", cli_t(a->output_dir), mask_name);
  }
  if (a->draw) printf("  drawn -> %s\n", cli_t(a->draw));
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* --per-op: replace row 0 of s->op_ns by each op's median over the runs
 * (the lower middle value of an even count: a time one run took). */
static int op_medians(const run_args *a, run_state *s) {
  uint64_t *col = malloc((size_t)a->repeat * sizeof *col);
  if (!col) {
    fprintf(stderr, "etpu: error: out of memory\n");
    return 3;
  }
  for (uint32_t o = 0; o < s->nops; o++) {
    for (long r = 0; r < a->repeat; r++) col[r] = s->op_ns[(size_t)r * s->nops + o];
    qsort(col, (size_t)a->repeat, sizeof *col, cmp_u64);
    s->op_ns[o] = col[(a->repeat - 1) / 2];
  }
  free(col);
  return 0;
}

/* An op's first input and first output shape: "1x112x112x32 -> 1x56x56x64". */
static void op_shapes(const run_state *s, const etpu_op_info *op, char *buf, size_t size) {
  size_t n = 0;
  buf[0] = 0;
  for (int side = 0; side < 2; side++) {
    const int32_t ti = side == 0 ? (op->input_count ? op->inputs[0] : -1) : (op->output_count ? op->outputs[0] : -1);
    if (side == 1 && n < size) n += (size_t)snprintf(buf + n, size - n, " -> ");
    etpu_tensor_info t;
    if (ti < 0 || etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK) continue;
    use_interp_shape(s->interp, ti, &t);
    for (uint32_t d = 0; d < t.rank && n < size; d++) n += (size_t)snprintf(buf + n, size - n, "%s%d", d ? "x" : "", t.shape[d]);
  }
}

/* --per-op: the table of op times (medians), text or a JSON "ops" member. */
static void print_ops(const run_state *s, bool json) {
  uint64_t total = 0, total_macs = 0;
  for (uint32_t o = 0; o < s->nops; o++) {
    total += s->op_ns[o];
    total_macs += etpu_interp_op_macs(s->interp, o);
  }
  if (json)
    printf(", \"ops\": [");
  else
    printf("per op (median over the runs):\n%5s  %-24s %-34s %12s %10s %6s %8s\n", "op", "type", "shapes (in -> out)",
           "MACs", "time ms", "%", "GMAC/s");
  for (uint32_t o = 0; o < s->nops; o++) {
    etpu_op_info op;
    char shapes[160];
    if (etpu_model_op(s->model, 0, o, &op) != ETPU_OK) continue;
    op_shapes(s, &op, shapes, sizeof shapes);
    const uint64_t macs = etpu_interp_op_macs(s->interp, o), ns = s->op_ns[o];
    const double pct = total ? 100.0 * (double)ns / (double)total : 0.0;
    const double gmacs = ns ? (double)macs / (double)ns : 0.0;
    if (json) {
      printf("%s{\"index\": %u, \"type\": ", o ? ", " : "", o);
      cli_json_string(stdout, op.name);
      printf(", \"shapes\": \"%s\", \"macs\": %llu, \"time_ms\": %.6f, \"percent\": %.3f, \"gmac_per_s\": %.3f}",
             shapes, (unsigned long long)macs, (double)ns / 1e6, pct, gmacs);
    } else {
      printf("%5u  %-24s %-34s %12llu %10.4f %6.2f %8.2f\n", o, cli_t(op.name), shapes, (unsigned long long)macs,
             (double)ns / 1e6, pct, gmacs);
    }
  }
  const double gmacs = total ? (double)total_macs / (double)total : 0.0;
  if (json)
    printf("], \"ops_total\": {\"macs\": %llu, \"time_ms\": %.6f, \"gmac_per_s\": %.3f}",
           (unsigned long long)total_macs, (double)total / 1e6, gmacs);
  else
    printf("%5s  %-24s %-34s %12llu %10.4f %6.2f %8.2f\n", "", "total (sum of medians)", "", (unsigned long long)total_macs,
           (double)total / 1e6, 100.0, gmacs);
}

static void print_json(const run_args *a, run_state *s, uint32_t nout, size_t arena, double tmin, double tmed,
                       uint32_t dumped, uint32_t skipped) {
  printf("{\"model\": ");
  cli_json_string(stdout, a->model);
  printf(", \"profile\": \"%s\", \"threads\": %u, \"isa\": \"%s\", \"inputs\": [",
         etpu_profile_name((int)a->profile), etpu_interp_threads(s->interp), etpu_isa_name());
  for (uint32_t i = 0; i < a->ninputs; i++) {
    etpu_tensor_info t;
    int32_t ti = etpu_interp_input_index(s->interp, i);
    if (etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK) continue;
    printf("%s{\"index\": %u, \"tensor\": %d, \"name\": ", i ? ", " : "", i, ti);
    cli_json_string(stdout, t.name);
    printf(", \"type\": \"%s\", \"shape\": ", etpu_dtype_name(t.type));
    print_shape(stdout, &t, true);
    printf(", \"file\": ");
    cli_json_string(stdout, a->inputs[i]);
    printf(", \"kind\": \"%s\"", kind_name(s->in_kind[i]));
    if (s->in_kind[i] == ETPU_INPUT_IMAGE && (s->from_meta[i] || s->in_opts[i].normalize || s->assumed[i]))
      printf(", \"normalization\": {\"mean\": %.9g, \"std\": %.9g, \"from\": \"%s\"}", s->in_opts[i].mean,
             s->in_opts[i].std, s->from_meta[i] ? "metadata" : s->assumed[i] ? "assumed" : "--mean/--std");
    printf("}");
  }
  printf("], \"outputs\": [");
  for (uint32_t k = 0; k < nout; k++) {
    etpu_tensor_info t;
    const void *data;
    size_t size;
    int32_t ti = etpu_interp_output_index(s->interp, k);
    if (etpu_interp_output(s->interp, k, &data, &size) != ETPU_OK ||
        etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK)
      continue;
    use_interp_shape(s->interp, ti, &t);
    size_t n = element_count(&t);
    printf("%s{\"index\": %u, \"tensor\": %d, \"name\": ", k ? ", " : "", k, ti);
    cli_json_string(stdout, t.name);
    printf(", \"type\": \"%s\", \"shape\": ", etpu_dtype_name(t.type));
    print_shape(stdout, &t, true);
    if (t.quant_count == 1)
      printf(", \"scale\": %.9g, \"zero_point\": %lld", t.scale[0], (long long)(t.zero_point ? t.zero_point[0] : 0));
    if (a->output_dir) {
      char name[32];
      snprintf(name, sizeof name, "output_%u.npy", k);
      char *path = path_join(a->output_dir, name);
      printf(", \"file\": ");
      cli_json_string(stdout, path ? path : "");
      free(path);
    }
    long top = a->top < 0 ? DEFAULT_TOP : a->top;
    if (classifier_shaped(&t) && top > 0) {
      uint32_t k2 = (uint32_t)(top < (long)n ? top : (long)n);
      uint32_t *idx = malloc(((size_t)k2 + 1) * sizeof *idx);
      uint32_t m = idx ? top_k(&t, data, n, k2, idx) : 0;
      printf(", \"top\": [");
      for (uint32_t r = 0; r < m; r++) {
        printf("%s{\"class\": %u, \"score\": ", r ? ", " : "", idx[r]);
        print_number(stdout, element(&t, data, idx[r]));
        if (s->labels) {
          printf(", \"label\": ");
          cli_json_string(stdout, etpu_labels_get(s->labels, (uint32_t)n, idx[r]));
        }
        printf("}");
      }
      printf("]");
      free(idx);
    }
    if (n <= JSON_VALUES) {
      printf(", \"values\": [");
      for (size_t i = 0; i < n; i++) {
        if (i) printf(", ");
        print_number(stdout, element(&t, data, i));
      }
      printf("]");
    }
    printf("}");
  }
  printf("], \"timing_ms\": {\"repeat\": %ld, \"min\": %.6f, \"median\": %.6f}", a->repeat, tmin, tmed);
  printf(", \"arena_bytes\": %zu, \"tensor_bytes\": %zu", arena, etpu_interp_tensor_bytes(s->interp));
  if (a->dump_dir) printf(", \"dumped_tensors\": %u, \"skipped_tensors\": %u", dumped, skipped);
  if (s->target_text) printf("%s", s->target_text);
  print_task_json(a, s);
  if (s->op_ns) print_ops(s, true);
  printf("}\n");
}

/* A labels file should have a line per class of every classifier output
 * (or one more: a "background" line 0, as Coral's files have): warn, once
 * per output, when it does not, since its labels then name other classes. */
static void warn_labels(const run_args *a, const run_state *s, uint32_t nout) {
  if (!s->labels || (a->top == 0)) return;
  uint32_t have = etpu_labels_count(s->labels);
  for (uint32_t k = 0; k < nout; k++) {
    etpu_tensor_info t;
    int32_t ti = etpu_interp_output_index(s->interp, k);
    if (etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK || !classifier_shaped(&t)) continue;
    size_t n = element_count(&t);
    if (have == n || have == n + 1) continue;
    fprintf(stderr,
            "etpu: warning: run: %s has %u label%s but output %u has %zu classes: the labels may not name "
            "these classes\n",
            cli_t(a->labels), have, have == 1 ? "" : "s", k, n);
  }
}

static void print_text(const run_args *a, run_state *s, uint32_t nout, size_t arena, double tmin, double tmed,
                       uint32_t dumped, uint32_t skipped) {
  printf("model: %s (profile %s, %u thread%s, %s kernels)\n", cli_t(a->model), etpu_profile_name((int)a->profile),
         etpu_interp_threads(s->interp), etpu_interp_threads(s->interp) == 1 ? "" : "s", etpu_isa_name());
  for (uint32_t i = 0; i < a->ninputs; i++) {
    etpu_tensor_info t;
    int32_t ti = etpu_interp_input_index(s->interp, i);
    if (etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK) continue;
    printf("input %u '%s' %s", i, cli_t(t.name), etpu_dtype_name(t.type));
    print_shape(stdout, &t, false);
    printf(" <- %s (%s", cli_t(a->inputs[i]), kind_name(s->in_kind[i]));
    if (s->from_meta[i] && s->in_kind[i] == ETPU_INPUT_IMAGE)
      printf("; normalization from the model's metadata: mean %g, std %g", s->in_opts[i].mean, s->in_opts[i].std);
    if (s->assumed[i] && s->in_kind[i] == ETPU_INPUT_IMAGE)
      printf("; normalization assumed: mean 0, std 1, raw pixels");
    printf(")\n");
  }
  for (uint32_t k = 0; k < nout; k++) {
    etpu_tensor_info t;
    const void *data;
    size_t size;
    int32_t ti = etpu_interp_output_index(s->interp, k);
    if (etpu_interp_output(s->interp, k, &data, &size) != ETPU_OK ||
        etpu_model_tensor(s->model, 0, (uint32_t)ti, &t) != ETPU_OK)
      continue;
    use_interp_shape(s->interp, ti, &t);
    size_t n = element_count(&t);
    printf("output %u '%s' %s", k, cli_t(t.name), etpu_dtype_name(t.type));
    print_shape(stdout, &t, false);
    if (a->output_dir) printf(" -> %s/output_%u.npy", cli_t(a->output_dir), k);
    printf("\n");
    long top = a->top < 0 ? DEFAULT_TOP : a->top;
    if (classifier_shaped(&t) && top > 0) {
      uint32_t k2 = (uint32_t)(top < (long)n ? top : (long)n);
      uint32_t *idx = malloc(((size_t)k2 + 1) * sizeof *idx);
      uint32_t m = idx ? top_k(&t, data, n, k2, idx) : 0;
      for (uint32_t r = 0; r < m; r++) {
        printf("  %5u  %.6f", idx[r], element(&t, data, idx[r]));
        if (s->labels) printf("  %s", cli_t(etpu_labels_get(s->labels, (uint32_t)n, idx[r])));
        printf("\n");
      }
      free(idx);
    } else if (n <= SMALL_OUTPUT) {
      printf("  values:");
      for (size_t i = 0; i < n; i++) printf(" %.6g", element(&t, data, i));
      printf("\n");
    }
  }
  if (a->repeat > 1)
    printf("invoke: min %.3f ms, median %.3f ms over %ld runs\n", tmin, tmed, a->repeat);
  else
    printf("invoke: %.3f ms\n", tmin);
  printf("memory: arena %zu bytes (all tensors separately: %zu)\n", arena, etpu_interp_tensor_bytes(s->interp));
  if (a->dump_dir) printf("tensors: %u written to %s, %u skipped (unused or not storable)\n", dumped, cli_t(a->dump_dir), skipped);
  if (s->target_text) printf("%s", s->target_text);
  print_task_text(a, s);
  if (s->op_ns) print_ops(s, false);
}

int etpu_cmd_run(int argc, char **argv) {
  run_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc) return rc < 0 ? 0 : rc;
  run_state s;
  memset(&s, 0, sizeof s);
  etpu_status st;
  /* --draw's file is checked before any work, and never one the run reads */
  if (a.draw) {
    bool input = same_file(a.draw, a.model) || same_file(a.draw, a.labels);
    for (uint32_t i = 0; i < a.ninputs; i++) input |= same_file(a.draw, a.inputs[i]);
    if (input) {
      rc = cli_usage_error("run", "--draw %s would overwrite a file the run reads", cli_t(a.draw));
      goto done;
    }
    if ((st = etpu_file_check_writable(a.draw)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
  }
  /* -o and --dump-tensors folders: made and probed before any work, so an
   * unwritable folder fails at once, not after the invokes */
  for (int k = 0; k < 2; k++) {
    const char *dir = k ? a.dump_dir : a.output_dir;
    if (!dir) continue;
    if ((rc = ensure_dir(dir)) != 0) goto done;
    char *probe = path_join(dir, "probe");
    st = probe ? etpu_file_check_writable(probe) : ETPU_OUT_OF_MEMORY;
    free(probe);
    if (st != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
  }
  if (a.labels && (st = etpu_labels_read(a.labels, &s.labels)) != ETPU_OK) {
    rc = cli_report_input(st);
    goto done;
  }
  if ((st = etpu_model_open(a.model, &s.model)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if (a.task >= 0) {
    s.task = (etpu_task)a.task;
    if ((st = etpu_task_check(s.model, s.task)) != ETPU_OK) {
      rc = cli_report_input(st);
      goto done;
    }
  } else if ((st = etpu_task_detect(s.model, &s.task)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if (a.draw && s.task != ETPU_TASK_DETECT && s.task != ETPU_TASK_SEGMENT && s.task != ETPU_TASK_POSE) {
    rc = cli_usage_error("run", "--draw draws detect, segment and pose results; the task of %s is %s (give --task?)",
                         cli_t(a.model), etpu_task_name((int)s.task));
    goto done;
  }
  etpu_interp_options io;
  etpu_interp_options_init(&io);
  io.profile = a.profile;
  io.keep_all_tensors = a.dump_dir != NULL;
  io.num_threads = (uint32_t)a.threads;
  if ((st = etpu_interp_create(s.model, &io, &s.interp)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  size_t arena = 0;
  if ((st = etpu_interp_plan(s.interp, &arena)) != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  uint32_t nin = etpu_interp_input_count(s.interp), nout = etpu_interp_output_count(s.interp);
  if (a.ninputs != nin) {
    fprintf(stderr, "etpu: error: run: %s has %u input%s; %u --input file%s given\n", cli_t(a.model), nin, nin == 1 ? "" : "s",
            a.ninputs, a.ninputs == 1 ? "" : "s");
    rc = 2;
    goto done;
  }
  for (uint32_t i = 0; i < nin; i++) {
    etpu_tensor_info t;
    int32_t ti = etpu_interp_input_index(s.interp, i);
    if ((st = etpu_model_tensor(s.model, 0, (uint32_t)ti, &t)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
    const size_t bytes = t.bytes;
    s.in_size[i] = bytes;
    s.in_buf[i] = malloc(bytes ? bytes : 1);
    if (!s.in_buf[i]) {
      fprintf(stderr, "etpu: error: out of memory\n");
      rc = 3;
      goto done;
    }
    if ((rc = input_options(&a, &s, i, &t)) != 0) goto done;
    if ((st = etpu_tensor_load(a.inputs[i], &t, &s.in_opts[i], s.in_buf[i], bytes, &s.in_kind[i])) != ETPU_OK) {
      rc = cli_report_input(st);
      goto done;
    }
    if (s.in_kind[i] == ETPU_INPUT_IMAGE && t.type == ETPU_FLOAT32 && !s.in_opts[i].normalize) {
      s.assumed[i] = true;
      s.in_opts[i].mean = 0.0f; /* what etpu_image_to_tensor used: raw pixels */
      s.in_opts[i].std = 1.0f;
      cli_warn_assumed_normalization("run", a.model, i);
    }
  }
  /* Task coordinates are in input 0's image pixels (its own size when not an image). */
  if (s.in_kind[0] == ETPU_INPUT_IMAGE && (st = etpu_image_read(a.inputs[0], &s.image)) != ETPU_OK) {
    rc = cli_report_input(st);
    goto done;
  }
  if (a.draw && !s.image) {
    rc = cli_usage_error("run", "--draw needs an image as the first --input, not %s", cli_t(a.inputs[0]));
    goto done;
  }
  if (a.draw && (s.image->width > CLI_DRAW_MAX_SIDE || s.image->height > CLI_DRAW_MAX_SIDE)) {
    fprintf(stderr, "etpu: error: run: --draw: %s is %ux%u; cairo draws at most %u pixels a side\n",
            cli_t(a.inputs[0]), s.image->width, s.image->height, CLI_DRAW_MAX_SIDE);
    rc = CLI_EXIT_RULE;
    goto done;
  }
  s.times = malloc((size_t)a.repeat * sizeof *s.times);
  if (a.per_op) {
    s.nops = etpu_interp_op_count(s.interp);
    s.op_ns = calloc((size_t)a.repeat * s.nops + 1, sizeof *s.op_ns);
    if (s.op_ns && (st = etpu_interp_set_op_timing(s.interp, true)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
  }
  if (!s.times || (a.per_op && !s.op_ns)) {
    fprintf(stderr, "etpu: error: out of memory\n");
    rc = 3;
    goto done;
  }
  for (long r = 0; r < a.repeat; r++) {
    if ((st = etpu_interp_reset_state(s.interp)) != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
    for (uint32_t i = 0; i < nin; i++)
      if ((st = etpu_interp_set_input(s.interp, i, s.in_buf[i], s.in_size[i])) != ETPU_OK) {
        rc = cli_report_input(st);
        goto done;
      }
    double t0 = now_ms();
    st = etpu_interp_invoke(s.interp);
    s.times[r] = now_ms() - t0;
    if (st != ETPU_OK) {
      rc = cli_report(st);
      goto done;
    }
    for (uint32_t o = 0; s.op_ns && o < s.nops; o++)
      if ((st = etpu_interp_op_time(s.interp, o, &s.op_ns[(size_t)r * s.nops + o])) != ETPU_OK) {
        rc = cli_report(st);
        goto done;
      }
  }
  double tmin = s.times[0];
  for (long r = 1; r < a.repeat; r++) tmin = s.times[r] < tmin ? s.times[r] : tmin;
  qsort(s.times, (size_t)a.repeat, sizeof *s.times, cmp_double);
  double tmed = a.repeat % 2 ? s.times[a.repeat / 2] : 0.5 * (s.times[a.repeat / 2 - 1] + s.times[a.repeat / 2]);
  if (s.task != ETPU_TASK_NONE && s.task != ETPU_TASK_CLASSIFY) {
    etpu_task_options to;
    etpu_task_options_init(&to);
    to.threshold = a.threshold;
    if (s.image) {
      to.image_width = s.image->width;
      to.image_height = s.image->height;
    }
    if ((st = etpu_task_decode(s.model, s.interp, s.task, &to, &s.result)) != ETPU_OK) {
      rc = cli_report_input(st);
      goto done;
    }
  }
  if (a.output_dir && (rc = write_outputs(&a, &s, nout)) != 0) goto done;
  if (a.output_dir && s.result && s.result->mask && (rc = write_mask(&a, &s)) != 0) goto done;
  if (a.draw && (rc = cli_draw(a.draw, s.image, s.result, s.labels, a.threshold)) != 0) goto done;
  uint32_t dumped = 0, skipped = 0;
  if (a.dump_dir && (rc = dump_tensors(&a, &s, &dumped, &skipped)) != 0) goto done;
  warn_labels(&a, &s, nout);
  if (a.has_target && (s.target_text = target_block(&a, s.model, arena, &st)) == NULL) {
    rc = cli_report(st);
    goto done;
  }
  if (a.per_op && (rc = op_medians(&a, &s)) != 0) goto done;
  if (a.json)
    print_json(&a, &s, nout, arena, tmin, tmed, dumped, skipped);
  else
    print_text(&a, &s, nout, arena, tmin, tmed, dumped, skipped);
  rc = 0;
done:
  run_free(&s);
  return rc;
}
