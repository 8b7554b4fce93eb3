/*
 * task.c — what a model's outputs mean, and their values decoded: object
 * detection (the four outputs of TensorFlow Lite's TFLite_Detection_PostProcess
 * op: boxes [1,D,4] as ymin, xmin, ymax, xmax in 0..1, classes [1,D],
 * scores [1,D], count [1]), pose (Coral's PosenetDecoderOp: keypoints
 * [1,P,17,2] as y, x in input pixels, keypoint scores [1,P,17], pose scores
 * [1,P], count [1]; MoveNet's [1,1,17,3] as y, x in 0..1 and score),
 * segmentation (a class map [1,H,W] of integers such as DeepLab's ArgMax, or
 * logits [1,H,W,C]) and classification (one row of scores).
 *
 * Recognition reads only the graph (ops and output shapes), so it works
 * before a run and gives the same answer for every input. Decoding reads the
 * interpreter's outputs after an invoke through the public API and turns
 * them into image pixels of an image stretched to the input (what
 * etpu_image_to_tensor does): no letterbox and no crop to undo. Nothing here
 * runs a kernel; the values are the ops' own, only scaled and filtered.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "etpu/etpu.h"

#define DET_OP "TFLite_Detection_PostProcess"
#define POSENET_OP "PosenetDecoderOp"
#define MAX_CLASSES 65536u

const char *etpu_task_name(int task) {
  switch (task) {
    case ETPU_TASK_NONE: return "none";
    case ETPU_TASK_CLASSIFY: return "classify";
    case ETPU_TASK_DETECT: return "detect";
    case ETPU_TASK_SEGMENT: return "segment";
    case ETPU_TASK_POSE: return "pose";
    default: return "unknown";
  }
}

static const char *const k_keypoints[ETPU_POSE_KEYPOINTS] = {
    "nose",       "left_eye",   "right_eye",  "left_ear",    "right_ear",   "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip",  "left_knee",  "right_knee", "left_ankle",  "right_ankle"};

const char *etpu_pose_keypoint_name(uint32_t k) { return k < ETPU_POSE_KEYPOINTS ? k_keypoints[k] : ""; }

/* Where a task's values are: graph output positions, and which layout. */
typedef enum layout { L_NONE, L_DETECT, L_POSENET, L_MOVENET, L_ARGMAX, L_LOGITS, L_SCORES } layout;
typedef struct task_io {
  layout kind;
  uint32_t out[4]; /* graph output positions (detect, PoseNet: the op's outputs 0..3) */
} task_io;

static bool output_info(const etpu_model *m, uint32_t pos, etpu_tensor_info *t) {
  int32_t ti = etpu_model_output(m, 0, pos);
  return ti >= 0 && etpu_model_tensor(m, 0, (uint32_t)ti, t) == ETPU_OK;
}

/* The graph output position of tensor ti, or -1. */
static int32_t output_position(const etpu_model *m, int32_t ti) {
  for (uint32_t k = 0; k < etpu_model_output_count(m, 0); k++)
    if (etpu_model_output(m, 0, k) == ti) return (int32_t)k;
  return -1;
}

/* A custom op `name` whose first four outputs are all graph outputs. */
static bool find_custom(const etpu_model *m, const char *name, task_io *io) {
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, i, &op) != ETPU_OK || op.code != ETPU_OP_CUSTOM || strcmp(op.name, name) ||
        op.output_count < 4)
      continue;
    bool all = true;
    for (uint32_t k = 0; k < 4 && all; k++) {
      int32_t p = output_position(m, op.outputs[k]);
      all = p >= 0;
      if (all) io->out[k] = (uint32_t)p;
    }
    if (all) return true;
  }
  return false;
}

static bool numeric(const etpu_tensor_info *t) {
  switch (t->type) {
    case ETPU_FLOAT32: case ETPU_UINT8: case ETPU_INT8: case ETPU_INT16: case ETPU_INT32: case ETPU_INT64:
      return true;
    default:
      return false;
  }
}

static bool integer_map(const etpu_tensor_info *t) {
  return t->quant_count == 0 && (t->type == ETPU_UINT8 || t->type == ETPU_INT8 || t->type == ETPU_INT16 ||
                                 t->type == ETPU_INT32 || t->type == ETPU_INT64);
}

