/*
 * test_compile_rules.c — etpu compile's Edge TPU rules (EDGETPU.md §1, §2
 * Table 1, §4) and its partitioning (§5.3), on synthetic models built with
 * the public builder. No shared data is needed.
 *
 * Every rule is shown from both sides: the op MAPPED where Table 1 allows it
 * and NOT mapped where it does not, with the expected etpu_map_status and a
 * reason that names the offending values. Runtime-version rules are shown
 * at their boundary (-m 12 vs 13, -m 13 vs 14). The partition checks cover
 * the float-input QUANTIZE before the cut, the DEQUANTIZE after it, the
 * dataflow cut with an independent branch, -i, -a and -n. Every compilation
 * is written, every output model (and every Edge TPU payload) must reopen,
 * and compiling the same model again must give the same bytes.
 *
 * The dynamic-shape case needs a shape_signature, which the builder does not
 * set; it is put into the in-memory graph through model/graph.h (as
 * tests/test_builder.c does), written and reopened.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "model/graph.h"
#include "testutil.h"

/* Builtin codes not named in etpu.h. */
enum {
  OP_FLOOR = 8,
  OP_SPACE_TO_DEPTH = 26,
  OP_TRANSPOSE = 39,
  OP_SQUEEZE = 43,
  OP_LSTM = 44, /* UNIDIRECTIONAL_SEQUENCE_LSTM */
  OP_STRIDED_SLICE = 45,
  OP_PRELU = 54,
  OP_ARG_MAX = 56,
  OP_TRANSPOSE_CONV = 67,
  OP_EXPAND_DIMS = 70,
  OP_SUM = 74,
  OP_RSQRT = 76,
  OP_REDUCE_MAX = 82,
  OP_PACK = 83,
  OP_SQUARED_DIFFERENCE = 99,
};

/* Activation function enum values (schema). */
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 3, ACT_TANH = 4 };

static const char *g_case = ""; /* name of the case being checked, for messages */

/* ---- building --------------------------------------------------------------
 * L(a, b, c) expands to "count, array" for shapes and tensor lists;
 * OPTS(O("f", v), ...) to "count, array" of builtin options; NOPT to none. */
#define L(...) (uint32_t)(sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t)), (const int32_t[]){__VA_ARGS__}
#define OPTS(...) \
  (uint32_t)(sizeof((const etpu_option[]){__VA_ARGS__}) / sizeof(etpu_option)), (const etpu_option[]){__VA_ARGS__}
#define NOPT 0, NULL
#define O(name, v) {.field = (name), .i = (v)}
#define OF(name, v) {.field = (name), .f = (v)}
#define OV(name, n, p) {.field = (name), .count = (n), .ints = (p)}

static const float k_scale = 0.05f;
static const int64_t k_zp0 = 0;

static int32_t tensor(etpu_model *m, const char *name, int32_t type, const etpu_quant_params *q, const void *data,
                      size_t size, uint32_t rank, const int32_t *shape) {
  int32_t idx = -1;
  CHECK_OK(etpu_model_add_tensor(m, 0, name, type, rank, shape, q, data, size, &idx));
  return idx;
}

/* An int8 (or uint8) activation quantized per tensor. */
static int32_t act_t(etpu_model *m, const char *name, int32_t type, uint32_t rank, const int32_t *shape) {
  etpu_quant_params q = {1, &k_scale, &k_zp0, 0};
  return tensor(m, name, type, &q, NULL, 0, rank, shape);
}
static int32_t act8(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape) {
  return act_t(m, name, ETPU_INT8, rank, shape);
}
/* A float activation; an int8 tensor without quantization. */
static int32_t actf(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape) {
  return tensor(m, name, ETPU_FLOAT32, NULL, NULL, 0, rank, shape);
}
static int32_t raw8(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape) {
  return tensor(m, name, ETPU_INT8, NULL, NULL, 0, rank, shape);
}
static int32_t act16(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape) {
  etpu_quant_params q = {1, &k_scale, &k_zp0, 0};
  return tensor(m, name, ETPU_INT16, &q, NULL, 0, rank, shape);
}

static size_t elements(uint32_t rank, const int32_t *shape) {
  size_t n = 1;
  for (uint32_t i = 0; i < rank; i++) n *= (size_t)shape[i];
  return n;
}

/* A constant int8 tensor, quantized with zero point zp; every element is
 * `fill`, or a fixed non-zero pattern when fill is INT32_MIN. */
static int32_t const8_zp(etpu_model *m, const char *name, int32_t type, int64_t zp, int32_t fill, uint32_t rank,
                         const int32_t *shape) {
  size_t n = elements(rank, shape);
  uint8_t *d = malloc(n ? n : 1);
  if (!d) return -1;
  for (size_t i = 0; i < n; i++) d[i] = fill == INT32_MIN ? (uint8_t)(i * 37u + 11u) | 1u : (uint8_t)fill;
  etpu_quant_params q = {1, &k_scale, &zp, 0};
  int32_t idx = tensor(m, name, type, &q, d, n, rank, shape);
  free(d);
  return idx;
}
static int32_t w8(etpu_model *m, const char *name, uint32_t rank, const int32_t *shape) {
  return const8_zp(m, name, ETPU_INT8, 0, INT32_MIN, rank, shape);
}
/* A constant int32 vector (axes, paddings, shapes, biases). */
static int32_t c32(etpu_model *m, const char *name, uint32_t n, const int32_t *v) {
  int32_t shape[1] = {(int32_t)n};
  return tensor(m, name, ETPU_INT32, NULL, v, 4u * n, 1, shape);
}
static int32_t c32_2d(etpu_model *m, const char *name, int32_t rows, int32_t cols, const int32_t *v) {
  int32_t shape[2] = {rows, cols};
  return tensor(m, name, ETPU_INT32, NULL, v, 4u * (size_t)(rows * cols), 2, shape);
}
static int32_t bias32(etpu_model *m, const char *name, int32_t n) {
  int32_t *v = calloc((size_t)n, 4);
  if (!v) return -1;
  for (int32_t i = 0; i < n; i++) v[i] = 100 * i - 50;
  float s = k_scale * k_scale;
  etpu_quant_params q = {1, &s, &k_zp0, 0};
  int32_t shape[1] = {n};
  int32_t idx = tensor(m, name, ETPU_INT32, &q, v, 4u * (size_t)n, 1, shape);
  free(v);
  return idx;
}

static int32_t op_v(etpu_model *m, int32_t code, const char *custom, int32_t version, uint32_t nin,
                    const int32_t *in, uint32_t nout, const int32_t *out, uint32_t nopt, const etpu_option *opts) {
  int32_t idx = -1;
  CHECK_OK(etpu_model_add_op(m, 0, code, custom, version, nin, in, nout, out, nopt, opts, NULL, 0, &idx));
  return idx;
}
static int32_t op(etpu_model *m, int32_t code, uint32_t nin, const int32_t *in, uint32_t nout, const int32_t *out,
                  uint32_t nopt, const etpu_option *opts) {
  return op_v(m, code, NULL, 1, nin, in, nout, out, nopt, opts);
}

/* A CONV_2D 1x1 from `in` (channels cin) to a new activation `name`. */
static int32_t conv1x1(etpu_model *m, const char *name, int32_t in, int32_t h, int32_t w, int32_t cin, int32_t cout) {
  char wn[96], bn[96];
  snprintf(wn, sizeof wn, "%s/weights", name);
  snprintf(bn, sizeof bn, "%s/bias", name);
  int32_t wt = w8(m, wn, L(cout, 1, 1, cin));
  int32_t b = bias32(m, bn, cout);
  int32_t out = act8(m, name, L(1, h, w, cout));
  op(m, ETPU_OP_CONV_2D, L(in, wt, b), L(out), OPTS(O("padding", 0), O("stride_w", 1), O("stride_h", 1)));
  return out;
}

static etpu_model *begin(const char *name) {
  g_case = name;
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  return m;
}

/* Set the graph I/O (inputs: non-constant, non-variable tensors no op
 * writes; outputs: tensors no op reads), write, reopen. The original is
 * closed; the reopened model has gone through etpu's full verifier. */
static etpu_model *finish(etpu_model *m) {
  if (!m) return NULL;
  uint32_t nt = etpu_model_tensor_count(m, 0), nin = 0, nout = 0;
  int32_t *in = calloc(nt + 1, sizeof *in), *out = calloc(nt + 1, sizeof *out);
  for (uint32_t t = 0; in && out && t < nt; t++) {
    etpu_tensor_info ti;
    if (etpu_model_tensor(m, 0, t, &ti) != ETPU_OK) continue;
    if (ti.producer < 0 && !ti.data && !ti.is_variable && ti.consumer_count > 0) in[nin++] = (int32_t)t;
    if (ti.producer >= 0 && ti.consumer_count == 0) out[nout++] = (int32_t)t;
  }
  CHECK_OK(etpu_model_set_io(m, 0, nin, in, nout, out));
  free(in);
  free(out);
  void *buf = NULL;
  size_t n = 0;
  etpu_model *r = NULL;
  CHECK_OK(etpu_model_write_buffer(m, 0, &buf, &n));
  if (buf) CHECK_OK(etpu_model_open_buffer(buf, n, g_case, ETPU_OPEN_COPY, &r));
  CHECK_MSG(r != NULL, "%s: the synthetic model does not reopen: %s", g_case, etpu_errmsg());
  etpu_free(buf);
  etpu_model_free(m);
  return r;
}

