/*
 * test_kernels_opt.c — the tester of the optimized integer kernels
 * (src/kernels/opt/): each is compared bit for bit with its scalar reference
 * (src/kernels/ref/), which stays the oracle.
 *
 *  1. etpu_opt_requant() against etpu_requant_output() on edge and random
 *     accumulators, every mode, random multipliers and shifts (including
 *     left shifts, zero channels and the largest multipliers), random clamps;
 *  2. 20000 random layers (fixed, printed seed; ETPU_TEST_SEED overrides it),
 *     and 1000 more with the FPU rounding upward (the fp32 fast path's
 *     fallback):
 *     CONV_2D (groups, 1×1 and larger windows), DEPTHWISE_CONV_2D (depth
 *     multiplier, rows up to 90 pixels wide) and FULLY_CONNECTED, int8 and
 *     uint8, every requant mode, per-channel and per-tensor tables, strides 1–3, dilations 1–3, padding
 *     0–3 (and windows entirely in the padding), offsets and clamps at both
 *     ends of their ranges, extreme inputs and weights, no bias and biases
 *     near the overflow bound; the output must equal the reference's byte for
 *     byte and the guard bytes after it must be intact;
 *     Every layer runs with the micro-kernels of every ISA this CPU supports
 *     (src/kernels/ukernel/; the others are printed as skipped), from
 *     weights packed for it (the int16 GEMM of the levels below avx2, the
 *     uint8 × int8 blocks above), and once more split into random ranges of units
 *     (etpu_opt_conv_run_range), each equal to the reference's bytes;
 *  3. the guard of etpu_opt_conv_supported: a layer that could overflow int32
 *     is refused, and etpu_opt_conv_run refuses a scratch one byte short and
 *     run_range a range past the layer's units.
 * On a mismatch it prints the case, the index, expected and got values.
 *
 * `test_kernels_opt --seed-fault` checks the tester itself: for each level
 * above scalar this CPU runs, it swaps in a copy of that level's table whose
 * GEMM and depthwise kernels drop their last step (a tail bug: kc − 8 int16
 * values, kc − 4 uint8 ones, n − 1 channels) and runs SEEDED_CASES layers; it
 * passes only if every faulted level is caught (layers differing from the
 * reference) while the unfaulted levels still agree.
 */
#include <fenv.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/opt/opt.h"
#include "etpu/etpu.h"
#include "kernels/opt/opt_internal.h"
#include "testutil.h"

enum { GUARD = 16, CASES = 20000, CASES_UPWARD = 1000, SEEDED_CASES = 300 };

static uint64_t rng_state;
static uint32_t rnd(void) {
  rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(rng_state >> 33);
}
static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_unit(void) { return (float)(rnd() & 0xffffff) / 16777216.0f; }

/* ---- part 1: requantization ------------------------------------------- */

static etpu_requant random_requant(etpu_requant_mode mode) {
  etpu_requant rq = {0, 0, 0.0f};
  if (mode != ETPU_REQUANT_FP32 && rnd() % 16 == 0) return rq; /* a zero-scale channel (none in fp32) */
  if (mode == ETPU_REQUANT_DOUBLE_ROUND && rnd() % 32 == 0) { /* the saturating corner and the largest shifts */
    rq.multiplier = INT32_MIN, rq.shift = (int32_t)(rnd() % 2 ? 0 : rnd_in(-31, 31));
    return rq;
  }
  for (;;) {
    const float in_s = 0.001f + rnd_unit() * 0.1f, w_s = 0.0001f + rnd_unit() * 0.05f;
    float out_s = 0.0005f + rnd_unit() * 0.2f;
    switch (rnd() % 4) {
      case 0: out_s *= 1e-4f; break; /* scale above 1: left shifts */
      case 1: out_s *= 1e3f; break;  /* tiny scale */
      default: break;
    }
    if (etpu_requant_init(in_s, w_s, out_s, mode, &rq) == ETPU_OK && rq.scale < 256.0f) return rq;
  }
}

