/*
 * test_goldens.c — the interpreter against tensors computed by real
 * TensorFlow Lite runtimes (shared/data/goldens; its README explains the
 * layout): goldens/tflite-ref (TFLite Micro) under --profile tflite-ref and
 * goldens/litert (LiteRT 2.5.3, XNNPACK) under --profile litert.
 *
 * For every model and input k:
 *  - end to end: run the model on input_<k>.bin and compare every stored
 *    tensor t<i>_<k>.bin byte for byte (mismatches are reported in op order,
 *    so the first wrong op is named);
 *  - op by op: write each op's stored inputs into the interpreter, run that
 *    op alone and compare its stored outputs, so an error is pinned to one
 *    op even when an earlier op already drifted.
 * A model whose ops etpu cannot run yet is reported; models listed in
 * k_expected must run and match exactly.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "runtime/interp.h"
#include "testutil.h"

/* profile/model directories that must run and match exactly. */
static const char *const k_expected[] = {
    "tflite-ref/hello_world_int8",
    "tflite-ref/micro_speech_quantized",
    "litert/micro_speech_quantized",
    "tflite-ref/mnv2_int8io",
    "tflite-ref/person_detect",
    "litert/mnv2_int8io",
    "litert/tf2_mobilenet_v2_1.0_224_ptq",
    "litert/mobilenet_v1_0.25_128_quant",
    "litert/mobilenet_v1_0.5_160_quant",
    "litert/mobilenet_v1_0.75_192_quant",
    "litert/mobilenet_v1_1.0_224_quant_embedding_extractor",
    "litert/mobilenet_v2_1.0_224_inat_bird_quant",
    "litert/mobilenet_v2_1.0_224_inat_insect_quant",
    "litert/mobilenet_edgetpu_0.75_224_post_training_quant",
    "litert/movenet_single_pose_lightning_ptq",
    "litert/mobilenet_v2_1.0_224_quant",
    "litert/deeplabv3_mnv2_dm05_pascal_quant",
    "litert/deeplabv3_mnv2_pascal_quant",
    "tflite-ref/keras_lstm_mnist_ptq",
    NULL,
};

static bool expected(const char *profile, const char *stem) {
  char key[256];
  snprintf(key, sizeof key, "%s/%s", profile, stem);
  for (size_t i = 0; k_expected[i]; i++)
    if (!strcmp(k_expected[i], key)) return true;
  return false;
}

static char *find_model(char **paths, size_t n, const char *stem) {
  char want[300];
  /* goldens/models/ holds the exact builds the goldens were made from when
   * the shared folder has another build under the same name. */
  snprintf(want, sizeof want, "/goldens/models/%s.tflite", stem);
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(paths[i]), w = strlen(want);
    if (l >= w && !strcmp(paths[i] + l - w, want)) return paths[i];
  }
  snprintf(want, sizeof want, "/%s.tflite", stem);
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(paths[i]), w = strlen(want);
    /* prefer coral/ over legacy/ builds of the same name */
    if (l >= w && !strcmp(paths[i] + l - w, want) && !strstr(paths[i], "/legacy/")) return paths[i];
  }
  return NULL;
}

/* The model byte size the manifest names ("bytes" of its "model" entry). */
static long manifest_model_bytes(const char *dir) {
  char path[4200];
  snprintf(path, sizeof path, "%.4000s/manifest.json", dir);
  unsigned char *d;
  size_t n;
  if (!tu_read_file(path, &d, &n)) return -1;
  d[n < 4096 ? n : 4095] = 0;
  const char *m = strstr((const char *)d, "\"model\"");
  const char *b = m ? strstr(m, "\"bytes\":") : NULL;
  long v = b ? strtol(b + 8, NULL, 10) : -1;
  free(d);
  return v;
}

typedef struct run_stats {
  uint64_t tensors, bytes, bad_tensors;
  uint32_t ops_checked, ops_bad;
} run_stats;

static bool load(const char *dir, const char *name, unsigned char **d, size_t *n) {
  char path[4096];
  snprintf(path, sizeof path, "%.3900s/%.64s", dir, name);
  return tu_read_file(path, d, n);
}

