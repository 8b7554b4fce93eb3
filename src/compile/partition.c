/*
 * partition.c — which ops go into the Edge TPU custom op (EDGETPU.md §5.3).
 *
 * Ops are visited in the model's order (TFLite lists them topologically;
 * this is checked). For each tensor we track two facts: `tainted` (it is
 * downstream of a CPU op that lies behind the cut) and `tpu_up` (an Edge TPU
 * op lies upstream of it).
 *   - an op reading a tainted tensor, or failing a rule while an Edge TPU op
 *     lies upstream, runs on the CPU behind the cut and taints its outputs;
 *   - an op failing a rule with no Edge TPU op upstream runs on the CPU
 *     before the custom op (e.g. a float->int8 QUANTIZE on the input) and
 *     does not taint;
 *   - every other op goes into the Edge TPU op.
 * -i names tensors that are tainted from the start; without -i, so is the
 * input of an on-device learning layer ending the graph. With -a, ops behind the
 * cut that pass the rules are mapped too, and each maximal run of mapped ops
 * in op order becomes its own segment (runs are contiguous in a topological
 * order, so each segment is convex). With -n, the single segment is cut into
 * N consecutive pieces of roughly equal parameter bytes.
 */
#include <stdio.h>
#include <string.h>

#include "compile/compile.h"

uint64_t etpu_segment_params(const etpu_compilation *c, int32_t seg) {
  const etpu_model *m = c->model;
  const etpu_gsubgraph *g = &m->subgraphs[0];
  /* Count each buffer once (the table etpu_partition allocated, so that the
   * count cannot change under out of memory). */
  uint8_t *seen = c->buffer_seen;
  memset(seen, 0, m->nbuffers + 1);
  uint64_t total = 0;
  for (uint32_t o = 0; o < c->nops; o++) {
    if (!c->ops[o].on_tpu || c->ops[o].segment != seg) continue;
    const etpu_gop *op = &g->ops[o];
    for (uint32_t k = 0; k < op->ninputs; k++) {
      if (op->inputs[k] < 0) continue;
      const etpu_gtensor *t = &g->tensors[op->inputs[k]];
      size_t size;
      if (!etpu_graph_tensor_data(m, t, &size)) continue;
      if (seen[t->buffer]) continue;
      seen[t->buffer] = 1;
      total += size;
    }
  }
  return total;
}

static int32_t find_tensor(const etpu_gsubgraph *g, const char *name) {
  for (uint32_t i = 0; i < g->ntensors; i++)
    if (!strcmp(g->tensors[i].name, name)) return (int32_t)i;
  return -1;
}

static int32_t code_at(const etpu_model *m, const etpu_gsubgraph *g, uint32_t o) {
  return m->opcodes[g->ops[o].opcode].code;
}

/* The input tensor of an on-device learning layer at the end of the graph,
 * or -1 (LEARNING.md §3.1, §4.2). libcoral compiles only the base of a
 * retrained model and keeps the layer on the CPU, where it can be trained
 * again; without -i etpu cuts there too. Two layouts:
 *  - imprinting (libcoral's ValidateImprintingModel): the last ops are
 *    L2_NORMALIZATION, [QUANTIZE], CONV_2D, MUL, RESHAPE, SOFTMAX and the
 *    graph has no other L2_NORMALIZATION; the cut is the L2Norm's input;
 *  - softmax regression (AppendFullyConnectedAndSoftmaxLayerToModel): the
 *    last ops are FULLY_CONNECTED, [RESHAPE], SOFTMAX and the weights are
 *    named "Appended/FC/Weights" as libcoral names them; the cut is the
 *    FULLY_CONNECTED's input. */
static int32_t learned_tail_input(const etpu_model *m, const etpu_gsubgraph *g) {
  uint32_t n = g->nops;
  if (n < 3 || code_at(m, g, n - 1) != ETPU_OP_SOFTMAX) return -1;
  uint32_t fc = code_at(m, g, n - 2) == ETPU_OP_RESHAPE ? n - 3 : n - 2;
  if (code_at(m, g, fc) == ETPU_OP_FULLY_CONNECTED && fc > 0 && g->ops[fc].ninputs >= 2) {
    int32_t w = g->ops[fc].inputs[1];
    if (w >= 0 && !strcmp(g->tensors[w].name, "Appended/FC/Weights")) return g->ops[fc].inputs[0];
    return -1;
  }
  if (n < 6 || code_at(m, g, n - 2) != ETPU_OP_RESHAPE || code_at(m, g, n - 3) != ETPU_OP_MUL ||
      code_at(m, g, n - 4) != ETPU_OP_CONV_2D)
    return -1;
  uint32_t l2 = code_at(m, g, n - 5) == ETPU_OP_QUANTIZE ? n - 6 : n - 5;
  if (code_at(m, g, l2) != ETPU_OP_L2_NORMALIZATION || l2 == 0 || g->ops[l2].ninputs < 1) return -1;
  for (uint32_t o = 0; o < l2; o++)
    if (code_at(m, g, o) == ETPU_OP_L2_NORMALIZATION) return -1;
  return g->ops[l2].inputs[0];
}

