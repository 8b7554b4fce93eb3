/*
 * test_kernels_ref.c — checks etpu's requantization primitives and int8
 * reference kernels (src/kernels/), in three parts:
 *
 *  1. the fixed-point and fp32 primitives on edge values. The expected values
 *     were computed outside C with exact rational arithmetic (Python
 *     fractions) from the definitions: SRDHM = round-half-up(a·b / 2^31),
 *     RoundingDivideByPOT = round-half-away(x / 2^e), MBQM single rounding =
 *     round-half-up(x·qm·2^(shift−31)), QuantizeMultiplier per TFLITE.md §7.1;
 *  2. the kernels on small random cases (fixed, printed seed) against each
 *     other: padding skipped == padding filled with the input zero point,
 *     depthwise == grouped conv, fully connected == 1x1 conv, the uint8,
 *     float32 and TRANSPOSE_CONV kernels against the int8 ones (part 2b),
 *     plus argument checks and guard bytes after every output;
 *  3. the real check: every CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED of
 *     the tflite-ref golden sets (TensorFlow Lite Micro outputs, see
 *     shared/data/goldens/README.md), run on the golden input tensor with the
 *     model's weights, bias, quantization and options read through the public
 *     API, compared byte for byte with the golden output.
 *
 * Without the shared data folder part 3 is skipped (exit 77 when 1 and 2 pass).
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/requant.h"
#include "testutil.h"

/* ------------------------------------------------------------------------
 * Part 1: primitives
 * ---------------------------------------------------------------------- */

/* Expected values: exact rational arithmetic, see the file comment. */
static const struct { int32_t a, b, want; } k_srdhm[] = {
    {INT32_MIN, INT32_MIN, 2147483647}, {2147483647, 2147483647, 2147483646}, {INT32_MIN, 2147483647, -2147483647},
    {2147483647, INT32_MIN, -2147483647}, {1, 1073741824, 1}, {-1, 1073741824, 0}, {3, 1073741824, 2},
    {-3, 1073741824, -1}, {0, INT32_MIN, 0}, {INT32_MIN, 1, -1}, {INT32_MIN, -1, 1}, {-1, -1, 0},
    {123456789, 987654321, 56779306}, {-123456789, 987654321, -56779306}, {1073741824, 1073741824, 536870912},
    {-1073741824, 1073741824, -536870912}, {INT32_MIN, 1073741824, -1073741824}, {549346291, 1759834709, 450182087},
    {92600424, 588212983, 25363998}, {-1976003972, 1434158051, -1319638456}, {376253498, -855712351, -149926527},
    {104359177, -1896642157, -92169277}, {1469684140, 740002129, 506438963}, {1322780370, -230911816, -142234199},
    {-960024953, -968117228, 432793375},
};
static const struct { int32_t x; int e; int32_t want; } k_rdbpot[] = {
    {0, 0, 0}, {5, 0, 5}, {-5, 0, -5}, {3, 1, 2}, {-3, 1, -2}, {5, 1, 3}, {-5, 1, -3}, {1, 1, 1}, {-1, 1, -1},
    {6, 2, 2}, {-6, 2, -2}, {10, 2, 3}, {-10, 2, -3}, {INT32_MIN, 31, -1}, {2147483647, 31, 1}, {1073741824, 31, 1},
    {-1073741824, 31, -1}, {1073741823, 31, 0}, {-1073741825, 31, -1}, {INT32_MIN, 1, -1073741824},
    {2147483647, 1, 1073741824}, {-1, 31, 0}, {INT32_MIN, 30, -2}, {2147483647, 30, 2}, {-822276564, 3, -102784571},
    {-853901582, 17, -6515}, {121660677, 4, 7603792}, {5363298, 28, 0}, {-979185972, 26, -15},
    {-1809910689, 22, -432}, {1615304899, 29, 3}, {1663051844, 20, 1586},
};
static const struct { double m; int32_t qm, shift, qm_single, shift_single; } k_qmul[] = {
    {0.0, 0, 0, 0, 0}, {0x1.0000000000000p+0, 1073741824, 1, 1073741824, 1},
    {0x1.0000000000000p-1, 1073741824, 0, 1073741824, 0}, {0x1.0000000000000p-2, 1073741824, -1, 1073741824, -1},
    {0x1.8000000000000p-1, 1610612736, 0, 1610612736, 0}, {0x1.8000000000000p+0, 1610612736, 1, 1610612736, 1},
    {0x1.0000000000000p+1, 1073741824, 2, 1073741824, 2}, {0x1.ffffffff00000p-1, 1073741824, 1, 1073741824, 1},
    {0x1.fffffffe00000p-1, 1073741824, 1, 1073741824, 1}, {0x1.ffffffff00000p-2, 1073741824, 0, 1073741824, 0},
    {0x1.0000000000000p-31, 1073741824, -30, 1073741824, -30},
    {0x1.0000000000000p-32, 1073741824, -31, 1073741824, -31}, {0x1.0000000000000p-33, 0, 0, 0, 0},
    {0x1.0000000000000p-40, 0, 0, 0, 0}, {0x1.56e1fc2f8f359p-997, 0, 0, 0, 0},
    {0x1.0000000200000p-1, 1073741825, 0, 1073741825, 0}, {0x1.0000000200000p-11, 1073741825, -10, 1073741825, -10},
    {0x1.0000000600000p-1, 1073741826, 0, 1073741826, 0}, {-0x1.0000000000000p-1, -1073741824, 0, -1073741824, 0},
    {-0x1.0000000000000p+0, -1073741824, 1, -1073741824, 1}, {-0x1.0000000200000p-1, -1073741825, 0, -1073741825, 0},
    {0x1.65a0bc0000000p+31, 1500000000, 32, 2147483647, 30}, {0x1.0000000000000p+31, 1073741824, 32, 2147483647, 30},
    {0x1.0000000000000p+40, 1073741824, 41, 2147483647, 30}, {0x1.94f9c26650f3bp-9, 1698590874, -8, 1698590874, -8},
    {0x1.f400001f9c67dp-14, 2097152008, -13, 2097152008, -13}, {0x1.edd2f1a9fbe77p+6, 2071247978, 7, 2071247978, 7},
    {0x1.0000000000000p-17, 1073741824, -16, 1073741824, -16}, {0x1.a6eb2454c6787p-1, 1773848853, 0, 1773848853, 0},
    {0x1.bcdac1b5c7e8dp-4, 1865855085, -3, 1865855085, -3}, {0x1.e4d90e497a18bp-2, 2033599378, -1, 2033599378, -1},
    {0x1.c00dd7ba5f863p-2, 1879274991, -1, 1879274991, -1}, {0x1.00398bc9245afp-3, 1074684658, -2, 1074684658, -2},
    {0x1.9e1476d8cbba0p-4, 1736777142, -3, 1736777142, -3},
};
static const struct { int32_t x, qm, shift, want_double, want_single; } k_mbqm[] = {
    {0, 1073741824, 0, 0, 0}, {0, 1073741824, -1, 0, 0}, {0, 1073741824, -2, 0, 0}, {0, 1073741825, -3, 0, 0},
    {0, 2147483647, -31, 0, 0}, {0, 2147483647, 0, 0, 0}, {0, 1073741824, 1, 0, 0}, {0, 1518500250, -8, 0, 0},
    {0, 1999999999, -20, 0, 0}, {0, 1073741824, -31, 0, 0}, {0, 1431655765, -1, 0, 0}, {1, 1073741824, 0, 1, 1},
    {1, 1073741824, -1, 1, 0}, {1, 1073741824, -2, 0, 0}, {1, 1073741825, -3, 0, 0}, {1, 2147483647, -31, 0, 0},
    {1, 2147483647, 0, 1, 1}, {1, 1073741824, 1, 1, 1}, {1, 1518500250, -8, 0, 0}, {1, 1999999999, -20, 0, 0},
    {1, 1073741824, -31, 0, 0}, {1, 1431655765, -1, 1, 0}, {-1, 1073741824, 0, 0, 0}, {-1, 1073741824, -1, 0, 0},
    {-1, 1073741824, -2, 0, 0}, {-1, 1073741825, -3, 0, 0}, {-1, 2147483647, -31, 0, 0}, {-1, 2147483647, 0, -1, -1},
    {-1, 1073741824, 1, -1, -1}, {-1, 1518500250, -8, 0, 0}, {-1, 1999999999, -20, 0, 0}, {-1, 1073741824, -31, 0, 0},
    {-1, 1431655765, -1, -1, 0}, {100, 1073741824, 0, 50, 50}, {100, 1073741824, -1, 25, 25},
    {100, 1073741824, -2, 13, 13}, {100, 1073741825, -3, 6, 6}, {100, 2147483647, -31, 0, 0},
    {100, 2147483647, 0, 100, 100}, {100, 1073741824, 1, 100, 100}, {100, 1518500250, -8, 0, 0},
    {100, 1999999999, -20, 0, 0}, {100, 1073741824, -31, 0, 0}, {100, 1431655765, -1, 34, 33},
    {-100, 1073741824, 0, -50, -50}, {-100, 1073741824, -1, -25, -25}, {-100, 1073741824, -2, -13, -12},
    {-100, 1073741825, -3, -6, -6}, {-100, 2147483647, -31, 0, 0}, {-100, 2147483647, 0, -100, -100},
    {-100, 1073741824, 1, -100, -100}, {-100, 1518500250, -8, 0, 0}, {-100, 1999999999, -20, 0, 0},
    {-100, 1073741824, -31, 0, 0}, {-100, 1431655765, -1, -34, -33},
    {2147483647, 1073741824, 0, 1073741824, 1073741824}, {2147483647, 1073741824, -1, 536870912, 536870912},
    {2147483647, 1073741824, -2, 268435456, 268435456}, {2147483647, 1073741825, -3, 134217728, 134217728},
    {2147483647, 2147483647, -31, 1, 1}, {2147483647, 2147483647, 0, 2147483646, 2147483646},
    {2147483647, 1073741824, 1, -1, 2147483647}, {2147483647, 1518500250, -8, 5931642, 5931642},
    {2147483647, 1999999999, -20, 1907, 1907}, {2147483647, 1073741824, -31, 1, 0},
    {2147483647, 1431655765, -1, 715827882, 715827882}, {INT32_MIN, 1073741824, 0, -1073741824, -1073741824},
    {INT32_MIN, 1073741824, -1, -536870912, -536870912}, {INT32_MIN, 1073741824, -2, -268435456, -268435456},
    {INT32_MIN, 1073741825, -3, -134217728, -134217728}, {INT32_MIN, 2147483647, -31, -1, -1},
    {INT32_MIN, 2147483647, 0, -2147483647, -2147483647}, {INT32_MIN, 1073741824, 1, 0, INT32_MIN},
    {INT32_MIN, 1518500250, -8, -5931642, -5931642}, {INT32_MIN, 1999999999, -20, -1907, -1907},
    {INT32_MIN, 1073741824, -31, -1, 0}, {INT32_MIN, 1431655765, -1, -715827883, -715827882},
    {123456, 1073741824, 0, 61728, 61728}, {123456, 1073741824, -1, 30864, 30864},
    {123456, 1073741824, -2, 15432, 15432}, {123456, 1073741825, -3, 7716, 7716}, {123456, 2147483647, -31, 0, 0},
    {123456, 2147483647, 0, 123456, 123456}, {123456, 1073741824, 1, 123456, 123456},
    {123456, 1518500250, -8, 341, 341}, {123456, 1999999999, -20, 0, 0}, {123456, 1073741824, -31, 0, 0},
    {123456, 1431655765, -1, 41152, 41152}, {-123456, 1073741824, 0, -61728, -61728},
    {-123456, 1073741824, -1, -30864, -30864}, {-123456, 1073741824, -2, -15432, -15432},
    {-123456, 1073741825, -3, -7716, -7716}, {-123456, 2147483647, -31, 0, 0},
    {-123456, 2147483647, 0, -123456, -123456}, {-123456, 1073741824, 1, -123456, -123456},
    {-123456, 1518500250, -8, -341, -341}, {-123456, 1999999999, -20, 0, 0}, {-123456, 1073741824, -31, 0, 0},
    {-123456, 1431655765, -1, -41152, -41152}, {1572864, 1073741824, 0, 786432, 786432},
    {1572864, 1073741824, -1, 393216, 393216}, {1572864, 1073741824, -2, 196608, 196608},
    {1572864, 1073741825, -3, 98304, 98304}, {1572864, 2147483647, -31, 0, 0},
    {1572864, 2147483647, 0, 1572864, 1572864}, {1572864, 1073741824, 1, 1572864, 1572864},
    {1572864, 1518500250, -8, 4344, 4344}, {1572864, 1999999999, -20, 1, 1}, {1572864, 1073741824, -31, 0, 0},
    {1572864, 1431655765, -1, 524288, 524288}, {-1572864, 1073741824, 0, -786432, -786432},
    {-1572864, 1073741824, -1, -393216, -393216}, {-1572864, 1073741824, -2, -196608, -196608},
    {-1572864, 1073741825, -3, -98304, -98304}, {-1572864, 2147483647, -31, 0, 0},
    {-1572864, 2147483647, 0, -1572864, -1572864}, {-1572864, 1073741824, 1, -1572864, -1572864},
    {-1572864, 1518500250, -8, -4344, -4344}, {-1572864, 1999999999, -20, -1, -1}, {-1572864, 1073741824, -31, 0, 0},
    {-1572864, 1431655765, -1, -524288, -524288}, {10921220, 2146677573, -24, 1, 1},
    {12853517, 1921371167, -7, 89845, 89845}, {12593885, 2060876141, -11, 5901, 5901},
    {6591211, 1077746416, -14, 202, 202}, {13567957, 1888370831, -26, 0, 0},
    {-12376526, 1871267661, -2, -2696155, -2696155}, {-5254139, 1507146824, -24, 0, 0},
    {-5553181, 1549833526, -31, 0, 0}, {2787998, 1165389492, -27, 0, 0}, {-13099466, 1607422152, -30, 0, 0},
    {11906263, 2104079543, -27, 0, 0}, {-178508, 2094629101, -27, 0, 0},
    {-9787650, 2007689564, -3, -1143813, -1143813}, {14868198, 1993659844, -8, 53919, 53919},
    {-5809563, 1203551086, -19, -6, -6}, {-1538552, 1283938460, -4, -57492, -57492},
    {-12552943, 1871188206, -21, -5, -5}, {-6042394, 1793262356, -2, -1261430, -1261430},
    {-6951546, 1944638057, -8, -24590, -24590}, {-2517510, 2049987576, -25, 0, 0},
    {-8051262, 1303020744, -14, -298, -298}, {-3778017, 1852194543, -9, -6364, -6364},
    {-7678888, 1857225561, -12, -1621, -1621}, {2137480, 1307794126, -25, 0, 0},
    {14113278, 1101199267, -4, 452318, 452318},
};

