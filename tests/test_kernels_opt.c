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
 *     CONV_2D (groups, 1×1 and larger windows), DEPTHWISE_CONV_2D (3×3, 5×5
 *     and other windows, depth multiplier, rows up to 90 pixels wide) and FULLY_CONNECTED, int8 and
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
 *     run_range a range past the layer's units;
 *  4. quantized ADD/SUB (eltwise_opt.c): 4000 random tensors (lengths 1 to
 *     ~5000, the vector steps' tails included), int8 and uint8, each scheme
 *     (XNNPACK; TFLite with double and float ratios), random scales, zero
 *     points, clamps and extreme inputs; every ISA's kernels and random range
 *     splits equal etpu_add/sub_u8/_s8 byte for byte, guard bytes intact; a
 *     byte flipped in a correct output (a seeded fault) must be reported by
 *     the same comparison;
 *  5. 8-bit AVERAGE_POOL_2D and MAX_POOL_2D (pool_opt.c): 1500 random pools
 *     (windows 1–8, strides 1–4, padding 0–3, up to 1100 channels so several
 *     channel blocks, global pools, random clamps) in one run and in random
 *     unit ranges, equal to the reference's bytes, guard intact, seeded
 *     fault caught;
 *  6. 8-bit MEAN and SUM (mean_opt.c): 1500 random tensors of rank 1–4 with
 *     random axes (the driver takes one contiguous run of them and must
 *     refuse the rest), both schemes, random scales and zero points, whole
 *     and in random unit ranges, against etpu_mean/sum_u8/_s8;
 *  7. the fused depthwise micro-kernels (ukernel.h, etpu_dw_ukernel) of every
 *     ISA this CPU runs, called directly on 4000 random tiles (1 to 200
 *     channels, 3×3, 5×5 and other tap counts, overlapping pointer steps,
 *     output pixels further apart than C (the gaps must stay untouched),
 *     uint8 and int8, int32 and fp32 outputs, extreme biases and weights),
 *     each pointer addressing its own allocation of exactly C bytes (so ASan
 *     catches a read past C), against the sums and etpu_requant_output
 *     computed here, byte for byte, guard bytes intact; then seeded faults (a
 *     dropped tap, flipped output bits, a bias off by one) are run through
 *     the same comparison, directly and in place of the kernel on whole
 *     depthwise layers against the reference, and must be caught.
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
#include <math.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"
#include "kernels/opt/opt.h"
#include "etpu/etpu.h"
#include "kernels/opt/eltwise_opt.h"
#include "kernels/opt/opt_internal.h"
#include "kernels/opt/mean_opt.h"
#include "kernels/opt/pool_opt.h"
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
static void seeded_dw(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                      void *out) {
  etpu_dw_ukernel_params q = *p; /* the last channel of every pixel left unwritten */
  if (q.channels > 1) q.channels--;
  g_real->dw(&q, pixels, ind, ind_step, out);
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
  g_fault_cfg.dw = seeded_dw;
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
    if (shape == 2 && d.kind == ETPU_OPT_DW) k_h = k_w = 5; /* the depthwise kernels' own 5×5 copies */
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

/* ---- part 4: quantized ADD/SUB ----------------------------------------- */

/* The first index where got differs from want over n bytes, n when none;
 * also n + GUARD bytes of got must keep the guard pattern after n. */
static size_t first_difference(const uint8_t *want, const uint8_t *got, size_t n, bool *guard_ok) {
  *guard_ok = true;
  for (size_t i = n; i < n + GUARD; i++) *guard_ok &= got[i] == 0x5a;
  for (size_t i = 0; i < n; i++)
    if (want[i] != got[i]) return i;
  return n;
}

static float rnd_scale(void) { return ldexpf(0.5f + 0.5f * rnd_unit(), rnd_in(-12, 2)); }

static void addsub_case(int index, int *compared, int *faults) {
  const bool is_signed = rnd() % 2, subtract = rnd() % 2;
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  const etpu_addsub_scheme scheme = (etpu_addsub_scheme)(rnd() % 3);
  etpu_qparam q1 = {rnd_scale(), rnd_in(lo, hi)}, q2 = {rnd_scale(), rnd_in(lo, hi)};
  etpu_qparam qo = {rnd_scale(), rnd_in(lo, hi)};
  if (rnd() % 4 == 0) q2.scale = q1.scale; /* equal scales: the common case */
  if (scheme == ETPU_ADDSUB_XNNPACK) { /* keep s_i/s_out within XNNPACK's [2^-10, 2^8) */
    qo.scale = (q1.scale > q2.scale ? q1.scale : q2.scale) * ldexpf(1.0f + rnd_unit(), rnd_in(-7, 8));
    if (q1.scale / qo.scale < 0x1.0p-10f || q2.scale / qo.scale < 0x1.0p-10f) q1.scale = q2.scale = qo.scale;
  }
  int32_t amin = lo, amax = hi;
  if (rnd() % 2) {
    amin = rnd_in(lo, hi), amax = rnd_in(lo, hi);
    if (amin > amax) {
      const int32_t t = amin;
      amin = amax, amax = t;
    }
  }
  etpu_addsub_params ap;
  if (etpu_addsub_params_init(scheme, subtract, &q1, &q2, &qo, amin, amax, &ap) != ETPU_OK) return; /* ratios out of range */
  etpu_opt_addsub d;
  CHECK_MSG(etpu_opt_addsub_init(&ap, subtract, is_signed, &d), "add case %d: parameters the reference takes refused",
            index);
  const size_t n = rnd() % 8 == 0 ? (size_t)rnd_in(1, 5000) : (size_t)rnd_in(1, 100);
  uint8_t *a = malloc(n), *b = malloc(n), *want = malloc(n + GUARD), *got = malloc(n + GUARD);
  const int style = rnd() % 3;
  for (size_t i = 0; i < n; i++) a[i] = (uint8_t)rnd_byte(!is_signed, style), b[i] = (uint8_t)rnd_byte(!is_signed, style);
  const etpu_shape sh = {1, {(int32_t)n}};
  etpu_bcast plan;
  CHECK_OK(etpu_bcast_init(&sh, &sh, &sh, &plan));
  if (is_signed)
    CHECK_OK(subtract ? etpu_sub_s8(&ap, &plan, (const int8_t *)a, (const int8_t *)b, (int8_t *)want)
                      : etpu_add_s8(&ap, &plan, (const int8_t *)a, (const int8_t *)b, (int8_t *)want));
  else
    CHECK_OK(subtract ? etpu_sub_u8(&ap, &plan, a, b, want) : etpu_add_u8(&ap, &plan, a, b, want));
  for (int isa = 0; isa <= ETPU_ISA_COUNT; isa++) {
    const etpu_ukernel_config *cfg = isa < ETPU_ISA_COUNT ? etpu_ukernel_config_for((etpu_isa)isa) : NULL;
    if (isa < ETPU_ISA_COUNT && !cfg) continue;
    memset(got, 0x5a, n + GUARD);
    if (cfg) {
      etpu_opt_addsub_run(cfg, &d, a, b, got, 0, n);
    } else { /* random pieces with the chosen kernels, last first */
      size_t end = n;
      while (end > 0) {
        const size_t begin = rnd() % 2 ? end - 1 : rnd() % end;
        etpu_opt_addsub_run(NULL, &d, a, b, got, begin, end);
        end = begin;
      }
    }
    bool guard_ok;
    const size_t at = first_difference(want, got, n, &guard_ok);
    (*compared)++;
    CHECK_MSG(at == n && guard_ok,
              "add case %d (%s): %s %s scheme %d, n %zu, scales %g %g %g, zps %d %d %d, clamp [%d,%d]: index %zu "
              "(a %d b %d) want %d got %d%s",
              index, cfg ? cfg->name : "ranges", is_signed ? "s8" : "u8", subtract ? "SUB" : "ADD", (int)scheme, n,
              (double)q1.scale, (double)q2.scale, (double)qo.scale, q1.zero_point, q2.zero_point, qo.zero_point, amin,
              amax, at, at < n ? a[at] : 0, at < n ? b[at] : 0, at < n ? want[at] : 0, at < n ? got[at] : 0,
              guard_ok ? "" : "; wrote past the output");
    if (at == n && guard_ok && cfg) { /* seeded fault: one flipped byte must be caught */
      const size_t k = rnd() % n;
      got[k] ^= (uint8_t)(1u << (rnd() % 8));
      CHECK_MSG(first_difference(want, got, n, &guard_ok) == k, "add case %d: a seeded fault at %zu went unseen",
                index, k);
      (*faults)++;
    }
  }
  free(a), free(b), free(want), free(got);
}

/* ---- part 5: 8-bit pooling ---------------------------------------------- */

static void pool_case(int index, int *compared, int *faults) {
  const bool avg = rnd() % 2, is_signed = rnd() % 2;
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  etpu_pool_params p = {0};
  etpu_dims in = {rnd_in(1, 2), rnd_in(1, 12), rnd_in(1, 12), rnd() % 4 ? rnd_in(1, 40) : rnd_in(500, 1100)};
  p.filter_h = rnd_in(1, 8), p.filter_w = rnd_in(1, 8), p.stride_h = rnd_in(1, 4), p.stride_w = rnd_in(1, 4);
  p.pad_h = rnd_in(0, 3), p.pad_w = rnd_in(0, 3);
  if (rnd() % 5 == 0) p.filter_h = in.h, p.filter_w = in.w, p.pad_h = p.pad_w = 0; /* global */
  p.activation_min = lo, p.activation_max = hi;
  if (rnd() % 3 == 0) {
    p.activation_min = rnd_in(lo, hi), p.activation_max = rnd_in(p.activation_min, hi);
  }
  const int32_t oh = (in.h + 2 * p.pad_h - p.filter_h) / p.stride_h + 1;
  const int32_t ow = (in.w + 2 * p.pad_w - p.filter_w) / p.stride_w + 1;
  if (oh < 1 || ow < 1) return;
  const etpu_dims out = {in.n, oh, ow, in.c};
  etpu_opt_pool d;
  const bool ok = etpu_opt_pool_init(avg, is_signed, &p, &in, &out, &d);
  const size_t nx = (size_t)in.n * in.h * in.w * in.c, ny = (size_t)out.n * out.h * out.w * out.c;
  uint8_t *x = malloc(nx), *want = malloc(ny + GUARD), *got = malloc(ny + GUARD);
  const int style = rnd() % 3;
  for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)rnd_byte(!is_signed, style);
  etpu_status st;
  if (avg)
    st = is_signed ? etpu_avg_pool2d_s8(&p, &in, (const int8_t *)x, &out, (int8_t *)want)
                   : etpu_avg_pool2d_u8(&p, &in, x, &out, want);
  else
    st = is_signed ? etpu_max_pool2d_s8(&p, &in, (const int8_t *)x, &out, (int8_t *)want)
                   : etpu_max_pool2d_u8(&p, &in, x, &out, want);
  /* the driver refuses exactly what the reference refuses (an average
   * window outside the input) */
  CHECK_MSG(ok == (st == ETPU_OK), "pool case %d: driver %s, reference %s", index, ok ? "takes it" : "refuses",
            st == ETPU_OK ? "runs" : etpu_errmsg());
  for (int split = 0; ok && st == ETPU_OK && split < 2; split++) {
    memset(got, 0x5a, ny + GUARD);
    const size_t units = etpu_opt_pool_units(&d);
    if (split == 0) {
      etpu_opt_pool_run_range(&d, x, got, 0, units);
    } else {
      size_t end = units;
      while (end > 0) {
        const size_t begin = rnd() % 2 ? end - 1 : rnd() % end;
        etpu_opt_pool_run_range(&d, x, got, begin, end);
        end = begin;
      }
    }
    bool guard_ok;
    const size_t at = first_difference(want, got, ny, &guard_ok);
    (*compared)++;
    CHECK_MSG(at == ny && guard_ok,
              "pool case %d (%s): %s %s in [%d,%d,%d,%d] filter %dx%d stride %d,%d pad %d,%d clamp [%d,%d]: index "
              "%zu want %d got %d%s",
              index, split ? "ranges" : "run", avg ? "AVG" : "MAX", is_signed ? "s8" : "u8", in.n, in.h, in.w, in.c,
              p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_h, p.pad_w, p.activation_min, p.activation_max, at,
              at < ny ? want[at] : 0, at < ny ? got[at] : 0, guard_ok ? "" : "; wrote past the output");
    if (at == ny && guard_ok) {
      const size_t k = rnd() % ny;
      got[k] ^= (uint8_t)(1u << (rnd() % 8));
      CHECK_MSG(first_difference(want, got, ny, &guard_ok) == k, "pool case %d: a seeded fault went unseen", index);
      (*faults)++;
    }
  }
  free(x), free(want), free(got);
}

/* ---- part 6: 8-bit MEAN / SUM ------------------------------------------- */

static void mean_case(int index, int *compared, int *refused) {
  const bool is_signed = rnd() % 2, sum = rnd() % 4 == 0;
  const int32_t lo = is_signed ? -128 : 0, hi = is_signed ? 127 : 255;
  etpu_shape sh = {rnd_in(1, 4), {0}};
  for (int32_t d = 0; d < sh.rank; d++) sh.dims[d] = rnd() % 3 ? rnd_in(1, 9) : rnd_in(1, 700);
  size_t nx = 1;
  for (int32_t d = 0; d < sh.rank; d++) nx *= (size_t)sh.dims[d];
  if (nx > 200000) return;
  int32_t axes[4], naxes = rnd_in(1, sh.rank);
  for (int32_t k = 0; k < naxes; k++) axes[k] = rnd_in(-sh.rank, sh.rank - 1);
  if (rnd() % 2 && sh.rank == 4) naxes = 2, axes[0] = 1, axes[1] = 2; /* the mean over H×W */
  etpu_reduce_plan plan;
  CHECK_OK(etpu_reduce_plan_init(&sh, axes, naxes, &plan));
  const etpu_qparam qi = {rnd_scale(), rnd_in(lo, hi)}, qo = {rnd_scale(), rnd_in(lo, hi)};
  etpu_mean_params mp;
  if (etpu_mean_params_init((etpu_mean_scheme)(rnd() % 2), sum, &qi, &qo, plan.reduce_count, &mp) != ETPU_OK) return;
  etpu_opt_mean d;
  if (!etpu_opt_mean_init(&mp, &plan, is_signed, &d)) {
    (*refused)++;
    return;
  }
  const size_t ny = plan.out_count;
  uint8_t *x = malloc(nx), *want = malloc(ny + GUARD), *got = malloc(ny + GUARD);
  const int style = rnd() % 3;
  for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)rnd_byte(!is_signed, style);
  if (is_signed)
    CHECK_OK(sum ? etpu_sum_s8(&mp, &plan, (const int8_t *)x, (int8_t *)want)
                 : etpu_mean_s8(&mp, &plan, (const int8_t *)x, (int8_t *)want));
  else
    CHECK_OK(sum ? etpu_sum_u8(&mp, &plan, x, want) : etpu_mean_u8(&mp, &plan, x, want));
  for (int split = 0; split < 2; split++) {
    memset(got, 0x5a, ny + GUARD);
    const size_t units = etpu_opt_mean_units(&d);
    size_t end = units;
    while (end > 0) {
      const size_t begin = split == 0 ? 0 : rnd() % 2 ? end - 1 : rnd() % end;
      etpu_opt_mean_run_range(&d, x, got, begin, end);
      end = begin;
    }
    bool guard_ok;
    const size_t at = first_difference(want, got, ny, &guard_ok);
    (*compared)++;
    CHECK_MSG(at == ny && guard_ok,
              "mean case %d (%s): %s %s scheme %d rank %d dims %d,%d,%d,%d outer %zu middle %zu inner %zu: index %zu "
              "want %d got %d%s",
              index, split ? "ranges" : "run", sum ? "SUM" : "MEAN", is_signed ? "s8" : "u8", (int)mp.scheme, sh.rank,
              sh.dims[0], sh.dims[1], sh.dims[2], sh.dims[3], d.outer, d.middle, d.inner, at, at < ny ? want[at] : 0,
              at < ny ? got[at] : 0, guard_ok ? "" : "; wrote past the output");
  }
  free(x), free(want), free(got);
}

