/*
 * read.c — open a .tflite model: verify the flatbuffer (fb.c), lift the
 * decoded tree into the typed graph (graph.h), then check TensorFlow Lite's
 * semantic rules before anyone can use it.
 *
 * Rules checked here (each failure names the file, the object and the rule):
 *  - operator codes: code = max(deprecated_builtin_code, builtin_code), version >= 1
 *  - buffers: inline data, or offset/size outside the flatbuffer within the file
 *  - tensors: known type; shape dims >= 0; element count without overflow;
 *    buffer index in range; constant data size = elements x type size (dense);
 *    quantization: scale and zero_point of equal length, 1 or the size of
 *    quantized_dimension (which must be a valid axis when per-axis)
 *  - operators: opcode index in range; inputs -1 or valid; outputs valid;
 *    a tensor produced by at most one op; options table matches the op
 *  - subgraph inputs/outputs, metadata buffers, signature tensor indices
 */
#include <stdio.h>
#include <string.h>

#include "model/graph.h"

static etpu_status malformed(const etpu_model *m, const char *fmt, ...) ETPU_PRINTF(2, 3);
static etpu_status malformed(const etpu_model *m, const char *fmt, ...) {
  char msg[800];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return etpu_fail(ETPU_MALFORMED, "%s: %s", m->label, msg);
}

/* ---- small helpers shared by the model modules ------------------------- */

etpu_status etpu_graph_grow(etpu_model *m, void **arr, uint32_t n, uint32_t *cap, size_t elem) {
  if (n < *cap) return ETPU_OK;
  uint32_t ncap = *cap ? *cap * 2 : 8;
  if (ncap <= *cap) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: too many objects", m->label);
  void *na = etpu_arena_array(&m->arena, ncap, elem);
  if (!na) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  if (n) memcpy(na, *arr, (size_t)n * elem);
  *arr = na;
  *cap = ncap;
  return ETPU_OK;
}

bool etpu_shape_elements(uint32_t rank, const int32_t *shape, uint64_t *count_out) {
  uint64_t n = 1;
  for (uint32_t i = 0; i < rank; i++) {
    if (shape[i] < 0) return false;
    if (shape[i] != 0 && n > ((uint64_t)1 << 62) / (uint64_t)shape[i]) return false;
    n *= (uint64_t)shape[i];
  }
  *count_out = n;
  return true;
}

size_t etpu_dtype_size(int32_t t) {
  switch (t) {
    case ETPU_BOOL:
    case ETPU_UINT8:
    case ETPU_INT8:
    case ETPU_FLOAT8_E4M3FN:
    case ETPU_FLOAT8_E5M2:
      return 1;
    case ETPU_FLOAT16:
    case ETPU_INT16:
    case ETPU_UINT16:
    case ETPU_BFLOAT16:
      return 2;
    case ETPU_FLOAT32:
    case ETPU_INT32:
    case ETPU_UINT32:
      return 4;
    case ETPU_INT64:
    case ETPU_FLOAT64:
    case ETPU_UINT64:
    case ETPU_COMPLEX64:
      return 8;
    case ETPU_COMPLEX128:
      return 16;
    default:
      return 0; /* STRING, RESOURCE, VARIANT, sub-byte types, unknown */
  }
}

static bool dtype_known(int32_t t) { return t >= 0 && t <= ETPU_FLOAT8_E5M2; }

const char *etpu_dtype_name(int32_t t) {
  const char *n = etpu_fb_enum_name(ETPU_E_TensorType, t);
  return n ? n : "UNKNOWN";
}

const char *etpu_op_code_name(int32_t code) {
  const char *n = etpu_fb_enum_name(ETPU_E_BuiltinOperator, code);
  return n ? n : "UNKNOWN";
}

bool etpu_tensor_bytes(int32_t type, uint32_t rank, const int32_t *shape, uint64_t *bytes_out) {
  uint64_t n;
  if (!etpu_shape_elements(rank, shape, &n)) return false;
  if (type == ETPU_INT4 || type == ETPU_UINT4) {
    *bytes_out = (n + 1) / 2;
    return true;
  }
  if (type == ETPU_INT2) {
    *bytes_out = (n + 3) / 4;
    return true;
  }
  size_t es = etpu_dtype_size(type);
  if (es == 0) return false;
  if (n > ((uint64_t)1 << 62) / es) return false;
  *bytes_out = n * es;
  return true;
}

