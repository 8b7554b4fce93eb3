/*
 * posenet_decoder.c — PosenetDecoderOp (postprocess.h): multi-person pose
 * decoding after PersonLab (Papandreou et al., 2018), with the semantics of
 * libcoral's posenet decoder:
 *
 *  1. dequantize: heatmaps ((float)q − zp)·s; short, mid and long offsets
 *     likewise with s·(1/stride), so offsets are in heatmap cells;
 *  2. root candidates: every (cell, keypoint) whose logit is >= logodds(
 *     score_threshold) and is a maximum of its 3×3 neighbourhood, placed at
 *     the cell plus its short offset (clamped to the map), in a max-priority
 *     queue by score;
 *  3. per root (highest first), unless a previous pose has the same keypoint
 *     within nms_radius: decode the pose by a best-first walk over the 16-edge
 *     keypoint tree — a child is found by following the mid-range offset of
 *     the edge, then 5 steps of its short-range offset, sampling bilinearly;
 *     keypoint scores are sigmoid(logit); the pose score is their mean; poses
 *     below the threshold are dropped; at most max_detections poses;
 *  4. soft keypoint NMS: in decreasing pose score, a keypoint within
 *     nms_radius of the same keypoint of a higher-scoring pose no longer
 *     counts; the pose score becomes the mean of the remaining keypoint
 *     scores over 17; poses are re-sorted and those >= threshold output, with
 *     coordinates scaled by the stride to pixels;
 *  5. BodyPix: each 33×33 cell follows the long-range offsets (3 steps) of
 *     every keypoint and joins the pose whose keypoints are nearest in sum of
 *     squared distances.
 *
 * Order: the priority queues reproduce the binary heap of the GNU C++ library
 * (std::priority_queue), so equal scores pop in libcoral's order; sorts of
 * scores are stable.
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "kernels/postprocess.h"

enum { K = ETPU_POSENET_KEYPOINTS, E = ETPU_POSENET_EDGES, M = ETPU_POSENET_MASK_SIZE, REFINE = 5, DECODE_HEAP = 64 };

/* The keypoint tree: 16 forward edges (parent → child), then the same edges
 * backward. Keypoints: 0 nose, 1/2 left/right eye, 3/4 ears, 5/6 shoulders,
 * 7/8 elbows, 9/10 wrists, 11/12 hips, 13/14 knees, 15/16 ankles. */
static const uint8_t k_edges[2 * E][2] = {
    {0, 1},  {1, 3},  {0, 2},  {2, 4},  {0, 5},   {5, 7},   {7, 9},   {5, 11},  {11, 13}, {13, 15}, {0, 6},
    {6, 8},  {8, 10}, {6, 12}, {12, 14}, {14, 16}, {1, 0},   {3, 1},   {2, 0},   {4, 2},   {5, 0},   {7, 5},
    {9, 7},  {11, 5}, {13, 11}, {15, 13}, {6, 0},  {8, 6},   {10, 8},  {12, 6},  {14, 12}, {16, 14},
};

typedef struct kp {
  float y, x;
  int32_t id;
  float score;
} kp;

typedef struct pose {
  float y[K], x[K];
  float score[K];
} pose;

/* ---- a binary max-heap with the GNU C++ library's sift order --------------- */

static void heap_sift_up(kp *h, int64_t hole, int64_t top, kp v) {
  int64_t parent = (hole - 1) / 2;
  while (hole > top && h[parent].score < v.score) {
    h[hole] = h[parent];
    hole = parent;
    parent = (hole - 1) / 2;
  }
  h[hole] = v;
}

static void heap_push(kp *h, int64_t *n, kp v) {
  heap_sift_up(h, *n, 0, v);
  (*n)++;
}

