/*
 * bench_kernels_opt.c — the optimized integer kernels (src/kernels/opt/)
 * against their scalar references, in the same run, on layers shaped like
 * MobileNet v2's (uint8, fp32 requantization as the litert profile uses for
 * XNNPACK ops, and int8 double rounding as tflite-ref): a 1×1 expansion, a
 * 1×1 projection, a 3×3 depthwise (stride 1 and 2), the 3×3 stride-2 stem
 * and a FULLY_CONNECTED; and the layers of MobileNet v1 0.25 (128), whose
 * few channels make small GEMMs. Prints the median time of the reference and,
 * for each ISA level this CPU runs (only the one ETPU_ISA names, when set),
 * of the optimized kernel, the ratio optimized / reference and the rate in
 * GMAC/s (one core's vpdpbusd peak on the 2-core Zen 4 machine is about
 * 234). A benchmark, not a test: never registered with ctest; every output is
 * compared with the reference's so a wrong kernel is noticed.
 *
 * Usage: bench_kernels_opt [N] [PART]   (N: timed runs per kernel, default 15;
 *                                        PART: only layers whose name has it)
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/kernels.h"
#include "etpu/etpu.h"
#include "kernels/opt/opt.h"
#include "kernels/opt/opt_internal.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct layer {
  const char *name;
  etpu_opt_kind kind;
  int32_t h, w, in_c, out_c, k, stride, pad;
} layer;

static const layer k_layers[] = {
    {"conv 1x1 expand 56x56x24->144", ETPU_OPT_CONV, 56, 56, 24, 144, 1, 1, 0},
    {"conv 1x1 project 28x28x192->32", ETPU_OPT_CONV, 28, 28, 192, 32, 1, 1, 0},
    {"conv 1x1 project 7x7x960->320", ETPU_OPT_CONV, 7, 7, 960, 320, 1, 1, 0},
    {"conv 3x3/2 stem 224x224x3->32", ETPU_OPT_CONV, 224, 224, 3, 32, 3, 2, 0},
    {"dw 3x3/1 56x56x144", ETPU_OPT_DW, 56, 56, 144, 144, 3, 1, 1},
    {"dw 3x3/2 112x112x96", ETPU_OPT_DW, 112, 112, 96, 96, 3, 2, 0},
    {"fc 1280->1001", ETPU_OPT_FC, 1, 1, 1280, 1001, 1, 1, 0},
    /* MobileNet v1 0.25 (128): few channels, so small K and small tiles */
    {"v1 conv 3x3/2 stem 128x128x3->8", ETPU_OPT_CONV, 128, 128, 3, 8, 3, 2, 0},
    {"v1 dw 3x3/1 64x64x8", ETPU_OPT_DW, 64, 64, 8, 8, 3, 1, 1},
    {"v1 conv 1x1 64x64x8->16", ETPU_OPT_CONV, 64, 64, 8, 16, 1, 1, 0},
    {"v1 dw 3x3/2 64x64x16", ETPU_OPT_DW, 64, 64, 16, 16, 3, 2, 0},
    {"v1 conv 1x1 32x32x16->32", ETPU_OPT_CONV, 32, 32, 16, 32, 1, 1, 0},
    {"v1 dw 3x3/1 32x32x32", ETPU_OPT_DW, 32, 32, 32, 32, 3, 1, 1},
    {"v1 conv 1x1 32x32x32->32", ETPU_OPT_CONV, 32, 32, 32, 32, 1, 1, 0},
    {"v1 conv 1x1 16x16x64->64", ETPU_OPT_CONV, 16, 16, 64, 64, 1, 1, 0},
    {"v1 conv 1x1 8x8x128->128", ETPU_OPT_CONV, 8, 8, 128, 128, 1, 1, 0},
    {"v1 dw 3x3/1 8x8x128", ETPU_OPT_DW, 8, 8, 128, 128, 3, 1, 1},
    {"v1 conv 1x1 4x4x256->256", ETPU_OPT_CONV, 4, 4, 256, 256, 1, 1, 0},
    {"v1 conv 1x1 logits 256->1001", ETPU_OPT_CONV, 1, 1, 256, 1001, 1, 1, 0},
};

static uint32_t rng = 12345;
static uint8_t rnd8(void) {
  rng = rng * 1103515245u + 12345u;
  return (uint8_t)(rng >> 16);
}

