/*
 * draw.c — `etpu run --draw OUT.png`: the input image with a task's result
 * drawn on it, by Debian's cairo: detection boxes with label and score,
 * a segmentation mask blended over the image with a legend, pose skeletons
 * with their keypoints.
 *
 * The pixels the tests read are exact: shapes are drawn without
 * antialiasing, box edges are 3-pixel lines centred on pixel
 * floor(coordinate + 0.5), keypoints are filled discs centred on their
 * pixel, and the mask blend is the integer mean (image + colour) / 2 per
 * channel, computed here, not by cairo. Colours come from the PASCAL VOC
 * colour map (class k; a detection of class k takes colour k + 1, since
 * colour 0 is black). Text uses cairo's toy font API with the family
 * "DejaVu Sans" (Debian's fonts-dejavu-core) and fixed font options (grey
 * antialiasing, no hinting), so the same inputs give the same PNG bytes.
 * The PNG is encoded in memory and written atomically.
 */
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FONT_FAMILY "DejaVu Sans"
#define BOX_LINE 3.0

/* PASCAL VOC's colour map: the bits of k spread over the high bits of R, G, B. */
static void voc_colour(uint32_t k, double rgb[3]) {
  uint32_t c[3] = {0, 0, 0};
  for (int j = 7; j >= 0; j--, k >>= 3)
    for (int ch = 0; ch < 3; ch++) c[ch] |= ((k >> ch) & 1u) << j;
  for (int ch = 0; ch < 3; ch++) rgb[ch] = c[ch] / 255.0;
}

static uint32_t voc_packed(uint32_t k) {
  double rgb[3];
  voc_colour(k, rgb);
  return (uint32_t)lround(rgb[0] * 255) << 16 | (uint32_t)lround(rgb[1] * 255) << 8 | (uint32_t)lround(rgb[2] * 255);
}

static double px(double v) { return floor(v + 0.5); }

/* The bytes of s (valid UTF-8, as cli_t gives) that fit in max without
 * cutting a character: cairo refuses invalid UTF-8. */
static int utf8_fit(const char *s, int max) {
  int n = (int)strlen(s);
  if (n <= max) return n;
  n = max;
  while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80) n--;
  return n;
}

/* "NAME VALUE" (or "class K VALUE" without a name) for a label box. */
static void label_text(char *buf, size_t cap, const char *name, uint32_t k, const char *value) {
  if (*name) {
    const char *t = cli_t(name);
    snprintf(buf, cap, "%.*s %s", utf8_fit(t, 120), t, value);
  } else {
    snprintf(buf, cap, "class %u %s", k, value);
  }
}

/* Text with a filled background rectangle whose top-left is (x, y). */
static void label_box(cairo_t *cr, double x, double y, const char *text, const double bg[3], double fg) {
  cairo_text_extents_t te;
  cairo_font_extents_t fe;
  cairo_text_extents(cr, text, &te);
  cairo_font_extents(cr, &fe);
  const double pad = 2;
  cairo_set_source_rgb(cr, bg[0], bg[1], bg[2]);
  cairo_rectangle(cr, x, y, te.x_advance + 2 * pad, fe.height + 2 * pad);
  cairo_fill(cr);
  cairo_set_source_rgb(cr, fg, fg, fg);
  cairo_move_to(cr, x + pad, y + pad + fe.ascent);
  cairo_show_text(cr, text);
}

static double text_fg(const double bg[3]) { return 0.299 * bg[0] + 0.587 * bg[1] + 0.114 * bg[2] > 0.5 ? 0 : 1; }

