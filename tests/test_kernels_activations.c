/*
 * test_kernels_activations.c — checks the activation, resize, LSTM and
 * custom-op kernels (kernels/activations.h, kernels/resize.h) and their
 * runtime glue, in three parts:
 *
 *  1. the gemmlowp fixed-point functions (kernels/fixedpoint.h) against
 *     double-precision math, within their documented accuracy, plus exact
 *     values that follow from the definitions;
 *  2. each kernel on edge values: saturation at the input radius, zero
 *     points at both ends of the type, SOFTMAX's diff_min cut-off, rows of
 *     one element, identity resizes, argument checks and guard bytes;
 *  3. the real check: every op of these kinds in the golden sets
 *     (shared/data/goldens: TFLite Micro for tflite-ref, LiteRT 2.5.3 for
 *     litert) run alone — the model cut down to that one op, run by the
 *     interpreter under the golden's profile on the golden input tensor —
 *     and compared byte for byte with the golden output. A count of
 *     mismatching bytes per op is printed.
 *
 * Random cases use a fixed, printed seed. Without the shared data folder
 * part 3 is skipped (exit 77 when 1 and 2 pass).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/activations.h"
#include "kernels/fixedpoint.h"
#include "kernels/lstm.h"
#include "kernels/postprocess.h"
#include "kernels/requant.h"
#include "kernels/resize.h"
#include "runtime/interp.h"
#include "model/flexbuffers.h"
#include "testutil.h"

/* ------------------------------------------------------------------------
 * Part 1: fixed-point functions
 * ---------------------------------------------------------------------- */

static uint32_t g_seed = 20240531u;
static uint32_t rnd(void) {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}

static void part1_fixedpoint(void) {
  /* exact values from the definitions */
  CHECK(etpu_fp_exp_on_negative_values(0, 5) == INT32_MAX);
  CHECK(etpu_fp_logistic(0, 4) == (1 << 30));
  CHECK(etpu_fp_tanh(0, 4) == 0);
  CHECK(etpu_fp_mul_by_pot(1 << 30, 1) == INT32_MAX);
  CHECK(etpu_fp_mul_by_pot(-(1 << 30), 1) == INT32_MIN);
  CHECK(etpu_fp_mul_by_pot((1 << 29) - 1, 1) == (1 << 30) - 2);
  CHECK(etpu_fp_mul_by_pot(5, -1) == 3 && etpu_fp_mul_by_pot(-5, -1) == -3);
  CHECK(etpu_fp_rounding_half_sum(3, 4) == 4 && etpu_fp_rounding_half_sum(-3, -4) == -4);
  CHECK(etpu_fp_rounding_half_sum(INT32_MAX, INT32_MAX) == INT32_MAX);
  CHECK(etpu_fp_input_radius(4, 20, 31) == 1920);
  CHECK(etpu_fp_input_radius(5, 27, 31) == 15);
  CHECK(etpu_fp_input_radius(5, 31, 31) == 0);
  CHECK(etpu_fp_clz32(0) == 32 && etpu_fp_clz32(1) == 31 && etpu_fp_clz32(0x80000000u) == 0);
  int32_t m;
  int sh;
  etpu_fp_inv_sqrt_multiplier_exp(0, -1, &m, &sh);
  CHECK(m == INT32_MAX && sh == 0);
  etpu_fp_inv_sqrt_multiplier_exp(1, -1, &m, &sh);
  CHECK(m == INT32_MAX && sh == 0);
  /* accuracy against double math over the whole useful range */
  double worst_exp = 0, worst_log = 0, worst_tanh = 0, worst_rec = 0, worst_isq = 0;
  for (int i = 0; i < 20000; i++) {
    const int32_t a = -(int32_t)(rnd() % (32u << 26)); /* Q5.26 in (−32, 0] */
    const double e = etpu_fp_exp_on_negative_values(a, 5) / 2147483648.0;
    const double de = fabs(e - exp(a / 67108864.0));
    if (de > worst_exp) worst_exp = de;
    const int32_t b = (int32_t)(rnd() % (1u << 31)) - (int32_t)(1u << 30); /* Q4.27 in [−8, 8) */
    const double lg = etpu_fp_logistic(b, 4) / 2147483648.0;
    const double dl = fabs(lg - 1.0 / (1.0 + exp(-b / 134217728.0)));
    if (dl > worst_log) worst_log = dl;
    CHECK(etpu_fp_logistic(b, 4) + etpu_fp_logistic(-b, 4) == INT32_MAX || b == 0);
    const double th = etpu_fp_tanh(b, 4) / 2147483648.0;
    const double dt = fabs(th - tanh(b / 134217728.0));
    if (dt > worst_tanh) worst_tanh = dt;
    CHECK(etpu_fp_tanh(-b, 4) == -etpu_fp_tanh(b, 4));
    const int32_t x = (int32_t)((1u << 19) + rnd() % ((1u << 30) - (1u << 19))); /* Q12.19 in [1, 2048) */
    int bits;
    const int32_t r = etpu_fp_reciprocal(x, 12, &bits);
    const double rel = fabs(r / 2147483648.0 / ldexp(1.0, bits) * (x / 524288.0) - 1.0);
    if (rel > worst_rec) worst_rec = rel;
    const int32_t q = (int32_t)(2 + rnd() % 0x7ffffff0u);
    etpu_fp_inv_sqrt_multiplier_exp(q, -1, &m, &sh);
    const double isq = fabs(m / 2147483648.0 * ldexp(1.0, sh) * sqrt((double)q) - 1.0);
    if (isq > worst_isq) worst_isq = isq;
  }
  printf("fixed point (seed 20240531): max error exp %.3g, logistic %.3g, tanh %.3g; relative: reciprocal %.3g, "
         "inv sqrt %.3g\n",
         worst_exp, worst_log, worst_tanh, worst_rec, worst_isq);
  CHECK(worst_exp < 1e-6);
  CHECK(worst_log < 1e-7);
  CHECK(worst_tanh < 1e-7);
  CHECK(worst_rec < 1e-7);
  CHECK(worst_isq < 1e-5);
}

/* ------------------------------------------------------------------------
 * Part 2: kernels on edge values
 * ---------------------------------------------------------------------- */