/* The output layout of one graph output for the task's simple kinds. */
static layout output_layout(const etpu_tensor_info *t, etpu_task task) {
  if (!numeric(t)) return L_NONE;
  const int32_t *s = t->shape;
  if (task == ETPU_TASK_POSE)
    return t->rank == 4 && s[0] == 1 && s[1] == 1 && s[2] == (int32_t)ETPU_POSE_KEYPOINTS && s[3] == 3 &&
                   (t->type == ETPU_FLOAT32 || t->quant_count == 1)
               ? L_MOVENET
               : L_NONE;
  if (task == ETPU_TASK_SEGMENT) {
    if (t->rank == 3 && s[0] == 1 && s[1] >= 2 && s[2] >= 2 && integer_map(t)) return L_ARGMAX;
    if (t->rank == 4 && s[0] == 1 && s[1] >= 2 && s[2] >= 2 && s[3] >= 2 &&
        (t->type == ETPU_FLOAT32 || t->quant_count == 1))
      return L_LOGITS;
    return L_NONE;
  }
  if (task == ETPU_TASK_CLASSIFY) {
    if (t->rank == 0) return L_NONE;
    for (uint32_t i = 0; i + 1 < t->rank; i++)
      if (s[i] != 1) return L_NONE;
    return s[t->rank - 1] >= 2 ? L_SCORES : L_NONE;
  }
  return L_NONE;
}

static task_io find_task(const etpu_model *m, etpu_task task) {
  task_io io = {L_NONE, {0, 0, 0, 0}};
  if (task == ETPU_TASK_DETECT) {
    if (find_custom(m, DET_OP, &io)) io.kind = L_DETECT;
    return io;
  }
  if (task == ETPU_TASK_POSE && find_custom(m, POSENET_OP, &io)) {
    io.kind = L_POSENET;
    return io;
  }
  for (uint32_t k = 0; k < etpu_model_output_count(m, 0); k++) {
    etpu_tensor_info t;
    if (!output_info(m, k, &t)) continue;
    layout l = output_layout(&t, task);
    if (l != L_NONE) {
      io.kind = l;
      io.out[0] = k;
      return io;
    }
  }
  return io;
}

etpu_status etpu_task_detect(const etpu_model *model, etpu_task *task_out) {
  if (!model || !task_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_detect: NULL argument");
  static const etpu_task order[] = {ETPU_TASK_DETECT, ETPU_TASK_POSE, ETPU_TASK_SEGMENT, ETPU_TASK_CLASSIFY};
  *task_out = ETPU_TASK_NONE;
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    if (find_task(model, order[i]).kind != L_NONE) {
      *task_out = order[i];
      break;
    }
  return ETPU_OK;
}

static const char *task_needs(etpu_task task) {
  switch (task) {
    case ETPU_TASK_DETECT: return "a " DET_OP " op whose 4 outputs (boxes, classes, scores, count) are graph outputs";
    case ETPU_TASK_POSE:
      return "a " POSENET_OP " op whose first 4 outputs are graph outputs, or keypoints [1,1,17,3] (MoveNet)";
    case ETPU_TASK_SEGMENT: return "a class map [1,H,W] of integers or logits [1,H,W,C] (H, W, C >= 2)";
    default: return "one row of at least 2 scores ([N], [1,N], [1,1,1,N])";
  }
}

etpu_status etpu_task_check(const etpu_model *model, etpu_task task) {
  if (!model) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_check: NULL model");
  if (task < ETPU_TASK_CLASSIFY || task > ETPU_TASK_POSE)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_check: task %d is not classify, detect, segment or pose",
                     (int)task);
  if (find_task(model, task).kind != L_NONE) return ETPU_OK;
  char outs[512];
  size_t len = 0;
  outs[0] = 0;
  uint32_t n = etpu_model_output_count(model, 0);
  for (uint32_t k = 0; k < n && k < 4 && len < sizeof outs; k++) {
    etpu_tensor_info t;
    if (!output_info(model, k, &t)) continue;
    len += (size_t)snprintf(outs + len, sizeof outs - len, "%s%u '%.64s' %s[", k ? ", " : "", k, t.name,
                            etpu_dtype_name(t.type));
    for (uint32_t d = 0; d < t.rank && len < sizeof outs; d++)
      len += (size_t)snprintf(outs + len, sizeof outs - len, "%s%d", d ? "," : "", t.shape[d]);
    if (len < sizeof outs) len += (size_t)snprintf(outs + len, sizeof outs - len, "]");
  }
  return etpu_fail(ETPU_UNSUPPORTED, "%s: not a %s model: it needs %s; its output%s %s%s", etpu_model_label(model),
                   etpu_task_name(task), task_needs(task), n == 1 ? " is" : "s are", outs, n > 4 ? ", ..." : "");
}

