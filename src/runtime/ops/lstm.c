/*
 * lstm.c — runtime glue of UNIDIRECTIONAL_SEQUENCE_LSTM (kernels:
 * kernels/lstm.h). Supported: the standard LSTM TFLite Micro runs — all four
 * gates with their weights and biases, no peepholes, no projection, no layer
 * norm, a TANH cell activation — with int8 activations and weights, int32
 * biases and an int16 cell state (keras_lstm_mnist_ptq), or all float32.
 *
 * Inputs (TFLite order): 0 input; 1–4 input→{input, forget, cell, output}
 * weights; 5–8 recurrent weights; 9–11 peepholes (absent); 12–15 biases;
 * 16–17 projection (absent); 18 hidden (output) state and 19 cell state,
 * both variable tensors that persist across invocations
 * (etpu_interp_reset_state zeroes them); 20–23 layer norm (absent).
 *
 * Both profiles use TFLite Micro's integer arithmetic: the goldens have this
 * model only under tflite-ref (LiteRT refuses variable tensors), so there is
 * no LiteRT LSTM arithmetic to match.
 */
#include <math.h>
#include <string.h>

#include "kernels/lstm.h"
#include "runtime/interp.h"

typedef struct lstm_params {
  etpu_lstm_dims dims;
  bool is_float;
  float cell_clip;
  etpu_lstm_s8_params q;
  void *scratch;
  size_t scratch_size;
} lstm_params;

static etpu_status need(etpu_interp *ip, etpu_rop *op, uint32_t k, const char *what, int32_t type, uint32_t rank,
                        const int32_t *shape, etpu_rtensor **t_out) {
  etpu_rtensor *t = etpu_in(ip, op, k);
  if (!t) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input %u (%s) is required", k, what);
  etpu_status st = etpu_op_check_type(ip, op, t, what, type);
  if (st != ETPU_OK) return st;
  bool ok = t->rank == rank;
  for (uint32_t d = 0; ok && d < rank; d++) ok = t->dims[d] == shape[d];
  if (!ok) return etpu_op_fail(ip, op, ETPU_MALFORMED, "%s '%s' has the wrong shape", what, t->name);
  *t_out = t;
  return ETPU_OK;
}

static etpu_status per_tensor(etpu_interp *ip, etpu_rop *op, const etpu_rtensor *t, const char *what, bool zp0) {
  etpu_status st = etpu_op_check_quant(ip, op, t, what);
  if (st != ETPU_OK) return st;
  if (t->quant && t->quant->count > 1)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' is quantized per channel", what, t->name);
  if (zp0 && t->zero_point != 0)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "%s '%s' has zero point %d; 0 is required", what, t->name,
                        t->zero_point);
  return ETPU_OK;
}

static bool absent(const etpu_rop *op, uint32_t k) { return k >= op->nin || op->in[k] < 0; }