#define GUARD 16
static void guard_set(uint8_t *p) { memset(p, 0xA5, GUARD); }
static bool guard_ok(const uint8_t *p) {
  for (int i = 0; i < GUARD; i++)
    if (p[i] != 0xA5) return false;
  return true;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

static void test_softmax(void) {
  etpu_softmax_params p;
  /* diff_min: beta·s_in = 1 → multiplier 2^30, shift 27, radius floor(15.5). */
  CHECK_OK(etpu_softmax_params_init(1.0, 1.0, &p));
  CHECK(p.input_multiplier == (1 << 30) && p.input_left_shift == 27 && p.diff_min == -15);
  /* beta·s_in·2^26 above 2^31 − 1 is capped: left shift 31, diff_min 0, so
   * every element below the row maximum is cut off to the type minimum. */
  CHECK_OK(etpu_softmax_params_init(1.0, 64.0, &p));
  CHECK(p.input_left_shift == 31 && p.diff_min == 0);
  {
    const int8_t in[3] = {5, 4, 5};
    int8_t out[3 + GUARD];
    guard_set((uint8_t *)out + 3);
    CHECK_OK(etpu_softmax_s8(&p, 1, 3, in, out));
    CHECK(out[0] == 0 && out[1] == -128 && out[2] == 0);
    CHECK(guard_ok((uint8_t *)out + 3));
  }
  /* s_in below 2^−26 cannot be represented: refused like TFLite's CHECK. */
  CHECK(etpu_softmax_params_init(1.0, 1e-9, &p) == ETPU_UNSUPPORTED);
  /* one element: probability 1 saturates at the type maximum */
  CHECK_OK(etpu_softmax_params_init(1.0, 0.1, &p));
  {
    const int8_t i8 = -128;
    int8_t o8;
    const uint8_t u8 = 255;
    uint8_t ou8;
    int16_t o16;
    CHECK_OK(etpu_softmax_s8(&p, 1, 1, &i8, &o8));
    CHECK_OK(etpu_softmax_u8(&p, 1, 1, &u8, &ou8));
    CHECK_OK(etpu_softmax_s8_s16(&p, 1, 1, &i8, &o16));
    CHECK(o8 == 127 && ou8 == 255 && o16 == 32767);
  }
  /* zero points at both ends: the extremes of the type in one row */
  {
    const int8_t in[2] = {-128, 127};
    int8_t out[2];
    const uint8_t uin[2] = {0, 255};
    uint8_t uout[2];
    CHECK_OK(etpu_softmax_s8(&p, 1, 2, in, out));
    CHECK_OK(etpu_softmax_u8(&p, 1, 2, uin, uout));
    CHECK(out[0] == -128 && out[1] == 127 && uout[0] == 0 && uout[1] == 255);
  }
  /* a uniform row of 4: 1/4 each → 64 steps of 1/256 */
  {
    const int8_t in[4] = {7, 7, 7, 7};
    int8_t out[4];
    CHECK_OK(etpu_softmax_s8(&p, 1, 4, in, out));
    CHECK(out[0] == -64 && out[3] == -64);
  }
  /* random rows: fixed point, float table and exact math agree within 1 */
  int worst_fixed = 0, worst_lut = 0;
  for (int t = 0; t < 200; t++) {
    const float s_in = 0.01f + (float)(rnd() % 1000) / 4000.0f;
    const int depth = 1 + (int)(rnd() % 60);
    int8_t in[64], a[64], b[64];
    for (int i = 0; i < depth; i++) in[i] = (int8_t)(rnd() & 0xff);
    etpu_softmax_lut_params lp;
    CHECK_OK(etpu_softmax_params_init(1.0, s_in, &p));
    CHECK_OK(etpu_softmax_lut_params_init(1.0f, s_in, 1.0f / 256, -128, &lp));
    CHECK_OK(etpu_softmax_s8(&p, 1, depth, in, a));
    CHECK_OK(etpu_softmax_lut_s8(&lp, 1, depth, in, b));
    int mx = -128;
    for (int i = 0; i < depth; i++) mx = in[i] > mx ? in[i] : mx;
    double sum = 0;
    for (int i = 0; i < depth; i++) sum += exp((double)s_in * (in[i] - mx));
    for (int i = 0; i < depth; i++) {
      double want = exp((double)s_in * (in[i] - mx)) / sum * 256.0 - 128.0;
      want = want > 127 ? 127 : want;
      const int da = abs(a[i] - (int)lround(want)), db = abs(b[i] - (int)lround(want));
      worst_fixed = da > worst_fixed ? da : worst_fixed;
      worst_lut = db > worst_lut ? db : worst_lut;
    }
  }
  printf("softmax: random rows, max |error| fixed point %d, float table %d (steps of 1/256)\n", worst_fixed, worst_lut);
  CHECK(worst_fixed <= 1 && worst_lut <= 1);
  /* argument checks */
  int8_t o;
  const int8_t i0 = 0;
  CHECK(etpu_softmax_s8(NULL, 1, 1, &i0, &o) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_softmax_s8(&p, 0, 1, &i0, &o) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_softmax_s8(&p, 1, 1, NULL, &o) == ETPU_INVALID_ARGUMENT);
  float fi[3] = {1, 2, 3}, fo[3];
  CHECK_OK(etpu_softmax_f32(1.0f, 1, 3, fi, fo));
  CHECK(fabsf(fo[0] + fo[1] + fo[2] - 1.0f) < 1e-6f && fo[2] > fo[1]);
}

static void test_sigmoid_tanh(void) {
  etpu_sigmoid_params p;
  /* s_in = 1: multiplier 2^30, shift 28, radius floor(15·2^27 / 2^28) = 7 */
  CHECK_OK(etpu_sigmoid_params_init_s8(1.0f, 0, &p));
  CHECK(p.input_multiplier == (1 << 30) && p.input_left_shift == 28 && p.input_range_radius == 7);
  CHECK(etpu_sigmoid_params_init_s8(1e-9f, 0, &p) == ETPU_UNSUPPORTED);
  {
    const int8_t in[5] = {-7, -6, 0, 6, 7};
    int8_t out[5 + GUARD];
    guard_set((uint8_t *)out + 5);
    CHECK_OK(etpu_logistic_s8(&p, 5, in, out));
    CHECK(out[0] == -128 && out[2] == 0 && out[4] == 127);
    CHECK(out[1] == (int8_t)(lround(256 * sigmoid(-6)) - 128) && out[3] == 127);
    CHECK(guard_ok((uint8_t *)out + 5));
    CHECK_OK(etpu_tanh_s8(&p, 5, in, out));
    CHECK(out[0] == -128 && out[2] == 0 && out[4] == 127 && out[1] == -128 && out[3] == 127); /* 128·tanh(6) rounds to 128 */
  }
  /* zero points at both ends of the type, every input value: fixed point and
   * the table kernels within 1 step of exact math */
  static const struct { int is_signed; int32_t zp; float s; } cases[] = {
      {1, -128, 0.05f}, {1, 127, 0.05f}, {1, 0, 0.2f}, {0, 0, 0.05f}, {0, 255, 0.05f}, {0, 128, 0.03f},
  };
  int worst = 0;
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    const int lo = cases[c].is_signed ? -128 : 0;
    uint8_t in[256], lg[256], th[256], lgt[256], tht[256], tab[256];
    for (int i = 0; i < 256; i++) in[i] = (uint8_t)(lo + i);
    if (cases[c].is_signed) {
      CHECK_OK(etpu_sigmoid_params_init_s8(cases[c].s, cases[c].zp, &p));
      CHECK_OK(etpu_logistic_s8(&p, 256, (int8_t *)in, (int8_t *)lg));
      CHECK_OK(etpu_tanh_s8(&p, 256, (int8_t *)in, (int8_t *)th));
      CHECK_OK(etpu_lut_init(ETPU_LUT_LOGISTIC, ETPU_LUT_ROUND_HALF_AWAY, 1, cases[c].s, cases[c].zp, 1.0f / 256, -128, tab));
      CHECK_OK(etpu_lut_s8(tab, 256, (int8_t *)in, (int8_t *)lgt));
      CHECK_OK(etpu_lut_init(ETPU_LUT_TANH, ETPU_LUT_ROUND_HALF_EVEN, 1, cases[c].s, cases[c].zp, 1.0f / 128, 0, tab));
      CHECK_OK(etpu_lut_s8(tab, 256, (int8_t *)in, (int8_t *)tht));
    } else {
      CHECK_OK(etpu_sigmoid_params_init_u8(cases[c].s, cases[c].zp, &p));
      CHECK_OK(etpu_logistic_u8(&p, 256, in, lg));
      CHECK_OK(etpu_tanh_u8(&p, 256, in, th));
      CHECK_OK(etpu_lut_init(ETPU_LUT_LOGISTIC, ETPU_LUT_ROUND_HALF_AWAY, 0, cases[c].s, cases[c].zp, 1.0f / 256, 0, tab));
      CHECK_OK(etpu_lut_u8(tab, 256, in, lgt));
      CHECK_OK(etpu_lut_init(ETPU_LUT_TANH, ETPU_LUT_ROUND_HALF_EVEN, 0, cases[c].s, cases[c].zp, 1.0f / 128, 128, tab));
      CHECK_OK(etpu_lut_u8(tab, 256, in, tht));
    }
    for (int i = 0; i < 256; i++) {
      const double x = (double)cases[c].s * (lo + i - cases[c].zp);
      double wl = 256 * sigmoid(x) + lo, wt = 128 * tanh(x) + (cases[c].is_signed ? 0 : 128);
      const int hi = lo + 255;
      wl = wl > hi ? hi : wl;
      wt = wt > hi ? hi : (wt < lo ? lo : wt);
      const int v[4] = {cases[c].is_signed ? (int8_t)lg[i] : lg[i], cases[c].is_signed ? (int8_t)th[i] : th[i],
                        cases[c].is_signed ? (int8_t)lgt[i] : lgt[i], cases[c].is_signed ? (int8_t)tht[i] : tht[i]};
      const double w[4] = {wl, wt, wl, wt};
      for (int k = 0; k < 4; k++) {
        const int d = abs(v[k] - (int)lround(w[k]));
        worst = d > worst ? d : worst;
      }
      if (lo + i == cases[c].zp) CHECK(v[0] == (cases[c].is_signed ? 0 : 128) && v[1] == (cases[c].is_signed ? 0 : 128));
    }
  }
  printf("logistic/tanh: every input at 6 (scale, zero point) pairs: max |error| %d step\n", worst);
  CHECK(worst <= 1);
  int8_t o;
  const int8_t i0 = 0;
  CHECK(etpu_logistic_s8(NULL, 1, &i0, &o) == ETPU_INVALID_ARGUMENT);
  uint8_t tab[256];
  CHECK(etpu_lut_init(ETPU_LUT_TANH, ETPU_LUT_ROUND_HALF_AWAY, 1, 0.0f, 0, 1.0f / 128, 0, tab) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_lut_init(ETPU_LUT_TANH, ETPU_LUT_ROUND_HALF_AWAY, 1, 0.1f, 200, 1.0f / 128, 0, tab) == ETPU_INVALID_ARGUMENT);
}

