/*
 * metadata.h — reading the TensorFlow Lite *metadata* FlatBuffer (file
 * identifier "M001", the schema of tflite-support's metadata_schema.fbs) that
 * tflite-support stores in a model's "TFLITE_METADATA" entry. Only what etpu
 * uses is read: the input normalization (see metadata.c).
 */
#ifndef ETPU_MODEL_METADATA_H
#define ETPU_MODEL_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"

/* The metadata entry name tflite-support writes. */
#define ETPU_TFLITE_METADATA_NAME "TFLITE_METADATA"

/* The NormalizationOptions of input `input` in the metadata buffer buf[0,
 * size): subgraph_metadata[0].input_tensor_metadata[input].process_units[],
 * the first unit whose options are NormalizationOptions. mean and std are
 * broadcast to one count (a single value stands for every channel): *count_out
 * values go to mean_out[] and std_out[]. ETPU_OK with *count_out = 0 when the
 * buffer records no normalization for that input. Errors: ETPU_MALFORMED (a
 * bounds, alignment or offset rule broken on the path read; mean and std of
 * different lengths; a std <= 0 or a value not finite), ETPU_UNSUPPORTED (an
 * identifier other than "M001"), ETPU_INVALID_ARGUMENT (more than cap
 * values). Messages start "label: TFLITE_METADATA: ". Outputs are untouched on
 * failure. */
etpu_status etpu_meta_input_normalization(const uint8_t *buf, size_t size, const char *label, uint32_t input,
                                          uint32_t cap, float *mean_out, float *std_out, uint32_t *count_out);

/* A new metadata buffer (heap, etpu_free) recording, for each of ninputs
 * graph inputs, NormalizationOptions of count[i] values mean[i][] and std[i][]
 * (count[i] 0: the input gets an empty TensorMetadata); the layout is drawn
 * in metadata.c. ETPU_OUT_OF_MEMORY. */
etpu_status etpu_meta_build_normalization(uint32_t ninputs, const uint32_t *count, const float *const *mean,
                                          const float *const *std, uint8_t **data_out, size_t *size_out);

#endif