/* ---- compiling and checking ------------------------------------------------ */

static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Check one output model: it reopens, and the payload of every Edge TPU op
 * starts with etpu's header (compile.h) and holds a model that opens. The
 * parameter bytes of its payloads are added to *params. */
static void check_output(const void *data, size_t size, uint32_t *custom_ops, uint64_t *params) {
  etpu_model *r = NULL;
  CHECK_OK(etpu_model_open_buffer(data, size, "compiled", 0, &r));
  if (!r) return;
  for (uint32_t i = 0; i < etpu_model_op_count(r, 0); i++) {
    etpu_op_info oi;
    CHECK_OK(etpu_model_op(r, 0, i, &oi));
    if (oi.code != ETPU_OP_CUSTOM || strcmp(oi.name, "edgetpu-custom-op") != 0) continue;
    (*custom_ops)++;
    const uint8_t *p = oi.custom_options;
    CHECK_MSG(p && oi.custom_options_size >= 48 && !memcmp(p, "ETPUSIM1", 8), "%s: custom op %u has no etpu payload",
              g_case, i);
    if (!p || oi.custom_options_size < 48) continue;
    uint32_t inner = rd32(p + 44);
    CHECK_MSG(48u + inner == oi.custom_options_size, "%s: payload size %u + 48 != %zu", g_case, inner,
              oi.custom_options_size);
    if (params) *params += rd64(p + 16);
    etpu_model *pm = NULL;
    CHECK_OK(etpu_model_open_buffer(p + 48, inner, "payload", ETPU_OPEN_COPY, &pm));
    if (pm) CHECK_MSG(etpu_model_op_count(pm, 0) == rd32(p + 40), "%s: payload op count", g_case);
    etpu_model_free(pm);
  }
  etpu_model_free(r);
}

/* Compile, write every output model, check each reopens, and compile again
 * to check the bytes are the same. Returns the first compilation. */
static etpu_compilation *compile_checked(const etpu_model *m, const etpu_compile_options *o) {
  etpu_compilation *c = NULL, *c2 = NULL;
  CHECK_OK(etpu_compile(m, o, &c));
  if (!c) {
    fprintf(stderr, "  (case %s)\n", g_case);
    return NULL;
  }
  CHECK_OK(etpu_compile(m, o, &c2));
  etpu_compile_summary s;
  etpu_compilation_summary(c, &s);
  uint32_t customs = 0;
  for (uint32_t k = 0; k < s.output_models; k++) {
    void *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    CHECK_OK(etpu_compilation_write(c, k, &a, &na));
    if (c2) CHECK_OK(etpu_compilation_write(c2, k, &b, &nb));
    CHECK_MSG(a && b && na == nb && !memcmp(a, b, na), "%s: output model %u differs between two compilations",
              g_case, k);
    if (a) check_output(a, na, &customs, NULL);
    etpu_free(a);
    etpu_free(b);
  }
  CHECK_MSG(customs == s.edgetpu_subgraphs, "%s: %u edgetpu-custom-ops written, summary says %u", g_case, customs,
            s.edgetpu_subgraphs);
  CHECK_MSG(s.total_ops == s.edgetpu_ops + s.cpu_ops, "%s: op counts", g_case);
  /* Reports render. */
  char *text = NULL;
  etpu_report_options ro = {"in.tflite", "in_edgetpu.tflite", "in_edgetpu.log", 1, 1, true, 1.0, -1};
  for (int kind = 0; kind <= 2; kind++) {
    CHECK_OK(etpu_compilation_report(c, kind, &ro, &text));
    etpu_free(text);
    text = NULL;
  }
  etpu_compilation_free(c2);
  return c;
}

static etpu_compilation *compile_rt(const etpu_model *m, int32_t rt) {
  etpu_compile_options o = {0};
  o.min_runtime_version = rt;
  return compile_checked(m, &o);
}

/* Check op `opi` of compilation c: status, placement, and that the reason
 * contains every needle ("fix:" + text checks the fix instead). */
static void expect_map(int line, etpu_compilation *c, int32_t rt, uint32_t opi, etpu_map_status want,
                       const char *const *needles) {
  etpu_op_mapping mp;
  if (!c) return;
  CHECK_OK(etpu_compilation_op(c, opi, &mp));
  if (etpu_compilation_op(c, opi, &mp) != ETPU_OK) return;
  CHECK_MSG(mp.status == want, "line %d, %s, -m %d: op %u %s is '%s' (%s), expected '%s'", line, g_case, rt, opi,
            mp.op_name, etpu_map_status_text(mp.status), mp.reason, etpu_map_status_text(want));
  CHECK_MSG(mp.on_edgetpu == (want == ETPU_MAPPED), "line %d, %s: on_edgetpu %d", line, g_case, mp.on_edgetpu);
  if (want == ETPU_MAPPED) {
    CHECK_MSG(mp.reason && !mp.reason[0] && mp.segment >= 0, "line %d, %s: mapped op has reason '%s' segment %d", line,
              g_case, mp.reason, mp.segment);
    return;
  }
  CHECK_MSG(mp.reason && mp.reason[0], "line %d, %s: no reason given", line, g_case);
  for (const char *const *n = needles; n && *n; n++) {
    bool fix = !strncmp(*n, "fix:", 4);
    const char *hay = fix ? mp.fix : mp.reason;
    const char *needle = fix ? *n + 4 : *n;
    CHECK_MSG(hay && strstr(hay, needle), "line %d, %s, -m %d: %s '%s' does not mention '%s'", line, g_case, rt,
              fix ? "fix" : "reason", hay ? hay : "(null)", needle);
  }
}

/* Compile m at runtime rt and check op `opi`. */
static void expect_at(int line, const etpu_model *m, int32_t rt, uint32_t opi, etpu_map_status want,
                      const char *const *needles) {
  if (!m) return;
  etpu_compilation *c = compile_rt(m, rt);
  expect_map(line, c, rt, opi, want, needles);
  etpu_compilation_free(c);
}
#define EXPECT(m, rt, opi, want, ...) expect_at(__LINE__, (m), (rt), (opi), (want), (const char *const[]){__VA_ARGS__, NULL})
#define MAPPED(m, rt, opi) expect_at(__LINE__, (m), (rt), (opi), ETPU_MAPPED, NULL)

static int32_t required_rt(const etpu_model *m, int32_t rt) {
  etpu_compilation *c = compile_rt(m, rt);
  etpu_compile_summary s = {0};
  etpu_compilation_summary(c, &s);
  etpu_compilation_free(c);
  return s.required_runtime_version;
}

/* ---- §1 requirements: data type, constant parameters, rank ----------------- */

