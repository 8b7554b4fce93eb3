/*
 * test_builder.c — the builder and editor API, and how the reader treats
 * well-formed content it does not know.
 *
 *  - a model built op by op writes, reopens and answers queries (options with
 *    schema defaults, shapes, quantization, producer/consumer links);
 *  - edits: replace constant data, remove an op and its tensors (indices
 *    renumber), set graph I/O; invalid edits fail with a message and change
 *    nothing;
 *  - op codes above 127 are written with deprecated_builtin_code 127 and read
 *    back as max(deprecated, builtin);
 *  - an unknown op code opens (reported as UNKNOWN); an unknown tensor type
 *    or options union member is ETPU_UNSUPPORTED, not ETPU_MALFORMED.
 */
#include <string.h>

#include "model/graph.h"
#include "testutil.h"

static etpu_model *build_small(void) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  float s = 0.5f;
  int64_t zp = -3;
  etpu_quant_params q = {1, &s, &zp, 0};
  int32_t in, w, b, out, act;
  CHECK_OK(etpu_model_add_tensor(m, 0, "in", ETPU_INT8, 4, (int32_t[]){1, 4, 4, 2}, &q, NULL, 0, &in));
  int8_t wd[3 * 1 * 1 * 2] = {1, -2, 3, -4, 5, -6};
  float ws[3] = {0.1f, 0.2f, 0.3f};
  int64_t wz[3] = {0, 0, 0};
  etpu_quant_params wq = {3, ws, wz, 0};
  CHECK_OK(etpu_model_add_tensor(m, 0, "w", ETPU_INT8, 4, (int32_t[]){3, 1, 1, 2}, &wq, wd, sizeof wd, &w));
  int32_t bd[3] = {10, 20, 30};
  CHECK_OK(etpu_model_add_tensor(m, 0, "b", ETPU_INT32, 1, (int32_t[]){3}, NULL, bd, sizeof bd, &b));
  CHECK_OK(etpu_model_add_tensor(m, 0, "conv", ETPU_INT8, 4, (int32_t[]){1, 4, 4, 3}, &q, NULL, 0, &out));
  CHECK_OK(etpu_model_add_tensor(m, 0, "act", ETPU_INT8, 4, (int32_t[]){1, 4, 4, 3}, &q, NULL, 0, &act));
  etpu_option o[] = {{"padding", 0, 0, 0, NULL}, {"stride_w", 1, 0, 0, NULL}, {"stride_h", 1, 0, 0, NULL},
                     {"fused_activation_function", 1, 0, 0, NULL}};
  CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, 3, 3, (int32_t[]){in, w, b}, 1, &out, 4, o, NULL, 0, NULL));
  CHECK_OK(etpu_model_add_op(m, 0, 150 /* GELU, code > 127 */, NULL, 1, 1, &out, 1, &act, 0, NULL, NULL, 0, NULL));
  CHECK_OK(etpu_model_set_io(m, 0, 1, &in, 1, &act));
  return m;
}

static etpu_model *reopen(const etpu_model *m) {
  void *buf = NULL;
  size_t n = 0;
  etpu_model *r = NULL;
  CHECK_OK(etpu_model_write_buffer(m, 0, &buf, &n));
  if (buf) CHECK_OK(etpu_model_open_buffer(buf, n, "rebuilt", ETPU_OPEN_COPY, &r));
  etpu_free(buf);
  return r;
}