static void test_l2norm(void) {
  /* [zp, zp+3, zp+4] → [0, 0.6, 0.8] in 1/128 steps, at both zero-point ends */
  const int8_t in[3] = {-128, -125, -124};
  int8_t out[3 + GUARD];
  guard_set((uint8_t *)out + 3);
  CHECK_OK(etpu_l2norm_s8(-128, 1, 3, in, out));
  CHECK(out[0] == 0 && out[1] == 77 && out[2] == 102);
  CHECK(guard_ok((uint8_t *)out + 3));
  const uint8_t uin[3] = {255, 252, 251};
  uint8_t uout[3];
  CHECK_OK(etpu_l2norm_u8(255, 1, 3, uin, uout));
  CHECK(uout[0] == 128 && uout[1] == 128 - 77 && uout[2] == 128 - 102);
  /* a single value is ±1: 1.0 saturates at 127 (int8) / 255 (uint8) */
  const int8_t one = 10;
  int8_t o1;
  CHECK_OK(etpu_l2norm_s8(0, 1, 1, &one, &o1));
  CHECK(o1 == 127);
  const int8_t mone = -10;
  CHECK_OK(etpu_l2norm_s8(0, 1, 1, &mone, &o1));
  CHECK(o1 == -128);
  /* an all-zero row stays zero (sum of squares 0 → multiplier INT32_MAX) */
  const int8_t z[4] = {3, 3, 3, 3};
  int8_t zo[4];
  CHECK_OK(etpu_l2norm_s8(3, 1, 4, z, zo));
  CHECK(zo[0] == 0 && zo[3] == 0);
  CHECK(etpu_l2norm_s8(200, 1, 1, &one, &o1) == ETPU_INVALID_ARGUMENT);
  /* random rows within 1 step of exact math */
  int worst = 0;
  for (int t = 0; t < 300; t++) {
    const int depth = 1 + (int)(rnd() % 100);
    const int32_t zp = (int32_t)(rnd() % 256) - 128;
    int8_t x[100], y[100];
    double ss = 0;
    for (int i = 0; i < depth; i++) {
      x[i] = (int8_t)(rnd() & 0xff);
      ss += (double)(x[i] - zp) * (x[i] - zp);
    }
    CHECK_OK(etpu_l2norm_s8(zp, 1, depth, x, y));
    for (int i = 0; i < depth && ss > 1; i++) {
      double w = 128.0 * (x[i] - zp) / sqrt(ss);
      w = w > 127 ? 127 : (w < -128 ? -128 : w);
      const int d = abs(y[i] - (int)lround(w));
      worst = d > worst ? d : worst;
    }
  }
  printf("l2norm: random rows, max |error| %d step\n", worst);
  CHECK(worst <= 1);
}

static void test_relu_family(void) {
  etpu_relu_params p;
  /* same scale, zp at the low end: RELU6 clamps at zp + 6/s */
  CHECK_OK(etpu_relu_params_init(0.0f, 6.0f, 0.05f, -128, 0.05f, -128, -128, 127, &p));
  CHECK(p.activation_min == -128 && p.activation_max == -8);
  const int8_t in[4] = {-128, -100, -8, 127};
  int8_t out[4 + GUARD];
  guard_set((uint8_t *)out + 4);
  CHECK_OK(etpu_relu_s8(&p, 4, in, out));
  CHECK(out[0] == -128 && out[1] == -100 && out[2] == -8 && out[3] == -8);
  CHECK(guard_ok((uint8_t *)out + 4));
  /* zp at the high end: RELU keeps only the zero point */
  CHECK_OK(etpu_relu_params_init(0.0f, INFINITY, 0.05f, 127, 0.05f, 127, -128, 127, &p));
  CHECK_OK(etpu_relu_s8(&p, 4, in, out));
  CHECK(out[0] == 127 && out[3] == 127);
  /* rescaling: output scale half the input's doubles the steps (uint8) */
  CHECK_OK(etpu_relu_params_init(-1.0f, 1.0f, 0.02f, 128, 0.01f, 128, 0, 255, &p));
  const uint8_t uin[4] = {0, 120, 130, 255};
  uint8_t uout[4];
  CHECK_OK(etpu_relu_u8(&p, 4, uin, uout));
  CHECK(p.activation_min == 28 && p.activation_max == 228);
  CHECK(uout[0] == 28 && uout[1] == 112 && uout[2] == 132 && uout[3] == 228);
  /* LEAKY_RELU: alpha 0.25 on the same scale */
  etpu_leaky_relu_params lp;
  CHECK_OK(etpu_leaky_relu_params_init(0.25f, 0.1f, 0, 0.1f, 0, &lp));
  const int8_t lin[5] = {-128, -6, -2, 0, 127};
  int8_t lout[5];
  CHECK_OK(etpu_leaky_relu_s8(&lp, 5, lin, lout));
  CHECK(lout[0] == -32 && lout[1] == -2 && lout[2] == -1 && lout[3] == 0 && lout[4] == 127);
  /* uint8 with zp 255: everything is negative */
  CHECK_OK(etpu_leaky_relu_params_init(0.5f, 0.1f, 255, 0.1f, 255, &lp));
  const uint8_t luin[3] = {0, 253, 255};
  uint8_t luout[3];
  CHECK_OK(etpu_leaky_relu_u8(&lp, 3, luin, luout));
  CHECK(luout[0] == 128 && luout[1] == 254 && luout[2] == 255); /* −127.5: SRDHM rounds the tie up */
  /* PRELU: per-channel alpha broadcast over [1, 2, 2, 3] */
  etpu_prelu_params pp;
  CHECK_OK(etpu_prelu_params_init(0.1f, 0, 0.01f, 0, 0.1f, 0, 0, &pp));
  const etpu_shape4 is = {{1, 2, 2, 3}}, as = {{1, 1, 1, 3}};
  const int8_t pin[12] = {-100, -100, -100, 50, -50, 0, 127, -128, 1, -1, -10, 10};
  const int8_t alpha[3] = {0, 50, 100}; /* 0, 0.5, 1.0 */
  int8_t pout[12 + GUARD];
  guard_set((uint8_t *)pout + 12);
  CHECK_OK(etpu_prelu_s8(&pp, &is, pin, &as, alpha, &is, pout));
  CHECK(pout[0] == 0 && pout[1] == -50 && pout[2] == -100 && pout[3] == 50 && pout[4] == -25 && pout[5] == 0);
  CHECK(pout[7] == -64 && pout[9] == 0 && pout[10] == -5 && pout[11] == 10);
  CHECK(guard_ok((uint8_t *)pout + 12));
  const etpu_shape4 bad = {{1, 1, 1, 2}};
  CHECK(etpu_prelu_s8(&pp, &is, pin, &bad, alpha, &is, pout) == ETPU_INVALID_ARGUMENT);
  /* HARD_SWISH within 1 step of exact math at zero points at both ends */
  static const struct { int is_signed; int32_t zin; float sin; int32_t zout; float sout; } hs[] = {
      {1, -128, 0.05f, -128, 0.03f}, {1, 127, 0.05f, 100, 0.04f}, {1, 0, 0.1f, -20, 0.06f}, {0, 0, 0.04f, 10, 0.03f},
      {0, 255, 0.05f, 200, 0.05f}};
  int worst = 0;
  for (size_t c = 0; c < sizeof hs / sizeof hs[0]; c++) {
    etpu_hard_swish_params hp;
    CHECK_OK(etpu_hard_swish_params_init(hs[c].sin, hs[c].zin, hs[c].sout, hs[c].zout, &hp));
    const int lo = hs[c].is_signed ? -128 : 0;
    uint8_t hin[256], hout[256];
    for (int i = 0; i < 256; i++) hin[i] = (uint8_t)(lo + i);
    if (hs[c].is_signed) CHECK_OK(etpu_hard_swish_s8(&hp, 256, (int8_t *)hin, (int8_t *)hout));
    else CHECK_OK(etpu_hard_swish_u8(&hp, 256, hin, hout));
    for (int i = 0; i < 256; i++) {
      const double x = (double)hs[c].sin * (lo + i - hs[c].zin);
      double r = x + 3;
      r = r < 0 ? 0 : (r > 6 ? 6 : r);
      double w = x * r / 6 / hs[c].sout + hs[c].zout;
      w = w < lo ? lo : (w > lo + 255 ? lo + 255 : w);
      const int v = hs[c].is_signed ? (int8_t)hout[i] : hout[i];
      const int d = abs(v - (int)lround(w));
      worst = d > worst ? d : worst;
    }
  }
  printf("hard swish: every input at 5 (scale, zero point) pairs: max |error| %d step\n", worst);
  CHECK(worst <= 1);
  etpu_hard_swish_params hp;
  CHECK(etpu_hard_swish_params_init(0.1f, 0, 0.0001f, 0, &hp) == ETPU_UNSUPPORTED); /* output exponent > 0 */
}