static void test_data_types(void) {
  /* 8-bit activations map, float activations do not. */
  etpu_model *m = begin("ADD int8");
  int32_t a = act8(m, "a", L(1, 8, 8, 4)), b = act8(m, "b", L(1, 8, 8, 4)), y = act8(m, "y", L(1, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  MAPPED(m, 10, 0);
  MAPPED(m, 14, 0);
  etpu_model_free(m);

  m = begin("ADD uint8");
  a = act_t(m, "a", ETPU_UINT8, L(1, 8, 8, 4));
  b = act_t(m, "b", ETPU_UINT8, L(1, 8, 8, 4));
  y = act_t(m, "y", ETPU_UINT8, L(1, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  MAPPED(m, 14, 0);
  etpu_model_free(m);

  /* A float ADD next to a quantized conv (so the model counts as quantized). */
  m = begin("ADD float");
  int32_t x = act8(m, "x", L(1, 8, 8, 4));
  conv1x1(m, "conv", x, 8, 8, 4, 4);
  a = actf(m, "fa", L(1, 8, 8, 4));
  b = actf(m, "fb", L(1, 8, 8, 4));
  y = actf(m, "fy", L(1, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  MAPPED(m, 14, 0);
  EXPECT(m, 14, 1, ETPU_NOT_MAPPED_DATA_TYPE, "'fa'", "FLOAT32", "fix:quantize");
  etpu_model_free(m);

  /* int8 without quantization parameters. */
  m = begin("ADD int8 unquantized");
  x = act8(m, "x", L(1, 8, 8, 4));
  conv1x1(m, "conv", x, 8, 8, 4, 4);
  a = raw8(m, "raw_a", L(1, 8, 8, 4));
  b = act8(m, "b", L(1, 8, 8, 4));
  y = act8(m, "y", L(1, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 1, ETPU_NOT_MAPPED_DATA_TYPE, "'raw_a'", "INT8", "without quantization");
  etpu_model_free(m);

  /* Same with the unquantized int8 tensor as the output. */
  m = begin("ADD int8 unquantized output");
  a = act8(m, "a", L(1, 8, 8, 4));
  b = act8(m, "b", L(1, 8, 8, 4));
  y = raw8(m, "raw_y", L(1, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_DATA_TYPE, "'raw_y'", "without quantization");
  etpu_model_free(m);
}

static void test_not_constant(void) {
  /* Conv weights that are a graph input (computed at run time). */
  etpu_model *m = begin("CONV_2D non-constant weights");
  int32_t x = act8(m, "x", L(1, 8, 8, 4));
  int32_t w = act8(m, "runtime_weights", L(4, 1, 1, 4));
  int32_t b = bias32(m, "bias", 4);
  int32_t y = act8(m, "y", L(1, 8, 8, 4));
  op(m, ETPU_OP_CONV_2D, L(x, w, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_NOT_CONSTANT, "'runtime_weights'", "not constant");
  etpu_model_free(m);

  /* The same conv with constant weights maps. */
  m = begin("CONV_2D constant weights");
  x = act8(m, "x", L(1, 8, 8, 4));
  conv1x1(m, "conv", x, 8, 8, 4, 4);
  m = finish(m);
  MAPPED(m, 10, 0);
  CHECK(required_rt(m, 14) == 10);
  etpu_model_free(m);

  /* FULLY_CONNECTED with non-constant weights (#25). */
  m = begin("FULLY_CONNECTED non-constant weights");
  x = act8(m, "x", L(1, 16));
  w = act8(m, "fc_w", L(10, 16));
  b = bias32(m, "fc_b", 10);
  y = act8(m, "y", L(1, 10));
  op(m, ETPU_OP_FULLY_CONNECTED, L(x, w, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_NOT_CONSTANT, "'fc_w'");
  etpu_model_free(m);
}

static void test_rank(void) {
  /* Batch 2. */
  etpu_model *m = begin("ADD batch 2");
  int32_t a = act8(m, "a", L(2, 8, 8, 4)), b = act8(m, "b", L(2, 8, 8, 4)), y = act8(m, "y", L(2, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_RANK, "[2,8,8,4]", "dimension 0 is 2", "fix:batch size 1");
  etpu_model_free(m);

  /* 5-D with only the 3 innermost dims > 1: maps. */
  m = begin("ADD 5-D outer 1s");
  a = act8(m, "a", L(1, 1, 4, 4, 4));
  b = act8(m, "b", L(1, 1, 4, 4, 4));
  y = act8(m, "y", L(1, 1, 4, 4, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  MAPPED(m, 14, 0);
  etpu_model_free(m);

  /* 5-D with a non-1 outer dim (the 4th innermost). */
  m = begin("ADD 5-D outer 3");
  a = act8(m, "a", L(1, 3, 4, 4, 4));
  b = act8(m, "b", L(1, 3, 4, 4, 4));
  y = act8(m, "y", L(1, 3, 4, 4, 4));
  op(m, ETPU_OP_ADD, L(a, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_RANK, "[1,3,4,4,4]", "dimension 1 is 3");
  etpu_model_free(m);
}

/* ---- Table 1 limitations ------------------------------------------------------ */

static void test_pooling(void) {
  for (int k = 0; k < 2; k++) {
    int32_t code = k ? ETPU_OP_MAX_POOL_2D : ETPU_OP_AVERAGE_POOL_2D;
    for (int relu = 0; relu < 2; relu++) {
      etpu_model *m = begin(relu ? "pool + fused RELU" : "pool");
      int32_t x = act8(m, "x", L(1, 8, 8, 4)), y = act8(m, "y", L(1, 4, 4, 4));
      op(m, code, L(x), L(y),
         OPTS(O("padding", 1), O("stride_w", 2), O("stride_h", 2), O("filter_width", 2), O("filter_height", 2),
              O("fused_activation_function", relu ? ACT_RELU : ACT_NONE)));
      m = finish(m);
      if (relu)
        EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "fused activation RELU", "fix:separate");
      else
        MAPPED(m, 10, 0);
      etpu_model_free(m);
    }
  }
}

static etpu_model *conv_dilated(int32_t code, int32_t dw, int32_t dh) {
  etpu_model *m = begin(code == ETPU_OP_CONV_2D ? "CONV_2D dilation" : "DEPTHWISE_CONV_2D dilation");
  int32_t x = act8(m, "x", L(1, 16, 16, 4));
  int32_t w = code == ETPU_OP_CONV_2D ? w8(m, "w", L(4, 3, 3, 4)) : w8(m, "w", L(1, 3, 3, 4));
  int32_t b = bias32(m, "b", 4);
  int32_t y = act8(m, "y", L(1, 16, 16, 4));
  if (code == ETPU_OP_CONV_2D)
    op(m, code, L(x, w, b), L(y),
       OPTS(O("padding", 0), O("stride_w", 1), O("stride_h", 1), O("dilation_w_factor", dw),
            O("dilation_h_factor", dh)));
  else
    op(m, code, L(x, w, b), L(y),
       OPTS(O("padding", 0), O("stride_w", 1), O("stride_h", 1), O("depth_multiplier", 1),
            O("dilation_w_factor", dw), O("dilation_h_factor", dh)));
  return finish(m);
}

static void test_dilation(void) {
  etpu_model *m = conv_dilated(ETPU_OP_CONV_2D, 2, 2);
  MAPPED(m, 10, 0);
  MAPPED(m, 14, 0);
  etpu_model_free(m);
  m = conv_dilated(ETPU_OP_CONV_2D, 2, 1);
  EXPECT(m, 10, 0, ETPU_NOT_MAPPED_LIMITATION, "2 in x and 1 in y");
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "2 in x and 1 in y", "fix:same dilation");
  etpu_model_free(m);

  /* DepthwiseConv2d: no dilation up to runtime 12; equal dilation from 13. */
  m = conv_dilated(ETPU_OP_DEPTHWISE_CONV_2D, 1, 1);
  MAPPED(m, 10, 0);
  MAPPED(m, 12, 0);
  etpu_model_free(m);
  m = conv_dilated(ETPU_OP_DEPTHWISE_CONV_2D, 2, 2);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "dilation 2x2", "runtime 12", "fix:-m 13");
  MAPPED(m, 13, 0);
  MAPPED(m, 14, 0);
  CHECK_MSG(required_rt(m, 14) == 13, "dilated depthwise needs runtime 13, reported %d", required_rt(m, 14));
  etpu_model_free(m);
  m = conv_dilated(ETPU_OP_DEPTHWISE_CONV_2D, 1, 2);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "dilation 1x2");
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_LIMITATION, "1 in x and 2 in y");
  etpu_model_free(m);
}

/* Ops added in runtime 13 (Table 1, compiler 2.0.291256449): NOT_MAPPED_OP
 * at -m 12, mapped at -m 13. */
static void test_runtime13_ops(void) {
  /* ExpandDims [1,8,4] -> [1,8,4,1]... as [1,8,4] -> [1,1,8,4]. */
  etpu_model *m = begin("EXPAND_DIMS");
  int32_t x = act8(m, "x", L(1, 8, 4)), ax = c32(m, "axis", L(1)), y = act8(m, "y", L(1, 1, 8, 4));
  op(m, OP_EXPAND_DIMS, L(x, ax), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_OP, "ExpandDims", "runtime 13", "-m 12", "fix:-m 13");
  MAPPED(m, 13, 0);
  CHECK(required_rt(m, 14) == 13);
  etpu_model_free(m);

  m = begin("PACK");
  int32_t p0 = act8(m, "p0", L(4, 4)), p1 = act8(m, "p1", L(4, 4));
  y = act8(m, "y", L(2, 4, 4));
  op(m, OP_PACK, L(p0, p1), L(y), OPTS(O("values_count", 2), O("axis", 0)));
  m = finish(m);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_OP, "Pack", "fix:-m 13");
  MAPPED(m, 13, 0);
  etpu_model_free(m);

  /* QUANTIZE int8 -> uint8 (a requantization, which maps from 13). */
  m = begin("QUANTIZE int8->uint8");
  x = act8(m, "x", L(1, 8, 8, 4));
  y = act_t(m, "y", ETPU_UINT8, L(1, 8, 8, 4));
  op(m, ETPU_OP_QUANTIZE, L(x), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_OP, "Quantize", "fix:-m 13");
  MAPPED(m, 13, 0);
  etpu_model_free(m);

  m = begin("SUM");
  x = act8(m, "x", L(1, 8, 8, 4));
  ax = c32(m, "axes", L(1, 2));
  y = act8(m, "y", L(1, 1, 1, 4));
  op(m, OP_SUM, L(x, ax), L(y), OPTS(O("keep_dims", 1)));
  m = finish(m);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_OP, "Sum", "fix:-m 13");
  MAPPED(m, 13, 0);
  etpu_model_free(m);

  m = begin("TRANSPOSE_CONV");
  int32_t os = c32(m, "output_shape", L(1, 16, 16, 4));
  int32_t w = w8(m, "w", L(4, 3, 3, 8));
  x = act8(m, "x", L(1, 8, 8, 8));
  y = act8(m, "y", L(1, 16, 16, 4));
  op(m, OP_TRANSPOSE_CONV, L(os, w, x), L(y), OPTS(O("padding", 0), O("stride_w", 2), O("stride_h", 2)));
  m = finish(m);
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_OP, "TransposeConv", "fix:-m 13");
  MAPPED(m, 13, 0);
  etpu_model_free(m);
}

static etpu_model *build_prelu(const char *name, uint32_t rank, const int32_t *alpha_shape) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", L(1, 8, 8, 4)), alpha = w8(m, "alpha", rank, alpha_shape), y = act8(m, "y", L(1, 8, 8, 4));
  op(m, OP_PRELU, L(x, alpha), L(y), NOPT);
  return finish(m);
}

/* PReLU: from runtime 13, alpha with only its innermost dimension > 1. */
static void test_prelu(void) {
  etpu_model *m = build_prelu("PRELU alpha [1,1,4]", L(1, 1, 4));
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_OP, "PReLU", "fix:-m 13");
  MAPPED(m, 13, 0);
  etpu_model_free(m);
  m = build_prelu("PRELU alpha [8,8,4]", L(8, 8, 4));
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_LIMITATION, "'alpha'", "[8,8,4]", "fix:shared_axes=[1,2]");
  etpu_model_free(m);
}

/* A quantized UNIDIRECTIONAL_SEQUENCE_LSTM (24 inputs, as keras_lstm_mnist). */
static etpu_model *build_lstm(void) {
  etpu_model *m = begin("UNIDIRECTIONAL_SEQUENCE_LSTM");
  const int32_t T = 4, I = 8, U = 6;
  int32_t in[24];
  for (int i = 0; i < 24; i++) in[i] = -1;
  in[0] = act8(m, "x", L(1, T, I));
  const char *wn[8] = {"w_ii", "w_if", "w_ic", "w_io", "w_ri", "w_rf", "w_rc", "w_ro"};
  for (int i = 0; i < 8; i++) in[1 + i] = w8(m, wn[i], 2, (const int32_t[]){U, i < 4 ? I : U});
  const char *bn[4] = {"b_i", "b_f", "b_c", "b_o"};
  for (int i = 0; i < 4; i++) in[12 + i] = bias32(m, bn[i], U);
  in[18] = act8(m, "output_state", L(1, U));
  in[19] = act16(m, "cell_state", L(1, U));
  CHECK_OK(etpu_model_set_tensor_variable(m, 0, (uint32_t)in[18], true));
  CHECK_OK(etpu_model_set_tensor_variable(m, 0, (uint32_t)in[19], true));
  int32_t y = act8(m, "y", L(1, T, U));
  op(m, OP_LSTM, 24, in, L(y), OPTS(O("fused_activation_function", ACT_TANH), O("time_major", 0)));
  return finish(m);
}

/* Ops added in runtime 14 (compiler v16): NOT_MAPPED_OP at -m 13. */
static void test_runtime14_ops(void) {
  etpu_model *m = build_lstm();
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_OP, "LSTM", "runtime 14", "fix:-m 14");
  MAPPED(m, 14, 0);
  CHECK(required_rt(m, 14) == 14);
  etpu_model_free(m);

  m = begin("REDUCE_MAX");
  int32_t x = act8(m, "x", L(1, 8, 8, 4)), ax = c32(m, "axes", L(1, 2)), y = act8(m, "y", L(1, 1, 1, 4));
  op(m, OP_REDUCE_MAX, L(x, ax), L(y), OPTS(O("keep_dims", 1)));
  m = finish(m);
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_OP, "ReduceMax", "fix:-m 14");
  MAPPED(m, 14, 0);
  etpu_model_free(m);

  m = begin("TRANSPOSE");
  x = act8(m, "x", L(1, 8, 6, 4));
  int32_t perm = c32(m, "perm", L(0, 2, 1, 3));
  y = act8(m, "y", L(1, 6, 8, 4));
  op(m, OP_TRANSPOSE, L(x, perm), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_OP, "Transpose", "fix:-m 14");
  MAPPED(m, 14, 0);
  etpu_model_free(m);

  m = begin("RSQRT");
  x = act8(m, "x", L(1, 8, 8, 4));
  y = act8(m, "y", L(1, 8, 8, 4));
  op(m, OP_RSQRT, L(x), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_OP, "Rsqrt", "fix:-m 14");
  MAPPED(m, 14, 0);
  etpu_model_free(m);

  m = begin("SQUARED_DIFFERENCE");
  x = act8(m, "x", L(1, 8, 8, 4));
  int32_t x2 = act8(m, "x2", L(1, 8, 8, 4));
  y = act8(m, "y", L(1, 8, 8, 4));
  op(m, OP_SQUARED_DIFFERENCE, L(x, x2), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_OP, "Squared-difference", "fix:-m 14");
  MAPPED(m, 14, 0);
  etpu_model_free(m);
}

static etpu_model *build_reduce(int32_t code, const char *name, int32_t c, uint32_t naxes, const int32_t *axes) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", L(1, 8, 8, c));
  int32_t ax = c32(m, "axes", naxes, axes);
  int32_t y = act8(m, "y", L(1, 8, 8, 1));
  op(m, code, L(x, ax), L(y), OPTS(O("keep_dims", 1)));
  return finish(m);
}

