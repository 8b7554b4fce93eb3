/*
 * test_conv_ops.c — the interpreter's CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED and TRANSPOSE_CONV glue (src/runtime/ops/conv.c) on
 * single-op models built in memory, no shared data needed:
 *
 *  - each op's output equals its kernel called directly with the
 *    arithmetic the profile must pick: tflite-ref double rounding; litert
 *    XNNPACK fp32, or TFLite's builtin rounding (conv single, depthwise and
 *    transpose conv double) for the ops XNNPACK's delegate refuses (no bias,
 *    an unquantized conv bias, depth_multiplier 0). Those rules were
 *    measured against LiteRT.js 2.5.3 (see conv.c);
 *  - XNNPACK's activation bounds: RELU_N1_TO_1 on an output of scale 2 and
 *    zero point 0 clamps to [0, 0] under litert (lrintf(±0.5) = 0) and to
 *    [−1, 1] under tflite-ref (round half away from zero);
 *  - FULLY_CONNECTED keep_num_dims and flattening, uint8 with a weight zero
 *    point, float32, hybrid (float32 with int8 weights, run on the
 *    dequantized weights);
 *  - prepare rejects bad models with the right status and a message naming
 *    the op and tensor (inconsistent depth_multiplier, a declared output
 *    shape the op does not compute, uint8 weights on float, shuffled FC weights, a
 *    run-time TRANSPOSE_CONV output_shape, a missing stride).
 * Random data comes from a fixed, printed seed.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "kernels/kernels.h"
#include "testutil.h"

static uint64_t g_rng = 0x636f6e766f707331ULL; /* "convops1" */
static uint32_t rnd(void) {
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return (uint32_t)((g_rng * 0x2545F4914F6CDD1DULL) >> 32);
}
static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

/* ---- a single-op model -------------------------------------------------- */

typedef struct op_case {
  int32_t code, dtype;
  uint32_t in_rank, w_rank, out_rank;
  int32_t in_shape[4], w_shape[4], out_shape[4];
  float in_scale, out_scale;
  int32_t in_zp, out_zp, w_zp;
  int32_t w_count, qdim; /* weight scales (1 or per channel) on dimension qdim */
  int bias;              /* 0 none (input omitted), 1 quantized, 2 without quantization */
  uint32_t nopt;
  etpu_option opt[6];
  int32_t tconv_shape[4]; /* TRANSPOSE_CONV output_shape; [0] = 0: not a TRANSPOSE_CONV */
  bool tconv_shape_dynamic;
  int32_t w_type; /* the weights' type when it differs from dtype (float32 = 0 means the same) */
} op_case;

/* The data of the case being built (make_case fills it; one case at a time). */
static struct {
  uint8_t w[4096];
  float wf[1024], bf[64], w_scale[64];
  int32_t b[64];
} g_d;

static size_t count_of(uint32_t rank, const int32_t *s) {
  size_t n = 1;
  for (uint32_t i = 0; i < rank; i++) n *= (size_t)s[i];
  return n;
}

static int32_t out_channels(const op_case *c) {
  return c->code == ETPU_OP_DEPTHWISE_CONV_2D ? c->w_shape[3] : c->w_shape[0];
}

/* Random weights and bias, then the model. NULL (and a failed check) if the
 * builder refuses. */
