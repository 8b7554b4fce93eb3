/*
 * etpu.h — the one public header of etpu, an open toolchain for Google Coral
 * Edge TPU models: read, check, compile, run, quantize and retrain TensorFlow
 * Lite (.tflite) models on any machine.
 *
 * Worked example (open a model, list its operators, write a copy):
 *
 *     etpu_model *m;
 *     if (etpu_model_open("model.tflite", &m) != ETPU_OK) {
 *       fprintf(stderr, "%s\n", etpu_errmsg());   // never NULL
 *       return 1;
 *     }
 *     for (uint32_t i = 0; i < etpu_model_op_count(m, 0); i++) {
 *       etpu_op_info op;
 *       etpu_model_op(m, 0, i, &op);
 *       printf("%u %s\n", i, op.name);
 *     }
 *     if (etpu_model_write_file(m, "copy.tflite", 0) != ETPU_OK) ...
 *     etpu_model_free(m);
 *
 * Conventions:
 *  - Every function that can fail returns enum etpu_status; ETPU_OK is 0.
 *    On failure a one-line message naming the file, the object and the rule
 *    broken is kept per thread and returned by etpu_errmsg().
 *  - Outputs are the last parameters, named *_out, and are untouched on failure.
 *  - Model bytes are borrowed from a memory map (or the caller's buffer) and
 *    verified completely before any field is interpreted.
 *  - All heap memory goes through the hook set by etpu_set_allocator().
 */
#ifndef ETPU_ETPU_H
#define ETPU_ETPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* libetpu.so is built with hidden visibility: what this header declares is
 * exactly what the shared library exports (tests/abi_symbols.py checks). */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility push(default)
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ETPU_WUR __attribute__((warn_unused_result))
#else
#define ETPU_WUR
#endif

/* ---------------------------------------------------------------------------
 * Status codes. Append-only; the names come from one X-macro list.
 * ------------------------------------------------------------------------- */
#define ETPU_STATUS_LIST(X)                                                   \
  X(ETPU_OK, 0, "ok")                                                         \
  X(ETPU_INVALID_ARGUMENT, 1, "invalid argument")                            \
  X(ETPU_UNSUPPORTED, 2, "unsupported")                                      \
  X(ETPU_MALFORMED, 3, "malformed model")                                    \
  X(ETPU_OUT_OF_MEMORY, 4, "out of memory")                                  \
  X(ETPU_IO_ERROR, 5, "i/o error")                                           \
  X(ETPU_INVALID_STATE, 6, "invalid state")

typedef enum etpu_status {
#define ETPU_X_(name, value, text) name = value,
  ETPU_STATUS_LIST(ETPU_X_)
#undef ETPU_X_
} etpu_status;

/* Short name of a status ("malformed model"); never NULL. */
const char *etpu_status_name(etpu_status status);

/* The calling thread's last error message; "" if none. Never NULL, never
 * allocates. Valid until the next failing etpu call on the same thread.
 * Names it quotes from files are escaped (etpu_escape, ETPU_ESCAPE_TEXT), so
 * it is one line of valid UTF-8 without control characters. */
const char *etpu_errmsg(void);

/* etpu version string, e.g. "0.1.0". */
const char *etpu_version(void);

/* Escaping of strings that come from files (tensor, op, metadata, label and
 * file names), so that printing them cannot move a terminal's cursor, change
 * its colours or produce invalid UTF-8 or JSON. ETPU_ESCAPE_TEXT: control
 * characters as \n \t \r \x1b, C1 and bidi-override code points as
 * \u009b, each byte that is not well-formed UTF-8 (stray continuation bytes,
 * overlong forms, surrogates, truncated sequences, 0xf5-0xff) as \xff; valid
 * UTF-8 and backslashes unchanged, so escaping twice changes nothing.
 * ETPU_ESCAPE_JSON: a JSON string literal, quotes included, valid UTF-8 with
 * \u escapes for controls, and an invalid byte as the four characters \xff
 * (written \\xff). ETPU_ESCAPE_HTML: TEXT's rules plus & < > " ' as
 * entities. etpu_errmsg() text is already escaped as TEXT. */
typedef enum etpu_escape_kind {
  ETPU_ESCAPE_TEXT = 0,
  ETPU_ESCAPE_JSON = 1,
  ETPU_ESCAPE_HTML = 2,
} etpu_escape_kind;

/* Write s (NULL: "") escaped as `kind` into buf (NUL-terminated when cap >
 * 0, cut at a character boundary when it does not fit); returns the size
 * the whole result needs, NUL included, or 0 when out of memory. */
size_t etpu_escape(int kind, const char *s, char *buf, size_t cap);
/* The instruction set whose integer kernels this process uses for CONV_2D,
 * DEPTHWISE_CONV_2D and FULLY_CONNECTED: "scalar", "sse41", "avx2",
 * "avx512" or "avx512vnni". The best the CPU and OS support, chosen on the
 * first call; the environment variable ETPU_ISA forces a lower level (for
 * tests and benchmarks). An unknown or unsupported ETPU_ISA is reported once
 * on stderr and the best level is used. Every level gives the same bytes.
 * Never NULL. */
const char *etpu_isa_name(void);

/* ---------------------------------------------------------------------------
 * Memory. One allocator hook for the whole library (set it before any other
 * call; not thread-safe to change while etpu objects exist).
 * ------------------------------------------------------------------------- */
typedef struct etpu_allocator {
  void *(*malloc_fn)(void *user, size_t size);             /* NULL on failure */
  void *(*realloc_fn)(void *user, void *ptr, size_t size); /* NULL on failure */
  void (*free_fn)(void *user, void *ptr);
  void *user;
} etpu_allocator;

/* Install an allocator; NULL restores the C library's malloc/realloc/free. */
void etpu_set_allocator(const etpu_allocator *allocator);

/* ---------------------------------------------------------------------------
 * Tensor types (TensorFlow Lite TensorType values) and operator codes.
 * ------------------------------------------------------------------------- */
typedef enum etpu_dtype {
  ETPU_FLOAT32 = 0,
  ETPU_FLOAT16 = 1,
  ETPU_INT32 = 2,
  ETPU_UINT8 = 3,
  ETPU_INT64 = 4,
  ETPU_STRING = 5,
  ETPU_BOOL = 6,
  ETPU_INT16 = 7,
  ETPU_COMPLEX64 = 8,
  ETPU_INT8 = 9,
  ETPU_FLOAT64 = 10,
  ETPU_COMPLEX128 = 11,
  ETPU_UINT64 = 12,
  ETPU_RESOURCE = 13,
  ETPU_VARIANT = 14,
  ETPU_UINT32 = 15,
  ETPU_UINT16 = 16,
  ETPU_INT4 = 17,
  ETPU_BFLOAT16 = 18,
  ETPU_INT2 = 19,
  ETPU_UINT4 = 20,
  ETPU_FLOAT8_E4M3FN = 21,
  ETPU_FLOAT8_E5M2 = 22,
} etpu_dtype;

/* TensorFlow Lite type name ("INT8"); "UNKNOWN" for values etpu does not know. */
const char *etpu_dtype_name(int32_t dtype);

/* Bytes per element (0 for STRING, RESOURCE, VARIANT and sub-byte types). */
size_t etpu_dtype_size(int32_t dtype);
/* Bytes of a tensor of this type and shape (elements x type size; 4- and
 * 2-bit types packed, rounded up), overflow-checked: 0 when a dimension is
 * negative (dynamic), the type has no fixed size or the size does not fit
 * size_t. The one place etpu computes it; etpu_tensor_info.bytes holds it. */
size_t etpu_tensor_size(int32_t dtype, uint32_t rank, const int32_t *shape);

/* Every TensorFlow Lite builtin operator, as X(code, NAME) in code order:
 * the one list etpu's op-code enum (ETPU_OP_<NAME>), its name table and
 * the interpreter's registry, the Edge TPU rules and the quantizer's rules
 * read (tests/test_model.c checks it against schema.fbs). Append-only, as
 * the schema's enum is; regenerate from src/model/schema_gen.c when the
 * schema grows. */
#define ETPU_BUILTIN_OP_LIST(X) \
  X(0, ADD) X(1, AVERAGE_POOL_2D) X(2, CONCATENATION) X(3, CONV_2D) X(4, DEPTHWISE_CONV_2D) X(5, DEPTH_TO_SPACE) \
  X(6, DEQUANTIZE) X(7, EMBEDDING_LOOKUP) X(8, FLOOR) X(9, FULLY_CONNECTED) X(10, HASHTABLE_LOOKUP) \
  X(11, L2_NORMALIZATION) X(12, L2_POOL_2D) X(13, LOCAL_RESPONSE_NORMALIZATION) X(14, LOGISTIC) \
  X(15, LSH_PROJECTION) X(16, LSTM) X(17, MAX_POOL_2D) X(18, MUL) X(19, RELU) X(20, RELU_N1_TO_1) X(21, RELU6) \
  X(22, RESHAPE) X(23, RESIZE_BILINEAR) X(24, RNN) X(25, SOFTMAX) X(26, SPACE_TO_DEPTH) X(27, SVDF) X(28, TANH) \
  X(29, CONCAT_EMBEDDINGS) X(30, SKIP_GRAM) X(31, CALL) X(32, CUSTOM) X(33, EMBEDDING_LOOKUP_SPARSE) X(34, PAD) \
  X(35, UNIDIRECTIONAL_SEQUENCE_RNN) X(36, GATHER) X(37, BATCH_TO_SPACE_ND) X(38, SPACE_TO_BATCH_ND) \
  X(39, TRANSPOSE) X(40, MEAN) X(41, SUB) X(42, DIV) X(43, SQUEEZE) X(44, UNIDIRECTIONAL_SEQUENCE_LSTM) \
  X(45, STRIDED_SLICE) X(46, BIDIRECTIONAL_SEQUENCE_RNN) X(47, EXP) X(48, TOPK_V2) X(49, SPLIT) X(50, LOG_SOFTMAX) \
  X(51, DELEGATE) X(52, BIDIRECTIONAL_SEQUENCE_LSTM) X(53, CAST) X(54, PRELU) X(55, MAXIMUM) X(56, ARG_MAX) \
  X(57, MINIMUM) X(58, LESS) X(59, NEG) X(60, PADV2) X(61, GREATER) X(62, GREATER_EQUAL) X(63, LESS_EQUAL) \
  X(64, SELECT) X(65, SLICE) X(66, SIN) X(67, TRANSPOSE_CONV) X(68, SPARSE_TO_DENSE) X(69, TILE) X(70, EXPAND_DIMS) \
  X(71, EQUAL) X(72, NOT_EQUAL) X(73, LOG) X(74, SUM) X(75, SQRT) X(76, RSQRT) X(77, SHAPE) X(78, POW) \
  X(79, ARG_MIN) X(80, FAKE_QUANT) X(81, REDUCE_PROD) X(82, REDUCE_MAX) X(83, PACK) X(84, LOGICAL_OR) \
  X(85, ONE_HOT) X(86, LOGICAL_AND) X(87, LOGICAL_NOT) X(88, UNPACK) X(89, REDUCE_MIN) X(90, FLOOR_DIV) \
  X(91, REDUCE_ANY) X(92, SQUARE) X(93, ZEROS_LIKE) X(94, FILL) X(95, FLOOR_MOD) X(96, RANGE) \
  X(97, RESIZE_NEAREST_NEIGHBOR) X(98, LEAKY_RELU) X(99, SQUARED_DIFFERENCE) X(100, MIRROR_PAD) X(101, ABS) \
  X(102, SPLIT_V) X(103, UNIQUE) X(104, CEIL) X(105, REVERSE_V2) X(106, ADD_N) X(107, GATHER_ND) X(108, COS) \
  X(109, WHERE) X(110, RANK) X(111, ELU) X(112, REVERSE_SEQUENCE) X(113, MATRIX_DIAG) X(114, QUANTIZE) \
  X(115, MATRIX_SET_DIAG) X(116, ROUND) X(117, HARD_SWISH) X(118, IF) X(119, WHILE) X(120, NON_MAX_SUPPRESSION_V4) \
  X(121, NON_MAX_SUPPRESSION_V5) X(122, SCATTER_ND) X(123, SELECT_V2) X(124, DENSIFY) X(125, SEGMENT_SUM) \
  X(126, BATCH_MATMUL) X(127, PLACEHOLDER_FOR_GREATER_OP_CODES) X(128, CUMSUM) X(129, CALL_ONCE) \
  X(130, BROADCAST_TO) X(131, RFFT2D) X(132, CONV_3D) X(133, IMAG) X(134, REAL) X(135, COMPLEX_ABS) \
  X(136, HASHTABLE) X(137, HASHTABLE_FIND) X(138, HASHTABLE_IMPORT) X(139, HASHTABLE_SIZE) X(140, REDUCE_ALL) \
  X(141, CONV_3D_TRANSPOSE) X(142, VAR_HANDLE) X(143, READ_VARIABLE) X(144, ASSIGN_VARIABLE) X(145, BROADCAST_ARGS) \
  X(146, RANDOM_STANDARD_NORMAL) X(147, BUCKETIZE) X(148, RANDOM_UNIFORM) X(149, MULTINOMIAL) X(150, GELU) \
  X(151, DYNAMIC_UPDATE_SLICE) X(152, RELU_0_TO_1) X(153, UNSORTED_SEGMENT_PROD) X(154, UNSORTED_SEGMENT_MAX) \
  X(155, UNSORTED_SEGMENT_SUM) X(156, ATAN2) X(157, UNSORTED_SEGMENT_MIN) X(158, SIGN) X(159, BITCAST) \
  X(160, BITWISE_XOR) X(161, RIGHT_SHIFT) X(162, STABLEHLO_LOGISTIC) X(163, STABLEHLO_ADD) X(164, STABLEHLO_DIVIDE) \
  X(165, STABLEHLO_MULTIPLY) X(166, STABLEHLO_MAXIMUM) X(167, STABLEHLO_RESHAPE) X(168, STABLEHLO_CLAMP) \
  X(169, STABLEHLO_CONCATENATE) X(170, STABLEHLO_BROADCAST_IN_DIM) X(171, STABLEHLO_CONVOLUTION) \
  X(172, STABLEHLO_SLICE) X(173, STABLEHLO_CUSTOM_CALL) X(174, STABLEHLO_REDUCE) X(175, STABLEHLO_ABS) \
  X(176, STABLEHLO_AND) X(177, STABLEHLO_COSINE) X(178, STABLEHLO_EXPONENTIAL) X(179, STABLEHLO_FLOOR) \
  X(180, STABLEHLO_LOG) X(181, STABLEHLO_MINIMUM) X(182, STABLEHLO_NEGATE) X(183, STABLEHLO_OR) \
  X(184, STABLEHLO_POWER) X(185, STABLEHLO_REMAINDER) X(186, STABLEHLO_RSQRT) X(187, STABLEHLO_SELECT) \
  X(188, STABLEHLO_SUBTRACT) X(189, STABLEHLO_TANH) X(190, STABLEHLO_SCATTER) X(191, STABLEHLO_COMPARE) \
  X(192, STABLEHLO_CONVERT) X(193, STABLEHLO_DYNAMIC_SLICE) X(194, STABLEHLO_DYNAMIC_UPDATE_SLICE) \
  X(195, STABLEHLO_PAD) X(196, STABLEHLO_IOTA) X(197, STABLEHLO_DOT_GENERAL) X(198, STABLEHLO_REDUCE_WINDOW) \
  X(199, STABLEHLO_SORT) X(200, STABLEHLO_WHILE) X(201, STABLEHLO_GATHER) X(202, STABLEHLO_TRANSPOSE) \
  X(203, DILATE) X(204, STABLEHLO_RNG_BIT_GENERATOR) X(205, REDUCE_WINDOW) X(206, STABLEHLO_COMPOSITE) \
  X(207, STABLEHLO_SHIFT_LEFT) X(208, STABLEHLO_CBRT) X(209, STABLEHLO_CASE)

