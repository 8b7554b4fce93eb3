/*
 * learn.c — on-device learning from the command line (LEARNING.md):
 *
 *   etpu extract MODEL PATH... -o OUT.npy      embeddings of images, float32 [N, D]
 *   etpu imprint --make-model EXTRACTOR [--scale S] -o MODEL
 *   etpu imprint MODEL -o OUT --class NAME=DIR... [--keep-classes]
 *   etpu train   EXTRACTOR -o OUT --data DIR [SGD options]
 * Classes are NAME=PATH (or --data's subfolders), numbered in the order
 * given after any kept ones, with OUT's labels written beside it (.txt); or
 * --class ID PATH... with explicit ids.
 *
 * PATH is an image (BMP, PNG, JPEG) or a folder, whose images are taken in
 * name order. Embeddings are the model's output, dequantized, computed with
 * etpu's interpreter (tflite-ref arithmetic); images are fitted to the input
 * as `etpu run` fits them (bilinear, half-pixel centres).
 *
 * A thin layer over the public header: etpu_interp_* and etpu_tensor_load
 * give the embeddings, etpu_imprint_* and etpu_softmax_regression_* learn
 * and write. The same inputs and options give the same output bytes.
 *
 * Exit codes: 0 ok; 1 a model or image broke a rule; 2 usage; 3 I/O or out
 * of memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* ---- arguments -------------------------------------------------------------- */

typedef struct labelled {
  char *path;     /* owned */
  uint32_t label; /* class id; 0 for extract */
} labelled;

typedef struct image_list {
  labelled *v;
  size_t n, cap;
} image_list;

static void list_free(image_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->v[i].path);
  free(l->v);
  memset(l, 0, sizeof *l);
}

static bool list_push(image_list *l, const char *path, uint32_t label) {
  if (l->n == l->cap) {
    size_t ncap = l->cap ? l->cap * 2 : 32;
    labelled *nv = realloc(l->v, ncap * sizeof *nv);
    if (!nv) return false;
    l->v = nv;
    l->cap = ncap;
  }
  char *p = malloc(strlen(path) + 1);
  if (!p) return false;
  strcpy(p, path);
  l->v[l->n].path = p;
  l->v[l->n].label = label;
  l->n++;
  return true;
}

/* Add a file, or a folder's images in name order. Returns an exit code. */
static int add_path(image_list *l, const char *path, uint32_t label) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "etpu: error: %s: %s\n", cli_t(path), strerror(errno));
    return 3;
  }
  if (!S_ISDIR(st.st_mode)) return list_push(l, path, label) ? 0 : 3;
  char **names = NULL;
  size_t n = 0;
  int rc = cli_list_dir("", path, CLI_ENTRIES_IMAGES, &names, &n);
  if (rc == 0 && n == 0) {
    fprintf(stderr, "etpu: error: %s: no .bmp, .png or .jpg images in this folder\n", cli_t(path));
    rc = CLI_EXIT_USAGE; /* the command line named an empty folder */
  }
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (!list_push(l, names[i], label)) {
      fprintf(stderr, "etpu: error: out of memory listing %s\n", cli_t(path));
      rc = 3;
    }
  cli_free_list(names, n);
  return rc;
}

static bool parse_ulong(const char *s, unsigned long max, unsigned long *out) {
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno || end == s || *end || s[0] == '-' || v > max) return false;
  *out = v;
  return true;
}

static bool parse_float(const char *s, float *out) {
  char *end;
  errno = 0;
  float v = strtof(s, &end);
  if (errno || end == s || *end) return false;
  *out = v;
  return true;
}

/* --json: the subcommand prints one JSON document at the end and no other
 * line on stdout (set by parse_common). */
static bool g_json;

/* "{"output": OUT, "labels": OUT.txt" of imprint and train's documents. */
static void json_outputs(const char *model, const char *out, const char *labels) {
  printf("{\"model\": ");
  cli_json_string(stdout, model);
  printf(", \"output\": ");
  cli_json_string(stdout, out);
  if (labels) {
    printf(", \"labels\": ");
    cli_json_string(stdout, labels);
  }
}

/* ---- embeddings ---------------------------------------------------------------- */

typedef struct embedder {
  etpu_interp *ip;
  etpu_tensor_info in, out;
  uint8_t *buf;
  size_t size;
  uint32_t dim;
} embedder;

static void embedder_free(embedder *e) {
  etpu_interp_free(e->ip);
  free(e->buf);
  memset(e, 0, sizeof *e);
}