void etpu_task_options_init(etpu_task_options *options) {
  if (!options) return;
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
  options->threshold = 0.5f;
}

void etpu_task_result_free(etpu_task_result *r) {
  if (!r) return;
  etpu_free(r->detections);
  etpu_free(r->poses);
  etpu_free(r->mask);
  etpu_free(r->class_share);
  etpu_free(r);
}

/* ---- decoding ----------------------------------------------------------- */

/* An output's bytes and its description with the interpreter's shape. */
typedef struct out_view {
  etpu_tensor_info t;
  const void *data;
  size_t size;
  size_t count; /* elements */
} out_view;

static etpu_status view(const etpu_model *m, const etpu_interp *ip, uint32_t pos, out_view *v) {
  int32_t ti = etpu_model_output(m, 0, pos);
  etpu_status st = etpu_model_tensor(m, 0, (uint32_t)ti, &v->t);
  if (st == ETPU_OK) st = etpu_interp_output(ip, pos, &v->data, &v->size);
  if (st != ETPU_OK) return st;
  uint32_t rank;
  const int32_t *dims;
  if (etpu_interp_tensor_shape(ip, (uint32_t)ti, &rank, &dims) == ETPU_OK) {
    v->t.rank = rank;
    v->t.shape = dims;
  }
  size_t esize = etpu_dtype_size(v->t.type);
  v->count = esize ? v->size / esize : 0;
  return ETPU_OK;
}

/* Element i as a real number (dequantized when quantized). */
static double value(const out_view *v, size_t i) {
  const uint8_t *p = (const uint8_t *)v->data;
  double x;
  switch (v->t.type) {
    case ETPU_FLOAT32: { float f; memcpy(&f, p + 4 * i, 4); return f; }
    case ETPU_UINT8: x = p[i]; break;
    case ETPU_INT8: x = (int8_t)p[i]; break;
    case ETPU_INT16: { int16_t q; memcpy(&q, p + 2 * i, 2); x = q; break; }
    case ETPU_INT32: { int32_t q; memcpy(&q, p + 4 * i, 4); x = q; break; }
    case ETPU_INT64: { int64_t q; memcpy(&q, p + 8 * i, 8); x = (double)q; break; }
    default: return NAN;
  }
  if (v->t.quant_count >= 1) x = (x - (double)(v->t.zero_point ? v->t.zero_point[0] : 0)) * v->t.scale[0];
  return x;
}

static float clampf(double v, double hi) { return (float)(v < 0 ? 0 : v > hi ? hi : v); }

/* A count output: finite, 0 <= count, at most `cap`. */
static etpu_status read_count(const etpu_model *m, const out_view *v, size_t cap, const char *what, uint32_t *n) {
  double c = v->count ? value(v, 0) : NAN;
  if (!(c >= 0) || c > (double)cap)
    return etpu_fail(ETPU_MALFORMED, "%s: output '%s': %s count %g is not in 0..%zu", etpu_model_label(m), v->t.name,
                     what, c, cap);
  *n = (uint32_t)c;
  return ETPU_OK;
}

static etpu_status decode_detect(const etpu_model *m, const etpu_interp *ip, const task_io *io, float thr,
                                 etpu_task_result *r) {
  out_view box, cls, sc, cnt;
  ETPU_TRY(view(m, ip, io->out[0], &box));
  ETPU_TRY(view(m, ip, io->out[1], &cls));
  ETPU_TRY(view(m, ip, io->out[2], &sc));
  ETPU_TRY(view(m, ip, io->out[3], &cnt));
  size_t cap = sc.count < cls.count ? sc.count : cls.count;
  if (box.count / 4 < cap) cap = box.count / 4;
  uint32_t n = 0;
  ETPU_TRY(read_count(m, &cnt, cap, "detection", &n));
  r->detections = etpu_calloc(n ? n : 1, sizeof *r->detections);
  if (!r->detections) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  const double w = r->image_width, h = r->image_height;
  for (uint32_t i = 0; i < n; i++) {
    double s = value(&sc, i), c = value(&cls, i);
    if (!(c >= 0 && c < 2147483648.0) || s != s)
      return etpu_fail(ETPU_MALFORMED, "%s: detection %u: class %g or score %g is not a class index and a number",
                       etpu_model_label(m), i, c, s);
    if (!(s >= thr)) continue;
    double y0 = value(&box, 4 * i), x0 = value(&box, 4 * i + 1), y1 = value(&box, 4 * i + 2),
           x1 = value(&box, 4 * i + 3);
    if (!(isfinite(y0) && isfinite(x0) && isfinite(y1) && isfinite(x1)))
      return etpu_fail(ETPU_MALFORMED, "%s: detection %u: box corner is not a number", etpu_model_label(m), i);
    etpu_detection *d = &r->detections[r->detection_count++];
    d->class_id = (uint32_t)c;
    d->score = (float)s;
    d->xmin = clampf(x0 * w, w);
    d->ymin = clampf(y0 * h, h);
    d->xmax = clampf(x1 * w, w);
    d->ymax = clampf(y1 * h, h);
  }
  return ETPU_OK;
}