static void test_resize(void) {
  /* identity: every method copies */
  uint8_t src[2 * 3 * 2], dst[2 * 3 * 2 + GUARD];
  for (int i = 0; i < 12; i++) src[i] = (uint8_t)(i * 23);
  const etpu_dims d = {1, 2, 3, 2};
  for (int m = 0; m < 3; m++)
    for (int f = 0; f < 3; f++) {
      etpu_resize_params rp = {f == 1, f == 2, (etpu_bilinear_method)m};
      guard_set(dst + 12);
      CHECK_OK(etpu_resize_bilinear_u8(&rp, &d, src, &d, dst));
      CHECK(!memcmp(src, dst, 12) && guard_ok(dst + 12));
    }
  /* 1x1 → 3x3: a broadcast; int8 at both ends of the type */
  const int8_t one[2] = {-128, 127};
  int8_t big[18];
  const etpu_dims d1 = {1, 1, 1, 2}, d3 = {1, 3, 3, 2};
  for (int m = 0; m < 3; m++)
    for (int f = 0; f < 3; f++) {
      etpu_resize_params rp = {f == 1, f == 2, (etpu_bilinear_method)m};
      CHECK_OK(etpu_resize_bilinear_s8(&rp, &d1, one, &d3, big));
      /* TFLite's float reference adds 0.5 and truncates toward zero, so an
       * int8 −128 comes out as −127 (a quirk of reference_ops for int8). */
      const int want_lo = m == ETPU_BILINEAR_FLOAT_REF ? -127 : -128;
      bool ok = true;
      for (int i = 0; i < 9; i++) ok = ok && big[2 * i] == want_lo && big[2 * i + 1] == 127;
      CHECK_MSG(ok, "1x1 broadcast, method %d flags %d", m, f);
    }
  /* align_corners 1x2 → 1x3: the middle is the mean, 127.5 → 128 for every method */
  const uint8_t row[2] = {0, 255};
  uint8_t row3[3];
  const etpu_dims r2 = {1, 1, 2, 1}, r3 = {1, 1, 3, 1};
  for (int m = 0; m < 3; m++) {
    etpu_resize_params rp = {true, false, (etpu_bilinear_method)m};
    CHECK_OK(etpu_resize_bilinear_u8(&rp, &r2, row, &r3, row3));
    CHECK_MSG(row3[0] == 0 && row3[1] == 128 && row3[2] == 255, "method %d: %d %d %d", m, row3[0], row3[1], row3[2]);
  }
  /* half-pixel 1x2 → 1x4 int8 [-128, 127]: the methods differ at the border:
   * the float reference and the integer path extrapolate (clamped to the
   * nearest input index, weights 1.25/−0.25), XNNPACK clamps the coordinate */
  const int8_t srow[2] = {-100, 100};
  int8_t o4[3][4];
  const etpu_dims s2 = {1, 1, 2, 1}, s4 = {1, 1, 4, 1};
  for (int m = 0; m < 3; m++) {
    etpu_resize_params rp = {false, true, (etpu_bilinear_method)m};
    CHECK_OK(etpu_resize_bilinear_s8(&rp, &s2, srow, &s4, o4[m]));
  }
  CHECK(o4[0][0] == -99 && o4[0][1] == -49 && o4[0][2] == 50 && o4[0][3] == 100); /* + 0.5, truncated */
  CHECK(o4[1][0] == -100 && o4[1][1] == -50 && o4[1][2] == 50 && o4[1][3] == 100);
  CHECK(o4[2][0] == -100 && o4[2][1] == -50 && o4[2][2] == 50 && o4[2][3] == 100);
  etpu_resize_params both = {true, true, ETPU_BILINEAR_INTEGER};
  CHECK(etpu_resize_bilinear_u8(&both, &r2, row, &r3, row3) == ETPU_INVALID_ARGUMENT);
  /* nearest neighbour index rules */
  const uint8_t n3[3] = {10, 20, 30};
  uint8_t n[6];
  const etpu_dims nd3 = {1, 1, 3, 1}, nd2 = {1, 1, 2, 1}, nd6 = {1, 1, 6, 1};
  etpu_resize_params np = {false, false, ETPU_BILINEAR_FLOAT_REF};
  CHECK_OK(etpu_resize_nearest(&np, 1, &nd3, n3, &nd6, n));
  CHECK(n[0] == 10 && n[1] == 10 && n[2] == 20 && n[3] == 20 && n[4] == 30 && n[5] == 30);
  np.half_pixel_centers = true; /* 3 → 2: floor(0.75) = 0, floor(2.25) = 2 */
  CHECK_OK(etpu_resize_nearest(&np, 1, &nd3, n3, &nd2, n));
  CHECK(n[0] == 10 && n[1] == 30);
  np.half_pixel_centers = false;
  np.align_corners = true; /* 2 → 3: round(0), round(0.5) = 1, round(1) */
  const uint8_t n2[2] = {1, 2};
  CHECK_OK(etpu_resize_nearest(&np, 1, &nd2, n2, &nd3, n));
  CHECK(n[0] == 1 && n[1] == 2 && n[2] == 2);
  float fsrc[2] = {1.5f, -2.5f}, fdst[4];
  np.align_corners = false;
  CHECK_OK(etpu_resize_nearest(&np, 4, &nd2, fsrc, &(etpu_dims){1, 1, 4, 1}, fdst));
  CHECK(fdst[0] == 1.5f && fdst[1] == 1.5f && fdst[2] == -2.5f && fdst[3] == -2.5f);
}

static void test_lstm(void) {
  /* int16 nonlinearities: Q3.12 in, Q0.15 out */
  int worst_s = 0, worst_t = 0;
  for (int32_t x = -32768; x <= 32767; x += 7) {
    int16_t in = (int16_t)x, sg, th;
    etpu_lstm_sigmoid_s16(1, &in, &sg);
    etpu_lstm_tanh_s16(-12, 1, &in, &th);
    const int ds = abs(sg - (int)lround(32768.0 * sigmoid(x / 4096.0)));
    double wt = 32768.0 * tanh(x / 4096.0);
    wt = wt > 32767 ? 32767 : wt;
    const int dt = abs(th - (int)lround(wt));
    worst_s = ds > worst_s ? ds : worst_s;
    worst_t = dt > worst_t ? dt : worst_t;
  }
  int16_t z = 0, zs, zt;
  etpu_lstm_sigmoid_s16(1, &z, &zs);
  etpu_lstm_tanh_s16(-12, 1, &z, &zt);
  CHECK(zs == 16384 && zt == 0);
  printf("lstm: int16 sigmoid max |error| %d, tanh %d (steps of 2^-15)\n", worst_s, worst_t);
  CHECK(worst_s <= 2 && worst_t <= 2);

  /* a small LSTM in float and in int8: the dequantized outputs agree */
  enum { B = 2, T = 5, I = 3, S = 4 };
  float wf[8][S * S > S * I ? S * S : S * I], bf[4][S], xf[B * T * I];
  int8_t wq[8][S * S > S * I ? S * S : S * I], xq[B * T * I];
  int32_t bq[4][S];
  etpu_lstm_scales sc = {0};
  sc.input = 1.0f / 64;
  sc.input_zero_point = -10;
  sc.hidden = 1.0f / 128;
  sc.hidden_zero_point = 3;
  sc.cell = 1.0f / 4096;
  sc.cell_clip = 4.0f;
  for (int g = 0; g < 8; g++) {
    const int n = g < 4 ? S * I : S * S;
    const float s = 0.01f;
    for (int i = 0; i < n; i++) {
      wf[g][i] = ((float)(int)(rnd() % 201) - 100.0f) * s;
      wq[g][i] = (int8_t)lroundf(wf[g][i] / s);
    }
    if (g < 4) sc.input_weights[g] = s;
    else sc.recurrent_weights[g - 4] = s;
  }
  for (int g = 0; g < 4; g++)
    for (int i = 0; i < S; i++) {
      const float bs = sc.input * sc.input_weights[g];
      bq[g][i] = (int32_t)(rnd() % 20001) - 10000;
      bf[g][i] = bq[g][i] * bs;
    }
  for (int i = 0; i < B * T * I; i++) {
    xq[i] = (int8_t)(rnd() & 0xff);
    xf[i] = sc.input * (float)(xq[i] - sc.input_zero_point);
  }
  etpu_lstm_s8_params p;
  CHECK_OK(etpu_lstm_s8_params_init(&sc, &p));
  CHECK(p.cell_scale_power == -12 && p.cell_clip == 16384);
  const etpu_lstm_dims dims = {B, T, I, S, false};
  int8_t hq[B * S], oq[B * T * S + GUARD];
  int16_t cq[B * S] = {0};
  float hf[B * S] = {0}, cf[B * S] = {0}, of[B * T * S];
  for (int i = 0; i < B * S; i++) hq[i] = (int8_t)sc.hidden_zero_point;
  etpu_lstm_s8_data dq = {xq, {wq[0], wq[1], wq[2], wq[3]}, {wq[4], wq[5], wq[6], wq[7]}, {bq[0], bq[1], bq[2], bq[3]},
                          hq, cq, oq};
  etpu_lstm_f32_data df = {xf, {wf[0], wf[1], wf[2], wf[3]}, {wf[4], wf[5], wf[6], wf[7]}, {bf[0], bf[1], bf[2], bf[3]},
                           hf, cf, of};
  int16_t scratch[4 * S];
  float fscratch[4 * S];
  CHECK(etpu_lstm_s8_get_buffer_size(&dims) == sizeof scratch);
  CHECK(etpu_lstm_s8(&dims, &p, &dq, scratch, sizeof scratch - 1) == ETPU_INVALID_ARGUMENT);
  guard_set((uint8_t *)oq + B * T * S);
  CHECK_OK(etpu_lstm_s8(&dims, &p, &dq, scratch, sizeof scratch));
  CHECK(guard_ok((uint8_t *)oq + B * T * S));
  CHECK_OK(etpu_lstm_f32(&dims, sc.cell_clip, &df, fscratch, sizeof fscratch));
  float worst = 0;
  for (int i = 0; i < B * T * S; i++) {
    const float d = fabsf(sc.hidden * (float)(oq[i] - sc.hidden_zero_point) - of[i]);
    worst = d > worst ? d : worst;
  }
  printf("lstm: int8 vs float on a random 2x5x3 -> 4 LSTM: max |difference| %.4f\n", (double)worst);
  CHECK(worst < 0.05f);
  /* time-major on the transposed input gives the same numbers */
  int8_t xt[B * T * I], ht[B * S], ot[B * T * S];
  int16_t ct[B * S] = {0};
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) memcpy(xt + (t * B + b) * I, xq + (b * T + t) * I, I);
  for (int i = 0; i < B * S; i++) ht[i] = (int8_t)sc.hidden_zero_point;
  const etpu_lstm_dims tm = {B, T, I, S, true};
  etpu_lstm_s8_data dt = dq;
  dt.input = xt;
  dt.hidden_state = ht;
  dt.cell_state = ct;
  dt.output = ot;
  int16_t scratch2[4 * B * S];
  CHECK_OK(etpu_lstm_s8(&tm, &p, &dt, scratch2, sizeof scratch2));
  bool same = true;
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++) same = same && !memcmp(ot + (t * B + b) * S, oq + (b * T + t) * S, S);
  CHECK(same && !memcmp(ht, hq, sizeof ht) && !memcmp(ct, cq, sizeof ct));
}

