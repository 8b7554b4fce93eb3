/*
 * package.c — reading Google's Edge TPU package (etpu.h, "Google's Edge TPU
 * package"; EDGETPU.md §20): the custom options of an edgetpu-custom-op
 * written by edgetpu_compiler.
 *
 * Layers, outermost first:
 *   FlexBuffers map   "1" version, "4" the Package (a string), "5" execution
 *                     preference, "6" chip ids, "7" further packages; the
 *                     1.0-era map has "4" a bare Executable and "3" a
 *                     parameter-caching Executable instead
 *   Package           FlatBuffer with identifier "DWN1" (libedgetpu's
 *                     executable.fbs, namespace platforms.darwinn)
 *   MultiExecutable   FlatBuffer nested in Package.serialized_multi_executable
 *   Executable        FlatBuffers nested in its serialized_executables strings
 *
 * Field ids (declaration order; a union takes two ids, its type first):
 *   Package          0 min_runtime_version i32, 1 serialized_multi_executable [u8],
 *                    2 signature [u8], 3 keypair_version i32, 4 compiler_version str,
 *                    5 virtual_chip_id i32, 6 multi_chip_package [SerializedPackage],
 *                    7 model_identifier str
 *   MultiExecutable  0 serialized_executables [str]
 *   Executable       0 version i32, 1 name str, 2 serialized_model [u8], 3 batch_size,
 *                    4 scratch_size_bytes, 5 instruction_bitstreams [InstructionBitstream],
 *                    6 parameters [u8], 7 dma_hints DmaHints, 8 input_layers [Layer],
 *                    9 output_layers [Layer], 10 chip str, 11 estimated_cycles i32,
 *                    12 used_narrow_memory_bytes_per_tile i32, 13 type i16,
 *                    14 parameter_caching_token u64, 15 use_tpu_dram_for_parameters bool,
 *                    16 estimated_cycles_64bit i64
 *   InstructionBitstream 0 bitstream [u8], 1 field_offsets [FieldOffset]
 *   DmaHints         0 hints [DmaHint], 1 fully_deterministic bool
 *   DmaHint          0 any_hint type u8, 1 any_hint, 2 direction i16; members
 *                    1 DmaDescriptorHint (0 meta Meta, 1 offset i32, 2 size i32),
 *                    2 InstructionHint (0 chunk index i32), 3 InterruptHint (0 type i16),
 *                    4 FenceHint; Meta: 0 desc i16, 1 batch, 2 name, 3 position
 *   Layer            0 name, 1 size_bytes, 2 y_dim, 3 x_dim, 4 z_dim,
 *                    5 numerics (0 zero_point i32, 1 dequantization_factor f32),
 *                    6 data_type i16, 7 any_layer type u8 (1 OutputLayer, 2 InputLayer),
 *                    8 any_layer, 9 execution_count_per_inference (default 1),
 *                    10 cache_on_dram bool, 11 shape (0 dimension [struct Range {i32 start, end}])
 *
 * Verification, before anything is returned: every offset and length lies
 * in its own buffer (each nested FlatBuffer is checked as a buffer of its
 * own, with offsets relative to its start), vtables are even-sized and in
 * bounds, a field lies inside its table, strings end with NUL, counts are
 * checked against the bytes that would hold them, union types are known,
 * and the total work is bounded by a budget proportional to the input size.
 * Nesting is fixed by the schema (multi-chip packages are counted, not
 * entered), so no recursion depends on the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "etpu/etpu.h"
#include "model/flexbuffers.h"

/* Reading state: labels for messages, the output's arena, a work budget. */
typedef struct pkg_ctx {
  const char *label;
  etpu_arena *arena;
  uint64_t budget;
  bool legacy; /* reading 1.0-era bare Executables (their Layer has no data_type, see read_layer) */
} pkg_ctx;

/* A FlatBuffer (the Package, the MultiExecutable, or one Executable). */
typedef struct fbuf {
  const uint8_t *b;
  size_t n;
  const char *what; /* "Package", "Executable 1", ... */
} fbuf;

/* A verified table. */
typedef struct ftab {
  const fbuf *f;
  size_t pos;    /* table start */
  size_t vt;     /* vtable start */
  size_t vtsize; /* vtable bytes */
  size_t tsize;  /* table inline bytes */
  const char *name;
} ftab;

