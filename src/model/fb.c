/*
 * fb.c — verify, decode and encode FlatBuffers by walking the generated
 * schema descriptors (see fb.h for the wire format and the rules).
 *
 * The decoder is also the verifier: it checks each object before it reads it
 * and the caller gets a tree only when every object reachable from the root
 * has passed. The encoder writes front to back: vtable, table, then the
 * table's children, patching each child's uoffset (which therefore always
 * points forward, as the format requires).
 */
#include "model/fb.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "model/schema_gen.h"

/* ---- descriptors -------------------------------------------------------- */

size_t etpu_fb_scalar_size(uint8_t kind) {
  switch (kind) {
    case ETPU_FB_BOOL:
    case ETPU_FB_I8:
    case ETPU_FB_U8:
    case ETPU_FB_UNION_TYPE:
      return 1;
    case ETPU_FB_I16:
    case ETPU_FB_U16:
      return 2;
    case ETPU_FB_I32:
    case ETPU_FB_U32:
    case ETPU_FB_F32:
      return 4;
    case ETPU_FB_I64:
    case ETPU_FB_U64:
    case ETPU_FB_F64:
      return 8;
    default:
      return 0;
  }
}

static bool kind_is_offset(uint8_t k) {
  return k == ETPU_FB_STRING || k == ETPU_FB_TABLE || k == ETPU_FB_UNION || k == ETPU_FB_VECTOR;
}

const struct etpu_fb_fdesc *etpu_fb_field_desc(uint16_t table, uint16_t id) {
  if (table >= ETPU_T__COUNT) return NULL;
  const struct etpu_fb_tdesc *td = &etpu_fb_tables[table];
  /* Fields are generated in id order, one entry per id. */
  if (id < td->nfields && td->fields[id].id == id) return &td->fields[id];
  for (uint16_t i = 0; i < td->nfields; i++)
    if (td->fields[i].id == id) return &td->fields[i];
  return NULL;
}

const struct etpu_fb_fdesc *etpu_fb_field_by_name(uint16_t table, const char *name) {
  if (table >= ETPU_T__COUNT || !name) return NULL;
  const struct etpu_fb_tdesc *td = &etpu_fb_tables[table];
  for (uint16_t i = 0; i < td->nfields; i++)
    if (strcmp(td->fields[i].name, name) == 0) return &td->fields[i];
  return NULL;
}

const char *etpu_fb_enum_name(int16_t enum_ref, int64_t value) {
  if (enum_ref < 0 || enum_ref >= ETPU_E__COUNT) return NULL;
  const struct etpu_fb_edesc *e = &etpu_fb_enums[enum_ref];
  for (uint16_t i = 0; i < e->count; i++)
    if (e->values[i] == value) return e->names[i];
  return NULL;
}

/* ---- tree helpers ------------------------------------------------------- */

etpu_fbt *etpu_fbt_new(etpu_arena *a, uint16_t desc) {
  etpu_fbt *t = etpu_arena_alloc(a, sizeof *t);
  if (t) t->desc = desc;
  return t;
}

const etpu_fbv *etpu_fbt_get(const etpu_fbt *t, uint16_t id) {
  if (!t) return NULL;
  for (uint16_t i = 0; i < t->n; i++)
    if (t->f[i].id == id) return &t->f[i];
  return NULL;
}

int64_t etpu_fbt_int(const etpu_fbt *t, uint16_t id) {
  const etpu_fbv *v = etpu_fbt_get(t, id);
  if (v) return v->kind == ETPU_FB_U64 ? (int64_t)v->v.u : v->v.i;
  const struct etpu_fb_fdesc *fd = t ? etpu_fb_field_desc(t->desc, id) : NULL;
  return fd ? fd->def_int : 0;
}

double etpu_fbt_float(const etpu_fbt *t, uint16_t id) {
  const etpu_fbv *v = etpu_fbt_get(t, id);
  if (v) return v->v.f;
  const struct etpu_fb_fdesc *fd = t ? etpu_fb_field_desc(t->desc, id) : NULL;
  return fd ? fd->def_float : 0.0;
}