static void test_mean(void) {
  /* Over x and y: every runtime. */
  etpu_model *m = build_reduce(ETPU_OP_MEAN, "MEAN axes {1,2}", 8, L(1, 2));
  MAPPED(m, 10, 0);
  MAPPED(m, 12, 0);
  MAPPED(m, 13, 0);
  etpu_model_free(m);
  m = build_reduce(ETPU_OP_MEAN, "MEAN axis -2", 8, L(-2));
  MAPPED(m, 12, 0);
  etpu_model_free(m);
  /* Over z: not up to 12; from 13 if z is a multiple of 4. */
  m = build_reduce(ETPU_OP_MEAN, "MEAN axis 3, z 8", 8, L(3));
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "runtime 12", "axis 3", "fix:-m 13");
  MAPPED(m, 13, 0);
  MAPPED(m, 14, 0);
  CHECK_MSG(required_rt(m, 14) == 13, "MEAN over z needs runtime 13, reported %d", required_rt(m, 14));
  etpu_model_free(m);
  m = build_reduce(ETPU_OP_MEAN, "MEAN axis 3, z 6", 6, L(3));
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "axis 3");
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_LIMITATION, "size 6", "multiple of 4");
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "size 6", "multiple of 4");
  etpu_model_free(m);
  m = build_reduce(ETPU_OP_MEAN, "MEAN axis -1, z 6", 6, L(-1));
  EXPECT(m, 13, 0, ETPU_NOT_MAPPED_LIMITATION, "size 6");
  etpu_model_free(m);
  /* Over the batch: never. */
  m = build_reduce(ETPU_OP_MEAN, "MEAN axis 0", 8, L(0));
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "batch", "axis 0");
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "batch", "axis 0");
  etpu_model_free(m);
  /* Sum and ReduceMax: batch only. */
  m = build_reduce(OP_SUM, "SUM axis 0", 8, L(0));
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "batch");
  etpu_model_free(m);
  m = build_reduce(OP_SUM, "SUM axis 3, z 6", 6, L(3));
  MAPPED(m, 13, 0);
  etpu_model_free(m);
  m = build_reduce(OP_REDUCE_MAX, "REDUCE_MAX axis 0", 8, L(0));
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "batch");
  etpu_model_free(m);
}

static etpu_model *build_pad(const char *name, const int32_t pads[8]) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", L(1, 8, 8, 4));
  int32_t p = c32_2d(m, "paddings", 4, 2, pads);
  int32_t y = act8(m, "y", 4,
                   (const int32_t[]){1 + pads[0] + pads[1], 8 + pads[2] + pads[3], 8 + pads[4] + pads[5],
                                     4 + pads[6] + pads[7]});
  op(m, ETPU_OP_PAD, L(x, p), L(y), NOPT);
  return finish(m);
}

static void test_pad(void) {
  etpu_model *m = build_pad("PAD x/y", (const int32_t[]){0, 0, 1, 1, 2, 2, 0, 0});
  MAPPED(m, 10, 0);
  MAPPED(m, 12, 0);
  CHECK(required_rt(m, 14) == 10);
  etpu_model_free(m);
  m = build_pad("PAD channels", (const int32_t[]){0, 0, 0, 0, 0, 0, 0, 4});
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "runtime 12", "dimension 3", "fix:-m 13");
  MAPPED(m, 13, 0);
  MAPPED(m, 14, 0);
  CHECK_MSG(required_rt(m, 14) == 13, "PAD in channels needs runtime 13, reported %d", required_rt(m, 14));
  etpu_model_free(m);
  /* Padding the batch gives a batch > 1, refused at every runtime: the
   * padded output breaks the rank rule before the Pad limit is looked at. */
  m = build_pad("PAD batch", (const int32_t[]){1, 1, 0, 0, 0, 0, 0, 0});
  for (int32_t rt = 10; rt <= 14; rt++) EXPECT(m, rt, 0, ETPU_NOT_MAPPED_RANK, "'y'", "[3,8,8,4]");
  etpu_model_free(m);
}