static etpu_model *make_case(op_case *c) {
  const bool f32 = c->dtype == ETPU_FLOAT32;
  const size_t nw = count_of(c->w_rank, c->w_shape);
  const int32_t oc = out_channels(c);
  for (size_t i = 0; i < nw; i++) {
    g_d.w[i] = (uint8_t)(c->dtype == ETPU_INT8 ? (uint8_t)(int8_t)rnd_in(-127, 127) : (uint8_t)rnd_in(0, 255));
    g_d.wf[i] = (float)rnd_in(-100, 100) / 64.0f;
  }
  for (int32_t k = 0; k < c->w_count; k++) g_d.w_scale[k] = 0.002f * (float)(1 + k % 7);
  for (int32_t k = 0; k < oc; k++) {
    g_d.b[k] = rnd_in(-4000, 4000);
    g_d.bf[k] = (float)g_d.b[k] / 1024.0f;
  }
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  int64_t izp = c->in_zp, ozp = c->out_zp, wzp[64], bzp[64];
  float bscale[64];
  for (int32_t k = 0; k < 64; k++) {
    wzp[k] = c->w_zp;
    bzp[k] = 0;
    bscale[k] = c->in_scale * g_d.w_scale[c->w_count > 1 ? k : 0];
  }
  const etpu_quant_params iq = {1, &c->in_scale, &izp, 0}, oq = {1, &c->out_scale, &ozp, 0};
  const etpu_quant_params wq = {(uint32_t)c->w_count, g_d.w_scale, wzp, c->qdim};
  const etpu_quant_params bq = {(uint32_t)(c->w_count > 1 ? oc : 1), bscale, bzp, 0};
  int32_t in, w, b = -1, out, shp = -1;
  etpu_status st = etpu_model_add_tensor(m, 0, "in", c->dtype, c->in_rank, c->in_shape, f32 ? NULL : &iq, NULL, 0, &in);
  const int32_t w_type = c->w_type ? c->w_type : c->dtype;
  const bool wf = w_type == ETPU_FLOAT32;
  if (st == ETPU_OK)
    st = etpu_model_add_tensor(m, 0, "w", w_type, c->w_rank, c->w_shape, wf ? NULL : &wq, wf ? (void *)g_d.wf : g_d.w,
                               wf ? nw * 4 : nw, &w);
  if (st == ETPU_OK && c->bias)
    st = etpu_model_add_tensor(m, 0, "b", f32 ? ETPU_FLOAT32 : ETPU_INT32, 1, &oc,
                               f32 || c->bias == 2 ? NULL : &bq, f32 ? (void *)g_d.bf : (void *)g_d.b, (size_t)oc * 4,
                               &b);
  if (st == ETPU_OK)
    st = etpu_model_add_tensor(m, 0, "out", c->dtype, c->out_rank, c->out_shape, f32 ? NULL : &oq, NULL, 0, &out);
  if (st == ETPU_OK && c->tconv_shape[0]) {
    const int32_t four = 4;
    st = etpu_model_add_tensor(m, 0, "output_shape", ETPU_INT32, 1, &four, NULL,
                               c->tconv_shape_dynamic ? NULL : c->tconv_shape, c->tconv_shape_dynamic ? 0 : 16, &shp);
    const int32_t ins[4] = {shp, w, in, b};
    if (st == ETPU_OK)
      st = etpu_model_add_op(m, 0, c->code, NULL, 1, c->bias ? 4 : 3, ins, 1, &out, c->nopt, c->opt, NULL, 0, NULL);
  } else if (st == ETPU_OK) {
    const int32_t ins[3] = {in, w, b};
    st = etpu_model_add_op(m, 0, c->code, NULL, 1, c->bias ? 3 : 2, ins, 1, &out, c->nopt, c->opt, NULL, 0, NULL);
  }
  const int32_t graph_in[2] = {in, shp};
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, c->tconv_shape_dynamic ? 2 : 1, graph_in, 1, &out);
  CHECK_MSG(st == ETPU_OK, "building the model: %s", etpu_errmsg());
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return NULL;
  }
  return m;
}

/* Run the model once under a profile; the output bytes go to out (cap). */
static etpu_status run_case(const etpu_model *m, etpu_profile profile, const void *input, size_t in_bytes, void *out,
                            size_t cap) {
  etpu_interp *ip = NULL;
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = profile;
  o.keep_all_tensors = false;
  etpu_status st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  if (st == ETPU_OK) st = etpu_interp_set_input(ip, 0, input, in_bytes);
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  const void *got = NULL;
  size_t n = 0;
  if (st == ETPU_OK) st = etpu_interp_output(ip, 0, &got, &n);
  if (st == ETPU_OK) {
    CHECK_MSG(n == cap, "output of %zu bytes, expected %zu", n, cap);
    memcpy(out, got, n < cap ? n : cap);
  }
  etpu_interp_free(ip);
  return st;
}

/* Per-channel requantization of a case in a mode. */
static void requant_table(const op_case *c, etpu_requant_mode mode, etpu_requant *rq) {
  for (int32_t k = 0; k < c->w_count; k++)
    CHECK_OK(etpu_requant_init(c->in_scale, g_d.w_scale[k], c->out_scale, mode, &rq[k]));
}

static int first_diff(const uint8_t *a, const uint8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return (int)i;
  return -1;
}

