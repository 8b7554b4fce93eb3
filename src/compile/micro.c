/*
 * micro.c — the Coral Dev Board Micro verdict: will the ops that run on its
 * MCU run under TensorFlow Lite Micro, and does the model fit the board?
 *
 * Every op but the edgetpu-custom-op runs on the i.MX RT1176's Cortex-M7
 * under TFLM at the commit google-coral/coralmicro c9f665b0 pins
 * (tensorflow/tflite-micro 24c08505, July 2022). Facts taken from that
 * tree (written here in our own table, not copied):
 *   - the ops: MicroMutableOpResolver's public Add methods. DIV, LOG_SOFTMAX
 *     and SQUARED_DIFFERENCE have kernel sources but no Add method (its
 *     AddBuiltin is private), so an application cannot register them.
 *     FindOp matches a builtin by code alone: op versions are not checked,
 *     only what the kernels do with the tensor types.
 *   - the types: each kernel's Prepare/Eval switch. TFLM had dropped the
 *     uint8 kernels: only QUANTIZE, DEQUANTIZE and the type-blind data
 *     movers (RESHAPE, SQUEEZE, ...) take uint8, so every uint8
 *     (legacy-quantized) model fails there.
 *   - coralmicro registers two custom ops of its own: edgetpu-custom-op
 *     (the Edge TPU; no arena of its own) and PosenetDecoderOp; TFLM brings
 *     TFLite_Detection_PostProcess.
 *
 * The tensor arena (what MicroInterpreter::arena_used_bytes() reports) is
 * modelled as TFLM lays it out, for a 32-bit Cortex-M build:
 *   head = the GreedyMemoryPlanner's plan: every non-constant, non-variable
 *     tensor lives from the op that writes it (graph inputs: op 0) to the
 *     last op that reads it (graph outputs: the last op); sizes rounded up
 *     to 16 bytes; buffers placed largest first (a stable sort), each at the
 *     lowest offset clear of every placed buffer whose lifetime overlaps.
 *     Scratch buffers the reference kernels request join the plan for
 *     their op's lifetime: UNIDIRECTIONAL_SEQUENCE_LSTM (float: batch x
 *     cell x 4 gates x 4 B; int8: four int16 and one int8 batch x cell
 *     buffers) and int8/int16 MEAN (an int32 per output element).
 *   - tail (persistent) = a TfLiteEvalTensor (12 B) per tensor, a
 *     NodeAndRegistration (40 B) per op, each op's builtin options struct
 *     and kernel OpData (rounded to 16: persistent buffers are 16-aligned),
 *     per-channel multiplier and shift arrays of CONV_2D and
 *     DEPTHWISE_CONV_2D (2 x channels x 4 B), the effective biases of int8
 *     LSTM (8 x cells x 4 B), variable tensors, a TfLiteTensor (48 B) plus
 *     quantization (20 B) per graph input and output, and 88 B of fixed
 *     objects (allocator, planner, interpreter bookkeeping).
 * The 88 B fixed part and the LSTM OpData (480 B) are fitted to TFLM's own
 * arena_used_bytes for the models of goldens/tflm/arena.json (reference
 * build); the other sizes are struct layouts. CMSIS-NN (what coralmicro
 * builds) adds im2col scratch buffers and uses a little more (0.1-1% on
 * those models; not modelled).
 *
 * The board's memories (coralmicro c9f665b0; numbers, not estimates):
 *   - OCRAM section for the arena: 512 KiB, m_ocram (0x20240000, 0x80000)
 *     in libs/nxp/rt1176-sdk/MIMXRT1176xxxxx_cm7_ram.ld, the CM7 linker
 *     script of cmake/toolchain-arm-none-eabi-gcc.cmake; the arena goes
 *     there with STATIC_TENSOR_ARENA_IN_OCRAM (libs/tensorflow/utils.h).
 *   - SDRAM section for the arena: 32 MiB, m_sdram = 0x03000000 - HEAP_SIZE
 *     0x01000000 in the same script (STATIC_TENSOR_ARENA_IN_SDRAM; the board
 *     has 64 MB of SDRAM, the script maps 48 MiB).
 *   - heap: 16 MiB (m_heap, HEAP_SIZE 0x01000000): LfsReadFile loads the
 *     model into a std::vector there, and TFLM reads it in place.
 *   - flash: the littlefs file system, 512 blocks of 128 KiB = 64 MiB
 *     (libs/base/filesystem.cc).
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "compile/compile.h"

#define MICRO_OCRAM_BYTES ((uint64_t)512 << 10)
#define MICRO_SDRAM_BYTES ((uint64_t)32 << 20)
#define MICRO_HEAP_BYTES ((uint64_t)16 << 20)
#define MICRO_FLASH_BYTES ((uint64_t)64 << 20)
#define TFLM_COMMIT "24c08505"
#define CORALMICRO_COMMIT "c9f665b0"

/* TFLM struct sizes on a 32-bit target, and the fitted parts. */
#define TFLM_FIXED 88u
#define TFLM_EVAL_TENSOR 12u
#define TFLM_NODE 40u
#define TFLM_IO_TENSOR 48u
#define TFLM_IO_QUANT 20u
#define TFLM_LSTM_OPDATA 476u

