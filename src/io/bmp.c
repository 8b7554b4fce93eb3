/*
 * bmp.c — Windows BMP decoding, written by hand (README, "Written by hand,
 * and why": Debian ships no maintained C library that reads BMP alone).
 *
 * The format, all little-endian:
 *
 *   offset  size  field
 *   ------  ----  ---------------------------------------------------------
 *   0       2     "BM"
 *   2       4     file size (often wrong in the wild: not checked)
 *   10      4     offset of the pixel array from the start of the file
 *   14      4     DIB header size: 12 (OS/2 core), 40 (INFO), 52, 56, 108
 *                 (V4), 124 (V5)
 *   core:   18 u16 width, 20 u16 height, 22 u16 planes, 24 u16 bits
 *   INFO+:  18 i32 width, 22 i32 height (< 0: rows stored top-down),
 *           26 u16 planes (1), 28 u16 bits per pixel (1 4 8 16 24 32),
 *           30 u32 compression (0 = none, 3 = bit fields, 6 = bit fields
 *           with alpha; RLE and embedded JPEG/PNG are not handled),
 *           46 u32 colours used (0 = 2^bits)
 *   masks:  red, green, blue u32 at 54 (inside V4/V5 headers, or right
 *           after a 40-byte header when compression is 3 or 6)
 *   palette after the DIB header: B G R x per entry (B G R for core)
 *   pixels: rows padded to 4 bytes, bottom row first unless height < 0;
 *           24-bit B G R, 32-bit B G R x, 16-bit x R5 G5 B5 by default.
 *
 * Every size is checked in 64-bit arithmetic against the real file before
 * anything is allocated: a header that claims more pixels than the file
 * holds is "truncated", never a large allocation.
 */
#include <stdio.h>
#include <string.h>

#include "io/io.h"