etpu_status etpu_fbt_put(etpu_arena *a, etpu_fbt *t, const etpu_fbv *v) {
  uint16_t pos = 0;
  while (pos < t->n && t->f[pos].id < v->id) pos++;
  if (pos < t->n && t->f[pos].id == v->id) {
    t->f[pos] = *v;
    return ETPU_OK;
  }
  if (t->n == t->cap) {
    uint16_t ncap = t->cap ? (uint16_t)(t->cap * 2) : 4;
    etpu_fbv *nf = etpu_arena_array(a, ncap, sizeof *nf);
    if (!nf) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
    if (t->n) memcpy(nf, t->f, t->n * sizeof *nf);
    t->f = nf;
    t->cap = ncap;
  }
  memmove(&t->f[pos + 1], &t->f[pos], (size_t)(t->n - pos) * sizeof *t->f);
  t->f[pos] = *v;
  t->n++;
  return ETPU_OK;
}

etpu_status etpu_fbt_put_int(etpu_arena *a, etpu_fbt *t, uint16_t id, int64_t value) {
  const struct etpu_fb_fdesc *fd = etpu_fb_field_desc(t->desc, id);
  if (!fd || etpu_fb_scalar_size(fd->kind) == 0 || fd->kind == ETPU_FB_F32 || fd->kind == ETPU_FB_F64)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "field %u of %s is not an integer field", id,
                     t->desc < ETPU_T__COUNT ? etpu_fb_tables[t->desc].name : "?");
  etpu_fbv v = {.id = id, .kind = fd->kind};
  if (fd->kind == ETPU_FB_U64)
    v.v.u = (uint64_t)value;
  else
    v.v.i = value;
  return etpu_fbt_put(a, t, &v);
}

etpu_status etpu_fbt_put_float(etpu_arena *a, etpu_fbt *t, uint16_t id, double value) {
  const struct etpu_fb_fdesc *fd = etpu_fb_field_desc(t->desc, id);
  if (!fd || (fd->kind != ETPU_FB_F32 && fd->kind != ETPU_FB_F64))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "field %u of %s is not a float field", id,
                     t->desc < ETPU_T__COUNT ? etpu_fb_tables[t->desc].name : "?");
  etpu_fbv v = {.id = id, .kind = fd->kind};
  v.v.f = fd->kind == ETPU_FB_F32 ? (double)(float)value : value;
  return etpu_fbt_put(a, t, &v);
}

void etpu_fbt_remove(etpu_fbt *t, uint16_t id) {
  for (uint16_t i = 0; i < t->n; i++) {
    if (t->f[i].id == id) {
      memmove(&t->f[i], &t->f[i + 1], (size_t)(t->n - i - 1) * sizeof *t->f);
      t->n--;
      return;
    }
  }
}

static bool fbv_equal(const etpu_fbv *a, const etpu_fbv *b);

bool etpu_fbt_equal(const etpu_fbt *a, const etpu_fbt *b) {
  if (!a || !b) return a == b || (a ? a->n == 0 : b->n == 0);
  if (a->desc != b->desc || a->n != b->n) return false;
  for (uint16_t i = 0; i < a->n; i++)
    if (!fbv_equal(&a->f[i], &b->f[i])) return false;
  return true;
}