/* Tensor types a kernel takes (its first activation input). */
enum {
  F32 = 1u << 0,
  I8 = 1u << 1,
  U8 = 1u << 2,
  I16 = 1u << 3,
  I32 = 1u << 4,
  I64 = 1u << 5,
  BOOL = 1u << 6,
  U32 = 1u << 7,
  ANY = 0xffffu,
};

typedef struct tflm_op {
  int32_t code;
  uint32_t types;   /* 0: kernel source present but no Add method */
  uint16_t builtin; /* bytes of the builtin options struct */
  uint16_t opdata;  /* bytes of the kernel's OpData */
} tflm_op;

/* TFLM 24c08505's ops: code, types, builtin data, OpData. */
static const tflm_op tflm_ops[] = {
    {ETPU_OP_ABS, F32 | I8 | I16, 0, 16},
    {ETPU_OP_ADD, F32 | I8 | I16, 8, 60},
    {ETPU_OP_ADD_N, F32 | I8, 0, 16},
    {ETPU_OP_ARG_MAX, F32 | I8 | I32, 0, 0},
    {ETPU_OP_ARG_MIN, F32 | I8 | I32, 0, 0},
    {ETPU_OP_ASSIGN_VARIABLE, ANY, 0, 0},
    {ETPU_OP_AVERAGE_POOL_2D, F32 | I8, 48, 40},
    {ETPU_OP_BATCH_TO_SPACE_ND, F32 | I8, 0, 0},
    {ETPU_OP_BROADCAST_ARGS, I32 | I64, 0, 0},
    {ETPU_OP_BROADCAST_TO, ANY, 0, 0},
    {ETPU_OP_CALL_ONCE, ANY, 4, 16},
    {ETPU_OP_CAST, F32 | I8 | I16 | I32 | U32, 0, 0},
    {ETPU_OP_CEIL, F32, 0, 0},
    {ETPU_OP_CONCATENATION, F32 | I8 | I16 | I32 | I64, 8, 32},
    {ETPU_OP_CONV_2D, F32 | I8 | I16, 24, 60},
    {ETPU_OP_COS, F32, 0, 0},
    {ETPU_OP_CUMSUM, F32 | I8 | I32, 8, 32},
    {ETPU_OP_DEPTH_TO_SPACE, F32 | I8, 4, 0},
    {ETPU_OP_DEPTHWISE_CONV_2D, F32 | I8, 28, 60},
    {ETPU_OP_DEQUANTIZE, I8 | U8 | I16, 0, 16},
    {ETPU_OP_DIV, 0, 4, 0},
    {ETPU_OP_ELU, F32 | I8, 0, 256},
    {ETPU_OP_EQUAL, F32 | I8 | I32 | I64 | BOOL, 0, 32},
    {ETPU_OP_EXP, F32, 0, 0},
    {ETPU_OP_EXPAND_DIMS, F32 | I8 | I32, 0, 0},
    {ETPU_OP_FILL, ANY, 0, 0},
    {ETPU_OP_FLOOR, F32, 0, 0},
    {ETPU_OP_FLOOR_DIV, F32, 0, 0},
    {ETPU_OP_FLOOR_MOD, F32, 0, 0},
    {ETPU_OP_FULLY_CONNECTED, F32 | I8 | I16, 12, 32},
    {ETPU_OP_GATHER, F32 | I8 | I32, 8, 0},
    {ETPU_OP_GATHER_ND, F32 | I8 | I32, 0, 0},
    {ETPU_OP_GREATER, F32 | I8 | I32 | I64, 0, 32},
    {ETPU_OP_GREATER_EQUAL, F32 | I8 | I32 | I64, 0, 32},
    {ETPU_OP_HARD_SWISH, F32 | I8, 0, 32},
    {ETPU_OP_IF, ANY, 8, 8},
    {ETPU_OP_L2_NORMALIZATION, F32 | I8, 4, 16},
    {ETPU_OP_L2_POOL_2D, F32, 48, 0},
    {ETPU_OP_LEAKY_RELU, F32 | I8 | I16, 4, 24},
    {ETPU_OP_LESS, F32 | I8 | I32 | I64, 0, 32},
    {ETPU_OP_LESS_EQUAL, F32 | I8 | I32 | I64, 0, 32},
    {ETPU_OP_LOG, F32, 0, 0},
    {ETPU_OP_LOG_SOFTMAX, 0, 0, 0},
    {ETPU_OP_LOGICAL_AND, BOOL, 0, 0},
    {ETPU_OP_LOGICAL_NOT, BOOL, 0, 0},
    {ETPU_OP_LOGICAL_OR, BOOL, 0, 0},
    {ETPU_OP_LOGISTIC, F32 | I8 | I16, 0, 32},
    {ETPU_OP_MAX_POOL_2D, F32 | I8, 48, 40},
    {ETPU_OP_MAXIMUM, F32 | I8 | I32 | I64, 0, 0},
    {ETPU_OP_MEAN, F32 | I8 | I16, 1, 36},
    {ETPU_OP_MINIMUM, F32 | I8 | I32 | I64, 0, 0},
    {ETPU_OP_MIRROR_PAD, F32 | I8 | I32 | I64, 4, 32},
    {ETPU_OP_MUL, F32 | I8 | I32, 4, 48},
    {ETPU_OP_NEG, F32 | I8, 0, 0},
    {ETPU_OP_NOT_EQUAL, F32 | I8 | I32 | I64 | BOOL, 0, 32},
    {ETPU_OP_PACK, F32 | I8 | I32 | I64, 8, 0},
    {ETPU_OP_PAD, F32 | I8 | I16 | I32, 0, 48},
    {ETPU_OP_PADV2, F32 | I8 | I16 | I32, 0, 48},
    {ETPU_OP_PRELU, F32 | I8, 0, 48},
    {ETPU_OP_QUANTIZE, F32 | I8 | U8 | I16 | I32, 0, 32},
    {ETPU_OP_READ_VARIABLE, ANY, 0, 0},
    {ETPU_OP_REDUCE_MAX, F32 | I8, 1, 36},
    {ETPU_OP_RELU, F32 | I8, 0, 16},
    {ETPU_OP_RELU6, F32 | I8, 0, 16},
    {ETPU_OP_RESHAPE, ANY, 36, 0},
    {ETPU_OP_RESIZE_BILINEAR, F32 | I8, 4, 0},
    {ETPU_OP_RESIZE_NEAREST_NEIGHBOR, F32 | I8 | I16, 4, 0},
    {ETPU_OP_ROUND, F32, 0, 0},
    {ETPU_OP_RSQRT, F32 | I8, 0, 0},
    {ETPU_OP_SHAPE, ANY, 4, 0},
    {ETPU_OP_SIN, F32, 0, 0},
    {ETPU_OP_SLICE, F32 | I8 | I16 | I32 | I64, 0, 0},
    {ETPU_OP_SOFTMAX, F32 | I8 | I16, 4, 56},
    {ETPU_OP_SPACE_TO_BATCH_ND, F32 | I8, 0, 0},
    {ETPU_OP_SPACE_TO_DEPTH, F32 | I8, 4, 0},
    {ETPU_OP_SPLIT, F32 | I8 | I16 | I32, 4, 0},
    {ETPU_OP_SPLIT_V, F32 | I8 | I16 | I32, 4, 0},
    {ETPU_OP_SQRT, F32, 0, 0},
    {ETPU_OP_SQUARE, F32, 0, 0},
    {ETPU_OP_SQUARED_DIFFERENCE, 0, 0, 0},
    {ETPU_OP_SQUEEZE, ANY, 36, 0},
    {ETPU_OP_STRIDED_SLICE, F32 | I8 | I16 | I32, 24, 64},
    {ETPU_OP_SUB, F32 | I8 | I16, 8, 60},
    {ETPU_OP_SVDF, F32 | I8, 12, 64},
    {ETPU_OP_TANH, F32 | I8 | I16, 0, 32},
    {ETPU_OP_TRANSPOSE, F32 | I8, 0, 0},
    {ETPU_OP_TRANSPOSE_CONV, F32 | I8 | I16, 16, 72},
    {ETPU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM, F32 | I8, 16, TFLM_LSTM_OPDATA},
    {ETPU_OP_UNPACK, F32 | I8 | I32, 8, 0},
    {ETPU_OP_VAR_HANDLE, ANY, 8, 8},
    {ETPU_OP_WHILE, ANY, 8, 8},
    {ETPU_OP_ZEROS_LIKE, F32 | I8 | I32 | I64, 0, 0},
};