/* Builtin operator codes (TensorFlow Lite BuiltinOperator values). */
enum {
#define ETPU_X_(code, name) ETPU_OP_##name = code,
  ETPU_BUILTIN_OP_LIST(ETPU_X_)
#undef ETPU_X_
};

/* Builtin operator name ("CONV_2D"); "UNKNOWN" for codes etpu does not know. */
const char *etpu_op_code_name(int32_t code);

/* ---------------------------------------------------------------------------
 * Models: open (verify + read), query, edit, write.
 * ------------------------------------------------------------------------- */
typedef struct etpu_model etpu_model;

/* Open and verify a .tflite file (memory-mapped, zero-copy). The file is
 * never modified. Returns ETPU_IO_ERROR (cannot read), ETPU_MALFORMED (the
 * bytes break the flatbuffer or TensorFlow Lite rules), ETPU_UNSUPPORTED
 * (well-formed content this etpu does not know, e.g. a new tensor type),
 * ETPU_OUT_OF_MEMORY. *model_out is set only on ETPU_OK. */
ETPU_WUR etpu_status etpu_model_open(const char *path, etpu_model **model_out);

/* Same, from memory. The bytes are borrowed and must outlive the model unless
 * ETPU_OPEN_COPY is given (they are also copied when not 16-byte aligned).
 * `label` names the source in error messages (may be NULL: "<buffer>"). */
#define ETPU_OPEN_COPY 1u
ETPU_WUR etpu_status etpu_model_open_buffer(const void *data, size_t size, const char *label,
                                            unsigned flags, etpu_model **model_out);

/* Create an empty model (one empty subgraph, the sentinel buffer 0). */
ETPU_WUR etpu_status etpu_model_create(etpu_model **model_out);

/* Release a model and everything it owns; NULL is a no-op. */
void etpu_model_free(etpu_model *model);

/* The name used in messages (the path, or the label). Never NULL. */
const char *etpu_model_label(const etpu_model *model);

/* Write flags. */
#define ETPU_WRITE_COMPACT 1u /* drop buffers no tensor, op or metadata uses */

/* Serialize to a new heap buffer (free with etpu_free). */
ETPU_WUR etpu_status etpu_model_write_buffer(const etpu_model *model, unsigned flags, void **data_out,
                                             size_t *size_out);

/* Write atomically: to "<path>.tmp.<pid>" then rename over path. */
ETPU_WUR etpu_status etpu_model_write_file(const etpu_model *model, const char *path, unsigned flags);

/* Write bytes to path atomically (temporary file in the same folder, then
 * rename): a reader never sees a partial file; on failure any existing file
 * is untouched. */
ETPU_WUR etpu_status etpu_write_file_atomic(const char *path, const void *data, size_t size);

/* Check, before long work, that etpu_write_file_atomic (and so
 * etpu_model_write_file, etpu_npy_write) can write path: the temporary file
 * it would use is created in path's folder and removed again; path must not
 * be a folder. Nothing else is touched (an existing file at path stays).
 * Files etpu writes get mode 0666 less the process umask, like any file the
 * user creates. Errors: ETPU_IO_ERROR naming path and the reason (no such
 * folder, permission denied, a folder), ETPU_INVALID_ARGUMENT (NULL or ""),
 * ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_file_check_writable(const char *path);

/* Free memory returned by etpu (etpu_model_write_buffer, ...). */
void etpu_free(void *ptr);

/* Model-level facts. */
uint32_t etpu_model_subgraph_count(const etpu_model *model);
uint32_t etpu_model_schema_version(const etpu_model *model);
const char *etpu_model_description(const etpu_model *model); /* "" if none */
uint32_t etpu_model_buffer_count(const etpu_model *model);
uint32_t etpu_model_metadata_count(const etpu_model *model);
/* Metadata entry i: name and its buffer's bytes. */
ETPU_WUR etpu_status etpu_model_metadata(const etpu_model *model, uint32_t index, const char **name_out,
                                         const void **data_out, size_t *size_out);
/* The normalization that the model's TensorFlow Lite metadata (the
 * "TFLITE_METADATA" entry tflite-support writes, schema "M001") records for
 * graph input `input` of subgraph 0: the first NormalizationOptions among
 * that input's process units, meaning real = (x - mean[c]) / std[c] for
 * channel c. mean and std are broadcast to one count (a single value stands
 * for every channel): *count_out values are written to mean_out[] and
 * std_out[], each with room for cap. Returns ETPU_OK with *count_out = 0 when
 * the model has no such metadata or it records no normalization for the
 * input (no error message is set). Errors: ETPU_INVALID_ARGUMENT (no such
 * input; more than cap values, the message says how many), ETPU_MALFORMED
 * (the metadata buffer breaks a FlatBuffer bounds or offset rule on the path
 * read, or holds mean and std of different lengths, a std <= 0 or a value
 * that is not finite), ETPU_UNSUPPORTED (a metadata file identifier other
 * than "M001"). The metadata is advisory: a model whose metadata fails here
 * still opens and runs. */
ETPU_WUR etpu_status etpu_model_input_normalization(const etpu_model *model, uint32_t input, uint32_t cap,
                                                    float *mean_out, float *std_out, uint32_t *count_out);

/* Record in the model's TensorFlow Lite metadata that graph input `input`
 * of subgraph 0 takes real = (x - mean) / std, one value for every channel,
 * so that etpu_model_input_normalization (etpu run, etpu quantize) and
 * tflite-support's readers find it. When the metadata already records exactly
 * that, nothing changes (*changed_out false). Otherwise the "TFLITE_METADATA"
 * entry is replaced (or added) by a new one holding one TensorMetadata per
 * graph input with its NormalizationOptions (this input's new values, the
 * others' as recorded before): anything else the old entry held (names,
 * descriptions, associated files, output metadata) is not kept;
 * *changed_out (may be NULL) true. Written by etpu_model_write_file and
 * etpu_model_write_buffer. Errors: ETPU_INVALID_ARGUMENT (no such input, a
 * value not finite, std <= 0), ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_model_set_input_normalization(etpu_model *model, uint32_t input, float mean, float std,
                                                        bool *changed_out);

/* SignatureDefs: the named entry points TensorFlow's converter records
 * (SavedModel signatures, e.g. "serving_default"), each mapping input and
 * output names to tensors of one subgraph. Indices are checked when the
 * model is opened. Edits that change graph inputs or outputs drop them. */
typedef struct etpu_signature_info {
  const char *key;        /* signature_key; "" if none */
  uint32_t subgraph;      /* the subgraph the signature runs */
  uint32_t input_count;   /* entries of its input map */
  uint32_t output_count;  /* entries of its output map */
} etpu_signature_info;
uint32_t etpu_model_signature_count(const etpu_model *model);
/* Signature `index`. ETPU_INVALID_ARGUMENT when it does not exist. */
ETPU_WUR etpu_status etpu_model_signature(const etpu_model *model, uint32_t index, etpu_signature_info *info_out);
/* Entry k of signature `index`'s input map (output false) or output map:
 * its name ("" if none) and tensor index in the signature's subgraph (either
 * output may be NULL). ETPU_INVALID_ARGUMENT when either does not exist. */
ETPU_WUR etpu_status etpu_model_signature_tensor(const etpu_model *model, uint32_t index, bool output, uint32_t k,
                                                 const char **name_out, uint32_t *tensor_out);

/* Subgraph-level facts. */
uint32_t etpu_model_tensor_count(const etpu_model *model, uint32_t subgraph);
uint32_t etpu_model_op_count(const etpu_model *model, uint32_t subgraph);
const char *etpu_model_subgraph_name(const etpu_model *model, uint32_t subgraph); /* "" if none */
/* Graph inputs / outputs: tensor indices. */
uint32_t etpu_model_input_count(const etpu_model *model, uint32_t subgraph);
uint32_t etpu_model_output_count(const etpu_model *model, uint32_t subgraph);
int32_t etpu_model_input(const etpu_model *model, uint32_t subgraph, uint32_t i);
int32_t etpu_model_output(const etpu_model *model, uint32_t subgraph, uint32_t i);

/* A read-only view of a tensor; pointers stay valid until the model is
 * edited or closed. */
typedef struct etpu_tensor_info {
  const char *name;             /* "" if none */
  int32_t type;                 /* etpu_dtype */
  uint32_t rank;                /* number of dimensions */
  const int32_t *shape;         /* rank entries */
  uint32_t signature_rank;      /* 0 if the model has no shape_signature */
  const int32_t *shape_signature; /* -1 marks a dynamic dimension */
  uint32_t quant_count;         /* 0 = not quantized; 1 = per tensor; else per axis */
  const float *scale;           /* quant_count entries */
  const int64_t *zero_point;    /* quant_count entries */
  int32_t quantized_dimension;  /* axis of per-axis quantization */
  uint32_t buffer;              /* model buffer index; 0 = none */
  const void *data;             /* constant data, NULL if none */
  size_t data_size;             /* bytes of constant data */
  bool is_variable;             /* state tensor (e.g. LSTM) */
  bool is_sparse;               /* has sparsity parameters */
  int32_t producer;             /* index of the op writing it, -1 if none */
  uint32_t consumer_count;      /* number of (op, input slot) uses */
  size_t bytes;                 /* the data's byte size as declared (elements x type size; 4- and 2-bit types
                                 * packed); 0 when a dimension is dynamic or negative, the type has no fixed
                                 * size (STRING, RESOURCE, VARIANT) or the size overflows */
} etpu_tensor_info;

ETPU_WUR etpu_status etpu_model_tensor(const etpu_model *model, uint32_t subgraph, uint32_t index,
                                       etpu_tensor_info *info_out);

/* A read-only view of an operator. */
typedef struct etpu_op_info {
  int32_t code;               /* BuiltinOperator; ETPU_OP_CUSTOM for custom ops */
  const char *name;           /* builtin name, or the custom code for custom ops */
  int32_t version;            /* OperatorCode.version */
  uint32_t opcode_index;      /* index in the model's operator_codes */
  uint32_t input_count;
  const int32_t *inputs;      /* tensor indices; -1 = omitted optional input */
  uint32_t output_count;
  const int32_t *outputs;
  const char *options_name;   /* builtin options table name, "" if none */
  const void *custom_options; /* custom op bytes, NULL if none */
  size_t custom_options_size;
} etpu_op_info;

ETPU_WUR etpu_status etpu_model_op(const etpu_model *model, uint32_t subgraph, uint32_t index,
                                   etpu_op_info *info_out);

/* Builtin option values of an op by field name ("stride_w", "padding"),
 * schema defaults applied. ETPU_INVALID_ARGUMENT if the op's options table has
 * no such scalar field. */