size_t etpu_tensor_size(int32_t type, uint32_t rank, const int32_t *shape) {
  uint64_t bytes = 0;
  if ((rank && !shape) || !etpu_tensor_bytes(type, rank, shape, &bytes) || bytes > SIZE_MAX) return 0;
  return (size_t)bytes;
}

const uint8_t *etpu_graph_tensor_data(const etpu_model *m, const etpu_gtensor *t, size_t *size_out) {
  *size_out = 0;
  if (t->buffer == 0 || t->buffer >= m->nbuffers) return NULL;
  const etpu_gbuffer *b = &m->buffers[t->buffer];
  if (!b->data || b->size == 0) return NULL;
  *size_out = b->size;
  return b->data;
}

int32_t etpu_graph_op_code(const etpu_model *m, const etpu_gop *op) {
  return op->opcode < m->nopcodes ? m->opcodes[op->opcode].code : -1;
}

const char *etpu_graph_op_name(const etpu_model *m, const etpu_gop *op) {
  if (op->opcode >= m->nopcodes) return "?";
  const etpu_gopcode *oc = &m->opcodes[op->opcode];
  if (oc->code == ETPU_OP_CUSTOM) return oc->custom_code ? oc->custom_code : "CUSTOM";
  return etpu_op_code_name(oc->code);
}

void etpu_graph_link(etpu_model *m, uint32_t sg) {
  etpu_gsubgraph *g = &m->subgraphs[sg];
  for (uint32_t i = 0; i < g->ntensors; i++) {
    g->tensors[i].producer = -1;
    g->tensors[i].consumers = 0;
  }
  for (uint32_t o = 0; o < g->nops; o++) {
    const etpu_gop *op = &g->ops[o];
    for (uint32_t k = 0; k < op->ninputs; k++)
      if (op->inputs[k] >= 0 && (uint32_t)op->inputs[k] < g->ntensors) g->tensors[op->inputs[k]].consumers++;
    for (uint32_t k = 0; k < op->noutputs; k++)
      if (op->outputs[k] >= 0 && (uint32_t)op->outputs[k] < g->ntensors && g->tensors[op->outputs[k]].producer < 0)
        g->tensors[op->outputs[k]].producer = (int32_t)o;
  }
}

/* ---- lifting: tree -> typed graph -------------------------------------- */

/* Move every field of `src` except the listed ids into a new rest table. */
static etpu_status split_rest(etpu_model *m, const etpu_fbt *src, const uint16_t *typed, size_t ntyped,
                              etpu_fbt **rest_out) {
  *rest_out = NULL;
  for (uint16_t i = 0; i < src->n; i++) {
    bool is_typed = false;
    for (size_t k = 0; k < ntyped; k++)
      if (src->f[i].id == typed[k]) is_typed = true;
    if (is_typed) continue;
    if (!*rest_out) {
      *rest_out = etpu_fbt_new(&m->arena, src->desc);
      if (!*rest_out) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    }
    etpu_status st = etpu_fbt_put(&m->arena, *rest_out, &src->f[i]);
    if (st != ETPU_OK) return st;
  }
  return ETPU_OK;
}

static const int32_t *vec_i32(const etpu_fbt *t, uint16_t id, uint32_t *n) {
  const etpu_fbv *v = etpu_fbt_get(t, id);
  *n = v ? v->count : 0;
  return v ? (const int32_t *)v->v.p : NULL;
}

static const char *str_or(const etpu_fbt *t, uint16_t id, const char *dflt) {
  const etpu_fbv *v = etpu_fbt_get(t, id);
  return v ? (const char *)v->v.p : dflt;
}

