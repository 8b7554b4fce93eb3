/*
 * flexbuffers.h — a bounds-checked reader for the FlexBuffers maps that
 * TFLite custom ops keep in Operator.custom_options: the scalar options of
 * TFLite_Detection_PostProcess and PosenetDecoderOp (etpu_flex_map_get), and
 * the strings, blobs and vectors of an edgetpu-custom-op (the Edge TPU
 * package, src/model/package.c). It belongs to the model stage: the runtime
 * includes it, never the other way round. Every offset and width is checked
 * against the buffer; a malformed buffer is an error, never a crash.
 */
#ifndef ETPU_MODEL_FLEXBUFFERS_H
#define ETPU_MODEL_FLEXBUFFERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The value found for a key. */
typedef struct etpu_flex_value {
  bool present;  /* the key exists and is not null */
  bool is_float; /* read as float; else integer / bool */
  int64_t i;     /* integer value (floats truncated toward zero) */
  double f;      /* float value (integers converted) */
} etpu_flex_value;

/* Look up `key` in the root map of buf[0..size). Returns false if the buffer
 * is malformed or its root is not a map; a missing key gives true with
 * present = false. Strings, vectors and maps as values are refused (false). */
bool etpu_flex_map_get(const uint8_t *buf, size_t size, const char *key, etpu_flex_value *value_out);

/* A located value: enough to read it again or to walk into a vector. */
typedef struct etpu_flex_ref {
  uint8_t type;  /* FlexBuffers type (ETPU_FLEX_*), ETPU_FLEX_NULL when absent */
  uint8_t width; /* byte width of the slot holding it */
  uint8_t child; /* byte width of what it points to (packed type's low bits) */
  size_t at;     /* offset of the slot */
} etpu_flex_ref;

enum {
  ETPU_FLEX_NULL = 0,
  ETPU_FLEX_INT = 1,
  ETPU_FLEX_UINT = 2,
  ETPU_FLEX_FLOAT = 3,
  ETPU_FLEX_KEY = 4,
  ETPU_FLEX_STRING = 5,
  ETPU_FLEX_INDIRECT_INT = 6,
  ETPU_FLEX_INDIRECT_UINT = 7,
  ETPU_FLEX_INDIRECT_FLOAT = 8,
  ETPU_FLEX_MAP = 9,
  ETPU_FLEX_VECTOR = 10,
  ETPU_FLEX_VECTOR_INT = 11,
  ETPU_FLEX_VECTOR_UINT = 12,
  ETPU_FLEX_VECTOR_FLOAT = 13,
  ETPU_FLEX_VECTOR_KEY = 14,
  ETPU_FLEX_BLOB = 25,
  ETPU_FLEX_BOOL = 26,
};

/* Find `key` in the root map: true with ref->type == ETPU_FLEX_NULL when the
 * key is missing; false when the buffer is malformed or the root is no map. */
bool etpu_flex_map_find(const uint8_t *buf, size_t size, const char *key, etpu_flex_ref *ref_out);
/* The bytes of a STRING, KEY-less BLOB value (borrowed; a string's NUL is
 * checked but not counted). False for other types or out-of-bounds data. */
bool etpu_flex_bytes(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, const uint8_t **data_out,
                     size_t *len_out);
/* An integer (INT, UINT, BOOL, their indirect forms). False otherwise. */
bool etpu_flex_int(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, int64_t *value_out);
/* Element count of a vector (untyped VECTOR or VECTOR_INT/UINT/FLOAT/KEY). */
bool etpu_flex_vector_count(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, size_t *count_out);
/* Element i of a vector, as a ref (then etpu_flex_int / etpu_flex_bytes). */
bool etpu_flex_vector_at(const uint8_t *buf, size_t size, const etpu_flex_ref *ref, size_t i,
                         etpu_flex_ref *elem_out);

#endif /* ETPU_MODEL_FLEXBUFFERS_H */