ETPU_WUR etpu_status etpu_model_op_option_int(const etpu_model *model, uint32_t subgraph, uint32_t op,
                                              const char *field, int64_t *value_out);
ETPU_WUR etpu_status etpu_model_op_option_float(const etpu_model *model, uint32_t subgraph, uint32_t op,
                                                const char *field, double *value_out);

/* Write the options of an op as a JSON object (enum values by name) into
 * buf (always NUL-terminated when cap > 0); returns the length needed. */
size_t etpu_model_op_options_json(const etpu_model *model, uint32_t subgraph, uint32_t op, char *buf,
                                  size_t cap);

/* ---------------------------------------------------------------------------
 * Building and editing (subgraph 0 unless stated). Indices of existing
 * tensors and ops stay valid across additions; removals renumber later ones.
 * ------------------------------------------------------------------------- */

/* Quantization to attach to a tensor (copied). */
typedef struct etpu_quant_params {
  uint32_t count;              /* 0 = none */
  const float *scale;
  const int64_t *zero_point;
  int32_t quantized_dimension;
} etpu_quant_params;

/* Add a tensor. data/size: constant contents (copied) or NULL/0 for an
 * activation. Returns its index in *index_out. */
ETPU_WUR etpu_status etpu_model_add_tensor(etpu_model *model, uint32_t subgraph, const char *name,
                                           int32_t type, uint32_t rank, const int32_t *shape,
                                           const etpu_quant_params *quant, const void *data, size_t size,
                                           int32_t *index_out);

/* Set or replace a tensor's constant data (copied; size must match). */
ETPU_WUR etpu_status etpu_model_set_tensor_data(etpu_model *model, uint32_t subgraph, uint32_t tensor,
                                                const void *data, size_t size);

/* Replace a tensor's quantization (copied; count 0 removes it). */
ETPU_WUR etpu_status etpu_model_set_tensor_quant(etpu_model *model, uint32_t subgraph, uint32_t tensor,
                                                 const etpu_quant_params *quant);

/* Mark a tensor as a variable (state) tensor. */
ETPU_WUR etpu_status etpu_model_set_tensor_variable(etpu_model *model, uint32_t subgraph, uint32_t tensor,
                                                    bool is_variable);

/* Builtin option value for etpu_model_add_op: a field by name. */
typedef struct etpu_option {
  const char *field;  /* schema field name of the op's options table */
  int64_t i;          /* integer / bool / enum value */
  double f;           /* float value (used for float fields) */
  uint32_t count;     /* >0: an int vector field (e.g. new_shape) */
  const int32_t *ints;
} etpu_option;

/* Append an op. code: builtin code; custom_code: for ETPU_OP_CUSTOM. The
 * options table is chosen from the op code (Conv2DOptions for CONV_2D, ...);
 * fields not given keep the schema defaults. */
ETPU_WUR etpu_status etpu_model_add_op(etpu_model *model, uint32_t subgraph, int32_t code,
                                       const char *custom_code, int32_t version, uint32_t input_count,
                                       const int32_t *inputs, uint32_t output_count, const int32_t *outputs,
                                       uint32_t option_count, const etpu_option *options,
                                       const void *custom_options, size_t custom_options_size,
                                       int32_t *index_out);

/* Remove an op (its tensors stay). */
ETPU_WUR etpu_status etpu_model_remove_op(etpu_model *model, uint32_t subgraph, uint32_t op);

/* Remove a tensor no op and no graph input/output uses; later indices shift. */
ETPU_WUR etpu_status etpu_model_remove_tensor(etpu_model *model, uint32_t subgraph, uint32_t tensor);

/* Set the graph inputs / outputs (tensor indices, copied). */
ETPU_WUR etpu_status etpu_model_set_io(etpu_model *model, uint32_t subgraph, uint32_t input_count,
                                       const int32_t *inputs, uint32_t output_count, const int32_t *outputs);

/* Set the model description string (copied). */
ETPU_WUR etpu_status etpu_model_set_description(etpu_model *model, const char *description);

/* Check the graph's semantic rules again after edits (the same rules as
 * etpu_model_open). */
ETPU_WUR etpu_status etpu_model_validate(const etpu_model *model);


/* ---------------------------------------------------------------------------
 * Google's Edge TPU package: what edgetpu_compiler writes into an
 * edgetpu-custom-op's custom_options (EDGETPU.md §20), read and verified
 * field by field: a FlexBuffers map whose key "4" holds a DarwiNN Package
 * (FlatBuffer, identifier "DWN1") → MultiExecutable → Executables. The
 * 1.0-era layout (key "4" a bare Executable, key "3" a parameter-caching one)
 * is read too. The instruction bitstreams are not decoded.
 * Every string and byte array points into the bytes given to
 * etpu_package_read (borrowed: they must outlive the package); strings are
 * verified NUL-terminated but may hold any bytes — escape them to print.
 * ------------------------------------------------------------------------- */
typedef enum etpu_pkg_exe_type {
  ETPU_PKG_STAND_ALONE = 0,       /* streams its parameters on every inference */
  ETPU_PKG_PARAMETER_CACHING = 1, /* loads its parameters into on-chip memory once */
  ETPU_PKG_EXECUTION_ONLY = 2,    /* runs per inference, parameters already cached */
} etpu_pkg_exe_type;

/* "STAND_ALONE", "PARAMETER_CACHING", "EXECUTION_ONLY"; "UNKNOWN" otherwise. */
const char *etpu_pkg_exe_type_name(int32_t type);
/* DarwiNN DataType name ("FIXED_POINT8", "SIGNED_FIXED_POINT16", ...);
 * "UNKNOWN" otherwise. */
const char *etpu_pkg_dtype_name(int32_t data_type);

/* An input or output layer of an executable. */
typedef struct etpu_pkg_layer {
  const char *name;               /* "" when absent */
  int32_t size_bytes;             /* padded, batch 1 */
  int32_t y_dim, x_dim, z_dim;
  int32_t data_type;              /* DarwiNN DataType (etpu_pkg_dtype_name) */
  bool has_numerics;              /* zero_point and scale present */
  int32_t zero_point;
  float scale;                    /* dequantization factor */
  int32_t execution_count;        /* per inference (schema default 1) */
  bool cache_on_dram;
  bool is_output;                 /* the layer's union member is OutputLayer */
  uint32_t rank;                  /* TensorShape dimensions, 0 if absent */
  const int32_t *dim_start;       /* rank entries: each dimension's [start, end] range */
  const int32_t *dim_end;
} etpu_pkg_layer;

/* One DMA hint. kind: 1 descriptor, 2 instruction, 3 interrupt, 4 fence
 * (the schema's AnyHint members); direction 0 infeed, 1 outfeed. */
typedef struct etpu_pkg_dma_hint {
  int32_t kind;
  int32_t direction;
  int32_t desc;                  /* descriptor: the Meta's Description (0 output activation,
                                  * 1 input activation, 2 parameter, 3 scratch) */
  int32_t offset_in_bytes;       /* descriptor */
  int32_t size_in_bytes;         /* descriptor */
  int32_t value;                 /* instruction: chunk index; interrupt: its type */
} etpu_pkg_dma_hint;

/* One Executable, every field of the schema. */
typedef struct etpu_pkg_executable {
  int32_t version;
  const char *name;                  /* "" when absent */
  const char *chip;                  /* "beagle" on every Coral file */
  int32_t type;                      /* etpu_pkg_exe_type; absent = STAND_ALONE */
  int32_t batch_size;
  int32_t scratch_size_bytes;
  size_t serialized_model_size;
  uint32_t bitstream_count;          /* instruction bitstreams */
  const size_t *bitstream_sizes;     /* bytes of each */
  const uint32_t *field_offset_counts; /* relocation entries of each */
  size_t instruction_bytes;          /* sum of bitstream_sizes */
  const uint8_t *parameters;         /* the parameter data (EDGETPU.md §20.3) */
  size_t parameters_size;
  uint32_t dma_hint_count;
  const etpu_pkg_dma_hint *dma_hints;
  bool dma_fully_deterministic;
  uint32_t input_count, output_count;
  const etpu_pkg_layer *inputs, *outputs;
  int32_t estimated_cycles;          /* deprecated 32-bit field (0 on Coral's files) */
  int64_t estimated_cycles_64bit;    /* 0 when absent */
  int32_t used_narrow_memory_bytes_per_tile;
  uint64_t parameter_caching_token;
  bool use_tpu_dram_for_parameters;
} etpu_pkg_executable;

typedef struct etpu_package {
  bool legacy;                       /* 1.0-era layout: bare Executables, no Package */
  int64_t options_version;           /* custom options key "1" */
  bool has_execution_preference;
  int64_t execution_preference;      /* key "5" */
  uint32_t chip_id_count;            /* key "6" */
  const int64_t *chip_ids;
  uint32_t extra_count;              /* key "7": further serialized packages (not decoded; counted) */
  /* The Package (all zero / "" when legacy). */
  int32_t min_runtime_version;
  int32_t keypair_version;
  int32_t virtual_chip_id;
  const char *compiler_version;
  const char *model_identifier;
  size_t signature_size;
  uint32_t multi_chip_package_count; /* nested per-chip packages (not decoded; counted) */
  uint32_t executable_count;
  const etpu_pkg_executable *executables;
} etpu_package;

/* Read and verify an edgetpu-custom-op's custom options. `label` names the
 * source in messages (e.g. "m_edgetpu.tflite: op 0"; NULL: "<buffer>").
 * ETPU_MALFORMED when any offset, length, count or nesting breaks the
 * FlexBuffers / FlatBuffers rules or the schema (message names the object
 * and the rule), ETPU_UNSUPPORTED for a layout etpu does not know (e.g.
 * etpu's own payload). The bytes are borrowed. */
ETPU_WUR etpu_status etpu_package_read(const void *custom_options, size_t size, const char *label,
                                       etpu_package **package_out);
/* Same, from op `op` of subgraph `subgraph` of a model (an
 * edgetpu-custom-op); borrows the model's bytes. */
ETPU_WUR etpu_status etpu_model_package(const etpu_model *model, uint32_t subgraph, uint32_t op,
                                        etpu_package **package_out);
void etpu_package_free(etpu_package *package);

/* A byte count as edgetpu_compiler prints it: binary units with two
 * decimals ("0.00B", "41.75KiB", "3.72MiB"). Writes into buf (NUL-terminated
 * when cap > 0); returns buf. */
char *etpu_format_bytes(uint64_t bytes, char *buf, size_t cap);
/* Parameter bytes of the executables of one type (on-chip cached:
 * PARAMETER_CACHING; streamed: EXECUTION_ONLY plus STAND_ALONE). */
uint64_t etpu_package_parameter_bytes(const etpu_package *package, etpu_pkg_exe_type type);
/* Google's estimated cycles per inference: the largest estimated_cycles_64bit
 * (else estimated_cycles) of the executables run per inference
 * (EXECUTION_ONLY, STAND_ALONE); 0 when the package carries none. */
int64_t etpu_package_estimated_cycles(const etpu_package *package);

/* ---------------------------------------------------------------------------
 * Edge TPU parameter data (EDGETPU.md §20.3): the bytes edgetpu_compiler
 * caches on chip (a PARAMETER_CACHING executable's `parameters`), encoded
 * from a source .tflite and decoded back to per-layer values.
 * ------------------------------------------------------------------------- */

/* One region of the parameter data: a mapped CONV_2D, DEPTHWISE_CONV_2D or
 * FULLY_CONNECTED (or a SOFTMAX's tables). */
typedef struct etpu_param_layer {
  uint32_t op;                 /* op index in the source model */
  int32_t code;                /* ETPU_OP_CONV_2D, _DEPTHWISE_CONV_2D, _FULLY_CONNECTED, _SOFTMAX */
  uint32_t out_channels, in_channels, kernel_h, kernel_w; /* SOFTMAX: classes in both */
  bool per_channel;            /* per-channel header (f32 scale, bias, zero point) */
  bool signed_weights;         /* int8 weights, stored XOR 0x80 */
  int32_t kxk_order;           /* row order: 0 (ky, kx, group), 1 (group, ky, kx) */
  size_t offset, size;         /* the region in the data */
  /* The values (etpu_params_encode: the source's; etpu_params_decode: the data's): */
  uint8_t *weights;            /* raw TFLite bytes, the source's layout ([O][KH][KW][I], [1][KH][KW][C], [O][I]) */
  int32_t *bias;               /* out_channels */
  uint32_t *zero_point;        /* out_channels, as stored (int8: zero point + 128); a per-tensor zero point is
                                * in the data only as padding: without padding decode keeps the layout's */
  float *scale;                /* out_channels effective scales f32(f32(s_in * s_w) * f32(1 / s_out)) (per-tensor
                                * layers: not in the data, decode copies the layout's); SOFTMAX: scale[0] = s_in */
  bool exact;                  /* decode: re-encoding the decoded values gives the region's bytes */
} etpu_param_layer;

typedef struct etpu_params {
  uint32_t layer_count;
  etpu_param_layer *layers;    /* in execution order */
  uint8_t *data;               /* the parameter bytes */
  size_t size;
  bool softmax_tables;         /* the variant with SOFTMAX tables */
  uint32_t unencoded_count;    /* mapped ops with constant parameters the codec does not know (LSTM) */
  const uint32_t *unencoded_ops;
} etpu_params;