static void test_requant(void) {
  static const int32_t edges[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1,
                                  1 << 30, -(1 << 30), 65025, -65025, 123456789, -123456789};
  int bad = 0;
  long n = 0;
  for (int mode = 0; mode < 3; mode++) {
    for (int t = 0; t < 4000; t++) {
      const etpu_requant rq = random_requant((etpu_requant_mode)mode);
      const bool u8 = rnd() & 1;
      const int32_t qlo = u8 ? 0 : -128, qhi = u8 ? 255 : 127;
      const int32_t zp = rnd_in(qlo, qhi);
      int32_t amin = rnd_in(qlo, qhi), amax = rnd_in(qlo, qhi);
      if (rnd() % 2) amin = qlo, amax = qhi;
      if (amin > amax) { const int32_t s = amin; amin = amax; amax = s; }
      for (int e = 0; e < 40; e++) {
        int32_t acc;
        if (e < (int)(sizeof edges / sizeof edges[0])) acc = edges[e];
        else if (e % 2) acc = (int32_t)rnd();
        else acc = rnd_in(-200000, 200000);
        const int32_t want = etpu_requant_output(acc, &rq, (etpu_requant_mode)mode, zp, amin, amax);
        const int32_t got = etpu_opt_requant(acc, &rq, (etpu_requant_mode)mode, zp, amin, amax);
        n++;
        if (mode != ETPU_REQUANT_FP32) { /* and every ISA's integer requantization micro-kernel */
          for (int isa = 0; isa < ETPU_ISA_COUNT; isa++) {
            const etpu_ukernel_config *cfg = etpu_ukernel_config_for((etpu_isa)isa);
            if (!cfg) continue;
            uint8_t byte = 0;
            cfg->requant_q31(&acc, 1, &rq.multiplier, &rq.shift, mode, zp, amin, amax, &byte);
            n++;
            if (byte != (uint8_t)(want & 0xff) && bad++ < 10)
              fprintf(stderr, "requant_q31 %s %s: acc %" PRId32 " m %" PRId32 " shift %" PRId32 ": want %" PRId32
                      " got byte %u\n", cfg->name, etpu_requant_mode_name(mode), acc, rq.multiplier, rq.shift,
                      want, byte);
          }
        }
        if (want != got && bad++ < 10)
          fprintf(stderr, "requant %s: acc %" PRId32 " m %" PRId32 " shift %" PRId32 " scale %a zp %" PRId32
                  " [%" PRId32 ", %" PRId32 "]: want %" PRId32 " got %" PRId32 "\n",
                  etpu_requant_mode_name(mode), acc, rq.multiplier, rq.shift, (double)rq.scale, zp, amin, amax,
                  want, got);
      }
    }
  }
  /* Ties of the half-to-even rounding, both signs. */
  for (int32_t k = -600; k <= 600; k++) {
    const float x = (float)k * 0.5f;
    const int32_t want = (int32_t)etpu_round_half_even_f32(x), got = etpu_opt_round_half_even(x);
    n++;
    if (want != got && bad++ < 10) fprintf(stderr, "round %g: want %d got %d\n", (double)x, want, got);
  }
  CHECK_MSG(bad == 0, "%d of %ld requantizations differ", bad, n);
  printf("requant: %ld values compared\n", n);
}

/* ---- the seeded fault (--seed-fault) ---------------------------------- */

static int g_fault_isa = -1;               /* the level whose kernels are faulted, or −1 */
static etpu_ukernel_config g_fault_cfg;    /* its table with the faulty kernels */
static const etpu_ukernel_config *g_real;  /* its real table */
static int g_fault_layers, g_fault_caught; /* layers compared with it, and how many differed */

static void faulty_gemm(size_t mr, size_t nc, size_t kc, const uint8_t *a, size_t a_stride, uint32_t a_xor,
                        const int8_t *w, size_t w_stride, const etpu_gemm_epilogue *ep, void *out,
                        size_t out_stride) {
  g_real->gemm(mr, nc, kc > 4 ? kc - 4 : kc, a, a_stride, a_xor, w, w_stride, ep, out, out_stride);
}
static void faulty_gemm_s16(size_t mr, size_t kc, const int16_t *a, size_t a_stride, const int16_t *w,
                            size_t w_stride, int32_t out[8]) {
  g_real->gemm_s16(mr, kc > 8 ? kc - 8 : kc, a, a_stride, w, w_stride, out);
}
static void faulty_dw_taps1(int32_t *acc, const int16_t *x, const int16_t *w, int32_t n) {
  g_real->dw_taps1(acc, x, w, n > 1 ? n - 1 : n);
}

