/*
 * compile.h — internals of etpu's Edge TPU compiler (src/compile/).
 *
 *   rules.c      the supported-operation table (data: one row per op, with
 *                the runtime version that added it, the newest op version
 *                the compiler's TFLite knows, which inputs are activations
 *                and which must be constant) and the per-op limits of
 *                Table 1, each returning a status, the values involved and
 *                a fix;
 *   partition.c  the dataflow cut of EDGETPU.md §5.3, -i, -a and -n;
 *   emit.c       the output models: one edgetpu-custom-op per segment
 *                whose payload is etpu's documented format (below);
 *   report.c     the console text, the .log file and JSON.
 *
 * Payload of an etpu edgetpu-custom-op (custom_options bytes, little-endian):
 *
 *   offset  size  field
 *   0       8     magic "ETPUSIM1"
 *   8       4     payload format version (1)
 *   12      4     minimum Edge TPU runtime version the segment needs
 *   16      8     parameter bytes of the segment
 *   24      8     of which estimated cached on chip
 *   32      8     of which estimated streamed off chip
 *   40      4     number of ops in the segment
 *   44      4     byte size S of the embedded model
 *   48      S     the segment as a complete .tflite: its graph inputs are the
 *                 custom op's non-variable inputs, in order; its graph
 *                 outputs are the custom op's outputs, in order; variable
 *                 (state) tensors stay variables inside it
 */
#ifndef ETPU_COMPILE_H
#define ETPU_COMPILE_H

#include "base/text.h"
#include "model/graph.h"

#define ETPU_PAYLOAD_MAGIC "ETPUSIM1"
#define ETPU_PAYLOAD_HEADER_BYTES 48
#define ETPU_PAYLOAD_VERSION 1
#define ETPU_EDGETPU_CUSTOM_CODE "edgetpu-custom-op"
/* On-chip parameter cache: "~8 MB" (coral.ai). etpu's estimate caches the
 * parameters of segments in op order while they fit in 8 MiB. */
#define ETPU_ONCHIP_CACHE_BYTES ((uint64_t)8 << 20)

typedef struct etpu_rule_result {
  etpu_map_status status;
  char reason[400];
  char fix[240];
} etpu_rule_result;

/* Check op `index` of subgraph 0 against every Edge TPU rule for runtime
 * version rt; out->status is ETPU_MAPPED when the op can be mapped. */
void etpu_rules_check(const etpu_model *m, uint32_t index, int32_t rt, etpu_rule_result *out);

/* Runtime version that added op `code` (10 = all), or 0 if not supported. */
int32_t etpu_rules_min_runtime(int32_t code);

/* Model-level refusals of the real compiler (dynamic shapes, not quantized):
 * ETPU_OK or ETPU_UNSUPPORTED with the real message and etpu's. */
etpu_status etpu_rules_model_check(const etpu_model *m);

/* One per op. */
typedef struct etpu_op_plan {
  etpu_rule_result rule;   /* the op's own verdict */
  etpu_map_status status;  /* final status (after the cut) */
  bool on_tpu;
  bool before_cut;
  int32_t segment;         /* TPU segment, or output model with -n; -1 for CPU */
  int32_t blocked_by;
  int32_t model;           /* output model the op goes to (0 without -n) */
} etpu_op_plan;

struct etpu_compilation {
  const etpu_model *model;
  etpu_compile_options opt;
  int32_t rt;
  uint32_t nops;
  etpu_op_plan *ops;       /* nops entries */
  uint32_t nsegments;      /* Edge TPU segments (custom ops) */
  uint32_t nmodels;        /* output models */
  uint64_t *seg_params;    /* per segment */
  uint64_t *seg_onchip;    /* per segment, estimate */
  int32_t *seg_runtime;    /* per segment: lowest runtime needed */
  etpu_compile_summary sum;
  uint8_t *buffer_seen;     /* nbuffers + 1: scratch of etpu_segment_params */
  int32_t learned_cut;     /* input tensor of the on-device learning layer cut off without -i, or -1 */
  etpu_arena arena;
  etpu_target target;      /* the device reports assume (etpu_compilation_set_target) */
  etpu_micro *micro;       /* devboard-micro: the verdict of output model 0, else NULL */
  etpu_model *micro_model; /* output model 0 opened for it (owns micro_bytes) */
  void *micro_bytes;
};

etpu_status etpu_partition(etpu_compilation *c);
void etpu_estimate_memory(etpu_compilation *c, uint64_t *cache_left);
etpu_status etpu_emit_model(const etpu_compilation *c, uint32_t k, void **data_out, size_t *size_out);

/* A byte count as the real compiler prints it: binary units, two decimals
 * ("0.00B", "41.75KiB"). */
void etpu_report_size(uint64_t bytes, char *out, size_t cap);

/* Parameter bytes (constant buffers, each counted once) of the ops of
 * segment `seg`. */
uint64_t etpu_segment_params(const etpu_compilation *c, int32_t seg);

/* Targets (target.c, micro.c). */

/* Multiply-accumulates of op `o` of subgraph 0 (CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED, TRANSPOSE_CONV; 0 for the others). */
uint64_t etpu_op_macs(const etpu_model *m, uint32_t o);
/* Output elements and output bytes of op `o` of subgraph 0. */
uint64_t etpu_op_out_elements(const etpu_model *m, uint32_t o);
uint64_t etpu_op_out_bytes(const etpu_model *m, uint32_t o);

/* The target block of compile's reports: text lines ("etpu: target ...",
 * the latency line, the Dev Board Micro verdict) or JSON members (each
 * line starting with two spaces and ending with ",\n"). */
void etpu_target_report_text(const etpu_compilation *c, etpu_strbuf *s);
void etpu_target_report_json(const etpu_compilation *c, etpu_strbuf *s);

/* Append a Dev Board Micro verdict to s: text lines, or one JSON object
 * (kind ETPU_REPORT_JSON). */
void etpu_micro_append(const etpu_micro *mc, etpu_report_kind kind, etpu_strbuf *s);

/* The body of etpu_latency_report and etpu_micro_report: check the kind,
 * render obj with text (console, log) or json into a new heap string. `fn`
 * names the public function in messages. */
typedef void (*etpu_render_fn)(const void *obj, etpu_strbuf *s);
etpu_status etpu_report_render(const char *fn, const void *obj, etpu_report_kind kind, etpu_render_fn text,
                               etpu_render_fn json, char **text_out);

#endif
