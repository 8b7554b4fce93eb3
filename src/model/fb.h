/*
 * fb.h — a generic, schema-driven FlatBuffers engine.
 *
 * etpu does not hand-write a reader per table. The TensorFlow Lite schema is
 * turned into data (schema_gen.c: every table's fields with their ids, types
 * and defaults, every union's members, every enum's names), and three
 * routines walk that data:
 *
 *   etpu_fb_decode   verify a whole buffer and decode it into a tree of
 *                    etpu_fbt nodes (nothing is interpreted until the whole
 *                    tree has verified);
 *   etpu_fb_encode   serialize a tree back to FlatBuffers bytes;
 *   etpu_fbt_* get/set helpers with schema defaults.
 *
 * Wire format (FlatBuffers, little-endian):
 *
 *   offset 0   u32  uoffset to the root table
 *   offset 4   4 B  file identifier ("TFL3")
 *   table      i32  soffset: vtable = table - soffset
 *              ...  inline fields (scalars; u32 uoffsets to strings, vectors,
 *                   tables; relative to the field's own address)
 *   vtable     u16  vtable bytes, u16 table inline bytes, u16 per field id:
 *                   the field's offset in the table, 0 = absent (default)
 *   vector     u32  count, then elements (scalars or uoffsets)
 *   string     u32  length, bytes, NUL
 *
 * Verification rules: every offset and length within the buffer (64-bit
 * arithmetic, so no overflow), tables and offsets 4-aligned, scalars aligned to
 * their size, vtables inside the buffer and even-sized, strings NUL-terminated,
 * union types known, nesting depth at most ETPU_FB_MAX_DEPTH, and the total
 * decoded work bounded by a budget proportional to the buffer size (shared
 * sub-objects cannot blow it up).
 *
 * Borrowing: strings and scalar vectors point into the source bytes (which
 * must outlive the tree and be little-endian); everything else is allocated
 * in a caller-owned arena.
 */
#ifndef ETPU_MODEL_FB_H
#define ETPU_MODEL_FB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

enum etpu_fb_kind {
  ETPU_FB_NONE = 0,
  ETPU_FB_BOOL,
  ETPU_FB_I8,
  ETPU_FB_U8,
  ETPU_FB_I16,
  ETPU_FB_U16,
  ETPU_FB_I32,
  ETPU_FB_U32,
  ETPU_FB_I64,
  ETPU_FB_U64,
  ETPU_FB_F32,
  ETPU_FB_F64,
  ETPU_FB_STRING,
  ETPU_FB_TABLE,
  ETPU_FB_UNION_TYPE,
  ETPU_FB_UNION,
  ETPU_FB_VECTOR,
};

/* Field descriptor (generated). */
struct etpu_fb_fdesc {
  const char *name;
  uint16_t id;         /* vtable slot */
  uint8_t kind;        /* enum etpu_fb_kind */
  uint8_t elem;        /* element kind for ETPU_FB_VECTOR */
  uint16_t ref;        /* table index (TABLE, vector of TABLE) or union index (UNION, UNION_TYPE) */
  int16_t enum_ref;    /* enum index for enum-typed scalars, -1 otherwise */
  uint8_t force_align; /* vector data alignment from the schema, 0 = natural */
  uint8_t deprecated;
  int64_t def_int;     /* default of integer/bool/enum scalars */
  double def_float;    /* default of float scalars */
};

struct etpu_fb_tdesc {
  const char *name;
  uint16_t nfields;
  const struct etpu_fb_fdesc *fields; /* sorted by id */
};

struct etpu_fb_udesc {
  const char *name;
  uint16_t count;          /* members; type value i (1-based) -> members[i-1] */
  const uint16_t *members; /* table indices */
};

struct etpu_fb_edesc {
  const char *name;
  uint16_t count;
  const int64_t *values;
  const char *const *names;
};

#define ETPU_FB_MAX_DEPTH 64

/* A string (borrowed or arena-owned; NUL-terminated). */
typedef struct etpu_fbstr {
  const char *s;
  uint32_t len;
} etpu_fbstr;

/* One present field of a decoded table. */
typedef struct etpu_fbv {
  uint16_t id;   /* vtable slot */
  uint8_t kind;  /* etpu_fb_kind of the field */
  uint8_t elem;  /* element kind for vectors */
  uint32_t count; /* vector elements or string length */
  union {
    int64_t i;               /* signed integers, bool, union type */
    uint64_t u;              /* unsigned integers */
    double f;                /* floats */
    struct etpu_fbt *t;      /* table or union value */
    const void *p;           /* string bytes / scalar vector data */
    struct etpu_fbt **tv;    /* vector of tables */
    etpu_fbstr *sv;          /* vector of strings */
  } v;
} etpu_fbv;

/* A decoded table: its descriptor index and its present fields by id. */
typedef struct etpu_fbt {
  uint16_t desc; /* index into etpu_fb_tables */
  uint16_t n;    /* present fields */
  uint16_t cap;
  etpu_fbv *f;   /* sorted by id */
} etpu_fbt;

/* Decode context: error label and work budget. */
typedef struct etpu_fb_decoder {
  const uint8_t *buf;
  size_t size;         /* bytes of the flatbuffer region */
  etpu_arena *arena;
  const char *label;   /* file name for messages */
  uint64_t budget;     /* remaining work units */
} etpu_fb_decoder;

/* Verify and decode the buffer whose root is a table of descriptor root_desc,
 * checking the 4-byte identifier when ident is non-NULL. */
etpu_status etpu_fb_decode(etpu_fb_decoder *d, uint16_t root_desc, const char *ident, etpu_fbt **root_out);

/* Serialize a tree. The result is a heap buffer (etpu_free). */
etpu_status etpu_fb_encode(const etpu_fbt *root, const char *ident, uint8_t **data_out, size_t *size_out);
/* Same, starting with a buffer of size_hint bytes (an estimate; 0 = none). */
etpu_status etpu_fb_encode_hint(const etpu_fbt *root, const char *ident, size_t size_hint, uint8_t **data_out,
                                size_t *size_out);

/* ---- tree access -------------------------------------------------------- */
const struct etpu_fb_fdesc *etpu_fb_field_desc(uint16_t table, uint16_t id);
const struct etpu_fb_fdesc *etpu_fb_field_by_name(uint16_t table, const char *name);
size_t etpu_fb_scalar_size(uint8_t kind);
const char *etpu_fb_enum_name(int16_t enum_ref, int64_t value); /* NULL if unknown */

etpu_fbt *etpu_fbt_new(etpu_arena *a, uint16_t desc);
const etpu_fbv *etpu_fbt_get(const etpu_fbt *t, uint16_t id);
/* Scalars with the schema default applied when absent. */
int64_t etpu_fbt_int(const etpu_fbt *t, uint16_t id);
double etpu_fbt_float(const etpu_fbt *t, uint16_t id);
/* Add or replace a field (value copied by value; pointers are kept). */
etpu_status etpu_fbt_put(etpu_arena *a, etpu_fbt *t, const etpu_fbv *v);
etpu_status etpu_fbt_put_int(etpu_arena *a, etpu_fbt *t, uint16_t id, int64_t value);
etpu_status etpu_fbt_put_float(etpu_arena *a, etpu_fbt *t, uint16_t id, double value);
void etpu_fbt_remove(etpu_fbt *t, uint16_t id);
/* Deep equality (same present fields, same values; NULL equals empty). */
bool etpu_fbt_equal(const etpu_fbt *a, const etpu_fbt *b);

#endif