/* Level isa's table, or the faulted copy when isa is the faulted level. */
static const etpu_ukernel_config *isa_config(int isa) {
  return isa == g_fault_isa ? &g_fault_cfg : etpu_ukernel_config_for((etpu_isa)isa);
}

static void seed_fault(int isa) {
  g_real = etpu_ukernel_config_for((etpu_isa)isa);
  g_fault_cfg = *g_real;
  g_fault_cfg.gemm = faulty_gemm;
  if (g_real->gemm_s16) g_fault_cfg.gemm_s16 = faulty_gemm_s16;
  g_fault_cfg.dw_taps1 = faulty_dw_taps1;
  g_fault_isa = isa;
  g_fault_layers = g_fault_caught = 0;
}

/* ---- part 2: random layers -------------------------------------------- */

static const char *kind_text(etpu_opt_kind k) {
  return k == ETPU_OPT_CONV ? "conv" : k == ETPU_OPT_DW ? "depthwise" : "fully_connected";
}

/* An 8-bit value: mostly uniform, sometimes the ends of the range. */
static int32_t rnd_byte(bool u8, int style) {
  const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
  switch (style) {
    case 1: return rnd() % 2 ? lo : hi;
    case 2: return rnd() % 8 ? rnd_in(lo, hi) : (rnd() % 2 ? lo : hi);
    default: return rnd_in(lo, hi);
  }
}

/* Output size of TFLite's rule with explicit padding (at least 1). */
static int32_t out_size(int32_t in, int32_t k, int32_t stride, int32_t dil, int32_t pad) {
  const int32_t eff = (k - 1) * dil + 1;
  const int32_t span = in + 2 * pad - eff;
  return span < 0 ? 1 : span / stride + 1;
}

static etpu_status run_ref(const etpu_opt_conv_desc *d, const etpu_requant_params *q, const void *x, const void *w,
                           const int32_t *bias, void *y) {
  const etpu_dims *id = &d->in_d, *fd = &d->f_d, *od = &d->out_d;
  switch (d->kind) {
    case ETPU_OPT_CONV:
      if (d->is_u8) {
        const etpu_conv_u8_params p = {d->input_offset, d->filter_offset, d->output_offset, d->stride_h,
                                       d->stride_w,     d->pad_h,         d->pad_w,         d->dilation_h,
                                       d->dilation_w,   d->activation_min, d->activation_max};
        return etpu_conv2d_u8(&p, q, id, x, fd, w, bias, od, y);
      } else {
        const etpu_conv_params p = {d->input_offset, d->output_offset, d->stride_h,     d->stride_w,
                                    d->pad_h,        d->pad_w,         d->dilation_h,   d->dilation_w,
                                    d->activation_min, d->activation_max};
        return etpu_conv2d_s8(&p, q, id, x, fd, w, bias, od, y);
      }
    case ETPU_OPT_DW:
      if (d->is_u8) {
        const etpu_dw_conv_u8_params p = {d->input_offset, d->filter_offset, d->output_offset,    d->stride_h,
                                          d->stride_w,     d->pad_h,         d->pad_w,            d->dilation_h,
                                          d->dilation_w,   d->depth_multiplier, d->activation_min, d->activation_max};
        return etpu_depthwise_conv2d_u8(&p, q, id, x, fd, w, bias, od, y);
      } else {
        const etpu_dw_conv_params p = {d->input_offset, d->output_offset, d->stride_h,        d->stride_w,
                                       d->pad_h,        d->pad_w,         d->dilation_h,      d->dilation_w,
                                       d->depth_multiplier, d->activation_min, d->activation_max};
        return etpu_depthwise_conv2d_s8(&p, q, id, x, fd, w, bias, od, y);
      }
    default:
      if (d->is_u8) {
        const etpu_fc_u8_params p = {d->input_offset, d->filter_offset, d->output_offset, d->activation_min,
                                     d->activation_max};
        return etpu_fully_connected_u8(&p, q, id, x, fd, w, bias, od, y);
      } else {
        const etpu_fc_params p = {d->input_offset, d->filter_offset, d->output_offset, d->activation_min,
                                  d->activation_max};
        return etpu_fully_connected_s8(&p, q, id, x, fd, w, bias, od, y);
      }
  }
}

