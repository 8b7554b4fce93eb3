/*
 * test_target.c — the --target reports: the Edge TPU latency estimate
 * against Coral's published figures (EDGETPU.md §16) and Google's cycle
 * counts (§20.1), and the Dev Board Micro verdict against TFLite Micro's
 * own figures (goldens/tflm/arena.json: which models run at the TFLM commit
 * coralmicro pins, and arena_used_bytes of the reference build).
 *
 * Checks:
 *   - every model of arena.json: the verdict (runs or not) matches, the
 *     missing ops are the ones TFLM names, and the arena estimate is within
 *     5% of arena_used_bytes (a table is printed);
 *   - every model of tflite-micro/, goldens/tflite-ref and the Coral
 *     classifiers and DeepLab (source and Google's compiled files): the
 *     verdict, the missing ops and the estimate are printed; every uint8
 *     model fails and says so;
 *   - synthetic builder models: an op TFLM lacks, an op with a kernel
 *     source but no resolver entry, a uint8 op TFLM has only for int8, and an
 *     arena 16 bytes under and over the board's OCRAM section, each with its
 *     verdict and message;
 *   - the latency of the fully mapped models with published figures within
 *     15% of them (USB Accelerator and Dev Board), the graph's cycles within
 *     10% of Google's package figures, the same estimate from a compilation
 *     and from its compiled file, and the target named in the console text,
 *     the .log and JSON.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static char g_dir[1024];

static const char *path_of(const char *rel) {
  static char buf[4][1400];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "%s/%s", g_dir, rel);
  return buf[k];
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  if (p) p[n] = 0;
  fclose(f);
  return p;
}

static long file_size(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fclose(f);
  return n;
}

/* ---- the Dev Board Micro verdict on real models ----------------------------- */

/* In arena.json's object for `key`: the text after "field": (NULL if absent). */
static const char *json_field(const char *json, const char *key, const char *field) {
  char k[300];
  snprintf(k, sizeof k, "\"%s\": {", key);
  const char *o = strstr(json, k);
  if (!o) return NULL;
  const char *end = strstr(o, "\n  }");
  snprintf(k, sizeof k, "\"%s\": ", field);
  const char *f = strstr(o, k);
  return f && (!end || f < end) ? f + strlen(k) : NULL;
}

typedef struct micro_case {
  const char *rel;      /* path under the shared data folder */
  const char *tflm_key; /* its arena.json entry, or NULL */
} micro_case;

static etpu_micro *micro_of(const char *rel, etpu_model **model_out) {
  etpu_model *m = NULL;
  etpu_micro *mc = NULL;
  const char *p = path_of(rel);
  CHECK_OK(etpu_model_open(p, &m));
  if (!m) return NULL;
  CHECK_OK(etpu_micro_check(m, (uint64_t)file_size(p), &mc));
  *model_out = m;
  return mc;
}

/* The ops TFLM lacks (registered false; with all_unsupported, every op it
 * cannot run) as arena.json writes them ("CUSTOM:Name", builtin names),
 * each once, in op order. */
static void missing_list(const etpu_micro *mc, bool all_unsupported, char *out, size_t cap) {
  out[0] = 0;
  for (uint32_t i = 0; i < etpu_micro_op_count(mc); i++) {
    etpu_micro_op o;
    if (etpu_micro_op_info(mc, i, &o) != ETPU_OK || o.supported || (o.registered && !all_unsupported)) continue;
    char item[200];
    bool custom = strstr(o.reason, "custom op") != NULL;
    snprintf(item, sizeof item, "\"%s%s\"", custom ? "CUSTOM:" : "", o.op_name);
    if (strstr(out, item)) continue;
    if (out[0]) strncat(out, ", ", cap - strlen(out) - 1);
    strncat(out, item, cap - strlen(out) - 1);
  }
}