static bool fbv_equal(const etpu_fbv *a, const etpu_fbv *b) {
  if (a->id != b->id || a->kind != b->kind) return false;
  switch (a->kind) {
    case ETPU_FB_STRING:
      return a->count == b->count && memcmp(a->v.p, b->v.p, a->count) == 0;
    case ETPU_FB_TABLE:
    case ETPU_FB_UNION:
      return etpu_fbt_equal(a->v.t, b->v.t);
    case ETPU_FB_VECTOR:
      if (a->elem != b->elem || a->count != b->count) return false;
      for (uint32_t i = 0; i < a->count; i++) {
        if (a->elem == ETPU_FB_TABLE && !etpu_fbt_equal(a->v.tv[i], b->v.tv[i])) return false;
        if (a->elem == ETPU_FB_STRING &&
            (a->v.sv[i].len != b->v.sv[i].len || memcmp(a->v.sv[i].s, b->v.sv[i].s, a->v.sv[i].len) != 0))
          return false;
      }
      if (a->elem != ETPU_FB_TABLE && a->elem != ETPU_FB_STRING)
        return a->count == 0 || memcmp(a->v.p, b->v.p, (size_t)a->count * etpu_fb_scalar_size(a->elem)) == 0;
      return true;
    case ETPU_FB_F32:
    case ETPU_FB_F64:
      return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    default:
      return a->v.i == b->v.i;
  }
}

/* ---- decoding (= verification) ----------------------------------------- */


#define CORRUPT(d, ...) fb_corrupt((d), __VA_ARGS__)

ETPU_PRINTF(2, 3) static etpu_status fb_corrupt(etpu_fb_decoder *d, const char *fmt, ...) {
  char msg[700];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return etpu_fail(ETPU_MALFORMED, "%s: malformed flatbuffer: %s", d->label, msg);
}

static etpu_status spend(etpu_fb_decoder *d, uint64_t units, uint64_t at) {
  if (units > d->budget)
    return CORRUPT(d, "at offset %llu: work budget exhausted (objects shared or repeated far beyond the file size)",
                   (unsigned long long)at);
  d->budget -= units;
  return ETPU_OK;
}

static etpu_status decode_table(etpu_fb_decoder *d, uint64_t pos, uint16_t desc, int depth, etpu_fbt **out);

/* Follow a uoffset stored at `at`; check the target is in range and 4-aligned. */
static etpu_status follow(etpu_fb_decoder *d, uint64_t at, const char *what, uint64_t *target) {
  if (at + 4 > d->size) return CORRUPT(d, "%s offset at %llu runs past the end", what, (unsigned long long)at);
  uint32_t off = etpu_rd32(d->buf + at);
  uint64_t t = at + off;
  if (off == 0 || t + 4 > d->size)
    return CORRUPT(d, "%s at offset %llu points to %llu, outside the %zu-byte buffer", what, (unsigned long long)at,
                   (unsigned long long)t, d->size);
  if (t % 4 != 0)
    return CORRUPT(d, "%s at offset %llu points to unaligned offset %llu", what, (unsigned long long)at,
                   (unsigned long long)t);
  *target = t;
  return ETPU_OK;
}

static etpu_status decode_string(etpu_fb_decoder *d, uint64_t at, const char *what, etpu_fbstr *out) {
  uint64_t s = 0;
  etpu_status st = follow(d, at, what, &s);
  if (st != ETPU_OK) return st;
  uint32_t len = etpu_rd32(d->buf + s);
  if ((uint64_t)len + 1 > d->size - s - 4)
    return CORRUPT(d, "%s at offset %llu: length %u runs past the end", what, (unsigned long long)s, len);
  if (d->buf[s + 4 + len] != 0)
    return CORRUPT(d, "%s at offset %llu is not NUL-terminated", what, (unsigned long long)s);
  out->s = (const char *)(d->buf + s + 4);
  out->len = len;
  return spend(d, 1 + len / 64, s);
}