typedef struct etpu_params_options {
  size_t struct_size;               /* sizeof(etpu_params_options) */
  uint32_t output_count;            /* the partition's outputs in the executable's order (names), */
  const char *const *output_names;  /* which decides the order of parallel branches; 0 = graph order */
  bool softmax_tables;              /* write SOFTMAX tables (2020 test_data builds) */
} etpu_params_options;

void etpu_params_options_init(etpu_params_options *options);
/* Encode the parameter data of the part of `source` that etpu compile maps
 * (subgraph 0). options may be NULL. */
ETPU_WUR etpu_status etpu_params_encode(const etpu_model *source, const etpu_params_options *options,
                                        etpu_params **params_out);
/* Decode `data` (e.g. Google's PARAMETER_CACHING parameters) with the layer
 * geometry of `layout` (from etpu_params_encode of the source): per layer
 * the weights, biases, zero points and effective scales. Each K x K conv is
 * read in the row order that re-encodes to its bytes (both are tried).
 * ETPU_MALFORMED when data is shorter than the layout. */
ETPU_WUR etpu_status etpu_params_decode(const etpu_params *layout, const void *data, size_t size,
                                        etpu_params **params_out);
void etpu_params_free(etpu_params *params);
/* Match a compiled package against its supposed source: encode the source
 * in the package's output order (the SOFTMAX-table variant chosen when it
 * makes the sizes agree; regions located by content when the codec could
 * not encode every op, e.g. LSTM), then decode the package's
 * PARAMETER_CACHING data with that layout. Compare the two layer by layer
 * with etpu_param_layer_diff and the decoded layers' `exact`. */
ETPU_WUR etpu_status etpu_params_match_package(const etpu_model *source, const etpu_package *package,
                                               etpu_params **source_out, etpu_params **decoded_out);
/* NULL when two layers hold the same values; else what differs first:
 * "shape", "weights", "bias", "zero point" or "scale". */
const char *etpu_param_layer_diff(const etpu_param_layer *a, const etpu_param_layer *b);

/* ---------------------------------------------------------------------------
 * Compiling for the Edge TPU (the decisions of Google's edgetpu_compiler, in
 * the open). The output's edgetpu-custom-op carries etpu's own payload (the
 * mapped subgraph as a .tflite), which etpu's runtime simulates; it does not
 * run on a physical Edge TPU.
 * ------------------------------------------------------------------------- */
typedef struct etpu_compile_options {
  int32_t min_runtime_version;      /* 10..14; 0 = 14 (edgetpu_compiler v16's default) */
  uint32_t intermediate_count;      /* -i: tensor names where the Edge TPU part stops; with none, */
  const char *const *intermediate_tensors; /* a graph ending in an on-device learning layer (libcoral's
                                             imprinting tail, or its appended "Appended/FC/Weights" layer)
                                             stops at that layer's input, which stays on the CPU */
  bool multiple_subgraphs;          /* -a: every run of mappable ops becomes a segment */
  uint32_t num_segments;            /* -n: pipeline segments; 0 or 1 = one model */
} etpu_compile_options;

/* Why an op is where it is. The first eight are the real compiler's statuses. */
#define ETPU_MAP_STATUS_LIST(X)                                                                              \
  X(ETPU_MAPPED, 0, "Mapped to Edge TPU")                                                                    \
  X(ETPU_NOT_MAPPED_AFTER_CUT, 1, "More than one subgraph is not supported")                               \
  X(ETPU_NOT_MAPPED_LIMITATION, 2, "Operation is otherwise supported, but not mapped due to some unspecified limitation") \
  X(ETPU_NOT_MAPPED_DATA_TYPE, 3, "Operation is working on an unsupported data type")                      \
  X(ETPU_NOT_MAPPED_RANK, 4, "Tensor has unsupported rank (up to 3 innermost dimensions mapped)")          \
  X(ETPU_NOT_MAPPED_OP, 5, "Operation not supported")                                                      \
  X(ETPU_NOT_MAPPED_VERSION, 6, "Operation version not supported")                                         \
  X(ETPU_NOT_MAPPED_NOT_CONSTANT, 7, "Filter, bias, or other param is not constant at compile-time")

typedef enum etpu_map_status {
#define ETPU_X_(name, value, text) name = value,
  ETPU_MAP_STATUS_LIST(ETPU_X_)
#undef ETPU_X_
} etpu_map_status;

/* The real compiler's status string for a status. Never NULL. */
const char *etpu_map_status_text(etpu_map_status status);

typedef struct etpu_compilation etpu_compilation;

/* Decide the mapping of every op of subgraph 0 and build the output
 * model(s). The model must stay open while the compilation is used.
 * Errors: ETPU_INVALID_ARGUMENT (bad options, unknown -i tensor),
 * ETPU_UNSUPPORTED (dynamic shapes, model not quantized: the cases where
 * the real compiler refuses the whole model; a model already holding an
 * edgetpu-custom-op, Google's or etpu's: the message says whose),
 * ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_compile(const etpu_model *model, const etpu_compile_options *options,
                                  etpu_compilation **compilation_out);
void etpu_compilation_free(etpu_compilation *c);

/* Per-op decision. Strings live as long as the compilation. */
typedef struct etpu_op_mapping {
  uint32_t op;             /* op index in the input model */
  const char *op_name;     /* builtin name or custom code */
  etpu_map_status status;
  bool on_edgetpu;
  bool before_cut;         /* a CPU op that runs before the Edge TPU part */
  int32_t segment;         /* Edge TPU segment (or pipeline segment with -n), -1 for CPU ops */
  const char *reason;      /* the rule broken, with values; "" when mapped */
  const char *fix;         /* what would fix it; "" if nothing to suggest */
  int32_t blocked_by;      /* for ops behind the cut: the CPU op that started the cut, else -1 */
} etpu_op_mapping;

uint32_t etpu_compilation_op_count(const etpu_compilation *c);
ETPU_WUR etpu_status etpu_compilation_op(const etpu_compilation *c, uint32_t index, etpu_op_mapping *out);

typedef struct etpu_compile_summary {
  uint32_t total_ops, edgetpu_ops, cpu_ops;
  uint32_t edgetpu_subgraphs;      /* custom ops written */
  uint32_t output_models;          /* 1, or N with num_segments */
  int32_t min_runtime_version;     /* the -m used */
  int32_t required_runtime_version; /* lowest runtime the mapped ops need */
  uint64_t parameter_bytes;        /* constant data of mapped ops */
  uint64_t on_chip_bytes;          /* estimated cached on chip */
  uint64_t on_chip_remaining_bytes;
  uint64_t off_chip_bytes;         /* estimated streamed per inference */
} etpu_compile_summary;

void etpu_compilation_summary(const etpu_compilation *c, etpu_compile_summary *out);

/* Serialize output model k (0 .. output_models-1) into a heap buffer
 * (etpu_free). Deterministic: the same input and options give the same bytes. */
ETPU_WUR etpu_status etpu_compilation_write(const etpu_compilation *c, uint32_t k, void **data_out, size_t *size_out);

/* Share on-chip parameter memory between models compiled together (the
 * real compiler's co-compilation): models earlier in the list are cached
 * first. Updates each compilation's memory estimate. */
void etpu_compilation_cocompile(etpu_compilation *const *list, uint32_t count);

/* Reports. kind: 0 = console text of the real compiler (with etpu's
 * explanations after it), 1 = the .log file, 2 = JSON. `input_path`,
 * `output_path`, `log_path` are the names to print; show_ops adds the
 * operator table to the console text (-s). Returns a heap string (etpu_free). */
typedef struct etpu_report_options {
  const char *input_path;
  const char *output_path;  /* first output model (or the only one) */
  const char *log_path;
  uint64_t input_bytes, output_bytes;
  bool show_operations;
  double elapsed_ms;
  int32_t model_filter;     /* .log of pipeline segment k only; -1 = every op */
} etpu_report_options;
typedef enum etpu_report_kind {
  ETPU_REPORT_CONSOLE = 0, /* what edgetpu_compiler prints */
  ETPU_REPORT_LOG = 1,     /* its .log file */
  ETPU_REPORT_JSON = 2,    /* etpu's JSON for scripts */
} etpu_report_kind;
ETPU_WUR etpu_status etpu_compilation_report(const etpu_compilation *c, etpu_report_kind kind,
                                             const etpu_report_options *o, char **text_out);

/* ---------------------------------------------------------------------------
 * Targets: which Coral device a report assumes (the link to the Edge TPU,
 * the host CPU), an Edge TPU latency estimate, and the Dev Board Micro
 * verdict (will the CPU part run under TensorFlow Lite Micro, and does it
 * fit the board's memories). src/compile/target.c, src/compile/micro.c.
 * ------------------------------------------------------------------------- */
typedef enum etpu_target {
  ETPU_TARGET_USB = 0,            /* USB Accelerator (USB 3.0) on an x86-64 desktop host: the default */
  ETPU_TARGET_PCIE = 1,           /* M.2 / mini-PCIe Accelerator (PCIe Gen2 x1) on an x86-64 desktop host */
  ETPU_TARGET_DEVBOARD = 2,       /* Dev Board (i.MX 8M, Cortex-A53 host, Edge TPU on PCIe Gen2 x1) */
  ETPU_TARGET_DEVBOARD_MICRO = 3, /* Dev Board Micro (i.MX RT1176 MCU; CPU ops run under TensorFlow Lite Micro) */
} etpu_target;

/* "usb", "pcie", "devboard", "devboard-micro"; "unknown" otherwise. */
const char *etpu_target_name(int target);
/* One line naming the device, its link and host ("USB Accelerator (USB 3.0)
 * on an x86-64 host"). Never NULL. */
const char *etpu_target_description(int target);
/* Parse a --target value (the names above). ETPU_INVALID_ARGUMENT for
 * anything else (the message lists the names). */
ETPU_WUR etpu_status etpu_target_parse(const char *name, etpu_target *target_out);

/* An Edge TPU latency estimate for one inference (EDGETPU.md §16, §20.5):
 *   total = fixed + transfer + tpu + streamed + cpu
 * fixed: per-inference overhead of the target (fitted, src/compile/target.c
 * says from what); transfer: input, output and instruction bytes over the
 * target's link; tpu: Edge TPU cycles at 500 MHz, from the graph
 * (MACs / 1250 + 0.035 x output-activation bytes of the mapped ops) or from
 * a package's estimated cycles; streamed: parameters that do not fit the
 * on-chip cache, over the link; cpu: the ops left on the CPU, from their MACs
 * and output elements at the host's fitted rate. A model, not a
 * measurement: cycles_known false means the Edge TPU cycles could not be
 * counted (total is then a lower bound without them). */
typedef struct etpu_latency {
  etpu_target target;
  bool estimated;          /* false: the target has no estimate (devboard-micro) or nothing runs on the Edge TPU */
  bool cycles_known;       /* false: the Edge TPU part's cycles are unknown (total_ms is a lower bound) */
  const char *cycles_from; /* "graph", "package", "package and graph" or "unknown" */
  double total_ms, fixed_ms, transfer_ms, tpu_ms, streamed_ms, cpu_ms;
  uint64_t edgetpu_macs;   /* multiply-accumulates of the mapped ops */
  uint64_t cycles;         /* Edge TPU cycles used for tpu_ms */
  uint64_t link_bytes;     /* input + output + instruction bytes per inference */
  uint64_t streamed_bytes; /* parameter bytes streamed per inference */
  uint64_t cpu_macs;       /* multiply-accumulates of the CPU ops */
  uint64_t cpu_elements;   /* output elements of the CPU ops (their non-MAC work) */
  uint32_t edgetpu_ops, cpu_ops, segments;
  const char *note;        /* why not estimated, or what the figure leaves out; "" if nothing. Static. */
} etpu_latency;

/* The latency estimate of a compilation on a target. ETPU_INVALID_ARGUMENT
 * (NULL, unknown target). */
ETPU_WUR etpu_status etpu_compilation_latency(const etpu_compilation *c, etpu_target target, etpu_latency *out);

/* The latency estimate of a compiled model as given: etpu's payload is read
 * (its embedded graph gives the cycles); Google's package gives its
 * instruction and streamed parameter bytes and, when the build wrote one, its
 * cycle estimate (estimated_cycles_64bit) — without it cycles_known is false
 * and the figure a lower bound. A model with
 * no edgetpu-custom-op gives estimated = false. Errors: ETPU_INVALID_ARGUMENT,
 * ETPU_MALFORMED (an etpu payload whose embedded model does not open),
 * ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_model_latency(const etpu_model *model, etpu_target target, etpu_latency *out);

/* The target a compilation's reports assume (default ETPU_TARGET_USB): the
 * console text, the .log and JSON name it and give the latency estimate;
 * ETPU_TARGET_DEVBOARD_MICRO adds the Dev Board Micro verdict of output
 * model 0. Errors: ETPU_INVALID_ARGUMENT, ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_compilation_set_target(etpu_compilation *c, etpu_target target);

/* Dev Board Micro verdict of a model as given (src/compile/micro.c): every
 * op but the edgetpu-custom-op runs on the MCU under TensorFlow Lite Micro
 * at the commit google-coral/coralmicro pins (24c08505); each is checked
 * against TFLM's op list and the data types its kernels take; the tensor
 * arena is estimated as TFLM's greedy planner lays it out plus its
 * persistent allocations; arena, model and parameter bytes are compared
 * with the board's memories. */
