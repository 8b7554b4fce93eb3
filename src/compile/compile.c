/*
 * compile.c — the public compile API: check the model, partition it,
 * estimate parameter memory, and hand out decisions and output models.
 */
#include <stdbool.h>
#include <string.h>

#include "compile/compile.h"

/* Refuse a model that already holds an edgetpu-custom-op: compiling it again
 * would only wrap the custom op (which maps to nothing) in a new file that
 * claims to hold etpu's payload. Says whose op it is: etpu's (the payload
 * magic of compile.h) or, otherwise, Google's compiler's. */
static etpu_status already_compiled(const etpu_model *m) {
  for (uint32_t s = 0; s < m->nsubgraphs; s++) {
    const etpu_gsubgraph *g = &m->subgraphs[s];
    for (uint32_t i = 0; i < g->nops; i++) {
      const etpu_gop *op = &g->ops[i];
      const char *cc = op->opcode < m->nopcodes ? m->opcodes[op->opcode].custom_code : NULL;
      if (!cc || strcmp(cc, ETPU_EDGETPU_CUSTOM_CODE) != 0) continue;
      bool ours = op->custom && op->custom_size >= ETPU_PAYLOAD_HEADER_BYTES &&
                  memcmp(op->custom, ETPU_PAYLOAD_MAGIC, 8) == 0;
      return etpu_fail(ETPU_UNSUPPORTED,
                       "%s: already compiled by %s (subgraph %u op %u is an %s): compile the model it was made "
                       "from instead",
                       m->label, ours ? "etpu" : "Google's Edge TPU compiler", s, i, ETPU_EDGETPU_CUSTOM_CODE);
    }
  }
  return ETPU_OK;
}

etpu_status etpu_compile(const etpu_model *m, const etpu_compile_options *o, etpu_compilation **out) {
  if (!m || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compile: NULL argument");
  etpu_compile_options opt = {0};
  if (o) opt = *o;
  int32_t rt = opt.min_runtime_version ? opt.min_runtime_version : 14;
  if (rt < 10 || rt > 14)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: -m %d: the Edge TPU runtime versions are 10 to 14", m->label, rt);
  if (opt.intermediate_count && !opt.intermediate_tensors)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: -i: NULL tensor list", m->label);
  if (m->nsubgraphs == 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: model has no subgraph", m->label);
  etpu_status st = already_compiled(m);
  if (st != ETPU_OK) return st;
  st = etpu_rules_model_check(m);
  if (st != ETPU_OK) return st;
  etpu_compilation *c = etpu_calloc(1, sizeof *c);
  if (!c) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  etpu_arena_init(&c->arena);
  c->model = m;
  c->opt = opt;
  c->rt = rt;
  c->nops = m->subgraphs[0].nops;
  c->ops = etpu_arena_array(&c->arena, c->nops + 1, sizeof *c->ops);
  if (!c->ops) {
    etpu_compilation_free(c);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", m->label);
  }
  st = etpu_partition(c);
  if (st != ETPU_OK) {
    etpu_compilation_free(c);
    return st;
  }
  uint64_t cache = ETPU_ONCHIP_CACHE_BYTES;
  etpu_estimate_memory(c, &cache);
  c->sum.total_ops = c->nops;
  for (uint32_t i = 0; i < c->nops; i++) {
    if (c->ops[i].on_tpu)
      c->sum.edgetpu_ops++;
    else
      c->sum.cpu_ops++;
  }
  c->sum.edgetpu_subgraphs = c->nsegments;
  c->sum.output_models = c->nmodels;
  c->sum.min_runtime_version = rt;
  *out = c;
  return ETPU_OK;
}

void etpu_compilation_free(etpu_compilation *c) {
  if (!c) return;
  etpu_micro_free(c->micro);
  etpu_model_free(c->micro_model);
  etpu_free(c->micro_bytes);
  etpu_arena_free(&c->arena);
  etpu_free(c);
}

uint32_t etpu_compilation_op_count(const etpu_compilation *c) { return c ? c->nops : 0; }

etpu_status etpu_compilation_op(const etpu_compilation *c, uint32_t i, etpu_op_mapping *out) {
  if (!c || !out || i >= c->nops)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "compilation op %u does not exist", i);
  const etpu_op_plan *p = &c->ops[i];
  etpu_op_mapping mp = {0};
  mp.op = i;
  mp.op_name = etpu_graph_op_name(c->model, &c->model->subgraphs[0].ops[i]);
  mp.status = p->status;
  mp.on_edgetpu = p->on_tpu;
  mp.before_cut = p->before_cut;
  mp.segment = p->on_tpu ? p->segment : -1;
  mp.blocked_by = p->blocked_by;
  if (p->status == ETPU_NOT_MAPPED_AFTER_CUT && p->blocked_by < 0 && c->learned_cut >= 0) {
    mp.reason = "it belongs to the on-device learning layer at the end of the graph; as in libcoral's retrained "
                "models, that layer stays on the CPU where it can be trained again";
    mp.fix = "compile with -i to choose another cut";
  } else if (p->status == ETPU_NOT_MAPPED_AFTER_CUT && p->blocked_by < 0) {
    mp.reason = "it depends on a tensor named by -i (the Edge TPU part stops there)";
    mp.fix = "name a later tensor with -i";
  } else if (p->status == ETPU_NOT_MAPPED_AFTER_CUT) {
    mp.reason = "supported, but it reads the output of an op that runs on the CPU behind the cut; the real compiler "
                "makes one Edge TPU subgraph only";
    mp.fix = "fix the CPU op that starts the cut, or compile with -a (several Edge TPU subgraphs)";
  } else {
    mp.reason = p->rule.reason;
    mp.fix = p->rule.fix;
  }
  *out = mp;
  return ETPU_OK;
}

void etpu_compilation_summary(const etpu_compilation *c, etpu_compile_summary *out) {
  if (c && out) *out = c->sum;
}

etpu_status etpu_compilation_write(const etpu_compilation *c, uint32_t k, void **data_out, size_t *size_out) {
  if (!c || !data_out || !size_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_compilation_write: NULL argument");
  return etpu_emit_model(c, k, data_out, size_out);
}

void etpu_compilation_cocompile(etpu_compilation *const *list, uint32_t count) {
  uint64_t cache = ETPU_ONCHIP_CACHE_BYTES;
  for (uint32_t i = 0; i < count; i++)
    if (list[i]) etpu_estimate_memory(list[i], &cache);
}