static etpu_status decode_vector(etpu_fb_decoder *d, uint64_t at, const struct etpu_fb_fdesc *fd,
                                 const char *tname, int depth, etpu_fbv *v) {
  uint64_t s = 0;
  char what[160];
  snprintf(what, sizeof what, "vector %s.%s", tname, fd->name);
  etpu_status st = follow(d, at, what, &s);
  if (st != ETPU_OK) return st;
  uint32_t n = etpu_rd32(d->buf + s);
  size_t esz = etpu_fb_scalar_size(fd->elem);
  if (fd->elem == ETPU_FB_STRING || fd->elem == ETPU_FB_TABLE) esz = 4;
  if (esz == 0) return CORRUPT(d, "%s has an element type etpu cannot decode", what);
  uint64_t bytes = (uint64_t)n * esz;
  if (bytes > d->size - s - 4)
    return CORRUPT(d, "%s at offset %llu: %u elements of %zu bytes run past the end", what, (unsigned long long)s, n,
                   esz);
  uint64_t data = s + 4;
  if (data % esz != 0)
    return CORRUPT(d, "%s at offset %llu: elements not aligned to %zu bytes", what, (unsigned long long)s, esz);
  v->count = n;
  if (fd->elem == ETPU_FB_STRING) {
    st = spend(d, n, s);
    if (st != ETPU_OK) return st;
    etpu_fbstr *arr = etpu_arena_array(d->arena, n ? n : 1, sizeof *arr);
    if (!arr) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", d->label);
    for (uint32_t i = 0; i < n; i++) {
      st = decode_string(d, data + 4 * (uint64_t)i, what, &arr[i]);
      if (st != ETPU_OK) return st;
    }
    v->v.sv = arr;
  } else if (fd->elem == ETPU_FB_TABLE) {
    st = spend(d, n, s);
    if (st != ETPU_OK) return st;
    etpu_fbt **arr = etpu_arena_array(d->arena, n ? n : 1, sizeof *arr);
    if (!arr) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", d->label);
    for (uint32_t i = 0; i < n; i++) {
      uint64_t t = 0;
      st = follow(d, data + 4 * (uint64_t)i, what, &t);
      if (st != ETPU_OK) return st;
      st = decode_table(d, t, fd->ref, depth + 1, &arr[i]);
      if (st != ETPU_OK) return st;
    }
    v->v.tv = arr;
  } else {
    /* Scalars are borrowed; the cost is one unit per 4 KiB. */
    st = spend(d, 1 + bytes / 4096, s);
    if (st != ETPU_OK) return st;
    v->v.p = d->buf + data;
  }
  return ETPU_OK;
}

