/*
 * custom_detection_postprocess.c — runtime glue of the custom op
 * TFLite_Detection_PostProcess (kernel: kernels/postprocess.h). Options come
 * from the op's FlexBuffers map (max_detections, max_classes_per_detection,
 * detections_per_class [100], use_regular_nms [false], nms_score_threshold,
 * nms_iou_threshold, num_classes, y/x/h/w_scale), read as TFLite does.
 *
 * Inputs: box encodings [1, N, >=4], class scores [1, N, C(+1)], anchors
 * [N, 4], float32 or uint8. Outputs (float32), whose shapes TFLite sets at
 * prepare and models leave empty: boxes [1, D, 4], classes [1, D], scores
 * [1, D], count [1], with D = max_detections · max_classes_per_detection;
 * prepare gives empty output shapes those sizes before memory is planned.
 *
 * Both profiles compute the same float arithmetic (TensorFlow Lite's kernel;
 * TFLite Micro has no uint8 version of this op).
 */
#include <math.h>
#include <string.h>

#include "kernels/postprocess.h"
#include "runtime/interp.h"
#include "model/flexbuffers.h"
#include "runtime/ops/tensor_glue.h"

typedef struct det_op {
  etpu_detection_params p;
  etpu_detection_dims d;
  void *scratch;
  size_t scratch_size;
} det_op;

static etpu_status get_opt(etpu_interp *ip, etpu_rop *op, const char *key, bool required, etpu_flex_value *v) {
  if (!etpu_flex_map_get(op->gop->custom, op->gop->custom_size, key, v))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "custom options are not a readable FlexBuffers map");
  if (required && !v->present) return etpu_op_fail(ip, op, ETPU_MALFORMED, "custom option '%s' is missing", key);
  return ETPU_OK;
}

static etpu_status view_of(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *t, const char *what) {
  if (t->type != ETPU_FLOAT32 && t->type != ETPU_UINT8)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' is %s; float32 or uint8 is supported", what, t->name,
                        etpu_dtype_name(t->type));
  if (t->type == ETPU_UINT8) return etpu_op_check_quant(ip, op, t, what);
  return ETPU_OK;
}

static etpu_status det_prepare(etpu_interp *ip, etpu_rop *op) {
  etpu_status st = etpu_op_check_io(ip, op, 3, 3, 4);
  if (st != ETPU_OK) return st;
  det_op *o = etpu_op_alloc(ip, sizeof *o);
  if (!o) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = o;
  etpu_rtensor *enc = etpu_in(ip, op, 0), *sc = etpu_in(ip, op, 1), *anc = etpu_in(ip, op, 2);
  if ((st = view_of(ip, op, enc, "box encodings")) != ETPU_OK) return st;
  if ((st = view_of(ip, op, sc, "scores")) != ETPU_OK) return st;
  if ((st = view_of(ip, op, anc, "anchors")) != ETPU_OK) return st;
  if ((enc->type == ETPU_FLOAT32) != (anc->type == ETPU_FLOAT32))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "box encodings and anchors must have the same type");
  if (enc->rank != 3 || sc->rank != 3 || anc->rank != 2 || enc->dims[0] != 1 || sc->dims[0] != 1 ||
      sc->dims[1] != enc->dims[1] || anc->dims[0] != enc->dims[1] || anc->dims[1] != 4 || enc->dims[2] < 4)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "inputs must be [1, N, >=4], [1, N, C] and [N, 4]");
  etpu_flex_value v;
  static const char *const required[] = {"max_detections", "max_classes_per_detection", "nms_score_threshold",
                                         "nms_iou_threshold", "num_classes", "y_scale", "x_scale", "h_scale",
                                         "w_scale"};
  double vals[9];
  for (int i = 0; i < 9; i++) {
    if ((st = get_opt(ip, op, required[i], true, &v)) != ETPU_OK) return st;
    vals[i] = v.f;
    if (i == 0 || i == 1 || i == 4) vals[i] = (double)v.i;
  }
  o->p.max_detections = (int32_t)vals[0];
  o->p.max_classes_per_detection = (int32_t)vals[1];
  o->p.score_threshold = (float)vals[2];
  o->p.iou_threshold = (float)vals[3];
  o->p.num_classes = (int32_t)vals[4];
  o->p.y_scale = (float)vals[5];
  o->p.x_scale = (float)vals[6];
  o->p.h_scale = (float)vals[7];
  o->p.w_scale = (float)vals[8];
  if ((st = get_opt(ip, op, "detections_per_class", false, &v)) != ETPU_OK) return st;
  o->p.detections_per_class = v.present ? (int32_t)v.i : 100;
  if ((st = get_opt(ip, op, "use_regular_nms", false, &v)) != ETPU_OK) return st;
  o->p.use_regular_nms = v.present && v.i != 0;
  o->d.num_boxes = enc->dims[1];
  o->d.box_code_size = enc->dims[2];
  o->d.num_classes_with_background = sc->dims[2];
  if (vals[0] < 1 || vals[0] > 65536 || vals[1] < 1 || vals[1] > 65536 || vals[4] < 1 || vals[4] > 65536 ||
      o->p.detections_per_class < 1 || !(o->p.iou_threshold > 0.0f && o->p.iou_threshold <= 1.0f) ||
      !isfinite(o->p.score_threshold))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "options out of range (max_detections %g, classes %g, IoU %g)",
                        vals[0], vals[4], vals[3]);
  o->scratch_size = etpu_detection_postprocess_get_buffer_size(&o->p, &o->d);
  if (!o->scratch_size)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "%d classes (+background) do not fit %d score columns",
                        o->p.num_classes, o->d.num_classes_with_background);
  o->scratch = etpu_op_alloc(ip, o->scratch_size);
  if (!o->scratch) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory for %zu scratch bytes", o->scratch_size);
  const int32_t D = o->p.max_detections * o->p.max_classes_per_detection;
  const int32_t s_boxes[3] = {1, D, 4}, s_det[2] = {1, D}, s_num[1] = {1};
  if ((st = etpu_glue_float_output(ip, op, 0, 3, s_boxes)) != ETPU_OK) return st;
  if ((st = etpu_glue_float_output(ip, op, 1, 2, s_det)) != ETPU_OK) return st;
  if ((st = etpu_glue_float_output(ip, op, 2, 2, s_det)) != ETPU_OK) return st;
  return etpu_glue_float_output(ip, op, 3, 1, s_num);
}

static etpu_qview qview(const etpu_rtensor *t) {
  etpu_qview v = {t->data, t->type, t->scale, t->zero_point};
  return v;
}

static etpu_status det_eval(etpu_interp *ip, etpu_rop *op) {
  const det_op *o = op->params;
  const etpu_qview enc = qview(etpu_in(ip, op, 0)), sc = qview(etpu_in(ip, op, 1)), anc = qview(etpu_in(ip, op, 2));
  const etpu_detection_outputs out = {(float *)etpu_out(ip, op, 0)->data, (float *)etpu_out(ip, op, 1)->data,
                                      (float *)etpu_out(ip, op, 2)->data, (float *)etpu_out(ip, op, 3)->data};
  etpu_status st = etpu_detection_postprocess(&o->p, &o->d, &enc, &sc, &anc, &out, o->scratch, o->scratch_size);
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

const etpu_kernel_reg etpu_reg_detection_postprocess = {ETPU_OP_CUSTOM, "TFLite_Detection_PostProcess", det_prepare,
                                                        det_eval, NULL};