/* Returns an exit code (0 ok), having printed why. */
static int embedder_init(embedder *e, const etpu_model *m) {
  memset(e, 0, sizeof *e);
  etpu_status cst = etpu_extractor_check(m); /* e.g. a classifier's softmax output */
  if (cst != ETPU_OK) return cli_report(cst);
  if (etpu_model_input_count(m, 0) != 1 || etpu_model_output_count(m, 0) != 1) {
    fprintf(stderr, "etpu: error: %s: an embedding model has one input and one output (it has %u and %u)\n",
            cli_t(etpu_model_label(m)), etpu_model_input_count(m, 0), etpu_model_output_count(m, 0));
    return 1;
  }
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = false;
  size_t arena;
  etpu_status st = etpu_interp_create(m, &o, &e->ip);
  if (st == ETPU_OK) st = etpu_interp_plan(e->ip, &arena);
  if (st == ETPU_OK) st = etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &e->in);
  if (st == ETPU_OK) st = etpu_model_tensor(m, 0, (uint32_t)etpu_model_output(m, 0, 0), &e->out);
  if (st != ETPU_OK) return cli_report(st);
  const size_t n = e->in.bytes;
  if (n == 0) {
    fprintf(stderr, "etpu: error: the extractor's input has no fixed byte size (dynamic shape or type %s)\n",
            etpu_dtype_name(e->in.type));
    return 1;
  }
  e->size = n;
  e->buf = malloc(n ? n : 1);
  if (!e->buf) {
    fprintf(stderr, "etpu: error: out of memory for a %zu-byte input\n", n);
    return 3;
  }
  uint64_t d = 1;
  for (uint32_t i = 0; i < e->out.rank; i++) d *= (uint64_t)e->out.shape[i];
  bool quant8 = (e->out.type == ETPU_UINT8 || e->out.type == ETPU_INT8) && e->out.quant_count == 1;
  if (!(quant8 || e->out.type == ETPU_FLOAT32) || d == 0 || d > (1u << 24)) {
    fprintf(stderr,
            "etpu: error: %s: output '%s' (%s) is not an embedding: want UINT8/INT8 quantized per tensor, or "
            "FLOAT32\n",
            cli_t(etpu_model_label(m)), cli_t(e->out.name), etpu_dtype_name(e->out.type));
    return 1;
  }
  e->dim = (uint32_t)d;
  return 0;
}

/* The dequantized output for one image into emb[dim]. */
static etpu_status embed(embedder *e, const char *path, float *emb) {
  etpu_status st = etpu_tensor_load(path, &e->in, NULL, e->buf, e->size, NULL);
  const void *data = NULL;
  size_t n = 0;
  if (st == ETPU_OK) st = etpu_interp_set_input(e->ip, 0, e->buf, e->size);
  if (st == ETPU_OK) st = etpu_interp_invoke(e->ip);
  if (st == ETPU_OK) st = etpu_interp_output(e->ip, 0, &data, &n);
  if (st != ETPU_OK) return st;
  for (uint32_t i = 0; i < e->dim; i++) {
    if (e->out.type == ETPU_FLOAT32) {
      memcpy(&emb[i], (const uint8_t *)data + 4 * (size_t)i, 4);
    } else {
      int32_t q = e->out.type == ETPU_INT8 ? ((const int8_t *)data)[i] : ((const uint8_t *)data)[i];
      emb[i] = e->out.scale[0] * (float)(q - (int32_t)e->out.zero_point[0]);
    }
  }
  return ETPU_OK;
}

static int open_model(const char *path, etpu_model **m) {
  etpu_status st = etpu_model_open(path, m);
  return st == ETPU_OK ? 0 : cli_report(st);
}

static int write_model(const etpu_model *m, const char *path) {
  etpu_status st = etpu_model_write_file(m, path, 0);
  if (st != ETPU_OK) return cli_report(st);
  if (!g_json) printf("wrote %s\n", cli_t(path));
  return 0;
}

/* The labels file beside OUT: OUT with .tflite replaced by .txt (as
 * pycoral's examples name it), or OUT.txt. */
static char *labels_path(const char *out) {
  size_t n = strlen(out);
  if (n > 7 && !strcmp(out + n - 7, ".tflite")) n -= 7;
  char *p = malloc(n + 5);
  if (p) {
    memcpy(p, out, n);
    memcpy(p + n, ".txt", 5);
  }
  return p;
}

/* Write the model and, beside it, its labels ("ID  NAME" per line, which
 * `etpu run --labels` reads; NAME escaped as text, so a newline or control
 * character in a class name cannot break the format); name[k] NULL gives
 * the id as the name. Both go through etpu_write_file_atomic (a temporary
 * file and a rename, mode 0666 less the umask), so neither is ever
 * half-written. Returns an exit code. */
static int write_model_labels(const etpu_model *m, const char *out, const char *const *name, uint32_t classes) {
  char *lp = labels_path(out);
  char *text = NULL;
  size_t len = 0;
  FILE *f = lp ? open_memstream(&text, &len) : NULL;
  if (!f) {
    fprintf(stderr, "etpu: error: out of memory\n");
    free(lp);
    return 3;
  }
  for (uint32_t k = 0; k < classes; k++) {
    if (name && name[k])
      fprintf(f, "%u  %s\n", k, cli_t(name[k])); /* escaped: a name cannot break the one-per-line format */
    else
      fprintf(f, "%u  %u\n", k, k);
  }
  int rc = fclose(f) != 0 ? 3 : 0;
  if (rc) fprintf(stderr, "etpu: error: out of memory for the labels of %s\n", cli_t(out));
  if (rc == 0) rc = write_model(m, out);
  if (rc == 0) {
    etpu_status st = etpu_write_file_atomic(lp, text, len);
    rc = st == ETPU_OK ? 0 : cli_report(st);
  }
  if (rc == 0 && !g_json) printf("wrote %s\n", cli_t(lp));
  free(text);
  free(lp);
  return rc;
}

