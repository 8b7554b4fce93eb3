/*
 * main.c — the etpu command-line program: dispatch to subcommands.
 *
 * Exit codes: 0 success; 1 the input broke a rule (malformed, unsupported);
 * 2 usage error; 3 I/O or out of memory.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu <command> [options]\n"
          "\n"
          "commands:\n"
          "  compile [opts] MODEL...    map a model to the Edge TPU (edgetpu_compiler's flags and reports)\n"
          "  inspect MODEL [--json]     summarise a .tflite model (compiled ones too)\n"
          "  run MODEL --input FILE...  run a model on images, .npy or raw inputs (see run --help)\n"
          "  quantize MODEL --calib DIR -o OUT  int8 post-training quantization (see quantize --help)\n"
          "  imprint MODEL -o OUT --class ID IMAGE...  weight imprinting (see imprint --help)\n"
          "  train MODEL -o OUT --class ID IMAGE...    train a softmax layer on embeddings (see train --help)\n"
          "  extract MODEL IMAGE... -o OUT.npy          embeddings of images as a float32 .npy\n"
          "  demo OUT.tflite            write the bundled demo model (a small uint8 classifier)\n"
          "  version                    print the etpu version\n"
          "\n"
          "etpu %s — open toolchain for Google Coral Edge TPU models\n",
          etpu_version());
}

void cli_json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", f); break;
      case '\\': fputs("\\\\", f); break;
      case '\n': fputs("\\n", f); break;
      case '\r': fputs("\\r", f); break;
      case '\t': fputs("\\t", f); break;
      default:
        if (*p < 0x20 || *p == 0x7f)
          fprintf(f, "\\u%04x", *p);
        else
          fputc(*p, f);
    }
  }
  fputc('"', f);
}

int cli_report(etpu_status st) {
  fprintf(stderr, "etpu: error: %s\n", etpu_errmsg());
  switch (st) {
    case ETPU_OK: return 0;
    case ETPU_INVALID_ARGUMENT: return 2;
    case ETPU_IO_ERROR:
    case ETPU_OUT_OF_MEMORY: return 3;
    default: return 1;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "inspect") || !strcmp(cmd, "show")) return etpu_cmd_inspect(argc - 1, argv + 1);
  if (!strcmp(cmd, "demo")) return etpu_cmd_demo(argc - 1, argv + 1);
  if (!strcmp(cmd, "compile")) return etpu_cmd_compile(argc - 1, argv + 1);
  if (!strcmp(cmd, "run")) return etpu_cmd_run(argc - 1, argv + 1);
  if (!strcmp(cmd, "imprint")) return etpu_cmd_imprint(argc - 1, argv + 1);
  if (!strcmp(cmd, "train")) return etpu_cmd_train(argc - 1, argv + 1);
  if (!strcmp(cmd, "extract")) return etpu_cmd_extract(argc - 1, argv + 1);
  if (!strcmp(cmd, "quantize")) return etpu_cmd_quantize(argc - 1, argv + 1);
  if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-v")) {
    const bool json = argc > 2 && !strcmp(argv[2], "--json");
    if (argc > 2 + (json ? 1 : 0)) {
      fprintf(stderr, "etpu: error: version: unexpected argument (only --json)\n");
      return 2;
    }
    if (json)
      printf("{\"version\": \"%s\", \"isa\": \"%s\", \"threads\": %u}\n", etpu_version(), etpu_isa_name(),
             etpu_default_threads());
    else
      printf("etpu %s\nkernels: %s; threads: %u (the cores this process may use; run --threads N to change)\n",
             etpu_version(), etpu_isa_name(), etpu_default_threads());
    return 0;
  }
  if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
    usage(stdout);
    return 0;
  }
  fprintf(stderr, "etpu: error: unknown command '%s'\n", cmd);
  usage(stderr);
  return 2;
}

int cli_is_image_name(const char *name) {
  const char *dot = strrchr(name, '.');
  return dot && (!strcasecmp(dot, ".bmp") || !strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") ||
                 !strcasecmp(dot, ".jpeg"));
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void cli_free_list(char **list, size_t n) {
  for (size_t i = 0; list && i < n; i++) free(list[i]);
  free(list);
}

int cli_list_dir(const char *what, const char *dir, cli_entries kind, char ***out, size_t *n_out) {
  *out = NULL;
  *n_out = 0;
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "etpu: error: %s%s%s: %s\n", what, *what ? " " : "", dir, strerror(errno));
    return 3;
  }
  char **v = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.' || (kind == CLI_ENTRIES_IMAGES && !cli_is_image_name(e->d_name))) continue;
    size_t len = strlen(dir) + strlen(e->d_name) + 2;
    char *full = malloc(len);
    if (!full) {
      rc = 3;
      break;
    }
    snprintf(full, len, "%s/%s", dir, e->d_name);
    struct stat st;
    if (kind == CLI_ENTRIES_SUBDIRS && (stat(full, &st) != 0 || !S_ISDIR(st.st_mode))) {
      free(full);
      continue;
    }
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 64;
      char **nv = realloc(v, ncap * sizeof *nv);
      if (!nv) {
        free(full);
        rc = 3;
        break;
      }
      v = nv;
      cap = ncap;
    }
    v[n++] = full;
  }
  closedir(d);
  if (rc) {
    cli_free_list(v, n);
    fprintf(stderr, "etpu: error: out of memory listing %s\n", dir);
    return rc;
  }
  if (n) qsort(v, n, sizeof *v, cmp_path);
  *out = v;
  *n_out = n;
  return 0;
}

void cli_warn_assumed_normalization(const char *cmd, const char *model_path, uint32_t input) {
  fprintf(stderr,
          "etpu: warning: %s: %s: input %u: no --mean/--std given and no normalization in the model's metadata: "
          "assuming it takes raw pixel values 0..255 (mean 0, std 1); if it was trained on [-1, 1] give --mean 127.5 "
          "--std 127.5, on [0, 1] --mean 0 --std 255\n",
          cmd, model_path, input);
}

int cli_metadata_normalization(const char *cmd, const char *model_path, const etpu_model *model, uint32_t input,
                               etpu_input_options *opts, bool *applied) {
  *applied = false;
  float mean[64], std[64];
  uint32_t count = 0;
  if (etpu_model_input_normalization(model, input, 64, mean, std, &count) != ETPU_OK) {
    fprintf(stderr, "etpu: warning: %s: not using the model's metadata: %s\n", cmd, etpu_errmsg());
    return 0;
  }
  if (count == 0) return 0;
  for (uint32_t c = 1; c < count; c++)
    if (mean[c] != mean[0] || std[c] != std[0]) {
      fprintf(stderr,
              "etpu: error: %s: %s: input %u: the model's metadata gives per-channel normalization "
              "(mean %g, %g, ...; std %g, %g, ...); etpu normalizes every channel alike: give --mean and --std\n",
              cmd, model_path, input, mean[0], mean[1], std[0], std[1]);
      return 1;
    }
  opts->normalize = true;
  opts->mean = mean[0];
  opts->std = std[0];
  *applied = true;
  return 0;
}
