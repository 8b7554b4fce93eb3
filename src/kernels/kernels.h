/*
 * kernels.h — etpu's compute kernels for CONV_2D, DEPTHWISE_CONV_2D,
 * FULLY_CONNECTED and TRANSPOSE_CONV (int8, uint8, float32): structured
 * parameters, the reference (scalar) kernels of src/kernels/ref/, and the
 * TFLite output-size and padding rule the caller uses to fill them.
 *
 * The reference kernels are bit-exact with TensorFlow Lite Micro's reference
 * int8 kernels when given ETPU_REQUANT_DOUBLE_ROUND (profile tflite-ref,
 * TFLITE.md §7.2, §9.1); the requantization mode is a parameter, so the same
 * kernels serve the litert profile's single-rounding and fp32 forms.
 *
 * Conventions (shared with CMSIS-NN's int8 kernels):
 *  - Activations are NHWC, row-major, described by an etpu_dims.
 *  - input_offset = −input_zero_point, added to every input value before the
 *    multiply: in [−127, 128] for int8. output_offset = output_zero_point, in
 *    [−128, 127]. filter zero points of int8 weights are 0 (TFLITE.md §5), so
 *    conv and depthwise have none; fully connected takes filter_offset.
 *  - Window positions outside the input are skipped (the same as padding
 *    with the input zero point). pad_h / pad_w are the top / left padding;
 *    the bottom / right padding is implied by the output size.
 *  - Each output channel c has an etpu_requant (requant.h); the table has one
 *    entry per output channel, or a single entry used for all (per tensor).
 *  - acc = bias[c] + Σ w·(x + input_offset) in int32 (wrapping like TFLite if
 *    a pathological model overflows it); out = clamp(requant(acc) +
 *    output_offset, activation_min, activation_max).
 *  - Kernels never allocate. Only the integer TRANSPOSE_CONV kernels need
 *    scratch memory, sized by etpu_transpose_conv_get_buffer_size().
 *  - Every kernel checks its arguments and returns ETPU_INVALID_ARGUMENT
 *    (with a message in etpu_errmsg()) on NULL pointers, non-positive sizes,
 *    inconsistent dims, out-of-range offsets or an empty activation range,
 *    writing nothing. Otherwise ETPU_OK. Input and output must not overlap.
 */
#ifndef ETPU_KERNELS_KERNELS_H
#define ETPU_KERNELS_KERNELS_H

#include <stdint.h>

#include "etpu/etpu.h"
#include "kernels/requant.h"

/* The shape of a 4-D NHWC tensor (also used for filters, see each kernel). */
typedef struct etpu_dims {
  int32_t n; /* batches (or output channels of a CONV_2D filter) */
  int32_t h; /* height */
  int32_t w; /* width */
  int32_t c; /* channels */
} etpu_dims;

/* Per-output-channel requantization. */
typedef struct etpu_requant_params {
  const etpu_requant *channels; /* count entries, built by etpu_requant_init() */
  int32_t count;                /* number of output channels, or 1 (per tensor) */
  etpu_requant_mode mode;       /* how every entry is applied */
} etpu_requant_params;

/* CONV_2D parameters. */
typedef struct etpu_conv_params {
  int32_t input_offset;   /* −input zero point, [−127, 128] */
  int32_t output_offset;  /* output zero point, [−128, 127] */
  int32_t stride_h;       /* >= 1 */
  int32_t stride_w;       /* >= 1 */
  int32_t pad_h;          /* top padding, >= 0 */
  int32_t pad_w;          /* left padding, >= 0 */
  int32_t dilation_h;     /* >= 1 */
  int32_t dilation_w;     /* >= 1 */
  int32_t activation_min; /* clamp, [−128, 127], <= activation_max */
  int32_t activation_max; /* clamp, [−128, 127] */
} etpu_conv_params;

