/*
 * test_quant_spec.c — etpu_quantize against the 8-bit specification
 * (TFLITE.md §5) on models it did not see when it was written:
 *
 *  1. float/quantizer_cases: the models of TensorFlow's own quantizer tests,
 *     quantized from the ranges they record (no samples). Each case checks
 *     what the spec requires of its op: symmetric per-channel (conv) or
 *     per-tensor (fully connected) int8 weights with zero point 0, int32
 *     biases at input x weight scale, equal parameters across CONCATENATION,
 *     SPLIT, PACK, UNPACK, TRANSPOSE, MAXIMUM, MINIMUM and pooling, SOFTMAX's
 *     fixed (1/256, -128), the recorded ranges turned into scale and zero
 *     point, weights shared by two convs quantized once; the cases etpu
 *     cannot quantize (state tensors, custom ops, several subgraphs, already
 *     quantized) are refused with the reason, and --allow-float keeps custom
 *     ops in float between DEQUANTIZE and QUANTIZE.
 *  2. float/ops: every single-op float32 model quantizes on seeded random
 *     samples and the int8 model runs (ABS included); POW and SQRT, which
 *     have no int8 kernel in TFLite, are refused by name in integer-only
 *     mode and kept in float with allow_float.
 *  3. the float models of float/: each float model quantizes (photos or seeded random
 *     samples), runs, and `etpu_compile` maps every op but the float I/O
 *     conversions, or the test names the Edge TPU rule that keeps an op on
 *     the CPU (DeepLab's x33 resize, as in Google's own compiled DeepLab).
 *  4. Refinement (etpu_quantize_refine) on the MobileNet v1 0.25 releases,
 *     calibrated and refined on 8 photos: against the float model on 6
 *     other photos, the SQNR of the logits must rise by at least 3 dB with
 *     bias correction, and with GPTQ rounding, and both together must beat
 *     each alone; GPTQ changes int8 weights only (same scales, zero points,
 *     biases), and the same inputs give the same bytes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- helpers ------------------------------------------------------------ */

static int32_t find_tensor(const etpu_model *m, const char *name) {
  uint32_t n = etpu_model_tensor_count(m, 0);
  for (uint32_t t = 0; t < n; t++) {
    etpu_tensor_info ti;
    if (etpu_model_tensor(m, 0, t, &ti) == ETPU_OK && !strcmp(ti.name, name)) return (int32_t)t;
  }
  return -1;
}

static bool tinfo(const etpu_model *m, const char *name, etpu_tensor_info *ti) {
  int32_t t = find_tensor(m, name);
  return t >= 0 && etpu_model_tensor(m, 0, (uint32_t)t, ti) == ETPU_OK;
}

/* Quantize a model from its recorded ranges. */
static etpu_status quant_recorded(const char *path, bool allow_float, etpu_model **fm, etpu_model **q) {
  *fm = *q = NULL;
  etpu_status st = etpu_model_open(path, fm);
  if (st != ETPU_OK) return st;
  etpu_calibration *cal = NULL;
  st = etpu_calibration_create(*fm, &cal);
  etpu_quantize_options o = {ETPU_QUANT_IO_FLOAT, allow_float};
  if (st == ETPU_OK) st = etpu_quantize(*fm, cal, &o, q);
  etpu_calibration_free(cal);
  return st;
}

/* Asymmetric int8 parameters the spec gives for [mn, mx]. */
static void expect_asym(const etpu_tensor_info *t, double mn, double mx) {
  if (mn > 0) mn = 0;
  if (mx < 0) mx = 0;
  double s = (mx - mn) / 255.0;
  double zp = -128.0 - mn / s;
  long long z = zp <= -128 ? -128 : zp >= 127 ? 127 : llround(zp);
  CHECK_MSG(t->type == ETPU_INT8 && t->quant_count == 1, "'%s': %s with %u scales, want int8 per tensor", t->name,
            etpu_dtype_name(t->type), t->quant_count);
  if (t->quant_count != 1) return;
  CHECK_MSG(fabs(t->scale[0] - s) <= 1e-6 * s && t->zero_point[0] == z, "'%s': (%g, %lld), want (%g, %lld)",
            t->name, t->scale[0], (long long)t->zero_point[0], s, z);
}

static bool same_params(const etpu_tensor_info *a, const etpu_tensor_info *b) {
  return a->type == ETPU_INT8 && b->type == ETPU_INT8 && a->quant_count == 1 && b->quant_count == 1 &&
         a->scale[0] == b->scale[0] && a->zero_point[0] == b->zero_point[0];
}

/* Every tensor of `names` shares the parameters of the first, which are the
 * asymmetric ones of [mn, mx]. */
static void expect_shared(const etpu_model *q, const char *const *names, double mn, double mx) {
  etpu_tensor_info first;
  if (!tinfo(q, names[0], &first)) {
    CHECK_MSG(false, "no tensor '%s'", names[0]);
    return;
  }
  expect_asym(&first, mn, mx);
  for (size_t i = 1; names[i]; i++) {
    etpu_tensor_info t;
    CHECK_MSG(tinfo(q, names[i], &t) && same_params(&first, &t), "'%s' does not share the parameters of '%s'",
              names[i], names[0]);
  }
}

/* Symmetric int8 weights per channel on dim (or per tensor, dim < 0):
 * zero points 0, values in [-127, 127], each channel's largest |q| is 127,
 * and the scale is max|w| / 127 of the float weights. */