static void check_real_models(void) {
  char *arena_json = read_text(path_of("goldens/tflm/arena.json"));
  CHECK_MSG(arena_json != NULL, "cannot read goldens/tflm/arena.json");
  if (!arena_json) return;
  static const micro_case cases[] = {
      {"tflite-micro/audio_preprocessor_float.tflite", "tflite-micro/audio_preprocessor_float.tflite"},
      {"tflite-micro/audio_preprocessor_int8.tflite", "tflite-micro/audio_preprocessor_int8.tflite"},
      {"tflite-micro/hello_world_float.tflite", "tflite-micro/hello_world_float.tflite"},
      {"tflite-micro/hello_world_int8.tflite", "tflite-micro/hello_world_int8.tflite"},
      {"tflite-micro/person_detect.tflite", "tflite-micro/person_detect.tflite"},
      {"tflite-micro/trained_lstm.tflite", "tflite-micro/trained_lstm.tflite"},
      {"tflite-micro/trained_lstm_int8.tflite", "tflite-micro/trained_lstm_int8.tflite"},
      {"goldens/models/micro_speech_quantized.tflite", "goldens/models/micro_speech_quantized.tflite"},
      {"goldens/models/mnv2_int8io.tflite", "goldens/models/mnv2_int8io.tflite"},
      {"goldens/models/mobilenet_v2_1.0_224_quant.tflite", "goldens/models/mobilenet_v2_1.0_224_quant.tflite"},
      {"coral/keras_lstm_mnist_ptq.tflite", NULL}, /* goldens/tflite-ref's fifth model */
      {"coral/mobilenet_v1_0.25_128_quant.tflite", NULL},
      {"coral/mobilenet_v1_0.5_160_quant.tflite", NULL},
      {"coral/mobilenet_v1_0.75_192_quant.tflite", NULL},
      {"coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", NULL},
      {"coral/mobilenet_v2_1.0_224_quant.tflite", NULL},
      {"coral/mobilenet_v2_1.0_224_inat_bird_quant.tflite", NULL},
      {"coral/mobilenet_v2_1.0_224_inat_insect_quant.tflite", NULL},
      {"coral/mobilenet_edgetpu_0.75_224_post_training_quant.tflite", NULL},
      {"coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", NULL},
      {"coral/deeplabv3_mnv2_pascal_quant.tflite", NULL},
      {"coral/deeplabv3_mnv2_dm05_pascal_quant.tflite", NULL},
      {"coral/mobilenet_v2_1.0_224_quant_edgetpu.tflite", NULL},
      {"coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite", NULL},
      {"coral/deeplabv3_mnv2_pascal_quant_edgetpu.tflite", NULL},
      {"coral/deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite", NULL},
  };
  printf("| model | verdict | fit | MCU ops | missing | arena estimate (B) | TFLM arena_used_bytes | error |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    etpu_model *m = NULL;
    etpu_micro *mc = micro_of(cases[i].rel, &m);
    if (!mc) {
      etpu_model_free(m);
      continue;
    }
    etpu_micro_verdict v;
    etpu_micro_summary(mc, &v);
    char missing[1200], lacks[1200];
    missing_list(mc, true, missing, sizeof missing);
    missing_list(mc, false, lacks, sizeof lacks);
    char tflm[32] = "-", err[32] = "-";
    if (cases[i].tflm_key) {
      const char *runs = json_field(arena_json, cases[i].tflm_key, "runs_reference");
      const char *used = json_field(arena_json, cases[i].tflm_key, "arena_used_bytes_reference");
      const char *miss = json_field(arena_json, cases[i].tflm_key, "missing_ops");
      CHECK_MSG(runs && used && miss, "%s: arena.json entry incomplete", cases[i].rel);
      if (runs && used && miss) {
        bool tflm_runs = !strncmp(runs, "true", 4);
        CHECK_MSG(v.runs == tflm_runs, "%s: verdict %s, TFLM %s", cases[i].rel, v.runs ? "runs" : "does not run",
                  tflm_runs ? "runs" : "does not run");
        /* the same missing ops, in TFLM's order and spelling */
        char want[1200] = "";
        const char *q = miss + 1;
        while (*q && *q != ']') {
          const char *s = strchr(q, '"'), *e = s ? strchr(s + 1, '"') : NULL;
          if (!s || !e || s > strchr(q, ']')) break;
          if (want[0]) strcat(want, ", ");
          strncat(want, s, (size_t)(e - s + 1));
          q = e + 1;
        }
        CHECK_MSG(!strcmp(want, lacks), "%s: ops TFLM lacks [%s], TFLM's [%s]", cases[i].rel, lacks, want);
        if (tflm_runs) {
          long ref = strtol(used, NULL, 10);
          double e = ((double)v.arena_bytes - (double)ref) / (double)ref;
          snprintf(tflm, sizeof tflm, "%ld", ref);
          snprintf(err, sizeof err, "%+.2f%%", 100 * e);
          CHECK_MSG(fabs(e) <= 0.05, "%s: arena estimate %llu, TFLM %ld (%+.2f%%)", cases[i].rel,
                    (unsigned long long)v.arena_bytes, ref, 100 * e);
        } else {
          CHECK_MSG(!strncmp(used, "null", 4), "%s: TFLM reports an arena for a model that does not run", cases[i].rel);
        }
      }
    }
    /* every uint8 (legacy-quantized) model fails, and says why */
    bool uint8_in = false;
    etpu_tensor_info ti;
    int32_t in0 = etpu_model_input(m, 0, 0);
    if (in0 >= 0 && etpu_model_tensor(m, 0, (uint32_t)in0, &ti) == ETPU_OK) uint8_in = ti.type == ETPU_UINT8;
    if (v.uint8_model) {
      CHECK_MSG(!v.runs && strstr(v.summary, "every uint8 (legacy-quantized) model fails"), "%s: %s", cases[i].rel,
                v.summary);
    }
    if (strstr(cases[i].rel, "_quant.tflite") && uint8_in && !strstr(cases[i].rel, "edgetpu"))
      CHECK_MSG(v.uint8_model && !v.runs, "%s: a uint8 model judged runnable: %s", cases[i].rel, v.summary);
    CHECK_MSG(v.model_bytes == (uint64_t)file_size(path_of(cases[i].rel)), "%s: model bytes %llu", cases[i].rel,
              (unsigned long long)v.model_bytes);
    CHECK_MSG(v.arena_bytes == v.arena_head_bytes + v.arena_tail_bytes && v.arena_head_bytes > 0, "%s", cases[i].rel);
    CHECK_MSG(v.fit == (v.arena_bytes <= v.sram_bytes ? ETPU_MICRO_FITS_SRAM : ETPU_MICRO_FITS_SDRAM),
              "%s: fit %d for arena %llu", cases[i].rel, (int)v.fit, (unsigned long long)v.arena_bytes);
    const char *base = strrchr(cases[i].rel, '/') + 1;
    printf("| %s | %s | %s | %u | %s | %llu | %s | %s |\n", base, v.runs ? "runs" : "does not run",
           v.fit == ETPU_MICRO_FITS_SRAM ? "OCRAM" : v.fit == ETPU_MICRO_FITS_SDRAM ? "SDRAM" : "too large", v.mcu_ops,
           v.missing_ops ? missing : "none", (unsigned long long)v.arena_bytes, tflm, err);
    etpu_micro_free(mc);
    etpu_model_free(m);
  }
  /* Google's compiled MobileNet v2: nothing left on the MCU */
  etpu_model *m = NULL;
  etpu_micro *mc = micro_of("coral/mobilenet_v2_1.0_224_quant_edgetpu.tflite", &m);
  if (mc) {
    etpu_micro_verdict v;
    etpu_micro_summary(mc, &v);
    CHECK(v.mcu_ops == 0 && v.runs && v.fit == ETPU_MICRO_FITS_SRAM && v.edgetpu_parameter_bytes > 3900864);
    CHECK(strstr(v.summary, "an upper bound") != NULL);
  }
  etpu_micro_free(mc);
  etpu_model_free(m);
  /* Google's compiled DeepLab: its CPU tail is uint8 RESIZE_BILINEAR etc. */
  mc = micro_of("coral/deeplabv3_mnv2_pascal_quant_edgetpu.tflite", &m);
  if (mc) {
    etpu_micro_verdict v;
    etpu_micro_summary(mc, &v);
    CHECK_MSG(v.mcu_ops == 8 && !v.runs && v.uint8_model && strstr(v.summary, "RESIZE_BILINEAR"), "%s", v.summary);
  }
  etpu_micro_free(mc);
  etpu_model_free(m);
  free(arena_json);
}