static kp heap_pop(kp *h, int64_t *n) {
  const kp top = h[0];
  const int64_t len = *n - 1;
  if (len > 0) {
    const kp v = h[len];
    int64_t hole = 0, child = 0;
    while (child < (len - 1) / 2) {
      child = 2 * (child + 1);
      if (h[child].score < h[child - 1].score) child--;
      h[hole] = h[child];
      hole = child;
    }
    if ((len & 1) == 0 && child == (len - 2) / 2) {
      child = 2 * (child + 1);
      h[hole] = h[child - 1];
      hole = child - 1;
    }
    heap_sift_up(h, hole, 0, v);
  }
  *n = len;
  return top;
}

/* ---- sampling ------------------------------------------------------------- */

static inline float clampf(float v, float lo, float hi) { return v < lo ? lo : (hi < v ? hi : v); }

/* Bilinear sample of two channels of a [h][w][c] map at (y, x). */
static void sample2(const float *t, int32_t h, int32_t w, int32_t c, float y, float x, int32_t c0, int32_t c1,
                    float out[2]) {
  const float yp = clampf(y, 0.0f, (float)h - 1.0f), xp = clampf(x, 0.0f, (float)w - 1.0f);
  const int32_t yf = (int32_t)floorf(yp), yc = (int32_t)ceilf(yp), xf = (int32_t)floorf(xp), xc = (int32_t)ceilf(xp);
  const float yl = y - (float)yf, xl = x - (float)xf; /* from the unclamped coordinate, as libcoral */
  const size_t tl = ((size_t)yf * (size_t)w + (size_t)xf) * (size_t)c, tr = ((size_t)yf * (size_t)w + (size_t)xc) * (size_t)c;
  const size_t bl = ((size_t)yc * (size_t)w + (size_t)xf) * (size_t)c, br = ((size_t)yc * (size_t)w + (size_t)xc) * (size_t)c;
  const int32_t ch[2] = {c0, c1};
  for (int i = 0; i < 2; i++) {
    const int32_t k = ch[i];
    const float top = (1 - xl) * t[tl + (size_t)k] + xl * t[tr + (size_t)k];
    const float bottom = (1 - xl) * t[bl + (size_t)k] + xl * t[br + (size_t)k];
    out[i] = (1 - yl) * top + yl * bottom;
  }
}

static float sample1(const float *t, int32_t h, int32_t w, int32_t c, float y, float x, int32_t ch) {
  float o[2];
  sample2(t, h, w, c, y, x, ch, ch, o);
  return o[0];
}

static float sq_dist(float ay, float ax, float by, float bx) {
  const float dy = by - ay, dx = bx - ax;
  return dy * dy + dx * dx;
}

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* ---- scratch -------------------------------------------------------------- */

typedef struct pn_scratch {
  float *heat, *shorts, *mids, *longs;
  kp *roots;       /* H·W·17 */
  kp *walk;        /* DECODE_HEAP */
  pose *poses;     /* P */
  float *inst;     /* P */
  int32_t *order;  /* P */
} pn_scratch;

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static size_t pn_layout(const etpu_posenet_params *p, int32_t h, int32_t w, bool longs, uint8_t *base,
                        pn_scratch *s) {
  const size_t cells = (size_t)h * (size_t)w, np = (size_t)p->max_detections;
  size_t off = 0;
#define ETPU_REGION(field, type, count)                 \
  do {                                                 \
    if (base) s->field = (type *)(void *)(base + off); \
    off += align8((count) * sizeof(type));             \
  } while (0)
  ETPU_REGION(heat, float, cells * K);
  ETPU_REGION(shorts, float, cells * 2 * K);
  ETPU_REGION(mids, float, cells * 4 * E);
  ETPU_REGION(longs, float, longs ? (size_t)M * M * 2 * K : 0);
  ETPU_REGION(roots, kp, cells * K);
  ETPU_REGION(walk, kp, DECODE_HEAP);
  ETPU_REGION(poses, pose, np);
  ETPU_REGION(inst, float, np);
  ETPU_REGION(order, int32_t, np);
#undef ETPU_REGION
  return off;
}