static etpu_status bad(etpu_status st, const char *label, const char *fmt, ...) ETPU_PRINTF(3, 4);
static etpu_status bad(etpu_status st, const char *label, const char *fmt, ...) {
  char msg[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return etpu_fail(st, "%s: BMP: %s", label, msg);
}

/* A colour channel held in a bit mask. */
typedef struct mask_field {
  uint32_t mask, shift, bits;
} mask_field;

static etpu_status mask_init(const char *label, const char *name, uint32_t mask, mask_field *f) {
  if (mask == 0) return bad(ETPU_MALFORMED, label, "the %s bit mask is zero", name);
  uint32_t shift = 0;
  while (!((mask >> shift) & 1u)) shift++;
  uint32_t v = mask >> shift, bits = 0;
  while (v & 1u) {
    v >>= 1;
    bits++;
  }
  if (v != 0) return bad(ETPU_MALFORMED, label, "the %s bit mask 0x%08x is not one run of bits", name, mask);
  f->mask = mask;
  f->shift = shift;
  f->bits = bits;
  return ETPU_OK;
}

static uint8_t mask_get(const mask_field *f, uint32_t px) {
  uint32_t v = (px & f->mask) >> f->shift;
  if (f->bits >= 8) return (uint8_t)(v >> (f->bits - 8));
  uint32_t max = (1u << f->bits) - 1u;
  return (uint8_t)((v * 255u + max / 2u) / max);
}

etpu_status etpu_io_bmp_decode(const uint8_t *d, size_t n, const char *label, etpu_image **out) {
  if (n < 2 || d[0] != 'B' || d[1] != 'M') return bad(ETPU_MALFORMED, label, "no 'BM' signature");
  if (n < 18) return bad(ETPU_MALFORMED, label, "truncated: %zu bytes; the file header needs 18", n);
  uint64_t pix_off = etpu_io_rd32(d + 10);
  uint32_t hs = etpu_io_rd32(d + 14);
  if (hs != 12 && hs != 40 && hs != 52 && hs != 56 && hs != 108 && hs != 124)
    return bad(ETPU_UNSUPPORTED, label, "DIB header of %u bytes; etpu reads 12, 40, 52, 56, 108 and 124", hs);
  if ((uint64_t)14 + hs > n)
    return bad(ETPU_MALFORMED, label, "truncated: the %u-byte DIB header ends past the file's %zu bytes", hs, n);
  const uint8_t *h = d + 14;
  int64_t width, height;
  uint32_t planes, bpp, compression = 0, colors_used = 0, entry = 4;
  if (hs == 12) {
    width = etpu_io_rd16(h + 4);
    height = etpu_io_rd16(h + 6);
    planes = etpu_io_rd16(h + 8);
    bpp = etpu_io_rd16(h + 10);
    entry = 3;
  } else {
    width = (int32_t)etpu_io_rd32(h + 4);
    height = (int32_t)etpu_io_rd32(h + 8);
    planes = etpu_io_rd16(h + 12);
    bpp = etpu_io_rd16(h + 14);
    compression = etpu_io_rd32(h + 16);
    colors_used = etpu_io_rd32(h + 32);
  }
  bool top_down = height < 0;
  if (top_down) height = -height;
  if (width <= 0 || height == 0)
    return bad(ETPU_MALFORMED, label, "dimensions %lldx%lld: both must be at least 1", (long long)width,
               (long long)(top_down ? -height : height));
  if (width > ETPU_IMAGE_MAX_SIDE || height > ETPU_IMAGE_MAX_SIDE)
    return bad(ETPU_MALFORMED, label, "dimensions %lldx%lld exceed etpu's limit of %u per side", (long long)width,
               (long long)height, ETPU_IMAGE_MAX_SIDE);
  if (planes != 1) return bad(ETPU_MALFORMED, label, "%u colour planes; the format requires 1", planes);
  if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
    return bad(bpp == 0 || bpp == 2 || bpp == 64 ? ETPU_UNSUPPORTED : ETPU_MALFORMED, label,
               "%u bits per pixel; etpu reads 1, 4, 8, 16, 24 and 32", bpp);
  if (compression == 1 || compression == 2)
    return bad(ETPU_UNSUPPORTED, label, "RLE%u compression is not supported (uncompressed or bit fields only)",
               compression == 1 ? 8 : 4);
  if (compression == 4 || compression == 5)
    return bad(ETPU_UNSUPPORTED, label, "an embedded %s image is not supported", compression == 4 ? "JPEG" : "PNG");
  if (compression != 0 && compression != 3 && compression != 6)
    return bad(ETPU_MALFORMED, label, "unknown compression %u", compression);
  if (compression != 0 && bpp != 16 && bpp != 32)
    return bad(ETPU_MALFORMED, label, "bit-field compression with %u bits per pixel (16 or 32 only)", bpp);

  /* Colour masks. */
  mask_field mf[3];
  uint64_t table_at = (uint64_t)14 + hs; /* where the palette (or masks after a 40-byte header) start */
  uint32_t masks[3] = {0x7c00u, 0x03e0u, 0x001fu};
  if (bpp == 32) {
    masks[0] = 0x00ff0000u;
    masks[1] = 0x0000ff00u;
    masks[2] = 0x000000ffu;
  }
  if (compression == 3 || compression == 6) {
    const uint8_t *mp;
    if (hs >= 52) {
      mp = h + 40;
    } else {
      uint64_t need = table_at + (compression == 6 ? 16u : 12u);
      if (need > n) return bad(ETPU_MALFORMED, label, "truncated: the colour masks end at byte %llu of %zu",
                               (unsigned long long)need, n);
      mp = d + table_at;
      table_at = need;
    }
    for (int c = 0; c < 3; c++) masks[c] = etpu_io_rd32(mp + 4 * c);
  }
  static const char *const mask_names[3] = {"red", "green", "blue"};
  for (int c = 0; c < 3; c++) {
    etpu_status st = mask_init(label, mask_names[c], masks[c], &mf[c]);
    if (st != ETPU_OK) return st;
  }

  /* Palette. */
  uint8_t pal[256][3];
  uint32_t ncolors = 0;
  bool gray = false;
  if (bpp <= 8) {
    uint32_t max = 1u << bpp;
    ncolors = colors_used == 0 || colors_used > max ? max : colors_used;
    uint64_t end = table_at + (uint64_t)ncolors * entry;
    if (end > n)
      return bad(ETPU_MALFORMED, label, "truncated: the %u-entry palette ends at byte %llu of %zu", ncolors,
                 (unsigned long long)end, n);
    if (end > pix_off)
      return bad(ETPU_MALFORMED, label, "the %u-entry palette ends at byte %llu, past the pixel data at %llu", ncolors,
                 (unsigned long long)end, (unsigned long long)pix_off);
    gray = true;
    for (uint32_t i = 0; i < ncolors; i++) {
      const uint8_t *e = d + table_at + (size_t)i * entry;
      pal[i][0] = e[2];
      pal[i][1] = e[1];
      pal[i][2] = e[0];
      if (e[0] != e[1] || e[1] != e[2]) gray = false;
    }
  }
  if (pix_off < table_at && bpp > 8)
    return bad(ETPU_MALFORMED, label, "pixel data offset %llu lies inside the headers (which end at %llu)",
               (unsigned long long)pix_off, (unsigned long long)table_at);

  /* Pixel array: all of it must be in the file. */
  uint64_t row_bytes = (((uint64_t)width * bpp + 31u) / 32u) * 4u;
  uint64_t need = row_bytes * (uint64_t)height;
  if (pix_off > n || need > n - pix_off)
    return bad(ETPU_MALFORMED, label,
               "truncated: %lldx%lld at %u bits needs %llu bytes of pixels from offset %llu; the file has %zu bytes",
               (long long)width, (long long)height, bpp, (unsigned long long)need, (unsigned long long)pix_off, n);

  uint32_t ch = gray ? 1u : 3u;
  etpu_image *img;
  etpu_status st = etpu_io_image_new((uint32_t)width, (uint32_t)height, ch, label, &img);
  if (st != ETPU_OK) return st;
  uint32_t w = (uint32_t)width, hh = (uint32_t)height;
  for (uint32_t y = 0; y < hh; y++) {
    const uint8_t *row = d + pix_off + row_bytes * (top_down ? y : hh - 1u - y);
    uint8_t *o = img->pixels + (size_t)y * w * ch;
    for (uint32_t x = 0; x < w; x++) {
      if (bpp <= 8) {
        uint32_t idx;
        if (bpp == 8)
          idx = row[x];
        else if (bpp == 4)
          idx = (row[x >> 1] >> ((x & 1u) ? 0 : 4)) & 0x0fu;
        else
          idx = (row[x >> 3] >> (7u - (x & 7u))) & 1u;
        if (idx >= ncolors) {
          etpu_image_free(img);
          return bad(ETPU_MALFORMED, label, "pixel (%u, %u) uses colour %u; the palette has %u entries", x, y, idx,
                     ncolors);
        }
        if (gray) {
          o[x] = pal[idx][0];
        } else {
          memcpy(o + 3 * (size_t)x, pal[idx], 3);
        }
      } else if (bpp == 24) {
        o[3 * x] = row[3 * x + 2];
        o[3 * x + 1] = row[3 * x + 1];
        o[3 * x + 2] = row[3 * x];
      } else {
        uint32_t px = bpp == 16 ? etpu_io_rd16(row + 2 * x) : etpu_io_rd32(row + 4 * x);
        for (int c = 0; c < 3; c++) o[3 * x + (uint32_t)c] = mask_get(&mf[c], px);
      }
    }
  }
  *out = img;
  return ETPU_OK;
}
