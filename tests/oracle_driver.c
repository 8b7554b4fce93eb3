/*
 * oracle_driver.c — run a model with etpu's interpreter under a chosen
 * arithmetic profile, through the public API only; the etpu side of
 * tests/oracle_litert.py (the other side is tools/oracle/litert_run.mjs).
 *
 *   oracle_driver [--profile litert|tflite-ref] MODEL OUTROOT FILE...
 *
 * The files hold raw input bytes and are taken in groups of n, n = the
 * model's input count (one file per run for a one-input model). Run j
 * writes output k as OUTROOT/<j>/output_<k>.bin (raw bytes), the layout of
 * `litert_run.mjs --each`. One interpreter serves every run; variable
 * tensors are zeroed before each run, so each run is independent.
 *
 * Exit status: 0 success; 1 an error (message on stderr); 2 usage;
 * 3 etpu cannot run this model yet (ETPU_UNSUPPORTED from the interpreter;
 * the first line on stderr starts "unsupported:").
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <etpu/etpu.h>

static int usage(void) {
  fprintf(stderr, "usage: oracle_driver [--profile litert|tflite-ref] MODEL OUTROOT FILE...\n");
  return 2;
}

/* 3 for "etpu cannot run this yet", 1 for anything else. */
static int fail(etpu_status st, const char *what) {
  if (st == ETPU_UNSUPPORTED) {
    fprintf(stderr, "unsupported: %s: %s\n", what, etpu_errmsg());
    return 3;
  }
  fprintf(stderr, "error: %s: %s (%s)\n", what, etpu_errmsg(), etpu_status_name(st));
  return 1;
}

static unsigned char *read_all(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  unsigned char *buf = NULL;
  size_t cap = 0, len = 0;
  for (;;) {
    if (len == cap) {
      size_t ncap = cap ? cap * 2 : 1 << 16;
      unsigned char *nb = realloc(buf, ncap);
      if (!nb) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
      cap = ncap;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    return NULL;
  }
  *n = len;
  return buf;
}

static int write_all(const char *path, const void *data, size_t n) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t put = n ? fwrite(data, 1, n, f) : 0;
  int bad = fclose(f);
  return (put != n || bad) ? -1 : 0;
}

static int make_dir(const char *path) { return (mkdir(path, 0777) == 0 || errno == EEXIST) ? 0 : -1; }

int main(int argc, char **argv) {
  etpu_profile profile = ETPU_PROFILE_LITERT;
  int a = 1;
  if (a < argc && !strcmp(argv[a], "--profile")) {
    if (a + 1 >= argc) return usage();
    if (!strcmp(argv[a + 1], "litert"))
      profile = ETPU_PROFILE_LITERT;
    else if (!strcmp(argv[a + 1], "tflite-ref"))
      profile = ETPU_PROFILE_TFLITE_REF;
    else
      return usage();
    a += 2;
  }
  if (argc - a < 3) return usage();
  const char *model_path = argv[a], *outroot = argv[a + 1];
  char **files = argv + a + 2;
  int nfiles = argc - a - 2;

  etpu_model *m = NULL;
  etpu_status st = etpu_model_open(model_path, &m);
  if (st != ETPU_OK) return fail(st, "open");
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = profile;
  o.keep_all_tensors = false;
  etpu_interp *ip = NULL;
  st = etpu_interp_create(m, &o, &ip);
  if (st != ETPU_OK) {
    int rc = fail(st, "create");
    etpu_model_free(m);
    return rc;
  }
  int rc = 0;
  size_t arena = 0;
  st = etpu_interp_plan(ip, &arena);
  if (st != ETPU_OK) {
    rc = fail(st, "plan");
    goto done;
  }
  uint32_t nin = etpu_interp_input_count(ip), nout = etpu_interp_output_count(ip);
  if (nin == 0 || nfiles % (int)nin) {
    fprintf(stderr, "error: the model has %u inputs; %d files is not a whole number of runs\n", nin, nfiles);
    rc = 2;
    goto done;
  }
  if (make_dir(outroot)) {
    fprintf(stderr, "error: cannot create %s: %s\n", outroot, strerror(errno));
    rc = 1;
    goto done;
  }
  for (int j = 0; j * (int)nin < nfiles && rc == 0; j++) {
    st = etpu_interp_reset_state(ip);
    if (st != ETPU_OK) {
      rc = fail(st, "reset_state");
      break;
    }
    for (uint32_t i = 0; i < nin && rc == 0; i++) {
      const char *f = files[j * (int)nin + (int)i];
      size_t n = 0;
      unsigned char *d = read_all(f, &n);
      if (!d) {
        fprintf(stderr, "error: cannot read %s\n", f);
        rc = 1;
        break;
      }
      st = etpu_interp_set_input(ip, i, d, n);
      free(d);
      if (st != ETPU_OK) rc = fail(st, f);
    }
    if (rc) break;
    st = etpu_interp_invoke(ip);
    if (st != ETPU_OK) {
      rc = fail(st, "invoke");
      break;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/%d", outroot, j);
    if (make_dir(dir)) {
      fprintf(stderr, "error: cannot create %s: %s\n", dir, strerror(errno));
      rc = 1;
      break;
    }
    for (uint32_t k = 0; k < nout; k++) {
      const void *data = NULL;
      size_t size = 0;
      st = etpu_interp_output(ip, k, &data, &size);
      if (st != ETPU_OK) {
        rc = fail(st, "output");
        break;
      }
      char path[4200];
      snprintf(path, sizeof path, "%s/output_%u.bin", dir, k);
      if (write_all(path, data, size)) {
        fprintf(stderr, "error: cannot write %s\n", path);
        rc = 1;
        break;
      }
    }
  }
done:
  etpu_interp_free(ip);
  etpu_model_free(m);
  return rc;
}
