/*
 * test_io.c — the io stage (src/io/): image decoding, resizing, conversion
 * into input tensors, .npy, raw inputs and label files.
 *
 *  - BMP: every variant etpu reads (1/4/8-bit palettes, gray and colour,
 *    16-bit 5-5-5 and 5-6-5 bit fields, 24-bit, 32-bit with and without
 *    masks, core/INFO/V5 headers, bottom-up and top-down) is written here
 *    from a known pattern and must decode to exactly that pattern; shared
 *    images decode to sizes and pixels read independently (python3's
 *    struct module on the raw files).
 *  - PNG: every colour type and depth, interlaced too, written here with
 *    libpng's writer from a known pattern; shared PNGs against pixels
 *    decoded independently (python3's zlib and the PNG filters by hand).
 *  - JPEG: shared baseline and progressive files against djpeg's output
 *    (libjpeg-turbo-progs, islow IDCT); small JPEGs written here must come
 *    back close to their pattern (orientation and channel order).
 *  - Corrupt files: every truncation and thousands of seeded byte
 *    mutations of each format give a status and a message naming the file,
 *    never a crash (run under ASan in CI); absurd dimensions are refused
 *    before allocating. Allocation failures at every point.
 *  - .npy: round trip of every dtype, hand-written headers, and each rule.
 *
 * `test_io --write-models DIR` writes the small runnable models that
 * tests/run_cli.py drives `etpu run` with.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "testutil.h"

static uint32_t g_rng = 12345u;
static uint32_t rnd(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return g_rng;
}

/* ---- a growable byte buffer --------------------------------------------- */

typedef struct buf {
  uint8_t *d;
  size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->d = realloc(b->d, b->cap);
    if (!b->d) abort();
  }
  memcpy(b->d + b->n, p, n);
  b->n += n;
}
static void put8(buf *b, uint32_t v) {
  uint8_t x = (uint8_t)v;
  put(b, &x, 1);
}
static void put16(buf *b, uint32_t v) {
  put8(b, v & 0xff);
  put8(b, v >> 8);
}
static void put32(buf *b, uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}

/* ---- the test pattern --------------------------------------------------- */

static void pattern_rgb(uint32_t x, uint32_t y, uint8_t *rgb) {
  rgb[0] = (uint8_t)(x * 37u + y * 11u);
  rgb[1] = (uint8_t)(x * 13u + y * 71u);
  rgb[2] = (uint8_t)(x * 5u + y * 3u + 100u);
}

/* A decoded image equals expected (w*h*ch bytes)? Prints the first miss. */
static bool same_pixels(const etpu_image *img, uint32_t w, uint32_t h, uint32_t ch, const uint8_t *exp,
                        const char *what) {
  if (img->width != w || img->height != h || img->channels != ch) {
    fprintf(stderr, "%s: got %ux%ux%u, expected %ux%ux%u\n", what, img->width, img->height, img->channels, w, h, ch);
    return false;
  }
  for (size_t i = 0; i < (size_t)w * h * ch; i++)
    if (img->pixels[i] != exp[i]) {
      size_t px = i / ch;
      fprintf(stderr, "%s: pixel (%zu, %zu) channel %zu: got %u, expected %u\n", what, px % w, px / w, i % ch,
              img->pixels[i], exp[i]);
      return false;
    }
  return true;
}

/* ---- BMP writer --------------------------------------------------------- */

typedef struct bmp_spec {
  uint32_t w, h, bpp, header; /* header: 12, 40, 124 */
  bool top_down;
  uint32_t compression;       /* 0 or 3 */
  uint32_t masks[3];
  uint32_t ncolors;           /* palette entries (bpp <= 8) */
  bool gray;                  /* gray palette */
} bmp_spec;

static void bmp_palette_entry(const bmp_spec *s, uint32_t i, uint8_t *rgb) {
  if (s->gray) {
    uint8_t v = (uint8_t)(s->ncolors > 1 ? i * 255u / (s->ncolors - 1u) : 0);
    rgb[0] = rgb[1] = rgb[2] = v;
  } else {
    rgb[0] = (uint8_t)(i * 7u + 1u);
    rgb[1] = (uint8_t)(i * 13u + 2u);
    rgb[2] = (uint8_t)(i * 29u + 3u);
  }
}

static uint32_t mask_put(uint32_t mask, uint8_t v) {
  uint32_t shift = 0, bits = 0;
  while (!((mask >> shift) & 1u)) shift++;
  while (shift + bits < 32u && ((mask >> (shift + bits)) & 1u)) bits++;
  if (bits >= 8) return (uint32_t)v << (shift + bits - 8u);
  return ((uint32_t)v >> (8u - bits)) << shift;
}

static uint8_t mask_expect(uint32_t mask, uint8_t v) {
  uint32_t bits = 0, shift = 0;
  while (!((mask >> shift) & 1u)) shift++;
  while (shift + bits < 32u && ((mask >> (shift + bits)) & 1u)) bits++;
  if (bits >= 8) return v;
  uint32_t q = (uint32_t)v >> (8u - bits), max = (1u << bits) - 1u;
  return (uint8_t)((q * 255u + max / 2u) / max);
}

/* Write a BMP of the pattern; exp_out gets the pixels a decoder must give. */
static buf bmp_make(const bmp_spec *s, uint8_t **exp_out, uint32_t *ch_out) {
  buf b = {0};
  uint32_t pal_entry = s->header == 12 ? 3u : 4u;
  uint32_t npal = s->bpp <= 8 ? s->ncolors : 0;
  uint32_t extra_masks = (s->header == 40 && s->compression == 3) ? 12u : 0u;
  uint32_t off = 14u + s->header + extra_masks + npal * pal_entry;
  uint32_t row = ((s->w * s->bpp + 31u) / 32u) * 4u;
  put8(&b, 'B');
  put8(&b, 'M');
  put32(&b, off + row * s->h);
  put32(&b, 0);
  put32(&b, off);
  put32(&b, s->header);
  if (s->header == 12) {
    put16(&b, s->w);
    put16(&b, s->h);
    put16(&b, 1);
    put16(&b, s->bpp);
  } else {
    put32(&b, s->w);
    put32(&b, s->top_down ? (uint32_t)-(int32_t)s->h : s->h);
    put16(&b, 1);
    put16(&b, s->bpp);
    put32(&b, s->compression);
    put32(&b, row * s->h);
    put32(&b, 2835);
    put32(&b, 2835);
    put32(&b, s->bpp <= 8 && s->ncolors != (1u << s->bpp) ? s->ncolors : 0);
    put32(&b, 0);
    if (s->header == 124) {
      for (int c = 0; c < 3; c++) put32(&b, s->compression == 3 ? s->masks[c] : 0);
      put32(&b, 0); /* alpha mask */
      for (int k = 0; k < 124 - 56; k++) put8(&b, 0);
    }
    if (extra_masks)
      for (int c = 0; c < 3; c++) put32(&b, s->masks[c]);
  }
  uint8_t rgb[3];
  for (uint32_t i = 0; i < npal; i++) {
    bmp_palette_entry(s, i, rgb);
    put8(&b, rgb[2]);
    put8(&b, rgb[1]);
    put8(&b, rgb[0]);
    if (pal_entry == 4) put8(&b, 0);
  }
  uint32_t ch = (s->bpp <= 8 && s->gray) ? 1u : 3u;
  uint8_t *exp = calloc((size_t)s->w * s->h * ch, 1);
  uint8_t *rowbuf = calloc(row, 1);
  uint32_t m[3] = {s->masks[0], s->masks[1], s->masks[2]};
  if (s->compression != 3) {
    if (s->bpp == 16) m[0] = 0x7c00u, m[1] = 0x03e0u, m[2] = 0x001fu;
    if (s->bpp == 32) m[0] = 0xff0000u, m[1] = 0xff00u, m[2] = 0xffu;
  }
  for (uint32_t fy = 0; fy < s->h; fy++) {
    uint32_t y = s->top_down ? fy : s->h - 1u - fy; /* image row stored at file row fy */
    memset(rowbuf, 0, row);
    for (uint32_t x = 0; x < s->w; x++) {
      uint8_t *e = exp + ((size_t)y * s->w + x) * ch;
      if (s->bpp <= 8) {
        uint32_t idx = (x + 2u * y) % s->ncolors;
        if (s->bpp == 8) rowbuf[x] = (uint8_t)idx;
        if (s->bpp == 4) rowbuf[x / 2] |= (uint8_t)(idx << ((x & 1u) ? 0 : 4));
        if (s->bpp == 1) rowbuf[x / 8] |= (uint8_t)(idx << (7u - (x & 7u)));
        bmp_palette_entry(s, idx, rgb);
        memcpy(e, rgb, ch);
      } else {
        pattern_rgb(x, y, rgb);
        if (s->bpp == 24) {
          rowbuf[3 * x] = rgb[2];
          rowbuf[3 * x + 1] = rgb[1];
          rowbuf[3 * x + 2] = rgb[0];
          memcpy(e, rgb, 3);
        } else {
          uint32_t px = 0;
          for (int c = 0; c < 3; c++) {
            px |= mask_put(m[c], rgb[c]);
            e[c] = mask_expect(m[c], rgb[c]);
          }
          if (s->bpp == 32 && s->compression == 0) px |= 0xab000000u; /* unused byte */
          for (uint32_t k = 0; k < s->bpp / 8; k++) rowbuf[x * (s->bpp / 8) + k] = (uint8_t)(px >> (8 * k));
        }
      }
    }
    put(&b, rowbuf, row);
  }
  free(rowbuf);
  *exp_out = exp;
  *ch_out = ch;
  return b;
}