static void test_platform_assumptions(void) {
  volatile int32_t m1 = -1, big = INT32_MIN;
  CHECK((m1 >> 1) == -1);         /* arithmetic shift of negatives */
  CHECK((big >> 31) == -1);
  CHECK((int32_t)(uint32_t)0x80000000u == INT32_MIN); /* two's complement wrap */
}

static void test_srdhm(void) {
  for (size_t i = 0; i < sizeof k_srdhm / sizeof k_srdhm[0]; i++) {
    const int32_t got = etpu_sat_rounding_doubling_high_mul(k_srdhm[i].a, k_srdhm[i].b);
    CHECK_MSG(got == k_srdhm[i].want, "SRDHM(%" PRId32 ", %" PRId32 "): expected %" PRId32 ", got %" PRId32,
              k_srdhm[i].a, k_srdhm[i].b, k_srdhm[i].want, got);
  }
}

static void test_rdbpot(void) {
  for (size_t i = 0; i < sizeof k_rdbpot / sizeof k_rdbpot[0]; i++) {
    const int32_t got = etpu_rounding_divide_by_pot(k_rdbpot[i].x, k_rdbpot[i].e);
    CHECK_MSG(got == k_rdbpot[i].want, "RoundingDivideByPOT(%" PRId32 ", %d): expected %" PRId32 ", got %" PRId32,
              k_rdbpot[i].x, k_rdbpot[i].e, k_rdbpot[i].want, got);
  }
}

static void test_quantize_multiplier(void) {
  for (size_t i = 0; i < sizeof k_qmul / sizeof k_qmul[0]; i++) {
    int32_t qm = -7, sh = -7;
    CHECK_OK(etpu_quantize_multiplier(k_qmul[i].m, 0, &qm, &sh));
    CHECK_MSG(qm == k_qmul[i].qm && sh == k_qmul[i].shift, "QuantizeMultiplier(%a): expected (%" PRId32 ", %" PRId32
              "), got (%" PRId32 ", %" PRId32 ")", k_qmul[i].m, k_qmul[i].qm, k_qmul[i].shift, qm, sh);
    CHECK_OK(etpu_quantize_multiplier(k_qmul[i].m, 1, &qm, &sh));
    CHECK_MSG(qm == k_qmul[i].qm_single && sh == k_qmul[i].shift_single,
              "QuantizeMultiplier single-round(%a): expected (%" PRId32 ", %" PRId32 "), got (%" PRId32
              ", %" PRId32 ")",
              k_qmul[i].m, k_qmul[i].qm_single, k_qmul[i].shift_single, qm, sh);
  }
  int32_t qm = 11, sh = 12;
  CHECK(etpu_quantize_multiplier(INFINITY, 0, &qm, &sh) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_quantize_multiplier(NAN, 0, &qm, &sh) == ETPU_INVALID_ARGUMENT);
  CHECK(qm == 11 && sh == 12); /* untouched on failure */
}

static void test_mbqm(void) {
  for (size_t i = 0; i < sizeof k_mbqm / sizeof k_mbqm[0]; i++) {
    const int32_t d = etpu_mbqm_double_round(k_mbqm[i].x, k_mbqm[i].qm, k_mbqm[i].shift);
    CHECK_MSG(d == k_mbqm[i].want_double, "MBQM double(%" PRId32 ", %" PRId32 ", %" PRId32 "): expected %" PRId32
              ", got %" PRId32, k_mbqm[i].x, k_mbqm[i].qm, k_mbqm[i].shift, k_mbqm[i].want_double, d);
    if (k_mbqm[i].shift > 30) continue;
    const int32_t s = etpu_mbqm_single_round(k_mbqm[i].x, k_mbqm[i].qm, k_mbqm[i].shift);
    CHECK_MSG(s == k_mbqm[i].want_single, "MBQM single(%" PRId32 ", %" PRId32 ", %" PRId32 "): expected %" PRId32
              ", got %" PRId32, k_mbqm[i].x, k_mbqm[i].qm, k_mbqm[i].shift, k_mbqm[i].want_single, s);
  }
  /* Where double rounding shows: x·m = 5·0.25 = 1.25 with m = 2^30·2^(−1−31).
   * Double: SRDHM(5, 2^30) = round(2.5) = 3, then RDBPOT(3, 1) = round(1.5) = 2.
   * Single: round(1.25) = 1. */
  CHECK(etpu_mbqm_double_round(5, 1 << 30, -1) == 2);
  CHECK(etpu_mbqm_single_round(5, 1 << 30, -1) == 1);
  CHECK(etpu_mbqm_double_round(3, 1 << 30, -1) == 1);   /* SRDHM 1.5 → 2; RDBPOT 1.0 → 1 */
  CHECK(etpu_mbqm_double_round(-3, 1 << 30, -1) == -1); /* SRDHM −1.5 → −1; RDBPOT −0.5 → −1 */
  CHECK(etpu_mbqm_single_round(-3, 1 << 30, -1) == -1); /* −0.75 → −1 */
  CHECK(etpu_mbqm_double_round(-1, 1 << 30, 0) == 0);    /* −0.5 rounds up in SRDHM */
  CHECK(etpu_mbqm_single_round(-1, 1 << 30, 0) == 0);    /* −0.5: + 2^30 then floor → 0 */
}

static void test_fp32_rounding(void) {
  static const struct {
    float x, want;
  } rhe[] = {{0.5f, 0.0f},  {1.5f, 2.0f},   {2.5f, 2.0f},   {3.5f, 4.0f},         {-0.5f, 0.0f},
             {-1.5f, -2.0f}, {-2.5f, -2.0f}, {-3.5f, -4.0f}, {0.49999997f, 0.0f},  {2.5000002f, 3.0f},
             {-2.5000002f, -3.0f}, {126.5f, 126.0f}, {127.5f, 128.0f}, {-128.5f, -128.0f}, {0.0f, 0.0f}};
  for (size_t i = 0; i < sizeof rhe / sizeof rhe[0]; i++) {
    const float got = etpu_round_half_even_f32(rhe[i].x);
    CHECK_MSG(got == rhe[i].want, "round_half_even(%.9g): expected %g, got %g", (double)rhe[i].x,
              (double)rhe[i].want, (double)got);
  }
  static const struct {
    int32_t acc;
    float scale;
    int32_t zp, qmin, qmax, want;
  } rq[] = {
      {5, 0.5f, 0, -128, 127, 2},           {7, 0.5f, 0, -128, 127, 4},        {-5, 0.5f, 0, -128, 127, -2},
      {-7, 0.5f, 0, -128, 127, -4},         {3, 0.5f, 10, -128, 127, 12},      {1, 0.5f, -1, -128, 127, -1},
      {1000000, 1.0f, -128, -128, 127, 127}, {-1000000, 1.0f, 5, -128, 127, -128},
      {INT32_MAX, 1.0f, 0, -128, 127, 127},
      {INT32_MIN, 1.0f, 0, -128, 127, -128}, {255, 1.0f, -128, -128, 127, 127}, {254, 0.5f, -128, -128, 127, -1},
      {10, 0.25f, 0, 0, 6, 2},              {-10, 0.25f, 3, 0, 6, 1},          {100, 0.01f, 0, -128, 127, 1},
  };
  for (size_t i = 0; i < sizeof rq / sizeof rq[0]; i++) {
    const int32_t got = etpu_requantize_fp32(rq[i].acc, rq[i].scale, rq[i].zp, rq[i].qmin, rq[i].qmax);
    CHECK_MSG(got == rq[i].want,
              "requantize_fp32(%" PRId32 ", %g, zp %" PRId32 "): expected %" PRId32 ", got %" PRId32, rq[i].acc,
              (double)rq[i].scale, rq[i].zp, rq[i].want, got);
  }
  /* etpu_requant_init's float32 scale is in·w/out with float rounding at each
   * step, not the rounded double. */
  etpu_requant r;
  const float in = 0.0235294122f, w = 0.0312500037f, out = 0.347717464f;
  CHECK_OK(etpu_requant_init(in, w, out, ETPU_REQUANT_FP32, &r));
  volatile float p = in * w;
  volatile float want = p / out;
  CHECK(r.scale == want);
  CHECK(etpu_requant_init(0.0f, w, out, ETPU_REQUANT_FP32, &r) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_requant_init(in, NAN, out, ETPU_REQUANT_DOUBLE_ROUND, &r) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_requant_init(in, w, -1.0f, ETPU_REQUANT_DOUBLE_ROUND, &r) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_requant_init(in, w, out, (etpu_requant_mode)7, &r) == ETPU_INVALID_ARGUMENT);
  /* the double path: QuantizeMultiplier((double)in·(double)w/(double)out) */
  int32_t qm, sh;
  CHECK_OK(etpu_requant_init(in, w, out, ETPU_REQUANT_DOUBLE_ROUND, &r));
  CHECK_OK(etpu_quantize_multiplier((double)in * (double)w / (double)out, 0, &qm, &sh));
  CHECK(r.multiplier == qm && r.shift == sh);
  /* single rounding saturates large scales to (2^31 − 1, 30) */
  CHECK_OK(etpu_requant_init(65536.0f, 65536.0f, 1.0f, ETPU_REQUANT_SINGLE_ROUND, &r));
  CHECK(r.multiplier == INT32_MAX && r.shift == 30);
  CHECK(strcmp(etpu_requant_mode_name(ETPU_REQUANT_FP32), "fp32") == 0);
  CHECK(strcmp(etpu_requant_mode_name(99), "unknown") == 0);
}

static void test_activation_range(void) {
  static const struct {
    int32_t act;
    float scale;
    int32_t zp, want_min, want_max;
  } cases[] = {
      {ETPU_ACT_NONE, 0.1f, 3, -128, 127},
      {ETPU_ACT_RELU, 0.1f, 3, 3, 127},
      {ETPU_ACT_RELU, 0.1f, -128, -128, 127},
      {ETPU_ACT_RELU6, 0.0235294122f, -128, -128, 127}, /* 6/scale = 255.00001 */
      {ETPU_ACT_RELU6, 0.05f, -10, -10, 110},
      {ETPU_ACT_RELU6, 0.01f, 0, 0, 127},             /* Q(6) = 600 clamps to qmax */
      {ETPU_ACT_RELU_N1_TO_1, 0.01f, 0, -100, 100},
      {ETPU_ACT_RELU_N1_TO_1, 1.0f / 128, 0, -128, 127},
      {ETPU_ACT_RELU_N1_TO_1, 0.004f, 2, -128, 127},   /* ±250 + 2 */
      {ETPU_ACT_RELU6, 0.4f, 0, 0, 15},                /* 6/0.4 = 15 */
      {ETPU_ACT_RELU6, 0.8f, 0, 0, 8},                 /* 7.5 rounds away from zero */
      {ETPU_ACT_RELU_N1_TO_1, 0.8f, 0, -1, 1},         /* ±1.25 → ±1 */
      {ETPU_ACT_RELU_N1_TO_1, 0.4f, 0, -3, 3},         /* ±2.5 → ±3 (half away) */
      {ETPU_ACT_RELU6, 1e-30f, 0, 0, 127},             /* tiny scale: no overflow */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int32_t lo = 999, hi = 999;
    CHECK_OK(etpu_activation_range_quantized(cases[i].act, cases[i].scale, cases[i].zp, -128, 127, &lo, &hi));
    CHECK_MSG(lo == cases[i].want_min && hi == cases[i].want_max,
              "activation %" PRId32 " scale %g zp %" PRId32 ": expected [%" PRId32 ", %" PRId32 "], got [%" PRId32
              ", %" PRId32 "]", cases[i].act, (double)cases[i].scale, cases[i].zp, cases[i].want_min,
              cases[i].want_max, lo, hi);
  }
  int32_t lo = 5, hi = 6;
  CHECK(etpu_activation_range_quantized(ETPU_ACT_TANH, 0.1f, 0, -128, 127, &lo, &hi) == ETPU_UNSUPPORTED);
  CHECK(etpu_activation_range_quantized(42, 0.1f, 0, -128, 127, &lo, &hi) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_activation_range_quantized(ETPU_ACT_RELU, 0.0f, 0, -128, 127, &lo, &hi) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_activation_range_quantized(ETPU_ACT_RELU, 0.1f, 200, -128, 127, &lo, &hi) == ETPU_INVALID_ARGUMENT);
  CHECK(lo == 5 && hi == 6);
  /* uint8 range */
  CHECK_OK(etpu_activation_range_quantized(ETPU_ACT_RELU6, 0.0235294122f, 0, 0, 255, &lo, &hi));
  CHECK(lo == 0 && hi == 255);
}