static bool pn_params_ok(const etpu_posenet_params *p, int32_t h, int32_t w) {
  return p && p->max_detections >= 1 && p->max_detections <= (1 << 16) && p->stride >= 1 && h >= 1 && w >= 1 &&
         h <= (1 << 12) && w <= (1 << 12) && isfinite(p->score_threshold) && isfinite(p->nms_radius);
}

size_t etpu_posenet_decoder_get_buffer_size(const etpu_posenet_params *params, int32_t height, int32_t width,
                                            bool with_long_offsets) {
  if (!pn_params_ok(params, height, width)) return 0;
  pn_scratch s;
  return pn_layout(params, height, width, with_long_offsets, NULL, &s);
}

static void dequantize(const etpu_qview *v, size_t n, float extra, float *dst) {
  if (v->type == ETPU_FLOAT32) {
    for (size_t i = 0; i < n; i++) {
      float f;
      memcpy(&f, (const uint8_t *)v->data + 4 * i, 4);
      dst[i] = f * extra;
    }
    return;
  }
  const float zp = (float)v->zero_point, s = v->scale * extra;
  const uint8_t *q = v->data;
  for (size_t i = 0; i < n; i++) dst[i] = ((float)q[i] - zp) * s;
}

/* Stable sort of idx[0..n) by values[idx] decreasing (insertion: n is small). */
static void sort_desc(const float *values, int32_t *idx, int32_t n) {
  for (int32_t i = 1; i < n; i++) {
    const int32_t v = idx[i];
    int32_t j = i;
    while (j > 0 && values[idx[j - 1]] < values[v]) {
      idx[j] = idx[j - 1];
      j--;
    }
    idx[j] = v;
  }
}

/* Sum of a pose's keypoint scores in decreasing order, skipping masked ones. */
static float ordered_sum(const float *scores, const bool *skip) {
  int32_t idx[K];
  for (int32_t k = 0; k < K; k++) idx[k] = k;
  sort_desc(scores, idx, K);
  float total = 0.0f;
  for (int32_t k = 0; k < K; k++)
    if (!skip || !skip[idx[k]]) total += scores[idx[k]];
  return total;
}

/* ---- decoding ------------------------------------------------------------- */

static void decode_pose(const pn_scratch *s, int32_t h, int32_t w, kp root, pose *out) {
  bool done[K] = {false};
  int64_t n = 0;
  root.score = sample1(s->heat, h, w, K, root.y, root.x, root.id);
  heap_push(s->walk, &n, root);
  while (n > 0) {
    const kp cur = heap_pop(s->walk, &n);
    if (done[cur.id]) continue;
    out->y[cur.id] = cur.y;
    out->x[cur.id] = cur.x;
    out->score[cur.id] = cur.score;
    done[cur.id] = true;
    for (int32_t e = 0; e < 2 * E; e++) {
      if (k_edges[e][0] != cur.id) continue;
      const int32_t child = k_edges[e][1];
      if (done[child]) continue;
      const int32_t edge = e >= E ? e + E : e; /* backward edges: the second half of the 64 channels */
      float off[2];
      sample2(s->mids, h, w, 4 * E, cur.y, cur.x, edge, E + edge, off);
      float y = clampf(cur.y + off[0], 0.0f, (float)h - 1.0f), x = clampf(cur.x + off[1], 0.0f, (float)w - 1.0f);
      for (int i = 0; i < REFINE; i++) {
        sample2(s->shorts, h, w, 2 * K, y, x, child, K + child, off);
        y = clampf(y + off[0], 0.0f, (float)h - 1.0f);
        x = clampf(x + off[1], 0.0f, (float)w - 1.0f);
      }
      const kp next = {y, x, child, sample1(s->heat, h, w, K, y, x, child)};
      if (n < DECODE_HEAP) heap_push(s->walk, &n, next);
    }
  }
}

