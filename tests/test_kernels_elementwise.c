/*
 * test_kernels_elementwise.c — checks the kernels of src/kernels/tensor_ops.h
 * (elementwise, pooling, reductions, data movement) without shared data:
 *
 *  - broadcast and reduction plans on edge shapes (scalars, 1-sized and
 *    missing leading dims, 6-D, incompatible shapes);
 *  - quantized ADD/SUB/MUL/MEAN/pooling/CONCATENATION where the exact real
 *    result is representable (equal scales, power-of-two ratios): the kernel
 *    must equal the double-precision formula exactly, including saturation
 *    with zero points at both ends of the int8 and uint8 ranges;
 *  - random scales (fixed, printed seed): every scheme within 1 of the
 *    double-precision formula round((Σ real)/s_out) + zp_out;
 *  - hand-computed values where the schemes round ties differently
 *    (TFLite: half away from zero; XNNPACK ADD: half up; XNNPACK MUL and
 *    MEAN: half to even);
 *  - float32, int32/int64 and data-movement kernels against straightforward
 *    index arithmetic, CAST edge values, argument checks, and guard bytes
 *    after every output.
 * Bit-exactness against real runtimes is test_goldens' job (shared data).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/tensor_ops.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------ */

static uint64_t g_rng;

static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 7;
  g_rng ^= g_rng << 17;
  return (uint32_t)(g_rng >> 11);
}

static int32_t rnd_range(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }

static float rnd_scale(void) { return (float)(0.002 + 0.5 * (rnd() % 100000) / 100000.0); }

#define GUARD 16
#define GUARD_BYTE 0xA5

/* A buffer of n bytes followed by guard bytes. */
static uint8_t *gbuf(size_t n) {
  uint8_t *p = malloc(n + GUARD);
  memset(p, 0x5A, n);
  memset(p + n, GUARD_BYTE, GUARD);
  return p;
}

static bool guard_ok(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < GUARD; i++)
    if (p[n + i] != GUARD_BYTE) return false;
  return true;
}

static etpu_shape shp(int32_t rank, const int32_t *d) {
  etpu_shape s;
  memset(&s, 0, sizeof s);
  s.rank = rank;
  for (int32_t i = 0; i < rank; i++) s.dims[i] = d[i];
  return s;
}

static size_t count_of(const etpu_shape *s) {
  size_t n = 1;
  for (int32_t i = 0; i < s->rank; i++) n *= (size_t)s->dims[i];
  return n;
}

/* Offset in `in` (shape s, aligned right against an output of rank r) of
 * output multi-index idx: the reference broadcast rule. */
static size_t bcast_offset(const etpu_shape *s, int32_t r, const int32_t *idx) {
  size_t off = 0;
  for (int32_t d = 0; d < s->rank; d++) {
    const int32_t od = d + (r - s->rank);
    off = off * (size_t)s->dims[d] + (size_t)(s->dims[d] == 1 ? 0 : idx[od]);
  }
  return off;
}

static void unravel(size_t i, const etpu_shape *s, int32_t *idx) {
  for (int32_t d = s->rank - 1; d >= 0; d--) {
    idx[d] = (int32_t)(i % (size_t)s->dims[d]);
    i /= (size_t)s->dims[d];
  }
}

static int32_t round_half_away(double v) { return (int32_t)(v < 0 ? -floor(-v + 0.5) : floor(v + 0.5)); }

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* ---- broadcast and reduction plans ------------------------------------------ */

static void test_plans(void) {
  etpu_bcast p;
  {
    const etpu_shape a = shp(3, (int32_t[]){2, 1, 3}), b = shp(2, (int32_t[]){4, 1}), o = shp(3, (int32_t[]){2, 4, 3});
    CHECK_OK(etpu_bcast_init(&a, &b, &o, &p));
    CHECK(p.rank == 3 && p.count == 24);
    CHECK(p.stride1[0] == 3 && p.stride1[1] == 0 && p.stride1[2] == 1);
    CHECK(p.stride2[0] == 0 && p.stride2[1] == 1 && p.stride2[2] == 0);
  }
  {
    const etpu_shape a = shp(0, NULL), b = shp(0, NULL), o = shp(0, NULL);
    CHECK_OK(etpu_bcast_init(&a, &b, &o, &p));
    CHECK(p.rank == 1 && p.count == 1 && p.dims[0] == 1);
  }
  {
    const etpu_shape a = shp(2, (int32_t[]){2, 3}), b = shp(2, (int32_t[]){3, 3}), o = shp(2, (int32_t[]){3, 3});
    CHECK(etpu_bcast_init(&a, &b, &o, &p) == ETPU_INVALID_ARGUMENT);
  }
  {
    const etpu_shape a = shp(2, (int32_t[]){2, 3}), b = shp(1, (int32_t[]){3}), o = shp(3, (int32_t[]){1, 2, 3});
    CHECK(etpu_bcast_init(&a, &b, &o, &p) == ETPU_INVALID_ARGUMENT); /* output rank must be the larger one */
  }
  {
    const etpu_shape a = shp(2, (int32_t[]){2, 3}), b = shp(1, (int32_t[]){3}), o = shp(2, (int32_t[]){2, 4});
    CHECK(etpu_bcast_init(&a, &b, &o, &p) == ETPU_INVALID_ARGUMENT);
  }
  etpu_reduce_plan rp;
  {
    const etpu_shape s = shp(4, (int32_t[]){2, 3, 4, 5});
    CHECK_OK(etpu_reduce_plan_init(&s, (int32_t[]){1, -2, 1}, 3, &rp));
    CHECK(rp.reduced[1] && rp.reduced[2] && !rp.reduced[0] && !rp.reduced[3]);
    CHECK(rp.out_count == 10 && rp.reduce_count == 12);
    CHECK(etpu_reduce_plan_init(&s, (int32_t[]){4}, 1, &rp) == ETPU_INVALID_ARGUMENT);
    CHECK(etpu_reduce_plan_init(&s, (int32_t[]){-5}, 1, &rp) == ETPU_INVALID_ARGUMENT);
    CHECK_OK(etpu_reduce_plan_init(&s, NULL, 0, &rp));
    CHECK(rp.out_count == 120 && rp.reduce_count == 1);
  }
}

/* ---- quantized ADD / SUB ---------------------------------------------------------- */

typedef struct qcase {
  etpu_shape a, b, o;
} qcase;