/* Boxes as (y, x, h, w) anchors with zero encodings decode to themselves. */
static void test_detection(void) {
  /* 4 anchors: 0 and 1 overlap strongly (IoU 0.6), 2 far away, 3 overlaps 2 a little */
  const float anchors[4][4] = {{0.5f, 0.5f, 0.2f, 0.2f}, {0.52f, 0.5f, 0.2f, 0.2f}, {0.1f, 0.1f, 0.1f, 0.1f},
                               {0.1f, 0.17f, 0.1f, 0.1f}};
  const float enc[4][4] = {{0}};
  /* background + 2 classes */
  const float scores[4][3] = {{0.9f, 0.8f, 0.1f}, {0.0f, 0.7f, 0.75f}, {0.5f, 0.2f, 0.6f}, {0.1f, 0.55f, 0.3f}};
  etpu_detection_params p = {3, 1, 100, 0.25f, 0.5f, 2, 10.0f, 10.0f, 5.0f, 5.0f, false};
  const etpu_detection_dims d = {4, 4, 3};
  const etpu_qview ve = {enc, ETPU_FLOAT32, 0, 0}, vs = {scores, ETPU_FLOAT32, 0, 0}, va = {anchors, ETPU_FLOAT32, 0, 0};
  float boxes[3 * 2 * 4], classes[3 * 2], sc[3 * 2], num[1];
  const etpu_detection_outputs out = {boxes, classes, sc, num};
  static uint8_t scratch[8192];
  const size_t need = etpu_detection_postprocess_get_buffer_size(&p, &d);
  CHECK(need > 0 && need <= sizeof scratch);
  CHECK(etpu_detection_postprocess(&p, &d, &ve, &vs, &va, &out, scratch, need - 1) == ETPU_INVALID_ARGUMENT);
  /* fast NMS: best class per anchor 0.8 (a0, class 0), 0.75 (a1, class 1),
   * 0.6 (a2, class 1), 0.55 (a3, class 0); a1 overlaps a0 (IoU 0.6 > 0.5) */
  CHECK_OK(etpu_detection_postprocess(&p, &d, &ve, &vs, &va, &out, scratch, need));
  CHECK(num[0] == 3.0f);
  CHECK(classes[0] == 0.0f && sc[0] == 0.8f && classes[1] == 1.0f && sc[1] == 0.6f && classes[2] == 0.0f &&
        sc[2] == 0.55f);
  CHECK(fabsf(boxes[0] - 0.4f) < 1e-6f && fabsf(boxes[1] - 0.4f) < 1e-6f && fabsf(boxes[2] - 0.6f) < 1e-6f &&
        fabsf(boxes[3] - 0.6f) < 1e-6f);
  /* two classes per anchor: slots i·2 + c */
  p.max_classes_per_detection = 2;
  CHECK_OK(etpu_detection_postprocess(&p, &d, &ve, &vs, &va, &out, scratch, sizeof scratch));
  CHECK(num[0] == 3.0f && classes[0] == 0.0f && classes[1] == 1.0f && sc[1] == 0.1f && classes[2] == 1.0f &&
        classes[3] == 0.0f && sc[3] == 0.2f);
  /* regular NMS: per class; class 0 keeps a0 (0.8) and a3 (0.55), class 1
   * keeps a1 (0.75) and a2 (0.6) and a3 (0.3); top 3 overall */
  p.max_classes_per_detection = 1;
  p.use_regular_nms = true;
  CHECK_OK(etpu_detection_postprocess(&p, &d, &ve, &vs, &va, &out, scratch, sizeof scratch));
  CHECK(num[0] == 3.0f && sc[0] == 0.8f && classes[0] == 0.0f && sc[1] == 0.75f && classes[1] == 1.0f &&
        sc[2] == 0.6f && classes[2] == 1.0f);
  /* uint8 inputs dequantize to the same numbers */
  uint8_t qs[4][3], qe[4][4], qa[4][4];
  for (int i = 0; i < 4; i++) {
    for (int c = 0; c < 3; c++) qs[i][c] = (uint8_t)lroundf(scores[i][c] * 100.0f);
    for (int c = 0; c < 4; c++) {
      qe[i][c] = 128;
      qa[i][c] = (uint8_t)lroundf(anchors[i][c] * 250.0f);
    }
  }
  const etpu_qview qve = {qe, ETPU_UINT8, 0.1f, 128}, qvs = {qs, ETPU_UINT8, 0.01f, 0}, qva = {qa, ETPU_UINT8, 0.004f, 0};
  CHECK_OK(etpu_detection_postprocess(&p, &d, &qve, &qvs, &qva, &out, scratch, sizeof scratch));
  CHECK(num[0] == 3.0f && fabsf(sc[0] - 0.8f) < 1e-6f && classes[1] == 1.0f && fabsf(boxes[0] - 0.4f) < 1e-5f);
  /* errors: IoU threshold outside (0, 1], an inverted box (negative anchor height) */
  p.iou_threshold = 0.0f;
  CHECK(etpu_detection_postprocess(&p, &d, &ve, &vs, &va, &out, scratch, sizeof scratch) == ETPU_INVALID_ARGUMENT);
  p.iou_threshold = 0.5f;
  float bad[4][4];
  memcpy(bad, anchors, sizeof bad);
  bad[2][2] = -0.1f;
  const etpu_qview vb = {bad, ETPU_FLOAT32, 0, 0};
  CHECK(etpu_detection_postprocess(&p, &d, &ve, &vs, &vb, &out, scratch, sizeof scratch) == ETPU_INVALID_ARGUMENT);
}

