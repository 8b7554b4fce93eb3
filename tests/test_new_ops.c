/*
 * test_new_ops.c — the ops of issue #16 item 13, each on single-op models
 * built in memory against values worked out by hand, under both profiles:
 *
 *  - TILE, MIRROR_PAD (REFLECT and SYMMETRIC, a padding beyond the limit
 *    refused), ABS (float32; int8 with equal scales and rescaled), POW
 *    (float32, int32 with wrap-free values, a negative int32 exponent
 *    refused at eval), FLOOR_MOD (the divisor's sign, a zero divisor
 *    refused), SHAPE (int32 and int64), SPACE_TO_BATCH_ND and
 *    BATCH_TO_SPACE_ND (a 4x4 image split into its four phases and back, a
 *    padded uint8 one filled with the zero point, block shape and paddings
 *    computed at run time), MediaPipe's Convolution2DTransposeBias;
 *  - MUL whose product scale is 2^31 or more (traffic_model's 3e30):
 *    TFLite's saturated multiplier, i.e. the output's clamp ends for a
 *    non-zero product and the zero point for zero;
 *  - uint8 RESIZE_BILINEAR whose input and output quantization differ
 *    (legacy DeepLab): TFLite's builtin interpolates the raw values;
 *  - the compiler names each new op it does not map with its own fix;
 *  - with the shared data: dilated_conv (placeholder shapes resolved at
 *    create: SPACE_TO_BATCH_ND gives 36 phases), traffic_model's MUL op 75 and legacy DeepLab's
 *    1x1 -> 33x33 resize (op 63) on a photo, checked tensor by tensor
 *    against those rules, in both profiles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- building a one-op model ---------------------------------------------- */

typedef struct tdesc {
  int32_t type;
  uint32_t rank;
  int32_t shape[4];
  float scale; /* 0: no quantization */
  int64_t zp;
  const void *data; /* constant data, or NULL for an activation */
  size_t size;
  bool graph_input; /* an activation the test feeds */
} tdesc;

/* A model with one op: inputs in[0..nin), one output. NULL on failure. */
static etpu_model *one_op(int32_t code, const char *custom, const tdesc *in, uint32_t nin, const tdesc *out,
                          uint32_t nopt, const etpu_option *opt, const void *custom_opts, size_t custom_size) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  int32_t idx[8], o = -1, gin[8];
  uint32_t ngin = 0;
  etpu_status st = ETPU_OK;
  for (uint32_t k = 0; st == ETPU_OK && k <= nin; k++) {
    const tdesc *t = k < nin ? &in[k] : out;
    char name[16];
    snprintf(name, sizeof name, k < nin ? "in%u" : "out", k);
    const etpu_quant_params q = {1, &t->scale, &t->zp, 0};
    st = etpu_model_add_tensor(m, 0, name, t->type, t->rank, t->shape, t->scale > 0 ? &q : NULL, t->data, t->size,
                               k < nin ? &idx[k] : &o);
    if (k < nin && t->graph_input) gin[ngin++] = idx[k];
  }
  if (st == ETPU_OK)
    st = etpu_model_add_op(m, 0, code, custom, 1, nin, idx, 1, &o, nopt, opt, custom_opts, custom_size, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, ngin, gin, 1, &o);
  CHECK_MSG(st == ETPU_OK, "building op %d: %s", code, etpu_errmsg());
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return NULL;
  }
  return m;
}

/* Run under a profile with the given graph inputs; the output's bytes go to
 * out (exactly cap bytes expected). Returns the status of the first failing
 * step. */
static etpu_status run(const etpu_model *m, etpu_profile profile, const void *const *inputs, const size_t *sizes,
                       uint32_t n, void *out, size_t cap) {
  if (!m) return ETPU_INVALID_ARGUMENT;
  etpu_interp *ip = NULL;
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = profile;
  etpu_status st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  for (uint32_t k = 0; st == ETPU_OK && k < n; k++) st = etpu_interp_set_input(ip, k, inputs[k], sizes[k]);
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  const void *got = NULL;
  size_t size = 0;
  if (st == ETPU_OK) st = etpu_interp_output(ip, 0, &got, &size);
  if (st == ETPU_OK) {
    CHECK_MSG(size == cap, "output of %zu bytes, want %zu", size, cap);
    memcpy(out, got, size < cap ? size : cap);
  }
  etpu_interp_free(ip);
  return st;
}

static const etpu_profile k_profiles[2] = {ETPU_PROFILE_LITERT, ETPU_PROFILE_TFLITE_REF};
static const char *const k_pname[2] = {"litert", "tflite-ref"};

/* Run with one graph input under both profiles and compare with want. */
static void expect1(const char *what, const etpu_model *m, const void *in, size_t in_size, const void *want,
                    size_t want_size) {
  uint8_t got[512];
  for (int p = 0; p < 2; p++) {
    memset(got, 0xA5, sizeof got);
    etpu_status st = run(m, k_profiles[p], &in, &in_size, in ? 1 : 0, got, want_size);
    CHECK_MSG(st == ETPU_OK, "%s (%s): %s", what, k_pname[p], etpu_errmsg());
    if (st != ETPU_OK) continue;
    for (size_t i = 0; i < want_size; i++)
      if (got[i] != ((const uint8_t *)want)[i]) {
        CHECK_MSG(false, "%s (%s): byte %zu is 0x%02x, want 0x%02x", what, k_pname[p], i, got[i],
                  ((const uint8_t *)want)[i]);
        break;
      }
  }
}

