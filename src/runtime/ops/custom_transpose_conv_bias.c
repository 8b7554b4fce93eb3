/*
 * custom_transpose_conv_bias.c — runtime glue of MediaPipe's custom op
 * Convolution2DTransposeBias (selfie segmentation's last upsampling layer;
 * kernel: etpu_transpose_conv_bias_f32 in kernels.h).
 *
 * Inputs: input [N, H, W, C_in], weights [C_out, KH, KW, C_in], bias
 * [C_out], all float32 (MediaPipe's kernel takes float32 only). The custom
 * options are TFLite's TfLiteTransposeConvParams written raw, three
 * little-endian int32: padding (1 SAME, 2 VALID), stride_width,
 * stride_height. Output [N, OH, OW, C_out] with OH = stride·(H − 1) + KH −
 * P_h, P_h = SAME ? max(0, KH − (H − 1) mod stride − 1) : 0, the top padding
 * P_h/2 (likewise for the width), as MediaPipe's Prepare computes it.
 * Both profiles compute MediaPipe's float loop (bias first, then the
 * scatter); LiteRT's XNNPACK delegate takes this op as a deconvolution and
 * sums in its own order, so float outputs may differ from LiteRT's in the
 * last bits.
 */
#include <float.h>
#include <string.h>

#include "kernels/kernels.h"
#include "runtime/interp.h"

typedef struct tcb_op {
  etpu_conv_f32_params p;
  etpu_dims in, f, out;
} tcb_op;

static etpu_status to_dims(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *t, const char *what, etpu_dims *d) {
  if (t->type != ETPU_FLOAT32)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' is %s; Convolution2DTransposeBias takes FLOAT32", what,
                        t->name, etpu_dtype_name(t->type));
  if (t->rank != 4) return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' must be 4-D", what, t->name);
  *d = (etpu_dims){t->dims[0], t->dims[1], t->dims[2], t->dims[3]};
  return ETPU_OK;
}

/* MediaPipe's output size and total padding along one axis. */
static int32_t out_size(int32_t in, int32_t k, int32_t stride, bool same, int32_t *pad_total) {
  int32_t p = 0;
  if (same) {
    p = k - (in - 1) % stride - 1;
    if (p < 0) p = 0;
  }
  *pad_total = p;
  return stride * (in - 1) + k - p;
}

static etpu_status tcb_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 3, 3, 1);
  if (st != ETPU_OK) return st;
  const etpu_rtensor *in = etpu_in(ip, op, 0), *w = etpu_in(ip, op, 1), *b = etpu_in(ip, op, 2);
  const etpu_rtensor *o = etpu_out(ip, op, 0);
  tcb_op *p;
  if (!(p = etpu_op_alloc(ip, sizeof *p))) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = p;
  if ((st = to_dims(ip, op, in, "input", &p->in)) != ETPU_OK) return st;
  if ((st = to_dims(ip, op, w, "weights", &p->f)) != ETPU_OK) return st;
  if ((st = to_dims(ip, op, o, "output", &p->out)) != ETPU_OK) return st;
  if (b->type != ETPU_FLOAT32 || b->rank != 1 || b->dims[0] != p->f.n)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "bias '%s' must be FLOAT32 [%d] (the weights' output channels)",
                        b->name, p->f.n);
  if (p->f.c != p->in.c)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "weights '%s' have %d input channels but input '%s' has %d", w->name,
                        p->f.c, in->name, p->in.c);
  const etpu_gop *g = op->gop;
  if (!g->custom || g->custom_size < 12)
    return etpu_op_fail(ip, op, ETPU_MALFORMED,
                        "custom options are %u bytes; expected 12 (TfLiteTransposeConvParams: padding, stride_width, "
                        "stride_height)",
                        g->custom ? g->custom_size : 0);
  int32_t v[3];
  memcpy(v, g->custom, sizeof v); /* little-endian, as the host: etpu targets little-endian machines */
  if ((v[0] != 1 && v[0] != 2) || v[1] < 1 || v[2] < 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "custom options padding %d (1 SAME or 2 VALID), strides %d, %d (>= 1)",
                        v[0], v[1], v[2]);
  int32_t ph, pw;
  const int32_t oh = out_size(p->in.h, p->f.h, v[2], v[0] == 1, &ph), ow = out_size(p->in.w, p->f.w, v[1], v[0] == 1, &pw);
  if (p->out.n != p->in.n || p->out.h != oh || p->out.w != ow || p->out.c != p->f.n)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' is [%d,%d,%d,%d]; MediaPipe computes [%d,%d,%d,%d]",
                        o->name, p->out.n, p->out.h, p->out.w, p->out.c, p->in.n, oh, ow, p->f.n);
  p->p = (etpu_conv_f32_params){v[2], v[1], ph / 2, pw / 2, 1, 1, 1, -FLT_MAX, FLT_MAX};
  return ETPU_OK;
}

static etpu_status tcb_eval(etpu_interp *ip, etpu_rop *op) {
  const tcb_op *p = op->params;
  etpu_status st = etpu_transpose_conv_bias_f32(
      &p->p, &p->in, (const float *)etpu_in(ip, op, 0)->data, &p->f, (const float *)etpu_in(ip, op, 1)->data,
      (const float *)etpu_in(ip, op, 2)->data, &p->out, (float *)etpu_out(ip, op, 0)->data);
  return st == ETPU_OK ? ETPU_OK : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

const etpu_kernel_reg etpu_reg_transpose_conv_bias = {ETPU_OP_CUSTOM, "Convolution2DTransposeBias", tcb_prepare,
                                                      tcb_eval, NULL};