/* ---- part 7: the depthwise micro-kernels -------------------------------- */

/* A faulty kernel, to show the comparisons catch one: the scalar kernel with
 * g_fault applied (1: the last tap dropped, 2: a bit of each pixel's last
 * output flipped, 3: the first channel's bias off by 1). */
static int g_fault;
static void faulty_dw(const etpu_dw_ukernel_params *p, size_t pixels, const uint8_t *const *ind, size_t ind_step,
                      void *out) {
  etpu_dw_ukernel_params q = *p;
  int32_t *bias = NULL;
  if (g_fault == 1 && q.taps > 1) {
    /* the same weights, the last tap of every tile skipped: a copy with a zero there */
    const size_t n16 = (q.channels + 15) / 16 * 16;
    int16_t *w = malloc(n16 * q.taps * sizeof *w);
    memcpy(w, q.w, n16 * q.taps * sizeof *w);
    for (size_t t = 0; t < n16 / 16; t++) memset(w + (t * q.taps + q.taps - 1) * 16, 0, 16 * sizeof *w);
    q.w = w;
    etpu_dw_c16_scalar(&q, pixels, ind, ind_step, out);
    free(w);
    return;
  }
  if (g_fault == 3) {
    const size_t n16 = (q.channels + 15) / 16 * 16;
    bias = malloc(n16 * sizeof *bias);
    memcpy(bias, q.bias, n16 * sizeof *bias);
    bias[0] += 1;
    q.bias = bias;
  }
  etpu_dw_c16_scalar(&q, pixels, ind, ind_step, out);
  for (size_t px = 0; g_fault == 2 && px < pixels; px++) { /* each pixel's last channel */
    uint8_t *last = (uint8_t *)out + (px * q.out_stride + q.channels - 1) * (q.scale ? 1 : 4);
    last[q.scale ? 0 : 2] ^= q.scale ? 1 : 0x10; /* a byte's low bit; an int32 sum's bit 20 */
  }
  free(bias);
}