/* Custom ops a Dev Board Micro application can register. */
static const char *const micro_custom_ops[] = {"TFLite_Detection_PostProcess", "PosenetDecoderOp"};

static const tflm_op *tflm_find(int32_t code) {
  for (size_t i = 0; i < sizeof tflm_ops / sizeof tflm_ops[0]; i++)
    if (tflm_ops[i].code == code) return &tflm_ops[i];
  return NULL;
}

static uint32_t type_bit(int32_t dtype) {
  switch (dtype) {
  case ETPU_FLOAT32: return F32;
  case ETPU_INT8: return I8;
  case ETPU_UINT8: return U8;
  case ETPU_INT16: return I16;
  case ETPU_INT32: return I32;
  case ETPU_INT64: return I64;
  case ETPU_BOOL: return BOOL;
  case ETPU_UINT32: return U32;
  default: return 1u << 15;
  }
}

struct etpu_micro {
  etpu_arena arena;
  const etpu_model *model;
  uint32_t nops;
  etpu_micro_op *ops;
  etpu_micro_verdict v;
};

static bool is_edgetpu_op(const etpu_model *m, const etpu_gop *op) {
  const char *cc = op->opcode < m->nopcodes ? m->opcodes[op->opcode].custom_code : NULL;
  return etpu_graph_op_code(m, op) == ETPU_OP_CUSTOM && cc && !strcmp(cc, ETPU_EDGETPU_CUSTOM_CODE);
}

static bool is_const(const etpu_model *m, int32_t t) {
  size_t n = 0;
  return etpu_graph_tensor_data(m, &m->subgraphs[0].tensors[t], &n) != NULL && n > 0;
}

/* The type TFLM's kernel switches on: the first non-constant input. */
static int32_t kernel_type(const etpu_model *m, const etpu_gop *op) {
  const etpu_gsubgraph *g = &m->subgraphs[0];
  for (uint32_t k = 0; k < op->ninputs; k++) {
    int32_t t = op->inputs[k];
    if (t >= 0 && (uint32_t)t < g->ntensors && !is_const(m, t)) return g->tensors[t].type;
  }
  if (op->ninputs && op->inputs[0] >= 0 && (uint32_t)op->inputs[0] < g->ntensors) return g->tensors[op->inputs[0]].type;
  return -1;
}