static const bmp_spec k_bmps[] = {
    {7, 5, 24, 40, false, 0, {0}, 0, false},
    {7, 5, 24, 124, true, 0, {0}, 0, false},
    {9, 4, 32, 40, false, 0, {0}, 0, false},
    {9, 4, 32, 124, false, 3, {0xff000000u, 0x00ff0000u, 0x0000ff00u}, 0, false},
    {6, 3, 32, 40, true, 3, {0x3ff00000u, 0x000ffc00u, 0x000003ffu}, 0, false},
    {5, 6, 16, 40, false, 0, {0}, 0, false},
    {5, 6, 16, 40, false, 3, {0xf800u, 0x07e0u, 0x001fu}, 0, false},
    {13, 3, 8, 40, false, 0, {0}, 256, true},
    {13, 3, 8, 40, true, 0, {0}, 20, false},
    {11, 5, 4, 40, false, 0, {0}, 16, false},
    {11, 5, 4, 40, false, 0, {0}, 6, true},
    {19, 3, 1, 40, false, 0, {0}, 2, true},
    {19, 3, 1, 12, false, 0, {0}, 2, false},
    {8, 8, 24, 12, false, 0, {0}, 0, false},
    {3, 2, 8, 12, false, 0, {0}, 256, false},
    {1, 1, 24, 40, false, 0, {0}, 0, false},
};
#define NBMPS (sizeof k_bmps / sizeof k_bmps[0])

static void test_bmp_variants(void) {
  for (size_t i = 0; i < NBMPS; i++) {
    uint8_t *exp;
    uint32_t ch;
    buf b = bmp_make(&k_bmps[i], &exp, &ch);
    etpu_image *img = NULL;
    char what[80];
    snprintf(what, sizeof what, "bmp variant %zu (%u-bit, header %u%s)", i, k_bmps[i].bpp, k_bmps[i].header,
             k_bmps[i].top_down ? ", top-down" : "");
    etpu_status st = etpu_image_decode(b.d, b.n, what, &img);
    CHECK_MSG(st == ETPU_OK, "%s: %s", what, etpu_errmsg());
    if (st == ETPU_OK) CHECK(same_pixels(img, k_bmps[i].w, k_bmps[i].h, ch, exp, what));
    etpu_image_free(img);
    free(exp);
    free(b.d);
  }
}

/* Shared files: sizes and pixels read independently with python3 (struct on
 * the BMP bytes; zlib + the PNG filters for PNG) and djpeg for JPEG. */
typedef struct pix_ref {
  const char *file;
  uint32_t w, h, ch;
  struct {
    uint32_t x, y;
    uint8_t v[3];
  } px[4];
  uint32_t npx;
} pix_ref;

static const pix_ref k_refs[] = {
    {"coral/cat.bmp", 512, 341, 3, {{0, 0, {223, 124, 82}}, {100, 200, {91, 52, 43}}, {511, 340, {159, 101, 63}}, {256, 170, {176, 94, 55}}}, 4},
    {"coral/mnist_nine.bmp", 28, 28, 1, {{0, 0, {0}}, {14, 14, {32}}, {10, 8, {5}}, {27, 27, {0}}}, 4},
    {"coral/rgb6X4.bmp", 4, 6, 3, {{0, 0, {255, 0, 255}}, {3, 0, {0, 255, 0}}, {0, 5, {0, 0, 0}}, {3, 5, {255, 255, 255}}}, 4},
    {"coral/bird_segmentation_mask.bmp", 513, 513, 1, {{0, 0, {0}}, {256, 256, {3}}}, 2},
    {"coral/squat.bmp", 500, 610, 3, {{0, 0, {20, 20, 20}}, {499, 609, {20, 20, 20}}, {250, 300, {198, 145, 120}}}, 3},
    {"tflite-micro/mnist_lstm_samples/sample0.png", 28, 28, 1, {{0, 0, {0}}, {14, 14, {0}}, {10, 10, {253}}, {27, 27, {0}}}, 4},
    {"float/images/sparrow.png", 1280, 851, 3, {{0, 0, {0, 0, 0}}, {640, 425, {159, 141, 130}}, {1279, 850, {0, 0, 0}}}, 3},
    {"float/images/burger-224.png", 224, 224, 3, {{0, 0, {230, 189, 158}}, {112, 112, {142, 172, 45}}, {223, 223, {106, 68, 62}}}, 3},
    {"coral/face.jpg", 512, 355, 3, {{0, 0, {4, 4, 4}}, {256, 177, {220, 194, 157}}, {511, 354, {195, 198, 203}}, {17, 33, {2, 2, 2}}}, 4},
    {"coral/owl.jpg", 512, 384, 3, {{0, 0, {56, 72, 43}}, {256, 192, {180, 172, 159}}, {511, 383, {37, 73, 9}}, {17, 33, {91, 114, 86}}}, 4},
    {"float/images/cats_and_dogs.jpg", 1200, 600, 3, {{0, 0, {208, 124, 140}}, {600, 300, {251, 177, 194}}, {1199, 599, {219, 140, 162}}, {17, 33, {209, 125, 141}}}, 4},
};

static char *data_path(const char *dir, const char *rel) {
  size_t n = strlen(dir) + strlen(rel) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, rel);
  return p;
}

