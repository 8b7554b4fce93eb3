/*
 * write.c — write a graph back to a .tflite file.
 *
 * The typed graph is lowered into a generic tree (typed fields plus every
 * field kept in `rest`), then encoded by fb.c. Operator codes are written
 * with both code fields (deprecated_builtin_code = min(code, 127), the
 * PLACEHOLDER_FOR_GREATER_OP_CODES convention). Buffer data is 16-byte
 * aligned (the schema's force_align). When the constant data would push the
 * flatbuffer past 2 GiB, buffers are stored after it with Buffer.offset/size
 * (schema 3c), as TensorFlow Lite's converter does.
 *
 * With ETPU_WRITE_COMPACT, buffers that no tensor and no metadata uses are
 * dropped and the remaining indices renumbered; otherwise buffers are written
 * in their original order, so that an unchanged model writes the same
 * tensors, buffers and options.
 */
#include <string.h>

#include "model/graph.h"

/* Constant data above this total goes outside the flatbuffer. */
static uint64_t g_external_threshold = (uint64_t)2000 << 20;

void etpu_model_set_external_threshold(uint64_t bytes) { g_external_threshold = bytes ? bytes : (uint64_t)2000 << 20; }

typedef struct lower_ctx {
  const etpu_model *m;
  etpu_arena *a;
  const uint32_t *buf_map; /* old buffer index -> new, or NULL */
  bool external;           /* store buffers outside */
  const uint64_t *ext_off; /* per new buffer: file offset */
} lower_ctx;

static etpu_status oom(void) { return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory while writing the model"); }

static etpu_fbt *clone_rest(lower_ctx *c, const etpu_fbt *rest, uint16_t desc) {
  etpu_fbt *t = etpu_fbt_new(c->a, desc);
  if (!t) return NULL;
  if (rest) {
    t->f = etpu_arena_array(c->a, (size_t)rest->n + 16, sizeof *t->f);
    if (!t->f) return NULL;
    if (rest->n) memcpy(t->f, rest->f, rest->n * sizeof *t->f);
    t->n = rest->n;
    t->cap = (uint16_t)(rest->n + 16);
  }
  return t;
}

static etpu_status put_vec(lower_ctx *c, etpu_fbt *t, uint16_t id, uint8_t elem, const void *p, uint32_t n) {
  etpu_fbv v = {.id = id, .kind = ETPU_FB_VECTOR, .elem = elem, .count = n};
  v.v.p = p;
  return etpu_fbt_put(c->a, t, &v);
}

static etpu_status put_str(lower_ctx *c, etpu_fbt *t, uint16_t id, const char *s) {
  etpu_fbv v = {.id = id, .kind = ETPU_FB_STRING, .count = (uint32_t)strlen(s)};
  v.v.p = s;
  return etpu_fbt_put(c->a, t, &v);
}

static etpu_status put_table(lower_ctx *c, etpu_fbt *t, uint16_t id, uint8_t kind, etpu_fbt *child) {
  etpu_fbv v = {.id = id, .kind = kind};
  v.v.t = child;
  return etpu_fbt_put(c->a, t, &v);
}

static etpu_status put_tables(lower_ctx *c, etpu_fbt *t, uint16_t id, etpu_fbt **arr, uint32_t n) {
  etpu_fbv v = {.id = id, .kind = ETPU_FB_VECTOR, .elem = ETPU_FB_TABLE, .count = n};
  v.v.tv = arr;
  return etpu_fbt_put(c->a, t, &v);
}

static etpu_status lower_tensor(lower_ctx *c, const etpu_gtensor *gt, etpu_fbt **out) {
  etpu_fbt *t = clone_rest(c, gt->rest, ETPU_T_Tensor);
  if (!t) return oom();
  ETPU_TRY(put_vec(c, t, ETPU_F_Tensor_shape, ETPU_FB_I32, gt->shape, gt->rank));
  if (gt->type != 0) ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_Tensor_type, gt->type));
  uint32_t b = c->buf_map ? c->buf_map[gt->buffer] : gt->buffer;
  if (b != 0) ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_Tensor_buffer, b));
  ETPU_TRY(put_str(c, t, ETPU_F_Tensor_name, gt->name));
  if (gt->is_variable) ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_Tensor_is_variable, 1));
  if (gt->has_signature)
    ETPU_TRY(put_vec(c, t, ETPU_F_Tensor_shape_signature, ETPU_FB_I32, gt->shape_signature, gt->sig_rank));
  if (gt->quant) {
    const etpu_gquant *q = gt->quant;
    etpu_fbt *qt = clone_rest(c, q->rest, ETPU_T_QuantizationParameters);
    if (!qt) return oom();
    if (q->scale) ETPU_TRY(put_vec(c, qt, ETPU_F_QuantizationParameters_scale, ETPU_FB_F32, q->scale, q->count));
    if (q->zero_point)
      ETPU_TRY(put_vec(c, qt, ETPU_F_QuantizationParameters_zero_point, ETPU_FB_I64, q->zero_point, q->zp_count));
    if (q->quantized_dimension != 0)
      ETPU_TRY(etpu_fbt_put_int(c->a, qt, ETPU_F_QuantizationParameters_quantized_dimension, q->quantized_dimension));
    ETPU_TRY(put_table(c, t, ETPU_F_Tensor_quantization, ETPU_FB_TABLE, qt));
  }
  *out = t;
  return ETPU_OK;
}

