/*
 * api.c — the public query and edit functions of etpu_model (etpu.h) over
 * the typed graph of graph.h.
 *
 * Queries hand out views that borrow the model's memory. Edits copy what they
 * are given into the model's arena, keep producer/consumer links current, and
 * refuse changes that would break the rules etpu_model_open checks.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "model/graph.h"
#include "model/metadata.h"

static etpu_status bad_sg(const etpu_model *m, uint32_t sg) {
  return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: subgraph %u does not exist (model has %u)", m->label, sg, m->nsubgraphs);
}

static const etpu_gsubgraph *get_sg(const etpu_model *m, uint32_t sg) {
  return m && sg < m->nsubgraphs ? &m->subgraphs[sg] : NULL;
}

const char *etpu_model_label(const etpu_model *m) { return m ? m->label : ""; }
uint32_t etpu_model_subgraph_count(const etpu_model *m) { return m ? m->nsubgraphs : 0; }
uint32_t etpu_model_schema_version(const etpu_model *m) { return m ? m->version : 0; }
const char *etpu_model_description(const etpu_model *m) { return m && m->description ? m->description : ""; }
uint32_t etpu_model_buffer_count(const etpu_model *m) { return m ? m->nbuffers : 0; }

static const etpu_fbv *metadata_vec(const etpu_model *m) {
  return m && m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_metadata) : NULL;
}

uint32_t etpu_model_metadata_count(const etpu_model *m) {
  const etpu_fbv *v = metadata_vec(m);
  return v ? v->count : 0;
}

etpu_status etpu_model_metadata(const etpu_model *m, uint32_t index, const char **name_out, const void **data_out,
                                size_t *size_out) {
  const etpu_fbv *v = metadata_vec(m);
  if (!v || index >= v->count)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: metadata %u does not exist", etpu_model_label(m), index);
  const etpu_fbt *t = v->v.tv[index];
  const etpu_fbv *n = etpu_fbt_get(t, ETPU_F_Metadata_name);
  uint32_t b = (uint32_t)etpu_fbt_int(t, ETPU_F_Metadata_buffer);
  if (name_out) *name_out = n ? (const char *)n->v.p : "";
  if (data_out) *data_out = m->buffers[b].data;
  if (size_out) *size_out = m->buffers[b].size;
  return ETPU_OK;
}

static const etpu_fbv *signature_vec(const etpu_model *m) {
  return m && m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_signature_defs) : NULL;
}

uint32_t etpu_model_signature_count(const etpu_model *m) {
  const etpu_fbv *v = signature_vec(m);
  return v ? v->count : 0;
}

/* The TensorMap vector of signature `index` (inputs, or outputs); NULL
 * with the message set when the signature does not exist. */
static const etpu_fbt *signature_at(const etpu_model *m, uint32_t index) {
  const etpu_fbv *v = signature_vec(m);
  if (v && index < v->count) return v->v.tv[index];
  etpu_fail(ETPU_INVALID_ARGUMENT, "%s: signature %u does not exist (the model has %u)", etpu_model_label(m), index,
            v ? v->count : 0);
  return NULL;
}

etpu_status etpu_model_signature(const etpu_model *m, uint32_t index, etpu_signature_info *info_out) {
  const etpu_fbt *sig = signature_at(m, index);
  if (!sig) return ETPU_INVALID_ARGUMENT;
  if (!info_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: signature %u: NULL argument", m->label, index);
  const etpu_fbv *key = etpu_fbt_get(sig, ETPU_F_SignatureDef_signature_key);
  const etpu_fbv *in = etpu_fbt_get(sig, ETPU_F_SignatureDef_inputs);
  const etpu_fbv *out = etpu_fbt_get(sig, ETPU_F_SignatureDef_outputs);
  info_out->key = key ? (const char *)key->v.p : "";
  info_out->subgraph = (uint32_t)etpu_fbt_int(sig, ETPU_F_SignatureDef_subgraph_index); /* checked at open */
  info_out->input_count = in ? in->count : 0;
  info_out->output_count = out ? out->count : 0;
  return ETPU_OK;
}

etpu_status etpu_model_signature_tensor(const etpu_model *m, uint32_t index, bool output, uint32_t k,
                                        const char **name_out, uint32_t *tensor_out) {
  const etpu_fbt *sig = signature_at(m, index);
  if (!sig) return ETPU_INVALID_ARGUMENT;
  const etpu_fbv *maps = etpu_fbt_get(sig, output ? ETPU_F_SignatureDef_outputs : ETPU_F_SignatureDef_inputs);
  if (!maps || k >= maps->count)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: signature %u has no %s %u (it has %u)", m->label, index,
                     output ? "output" : "input", k, maps ? maps->count : 0);
  const etpu_fbv *name = etpu_fbt_get(maps->v.tv[k], ETPU_F_TensorMap_name);
  if (name_out) *name_out = name ? (const char *)name->v.p : "";
  if (tensor_out) *tensor_out = (uint32_t)etpu_fbt_int(maps->v.tv[k], ETPU_F_TensorMap_tensor_index); /* checked at open */
  return ETPU_OK;
}