/* One random tile run by kernel k (NULL: every ISA's, each compared); returns
 * the mismatching bytes of k (0 when k is NULL and all agree). */
static size_t dw_ukernel_case(int index, etpu_dw_ukernel k) {
  const bool s8 = rnd() & 1;
  size_t ch = (size_t)rnd_in(1, 40);
  if (rnd() % 4 == 0) ch = (size_t)rnd_in(40, 200);
  const int shape = rnd() % 4;
  const size_t taps = shape == 0 ? 9 : shape == 1 ? 25 : (size_t)rnd_in(1, 30);
  const size_t pixels = (size_t)rnd_in(1, 6), step = (size_t)rnd_in(1, (int32_t)taps);
  const size_t nptr = (pixels - 1) * step + taps, n16 = (ch + 15) / 16 * 16;
  const size_t stride = ch + (rnd() % 3 == 0 ? (size_t)rnd_in(1, 5) : 0); /* gaps between pixels stay untouched */
  const bool fp32 = rnd() % 2;
  uint8_t **data = malloc(nptr * sizeof *data);
  const uint8_t **ind = malloc(nptr * sizeof *ind);
  const int style = rnd() % 3;
  for (size_t i = 0; i < nptr; i++) {
    data[i] = malloc(ch); /* exactly C bytes: a read past them is an ASan error */
    for (size_t c = 0; c < ch; c++) data[i][c] = (uint8_t)rnd_byte(!s8, style);
    ind[i] = data[i];
  }
  int32_t *bias = calloc(n16, sizeof *bias);
  float *scale = calloc(n16, sizeof *scale);
  int16_t *w = calloc(n16 * taps, sizeof *w);
  for (size_t c = 0; c < ch; c++) {
    bias[c] = rnd() % 4 == 0 ? (int32_t)rnd() : rnd_in(-100000, 100000);
    scale[c] = 0.0001f + rnd_unit() * (rnd() % 2 ? 0.01f : 1.0f);
    for (size_t t = 0; t < taps; t++) w[(c / 16 * taps + t) * 16 + c % 16] = (int16_t)(style == 1 ? (rnd() % 2 ? -255 : 255) : rnd_in(-255, 255));
  }
  const int32_t qlo = s8 ? -128 : 0, qhi = s8 ? 127 : 255, zp = rnd_in(qlo, qhi);
  int32_t amin = rnd_in(qlo, qhi), amax = rnd_in(qlo, qhi);
  if (rnd() % 2) amin = qlo, amax = qhi;
  if (amin > amax) { const int32_t t = amin; amin = amax; amax = t; }
  const etpu_dw_ukernel_params p = {ch, stride, taps, s8, bias, w, fp32 ? scale : NULL, (float)(amin - zp), (float)(amax - zp), zp};
  /* The expected values: wrapping int32 sums, then etpu_requant_output. */
  const size_t out_bytes = ((pixels - 1) * stride + ch) * (fp32 ? 1 : 4);
  uint8_t *want = malloc(out_bytes), *got = malloc(out_bytes + GUARD);
  memset(want, 0x5a, out_bytes);
  for (size_t px = 0; px < pixels; px++)
    for (size_t c = 0; c < ch; c++) {
      uint32_t sum = (uint32_t)bias[c];
      for (size_t t = 0; t < taps; t++) {
        const uint8_t b = ind[px * step + t][c];
        sum += (uint32_t)((s8 ? (int32_t)(int8_t)b : (int32_t)b) * w[(c / 16 * taps + t) * 16 + c % 16]);
      }
      if (fp32) {
        const etpu_requant rq = {0, 0, scale[c]};
        want[px * stride + c] = (uint8_t)(etpu_requant_output((int32_t)sum, &rq, ETPU_REQUANT_FP32, zp, amin, amax) & 0xff);
      } else {
        const int32_t v = (int32_t)sum;
        memcpy(want + (px * stride + c) * 4, &v, 4);
      }
    }
  size_t bad = 0;
  for (int isa = 0; isa < ETPU_ISA_COUNT || (k && isa == 0); isa++) {
    const etpu_ukernel_config *cfg = k ? NULL : etpu_ukernel_config_for((etpu_isa)isa);
    if (!k && !cfg) continue;
    memset(got, 0x5a, out_bytes + GUARD);
    (k ? k : cfg->dw)(&p, pixels, ind, step, got);
    size_t first = out_bytes, n = 0;
    for (size_t i = 0; i < out_bytes; i++)
      if (want[i] != got[i]) n++, first = first < i ? first : i;
    bool guard_ok = true;
    for (size_t i = out_bytes; i < out_bytes + GUARD; i++) guard_ok &= got[i] == 0x5a;
    if (k) {
      bad = n + !guard_ok;
      break;
    }
    CHECK_MSG(n == 0 && guard_ok,
              "dw ukernel case %d (%s): %s %zu channels (stride %zu), %zu taps, %zu pixels step %zu, %s: %zu bytes "
              "differ, first %zu want %u got %u%s",
              index, cfg->name, s8 ? "s8" : "u8", ch, stride, taps, pixels, step, fp32 ? "fp32" : "int32", n, first,
              first < out_bytes ? want[first] : 0, first < out_bytes ? got[first] : 0,
              guard_ok ? "" : "; wrote past its output");
  }
  for (size_t i = 0; i < nptr; i++) free(data[i]);
  free(data), free(ind), free(bias), free(scale), free(w), free(want), free(got);
  return bad;
}