static etpu_status bad(pkg_ctx *c, const fbuf *f, const char *fmt, ...) ETPU_PRINTF(3, 4);
static etpu_status bad(pkg_ctx *c, const fbuf *f, const char *fmt, ...) {
  char rule[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(rule, sizeof rule, fmt, ap);
  va_end(ap);
  return etpu_fail(ETPU_MALFORMED, "%s: Edge TPU package: %s: %s", c->label, f ? f->what : "custom options", rule);
}

static etpu_status spend(pkg_ctx *c, const fbuf *f, uint64_t units) {
  if (units > c->budget) return bad(c, f, "too much work for the input's size (shared or repeated objects)");
  c->budget -= units;
  return ETPU_OK;
}

static etpu_status table_at(pkg_ctx *c, const fbuf *f, size_t pos, const char *name, ftab *t) {
  memset(t, 0, sizeof *t);
  if (pos > f->n || f->n - pos < 4) return bad(c, f, "table %s at %zu outside the %zu-byte buffer", name, pos, f->n);
  const int64_t vt = (int64_t)pos - (int32_t)etpu_rd32(f->b + pos);
  if (vt < 0 || (uint64_t)vt > f->n - 4) return bad(c, f, "table %s at %zu: vtable outside the buffer", name, pos);
  t->vt = (size_t)vt;
  t->vtsize = etpu_rd16(f->b + t->vt);
  t->tsize = etpu_rd16(f->b + t->vt + 2);
  if (t->vtsize < 4 || (t->vtsize & 1) || t->vtsize > f->n - t->vt)
    return bad(c, f, "table %s at %zu: vtable of %zu bytes is odd, short or outside the buffer", name, pos, t->vtsize);
  if (t->tsize < 4 || t->tsize > f->n - pos)
    return bad(c, f, "table %s at %zu: %zu inline bytes run past the buffer", name, pos, t->tsize);
  t->f = f;
  t->pos = pos;
  t->name = name;
  return spend(c, f, 1);
}

/* The position of field `id` (size bytes), or 0 when absent. */
static etpu_status field(pkg_ctx *c, const ftab *t, unsigned id, size_t size, size_t *at) {
  *at = 0;
  const size_t slot = 4 + 2 * (size_t)id;
  if (slot + 2 > t->vtsize) return ETPU_OK;
  const size_t off = etpu_rd16(t->f->b + t->vt + slot);
  if (!off) return ETPU_OK;
  if (off < 4 || size > t->tsize || off > t->tsize - size)
    return bad(c, t->f, "table %s at %zu: field %u (%zu bytes at +%zu) outside its %zu-byte table", t->name, t->pos,
               id, size, off, t->tsize);
  *at = t->pos + off;
  return ETPU_OK;
}

static etpu_status get_u64(pkg_ctx *c, const ftab *t, unsigned id, size_t size, uint64_t def, uint64_t *v) {
  size_t at;
  etpu_status st = field(c, t, id, size, &at);
  if (st) return st;
  if (!at) {
    *v = def;
  } else if (size == 1) {
    *v = t->f->b[at];
  } else if (size == 2) {
    *v = etpu_rd16(t->f->b + at);
  } else if (size == 4) {
    *v = etpu_rd32(t->f->b + at);
  } else {
    *v = etpu_rd64(t->f->b + at);
  }
  return ETPU_OK;
}

static etpu_status get_i32(pkg_ctx *c, const ftab *t, unsigned id, int32_t def, int32_t *v) {
  uint64_t u;
  etpu_status st = get_u64(c, t, id, 4, (uint32_t)def, &u);
  if (!st) *v = (int32_t)(uint32_t)u;
  return st;
}

static etpu_status get_i16(pkg_ctx *c, const ftab *t, unsigned id, int32_t *v) {
  uint64_t u;
  etpu_status st = get_u64(c, t, id, 2, 0, &u);
  if (!st) *v = (int16_t)(uint16_t)u;
  return st;
}

static etpu_status get_bool(pkg_ctx *c, const ftab *t, unsigned id, bool *v) {
  uint64_t u;
  etpu_status st = get_u64(c, t, id, 1, 0, &u);
  if (!st) *v = u != 0;
  return st;
}

/* Follow the uoffset of field `id`: *target = 0 when absent. */
static etpu_status get_ref(pkg_ctx *c, const ftab *t, unsigned id, size_t *target) {
  size_t at;
  *target = 0;
  etpu_status st = field(c, t, id, 4, &at);
  if (st || !at) return st;
  const uint64_t to = (uint64_t)at + etpu_rd32(t->f->b + at);
  if (to > t->f->n - 4) return bad(c, t->f, "table %s: field %u points outside the buffer", t->name, id);
  *target = (size_t)to;
  return ETPU_OK;
}

/* A vector of `elem`-byte elements: data and count (NULL, 0 when absent). */
static etpu_status get_vector(pkg_ctx *c, const ftab *t, unsigned id, size_t elem, const uint8_t **data,
                              uint32_t *count) {
  size_t at;
  *data = NULL;
  *count = 0;
  etpu_status st = get_ref(c, t, id, &at);
  if (st || !at) return st;
  const uint32_t n = etpu_rd32(t->f->b + at);
  if ((uint64_t)n * elem > t->f->n - at - 4)
    return bad(c, t->f, "table %s: field %u claims %u elements of %zu bytes, more than the buffer holds", t->name, id,
               n, elem);
  *data = t->f->b + at + 4;
  *count = n;
  return ETPU_OK;
}

/* A string ("" when absent), NUL-terminated inside the buffer. */
static etpu_status get_string(pkg_ctx *c, const ftab *t, unsigned id, const char **s) {
  const uint8_t *d;
  uint32_t n;
  *s = "";
  etpu_status st = get_vector(c, t, id, 1, &d, &n);
  if (st || !d) return st;
  if ((size_t)(d - t->f->b) + n >= t->f->n || d[n] != 0)
    return bad(c, t->f, "table %s: string field %u is not NUL-terminated", t->name, id);
  *s = (const char *)d;
  return ETPU_OK;
}

static etpu_status get_table(pkg_ctx *c, const ftab *t, unsigned id, const char *name, ftab *sub, bool *present) {
  size_t at;
  *present = false;
  etpu_status st = get_ref(c, t, id, &at);
  if (st || !at) return st;
  *present = true;
  return table_at(c, t->f, at, name, sub);
}

/* Element i of a vector of tables (data, count from get_vector with elem 4). */
static etpu_status vector_table(pkg_ctx *c, const fbuf *f, const uint8_t *data, uint32_t i, const char *name,
                                ftab *sub) {
  const size_t slot = (size_t)(data - f->b) + 4 * (size_t)i;
  const uint64_t to = (uint64_t)slot + etpu_rd32(f->b + slot);
  if (to > f->n - 4) return bad(c, f, "%s %u points outside the buffer", name, i);
  return table_at(c, f, (size_t)to, name, sub);
}

/* The root table of a FlatBuffer, checking the identifier when given. */
static etpu_status root_table(pkg_ctx *c, const fbuf *f, const char *ident, const char *name, ftab *t) {
  if (f->n < 8) return bad(c, f, "%zu bytes, too short for a FlatBuffer", f->n);
  if (ident && memcmp(f->b + 4, ident, 4))
    return bad(c, f, "file identifier is not \"%s\"", ident);
  return table_at(c, f, etpu_rd32(f->b), name, t);
}

/* ---- Executable ----------------------------------------------------------- */

/* A Layer. The 1.0-era executables (legacy layout) predate Layer.data_type:
 * their vtables put the AnyLayer union at ids 6-7 (seen on the shared
 * mobilenet_quant_v1_224_feature_layers-custom_op.tflite, whose ids 6 and 7
 * hold a one-byte type and a table offset) and the data type in
 * OutputLayer.data_type (id 1). That the later fields shift down by one
 * there too is inferred, not seen (no such file sets them). */
static etpu_status read_layer(pkg_ctx *c, const ftab *t, etpu_pkg_layer *l) {
  etpu_status st;
  const unsigned shift = c->legacy ? 1 : 0; /* ids from the union on */
  if ((st = get_string(c, t, 0, &l->name)) || (st = get_i32(c, t, 1, 0, &l->size_bytes)) ||
      (st = get_i32(c, t, 2, 0, &l->y_dim)) || (st = get_i32(c, t, 3, 0, &l->x_dim)) ||
      (st = get_i32(c, t, 4, 0, &l->z_dim)) || (!c->legacy && (st = get_i16(c, t, 6, &l->data_type))) ||
      (st = get_i32(c, t, 9 - shift, 1, &l->execution_count)) || (st = get_bool(c, t, 10 - shift, &l->cache_on_dram)))
    return st;
  ftab sub;
  bool has;
  if ((st = get_table(c, t, 5, "NumericsConstants", &sub, &has))) return st;
  if (has) {
    uint64_t bits;
    l->has_numerics = true;
    if ((st = get_i32(c, &sub, 0, 0, &l->zero_point)) || (st = get_u64(c, &sub, 1, 4, 0, &bits))) return st;
    const uint32_t b32 = (uint32_t)bits;
    memcpy(&l->scale, &b32, 4);
  }
  uint64_t utype;
  if ((st = get_u64(c, t, 7 - shift, 1, 0, &utype))) return st;
  if (utype > 2) return bad(c, t->f, "layer '%s': unknown AnyLayer type %u", l->name, (unsigned)utype);
  if ((st = get_table(c, t, 8 - shift, "AnyLayer", &sub, &has))) return st;
  if (has != (utype != 0)) return bad(c, t->f, "layer '%s': AnyLayer type and value disagree", l->name);
  l->is_output = utype == 1;
  if (c->legacy && l->is_output && (st = get_i16(c, &sub, 1, &l->data_type))) return st;
  if ((st = get_table(c, t, 11 - shift, "TensorShape", &sub, &has))) return st;
  if (has) {
    const uint8_t *d;
    uint32_t n;
    if ((st = get_vector(c, &sub, 0, 8, &d, &n)) || (st = spend(c, t->f, n))) return st;
    int32_t *s = etpu_arena_array(c->arena, n ? n : 1, sizeof *s);
    int32_t *e = etpu_arena_array(c->arena, n ? n : 1, sizeof *e);
    if (!s || !e) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
    for (uint32_t k = 0; k < n; k++) {
      s[k] = (int32_t)etpu_rd32(d + 8 * (size_t)k);
      e[k] = (int32_t)etpu_rd32(d + 8 * (size_t)k + 4);
    }
    l->rank = n;
    l->dim_start = s;
    l->dim_end = e;
  }
  return ETPU_OK;
}

static etpu_status read_layers(pkg_ctx *c, const ftab *t, unsigned id, const etpu_pkg_layer **out, uint32_t *count) {
  const uint8_t *d;
  uint32_t n;
  etpu_status st = get_vector(c, t, id, 4, &d, &n);
  if (st || (st = spend(c, t->f, n))) return st;
  etpu_pkg_layer *l = etpu_arena_array(c->arena, n ? n : 1, sizeof *l);
  if (!l) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
  for (uint32_t i = 0; i < n; i++) {
    ftab lt;
    if ((st = vector_table(c, t->f, d, i, "Layer", &lt)) || (st = read_layer(c, &lt, &l[i]))) return st;
  }
  *out = l;
  *count = n;
  return ETPU_OK;
}

static etpu_status read_dma_hints(pkg_ctx *c, const ftab *t, etpu_pkg_executable *e) {
  ftab hs;
  bool has;
  etpu_status st = get_table(c, t, 7, "DmaHints", &hs, &has);
  if (st || !has) return st;
  const uint8_t *d;
  uint32_t n;
  if ((st = get_vector(c, &hs, 0, 4, &d, &n)) || (st = get_bool(c, &hs, 1, &e->dma_fully_deterministic)) ||
      (st = spend(c, t->f, n)))
    return st;
  etpu_pkg_dma_hint *h = etpu_arena_array(c->arena, n ? n : 1, sizeof *h);
  if (!h) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
  for (uint32_t i = 0; i < n; i++) {
    ftab ht, any;
    uint64_t kind;
    if ((st = vector_table(c, t->f, d, i, "DmaHint", &ht)) || (st = get_u64(c, &ht, 0, 1, 0, &kind)) ||
        (st = get_i16(c, &ht, 2, &h[i].direction)) || (st = get_table(c, &ht, 1, "AnyHint", &any, &has)))
      return st;
    if (kind < 1 || kind > 4 || !has)
      return bad(c, t->f, "DMA hint %u: AnyHint type %u unknown or its value missing", i, (unsigned)kind);
    h[i].kind = (int32_t)kind;
    if (kind == 1) {
      ftab meta;
      if ((st = get_i32(c, &any, 1, 0, &h[i].offset_in_bytes)) || (st = get_i32(c, &any, 2, 0, &h[i].size_in_bytes)) ||
          (st = get_table(c, &any, 0, "Meta", &meta, &has)))
        return st;
      if (has && (st = get_i16(c, &meta, 0, &h[i].desc))) return st;
    } else if (kind == 2) {
      if ((st = get_i32(c, &any, 0, 0, &h[i].value))) return st;
    } else if (kind == 3) {
      if ((st = get_i16(c, &any, 0, &h[i].value))) return st;
    }
  }
  e->dma_hints = h;
  e->dma_hint_count = n;
  return ETPU_OK;
}

static etpu_status read_executable(pkg_ctx *c, const fbuf *f, etpu_pkg_executable *e) {
  ftab t;
  etpu_status st = root_table(c, f, NULL, "Executable", &t);
  if (st) return st;
  uint64_t token, cycles64;
  const uint8_t *d;
  uint32_t n;
  if ((st = get_i32(c, &t, 0, 0, &e->version)) || (st = get_string(c, &t, 1, &e->name)) ||
      (st = get_i32(c, &t, 3, 0, &e->batch_size)) || (st = get_i32(c, &t, 4, 0, &e->scratch_size_bytes)) ||
      (st = get_string(c, &t, 10, &e->chip)) || (st = get_i32(c, &t, 11, 0, &e->estimated_cycles)) ||
      (st = get_i32(c, &t, 12, 0, &e->used_narrow_memory_bytes_per_tile)) || (st = get_i16(c, &t, 13, &e->type)) ||
      (st = get_u64(c, &t, 14, 8, 0, &token)) || (st = get_bool(c, &t, 15, &e->use_tpu_dram_for_parameters)) ||
      (st = get_u64(c, &t, 16, 8, 0, &cycles64)))
    return st;
  e->parameter_caching_token = token;
  e->estimated_cycles_64bit = (int64_t)cycles64;
  if (e->type < 0 || e->type > 2) return bad(c, f, "executable type %d is not one the schema knows", e->type);
  if ((st = get_vector(c, &t, 2, 1, &d, &n))) return st;
  e->serialized_model_size = n;
  if ((st = get_vector(c, &t, 6, 1, &e->parameters, &n))) return st;
  e->parameters_size = n;
  /* Instruction bitstreams: sizes and relocation counts. */
  if ((st = get_vector(c, &t, 5, 4, &d, &n)) || (st = spend(c, f, n))) return st;
  size_t *sizes = etpu_arena_array(c->arena, n ? n : 1, sizeof *sizes);
  uint32_t *fo = etpu_arena_array(c->arena, n ? n : 1, sizeof *fo);
  if (!sizes || !fo) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
  for (uint32_t i = 0; i < n; i++) {
    ftab bt;
    const uint8_t *bd;
    uint32_t bn, fn;
    if ((st = vector_table(c, f, d, i, "InstructionBitstream", &bt)) || (st = get_vector(c, &bt, 0, 1, &bd, &bn)) ||
        (st = get_vector(c, &bt, 1, 4, &bd, &fn)))
      return st;
    sizes[i] = bn;
    fo[i] = fn;
    e->instruction_bytes += bn;
  }
  e->bitstream_count = n;
  e->bitstream_sizes = sizes;
  e->field_offset_counts = fo;
  if ((st = read_dma_hints(c, &t, e)) || (st = read_layers(c, &t, 8, &e->inputs, &e->input_count)) ||
      (st = read_layers(c, &t, 9, &e->outputs, &e->output_count)))
    return st;
  return ETPU_OK;
}

/* ---- Package and the custom options --------------------------------------- */

static etpu_status read_package(pkg_ctx *c, const fbuf *f, etpu_package *p) {
  ftab t;
  etpu_status st = root_table(c, f, "DWN1", "Package", &t);
  if (st) return st;
  const uint8_t *d;
  uint32_t n;
  if ((st = get_i32(c, &t, 0, 0, &p->min_runtime_version)) || (st = get_i32(c, &t, 3, 0, &p->keypair_version)) ||
      (st = get_string(c, &t, 4, &p->compiler_version)) || (st = get_i32(c, &t, 5, 0, &p->virtual_chip_id)) ||
      (st = get_string(c, &t, 7, &p->model_identifier)) || (st = get_vector(c, &t, 2, 1, &d, &n)))
    return st;
  p->signature_size = n;
  if ((st = get_vector(c, &t, 6, 4, &d, &n))) return st;
  p->multi_chip_package_count = n;
  for (uint32_t i = 0; i < n; i++) { /* verified as tables; their nested packages are not entered */
    ftab sp;
    const uint8_t *bytes;
    uint32_t len;
    if ((st = vector_table(c, f, d, i, "SerializedPackage", &sp)) || (st = get_vector(c, &sp, 0, 1, &bytes, &len)))
      return st;
  }
  if ((st = get_vector(c, &t, 1, 1, &d, &n))) return st;
  if (!d) return bad(c, f, "no serialized_multi_executable");
  fbuf mf = {d, n, "MultiExecutable"};
  ftab mt;
  if ((st = root_table(c, &mf, NULL, "MultiExecutable", &mt)) || (st = get_vector(c, &mt, 0, 4, &d, &n))) return st;
  if (!n) return bad(c, &mf, "no executables");
  if ((st = spend(c, &mf, n))) return st;
  etpu_pkg_executable *ex = etpu_arena_array(c->arena, n, sizeof *ex);
  char(*names)[32] = etpu_arena_array(c->arena, n, 32);
  if (!ex || !names) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
  for (uint32_t i = 0; i < n; i++) {
    const size_t slot = (size_t)(d - mf.b) + 4 * (size_t)i;
    const uint64_t to = (uint64_t)slot + etpu_rd32(mf.b + slot);
    if (to > mf.n - 4) return bad(c, &mf, "executable %u points outside the buffer", i);
    const uint32_t len = etpu_rd32(mf.b + to);
    if (len > mf.n - to - 4) return bad(c, &mf, "executable %u: %u bytes run past the buffer", i, len);
    snprintf(names[i], 32, "Executable %u", i);
    fbuf ef = {mf.b + to + 4, len, names[i]};
    if ((st = read_executable(c, &ef, &ex[i]))) return st;
  }
  p->executables = ex;
  p->executable_count = n;
  return ETPU_OK;
}

/* The bytes of a string or blob value of the custom options (NULL when absent). */
static etpu_status flex_bytes(pkg_ctx *c, const uint8_t *b, size_t size, const char *key, const uint8_t **d,
                              size_t *n) {
  etpu_flex_ref r;
  *d = NULL;
  *n = 0;
  if (!etpu_flex_map_find(b, size, key, &r)) return bad(c, NULL, "not a well-formed FlexBuffers map");
  if (r.type == ETPU_FLEX_NULL) return ETPU_OK;
  if (!etpu_flex_bytes(b, size, &r, d, n)) return bad(c, NULL, "key \"%s\" is not a well-formed string or blob", key);
  return ETPU_OK;
}

static etpu_status read_options(pkg_ctx *c, const uint8_t *b, size_t size, etpu_package *p) {
  if (size >= 8 && !memcmp(b, "ETPUSIM1", 8))
    return etpu_fail(ETPU_UNSUPPORTED, "%s: the edgetpu-custom-op holds etpu's own payload (written by etpu compile), "
                                       "not Google's package", c->label);
  etpu_flex_ref r;
  int64_t v;
  if (!etpu_flex_map_find(b, size, "1", &r)) return bad(c, NULL, "not a well-formed FlexBuffers map");
  if (r.type != ETPU_FLEX_NULL && !etpu_flex_int(b, size, &r, &p->options_version))
    return bad(c, NULL, "key \"1\" (version) is not an integer");
  if (!etpu_flex_map_find(b, size, "5", &r)) return bad(c, NULL, "not a well-formed FlexBuffers map");
  if (r.type != ETPU_FLEX_NULL) {
    if (!etpu_flex_int(b, size, &r, &p->execution_preference))
      return bad(c, NULL, "key \"5\" (execution preference) is not an integer");
    p->has_execution_preference = true;
  }
  size_t count;
  if (!etpu_flex_map_find(b, size, "6", &r)) return bad(c, NULL, "not a well-formed FlexBuffers map");
  if (r.type != ETPU_FLEX_NULL) {
    if (!etpu_flex_vector_count(b, size, &r, &count)) return bad(c, NULL, "key \"6\" (chip ids) is not a vector");
    etpu_status st = spend(c, NULL, count);
    if (st) return st;
    int64_t *ids = etpu_arena_array(c->arena, count ? count : 1, sizeof *ids);
    if (!ids) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
    for (size_t i = 0; i < count; i++) {
      etpu_flex_ref er;
      if (!etpu_flex_vector_at(b, size, &r, i, &er) || !etpu_flex_int(b, size, &er, &v))
        return bad(c, NULL, "key \"6\" (chip ids): element %zu is not an integer", i);
      ids[i] = v;
    }
    p->chip_ids = ids;
    p->chip_id_count = (uint32_t)count;
  }
  if (!etpu_flex_map_find(b, size, "7", &r)) return bad(c, NULL, "not a well-formed FlexBuffers map");
  if (r.type != ETPU_FLEX_NULL) {
    if (!etpu_flex_vector_count(b, size, &r, &count)) return bad(c, NULL, "key \"7\" (further packages) is not a vector");
    p->extra_count = (uint32_t)count;
    if (p->chip_id_count && p->chip_id_count != count + 1)
      return bad(c, NULL, "%u chip ids for %zu packages (key \"6\" must have one more entry than key \"7\")",
                 p->chip_id_count, count + 1);
  }
  const uint8_t *d, *d3;
  size_t n, n3;
  etpu_status st;
  if ((st = flex_bytes(c, b, size, "4", &d, &n)) || (st = flex_bytes(c, b, size, "3", &d3, &n3))) return st;
  if (!d) return bad(c, NULL, "no key \"4\" (the package)");
  if (n >= 8 && !memcmp(d + 4, "DWN1", 4)) {
    fbuf f = {d, n, "Package"};
    return read_package(c, &f, p);
  }
  /* The 1.0-era layout: "4" a bare Executable, "3" (optional) the
   * parameter-caching one. */
  p->legacy = c->legacy = true;
  p->compiler_version = p->model_identifier = "";
  p->executable_count = d3 ? 2 : 1;
  etpu_pkg_executable *ex = etpu_arena_array(c->arena, p->executable_count, sizeof *ex);
  if (!ex) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: Edge TPU package: out of memory", c->label);
  fbuf f3 = {d3, n3, "legacy parameter-caching Executable (key \"3\")"}, f4 = {d, n, "legacy Executable (key \"4\")"};
  if (d3 && (st = read_executable(c, &f3, &ex[0]))) return st;
  if ((st = read_executable(c, &f4, &ex[d3 ? 1 : 0]))) return st;
  /* Those executables carry no type and no chip (seen on the shared
   * mobilenet_quant_v1_224_feature_layers-custom_op.tflite): the key says
   * the type ("3" parameter caching, "4" the one run per inference), and
   * key "2" names the chip. */
  if (d3 && ex[0].type == ETPU_PKG_STAND_ALONE && ex[1].type == ETPU_PKG_STAND_ALONE) {
    ex[0].type = ETPU_PKG_PARAMETER_CACHING;
    ex[1].type = ETPU_PKG_EXECUTION_ONLY;
  }
  const uint8_t *chip;
  size_t chip_len;
  if (!etpu_flex_map_find(b, size, "2", &r)) return bad(c, NULL, "not a well-formed FlexBuffers map");
  if (r.type == ETPU_FLEX_STRING && etpu_flex_bytes(b, size, &r, &chip, &chip_len))
    for (uint32_t i = 0; i < p->executable_count; i++)
      if (!ex[i].chip[0]) ex[i].chip = (const char *)chip;
  p->executables = ex;
  return ETPU_OK;
}

struct etpu_package_owner {
  etpu_package pub; /* first: the public pointer is this struct's address */
  etpu_arena arena;
};

etpu_status etpu_package_read(const void *custom_options, size_t size, const char *label, etpu_package **package_out) {
  if (!package_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_package_read: package_out is NULL");
  if (!custom_options && size) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_package_read: no bytes");
  struct etpu_package_owner *o = etpu_calloc(1, sizeof *o);
  if (!o) return etpu_fail(ETPU_OUT_OF_MEMORY, "etpu_package_read: out of memory");
  etpu_arena_init(&o->arena);
  pkg_ctx c = {label ? label : "<buffer>", &o->arena, 64 + 2 * (uint64_t)size, false};
  etpu_status st;
  if (!size) {
    st = bad(&c, NULL, "empty");
  } else {
    st = read_options(&c, custom_options, size, &o->pub);
  }
  if (st) {
    etpu_arena_free(&o->arena);
    etpu_free(o);
    return st;
  }
  if (!o->pub.compiler_version) o->pub.compiler_version = "";
  if (!o->pub.model_identifier) o->pub.model_identifier = "";
  *package_out = &o->pub;
  return ETPU_OK;
}

void etpu_package_free(etpu_package *package) {
  if (!package) return;
  struct etpu_package_owner *o = (struct etpu_package_owner *)package;
  etpu_arena_free(&o->arena);
  etpu_free(o);
}

etpu_status etpu_model_package(const etpu_model *model, uint32_t subgraph, uint32_t op, etpu_package **package_out) {
  etpu_op_info info;
  etpu_status st = etpu_model_op(model, subgraph, op, &info);
  if (st) return st;
  char label[512];
  snprintf(label, sizeof label, "%s: op %u", etpu_model_label(model), op);
  if (info.code != ETPU_OP_CUSTOM || strcmp(info.name, "edgetpu-custom-op"))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s (%s) is not an edgetpu-custom-op", label, info.name);
  return etpu_package_read(info.custom_options, info.custom_options_size, label, package_out);
}

uint64_t etpu_package_parameter_bytes(const etpu_package *package, etpu_pkg_exe_type type) {
  uint64_t sum = 0;
  for (uint32_t i = 0; package && i < package->executable_count; i++) {
    const int32_t t = package->executables[i].type;
    if (t == (int32_t)type || (type == ETPU_PKG_EXECUTION_ONLY && t == ETPU_PKG_STAND_ALONE))
      sum += package->executables[i].parameters_size;
  }
  return sum;
}

int64_t etpu_package_estimated_cycles(const etpu_package *package) {
  int64_t best = 0;
  for (uint32_t i = 0; package && i < package->executable_count; i++) {
    const etpu_pkg_executable *e = &package->executables[i];
    if (e->type == ETPU_PKG_PARAMETER_CACHING) continue;
    const int64_t cy = e->estimated_cycles_64bit ? e->estimated_cycles_64bit : e->estimated_cycles;
    if (cy > best) best = cy;
  }
  return best;
}

const char *etpu_pkg_exe_type_name(int32_t type) {
  switch (type) {
    case ETPU_PKG_STAND_ALONE: return "STAND_ALONE";
    case ETPU_PKG_PARAMETER_CACHING: return "PARAMETER_CACHING";
    case ETPU_PKG_EXECUTION_ONLY: return "EXECUTION_ONLY";
    default: return "UNKNOWN";
  }
}

const char *etpu_pkg_dtype_name(int32_t data_type) {
  static const char *const names[] = {"FIXED_POINT8", "FIXED_POINT16", "SIGNED_FIXED_POINT32", "BFLOAT", "HALF",
                                      "SINGLE",       NULL,            NULL,                   "SIGNED_FIXED_POINT8",
                                      "SIGNED_FIXED_POINT16"};
  if (data_type < 0 || data_type > 9 || !names[data_type]) return "UNKNOWN";
  return names[data_type];
}

char *etpu_format_bytes(uint64_t bytes, char *buf, size_t cap) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    u++;
  }
  if (buf && cap) snprintf(buf, cap, "%.2f%s", v, units[u]);
  return buf;
}
