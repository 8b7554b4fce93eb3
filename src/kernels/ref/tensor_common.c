/*
 * tensor_common.c — what the kernels of tensor_ops.h share: shape and plan
 * checks, broadcast and reduction plans (NumPy / TFLite rules), and the
 * fused-activation ranges of XNNPACK and of float outputs.
 */
#include <math.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_tcheck_shape(const char *kernel, const char *what, const etpu_shape *s, size_t *count_out) {
  if (!s) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s shape is NULL", kernel, what);
  if (s->rank < 0 || s->rank > ETPU_KMAX_RANK)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s rank %d outside [0, %d]", kernel, what, s->rank,
                     ETPU_KMAX_RANK);
  size_t n = 1;
  for (int32_t d = 0; d < s->rank; d++) {
    if (s->dims[d] < 0)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s dim %d is negative (%d)", kernel, what, d, s->dims[d]);
    if (!etpu_mul_size(n, (size_t)s->dims[d], &n))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s element count overflows", kernel, what);
  }
  if (count_out) *count_out = n;
  return ETPU_OK;
}

etpu_status etpu_tcheck_bcast(const char *kernel, const etpu_bcast *p) {
  if (!p) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: broadcast plan is NULL", kernel);
  if (p->rank < 1 || p->rank > ETPU_KMAX_RANK)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: broadcast rank %d outside [1, %d]", kernel, p->rank,
                     ETPU_KMAX_RANK);
  size_t n = 1;
  for (int32_t d = 0; d < p->rank; d++) {
    if (p->dims[d] < 0 || !etpu_mul_size(n, (size_t)p->dims[d], &n))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: broadcast dim %d is invalid", kernel, d);
  }
  if (n != p->count)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: broadcast plan count %zu != product of dims %zu", kernel,
                     p->count, n);
  return ETPU_OK;
}

etpu_status etpu_tcheck_reduce(const char *kernel, const etpu_reduce_plan *p) {
  if (!p) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: reduction plan is NULL", kernel);
  if (p->rank < 0 || p->rank > ETPU_KMAX_RANK)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: reduction rank %d outside [0, %d]", kernel, p->rank,
                     ETPU_KMAX_RANK);
  size_t out = 1, red = 1;
  for (int32_t d = 0; d < p->rank; d++) {
    if (p->dims[d] < 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: reduction dim %d is negative", kernel, d);
    size_t *acc = p->reduced[d] ? &red : &out;
    if (!etpu_mul_size(*acc, (size_t)p->dims[d], acc))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: reduction size overflows", kernel);
  }
  if (out != p->out_count || red != p->reduce_count)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: reduction plan counts (%zu, %zu) do not match its dims (%zu, %zu)",
                     kernel, p->out_count, p->reduce_count, out, red);
  return ETPU_OK;
}

etpu_status etpu_bcast_init(const etpu_shape *in1, const etpu_shape *in2, const etpu_shape *out,
                            etpu_bcast *plan_out) {
  static const char kname[] = "broadcast";
  etpu_status st;
  size_t n;
  if (!plan_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL plan", kname);
  if ((st = etpu_tcheck_shape(kname, "input 1", in1, NULL)) != ETPU_OK) return st;
  if ((st = etpu_tcheck_shape(kname, "input 2", in2, NULL)) != ETPU_OK) return st;
  if ((st = etpu_tcheck_shape(kname, "output", out, &n)) != ETPU_OK) return st;
  const int32_t rank = in1->rank > in2->rank ? in1->rank : in2->rank;
  if (out->rank != rank)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output rank %d, expected %d (the larger input rank)", kname,
                     out->rank, rank);
  etpu_bcast p = {0};
  p.rank = rank ? rank : 1;
  p.count = n;
  if (rank == 0) {
    p.dims[0] = 1;
    *plan_out = p;
    return ETPU_OK;
  }
  size_t s1 = 1, s2 = 1;
  for (int32_t d = rank - 1; d >= 0; d--) {
    const int32_t k1 = d - (rank - in1->rank), k2 = d - (rank - in2->rank);
    const int32_t e1 = k1 >= 0 ? in1->dims[k1] : 1, e2 = k2 >= 0 ? in2->dims[k2] : 1;
    int32_t e;
    if (e1 == e2 || e2 == 1) e = e1;
    else if (e1 == 1) e = e2;
    else
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: dims %d and %d cannot broadcast (output dim %d)", kname, e1, e2,
                       d);
    if (out->dims[d] != e)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output dim %d is %d, the broadcast gives %d", kname, d,
                       out->dims[d], e);
    p.dims[d] = e;
    p.stride1[d] = e1 == 1 ? 0 : s1;
    p.stride2[d] = e2 == 1 ? 0 : s2;
    s1 *= (size_t)e1;
    s2 *= (size_t)e2;
  }
  *plan_out = p;
  return ETPU_OK;
}

