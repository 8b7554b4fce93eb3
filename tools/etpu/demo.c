/*
 * demo.c — `etpu demo OUT.tflite`: the bundled default model, built op by op
 * with the public builder API (nothing is shipped as a binary).
 *
 * A small uint8 MobileNet-style classifier, quantized the way Coral's uint8
 * models are (per-tensor asymmetric uint8, int32 biases at in x w scale):
 *   input u8[1,32,32,3] -> CONV_2D 3x3/2 (8, RELU6) -> DEPTHWISE_CONV_2D 3x3
 *   (RELU6) -> CONV_2D 1x1 (16, RELU6) -> AVERAGE_POOL_2D 16x16 -> RESHAPE
 *   [1,16] -> FULLY_CONNECTED (10) -> SOFTMAX -> u8[1,10]
 * `etpu demo --extractor OUT` writes the same network cut after the RESHAPE
 * (output u8[1,16], the embedding), the shape of Coral's
 * *_embedding_extractor models that imprint, train and extract take.
 * Weights come from a fixed linear congruential generator, so the file is the
 * same byte for byte on every machine.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static uint32_t g_seed = 12345u;
static uint8_t next_u8(void) {
  g_seed = g_seed * 1664525u + 1013904223u;
  return (uint8_t)(g_seed >> 24);
}

#define TRY(x)                       \
  do {                               \
    if ((st = (x)) != ETPU_OK) goto fail; \
  } while (0)

static etpu_status act(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape, float scale, int64_t zp,
                       int32_t *idx) {
  etpu_quant_params q = {1, &scale, &zp, 0};
  return etpu_model_add_tensor(m, 0, name, ETPU_UINT8, rank, shape, &q, NULL, 0, idx);
}

static etpu_status weights(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape, float scale,
                           int64_t zp, size_t n, int32_t *idx) {
  uint8_t buf[4096];
  for (size_t i = 0; i < n; i++) buf[i] = next_u8();
  etpu_quant_params q = {1, &scale, &zp, 0};
  return etpu_model_add_tensor(m, 0, name, ETPU_UINT8, rank, shape, &q, buf, n, idx);
}

static etpu_status bias(etpu_model *m, const char *name, int32_t n, float scale, int32_t *idx) {
  int32_t buf[64];
  for (int32_t i = 0; i < n; i++) buf[i] = (int32_t)next_u8() * 16 - 2048;
  int64_t zp = 0;
  etpu_quant_params q = {1, &scale, &zp, 0};
  return etpu_model_add_tensor(m, 0, name, ETPU_INT32, 1, &n, &q, buf, (size_t)n * 4, idx);
}

etpu_status etpu_demo_build(bool extractor, etpu_model **out) {
  etpu_model *m = NULL;
  etpu_status st = etpu_model_create(&m);
  if (st != ETPU_OK) return st;
  g_seed = 12345u;
  int32_t in, c1w, c1b, c1, dww, dwb, dw, c2w, c2b, c2, pool, rs, shp, fcw, fcb, fc, sm;
  const float s_in = 1.0f / 128, s_w = 0.02f, s_act = 6.0f / 255;
  TRY(act(m, "input", 4, (int32_t[]){1, 32, 32, 3}, s_in, 128, &in));
  TRY(weights(m, "conv1/weights", 4, (int32_t[]){8, 3, 3, 3}, s_w, 128, 8 * 3 * 3 * 3, &c1w));
  TRY(bias(m, "conv1/bias", 8, s_in * s_w, &c1b));
  TRY(act(m, "conv1/Relu6", 4, (int32_t[]){1, 16, 16, 8}, s_act, 0, &c1));
  TRY(weights(m, "dw/weights", 4, (int32_t[]){1, 3, 3, 8}, s_w, 128, 3 * 3 * 8, &dww));
  TRY(bias(m, "dw/bias", 8, s_act * s_w, &dwb));
  TRY(act(m, "dw/Relu6", 4, (int32_t[]){1, 16, 16, 8}, s_act, 0, &dw));
  TRY(weights(m, "conv2/weights", 4, (int32_t[]){16, 1, 1, 8}, s_w, 128, 16 * 8, &c2w));
  TRY(bias(m, "conv2/bias", 16, s_act * s_w, &c2b));
  TRY(act(m, "conv2/Relu6", 4, (int32_t[]){1, 16, 16, 16}, s_act, 0, &c2));
  TRY(act(m, "pool", 4, (int32_t[]){1, 1, 1, 16}, s_act, 0, &pool));
  int32_t shape_data[2] = {1, 16};
  TRY(etpu_model_add_tensor(m, 0, "reshape/shape", ETPU_INT32, 1, (int32_t[]){2}, NULL, shape_data, 8, &shp));
  TRY(act(m, "reshape", 2, (int32_t[]){1, 16}, s_act, 0, &rs));
  TRY(weights(m, "fc/weights", 2, (int32_t[]){10, 16}, s_w, 128, 160, &fcw));
  TRY(bias(m, "fc/bias", 10, s_act * s_w, &fcb));
  TRY(act(m, "logits", 2, (int32_t[]){1, 10}, 0.1f, 128, &fc));
  TRY(act(m, "probabilities", 2, (int32_t[]){1, 10}, 1.0f / 256, 0, &sm));

  etpu_option conv1[] = {{"padding", 0, 0, 0, NULL}, {"stride_w", 2, 0, 0, NULL}, {"stride_h", 2, 0, 0, NULL},
                         {"fused_activation_function", 3, 0, 0, NULL}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, 1, 3, (int32_t[]){in, c1w, c1b}, 1, &c1, 4, conv1, NULL, 0, NULL));
  etpu_option dwo[] = {{"padding", 0, 0, 0, NULL}, {"stride_w", 1, 0, 0, NULL}, {"stride_h", 1, 0, 0, NULL},
                       {"depth_multiplier", 1, 0, 0, NULL}, {"fused_activation_function", 3, 0, 0, NULL}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_DEPTHWISE_CONV_2D, NULL, 1, 3, (int32_t[]){c1, dww, dwb}, 1, &dw, 5, dwo, NULL, 0,
                        NULL));
  etpu_option conv2[] = {{"padding", 1, 0, 0, NULL}, {"stride_w", 1, 0, 0, NULL}, {"stride_h", 1, 0, 0, NULL},
                         {"fused_activation_function", 3, 0, 0, NULL}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, 1, 3, (int32_t[]){dw, c2w, c2b}, 1, &c2, 4, conv2, NULL, 0, NULL));
  etpu_option po[] = {{"padding", 1, 0, 0, NULL}, {"stride_w", 1, 0, 0, NULL}, {"stride_h", 1, 0, 0, NULL},
                      {"filter_width", 16, 0, 0, NULL}, {"filter_height", 16, 0, 0, NULL}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_AVERAGE_POOL_2D, NULL, 1, 1, &c2, 1, &pool, 5, po, NULL, 0, NULL));
  etpu_option ro[] = {{"new_shape", 0, 0, 2, shape_data}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, 1, 2, (int32_t[]){pool, shp}, 1, &rs, 1, ro, NULL, 0, NULL));
  if (extractor) {
    /* The weights are drawn in one sequence, so these layers equal the
     * classifier's; its FC tensors stay in the file, unused by any op. */
    TRY(etpu_model_set_io(m, 0, 1, &in, 1, &rs));
    TRY(etpu_model_set_description(m, "etpu demo embedding extractor (generated)"));
    *out = m;
    return ETPU_OK;
  }
  TRY(etpu_model_add_op(m, 0, ETPU_OP_FULLY_CONNECTED, NULL, 1, 3, (int32_t[]){rs, fcw, fcb}, 1, &fc, 0, NULL, NULL, 0,
                        NULL));
  etpu_option so[] = {{"beta", 0, 1.0, 0, NULL}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_SOFTMAX, NULL, 1, 1, &fc, 1, &sm, 1, so, NULL, 0, NULL));
  TRY(etpu_model_set_io(m, 0, 1, &in, 1, &sm));
  TRY(etpu_model_set_description(m, "etpu demo classifier (generated)"));
  *out = m;
  return ETPU_OK;
