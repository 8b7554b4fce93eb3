/*
 * test_metadata.c — input normalization from TensorFlow Lite metadata
 * (etpu_model_input_normalization, src/model/metadata.c).
 *
 * Part 1 (needs shared data, else exit 77): the values the shared models'
 * TFLITE_METADATA records, checked against what was read from them by an
 * independent script when this test was written (DeepLab v3 and the
 * MobileNets: mean 127.5, std 127.5; dilated_conv: 0 and 1), a model without
 * metadata, bad arguments, and every input of every shared model answering
 * ETPU_OK.
 *
 * Part 2 (no data needed): hostile metadata buffers, each read from an
 * exact-size heap copy so ASan sees any over-read. A small hand-built M001
 * buffer covers the semantics (per-channel values, broadcast, a unit of
 * another type before the normalization, mismatched lengths, std 0, NaN);
 * then it and DeepLab's real buffer (when present) are truncated at every
 * length and have every byte replaced by several values, and chosen
 * offsets, vtables, vector lengths and the identifier are broken. Every
 * result must be ETPU_OK with sane values, or ETPU_MALFORMED /
 * ETPU_UNSUPPORTED with a message naming TFLITE_METADATA.
 *
 * Part 3: etpu_model_set_input_normalization on a two-input model without
 * metadata (each input in turn, bad arguments, the same values twice), read
 * back after a write and reopen, the written buffer damaged as in part 2;
 * and on DeepLab (its own values change nothing; others replace them).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "model/metadata.h"
#include "testutil.h"

/* ---- part 1: shared models ---------------------------------------------- */

typedef struct expect {
  const char *path;
  float mean, std; /* count 1 each; std 0 = no normalization recorded */
} expect;

static const expect shared_expect[] = {
    {"float/deeplabv3.tflite", 127.5f, 127.5f},
    {"float/dilated_conv.tflite", 0.0f, 1.0f},
    {"float/mobilenet_v1_0.25_224_quant.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v1_0.25_128_quant.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v1_0.5_160_quant.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v1_0.75_192_quant.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v2_1.0_224_inat_bird_quant.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v2_1.0_224_inat_insect_quant.tflite", 127.5f, 127.5f},
    {"coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v1_0.25_128_quant_edgetpu.tflite", 127.5f, 127.5f},
    {"coral/mobilenet_v2_1.0_224_quant.tflite", 0.0f, 0.0f}, /* no TFLITE_METADATA */
};

static void test_shared(const char *dir) {
  char path[4096];
  for (size_t k = 0; k < sizeof shared_expect / sizeof shared_expect[0]; k++) {
    const expect *e = &shared_expect[k];
    snprintf(path, sizeof path, "%s/%s", dir, e->path);
    etpu_model *m = NULL;
    CHECK_OK(etpu_model_open(path, &m));
    if (!m) continue;
    float mean[4] = {-1, -1, -1, -1}, std[4] = {-1, -1, -1, -1};
    uint32_t count = 99;
    CHECK_OK(etpu_model_input_normalization(m, 0, 4, mean, std, &count));
    if (e->std == 0) {
      CHECK_MSG(count == 0, "%s: count %u, expected none", e->path, count);
    } else {
      CHECK_MSG(count == 1 && mean[0] == e->mean && std[0] == e->std, "%s: count %u mean %g std %g, expected %g %g",
                e->path, count, mean[0], std[0], e->mean, e->std);
      printf("%s: mean %g, std %g\n", e->path, mean[0], std[0]);
      /* cap 0: too small, outputs untouched. */
      float m0 = 42, s0 = 42;
      uint32_t c0 = 7;
      CHECK(etpu_model_input_normalization(m, 0, 0, &m0, &s0, &c0) == ETPU_INVALID_ARGUMENT);
      CHECK(m0 == 42 && s0 == 42 && c0 == 7);
      CHECK(strstr(etpu_errmsg(), "1 values") != NULL);
    }
    /* No input 1; NULL count. */
    CHECK(etpu_model_input_normalization(m, 1, 4, mean, std, &count) == ETPU_INVALID_ARGUMENT);
    CHECK(etpu_model_input_normalization(m, 0, 4, mean, std, NULL) == ETPU_INVALID_ARGUMENT);
    etpu_model_free(m);
  }
  CHECK(etpu_model_input_normalization(NULL, 0, 0, NULL, NULL, NULL) == ETPU_INVALID_ARGUMENT);

  /* Every input of every shared model: the metadata there is all readable. */
  char **paths = NULL;
  size_t n = tu_list_models(dir, &paths), found = 0;
  for (size_t i = 0; i < n; i++) {
    etpu_model *m = NULL;
    if (etpu_model_open(paths[i], &m) != ETPU_OK) continue; /* the invalid_models corpus */
    for (uint32_t in = 0; in < etpu_model_input_count(m, 0); in++) {
      float mean[64], std[64];
      uint32_t count = 0;
      etpu_status st = etpu_model_input_normalization(m, in, 64, mean, std, &count);
      CHECK_MSG(st == ETPU_OK, "%s input %u: %s", paths[i], in, etpu_errmsg());
      found += st == ETPU_OK && count > 0;
    }
    etpu_model_free(m);
  }
  tu_free_list(paths, n);
  printf("%zu shared model input(s) carry a normalization\n", found);
  CHECK(found >= 10);
}

