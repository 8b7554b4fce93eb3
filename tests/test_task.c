/*
 * test_task.c — the task API (src/runtime/task.c): etpu_task_detect on
 * every kind of output, etpu_task_check's refusals, and etpu_task_decode's
 * values, each computed here by hand.
 *
 * Without shared data: one-op models built with the builder (a RESHAPE
 * whose output is the wanted task's output, so the values decoded are the
 * ones set as input): a MoveNet-shaped [1,1,17,3] pose, segmentation logits
 * [1,2,3,3] (argmax per pixel, ties to the lower class, nearest-neighbour
 * upscaling with half-pixel centres, class shares), a class map [1,2,2]
 * (negative and too-large classes refused), a classifier, and a model with
 * no task; argument errors. With shared data: the task of each Coral model.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* A model whose output is RESHAPE(input): type and quantization shared. */
static etpu_model *reshape_model(int32_t type, uint32_t in_rank, const int32_t *in_shape, uint32_t out_rank,
                                 const int32_t *out_shape, float scale, const char *out_name) {
  etpu_model *m = NULL;
  int32_t a, b, shp;
  int64_t zp = 0;
  etpu_quant_params q = {scale > 0 ? 1u : 0u, &scale, &zp, 0};
  const int32_t shape_t[1] = {(int32_t)out_rank};
  etpu_option opt = {"new_shape", 0, 0, out_rank, out_shape};
  etpu_status st = etpu_model_create(&m);
  if (st == ETPU_OK) st = etpu_model_add_tensor(m, 0, "in", type, in_rank, in_shape, &q, NULL, 0, &a);
  if (st == ETPU_OK) st = etpu_model_add_tensor(m, 0, out_name, type, out_rank, out_shape, &q, NULL, 0, &b);
  if (st == ETPU_OK)
    st = etpu_model_add_tensor(m, 0, "shape", ETPU_INT32, 1, shape_t, NULL, out_shape, 4 * out_rank, &shp);
  if (st == ETPU_OK)
    st = etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, 1, 2, (const int32_t[]){a, shp}, 1, &b, 1, &opt, NULL, 0,
                           NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 1, &a, 1, &b);
  CHECK_MSG(st == ETPU_OK, "building %s: %s", out_name, etpu_errmsg());
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return NULL;
  }
  return m;
}

/* Run m on `data` and decode it as `task` for an image of w x h (0: none). */
static etpu_status run_decode(const etpu_model *m, const void *data, size_t size, etpu_task task, uint32_t w,
                              uint32_t h, float thr, etpu_task_result **r) {
  etpu_interp *ip = NULL;
  etpu_status st = etpu_interp_create(m, NULL, &ip);
  if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
  if (st == ETPU_OK) st = etpu_interp_set_input(ip, 0, data, size);
  if (st == ETPU_OK) st = etpu_interp_invoke(ip);
  if (st == ETPU_OK) {
    etpu_task_options o;
    etpu_task_options_init(&o);
    o.image_width = w;
    o.image_height = h;
    o.threshold = thr;
    st = etpu_task_decode(m, ip, task, &o, r);
  }
  etpu_interp_free(ip);
  return st;
}

static etpu_task detected(const etpu_model *m) {
  etpu_task t = (etpu_task)99;
  CHECK_OK(etpu_task_detect(m, &t));
  return t;
}

static void test_movenet_shape(void) {
  const int32_t in[2] = {1, 51}, out[4] = {1, 1, 17, 3};
  etpu_model *m = reshape_model(ETPU_FLOAT32, 2, in, 4, out, 0, "keypoints");
  if (!m) return;
  CHECK(detected(m) == ETPU_TASK_POSE);
  float v[51];
  double sum = 0;
  for (int k = 0; k < 17; k++) {
    v[3 * k] = 0.05f * (float)k;         /* y */
    v[3 * k + 1] = 1.0f - 0.05f * (float)k; /* x */
    v[3 * k + 2] = (float)k / 16.0f;    /* score */
    sum += v[3 * k + 2];
  }
  etpu_task_result *r = NULL;
  CHECK_OK(run_decode(m, v, sizeof v, ETPU_TASK_POSE, 200, 100, 0.9f, &r));
  if (r) {
    /* MoveNet's single pose is kept whatever the threshold */
    CHECK(r->task == ETPU_TASK_POSE && r->pose_count == 1 && r->image_width == 200 && r->image_height == 100);
    CHECK(fabsf(r->poses[0].score - (float)(sum / 17)) < 1e-6f);
    for (int k = 0; k < 17; k++) {
      const etpu_keypoint *kp = &r->poses[0].keypoints[k];
      CHECK_MSG(kp->x == (float)((double)v[3 * k + 1] * 200) && kp->y == (float)((double)v[3 * k] * 100) &&
                    kp->score == v[3 * k + 2],
                "keypoint %d: %g %g %g", k, kp->x, kp->y, kp->score);
    }
    CHECK(!strcmp(etpu_pose_keypoint_name(0), "nose") && !strcmp(etpu_pose_keypoint_name(16), "right_ankle") &&
          !strcmp(etpu_pose_keypoint_name(17), ""));
  }
  etpu_task_result_free(r);
  etpu_model_free(m);
}