static etpu_status lstm_prepare(etpu_interp *ip, etpu_rop *op) {
  if (op->nin != 24 || op->nout != 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "has %u inputs and %u outputs; expected 24 and 1", op->nin, op->nout);
  lstm_params *p = etpu_op_alloc(ip, sizeof *p);
  if (!p) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory");
  op->params = p;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  if (!in) return etpu_op_fail(ip, op, ETPU_MALFORMED, "the input is missing");
  if (in->type != ETPU_INT8 && in->type != ETPU_FLOAT32)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' is %s; this kernel takes int8 or float32", in->name,
                        etpu_dtype_name(in->type));
  p->is_float = in->type == ETPU_FLOAT32;
  if (in->rank != 3) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "input '%s' must have rank 3", in->name);
  for (uint32_t k = 9; k < 24; k++) {
    if ((k >= 9 && k <= 11) || k == 16 || k == 17 || k >= 20) {
      if (!absent(op, k))
        return etpu_op_fail(ip, op, ETPU_UNSUPPORTED,
                            "input %u is present: peepholes, projection and layer norm are not supported", k);
    }
  }
  const uint16_t T = ETPU_T_UnidirectionalSequenceLSTMOptions;
  const int64_t act = etpu_op_opt_int(op, T, ETPU_F_UnidirectionalSequenceLSTMOptions_fused_activation_function);
  if (act != 4)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "cell activation %lld; only TANH is supported", (long long)act);
  p->dims.time_major = etpu_op_opt_int(op, T, ETPU_F_UnidirectionalSequenceLSTMOptions_time_major) != 0;
  p->cell_clip = (float)etpu_op_opt_float(op, T, ETPU_F_UnidirectionalSequenceLSTMOptions_cell_clip);
  if (!isfinite(p->cell_clip) || p->cell_clip < 0.0f)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "cell_clip %g is invalid", (double)p->cell_clip);
  p->dims.batch = p->dims.time_major ? in->dims[1] : in->dims[0];
  p->dims.time_steps = p->dims.time_major ? in->dims[0] : in->dims[1];
  p->dims.input_dim = in->dims[2];
  etpu_rtensor *hidden = etpu_in(ip, op, 18), *cell = etpu_in(ip, op, 19);
  if (!hidden || !cell) return etpu_op_fail(ip, op, ETPU_MALFORMED, "the hidden and cell state inputs are required");
  if (!hidden->is_variable || !cell->is_variable || hidden->is_const || cell->is_const)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "the state tensors '%s' and '%s' must be variables", hidden->name,
                        cell->name);
  etpu_rtensor *w0 = etpu_in(ip, op, 2);
  if (!w0 || w0->rank != 2) return etpu_op_fail(ip, op, ETPU_MALFORMED, "input→forget weights must be 2-D");
  p->dims.state_dim = w0->dims[0];
  const int32_t S = p->dims.state_dim, I = p->dims.input_dim;
  if (p->dims.batch < 1 || p->dims.time_steps < 1 || I < 1 || S < 1)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "empty dimensions");
  const int32_t wtype = p->is_float ? ETPU_FLOAT32 : ETPU_INT8, btype = p->is_float ? ETPU_FLOAT32 : ETPU_INT32;
  const int32_t wi[2] = {S, I}, wr[2] = {S, S}, bs[1] = {S};
  etpu_rtensor *w[8], *b[4];
  etpu_status st = ETPU_OK;
  for (uint32_t g = 0; g < 4 && st == ETPU_OK; g++) {
    st = need(ip, op, 1 + g, "input weights", wtype, 2, wi, &w[g]);
    if (st == ETPU_OK) st = need(ip, op, 5 + g, "recurrent weights", wtype, 2, wr, &w[4 + g]);
    if (st == ETPU_OK) st = need(ip, op, 12 + g, "bias", btype, 1, bs, &b[g]);
  }
  if (st != ETPU_OK) return st;
  for (uint32_t g = 0; g < 8; g++)
    if (!w[g]->is_const) return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "weights '%s' must be constant", w[g]->name);
  if (hidden->type != in->type || hidden->elems != (size_t)p->dims.batch * (size_t)S)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "hidden state '%s' must be %s with %d elements", hidden->name,
                        etpu_dtype_name(in->type), p->dims.batch * S);
  const int32_t ctype = p->is_float ? ETPU_FLOAT32 : ETPU_INT16;
  if (cell->type != ctype || cell->elems != (size_t)p->dims.batch * (size_t)S)
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "cell state '%s' must be %s with %d elements", cell->name,
                        etpu_dtype_name(ctype), p->dims.batch * S);
  if (out->type != in->type || out->rank != 3 || out->dims[0] != in->dims[0] || out->dims[1] != in->dims[1] ||
      out->dims[2] != S)
    return etpu_op_fail(ip, op, ETPU_MALFORMED, "output '%s' must be %s [%d, %d, %d]", out->name,
                        etpu_dtype_name(in->type), in->dims[0], in->dims[1], S);
  p->scratch_size = p->is_float ? etpu_lstm_f32_get_buffer_size(&p->dims) : etpu_lstm_s8_get_buffer_size(&p->dims);
  p->scratch = etpu_op_alloc(ip, p->scratch_size);
  if (!p->scratch) return etpu_op_fail(ip, op, ETPU_OUT_OF_MEMORY, "out of memory for %zu scratch bytes", p->scratch_size);
  if (p->is_float) return ETPU_OK;
  /* integer: per-tensor scales, symmetric weights, int16 cell */
  etpu_lstm_scales sc;
  memset(&sc, 0, sizeof sc);
  if ((st = per_tensor(ip, op, in, "input", false)) != ETPU_OK) return st;
  if ((st = per_tensor(ip, op, hidden, "hidden state", false)) != ETPU_OK) return st;
  if ((st = per_tensor(ip, op, cell, "cell state", true)) != ETPU_OK) return st;
  if (out->has_quant && (out->scale != hidden->scale || out->zero_point != hidden->zero_point))
    return etpu_op_fail(ip, op, ETPU_UNSUPPORTED, "output and hidden state quantization differ");
  for (uint32_t g = 0; g < 4; g++) {
    if ((st = per_tensor(ip, op, w[g], "input weights", true)) != ETPU_OK) return st;
    if ((st = per_tensor(ip, op, w[4 + g], "recurrent weights", true)) != ETPU_OK) return st;
    sc.input_weights[g] = w[g]->scale;
    sc.recurrent_weights[g] = w[4 + g]->scale;
  }
  sc.input = in->scale;
  sc.input_zero_point = in->zero_point;
  sc.hidden = hidden->scale;
  sc.hidden_zero_point = hidden->zero_point;
  sc.cell = cell->scale;
  sc.cell_clip = p->cell_clip;
  st = etpu_lstm_s8_params_init(&sc, &p->q);
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

