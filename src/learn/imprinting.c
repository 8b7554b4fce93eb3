/*
 * imprinting.c — weight imprinting as Coral's libcoral does it
 * (coral/learn/imprinting_engine.cc, LEARNING.md §3), plus a maker that
 * turns any embedding extractor into an imprinting model (§6.3).
 *
 * The model's tail in subgraph 0, which the checks below enforce:
 *
 *   op                 tensor     rule
 *   L2_NORMALIZATION   output     [1,1,1,D], the embedding (exactly one such op)
 *   [QUANTIZE]                    allowed here: MLIR's converter inserts one
 *   CONV_2D            kernel     [C,1,1,D] UINT8/INT8 constant, per-tensor (scale, zp)
 *                      bias       [C] INT32 constant, zero point in [0, 255]
 *                      output     [1,1,1,C]
 *   MUL                input 1    the scale factor: a quantized 8-bit constant
 *                      output     [1,1,1,C]
 *   RESHAPE            output     [1,C]; a shape input, if any, is INT32 [1,C]
 *   SOFTMAX            output     [1,C], the one graph output
 *
 * A class is the running sum of the embeddings imprinted for it; writing the
 * model L2-normalizes each sum and quantizes it with the prototype's kernel
 * (scale, zero point), and records the sum's norm in the description
 * ("<class> <norm>\n" per imprinted class) so that a later session can
 * restore the sum and keep imprinting. Classes of the prototype that the
 * description does not list are base classes: kept, frozen.
 *
 * libcoral's quirks are reproduced (LEARNING.md §3.10): bias bytes all equal
 * to the bias zero point, the kernel quantization frozen from the prototype,
 * the MUL scale read from its constant's first byte, the softmax quantization
 * untouched, the extractor keeping the dead tail ops, the description
 * overwritten. etpu formats and parses the description without the C
 * library's locale-dependent number functions, so a program's setlocale()
 * cannot change the bytes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "learn/learn.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* What validation finds in a model. */
typedef struct tail_info {
  uint32_t nops;
  int32_t l2_op, quant_op, conv_op, mul_op, reshape_op, softmax_op;
  int32_t l2_out, kernel, bias, conv_out, mul_scale, mul_out, reshape_shape, reshape_out, softmax_out;
  uint32_t d;       /* embedding dimension */
  uint32_t classes; /* rows of the kernel */
} tail_info;

struct etpu_imprint {
  void *proto; /* the validated prototype, serialized */
  size_t proto_size;
  char label[256];
  tail_info t;
  int32_t ktype; /* kernel type: UINT8 or INT8 */
  float kscale;  /* kernel quantization, frozen from the prototype */
  int32_t kzp;
  uint32_t nclasses, cap;
  float *w; /* nclasses x D running sums (base classes: dequantized rows) */
  uint8_t *trainable;
};

#define UNSUP(...) etpu_fail(ETPU_UNSUPPORTED, __VA_ARGS__)

static const char *opname(const etpu_model *m, int32_t op) { return etpu_graph_op_name(m, &m->subgraphs[0].ops[op]); }

static int32_t opcode_at(const etpu_model *m, uint32_t op) { return etpu_graph_op_code(m, &m->subgraphs[0].ops[op]); }

static bool shape_is(const etpu_gtensor *t, uint32_t rank, const int32_t *want) {
  if (t->rank != rank) return false;
  for (uint32_t i = 0; i < rank; i++)
    if (want[i] >= 0 && t->shape[i] != want[i]) return false;
  return true;
}

static void shape_str(const etpu_gtensor *t, char *buf, size_t cap) {
  size_t n = (size_t)snprintf(buf, cap, "[");
  for (uint32_t i = 0; i < t->rank && n < cap; i++)
    n += (size_t)snprintf(buf + n, cap - n, "%s%d", i ? "," : "", t->shape[i]);
  if (n < cap) snprintf(buf + n, cap - n, "]");
}

/* The tensor index of op input/output k, or -1. */
static int32_t op_in(const etpu_model *m, int32_t op, uint32_t k) {
  const etpu_gop *o = &m->subgraphs[0].ops[op];
  return k < o->ninputs ? o->inputs[k] : -1;
}

static int32_t op_out(const etpu_model *m, int32_t op) {
  const etpu_gop *o = &m->subgraphs[0].ops[op];
  return o->noutputs ? o->outputs[0] : -1;
}

static bool is_q8(int32_t type) { return type == ETPU_UINT8 || type == ETPU_INT8; }

/* libcoral's ValidateImprintingModel, in its order, then what etpu needs to
 * rewrite the tail safely. */