/* Decide one op; reason and fix are written into the micro's arena. */
static etpu_status check_op(etpu_micro *mc, uint32_t o, etpu_micro_op *out) {
  const etpu_model *m = mc->model;
  const etpu_gop *op = &m->subgraphs[0].ops[o];
  int32_t code = etpu_graph_op_code(m, op);
  char reason[320] = "", fix[240] = "";
  out->op = o;
  out->op_name = etpu_graph_op_name(m, op);
  out->supported = out->registered = true;
  if (code == ETPU_OP_CUSTOM) {
    const char *cc = op->opcode < m->nopcodes ? m->opcodes[op->opcode].custom_code : NULL;
    bool known = false;
    for (size_t i = 0; cc && i < sizeof micro_custom_ops / sizeof micro_custom_ops[0]; i++)
      known |= !strcmp(cc, micro_custom_ops[i]);
    if (!known) {
      out->supported = out->registered = false;
      snprintf(reason, sizeof reason,
               "custom op not in TFLM " TFLM_COMMIT " or coralmicro (they register TFLite_Detection_PostProcess, "
               "PosenetDecoderOp and edgetpu-custom-op)");
      snprintf(fix, sizeof fix, "write and register a TFLM kernel for it (MicroMutableOpResolver::AddCustom), or "
                                "express it with builtin ops");
    }
  } else {
    const tflm_op *t = tflm_find(code);
    int32_t ty = kernel_type(m, op);
    if (!t) {
      out->supported = out->registered = false;
      snprintf(reason, sizeof reason, "TFLM " TFLM_COMMIT " has no kernel for %s", etpu_op_code_name(code));
      snprintf(fix, sizeof fix, "replace %s with ops TFLM has, or run this part on the Edge TPU (compile it; -i moves "
                                "the cut)", etpu_op_code_name(code));
    } else if (!t->types) {
      out->supported = out->registered = false;
      snprintf(reason, sizeof reason,
               "TFLM " TFLM_COMMIT " has a %s kernel source but MicroMutableOpResolver has no Add method for it "
               "(AddBuiltin is private), so an application cannot register it",
               etpu_op_code_name(code));
      snprintf(fix, sizeof fix, "%s",
               code == ETPU_OP_DIV ? "multiply by the reciprocal (MUL) instead, or patch TFLM's op resolver"
                                   : "rewrite it with registered ops, or patch TFLM's op resolver");
    } else if (!(t->types & type_bit(ty))) {
      out->supported = false;
      if (ty == ETPU_UINT8) {
        snprintf(reason, sizeof reason,
                 "TFLM " TFLM_COMMIT " has no uint8 %s kernel (TFLM removed the uint8 kernels; only QUANTIZE, "
                 "DEQUANTIZE and type-blind data movers take uint8): every uint8 (legacy-quantized) model fails there",
                 etpu_op_code_name(code));
        snprintf(fix, sizeof fix, "quantize the float model to int8 (etpu quantize; --io uint8 keeps uint8 inputs and "
                                  "outputs with QUANTIZE ops at the edges)");
      } else {
        snprintf(reason, sizeof reason, "TFLM " TFLM_COMMIT "'s %s kernel does not take %s inputs",
                 etpu_op_code_name(code), etpu_dtype_name(ty));
        snprintf(fix, sizeof fix, "%s",
                 (t->types & F32) && !(t->types & I8)
                     ? "run it in float (DEQUANTIZE before, QUANTIZE after) or replace it"
                     : "convert its inputs to a type the kernel takes (int8 or float32), or replace the op");
      }
    }
  }
  out->reason = etpu_arena_strdup(&mc->arena, reason);
  out->fix = etpu_arena_strdup(&mc->arena, fix);
  if (!out->reason || !out->fix) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  return ETPU_OK;
}

/* ---- the arena ------------------------------------------------------------ */

typedef struct plan_buf {
  uint64_t size; /* rounded up to 16 */
  int32_t first, last;
  uint64_t offset;
} plan_buf;

static uint64_t r16(uint64_t x) { return (x + 15) & ~(uint64_t)15; }

static uint64_t bytes_of(const etpu_gtensor *t) {
  uint64_t b = 0;
  return etpu_tensor_bytes(t->type, t->rank, t->shape, &b) ? b : 0;
}

/* TFLM's GreedyMemoryPlanner over bufs (offsets set in place); order and
 * placed are scratch arrays of n entries. Returns the plan's size.
 * O(n^2), as TFLM's own planner. */