static etpu_status lift_tensor(etpu_model *m, const etpu_fbt *src, etpu_gtensor *t) {
  static const uint16_t typed[] = {ETPU_F_Tensor_shape, ETPU_F_Tensor_type, ETPU_F_Tensor_buffer,
                                   ETPU_F_Tensor_name, ETPU_F_Tensor_quantization, ETPU_F_Tensor_is_variable,
                                   ETPU_F_Tensor_shape_signature};
  t->shape = vec_i32(src, ETPU_F_Tensor_shape, &t->rank);
  t->type = (int32_t)etpu_fbt_int(src, ETPU_F_Tensor_type);
  t->buffer = (uint32_t)etpu_fbt_int(src, ETPU_F_Tensor_buffer);
  t->name = str_or(src, ETPU_F_Tensor_name, "");
  t->is_variable = etpu_fbt_int(src, ETPU_F_Tensor_is_variable) != 0;
  const etpu_fbv *sig = etpu_fbt_get(src, ETPU_F_Tensor_shape_signature);
  if (sig) {
    t->has_signature = true;
    t->sig_rank = sig->count;
    t->shape_signature = sig->v.p;
  }
  const etpu_fbv *q = etpu_fbt_get(src, ETPU_F_Tensor_quantization);
  if (q) {
    static const uint16_t qtyped[] = {ETPU_F_QuantizationParameters_scale, ETPU_F_QuantizationParameters_zero_point,
                                      ETPU_F_QuantizationParameters_quantized_dimension};
    etpu_gquant *gq = etpu_arena_alloc(&m->arena, sizeof *gq);
    if (!gq) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    const etpu_fbv *s = etpu_fbt_get(q->v.t, ETPU_F_QuantizationParameters_scale);
    const etpu_fbv *z = etpu_fbt_get(q->v.t, ETPU_F_QuantizationParameters_zero_point);
    gq->count = s ? s->count : 0;
    gq->scale = s ? s->v.p : NULL;
    gq->zp_count = z ? z->count : 0;
    gq->zero_point = z ? z->v.p : NULL;
    gq->quantized_dimension = (int32_t)etpu_fbt_int(q->v.t, ETPU_F_QuantizationParameters_quantized_dimension);
    etpu_status st = split_rest(m, q->v.t, qtyped, 3, &gq->rest);
    if (st != ETPU_OK) return st;
    t->quant = gq;
  }
  return split_rest(m, src, typed, sizeof typed / sizeof typed[0], &t->rest);
}

static etpu_status lift_op(etpu_model *m, const etpu_file_image *img, size_t fb_size, const etpu_fbt *src,
                           etpu_gop *op, uint32_t sg, uint32_t idx) {
  static const uint16_t typed[] = {ETPU_F_Operator_opcode_index, ETPU_F_Operator_inputs,
                                   ETPU_F_Operator_outputs, ETPU_F_Operator_builtin_options_type,
                                   ETPU_F_Operator_builtin_options, ETPU_F_Operator_custom_options,
                                   ETPU_F_Operator_intermediates, ETPU_F_Operator_large_custom_options_offset,
                                   ETPU_F_Operator_large_custom_options_size};
  op->opcode = (uint32_t)etpu_fbt_int(src, ETPU_F_Operator_opcode_index);
  op->inputs = vec_i32(src, ETPU_F_Operator_inputs, &op->ninputs);
  op->outputs = vec_i32(src, ETPU_F_Operator_outputs, &op->noutputs);
  op->intermediates = vec_i32(src, ETPU_F_Operator_intermediates, &op->nintermediates);
  const etpu_fbv *ot = etpu_fbt_get(src, ETPU_F_Operator_builtin_options_type);
  const etpu_fbv *ov = etpu_fbt_get(src, ETPU_F_Operator_builtin_options);
  if (ot && ov) {
    op->options_type = (uint8_t)ot->v.i;
    op->options = ov->v.t;
  }
  const etpu_fbv *co = etpu_fbt_get(src, ETPU_F_Operator_custom_options);
  if (co) {
    op->custom = co->v.p;
    op->custom_size = co->count;
  }
  uint64_t loff = (uint64_t)etpu_fbt_int(src, ETPU_F_Operator_large_custom_options_offset);
  uint64_t lsize = (uint64_t)etpu_fbt_int(src, ETPU_F_Operator_large_custom_options_size);
  if (loff > 1 || lsize > 0) {
    if (!img || loff < fb_size || loff > img->size || lsize > img->size - loff || lsize > UINT32_MAX)
      return malformed(m, "subgraph %u op %u: large custom options at offset %llu size %llu lie outside the %zu-byte file",
                       sg, idx, (unsigned long long)loff, (unsigned long long)lsize, img ? img->size : (size_t)0);
    op->custom = img->data + loff;
    op->custom_size = (uint32_t)lsize;
  }
  return split_rest(m, src, typed, sizeof typed / sizeof typed[0], &op->rest);
}

