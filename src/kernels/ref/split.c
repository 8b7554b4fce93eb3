/*
 * split.c — SPLIT, SPLIT_V and UNPACK: the input [outer, Σ chunk_i] cut
 * into outputs [outer, chunk_i] (bytes copied; quantization is shared).
 */
#include <string.h>

#include "kernels/ref/tensor_util.h"

etpu_status etpu_split(const etpu_concat_params *params, const void *input, void *const *outputs) {
  static const char kname[] = "split";
  etpu_status st = etpu_concat_check(kname, params, false);
  if (st != ETPU_OK) return st;
  if (!input || !outputs) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL data", kname);
  for (int32_t i = 0; i < params->count; i++)
    if (!outputs[i]) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: output %d is NULL", kname, i);
  const size_t es = params->elem_size;
  const uint8_t *src = input;
  for (size_t k = 0; k < params->outer; k++)
    for (int32_t i = 0; i < params->count; i++) {
      const size_t n = params->chunk[i] * es;
      if (n) memcpy((uint8_t *)outputs[i] + k * n, src, n);
      src += n;
    }
  return ETPU_OK;
}