static etpu_status validate(const etpu_model *m, tail_info *ti) {
  const char *L = etpu_model_label(m);
  const etpu_gsubgraph *g = &m->subgraphs[0];
  memset(ti, 0, sizeof *ti);
  ti->nops = g->nops;
  int32_t l2 = -1, l2b = -1;
  for (uint32_t i = 0; i < g->nops; i++)
    if (opcode_at(m, i) == ETPU_OP_L2_NORMALIZATION) {
      if (l2 < 0)
        l2 = (int32_t)i;
      else if (l2b < 0)
        l2b = (int32_t)i;
    }
  if (l2 < 0)
    return UNSUP(
        "%s: Unsupported model architecture. Input model must have an L2Norm layer. (none of its %u ops is "
        "L2_NORMALIZATION)",
        L, g->nops);
  static const int32_t tail[4] = {ETPU_OP_CONV_2D, ETPU_OP_MUL, ETPU_OP_RESHAPE, ETPU_OP_SOFTMAX};
  if (g->nops < 4)
    return UNSUP("%s: The last 4 operators must be Conv2d, Mul, Reshape, Softmax (the model has %u ops)", L, g->nops);
  for (uint32_t k = 0; k < 4; k++) {
    uint32_t op = g->nops - 4 + k;
    if (opcode_at(m, op) != tail[k])
      return UNSUP("%s: op %u %s: The last 4 operators must be Conv2d, Mul, Reshape, Softmax (op %u must be %s)", L, op,
                   opname(m, (int32_t)op), op, etpu_op_code_name(tail[k]));
  }
  ti->conv_op = (int32_t)g->nops - 4;
  ti->mul_op = ti->conv_op + 1;
  ti->reshape_op = ti->conv_op + 2;
  ti->softmax_op = ti->conv_op + 3;
  if (l2b >= 0)
    return UNSUP(
        "%s: ops %d and %d are both L2_NORMALIZATION; exactly one is allowed: Unsupported model architecture. "
        "L2Norm operator must be followed with the last Conv2d operator.",
        L, l2, l2b);
  int32_t gap = ti->conv_op - l2;
  if (gap < 1 || gap > 2 || (gap == 2 && opcode_at(m, (uint32_t)l2 + 1) != ETPU_OP_QUANTIZE))
    return UNSUP(
        "%s: op %d L2_NORMALIZATION, op %d CONV_2D: Unsupported model architecture. L2Norm operator must be "
        "followed with the last Conv2d operator. (directly, or through one QUANTIZE)",
        L, l2, ti->conv_op);
  ti->l2_op = l2;
  ti->quant_op = gap == 2 ? l2 + 1 : -1;
  char sh[96];
  ti->l2_out = op_out(m, l2);
  if (ti->l2_out < 0) return UNSUP("%s: op %d L2_NORMALIZATION has no output", L, l2);
  const etpu_gtensor *emb = &g->tensors[ti->l2_out];
  if (!shape_is(emb, 4, (const int32_t[]){1, 1, 1, -1}) || emb->shape[3] < 1) {
    shape_str(emb, sh, sizeof sh);
    return UNSUP(
        "%s: op %d L2_NORMALIZATION: output '%s' is %s: Embedding extractor's output tensor should be [1, 1, 1, "
        "x]",
        L, l2, emb->name, sh);
  }
  ti->d = (uint32_t)emb->shape[3];
  ti->kernel = op_in(m, ti->conv_op, 1);
  ti->bias = op_in(m, ti->conv_op, 2);
  if (ti->kernel < 0 || ti->bias < 0)
    return UNSUP("%s: op %d CONV_2D: needs a kernel and a bias input (has %u inputs)", L, ti->conv_op,
                 g->ops[ti->conv_op].ninputs);
  const etpu_gtensor *bias = &g->tensors[ti->bias];
  if (!bias->quant || bias->quant->zp_count < 1)
    return UNSUP("%s: op %d CONV_2D: bias '%s' has no zero point; libcoral reads the bias zero point", L, ti->conv_op,
                 bias->name);
  int64_t bzp = bias->quant->zero_point[0];
  if (bzp < 0 || bzp > 255)
    return UNSUP("%s: op %d CONV_2D: bias '%s' zero point %lld: bias_zero_point is out of [0, 255] range!", L,
                 ti->conv_op, bias->name, (long long)bzp);
  ti->softmax_out = op_out(m, ti->softmax_op);
  if (ti->softmax_out < 0) return UNSUP("%s: op %d SOFTMAX has no output", L, ti->softmax_op);
  const etpu_gtensor *sm = &g->tensors[ti->softmax_out];
  if (!shape_is(sm, 2, (const int32_t[]){1, -1})) {
    shape_str(sm, sh, sizeof sh);
    return UNSUP("%s: op %d SOFTMAX: output '%s' is %s: Logit output tensor should be [1, x]", L, ti->softmax_op,
                 sm->name, sh);
  }
  if (g->noutputs != 1 || g->outputs[0] != ti->softmax_out)
    return UNSUP(
        "%s: the graph has %u outputs and they are not exactly op %d's output '%s': Graph must have output "
        "from Softmax",
        L, g->noutputs, ti->softmax_op, sm->name);

  /* etpu's checks: the tail is a chain, and every tensor rewritten has the
   * type, shape and data the rewrite assumes. */
  int32_t conv_in = ti->quant_op >= 0 ? op_out(m, ti->quant_op) : ti->l2_out;
  if (ti->quant_op >= 0 && op_in(m, ti->quant_op, 0) != ti->l2_out)
    return UNSUP("%s: op %d QUANTIZE does not read op %d L2_NORMALIZATION's output", L, ti->quant_op, l2);
  if (op_in(m, ti->conv_op, 0) != conv_in)
    return UNSUP("%s: op %d CONV_2D does not read the embedding (op %d's output)", L, ti->conv_op,
                 ti->quant_op >= 0 ? ti->quant_op : l2);
  ti->conv_out = op_out(m, ti->conv_op);
  ti->mul_out = op_out(m, ti->mul_op);
  ti->reshape_out = op_out(m, ti->reshape_op);
  if (ti->conv_out < 0 || op_in(m, ti->mul_op, 0) != ti->conv_out)
    return UNSUP("%s: op %d MUL: its first input must be op %d CONV_2D's output", L, ti->mul_op, ti->conv_op);
  if (ti->mul_out < 0 || op_in(m, ti->reshape_op, 0) != ti->mul_out)
    return UNSUP("%s: op %d RESHAPE: its first input must be op %d MUL's output", L, ti->reshape_op, ti->mul_op);
  if (ti->reshape_out < 0 || op_in(m, ti->softmax_op, 0) != ti->reshape_out)
    return UNSUP("%s: op %d SOFTMAX: its input must be op %d RESHAPE's output", L, ti->softmax_op, ti->reshape_op);
  const etpu_gtensor *k = &g->tensors[ti->kernel];
  size_t ksize = 0;
  const uint8_t *kdata = etpu_graph_tensor_data(m, k, &ksize);
  if (!is_q8(k->type) || !k->quant || k->quant->count < 1 || k->quant->zp_count < 1 || !(k->quant->scale[0] > 0))
    return UNSUP(
        "%s: op %d CONV_2D: kernel '%s' must be UINT8 or INT8 with a positive scale and a zero point (it is "
        "%s%s)",
        L, ti->conv_op, k->name, etpu_dtype_name(k->type), k->quant ? "" : ", not quantized");
  if (!shape_is(k, 4, (const int32_t[]){-1, 1, 1, (int32_t)ti->d}) || k->shape[0] < 1) {
    shape_str(k, sh, sizeof sh);
    return UNSUP("%s: op %d CONV_2D: kernel '%s' is %s; a 1x1 conv over the embedding needs [C,1,1,%u]", L, ti->conv_op,
                 k->name, sh, ti->d);
  }
  if (!kdata || ksize != (size_t)k->shape[0] * ti->d)
    return etpu_fail(ETPU_MALFORMED, "%s: op %d CONV_2D: kernel '%s' holds %zu bytes, its shape needs %zu", L,
                     ti->conv_op, k->name, ksize, (size_t)k->shape[0] * ti->d);
  ti->classes = (uint32_t)k->shape[0];
  if (bias->type != ETPU_INT32 || bias->rank != 1)
    return UNSUP("%s: op %d CONV_2D: bias '%s' must be a 1-D INT32 tensor", L, ti->conv_op, bias->name);
  const etpu_gtensor *co = &g->tensors[ti->conv_out], *mo = &g->tensors[ti->mul_out];
  if (co->rank != 4 || mo->rank != 4)
    return UNSUP("%s: ops %d CONV_2D and %d MUL must have 4-D outputs (ranks %u and %u)", L, ti->conv_op, ti->mul_op,
                 co->rank, mo->rank);
  ti->mul_scale = op_in(m, ti->mul_op, 1);
  const etpu_gtensor *s = ti->mul_scale >= 0 ? &g->tensors[ti->mul_scale] : NULL;
  size_t ssize = 0;
  if (!s || !etpu_graph_tensor_data(m, s, &ssize) || !is_q8(s->type) || !s->quant || s->quant->count < 1 ||
      s->quant->zp_count < 1)
    return UNSUP("%s: op %d MUL: its second input must be the scale factor, a quantized UINT8/INT8 constant", L,
                 ti->mul_op);
  const etpu_gtensor *ro = &g->tensors[ti->reshape_out];
  if (ro->rank < 1) return UNSUP("%s: op %d RESHAPE: output '%s' has rank 0", L, ti->reshape_op, ro->name);
  ti->reshape_shape = op_in(m, ti->reshape_op, 1);
  if (ti->reshape_shape >= 0) {
    const etpu_gtensor *rs = &g->tensors[ti->reshape_shape];
    size_t rsize = 0;
    if (rs->type != ETPU_INT32 || !etpu_graph_tensor_data(m, rs, &rsize) || rsize != 8)
      return UNSUP("%s: op %d RESHAPE: shape input '%s' must be a constant INT32 [1, C] (2 values)", L, ti->reshape_op,
                   rs->name);
  }
  return ETPU_OK;
}