/* ---- part 2: hostile buffers --------------------------------------------- */

/* A forward-only FlatBuffer layout: every object is placed after the field
 * that points to it, so each uoffset is positive. */
typedef struct mb {
  uint8_t d[1024];
  uint32_t n;
} mb;

static uint32_t mb_align(mb *b, uint32_t a) {
  while (b->n % a) b->d[b->n++] = 0;
  return b->n;
}

/* A vtable, then a table of nfields 4-byte slots (field k at inline offset
 * 4 + 4k); fields not in mask are absent. Returns the table's position. */
static uint32_t mb_table(mb *b, unsigned nfields, unsigned mask) {
  uint32_t vt = mb_align(b, 2);
  etpu_wr16(b->d + vt, (uint16_t)(4 + 2 * nfields));
  etpu_wr16(b->d + vt + 2, (uint16_t)(4 + 4 * nfields));
  for (unsigned k = 0; k < nfields; k++) etpu_wr16(b->d + vt + 4 + 2 * k, (mask >> k & 1) ? (uint16_t)(4 + 4 * k) : 0);
  b->n = vt + 4 + 2 * nfields;
  uint32_t t = mb_align(b, 4);
  etpu_wr32(b->d + t, t - vt); /* soffset: vtable = table - soffset */
  memset(b->d + t + 4, 0, 4 * nfields);
  b->n = t + 4 + 4 * nfields;
  return t;
}

static void mb_ref(mb *b, uint32_t at, uint32_t target) { etpu_wr32(b->d + at, target - at); }

/* A vector of n uoffsets (filled by mb_ref later). */
static uint32_t mb_tvec(mb *b, uint32_t n) {
  uint32_t v = mb_align(b, 4);
  etpu_wr32(b->d + v, n);
  b->n = v + 4 + 4 * n;
  return v;
}

static uint32_t mb_fvec(mb *b, const float *f, uint32_t n) {
  uint32_t v = mb_align(b, 4);
  etpu_wr32(b->d + v, n);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &f[i], 4);
    etpu_wr32(b->d + v + 4 + 4 * i, u);
  }
  b->n = v + 4 + 4 * n;
  return v;
}

/* Positions of interest in a built buffer, for targeted damage. */
typedef struct layout {
  uint32_t mm, sgvec, sg, invec, tm, puvec, pu, no, mvec, svec;
} layout;

/* ModelMetadata{subgraph_metadata: [{input_tensor_metadata: [{process_units:
 * [ScoreThresholding?, Normalization{mean, std}]}]}]}. */
