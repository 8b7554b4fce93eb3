/*
 * opt.h — etpu's optimized portable-C integer kernels for CONV_2D,
 * DEPTHWISE_CONV_2D and FULLY_CONNECTED, int8 and uint8, bit-exact with the
 * reference kernels of src/kernels/ref/ in every requantization mode.
 *
 * CONV_2D and FULLY_CONNECTED are a GEMM of uint8 im2col rows with int8
 * weights packed once in the micro-kernels' blocks (conv_opt.c, ukernel.h),
 * K bytes per output channel (below the avx2 level, where that is slower:
 * int16 rows x + input_offset and w + filter_offset, conv_s16.c); DEPTHWISE_CONV_2D packs int16 weights
 * w + filter_offset in tiles of 16 channels and a per-channel zero-point
 * correction (dw_opt.c), and its fused micro-kernel sums the taps straight
 * from the input bytes through per-pixel pointers. The innermost loops are the
 * micro-kernels of src/kernels/ukernel/, one per ISA, chosen once
 * (etpu_isa_name(), config.c); every ISA gives the same bytes.
 *
 * Exactness: the reference sums in int64 and wraps to int32 at the end. The
 * optimized kernels sum in wrapping int32, which gives the same value
 * whenever the true sum fits int32; etpu_opt_conv_supported() admits only
 * layers where |bias| + K·255·255 <= INT32_MAX (K = products per output).
 * Each sum is requantized exactly as etpu_requant_output() does (requant.h).
 * Summation order differs from the reference, which integer arithmetic makes
 * irrelevant.
 *
 * Lifecycle (XNNPACK-style, chosen once by the caller at prepare time):
 *   etpu_opt_conv_supported(desc, bias)        → may this layer run here?
 *   etpu_opt_conv_packed_bytes(desc)           → packed weight bytes to allocate
 *   etpu_opt_conv_pack(desc, filter, packed)   → fill them, once
 *   etpu_opt_conv_get_buffer_size(desc)        → scratch bytes (per concurrent caller)
 *   etpu_opt_conv_run(desc, ..., scratch)      → every invoke; never allocates
 *   or, split over threads, etpu_opt_conv_range_count(desc) units given to
 *   etpu_opt_conv_run_range(desc, ..., begin, end) on disjoint ranges.
 */
#ifndef ETPU_KERNELS_OPT_OPT_H
#define ETPU_KERNELS_OPT_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/kernels.h"

/* Which op a descriptor describes. Append-only. */
typedef enum etpu_opt_kind {
  ETPU_OPT_CONV = 0, /* CONV_2D, with groups */
  ETPU_OPT_DW = 1,   /* DEPTHWISE_CONV_2D */
  ETPU_OPT_FC = 2,   /* FULLY_CONNECTED */
} etpu_opt_kind;

/* One integer layer, as the reference kernels see it. */
typedef struct etpu_opt_conv_desc {
  etpu_opt_kind kind;
  bool is_u8;               /* uint8 activations and weights; else int8 */
  etpu_dims in_d;           /* input, as the reference kernel (FC: [batches, 1, 1, depth]) */
  etpu_dims f_d;            /* filter, as the reference kernel (FC: [units, 1, 1, depth]) */
  etpu_dims out_d;          /* output, as the reference kernel (FC: [batches, 1, 1, units]) */
  int32_t stride_h;         /* >= 1 (FC: 1) */
  int32_t stride_w;         /* >= 1 (FC: 1) */
  int32_t pad_h;            /* top padding, >= 0 */
  int32_t pad_w;            /* left padding, >= 0 */
  int32_t dilation_h;       /* >= 1 */
  int32_t dilation_w;       /* >= 1 */
  int32_t depth_multiplier; /* DW: >= 1; others 1 */
  int32_t input_offset;     /* −input zero point: int8 [−127, 128], uint8 [−255, 0] */
  int32_t filter_offset;    /* −weight zero point: int8 CONV/DW 0, FC [−127, 128]; uint8 [−255, 0] */
  int32_t output_offset;    /* output zero point, in the type's range */
  int32_t activation_min;   /* clamp, in the type's range, <= activation_max */
  int32_t activation_max;
} etpu_opt_conv_desc;

/* True if the optimized kernel computes exactly what the reference does for
 * this layer: consistent dims and ranges (as the reference checks them) and
 * no possible int32 overflow given the bias (NULL: none; else C_out values).
 * False means: call the reference kernel. Never fails. */
bool etpu_opt_conv_supported(const etpu_opt_conv_desc *desc, const int32_t *bias);

/* Bytes etpu_opt_conv_pack() writes for a supported descriptor. */
size_t etpu_opt_conv_packed_bytes(const etpu_opt_conv_desc *desc);

/* Pack the weights (filter int8 or uint8 as desc says, in the reference's
 * layout) in the kernels' layout above. packed must be int32-aligned and hold
 * etpu_opt_conv_packed_bytes(desc) bytes. The layout (like the scratch
 * size and unit count below) follows the micro-kernel level chosen once for
 * the process (etpu_isa_name()), so pack and run in the same process.
 * ETPU_INVALID_ARGUMENT on a NULL or misaligned pointer or a descriptor not
 * supported. */
ETPU_WUR etpu_status etpu_opt_conv_pack(const etpu_opt_conv_desc *desc, const void *filter, void *packed);

/* Scratch bytes etpu_opt_conv_run() or one caller of
 * etpu_opt_conv_run_range() needs for this layer (> 0). */
size_t etpu_opt_conv_get_buffer_size(const etpu_opt_conv_desc *desc);

/* Units of work of a layer (GEMM: pixel tiles × groups × column chunks;
 * depthwise: output rows × channel groups): any split of [0, count) over calls of
 * etpu_opt_conv_run_range gives the bytes of one etpu_opt_conv_run. 0 for a
 * descriptor etpu_opt_conv_supported refuses. */
size_t etpu_opt_conv_range_count(const etpu_opt_conv_desc *desc);

/* Run the layer: input and output are int8 or uint8 NHWC as desc says,
 * packed from etpu_opt_conv_pack(), bias C_out int32 or NULL (the one given
 * to etpu_opt_conv_supported), quant as the reference kernel's. packed and
 * scratch must be int32-aligned, scratch hold etpu_opt_conv_get_buffer_size(desc) bytes.
 * ETPU_INVALID_ARGUMENT (nothing written) on a NULL pointer, a scratch too
 * small or a bad quant table. */
ETPU_WUR etpu_status etpu_opt_conv_run(const etpu_opt_conv_desc *desc, const etpu_requant_params *quant,
                                       const void *input, const void *packed, const int32_t *bias, void *output,
                                       void *scratch, size_t scratch_bytes);

/* Like etpu_opt_conv_run, for units [begin, end) of
 * etpu_opt_conv_range_count(desc) only: writes exactly those units' output
 * bytes. scratch is this caller's own (etpu_opt_conv_get_buffer_size bytes);
 * packed, bias and input are only read, so callers on disjoint ranges may run
 * concurrently. ETPU_INVALID_ARGUMENT (nothing written) as etpu_opt_conv_run,
 * or when begin > end or end > the count. */
ETPU_WUR etpu_status etpu_opt_conv_run_range(const etpu_opt_conv_desc *desc, const etpu_requant_params *quant,
                                             const void *input, const void *packed, const int32_t *bias,
                                             void *output, void *scratch, size_t scratch_bytes, size_t begin,
                                             size_t end);

#endif /* ETPU_KERNELS_OPT_OPT_H */
