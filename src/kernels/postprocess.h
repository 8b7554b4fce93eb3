/*
 * postprocess.h — etpu's reference kernels for the two custom post-
 * processing ops of Coral models (src/kernels/ref/detection_postprocess.c,
 * posenet_decoder.c). Both compute in float32 from (dequantized) inputs and
 * write float32 outputs.
 *
 *  - TFLite_Detection_PostProcess (SSD detectors, traffic_model): decode
 *    center-size box encodings against anchors, then non-maximum
 *    suppression, fast (one NMS over each anchor's best classes) or regular
 *    (one NMS per class), as TensorFlow Lite's detection_postprocess.cc.
 *  - PosenetDecoderOp (Coral PoseNet/BodyPix): multi-person pose decoding
 *    from keypoint heatmaps and short/mid-range offsets (PersonLab), as
 *    libcoral's posenet decoder; BodyPix's variant adds instance masks from
 *    long-range offsets.
 *
 * Ties are broken deterministically: sorts by score put the lower index
 * first, and the candidate priority queues follow the binary-heap order of
 * the GNU C++ library that libcoral's builds use.
 *
 * Kernels never allocate: scratch memory comes from the caller, at least
 * *_get_buffer_size() bytes (ETPU_INVALID_ARGUMENT if less).
 */
#ifndef ETPU_KERNELS_POSTPROCESS_H
#define ETPU_KERNELS_POSTPROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"

/* A tensor as the kernels read it: float32, or uint8 with its quantization. */
typedef struct etpu_qview {
  const void *data;
  int32_t type;       /* ETPU_FLOAT32 or ETPU_UINT8 */
  float scale;        /* uint8 only */
  int32_t zero_point; /* uint8 only */
} etpu_qview;

/* ---- TFLite_Detection_PostProcess ----------------------------------------- */

typedef struct etpu_detection_params {
  int32_t max_detections;            /* >= 1 */
  int32_t max_classes_per_detection; /* >= 1: classes reported per anchor (fast NMS) */
  int32_t detections_per_class;      /* >= 1: kept per class (regular NMS; default 100) */
  float score_threshold;             /* nms_score_threshold */
  float iou_threshold;               /* nms_iou_threshold, in (0, 1] */
  int32_t num_classes;               /* classes without the background class */
  float y_scale, x_scale, h_scale, w_scale; /* box coder scales */
  bool use_regular_nms;
} etpu_detection_params;

/* Sizes: num_boxes anchors, box_code_size values per encoding (>= 4; the
 * first four are y, x, h, w), num_classes_with_background = num_classes or
 * num_classes + 1 score columns. */
typedef struct etpu_detection_dims {
  int32_t num_boxes;
  int32_t box_code_size;
  int32_t num_classes_with_background;
} etpu_detection_dims;

/* Outputs, max_detections · max_classes_per_detection = D entries:
 * boxes [D][4] (ymin, xmin, ymax, xmax), classes [D], scores [D] (unused
 * entries 0), and num_detections [1]. */
typedef struct etpu_detection_outputs {
  float *boxes;
  float *classes;
  float *scores;
  float *num_detections;
} etpu_detection_outputs;

size_t etpu_detection_postprocess_get_buffer_size(const etpu_detection_params *params,
                                                  const etpu_detection_dims *dims);

/* box_encodings [num_boxes][box_code_size], scores
 * [num_boxes][num_classes_with_background], anchors [num_boxes][4] (y, x, h,
 * w). ETPU_INVALID_ARGUMENT also when a decoded box has ymin > ymax or
 * xmin > xmax (TFLite fails the op then). */
ETPU_WUR etpu_status etpu_detection_postprocess(const etpu_detection_params *params, const etpu_detection_dims *dims,
                                                const etpu_qview *box_encodings, const etpu_qview *scores,
                                                const etpu_qview *anchors, const etpu_detection_outputs *out,
                                                void *scratch, size_t scratch_size);

/* ---- PosenetDecoderOp ----------------------------------------------------- */

enum { ETPU_POSENET_KEYPOINTS = 17, ETPU_POSENET_EDGES = 16, ETPU_POSENET_MASK_SIZE = 33 };

typedef struct etpu_posenet_params {
  int32_t max_detections; /* >= 1 */
  float score_threshold;  /* in (0, 1) */
  int32_t stride;         /* >= 1: output pixels per heatmap cell */
  float nms_radius;       /* in pixels */
} etpu_posenet_params;

/* Outputs (max_detections = P): keypoints [P][17][2] (y, x in pixels),
 * keypoint_scores [P][17], pose_scores [P], pose_count [1] (a float);
 * instance_masks [P][33][33] only with long offsets (else NULL). Entries past
 * the pose count are 0. */
typedef struct etpu_posenet_outputs {
  float *keypoints;
  float *keypoint_scores;
  float *pose_scores;
  float *pose_count;
  float *instance_masks;
} etpu_posenet_outputs;

/* height × width cells; long_offsets (BodyPix) optional, then 33×33. */
size_t etpu_posenet_decoder_get_buffer_size(const etpu_posenet_params *params, int32_t height, int32_t width,
                                            bool with_long_offsets);

/* heatmaps [H][W][17] (logits), short_offsets [H][W][34] (17 y then 17 x),
 * mid_offsets [H][W][64] (16 forward y, 16 forward x, 16 backward y, 16
 * backward x), long_offsets [33][33][34] or data NULL. */
ETPU_WUR etpu_status etpu_posenet_decoder(const etpu_posenet_params *params, int32_t height, int32_t width,
                                          const etpu_qview *heatmaps, const etpu_qview *short_offsets,
                                          const etpu_qview *mid_offsets, const etpu_qview *long_offsets,
                                          const etpu_posenet_outputs *out, void *scratch, size_t scratch_size);

#endif /* ETPU_KERNELS_POSTPROCESS_H */
