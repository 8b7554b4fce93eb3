/*
 * detection_postprocess.c — TFLite_Detection_PostProcess (postprocess.h),
 * following TensorFlow Lite's detection_postprocess.cc step by step:
 *
 *  1. decode: with (y, x, h, w) the (dequantized) encoding and (ay, ax, ah,
 *     aw) the anchor, in double: yc = y/y_scale·ah + ay, xc = x/x_scale·aw +
 *     ax, half_h = 0.5·exp(h/h_scale)·ah, half_w likewise; the box is
 *     (yc − half_h, xc − half_w, yc + half_h, xc + half_w) in float32. A box
 *     with ymin > ymax or xmin > xmax fails the op, as in TFLite.
 *  2. scores: uint8 scores become (float)(scale·(q − zp)) (TFLite's
 *     Dequantize); box encodings and anchors ((float)q − zp)·scale.
 *  3. single-class NMS: keep scores >= threshold, sort them decreasing
 *     (stable), then greedily select, dropping later boxes whose IoU with a
 *     selected one exceeds the IoU threshold, up to a maximum.
 *  4. fast NMS: each anchor's top classes (ties: lower class first); one NMS
 *     over the anchors' best scores with max_detections; output i, class c at
 *     slot i·max_classes_per_detection + c.
 *     regular NMS: one NMS per class with min(detections_per_class,
 *     max_detections); the selections are merged into one list sorted by
 *     decreasing score (on equal scores the later class first, as TFLite's
 *     inplace_merge with a >= comparator), truncated to max_detections.
 * Unused output entries are 0.
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "kernels/postprocess.h"

typedef struct box_info {
  int32_t index;
  float score;
} box_info;

/* The scratch regions, in order. */
typedef struct det_scratch {
  float *decoded;      /* N·4 */
  float *scores;       /* N·Cb */
  float *class_scores; /* N */
  float *keep_scores;  /* N */
  int32_t *keep_index; /* N */
  int32_t *order;      /* N */
  int32_t *tmp;        /* N */
  int32_t *selected;   /* N */
  int32_t *top_class;  /* N·ncat */
  box_info *info;      /* max_det + per_class */
  box_info *info_tmp;  /* max_det + per_class */
  uint8_t *active;     /* N */
} det_scratch;

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static int32_t categories(const etpu_detection_params *p) {
  return p->max_classes_per_detection < p->num_classes ? p->max_classes_per_detection : p->num_classes;
}

static int32_t per_class(const etpu_detection_params *p) {
  return p->detections_per_class < p->max_detections ? p->detections_per_class : p->max_detections;
}

/* Lays the regions out from base (NULL: only measures). */
static size_t layout(const etpu_detection_params *p, const etpu_detection_dims *d, uint8_t *base, det_scratch *s) {
  const size_t n = (size_t)d->num_boxes, cb = (size_t)d->num_classes_with_background;
  const size_t ncat = (size_t)categories(p), ninfo = (size_t)p->max_detections + (size_t)per_class(p);
  size_t off = 0;
#define ETPU_REGION(field, type, count)                                   \
  do {                                                                   \
    if (base) s->field = (type *)(void *)(base + off);                   \
    off += align8((count) * sizeof(type));                               \
  } while (0)
  ETPU_REGION(decoded, float, n * 4);
  ETPU_REGION(scores, float, n * cb);
  ETPU_REGION(class_scores, float, n);
  ETPU_REGION(keep_scores, float, n);
  ETPU_REGION(keep_index, int32_t, n);
  ETPU_REGION(order, int32_t, n);
  ETPU_REGION(tmp, int32_t, n);
  ETPU_REGION(selected, int32_t, n);
  ETPU_REGION(top_class, int32_t, n * ncat);
  ETPU_REGION(info, box_info, ninfo);
  ETPU_REGION(info_tmp, box_info, ninfo);
  ETPU_REGION(active, uint8_t, n);
#undef ETPU_REGION
  return off;
}

