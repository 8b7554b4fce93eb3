/*
 * target.c — the Coral devices a report can assume (--target) and the Edge
 * TPU latency estimate for each: a fitted model, not a measurement.
 *
 *   total = fixed + (input + output + instruction bytes) / link
 *         + cycles / 500 MHz + streamed parameters / link + CPU ops / host
 *
 * Where each constant comes from (EDGETPU.md §15, §16, §20.5):
 *   - 500 MHz: libedgetpu's maximum Edge TPU clock (§15, RE of its clock
 *     registers). Not fitted.
 *   - cycles from the graph = MACs / 1250 + 0.035 x output-activation bytes
 *     of the mapped ops: fitted (§20.5) to the estimated cycles Google's
 *     compiler writes into its package; it gives 482,078 for MobileNet v2
 *     against Google's 458,040 (+5%) and 679,384 for MobileNet-EdgeTPU 0.75
 *     against 689,436 (-1.5%) (tests/test_target.c checks both).
 *   - instruction bytes: 16 bytes x 123 instructions per mapped op, fitted
 *     from MobileNet v2's package (8,102 EXECUTION_ONLY instructions of 128
 *     bits for 66 mapped ops, §20.4); they cross the link every inference.
 *   - links: USB 3.0 at 300 MB/s effective (§20.5's fit of the published
 *     USB points; Coral's co-compilation benchmark streams 2.5-3 ms per MB);
 *     PCIe Gen2 x1 at 500 MB/s (§15) for the M.2/mini-PCIe cards and the
 *     Dev Board, whose Edge TPU sits on PCIe.
 *   - fixed per-inference cost: fitted per target as the mean residual of
 *     the published Table 1 figures (§16) for MobileNet v1 and v2 (224x224)
 *     after the terms above: USB 0.55 ms, Dev Board 0.89 ms. Coral publishes
 *     no M.2/PCIe figure; pcie takes USB's desktop overhead with the PCIe
 *     link (an assumption, said in the note).
 *   - host CPU: multiply-accumulates plus one per output element of the CPU
 *     ops at 8.0 G/s on the desktop and 2.9 G/s on the Dev Board's
 *     Cortex-A53: the geometric mean of MobileNet v1 and v2's MACs over
 *     their published CPU-only times (Desktop CPU 53 and 51 ms, Embedded
 *     CPU 164 and 122 ms, §16).
 * The Dev Board Micro has no estimate: Coral publishes no latency for it
 * and etpu has no figure for its MCU or its Edge TPU link.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "compile/compile.h"

#define CLOCK_HZ 500e6
#define MACS_PER_CYCLE 1250.0
#define CYCLES_PER_ACT_BYTE 0.035
#define INSTR_BYTES_PER_OP 1968u /* 16 B x 123 instructions */
#define USB_BYTES_PER_S 300e6
#define PCIE_BYTES_PER_S 500e6
#define USB_FIXED_MS 0.55
#define DEVBOARD_FIXED_MS 0.89
#define DESKTOP_OPS_PER_S 8.0e9
#define DEVBOARD_OPS_PER_S 2.9e9

static const char *const target_names[] = {"usb", "pcie", "devboard", "devboard-micro"};
static const char *const target_descriptions[] = {
    "USB Accelerator (USB 3.0) on an x86-64 desktop host",
    "M.2/mini-PCIe Accelerator (PCIe Gen2 x1) on an x86-64 desktop host",
    "Dev Board (i.MX 8M Cortex-A53 host, Edge TPU on PCIe Gen2 x1)",
    "Dev Board Micro (i.MX RT1176 Cortex-M7; CPU ops run under TensorFlow Lite Micro)",
};

const char *etpu_target_name(int target) {
  return target >= 0 && target <= ETPU_TARGET_DEVBOARD_MICRO ? target_names[target] : "unknown";
}

const char *etpu_target_description(int target) {
  return target >= 0 && target <= ETPU_TARGET_DEVBOARD_MICRO ? target_descriptions[target] : "unknown target";
}