#define O(name, value) {name, value, 0, 0, NULL}

/* The expected output of an integer case from the kernels, in a mode, with
 * the clamp [lo, hi]. */
static void expect_int(const op_case *c, const uint8_t *x, etpu_requant_mode mode, int32_t lo, int32_t hi,
                       uint8_t *want) {
  etpu_requant rq[64];
  requant_table(c, mode, rq);
  const etpu_requant_params q = {rq, c->w_count, mode};
  const int32_t *bias = c->bias ? g_d.b : NULL;
  const etpu_dims in_d = {c->in_shape[0], c->in_shape[1], c->in_shape[2], c->in_shape[3]};
  const etpu_dims f_d = {c->w_shape[0], c->w_shape[1], c->w_shape[2], c->w_shape[3]};
  const etpu_dims out_d = {c->out_shape[0], c->out_shape[1], c->out_shape[2], c->out_shape[3]};
  const bool s8 = c->dtype == ETPU_INT8;
  etpu_status st = ETPU_INVALID_STATE;
  /* geometry: every case here is SAME with the stride of option 1 (stride_w = stride_h) */
  const int32_t stride = (int32_t)c->opt[1].i;
  etpu_window_geometry g;
  const etpu_window_axis ax = {c->code == 67 ? c->out_shape[1] : c->in_shape[1], c->w_shape[1], stride, 1};
  CHECK_OK(etpu_conv_output_size(ETPU_PADDING_SAME, &ax, &g));
  const int32_t pad = g.pad_before;
  if (c->code == ETPU_OP_CONV_2D && s8) {
    const etpu_conv_params p = {-c->in_zp, c->out_zp, stride, stride, pad, pad, 1, 1, lo, hi};
    st = etpu_conv2d_s8(&p, &q, &in_d, (const int8_t *)x, &f_d, (const int8_t *)g_d.w, bias, &out_d, (int8_t *)want);
  } else if (c->code == ETPU_OP_CONV_2D) {
    const etpu_conv_u8_params p = {-c->in_zp, -c->w_zp, c->out_zp, stride, stride, pad, pad, 1, 1, lo, hi};
    st = etpu_conv2d_u8(&p, &q, &in_d, x, &f_d, g_d.w, bias, &out_d, want);
  } else if (c->code == ETPU_OP_DEPTHWISE_CONV_2D) {
    const etpu_dw_conv_params p = {-c->in_zp, c->out_zp, stride, stride, pad, pad, 1, 1, f_d.c / in_d.c, lo, hi};
    st = etpu_depthwise_conv2d_s8(&p, &q, &in_d, (const int8_t *)x, &f_d, (const int8_t *)g_d.w, bias, &out_d,
                                  (int8_t *)want);
  } else if (c->code == 67) {
    const etpu_transpose_conv_params p = {-c->in_zp, 0, c->out_zp, stride, stride, pad, pad, lo, hi};
    int32_t scratch[4096];
    st = etpu_transpose_conv_s8(&p, &q, &in_d, (const int8_t *)x, &f_d, (const int8_t *)g_d.w, bias, &out_d,
                                (int8_t *)want, scratch, sizeof scratch);
  }
  CHECK_MSG(st == ETPU_OK, "expected output: %s", etpu_errmsg());
}

/* Run a case under both profiles and compare with the kernels in the
 * modes each profile must pick. */
static void check_case(const char *name, op_case *c, etpu_requant_mode litert_mode) {
  etpu_model *m = make_case(c);
  if (!m) return;
  uint8_t x[4096], got[4096], want[4096];
  const size_t nx = count_of(c->in_rank, c->in_shape), ny = count_of(c->out_rank, c->out_shape);
  for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)rnd();
  const int32_t lo = c->dtype == ETPU_INT8 ? -128 : 0, hi = c->dtype == ETPU_INT8 ? 127 : 255;
  static const etpu_profile profiles[2] = {ETPU_PROFILE_TFLITE_REF, ETPU_PROFILE_LITERT};
  for (int p = 0; p < 2; p++) {
    const etpu_requant_mode mode = p ? litert_mode : ETPU_REQUANT_DOUBLE_ROUND;
    memset(got, 0, sizeof got);
    const etpu_status st = run_case(m, profiles[p], x, nx, got, ny);
    CHECK_MSG(st == ETPU_OK, "%s (%s): %s", name, etpu_profile_name(profiles[p]), etpu_errmsg());
    expect_int(c, x, mode, lo, hi, want);
    const int d = first_diff(got, want, ny);
    CHECK_MSG(d < 0, "%s (%s): element %d: expected %d (%s), got %d", name, etpu_profile_name(profiles[p]), d,
              d < 0 ? 0 : want[d], etpu_requant_mode_name(mode), d < 0 ? 0 : got[d]);
  }
  etpu_model_free(m);
}

