/*
 * test_visualize.c — etpu_visualize_html on models made here (no shared data):
 * argument errors; a synthetic model of 1,200+ ops (diamonds of ADD ops with
 * a CUSTOM op every 50 blocks, so the page has cuts) drawn whole, every op a
 * node, byte-identical twice; its etpu-compiled form with every payload
 * expanded; broken payloads (a new format version, a size past the bytes, a
 * corrupt embedded model) drawn as opaque ops under a banner instead of
 * failing or crashing; the ZIP of associated files tflite-support appends
 * to a model, valid (labels counted) and broken in six ways (skipped, never
 * read out of bounds: run it under ASan); and every allocation of the
 * compiled model's page failing in turn (ETPU_OUT_OF_MEMORY, nothing
 * leaked, outputs untouched).
 *
 *   test_visualize                 the checks
 *   test_visualize large OUT N     write the synthetic model with N blocks
 *                                  (3 ops each) to OUT, for the browser test
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- the synthetic model --------------------------------------------------- */

/* N blocks x -> a = x + x, b = x + a, x' = a + b, and every 50th block a
 * CUSTOM op on the CPU after it; uint8 [1, 8, 8, 4] tensors. */
static etpu_model *build_large(uint32_t blocks) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_create(&m));
  if (!m) return NULL;
  float scale = 0.05f;
  int64_t zp = 128;
  etpu_quant_params q = {1, &scale, &zp, 0};
  const int32_t shape[4] = {1, 8, 8, 4};
  int32_t x, in;
  char name[64];
  CHECK_OK(etpu_model_add_tensor(m, 0, "input", ETPU_UINT8, 4, shape, &q, NULL, 0, &x));
  in = x;
  for (uint32_t i = 0; i < blocks; i++) {
    int32_t a, b, y;
    snprintf(name, sizeof name, "block%u/a", i);
    CHECK_OK(etpu_model_add_tensor(m, 0, name, ETPU_UINT8, 4, shape, &q, NULL, 0, &a));
    snprintf(name, sizeof name, "block%u/b", i);
    CHECK_OK(etpu_model_add_tensor(m, 0, name, ETPU_UINT8, 4, shape, &q, NULL, 0, &b));
    snprintf(name, sizeof name, "block%u/out", i);
    CHECK_OK(etpu_model_add_tensor(m, 0, name, ETPU_UINT8, 4, shape, &q, NULL, 0, &y));
    CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_ADD, NULL, 1, 2, (int32_t[]){x, x}, 1, &a, 0, NULL, NULL, 0, NULL));
    CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_ADD, NULL, 1, 2, (int32_t[]){x, a}, 1, &b, 0, NULL, NULL, 0, NULL));
    CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_ADD, NULL, 1, 2, (int32_t[]){a, b}, 1, &y, 0, NULL, NULL, 0, NULL));
    x = y;
    if (i % 50 == 49) {
      snprintf(name, sizeof name, "block%u/cpu", i);
      CHECK_OK(etpu_model_add_tensor(m, 0, name, ETPU_UINT8, 4, shape, &q, NULL, 0, &y));
      CHECK_OK(etpu_model_add_op(m, 0, ETPU_OP_CUSTOM, "etpu_test_cpu_op", 1, 1, &x, 1, &y, 0, NULL, NULL, 0, NULL));
      x = y;
    }
  }
  CHECK_OK(etpu_model_set_io(m, 0, 1, &in, 1, &x));
  return m;
}

/* Occurrences of needle in s. */
static size_t count(const char *s, const char *needle) {
  size_t n = 0, len = strlen(needle);
  for (const char *p = strstr(s, needle); p; p = strstr(p + len, needle)) n++;
  return n;
}

/* The page, compiled with -a (every run of supported ops is a segment). */
static char *page(const etpu_model *m) {
  char *html = NULL;
  size_t size = 0;
  etpu_compile_options co = {0, 0, NULL, true, 0};
  etpu_visualize_options o;
  etpu_visualize_options_init(&o);
  o.compile = &co;
  CHECK_OK(etpu_visualize_html(m, &o, &html, &size));
  CHECK(!html || strlen(html) == size);
  return html;
}

/* Open bytes as a model (copied). */
static etpu_model *open_bytes(const void *data, size_t size, const char *label) {
  etpu_model *m = NULL;
  CHECK_OK(etpu_model_open_buffer(data, size, label, ETPU_OPEN_COPY, &m));
  return m;
}

