/*
 * test_compile_pairs.c — etpu compile against Google's edgetpu_compiler on
 * every real compiled pair in shared/data/coral (X.tflite beside Google's
 * X_edgetpu.tflite): the ops left on the CPU, matched by output tensor name,
 * must be identical, and the Edge TPU custom op must have as many inputs and
 * outputs as Google's. Each output must pass etpu's verifier, compiling
 * twice must give identical bytes, and Debian's flatc (when installed) must
 * parse the output.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

#define MAXN 64

typedef struct cpu_set {
  uint32_t n;
  const char *names[MAXN];
  uint32_t custom_in, custom_out, custom_ops;
} cpu_set;

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void collect(const etpu_model *m, cpu_set *s) {
  memset(s, 0, sizeof *s);
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, i, &op) != ETPU_OK) continue;
    if (op.code == ETPU_OP_CUSTOM && !strcmp(op.name, "edgetpu-custom-op")) {
      s->custom_ops++;
      s->custom_in = op.input_count;
      s->custom_out = op.output_count;
      continue;
    }
    etpu_tensor_info t;
    if (s->n < MAXN && op.output_count && etpu_model_tensor(m, 0, (uint32_t)op.outputs[0], &t) == ETPU_OK)
      s->names[s->n++] = t.name;
  }
  qsort(s->names, s->n, sizeof s->names[0], cmp);
}

static void check_pair(const char *src_path, const char *google_path, const char *shared) {
  etpu_model *src = NULL, *google = NULL, *ours = NULL;
  CHECK_OK(etpu_model_open(src_path, &src));
  CHECK_OK(etpu_model_open(google_path, &google));
  etpu_compilation *c = NULL, *c2 = NULL;
  if (src) CHECK_OK(etpu_compile(src, NULL, &c));
  if (src) CHECK_OK(etpu_compile(src, NULL, &c2));
  void *out = NULL, *out2 = NULL;
  size_t n = 0, n2 = 0;
  if (c) CHECK_OK(etpu_compilation_write(c, 0, &out, &n));
  if (c2) CHECK_OK(etpu_compilation_write(c2, 0, &out2, &n2));
  CHECK_MSG(out && out2 && n == n2 && memcmp(out, out2, n) == 0, "%s: compiling twice gave different bytes", src_path);
  if (out) CHECK_OK(etpu_model_open_buffer(out, n, "compiled", 0, &ours));
  if (ours && google) {
    cpu_set a, b;
    collect(ours, &a);
    collect(google, &b);
    CHECK_MSG(a.n == b.n, "%s: etpu leaves %u ops on the CPU, Google %u", src_path, a.n, b.n);
    for (uint32_t i = 0; i < a.n && i < b.n; i++)
      CHECK_MSG(!strcmp(a.names[i], b.names[i]), "%s: CPU op output '%s' vs Google's '%s'", src_path, a.names[i],
                b.names[i]);
    CHECK_MSG(a.custom_ops == 1 && b.custom_ops == 1, "%s: custom ops %u vs %u", src_path, a.custom_ops, b.custom_ops);
    CHECK_MSG(a.custom_in == b.custom_in && a.custom_out == b.custom_out,
              "%s: custom op I/O %u->%u, Google %u->%u", src_path, a.custom_in, a.custom_out, b.custom_in, b.custom_out);
    printf("%-60s CPU ops %u, custom op %u in / %u out: same as Google\n", strrchr(src_path, '/') + 1, a.n, a.custom_in,
           a.custom_out);
  }
  /* flatc parses the output. */
  const char *flatc = getenv("ETPU_FLATC");
  if (!flatc || !flatc[0]) flatc = "/usr/bin/flatc";
  if (out && access(flatc, X_OK) == 0) {
    char dir[] = "/tmp/etpu_cp_XXXXXX";
    if (mkdtemp(dir)) {
      char path[256], cmd[1024];
      snprintf(path, sizeof path, "%s/o.tflite", dir);
      FILE *f = fopen(path, "wb");
      if (f) {
        fwrite(out, 1, n, f);
        fclose(f);
        snprintf(cmd, sizeof cmd,
                 "'%s' -t --strict-json -o '%s' '%s/schema/schema_for_debian_flatc.fbs' -- '%s' >/dev/null 2>&1",
                 flatc, dir, shared, path);
        CHECK_MSG(system(cmd) == 0, "%s: flatc cannot parse the compiled model", src_path);
      }
      snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
      if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    }
  }
  etpu_free(out);
  etpu_free(out2);
  etpu_compilation_free(c);
  etpu_compilation_free(c2);
  etpu_model_free(ours);
  etpu_model_free(google);
  etpu_model_free(src);
}

int main(void) {
  const char *shared = tu_shared_dir();
  if (!shared) return tu_skip_code();
  char **paths;
  size_t n = tu_list_models(shared, &paths);
  int pairs = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = strlen(paths[i]);
    const char *suffix = "_edgetpu.tflite";
    size_t sl = strlen(suffix);
    if (len <= sl || strcmp(paths[i] + len - sl, suffix) != 0) continue;
    char src[4096];
    snprintf(src, sizeof src, "%.*s.tflite", (int)(len - sl), paths[i]);
    if (access(src, R_OK) != 0) continue;
    check_pair(src, paths[i], shared);
    pairs++;
  }
  printf("compared %d real compiled pairs\n", pairs);
  CHECK_MSG(pairs >= 12, "expected the 12 compiled pairs of shared/data/coral, found %d", pairs);
  tu_free_list(paths, n);
  return tu_finish("compile_pairs");
}