static void test_posenet_synthetic(void) {
  /* 5x5 map, every logit −10 but the nose at cell (2, 3): one pose whose
   * nose is there (pixels: ×stride) and whose other keypoints score ~0 */
  enum { H = 5, W = 5 };
  static float heat[H][W][17], shorts[H][W][34], mids[H][W][64];
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int k = 0; k < 17; k++) heat[y][x][k] = -10.0f;
  heat[2][3][0] = 5.0f;
  const etpu_posenet_params p = {2, 0.05f, 16, 20.0f};
  float kps[2 * 17 * 2], ks[2 * 17], ps[2], n[1];
  const etpu_posenet_outputs out = {kps, ks, ps, n, NULL};
  static uint8_t scratch[65536];
  const size_t need = etpu_posenet_decoder_get_buffer_size(&p, H, W, false);
  CHECK(need > 0 && need <= sizeof scratch);
  const etpu_qview vh = {heat, ETPU_FLOAT32, 0, 0}, vs = {shorts, ETPU_FLOAT32, 0, 0}, vm = {mids, ETPU_FLOAT32, 0, 0};
  CHECK_OK(etpu_posenet_decoder(&p, H, W, &vh, &vs, &vm, NULL, &out, scratch, need));
  CHECK(n[0] == 1.0f);
  CHECK(kps[0] == 32.0f && kps[1] == 48.0f && fabsf(ks[0] - (float)sigmoid(5.0)) < 1e-6f && ks[1] < 1e-4f);
  CHECK(fabsf(ps[0] - ((float)sigmoid(5.0) + 16.0f * (float)sigmoid(-10.0)) / 17.0f) < 1e-6f && ps[1] == 0.0f);
  /* above the threshold nothing is found */
  const etpu_posenet_params p2 = {2, 0.5f, 16, 20.0f};
  CHECK_OK(etpu_posenet_decoder(&p2, H, W, &vh, &vs, &vm, NULL, &out, scratch, need));
  CHECK(n[0] == 0.0f);
  CHECK(etpu_posenet_decoder(&p, H, W, &vh, &vs, &vm, NULL, &out, scratch, need - 1) == ETPU_INVALID_ARGUMENT);
}

/* ------------------------------------------------------------------------
 * Part 3: goldens, one op at a time
 * ---------------------------------------------------------------------- */

/* Op codes checked against the goldens. */
static bool golden_kind(int32_t code) {
  switch (code) {
    case 11: /* L2_NORMALIZATION */
    case 14: /* LOGISTIC */
    case 19: /* RELU */
    case 20: /* RELU_N1_TO_1 */
    case 21: /* RELU6 */
    case 23: /* RESIZE_BILINEAR */
    case 25: /* SOFTMAX */
    case 28: /* TANH */
    case 44: /* UNIDIRECTIONAL_SEQUENCE_LSTM */
    case 54: /* PRELU */
    case 97: /* RESIZE_NEAREST_NEIGHBOR */
    case 98: /* LEAKY_RELU */
    case 117: /* HARD_SWISH */
      return true;
    default:
      return false;
  }
}

static bool load_bin(const char *dir, const char *name, unsigned char **d, size_t *n) {
  char path[4600];
  snprintf(path, sizeof path, "%.4400s/%.64s", dir, name);
  return tu_read_file(path, d, n);
}

static const char *model_path(char **paths, size_t n, const char *stem) {
  char want[300];
  /* The goldens' own copies first (goldens README: the coral/ build of
   * mobilenet_v2_1.0_224_quant is a different model of the same name). */
  snprintf(want, sizeof want, "/goldens/models/%s.tflite", stem);
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(paths[i]), w = strlen(want);
    if (l >= w && !strcmp(paths[i] + l - w, want)) return paths[i];
  }
  snprintf(want, sizeof want, "/%s.tflite", stem);
  for (size_t i = 0; i < n; i++) {
    size_t l = strlen(paths[i]), w = strlen(want);
    if (l >= w && !strcmp(paths[i] + l - w, want) && !strstr(paths[i], "/legacy/")) return paths[i];
  }
  return NULL;
}

typedef struct golden_totals {
  uint32_t ops, bad_ops;
  uint64_t bytes, bad_bytes;
} golden_totals;

/* Run op `oi` of the model at path alone on golden input k; compare. */
static void golden_op(const char *path, const char *profile, const char *dir, uint32_t oi, int k, golden_totals *gt) {
  etpu_model *m = NULL;
  if (etpu_model_open(path, &m) != ETPU_OK) {
    CHECK_MSG(0, "%s: %s", path, etpu_errmsg());
    return;
  }
  etpu_op_info op;
  CHECK_OK(etpu_model_op(m, 0, oi, &op));
  /* Keep the op's lists: removing ops renumbers, not the tensors. */
  int32_t ins[32], outs[8], acts[32];
  uint32_t nin = op.input_count < 32 ? op.input_count : 32, nout = op.output_count < 8 ? op.output_count : 8, na = 0;
  memcpy(ins, op.inputs, nin * sizeof *ins);
  memcpy(outs, op.outputs, nout * sizeof *outs);
  const char *opname = op.name;
  char namebuf[64];
  snprintf(namebuf, sizeof namebuf, "%s", opname);
  for (uint32_t q = 0; q < nin; q++) {
    etpu_tensor_info ti;
    if (ins[q] < 0 || etpu_model_tensor(m, 0, (uint32_t)ins[q], &ti) != ETPU_OK) continue;
    if (!ti.data && !ti.is_variable) acts[na++] = ins[q];
  }
  uint32_t nops = etpu_model_op_count(m, 0);
  etpu_status st = ETPU_OK;
  for (uint32_t i = nops; i-- > 0 && st == ETPU_OK;)
    if (i != oi) st = etpu_model_remove_op(m, 0, i);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, na, acts, nout, outs);
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = !strcmp(profile, "litert") ? ETPU_PROFILE_LITERT : ETPU_PROFILE_TFLITE_REF;
  o.keep_all_tensors = true;
  etpu_interp *ip = NULL;
  if (st == ETPU_OK) st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  /* TFLite Micro starts an int8 variable tensor (the LSTM hidden state) at
   * its zero point (MicroInterpreterGraph::ResetTensorData); etpu's
   * interpreter zero-fills state tensors, so set them here. */
  for (uint32_t q = 0; q < nin && st == ETPU_OK; q++) {
    etpu_tensor_info ti;
    if (ins[q] < 0 || etpu_model_tensor(m, 0, (uint32_t)ins[q], &ti) != ETPU_OK || !ti.is_variable) continue;
    uint8_t *mem = etpu_interp_tensor_mem(ip, (uint32_t)ins[q]);
    size_t bytes = 1;
    for (uint32_t d = 0; d < ti.rank; d++) bytes *= (size_t)ti.shape[d];
    if (mem && ti.type == ETPU_INT8 && ti.quant_count) memset(mem, (uint8_t)(int8_t)ti.zero_point[0], bytes);
  }
  for (uint32_t q = 0; q < na && st == ETPU_OK; q++) {
    char name[64];
    unsigned char *d;
    size_t nd;
    snprintf(name, sizeof name, "t%d_%d.bin", acts[q], k);
    if (!load_bin(dir, name, &d, &nd)) {
      snprintf(name, sizeof name, "input_%d.bin", k);
      if (!load_bin(dir, name, &d, &nd)) {
        st = etpu_fail(ETPU_IO_ERROR, "no golden for input t%d", acts[q]);
        break;
      }
    }
    st = etpu_interp_set_input(ip, q, d, nd);
    free(d);
  }
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  if (st != ETPU_OK) {
    CHECK_MSG(0, "%s %s op %u %s input %d: %s", profile, dir, oi, namebuf, k, etpu_errmsg());
  } else {
    uint64_t bad = 0, total = 0;
    int first = -1, want_v = 0, got_v = 0;
    for (uint32_t q = 0; q < nout; q++) {
      char name[64];
      unsigned char *want;
      size_t nw;
      snprintf(name, sizeof name, "t%d_%d.bin", outs[q], k);
      if (!load_bin(dir, name, &want, &nw)) continue;
      const void *got;
      size_t ng;
      CHECK_OK(etpu_interp_output(ip, q, &got, &ng));
      CHECK(ng == nw);
      for (size_t i = 0; i < nw && i < ng; i++)
        if (((const unsigned char *)got)[i] != want[i]) {
          if (first < 0) {
            first = (int)i;
            want_v = want[i];
            got_v = ((const unsigned char *)got)[i];
          }
          bad++;
        }
      total += nw;
      free(want);
    }
    printf("  %-10s %-46s op %3u %-28s input %d: %llu of %llu bytes differ", profile, strrchr(dir, '/') + 1, oi,
           namebuf, k, (unsigned long long)bad, (unsigned long long)total);
    if (bad) printf(" (first at byte %d: expected %d, got %d)", first, want_v, got_v);
    printf("\n");
    gt->ops++;
    gt->bytes += total;
    gt->bad_bytes += bad;
    if (bad) gt->bad_ops++;
    CHECK_MSG(bad == 0, "%s %s op %u %s input %d: %llu bytes differ", profile, dir, oi, namebuf, k,
              (unsigned long long)bad);
  }
  etpu_interp_free(ip);
  etpu_model_free(m);
}