uint32_t etpu_model_tensor_count(const etpu_model *m, uint32_t sg) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g ? g->ntensors : 0;
}
uint32_t etpu_model_op_count(const etpu_model *m, uint32_t sg) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g ? g->nops : 0;
}
const char *etpu_model_subgraph_name(const etpu_model *m, uint32_t sg) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g ? g->name : "";
}
uint32_t etpu_model_input_count(const etpu_model *m, uint32_t sg) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g ? g->ninputs : 0;
}
uint32_t etpu_model_output_count(const etpu_model *m, uint32_t sg) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g ? g->noutputs : 0;
}
int32_t etpu_model_input(const etpu_model *m, uint32_t sg, uint32_t i) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g && i < g->ninputs ? g->inputs[i] : -1;
}
int32_t etpu_model_output(const etpu_model *m, uint32_t sg, uint32_t i) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g && i < g->noutputs ? g->outputs[i] : -1;
}

etpu_status etpu_model_tensor(const etpu_model *m, uint32_t sg, uint32_t index, etpu_tensor_info *out) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  if (!g || !out) return m ? bad_sg(m, sg) : etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_tensor: NULL model");
  if (index >= g->ntensors)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u does not exist (subgraph %u has %u)", m->label, index, sg,
                     g->ntensors);
  const etpu_gtensor *t = &g->tensors[index];
  etpu_tensor_info i = {0};
  i.name = t->name;
  i.type = t->type;
  i.rank = t->rank;
  i.shape = t->shape;
  i.signature_rank = t->has_signature ? t->sig_rank : 0;
  i.shape_signature = t->has_signature ? t->shape_signature : NULL;
  if (t->quant && t->quant->count) {
    i.quant_count = t->quant->count;
    i.scale = t->quant->scale;
    i.zero_point = t->quant->zp_count ? t->quant->zero_point : NULL;
    i.quantized_dimension = t->quant->quantized_dimension;
  }
  i.buffer = t->buffer;
  i.data = etpu_graph_tensor_data(m, t, &i.data_size);
  i.is_variable = t->is_variable;
  i.is_sparse = t->rest && etpu_fbt_get(t->rest, ETPU_F_Tensor_sparsity);
  i.producer = t->producer;
  i.consumer_count = t->consumers;
  i.bytes = etpu_tensor_size(t->type, t->rank, t->shape);
  *out = i;
  return ETPU_OK;
}

static const etpu_gop *get_op(const etpu_model *m, uint32_t sg, uint32_t index) {
  const etpu_gsubgraph *g = get_sg(m, sg);
  return g && index < g->nops ? &g->ops[index] : NULL;
}

static etpu_status bad_op(const etpu_model *m, uint32_t sg, uint32_t index) {
  if (!m) return etpu_fail(ETPU_INVALID_ARGUMENT, "NULL model");
  if (sg >= m->nsubgraphs) return bad_sg(m, sg);
  return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: op %u does not exist (subgraph %u has %u)", m->label, index, sg,
                   m->subgraphs[sg].nops);
}

etpu_status etpu_model_op(const etpu_model *m, uint32_t sg, uint32_t index, etpu_op_info *out) {
  const etpu_gop *op = get_op(m, sg, index);
  if (!op || !out) return bad_op(m, sg, index);
  etpu_op_info i = {0};
  i.code = etpu_graph_op_code(m, op);
  i.name = etpu_graph_op_name(m, op);
  i.version = m->opcodes[op->opcode].version;
  i.opcode_index = op->opcode;
  i.input_count = op->ninputs;
  i.inputs = op->inputs;
  i.output_count = op->noutputs;
  i.outputs = op->outputs;
  i.options_name = op->options ? etpu_fb_tables[op->options->desc].name : "";
  i.custom_options = op->custom;
  i.custom_options_size = op->custom_size;
  *out = i;
  return ETPU_OK;
}

static etpu_status option_field(const etpu_model *m, uint32_t sg, uint32_t index, const char *field,
                                const etpu_gop **op_out, const struct etpu_fb_fdesc **fd_out) {
  const etpu_gop *op = get_op(m, sg, index);
  if (!op) return bad_op(m, sg, index);
  uint16_t desc;
  if (op->options)
    desc = op->options->desc;
  else {
    uint8_t t = etpu_op_options_type(etpu_graph_op_code(m, op));
    if (!t) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: op %u %s has no builtin options", m->label, index,
                             etpu_graph_op_name(m, op));
    desc = etpu_fb_unions[ETPU_U_BuiltinOptions].members[t - 1];
  }
  const struct etpu_fb_fdesc *fd = etpu_fb_field_by_name(desc, field);
  if (!fd || etpu_fb_scalar_size(fd->kind) == 0 || fd->kind == ETPU_FB_UNION_TYPE)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: op %u %s: %s has no scalar field '%s'", m->label, index,
                     etpu_graph_op_name(m, op), etpu_fb_tables[desc].name, field ? field : "(null)");
  *op_out = op;
  *fd_out = fd;
  return ETPU_OK;
}