static etpu_status lift(etpu_model *m, const etpu_fbt *root, const uint8_t *bytes, size_t total, size_t fb_size) {
  static const uint16_t typed[] = {ETPU_F_Model_version, ETPU_F_Model_operator_codes, ETPU_F_Model_subgraphs,
                                   ETPU_F_Model_description, ETPU_F_Model_buffers};
  etpu_status st;
  m->version = (uint32_t)etpu_fbt_int(root, ETPU_F_Model_version);
  m->description = str_or(root, ETPU_F_Model_description, NULL);
  const etpu_fbv *v = etpu_fbt_get(root, ETPU_F_Model_operator_codes);
  if (v && v->count) {
    m->opcodes = etpu_arena_array(&m->arena, v->count, sizeof *m->opcodes);
    if (!m->opcodes) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    m->nopcodes = m->cap_opcodes = v->count;
    for (uint32_t i = 0; i < v->count; i++) {
      static const uint16_t octyped[] = {ETPU_F_OperatorCode_deprecated_builtin_code, ETPU_F_OperatorCode_custom_code,
                                         ETPU_F_OperatorCode_version, ETPU_F_OperatorCode_builtin_code};
      const etpu_fbt *oc = v->v.tv[i];
      int64_t dep = etpu_fbt_int(oc, ETPU_F_OperatorCode_deprecated_builtin_code);
      int64_t code = etpu_fbt_int(oc, ETPU_F_OperatorCode_builtin_code);
      m->opcodes[i].code = (int32_t)(dep > code ? dep : code);
      m->opcodes[i].version = (int32_t)etpu_fbt_int(oc, ETPU_F_OperatorCode_version);
      m->opcodes[i].custom_code = str_or(oc, ETPU_F_OperatorCode_custom_code, NULL);
      st = split_rest(m, oc, octyped, 4, &m->opcodes[i].rest);
      if (st != ETPU_OK) return st;
    }
  }
  v = etpu_fbt_get(root, ETPU_F_Model_buffers);
  if (v && v->count) {
    m->buffers = etpu_arena_array(&m->arena, v->count, sizeof *m->buffers);
    if (!m->buffers) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    m->nbuffers = m->cap_buffers = v->count;
    for (uint32_t i = 0; i < v->count; i++) {
      const etpu_fbt *b = v->v.tv[i];
      const etpu_fbv *d = etpu_fbt_get(b, ETPU_F_Buffer_data);
      uint64_t off = (uint64_t)etpu_fbt_int(b, ETPU_F_Buffer_offset);
      uint64_t size = (uint64_t)etpu_fbt_int(b, ETPU_F_Buffer_size);
      if (off > 1) {
        /* Schema 3c: data outside the flatbuffer, offset from the file start. */
        if (d && d->count)
          return malformed(m, "buffer %u has both inline data and an external offset", i);
        if (off < fb_size || off > total || size > total - off)
          return malformed(m, "buffer %u: external data at offset %llu size %llu lies outside the file (%zu bytes, flatbuffer %zu)",
                           i, (unsigned long long)off, (unsigned long long)size, total, fb_size);
        m->buffers[i].data = bytes + off;
        m->buffers[i].size = (size_t)size;
        m->buffers[i].external = true;
      } else if (d && d->count) {
        m->buffers[i].data = d->v.p;
        m->buffers[i].size = d->count;
      }
    }
  }
  v = etpu_fbt_get(root, ETPU_F_Model_subgraphs);
  if (v && v->count) {
    m->subgraphs = etpu_arena_array(&m->arena, v->count, sizeof *m->subgraphs);
    if (!m->subgraphs) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    m->nsubgraphs = m->cap_subgraphs = v->count;
    for (uint32_t s = 0; s < v->count; s++) {
      static const uint16_t sgtyped[] = {ETPU_F_SubGraph_tensors, ETPU_F_SubGraph_inputs, ETPU_F_SubGraph_outputs,
                                         ETPU_F_SubGraph_operators, ETPU_F_SubGraph_name};
      const etpu_fbt *src = v->v.tv[s];
      etpu_gsubgraph *g = &m->subgraphs[s];
      g->name = str_or(src, ETPU_F_SubGraph_name, "");
      g->inputs = vec_i32(src, ETPU_F_SubGraph_inputs, &g->ninputs);
      g->outputs = vec_i32(src, ETPU_F_SubGraph_outputs, &g->noutputs);
      const etpu_fbv *tv = etpu_fbt_get(src, ETPU_F_SubGraph_tensors);
      if (tv && tv->count) {
        g->tensors = etpu_arena_array(&m->arena, tv->count, sizeof *g->tensors);
        if (!g->tensors) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
        g->ntensors = g->cap_tensors = tv->count;
        for (uint32_t i = 0; i < tv->count; i++) {
          st = lift_tensor(m, tv->v.tv[i], &g->tensors[i]);
          if (st != ETPU_OK) return st;
        }
      }
      const etpu_fbv *ov = etpu_fbt_get(src, ETPU_F_SubGraph_operators);
      if (ov && ov->count) {
        g->ops = etpu_arena_array(&m->arena, ov->count, sizeof *g->ops);
        if (!g->ops) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
        g->nops = g->cap_ops = ov->count;
        for (uint32_t i = 0; i < ov->count; i++) {
          st = lift_op(m, &m->file, fb_size, ov->v.tv[i], &g->ops[i], s, i);
          if (st != ETPU_OK) return st;
        }
      }
      st = split_rest(m, src, sgtyped, 5, &g->rest);
      if (st != ETPU_OK) return st;
    }
  }
  return split_rest(m, root, typed, sizeof typed / sizeof typed[0], &m->rest);
}

