/*
 * compile.c — `etpu compile [options] MODEL...`, with edgetpu_compiler's
 * flags and spellings (long, short, combined short flags such as -sa or
 * -da, "--flag value" and "--flag=value").
 *
 * Every model is compiled before anything is written; on any failure
 * nothing is written and existing outputs are untouched. Outputs are
 * written atomically: OUT_DIR/NAME_edgetpu.tflite and NAME_edgetpu.log (or
 * NAME_segment_K_of_N_edgetpu.* with -n).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"

#define MAX_MODELS 64
#define MAX_I 256

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu compile [options] MODEL.tflite...\n"
          "  -o, --out_dir DIR               write outputs to DIR (default .): -o names where a command writes,\n"
          "                                  here a folder, as edgetpu_compiler's -o (\"-o DIR\", \"-o=DIR\", \"-oDIR\")\n"
          "  -m, --min_runtime_version N     lowest Edge TPU runtime to support, 10..14 (default 14)\n"
          "  -s, --show_operations           print the operator table\n"
          "  -i, --intermediate_tensors A,B  stop the Edge TPU part at these tensors (one list per model)\n"
          "  -a, --enable_multiple_subgraphs map every run of supported ops (several Edge TPU ops)\n"
          "  -n, --num_segments N            split into N pipeline models of about equal parameter size\n"
          "  -t, --timeout_sec N             accepted; etpu compiles in milliseconds and needs no timeout\n"
          "  -d, --search_delegate           accepted; etpu never fails the way the real compiler does, so there\n"
          "  -k, --delegate_search_step N      is no shorter prefix to search for: both are ignored\n"
          "      --target usb|pcie|devboard|devboard-micro\n"
          "                                  the device the report assumes (default usb): its latency estimate;\n"
          "                                  devboard-micro adds whether the CPU ops run under TFLite Micro and\n"
          "                                  whether the model fits the board's memories\n"
          "      --json                      print the report as JSON instead of text\n"
          "  -v, --version                   print the version\n"
          "  -h, --help                      this help\n"
          "Every long flag takes \"--flag value\" or \"--flag=value\".\n"
          "The Edge TPU op etpu writes holds etpu's simulation payload: it runs in `etpu run`, not on a\n"
          "physical Edge TPU.\n");
}

/* One line naming the flag or argument; exit 2. */
static int bad_usage(const char *fmt, const char *arg) {
  char msg[512];
  snprintf(msg, sizeof msg, fmt, cli_t(arg));
  return cli_usage_error("compile", "%s", msg);
}

static bool parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) return false;
  *out = v;
  return true;
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Split "a,b,c" into tensor names (in place). */
static uint32_t split_list(char *s, const char **out, uint32_t cap) {
  uint32_t n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(s, ",", &save); tok && n < cap; tok = strtok_r(NULL, ",", &save)) out[n++] = tok;
  return n;
}

typedef struct job {
  const char *path;
  etpu_model *model;
  etpu_compilation *comp;
  char *lists;                /* -i list for this model (owned copy) */
  const char *names[MAX_I];
  uint32_t nnames;
  void *out[MAX_MODELS];
  size_t out_size[MAX_MODELS];
  char *out_path[MAX_MODELS];
  char *log_path[MAX_MODELS];
  uint64_t in_bytes;
} job;

static char *path_join(const char *dir, const char *stem, const char *suffix) {
  size_t n = strlen(dir) + strlen(stem) + strlen(suffix) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s%s", dir, stem, suffix);
  return p;
}

/* One model's entry of the --json document: the library's report object
 * (which ends "}\n") with "segments" added: every output model written
 * (one, or each pipeline segment of -n) with its .log and size. */
static void print_json_model(const char *text, const job *jb, const etpu_compile_summary *sum, uint32_t j) {
  size_t n = strlen(text);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '}')) {
    n--;
    if (text[n] == '}') break;
  }
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) n--;
  printf("%s%.*s,\n  \"segments\": [", j ? ",\n" : "", (int)n, text);
  for (uint32_t k = 0; k < sum->output_models; k++) {
    printf("%s{\"segment\": %u, \"model\": ", k ? ", " : "", k);
    cli_json_string(stdout, jb->out_path[k]);
    printf(", \"log\": ");
    cli_json_string(stdout, jb->log_path[k]);
    printf(", \"bytes\": %zu}", jb->out_size[k]);
  }
  printf("]\n}");
}

