/*
 * test_package.c — the Edge TPU package reader (etpu_package_read,
 * src/model/package.c) on every Google-compiled model of the shared data
 * and on hand-assembled packages.
 *
 * Shared files: the package must read, hold one PARAMETER_CACHING and one
 * EXECUTION_ONLY executable sharing a caching token, and its parameter byte
 * counts must be the ones EDGETPU.md §20.2 lists (measured independently of
 * this reader); the executable's layers must be the custom op's tensors.
 * Hand-assembled: the 1.0-era layout (bare executables under keys "3" and
 * "4"), etpu's own payload (refused as unsupported), empty and non-map
 * inputs (refused with the label in the message).
 */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct expect {
  const char *path;      /* under shared data */
  uint64_t cached;       /* PARAMETER_CACHING parameter bytes */
  uint64_t streamed;     /* EXECUTION_ONLY parameter bytes */
  int64_t cycles;        /* estimated_cycles_64bit, 0 when absent */
  int32_t min_runtime;   /* Package.min_runtime_version */
} expect;

static const expect kModels[] = {
    {"coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite", 566912, 0, 0, 12},
    {"coral/mobilenet_v1_0.5_160_quant_edgetpu.tflite", 1473280, 0, 0, 12},
    {"coral/mobilenet_v1_0.75_192_quant_edgetpu.tflite", 2777600, 0, 0, 12},
    {"coral/mobilenet_v1_1.0_224_quant_embedding_extractor_edgetpu.tflite", 3363072, 0, 0, 12},
    {"coral/mobilenet_v2_1.0_224_quant_edgetpu.tflite", 3900864, 0, 458040, 12},
    {"coral/legacy/mobilenet_v2_1.0_224_inat_bird_quant_edgetpu.tflite", 3900864, 0, 458040, 12},
    {"coral/mobilenet_edgetpu_0.75_224_post_training_quant_edgetpu.tflite", 3740736, 0, 689436, 12},
    {"coral/deeplabv3_mnv2_dm05_pascal_quant_edgetpu.tflite", 766720, 0, 0, 12},
    {"coral/deeplabv3_mnv2_pascal_quant_edgetpu.tflite", 2337216, 0, 0, 12},
    {"coral/posenet/posenet_mobilenet_v1_075_353_481_16_quant_decoder_edgetpu.tflite", 1444608, 0, 0, 12},
    {"coral/keras_lstm_mnist_ptq_edgetpu.tflite", 43968, 576, 0, 12},
    {"coral/tools/split_concat_edgetpu.tflite", 192, 0, 0, 13},
    {"coral/cocompilation/mobilenet_v1_0.25_128_quant_cocompiled_with_mobilenet_v1_0.5_160_quant_edgetpu.tflite",
     566912, 0, 0, 12},
    {"coral/cocompilation/mobilenet_v1_0.5_160_quant_cocompiled_with_mobilenet_v1_0.25_128_quant_edgetpu.tflite",
     1473280, 0, 0, 12},
};

/* Every tensor of the custom op must be a layer of the executable, by name
 * (keras_lstm's executable also outputs its two state tensors). */
static void check_layers(const etpu_model *m, const int32_t *tensors, uint32_t n, const etpu_pkg_layer *layers,
                         uint32_t nl, const char *path) {
  CHECK_MSG(n <= nl && nl <= n + 2, "%s: %u tensors, %u layers", path, n, nl);
  for (uint32_t i = 0; i < n; i++) {
    etpu_tensor_info t;
    if (etpu_model_tensor(m, 0, (uint32_t)tensors[i], &t) != ETPU_OK) continue;
    bool found = false;
    for (uint32_t k = 0; k < nl; k++) found |= !strcmp(layers[k].name, t.name);
    CHECK_MSG(found, "%s: tensor '%s' has no layer of that name", path, t.name);
  }
}

