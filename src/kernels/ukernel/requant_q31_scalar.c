/*
 * requant_q31_scalar.c — the integer requantization micro-kernel of
 * ukernel.h in plain C: etpu_opt_requant (opt_internal.h, the reference's
 * arithmetic) on each value.
 */
#include "kernels/opt/opt_internal.h"
#include "kernels/ukernel/ukernel.h"

void etpu_requant_q31_scalar(const int32_t *acc, size_t n, const int32_t *mult, const int32_t *shift, int mode,
                             int32_t zp, int32_t amin, int32_t amax, uint8_t *out) {
  for (size_t i = 0; i < n; i++) {
    const etpu_requant rq = {mult[i], shift[i], 0.0f};
    out[i] = (uint8_t)((uint32_t)etpu_opt_requant(acc[i], &rq, (etpu_requant_mode)mode, zp, amin, amax) & 0xff);
  }
}