/* Before any work: OUT, and with `labels` its labels file, can be written
 * (etpu_file_check_writable). Returns an exit code, having printed why. */
static int check_outputs(const char *out, bool labels) {
  etpu_status st = etpu_file_check_writable(out);
  char *lp = NULL;
  if (st == ETPU_OK && labels) {
    lp = labels_path(out);
    if (!lp) {
      fprintf(stderr, "etpu: error: out of memory\n");
      return 3;
    }
    st = etpu_file_check_writable(lp);
  }
  free(lp);
  return st == ETPU_OK ? 0 : cli_report(st);
}

/* Shared parsing of MODEL -o OUT --class ID PATH... and the options each
 * command adds (returned in rest). */
typedef struct common_args {
  const char *model, *out;
  image_list images;
  uint32_t classes; /* highest id + 1 */
  bool named;       /* classes given as NAME=PATH or --data: labels count from the first new class */
  char **names;     /* named: names[k] of class k (owned) */
  bool json;        /* --json: one JSON document on stdout, no other lines */
} common_args;

static void args_free(common_args *a) {
  list_free(&a->images);
  for (uint32_t k = 0; a->named && k < a->classes; k++) free(a->names[k]);
  free(a->names);
  a->names = NULL;
}

/* The index of class `name`, added if new; UINT32_MAX when out of memory. */
static uint32_t class_named(common_args *a, const char *name, size_t len) {
  for (uint32_t k = 0; k < a->classes; k++)
    if (strlen(a->names[k]) == len && !strncmp(a->names[k], name, len)) return k;
  char **nn = realloc(a->names, (a->classes + 1) * sizeof *nn);
  if (!nn) return UINT32_MAX;
  a->names = nn;
  if (!(nn[a->classes] = malloc(len + 1))) return UINT32_MAX;
  memcpy(nn[a->classes], name, len);
  nn[a->classes][len] = 0;
  return a->classes++;
}

/* --data DIR: one class per subfolder, in name order, named after it. */
static int add_data(common_args *a, const char *dir) {
  char **subs = NULL;
  size_t n = 0;
  int rc = cli_list_dir("--data", dir, CLI_ENTRIES_SUBDIRS, &subs, &n);
  if (rc == 0 && n == 0) {
    fprintf(stderr, "etpu: error: --data %s: no class subfolders (one folder of images per class)\n", cli_t(dir));
    rc = CLI_EXIT_USAGE;
  }
  for (size_t i = 0; rc == 0 && i < n; i++) {
    const char *name = subs[i] + strlen(dir) + 1;
    uint32_t k = class_named(a, name, strlen(name));
    rc = k == UINT32_MAX ? 3 : add_path(&a->images, subs[i], k);
  }
  cli_free_list(subs, n);
  return rc;
}

/* Parse argv; `extra` handles command options (returns 1 consumed, 2 with a
 * value, 0 unknown, -1 bad value, then *want says what it takes). Every flag
 * takes "--flag value" or "--flag=value" (-o too). Returns an exit code, or
 * -1 to go on. */