static int32_t producer_of(const etpu_model *m, uint32_t t) {
  etpu_tensor_info ti;
  return etpu_model_tensor(m, 0, t, &ti) == ETPU_OK ? ti.producer : -1;
}

/* Compare tensor t with golden bytes; report the first difference. */
static bool same(const char *what, const etpu_model *m, uint32_t t, const uint8_t *got, size_t ng, const uint8_t *want,
                 size_t nw) {
  if (ng != nw) {
    fprintf(stderr, "  %s: tensor %u: %zu bytes, golden %zu\n", what, t, ng, nw);
    return false;
  }
  size_t diff = 0, first = 0;
  for (size_t i = 0; i < ng; i++)
    if (got[i] != want[i]) {
      if (!diff) first = i;
      diff++;
    }
  if (!diff) return true;
  etpu_op_info op;
  int32_t p = producer_of(m, t);
  const char *opname = p >= 0 && etpu_model_op(m, 0, (uint32_t)p, &op) == ETPU_OK ? op.name : "?";
  fprintf(stderr, "  %s: tensor %u (op %d %s): %zu of %zu bytes differ; first at byte %zu: expected %d, got %d\n",
          what, t, p, opname, diff, ng, first, want[first], got[first]);
  return false;
}

static etpu_status open_model(const char *dir, const char *stem, char **paths, size_t n, etpu_model **m) {
  const char *p = find_model(paths, n, stem);
  if (!p) return etpu_fail(ETPU_IO_ERROR, "%s.tflite not found under shared data", stem);
  /* The goldens name their model by sha256 and size; another build under the
   * same name gives other tensors. */
  long want = manifest_model_bytes(dir);
  unsigned char *bytes;
  size_t size;
  if (want >= 0 && tu_read_file(p, &bytes, &size)) {
    free(bytes);
    if ((long)size != want)
      return etpu_fail(ETPU_IO_ERROR, "%s is %zu bytes but the goldens were made from a %ld-byte build", p, size, want);
  }
  return etpu_model_open(p, m);
}

static unsigned g_sets_compared; /* golden sets of which at least one tensor was compared */