/* ---- the description: "<class> <norm>\n" per imprinted class ------------- */

/* printf("%f", v) for finite v >= 0 below 9e12, without the locale: the
 * exact binary value rounded half-to-even to 6 decimals. */
static void format_f6(float v, char *buf, size_t cap) {
  uint32_t bits;
  memcpy(&bits, &v, sizeof bits);
  if (!(v >= 0.0f) || !(v < 9.0e12f)) {
    snprintf(buf, cap, "%f", (double)v);
    return;
  }
  uint32_t ex = (bits >> 23) & 0xff;
  uint64_t man = bits & 0x7fffff;
  int e;
  if (ex == 0) {
    e = -149;
  } else {
    man |= 0x800000;
    e = (int)ex - 150;
  }
  uint64_t q; /* v x 10^6, rounded */
  if (e >= 0) {
    q = (man << e) * 1000000u;
  } else {
    uint64_t num = man * 1000000u; /* < 2^44 */
    int sh = -e;
    if (sh >= 63) {
      q = 0;
    } else {
      q = num >> sh;
      uint64_t rem = num & ((1ULL << sh) - 1), half = 1ULL << (sh - 1);
      if (rem > half || (rem == half && (q & 1))) q++;
    }
  }
  snprintf(buf, cap, "%llu.%06llu", (unsigned long long)(q / 1000000u), (unsigned long long)(q % 1000000u));
}