/* ---- checks ----------------------------------------------------------------- */

static void api_errors(void) {
  etpu_model *m = build_large(1);
  char *html = (char *)"untouched";
  size_t size = 7;
  CHECK(etpu_visualize_html(NULL, NULL, &html, &size) == ETPU_INVALID_ARGUMENT);
  CHECK(etpu_visualize_html(m, NULL, NULL, &size) == ETPU_INVALID_ARGUMENT);
  etpu_visualize_options o;
  etpu_visualize_options_init(&o);
  CHECK(o.struct_size == sizeof o && o.compile == NULL && o.title == NULL);
  o.struct_size = 0;
  CHECK(etpu_visualize_html(m, &o, &html, &size) == ETPU_INVALID_ARGUMENT);
  CHECK(strstr(etpu_errmsg(), "etpu_visualize_options_init") != NULL);
  o.struct_size = sizeof o + 8;
  CHECK(etpu_visualize_html(m, &o, &html, &size) == ETPU_INVALID_ARGUMENT);
  /* Bad compile options reach the caller: -m 9, an -i tensor that is not there. */
  etpu_visualize_options_init(&o);
  etpu_compile_options co = {9, 0, NULL, false, 0};
  o.compile = &co;
  CHECK(etpu_visualize_html(m, &o, &html, &size) == ETPU_INVALID_ARGUMENT);
  const char *names[] = {"no_such_tensor"};
  co = (etpu_compile_options){14, 1, names, false, 0};
  CHECK(etpu_visualize_html(m, &o, &html, &size) == ETPU_INVALID_ARGUMENT);
  CHECK(strcmp(html, "untouched") == 0 && size == 7);
  /* A title of the caller's, escaped like any string. */
  o.compile = NULL;
  o.title = "<b>&title";
  CHECK_OK(etpu_visualize_html(m, &o, &html, NULL));
  CHECK(strstr(html, "<title>etpu visualize: &lt;b&gt;&amp;title</title>") != NULL);
  etpu_free(html);
  etpu_model_free(m);
}

static void large_model(etpu_model *m, uint32_t blocks) {
  uint32_t nops = etpu_model_op_count(m, 0);
  CHECK(nops == blocks * 3 + blocks / 50);
  char *a = page(m), *b = page(m);
  if (!a || !b) goto done;
  CHECK_MSG(count(a, "data-op=\"") == nops, "%zu op nodes for %u ops", count(a, "data-op=\""), nops);
  CHECK_MSG(count(a, "data-where=\"cpu\"") == blocks / 50, "%zu CPU nodes", count(a, "data-where=\"cpu\""));
  CHECK(count(a, "class=\"e cut\"") > 0);
  CHECK(strcmp(a, b) == 0); /* deterministic */
done:
  etpu_free(a);
  etpu_free(b);
}

/* The model compiled by etpu with -a, as bytes (heap, etpu_free). */
static void *compiled_bytes(const etpu_model *m, size_t *size) {
  etpu_compilation *c = NULL;
  void *out = NULL;
  etpu_compile_options co = {0, 0, NULL, true, 0};
  CHECK_OK(etpu_compile(m, &co, &c));
  if (c) CHECK_OK(etpu_compilation_write(c, 0, &out, size));
  etpu_compilation_free(c);
  return out;
}