static void test_build_and_query(void) {
  etpu_model *m = build_small();
  if (!m) return;
  etpu_model *r = reopen(m);
  if (!r) {
    etpu_model_free(m);
    return;
  }
  CHECK(etpu_model_op_count(r, 0) == 2);
  CHECK(etpu_model_tensor_count(r, 0) == 5);
  etpu_op_info op;
  CHECK_OK(etpu_model_op(r, 0, 0, &op));
  CHECK(op.code == ETPU_OP_CONV_2D && !strcmp(op.name, "CONV_2D") && op.version == 3);
  CHECK(!strcmp(op.options_name, "Conv2DOptions"));
  int64_t v = -1;
  CHECK_OK(etpu_model_op_option_int(r, 0, 0, "stride_w", &v));
  CHECK(v == 1);
  CHECK_OK(etpu_model_op_option_int(r, 0, 0, "dilation_h_factor", &v));
  CHECK(v == 1); /* schema default */
  CHECK_OK(etpu_model_op_option_int(r, 0, 0, "fused_activation_function", &v));
  CHECK(v == 1);
  CHECK(etpu_model_op_option_int(r, 0, 0, "no_such_field", &v) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "no_such_field") != NULL);
  char json[512];
  etpu_model_op_options_json(r, 0, 0, json, sizeof json);
  CHECK_MSG(strstr(json, "\"padding\": \"SAME\"") && strstr(json, "\"fused_activation_function\": \"RELU\""), "%s",
            json);
  CHECK_OK(etpu_model_op(r, 0, 1, &op));
  CHECK(op.code == 150 && !strcmp(op.name, "GELU"));
  etpu_tensor_info t;
  CHECK_OK(etpu_model_tensor(r, 0, 1, &t));
  CHECK(t.type == ETPU_INT8 && t.rank == 4 && t.shape[0] == 3 && t.quant_count == 3 && t.data_size == 6);
  CHECK(t.scale[2] == 0.3f && ((const int8_t *)t.data)[5] == -6);
  CHECK_OK(etpu_model_tensor(r, 0, 3, &t));
  CHECK(t.producer == 0 && t.consumer_count == 1 && !t.data);
  CHECK(etpu_model_input(r, 0, 0) == 0 && etpu_model_output(r, 0, 0) == 4);
  etpu_model_free(r);
  etpu_model_free(m);
}

/* Decode written bytes generically (for checks on the wire format). */
static etpu_fbt *decode(etpu_arena *a, const void *buf, size_t n) {
  etpu_fb_decoder d = {.buf = buf, .size = n, .arena = a, .label = "test"};
  etpu_fbt *root = NULL;
  CHECK_OK(etpu_fb_decode(&d, ETPU_T_Model, "TFL3", &root));
  return root;
}

static void test_wide_opcode_wire_format(void) {
  etpu_model *m = build_small();
  if (!m) return;
  void *buf = NULL;
  size_t n = 0;
  CHECK_OK(etpu_model_write_buffer(m, 0, &buf, &n));
  etpu_arena a;
  etpu_arena_init(&a);
  etpu_fbt *root = buf ? decode(&a, buf, n) : NULL;
  const etpu_fbv *ocs = root ? etpu_fbt_get(root, ETPU_F_Model_operator_codes) : NULL;
  CHECK(ocs && ocs->count == 2);
  if (ocs && ocs->count == 2) {
    const etpu_fbt *gelu = ocs->v.tv[1];
    CHECK(etpu_fbt_int(gelu, ETPU_F_OperatorCode_deprecated_builtin_code) == 127);
    CHECK(etpu_fbt_int(gelu, ETPU_F_OperatorCode_builtin_code) == 150);
    const etpu_fbt *conv = ocs->v.tv[0];
    CHECK(etpu_fbt_int(conv, ETPU_F_OperatorCode_deprecated_builtin_code) == 3);
    CHECK(etpu_fbt_int(conv, ETPU_F_OperatorCode_builtin_code) == 3);
  }
  /* Buffer data is 16-byte aligned in the file. */
  const etpu_fbv *bufs = root ? etpu_fbt_get(root, ETPU_F_Model_buffers) : NULL;
  for (uint32_t i = 0; bufs && i < bufs->count; i++) {
    const etpu_fbv *d = etpu_fbt_get(bufs->v.tv[i], ETPU_F_Buffer_data);
    if (d && d->count) CHECK_MSG(((const uint8_t *)d->v.p - (const uint8_t *)buf) % 16 == 0, "buffer %u", i);
  }
  etpu_arena_free(&a);
  etpu_free(buf);
  etpu_model_free(m);
}