etpu_status etpu_partition(etpu_compilation *c) {
  const etpu_model *m = c->model;
  const etpu_gsubgraph *g = &m->subgraphs[0];
  uint32_t nt = g->ntensors;
  uint8_t *tainted = etpu_arena_alloc(&c->arena, nt + 1);
  uint8_t *tpu_up = etpu_arena_alloc(&c->arena, nt + 1);
  int32_t *taint_src = etpu_arena_array(&c->arena, nt + 1, sizeof(int32_t));
  c->buffer_seen = etpu_arena_alloc(&c->arena, m->nbuffers + 1);
  if (!tainted || !tpu_up || !taint_src || !c->buffer_seen)
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  for (uint32_t i = 0; i < nt; i++) taint_src[i] = -1;
  for (uint32_t i = 0; i < c->opt.intermediate_count; i++) {
    const char *name = c->opt.intermediate_tensors[i];
    int32_t t = find_tensor(g, name ? name : "");
    if (t < 0)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: -i: no tensor is named '%s'", m->label, name ? name : "(null)");
    tainted[t] = 1;
  }
  c->learned_cut = c->opt.intermediate_count ? -1 : learned_tail_input(m, g);
  if (c->learned_cut >= 0) tainted[c->learned_cut] = 1;
  /* Topological order check: inputs produced by later ops break the cut. */
  for (uint32_t o = 0; o < c->nops; o++) {
    const etpu_gop *op = &g->ops[o];
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t >= 0 && g->tensors[t].producer > (int32_t)o)
        return etpu_fail(ETPU_UNSUPPORTED, "%s: op %u %s reads tensor %d '%s' before op %d produces it; etpu compiles "
                                           "topologically ordered graphs only",
                         m->label, o, etpu_graph_op_name(m, op), t, g->tensors[t].name, g->tensors[t].producer);
    }
  }
  for (uint32_t o = 0; o < c->nops; o++) {
    const etpu_gop *op = &g->ops[o];
    etpu_op_plan *p = &c->ops[o];
    etpu_rules_check(m, o, c->rt, &p->rule);
    bool supported = p->rule.status == ETPU_MAPPED;
    bool in_tainted = false, up = false;
    int32_t src = -1;
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t < 0) continue;
      if (tainted[t]) {
        in_tainted = true;
        if (src < 0) src = taint_src[t];
      }
      up |= tpu_up[t] != 0;
    }
    p->blocked_by = -1;
    p->segment = -1;
    if (supported && (!in_tainted || c->opt.multiple_subgraphs)) {
      p->on_tpu = true;
      p->status = ETPU_MAPPED;
    } else if (!supported && !in_tainted && !up) {
      p->before_cut = true;
      p->status = p->rule.status;
    } else {
      p->status = supported ? ETPU_NOT_MAPPED_AFTER_CUT : p->rule.status;
      p->blocked_by = in_tainted ? src : -1;
    }
    for (uint32_t k = 0; k < op->noutputs; k++) {
      int32_t t = op->outputs[k];
      if (p->on_tpu) {
        tpu_up[t] = 1;
      } else if (!p->before_cut) {
        /* Behind the cut, the source is the op that started it (-1 for a
         * cut forced by -i); otherwise this op starts the cut. */
        if (!tainted[t]) taint_src[t] = in_tainted ? src : (int32_t)o;
        tainted[t] = 1;
        tpu_up[t] = up ? 1 : tpu_up[t];
      }
    }
  }
  /* Segments. */
  c->nsegments = 0;
  if (c->opt.multiple_subgraphs) {
    bool in_run = false;
    for (uint32_t o = 0; o < c->nops; o++) {
      if (c->ops[o].on_tpu) {
        if (!in_run) c->nsegments++;
        c->ops[o].segment = (int32_t)c->nsegments - 1;
        in_run = true;
      } else if (!c->ops[o].before_cut) {
        in_run = false;
      }
    }
  } else {
    for (uint32_t o = 0; o < c->nops; o++)
      if (c->ops[o].on_tpu) {
        c->ops[o].segment = 0;
        c->nsegments = 1;
      }
  }
  /* -n: cut the one segment into N pieces of about equal parameter bytes. */
  c->nmodels = 1;
  for (uint32_t o = 0; o < c->nops; o++) c->ops[o].model = 0;
  uint32_t n = c->opt.num_segments;
  if (n > 1) {
    if (c->opt.multiple_subgraphs)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: -n and -a cannot be combined", m->label);
    uint32_t ntpu = 0;
    for (uint32_t o = 0; o < c->nops; o++) ntpu += c->ops[o].on_tpu;
    if (n > ntpu)
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: -n %u: only %u ops map to the Edge TPU, so at most %u segments",
                       m->label, n, ntpu, ntpu);
    uint64_t total = etpu_segment_params(c, 0);
    /* Per-op parameter bytes (buffers shared between ops count at first use). */
    uint8_t *seen = etpu_arena_alloc(&c->arena, m->nbuffers + 1);
    if (!seen) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
    uint64_t acc = 0;
    uint32_t k = 0, left = ntpu, in_seg = 0;
    for (uint32_t o = 0; o < c->nops; o++) {
      etpu_op_plan *p = &c->ops[o];
      if (!p->on_tpu) continue;
      const etpu_gop *op = &g->ops[o];
      uint64_t mine = 0;
      for (uint32_t i = 0; i < op->ninputs; i++) {
        if (op->inputs[i] < 0) continue;
        const etpu_gtensor *t = &g->tensors[op->inputs[i]];
        size_t size;
        if (etpu_graph_tensor_data(m, t, &size) && !seen[t->buffer]) {
          seen[t->buffer] = 1;
          mine += size;
        }
      }
      /* Move on when this segment has its share of the parameters (the op
       * goes where its middle falls), or when every later segment needs one
       * of the remaining ops. */
      if (k + 1 < n && in_seg > 0 && (left == n - k - 1 || (acc + mine / 2) * n > total * (k + 1))) {
        k++;
        in_seg = 0;
      }
      p->segment = (int32_t)k;
      p->model = (int32_t)k;
      acc += mine;
      left--;
      in_seg++;
    }
    for (uint32_t o = 0; o < c->nops; o++)
      if (!c->ops[o].on_tpu) c->ops[o].model = c->ops[o].before_cut ? 0 : (int32_t)n - 1;
    c->nsegments = n;
    c->nmodels = n;
  }
  /* Per-segment facts. */
  c->seg_params = etpu_arena_array(&c->arena, c->nsegments + 1, sizeof(uint64_t));
  c->seg_onchip = etpu_arena_array(&c->arena, c->nsegments + 1, sizeof(uint64_t));
  c->seg_runtime = etpu_arena_array(&c->arena, c->nsegments + 1, sizeof(int32_t));
  if (!c->seg_params || !c->seg_onchip || !c->seg_runtime)
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  int32_t need = 10;
  for (uint32_t s = 0; s < c->nsegments; s++) {
    c->seg_params[s] = etpu_segment_params(c, (int32_t)s);
    c->seg_runtime[s] = 10;
  }
  for (uint32_t o = 0; o < c->nops; o++) {
    if (!c->ops[o].on_tpu) continue;
    /* The lowest runtime whose rules map the op: the runtime that added its
     * type, or later when a limit was lifted later (dilated depthwise, Mean
     * over z, Pad in z, Squeeze with relayout: 13). */
    int32_t rt = etpu_rules_min_runtime(etpu_graph_op_code(m, &g->ops[o]));
    if (rt < 10) rt = 10;
    for (etpu_rule_result rr; rt < c->rt; rt++) {
      etpu_rules_check(m, o, rt, &rr);
      if (rr.status == ETPU_MAPPED) break;
    }
    int32_t s = c->ops[o].segment;
    if (rt > c->seg_runtime[s]) c->seg_runtime[s] = rt;
    if (rt > need) need = rt;
  }
  c->sum.required_runtime_version = need;
  return ETPU_OK;
}

void etpu_estimate_memory(etpu_compilation *c, uint64_t *cache_left) {
  uint64_t total = 0, onchip = 0;
  for (uint32_t s = 0; s < c->nsegments; s++) {
    uint64_t p = c->seg_params[s];
    uint64_t take = p <= *cache_left ? p : 0; /* a segment is cached whole or streamed */
    /* With several pipeline models each segment has its own Edge TPU. */
    if (c->nmodels > 1) take = p <= ETPU_ONCHIP_CACHE_BYTES ? p : 0;
    else *cache_left -= take;
    c->seg_onchip[s] = take;
    total += p;
    onchip += take;
  }
  c->sum.parameter_bytes = total;
  c->sum.on_chip_bytes = onchip;
  c->sum.off_chip_bytes = total - onchip;
  /* Pipeline segments run on one Edge TPU each, each with its own cache. */
  c->sum.on_chip_remaining_bytes = c->nmodels > 1 ? ETPU_ONCHIP_CACHE_BYTES * c->nmodels - onchip : *cache_left;
}