static const int32_t k_shapes[][3][7] = {
    /* rank a, dims..., */
    {{4, 1, 5, 6, 7}, {4, 1, 5, 6, 7}, {4, 1, 5, 6, 7}},
    {{3, 2, 1, 3}, {2, 4, 1}, {3, 2, 4, 3}},
    {{0}, {3, 2, 3, 5}, {3, 2, 3, 5}},
    {{1, 17}, {2, 1, 1}, {2, 1, 17}},
    {{6, 2, 1, 2, 1, 3, 1}, {5, 3, 1, 2, 1, 4}, {6, 2, 3, 2, 2, 3, 4}},
    {{2, 48, 17}, {2, 1, 17}, {2, 48, 17}},
};

static qcase qcase_of(size_t k) {
  qcase c;
  c.a = shp(k_shapes[k][0][0], &k_shapes[k][0][1]);
  c.b = shp(k_shapes[k][1][0], &k_shapes[k][1][1]);
  c.o = shp(k_shapes[k][2][0], &k_shapes[k][2][1]);
  return c;
}

/* Fill a quantized input with random values, plus both ends of the range. */
static void fill_q(uint8_t *p, size_t n, bool s8) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
  if (n > 0) p[0] = s8 ? 0x80 : 0;   /* -128 or 0 */
  if (n > 1) p[n - 1] = s8 ? 0x7F : 255;
}

static int32_t qval(const uint8_t *p, size_t i, bool s8) { return s8 ? (int8_t)p[i] : p[i]; }

typedef enum { OP_ADD, OP_SUB, OP_MUL } qop;

static etpu_status run_q(qop op, bool s8, const void *params, const etpu_bcast *plan, const uint8_t *a,
                         const uint8_t *b, uint8_t *o) {
  switch (op) {
    case OP_ADD:
      return s8 ? etpu_add_s8(params, plan, (const int8_t *)a, (const int8_t *)b, (int8_t *)o)
                : etpu_add_u8(params, plan, a, b, o);
    case OP_SUB:
      return s8 ? etpu_sub_s8(params, plan, (const int8_t *)a, (const int8_t *)b, (int8_t *)o)
                : etpu_sub_u8(params, plan, a, b, o);
    default:
      return s8 ? etpu_mul_s8(params, plan, (const int8_t *)a, (const int8_t *)b, (int8_t *)o)
                : etpu_mul_u8(params, plan, a, b, o);
  }
}

/* One quantized binary case: returns the worst |kernel − double formula|,
 * -1 on a kernel error or a guard overwrite. */
static int check_q_case(qop op, int scheme, bool s8, const qcase *c, const etpu_qparam *q1, const etpu_qparam *q2,
                        const etpu_qparam *qo, int32_t act_lo, int32_t act_hi) {
  etpu_bcast plan;
  if (etpu_bcast_init(&c->a, &c->b, &c->o, &plan) != ETPU_OK) return -1;
  etpu_addsub_params ap;
  etpu_mul_params mp;
  const void *params;
  if (op == OP_MUL) {
    if (etpu_mul_params_init((etpu_mul_scheme)scheme, q1, q2, qo, act_lo, act_hi, &mp) != ETPU_OK) return -1;
    params = &mp;
  } else {
    if (etpu_addsub_params_init((etpu_addsub_scheme)scheme, op == OP_SUB, q1, q2, qo, act_lo, act_hi, &ap) !=
        ETPU_OK)
      return -1;
    params = &ap;
  }
  const size_t na = count_of(&c->a), nb = count_of(&c->b), no = count_of(&c->o);
  uint8_t *a = gbuf(na), *b = gbuf(nb), *o = gbuf(no);
  fill_q(a, na, s8);
  fill_q(b, nb, s8);
  int worst = 0;
  if (run_q(op, s8, params, &plan, a, b, o) != ETPU_OK || !guard_ok(o, no)) worst = -1;
  for (size_t i = 0; worst >= 0 && i < no; i++) {
    int32_t idx[ETPU_KMAX_RANK];
    unravel(i, &c->o, idx);
    const double r1 = (double)q1->scale * (qval(a, bcast_offset(&c->a, c->o.rank, idx), s8) - q1->zero_point);
    const double r2 = (double)q2->scale * (qval(b, bcast_offset(&c->b, c->o.rank, idx), s8) - q2->zero_point);
    const double r = op == OP_ADD ? r1 + r2 : (op == OP_SUB ? r1 - r2 : r1 * r2);
    const int32_t want = clampi(round_half_away(r / qo->scale) + qo->zero_point, act_lo, act_hi);
    const int d = abs(qval(o, i, s8) - want);
    if (d > worst) worst = d;
  }
  free(a);
  free(b);
  free(o);
  return worst;
}

static void test_q_binary(void) {
  static const char *const names[] = {"ADD", "SUB", "MUL"};
  for (int op = 0; op < 3; op++)
    for (int scheme = 0; scheme < 3; scheme++) {
      if (op == OP_MUL && scheme > 1) continue;
      const int xnn_scheme = op == OP_MUL ? ETPU_MUL_XNNPACK : ETPU_ADDSUB_XNNPACK;
      for (int s8 = 0; s8 < 2; s8++)
        for (size_t k = 0; k < sizeof k_shapes / sizeof k_shapes[0]; k++) {
          const qcase c = qcase_of(k);
          const int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
          /* Exact: equal scales for ADD/SUB (the sum is an integer), and a
           * power-of-two product ratio for MUL with an odd-free product. The
           * zero points sit at both ends so the results saturate. */
          const int32_t zps[4] = {lo, hi, s8 ? 0 : 128, s8 ? -1 : 1};
          for (int z = 0; z < 4; z++) {
            etpu_qparam q1 = {0.5f, zps[z]}, q2 = {0.5f, zps[3 - z]}, qo = {0.5f, zps[(z + 1) % 4]};
            if (op == OP_MUL) {
              q1.scale = 0.25f;
              q2.scale = 0.5f;
              qo.scale = 0.125f; /* ratio 1: the product is an integer */
            }
            const int w = check_q_case((qop)op, scheme, s8, &c, &q1, &q2, &qo, lo, hi);
            CHECK_MSG(w == 0, "%s scheme %d %s shape case %zu zero points %d: exact case off by %d", names[op], scheme,
                      s8 ? "s8" : "u8", k, zps[z], w);
          }
          /* Random scales: within 1 of the double formula. */
          for (int rep = 0; rep < 8; rep++) {
            etpu_qparam q1 = {rnd_scale(), rnd_range(lo, hi)}, q2 = {rnd_scale(), rnd_range(lo, hi)};
            etpu_qparam qo = {rnd_scale(), rnd_range(lo, hi)};
            if (op == OP_MUL) qo.scale = q1.scale * q2.scale * (float)(0.5 + (rnd() % 1000) / 250.0);
            else qo.scale = (q1.scale > q2.scale ? q1.scale : q2.scale) * (float)(0.5 + (rnd() % 1000) / 500.0);
            if (scheme == xnn_scheme && op != OP_MUL &&
                (q1.scale / qo.scale < 0x1.0p-10f || q2.scale / qo.scale < 0x1.0p-10f))
              continue;
            const int32_t act_lo = rep & 1 ? clampi(qo.zero_point, lo, hi) : lo; /* a RELU half the time */
            const int w = check_q_case((qop)op, scheme, s8, &c, &q1, &q2, &qo, act_lo, hi);
            CHECK_MSG(w >= 0 && w <= 1, "%s scheme %d %s shape case %zu rep %d: off by %d (scales %g %g %g)",
                      names[op], scheme, s8 ? "s8" : "u8", k, rep, w, (double)q1.scale, (double)q2.scale,
                      (double)qo.scale);
          }
        }
    }
}

