/*
 * lstm.c — UNIDIRECTIONAL_SEQUENCE_LSTM (lstm.h): TFLite Micro's integer
 * LSTM (int8 activations and weights, int16 cell state) and the float32
 * LSTM. The integer arithmetic, step by step as in TFLite Micro's
 * lstm_eval.h:
 *
 *   gate  = sat16(FC(x_t; W_x, b) + FC(h; W_h))  FC: int32 acc → MBQM → int16
 *   f, i, o = sigmoid(gate)  g = tanh(gate)      int16 Q3.12 → Q0.15
 *   c = sat16(MBQM(f·c) + MBQM(i·g)), clipped    int16, scale s_c
 *   h = clamp8(MBQM(o·tanh(c)) + zp_h)           int8
 *
 * The int16 sigmoid/tanh (TFLite's reference_integer_ops Logistic/Tanh on
 * int16) interpolate linearly in a table of sigmoid(k/24), k = 0..255, in
 * 0.16 fixed point, using tanh(x) = 2·sigmoid(2x) − 1.
 */
#include <math.h>
#include <string.h>

#include "base/base.h"
#include "kernels/lstm.h"
#include "kernels/requant.h"

/* sigmoid(k/24) · 2^16, k = 0..255, as tabulated in TensorFlow Lite
 * (kernels/internal/common.h, sigmoid_table_uint16; Apache 2.0). The values
 * are not plain roundings of the function (up to 0.68 off), so they are
 * data the bit-exact result depends on. */
static const uint16_t k_sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
};

void etpu_lstm_sigmoid_s16(size_t size, const int16_t *input, int16_t *output) {
  for (size_t i = 0; i < size; i++) {
    const int32_t x = (int32_t)input[i] * 3; /* the 3/4 range scaling, Q3.12 power-of-two case */
    const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
    const uint32_t uh = ax >> 9;
    uint32_t r;
    if (uh >= 255) {
      r = 0x7FFFu << 10;
    } else {
      const uint32_t ua = k_sigmoid_table[uh], ub = k_sigmoid_table[uh + 1];
      r = (ua << 9) + (ax & 0x1ff) * (ub - ua);
    }
    r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1;
    output[i] = (int16_t)(r >> 10);
  }
}

void etpu_lstm_tanh_s16(int32_t scale_power, size_t size, const int16_t *input, int16_t *output) {
  /* TFLite Micro: left shift (15 + power) − 3; a negative one becomes a
   * rounding right shift of 3·x, a non-negative one multiplies by 3 << it. */
  int32_t shift = 15 + scale_power - 3, mult = 0;
  if (shift < 0) {
    shift = -shift;
    mult = 3;
  }
  if (mult == 0) {
    mult = 3 << shift;
    shift = 0;
  }
  const int32_t round = shift > 0 ? 1 << (shift - 1) : 0;
  for (size_t i = 0; i < size; i++) {
    const int32_t x = ((int32_t)input[i] * mult + round) >> shift;
    const uint32_t ax = (uint32_t)(x < 0 ? -x : x);
    const uint32_t uh = ax >> 8;
    int32_t r;
    if (uh >= 255) {
      r = 0xFFFF << 8;
    } else {
      const uint32_t ua = k_sigmoid_table[uh], ub = k_sigmoid_table[uh + 1];
      r = (int32_t)((ua << 8) + (ax & 0xff) * (ub - ua));
    }
    r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    output[i] = (int16_t)(r >> 8); /* arithmetic shift (requant.h) */
  }
}

/* ---- parameters ------------------------------------------------------------ */

static bool scale_ok(float s) { return isfinite(s) && s > 0.0f; }

static etpu_status qm(double m, int32_t *mult, int32_t *shift) {
  etpu_status st = etpu_quantize_multiplier(m, 0, mult, shift);
  if (st != ETPU_OK) return st;
  if (*shift > 31 || *shift < -31) return etpu_fail(ETPU_UNSUPPORTED, "lstm: scale ratio %g out of range", m);
  return ETPU_OK;
}

