/*
 * eltwise_opt.h — the optimized quantized ADD and SUB: the reference's
 * parameters (etpu_addsub_params, tensor_ops.h) folded once into the form
 * the micro-kernels of ukernel.h take (etpu_vadd_params: int8 bytes biased
 * to the uint8 domain), and a run over a range of elements of two inputs of
 * the output's shape (no broadcasting; the reference handles that). Any
 * range split gives the same bytes: each output byte depends only on the
 * input bytes at its index. Bit-exact with etpu_add_u8/_s8 and
 * etpu_sub_u8/_s8 in each scheme (tests/test_kernels_opt.c).
 */
#ifndef ETPU_KERNELS_OPT_ELTWISE_OPT_H
#define ETPU_KERNELS_OPT_ELTWISE_OPT_H

#include <stdbool.h>
#include <stddef.h>

#include "kernels/kernels.h"
#include "kernels/tensor_ops.h"
#include "kernels/ukernel/ukernel.h"

typedef struct etpu_opt_addsub {
  etpu_vadd_params p;
  bool xnn; /* the XNNPACK scheme; else TFLite's (both TFLITE schemes differ only in their ratios) */
} etpu_opt_addsub;

/* Fold params (for in1 − in2 when subtract; int8 tensors when is_signed)
 * into *out. False when they lie outside what the reference kernel admits
 * or the fold cannot be represented: the caller runs the reference, which
 * reports the problem. */
bool etpu_opt_addsub_init(const etpu_addsub_params *params, bool subtract, bool is_signed, etpu_opt_addsub *out);

/* out[i] for i in [begin, end) with cfg's micro-kernel (NULL: the chosen
 * one, etpu_ukernel_config_get()). a, b and out: the whole tensors. */
void etpu_opt_addsub_run(const etpu_ukernel_config *cfg, const etpu_opt_addsub *d, const void *a, const void *b,
                         void *out, size_t begin, size_t end);

#endif /* ETPU_KERNELS_OPT_ELTWISE_OPT_H */
