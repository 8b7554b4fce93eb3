/*
 * lstm.h — etpu's reference UNIDIRECTIONAL_SEQUENCE_LSTM kernels
 * (src/kernels/ref/lstm.c): the standard (Keras) LSTM — four gates, no
 * peepholes, no projection, no layer norm — in two forms:
 *
 *  - int8 activations, int8 weights, int32 biases, int16 cell state: TFLite
 *    Micro's integer kernel (lstm_eval.h, "8x8→16"). Each gate is
 *    FC(x_t) + FC(h_{t−1}) into int16 Q3.12 (scale 2^−12), summed with
 *    saturation, then an int16 sigmoid or tanh (a 256-entry table with linear
 *    interpolation) to Q0.15. The cell c = f·c + i·g (int16 multiplies with
 *    double-rounding requantization, saturating add, optional clip), and
 *    h = o·tanh(c) requantized to the int8 hidden state.
 *  - float32: the same steps in float.
 *
 * Gate arrays are ordered input, forget, cell, output. The hidden and cell
 * state are read and updated in place (they persist across invocations).
 * Per time step: the forget, input and cell gates, the cell update, then the
 * output gate (from the previous hidden state) and the hidden state, which
 * is copied to the output. Batch-major input [B, T, I] runs batch by batch;
 * time-major [T, B, I] runs all batches per step.
 *
 * Kernels never allocate: the caller passes scratch memory of at least
 * etpu_lstm_*_get_buffer_size() bytes (ETPU_INVALID_ARGUMENT if less).
 */
#ifndef ETPU_KERNELS_LSTM_H
#define ETPU_KERNELS_LSTM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"

enum { ETPU_LSTM_INPUT_GATE = 0, ETPU_LSTM_FORGET_GATE = 1, ETPU_LSTM_CELL_GATE = 2, ETPU_LSTM_OUTPUT_GATE = 3 };

/* Sizes. Weights are [state_dim, input_dim] and [state_dim, state_dim]. */
typedef struct etpu_lstm_dims {
  int32_t batch;      /* >= 1 */
  int32_t time_steps; /* >= 1 */
  int32_t input_dim;  /* >= 1 */
  int32_t state_dim;  /* >= 1 */
  bool time_major;    /* input [T, B, I] instead of [B, T, I] */
} etpu_lstm_dims;

/* The quantization the integer kernel is built from. */
typedef struct etpu_lstm_scales {
  float input;                /* input scale */
  int32_t input_zero_point;   /* [−128, 127] */
  float input_weights[4];     /* per gate, zero point 0 */
  float recurrent_weights[4]; /* per gate, zero point 0 */
  float hidden;               /* hidden (output) state scale */
  int32_t hidden_zero_point;  /* [−128, 127] */
  float cell;                 /* cell state scale, a power of two (2^−12 usually) */
  float cell_clip;            /* > 0: clip the cell to ±cell_clip; 0: no clip */
} etpu_lstm_scales;

/* Prepared integer parameters (TFLite Micro's PrepareGateParametersInteger). */
typedef struct etpu_lstm_s8_params {
  int32_t input_zero_point;
  int32_t hidden_zero_point;
  int32_t input_fc_multiplier[4]; /* s_in·s_w / 2^−12 */
  int32_t input_fc_shift[4];
  int32_t recurrent_fc_multiplier[4]; /* s_h·s_w / 2^−12 */
  int32_t recurrent_fc_shift[4];
  int32_t forget_cell_multiplier; /* 2^−15·s_c / s_c */
  int32_t forget_cell_shift;
  int32_t input_cell_multiplier;  /* 2^−15·2^−15 / s_c */
  int32_t input_cell_shift;
  int32_t hidden_multiplier;      /* 2^−15·2^−15 / s_h */
  int32_t hidden_shift;
  int32_t cell_scale_power;       /* round(log2 s_c) */
  int16_t cell_clip;              /* quantized clip, 0 = none */
} etpu_lstm_s8_params;

/* ETPU_INVALID_ARGUMENT for a scale that is not finite and > 0;
 * ETPU_UNSUPPORTED for a multiplier out of the kernel's range. */
ETPU_WUR etpu_status etpu_lstm_s8_params_init(const etpu_lstm_scales *scales, etpu_lstm_s8_params *params_out);

/* The tensors of one invocation. */
typedef struct etpu_lstm_s8_data {
  const int8_t *input;                /* [B, T, I] or [T, B, I] */
  const int8_t *input_weights[4];     /* [S, I] each */
  const int8_t *recurrent_weights[4]; /* [S, S] each */
  const int32_t *bias[4];             /* [S] each, or NULL */
  int8_t *hidden_state;               /* [B, S], read and written */
  int16_t *cell_state;                /* [B, S], read and written */
  int8_t *output;                     /* [B, T, S] or [T, B, S] */
} etpu_lstm_s8_data;

size_t etpu_lstm_s8_get_buffer_size(const etpu_lstm_dims *dims);
ETPU_WUR etpu_status etpu_lstm_s8(const etpu_lstm_dims *dims, const etpu_lstm_s8_params *params,
                                  const etpu_lstm_s8_data *data, void *scratch, size_t scratch_size);

/* Float32. */
typedef struct etpu_lstm_f32_data {
  const float *input;
  const float *input_weights[4];
  const float *recurrent_weights[4];
  const float *bias[4]; /* or NULL */
  float *hidden_state;
  float *cell_state;
  float *output;
} etpu_lstm_f32_data;

size_t etpu_lstm_f32_get_buffer_size(const etpu_lstm_dims *dims);
/* cell_clip > 0 clips the cell state to ±cell_clip. */
ETPU_WUR etpu_status etpu_lstm_f32(const etpu_lstm_dims *dims, float cell_clip, const etpu_lstm_f32_data *data,
                                   void *scratch, size_t scratch_size);

/* The int16 nonlinearities (exposed for tests): Q3.12 in, Q0.15 out;
 * etpu_lstm_tanh_s16 takes the input's power-of-two scale exponent. */
void etpu_lstm_sigmoid_s16(size_t size, const int16_t *input, int16_t *output);
void etpu_lstm_tanh_s16(int32_t scale_power, size_t size, const int16_t *input, int16_t *output);

#endif /* ETPU_KERNELS_LSTM_H */
