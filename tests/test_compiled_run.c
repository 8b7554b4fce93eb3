/*
 * test_compiled_run.c — a model compiled by `etpu compile` runs to exactly
 * the bytes of its source model: for every shared model etpu compiles and
 * runs, both models get the same pseudo-random inputs (fixed printed seed)
 * and every output must be byte-identical (litert profile; tflite-ref too
 * for models under 1.5 MB). The
 * Edge TPU segment is simulated by the nested interpreter of the
 * edgetpu-custom-op, so any difference means the partition or the payload
 * changed the computation.
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static uint32_t g_seed;
static uint8_t next_byte(void) {
  g_seed = g_seed * 1664525u + 1013904223u;
  return (uint8_t)(g_seed >> 24);
}

/* Fill input i with random bytes valid for its type (floats in [-1, 1]). */
static void random_input(const etpu_model *m, int32_t t, uint8_t *buf, size_t n) {
  etpu_tensor_info ti;
  if (etpu_model_tensor(m, 0, (uint32_t)t, &ti) != ETPU_OK) return;
  if (ti.type == ETPU_FLOAT32) {
    for (size_t i = 0; i + 4 <= n; i += 4) {
      float f = (float)next_byte() / 127.5f - 1.0f;
      memcpy(buf + i, &f, 4);
    }
  } else if (ti.type == ETPU_BOOL) {
    for (size_t i = 0; i < n; i++) buf[i] = next_byte() & 1;
  } else {
    for (size_t i = 0; i < n; i++) buf[i] = next_byte();
  }
}

typedef struct run_result {
  uint32_t n;
  void *out[16];
  size_t size[16];
} run_result;

static etpu_status run(const etpu_model *m, etpu_profile p, uint32_t seed, run_result *r) {
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = p;
  o.keep_all_tensors = false;
  etpu_interp *ip = NULL;
  etpu_status st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  g_seed = seed;
  for (uint32_t i = 0; st == ETPU_OK && i < etpu_interp_input_count(ip); i++) {
    int32_t t = etpu_interp_input_index(ip, i);
    etpu_tensor_info ti;
    st = etpu_model_tensor(m, 0, (uint32_t)t, &ti);
    size_t n = 0;
    if (st == ETPU_OK) {
      n = etpu_dtype_size(ti.type);
      for (uint32_t d = 0; d < ti.rank; d++) n *= (size_t)ti.shape[d];
    }
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) st = ETPU_OUT_OF_MEMORY;
    if (st == ETPU_OK) random_input(m, t, buf, n);
    if (st == ETPU_OK) st = etpu_interp_set_input(ip, i, buf, n);
    free(buf);
  }
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  r->n = 0;
  for (uint32_t i = 0; st == ETPU_OK && i < etpu_interp_output_count(ip) && i < 16; i++) {
    const void *d;
    size_t n;
    st = etpu_interp_output(ip, i, &d, &n);
    if (st != ETPU_OK) break;
    r->out[i] = malloc(n ? n : 1);
    if (r->out[i]) memcpy(r->out[i], d, n);
    r->size[i] = n;
    r->n = i + 1;
  }
  etpu_interp_free(ip);
  return st;
}

static void free_result(run_result *r) {
  for (uint32_t i = 0; i < r->n; i++) free(r->out[i]);
  r->n = 0;
}

int main(void) {
  const char *shared = tu_shared_dir();
  if (!shared) return tu_skip_code();
  char **paths;
  size_t n = tu_list_models(shared, &paths);
  const uint32_t seed = 20261126u;
  printf("seed %u\n", seed);
  int compared = 0, identical = 0;
  for (size_t i = 0; i < n; i++) {
    const char *p = paths[i];
    if (strstr(p, "_edgetpu.tflite") || strstr(p, "quantizer_cases")) continue;
    etpu_model *src = NULL, *cmp = NULL;
    if (etpu_model_open(p, &src) != ETPU_OK) {
      CHECK_MSG(0, "%s: %s", p, etpu_errmsg());
      continue;
    }
    etpu_compilation *c = NULL;
    void *bytes = NULL;
    size_t nb = 0;
    if (etpu_compile(src, NULL, &c) != ETPU_OK) { /* dynamic shapes, float models: not compiled */
      etpu_model_free(src);
      continue;
    }
    etpu_compile_summary sum;
    etpu_compilation_summary(c, &sum);
    CHECK_OK(etpu_compilation_write(c, 0, &bytes, &nb));
    if (bytes) CHECK_OK(etpu_model_open_buffer(bytes, nb, "compiled", 0, &cmp));
    /* litert for every model; tflite-ref too for models under 1.5 MB (the
     * partition does not depend on the profile; this keeps the sanitizer
     * run short). */
    unsigned char *raw;
    size_t rawn = 0;
    if (tu_read_file(p, &raw, &rawn)) free(raw);
    int first_prof = rawn < (size_t)1536 * 1024 ? 0 : 1;
    for (int prof = first_prof; cmp && prof < 2 && sum.edgetpu_ops > 0; prof++) {
      run_result a = {0}, b = {0};
      etpu_status sa = run(src, (etpu_profile)prof, seed + (uint32_t)i, &a);
      if (sa != ETPU_OK) {
        printf("%-70s %-10s source not runnable: %s\n", strrchr(p, '/') + 1, etpu_profile_name(prof), etpu_errmsg());
        free_result(&a);
        continue;
      }
      etpu_status sb = run(cmp, (etpu_profile)prof, seed + (uint32_t)i, &b);
      CHECK_MSG(sb == ETPU_OK, "%s (%s): compiled model does not run: %s", p, etpu_profile_name(prof), etpu_errmsg());
      bool same = sb == ETPU_OK && a.n == b.n;
      for (uint32_t k = 0; same && k < a.n; k++)
        same = a.size[k] == b.size[k] && memcmp(a.out[k], b.out[k], a.size[k]) == 0;
      CHECK_MSG(same, "%s (%s): compiled model's outputs differ from the source model's", p, etpu_profile_name(prof));
      compared++;
      identical += same;
      printf("%-70s %-10s %u ops on the Edge TPU, %u on the CPU: %s\n", strrchr(p, '/') + 1, etpu_profile_name(prof),
             sum.edgetpu_ops, sum.cpu_ops, same ? "identical outputs" : "DIFFERENT");
      free_result(&a);
      free_result(&b);
    }
    etpu_model_free(cmp);
    etpu_free(bytes);
    etpu_compilation_free(c);
    etpu_model_free(src);
  }
  printf("%d compiled/source runs compared, %d identical\n", compared, identical);
  CHECK_MSG(compared >= 20, "expected at least 20 runnable compiled models, compared %d", compared);
  tu_free_list(paths, n);
  return tu_finish("compiled_run");
}
