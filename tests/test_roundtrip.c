/*
 * test_roundtrip.c — read -> write -> read gives the same graph, for every
 * shared model: operator codes, buffers, tensors (name, type, shape,
 * signature, buffer, quantization and every other field), operators
 * (code, inputs, outputs, builtin options, custom options) and every model,
 * subgraph and table field etpu keeps generically. Also: writing is
 * deterministic (the second write gives identical bytes), Debian's flatc
 * parses what we write (when installed), buffers stored outside the
 * flatbuffer (schema 3c) read back equal, and compaction keeps the graph.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/graph.h"
#include "testutil.h"

static bool same_i32(const int32_t *a, uint32_t na, const int32_t *b, uint32_t nb) {
  return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static bool same_bytes(const void *a, size_t na, const void *b, size_t nb) {
  return na == nb && (na == 0 || memcmp(a, b, na) == 0);
}

/* Compare two graphs field by field; `remap` true when buffers were compacted. */
static void compare(const char *path, const etpu_model *a, const etpu_model *b, bool compacted) {
  CHECK_MSG(a->version == b->version, "%s: version", path);
  CHECK_MSG((a->description == NULL) == (b->description == NULL) &&
                (!a->description || !strcmp(a->description, b->description)),
            "%s: description", path);
  CHECK_MSG(a->nopcodes == b->nopcodes, "%s: opcode count %u vs %u", path, a->nopcodes, b->nopcodes);
  for (uint32_t i = 0; i < a->nopcodes && i < b->nopcodes; i++) {
    const etpu_gopcode *x = &a->opcodes[i], *y = &b->opcodes[i];
    CHECK_MSG(x->code == y->code && x->version == y->version, "%s: opcode %u", path, i);
    CHECK_MSG((!x->custom_code && !y->custom_code) ||
                  (x->custom_code && y->custom_code && !strcmp(x->custom_code, y->custom_code)),
              "%s: opcode %u custom code", path, i);
    CHECK_MSG(etpu_fbt_equal(x->rest, y->rest), "%s: opcode %u other fields", path, i);
  }
  if (!compacted) {
    CHECK_MSG(a->nbuffers == b->nbuffers, "%s: buffer count %u vs %u", path, a->nbuffers, b->nbuffers);
    for (uint32_t i = 0; i < a->nbuffers && i < b->nbuffers; i++)
      CHECK_MSG(same_bytes(a->buffers[i].data, a->buffers[i].size, b->buffers[i].data, b->buffers[i].size),
                "%s: buffer %u bytes", path, i);
    CHECK_MSG(etpu_fbt_equal(a->rest, b->rest), "%s: model-level fields (metadata, signatures, ...)", path);
  }
  CHECK_MSG(a->nsubgraphs == b->nsubgraphs, "%s: subgraph count", path);
  for (uint32_t s = 0; s < a->nsubgraphs && s < b->nsubgraphs; s++) {
    const etpu_gsubgraph *g = &a->subgraphs[s], *h = &b->subgraphs[s];
    CHECK_MSG(!strcmp(g->name, h->name), "%s: subgraph %u name", path, s);
    CHECK_MSG(same_i32(g->inputs, g->ninputs, h->inputs, h->ninputs), "%s: subgraph %u inputs", path, s);
    CHECK_MSG(same_i32(g->outputs, g->noutputs, h->outputs, h->noutputs), "%s: subgraph %u outputs", path, s);
    CHECK_MSG(etpu_fbt_equal(g->rest, h->rest), "%s: subgraph %u other fields", path, s);
    CHECK_MSG(g->ntensors == h->ntensors, "%s: subgraph %u tensor count", path, s);
    for (uint32_t i = 0; i < g->ntensors && i < h->ntensors; i++) {
      const etpu_gtensor *x = &g->tensors[i], *y = &h->tensors[i];
      CHECK_MSG(!strcmp(x->name, y->name) && x->type == y->type && same_i32(x->shape, x->rank, y->shape, y->rank),
                "%s: tensor %u name/type/shape", path, i);
      CHECK_MSG(x->has_signature == y->has_signature &&
                    same_i32(x->shape_signature, x->sig_rank, y->shape_signature, y->sig_rank),
                "%s: tensor %u shape_signature", path, i);
      CHECK_MSG(x->is_variable == y->is_variable, "%s: tensor %u is_variable", path, i);
      if (!compacted) CHECK_MSG(x->buffer == y->buffer, "%s: tensor %u buffer index", path, i);
      size_t na, nb;
      const uint8_t *da = etpu_graph_tensor_data(a, x, &na), *db = etpu_graph_tensor_data(b, y, &nb);
      CHECK_MSG(same_bytes(da, na, db, nb), "%s: tensor %u constant data", path, i);
      CHECK_MSG((x->quant == NULL) == (y->quant == NULL), "%s: tensor %u quantization presence", path, i);
      if (x->quant && y->quant) {
        const etpu_gquant *p = x->quant, *q = y->quant;
        CHECK_MSG(same_bytes(p->scale, p->count * sizeof(float), q->scale, q->count * sizeof(float)) &&
                      same_bytes(p->zero_point, p->zp_count * 8, q->zero_point, q->zp_count * 8) &&
                      p->quantized_dimension == q->quantized_dimension && etpu_fbt_equal(p->rest, q->rest),
                  "%s: tensor %u quantization", path, i);
      }
      CHECK_MSG(etpu_fbt_equal(x->rest, y->rest), "%s: tensor %u other fields", path, i);
    }
    CHECK_MSG(g->nops == h->nops, "%s: subgraph %u op count", path, s);
    for (uint32_t i = 0; i < g->nops && i < h->nops; i++) {
      const etpu_gop *x = &g->ops[i], *y = &h->ops[i];
      CHECK_MSG(x->opcode == y->opcode, "%s: op %u opcode", path, i);
      CHECK_MSG(same_i32(x->inputs, x->ninputs, y->inputs, y->ninputs) &&
                    same_i32(x->outputs, x->noutputs, y->outputs, y->noutputs) &&
                    same_i32(x->intermediates, x->nintermediates, y->intermediates, y->nintermediates),
                "%s: op %u tensors", path, i);
      CHECK_MSG(x->options_type == y->options_type && etpu_fbt_equal(x->options, y->options), "%s: op %u options",
                path, i);
      CHECK_MSG(same_bytes(x->custom, x->custom_size, y->custom, y->custom_size), "%s: op %u custom options", path, i);
      CHECK_MSG(etpu_fbt_equal(x->rest, y->rest), "%s: op %u other fields", path, i);
    }
  }
}