static void test_profiles(void) {
  /* int8 per-channel conv, SAME stride 2, quantized bias: litert fp32 */
  static op_case conv = {ETPU_OP_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 9, 9, 6}, {8, 3, 3, 6}, {1, 5, 5, 8}, 0.05f, 0.02f,
                         -3, 4, 0, 8, 0, 1, 3, {O("padding", 0), O("stride_w", 2), O("stride_h", 2)}, {0}, false, 0};
  check_case("conv int8", &conv, ETPU_REQUANT_FP32);
  /* no bias: XNNPACK's delegate refuses a conv without bias; builtin single rounding */
  static op_case conv_nb = {ETPU_OP_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 9, 9, 6}, {8, 3, 3, 6}, {1, 9, 9, 8}, 0.05f,
                            0.02f, -3, 4, 0, 8, 0, 0, 3, {O("padding", 0), O("stride_w", 1), O("stride_h", 1)}, {0},
                            false, 0};
  check_case("conv int8 without bias", &conv_nb, ETPU_REQUANT_SINGLE_ROUND);
  /* depthwise, multiplier 2: the option given -> fp32; the option left 0 -> builtin double */
  static op_case dw = {ETPU_OP_DEPTHWISE_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 8, 8, 4}, {1, 3, 3, 8}, {1, 8, 8, 8}, 0.05f,
                       0.01f, 2, -7, 0, 8, 3, 1, 4,
                       {O("padding", 0), O("stride_w", 1), O("stride_h", 1), O("depth_multiplier", 2)}, {0}, false, 0};
  check_case("depthwise int8", &dw, ETPU_REQUANT_FP32);
  static op_case dw0 = {ETPU_OP_DEPTHWISE_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 8, 8, 4}, {1, 3, 3, 8}, {1, 8, 8, 8}, 0.05f,
                        0.01f, 2, -7, 0, 8, 3, 1, 3, {O("padding", 0), O("stride_w", 1), O("stride_h", 1)}, {0},
                        false, 0};
  check_case("depthwise int8, depth_multiplier 0", &dw0, ETPU_REQUANT_DOUBLE_ROUND);
  /* a conv bias without quantization: refused by the delegate */
  static op_case dw_nq = {ETPU_OP_DEPTHWISE_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 8, 8, 4}, {1, 3, 3, 4}, {1, 8, 8, 4},
                          0.05f, 0.01f, 2, -7, 0, 4, 3, 2, 4,
                          {O("padding", 0), O("stride_w", 1), O("stride_h", 1), O("depth_multiplier", 1)}, {0},
                          false, 0};
  check_case("depthwise int8, bias without quantization", &dw_nq, ETPU_REQUANT_DOUBLE_ROUND);
  /* uint8 conv with a weight zero point */
  static op_case conv_u8 = {ETPU_OP_CONV_2D, ETPU_UINT8, 4, 4, 4, {1, 7, 7, 5}, {6, 3, 3, 5}, {1, 4, 4, 6}, 0.04f,
                            0.05f, 131, 119, 211, 1, 0, 1, 3, {O("padding", 0), O("stride_w", 2), O("stride_h", 2)},
                            {0}, false, 0};
  check_case("conv uint8", &conv_u8, ETPU_REQUANT_FP32);
  /* transpose conv int8, per channel, SAME stride 2 */
  static op_case tc = {67, ETPU_INT8, 4, 4, 4, {1, 4, 4, 6}, {5, 3, 3, 6}, {1, 8, 8, 5}, 0.05f, 0.02f, -3, 5, 0, 5, 0,
                       1, 3, {O("padding", 0), O("stride_w", 2), O("stride_h", 2)}, {1, 8, 8, 5}, false, 0};
  check_case("transpose conv int8", &tc, ETPU_REQUANT_FP32);
}

