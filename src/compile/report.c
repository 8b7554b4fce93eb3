/*
 * report.c — what etpu compile prints: the real compiler's console text and
 * .log file (same lines, same column layout, same status strings, so that
 * scripts parsing edgetpu_compiler output keep working), followed on the
 * console by what the real compiler never says: for every op not mapped,
 * the rule broken with its values, the op that started the cut, and a fix.
 * JSON carries all of it for scripts.
 *
 * Layout facts (EDGETPU.md §7-§8): sizes in binary units with two decimals
 * ("0.00B", "41.75KiB"); operator table rows printf("%-31s%-11s%s"), one row
 * per distinct (operator, status) in order of first occurrence.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "compile/compile.h"

/* Every string that comes from the model or the command line (names,
 * custom codes, paths, reasons quoting them) goes through the escaper
 * (base/text.h): sb_t() for text, sb_json_str() for JSON. */
typedef etpu_strbuf strbuf;
#define sb etpu_strbuf_printf

static void sb_t(strbuf *s, const char *str) { etpu_escape_text(s, str); }

static void sb_json_str(strbuf *s, const char *str) { etpu_escape_json(s, str); }

void etpu_report_size(uint64_t b, char *out, size_t cap) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)b;
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    u++;
  }
  snprintf(out, cap, "%.2f%s", v, units[u]);
}

/* Operator table name: the builtin enum name (CUSTOM for custom ops). */
static const char *table_name(const etpu_compilation *c, uint32_t o) {
  const etpu_gop *op = &c->model->subgraphs[0].ops[o];
  int32_t code = etpu_graph_op_code(c->model, op);
  return code == ETPU_OP_CUSTOM ? "CUSTOM" : etpu_op_code_name(code);
}

static void op_table(const etpu_compilation *c, strbuf *s, int32_t model_filter) {
  /* The real compiler leaves an empty line under the header (§8). */
  sb(s, "%-31s%-11s%s\n\n", "Operator", "Count", "Status");
  if (s->oom) return;
  /* rows: distinct (name, status) in order of first occurrence */
  uint32_t *first = etpu_calloc(c->nops + 1, sizeof *first);
  uint32_t *count = etpu_calloc(c->nops + 1, sizeof *count);
  uint32_t nrows = 0;
  if (!first || !count) {
    s->oom = true;
    etpu_free(first);
    etpu_free(count);
    return;
  }
  for (uint32_t o = 0; o < c->nops; o++) {
    if (model_filter >= 0 && c->ops[o].model != model_filter) continue;
    uint32_t r = 0;
    for (; r < nrows; r++)
      if (c->ops[first[r]].status == c->ops[o].status && !strcmp(table_name(c, first[r]), table_name(c, o))) break;
    if (r == nrows) first[nrows++] = o;
    count[r]++;
  }
  for (uint32_t r = 0; r < nrows; r++) {
    char cnt[16];
    snprintf(cnt, sizeof cnt, "%u", count[r]);
    sb(s, "%-31s%-11s%s\n", table_name(c, first[r]), cnt, etpu_map_status_text(c->ops[first[r]].status));
  }
  etpu_free(first);
  etpu_free(count);
}

static const char *out_name(const etpu_compilation *c, uint32_t o) {
  const etpu_gsubgraph *g = &c->model->subgraphs[0];
  const etpu_gop *op = &g->ops[o];
  return op->noutputs ? g->tensors[op->outputs[0]].name : "";
}

/* Tensors where an -i list would stop the Edge TPU part: inputs of the ops
 * that start the cut, made by Edge TPU ops. */
static void suggest_i(const etpu_compilation *c, strbuf *s, bool json) {
  const etpu_gsubgraph *g = &c->model->subgraphs[0];
  bool any = false;
  for (uint32_t o = 0; o < c->nops; o++) {
    const etpu_op_plan *p = &c->ops[o];
    if (p->on_tpu || p->before_cut || p->status == ETPU_NOT_MAPPED_AFTER_CUT) continue;
    const etpu_gop *op = &g->ops[o];
    for (uint32_t k = 0; k < op->ninputs; k++) {
      int32_t t = op->inputs[k];
      if (t < 0 || g->tensors[t].producer < 0 || !c->ops[g->tensors[t].producer].on_tpu) continue;
      if (json) {
        if (any) sb(s, ", ");
        sb_json_str(s, g->tensors[t].name);
      } else {
        sb(s, "%s", any ? "," : "");
        sb_t(s, g->tensors[t].name);
      }
      any = true;
    }
  }
}