/* Ties, computed by hand: x·0.5 with x odd, and the product ·0.25. */
static void test_q_ties(void) {
  const etpu_shape s1 = shp(1, (int32_t[]){4});
  etpu_bcast plan;
  CHECK_OK(etpu_bcast_init(&s1, &s1, &s1, &plan));
  const int8_t a[4] = {1, -1, 3, -3}, b[4] = {0, 0, 0, 0};
  int8_t o[4];
  /* ADD with s1/s_out = 0.5 and s2/s_out = 0.5: real results 0.5, −0.5, 1.5, −1.5. */
  const etpu_qparam q1 = {0.5f, 0}, q2 = {0.5f, 0}, qo = {1.0f, 0};
  etpu_addsub_params ap;
  CHECK_OK(etpu_addsub_params_init(ETPU_ADDSUB_TFLITE, false, &q1, &q2, &qo, -128, 127, &ap));
  CHECK_OK(etpu_add_s8(&ap, &plan, a, b, o));
  CHECK(o[0] == 1 && o[1] == -1 && o[2] == 2 && o[3] == -2); /* half away from zero */
  CHECK_OK(etpu_addsub_params_init(ETPU_ADDSUB_XNNPACK, false, &q1, &q2, &qo, -128, 127, &ap));
  CHECK_OK(etpu_add_s8(&ap, &plan, a, b, o));
  CHECK(o[0] == 1 && o[1] == 0 && o[2] == 2 && o[3] == -1); /* half up (arithmetic shift) */
  /* XNNPACK multipliers: r = 0.5 → shift 21, m = 2^20. */
  CHECK(ap.xnn_shift == 21 && ap.xnn_multiplier1 == (1 << 20) && ap.xnn_multiplier2 == (1 << 20));
  CHECK_OK(etpu_addsub_params_init(ETPU_ADDSUB_XNNPACK, true, &q1, &q2, &qo, -128, 127, &ap));
  CHECK(ap.xnn_multiplier2 == -(1 << 20));
  /* XNNPACK refuses ratios below 2^-10. */
  const etpu_qparam tiny = {1e-6f, 0};
  CHECK(etpu_addsub_params_init(ETPU_ADDSUB_XNNPACK, false, &q1, &tiny, &qo, -128, 127, &ap) ==
        ETPU_INVALID_ARGUMENT);
  /* MUL: (x·1)·0.25 for x = 2, 6, 10, −10: 0.5, 1.5, 2.5, −2.5. */
  const int8_t ma[4] = {2, 6, 10, -10}, mb[4] = {1, 1, 1, 1};
  const etpu_qparam m1 = {0.5f, 0}, m2 = {0.5f, 0}, mo = {1.0f, 0};
  etpu_mul_params mp;
  CHECK_OK(etpu_mul_params_init(ETPU_MUL_TFLITE, &m1, &m2, &mo, -128, 127, &mp));
  CHECK_OK(etpu_mul_s8(&mp, &plan, ma, mb, o));
  CHECK(o[0] == 1 && o[1] == 2 && o[2] == 3 && o[3] == -3);
  CHECK_OK(etpu_mul_params_init(ETPU_MUL_XNNPACK, &m1, &m2, &mo, -128, 127, &mp));
  CHECK_OK(etpu_mul_s8(&mp, &plan, ma, mb, o));
  CHECK(o[0] == 0 && o[1] == 2 && o[2] == 2 && o[3] == -2); /* half to even */
  /* Activation clamp (RELU6 at scale 0.05, zp −128: [−128, −8]). */
  int32_t lo, hi;
  CHECK_OK(etpu_activation_range_xnnpack(ETPU_ACT_RELU6, 0.05f, -128, -128, 127, &lo, &hi));
  CHECK(lo == -128 && hi == -8);
  CHECK_OK(etpu_activation_range_xnnpack(ETPU_ACT_RELU_N1_TO_1, 0.4f, 0, -128, 127, &lo, &hi));
  CHECK(lo == -2 && hi == 2); /* ±2.5 rounds to even */
  CHECK_OK(etpu_activation_range_quantized(ETPU_ACT_RELU_N1_TO_1, 0.4f, 0, -128, 127, &lo, &hi));
  CHECK(lo == -3 && hi == 3); /* TFLite: half away from zero */
}

/* SUB: the TFLite Micro float-ratio variant and the double one agree on
 * exact cases; SQUARED_DIFFERENCE within 1 of the formula. */