static void test_output_size(void) {
  static const struct {
    etpu_padding pad;
    int32_t in, filter, stride, dilation, out, before, after;
  } cases[] = {
      {ETPU_PADDING_SAME, 224, 3, 2, 1, 112, 0, 1}, {ETPU_PADDING_SAME, 112, 3, 1, 1, 112, 1, 1},
      {ETPU_PADDING_SAME, 96, 3, 2, 1, 48, 0, 1},   {ETPU_PADDING_SAME, 7, 1, 1, 1, 7, 0, 0},
      {ETPU_PADDING_SAME, 10, 3, 1, 2, 10, 2, 2},   {ETPU_PADDING_SAME, 5, 4, 1, 1, 5, 1, 2},
      {ETPU_PADDING_SAME, 1, 5, 3, 1, 1, 2, 2},     {ETPU_PADDING_VALID, 5, 3, 2, 1, 2, 0, 0},
      {ETPU_PADDING_VALID, 7, 3, 2, 2, 2, 0, 0},    {ETPU_PADDING_VALID, 224, 3, 2, 1, 111, 0, 0},
      {ETPU_PADDING_VALID, 3, 3, 1, 1, 1, 0, 0},    {ETPU_PADDING_VALID, 49, 1, 1, 1, 49, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const etpu_window_axis ax = {cases[i].in, cases[i].filter, cases[i].stride, cases[i].dilation};
    etpu_window_geometry g = {0, 0, 0};
    CHECK_OK(etpu_conv_output_size(cases[i].pad, &ax, &g));
    CHECK_MSG(g.out_size == cases[i].out && g.pad_before == cases[i].before && g.pad_after == cases[i].after,
              "case %zu: expected out %" PRId32 " pad %" PRId32 "+%" PRId32 ", got %" PRId32 " %" PRId32
              "+%" PRId32, i,
              cases[i].out, cases[i].before, cases[i].after, g.out_size, g.pad_before, g.pad_after);
  }
  etpu_window_geometry g = {-1, -1, -1};
  const etpu_window_axis too_small = {2, 3, 1, 1}, zero_stride = {8, 3, 0, 1}, dil = {4, 3, 1, 2};
  CHECK(etpu_conv_output_size(ETPU_PADDING_VALID, &too_small, &g) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_conv_output_size(ETPU_PADDING_SAME, &zero_stride, &g) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_conv_output_size(ETPU_PADDING_VALID, &dil, &g) == ETPU_INVALID_ARGUMENT); /* eff 5 > 4 */
  CHECK(etpu_conv_output_size((etpu_padding)2, &dil, &g) == ETPU_INVALID_ARGUMENT);
  CHECK(g.out_size == -1);
}

/* ------------------------------------------------------------------------
 * Part 2: kernels on small cases
 * ---------------------------------------------------------------------- */

#define GUARD 32
#define GUARD_BYTE 0xA5

static uint64_t g_rng;

static uint32_t rnd(void) { /* xorshift64* */
  g_rng ^= g_rng >> 12;
  g_rng ^= g_rng << 25;
  g_rng ^= g_rng >> 27;
  return (uint32_t)((g_rng * 0x2545F4914F6CDD1DULL) >> 32);
}
static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_f(float lo, float hi) { return lo + (hi - lo) * (float)(rnd() >> 8) / 16777216.0f; }

/* n bytes followed by GUARD guard bytes; the n bytes are set to fill. */
static int8_t *guarded(size_t n, int fill) {
  uint8_t *p = malloc(n + GUARD);
  if (!p) {
    fprintf(stderr, "out of memory\n");
    exit(1);
  }
  memset(p, fill, n);
  memset(p + n, GUARD_BYTE, GUARD);
  return (int8_t *)p;
}
static bool guard_ok(const int8_t *p, size_t n) {
  const uint8_t *u = (const uint8_t *)p;
  for (size_t i = 0; i < GUARD; i++)
    if (u[n + i] != GUARD_BYTE) return false;
  return true;
}
static size_t dims_count(const etpu_dims *d) { return (size_t)d->n * (size_t)d->h * (size_t)d->w * (size_t)d->c; }
static void fill_s8(int8_t *p, size_t n, int32_t lo, int32_t hi) {
  for (size_t i = 0; i < n; i++) p[i] = (int8_t)rnd_in(lo, hi);
}

/* Random per-channel requantization for out_c channels (or 1). */
static void random_requant(etpu_requant *rq, int32_t count, etpu_requant_mode mode, int32_t fan_in) {
  const float in_scale = rnd_f(0.005f, 0.1f);
  /* about 100·sqrt(fan_in)·w_scale per output step: most outputs land inside [−128, 127] */
  const float out_scale = in_scale * 2.0f * rnd_f(0.3f, 3.0f) * sqrtf((float)(fan_in > 0 ? fan_in : 1));
  for (int32_t c = 0; c < count; c++) {
    const float w_scale = rnd_f(0.001f, 0.03f);
    if (etpu_requant_init(in_scale, w_scale, out_scale, mode, &rq[c]) != ETPU_OK) {
      fprintf(stderr, "random_requant: %s\n", etpu_errmsg());
      exit(1);
    }
  }
}

static void random_act(int32_t *lo, int32_t *hi) {
  if (rnd() % 2) {
    *lo = -128;
    *hi = 127;
  } else {
    *lo = rnd_in(-128, 0);
    *hi = rnd_in(*lo, 127);
  }
}

static int first_diff(const int8_t *a, const int8_t *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i]) return (int)i;
  return -1;
}

/* Hand-computed: 3x3 input 2..10 with zero point 1 (so values 1..9), 2x2
 * filter of ones, scale 0.5. */
static void test_conv_hand(void) {
  const int8_t in[9] = {2, 3, 4, 5, 6, 7, 8, 9, 10};
  const int8_t w[4] = {1, 1, 1, 1};
  const int32_t bias[1] = {0};
  etpu_requant rq;
  CHECK_OK(etpu_requant_init(1.0f, 0.5f, 1.0f, ETPU_REQUANT_DOUBLE_ROUND, &rq));
  const etpu_requant_params q = {&rq, 1, ETPU_REQUANT_DOUBLE_ROUND};
  const etpu_dims in_d = {1, 3, 3, 1}, f_d = {1, 2, 2, 1};
  /* VALID: sums 12 16 24 28 → 6 8 12 14 */
  {
    const etpu_conv_params p = {-1, 0, 1, 1, 0, 0, 1, 1, -128, 127};
    const etpu_dims out_d = {1, 2, 2, 1};
    int8_t *out = guarded(4, 0);
    CHECK_OK(etpu_conv2d_s8(&p, &q, &in_d, in, &f_d, w, bias, &out_d, out));
    const int8_t want[4] = {6, 8, 12, 14};
    CHECK(memcmp(out, want, 4) == 0);
    CHECK(guard_ok(out, 4));
    free(out);
  }
  /* SAME: pad 0 before, 1 after; sums 12 16 9 / 24 28 15 / 15 17 9; halves
   * round up on ties (SRDHM): 6 8 5 / 12 14 8 / 8 9 5. */
  {
    const etpu_window_axis ax = {3, 2, 1, 1};
    etpu_window_geometry g;
    CHECK_OK(etpu_conv_output_size(ETPU_PADDING_SAME, &ax, &g));
    CHECK(g.out_size == 3 && g.pad_before == 0 && g.pad_after == 1);
    const etpu_conv_params p = {-1, 0, 1, 1, g.pad_before, g.pad_before, 1, 1, -128, 127};
    const etpu_dims out_d = {1, 3, 3, 1};
    int8_t *out = guarded(9, 0);
    CHECK_OK(etpu_conv2d_s8(&p, &q, &in_d, in, &f_d, w, NULL, &out_d, out));
    const int8_t want[9] = {6, 8, 5, 12, 14, 8, 8, 9, 5};
    CHECK_MSG(memcmp(out, want, 9) == 0, "SAME conv: first difference at %d", first_diff(out, want, 9));
    CHECK(guard_ok(out, 9));
    /* output zero point and clamp: +3, clamp [−128, 10] */
    const etpu_conv_params p2 = {-1, 3, 1, 1, 0, 0, 1, 1, -128, 10};
    CHECK_OK(etpu_conv2d_s8(&p2, &q, &in_d, in, &f_d, w, NULL, &out_d, out));
    const int8_t want2[9] = {9, 10, 8, 10, 10, 10, 10, 10, 8};
    CHECK(memcmp(out, want2, 9) == 0);
    free(out);
  }
}

static void test_dw_fc_hand(void) {
  /* depthwise: 2x2x2 input, multiplier 2, 1x1 filter [1, 2, 3, −1], scale 1 */
  const int8_t in[8] = {1, 10, 2, 20, 3, 30, 4, 40};
  const int8_t w[4] = {1, 2, 3, -1};
  etpu_requant rq;
  CHECK_OK(etpu_requant_init(1.0f, 1.0f, 1.0f, ETPU_REQUANT_DOUBLE_ROUND, &rq));
  CHECK(rq.multiplier == (1 << 30) && rq.shift == 1);
  const etpu_requant_params q = {&rq, 1, ETPU_REQUANT_DOUBLE_ROUND};
  const etpu_dims in_d = {1, 2, 2, 2}, f_d = {1, 1, 1, 4}, out_d = {1, 2, 2, 4};
  const etpu_dw_conv_params p = {0, 0, 1, 1, 0, 0, 1, 1, 2, -128, 127};
  int8_t *out = guarded(16, 0);
  CHECK_OK(etpu_depthwise_conv2d_s8(&p, &q, &in_d, in, &f_d, w, NULL, &out_d, out));
  const int8_t want[16] = {1, 2, 30, -10, 2, 4, 60, -20, 3, 6, 90, -30, 4, 8, 120, -40};
  CHECK_MSG(memcmp(out, want, 16) == 0, "depthwise: first difference at %d", first_diff(out, want, 16));
  CHECK(guard_ok(out, 16));
  free(out);

  /* fully connected with a weight zero point: w − zp_w = [1, 2, 3] · x − zp_x */
  const int8_t x[3] = {5, 6, 7}; /* zp 4 → 1 2 3 */
  const int8_t fw[6] = {3, 4, 5, 0, 0, 0}; /* zp 2 → 1 2 3 / −2 −2 −2 */
  const int32_t bias[2] = {10, 0};
  const etpu_fc_params fp = {-4, -2, -1, -128, 127};
  const etpu_dims x_d = {1, 1, 1, 3}, fw_d = {2, 1, 1, 3}, o_d = {1, 1, 1, 2};
  int8_t *o = guarded(2, 0);
  CHECK_OK(etpu_fully_connected_s8(&fp, &q, &x_d, x, &fw_d, fw, bias, &o_d, o));
  CHECK(o[0] == 10 + 14 - 1 && o[1] == -12 - 1); /* 1+4+9 + 10, −2−4−6; + zp −1 */
  CHECK(guard_ok(o, 2));
  free(o);
}

/* Skipping out-of-input positions == padding with the input zero point. */
static void test_conv_padding_equivalence(int iterations) {
  int ran = 0;
  for (int it = 0; it < iterations; it++) {
    const int32_t groups = rnd_in(1, 2), f_c = rnd_in(1, 4), per_group = rnd_in(1, 3);
    const etpu_dims in_d = {rnd_in(1, 2), rnd_in(1, 7), rnd_in(1, 7), groups * f_c};
    const etpu_dims f_d = {groups * per_group, rnd_in(1, 4), rnd_in(1, 4), f_c};
    etpu_conv_params p = {0};
    p.stride_h = rnd_in(1, 3);
    p.stride_w = rnd_in(1, 3);
    p.dilation_h = rnd_in(1, 2);
    p.dilation_w = rnd_in(1, 2);
    p.pad_h = rnd_in(0, 2);
    p.pad_w = rnd_in(0, 2);
    const int32_t after_h = rnd_in(0, 2), after_w = rnd_in(0, 2);
    const int32_t ph = in_d.h + p.pad_h + after_h, pw = in_d.w + p.pad_w + after_w;
    const int32_t eff_h = (f_d.h - 1) * p.dilation_h + 1, eff_w = (f_d.w - 1) * p.dilation_w + 1;
    if (ph < eff_h || pw < eff_w) continue;
    const etpu_dims out_d = {in_d.n, (ph - eff_h) / p.stride_h + 1, (pw - eff_w) / p.stride_w + 1, f_d.n};
    const int32_t zp_in = rnd_in(-128, 127);
    p.input_offset = -zp_in;
    p.output_offset = rnd_in(-128, 127);
    random_act(&p.activation_min, &p.activation_max);
    const etpu_requant_mode mode = (etpu_requant_mode)rnd_in(0, 2);
    etpu_requant rq[16];
    const int32_t count = rnd() % 3 ? f_d.n : 1;
    random_requant(rq, count, mode, f_d.h * f_d.w * f_c);
    const etpu_requant_params q = {rq, count, mode};

    const size_t n_in = dims_count(&in_d), n_f = dims_count(&f_d), n_out = dims_count(&out_d);
    int8_t *in = guarded(n_in, 0), *w = guarded(n_f, 0);
    fill_s8(in, n_in, -128, 127);
    fill_s8(w, n_f, -127, 127);
    int32_t bias[16];
    for (int32_t c = 0; c < f_d.n; c++) bias[c] = rnd_in(-20000, 20000);
    const int32_t *b = rnd() % 4 ? bias : NULL;

    /* explicitly padded copy */
    const etpu_dims pad_d = {in_d.n, ph, pw, in_d.c};
    int8_t *padded = guarded(dims_count(&pad_d), zp_in);
    for (int32_t n = 0; n < in_d.n; n++)
      for (int32_t y = 0; y < in_d.h; y++)
        for (int32_t x = 0; x < in_d.w; x++)
          memcpy(padded + (((size_t)n * (size_t)ph + (size_t)(y + p.pad_h)) * (size_t)pw + (size_t)(x + p.pad_w)) *
                              (size_t)in_d.c,
                 in + (((size_t)n * (size_t)in_d.h + (size_t)y) * (size_t)in_d.w + (size_t)x) * (size_t)in_d.c,
                 (size_t)in_d.c);
    etpu_conv_params p0 = p;
    p0.pad_h = p0.pad_w = 0;
    int8_t *o1 = guarded(n_out, 0x11), *o2 = guarded(n_out, 0x22);
    CHECK_OK(etpu_conv2d_s8(&p, &q, &in_d, in, &f_d, w, b, &out_d, o1));
    CHECK_OK(etpu_conv2d_s8(&p0, &q, &pad_d, padded, &f_d, w, b, &out_d, o2));
    const int d = first_diff(o1, o2, n_out);
    CHECK_MSG(d < 0, "iteration %d: element %d: padded %d, skipped %d (in %dx%dx%dx%d, filter %dx%dx%dx%d)", it, d,
              d < 0 ? 0 : o2[d], d < 0 ? 0 : o1[d], in_d.n, in_d.h, in_d.w, in_d.c, f_d.n, f_d.h, f_d.w, f_d.c);
    CHECK(guard_ok(o1, n_out) && guard_ok(o2, n_out));
    free(in);
    free(w);
    free(padded);
    free(o1);
    free(o2);
    ran++;
  }
  printf("  conv padding equivalence: %d random cases\n", ran);
}