static void draw_detections(cairo_t *cr, const etpu_task_result *r, const etpu_labels *labels) {
  cairo_set_line_width(cr, BOX_LINE);
  /* the best (first) last, so that it is on top */
  for (uint32_t i = r->detection_count; i-- > 0;) {
    const etpu_detection *d = &r->detections[i];
    double rgb[3];
    voc_colour(d->class_id + 1, rgb);
    double x0 = px(d->xmin), y0 = px(d->ymin), x1 = px(d->xmax), y1 = px(d->ymax);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, x1 - x0, y1 - y0);
    cairo_stroke(cr);
  }
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  for (uint32_t i = r->detection_count; i-- > 0;) {
    const etpu_detection *d = &r->detections[i];
    double rgb[3];
    voc_colour(d->class_id + 1, rgb);
    const char *name = labels ? etpu_labels_get(labels, etpu_labels_count(labels), d->class_id) : "";
    char value[32], text[160];
    snprintf(value, sizeof value, "%.2f", d->score);
    label_text(text, sizeof text, name, d->class_id, value);
    double h = fe.height + 4, y = px(d->ymin) - 1 - h;
    if (y < 0) y = px(d->ymin) + 2; /* no room above: inside, below the top edge */
    label_box(cr, px(d->xmin) - 1, y, text, rgb, text_fg(rgb));
  }
}

/* The blend of every pixel with its class colour, then a legend of the
 * classes present (top left). */
static void draw_mask(cairo_surface_t *s, cairo_t *cr, const etpu_task_result *r, const etpu_labels *labels) {
  cairo_surface_flush(s);
  uint8_t *base = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  uint32_t cache_k = UINT32_MAX, col = 0;
  for (uint32_t y = 0; y < r->image_height; y++) {
    uint32_t *row = (uint32_t *)(void *)(base + (size_t)y * (size_t)stride);
    for (uint32_t x = 0; x < r->image_width; x++) {
      uint32_t k = r->mask[(size_t)y * r->image_width + x];
      if (k != cache_k) {
        cache_k = k;
        col = voc_packed(k);
      }
      uint32_t p = row[x], out = 0;
      for (int sh = 0; sh <= 16; sh += 8) out |= ((((p >> sh) & 255u) + ((col >> sh) & 255u)) >> 1) << sh;
      row[x] = out;
    }
  }
  cairo_surface_mark_dirty(s);
  cairo_font_extents_t fe;
  cairo_font_extents(cr, &fe);
  const double line = fe.height + 4, sw = fe.height;
  double y = 4;
  for (uint32_t k = 0; k < r->class_count; k++) {
    if (r->class_share[k] <= 0) continue;
    const char *name = labels ? etpu_labels_get(labels, etpu_labels_count(labels), k) : "";
    char value[32], text[160];
    snprintf(value, sizeof value, "%.1f%%", 100 * r->class_share[k]);
    label_text(text, sizeof text, name, k, value);
    double rgb[3];
    voc_colour(k, rgb);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_rectangle(cr, 4, y, sw + 4, line);
    cairo_fill(cr);
    const double white[3] = {1, 1, 1};
    label_box(cr, 8 + sw, y, text, white, 0);
    y += line;
  }
}

/* COCO's skeleton: pairs of keypoint indices. */
static const uint8_t k_edges[][2] = {{0, 1},  {0, 2},   {1, 3},   {2, 4},   {5, 6},   {5, 7},
                                     {7, 9},  {6, 8},   {8, 10},  {5, 11},  {6, 12},  {11, 12},
                                     {11, 13}, {13, 15}, {12, 14}, {14, 16}};

static void draw_poses(cairo_t *cr, const etpu_task_result *r, float thr) {
  const double side = r->image_width < r->image_height ? r->image_width : r->image_height;
  const double radius = side / 100 > 3 ? floor(side / 100) : 3;
  cairo_set_line_width(cr, radius > 3 ? radius - 1 : 2);
  for (uint32_t p = 0; p < r->pose_count; p++) {
    const etpu_keypoint *kp = r->poses[p].keypoints;
    cairo_set_source_rgb(cr, 0, 1, 1);
    for (size_t e = 0; e < sizeof k_edges / sizeof k_edges[0]; e++) {
      const etpu_keypoint *a = &kp[k_edges[e][0]], *b = &kp[k_edges[e][1]];
      if (!(a->score >= thr && b->score >= thr)) continue;
      cairo_move_to(cr, px(a->x) + 0.5, px(a->y) + 0.5);
      cairo_line_to(cr, px(b->x) + 0.5, px(b->y) + 0.5);
      cairo_stroke(cr);
    }
  }
  for (uint32_t p = 0; p < r->pose_count; p++)
    for (uint32_t k = 0; k < ETPU_POSE_KEYPOINTS; k++) {
      const etpu_keypoint *a = &r->poses[p].keypoints[k];
      if (!(a->score >= thr)) continue;
      cairo_set_source_rgb(cr, 1, 0, 0);
      cairo_arc(cr, px(a->x) + 0.5, px(a->y) + 0.5, radius, 0, 2 * 3.14159265358979323846);
      cairo_fill(cr);
    }
}