static void test_sqdiff(void) {
  for (int s8 = 0; s8 < 2; s8++)
    for (size_t k = 0; k < sizeof k_shapes / sizeof k_shapes[0]; k++) {
      const qcase c = qcase_of(k);
      const int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255;
      for (int rep = 0; rep < 6; rep++) {
        const etpu_qparam q1 = {rnd_scale(), rnd_range(lo, hi)}, q2 = {rnd_scale(), rnd_range(lo, hi)};
        const float m = q1.scale > q2.scale ? q1.scale : q2.scale;
        const etpu_qparam qo = {m * m * (float)(4.0 + (rnd() % 1000) / 10.0), rnd_range(lo, hi)};
        etpu_bcast plan;
        etpu_addsub_params p;
        CHECK_OK(etpu_bcast_init(&c.a, &c.b, &c.o, &plan));
        CHECK_OK(etpu_squared_difference_params_init(&q1, &q2, &qo, lo, hi, &p));
        const size_t na = count_of(&c.a), nb = count_of(&c.b), no = count_of(&c.o);
        uint8_t *a = gbuf(na), *b = gbuf(nb), *o = gbuf(no);
        fill_q(a, na, s8);
        fill_q(b, nb, s8);
        CHECK_OK(s8 ? etpu_squared_difference_s8(&p, &plan, (int8_t *)a, (int8_t *)b, (int8_t *)o)
                    : etpu_squared_difference_u8(&p, &plan, a, b, o));
        CHECK(guard_ok(o, no));
        int worst = 0;
        for (size_t i = 0; i < no; i++) {
          int32_t idx[ETPU_KMAX_RANK];
          unravel(i, &c.o, idx);
          const double d = (double)q1.scale * (qval(a, bcast_offset(&c.a, c.o.rank, idx), s8) - q1.zero_point) -
                           (double)q2.scale * (qval(b, bcast_offset(&c.b, c.o.rank, idx), s8) - q2.zero_point);
          const int32_t want = clampi(round_half_away(d * d / qo.scale) + qo.zero_point, lo, hi);
          const int dd = abs(qval(o, i, s8) - want);
          if (dd > worst) worst = dd;
        }
        /* The inputs are rescaled to 2^7 steps first: allow 2 LSBs. */
        CHECK_MSG(worst <= 2, "squared difference %s case %zu: off by %d", s8 ? "s8" : "u8", k, worst);
        free(a);
        free(b);
        free(o);
      }
    }
}

/* ---- unquantized binary ops ---------------------------------------------------------- */

static void test_float_int_binary(void) {
  const etpu_shape a = shp(3, (int32_t[]){2, 1, 3}), b = shp(2, (int32_t[]){4, 1}), o = shp(3, (int32_t[]){2, 4, 3});
  etpu_bcast plan;
  CHECK_OK(etpu_bcast_init(&a, &b, &o, &plan));
  float fa[6], fb[4], fo[24 + 4];
  int32_t ia[6], ib[4], io[24 + 4];
  int64_t la[6], lb[4], lo[24 + 4];
  for (int i = 0; i < 6; i++) {
    fa[i] = (float)(i - 2) * 1.5f;
    ia[i] = i == 5 ? INT32_MAX : i - 3;
    la[i] = i == 5 ? INT64_MAX : i - 3;
  }
  for (int i = 0; i < 4; i++) {
    fb[i] = (float)(i + 1) * 0.75f;
    ib[i] = i == 0 ? -2 : (i == 1 ? 1 : (i == 2 ? 7 : 0));
    lb[i] = i + 1;
  }
  const etpu_act_f32 fnone = {-INFINITY, INFINITY}, relu6 = {0.0f, 6.0f};
  const etpu_act_int inone = {INT32_MIN, INT32_MAX}, lnone = {INT64_MIN, INT64_MAX};
  fo[24] = 12345.0f;
  CHECK_OK(etpu_add_f32(&relu6, &plan, fa, fb, fo));
  for (size_t i = 0; i < 24; i++) {
    int32_t idx[3];
    unravel(i, &o, idx);
    float want = fa[bcast_offset(&a, 3, idx)] + fb[bcast_offset(&b, 3, idx)];
    want = want < 0 ? 0 : (want > 6 ? 6 : want);
    CHECK(fo[i] == want);
  }
  CHECK(fo[24] == 12345.0f);
  CHECK_OK(etpu_sub_f32(&fnone, &plan, fa, fb, fo));
  CHECK(fo[23] == fa[5] - fb[3]);
  CHECK_OK(etpu_mul_f32(&fnone, &plan, fa, fb, fo));
  CHECK(fo[7] == fa[bcast_offset(&a, 3, (int32_t[]){0, 2, 1})] * fb[2]);
  CHECK_OK(etpu_div_f32(&fnone, &plan, fa, fb, fo));
  CHECK(fo[5] == fa[2] / fb[1]);
  CHECK_OK(etpu_squared_difference_f32(&plan, fa, fb, fo));
  CHECK(fo[0] == (fa[0] - fb[0]) * (fa[0] - fb[0]));
  CHECK_OK(etpu_maximum_f32(&plan, fa, fb, fo));
  CHECK(fo[0] == fb[0] && fo[23] == fa[5]);
  CHECK_OK(etpu_minimum_f32(&plan, fa, fb, fo));
  CHECK(fo[0] == fa[0]);
  /* int32: wrapping add, clamp, division by zero refused. */
  io[24] = 777;
  CHECK_OK(etpu_add_s32(&inone, &plan, ia, ib, io));
  CHECK(io[17] == INT32_MIN); /* a[5] = INT32_MAX plus b[1] = 1 wraps */
  for (size_t i = 0; i < 24; i++) {
    int32_t idx[3];
    unravel(i, &o, idx);
    const int32_t want = (int32_t)((uint32_t)ia[bcast_offset(&a, 3, idx)] + (uint32_t)ib[bcast_offset(&b, 3, idx)]);
    CHECK(io[i] == want);
  }
  CHECK(io[24] == 777);
  CHECK_OK(etpu_mul_s32(&inone, &plan, ia, ib, io));
  CHECK_OK(etpu_sub_s32(&inone, &plan, ia, ib, io));
  CHECK(etpu_div_s32(&inone, &plan, ia, ib, io) == ETPU_INVALID_ARGUMENT); /* ib[3] = 0 */
  CHECK(etpu_floor_div_s32(&plan, ia, ib, io) == ETPU_INVALID_ARGUMENT);
  CHECK_OK(etpu_add_s64(&lnone, &plan, la, lb, lo));
  CHECK(lo[23] == INT64_MIN + 3); /* INT64_MAX + 4 wraps */
  CHECK_OK(etpu_maximum_s64(&plan, la, lb, lo));
  CHECK(lo[23] == INT64_MAX);
  /* FLOOR_DIV and DIV on hand-computed values. */
  const etpu_shape s4 = shp(1, (int32_t[]){4});
  etpu_bcast p4;
  CHECK_OK(etpu_bcast_init(&s4, &s4, &s4, &p4));
  const int32_t x[4] = {7, -7, 7, -7}, y[4] = {2, 2, -2, -2};
  int32_t q[4];
  CHECK_OK(etpu_floor_div_s32(&p4, x, y, q));
  CHECK(q[0] == 3 && q[1] == -4 && q[2] == -4 && q[3] == 3);
  CHECK_OK(etpu_div_s32(&inone, &p4, x, y, q));
  CHECK(q[0] == 3 && q[1] == -3 && q[2] == -3 && q[3] == 3);
  const float fx[4] = {7.0f, -7.0f, 7.5f, -0.5f}, fy[4] = {2.0f, 2.0f, -2.5f, 4.0f};
  float fq[4];
  CHECK_OK(etpu_floor_div_f32(&p4, fx, fy, fq));
  CHECK(fq[0] == 3.0f && fq[1] == -4.0f && fq[2] == -3.0f && fq[3] == -1.0f);
  const int8_t sx[4] = {-128, 127, -7, 5}, sy[4] = {-1, 2, 2, -3};
  int8_t sq[4];
  CHECK_OK(etpu_floor_div_s8(&p4, sx, sy, sq));
  CHECK(sq[0] == -128 /* 128 wraps */ && sq[1] == 63 && sq[2] == -4 && sq[3] == -2);
}