etpu_status etpu_model_op_option_int(const etpu_model *m, uint32_t sg, uint32_t index, const char *field,
                                     int64_t *value_out) {
  const etpu_gop *op = NULL;
  const struct etpu_fb_fdesc *fd = NULL;
  ETPU_TRY(option_field(m, sg, index, field, &op, &fd));
  if (fd->kind == ETPU_FB_F32 || fd->kind == ETPU_FB_F64)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: option '%s' is a float", m->label, field);
  *value_out = op->options ? etpu_fbt_int(op->options, fd->id) : fd->def_int;
  return ETPU_OK;
}

etpu_status etpu_model_op_option_float(const etpu_model *m, uint32_t sg, uint32_t index, const char *field,
                                       double *value_out) {
  const etpu_gop *op = NULL;
  const struct etpu_fb_fdesc *fd = NULL;
  ETPU_TRY(option_field(m, sg, index, field, &op, &fd));
  if (fd->kind != ETPU_FB_F32 && fd->kind != ETPU_FB_F64)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: option '%s' is not a float", m->label, field);
  *value_out = op->options ? etpu_fbt_float(op->options, fd->id) : fd->def_float;
  return ETPU_OK;
}

/* A tiny bounded string builder. */
typedef struct sbuf {
  char *buf;
  size_t cap, len;
} sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) ETPU_PRINTF(2, 3);
static void sb_printf(sbuf *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = s->len < s->cap ? s->buf + s->len : NULL;
  size_t room = s->len < s->cap ? s->cap - s->len : 0;
  int n = vsnprintf(dst, room, fmt, ap);
  va_end(ap);
  if (n > 0) s->len += (size_t)n;
}

/* One little-endian scalar of `kind` as JSON. */
static void print_scalar(sbuf *s, uint8_t kind, const uint8_t *p) {
  switch (kind) {
    case ETPU_FB_BOOL: sb_printf(s, "%s", p[0] ? "true" : "false"); return;
    case ETPU_FB_I8: sb_printf(s, "%d", (int8_t)p[0]); return;
    case ETPU_FB_U8: sb_printf(s, "%u", p[0]); return;
    case ETPU_FB_I16: { int16_t y; memcpy(&y, p, 2); sb_printf(s, "%d", y); return; }
    case ETPU_FB_U16: { uint16_t y; memcpy(&y, p, 2); sb_printf(s, "%u", y); return; }
    case ETPU_FB_I32: { int32_t y; memcpy(&y, p, 4); sb_printf(s, "%d", y); return; }
    case ETPU_FB_U32: { uint32_t y; memcpy(&y, p, 4); sb_printf(s, "%u", y); return; }
    case ETPU_FB_I64: { int64_t y; memcpy(&y, p, 8); sb_printf(s, "%lld", (long long)y); return; }
    case ETPU_FB_U64: { uint64_t y; memcpy(&y, p, 8); sb_printf(s, "%llu", (unsigned long long)y); return; }
    case ETPU_FB_F32:
    case ETPU_FB_F64: {
      double f;
      if (kind == ETPU_FB_F32) {
        float y;
        memcpy(&y, p, 4);
        f = y;
      } else {
        memcpy(&f, p, 8);
      }
      if (isfinite(f))
        sb_printf(s, "%.9g", f);
      else
        sb_printf(s, "\"%s\"", isnan(f) ? "nan" : (f > 0 ? "inf" : "-inf"));
      return;
    }
    default: sb_printf(s, "null"); return;
  }
}

/* A string option (a name from the file) as JSON, through the escaper: on
 * the stack when it fits 1 KiB (every name seen in practice, and so no
 * allocation that could fail), else on the heap ("" when out of memory). */
static void json_string(sbuf *s, const char *str) {
  char small[1024];
  small[0] = 0;
  etpu_strbuf b = {.p = small, .cap = sizeof small, .fixed = true};
  etpu_escape_json(&b, str);
  if (!b.oom) {
    sb_printf(s, "%s", small);
    return;
  }
  b = (etpu_strbuf){0};
  etpu_escape_json(&b, str);
  sb_printf(s, "%s", b.oom || !b.p ? "\"\"" : b.p);
  etpu_strbuf_free(&b);
}