static etpu_status decode_table(etpu_fb_decoder *d, uint64_t pos, uint16_t desc, int depth, etpu_fbt **out) {
  const struct etpu_fb_tdesc *td = &etpu_fb_tables[desc];
  if (depth > ETPU_FB_MAX_DEPTH)
    return CORRUPT(d, "table %s at offset %llu nested deeper than %d", td->name, (unsigned long long)pos,
                   ETPU_FB_MAX_DEPTH);
  if (pos % 4 != 0 || pos + 4 > d->size)
    return CORRUPT(d, "table %s at offset %llu is unaligned or outside the buffer", td->name, (unsigned long long)pos);
  int32_t soff = (int32_t)etpu_rd32(d->buf + pos);
  int64_t vt = (int64_t)pos - (int64_t)soff;
  if (vt < 0 || vt % 2 != 0 || (uint64_t)vt + 4 > d->size)
    return CORRUPT(d, "table %s at offset %llu: vtable at %lld is outside the buffer or unaligned", td->name,
                   (unsigned long long)pos, (long long)vt);
  uint16_t vtsize = etpu_rd16(d->buf + vt);
  uint16_t tblsize = etpu_rd16(d->buf + vt + 2);
  if (vtsize < 4 || vtsize % 2 != 0 || (uint64_t)vt + vtsize > d->size)
    return CORRUPT(d, "table %s at offset %llu: vtable size %u is invalid", td->name, (unsigned long long)pos, vtsize);
  if (tblsize < 4 || pos + tblsize > d->size)
    return CORRUPT(d, "table %s at offset %llu: inline size %u runs past the end", td->name, (unsigned long long)pos,
                   tblsize);
  etpu_fbt *t = etpu_fbt_new(d->arena, desc);
  if (!t) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", d->label);
  uint16_t nslots = (uint16_t)((vtsize - 4) / 2);
  /* Count present known fields first, to size the array once. */
  uint16_t present = 0;
  for (uint16_t i = 0; i < td->nfields; i++) {
    uint16_t id = td->fields[i].id;
    if (id < nslots && etpu_rd16(d->buf + vt + 4 + 2 * id) != 0) present++;
  }
  /* Each present field occupies at least one byte of the table, so a file
   * without shared sub-objects never spends more units than it has bytes. */
  etpu_status st = spend(d, 1 + (uint64_t)present, pos);
  if (st != ETPU_OK) return st;
  if (present) {
    t->f = etpu_arena_array(d->arena, present, sizeof *t->f);
    if (!t->f) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", d->label);
    t->cap = present;
  }
  for (uint16_t i = 0; i < td->nfields; i++) {
    const struct etpu_fb_fdesc *fd = &td->fields[i];
    if (fd->id >= nslots) continue;
    uint16_t foff = etpu_rd16(d->buf + vt + 4 + 2 * fd->id);
    if (foff == 0) continue;
    size_t fsz = kind_is_offset(fd->kind) ? 4 : etpu_fb_scalar_size(fd->kind);
    if ((uint32_t)foff + fsz > tblsize)
      return CORRUPT(d, "field %s.%s at table offset %u runs past the table's %u bytes", td->name, fd->name, foff,
                     tblsize);
    uint64_t at = pos + foff;
    if (at % fsz != 0)
      return CORRUPT(d, "field %s.%s at offset %llu is not aligned to %zu bytes", td->name, fd->name,
                     (unsigned long long)at, fsz);
    etpu_fbv v = {.id = fd->id, .kind = fd->kind, .elem = fd->elem};
    const uint8_t *p = d->buf + at;
    switch (fd->kind) {
      case ETPU_FB_BOOL:
      case ETPU_FB_U8:
      case ETPU_FB_UNION_TYPE:
        v.v.i = p[0];
        break;
      case ETPU_FB_I8:
        v.v.i = (int8_t)p[0];
        break;
      case ETPU_FB_I16:
        v.v.i = (int16_t)etpu_rd16(p);
        break;
      case ETPU_FB_U16:
        v.v.i = etpu_rd16(p);
        break;
      case ETPU_FB_I32:
        v.v.i = (int32_t)etpu_rd32(p);
        break;
      case ETPU_FB_U32:
        v.v.i = etpu_rd32(p);
        break;
      case ETPU_FB_I64:
        v.v.i = (int64_t)etpu_rd64(p);
        break;
      case ETPU_FB_U64:
        v.v.u = etpu_rd64(p);
        break;
      case ETPU_FB_F32: {
        float f;
        uint32_t b = etpu_rd32(p);
        memcpy(&f, &b, 4);
        v.v.f = f;
        break;
      }
      case ETPU_FB_F64: {
        uint64_t b = etpu_rd64(p);
        memcpy(&v.v.f, &b, 8);
        break;
      }
      case ETPU_FB_STRING: {
        char what[160];
        snprintf(what, sizeof what, "string %s.%s", td->name, fd->name);
        etpu_fbstr s;
        st = decode_string(d, at, what, &s);
        if (st != ETPU_OK) return st;
        v.v.p = s.s;
        v.count = s.len;
        break;
      }
      case ETPU_FB_VECTOR:
        st = decode_vector(d, at, fd, td->name, depth, &v);
        if (st != ETPU_OK) return st;
        break;
      case ETPU_FB_TABLE: {
        char what[160];
        snprintf(what, sizeof what, "table %s.%s", td->name, fd->name);
        uint64_t target = 0;
        st = follow(d, at, what, &target);
        if (st != ETPU_OK) return st;
        st = decode_table(d, target, fd->ref, depth + 1, &v.v.t);
        if (st != ETPU_OK) return st;
        break;
      }
      case ETPU_FB_UNION: {
        /* The type is the previous slot; absent type means NONE. */
        uint16_t toff = fd->id > 0 && fd->id - 1 < nslots ? etpu_rd16(d->buf + vt + 4 + 2 * (fd->id - 1)) : 0;
        uint8_t type = 0;
        if (toff != 0) {
          if ((uint32_t)toff + 1 > tblsize)
            return CORRUPT(d, "union type of %s.%s runs past the table", td->name, fd->name);
          type = d->buf[pos + toff];
        }
        const struct etpu_fb_udesc *ud = &etpu_fb_unions[fd->ref];
        if (type == 0) continue; /* value without a type: ignored, as FlatBuffers does */
        if (type > ud->count)
          return etpu_fail(ETPU_UNSUPPORTED,
                           "%s: %s.%s has union type %u, beyond the %u %s members this etpu knows (a newer schema?)",
                           d->label, td->name, fd->name, type, ud->count, ud->name);
        char what[160];
        snprintf(what, sizeof what, "union %s.%s", td->name, fd->name);
        uint64_t target = 0;
        st = follow(d, at, what, &target);
        if (st != ETPU_OK) return st;
        st = decode_table(d, target, ud->members[type - 1], depth + 1, &v.v.t);
        if (st != ETPU_OK) return st;
        break;
      }
      default:
        return CORRUPT(d, "field %s.%s has a kind etpu cannot decode", td->name, fd->name);
    }
    t->f[t->n++] = v;
  }
  /* A union type with no value decodes as NONE: drop the type so the tree
   * never holds a type without its table. */
  for (uint16_t i = 0; i < t->n; i++) {
    if (t->f[i].kind != ETPU_FB_UNION_TYPE) continue;
    const etpu_fbv *val = etpu_fbt_get(t, (uint16_t)(t->f[i].id + 1));
    if (!val || t->f[i].v.i == 0) {
      etpu_fbt_remove(t, t->f[i].id);
      i--;
    }
  }
  *out = t;
  return ETPU_OK;
}