static bool parse_int(const char *s, size_t n, int64_t *out) {
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  if (i == n) return false;
  int64_t v = 0;
  for (; i < n; i++) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
    if (v > 2147483648LL) return false;
  }
  v = neg ? -v : v;
  if (v > INT32_MAX) return false;
  *out = v;
  return true;
}

/* A decimal number ([sign] digits [. digits] [e [sign] digits]) without the
 * locale. Deterministic; exact (correctly rounded to double, then float) for
 * up to 15 significant digits and exponents within 10^±22 — every value
 * etpu writes. */
static bool parse_float(const char *s, size_t n, float *out) {
  size_t i = 0;
  bool neg = false;
  if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
  uint64_t man = 0;
  int digits = 0, exp10 = 0, sig = 0;
  for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
    if (sig < 19) {
      man = man * 10 + (uint64_t)(s[i] - '0');
      if (man) sig++;
    } else {
      exp10++;
    }
  }
  if (i < n && s[i] == '.') {
    for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, digits++) {
      if (sig < 19) {
        man = man * 10 + (uint64_t)(s[i] - '0');
        if (man) sig++;
        exp10--;
      }
    }
  }
  if (digits == 0) return false;
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    int64_t e;
    if (!parse_int(s + i + 1, n - i - 1, &e) || e > 400 || e < -400) return false;
    exp10 += (int)e;
    i = n;
  }
  if (i != n) return false;
  double v = (double)man;
  /* Powers of ten up to 1e22 are exact doubles. */
  while (exp10 > 0) {
    int k = exp10 > 22 ? 22 : exp10;
    double p = 1.0;
    for (int j = 0; j < k; j++) p *= 10.0;
    v *= p;
    exp10 -= k;
  }
  while (exp10 < 0) {
    int k = -exp10 > 22 ? 22 : -exp10;
    double p = 1.0;
    for (int j = 0; j < k; j++) p *= 10.0;
    v /= p;
    exp10 += k;
  }
  *out = (float)(neg ? -v : v);
  return true;
}

/* libcoral's ParseTrainingMetadata: split at every ' ' and '\n', take
 * (int, float) pairs, keep the first value of each class; any pair that
 * does not parse empties the whole map. Classes outside [0, C) are ignored. */
static void parse_metadata(const char *desc, uint32_t classes, uint8_t *has, float *norm) {
  memset(has, 0, classes);
  if (!desc || !desc[0]) return;
  const char *tok[2];
  size_t len[2];
  int k = 0;
  const char *p = desc;
  for (;;) {
    const char *e = p;
    while (*e && *e != ' ' && *e != '\n') e++;
    tok[k] = p;
    len[k] = (size_t)(e - p);
    k++;
    if (k == 2) {
      int64_t label;
      float value;
      if (!parse_int(tok[0], len[0], &label) || !parse_float(tok[1], len[1], &value)) {
        memset(has, 0, classes);
        return;
      }
      if (label >= 0 && (uint64_t)label < classes && !has[label]) {
        has[label] = 1;
        norm[label] = value;
      }
      k = 0;
    }
    if (!*e) break;
    p = e + 1;
  }
  /* A last unpaired token (libcoral's loop stops before it) is ignored. */
}

/* ---- the engine ------------------------------------------------------------ */

static int32_t dequant_byte(int32_t type, uint8_t b) { return type == ETPU_INT8 ? (int32_t)(int8_t)b : (int32_t)b; }

static etpu_status grow_classes(etpu_imprint *im, uint32_t need) {
  if (need <= im->cap) return ETPU_OK;
  uint32_t ncap = im->cap ? im->cap * 2 : 16;
  if (ncap < need) ncap = need;
  size_t bytes;
  if (!etpu_mul_size((size_t)ncap * im->t.d, sizeof(float), &bytes))
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: %u classes overflow memory", im->label, ncap);
  float *nw = etpu_realloc(im->w, bytes);
  if (!nw) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for %u classes", im->label, ncap);
  im->w = nw;
  uint8_t *nt = etpu_realloc(im->trainable, ncap);
  if (!nt) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for %u classes", im->label, ncap);
  im->trainable = nt;
  im->cap = ncap;
  return ETPU_OK;
}