/* ---- synthetic models ------------------------------------------------------ */

static const float k_scale = 0.05f;
static const int64_t k_zp = 0;

static int32_t act(etpu_model *m, const char *name, int32_t type, uint32_t rank, const int32_t *shape) {
  etpu_quant_params q = {1, &k_scale, &k_zp, 0};
  int32_t idx = -1;
  CHECK_OK(etpu_model_add_tensor(m, 0, name, type, rank, shape, type == ETPU_FLOAT32 ? NULL : &q, NULL, 0, &idx));
  return idx;
}

/* x (type, [1,n]) op y -> z, one op; NULL on failure. */
static etpu_model *binary_model(int32_t code, int32_t type, int32_t n) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  int32_t shape[2] = {1, n};
  int32_t x = act(m, "x", type, 2, shape), y = act(m, "y", type, 2, shape), z = act(m, "z", type, 2, shape);
  int32_t ins[2] = {x, y}, outs[1] = {z};
  CHECK_OK(etpu_model_add_op(m, 0, code, NULL, 1, 2, ins, 1, outs, 0, NULL, NULL, 0, NULL));
  CHECK_OK(etpu_model_set_io(m, 0, 2, ins, 1, outs));
  return m;
}

static etpu_micro *check_built(etpu_model *m, etpu_micro_verdict *v) {
  etpu_micro *mc = NULL;
  if (!m) return NULL;
  CHECK_OK(etpu_micro_check(m, 0, &mc));
  if (mc) etpu_micro_summary(mc, v);
  return mc;
}