/* Creating an interpreter for m must fail with st and a message holding `has`. */
static void expect_refused(const char *what, const etpu_model *m, etpu_status st, const char *has) {
  etpu_interp *ip = NULL;
  const etpu_status got = m ? etpu_interp_create(m, NULL, &ip) : ETPU_INVALID_ARGUMENT;
  CHECK_MSG(m && got == st && strstr(etpu_errmsg(), has), "%s: %s: %s (want %s naming '%s')", what,
            etpu_status_name(got), etpu_errmsg(), etpu_status_name(st), has);
  etpu_interp_free(ip);
}

#define ACT(t, r, ...) {t, r, {__VA_ARGS__}, 0, 0, NULL, 0, true}
#define CONST(t, r, d, ...) {t, r, {__VA_ARGS__}, 0, 0, d, sizeof d, false}

/* ---- TILE, MIRROR_PAD ------------------------------------------------------ */

static void test_tile(void) {
  static const int32_t mult[2] = {2, 3};
  const tdesc in[2] = {{ETPU_INT8, 2, {2, 2}, 0.5f, -1, NULL, 0, true}, CONST(ETPU_INT32, 1, mult, 2)};
  const tdesc out = {ETPU_INT8, 2, {4, 6}, 0.5f, -1, NULL, 0, false};
  etpu_model *m = one_op(ETPU_OP_TILE, NULL, in, 2, &out, 0, NULL, NULL, 0);
  const int8_t x[4] = {1, -2, 3, -4};
  const int8_t want[24] = {1, -2, 1, -2, 1, -2, 3, -4, 3, -4, 3, -4, 1, -2, 1, -2, 1, -2, 3, -4, 3, -4, 3, -4};
  expect1("TILE int8 [2,2] x [2,3]", m, x, sizeof x, want, sizeof want);
  etpu_model_free(m);
  /* A multiple the output does not agree with is refused at create, naming the op. */
  const tdesc bad = {ETPU_INT8, 2, {4, 4}, 0.5f, -1, NULL, 0, false};
  m = one_op(ETPU_OP_TILE, NULL, in, 2, &bad, 0, NULL, NULL, 0);
  expect_refused("TILE with a wrong output shape", m, ETPU_MALFORMED, "TILE");
  etpu_model_free(m);
}

static void test_mirror_pad(void) {
  static const int32_t pads[2] = {2, 2};
  const float x[3] = {1, 2, 3};
  const float reflect[7] = {3, 2, 1, 2, 3, 2, 1}, symmetric[7] = {2, 1, 1, 2, 3, 3, 2};
  const tdesc in[2] = {ACT(ETPU_FLOAT32, 1, 3), CONST(ETPU_INT32, 2, pads, 1, 2)};
  const tdesc out = ACT(ETPU_FLOAT32, 1, 7);
  for (int mode = 0; mode < 2; mode++) {
    const etpu_option o = {"mode", mode, 0, 0, NULL};
    etpu_model *m = one_op(ETPU_OP_MIRROR_PAD, NULL, in, 2, &out, 1, &o, NULL, 0);
    expect1(mode ? "MIRROR_PAD SYMMETRIC (2, 2)" : "MIRROR_PAD REFLECT (2, 2)", m, x, sizeof x,
            mode ? symmetric : reflect, sizeof reflect);
    etpu_model_free(m);
  }
  /* REFLECT of 3 values allows at most 2 on a side; 3 is refused at create. */
  static const int32_t big[2] = {3, 0};
  const tdesc in2[2] = {ACT(ETPU_FLOAT32, 1, 3), CONST(ETPU_INT32, 2, big, 1, 2)};
  const tdesc out2 = ACT(ETPU_FLOAT32, 1, 6);
  const etpu_option o = {"mode", 0, 0, 0, NULL};
  etpu_model *m = one_op(ETPU_OP_MIRROR_PAD, NULL, in2, 2, &out2, 1, &o, NULL, 0);
  expect_refused("MIRROR_PAD (3, 0) on 3 values", m, ETPU_MALFORMED, "REFLECT");
  etpu_model_free(m);
  /* 2-D int32, SYMMETRIC (1, 0) rows and (0, 1) columns. */
  static const int32_t p2[4] = {1, 0, 0, 1};
  const int32_t y[4] = {1, 2, 3, 4};
  const int32_t want[9] = {1, 2, 2, 1, 2, 2, 3, 4, 4};
  const tdesc in3[2] = {ACT(ETPU_INT32, 2, 2, 2), CONST(ETPU_INT32, 2, p2, 2, 2)};
  const tdesc out3 = ACT(ETPU_INT32, 2, 3, 3);
  const etpu_option sym = {"mode", 1, 0, 0, NULL};
  m = one_op(ETPU_OP_MIRROR_PAD, NULL, in3, 2, &out3, 1, &sym, NULL, 0);
  expect1("MIRROR_PAD SYMMETRIC 2-D int32", m, y, sizeof y, want, sizeof want);
  etpu_model_free(m);
}