static void console(const etpu_compilation *c, const etpu_report_options *o, strbuf *s) {
  char a[32], b[32], x[32], y[32], z[32];
  const etpu_compile_summary *m = &c->sum;
  sb(s, "Edge TPU Compiler version %s (etpu %s: an open re-implementation, not Google's compiler)\n",
     ETPU_EDGETPU_COMPILER_VERSION, etpu_version());
  sb(s, "\nModel compiled successfully in %.0f ms.\n\n", o->elapsed_ms);
  etpu_report_size(o->input_bytes, a, sizeof a);
  etpu_report_size(o->output_bytes, b, sizeof b);
  etpu_report_size(m->on_chip_bytes, x, sizeof x);
  etpu_report_size(m->on_chip_remaining_bytes, y, sizeof y);
  etpu_report_size(m->off_chip_bytes, z, sizeof z);
  sb(s, "Input model: ");
  sb_t(s, o->input_path);
  sb(s, "\nInput size: %s\nOutput model: ", a);
  sb_t(s, o->output_path);
  sb(s, "\nOutput size: %s\n", b);
  sb(s, "On-chip memory used for caching model parameters: %s\n", x);
  sb(s, "On-chip memory remaining for caching model parameters: %s\n", y);
  sb(s, "Off-chip memory used for streaming uncached model parameters: %s\n", z);
  sb(s, "Number of Edge TPU subgraphs: %u\n", m->edgetpu_subgraphs);
  sb(s, "Total number of operations: %u\n", m->total_ops);
  sb(s, "Operation log: ");
  sb_t(s, o->log_path);
  sb(s, "\n\n");
  if (m->cpu_ops)
    sb(s, "Model successfully compiled but not all operations are supported by the Edge TPU. A percentage of the model "
          "will instead run on the CPU, which is slower. If possible, consider updating your model to use only "
          "operations supported by the Edge TPU. For details, visit g.co/coral/model-reqs.\n");
  sb(s, "Number of operations that will run on Edge TPU: %u\n", m->edgetpu_ops);
  sb(s, "Number of operations that will run on CPU: %u\n\n", m->cpu_ops);
  if (o->show_operations)
    op_table(c, s, -1);
  else
    sb(s, "See the operation log file for individual operation details.\n");
  sb(s, "Compilation succeeded!\n");
  /* What the real compiler never says. */
  sb(s, "\netpu: the edgetpu-custom-op in ");
  sb_t(s, o->output_path);
  sb(s, " holds etpu's simulation payload (the mapped ops as a .tflite): it runs in `etpu run`, not on a physical "
        "Edge TPU (Google's instruction format is closed).\n");
  sb(s, "etpu: compiled for Edge TPU runtime %d (-m); the mapped ops need runtime %d or newer.\n",
     m->min_runtime_version, m->required_runtime_version);
  sb(s, "etpu: parameter data %llu bytes; memory figures are etpu's estimate (segments cached in order while they "
        "fit in 8 MiB, the rest streamed).\n",
     (unsigned long long)m->parameter_bytes);
  etpu_target_report_text(c, s); /* target, latency, Dev Board Micro (target.c) */
  if (!m->cpu_ops) {
    sb(s, "etpu: every operation is mapped to the Edge TPU.\n");
    return;
  }
  sb(s, "etpu: operations not mapped, and why:\n");
  for (uint32_t i = 0; i < c->nops; i++) {
    const etpu_op_plan *p = &c->ops[i];
    if (p->on_tpu) continue;
    etpu_op_mapping mp;
    if (etpu_compilation_op(c, i, &mp) != ETPU_OK) continue;
    sb(s, "  op %u ", i);
    sb_t(s, mp.op_name);
    sb(s, " (output '");
    sb_t(s, out_name(c, i));
    sb(s, "'): %s%s\n", etpu_map_status_text(p->status),
       p->before_cut ? " [runs on the CPU before the Edge TPU op]" : "");
    if (p->status == ETPU_NOT_MAPPED_AFTER_CUT) {
      if (p->blocked_by >= 0) {
        sb(s, "      why: it depends on op %d ", p->blocked_by);
        sb_t(s, etpu_graph_op_name(c->model, &c->model->subgraphs[0].ops[p->blocked_by]));
        sb(s, ", which runs on the CPU; everything after that op stays on the CPU\n");
      } else if (c->learned_cut >= 0) {
        sb(s, "      why: it belongs to the on-device learning layer that reads '");
        sb_t(s, c->model->subgraphs[0].tensors[c->learned_cut].name);
        sb(s, "'; as libcoral's retrained models, that layer stays on the CPU where it can be trained again (-i "
              "chooses another cut)\n");
      } else {
        sb(s, "      why: it depends on a tensor named by -i (the Edge TPU part stops there)\n");
      }
      continue;
    }
    sb(s, "      why: ");
    sb_t(s, p->rule.reason);
    sb(s, "\n");
    if (p->blocked_by >= 0) {
      sb(s, "      (it is also behind the cut started by op %d ", p->blocked_by);
      sb_t(s, etpu_graph_op_name(c->model, &c->model->subgraphs[0].ops[p->blocked_by]));
      sb(s, ")\n");
    }
    if (p->rule.fix[0]) {
      sb(s, "      fix: ");
      sb_t(s, p->rule.fix);
      sb(s, "\n");
    }
  }
  size_t before = s->len;
  sb(s, "etpu: the same cut with -i: -i '");
  size_t mark = s->len;
  suggest_i(c, s, false);
  if (s->len == mark)
    s->len = before; /* nothing to suggest */
  else
    sb(s, "'\n");
  if (s->p) s->p[s->len] = 0;
}