static void run_dir(const char *gdir, const char *profile, const char *stem, char **paths, size_t n) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%.3000s/%.64s/%.200s", gdir, profile, stem);
  bool must = expected(profile, stem);
  etpu_model *m = NULL;
  etpu_status st = open_model(dir, stem, paths, n, &m);
  if (st != ETPU_OK) {
    printf("%-10s %-48s cannot open: %s\n", profile, stem, etpu_errmsg());
    CHECK_MSG(!must, "%s/%s: %s", profile, stem, etpu_errmsg());
    etpu_model_free(m);
    return;
  }
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = !strcmp(profile, "litert") ? ETPU_PROFILE_LITERT : ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = true;
  etpu_interp *ip = NULL;
  st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  if (st != ETPU_OK) {
    printf("%-10s %-48s not runnable yet: %s\n", profile, stem, etpu_errmsg());
    CHECK_MSG(!must, "%s/%s: %s", profile, stem, etpu_errmsg());
    etpu_interp_free(ip);
    etpu_model_free(m);
    return;
  }
  run_stats rs = {0};
  for (int k = 0; k < 3; k++) {
    char name[64];
    unsigned char *in = NULL;
    size_t nin = 0;
    snprintf(name, sizeof name, "input_%d.bin", k);
    if (!load(dir, name, &in, &nin)) continue;
    /* Each golden input ran in a fresh interpreter: start from reset state. */
    st = etpu_interp_reset_state(ip);
    if (st == ETPU_OK) st = etpu_interp_set_input(ip, 0, in, nin);
    if (st == ETPU_OK) st = etpu_interp_invoke(ip);
    free(in);
    if (st != ETPU_OK) {
      CHECK_MSG(0, "%s/%s input %d: %s", profile, stem, k, etpu_errmsg());
      continue;
    }
    /* End to end: every stored tensor. Save copies first, since the op-by-op
     * pass below overwrites tensors. */
    for (uint32_t t = 0; t < etpu_model_tensor_count(m, 0); t++) {
      snprintf(name, sizeof name, "t%u_%d.bin", t, k);
      unsigned char *want;
      size_t nw;
      if (!load(dir, name, &want, &nw)) continue;
      const void *got;
      size_t ng;
      rs.tensors++;
      rs.bytes += nw;
      char what[400];
      snprintf(what, sizeof what, "%s/%s input %d end-to-end", profile, stem, k);
      if (etpu_interp_tensor(ip, t, &got, &ng) != ETPU_OK || !same(what, m, t, got, ng, want, nw)) rs.bad_tensors++;
      free(want);
    }
    /* A prefix run (etpu_interp_invoke_prefix, as the quantizer's
     * refinement uses it): the ops up to the last one before the final op
     * whose output is stored write that output's golden value alone (the
     * tensor is cleared first, so the full run's value cannot pass); one op
     * more than the model has is refused. */
    const uint32_t nops = etpu_model_op_count(m, 0);
    for (uint32_t j = nops > 1 ? nops - 1 : 0; k == 0 && j-- > 0;) {
      etpu_op_info hop;
      if (etpu_model_op(m, 0, j, &hop) != ETPU_OK || hop.output_count == 0 || hop.outputs[0] < 0) continue;
      snprintf(name, sizeof name, "t%d_%d.bin", hop.outputs[0], k);
      unsigned char *want = NULL, *in0 = NULL;
      size_t nw = 0, nin0 = 0;
      if (!load(dir, name, &want, &nw)) continue;
      const void *got;
      size_t ng;
      char what[400];
      snprintf(what, sizeof what, "%s/%s input 0 after the first %u of %u ops", profile, stem, j + 1, nops);
      if (etpu_interp_tensor(ip, (uint32_t)hop.outputs[0], &got, &ng) == ETPU_OK) memset((void *)got, 0, ng);
      st = load(dir, "input_0.bin", &in0, &nin0) ? etpu_interp_reset_state(ip) : ETPU_IO_ERROR;
      if (st == ETPU_OK) st = etpu_interp_set_input(ip, 0, in0, nin0);
      if (st == ETPU_OK) st = etpu_interp_invoke_prefix(ip, j + 1);
      CHECK_MSG(st == ETPU_OK, "%s: %s", what, etpu_errmsg());
      if (st == ETPU_OK)
        CHECK_MSG(etpu_interp_tensor(ip, (uint32_t)hop.outputs[0], &got, &ng) == ETPU_OK &&
                      same(what, m, (uint32_t)hop.outputs[0], got, ng, want, nw),
                  "%s: tensor %d differs from the golden", what, hop.outputs[0]);
      CHECK_MSG(etpu_interp_invoke_prefix(ip, nops + 1) == ETPU_INVALID_ARGUMENT,
                "%s/%s: a prefix of %u ops (the model has %u) was not refused", profile, stem, nops + 1, nops);
      printf("%-10s %-48s prefix of %u/%u ops: tensor %d checked\n", profile, stem, j + 1, nops, hop.outputs[0]);
      free(want);
      free(in0);
      break;
    }
    /* Op by op. */
    for (uint32_t oi = 0; oi < etpu_model_op_count(m, 0); oi++) {
      etpu_op_info op;
      if (etpu_model_op(m, 0, oi, &op) != ETPU_OK) continue;
      bool ok = true, have_out = false;
      for (uint32_t q = 0; q < op.input_count && ok; q++) {
        if (op.inputs[q] < 0) continue;
        etpu_tensor_info ti;
        if (etpu_model_tensor(m, 0, (uint32_t)op.inputs[q], &ti) != ETPU_OK || ti.data || ti.is_variable) continue;
        snprintf(name, sizeof name, "t%d_%d.bin", op.inputs[q], k);
        unsigned char *d;
        size_t nd;
        bool is_model_input = op.inputs[q] == etpu_model_input(m, 0, 0);
        if (!load(dir, name, &d, &nd)) {
          if (!is_model_input) ok = false;
          continue;
        }
        uint8_t *mem = etpu_interp_tensor_mem(ip, (uint32_t)op.inputs[q]);
        const void *cur;
        size_t ncur = 0;
        if (etpu_interp_tensor(ip, (uint32_t)op.inputs[q], &cur, &ncur) != ETPU_OK || ncur != nd) {
          CHECK_MSG(0, "%s/%s: golden %s has %zu bytes, tensor %d has %zu", profile, stem, name, nd, op.inputs[q], ncur);
          ok = false;
        } else if (mem) {
          memcpy(mem, d, nd);
        }
        free(d);
      }
      if (!ok) continue;
      /* Ops with state (LSTM) are only checked end to end. */
      bool stateful = false;
      for (uint32_t q = 0; q < op.input_count; q++) {
        etpu_tensor_info ti;
        if (op.inputs[q] >= 0 && etpu_model_tensor(m, 0, (uint32_t)op.inputs[q], &ti) == ETPU_OK && ti.is_variable)
          stateful = true;
      }
      if (stateful) continue;
      if (etpu_interp_invoke_op(ip, oi) != ETPU_OK) {
        CHECK_MSG(0, "%s/%s op %u %s: %s", profile, stem, oi, op.name, etpu_errmsg());
        continue;
      }
      bool bad = false;
      for (uint32_t q = 0; q < op.output_count; q++) {
        snprintf(name, sizeof name, "t%d_%d.bin", op.outputs[q], k);
        unsigned char *want;
        size_t nw;
        if (!load(dir, name, &want, &nw)) continue;
        have_out = true;
        const void *got;
        size_t ng;
        char what[400];
        snprintf(what, sizeof what, "%s/%s input %d op %u %s alone", profile, stem, k, oi, op.name);
        if (etpu_interp_tensor(ip, (uint32_t)op.outputs[q], &got, &ng) != ETPU_OK ||
            !same(what, m, (uint32_t)op.outputs[q], got, ng, want, nw))
          bad = true;
        free(want);
      }
      if (have_out) {
        rs.ops_checked++;
        if (bad) rs.ops_bad++;
      }
    }
  }
  printf("%-10s %-48s %llu tensors (%llu bytes): %llu differ; %u op runs alone: %u differ%s\n", profile, stem,
         (unsigned long long)rs.tensors, (unsigned long long)rs.bytes, (unsigned long long)rs.bad_tensors,
         rs.ops_checked, rs.ops_bad, must ? "" : " (not yet required)");
  if (rs.tensors > 0) g_sets_compared++;
  if (must) {
    CHECK_MSG(rs.tensors > 0, "%s/%s: no golden tensor compared", profile, stem);
    CHECK_MSG(rs.bad_tensors == 0 && rs.ops_bad == 0, "%s/%s: %llu tensors and %u ops differ from the golden", profile,
              stem, (unsigned long long)rs.bad_tensors, rs.ops_bad);
  }
  etpu_interp_free(ip);
  etpu_model_free(m);
}

