/*
 * metadata.c — the input normalization a model's TensorFlow Lite metadata
 * records (etpu_model_input_normalization in etpu.h).
 *
 * Models made with tflite-support carry a metadata entry "TFLITE_METADATA"
 * whose buffer is a second FlatBuffer, of the metadata schema
 * (tflite-support's metadata_schema.fbs, file identifier "M001"). etpu reads
 * one path through it:
 *
 *   table                 field                    id  type
 *   ModelMetadata         subgraph_metadata         3  [SubGraphMetadata]
 *   SubGraphMetadata      input_tensor_metadata     2  [TensorMetadata]
 *   TensorMetadata        process_units             4  [ProcessUnit]
 *   ProcessUnit           options_type              0  u8 (ProcessUnitOptions)
 *                         options                   1  union value (table)
 *   ProcessUnitOptions    NormalizationOptions = 1 (then ScoreCalibration 2,
 *                         ScoreThresholding 3, BertTokenizer 4, SentencePiece 5)
 *   NormalizationOptions  mean                      0  [float]
 *                         std                       1  [float]
 *
 * (a field id i lives in vtable slot 4 + 2 i). Input i's metadata is
 * input_tensor_metadata[i] of subgraph_metadata[0], matching SubGraph.inputs[i]
 * of subgraph 0. The values mean: real = (x - mean[c]) / std[c] per channel,
 * one value standing for every channel.
 *
 * The walk is verified the way flatcc verifies a buffer, restricted to the
 * objects it reads (nothing else in the buffer is interpreted): every offset
 * is unsigned and checked in 64-bit arithmetic to land inside the buffer;
 * tables, uoffsets, vectors and floats are 4-aligned relative to the buffer's
 * start, vtables 2-aligned and inside the buffer, each field inside its
 * table's inline size, each vector's count times its element size inside the
 * buffer. All loads go through the little-endian helpers of base.h, so the
 * buffer needs no alignment in memory. The path has a fixed depth and the one
 * loop (process_units) is bounded by the vector length already checked
 * against the buffer, so a hostile buffer costs at most O(size) work and
 * yields ETPU_MALFORMED with a message naming the object and the byte.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "model/metadata.h"

/* Field ids and union values of metadata_schema.fbs (see the table above). */
enum {
  F_ModelMetadata_subgraph_metadata = 3,
  F_SubGraphMetadata_input_tensor_metadata = 2,
  F_TensorMetadata_process_units = 4,
  F_ProcessUnit_options_type = 0,
  F_ProcessUnit_options = 1,
  F_NormalizationOptions_mean = 0,
  F_NormalizationOptions_std = 1,
  U_ProcessUnitOptions_NormalizationOptions = 1,
};

typedef struct mreader {
  const uint8_t *b;
  uint64_t size;
  const char *label;
} mreader;

/* A verified table: its position, its vtable's, and both sizes. */
typedef struct mtable {
  uint64_t t, vt;
  uint32_t vsize, tsize;
} mtable;

static etpu_status bad(const mreader *r, const char *what, uint64_t at, const char *rule) {
  return etpu_fail(ETPU_MALFORMED, "%s: " ETPU_TFLITE_METADATA_NAME ": %s at byte %llu: %s", r->label, what,
                   (unsigned long long)at, rule);
}

static etpu_status table_at(const mreader *r, uint64_t t, const char *what, mtable *out) {
  if (t % 4 || t + 4 > r->size) return bad(r, what, t, "table outside the buffer or not 4-aligned");
  int64_t vt = (int64_t)t - (int64_t)(int32_t)etpu_rd32(r->b + t);
  if (vt < 0 || vt % 2 || (uint64_t)vt + 4 > r->size) return bad(r, what, t, "vtable outside the buffer or not 2-aligned");
  uint32_t vsize = etpu_rd16(r->b + vt), tsize = etpu_rd16(r->b + vt + 2);
  if (vsize < 4 || vsize % 2 || (uint64_t)vt + vsize > r->size)
    return bad(r, what, t, "vtable size odd, below 4 or past the buffer");
  if (tsize < 4 || t + tsize > r->size) return bad(r, what, t, "table inline size below 4 or past the buffer");
  out->t = t;
  out->vt = (uint64_t)vt;
  out->vsize = vsize;
  out->tsize = tsize;
  return ETPU_OK;
}