int etpu_cmd_compile(int argc, char **argv) {
  const char *out_dir = ".";
  long min_rt = 14, nseg = 1, tmp;
  bool show = false, multi = false, as_json = false, search = false;
  etpu_target target = ETPU_TARGET_USB;
  char *ilists[MAX_MODELS];
  uint32_t nilists = 0;
  const char *paths[MAX_MODELS];
  uint32_t npaths = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] == '-' && a[1] == '-') {
      char name[64];
      const char *eq = strchr(a, '=');
      size_t len = eq ? (size_t)(eq - a) : strlen(a);
      if (len >= sizeof name) return bad_usage("unknown option '%s'", a);
      memcpy(name, a, len);
      name[len] = 0;
      bool takes = !strcmp(name, "--out_dir") || !strcmp(name, "--min_runtime_version") ||
                   !strcmp(name, "--intermediate_tensors") || !strcmp(name, "--num_segments") ||
                   !strcmp(name, "--timeout_sec") || !strcmp(name, "--delegate_search_step") ||
                   !strcmp(name, "--target");
      const char *val = NULL;
      if (takes) {
        if (eq)
          val = eq + 1;
        else if (i + 1 < argc)
          val = argv[++i];
        else
          return bad_usage("%s needs a value", name);
      } else if (eq) {
        return bad_usage("%s takes no value", name);
      }
      if (!strcmp(name, "--out_dir")) out_dir = val;
      else if (!strcmp(name, "--target")) {
        if (etpu_target_parse(val, &target) != ETPU_OK)
          return bad_usage("--target takes usb, pcie, devboard or devboard-micro, not '%s'", val);
      }
      else if (!strcmp(name, "--min_runtime_version")) {
        if (!parse_int(val, 10, 14, &min_rt)) return bad_usage("-m takes a runtime version from 10 to 14, not '%s'", val);
      } else if (!strcmp(name, "--intermediate_tensors")) {
        if (nilists == MAX_MODELS) return bad_usage("too many -i lists%s", "");
        ilists[nilists++] = (char *)val;
      } else if (!strcmp(name, "--num_segments")) {
        if (!parse_int(val, 1, 64, &nseg)) return bad_usage("-n takes a segment count from 1 to 64, not '%s'", val);
      } else if (!strcmp(name, "--timeout_sec") || !strcmp(name, "--delegate_search_step")) {
        if (!parse_int(val, 1, 1000000000L, &tmp)) return bad_usage("expected a positive number, not '%s'", val);
      } else if (!strcmp(name, "--show_operations")) show = true;
      else if (!strcmp(name, "--enable_multiple_subgraphs")) multi = true;
      else if (!strcmp(name, "--search_delegate")) search = true;
      else if (!strcmp(name, "--json")) as_json = true;
      else if (!strcmp(name, "--version")) {
        printf("Edge TPU Compiler version %s (etpu %s: an open re-implementation, not Google's compiler)\n",
               ETPU_EDGETPU_COMPILER_VERSION, etpu_version());
        return 0;
      } else if (!strcmp(name, "--help")) {
        usage(stdout);
        return 0;
      } else
        return bad_usage("unknown option '%s'", a);
      continue;
    }
    if (a[0] == '-' && a[1]) {
      /* A cluster of short flags; o, m, i, n, t, k take a value. */
      for (const char *p = a + 1; *p; p++) {
        char f = *p;
        if (strchr("omintk", f)) {
          /* -oDIR, -o=DIR and -o DIR all name DIR. */
          const char *val = p[1] == '=' ? p + 2 : p[1] ? p + 1 : (i + 1 < argc ? argv[++i] : NULL);
          char opt[3] = {'-', f, 0};
          if (!val) return bad_usage("%s needs a value", opt);
          if (f == 'o') out_dir = val;
          else if (f == 'm') {
            if (!parse_int(val, 10, 14, &min_rt)) return bad_usage("-m takes a runtime version from 10 to 14, not '%s'", val);
          } else if (f == 'i') {
            if (nilists == MAX_MODELS) return bad_usage("too many -i lists%s", "");
            ilists[nilists++] = (char *)val;
          } else if (f == 'n') {
            if (!parse_int(val, 1, 64, &nseg)) return bad_usage("-n takes a segment count from 1 to 64, not '%s'", val);
          } else if (!parse_int(val, 1, 1000000000L, &tmp))
            return bad_usage("expected a positive number, not '%s'", val);
          break;
        }
        if (f == 's') show = true;
        else if (f == 'a') multi = true;
        else if (f == 'd') search = true;
        else if (f == 'v') {
          printf("Edge TPU Compiler version %s (etpu %s: an open re-implementation, not Google's compiler)\n",
                 ETPU_EDGETPU_COMPILER_VERSION, etpu_version());
          return 0;
        } else if (f == 'h') {
          usage(stdout);
          return 0;
        } else {
          char opt[3] = {'-', f, 0};
          return bad_usage("unknown option '%s'", opt);
        }
      }
      continue;
    }
    if (npaths == MAX_MODELS) return bad_usage("at most 64 models at once%s", "");
    paths[npaths++] = a;
  }
  if (npaths == 0) return bad_usage("no model given%s", "");
  if (nilists && nilists != npaths) {
    fprintf(stderr,
            "etpu: error: compile: The number of lists given to intermediate_tensors doesn't match the number of "
            "input models. (etpu: %u -i list(s) for %u model(s); give one comma-separated list per model)\n",
            nilists, npaths);
    return 2;
  }
  if (nseg > 1 && npaths > 1) return bad_usage("-n compiles one model at a time%s", "");
  struct stat st_dir;
  if (stat(out_dir, &st_dir) != 0 || !S_ISDIR(st_dir.st_mode)) {
    fprintf(stderr, "etpu: error: compile: output directory '%s' does not exist\n", cli_t(out_dir));
    return 3;
  }

  /* Each model's output must be writable before any model is compiled. */
  for (uint32_t j = 0; j < npaths; j++) {
    char *stem = cli_path_stem(paths[j]);
    char *outp = stem ? path_join(out_dir, stem, "_edgetpu.tflite") : NULL;
    etpu_status st = outp ? etpu_file_check_writable(outp) : ETPU_OUT_OF_MEMORY;
    free(outp);
    free(stem);
    if (st != ETPU_OK) {
      if (st == ETPU_OUT_OF_MEMORY) fprintf(stderr, "etpu: error: compile: out of memory\n");
      else fprintf(stderr, "etpu: error: compile: %s\nCompilation failed! Nothing was written.\n", etpu_errmsg());
      return 3;
    }
  }

  job *jobs = calloc(npaths, sizeof *jobs);
  if (!jobs) return 3;
  int rc = 0;
  double t0 = now_ms();
  for (uint32_t j = 0; j < npaths && rc == 0; j++) {
    job *jb = &jobs[j];
    jb->path = paths[j];
    etpu_status st = etpu_model_open(jb->path, &jb->model);
    if (st != ETPU_OK) {
      rc = cli_report(st);
      break;
    }
    if (nilists) {
      jb->lists = strdup(ilists[j]);
      if (!jb->lists) {
        rc = 3;
        break;
      }
      jb->nnames = split_list(jb->lists, jb->names, MAX_I);
    }
    etpu_compile_options o = {(int32_t)min_rt, jb->nnames, jb->names, multi, (uint32_t)nseg};
    st = etpu_compile(jb->model, &o, &jb->comp);
    if (st != ETPU_OK) {
      fprintf(stderr, "etpu: error: compile: %s\nCompilation failed! Nothing was written.\n", etpu_errmsg());
      rc = cli_exit_code(st, false);
      break;
    }
  }
  if (rc == 0 && npaths > 1) {
    etpu_compilation *list[MAX_MODELS];
    for (uint32_t j = 0; j < npaths; j++) list[j] = jobs[j].comp;
    etpu_compilation_cocompile(list, npaths);
  }
  for (uint32_t j = 0; j < npaths && rc == 0; j++) {
    etpu_status st = etpu_compilation_set_target(jobs[j].comp, target);
    if (st != ETPU_OK) rc = cli_report(st);
  }
  /* Serialize everything before writing anything. */
  for (uint32_t j = 0; j < npaths && rc == 0; j++) {
    job *jb = &jobs[j];
    etpu_compile_summary sum;
    etpu_compilation_summary(jb->comp, &sum);
    char *stem = cli_path_stem(jb->path);
    if (!stem) {
      rc = 3;
      break;
    }
    for (uint32_t k = 0; k < sum.output_models && rc == 0; k++) {
      etpu_status st = etpu_compilation_write(jb->comp, k, &jb->out[k], &jb->out_size[k]);
      if (st != ETPU_OK) {
        rc = cli_report(st);
        break;
      }
      char suffix[96];
      if (sum.output_models > 1)
        snprintf(suffix, sizeof suffix, "_segment_%u_of_%u_edgetpu", k, sum.output_models);
      else
        snprintf(suffix, sizeof suffix, "_edgetpu");
      char full[128];
      snprintf(full, sizeof full, "%s.tflite", suffix);
      jb->out_path[k] = path_join(out_dir, stem, full);
      snprintf(full, sizeof full, "%s.log", suffix);
      jb->log_path[k] = path_join(out_dir, stem, full);
      if (!jb->out_path[k] || !jb->log_path[k]) rc = 3;
    }
    free(stem);
  }
  double elapsed = now_ms() - t0;
  /* Write and report: --json prints one document for all models. */
  if (rc == 0 && as_json) printf("{\"models\": [\n");
  for (uint32_t j = 0; j < npaths && rc == 0; j++) {
    job *jb = &jobs[j];
    etpu_compile_summary sum;
    etpu_compilation_summary(jb->comp, &sum);
    struct stat sti;
    jb->in_bytes = stat(jb->path, &sti) == 0 ? (uint64_t)sti.st_size : 0;
    for (uint32_t k = 0; k < sum.output_models && rc == 0; k++) {
      etpu_report_options ro = {jb->path, jb->out_path[k], jb->log_path[k], jb->in_bytes, jb->out_size[k], show,
                                elapsed, sum.output_models > 1 ? (int32_t)k : -1};
      char *log = NULL;
      etpu_status st = etpu_compilation_report(jb->comp, ETPU_REPORT_LOG, &ro, &log);
      if (st == ETPU_OK) st = etpu_write_file_atomic(jb->out_path[k], jb->out[k], jb->out_size[k]);
      if (st == ETPU_OK) st = etpu_write_file_atomic(jb->log_path[k], log, strlen(log));
      etpu_free(log);
      if (st != ETPU_OK) {
        rc = cli_report(st);
        break;
      }
    }
    if (rc) break;
    etpu_report_options ro = {jb->path, jb->out_path[0], jb->log_path[0], jb->in_bytes, jb->out_size[0], show, elapsed,
                              -1};
    char *text = NULL;
    etpu_status st = etpu_compilation_report(jb->comp, as_json ? ETPU_REPORT_JSON : ETPU_REPORT_CONSOLE, &ro, &text);
    if (st != ETPU_OK) {
      rc = cli_report(st);
      break;
    }
    if (as_json)
      print_json_model(text, jb, &sum, j);
    else
      fputs(text, stdout);
    if (!as_json && search)
      printf("etpu: -d/-k ignored: etpu maps what the rules allow and never fails on a long prefix.\n");
    if (!as_json && sum.output_models > 1)
      for (uint32_t k = 1; k < sum.output_models; k++)
        printf("Output model: %s\nOperation log: %s\n", cli_t(jb->out_path[k]), cli_t(jb->log_path[k]));
    if (!as_json && j + 1 < npaths) printf("\n");
    etpu_free(text);
  }
  if (rc == 0 && as_json) printf("]}\n");
  for (uint32_t j = 0; j < npaths; j++) {
    for (uint32_t k = 0; k < MAX_MODELS; k++) {
      etpu_free(jobs[j].out[k]);
      free(jobs[j].out_path[k]);
      free(jobs[j].log_path[k]);
    }
    free(jobs[j].lists);
    etpu_compilation_free(jobs[j].comp);
    etpu_model_free(jobs[j].model);
  }
  free(jobs);
  if (rc == 0 && (fflush(stdout) != 0 || ferror(stdout))) rc = 3;
  return rc;
}