static void build(mb *b, const float *mean, uint32_t mn, const float *std, uint32_t sn, int other_first, layout *l) {
  memset(b, 0, sizeof *b);
  b->n = 8;
  memcpy(b->d + 4, "M001", 4);
  l->mm = mb_table(b, 4, 1u << 3);
  etpu_wr32(b->d, l->mm);
  l->sgvec = mb_tvec(b, 1);
  mb_ref(b, l->mm + 4 + 4 * 3, l->sgvec);
  l->sg = mb_table(b, 3, 1u << 2);
  mb_ref(b, l->sgvec + 4, l->sg);
  l->invec = mb_tvec(b, 1);
  mb_ref(b, l->sg + 4 + 4 * 2, l->invec);
  l->tm = mb_table(b, 5, 1u << 4);
  mb_ref(b, l->invec + 4, l->tm);
  l->puvec = mb_tvec(b, other_first ? 2 : 1);
  mb_ref(b, l->tm + 4 + 4 * 4, l->puvec);
  if (other_first) {
    uint32_t pu = mb_table(b, 2, 3);
    mb_ref(b, l->puvec + 4, pu);
    b->d[pu + 4] = 3; /* ScoreThresholdingOptions */
    uint32_t opt = mb_table(b, 1, 1);
    mb_ref(b, pu + 8, opt);
    etpu_wr32(b->d + opt + 4, 0x3f000000u); /* global_score_threshold 0.5 */
  }
  l->pu = mb_table(b, 2, 3);
  mb_ref(b, l->puvec + 4 + (other_first ? 4 : 0), l->pu);
  b->d[l->pu + 4] = 1; /* NormalizationOptions */
  l->no = mb_table(b, 2, 3);
  mb_ref(b, l->pu + 8, l->no);
  l->mvec = mb_fvec(b, mean, mn);
  mb_ref(b, l->no + 4, l->mvec);
  l->svec = mb_fvec(b, std, sn);
  mb_ref(b, l->no + 8, l->svec);
}

/* Read from an exact-size heap copy; check the result is clean. */
static etpu_status probe(const uint8_t *data, size_t size, uint32_t input, uint32_t *count_out, float *mean_out,
                         float *std_out) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) abort();
  if (size) memcpy(copy, data, size);
  float mean[8], std[8];
  uint32_t count = 12345;
  etpu_status st = etpu_meta_input_normalization(size ? copy : NULL, size, "hostile", input, 8, mean, std, &count);
  free(copy);
  if (st == ETPU_OK) {
    CHECK(count <= 8);
    for (uint32_t c = 0; c < count && c < 8; c++) CHECK(isfinite(mean[c]) && isfinite(std[c]) && std[c] > 0);
    if (count_out) *count_out = count;
    if (mean_out && count) *mean_out = mean[0];
    if (std_out && count) *std_out = std[0];
  } else {
    CHECK_MSG(st == ETPU_MALFORMED || st == ETPU_UNSUPPORTED || st == ETPU_INVALID_ARGUMENT, "status %s",
              etpu_status_name(st));
    CHECK_MSG(strstr(etpu_errmsg(), "hostile: TFLITE_METADATA: ") != NULL, "message: %s", etpu_errmsg());
    CHECK(count == 12345);
  }
  return st;
}

/* Truncate at every length and replace every byte by several values. */
static void damage_all(const uint8_t *data, size_t size, const char *what) {
  size_t ok = 0, failed = 0;
  for (size_t len = 0; len < size; len++) probe(data, len, 0, NULL, NULL, NULL) == ETPU_OK ? ok++ : failed++;
  uint8_t *m = malloc(size);
  if (!m) abort();
  static const uint8_t vals[] = {0x00, 0xff, 0x80, 0x01, 0x7f, 0x04};
  for (size_t i = 0; i < size; i++)
    for (size_t v = 0; v < sizeof vals + 2; v++) {
      memcpy(m, data, size);
      m[i] = v < sizeof vals ? vals[v] : (uint8_t)(data[i] + (v == sizeof vals ? 1 : 0xfc));
      if (m[i] == data[i]) continue;
      probe(m, size, 0, NULL, NULL, NULL) == ETPU_OK ? ok++ : failed++;
    }
  free(m);
  printf("%s (%zu bytes): %zu damaged variants read OK, %zu refused\n", what, size, ok, failed);
}