/* Depthwise == grouped conv with one input channel per group; fully
 * connected == 1x1 conv. */
static void test_dw_fc_vs_conv(int iterations) {
  for (int it = 0; it < iterations; it++) {
    const int32_t in_c = rnd_in(1, 5), mult = rnd_in(1, 3);
    const etpu_dims in_d = {rnd_in(1, 2), rnd_in(1, 6), rnd_in(1, 6), in_c};
    const etpu_dims dwf_d = {1, rnd_in(1, 3), rnd_in(1, 3), in_c * mult};
    const etpu_dims cf_d = {in_c * mult, dwf_d.h, dwf_d.w, 1};
    etpu_dw_conv_params dp = {0};
    dp.stride_h = rnd_in(1, 2);
    dp.stride_w = rnd_in(1, 2);
    dp.dilation_h = rnd_in(1, 2);
    dp.dilation_w = rnd_in(1, 2);
    dp.depth_multiplier = mult;
    const etpu_padding pad = rnd() % 2 ? ETPU_PADDING_SAME : ETPU_PADDING_VALID;
    const etpu_window_axis ah = {in_d.h, dwf_d.h, dp.stride_h, dp.dilation_h};
    const etpu_window_axis aw = {in_d.w, dwf_d.w, dp.stride_w, dp.dilation_w};
    etpu_window_geometry gh, gw;
    if (etpu_conv_output_size(pad, &ah, &gh) != ETPU_OK || etpu_conv_output_size(pad, &aw, &gw) != ETPU_OK) continue;
    dp.pad_h = gh.pad_before;
    dp.pad_w = gw.pad_before;
    dp.input_offset = -rnd_in(-128, 127);
    dp.output_offset = rnd_in(-128, 127);
    random_act(&dp.activation_min, &dp.activation_max);
    const etpu_conv_params cp = {dp.input_offset, dp.output_offset, dp.stride_h, dp.stride_w, dp.pad_h, dp.pad_w,
                                 dp.dilation_h, dp.dilation_w, dp.activation_min, dp.activation_max};
    const etpu_dims out_d = {in_d.n, gh.out_size, gw.out_size, in_c * mult};
    const etpu_requant_mode mode = (etpu_requant_mode)rnd_in(0, 2);
    etpu_requant rq[16];
    random_requant(rq, out_d.c, mode, dwf_d.h * dwf_d.w);
    const etpu_requant_params q = {rq, out_d.c, mode};
    const size_t n_in = dims_count(&in_d), n_f = dims_count(&dwf_d), n_out = dims_count(&out_d);
    int8_t *in = guarded(n_in, 0), *dw = guarded(n_f, 0), *cw = guarded(n_f, 0);
    fill_s8(in, n_in, -128, 127);
    fill_s8(dw, n_f, -127, 127);
    for (int32_t oc = 0; oc < out_d.c; oc++)
      for (int32_t k = 0; k < dwf_d.h * dwf_d.w; k++) /* [1, KH, KW, C] -> [C, KH, KW, 1] */
        cw[(size_t)oc * (size_t)(dwf_d.h * dwf_d.w) + (size_t)k] = dw[(size_t)k * (size_t)out_d.c + (size_t)oc];
    int32_t bias[16];
    for (int32_t c = 0; c < out_d.c; c++) bias[c] = rnd_in(-5000, 5000);
    int8_t *o1 = guarded(n_out, 0), *o2 = guarded(n_out, 0);
    CHECK_OK(etpu_depthwise_conv2d_s8(&dp, &q, &in_d, in, &dwf_d, dw, bias, &out_d, o1));
    CHECK_OK(etpu_conv2d_s8(&cp, &q, &in_d, in, &cf_d, cw, bias, &out_d, o2));
    const int d = first_diff(o1, o2, n_out);
    CHECK_MSG(d < 0, "depthwise vs conv, iteration %d: element %d: conv %d, depthwise %d", it, d, d < 0 ? 0 : o2[d],
              d < 0 ? 0 : o1[d]);
    CHECK(guard_ok(o1, n_out) && guard_ok(o2, n_out));
    free(in);
    free(dw);
    free(cw);
    free(o1);
    free(o2);
  }
  for (int it = 0; it < iterations; it++) {
    const int32_t batches = rnd_in(1, 3), depth = rnd_in(1, 40), units = rnd_in(1, 12);
    const etpu_dims in_d = {batches, 1, 1, depth}, f_d = {units, 1, 1, depth}, out_d = {batches, 1, 1, units};
    etpu_fc_params fp = {-rnd_in(-128, 127), 0, rnd_in(-128, 127), 0, 0};
    random_act(&fp.activation_min, &fp.activation_max);
    const etpu_conv_params cp = {fp.input_offset, fp.output_offset, 1, 1, 0, 0, 1, 1, fp.activation_min,
                                 fp.activation_max};
    const etpu_requant_mode mode = (etpu_requant_mode)rnd_in(0, 2);
    etpu_requant rq[12];
    const int32_t count = rnd() % 2 ? units : 1;
    random_requant(rq, count, mode, depth);
    const etpu_requant_params q = {rq, count, mode};
    int8_t *in = guarded((size_t)(batches * depth), 0), *w = guarded((size_t)(units * depth), 0);
    fill_s8(in, (size_t)(batches * depth), -128, 127);
    fill_s8(w, (size_t)(units * depth), -127, 127);
    int32_t bias[12];
    for (int32_t c = 0; c < units; c++) bias[c] = rnd_in(-5000, 5000);
    const size_t n_out = (size_t)(batches * units);
    int8_t *o1 = guarded(n_out, 0), *o2 = guarded(n_out, 0);
    CHECK_OK(etpu_fully_connected_s8(&fp, &q, &in_d, in, &f_d, w, bias, &out_d, o1));
    CHECK_OK(etpu_conv2d_s8(&cp, &q, &in_d, in, &f_d, w, bias, &out_d, o2));
    const int d = first_diff(o1, o2, n_out);
    CHECK_MSG(d < 0, "fully connected vs conv, iteration %d: element %d: conv %d, fc %d", it, d, d < 0 ? 0 : o2[d],
              d < 0 ? 0 : o1[d]);
    /* filter_offset k == weights shifted by k */
    const int32_t k = rnd_in(-27, 27);
    for (size_t i = 0; i < (size_t)(units * depth); i++) w[i] = (int8_t)rnd_in(-100, 100);
    fp.filter_offset = k;
    CHECK_OK(etpu_fully_connected_s8(&fp, &q, &in_d, in, &f_d, w, bias, &out_d, o1));
    for (size_t i = 0; i < (size_t)(units * depth); i++) w[i] = (int8_t)(w[i] + k);
    fp.filter_offset = 0;
    CHECK_OK(etpu_fully_connected_s8(&fp, &q, &in_d, in, &f_d, w, bias, &out_d, o2));
    CHECK(first_diff(o1, o2, n_out) < 0);
    CHECK(guard_ok(o1, n_out) && guard_ok(o2, n_out));
    free(in);
    free(w);
    free(o1);
    free(o2);
  }
  printf("  depthwise/fully connected vs conv: %d random cases each\n", iterations);
}

/* ------------------------------------------------------------------------
 * Part 2b: uint8, float32 and TRANSPOSE_CONV kernels, each checked against
 * the int8 kernels above (themselves verified against TFLite Micro):
 *  - uint8 == int8 moved by 128: x_u8 = x_s8 + 128 (zero points too) and
 *    w_u8 = w_s8 + zp_w for a random weight zero point zp_w, so
 *    (w_u8 − zp_w)·(x_u8 − zp_u8) = w_s8·(x_s8 − zp_s8) and out_u8 = out_s8 + 128;
 *  - float32 on small integers (every sum exact in float32) == int8 with a
 *    requantization scale of exactly 1 and output zero point 0;
 *  - TRANSPOSE_CONV == CONV_2D over the input with stride−1 zero-point
 *    values inserted between pixels, the filter flipped in h and w, and top /
 *    left padding KH−1−pad_h / KW−1−pad_w.
 * ---------------------------------------------------------------------- */

static int first_diff_u8_s8(const uint8_t *u, const int8_t *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((int32_t)u[i] != (int32_t)s[i] + 128) return (int)i;
  return -1;
}

/* A random conv / depthwise window: dims and geometry (SAME or VALID). */
typedef struct rand_window {
  etpu_dims in, f, out;
  int32_t stride_h, stride_w, dil_h, dil_w, pad_h, pad_w;
} rand_window;

static bool random_window(rand_window *r, bool depthwise) {
  const int32_t in_c = rnd_in(1, 5);
  r->in = (etpu_dims){rnd_in(1, 2), rnd_in(1, 7), rnd_in(1, 7), in_c};
  if (depthwise)
    r->f = (etpu_dims){1, rnd_in(1, 3), rnd_in(1, 3), in_c * rnd_in(1, 3)};
  else
    r->f = (etpu_dims){rnd_in(1, 5), rnd_in(1, 3), rnd_in(1, 3), in_c};
  r->stride_h = rnd_in(1, 2);
  r->stride_w = rnd_in(1, 3);
  r->dil_h = rnd_in(1, 2);
  r->dil_w = rnd_in(1, 2);
  const etpu_padding pad = rnd() % 2 ? ETPU_PADDING_SAME : ETPU_PADDING_VALID;
  const etpu_window_axis ah = {r->in.h, r->f.h, r->stride_h, r->dil_h}, aw = {r->in.w, r->f.w, r->stride_w, r->dil_w};
  etpu_window_geometry gh, gw;
  if (etpu_conv_output_size(pad, &ah, &gh) != ETPU_OK || etpu_conv_output_size(pad, &aw, &gw) != ETPU_OK) return false;
  r->pad_h = gh.pad_before;
  r->pad_w = gw.pad_before;
  r->out = (etpu_dims){r->in.n, gh.out_size, gw.out_size, depthwise ? r->f.c : r->f.n};
  return true;
}