/* ---- ABS, POW, FLOOR_MOD ------------------------------------------------- */

static void test_abs(void) {
  const tdesc fin = ACT(ETPU_FLOAT32, 1, 4), fout = ACT(ETPU_FLOAT32, 1, 4);
  etpu_model *m = one_op(ETPU_OP_ABS, NULL, &fin, 1, &fout, 0, NULL, NULL, 0);
  const float x[4] = {-1.5f, 2.0f, -0.0f, -INFINITY}, want[4] = {1.5f, 2.0f, 0.0f, INFINITY};
  expect1("ABS float32", m, x, sizeof x, want, sizeof want);
  etpu_model_free(m);
  /* int8, same scale: |x − (−3)| + (−3), clamped. */
  const tdesc qin = {ETPU_INT8, 1, {4}, 0.5f, -3, NULL, 0, true}, qout = {ETPU_INT8, 1, {4}, 0.5f, -3, NULL, 0, false};
  m = one_op(ETPU_OP_ABS, NULL, &qin, 1, &qout, 0, NULL, NULL, 0);
  const int8_t q[4] = {-10, -3, 4, -128}, qw[4] = {4, -3, 4, 122};
  expect1("ABS int8, same scale", m, q, sizeof q, qw, sizeof qw);
  etpu_model_free(m);
  /* int8 rescaled: s_in 0.5 -> s_out 0.25, zp 0 -> -128: 2·|x| − 128. */
  const tdesc rin = {ETPU_INT8, 1, {4}, 0.5f, 0, NULL, 0, true}, rout = {ETPU_INT8, 1, {4}, 0.25f, -128, NULL, 0, false};
  m = one_op(ETPU_OP_ABS, NULL, &rin, 1, &rout, 0, NULL, NULL, 0);
  const int8_t r[4] = {-10, 0, 100, -128}, rw[4] = {-108, -128, 72, 127};
  expect1("ABS int8, rescaled x2", m, r, sizeof r, rw, sizeof rw);
  etpu_model_free(m);
}

static void test_pow_floor_mod(void) {
  static const float e[3] = {3.0f, 0.5f, 0.0f};
  const tdesc fin[2] = {ACT(ETPU_FLOAT32, 1, 3), CONST(ETPU_FLOAT32, 1, e, 3)};
  const tdesc fout = ACT(ETPU_FLOAT32, 1, 3);
  etpu_model *m = one_op(ETPU_OP_POW, NULL, fin, 2, &fout, 0, NULL, NULL, 0);
  const float x[3] = {2.0f, 4.0f, 0.0f}, want[3] = {8.0f, 2.0f, 1.0f};
  expect1("POW float32", m, x, sizeof x, want, sizeof want);
  etpu_model_free(m);

  static const int32_t ie[4] = {10, 3, 0, 1};
  const tdesc iin[2] = {ACT(ETPU_INT32, 1, 4), CONST(ETPU_INT32, 1, ie, 4)};
  const tdesc iout = ACT(ETPU_INT32, 1, 4);
  m = one_op(ETPU_OP_POW, NULL, iin, 2, &iout, 0, NULL, NULL, 0);
  const int32_t ix[4] = {2, -3, 5, -7}, iw[4] = {1024, -27, 1, -7};
  expect1("POW int32", m, ix, sizeof ix, iw, sizeof iw);
  etpu_model_free(m);
  static const int32_t neg[4] = {1, 1, -1, 1};
  const tdesc nin[2] = {ACT(ETPU_INT32, 1, 4), CONST(ETPU_INT32, 1, neg, 4)};
  m = one_op(ETPU_OP_POW, NULL, nin, 2, &iout, 0, NULL, NULL, 0);
  int32_t got[4];
  const void *pin = ix;
  const size_t sz = sizeof ix;
  CHECK_MSG(run(m, ETPU_PROFILE_LITERT, &pin, &sz, 1, got, sizeof got) == ETPU_INVALID_ARGUMENT &&
                strstr(etpu_errmsg(), "POW") && strstr(etpu_errmsg(), "negative"),
            "POW int32 with exponent -1: %s", etpu_errmsg());
  etpu_model_free(m);

  static const int32_t d[4] = {3, 3, -3, -3};
  const tdesc min[2] = {ACT(ETPU_INT32, 1, 4), CONST(ETPU_INT32, 1, d, 4)};
  m = one_op(ETPU_OP_FLOOR_MOD, NULL, min, 2, &iout, 0, NULL, NULL, 0);
  const int32_t mx[4] = {7, -7, 7, -7}, mw[4] = {1, 2, -2, -1};
  expect1("FLOOR_MOD int32", m, mx, sizeof mx, mw, sizeof mw);
  etpu_model_free(m);
  static const float fd[2] = {2.0f, -2.0f};
  const tdesc fmin[2] = {ACT(ETPU_FLOAT32, 1, 2), CONST(ETPU_FLOAT32, 1, fd, 2)};
  const tdesc fmout = ACT(ETPU_FLOAT32, 1, 2);
  m = one_op(ETPU_OP_FLOOR_MOD, NULL, fmin, 2, &fmout, 0, NULL, NULL, 0);
  const float fx[2] = {-7.5f, 7.5f}, fw[2] = {0.5f, -0.5f};
  expect1("FLOOR_MOD float32", m, fx, sizeof fx, fw, sizeof fw);
  etpu_model_free(m);
  static const int32_t zero[4] = {3, 0, 3, 3};
  const tdesc zin[2] = {ACT(ETPU_INT32, 1, 4), CONST(ETPU_INT32, 1, zero, 4)};
  m = one_op(ETPU_OP_FLOOR_MOD, NULL, zin, 2, &iout, 0, NULL, NULL, 0);
  pin = mx;
  CHECK_MSG(run(m, ETPU_PROFILE_TFLITE_REF, &pin, &sz, 1, got, sizeof got) == ETPU_INVALID_ARGUMENT &&
                strstr(etpu_errmsg(), "division by zero"),
            "FLOOR_MOD by 0: %s", etpu_errmsg());
  etpu_model_free(m);
}

