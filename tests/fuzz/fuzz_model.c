/*
 * fuzz_model.c — libFuzzer target for etpu's model reader and writer.
 *
 * Opens the input with etpu_model_open_buffer(ETPU_OPEN_COPY) (an exact-size
 * heap copy, so ASan sees any read past the end). A failure must come with a
 * message and leave *model_out untouched. A model that opens must answer
 * every query (robust_exercise.h), give its HTML page (etpu_visualize_html),
 * pass etpu_model_validate, write, and its
 * written bytes must reopen and write again to the same bytes. Then two edits
 * (remove the first op of subgraph 0, remove one unused tensor) must keep the
 * model valid, writable and reopenable. Anything else aborts, which libFuzzer
 * reports as a crash.
 *
 * Build and run: see tests/robust.cmake and tests/fuzz/run_fuzz.sh.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etpu/etpu.h"
#include "robust_exercise.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, etpu_status st) {
  fprintf(stderr, "fuzz_model: %s (%s): %s\n", what, etpu_status_name(st), etpu_errmsg());
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  etpu_model *const sentinel = (etpu_model *)(uintptr_t)0x1234;
  etpu_model *m = sentinel;
  etpu_status st = etpu_model_open_buffer(data, size, "fuzz", ETPU_OPEN_COPY, &m);
  if (st != ETPU_OK) {
    const char *msg = etpu_errmsg();
    if (st != ETPU_MALFORMED && st != ETPU_UNSUPPORTED) fail("open returned an unexpected status", st);
    if (!msg[0] || !strstr(msg, "fuzz")) fail("open failed without a labelled message", st);
    if (m != sentinel) fail("open changed model_out on failure", st);
    return 0;
  }
  if (robust_exercise(m) != 0) fail("a query on an opened model misbehaved", ETPU_OK);
  /* Its HTML page (compile, payloads, appended ZIP, layout): made, or refused
   * with a status a model can cause. */
  char *html = NULL;
  st = etpu_visualize_html(m, NULL, &html, NULL);
  if (st == ETPU_OK && (!html || strncmp(html, "<!DOCTYPE html>", 15) != 0)) fail("visualize gave no page", st);
  if (st != ETPU_OK && st != ETPU_MALFORMED && st != ETPU_UNSUPPORTED && st != ETPU_INVALID_ARGUMENT)
    fail("visualize returned an unexpected status", st);
  etpu_free(html);
  void *out = NULL;
  size_t out_size = 0;
  st = etpu_model_write_buffer(m, 0, &out, &out_size);
  if (st != ETPU_OK) fail("an opened model does not write", st);
  etpu_model *m2 = NULL;
  st = etpu_model_open_buffer(out, out_size, "fuzz-rewritten", ETPU_OPEN_COPY, &m2);
  if (st != ETPU_OK) fail("the written model does not reopen", st);
  if (etpu_model_subgraph_count(m2) != etpu_model_subgraph_count(m)) fail("subgraph count changed", ETPU_OK);
  for (uint32_t s = 0; s < etpu_model_subgraph_count(m); s++)
    if (etpu_model_tensor_count(m2, s) != etpu_model_tensor_count(m, s) ||
        etpu_model_op_count(m2, s) != etpu_model_op_count(m, s))
      fail("tensor or op count changed", ETPU_OK);
  if (robust_exercise(m2) != 0) fail("a query on the reopened model misbehaved", ETPU_OK);
  void *out2 = NULL;
  size_t out2_size = 0;
  st = etpu_model_write_buffer(m2, 0, &out2, &out2_size);
  if (st != ETPU_OK) fail("the reopened model does not write", st);
  if (out2_size != out_size || memcmp(out, out2, out_size) != 0) fail("writing is not idempotent", ETPU_OK);
  etpu_free(out2);
  etpu_free(out);
  etpu_model_free(m2);
  out = NULL;
  st = etpu_model_write_buffer(m, ETPU_WRITE_COMPACT, &out, &out_size);
  if (st != ETPU_OK) fail("compact write failed", st);
  st = etpu_model_open_buffer(out, out_size, "fuzz-compact", ETPU_OPEN_COPY, &m2);
  if (st != ETPU_OK) fail("the compact copy does not reopen", st);
  etpu_model_free(m2);
  etpu_free(out);
  /* Edits on whatever opened. */
  if (etpu_model_op_count(m, 0) > 0) {
    st = etpu_model_remove_op(m, 0, 0);
    if (st != ETPU_OK) fail("remove_op failed", st);
  }
  for (uint32_t t = 0; t < etpu_model_tensor_count(m, 0); t++) {
    etpu_tensor_info ti;
    if (etpu_model_tensor(m, 0, t, &ti) != ETPU_OK) fail("tensor query failed", ETPU_OK);
    if (ti.producer >= 0 || ti.consumer_count > 0) continue;
    if (etpu_model_remove_tensor(m, 0, t) == ETPU_OK) break; /* may refuse: a graph input/output */
  }
  if (robust_exercise(m) != 0) fail("a query on the edited model misbehaved", ETPU_OK);
  out = NULL;
  st = etpu_model_write_buffer(m, 0, &out, &out_size);
  if (st != ETPU_OK) fail("the edited model does not write", st);
  st = etpu_model_open_buffer(out, out_size, "fuzz-edited", ETPU_OPEN_COPY, &m2);
  if (st != ETPU_OK) fail("the edited model does not reopen", st);
  etpu_model_free(m2);
  etpu_free(out);
  etpu_model_free(m);
  return 0;
}