static void test_edits(void) {
  etpu_model *m = build_small();
  if (!m) return;
  /* Invalid edits fail with a message and change nothing. */
  int8_t wrong[5] = {0};
  CHECK(etpu_model_set_tensor_data(m, 0, 1, wrong, sizeof wrong) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "'w'") != NULL);
  CHECK(etpu_model_set_tensor_data(m, 0, 3, wrong, 0) == ETPU_INVALID_ARGUMENT); /* written by op 0 */
  CHECK(etpu_model_add_op(m, 0, ETPU_OP_RELU, NULL, 1, 1, (int32_t[]){0}, 1, (int32_t[]){3}, 0, NULL, NULL, 0, NULL) ==
        ETPU_INVALID_ARGUMENT); /* tensor 3 already has a producer */
  CHECK(etpu_model_add_op(m, 0, ETPU_OP_RELU, NULL, 1, 1, (int32_t[]){99}, 1, (int32_t[]){3}, 0, NULL, NULL, 0, NULL) ==
        ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "99") != NULL);
  etpu_option bad[] = {{"bogus", 1, 0, 0, NULL}};
  int32_t t5;
  CHECK_OK(etpu_model_add_tensor(m, 0, "extra", ETPU_INT8, 1, (int32_t[]){3}, NULL, NULL, 0, &t5));
  CHECK(etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, 1, 1, (int32_t[]){0}, 1, &t5, 1, bad, NULL, 0, NULL) ==
        ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "bogus") != NULL);
  CHECK(etpu_model_op_count(m, 0) == 2);
  CHECK(etpu_model_remove_tensor(m, 0, 1) == ETPU_INVALID_ARGUMENT); /* still used by op 0 */
  CHECK(etpu_model_add_tensor(m, 0, "x", ETPU_INT8, 1, (int32_t[]){4}, NULL, wrong, 5, NULL) == ETPU_INVALID_ARGUMENT);
  /* Replace constant data. */
  int8_t wd2[6] = {7, 7, 7, 7, 7, 7};
  CHECK_OK(etpu_model_set_tensor_data(m, 0, 1, wd2, sizeof wd2));
  /* Remove the GELU op and its output; make conv the output. */
  CHECK_OK(etpu_model_remove_op(m, 0, 1));
  CHECK_OK(etpu_model_set_io(m, 0, 1, (int32_t[]){0}, 1, (int32_t[]){3}));
  CHECK_OK(etpu_model_remove_tensor(m, 0, 4)); /* "act" */
  CHECK_OK(etpu_model_remove_tensor(m, 0, 4)); /* "extra" moved to 4 */
  etpu_model *r = reopen(m);
  if (r) {
    CHECK(etpu_model_op_count(r, 0) == 1 && etpu_model_tensor_count(r, 0) == 4);
    etpu_tensor_info t;
    CHECK_OK(etpu_model_tensor(r, 0, 1, &t));
    CHECK(t.data_size == 6 && ((const int8_t *)t.data)[0] == 7);
    CHECK(etpu_model_output(r, 0, 0) == 3);
    /* Compaction drops the replaced weights' old buffer. */
    void *full = NULL, *compact = NULL;
    size_t nf = 0, nc = 0;
    CHECK_OK(etpu_model_write_buffer(m, 0, &full, &nf));
    CHECK_OK(etpu_model_write_buffer(m, ETPU_WRITE_COMPACT, &compact, &nc));
    etpu_model *c = NULL;
    if (compact) CHECK_OK(etpu_model_open_buffer(compact, nc, "compact", ETPU_OPEN_COPY, &c));
    CHECK(c && etpu_model_buffer_count(c) == etpu_model_buffer_count(r) - 1);
    etpu_model_free(c);
    etpu_free(full);
    etpu_free(compact);
    etpu_model_free(r);
  }
  etpu_model_free(m);
}

/* Re-encode `buf` after changing one generic field, then open it. */
static etpu_status open_patched(const void *buf, size_t n, int what) {
  etpu_arena a;
  etpu_arena_init(&a);
  etpu_fbt *root = decode(&a, buf, n);
  etpu_status st = ETPU_INVALID_STATE;
  if (root) {
    const etpu_fbv *sgs = etpu_fbt_get(root, ETPU_F_Model_subgraphs);
    etpu_fbt *sg = sgs->v.tv[0];
    const etpu_fbv *tensors = etpu_fbt_get(sg, ETPU_F_SubGraph_tensors);
    const etpu_fbv *ops = etpu_fbt_get(sg, ETPU_F_SubGraph_operators);
    const etpu_fbv *ocs = etpu_fbt_get(root, ETPU_F_Model_operator_codes);
    if (what == 0) CHECK_OK(etpu_fbt_put_int(&a, tensors->v.tv[3], ETPU_F_Tensor_type, 99));
    if (what == 1) {
      CHECK_OK(etpu_fbt_put_int(&a, ocs->v.tv[1], ETPU_F_OperatorCode_builtin_code, 999));
    }
    if (what == 2) CHECK_OK(etpu_fbt_put_int(&a, ops->v.tv[0], ETPU_F_Operator_builtin_options_type, 250));
    uint8_t *out = NULL;
    size_t on = 0;
    CHECK_OK(etpu_fb_encode(root, "TFL3", &out, &on));
    etpu_model *m = NULL;
    st = etpu_model_open_buffer(out, on, "patched", ETPU_OPEN_COPY, &m);
    if (st == ETPU_OK && what == 1) {
      etpu_op_info op;
      CHECK_OK(etpu_model_op(m, 0, 1, &op));
      CHECK(op.code == 999 && !strcmp(op.name, "UNKNOWN"));
    }
    etpu_model_free(m);
    etpu_free(out);
  }
  etpu_arena_free(&a);
  return st;
}

