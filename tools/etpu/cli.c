/*
 * cli.c — what the etpu subcommands share: the one status-to-exit-code table
 * (README, "Errors and exit codes"), printing of strings from files through
 * the library's escaper, flag parsing ("--flag value" and "--flag=value",
 * one-line errors), folder listings, and the model-metadata normalization
 * that run and quantize apply.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cli.h"

int cli_exit_code(etpu_status st, bool input_at_fault) {
  switch (st) {
    case ETPU_OK: return CLI_EXIT_OK;
    case ETPU_INVALID_ARGUMENT: return input_at_fault ? CLI_EXIT_RULE : CLI_EXIT_USAGE;
    case ETPU_IO_ERROR:
    case ETPU_OUT_OF_MEMORY: return CLI_EXIT_IO;
    case ETPU_UNSUPPORTED:
    case ETPU_MALFORMED:
    case ETPU_INVALID_STATE: return CLI_EXIT_RULE;
  }
  return CLI_EXIT_RULE;
}

int cli_report(etpu_status st) {
  fprintf(stderr, "etpu: error: %s\n", etpu_errmsg());
  return cli_exit_code(st, false);
}

int cli_report_input(etpu_status st) {
  fprintf(stderr, "etpu: error: %s\n", etpu_errmsg());
  return cli_exit_code(st, true);
}

/* Escaped copies live in a ring: each call reuses the oldest slot. */
#define RING 8
static char *g_ring[RING];
static size_t g_ring_cap[RING];
static unsigned g_ring_next;

static const char *escaped(int kind, const char *s) {
  unsigned k = g_ring_next++ % RING;
  for (;;) {
    size_t need = etpu_escape(kind, s, g_ring[k], g_ring_cap[k]);
    if (need == 0) return "?"; /* out of memory */
    if (need <= g_ring_cap[k]) return g_ring[k];
    char *p = realloc(g_ring[k], need);
    if (!p) return "?";
    g_ring[k] = p;
    g_ring_cap[k] = need;
  }
}

const char *cli_t(const char *s) { return escaped(ETPU_ESCAPE_TEXT, s ? s : ""); }

void cli_json_string(FILE *f, const char *s) { fputs(escaped(ETPU_ESCAPE_JSON, s ? s : ""), f); }

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
    fprintf(stderr, "etpu: error: %s%s%s: %s\n", what, *what ? " " : "", cli_t(dir), strerror(errno));
    return 3;
  }
  char **v = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (;;) {
    /* readdir's NULL is the end only when errno stays 0: a folder that
     * cannot be read (EOVERFLOW on a 32-bit build without large-file
     * support, EIO) is an error, never an empty folder. */
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno != 0) {
        fprintf(stderr, "etpu: error: %s%s%s: cannot read the folder: %s\n", what, *what ? " " : "", cli_t(dir),
                strerror(errno));
        cli_free_list(v, n);
        closedir(d);
        return 3;
      }
      break;
    }
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
    fprintf(stderr, "etpu: error: out of memory listing %s\n", cli_t(dir));
    return rc;
  }
  if (n) qsort(v, n, sizeof *v, cmp_path);
  *out = v;
  *n_out = n;
  return 0;
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
              cmd, cli_t(model_path), input, mean[0], mean[1], std[0], std[1]);
      return 1;
    }
  opts->normalize = true;
  opts->mean = mean[0];
  opts->std = std[0];
  *applied = true;
  return 0;
}

void cli_warn_assumed_normalization(const char *cmd, const char *model_path, uint32_t input) {
  fprintf(stderr,
          "etpu: warning: %s: %s: input %u: no --mean/--std given and no normalization in the model's metadata: "
          "assuming it takes raw pixel values 0..255 (mean 0, std 1); if it was trained on [-1, 1] give --mean 127.5 "
          "--std 127.5, on [0, 1] --mean 0 --std 255\n",
          cmd, cli_t(model_path), input);
}

char *cli_path_stem(const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  size_t n = strlen(b);
  if (n > 7 && !strcmp(b + n - 7, ".tflite")) n -= 7;
  char *s = malloc(n + 1);
  if (s) {
    memcpy(s, b, n);
    s[n] = 0;
  }
  return s;
}

/* ---- flags -------------------------------------------------------------- */

bool cli_is_help(const char *arg) { return !strcmp(arg, "-h") || !strcmp(arg, "--help"); }

bool cli_common_flag(const char *cmd, const char *arg, void (*usage)(FILE *), bool *json, int *exit_out) {
  *exit_out = -1;
  if (cli_is_help(arg)) {
    usage(stdout);
    *exit_out = CLI_EXIT_OK;
    return true;
  }
  int r = cli_flag_switch(cmd, arg, "--json", NULL);
  if (r < 0) *exit_out = CLI_EXIT_USAGE;
  if (r > 0) *json = true;
  return r != 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "etpu: error: %s: %s (etpu %s --help for usage)\n", cmd, msg, cmd);
  return CLI_EXIT_USAGE;
}

/* Whether arg is `name` alone (*inline_val NULL) or "name=VALUE". */
static bool flag_matches(const char *arg, const char *name, const char **inline_val) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0) return false;
  if (arg[n] == 0) {
    *inline_val = NULL;
    return true;
  }
  if (arg[n] == '=') {
    *inline_val = arg + n + 1;
    return true;
  }
  return false;
}

int cli_flag_value(const char *cmd, int argc, char **argv, int *i, const char *lng, const char *shrt,
                   const char **val) {
  const char *arg = argv[*i], *iv = NULL;
  const char *name = lng && flag_matches(arg, lng, &iv) ? lng : (shrt && flag_matches(arg, shrt, &iv) ? shrt : NULL);
  if (!name) return 0;
  if (iv) {
    *val = iv;
    return 1;
  }
  if (*i + 1 >= argc) {
    cli_usage_error(cmd, "%s needs a value", name);
    return -1;
  }
  *val = argv[++*i];
  return 1;
}

int cli_flag_switch(const char *cmd, const char *arg, const char *lng, const char *shrt) {
  const char *iv = NULL;
  const char *name = lng && flag_matches(arg, lng, &iv) ? lng : (shrt && flag_matches(arg, shrt, &iv) ? shrt : NULL);
  if (!name) return 0;
  if (iv) {
    cli_usage_error(cmd, "%s takes no value ('%s')", name, cli_t(arg));
    return -1;
  }
  return 1;
}

int cli_bad_value(const char *cmd, const char *flag, const char *want, const char *val) {
  return cli_usage_error(cmd, "%s needs %s, not '%s'", flag, want, cli_t(val));
}