static int parse_common(int argc, char **argv, bool need_classes, bool need_images,
                        int (*extra)(void *ctx, const char *opt, const char *val, const char **want), void *ctx,
                        void (*usage)(FILE *), common_args *a) {
  memset(a, 0, sizeof *a);
  const char *cmd = argv[0];
  long cls = -1;
  bool numbered = false;
  for (int i = 1; i < argc; i++) {
    const char *s = argv[i];
    if (cli_is_help(s)) {
      usage(stdout);
      return 0;
    }
    /* "--flag=value" and "-o=value": split off the value. */
    char name[64];
    const char *inline_val = NULL;
    const char *eq = s[0] == '-' ? strchr(s, '=') : NULL;
    if (eq && (s[1] == '-' || eq == s + 2) && (size_t)(eq - s) < sizeof name) {
      memcpy(name, s, (size_t)(eq - s));
      name[eq - s] = 0;
      inline_val = eq + 1;
      s = name;
    }
    const char *next = inline_val ? inline_val : (i + 1 < argc ? argv[i + 1] : NULL);
    int step = inline_val ? 0 : 1; /* arguments a value takes */
    if (!strcmp(s, "--json")) {
      if (inline_val) return cli_usage_error(cmd, "--json takes no value");
      a->json = true;
      continue;
    }
    if (!strcmp(s, "-o") || !strcmp(s, "--output")) {
      if (!next) return cli_usage_error(cmd, "%s needs a value", s);
      a->out = next;
      i += step;
      continue;
    }
    if (need_classes && (!strcmp(s, "--class") || !strcmp(s, "--data"))) {
      const char *v = next;
      const char *ceq = v && s[2] == 'c' ? strchr(v, '=') : NULL;
      unsigned long id;
      if (v && (s[2] == 'd' || (ceq && ceq != v && ceq[1]))) {
        /* --data DIR, or --class NAME=PATH: named classes, numbered in order. */
        if (numbered) goto mixed;
        a->named = true;
        int rc = 0;
        if (s[2] == 'd') {
          rc = add_data(a, v);
        } else {
          /* A name given twice would merge two folders into one class. */
          for (int j = 1; j < i; j++) {
            const char *prev = !strcmp(argv[j], "--class") && j + 1 < i ? argv[j + 1]
                               : !strncmp(argv[j], "--class=", 8)      ? argv[j] + 8
                                                                       : NULL;
            if (prev && !strncmp(prev, v, (size_t)(ceq - v) + 1)) {
              const char *twice = "";
              for (uint32_t c = 0; c < a->classes; c++)
                if (strlen(a->names[c]) == (size_t)(ceq - v) && !strncmp(a->names[c], v, (size_t)(ceq - v)))
                  twice = a->names[c];
              return cli_usage_error(cmd,
                                     "class '%s' is given twice (--class %s and --class %s): give each class once, "
                                     "with one folder holding all its images",
                                     cli_t(twice), cli_t(prev), cli_t(v));
            }
          }
          uint32_t k = class_named(a, v, (size_t)(ceq - v));
          rc = k == UINT32_MAX ? 3 : add_path(&a->images, ceq + 1, k);
          cls = -1; /* a NAME=PATH takes one path */
        }
        if (rc) return rc;
        i += step;
        continue;
      }
      if (!v || s[2] == 'd' || !parse_ulong(v, 65535, &id))
        return cli_usage_error(cmd, "--class needs a class id (0..65535) followed by images, or NAME=PATH%s%s%s",
                               v ? ", not '" : "", v ? cli_t(v) : "", v ? "'" : "");
      if (a->named) goto mixed;
      numbered = true;
      cls = (long)id;
      if ((uint32_t)id + 1 > a->classes) a->classes = (uint32_t)id + 1;
      i += step;
      continue;
    }
    if (s[0] == '-' && s[1]) {
      const char *want = "a value";
      int r = extra ? extra(ctx, s, next, &want) : 0;
      if (r == 1 && inline_val) return cli_usage_error(cmd, "%s takes no value", s);
      if (r == 1 || r == 2) {
        i += r == 2 ? step : 0;
        continue;
      }
      if (r < 0) return cli_bad_value(cmd, s, want, next ? next : "");
      return cli_usage_error(cmd, "unknown option '%s'", cli_t(argv[i]));
    }
    if (!a->model) {
      a->model = s;
      continue;
    }
    if (need_classes && cls < 0) return cli_usage_error(cmd, "image '%s' comes before any --class ID", cli_t(s));
    int rc = add_path(&a->images, s, cls < 0 ? 0 : (uint32_t)cls);
    if (rc) return rc;
  }
  if (!a->model || !a->out || (need_images && a->images.n == 0))
    return cli_usage_error(cmd, "needs MODEL, -o OUT and at least one image");
  g_json = a->json;
  return -1;
mixed:
  return cli_usage_error(cmd, "give classes either as --class ID PATH... or as --class NAME=PATH / --data DIR, not both");
}

/* Every class id from `first` to the highest given needs an image: ids
 * name rows in order, so a gap would leave an empty class. Returns an exit
 * code (0 ok), having printed why. */
static int check_classes(const char *cmd, const common_args *a, uint32_t first) {
  for (uint32_t c = first; c < a->classes; c++) {
    size_t count = 0;
    for (size_t i = 0; i < a->images.n; i++) count += a->images.v[i].label == c;
    if (count == 0) {
      fprintf(stderr, "etpu: error: %s: class %u has no images; new class ids run from %u to %u without gaps\n", cmd,
              c, first, a->classes - 1);
      return CLI_EXIT_USAGE;
    }
  }
  return 0;
}

/* ---- etpu extract ------------------------------------------------------------ */

static void extract_usage(FILE *f) {
  fprintf(f,
          "usage: etpu extract MODEL IMAGE|DIR... -o OUT.npy\n"
          "  run an embedding extractor on every image (folders: their images in name order) and write\n"
          "  the dequantized outputs as a float32 array [N, D], one row per image, in argument order\n"
          "  -o, --output OUT  the file to write (-o names where a command writes: here a file)\n"
          "  --json            print what was done as one JSON document\n"
          "  -h, --help        this help\n"
          "Every flag takes \"--flag value\" or \"--flag=value\".\n");
}

