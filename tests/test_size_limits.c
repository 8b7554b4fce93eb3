/*
 * test_size_limits.c — models that declare more memory than the target's
 * size_t can address are refused with a clear message, never wrapped
 * (issue 19: a 32-bit armhf build must not compute 2^32 bytes as 0).
 *
 * Each case builds a small model in memory (RELU, uint8, one input and one
 * output tensor of a given shape; no data: activations only), writes it,
 * opens the bytes again (the reader's checks) and creates an interpreter:
 *   - a 3 GiB tensor [1, 1024, 1024, 3072]: fits a 32-bit size_t alone, but
 *     its input and output together (6 GiB) do not: the memory planner must
 *     refuse instead of placing them in a wrapped 2 GiB arena;
 *   - shapes whose products wrap 32 bits: [65536, 65536, 1, 1] (2^32 bytes:
 *     0 when wrapped) and [65537, 65537, 1, 1] (131,073 when wrapped);
 *   - an int32 tensor of 2^30 elements (4 GiB: the element count fits, the
 *     bytes do not).
 * Every refusal must be an error status (not a crash, not ETPU_OK) whose
 * message names the tensor. On a 64-bit target these models are valid and
 * would really allocate gigabytes, so there only the model building and
 * reading run, and the test reports itself skipped (exit 77): its point is
 * the 32-bit run (the armhf stage of .ci/run).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

typedef struct size_case {
  const char *what;
  int32_t type;
  int32_t shape[4];
} size_case;

static const size_case k_cases[] = {
    {"3 GiB tensor (input + output 6 GiB)", ETPU_UINT8, {1, 1024, 1024, 3072}},
    {"2^32 bytes (wraps to 0)", ETPU_UINT8, {65536, 65536, 1, 1}},
    {"65537^2 bytes (wraps to 131073)", ETPU_UINT8, {65537, 65537, 1, 1}},
    {"2^30 int32 elements (4 GiB)", ETPU_INT32, {1024, 1024, 1024, 1}},
};

/* The model's bytes: in -> RELU -> out, both of c's shape and type. */
static void *build(const size_case *c, size_t *size_out) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  const float scale = 0.5f;
  const int64_t zp = 0;
  const etpu_quant_params q = {1, &scale, &zp, 0};
  int32_t in = -1, out = -1;
  CHECK_OK(etpu_model_add_tensor(m, 0, "huge_in", c->type, 4, c->shape, &q, NULL, 0, &in));
  CHECK_OK(etpu_model_add_tensor(m, 0, "huge_out", c->type, 4, c->shape, &q, NULL, 0, &out));
  CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_RELU, NULL, 1, 1, &in, 1, &out, 0, NULL, NULL, 0, NULL));
  CHECK_OK(etpu_model_set_io(m, 0, 1, &in, 1, &out));
  void *data = NULL;
  CHECK_OK(etpu_model_write_buffer(m, 0, &data, size_out));
  etpu_model_free(m);
  return data;
}

int main(void) {
  const bool narrow = sizeof(size_t) < 8;
  for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
    const size_case *c = &k_cases[i];
    size_t size = 0;
    void *data = build(c, &size);
    if (!data) continue;
    etpu_model *m = NULL;
    const etpu_status open_st = etpu_model_open_buffer(data, size, c->what, ETPU_OPEN_COPY, &m);
    CHECK_MSG(open_st == ETPU_OK, "%s: the reader refused a valid model: %s", c->what, etpu_errmsg());
    if (open_st == ETPU_OK && narrow) {
      etpu_interp_options o;
      etpu_interp_options_init(&o);
      etpu_interp *ip = NULL;
      etpu_status st = etpu_interp_create(m, &o, &ip);
      if (st == ETPU_OK) st = etpu_interp_plan(ip, NULL);
      const char *msg = etpu_errmsg();
      if (st == ETPU_OK)
        printf("%s: ACCEPTED (wrong)\n", c->what);
      else
        printf("refused: %s\n", msg);
      CHECK_MSG(st != ETPU_OK, "%s: a %zu-bit build accepted it", c->what, sizeof(size_t) * 8);
      CHECK_MSG(st == ETPU_OK || strstr(msg, "huge_") != NULL, "%s: the message names no tensor: %s", c->what, msg);
      etpu_interp_free(ip);
    }
    etpu_model_free(m);
    etpu_free(data);
  }
  if (!narrow) {
    printf("size_limits: skipped: the interpreter cases need a 32-bit size_t (the armhf build); the %zu models were "
           "built and read\n", sizeof k_cases / sizeof k_cases[0]);
    return tu_finish("test_size_limits") ? 1 : 77;
  }
  return tu_finish("test_size_limits");
}
