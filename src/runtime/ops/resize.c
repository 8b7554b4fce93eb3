/*
 * resize.c — runtime glue of RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR
 * (kernels: kernels/resize.h). Both take a 4-D NHWC input and the output
 * size as a 2-element int32 tensor; the output shape is the model's (static),
 * so prepare checks that a constant size tensor agrees with it.
 *
 * Bilinear arithmetic per profile (TFLITE.md §7.10, settled by the goldens):
 *   tflite-ref  int8: ResizeBilinearInteger (TFLite Micro); uint8: TFLite's
 *               float-style reference_ops::ResizeBilinear.
 *   litert      XNNPACK's Q11 kernel (LiteRT's XNNPACK delegate takes int8
 *               and uint8 RESIZE_BILINEAR): movenet's three int8
 *               half-pixel resizes match it byte for byte, while the float
 *               reference and the integer path differ at the borders.
 *   float32     the float reference in both profiles.
 *   uint8 whose input and output quantization differ (the legacy/ DeepLab
 *               v3 models' 1x1 -> 33x33 image-pooling resize): XNNPACK's
 *               delegate refuses the op (LiteRT.js then fails to prepare the
 *               model), and TFLite's builtin kernel — what TFLite without
 *               XNNPACK, TFLite Micro and Google's compiled models run on
 *               the CPU — interpolates the raw uint8 values and never reads
 *               either quantization (resize_bilinear.cc passes the data
 *               only), i.e. the output keeps the input's integers under the
 *               output's scale. etpu does the same in both profiles with
 *               the float-style reference (TFLite's uint8 path).
 */
#include <string.h>

#include "kernels/resize.h"
#include "runtime/interp.h"

typedef struct resize_params {
  etpu_resize_params k;
  etpu_dims in, out;
} resize_params;

static etpu_status to_dims(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *t, etpu_dims *d) {
  if (t->rank != 4)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "'%s' has rank %u; %s takes 4-D NHWC tensors", t->name, t->rank,
                        op->name);
  for (int i = 0; i < 4; i++)
    if (t->dims[i] < 1) return etpu_op_fail(ip, op, ETPU_MALFORMED, "'%s' has an empty dimension", t->name);
  *d = (etpu_dims){t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
  return ETPU_OK;
}

static etpu_status resize_prepare(etpu_interp *ip, etpu_rop *op, bool bilinear) {
  etpu_status st = etpu_op_check_io(ip, op, 2, 2, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *size = etpu_in(ip, op, 1), *out = etpu_out(ip, op, 0);
  resize_params *p = etpu_op_alloc(ip, sizeof *p);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = p;
  if (in->type != ETPU_INT8 && in->type != ETPU_UINT8 && in->type != ETPU_FLOAT32)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; %s takes int8, uint8 or float32", in->name,
                        etpu_dtype_name(in->type), op->name);
  if ((st = etpu_op_check_type(ip, op, out, "output", in->type)) != ETPU_OK) return st;
  if ((st = to_dims(ip, op, in, &p->in)) != ETPU_OK) return st;
  if ((st = to_dims(ip, op, out, &p->out)) != ETPU_OK) return st;
  if (p->in.n != p->out.n || p->in.c != p->out.c)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input and output differ in batch or channels");
  if ((st = etpu_op_check_type(ip, op, size, "size", ETPU_INT32)) != ETPU_OK) return st;
  if (size->elems != 2) return etpu_op_fail(ip, op, ETPU_MALFORMED, "size tensor '%s' must hold 2 values", size->name);
  if (size->is_const) {
    int32_t hw[2];
    memcpy(hw, size->data, sizeof hw);
    if (hw[0] != p->out.h || hw[1] != p->out.w)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "size %dx%d does not match the output '%s' (%dx%d)", hw[0], hw[1],
                          out->name, p->out.h, p->out.w);
  } else {
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "a computed output size is not supported (static shapes only)");
  }
  const bool requant = in->type != ETPU_FLOAT32 && in->has_quant && out->has_quant &&
                       (in->scale != out->scale || in->zero_point != out->zero_point);
  if (requant && (!bilinear || in->type != ETPU_UINT8))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED,
                        "input (%g, %d) and output (%g, %d) quantization differ; etpu runs that for a uint8 "
                        "RESIZE_BILINEAR only (TFLite's builtin kernel, which ignores the quantization)",
                        (double)in->scale, in->zero_point, (double)out->scale, out->zero_point);
  uint16_t table = bilinear ? ETPU_T_ResizeBilinearOptions : ETPU_T_ResizeNearestNeighborOptions;
  p->k.align_corners = etpu_op_opt_int(op, table,
                                       bilinear ? ETPU_F_ResizeBilinearOptions_align_corners
                                                : ETPU_F_ResizeNearestNeighborOptions_align_corners) != 0;
  p->k.half_pixel_centers = etpu_op_opt_int(op, table,
                                            bilinear ? ETPU_F_ResizeBilinearOptions_half_pixel_centers
                                                     : ETPU_F_ResizeNearestNeighborOptions_half_pixel_centers) != 0;
  if (bilinear && p->k.align_corners && p->k.half_pixel_centers)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "align_corners and half_pixel_centers are both set");
  if (requant) p->k.method = ETPU_BILINEAR_FLOAT_REF; /* TFLite's builtin on the raw values, both profiles */
  else if (ip->profile == ETPU_PROFILE_LITERT) p->k.method = ETPU_BILINEAR_XNNPACK_Q11;
  else p->k.method = in->type == ETPU_INT8 ? ETPU_BILINEAR_INTEGER : ETPU_BILINEAR_FLOAT_REF;
  return ETPU_OK;
}

static etpu_status bilinear_prepare(etpu_interp *ip, etpu_rop *op) { return resize_prepare(ip, op, true); }
static etpu_status nearest_prepare(etpu_interp *ip, etpu_rop *op) { return resize_prepare(ip, op, false); }

static etpu_status bilinear_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const resize_params *p = op->params;
  etpu_status st;
  switch (in->type) {
    case ETPU_INT8:
      st = etpu_resize_bilinear_s8(&p->k, &p->in, (const int8_t *)in->data, &p->out, (int8_t *)out->data);
      break;
    case ETPU_UINT8:
      st = etpu_resize_bilinear_u8(&p->k, &p->in, in->data, &p->out, out->data);
      break;
    default:
      st = etpu_resize_bilinear_f32(&p->k, &p->in, (const float *)in->data, &p->out, (float *)out->data);
  }
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

static etpu_status nearest_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  const resize_params *p = op->params;
  etpu_status st = etpu_resize_nearest(&p->k, etpu_dtype_size(in->type), &p->in, in->data, &p->out, out->data);
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

const etpu_kernel_reg etpu_reg_resize_bilinear = {ETPU_OP_RESIZE_BILINEAR, NULL, bilinear_prepare, bilinear_eval, NULL};
const etpu_kernel_reg etpu_reg_resize_nearest_neighbor = {ETPU_OP_RESIZE_NEAREST_NEIGHBOR, NULL, nearest_prepare,
                                                          nearest_eval, NULL};