/* DEPTHWISE_CONV_2D parameters: the conv ones plus the channel multiplier. */
typedef struct etpu_dw_conv_params {
  int32_t input_offset;     /* −input zero point, [−127, 128] */
  int32_t output_offset;    /* output zero point, [−128, 127] */
  int32_t stride_h;         /* >= 1 */
  int32_t stride_w;         /* >= 1 */
  int32_t pad_h;            /* top padding, >= 0 */
  int32_t pad_w;            /* left padding, >= 0 */
  int32_t dilation_h;       /* >= 1 */
  int32_t dilation_w;       /* >= 1 */
  int32_t depth_multiplier; /* >= 1; output channels = input channels × this */
  int32_t activation_min;   /* clamp, [−128, 127], <= activation_max */
  int32_t activation_max;   /* clamp, [−128, 127] */
} etpu_dw_conv_params;

/* FULLY_CONNECTED parameters. */
typedef struct etpu_fc_params {
  int32_t input_offset;   /* −input zero point, [−127, 128] */
  int32_t filter_offset;  /* −weight zero point, [−127, 128]; 0 for int8 models */
  int32_t output_offset;  /* output zero point, [−128, 127] */
  int32_t activation_min; /* clamp, [−128, 127], <= activation_max */
  int32_t activation_max; /* clamp, [−128, 127] */
} etpu_fc_params;

/* CONV_2D, int8 activations and weights, int32 bias.
 *   input_dims  [N, H, W, C_in]; input: N·H·W·C_in int8.
 *   filter_dims [C_out, KH, KW, C_f]; filter: C_out·KH·KW·C_f int8, where
 *               C_in is a multiple of C_f (groups = C_in / C_f; C_out must
 *               be a multiple of groups; output channel oc reads input
 *               channels [g·C_f, (g+1)·C_f) with g = oc / (C_out / groups)).
 *               An ordinary conv has C_f = C_in.
 *   bias        C_out int32, or NULL for none.
 *   output_dims [N, OH, OW, C_out]; output: N·OH·OW·C_out int8. OH and OW
 *               are the caller's (etpu_conv_output_size for TFLite's rule).
 *   quant       count = C_out or 1. */
ETPU_WUR etpu_status etpu_conv2d_s8(const etpu_conv_params *params, const etpu_requant_params *quant,
                                    const etpu_dims *input_dims, const int8_t *input, const etpu_dims *filter_dims,
                                    const int8_t *filter, const int32_t *bias, const etpu_dims *output_dims,
                                    int8_t *output);

/* DEPTHWISE_CONV_2D, int8 activations and weights, int32 bias.
 *   input_dims  [N, H, W, C_in]; input: N·H·W·C_in int8.
 *   filter_dims [1, KH, KW, C_out]; filter: KH·KW·C_out int8, with
 *               C_out = C_in · depth_multiplier; output channel
 *               oc = ic · depth_multiplier + m reads input channel ic.
 *   bias        C_out int32, or NULL for none.
 *   output_dims [N, OH, OW, C_out]; output: N·OH·OW·C_out int8.
 *   quant       count = C_out or 1 (per-channel params on filter dim 3). */
ETPU_WUR etpu_status etpu_depthwise_conv2d_s8(const etpu_dw_conv_params *params, const etpu_requant_params *quant,
                                              const etpu_dims *input_dims, const int8_t *input,
                                              const etpu_dims *filter_dims, const int8_t *filter,
                                              const int32_t *bias, const etpu_dims *output_dims, int8_t *output);

/* FULLY_CONNECTED, int8 activations and weights, int32 bias. The caller
 * flattens TFLite's input to [batches, depth] (batches = elements / depth).
 *   input_dims  [B, 1, 1, D]; input: B·D int8.
 *   filter_dims [U, 1, 1, D]; filter: U·D int8 (TFLite's [units, depth]).
 *   bias        U int32, or NULL for none.
 *   output_dims [B, 1, 1, U]; output: B·U int8.
 *   quant       count = U or 1. */
ETPU_WUR etpu_status etpu_fully_connected_s8(const etpu_fc_params *params, const etpu_requant_params *quant,
                                             const etpu_dims *input_dims, const int8_t *input,
                                             const etpu_dims *filter_dims, const int8_t *filter,
                                             const int32_t *bias, const etpu_dims *output_dims, int8_t *output);