/* ---- semantic validation ----------------------------------------------- */

static etpu_status check_index_list(const etpu_model *m, uint32_t sg, const char *what, uint32_t n, const int32_t *v,
                                    bool allow_missing) {
  const etpu_gsubgraph *g = &m->subgraphs[sg];
  for (uint32_t i = 0; i < n; i++) {
    if (v[i] == -1 && allow_missing) continue;
    if (v[i] < 0 || (uint32_t)v[i] >= g->ntensors)
      return malformed(m, "subgraph %u %s[%u] = %d is not a tensor index (subgraph has %u tensors)", sg, what, i, v[i],
                       g->ntensors);
  }
  return ETPU_OK;
}

static etpu_status check_tensor(const etpu_model *m, uint32_t sg, uint32_t i) {
  const etpu_gtensor *t = &m->subgraphs[sg].tensors[i];
  if (!dtype_known(t->type))
    return etpu_fail(ETPU_UNSUPPORTED, "%s: subgraph %u tensor %u '%s' has tensor type %d, unknown to this etpu (a newer schema?)",
                     m->label, sg, i, t->name, t->type);
  /* Old converters wrote -1 for a dynamic dimension in `shape` itself. */
  bool dynamic = false;
  for (uint32_t d = 0; d < t->rank; d++) {
    if (t->shape[d] < -1)
      return malformed(m, "subgraph %u tensor %u '%s': shape[%u] = %d is negative", sg, i, t->name, d, t->shape[d]);
    dynamic |= t->shape[d] == -1;
  }
  uint64_t elems = 0;
  if (!dynamic && !etpu_shape_elements(t->rank, t->shape, &elems))
    return malformed(m, "subgraph %u tensor %u '%s': element count of its shape overflows", sg, i, t->name);
  if (t->has_signature) {
    if (t->sig_rank != t->rank)
      return malformed(m, "subgraph %u tensor %u '%s': shape_signature has rank %u but shape has rank %u", sg, i, t->name,
                       t->sig_rank, t->rank);
    for (uint32_t d = 0; d < t->sig_rank; d++)
      if (t->shape_signature[d] < -1 ||
          (t->shape_signature[d] >= 0 && t->shape[d] >= 0 && t->shape_signature[d] != t->shape[d]))
        return malformed(m, "subgraph %u tensor %u '%s': shape_signature[%u] = %d disagrees with shape[%u] = %d", sg, i,
                         t->name, d, t->shape_signature[d], d, t->shape[d]);
  }
  if (t->buffer == 0 && m->nbuffers == 0) return ETPU_OK; /* no buffers at all: nothing to check */
  if (t->buffer >= m->nbuffers)
    return malformed(m, "subgraph %u tensor %u '%s': buffer index %u is out of range (model has %u buffers)", sg, i, t->name,
                     t->buffer, m->nbuffers);
  const etpu_gbuffer *b = &m->buffers[t->buffer];
  bool sparse = t->rest && etpu_fbt_get(t->rest, ETPU_F_Tensor_sparsity);
  if (b->size && dynamic)
    return malformed(m, "subgraph %u tensor %u '%s' has a dynamic dimension (-1) and constant data", sg, i, t->name);
  if (b->size && !sparse && t->type != ETPU_STRING && t->type != ETPU_RESOURCE && t->type != ETPU_VARIANT) {
    uint64_t need;
    if (etpu_tensor_bytes(t->type, t->rank, t->shape, &need)) {
      /* Sub-byte types may also be stored one value per byte. */
      bool ok = b->size == need || ((t->type == ETPU_INT4 || t->type == ETPU_UINT4 || t->type == ETPU_INT2) && b->size == elems);
      if (!ok)
        return malformed(m, "subgraph %u tensor %u '%s': buffer %u holds %zu bytes but %s%s needs %llu", sg, i, t->name,
                         t->buffer, b->size, etpu_dtype_name(t->type), t->rank ? " of this shape" : " scalar",
                         (unsigned long long)need);
    }
  }
  if (t->quant) {
    const etpu_gquant *q = t->quant;
    if (q->zp_count != 0 && q->zp_count != q->count)
      return malformed(m, "subgraph %u tensor %u '%s': quantization has %u scales but %u zero points", sg, i, t->name,
                       q->count, q->zp_count);
    if (q->count > 1) {
      int32_t qd = q->quantized_dimension;
      if (qd < 0 || (uint32_t)qd >= t->rank) {
        /* TFLite Micro accepts a per-channel 1-D tensor whose quantized_dimension
         * names the axis of the op's filter (person_detect's biases). */
        if (!(t->rank == 1 && (uint32_t)t->shape[0] == q->count))
          return malformed(m, "subgraph %u tensor %u '%s': quantized_dimension %d is not an axis of its rank-%u shape", sg,
                           i, t->name, qd, t->rank);
      } else if ((uint32_t)t->shape[qd] != q->count) {
        return malformed(m, "subgraph %u tensor %u '%s': %u per-axis scales but dimension %d has size %d", sg, i, t->name,
                         q->count, qd, t->shape[qd]);
      }
    }
  }
  return ETPU_OK;
}