static etpu_status run_ref(const etpu_opt_conv_desc *d, const etpu_requant_params *q, const void *x, const void *w,
                           const int32_t *b, void *y) {
  if (d->is_u8) {
    if (d->kind == ETPU_OPT_CONV) {
      const etpu_conv_u8_params p = {d->input_offset, d->filter_offset, d->output_offset, d->stride_h, d->stride_w,
                                     d->pad_h, d->pad_w, 1, 1, d->activation_min, d->activation_max};
      return etpu_conv2d_u8(&p, q, &d->in_d, x, &d->f_d, w, b, &d->out_d, y);
    }
    if (d->kind == ETPU_OPT_DW) {
      const etpu_dw_conv_u8_params p = {d->input_offset, d->filter_offset, d->output_offset, d->stride_h,
                                        d->stride_w, d->pad_h, d->pad_w, 1, 1, 1, d->activation_min,
                                        d->activation_max};
      return etpu_depthwise_conv2d_u8(&p, q, &d->in_d, x, &d->f_d, w, b, &d->out_d, y);
    }
    const etpu_fc_u8_params p = {d->input_offset, d->filter_offset, d->output_offset, d->activation_min,
                                 d->activation_max};
    return etpu_fully_connected_u8(&p, q, &d->in_d, x, &d->f_d, w, b, &d->out_d, y);
  }
  if (d->kind == ETPU_OPT_CONV) {
    const etpu_conv_params p = {d->input_offset, d->output_offset, d->stride_h, d->stride_w, d->pad_h, d->pad_w,
                                1, 1, d->activation_min, d->activation_max};
    return etpu_conv2d_s8(&p, q, &d->in_d, x, &d->f_d, w, b, &d->out_d, y);
  }
  if (d->kind == ETPU_OPT_DW) {
    const etpu_dw_conv_params p = {d->input_offset, d->output_offset, d->stride_h, d->stride_w, d->pad_h, d->pad_w,
                                   1, 1, 1, d->activation_min, d->activation_max};
    return etpu_depthwise_conv2d_s8(&p, q, &d->in_d, x, &d->f_d, w, b, &d->out_d, y);
  }
  const etpu_fc_params p = {d->input_offset, 0, d->output_offset, d->activation_min, d->activation_max};
  return etpu_fully_connected_s8(&p, q, &d->in_d, x, &d->f_d, w, b, &d->out_d, y);
}

static double median(double *t, int n) {
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  return t[n / 2];
}