static void test_shared_images(const char *dir) {
  for (size_t i = 0; i < sizeof k_refs / sizeof k_refs[0]; i++) {
    const pix_ref *r = &k_refs[i];
    char *path = data_path(dir, r->file);
    etpu_image *img = NULL;
    etpu_status st = etpu_image_read(path, &img);
    CHECK_MSG(st == ETPU_OK, "%s: %s", r->file, etpu_errmsg());
    if (st == ETPU_OK) {
      CHECK_MSG(img->width == r->w && img->height == r->h && img->channels == r->ch, "%s: %ux%ux%u", r->file,
                img->width, img->height, img->channels);
      for (uint32_t k = 0; k < r->npx && img->width == r->w && img->height == r->h && img->channels == r->ch; k++) {
        const uint8_t *p = img->pixels + ((size_t)r->px[k].y * r->w + r->px[k].x) * r->ch;
        CHECK_MSG(!memcmp(p, r->px[k].v, r->ch), "%s pixel (%u, %u): got %u %u %u", r->file, r->px[k].x, r->px[k].y,
                  p[0], r->ch > 1 ? p[1] : 0, r->ch > 1 ? p[2] : 0);
      }
    }
    etpu_image_free(img);
    free(path);
  }
  /* Every image of the shared data decodes. */
  static const char *const all[] = {
      "coral/bird.bmp", "coral/dragonfly.bmp", "coral/grace_hopper.bmp", "coral/sunflower.bmp",
      "coral/checker224X224.bmp", "coral/dog_segmentation_mask.bmp", "coral/posenet/mask0.bmp", "coral/hot_dog.jpg",
      "coral/kite_and_cold.jpg", "coral/parrot.jpg", "coral/pets.jpg", "coral/cat_720p.jpg",
      "float/images/multi_objects.jpg", "float/images/burger.jpg", "float/images/segmentation_golden_rotation0.png",
      "tflite-micro/mnist_lstm_samples/resized9.png"};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    char *path = data_path(dir, all[i]);
    etpu_image *img = NULL;
    CHECK_OK(etpu_image_read(path, &img));
    etpu_image_free(img);
    free(path);
  }
}

/* ---- PNG writer (libpng) ------------------------------------------------ */

static void png_put(png_structp p, png_bytep d, size_t n) { put(png_get_io_ptr(p), d, n); }
static void png_flush_nop(png_structp p) { (void)p; }

typedef struct png_spec {
  uint32_t w, h;
  int color, depth;
  bool interlace;
} png_spec;

/* Sample value of channel c at (x, y) for a given depth. */
static uint32_t png_sample(uint32_t x, uint32_t y, int c, int depth) {
  uint32_t v = x * 37u + y * 11u + (uint32_t)c * 91u;
  return depth == 16 ? (v * 257u + 3u) & 0xffffu : v & ((1u << depth) - 1u);
}

static buf png_make(const png_spec *s, uint8_t **exp_out, uint32_t *ch_out) {
  buf b = {0};
  png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(p);
  png_set_write_fn(p, &b, png_put, png_flush_nop);
  png_set_IHDR(p, info, s->w, s->h, s->depth, s->color, s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_color pal[16];
  png_byte trans[16];
  for (int i = 0; i < 16; i++) {
    pal[i].red = (png_byte)(i * 15);
    pal[i].green = (png_byte)(255 - i * 9);
    pal[i].blue = (png_byte)(i * 5 + 7);
    trans[i] = (png_byte)(i * 16);
  }
  if (s->color == PNG_COLOR_TYPE_PALETTE) {
    png_set_PLTE(p, info, pal, 16);
    png_set_tRNS(p, info, trans, 16, NULL);
  }
  png_write_info(p, info);
  int nch = s->color == PNG_COLOR_TYPE_GRAY ? 1
            : s->color == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
            : s->color == PNG_COLOR_TYPE_RGB ? 3
            : s->color == PNG_COLOR_TYPE_RGBA ? 4 : 1;
  uint32_t och = (s->color == PNG_COLOR_TYPE_GRAY || s->color == PNG_COLOR_TYPE_GRAY_ALPHA) ? 1u : 3u;
  uint8_t *exp = calloc((size_t)s->w * s->h * och, 1);
  size_t rowbytes = ((size_t)s->w * (size_t)nch * (size_t)s->depth + 7u) / 8u;
  uint8_t *img = calloc(rowbytes * s->h, 1);
  png_bytep *rows = calloc(s->h, sizeof *rows);
  for (uint32_t y = 0; y < s->h; y++) {
    rows[y] = img + rowbytes * y;
    for (uint32_t x = 0; x < s->w; x++) {
      for (int c = 0; c < nch; c++) {
        uint32_t v = png_sample(x, y, c, s->depth);
        if (s->color == PNG_COLOR_TYPE_PALETTE) v %= 16u;
        size_t bit = ((size_t)x * (size_t)nch + (size_t)c) * (size_t)s->depth;
        if (s->depth == 16) {
          rows[y][bit / 8] = (uint8_t)(v >> 8);
          rows[y][bit / 8 + 1] = (uint8_t)v;
        } else if (s->depth == 8) {
          rows[y][bit / 8] = (uint8_t)v;
        } else {
          rows[y][bit / 8] |= (uint8_t)(v << (8u - (unsigned)s->depth - (bit % 8)));
        }
        uint8_t *e = exp + ((size_t)y * s->w + x) * och;
        if (s->color == PNG_COLOR_TYPE_PALETTE) {
          e[0] = pal[v].red;
          e[1] = pal[v].green;
          e[2] = pal[v].blue;
        } else if ((uint32_t)c < och) {
          uint32_t v8 = s->depth == 16 ? v >> 8 : s->depth == 8 ? v : v * 255u / ((1u << s->depth) - 1u);
          e[c] = (uint8_t)v8;
        }
      }
    }
  }
  png_write_image(p, rows);
  png_write_end(p, info);
  png_destroy_write_struct(&p, &info);
  free(rows);
  free(img);
  *exp_out = exp;
  *ch_out = och;
  return b;
}

static const png_spec k_pngs[] = {
    {9, 7, PNG_COLOR_TYPE_GRAY, 8, false},        {9, 7, PNG_COLOR_TYPE_GRAY, 1, false},
    {9, 7, PNG_COLOR_TYPE_GRAY, 2, false},        {9, 7, PNG_COLOR_TYPE_GRAY, 4, true},
    {9, 7, PNG_COLOR_TYPE_GRAY, 16, false},       {9, 7, PNG_COLOR_TYPE_RGB, 8, false},
    {9, 7, PNG_COLOR_TYPE_RGB, 16, true},         {9, 7, PNG_COLOR_TYPE_RGBA, 8, false},
    {9, 7, PNG_COLOR_TYPE_GRAY_ALPHA, 8, false},  {9, 7, PNG_COLOR_TYPE_PALETTE, 4, false},
    {17, 11, PNG_COLOR_TYPE_PALETTE, 8, true},    {1, 1, PNG_COLOR_TYPE_RGB, 8, false},
};
#define NPNGS (sizeof k_pngs / sizeof k_pngs[0])

static void test_png_variants(void) {
  for (size_t i = 0; i < NPNGS; i++) {
    uint8_t *exp;
    uint32_t ch;
    buf b = png_make(&k_pngs[i], &exp, &ch);
    char what[80];
    snprintf(what, sizeof what, "png variant %zu (type %d, %d-bit%s)", i, k_pngs[i].color, k_pngs[i].depth,
             k_pngs[i].interlace ? ", interlaced" : "");
    etpu_image *img = NULL;
    etpu_status st = etpu_image_decode(b.d, b.n, what, &img);
    CHECK_MSG(st == ETPU_OK, "%s: %s", what, etpu_errmsg());
    if (st == ETPU_OK) CHECK(same_pixels(img, k_pngs[i].w, k_pngs[i].h, ch, exp, what));
    etpu_image_free(img);
    free(exp);
    free(b.d);
  }
}

/* ---- JPEG writer (libjpeg) ---------------------------------------------- */

static buf jpeg_make(uint32_t w, uint32_t h, bool gray, bool progressive) {
  struct jpeg_compress_struct c;
  struct jpeg_error_mgr err;
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char *out = NULL;
  unsigned long outsize = 0;
  jpeg_mem_dest(&c, &out, &outsize);
  c.image_width = w;
  c.image_height = h;
  c.input_components = gray ? 1 : 3;
  c.in_color_space = gray ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&c);
  jpeg_set_quality(&c, 95, TRUE);
  if (progressive) jpeg_simple_progression(&c);
  jpeg_start_compress(&c, TRUE);
  uint8_t *row = malloc((size_t)w * 3);
  while (c.next_scanline < h) {
    uint32_t y = c.next_scanline;
    for (uint32_t x = 0; x < w; x++) {
      /* smooth, so JPEG keeps it within a few levels */
      uint8_t rgb[3] = {(uint8_t)(x * 4u), (uint8_t)(y * 6u), (uint8_t)(200u - x * 2u)};
      if (gray)
        row[x] = (uint8_t)(x * 3u + y * 2u);
      else
        memcpy(row + 3 * x, rgb, 3);
    }
    JSAMPROW r = row;
    jpeg_write_scanlines(&c, &r, 1);
  }
  jpeg_finish_compress(&c);
  jpeg_destroy_compress(&c);
  free(row);
  buf b = {0};
  put(&b, out, outsize);
  free(out);
  return b;
}