static void test_u8_vs_s8(int iterations) {
  int ran = 0;
  for (int it = 0; it < iterations; it++) {
    const int kind = it % 3; /* conv, depthwise, fully connected */
    rand_window r;
    if (kind == 2) {
      const int32_t b = rnd_in(1, 3), d = rnd_in(1, 40), u = rnd_in(1, 12);
      r.in = (etpu_dims){b, 1, 1, d};
      r.f = (etpu_dims){u, 1, 1, d};
      r.out = (etpu_dims){b, 1, 1, u};
    } else if (!random_window(&r, kind == 1)) {
      continue;
    }
    const int32_t zp_w = rnd() % 4 ? rnd_in(0, 255) : (rnd() % 2 ? 0 : 255);
    const int32_t zp_in = rnd_in(-128, 127), zp_out = rnd_in(-128, 127);
    int32_t act_lo, act_hi;
    random_act(&act_lo, &act_hi);
    const etpu_requant_mode mode = (etpu_requant_mode)rnd_in(0, 2);
    etpu_requant rq[16];
    const int32_t count = rnd() % 2 ? r.out.c : 1;
    random_requant(rq, count, mode, r.f.h * r.f.w * r.f.c);
    const etpu_requant_params q = {rq, count, mode};
    const size_t n_in = dims_count(&r.in), n_f = dims_count(&r.f), n_out = dims_count(&r.out);
    int8_t *xs = guarded(n_in, 0), *ws = guarded(n_f, 0), *os = guarded(n_out, 0);
    uint8_t *xu = (uint8_t *)guarded(n_in, 0), *wu = (uint8_t *)guarded(n_f, 0), *ou = (uint8_t *)guarded(n_out, 0);
    fill_s8(xs, n_in, -128, 127);
    const int32_t w_lo = -zp_w > -128 ? -zp_w : -128, w_hi = 255 - zp_w < 127 ? 255 - zp_w : 127;
    fill_s8(ws, n_f, w_lo, w_hi); /* w_u8 = w_s8 + zp_w stays in [0, 255] */
    for (size_t i = 0; i < n_in; i++) xu[i] = (uint8_t)(xs[i] + 128);
    for (size_t i = 0; i < n_f; i++) wu[i] = (uint8_t)(ws[i] + zp_w);
    int32_t bias[16];
    for (int32_t c = 0; c < r.out.c; c++) bias[c] = rnd_in(-30000, 30000);
    const int32_t *b = rnd() % 4 ? bias : NULL;
    etpu_status s1, s2;
    if (kind == 0) {
      const etpu_conv_params ps = {-zp_in, zp_out, r.stride_h, r.stride_w, r.pad_h, r.pad_w, r.dil_h, r.dil_w,
                                   act_lo, act_hi};
      const etpu_conv_u8_params pu = {-(zp_in + 128), -zp_w, zp_out + 128, r.stride_h, r.stride_w, r.pad_h, r.pad_w,
                                      r.dil_h, r.dil_w, act_lo + 128, act_hi + 128};
      s1 = etpu_conv2d_s8(&ps, &q, &r.in, xs, &r.f, ws, b, &r.out, os);
      s2 = etpu_conv2d_u8(&pu, &q, &r.in, xu, &r.f, wu, b, &r.out, ou);
    } else if (kind == 1) {
      const int32_t mult = r.f.c / r.in.c;
      const etpu_dw_conv_params ps = {-zp_in, zp_out, r.stride_h, r.stride_w, r.pad_h, r.pad_w, r.dil_h, r.dil_w,
                                      mult, act_lo, act_hi};
      const etpu_dw_conv_u8_params pu = {-(zp_in + 128), -zp_w, zp_out + 128, r.stride_h, r.stride_w, r.pad_h,
                                         r.pad_w, r.dil_h, r.dil_w, mult, act_lo + 128, act_hi + 128};
      s1 = etpu_depthwise_conv2d_s8(&ps, &q, &r.in, xs, &r.f, ws, b, &r.out, os);
      s2 = etpu_depthwise_conv2d_u8(&pu, &q, &r.in, xu, &r.f, wu, b, &r.out, ou);
    } else {
      const etpu_fc_params ps = {-zp_in, 0, zp_out, act_lo, act_hi};
      const etpu_fc_u8_params pu = {-(zp_in + 128), -zp_w, zp_out + 128, act_lo + 128, act_hi + 128};
      s1 = etpu_fully_connected_s8(&ps, &q, &r.in, xs, &r.f, ws, b, &r.out, os);
      s2 = etpu_fully_connected_u8(&pu, &q, &r.in, xu, &r.f, wu, b, &r.out, ou);
    }
    CHECK_MSG(s1 == ETPU_OK && s2 == ETPU_OK, "u8 vs s8 kind %d: %s / %s: %s", kind, etpu_status_name(s1),
              etpu_status_name(s2), etpu_errmsg());
    const int d = first_diff_u8_s8(ou, os, n_out);
    CHECK_MSG(d < 0, "u8 vs s8 kind %d iteration %d: element %d: int8 %d (+128), uint8 %d; weight zp %d, mode %s",
              kind, it, d, d < 0 ? 0 : os[d], d < 0 ? 0 : ou[d], zp_w, etpu_requant_mode_name(mode));
    CHECK(guard_ok((int8_t *)ou, n_out) && guard_ok(os, n_out));
    free(xs), free(ws), free(os), free(xu), free(wu), free(ou);
    ran++;
  }
  printf("  uint8 vs int8 (conv, depthwise, fully connected): %d random cases\n", ran);
}

/* Coral-like uint8 zero points, computed by hand. */
static void test_u8_hand(void) {
  etpu_requant rq;
  CHECK_OK(etpu_requant_init(1.0f, 0.5f, 1.0f, ETPU_REQUANT_DOUBLE_ROUND, &rq));
  const etpu_requant_params q = {&rq, 1, ETPU_REQUANT_DOUBLE_ROUND};
  /* x − 128 = [2, −8], w − 211 = [1, −2] / [44, 0]; bias 5 / 0:
   * 2 + 16 + 5 = 23 → 11.5 → 12 (ties away from zero); 88 → 44; + zp 100. */
  const uint8_t x[2] = {130, 120}, w[4] = {212, 209, 255, 211};
  const int32_t bias[2] = {5, 0};
  const etpu_fc_u8_params p = {-128, -211, 100, 0, 255};
  const etpu_dims x_d = {1, 1, 1, 2}, w_d = {2, 1, 1, 2}, o_d = {1, 1, 1, 2};
  uint8_t *o = (uint8_t *)guarded(2, 0);
  CHECK_OK(etpu_fully_connected_u8(&p, &q, &x_d, x, &w_d, w, bias, &o_d, o));
  CHECK_MSG(o[0] == 112 && o[1] == 144, "fc u8: got %d %d, want 112 144", o[0], o[1]);
  /* clamp to a RELU6-like range [100, 140] */
  const etpu_fc_u8_params p2 = {-128, -211, 100, 100, 140};
  CHECK_OK(etpu_fully_connected_u8(&p2, &q, &x_d, x, &w_d, w, bias, &o_d, o));
  CHECK(o[0] == 112 && o[1] == 140);
  CHECK(guard_ok((int8_t *)o, 2));
  free(o);
}

/* float32 kernels on small integers == int8 kernels with scale 1. */
static void test_f32_vs_s8(int iterations) {
  etpu_requant one;
  CHECK_OK(etpu_requant_init(1.0f, 1.0f, 1.0f, ETPU_REQUANT_DOUBLE_ROUND, &one));
  const etpu_requant_params q = {&one, 1, ETPU_REQUANT_DOUBLE_ROUND};
  int ran = 0;
  for (int it = 0; it < iterations; it++) {
    const int kind = it % 3;
    rand_window r;
    if (kind == 2) {
      const int32_t b = rnd_in(1, 3), d = rnd_in(1, 40), u = rnd_in(1, 12);
      r.in = (etpu_dims){b, 1, 1, d};
      r.f = (etpu_dims){u, 1, 1, d};
      r.out = (etpu_dims){b, 1, 1, u};
    } else if (!random_window(&r, kind == 1)) {
      continue;
    }
    const int32_t zp_in = rnd_in(-3, 3);
    int32_t act_lo, act_hi;
    random_act(&act_lo, &act_hi);
    const size_t n_in = dims_count(&r.in), n_f = dims_count(&r.f), n_out = dims_count(&r.out);
    int8_t *xs = guarded(n_in, 0), *ws = guarded(n_f, 0), *os = guarded(n_out, 0);
    float *xf = malloc(n_in * sizeof *xf), *wf = malloc(n_f * sizeof *wf), *of = malloc(n_out * sizeof *of);
    if (!xf || !wf || !of) exit(1);
    fill_s8(xs, n_in, -6, 6);
    fill_s8(ws, n_f, -4, 4);
    for (size_t i = 0; i < n_in; i++) xf[i] = (float)(xs[i] - zp_in);
    for (size_t i = 0; i < n_f; i++) wf[i] = (float)ws[i];
    int32_t bias[16];
    float biasf[16];
    for (int32_t c = 0; c < r.out.c; c++) biasf[c] = (float)(bias[c] = rnd_in(-40, 40));
    const bool use_bias = rnd() % 4 != 0;
    const etpu_conv_f32_params pf = {r.stride_h, r.stride_w, r.pad_h, r.pad_w, r.dil_h, r.dil_w,
                                     r.f.c / r.in.c, (float)act_lo, (float)act_hi};
    etpu_status s1, s2;
    if (kind == 0) {
      const etpu_conv_params ps = {-zp_in, 0, r.stride_h, r.stride_w, r.pad_h, r.pad_w, r.dil_h, r.dil_w, act_lo,
                                   act_hi};
      s1 = etpu_conv2d_s8(&ps, &q, &r.in, xs, &r.f, ws, use_bias ? bias : NULL, &r.out, os);
      s2 = etpu_conv2d_f32(&pf, &r.in, xf, &r.f, wf, use_bias ? biasf : NULL, &r.out, of);
    } else if (kind == 1) {
      const etpu_dw_conv_params ps = {-zp_in, 0, r.stride_h, r.stride_w, r.pad_h, r.pad_w, r.dil_h, r.dil_w,
                                      r.f.c / r.in.c, act_lo, act_hi};
      s1 = etpu_depthwise_conv2d_s8(&ps, &q, &r.in, xs, &r.f, ws, use_bias ? bias : NULL, &r.out, os);
      s2 = etpu_depthwise_conv2d_f32(&pf, &r.in, xf, &r.f, wf, use_bias ? biasf : NULL, &r.out, of);
    } else {
      const etpu_fc_params ps = {-zp_in, 0, 0, act_lo, act_hi};
      const etpu_fc_f32_params pff = {(float)act_lo, (float)act_hi};
      s1 = etpu_fully_connected_s8(&ps, &q, &r.in, xs, &r.f, ws, use_bias ? bias : NULL, &r.out, os);
      s2 = etpu_fully_connected_f32(&pff, &r.in, xf, &r.f, wf, use_bias ? biasf : NULL, &r.out, of);
    }
    CHECK_MSG(s1 == ETPU_OK && s2 == ETPU_OK, "f32 vs s8 kind %d: %s", kind, etpu_errmsg());
    int d = -1;
    for (size_t i = 0; i < n_out && d < 0; i++)
      if (of[i] != (float)os[i]) d = (int)i;
    CHECK_MSG(d < 0, "f32 vs s8 kind %d iteration %d: element %d: int8 %d, float %g", kind, it, d,
              d < 0 ? 0 : os[d], d < 0 ? 0.0 : (double)of[d]);
    free(xs), free(ws), free(os), free(xf), free(wf), free(of);
    ran++;
  }
  /* NaN passes the clamp (TFLite's ActivationFunctionWithMinMax); the clamp holds otherwise. */
  const float x[2] = {NAN, 100.0f}, w[2] = {1.0f, 0.0f}, w2[2] = {0.0f, 1.0f};
  const etpu_dims x_d = {1, 1, 1, 2}, w_d = {1, 1, 1, 2}, o_d = {1, 1, 1, 1};
  const etpu_fc_f32_params relu6 = {0.0f, 6.0f};
  float o = 0.0f;
  CHECK_OK(etpu_fully_connected_f32(&relu6, &x_d, x, &w_d, w, NULL, &o_d, &o));
  CHECK(o != o);
  const float xs2[2] = {1.0f, 100.0f};
  CHECK_OK(etpu_fully_connected_f32(&relu6, &x_d, xs2, &w_d, w2, NULL, &o_d, &o));
  CHECK(o == 6.0f);
  printf("  float32 vs int8 (conv, depthwise, fully connected): %d random cases\n", ran);
}