etpu_status etpu_lstm_s8_params_init(const etpu_lstm_scales *s, etpu_lstm_s8_params *p) {
  if (!s || !p) return etpu_fail(ETPU_INVALID_ARGUMENT, "lstm params: NULL argument");
  bool ok = scale_ok(s->input) && scale_ok(s->hidden) && scale_ok(s->cell) && isfinite(s->cell_clip) &&
            s->cell_clip >= 0.0f;
  for (int g = 0; g < 4; g++) ok = ok && scale_ok(s->input_weights[g]) && scale_ok(s->recurrent_weights[g]);
  if (!ok) return etpu_fail(ETPU_INVALID_ARGUMENT, "lstm params: every scale must be finite and > 0");
  if (s->input_zero_point < -128 || s->input_zero_point > 127 || s->hidden_zero_point < -128 ||
      s->hidden_zero_point > 127)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "lstm params: zero points %d, %d outside int8", s->input_zero_point,
                     s->hidden_zero_point);
  const double gate_scale = 0.000244140625;     /* 2^−12: Q3.12 */
  const double nonlinear_out = 0.000030517578125; /* 2^−15: Q0.15 */
  etpu_status st = ETPU_OK;
  for (int g = 0; g < 4 && st == ETPU_OK; g++) {
    st = qm((double)s->input * (double)s->input_weights[g] / gate_scale, &p->input_fc_multiplier[g],
            &p->input_fc_shift[g]);
    if (st == ETPU_OK)
      st = qm((double)s->hidden * (double)s->recurrent_weights[g] / gate_scale, &p->recurrent_fc_multiplier[g],
              &p->recurrent_fc_shift[g]);
  }
  if (st == ETPU_OK)
    st = qm(nonlinear_out * (double)s->cell / (double)s->cell, &p->forget_cell_multiplier, &p->forget_cell_shift);
  if (st == ETPU_OK)
    st = qm(nonlinear_out * nonlinear_out / (double)s->cell, &p->input_cell_multiplier, &p->input_cell_shift);
  if (st == ETPU_OK)
    st = qm(nonlinear_out * nonlinear_out / (double)s->hidden, &p->hidden_multiplier, &p->hidden_shift);
  if (st != ETPU_OK) return st;
  /* TFLite CheckedLog2: log(x)·(1/log 2) in float, rounded half away. */
  const float l2 = logf(s->cell) * (1.0f / logf(2.0f));
  p->cell_scale_power = (int32_t)roundf(l2);
  if (p->cell_scale_power < -30 || p->cell_scale_power > 0)
    return etpu_fail(ETPU_UNSUPPORTED, "lstm: cell state scale %g is out of range", (double)s->cell);
  double clip = (double)s->cell_clip / (double)s->cell;
  clip = clip < -32768.0 ? -32768.0 : (clip > 32767.0 ? 32767.0 : clip);
  p->cell_clip = s->cell_clip > 0.0f ? (int16_t)clip : 0;
  p->input_zero_point = s->input_zero_point;
  p->hidden_zero_point = s->hidden_zero_point;
  return ETPU_OK;
}

/* ---- shared checks and stepping ------------------------------------------- */

static etpu_status check_dims(const char *k, const etpu_lstm_dims *d) {
  if (!d) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL dims", k);
  if (d->batch < 1 || d->time_steps < 1 || d->input_dim < 1 || d->state_dim < 1 || d->state_dim > (1 << 20) ||
      d->input_dim > (1 << 20))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: batch %d, steps %d, input %d, state %d out of range", k, d->batch,
                     d->time_steps, d->input_dim, d->state_dim);
  return ETPU_OK;
}

/* Rows processed per step: all batches when time-major, else one. */
static int32_t step_rows(const etpu_lstm_dims *d) { return d->time_major ? d->batch : 1; }

static size_t buffer_size(const etpu_lstm_dims *d, size_t elem) {
  if (!d || d->batch < 1 || d->state_dim < 1) return 0;
  return 4 * (size_t)step_rows(d) * (size_t)d->state_dim * elem;
}

size_t etpu_lstm_s8_get_buffer_size(const etpu_lstm_dims *dims) { return buffer_size(dims, sizeof(int16_t)); }
size_t etpu_lstm_f32_get_buffer_size(const etpu_lstm_dims *dims) { return buffer_size(dims, sizeof(float)); }

/* ---- int8 ----------------------------------------------------------------- */

static inline int16_t sat16(int32_t v) { return (int16_t)(v < -32768 ? -32768 : (v > 32767 ? 32767 : v)); }

/* out[r][s] = sat16(MBQM(Σ w[s][k]·(x[r][k] − zp) + bias[s])), int16, zp 0. */
static void fc_s8_s16(int32_t rows, int32_t depth, int32_t units, const int8_t *x, int32_t zp, const int8_t *w,
                      const int32_t *bias, int32_t mult, int32_t shift, int16_t *out) {
  for (int32_t r = 0; r < rows; r++)
    for (int32_t s = 0; s < units; s++) {
      int32_t acc = 0;
      const int8_t *wr = w + (size_t)s * (size_t)depth, *xr = x + (size_t)r * (size_t)depth;
      for (int32_t k = 0; k < depth; k++) acc += (int32_t)wr[k] * ((int32_t)xr[k] - zp);
      if (bias) acc += bias[s];
      out[(size_t)r * (size_t)units + (size_t)s] = sat16(etpu_mbqm_double_round(acc, mult, shift));
    }
}

