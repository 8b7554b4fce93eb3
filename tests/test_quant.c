/*
 * test_quant.c — etpu's post-training quantizer against TensorFlow's.
 *
 * vww_96_float and pretrainedResnet are quantized by etpu (int8 I/O, so the
 * tensor list matches TensorFlow's vww_96_int8 / pretrainedResnet_quant index
 * for index) on the shared Coral BMPs and float/images photos. Weights must
 * have TensorFlow's per-channel scales and values within 1; bias agreement
 * and activation-scale ratios are printed (our calibration data differs from
 * TensorFlow's, so they are reported, not required). The result must run in
 * the int8 interpreter and map fully in etpu compile (float I/O aside).
 * Also: errors for an already-quantized model and for a wrong sample size.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct samples {
  float **data;
  size_t n, bytes;
} samples;

static void load_dir(const char *dir, const etpu_tensor_info *in, const etpu_input_options *o, samples *s) {
  char **names;
  const size_t count = tu_list_dir(dir, &names);
  for (size_t k = 0; k < count; k++) {
    size_t len = strlen(names[k]);
    if (len < 5) continue;
    const char *ext = names[k] + len - 4;
    if (strcmp(ext, ".bmp") && strcmp(ext, ".jpg") && strcmp(ext, ".png")) continue;
    char path[1024];
    if (snprintf(path, sizeof path, "%s/%s", dir, names[k]) >= (int)sizeof path) {
      CHECK_MSG(false, "calibration path too long: %s/%s", dir, names[k]);
      continue;
    }
    float *buf = malloc(s->bytes);
    CHECK(buf != NULL);
    if (!buf) break;
    if (etpu_tensor_load(path, in, o, buf, s->bytes, NULL) != ETPU_OK) {
      CHECK_MSG(false, "calibration image %s: %s", path, etpu_errmsg());
      free(buf);
      continue;
    }
    float **nv = realloc(s->data, (s->n + 1) * sizeof *nv);
    CHECK(nv != NULL);
    if (!nv) {
      free(buf);
      break;
    }
    s->data = nv;
    s->data[s->n++] = buf;
  }
  tu_free_list(names, count);
  CHECK_MSG(s->n > 0, "no calibration image read from %s", dir);
}

static void check_pair(const char *shared, const char *float_name, const char *tf_name, float std) {
  char fpath[1024], qpath[1024], dir[1024];
  snprintf(fpath, sizeof fpath, "%s/float/%s", shared, float_name);
  snprintf(qpath, sizeof qpath, "%s/float/%s", shared, tf_name);
  etpu_model *fm = NULL, *tf = NULL, *q = NULL;
  etpu_calibration *cal = NULL;
  CHECK_OK(etpu_model_open(fpath, &fm));
  CHECK_OK(etpu_model_open(qpath, &tf));
  if (!fm || !tf) goto done;
  etpu_tensor_info in;
  CHECK_OK(etpu_model_tensor(fm, 0, (uint32_t)etpu_model_input(fm, 0, 0), &in));
  samples s = {NULL, 0, sizeof(float)};
  for (uint32_t d = 0; d < in.rank; d++) s.bytes *= (size_t)in.shape[d];
  etpu_input_options o = {ETPU_RESIZE_BILINEAR, true, 0.0f, std};
  snprintf(dir, sizeof dir, "%s/coral", shared);
  load_dir(dir, &in, &o, &s);
  snprintf(dir, sizeof dir, "%s/float/images", shared);
  load_dir(dir, &in, &o, &s);
  CHECK_MSG(s.n >= 10, "only %zu calibration images", s.n);
  CHECK_OK(etpu_calibration_create(fm, &cal));
  for (size_t k = 0; cal && k < s.n; k++) {
    const float *const inputs[1] = {s.data[k]};
    CHECK_OK(etpu_calibration_run(cal, inputs, &s.bytes, 1));
  }
  etpu_quantize_options qo = {ETPU_QUANT_IO_INT8, false};
  if (cal) CHECK_OK(etpu_quantize(fm, cal, &qo, &q));
  if (!q) goto free_samples;
  CHECK(etpu_model_tensor_count(q, 0) == etpu_model_tensor_count(tf, 0));
  CHECK(etpu_model_op_count(q, 0) == etpu_model_op_count(tf, 0));
  for (uint32_t i = 0; i < etpu_model_op_count(q, 0) && i < etpu_model_op_count(tf, 0); i++) {
    etpu_op_info a, b;
    CHECK_OK(etpu_model_op(q, 0, i, &a));
    CHECK_OK(etpu_model_op(tf, 0, i, &b));
    CHECK_MSG(a.code == b.code && a.version == b.version, "op %u: %s v%d, TensorFlow %s v%d", i, a.name, a.version,
              b.name, b.version);
  }
  uint32_t wt = 0, widened = 0, wscale_bad = 0, wval = 0, wval_bad = 0, bt = 0, bval = 0, bexact = 0, bnear = 0, acts = 0;
  double ratio_min = INFINITY, ratio_max = 0, ratio_logsum = 0;
  uint32_t n = etpu_model_tensor_count(q, 0);
  for (uint32_t t = 0; t < n && t < etpu_model_tensor_count(tf, 0); t++) {
    etpu_tensor_info a, b;
    if (etpu_model_tensor(q, 0, t, &a) != ETPU_OK || etpu_model_tensor(tf, 0, t, &b) != ETPU_OK) continue;
    CHECK_MSG(a.type == b.type, "t%u '%s': %s, TensorFlow %s", t, a.name, etpu_dtype_name(a.type),
              etpu_dtype_name(b.type));
    if (a.type != b.type || a.quant_count != b.quant_count) {
      CHECK_MSG(a.quant_count == b.quant_count, "t%u: %u scales, TensorFlow %u", t, a.quant_count, b.quant_count);
      continue;
    }
    if (a.data && b.data && a.type == ETPU_INT8 && a.data_size == b.data_size) {
      wt++;
      const int8_t *x = a.data, *y = b.data;
      /* Channel of element k: dim 0 (conv), the last dim (depthwise), or one. */
      uint32_t nch = a.quant_count;
      size_t inner = a.quantized_dimension == 0 && nch > 1 ? a.data_size / nch : 1;
      for (uint32_t c = 0; c < nch; c++) {
        int mx_a = 0, mx_b = 0;
        for (size_t k = 0; k < a.data_size; k++) {
          if ((nch > 1 ? (k / inner) % nch : 0) != c) continue;
          if (abs(x[k]) > mx_a) mx_a = abs(x[k]);
          if (abs(y[k]) > mx_b) mx_b = abs(y[k]);
        }
        if (mx_b < 127) {
          /* TensorFlow widened this scale for the bias (AdjustWeightsForBiasScale):
           * it depends on the calibrated input scale, so only require that
           * etpu widened it too. */
          widened++;
          if (mx_a >= 127) wscale_bad++;
        } else if (fabsf(a.scale[c] - b.scale[c]) > 1e-6f * fabsf(b.scale[c])) {
          wscale_bad++;
        }
      }
      for (size_t k = 0; k < a.data_size; k++, wval++)
        if (abs(x[k] - y[k]) > 1) wval_bad++;
    } else if (a.data && b.data && a.type == ETPU_INT32 && a.data_size == b.data_size) {
      bt++;
      const int32_t *x = a.data, *y = b.data;
      for (size_t k = 0; k < a.data_size / 4; k++, bval++) {
        bexact += x[k] == y[k];
        bnear += llabs((long long)x[k] - y[k]) <= 1 + llabs((long long)y[k]) / 20;
      }
    } else if (!a.data && a.type == ETPU_INT8 && a.quant_count == 1) {
      double r = (double)a.scale[0] / b.scale[0];
      acts++;
      ratio_logsum += log(r);
      if (r < ratio_min) ratio_min = r;
      if (r > ratio_max) ratio_max = r;
    }
  }
  CHECK_MSG(wscale_bad == 0, "%u weight scales differ from TensorFlow's", wscale_bad);
  CHECK_MSG(wval_bad == 0, "%u of %u weights differ by more than 1", wval_bad, wval);
  CHECK(wt > 0 && bt > 0);
  printf("%s: %zu calibration images; %u weight tensors: scales equal (%u channel(s) widened for their bias by "
         "both), %u values, %u off by more than 1\n",
         float_name, s.n, wt, widened, wval, wval_bad);
  printf("%s: %u bias tensors, %u values: %u equal, %u within 5%%+1 (input scales come from our calibration)\n",
         float_name, bt, bval, bexact, bnear);
  if (acts)
    printf("%s: %u activation scales / TensorFlow's: min %.3f, geometric mean %.3f, max %.3f\n", float_name, acts,
           ratio_min, exp(ratio_logsum / acts), ratio_max);

  /* It runs in the int8 interpreter and gives the float model's answer on most images. */
  etpu_interp_options io;
  etpu_interp_options_init(&io);
  io.profile = ETPU_PROFILE_TFLITE_REF;
  io.keep_all_tensors = false;
  etpu_interp *it = NULL;
  CHECK_OK(etpu_interp_create(q, &io, &it));
  if (it) CHECK_OK(etpu_interp_plan(it, NULL));
  for (size_t k = 0; it && k < s.n; k++) {
    const float *const inputs[1] = {s.data[k]};
    CHECK_OK(etpu_calibration_compare(cal, q, inputs, &s.bytes, 1));
  }
  etpu_interp_free(it);
  double sq = 0;
  int32_t out = etpu_model_output(q, 0, 0);
  CHECK(etpu_calibration_sqnr(cal, (uint32_t)out, &sq));
  printf("%s: output SQNR int8 vs float %.2f dB\n", float_name, sq);
  CHECK_MSG(sq > 10.0, "output SQNR %.2f dB", sq);

  /* Float I/O: QUANTIZE first, DEQUANTIZE last, everything else on the Edge TPU. */
  etpu_model *qf = NULL;
  qo.io = ETPU_QUANT_IO_FLOAT;
  CHECK_OK(etpu_quantize(fm, cal, &qo, &qf));
  if (qf) {
    etpu_op_info first, last;
    uint32_t nops = etpu_model_op_count(qf, 0);
    CHECK_OK(etpu_model_op(qf, 0, 0, &first));
    CHECK_OK(etpu_model_op(qf, 0, nops - 1, &last));
    CHECK(first.code == ETPU_OP_QUANTIZE && last.code == ETPU_OP_DEQUANTIZE);
    etpu_compile_options co;
    memset(&co, 0, sizeof co);
    etpu_compilation *c = NULL;
    CHECK_OK(etpu_compile(qf, &co, &c));
    if (c) {
      etpu_compile_summary sum;
      etpu_compilation_summary(c, &sum);
      CHECK_MSG(sum.edgetpu_ops == nops - 2, "%u of %u ops mapped", sum.edgetpu_ops, nops);
      etpu_compilation_free(c);
    }
    /* uint8 I/O: same scale, zero point + 128. */
    etpu_model *qu = NULL;
    qo.io = ETPU_QUANT_IO_UINT8;
    CHECK_OK(etpu_quantize(fm, cal, &qo, &qu));
    if (qu) {
      etpu_tensor_info ui, ii;
      CHECK_OK(etpu_model_tensor(qu, 0, (uint32_t)etpu_model_input(qu, 0, 0), &ui));
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)etpu_model_input(q, 0, 0), &ii));
      CHECK(ui.type == ETPU_UINT8 && ui.quant_count == 1 && ui.zero_point[0] == ii.zero_point[0] + 128);
    }
    etpu_model_free(qu);
  }
  etpu_model_free(qf);

  /* Errors: a sample of the wrong size; an already-quantized model. */
  const float *const bad[1] = {s.data[0]};
  size_t bad_size = s.bytes - 4;
  CHECK(etpu_calibration_run(cal, bad, &bad_size, 1) == ETPU_INVALID_ARGUMENT);
  etpu_calibration *tcal = NULL;
  CHECK(etpu_calibration_create(tf, &tcal) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "already quantized") != NULL);
  etpu_calibration_free(tcal);

