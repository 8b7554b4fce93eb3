/*
 * extract_options.c — write the custom options of a model's first
 * edgetpu-custom-op to a file: the seeds of fuzz_package (see
 * run_fuzz_package.sh). Usage: extract_options MODEL OUT; exit 0 written,
 * 1 the model has no such op (nothing written), 2 usage or I/O error.
 */
#include <stdio.h>
#include <string.h>

#include "etpu/etpu.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: extract_options MODEL OUT\n");
    return 2;
  }
  etpu_model *m;
  if (etpu_model_open(argv[1], &m) != ETPU_OK) {
    fprintf(stderr, "extract_options: %s\n", etpu_errmsg());
    return 2;
  }
  int rc = 1;
  for (uint32_t i = 0; i < etpu_model_op_count(m, 0) && rc == 1; i++) {
    etpu_op_info op;
    if (etpu_model_op(m, 0, i, &op) != ETPU_OK || op.code != ETPU_OP_CUSTOM || strcmp(op.name, "edgetpu-custom-op") ||
        !op.custom_options_size)
      continue;
    FILE *f = fopen(argv[2], "wb");
    rc = f && fwrite(op.custom_options, 1, op.custom_options_size, f) == op.custom_options_size ? 0 : 2;
    if (f && fclose(f) != 0) rc = 2;
  }
  etpu_model_free(m);
  return rc;
}