static void expect_weights(const etpu_model *fm, const etpu_model *q, const char *name, int dim) {
  etpu_tensor_info f, w;
  if (!tinfo(fm, name, &f) || !tinfo(q, name, &w)) {
    CHECK_MSG(false, "no weights '%s'", name);
    return;
  }
  CHECK_MSG(w.type == ETPU_INT8 && w.data, "'%s' is %s", name, etpu_dtype_name(w.type));
  if (w.type != ETPU_INT8 || !w.data || f.type != ETPU_FLOAT32) return;
  uint32_t nch = dim >= 0 ? (uint32_t)f.shape[dim] : 1;
  CHECK_MSG(w.quant_count == nch && (dim < 0 || w.quantized_dimension == dim), "'%s': %u scales on dim %d, want %u on %d",
            name, w.quant_count, w.quantized_dimension, nch, dim);
  if (w.quant_count != nch) return;
  size_t inner = 1;
  for (uint32_t d = dim >= 0 ? (uint32_t)dim + 1 : f.rank; d < f.rank; d++) inner *= (size_t)f.shape[d];
  const float *fv = f.data;
  const int8_t *qv = w.data;
  for (uint32_t c = 0; c < nch; c++) {
    float mx = 0;
    int qmx = 0;
    for (size_t k = 0; k < w.data_size; k++) {
      if ((k / inner) % nch != c) continue;
      if (fabsf(fv[k]) > mx) mx = fabsf(fv[k]);
      if (abs(qv[k]) > qmx) qmx = abs(qv[k]);
      CHECK_MSG(qv[k] >= -127, "'%s': weight -128", name);
    }
    CHECK_MSG(w.zero_point[c] == 0, "'%s' channel %u: zero point %lld", name, c, (long long)w.zero_point[c]);
    if (mx > 0) {
      CHECK_MSG(fabs(w.scale[c] - mx / 127.0) <= 1e-6 * mx / 127.0 && qmx == 127,
                "'%s' channel %u: scale %g, max|q| %d; want %g and 127", name, c, w.scale[c], qmx, mx / 127.0);
    }
  }
}

/* int32 bias at input x weight scale, zero point 0, value round(b/scale). */
static void expect_bias(const etpu_model *fm, const etpu_model *q, const char *bias, const char *input,
                        const char *weights) {
  etpu_tensor_info fb, b, in, w;
  if (!tinfo(fm, bias, &fb) || !tinfo(q, bias, &b) || !tinfo(q, input, &in) || !tinfo(q, weights, &w)) {
    CHECK_MSG(false, "bias '%s', input '%s' or weights '%s' missing", bias, input, weights);
    return;
  }
  CHECK_MSG(b.type == ETPU_INT32 && b.data, "bias '%s' is %s", bias, etpu_dtype_name(b.type));
  if (b.type != ETPU_INT32 || in.quant_count != 1 || b.quant_count != w.quant_count) {
    CHECK_MSG(b.quant_count == w.quant_count, "bias '%s': %u scales, weights %u", bias, b.quant_count, w.quant_count);
    return;
  }
  const float *fv = fb.data;
  const int32_t *qv = b.data;
  for (uint32_t c = 0; c < b.quant_count; c++) {
    float s = in.scale[0] * w.scale[c];
    CHECK_MSG(b.scale[c] == s && b.zero_point[c] == 0, "bias '%s' channel %u: (%g, %lld), want (%g, 0)", bias, c,
              b.scale[c], (long long)b.zero_point[c], s);
  }
  for (size_t k = 0; k < b.data_size / 4; k++) {
    double want = round((double)fv[k] / b.scale[b.quant_count == 1 ? 0 : k]);
    CHECK_MSG(qv[k] == (int32_t)want, "bias '%s'[%zu] = %d, want %.0f", bias, k, qv[k], want);
  }
}

/* ---- 1. TensorFlow's quantizer test models -------------------------------- */

static void case_path(char *buf, size_t n, const char *shared, const char *name) {
  snprintf(buf, n, "%s/float/quantizer_cases/%s.bin", shared, name);
}