static bool params_ok(const etpu_detection_params *p, const etpu_detection_dims *d) {
  if (!p || !d) return false;
  if (p->max_detections < 1 || p->max_classes_per_detection < 1 || p->detections_per_class < 1 || p->num_classes < 1)
    return false;
  if (d->num_boxes < 1 || d->box_code_size < 4 || d->num_classes_with_background < p->num_classes ||
      d->num_classes_with_background > p->num_classes + 1)
    return false;
  /* keep every product well inside size_t and int32 index arithmetic */
  if (d->num_boxes > (1 << 24) || d->num_classes_with_background > (1 << 16) || p->max_detections > (1 << 16) ||
      p->max_classes_per_detection > (1 << 16) || p->detections_per_class > (1 << 24))
    return false;
  return (int64_t)d->num_boxes * d->num_classes_with_background < (1 << 30);
}

size_t etpu_detection_postprocess_get_buffer_size(const etpu_detection_params *params,
                                                  const etpu_detection_dims *dims) {
  if (!params_ok(params, dims)) return 0;
  det_scratch s;
  return layout(params, dims, NULL, &s);
}

/* ---- decoding -------------------------------------------------------------- */

static float dq_box(const etpu_qview *v, size_t i) {
  if (v->type == ETPU_FLOAT32) {
    float f;
    memcpy(&f, (const uint8_t *)v->data + 4 * i, 4);
    return f;
  }
  return ((float)((const uint8_t *)v->data)[i] - (float)v->zero_point) * v->scale;
}

static bool decode(const etpu_detection_params *p, const etpu_detection_dims *d, const etpu_qview *enc,
                   const etpu_qview *anc, float *decoded) {
  for (int32_t i = 0; i < d->num_boxes; i++) {
    const size_t e = (size_t)i * (size_t)d->box_code_size, a = (size_t)i * 4;
    const double y = dq_box(enc, e), x = dq_box(enc, e + 1), h = dq_box(enc, e + 2), w = dq_box(enc, e + 3);
    const double ay = dq_box(anc, a), ax = dq_box(anc, a + 1), ah = dq_box(anc, a + 2), aw = dq_box(anc, a + 3);
    const float yc = (float)(y / (double)p->y_scale * ah + ay);
    const float xc = (float)(x / (double)p->x_scale * aw + ax);
    const float half_h = (float)(0.5 * exp(h / (double)p->h_scale) * ah);
    const float half_w = (float)(0.5 * exp(w / (double)p->w_scale) * aw);
    float *b = decoded + 4 * (size_t)i;
    b[0] = yc - half_h;
    b[1] = xc - half_w;
    b[2] = yc + half_h;
    b[3] = xc + half_w;
    if (b[0] > b[2] || b[1] > b[3]) return false;
  }
  return true;
}

/* ---- sorting and NMS ------------------------------------------------------- */

/* Stable sort of idx[0..n) by values[idx] decreasing (bottom-up merge). */
static void sort_decreasing(const float *values, int32_t *idx, int32_t *tmp, int32_t n) {
  for (int32_t width = 1; width < n; width *= 2) {
    for (int32_t lo = 0; lo < n; lo += 2 * width) {
      const int32_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
      int32_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = values[idx[j]] > values[idx[i]] ? idx[j++] : idx[i++];
      while (i < mid) tmp[k++] = idx[i++];
      while (j < hi) tmp[k++] = idx[j++];
    }
    memcpy(idx, tmp, (size_t)n * sizeof *idx);
  }
}

static float iou(const float *decoded, int32_t i, int32_t j) {
  const float *a = decoded + 4 * (size_t)i, *b = decoded + 4 * (size_t)j;
  const float area_i = (a[2] - a[0]) * (a[3] - a[1]);
  const float area_j = (b[2] - b[0]) * (b[3] - b[1]);
  if (area_i <= 0 || area_j <= 0) return 0.0f;
  const float ymin = fmaxf(a[0], b[0]), xmin = fmaxf(a[1], b[1]);
  const float ymax = fminf(a[2], b[2]), xmax = fminf(a[3], b[3]);
  const float inter = fmaxf(ymax - ymin, 0.0f) * fmaxf(xmax - xmin, 0.0f);
  return inter / (area_i + area_j - inter);
}