uint8_t etpu_op_options_type(int32_t code) {
  /* BuiltinOptions union member numbers (schema order, 1-based). */
  static const struct {
    int32_t code;
    uint8_t type;
  } map[] = {
      {0, 11},   /* ADD: AddOptions */
      {1, 5},    /* AVERAGE_POOL_2D: Pool2DOptions */
      {2, 10},   /* CONCATENATION */
      {3, 1},    /* CONV_2D */
      {4, 2},    /* DEPTHWISE_CONV_2D */
      {5, 94},   /* DEPTH_TO_SPACE */
      {6, 38},   /* DEQUANTIZE */
      {9, 8},    /* FULLY_CONNECTED */
      {11, 12},  /* L2_NORMALIZATION */
      {12, 5},   /* L2_POOL_2D */
      {16, 14},  /* LSTM */
      {17, 5},   /* MAX_POOL_2D */
      {18, 21},  /* MUL */
      {22, 17},  /* RESHAPE */
      {23, 15},  /* RESIZE_BILINEAR */
      {25, 9},   /* SOFTMAX */
      {26, 19},  /* SPACE_TO_DEPTH */
      {34, 22},  /* PAD */
      {36, 23},  /* GATHER */
      {39, 26},  /* TRANSPOSE */
      {40, 27},  /* MEAN: ReducerOptions */
      {41, 28},  /* SUB */
      {42, 29},  /* DIV */
      {43, 30},  /* SQUEEZE */
      {44, 71},  /* UNIDIRECTIONAL_SEQUENCE_LSTM */
      {45, 32},  /* STRIDED_SLICE */
      {49, 35},  /* SPLIT */
      {50, 36},  /* LOG_SOFTMAX */
      {53, 37},  /* CAST */
      {55, 39},  /* MAXIMUM */
      {56, 40},  /* ARG_MAX */
      {57, 39},  /* MINIMUM */
      {60, 43},  /* PADV2 */
      {65, 48},  /* SLICE */
      {67, 49},  /* TRANSPOSE_CONV */
      {69, 51},  /* TILE */
      {70, 52},  /* EXPAND_DIMS */
      {74, 27},  /* SUM */
      {77, 55},  /* SHAPE: ShapeOptions (out_type) */
      {81, 27},  /* REDUCE_PROD */
      {82, 27},  /* REDUCE_MAX */
      {83, 59},  /* PACK */
      {88, 64},  /* UNPACK */
      {89, 27},  /* REDUCE_MIN */
      {90, 65},  /* FLOOR_DIV */
      {97, 74},  /* RESIZE_NEAREST_NEIGHBOR */
      {98, 75},  /* LEAKY_RELU */
      {99, 76},  /* SQUARED_DIFFERENCE */
      {100, 77}, /* MIRROR_PAD */
      {102, 79}, /* SPLIT_V */
      {107, 83}, /* GATHER_ND */
      {114, 89}, /* QUANTIZE */
      {117, 91}, /* HARD_SWISH */
      {150, 116}, /* GELU */
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i].code == code) return map[i].type;
  return 0;
}