int etpu_cmd_extract(int argc, char **argv) {
  common_args a;
  int rc = parse_common(argc, argv, false, true, NULL, NULL, extract_usage, &a);
  if (rc >= 0) {
    args_free(&a);
    return rc;
  }
  etpu_model *m = NULL;
  embedder e = {0};
  float *all = NULL;
  rc = check_outputs(a.out, false);
  if (rc == 0) rc = open_model(a.model, &m);
  if (rc) goto out;
  rc = embedder_init(&e, m);
  if (rc) goto out;
  etpu_status st;
  all = malloc(a.images.n * e.dim * sizeof *all);
  if (!all) {
    fprintf(stderr, "etpu: error: out of memory for %zu embeddings\n", a.images.n);
    rc = 3;
    goto out;
  }
  for (size_t i = 0; i < a.images.n; i++) {
    st = embed(&e, a.images.v[i].path, all + i * e.dim);
    if (st != ETPU_OK) {
      rc = cli_report(st);
      goto out;
    }
  }
  int32_t shape[2] = {(int32_t)a.images.n, (int32_t)e.dim};
  st = etpu_npy_write(a.out, ETPU_FLOAT32, 2, shape, all, a.images.n * e.dim * sizeof *all);
  if (st != ETPU_OK) {
    rc = cli_report(st);
    goto out;
  }
  if (a.json) {
    printf("{\"model\": ");
    cli_json_string(stdout, a.model);
    printf(", \"output\": ");
    cli_json_string(stdout, a.out);
    printf(", \"embeddings\": %zu, \"dim\": %u}\n", a.images.n, e.dim);
  } else {
    printf("wrote %s: %zu embeddings of %u values\n", cli_t(a.out), a.images.n, e.dim);
  }
out:
  free(all);
  embedder_free(&e);
  etpu_model_free(m);
  args_free(&a);
  return rc;
}

/* ---- etpu imprint ------------------------------------------------------------- */

typedef struct imprint_opts {
  bool keep, make;
  float scale;
} imprint_opts;

static int imprint_extra(void *ctx, const char *opt, const char *val, const char **want) {
  imprint_opts *o = ctx;
  if (!strcmp(opt, "--keep-classes")) return o->keep = true, 1;
  if (!strcmp(opt, "--make") || !strcmp(opt, "--make-model")) return o->make = true, 1;
  *want = "a number > 0";
  if (!strcmp(opt, "--scale")) return val && parse_float(val, &o->scale) && o->scale > 0 ? 2 : -1;
  return 0;
}

static void imprint_usage(FILE *f) {
  fprintf(f,
          "usage: etpu imprint --make-model EXTRACTOR.tflite [--scale S] -o MODEL.tflite\n"
          "       etpu imprint MODEL -o OUT.tflite --class NAME=DIR [--class NAME=DIR]... [--keep-classes]\n"
          "       etpu imprint MODEL -o OUT.tflite --class ID IMAGE|DIR... [--class ID ...] [--keep-classes]\n"
          "  weight imprinting (libcoral's ImprintingEngine): each class's weights are the normalized sum of its\n"
          "  images' L2-normalized embeddings. MODEL ends L2Norm -> Conv2D 1x1 -> Mul -> Reshape -> Softmax.\n"
          "  NAME=DIR classes are numbered in the order given, after any kept ones; OUT's labels go to OUT\n"
          "  with .tflite replaced by .txt (kept classes take their names from MODEL's .txt when present).\n"
          "  --keep-classes  keep MODEL's classes: ones imprinted before (listed in its description) can take\n"
          "                  more images, the others are frozen; new classes follow them\n"
          "  --make-model    MODEL is an embedding extractor: append etpu's imprinting tail (L2Norm, Conv2D 1x1,\n"
          "                  Mul by the scale, Reshape, Softmax); without images, write that model (also --make)\n"
          "  --scale S       the tail's logit scale: scores are softmax(S x cosine) (default %g)\n"
          "  -o, --output OUT  the file to write (-o names where a command writes: here a file)\n"
          "  --json            print what was done as one JSON document\n"
          "  -h, --help        this help\n"
          "Every flag takes \"--flag value\" or \"--flag=value\".\n",
          (double)ETPU_IMPRINT_DEFAULT_SCALE);
}