/* TRANSPOSE_CONV (int8, uint8, float32) == CONV_2D of the zero-inserted input with the flipped filter. */
static void test_transpose_conv(int iterations) {
  int ran = 0;
  for (int it = 0; it < iterations; it++) {
    const int32_t in_c = rnd_in(1, 4), out_c = rnd_in(1, 4), sh = rnd_in(1, 3), sw = rnd_in(1, 3);
    const etpu_dims in_d = {rnd_in(1, 2), rnd_in(1, 5), rnd_in(1, 5), in_c};
    const etpu_dims f_d = {out_c, rnd_in(1, 4), rnd_in(1, 4), in_c};
    const int32_t ph = rnd_in(0, f_d.h - 1), pw = rnd_in(0, f_d.w - 1);
    const etpu_dims out_d = {in_d.n, rnd_in(1, in_d.h * sh + 2), rnd_in(1, in_d.w * sw + 2), out_c};
    /* the equivalent conv: zero-inserted input U, flipped filter F */
    const etpu_dims u_d = {in_d.n, (in_d.h - 1) * sh + 1, (in_d.w - 1) * sw + 1, in_c};
    const int32_t zp_in = rnd_in(-128, 127), zp_out = rnd_in(-128, 127);
    int32_t act_lo, act_hi;
    random_act(&act_lo, &act_hi);
    const etpu_requant_mode mode = (etpu_requant_mode)rnd_in(0, 2);
    etpu_requant rq[4];
    const int32_t count = rnd() % 2 ? out_c : 1;
    random_requant(rq, count, mode, f_d.h * f_d.w * in_c);
    const etpu_requant_params q = {rq, count, mode};
    const size_t n_in = dims_count(&in_d), n_f = dims_count(&f_d), n_out = dims_count(&out_d);
    const size_t n_u = dims_count(&u_d);
    int8_t *x = guarded(n_in, 0), *w = guarded(n_f, 0), *u = guarded(n_u, zp_in), *fl = guarded(n_f, 0);
    int8_t *o1 = guarded(n_out, 0), *o2 = guarded(n_out, 0);
    fill_s8(x, n_in, -128, 127);
    fill_s8(w, n_f, -127, 127);
    for (int32_t b = 0; b < in_d.n; b++)
      for (int32_t y = 0; y < in_d.h; y++)
        for (int32_t xx = 0; xx < in_d.w; xx++)
          memcpy(u + (((size_t)b * (size_t)u_d.h + (size_t)(y * sh)) * (size_t)u_d.w + (size_t)(xx * sw)) *
                         (size_t)in_c,
                 x + (((size_t)b * (size_t)in_d.h + (size_t)y) * (size_t)in_d.w + (size_t)xx) * (size_t)in_c,
                 (size_t)in_c);
    for (int32_t oc = 0; oc < out_c; oc++)
      for (int32_t ky = 0; ky < f_d.h; ky++)
        for (int32_t kx = 0; kx < f_d.w; kx++)
          memcpy(fl + (((size_t)oc * (size_t)f_d.h + (size_t)(f_d.h - 1 - ky)) * (size_t)f_d.w +
                       (size_t)(f_d.w - 1 - kx)) * (size_t)in_c,
                 w + (((size_t)oc * (size_t)f_d.h + (size_t)ky) * (size_t)f_d.w + (size_t)kx) * (size_t)in_c,
                 (size_t)in_c);
    int32_t bias[4];
    for (int32_t c = 0; c < out_c; c++) bias[c] = rnd_in(-20000, 20000);
    const int32_t *b = rnd() % 4 ? bias : NULL;
    const etpu_conv_params cp = {-zp_in, zp_out, 1, 1, f_d.h - 1 - ph, f_d.w - 1 - pw, 1, 1, act_lo, act_hi};
    const etpu_transpose_conv_params tp = {-zp_in, 0, zp_out, sh, sw, ph, pw, act_lo, act_hi};
    const size_t scratch_bytes = etpu_transpose_conv_get_buffer_size(&out_d);
    CHECK(scratch_bytes == n_out * sizeof(int32_t));
    int32_t *scratch = malloc(scratch_bytes);
    if (!scratch) exit(1);
    CHECK_OK(etpu_conv2d_s8(&cp, &q, &u_d, u, &f_d, fl, b, &out_d, o1));
    CHECK_OK(etpu_transpose_conv_s8(&tp, &q, &in_d, x, &f_d, w, b, &out_d, o2, scratch, scratch_bytes));
    int d = first_diff(o1, o2, n_out);
    CHECK_MSG(d < 0, "transpose conv s8 iteration %d: element %d: conv %d, transpose %d", it, d, d < 0 ? 0 : o1[d],
              d < 0 ? 0 : o2[d]);
    CHECK(guard_ok(o2, n_out));

    /* uint8, with a weight zero point: against the int8 result + 128 */
    const int32_t zp_w = rnd_in(100, 160);
    uint8_t *xu = (uint8_t *)guarded(n_in, 0), *wu = (uint8_t *)guarded(n_f, 0), *ou = (uint8_t *)guarded(n_out, 0);
    for (size_t i = 0; i < n_in; i++) xu[i] = (uint8_t)(x[i] + 128);
    for (size_t i = 0; i < n_f; i++) {
      w[i] = (int8_t)rnd_in(-zp_w < -128 ? -128 : -zp_w, 255 - zp_w > 127 ? 127 : 255 - zp_w);
      wu[i] = (uint8_t)(w[i] + zp_w);
    }
    const etpu_transpose_conv_params tu = {-(zp_in + 128), -zp_w, zp_out + 128, sh, sw, ph, pw, act_lo + 128,
                                           act_hi + 128};
    CHECK_OK(etpu_transpose_conv_s8(&tp, &q, &in_d, x, &f_d, w, b, &out_d, o2, scratch, scratch_bytes));
    CHECK_OK(etpu_transpose_conv_u8(&tu, &q, &in_d, xu, &f_d, wu, b, &out_d, ou, scratch, scratch_bytes));
    d = first_diff_u8_s8(ou, o2, n_out);
    CHECK_MSG(d < 0, "transpose conv u8 iteration %d: element %d: int8 %d (+128), uint8 %d", it, d,
              d < 0 ? 0 : o2[d], d < 0 ? 0 : ou[d]);
    CHECK(guard_ok((int8_t *)ou, n_out));

    /* float32 on small integers: against int8 with scale 1 (output zero point 0) */
    etpu_requant one;
    CHECK_OK(etpu_requant_init(1.0f, 1.0f, 1.0f, ETPU_REQUANT_DOUBLE_ROUND, &one));
    const etpu_requant_params q1 = {&one, 1, ETPU_REQUANT_DOUBLE_ROUND};
    fill_s8(x, n_in, -5, 5);
    fill_s8(w, n_f, -4, 4);
    const int32_t zp_small = rnd_in(-2, 2);
    float *xf = malloc(n_in * sizeof *xf), *wf = malloc(n_f * sizeof *wf), *of = malloc(n_out * sizeof *of);
    if (!xf || !wf || !of) exit(1);
    for (size_t i = 0; i < n_in; i++) xf[i] = (float)(x[i] - zp_small);
    for (size_t i = 0; i < n_f; i++) wf[i] = (float)w[i];
    float bf[4];
    int32_t bs[4];
    for (int32_t c = 0; c < out_c; c++) bf[c] = (float)(bs[c] = rnd_in(-30, 30));
    const etpu_transpose_conv_params t1 = {-zp_small, 0, 0, sh, sw, ph, pw, act_lo, act_hi};
    const etpu_conv_f32_params pf = {sh, sw, ph, pw, 1, 1, 1, (float)act_lo, (float)act_hi};
    CHECK_OK(etpu_transpose_conv_s8(&t1, &q1, &in_d, x, &f_d, w, bs, &out_d, o2, scratch, scratch_bytes));
    CHECK_OK(etpu_transpose_conv_f32(&pf, &in_d, xf, &f_d, wf, bf, &out_d, of));
    d = -1;
    for (size_t i = 0; i < n_out && d < 0; i++)
      if (of[i] != (float)o2[i]) d = (int)i;
    CHECK_MSG(d < 0, "transpose conv f32 iteration %d: element %d: int8 %d, float %g", it, d, d < 0 ? 0 : o2[d],
              d < 0 ? 0.0 : (double)of[d]);
    free(x), free(w), free(u), free(fl), free(o1), free(o2), free(scratch);
    free(xu), free(wu), free(ou), free(xf), free(wf), free(of);
    ran++;
  }
  printf("  transpose conv (int8, uint8, float32) vs conv: %d random cases\n", ran);
}

/* Argument checks of the uint8, float32 and TRANSPOSE_CONV kernels. */
static void test_kernel_arguments_more(void) {
  uint8_t in[64] = {0}, w[128] = {0};
  float fin[64] = {0}, fw[128] = {0}, fout[64];
  int32_t scratch[64];
  etpu_requant rq[4];
  for (int i = 0; i < 4; i++) CHECK_OK(etpu_requant_init(0.5f, 0.01f, 0.1f, ETPU_REQUANT_DOUBLE_ROUND, &rq[i]));
  const etpu_requant_params q = {rq, 4, ETPU_REQUANT_DOUBLE_ROUND};
  uint8_t *out = (uint8_t *)guarded(64, 0x5A);
  uint8_t ref[64];
  memset(ref, 0x5A, sizeof ref);
#define EXPECT_REJECT2(call)                                                                 \
  do {                                                                                       \
    etpu_status st_ = (call);                                                                \
    CHECK_MSG(st_ == ETPU_INVALID_ARGUMENT, "%s returned %s", #call, etpu_status_name(st_)); \
    CHECK(memcmp(out, ref, 64) == 0 && guard_ok((int8_t *)out, 64));                         \
  } while (0)
  const etpu_dims ci = {1, 4, 4, 2}, cf = {4, 3, 3, 2}, co = {1, 4, 4, 4}, co_c = {1, 4, 4, 3};
  const etpu_conv_u8_params cp = {-128, -100, 3, 1, 1, 1, 1, 1, 1, 0, 255};
  uint8_t good[64];
  CHECK_OK(etpu_conv2d_u8(&cp, &q, &ci, in, &cf, w, NULL, &co, good));
  etpu_conv_u8_params bad = cp;
  bad.input_offset = 1;
  EXPECT_REJECT2(etpu_conv2d_u8(&bad, &q, &ci, in, &cf, w, NULL, &co, out));
  bad = cp, bad.filter_offset = -256;
  EXPECT_REJECT2(etpu_conv2d_u8(&bad, &q, &ci, in, &cf, w, NULL, &co, out));
  bad = cp, bad.output_offset = 256;
  EXPECT_REJECT2(etpu_conv2d_u8(&bad, &q, &ci, in, &cf, w, NULL, &co, out));
  bad = cp, bad.activation_min = -1;
  EXPECT_REJECT2(etpu_conv2d_u8(&bad, &q, &ci, in, &cf, w, NULL, &co, out));
  EXPECT_REJECT2(etpu_conv2d_u8(&cp, &q, &ci, in, &cf, w, NULL, &co_c, out));
  EXPECT_REJECT2(etpu_conv2d_u8(&cp, &q, &ci, NULL, &cf, w, NULL, &co, out));
  const etpu_dw_conv_u8_params dp = {-128, -211, 3, 1, 1, 1, 1, 1, 1, 2, 0, 255};
  const etpu_dims df = {1, 3, 3, 4};
  CHECK_OK(etpu_depthwise_conv2d_u8(&dp, &q, &ci, in, &df, w, NULL, &co, good));
  etpu_dw_conv_u8_params dbad = dp;
  dbad.depth_multiplier = 3;
  EXPECT_REJECT2(etpu_depthwise_conv2d_u8(&dbad, &q, &ci, in, &df, w, NULL, &co, out));
  const etpu_fc_u8_params fp = {0, 0, 0, 0, 255};
  const etpu_dims fi = {2, 1, 1, 8}, ff = {4, 1, 1, 8}, fo = {2, 1, 1, 4}, ff_d = {4, 1, 1, 7};
  CHECK_OK(etpu_fully_connected_u8(&fp, &q, &fi, in, &ff, w, NULL, &fo, good));
  EXPECT_REJECT2(etpu_fully_connected_u8(&fp, &q, &fi, in, &ff_d, w, NULL, &fo, out));
  /* float: empty or NaN clamp range, bad dims */
  const etpu_conv_f32_params pf = {1, 1, 1, 1, 1, 1, 1, -FLT_MAX, FLT_MAX};
  CHECK_OK(etpu_conv2d_f32(&pf, &ci, fin, &cf, fw, NULL, &co, fout));
  etpu_conv_f32_params pfb = pf;
  pfb.activation_min = NAN;
  CHECK(etpu_conv2d_f32(&pfb, &ci, fin, &cf, fw, NULL, &co, fout) == ETPU_INVALID_ARGUMENT);
  pfb = pf, pfb.activation_min = 1.0f, pfb.activation_max = 0.0f;
  CHECK(etpu_depthwise_conv2d_f32(&pfb, &ci, fin, &df, fw, NULL, &co, fout) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_conv2d_f32(&pf, &ci, fin, &cf, fw, NULL, &co_c, fout) == ETPU_INVALID_ARGUMENT);
  const etpu_fc_f32_params pff = {0.0f, 6.0f};
  CHECK(etpu_fully_connected_f32(&pff, &fi, fin, &ff_d, fw, NULL, &fo, fout) == ETPU_INVALID_ARGUMENT);
  /* transpose conv: [1,2,2,2] -> [1,4,4,4] with a [4,3,3,2] filter; scratch must hold 64 int32 */
  const etpu_dims ti = {1, 2, 2, 2}, tf = {4, 3, 3, 2}, to = {1, 4, 4, 4}, tf_c = {4, 3, 3, 3};
  const etpu_transpose_conv_params tp = {-128, -128, 0, 2, 2, 0, 0, 0, 255};
  CHECK(etpu_transpose_conv_get_buffer_size(&to) == 64 * sizeof(int32_t));
  CHECK(etpu_transpose_conv_get_buffer_size(&co_c) == 48 * sizeof(int32_t));
  const etpu_dims zero = {1, 0, 4, 4};
  CHECK(etpu_transpose_conv_get_buffer_size(&zero) == 0 && etpu_transpose_conv_get_buffer_size(NULL) == 0);
  CHECK_OK(etpu_transpose_conv_u8(&tp, &q, &ti, in, &tf, w, NULL, &to, good, scratch, sizeof scratch));
  EXPECT_REJECT2(etpu_transpose_conv_u8(&tp, &q, &ti, in, &tf, w, NULL, &to, out, scratch, sizeof scratch - 4));
  EXPECT_REJECT2(etpu_transpose_conv_u8(&tp, &q, &ti, in, &tf, w, NULL, &to, out, NULL, sizeof scratch));
  EXPECT_REJECT2(etpu_transpose_conv_u8(&tp, &q, &ti, in, &tf_c, w, NULL, &to, out, scratch, sizeof scratch));
  etpu_transpose_conv_params tbad = tp;
  tbad.stride_h = 0;
  EXPECT_REJECT2(etpu_transpose_conv_u8(&tbad, &q, &ti, in, &tf, w, NULL, &to, out, scratch, sizeof scratch));
  tbad = tp, tbad.input_offset = 0, tbad.filter_offset = 0, tbad.activation_min = -128, tbad.activation_max = 127;
  CHECK_OK(etpu_transpose_conv_s8(&tbad, &q, &ti, (const int8_t *)in, &tf, (const int8_t *)w, NULL, &to,
                                  (int8_t *)good, scratch, sizeof scratch));
  tbad.filter_offset = 129;
  EXPECT_REJECT2(etpu_transpose_conv_s8(&tbad, &q, &ti, (const int8_t *)in, &tf, (const int8_t *)w, NULL, &to,
                                        (int8_t *)out, scratch, sizeof scratch));
  const etpu_conv_f32_params tpf = {2, 2, 0, 0, 1, 1, 1, 0.0f, 6.0f};
  CHECK_OK(etpu_transpose_conv_f32(&tpf, &ti, fin, &tf, fw, NULL, &to, fout));
  CHECK(etpu_transpose_conv_f32(&tpf, &ti, fin, &tf_c, fw, NULL, &to, fout) == ETPU_INVALID_ARGUMENT);
#undef EXPECT_REJECT2
  free(out);
}

/* Every rejected call returns ETPU_INVALID_ARGUMENT and writes nothing. */
static void test_kernel_arguments(void) {
  int8_t in[64] = {0}, w[128] = {0}; /* conv filter 4x3x3x2 = 72 */
  int32_t bias[8] = {0};
  etpu_requant rq[8];
  for (int i = 0; i < 8; i++) CHECK_OK(etpu_requant_init(0.5f, 0.01f, 0.1f, ETPU_REQUANT_DOUBLE_ROUND, &rq[i]));
  int8_t *out = guarded(64, 0x5A);
  int8_t ref[64];
  memset(ref, 0x5A, sizeof ref);
#define EXPECT_REJECT(call)                                                          \
  do {                                                                               \
    etpu_status st_ = (call);                                                        \
    CHECK_MSG(st_ == ETPU_INVALID_ARGUMENT, "%s returned %s", #call, etpu_status_name(st_)); \
    CHECK(etpu_errmsg()[0] != '\0');                                                 \
    CHECK(memcmp(out, ref, 64) == 0 && guard_ok(out, 64));                           \
  } while (0)

  /* conv: 1x4x4x2 input, 4x3x3x2 filter, 1x4x4x4 output (SAME) */
  const etpu_conv_params cp = {1, -3, 1, 1, 1, 1, 1, 1, -128, 127};
  const etpu_requant_params cq = {rq, 4, ETPU_REQUANT_DOUBLE_ROUND};
  const etpu_dims ci = {1, 4, 4, 2}, cf = {4, 3, 3, 2}, co = {1, 4, 4, 4};
  int8_t *good = guarded(64, 0);
  CHECK_OK(etpu_conv2d_s8(&cp, &cq, &ci, in, &cf, w, bias, &co, good));
  CHECK(guard_ok(good, 64));
  free(good);
  etpu_conv_params bad = cp;
  const etpu_dims co_c = {1, 4, 4, 3}, co_n = {2, 4, 4, 4}, cf_c = {4, 3, 3, 3}, ci_0 = {1, 0, 4, 2},
                  cf_g = {3, 3, 3, 1}, big = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX};
  EXPECT_REJECT(etpu_conv2d_s8(NULL, &cq, &ci, in, &cf, w, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, NULL, &ci, in, &cf, w, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci, NULL, &cf, w, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci, in, &cf, NULL, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, NULL, in, &cf, w, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci, in, &cf, w, bias, &co_c, out)); /* out channels */
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci, in, &cf, w, bias, &co_n, out)); /* batch */
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci, in, &cf_c, w, bias, &co, out)); /* 2 % 3 */
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci_0, in, &cf, w, bias, &co, out)); /* zero dim */
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &ci, in, &cf_g, w, bias, &co_c, out)); /* 3 out ch in 2 groups */
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq, &big, in, &cf, w, bias, &co, out)); /* size overflow */
  bad = cp, bad.stride_h = 0;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  bad = cp, bad.dilation_w = -1;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  bad = cp, bad.pad_w = -1;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  bad = cp, bad.activation_min = 5, bad.activation_max = 4;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  bad = cp, bad.activation_max = 128;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  bad = cp, bad.input_offset = -128;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  bad = cp, bad.output_offset = 128;
  EXPECT_REJECT(etpu_conv2d_s8(&bad, &cq, &ci, in, &cf, w, bias, &co, out));
  const etpu_requant_params cq3 = {rq, 3, ETPU_REQUANT_DOUBLE_ROUND}, cq_null = {NULL, 4, ETPU_REQUANT_DOUBLE_ROUND},
                            cq_mode = {rq, 4, (etpu_requant_mode)9};
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq3, &ci, in, &cf, w, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq_null, &ci, in, &cf, w, bias, &co, out));
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq_mode, &ci, in, &cf, w, bias, &co, out));
  etpu_requant bad_rq[4] = {rq[0], rq[1], rq[2], rq[3]};
  bad_rq[2].shift = 40;
  const etpu_requant_params cq_shift = {bad_rq, 4, ETPU_REQUANT_DOUBLE_ROUND};
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq_shift, &ci, in, &cf, w, bias, &co, out));
  bad_rq[2].shift = 31; /* fine for double rounding, not for single */
  const etpu_requant_params cq_single = {bad_rq, 4, ETPU_REQUANT_SINGLE_ROUND};
  EXPECT_REJECT(etpu_conv2d_s8(&cp, &cq_single, &ci, in, &cf, w, bias, &co, out));

  /* depthwise: 1x4x4x2 input, multiplier 2, 1x3x3x4 filter */
  const etpu_dw_conv_params dp = {0, 0, 1, 1, 1, 1, 1, 1, 2, -128, 127};
  const etpu_dims df = {1, 3, 3, 4}, df_n = {2, 3, 3, 4};
  int8_t *good2 = guarded(64, 0);
  CHECK_OK(etpu_depthwise_conv2d_s8(&dp, &cq, &ci, in, &df, w, bias, &co, good2));
  free(good2);
  etpu_dw_conv_params dbad = dp;
  dbad.depth_multiplier = 1;
  EXPECT_REJECT(etpu_depthwise_conv2d_s8(&dbad, &cq, &ci, in, &df, w, bias, &co, out));
  dbad.depth_multiplier = 0;
  EXPECT_REJECT(etpu_depthwise_conv2d_s8(&dbad, &cq, &ci, in, &df, w, bias, &co, out));
  EXPECT_REJECT(etpu_depthwise_conv2d_s8(&dp, &cq, &ci, in, &df_n, w, bias, &co, out));
  EXPECT_REJECT(etpu_depthwise_conv2d_s8(&dp, &cq, &ci, in, &df, w, bias, &co_c, out));
  EXPECT_REJECT(etpu_depthwise_conv2d_s8(&dp, &cq3, &ci, in, &df, w, bias, &co, out));
  dbad = dp, dbad.stride_w = 0;
  EXPECT_REJECT(etpu_depthwise_conv2d_s8(&dbad, &cq, &ci, in, &df, w, bias, &co, out));

  /* fully connected: [2, 8] x [4, 8] */
  const etpu_fc_params fp = {0, 0, 0, -128, 127};
  const etpu_dims fi = {2, 1, 1, 8}, ff = {4, 1, 1, 8}, fo = {2, 1, 1, 4}, ff_d = {4, 1, 1, 7}, fo_u = {2, 1, 1, 3},
                  fi_h = {2, 2, 1, 4};
  int8_t *good3 = guarded(8, 0);
  CHECK_OK(etpu_fully_connected_s8(&fp, &cq, &fi, in, &ff, w, bias, &fo, good3));
  free(good3);
  EXPECT_REJECT(etpu_fully_connected_s8(&fp, &cq, &fi, in, &ff_d, w, bias, &fo, out));
  EXPECT_REJECT(etpu_fully_connected_s8(&fp, &cq, &fi, in, &ff, w, bias, &fo_u, out));
  EXPECT_REJECT(etpu_fully_connected_s8(&fp, &cq, &fi_h, in, &ff, w, bias, &fo, out));
  etpu_fc_params fbad = fp;
  fbad.filter_offset = 129;
  EXPECT_REJECT(etpu_fully_connected_s8(&fbad, &cq, &fi, in, &ff, w, bias, &fo, out));