/* ---- unary and CAST ------------------------------------------------------------------- */

static void test_unary_cast(void) {
  const float in[5] = {4.0f, 2.0f, 0.25f, -1.5f, 2.5f};
  float out[5];
  CHECK_OK(etpu_sqrt_f32(3, in, out));
  CHECK(out[0] == 2.0f && out[1] == sqrtf(2.0f) && out[2] == 0.5f);
  CHECK_OK(etpu_rsqrt_f32(3, in, out));
  CHECK(out[0] == 0.5f && out[2] == 2.0f);
  CHECK_OK(etpu_floor_f32(5, in, out));
  CHECK(out[3] == -2.0f && out[4] == 2.0f);
  /* RSQRT int8 within 1 of round(1/sqrt(real)/s_out) + zp. */
  const etpu_qparam qi = {0.05f, -128}, qo = {0.03f, -100};
  etpu_rsqrt_params rp;
  CHECK_OK(etpu_rsqrt_params_init(&qi, &qo, &rp));
  int8_t x[256], y[256];
  for (int i = 0; i < 256; i++) x[i] = (int8_t)(i - 128);
  CHECK_OK(etpu_rsqrt_s8(&rp, 256, x, y));
  CHECK(y[0] == 127); /* v = 0 */
  int worst = 0;
  for (int i = 1; i < 256; i++) {
    const double r = 1.0 / sqrt(0.05 * i);
    const int32_t want = clampi(round_half_away(r / (double)qo.scale) + qo.zero_point, -128, 127);
    if (abs(y[i] - want) > worst) worst = abs(y[i] - want);
  }
  CHECK_MSG(worst <= 1, "rsqrt_s8 off by %d", worst);
  const int8_t neg[1] = {-10};
  const etpu_qparam qz = {0.05f, 0};
  CHECK_OK(etpu_rsqrt_params_init(&qz, &qo, &rp));
  CHECK(etpu_rsqrt_s8(&rp, 1, neg, y) == ETPU_INVALID_ARGUMENT);
  /* CAST edges. */
  const float f[6] = {-1.9f, 1.9f, 300.0f, -1e10f, NAN, 2147483648.0f};
  int32_t i32[6];
  uint8_t u8[6];
  int8_t s8[6];
  CHECK_OK(etpu_cast(ETPU_FLOAT32, ETPU_INT32, 6, f, i32));
  CHECK(i32[0] == -1 && i32[1] == 1 && i32[2] == 300 && i32[3] == INT32_MIN && i32[4] == INT32_MAX &&
        i32[5] == INT32_MAX);
  CHECK_OK(etpu_cast(ETPU_FLOAT32, ETPU_UINT8, 6, f, u8));
  CHECK(u8[0] == 0 && u8[1] == 1 && u8[2] == 255 && u8[3] == 0 && u8[4] == 255);
  CHECK_OK(etpu_cast(ETPU_FLOAT32, ETPU_INT8, 6, f, s8));
  CHECK(s8[2] == 127 && s8[3] == -128);
  const int32_t iv[4] = {300, -1, 16777217, 0};
  float fv[4];
  uint8_t bv[4];
  CHECK_OK(etpu_cast(ETPU_INT32, ETPU_UINT8, 4, iv, u8));
  CHECK(u8[0] == 44 && u8[1] == 255); /* wraps */
  CHECK_OK(etpu_cast(ETPU_INT32, ETPU_FLOAT32, 4, iv, fv));
  CHECK(fv[0] == 300.0f && fv[2] == 16777216.0f);
  CHECK_OK(etpu_cast(ETPU_INT32, ETPU_BOOL, 4, iv, bv));
  CHECK(bv[0] == 1 && bv[3] == 0);
  const uint8_t u[2] = {0, 255};
  int64_t l[2];
  CHECK_OK(etpu_cast(ETPU_UINT8, ETPU_INT64, 2, u, l));
  CHECK(l[0] == 0 && l[1] == 255);
  CHECK(etpu_cast(ETPU_STRING, ETPU_INT32, 1, u, l) == ETPU_INVALID_ARGUMENT);
}

/* ---- pooling ------------------------------------------------------------------------------ */

