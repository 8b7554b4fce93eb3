/*
 * mean_opt.c — the optimized 8-bit MEAN/SUM of mean_opt.h: per unit, int32
 * sums of up to MEAN_BLOCK inner values over the middle extent, then the
 * reference's requantization of each (TFLite: MBQM of Σx − zp_in·n, double
 * rounding; XNNPACK: (float)Σx·k + z rounded half to even, NaN to 0, with
 * the reference's saturation).
 */
#include <math.h>

#include "kernels/opt/mean_opt.h"
#include "kernels/requant.h"

enum { MEAN_BLOCK = 512 };

bool etpu_opt_mean_init(const etpu_mean_params *params, const etpu_reduce_plan *plan, bool is_signed,
                        etpu_opt_mean *out) {
  if (params->reduce_count != plan->reduce_count || params->reduce_count < 1 ||
      params->reduce_count > ((size_t)1 << 23))
    return false;
  if (params->scheme == ETPU_MEAN_TFLITE ? (params->shift < -31 || params->shift > 31)
                                         : params->scheme != ETPU_MEAN_XNNPACK)
    return false;
  int32_t first = -1, last = -1; /* the folded run [first, last] */
  for (int32_t d = 0; d < plan->rank; d++) {
    if (!plan->reduced[d] || plan->dims[d] == 1) continue; /* a folded extent of 1 changes nothing */
    if (first < 0) first = d;
    else if (last != d - 1) return false;
    last = d;
  }
  etpu_opt_mean m = {*params, is_signed, 1, 1, 1, 1};
  for (int32_t d = 0; d < plan->rank; d++) {
    const size_t e = (size_t)plan->dims[d];
    if (first >= 0 && d >= first && d <= last) m.middle *= e;
    else if (first < 0 || d < first) m.outer *= e;
    else m.inner *= e;
  }
  if (m.middle != plan->reduce_count || m.outer * m.inner != plan->out_count || m.inner == 0) return false;
  m.blocks = (m.inner + MEAN_BLOCK - 1) / MEAN_BLOCK;
  *out = m;
  return true;
}

size_t etpu_opt_mean_units(const etpu_opt_mean *d) { return d->outer * d->blocks; }

static int32_t requant(const etpu_mean_params *p, int32_t acc, int32_t lo, int32_t hi) {
  if (p->scheme == ETPU_MEAN_TFLITE) {
    const int32_t shifted = (int32_t)((int64_t)acc - (int64_t)p->input_zero_point * (int64_t)p->reduce_count);
    const int64_t v = (int64_t)etpu_mbqm_double_round(shifted, p->multiplier, p->shift) + p->output_zero_point;
    return v < lo ? lo : v > hi ? hi : (int32_t)v;
  }
  float x = (float)acc * p->xnn_scale + p->xnn_zero_point;
  if (isnan(x)) x = 0.0f;
  if (x < (float)lo) return lo;
  if (x > (float)hi) return hi;
  return (int32_t)etpu_round_half_even_f32(x);
}

void etpu_opt_mean_run_range(const etpu_opt_mean *d, const void *in, void *out, size_t begin, size_t end) {
  int32_t acc[MEAN_BLOCK];
  const int32_t lo = d->is_signed ? -128 : 0, hi = d->is_signed ? 127 : 255;
  for (size_t u = begin; u < end; u++) {
    const size_t o = u / d->blocks, i0 = (u % d->blocks) * MEAN_BLOCK;
    const size_t ni = d->inner - i0 < MEAN_BLOCK ? d->inner - i0 : MEAN_BLOCK;
    for (size_t i = 0; i < ni; i++) acc[i] = 0;
    for (size_t r = 0; r < d->middle; r++) {
      const size_t at = (o * d->middle + r) * d->inner + i0;
      if (d->is_signed) {
        const int8_t *v = (const int8_t *)in + at;
        for (size_t i = 0; i < ni; i++) acc[i] += v[i];
      } else {
        const uint8_t *v = (const uint8_t *)in + at;
        for (size_t i = 0; i < ni; i++) acc[i] += v[i];
      }
    }
    uint8_t *y = (uint8_t *)out + o * d->inner + i0;
    for (size_t i = 0; i < ni; i++) y[i] = (uint8_t)requant(&d->p, acc[i], lo, hi);
  }
}