static void shared_models(const char *dir) {
  for (size_t i = 0; i < sizeof kModels / sizeof kModels[0]; i++) {
    const expect *x = &kModels[i];
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, x->path);
    etpu_model *m;
    CHECK_OK(etpu_model_open(path, &m));
    if (tu_failures) return;
    etpu_package *p = NULL;
    CHECK_OK(etpu_model_package(m, 0, 0, &p));
    if (!p) {
      etpu_model_free(m);
      continue;
    }
    CHECK_MSG(!p->legacy && p->executable_count == 2, "%s: layout %d, %u executables", path, p->legacy,
              p->executable_count);
    CHECK_MSG(p->min_runtime_version == x->min_runtime, "%s: min runtime %d", path, p->min_runtime_version);
    CHECK_MSG(etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING) == x->cached, "%s: cached %llu", path,
              (unsigned long long)etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING));
    CHECK_MSG(etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY) == x->streamed, "%s: streamed %llu", path,
              (unsigned long long)etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY));
    CHECK_MSG(etpu_package_estimated_cycles(p) == x->cycles, "%s: cycles %lld", path,
              (long long)etpu_package_estimated_cycles(p));
    const etpu_pkg_executable *run = NULL, *cache = NULL;
    for (uint32_t k = 0; k < p->executable_count; k++) {
      const etpu_pkg_executable *e = &p->executables[k];
      if (e->type == ETPU_PKG_EXECUTION_ONLY) run = e;
      if (e->type == ETPU_PKG_PARAMETER_CACHING) cache = e;
      CHECK_MSG(!strcmp(e->chip, "beagle") && e->batch_size == 1, "%s: chip '%s' batch %d", path, e->chip,
                e->batch_size);
      CHECK(e->bitstream_count >= 1 && e->instruction_bytes > 0 && e->dma_hint_count > 0);
      CHECK(e->used_narrow_memory_bytes_per_tile >= 0 && e->used_narrow_memory_bytes_per_tile <= 196608);
    }
    CHECK_MSG(run && cache, "%s: no EXECUTION_ONLY + PARAMETER_CACHING pair", path);
    if (run && cache) {
      CHECK(run->parameter_caching_token == cache->parameter_caching_token && run->parameter_caching_token != 0);
      CHECK(cache->parameters && cache->parameters_size == x->cached);
      etpu_op_info op;
      CHECK_OK(etpu_model_op(m, 0, 0, &op));
      check_layers(m, op.inputs, op.input_count, run->inputs, run->input_count, path);
      check_layers(m, op.outputs, op.output_count, run->outputs, run->output_count, path);
      for (uint32_t k = 0; k < run->output_count; k++) CHECK(run->outputs[k].is_output);
    }
    etpu_package_free(p);
    etpu_model_free(m);
  }
}

/* ---- hand-assembled packages ------------------------------------------------ */

typedef struct bytes {
  uint8_t b[4096];
  size_t n;
} bytes;