/* deeplab dm05 (litert) stores neither RESIZE_BILINEAR op 70's output
 * (513x513x21) nor ARG_MAX's input, only t183 (op 70's input, input 0) and
 * t185 (ARG_MAX of op 70's output): run op 70 alone, take the arg max over
 * the channels here (first maximum, as TFLite) and compare with t185. */
static void golden_deeplab_chain(const char *shared, char **paths, size_t n, golden_totals *gt) {
  const char *path = model_path(paths, n, "deeplabv3_mnv2_dm05_pascal_quant");
  char dir[4400];
  snprintf(dir, sizeof dir, "%.4000s/goldens/litert/deeplabv3_mnv2_dm05_pascal_quant", shared);
  unsigned char *in = NULL, *want = NULL;
  size_t nin, nw;
  if (!path || !load_bin(dir, "t183_0.bin", &in, &nin) || !load_bin(dir, "t185_0.bin", &want, &nw)) {
    free(in);
    return;
  }
  etpu_model *m = NULL;
  etpu_status st = etpu_model_open(path, &m);
  const uint32_t target = 70;
  int32_t tin = 183, tout = 184;
  for (uint32_t i = st == ETPU_OK ? etpu_model_op_count(m, 0) : 0; i-- > 0 && st == ETPU_OK;)
    if (i != target) st = etpu_model_remove_op(m, 0, i);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 1, &tin, 1, &tout);
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ETPU_PROFILE_LITERT;
  o.keep_all_tensors = false;
  etpu_interp *ip = NULL;
  if (st == ETPU_OK) st = etpu_interp_create(m, &o, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  if (st == ETPU_OK) st = etpu_interp_set_input(ip, 0, in, nin);
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  const void *got = NULL;
  size_t ng = 0;
  if (st == ETPU_OK) st = etpu_interp_output(ip, 0, &got, &ng);
  CHECK_MSG(st == ETPU_OK, "deeplab op 70: %s", etpu_errmsg());
  if (st == ETPU_OK && ng == 513u * 513u * 21u && nw == 513u * 513u * 8u) {
    uint64_t bad = 0;
    for (size_t px = 0; px < 513u * 513u; px++) {
      const uint8_t *c = (const uint8_t *)got + px * 21;
      int64_t best = 0, w;
      for (int k = 1; k < 21; k++)
        if (c[k] > c[best]) best = k;
      memcpy(&w, want + px * 8, 8);
      if (w != best) bad++;
    }
    printf("  %-10s %-46s op %3u %-28s input 0: arg max differs at %llu of %u pixels (t185)\n", "litert",
           "deeplabv3_mnv2_dm05_pascal_quant", target, "RESIZE_BILINEAR 33->513", (unsigned long long)bad, 513u * 513u);
    gt->ops++;
    if (bad) gt->bad_ops++;
    CHECK(bad == 0);
  }
  etpu_interp_free(ip);
  etpu_model_free(m);
  free(in);
  free(want);
}

/* ------------------------------------------------------------------------
 * Part 3b: the custom ops on real Coral models
 * ---------------------------------------------------------------------- */

static bool custom_options(const etpu_model *m, const char *name, const uint8_t **opts, size_t *n, uint32_t *index) {
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, i, &op) == ETPU_OK && op.code == ETPU_OP_CUSTOM && !strcmp(op.name, name)) {
      *opts = op.custom_options;
      *n = op.custom_options_size;
      *index = i;
      return true;
    }
  }
  return false;
}

/* The options of real models, and a FlexBuffers reader that survives every
 * truncation and every single-byte change of them. */
static void custom_flexbuffers(const char *shared, char **paths, size_t n) {
  const char *traffic = model_path(paths, n, "traffic_model");
  const char *posenet = model_path(paths, n, "posenet_mobilenet_v1_075_353_481_16_quant_decoder");
  etpu_model *m = NULL;
  (void)shared;
  if (traffic && etpu_model_open(traffic, &m) == ETPU_OK) {
    const uint8_t *o;
    size_t size;
    uint32_t oi;
    if (custom_options(m, "TFLite_Detection_PostProcess", &o, &size, &oi)) {
      etpu_flex_value v;
      CHECK(etpu_flex_map_get(o, size, "max_detections", &v) && v.present && !v.is_float);
      const int64_t maxdet = v.i;
      CHECK(etpu_flex_map_get(o, size, "num_classes", &v) && v.present && v.i == 3);
      CHECK(etpu_flex_map_get(o, size, "y_scale", &v) && v.present && v.is_float && v.f > 0);
      CHECK(etpu_flex_map_get(o, size, "nms_iou_threshold", &v) && v.present && v.f > 0 && v.f <= 1);
      CHECK(etpu_flex_map_get(o, size, "no_such_key", &v) && !v.present);
      printf("traffic_model op %u TFLite_Detection_PostProcess: %zu option bytes, max_detections %lld\n", oi, size,
             (long long)maxdet);
      /* robustness: truncations and byte changes never crash (ASan in CI) */
      uint8_t *copy = malloc(size);
      for (size_t cut = 0; cut < size; cut++) (void)etpu_flex_map_get(o, cut, "max_detections", &v);
      for (size_t i = 0; copy && i < size; i++)
        for (int b = 0; b < 8; b++) {
          memcpy(copy, o, size);
          copy[i] ^= (uint8_t)(1u << b);
          (void)etpu_flex_map_get(copy, size, "nms_iou_threshold", &v);
          (void)etpu_flex_map_get(copy, size, "w_scale", &v);
        }
      free(copy);
      /* the op alone on random bytes: runs, reports at most max_detections */
      int32_t ins[3];
      etpu_op_info op;
      CHECK_OK(etpu_model_op(m, 0, oi, &op));
      memcpy(ins, op.inputs, sizeof ins);
      int32_t outs[4];
      memcpy(outs, op.outputs, sizeof outs);
      etpu_status st = ETPU_OK;
      for (uint32_t i = etpu_model_op_count(m, 0); i-- > 0 && st == ETPU_OK;)
        if (i != oi) st = etpu_model_remove_op(m, 0, i);
      if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 2, ins, 4, outs);
      etpu_interp_options io;
      etpu_interp_options_init(&io);
      io.profile = ETPU_PROFILE_TFLITE_REF;
      io.keep_all_tensors = false;
      etpu_interp *ip = NULL;
      if (st == ETPU_OK) st = etpu_interp_create(m, &io, &ip);
      if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
      for (int q = 0; q < 2 && st == ETPU_OK; q++) {
        etpu_tensor_info ti;
        st = etpu_model_tensor(m, 0, (uint32_t)ins[q], &ti);
        size_t bytes = 1;
        for (uint32_t d = 0; d < ti.rank; d++) bytes *= (size_t)ti.shape[d];
        uint8_t *buf = malloc(bytes);
        for (size_t i = 0; buf && i < bytes; i++) buf[i] = (uint8_t)(rnd() & 0xff);
        if (st == ETPU_OK) st = etpu_interp_set_input(ip, (uint32_t)q, buf, bytes);
        free(buf);
      }
      if (st == ETPU_OK) st = etpu_interp_invoke(ip);
      const void *num = NULL, *boxes = NULL;
      size_t nn = 0, nb = 0;
      if (st == ETPU_OK) st = etpu_interp_output(ip, 3, &num, &nn);
      if (st == ETPU_OK) st = etpu_interp_output(ip, 0, &boxes, &nb);
      CHECK_MSG(st == ETPU_OK, "traffic_model detection op alone: %s", etpu_errmsg());
      if (st == ETPU_OK) {
        const float count = *(const float *)num;
        CHECK(nn == 4 && nb == (size_t)maxdet * 16 && count >= 0 && count <= (float)maxdet);
        printf("traffic_model detection op alone on random inputs: %g detections\n", (double)count);
      }
      etpu_interp_free(ip);
    }
  }
  etpu_model_free(m);
  m = NULL;
  if (posenet && etpu_model_open(posenet, &m) == ETPU_OK) {
    const uint8_t *o;
    size_t size;
    uint32_t oi;
    etpu_flex_value v;
    CHECK(custom_options(m, "PosenetDecoderOp", &o, &size, &oi));
    CHECK(etpu_flex_map_get(o, size, "stride", &v) && v.present && v.i == 16);
    CHECK(etpu_flex_map_get(o, size, "score_threshold", &v) && v.present && v.f > 0 && v.f < 1);
  }
  etpu_model_free(m);
}

/* The whole PoseNet / BodyPix model (when every op is available) on
 * test_image.bmp against libcoral's reference results, with libcoral's own
 * test tolerances (pose score ±0.1; keypoints scoring > 0.7 within 0.04 of
 * the image size; BodyPix masks within 5 % of their cells). */