/* ---- SHAPE, SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND ---------------------------------- */

static void test_shape(void) {
  const tdesc in = ACT(ETPU_FLOAT32, 3, 2, 3, 5);
  const float x[30] = {0};
  for (int t = 0; t < 2; t++) {
    const tdesc out = {t ? ETPU_INT64 : ETPU_INT32, 1, {3}, 0, 0, NULL, 0, false};
    const etpu_option o = {"out_type", t ? ETPU_INT64 : ETPU_INT32, 0, 0, NULL};
    etpu_model *m = one_op(ETPU_OP_SHAPE, NULL, &in, 1, &out, 1, &o, NULL, 0);
    const int32_t w32[3] = {2, 3, 5};
    const int64_t w64[3] = {2, 3, 5};
    expect1(t ? "SHAPE int64" : "SHAPE int32", m, x, sizeof x, t ? (const void *)w64 : (const void *)w32,
            t ? sizeof w64 : sizeof w32);
    etpu_model_free(m);
  }
}

static void test_space_batch(void) {
  /* [1,4,4,1] 0..15, block 2x2, no padding: phase (sh, sw) = batch sh·2 + sw. */
  static const int32_t blk[2] = {2, 2}, nopad[4] = {0, 0, 0, 0};
  uint8_t x[16];
  for (int i = 0; i < 16; i++) x[i] = (uint8_t)i;
  const uint8_t phases[16] = {0, 2, 8, 10, 1, 3, 9, 11, 4, 6, 12, 14, 5, 7, 13, 15};
  const tdesc s2b_in[3] = {{ETPU_UINT8, 4, {1, 4, 4, 1}, 0.1f, 3, NULL, 0, true}, CONST(ETPU_INT32, 1, blk, 2),
                           CONST(ETPU_INT32, 2, nopad, 2, 2)};
  const tdesc s2b_out = {ETPU_UINT8, 4, {4, 2, 2, 1}, 0.1f, 3, NULL, 0, false};
  etpu_model *m = one_op(ETPU_OP_SPACE_TO_BATCH_ND, NULL, s2b_in, 3, &s2b_out, 0, NULL, NULL, 0);
  expect1("SPACE_TO_BATCH_ND 4x4 block 2x2", m, x, sizeof x, phases, sizeof phases);
  etpu_model_free(m);
  const tdesc b2s_in[3] = {{ETPU_UINT8, 4, {4, 2, 2, 1}, 0.1f, 3, NULL, 0, true}, CONST(ETPU_INT32, 1, blk, 2),
                           CONST(ETPU_INT32, 2, nopad, 2, 2)};
  const tdesc b2s_out = {ETPU_UINT8, 4, {1, 4, 4, 1}, 0.1f, 3, NULL, 0, false};
  m = one_op(ETPU_OP_BATCH_TO_SPACE_ND, NULL, b2s_in, 3, &b2s_out, 0, NULL, NULL, 0);
  expect1("BATCH_TO_SPACE_ND back to 4x4", m, phases, sizeof phases, x, sizeof x);
  etpu_model_free(m);
  /* [1,2,2,1] padded (1, 1, 1, 1) to 4x4, block 2x2: the padding is the zero point 3. */
  static const int32_t pad1[4] = {1, 1, 1, 1};
  const uint8_t y[4] = {10, 20, 30, 40};
  const uint8_t yw[16] = {3, 3, 3, 40, 3, 3, 30, 3, 3, 20, 3, 3, 10, 3, 3, 3};
  const tdesc p_in[3] = {{ETPU_UINT8, 4, {1, 2, 2, 1}, 0.1f, 3, NULL, 0, true}, CONST(ETPU_INT32, 1, blk, 2),
                         CONST(ETPU_INT32, 2, pad1, 2, 2)};
  m = one_op(ETPU_OP_SPACE_TO_BATCH_ND, NULL, p_in, 3, &s2b_out, 0, NULL, NULL, 0);
  expect1("SPACE_TO_BATCH_ND padded, uint8 zero point", m, y, sizeof y, yw, sizeof yw);
  etpu_model_free(m);
  /* Crops (1, 1, 1, 1) undo it; block shape and crops fed at run time (dilated_conv computes them). */
  etpu_model *mc = NULL;
  CHECK_OK(etpu_model_create(&mc));
  int32_t t_in = -1, t_blk = -1, t_crop = -1, t_out = -1;
  const float q = 0.1f;
  const int64_t zp = 3;
  const etpu_quant_params qp = {1, &q, &zp, 0};
  const int32_t s_in[4] = {4, 2, 2, 1}, s_blk[1] = {2}, s_crop[2] = {2, 2}, s_out[4] = {1, 2, 2, 1};
  etpu_status st = etpu_model_add_tensor(mc, 0, "in", ETPU_UINT8, 4, s_in, &qp, NULL, 0, &t_in);
  if (st == ETPU_OK) st = etpu_model_add_tensor(mc, 0, "block", ETPU_INT32, 1, s_blk, NULL, NULL, 0, &t_blk);
  if (st == ETPU_OK) st = etpu_model_add_tensor(mc, 0, "crops", ETPU_INT32, 2, s_crop, NULL, NULL, 0, &t_crop);
  if (st == ETPU_OK) st = etpu_model_add_tensor(mc, 0, "out", ETPU_UINT8, 4, s_out, &qp, NULL, 0, &t_out);
  const int32_t ins[3] = {t_in, t_blk, t_crop};
  if (st == ETPU_OK)
    st = etpu_model_add_op(mc, 0, ETPU_OP_BATCH_TO_SPACE_ND, NULL, 1, 3, ins, 1, &t_out, 0, NULL, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(mc, 0, 3, ins, 1, &t_out);
  CHECK_MSG(st == ETPU_OK, "building BATCH_TO_SPACE_ND with computed crops: %s", etpu_errmsg());
  const int32_t blk_v[2] = {2, 2}, crop_v[4] = {1, 1, 1, 1}, bad_crop[4] = {0, 0, 1, 1};
  const void *feeds[3] = {yw, blk_v, crop_v};
  const size_t sizes[3] = {sizeof yw, sizeof blk_v, sizeof crop_v};
  uint8_t got[4];
  for (int p = 0; p < 2; p++) {
    st = run(mc, k_profiles[p], feeds, sizes, 3, got, sizeof got);
    CHECK_MSG(st == ETPU_OK && !memcmp(got, y, 4), "BATCH_TO_SPACE_ND computed crops (%s): %s", k_pname[p],
              st == ETPU_OK ? "wrong values" : etpu_errmsg());
  }
  feeds[2] = bad_crop; /* gives a 4x2 output, not the model's 2x2: refused at eval */
  st = run(mc, ETPU_PROFILE_LITERT, feeds, sizes, 3, got, sizeof got);
  CHECK_MSG(st == ETPU_UNSUPPORTED && strstr(etpu_errmsg(), "BATCH_TO_SPACE_ND"), "bad computed crops: %s: %s",
            etpu_status_name(st), etpu_errmsg());
  etpu_model_free(mc);
}

/* ---- MUL saturation, RESIZE_BILINEAR with differing quantization ---------------------- */

static void test_mul_saturation(void) {
  /* Product scale 1·1/1e−10 = 1e10 >= 2^31: saturated in both profiles. */
  const tdesc in[2] = {{ETPU_INT8, 1, {4}, 1.0f, 0, NULL, 0, true}, {ETPU_INT8, 1, {4}, 1.0f, 0, NULL, 0, true}};
  const tdesc out = {ETPU_INT8, 1, {4}, 1e-10f, 5, NULL, 0, false};
  etpu_model *m = one_op(ETPU_OP_MUL, NULL, in, 2, &out, 0, NULL, NULL, 0);
  const int8_t a[4] = {1, -1, 0, 3}, b[4] = {1, 2, -100, -1};
  const int8_t want[4] = {127, -128, 5, -128};
  const void *feeds[2] = {a, b};
  const size_t sizes[2] = {4, 4};
  for (int p = 0; p < 2; p++) {
    int8_t got[4];
    etpu_status st = run(m, k_profiles[p], feeds, sizes, 2, got, sizeof got);
    CHECK_MSG(st == ETPU_OK && !memcmp(got, want, 4), "MUL with product scale 1e10 (%s): %s [%d %d %d %d]",
              k_pname[p], st == ETPU_OK ? "values" : etpu_errmsg(), got[0], got[1], got[2], got[3]);
  }
  etpu_model_free(m);
}

static void test_resize_requant(void) {
  static const int32_t size[2] = {3, 3};
  const tdesc in[2] = {{ETPU_UINT8, 4, {1, 1, 1, 2}, 0.1f, 0, NULL, 0, true}, CONST(ETPU_INT32, 1, size, 2)};
  const tdesc out = {ETPU_UINT8, 4, {1, 3, 3, 2}, 0.3f, 0, NULL, 0, false};
  etpu_model *m = one_op(ETPU_OP_RESIZE_BILINEAR, NULL, in, 2, &out, 0, NULL, NULL, 0);
  const uint8_t x[2] = {7, 200};
  uint8_t want[18];
  for (int i = 0; i < 9; i++) want[2 * i] = 7, want[2 * i + 1] = 200; /* raw values, scales ignored */
  expect1("RESIZE_BILINEAR uint8 1x1 -> 3x3, scale 0.1 -> 0.3", m, x, sizeof x, want, sizeof want);
  etpu_model_free(m);
  /* int8 with differing quantization stays refused, with the reason. */
  const tdesc in8[2] = {{ETPU_INT8, 4, {1, 1, 1, 2}, 0.1f, 0, NULL, 0, true}, CONST(ETPU_INT32, 1, size, 2)};
  const tdesc out8 = {ETPU_INT8, 4, {1, 3, 3, 2}, 0.3f, 0, NULL, 0, false};
  m = one_op(ETPU_OP_RESIZE_BILINEAR, NULL, in8, 2, &out8, 0, NULL, NULL, 0);
  expect_refused("int8 resize with differing quantization", m, ETPU_UNSUPPORTED, "uint8");
  etpu_model_free(m);
}

/* ---- Convolution2DTransposeBias ---------------------------------------------------- */

static void test_transpose_conv_bias(void) {
  /* input [1,2,2,1] {1,2,3,4}, weights [1,2,2,1] all 1, bias 0.5, stride 2,
   * VALID: each input pixel covers its own 2x2 block: bias + x. */
  static const float w[4] = {1, 1, 1, 1}, bias[1] = {0.5f};
  const tdesc in[3] = {ACT(ETPU_FLOAT32, 4, 1, 2, 2, 1), CONST(ETPU_FLOAT32, 4, w, 1, 2, 2, 1),
                       CONST(ETPU_FLOAT32, 1, bias, 1)};
  const tdesc out = ACT(ETPU_FLOAT32, 4, 1, 4, 4, 1);
  const int32_t opts[3] = {2 /* VALID */, 2, 2};
  etpu_model *m = one_op(ETPU_OP_CUSTOM, "Convolution2DTransposeBias", in, 3, &out, 0, NULL, opts, sizeof opts);
  const float x[4] = {1, 2, 3, 4};
  const float want[16] = {1.5f, 1.5f, 2.5f, 2.5f, 1.5f, 1.5f, 2.5f, 2.5f,
                          3.5f, 3.5f, 4.5f, 4.5f, 3.5f, 3.5f, 4.5f, 4.5f};
  expect1("Convolution2DTransposeBias VALID stride 2", m, x, sizeof x, want, sizeof want);
  etpu_model_free(m);
  /* SAME, kernel 3, stride 2 on 2x2: total padding 3 − 1 − 1 = 1, so the
   * output is 2·1 + 3 − 1 = 4 wide and the top/left padding 1/2 = 0: with
   * weights all 1 and x = 1, out[y][x] = 0.5 + (number of input pixels whose
   * 3x3 footprint, at rows/cols 2i..2i+2, covers it): rows 0,1 -> 1, row 2 -> 2, row 3 -> 1. */
  static const float w3[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  const tdesc in3[3] = {ACT(ETPU_FLOAT32, 4, 1, 2, 2, 1), CONST(ETPU_FLOAT32, 4, w3, 1, 3, 3, 1),
                        CONST(ETPU_FLOAT32, 1, bias, 1)};
  const int32_t same[3] = {1 /* SAME */, 2, 2};
  m = one_op(ETPU_OP_CUSTOM, "Convolution2DTransposeBias", in3, 3, &out, 0, NULL, same, sizeof same);
  const float ones[4] = {1, 1, 1, 1};
  const float cover[4] = {1, 1, 2, 1};
  float want3[16];
  for (int r = 0; r < 4; r++)
    for (int c = 0; c < 4; c++) want3[4 * r + c] = 0.5f + cover[r] * cover[c];
  expect1("Convolution2DTransposeBias SAME kernel 3 stride 2", m, ones, sizeof ones, want3, sizeof want3);
  etpu_model_free(m);
  /* Short custom options are refused, naming what they must hold. */
  m = one_op(ETPU_OP_CUSTOM, "Convolution2DTransposeBias", in, 3, &out, 0, NULL, opts, 8);
  expect_refused("8 bytes of options", m, ETPU_MALFORMED, "TfLiteTransposeConvParams");
  etpu_model_free(m);
}

/* ---- the compiler's word on each new op ---------------------------------------------- */

static void test_compile_fixes(void) {
  static const struct {
    int32_t code;
    const char *fix;
  } cases[] = {
      {ETPU_OP_TILE, "broadcast"},
      {ETPU_OP_MIRROR_PAD, "PAD (zero padding) is mapped"},
      {ETPU_OP_ABS, "MAXIMUM(x, MUL(x, -1))"},
  };
  static const int32_t mult[1] = {2}, pads[2] = {1, 1};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const bool unary = cases[i].code == ETPU_OP_ABS;
    const tdesc in[2] = {{ETPU_UINT8, 1, {4}, 0.5f, 3, NULL, 0, true},
                         cases[i].code == ETPU_OP_TILE ? (tdesc)CONST(ETPU_INT32, 1, mult, 1)
                                                       : (tdesc)CONST(ETPU_INT32, 2, pads, 1, 2)};
    const tdesc out = {ETPU_UINT8, 1, {unary ? 4 : cases[i].code == ETPU_OP_TILE ? 8 : 6}, 0.5f, 3, NULL, 0, false};
    etpu_model *m = one_op(cases[i].code, NULL, in, unary ? 1 : 2, &out, 0, NULL, NULL, 0);
    etpu_compilation *c = NULL;
    if (m) CHECK_OK(etpu_compile(m, NULL, &c));
    etpu_op_mapping mp;
    bool found = false;
    for (uint32_t k = 0; c && k < etpu_compilation_op_count(c); k++)
      if (etpu_compilation_op(c, k, &mp) == ETPU_OK && mp.op == 0) {
        found = true;
        CHECK_MSG(!mp.on_edgetpu && strstr(mp.reason, etpu_op_code_name(cases[i].code)) && strstr(mp.fix, cases[i].fix),
                  "%s: reason '%s', fix '%s' (want '%s')", etpu_op_code_name(cases[i].code), mp.reason, mp.fix,
                  cases[i].fix);
      }
    CHECK_MSG(found, "%s: no mapping for op 0", etpu_op_code_name(cases[i].code));
    etpu_compilation_free(c);
    etpu_model_free(m);
  }
}

/* ---- real models (shared data) ------------------------------------------------------- */

/* Run a model with keep_all_tensors on the given raw inputs; the caller
 * destroys the interpreter. */
static etpu_interp *run_model(const etpu_model *m, etpu_profile profile, const void *const *inputs,
                              const size_t *sizes, uint32_t n) {
  etpu_interp *ip = NULL;
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = profile;
  o.keep_all_tensors = true;
  etpu_status st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  for (uint32_t k = 0; st == ETPU_OK && k < n; k++) st = etpu_interp_set_input(ip, k, inputs[k], sizes[k]);
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  CHECK_MSG(st == ETPU_OK, "running: %s", etpu_errmsg());
  if (st != ETPU_OK) {
    etpu_interp_free(ip);
    return NULL;
  }
  return ip;
}

static const uint8_t *tensor_of(const etpu_interp *ip, const etpu_model *m, uint32_t op, bool output, uint32_t k,
                                size_t *size) {
  etpu_op_info oi;
  const void *d = NULL;
  if (etpu_model_op(m, 0, op, &oi) != ETPU_OK) return NULL;
  const int32_t t = output ? oi.outputs[k] : oi.inputs[k];
  return etpu_interp_tensor(ip, (uint32_t)t, &d, size) == ETPU_OK ? d : NULL;
}

static void test_traffic_model(const char *shared) {
  char path[1024];
  snprintf(path, sizeof path, "%s/coral/traffic_model.tflite", shared);
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_open(path, &m));
  if (!m) return;
  static uint8_t img[256 * 256 * 3], c[8 * 8 * 320], h[8 * 8 * 320];
  uint32_t s = 12345;
  for (size_t i = 0; i < sizeof img; i++) img[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 24);
  for (size_t i = 0; i < sizeof c; i++) c[i] = (uint8_t)((s = s * 1103515245u + 12345u) >> 24), h[i] = (uint8_t)(s >> 16);
  const void *feeds[3] = {img, c, h};
  const size_t sizes[3] = {sizeof img, sizeof c, sizeof h};
  for (int p = 0; p < 2; p++) {
    etpu_interp *ip = run_model(m, k_profiles[p], feeds, sizes, 3);
    size_t na, nb, no;
    const uint8_t *a = ip ? tensor_of(ip, m, 75, false, 0, &na) : NULL, *b = ip ? tensor_of(ip, m, 75, false, 1, &nb) : NULL;
    const uint8_t *o = ip ? tensor_of(ip, m, 75, true, 0, &no) : NULL;
    CHECK_MSG(a && b && o && na == no && nb == no, "traffic_model op 75 tensors (%s)", k_pname[p]);
    size_t bad = 0, sat = 0;
    for (size_t i = 0; a && b && o && i < no; i++) {
      const uint8_t want = a[i] && b[i] ? 255 : 0; /* zero points 0: product > 0 saturates, 0 gives zp 0 */
      bad += o[i] != want;
      sat += want == 255;
    }
    CHECK_MSG(bad == 0 && sat > 0, "traffic_model MUL op 75 (%s): %zu of %zu wrong, %zu saturated", k_pname[p], bad,
              no, sat);
    printf("traffic_model (%s): MUL op 75 (product scale 3.1e30) saturates %zu of %zu outputs, the rest 0\n",
           k_pname[p], sat, no);
    etpu_interp_free(ip);
  }
  etpu_model_free(m);
}