/* RELU_N1_TO_1 on an output of scale 2, zero point 0: the bounds ±0.5 tie. */
static void test_activation_bounds(void) {
  static op_case c = {ETPU_OP_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 6, 6, 4}, {4, 1, 1, 4}, {1, 6, 6, 4}, 0.5f, 2.0f, 0, 0,
                      0, 1, 0, 1, 4,
                      {O("padding", 0), O("stride_w", 1), O("stride_h", 1), O("fused_activation_function", 2)}, {0},
                      false, 0};
  etpu_model *m = make_case(&c);
  if (!m) return;
  int8_t x[144], y[144];
  for (size_t i = 0; i < sizeof x; i++) x[i] = (int8_t)rnd();
  CHECK_OK(run_case(m, ETPU_PROFILE_TFLITE_REF, x, sizeof x, y, sizeof y));
  int lo = 0, hi = 0;
  for (size_t i = 0; i < sizeof y; i++) {
    CHECK(y[i] >= -1 && y[i] <= 1);
    lo += y[i] == -1;
    hi += y[i] == 1;
  }
  CHECK_MSG(lo > 0 && hi > 0, "tflite-ref RELU_N1_TO_1: %d outputs at -1, %d at 1; expected both", lo, hi);
  CHECK_OK(run_case(m, ETPU_PROFILE_LITERT, x, sizeof x, y, sizeof y));
  for (size_t i = 0; i < sizeof y; i++) CHECK_MSG(y[i] == 0, "litert RELU_N1_TO_1: output %zu is %d, want 0", i, y[i]);
  etpu_model_free(m);
}

/* FULLY_CONNECTED: keep_num_dims keeps [2, 3, ·]; without it [6, ·]. */
static void test_fully_connected(void) {
  for (int keep = 0; keep < 2; keep++) {
    op_case c = {ETPU_OP_FULLY_CONNECTED, ETPU_INT8, 3, 2, keep ? 3 : 2, {2, 3, 16}, {7, 16}, {2, 3, 7}, 0.05f, 0.1f,
                 1, -2, 0, 1, 0, 2, 1, {O("keep_num_dims", keep)}, {0}, false, 0};
    if (!keep) {
      c.out_shape[0] = 6;
      c.out_shape[1] = 7;
    }
    etpu_model *m = make_case(&c);
    if (!m) return;
    int8_t x[96], y[42], want[42];
    for (size_t i = 0; i < sizeof x; i++) x[i] = (int8_t)rnd();
    for (int p = 0; p < 2; p++) {
      const etpu_requant_mode mode = p ? ETPU_REQUANT_FP32 : ETPU_REQUANT_DOUBLE_ROUND;
      CHECK_OK(run_case(m, p ? ETPU_PROFILE_LITERT : ETPU_PROFILE_TFLITE_REF, x, sizeof x, y, sizeof y));
      etpu_requant rq;
      CHECK_OK(etpu_requant_init(c.in_scale, g_d.w_scale[0], c.out_scale, mode, &rq));
      const etpu_requant_params q = {&rq, 1, mode};
      const etpu_fc_params fp = {-c.in_zp, 0, c.out_zp, -128, 127};
      const etpu_dims in_d = {6, 1, 1, 16}, f_d = {7, 1, 1, 16}, out_d = {6, 1, 1, 7};
      CHECK_OK(etpu_fully_connected_s8(&fp, &q, &in_d, x, &f_d, (const int8_t *)g_d.w, g_d.b, &out_d, want));
      CHECK_MSG(memcmp(y, want, sizeof y) == 0, "FC keep_num_dims %d, profile %d: differs from the kernel", keep, p);
    }
    etpu_model_free(m);
  }
}