static etpu_status lower_op(lower_ctx *c, const etpu_gop *go, etpu_fbt **out) {
  etpu_fbt *t = clone_rest(c, go->rest, ETPU_T_Operator);
  if (!t) return oom();
  if (go->opcode != 0) ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_Operator_opcode_index, go->opcode));
  ETPU_TRY(put_vec(c, t, ETPU_F_Operator_inputs, ETPU_FB_I32, go->inputs, go->ninputs));
  ETPU_TRY(put_vec(c, t, ETPU_F_Operator_outputs, ETPU_FB_I32, go->outputs, go->noutputs));
  if (go->options) {
    ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_Operator_builtin_options_type, go->options_type));
    ETPU_TRY(put_table(c, t, ETPU_F_Operator_builtin_options, ETPU_FB_UNION, go->options));
  }
  if (go->custom) ETPU_TRY(put_vec(c, t, ETPU_F_Operator_custom_options, ETPU_FB_U8, go->custom, go->custom_size));
  if (go->nintermediates)
    ETPU_TRY(put_vec(c, t, ETPU_F_Operator_intermediates, ETPU_FB_I32, go->intermediates, go->nintermediates));
  *out = t;
  return ETPU_OK;
}

static etpu_status lower_model(lower_ctx *c, uint32_t nbuf_out, const uint32_t *buf_inv, etpu_fbt **root_out) {
  const etpu_model *m = c->m;
  etpu_fbt *root = clone_rest(c, m->rest, ETPU_T_Model);
  if (!root) return oom();
  ETPU_TRY(etpu_fbt_put_int(c->a, root, ETPU_F_Model_version, m->version ? m->version : 3));
  if (m->description) ETPU_TRY(put_str(c, root, ETPU_F_Model_description, m->description));
  /* operator codes */
  etpu_fbt **ocs = etpu_arena_array(c->a, m->nopcodes + 1, sizeof *ocs);
  if (!ocs) return oom();
  for (uint32_t i = 0; i < m->nopcodes; i++) {
    const etpu_gopcode *g = &m->opcodes[i];
    etpu_fbt *t = clone_rest(c, g->rest, ETPU_T_OperatorCode);
    if (!t) return oom();
    int32_t dep = g->code < 127 ? g->code : 127;
    if (dep != 0) ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_OperatorCode_deprecated_builtin_code, dep));
    if (g->custom_code) ETPU_TRY(put_str(c, t, ETPU_F_OperatorCode_custom_code, g->custom_code));
    ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_OperatorCode_version, g->version));
    if (g->code != 0) ETPU_TRY(etpu_fbt_put_int(c->a, t, ETPU_F_OperatorCode_builtin_code, g->code));
    ocs[i] = t;
  }
  ETPU_TRY(put_tables(c, root, ETPU_F_Model_operator_codes, ocs, m->nopcodes));
  /* subgraphs */
  etpu_fbt **sgs = etpu_arena_array(c->a, m->nsubgraphs + 1, sizeof *sgs);
  if (!sgs) return oom();
  for (uint32_t s = 0; s < m->nsubgraphs; s++) {
    const etpu_gsubgraph *g = &m->subgraphs[s];
    etpu_fbt *t = clone_rest(c, g->rest, ETPU_T_SubGraph);
    if (!t) return oom();
    etpu_fbt **ts = etpu_arena_array(c->a, g->ntensors + 1, sizeof *ts);
    etpu_fbt **os = etpu_arena_array(c->a, g->nops + 1, sizeof *os);
    if (!ts || !os) return oom();
    for (uint32_t i = 0; i < g->ntensors; i++) ETPU_TRY(lower_tensor(c, &g->tensors[i], &ts[i]));
    for (uint32_t i = 0; i < g->nops; i++) ETPU_TRY(lower_op(c, &g->ops[i], &os[i]));
    ETPU_TRY(put_tables(c, t, ETPU_F_SubGraph_tensors, ts, g->ntensors));
    ETPU_TRY(put_vec(c, t, ETPU_F_SubGraph_inputs, ETPU_FB_I32, g->inputs, g->ninputs));
    ETPU_TRY(put_vec(c, t, ETPU_F_SubGraph_outputs, ETPU_FB_I32, g->outputs, g->noutputs));
    ETPU_TRY(put_tables(c, t, ETPU_F_SubGraph_operators, os, g->nops));
    if (g->name[0]) ETPU_TRY(put_str(c, t, ETPU_F_SubGraph_name, g->name));
    sgs[s] = t;
  }
  ETPU_TRY(put_tables(c, root, ETPU_F_Model_subgraphs, sgs, m->nsubgraphs));
  /* buffers */
  etpu_fbt **bs = etpu_arena_array(c->a, nbuf_out + 1, sizeof *bs);
  if (!bs) return oom();
  for (uint32_t i = 0; i < nbuf_out; i++) {
    const etpu_gbuffer *gb = &m->buffers[buf_inv ? buf_inv[i] : i];
    etpu_fbt *t = etpu_fbt_new(c->a, ETPU_T_Buffer);
    if (!t) return oom();
    if (gb->size) {
      if (c->external) {
        etpu_fbv v = {.id = ETPU_F_Buffer_offset, .kind = ETPU_FB_U64};
        v.v.u = c->ext_off ? c->ext_off[i] : 2;
        ETPU_TRY(etpu_fbt_put(c->a, t, &v));
        etpu_fbv z = {.id = ETPU_F_Buffer_size, .kind = ETPU_FB_U64};
        z.v.u = gb->size;
        ETPU_TRY(etpu_fbt_put(c->a, t, &z));
      } else {
        ETPU_TRY(put_vec(c, t, ETPU_F_Buffer_data, ETPU_FB_U8, gb->data, (uint32_t)gb->size));
      }
    }
    bs[i] = t;
  }
  ETPU_TRY(put_tables(c, root, ETPU_F_Model_buffers, bs, nbuf_out));
  /* Remap buffer indices held by metadata and metadata_buffer. */
  if (c->buf_map) {
    const etpu_fbv *md = etpu_fbt_get(root, ETPU_F_Model_metadata);
    if (md) {
      etpu_fbt **arr = etpu_arena_array(c->a, md->count + 1, sizeof *arr);
      if (!arr) return oom();
      for (uint32_t i = 0; i < md->count; i++) {
        arr[i] = clone_rest(c, md->v.tv[i], ETPU_T_Metadata);
        if (!arr[i]) return oom();
        int64_t b = etpu_fbt_int(md->v.tv[i], ETPU_F_Metadata_buffer);
        ETPU_TRY(etpu_fbt_put_int(c->a, arr[i], ETPU_F_Metadata_buffer, c->buf_map[b]));
      }
      ETPU_TRY(put_tables(c, root, ETPU_F_Model_metadata, arr, md->count));
    }
    const etpu_fbv *mb = etpu_fbt_get(root, ETPU_F_Model_metadata_buffer);
    if (mb) {
      int32_t *arr = etpu_arena_array(c->a, mb->count + 1, sizeof *arr);
      if (!arr) return oom();
      for (uint32_t i = 0; i < mb->count; i++) arr[i] = (int32_t)c->buf_map[((const int32_t *)mb->v.p)[i]];
      ETPU_TRY(put_vec(c, root, ETPU_F_Model_metadata_buffer, ETPU_FB_I32, arr, mb->count));
    }
  }
  *root_out = root;
  return ETPU_OK;
}