static void custom_posenet_models(const char *shared, char **paths, size_t n) {
  static const char *const stems[2] = {"posenet_mobilenet_v1_075_353_481_16_quant_decoder",
                                       "bodypix_mobilenet_v1_075_512_512_16_quant_decoder"};
  for (int run = 0; run < 4; run++) {
    const int mi = run / 2;
    const char *profile = run % 2 ? "litert" : "tflite-ref";
    const char *path = model_path(paths, n, stems[mi]);
    if (!path) continue;
    etpu_model *m = NULL;
    etpu_interp *ip = NULL;
    etpu_image *img = NULL;
    char file[4400];
    etpu_interp_options io;
    etpu_interp_options_init(&io);
    io.profile = run % 2 ? ETPU_PROFILE_LITERT : ETPU_PROFILE_TFLITE_REF;
    io.keep_all_tensors = false;
    etpu_status st = etpu_model_open(path, &m);
    if (st == ETPU_OK) st = etpu_interp_create(m, &io, &ip);
    if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
    if (st != ETPU_OK) {
      printf("%s (%s): not runnable yet: %s\n", stems[mi], profile, etpu_errmsg());
      etpu_interp_free(ip);
      etpu_model_free(m);
      continue;
    }
    snprintf(file, sizeof file, "%.4000s/coral/posenet/test_image.bmp", shared);
    etpu_tensor_info ti;
    CHECK_OK(etpu_model_tensor(m, 0, (uint32_t)etpu_interp_input_index(ip, 0), &ti));
    const size_t bytes = (size_t)ti.shape[1] * (size_t)ti.shape[2] * (size_t)ti.shape[3];
    uint8_t *in = malloc(bytes);
    st = etpu_image_read(file, &img);
    if (st == ETPU_OK) st = etpu_image_to_tensor(img, &ti, NULL, in, bytes);
    if (st == ETPU_OK) st = etpu_interp_set_input(ip, 0, in, bytes);
    if (st == ETPU_OK) st = etpu_interp_invoke(ip);
    free(in);
    etpu_image_free(img);
    const void *o[5];
    size_t on[5];
    for (uint32_t k = 0; k < 4 + (uint32_t)mi && st == ETPU_OK; k++) st = etpu_interp_output(ip, k, &o[k], &on[k]);
    CHECK_MSG(st == ETPU_OK, "%s: %s", stems[mi], etpu_errmsg());
    if (st == ETPU_OK) {
      const float *kp = o[0], *ks = o[1], *ps = o[2], count = *(const float *)o[3];
      const float H = (float)ti.shape[1], W = (float)ti.shape[2];
      snprintf(file, sizeof file, "%.4000s/coral/posenet/%s_reference.csv", shared, stems[mi]);
      FILE *f = fopen(file, "r");
      char line[256];
      int poses = 0, checked = 0, bad = 0;
      float worst = 0, worst_score = 0;
      if (f && fgets(line, sizeof line, f)) {
        int pid, kid;
        float pscore, kscore, x, y;
        while (fgets(line, sizeof line, f) && sscanf(line, "%d,%f,%d,%f,%f,%f", &pid, &pscore, &kid, &kscore, &x, &y) == 6) {
          if (pid + 1 > poses) poses = pid + 1;
          if (pid >= (int)count || pid < 0 || kid < 0 || kid > 16) {
            bad++;
            continue;
          }
          const float dscore = fabsf(ps[pid] - pscore);
          worst_score = dscore > worst_score ? dscore : worst_score;
          const float gks = ks[pid * 17 + kid];
          if (kscore > 0.7f && gks > 0.7f) {
            const float dy = fabsf(kp[(pid * 17 + kid) * 2] / H - y), dx = fabsf(kp[(pid * 17 + kid) * 2 + 1] / W - x);
            checked++;
            worst = dy > worst ? dy : worst;
            worst = dx > worst ? dx : worst;
          }
        }
      }
      if (f) fclose(f);
      printf("%s (%s): %g poses (libcoral: %d); pose score within %.4f, %d keypoints within %.4f\n", stems[mi],
             profile, (double)count, poses, (double)worst_score, checked, (double)worst);
      CHECK(poses > 0 && (int)count == poses && bad == 0 && worst_score <= 0.1f && worst <= 0.04f &&
            checked >= poses * 8);
      if (mi == 1 && (int)count == poses) {
        for (int q = 0; q < poses; q++) {
          etpu_image *mask = NULL;
          snprintf(file, sizeof file, "%.4000s/coral/posenet/mask%d.bmp", shared, q);
          if (etpu_image_read(file, &mask) != ETPU_OK) continue;
          const float *im = (const float *)o[4] + (size_t)q * 33 * 33;
          int l1 = 0;
          for (int i = 0; i < 33 * 33 && mask->width == 33 && mask->height == 33; i++)
            l1 += abs(mask->pixels[(size_t)i * mask->channels] / 255 - (int)im[i]);
          printf("  mask %d: %d of 1089 cells differ from libcoral's\n", q, l1);
          CHECK(l1 < 1089 * 5 / 100);
          etpu_image_free(mask);
        }
      }
    }
    etpu_interp_free(ip);
    etpu_model_free(m);
  }
}

static int part3_goldens(const char *only) {
  const char *shared = tu_shared_dir();
  if (!shared) return 0;
  char **paths;
  size_t n = tu_list_models(shared, &paths);
  golden_totals gt = {0};
  static const char *const profiles[] = {"tflite-ref", "litert"};
  for (int p = 0; p < 2; p++) {
    char pdir[4200];
    snprintf(pdir, sizeof pdir, "%.4000s/goldens/%s", shared, profiles[p]);
    char **names;
    const size_t nn = tu_list_dir(pdir, &names);
    CHECK_MSG(nn > 0, "no golden set in %s", pdir);
    for (size_t i = 0; i < nn; i++) {
      char key[300], dir[4400];
      snprintf(key, sizeof key, "%s/%s", profiles[p], names[i]);
      snprintf(dir, sizeof dir, "%.4200s/%.190s", pdir, names[i]);
      /* mnv2_int8io has tf2_mobilenet_v2's tensors (goldens README §4). */
      const char *stem = !strcmp(names[i], "mnv2_int8io") ? "tf2_mobilenet_v2_1.0_224_ptq" : names[i];
      const char *path = model_path(paths, n, stem);
      if ((only && !strstr(key, only)) || !path) continue;
      etpu_model *m = NULL;
      if (etpu_model_open(path, &m) == ETPU_OK) {
        for (uint32_t oi = 0; oi < etpu_model_op_count(m, 0); oi++) {
          etpu_op_info op;
          if (etpu_model_op(m, 0, oi, &op) != ETPU_OK || !golden_kind(op.code)) continue;
          /* Needs every activation input and the output stored for k. */
          for (int k = 0; k < 3; k++) {
            bool ok = true;
            for (uint32_t q = 0; q < op.input_count + op.output_count && ok; q++) {
              int32_t t = q < op.input_count ? op.inputs[q] : op.outputs[q - op.input_count];
              etpu_tensor_info ti;
              if (t < 0 || etpu_model_tensor(m, 0, (uint32_t)t, &ti) != ETPU_OK || ti.data || ti.is_variable) continue;
              char name[64], fpath[4500];
              snprintf(name, sizeof name, "t%d_%d.bin", t, k);
              snprintf(fpath, sizeof fpath, "%.4400s/%.64s", dir, name);
              FILE *f = fopen(fpath, "rb");
              if (!f && q < op.input_count && t == etpu_model_input(m, 0, 0)) {
                snprintf(fpath, sizeof fpath, "%.4400s/input_%d.bin", dir, k);
                f = fopen(fpath, "rb");
              }
              if (f) fclose(f);
              else ok = false;
            }
            if (ok) golden_op(path, profiles[p], dir, oi, k, &gt);
          }
        }
      }
      etpu_model_free(m);
    }
    tu_free_list(names, nn);
  }
  if (!only || strstr("litert/deeplabv3_mnv2_dm05_pascal_quant", only)) golden_deeplab_chain(shared, paths, n, &gt);
  if (!only || strstr("custom", only)) {
    custom_flexbuffers(shared, paths, n);
    custom_posenet_models(shared, paths, n);
  }
  tu_free_list(paths, n);
  printf("goldens: %u op runs, %u differ; %llu of %llu bytes differ\n", gt.ops, gt.bad_ops,
         (unsigned long long)gt.bad_bytes, (unsigned long long)gt.bytes);
  return 1;
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
  if (!only) {
    part1_fixedpoint();
    test_softmax();
    test_sigmoid_tanh();
    test_l2norm();
    test_relu_family();
    test_resize();
    test_lstm();
    test_detection();
    test_posenet_synthetic();
  }
  int have = part3_goldens(only);
  int rc = tu_finish("kernels_activations");
  if (!have && rc == 0) return tu_skip_code();
  return rc;
}