int etpu_cmd_imprint(int argc, char **argv) {
  imprint_opts o = {false, false, 0.0f};
  common_args a;
  int rc = parse_common(argc, argv, true, false, imprint_extra, &o, imprint_usage, &a);
  if (rc >= 0) {
    args_free(&a);
    return rc;
  }
  if (o.scale > 0 && !o.make) {
    fprintf(stderr, "etpu: error: imprint: --scale only applies with --make-model\n");
    args_free(&a);
    return 2;
  }
  if (a.images.n == 0 && !o.make) {
    fprintf(stderr, "etpu: error: imprint: needs images (--class NAME=DIR), or --make-model to only make the model\n");
    imprint_usage(stderr);
    args_free(&a);
    return 2;
  }
  etpu_model *m = NULL, *made = NULL, *ex = NULL, *out = NULL;
  etpu_imprint *im = NULL;
  embedder e = {0};
  float *emb = NULL;
  const char **names = NULL;
  uint32_t *ids = NULL, *counts = NULL; /* counts[c]: images of class c */
  etpu_labels *kept_labels = NULL;
  etpu_status st;
  rc = check_outputs(a.out, a.images.n > 0);
  if (rc == 0) rc = open_model(a.model, &m);
  if (rc) goto done;
  if (o.make) {
    st = etpu_imprint_make_model(m, o.scale, &made);
    if (st != ETPU_OK) goto fail;
    if (a.images.n == 0) {
      rc = write_model(made, a.out);
      if (rc == 0 && a.json) {
        json_outputs(a.model, a.out, NULL);
        printf(", \"classes\": []}\n");
      }
      goto done;
    }
  }
  st = etpu_imprint_create(made ? made : m, o.keep, &im);
  if (st == ETPU_OK) st = etpu_imprint_extractor(im, &ex);
  if (st != ETPU_OK) goto fail;
  rc = embedder_init(&e, ex);
  if (rc) goto done;
  if (e.dim != etpu_imprint_embedding_dim(im)) {
    fprintf(stderr, "etpu: error: extractor output has %u values, the imprinting layer takes %u\n", e.dim,
            etpu_imprint_embedding_dim(im));
    rc = 1;
    goto done;
  }
  uint32_t first = etpu_imprint_class_count(im);
  rc = a.named ? 0 : check_classes("imprint", &a, first);
  if (rc) goto done;
  if (first && !a.json) printf("kept %u classes (%s)\n", first, cli_t(a.model));
  /* Kept classes take their names from MODEL's labels file, when it has
   * one; a NAME=DIR class whose name is a kept class's adds to it, others
   * get new ids in the order given. ids[c] is the class id of label c. */
  char *mlp = first ? labels_path(a.model) : NULL;
  struct stat lst;
  if (mlp && stat(mlp, &lst) == 0) st = etpu_labels_read(mlp, &kept_labels);
  free(mlp);
  if (st != ETPU_OK) goto fail;
  ids = malloc((a.classes ? a.classes : 1) * sizeof *ids);
  counts = calloc(a.classes ? a.classes : 1, sizeof *counts);
  emb = malloc((size_t)e.dim * sizeof *emb);
  if (!ids || !counts || !emb) {
    rc = 3;
    goto done;
  }
  uint32_t next = first;
  for (uint32_t c = 0; c < a.classes; c++) {
    ids[c] = a.named ? UINT32_MAX : c;
    for (uint32_t k = 0; a.named && kept_labels && k < first && ids[c] == UINT32_MAX; k++)
      if (!strcmp(etpu_labels_get(kept_labels, first, k), cli_t(a.names[c]))) ids[c] = k;
    if (ids[c] == UINT32_MAX) ids[c] = next++;
  }
  /* New ids are appended in turn: train classes in id order. */
  for (uint32_t id = 0; id < (next > a.classes ? next : a.classes); id++)
    for (uint32_t c = 0; c < a.classes; c++) {
      if (ids[c] != id) continue;
      uint32_t count = 0;
      for (size_t i = 0; i < a.images.n; i++) {
        if (a.images.v[i].label != c) continue;
        st = embed(&e, a.images.v[i].path, emb);
        if (st == ETPU_OK) st = etpu_imprint_train(im, emb, e.dim, id);
        if (st != ETPU_OK) goto fail;
        count++;
      }
      if (c < a.classes) counts[c] = count;
      if (count && !a.json)
        printf("class %u%s%s: %u image%s\n", id, a.named ? " " : "", a.named ? cli_t(a.names[c]) : "", count,
               count == 1 ? "" : "s");
    }
  st = etpu_imprint_build(im, &out);
  if (st != ETPU_OK) goto fail;
  uint32_t total = etpu_imprint_class_count(im);
  if (!a.json) printf("%u class%s\n", total, total == 1 ? "" : "es");
  names = calloc(total, sizeof *names);
  if (!names) {
    rc = 3;
    goto done;
  }
  for (uint32_t k = 0; k < first && kept_labels; k++) names[k] = etpu_labels_get(kept_labels, first, k);
  for (uint32_t c = 0; a.named && c < a.classes; c++)
    if (ids[c] < total) names[ids[c]] = a.names[c];
  rc = write_model_labels(out, a.out, names, total);
  if (rc == 0 && a.json) {
    char *lp = labels_path(a.out);
    json_outputs(a.model, a.out, lp);
    free(lp);
    printf(", \"kept_classes\": %u, \"classes\": [", first);
    for (uint32_t k = 0; k < total; k++) {
      uint32_t images = 0;
      for (uint32_t c = 0; c < a.classes; c++)
        if (ids[c] == k) images += counts[c];
      printf("%s{\"id\": %u, \"name\": ", k ? ", " : "", k);
      if (names[k])
        cli_json_string(stdout, names[k]);
      else
        printf("null");
      printf(", \"images\": %u}", images);
    }
    printf("]}\n");
  }
  goto done;
fail:
  rc = cli_report(st);
done:
  free(ids);
  free(counts);
  free(names);
  etpu_labels_free(kept_labels);
  free(emb);
  embedder_free(&e);
  etpu_imprint_free(im);
  etpu_model_free(out);
  etpu_model_free(ex);
  etpu_model_free(made);
  etpu_model_free(m);
  args_free(&a);
  return rc;
}