static void test_jpeg_variants(void) {
  for (int v = 0; v < 4; v++) {
    bool gray = v & 1, prog = v & 2;
    uint32_t w = 40, h = 24;
    buf b = jpeg_make(w, h, gray, prog);
    etpu_image *img = NULL;
    etpu_status st = etpu_image_decode(b.d, b.n, "made.jpg", &img);
    CHECK_MSG(st == ETPU_OK, "jpeg variant %d: %s", v, etpu_errmsg());
    if (st == ETPU_OK) {
      CHECK(img->width == w && img->height == h && img->channels == (gray ? 1u : 3u));
      int worst = 0;
      for (uint32_t y = 0; y < h && img->width == w; y++)
        for (uint32_t x = 0; x < w; x++) {
          const uint8_t *p = img->pixels + ((size_t)y * w + x) * img->channels;
          int e[3] = {(int)(uint8_t)(x * 4u), (int)(uint8_t)(y * 6u), (int)(uint8_t)(200u - x * 2u)};
          if (gray) e[0] = (int)(uint8_t)(x * 3u + y * 2u);
          for (uint32_t c = 0; c < img->channels; c++) {
            int d = abs((int)p[c] - e[c]);
            if (d > worst) worst = d;
          }
        }
      CHECK_MSG(worst <= 12, "jpeg variant %d differs from its pattern by %d levels", v, worst);
    }
    etpu_image_free(img);
    free(b.d);
  }
}

/* ---- corrupt files ------------------------------------------------------ */

static int g_mutations;

/* Decode must give OK or a rule status with a message naming the file. */
static void decode_survives(const uint8_t *d, size_t n, const char *label, bool npy) {
  g_mutations++;
  etpu_status st;
  if (npy) {
    etpu_npy *a = NULL;
    st = etpu_npy_decode(d, n, label, &a);
    if (st == ETPU_OK) CHECK(a->size <= n);
    etpu_npy_free(a);
  } else {
    etpu_image *img = NULL;
    st = etpu_image_decode(d, n, label, &img);
    if (st == ETPU_OK) CHECK((uint64_t)img->width * img->height * img->channels <= ETPU_IMAGE_MAX_BYTES);
    etpu_image_free(img);
  }
  if (st != ETPU_OK) {
    CHECK_MSG(st == ETPU_MALFORMED || st == ETPU_UNSUPPORTED, "%s (%zu bytes): status %s: %s", label, n,
              etpu_status_name(st), etpu_errmsg());
    CHECK_MSG(!strncmp(etpu_errmsg(), label, strlen(label)), "message does not name the file: %s", etpu_errmsg());
  }
}

static void mutate_all(const uint8_t *d, size_t n, const char *label, bool npy, int flips) {
  uint8_t *m = malloc(n + 1);
  size_t step = n > 4000 ? n / 2000 : 1;
  for (size_t len = 0; len < n; len += step) {
    memcpy(m, d, len);
    decode_survives(m, len, label, npy);
  }
  for (int k = 0; k < flips; k++) {
    memcpy(m, d, n);
    int nb = 1 + (int)(rnd() % 3);
    for (int j = 0; j < nb; j++) {
      /* bias towards the headers, where the interesting fields are */
      size_t pos = (rnd() & 1) ? rnd() % (n < 128 ? n : 128) : rnd() % n;
      uint32_t r = rnd() % 4;
      m[pos] = r == 0 ? 0xff : r == 1 ? 0 : r == 2 ? (uint8_t)(m[pos] ^ (1u << (rnd() % 8))) : (uint8_t)rnd();
    }
    decode_survives(m, n, label, npy);
  }
  free(m);
}

static void test_corrupt(const char *dir) {
  g_rng = 20240601u;
  printf("corrupt-file seed %u\n", g_rng);
  for (size_t i = 0; i < NBMPS; i++) {
    uint8_t *exp;
    uint32_t ch;
    buf b = bmp_make(&k_bmps[i], &exp, &ch);
    mutate_all(b.d, b.n, "mut.bmp", false, 300);
    free(exp);
    free(b.d);
  }
  for (size_t i = 0; i < NPNGS; i++) {
    uint8_t *exp;
    uint32_t ch;
    buf b = png_make(&k_pngs[i], &exp, &ch);
    mutate_all(b.d, b.n, "mut.png", false, 300);
    free(exp);
    free(b.d);
  }
  for (int v = 0; v < 4; v++) {
    buf b = jpeg_make(40, 24, v & 1, v & 2);
    mutate_all(b.d, b.n, "mut.jpg", false, 500);
    free(b.d);
  }
  if (dir) {
    static const char *const seeds[] = {"coral/mnist_nine.bmp", "coral/rgb6X4.bmp",
                                        "tflite-micro/mnist_lstm_samples/sample3.png"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
      char *path = data_path(dir, seeds[i]);
      FILE *f = fopen(path, "rb");
      CHECK(f != NULL);
      if (f) {
        uint8_t *d = malloc(1 << 16);
        size_t n = fread(d, 1, 1 << 16, f);
        fclose(f);
        mutate_all(d, n, seeds[i], false, 500);
        free(d);
      }
      free(path);
    }
  }
  /* .npy */
  int32_t shape[3] = {2, 3, 4};
  float v[24];
  for (int i = 0; i < 24; i++) v[i] = (float)i * 0.5f;
  void *bytes;
  size_t nb;
  CHECK_OK(etpu_npy_encode(ETPU_FLOAT32, 3, shape, v, sizeof v, &bytes, &nb));
  if (bytes) mutate_all(bytes, nb, "mut.npy", true, 2000);
  etpu_free(bytes);
  printf("corrupt files: %d variants decoded without a crash\n", g_mutations);
  CHECK(g_mutations > 5000);
}

/* Specific rules give their specific messages. */
static void expect_error(const uint8_t *d, size_t n, etpu_status want, const char *needle) {
  etpu_image *img = NULL;
  etpu_status st = etpu_image_decode(d, n, "bad.img", &img);
  CHECK_MSG(st == want, "got %s (%s), wanted %s", etpu_status_name(st), etpu_errmsg(), etpu_status_name(want));
  CHECK_MSG(strstr(etpu_errmsg(), needle) != NULL, "message '%s' lacks '%s'", etpu_errmsg(), needle);
  etpu_image_free(img);
}