static size_t count(const etpu_dims *d) { return (size_t)d->n * (size_t)d->h * (size_t)d->w * (size_t)d->c; }

static void compare_case(int index, const etpu_opt_conv_desc *dp, const etpu_requant_params *q, const uint8_t *y_ref,
                         const uint8_t *y_opt, size_t ny, const char *how);

/* A random layer; false if the optimized kernel refuses it (counted). */
static void random_case(int index, int *run, int *refused) {
  etpu_opt_conv_desc d;
  memset(&d, 0, sizeof d);
  d.kind = (etpu_opt_kind)(rnd() % 3);
  d.is_u8 = rnd() & 1;
  const int32_t batches = rnd() % 6 == 0 ? 2 : 1;
  int32_t in_c = rnd_in(1, 20), out_c = 0, k_h = 1, k_w = 1;
  if (rnd() % 5 == 0) in_c = rnd_in(20, rnd() % 4 ? 70 : 300); /* past the vector widths */
  d.stride_h = d.stride_w = 1;
  d.dilation_h = d.dilation_w = 1;
  d.depth_multiplier = 1;
  int32_t in_h = 1, in_w = 1, f_c = in_c;
  if (d.kind != ETPU_OPT_FC) {
    in_h = rnd_in(1, 12), in_w = rnd_in(1, 12);
    const int shape = rnd() % 4;
    k_h = shape == 0 ? 1 : rnd_in(1, 5), k_w = shape == 0 ? 1 : rnd_in(1, 5);
    if (shape == 1) k_h = k_w = 3;
    d.stride_h = rnd_in(1, 3), d.stride_w = rnd() % 2 ? d.stride_h : rnd_in(1, 3);
    d.dilation_h = rnd() % 3 ? 1 : rnd_in(1, 3), d.dilation_w = rnd() % 3 ? 1 : rnd_in(1, 3);
    d.pad_h = rnd() % 3 ? 0 : rnd_in(0, 3), d.pad_w = rnd() % 3 ? 0 : rnd_in(0, 3);
  }
  if (d.kind == ETPU_OPT_CONV) {
    const int32_t groups = rnd() % 4 == 0 ? rnd_in(1, 4) : 1;
    f_c = rnd_in(1, 12);
    out_c = groups * rnd_in(1, 9);
    if (rnd() % 4 == 0) { /* past the kernels' 16- and 32-column tiles and 4-byte K steps */
      f_c = rnd() % 2 ? 4 * rnd_in(1, 12) : rnd_in(13, 50);
      out_c = groups * rnd_in(10, 70);
    }
    in_c = f_c * groups;
    d.in_d = (etpu_dims){batches, in_h, in_w, in_c};
    d.f_d = (etpu_dims){out_c, k_h, k_w, f_c};
  } else if (d.kind == ETPU_OPT_DW) {
    d.depth_multiplier = rnd() % 3 ? 1 : rnd_in(1, 3);
    out_c = in_c * d.depth_multiplier;
    /* Wide rows: several segments of pixels (dw_opt.c) and a partial last one. */
    if (rnd() % 4 == 0) in_w = rnd_in(12, 90);
    d.in_d = (etpu_dims){batches, in_h, in_w, in_c};
    d.f_d = (etpu_dims){1, k_h, k_w, out_c};
  } else {
    out_c = rnd_in(1, 40);
    if (rnd() % 4 == 0) in_c = 4 * rnd_in(1, 40), out_c = rnd_in(1, 100);
    d.in_d = (etpu_dims){rnd_in(1, 20), 1, 1, in_c};
    d.f_d = (etpu_dims){out_c, 1, 1, in_c};
  }
  d.out_d = (etpu_dims){d.in_d.n, out_size(d.in_d.h, k_h, d.stride_h, d.dilation_h, d.pad_h),
                        out_size(d.in_d.w, k_w, d.stride_w, d.dilation_w, d.pad_w), out_c};
  const int32_t lo = d.is_u8 ? 0 : -128, hi = d.is_u8 ? 255 : 127;
  const int edge = rnd() % 4;
  if (d.is_u8) {
    d.input_offset = edge == 1 ? (rnd() % 2 ? 0 : -255) : -rnd_in(0, 255);
    d.filter_offset = edge == 1 ? (rnd() % 2 ? 0 : -255) : -rnd_in(0, 255);
  } else {
    d.input_offset = edge == 1 ? (rnd() % 2 ? -127 : 128) : rnd_in(-127, 128);
    d.filter_offset = d.kind == ETPU_OPT_FC && rnd() % 2 ? (edge == 1 ? 128 : rnd_in(-127, 128)) : 0;
  }
  d.output_offset = rnd_in(lo, hi);
  d.activation_min = lo, d.activation_max = hi;
  if (rnd() % 2) {
    d.activation_min = rnd_in(lo, hi), d.activation_max = rnd_in(lo, hi);
    if (d.activation_min > d.activation_max) {
      const int32_t s = d.activation_min;
      d.activation_min = d.activation_max, d.activation_max = s;
    }
  }
  const etpu_requant_mode mode = (etpu_requant_mode)(rnd() % 3);
  const int32_t nq = rnd() % 2 ? out_c : 1;
  etpu_requant *rq = malloc((size_t)nq * sizeof *rq);
  for (int32_t c = 0; c < nq; c++) rq[c] = random_requant(mode);
  const etpu_requant_params q = {rq, nq, mode};

  const size_t nx = count(&d.in_d), nw = count(&d.f_d), ny = count(&d.out_d);
  uint8_t *x = malloc(nx), *w = malloc(nw), *y_ref = malloc(ny + GUARD), *y_opt = malloc(ny + GUARD);
  int32_t *bias = rnd() % 5 ? malloc((size_t)out_c * sizeof *bias) : NULL;
  const int style = rnd() % 3;
  for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)rnd_byte(d.is_u8, style);
  for (size_t i = 0; i < nw; i++) {
    int32_t v = rnd_byte(d.is_u8, style);
    if (!d.is_u8 && d.filter_offset == 0 && v == -128) v = -127; /* int8 weights are symmetric */
    w[i] = (uint8_t)v;
  }
  const int64_t k = (int64_t)d.f_d.h * d.f_d.w * (d.kind == ETPU_OPT_DW ? 1 : d.f_d.c);
  for (int32_t c = 0; bias && c < out_c; c++) {
    const int64_t room = INT32_MAX - k * 255 * 255; /* the largest bias the kernel takes */
    switch (rnd() % 4) {
      case 0: bias[c] = (int32_t)(rnd() % 2 ? room : -room); break;
      case 1: bias[c] = rnd_in(-100000, 100000); break;
      default: bias[c] = rnd_in(-2000, 2000); break;
    }
  }
  memset(y_ref, 0xa5, ny + GUARD);
  memset(y_opt, 0x5a, ny + GUARD);

  if (!etpu_opt_conv_supported(&d, bias)) {
    (*refused)++;
    fprintf(stderr, "case %d (%s) refused\n", index, kind_text(d.kind));
  } else {
    (*run)++;
    void *packed = malloc(etpu_opt_conv_packed_bytes(&d));
    const size_t sb = etpu_opt_conv_get_buffer_size(&d);
    void *scratch = malloc(sb);
    CHECK_OK(run_ref(&d, &q, x, w, bias, y_ref));
    CHECK_OK(etpu_opt_conv_pack(&d, w, packed));
    /* Every ISA's kernels, each on weights packed in its own layout (int16
     * rows below avx2), then random ranges with the chosen table
     * (etpu_opt_conv_run_range as the runtime calls it). */
    const size_t units = etpu_opt_conv_range_count(&d);
    for (int isa = 0; isa <= ETPU_ISA_COUNT; isa++) {
      const etpu_ukernel_config *cfg = isa < ETPU_ISA_COUNT ? isa_config(isa) : NULL;
      if (isa < ETPU_ISA_COUNT && !cfg) continue;
      memset(y_opt, 0x5a, ny + GUARD);
      if (cfg) {
        void *packed_isa = malloc(etpu_opt_conv_packed_bytes_isa(cfg, &d));
        const size_t sb_isa = etpu_opt_conv_get_buffer_size_isa(cfg, &d);
        void *scratch_isa = malloc(sb_isa);
        CHECK_OK(etpu_opt_conv_pack_isa(cfg, &d, w, packed_isa));
        CHECK_OK(etpu_opt_conv_run_range_isa(cfg, &d, &q, x, packed_isa, bias, y_opt, scratch_isa, sb_isa, 0,
                                             etpu_opt_conv_range_count_isa(cfg, &d)));
        free(packed_isa), free(scratch_isa);
      } else {
        /* random pieces, last first: no state may carry from one call to the next */
        size_t end = units;
        while (end > 0) {
          const size_t begin = rnd() % 2 ? end - 1 : rnd() % end;
          CHECK_OK(etpu_opt_conv_run_range(&d, &q, x, packed, bias, y_opt, scratch, sb, begin, end));
          end = begin;
        }
      }
      compare_case(index, &d, &q, y_ref, y_opt, ny, cfg ? cfg->name : "ranges");
    }
    CHECK(etpu_opt_conv_run_range(&d, &q, x, packed, bias, y_opt, scratch, sb, 0, units + 1) ==
          ETPU_INVALID_ARGUMENT);
    CHECK_OK(etpu_opt_conv_run(&d, &q, x, packed, bias, y_opt, scratch, sb));
    compare_case(index, &d, &q, y_ref, y_opt, ny, "run");
    /* A scratch one byte short is refused, nothing written. */
    memset(y_opt, 0x5a, ny);
    CHECK(etpu_opt_conv_run(&d, &q, x, packed, bias, y_opt, scratch, sb - 1) == ETPU_INVALID_ARGUMENT);
    CHECK(y_opt[0] == 0x5a);
    free(packed);
    free(scratch);
  }
  free(rq), free(x), free(w), free(y_ref), free(y_opt), free(bias);
}