etpu_status etpu_graph_validate(const etpu_model *m) {
  for (uint32_t i = 0; i < m->nopcodes; i++) {
    const etpu_gopcode *oc = &m->opcodes[i];
    if (oc->code < 0) return malformed(m, "operator code %u has negative builtin code %d", i, oc->code);
    if (oc->version < 1) return malformed(m, "operator code %u (%s) has version %d; versions start at 1", i,
                                          etpu_op_code_name(oc->code), oc->version);
    if (oc->code == ETPU_OP_CUSTOM && !oc->custom_code)
      return malformed(m, "operator code %u is CUSTOM but has no custom_code", i);
  }
  if (m->nsubgraphs == 0) return malformed(m, "model has no subgraphs");
  for (uint32_t s = 0; s < m->nsubgraphs; s++) {
    const etpu_gsubgraph *g = &m->subgraphs[s];
    etpu_status st;
    for (uint32_t i = 0; i < g->ntensors; i++) {
      st = check_tensor(m, s, i);
      if (st != ETPU_OK) return st;
    }
    st = check_index_list(m, s, "inputs", g->ninputs, g->inputs, false);
    if (st != ETPU_OK) return st;
    st = check_index_list(m, s, "outputs", g->noutputs, g->outputs, false);
    if (st != ETPU_OK) return st;
    for (uint32_t o = 0; o < g->nops; o++) {
      const etpu_gop *op = &g->ops[o];
      char what[64];
      if (op->opcode >= m->nopcodes)
        return malformed(m, "subgraph %u op %u: opcode_index %u is out of range (model has %u operator codes)", s, o,
                         op->opcode, m->nopcodes);
      const char *name = etpu_graph_op_name(m, op);
      snprintf(what, sizeof what, "op %u %s inputs", o, name);
      st = check_index_list(m, s, what, op->ninputs, op->inputs, true);
      if (st != ETPU_OK) return st;
      snprintf(what, sizeof what, "op %u %s outputs", o, name);
      st = check_index_list(m, s, what, op->noutputs, op->outputs, false);
      if (st != ETPU_OK) return st;
      snprintf(what, sizeof what, "op %u %s intermediates", o, name);
      st = check_index_list(m, s, what, op->nintermediates, op->intermediates, false);
      if (st != ETPU_OK) return st;
      int32_t code = m->opcodes[op->opcode].code;
      uint8_t want = etpu_op_options_type(code);
      if (op->options_type && want && op->options_type != want)
        return malformed(m, "subgraph %u op %u %s carries %s options, expected %s", s, o, name,
                         etpu_fb_tables[etpu_fb_unions[ETPU_U_BuiltinOptions].members[op->options_type - 1]].name,
                         etpu_fb_tables[etpu_fb_unions[ETPU_U_BuiltinOptions].members[want - 1]].name);
    }
    /* A tensor is written by at most one op, and never a constant. */
    for (uint32_t o = 0; o < g->nops; o++) {
      const etpu_gop *op = &g->ops[o];
      for (uint32_t k = 0; k < op->noutputs; k++) {
        const etpu_gtensor *t = &g->tensors[op->outputs[k]];
        if (t->producer != (int32_t)o)
          return malformed(m, "subgraph %u tensor %d '%s' is written by op %d and again by op %u", s, op->outputs[k],
                           t->name, t->producer, o);
        if (t->buffer && m->buffers[t->buffer].size)
          return malformed(m, "subgraph %u op %u %s writes tensor %d '%s', which holds constant data", s, o,
                           etpu_graph_op_name(m, op), op->outputs[k], t->name);
      }
    }
  }
  /* Metadata and signatures refer to buffers and tensors by index. */
  const etpu_fbv *md = m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_metadata) : NULL;
  for (uint32_t i = 0; md && i < md->count; i++) {
    int64_t b = etpu_fbt_int(md->v.tv[i], ETPU_F_Metadata_buffer);
    if (b < 0 || (uint64_t)b >= m->nbuffers)
      return malformed(m, "metadata %u '%s' names buffer %lld, out of range", i,
                       str_or(md->v.tv[i], ETPU_F_Metadata_name, ""), (long long)b);
  }
  const etpu_fbv *mb = m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_metadata_buffer) : NULL;
  for (uint32_t i = 0; mb && i < mb->count; i++) {
    int32_t b = ((const int32_t *)mb->v.p)[i];
    if (b < 0 || (uint32_t)b >= m->nbuffers)
      return malformed(m, "metadata_buffer[%u] = %d is out of range", i, b);
  }
  const etpu_fbv *sd = m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_signature_defs) : NULL;
  for (uint32_t i = 0; sd && i < sd->count; i++) {
    const etpu_fbt *sig = sd->v.tv[i];
    int64_t sgi = etpu_fbt_int(sig, ETPU_F_SignatureDef_subgraph_index);
    if (sgi < 0 || (uint64_t)sgi >= m->nsubgraphs)
      return malformed(m, "signature %u names subgraph %lld, out of range", i, (long long)sgi);
    for (int io = 0; io < 2; io++) {
      const etpu_fbv *maps = etpu_fbt_get(sig, io ? ETPU_F_SignatureDef_outputs : ETPU_F_SignatureDef_inputs);
      for (uint32_t k = 0; maps && k < maps->count; k++) {
        int64_t ti = etpu_fbt_int(maps->v.tv[k], ETPU_F_TensorMap_tensor_index);
        if (ti < 0 || (uint64_t)ti >= m->subgraphs[sgi].ntensors)
          return malformed(m, "signature %u %s[%u] names tensor %lld, out of range", i, io ? "outputs" : "inputs", k,
                           (long long)ti);
      }
    }
  }
  return ETPU_OK;
}