/* ---- uint8 (legacy per-tensor asymmetric) kernels ---------------------- */
/*
 * The uint8 kernels follow TFLite's uint8 reference kernels (TFLITE.md §7.2):
 * both the activations and the weights carry a zero point (Coral's legacy
 * models have weight zero points far from 0), so
 *   acc = bias[c] + Σ (w + filter_offset)·(x + input_offset)
 * with filter_offset = −weight zero point and input_offset = −input zero
 * point, each in [−255, 0]; out = clamp(requant(acc) + output_offset,
 * activation_min, activation_max) with output_offset and the clamp in
 * [0, 255]. Layouts, the requant table and the checks are those of the int8
 * kernels above (per-channel tables are accepted though uint8 models have
 * one entry).
 */

/* CONV_2D uint8 parameters. */
typedef struct etpu_conv_u8_params {
  int32_t input_offset;   /* −input zero point, [−255, 0] */
  int32_t filter_offset;  /* −weight zero point, [−255, 0] */
  int32_t output_offset;  /* output zero point, [0, 255] */
  int32_t stride_h;       /* >= 1 */
  int32_t stride_w;       /* >= 1 */
  int32_t pad_h;          /* top padding, >= 0 */
  int32_t pad_w;          /* left padding, >= 0 */
  int32_t dilation_h;     /* >= 1 */
  int32_t dilation_w;     /* >= 1 */
  int32_t activation_min; /* clamp, [0, 255], <= activation_max */
  int32_t activation_max; /* clamp, [0, 255] */
} etpu_conv_u8_params;

/* DEPTHWISE_CONV_2D uint8 parameters. */
typedef struct etpu_dw_conv_u8_params {
  int32_t input_offset;     /* −input zero point, [−255, 0] */
  int32_t filter_offset;    /* −weight zero point, [−255, 0] */
  int32_t output_offset;    /* output zero point, [0, 255] */
  int32_t stride_h;         /* >= 1 */
  int32_t stride_w;         /* >= 1 */
  int32_t pad_h;            /* top padding, >= 0 */
  int32_t pad_w;            /* left padding, >= 0 */
  int32_t dilation_h;       /* >= 1 */
  int32_t dilation_w;       /* >= 1 */
  int32_t depth_multiplier; /* >= 1; output channels = input channels × this */
  int32_t activation_min;   /* clamp, [0, 255], <= activation_max */
  int32_t activation_max;   /* clamp, [0, 255] */
} etpu_dw_conv_u8_params;

/* FULLY_CONNECTED uint8 parameters. */
typedef struct etpu_fc_u8_params {
  int32_t input_offset;   /* −input zero point, [−255, 0] */
  int32_t filter_offset;  /* −weight zero point, [−255, 0] */
  int32_t output_offset;  /* output zero point, [0, 255] */
  int32_t activation_min; /* clamp, [0, 255], <= activation_max */
  int32_t activation_max; /* clamp, [0, 255] */
} etpu_fc_u8_params;

/* CONV_2D, uint8: dims, groups and bias as etpu_conv2d_s8. */
ETPU_WUR etpu_status etpu_conv2d_u8(const etpu_conv_u8_params *params, const etpu_requant_params *quant,
                                    const etpu_dims *input_dims, const uint8_t *input, const etpu_dims *filter_dims,
                                    const uint8_t *filter, const int32_t *bias, const etpu_dims *output_dims,
                                    uint8_t *output);

/* DEPTHWISE_CONV_2D, uint8: dims and bias as etpu_depthwise_conv2d_s8. */
ETPU_WUR etpu_status etpu_depthwise_conv2d_u8(const etpu_dw_conv_u8_params *params, const etpu_requant_params *quant,
                                              const etpu_dims *input_dims, const uint8_t *input,
                                              const etpu_dims *filter_dims, const uint8_t *filter,
                                              const int32_t *bias, const etpu_dims *output_dims, uint8_t *output);

/* FULLY_CONNECTED, uint8: dims and bias as etpu_fully_connected_s8. */
ETPU_WUR etpu_status etpu_fully_connected_u8(const etpu_fc_u8_params *params, const etpu_requant_params *quant,
                                             const etpu_dims *input_dims, const uint8_t *input,
                                             const etpu_dims *filter_dims, const uint8_t *filter,
                                             const int32_t *bias, const etpu_dims *output_dims, uint8_t *output);

