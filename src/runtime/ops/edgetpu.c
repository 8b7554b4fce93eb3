/*
 * edgetpu.c — the edgetpu-custom-op, simulated on the CPU.
 *
 * A model compiled by `etpu compile` carries in its custom op the mapped
 * ops as a complete .tflite (payload format in src/compile/compile.h). The
 * op opens that model, runs it with a nested interpreter of the same
 * arithmetic profile, and copies the custom op's inputs in and its outputs
 * out; so a compiled model gives exactly the bytes of its source model.
 * State (variable) tensors live inside the nested model; the custom op's
 * inputs that are variables are not copied.
 *
 * A model compiled by Google's edgetpu_compiler holds Edge TPU machine code
 * (a DWN1 package) that only a physical Edge TPU runs: refused with a clear
 * message when the interpreter is created.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/interp.h"

#define PAYLOAD_MAGIC "ETPUSIM1"
#define PAYLOAD_HEADER 48

typedef struct edgetpu_params {
  etpu_model *model;
  etpu_interp *inner;
  uint32_t nin;     /* non-variable custom op inputs, in order = inner graph inputs */
  int32_t *in;      /* outer tensor indices */
} edgetpu_params;

static bool same_shape(const etpu_rtensor *a, int32_t type, uint32_t rank, const int32_t *shape) {
  if (a->type != type || a->rank != rank) return false;
  for (uint32_t d = 0; d < rank; d++)
    if (a->dims[d] != shape[d]) return false;
  return true;
}

static etpu_status edgetpu_prepare(etpu_interp *ip, etpu_rop *op) {
  const uint8_t *p = op->gop->custom;
  uint32_t n = op->gop->custom_size;
  if (!p || n < 8 || memcmp(p, PAYLOAD_MAGIC, 8) != 0)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED,
                        "this Edge TPU op was compiled by Google's edgetpu_compiler: its payload is Edge TPU machine "
                        "code that only a physical Edge TPU (with libedgetpu) can run. Run the uncompiled model with "
                        "etpu, or compile it with `etpu compile` to simulate the Edge TPU part");
  if (n < PAYLOAD_HEADER) return etpu_op_fail(ip, op, ETPU_MALFORMED, "etpu payload of %u bytes is truncated", n);
  uint32_t version = etpu_rd32(p + 8), size = etpu_rd32(p + 44);
  if (version != 1)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "etpu payload format version %u; this etpu reads version 1", version);
  if (size > n - PAYLOAD_HEADER)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "etpu payload says %u model bytes but holds %u", size, n - PAYLOAD_HEADER);
  edgetpu_params *e = etpu_op_alloc(ip, sizeof *e);
  if (!e) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = e;
  char label[512];
  snprintf(label, sizeof label, "%s: op %u edgetpu-custom-op payload", ip->model->label, op->index);
  etpu_status st = etpu_model_open_buffer(p + PAYLOAD_HEADER, size, label, ETPU_OPEN_COPY, &e->model);
  if (st != ETPU_OK) return st;
  etpu_interp_options o;
  etpu_interp_options_init(&o);
  o.profile = ip->profile;
  o.keep_all_tensors = false;
  o.num_threads = ip->num_threads;
  st = etpu_interp_create_inner(e->model, &o, ip, &e->inner);
  if (st != ETPU_OK) return st;
  st = etpu_interp_plan(e->inner, NULL);
  if (st != ETPU_OK) return st;
  e->in = etpu_op_alloc(ip, (op->nin + 1) * sizeof(int32_t));
  if (!e->in) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  for (uint32_t k = 0; k < op->nin; k++) {
    if (op->in[k] < 0)
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "input %u is missing", k);
    if (!ip->t[op->in[k]].is_variable) e->in[e->nin++] = op->in[k];
  }
  if (e->nin != etpu_interp_input_count(e->inner) || op->nout != etpu_interp_output_count(e->inner))
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "custom op has %u inputs / %u outputs but its payload model %u / %u",
                        e->nin, op->nout, etpu_interp_input_count(e->inner), etpu_interp_output_count(e->inner));
  for (uint32_t k = 0; k < e->nin + op->nout; k++) {
    bool is_in = k < e->nin;
    const etpu_rtensor *outer = &ip->t[is_in ? e->in[k] : op->out[k - e->nin]];
    int32_t ti = is_in ? etpu_interp_input_index(e->inner, k) : etpu_interp_output_index(e->inner, k - e->nin);
    etpu_tensor_info t;
    st = etpu_model_tensor(e->model, 0, (uint32_t)ti, &t);
    if (st != ETPU_OK) return st;
    if (!same_shape(outer, t.type, t.rank, t.shape))
      return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' does not match the payload model's tensor '%s'",
                          is_in ? "input" : "output", outer->name, t.name);
  }
  return ETPU_OK;
}

static etpu_status edgetpu_eval(etpu_interp *ip, etpu_rop *op) {
  edgetpu_params *e = op->params;
  for (uint32_t k = 0; k < e->nin; k++) {
    const etpu_rtensor *t = &ip->t[e->in[k]];
    etpu_status st = etpu_interp_set_input(e->inner, k, t->data, t->bytes);
    if (st != ETPU_OK) return st;
  }
  etpu_status st = etpu_interp_invoke(e->inner);
  if (st != ETPU_OK) return st;
  for (uint32_t k = 0; k < op->nout; k++) {
    const void *d;
    size_t n;
    st = etpu_interp_output(e->inner, k, &d, &n);
    if (st != ETPU_OK) return st;
    memcpy(ip->t[op->out[k]].data, d, n);
  }
  return ETPU_OK;
}

static void edgetpu_destroy(etpu_interp *ip, etpu_rop *op) {
  (void)ip;
  edgetpu_params *e = op->params;
  if (!e) return;
  etpu_interp_free(e->inner);
  etpu_model_free(e->model);
  e->inner = NULL;
  e->model = NULL;
}

const etpu_kernel_reg etpu_reg_edgetpu_custom = {ETPU_OP_CUSTOM, "edgetpu-custom-op", edgetpu_prepare, edgetpu_eval,
                                                 edgetpu_destroy};
