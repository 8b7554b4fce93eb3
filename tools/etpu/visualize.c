/*
 * visualize.c — `etpu visualize MODEL [-o REPORT.html] [-m N] [-i A,B] [-a]`:
 * write the self-contained HTML report of a model and its Edge TPU mapping
 * (etpu_visualize_html), atomically. Without -o the report is NAME.html in
 * the current folder, NAME being the model's file name without .tflite; the
 * command says where it wrote. The compile flags are etpu compile's.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_I 256

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu visualize MODEL.tflite [-o REPORT.html] [-m N] [-i A,B] [-a] [--json]\n"
          "  write one self-contained HTML page (no network needed) of the model's graph and its Edge TPU\n"
          "  mapping: ops coloured by where they run, tensors, options, the rule and fix for CPU ops, the\n"
          "  partition cut, the operator table, parameter memory and metadata, search by name\n"
          "  -o, --output FILE                 the report (default: MODEL's name with .html, in the current folder)\n"
          "  -m, --min_runtime_version N       as etpu compile: lowest Edge TPU runtime, 10..14 (default 14)\n"
          "  -i, --intermediate_tensors A,B    as etpu compile: stop the Edge TPU part at these tensors\n"
          "  -a, --enable_multiple_subgraphs   as etpu compile: map every run of supported ops\n"
          "      --json                        print what was written as JSON\n"
          "  -h, --help                        this help\n"
          "A compiled model (etpu's or Google's) is shown as compiled; the compile flags do not apply to it.\n");
}

/* NAME.html for path DIR/NAME.tflite (heap). */
static char *default_output(const char *path) {
  char *stem = cli_path_stem(path);
  size_t n = stem ? strlen(stem) + 6 : 0;
  char *s = stem ? malloc(n) : NULL;
  if (s) snprintf(s, n, "%s.html", stem);
  free(stem);
  return s;
}

int etpu_cmd_visualize(int argc, char **argv) {
  const char *path = NULL, *out = NULL, *ilist = NULL;
  bool json = false, multi = false;
  long min_rt = 0;
  for (int i = 1; i < argc; i++) {
    const char *v;
    int r;
    if (cli_common_flag("visualize", argv[i], usage, &json, &r)) {
      if (r >= 0) return r;
    } else if ((r = cli_flag_value("visualize", argc, argv, &i, "--output", "-o", &v)) != 0) {
      if (r < 0) return CLI_EXIT_USAGE;
      out = v;
    } else if ((r = cli_flag_value("visualize", argc, argv, &i, "--min_runtime_version", "-m", &v)) != 0) {
      if (r < 0) return CLI_EXIT_USAGE;
      char *end;
      errno = 0;
      min_rt = strtol(v, &end, 10);
      if (errno || end == v || *end || min_rt < 10 || min_rt > 14)
        return cli_bad_value("visualize", "-m", "a runtime version from 10 to 14", v);
    } else if ((r = cli_flag_value("visualize", argc, argv, &i, "--intermediate_tensors", "-i", &v)) != 0) {
      if (r < 0) return CLI_EXIT_USAGE;
      if (ilist) return cli_usage_error("visualize", "-i given twice (one comma-separated list)");
      ilist = v;
    } else if ((r = cli_flag_switch("visualize", argv[i], "--enable_multiple_subgraphs", "-a")) != 0) {
      if (r < 0) return CLI_EXIT_USAGE;
      multi = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      return cli_usage_error("visualize", "unknown option '%s'", cli_t(argv[i]));
    } else if (!path) {
      path = argv[i];
    } else {
      return cli_usage_error("visualize", "one model at a time ('%s' is extra)", cli_t(argv[i]));
    }
  }
  if (!path) return cli_usage_error("visualize", "no MODEL given");
  char *owned_out = NULL;
  if (!out) {
    owned_out = default_output(path);
    if (!owned_out) {
      fprintf(stderr, "etpu: error: visualize: out of memory\n");
      return CLI_EXIT_IO;
    }
    out = owned_out;
  }
  int rc = CLI_EXIT_OK;
  etpu_model *m = NULL;
  char *names_buf = NULL, *html = NULL;
  const char *names[MAX_I];
  uint32_t nnames = 0;
  etpu_status st = etpu_file_check_writable(out);
  if (st != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  st = etpu_model_open(path, &m);
  if (st != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if (ilist) {
    names_buf = strdup(ilist);
    if (!names_buf) {
      rc = cli_report(ETPU_OUT_OF_MEMORY);
      goto done;
    }
    char *save = NULL;
    for (char *tok = strtok_r(names_buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      if (nnames == MAX_I) {
        rc = cli_usage_error("visualize", "-i names at most %d tensors", MAX_I);
        goto done;
      }
      names[nnames++] = tok;
    }
  }
  etpu_compile_options co = {(int32_t)min_rt, nnames, names, multi, 0};
  etpu_visualize_options vo;
  etpu_visualize_options_init(&vo);
  vo.compile = &co;
  size_t size = 0;
  st = etpu_visualize_html(m, &vo, &html, &size);
  if (st == ETPU_OK) st = etpu_write_file_atomic(out, html, size);
  if (st != ETPU_OK) {
    rc = cli_report(st);
    goto done;
  }
  if (json) {
    printf("{\"model\": ");
    cli_json_string(stdout, path);
    printf(", \"output\": ");
    cli_json_string(stdout, out);
    printf(", \"bytes\": %zu}\n", size);
  } else {
    printf("etpu visualize: wrote %s (%zu bytes)%s\n", cli_t(out), size,
           owned_out ? ", named after the model, in the current folder (-o names another)" : "");
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "etpu: error: cannot write to standard output\n");
    rc = CLI_EXIT_IO;
  }
done:
  etpu_free(html);
  free(names_buf);
  etpu_model_free(m);
  free(owned_out);
  return rc;
}