static void quantizer_cases(const char *shared) {
  char p[1024];
  etpu_model *fm = NULL, *q = NULL;
  uint32_t passed = 0;

  /* Pass-through ops: one set of parameters for every input and output. */
  static const struct {
    const char *name;
    const char *tensors[6];
    float mn, mx; /* the union of the ranges the model records */
  } same[] = {
      {"concat", {"output", "input0", "input1", NULL}, 0, 10},
      {"single_avg_pool_min_minus_5_max_plus_5", {"average_pooling2d_10/AvgPool", "Placeholder_13", NULL},
       -4.999446f, 4.998973f},
      /* transpose.bin holds a MAXIMUM, as TensorFlow's test data does */
      {"transpose", {"output", "input", "output/y", NULL}, -10, 1010},
      {"maximum", {"output", "input", "output/y", NULL}, -10, 1010},
      {"minimum", {"output", "input", "output/y", NULL}, -10, 1010},
      {"split", {"input", "split", "split:1", NULL}, 0, 255},
  };
  for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
    case_path(p, sizeof p, shared, same[i].name);
    etpu_status st = quant_recorded(p, false, &fm, &q);
    CHECK_MSG(st == ETPU_OK, "%s: %s", same[i].name, etpu_errmsg());
    if (q) {
      /* The spec's range is the union of the members' recorded ranges. */
      float mn = 0, mx = 0;
      for (size_t k = 0; same[i].tensors[k]; k++) {
        etpu_tensor_info f;
        if (!tinfo(fm, same[i].tensors[k], &f)) continue;
        float a, b;
        etpu_calibration *cal = NULL;
        if (etpu_calibration_create(fm, &cal) == ETPU_OK &&
            etpu_calibration_range(cal, (uint32_t)find_tensor(fm, same[i].tensors[k]), &a, &b)) {
          if (a < mn) mn = a;
          if (b > mx) mx = b;
        }
        etpu_calibration_free(cal);
      }
      CHECK_MSG(fabsf(mn - same[i].mn) <= 1e-5f * (1 + fabsf(same[i].mn)) &&
                    fabsf(mx - same[i].mx) <= 1e-5f * (1 + fabsf(same[i].mx)),
                "%s: recorded union [%g, %g], expected [%g, %g]",
                same[i].name, (double)mn, (double)mx, (double)same[i].mn, (double)same[i].mx);
      expect_shared(q, same[i].tensors, mn, mx);
      passed++;
    }
    etpu_model_free(q);
    etpu_model_free(fm);
  }

  /* Convolutions: per-channel weights on dim 0, bias at in x w. */
  static const char *const convs[] = {"single_conv_weights_min_0_max_plus_10",
                                      "single_conv_weights_min_minus_127_max_plus_127"};
  for (size_t i = 0; i < 2; i++) {
    case_path(p, sizeof p, shared, convs[i]);
    CHECK_MSG(quant_recorded(p, false, &fm, &q) == ETPU_OK, "%s: %s", convs[i], etpu_errmsg());
    if (q) {
      etpu_tensor_info in, out;
      CHECK(tinfo(q, "input", &in) && tinfo(q, "output", &out));
      expect_weights(fm, q, "conv_weights", 0);
      expect_bias(fm, q, "conv_bias", "input", "conv_weights");
      etpu_op_info op;
      CHECK_OK(etpu_model_op(q, 0, 1, &op));
      CHECK_MSG(op.code == ETPU_OP_CONV_2D && op.version >= 3, "%s: op 1 %s v%d, want CONV_2D v3", convs[i],
                op.name, op.version);
      passed++;
    }
    etpu_model_free(q);
    etpu_model_free(fm);
  }

  case_path(p, sizeof p, shared, "single_conv_no_bias");
  CHECK_MSG(quant_recorded(p, false, &fm, &q) == ETPU_OK, "single_conv_no_bias: %s", etpu_errmsg());
  if (q) {
    uint32_t nint8 = 0;
    for (uint32_t t = 0; t < etpu_model_tensor_count(q, 0); t++) {
      etpu_tensor_info ti;
      if (etpu_model_tensor(q, 0, t, &ti) == ETPU_OK && ti.data && ti.type == ETPU_INT8 && ti.quant_count > 1) nint8++;
    }
    CHECK_MSG(nint8 == 1, "single_conv_no_bias: %u per-channel int8 weight tensors, want 1", nint8);
    passed++;
  }
  etpu_model_free(q);
  etpu_model_free(fm);

  /* Two convs reading one weight tensor: quantized once, each bias at its
   * own input scale x the shared weight scales. The model records no range
   * for the two conv outputs: etpu_quantize must refuse (not make up scale
   * 1, zero point -128), naming them and counting; given their ranges, it
   * quantizes. */
  case_path(p, sizeof p, shared, "weight_shared_between_convs");
  etpu_status wst = quant_recorded(p, false, &fm, &q);
  CHECK_MSG(wst == ETPU_INVALID_STATE && !q && strstr(etpu_errmsg(), "2 activation tensor(s) have no range") &&
                strstr(etpu_errmsg(), "'out_1'") && strstr(etpu_errmsg(), "'out_2'"),
            "weight_shared_between_convs without ranges for out_1, out_2: %s: %s", etpu_status_name(wst),
            etpu_errmsg());
  etpu_model_free(q);
  q = NULL;
  if (fm) {
    etpu_calibration *wcal = NULL;
    etpu_quantize_options wo = {ETPU_QUANT_IO_FLOAT, false};
    CHECK_OK(etpu_calibration_create(fm, &wcal));
    int32_t o1 = find_tensor(fm, "out_1"), o2 = find_tensor(fm, "out_2");
    CHECK(o1 >= 0 && o2 >= 0);
    if (wcal && o1 >= 0 && o2 >= 0) {
      CHECK_OK(etpu_calibration_set_range(wcal, (uint32_t)o1, -4.0f, 4.0f));
      CHECK_OK(etpu_calibration_set_range(wcal, (uint32_t)o2, -4.0f, 4.0f));
      CHECK_MSG(etpu_quantize(fm, wcal, &wo, &q) == ETPU_OK, "weight_shared_between_convs: %s", etpu_errmsg());
      /* cover_range widens (never narrows) a range, and checks its arguments. */
      float lo = 0, hi = 0;
      CHECK_OK(etpu_calibration_cover_range(wcal, (uint32_t)o1, -1.0f, 8.0f));
      CHECK(etpu_calibration_range(wcal, (uint32_t)o1, &lo, &hi) && lo == -1.0f && hi == 8.0f);
      CHECK_OK(etpu_calibration_cover_range(wcal, (uint32_t)o1, 0.0f, 1.0f));
      CHECK(etpu_calibration_range(wcal, (uint32_t)o1, &lo, &hi) && lo == -1.0f && hi == 8.0f);
      CHECK(etpu_calibration_cover_range(wcal, 100000, 0.0f, 1.0f) == ETPU_INVALID_ARGUMENT);
      CHECK(etpu_calibration_cover_range(wcal, (uint32_t)o1, 1.0f, 0.0f) == ETPU_INVALID_ARGUMENT);
      CHECK(etpu_calibration_cover_range(wcal, (uint32_t)o1, NAN, 0.0f) == ETPU_INVALID_ARGUMENT);
      CHECK(etpu_calibration_cover_range(NULL, 0, 0.0f, 1.0f) == ETPU_INVALID_ARGUMENT);
    }
    etpu_calibration_free(wcal);
  }
  if (q) {
    uint32_t convs_seen = 0;
    for (uint32_t i = 0; i < etpu_model_op_count(q, 0); i++) {
      etpu_op_info op;
      if (etpu_model_op(q, 0, i, &op) != ETPU_OK || op.code != ETPU_OP_CONV_2D) continue;
      convs_seen++;
      etpu_tensor_info in, w, b, fb;
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[0], &in));
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[1], &w));
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[2], &b));
      CHECK_OK(etpu_model_tensor(fm, 0, (uint32_t)op.inputs[2], &fb));
      expect_bias(fm, q, b.name, in.name, w.name);
      CHECK_MSG(w.type == ETPU_INT8, "shared weights are %s", etpu_dtype_name(w.type));
    }
    CHECK_MSG(convs_seen == 2, "weight_shared_between_convs: %u convs", convs_seen);
    passed++;
  }
  etpu_model_free(q);
  etpu_model_free(fm);

  case_path(p, sizeof p, shared, "fc");
  CHECK_MSG(quant_recorded(p, false, &fm, &q) == ETPU_OK, "fc: %s", etpu_errmsg());
  if (q) {
    /* FULLY_CONNECTED: per-tensor symmetric weights. */
    for (uint32_t i = 0; i < etpu_model_op_count(q, 0); i++) {
      etpu_op_info op;
      if (etpu_model_op(q, 0, i, &op) != ETPU_OK || op.code != ETPU_OP_FULLY_CONNECTED) continue;
      etpu_tensor_info in, w, b;
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[0], &in));
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[1], &w));
      expect_weights(fm, q, w.name, -1);
      if (op.input_count > 2 && op.inputs[2] >= 0) {
        CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[2], &b));
        expect_bias(fm, q, b.name, in.name, w.name);
      }
      CHECK_MSG(op.version >= 4, "fc: FULLY_CONNECTED v%d, want >= 4", op.version);
      passed++;
    }
  }
  etpu_model_free(q);
  etpu_model_free(fm);

  case_path(p, sizeof p, shared, "single_softmax_min_minus_5_max_plus_5");
  CHECK_MSG(quant_recorded(p, false, &fm, &q) == ETPU_OK, "softmax: %s", etpu_errmsg());
  if (q) {
    etpu_tensor_info in, out;
    CHECK(tinfo(q, "Placeholder_12", &in) && tinfo(q, "Softmax_11", &out));
    expect_asym(&in, -4.999446f, 4.998973f);
    CHECK_MSG(out.quant_count == 1 && out.scale[0] == 1.0f / 256 && out.zero_point[0] == -128,
              "softmax output (%g, %lld), want (1/256, -128)", out.quant_count ? out.scale[0] : 0.0,
              out.quant_count ? (long long)out.zero_point[0] : 0LL);
    passed++;
  }
  etpu_model_free(q);
  etpu_model_free(fm);

  /* Own-range ops and a constant operand: asymmetric int8 over its values. */
  static const char *const own[] = {"add_with_const_input", "multi_input_add_reshape", "argmax", "pack", "unpack",
                                    "gather_nd"};
  for (size_t i = 0; i < sizeof own / sizeof own[0]; i++) {
    case_path(p, sizeof p, shared, own[i]);
    CHECK_MSG(quant_recorded(p, false, &fm, &q) == ETPU_OK, "%s: %s", own[i], etpu_errmsg());
    if (q) {
      /* Every float tensor of the float model is now int8 (or the float I/O
       * copy), with one scale; ARG_MAX's index output keeps its type. */
      for (uint32_t t = 0; t < etpu_model_tensor_count(fm, 0); t++) {
        etpu_tensor_info f, ti;
        CHECK_OK(etpu_model_tensor(fm, 0, t, &f));
        CHECK_OK(etpu_model_tensor(q, 0, t, &ti));
        if (f.type != ETPU_FLOAT32) {
          CHECK_MSG(ti.type == f.type, "%s: '%s' changed type", own[i], f.name);
          continue;
        }
        CHECK_MSG(ti.type == ETPU_INT8 && ti.quant_count == 1, "%s: '%s' is %s with %u scales", own[i], ti.name,
                  etpu_dtype_name(ti.type), ti.quant_count);
      }
      passed++;
    }
    etpu_model_free(q);
    etpu_model_free(fm);
  }

  /* Refused, with the reason. */
  static const struct {
    const char *name;
    etpu_status st;
    const char *why;
  } refused[] = {
      {"lstm_calibrated", ETPU_UNSUPPORTED, "variable tensor"},
      {"svdf_calibrated", ETPU_UNSUPPORTED, "variable tensor"},
      {"unidirectional_sequence_lstm_calibrated", ETPU_UNSUPPORTED, "variable tensor"},
      {"custom_op", ETPU_UNSUPPORTED, "CustomTestOp: no int8 rule"},
      {"mixed", ETPU_UNSUPPORTED, "op 2 CustomTestOp"},
      {"broadcast_to", ETPU_UNSUPPORTED, "BROADCAST_TO"},
      {"resource_vars_calibrated", ETPU_UNSUPPORTED, "2 subgraphs"},
      {"svdf_quantized", ETPU_INVALID_ARGUMENT, "already quantized"},
      {"fc_qat", ETPU_INVALID_ARGUMENT, "already quantized"},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    case_path(p, sizeof p, shared, refused[i].name);
    etpu_status st = quant_recorded(p, false, &fm, &q);
    CHECK_MSG(st == refused[i].st && strstr(etpu_errmsg(), refused[i].why) && strstr(etpu_errmsg(), p),
              "%s: status %s, message '%s' (want %s naming the file and '%s')", refused[i].name,
              etpu_status_name(st), etpu_errmsg(), etpu_status_name(refused[i].st), refused[i].why);
    if (st == refused[i].st) passed++;
    etpu_model_free(q);
    etpu_model_free(fm);
  }

  /* --allow-float: the custom ops stay float, DEQUANTIZE before, QUANTIZE
   * after, everything else int8. */
  case_path(p, sizeof p, shared, "mixed");
  CHECK_MSG(quant_recorded(p, true, &fm, &q) == ETPU_OK, "mixed --allow-float: %s", etpu_errmsg());
  if (q) {
    uint32_t custom = 0, deq = 0, quant = 0, bad = 0;
    for (uint32_t i = 0; i < etpu_model_op_count(q, 0); i++) {
      etpu_op_info op;
      CHECK_OK(etpu_model_op(q, 0, i, &op));
      etpu_tensor_info in, out;
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.inputs[0], &in));
      CHECK_OK(etpu_model_tensor(q, 0, (uint32_t)op.outputs[0], &out));
      if (op.code == ETPU_OP_CUSTOM) {
        custom++;
        bad += in.type != ETPU_FLOAT32 || out.type != ETPU_FLOAT32;
      } else if (op.code == ETPU_OP_DEQUANTIZE) {
        deq++;
      } else if (op.code == ETPU_OP_QUANTIZE) {
        quant++;
      } else {
        bad += in.type != ETPU_INT8 || out.type != ETPU_INT8;
      }
    }
    CHECK_MSG(custom == 2 && bad == 0 && deq == 2 && quant == 2,
              "mixed --allow-float: %u custom, %u DEQUANTIZE, %u QUANTIZE, %u ops of the wrong type", custom, deq,
              quant, bad);
    passed++;
  }
  etpu_model_free(q);
  etpu_model_free(fm);
  printf("quantizer_cases: %u checks of TensorFlow's quantizer test models passed their spec rules\n", passed);
}