/* One gate for `rows` rows: FC of the input (with bias) + FC of the hidden
 * state, saturating add, activation. */
static void gate_s8(const etpu_lstm_dims *d, const etpu_lstm_s8_params *p, const etpu_lstm_s8_data *t, int g,
                    const int8_t *x, const int8_t *h, int16_t *out, int16_t *tmp, bool is_tanh) {
  const int32_t rows = step_rows(d), n = rows * d->state_dim;
  fc_s8_s16(rows, d->input_dim, d->state_dim, x, p->input_zero_point, t->input_weights[g], t->bias[g],
            p->input_fc_multiplier[g], p->input_fc_shift[g], out);
  fc_s8_s16(rows, d->state_dim, d->state_dim, h, p->hidden_zero_point, t->recurrent_weights[g], NULL,
            p->recurrent_fc_multiplier[g], p->recurrent_fc_shift[g], tmp);
  for (int32_t i = 0; i < n; i++) out[i] = sat16((int32_t)out[i] + tmp[i]);
  if (is_tanh) etpu_lstm_tanh_s16(-12, (size_t)n, out, out);
  else etpu_lstm_sigmoid_s16((size_t)n, out, out);
}

etpu_status etpu_lstm_s8(const etpu_lstm_dims *dims, const etpu_lstm_s8_params *params, const etpu_lstm_s8_data *data,
                         void *scratch, size_t scratch_size) {
  const char *k = "etpu_lstm_s8";
  etpu_status st = check_dims(k, dims);
  if (st != ETPU_OK) return st;
  if (!params || !data || !data->input || !data->hidden_state || !data->cell_state || !data->output || !scratch)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  for (int g = 0; g < 4; g++)
    if (!data->input_weights[g] || !data->recurrent_weights[g])
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: gate %d has no weights", k, g);
  if (scratch_size < etpu_lstm_s8_get_buffer_size(dims))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes; needs %zu", k, scratch_size,
                     etpu_lstm_s8_get_buffer_size(dims));
  if (params->cell_scale_power < -30 || params->cell_scale_power > 0)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: cell scale power %d out of range", k, params->cell_scale_power);
  const int32_t rows = step_rows(dims), S = dims->state_dim, I = dims->input_dim, n = rows * S;
  int16_t *b0 = scratch, *b1 = b0 + n, *b2 = b1 + n, *b3 = b2 + n;
  const int32_t outer = dims->time_major ? 1 : dims->batch;
  for (int32_t b = 0; b < outer; b++) {
    int8_t *h = data->hidden_state + (size_t)b * (size_t)S;
    int16_t *c = data->cell_state + (size_t)b * (size_t)S;
    for (int32_t t = 0; t < dims->time_steps; t++) {
      const size_t step = dims->time_major ? (size_t)t : (size_t)b * (size_t)dims->time_steps + (size_t)t;
      const int8_t *x = data->input + step * (size_t)rows * (size_t)I;
      int16_t *f = b0, *in = b1, *g = b2;
      gate_s8(dims, params, data, ETPU_LSTM_FORGET_GATE, x, h, f, b3, false);
      gate_s8(dims, params, data, ETPU_LSTM_INPUT_GATE, x, h, in, b3, false);
      gate_s8(dims, params, data, ETPU_LSTM_CELL_GATE, x, h, g, b3, true);
      for (int32_t i = 0; i < n; i++) {
        const int32_t fc = sat16(etpu_mbqm_double_round((int32_t)f[i] * c[i], params->forget_cell_multiplier,
                                                        params->forget_cell_shift));
        const int32_t ig = sat16(etpu_mbqm_double_round((int32_t)in[i] * g[i], params->input_cell_multiplier,
                                                        params->input_cell_shift));
        int16_t v = sat16(fc + ig);
        if (params->cell_clip > 0) {
          const int16_t lim = params->cell_clip;
          v = v > lim ? lim : (v < -lim ? (int16_t)-lim : v);
        }
        c[i] = v;
      }
      int16_t *o = b1;
      gate_s8(dims, params, data, ETPU_LSTM_OUTPUT_GATE, x, h, o, b3, false);
      etpu_lstm_tanh_s16(params->cell_scale_power, (size_t)n, c, b0);
      for (int32_t i = 0; i < n; i++) {
        int32_t v = etpu_mbqm_double_round((int32_t)b0[i] * o[i], params->hidden_multiplier, params->hidden_shift) +
                    params->hidden_zero_point;
        h[i] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
      }
      memcpy(data->output + step * (size_t)n, h, (size_t)n);
    }
  }
  return ETPU_OK;
}