/* An int8 [1,n] input, RESHAPE to [n], the output: its arena is two
 * planned tensors of n bytes (both live during the op) plus the tail. */
static etpu_model *reshape_model(int32_t n) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  int32_t s2[2] = {1, n}, s1[1] = {n};
  int32_t x = act(m, "x", ETPU_INT8, 2, s2), y = act(m, "y", ETPU_INT8, 1, s1);
  int32_t ins[1] = {x}, outs[1] = {y};
  etpu_option o = {.field = "new_shape", .count = 1, .ints = s1};
  CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, 1, 1, ins, 1, outs, 1, &o, NULL, 0, NULL));
  CHECK_OK(etpu_model_set_io(m, 0, 1, ins, 1, outs));
  return m;
}

static void check_synthetic(void) {
  etpu_micro_verdict v;
  etpu_micro_op o;
  /* an op TFLM lacks altogether */
  etpu_model *m = binary_model(ETPU_OP_BATCH_MATMUL, ETPU_INT8, 4);
  etpu_micro *mc = check_built(m, &v);
  if (mc) {
    CHECK(!v.runs && v.missing_ops == 1 && v.mcu_ops == 1);
    CHECK_OK(etpu_micro_op_info(mc, 0, &o));
    CHECK_MSG(!o.supported && !strcmp(o.reason, "TFLM 24c08505 has no kernel for BATCH_MATMUL"), "%s", o.reason);
    CHECK_MSG(strstr(o.fix, "replace BATCH_MATMUL with ops TFLM has"), "%s", o.fix);
    CHECK_MSG(!strncmp(v.summary, "does not run: TFLM 24c08505 (coralmicro c9f665b0) cannot run 1 of the 1 MCU op "
                                  "(BATCH_MATMUL); memory: fits:",
                       strlen("does not run: TFLM 24c08505 (coralmicro c9f665b0) cannot run 1 of the 1 MCU op "
                              "(BATCH_MATMUL); memory: fits:")),
              "%s", v.summary);
  }
  etpu_micro_free(mc);
  etpu_model_free(m);
  /* DIV: a kernel source, but no Add method in the resolver */
  m = binary_model(ETPU_OP_DIV, ETPU_INT8, 4);
  mc = check_built(m, &v);
  if (mc && etpu_micro_op_info(mc, 0, &o) == ETPU_OK) {
    CHECK(!v.runs && !v.uint8_model);
    CHECK_MSG(strstr(o.reason, "has a DIV kernel source but MicroMutableOpResolver has no Add method"), "%s", o.reason);
    CHECK_MSG(strstr(o.fix, "multiply by the reciprocal (MUL)"), "%s", o.fix);
  }
  etpu_micro_free(mc);
  etpu_model_free(m);
  /* ADD exists for int8 only (and float, int16): fed uint8 */
  m = binary_model(ETPU_OP_ADD, ETPU_UINT8, 4);
  mc = check_built(m, &v);
  if (mc && etpu_micro_op_info(mc, 0, &o) == ETPU_OK) {
    CHECK(!v.runs && v.uint8_model && v.missing_ops == 1);
    CHECK_MSG(!strcmp(o.reason, "TFLM 24c08505 has no uint8 ADD kernel (TFLM removed the uint8 kernels; only QUANTIZE, "
                                "DEQUANTIZE and type-blind data movers take uint8): every uint8 (legacy-quantized) "
                                "model fails there"),
              "%s", o.reason);
    CHECK_MSG(strstr(o.fix, "quantize the float model to int8"), "%s", o.fix);
    CHECK_MSG(strstr(v.summary, "every uint8 (legacy-quantized) model fails in this TFLM"), "%s", v.summary);
  }
  etpu_micro_free(mc);
  etpu_model_free(m);
  /* the same ADD in int8 runs, in OCRAM */
  m = binary_model(ETPU_OP_ADD, ETPU_INT8, 4);
  mc = check_built(m, &v);
  if (mc) CHECK_MSG(v.runs && v.missing_ops == 0 && v.fit == ETPU_MICRO_FITS_SRAM, "%s", v.summary);
  etpu_micro_free(mc);
  etpu_model_free(m);
  /* an arena 16 bytes under and 16 bytes over the OCRAM section */
  m = reshape_model(64 * 1024);
  mc = check_built(m, &v);
  uint64_t tail = v.arena_tail_bytes, sram = v.sram_bytes;
  CHECK(mc && v.arena_head_bytes == 2 * 64 * 1024);
  etpu_micro_free(mc);
  etpu_model_free(m);
  for (int over = 0; over <= 1 && sram; over++) {
    /* head = 2 x n for n a multiple of 16; aim at sram -16 / +16 */
    uint64_t want = over ? sram + 16 : sram - 16;
    int32_t n = (int32_t)((want - tail) / 2);
    n -= n % 16;
    m = reshape_model(n);
    mc = check_built(m, &v);
    if (!mc) {
      etpu_model_free(m);
      continue;
    }
    int64_t diff = (int64_t)v.arena_bytes - (int64_t)sram;
    CHECK_MSG(over ? diff > 0 && diff <= 48 : diff < 0 && diff >= -48, "arena %llu vs OCRAM %llu",
              (unsigned long long)v.arena_bytes, (unsigned long long)sram);
    char want_msg[400];
    if (over) {
      snprintf(want_msg, sizeof want_msg,
               "fits in SDRAM only: the tensor arena (estimated %llu B) does not fit the on-chip OCRAM section (%llu B) "
               "by %lld bytes; place it in SDRAM with STATIC_TENSOR_ARENA_IN_SDRAM",
               (unsigned long long)v.arena_bytes, (unsigned long long)sram, (long long)diff);
      CHECK_MSG(v.runs && v.fit == ETPU_MICRO_FITS_SDRAM, "%s", v.summary);
    } else {
      snprintf(want_msg, sizeof want_msg,
               "fits: the tensor arena (estimated %llu B) fits the on-chip OCRAM section (%llu B, %lld B to spare; "
               "STATIC_TENSOR_ARENA_IN_OCRAM)",
               (unsigned long long)v.arena_bytes, (unsigned long long)sram, (long long)-diff);
      CHECK_MSG(v.runs && v.fit == ETPU_MICRO_FITS_SRAM, "%s", v.summary);
    }
    CHECK_MSG(!strncmp(v.summary, want_msg, strlen(want_msg)), "got '%s', want '%s...'", v.summary, want_msg);
    etpu_micro_free(mc);
    etpu_model_free(m);
  }
  /* past the SDRAM section: does not fit, by how much */
  m = reshape_model(17 << 20);
  mc = check_built(m, &v);
  if (mc) {
    char want_msg[300];
    snprintf(want_msg, sizeof want_msg, "does not fit by %llu bytes: the tensor arena (estimated %llu B) is larger than "
             "the SDRAM section for it (%llu B, m_sdram)",
             (unsigned long long)(v.arena_bytes - v.sdram_bytes), (unsigned long long)v.arena_bytes,
             (unsigned long long)v.sdram_bytes);
    CHECK_MSG(!v.runs && v.fit == ETPU_MICRO_TOO_LARGE && !strcmp(v.summary, want_msg), "%s", v.summary);
  }
  etpu_micro_free(mc);
  etpu_model_free(m);
}