etpu_status etpu_target_parse(const char *name, etpu_target *target_out) {
  if (!name || !target_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_target_parse: NULL argument");
  for (int t = 0; t <= ETPU_TARGET_DEVBOARD_MICRO; t++)
    if (!strcmp(name, target_names[t])) {
      *target_out = (etpu_target)t;
      return ETPU_OK;
    }
  return etpu_fail(ETPU_INVALID_ARGUMENT, "unknown target '%s': the targets are usb, pcie, devboard, devboard-micro",
                   name);
}

/* ---- op costs ------------------------------------------------------------ */

static uint64_t tensor_elements(const etpu_gtensor *t) {
  uint64_t n = 0;
  return etpu_shape_elements(t->rank, t->shape, &n) ? n : 0;
}

static const etpu_gtensor *op_tensor(const etpu_model *m, const etpu_gop *op, uint32_t k, bool output) {
  const etpu_gsubgraph *g = &m->subgraphs[0];
  uint32_t n = output ? op->noutputs : op->ninputs;
  const int32_t *v = output ? op->outputs : op->inputs;
  if (k >= n || v[k] < 0 || (uint32_t)v[k] >= g->ntensors) return NULL;
  return &g->tensors[v[k]];
}

uint64_t etpu_op_macs(const etpu_model *m, uint32_t o) {
  const etpu_gop *op = &m->subgraphs[0].ops[o];
  const etpu_gtensor *in = op_tensor(m, op, 0, false), *w = op_tensor(m, op, 1, false);
  const etpu_gtensor *out = op_tensor(m, op, 0, true);
  if (!w || !out) return 0;
  uint64_t n = tensor_elements(out);
  switch (etpu_graph_op_code(m, op)) {
  case ETPU_OP_CONV_2D: /* out x kh x kw x cin */
    return w->rank == 4 && w->shape[1] > 0 && w->shape[2] > 0 && w->shape[3] > 0
               ? n * (uint64_t)w->shape[1] * (uint64_t)w->shape[2] * (uint64_t)w->shape[3]
               : 0;
  case ETPU_OP_DEPTHWISE_CONV_2D: /* out x kh x kw */
    return w->rank == 4 && w->shape[1] > 0 && w->shape[2] > 0 ? n * (uint64_t)w->shape[1] * (uint64_t)w->shape[2] : 0;
  case ETPU_OP_FULLY_CONNECTED: /* out x in features */
    return w->rank == 2 && w->shape[1] > 0 ? n * (uint64_t)w->shape[1] : 0;
  case ETPU_OP_TRANSPOSE_CONV: { /* inputs: shape, weights [cout,kh,kw,cin], input: in x kh x kw x cout */
    const etpu_gtensor *x = op_tensor(m, op, 2, false);
    return x && w->rank == 4 && w->shape[0] > 0 && w->shape[1] > 0 && w->shape[2] > 0
               ? tensor_elements(x) * (uint64_t)w->shape[0] * (uint64_t)w->shape[1] * (uint64_t)w->shape[2]
               : 0;
  }
  default:
    (void)in;
    return 0;
  }
}

uint64_t etpu_op_out_elements(const etpu_model *m, uint32_t o) {
  const etpu_gop *op = &m->subgraphs[0].ops[o];
  uint64_t n = 0;
  for (uint32_t k = 0; k < op->noutputs; k++) {
    const etpu_gtensor *t = op_tensor(m, op, k, true);
    if (t) n += tensor_elements(t);
  }
  return n;
}

uint64_t etpu_op_out_bytes(const etpu_model *m, uint32_t o) {
  const etpu_gop *op = &m->subgraphs[0].ops[o];
  uint64_t n = 0, b;
  for (uint32_t k = 0; k < op->noutputs; k++) {
    const etpu_gtensor *t = op_tensor(m, op, k, true);
    if (t && etpu_tensor_bytes(t->type, t->rank, t->shape, &b)) n += b;
  }
  return n;
}

static uint64_t tensor_bytes_of(const etpu_model *m, int32_t t) {
  const etpu_gsubgraph *g = &m->subgraphs[0];
  uint64_t b = 0;
  if (t < 0 || (uint32_t)t >= g->ntensors) return 0;
  const etpu_gtensor *x = &g->tensors[t];
  return etpu_tensor_bytes(x->type, x->rank, x->shape, &b) ? b : 0;
}

/* ---- the estimate -------------------------------------------------------- */

typedef struct lat_in {
  uint64_t macs, act_bytes, io_bytes, streamed, cpu_macs, cpu_elements, cycles;
  uint32_t tpu_ops, cpu_ops, segments;
  bool cycles_known, ops_known;
} lat_in;

static void latency_finish(const lat_in *in, etpu_target target, etpu_latency *out) {
  etpu_latency l = {0};
  l.target = target;
  l.cycles_from = "unknown";
  l.note = "";
  l.edgetpu_ops = in->tpu_ops;
  l.cpu_ops = in->cpu_ops;
  l.segments = in->segments;
  l.edgetpu_macs = in->macs;
  l.cpu_macs = in->cpu_macs;
  l.cpu_elements = in->cpu_elements;
  if (target == ETPU_TARGET_DEVBOARD_MICRO) {
    l.note = "no estimate for the Dev Board Micro: Coral publishes no latency for it, and etpu has no figure for its "
             "MCU or its Edge TPU link";
    *out = l;
    return;
  }
  if (in->segments == 0) {
    l.note = "nothing runs on the Edge TPU";
    *out = l;
    return;
  }
  double link = target == ETPU_TARGET_USB ? USB_BYTES_PER_S : PCIE_BYTES_PER_S;
  double host = target == ETPU_TARGET_DEVBOARD ? DEVBOARD_OPS_PER_S : DESKTOP_OPS_PER_S;
  double fixed = target == ETPU_TARGET_DEVBOARD ? DEVBOARD_FIXED_MS : USB_FIXED_MS;
  l.estimated = true;
  l.cycles_known = in->cycles_known;
  if (in->cycles_known) {
    /* Google's packages give their cycles (in->cycles); etpu's payloads and
     * uncompiled graphs are counted from their ops. */
    const uint64_t graph =
        in->macs ? (uint64_t)llround((double)in->macs / MACS_PER_CYCLE + CYCLES_PER_ACT_BYTE * (double)in->act_bytes) : 0;
    l.cycles = in->cycles + graph;
    l.cycles_from = !in->cycles ? "graph" : graph ? "package and graph" : "package";
  }
  l.link_bytes = in->io_bytes + (in->ops_known ? (uint64_t)in->tpu_ops * INSTR_BYTES_PER_OP : 0);
  l.streamed_bytes = in->streamed;
  l.fixed_ms = fixed * in->segments;
  l.transfer_ms = (double)l.link_bytes / link * 1e3;
  l.tpu_ms = (double)l.cycles / CLOCK_HZ * 1e3;
  l.streamed_ms = (double)l.streamed_bytes / link * 1e3;
  l.cpu_ms = (double)(in->cpu_macs + in->cpu_elements) / host * 1e3;
  l.total_ms = l.fixed_ms + l.transfer_ms + l.tpu_ms + l.streamed_ms + l.cpu_ms;
  if (!in->cycles_known)
    l.note = "a lower bound: Google's package carries no cycle estimate (only builds from the google-coral/edgetpu "
             "repository write one), so the Edge TPU's compute time is left out";
  else if (target == ETPU_TARGET_PCIE)
    l.note = "Coral publishes no M.2/PCIe figure: the USB Accelerator's fitted fixed cost with the PCIe link";
  *out = l;
}

etpu_status etpu_compilation_latency(const etpu_compilation *c, etpu_target target, etpu_latency *out) {
  if (!c || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_latency: NULL argument");
  if ((int)target < 0 || target > ETPU_TARGET_DEVBOARD_MICRO)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_latency: unknown target %d", (int)target);
  const etpu_model *m = c->model;
  const etpu_gsubgraph *g = &m->subgraphs[0];
  lat_in in = {0};
  in.cycles_known = in.ops_known = true;
  in.segments = c->nsegments;
  in.streamed = c->sum.off_chip_bytes;
  for (uint32_t o = 0; o < c->nops; o++) {
    if (c->ops[o].on_tpu) {
      in.tpu_ops++;
      in.macs += etpu_op_macs(m, o);
      in.act_bytes += etpu_op_out_bytes(m, o);
    } else {
      in.cpu_ops++;
      in.cpu_macs += etpu_op_macs(m, o);
      in.cpu_elements += etpu_op_out_elements(m, o);
    }
  }
  /* Bytes crossing the link: tensors the Edge TPU part reads from the host
   * (graph inputs, CPU ops' outputs) and writes back (to CPU ops or as graph
   * outputs), each once. reads[t]: bit 0 an Edge TPU op reads t, bit 1 a
   * CPU op does, bit 2 t is a graph output. */
  uint8_t *reads = etpu_calloc(g->ntensors + 1, 1);
  if (!reads) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  for (uint32_t o = 0; o < c->nops; o++)
    for (uint32_t k = 0; k < g->ops[o].ninputs; k++) {
      int32_t t = g->ops[o].inputs[k];
      if (t >= 0 && (uint32_t)t < g->ntensors) reads[t] |= c->ops[o].on_tpu ? 1 : 2;
    }
  for (uint32_t k = 0; k < g->noutputs; k++)
    if (g->outputs[k] >= 0 && (uint32_t)g->outputs[k] < g->ntensors) reads[g->outputs[k]] |= 4;
  for (uint32_t t = 0; t < g->ntensors; t++) {
    const etpu_gtensor *x = &g->tensors[t];
    size_t cs = 0;
    if (etpu_graph_tensor_data(m, x, &cs) && cs) continue; /* constant */
    bool tpu_made = x->producer >= 0 && (uint32_t)x->producer < c->nops && c->ops[x->producer].on_tpu;
    if (((reads[t] & 1) && !tpu_made) || (tpu_made && (reads[t] & 6))) in.io_bytes += tensor_bytes_of(m, (int32_t)t);
  }
  etpu_free(reads);
  latency_finish(&in, target, out);
  return ETPU_OK;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

etpu_status etpu_model_latency(const etpu_model *m, etpu_target target, etpu_latency *out) {
  if (!m || !out || m->nsubgraphs == 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_latency: NULL argument");
  if ((int)target < 0 || target > ETPU_TARGET_DEVBOARD_MICRO)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_model_latency: unknown target %d", (int)target);
  const etpu_gsubgraph *g = &m->subgraphs[0];
  lat_in in = {0};
  in.cycles_known = in.ops_known = true;
  for (uint32_t o = 0; o < g->nops; o++) {
    const etpu_gop *op = &g->ops[o];
    const char *cc = op->opcode < m->nopcodes ? m->opcodes[op->opcode].custom_code : NULL;
    if (!cc || strcmp(cc, ETPU_EDGETPU_CUSTOM_CODE) != 0) {
      in.cpu_ops++;
      in.cpu_macs += etpu_op_macs(m, o);
      in.cpu_elements += etpu_op_out_elements(m, o);
      continue;
    }
    in.segments++;
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t >= 0 && (uint32_t)t < g->ntensors && !g->tensors[t].is_variable) in.io_bytes += tensor_bytes_of(m, t);
    }
    for (uint32_t k = 0; k < op->noutputs; k++) in.io_bytes += tensor_bytes_of(m, op->outputs[k]);
    bool ours = op->custom && op->custom_size >= ETPU_PAYLOAD_HEADER_BYTES && !memcmp(op->custom, ETPU_PAYLOAD_MAGIC, 8);
    if (!ours) {
      /* Google's package (EDGETPU.md §20): the instructions and streamed
       * parameters sent per inference, and the compiler's own cycle estimate
       * when the build wrote one (estimated_cycles_64bit: only builds from
       * the google-coral/edgetpu repository; without it the Edge TPU time is
       * unknown and the total a lower bound). A package that does not read
       * leaves only the link and fixed cost (inspect reports why). */
      etpu_package *p = NULL;
      in.ops_known = false;
      if (etpu_model_package(m, 0, o, &p) != ETPU_OK) {
        in.cycles_known = false;
        continue;
      }
      const int64_t cyc = etpu_package_estimated_cycles(p);
      if (cyc > 0)
        in.cycles += (uint64_t)cyc;
      else
        in.cycles_known = false;
      for (uint32_t e = 0; e < p->executable_count; e++)
        if (p->executables[e].type != ETPU_PKG_PARAMETER_CACHING) in.io_bytes += p->executables[e].instruction_bytes;
      in.streamed += etpu_package_parameter_bytes(p, ETPU_PKG_EXECUTION_ONLY);
      etpu_package_free(p);
      continue;
    }
    uint32_t size = rd32(op->custom + 44);
    in.streamed += (uint64_t)rd32(op->custom + 32) | (uint64_t)rd32(op->custom + 36) << 32;
    if (size > op->custom_size - ETPU_PAYLOAD_HEADER_BYTES)
      return etpu_fail(ETPU_MALFORMED, "%s: op %u: etpu payload says its model has %u bytes, %u are there", m->label,
                       o, size, op->custom_size - ETPU_PAYLOAD_HEADER_BYTES);
    etpu_model *seg = NULL;
    etpu_status st = etpu_model_open_buffer(op->custom + ETPU_PAYLOAD_HEADER_BYTES, size, m->label, ETPU_OPEN_COPY, &seg);
    if (st != ETPU_OK) return st == ETPU_OUT_OF_MEMORY ? st : etpu_fail_prefix(ETPU_MALFORMED, "etpu payload");
    if (seg->nsubgraphs)
      for (uint32_t so = 0; so < seg->subgraphs[0].nops; so++) {
        in.tpu_ops++;
        in.macs += etpu_op_macs(seg, so);
        in.act_bytes += etpu_op_out_bytes(seg, so);
      }
    etpu_model_free(seg);
  }
  latency_finish(&in, target, out);
  return ETPU_OK;
}

/* ---- reports -------------------------------------------------------------- */

static void latency_text(const etpu_latency *l, etpu_strbuf *s) {
  etpu_strbuf_printf(s, "etpu: estimated latency on %s: ", etpu_target_name(l->target));
  if (!l->estimated) {
    etpu_strbuf_printf(s, "none (%s)\n", l->note);
    return;
  }
  etpu_strbuf_printf(s, "%s%.2f ms = %.2f fixed + %.2f link (%llu B) + ", l->cycles_known ? "" : "at least ",
                     l->total_ms, l->fixed_ms, l->transfer_ms, (unsigned long long)l->link_bytes);
  if (l->cycles_known)
    etpu_strbuf_printf(s, "%.2f Edge TPU (%llu cycles from the %s at 500 MHz)", l->tpu_ms,
                       (unsigned long long)l->cycles, l->cycles_from);
  else
    etpu_strbuf_printf(s, "? Edge TPU (cycles unknown)");
  etpu_strbuf_printf(s,
                     " + %.2f streamed parameters (%llu B) + %.2f CPU (%u op%s); a fitted model (README: Targets), "
                     "not a measurement",
                     l->streamed_ms, (unsigned long long)l->streamed_bytes, l->cpu_ms, l->cpu_ops,
                     l->cpu_ops == 1 ? "" : "s");
  if (l->note[0]) etpu_strbuf_printf(s, "; %s", l->note);
  etpu_strbuf_printf(s, "\n");
}

static void latency_json(const etpu_latency *l, etpu_strbuf *s) {
  etpu_strbuf_printf(s, "{\"target\": \"%s\", \"estimated\": %s, \"cycles_known\": %s, \"cycles_from\": \"%s\"",
                     etpu_target_name(l->target), l->estimated ? "true" : "false", l->cycles_known ? "true" : "false",
                     l->cycles_from);
  etpu_strbuf_printf(s,
                     ", \"total_ms\": %.4f, \"fixed_ms\": %.4f, \"transfer_ms\": %.4f, \"tpu_ms\": %.4f, "
                     "\"streamed_ms\": %.4f, \"cpu_ms\": %.4f",
                     l->total_ms, l->fixed_ms, l->transfer_ms, l->tpu_ms, l->streamed_ms, l->cpu_ms);
  etpu_strbuf_printf(s,
                     ", \"edgetpu_macs\": %llu, \"cycles\": %llu, \"link_bytes\": %llu, \"streamed_bytes\": %llu, "
                     "\"cpu_macs\": %llu, \"cpu_elements\": %llu, \"edgetpu_ops\": %u, \"cpu_ops\": %u, \"segments\": %u, "
                     "\"note\": ",
                     (unsigned long long)l->edgetpu_macs, (unsigned long long)l->cycles,
                     (unsigned long long)l->link_bytes, (unsigned long long)l->streamed_bytes,
                     (unsigned long long)l->cpu_macs, (unsigned long long)l->cpu_elements, l->edgetpu_ops, l->cpu_ops,
                     l->segments);
  etpu_escape_json(s, l->note);
  etpu_strbuf_printf(s, "}");
}

etpu_status etpu_report_render(const char *fn, const void *obj, etpu_report_kind kind, etpu_render_fn text,
                               etpu_render_fn json, char **text_out) {
  if (!obj || !text_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", fn);
  if (kind != ETPU_REPORT_CONSOLE && kind != ETPU_REPORT_JSON && kind != ETPU_REPORT_LOG)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: unknown report kind %d", fn, (int)kind);
  etpu_strbuf s = {0};
  (kind == ETPU_REPORT_JSON ? json : text)(obj, &s);
  if (s.oom || !s.p) {
    etpu_free(s.p);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", fn);
  }
  *text_out = s.p;
  return ETPU_OK;
}

static void latency_text_any(const void *l, etpu_strbuf *s) { latency_text(l, s); }
static void latency_json_any(const void *l, etpu_strbuf *s) { latency_json(l, s); }

etpu_status etpu_latency_report(const etpu_latency *l, etpu_report_kind kind, char **text_out) {
  return etpu_report_render("etpu_latency_report", l, kind, latency_text_any, latency_json_any, text_out);
}

etpu_status etpu_compilation_set_target(etpu_compilation *c, etpu_target target) {
  if (!c) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_set_target: NULL compilation");
  if ((int)target < 0 || target > ETPU_TARGET_DEVBOARD_MICRO)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_set_target: unknown target %d", (int)target);
  etpu_micro_free(c->micro);
  etpu_model_free(c->micro_model);
  etpu_free(c->micro_bytes);
  c->micro = NULL;
  c->micro_model = NULL;
  c->micro_bytes = NULL;
  c->target = target;
  if (target != ETPU_TARGET_DEVBOARD_MICRO) return ETPU_OK;
  /* The board runs output model 0 as written: its CPU ops beside the
   * edgetpu-custom-op, its bytes in flash. */
  size_t size = 0;
  etpu_status st = etpu_emit_model(c, 0, &c->micro_bytes, &size);
  if (st == ETPU_OK) st = etpu_model_open_buffer(c->micro_bytes, size, c->model->label, 0, &c->micro_model);
  if (st == ETPU_OK) st = etpu_micro_check(c->micro_model, size, &c->micro);
  return st;
}

void etpu_target_report_text(const etpu_compilation *c, etpu_strbuf *s) {
  etpu_latency l;
  etpu_strbuf_printf(s, "etpu: target %s: %s\n", etpu_target_name(c->target), etpu_target_description(c->target));
  if (etpu_compilation_latency(c, c->target, &l) == ETPU_OK) latency_text(&l, s);
  if (c->micro) etpu_micro_append(c->micro, ETPU_REPORT_CONSOLE, s);
}

void etpu_target_report_json(const etpu_compilation *c, etpu_strbuf *s) {
  etpu_latency l;
  etpu_strbuf_printf(s, "  \"target\": \"%s\", \"target_description\": ", etpu_target_name(c->target));
  etpu_escape_json(s, etpu_target_description(c->target));
  etpu_strbuf_printf(s, ",\n");
  if (etpu_compilation_latency(c, c->target, &l) == ETPU_OK) {
    etpu_strbuf_printf(s, "  \"latency\": ");
    latency_json(&l, s);
    etpu_strbuf_printf(s, ",\n");
  }
  if (!c->micro) return;
  etpu_strbuf_printf(s, "  \"devboard_micro\": ");
  etpu_micro_append(c->micro, ETPU_REPORT_JSON, s);
  etpu_strbuf_printf(s, ",\n");
}