/* The position of field id (bytes wide, aligned to its width) in table t,
 * or 0 when the field is absent. */
static etpu_status field_at(const mreader *r, const mtable *t, unsigned id, unsigned bytes, const char *what,
                            uint64_t *pos_out) {
  uint32_t slot = 4 + 2 * id;
  *pos_out = 0;
  if (slot + 2 > t->vsize) return ETPU_OK;
  uint32_t fo = etpu_rd16(r->b + t->vt + slot);
  if (!fo) return ETPU_OK;
  if (fo + bytes > t->tsize) return bad(r, what, t->t, "field outside its table's inline bytes");
  if ((t->t + fo) % bytes) return bad(r, what, t->t + fo, "field not aligned to its size");
  *pos_out = t->t + fo;
  return ETPU_OK;
}

/* Follow the uoffset at p (4-aligned, inside the buffer). */
static etpu_status follow(const mreader *r, uint64_t p, const char *what, uint64_t *target_out) {
  uint32_t off = etpu_rd32(r->b + p);
  if (off == 0 || p + off >= r->size) return bad(r, what, p, "offset outside the buffer");
  *target_out = p + off;
  return ETPU_OK;
}

/* The target of a uoffset field, or 0 when absent. */
static etpu_status ref_field(const mreader *r, const mtable *t, unsigned id, const char *what, uint64_t *target_out) {
  uint64_t p = 0;
  ETPU_TRY(field_at(r, t, id, 4, what, &p));
  *target_out = 0;
  return p ? follow(r, p, what, target_out) : ETPU_OK;
}

/* A vector at v of elements elem bytes wide: its count. */
static etpu_status vector_at(const mreader *r, uint64_t v, unsigned elem, const char *what, uint32_t *n_out) {
  if (v % 4 || v + 4 > r->size) return bad(r, what, v, "vector outside the buffer or not 4-aligned");
  uint32_t n = etpu_rd32(r->b + v);
  if ((uint64_t)n * elem > r->size - v - 4) {
    return etpu_fail(ETPU_MALFORMED, "%s: " ETPU_TFLITE_METADATA_NAME ": %s at byte %llu: %u elements run past the %llu-byte buffer",
                     r->label, what, (unsigned long long)v, n, (unsigned long long)r->size);
  }
  *n_out = n;
  return ETPU_OK;
}

/* Element i (< the verified count) of the table vector at v. */
static etpu_status vector_table(const mreader *r, uint64_t v, uint32_t i, const char *what, mtable *out) {
  uint64_t t = 0;
  ETPU_TRY(follow(r, v + 4 + 4 * (uint64_t)i, what, &t));
  return table_at(r, t, what, out);
}

/* A table's field that is a vector of tables: its position and count (0 and
 * 0 when absent). */
static etpu_status table_vector(const mreader *r, const mtable *t, unsigned id, const char *what, uint64_t *v_out,
                                uint32_t *n_out) {
  ETPU_TRY(ref_field(r, t, id, what, v_out));
  *n_out = 0;
  return *v_out ? vector_at(r, *v_out, 4, what, n_out) : ETPU_OK;
}