static bool have_flatc(const char **flatc) {
  const char *env = getenv("ETPU_FLATC");
  *flatc = env && env[0] ? env : "/usr/bin/flatc";
  return access(*flatc, X_OK) == 0;
}

static void roundtrip(const char *path, const char *shared, const char *tmpdir, bool flatc_ok, const char *flatc) {
  etpu_model *a = NULL, *b = NULL, *c = NULL;
  etpu_status st = etpu_model_open(path, &a);
  CHECK_MSG(st == ETPU_OK, "%s: open: %s", path, etpu_errmsg());
  if (st != ETPU_OK) return;
  void *w1 = NULL, *w2 = NULL;
  size_t n1 = 0, n2 = 0;
  CHECK_OK(etpu_model_write_buffer(a, 0, &w1, &n1));
  if (w1) {
    st = etpu_model_open_buffer(w1, n1, "rewritten", 0, &b);
    CHECK_MSG(st == ETPU_OK, "%s: reopen after write: %s", path, etpu_errmsg());
  }
  if (b) {
    compare(path, a, b, false);
    CHECK_OK(etpu_model_write_buffer(b, 0, &w2, &n2));
    CHECK_MSG(same_bytes(w1, n1, w2, n2), "%s: second write differs from the first (%zu vs %zu bytes)", path, n1, n2);
  }
  /* Compaction keeps the graph. */
  void *w3 = NULL;
  size_t n3 = 0;
  CHECK_OK(etpu_model_write_buffer(a, ETPU_WRITE_COMPACT, &w3, &n3));
  if (w3 && etpu_model_open_buffer(w3, n3, "compacted", 0, &c) == ETPU_OK) {
    compare(path, a, c, true);
    etpu_model_free(c);
  } else {
    CHECK_MSG(0, "%s: compacted write does not reopen: %s", path, etpu_errmsg());
  }
  /* Debian's flatc parses the file we wrote. */
  if (flatc_ok && w1) {
    char out[4096], cmd[8192];
    snprintf(out, sizeof out, "%s/rt.tflite", tmpdir);
    FILE *f = fopen(out, "wb");
    if (f) {
      fwrite(w1, 1, n1, f);
      fclose(f);
      snprintf(cmd, sizeof cmd,
               "'%s' -t --strict-json --defaults-json -o '%s' '%s/schema/schema_for_debian_flatc.fbs' -- '%s' "
               ">/dev/null 2>&1",
               flatc, tmpdir, shared, out);
      int rc = system(cmd);
      CHECK_MSG(rc == 0, "%s: flatc could not parse the rewritten model (rc %d)", path, rc);
    }
  }
  etpu_free(w1);
  etpu_free(w2);
  etpu_free(w3);
  etpu_model_free(b);
  etpu_model_free(a);
}