static size_t put(bytes *o, const void *p, size_t n) {
  size_t at = o->n;
  memcpy(o->b + o->n, p, n);
  o->n += n;
  return at;
}
static size_t put32(bytes *o, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  return put(o, b, 4);
}
static void put16(bytes *o, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  put(o, b, 2);
}
static void pad4(bytes *o) {
  while (o->n & 3) o->b[o->n++] = 0;
}
static void set32(bytes *o, size_t at, uint32_t v) {
  for (int i = 0; i < 4; i++) o->b[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

/* An Executable FlatBuffer with batch_size 1, `nparams` parameter bytes,
 * chip "beagle" and the given type (ids 3, 6, 10, 13). Returns its length
 * without the final padding. */
static size_t executable(bytes *o, int16_t type, uint32_t nparams) {
  o->n = 0;
  put32(o, 0); /* root offset, set below */
  const size_t vt = o->n;
  put16(o, 4 + 2 * 14); /* vtable: ids 0..13 */
  put16(o, 20);         /* table: soffset, batch, params, chip, type, pad */
  const uint16_t slots[14] = {0, 0, 0, 4, 0, 0, 8, 0, 0, 0, 12, 0, 0, 16};
  for (int i = 0; i < 14; i++) put16(o, slots[i]);
  pad4(o);
  const size_t t = put32(o, 0);
  set32(o, t, (uint32_t)(t - vt)); /* soffset: vtable = table - soffset */
  set32(o, 0, (uint32_t)t);
  put32(o, 1);                      /* batch_size */
  const size_t params = put32(o, 0); /* uoffset, set below */
  const size_t chip = put32(o, 0);
  put16(o, (uint16_t)type);
  put16(o, 0);
  set32(o, params, (uint32_t)(o->n - params));
  put32(o, nparams);
  for (uint32_t i = 0; i < nparams; i++) o->b[o->n++] = (uint8_t)i;
  pad4(o);
  set32(o, chip, (uint32_t)(o->n - chip));
  put32(o, 6);
  put(o, "beagle", 7);
  const size_t end = o->n;
  pad4(o);
  return end; /* the bytes that matter; the padding after them does not */
}

/* A FlexBuffers map {"1": 0, "3": s3 (if any), "4": s4} with 4-byte widths. */
static void options(bytes *o, const bytes *s3, const bytes *s4) {
  o->n = 0;
  const size_t k1 = put(o, "1", 2), k3 = put(o, "3", 2), k4 = put(o, "4", 2);
  pad4(o);
  size_t d3 = 0, d4;
  if (s3) {
    put32(o, (uint32_t)s3->n);
    d3 = put(o, s3->b, s3->n);
    o->b[o->n++] = 0;
    pad4(o);
  }
  put32(o, (uint32_t)s4->n);
  d4 = put(o, s4->b, s4->n);
  o->b[o->n++] = 0;
  pad4(o);
  const uint32_t n = s3 ? 3 : 2;
  put32(o, n); /* keys vector */
  const size_t keys = o->n;
  const size_t kk[3] = {k1, s3 ? k3 : k4, k4};
  for (uint32_t i = 0; i < n; i++) {
    size_t at = o->n;
    put32(o, (uint32_t)(at - kk[i]));
  }
  const size_t kv = put32(o, 0);
  put32(o, 4); /* keys width */
  put32(o, n);
  set32(o, kv, (uint32_t)(kv - keys));
  const size_t map = o->n;
  put32(o, 0); /* "1": 0 */
  if (s3) {
    size_t at = o->n;
    put32(o, (uint32_t)(at - d3));
  }
  size_t at4 = o->n;
  put32(o, (uint32_t)(at4 - d4));
  o->b[o->n++] = 1 << 2 | 2; /* INT, width 4 */
  if (s3) o->b[o->n++] = 5 << 2 | 2; /* STRING, length width 4 */
  o->b[o->n++] = 5 << 2 | 2;
  const size_t root = o->n;
  put32(o, (uint32_t)(root - map));
  o->b[o->n++] = 9 << 2 | 2; /* MAP */
  o->b[o->n++] = 4;
}

static void hand_assembled(void) {
  static bytes e3, e4, opt;
  executable(&e3, ETPU_PKG_PARAMETER_CACHING, 100);
  executable(&e4, ETPU_PKG_EXECUTION_ONLY, 3);
  options(&opt, &e3, &e4);
  etpu_package *p = NULL;
  CHECK_OK(etpu_package_read(opt.b, opt.n, "legacy", &p));
  if (p) {
    CHECK(p->legacy && p->executable_count == 2);
    CHECK(p->executables[0].type == ETPU_PKG_PARAMETER_CACHING && p->executables[0].parameters_size == 100);
    CHECK(p->executables[1].type == ETPU_PKG_EXECUTION_ONLY && p->executables[1].parameters_size == 3);
    CHECK(!strcmp(p->executables[0].chip, "beagle") && p->executables[1].batch_size == 1);
    CHECK(p->executables[0].parameters[99] == 99);
    CHECK(etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING) == 100);
    CHECK(etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY) == 3);
    CHECK(etpu_package_estimated_cycles(p) == 0);
    etpu_package_free(p);
  }
  /* Only key "4": one stand-alone-typed executable. */
  executable(&e4, ETPU_PKG_STAND_ALONE, 5);
  options(&opt, NULL, &e4);
  p = NULL;
  CHECK_OK(etpu_package_read(opt.b, opt.n, "legacy1", &p));
  if (p) {
    CHECK(p->legacy && p->executable_count == 1 && p->executables[0].type == ETPU_PKG_STAND_ALONE);
    CHECK(etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY) == 5); /* streamed */
    etpu_package_free(p);
  }
  /* An unknown executable type is refused, naming the rule. */
  executable(&e4, 7, 1);
  options(&opt, NULL, &e4);
  etpu_package *const sentinel = (etpu_package *)(uintptr_t)0x1234;
  p = sentinel;
  CHECK(etpu_package_read(opt.b, opt.n, "badtype", &p) == ETPU_MALFORMED && p == sentinel);
  CHECK(strstr(etpu_errmsg(), "badtype") && strstr(etpu_errmsg(), "type 7"));
  /* Every truncation of the executable inside the map is refused cleanly. */
  const size_t end = executable(&e4, ETPU_PKG_EXECUTION_ONLY, 3);
  for (size_t cut = 0; cut < end; cut++) {
    bytes short_exe = e4;
    short_exe.n = cut;
    options(&opt, NULL, &short_exe);
    p = sentinel;
    etpu_status st = etpu_package_read(opt.b, opt.n, "cut", &p);
    CHECK_MSG(st == ETPU_MALFORMED && p == sentinel, "cut at %zu: %s", cut, etpu_status_name(st));
  }
  /* etpu's own payload, an empty buffer, a non-map. */
  static const char sim[64] = "ETPUSIM1";
  CHECK(etpu_package_read(sim, sizeof sim, "ours", &p) == ETPU_UNSUPPORTED && strstr(etpu_errmsg(), "ours"));
  CHECK(etpu_package_read("", 0, "empty", &p) == ETPU_MALFORMED && strstr(etpu_errmsg(), "empty"));
  static const uint8_t scalar[3] = {7, 1 << 2, 1}; /* root: INT 7 */
  CHECK(etpu_package_read(scalar, sizeof scalar, "scalar", &p) == ETPU_MALFORMED && strstr(etpu_errmsg(), "scalar"));
  CHECK(etpu_package_read(NULL, 4, "null", &p) == ETPU_INVALID_ARGUMENT);
}