#undef EXPECT_REJECT
  free(out);
}

/* ------------------------------------------------------------------------
 * Part 3: the tflite-ref golden sets
 * ---------------------------------------------------------------------- */

/* A golden set and the ORIGINAL model its tensor indices refer to
 * (goldens/README.md §4–5), relative to the shared data folder. */
typedef struct golden_set {
  const char *name;  /* goldens/tflite-ref/<name> */
  const char *model; /* the original .tflite */
  bool required;     /* fail (rather than note) when absent */
} golden_set;

static const golden_set k_sets[] = {
    /* mnv2_int8io is tf2_mobilenet_v2 with its edge QUANTIZE ops cut out:
     * the same tensors, and its op k is the original's op k+1. */
    {"mnv2_int8io", "coral/tf2_mobilenet_v2_1.0_224_ptq.tflite", true},
    {"person_detect", "tflite-micro/person_detect.tflite", false},
    {"micro_speech_quantized", "goldens/models/micro_speech_quantized.tflite", false},
    {"hello_world_int8", "tflite-micro/hello_world_int8.tflite", false},
    {"keras_lstm_mnist_ptq", "coral/keras_lstm_mnist_ptq.tflite", false},
};

#define MAX_PRINTED_MISMATCHES 5

typedef struct golden_totals {
  int ops[3];          /* CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED ops present */
  int ops_checked;     /* distinct ops compared at least once */
  int runs;            /* (op, input k) pairs compared */
  size_t elements;     /* output values compared */
  size_t mismatches;   /* output values that differ */
} golden_totals;

/* snprintf into a path buffer; a path too long for it fails the test. */
static bool path_fmt(char *buf, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool path_fmt(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  CHECK_MSG(n >= 0 && (size_t)n < cap, "path too long: %s...", buf);
  return n >= 0 && (size_t)n < cap;
}

static bool file_exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  fclose(f);
  return true;
}

/* The integer after `key` in the first object that follows `section`. */
static bool manifest_int(const char *json, const char *section, const char *key, long *out) {
  const char *s = strstr(json, section);
  if (!s) return false;
  const char *k = strstr(s, key);
  if (!k) return false;
  char *end;
  const long v = strtol(k + strlen(key), &end, 10);
  if (end == k + strlen(key)) return false;
  *out = v;
  return true;
}

static size_t shape_count(const etpu_tensor_info *t) {
  size_t n = 1;
  for (uint32_t i = 0; i < t->rank; i++) n *= (size_t)(t->shape[i] > 0 ? t->shape[i] : 0);
  return n;
}

static int op_kind(int32_t code) {
  switch (code) {
    case ETPU_OP_CONV_2D:
      return 0;
    case ETPU_OP_DEPTHWISE_CONV_2D:
      return 1;
    case ETPU_OP_FULLY_CONNECTED:
      return 2;
    default:
      return -1;
  }
}

static int64_t option(const etpu_model *m, uint32_t opi, const char *field) {
  int64_t v = 0;
  etpu_status st = etpu_model_op_option_int(m, 0, opi, field, &v);
  CHECK_MSG(st == ETPU_OK, "op %u: option %s: %s", opi, field, etpu_errmsg());
  return v;
}

/* Load a golden file that must hold exactly `want` bytes. */
static unsigned char *load_golden(const char *path, size_t want) {
  unsigned char *data = NULL;
  size_t size = 0;
  if (!tu_read_file(path, &data, &size)) {
    CHECK_MSG(false, "cannot read %s", path);
    return NULL;
  }
  if (size != want) {
    CHECK_MSG(false, "%s: %zu bytes, the tensor has %zu", path, size, want);
    free(data);
    return NULL;
  }
  return data;
}

/* Run op `opi` on golden input k. Returns -1 when the golden files are not
 * stored, 0 when compared (mismatches are counted and reported). */
