/*
 * jpeg.c — JPEG decoding through libjpeg-turbo (Debian's
 * libjpeg62-turbo-dev), the library Pillow itself decodes with, using the
 * same settings (islow IDCT, fancy upsampling), so pixels match what
 * Coral's Python examples feed their models. Gray JPEGs give 1 channel,
 * YCbCr and RGB ones 3; CMYK/YCCK are not handled.
 *
 * libjpeg reports fatal errors through error_exit, which longjmps back here
 * with its message. It reports damaged entropy data (a truncated file, bad
 * Huffman codes, a marker inside the scan) only as warnings and fills the
 * rest with gray; here those warnings are errors, so a damaged file is never
 * passed off as an image. Before decompression the header's dimensions are
 * checked against the file size (at most 4096 pixels per file byte: every
 * 8x8 block costs at least one coded bit per scan, so even a flat picture
 * stays well under that), the progressive scan count is capped, and
 * libjpeg's own working memory is capped.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jpeglib.h>

#include <jerror.h>

#include "io/io.h"

#define JPEG_MAX_PIXELS_PER_BYTE 4096u
#define JPEG_MAX_SCANS 1000

typedef struct jpeg_job {
  struct jpeg_error_mgr err; /* first: libjpeg's pointer is cast back to the job */
  struct jpeg_progress_mgr progress;
  jmp_buf jump;
  char msg[JMSG_LENGTH_MAX + 64];
  etpu_status status;
  const char *label;
  size_t size;
  etpu_image *img;
} jpeg_job;

static void job_exit(j_common_ptr c) {
  jpeg_job *j = (jpeg_job *)(void *)c->err;
  if (j->msg[0] == 0) c->err->format_message(c, j->msg);
  if (j->status == ETPU_OK)
    j->status = c->err->msg_code == JERR_OUT_OF_MEMORY ? ETPU_OUT_OF_MEMORY : ETPU_MALFORMED;
  longjmp(j->jump, 1);
}

/* Warnings that mean the entropy-coded data is damaged. */
static bool is_corrupt_warning(int code) {
  switch (code) {
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
      return true;
    default:
      return false;
  }
}

static void job_emit(j_common_ptr c, int level) {
  if (level < 0 && is_corrupt_warning(c->err->msg_code)) job_exit(c);
}

static void job_output(j_common_ptr c) { (void)c; /* never print */ }

static void job_progress(j_common_ptr c) {
  j_decompress_ptr d = (j_decompress_ptr)c;
  if (d->input_scan_number > JPEG_MAX_SCANS) {
    jpeg_job *j = (jpeg_job *)(void *)c->err;
    snprintf(j->msg, sizeof j->msg, "more than %d scans", JPEG_MAX_SCANS);
    j->status = ETPU_MALFORMED;
    longjmp(j->jump, 1);
  }
}

static void job_stop(jpeg_job *j, etpu_status st) {
  j->status = st;
  longjmp(j->jump, 1);
}

static void decode(j_decompress_ptr ci, jpeg_job *j, const uint8_t *data) {
  jpeg_mem_src(ci, data, (unsigned long)j->size);
  if (jpeg_read_header(ci, TRUE) != JPEG_HEADER_OK) {
    snprintf(j->msg, sizeof j->msg, "no image in the file (tables only)");
    job_stop(j, ETPU_MALFORMED);
  }
  uint64_t w = ci->image_width, h = ci->image_height;
  if (w == 0 || h == 0 || w > ETPU_IMAGE_MAX_SIDE || h > ETPU_IMAGE_MAX_SIDE) {
    snprintf(j->msg, sizeof j->msg, "dimensions %llux%llu: each side must be 1..%u", (unsigned long long)w,
             (unsigned long long)h, ETPU_IMAGE_MAX_SIDE);
    job_stop(j, ETPU_MALFORMED);
  }
  if (w * h > (uint64_t)JPEG_MAX_PIXELS_PER_BYTE * j->size) {
    snprintf(j->msg, sizeof j->msg, "%llux%llu pixels from a %zu-byte file (more than %u pixels per byte)",
             (unsigned long long)w, (unsigned long long)h, j->size, JPEG_MAX_PIXELS_PER_BYTE);
    job_stop(j, ETPU_MALFORMED);
  }
  switch (ci->jpeg_color_space) {
    case JCS_GRAYSCALE:
      ci->out_color_space = JCS_GRAYSCALE;
      break;
    case JCS_YCbCr:
    case JCS_RGB:
      ci->out_color_space = JCS_RGB;
      break;
    default:
      snprintf(j->msg, sizeof j->msg, "colour space %d (CMYK/YCCK or other) is not supported; use RGB or gray",
               (int)ci->jpeg_color_space);
      job_stop(j, ETPU_UNSUPPORTED);
  }
  ci->dct_method = JDCT_ISLOW;
  ci->do_fancy_upsampling = TRUE;
  jpeg_start_decompress(ci);
  uint32_t ch = (uint32_t)ci->output_components;
  if ((ch != 1 && ch != 3) || ci->output_width != w || ci->output_height != h) {
    snprintf(j->msg, sizeof j->msg, "unexpected output layout (%u components)", ch);
    job_stop(j, ETPU_UNSUPPORTED);
  }
  etpu_status st = etpu_io_image_new((uint32_t)w, (uint32_t)h, ch, j->label, &j->img);
  if (st != ETPU_OK) job_stop(j, st);
  while (ci->output_scanline < ci->output_height) {
    JSAMPROW row = j->img->pixels + (size_t)ci->output_scanline * (size_t)w * ch;
    if (jpeg_read_scanlines(ci, &row, 1) != 1) {
      snprintf(j->msg, sizeof j->msg, "decoding stopped at row %u of %llu", ci->output_scanline,
               (unsigned long long)h);
      job_stop(j, ETPU_MALFORMED);
    }
  }
  /* jpeg_finish_decompress is not called: a missing EOI after complete
   * image data is harmless, and the data has been read. */
}

etpu_status etpu_io_jpeg_decode(const uint8_t *data, size_t size, const char *label, etpu_image **out) {
  struct jpeg_decompress_struct ci;
  jpeg_job job;
  memset(&job, 0, sizeof job);
  job.label = label;
  job.size = size;
  ci.err = jpeg_std_error(&job.err);
  job.err.error_exit = job_exit;
  job.err.emit_message = job_emit;
  job.err.output_message = job_output;
  jpeg_job *j = &job;
  j_decompress_ptr cp = &ci;
  if (setjmp(job.jump) != 0) {
    jpeg_destroy_decompress(cp);
    etpu_image_free(j->img);
    if (j->status == ETPU_OUT_OF_MEMORY) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: JPEG: out of memory", label);
    if (!j->msg[0]) return j->status; /* etpu_io_image_new set the message */
    return etpu_fail(j->status, "%s: JPEG: %s", label, j->msg);
  }
  jpeg_create_decompress(cp);
  cp->mem->max_memory_to_use = 3 * (long)ETPU_IMAGE_MAX_BYTES;
  job.progress.progress_monitor = job_progress;
  cp->progress = &job.progress;
  decode(cp, j, data);
  jpeg_destroy_decompress(cp);
  *out = j->img;
  return ETPU_OK;
}