typedef enum etpu_micro_fit {
  ETPU_MICRO_FITS_SRAM = 0,  /* arena fits the on-chip OCRAM section and the model the heap */
  ETPU_MICRO_FITS_SDRAM = 1, /* arena too large for OCRAM, fits the SDRAM section */
  ETPU_MICRO_TOO_LARGE = 2,  /* the arena or the model does not fit the board */
} etpu_micro_fit;

typedef struct etpu_micro_op {
  uint32_t op;          /* op index in subgraph 0 */
  const char *op_name;  /* builtin name or custom code */
  bool supported;       /* TFLM at coralmicro's commit runs it with these types */
  bool registered;      /* an application can register it (TFLM's resolver or a known custom op); false: TFLM
                         * lacks the op altogether (supported false, whatever the types) */
  const char *reason;   /* why not ("" when supported) */
  const char *fix;      /* what to do instead ("" when supported) */
} etpu_micro_op;

typedef struct etpu_micro_verdict {
  bool runs;                 /* every MCU op supported and fit != ETPU_MICRO_TOO_LARGE */
  etpu_micro_fit fit;
  uint32_t mcu_ops;          /* ops run by TFLM (all but edgetpu-custom-ops) */
  uint32_t missing_ops;      /* of which TFLM cannot run */
  bool uint8_model;          /* a uint8 (legacy-quantized) op runs on the MCU: fails in this TFLM */
  uint64_t arena_bytes;      /* estimated arena_used_bytes: head + tail */
  uint64_t arena_head_bytes; /* planned tensors and scratch buffers (greedy by size, 16-byte aligned) */
  uint64_t arena_tail_bytes; /* persistent: interpreter, tensors, nodes, op data, variables */
  uint64_t model_bytes;      /* the .tflite in flash and, loaded, in the heap */
  uint64_t edgetpu_parameter_bytes; /* Edge TPU parameters (etpu payload; Google's: the custom op's bytes, an upper bound) */
  uint64_t sram_bytes, sdram_bytes, heap_bytes, flash_bytes; /* the board's limits used */
  const char *summary;       /* "fits ... / does not ... by N bytes because ..." */
} etpu_micro_verdict;

typedef struct etpu_micro etpu_micro;

/* Check a model (subgraph 0) for the Dev Board Micro. model_bytes: the
 * file's size (0: the model's serialized size). The model must stay open
 * while the result is used. Errors: ETPU_INVALID_ARGUMENT, ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_micro_check(const etpu_model *model, uint64_t model_bytes, etpu_micro **micro_out);
void etpu_micro_free(etpu_micro *micro);
void etpu_micro_summary(const etpu_micro *micro, etpu_micro_verdict *out);
/* The MCU ops, in op order (edgetpu-custom-ops are not listed). */
uint32_t etpu_micro_op_count(const etpu_micro *micro);
ETPU_WUR etpu_status etpu_micro_op_info(const etpu_micro *micro, uint32_t i, etpu_micro_op *out);
/* The verdict as text (kind ETPU_REPORT_CONSOLE: lines starting "etpu: ")
 * or as one JSON object (ETPU_REPORT_JSON). Heap string (etpu_free). */
ETPU_WUR etpu_status etpu_micro_report(const etpu_micro *micro, etpu_report_kind kind, char **text_out);
/* The latency estimate as one text line or one JSON object (same kinds). */
ETPU_WUR etpu_status etpu_latency_report(const etpu_latency *latency, etpu_report_kind kind, char **text_out);

/* ---------------------------------------------------------------------------
 * Visualizing: one self-contained HTML page of a model and its Edge TPU
 * mapping (etpu visualize). The page needs no network (inline SVG, CSS and
 * a small script; a Content-Security-Policy forbids every request): the
 * graph laid out by data flow, inputs at the top, each op coloured by where
 * it runs, its tensors (name, shape, dtype, scale, zero point, bytes),
 * options and, for CPU ops, the rule broken and the fix; the partition cut;
 * the compiler's operator table, parameter memory and the model's metadata
 * (normalization, label files); search by op or tensor name.
 * ------------------------------------------------------------------------- */
typedef struct etpu_visualize_options {
  size_t struct_size;                   /* sizeof(etpu_visualize_options) as the caller was compiled; set by _init */
  const etpu_compile_options *compile;  /* how an uncompiled model is compiled for the page; NULL: the defaults */
  const char *title;                    /* the page's title; NULL: the model's label */
} etpu_visualize_options;

/* Set every field to its default and struct_size to sizeof(*options). */
void etpu_visualize_options_init(etpu_visualize_options *options);

/* The HTML page of subgraph 0 of `model`, as a NUL-terminated heap string
 * (free with etpu_free); *size_out (may be NULL) its length. An uncompiled
 * model is compiled in memory with options->compile; when the compiler
 * refuses the whole model (a float model, dynamic shapes) the page is still
 * made and says so at its top, every op shown as not compiled. A model
 * compiled by etpu shows the ops inside each edgetpu-custom-op (its
 * payload); one compiled by Google's edgetpu_compiler shows the custom op
 * as one opaque Edge TPU node with a note. Every string from the model is
 * HTML-escaped (etpu_escape, ETPU_ESCAPE_HTML). Deterministic: the same
 * model and options give the same bytes. options NULL: the defaults.
 * Errors: ETPU_INVALID_ARGUMENT (NULL model or html_out, options not filled
 * by etpu_visualize_options_init, bad compile options such as an unknown -i
 * tensor), ETPU_MALFORMED (no subgraph), ETPU_OUT_OF_MEMORY. *html_out is
 * set only on ETPU_OK. */
ETPU_WUR etpu_status etpu_visualize_html(const etpu_model *model, const etpu_visualize_options *options,
                                         char **html_out, size_t *size_out);

/* ---------------------------------------------------------------------------
 * Running models: create -> plan -> set inputs -> invoke -> read outputs.
 * ------------------------------------------------------------------------- */

/* Arithmetic profiles (TFLITE.md §9). Append-only. */
typedef enum etpu_profile {
  ETPU_PROFILE_TFLITE_REF = 0, /* TFLite reference kernels / TFLite Micro: double rounding */
  ETPU_PROFILE_LITERT = 1,     /* LiteRT's default CPU path: XNNPACK arithmetic + builtin kernels */
} etpu_profile;

/* "tflite-ref" / "litert"; "unknown" otherwise. */
const char *etpu_profile_name(int profile);

/* Interpreter options. Fill with etpu_interp_options_init() and then set the
 * fields you need: the struct may grow at its end in later versions, and
 * struct_size tells the library which fields the caller knows of (fields
 * beyond it take their defaults). */
typedef struct etpu_interp_options {
  size_t struct_size;     /* sizeof(etpu_interp_options) as the caller was compiled; set by _init */
  etpu_profile profile;   /* default ETPU_PROFILE_LITERT */
  bool keep_all_tensors;  /* give every tensor its own memory, so any tensor can be read after invoke; default false */
  uint32_t num_threads;   /* threads an invoke may use, the caller's included; 0 (default): the cores this
                           * process may run on; 1: the calling thread only. Outputs are byte-identical for
                           * every count. */
} etpu_interp_options;

/* Set every field to its default and struct_size to sizeof(*options). */
void etpu_interp_options_init(etpu_interp_options *options);

typedef struct etpu_interp etpu_interp;

/* Prepare subgraph 0 of a model to run: every op is checked (op supported,
 * tensor types, shapes and options consistent) before any memory is planned.
 * The model must stay open while the interpreter exists. options NULL: the
 * defaults of etpu_interp_options_init(). Errors: ETPU_INVALID_ARGUMENT
 * (options whose struct_size is 0, smaller than the first version's or larger
 * than this library knows: not filled by etpu_interp_options_init),
 * ETPU_UNSUPPORTED (an op or type etpu cannot run, a model compiled by
 * Google's compiler), ETPU_MALFORMED (shapes/options inconsistent),
 * ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_interp_create(const etpu_model *model, const etpu_interp_options *options,
                                        etpu_interp **interp_out);

/* Plan one arena by tensor lifetimes and allocate it; reports its size.
 * Must precede set_input/invoke (ETPU_INVALID_STATE otherwise). */
ETPU_WUR etpu_status etpu_interp_plan(etpu_interp *interp, size_t *arena_bytes_out);

/* Sum of the bytes of every non-constant tensor (what a planner-less runtime
 * would allocate), for comparison with the arena. */
size_t etpu_interp_tensor_bytes(const etpu_interp *interp);

/* The threads an interpreter runs on when its options say 0: the
 * environment's ETPU_NUM_THREADS when it holds a count 1..256, else the cores
 * this process may use (its CPU affinity), at least 1. */
uint32_t etpu_default_threads(void);

/* Threads an invoke runs on, the caller's included (>= 1; 0 for NULL): the
 * options' num_threads, or the cores the process may use when that was 0,
 * fewer if the system refused a thread. */
uint32_t etpu_interp_threads(const etpu_interp *interp);

uint32_t etpu_interp_input_count(const etpu_interp *interp);
uint32_t etpu_interp_output_count(const etpu_interp *interp);
/* The model tensor index of input/output i (describe it with etpu_model_tensor). */
int32_t etpu_interp_input_index(const etpu_interp *interp, uint32_t i);
int32_t etpu_interp_output_index(const etpu_interp *interp, uint32_t i);

/* Copy input i (size must be the tensor's byte size). */
ETPU_WUR etpu_status etpu_interp_set_input(etpu_interp *interp, uint32_t i, const void *data, size_t size);

/* Run every op. Variable (state) tensors keep their values between invokes. */
ETPU_WUR etpu_status etpu_interp_invoke(etpu_interp *interp);
/* Run only the first op_count ops, in model order (op_count <= the model's
 * op count): enough to read the tensors they write, e.g. one layer's input
 * or output, without running the rest. */
ETPU_WUR etpu_status etpu_interp_invoke_prefix(etpu_interp *interp, uint32_t op_count);

/* Reset every variable tensor (LSTM state) to its initial value: the zero
 * point for int8 tensors, 0 otherwise (as TensorFlow Lite does). */
ETPU_WUR etpu_status etpu_interp_reset_state(etpu_interp *interp);

/* Output i after invoke; valid until the next invoke or destroy. */
ETPU_WUR etpu_status etpu_interp_output(const etpu_interp *interp, uint32_t i, const void **data_out,
                                        size_t *size_out);

/* Any tensor's bytes after invoke: constants always; others when
 * keep_all_tensors was set or the tensor is a graph input or output. */
ETPU_WUR etpu_status etpu_interp_tensor(const etpu_interp *interp, uint32_t tensor, const void **data_out,
                                        size_t *size_out);

/* A tensor's shape as the interpreter holds it: the model's, or the one an
 * op set at prepare time for outputs the model leaves unshaped (e.g. the
 * PosenetDecoderOp's). Valid while the interpreter exists. */
ETPU_WUR etpu_status etpu_interp_tensor_shape(const etpu_interp *interp, uint32_t tensor, uint32_t *rank_out,
                                              const int32_t **dims_out);

/* Per-op timing, to see where an invoke's time goes (`etpu run --per-op`).
 * With it on, every invoke reads a monotonic clock between ops and keeps
 * each op's wall time; off (the default) an invoke reads no clock at all.
 * Turning it on allocates one counter per op (ETPU_OUT_OF_MEMORY). */
ETPU_WUR etpu_status etpu_interp_set_op_timing(etpu_interp *interp, bool on);

/* Ops the interpreter runs: subgraph 0's, in model order (describe op i
 * with etpu_model_op(model, 0, i, ...)). 0 for NULL. */
uint32_t etpu_interp_op_count(const etpu_interp *interp);

/* Nanoseconds op `index` took in the last invoke with timing on (0 if it
 * has not run since timing was turned on). ETPU_INVALID_STATE when timing
 * is off, ETPU_INVALID_ARGUMENT for an op that does not exist. */
ETPU_WUR etpu_status etpu_interp_op_time(const etpu_interp *interp, uint32_t index, uint64_t *ns_out);

/* Multiply-accumulates op `index` does per invoke: CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED and TRANSPOSE_CONV (output elements × the products each
 * sums, as TFLite's benchmark counts them); 0 for every other op, and for a
 * NULL interpreter or an index out of range. */
uint64_t etpu_interp_op_macs(const etpu_interp *interp, uint32_t index);

void etpu_interp_free(etpu_interp *interp);

/* The real compiler's version string etpu's reports are formatted after. */
#define ETPU_EDGETPU_COMPILER_VERSION "16.0.384591198"

/* ===========================================================================
 * Images and tensors (src/io/): decode images, fit them to a model input,
 * read and write NumPy .npy files and raw bytes, read label files.
 *
 *     etpu_tensor_info in;   // the model input, from etpu_model_tensor()
 *     etpu_model_tensor(model, 0, (uint32_t)etpu_interp_input_index(ip, 0), &in);
 *     etpu_input_options o = {ETPU_RESIZE_BILINEAR, false, 0, 0};
 *     // BMP, PNG, JPEG, .npy or raw bytes -> resized, converted, quantized
 *     if (etpu_tensor_load("cat.bmp", &in, &o, buf, size, NULL) != ETPU_OK) ...
 *
 * Every decoder checks the whole file against its format's rules and
 * rejects dimensions the file cannot hold before allocating, so memory is
 * bounded by the real file size; a malformed file gives ETPU_MALFORMED
 * ("cat.bmp: BMP: truncated: ...") and never a crash.
 * ========================================================================= */

