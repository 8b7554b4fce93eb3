/*
 * pool.c — op glue for AVERAGE_POOL_2D and MAX_POOL_2D (TFLITE.md §7.5) on
 * 4-D NHWC int8, uint8 and float32 tensors.
 *
 * Both profiles compute the same bytes for 8-bit pools: LiteRT's XNNPACK
 * delegate takes only float pooling, and TFLite's builtin 8-bit kernels
 * round like the reference ones. TFLite requires the input and output of a
 * quantized pool to share scale and zero point (TFLM checks it for max
 * pooling; average pooling would otherwise be meaningless), so etpu does.
 * Float average pooling follows TFLite's reference (sum, then divide);
 * XNNPACK's float kernels may differ from it in the last bit [unverified:
 * no golden has a float pool].
 *
 * 8-bit pools run the optimized driver (src/kernels/opt/pool_opt.c, the
 * reference's arithmetic with the channels innermost), split in units of
 * (output pixel, channel block) over the interpreter's threads when the
 * window work is large enough.
 */
#include "kernels/opt/pool_opt.h"
#include "runtime/ops/tensor_glue.h"

static etpu_dims dims4(const etpu_rtensor *t) {
  etpu_dims d = {t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
  return d;
}

typedef struct pool_op {
  etpu_pool_params p;
  etpu_dims in, out;
  etpu_opt_pool opt;
  bool use_opt;
  size_t units, chunks; /* the optimized run's units, and the ranges they are split in (1: one thread) */
} pool_op;

/* Input bytes read below which a pool stays on one thread. */
enum { POOL_MIN_WORK = 65536 };

static void pool_range(const void *d, const void *in, void *out, size_t begin, size_t end) {
  etpu_opt_pool_run_range(d, in, out, begin, end);
}

static etpu_status pool_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 1, 1, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  if ((st = etpu_glue_same_types(ip, op, 0, 0)) != ETPU_OK) return st;
  if (in->type != ETPU_INT8 && in->type != ETPU_UINT8 && in->type != ETPU_FLOAT32)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; pooling takes INT8, UINT8 or FLOAT32", in->name,
                        etpu_dtype_name(in->type));
  if (in->rank != 4 || o->rank != 4)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input and output must be 4-D NHWC (ranks %u and %u)", in->rank,
                        o->rank);
  pool_op *p;
  ETPU_GLUE_ALLOC(ip, op, p);
  p->in = dims4(in);
  p->out = dims4(o);
  const int32_t padding = (int32_t)etpu_op_opt_int(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_padding);
  p->p.stride_w = (int32_t)etpu_op_opt_int(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_stride_w);
  p->p.stride_h = (int32_t)etpu_op_opt_int(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_stride_h);
  p->p.filter_w = (int32_t)etpu_op_opt_int(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_filter_width);
  p->p.filter_h = (int32_t)etpu_op_opt_int(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_filter_height);
  const int32_t activation =
      (int32_t)etpu_op_opt_int(op, ETPU_T_Pool2DOptions, ETPU_F_Pool2DOptions_fused_activation_function);
  if (p->p.stride_w < 1 || p->p.stride_h < 1 || p->p.filter_w < 1 || p->p.filter_h < 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "stride %dx%d and filter %dx%d must be >= 1", p->p.stride_h,
                        p->p.stride_w, p->p.filter_h, p->p.filter_w);
  if (p->in.n < 1 || p->in.h < 1 || p->in.w < 1 || p->in.c < 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input '%s' is empty", in->name);
  const etpu_window_axis ah = {p->in.h, p->p.filter_h, p->p.stride_h, 1}, aw = {p->in.w, p->p.filter_w, p->p.stride_w, 1};
  etpu_window_geometry gh, gw;
  if (etpu_conv_output_size((etpu_padding)padding, &ah, &gh) != ETPU_OK ||
      etpu_conv_output_size((etpu_padding)padding, &aw, &gw) != ETPU_OK)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "window: %s", etpu_errmsg());
  if (p->out.n != p->in.n || p->out.c != p->in.c || p->out.h != gh.out_size || p->out.w != gw.out_size)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' is [%d,%d,%d,%d]; the window gives [%d,%d,%d,%d]",
                        o->name, p->out.n, p->out.h, p->out.w, p->out.c, p->in.n, gh.out_size, gw.out_size, p->in.c);
  p->p.pad_h = gh.pad_before;
  p->p.pad_w = gw.pad_before;
  if (in->type == ETPU_FLOAT32) {
    if (etpu_activation_range_f32(activation, &p->p.act_f32) != ETPU_OK)
      return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s", etpu_errmsg());
    return ETPU_OK;
  }
  if ((st = etpu_glue_check_q8(ip, op, in, "input")) != ETPU_OK) return st;
  if ((st = etpu_glue_check_q8(ip, op, o, "output")) != ETPU_OK) return st;
  if ((st = etpu_glue_same_quant(ip, op, in, o)) != ETPU_OK) return st;
  if ((st = etpu_glue_act_q8(ip, op, activation, o, false, &p->p.activation_min, &p->p.activation_max)) != ETPU_OK)
    return st;
  p->use_opt = etpu_opt_pool_init(op->code == ETPU_OP_AVERAGE_POOL_2D, in->type == ETPU_INT8, &p->p, &p->in, &p->out,
                                  &p->opt);
  if (p->use_opt) {
    p->units = etpu_opt_pool_units(&p->opt);
    p->chunks = etpu_glue_chunks(ip, p->units, (double)o->elems * p->p.filter_h * p->p.filter_w, POOL_MIN_WORK);
  }
  return ETPU_OK;
}

static etpu_status pool_eval(etpu_interp *ip, etpu_rop *op) {
  const etpu_rtensor *in = etpu_in(ip, op, 0), *o = etpu_out(ip, op, 0);
  const pool_op *p = op->params;
  const bool avg = op->code == ETPU_OP_AVERAGE_POOL_2D;
  etpu_status st;
  if (p->use_opt) return etpu_glue_run_ranges(ip, pool_range, &p->opt, in->data, o->data, p->units, p->chunks);
  switch (in->type) {
    case ETPU_INT8:
      st = avg ? etpu_avg_pool2d_s8(&p->p, &p->in, (const int8_t *)in->data, &p->out, (int8_t *)o->data)
               : etpu_max_pool2d_s8(&p->p, &p->in, (const int8_t *)in->data, &p->out, (int8_t *)o->data);
      break;
    case ETPU_UINT8:
      st = avg ? etpu_avg_pool2d_u8(&p->p, &p->in, in->data, &p->out, o->data)
               : etpu_max_pool2d_u8(&p->p, &p->in, in->data, &p->out, o->data);
      break;
    default:
      st = avg ? etpu_avg_pool2d_f32(&p->p, &p->in, (const float *)in->data, &p->out, (float *)o->data)
               : etpu_max_pool2d_f32(&p->p, &p->in, (const float *)in->data, &p->out, (float *)o->data);
      break;
  }
  return st == ETPU_OK ? ETPU_OK : etpu_glue_eval_fail(ip, op, st);
}

const etpu_kernel_reg etpu_reg_average_pool_2d = {ETPU_OP_AVERAGE_POOL_2D, NULL, pool_prepare, pool_eval, NULL};
const etpu_kernel_reg etpu_reg_max_pool_2d = {ETPU_OP_MAX_POOL_2D, NULL, pool_prepare, pool_eval, NULL};