size_t etpu_model_op_options_json(const etpu_model *m, uint32_t sg, uint32_t index, char *buf, size_t cap) {
  sbuf s = {buf, cap, 0};
  if (cap) buf[0] = 0;
  const etpu_gop *op = get_op(m, sg, index);
  sb_printf(&s, "{");
  if (op && op->options) {
    const struct etpu_fb_tdesc *td = &etpu_fb_tables[op->options->desc];
    bool first = true;
    for (uint16_t i = 0; i < td->nfields; i++) {
      const struct etpu_fb_fdesc *fd = &td->fields[i];
      if (fd->deprecated) continue;
      const etpu_fbv *v = etpu_fbt_get(op->options, fd->id);
      sb_printf(&s, "%s\"%s\": ", first ? "" : ", ", fd->name);
      first = false;
      if (fd->kind == ETPU_FB_F32 || fd->kind == ETPU_FB_F64) {
        double f = etpu_fbt_float(op->options, fd->id);
        if (isfinite(f))
          sb_printf(&s, "%.9g", f);
        else
          sb_printf(&s, "\"%s\"", isnan(f) ? "nan" : (f > 0 ? "inf" : "-inf"));
      } else if (fd->kind == ETPU_FB_BOOL) {
        sb_printf(&s, "%s", etpu_fbt_int(op->options, fd->id) ? "true" : "false");
      } else if (etpu_fb_scalar_size(fd->kind)) {
        int64_t x = etpu_fbt_int(op->options, fd->id);
        const char *en = etpu_fb_enum_name(fd->enum_ref, x);
        if (en)
          sb_printf(&s, "\"%s\"", en);
        else
          sb_printf(&s, "%lld", (long long)x);
      } else if (fd->kind == ETPU_FB_VECTOR && v && etpu_fb_scalar_size(v->elem)) {
        sb_printf(&s, "[");
        for (uint32_t k = 0; k < v->count; k++) {
          sb_printf(&s, "%s", k ? ", " : "");
          print_scalar(&s, v->elem, (const uint8_t *)v->v.p + k * etpu_fb_scalar_size(v->elem));
        }
        sb_printf(&s, "]");
      } else if (fd->kind == ETPU_FB_STRING && v) {
        json_string(&s, (const char *)v->v.p);
      } else {
        sb_printf(&s, "null");
      }
    }
  }
  sb_printf(&s, "}");
  if (cap && s.len >= cap) buf[cap - 1] = 0;
  return s.len + 1;
}

/* ---- editing ------------------------------------------------------------ */

etpu_status etpu_model_create(etpu_model **model_out) {
  if (!model_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_create: NULL argument");
  etpu_model *m = etpu_calloc(1, sizeof *m);
  if (!m) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  etpu_arena_init(&m->arena);
  m->label = "<new model>";
  m->version = 3;
  m->subgraphs = etpu_arena_array(&m->arena, 1, sizeof *m->subgraphs);
  m->buffers = etpu_arena_array(&m->arena, 8, sizeof *m->buffers);
  if (!m->subgraphs || !m->buffers) {
    etpu_model_free(m);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
  }
  m->nsubgraphs = m->cap_subgraphs = 1;
  m->subgraphs[0].name = "main";
  m->nbuffers = 1;
  m->cap_buffers = 8;
  *model_out = m;
  return ETPU_OK;
}

static etpu_status edit_sg(etpu_model *m, uint32_t sg, etpu_gsubgraph **g) {
  if (!m) return etpu_fail(ETPU_INVALID_ARGUMENT, "NULL model");
  if (sg >= m->nsubgraphs) return bad_sg(m, sg);
  *g = &m->subgraphs[sg];
  return ETPU_OK;
}

static etpu_status add_buffer(etpu_model *m, const void *data, size_t size, uint32_t *index_out) {
  ETPU_TRY(etpu_graph_grow(m, (void **)&m->buffers, m->nbuffers, &m->cap_buffers, sizeof *m->buffers));
  etpu_gbuffer *b = &m->buffers[m->nbuffers];
  memset(b, 0, sizeof *b);
  if (size) {
    uint8_t *copy = etpu_arena_dup(&m->arena, data, size);
    if (!copy) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    b->data = copy;
    b->size = size;
  }
  *index_out = m->nbuffers++;
  return ETPU_OK;
}

static etpu_status make_quant(etpu_model *m, const etpu_quant_params *q, etpu_gquant **out) {
  *out = NULL;
  if (!q || q->count == 0) return ETPU_OK;
  if (!q->scale) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: quantization without scales", m->label);
  etpu_gquant *gq = etpu_arena_alloc(&m->arena, sizeof *gq);
  float *s = etpu_arena_dup(&m->arena, q->scale, q->count * sizeof(float));
  int64_t *z = etpu_arena_array(&m->arena, q->count, sizeof(int64_t));
  if (!gq || !s || !z) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  if (q->zero_point) memcpy(z, q->zero_point, q->count * sizeof(int64_t));
  gq->count = gq->zp_count = q->count;
  gq->scale = s;
  gq->zero_point = z;
  gq->quantized_dimension = q->quantized_dimension;
  *out = gq;
  return ETPU_OK;
}

etpu_status etpu_model_add_tensor(etpu_model *m, uint32_t sg, const char *name, int32_t type, uint32_t rank,
                                  const int32_t *shape, const etpu_quant_params *quant, const void *data, size_t size,
                                  int32_t *index_out) {
  etpu_gsubgraph *g = NULL;
  ETPU_TRY(edit_sg(m, sg, &g));
  if ((rank && !shape) || (size && !data))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add tensor '%s': NULL shape or data", m->label, name ? name : "");
  uint64_t need;
  if (!etpu_tensor_bytes(type, rank, shape, &need) && size)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add tensor '%s': bad type %d or shape", m->label, name ? name : "", type);
  if (size && need != size)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add tensor '%s': %zu data bytes but %s of this shape needs %llu",
                     m->label, name ? name : "", size, etpu_dtype_name(type), (unsigned long long)need);
  ETPU_TRY(etpu_graph_grow(m, (void **)&g->tensors, g->ntensors, &g->cap_tensors, sizeof *g->tensors));
  etpu_gtensor t = {0};
  t.name = etpu_arena_strdup(&m->arena, name ? name : "");
  t.shape = etpu_arena_dup(&m->arena, shape, rank * sizeof(int32_t));
  if (!t.name || (rank && !t.shape)) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  t.type = type;
  t.rank = rank;
  t.producer = -1;
  ETPU_TRY(make_quant(m, quant, &t.quant));
  if (size) ETPU_TRY(add_buffer(m, data, size, &t.buffer));
  g->tensors[g->ntensors] = t;
  if (index_out) *index_out = (int32_t)g->ntensors;
  g->ntensors++;
  return ETPU_OK;
}