static uint64_t greedy_plan(plan_buf *bufs, uint32_t n, uint32_t *order, uint32_t *placed) {
  for (uint32_t i = 0; i < n; i++) order[i] = i;
  /* stable: largest first, ties in buffer order (TFLM's bubble sort) */
  for (uint32_t i = 1; i < n; i++) {
    uint32_t k = order[i], j = i;
    while (j > 0 && bufs[order[j - 1]].size < bufs[k].size) {
      order[j] = order[j - 1];
      j--;
    }
    order[j] = k;
  }
  uint64_t top = 0;
  for (uint32_t i = 0; i < n; i++) {
    plan_buf *b = &bufs[order[i]];
    /* first fit: walk the placed buffers by offset, skipping those whose
     * lifetimes do not overlap; the first gap that holds it wins */
    uint64_t off = 0;
    for (uint32_t j = 0; j < i; j++) {
      const plan_buf *p = &bufs[placed[j]];
      if (p->last < b->first || p->first > b->last) continue;
      if (p->offset >= off + b->size) break;
      if (p->offset + p->size > off) off = p->offset + p->size;
    }
    b->offset = off;
    if (off + b->size > top) top = off + b->size;
    /* keep placed[] sorted by offset (stable) */
    uint32_t j = i;
    while (j > 0 && bufs[placed[j - 1]].offset > off) {
      placed[j] = placed[j - 1];
      j--;
    }
    placed[j] = order[i];
  }
  return top;
}

static etpu_status estimate_arena(etpu_micro *mc) {
  const etpu_model *m = mc->model;
  const etpu_gsubgraph *g = &m->subgraphs[0];
  uint32_t nt = g->ntensors, no = g->nops;
  int32_t *first = etpu_arena_array(&mc->arena, nt + 1, sizeof *first);
  int32_t *last = etpu_arena_array(&mc->arena, nt + 1, sizeof *last);
  plan_buf *bufs = etpu_arena_array(&mc->arena, nt + 4 * (size_t)no + 1, sizeof *bufs);
  uint32_t *order = etpu_arena_array(&mc->arena, nt + 4 * (size_t)no + 1, sizeof *order);
  uint32_t *live = etpu_arena_array(&mc->arena, nt + 4 * (size_t)no + 1, sizeof *live);
  if (!first || !last || !bufs || !order || !live) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  for (uint32_t t = 0; t < nt; t++) first[t] = last[t] = -1;
  for (uint32_t k = 0; k < g->ninputs; k++)
    if (g->inputs[k] >= 0 && (uint32_t)g->inputs[k] < nt) first[g->inputs[k]] = 0;
  for (uint32_t k = 0; k < g->noutputs; k++)
    if (g->outputs[k] >= 0 && (uint32_t)g->outputs[k] < nt) last[g->outputs[k]] = no ? (int32_t)no - 1 : 0;
  for (uint32_t o = 0; o < no; o++) {
    const etpu_gop *op = &g->ops[o];
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t < 0 || (uint32_t)t >= nt) continue;
      if (first[t] < 0) first[t] = (int32_t)o;
      if (last[t] < (int32_t)o) last[t] = (int32_t)o;
    }
    for (uint32_t k = 0; k < op->noutputs; k++) {
      int32_t t = op->outputs[k];
      if (t < 0 || (uint32_t)t >= nt) continue;
      if (first[t] < 0) first[t] = (int32_t)o;
      if (last[t] < (int32_t)o) last[t] = (int32_t)o;
    }
  }
  uint32_t nb = 0;
  uint64_t tail = TFLM_FIXED + (uint64_t)TFLM_EVAL_TENSOR * nt + (uint64_t)TFLM_NODE * no;
  for (uint32_t t = 0; t < nt; t++) {
    const etpu_gtensor *x = &g->tensors[t];
    if (is_const(m, t)) continue;
    if (x->is_variable) {
      tail += r16(bytes_of(x));
      continue;
    }
    if (first[t] < 0) continue;
    bufs[nb++] = (plan_buf){r16(bytes_of(x)), first[t], last[t], 0};
  }
  for (uint32_t o = 0; o < no; o++) {
    const etpu_gop *op = &g->ops[o];
    int32_t code = etpu_graph_op_code(m, op);
    const tflm_op *t = tflm_find(code);
    if (t) tail += t->builtin + r16(t->opdata);
    if ((code == ETPU_OP_CONV_2D || code == ETPU_OP_DEPTHWISE_CONV_2D) && op->ninputs > 1 && op->inputs[1] >= 0 &&
        (uint32_t)op->inputs[1] < nt) {
      const etpu_gtensor *w = &g->tensors[op->inputs[1]];
      int32_t ch = w->rank == 4 ? w->shape[code == ETPU_OP_CONV_2D ? 0 : 3] : 0;
      if (ch > 0) tail += 2 * r16(4 * (uint64_t)ch);
    }
    const etpu_gtensor *in = op->ninputs && op->inputs[0] >= 0 && (uint32_t)op->inputs[0] < nt ? &g->tensors[op->inputs[0]] : NULL;
    const etpu_gtensor *out = op->noutputs && op->outputs[0] >= 0 && (uint32_t)op->outputs[0] < nt ? &g->tensors[op->outputs[0]] : NULL;
    if (code == ETPU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM && in && out && out->rank == 3 && op->ninputs > 4 &&
        op->inputs[4] >= 0 && (uint32_t)op->inputs[4] < nt) {
      /* batch x cell: the output's dim 0 (batch-major, the Keras
       * converter's layout; a time-major model's batch is dim 1, not
       * modelled) and input_to_output_weights' rows */
      const etpu_gtensor *w = &g->tensors[op->inputs[4]];
      uint64_t cell = w->rank == 2 && w->shape[0] > 0 ? (uint64_t)w->shape[0] : 0;
      uint64_t batch = out->shape[0] > 0 ? (uint64_t)out->shape[0] : 1;
      bool cifg = op->ninputs > 1 && op->inputs[1] < 0;
      if (in->type == ETPU_INT8) {
        for (int k = 0; k < 4; k++) bufs[nb++] = (plan_buf){r16(batch * cell * 2), (int32_t)o, (int32_t)o, 0};
        bufs[nb++] = (plan_buf){r16(batch * cell), (int32_t)o, (int32_t)o, 0};
        tail += 8 * r16(4 * cell) + 5 * 4;
      } else {
        bufs[nb++] = (plan_buf){r16(batch * cell * (cifg ? 3 : 4) * 4), (int32_t)o, (int32_t)o, 0};
        tail += 4;
      }
    }
    if (code == ETPU_OP_MEAN && in && out && (in->type == ETPU_INT8 || in->type == ETPU_INT16)) {
      uint64_t n = 0;
      if (etpu_shape_elements(out->rank, out->shape, &n)) bufs[nb++] = (plan_buf){r16(n * 4), (int32_t)o, (int32_t)o, 0};
      tail += 4;
    }
  }
  for (uint32_t k = 0; k < g->ninputs + g->noutputs; k++) {
    int32_t t = k < g->ninputs ? g->inputs[k] : g->outputs[k - g->ninputs];
    if (t < 0 || (uint32_t)t >= nt) continue;
    const etpu_gquant *q = g->tensors[t].quant;
    tail += TFLM_IO_TENSOR + (q && q->count && q->zp_count ? TFLM_IO_QUANT : 0);
  }
  mc->v.arena_head_bytes = greedy_plan(bufs, nb, order, live);
  mc->v.arena_tail_bytes = tail;
  mc->v.arena_bytes = mc->v.arena_head_bytes + tail;
  return ETPU_OK;
}

