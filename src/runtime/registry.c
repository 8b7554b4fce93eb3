/*
 * registry.c — the table of every op kind etpu's interpreter runs.
 * Each entry is defined in src/runtime/ops/<op>.c; add new ones here.
 */
#include <string.h>

#include "runtime/interp.h"

#define ETPU_KERNEL_LIST(X) \
  X(quantize)               \
  X(dequantize)             \
  X(reshape)                \
  X(squeeze)                \
  X(expand_dims)            \
  X(add)                    \
  X(sub)                    \
  X(mul)                    \
  X(maximum)                \
  X(minimum)                \
  X(squared_difference)     \
  X(div)                    \
  X(floor_div)              \
  X(floor_mod)              \
  X(pow)                    \
  X(sqrt)                   \
  X(rsqrt)                  \
  X(floor)                  \
  X(abs)                    \
  X(cast)                   \
  X(average_pool_2d)        \
  X(max_pool_2d)            \
  X(mean)                   \
  X(sum)                    \
  X(reduce_max)             \
  X(reduce_min)             \
  X(arg_max)                \
  X(concatenation)          \
  X(pack)                   \
  X(split)                  \
  X(split_v)                \
  X(unpack)                 \
  X(pad)                    \
  X(padv2)                  \
  X(mirror_pad)             \
  X(tile)                   \
  X(shape)                  \
  X(space_to_batch_nd)      \
  X(batch_to_space_nd)      \
  X(slice)                  \
  X(strided_slice)          \
  X(transpose)              \
  X(gather)                 \
  X(gather_nd)              \
  X(softmax)                \
  X(logistic)               \
  X(tanh)                   \
  X(l2_normalization)       \
  X(relu)                   \
  X(relu6)                  \
  X(relu_n1_to_1)           \
  X(leaky_relu)             \
  X(prelu)                  \
  X(hard_swish)             \
  X(resize_bilinear)        \
  X(resize_nearest_neighbor)\
  X(unidirectional_sequence_lstm)\
  X(detection_postprocess)  \
  X(posenet_decoder)        \
  X(transpose_conv_bias)    \
  X(edgetpu_custom)         \
  X(conv_2d)                \
  X(depthwise_conv_2d)      \
  X(transpose_conv)         \
  X(fully_connected)

#define ETPU_X_(name) extern const etpu_kernel_reg etpu_reg_##name;
ETPU_KERNEL_LIST(ETPU_X_)
#undef ETPU_X_

static const etpu_kernel_reg *const k_regs[] = {
#define ETPU_X_(name) &etpu_reg_##name,
    ETPU_KERNEL_LIST(ETPU_X_)
#undef ETPU_X_
};

const etpu_kernel_reg *etpu_find_kernel(int32_t code, const char *custom_code) {
  for (size_t i = 0; i < sizeof k_regs / sizeof k_regs[0]; i++) {
    const etpu_kernel_reg *r = k_regs[i];
    if (r->code != code) continue;
    if (code == ETPU_OP_CUSTOM && (!custom_code || !r->custom_code || strcmp(custom_code, r->custom_code) != 0)) continue;
    return r;
  }
  return NULL;
}
