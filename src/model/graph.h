/*
 * graph.h — etpu's in-memory TensorFlow Lite graph (internal to libetpu).
 *
 * A model is read into typed structs for what the stages use (tensors,
 * operators, buffers, operator codes, graph inputs and outputs) and keeps
 * every other field it was read with in a generic `rest` table (see fb.h), so
 * that writing an unchanged model reproduces all of its fields. Later stages
 * (compile, runtime, quant, learn) include this header; the CLI uses the
 * public header only.
 *
 * Ownership: all memory of a model lives in its arena or is borrowed from the
 * mapped file; edits allocate new arrays in the arena (the old ones stay until
 * the model is closed).
 */
#ifndef ETPU_MODEL_GRAPH_H
#define ETPU_MODEL_GRAPH_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "model/fb.h"
#include "model/schema_gen.h"

typedef struct etpu_gquant {
  uint32_t count;            /* scale entries (0 = scale absent) */
  const float *scale;        /* count entries */
  uint32_t zp_count;         /* zero_point entries as stored (0 or count) */
  const int64_t *zero_point; /* zp_count entries */
  int32_t quantized_dimension;
  etpu_fbt *rest;            /* min, max, details... as read */
} etpu_gquant;

typedef struct etpu_gtensor {
  const char *name;          /* never NULL */
  int32_t type;              /* TensorType */
  uint32_t rank;
  const int32_t *shape;
  bool has_signature;
  uint32_t sig_rank;
  const int32_t *shape_signature;
  uint32_t buffer;           /* 0 = no data */
  etpu_gquant *quant;        /* NULL = no quantization table */
  bool is_variable;
  etpu_fbt *rest;            /* sparsity, has_rank, ... as read */
  /* derived links (rebuilt by etpu_graph_link) */
  int32_t producer;          /* op index or -1 */
  uint32_t consumers;        /* number of op input slots reading it */
} etpu_gtensor;

typedef struct etpu_gop {
  uint32_t opcode;           /* index into model->opcodes */
  uint32_t ninputs;
  const int32_t *inputs;     /* -1 = omitted optional input */
  uint32_t noutputs;
  const int32_t *outputs;
  uint8_t options_type;      /* BuiltinOptions union type, 0 = none */
  etpu_fbt *options;         /* the options table, NULL if none */
  const uint8_t *custom;     /* custom_options bytes (or large custom options) */
  uint32_t custom_size;
  uint32_t nintermediates;
  const int32_t *intermediates;
  etpu_fbt *rest;            /* builtin_options_2, mutating_variable_inputs... */
} etpu_gop;

typedef struct etpu_gsubgraph {
  const char *name;          /* never NULL */
  uint32_t ntensors, cap_tensors;
  etpu_gtensor *tensors;
  uint32_t nops, cap_ops;
  etpu_gop *ops;
  uint32_t ninputs;
  const int32_t *inputs;
  uint32_t noutputs;
  const int32_t *outputs;
  etpu_fbt *rest;
} etpu_gsubgraph;

typedef struct etpu_gopcode {
  int32_t code;              /* max(deprecated_builtin_code, builtin_code) */
  int32_t version;
  const char *custom_code;   /* NULL if none */
  etpu_fbt *rest;
} etpu_gopcode;

typedef struct etpu_gbuffer {
  const uint8_t *data;       /* NULL/0 = empty */
  size_t size;
  bool external;             /* read from offset/size outside the flatbuffer */
} etpu_gbuffer;

struct etpu_model {
  const char *label;         /* path or label for messages */
  etpu_arena arena;
  etpu_file_image file;      /* the mapped bytes (if opened from a file) */
  void *owned_copy;          /* heap copy of a caller buffer */
  uint32_t version;
  const char *description;   /* NULL if none */
  uint32_t nopcodes, cap_opcodes;
  etpu_gopcode *opcodes;
  uint32_t nsubgraphs, cap_subgraphs;
  etpu_gsubgraph *subgraphs;
  uint32_t nbuffers, cap_buffers;
  etpu_gbuffer *buffers;
  etpu_fbt *rest;            /* metadata, signature_defs, metadata_buffer, ... */
};

/* Grow an arena array of n elements to hold at least n+1 (capacity *cap). */
etpu_status etpu_graph_grow(etpu_model *m, void **arr, uint32_t n, uint32_t *cap, size_t elem);

/* Recompute producer and consumer counts of subgraph sg. */
void etpu_graph_link(etpu_model *m, uint32_t sg);

/* Element count of a shape (false on overflow beyond 2^62). */
bool etpu_shape_elements(uint32_t rank, const int32_t *shape, uint64_t *count_out);

/* Bytes of a dense tensor of this type and shape; false if unknown type or overflow. */
bool etpu_tensor_bytes(int32_t type, uint32_t rank, const int32_t *shape, uint64_t *bytes_out);

/* The constant data of a tensor, or NULL (size 0). */
const uint8_t *etpu_graph_tensor_data(const etpu_model *m, const etpu_gtensor *t, size_t *size_out);

/* Op code and name of an op. */
int32_t etpu_graph_op_code(const etpu_model *m, const etpu_gop *op);
const char *etpu_graph_op_name(const etpu_model *m, const etpu_gop *op);

/* BuiltinOptions union type (and table) an op code uses; 0 if none. */
uint8_t etpu_op_options_type(int32_t code);

/* Find or append an operator code; returns its index. */
etpu_status etpu_graph_opcode(etpu_model *m, int32_t code, const char *custom_code, int32_t version,
                              uint32_t *index_out);

/* Constant data at or above this many bytes is written outside the
 * flatbuffer (Buffer.offset/size). Default 2000 MiB; 0 restores it. Tests
 * lower it to exercise the path. */
void etpu_model_set_external_threshold(uint64_t bytes);

/* The semantic checks of etpu_model_open, on subgraph data already in place. */
etpu_status etpu_graph_validate(const etpu_model *m);

#endif