/* ---- 2 and 3: calibration on samples ------------------------------------- */

/* Seeded uniform samples in [-1, 1] for every input; returns the count. */
typedef struct sample_set {
  uint32_t ninputs, n;
  float *data[16][8];
  size_t bytes[16];
} sample_set;

static uint32_t rng_state = 12345u;
static float rnd(void) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return (float)((rng_state >> 8) & 0xFFFFFF) / 8388608.0f - 1.0f;
}

static bool random_samples(const etpu_model *m, sample_set *s, uint32_t n) {
  memset(s, 0, sizeof *s);
  s->ninputs = etpu_model_input_count(m, 0);
  s->n = n;
  if (s->ninputs > 16 || n > 8) return false;
  for (uint32_t i = 0; i < s->ninputs; i++) {
    etpu_tensor_info ti;
    if (etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, i), &ti) != ETPU_OK) return false;
    size_t count = 1;
    for (uint32_t d = 0; d < ti.rank; d++) count *= ti.shape[d] > 0 ? (size_t)ti.shape[d] : 1;
    s->bytes[i] = count * sizeof(float);
    for (uint32_t k = 0; k < n; k++) {
      s->data[i][k] = malloc(s->bytes[i]);
      if (!s->data[i][k]) return false;
      for (size_t e = 0; e < count; e++) s->data[i][k][e] = rnd();
    }
  }
  return true;
}