/* Which buffers survive compaction: used by a tensor or metadata, plus 0. */
static etpu_status compact_map(const etpu_model *m, etpu_arena *a, uint32_t **map_out, uint32_t **inv_out,
                               uint32_t *n_out) {
  uint8_t *used = etpu_arena_alloc(a, m->nbuffers + 1);
  uint32_t *map = etpu_arena_array(a, m->nbuffers + 1, sizeof *map);
  uint32_t *inv = etpu_arena_array(a, m->nbuffers + 1, sizeof *inv);
  if (!used || !map || !inv) return oom();
  used[0] = 1;
  for (uint32_t s = 0; s < m->nsubgraphs; s++)
    for (uint32_t i = 0; i < m->subgraphs[s].ntensors; i++) used[m->subgraphs[s].tensors[i].buffer] = 1;
  const etpu_fbv *md = m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_metadata) : NULL;
  for (uint32_t i = 0; md && i < md->count; i++) used[etpu_fbt_int(md->v.tv[i], ETPU_F_Metadata_buffer)] = 1;
  const etpu_fbv *mb = m->rest ? etpu_fbt_get(m->rest, ETPU_F_Model_metadata_buffer) : NULL;
  for (uint32_t i = 0; mb && i < mb->count; i++) used[((const int32_t *)mb->v.p)[i]] = 1;
  uint32_t n = 0;
  for (uint32_t i = 0; i < m->nbuffers; i++) {
    if (used[i]) {
      map[i] = n;
      inv[n++] = i;
    } else {
      map[i] = 0;
    }
  }
  *map_out = map;
  *inv_out = inv;
  *n_out = n;
  return ETPU_OK;
}