etpu_status etpu_fb_decode(etpu_fb_decoder *d, uint16_t root_desc, const char *ident, etpu_fbt **root_out) {
  if (d->size < 8)
    return CORRUPT(d, "%zu bytes is too short for a flatbuffer (needs at least 8)", d->size);
  if (d->size > UINT32_MAX) d->size = UINT32_MAX; /* 32-bit offsets cannot reach further */
  if (ident && memcmp(d->buf + 4, ident, 4) != 0) {
    char got[5];
    for (int i = 0; i < 4; i++) got[i] = (d->buf[4 + i] >= 32 && d->buf[4 + i] < 127) ? (char)d->buf[4 + i] : '?';
    got[4] = 0;
    return etpu_fail(ETPU_MALFORMED, "%s: not a TensorFlow Lite model: file identifier is \"%s\", expected \"%s\"",
                     d->label, got, ident);
  }
  if (d->budget == 0) d->budget = 64 + (uint64_t)d->size + (uint64_t)d->size / 2;
  uint64_t root = 0;
  etpu_status st = follow(d, 0, "root table", &root);
  if (st != ETPU_OK) return st;
  return decode_table(d, root, root_desc, 0, root_out);
}

/* ---- encoding ----------------------------------------------------------- */

typedef struct fb_writer {
  uint8_t *buf;
  size_t len, cap;
  bool oom;
} fb_writer;

static size_t w_reserve(fb_writer *w, size_t n, size_t align) {
  size_t pad = (align - (w->len % align)) % align;
  size_t need = w->len + pad + n;
  if (w->oom || need < w->len) {
    w->oom = true;
    return 0;
  }
  if (need > w->cap) {
    size_t ncap = w->cap ? w->cap : 4096;
    while (ncap < need) {
      if (ncap > SIZE_MAX / 2) {
        w->oom = true;
        return 0;
      }
      ncap *= 2;
    }
    uint8_t *nb = etpu_realloc(w->buf, ncap);
    if (!nb) {
      w->oom = true;
      return 0;
    }
    w->buf = nb;
    w->cap = ncap;
  }
  memset(w->buf + w->len, 0, pad + n);
  size_t at = w->len + pad;
  w->len = need;
  return at;
}