static void test_hostile(const char *dir) {
  mb b;
  layout l;
  uint32_t count = 0;
  float m0 = 0, s0 = 0;

  /* The semantics. */
  const float one_m[] = {127.5f}, one_s[] = {127.5f};
  build(&b, one_m, 1, one_s, 1, 0, &l);
  CHECK(probe(b.d, b.n, 0, &count, &m0, &s0) == ETPU_OK && count == 1 && m0 == 127.5f && s0 == 127.5f);
  CHECK(probe(b.d, b.n, 1, &count, NULL, NULL) == ETPU_OK && count == 0); /* no metadata for input 1 */
  const float three_m[] = {123.675f, 116.28f, 103.53f}, three_s[] = {58.395f, 57.12f, 57.375f};
  build(&b, three_m, 3, three_s, 3, 1, &l);
  {
    float mean[3], std[3];
    CHECK_OK(etpu_meta_input_normalization(b.d, b.n, "hostile", 0, 3, mean, std, &count));
    CHECK(count == 3 && mean[2] == 103.53f && std[1] == 57.12f);
    CHECK(etpu_meta_input_normalization(b.d, b.n, "hostile", 0, 2, mean, std, &count) == ETPU_INVALID_ARGUMENT);
  }
  build(&b, one_m, 1, three_s, 3, 0, &l); /* one mean for every channel */
  {
    float mean[3], std[3];
    CHECK_OK(etpu_meta_input_normalization(b.d, b.n, "hostile", 0, 3, mean, std, &count));
    CHECK(count == 3 && mean[0] == 127.5f && mean[2] == 127.5f && std[2] == 57.375f);
  }
  build(&b, three_m, 2, three_s, 3, 0, &l);
  CHECK(probe(b.d, b.n, 0, NULL, NULL, NULL) == ETPU_MALFORMED);
  const float zero_s[] = {0.0f}, nan_m[] = {NAN};
  build(&b, one_m, 1, zero_s, 1, 0, &l);
  CHECK(probe(b.d, b.n, 0, NULL, NULL, NULL) == ETPU_MALFORMED);
  build(&b, nan_m, 1, one_s, 1, 0, &l);
  CHECK(probe(b.d, b.n, 0, NULL, NULL, NULL) == ETPU_MALFORMED);
  build(&b, one_m, 0, one_s, 1, 0, &l); /* empty mean */
  CHECK(probe(b.d, b.n, 0, NULL, NULL, NULL) == ETPU_MALFORMED);

  /* Targeted damage on the per-channel buffer with a unit before it. */
  build(&b, three_m, 3, three_s, 3, 1, &l);
  mb c;
#define DAMAGE(stmt, want)                                                                  \
  do {                                                                                      \
    c = b;                                                                                  \
    stmt;                                                                                   \
    etpu_status st_ = probe(c.d, c.n, 0, NULL, NULL, NULL);                                 \
    CHECK_MSG(st_ == (want), "%s: got %s (%s)", #stmt, etpu_status_name(st_), etpu_errmsg()); \
  } while (0)
  DAMAGE(memcpy(c.d + 4, "M002", 4), ETPU_UNSUPPORTED);
  DAMAGE(memcpy(c.d + 4, "TFL3", 4), ETPU_UNSUPPORTED);
  DAMAGE(etpu_wr32(c.d, 0xffffffffu), ETPU_MALFORMED);             /* root past the end */
  DAMAGE(etpu_wr32(c.d, l.mm + 2), ETPU_MALFORMED);                /* root misaligned */
  DAMAGE(etpu_wr32(c.d, c.n - 2), ETPU_MALFORMED);                 /* root table cut by the end */
  DAMAGE(etpu_wr32(c.d + l.mm, 0x80000000u), ETPU_MALFORMED);      /* soffset: vtable below 0 */
  DAMAGE(etpu_wr32(c.d + l.mm, (uint32_t)-0x10000), ETPU_MALFORMED); /* vtable past the end */
  DAMAGE(etpu_wr16(c.d + l.mm - 12, 0xfffe), ETPU_MALFORMED);      /* vtable size past the end */
  DAMAGE(etpu_wr16(c.d + l.mm - 10, 0xfff0), ETPU_MALFORMED);      /* inline size past the end */
  DAMAGE(etpu_wr32(c.d + l.mm + 16, 0), ETPU_MALFORMED);           /* uoffset 0 */
  DAMAGE(etpu_wr32(c.d + l.mm + 16, 0x7ffffffcu), ETPU_MALFORMED); /* uoffset past the end */
  DAMAGE(etpu_wr32(c.d + l.mm + 16, c.n - (l.mm + 16)), ETPU_MALFORMED); /* uoffset to exactly the end */
  DAMAGE(etpu_wr32(c.d + l.sgvec, 0xffffffffu), ETPU_MALFORMED);   /* huge vector lengths */
  DAMAGE(etpu_wr32(c.d + l.invec, 0x40000000u), ETPU_MALFORMED);
  DAMAGE(etpu_wr32(c.d + l.puvec, 0x40000001u), ETPU_MALFORMED);
  DAMAGE(etpu_wr32(c.d + l.mvec, 0xffffffffu), ETPU_MALFORMED);
  DAMAGE(etpu_wr32(c.d + l.svec, 4), ETPU_MALFORMED);              /* one float past the end */
  DAMAGE(etpu_wr32(c.d + l.svec, 2), ETPU_MALFORMED);              /* 3 means, 2 stds */
  DAMAGE(etpu_wr32(c.d + l.invec, 0), ETPU_OK);                    /* no input metadata: none */
  DAMAGE(etpu_wr32(c.d + l.puvec + 4, 1), ETPU_MALFORMED);         /* element offset into the vector */
  DAMAGE(c.d[l.pu + 4] = 2, ETPU_OK);                              /* ScoreCalibration: none */
  DAMAGE(etpu_wr32(c.d + l.pu + 8, 0), ETPU_MALFORMED);            /* union value offset 0 */
  DAMAGE(c.n = l.svec + 4 + 8, ETPU_MALFORMED);                    /* truncated in the std values */
#undef DAMAGE

  damage_all(b.d, b.n, "hand-built metadata");

  /* DeepLab's real metadata buffer. */
  if (!dir) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/float/deeplabv3.tflite", dir);
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_open(path, &m));
  if (!m) return;
  for (uint32_t i = 0; i < etpu_model_metadata_count(m); i++) {
    const char *name;
    const void *data;
    size_t size;
    CHECK_OK(etpu_model_metadata(m, i, &name, &data, &size));
    if (strcmp(name, "TFLITE_METADATA") != 0) continue;
    CHECK(probe(data, size, 0, &count, &m0, &s0) == ETPU_OK && count == 1 && m0 == 127.5f);
    damage_all(data, size, "deeplabv3 TFLITE_METADATA");
  }
  etpu_model_free(m);
}