/* Serialize into a flatbuffer plus, when external, the data parts. */
static etpu_status serialize(const etpu_model *m, unsigned flags, uint8_t **fb_out, size_t *fb_size_out,
                             etpu_arena *a, const etpu_gbuffer ***ext_out, uint32_t *next_out,
                             const uint64_t **ext_off_out) {
  etpu_status st = etpu_graph_validate(m);
  if (st != ETPU_OK) return st;
  lower_ctx c = {.m = m, .a = a};
  uint32_t *map = NULL, *inv = NULL, nbuf = m->nbuffers;
  if (flags & ETPU_WRITE_COMPACT) {
    ETPU_TRY(compact_map(m, a, &map, &inv, &nbuf));
    c.buf_map = map;
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < nbuf; i++) total += m->buffers[inv ? inv[i] : i].size;
  c.external = total >= g_external_threshold;
  *ext_out = NULL;
  *next_out = 0;
  *ext_off_out = NULL;
  etpu_fbt *root;
  ETPU_TRY(lower_model(&c, nbuf, inv, &root));
  uint8_t *fb = NULL;
  size_t fbsize = 0;
  ETPU_TRY(etpu_fb_encode(root, "TFL3", &fb, &fbsize));
  if (!c.external) {
    *fb_out = fb;
    *fb_size_out = fbsize;
    return ETPU_OK;
  }
  /* Second pass with the real offsets: the layout is identical because every
   * offset field is present and fixed-size in both passes. */
  etpu_free(fb);
  uint64_t *off = etpu_arena_array(a, nbuf + 1, sizeof *off);
  const etpu_gbuffer **parts = etpu_arena_array(a, nbuf + 1, sizeof *parts);
  if (!off || !parts) return oom();
  uint64_t pos = fbsize;
  for (uint32_t i = 0; i < nbuf; i++) {
    const etpu_gbuffer *gb = &m->buffers[inv ? inv[i] : i];
    parts[i] = gb;
    pos = (pos + 15) & ~(uint64_t)15;
    off[i] = pos;
    pos += gb->size;
  }
  c.ext_off = off;
  ETPU_TRY(lower_model(&c, nbuf, inv, &root));
  size_t fbsize2;
  ETPU_TRY(etpu_fb_encode(root, "TFL3", &fb, &fbsize2));
  if (fbsize2 != fbsize) {
    etpu_free(fb);
    return etpu_fail(ETPU_INVALID_STATE, "internal error: external-buffer layout changed between passes");
  }
  *fb_out = fb;
  *fb_size_out = fbsize;
  *ext_out = parts;
  *next_out = nbuf;
  *ext_off_out = off;
  return ETPU_OK;
}

etpu_status etpu_model_write_buffer(const etpu_model *m, unsigned flags, void **data_out, size_t *size_out) {
  if (!m || !data_out || !size_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_write_buffer: NULL argument");
  etpu_arena a;
  etpu_arena_init(&a);
  uint8_t *fb = NULL;
  size_t fbsize = 0;
  const etpu_gbuffer **parts;
  uint32_t nparts;
  const uint64_t *off;
  etpu_status st = serialize(m, flags, &fb, &fbsize, &a, &parts, &nparts, &off);
  if (st != ETPU_OK) {
    etpu_arena_free(&a);
    return st;
  }
  if (nparts) {
    uint64_t end = fbsize;
    for (uint32_t i = 0; i < nparts; i++)
      if (parts[i]->size) end = off[i] + parts[i]->size;
    if (end > SIZE_MAX) {
      etpu_free(fb);
      etpu_arena_free(&a);
      return etpu_fail(ETPU_OUT_OF_MEMORY, "model too large for memory");
    }
    uint8_t *all = etpu_realloc(fb, (size_t)end);
    if (!all) {
      etpu_free(fb);
      etpu_arena_free(&a);
      return oom();
    }
    memset(all + fbsize, 0, (size_t)end - fbsize);
    for (uint32_t i = 0; i < nparts; i++)
      if (parts[i]->size) memcpy(all + off[i], parts[i]->data, parts[i]->size);
    fb = all;
    fbsize = (size_t)end;
  }
  etpu_arena_free(&a);
  *data_out = fb;
  *size_out = fbsize;
  return ETPU_OK;
}

etpu_status etpu_model_write_file(const etpu_model *m, const char *path, unsigned flags) {
  if (!m || !path) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_write_file: NULL argument");
  void *data;
  size_t size;
  etpu_status st = etpu_model_write_buffer(m, flags, &data, &size);
  if (st != ETPU_OK) return etpu_fail_prefix(st, path);
  etpu_iovec part = {data, size};
  st = etpu_file_write_atomic(path, &part, 1);
  etpu_free(data);
  return st;
}