/* Limits on decoded images: each side, and width x height x channels. */
#define ETPU_IMAGE_MAX_SIDE 65535u
#define ETPU_IMAGE_MAX_BYTES ((size_t)1 << 28)

/* A decoded image: 8 bits per sample, rows top first, no padding. */
typedef struct etpu_image {
  uint32_t width;   /* pixels per row, >= 1 */
  uint32_t height;  /* rows, >= 1 */
  uint32_t channels; /* 1 = grayscale, 3 = RGB (alpha is dropped) */
  uint8_t *pixels;  /* height * width * channels bytes, owned by the image */
} etpu_image;

/* Decode a BMP (1/4/8-bit palette, 16/24/32-bit, bottom-up or top-down),
 * PNG or JPEG file, chosen by its first bytes. Palette images whose colours
 * are all gray, grayscale PNGs and JPEGs give 1 channel, others 3.
 * Errors: ETPU_IO_ERROR (cannot read), ETPU_MALFORMED (breaks the format's
 * rules, truncated, dimensions larger than the file can hold or than the
 * limits above), ETPU_UNSUPPORTED (legal but not handled, e.g. RLE BMP, or
 * not an image format etpu knows), ETPU_OUT_OF_MEMORY. Free with
 * etpu_image_free. */
ETPU_WUR etpu_status etpu_image_read(const char *path, etpu_image **image_out);

/* Same, from memory (bytes are not kept). `label` names the source in
 * messages (NULL: "<buffer>"). */
ETPU_WUR etpu_status etpu_image_decode(const void *data, size_t size, const char *label, etpu_image **image_out);

/* A new zeroed image (ETPU_INVALID_ARGUMENT outside the limits). */
ETPU_WUR etpu_status etpu_image_create(uint32_t width, uint32_t height, uint32_t channels, etpu_image **image_out);

/* Release an image; NULL is a no-op. */
void etpu_image_free(etpu_image *image);

/* Resampling used to fit an image to a model input. Append-only. */
typedef enum etpu_resize_method {
  ETPU_RESIZE_BILINEAR = 0, /* half-pixel centres (TFLite RESIZE_BILINEAR, half_pixel_centers), as Coral's tests */
  ETPU_RESIZE_NEAREST = 1,  /* the source pixel under each output pixel's centre */
} etpu_resize_method;

/* A new image of width x height, same channels. Bilinear: exactly what
 * libcoral's test and example code do — TFLite's float RESIZE_BILINEAR with
 * half_pixel_centers (source ((x + 0.5) * w / W - 0.5, ...) in float32,
 * neighbours clamped to the edges) and the float result truncated to uint8.
 * An image already of the target size is copied unchanged. */
ETPU_WUR etpu_status etpu_image_resize(const etpu_image *image, uint32_t width, uint32_t height,
                                       etpu_resize_method method, etpu_image **image_out);

/* A new image with 1 or 3 channels: gray -> RGB copies the gray value;
 * RGB -> gray uses ITU-R 601-2 luma (L = (19595 R + 38470 G + 7471 B +
 * 32768) >> 16, the integer form Pillow's convert("L") uses). */
ETPU_WUR etpu_status etpu_image_convert(const etpu_image *image, uint32_t channels, etpu_image **image_out);

/* How an image (or a float .npy) becomes a model input. */
typedef struct etpu_input_options {
  etpu_resize_method resize; /* when the image size differs from the input's */
  bool normalize;            /* true: use mean/std below; false: the defaults */
  float mean;                /* real = (pixel - mean) / std */
  float std;                 /* > 0 */
} etpu_input_options;

/* Fill an input tensor from an image. The tensor must be [1,H,W,C],
 * [H,W,C] or [1,H,W] / [H,W] (H, W >= 2; C = 1 or 3; gray models get gray
 * images).
 * The image is converted to the input's channels, resized to H x W, then
 * each pixel p becomes real = (p - mean) / std and
 *  - FLOAT32: real;
 *  - quantized UINT8 / INT8 / INT16: round(real / scale) + zero_point,
 *    saturated to the type's range.
 * Defaults (normalize false): FLOAT32 mean 0, std 1 (raw pixel values);
 * UINT8 mean = zero_point, std = 1 / scale, so the input receives the raw
 * pixels (Coral's uint8 models); INT8 mean = zero_point + 128, std =
 * 1 / scale, so it receives pixel - 128; INT16 mean = zero_point, std =
 * 1 / scale. `size` must be the tensor's byte size; data_out is untouched
 * on failure. options NULL = bilinear, defaults. Errors:
 * ETPU_INVALID_ARGUMENT (size, std <= 0), ETPU_UNSUPPORTED (a tensor shape
 * or type that is not an image; a quantized input without quantization),
 * ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_image_to_tensor(const etpu_image *image, const etpu_tensor_info *tensor,
                                          const etpu_input_options *options, void *data_out, size_t size);

/* NumPy .npy arrays (format versions 1.0, 2.0 and 3.0; C order; little-
 * endian dtypes <f2 <f4 <f8 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 |b1). */
#define ETPU_NPY_MAX_RANK 8

typedef struct etpu_npy {
  int32_t type;                      /* etpu_dtype */
  uint32_t rank;                     /* 0 = a scalar */
  int32_t shape[ETPU_NPY_MAX_RANK];  /* rank entries */
  size_t size;                       /* bytes of data = product(shape) * element size */
  void *data;                        /* the elements, C order, little-endian; owned */
} etpu_npy;

/* Read a .npy file (the whole header is checked; the data must fill the
 * file exactly). Errors: ETPU_IO_ERROR, ETPU_MALFORMED (bad magic, header,
 * shape, or a data size that is not the file's), ETPU_UNSUPPORTED
 * (big-endian or other dtypes, Fortran order, rank > 8),
 * ETPU_OUT_OF_MEMORY. Free with etpu_npy_free. */
ETPU_WUR etpu_status etpu_npy_read(const char *path, etpu_npy **npy_out);
ETPU_WUR etpu_status etpu_npy_decode(const void *data, size_t size, const char *label, etpu_npy **npy_out);
void etpu_npy_free(etpu_npy *npy);

/* Encode an array as .npy bytes (version 1.0; the header is padded so the
 * data starts at a multiple of 64) into a heap buffer (etpu_free). size must be product(shape) x
 * element size. ETPU_UNSUPPORTED for types .npy cannot hold (strings,
 * sub-byte types). */
ETPU_WUR etpu_status etpu_npy_encode(int32_t type, uint32_t rank, const int32_t *shape, const void *data, size_t size,
                                     void **bytes_out, size_t *size_out);

/* Encode and write atomically (etpu_write_file_atomic). */
ETPU_WUR etpu_status etpu_npy_write(const char *path, int32_t type, uint32_t rank, const int32_t *shape,
                                    const void *data, size_t size);

/* What a file given for an input held. Append-only. */
typedef enum etpu_input_kind {
  ETPU_INPUT_IMAGE = 0, /* BMP, PNG or JPEG, converted by etpu_image_to_tensor */
  ETPU_INPUT_NPY = 1,   /* .npy */
  ETPU_INPUT_RAW = 2,   /* raw bytes, exactly the tensor's size */
} etpu_input_kind;

/* Fill an input tensor from a file: a .npy file (its dtype must be the
 * tensor's type, or float32 for a quantized tensor, which is then quantized
 * with the tensor's scale and zero point; its shape must be the tensor's,
 * leading 1s aside); an image (BMP, PNG, JPEG: etpu_image_to_tensor); any
 * other file is raw bytes and must be exactly the tensor's byte size. The
 * kind comes from the extension (.npy .bmp .png .jpg .jpeg; .raw .bin .rgb
 * = raw), else from the first bytes. kind_out may be NULL. Errors: those of
 * the readers above, and ETPU_INVALID_ARGUMENT when the file does not fit
 * the tensor (size, type or shape), naming both. */
ETPU_WUR etpu_status etpu_tensor_load(const char *path, const etpu_tensor_info *tensor,
                                      const etpu_input_options *options, void *data_out, size_t size,
                                      etpu_input_kind *kind_out);

/* Label files: one label per line (blank lines count), or "ID label" /
 * "ID: label" lines as Coral's label files may use. */
typedef struct etpu_labels etpu_labels;

/* Errors: ETPU_IO_ERROR (cannot read), ETPU_MALFORMED (not text: a NUL
 * byte; larger than 64 MiB), ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_labels_read(const char *path, etpu_labels **labels_out);
void etpu_labels_free(etpu_labels *labels);

/* Lines (or the highest ID + 1). */
uint32_t etpu_labels_count(const etpu_labels *labels);

/* The label of class `index` of an output with `classes` scores; "" when
 * there is none (never NULL). When a plain file has exactly classes + 1
 * lines, line 0 is taken as a "background" entry the model does not output
 * and class i gets line i + 1. */
const char *etpu_labels_get(const etpu_labels *labels, uint32_t classes, uint32_t index);

/* ========================= end of images and tensors ======================= */

/* ===========================================================================
 * Task outputs (src/runtime/task.c): what a model's outputs mean — a
 * classifier, an object detector, a segmentation map or a pose — found from
 * its graph, and the outputs of a run decoded into plain structs with
 * coordinates in the pixels of the image the input was made from.
 *
 *     etpu_task task;
 *     etpu_task_detect(model, &task);           // e.g. ETPU_TASK_DETECT
 *     ... etpu_interp_invoke(ip) on an image of 1352 x 900 ...
 *     etpu_task_options o;
 *     etpu_task_options_init(&o);
 *     o.image_width = 1352; o.image_height = 900; o.threshold = 0.5f;
 *     etpu_task_result *r;
 *     if (etpu_task_decode(model, ip, task, &o, &r) == ETPU_OK)
 *       for (uint32_t i = 0; i < r->detection_count; i++) ... r->detections[i].xmin ...
 *     etpu_task_result_free(r);
 *
 * The image is assumed stretched to the input, as etpu_image_to_tensor
 * does (no letterbox, no crop): a point (x, y) of the input is
 * (x · image_width / input_width, y · image_height / input_height) in the
 * image.
 * ========================================================================= */

/* The tasks etpu recognises. Append-only. */
typedef enum etpu_task {
  ETPU_TASK_NONE = 0,     /* no output etpu recognises */
  ETPU_TASK_CLASSIFY = 1, /* an output of one row of >= 2 scores ([N], [1,N], [1,1,1,N]) */
  ETPU_TASK_DETECT = 2,   /* the four outputs of a TFLite_Detection_PostProcess op */
  ETPU_TASK_SEGMENT = 3,  /* a class map [1,H,W] of integers (DeepLab's ArgMax) or logits [1,H,W,C], C >= 2 */
  ETPU_TASK_POSE = 4,     /* a PosenetDecoderOp's outputs, or MoveNet's keypoints [1,1,17,3] (y, x, score) */
} etpu_task;

/* "none", "classify", "detect", "segment", "pose"; "unknown" otherwise. */
const char *etpu_task_name(int task);

/* The task of a model's outputs (subgraph 0), tried in the order detect,
 * pose, segment, classify; ETPU_TASK_NONE when none fits (not an error).
 * ETPU_INVALID_ARGUMENT for NULL. */
ETPU_WUR etpu_status etpu_task_detect(const etpu_model *model, etpu_task *task_out);

/* Whether a model's outputs fit `task` (a task forced by the user):
 * ETPU_OK, or ETPU_UNSUPPORTED with a message naming the model, the outputs
 * (name, type, shape) and what the task needs. ETPU_INVALID_ARGUMENT for an
 * unknown task or ETPU_TASK_NONE. */
ETPU_WUR etpu_status etpu_task_check(const etpu_model *model, etpu_task task);

/* How etpu_task_decode reads the outputs. Fill with etpu_task_options_init. */
typedef struct etpu_task_options {
  size_t struct_size;     /* sizeof(etpu_task_options) as the caller was compiled; set by _init */
  float threshold;        /* keep detections and PoseNet poses whose score >= threshold; default 0.5 */
  uint32_t image_width;   /* the image the input came from; 0 (default): the input's own size (when the input
                           * is not an image: a segmentation map's size; else 1 x 1, coordinates unscaled) */
  uint32_t image_height;
} etpu_task_options;

/* Defaults: threshold 0.5, the input's own size. */
void etpu_task_options_init(etpu_task_options *options);

/* One detected object; box corners in image pixels, clipped to the image. */
typedef struct etpu_detection {
  uint32_t class_id; /* the op's class index (labels line, no background offset) */
  float score;
  float xmin, ymin, xmax, ymax;
} etpu_detection;

/* COCO's 17 keypoints, in the order PoseNet and MoveNet output them. */
#define ETPU_POSE_KEYPOINTS 17u

/* Name of keypoint k ("nose", "left_eye", ... "right_ankle"); "" beyond 16. */
const char *etpu_pose_keypoint_name(uint32_t k);

typedef struct etpu_keypoint {
  float x, y;  /* image pixels (not clipped) */
  float score; /* 0..1 */
} etpu_keypoint;

