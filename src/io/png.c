/*
 * png.c — PNG decoding through libpng (Debian's libpng-dev), with Pillow's
 * conversions: palette and low-bit gray expanded to 8 bits, 16-bit samples
 * reduced to their high byte, alpha dropped (not composited), gamma and
 * colour chunks ignored. Gray stays 1 channel, everything else becomes RGB.
 *
 * libpng checks every chunk's CRC and the zlib stream; its errors arrive
 * through png_error, which longjmps back here with the message kept in the
 * job. Before any pixel memory is allocated the IHDR dimensions are checked
 * against the file: a zlib stream cannot inflate to more than 1032 times its
 * size, so an image whose filtered rows need more bytes than that allows is
 * rejected as claiming more than the file holds. All of libpng's memory goes
 * through etpu's allocator hook.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "io/io.h"

/* Everything the longjmp must not clobber lives here, behind a pointer. */
typedef struct png_job {
  const uint8_t *data;
  size_t size, pos;
  const char *label;
  char msg[300];
  bool oom;
  etpu_status status; /* set when failing for our own reasons */
  etpu_image *img;
  png_bytep *rows;
} png_job;

static void job_read(png_structp png, png_bytep out, size_t len) {
  png_job *j = png_get_io_ptr(png);
  if (len > j->size - j->pos) png_error(png, "truncated: the file ends inside a chunk");
  memcpy(out, j->data + j->pos, len);
  j->pos += len;
}

static void job_error(png_structp png, png_const_charp msg) {
  png_job *j = png_get_error_ptr(png);
  if (j->msg[0] == 0) snprintf(j->msg, sizeof j->msg, "%s", msg);
  png_longjmp(png, 1);
}

static void job_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* ancillary-chunk problems: the image itself is intact */
}

static png_voidp job_malloc(png_structp png, png_alloc_size_t size) {
  void *p = etpu_malloc(size);
  if (!p) {
    png_job *j = png_get_mem_ptr(png);
    if (j) j->oom = true;
  }
  return p;
}

static void job_free(png_structp png, png_voidp ptr) {
  (void)png;
  etpu_free(ptr);
}

/* Fail from inside the setjmp region with our own status and message. */
static void job_fail(png_structp png, png_job *j, etpu_status st) {
  j->status = st;
  png_longjmp(png, 1);
}

static void decode(png_structp png, png_infop info, png_job *j) {
  png_set_read_fn(png, j, job_read);
  png_set_user_limits(png, ETPU_IMAGE_MAX_SIDE, ETPU_IMAGE_MAX_SIDE);
  png_read_info(png, info);
  png_uint_32 w, h;
  int depth, color, interlace;
  png_get_IHDR(png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
  uint64_t in_ch = png_get_channels(png, info);
  uint64_t raw_row = ((uint64_t)w * (uint64_t)depth * in_ch + 7u) / 8u + 1u;
  uint64_t raw = raw_row * h + (interlace ? 7u * (uint64_t)h : 0u);
  uint64_t can_hold = 1032u * (uint64_t)j->size + 1024u;
  if (raw > can_hold) {
    snprintf(j->msg, sizeof j->msg,
             "%ux%u at %d bits needs %llu bytes of image data; a %zu-byte file inflates to at most %llu", w, h, depth,
             (unsigned long long)raw, j->size, (unsigned long long)can_hold);
    job_fail(png, j, ETPU_MALFORMED);
  }
  png_set_expand(png);
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  uint32_t ch = png_get_channels(png, info);
  if ((ch != 1 && ch != 3) || png_get_rowbytes(png, info) != (size_t)w * ch) {
    snprintf(j->msg, sizeof j->msg, "unexpected layout after conversion (%u channels)", ch);
    job_fail(png, j, ETPU_UNSUPPORTED);
  }
  etpu_status st = etpu_io_image_new(w, h, ch, j->label, &j->img);
  if (st != ETPU_OK) job_fail(png, j, st);
  j->rows = etpu_calloc(h, sizeof *j->rows);
  if (!j->rows) {
    j->oom = true;
    png_error(png, "out of memory");
  }
  for (uint32_t y = 0; y < h; y++) j->rows[y] = j->img->pixels + (size_t)y * w * ch;
  png_read_image(png, j->rows);
}

etpu_status etpu_io_png_decode(const uint8_t *data, size_t size, const char *label, etpu_image **out) {
  png_job job;
  memset(&job, 0, sizeof job);
  job.data = data;
  job.size = size;
  job.label = label;
  png_structp png =
      png_create_read_struct_2(PNG_LIBPNG_VER_STRING, &job, job_error, job_warning, &job, job_malloc, job_free);
  if (!png) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: PNG: out of memory", label);
  png_infop info = png_create_info_struct(png);
  if (!info) {
    png_destroy_read_struct(&png, NULL, NULL);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: PNG: out of memory", label);
  }
  png_job *j = &job;
  volatile int failed = 0;
  if (setjmp(png_jmpbuf(png)) == 0)
    decode(png, info, j);
  else
    failed = 1;
  png_destroy_read_struct(&png, &info, NULL);
  etpu_free(j->rows);
  if (failed) {
    etpu_image_free(j->img);
    if (j->status != ETPU_OK) {
      /* etpu_io_image_new already set its own message. */
      if (j->msg[0]) return etpu_fail(j->status, "%s: PNG: %s", label, j->msg);
      return j->status;
    }
    if (j->oom) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: PNG: out of memory", label);
    return etpu_fail(ETPU_MALFORMED, "%s: PNG: %s", label, j->msg[0] ? j->msg : "decoding failed");
  }
  *out = j->img;
  return ETPU_OK;
}