static etpu_status edit_tensor(etpu_model *m, uint32_t sg, uint32_t tensor, etpu_gtensor **t) {
  etpu_gsubgraph *g = NULL;
  ETPU_TRY(edit_sg(m, sg, &g));
  if (tensor >= g->ntensors)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u does not exist (subgraph %u has %u)", m->label, tensor, sg,
                     g->ntensors);
  *t = &g->tensors[tensor];
  return ETPU_OK;
}

etpu_status etpu_model_set_tensor_data(etpu_model *m, uint32_t sg, uint32_t tensor, const void *data, size_t size) {
  etpu_gtensor *t = NULL;
  ETPU_TRY(edit_tensor(m, sg, tensor, &t));
  uint64_t need;
  if (!etpu_tensor_bytes(t->type, t->rank, t->shape, &need) || need != size || (size && !data))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u '%s': %zu bytes given, %s of its shape needs %llu", m->label,
                     tensor, t->name, size, etpu_dtype_name(t->type), (unsigned long long)need);
  if (t->producer >= 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u '%s' is written by op %d and cannot hold constant data",
                     m->label, tensor, t->name, t->producer);
  /* A new buffer each time: other tensors may share the old one. */
  return add_buffer(m, data, size, &t->buffer);
}

etpu_status etpu_model_set_tensor_quant(etpu_model *m, uint32_t sg, uint32_t tensor, const etpu_quant_params *q) {
  etpu_gtensor *t = NULL;
  ETPU_TRY(edit_tensor(m, sg, tensor, &t));
  etpu_gquant *gq;
  ETPU_TRY(make_quant(m, q, &gq));
  t->quant = gq;
  return ETPU_OK;
}

etpu_status etpu_model_set_tensor_variable(etpu_model *m, uint32_t sg, uint32_t tensor, bool is_variable) {
  etpu_gtensor *t = NULL;
  ETPU_TRY(edit_tensor(m, sg, tensor, &t));
  t->is_variable = is_variable;
  return ETPU_OK;
}

etpu_status etpu_graph_opcode(etpu_model *m, int32_t code, const char *custom_code, int32_t version,
                              uint32_t *index_out) {
  for (uint32_t i = 0; i < m->nopcodes; i++) {
    const etpu_gopcode *oc = &m->opcodes[i];
    if (oc->code != code || oc->version != version) continue;
    if (code == ETPU_OP_CUSTOM && (!oc->custom_code || strcmp(oc->custom_code, custom_code) != 0)) continue;
    *index_out = i;
    return ETPU_OK;
  }
  ETPU_TRY(etpu_graph_grow(m, (void **)&m->opcodes, m->nopcodes, &m->cap_opcodes, sizeof *m->opcodes));
  etpu_gopcode *oc = &m->opcodes[m->nopcodes];
  memset(oc, 0, sizeof *oc);
  oc->code = code;
  oc->version = version;
  if (code == ETPU_OP_CUSTOM) {
    oc->custom_code = etpu_arena_strdup(&m->arena, custom_code);
    if (!oc->custom_code) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  }
  *index_out = m->nopcodes++;
  return ETPU_OK;
}