/* ---- latency ----------------------------------------------------------------- */

typedef struct published {
  const char *rel;
  const char *name;   /* Coral's Table 1 row */
  double usb, devboard; /* ms, Table 1 */
  bool fully_mapped;
} published;

static etpu_compilation *compile_rel(const char *rel, etpu_model **m) {
  etpu_compilation *c = NULL;
  CHECK_OK(etpu_model_open(path_of(rel), m));
  if (*m) CHECK_OK(etpu_compile(*m, NULL, &c));
  return c;
}

static void check_latency(void) {
  static const published pub[] = {
      {"coral/mobilenet_v2_1.0_224_quant.tflite", "MobileNet v2 (224x224)", 2.6, 2.6, true},
      {"coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
       "MobileNet v1 (224x224) (our file: the embedding extractor, no FC/softmax head)", 2.4, 2.4, true},
      {"coral/deeplabv3_mnv2_pascal_quant.tflite", "DeepLab V3 (513x513) (8 ops on the CPU)", 52, 241, false},
  };
  printf("\n| model | target | estimate ms | published ms | error | fixed | link | Edge TPU | streamed | CPU |\n");
  printf("|---|---|---|---|---|---|---|---|---|---|\n");
  for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
    etpu_model *m = NULL;
    etpu_compilation *c = compile_rel(pub[i].rel, &m);
    for (int t = 0; c && t < 2; t++) {
      etpu_target target = t ? ETPU_TARGET_DEVBOARD : ETPU_TARGET_USB;
      double want = t ? pub[i].devboard : pub[i].usb;
      etpu_latency l;
      CHECK_OK(etpu_compilation_latency(c, target, &l));
      double e = (l.total_ms - want) / want;
      printf("| %s | %s | %.2f | %.1f | %+.0f%% | %.2f | %.2f | %.2f | %.2f | %.2f |\n", pub[i].name,
             etpu_target_name(target), l.total_ms, want, 100 * e, l.fixed_ms, l.transfer_ms, l.tpu_ms, l.streamed_ms,
             l.cpu_ms);
      CHECK(l.estimated && l.cycles_known && !strcmp(l.cycles_from, "graph"));
      if (pub[i].fully_mapped)
        CHECK_MSG(fabs(e) <= 0.15 && l.cpu_ops == 0, "%s on %s: %.2f ms, published %.1f", pub[i].rel,
                  etpu_target_name(target), l.total_ms, want);
      else
        CHECK(l.cpu_ops == 8 && l.cpu_ms > 0);
    }
    etpu_compilation_free(c);
    etpu_model_free(m);
  }
  /* the graph's cycles against the estimated cycles of Google's package */
  static const struct {
    const char *rel;
    double cycles;
  } cyc[] = {{"coral/mobilenet_v2_1.0_224_quant.tflite", 458040},
             {"coral/mobilenet_edgetpu_0.75_224_post_training_quant.tflite", 689436}};
  for (size_t i = 0; i < 2; i++) {
    etpu_model *m = NULL;
    etpu_compilation *c = compile_rel(cyc[i].rel, &m);
    etpu_latency l;
    if (c && etpu_compilation_latency(c, ETPU_TARGET_USB, &l) == ETPU_OK) {
      double e = ((double)l.cycles - cyc[i].cycles) / cyc[i].cycles;
      printf("cycles %s: %llu from the graph, %.0f in Google's package (%+.1f%%)\n", cyc[i].rel,
             (unsigned long long)l.cycles, cyc[i].cycles, 100 * e);
      CHECK_MSG(fabs(e) <= 0.10, "%s: %llu cycles vs %.0f", cyc[i].rel, (unsigned long long)l.cycles, cyc[i].cycles);
    }
    etpu_compilation_free(c);
    etpu_model_free(m);
  }
  /* a compilation and its compiled file give the same estimate; Google's
   * file a lower bound; the Dev Board Micro none */
  etpu_model *m = NULL;
  etpu_compilation *c = compile_rel("coral/deeplabv3_mnv2_dm05_pascal_quant.tflite", &m);
  if (c) {
    void *bytes = NULL;
    size_t size = 0;
    etpu_model *out = NULL;
    CHECK_OK(etpu_compilation_write(c, 0, &bytes, &size));
    if (bytes) CHECK_OK(etpu_model_open_buffer(bytes, size, "compiled", ETPU_OPEN_COPY, &out));
    etpu_latency a, b;
    CHECK_OK(etpu_compilation_latency(c, ETPU_TARGET_PCIE, &a));
    if (out) {
      CHECK_OK(etpu_model_latency(out, ETPU_TARGET_PCIE, &b));
      CHECK_MSG(fabs(a.total_ms - b.total_ms) < 1e-9 && a.cycles == b.cycles && a.link_bytes == b.link_bytes &&
                    a.cpu_ops == b.cpu_ops && a.edgetpu_ops == b.edgetpu_ops,
                "compilation %.6f ms (%llu cycles, %llu B), compiled file %.6f ms (%llu cycles, %llu B)", a.total_ms,
                (unsigned long long)a.cycles, (unsigned long long)a.link_bytes, b.total_ms,
                (unsigned long long)b.cycles, (unsigned long long)b.link_bytes);
    }
    CHECK(strstr(a.note, "Coral publishes no M.2/PCIe figure") != NULL);
    CHECK_OK(etpu_compilation_latency(c, ETPU_TARGET_DEVBOARD_MICRO, &a));
    CHECK(!a.estimated && strstr(a.note, "no estimate for the Dev Board Micro"));
    etpu_model_free(out);
    etpu_free(bytes);
  }
  etpu_compilation_free(c);
  etpu_model_free(m);
  etpu_model *g = NULL;
  /* a test_data build carries no cycle estimate: a lower bound, with the
   * package's instruction bytes over the link */
  CHECK_OK(etpu_model_open(path_of("coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite"), &g));
  if (g) {
    etpu_latency l;
    CHECK_OK(etpu_model_latency(g, ETPU_TARGET_USB, &l));
    CHECK_MSG(l.estimated && !l.cycles_known && l.total_ms > 0.5 && l.total_ms < 2.6 && strstr(l.note, "lower bound") &&
                  l.link_bytes > 128 * 128 * 3 + 1001,
              "v1 0.25 compiled: %.3f ms, %llu link bytes, note '%s'", l.total_ms, (unsigned long long)l.link_bytes,
              l.note);
    char *t = NULL;
    CHECK_OK(etpu_latency_report(&l, ETPU_REPORT_CONSOLE, &t));
    CHECK(t && strstr(t, "etpu: estimated latency on usb: at least ") && strstr(t, "cycles unknown"));
    etpu_free(t);
  }
  etpu_model_free(g);
  /* an edgetpu-repository build carries estimated_cycles_64bit (EDGETPU.md
   * §20.1: 458,040 for MobileNet v2): used, and the estimate lands within
   * the ±15% of Coral's published 2.6 ms (USB) */
  g = NULL;
  CHECK_OK(etpu_model_open(path_of("coral/mobilenet_v2_1.0_224_quant_edgetpu.tflite"), &g));
  if (g) {
    etpu_latency l;
    CHECK_OK(etpu_model_latency(g, ETPU_TARGET_USB, &l));
    CHECK_MSG(l.estimated && l.cycles_known && l.cycles == 458040 && !strcmp(l.cycles_from, "package") &&
                  fabs(l.total_ms - 2.6) <= 0.15 * 2.6,
              "v2 compiled: %.3f ms from %llu cycles (%s)", l.total_ms, (unsigned long long)l.cycles, l.cycles_from);
  }
  etpu_model_free(g);
}