/* A whole depthwise layer (3×3, 37 channels, uint8, fp32) run by cfg
 * against the reference: the differing output bytes. */
static size_t dw_layer_mismatches(const etpu_ukernel_config *cfg) {
  const etpu_opt_conv_desc d = {ETPU_OPT_DW, true, {1, 9, 11, 37}, {1, 3, 3, 37}, {1, 9, 11, 37}, 1, 1, 1, 1, 1, 1,
                                1, -128, -120, 100, 0, 255};
  etpu_requant rq;
  CHECK_OK(etpu_requant_init(0.02f, 0.005f, 0.1f, ETPU_REQUANT_FP32, &rq));
  const etpu_requant_params q = {&rq, 1, ETPU_REQUANT_FP32};
  const size_t nx = count(&d.in_d), nw = count(&d.f_d), ny = count(&d.out_d);
  uint8_t *x = malloc(nx), *w = malloc(nw), *y_ref = malloc(ny), *y = malloc(ny);
  for (size_t i = 0; i < nx; i++) x[i] = (uint8_t)rnd();
  for (size_t i = 0; i < nw; i++) w[i] = (uint8_t)rnd();
  CHECK_OK(run_ref(&d, &q, x, w, NULL, y_ref));
  void *packed = malloc(etpu_opt_conv_packed_bytes_isa(cfg, &d));
  const size_t sb = etpu_opt_conv_get_buffer_size_isa(cfg, &d);
  void *scratch = malloc(sb);
  CHECK_OK(etpu_opt_conv_pack_isa(cfg, &d, w, packed));
  CHECK_OK(etpu_opt_conv_run_range_isa(cfg, &d, &q, x, packed, NULL, y, scratch, sb, 0,
                                       etpu_opt_conv_range_count_isa(cfg, &d)));
  size_t n = 0;
  for (size_t i = 0; i < ny; i++) n += y[i] != y_ref[i];
  free(x), free(w), free(y_ref), free(y), free(packed), free(scratch);
  return n;
}