static float rd_float(const uint8_t *p) {
  uint32_t u = etpu_rd32(p);
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

etpu_status etpu_meta_input_normalization(const uint8_t *buf, size_t size, const char *label, uint32_t input,
                                          uint32_t cap, float *mean_out, float *std_out, uint32_t *count_out) {
  mreader r = {buf, size, label ? label : ""};
  if (!buf || size < 8)
    return etpu_fail(ETPU_MALFORMED, "%s: " ETPU_TFLITE_METADATA_NAME ": %zu bytes, too short for a FlatBuffer",
                     r.label, size);
  if (memcmp(buf + 4, "M001", 4) != 0) {
    char id[5];
    for (int i = 0; i < 4; i++) id[i] = buf[4 + i] >= 0x20 && buf[4 + i] < 0x7f ? (char)buf[4 + i] : '?';
    id[4] = 0;
    return etpu_fail(ETPU_UNSUPPORTED,
                     "%s: " ETPU_TFLITE_METADATA_NAME ": file identifier '%s', not 'M001' (the metadata schema etpu reads)",
                     r.label, id);
  }
  mtable mm = {0}, sg = {0}, tm = {0};
  ETPU_TRY(table_at(&r, etpu_rd32(buf), "ModelMetadata", &mm));
  uint64_t v = 0;
  uint32_t n = 0;
  ETPU_TRY(table_vector(&r, &mm, F_ModelMetadata_subgraph_metadata, "subgraph_metadata", &v, &n));
  if (n == 0) goto absent;
  ETPU_TRY(vector_table(&r, v, 0, "subgraph_metadata[0]", &sg));
  ETPU_TRY(table_vector(&r, &sg, F_SubGraphMetadata_input_tensor_metadata, "input_tensor_metadata", &v, &n));
  if (input >= n) goto absent;
  ETPU_TRY(vector_table(&r, v, input, "input_tensor_metadata[i]", &tm));
  ETPU_TRY(table_vector(&r, &tm, F_TensorMetadata_process_units, "process_units", &v, &n));
  for (uint32_t k = 0; k < n; k++) {
    mtable pu = {0}, no = {0};
    uint64_t tp = 0, opt = 0;
    ETPU_TRY(vector_table(&r, v, k, "process_units[k]", &pu));
    ETPU_TRY(field_at(&r, &pu, F_ProcessUnit_options_type, 1, "ProcessUnit.options_type", &tp));
    if (!tp || r.b[tp] != U_ProcessUnitOptions_NormalizationOptions) continue;
    ETPU_TRY(ref_field(&r, &pu, F_ProcessUnit_options, "ProcessUnit.options", &opt));
    if (!opt) return bad(&r, "ProcessUnit", pu.t, "NormalizationOptions type without a value");
    ETPU_TRY(table_at(&r, opt, "NormalizationOptions", &no));
    uint64_t mv = 0, sv = 0;
    uint32_t mn = 0, sn = 0;
    ETPU_TRY(ref_field(&r, &no, F_NormalizationOptions_mean, "NormalizationOptions.mean", &mv));
    if (mv) ETPU_TRY(vector_at(&r, mv, 4, "NormalizationOptions.mean", &mn));
    ETPU_TRY(ref_field(&r, &no, F_NormalizationOptions_std, "NormalizationOptions.std", &sv));
    if (sv) ETPU_TRY(vector_at(&r, sv, 4, "NormalizationOptions.std", &sn));
    if (mn == 0 || sn == 0) return bad(&r, "NormalizationOptions", no.t, "mean or std missing or empty");
    if (mn != sn && mn != 1 && sn != 1) {
      return etpu_fail(ETPU_MALFORMED,
                       "%s: " ETPU_TFLITE_METADATA_NAME ": NormalizationOptions at byte %llu: %u means and %u stds "
                       "(each must be one value or one per channel)",
                       r.label, (unsigned long long)no.t, mn, sn);
    }
    uint32_t count = mn > sn ? mn : sn;
    for (uint32_t c = 0; c < count; c++) {
      float m = rd_float(r.b + mv + 4 + 4 * (uint64_t)(mn == 1 ? 0 : c));
      float s = rd_float(r.b + sv + 4 + 4 * (uint64_t)(sn == 1 ? 0 : c));
      if (!isfinite(m) || !isfinite(s) || !(s > 0)) {
        return etpu_fail(ETPU_MALFORMED,
                         "%s: " ETPU_TFLITE_METADATA_NAME ": NormalizationOptions at byte %llu: channel %u has mean "
                         "%g, std %g (finite values and std > 0 needed)",
                         r.label, (unsigned long long)no.t, c, (double)m, (double)s);
      }
    }
    if (count > cap) {
      return etpu_fail(ETPU_INVALID_ARGUMENT,
                       "%s: " ETPU_TFLITE_METADATA_NAME ": input %u normalization has %u values; room for %u given",
                       r.label, input, count, cap);
    }
    for (uint32_t c = 0; c < count; c++) {
      mean_out[c] = rd_float(r.b + mv + 4 + 4 * (uint64_t)(mn == 1 ? 0 : c));
      std_out[c] = rd_float(r.b + sv + 4 + 4 * (uint64_t)(sn == 1 ? 0 : c));
    }
    *count_out = count;
    return ETPU_OK;
  }
absent:
  *count_out = 0;
  return ETPU_OK;
}

etpu_status etpu_model_input_normalization(const etpu_model *model, uint32_t input, uint32_t cap, float *mean_out,
                                           float *std_out, uint32_t *count_out) {
  if (!model || !count_out || (cap && (!mean_out || !std_out)))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_input_normalization: NULL argument");
  uint32_t ninputs = etpu_model_input_count(model, 0);
  if (input >= ninputs)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: input %u does not exist (subgraph 0 has %u)",
                     etpu_model_label(model), input, ninputs);
  uint32_t nmeta = etpu_model_metadata_count(model);
  for (uint32_t i = 0; i < nmeta; i++) {
    const char *name;
    const void *data;
    size_t size;
    ETPU_TRY(etpu_model_metadata(model, i, &name, &data, &size));
    if (strcmp(name, ETPU_TFLITE_METADATA_NAME) != 0) continue;
    return etpu_meta_input_normalization(data, size, etpu_model_label(model), input, cap, mean_out, std_out,
                                         count_out);
  }
  *count_out = 0;
  return ETPU_OK;
}