/* Buffers stored after the flatbuffer (schema 3c) read back equal. */
static void external_buffers(const char *path) {
  etpu_model *a = NULL, *b = NULL;
  if (etpu_model_open(path, &a) != ETPU_OK) {
    CHECK_MSG(0, "%s: %s", path, etpu_errmsg());
    return;
  }
  etpu_model_set_external_threshold(1);
  void *w = NULL;
  size_t n = 0;
  CHECK_OK(etpu_model_write_buffer(a, 0, &w, &n));
  etpu_model_set_external_threshold(0);
  if (w) {
    CHECK_OK(etpu_model_open_buffer(w, n, "external", 0, &b));
    bool saw_external = false;
    for (uint32_t i = 0; b && i < b->nbuffers; i++) saw_external |= b->buffers[i].external;
    CHECK_MSG(saw_external, "%s: no buffer was written outside the flatbuffer", path);
    if (b) compare(path, a, b, false);
  }
  etpu_free(w);
  etpu_model_free(b);
  etpu_model_free(a);
}

int main(void) {
  const char *shared = tu_shared_dir();
  if (!shared) return tu_skip_code();
  char **paths;
  size_t n = tu_list_models(shared, &paths);
  CHECK_MSG(n >= 100, "expected the ~124 shared models, found %zu", n);
  const char *flatc;
  bool flatc_ok = have_flatc(&flatc);
  if (!flatc_ok) printf("note: flatc not found at %s; skipping the flatc parse check\n", flatc);
  char tmpl[] = "/tmp/etpu_rt_XXXXXX";
  const char *tmpdir = mkdtemp(tmpl);
  CHECK(tmpdir != NULL);
  for (size_t i = 0; i < n && tmpdir; i++) roundtrip(paths[i], shared, tmpdir, flatc_ok, flatc);
  printf("round-tripped %zu models%s\n", n, flatc_ok ? " (each parsed by flatc)" : "");
  for (size_t i = 0; i < n; i++)
    if (strstr(paths[i], "keras_lstm_mnist_ptq.tflite") || strstr(paths[i], "mobilenet_v1_0.25_128_quant.tflite"))
      external_buffers(paths[i]);
  if (tmpdir) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  }
  tu_free_list(paths, n);
  return tu_finish("roundtrip");
}