static void test_pool(void) {
  /* 1x3x3x1 input, 2x2 window, stride 1, SAME-style padding (bottom/right). */
  const etpu_dims in = {1, 3, 3, 1}, out = {1, 3, 3, 1};
  const int8_t x[9] = {1, 2, -3, -4, 5, 6, -128, 127, 0};
  int8_t y[9 + GUARD];
  memset(y + 9, GUARD_BYTE, GUARD);
  etpu_pool_params p = {1, 1, 2, 2, 0, 0, -128, 127, {-INFINITY, INFINITY}};
  CHECK_OK(etpu_avg_pool2d_s8(&p, &in, x, &out, y));
  /* windows: (1+2-4+5)/4 = 1; (2-3+5+6)/4 = 2.5 → 3; (-3+6)/2 = 1.5 → 2;
   * (-4+5-128+127)/4 = 0; (5+6+127+0)/4 = 34.5 → 35; (6+0)/2 = 3;
   * (-128+127)/2 = -0.5 → -1; (127+0)/2 = 63.5 → 64; 0. */
  const int8_t want[9] = {1, 3, 2, 0, 35, 3, -1, 64, 0};
  CHECK(memcmp(y, want, 9) == 0);
  CHECK(guard_ok((uint8_t *)y, 9));
  CHECK_OK(etpu_max_pool2d_s8(&p, &in, x, &out, y));
  const int8_t wmax[9] = {5, 6, 6, 127, 127, 6, 127, 127, 0};
  CHECK(memcmp(y, wmax, 9) == 0);
  p.activation_min = 0;
  p.activation_max = 100;
  CHECK_OK(etpu_max_pool2d_s8(&p, &in, x, &out, y));
  CHECK(y[3] == 100 && y[8] == 0);
  /* uint8: 2x2 stride 2 on 4x4 with 2 channels. */
  const etpu_dims in2 = {1, 4, 4, 2}, out2 = {1, 2, 2, 2};
  uint8_t ux[32], uy[8 + GUARD];
  for (int i = 0; i < 32; i++) ux[i] = (uint8_t)(i * 8 + 1);
  memset(uy + 8, GUARD_BYTE, GUARD);
  const etpu_pool_params p2 = {2, 2, 2, 2, 0, 0, 0, 255, {-INFINITY, INFINITY}};
  CHECK_OK(etpu_avg_pool2d_u8(&p2, &in2, ux, &out2, uy));
  for (int oy = 0; oy < 2; oy++)
    for (int ox = 0; ox < 2; ox++)
      for (int c = 0; c < 2; c++) {
        int s = 0;
        for (int dy = 0; dy < 2; dy++)
          for (int dx = 0; dx < 2; dx++) s += ux[((oy * 2 + dy) * 4 + ox * 2 + dx) * 2 + c];
        CHECK(uy[(oy * 2 + ox) * 2 + c] == (s + 2) / 4);
      }
  CHECK(guard_ok(uy, 8));
  /* float average. */
  const etpu_dims fin = {1, 2, 2, 1}, fout = {1, 1, 1, 1};
  const float fx[4] = {1.0f, 2.0f, 3.0f, 5.0f};
  float fy[1];
  const etpu_pool_params pf = {1, 1, 2, 2, 0, 0, 0, 0, {-INFINITY, INFINITY}};
  CHECK_OK(etpu_avg_pool2d_f32(&pf, &fin, fx, &fout, fy));
  CHECK(fy[0] == 2.75f);
  /* A window entirely in the padding is refused. */
  const etpu_pool_params pad = {1, 1, 1, 1, 1, 0, -128, 127, {0, 0}};
  const etpu_dims in3 = {1, 1, 1, 1}, out3 = {1, 1, 1, 1};
  CHECK(etpu_avg_pool2d_s8(&pad, &in3, x, &out3, y) == ETPU_INVALID_ARGUMENT);
}

/* ---- reductions ---------------------------------------------------------------------------- */