static etpu_model *build_squeeze(const char *name, uint32_t rin, const int32_t *in_shape, uint32_t rout,
                                 const int32_t *out_shape, uint32_t ndims, const int32_t *dims) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", rin, in_shape), y = act8(m, "y", rout, out_shape);
  op(m, OP_SQUEEZE, L(x), L(y), OPTS(OV("squeeze_dims", ndims, dims)));
  return finish(m);
}

static void test_squeeze(void) {
  /* Leading 1s only: every runtime ([y][x][z] = 1,1,10 and 1,5,10 in Table 1). */
  etpu_model *m = build_squeeze("SQUEEZE 1,1,10", L(1, 1, 1, 10), L(1, 10), L(1, 2));
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  m = build_squeeze("SQUEEZE 1,5,10", L(1, 1, 5, 10), L(1, 5, 10), L(1));
  MAPPED(m, 12, 0);
  etpu_model_free(m);
  /* [y][x][z] = 5,1,10 needs a relayout: from runtime 13. */
  m = build_squeeze("SQUEEZE 5,1,10", L(1, 5, 1, 10), L(1, 5, 10), L(2));
  EXPECT(m, 12, 0, ETPU_NOT_MAPPED_LIMITATION, "[1,5,1,10]", "relayout", "fix:-m 13");
  MAPPED(m, 13, 0);
  CHECK_MSG(required_rt(m, 14) == 13, "SQUEEZE with relayout needs runtime 13, reported %d", required_rt(m, 14));
  etpu_model_free(m);
}

static etpu_model *build_strided_slice(const char *name, int32_t stride, int64_t ellipsis, int64_t new_axis) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", L(1, 8, 8, 4));
  int32_t b = c32(m, "begin", L(0, 0, 0, 0)), e = c32(m, "end", L(1, 8, 8, 4));
  int32_t s = c32(m, "strides", L(1, stride, 1, 1));
  int32_t y = act8(m, "y", L(1, 8 / stride, 8, 4));
  op(m, OP_STRIDED_SLICE, L(x, b, e, s), L(y), OPTS(O("ellipsis_mask", ellipsis), O("new_axis_mask", new_axis)));
  return finish(m);
}

static void test_strided_slice(void) {
  etpu_model *m = build_strided_slice("STRIDED_SLICE stride 1", 1, 0, 0);
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  m = build_strided_slice("STRIDED_SLICE stride 2", 2, 0, 0);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "stride 2 on axis 1");
  etpu_model_free(m);
  m = build_strided_slice("STRIDED_SLICE ellipsis", 1, 1, 0);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "ellipsis_mask");
  etpu_model_free(m);
  m = build_strided_slice("STRIDED_SLICE new_axis", 1, 0, 2);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "new_axis_mask");
  etpu_model_free(m);
}

/* Concatenation of `nact` activations and, if cfill != NO_CONST, a constant
 * of the given type and zero point filled with cfill. */
#define NO_CONST INT32_MAX
static etpu_model *build_concat(const char *name, int nact, int32_t ctype, int64_t czp, int32_t cfill, int64_t act) {
  etpu_model *m = begin(name);
  int32_t in[4];
  uint32_t n = 0;
  int32_t c = 0;
  for (int i = 0; i < nact; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "in%d", i);
    in[n++] = act_t(m, nm, ctype, L(1, 4, 4, 4));
    c += 4;
  }
  if (cfill != NO_CONST) {
    in[n++] = const8_zp(m, "const", ctype, czp, cfill, L(1, 4, 4, 4));
    c += 4;
  }
  int32_t y = act_t(m, "y", ctype, 4, (const int32_t[]){1, 4, 4, c});
  op(m, ETPU_OP_CONCATENATION, n, in, L(y), OPTS(O("axis", 3), O("fused_activation_function", act)));
  return finish(m);
}

static void test_concatenation(void) {
  etpu_model *m = build_concat("CONCATENATION 2 activations", 2, ETPU_INT8, 0, NO_CONST, 0);
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  m = build_concat("CONCATENATION 3 activations", 3, ETPU_INT8, 0, NO_CONST, 0);
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  /* 2 inputs, the constant all zeros (a zero padding): mapped. */
  m = build_concat("CONCATENATION zero constant", 1, ETPU_INT8, 0, 0, 0);
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  /* "Zero" is the real value: uint8 with zero point 128 filled with 128. */
  m = build_concat("CONCATENATION zero constant uint8 zp 128", 1, ETPU_UINT8, 128, 128, 0);
  MAPPED(m, 14, 0);
  etpu_model_free(m);
  m = build_concat("CONCATENATION uint8 zp 128 filled with 0", 1, ETPU_UINT8, 128, 0, 0);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "'const'", "not all zeros", "zero is 128");
  etpu_model_free(m);
  m = build_concat("CONCATENATION non-zero constant", 1, ETPU_INT8, 0, 5, 0);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "'const'", "not all zeros", "is 5");
  etpu_model_free(m);
  /* 3 inputs, one of them a (zero) constant. */
  m = build_concat("CONCATENATION 3 inputs with a constant", 2, ETPU_INT8, 0, 0, 0);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "'const'", "3 inputs", "exactly 2");
  etpu_model_free(m);
  m = build_concat("CONCATENATION fused RELU", 2, ETPU_INT8, 0, NO_CONST, ACT_RELU);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "fused activation");
  etpu_model_free(m);
}

static etpu_model *build_fc(const char *name, int32_t batch, int64_t weights_format) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", L(batch, 16)), w = w8(m, "w", L(10, 16)), b = bias32(m, "b", 10);
  int32_t y = act8(m, "fc_out", L(batch, 10));
  op(m, ETPU_OP_FULLY_CONNECTED, L(x, w, b), L(y), OPTS(O("weights_format", weights_format)));
  return finish(m);
}

static void test_fully_connected(void) {
  etpu_model *m = build_fc("FULLY_CONNECTED [1,10]", 1, 0);
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  m = build_fc("FULLY_CONNECTED [2,10]", 2, 0);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "'fc_out'", "[2,10]", "one-dimensional");
  etpu_model_free(m);
  m = build_fc("FULLY_CONNECTED shuffled weights", 1, 1);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "weights_format", "SHUFFLED4x16INT8");
  etpu_model_free(m);
}

static etpu_model *build_softmax(const char *name, uint32_t rank, const int32_t *shape) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", rank, shape), y = act8(m, "y", rank, shape);
  op(m, ETPU_OP_SOFTMAX, L(x), L(y), OPTS(OF("beta", 1.0)));
  return finish(m);
}

static void test_softmax(void) {
  etpu_model *m = build_softmax("SOFTMAX 16000", L(1, 16000));
  MAPPED(m, 10, 0);
  etpu_model_free(m);
  m = build_softmax("SOFTMAX 16001", L(1, 16001));
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "16001", "16,000");
  etpu_model_free(m);
  m = build_softmax("SOFTMAX [1,4,10]", L(1, 4, 10));
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "[1,4,10]", "1-D");
  etpu_model_free(m);
}

static etpu_model *build_resize(const char *name, int32_t code, int32_t out) {
  etpu_model *m = begin(name);
  int32_t x = act8(m, "x", L(1, 1, 1, 8)), size = c32(m, "size", L(out, out)), y = act8(m, "y", L(1, out, out, 8));
  op(m, code, L(x, size), L(y), NOPT);
  return finish(m);
}

static void test_resize(void) {
  for (int k = 0; k < 2; k++) {
    int32_t code = k ? 97 /* RESIZE_NEAREST_NEIGHBOR */ : ETPU_OP_RESIZE_BILINEAR;
    etpu_model *m = build_resize("RESIZE x32", code, 32);
    MAPPED(m, 10, 0);
    etpu_model_free(m);
    m = build_resize("RESIZE x33", code, 33);
    EXPECT(m, 14, 0, ETPU_NOT_MAPPED_LIMITATION, "1x1 -> 33x33", "33.0x");
    etpu_model_free(m);
  }
}

/* ---- ops outside Table 1, op versions ------------------------------------------ */