/* ---- part 3: writing (etpu_model_set_input_normalization) --------------- */

/* Serialize and reopen, so what is checked is what a reader of the file sees. */
static etpu_model *reopen(const etpu_model *m, void **bytes) {
  size_t size = 0;
  etpu_model *r = NULL;
  *bytes = NULL;
  CHECK_OK(etpu_model_write_buffer(m, ETPU_WRITE_COMPACT, bytes, &size));
  if (*bytes) CHECK_OK(etpu_model_open_buffer(*bytes, size, "rewritten", 0, &r));
  return r;
}

static void expect_norm(const etpu_model *m, uint32_t input, uint32_t want_count, float mean, float std) {
  float mv[4] = {0}, sv[4] = {0};
  uint32_t n = 99;
  CHECK_MSG(etpu_model_input_normalization(m, input, 4, mv, sv, &n) == ETPU_OK && n == want_count &&
                (n == 0 || (mv[0] == mean && sv[0] == std)),
            "input %u: %u values (want %u), mean %g std %g (want %g, %g): %s", input, n, want_count, (double)mv[0],
            (double)sv[0], (double)mean, (double)std, etpu_errmsg());
}

static void test_write(const char *dir) {
  /* A two-input model without metadata: record input 1, then input 0. */
  etpu_model *m = NULL;
  int32_t a = -1, b = -1, c = -1;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return;
  const int32_t shape[4] = {1, 2, 2, 3};
  CHECK_OK(etpu_model_add_tensor(m, 0, "a", ETPU_FLOAT32, 4, shape, NULL, NULL, 0, &a));
  CHECK_OK(etpu_model_add_tensor(m, 0, "b", ETPU_FLOAT32, 4, shape, NULL, NULL, 0, &b));
  CHECK_OK(etpu_model_add_tensor(m, 0, "c", ETPU_FLOAT32, 4, shape, NULL, NULL, 0, &c));
  CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_ADD, NULL, 1, 2, (int32_t[]){a, b}, 1, (int32_t[]){c}, 0, NULL, NULL, 0, NULL));
  CHECK_OK(etpu_model_set_io(m, 0, 2, (int32_t[]){a, b}, 1, (int32_t[]){c}));
  bool changed = false;
  CHECK(etpu_model_set_input_normalization(m, 2, 0.0f, 1.0f, &changed) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_model_set_input_normalization(m, 0, 0.0f, 0.0f, &changed) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_model_set_input_normalization(m, 0, NAN, 1.0f, &changed) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_model_set_input_normalization(m, 1, 127.5f, 127.5f, &changed) == ETPU_OK && changed);
  expect_norm(m, 0, 0, 0, 0);
  expect_norm(m, 1, 1, 127.5f, 127.5f);
  CHECK(etpu_model_set_input_normalization(m, 0, 0.0f, 255.0f, &changed) == ETPU_OK && changed);
  CHECK(etpu_model_set_input_normalization(m, 0, 0.0f, 255.0f, &changed) == ETPU_OK && !changed);
  void *bytes = NULL;
  etpu_model *r = reopen(m, &bytes);
  if (r) {
    expect_norm(r, 0, 1, 0.0f, 255.0f);
    expect_norm(r, 1, 1, 127.5f, 127.5f);
    CHECK(etpu_model_metadata_count(r) == 1);
    const char *name = NULL;
    const void *data = NULL;
    size_t size = 0;
    CHECK_OK(etpu_model_metadata(r, 0, &name, &data, &size));
    CHECK(name && !strcmp(name, "TFLITE_METADATA") && size > 8 && !memcmp((const uint8_t *)data + 4, "M001", 4));
    /* The written buffer survives the hostile-buffer treatment too. */
    if (data) damage_all(data, size, "written TFLITE_METADATA");
  }
  etpu_model_free(r);
  etpu_free(bytes);
  etpu_model_free(m);
  if (!dir) return;
  /* DeepLab records 127.5/127.5: the same values change nothing (its own
   * entry stays, byte for byte); others replace it. */
  char path[4096];
  snprintf(path, sizeof path, "%s/float/deeplabv3.tflite", dir);
  CHECK_OK(etpu_model_open(path, &m));
  if (!m) return;
  const void *before = NULL;
  size_t before_size = 0;
  CHECK_OK(etpu_model_metadata(m, 0, NULL, &before, &before_size));
  CHECK(etpu_model_set_input_normalization(m, 0, 127.5f, 127.5f, &changed) == ETPU_OK && !changed);
  const void *after = NULL;
  size_t after_size = 0;
  CHECK_OK(etpu_model_metadata(m, 0, NULL, &after, &after_size));
  CHECK(after == before && after_size == before_size);
  CHECK(etpu_model_set_input_normalization(m, 0, 0.0f, 255.0f, &changed) == ETPU_OK && changed);
  r = reopen(m, &bytes);
  if (r) expect_norm(r, 0, 1, 0.0f, 255.0f);
  etpu_model_free(r);
  etpu_free(bytes);
  etpu_model_free(m);
}

int main(void) {
  const char *dir = tu_shared_dir();
  test_hostile(dir);
  test_write(dir);
  if (!dir) {
    int rc = tu_finish("metadata");
    return rc ? rc : tu_skip_code();
  }
  test_shared(dir);
  return tu_finish("metadata");
}
