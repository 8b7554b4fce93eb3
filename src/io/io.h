/*
 * io.h — internals shared by the io stage (src/io/): the image decoders
 * behind etpu_image_decode and the image allocator. The public API is the
 * "Images and tensors" section of etpu.h.
 *
 * Each decoder gets the whole file in memory, checks the format's rules,
 * rejects dimensions the file cannot hold before allocating, and reports
 * "<label>: <FORMAT>: <rule broken>" through etpu_fail.
 */
#ifndef ETPU_IO_IO_H
#define ETPU_IO_IO_H

#include "base/base.h"

/* A new image (one allocation: header then pixels), zeroed. Checks the
 * public limits; `label` names the source in messages. */
etpu_status etpu_io_image_new(uint32_t width, uint32_t height, uint32_t channels, const char *label,
                              etpu_image **image_out);

/* Decoders: data/size is the whole file. */
etpu_status etpu_io_bmp_decode(const uint8_t *data, size_t size, const char *label, etpu_image **image_out);
etpu_status etpu_io_png_decode(const uint8_t *data, size_t size, const char *label, etpu_image **image_out);
etpu_status etpu_io_jpeg_decode(const uint8_t *data, size_t size, const char *label, etpu_image **image_out);

/* Little-endian reads. */
static inline uint16_t etpu_io_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t etpu_io_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

#endif