/* NMS over scores[0..N); writes anchor indices to s->selected, returns count. */
static int32_t nms_single(const etpu_detection_params *p, int32_t n, const float *scores, int32_t max_det,
                          det_scratch *s) {
  int32_t kept = 0;
  for (int32_t i = 0; i < n; i++)
    if (scores[i] >= p->score_threshold) {
      s->keep_scores[kept] = scores[i];
      s->keep_index[kept] = i;
      kept++;
    }
  for (int32_t i = 0; i < kept; i++) s->order[i] = i;
  sort_decreasing(s->keep_scores, s->order, s->tmp, kept);
  const int32_t output_size = kept < max_det ? kept : max_det;
  int32_t nsel = 0, active_left = kept;
  for (int32_t i = 0; i < kept; i++) s->active[i] = 1;
  for (int32_t i = 0; i < kept; i++) {
    if (active_left == 0 || nsel >= output_size) break;
    if (!s->active[i]) continue;
    const int32_t bi = s->keep_index[s->order[i]];
    s->selected[nsel++] = bi;
    s->active[i] = 0;
    active_left--;
    for (int32_t j = i + 1; j < kept; j++)
      if (s->active[j] && iou(s->decoded, bi, s->keep_index[s->order[j]]) > p->iou_threshold) {
        s->active[j] = 0;
        active_left--;
      }
  }
  return nsel;
}

static void write_box(const etpu_detection_outputs *out, size_t slot, const float *box, float cls, float score) {
  memcpy(out->boxes + 4 * slot, box, 4 * sizeof(float));
  out->classes[slot] = cls;
  out->scores[slot] = score;
}

static void nms_fast(const etpu_detection_params *p, const etpu_detection_dims *d, det_scratch *s,
                     const etpu_detection_outputs *out) {
  const int32_t n = d->num_boxes, cb = d->num_classes_with_background, off = cb - p->num_classes;
  const int32_t ncat = categories(p);
  for (int32_t r = 0; r < n; r++) {
    const float *bs = s->scores + (size_t)r * (size_t)cb + off;
    int32_t *top = s->top_class + (size_t)r * (size_t)ncat;
    /* top ncat classes by (score decreasing, class increasing) */
    for (int32_t k = 0; k < ncat; k++) {
      int32_t best = -1;
      for (int32_t c = 0; c < p->num_classes; c++) {
        bool taken = false;
        for (int32_t q = 0; q < k && !taken; q++) taken = top[q] == c;
        if (!taken && (best < 0 || bs[c] > bs[best])) best = c;
      }
      top[k] = best;
    }
    s->class_scores[r] = bs[top[0]];
  }
  const int32_t nsel = nms_single(p, n, s->class_scores, p->max_detections, s);
  for (int32_t i = 0; i < nsel; i++) {
    const int32_t a = s->selected[i];
    const float *bs = s->scores + (size_t)a * (size_t)cb + off;
    const int32_t *top = s->top_class + (size_t)a * (size_t)ncat;
    for (int32_t c = 0; c < ncat; c++)
      write_box(out, (size_t)p->max_classes_per_detection * (size_t)i + (size_t)c, s->decoded + 4 * (size_t)a,
                (float)top[c], bs[top[c]]);
  }
  out->num_detections[0] = (float)nsel;
}

