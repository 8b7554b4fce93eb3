/*
 * fuzz_package.c — libFuzzer target for the Edge TPU package reader
 * (etpu_package_read, src/model/package.c).
 *
 * The input is an edgetpu-custom-op's custom options (a FlexBuffers map
 * holding the DWN1 Package, or the 1.0-era bare executables), read from an
 * exact-size heap copy so that ASan sees any read past the end. A failure
 * must be ETPU_MALFORMED or ETPU_UNSUPPORTED, carry a message naming the
 * label, and leave *package_out untouched. A package that reads must be
 * consistent (robust_package_exercise touches every pointer it holds) and
 * read the same way twice. Anything else aborts, which libFuzzer reports
 * as a crash.
 *
 * Seeds: the custom options of the shared compiled models, cut out by
 * extract_options.c; build and run with tests/fuzz/run_fuzz_package.sh.
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
  fprintf(stderr, "fuzz_package: %s (%s): %s\n", what, etpu_status_name(st), etpu_errmsg());
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  etpu_package *const sentinel = (etpu_package *)(uintptr_t)0x1234;
  etpu_package *p = sentinel;
  etpu_status st = etpu_package_read(copy, size, "fuzz", &p);
  if (st != ETPU_OK) {
    if (st != ETPU_MALFORMED && st != ETPU_UNSUPPORTED) fail("read returned an unexpected status", st);
    if (!strstr(etpu_errmsg(), "fuzz")) fail("read failed without a labelled message", st);
    if (p != sentinel) fail("read changed package_out on failure", st);
    free(copy);
    return 0;
  }
  if (robust_package_exercise(p) != 0) fail("a package that read OK is inconsistent", ETPU_OK);
  etpu_package *q = NULL;
  st = etpu_package_read(copy, size, "fuzz-again", &q);
  if (st != ETPU_OK) fail("a second read of the same bytes failed", st);
  if (q->executable_count != p->executable_count ||
      etpu_package_parameter_bytes(q, ETPU_PKG_PARAMETER_CACHING) !=
          etpu_package_parameter_bytes(p, ETPU_PKG_PARAMETER_CACHING) ||
      etpu_package_estimated_cycles(q) != etpu_package_estimated_cycles(p))
    fail("two reads of the same bytes disagree", ETPU_OK);
  etpu_package_free(q);
  etpu_package_free(p);
  free(copy);
  return 0;
}