static void wr32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static void wr32be(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static void test_rules(void) {
  uint8_t *exp;
  uint32_t ch;
  buf b = bmp_make(&k_bmps[0], &exp, &ch);
  free(exp);
  expect_error(b.d, b.n - 1, ETPU_MALFORMED, "truncated");
  expect_error(b.d, 20, ETPU_MALFORMED, "truncated");
  uint8_t *m = malloc(b.n);
  memcpy(m, b.d, b.n);
  wr32(m + 18, 30000);
  wr32(m + 22, 30000);
  expect_error(m, b.n, ETPU_MALFORMED, "truncated: 30000x30000");
  wr32(m + 18, 100000);
  expect_error(m, b.n, ETPU_MALFORMED, "exceed");
  memcpy(m, b.d, b.n);
  wr32(m + 18, 0x80000000u);
  expect_error(m, b.n, ETPU_MALFORMED, "at least 1");
  memcpy(m, b.d, b.n);
  m[30] = 1; /* RLE8 */
  expect_error(m, b.n, ETPU_UNSUPPORTED, "RLE");
  memcpy(m, b.d, b.n);
  m[28] = 7;
  expect_error(m, b.n, ETPU_MALFORMED, "bits per pixel");
  free(m);
  free(b.d);
  /* A palette index past the palette. */
  bmp_spec s = {4, 2, 8, 40, false, 0, {0}, 4, false};
  b = bmp_make(&s, &exp, &ch);
  free(exp);
  b.d[b.n - 8] = 9;
  expect_error(b.d, b.n, ETPU_MALFORMED, "palette has 4 entries");
  free(b.d);

  /* PNG: huge IHDR (CRC fixed) from a small file; CRC damage. */
  png_spec ps = {9, 7, PNG_COLOR_TYPE_RGB, 8, false};
  b = png_make(&ps, &exp, &ch);
  free(exp);
  m = malloc(b.n);
  memcpy(m, b.d, b.n);
  wr32be(m + 16, 60000);
  wr32be(m + 20, 60000);
  wr32be(m + 29, (uint32_t)crc32(0, m + 12, 17));
  expect_error(m, b.n, ETPU_MALFORMED, "inflates to at most");
  memcpy(m, b.d, b.n);
  m[20] ^= 1; /* height, CRC now wrong */
  expect_error(m, b.n, ETPU_MALFORMED, "CRC");
  expect_error(b.d, b.n / 2, ETPU_MALFORMED, "PNG");
  free(m);
  free(b.d);

  /* JPEG: SOF claiming 60000x60000 from a small file; truncation. */
  b = jpeg_make(40, 24, false, false);
  m = malloc(b.n);
  memcpy(m, b.d, b.n);
  for (size_t i = 2; i + 9 < b.n; i++)
    if (m[i] == 0xff && m[i + 1] == 0xc0) {
      m[i + 5] = 0xea, m[i + 6] = 0x60, m[i + 7] = 0xea, m[i + 8] = 0x60;
      break;
    }
  expect_error(m, b.n, ETPU_MALFORMED, "pixels from a");
  expect_error(b.d, b.n * 2 / 3, ETPU_MALFORMED, "JPEG");
  free(m);
  free(b.d);
  expect_error((const uint8_t *)"GIF89a....", 10, ETPU_UNSUPPORTED, "not a BMP, PNG or JPEG");
}

/* ---- resize, convert, into tensors -------------------------------------- */

static void test_resize(void) {
  etpu_image *src, *dst = NULL;
  CHECK_OK(etpu_image_create(4, 3, 1, &src));
  if (!src) return;
  for (int i = 0; i < 12; i++) src->pixels[i] = (uint8_t)(i * 20);
  /* Bilinear with half-pixel centres (TFLite's formula), computed here in doubles. */
  CHECK_OK(etpu_image_resize(src, 7, 5, ETPU_RESIZE_BILINEAR, &dst));
  if (dst) {
    for (uint32_t y = 0; y < 5; y++)
      for (uint32_t x = 0; x < 7; x++) {
        double fx = (x + 0.5) * 4 / 7 - 0.5, fy = (y + 0.5) * 3 / 5 - 0.5;
        fx = fx < 0 ? 0 : fx;
        fy = fy < 0 ? 0 : fy;
        int x0 = (int)fx, y0 = (int)fy, x1 = x0 + 1 < 4 ? x0 + 1 : 3, y1 = y0 + 1 < 3 ? y0 + 1 : 2;
        double tx = fx - x0, ty = fy - y0;
        double v = (src->pixels[y0 * 4 + x0] * (1 - tx) + src->pixels[y0 * 4 + x1] * tx) * (1 - ty) +
                   (src->pixels[y1 * 4 + x0] * (1 - tx) + src->pixels[y1 * 4 + x1] * tx) * ty;
        int got = dst->pixels[y * 7 + x];
        /* libcoral's resize truncates TFLite's float32 result to uint8; only
         * a value within float32 rounding of an integer may land either side */
        bool near_int = fabs(v - floor(v + 0.5)) < 1e-3;
        CHECK_MSG(got == (int)floor(v) || (near_int && abs(got - (int)floor(v + 0.5)) <= 1),
                  "bilinear (%u,%u): got %d want %.3f", x, y, got, v);
      }
    etpu_image_free(dst);
    dst = NULL;
  }
  /* Downscale by 2 exactly: the mean of each 2x2 block. */
  etpu_image *big;
  CHECK_OK(etpu_image_create(4, 4, 3, &big));
  for (int i = 0; big && i < 48; i++) big->pixels[i] = (uint8_t)(i * 5);
  CHECK_OK(etpu_image_resize(big, 2, 2, ETPU_RESIZE_BILINEAR, &dst));
  if (dst) {
    /* output (0,0) channel 0: pixels (0,0) (1,0) (0,1) (1,1) -> 0, 15, 60, 75 */
    CHECK_MSG(dst->pixels[0] == 37, "half-size bilinear: got %u, want 37 (37.5 truncated, as libcoral does)",
              dst->pixels[0]);
    etpu_image_free(dst);
    dst = NULL;
  }
  CHECK_OK(etpu_image_resize(big, 2, 2, ETPU_RESIZE_NEAREST, &dst));
  if (dst) {
    /* centre (0.5) * 2 = 1 -> source pixel (1,1) */
    CHECK(dst->pixels[0] == big->pixels[(1 * 4 + 1) * 3]);
    etpu_image_free(dst);
    dst = NULL;
  }
  /* Same size is an exact copy. */
  CHECK_OK(etpu_image_resize(big, 4, 4, ETPU_RESIZE_BILINEAR, &dst));
  if (dst) CHECK(!memcmp(dst->pixels, big->pixels, 48));
  etpu_image_free(dst);
  dst = NULL;
  /* RGB -> gray (Pillow's integer luma) and back. */
  etpu_image *rgb;
  CHECK_OK(etpu_image_create(2, 1, 3, &rgb));
  if (rgb) {
    uint8_t px[6] = {255, 0, 0, 10, 200, 30};
    memcpy(rgb->pixels, px, 6);
    CHECK_OK(etpu_image_convert(rgb, 1, &dst));
    if (dst) {
      CHECK(dst->pixels[0] == 76);  /* (255*19595 + 32768) >> 16 */
      CHECK(dst->pixels[1] == (uint8_t)((10 * 19595 + 200 * 38470 + 30 * 7471 + 32768) >> 16));
      etpu_image *back = NULL;
      CHECK_OK(etpu_image_convert(dst, 3, &back));
      if (back) CHECK(back->pixels[3] == dst->pixels[1] && back->pixels[4] == dst->pixels[1]);
      etpu_image_free(back);
    }
    etpu_image_free(dst);
  }
  CHECK(etpu_image_resize(src, 0, 5, ETPU_RESIZE_BILINEAR, &dst) == ETPU_INVALID_ARGUMENT);
  etpu_image_free(rgb);
  etpu_image_free(big);
  etpu_image_free(src);
}

static etpu_tensor_info tensor_desc(int32_t type, uint32_t rank, const int32_t *shape, const float *scale,
                                    const int64_t *zp) {
  etpu_tensor_info t;
  memset(&t, 0, sizeof t);
  t.name = "in";
  t.type = type;
  t.rank = rank;
  t.shape = shape;
  t.quant_count = scale ? 1 : 0;
  t.scale = scale;
  t.zero_point = zp;
  return t;
}

static void test_to_tensor(void) {
  etpu_image *img;
  CHECK_OK(etpu_image_create(2, 2, 3, &img));
  if (!img) return;
  for (int i = 0; i < 12; i++) img->pixels[i] = (uint8_t)(i * 20 + 5);
  const int32_t s4[4] = {1, 2, 2, 3};
  /* uint8, Coral's quantization: raw pixels. */
  float sc = 0.0078125f;
  int64_t zp = 128;
  etpu_tensor_info t = tensor_desc(ETPU_UINT8, 4, s4, &sc, &zp);
  uint8_t u8[12];
  CHECK_OK(etpu_image_to_tensor(img, &t, NULL, u8, sizeof u8));
  CHECK(!memcmp(u8, img->pixels, 12));
  /* uint8 with --mean 127.5 --std 127.5: real in [-1, 1], q = real/scale + zp. */
  etpu_input_options o = {ETPU_RESIZE_BILINEAR, true, 127.5f, 127.5f};
  CHECK_OK(etpu_image_to_tensor(img, &t, &o, u8, sizeof u8));
  for (int i = 0; i < 12; i++) {
    double q = nearbyint(((img->pixels[i] - 127.5) / 127.5) / 0.0078125) + 128;
    q = q < 0 ? 0 : q > 255 ? 255 : q;
    CHECK_MSG(u8[i] == (uint8_t)q, "uint8 normalized %d: got %u want %g", i, u8[i], q);
  }
  /* int8, zero point -128, scale 1/255: pixel - 128. */
  float sc8 = 1.0f / 255;
  int64_t zp8 = -128;
  t = tensor_desc(ETPU_INT8, 4, s4, &sc8, &zp8);
  int8_t s8[12];
  CHECK_OK(etpu_image_to_tensor(img, &t, NULL, s8, sizeof s8));
  for (int i = 0; i < 12; i++) CHECK(s8[i] == (int8_t)(img->pixels[i] - 128));
  /* float32 with mean/std. */
  t = tensor_desc(ETPU_FLOAT32, 4, s4, NULL, NULL);
  float f[12];
  o.mean = 127.5f;
  o.std = 127.5f;
  CHECK_OK(etpu_image_to_tensor(img, &t, &o, f, sizeof f));
  for (int i = 0; i < 12; i++) CHECK(fabsf(f[i] - (img->pixels[i] - 127.5f) / 127.5f) < 1e-6f);
  CHECK_OK(etpu_image_to_tensor(img, &t, NULL, f, sizeof f));
  CHECK(f[3] == (float)img->pixels[3]);
  /* Gray model [1,H,W] gets gray, resized. */
  const int32_t s3[3] = {1, 4, 4};
  t = tensor_desc(ETPU_UINT8, 3, s3, NULL, NULL);
  uint8_t g[16];
  CHECK_OK(etpu_image_to_tensor(img, &t, NULL, g, sizeof g));
  /* Errors, with the buffer untouched. */
  memset(g, 0xee, sizeof g);
  CHECK(etpu_image_to_tensor(img, &t, NULL, g, 15) == ETPU_INVALID_ARGUMENT);
  const int32_t s5[4] = {2, 4, 4, 3};
  t = tensor_desc(ETPU_UINT8, 4, s5, NULL, NULL);
  CHECK(etpu_image_to_tensor(img, &t, NULL, g, sizeof g) == ETPU_UNSUPPORTED);
  t = tensor_desc(ETPU_INT32, 3, s3, NULL, NULL);
  CHECK(etpu_image_to_tensor(img, &t, NULL, g, sizeof g) == ETPU_UNSUPPORTED);
  CHECK(g[0] == 0xee);
  o.std = 0;
  t = tensor_desc(ETPU_FLOAT32, 4, s4, NULL, NULL);
  CHECK(etpu_image_to_tensor(img, &t, &o, f, sizeof f) == ETPU_INVALID_ARGUMENT);
  etpu_image_free(img);
}

/* ---- .npy --------------------------------------------------------------- */

static void test_npy(void) {
  static const int32_t types[] = {ETPU_FLOAT32, ETPU_INT8, ETPU_UINT8, ETPU_INT16, ETPU_INT32, ETPU_INT64, ETPU_BOOL,
                                  ETPU_FLOAT16, ETPU_FLOAT64, ETPU_UINT16, ETPU_UINT32, ETPU_UINT64};
  static const int32_t shapes[][4] = {{0}, {5}, {2, 3}, {1, 4, 1}, {1, 2, 3, 2}};
  static const uint32_t ranks[] = {0, 1, 2, 3, 4};
  uint8_t data[512];
  for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(i * 7 + 1);
  for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
    for (size_t si = 0; si < 5; si++) {
      size_t n = etpu_dtype_size(types[ti]);
      for (uint32_t d = 0; d < ranks[si]; d++) n *= (size_t)shapes[si][d];
      if (types[ti] == ETPU_BOOL)
        for (size_t i = 0; i < n; i++) data[i] = (uint8_t)(i & 1);
      void *bytes = NULL;
      size_t nb = 0;
      CHECK_OK(etpu_npy_encode(types[ti], ranks[si], shapes[si], data, n, &bytes, &nb));
      if (!bytes) continue;
      CHECK(nb % 64 == n % 64);            /* header padded to 64 */
      CHECK(((uint8_t *)bytes)[nb - n - 1] == '\n');
      etpu_npy *a = NULL;
      CHECK_OK(etpu_npy_decode(bytes, nb, "rt.npy", &a));
      if (a) {
        CHECK(a->type == types[ti] && a->rank == ranks[si] && a->size == n);
        CHECK(!memcmp(a->shape, shapes[si], ranks[si] * sizeof(int32_t)));
        CHECK(!memcmp(a->data, data, n));
      }
      etpu_npy_free(a);
      etpu_free(bytes);
    }
  /* Hand-written headers. */
  struct {
    const char *hdr;
    etpu_status want;
    const char *needle;
  } cases[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", ETPU_OK, ""},
      {"{\"shape\":(2L,),\"fortran_order\":False,\"descr\":\"<f4\"}", ETPU_OK, ""},
      {"{'descr': '<i4', 'fortran_order': True, 'shape': (2,), }", ETPU_OK, ""},
      {"{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", ETPU_OK, ""},
      {"{'descr': '|u1', 'fortran_order': True, 'shape': (2, 4), }", ETPU_UNSUPPORTED, "Fortran"},
      {"{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", ETPU_UNSUPPORTED, "big-endian"},
      {"{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", ETPU_UNSUPPORTED, "not supported"},
      {"{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", ETPU_UNSUPPORTED, "structured"},
      {"{'descr': '<f4', 'shape': (2,), }", ETPU_MALFORMED, "needs the keys"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", ETPU_MALFORMED, "unknown key"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", ETPU_MALFORMED, "need 12 bytes"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,2), }", ETPU_UNSUPPORTED, "8 dimensions"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999,), }", ETPU_UNSUPPORTED, "2^31"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", ETPU_MALFORMED, "non-negative"},
      {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }", ETPU_MALFORMED, "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x", ETPU_MALFORMED, "after the closing"},
      {"{'descr': '<f4 , 'fortran_order': False, 'shape': (2,)}", ETPU_MALFORMED, "expected"},
  };
  for (int version = 1; version <= 2; version++)
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      buf b = {0};
      put(&b, "\x93NUMPY", 6);
      put8(&b, (uint32_t)version);
      put8(&b, 0);
      size_t hl = strlen(cases[i].hdr) + 1;
      if (version == 1)
        put16(&b, (uint32_t)hl);
      else
        put32(&b, (uint32_t)hl);
      put(&b, cases[i].hdr, hl - 1);
      put8(&b, '\n');
      put(&b, data, 8); /* two float32 */
      etpu_npy *a = NULL;
      etpu_status st = etpu_npy_decode(b.d, b.n, "h.npy", &a);
      CHECK_MSG(st == cases[i].want, "v%d case %zu: got %s: %s", version, i, etpu_status_name(st), etpu_errmsg());
      if (st != ETPU_OK)
        CHECK_MSG(strstr(etpu_errmsg(), cases[i].needle) && !strncmp(etpu_errmsg(), "h.npy", 5),
                  "v%d case %zu: message '%s' lacks '%s'", version, i, etpu_errmsg(), cases[i].needle);
      etpu_npy_free(a);
      free(b.d);
    }
  etpu_npy *a = NULL;
  CHECK(etpu_npy_decode("\x93NUMPY\x01\x00\xff\xff{", 11, "short.npy", &a) == ETPU_MALFORMED);
  CHECK(strstr(etpu_errmsg(), "runs past the end") != NULL);
  CHECK(etpu_npy_decode("PK\x03\x04 zip", 10, "z.npy", &a) == ETPU_MALFORMED);
  CHECK(etpu_npy_decode("\x93NUMPY\x04\x00\x00\x00{}", 12, "v4.npy", &a) == ETPU_UNSUPPORTED);
  void *bytes;
  size_t nb;
  CHECK(etpu_npy_encode(ETPU_STRING, 1, (const int32_t[]){2}, data, 2, &bytes, &nb) == ETPU_UNSUPPORTED);
  CHECK(etpu_npy_encode(ETPU_FLOAT32, 1, (const int32_t[]){2}, data, 7, &bytes, &nb) == ETPU_INVALID_ARGUMENT);
}