/* y_opt equals y_ref over ny bytes and the guard after it is intact. */
static void compare_case(int index, const etpu_opt_conv_desc *dp, const etpu_requant_params *q, const uint8_t *y_ref,
                         const uint8_t *y_opt, size_t ny, const char *how) {
  const etpu_opt_conv_desc d = *dp;
  const etpu_requant_mode mode = q->mode;
  const int32_t nq = q->count;
  if (g_fault_isa >= 0 && how == g_fault_cfg.name) { /* the faulted level: count, do not fail */
    g_fault_layers++;
    g_fault_caught += memcmp(y_ref, y_opt, ny) != 0;
    return;
  }
  {
    size_t first = ny;
    for (size_t i = 0; i < ny && first == ny; i++)
      if (y_ref[i] != y_opt[i]) first = i;
    CHECK_MSG(first == ny,
              "case %d (%s): %s %s %s, %s: in [%d,%d,%d,%d] filter [%d,%d,%d,%d] out [%d,%d,%d,%d] stride %d,%d "
              "dil %d,%d pad %d,%d mult %d offsets in %d w %d out %d clamp [%d,%d]: index %zu want %d got %d",
              index, how, kind_text(d.kind), d.is_u8 ? "u8" : "s8", etpu_requant_mode_name(mode),
              nq == 1 ? "per tensor" : "per channel", d.in_d.n, d.in_d.h, d.in_d.w, d.in_d.c, d.f_d.n, d.f_d.h,
              d.f_d.w, d.f_d.c, d.out_d.n, d.out_d.h, d.out_d.w, d.out_d.c, d.stride_h, d.stride_w, d.dilation_h,
              d.dilation_w, d.pad_h, d.pad_w, d.depth_multiplier, d.input_offset, d.filter_offset, d.output_offset,
              d.activation_min, d.activation_max, first, first < ny ? y_ref[first] : 0,
              first < ny ? y_opt[first] : 0);
    bool guard_ok = true;
    for (size_t i = ny; i < ny + GUARD; i++) guard_ok &= y_opt[i] == 0x5a;
    CHECK_MSG(guard_ok, "case %d (%s): the optimized kernel wrote past its output", index, how);
  }
}