static void formatting(void) {
  char b[32];
  CHECK(!strcmp(etpu_format_bytes(0, b, sizeof b), "0.00B"));
  CHECK(!strcmp(etpu_format_bytes(576, b, sizeof b), "576.00B"));
  CHECK(!strcmp(etpu_format_bytes(42752, b, sizeof b), "41.75KiB"));
  CHECK(!strcmp(etpu_format_bytes(3900864, b, sizeof b), "3.72MiB"));
  CHECK(!strcmp(etpu_format_bytes(566912, b, sizeof b), "553.62KiB"));
  CHECK(!strcmp(etpu_pkg_exe_type_name(1), "PARAMETER_CACHING") && !strcmp(etpu_pkg_exe_type_name(9), "UNKNOWN"));
  CHECK(!strcmp(etpu_pkg_dtype_name(9), "SIGNED_FIXED_POINT16") && !strcmp(etpu_pkg_dtype_name(6), "UNKNOWN"));
}

/* The one 1.0-era file: bare executables under keys "3" and "4", no type or
 * chip fields (the keys give them), the same parameter bytes as the later
 * build of MobileNet v1 1.0 (3,363,072). */
static void legacy_file(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/coral/tools/mobilenet_quant_v1_224_feature_layers-custom_op.tflite", dir);
  etpu_model *m;
  CHECK_OK(etpu_model_open(path, &m));
  if (tu_failures) return;
  etpu_package *p = NULL;
  CHECK_OK(etpu_model_package(m, 0, 0, &p));
  if (p) {
    CHECK(p->legacy && p->executable_count == 2);
    CHECK(etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING) == 3363072);
    CHECK(etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY) == 0);
    const etpu_pkg_executable *e = &p->executables[1];
    CHECK(e->type == ETPU_PKG_EXECUTION_ONLY && !strcmp(e->chip, "beagle"));
    CHECK(e->input_count == 1 && !strcmp(e->inputs[0].name, "input") && e->inputs[0].zero_point == 128);
    CHECK(e->output_count == 1 && e->outputs[0].is_output && e->outputs[0].z_dim == 1024);
    etpu_package_free(p);
  }
  etpu_model_free(m);
}

/* Co-compiled models share a parameter caching token across files (and
 * their separately compiled builds do not): the way to recognise them. */
static uint64_t token_of(const char *dir, const char *rel) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, rel);
  etpu_model *m;
  etpu_package *p = NULL;
  uint64_t tok = 0;
  CHECK_OK(etpu_model_open(path, &m));
  if (tu_failures) return 0;
  CHECK_OK(etpu_model_package(m, 0, 0, &p));
  if (p) tok = p->executables[0].parameter_caching_token;
  etpu_package_free(p);
  etpu_model_free(m);
  return tok;
}

static void cocompiled(const char *dir) {
  const uint64_t a = token_of(dir, kModels[12].path), b = token_of(dir, kModels[13].path);
  const uint64_t a1 = token_of(dir, kModels[0].path), b1 = token_of(dir, kModels[1].path);
  CHECK(a && a == b);
  CHECK(a1 != a && b1 != b && a1 != b1);
}

int main(void) {
  hand_assembled();
  formatting();
  const char *dir = tu_shared_dir();
  if (!dir) {
    tu_finish("test_package");
    return tu_skip_code();
  }
  shared_models(dir);
  legacy_file(dir);
  cocompiled(dir);
  return tu_finish("test_package");
}