/* ---- files: tensor_load, labels ----------------------------------------- */

static char g_tmp[256];

static char *tmp_file(const char *name, const void *d, size_t n) {
  char *p = data_path(g_tmp, name);
  FILE *f = fopen(p, "wb");
  if (f) {
    fwrite(d, 1, n, f);
    fclose(f);
  }
  return p;
}

static void test_tensor_load(void) {
  const int32_t s[2] = {1, 3};
  float sc = 0.5f;
  int64_t zp = 10;
  etpu_tensor_info tu = tensor_desc(ETPU_UINT8, 2, s, &sc, &zp);
  uint8_t out[3] = {0, 0, 0};
  /* raw: exact size only */
  char *p = tmp_file("in.raw", "\x01\x02\x03", 3);
  etpu_input_kind kind = ETPU_INPUT_NPY;
  CHECK_OK(etpu_tensor_load(p, &tu, NULL, out, 3, &kind));
  CHECK(kind == ETPU_INPUT_RAW && out[0] == 1 && out[2] == 3);
  free(p);
  p = tmp_file("in.bin", "\x01\x02", 2);
  CHECK(etpu_tensor_load(p, &tu, NULL, out, 3, NULL) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "needs exactly 3") != NULL);
  free(p);
  /* float32 .npy into a quantized input: quantized (x / 0.5 + 10). */
  float fv[3] = {1.0f, -2.0f, 200.0f};
  void *bytes;
  size_t nb;
  CHECK_OK(etpu_npy_encode(ETPU_FLOAT32, 1, (const int32_t[]){3}, fv, sizeof fv, &bytes, &nb));
  p = tmp_file("f.npy", bytes, nb);
  etpu_free(bytes);
  CHECK_OK(etpu_tensor_load(p, &tu, NULL, out, 3, &kind));
  CHECK(kind == ETPU_INPUT_NPY && out[0] == 12 && out[1] == 6 && out[2] == 255);
  /* ... but not into an int32 input. */
  etpu_tensor_info ti = tensor_desc(ETPU_INT32, 2, s, NULL, NULL);
  int32_t i32[3];
  CHECK(etpu_tensor_load(p, &ti, NULL, i32, sizeof i32, NULL) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "dtype FLOAT32 does not fit") != NULL);
  free(p);
  /* shape mismatch */
  uint8_t u4[4] = {1, 2, 3, 4};
  CHECK_OK(etpu_npy_encode(ETPU_UINT8, 1, (const int32_t[]){4}, u4, 4, &bytes, &nb));
  p = tmp_file("u4.npy", bytes, nb);
  etpu_free(bytes);
  CHECK(etpu_tensor_load(p, &tu, NULL, out, 3, NULL) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "shape (4) does not fit") != NULL);
  free(p);
  /* magic-byte detection without an extension */
  CHECK_OK(etpu_npy_encode(ETPU_UINT8, 2, s, u4, 3, &bytes, &nb));
  p = tmp_file("noext", bytes, nb);
  etpu_free(bytes);
  CHECK_OK(etpu_tensor_load(p, &tu, NULL, out, 3, &kind));
  CHECK(kind == ETPU_INPUT_NPY && out[2] == 3);
  free(p);
  /* a corrupt image is an image error, not raw bytes */
  p = tmp_file("bad.bmp", "BM\x01\x02", 4);
  CHECK(etpu_tensor_load(p, &tu, NULL, out, 3, NULL) == ETPU_MALFORMED);
  CHECK(strstr(etpu_errmsg(), "bad.bmp: BMP:") != NULL);
  free(p);
  p = data_path(g_tmp, "missing.png");
  CHECK(etpu_tensor_load(p, &tu, NULL, out, 3, NULL) == ETPU_IO_ERROR);
  free(p);
}