static etpu_status decode_pose(const etpu_model *m, const etpu_interp *ip, const task_io *io, float thr,
                               etpu_task_result *r) {
  const uint32_t K = ETPU_POSE_KEYPOINTS;
  out_view kp, ks, ps, cnt;
  uint32_t n = 1;
  ETPU_TRY(view(m, ip, io->out[0], &kp));
  double sx, sy; /* keypoint units to image pixels */
  if (io->kind == L_POSENET) {
    ETPU_TRY(view(m, ip, io->out[1], &ks));
    ETPU_TRY(view(m, ip, io->out[2], &ps));
    ETPU_TRY(view(m, ip, io->out[3], &cnt));
    size_t cap = ps.count;
    if (ks.count / K < cap) cap = ks.count / K;
    if (kp.count / (2 * K) < cap) cap = kp.count / (2 * K);
    ETPU_TRY(read_count(m, &cnt, cap, "pose", &n));
    sx = (double)r->image_width / r->input_width;
    sy = (double)r->image_height / r->input_height;
  } else {
    if (kp.count < 3 * K)
      return etpu_fail(ETPU_MALFORMED, "%s: output '%s' holds %zu values; 51 keypoint values expected",
                       etpu_model_label(m), kp.t.name, kp.count);
    sx = r->image_width;
    sy = r->image_height;
  }
  r->poses = etpu_calloc(n ? n : 1, sizeof *r->poses);
  if (!r->poses) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  for (uint32_t p = 0; p < n; p++) {
    etpu_pose pose;
    double sum = 0;
    for (uint32_t k = 0; k < K; k++) {
      double y, x, s;
      if (io->kind == L_POSENET) {
        y = value(&kp, 2 * (p * K + k));
        x = value(&kp, 2 * (p * K + k) + 1);
        s = value(&ks, p * K + k);
      } else {
        y = value(&kp, 3 * k);
        x = value(&kp, 3 * k + 1);
        s = value(&kp, 3 * k + 2);
      }
      if (!(isfinite(x) && isfinite(y) && isfinite(s)))
        return etpu_fail(ETPU_MALFORMED, "%s: pose %u keypoint %s is not a number", etpu_model_label(m), p,
                         k_keypoints[k]);
      pose.keypoints[k].x = (float)(x * sx);
      pose.keypoints[k].y = (float)(y * sy);
      pose.keypoints[k].score = (float)s;
      sum += s;
    }
    pose.score = io->kind == L_POSENET ? (float)value(&ps, p) : (float)(sum / K);
    if (io->kind == L_POSENET && !(pose.score >= thr)) continue;
    r->poses[r->pose_count++] = pose;
  }
  return ETPU_OK;
}