/* ---- float32 kernels ---------------------------------------------------- */
/*
 * Plain float math in TFLite's reference order (reference_ops Conv,
 * DepthwiseConv, FullyConnected): total = Σ x·w in float32, summed over the
 * window (ky, kx, then channels), then out = clamp(total + bias[c],
 * activation_min, activation_max), where the clamp lets NaN through as
 * TFLite's ActivationFunctionWithMinMax does. Layouts as the int8 kernels;
 * window positions outside the input contribute nothing (zero padding).
 */

/* CONV_2D / DEPTHWISE_CONV_2D float32 parameters. depth_multiplier is read
 * by the depthwise kernel only. */
typedef struct etpu_conv_f32_params {
  int32_t stride_h;         /* >= 1 */
  int32_t stride_w;         /* >= 1 */
  int32_t pad_h;            /* top padding, >= 0 */
  int32_t pad_w;            /* left padding, >= 0 */
  int32_t dilation_h;       /* >= 1 */
  int32_t dilation_w;       /* >= 1 */
  int32_t depth_multiplier; /* depthwise: >= 1; ignored by conv */
  float activation_min;     /* clamp, <= activation_max (−FLT_MAX for none) */
  float activation_max;     /* clamp (FLT_MAX for none) */
} etpu_conv_f32_params;

/* FULLY_CONNECTED float32 parameters. */
typedef struct etpu_fc_f32_params {
  float activation_min; /* clamp, <= activation_max */
  float activation_max; /* clamp */
} etpu_fc_f32_params;

/* CONV_2D, float32: dims and groups as etpu_conv2d_s8; bias C_out or NULL. */
ETPU_WUR etpu_status etpu_conv2d_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                     const float *input, const etpu_dims *filter_dims, const float *filter,
                                     const float *bias, const etpu_dims *output_dims, float *output);

/* DEPTHWISE_CONV_2D, float32: dims as etpu_depthwise_conv2d_s8. */
ETPU_WUR etpu_status etpu_depthwise_conv2d_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                               const float *input, const etpu_dims *filter_dims, const float *filter,
                                               const float *bias, const etpu_dims *output_dims, float *output);

/* FULLY_CONNECTED, float32: dims as etpu_fully_connected_s8. */
ETPU_WUR etpu_status etpu_fully_connected_f32(const etpu_fc_f32_params *params, const etpu_dims *input_dims,
                                              const float *input, const etpu_dims *filter_dims, const float *filter,
                                              const float *bias, const etpu_dims *output_dims, float *output);

/* ---- TRANSPOSE_CONV ----------------------------------------------------- */
/*
 * TFLite's reference TransposeConv (TFLITE.md §3 for the inputs): every
 * input pixel (b, iy, ix) scatters x·w into the output window whose top-left
 * corner is (iy·stride_h − pad_h, ix·stride_w − pad_w); positions outside
 * the output are dropped. Integer kernels sum into an int32 scratch of
 * N·OH·OW·C_out values (zeroed first; size from the _get_buffer_size twin),
 * then out = clamp(requant(acc + bias[c]) + output_offset). The float kernel
 * sums into the output itself, then adds the bias and clamps.
 *   input_dims  [N, H, W, C_in]
 *   filter_dims [C_out, KH, KW, C_in] (TFLite's weights tensor; per-channel
 *               quantization on dim 0)
 *   output_dims [N, OH, OW, C_out], from the op's output_shape input.
 */

/* TRANSPOSE_CONV integer parameters (int8: offsets as etpu_conv_params and
 * filter_offset in [−127, 128], 0 for int8 models; uint8: as
 * etpu_conv_u8_params). */
typedef struct etpu_transpose_conv_params {
  int32_t input_offset;   /* −input zero point */
  int32_t filter_offset;  /* −weight zero point */
  int32_t output_offset;  /* output zero point */
  int32_t stride_h;       /* >= 1 */
  int32_t stride_w;       /* >= 1 */
  int32_t pad_h;          /* top padding, >= 0 */
  int32_t pad_w;          /* left padding, >= 0 */
  int32_t activation_min; /* clamp within the type's range */
  int32_t activation_max; /* clamp within the type's range */
} etpu_transpose_conv_params;