static void free_samples(sample_set *s) {
  for (uint32_t i = 0; i < 16; i++)
    for (uint32_t k = 0; k < 8; k++) free(s->data[i][k]);
}

/* Photos for a one-image-input model (mean/std as the model expects). */
static bool photo_samples(const etpu_model *m, sample_set *s, const char *shared, float mean, float std) {
  static const char *const photos[] = {"coral/cat.bmp", "coral/bird.bmp", "coral/grace_hopper.bmp",
                                       "coral/sunflower.bmp", "float/images/burger.jpg", "coral/dragonfly.bmp"};
  memset(s, 0, sizeof *s);
  s->ninputs = 1;
  etpu_tensor_info ti;
  if (etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &ti) != ETPU_OK) return false;
  size_t count = 1;
  for (uint32_t d = 0; d < ti.rank; d++) count *= (size_t)ti.shape[d];
  s->bytes[0] = count * sizeof(float);
  etpu_input_options o = {ETPU_RESIZE_BILINEAR, true, mean, std};
  for (size_t k = 0; k < sizeof photos / sizeof photos[0]; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", shared, photos[k]);
    float *buf = malloc(s->bytes[0]);
    if (!buf) return false;
    if (etpu_tensor_load(path, &ti, &o, buf, s->bytes[0], NULL) != ETPU_OK) {
      free(buf);
      return false;
    }
    s->data[0][s->n++] = buf;
  }
  return true;
}

/* Calibrate, quantize (float I/O), run the int8 model once; *q_out on success. */
static etpu_status quantize_on_opt(const etpu_model *fm, const sample_set *s, bool allow_float, etpu_model **q_out) {
  *q_out = NULL;
  etpu_calibration *cal = NULL;
  etpu_status st = etpu_calibration_create(fm, &cal);
  for (uint32_t k = 0; st == ETPU_OK && k < s->n; k++) {
    const float *in[16];
    for (uint32_t i = 0; i < s->ninputs; i++) in[i] = s->data[i][k];
    st = etpu_calibration_run(cal, in, s->bytes, s->ninputs);
  }
  etpu_quantize_options o = {ETPU_QUANT_IO_FLOAT, allow_float};
  if (st == ETPU_OK) st = etpu_quantize(fm, cal, &o, q_out);
  if (st == ETPU_OK) {
    const float *in[16];
    for (uint32_t i = 0; i < s->ninputs; i++) in[i] = s->data[i][0];
    st = etpu_calibration_compare(cal, *q_out, in, s->bytes, s->ninputs);
  }
  etpu_calibration_free(cal);
  return st;
}

static etpu_status quantize_on(const etpu_model *fm, const sample_set *s, etpu_model **q_out) {
  return quantize_on_opt(fm, s, false, q_out);
}

static void single_op_models(const char *shared) {
  char dir[1024];
  snprintf(dir, sizeof dir, "%s/float/ops", shared);
  char **paths = NULL;
  size_t n = tu_list_models(dir, &paths);
  uint32_t ok = 0, refused = 0, considered = 0, abs_ok = 0;
  for (size_t i = 0; i < n; i++) {
    if (!strstr(paths[i], ".float32.tflite")) continue;
    considered++;
    etpu_model *fm = NULL, *q = NULL;
    CHECK_OK(etpu_model_open(paths[i], &fm));
    sample_set s;
    CHECK(random_samples(fm, &s, 4));
    etpu_status st = fm ? quantize_on(fm, &s, &q) : ETPU_INVALID_ARGUMENT;
    /* POW and SQRT have no int8 kernel in TFLite, so no int8 rule: refused by
     * name in integer-only mode; allow_float keeps them in float and the model runs. */
    const char *no_int8 = strstr(paths[i], "relu6-power") ? "POW" : strstr(paths[i], "abs-sqrt") ? "SQRT" : NULL;
    if (no_int8) {
      CHECK_MSG(st == ETPU_UNSUPPORTED && strstr(etpu_errmsg(), no_int8) && strstr(etpu_errmsg(), "--allow-float"),
                "%s: %s: %s", paths[i], etpu_status_name(st), etpu_errmsg());
      refused++;
      etpu_status st2 = quantize_on_opt(fm, &s, true, &q);
      CHECK_MSG(st2 == ETPU_OK, "%s with allow_float: %s", paths[i], etpu_errmsg());
      ok += st2 == ETPU_OK;
    } else {
      abs_ok += st == ETPU_OK && strstr(paths[i], "/abs") != NULL;
      CHECK_MSG(st == ETPU_OK, "%s: %s", paths[i], etpu_errmsg());
      ok += st == ETPU_OK;
    }
    free_samples(&s);
    etpu_model_free(q);
    etpu_model_free(fm);
  }
  tu_free_list(paths, n);
  CHECK_MSG(considered >= 50, "only %u single-op float models found in %s", considered, dir);
  CHECK_MSG(abs_ok == 2 && refused == 2, "%u of the 2 ABS models without SQRT quantized, %u POW/SQRT refusals (want 2 "
            "and 2)", abs_ok, refused);
  printf("float/ops: %u of %u single-op float models quantize and run (%u with ABS in int8); %u refused in "
         "integer-only mode (POW, SQRT: no int8 kernel), quantized with allow_float\n",
         ok, considered, abs_ok, refused);
}