static void test_labels(void) {
  etpu_labels *l = NULL;
  char *p = tmp_file("plain.txt", "background\ncat\r\ndog\n", 20);
  CHECK_OK(etpu_labels_read(p, &l));
  CHECK(etpu_labels_count(l) == 3);
  CHECK(!strcmp(etpu_labels_get(l, 3, 1), "cat"));      /* same count: direct */
  CHECK(!strcmp(etpu_labels_get(l, 2, 1), "dog"));      /* classes + 1 lines: background offset */
  CHECK(!strcmp(etpu_labels_get(l, 3, 7), ""));
  etpu_labels_free(l);
  free(p);
  p = tmp_file("ids.txt", "0  person\n2: car\n\n5 dog\n", 24);
  CHECK_OK(etpu_labels_read(p, &l));
  CHECK(etpu_labels_count(l) == 6);
  CHECK(!strcmp(etpu_labels_get(l, 5, 2), "car"));
  CHECK(!strcmp(etpu_labels_get(l, 5, 5), "dog"));
  CHECK(!strcmp(etpu_labels_get(l, 5, 1), ""));
  etpu_labels_free(l);
  free(p);
  p = tmp_file("bin.txt", "a\0b", 3);
  CHECK(etpu_labels_read(p, &l) == ETPU_MALFORMED);
  free(p);
  p = data_path(g_tmp, "none.txt");
  CHECK(etpu_labels_read(p, &l) == ETPU_IO_ERROR);
  free(p);
}

/* ---- allocation failures ------------------------------------------------ */

static int g_fail_at, g_allocs;
static void *fail_malloc(void *u, size_t n) {
  (void)u;
  return ++g_allocs == g_fail_at ? NULL : malloc(n ? n : 1);
}
static void *fail_realloc(void *u, void *p, size_t n) {
  (void)u;
  return ++g_allocs == g_fail_at ? NULL : realloc(p, n ? n : 1);
}
static void fail_free(void *u, void *p) {
  (void)u;
  free(p);
}

static void test_oom(void) {
  uint8_t *exp;
  uint32_t ch;
  buf bm = bmp_make(&k_bmps[7], &exp, &ch);
  free(exp);
  buf pn = png_make(&k_pngs[10], &exp, &ch);
  free(exp);
  buf jp = jpeg_make(40, 24, false, true);
  void *npy;
  size_t nn;
  CHECK_OK(etpu_npy_encode(ETPU_UINT8, 1, (const int32_t[]){4}, "abcd", 4, &npy, &nn));
  etpu_allocator a = {fail_malloc, fail_realloc, fail_free, NULL};
  const buf *files[3] = {&bm, &pn, &jp};
  for (int f = 0; f < 4; f++)
    for (g_fail_at = 1; g_fail_at < 40; g_fail_at++) {
      g_allocs = 0;
      etpu_set_allocator(&a);
      etpu_status st;
      if (f < 3) {
        etpu_image *img = NULL;
        st = etpu_image_decode(files[f]->d, files[f]->n, "oom", &img);
        etpu_image_free(img);
      } else {
        etpu_npy *arr = NULL;
        st = etpu_npy_decode(npy, nn, "oom", &arr);
        etpu_npy_free(arr);
      }
      etpu_set_allocator(NULL);
      CHECK_MSG(st == ETPU_OK || st == ETPU_OUT_OF_MEMORY, "file %d, allocation %d failed: %s: %s", f, g_fail_at,
                etpu_status_name(st), etpu_errmsg());
    }
  etpu_free(npy);
  free(bm.d);
  free(pn.d);
  free(jp.d);
}