/* ---- part 3: the overflow guard --------------------------------------- */

static void test_guard(void) {
  etpu_opt_conv_desc d = {ETPU_OPT_FC, true, {1, 1, 1, 33000}, {1, 1, 1, 33000}, {1, 1, 1, 1}, 1, 1, 0, 0, 1, 1, 1,
                          0, 0, 0, 0, 255};
  CHECK(etpu_opt_conv_supported(&d, NULL)); /* 33000·65025 < 2^31 */
  const int32_t big = INT32_MAX - 1000;
  CHECK(!etpu_opt_conv_supported(&d, &big)); /* with that bias it could wrap: the reference runs */
  d.in_d.c = d.f_d.c = 34000;
  CHECK(!etpu_opt_conv_supported(&d, NULL));
}

/* --seed-fault: every level above scalar, faulted in turn, must be caught. */
static int seeded_fault_main(void) {
  int levels = 0;
  for (int isa = 1; isa < ETPU_ISA_COUNT; isa++) {
    if (!etpu_ukernel_config_for((etpu_isa)isa)) continue;
    levels++;
    seed_fault(isa);
    int run = 0, refused = 0;
    for (int i = 0; i < SEEDED_CASES; i++) random_case(i, &run, &refused);
    printf("seeded fault in %s (GEMM and depthwise kernels drop their last step): caught in %d of %d layers\n",
           g_fault_cfg.name, g_fault_caught, g_fault_layers);
    CHECK_MSG(g_fault_layers > 0 && g_fault_caught > 0, "the tester missed the seeded fault in %s",
              g_fault_cfg.name);
    g_fault_isa = -1;
  }
  if (levels == 0) {
    printf("test_kernels_opt --seed-fault: skipped: no level above scalar on this CPU/target\n");
    return 77;
  }
  return tu_finish("test_kernels_opt --seed-fault");
}

