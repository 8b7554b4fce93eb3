/*
 * interp.h — internals of etpu's interpreter (src/runtime/), shared by the
 * op glue files in src/runtime/ops/.
 *
 * Each op kind registers an etpu_kernel_reg: `prepare` runs once when the
 * interpreter is created — it checks the op's tensor types, shapes and
 * options (the runtime never trusts the model) and computes the op's
 * parameters (requantization tables, paddings, lookup tables) into memory
 * from etpu_op_alloc(); `eval` runs the kernel on every invoke and must not
 * allocate. Kernels (src/kernels/) are pure compute; the glue here adapts the
 * graph to them and chooses the arithmetic of the interpreter's profile.
 *
 * Tensors: constant tensors point at the model's bytes (read-only);
 * activations live in one arena planned by lifetimes (interp.c); variable
 * tensors have their own persistent memory.
 */
#ifndef ETPU_RUNTIME_INTERP_H
#define ETPU_RUNTIME_INTERP_H

#include "kernels/requant.h"
#include "model/graph.h"

#define ETPU_MAX_RANK 8

typedef struct etpu_rtensor {
  const char *name;
  int32_t type;                 /* TensorType */
  uint32_t rank;
  int32_t dims[ETPU_MAX_RANK];
  size_t elems;                 /* element count */
  size_t bytes;                 /* byte size */
  uint8_t *data;                /* arena, persistent memory, or the model's bytes (const) */
  bool is_const;
  bool is_variable;
  bool has_quant;
  float scale;                  /* first scale (per-tensor quantization) */
  int32_t zero_point;           /* first zero point */
  const etpu_gquant *quant;     /* all of it (per-axis), or NULL */
  /* planning */
  int32_t first_use, last_use;  /* op indices; -1 = before the first op */
  size_t offset;                /* in the arena */
  bool in_arena;
} etpu_rtensor;

struct etpu_interp;
struct etpu_rop;

typedef struct etpu_kernel_reg {
  int32_t code;                 /* builtin code (ETPU_OP_CUSTOM for custom ops) */
  const char *custom_code;      /* for custom ops */
  etpu_status (*prepare)(struct etpu_interp *ip, struct etpu_rop *op);
  etpu_status (*eval)(struct etpu_interp *ip, struct etpu_rop *op);
  void (*destroy)(struct etpu_interp *ip, struct etpu_rop *op); /* optional */
} etpu_kernel_reg;

typedef struct etpu_rop {
  uint32_t index;               /* op index in the subgraph */
  int32_t code;
  const char *name;
  const etpu_gop *gop;
  const etpu_kernel_reg *reg;
  uint32_t nin, nout;
  const int32_t *in, *out;      /* tensor indices; in[k] may be -1 */
  void *params;                 /* the op's prepared state */
} etpu_rop;

struct etpu_interp {
  const etpu_model *model;
  uint32_t sg;
  etpu_profile profile;
  bool keep_all;
  uint32_t num_threads; /* from the options: 0 = the cores the process may use */
  struct etpu_pool *pool; /* splits an op's work units over threads (base/pool.h) */
  bool pool_borrowed;     /* pool belongs to an outer interpreter (an Edge TPU op's inner model) */
  uint32_t ntensors;
  etpu_rtensor *t;
  uint32_t nops;
  etpu_rop *ops;
  etpu_arena arena;             /* prepared params, persistent tensors */
  uint8_t *mem;                 /* activation arena (heap) */
  size_t mem_size;
  bool planned;
  uint64_t *op_ns;              /* per-op time of the last timed invoke; NULL: timing off */
};

/* ---- helpers for op glue ------------------------------------------------ */

/* "model: op 3 CONV_2D: <message>" with the given status. */
etpu_status etpu_op_fail(const struct etpu_interp *ip, const etpu_rop *op, etpu_status st, const char *fmt, ...)
    ETPU_PRINTF(4, 5);

/* Memory for prepared parameters (zeroed; lives as long as the interpreter). */
void *etpu_op_alloc(struct etpu_interp *ip, size_t bytes);

/* Input k / output k, or NULL when absent (-1) or out of range. */
static inline etpu_rtensor *etpu_in(struct etpu_interp *ip, const etpu_rop *op, uint32_t k) {
  return k < op->nin && op->in[k] >= 0 ? &ip->t[op->in[k]] : NULL;
}
static inline etpu_rtensor *etpu_out(struct etpu_interp *ip, const etpu_rop *op, uint32_t k) {
  return k < op->nout ? &ip->t[op->out[k]] : NULL;
}

/* Checks that fail with a message naming the op and tensor. */
etpu_status etpu_op_check_io(struct etpu_interp *ip, const etpu_rop *op, uint32_t min_in, uint32_t max_in,
                             uint32_t nout);
etpu_status etpu_op_check_type(struct etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what,
                               int32_t type);
etpu_status etpu_op_check_quant(struct etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *t, const char *what);
etpu_status etpu_op_check_same_shape(struct etpu_interp *ip, const etpu_rop *op, const etpu_rtensor *a,
                                     const etpu_rtensor *b);

/* Does tensor `tensor` have a dynamic dimension in its shape_signature (its
 * stored shape a placeholder TFLite recomputes at prepare)? */
bool etpu_op_output_is_dynamic(const struct etpu_interp *ip, int32_t tensor);

/* Give output k the shape the op computes at prepare (before planning).
 * ETPU_OK when it already has it; else allowed only for a placeholder
 * (etpu_op_output_is_dynamic), otherwise ETPU_MALFORMED naming the op,
 * the tensor and the shape. */
etpu_status etpu_op_set_output_shape(struct etpu_interp *ip, const etpu_rop *op, uint32_t k, uint32_t rank,
                                     const int32_t *dims);

/* Builtin option (schema default when absent). */
int64_t etpu_op_opt_int(const etpu_rop *op, uint16_t table, uint16_t field);
double etpu_op_opt_float(const etpu_rop *op, uint16_t table, uint16_t field);

/* The profile's requantization mode for an op family. */
etpu_requant_mode etpu_profile_requant_mode(etpu_profile p, int32_t code);

/* Run task over units [0, count) on the interpreter's threads (pool.h). */
etpu_status etpu_interp_parallel(struct etpu_interp *ip, size_t count,
                                 etpu_status (*task)(void *ctx, uint32_t worker, size_t unit), void *ctx);
/* etpu_interp_create for a model run inside an op of outer (an Edge TPU
 * op's partition): it runs on outer's threads and must be destroyed first. */
etpu_status etpu_interp_create_inner(const etpu_model *model, const etpu_interp_options *options,
                                     const struct etpu_interp *outer, struct etpu_interp **out);

/* Run one op (tests: per-op checks against golden tensors written into the
 * op's inputs; needs keep_all_tensors so that inputs are not shared). */
etpu_status etpu_interp_invoke_op(struct etpu_interp *ip, uint32_t index);

/* Raw tensor memory for tests (NULL before planning). */
static inline uint8_t *etpu_interp_tensor_mem(struct etpu_interp *ip, uint32_t i) {
  return i < ip->ntensors ? ip->t[i].data : NULL;
}

/* All registered kernels (registry.c); NULL-terminated by code < 0. */
const etpu_kernel_reg *etpu_find_kernel(int32_t code, const char *custom_code);

#endif
