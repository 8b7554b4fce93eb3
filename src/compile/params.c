/*
 * params.c — the Edge TPU parameter codec (etpu.h, "Edge TPU parameter
 * data"; EDGETPU.md §20.3): the bytes edgetpu_compiler stores in a
 * PARAMETER_CACHING executable's `parameters`, encoded from the source
 * .tflite, and decoded back into per-layer weights, biases, zero points and
 * effective scales.
 *
 * The layout, measured on the shared compiled pairs (§20.3):
 *  - one region per mapped CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED
 *    (plus SOFTMAX tables in the variant that has them), in execution order:
 *    ops ranked by the first partition output they feed (in the
 *    executable's output-layer order), ties broken by op index;
 *  - weight bytes: uint8 as stored, int8 XOR 0x80 (zero point + 128);
 *  - CONV_2D / FULLY_CONNECTED: output channels in 64-lane blocks; lane width
 *    BW = 64 above 64 outputs, else the output count rounded up to 16; per
 *    block a header (per-tensor: int32 bias x BW; per-channel: f32 effective
 *    scale x BW, int32 bias x BW, uint32 zero point x BW) then rows of BW
 *    lanes x 4 input channels; input channels padded to 4 with the zero
 *    point; lanes past the block's channels hold the zero point up to the
 *    next multiple of 4 (scale: the layer's first), then 0 (scale 0.0 for a
 *    layer of at most 64 outputs, else 1.0); K x K rows in (ky, kx, group)
 *    order for at most two blocks, else (group, ky, kx) — a measured rule,
 *    not a proven one, so the decoder tries both;
 *  - DEPTHWISE_CONV_2D: per 4 channels a header like the conv's (4 lanes),
 *    then per tap a 4x4 byte matrix, the weights on its diagonal and the
 *    zero point elsewhere;
 *  - SOFTMAX (variant seen in 2020 test_data builds only): three tables of
 *    ceil(n/4) rows of 64 bytes and one row holding 1.0f; see encode_softmax().
 * What is not known is refused or reported, never guessed silently: other
 * op types with constant parameters (LSTM gates' selection matrices) make
 * the encoder say which ops it could not encode.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "etpu/etpu.h"

/* A growing byte buffer. */
typedef struct obuf {
  uint8_t *b;
  size_t n, cap;
  bool oom;
} obuf;