/* Reserve n bytes so that (start + lead) is aligned to align. */
static size_t w_reserve_lead(fb_writer *w, size_t n, size_t lead, size_t align) {
  size_t pad = (align - ((w->len + lead) % align)) % align;
  if (pad) {
    w_reserve(w, pad, 1);
  }
  return w_reserve(w, n, 1);
}


static void put_scalar(uint8_t *p, uint8_t kind, const etpu_fbv *v) {
  switch (kind) {
    case ETPU_FB_BOOL:
    case ETPU_FB_I8:
    case ETPU_FB_U8:
    case ETPU_FB_UNION_TYPE:
      p[0] = (uint8_t)v->v.i;
      break;
    case ETPU_FB_I16:
    case ETPU_FB_U16:
      etpu_wr16(p, (uint16_t)v->v.i);
      break;
    case ETPU_FB_I32:
    case ETPU_FB_U32:
      etpu_wr32(p, (uint32_t)v->v.i);
      break;
    case ETPU_FB_I64:
      etpu_wr64(p, (uint64_t)v->v.i);
      break;
    case ETPU_FB_U64:
      etpu_wr64(p, v->v.u);
      break;
    case ETPU_FB_F32: {
      float f = (float)v->v.f;
      uint32_t b;
      memcpy(&b, &f, 4);
      etpu_wr32(p, b);
      break;
    }
    case ETPU_FB_F64: {
      uint64_t b;
      memcpy(&b, &v->v.f, 8);
      etpu_wr64(p, b);
      break;
    }
    default:
      break;
  }
}

static void patch_uoffset(fb_writer *w, size_t at, size_t target) {
  if (!w->oom) etpu_wr32(w->buf + at, (uint32_t)(target - at));
}

static size_t encode_table(fb_writer *w, const etpu_fbt *t, int depth);

static size_t encode_string(fb_writer *w, const char *s, uint32_t len) {
  size_t at = w_reserve(w, 4 + (size_t)len + 1, 4);
  if (!w->oom) {
    etpu_wr32(w->buf + at, len);
    if (len) memcpy(w->buf + at + 4, s, len);
  }
  return at;
}

static size_t encode_vector(fb_writer *w, const etpu_fbv *v, const struct etpu_fb_fdesc *fd, int depth) {
  size_t esz = (v->elem == ETPU_FB_STRING || v->elem == ETPU_FB_TABLE) ? 4 : etpu_fb_scalar_size(v->elem);
  size_t align = esz < 4 ? 4 : esz;
  if (fd && fd->force_align > align) align = fd->force_align;
  size_t bytes = (size_t)v->count * esz;
  size_t at = w_reserve_lead(w, 4 + bytes, 4, align);
  if (w->oom) return 0;
  etpu_wr32(w->buf + at, v->count);
  size_t data = at + 4;
  if (v->elem == ETPU_FB_STRING) {
    for (uint32_t i = 0; i < v->count; i++) {
      size_t s = encode_string(w, v->v.sv[i].s, v->v.sv[i].len);
      patch_uoffset(w, data + 4 * i, s);
    }
  } else if (v->elem == ETPU_FB_TABLE) {
    for (uint32_t i = 0; i < v->count; i++) {
      size_t t = encode_table(w, v->v.tv[i], depth + 1);
      patch_uoffset(w, data + 4 * i, t);
    }
  } else if (bytes) {
    memcpy(w->buf + data, v->v.p, bytes); /* little-endian host (checked at open) */
  }
  return at;
}