fail:
  /* The message of the failing call is kept in etpu_errmsg(). */
  etpu_model_free(m);
  return st;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: etpu demo [-o] OUT.tflite [--extractor] [--json]\n"
          "  write the bundled demo model (a small uint8 classifier, built with the builder API) to OUT\n"
          "  -o, --output OUT  the file to write (written atomically); also the one argument\n"
          "  --extractor       write its embedding extractor instead (cut before the classifier layer: output\n"
          "                    [1,16]), for imprint, train and extract\n"
          "  --json            print what was written as JSON\n"
          "  -h, --help        this help\n");
}

int etpu_cmd_demo(int argc, char **argv) {
  const char *out = NULL, *v;
  bool json = false, extractor = false;
  for (int i = 1; i < argc; i++) {
    int r;
    if (cli_common_flag("demo", argv[i], usage, &json, &r)) {
      if (r >= 0) return r;
      continue;
    }
    if (!strcmp(argv[i], "--extractor")) {
      extractor = true;
      continue;
    }
    if ((r = cli_flag_value("demo", argc, argv, &i, "--output", "-o", &v)) < 0) return CLI_EXIT_USAGE;
    if (r == 0 && argv[i][0] == '-' && argv[i][1]) return cli_usage_error("demo", "unknown option '%s'", cli_t(argv[i]));
    if (r == 0) v = argv[i];
    if (out) return cli_usage_error("demo", "one output file ('%s' is extra)", cli_t(v));
    out = v;
  }
  if (!out) return cli_usage_error("demo", "no OUT.tflite given");
  etpu_model *m;
  etpu_status st = etpu_file_check_writable(out); /* before any work */
  if (st != ETPU_OK) return cli_report(st);
  st = etpu_demo_build(extractor, &m);
  if (st != ETPU_OK) return cli_report(st);
  st = etpu_model_write_file(m, out, 0);
  etpu_model_free(m);
  if (st != ETPU_OK) return cli_report(st);
  if (json) {
    printf("{\"wrote\": ");
    cli_json_string(stdout, out);
    printf("}\n");
  } else {
    printf("wrote %s\n", cli_t(out));
  }
  return CLI_EXIT_OK;
}