/* float32 conv: the float kernel, RELU6. */
static void test_float(void) {
  op_case c = {ETPU_OP_CONV_2D, ETPU_FLOAT32, 4, 4, 4, {1, 6, 6, 3}, {4, 3, 3, 3}, {1, 3, 3, 4}, 0, 0, 0, 0, 0, 0, 0,
               1, 4, {O("padding", 0), O("stride_w", 2), O("stride_h", 2), O("fused_activation_function", 3)}, {0},
               false, 0};
  etpu_model *m = make_case(&c);
  if (!m) return;
  float x[108], y[36], want[36];
  for (size_t i = 0; i < 108; i++) x[i] = (float)rnd_in(-300, 300) / 100.0f;
  CHECK_OK(run_case(m, ETPU_PROFILE_TFLITE_REF, x, sizeof x, y, sizeof y));
  const etpu_conv_f32_params p = {2, 2, 0, 0, 1, 1, 1, 0.0f, 6.0f}; /* SAME 6 -> 3, stride 2, filter 3: pad 0/1 */
  const etpu_dims in_d = {1, 6, 6, 3}, f_d = {4, 3, 3, 3}, out_d = {1, 3, 3, 4};
  CHECK_OK(etpu_conv2d_f32(&p, &in_d, x, &f_d, g_d.wf, g_d.bf, &out_d, want));
  CHECK(memcmp(y, want, sizeof y) == 0);
  bool some6 = false, some0 = false;
  for (int i = 0; i < 36; i++) some6 |= y[i] == 6.0f, some0 |= y[i] == 0.0f;
  CHECK(some6 && some0);
  etpu_model_free(m);

  /* hybrid: the same conv with int8 weights (per channel, zero point 3) */
  c.w_type = ETPU_INT8;
  c.w_count = 4;
  c.w_zp = 3;
  c.in_scale = c.out_scale = 1.0f; /* unused by float ops; the builder needs no activation quantization */
  m = make_case(&c);
  if (!m) return;
  CHECK_OK(run_case(m, ETPU_PROFILE_LITERT, x, sizeof x, y, sizeof y));
  float wd[108];
  for (int i = 0; i < 108; i++) wd[i] = g_d.w_scale[i / 27] * (float)((int8_t)g_d.w[i] - 3);
  CHECK_OK(etpu_conv2d_f32(&p, &in_d, x, &f_d, wd, g_d.bf, &out_d, want));
  CHECK_MSG(memcmp(y, want, sizeof y) == 0, "hybrid conv differs from the float conv on dequantized weights");
  etpu_model_free(m);
}

/* Prepare rejects: the status, and a message naming the op and the rule. */
static void expect_reject(const char *what, op_case *c, etpu_status want, const char *needle1, const char *needle2) {
  etpu_model *m = make_case(c);
  if (!m) return;
  etpu_interp *ip = NULL;
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = false;
  const etpu_status st = etpu_interp_create(m, &o, &ip);
  CHECK_MSG(st == want, "%s: got %s (%s), want %s", what, etpu_status_name(st), etpu_errmsg(), etpu_status_name(want));
  CHECK_MSG(strstr(etpu_errmsg(), needle1) && strstr(etpu_errmsg(), needle2), "%s: message \"%s\" lacks '%s' or '%s'",
            what, etpu_errmsg(), needle1, needle2);
  CHECK(ip == NULL);
  etpu_interp_free(ip);
  etpu_model_free(m);
}