typedef struct etpu_pose {
  float score; /* PoseNet's pose score; MoveNet's: the mean of its keypoint scores */
  etpu_keypoint keypoints[ETPU_POSE_KEYPOINTS];
} etpu_pose;

/* A decoded run. Arrays are owned by the result. */
typedef struct etpu_task_result {
  etpu_task task;
  uint32_t image_width, image_height; /* the pixels coordinates refer to */
  uint32_t input_width, input_height; /* the model input the image was stretched to */
  int32_t source_output;              /* the first graph output read (position in the graph's outputs) */
  /* ETPU_TASK_DETECT: objects at or above the threshold, in the op's order (best first) */
  uint32_t detection_count;
  etpu_detection *detections;
  /* ETPU_TASK_POSE: PoseNet's poses at or above the threshold; MoveNet's one pose always */
  uint32_t pose_count;
  etpu_pose *poses;
  /* ETPU_TASK_SEGMENT: the class of each image pixel (image_height rows of
   * image_width, top first), from the output map by nearest neighbour
   * (output pixel floor((x + 0.5) · map_width / image_width)); logits give
   * the class of the largest value (the lower index on a tie) */
  uint32_t map_width, map_height;     /* the output map's size */
  uint32_t class_count;               /* logits' C, or an ArgMax map's largest class + 1 */
  uint16_t *mask;                     /* image_width · image_height class ids */
  double *class_share;                /* class_count fractions of the image's pixels */
} etpu_task_result;

/* Decode the outputs of the last invoke of `interp` (made from `model`) as
 * `task` (which must pass etpu_task_check). options NULL: the defaults.
 * ETPU_TASK_CLASSIFY gives a result with nothing decoded (scores are the
 * output itself). Errors: ETPU_UNSUPPORTED (the outputs do not fit the
 * task), ETPU_MALFORMED (an output's values break the task's rules: a
 * detection or pose count beyond its arrays, a class map value < 0 or >
 * 65535, a NaN), ETPU_INVALID_ARGUMENT (NULL, options not from _init, an
 * image size of 0 in one dimension only, a NaN threshold), ETPU_INVALID_STATE
 * (the interpreter not planned),
 * ETPU_OUT_OF_MEMORY. Free with etpu_task_result_free. */
ETPU_WUR etpu_status etpu_task_decode(const etpu_model *model, const etpu_interp *interp, etpu_task task,
                                      const etpu_task_options *options, etpu_task_result **result_out);

/* Release a result; NULL is a no-op. */
void etpu_task_result_free(etpu_task_result *result);

/* ============================ end of task outputs ========================== */

/* ===========================================================================
 * Learning (src/learn/): on-device transfer learning the way Coral's
 * libcoral does it (LEARNING.md), on embeddings the caller computes:
 * softmax regression (last-layer backpropagation) and weight imprinting.
 *
 *     etpu_sr_options o;
 *     etpu_softmax_regression_default_options(1024, 3, &o);  // D, classes
 *     o.seed = 42;                                            // reproducible
 *     etpu_softmax_regression *sr;
 *     etpu_softmax_regression_create(&o, &sr);
 *     for (each example) etpu_softmax_regression_add(sr, emb, 1024, label, is_val);
 *     etpu_sr_train_options t = {500, 100, 0.01f, 100, print_fn, NULL};
 *     etpu_softmax_regression_train(sr, &t);
 *     etpu_model *out;   // extractor + FULLY_CONNECTED + RESHAPE + SOFTMAX
 *     etpu_softmax_regression_append(extractor, sr, &out);
 *     etpu_model_write_file(out, "retrained.tflite", 0);
 *
 * Reproducible: the same seed, examples (in the same order) and calls give
 * the same trained bytes on every machine with IEEE-754 float arithmetic
 * (FLT_EVAL_METHOD 0: x86-64, AArch64, ...): etpu uses its own PCG32
 * generator and its own exp/log, never libm's, whose last bits vary.
 *
 * The appended or imprinted layer is meant to stay on the CPU. Compile the
 * extractor alone and append to the compiled file (Coral's flow), or compile
 * the retrained model with -i naming the embedding tensor: compiled whole,
 * the tail maps into the Edge TPU op like any classification tail and its
 * weights can no longer be retrained.
 * ========================================================================= */

/* Check that a model can serve as an embedding extractor (for
 * etpu_softmax_regression_append*, etpu_imprint_make_model, or to compute
 * embeddings): one subgraph with one output (libcoral's rules), and that
 * output not a probability distribution. ETPU_UNSUPPORTED, naming the op,
 * when the output comes from SOFTMAX or LOG_SOFTMAX (through any RESHAPE,
 * SQUEEZE, QUANTIZE or DEQUANTIZE): a classifier, whose scores are not an
 * embedding; ETPU_UNSUPPORTED for more subgraphs or outputs;
 * ETPU_INVALID_ARGUMENT for NULL. */
ETPU_WUR etpu_status etpu_extractor_check(const etpu_model *model);

/* ---- softmax regression -------------------------------------------------- */

typedef struct etpu_softmax_regression etpu_softmax_regression;

typedef struct etpu_sr_options {
  uint32_t feature_dim;  /* D, the embedding length (>= 1) */
  uint32_t class_count;  /* C (>= 2) */
  float weight_scale;    /* initial W = weight_scale x N(0,1), b = 0 (libcoral: 0.01) */
  float l2_reg;          /* λ >= 0: loss += λ/2·ΣW², gradient += λW (0 = none, the default) */
  uint64_t seed;         /* seeds the initial weights and the batch sampling */
  uint32_t max_examples; /* memory bound: training + validation examples held (0 = 65536) */
} etpu_sr_options;

/* libcoral's defaults (weight_scale 0.01, no regularisation), seed 1. */
void etpu_softmax_regression_default_options(uint32_t feature_dim, uint32_t class_count, etpu_sr_options *out);

/* A layer with W (C x D) drawn from the seed. ETPU_INVALID_ARGUMENT for
 * sizes out of range or a negative/non-finite scale or λ. Free with
 * etpu_softmax_regression_free. */
ETPU_WUR etpu_status etpu_softmax_regression_create(const etpu_sr_options *options,
                                                    etpu_softmax_regression **sr_out);
void etpu_softmax_regression_free(etpu_softmax_regression *sr);

/* Copy one example in (dim must be D; label < C; values finite); validation
 * examples are only measured, never trained on. ETPU_INVALID_ARGUMENT when
 * max_examples are already held, ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_softmax_regression_add(etpu_softmax_regression *sr, const float *embedding, uint32_t dim,
                                                 uint32_t label, bool validation);
uint32_t etpu_softmax_regression_count(const etpu_softmax_regression *sr, bool validation);
/* Drop every example held (training and validation), keeping the weights,
 * the recorded logit range and the random state: the next train samples the
 * examples added after this call (pycoral's train_with_sgd takes its data
 * anew on each call). NULL is a no-op. */
void etpu_softmax_regression_clear(etpu_softmax_regression *sr);

/* Progress of training, passed to the callback. */
typedef struct etpu_sr_progress {
  uint32_t iteration;    /* SGD steps done in this call, 1-based */
  uint32_t iterations;   /* steps asked for */
  float batch_loss;      /* this step's batch, before its update: mean cross-entropy + λ/2·ΣW² */
  float train_loss;      /* mean cross-entropy over every training example, current weights */
  float train_accuracy;  /* fraction of training examples whose largest logit is their label */
  float val_loss;        /* same over the validation examples; -1 when there are none */
  float val_accuracy;    /* -1 when there are none */
} etpu_sr_progress;

/* Return false to stop training early (train still returns ETPU_OK). */
typedef bool (*etpu_sr_progress_fn)(void *user, const etpu_sr_progress *progress);

typedef struct etpu_sr_train_options {
  uint32_t iterations;     /* SGD steps (libcoral num_iter) */
  uint32_t batch_size;     /* examples per step, drawn uniformly with replacement (libcoral: 100) */
  float learning_rate;     /* plain SGD, no momentum (libcoral example: 0.01) */
  uint32_t report_every;   /* call progress every N steps and after the last (0 = after the last only) */
  etpu_sr_progress_fn progress; /* may be NULL */
  void *user;              /* passed to progress */
} etpu_sr_train_options;

/* Mini-batch SGD on softmax cross-entropy; may be called again to continue.
 * Also records the range of every training-batch logit (before each update)
 * for the output quantization. ETPU_INVALID_STATE without training examples,
 * ETPU_INVALID_ARGUMENT for batch 0 or a rate <= 0, ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_softmax_regression_train(etpu_softmax_regression *sr, const etpu_sr_train_options *options);

/* Mean cross-entropy and accuracy over the training or validation examples
 * (either output may be NULL). ETPU_INVALID_STATE when that set is empty. */
ETPU_WUR etpu_status etpu_softmax_regression_evaluate(const etpu_softmax_regression *sr, bool validation,
                                                      float *loss_out, float *accuracy_out);

/* Class of one embedding (largest logit) and, if probs_out is not NULL, the
 * C softmax probabilities. */
ETPU_WUR etpu_status etpu_softmax_regression_predict(const etpu_softmax_regression *sr, const float *embedding,
                                                     uint32_t dim, float *probs_out, uint32_t *class_out);

/* A float dense layer to append: logits = W·x + b. */
typedef struct etpu_linear_layer {
  uint32_t class_count;     /* C */
  uint32_t feature_dim;     /* D */
  const float *weights;     /* C x D, row c = class c (TFLite FULLY_CONNECTED layout) */
  const float *bias;        /* C */
  float logit_min, logit_max; /* range the quantized logits must cover */
} etpu_linear_layer;

/* The trained layer (pointers into sr, valid until it trains again or is
 * freed; the range is the logits seen in training). ETPU_INVALID_STATE
 * before any training step. */
ETPU_WUR etpu_status etpu_softmax_regression_layer(const etpu_softmax_regression *sr, etpu_linear_layer *layer_out);

/* A new model: the extractor (exactly one subgraph and one output, an
 * embedding of D values, UINT8 or INT8 quantized per tensor) followed by
 * FULLY_CONNECTED -> [RESHAPE to [N, C] when the embedding is 4-D] ->
 * SOFTMAX, as libcoral's AppendFullyConnectedAndSoftmaxLayerToModel builds
 * it (tensors "Appended/FC/Weights|Bias|Output", "Imprinting/Reshape/Output",
 * "Imprinting/Softmax/Output"; each new tensor gets its own buffer; min/max
 * recorded), except that the FULLY_CONNECTED output is stored as the [N, C]
 * the op computes rather than libcoral's [1,1,1,C]:
 *  - uint8: weights asymmetric uint8 per tensor over [min(0, W), max(0, W)]
 *    with libcoral's ChooseQuantizationParams zero point; int8: symmetric
 *    int8, scale max|W|/127;
 *  - bias int32, scale input scale x weight scale, zero point 0;
 *  - logits over [min(0, logit_min), max(0, logit_max)] by the same rule;
 *    the reshape keeps them; softmax 1/256, zero point 0 (int8: -128),
 *    beta 1.
 * The extractor is not changed (a compiled extractor works too: the layer
 * follows its edgetpu-custom-op). ETPU_UNSUPPORTED for other extractors,
 * ETPU_INVALID_ARGUMENT for a D mismatch, non-finite values, all-zero
 * weights or an empty logit range. */
ETPU_WUR etpu_status etpu_softmax_regression_append_layer(const etpu_model *extractor, const etpu_linear_layer *layer,
                                                          etpu_model **model_out);

/* etpu_softmax_regression_layer + etpu_softmax_regression_append_layer. */
ETPU_WUR etpu_status etpu_softmax_regression_append(const etpu_model *extractor, const etpu_softmax_regression *sr,
                                                    etpu_model **model_out);

/* ---- weight imprinting --------------------------------------------------- */

/* Coral's imprinting model ends L2_NORMALIZATION -> [QUANTIZE] -> CONV_2D
 * 1x1 (kernel [C,1,1,D]) -> MUL (scale) -> RESHAPE -> SOFTMAX. Class c's
 * kernel row is the L2-normalized sum of the (unit) embeddings imprinted for
 * it, so its logit is scale x cosine. */
typedef struct etpu_imprint etpu_imprint;

/* Validate a model against libcoral's rules (each failure names the op and
 * the rule, with libcoral's own sentence in it) and start imprinting.
 * keep_classes false: start with no class. true: keep the model's C classes;
 * those listed in the model description ("<class> <norm>" lines, which this
 * API writes) were imprinted before and can be extended, the others are base
 * classes and are frozen. The model is copied: it may be closed afterwards.
 * ETPU_UNSUPPORTED (not an imprinting model), ETPU_MALFORMED (inconsistent
 * tail tensors), ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_imprint_create(const etpu_model *model, bool keep_classes, etpu_imprint **imprint_out);
void etpu_imprint_free(etpu_imprint *imprint);

uint32_t etpu_imprint_embedding_dim(const etpu_imprint *imprint); /* D */
uint32_t etpu_imprint_class_count(const etpu_imprint *imprint);
/* True for classes that were imprinted (and may be again), false for base
 * classes and out-of-range ids. */
bool etpu_imprint_class_trainable(const etpu_imprint *imprint, uint32_t class_id);