/* ---- the verdict ----------------------------------------------------------- */

static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* Unsupported ops of one kind: same name and same reason. */
static bool same_kind(const etpu_micro_op *a, const etpu_micro_op *b) {
  return !a->supported && !b->supported && !strcmp(a->op_name, b->op_name) && !strcmp(a->reason, b->reason);
}

static uint32_t first_of_kind(const etpu_micro *mc, uint32_t i) {
  for (uint32_t j = 0; j < i; j++)
    if (same_kind(&mc->ops[j], &mc->ops[i])) return j;
  return i;
}

static uint32_t kind_count(const etpu_micro *mc, uint32_t i) {
  uint32_t n = 0;
  for (uint32_t j = 0; j < mc->nops; j++) n += same_kind(&mc->ops[j], &mc->ops[i]);
  return n;
}

static etpu_status summarize(etpu_micro *mc, bool google_payload) {
  etpu_micro_verdict *v = &mc->v;
  char ops[700] = "", mem[700] = "", list[400] = "";
  size_t used = 0;
  for (uint32_t i = 0; i < mc->nops; i++) {
    if (mc->ops[i].supported || first_of_kind(mc, i) != i) continue;
    uint32_t count = kind_count(mc, i);
    int n = count > 1 ? snprintf(list + used, sizeof list - used, "%s%s x%u", used ? ", " : "", mc->ops[i].op_name, count)
                      : snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", mc->ops[i].op_name);
    if (n < 0 || (size_t)n >= sizeof list - used) break;
    used += (size_t)n;
  }
  if (v->missing_ops)
    snprintf(ops, sizeof ops, "does not run: TFLM %s (coralmicro %s) cannot run %u of the %u MCU op%s (%s)%s",
             TFLM_COMMIT, CORALMICRO_COMMIT, v->missing_ops, v->mcu_ops, v->mcu_ops == 1 ? "" : "s", list,
             v->uint8_model ? "; every uint8 (legacy-quantized) model fails in this TFLM, which has no uint8 kernels "
                              "for them: quantize to int8"
                            : "");
  uint64_t a = v->arena_bytes;
  if (v->model_bytes > v->heap_bytes || v->model_bytes > v->flash_bytes) {
    v->fit = ETPU_MICRO_TOO_LARGE;
    bool heap = v->model_bytes > v->heap_bytes;
    snprintf(mem, sizeof mem,
             "does not fit by %llu bytes: the model (%llu B) is larger than the %s (%llu B)",
             (unsigned long long)(v->model_bytes - (heap ? v->heap_bytes : v->flash_bytes)),
             (unsigned long long)v->model_bytes,
             heap ? "heap coralmicro loads it into (m_heap)" : "littlefs flash partition",
             (unsigned long long)(heap ? v->heap_bytes : v->flash_bytes));
  } else if (a > v->sdram_bytes) {
    v->fit = ETPU_MICRO_TOO_LARGE;
    snprintf(mem, sizeof mem,
             "does not fit by %llu bytes: the tensor arena (estimated %llu B) is larger than the SDRAM section for it "
             "(%llu B, m_sdram)",
             (unsigned long long)(a - v->sdram_bytes), (unsigned long long)a, (unsigned long long)v->sdram_bytes);
  } else if (a > v->sram_bytes) {
    v->fit = ETPU_MICRO_FITS_SDRAM;
    snprintf(mem, sizeof mem,
             "fits in SDRAM only: the tensor arena (estimated %llu B) does not fit the on-chip OCRAM section (%llu B) "
             "by %llu bytes; place it in SDRAM with STATIC_TENSOR_ARENA_IN_SDRAM (%llu B section, %llu B to spare; "
             "slower than OCRAM)",
             (unsigned long long)a, (unsigned long long)v->sram_bytes, (unsigned long long)(a - v->sram_bytes),
             (unsigned long long)v->sdram_bytes, (unsigned long long)(v->sdram_bytes - a));
  } else {
    v->fit = ETPU_MICRO_FITS_SRAM;
    snprintf(mem, sizeof mem,
             "fits: the tensor arena (estimated %llu B) fits the on-chip OCRAM section (%llu B, %llu B to spare; "
             "STATIC_TENSOR_ARENA_IN_OCRAM)",
             (unsigned long long)a, (unsigned long long)v->sram_bytes, (unsigned long long)(v->sram_bytes - a));
  }
  v->runs = v->missing_ops == 0 && v->fit != ETPU_MICRO_TOO_LARGE;
  char all[1600];
  snprintf(all, sizeof all, "%s%s%s%s", ops, ops[0] ? "; memory: " : "", mem,
           google_payload ? " (Edge TPU parameters: the custom op's bytes, an upper bound; its package is not decoded "
                            "here)"
                          : "");
  v->summary = etpu_arena_strdup(&mc->arena, all);
  return v->summary ? ETPU_OK : etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory");
}