static void bench_layer(const layer *l, bool u8, etpu_requant_mode mode, int reps) {
  etpu_opt_conv_desc d;
  memset(&d, 0, sizeof d);
  d.kind = l->kind;
  d.is_u8 = u8;
  const int32_t oh = (l->h + 2 * l->pad - l->k) / l->stride + 1, ow = (l->w + 2 * l->pad - l->k) / l->stride + 1;
  d.in_d = (etpu_dims){1, l->h, l->w, l->in_c};
  d.f_d = l->kind == ETPU_OPT_DW ? (etpu_dims){1, l->k, l->k, l->out_c} : (etpu_dims){l->out_c, l->k, l->k, l->in_c};
  d.out_d = (etpu_dims){1, oh, ow, l->out_c};
  d.stride_h = d.stride_w = l->stride;
  d.pad_h = d.pad_w = l->pad;
  d.dilation_h = d.dilation_w = d.depth_multiplier = 1;
  d.input_offset = u8 ? -128 : 5;
  d.filter_offset = u8 ? -120 : 0;
  d.output_offset = u8 ? 0 : -128;
  d.activation_min = u8 ? 0 : -128;
  d.activation_max = u8 ? 255 : 127;
  etpu_requant rq;
  if (etpu_requant_init(0.02f, 0.005f, 0.1f, mode, &rq) != ETPU_OK) return;
  const etpu_requant_params q = {&rq, 1, mode};
  const size_t nx = (size_t)l->h * (size_t)l->w * (size_t)l->in_c;
  const size_t nw = (size_t)d.f_d.n * (size_t)d.f_d.h * (size_t)d.f_d.w * (size_t)d.f_d.c;
  const size_t ny = (size_t)oh * (size_t)ow * (size_t)l->out_c;
  uint8_t *x = malloc(nx), *w = malloc(nw), *y0 = malloc(ny), *y1 = malloc(ny);
  int32_t *b = malloc((size_t)l->out_c * sizeof *b);
  void *packed = malloc(etpu_opt_conv_packed_bytes(&d));
  const size_t sb = etpu_opt_conv_get_buffer_size(&d);
  void *scratch = malloc(sb);
  double *t_ref = malloc((size_t)reps * sizeof(double)), *t_opt = malloc((size_t)reps * sizeof(double));
  const double macs = (double)ny * (double)d.f_d.h * (double)d.f_d.w * (double)(l->kind == ETPU_OPT_DW ? 1 : l->in_c);
  if (!x || !w || !y0 || !y1 || !b || !packed || !scratch || !t_ref || !t_opt) goto done;
  for (size_t i = 0; i < nx; i++) x[i] = rnd8();
  for (size_t i = 0; i < nw; i++) w[i] = u8 ? rnd8() : (uint8_t)(rnd8() % 255 - 127);
  for (int32_t c = 0; c < l->out_c; c++) b[c] = (int32_t)(rnd8() * 50) - 6000;
  if (!etpu_opt_conv_supported(&d, b) || etpu_opt_conv_pack(&d, w, packed) != ETPU_OK) {
    printf("  %-34s not supported by the optimized kernels\n", l->name);
    goto done;
  }
  for (int r = 0; r < reps; r++) {
    const double t0 = now_ms();
    if (run_ref(&d, &q, x, w, b, y0) != ETPU_OK) goto done;
    t_ref[r] = now_ms() - t0;
  }
  const double mr = median(t_ref, reps);
  printf("  %-34s %s %-12s ref %9.3f ms\n", l->name, u8 ? "u8" : "s8", etpu_requant_mode_name(mode), mr);
  const bool forced = getenv("ETPU_ISA") != NULL;
  for (int isa = 0; isa < ETPU_ISA_COUNT; isa++) {
    const etpu_ukernel_config *cfg = etpu_ukernel_config_for((etpu_isa)isa);
    if (!cfg || (forced && strcmp(cfg->name, etpu_isa_name()) != 0)) continue;
    /* Each level packs its own layout (int16 rows below avx2). */
    const size_t units = etpu_opt_conv_range_count_isa(cfg, &d), sb_isa = etpu_opt_conv_get_buffer_size_isa(cfg, &d);
    void *packed_isa = malloc(etpu_opt_conv_packed_bytes_isa(cfg, &d)), *scratch_isa = malloc(sb_isa);
    etpu_status st = packed_isa && scratch_isa ? etpu_opt_conv_pack_isa(cfg, &d, w, packed_isa) : ETPU_OUT_OF_MEMORY;
    for (int r = 0; r < reps && st == ETPU_OK; r++) {
      const double t0 = now_ms();
      st = etpu_opt_conv_run_range_isa(cfg, &d, &q, x, packed_isa, b, y1, scratch_isa, sb_isa, 0, units);
      t_opt[r] = now_ms() - t0;
    }
    free(packed_isa), free(scratch_isa);
    if (st != ETPU_OK) goto done;
    const double mo = median(t_opt, reps);
    printf("    %-11s opt %8.3f ms  opt/ref %.4f  %6.1f GMAC/s%s\n", cfg->name, mo, mo / mr, macs / mo * 1e-6,
           memcmp(y0, y1, ny) ? "  OUTPUTS DIFFER" : "");
  }
done:
  free(x), free(w), free(y0), free(y1), free(b), free(packed), free(scratch), free(t_ref), free(t_opt);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 15;
  if (reps < 1 || reps > 100000) reps = 15;
  printf("bench_kernels_opt: median of %d runs, optimized vs reference kernel; chosen ISA %s\n", reps,
         etpu_isa_name());
  for (size_t i = 0; i < sizeof k_layers / sizeof k_layers[0]; i++) {
    if (argc > 2 && !strstr(k_layers[i].name, argv[2])) continue;
    bench_layer(&k_layers[i], true, ETPU_REQUANT_FP32, reps);
    bench_layer(&k_layers[i], false, ETPU_REQUANT_DOUBLE_ROUND, reps);
  }
  return 0;
}