static void test_unsupported_ops(void) {
  /* Op version above the newest the compiler's TFLite accepts. */
  etpu_model *m = begin("CONV_2D version 20");
  int32_t x = act8(m, "x", L(1, 8, 8, 4)), w = w8(m, "w", L(4, 1, 1, 4)), b = bias32(m, "b", 4);
  int32_t y = act8(m, "y", L(1, 8, 8, 4));
  op_v(m, ETPU_OP_CONV_2D, NULL, 20, L(x, w, b), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_VERSION, "CONV_2D version 20");
  etpu_model_free(m);

  /* ARG_MAX: not in Table 1, int64 output -> a data-type status. */
  m = begin("ARG_MAX");
  x = act8(m, "x", L(1, 8, 8, 4));
  int32_t ax = c32(m, "axis", L(3));
  y = tensor(m, "argmax", ETPU_INT64, NULL, NULL, 0, L(1, 8, 8));
  op(m, OP_ARG_MAX, L(x, ax), L(y), OPTS(O("output_type", ETPU_INT64)));
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_DATA_TYPE, "ARG_MAX", "'argmax'", "INT64");
  etpu_model_free(m);

  /* FLOOR on int8: not in Table 1 at all. */
  m = begin("FLOOR int8");
  x = act8(m, "x", L(1, 8, 8, 4));
  y = act8(m, "y", L(1, 8, 8, 4));
  op(m, OP_FLOOR, L(x), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_OP, "FLOOR", "not in the Edge TPU");
  etpu_model_free(m);

  /* A CUSTOM op (other than the Edge TPU op) stays on the CPU. */
  m = begin("CUSTOM");
  x = act8(m, "x", L(1, 8, 8, 4));
  y = act8(m, "y", L(1, 8, 8, 4));
  op_v(m, ETPU_OP_CUSTOM, "MyPostProcess", 1, L(x), L(y), NOPT);
  m = finish(m);
  EXPECT(m, 14, 0, ETPU_NOT_MAPPED_DATA_TYPE, "MyPostProcess", "custom op");
  etpu_model_free(m);

  /* SpaceToDepth (Table 1, all runtimes) maps: the table is not too narrow. */
  m = begin("SPACE_TO_DEPTH");
  x = act8(m, "x", L(1, 8, 8, 4));
  y = act8(m, "y", L(1, 4, 4, 16));
  op(m, OP_SPACE_TO_DEPTH, L(x), L(y), OPTS(O("block_size", 2)));
  m = finish(m);
  MAPPED(m, 10, 0);
  etpu_model_free(m);
}

/* ---- whole-model refusals ----------------------------------------------------- */

static void test_model_refusals(void) {
  /* Dynamic batch: shape_signature [-1,8,8,4] (not settable with the builder). */
  etpu_model *m = begin("dynamic shape");
  int32_t x = act8(m, "x", L(1, 8, 8, 4));
  conv1x1(m, "conv", x, 8, 8, 4, 4);
  static const int32_t sig[4] = {-1, 8, 8, 4};
  if (m) {
    etpu_gtensor *t = &m->subgraphs[0].tensors[x];
    t->has_signature = true;
    t->sig_rank = 4;
    t->shape_signature = sig;
  }
  m = finish(m);
  if (m) {
    etpu_tensor_info ti;
    CHECK_OK(etpu_model_tensor(m, 0, (uint32_t)x, &ti));
    CHECK(ti.signature_rank == 4 && ti.shape_signature && ti.shape_signature[0] == -1);
    etpu_compilation *c = NULL;
    etpu_status st = etpu_compile(m, NULL, &c);
    CHECK_MSG(st == ETPU_UNSUPPORTED && c == NULL, "dynamic shape: etpu_compile returned %s", etpu_status_name(st));
    CHECK_MSG(strstr(etpu_errmsg(), "dynamic") != NULL, "dynamic shape: message '%s'", etpu_errmsg());
    CHECK_MSG(strstr(etpu_errmsg(), "'x'") != NULL, "dynamic shape: message does not name the tensor: '%s'",
              etpu_errmsg());
    etpu_compilation_free(c);
  }
  etpu_model_free(m);

  /* Float only. */
  m = begin("float model");
  x = actf(m, "x", L(1, 8, 8, 4));
  int32_t w = tensor(m, "w", ETPU_FLOAT32, NULL, (const float[16]){0}, 64, L(4, 1, 1, 4));
  int32_t b = tensor(m, "b", ETPU_FLOAT32, NULL, (const float[4]){0}, 16, L(4));
  int32_t y = actf(m, "y", L(1, 8, 8, 4));
  op(m, ETPU_OP_CONV_2D, L(x, w, b), L(y), NOPT);
  m = finish(m);
  if (m) {
    etpu_compilation *c = NULL;
    etpu_status st = etpu_compile(m, NULL, &c);
    CHECK_MSG(st == ETPU_UNSUPPORTED && c == NULL, "float model: etpu_compile returned %s", etpu_status_name(st));
    CHECK_MSG(strstr(etpu_errmsg(), "Model not quantized") != NULL, "float model: message '%s'", etpu_errmsg());
    etpu_compilation_free(c);
  }
  etpu_model_free(m);

  /* Bad options. */
  m = begin("bad options");
  x = act8(m, "x", L(1, 8, 8, 4));
  conv1x1(m, "conv", x, 8, 8, 4, 4);
  m = finish(m);
  if (m) {
    etpu_compilation *c = NULL;
    etpu_compile_options o = {0};
    o.min_runtime_version = 9;
    CHECK(etpu_compile(m, &o, &c) == ETPU_INVALID_ARGUMENT && c == NULL);
    o.min_runtime_version = 15;
    CHECK(etpu_compile(m, &o, &c) == ETPU_INVALID_ARGUMENT && c == NULL);
    o.min_runtime_version = 0; /* = 14 */
    const char *names[1] = {"no_such_tensor"};
    o.intermediate_count = 1;
    o.intermediate_tensors = names;
    CHECK(etpu_compile(m, &o, &c) == ETPU_INVALID_ARGUMENT && c == NULL);
    CHECK_MSG(strstr(etpu_errmsg(), "no_such_tensor") != NULL, "-i message '%s'", etpu_errmsg());
    o.intermediate_count = 0;
    o.num_segments = 2; /* one mapped op only */
    CHECK(etpu_compile(m, &o, &c) == ETPU_INVALID_ARGUMENT && c == NULL);
    etpu_compilation_free(c);
    c = compile_rt(m, 0);
    etpu_compile_summary s = {0};
    etpu_compilation_summary(c, &s);
    CHECK(s.min_runtime_version == 14);
    etpu_compilation_free(c);
  }
  etpu_model_free(m);
}

/* ---- partitioning (§4, §5.3) --------------------------------------------------- */

static void op_names(const void *data, size_t size, char *out, size_t cap) {
  etpu_model *r = NULL;
  out[0] = 0;
  if (etpu_model_open_buffer(data, size, "compiled", 0, &r) != ETPU_OK) return;
  size_t n = 0;
  for (uint32_t i = 0; i < etpu_model_op_count(r, 0) && n < cap; i++) {
    etpu_op_info oi;
    if (etpu_model_op(r, 0, i, &oi) != ETPU_OK) continue;
    n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? " " : "", oi.name);
  }
  etpu_model_free(r);
}

static void expect_ops_written(int line, etpu_compilation *c, uint32_t k, const char *want) {
  void *d = NULL;
  size_t n = 0;
  char got[512];
  if (!c) return;
  CHECK_OK(etpu_compilation_write(c, k, &d, &n));
  if (!d) return;
  op_names(d, n, got, sizeof got);
  CHECK_MSG(!strcmp(got, want), "line %d, %s: output model %u has ops '%s', expected '%s'", line, g_case, k, got, want);
  etpu_free(d);
}

static void test_float_io(void) {
  /* float input -> QUANTIZE -> conv -> conv -> DEQUANTIZE -> float output */
  etpu_model *m = begin("float input and output");
  int32_t xf = actf(m, "input_float", L(1, 8, 8, 4));
  int32_t x = act8(m, "input_int8", L(1, 8, 8, 4));
  op(m, ETPU_OP_QUANTIZE, L(xf), L(x), NOPT);
  int32_t c1 = conv1x1(m, "conv1", x, 8, 8, 4, 8);
  int32_t c2 = conv1x1(m, "conv2", c1, 8, 8, 8, 4);
  int32_t yf = actf(m, "output_float", L(1, 8, 8, 4));
  op(m, ETPU_OP_DEQUANTIZE, L(c2), L(yf), NOPT);
  m = finish(m);
  etpu_compilation *c = compile_rt(m, 14);
  etpu_op_mapping mp;
  if (c) {
    CHECK_OK(etpu_compilation_op(c, 0, &mp));
    CHECK_MSG(mp.status == ETPU_NOT_MAPPED_DATA_TYPE && mp.before_cut && !mp.on_edgetpu && mp.blocked_by == -1,
              "QUANTIZE float->int8: status '%s' before_cut %d", etpu_map_status_text(mp.status), mp.before_cut);
    CHECK(strstr(mp.reason, "'input_float'") && strstr(mp.reason, "FLOAT32"));
    for (uint32_t i = 1; i <= 2; i++) {
      CHECK_OK(etpu_compilation_op(c, i, &mp));
      CHECK_MSG(mp.status == ETPU_MAPPED && mp.segment == 0, "conv %u behind the input QUANTIZE: '%s'", i,
                etpu_map_status_text(mp.status));
    }
    CHECK_OK(etpu_compilation_op(c, 3, &mp));
    CHECK_MSG(mp.status == ETPU_NOT_MAPPED_DATA_TYPE && !mp.before_cut && !mp.on_edgetpu && mp.blocked_by == -1,
              "DEQUANTIZE: status '%s' before_cut %d blocked_by %d", etpu_map_status_text(mp.status), mp.before_cut,
              mp.blocked_by);
    CHECK(strstr(mp.reason, "'output_float'") != NULL);
    etpu_compile_summary s;
    etpu_compilation_summary(c, &s);
    CHECK(s.total_ops == 4 && s.edgetpu_ops == 2 && s.cpu_ops == 2 && s.edgetpu_subgraphs == 1);
    /* The CPU ops keep their places around the Edge TPU op. */
    expect_ops_written(__LINE__, c, 0, "QUANTIZE edgetpu-custom-op DEQUANTIZE");
  }
  etpu_compilation_free(c);
  /* At -m 12 QUANTIZE is not in the table at all: still before the cut. */
  c = compile_rt(m, 12);
  if (c) {
    CHECK_OK(etpu_compilation_op(c, 0, &mp));
    CHECK(!mp.on_edgetpu && mp.before_cut);
    CHECK_OK(etpu_compilation_op(c, 1, &mp));
    CHECK(mp.on_edgetpu);
  }
  etpu_compilation_free(c);
  etpu_model_free(m);
}