static void test_legacy_deeplab(const char *shared) {
  char path[1024], img[1024];
  snprintf(img, sizeof img, "%s/coral/bird_segmentation.bmp", shared);
  for (int v = 0; v < 2; v++) {
    snprintf(path, sizeof path, "%s/coral/legacy/deeplabv3_mnv2%s_pascal_quant.tflite", shared, v ? "_dm05" : "");
    etpu_model *m = NULL;
    CHECK_OK(etpu_model_open(path, &m));
    if (!m) continue;
    etpu_tensor_info ti;
    CHECK_OK(etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &ti));
    static uint8_t in[513 * 513 * 3];
    etpu_input_options io = {ETPU_RESIZE_BILINEAR, false, 0, 0};
    etpu_status st = etpu_tensor_load(img, &ti, &io, in, sizeof in, NULL);
    CHECK_MSG(st == ETPU_OK, "%s: %s", img, etpu_errmsg());
    const void *feeds[1] = {in};
    const size_t sizes[1] = {sizeof in};
    for (int p = 0; st == ETPU_OK && p < 2; p++) {
      etpu_interp *ip = run_model(m, k_profiles[p], feeds, sizes, 1);
      size_t ni, no;
      const uint8_t *x = ip ? tensor_of(ip, m, 63, false, 0, &ni) : NULL, *y = ip ? tensor_of(ip, m, 63, true, 0, &no) : NULL;
      CHECK_MSG(x && y && ni == 256 && no == 33 * 33 * 256, "%s op 63 tensors (%s)", path, k_pname[p]);
      size_t bad = 0;
      for (size_t i = 0; x && y && i < no; i++) bad += y[i] != x[i % 256];
      CHECK_MSG(bad == 0, "%s op 63 (%s): %zu of %zu outputs are not the raw 1x1 input", path, k_pname[p], bad, no);
      /* The mask: the bird (class 3) must be found. */
      size_t nout;
      const int64_t *mask = NULL;
      const void *mo = NULL;
      if (ip && etpu_interp_output(ip, 0, &mo, &nout) == ETPU_OK) mask = mo;
      size_t bird = 0;
      for (size_t i = 0; mask && i < nout / 8; i++) bird += mask[i] == 3;
      CHECK_MSG(mask && bird > 10000, "%s (%s): %zu bird pixels", path, k_pname[p], bird);
      printf("legacy %s (%s): RESIZE_BILINEAR op 63 keeps the raw uint8 values; %zu bird pixels of 513x513\n",
             v ? "dm05" : "dm1", k_pname[p], bird);
      etpu_interp_free(ip);
    }
    etpu_model_free(m);
  }
}