etpu_status etpu_posenet_decoder(const etpu_posenet_params *params, int32_t height, int32_t width,
                                 const etpu_qview *heatmaps, const etpu_qview *short_offsets,
                                 const etpu_qview *mid_offsets, const etpu_qview *long_offsets,
                                 const etpu_posenet_outputs *out, void *scratch, size_t scratch_size) {
  const char *kname = "etpu_posenet_decoder";
  if (!pn_params_ok(params, height, width))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: parameters or sizes out of range", kname);
  const bool with_longs = long_offsets && long_offsets->data;
  if (!heatmaps || !short_offsets || !mid_offsets || !heatmaps->data || !short_offsets->data || !mid_offsets->data ||
      !out || !out->keypoints || !out->keypoint_scores || !out->pose_scores || !out->pose_count || !scratch ||
      (with_longs && !out->instance_masks))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", kname);
  const etpu_qview *views[4] = {heatmaps, short_offsets, mid_offsets, with_longs ? long_offsets : heatmaps};
  for (int i = 0; i < 4; i++) {
    if (views[i]->type != ETPU_FLOAT32 && views[i]->type != ETPU_UINT8)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: inputs must be float32 or uint8", kname);
    if (views[i]->type == ETPU_UINT8 && !(isfinite(views[i]->scale) && views[i]->scale > 0.0f))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: uint8 input without a usable scale", kname);
  }
  pn_scratch s;
  const size_t need = pn_layout(params, height, width, with_longs, NULL, &s);
  if (scratch_size < need)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes; needs %zu", kname, scratch_size, need);
  pn_layout(params, height, width, with_longs, scratch, &s);
  const int32_t h = height, w = width, P = params->max_detections, stride = params->stride;
  const size_t cells = (size_t)h * (size_t)w;
  const float inv_stride = (float)(1.0 / stride);
  dequantize(heatmaps, cells * K, 1.0f, s.heat);
  dequantize(short_offsets, cells * 2 * K, inv_stride, s.shorts);
  dequantize(mid_offsets, cells * 4 * E, inv_stride, s.mids);
  memset(out->keypoints, 0, (size_t)P * K * 2 * sizeof(float));
  memset(out->keypoint_scores, 0, (size_t)P * K * sizeof(float));
  memset(out->pose_scores, 0, (size_t)P * sizeof(float));
  const float nms_radius = params->nms_radius / (float)stride;
  const float sq_radius = nms_radius * nms_radius;
  const float thr = params->score_threshold;
  const float min_logit = (float)(-log(1.0f / ((double)thr + 1e-6) - 1.0f));
  /* 2. root candidates */
  int64_t nroots = 0;
  for (int32_t y = 0; y < h; y++)
    for (int32_t x = 0; x < w; x++) {
      const size_t cell = (size_t)y * (size_t)w + (size_t)x;
      for (int32_t j = 0; j < K; j++) {
        const float score = s.heat[cell * K + (size_t)j];
        if (!(score >= min_logit)) continue;
        bool local_max = true;
        for (int32_t yy = y > 0 ? y - 1 : 0; yy < (y + 2 < h ? y + 2 : h) && local_max; yy++)
          for (int32_t xx = x > 0 ? x - 1 : 0; xx < (x + 2 < w ? x + 2 : w); xx++)
            if (s.heat[((size_t)yy * (size_t)w + (size_t)xx) * K + (size_t)j] > score) {
              local_max = false;
              break;
            }
        if (!local_max) continue;
        const float dy = s.shorts[cell * 2 * K + (size_t)j], dx = s.shorts[cell * 2 * K + K + (size_t)j];
        const kp r = {clampf((float)y + dy, 0.0f, (float)h - 1.0f), clampf((float)x + dx, 0.0f, (float)w - 1.0f), j,
                      score};
        heap_push(s.roots, &nroots, r);
      }
    }
  /* 3. poses */
  int32_t count = 0;
  while (count < P && nroots > 0) {
    const kp root = heap_pop(s.roots, &nroots);
    bool pass = true;
    for (int32_t i = 0; i < count && pass; i++)
      if (sq_dist(root.y, root.x, s.poses[i].y[root.id], s.poses[i].x[root.id]) <= sq_radius) pass = false;
    if (!pass) continue;
    pose *ps = &s.poses[count];
    for (int32_t k = 0; k < K; k++) {
      ps->y[k] = -1.0f;
      ps->x[k] = -1.0f;
      ps->score[k] = -1e5f;
    }
    decode_pose(&s, h, w, root, ps);
    for (int32_t k = 0; k < K; k++) ps->score[k] = sigmoidf(ps->score[k]);
    const float inst = ordered_sum(ps->score, NULL) / (float)K;
    if (inst >= thr) s.inst[count++] = inst;
  }
  /* 4. soft keypoint NMS and rescoring */
  for (int32_t i = 0; i < count; i++) s.order[i] = i;
  sort_desc(s.inst, s.order, count);
  for (int32_t i = 0; i < count; i++) {
    const int32_t cur = s.order[i];
    bool occluded[K] = {false};
    for (int32_t j = 0; j < i; j++) {
      const int32_t prev = s.order[j];
      for (int32_t k = 0; k < K; k++)
        if (sq_dist(s.poses[cur].y[k], s.poses[cur].x[k], s.poses[prev].y[k], s.poses[prev].x[k]) <= sq_radius)
          occluded[k] = true;
    }
    s.inst[cur] = ordered_sum(s.poses[cur].score, occluded) / (float)K;
  }
  for (int32_t i = 0; i < count; i++) s.order[i] = i;
  sort_desc(s.inst, s.order, count);
  int32_t emitted = 0;
  for (int32_t i = 0; i < count; i++) {
    const int32_t idx = s.order[i];
    if (s.inst[idx] < thr) break;
    for (int32_t k = 0; k < K; k++) {
      out->keypoints[((size_t)emitted * K + (size_t)k) * 2] = s.poses[idx].y[k] * (float)stride;
      out->keypoints[((size_t)emitted * K + (size_t)k) * 2 + 1] = s.poses[idx].x[k] * (float)stride;
      out->keypoint_scores[(size_t)emitted * K + (size_t)k] = s.poses[idx].score[k];
    }
    out->pose_scores[emitted] = s.inst[idx];
    emitted++;
  }
  out->pose_count[0] = (float)emitted;
  /* 5. BodyPix instance masks */
  if (with_longs) {
    dequantize(long_offsets, (size_t)M * M * 2 * K, inv_stride, s.longs);
    memset(out->instance_masks, 0, (size_t)P * M * M * sizeof(float));
    for (int32_t y = 0; y < M; y++)
      for (int32_t x = 0; x < M; x++) {
        float ey[K], ex[K];
        for (int32_t k = 0; k < K; k++) {
          float yy = (float)y, xx = (float)x, off[2];
          for (int i = 0; i <= 2; i++) {
            sample2(s.longs, M, M, 2 * K, yy, xx, k, K + k, off);
            yy = clampf(yy + off[0], 0.0f, (float)M - 1.0f);
            xx = clampf(xx + off[1], 0.0f, (float)M - 1.0f);
          }
          ey[k] = yy * (float)stride;
          ex[k] = xx * (float)stride;
        }
        int32_t best = 0; /* libcoral: min_element of an empty list is index 0 */
        float best_d = 0.0f;
        for (int32_t q = 0; q < emitted; q++) {
          float d = 0.0f;
          for (int32_t k = 0; k < K; k++)
            d += sq_dist(ey[k], ex[k], out->keypoints[((size_t)q * K + (size_t)k) * 2],
                         out->keypoints[((size_t)q * K + (size_t)k) * 2 + 1]);
          if (q == 0 || d < best_d) {
            best = q;
            best_d = d;
          }
        }
        out->instance_masks[((size_t)best * M + (size_t)y) * M + (size_t)x] = 1.0f;
      }
  }
  return ETPU_OK;
}