static void float_models(const char *shared) {
  /* name, photo input (mean, std) or random, ops expected on the CPU
   * besides the float I/O QUANTIZE/DEQUANTIZE, and why. */
  static const struct {
    const char *file;
    bool photo;
    float mean, std;
    uint32_t cpu_extra;
    const char *why;
  } models[] = {
      {"vww_96_float.tflite", true, 0, 255, 0, NULL},
      {"pretrainedResnet.tflite", true, 0, 1, 0, NULL},
      {"pretrainedResnet_large_float.tflite", true, 0, 1, 0, NULL},
      {"mobilenet_v1_0.25_128.tflite", true, 127.5f, 127.5f, 0, NULL},
      {"mobilenet_v1_0.25_224_1_default_1.tflite", true, 127.5f, 127.5f, 0, NULL},
      {"palm_detection_lite.tflite", true, 0, 255, 0, NULL},
      {"ad01_fp32.tflite", false, 0, 1, 0, NULL},
      {"deeplabv3.tflite", true, 127.5f, 127.5f, 6, "RESIZE_BILINEAR"},
      /* a dynamic graph: SHAPE and its index arithmetic run on the CPU,
       * and everything after them stays there (one Edge TPU subgraph) */
      {"dilated_conv.tflite", false, 0, 1, 24, "SHAPE"},
  };
  char path[1024];
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
    snprintf(path, sizeof path, "%s/float/%s", shared, models[i].file);
    etpu_model *fm = NULL, *q = NULL;
    CHECK_OK(etpu_model_open(path, &fm));
    if (!fm) continue;
    sample_set s;
    bool have = models[i].photo ? photo_samples(fm, &s, shared, models[i].mean, models[i].std)
                                : random_samples(fm, &s, 4);
    CHECK_MSG(have, "%s: no samples", models[i].file);
    etpu_status st = have ? quantize_on(fm, &s, &q) : ETPU_INVALID_ARGUMENT;
    CHECK_MSG(st == ETPU_OK, "%s: %s", models[i].file, etpu_errmsg());
    etpu_compilation *c = NULL;
    if (q) CHECK_OK(etpu_compile(q, NULL, &c));
    if (c) {
      etpu_compile_summary sum;
      etpu_compilation_summary(c, &sum);
      uint32_t io = 0, other = 0;
      const char *first_other = "";
      char reason[256] = "";
      for (uint32_t k = 0; k < etpu_compilation_op_count(c); k++) {
        etpu_op_mapping mp;
        if (etpu_compilation_op(c, k, &mp) != ETPU_OK || mp.on_edgetpu) continue;
        if (!strcmp(mp.op_name, "QUANTIZE") || !strcmp(mp.op_name, "DEQUANTIZE")) {
          /* only the float I/O conversions (first op, or last ops) */
          etpu_op_info oi;
          if (etpu_model_op(q, 0, mp.op, &oi) == ETPU_OK) {
            etpu_tensor_info a, b;
            if (etpu_model_tensor(q, 0, (uint32_t)oi.inputs[0], &a) == ETPU_OK &&
                etpu_model_tensor(q, 0, (uint32_t)oi.outputs[0], &b) == ETPU_OK &&
                (a.type == ETPU_FLOAT32 || b.type == ETPU_FLOAT32)) {
              io++;
              continue;
            }
          }
        }
        if (!other++) {
          first_other = mp.op_name;
          snprintf(reason, sizeof reason, "%s", mp.reason);
        }
      }
      if (models[i].cpu_extra == 0) {
        CHECK_MSG(other == 0 && io >= 2, "%s: %u ops on the CPU besides %u float I/O conversions (first %s: %s)",
                  models[i].file, other, io, first_other, reason);
        printf("%-44s %u of %u ops on the Edge TPU, the rest the float I/O conversions\n", models[i].file,
               sum.edgetpu_ops, sum.total_ops);
      } else {
        CHECK_MSG(other == models[i].cpu_extra && !strcmp(first_other, models[i].why),
                  "%s: %u ops on the CPU, first %s (%s); expected %u besides the float I/O, first %s", models[i].file,
                  other, first_other, reason, models[i].cpu_extra, models[i].why);
        printf("%-44s %u of %u ops on the Edge TPU; on the CPU from %s: %s\n", models[i].file, sum.edgetpu_ops,
               sum.total_ops, first_other, reason);
      }
    }
    etpu_compilation_free(c);
    free_samples(&s);
    etpu_model_free(q);
    etpu_model_free(fm);
  }
  /* The rest of float/, with the reason each cannot be quantized in
   * integer-only mode, and whether allow_float quantizes it (keeping the
   * named op in float). */
  static const struct {
    const char *file;
    const char *why;
    bool allow_float_ok;
  } rest[] = {
      {"kws_ref_model_float32.tflite", "hybrid", false},
      {"selfie_segmentation.tflite", "Convolution2DTransposeBias", true},
      {"vww_96_int8.tflite", "already quantized", false},
  };
  for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) {
    snprintf(path, sizeof path, "%s/float/%s", shared, rest[i].file);
    etpu_model *fm = NULL, *q = NULL;
    CHECK_OK(etpu_model_open(path, &fm));
    if (!fm) continue;
    sample_set s;
    CHECK(random_samples(fm, &s, 1));
    etpu_status st = quantize_on(fm, &s, &q);
    CHECK_MSG(st != ETPU_OK && strstr(etpu_errmsg(), rest[i].why), "%s: %s (want a refusal naming '%s')",
              rest[i].file, st == ETPU_OK ? "quantized" : etpu_errmsg(), rest[i].why);
    printf("%-44s refused: %.160s\n", rest[i].file, etpu_errmsg());
    if (rest[i].allow_float_ok) {
      etpu_model_free(q);
      st = quantize_on_opt(fm, &s, true, &q);
      CHECK_MSG(st == ETPU_OK, "%s with allow_float: %s", rest[i].file, etpu_errmsg());
      uint32_t kept = 0, nops = q ? etpu_model_op_count(q, 0) : 0;
      for (uint32_t k = 0; k < nops; k++) {
        etpu_op_info oi;
        etpu_tensor_info t;
        if (etpu_model_op(q, 0, k, &oi) == ETPU_OK && oi.name && !strcmp(oi.name, rest[i].why) &&
            etpu_model_tensor(q, 0, (uint32_t)oi.outputs[0], &t) == ETPU_OK && t.type == ETPU_FLOAT32)
          kept++;
      }
      CHECK_MSG(kept == 1, "%s: %u float %s ops in the allow_float model (want 1)", rest[i].file, kept, rest[i].why);
      printf("%-44s allow_float: quantized, %s kept in float\n", rest[i].file, rest[i].why);
    }
    free_samples(&s);
    etpu_model_free(q);
    etpu_model_free(fm);
  }
}