static size_t encode_table(fb_writer *w, const etpu_fbt *t, int depth) {
  if (w->oom || depth > ETPU_FB_MAX_DEPTH) {
    w->oom = true;
    return 0;
  }
  /* Layout: offsets and 4-byte scalars after the soffset, then 8-byte, then
   * 2-byte, then 1-byte scalars. The table starts 8-aligned. */
  uint16_t max_id = 0;
  for (uint16_t i = 0; i < t->n; i++)
    if (t->f[i].id + 1 > max_id) max_id = (uint16_t)(t->f[i].id + 1);
  uint16_t offs[256];
  uint16_t fsz[256];
  if (t->n > 256) {
    w->oom = true;
    return 0;
  }
  size_t size = 4;
  static const size_t order[4] = {4, 8, 2, 1};
  for (int pass = 0; pass < 4; pass++) {
    size_t want = order[pass];
    if (want == 8) size = (size + 7) & ~(size_t)7;
    for (uint16_t i = 0; i < t->n; i++) {
      const etpu_fbv *v = &t->f[i];
      size_t s = kind_is_offset(v->kind) ? 4 : etpu_fb_scalar_size(v->kind);
      if (s != want) continue;
      offs[i] = (uint16_t)size;
      fsz[i] = (uint16_t)s;
      size += s;
    }
  }
  size = (size + 3) & ~(size_t)3;
  size_t vtbytes = 4 + 2 * (size_t)max_id;
  /* vtable (2-aligned), then the table 8-aligned. */
  size_t vt = w_reserve(w, vtbytes, 2);
  size_t tb = w_reserve(w, size, 8);
  if (w->oom) return 0;
  etpu_wr16(w->buf + vt, (uint16_t)vtbytes);
  etpu_wr16(w->buf + vt + 2, (uint16_t)size);
  for (uint16_t i = 0; i < t->n; i++) etpu_wr16(w->buf + vt + 4 + 2 * t->f[i].id, offs[i]);
  etpu_wr32(w->buf + tb, (uint32_t)(int32_t)(tb - vt));
  for (uint16_t i = 0; i < t->n; i++)
    if (!kind_is_offset(t->f[i].kind)) put_scalar(w->buf + tb + offs[i], t->f[i].kind, &t->f[i]);
  (void)fsz;
  /* Children after the table. */
  for (uint16_t i = 0; i < t->n; i++) {
    const etpu_fbv *v = &t->f[i];
    size_t child;
    switch (v->kind) {
      case ETPU_FB_STRING:
        child = encode_string(w, v->v.p, v->count);
        break;
      case ETPU_FB_TABLE:
      case ETPU_FB_UNION:
        child = encode_table(w, v->v.t, depth + 1);
        break;
      case ETPU_FB_VECTOR:
        child = encode_vector(w, v, etpu_fb_field_desc(t->desc, v->id), depth);
        break;
      default:
        continue;
    }
    patch_uoffset(w, tb + offs[i], child);
  }
  return tb;
}

etpu_status etpu_fb_encode(const etpu_fbt *root, const char *ident, uint8_t **data_out, size_t *size_out) {
  return etpu_fb_encode_hint(root, ident, 0, data_out, size_out);
}

etpu_status etpu_fb_encode_hint(const etpu_fbt *root, const char *ident, size_t size_hint, uint8_t **data_out,
                                size_t *size_out) {
  fb_writer w = {0};
  /* One allocation of about the final size avoids repeated growth copies
   * and page faults on multi-megabyte models. */
  if (size_hint) {
    w.buf = etpu_malloc(size_hint);
    if (w.buf) w.cap = size_hint;
  }
  size_t hdr = w_reserve(&w, 8, 16);
  if (!w.oom && ident) memcpy(w.buf + hdr + 4, ident, 4);
  size_t r = encode_table(&w, root, 0);
  patch_uoffset(&w, 0, r);
  if (!w.oom && w.len > UINT32_MAX) {
    etpu_free(w.buf);
    return etpu_fail(ETPU_UNSUPPORTED, "model flatbuffer would exceed 4 GiB; store large buffers outside it");
  }
  /* Pad the end to 16 so external data can follow aligned. */
  w_reserve(&w, 0, 16);
  if (w.oom) {
    etpu_free(w.buf);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory while writing the model");
  }
  *data_out = w.buf;
  *size_out = w.len;
  return ETPU_OK;
}