/* Add one embedding to a class's running sum. Pass the L2-normalized
 * embedding, i.e. the model's L2_NORMALIZATION output (etpu_imprint_extractor
 * gives that model), dequantized, as libcoral does. class_id == class count
 * appends a new class. ETPU_INVALID_ARGUMENT: dim != D ("Invalid number of
 * weights."), a base class ("Cannot change the base model classes not
 * trained with imprinting method!"), class_id > class count ("The class
 * index of a new category is too large!"), non-finite values. */
ETPU_WUR etpu_status etpu_imprint_train(etpu_imprint *imprint, const float *embedding, uint32_t dim,
                                        uint32_t class_id);

/* The model with the current classes, written as libcoral's SerializeModel
 * does: kernel rows = normalized sums quantized with the original kernel's
 * scale and zero point; C x 4 bias bytes each equal to the bias zero point;
 * conv output 1/128 (zero point 128; int8: 0); MUL and RESHAPE outputs
 * s/128 with s the scale factor read from the MUL constant's first byte;
 * shapes set to C; outputs = the softmax; description = "%d %f\n" per
 * imprinted class with the norm of its sum (any other description is
 * replaced). ETPU_INVALID_STATE with no class ("Model is not trained."). */
ETPU_WUR etpu_status etpu_imprint_build(const etpu_imprint *imprint, etpu_model **model_out);

/* The embedding extractor: the model with its outputs set to the
 * L2_NORMALIZATION output (libcoral keeps every op, the tail included). */
ETPU_WUR etpu_status etpu_imprint_extractor(const etpu_imprint *imprint, etpu_model **model_out);

/* Scores are softmax(scale x cosine): with 3 classes, a top score above
 * 0.99 needs scale x (cos_own - cos_other) > ln 198 = 5.3. Coral's extractor
 * lacks the layer Coral trained before its L2Norm, so its embeddings are
 * non-negative and classes differ little in cosine: on libcoral's seven
 * imprinting images, scale 10 (imprinting-training's start value) gives the
 * test images 0.81-0.86, 20 gives 0.969-0.984, 30 gives every image the
 * uint8 maximum 0.996. More, or less alike, classes may want another value. */
#define ETPU_IMPRINT_DEFAULT_SCALE 30.0f

/* Make an imprinting model from any embedding extractor (one subgraph, one
 * UINT8 or INT8 output [1,1,1,D] or [1,D]; a [1,D] output is first reshaped
 * to [1,1,1,D]): append L2_NORMALIZATION (1/128, zero point 128; int8 0) ->
 * CONV_2D 1x1 SAME (kernel uint8 1/128 zero point 128; int8 1/127, 0; bias
 * int32 zeros) -> MUL by `scale` (a one-element constant: 255 at scale/255;
 * int8 127 at scale/127) -> RESHAPE [1, C] -> SOFTMAX (1/256). The new model
 * has one class, empty and listed in the description ("0 0.000000"), so it
 * runs as it is and keep_classes true fills class 0 first. scale 0 means
 * ETPU_IMPRINT_DEFAULT_SCALE; it must be finite and > 0. */
ETPU_WUR etpu_status etpu_imprint_make_model(const etpu_model *extractor, float scale, etpu_model **model_out);
/* ============================== end of learning ============================ */

/* ===========================================================================
 * Quantization (src/quant/): post-training int8 quantization of a float32
 * model the way TensorFlow's converter does it (TFLITE.md §5-6).
 *
 *     etpu_calibration *cal;
 *     etpu_calibration_create(float_model, &cal);
 *     for (each sample) etpu_calibration_run(cal, inputs, 1);  // float32 inputs
 *     etpu_quantize_options o = {ETPU_QUANT_IO_FLOAT, false};  // float I/O, integer-only
 *     etpu_model *q;
 *     etpu_quantize(float_model, cal, &o, &q);
 *     for (each sample) etpu_calibration_compare(cal, q, inputs, 1);  // SQNR
 *     etpu_model_write_file(q, "out.tflite", ETPU_WRITE_COMPACT);
 * ========================================================================= */

typedef struct etpu_calibration etpu_calibration;

/* Prepare to record the range of every float32 tensor of subgraph 0 (the
 * float interpreter keeps all tensors). ETPU_INVALID_ARGUMENT when the model
 * has no float32 activation (e.g. it is already quantized), errors of
 * etpu_interp_create. The model must outlive the calibration. */
ETPU_WUR etpu_status etpu_calibration_create(const etpu_model *model, etpu_calibration **cal_out);
void etpu_calibration_free(etpu_calibration *cal);

/* Run the float model on one sample: inputs[i] is graph input i as float32,
 * its byte size sizes[i]. Updates each tensor's global min/max (NaN skipped). */
ETPU_WUR etpu_status etpu_calibration_run(etpu_calibration *cal, const float *const *inputs, const size_t *sizes,
                                          uint32_t input_count);

/* Samples run so far. */
uint32_t etpu_calibration_samples(const etpu_calibration *cal);

/* Tensors whose range the model itself records (QuantizationParameters min
 * and max with no scale, as TensorFlow's calibrated float models carry);
 * such ranges stand for tensors that no sample reached, so a model recording
 * every range quantizes without samples. */
uint32_t etpu_calibration_recorded(const etpu_calibration *cal);

/* Give a tensor's range directly (from another tool, or a quantization-aware
 * trained model): it counts as a recorded range, so samples, when run, take
 * precedence. ETPU_INVALID_ARGUMENT for a bad index or a range that is not
 * finite and ordered. */
ETPU_WUR etpu_status etpu_calibration_set_range(etpu_calibration *cal, uint32_t tensor, float min, float max);

/* Widen a tensor's range to cover [min, max] as well as what the samples
 * gave, and exempt it from clipping (percentile, MSE). For an image input of
 * a model quantized with integer inputs: covering the whole pixel range
 * [(0 - mean) / std, (255 - mean) / std] gives that input the parameters
 * scale 1 / std, zero point mean (- 128 for int8), up to rounding, so the
 * raw pixels (int8: pixel - 128) that etpu run and Coral's tools feed such
 * inputs stand for the values the float model was calibrated on.
 * ETPU_INVALID_ARGUMENT for a bad index or a range that is not finite and
 * ordered; ETPU_OUT_OF_MEMORY. */
ETPU_WUR etpu_status etpu_calibration_cover_range(etpu_calibration *cal, uint32_t tensor, float min, float max);

/* Range of a tensor (before extension to 0): from the samples, else the
 * model's recorded range; false if neither. */
bool etpu_calibration_range(const etpu_calibration *cal, uint32_t tensor, float *min_out, float *max_out);

/* How a tensor's range is chosen from the samples. Append-only.
 *  MINMAX      global min and max (TensorFlow's converter; the default).
 *  PERCENTILE  drop the values above the p-th percentile (and, for a signed
 *              range, as many below): outliers no longer stretch the scale.
 *  MSE         shrink [min, max] towards 0 by a common factor (1/128 steps)
 *              to the range whose int8 quantization has the least squared
 *              error over the samples' histogram (rounding vs clipping).
 * PERCENTILE and MSE read histograms of ETPU_CALIB_BINS bins over each
 * tensor's [min, max], filled by a second pass over the samples. */
typedef enum etpu_calib_method {
  ETPU_CALIB_MINMAX = 0,
  ETPU_CALIB_PERCENTILE = 1,
  ETPU_CALIB_MSE = 2,
} etpu_calib_method;

#define ETPU_CALIB_BINS 2048

/* Second pass: run one sample again (after every sample went through
 * etpu_calibration_run) and add its values to the histograms.
 * ETPU_INVALID_STATE before a first pass; memory: ETPU_CALIB_BINS x 4 bytes
 * per tensor. */
ETPU_WUR etpu_status etpu_calibration_run_histogram(etpu_calibration *cal, const float *const *inputs,
                                                    const size_t *sizes, uint32_t input_count);

/* Choose the method (percentile in (50, 100], read by PERCENTILE only).
 * ETPU_INVALID_STATE for PERCENTILE or MSE without histograms. */
ETPU_WUR etpu_status etpu_calibration_set_method(etpu_calibration *cal, etpu_calib_method method, float percentile);

/* Run the float model and a quantized model made from it by etpu_quantize
 * on one sample (float32 inputs, quantized here when the quantized model's
 * inputs are integer) and accumulate, for every tensor float in one and
 * int8 in the other, the signal and error energy of the dequantized values. */
ETPU_WUR etpu_status etpu_calibration_compare(etpu_calibration *cal, const etpu_model *quantized,
                                              const float *const *inputs, const size_t *sizes,
                                              uint32_t input_count);

/* Signal-to-quantization-noise ratio in dB of a tensor over the compared
 * samples (INFINITY when exact); false if the tensor was not compared. */
bool etpu_calibration_sqnr(const etpu_calibration *cal, uint32_t tensor, double *sqnr_db_out);

/* Type of the quantized model's graph inputs and outputs. Append-only. */
typedef enum etpu_quant_io {
  ETPU_QUANT_IO_FLOAT = 0, /* float32; QUANTIZE first, DEQUANTIZE last */
  ETPU_QUANT_IO_INT8 = 1,  /* int8 with the calibrated parameters */
  ETPU_QUANT_IO_UINT8 = 2, /* uint8, same scale, zero point + 128 (QUANTIZE ops convert) */
} etpu_quant_io;

typedef struct etpu_quantize_options {
  etpu_quant_io io;  /* graph input/output type */
  bool allow_float;  /* keep ops that cannot be quantized in float, between DEQUANTIZE and QUANTIZE ops;
                        false (integer-only): refuse the model, listing them */
} etpu_quantize_options;

/* A new int8 model: weights int8 symmetric (CONV_2D and TRANSPOSE_CONV per
 * channel on dim 0, DEPTHWISE_CONV_2D on dim 3, FULLY_CONNECTED per tensor),
 * float16 weights behind DEQUANTIZE folded first; bias int32 at input x
 * weight scale; activations int8 asymmetric from the calibrated ranges
 * extended to 0; fixed outputs for SOFTMAX, LOGISTIC, TANH and
 * L2_NORMALIZATION; one set of parameters for every input and output of
 * pooling, RESHAPE, CONCATENATION, SPLIT, PACK, TRANSPOSE, MAXIMUM, slicing
 * ... (the union of their ranges); op versions as TensorFlow writes them for
 * int8. Tensor indices of the float model are kept (I/O conversions and
 * --allow-float boundaries add tensors at the end). Shape signatures are
 * dropped (a dynamic batch becomes the static shape), as the Edge TPU needs
 * static shapes.
 * ETPU_UNSUPPORTED lists every op that cannot be quantized and why (unless
 * allow_float); ETPU_INVALID_STATE without calibration samples or recorded
 * ranges, or when any int8 activation would get its parameters from no range
 * at all (no sample reached it, the model records none, and no fixed output
 * rule or shared-parameter group gives one): the message counts them and
 * names the first. */
ETPU_WUR etpu_status etpu_quantize(const etpu_model *model, const etpu_calibration *cal,
                                   const etpu_quantize_options *options, etpu_model **model_out);
/* etpu_quantize_refine with bias_correct only (see there); *corrected_out
 * (may be NULL) counts the layers corrected. */
ETPU_WUR etpu_status etpu_quantize_correct_bias(etpu_calibration *cal, etpu_model *quantized,
                                                uint32_t sample_count, const float *const *const *samples,
                                                const size_t *sizes, uint32_t input_count,
                                                uint32_t *corrected_out);
/* Layer-by-layer refinement of a model etpu_quantize made from cal's model,
 * on calibration samples (samples[k][i] is input i of sample k, float32,
 * sizes[i] bytes, as for etpu_calibration_run). Each CONV_2D,
 * DEPTHWISE_CONV_2D and FULLY_CONNECTED, in graph order and with every
 * earlier layer already refined, gets:
 *  gptq          its int8 weights re-rounded by GPTQ (Frantar et al. 2022):
 *                one at a time, each weight's rounding error moved onto the
 *                weights of its channel not yet rounded, weighted by the
 *                Gram matrix of the layer's int8 inputs on the samples, so
 *                that the channel's output error on such inputs is least.
 *                Scales are unchanged. Layers with more than 2048 weights
 *                per channel, fewer input patches in the samples than that,
 *                float16 weights, or weights another op shares keep
 *                round-to-nearest;
 *  bias_correct  then, per output channel, the mean error of its int8
 *                output against the float model's (over every value of the
 *                samples) subtracted from its int32 bias.
 * Neither is done by TensorFlow's converter, so neither is part of
 * etpu_quantize. The model is edited in place; *report_out (may be NULL)
 * counts the layers. */
typedef struct etpu_refine_options {
  bool gptq;
  bool bias_correct;
} etpu_refine_options;
typedef struct etpu_refine_report {
  uint32_t rounded;            /* layers GPTQ re-rounded */
  uint32_t rounded_to_nearest; /* layers GPTQ had to leave rounded to nearest */
  uint32_t corrected;          /* layers whose bias was corrected */
} etpu_refine_report;
ETPU_WUR etpu_status etpu_quantize_refine(etpu_calibration *cal, etpu_model *quantized,
                                          const etpu_refine_options *options, uint32_t sample_count,
                                          const float *const *const *samples, const size_t *sizes,
                                          uint32_t input_count, etpu_refine_report *report_out);
/* =========================== end of quantization =========================== */

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif /* ETPU_ETPU_H */