int main(int argc, char **argv) {
  const char *shared = tu_shared_dir();
  if (!shared) return tu_skip_code();
  const char *only = argc > 1 ? argv[1] : NULL; /* optional "profile/model" filter */
  char **paths;
  size_t n = tu_list_models(shared, &paths);
  char gdir[4096];
  snprintf(gdir, sizeof gdir, "%.3000s/goldens", shared);
  static const char *const profiles[] = {"tflite-ref", "litert"};
  unsigned sets_listed = 0;
  for (int p = 0; p < 2; p++) {
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%.4000s/%s", gdir, profiles[p]);
    char **names;
    const size_t nn = tu_list_dir(pdir, &names);
    CHECK_MSG(nn > 0, "no golden set in %s", pdir);
    sets_listed += (unsigned)nn;
    for (size_t i = 0; i < nn; i++) {
      char key[300];
      snprintf(key, sizeof key, "%s/%s", profiles[p], names[i]);
      if (!only || strstr(key, only)) run_dir(gdir, profiles[p], names[i], paths, n);
    }
    tu_free_list(names, nn);
  }
  tu_free_list(paths, n);
  /* Every set listed compared tensors, and there were sets: a run whose
   * folders could not be listed or whose models are missing must not pass
   * with 0 checks. */
  if (!only)
    CHECK_MSG(g_sets_compared == sets_listed && sets_listed >= 19,
              "%u of %u golden sets compared tensors (19 or more expected)", g_sets_compared, sets_listed);
  return tu_finish("goldens");
}