static void test_reduce(void) {
  /* MEAN of [2, 7, 7, 3] over {1, 2} in both schemes, against the double
   * formula; exact when the scales are equal and the sum divides. */
  const etpu_shape s = shp(4, (int32_t[]){2, 7, 7, 3});
  etpu_reduce_plan plan;
  CHECK_OK(etpu_reduce_plan_init(&s, (int32_t[]){1, 2}, 2, &plan));
  int8_t x[294];
  for (int i = 0; i < 294; i++) x[i] = (int8_t)rnd();
  x[0] = -128;
  x[293] = 127;
  for (int scheme = 0; scheme < 2; scheme++)
    for (int rep = 0; rep < 20; rep++) {
      const etpu_qparam qi = {rnd_scale(), rnd_range(-128, 127)};
      const etpu_qparam qo = {qi.scale * (float)(0.2 + (rnd() % 1000) / 500.0), rnd_range(-128, 127)};
      etpu_mean_params mp;
      CHECK_OK(etpu_mean_params_init((etpu_mean_scheme)scheme, false, &qi, &qo, plan.reduce_count, &mp));
      int8_t y[6 + GUARD];
      memset(y + 6, GUARD_BYTE, GUARD);
      CHECK_OK(etpu_mean_s8(&mp, &plan, x, y));
      CHECK(guard_ok((uint8_t *)y, 6));
      for (int b = 0; b < 2; b++)
        for (int c = 0; c < 3; c++) {
          long sum = 0;
          for (int i = 0; i < 49; i++) sum += x[(b * 49 + i) * 3 + c] - qi.zero_point;
          const double r = (double)qi.scale * (double)sum / 49.0;
          const int32_t want = clampi(round_half_away(r / qo.scale) + qo.zero_point, -128, 127);
          CHECK_MSG(abs(y[b * 3 + c] - want) <= 1, "mean scheme %d rep %d: got %d want %d", scheme, rep,
                    y[b * 3 + c], want);
        }
    }
  /* Hand-computed ties: n = 2, sums 1, 3, −1 → 0.5, 1.5, −0.5. */
  const etpu_shape s2 = shp(2, (int32_t[]){3, 2});
  etpu_reduce_plan p2;
  CHECK_OK(etpu_reduce_plan_init(&s2, (int32_t[]){-1}, 1, &p2));
  const int8_t t[6] = {0, 1, 1, 2, 0, -1};
  int8_t ty[3];
  const etpu_qparam q1 = {1.0f, 0};
  etpu_mean_params mp;
  CHECK_OK(etpu_mean_params_init(ETPU_MEAN_TFLITE, false, &q1, &q1, 2, &mp));
  CHECK_OK(etpu_mean_s8(&mp, &p2, t, ty));
  /* SRDHM with no right shift after it: ties toward +infinity (0.5 → 1,
   * 1.5 → 2, −0.5 → 0). */
  CHECK(ty[0] == 1 && ty[1] == 2 && ty[2] == 0);
  CHECK_OK(etpu_mean_params_init(ETPU_MEAN_XNNPACK, false, &q1, &q1, 2, &mp));
  CHECK_OK(etpu_mean_s8(&mp, &p2, t, ty));
  CHECK(ty[0] == 0 && ty[1] == 2 && ty[2] == 0); /* half to even */
  /* SUM with saturation, uint8 zero point 255. */
  const uint8_t u[6] = {255, 255, 0, 0, 200, 100};
  uint8_t uy[3];
  const etpu_qparam qu = {0.5f, 255}, quo = {1.0f, 0};
  for (int scheme = 0; scheme < 2; scheme++) {
    CHECK_OK(etpu_mean_params_init((etpu_mean_scheme)scheme, true, &qu, &quo, 2, &mp));
    CHECK_OK(etpu_sum_u8(&mp, &p2, u, uy));
    CHECK(uy[0] == 0 && uy[1] == 0 && uy[2] == 0); /* (0, −255, −105) clamp at 0 */
  }
  CHECK(etpu_mean_u8(&mp, &plan, u, uy) == ETPU_INVALID_ARGUMENT); /* params for another n */
  /* float, int32 sums and max/min. */
  const float f[6] = {1.0f, 2.0f, -3.0f, 0.5f, 4.0f, 4.0f};
  float fy[3];
  CHECK_OK(etpu_mean_f32(&p2, f, fy));
  CHECK(fy[0] == 1.5f && fy[1] == -1.25f && fy[2] == 4.0f);
  CHECK_OK(etpu_sum_f32(&p2, f, fy));
  CHECK(fy[1] == -2.5f);
  CHECK_OK(etpu_reduce_max(ETPU_FLOAT32, &p2, f, fy));
  CHECK(fy[0] == 2.0f && fy[1] == 0.5f);
  CHECK_OK(etpu_reduce_min(ETPU_INT8, &p2, t, ty));
  CHECK(ty[0] == 0 && ty[1] == 1 && ty[2] == -1);
  const int32_t iv[6] = {INT32_MAX, 1, 5, 6, -7, 0};
  int32_t iy[3];
  CHECK_OK(etpu_sum_s32(&p2, iv, iy));
  CHECK(iy[0] == INT32_MIN && iy[1] == 11); /* wraps */
  /* Reduce over the first axis of [3, 2]: outputs in order of the kept dim. */
  etpu_reduce_plan p3;
  CHECK_OK(etpu_reduce_plan_init(&s2, (int32_t[]){0}, 1, &p3));
  CHECK_OK(etpu_reduce_max(ETPU_INT32, &p3, iv, iy));
  CHECK(iy[0] == INT32_MAX && iy[1] == 6);
  /* ARG_MAX: first index of the maximum; int64 and int32 outputs. */
  const int8_t am[8] = {3, 7, 7, -1, /* */ -128, -128, -5, -128};
  const etpu_axis_split sp = {2, 4, 1};
  int64_t ol[2];
  int32_t oi[4];
  CHECK_OK(etpu_arg_max(ETPU_INT8, ETPU_INT64, &sp, am, ol));
  CHECK(ol[0] == 1 && ol[1] == 2);
  const etpu_axis_split sp2 = {1, 2, 4}; /* max over the first dim of [2, 4] */
  CHECK_OK(etpu_arg_max(ETPU_INT8, ETPU_INT32, &sp2, am, oi));
  CHECK(oi[0] == 0 && oi[1] == 0 && oi[2] == 0 && oi[3] == 0);
  const etpu_axis_split sp3 = {1, 2, 2};
  CHECK_OK(etpu_arg_max(ETPU_INT8, ETPU_INT32, &sp3, am + 2, oi)); /* [[7,-1],[-128,-128]] */
  CHECK(oi[0] == 0 && oi[1] == 0);
  CHECK(etpu_arg_max(ETPU_INT8, ETPU_FLOAT32, &sp, am, oi) == ETPU_INVALID_ARGUMENT);
}

/* ---- data movement ---------------------------------------------------------------------- */