/* ---- 4. refinement: bias correction and GPTQ ---------------------------------------------------- */

static bool load_photos(const etpu_model *m, const char *shared, const char *const *names, uint32_t n, float **out,
                        size_t *bytes) {
  etpu_tensor_info ti;
  if (etpu_model_tensor(m, 0, (uint32_t)etpu_model_input(m, 0, 0), &ti) != ETPU_OK) return false;
  *bytes = sizeof(float);
  for (uint32_t d = 0; d < ti.rank; d++) *bytes *= (size_t)ti.shape[d];
  etpu_input_options o = {ETPU_RESIZE_BILINEAR, true, 127.5f, 127.5f};
  for (uint32_t k = 0; k < n; k++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", shared, names[k]);
    if (!(out[k] = malloc(*bytes)) || etpu_tensor_load(path, &ti, &o, out[k], *bytes, NULL) != ETPU_OK) return false;
  }
  return true;
}

/* SQNR of the logits (the last conv's output, before SOFTMAX squashes
 * them) of q against the float model on the evaluation photos. */
static double output_sqnr(const etpu_model *fm, const etpu_model *q, float **eval, uint32_t n, size_t bytes) {
  etpu_calibration *cal = NULL;
  double sq = -INFINITY;
  if (etpu_calibration_create(fm, &cal) != ETPU_OK) return sq;
  bool ok = true;
  for (uint32_t k = 0; ok && k < n; k++) {
    const float *in[1] = {eval[k]};
    ok = etpu_calibration_compare(cal, q, in, &bytes, 1) == ETPU_OK;
  }
  int32_t out = find_tensor(fm, "MobilenetV1/Logits/Conv2d_1c_1x1/BiasAdd");
  if (!ok || out < 0 || !etpu_calibration_sqnr(cal, (uint32_t)out, &sq)) sq = -INFINITY;
  etpu_calibration_free(cal);
  return sq;
}

static void refinement(const char *shared) {
  static const char *const calib[] = {"coral/imprinting/cat_test_0.bmp",    "coral/imprinting/cat_train_0.bmp",
                                      "coral/imprinting/dog_test_0.bmp",    "coral/imprinting/dog_train_0.bmp",
                                      "coral/imprinting/hotdog_test_0.bmp", "coral/imprinting/hotdog_train_0.bmp",
                                      "coral/imprinting/hotdog_train_1.bmp", "coral/posenet/test_image.bmp"};
  static const char *const eval[] = {"coral/bird.bmp",      "coral/cat.bmp",    "coral/dragonfly.bmp",
                                     "coral/grace_hopper.bmp", "coral/sunflower.bmp", "float/images/burger.jpg"};
  static const char *const models[] = {"mobilenet_v1_0.25_128.tflite", "mobilenet_v1_0.25_224_1_default_1.tflite"};
  for (size_t mi = 0; mi < 2; mi++) {
    char path[1024];
    snprintf(path, sizeof path, "%s/float/%s", shared, models[mi]);
    etpu_model *fm = NULL;
    etpu_calibration *cal = NULL;
    float *cs[8] = {0}, *es[6] = {0};
    size_t bytes = 0;
    CHECK_OK(etpu_model_open(path, &fm));
    bool have = fm && load_photos(fm, shared, calib, 8, cs, &bytes) && load_photos(fm, shared, eval, 6, es, &bytes);
    CHECK_MSG(have, "%s: photos", models[mi]);
    if (have) CHECK_OK(etpu_calibration_create(fm, &cal));
    for (uint32_t k = 0; cal && k < 8; k++) {
      const float *in[1] = {cs[k]};
      CHECK_OK(etpu_calibration_run(cal, in, &bytes, 1));
    }
    const float *const *per[8];
    const float *one[8][1];
    for (uint32_t k = 0; k < 8; k++) {
      one[k][0] = cs[k];
      per[k] = one[k];
    }
    /* none, bias correction, GPTQ, both; and both again (determinism) */
    static const etpu_refine_options how[5] = {{false, false}, {false, true}, {true, false}, {true, true}, {true, true}};
    etpu_model *qs[5] = {0};
    double sq[5] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    etpu_refine_report rep[5] = {{0, 0, 0}};
    etpu_quantize_options o = {ETPU_QUANT_IO_FLOAT, false};
    for (int v = 0; cal && v < 5; v++) {
      CHECK_OK(etpu_quantize(fm, cal, &o, &qs[v]));
      if (!qs[v]) continue;
      if (v == 1) {
        uint32_t layers = 0; /* the bias-only entry point */
        CHECK_OK(etpu_quantize_correct_bias(cal, qs[v], 8, per, &bytes, 1, &layers));
        rep[v].corrected = layers;
      } else if (v > 0) {
        CHECK_OK(etpu_quantize_refine(cal, qs[v], &how[v], 8, per, &bytes, 1, &rep[v]));
      }
      sq[v] = output_sqnr(fm, qs[v], es, 6, bytes);
    }
    if (qs[0] && qs[1] && qs[2] && qs[3] && qs[4]) {
      printf("refinement %-40s logits SQNR on 6 other photos: none %.2f, bias correction %.2f, GPTQ %.2f, both %.2f dB\n",
             models[mi], sq[0], sq[1], sq[2], sq[3]);
      CHECK_MSG(rep[1].corrected == 28 && sq[1] >= sq[0] + 3.0,
                "%s: bias correction of %u layers: logits SQNR %.2f -> %.2f dB on other photos (want +3 dB)",
                models[mi], rep[1].corrected, sq[0], sq[1]);
      /* 28 layers; the logits layer (256 weights per channel, 8 samples x
       * 1 pixel) has too few input rows and keeps rounding to nearest, and
       * at 128 so does the last pointwise conv (256 weights, 8 x 4 x 4
       * pixels). */
      const uint32_t gptq_layers = mi == 0 ? 26 : 27;
      CHECK_MSG(rep[2].rounded == gptq_layers && rep[2].rounded_to_nearest == 28 - gptq_layers && rep[2].corrected == 0 &&
                    sq[2] >= sq[0] + 3.0,
                "%s: GPTQ of %u layers (%u to nearest): logits SQNR %.2f -> %.2f dB on other photos (want +3 dB)",
                models[mi], rep[2].rounded, rep[2].rounded_to_nearest, sq[0], sq[2]);
      CHECK_MSG(rep[3].rounded == gptq_layers && rep[3].corrected == 28 && sq[3] > sq[1] && sq[3] > sq[2],
                "%s: GPTQ and bias correction %.2f dB, above each alone (%.2f, %.2f)", models[mi], sq[3], sq[1],
                sq[2]);
      /* GPTQ changes weights only: every scale, zero point and bias of the
       * GPTQ-only model equals the plain one's, and some weights differ. */
      uint32_t nt = etpu_model_tensor_count(qs[0], 0), changed = 0, other = 0;
      for (uint32_t t = 0; t < nt; t++) {
        etpu_tensor_info a, b;
        if (etpu_model_tensor(qs[0], 0, t, &a) != ETPU_OK || etpu_model_tensor(qs[2], 0, t, &b) != ETPU_OK) {
          other++;
          continue;
        }
        bool same_q = a.quant_count == b.quant_count && (!a.quant_count || (!memcmp(a.scale, b.scale, a.quant_count * sizeof *a.scale) &&
                                                                          !memcmp(a.zero_point, b.zero_point, a.quant_count * sizeof *a.zero_point)));
        bool same_d = a.data_size == b.data_size && (!a.data || !memcmp(a.data, b.data, a.data_size));
        if (!same_q || (!same_d && a.type != ETPU_INT8)) other++;
        if (!same_d && a.type == ETPU_INT8) changed++;
      }
      CHECK_MSG(changed == gptq_layers && other == 0,
                "%s: GPTQ changed %u int8 weight tensors (want %u) and %u others (want 0)", models[mi], changed,
                gptq_layers, other);
      void *b3 = NULL, *b4 = NULL;
      size_t n3 = 0, n4 = 0;
      CHECK_OK(etpu_model_write_buffer(qs[3], 0, &b3, &n3));
      CHECK_OK(etpu_model_write_buffer(qs[4], 0, &b4, &n4));
      CHECK_MSG(b3 && b4 && n3 == n4 && !memcmp(b3, b4, n3), "%s: GPTQ + bias correction twice: same bytes", models[mi]);
      etpu_free(b3);
      etpu_free(b4);
    }
    for (int v = 0; v < 5; v++) etpu_model_free(qs[v]);
    for (uint32_t k = 0; k < 8; k++) free(cs[k]);
    for (uint32_t k = 0; k < 6; k++) free(es[k]);
    etpu_calibration_free(cal);
    etpu_model_free(fm);
  }
}

