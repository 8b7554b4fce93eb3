/*
 * hostile_names.c — test helper for hostile_strings.py: writes models whose
 * strings hold every byte 0x01-0xff and terminal escape sequences, so the
 * test can feed them to every subcommand that prints.
 *
 *   hostile_names rename IN.tflite OUT.tflite    every tensor, subgraph and
 *       metadata name and the description of IN made hostile (the graph is
 *       unchanged, so OUT still runs and compiles as IN does)
 *   hostile_names custom IN.tflite OUT.tflite    the same, and the last op
 *       turned into a CUSTOM op with a hostile custom code
 *   hostile_names float OUT.tflite               a small float model (CONV_2D
 *       3x3 RELU on [1,8,8,3] -> [1,8,8,4], then MEAN) with hostile names,
 *       for etpu quantize
 *
 * Names are edited through the library's graph (tests see src/) and written
 * with etpu_model_write_file, so the strings reach the file exactly as given.
 * Byte b (1..255) appears in name (b - 1) / per, where per spreads the 255
 * bytes over the names available; every name also holds ESC [2J (clear
 * screen), an OSC title sequence, CSI as the C1 code point U+009B, a bidi
 * override and an overlong NUL (0xc0 0x80).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/fb.h"
#include "model/graph.h"
#include "model/schema_gen.h"

static const char ATTACK[] = "\x1b[2J\x1b]0;owned\x07\xc2\x9b" "31m\xe2\x80\xae\xc0\x80";

/* Name k of n: "n<k>:" + its share of the bytes 1..255 + ATTACK. */
static char *hostile(etpu_model *m, uint32_t k, uint32_t n) {
  uint32_t per = (255 + n - 1) / n;
  char buf[512];
  size_t len = (size_t)snprintf(buf, sizeof buf, "n%u:", k);
  for (uint32_t b = 1 + k * per; b <= 255 && b < 1 + (k + 1) * per; b++) buf[len++] = (char)b;
  memcpy(buf + len, ATTACK, sizeof ATTACK);
  return etpu_arena_strdup(&m->arena, buf);
}

static int rename_all(etpu_model *m) {
  uint32_t n = 0;
  for (uint32_t s = 0; s < m->nsubgraphs; s++) n += m->subgraphs[s].ntensors + 1;
  const etpu_fbv *md = m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_metadata) : NULL;
  n += md ? md->count : 0;
  n += 1; /* description */
  uint32_t k = 0;
  for (uint32_t s = 0; s < m->nsubgraphs; s++) {
    etpu_gsubgraph *g = &m->subgraphs[s];
    if (!(g->name = hostile(m, k++, n))) return 1;
    for (uint32_t t = 0; t < g->ntensors; t++)
      if (!(g->tensors[t].name = hostile(m, k++, n))) return 1;
  }
  for (uint32_t i = 0; md && i < md->count; i++) {
    etpu_fbv *name = (etpu_fbv *)etpu_fbt_get(md->v.tv[i], ETPU_F_Metadata_name);
    if (!name) continue;
    const char *h = hostile(m, k++, n);
    if (!h) return 1;
    name->v.p = h;
    name->count = (uint32_t)strlen(h);
  }
  const char *d = hostile(m, k, n);
  return d && etpu_model_set_description(m, d) == ETPU_OK ? 0 : 1;
}

static int write_out(etpu_model *m, const char *path) {
  if (etpu_model_write_file(m, path, 0) != ETPU_OK) {
    fprintf(stderr, "hostile_names: %s\n", etpu_errmsg());
    return 1;
  }
  return 0;
}

static int make_float(const char *out) {
  etpu_model *m;
  if (etpu_model_create(&m) != ETPU_OK) return 1;
  float w[4 * 3 * 3 * 3], bias[4] = {0.1f, -0.2f, 0.05f, 0.0f};
  for (int i = 0; i < 4 * 27; i++) w[i] = (float)((i * 37) % 17 - 8) / 16.0f;
  int32_t in, wt, bt, conv, axes, mean;
  int32_t axes_data[2] = {1, 2};
  etpu_status st = etpu_model_add_tensor(m, 0, "in", ETPU_FLOAT32, 4, (int32_t[]){1, 8, 8, 3}, NULL, NULL, 0, &in);
  if (st == ETPU_OK)
    st = etpu_model_add_tensor(m, 0, "w", ETPU_FLOAT32, 4, (int32_t[]){4, 3, 3, 3}, NULL, w, sizeof w, &wt);
  if (st == ETPU_OK) st = etpu_model_add_tensor(m, 0, "b", ETPU_FLOAT32, 1, (int32_t[]){4}, NULL, bias, sizeof bias, &bt);
  if (st == ETPU_OK)
    st = etpu_model_add_tensor(m, 0, "conv", ETPU_FLOAT32, 4, (int32_t[]){1, 8, 8, 4}, NULL, NULL, 0, &conv);
  if (st == ETPU_OK)
    st = etpu_model_add_tensor(m, 0, "axes", ETPU_INT32, 1, (int32_t[]){2}, NULL, axes_data, sizeof axes_data, &axes);
  if (st == ETPU_OK) st = etpu_model_add_tensor(m, 0, "mean", ETPU_FLOAT32, 2, (int32_t[]){1, 4}, NULL, NULL, 0, &mean);
  etpu_option co[] = {{"padding", 0, 0, 0, NULL}, {"stride_w", 1, 0, 0, NULL}, {"stride_h", 1, 0, 0, NULL},
                      {"fused_activation_function", 1, 0, 0, NULL}};
  if (st == ETPU_OK)
    st = etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, 1, 3, (int32_t[]){in, wt, bt}, 1, &conv, 4, co, NULL, 0, NULL);
  etpu_option mo[] = {{"keep_dims", 0, 0, 0, NULL}};
  if (st == ETPU_OK)
    st = etpu_model_add_op(m, 0, ETPU_OP_MEAN, NULL, 1, 2, (int32_t[]){conv, axes}, 1, &mean, 1, mo, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 1, &in, 1, &mean);
  int rc = st == ETPU_OK ? rename_all(m) : 1;
  if (st != ETPU_OK) fprintf(stderr, "hostile_names: %s\n", etpu_errmsg());
  if (rc == 0) rc = write_out(m, out);
  etpu_model_free(m);
  return rc;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "float")) return make_float(argv[2]);
  if (argc != 4 || (strcmp(argv[1], "rename") && strcmp(argv[1], "custom"))) {
    fprintf(stderr, "usage: hostile_names rename|custom IN.tflite OUT.tflite | float OUT.tflite\n");
    return 2;
  }
  etpu_model *m;
  if (etpu_model_open(argv[2], &m) != ETPU_OK) {
    fprintf(stderr, "hostile_names: %s\n", etpu_errmsg());
    return 1;
  }
  int rc = rename_all(m);
  if (rc == 0 && !strcmp(argv[1], "custom")) {
    etpu_gsubgraph *g = &m->subgraphs[0];
    etpu_gopcode *oc = &m->opcodes[g->ops[g->nops - 1].opcode];
    oc->code = ETPU_OP_CUSTOM;
    oc->custom_code = hostile(m, 0, 1);
    g->ops[g->nops - 1].options = NULL;
    g->ops[g->nops - 1].options_type = 0;
    rc = oc->custom_code ? 0 : 1;
  }
  if (rc == 0) rc = write_out(m, argv[3]);
  etpu_model_free(m);
  return rc;
}