static etpu_status check_tensor_list(etpu_model *m, const etpu_gsubgraph *g, const char *what, uint32_t n,
                                     const int32_t *v, bool allow_missing) {
  if (n && !v) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s: NULL list", m->label, what);
  for (uint32_t i = 0; i < n; i++)
    if (!(allow_missing && v[i] == -1) && (v[i] < 0 || (uint32_t)v[i] >= g->ntensors))
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: %s[%u] = %d is not a tensor index", m->label, what, i, v[i]);
  return ETPU_OK;
}

etpu_status etpu_model_add_op(etpu_model *m, uint32_t sg, int32_t code, const char *custom_code, int32_t version,
                              uint32_t input_count, const int32_t *inputs, uint32_t output_count,
                              const int32_t *outputs, uint32_t option_count, const etpu_option *options,
                              const void *custom_options, size_t custom_options_size, int32_t *index_out) {
  etpu_gsubgraph *g = NULL;
  ETPU_TRY(edit_sg(m, sg, &g));
  if (code < 0 || (code == ETPU_OP_CUSTOM && !custom_code) || version < 1)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op: bad code %d, version %d or missing custom code", m->label, code,
                     version);
  const char *name = code == ETPU_OP_CUSTOM ? custom_code : etpu_op_code_name(code);
  char what[96];
  snprintf(what, sizeof what, "add op %s inputs", name);
  ETPU_TRY(check_tensor_list(m, g, what, input_count, inputs, true));
  snprintf(what, sizeof what, "add op %s outputs", name);
  ETPU_TRY(check_tensor_list(m, g, what, output_count, outputs, false));
  for (uint32_t k = 0; k < output_count; k++) {
    const etpu_gtensor *t = &g->tensors[outputs[k]];
    if (t->producer >= 0)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op %s: tensor %d '%s' is already written by op %d", m->label,
                       name, outputs[k], t->name, t->producer);
    if (t->buffer && m->buffers[t->buffer].size)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op %s: output tensor %d '%s' holds constant data", m->label, name,
                       outputs[k], t->name);
  }
  etpu_gop op = {0};
  ETPU_TRY(etpu_graph_opcode(m, code, custom_code, version, &op.opcode));
  op.inputs = etpu_arena_dup(&m->arena, inputs, input_count * sizeof(int32_t));
  op.outputs = etpu_arena_dup(&m->arena, outputs, output_count * sizeof(int32_t));
  if ((input_count && !op.inputs) || (output_count && !op.outputs))
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  op.ninputs = input_count;
  op.noutputs = output_count;
  uint8_t otype = code == ETPU_OP_CUSTOM ? 0 : etpu_op_options_type(code);
  if (option_count && !otype)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op %s: this op takes no builtin options", m->label, name);
  if (otype) {
    uint16_t desc = etpu_fb_unions[ETPU_U_BuiltinOptions].members[otype - 1];
    op.options_type = otype;
    op.options = etpu_fbt_new(&m->arena, desc);
    if (!op.options) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    for (uint32_t i = 0; i < option_count; i++) {
      const struct etpu_fb_fdesc *fd = etpu_fb_field_by_name(desc, options[i].field);
      if (!fd || fd->kind == ETPU_FB_UNION || fd->kind == ETPU_FB_UNION_TYPE || fd->kind == ETPU_FB_TABLE ||
          fd->kind == ETPU_FB_STRING)
        return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op %s: %s has no settable field '%s'", m->label, name,
                         etpu_fb_tables[desc].name, options[i].field ? options[i].field : "(null)");
      if (fd->kind == ETPU_FB_VECTOR) {
        if (fd->elem != ETPU_FB_I32)
          return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op %s: field '%s' is not an int vector", m->label, name,
                           fd->name);
        int32_t *copy = etpu_arena_dup(&m->arena, options[i].ints, options[i].count * sizeof(int32_t));
        if (options[i].count && !copy) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
        etpu_fbv v = {.id = fd->id, .kind = ETPU_FB_VECTOR, .elem = ETPU_FB_I32, .count = options[i].count};
        v.v.p = copy;
        ETPU_TRY(etpu_fbt_put(&m->arena, op.options, &v));
      } else if (fd->kind == ETPU_FB_F32 || fd->kind == ETPU_FB_F64) {
        ETPU_TRY(etpu_fbt_put_float(&m->arena, op.options, fd->id, options[i].f));
      } else {
        ETPU_TRY(etpu_fbt_put_int(&m->arena, op.options, fd->id, options[i].i));
      }
    }
  }
  if (custom_options_size) {
    if (custom_options_size > UINT32_MAX)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: add op %s: custom options too large", m->label, name);
    op.custom = etpu_arena_dup(&m->arena, custom_options, custom_options_size);
    if (!op.custom) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    op.custom_size = (uint32_t)custom_options_size;
  }
  ETPU_TRY(etpu_graph_grow(m, (void **)&g->ops, g->nops, &g->cap_ops, sizeof *g->ops));
  g->ops[g->nops] = op;
  if (index_out) *index_out = (int32_t)g->nops;
  g->nops++;
  etpu_graph_link(m, sg);
  return ETPU_OK;
}