static int run_golden_op(const char *dir, const etpu_model *m, uint32_t opi, const etpu_op_info *op, int k,
                         long model_input, golden_totals *tot) {
  const int kind = op_kind(op->code);
  const int32_t ti = op->inputs[0], to = op->outputs[0];
  char in_path[4096], out_path[4096];
  const bool in_ok = ti == model_input ? path_fmt(in_path, sizeof in_path, "%s/input_%d.bin", dir, k)
                                        : path_fmt(in_path, sizeof in_path, "%s/t%d_%d.bin", dir, (int)ti, k);
  if (!in_ok || !path_fmt(out_path, sizeof out_path, "%s/t%d_%d.bin", dir, (int)to, k)) return 0;
  if (!file_exists(in_path) || !file_exists(out_path)) return -1;

  etpu_tensor_info tin, tw, tb, tout;
  const bool has_bias = op->input_count > 2 && op->inputs[2] >= 0;
  if (op->input_count < 2 || op->output_count < 1 || etpu_model_tensor(m, 0, (uint32_t)ti, &tin) != ETPU_OK ||
      etpu_model_tensor(m, 0, (uint32_t)op->inputs[1], &tw) != ETPU_OK ||
      (has_bias && etpu_model_tensor(m, 0, (uint32_t)op->inputs[2], &tb) != ETPU_OK) ||
      etpu_model_tensor(m, 0, (uint32_t)to, &tout) != ETPU_OK) {
    CHECK_MSG(false, "op %u %s: cannot read its tensors: %s", opi, op->name, etpu_errmsg());
    return 0;
  }
  if (tin.type != ETPU_INT8 || tw.type != ETPU_INT8 || tout.type != ETPU_INT8 ||
      (has_bias && tb.type != ETPU_INT32) || tin.quant_count < 1 || tout.quant_count < 1 || tw.quant_count < 1 ||
      !tw.data) {
    CHECK_MSG(false, "op %u %s: not an int8 op with constant int8 weights and int32 bias", opi, op->name);
    return 0;
  }
  /* output channels: CONV dim 0, DEPTHWISE dim 3, FC dim 0 */
  const int32_t out_c = kind == 1 ? (tw.rank == 4 ? tw.shape[3] : 0) : (tw.rank >= 1 ? tw.shape[0] : 0);
  const int32_t quant_dim = kind == 1 ? 3 : 0;
  if (tw.data_size != shape_count(&tw) || out_c < 1 ||
      (tw.quant_count != 1 && (tw.quant_count != (uint32_t)out_c || tw.quantized_dimension != quant_dim))) {
    CHECK_MSG(false, "op %u %s: weight data or per-axis quantization does not match %d output channels on dim %d",
              opi, op->name, out_c, quant_dim);
    return 0;
  }
  /* Bias: int32 per output channel. Its quantization is never read (TFLite's
   * int8 kernels do not; person_detect's bias even names axis 3 of a 1-D
   * tensor). Copied: flatbuffer data need not be 4-byte aligned. */
  int32_t *bias = NULL;
  if (has_bias) {
    if (!tb.data || tb.data_size != (size_t)out_c * 4) {
      CHECK_MSG(false, "op %u %s: bias has %zu bytes for %d channels", opi, op->name, tb.data_size, out_c);
      return 0;
    }
    bias = malloc((size_t)out_c * sizeof *bias);
    if (!bias) exit(1);
    memcpy(bias, tb.data, (size_t)out_c * 4);
  }
  etpu_requant *rq = malloc((size_t)out_c * sizeof *rq);
  if (!rq) exit(1);
  bool ok = true;
  for (int32_t c = 0; c < out_c && ok; c++) {
    const float ws = tw.scale[tw.quant_count == 1 ? 0 : c];
    etpu_status st = etpu_requant_init(tin.scale[0], ws, tout.scale[0], ETPU_REQUANT_DOUBLE_ROUND, &rq[c]);
    CHECK_MSG(st == ETPU_OK, "op %u %s: channel %d: %s", opi, op->name, c, etpu_errmsg());
    ok = st == ETPU_OK;
  }
  int32_t act_min = -128, act_max = 127;
  if (ok) {
    const int64_t act = option(m, opi, "fused_activation_function");
    etpu_status st = etpu_activation_range_quantized((int32_t)act, tout.scale[0], (int32_t)tout.zero_point[0], -128,
                                                     127, &act_min, &act_max);
    CHECK_MSG(st == ETPU_OK, "op %u %s: activation %d: %s", opi, op->name, (int)act, etpu_errmsg());
    ok = st == ETPU_OK;
  }
  const etpu_requant_params quant = {rq, out_c, ETPU_REQUANT_DOUBLE_ROUND};
  const int32_t in_off = -(int32_t)tin.zero_point[0], out_off = (int32_t)tout.zero_point[0];
  const size_t n_in = shape_count(&tin), n_out = shape_count(&tout);
  unsigned char *gin = ok ? load_golden(in_path, n_in) : NULL;
  unsigned char *gout = gin ? load_golden(out_path, n_out) : NULL;
  int8_t *got = guarded(n_out, 0);
  etpu_status st = ETPU_INVALID_ARGUMENT;
  char shape_msg[160] = "";
  if (gin && gout) {
    if (kind == 0 || kind == 1) {
      if (tin.rank != 4 || tout.rank != 4 || tw.rank != 4) {
        CHECK_MSG(false, "op %u %s: expected 4-D input, weights and output", opi, op->name);
        goto done;
      }
      const etpu_dims in_d = {tin.shape[0], tin.shape[1], tin.shape[2], tin.shape[3]};
      const etpu_dims f_d = {tw.shape[0], tw.shape[1], tw.shape[2], tw.shape[3]};
      const etpu_dims out_d = {tout.shape[0], tout.shape[1], tout.shape[2], tout.shape[3]};
      const etpu_padding pad = (etpu_padding)option(m, opi, "padding");
      const int32_t sh = (int32_t)option(m, opi, "stride_h"), sw = (int32_t)option(m, opi, "stride_w");
      const int32_t dh = (int32_t)option(m, opi, "dilation_h_factor");
      const int32_t dw = (int32_t)option(m, opi, "dilation_w_factor");
      const etpu_window_axis ah = {in_d.h, f_d.h, sh, dh}, aw = {in_d.w, f_d.w, sw, dw};
      etpu_window_geometry gh, gw;
      if (etpu_conv_output_size(pad, &ah, &gh) != ETPU_OK || etpu_conv_output_size(pad, &aw, &gw) != ETPU_OK ||
          gh.out_size != out_d.h || gw.out_size != out_d.w) {
        CHECK_MSG(false, "op %u %s: output %dx%d does not follow from the options (%s)", opi, op->name, out_d.h,
                  out_d.w, etpu_errmsg());
        goto done;
      }
      snprintf(shape_msg, sizeof shape_msg, "[%d,%d,%d,%d] -> [%d,%d,%d,%d], filter %dx%d stride %d dilation %d %s",
               in_d.n, in_d.h, in_d.w, in_d.c, out_d.n, out_d.h, out_d.w, out_d.c, f_d.h, f_d.w, sh, dh,
               pad == ETPU_PADDING_SAME ? "SAME" : "VALID");
      if (kind == 0) {
        const etpu_conv_params p = {in_off, out_off, sh, sw, gh.pad_before, gw.pad_before, dh, dw, act_min, act_max};
        st = etpu_conv2d_s8(&p, &quant, &in_d, (const int8_t *)gin, &f_d, (const int8_t *)tw.data, bias, &out_d, got);
      } else {
        int32_t mult = (int32_t)option(m, opi, "depth_multiplier");
        if ((int64_t)mult * in_d.c != out_c && out_c % in_d.c == 0) {
          printf("  note: op %u: depth_multiplier option %d, channels say %d; using %d\n", opi, mult,
                 out_c / in_d.c, out_c / in_d.c);
          mult = out_c / in_d.c;
        }
        const etpu_dw_conv_params p = {in_off, out_off, sh, sw, gh.pad_before, gw.pad_before, dh, dw, mult,
                                       act_min, act_max};
        st = etpu_depthwise_conv2d_s8(&p, &quant, &in_d, (const int8_t *)gin, &f_d, (const int8_t *)tw.data, bias,
                                      &out_d, got);
      }
    } else {
      if (tw.rank != 2 || option(m, opi, "weights_format") != 0) {
        CHECK_MSG(false, "op %u %s: expected 2-D weights in the default format", opi, op->name);
        goto done;
      }
      const int32_t depth = tw.shape[1];
      if (depth < 1 || n_in % (size_t)depth != 0 || n_out != (n_in / (size_t)depth) * (size_t)out_c) {
        CHECK_MSG(false, "op %u %s: input of %zu values, weights [%d,%d], output of %zu values do not agree", opi,
                  op->name, n_in, out_c, depth, n_out);
        goto done;
      }
      int32_t w_zp = (int32_t)tw.zero_point[0];
      for (uint32_t i = 1; i < tw.quant_count; i++)
        if (tw.zero_point[i] != w_zp) {
          CHECK_MSG(false, "op %u %s: per-channel weight zero points differ", opi, op->name);
          goto done;
        }
      const int32_t batches = (int32_t)(n_in / (size_t)depth);
      const etpu_dims in_d = {batches, 1, 1, depth}, f_d = {out_c, 1, 1, depth}, out_d = {batches, 1, 1, out_c};
      snprintf(shape_msg, sizeof shape_msg, "[%d,%d] x [%d,%d]^T", batches, depth, out_c, depth);
      const etpu_fc_params p = {in_off, -w_zp, out_off, act_min, act_max};
      st = etpu_fully_connected_s8(&p, &quant, &in_d, (const int8_t *)gin, &f_d, (const int8_t *)tw.data, bias,
                                   &out_d, got);
    }
    CHECK_MSG(st == ETPU_OK, "op %u %s: kernel returned %s: %s", opi, op->name, etpu_status_name(st), etpu_errmsg());
    if (st == ETPU_OK) {
      size_t bad = 0;
      for (size_t i = 0; i < n_out; i++) {
        if ((int8_t)gout[i] == got[i]) continue;
        if (bad < MAX_PRINTED_MISMATCHES) {
          const int32_t c = (int32_t)(i % (size_t)out_c);
          fprintf(stderr, "  MISMATCH op %u %s (input %d, t%d): element %zu (channel %d): expected %d, got %d\n", opi,
                  op->name, k, (int)to, i, c, (int8_t)gout[i], got[i]);
        }
        bad++;
      }
      CHECK_MSG(bad == 0, "op %u %s (input %d): %zu of %zu outputs differ; %s", opi, op->name, k, bad, n_out,
                shape_msg);
      CHECK_MSG(guard_ok(got, n_out), "op %u %s: wrote past its output", opi, op->name);
      tot->runs++;
      tot->elements += n_out;
      tot->mismatches += bad;
    }
  }
done:
  free(got);
  free(gin);
  free(gout);
  free(rq);
  free(bias);
  return 0;
}

static void check_golden_set(const char *shared, const golden_set *gs, golden_totals *all) {
  char dir[4096], manifest[4096], model_path[4096];
  if (!path_fmt(dir, sizeof dir, "%s/goldens/tflite-ref/%s", shared, gs->name) ||
      !path_fmt(manifest, sizeof manifest, "%s/manifest.json", dir) ||
      !path_fmt(model_path, sizeof model_path, "%s/%s", shared, gs->model))
    return;
  if (!file_exists(manifest) || !file_exists(model_path)) {
    if (gs->required)
      CHECK_MSG(false, "golden set %s: %s or %s is missing", gs->name, manifest, model_path);
    else
      printf("  %s: not in the shared data (%s, %s), skipped\n", gs->name, manifest, model_path);
    return;
  }
  unsigned char *json = NULL;
  size_t json_size = 0;
  if (!tu_read_file(manifest, &json, &json_size)) {
    CHECK_MSG(false, "cannot read %s", manifest);
    return;
  }
  char *text = malloc(json_size + 1);
  if (!text) exit(1);
  memcpy(text, json, json_size);
  text[json_size] = '\0';
  free(json);
  long model_input = -1, num_tensors = -1;
  CHECK_MSG(manifest_int(text, "\"model_input_tensors\"", "\"index\":", &model_input), "%s: no model input",
            manifest);
  CHECK_MSG(manifest_int(text, "\"model\"", "\"num_tensors\":", &num_tensors), "%s: no num_tensors", manifest);
  free(text);

  etpu_model *m = NULL;
  etpu_status st = etpu_model_open(model_path, &m);
  CHECK_MSG(st == ETPU_OK, "%s: %s", model_path, etpu_errmsg());
  if (st != ETPU_OK) return;
  CHECK_MSG((long)etpu_model_tensor_count(m, 0) == num_tensors, "%s: %u tensors, the manifest says %ld", model_path,
            etpu_model_tensor_count(m, 0), num_tensors);

  golden_totals t;
  memset(&t, 0, sizeof t);
  int unchecked_k0 = 0;
  const uint32_t n_ops = etpu_model_op_count(m, 0);
  for (uint32_t i = 0; i < n_ops; i++) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, i, &op) != ETPU_OK) {
      CHECK_MSG(false, "%s: op %u: %s", model_path, i, etpu_errmsg());
      continue;
    }
    const int kind = op_kind(op.code);
    if (kind < 0 || op.input_count < 1 || op.output_count < 1) continue;
    t.ops[kind]++;
    bool any = false;
    for (int k = 0; k < 3; k++) {
      const int r = run_golden_op(dir, m, i, &op, k, model_input, &t);
      if (r == 0) any = true;
      else if (k == 0) unchecked_k0++;
    }
    if (any) t.ops_checked++;
  }
  etpu_model_free(m);
  /* every op of these sets is testable alone on input 0 (README §3) */
  CHECK_MSG(unchecked_k0 == 0, "%s: %d ops have no golden input/output for input 0", gs->name, unchecked_k0);
  CHECK_MSG(t.ops_checked > 0, "%s: no op checked", gs->name);
  printf("  %s: %d of %d ops checked (CONV_2D %d, DEPTHWISE_CONV_2D %d, FULLY_CONNECTED %d), %d op runs, "
         "%zu outputs compared, %zu mismatches\n",
         gs->name, t.ops_checked, t.ops[0] + t.ops[1] + t.ops[2], t.ops[0], t.ops[1], t.ops[2], t.runs, t.elements,
         t.mismatches);
  for (int i = 0; i < 3; i++) all->ops[i] += t.ops[i];
  all->ops_checked += t.ops_checked;
  all->runs += t.runs;
  all->elements += t.elements;
  all->mismatches += t.mismatches;
}

int main(void) {
  uint64_t seed = 0x6574707552454631ULL; /* "etpuREF1" */
  const char *env_seed = getenv("ETPU_TEST_SEED");
  if (env_seed && env_seed[0]) seed = strtoull(env_seed, NULL, 0);
  if (seed == 0) seed = 1;
  g_rng = seed;
  printf("test_kernels_ref: seed 0x%016" PRIx64 " (set ETPU_TEST_SEED to change)\n", seed);

  printf("part 1: requantization primitives\n");
  test_platform_assumptions();
  test_srdhm();
  test_rdbpot();
  test_quantize_multiplier();
  test_mbqm();
  test_fp32_rounding();
  test_activation_range();
  test_output_size();

  printf("part 2: kernels on small cases\n");
  test_conv_hand();
  test_dw_fc_hand();
  test_conv_padding_equivalence(400);
  test_dw_fc_vs_conv(300);
  test_kernel_arguments();
  test_u8_hand();
  test_u8_vs_s8(600);
  test_f32_vs_s8(600);
  test_transpose_conv(300);
  test_kernel_arguments_more();

  const char *shared = tu_shared_dir();
  if (!shared) {
    const int rc = tu_finish("test_kernels_ref");
    return rc != 0 ? rc : tu_skip_code();
  }
  printf("part 3: tflite-ref golden sets (TensorFlow Lite Micro outputs) under %s\n", shared);
  golden_totals all;
  memset(&all, 0, sizeof all);
  for (size_t i = 0; i < sizeof k_sets / sizeof k_sets[0]; i++) check_golden_set(shared, &k_sets[i], &all);
  printf("goldens: %d ops checked, %d op runs, %zu outputs compared, %zu mismatches\n", all.ops_checked, all.runs,
         all.elements, all.mismatches);
  return tu_finish("test_kernels_ref");
}