etpu_status etpu_reduce_plan_init(const etpu_shape *input, const int32_t *axes, int32_t naxes,
                                  etpu_reduce_plan *plan_out) {
  static const char kname[] = "reduce plan";
  etpu_status st;
  if (!plan_out || (naxes > 0 && !axes)) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", kname);
  if ((st = etpu_tcheck_shape(kname, "input", input, NULL)) != ETPU_OK) return st;
  if (naxes < 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %d axes", kname, naxes);
  etpu_reduce_plan p = {0};
  p.rank = input->rank;
  for (int32_t d = 0; d < input->rank; d++) p.dims[d] = input->dims[d];
  for (int32_t k = 0; k < naxes; k++) {
    int32_t a = axes[k];
    if (a < -input->rank || a >= input->rank || (input->rank == 0 && a != 0 && a != -1))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: axis %d outside [%d, %d)", kname, a, -input->rank, input->rank);
    if (input->rank == 0) continue; /* TFLite accepts axis 0 of a scalar */
    if (a < 0) a += input->rank;
    p.reduced[a] = true;
  }
  p.out_count = p.reduce_count = 1;
  for (int32_t d = 0; d < p.rank; d++) {
    size_t *acc = p.reduced[d] ? &p.reduce_count : &p.out_count;
    *acc *= (size_t)p.dims[d]; /* cannot overflow: the whole count fits */
  }
  *plan_out = p;
  return ETPU_OK;
}

void etpu_reduce_iter_init(const etpu_reduce_plan *p, etpu_reduce_iter *it) {
  size_t s = 1;
  for (int32_t d = p->rank - 1; d >= 0; d--) {
    it->stride[d] = s;
    s *= (size_t)p->dims[d];
  }
  it->nkept = it->nred = 0;
  for (int32_t d = 0; d < p->rank; d++) {
    if (p->reduced[d]) it->red[it->nred++] = d;
    else it->kept[it->nkept++] = d;
  }
  for (int32_t k = 0; k < ETPU_KMAX_RANK; k++) it->kidx[k] = it->ridx[k] = 0;
  it->base = it->off = 0;
}

/* lrintf(clamp(f / scale + zp, qmin, qmax)) with the current (nearest-even)
 * rounding; XNNPACK's xnn_qs8_quantize / xnn_qu8_quantize. */
static int32_t xnn_quantize(float f, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  float v = f / scale + (float)zero_point;
  if (v < (float)qmin) v = (float)qmin;
  if (v > (float)qmax) v = (float)qmax;
  return (int32_t)etpu_round_half_even_f32(v);
}

etpu_status etpu_activation_range_xnnpack(int32_t activation, float scale, int32_t zero_point, int32_t qmin,
                                          int32_t qmax, int32_t *act_min_out, int32_t *act_max_out) {
  /* Same argument rules (and statuses) as TFLite's rule. */
  int32_t lo, hi;
  etpu_status st = etpu_activation_range_quantized(activation, scale, zero_point, qmin, qmax, &lo, &hi);
  if (st != ETPU_OK) return st;
  switch (activation) {
    case ETPU_ACT_NONE:
      lo = qmin;
      hi = qmax;
      break;
    case ETPU_ACT_RELU:
      lo = xnn_quantize(0.0f, scale, zero_point, qmin, qmax);
      hi = qmax;
      break;
    case ETPU_ACT_RELU6:
      lo = xnn_quantize(0.0f, scale, zero_point, qmin, qmax);
      hi = xnn_quantize(6.0f, scale, zero_point, qmin, qmax);
      break;
    case ETPU_ACT_RELU_N1_TO_1:
      lo = xnn_quantize(-1.0f, scale, zero_point, qmin, qmax);
      hi = xnn_quantize(1.0f, scale, zero_point, qmin, qmax);
      break;
    default:
      return etpu_fail(ETPU_UNSUPPORTED, "activation %d is not supported", activation);
  }
  *act_min_out = lo;
  *act_max_out = hi;
  return ETPU_OK;
}

etpu_status etpu_activation_range_f32(int32_t activation, etpu_act_f32 *out) {
  if (!out) return etpu_fail(ETPU_INVALID_ARGUMENT, "activation range: NULL argument");
  etpu_act_f32 r;
  switch (activation) {
    case ETPU_ACT_NONE: r = (etpu_act_f32){-INFINITY, INFINITY}; break;
    case ETPU_ACT_RELU: r = (etpu_act_f32){0.0f, INFINITY}; break;
    case ETPU_ACT_RELU6: r = (etpu_act_f32){0.0f, 6.0f}; break;
    case ETPU_ACT_RELU_N1_TO_1: r = (etpu_act_f32){-1.0f, 1.0f}; break;
    case ETPU_ACT_TANH:
    case ETPU_ACT_SIGN_BIT:
      return etpu_fail(ETPU_UNSUPPORTED, "fused activation %d is not supported on float outputs", activation);
    default:
      return etpu_fail(ETPU_INVALID_ARGUMENT, "unknown fused activation %d", activation);
  }
  *out = r;
  return ETPU_OK;
}