static void test_movement(void) {
  /* CONCATENATION on axis 1 of [2, 2, 3] + [2, 1, 3] (int8 with rescale of
   * the second input: s 0.5 zp 10 → s 0.25 zp −2, exact doubling). */
  int8_t a[12], b[6], o[18 + GUARD];
  for (int i = 0; i < 12; i++) a[i] = (int8_t)(i * 11 - 60);
  for (int i = 0; i < 6; i++) b[i] = (int8_t)(i * 40 - 128);
  memset(o + 18, GUARD_BYTE, GUARD);
  const size_t chunk[2] = {6, 3};
  etpu_concat_rescale rs[2];
  const etpu_qparam qa = {0.25f, -2}, qb = {0.5f, 10};
  CHECK_OK(etpu_concat_rescale_init(&qa, &qa, &rs[0]));
  CHECK_OK(etpu_concat_rescale_init(&qb, &qa, &rs[1]));
  CHECK(rs[0].copy && !rs[1].copy);
  const etpu_concat_params cp = {2, 2, chunk, 1, ETPU_INT8, rs, -2};
  const void *ins[2] = {a, b};
  CHECK_OK(etpu_concatenation(&cp, ins, o));
  CHECK(guard_ok((uint8_t *)o, 18));
  for (int k = 0; k < 2; k++) {
    CHECK(memcmp(o + k * 9, a + k * 6, 6) == 0);
    for (int j = 0; j < 3; j++) {
      const int32_t want = clampi(2 * (b[k * 3 + j] - 10) - 2, -128, 127);
      CHECK(o[k * 9 + 6 + j] == want);
    }
  }
  /* SPLIT back (bytes) and PACK-style inner chunks. */
  int8_t s0[12], s1[6];
  void *outs[2] = {s0, s1};
  const etpu_concat_params sp = {2, 2, chunk, 1, ETPU_INT8, NULL, 0};
  CHECK_OK(etpu_split(&sp, o, outs));
  CHECK(memcmp(s0, a, 12) == 0);
  CHECK(etpu_split(&cp, o, outs) == ETPU_INVALID_ARGUMENT); /* split cannot rescale */
  /* PAD a [2, 3] int16 tensor by (1, 0), (2, 1) with −7. */
  const int16_t px[6] = {1, 2, 3, 4, 5, 6};
  int16_t py[3 * 6];
  const int16_t fill = -7;
  etpu_pad_params pp;
  memset(&pp, 0, sizeof pp);
  pp.before[0] = 1;
  pp.before[1] = 2;
  pp.after[1] = 1;
  pp.elem_size = 2;
  pp.fill = &fill;
  const etpu_shape ps = shp(2, (int32_t[]){2, 3});
  CHECK_OK(etpu_pad(&pp, &ps, px, py));
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 6; c++) {
      const int16_t want = (r >= 1 && c >= 2 && c < 5) ? px[(r - 1) * 3 + (c - 2)] : -7;
      CHECK(py[r * 6 + c] == want);
    }
  /* STRIDED_SLICE: [4, 5] rows 3,1 (stride −2), columns 0,2,4. */
  int32_t sx[20], sy[6];
  for (int i = 0; i < 20; i++) sx[i] = i;
  etpu_slice_params sl;
  memset(&sl, 0, sizeof sl);
  sl.begin[0] = 3;
  sl.stride[0] = -2;
  sl.out_dims[0] = 2;
  sl.begin[1] = 0;
  sl.stride[1] = 2;
  sl.out_dims[1] = 3;
  sl.elem_size = 4;
  const etpu_shape ss = shp(2, (int32_t[]){4, 5});
  CHECK_OK(etpu_strided_slice(&sl, &ss, sx, sy));
  const int32_t wsl[6] = {15, 17, 19, 5, 7, 9};
  CHECK(memcmp(sy, wsl, sizeof wsl) == 0);
  sl.out_dims[0] = 3; /* would read row −1 */
  CHECK(etpu_strided_slice(&sl, &ss, sx, sy) == ETPU_INVALID_ARGUMENT);
  /* TRANSPOSE [2, 3, 4] by (2, 0, 1). */
  int32_t tx[24], ty[24];
  for (int i = 0; i < 24; i++) tx[i] = i;
  const etpu_shape ts = shp(3, (int32_t[]){2, 3, 4});
  CHECK_OK(etpu_transpose(&ts, (int32_t[]){2, 0, 1}, 4, tx, ty));
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 2; j++)
      for (int k = 0; k < 3; k++) CHECK(ty[(i * 2 + j) * 3 + k] == tx[(j * 3 + k) * 4 + i]);
  CHECK(etpu_transpose(&ts, (int32_t[]){0, 0, 1}, 4, tx, ty) == ETPU_INVALID_ARGUMENT);
  /* GATHER axis 1 of [2, 3, 2] with indices [2, 0, 2] (int64). */
  int8_t gx[12], gy[12];
  for (int i = 0; i < 12; i++) gx[i] = (int8_t)i;
  const int64_t gi[3] = {2, 0, 2};
  const etpu_gather_params gp = {1, 2, 3, 2, 3, 1, ETPU_INT64};
  CHECK_OK(etpu_gather(&gp, gx, gi, gy));
  const int8_t wg[12] = {4, 5, 0, 1, 4, 5, 10, 11, 6, 7, 10, 11};
  CHECK(memcmp(gy, wg, 12) == 0);
  const int64_t bad[3] = {0, 3, 0};
  CHECK(etpu_gather(&gp, gx, bad, gy) == ETPU_INVALID_ARGUMENT);
  /* GATHER_ND of [2, 3, 2] with [[1, 2], [0, 1]] → two slices of 2. */
  const int32_t ni[4] = {1, 2, 0, 1};
  etpu_gather_nd_params np;
  memset(&np, 0, sizeof np);
  np.params_shape = shp(3, (int32_t[]){2, 3, 2});
  np.n = 2;
  np.depth = 2;
  np.elem_size = 1;
  np.index_type = ETPU_INT32;
  CHECK_OK(etpu_gather_nd(&np, gx, ni, gy));
  CHECK(gy[0] == 10 && gy[1] == 11 && gy[2] == 2 && gy[3] == 3);
  const int32_t nbad[4] = {2, 0, 0, 0};
  CHECK(etpu_gather_nd(&np, gx, nbad, gy) == ETPU_INVALID_ARGUMENT);
}

/* ---- argument checks --------------------------------------------------------------------- */

static void test_arguments(void) {
  const etpu_shape s = shp(1, (int32_t[]){2});
  etpu_bcast plan;
  CHECK_OK(etpu_bcast_init(&s, &s, &s, &plan));
  int8_t x[2] = {0, 0}, y[2];
  etpu_addsub_params ap;
  const etpu_qparam q = {1.0f, 0}, bad = {0.0f, 0};
  CHECK(etpu_addsub_params_init(ETPU_ADDSUB_TFLITE, false, &q, &bad, &q, -128, 127, &ap) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_addsub_params_init((etpu_addsub_scheme)9, false, &q, &q, &q, -128, 127, &ap) == ETPU_INVALID_ARGUMENT);
  CHECK_OK(etpu_addsub_params_init(ETPU_ADDSUB_TFLITE, false, &q, &q, &q, -128, 127, &ap));
  CHECK(etpu_add_s8(NULL, &plan, x, x, y) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_add_s8(&ap, NULL, x, x, y) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_add_s8(&ap, &plan, x, NULL, y) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_add_u8(&ap, &plan, (uint8_t *)x, (uint8_t *)x, (uint8_t *)y) == ETPU_INVALID_ARGUMENT); /* act range */
  etpu_bcast broken = plan;
  broken.count = 3;
  CHECK(etpu_add_s8(&ap, &broken, x, x, y) == ETPU_INVALID_ARGUMENT);
  const etpu_act_f32 act = {0, 0};
  float f[2] = {0, 0};
  CHECK(etpu_add_f32(&act, &plan, f, f, NULL) == ETPU_INVALID_ARGUMENT);
  etpu_mul_params mp;
  const etpu_qparam big = {300.0f, 0};
  CHECK(etpu_mul_params_init(ETPU_MUL_XNNPACK, &big, &q, &q, -128, 127, &mp) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_mean_params_init(ETPU_MEAN_TFLITE, false, &q, &q, 0, NULL) == ETPU_INVALID_ARGUMENT);
}

int main(void) {
  const char *env = getenv("ETPU_TEST_SEED");
  const uint64_t seed = env ? strtoull(env, NULL, 0) : UINT64_C(0x5EED0E1E);
  g_rng = seed ? seed : 1;
  printf("test_kernels_elementwise: seed 0x%llx (set ETPU_TEST_SEED to change)\n", (unsigned long long)seed);
  test_plans();
  test_q_binary();
  test_q_ties();
  test_sqdiff();
  test_float_int_binary();
  test_unary_cast();
  test_pool();
  test_reduce();
  test_movement();
  test_arguments();
  return tu_finish("kernels_elementwise");
}