etpu_status etpu_imprint_create(const etpu_model *model, bool keep_classes, etpu_imprint **imprint_out) {
  if (!model || !imprint_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_imprint_create: NULL argument");
  tail_info ti;
  etpu_status st = validate(model, &ti);
  if (st != ETPU_OK) return st;
  etpu_imprint *im = etpu_calloc(1, sizeof *im);
  if (!im) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", etpu_model_label(model));
  snprintf(im->label, sizeof im->label, "%s", etpu_model_label(model));
  im->t = ti;
  const etpu_gtensor *k = &model->subgraphs[0].tensors[ti.kernel];
  im->ktype = k->type;
  im->kscale = k->quant->scale[0];
  im->kzp = (int32_t)k->quant->zero_point[0];
  st = etpu_model_write_buffer(model, 0, &im->proto, &im->proto_size);
  if (st == ETPU_OK && keep_classes) {
    /* libcoral's LoadExistingClasses. */
    const uint32_t c = ti.classes, d = ti.d;
    size_t ksize;
    const uint8_t *kd = etpu_graph_tensor_data(model, k, &ksize);
    uint8_t *has = etpu_calloc(c, 1);
    float *norm = etpu_calloc(c, sizeof *norm);
    st = (has && norm) ? grow_classes(im, c) : etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", im->label);
    if (st == ETPU_OK) {
      parse_metadata(model->description, c, has, norm);
      for (uint32_t i = 0; i < c; i++) {
        float *w = im->w + (size_t)i * d;
        for (uint32_t j = 0; j < d; j++)
          w[j] = im->kscale * (float)(dequant_byte(im->ktype, kd[(size_t)i * d + j]) - im->kzp);
        im->trainable[i] = has[i];
        if (has[i])
          for (uint32_t j = 0; j < d; j++) w[j] *= norm[i];
      }
      im->nclasses = c;
    }
    etpu_free(has);
    etpu_free(norm);
  }
  if (st != ETPU_OK) {
    etpu_imprint_free(im);
    return st;
  }
  *imprint_out = im;
  return ETPU_OK;
}

void etpu_imprint_free(etpu_imprint *im) {
  if (!im) return;
  etpu_free(im->proto);
  etpu_free(im->w);
  etpu_free(im->trainable);
  etpu_free(im);
}

uint32_t etpu_imprint_embedding_dim(const etpu_imprint *im) { return im ? im->t.d : 0; }
uint32_t etpu_imprint_class_count(const etpu_imprint *im) { return im ? im->nclasses : 0; }
bool etpu_imprint_class_trainable(const etpu_imprint *im, uint32_t id) {
  return im && id < im->nclasses && im->trainable[id];
}

etpu_status etpu_imprint_train(etpu_imprint *im, const float *embedding, uint32_t dim, uint32_t class_id) {
  if (!im || !embedding) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_imprint_train: NULL argument");
  if (dim != im->t.d)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: embedding of %u values, the model's is %u: Invalid number of weights.",
                     im->label, dim, im->t.d);
  if (class_id < im->nclasses && !im->trainable[class_id])
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "%s: class %u is a base class: Cannot change the base model classes not trained with imprinting "
                     "method!",
                     im->label, class_id);
  if (class_id > im->nclasses)
    return etpu_fail(ETPU_INVALID_ARGUMENT,
                     "%s: class %u, but the model has %u classes (the next new one is %u): The class index of a new "
                     "category is too large!",
                     im->label, class_id, im->nclasses, im->nclasses);
  for (uint32_t i = 0; i < dim; i++)
    if (!isfinite(embedding[i]))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: embedding value %u is not finite", im->label, i);
  if (class_id == im->nclasses) {
    etpu_status st = grow_classes(im, im->nclasses + 1);
    if (st != ETPU_OK) return st;
    memset(im->w + (size_t)class_id * dim, 0, (size_t)dim * sizeof(float));
    im->trainable[class_id] = 1;
    im->nclasses++;
  }
  float *w = im->w + (size_t)class_id * dim;
  for (uint32_t i = 0; i < dim; i++) w[i] += embedding[i];
  return ETPU_OK;
}

static etpu_status open_proto(const etpu_imprint *im, const char *suffix, etpu_model **out) {
  char lab[320];
  snprintf(lab, sizeof lab, "%s%s", im->label, suffix);
  return etpu_model_open_buffer(im->proto, im->proto_size, lab, ETPU_OPEN_COPY, out);
}

etpu_status etpu_imprint_extractor(const etpu_imprint *im, etpu_model **model_out) {
  if (!im || !model_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_imprint_extractor: NULL argument");
  etpu_model *m = NULL;
  etpu_status st = open_proto(im, " (extractor)", &m);
  if (st == ETPU_OK) {
    const etpu_gsubgraph *g = &m->subgraphs[0];
    st = etpu_model_set_io(m, 0, g->ninputs, g->inputs, 1, &im->t.l2_out);
  }
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return st;
  }
  *model_out = m;
  return ETPU_OK;
}

#define TRY(x)                    \
  do {                            \
    st = (x);                     \
    if (st != ETPU_OK) goto fail; \
  } while (0)