/* sized: the image size was given, or is the input's; else the map's. */
static etpu_status decode_segment(const etpu_model *m, const etpu_interp *ip, const task_io *io, bool sized,
                                  etpu_task_result *r) {
  out_view v;
  ETPU_TRY(view(m, ip, io->out[0], &v));
  const uint32_t mh = (uint32_t)v.t.shape[1], mw = (uint32_t)v.t.shape[2];
  const uint32_t c = io->kind == L_LOGITS ? (uint32_t)v.t.shape[3] : 1;
  if (c > MAX_CLASSES || v.count < (size_t)mh * mw * c)
    return etpu_fail(ETPU_MALFORMED, "%s: output '%s': %zu values for a %ux%u map of %u class%s", etpu_model_label(m),
                     v.t.name, v.count, mw, mh, c, c == 1 ? "" : "es");
  uint16_t *map = etpu_malloc((size_t)mh * mw * sizeof *map);
  if (!map) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  uint32_t classes = io->kind == L_LOGITS ? c : 0;
  for (size_t i = 0; i < (size_t)mh * mw; i++) {
    if (io->kind == L_ARGMAX) {
      double x = value(&v, i);
      if (!(x >= 0 && x < MAX_CLASSES)) {
        etpu_free(map);
        return etpu_fail(ETPU_MALFORMED, "%s: output '%s': class %g at pixel (%zu, %zu) is not in 0..65535",
                         etpu_model_label(m), v.t.name, x, i % mw, i / mw);
      }
      map[i] = (uint16_t)x;
      if (map[i] + 1u > classes) classes = map[i] + 1u;
    } else {
      uint32_t best = 0;
      double bv = value(&v, i * c);
      for (uint32_t k = 1; k < c; k++) {
        double x = value(&v, i * c + k);
        if (x > bv || bv != bv) {
          bv = x;
          best = k;
        }
      }
      map[i] = (uint16_t)best;
    }
  }
  if (!sized) {
    r->image_width = r->input_width = mw;
    r->image_height = r->input_height = mh;
  }
  const uint32_t iw = r->image_width, ih = r->image_height;
  r->map_width = mw;
  r->map_height = mh;
  r->class_count = classes;
  r->mask = etpu_malloc((size_t)iw * ih * sizeof *r->mask);
  r->class_share = etpu_calloc(classes, sizeof *r->class_share);
  if (!r->mask || !r->class_share) {
    etpu_free(map);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  }
  for (uint32_t y = 0; y < ih; y++) {
    uint32_t sy = (uint32_t)(((uint64_t)y * 2 + 1) * mh / (2 * (uint64_t)ih)); /* floor((y + 0.5) · mh / ih) */
    for (uint32_t x = 0; x < iw; x++) {
      uint32_t sx = (uint32_t)(((uint64_t)x * 2 + 1) * mw / (2 * (uint64_t)iw));
      uint16_t k = map[(size_t)sy * mw + sx];
      r->mask[(size_t)y * iw + x] = k;
      r->class_share[k] += 1;
    }
  }
  for (uint32_t k = 0; k < classes; k++) r->class_share[k] /= (double)iw * ih;
  etpu_free(map);
  return ETPU_OK;
}

/* The input's width and height ([1,H,W,C], [H,W,C], [1,H,W]); 0 when not an image. */
static void input_size(const etpu_model *m, uint32_t *w, uint32_t *h) {
  etpu_tensor_info t;
  *w = *h = 0;
  if (etpu_model_input_count(m, 0) == 0 || etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &t) != ETPU_OK)
    return;
  const int32_t *s = t.shape;
  if ((t.rank == 4 && s[0] == 1) || (t.rank == 3 && s[0] == 1 && s[2] > 4)) s++;
  else if (t.rank != 3) return;
  if (s[0] > 0 && s[1] > 0) {
    *h = (uint32_t)s[0];
    *w = (uint32_t)s[1];
  }
}

etpu_status etpu_task_decode(const etpu_model *model, const etpu_interp *interp, etpu_task task,
                             const etpu_task_options *options, etpu_task_result **result_out) {
  etpu_task_options o;
  etpu_task_options_init(&o);
  if (!model || !interp || !result_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_decode: NULL argument");
  if (options) {
    if (options->struct_size < sizeof o)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_decode: options not filled by etpu_task_options_init");
    o = *options;
  }
  if ((o.image_width == 0) != (o.image_height == 0))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_decode: image size %ux%u: give both or neither",
                     o.image_width, o.image_height);
  if (o.threshold != o.threshold) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_task_decode: threshold is NaN");
  ETPU_TRY(etpu_task_check(model, task));
  task_io io = find_task(model, task);
  etpu_task_result *r = etpu_calloc(1, sizeof *r);
  if (!r) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  r->task = task;
  r->source_output = (int32_t)io.out[0];
  input_size(model, &r->input_width, &r->input_height);
  const bool sized = o.image_width || r->input_width;
  r->image_width = o.image_width ? o.image_width : r->input_width ? r->input_width : 1;
  r->image_height = o.image_height ? o.image_height : r->input_height ? r->input_height : 1;
  if (!r->input_width) { /* not an image input: coordinates stay the model's */
    r->input_width = r->image_width;
    r->input_height = r->image_height;
  }
  etpu_status st = ETPU_OK;
  if (io.kind == L_DETECT)
    st = decode_detect(model, interp, &io, o.threshold, r);
  else if (io.kind == L_POSENET || io.kind == L_MOVENET)
    st = decode_pose(model, interp, &io, o.threshold, r);
  else if (io.kind == L_ARGMAX || io.kind == L_LOGITS)
    st = decode_segment(model, interp, &io, sized, r);
  if (st != ETPU_OK) {
    etpu_task_result_free(r);
    return st;
  }
  *result_out = r;
  return ETPU_OK;
}