/* dilated_conv: a graph converted with dynamic shapes stores placeholders
 * ([1,1,1,3] everywhere after its 1x1 input); SHAPE and its index
 * arithmetic are folded at create, SPACE_TO_BATCH_ND's output resolves to
 * the 36 phases of the input padded by (6, 11) for dilation 6, and the conv
 * and BATCH_TO_SPACE_ND follow, back to [1,1,1,16]. */
static void test_dilated_conv(const char *shared) {
  char path[1024];
  snprintf(path, sizeof path, "%s/float/dilated_conv.tflite", shared);
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_open(path, &m));
  if (!m) return;
  const float x[3] = {0.5f, -1.0f, 2.0f};
  const void *feeds[1] = {x};
  const size_t sizes[1] = {sizeof x};
  for (int p = 0; p < 2; p++) {
    etpu_interp *ip = run_model(m, k_profiles[p], feeds, sizes, 1);
    etpu_op_info oi;
    uint32_t rank = 0;
    const int32_t *dims = NULL;
    CHECK(ip && etpu_model_op(m, 0, 20, &oi) == ETPU_OK && !strcmp(oi.name, "SPACE_TO_BATCH_ND") &&
          etpu_interp_tensor_shape(ip, (uint32_t)oi.outputs[0], &rank, &dims) == ETPU_OK);
    CHECK_MSG(rank == 4 && dims[0] == 36 && dims[1] == 3 && dims[2] == 3 && dims[3] == 3,
              "dilated_conv SPACE_TO_BATCH_ND output (%s): rank %u [%d,%d,%d,%d]", k_pname[p], rank,
              rank ? dims[0] : 0, rank > 1 ? dims[1] : 0, rank > 2 ? dims[2] : 0, rank > 3 ? dims[3] : 0);
    const void *out = NULL;
    size_t n = 0;
    CHECK(ip && etpu_interp_output(ip, 0, &out, &n) == ETPU_OK && n == 16 * sizeof(float));
    etpu_interp_free(ip);
  }
  etpu_model_free(m);
}

int main(void) {
  test_tile();
  test_mirror_pad();
  test_abs();
  test_pow_floor_mod();
  test_shape();
  test_space_batch();
  test_mul_saturation();
  test_resize_requant();
  test_transpose_conv_bias();
  test_compile_fixes();
  const char *shared = tu_shared_dir();
  if (shared) {
    test_traffic_model(shared);
    test_legacy_deeplab(shared);
    test_dilated_conv(shared);
  } else {
    printf("shared data not found: the traffic_model and legacy DeepLab checks are skipped\n");
  }
  return tu_finish("new_ops");
}