/* Set the dimension `axis` (negative: from the end) of a tensor to c. */
static etpu_status set_dim(etpu_model *m, int32_t tensor, int axis, int32_t c) {
  const etpu_gtensor *t = &m->subgraphs[0].tensors[tensor];
  int32_t shape[8];
  if (t->rank > 8) return etpu_fail(ETPU_UNSUPPORTED, "%s: tensor '%s' has rank %u", m->label, t->name, t->rank);
  memcpy(shape, t->shape, t->rank * sizeof *shape);
  shape[axis < 0 ? (int)t->rank + axis : axis] = c;
  return etpu_learn_set_shape(m, (uint32_t)tensor, t->rank, shape);
}

etpu_status etpu_imprint_build(const etpu_imprint *im, etpu_model **model_out) {
  if (!im || !model_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_imprint_build: NULL argument");
  if (im->nclasses == 0) return etpu_fail(ETPU_INVALID_STATE, "%s: Model is not trained.", im->label);
  const uint32_t c = im->nclasses, d = im->t.d;
  const tail_info *ti = &im->t;
  etpu_status st = ETPU_OK;
  etpu_model *m = NULL;
  uint8_t *kernel = etpu_malloc((size_t)c * d);
  uint8_t *bias = etpu_malloc((size_t)c * 4);
  float *row = etpu_malloc((size_t)d * sizeof *row);
  size_t dcap = (size_t)c * 96 + 1; /* a line is at most 10 + 1 + 48 + 1 bytes */
  char *desc = etpu_malloc(dcap);
  if (!kernel || !bias || !row || !desc) {
    st = etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", im->label);
    goto fail;
  }
  /* libcoral's SerializeModel: normalize, quantize, record norms. */
  int32_t qmin, qmax;
  etpu_learn_qrange(im->ktype, &qmin, &qmax);
  if (im->ktype == ETPU_INT8 && im->kzp == 0) qmin = -127; /* symmetric int8 weights (TFLite spec) */
  size_t dlen = 0;
  desc[0] = 0;
  for (uint32_t i = 0; i < c; i++) {
    memcpy(row, im->w + (size_t)i * d, (size_t)d * sizeof *row);
    float norm = etpu_learn_l2_normalize(row, d);
    for (uint32_t j = 0; j < d; j++)
      kernel[(size_t)i * d + j] = (uint8_t)etpu_learn_quantize(row[j], im->kscale, im->kzp, qmin, qmax);
    if (im->trainable[i]) {
      char num[64], line[96];
      format_f6(norm, num, sizeof num);
      int n = snprintf(line, sizeof line, "%u %s\n", i, num);
      if (n > 0 && (size_t)n < sizeof line && dlen + (size_t)n < dcap) {
        memcpy(desc + dlen, line, (size_t)n + 1);
        dlen += (size_t)n;
      }
    }
  }
  TRY(open_proto(im, " (imprinted)", &m));
  const etpu_gsubgraph *g = &m->subgraphs[0];
  /* UpdateImprintingModel. */
  TRY(set_dim(m, ti->kernel, 0, (int32_t)c));
  TRY(etpu_model_set_tensor_data(m, 0, (uint32_t)ti->kernel, kernel, (size_t)c * d));
  const etpu_gtensor *bt = &g->tensors[ti->bias];
  memset(bias, (int)(uint8_t)bt->quant->zero_point[0], (size_t)c * 4);
  TRY(set_dim(m, ti->bias, 0, (int32_t)c));
  TRY(etpu_model_set_tensor_data(m, 0, (uint32_t)ti->bias, bias, (size_t)c * 4));
  const int32_t azp = g->tensors[ti->conv_out].type == ETPU_INT8 ? 0 : 128;
  TRY(set_dim(m, ti->conv_out, 3, (int32_t)c));
  etpu_learn_quant qc = {1.0f / 128, azp, true, -1.0f, 1.0f};
  TRY(etpu_learn_set_quant(m, (uint32_t)ti->conv_out, &qc));
  TRY(set_dim(m, ti->mul_out, 3, (int32_t)c));
  const etpu_gtensor *sf = &g->tensors[ti->mul_scale];
  size_t ssize;
  const uint8_t *sdata = etpu_graph_tensor_data(m, sf, &ssize);
  const float s = sf->quant->scale[0] * ((float)dequant_byte(sf->type, sdata[0]) - (float)sf->quant->zero_point[0]);
  etpu_learn_quant qm = {1.0f / 128 * s, azp, true, -s, s};
  TRY(etpu_learn_set_quant(m, (uint32_t)ti->mul_out, &qm));
  TRY(set_dim(m, ti->reshape_out, -1, (int32_t)c));
  if (ti->reshape_shape >= 0) {
    int32_t shp[2];
    size_t rsize;
    memcpy(shp, etpu_graph_tensor_data(m, &g->tensors[ti->reshape_shape], &rsize), sizeof shp);
    shp[1] = (int32_t)c;
    TRY(etpu_model_set_tensor_data(m, 0, (uint32_t)ti->reshape_shape, shp, sizeof shp));
  }
  etpu_gop *rop = &m->subgraphs[0].ops[ti->reshape_op];
  const etpu_fbv *ns = rop->options && rop->options->desc == ETPU_T_ReshapeOptions
                           ? etpu_fbt_get(rop->options, ETPU_F_ReshapeOptions_new_shape)
                           : NULL;
  if (ns && ns->count > 0) {
    int32_t *v = etpu_arena_dup(&m->arena, ns->v.p, ns->count * sizeof(int32_t));
    if (!v) {
      st = etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
      goto fail;
    }
    v[ns->count - 1] = (int32_t)c;
    etpu_fbv nv = *ns;
    nv.v.p = v;
    TRY(etpu_fbt_put(&m->arena, rop->options, &nv));
  }
  TRY(etpu_learn_set_quant(m, (uint32_t)ti->reshape_out, &qm));
  TRY(set_dim(m, ti->softmax_out, 1, (int32_t)c));
  TRY(etpu_model_set_io(m, 0, g->ninputs, g->inputs, 1, &ti->softmax_out));
  TRY(etpu_model_set_description(m, desc));
  TRY(etpu_model_validate(m));
  etpu_free(kernel);
  etpu_free(bias);
  etpu_free(row);
  etpu_free(desc);
  *model_out = m;
  return ETPU_OK;
fail:
  etpu_free(kernel);
  etpu_free(bias);
  etpu_free(row);
  etpu_free(desc);
  etpu_model_free(m);
  return st;
}

/* ---- making an imprinting model from an extractor ------------------------- */

etpu_status etpu_imprint_make_model(const etpu_model *extractor, float scale, etpu_model **model_out) {
  if (!extractor || !model_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_imprint_make_model: NULL argument");
  const char *L = etpu_model_label(extractor);
  if (scale == 0.0f) scale = ETPU_IMPRINT_DEFAULT_SCALE;
  if (!isfinite(scale) || scale < 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: imprinting scale %g must be finite and > 0", L, (double)scale);
  ETPU_TRY(etpu_extractor_check(extractor));
  const etpu_gsubgraph *g0 = &extractor->subgraphs[0];
  const int32_t emb = g0->outputs[0];
  const etpu_gtensor *et = &g0->tensors[emb];
  char sh[96];
  shape_str(et, sh, sizeof sh);
  const bool r4 = shape_is(et, 4, (const int32_t[]){1, 1, 1, -1}), r2 = shape_is(et, 2, (const int32_t[]){1, -1});
  if (!(r4 || r2) || et->shape[et->rank - 1] < 1)
    return UNSUP("%s: output '%s' is %s; an embedding is [1,1,1,D] or [1,D]", L, et->name, sh);
  if (!is_q8(et->type) || !et->quant || et->quant->count != 1)
    return UNSUP("%s: output '%s' is %s%s; the imprinting tail needs a UINT8 or INT8 embedding quantized per tensor", L,
                 et->name, etpu_dtype_name(et->type), et->quant ? "" : " (not quantized)");
  const int32_t d = et->shape[et->rank - 1];
  const int32_t ty = et->type;
  const bool s8 = ty == ETPU_INT8;
  const int32_t azp = s8 ? 0 : 128;
  static const char *const names[] = {
      "Imprinting/Embedding/Reshape", "Imprinting/L2Norm/Output", "Imprinting/Conv/Weights", "Imprinting/Conv/Bias",
      "Imprinting/Conv/Output",       "Imprinting/Mul/Scale",     "Imprinting/Mul/Output",   "Imprinting/Reshape/Shape",
      "Imprinting/Reshape/Output",    "Imprinting/Softmax/Output"};
  etpu_model *m = NULL;
  etpu_status st = ETPU_OK;
  uint8_t *kernel = NULL;
  char lab[320];
  snprintf(lab, sizeof lab, "%s + imprinting tail", L);
  TRY(etpu_learn_copy_model(extractor, lab, &m));
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (etpu_learn_has_tensor_named(m, names[i])) {
      st = UNSUP("%s: already has a tensor named '%s' (an imprinting tail was appended before?)", L, names[i]);
      goto fail;
    }
  const int32_t s4[4] = {1, 1, 1, d}, one4[4] = {1, 1, 1, 1};
  int32_t in = emb;
  if (r2) {
    etpu_learn_quant qe = {et->quant->scale[0], et->quant->zp_count ? et->quant->zero_point[0] : 0, false, 0, 0};
    int32_t t;
    TRY(etpu_learn_add_tensor(m, names[0], ty, 4, s4, &qe, NULL, 0, true, &t));
    etpu_option ro = {"new_shape", 0, 0, 4, s4};
    TRY(etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, etpu_learn_op_version(m, ETPU_OP_RESHAPE, 1), 1, &in, 1, &t, 1,
                          &ro, NULL, 0, NULL));
    in = t;
  }
  /* L2_NORMALIZATION: TFLite fixes its output at 1/128 (uint8 zero point 128, int8 0). */
  etpu_learn_quant q_unit = {1.0f / 128, azp, true, -1.0f, 1.0f};
  int32_t t1;
  TRY(etpu_learn_add_tensor(m, names[1], ty, 4, s4, &q_unit, NULL, 0, true, &t1));
  TRY(etpu_model_add_op(m, 0, ETPU_OP_L2_NORMALIZATION, NULL,
                        etpu_learn_op_version(m, ETPU_OP_L2_NORMALIZATION, s8 ? 2 : 1), 1, &in, 1, &t1, 0, NULL, NULL,
                        0, NULL));
  /* CONV_2D 1x1 with one empty class: kernel row = the zero point. */
  const float kscale = s8 ? 1.0f / 127 : 1.0f / 128;
  kernel = etpu_malloc((size_t)d);
  if (!kernel) {
    st = etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", L);
    goto fail;
  }
  memset(kernel, s8 ? 0 : 128, (size_t)d);
  etpu_learn_quant qk = {kscale, s8 ? 0 : 128, false, 0, 0};
  int32_t tk, tb, t2;
  TRY(etpu_learn_add_tensor(m, names[2], ty, 4, s4, &qk, kernel, (size_t)d, true, &tk));
  const int32_t zero_bias = 0;
  etpu_learn_quant qb = {1.0f / 128 * kscale, 0, false, 0, 0};
  TRY(etpu_learn_add_tensor(m, names[3], ETPU_INT32, 1, (const int32_t[]){1}, &qb, &zero_bias, 4, true, &tb));
  TRY(etpu_learn_add_tensor(m, names[4], ty, 4, one4, &q_unit, NULL, 0, true, &t2));
  etpu_option co[] = {{"padding", 0 /* SAME */, 0, 0, NULL}, {"stride_w", 1, 0, 0, NULL}, {"stride_h", 1, 0, 0, NULL}};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_CONV_2D, NULL, etpu_learn_op_version(m, ETPU_OP_CONV_2D, s8 ? 3 : 1), 3,
                        (int32_t[]){t1, tk, tb}, 1, &t2, 3, co, NULL, 0, NULL));
  /* MUL by the scale factor, stored as the largest code so it keeps 8 bits. */
  const float qmax_f = s8 ? 127.0f : 255.0f;
  const uint8_t sbyte = s8 ? 127 : 255;
  etpu_learn_quant qs = {scale / qmax_f, 0, false, 0, 0};
  const float s_eff = qs.scale * (qmax_f - 0.0f); /* what the imprinting engine reads back */
  etpu_learn_quant qm = {1.0f / 128 * s_eff, azp, true, -s_eff, s_eff};
  int32_t ts, t3;
  TRY(etpu_learn_add_tensor(m, names[5], ty, 1, (const int32_t[]){1}, &qs, &sbyte, 1, true, &ts));
  TRY(etpu_learn_add_tensor(m, names[6], ty, 4, one4, &qm, NULL, 0, true, &t3));
  TRY(etpu_model_add_op(m, 0, ETPU_OP_MUL, NULL, etpu_learn_op_version(m, ETPU_OP_MUL, s8 ? 2 : 1), 2,
                        (int32_t[]){t2, ts}, 1, &t3, 0, NULL, NULL, 0, NULL));
  /* RESHAPE to [1, C] (shape input and new_shape, as Coral's models have both). */
  const int32_t shp[2] = {1, 1};
  int32_t tshape, t4, t5;
  TRY(etpu_learn_add_tensor(m, names[7], ETPU_INT32, 1, (const int32_t[]){2}, NULL, shp, sizeof shp, true, &tshape));
  TRY(etpu_learn_add_tensor(m, names[8], ty, 2, shp, &qm, NULL, 0, true, &t4));
  etpu_option ro = {"new_shape", 0, 0, 2, shp};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, etpu_learn_op_version(m, ETPU_OP_RESHAPE, 1), 2,
                        (int32_t[]){t3, tshape}, 1, &t4, 1, &ro, NULL, 0, NULL));
  etpu_learn_quant qsm = {1.0f / 256, s8 ? -128 : 0, true, 0.0f, 1.0f};
  TRY(etpu_learn_add_tensor(m, names[9], ty, 2, shp, &qsm, NULL, 0, true, &t5));
  etpu_option so = {"beta", 0, 1.0, 0, NULL};
  TRY(etpu_model_add_op(m, 0, ETPU_OP_SOFTMAX, NULL, etpu_learn_op_version(m, ETPU_OP_SOFTMAX, s8 ? 2 : 1), 1, &t4, 1,
                        &t5, 1, &so, NULL, 0, NULL));
  const etpu_gsubgraph *g = &m->subgraphs[0];
  TRY(etpu_model_set_io(m, 0, g->ninputs, g->inputs, 1, &t5));
  /* Class 0 exists (so the model runs) and is imprintable. */
  TRY(etpu_model_set_description(m, "0 0.000000\n"));
  TRY(etpu_model_validate(m));
  tail_info ti;
  TRY(validate(m, &ti));
  etpu_free(kernel);
  *model_out = m;
  return ETPU_OK;
fail:
  etpu_free(kernel);
  etpu_model_free(m);
  return st;
}