/* ---- small runnable models for tests/run_cli.py ------------------------- */

static etpu_status add_t(etpu_model *m, const char *name, int32_t type, uint32_t rank, const int32_t *shape,
                         float scale, int64_t zp, int32_t *idx) {
  etpu_quant_params q = {scale > 0 ? 1u : 0u, &scale, &zp, 0};
  return etpu_model_add_tensor(m, 0, name, type, rank, shape, &q, NULL, 0, idx);
}

/* ops: RESHAPE / QUANTIZE / DEQUANTIZE only, which the interpreter runs. */
static etpu_status write_models(const char *dir) {
  etpu_status st;
  char *p;
  etpu_model *m;
  int32_t a, b, c, shp;
  const int32_t shape_t[1] = {2};
  int32_t newshape[2] = {1, 192};
  /* image.tflite: uint8 [1,8,8,3] (Coral quantization) -> RESHAPE -> [1,192] */
  if ((st = etpu_model_create(&m)) != ETPU_OK) return st;
  st = add_t(m, "image", ETPU_UINT8, 4, (const int32_t[]){1, 8, 8, 3}, 0.0078125f, 128, &a);
  if (st == ETPU_OK) st = add_t(m, "scores", ETPU_UINT8, 2, newshape, 0.0078125f, 128, &b);
  if (st == ETPU_OK) st = etpu_model_add_tensor(m, 0, "shape", ETPU_INT32, 1, shape_t, NULL, newshape, 8, &shp);
  etpu_option opt = {"new_shape", 0, 0, 2, newshape};
  if (st == ETPU_OK)
    st = etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, 1, 2, (const int32_t[]){a, shp}, 1, &b, 1, &opt, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 1, &a, 1, &b);
  p = data_path(dir, "image.tflite");
  if (st == ETPU_OK) st = etpu_model_write_file(m, p, 0);
  free(p);
  etpu_model_free(m);
  if (st != ETPU_OK) return st;
  /* gray.tflite: uint8 [1,4,4,1] -> RESHAPE -> [1,16] */
  int32_t gshape[2] = {1, 16};
  if ((st = etpu_model_create(&m)) != ETPU_OK) return st;
  st = add_t(m, "gray", ETPU_UINT8, 4, (const int32_t[]){1, 4, 4, 1}, 1.0f / 255, 0, &a);
  if (st == ETPU_OK) st = add_t(m, "scores", ETPU_UINT8, 2, gshape, 1.0f / 255, 0, &b);
  if (st == ETPU_OK) st = etpu_model_add_tensor(m, 0, "shape", ETPU_INT32, 1, shape_t, NULL, gshape, 8, &shp);
  etpu_option gopt = {"new_shape", 0, 0, 2, gshape};
  if (st == ETPU_OK)
    st = etpu_model_add_op(m, 0, ETPU_OP_RESHAPE, NULL, 1, 2, (const int32_t[]){a, shp}, 1, &b, 1, &gopt, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 1, &a, 1, &b);
  p = data_path(dir, "gray.tflite");
  if (st == ETPU_OK) st = etpu_model_write_file(m, p, 0);
  free(p);
  etpu_model_free(m);
  if (st != ETPU_OK) return st;
  /* float.tflite: float [1,3] -> QUANTIZE int8 (0.1, 0) -> DEQUANTIZE -> float [1,3] */
  const int32_t s13[2] = {1, 3};
  if ((st = etpu_model_create(&m)) != ETPU_OK) return st;
  st = add_t(m, "x", ETPU_FLOAT32, 2, s13, 0, 0, &a);
  if (st == ETPU_OK) st = add_t(m, "q", ETPU_INT8, 2, s13, 0.1f, 0, &b);
  if (st == ETPU_OK) st = add_t(m, "y", ETPU_FLOAT32, 2, s13, 0, 0, &c);
  if (st == ETPU_OK) st = etpu_model_add_op(m, 0, ETPU_OP_QUANTIZE, NULL, 1, 1, &a, 1, &b, 0, NULL, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_add_op(m, 0, ETPU_OP_DEQUANTIZE, NULL, 1, 1, &b, 1, &c, 0, NULL, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 1, &a, 1, &c);
  p = data_path(dir, "float.tflite");
  if (st == ETPU_OK) st = etpu_model_write_file(m, p, 0);
  free(p);
  etpu_model_free(m);
  if (st != ETPU_OK) return st;
  /* two.tflite: two float [1,3] inputs, each QUANTIZEd to uint8 outputs */
  int32_t x1, x2, q1, q2;
  if ((st = etpu_model_create(&m)) != ETPU_OK) return st;
  st = add_t(m, "x1", ETPU_FLOAT32, 2, s13, 0, 0, &x1);
  if (st == ETPU_OK) st = add_t(m, "x2", ETPU_FLOAT32, 2, s13, 0, 0, &x2);
  if (st == ETPU_OK) st = add_t(m, "q1", ETPU_UINT8, 2, s13, 0.5f, 0, &q1);
  if (st == ETPU_OK) st = add_t(m, "q2", ETPU_UINT8, 2, s13, 0.25f, 0, &q2);
  if (st == ETPU_OK) st = etpu_model_add_op(m, 0, ETPU_OP_QUANTIZE, NULL, 1, 1, &x1, 1, &q1, 0, NULL, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_add_op(m, 0, ETPU_OP_QUANTIZE, NULL, 1, 1, &x2, 1, &q2, 0, NULL, NULL, 0, NULL);
  if (st == ETPU_OK) st = etpu_model_set_io(m, 0, 2, (const int32_t[]){x1, x2}, 2, (const int32_t[]){q1, q2});
  p = data_path(dir, "two.tflite");
  if (st == ETPU_OK) st = etpu_model_write_file(m, p, 0);
  free(p);
  etpu_model_free(m);
  return st;
}

int main(int argc, char **argv) {
  if (argc == 3 && !strcmp(argv[1], "--write-models")) {
    etpu_status st = write_models(argv[2]);
    if (st != ETPU_OK) fprintf(stderr, "test_io: %s\n", etpu_errmsg());
    return st == ETPU_OK ? 0 : 1;
  }
  snprintf(g_tmp, sizeof g_tmp, "/tmp/etpu_test_io.XXXXXX");
  if (!mkdtemp(g_tmp)) {
    perror("mkdtemp");
    return 1;
  }
  test_bmp_variants();
  test_png_variants();
  test_jpeg_variants();
  test_rules();
  test_resize();
  test_to_tensor();
  test_npy();
  test_tensor_load();
  test_labels();
  test_oom();
  const char *dir = tu_shared_dir();
  test_corrupt(dir);
  if (dir) test_shared_images(dir);
  static const char *const made[] = {"in.raw", "in.bin", "f.npy", "u4.npy", "noext", "bad.bmp", "plain.txt",
                                     "ids.txt", "bin.txt"};
  for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) {
    char *p = data_path(g_tmp, made[i]);
    remove(p);
    free(p);
  }
  rmdir(g_tmp);
  int rc = tu_finish("test_io");
  if (!dir && rc == 0) return tu_skip_code();
  return rc;
}