etpu_status etpu_model_remove_op(etpu_model *m, uint32_t sg, uint32_t index) {
  etpu_gsubgraph *g = NULL;
  ETPU_TRY(edit_sg(m, sg, &g));
  if (index >= g->nops) return bad_op(m, sg, index);
  memmove(&g->ops[index], &g->ops[index + 1], (g->nops - index - 1) * sizeof *g->ops);
  g->nops--;
  etpu_graph_link(m, sg);
  return ETPU_OK;
}

static int32_t *renumber(etpu_model *m, const int32_t *v, uint32_t n, uint32_t removed) {
  int32_t *c = etpu_arena_dup(&m->arena, v, n * sizeof(int32_t));
  if (!c && n) return NULL;
  for (uint32_t i = 0; i < n; i++)
    if (c[i] > (int32_t)removed) c[i]--;
  return c;
}

etpu_status etpu_model_remove_tensor(etpu_model *m, uint32_t sg, uint32_t tensor) {
  etpu_gtensor *t = NULL;
  ETPU_TRY(edit_tensor(m, sg, tensor, &t));
  etpu_gsubgraph *g = &m->subgraphs[sg];
  bool io = false;
  for (uint32_t i = 0; i < g->ninputs; i++) io |= g->inputs[i] == (int32_t)tensor;
  for (uint32_t i = 0; i < g->noutputs; i++) io |= g->outputs[i] == (int32_t)tensor;
  for (uint32_t o = 0; o < g->nops; o++)
    for (uint32_t k = 0; k < g->ops[o].nintermediates; k++) io |= g->ops[o].intermediates[k] == (int32_t)tensor;
  if (t->producer >= 0 || t->consumers > 0 || io)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: tensor %u '%s' is still used (by an op or as a graph input/output)",
                     m->label, tensor, t->name);
  if (m->rest && etpu_fbt_get(m->rest, ETPU_F_Model_signature_defs))
    etpu_fbt_remove(m->rest, ETPU_F_Model_signature_defs); /* indices would go stale */
  const int32_t *ni = renumber(m, g->inputs, g->ninputs, tensor);
  const int32_t *no = renumber(m, g->outputs, g->noutputs, tensor);
  if ((g->ninputs && !ni) || (g->noutputs && !no)) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  for (uint32_t o = 0; o < g->nops; o++) {
    etpu_gop *op = &g->ops[o];
    const int32_t *a = renumber(m, op->inputs, op->ninputs, tensor);
    const int32_t *b = renumber(m, op->outputs, op->noutputs, tensor);
    const int32_t *c = renumber(m, op->intermediates, op->nintermediates, tensor);
    if ((op->ninputs && !a) || (op->noutputs && !b) || (op->nintermediates && !c))
      return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    op->inputs = a;
    op->outputs = b;
    op->intermediates = c;
  }
  g->inputs = ni;
  g->outputs = no;
  memmove(&g->tensors[tensor], &g->tensors[tensor + 1], (g->ntensors - tensor - 1) * sizeof *g->tensors);
  g->ntensors--;
  etpu_graph_link(m, sg);
  return ETPU_OK;
}

etpu_status etpu_model_set_io(etpu_model *m, uint32_t sg, uint32_t input_count, const int32_t *inputs,
                              uint32_t output_count, const int32_t *outputs) {
  etpu_gsubgraph *g = NULL;
  ETPU_TRY(edit_sg(m, sg, &g));
  ETPU_TRY(check_tensor_list(m, g, "graph inputs", input_count, inputs, false));
  ETPU_TRY(check_tensor_list(m, g, "graph outputs", output_count, outputs, false));
  const int32_t *ni = etpu_arena_dup(&m->arena, inputs, input_count * sizeof(int32_t));
  const int32_t *no = etpu_arena_dup(&m->arena, outputs, output_count * sizeof(int32_t));
  if ((input_count && !ni) || (output_count && !no)) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  g->inputs = ni;
  g->ninputs = input_count;
  g->outputs = no;
  g->noutputs = output_count;
  /* Signatures name graph inputs/outputs; they no longer match. */
  if (m->rest) etpu_fbt_remove(m->rest, ETPU_F_Model_signature_defs);
  return ETPU_OK;
}