static void ob_put(obuf *o, const void *p, size_t n) {
  if (o->oom) return;
  if (o->cap - o->n < n) {
    size_t cap = o->cap ? o->cap : 4096;
    while (cap - o->n < n) cap *= 2;
    uint8_t *nb = etpu_realloc(o->b, cap);
    if (!nb) {
      o->oom = true;
      return;
    }
    o->b = nb;
    o->cap = cap;
  }
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void ob_u32(obuf *o, uint32_t v) {
  uint8_t b[4];
  etpu_wr32(b, v);
  ob_put(o, b, 4);
}
static void ob_f32(obuf *o, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  ob_u32(o, u);
}
/* One parameter layer as the source model describes it (describe()); its
 * values are then copied into the public etpu_param_layer (materialize()),
 * which is all the encoder reads. */
typedef struct player {
  etpu_param_layer pub;
  const uint8_t *w;  /* TFLite weights: [O][KH][KW][I] (conv), [1][KH][KW][C] (depthwise), [O][I] (FC) */
  size_t wbytes;
  const int32_t *bias;
  const float *w_scale;
  const int64_t *w_zp;
  uint32_t nq;       /* weight quantization entries */
  float s_in, s_out;
} player;

static uint8_t wbyte(const etpu_param_layer *L, size_t i) {
  return L->signed_weights ? (uint8_t)(L->weights[i] ^ 0x80) : L->weights[i];
}

/* Header lanes [c0, c0 + bw) of a layer with `nout` outputs: `real`
 * channels, then lanes up to a multiple of 4 with the zero point and the
 * effective scale of the layer's channel 0 (measured on
 * mobilenet_edgetpu's last block; EDGETPU.md §20.3 says the block's first,
 * which is the same for every other shared layer), then empty lanes. */
static void header(obuf *o, const etpu_param_layer *L, uint32_t c0, uint32_t bw, uint32_t nout, uint32_t real) {
  const uint32_t pad4 = (real + 3) & ~3u;
  if (L->per_channel) {
    const float empty = nout <= 64 ? 0.0f : 1.0f;
    for (uint32_t l = 0; l < bw; l++) ob_f32(o, l < real ? L->scale[c0 + l] : l < pad4 ? L->scale[0] : empty);
  }
  for (uint32_t l = 0; l < bw; l++) ob_u32(o, l < real ? (uint32_t)L->bias[c0 + l] : 0);
  if (L->per_channel)
    for (uint32_t l = 0; l < bw; l++) ob_u32(o, l < pad4 ? L->zero_point[l < real ? c0 + l : 0] : 0);
}

static uint32_t lane_width(uint32_t outputs) { return outputs > 64 ? 64 : ((outputs + 15) & ~15u); }

/* Row r of a K x K conv: its (group, ky, kx) in row order `order`. */
static void row_pos(int order, uint32_t r, uint32_t groups, uint32_t KH, uint32_t KW, uint32_t *g, uint32_t *ky,
                    uint32_t *kx) {
  if (order == 0) {
    *g = r % groups;
    *kx = (r / groups) % KW;
    *ky = r / groups / KW;
  } else {
    *kx = r % KW;
    *ky = (r / KW) % KH;
    *g = r / KW / KH;
  }
}

/* CONV_2D / FULLY_CONNECTED. order: 0 (ky, kx, group), 1 (group, ky, kx). */
static void encode_conv(obuf *o, const etpu_param_layer *L, int order) {
  const uint32_t O = L->out_channels, I = L->in_channels, KH = L->kernel_h, KW = L->kernel_w;
  const uint32_t bw = lane_width(O), groups = (I + 3) / 4;
  for (uint32_t c0 = 0; c0 < O; c0 += 64) {
    const uint32_t real = O - c0 < 64 ? O - c0 : 64, pad4 = (real + 3) & ~3u;
    header(o, L, c0, bw, O, real);
    for (uint32_t r = 0; r < groups * KH * KW; r++) {
      uint32_t g, ky, kx;
      row_pos(order, r, groups, KH, KW, &g, &ky, &kx);
      uint8_t row[64 * 4];
      for (uint32_t l = 0; l < bw; l++)
        for (uint32_t k = 0; k < 4; k++) {
          const uint32_t ic = g * 4 + k, c = c0 + l;
          uint8_t v;
          if (l >= pad4) v = 0;
          else if (l >= real || ic >= I) v = (uint8_t)L->zero_point[l >= real ? 0 : c];
          else v = wbyte(L, (((size_t)c * KH + ky) * KW + kx) * I + ic);
          row[l * 4 + k] = v;
        }
      ob_put(o, row, (size_t)bw * 4);
    }
  }
}

static void encode_depthwise(obuf *o, const etpu_param_layer *L) {
  const uint32_t C = L->out_channels, KH = L->kernel_h, KW = L->kernel_w;
  for (uint32_t c0 = 0; c0 < C; c0 += 4) {
    const uint32_t real = C - c0 < 4 ? C - c0 : 4;
    header(o, L, c0, 4, C, real);
    for (uint32_t t = 0; t < KH * KW; t++) {
      uint8_t m[16];
      for (uint32_t i = 0; i < 4; i++)
        for (uint32_t j = 0; j < 4; j++) {
          const uint32_t c = i < real ? c0 + i : 0;
          m[i * 4 + j] = i == j && i < real ? wbyte(L, (size_t)t * C + c0 + i) : (uint8_t)L->zero_point[c];
        }
      ob_put(o, m, 16);
    }
  }
}

/* SOFTMAX tables (the 2020 test_data variant), n classes: three tables of
 * ceil(n/4) rows x 64 bytes, each row 4 classes x 4 bytes then 48 zero
 * bytes; classes past n hold INT_MIN in the first two tables (zero
 * elsewhere) and, in the third, the input scale's bits + 0x3FFFFFFF (the
 * scale itself for real classes); then one row holding 1.0f in its first
 * 4 bytes. */
static void encode_softmax(obuf *o, uint32_t n, float s_in) {
  const uint32_t rows = (n + 3) / 4;
  uint32_t sbits;
  memcpy(&sbits, &s_in, 4);
  for (int t = 0; t < 3; t++)
    for (uint32_t r = 0; r < rows; r++)
      for (uint32_t l = 0; l < 16; l++) {
        const uint32_t idx = r * 4 + l;
        const bool pad = idx >= n;
        if (l >= 4) ob_u32(o, 0);
        else if (t < 2) ob_u32(o, pad ? 0x80000000u : 0);
        else ob_u32(o, pad ? sbits + 0x3FFFFFFFu : sbits);
      }
  ob_f32(o, 1.0f);
  for (uint32_t l = 1; l < 16; l++) ob_u32(o, 0);
}

/* ---- the layers of a partition ------------------------------------------- */

struct etpu_params_owner {
  etpu_params pub; /* first */
  etpu_arena arena;
};

static etpu_status tensor(const etpu_model *m, int32_t idx, etpu_tensor_info *t) {
  if (idx < 0) return etpu_fail(ETPU_UNSUPPORTED, "%s: a parameter op lacks an input", etpu_model_label(m));
  return etpu_model_tensor(m, 0, (uint32_t)idx, t);
}

/* Fill a player from op `o` (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED):
 * false (not an error) when it has no constant uint8/int8 weights the codec
 * knows. */
static etpu_status describe(const etpu_model *m, uint32_t o, const etpu_op_info *op, player *L, bool *known) {
  *known = false;
  memset(L, 0, sizeof *L);
  if (op->input_count < 2 || op->output_count < 1) return ETPU_OK;
  etpu_tensor_info in, w, out, b;
  memset(&b, 0, sizeof b);
  etpu_status st;
  if ((st = tensor(m, op->inputs[0], &in)) || (st = tensor(m, op->inputs[1], &w)) ||
      (st = tensor(m, op->outputs[0], &out)))
    return st;
  if (!w.data || (w.type != ETPU_UINT8 && w.type != ETPU_INT8) || !w.quant_count || !in.quant_count ||
      !out.quant_count)
    return ETPU_OK;
  L->pub.op = o;
  L->pub.code = op->code;
  L->pub.signed_weights = w.type == ETPU_INT8;
  L->pub.per_channel = w.type == ETPU_INT8 || w.quant_count > 1;
  L->w = w.data;
  L->wbytes = w.data_size;
  L->w_scale = w.scale;
  L->w_zp = w.zero_point;
  L->nq = w.quant_count;
  L->s_in = in.scale[0];
  L->s_out = out.scale[0];
  if (op->input_count > 2 && op->inputs[2] >= 0) {
    if ((st = tensor(m, op->inputs[2], &b))) return st;
    if (b.type != ETPU_INT32 || !b.data) return ETPU_OK;
    L->bias = b.data;
  }
  if (op->code == ETPU_OP_FULLY_CONNECTED && w.rank == 2) {
    L->pub.out_channels = (uint32_t)w.shape[0];
    L->pub.in_channels = (uint32_t)w.shape[1];
    L->pub.kernel_h = L->pub.kernel_w = 1;
  } else if (w.rank == 4 && op->code == ETPU_OP_CONV_2D) {
    L->pub.out_channels = (uint32_t)w.shape[0];
    L->pub.kernel_h = (uint32_t)w.shape[1];
    L->pub.kernel_w = (uint32_t)w.shape[2];
    L->pub.in_channels = (uint32_t)w.shape[3];
  } else if (w.rank == 4 && op->code == ETPU_OP_DEPTHWISE_CONV_2D && w.shape[0] == 1) {
    L->pub.out_channels = L->pub.in_channels = (uint32_t)w.shape[3];
    L->pub.kernel_h = (uint32_t)w.shape[1];
    L->pub.kernel_w = (uint32_t)w.shape[2];
  } else {
    return ETPU_OK;
  }
  if (L->nq > 1 && L->nq != L->pub.out_channels) return ETPU_OK;
  for (uint32_t k = 0; k < w.rank; k++) /* sane dimensions: the product below cannot overflow */
    if (w.shape[k] < 1 || w.shape[k] > 65536) return ETPU_OK;
  if ((uint64_t)L->pub.out_channels * L->pub.kernel_h * L->pub.kernel_w *
          (op->code == ETPU_OP_DEPTHWISE_CONV_2D ? 1 : L->pub.in_channels) != w.data_size)
    return ETPU_OK;
  if (L->bias && b.data_size < (size_t)L->pub.out_channels * 4) return ETPU_OK;
  *known = L->pub.out_channels > 0 && L->pub.in_channels > 0 && L->pub.kernel_h > 0 && L->pub.kernel_w > 0;
  return ETPU_OK;
}

/* The rule's K x K row order for a conv (0: (ky, kx, group); 1: (group, ky, kx)). */
static int rule_order(const etpu_param_layer *l) { return l->out_channels > 128 ? 1 : 0; }

static void encode_layer(obuf *o, const etpu_param_layer *L, int order) {
  if (L->code == ETPU_OP_DEPTHWISE_CONV_2D) encode_depthwise(o, L);
  else if (L->code == ETPU_OP_SOFTMAX) encode_softmax(o, L->out_channels, L->scale[0]);
  else encode_conv(o, L, order);
}

/* Copy a described layer's values into its public struct (arena memory):
 * raw weights, biases (0 without a bias tensor), stored zero points
 * (int8: + 128) and effective scales f32(f32(s_in * s_w) * f32(1 / s_out)),
 * computed in that order (EDGETPU.md §20.3). */
static bool materialize(etpu_arena *a, player *L) {
  etpu_param_layer *l = &L->pub;
  const uint32_t O = l->out_channels;
  l->bias = etpu_arena_array(a, O, sizeof *l->bias);
  l->zero_point = etpu_arena_array(a, O, sizeof *l->zero_point);
  l->scale = etpu_arena_array(a, O, sizeof *l->scale);
  if (!l->bias || !l->zero_point || !l->scale) return false;
  if (l->code == ETPU_OP_SOFTMAX) {
    l->scale[0] = L->s_in;
    return true;
  }
  l->weights = etpu_arena_dup(a, L->w, L->wbytes);
  if (!l->weights) return false;
  const float inv = 1.0f / L->s_out;
  for (uint32_t c = 0; c < O; c++) {
    const uint32_t q = L->nq > 1 ? c : 0;
    const int64_t zp = L->w_zp ? L->w_zp[q] : 0;
    l->zero_point[c] = (uint32_t)(l->signed_weights ? zp + 128 : zp);
    l->bias[c] = L->bias ? L->bias[c] : 0;
    const float a1 = L->s_in * (L->w_scale ? L->w_scale[q] : 0.0f);
    l->scale[c] = a1 * inv;
  }
  return true;
}

void etpu_params_options_init(etpu_params_options *options) {
  memset(options, 0, sizeof *options);
  options->struct_size = sizeof *options;
}

/* Execution order (§20.3): rank = index of the first partition output an op
 * feeds; ties by op index. on[] marks the mapped ops; outputs are tensor ids. */
static etpu_status exec_order(const etpu_model *m, const bool *on, const int32_t *outs, uint32_t nouts, uint32_t *rank) {
  const uint32_t nops = etpu_model_op_count(m, 0), nt = etpu_model_tensor_count(m, 0);
  int32_t *producer = etpu_malloc(((size_t)nt + 1) * sizeof *producer);
  uint32_t *stack = etpu_malloc(((size_t)nops + 1) * sizeof *stack);
  if (!producer || !stack) {
    etpu_free(producer);
    etpu_free(stack);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", etpu_model_label(m));
  }
  for (uint32_t t = 0; t < nt; t++) producer[t] = -1;
  for (uint32_t o = 0; o < nops; o++) {
    rank[o] = UINT32_MAX;
    etpu_op_info op;
    if (etpu_model_op(m, 0, o, &op) != ETPU_OK) continue;
    for (uint32_t k = 0; k < op.output_count; k++)
      if (op.outputs[k] >= 0 && (uint32_t)op.outputs[k] < nt) producer[op.outputs[k]] = (int32_t)o;
  }
  for (uint32_t j = 0; j < nouts; j++) {
    if (outs[j] < 0 || (uint32_t)outs[j] >= nt || producer[outs[j]] < 0) continue;
    uint32_t sp = 0;
    stack[sp++] = (uint32_t)producer[outs[j]];
    while (sp) {
      const uint32_t o = stack[--sp];
      if (!on[o] || rank[o] <= j) continue;
      rank[o] = j;
      etpu_op_info op;
      if (etpu_model_op(m, 0, o, &op) != ETPU_OK) continue;
      for (uint32_t k = 0; k < op.input_count; k++) {
        const int32_t t = op.inputs[k];
        if (t >= 0 && (uint32_t)t < nt && producer[t] >= 0 && rank[producer[t]] > j && sp < nops)
          stack[sp++] = (uint32_t)producer[t];
      }
    }
  }
  etpu_free(producer);
  etpu_free(stack);
  return ETPU_OK;
}

static etpu_status oom(const etpu_model *m) { return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", etpu_model_label(m)); }

static bool is_recurrent(int32_t code) {
  return code == ETPU_OP_LSTM || code == ETPU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM ||
         code == ETPU_OP_BIDIRECTIONAL_SEQUENCE_LSTM || code == ETPU_OP_SVDF || code == ETPU_OP_RNN ||
         code == ETPU_OP_UNIDIRECTIONAL_SEQUENCE_RNN || code == ETPU_OP_BIDIRECTIONAL_SEQUENCE_RNN;
}

/* The partition's outputs when the caller names none: tensors made by a
 * mapped op and read by a CPU op or the graph, graph outputs first. */
static uint32_t default_outputs(const etpu_model *m, const bool *on, int32_t *outs, uint32_t cap) {
  uint32_t n = 0;
  const uint32_t nops = etpu_model_op_count(m, 0);
  for (uint32_t i = 0; i < etpu_model_output_count(m, 0) && n < cap; i++) outs[n++] = etpu_model_output(m, 0, i);
  for (uint32_t o = 0; o < nops; o++) {
    etpu_op_info op;
    if (on[o] || etpu_model_op(m, 0, o, &op) != ETPU_OK) continue;
    for (uint32_t k = 0; k < op.input_count && n < cap; k++) outs[n++] = op.inputs[k]; /* CPU inputs */
  }
  return n;
}

etpu_status etpu_params_encode(const etpu_model *m, const etpu_params_options *options, etpu_params **params_out) {
  etpu_params_options opt;
  etpu_params_options_init(&opt);
  if (!m || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_params_encode: NULL argument");
  if (options) memcpy(&opt, options, options->struct_size < sizeof opt ? options->struct_size : sizeof opt);
  const uint32_t nops = etpu_model_op_count(m, 0);
  etpu_compilation *comp;
  etpu_status st = etpu_compile(m, NULL, &comp);
  if (st) return st;
  struct etpu_params_owner *own = etpu_calloc(1, sizeof *own);
  bool *on = etpu_calloc(nops + 1, sizeof *on);
  uint32_t *rank = etpu_calloc(nops + 1, sizeof *rank), *order = etpu_calloc(nops + 1, sizeof *order);
  const uint32_t cap = nops * 8 + etpu_model_output_count(m, 0) + 8;
  int32_t *outs = etpu_calloc(cap, sizeof *outs);
  player *pl = etpu_calloc(nops + 1, sizeof *pl);
  obuf ob = {0};
  if (!own || !on || !rank || !order || !outs || !pl) {
    st = oom(m);
    goto done;
  }
  etpu_arena_init(&own->arena);
  for (uint32_t o = 0; o < etpu_compilation_op_count(comp) && o < nops; o++) {
    etpu_op_mapping mp;
    if (etpu_compilation_op(comp, o, &mp) == ETPU_OK && mp.op < nops) on[mp.op] = mp.on_edgetpu;
  }
  uint32_t nouts = 0;
  if (opt.output_count) {
    for (uint32_t j = 0; j < opt.output_count && nouts < cap; j++) {
      int32_t found = -1;
      for (uint32_t t = 0; t < etpu_model_tensor_count(m, 0) && found < 0; t++) {
        etpu_tensor_info ti;
        if (etpu_model_tensor(m, 0, t, &ti) == ETPU_OK && opt.output_names[j] && !strcmp(ti.name, opt.output_names[j]))
          found = (int32_t)t;
      }
      outs[nouts++] = found; /* unknown names rank nothing */
    }
  } else {
    nouts = default_outputs(m, on, outs, cap);
  }
  if ((st = exec_order(m, on, outs, nouts, rank))) goto done;
  /* Mapped ops by (rank, index); an insertion sort keeps ties in index order. */
  uint32_t n = 0;
  for (uint32_t o = 0; o < nops; o++) {
    if (!on[o]) continue;
    uint32_t i = n++;
    while (i > 0 && rank[order[i - 1]] > rank[o]) {
      order[i] = order[i - 1];
      i--;
    }
    order[i] = o;
  }
  uint32_t nl = 0, nun = 0;
  uint32_t *unenc = etpu_arena_array(&own->arena, nops + 1, sizeof *unenc);
  if (!unenc) {
    st = oom(m);
    goto done;
  }
  for (uint32_t i = 0; i < n; i++) {
    etpu_op_info op;
    const uint32_t o = order[i];
    if ((st = etpu_model_op(m, 0, o, &op))) goto done;
    player *L = &pl[nl];
    bool known = false;
    if (op.code == ETPU_OP_CONV_2D || op.code == ETPU_OP_DEPTHWISE_CONV_2D || op.code == ETPU_OP_FULLY_CONNECTED) {
      if ((st = describe(m, o, &op, L, &known))) goto done;
      if (!known) unenc[nun++] = o;
    } else if (op.code == ETPU_OP_SOFTMAX && opt.softmax_tables && op.input_count && op.output_count) {
      etpu_tensor_info in;
      if ((st = tensor(m, op.inputs[0], &in))) goto done;
      if (in.quant_count && in.rank >= 1 && in.shape[in.rank - 1] >= 1 && in.shape[in.rank - 1] <= 65536) {
        memset(L, 0, sizeof *L);
        L->pub.op = o;
        L->pub.code = ETPU_OP_SOFTMAX;
        L->pub.out_channels = L->pub.in_channels = (uint32_t)in.shape[in.rank - 1];
        L->pub.kernel_h = L->pub.kernel_w = 1;
        L->s_in = in.scale[0];
        known = true;
      }
    } else if (is_recurrent(op.code)) {
      unenc[nun++] = o;
    }
    if (!known) continue;
    if (!materialize(&own->arena, L)) {
      st = oom(m);
      goto done;
    }
    L->pub.offset = ob.n;
    L->pub.kxk_order = rule_order(&L->pub);
    encode_layer(&ob, &L->pub, L->pub.kxk_order);
    L->pub.size = ob.n - L->pub.offset;
    nl++;
  }
  if (ob.oom) {
    st = oom(m);
    goto done;
  }
  etpu_param_layer *layers = etpu_arena_array(&own->arena, nl + 1, sizeof *layers);
  uint8_t *data = etpu_arena_alloc(&own->arena, ob.n + 1);
  if (!layers || !data) {
    st = oom(m);
    goto done;
  }
  for (uint32_t i = 0; i < nl; i++) layers[i] = pl[i].pub;
  if (ob.n) memcpy(data, ob.b, ob.n);
  own->pub.layers = layers;
  own->pub.layer_count = nl;
  own->pub.data = data;
  own->pub.size = ob.n;
  own->pub.unencoded_ops = unenc;
  own->pub.unencoded_count = nun;
  own->pub.softmax_tables = opt.softmax_tables;
  *params_out = &own->pub;
  own = NULL;
done:
  if (own) {
    etpu_arena_free(&own->arena);
    etpu_free(own);
  }
  etpu_free(on);
  etpu_free(rank);
  etpu_free(order);
  etpu_free(outs);
  etpu_free(pl);
  etpu_free(ob.b);
  etpu_compilation_free(comp);
  return st;
}

void etpu_params_free(etpu_params *params) {
  if (!params) return;
  struct etpu_params_owner *own = (struct etpu_params_owner *)params;
  etpu_arena_free(&own->arena);
  etpu_free(own);
}

/* ---- decoding --------------------------------------------------------------- */

static int32_t rd_i32(const uint8_t *p) { return (int32_t)etpu_rd32(p); }
static float rd_f32(const uint8_t *p) {
  const uint32_t u = etpu_rd32(p);
  float f;
  memcpy(&f, &u, 4);
  return f;
}

/* Read the header lanes of channels [c0, c0 + real) at *at. */
static void read_header(const uint8_t *d, size_t *at, etpu_param_layer *L, uint32_t c0, uint32_t bw, uint32_t real) {
  if (L->per_channel) {
    for (uint32_t l = 0; l < real; l++) L->scale[c0 + l] = rd_f32(d + *at + 4 * (size_t)l);
    *at += 4 * (size_t)bw;
  }
  for (uint32_t l = 0; l < real; l++) L->bias[c0 + l] = rd_i32(d + *at + 4 * (size_t)l);
  *at += 4 * (size_t)bw;
  if (L->per_channel) {
    for (uint32_t l = 0; l < real; l++) L->zero_point[c0 + l] = etpu_rd32(d + *at + 4 * (size_t)l);
    *at += 4 * (size_t)bw;
  }
}

/* Decode one layer's region (its size is the layout's) into L, whose
 * zero_point holds the layout's values on entry. */
static void decode_layer(const uint8_t *d, etpu_param_layer *L, int order) {
  const uint32_t O = L->out_channels, I = L->in_channels, KH = L->kernel_h, KW = L->kernel_w;
  const uint8_t x = L->signed_weights ? 0x80 : 0;
  size_t at = 0;
  if (L->code == ETPU_OP_SOFTMAX) {
    L->scale[0] = rd_f32(d + 2 * (size_t)((O + 3) / 4) * 64);
    return;
  }
  if (L->code == ETPU_OP_DEPTHWISE_CONV_2D) {
    for (uint32_t c0 = 0; c0 < O; c0 += 4) {
      const uint32_t real = O - c0 < 4 ? O - c0 : 4;
      read_header(d, &at, L, c0, 4, real);
      for (uint32_t t = 0; t < KH * KW; t++, at += 16) {
        for (uint32_t i = 0; i < real; i++) L->weights[(size_t)t * O + c0 + i] = (uint8_t)(d[at + i * 5] ^ x);
        if (!L->per_channel) /* an off-diagonal byte: the per-tensor zero point */
          for (uint32_t i = 0; i < real; i++) L->zero_point[c0 + i] = d[at + 1];
      }
    }
    return;
  }
  const uint32_t bw = lane_width(O), groups = (I + 3) / 4;
  for (uint32_t c0 = 0; c0 < O; c0 += 64) {
    const uint32_t real = O - c0 < 64 ? O - c0 : 64;
    read_header(d, &at, L, c0, bw, real);
    for (uint32_t r = 0; r < groups * KH * KW; r++, at += 4 * (size_t)bw) {
      uint32_t g, ky, kx;
      row_pos(order, r, groups, KH, KW, &g, &ky, &kx);
      for (uint32_t l = 0; l < real; l++)
        for (uint32_t k = 0; k < 4 && g * 4 + k < I; k++)
          L->weights[(((size_t)(c0 + l) * KH + ky) * KW + kx) * I + g * 4 + k] = (uint8_t)(d[at + l * 4 + k] ^ x);
    }
  }
  if (!L->per_channel) {
    /* A per-tensor zero point is stored only as padding: a lane past the
     * channels (the last block's first row) or a padded input channel (the
     * last group's first row of block 0). Without either the data does not
     * hold it, and the layout's value stays. */
    const size_t hdr = 4 * (size_t)bw, rows = (size_t)groups * KH * KW, block = hdr + rows * 4 * bw;
    const uint32_t last_real = O - (O - 1) / 64 * 64;
    int found = -1;
    if (last_real % 4) {
      found = d[(size_t)((O - 1) / 64) * block + hdr + 4 * (size_t)last_real];
    } else if (I % 4) {
      const size_t r = order == 0 ? groups - 1 : (size_t)(groups - 1) * KH * KW;
      found = d[hdr + r * 4 * bw + I % 4];
    }
    if (found >= 0)
      for (uint32_t c = 0; c < O; c++) L->zero_point[c] = (uint32_t)found;
  }
}

etpu_status etpu_params_decode(const etpu_params *layout, const void *data, size_t size, etpu_params **params_out) {
  if (!layout || (!data && size) || !params_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_params_decode: NULL argument");
  struct etpu_params_owner *own = etpu_calloc(1, sizeof *own);
  if (!own) return etpu_fail(ETPU_OUT_OF_MEMORY, "etpu_params_decode: out of memory");
  etpu_arena_init(&own->arena);
  etpu_status st = ETPU_OK;
  const uint8_t *d = data;
  etpu_param_layer *ls = etpu_arena_array(&own->arena, layout->layer_count + 1, sizeof *ls);
  for (uint32_t i = 0; i < layout->layer_count; i++)
    if (!layout->layers[i].zero_point || !layout->layers[i].scale) {
      etpu_arena_free(&own->arena);
      etpu_free(own);
      return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_params_decode: layer %u of the layout has no values", i);
    }
  own->pub.data = etpu_arena_dup(&own->arena, size ? (const void *)d : "", size ? size : 1);
  obuf ob = {0};
  if (!ls || !own->pub.data) st = etpu_fail(ETPU_OUT_OF_MEMORY, "etpu_params_decode: out of memory");
  for (uint32_t i = 0; !st && i < layout->layer_count; i++) {
    etpu_param_layer *L = &ls[i];
    *L = layout->layers[i];
    if (L->offset > size || L->size > size - L->offset) {
      st = etpu_fail(ETPU_MALFORMED, "parameter data: %zu bytes end before layer %u (op %u, bytes %zu..%zu)", size, i,
                     L->op, L->offset, L->offset + L->size);
      break;
    }
    const uint32_t O = L->out_channels;
    const size_t nw = L->code == ETPU_OP_SOFTMAX ? 1
                      : L->code == ETPU_OP_DEPTHWISE_CONV_2D ? (size_t)O * L->kernel_h * L->kernel_w
                                                            : (size_t)O * L->kernel_h * L->kernel_w * L->in_channels;
    L->weights = etpu_arena_alloc(&own->arena, nw);
    L->bias = etpu_arena_array(&own->arena, O, sizeof *L->bias);
    L->zero_point = etpu_arena_dup(&own->arena, layout->layers[i].zero_point, (size_t)O * sizeof *L->zero_point);
    L->scale = etpu_arena_array(&own->arena, O, sizeof *L->scale);
    if (!L->weights || !L->bias || !L->zero_point || !L->scale) {
      st = etpu_fail(ETPU_OUT_OF_MEMORY, "etpu_params_decode: out of memory");
      break;
    }
    if (!L->per_channel && L->code != ETPU_OP_SOFTMAX) /* a per-tensor layer's effective scale is not in the data */
      memcpy(L->scale, layout->layers[i].scale, (size_t)O * sizeof *L->scale);
    /* Try the layout's row order, then the other one (K x K convs only):
     * the one whose re-encoding gives the region's bytes wins. */
    const bool kxk = L->code != ETPU_OP_SOFTMAX && L->code != ETPU_OP_DEPTHWISE_CONV_2D && L->kernel_h * L->kernel_w > 1;
    L->exact = false;
    for (int attempt = 0; attempt < (kxk ? 2 : 1) && !L->exact; attempt++) {
      const int order = attempt ? 1 - layout->layers[i].kxk_order : layout->layers[i].kxk_order;
      decode_layer(d + L->offset, L, order);
      ob.n = 0;
      encode_layer(&ob, L, order);
      if (ob.oom) {
        st = etpu_fail(ETPU_OUT_OF_MEMORY, "etpu_params_decode: out of memory");
        break;
      }
      L->exact = ob.n == L->size && !memcmp(ob.b, d + L->offset, L->size);
      L->kxk_order = order;
    }
    if (!L->exact) decode_layer(d + L->offset, L, layout->layers[i].kxk_order), L->kxk_order = layout->layers[i].kxk_order;
  }
  etpu_free(ob.b);
  if (st) {
    etpu_arena_free(&own->arena);
    etpu_free(own);
    return st;
  }
  own->pub.layers = ls;
  own->pub.layer_count = layout->layer_count;
  own->pub.size = size;
  own->pub.softmax_tables = layout->softmax_tables;
  own->pub.unencoded_ops = etpu_arena_dup(&own->arena, layout->unencoded_ops ? (const void *)layout->unencoded_ops : "",
                                          layout->unencoded_count * sizeof(uint32_t) + 1);
  own->pub.unencoded_count = layout->unencoded_count;
  *params_out = &own->pub;
  return ETPU_OK;
}

/* ---- matching a compiled package -------------------------------------------- */

/* Naive search (only used when the codec could not encode every op, i.e. on
 * small LSTM models): the offset of needle in hay, or SIZE_MAX. */
static size_t find_bytes(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k) {
  if (!k || k > n) return SIZE_MAX;
  for (size_t i = 0; i + k <= n; i++)
    if (hay[i] == needle[0] && !memcmp(hay + i, needle, k)) return i;
  return SIZE_MAX;
}

etpu_status etpu_params_match_package(const etpu_model *source, const etpu_package *package, etpu_params **source_out,
                                      etpu_params **decoded_out) {
  if (!source || !package || !source_out || !decoded_out)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_params_match_package: NULL argument");
  const etpu_pkg_executable *pc = NULL, *run = NULL;
  for (uint32_t k = 0; k < package->executable_count; k++) {
    const etpu_pkg_executable *e = &package->executables[k];
    if (e->type == ETPU_PKG_PARAMETER_CACHING && !pc) pc = e;
    if (e->type != ETPU_PKG_PARAMETER_CACHING && !run) run = e;
  }
  const uint8_t *data = pc ? pc->parameters : run ? run->parameters : NULL;
  const size_t size = pc ? pc->parameters_size : run ? run->parameters_size : 0;
  const char **names = NULL;
  if (run && run->output_count) {
    names = etpu_calloc(run->output_count, sizeof *names);
    if (!names) return oom(source);
    for (uint32_t i = 0; i < run->output_count; i++) names[i] = run->outputs[i].name;
  }
  etpu_params_options o;
  etpu_params_options_init(&o);
  o.output_count = run ? run->output_count : 0;
  o.output_names = names;
  /* The softmax-table variant is told by the size: encode without, and
   * again with them when that is what makes the sizes agree. */
  etpu_params *enc = NULL;
  etpu_status st = etpu_params_encode(source, &o, &enc);
  if (!st && enc->size != size) {
    etpu_params *with = NULL;
    o.softmax_tables = true;
    st = etpu_params_encode(source, &o, &with);
    if (!st && with->size == size) {
      etpu_params_free(enc);
      enc = with;
    } else {
      etpu_params_free(with);
    }
  }
  etpu_free(names);
  if (st) return st;
  /* With ops the codec does not encode (LSTM) the encoded regions sit
   * between unknown bytes: find each one in the data. */
  if (enc->unencoded_count)
    for (uint32_t i = 0; i < enc->layer_count; i++) {
      etpu_param_layer *L = &enc->layers[i];
      const size_t at = find_bytes(data, size, enc->data + L->offset, L->size);
      if (at != SIZE_MAX) L->offset = at;
    }
  etpu_params *dec = NULL;
  st = etpu_params_decode(enc, data, size, &dec);
  if (st) {
    etpu_params_free(enc);
    return st;
  }
  *source_out = enc;
  *decoded_out = dec;
  return ETPU_OK;
}

const char *etpu_param_layer_diff(const etpu_param_layer *a, const etpu_param_layer *b) {
  if (a->code != b->code || a->out_channels != b->out_channels || a->in_channels != b->in_channels ||
      a->kernel_h != b->kernel_h || a->kernel_w != b->kernel_w || a->per_channel != b->per_channel)
    return "shape";
  const uint32_t O = a->out_channels;
  if (a->code == ETPU_OP_SOFTMAX) return memcmp(&a->scale[0], &b->scale[0], 4) ? "scale" : NULL;
  const size_t nw = a->code == ETPU_OP_DEPTHWISE_CONV_2D ? (size_t)O * a->kernel_h * a->kernel_w
                                                        : (size_t)O * a->kernel_h * a->kernel_w * a->in_channels;
  if (memcmp(a->weights, b->weights, nw)) return "weights";
  if (memcmp(a->bias, b->bias, (size_t)O * 4)) return "bias";
  if (memcmp(a->zero_point, b->zero_point, (size_t)O * 4)) return "zero point";
  if (memcmp(a->scale, b->scale, (size_t)O * 4)) return "scale";
  return NULL;
}