free_samples:
  for (size_t k = 0; k < s.n; k++) free(s.data[k]);
  free(s.data);
done:
  etpu_model_free(q);
  etpu_calibration_free(cal);
  etpu_model_free(fm);
  etpu_model_free(tf);
}

/* With TensorFlow's own activation ranges (read back from its int8 model:
 * [(-128 - zp)·s, (127 - zp)·s]) given through etpu_calibration_set_range,
 * etpu's quantizer must reproduce TensorFlow's whole model: activation
 * parameters, weights within 1, and every int32 bias within 1 (within two
 * float32 steps for the dead channels TensorFlow widens to about 2^30).
 * This checks the bias arithmetic that calibration differences hide in
 * check_pair. */
static void check_with_tf_ranges(const char *shared, const char *float_name, const char *tf_name) {
  char fpath[1024], qpath[1024];
  snprintf(fpath, sizeof fpath, "%s/float/%s", shared, float_name);
  snprintf(qpath, sizeof qpath, "%s/float/%s", shared, tf_name);
  etpu_model *fm = NULL, *tf = NULL, *q = NULL;
  etpu_calibration *cal = NULL;
  CHECK_OK(etpu_model_open(fpath, &fm));
  CHECK_OK(etpu_model_open(qpath, &tf));
  if (fm) CHECK_OK(etpu_calibration_create(fm, &cal));
  if (!fm || !tf || !cal) goto done;
  uint32_t n = etpu_model_tensor_count(fm, 0), given = 0;
  for (uint32_t t = 0; t < n && t < etpu_model_tensor_count(tf, 0); t++) {
    etpu_tensor_info f, b;
    if (etpu_model_tensor(fm, 0, t, &f) != ETPU_OK || etpu_model_tensor(tf, 0, t, &b) != ETPU_OK) continue;
    if (f.type != ETPU_FLOAT32 || f.data || b.type != ETPU_INT8 || b.quant_count != 1) continue;
    double s = b.scale[0], zp = (double)b.zero_point[0];
    CHECK_OK(etpu_calibration_set_range(cal, t, (float)((-128.0 - zp) * s), (float)((127.0 - zp) * s)));
    given++;
  }
  CHECK_MSG(etpu_calibration_set_range(cal, n, 0, 1) == ETPU_INVALID_ARGUMENT, "set_range accepted tensor %u", n);
  CHECK_MSG(etpu_calibration_set_range(cal, 0, 1, 0) == ETPU_INVALID_ARGUMENT, "set_range accepted [1, 0]");
  etpu_quantize_options qo = {ETPU_QUANT_IO_INT8, false};
  CHECK_OK(etpu_quantize(fm, cal, &qo, &q));
  if (!q) goto done;
  uint32_t acts = 0, acts_equal = 0, wvals = 0, wbad = 0, bvals = 0, bbad = 0, widened_n = 0, widened_far = 0;
  long long worst = 0;
  for (uint32_t t = 0; t < n && t < etpu_model_tensor_count(tf, 0); t++) {
    etpu_tensor_info a, b;
    if (etpu_model_tensor(q, 0, t, &a) != ETPU_OK || etpu_model_tensor(tf, 0, t, &b) != ETPU_OK) continue;
    if (a.type != b.type || a.quant_count != b.quant_count) continue;
    if (!a.data && a.type == ETPU_INT8 && a.quant_count == 1) {
      acts++;
      acts_equal += fabsf(a.scale[0] - b.scale[0]) <= 1e-6f * b.scale[0] && a.zero_point[0] == b.zero_point[0];
    } else if (a.data && b.data && a.type == ETPU_INT8 && a.data_size == b.data_size) {
      const int8_t *x = a.data, *y = b.data;
      for (size_t k = 0; k < a.data_size; k++, wvals++) wbad += abs(x[k] - y[k]) > 1;
    } else if (a.data && b.data && a.type == ETPU_INT32 && a.data_size == b.data_size) {
      const int32_t *x = a.data, *y = b.data;
      for (size_t k = 0; k < a.data_size / 4; k++, bvals++) {
        long long d = llabs((long long)x[k] - y[k]);
        /* Channels TensorFlow widens for their bias (dead channels, all
         * weights 0) quantize to about 2^30, where float32, in which both
         * quantizers compute, steps by 64-128: there etpu and TensorFlow land
         * within two steps (widened_far counts them); elsewhere within 1. */
        bool widened = llabs((long long)y[k]) >= (1LL << 29);
        if (widened) {
          widened_n++;
          widened_far += d > 1;
          bbad += d > 256;
        } else {
          if (d > worst) worst = d;
          bbad += d > 1;
        }
        if (d > 1 && getenv("ETPU_TEST_VERBOSE"))
          printf("  t%u '%s'[%zu]: etpu %d (scale %g), TensorFlow %d (scale %g)\n", t, a.name, k, x[k],
                 a.scale[a.quant_count == 1 ? 0 : k], y[k], b.scale[b.quant_count == 1 ? 0 : k]);
      }
    }
  }
  CHECK_MSG(acts == given && acts_equal == acts, "%s: %u of %u activation parameters equal TensorFlow's (%u given)",
            float_name, acts_equal, acts, given);
  CHECK_MSG(wvals > 0 && wbad == 0, "%s: %u of %u weights off by more than 1", float_name, wbad, wvals);
  CHECK_MSG(bvals > 0 && bbad == 0, "%s: %u of %u biases off by more than 1 (256 near 2^30; worst elsewhere %lld)",
            float_name, bbad, bvals, worst);
  printf("%s with TensorFlow's activation ranges: %u/%u activation parameters equal; %u weights within 1; %u "
         "biases: %u within 1 (largest difference %lld), %u of widened dead channels near 2^30 (%u of them 1-2 "
         "float32 steps off)\n",
         float_name, acts_equal, acts, wvals, bvals, bvals - widened_n, worst, widened_n, widened_far);
done:
  etpu_calibration_free(cal);
  etpu_model_free(q);
  etpu_model_free(tf);
  etpu_model_free(fm);
}

int main(void) {
  const char *shared = tu_shared_dir();
  if (!shared) return tu_skip_code();
  check_pair(shared, "vww_96_float.tflite", "vww_96_int8.tflite", 255.0f);
  check_pair(shared, "pretrainedResnet.tflite", "pretrainedResnet_quant.tflite", 1.0f);
  check_with_tf_ranges(shared, "vww_96_float.tflite", "vww_96_int8.tflite");
  check_with_tf_ranges(shared, "pretrainedResnet.tflite", "pretrainedResnet_quant.tflite");
  return tu_finish("quant");
}