static void test_logits(void) {
  /* a 3x2 map (W x H) of 3 classes, upscaled to a 6x4 image */
  const int32_t in[2] = {1, 18}, out[4] = {1, 2, 3, 3};
  etpu_model *m = reshape_model(ETPU_FLOAT32, 2, in, 4, out, 0, "logits");
  if (!m) return;
  CHECK(detected(m) == ETPU_TASK_SEGMENT);
  const float v[18] = {1, 0, 0, /* (0,0): 0 */ 0, 2, 0, /* (1,0): 1 */ 0, 0, 3, /* (2,0): 2 */
                       5, 5, 1, /* (0,1): tie -> 0 */ 0, 7, 7, /* (1,1): tie -> 1 */ -1, -2, -0.5f /* (2,1): 2 */};
  const uint16_t map[2][3] = {{0, 1, 2}, {0, 1, 2}};
  etpu_task_result *r = NULL;
  CHECK_OK(run_decode(m, v, sizeof v, ETPU_TASK_SEGMENT, 6, 4, 0.5f, &r));
  if (r) {
    CHECK(r->map_width == 3 && r->map_height == 2 && r->class_count == 3);
    int bad = 0;
    for (uint32_t y = 0; y < 4; y++)
      for (uint32_t x = 0; x < 6; x++) bad += r->mask[y * 6 + x] != map[y / 2][x / 2];
    CHECK_MSG(bad == 0, "%d mask pixels wrong", bad);
    for (int k = 0; k < 3; k++) CHECK(fabs(r->class_share[k] - 1.0 / 3) < 1e-12);
  }
  etpu_task_result_free(r);
  /* the input's own size when no image is given: the map itself */
  r = NULL;
  CHECK_OK(run_decode(m, v, sizeof v, ETPU_TASK_SEGMENT, 0, 0, 0.5f, &r));
  if (r) CHECK(r->image_width == 3 && r->image_height == 2 && r->mask[5] == 2);
  etpu_task_result_free(r);
  etpu_model_free(m);
}

static void test_argmax(void) {
  const int32_t in[2] = {1, 4}, out[3] = {1, 2, 2};
  etpu_model *m = reshape_model(ETPU_INT32, 2, in, 3, out, 0, "ArgMax");
  if (!m) return;
  CHECK(detected(m) == ETPU_TASK_SEGMENT);
  const int32_t ok[4] = {0, 0, 0, 20};
  etpu_task_result *r = NULL;
  CHECK_OK(run_decode(m, ok, sizeof ok, ETPU_TASK_SEGMENT, 5, 5, 0.5f, &r));
  if (r) {
    /* 5 rows, 5 columns from 2: source floor((i + 0.5) * 2 / 5) = 0, 0, 1, 1, 1 */
    CHECK(r->class_count == 21 && r->mask[0] == 0 && r->mask[2 * 5 + 2] == 20 && r->mask[1 * 5 + 4] == 0);
    CHECK(fabs(r->class_share[20] - 9.0 / 25) < 1e-12 && fabs(r->class_share[0] - 16.0 / 25) < 1e-12);
  }
  etpu_task_result_free(r);
  const int32_t neg[4] = {0, -1, 0, 0}, big[4] = {0, 0, 70000, 0};
  r = NULL;
  CHECK(run_decode(m, neg, sizeof neg, ETPU_TASK_SEGMENT, 0, 0, 0.5f, &r) == ETPU_MALFORMED && !r);
  CHECK(strstr(etpu_errmsg(), "class -1 at pixel (1, 0)") != NULL);
  CHECK(run_decode(m, big, sizeof big, ETPU_TASK_SEGMENT, 0, 0, 0.5f, &r) == ETPU_MALFORMED && !r);
  etpu_model_free(m);
}

static void test_classify_and_none(void) {
  const int32_t in[2] = {1, 10}, out[2] = {1, 10};
  etpu_model *m = reshape_model(ETPU_UINT8, 2, in, 2, out, 1.0f / 256, "scores");
  if (m) {
    CHECK(detected(m) == ETPU_TASK_CLASSIFY);
    CHECK(etpu_task_check(m, ETPU_TASK_CLASSIFY) == ETPU_OK);
    CHECK(etpu_task_check(m, ETPU_TASK_DETECT) == ETPU_UNSUPPORTED);
    const char *e = etpu_errmsg();
    CHECK_MSG(strstr(e, "not a detect model") && strstr(e, "TFLite_Detection_PostProcess") &&
                  strstr(e, "0 'scores' UINT8[1,10]"),
              "message: %s", e);
    uint8_t x[10] = {0};
    etpu_task_result *r = NULL;
    CHECK_OK(run_decode(m, x, sizeof x, ETPU_TASK_CLASSIFY, 0, 0, 0.5f, &r));
    if (r) CHECK(r->task == ETPU_TASK_CLASSIFY && !r->detections && !r->poses && !r->mask);
    etpu_task_result_free(r);
    r = NULL;
    CHECK(run_decode(m, x, sizeof x, ETPU_TASK_POSE, 0, 0, 0.5f, &r) == ETPU_UNSUPPORTED && !r);
    CHECK(etpu_task_check(m, ETPU_TASK_NONE) == ETPU_INVALID_ARGUMENT);
    CHECK(etpu_task_check(m, (etpu_task)7) == ETPU_INVALID_ARGUMENT);
    etpu_model_free(m);
  }
  const int32_t one[2] = {1, 1};
  m = reshape_model(ETPU_FLOAT32, 2, one, 2, one, 0, "y");
  if (m) {
    CHECK(detected(m) == ETPU_TASK_NONE);
    CHECK(etpu_task_check(m, ETPU_TASK_SEGMENT) == ETPU_UNSUPPORTED && strstr(etpu_errmsg(), "FLOAT32[1,1]"));
    etpu_model_free(m);
  }
}