etpu_status etpu_micro_check(const etpu_model *m, uint64_t model_bytes, etpu_micro **out) {
  if (!m || !out || m->nsubgraphs == 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_micro_check: NULL argument");
  etpu_micro *mc = etpu_calloc(1, sizeof *mc);
  if (!mc) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  etpu_arena_init(&mc->arena);
  mc->model = m;
  const etpu_gsubgraph *g = &m->subgraphs[0];
  mc->ops = etpu_arena_array(&mc->arena, g->nops + 1, sizeof *mc->ops);
  etpu_status st = mc->ops ? ETPU_OK : etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  bool google = false;
  if (!model_bytes && st == ETPU_OK) {
    void *buf = NULL;
    size_t size = 0;
    st = etpu_model_write_buffer(m, 0, &buf, &size);
    etpu_free(buf);
    model_bytes = size;
  }
  for (uint32_t o = 0; o < g->nops && st == ETPU_OK; o++) {
    const etpu_gop *op = &g->ops[o];
    if (is_edgetpu_op(m, op)) {
      if (op->custom && op->custom_size >= ETPU_PAYLOAD_HEADER_BYTES && !memcmp(op->custom, ETPU_PAYLOAD_MAGIC, 8)) {
        mc->v.edgetpu_parameter_bytes += rd64(op->custom + 16);
      } else {
        mc->v.edgetpu_parameter_bytes += op->custom_size;
        google = true;
      }
      continue;
    }
    etpu_micro_op *mo = &mc->ops[mc->nops++];
    st = check_op(mc, o, mo);
    if (st == ETPU_OK && !mo->supported) {
      mc->v.missing_ops++;
      if (kernel_type(m, op) == ETPU_UINT8) mc->v.uint8_model = true;
    }
  }
  mc->v.mcu_ops = mc->nops;
  mc->v.model_bytes = model_bytes;
  mc->v.sram_bytes = MICRO_OCRAM_BYTES;
  mc->v.sdram_bytes = MICRO_SDRAM_BYTES;
  mc->v.heap_bytes = MICRO_HEAP_BYTES;
  mc->v.flash_bytes = MICRO_FLASH_BYTES;
  if (st == ETPU_OK) st = estimate_arena(mc);
  if (st == ETPU_OK) st = summarize(mc, google);
  if (st != ETPU_OK) {
    etpu_micro_free(mc);
    return st;
  }
  *out = mc;
  return ETPU_OK;
}

void etpu_micro_free(etpu_micro *mc) {
  if (!mc) return;
  etpu_arena_free(&mc->arena);
  etpu_free(mc);
}

void etpu_micro_summary(const etpu_micro *mc, etpu_micro_verdict *out) {
  if (mc && out) *out = mc->v;
}

uint32_t etpu_micro_op_count(const etpu_micro *mc) { return mc ? mc->nops : 0; }

etpu_status etpu_micro_op_info(const etpu_micro *mc, uint32_t i, etpu_micro_op *out) {
  if (!mc || !out || i >= mc->nops) return etpu_fail(ETPU_INVALID_ARGUMENT, "Dev Board Micro op %u does not exist", i);
  *out = mc->ops[i];
  return ETPU_OK;
}

static const char *fit_name(etpu_micro_fit f) {
  return f == ETPU_MICRO_FITS_SRAM ? "sram" : f == ETPU_MICRO_FITS_SDRAM ? "sdram" : "too_large";
}

static void micro_text(const etpu_micro *mc, etpu_strbuf *s) {
  const etpu_micro_verdict *v = &mc->v;
  etpu_strbuf_printf(s, "etpu: Dev Board Micro (TFLite Micro %s, as google-coral/coralmicro %s pins): %s\n", TFLM_COMMIT,
                     CORALMICRO_COMMIT, v->runs ? "runs" : "does not run");
  etpu_strbuf_printf(s, "etpu:   verdict: ");
  etpu_escape_text(s, v->summary);
  etpu_strbuf_printf(s, "\netpu:   MCU ops: %u (every op but the edgetpu-custom-op), %u TFLM cannot run\n", v->mcu_ops,
                     v->missing_ops);
  for (uint32_t i = 0; i < mc->nops; i++) {
    const etpu_micro_op *o = &mc->ops[i];
    if (o->supported || first_of_kind(mc, i) != i) continue;
    uint32_t count = kind_count(mc, i), shown = 0;
    etpu_strbuf_printf(s, "etpu:   op%s %u", count > 1 ? "s" : "", o->op);
    for (uint32_t j = i + 1; j < mc->nops && count > 1; j++) {
      if (!same_kind(&mc->ops[j], o)) continue;
      if (++shown == 8) {
        etpu_strbuf_printf(s, ", ... (%u in all)", count);
        break;
      }
      etpu_strbuf_printf(s, ", %u", mc->ops[j].op);
    }
    etpu_strbuf_printf(s, " ");
    etpu_escape_text(s, o->op_name);
    etpu_strbuf_printf(s, ": ");
    etpu_escape_text(s, o->reason);
    etpu_strbuf_printf(s, "\netpu:     fix: ");
    etpu_escape_text(s, o->fix);
    etpu_strbuf_printf(s, "\n");
  }
  etpu_strbuf_printf(s,
                     "etpu:   tensor arena estimate: %llu B = %llu planned (TFLM's greedy planner, 16-byte aligned) + "
                     "%llu persistent (tensors, nodes, op data, variables); on-chip OCRAM section %llu B, SDRAM "
                     "section %llu B\n",
                     (unsigned long long)v->arena_bytes, (unsigned long long)v->arena_head_bytes,
                     (unsigned long long)v->arena_tail_bytes, (unsigned long long)v->sram_bytes,
                     (unsigned long long)v->sdram_bytes);
  etpu_strbuf_printf(s,
                     "etpu:   model %llu B (flash: littlefs %llu B; loaded into the %llu B heap); Edge TPU parameters "
                     "%llu B\n",
                     (unsigned long long)v->model_bytes, (unsigned long long)v->flash_bytes,
                     (unsigned long long)v->heap_bytes, (unsigned long long)v->edgetpu_parameter_bytes);
}

static void micro_json(const etpu_micro *mc, etpu_strbuf *s) {
  const etpu_micro_verdict *v = &mc->v;
  etpu_strbuf_printf(s, "{\"tflm_commit\": \"%s\", \"coralmicro_commit\": \"%s\", \"runs\": %s, \"fit\": \"%s\", ",
                     TFLM_COMMIT, CORALMICRO_COMMIT, v->runs ? "true" : "false", fit_name(v->fit));
  etpu_strbuf_printf(s, "\"summary\": ");
  etpu_escape_json(s, v->summary);
  etpu_strbuf_printf(s,
                     ", \"mcu_ops\": %u, \"missing_ops\": %u, \"uint8_model\": %s, \"arena_bytes\": %llu, "
                     "\"arena_head_bytes\": %llu, \"arena_tail_bytes\": %llu, \"model_bytes\": %llu, "
                     "\"edgetpu_parameter_bytes\": %llu, \"sram_bytes\": %llu, \"sdram_bytes\": %llu, \"heap_bytes\": "
                     "%llu, \"flash_bytes\": %llu, \"ops\": [",
                     v->mcu_ops, v->missing_ops, v->uint8_model ? "true" : "false", (unsigned long long)v->arena_bytes,
                     (unsigned long long)v->arena_head_bytes, (unsigned long long)v->arena_tail_bytes,
                     (unsigned long long)v->model_bytes, (unsigned long long)v->edgetpu_parameter_bytes,
                     (unsigned long long)v->sram_bytes, (unsigned long long)v->sdram_bytes,
                     (unsigned long long)v->heap_bytes, (unsigned long long)v->flash_bytes);
  for (uint32_t i = 0; i < mc->nops; i++) {
    const etpu_micro_op *o = &mc->ops[i];
    etpu_strbuf_printf(s, "%s{\"index\": %u, \"name\": ", i ? ", " : "", o->op);
    etpu_escape_json(s, o->op_name);
    etpu_strbuf_printf(s, ", \"supported\": %s", o->supported ? "true" : "false");
    if (!o->supported) {
      etpu_strbuf_printf(s, ", \"reason\": ");
      etpu_escape_json(s, o->reason);
      etpu_strbuf_printf(s, ", \"fix\": ");
      etpu_escape_json(s, o->fix);
    }
    etpu_strbuf_printf(s, "}");
  }
  etpu_strbuf_printf(s, "]}");
}

void etpu_micro_append(const etpu_micro *mc, etpu_report_kind kind, etpu_strbuf *s) {
  if (kind == ETPU_REPORT_JSON)
    micro_json(mc, s);
  else
    micro_text(mc, s);
}

static void micro_text_any(const void *mc, etpu_strbuf *s) { micro_text(mc, s); }
static void micro_json_any(const void *mc, etpu_strbuf *s) { micro_json(mc, s); }

etpu_status etpu_micro_report(const etpu_micro *mc, etpu_report_kind kind, char **text_out) {
  return etpu_report_render("etpu_micro_report", mc, kind, micro_text_any, micro_json_any, text_out);
}
