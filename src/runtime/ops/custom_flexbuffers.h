/*
 * custom_flexbuffers.h — reading the scalar options of custom ops: the
 * FlexBuffers map TFLite writes into Operator.custom_options
 * (TFLite_Detection_PostProcess, PosenetDecoderOp). Only what those ops use:
 * a root map with int, uint, float and bool values, inline or indirect.
 * Every offset is checked against the buffer; a malformed buffer is an
 * error, never a crash.
 */
#ifndef ETPU_RUNTIME_OPS_CUSTOM_FLEXBUFFERS_H
#define ETPU_RUNTIME_OPS_CUSTOM_FLEXBUFFERS_H

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
 * present = false. */
bool etpu_flex_map_get(const uint8_t *buf, size_t size, const char *key, etpu_flex_value *value_out);

#endif /* ETPU_RUNTIME_OPS_CUSTOM_FLEXBUFFERS_H */