typedef struct png_buf {
  unsigned char *data;
  size_t size, cap;
  bool oom;
} png_buf;

static cairo_status_t png_append(void *closure, const unsigned char *data, unsigned int length) {
  png_buf *b = closure;
  if (b->size + length > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->size + length) cap *= 2;
    unsigned char *p = realloc(b->data, cap);
    if (!p) {
      b->oom = true;
      return CAIRO_STATUS_NO_MEMORY;
    }
    b->data = p;
    b->cap = cap;
  }
  memcpy(b->data + b->size, data, length);
  b->size += length;
  return CAIRO_STATUS_SUCCESS;
}

int cli_draw(const char *path, const etpu_image *image, const etpu_task_result *r, const etpu_labels *labels,
             float threshold) {
  if (image->width != r->image_width || image->height != r->image_height || image->width > INT32_MAX / 4) {
    fprintf(stderr, "etpu: error: run: --draw: the image is %ux%u but the result is for %ux%u\n", image->width,
            image->height, r->image_width, r->image_height);
    return CLI_EXIT_RULE;
  }
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)image->width, (int)image->height);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "etpu: error: run: --draw: %s\n", cairo_status_to_string(cairo_surface_status(s)));
    cairo_surface_destroy(s);
    return CLI_EXIT_IO;
  }
  uint8_t *base = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (uint32_t y = 0; y < image->height; y++) {
    uint32_t *row = (uint32_t *)(void *)(base + (size_t)y * (size_t)stride);
    const uint8_t *src = image->pixels + (size_t)y * image->width * image->channels;
    for (uint32_t x = 0; x < image->width; x++, src += image->channels) {
      uint32_t rr = src[0], g = image->channels == 3 ? src[1] : rr, b = image->channels == 3 ? src[2] : rr;
      row[x] = rr << 16 | g << 8 | b;
    }
  }
  cairo_surface_mark_dirty(s);
  cairo_t *cr = cairo_create(s);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  cairo_font_options_t *fo = cairo_font_options_create();
  cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
  cairo_set_font_options(cr, fo);
  cairo_font_options_destroy(fo);
  cairo_select_font_face(cr, FONT_FAMILY, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  const double side = image->width < image->height ? image->width : image->height;
  cairo_set_font_size(cr, side / 40 > 11 ? floor(side / 40) : 11);
  if (r->task == ETPU_TASK_DETECT)
    draw_detections(cr, r, labels);
  else if (r->task == ETPU_TASK_SEGMENT)
    draw_mask(s, cr, r, labels);
  else if (r->task == ETPU_TASK_POSE)
    draw_poses(cr, r, threshold);
  cairo_status_t cst = cairo_status(cr);
  cairo_destroy(cr);
  png_buf b = {NULL, 0, 0, false};
  if (cst == CAIRO_STATUS_SUCCESS) cst = cairo_surface_write_to_png_stream(s, png_append, &b);
  cairo_surface_destroy(s);
  /* Release cairo's font caches and fontconfig's configuration (which cairo's
   * toy font API loaded), so that leak checkers see every byte freed; nothing
   * else in the process uses them. */
  cairo_debug_reset_static_data();
  FcFini();
  int rc = 0;
  if (cst != CAIRO_STATUS_SUCCESS) {
    fprintf(stderr, "etpu: error: run: --draw %s: %s\n", cli_t(path), b.oom ? "out of memory" : cairo_status_to_string(cst));
    rc = CLI_EXIT_IO;
  } else {
    etpu_status st = etpu_write_file_atomic(path, b.data, b.size);
    if (st != ETPU_OK) rc = cli_report(st);
  }
  free(b.data);
  return rc;
}