/* ---- float32 -------------------------------------------------------------- */

static void fc_f32(int32_t rows, int32_t depth, int32_t units, const float *x, const float *w, const float *bias,
                   float *out) {
  for (int32_t r = 0; r < rows; r++)
    for (int32_t s = 0; s < units; s++) {
      float acc = 0.0f;
      const float *wr = w + (size_t)s * (size_t)depth, *xr = x + (size_t)r * (size_t)depth;
      for (int32_t k = 0; k < depth; k++) acc += xr[k] * wr[k];
      out[(size_t)r * (size_t)units + (size_t)s] = acc + (bias ? bias[s] : 0.0f);
    }
}

static float sigmoid_f32(float x) {
  /* TFLite's reference float Logistic, with its cut-offs */
  if (x > 16.619047164916992188f) return 1.0f;
  if (x < -9.0f) return expf(x);
  return 1.0f / (1.0f + expf(-x));
}

static void gate_f32(const etpu_lstm_dims *d, const etpu_lstm_f32_data *t, int g, const float *x, const float *h,
                     float *out, float *tmp, bool is_tanh) {
  const int32_t rows = step_rows(d), n = rows * d->state_dim;
  fc_f32(rows, d->input_dim, d->state_dim, x, t->input_weights[g], t->bias[g], out);
  fc_f32(rows, d->state_dim, d->state_dim, h, t->recurrent_weights[g], NULL, tmp);
  for (int32_t i = 0; i < n; i++) {
    const float v = out[i] + tmp[i];
    out[i] = is_tanh ? tanhf(v) : sigmoid_f32(v);
  }
}

etpu_status etpu_lstm_f32(const etpu_lstm_dims *dims, float cell_clip, const etpu_lstm_f32_data *data, void *scratch,
                          size_t scratch_size) {
  const char *k = "etpu_lstm_f32";
  etpu_status st = check_dims(k, dims);
  if (st != ETPU_OK) return st;
  if (!data || !data->input || !data->hidden_state || !data->cell_state || !data->output || !scratch)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: NULL argument", k);
  for (int g = 0; g < 4; g++)
    if (!data->input_weights[g] || !data->recurrent_weights[g])
      return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: gate %d has no weights", k, g);
  if (scratch_size < etpu_lstm_f32_get_buffer_size(dims))
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: scratch of %zu bytes; needs %zu", k, scratch_size,
                     etpu_lstm_f32_get_buffer_size(dims));
  const int32_t rows = step_rows(dims), S = dims->state_dim, I = dims->input_dim, n = rows * S;
  float *b0 = scratch, *b1 = b0 + n, *b2 = b1 + n, *b3 = b2 + n;
  const int32_t outer = dims->time_major ? 1 : dims->batch;
  for (int32_t b = 0; b < outer; b++) {
    float *h = data->hidden_state + (size_t)b * (size_t)S;
    float *c = data->cell_state + (size_t)b * (size_t)S;
    for (int32_t t = 0; t < dims->time_steps; t++) {
      const size_t step = dims->time_major ? (size_t)t : (size_t)b * (size_t)dims->time_steps + (size_t)t;
      const float *x = data->input + step * (size_t)rows * (size_t)I;
      gate_f32(dims, data, ETPU_LSTM_FORGET_GATE, x, h, b0, b3, false);
      gate_f32(dims, data, ETPU_LSTM_INPUT_GATE, x, h, b1, b3, false);
      gate_f32(dims, data, ETPU_LSTM_CELL_GATE, x, h, b2, b3, true);
      for (int32_t i = 0; i < n; i++) {
        /* two products and a sum, each rounded (no fused multiply-add) */
        const float fc = b0[i] * c[i];
        const float ig = b1[i] * b2[i];
        float v = fc + ig;
        if (cell_clip > 0.0f) v = v > cell_clip ? cell_clip : (v < -cell_clip ? -cell_clip : v);
        c[i] = v;
      }
      gate_f32(dims, data, ETPU_LSTM_OUTPUT_GATE, x, h, b1, b3, false);
      for (int32_t i = 0; i < n; i++) h[i] = tanhf(c[i]) * b1[i];
      memcpy(data->output + step * (size_t)n, h, (size_t)n * sizeof(float));
    }
  }
  return ETPU_OK;
}