static void test_arguments(void) {
  const int32_t in[2] = {1, 51}, out[4] = {1, 1, 17, 3};
  etpu_model *m = reshape_model(ETPU_FLOAT32, 2, in, 4, out, 0, "keypoints");
  if (!m) return;
  etpu_interp *ip = NULL;
  CHECK_OK(etpu_interp_create(m, NULL, &ip));
  etpu_task_result *r = NULL;
  etpu_task_options o;
  etpu_task_options_init(&o);
  CHECK(o.threshold == 0.5f && o.image_width == 0 && o.struct_size == sizeof o);
  CHECK(etpu_task_decode(m, ip, ETPU_TASK_POSE, &o, &r) == ETPU_INVALID_STATE && !r); /* not planned */
  etpu_task t;
  CHECK(etpu_task_detect(NULL, &t) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_task_decode(NULL, ip, ETPU_TASK_POSE, &o, &r) == ETPU_INVALID_ARGUMENT);
  o.image_width = 4;
  CHECK(etpu_task_decode(m, ip, ETPU_TASK_POSE, &o, &r) == ETPU_INVALID_ARGUMENT && !r);
  etpu_task_options_init(&o);
  o.threshold = NAN;
  CHECK(etpu_task_decode(m, ip, ETPU_TASK_POSE, &o, &r) == ETPU_INVALID_ARGUMENT && !r);
  o.struct_size = 0;
  CHECK(etpu_task_decode(m, ip, ETPU_TASK_POSE, &o, &r) == ETPU_INVALID_ARGUMENT && !r);
  CHECK(!strcmp(etpu_task_name(ETPU_TASK_SEGMENT), "segment") && !strcmp(etpu_task_name(42), "unknown"));
  etpu_task_result_free(NULL);
  etpu_interp_free(ip);
  etpu_model_free(m);
}

/* The task of each shared model (models not present are skipped). */
static void test_shared(const char *shared) {
  static const struct {
    const char *path;
    etpu_task task;
  } cases[] = {
      {"coral/traffic_model.tflite", ETPU_TASK_DETECT},
      {"coral/tools/ssd_mobilenet_v1_coco_quant_postprocess_head_layers.tflite", ETPU_TASK_DETECT},
      {"coral/posenet/posenet_mobilenet_v1_075_353_481_16_quant_decoder.tflite", ETPU_TASK_POSE},
      {"coral/posenet/bodypix_mobilenet_v1_075_512_512_16_quant_decoder.tflite", ETPU_TASK_POSE},
      {"coral/movenet_single_pose_lightning_ptq.tflite", ETPU_TASK_POSE},
      {"coral/deeplabv3_mnv2_pascal_quant.tflite", ETPU_TASK_SEGMENT},
      {"coral/deeplab_mobilenet_edgetpu_slim_cityscapes_quant.tflite", ETPU_TASK_SEGMENT},
      {"float/deeplabv3.tflite", ETPU_TASK_SEGMENT},
      {"coral/mobilenet_v1_0.25_128_quant.tflite", ETPU_TASK_CLASSIFY},
      {"coral/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite", ETPU_TASK_CLASSIFY},
      {"tflite-micro/hello_world_int8.tflite", ETPU_TASK_NONE},
      {"float/palm_detection_lite.tflite", ETPU_TASK_NONE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", shared, cases[i].path);
    etpu_model *m = NULL;
    if (etpu_model_open(path, &m) != ETPU_OK) {
      printf("not present: %s\n", cases[i].path);
      continue;
    }
    etpu_task t = detected(m);
    CHECK_MSG(t == cases[i].task, "%s: task %s, expected %s", cases[i].path, etpu_task_name(t),
              etpu_task_name(cases[i].task));
    printf("%-75s %s\n", cases[i].path, etpu_task_name(t));
    etpu_model_free(m);
  }
}

int main(void) {
  test_movenet_shape();
  test_logits();
  test_argmax();
  test_classify_and_none();
  test_arguments();
  const char *shared = tu_shared_dir();
  if (shared) test_shared(shared);
  int rc = tu_finish("test_task");
  return rc ? rc : shared ? 0 : tu_skip_code();
}