/* in -> conv_a -> FLOOR -> conv_b -> ADD(conv_b, conv_c) -> out1
 *   \-> conv_c ------------------------/      \-> conv_d -> out2 */
static etpu_model *build_cut(void) {
  etpu_model *m = begin("cut with an independent branch");
  int32_t x = act8(m, "input", L(1, 8, 8, 4));
  int32_t a = conv1x1(m, "conv_a", x, 8, 8, 4, 4);                           /* op 0 */
  int32_t f = act8(m, "floor", L(1, 8, 8, 4));
  op(m, OP_FLOOR, L(a), L(f), NOPT);                                         /* op 1 */
  int32_t b = conv1x1(m, "conv_b", f, 8, 8, 4, 4);                           /* op 2 */
  int32_t cc = conv1x1(m, "conv_c", x, 8, 8, 4, 4);                          /* op 3 */
  int32_t s = act8(m, "sum", L(1, 8, 8, 4));
  op(m, ETPU_OP_ADD, L(b, cc), L(s), NOPT);                                  /* op 4 */
  conv1x1(m, "conv_d", cc, 8, 8, 4, 4);                                      /* op 5 */
  return finish(m);
}

static void test_cut(void) {
  etpu_model *m = build_cut();
  etpu_compilation *c = compile_rt(m, 14);
  if (c) {
    static const struct {
      etpu_map_status st;
      int32_t blocked_by;
    } want[6] = {{ETPU_MAPPED, -1},
                 {ETPU_NOT_MAPPED_OP, -1},
                 {ETPU_NOT_MAPPED_AFTER_CUT, 1},
                 {ETPU_MAPPED, -1},
                 {ETPU_NOT_MAPPED_AFTER_CUT, 1},
                 {ETPU_MAPPED, -1}};
    for (uint32_t i = 0; i < 6; i++) {
      etpu_op_mapping mp;
      CHECK_OK(etpu_compilation_op(c, i, &mp));
      CHECK_MSG(mp.status == want[i].st && mp.blocked_by == want[i].blocked_by && !mp.before_cut,
                "cut: op %u %s is '%s' blocked_by %d before_cut %d; expected '%s' blocked_by %d", i, mp.op_name,
                etpu_map_status_text(mp.status), mp.blocked_by, mp.before_cut, etpu_map_status_text(want[i].st),
                want[i].blocked_by);
      if (mp.status == ETPU_NOT_MAPPED_AFTER_CUT) CHECK(mp.fix && strstr(mp.fix, "-a"));
    }
    etpu_compile_summary s;
    etpu_compilation_summary(c, &s);
    CHECK(s.edgetpu_ops == 3 && s.cpu_ops == 3 && s.edgetpu_subgraphs == 1);
    expect_ops_written(__LINE__, c, 0, "edgetpu-custom-op FLOOR CONV_2D ADD");
    /* The Edge TPU op outputs what crosses to the CPU or leaves the graph:
     * conv_a (FLOOR reads it), conv_c (ADD reads it), conv_d (graph output). */
    void *d = NULL;
    size_t n = 0;
    CHECK_OK(etpu_compilation_write(c, 0, &d, &n));
    etpu_model *r = NULL;
    if (d) CHECK_OK(etpu_model_open_buffer(d, n, "compiled", 0, &r));
    if (r) {
      etpu_op_info oi;
      CHECK_OK(etpu_model_op(r, 0, 0, &oi));
      CHECK_MSG(oi.input_count == 1 && oi.output_count == 3, "custom op %u in / %u out, expected 1 / 3",
                oi.input_count, oi.output_count);
      const char *want_out[3] = {"conv_a", "conv_c", "conv_d"};
      for (uint32_t k = 0; k < oi.output_count && k < 3; k++) {
        etpu_tensor_info ti;
        CHECK_OK(etpu_model_tensor(r, 0, (uint32_t)oi.outputs[k], &ti));
        CHECK_MSG(!strcmp(ti.name, want_out[k]), "custom op output %u is '%s', expected '%s'", k, ti.name,
                  want_out[k]);
      }
    }
    etpu_model_free(r);
    etpu_free(d);
    /* The console report names the op that starts the cut and suggests -i. */
    char *text = NULL;
    etpu_report_options ro = {"cut.tflite", "cut_edgetpu.tflite", "cut_edgetpu.log", 1, 1, false, 1.0, -1};
    CHECK_OK(etpu_compilation_report(c, ETPU_REPORT_CONSOLE, &ro, &text));
    if (text) {
      CHECK(strstr(text, "it depends on op 1 FLOOR") != NULL);
      CHECK(strstr(text, "-i 'conv_a'") != NULL);
    }
    etpu_free(text);
  }
  etpu_compilation_free(c);

  /* -a: every run of mappable ops becomes an Edge TPU subgraph. */
  etpu_compile_options o = {0};
  o.multiple_subgraphs = true;
  c = compile_checked(m, &o);
  if (c) {
    etpu_compile_summary s;
    etpu_compilation_summary(c, &s);
    CHECK_MSG(s.edgetpu_subgraphs == 2 && s.edgetpu_ops == 5 && s.cpu_ops == 1, "-a: %u subgraphs, %u/%u ops",
              s.edgetpu_subgraphs, s.edgetpu_ops, s.cpu_ops);
    etpu_op_mapping mp;
    CHECK_OK(etpu_compilation_op(c, 0, &mp));
    CHECK(mp.on_edgetpu && mp.segment == 0);
    CHECK_OK(etpu_compilation_op(c, 1, &mp));
    CHECK(!mp.on_edgetpu && mp.status == ETPU_NOT_MAPPED_OP);
    for (uint32_t i = 2; i < 6; i++) {
      CHECK_OK(etpu_compilation_op(c, i, &mp));
      CHECK_MSG(mp.on_edgetpu && mp.segment == 1, "-a: op %u segment %d", i, mp.segment);
    }
    expect_ops_written(__LINE__, c, 0, "edgetpu-custom-op FLOOR edgetpu-custom-op");
  }
  etpu_compilation_free(c);

  /* -i conv_c: the independent branch is cut there too. */
  const char *names[1] = {"conv_c"};
  memset(&o, 0, sizeof o);
  o.intermediate_count = 1;
  o.intermediate_tensors = names;
  c = compile_checked(m, &o);
  if (c) {
    etpu_op_mapping mp;
    CHECK_OK(etpu_compilation_op(c, 3, &mp));
    CHECK(mp.on_edgetpu);
    CHECK_OK(etpu_compilation_op(c, 5, &mp));
    CHECK_MSG(mp.status == ETPU_NOT_MAPPED_AFTER_CUT && mp.blocked_by == -1, "-i conv_c: conv_d is '%s'",
              etpu_map_status_text(mp.status));
    CHECK_OK(etpu_compilation_op(c, 4, &mp));
    CHECK(mp.status == ETPU_NOT_MAPPED_AFTER_CUT);
  }
  etpu_compilation_free(c);
  etpu_model_free(m);
}

/* A chain of `n` 1x1 convs with channel widths w[0] -> w[1] -> ... -> w[n]. */
static etpu_model *build_chain(const char *name, uint32_t n, const int32_t *w) {
  etpu_model *m = begin(name);
  int32_t t = act8(m, "input", L(1, 8, 8, w[0]));
  for (uint32_t i = 0; i < n; i++) {
    char nm[32];
    snprintf(nm, sizeof nm, "conv%u", i);
    t = conv1x1(m, nm, t, 8, 8, w[i], w[i + 1]);
  }
  return finish(m);
}