static etpu_status lstm_eval(etpu_interp *ip, etpu_rop *op) {
  const lstm_params *p = op->params;
  etpu_rtensor *in = etpu_in(ip, op, 0), *out = etpu_out(ip, op, 0);
  etpu_rtensor *hidden = etpu_in(ip, op, 18), *cell = etpu_in(ip, op, 19);
  etpu_status st;
  if (p->is_float) {
    etpu_lstm_f32_data d;
    d.input = (const float *)in->data;
    for (uint32_t g = 0; g < 4; g++) {
      d.input_weights[g] = (const float *)etpu_in(ip, op, 1 + g)->data;
      d.recurrent_weights[g] = (const float *)etpu_in(ip, op, 5 + g)->data;
      d.bias[g] = (const float *)etpu_in(ip, op, 12 + g)->data;
    }
    d.hidden_state = (float *)hidden->data;
    d.cell_state = (float *)cell->data;
    d.output = (float *)out->data;
    st = etpu_lstm_f32(&p->dims, p->cell_clip, &d, p->scratch, p->scratch_size);
  } else {
    etpu_lstm_s8_data d;
    d.input = (const int8_t *)in->data;
    for (uint32_t g = 0; g < 4; g++) {
      d.input_weights[g] = (const int8_t *)etpu_in(ip, op, 1 + g)->data;
      d.recurrent_weights[g] = (const int8_t *)etpu_in(ip, op, 5 + g)->data;
      d.bias[g] = (const int32_t *)etpu_in(ip, op, 12 + g)->data;
    }
    d.hidden_state = (int8_t *)hidden->data;
    d.cell_state = (int16_t *)cell->data;
    d.output = (int8_t *)out->data;
    st = etpu_lstm_s8(&p->dims, &p->q, &d, p->scratch, p->scratch_size);
  }
  return st == ETPU_OK ? st : etpu_op_fail(ip, op, st, "%s", etpu_errmsg());
}

const etpu_kernel_reg etpu_reg_unidirectional_sequence_lstm = {ETPU_OP_UNIDIRECTIONAL_SEQUENCE_LSTM, NULL, lstm_prepare,
                                                               lstm_eval, NULL};