static void nms_regular(const etpu_detection_params *p, const etpu_detection_dims *d, det_scratch *s,
                        const etpu_detection_outputs *out) {
  const int32_t n = d->num_boxes, cb = d->num_classes_with_background, off = cb - p->num_classes;
  const int32_t pc = per_class(p);
  int32_t size = 0;
  for (int32_t col = 0; col < p->num_classes; col++) {
    for (int32_t r = 0; r < n; r++) s->class_scores[r] = s->scores[(size_t)r * (size_t)cb + (size_t)(col + off)];
    const int32_t nsel = nms_single(p, n, s->class_scores, pc, s);
    if (nsel == 0) continue;
    /* merge [0, size) with the new, already decreasing, selections; ties
     * take the new element first */
    int32_t i = 0, j = 0, k = 0;
    while (i < size && j < nsel) {
      const box_info nb = {s->selected[j] * cb + col + off, s->class_scores[s->selected[j]]};
      if (nb.score >= s->info[i].score) {
        s->info_tmp[k++] = nb;
        j++;
      } else {
        s->info_tmp[k++] = s->info[i++];
      }
    }
    while (i < size) s->info_tmp[k++] = s->info[i++];
    while (j < nsel) {
      s->info_tmp[k++] = (box_info){s->selected[j] * cb + col + off, s->class_scores[s->selected[j]]};
      j++;
    }
    size = k < p->max_detections ? k : p->max_detections;
    memcpy(s->info, s->info_tmp, (size_t)size * sizeof *s->info);
  }
  for (int32_t i = 0; i < size; i++) {
    const int32_t anchor = s->info[i].index / cb;
    const int32_t cls = s->info[i].index - anchor * cb - off;
    write_box(out, (size_t)i, s->decoded + 4 * (size_t)anchor, (float)cls, s->info[i].score);
  }
  out->num_detections[0] = (float)size;
}

etpu_status etpu_detection_postprocess(const etpu_detection_params *params, const etpu_detection_dims *dims,
                                       const etpu_qview *box_encodings, const etpu_qview *scores,
                                       const etpu_qview *anchors, const etpu_detection_outputs *out, void *scratch,
                                       size_t scratch_size) {
  const char *k = "etpu_detection_postprocess";
  if (!params_ok(params, dims))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: parameters or sizes out of range", k);
  if (!box_encodings || !scores || !anchors || !out || !box_encodings->data || !scores->data || !anchors->data ||
      !out->boxes || !out->classes || !out->scores || !out->num_detections || !scratch)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  const etpu_qview *views[3] = {box_encodings, scores, anchors};
  for (int i = 0; i < 3; i++) {
    if (views[i]->type != ETPU_FLOAT32 && views[i]->type != ETPU_UINT8)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: inputs must be float32 or uint8", k);
    if (views[i]->type == ETPU_UINT8 && !(isfinite(views[i]->scale) && views[i]->scale > 0.0f))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: uint8 input without a usable scale", k);
  }
  if ((box_encodings->type == ETPU_FLOAT32) != (anchors->type == ETPU_FLOAT32))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: box encodings and anchors must have the same type", k);
  if (!(params->iou_threshold > 0.0f && params->iou_threshold <= 1.0f))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: IoU threshold %g outside (0, 1]", k, (double)params->iou_threshold);
  det_scratch s;
  const size_t need = layout(params, dims, NULL, &s);
  if (scratch_size < need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes; needs %zu", k, scratch_size, need);
  layout(params, dims, scratch, &s);
  if (!decode(params, dims, box_encodings, anchors, s.decoded))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: a decoded box has ymin > ymax or xmin > xmax", k);
  const size_t nsc = (size_t)dims->num_boxes * (size_t)dims->num_classes_with_background;
  for (size_t i = 0; i < nsc; i++) {
    if (scores->type == ETPU_FLOAT32) {
      memcpy(&s.scores[i], (const uint8_t *)scores->data + 4 * i, 4);
    } else {
      const int32_t q = ((const uint8_t *)scores->data)[i];
      s.scores[i] = (float)((double)scores->scale * (double)(q - scores->zero_point));
    }
  }
  const size_t total = (size_t)params->max_detections * (size_t)params->max_classes_per_detection;
  memset(out->boxes, 0, total * 4 * sizeof(float));
  memset(out->classes, 0, total * sizeof(float));
  memset(out->scores, 0, total * sizeof(float));
  if (params->use_regular_nms) nms_regular(params, dims, &s, out);
  else nms_fast(params, dims, &s, out);
  return ETPU_OK;
}