static void test_intermediate(void) {
  etpu_model *m = build_chain("chain for -i", 3, (const int32_t[]){4, 4, 4, 4});
  const char *names[1] = {"conv0"};
  etpu_compile_options o = {0};
  o.intermediate_count = 1;
  o.intermediate_tensors = names;
  etpu_compilation *c = compile_checked(m, &o);
  if (c) {
    etpu_op_mapping mp;
    CHECK_OK(etpu_compilation_op(c, 0, &mp));
    CHECK(mp.on_edgetpu);
    for (uint32_t i = 1; i < 3; i++) {
      CHECK_OK(etpu_compilation_op(c, i, &mp));
      CHECK_MSG(mp.status == ETPU_NOT_MAPPED_AFTER_CUT && !mp.on_edgetpu && mp.blocked_by == -1,
                "-i conv0: op %u is '%s'", i, etpu_map_status_text(mp.status));
    }
    expect_ops_written(__LINE__, c, 0, "edgetpu-custom-op CONV_2D CONV_2D");
  }
  etpu_compilation_free(c);
  etpu_model_free(m);
}

/* supported / unsupported / supported chain with -a. */
static void test_multiple_subgraphs(void) {
  etpu_model *m = begin("-a chain");
  int32_t x = act8(m, "input", L(1, 8, 8, 4));
  int32_t a = conv1x1(m, "conv_a", x, 8, 8, 4, 4);
  int32_t f = act8(m, "floor", L(1, 8, 8, 4));
  op(m, OP_FLOOR, L(a), L(f), NOPT);
  conv1x1(m, "conv_b", f, 8, 8, 4, 4);
  m = finish(m);
  etpu_compilation *c = compile_rt(m, 14);
  etpu_compile_summary s = {0};
  etpu_compilation_summary(c, &s);
  CHECK(c && s.edgetpu_subgraphs == 1 && s.edgetpu_ops == 1);
  expect_map(__LINE__, c, 14, 2, ETPU_NOT_MAPPED_AFTER_CUT, NULL);
  etpu_compilation_free(c);
  etpu_compile_options o = {0};
  o.multiple_subgraphs = true;
  c = compile_checked(m, &o);
  etpu_compilation_summary(c, &s);
  CHECK_MSG(c && s.edgetpu_subgraphs == 2 && s.edgetpu_ops == 2 && s.cpu_ops == 1, "-a: %u subgraphs",
            s.edgetpu_subgraphs);
  expect_ops_written(__LINE__, c, 0, "edgetpu-custom-op FLOOR edgetpu-custom-op");
  etpu_compilation_free(c);
  /* -a and -n do not combine. */
  o.num_segments = 2;
  c = NULL;
  CHECK(etpu_compile(m, &o, &c) == ETPU_INVALID_ARGUMENT && c == NULL);
  etpu_model_free(m);
}

/* Parameter bytes of each output model of c (from the payload headers). */
static void segment_params(etpu_compilation *c, uint32_t n, uint64_t *params) {
  for (uint32_t k = 0; k < n; k++) {
    void *d = NULL;
    size_t sz = 0;
    uint32_t customs = 0;
    params[k] = 0;
    CHECK_OK(etpu_compilation_write(c, k, &d, &sz));
    if (d) check_output(d, sz, &customs, &params[k]);
    CHECK(customs == 1);
    etpu_free(d);
  }
}

static void test_segments(void) {
  /* Four equal convs: two per segment. */
  etpu_model *m = build_chain("-n 2, equal convs", 4, (const int32_t[]){16, 16, 16, 16, 16});
  etpu_compile_options o = {0};
  o.num_segments = 2;
  etpu_compilation *c = compile_checked(m, &o);
  if (c) {
    etpu_compile_summary s;
    etpu_compilation_summary(c, &s);
    CHECK_MSG(s.output_models == 2 && s.edgetpu_subgraphs == 2, "-n 2: %u models", s.output_models);
    uint64_t p[2] = {0, 0};
    segment_params(c, 2, p);
    CHECK_MSG(p[0] == p[1] && p[0] + p[1] == s.parameter_bytes, "-n 2: params %llu + %llu of %llu",
              (unsigned long long)p[0], (unsigned long long)p[1], (unsigned long long)s.parameter_bytes);
    for (uint32_t i = 0; i < 4; i++) {
      etpu_op_mapping mp;
      CHECK_OK(etpu_compilation_op(c, i, &mp));
      CHECK_MSG(mp.on_edgetpu && mp.segment == (int32_t)(i / 2), "-n 2: op %u segment %d", i, mp.segment);
    }
    /* Segment 0's output is segment 1's input, by name. */
    void *d0 = NULL, *d1 = NULL;
    size_t n0 = 0, n1 = 0;
    etpu_model *r0 = NULL, *r1 = NULL;
    CHECK_OK(etpu_compilation_write(c, 0, &d0, &n0));
    CHECK_OK(etpu_compilation_write(c, 1, &d1, &n1));
    if (d0) CHECK_OK(etpu_model_open_buffer(d0, n0, "segment 0", 0, &r0));
    if (d1) CHECK_OK(etpu_model_open_buffer(d1, n1, "segment 1", 0, &r1));
    if (r0 && r1) {
      etpu_tensor_info a, b;
      CHECK(etpu_model_output_count(r0, 0) == 1 && etpu_model_input_count(r1, 0) == 1);
      CHECK_OK(etpu_model_tensor(r0, 0, (uint32_t)etpu_model_output(r0, 0, 0), &a));
      CHECK_OK(etpu_model_tensor(r1, 0, (uint32_t)etpu_model_input(r1, 0, 0), &b));
      CHECK_MSG(!strcmp(a.name, "conv1") && !strcmp(b.name, "conv1"), "segments meet at '%s' / '%s'", a.name, b.name);
    }
    etpu_model_free(r0);
    etpu_model_free(r1);
    etpu_free(d0);
    etpu_free(d1);
  }
  etpu_compilation_free(c);
  etpu_model_free(m);

  /* Unequal convs: two big (32->32, 32->16) then four small (16->16): the
   * split balances bytes (1728 vs 1280), not op counts (2 vs 4). */
  m = build_chain("-n 2, unequal convs", 6, (const int32_t[]){32, 32, 16, 16, 16, 16, 16});
  c = compile_checked(m, &o);
  if (c) {
    etpu_compile_summary s;
    etpu_compilation_summary(c, &s);
    uint64_t p[2] = {0, 0};
    segment_params(c, 2, p);
    CHECK(p[0] + p[1] == s.parameter_bytes);
    double share = (double)p[0] / (double)(p[0] + p[1]);
    CHECK_MSG(share > 0.35 && share < 0.65, "-n 2: segment 0 has %.0f%% of the parameters (%llu of %llu)",
              share * 100, (unsigned long long)p[0], (unsigned long long)(p[0] + p[1]));
    for (uint32_t i = 0; i < 6; i++) {
      etpu_op_mapping mp;
      CHECK_OK(etpu_compilation_op(c, i, &mp));
      CHECK_MSG(mp.segment == (i < 2 ? 0 : 1), "-n 2, unequal: op %u is in segment %d", i, mp.segment);
    }
  }
  etpu_compilation_free(c);
  /* -n 3 on six convs. */
  o.num_segments = 3;
  c = compile_checked(m, &o);
  if (c) {
    etpu_compile_summary s;
    etpu_compilation_summary(c, &s);
    CHECK(s.output_models == 3);
  }
  etpu_compilation_free(c);
  etpu_model_free(m);

  /* Float I/O with -n 2: the input QUANTIZE goes with the first segment,
   * the output DEQUANTIZE with the last. */
  m = begin("-n 2 with float I/O");
  int32_t xf = actf(m, "input_float", L(1, 8, 8, 16));
  int32_t t = act8(m, "input_int8", L(1, 8, 8, 16));
  op(m, ETPU_OP_QUANTIZE, L(xf), L(t), NOPT);
  for (int i = 0; i < 4; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "conv%d", i);
    t = conv1x1(m, nm, t, 8, 8, 16, 16);
  }
  int32_t yf = actf(m, "output_float", L(1, 8, 8, 16));
  op(m, ETPU_OP_DEQUANTIZE, L(t), L(yf), NOPT);
  m = finish(m);
  o.num_segments = 2;
  c = compile_checked(m, &o);
  expect_ops_written(__LINE__, c, 0, "QUANTIZE edgetpu-custom-op");
  expect_ops_written(__LINE__, c, 1, "edgetpu-custom-op DEQUANTIZE");
  etpu_compilation_free(c);
  etpu_model_free(m);
}

int main(void) {
  test_data_types();
  test_not_constant();
  test_rank();
  test_pooling();
  test_dilation();
  test_runtime13_ops();
  test_prelu();
  test_runtime14_ops();
  test_mean();
  test_pad();
  test_squeeze();
  test_strided_slice();
  test_concatenation();
  test_fully_connected();
  test_softmax();
  test_resize();
  test_unsupported_ops();
  test_model_refusals();
  test_float_io();
  test_cut();
  test_intermediate();
  test_multiple_subgraphs();
  test_segments();
  return tu_finish("compile_rules");
}
