/*
 * reshape.c — RESHAPE, SQUEEZE and EXPAND_DIMS: the bytes do not change,
 * only the shape. The output shape is the model's (static); prepare checks
 * that input and output hold the same number of elements of the same type
 * and, for quantized tensors, the same quantization (TFLite requires it).
 */
#include <string.h>

#include "runtime/interp.h"

static etpu_status same_bytes_prepare(etpu_interp *ip, etpu_rop *op, uint32_t max_in) {
  etpu_status st = etpu_op_check_io(ip, op, 1, max_in, 1);
  if (st != ETPU_OK) return st;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  if (in->type != out->type)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input '%s' is %s but output '%s' is %s", in->name,
                        etpu_dtype_name(in->type), out->name, etpu_dtype_name(out->type));
  if (in->elems != out->elems || in->bytes != out->bytes)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input '%s' has %zu elements but output '%s' has %zu", in->name, in->elems,
                        out->name, out->elems);
  if (in->has_quant && out->has_quant && (in->scale != out->scale || in->zero_point != out->zero_point))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "input and output quantization differ (%g, %d) vs (%g, %d)",
                        (double)in->scale, in->zero_point, (double)out->scale, out->zero_point);
  return ETPU_OK;
}

static etpu_status reshape_prepare(etpu_interp *ip, etpu_rop *op) { return same_bytes_prepare(ip, op, 2); }
static etpu_status squeeze_prepare(etpu_interp *ip, etpu_rop *op) { return same_bytes_prepare(ip, op, 1); }

static etpu_status copy_eval(etpu_interp *ip, etpu_rop *op) {
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  if (in->data != out->data) memmove(out->data, in->data, out->bytes);
  return ETPU_OK;
}

const etpu_kernel_reg etpu_reg_reshape = {ETPU_OP_RESHAPE, NULL, reshape_prepare, copy_eval, NULL};
const etpu_kernel_reg etpu_reg_squeeze = {ETPU_OP_SQUEEZE, NULL, squeeze_prepare, copy_eval, NULL};
const etpu_kernel_reg etpu_reg_expand_dims = {ETPU_OP_EXPAND_DIMS, NULL, reshape_prepare, copy_eval, NULL};