/* A weight tensor two convs share (TensorFlow's quantizer test model): GPTQ
 * must leave it rounded to nearest (a rounding fitted to one conv's inputs
 * would serve the other badly); bias correction still corrects both. */
static void refinement_shared_weights(const char *shared) {
  char p[1024];
  case_path(p, sizeof p, shared, "weight_shared_between_convs");
  etpu_model *fm = NULL, *q = NULL, *plain = NULL;
  etpu_calibration *cal = NULL;
  sample_set s;
  CHECK_OK(etpu_model_open(p, &fm));
  bool have = fm && random_samples(fm, &s, 8);
  CHECK_MSG(have, "weight_shared_between_convs: samples");
  if (have) CHECK_OK(etpu_calibration_create(fm, &cal));
  const float *one[8][16];
  const float *const *per[8];
  for (uint32_t k = 0; cal && k < s.n; k++) {
    for (uint32_t i = 0; i < s.ninputs; i++) one[k][i] = s.data[i][k];
    per[k] = one[k];
    CHECK_OK(etpu_calibration_run(cal, one[k], s.bytes, s.ninputs));
  }
  etpu_quantize_options o = {ETPU_QUANT_IO_FLOAT, false};
  if (cal) {
    CHECK_OK(etpu_quantize(fm, cal, &o, &q));
    CHECK_OK(etpu_quantize(fm, cal, &o, &plain));
  }
  if (q && plain) {
    etpu_refine_options ro = {true, true};
    etpu_refine_report rr = {0, 0, 0};
    CHECK_OK(etpu_quantize_refine(cal, q, &ro, s.n, per, s.bytes, s.ninputs, &rr));
    uint32_t differ = 0;
    for (uint32_t t = 0; t < etpu_model_tensor_count(q, 0); t++) {
      etpu_tensor_info a, b;
      if (etpu_model_tensor(q, 0, t, &a) == ETPU_OK && etpu_model_tensor(plain, 0, t, &b) == ETPU_OK &&
          a.type == ETPU_INT8 && a.data && (a.data_size != b.data_size || memcmp(a.data, b.data, a.data_size)))
        differ++;
    }
    CHECK_MSG(rr.rounded == 0 && rr.rounded_to_nearest == 2 && rr.corrected == 2 && differ == 0,
              "weight_shared_between_convs: GPTQ re-rounded %u, left %u, corrected %u; %u int8 weights changed "
              "(want 0, 2, 2, 0)", rr.rounded, rr.rounded_to_nearest, rr.corrected, differ);
  }
  free_samples(&s);
  etpu_calibration_free(cal);
  etpu_model_free(q);
  etpu_model_free(plain);
  etpu_model_free(fm);
}

int main(void) {
  const char *shared = tu_shared_dir();
  if (!shared) {
    printf("test_quant_spec: ../shared/data not found (set ETPU_SHARED_DATA)\n");
    return tu_skip_code();
  }
  quantizer_cases(shared);
  single_op_models(shared);
  float_models(shared);
  refinement(shared);
  refinement_shared_weights(shared);
  return tu_finish("test_quant_spec");
}