etpu_status etpu_model_set_description(etpu_model *m, const char *d) {
  if (!m || !d) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_set_description: NULL argument");
  const char *c = etpu_arena_strdup(&m->arena, d);
  if (!c) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  m->description = c;
  return ETPU_OK;
}

/* Point metadata entry `name` at buffer `buf`, adding the entry (and the
 * Model.metadata vector, and the root table) when there is none. */
static etpu_status put_metadata_entry(etpu_model *m, const char *name, uint32_t buf) {
  if (!m->rest && !(m->rest = etpu_fbt_new(&m->arena, ETPU_T_Model)))
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  const etpu_fbv *v = etpu_fbt_get(m->rest, ETPU_F_Model_metadata);
  uint32_t n = v ? v->count : 0;
  for (uint32_t i = 0; i < n; i++) {
    const etpu_fbv *nm = etpu_fbt_get(v->v.tv[i], ETPU_F_Metadata_name);
    if (nm && !strcmp((const char *)nm->v.p, name))
      return etpu_fbt_put_int(&m->arena, v->v.tv[i], ETPU_F_Metadata_buffer, buf);
  }
  etpu_fbt **arr = etpu_arena_array(&m->arena, (size_t)n + 1, sizeof *arr);
  etpu_fbt *e = etpu_fbt_new(&m->arena, ETPU_T_Metadata);
  const char *copy = etpu_arena_strdup(&m->arena, name);
  if (!arr || !e || !copy) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  if (n) memcpy(arr, v->v.tv, n * sizeof *arr);
  arr[n] = e;
  etpu_fbv f = {0};
  f.id = ETPU_F_Metadata_name;
  f.kind = ETPU_FB_STRING;
  f.count = (uint32_t)strlen(copy);
  f.v.p = copy;
  ETPU_TRY(etpu_fbt_put(&m->arena, e, &f));
  ETPU_TRY(etpu_fbt_put_int(&m->arena, e, ETPU_F_Metadata_buffer, buf));
  memset(&f, 0, sizeof f);
  f.id = ETPU_F_Model_metadata;
  f.kind = ETPU_FB_VECTOR;
  f.elem = ETPU_FB_TABLE;
  f.count = n + 1;
  f.v.tv = arr;
  return etpu_fbt_put(&m->arena, m->rest, &f);
}

etpu_status etpu_model_set_input_normalization(etpu_model *m, uint32_t input, float mean, float std,
                                               bool *changed_out) {
  if (!m) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_set_input_normalization: NULL model");
  uint32_t nin = etpu_model_input_count(m, 0);
  if (input >= nin)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u does not exist (subgraph 0 has %u)", m->label, input, nin);
  if (!isfinite(mean) || !isfinite(std) || !(std > 0))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u: normalization mean %g, std %g: finite values and std > 0 "
                     "needed", m->label, input, (double)mean, (double)std);
  enum { CAP = 64 };
  uint32_t *count = etpu_calloc(nin, sizeof *count);
  float *vals = etpu_calloc((size_t)nin * 2 * CAP, sizeof *vals);
  const float **mp = etpu_calloc((size_t)nin * 2, sizeof *mp), **sp = mp ? mp + nin : NULL;
  uint8_t *buf = NULL;
  size_t size = 0;
  etpu_status st = count && vals && mp ? ETPU_OK : etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  /* What the metadata records now, input by input (unreadable: nothing). */
  bool readable = true;
  for (uint32_t i = 0; st == ETPU_OK && i < nin; i++) {
    mp[i] = vals + (size_t)i * 2 * CAP;
    sp[i] = mp[i] + CAP;
    if (readable && etpu_model_input_normalization(m, i, CAP, (float *)mp[i], (float *)sp[i], &count[i]) != ETPU_OK)
      readable = false;
  }
  bool same = readable && count[input] > 0;
  for (uint32_t c = 0; st == ETPU_OK && same && c < count[input]; c++)
    same = mp[input][c] == mean && sp[input][c] == std;
  if (st == ETPU_OK && !same) {
    if (!readable) memset(count, 0, nin * sizeof *count);
    count[input] = 1;
    ((float *)mp[input])[0] = mean;
    ((float *)sp[input])[0] = std;
    st = etpu_meta_build_normalization(nin, count, mp, sp, &buf, &size);
    uint32_t b = 0;
    if (st == ETPU_OK) st = add_buffer(m, buf, size, &b);
    if (st == ETPU_OK) st = put_metadata_entry(m, ETPU_TFLITE_METADATA_NAME, b);
  }
  etpu_free(buf);
  etpu_free(count);
  etpu_free(vals);
  etpu_free(mp);
  if (st == ETPU_OK && changed_out) *changed_out = !same;
  return st;
}

etpu_status etpu_model_validate(const etpu_model *m) {
  if (!m) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_validate: NULL model");
  return etpu_graph_validate(m);
}