/* ---- writing ----------------------------------------------------------------
 *
 * etpu_meta_build_normalization lays out the smallest metadata buffer that
 * records NormalizationOptions, front to back (every uoffset points forward,
 * as the reader above requires; each vtable sits just before its table):
 *
 *   0   u32 root uoffset, "M001"
 *       ModelMetadata       name (0) "etpu", subgraph_metadata (3),
 *                           min_parser_version (7) "1.0.0"
 *       SubGraphMetadata    input_tensor_metadata (2): one TensorMetadata per
 *                           graph input, in order
 *       TensorMetadata      process_units (4): [ProcessUnit] when the input
 *                           has a normalization, else no field
 *       ProcessUnit         options_type (0) = 1, options (1)
 *       NormalizationOptions mean (0) [float], std (1) [float]
 */

typedef struct mwriter {
  uint8_t *b;
  size_t n, cap;
  bool oom;
} mwriter;

/* Append `bytes` zero bytes at the next multiple of `align`; their position. */
static size_t w_alloc(mwriter *w, size_t bytes, size_t align) {
  size_t at = (w->n + align - 1) / align * align;
  if (at + bytes > w->cap) {
    size_t ncap = w->cap ? w->cap * 2 : 256;
    while (ncap < at + bytes) ncap *= 2;
    uint8_t *nb = etpu_realloc(w->b, ncap);
    if (!nb) {
      w->oom = true;
      return 0;
    }
    w->b = nb;
    w->cap = ncap;
  }
  if (w->oom) return 0;
  memset(w->b + w->n, 0, at + bytes - w->n);
  w->n = at + bytes;
  return at;
}