/* ---- etpu train ----------------------------------------------------------------- */

typedef struct train_opts {
  etpu_sr_train_options t;
  float lr, l2, weight_scale;
  unsigned long seed, val_every;
  double val; /* --val fraction, or < 0: every val_every-th image */
} train_opts;

/* Whether the i-th image (0-based) of a class goes to validation: every
 * val_every-th, or with a fraction F the images where floor((i+1)F) steps
 * up, spread evenly (F = 0.1 and val_every 10 choose the same images). */
static bool is_validation(const train_opts *o, uint32_t i) {
  if (o->val < 0) return o->val_every && i % o->val_every == o->val_every - 1;
  return (uint64_t)((double)(i + 1) * o->val + 1e-9) > (uint64_t)((double)i * o->val + 1e-9);
}

static int train_extra(void *ctx, const char *opt, const char *val, const char **want) {
  train_opts *o = ctx;
  unsigned long v;
  if (!strcmp(opt, "--val")) {
    char *end;
    errno = 0;
    double f = val ? strtod(val, &end) : -1;
    *want = "a fraction in [0, 1)";
    if (!val || errno || end == val || *end || !(f >= 0 && f < 1)) return -1;
    o->val = f;
    return 2;
  }
  *want = "a count 1..100000000";
  if (!strcmp(opt, "--iterations") || !strcmp(opt, "--iters"))
    return val && parse_ulong(val, 100000000, &v) && v ? (o->t.iterations = (uint32_t)v, 2) : -1;
  *want = "a count 1..1048576";
  if (!strcmp(opt, "--batch"))
    return val && parse_ulong(val, 1u << 20, &v) && v ? (o->t.batch_size = (uint32_t)v, 2) : -1;
  *want = "a count 0..100000000";
  if (!strcmp(opt, "--report"))
    return val && parse_ulong(val, 100000000, &v) ? (o->t.report_every = (uint32_t)v, 2) : -1;
  *want = "a non-negative integer";
  if (!strcmp(opt, "--seed")) return val && parse_ulong(val, ~0ul, &o->seed) ? 2 : -1;
  *want = "a count 0..1000000";
  if (!strcmp(opt, "--val-every")) return val && parse_ulong(val, 1000000, &o->val_every) ? 2 : -1;
  *want = "a number > 0";
  if (!strcmp(opt, "--lr")) return val && parse_float(val, &o->lr) && o->lr > 0 ? 2 : -1;
  *want = "a number >= 0";
  if (!strcmp(opt, "--l2")) return val && parse_float(val, &o->l2) && o->l2 >= 0 ? 2 : -1;
  if (!strcmp(opt, "--weight-scale")) return val && parse_float(val, &o->weight_scale) && o->weight_scale >= 0 ? 2 : -1;
  return 0;
}

static void train_usage(FILE *f) {
  fprintf(f,
          "usage: etpu train EXTRACTOR -o OUT.tflite --data DIR [options]\n"
          "       etpu train EXTRACTOR -o OUT.tflite --class NAME=DIR [--class NAME=DIR]... [options]\n"
          "       etpu train EXTRACTOR -o OUT.tflite --class ID IMAGE|DIR... [--class ID ...] [options]\n"
          "  last-layer backpropagation (libcoral's SoftmaxRegression): train a softmax layer on EXTRACTOR's\n"
          "  embeddings by mini-batch SGD and append it to EXTRACTOR as FULLY_CONNECTED (+ RESHAPE) + SOFTMAX.\n"
          "  --data DIR has one subfolder of images per class, classes in name order; the labels go to OUT\n"
          "  with .tflite replaced by .txt.\n"
          "  --iters N         SGD steps (default 500; also --iterations)\n"
          "  --batch N         examples per step, drawn with replacement (default 100)\n"
          "  --lr X            learning rate (default 0.01)\n"
          "  --l2 X            L2 regularisation (default 0)\n"
          "  --weight-scale X  initial weights X * N(0,1) (default 0.01)\n"
          "  --seed N          random seed; the same seed and images give the same bytes (default 1)\n"
          "  --val F           fraction of each class's images kept for validation, spread evenly (default 0.1)\n"
          "  --val-every K     instead, every K-th image of each class (0: none)\n"
          "  --report N        print progress every N steps (default 100; 0: at the end)\n"
          "  -o, --output OUT  the file to write (-o names where a command writes: here a file)\n"
          "  --json            print what was done as one JSON document\n"
          "  -h, --help        this help\n"
          "Every flag takes \"--flag value\" or \"--flag=value\".\n");
}

