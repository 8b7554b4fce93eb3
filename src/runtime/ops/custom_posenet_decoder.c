/*
 * custom_posenet_decoder.c — runtime glue of Coral's custom op
 * PosenetDecoderOp (kernel: kernels/postprocess.h). Options from the
 * FlexBuffers map: max_detections, score_threshold, stride, nms_radius.
 *
 * Inputs: heatmaps [1, H, W, 17], short offsets [1, H, W, 34], mid offsets
 * [1, H, W, 64], and for BodyPix long offsets [1, 33, 33, 34]; float32 or
 * uint8. Outputs (float32; shapes set at prepare as libcoral does):
 * keypoints [1, P, 17, 2], keypoint scores [1, P, 17], pose scores [1, P],
 * pose count [1], and for BodyPix instance masks [1, P, 33, 33].
 * Both profiles compute the same float arithmetic (libcoral's decoder).
 */
#include <math.h>
#include <string.h>

#include "kernels/postprocess.h"
#include "runtime/interp.h"
#include "model/flexbuffers.h"
#include "runtime/ops/tensor_glue.h"

typedef struct pn_op {
  etpu_posenet_params p;
  int32_t h, w;
  bool longs;
  void *scratch;
  size_t scratch_size;
} pn_op;

static etpu_status check_input(etpu_interp *ip, etpu_rop *op, uint32_t k, int32_t h, int32_t w, int32_t c) {
  const etpu_rtensor *t = etpu_in(ip, op, k);
  if (t->type != ETPU_FLOAT32 && t->type != ETPU_UINT8)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input %u '%s' is %s; float32 or uint8 is supported", k, t->name,
                        etpu_dtype_name(t->type));
  if (t->rank != 4 || t->dims[0] != 1 || t->dims[1] != h || t->dims[2] != w || t->dims[3] != c)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input %u '%s' must be [1, %d, %d, %d]", k, t->name, h, w, c);
  if (t->type == ETPU_UINT8) return etpu_op_check_quant(ip, op, t, "input");
  return ETPU_OK;
}

static etpu_status pn_prepare(etpu_interp *ip, etpu_rop *op) {
  if (!((op->nin == 3 && op->nout == 4) || (op->nin == 4 && op->nout == 5)))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "has %u inputs and %u outputs; expected 3 and 4, or 4 and 5", op->nin,
                        op->nout);
  etpu_status st = etpu_op_check_io(ip, op, op->nin, op->nin, op->nout);
  if (st != ETPU_OK) return st;
  pn_op *o = etpu_op_alloc(ip, sizeof *o);
  if (!o) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = o;
  const etpu_rtensor *heat = etpu_in(ip, op, 0);
  if (heat->rank != 4) return etpu_op_fail(ip, op, ETPU_MALFORMED, "heatmaps must be 4-D");
  o->h = heat->dims[1];
  o->w = heat->dims[2];
  o->longs = op->nin == 4;
  if ((st = check_input(ip, op, 0, o->h, o->w, ETPU_POSENET_KEYPOINTS)) != ETPU_OK) return st;
  if ((st = check_input(ip, op, 1, o->h, o->w, 2 * ETPU_POSENET_KEYPOINTS)) != ETPU_OK) return st;
  if ((st = check_input(ip, op, 2, o->h, o->w, 4 * ETPU_POSENET_EDGES)) != ETPU_OK) return st;
  if (o->longs &&
      (st = check_input(ip, op, 3, ETPU_POSENET_MASK_SIZE, ETPU_POSENET_MASK_SIZE, 2 * ETPU_POSENET_KEYPOINTS)) != ETPU_OK)
    return st;
  static const char *const keys[4] = {"max_detections", "score_threshold", "stride", "nms_radius"};
  double v[4];
  for (int i = 0; i < 4; i++) {
    etpu_flex_value fv;
    if (!etpu_flex_map_get(op->gop->custom, op->gop->custom_size, keys[i], &fv))
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "custom options are not a readable FlexBuffers map");
    if (!fv.present) return etpu_op_fail(ip, op, ETPU_MALFORMED, "custom option '%s' is missing", keys[i]);
    v[i] = (i == 0 || i == 2) ? (double)fv.i : fv.f;
  }
  if (v[0] < 1 || v[0] > 65536 || v[2] < 1 || v[2] > 65536 || !isfinite(v[1]) || !isfinite(v[3]))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "options out of range (max_detections %g, stride %g)", v[0], v[2]);
  o->p.max_detections = (int32_t)v[0];
  o->p.score_threshold = (float)v[1];
  o->p.stride = (int32_t)v[2];
  o->p.nms_radius = (float)v[3];
  o->scratch_size = etpu_posenet_decoder_get_buffer_size(&o->p, o->h, o->w, o->longs);
  if (!o->scratch_size) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "heatmap of %dx%d is out of range", o->h, o->w);
  o->scratch = etpu_op_alloc(ip, o->scratch_size);
  if (!o->scratch) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory for %zu scratch bytes", o->scratch_size);
  const int32_t P = o->p.max_detections, K = ETPU_POSENET_KEYPOINTS, M = ETPU_POSENET_MASK_SIZE;
  const int32_t s_kp[4] = {1, P, K, 2}, s_ks[3] = {1, P, K}, s_ps[2] = {1, P}, s_n[1] = {1}, s_m[4] = {1, P, M, M};
  if ((st = etpu_glue_float_output(ip, op, 0, 4, s_kp)) != ETPU_OK) return st;
  if ((st = etpu_glue_float_output(ip, op, 1, 3, s_ks)) != ETPU_OK) return st;
  if ((st = etpu_glue_float_output(ip, op, 2, 2, s_ps)) != ETPU_OK) return st;
  if ((st = etpu_glue_float_output(ip, op, 3, 1, s_n)) != ETPU_OK) return st;
  if (o->longs) return etpu_glue_float_output(ip, op, 4, 4, s_m);
  return ETPU_OK;
}

static etpu_qview qview(const etpu_rtensor *t) {
  etpu_qview v = {t->data, t->type, t->scale, t->zero_point};
  return v;
}

static etpu_status pn_eval(etpu_interp *ip, etpu_rop *op) {
  const pn_op *o = op->params;
  const etpu_qview heat = qview(etpu_in(ip, op, 0)), shorts = qview(etpu_in(ip, op, 1)),
                   mids = qview(etpu_in(ip, op, 2));
  etpu_qview longs = {NULL, ETPU_FLOAT32, 0.0f, 0};
  if (o->longs) longs = qview(etpu_in(ip, op, 3));
  const etpu_posenet_outputs out = {(float *)etpu_out(ip, op, 0)->data, (float *)etpu_out(ip, op, 1)->data,
                                    (float *)etpu_out(ip, op, 2)->data, (float *)etpu_out(ip, op, 3)->data,
                                    o->longs ? (float *)etpu_out(ip, op, 4)->data : NULL};
  etpu_status st = etpu_posenet_decoder(&o->p, o->h, o->w, &heat, &shorts, &mids, &longs, &out, o->scratch,
                                        o->scratch_size);
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

const etpu_kernel_reg etpu_reg_posenet_decoder = {ETPU_OP_CUSTOM, "PosenetDecoderOp", pn_prepare, pn_eval, NULL};