/* Scratch bytes the integer TRANSPOSE_CONV kernels need for output_dims
 * (N·OH·OW·C_out int32), or 0 if the dims are invalid or overflow. */
size_t etpu_transpose_conv_get_buffer_size(const etpu_dims *output_dims);

/* TRANSPOSE_CONV, int8. scratch: at least
 * etpu_transpose_conv_get_buffer_size(output_dims) bytes, int32-aligned;
 * less is ETPU_INVALID_ARGUMENT. bias C_out int32 or NULL. */
ETPU_WUR etpu_status etpu_transpose_conv_s8(const etpu_transpose_conv_params *params,
                                            const etpu_requant_params *quant, const etpu_dims *input_dims,
                                            const int8_t *input, const etpu_dims *filter_dims, const int8_t *filter,
                                            const int32_t *bias, const etpu_dims *output_dims, int8_t *output,
                                            int32_t *scratch, size_t scratch_bytes);

/* TRANSPOSE_CONV, uint8; as etpu_transpose_conv_s8 with uint8 ranges. */
ETPU_WUR etpu_status etpu_transpose_conv_u8(const etpu_transpose_conv_params *params,
                                            const etpu_requant_params *quant, const etpu_dims *input_dims,
                                            const uint8_t *input, const etpu_dims *filter_dims, const uint8_t *filter,
                                            const int32_t *bias, const etpu_dims *output_dims, uint8_t *output,
                                            int32_t *scratch, size_t scratch_bytes);

/* TRANSPOSE_CONV, float32 (stride and padding from params; dilation and
 * depth_multiplier ignored). No scratch. */
ETPU_WUR etpu_status etpu_transpose_conv_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                             const float *input, const etpu_dims *filter_dims, const float *filter,
                                             const float *bias, const etpu_dims *output_dims, float *output);

/* MediaPipe's Convolution2DTransposeBias custom op (transpose_conv_bias.cc),
 * float32: every output starts at bias[oc], then receives the TRANSPOSE_CONV
 * scatter in TFLite's reference order; no activation. Stride and padding
 * from params (dilation, depth_multiplier and the clamp ignored). */
ETPU_WUR etpu_status etpu_transpose_conv_bias_f32(const etpu_conv_f32_params *params, const etpu_dims *input_dims,
                                                  const float *input, const etpu_dims *filter_dims,
                                                  const float *filter, const float *bias,
                                                  const etpu_dims *output_dims, float *output);

/* ---- output size and padding (TFLite ComputePaddingHeightWidth) -------- */

/* TensorFlow Lite Padding values. */
typedef enum etpu_padding {
  ETPU_PADDING_SAME = 0,
  ETPU_PADDING_VALID = 1,
} etpu_padding;

/* One spatial axis of a conv or pool window. */
typedef struct etpu_window_axis {
  int32_t in_size;     /* input extent, >= 1 */
  int32_t filter_size; /* window extent, >= 1 */
  int32_t stride;      /* >= 1 */
  int32_t dilation;    /* >= 1 */
} etpu_window_axis;

/* The result for one axis. */
typedef struct etpu_window_geometry {
  int32_t out_size;    /* output extent */
  int32_t pad_before;  /* top / left padding: the kernels' pad_h / pad_w */
  int32_t pad_after;   /* bottom / right padding: pad_before, or one more */
} etpu_window_geometry;

/* With eff = (filter − 1)·dilation + 1:
 *   SAME:  out = (in + stride − 1) / stride
 *   VALID: out = (in − eff + stride) / stride
 *   total = max((out − 1)·stride + eff − in, 0); pad_before = total / 2;
 *   pad_after = total − pad_before.
 * Returns ETPU_INVALID_ARGUMENT (outputs untouched) for an unknown padding,
 * a size below 1, an arithmetic overflow, or an output size below 1 (a VALID
 * window larger than the input). */
ETPU_WUR etpu_status etpu_conv_output_size(etpu_padding padding, const etpu_window_axis *axis,
                                           etpu_window_geometry *geometry_out);

#endif /* ETPU_KERNELS_KERNELS_H */