static void test_unknown_content(void) {
  etpu_model *m = build_small();
  if (!m) return;
  void *buf = NULL;
  size_t n = 0;
  CHECK_OK(etpu_model_write_buffer(m, 0, &buf, &n));
  if (buf) {
    CHECK(open_patched(buf, n, 0) == ETPU_UNSUPPORTED);
    CHECK(strstr(etpu_errmsg(), "tensor type 99") != NULL);
    CHECK(open_patched(buf, n, 1) == ETPU_OK);
    CHECK(open_patched(buf, n, 2) == ETPU_UNSUPPORTED);
    CHECK(strstr(etpu_errmsg(), "union type 250") != NULL);
    /* Not a flatbuffer at all / wrong identifier: malformed. */
    etpu_model *x = NULL;
    CHECK(etpu_model_open_buffer("hello world, not a model", 24, "text", ETPU_OPEN_COPY, &x) == ETPU_MALFORMED);
    CHECK(strstr(etpu_errmsg(), "text: ") == etpu_errmsg() && strstr(etpu_errmsg(), "identifier"));
    CHECK(etpu_model_open_buffer(buf, 7, "short", ETPU_OPEN_COPY, &x) == ETPU_MALFORMED);
    CHECK(x == NULL);
  }
  etpu_free(buf);
  etpu_model_free(m);
}

static void test_errors_never_null(void) {
  etpu_model *m = NULL;
  CHECK(etpu_model_open("/nonexistent/dir/model.tflite", &m) == ETPU_IO_ERROR);
  CHECK(strstr(etpu_errmsg(), "/nonexistent/dir/model.tflite") != NULL);
  CHECK(etpu_model_open(NULL, &m) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_errmsg() != NULL && etpu_errmsg()[0] != 0);
  CHECK(!strcmp(etpu_status_name(ETPU_MALFORMED), "malformed model"));
  CHECK(!strcmp(etpu_dtype_name(ETPU_INT8), "INT8") && !strcmp(etpu_dtype_name(1234), "UNKNOWN"));
  CHECK(!strcmp(etpu_op_code_name(ETPU_OP_CONV_2D), "CONV_2D") && !strcmp(etpu_op_code_name(-5), "UNKNOWN"));
}

/* The one op list (ETPU_BUILTIN_OP_LIST) is the schema's BuiltinOperator
 * enum: every code in order, every name as schema.fbs spells it, none left
 * out (the first code past the list is unknown to the schema too). */
static void test_op_list_is_the_schema(void) {
  int32_t next = 0, bad = 0;
#define ETPU_X_(code, name)                                                               \
  if ((code) != next++ || strcmp(etpu_op_code_name(code), #name) != 0) {                  \
    fprintf(stderr, "op list: X(%d, %s) but the schema says %s\n", (code), #name, etpu_op_code_name(code)); \
    bad++;                                                                                \
  }
  ETPU_BUILTIN_OP_LIST(ETPU_X_)
#undef ETPU_X_
  CHECK(bad == 0);
  CHECK(next == 210 && ETPU_OP_STABLEHLO_CASE == 209 && ETPU_OP_TILE == 69 && ETPU_OP_MIRROR_PAD == 100);
  CHECK(!strcmp(etpu_op_code_name(next), "UNKNOWN"));
}

int main(void) {
  test_build_and_query();
  test_wide_opcode_wire_format();
  test_edits();
  test_unknown_content();
  test_errors_never_null();
  test_op_list_is_the_schema();
  return tu_finish("builder");
}