static void compiled_model(const etpu_model *src, uint32_t blocks) {
  size_t size = 0;
  uint8_t *bytes = compiled_bytes(src, &size);
  if (!bytes) return;
  etpu_model *m = open_bytes(bytes, size, "compiled");
  char *html = m ? page(m) : NULL;
  if (html) {
    /* Every ADD is inside a payload; the custom CPU ops stay outside. */
    CHECK_MSG(count(html, "data-inner=\"") == blocks * 3, "%zu payload op nodes", count(html, "data-inner=\""));
    CHECK(count(html, "data-where=\"cpu\"") == blocks / 50);
    CHECK(count(html, "class=\"cluster\"") == blocks / 50 + (blocks % 50 ? 1 : 0));
    CHECK(strstr(html, "cannot be read") == NULL);
  }
  etpu_free(html);
  etpu_model_free(m);

  /* Broken payloads: each is drawn as an opaque op under a banner. */
  uint8_t *p = NULL;
  for (size_t i = 0; i + 8 <= size; i++)
    if (!memcmp(bytes + i, "ETPUSIM1", 8)) {
      p = bytes + i;
      break;
    }
  CHECK(p != NULL);
  for (int k = 0; p && k < 3; k++) {
    uint8_t *copy = malloc(size);
    if (!copy) break;
    memcpy(copy, bytes, size);
    uint8_t *q = copy + (p - bytes);
    if (k == 0) q[8] = 2;                                        /* format version 2 */
    if (k == 1) q[44] = q[45] = q[46] = q[47] = 0x7f;            /* model size past the bytes */
    if (k == 2) memset(q + 48, 0xee, 16);                        /* the embedded model's root and identifier */
    etpu_model *bm = open_bytes(copy, size, "broken");
    char *h = bm ? page(bm) : NULL;
    if (h) {
      CHECK_MSG(strstr(h, "cannot be read") != NULL, "broken payload %d: no banner", k);
      CHECK_MSG(strstr(h, "g class=\"n tpu opaque\"") != NULL, "broken payload %d: no opaque node", k);
    }
    etpu_free(h);
    etpu_model_free(bm);
    free(copy);
  }
  etpu_free(bytes);
}

/* ---- the appended ZIP of associated files ------------------------------------- */

static size_t put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  return 2;
}
static size_t put32(uint8_t *p, uint32_t v) {
  put16(p, v & 0xffff);
  put16(p + 2, v >> 16);
  return 4;
}

/* A stored ZIP with one entry `name` holding `data`; returns its size.
 * Corruptions: 1 the directory offset past the file, 2 a name length past
 * the directory, 3 the local header offset past the file, 4 method deflate,
 * 5 an entry count larger than the directory, 6 the local header signature
 * wrong. */
static size_t make_zip(uint8_t *z, const char *name, const char *data, int corrupt) {
  size_t n = strlen(name), d = strlen(data), at = 0;
  at += put32(z + at, 0x04034b50u);
  at += put16(z + at, 10);
  at += put16(z + at, 0);
  at += put16(z + at, 0); /* stored */
  at += put32(z + at, 0);
  at += put32(z + at, 0); /* crc: not read */
  at += put32(z + at, (uint32_t)d);
  at += put32(z + at, (uint32_t)d);
  at += put16(z + at, (uint32_t)n);
  at += put16(z + at, 0);
  memcpy(z + at, name, n);
  at += n;
  memcpy(z + at, data, d);
  at += d;
  if (corrupt == 6) z[0] = 'X';
  size_t cd = at;
  at += put32(z + at, 0x02014b50u);
  at += put16(z + at, 20);
  at += put16(z + at, 10);
  at += put16(z + at, 0);
  at += put16(z + at, corrupt == 4 ? 8 : 0);
  at += put32(z + at, 0);
  at += put32(z + at, 0);
  at += put32(z + at, (uint32_t)d);
  at += put32(z + at, (uint32_t)d);
  at += put16(z + at, corrupt == 2 ? 60000 : (uint32_t)n);
  at += put16(z + at, 0);
  at += put16(z + at, 0);
  at += put16(z + at, 0);
  at += put16(z + at, 0);
  at += put32(z + at, 0);
  at += put32(z + at, corrupt == 3 ? 0x7fffff00u : 0);
  memcpy(z + at, name, n);
  at += n;
  size_t cd_size = at - cd;
  at += put32(z + at, 0x06054b50u);
  at += put16(z + at, 0);
  at += put16(z + at, 0);
  at += put16(z + at, corrupt == 5 ? 9 : 1);
  at += put16(z + at, corrupt == 5 ? 9 : 1);
  at += put32(z + at, (uint32_t)cd_size);
  at += put32(z + at, corrupt == 1 ? 0x7fffffffu : (uint32_t)cd);
  at += put16(z + at, 0);
  return at;
}