static void test_dw_ukernels(void) {
  enum { DW_CASES = 4000 };
  for (int i = 0; i < DW_CASES; i++) dw_ukernel_case(i, NULL);
  /* Seeded faults: each must be caught, by the direct comparison and on a
   * whole layer, while the true scalar kernel passes the same layer. */
  etpu_ukernel_config faulty = *etpu_ukernel_config_for(ETPU_ISA_SCALAR);
  CHECK(dw_layer_mismatches(&faulty) == 0);
  faulty.dw = faulty_dw;
  static const char *const what[] = {"", "a dropped tap", "flipped output bits", "a bias off by one"};
  for (g_fault = 1; g_fault <= 3; g_fault++) {
    size_t caught = 0;
    for (int i = 0; i < 50; i++) caught += dw_ukernel_case(-1, faulty_dw) > 0;
    /* a dropped tap or a bias off by one may round away in a tile's fp32
     * outputs, never in all 50 tiles; a flipped bit always shows */
    CHECK_MSG(caught > (g_fault == 2 ? 49u : 10u), "seeded fault (%s) caught in only %zu of 50 tiles", what[g_fault],
              caught);
    if (g_fault != 3) /* a bias off by one may round away in every output of the layer */
      CHECK_MSG(dw_layer_mismatches(&faulty) > 0, "seeded fault (%s) not caught on a whole layer", what[g_fault]);
  }
  g_fault = 0;
  printf("depthwise micro-kernels: %d random tiles per ISA; 3 seeded faults caught\n", DW_CASES);
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
  int add_compared = 0, add_faults = 0;
  for (int i = 0; i < 4000; i++) addsub_case(i, &add_compared, &add_faults);
  printf("add/sub: %d kernel runs compared with the reference, %d seeded faults caught\n", add_compared, add_faults);
  CHECK_MSG(add_compared > 4000, "too few ADD/SUB cases ran (%d)", add_compared);
  int pool_compared = 0, pool_faults = 0;
  for (int i = 0; i < 1500; i++) pool_case(i, &pool_compared, &pool_faults);
  printf("pooling: %d runs compared with the reference, %d seeded faults caught\n", pool_compared, pool_faults);
  CHECK_MSG(pool_compared > 1000, "too few pooling cases ran (%d)", pool_compared);
  int mean_compared = 0, mean_refused = 0;
  for (int i = 0; i < 1500; i++) mean_case(i, &mean_compared, &mean_refused);
  printf("mean/sum: %d runs compared with the reference, %d reductions left to it (axes not one run)\n",
         mean_compared, mean_refused);
  CHECK_MSG(mean_compared > 1000 && mean_refused > 0, "mean cases: %d compared, %d refused", mean_compared,
            mean_refused);
  test_dw_ukernels();
  return tu_finish("test_kernels_opt");
}