static bool print_progress(void *user, const etpu_sr_progress *p) {
  *(etpu_sr_progress *)user = *p; /* the last report, for --json */
  if (g_json) return true;
  printf("step %u/%u: batch loss %.4f, train loss %.4f accuracy %.3f", p->iteration, p->iterations,
         (double)p->batch_loss, (double)p->train_loss, (double)p->train_accuracy);
  if (p->val_accuracy >= 0)
    printf(", validation loss %.4f accuracy %.3f", (double)p->val_loss, (double)p->val_accuracy);
  printf("\n");
  return true;
}

int etpu_cmd_train(int argc, char **argv) {
  train_opts o;
  memset(&o, 0, sizeof o);
  o.t.iterations = 500;
  o.t.batch_size = 100;
  o.t.report_every = 100;
  etpu_sr_progress last;
  memset(&last, 0, sizeof last);
  last.val_accuracy = -1;
  o.t.progress = print_progress;
  o.t.user = &last;
  o.lr = 0.01f;
  o.weight_scale = 0.01f;
  o.seed = 1;
  o.val_every = 10;
  o.val = -1;
  common_args a;
  int rc = parse_common(argc, argv, true, true, train_extra, &o, train_usage, &a);
  if (rc >= 0) {
    args_free(&a);
    return rc;
  }
  if (a.classes < 2) {
    fprintf(stderr, "etpu: error: train: needs at least two classes (--data DIR with two subfolders, or --class twice)\n");
    args_free(&a);
    return 2;
  }
  rc = check_classes("train", &a, 0);
  if (rc) {
    args_free(&a);
    return rc;
  }
  o.t.learning_rate = o.lr;
  etpu_model *m = NULL, *out = NULL;
  etpu_softmax_regression *sr = NULL;
  embedder e = {0};
  float *emb = NULL;
  etpu_status st;
  rc = check_outputs(a.out, true);
  if (rc == 0) rc = open_model(a.model, &m);
  if (rc) goto done;
  rc = embedder_init(&e, m);
  if (rc) goto done;
  etpu_sr_options so;
  etpu_softmax_regression_default_options(e.dim, a.classes, &so);
  so.seed = o.seed;
  so.l2_reg = o.l2;
  so.weight_scale = o.weight_scale;
  so.max_examples = a.images.n > 65536 ? (uint32_t)a.images.n : 65536;
  st = etpu_softmax_regression_create(&so, &sr);
  if (st != ETPU_OK) goto fail;
  emb = malloc((size_t)e.dim * sizeof *emb);
  if (!emb) {
    rc = 3;
    goto done;
  }
  uint32_t *seen = calloc(a.classes, sizeof *seen);
  if (!seen) {
    rc = 3;
    goto done;
  }
  for (size_t i = 0; i < a.images.n; i++) {
    uint32_t c = a.images.v[i].label;
    bool val = is_validation(&o, seen[c]++);
    st = embed(&e, a.images.v[i].path, emb);
    if (st == ETPU_OK) st = etpu_softmax_regression_add(sr, emb, e.dim, c, val);
    if (st != ETPU_OK) {
      free(seen);
      goto fail;
    }
  }
  free(seen);
  if (!a.json)
    printf("%u training and %u validation images, %u classes, embedding %u\n", etpu_softmax_regression_count(sr, false),
         etpu_softmax_regression_count(sr, true), a.classes, e.dim);
  st = etpu_softmax_regression_train(sr, &o.t);
  if (st == ETPU_OK) st = etpu_softmax_regression_append(m, sr, &out);
  if (st != ETPU_OK) goto fail;
  rc = write_model_labels(out, a.out, a.named ? (const char *const *)a.names : NULL, a.classes);
  if (rc == 0 && a.json) {
    char *lp = labels_path(a.out);
    json_outputs(a.model, a.out, lp);
    free(lp);
    printf(", \"train_images\": %u, \"validation_images\": %u, \"classes\": %u, \"embedding_dim\": %u",
           etpu_softmax_regression_count(sr, false), etpu_softmax_regression_count(sr, true), a.classes, e.dim);
    printf(", \"final\": {\"iteration\": %u, \"train_loss\": %.6g, \"train_accuracy\": %.6g", last.iteration,
           (double)last.train_loss, (double)last.train_accuracy);
    if (last.val_accuracy >= 0)
      printf(", \"validation_loss\": %.6g, \"validation_accuracy\": %.6g", (double)last.val_loss,
             (double)last.val_accuracy);
    printf("}}\n");
  }
  goto done;
fail:
  rc = cli_report(st);
done:
  free(emb);
  embedder_free(&e);
  etpu_softmax_regression_free(sr);
  etpu_model_free(out);
  etpu_model_free(m);
  args_free(&a);
  return rc;
}