/* ---- the reports name the target --------------------------------------------- */

static void check_reports(void) {
  etpu_model *m = NULL;
  etpu_compilation *c = compile_rel("coral/deeplabv3_mnv2_dm05_pascal_quant.tflite", &m);
  if (!c) {
    etpu_model_free(m);
    return;
  }
  etpu_report_options ro = {"in.tflite", "out_edgetpu.tflite", "out_edgetpu.log", 1, 2, false, 1.0, -1};
  static const struct {
    etpu_target t;
    const char *console, *json;
  } cases[] = {
      {ETPU_TARGET_USB, "etpu: target usb: USB Accelerator (USB 3.0)", "\"target\": \"usb\""},
      {ETPU_TARGET_DEVBOARD, "etpu: target devboard: Dev Board", "\"target\": \"devboard\""},
      {ETPU_TARGET_DEVBOARD_MICRO, "etpu: target devboard-micro: Dev Board Micro", "\"target\": \"devboard-micro\""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    CHECK_OK(etpu_compilation_set_target(c, cases[i].t));
    char *con = NULL, *log = NULL, *json = NULL;
    CHECK_OK(etpu_compilation_report(c, ETPU_REPORT_CONSOLE, &ro, &con));
    CHECK_OK(etpu_compilation_report(c, ETPU_REPORT_LOG, &ro, &log));
    CHECK_OK(etpu_compilation_report(c, ETPU_REPORT_JSON, &ro, &json));
    CHECK_MSG(con && strstr(con, cases[i].console), "console lacks '%s'", cases[i].console);
    CHECK_MSG(log && strstr(log, cases[i].console), ".log lacks '%s'", cases[i].console);
    CHECK_MSG(json && strstr(json, cases[i].json), "JSON lacks '%s'", cases[i].json);
    if (cases[i].t == ETPU_TARGET_DEVBOARD_MICRO) {
      /* DeepLab's 8 CPU ops: uint8 RESIZE_BILINEAR, CONCATENATION, CONV_2D, ARG_MAX... */
      CHECK(con && strstr(con, "etpu: Dev Board Micro (TFLite Micro 24c08505") && strstr(con, "does not run"));
      CHECK(con && strstr(con, "no uint8 RESIZE_BILINEAR kernel"));
      CHECK(json && strstr(json, "\"devboard_micro\": {\"tflm_commit\": \"24c08505\"") &&
            strstr(json, "\"runs\": false"));
    } else {
      CHECK(con && strstr(con, "etpu: estimated latency on ") && !strstr(con, "Dev Board Micro ("));
      CHECK(json && strstr(json, "\"latency\": {\"target\": ") && !strstr(json, "devboard_micro"));
    }
    etpu_free(con);
    etpu_free(log);
    etpu_free(json);
  }
  etpu_target t;
  CHECK(etpu_target_parse("devboard-micro", &t) == ETPU_OK && t == ETPU_TARGET_DEVBOARD_MICRO);
  CHECK(etpu_target_parse("tpu", &t) == ETPU_INVALID_ARGUMENT && strstr(etpu_errmsg(), "usb, pcie, devboard"));
  CHECK(!strcmp(etpu_target_name(7), "unknown"));
  CHECK(etpu_compilation_set_target(c, (etpu_target)9) == ETPU_INVALID_ARGUMENT);
  etpu_compilation_free(c);
  etpu_model_free(m);
}

/* ---- out of memory ------------------------------------------------------------ */

static long g_budget = -1; /* allocations left before failing; -1: no limit */

static void *oom_malloc(void *user, size_t n) {
  (void)user;
  if (g_budget == 0) return NULL;
  if (g_budget > 0) g_budget--;
  return malloc(n);
}
static void *oom_realloc(void *user, void *p, size_t n) {
  (void)user;
  if (g_budget == 0) return NULL;
  if (g_budget > 0) g_budget--;
  return realloc(p, n);
}
static void oom_free(void *user, void *p) {
  (void)user;
  free(p);
}

/* Fail the Nth allocation of every target call, for every N until they all
 * succeed: each returns ETPU_OK or ETPU_OUT_OF_MEMORY, and ASan sees no
 * leak. */
static void check_oom(void) {
  etpu_model *m = NULL, *out = NULL;
  etpu_compilation *c = compile_rel("coral/keras_lstm_mnist_ptq.tflite", &m);
  void *bytes = NULL;
  size_t size = 0;
  if (c) CHECK_OK(etpu_compilation_write(c, 0, &bytes, &size));
  if (bytes) CHECK_OK(etpu_model_open_buffer(bytes, size, "compiled", ETPU_OPEN_COPY, &out));
  if (!out) goto done;
  etpu_allocator a = {oom_malloc, oom_realloc, oom_free, NULL};
  etpu_report_options ro = {"in.tflite", "out.tflite", "out.log", 1, 2, false, 1.0, -1};
  for (long n = 0; n < 100000; n++) {
    etpu_micro *mc = NULL;
    char *t = NULL, *j = NULL;
    etpu_latency l;
    g_budget = n;
    etpu_set_allocator(&a);
    etpu_status s1 = etpu_micro_check(m, 0, &mc);
    etpu_status s2 = mc ? etpu_micro_report(mc, ETPU_REPORT_CONSOLE, &t) : ETPU_OUT_OF_MEMORY;
    etpu_status s3 = etpu_compilation_set_target(c, ETPU_TARGET_DEVBOARD_MICRO);
    etpu_status s4 = etpu_compilation_report(c, ETPU_REPORT_JSON, &ro, &j);
    etpu_status s5 = etpu_model_latency(out, ETPU_TARGET_USB, &l);
    etpu_status s6 = etpu_compilation_latency(c, ETPU_TARGET_DEVBOARD, &l);
    long left = g_budget;
    etpu_set_allocator(NULL);
    etpu_status all[6] = {s1, s2, s3, s4, s5, s6};
    bool ok = true;
    for (int k = 0; k < 6; k++) {
      CHECK_MSG(all[k] == ETPU_OK || all[k] == ETPU_OUT_OF_MEMORY, "allocation %ld: call %d gave %s", n, k + 1,
                etpu_status_name(all[k]));
      ok &= all[k] == ETPU_OK;
    }
    etpu_free(t);
    etpu_free(j);
    etpu_micro_free(mc);
    if (ok && left > 0) break; /* every allocation succeeded */
  }
  CHECK_OK(etpu_compilation_set_target(c, ETPU_TARGET_USB));
done:
  etpu_model_free(out);
  etpu_free(bytes);
  etpu_compilation_free(c);
  etpu_model_free(m);
}

int main(void) {
  const char *dir = tu_shared_dir();
  if (!dir) return tu_skip_code();
  snprintf(g_dir, sizeof g_dir, "%s", dir);
  check_synthetic();
  check_real_models();
  check_latency();
  check_reports();
  check_oom();
  return tu_finish("test_target");
}