static void test_rejects(void) {
  op_case dm = {ETPU_OP_DEPTHWISE_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 8, 8, 4}, {1, 3, 3, 8}, {1, 8, 8, 8}, 0.05f, 0.01f,
                2, -7, 0, 8, 3, 1, 4, {O("padding", 0), O("stride_w", 1), O("stride_h", 1), O("depth_multiplier", 3)},
                {0}, false, 0};
  expect_reject("depth_multiplier 3 for 4 -> 8 channels", &dm, ETPU_MALFORMED, "DEPTHWISE_CONV_2D",
                "depth_multiplier 3");
  op_case shape = {ETPU_OP_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 9, 9, 6}, {8, 3, 3, 6}, {1, 9, 9, 8}, 0.05f, 0.02f, -3, 4,
                   0, 8, 0, 1, 3, {O("padding", 0), O("stride_w", 2), O("stride_h", 2)}, {0}, false, 0};
  expect_reject("declared output 9x9 for a stride-2 conv", &shape, ETPU_MALFORMED, "op 0 CONV_2D",
                "'out' has shape [1,9,9,8] but the op computes [1,5,5,8]");
  op_case stride = shape;
  stride.nopt = 1; /* no stride: the schema default 0 */
  expect_reject("missing stride", &stride, ETPU_MALFORMED, "CONV_2D", "stride_h 0");
  op_case mixed = {ETPU_OP_CONV_2D, ETPU_FLOAT32, 4, 4, 4, {1, 5, 5, 2}, {2, 1, 1, 2}, {1, 5, 5, 2}, 0.1f, 0.1f, 0, 0,
                    0, 1, 0, 0, 3, {O("padding", 0), O("stride_w", 1), O("stride_h", 1)}, {0}, false, 0};
  mixed.w_type = ETPU_UINT8;
  g_d.w_scale[0] = 0.01f; /* make_case overwrites it; any scale will do */
  expect_reject("float input with uint8 weights", &mixed, ETPU_UNSUPPORTED, "CONV_2D", "mixed-type");
  op_case shuffled = {ETPU_OP_FULLY_CONNECTED, ETPU_INT8, 2, 2, 2, {1, 16}, {4, 16}, {1, 4}, 0.05f, 0.1f, 0, 0, 0, 1,
                      0, 1, 1, {O("weights_format", 1)}, {0}, false, 0};
  expect_reject("shuffled FC weights", &shuffled, ETPU_UNSUPPORTED, "FULLY_CONNECTED", "weights_format 1");
  op_case dyn = {67, ETPU_INT8, 4, 4, 4, {1, 4, 4, 6}, {5, 3, 3, 6}, {1, 8, 8, 5}, 0.05f, 0.02f, -3, 5, 0, 5, 0, 1, 3,
                 {O("padding", 0), O("stride_w", 2), O("stride_h", 2)}, {1, 8, 8, 5}, true, 0};
  expect_reject("run-time TRANSPOSE_CONV output_shape", &dyn, ETPU_UNSUPPORTED, "TRANSPOSE_CONV", "output_shape");
  op_case fc_depth = {ETPU_OP_FULLY_CONNECTED, ETPU_INT8, 2, 2, 2, {1, 15}, {4, 16}, {1, 4}, 0.05f, 0.1f, 0, 0, 0, 1,
                      0, 1, 0, {{0}}, {0}, false, 0};
  expect_reject("FC input not a multiple of the depth", &fc_depth, ETPU_MALFORMED, "FULLY_CONNECTED", "depth 16");
}

/* Options: defaults from _init, an uninitialised struct_size refused with a
 * message that says what to do, and the first version's size accepted (the
 * fields it lacks take their defaults). */
static void test_options_abi(void) {
  etpu_interp_options d;
  memset(&d, 0xA5, sizeof d);
  etpu_interp_options_init(&d);
  CHECK(d.struct_size == sizeof d && d.profile == ETPU_PROFILE_LITERT && !d.keep_all_tensors && d.num_threads == 0);
  op_case c = {ETPU_OP_CONV_2D, ETPU_INT8, 4, 4, 4, {1, 5, 5, 2}, {2, 1, 1, 2}, {1, 5, 5, 2}, 0.1f, 0.1f, 0, 0,
               0, 1, 0, 0, 3, {O("padding", 0), O("stride_w", 1), O("stride_h", 1)}, {0}, false, 0};
  etpu_model *m = make_case(&c);
  if (!m) return;
  etpu_interp *ip = NULL;
  etpu_interp_options o = d;
  o.struct_size = 0;
  CHECK(etpu_interp_create(m, &o, &ip) == ETPU_INVALID_ARGUMENT && ip == NULL);
  CHECK_MSG(strstr(etpu_errmsg(), "etpu_interp_options_init"), "message \"%s\" does not name the init call",
            etpu_errmsg());
  o.struct_size = sizeof o + 8;
  CHECK(etpu_interp_create(m, &o, &ip) == ETPU_INVALID_ARGUMENT && ip == NULL);
  o = d;
  o.struct_size = offsetof(etpu_interp_options, keep_all_tensors) + sizeof(bool);
  o.num_threads = 77; /* beyond the caller's struct_size: ignored */
  CHECK_OK(etpu_interp_create(m, &o, &ip));
  etpu_interp_free(ip);
  ip = NULL;
  CHECK_OK(etpu_interp_create(m, NULL, &ip));
  etpu_interp_free(ip);
  etpu_model_free(m);
}

int main(void) {
  printf("test_conv_ops: seed 0x%016llx\n", (unsigned long long)g_rng);
  test_profiles();
  test_activation_bounds();
  test_fully_connected();
  test_float();
  test_rejects();
  test_options_abi();
  return tu_finish("test_conv_ops");
}