/* ---- open --------------------------------------------------------------- */

static bool host_is_little_endian(void) {
  const uint16_t one = 1;
  return *(const uint8_t *)&one == 1;
}

/* Bytes of the flatbuffer part: external data (schema 3c) starts after it.
 * Without a size prefix we take the whole file; buffers with offsets are
 * checked to lie in the file, past the root table. */
static etpu_status open_bytes(etpu_model *m, const uint8_t *bytes, size_t size) {
  if (!host_is_little_endian())
    return etpu_fail(ETPU_UNSUPPORTED, "%s: etpu reads models on little-endian hosts only", m->label);
  etpu_fb_decoder d = {.buf = bytes, .size = size, .arena = &m->arena, .label = m->label};
  etpu_fbt *root;
  etpu_status st = etpu_fb_decode(&d, ETPU_T_Model, "TFL3", &root);
  if (st != ETPU_OK) return st;
  /* External data must lie past the root table's start. */
  size_t fb_size = 8;
  st = lift(m, root, bytes, size, fb_size);
  if (st != ETPU_OK) return st;
  for (uint32_t s = 0; s < m->nsubgraphs; s++) etpu_graph_link(m, s);
  return etpu_graph_validate(m);
}

static etpu_model *model_new(const char *label) {
  etpu_model *m = etpu_calloc(1, sizeof *m);
  if (!m) return NULL;
  etpu_arena_init(&m->arena);
  m->label = etpu_arena_strdup(&m->arena, label ? label : "<buffer>");
  if (!m->label) {
    etpu_free(m);
    return NULL;
  }
  return m;
}

etpu_status etpu_model_open(const char *path, etpu_model **model_out) {
  if (!path || !model_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_open: NULL argument");
  etpu_model *m = model_new(path);
  if (!m) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
  etpu_status st = etpu_file_map(path, &m->file);
  if (st == ETPU_OK) st = open_bytes(m, m->file.data, m->file.size);
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return st;
  }
  *model_out = m;
  return ETPU_OK;
}

etpu_status etpu_model_open_buffer(const void *data, size_t size, const char *label, unsigned flags,
                                   etpu_model **model_out) {
  if ((!data && size) || !model_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_open_buffer: NULL argument");
  etpu_model *m = model_new(label);
  if (!m) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", label ? label : "<buffer>");
  const uint8_t *bytes = data;
  if ((flags & ETPU_OPEN_COPY) || ((uintptr_t)data % 16) != 0) {
    m->owned_copy = etpu_malloc(size ? size : 1);
    if (!m->owned_copy) {
      etpu_model_free(m);
      return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory copying %zu bytes", label ? label : "<buffer>", size);
    }
    if (size) memcpy(m->owned_copy, data, size);
    bytes = m->owned_copy;
  }
  m->file.data = bytes ? bytes : (const uint8_t *)"";
  m->file.size = size;
  etpu_status st = open_bytes(m, m->file.data, size);
  if (st != ETPU_OK) {
    etpu_model_free(m);
    return st;
  }
  *model_out = m;
  return ETPU_OK;
}

void etpu_model_free(etpu_model *m) {
  if (!m) return;
  etpu_file_unmap(&m->file);
  etpu_free(m->owned_copy);
  etpu_arena_free(&m->arena);
  etpu_free(m);
}
