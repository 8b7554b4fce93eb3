/*
 * test_params.c — the Edge TPU parameter codec (src/compile/params.c) on
 * every shared compiled pair: the parameter data encoded from the source
 * must equal the PARAMETER_CACHING parameters of Google's file byte for
 * byte, decoding Google's data must give every layer's source values back
 * (and re-encode to the same bytes), decode(encode(x)) must be x, and a
 * wrong pair (MobileNet v2's source against the inat_bird compiled model)
 * must differ from its first layer on. keras_lstm: the LSTM op must be
 * reported as not decoded.
 */
#include <string.h>

#include "testutil.h"

static const char *const kPairs[] = {
    "coral/mobilenet_v1_0.25_128_quant",
    "coral/mobilenet_v1_0.5_160_quant",
    "coral/mobilenet_v1_0.75_192_quant",
    "coral/mobilenet_v1_1.0_224_quant_embedding_extractor",
    "coral/mobilenet_v2_1.0_224_quant",
    "coral/legacy/mobilenet_v2_1.0_224_inat_bird_quant",
    "coral/mobilenet_edgetpu_0.75_224_post_training_quant",
    "coral/deeplabv3_mnv2_dm05_pascal_quant",
    "coral/deeplabv3_mnv2_pascal_quant",
    "coral/posenet/posenet_mobilenet_v1_075_353_481_16_quant_decoder",
};

static bool open_pair(const char *dir, const char *src_rel, const char *compiled_rel, etpu_model **src,
                      etpu_model **cm, etpu_package **p) {
  char a[1024], b[1024];
  snprintf(a, sizeof a, "%s/%s.tflite", dir, src_rel);
  snprintf(b, sizeof b, "%s/%s_edgetpu.tflite", dir, compiled_rel);
  *src = *cm = NULL;
  *p = NULL;
  CHECK_OK(etpu_model_open(a, src));
  CHECK_OK(etpu_model_open(b, cm));
  if (*cm) CHECK_OK(etpu_model_package(*cm, 0, 0, p));
  return *src && *cm && *p;
}

static void close_pair(etpu_model *src, etpu_model *cm, etpu_package *p) {
  etpu_package_free(p);
  etpu_model_free(cm);
  etpu_model_free(src);
}

/* Every layer of a equals b's values; b's layers re-encode exactly. */
static uint32_t equal_layers(const etpu_params *a, const etpu_params *b, const char *what) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < a->layer_count && i < b->layer_count; i++) {
    const char *d = etpu_param_layer_diff(&a->layers[i], &b->layers[i]);
    CHECK_MSG(!d && b->layers[i].exact, "%s: layer %u (op %u): %s", what, i, a->layers[i].op, d ? d : "not exact");
    n += !d && b->layers[i].exact;
  }
  return n;
}

static void true_pairs(const char *dir) {
  uint64_t total = 0;
  uint32_t layers = 0;
  for (size_t k = 0; k < sizeof kPairs / sizeof kPairs[0]; k++) {
    etpu_model *src, *cm;
    etpu_package *p;
    if (!open_pair(dir, kPairs[k], kPairs[k], &src, &cm, &p)) {
      close_pair(src, cm, p);
      continue;
    }
    const etpu_pkg_executable *pc = NULL;
    for (uint32_t i = 0; i < p->executable_count; i++)
      if (p->executables[i].type == ETPU_PKG_PARAMETER_CACHING) pc = &p->executables[i];
    etpu_params *enc = NULL, *dec = NULL, *round = NULL;
    CHECK_OK(etpu_params_match_package(src, p, &enc, &dec));
    if (enc && dec && pc) {
      CHECK_MSG(enc->size == pc->parameters_size && !memcmp(enc->data, pc->parameters, enc->size),
                "%s: encoded %zu bytes differ from Google's %zu", kPairs[k], enc->size, pc->parameters_size);
      CHECK_MSG(enc->unencoded_count == 0, "%s: %u ops not encoded", kPairs[k], enc->unencoded_count);
      CHECK(equal_layers(enc, dec, kPairs[k]) == enc->layer_count);
      /* decode(encode(x)) == x */
      CHECK_OK(etpu_params_decode(enc, enc->data, enc->size, &round));
      if (round) CHECK(equal_layers(enc, round, kPairs[k]) == enc->layer_count);
      total += enc->size;
      layers += enc->layer_count;
      /* Only the v1 test_data builds carry SOFTMAX tables. */
      CHECK_MSG(enc->softmax_tables == (strstr(kPairs[k], "mobilenet_v1_0.") != NULL), "%s: softmax variant %d",
                kPairs[k], enc->softmax_tables);
    }
    etpu_params_free(round);
    etpu_params_free(dec);
    etpu_params_free(enc);
    close_pair(src, cm, p);
  }
  printf("test_params: %u layers, %llu bytes equal to Google's parameter data\n", layers, (unsigned long long)total);
}

static void wrong_pair(const char *dir) {
  etpu_model *src, *cm;
  etpu_package *p;
  if (open_pair(dir, "coral/mobilenet_v2_1.0_224_quant", "coral/legacy/mobilenet_v2_1.0_224_inat_bird_quant", &src,
                &cm, &p)) {
    etpu_params *enc = NULL, *dec = NULL;
    CHECK_OK(etpu_params_match_package(src, p, &enc, &dec));
    if (enc && dec) {
      CHECK(enc->size == etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING)); /* same shapes */
      const char *d = etpu_param_layer_diff(&enc->layers[0], &dec->layers[0]);
      CHECK_MSG(d && !strcmp(d, "weights"), "first layer: %s", d ? d : "equal");
      CHECK(dec->layers[0].exact); /* Google's bytes are well-formed, just other weights */
    }
    etpu_params_free(dec);
    etpu_params_free(enc);
  }
  close_pair(src, cm, p);
}

static void lstm(const char *dir) {
  etpu_model *src, *cm;
  etpu_package *p;
  if (open_pair(dir, "coral/keras_lstm_mnist_ptq", "coral/keras_lstm_mnist_ptq", &src, &cm, &p)) {
    etpu_params *enc = NULL, *dec = NULL;
    CHECK_OK(etpu_params_match_package(src, p, &enc, &dec));
    if (enc) CHECK(enc->unencoded_count == 1 && enc->unencoded_ops[0] == 1); /* UNIDIRECTIONAL_SEQUENCE_LSTM */
    etpu_params_free(dec);
    etpu_params_free(enc);
  }
  close_pair(src, cm, p);
}

int main(void) {
  const char *dir = tu_shared_dir();
  if (!dir) return tu_skip_code();
  true_pairs(dir);
  wrong_pair(dir);
  lstm(dir);
  return tu_finish("test_params");
}