int main(int argc, char **argv) {
  uint64_t seed = 20260415;
  const char *env = getenv("ETPU_TEST_SEED");
  if (env) seed = strtoull(env, NULL, 10);
  printf("test_kernels_opt: seed %" PRIu64 " (ETPU_TEST_SEED overrides)\n", seed);
  rng_state = seed;
  if (argc > 1 && strcmp(argv[1], "--seed-fault") == 0) return seeded_fault_main();
  printf("micro-kernels: chosen %s;", etpu_isa_name());
  for (int isa = 0; isa < ETPU_ISA_COUNT; isa++) {
    const etpu_ukernel_config *cfg = etpu_ukernel_config_for((etpu_isa)isa);
    printf(" %s %s", etpu_isa_level_name((etpu_isa)isa), cfg ? "tested" : "SKIPPED (not supported here)");
  }
  printf("\n");
  test_requant();
  int run = 0, refused = 0;
  for (int i = 0; i < CASES; i++) random_case(i, &run, &refused);
  /* The fp32 row requantization has a round-to-nearest fast path; under
   * another FPU rounding mode it must still equal the reference. */
  int run_up = 0;
  if (fesetround(FE_UPWARD) == 0) {
    for (int i = 0; i < CASES_UPWARD; i++) random_case(CASES + i, &run_up, &refused);
    fesetround(FE_TONEAREST);
  }
  run += run_up;
  printf("layers: %d compared with the reference (%d of them rounding upward), %d refused\n", run, run_up, refused);
  CHECK_MSG(refused == 0, "%d random layers refused", refused);
  test_guard();
  return tu_finish("test_kernels_opt");
}