static void appended_zip(const etpu_model *src) {
  void *bytes = NULL;
  size_t size = 0;
  CHECK_OK(etpu_model_write_buffer(src, 0, &bytes, &size));
  if (!bytes) return;
  static const char *const want[] = {"labels.txt (15 bytes): 3 labels",
                                     "",
                                     "",
                                     "(entry outside the file: not read)",
                                     "compressed: not read",
                                     "labels.txt (15 bytes): 3 labels",
                                     "(entry outside the file: not read)"};
  for (int k = 0; k <= 6; k++) {
    uint8_t *buf = malloc(size + 512);
    if (!buf) break;
    memcpy(buf, bytes, size);
    size_t z = make_zip(buf + size, "labels.txt", "cat\ndog\r\n\nbird\n", k);
    etpu_model *m = open_bytes(buf, size + z, "zip");
    char *h = m ? page(m) : NULL;
    if (h) {
      if (want[k][0])
        CHECK_MSG(strstr(h, want[k]) != NULL, "zip %d: no '%s'", k, want[k]);
      else
        CHECK_MSG(strstr(h, "associated file") == NULL, "zip %d: an entry was listed", k);
    }
    etpu_free(h);
    etpu_model_free(m);
    free(buf);
  }
  etpu_free(bytes);
}

/* ---- out of memory ------------------------------------------------------------ */

static struct {
  uint64_t calls, fail_at;
  int64_t live;
} g_oom;

static void *t_malloc(void *u, size_t n) {
  (void)u;
  if (++g_oom.calls == g_oom.fail_at) return NULL;
  void *p = malloc(n ? n : 1);
  if (p) g_oom.live++;
  return p;
}
static void *t_realloc(void *u, void *p, size_t n) {
  (void)u;
  if (++g_oom.calls == g_oom.fail_at) return NULL;
  void *q = realloc(p, n ? n : 1);
  if (q && !p) g_oom.live++;
  return q;
}
static void t_free(void *u, void *p) {
  (void)u;
  if (p) {
    g_oom.live--;
    free(p);
  }
}

static void out_of_memory(const etpu_model *src) {
  size_t size = 0;
  void *bytes = compiled_bytes(src, &size);
  etpu_model *m = bytes ? open_bytes(bytes, size, "compiled") : NULL;
  if (!m) {
    etpu_free(bytes);
    return;
  }
  const etpu_allocator a = {t_malloc, t_realloc, t_free, NULL};
  etpu_set_allocator(&a);
  uint64_t k = 0, failures = 0;
  for (uint64_t n = 1;; n++) {
    g_oom.calls = 0;
    g_oom.fail_at = n;
    g_oom.live = 0;
    char *html = (char *)"untouched";
    size_t hs = 7;
    etpu_status st = etpu_visualize_html(m, NULL, &html, &hs);
    if (st == ETPU_OK) {
      CHECK(hs > 0 && strlen(html) == hs);
      etpu_free(html);
    } else {
      failures++;
      CHECK_MSG(st == ETPU_OUT_OF_MEMORY, "fail #%llu: %s (%s)", (unsigned long long)n, etpu_status_name(st),
                etpu_errmsg());
      CHECK(strcmp(html, "untouched") == 0 && hs == 7);
    }
    CHECK_MSG(g_oom.live == 0, "fail #%llu: %lld blocks leaked", (unsigned long long)n, (long long)g_oom.live);
    if (g_oom.calls < n) { /* the allocation to fail was never made: a clean run */
      CHECK(st == ETPU_OK);
      k = g_oom.calls;
      break;
    }
  }
  etpu_set_allocator(NULL);
  CHECK_MSG(failures == k && k > 10, "%llu allocations, %llu failed runs", (unsigned long long)k,
            (unsigned long long)failures);
  printf("test_visualize: every one of the %llu allocations of the compiled model's page failed in turn\n",
         (unsigned long long)k);
  etpu_model_free(m);
  etpu_free(bytes);
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "large")) {
    etpu_model *m = build_large((uint32_t)strtoul(argv[3], NULL, 10));
    if (m) CHECK_OK(etpu_model_write_file(m, argv[2], 0));
    etpu_model_free(m);
    return tu_failures ? 1 : 0;
  }
  const uint32_t blocks = 410; /* 1,238 ops */
  api_errors();
  etpu_model *m = build_large(blocks);
  if (m) {
    large_model(m, blocks);
    compiled_model(m, blocks);
    appended_zip(m);
  }
  etpu_model_free(m);
  etpu_model *small = build_large(60);
  if (small) out_of_memory(small);
  etpu_model_free(small);
  return tu_finish("test_visualize");
}