static void logfile(const etpu_compilation *c, const etpu_report_options *o, strbuf *s) {
  sb(s, "Edge TPU Compiler version %s (etpu %s: an open re-implementation, not Google's compiler)\n",
     ETPU_EDGETPU_COMPILER_VERSION, etpu_version());
  sb(s, "Input: ");
  sb_t(s, o->input_path);
  sb(s, "\nOutput: ");
  sb_t(s, o->output_path);
  sb(s, "\n\n");
  op_table(c, s, o->model_filter);
  sb(s, "\n");
  etpu_target_report_text(c, s); /* after the real layout, so log parsers keep working */
}

static void json(const etpu_compilation *c, const etpu_report_options *o, strbuf *s) {
  const etpu_compile_summary *m = &c->sum;
  sb(s, "{\n  \"input\": ");
  sb_json_str(s, o->input_path);
  sb(s, ",\n  \"output\": ");
  sb_json_str(s, o->output_path);
  sb(s, ",\n  \"log\": ");
  sb_json_str(s, o->log_path);
  sb(s, ",\n  \"compiler_format\": \"%s\", \"etpu_version\": \"%s\",\n", ETPU_EDGETPU_COMPILER_VERSION, etpu_version());
  sb(s, "  \"min_runtime_version\": %d, \"required_runtime_version\": %d,\n", m->min_runtime_version,
     m->required_runtime_version);
  sb(s, "  \"total_ops\": %u, \"edgetpu_ops\": %u, \"cpu_ops\": %u, \"edgetpu_subgraphs\": %u, \"output_models\": %u,\n",
     m->total_ops, m->edgetpu_ops, m->cpu_ops, m->edgetpu_subgraphs, m->output_models);
  sb(s, "  \"memory\": {\"parameter_bytes\": %llu, \"on_chip_bytes\": %llu, \"on_chip_remaining_bytes\": %llu, "
        "\"off_chip_bytes\": %llu, \"estimate\": true},\n",
     (unsigned long long)m->parameter_bytes, (unsigned long long)m->on_chip_bytes,
     (unsigned long long)m->on_chip_remaining_bytes, (unsigned long long)m->off_chip_bytes);
  etpu_target_report_json(c, s); /* "target", "latency", "devboard_micro" (target.c) */
  sb(s, "  \"suggested_intermediate_tensors\": [");
  suggest_i(c, s, true);
  sb(s, "],\n  \"ops\": [\n");
  for (uint32_t i = 0; i < c->nops; i++) {
    etpu_op_mapping mp;
    if (etpu_compilation_op(c, i, &mp) != ETPU_OK) continue;
    sb(s, "    {\"index\": %u, \"type\": ", i);
    sb_json_str(s, table_name(c, i));
    sb(s, ", \"name\": ");
    sb_json_str(s, mp.op_name);
    sb(s, ", \"output\": ");
    sb_json_str(s, out_name(c, i));
    sb(s, ", \"mapped\": %s, \"status\": ", mp.on_edgetpu ? "true" : "false");
    sb_json_str(s, etpu_map_status_text(mp.status));
    sb(s, ", \"placement\": \"%s\", \"segment\": %d",
       mp.on_edgetpu ? "edgetpu" : (mp.before_cut ? "cpu_before" : "cpu_after"), mp.segment);
    if (!mp.on_edgetpu) {
      sb(s, ", \"reason\": ");
      sb_json_str(s, mp.reason);
      sb(s, ", \"fix\": ");
      sb_json_str(s, mp.fix);
      sb(s, ", \"blocked_by\": %d", mp.blocked_by);
    }
    sb(s, "}%s\n", i + 1 < c->nops ? "," : "");
  }
  sb(s, "  ]\n}\n");
}

etpu_status etpu_compilation_report(const etpu_compilation *c, etpu_report_kind kind, const etpu_report_options *o,
                                    char **text_out) {
  if (!c || !o || !text_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_report: NULL argument");
  strbuf s = {0};
  if (kind == ETPU_REPORT_CONSOLE)
    console(c, o, &s);
  else if (kind == ETPU_REPORT_LOG)
    logfile(c, o, &s);
  else if (kind == ETPU_REPORT_JSON)
    json(c, o, &s);
  else
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_report: unknown report kind %d", kind);
  if (s.oom || !s.p) {
    etpu_free(s.p);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory writing the compile report");
  }
  *text_out = s.p;
  return ETPU_OK;
}