static void w_u32(mwriter *w, size_t at, uint32_t v) {
  if (w->oom) return;
  for (int i = 0; i < 4; i++) w->b[at + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void w_u16(mwriter *w, size_t at, uint16_t v) {
  if (w->oom) return;
  w->b[at] = (uint8_t)v;
  w->b[at + 1] = (uint8_t)(v >> 8);
}

/* Point the uoffset at `field` to `target` (which lies after it). */
static void w_patch(mwriter *w, size_t field, size_t target) { w_u32(w, field, (uint32_t)(target - field)); }

/* A table with uoffset fields at the slots offs[0..noff) and, if u8_slot >=
 * 0, one byte `u8` at that slot. pos[k] gets the position of offs[k]'s field. */
static size_t w_table(mwriter *w, const unsigned *offs, unsigned noff, int u8_slot, uint8_t u8, size_t *pos) {
  unsigned nslots = 0;
  for (unsigned k = 0; k < noff; k++)
    if (offs[k] + 1 > nslots) nslots = offs[k] + 1;
  if (u8_slot >= 0 && (unsigned)u8_slot + 1 > nslots) nslots = (unsigned)u8_slot + 1;
  uint16_t vsize = (uint16_t)(4 + 2 * nslots), tsize = (uint16_t)(4 + 4 * noff + (u8_slot >= 0));
  size_t vt = w_alloc(w, vsize, 4);
  size_t t = w_alloc(w, tsize, 4);
  if (w->oom) return 0;
  w_u16(w, vt, vsize);
  w_u16(w, vt + 2, tsize);
  for (unsigned k = 0; k < noff; k++) {
    w_u16(w, vt + 4 + 2 * offs[k], (uint16_t)(4 + 4 * k));
    pos[k] = t + 4 + 4 * k;
  }
  if (u8_slot >= 0) {
    w_u16(w, vt + 4 + 2 * (unsigned)u8_slot, (uint16_t)(4 + 4 * noff));
    w->b[t + 4 + 4 * noff] = u8;
  }
  w_u32(w, t, (uint32_t)(t - vt)); /* soffset: the vtable is before the table */
  return t;
}

static size_t w_string(mwriter *w, const char *s) {
  size_t len = strlen(s), at = w_alloc(w, 4 + len + 1, 4);
  w_u32(w, at, (uint32_t)len);
  if (!w->oom) memcpy(w->b + at + 4, s, len);
  return at;
}

static size_t w_floats(mwriter *w, const float *v, uint32_t n) {
  size_t at = w_alloc(w, 4 + 4 * (size_t)n, 4);
  w_u32(w, at, n);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t u;
    memcpy(&u, &v[i], 4);
    w_u32(w, at + 4 + 4 * (size_t)i, u);
  }
  return at;
}

/* A vector of n uoffsets, to be patched: its position (slot k at +4+4k). */
static size_t w_offsets(mwriter *w, uint32_t n) {
  size_t at = w_alloc(w, 4 + 4 * (size_t)n, 4);
  w_u32(w, at, n);
  return at;
}

etpu_status etpu_meta_build_normalization(uint32_t ninputs, const uint32_t *count, const float *const *mean,
                                          const float *const *std, uint8_t **data_out, size_t *size_out) {
  mwriter w = {0};
  size_t root = w_alloc(&w, 8, 4), pos[3] = {0, 0, 0};
  if (!w.oom) memcpy(w.b + 4, "M001", 4);
  size_t mm = w_table(&w, (const unsigned[]){0, F_ModelMetadata_subgraph_metadata, 7}, 3, -1, 0, pos);
  w_patch(&w, root, mm);
  size_t mm_name = pos[0], mm_sg = pos[1], mm_ver = pos[2];
  w_patch(&w, mm_name, w_string(&w, "etpu"));
  size_t sgv = w_offsets(&w, 1);
  w_patch(&w, mm_sg, sgv);
  size_t sg = w_table(&w, (const unsigned[]){F_SubGraphMetadata_input_tensor_metadata}, 1, -1, 0, pos);
  w_patch(&w, sgv + 4, sg);
  size_t inv = w_offsets(&w, ninputs);
  w_patch(&w, pos[0], inv);
  for (uint32_t i = 0; i < ninputs && !w.oom; i++) {
    bool has = count[i] > 0;
    size_t tm = w_table(&w, (const unsigned[]){F_TensorMetadata_process_units}, has ? 1 : 0, -1, 0, pos);
    w_patch(&w, inv + 4 + 4 * (size_t)i, tm);
    if (!has) continue;
    size_t puv = w_offsets(&w, 1);
    w_patch(&w, pos[0], puv);
    size_t pu = w_table(&w, (const unsigned[]){F_ProcessUnit_options}, 1, F_ProcessUnit_options_type,
                        U_ProcessUnitOptions_NormalizationOptions, pos);
    w_patch(&w, puv + 4, pu);
    size_t pu_options = pos[0];
    size_t no = w_table(&w, (const unsigned[]){F_NormalizationOptions_mean, F_NormalizationOptions_std}, 2, -1, 0,
                        pos);
    w_patch(&w, pu_options, no);
    size_t pm = pos[0], ps = pos[1];
    w_patch(&w, pm, w_floats(&w, mean[i], count[i]));
    w_patch(&w, ps, w_floats(&w, std[i], count[i]));
  }
  w_patch(&w, mm_ver, w_string(&w, "1.0.0"));
  if (w.oom) {
    etpu_free(w.b);
    return etpu_fail(ETPU_OUT_OF_MEMORY, ETPU_TFLITE_METADATA_NAME ": out of memory");
  }
  *data_out = w.b;
  *size_out = w.n;
  return ETPU_OK;
}
