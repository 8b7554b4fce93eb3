/*
 * robust_corrupt.c — every shared model, damaged in thousands of ways, must
 * open cleanly or fail cleanly.
 *
 * For each model under shared data the test derives deterministic variants
 * (a 64-bit LCG seeded from the printed base seed and the model's relative
 * path) in four families, PER_FAMILY each (fewer for large models, see
 * family_count()):
 *   trunc   truncate to 0..16 bytes, to size-1..size-16, to size/2, and at
 *           random points in between;
 *   flip    XOR one byte (every fourth variant: three bytes) with a random
 *           non-zero value, half anywhere, half next to a table, vtable or
 *           offset found by walking the flatbuffer;
 *   offset  overwrite a uoffset or a vector/string length found by the walk
 *           with 0, 0xFFFFFFFF, size, size-1, size-4, random values, +-1/4/8,
 *           0x80000000, 0x7FFFFFFC;
 *   vtable  change a table's soffset, its vtable's size or inline size, or
 *           one of its field slots (0, 1, 2, 0xFFFF, the inline size, +-...).
 *
 *   pkg-*   Google-compiled models only: the edgetpu-custom-op's custom
 *           options alone, damaged in five families and read with
 *           etpu_package_read (see run_package()).
 *
 * Every variant is opened with etpu_model_open_buffer(ETPU_OPEN_COPY), so the
 * library reads an exact-size heap copy and ASan sees any read past the end.
 * The result must be ETPU_OK, or ETPU_MALFORMED / ETPU_UNSUPPORTED with a
 * message that contains the variant's label and an untouched *model_out.
 * An OK model must answer every query (robust_exercise.h), write (plain and
 * compact), reopen with the same subgraph/tensor/op counts, and write the
 * same bytes again (write is idempotent).
 *
 * Environment: ETPU_ROBUST_SEED=N changes the base seed; ETPU_ROBUST_ONLY=STR
 * keeps models whose path contains STR; ETPU_ROBUST_TRACE=1 prints each
 * variant before opening it (to find the one that crashes);
 * ETPU_ROBUST_PER_FAMILY=N changes the per-family count (default 40);
 * ETPU_ROBUST_SKIP=LABEL,LABEL,... skips the named variants (only to get past
 * a known, reported library bug under a sanitizer that aborts; skipped
 * variants are counted and printed).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "robust_exercise.h"
#include "testutil.h"

#define BASE_SEED 0x45545055524f4255ull /* "ETPUROBU" */

static uint64_t g_seed = BASE_SEED;
static int g_per_family = 40;
static bool g_trace = false;
static const char *g_skip = NULL;
static uint64_t g_skipped = 0;

/* Is label in the comma-separated skip list? */
static bool skipped(const char *label) {
  if (!g_skip) return false;
  size_t n = strlen(label);
  for (const char *p = g_skip; *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    if (len == n && strncmp(p, label, n) == 0) return true;
    if (!c) break;
    p = c + 1;
  }
  return false;
}

/* ---- deterministic random numbers ------------------------------------- */

typedef struct lcg {
  uint64_t s;
} lcg;

static uint32_t rnd(lcg *r) {
  r->s = r->s * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(r->s >> 32);
}

/* Uniform in [0, n) (n > 0). */
static size_t rnd_below(lcg *r, size_t n) {
  uint64_t x = ((uint64_t)rnd(r) << 32) | rnd(r);
  return (size_t)(x % n);
}

static uint64_t hash_str(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
  return h;
}

/* ---- little-endian access ---------------------------------------------- */

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static void wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}

/* ---- a schema-free walk of the flatbuffer ------------------------------ */

/* Positions found by the walk: tables, uoffset words, length words. */
typedef struct posvec {
  size_t *v;
  size_t n, cap;
} posvec;

static void pv_push(posvec *p, size_t x) {
  if (p->n == p->cap) {
    size_t nc = p->cap ? p->cap * 2 : 256;
    size_t *nv = realloc(p->v, nc * sizeof *nv);
    if (!nv) return;
    p->v = nv;
    p->cap = nc;
  }
  p->v[p->n++] = x;
}

typedef struct layout {
  posvec tables;  /* table start (its soffset word) */
  posvec offsets; /* uoffset words (root, fields, vector elements) */
  posvec lengths; /* vector / string length words */
} layout;

/* Does a plausible table start at t? */
static bool looks_like_table(const uint8_t *b, size_t n, size_t t) {
  if (t % 4 != 0 || t + 4 > n) return false;
  int32_t so = (int32_t)rd32(b + t);
  int64_t vt = (int64_t)t - so;
  if (so == 0 || vt < 0 || vt % 2 != 0 || (uint64_t)vt + 4 > n) return false;
  uint16_t vts = rd16(b + vt), tbs = rd16(b + vt + 2);
  return vts >= 4 && vts <= 512 && vts % 2 == 0 && (uint64_t)vt + vts <= n && tbs >= 4 && tbs <= 4096 &&
         t + tbs <= n;
}

#define MAX_TABLES 200000

/* Walk from the root: every 4-aligned field whose value leads to a plausible
 * table is an offset to a table; one that leads to a plausible vector or
 * string is an offset to that (and a vector whose first element leads to a
 * table is taken as a vector of tables). Heuristic, schema-free: good enough
 * to aim corruptions at structure rather than at weights. */
static void walk_layout(const uint8_t *b, size_t n, layout *L) {
  memset(L, 0, sizeof *L);
  if (n < 8) return;
  uint8_t *seen = calloc(n / 4 + 1, 1);
  if (!seen) return;
  posvec queue = {0};
  pv_push(&L->offsets, 0);
  size_t root = rd32(b);
  if (looks_like_table(b, n, root)) {
    pv_push(&queue, root);
    seen[root / 4] = 1;
  }
  for (size_t qi = 0; qi < queue.n && L->tables.n < MAX_TABLES; qi++) {
    size_t t = queue.v[qi];
    pv_push(&L->tables, t);
    size_t vt = (size_t)((int64_t)t - (int32_t)rd32(b + t));
    uint16_t vts = rd16(b + vt), tbs = rd16(b + vt + 2);
    for (uint16_t s = 4; s + 2 <= vts; s += 2) {
      uint16_t fo = rd16(b + vt + s);
      size_t at = t + fo;
      if (fo < 4 || fo + 4u > tbs || at % 4 != 0) continue;
      uint32_t v = rd32(b + at);
      size_t target = at + v;
      if (v == 0 || target % 4 != 0 || target + 4 > n) continue;
      if (looks_like_table(b, n, target)) {
        pv_push(&L->offsets, at);
        if (!seen[target / 4]) {
          seen[target / 4] = 1;
          pv_push(&queue, target);
        }
        continue;
      }
      uint32_t count = rd32(b + target);
      if ((uint64_t)count > (n - target - 4)) continue;
      pv_push(&L->offsets, at);
      pv_push(&L->lengths, target);
      /* A vector of offsets to tables? */
      if (count > 0 && count <= (n - target - 4) / 4) {
        size_t e0 = target + 4;
        if (looks_like_table(b, n, e0 + rd32(b + e0))) {
          for (uint32_t k = 0; k < count; k++) {
            size_t e = e0 + 4 * (size_t)k;
            size_t tt = e + rd32(b + e);
            if (!looks_like_table(b, n, tt)) continue;
            pv_push(&L->offsets, e);
            if (!seen[tt / 4]) {
              seen[tt / 4] = 1;
              pv_push(&queue, tt);
            }
          }
        }
      }
    }
  }
  free(queue.v);
  free(seen);
}

static void free_layout(layout *L) {
  free(L->tables.v);
  free(L->offsets.v);
  free(L->lengths.v);
}

/* ---- variants ------------------------------------------------------------ */

/* A variant: the first `size` bytes of the work copy, after up to 4 edits
 * (restored afterwards). */
typedef struct edit {
  size_t at;
  uint8_t len; /* 1, 2 or 4 */
  uint32_t value;
  uint32_t old;
} edit;

typedef struct variant {
  size_t size;
  int nedits;
  edit e[4];
  char what[160];
} variant;

static void add_edit(variant *v, const uint8_t *work, size_t n, size_t at, uint8_t len, uint32_t value) {
  if (v->nedits >= 4 || at + len > n) return;
  edit *e = &v->e[v->nedits++];
  e->at = at;
  e->len = len;
  e->value = value;
  e->old = len == 4 ? rd32(work + at) : len == 2 ? rd16(work + at) : work[at];
}

static void apply(uint8_t *work, const variant *v) {
  for (int i = 0; i < v->nedits; i++) {
    const edit *e = &v->e[i];
    if (e->len == 4) wr32(work + e->at, e->value);
    else if (e->len == 2) wr16(work + e->at, (uint16_t)e->value);
    else work[e->at] = (uint8_t)e->value;
  }
}

static void restore(uint8_t *work, const variant *v) {
  for (int i = v->nedits - 1; i >= 0; i--) {
    const edit *e = &v->e[i];
    if (e->len == 4) wr32(work + e->at, e->old);
    else if (e->len == 2) wr16(work + e->at, (uint16_t)e->old);
    else work[e->at] = (uint8_t)e->old;
  }
}

/* Large models cost a copy, a write and a reopen per variant that opens, so
 * they get fewer variants: the full count up to 1 MiB, then in proportion,
 * at least 10 per family. */
static int family_count(size_t n) {
  const size_t full = (size_t)1 << 20;
  if (n <= full) return g_per_family;
  size_t k = (size_t)g_per_family * full / n;
  int min = g_per_family < 10 ? g_per_family : 10;
  return k < (size_t)min ? min : (int)k;
}

static size_t pick(lcg *r, const posvec *p) { return p->v[rnd_below(r, p->n)]; }

/* Position near structure: a table, its vtable, or an offset word, plus 0..7. */
static size_t near_structure(lcg *r, const layout *L, const uint8_t *b, size_t n) {
  size_t base;
  uint32_t k = rnd(r) % 3;
  if (k == 0 && L->tables.n) {
    base = pick(r, &L->tables);
  } else if (k == 1 && L->tables.n) {
    size_t t = pick(r, &L->tables);
    base = (size_t)((int64_t)t - (int32_t)rd32(b + t));
  } else if (L->offsets.n) {
    base = pick(r, &L->offsets);
  } else {
    base = rnd_below(r, n);
  }
  base += rnd(r) % 8;
  return base < n ? base : n - 1;
}

/* ---- checking one variant -------------------------------------------- */

typedef struct stats {
  uint64_t variants, ok, malformed, unsupported, other;
} stats;

static bool same_counts(const etpu_model *a, const etpu_model *b) {
  if (etpu_model_subgraph_count(a) != etpu_model_subgraph_count(b)) return false;
  for (uint32_t s = 0; s < etpu_model_subgraph_count(a); s++)
    if (etpu_model_tensor_count(a, s) != etpu_model_tensor_count(b, s) ||
        etpu_model_op_count(a, s) != etpu_model_op_count(b, s) ||
        etpu_model_input_count(a, s) != etpu_model_input_count(b, s) ||
        etpu_model_output_count(a, s) != etpu_model_output_count(b, s))
      return false;
  return etpu_model_buffer_count(a) == etpu_model_buffer_count(b) &&
         etpu_model_metadata_count(a) == etpu_model_metadata_count(b);
}

static void check_variant(const uint8_t *data, const variant *v, const char *label, stats *S) {
  etpu_model *const sentinel = (etpu_model *)(uintptr_t)0x1234;
  etpu_model *m = sentinel;
  if (skipped(label)) {
    printf("  skipped %s (%s)\n", label, v->what);
    g_skipped++;
    return;
  }
  if (g_trace) {
    fprintf(stderr, "variant %s: %s\n", label, v->what);
    fflush(stderr);
  }
  S->variants++;
  etpu_status st = etpu_model_open_buffer(data, v->size, label, ETPU_OPEN_COPY, &m);
  if (st != ETPU_OK) {
    const char *msg = etpu_errmsg();
    if (st == ETPU_MALFORMED) S->malformed++;
    else if (st == ETPU_UNSUPPORTED) S->unsupported++;
    else S->other++;
    CHECK_MSG(st == ETPU_MALFORMED || st == ETPU_UNSUPPORTED, "%s (%s): status %s: %s", label, v->what,
              etpu_status_name(st), msg);
    CHECK_MSG(msg && msg[0] && strstr(msg, label), "%s (%s): message lacks the label: '%s'", label, v->what,
              msg ? msg : "(null)");
    CHECK_MSG(m == sentinel, "%s (%s): model_out changed on failure", label, v->what);
    return;
  }
  S->ok++;
  CHECK_MSG(m != sentinel && m != NULL, "%s (%s): OK but no model", label, v->what);
  if (m == sentinel || !m) return;
  int bad = robust_exercise(m);
  CHECK_MSG(bad == 0, "%s (%s): %d query problems on a model that opened", label, v->what, bad);
  void *out = NULL;
  size_t out_size = 0;
  st = etpu_model_write_buffer(m, 0, &out, &out_size);
  CHECK_MSG(st == ETPU_OK, "%s (%s): opened but write failed: %s: %s", label, v->what, etpu_status_name(st),
            etpu_errmsg());
  if (st == ETPU_OK) {
    char label2[300];
    snprintf(label2, sizeof label2, "%s/rewritten", label);
    etpu_model *m2 = NULL;
    st = etpu_model_open_buffer(out, out_size, label2, ETPU_OPEN_COPY, &m2);
    CHECK_MSG(st == ETPU_OK, "%s (%s): written copy does not reopen: %s: %s", label, v->what, etpu_status_name(st),
              etpu_errmsg());
    if (st == ETPU_OK) {
      CHECK_MSG(same_counts(m, m2), "%s (%s): reopened copy has different counts", label, v->what);
      bad = robust_exercise(m2);
      CHECK_MSG(bad == 0, "%s (%s): %d query problems on the reopened copy", label, v->what, bad);
      void *out2 = NULL;
      size_t out2_size = 0;
      st = etpu_model_write_buffer(m2, 0, &out2, &out2_size);
      CHECK_MSG(st == ETPU_OK, "%s (%s): reopened copy does not write: %s", label, v->what, etpu_errmsg());
      if (st == ETPU_OK)
        CHECK_MSG(out2_size == out_size && memcmp(out, out2, out_size) == 0,
                  "%s (%s): writing the reopened copy gives different bytes (%zu vs %zu)", label, v->what, out2_size,
                  out_size);
      etpu_free(out2);
      etpu_model_free(m2);
    }
    etpu_free(out);
  }
  out = NULL;
  st = etpu_model_write_buffer(m, ETPU_WRITE_COMPACT, &out, &out_size);
  CHECK_MSG(st == ETPU_OK, "%s (%s): compact write failed: %s", label, v->what, etpu_errmsg());
  if (st == ETPU_OK) {
    etpu_model *m3 = NULL;
    st = etpu_model_open_buffer(out, out_size, "compact", ETPU_OPEN_COPY, &m3);
    CHECK_MSG(st == ETPU_OK, "%s (%s): compact copy does not reopen: %s", label, v->what, etpu_errmsg());
    if (st == ETPU_OK) etpu_model_free(m3);
    etpu_free(out);
  }
  etpu_model_free(m);
}

/* ---- one model ----------------------------------------------------------- */

static void run_model(const char *path, const char *rel, stats *S, uint64_t *variants_out) {
  unsigned char *orig = NULL;
  size_t n = 0;
  if (!tu_read_file(path, &orig, &n)) {
    CHECK_MSG(false, "cannot read %s", path);
    return;
  }
  uint8_t *work = malloc(n ? n : 1);
  if (!work) {
    free(orig);
    CHECK(work != NULL);
    return;
  }
  memcpy(work, orig, n);
  layout L;
  walk_layout(orig, n, &L);
  lcg r = {g_seed ^ hash_str(rel)};
  int K = family_count(n);
  uint64_t before = S->variants;
  char label[300];
  variant v;

  /* trunc */
  for (int i = 0; i < K && n > 0; i++) {
    memset(&v, 0, sizeof v);
    size_t cut;
    if (i <= 16) cut = (size_t)i;
    else if (i - 17 < 8) {
      static const size_t back[8] = {1, 2, 3, 4, 5, 8, 12, 16};
      cut = n > back[i - 17] ? n - back[i - 17] : 0;
    } else if (i == 25) cut = n / 2;
    else cut = n > 34 ? 17 + rnd_below(&r, n - 34) : rnd_below(&r, n);
    if (cut >= n) continue;
    v.size = cut;
    snprintf(v.what, sizeof v.what, "truncated to %zu of %zu bytes", cut, n);
    snprintf(label, sizeof label, "%s#trunc%d", rel, i);
    check_variant(work, &v, label, S);
  }
  /* flip */
  for (int i = 0; i < K && n > 0; i++) {
    memset(&v, 0, sizeof v);
    v.size = n;
    int nflips = i % 4 == 3 ? 3 : 1;
    int len = 0;
    len += snprintf(v.what + len, sizeof v.what - (size_t)len, "xor");
    for (int f = 0; f < nflips; f++) {
      size_t at = (i % 2 == 0) ? rnd_below(&r, n) : near_structure(&r, &L, orig, n);
      uint8_t x = (uint8_t)(1 + rnd(&r) % 255);
      add_edit(&v, work, n, at, 1, work[at] ^ x);
      if (len < (int)sizeof v.what)
        len += snprintf(v.what + len, sizeof v.what - (size_t)len, " [%zu]^=0x%02x", at, x);
    }
    snprintf(label, sizeof label, "%s#flip%d", rel, i);
    apply(work, &v);
    check_variant(work, &v, label, S);
    restore(work, &v);
  }
  /* offset */
  size_t nwords = L.offsets.n + L.lengths.n;
  for (int i = 0; i < K && nwords > 0; i++) {
    memset(&v, 0, sizeof v);
    v.size = n;
    size_t k = rnd_below(&r, nwords);
    size_t at = k < L.offsets.n ? L.offsets.v[k] : L.lengths.v[k - L.offsets.n];
    uint32_t old = rd32(work + at), nv;
    switch (i % 15) {
      case 0: nv = 0; break;
      case 1: nv = 0xFFFFFFFFu; break;
      case 2: nv = (uint32_t)n; break;
      case 3: nv = (uint32_t)(n - 1); break;
      case 4: nv = (uint32_t)(n - 4); break;
      case 5: nv = rnd(&r); break;
      case 6: nv = (uint32_t)rnd_below(&r, n); break;
      case 7: nv = old + 1; break;
      case 8: nv = old - 1; break;
      case 9: nv = old + 4; break;
      case 10: nv = old - 4; break;
      case 11: nv = old + 8; break;
      case 12: nv = old - 8; break;
      case 13: nv = 0x80000000u; break;
      default: nv = 0x7FFFFFFCu; break;
    }
    add_edit(&v, work, n, at, 4, nv);
    snprintf(v.what, sizeof v.what, "%s word at %zu: %" PRIu32 " -> %" PRIu32,
             k < L.offsets.n ? "offset" : "length", at, old, nv);
    snprintf(label, sizeof label, "%s#offset%d", rel, i);
    apply(work, &v);
    check_variant(work, &v, label, S);
    restore(work, &v);
  }
  /* vtable */
  for (int i = 0; i < K && L.tables.n > 0; i++) {
    memset(&v, 0, sizeof v);
    v.size = n;
    size_t t = pick(&r, &L.tables);
    int32_t so = (int32_t)rd32(work + t);
    size_t vt = (size_t)((int64_t)t - so);
    uint16_t vts = rd16(work + vt), tbs = rd16(work + vt + 2);
    uint32_t kind = (uint32_t)i % 4;
    if (kind == 0) {
      static const int32_t d[] = {2, -2, 4, -4, 8, -8};
      uint32_t c = rnd(&r) % 9;
      int32_t nso = c < 6 ? (int32_t)((uint32_t)so + (uint32_t)d[c]) : c == 6 ? 0 : c == 7 ? INT32_MIN : (int32_t)rnd(&r);
      add_edit(&v, work, n, t, 4, (uint32_t)nso);
      snprintf(v.what, sizeof v.what, "table at %zu: soffset %" PRId32 " -> %" PRId32, t, so, nso);
    } else if (kind == 1) {
      static const uint16_t fixed[] = {0, 2, 3, 0xFFFF};
      uint32_t c = rnd(&r) % 6;
      uint16_t nv = c < 4 ? fixed[c] : c == 4 ? (uint16_t)(vts + 2) : (uint16_t)(vts - 2);
      add_edit(&v, work, n, vt, 2, nv);
      snprintf(v.what, sizeof v.what, "vtable at %zu: size %u -> %u", vt, vts, nv);
    } else if (kind == 2) {
      static const uint16_t fixed[] = {0, 2, 0xFFFF};
      uint32_t c = rnd(&r) % 4;
      uint16_t nv = c < 3 ? fixed[c] : (uint16_t)(tbs - 4);
      add_edit(&v, work, n, vt + 2, 2, nv);
      snprintf(v.what, sizeof v.what, "vtable at %zu: inline size %u -> %u", vt, tbs, nv);
    } else {
      uint16_t nslots = (uint16_t)((vts - 4) / 2);
      if (nslots == 0) {
        add_edit(&v, work, n, vt, 2, 6); /* claim one slot: it reads the next bytes */
        snprintf(v.what, sizeof v.what, "vtable at %zu: size 4 -> 6", vt);
      } else {
        uint16_t slot = (uint16_t)(rnd(&r) % nslots);
        uint16_t old = rd16(work + vt + 4 + 2 * slot), nv;
        switch (rnd(&r) % 10) {
          case 0: nv = 0; break;
          case 1: nv = 1; break;
          case 2: nv = 2; break;
          case 3: nv = 0xFFFF; break;
          case 4: nv = tbs; break;
          case 5: nv = (uint16_t)(tbs - 1); break;
          case 6: nv = (uint16_t)(tbs - 2); break;
          case 7: nv = (uint16_t)rnd(&r); break;
          case 8: nv = (uint16_t)(old + 1); break;
          default: nv = (uint16_t)(old + 4); break;
        }
        add_edit(&v, work, n, vt + 4 + 2 * (size_t)slot, 2, nv);
        snprintf(v.what, sizeof v.what, "vtable at %zu (table %zu): slot %u %u -> %u", vt, t, slot, old, nv);
      }
    }
    snprintf(label, sizeof label, "%s#vtable%d", rel, i);
    apply(work, &v);
    check_variant(work, &v, label, S);
    restore(work, &v);
  }
  CHECK_MSG(memcmp(work, orig, n) == 0, "%s: work copy not restored", rel);
  *variants_out = S->variants - before;
  free_layout(&L);
  free(work);
  free(orig);
}

/* ---- Google's Edge TPU package ------------------------------------------ */

/* Walk the FlatBuffer at b[base..base+len) and, inside it, every vector
 * whose bytes look like a FlatBuffer of their own (the Package holds the
 * MultiExecutable, which holds the Executables), to depth 3; positions are
 * absolute. */
static void walk_nested(const uint8_t *b, size_t base, size_t len, int depth, layout *L) {
  layout sub;
  walk_layout(b + base, len, &sub);
  for (size_t i = 0; i < sub.tables.n; i++) pv_push(&L->tables, base + sub.tables.v[i]);
  for (size_t i = 0; i < sub.offsets.n; i++) pv_push(&L->offsets, base + sub.offsets.v[i]);
  for (size_t i = 0; i < sub.lengths.n; i++) {
    const size_t at = sub.lengths.v[i];
    pv_push(&L->lengths, base + at);
    const uint32_t n = rd32(b + base + at);
    if (depth >= 3 || n < 1) continue;
    if (n >= 16 && looks_like_table(b + base + at + 4, n, rd32(b + base + at + 4))) {
      walk_nested(b, base + at + 4, n, depth + 1, L); /* a [ubyte] holding a FlatBuffer */
      continue;
    }
    for (uint32_t k = 0; k < n && k < 64 && (uint64_t)at + 8 + 4 * (uint64_t)k <= len; k++) {
      /* a vector of strings, each holding a FlatBuffer (MultiExecutable's executables) */
      const size_t e = base + at + 4 + 4 * (size_t)k;
      const uint64_t str = (uint64_t)e + rd32(b + e);
      if (str + 4 > base + len) break;
      const uint32_t sl = rd32(b + str);
      if (sl < 16 || sl > base + len - str - 4 || !looks_like_table(b + str + 4, sl, rd32(b + str + 4))) break;
      pv_push(&L->offsets, e);
      pv_push(&L->lengths, (size_t)str);
      walk_nested(b, (size_t)str + 4, sl, depth + 1, L);
    }
  }
  free_layout(&sub);
}

static void check_package_variant(const uint8_t *data, size_t size, const variant *v, const char *label, stats *S) {
  if (skipped(label)) {
    g_skipped++;
    return;
  }
  if (g_trace) {
    fprintf(stderr, "variant %s: %s\n", label, v->what);
    fflush(stderr);
  }
  S->variants++;
  uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees a read past the end */
  if (!copy) {
    CHECK(copy != NULL);
    return;
  }
  memcpy(copy, data, size);
  etpu_package *const sentinel = (etpu_package *)(uintptr_t)0x1234;
  etpu_package *p = sentinel;
  etpu_status st = etpu_package_read(copy, size, label, &p);
  if (st == ETPU_OK) {
    S->ok++;
    CHECK_MSG(robust_package_exercise(p) == 0, "%s (%s): a package that read OK is inconsistent", label, v->what);
    etpu_package_free(p);
  } else {
    const char *msg = etpu_errmsg();
    if (st == ETPU_MALFORMED) S->malformed++;
    else if (st == ETPU_UNSUPPORTED) S->unsupported++;
    else S->other++;
    CHECK_MSG(st == ETPU_MALFORMED || st == ETPU_UNSUPPORTED, "%s (%s): status %s: %s", label, v->what,
              etpu_status_name(st), msg);
    CHECK_MSG(msg[0] && strstr(msg, label), "%s (%s): message lacks the label: '%s'", label, v->what, msg);
    CHECK_MSG(p == sentinel, "%s (%s): package_out changed on failure", label, v->what);
  }
  free(copy);
}

/* The custom options of a Google-compiled model's edgetpu-custom-op, damaged
 * in five families (PER_FAMILY each, fewer above 1 MiB): trunc (cuts
 * anywhere, the last 1..16 bytes, half), flip (one or three bytes, half in
 * the FlexBuffers map at the end, half near a table or offset of the nested
 * FlatBuffers), offset (an offset or vector/string length of the Package,
 * the MultiExecutable or an Executable set to 0, all ones, the size, huge
 * counts such as 0x7FFFFFFC, +-1/4), vtable (soffset, vtable size or a field
 * slot of a nested table) and flex (a byte of the FlexBuffers trailer: root
 * width, packed type, map and key offsets). */
static void run_package(const char *path, const char *rel, stats *S, uint64_t *variants_out) {
  etpu_model *m;
  *variants_out = 0;
  if (etpu_model_open(path, &m) != ETPU_OK) return;
  etpu_op_info op;
  if (etpu_model_op_count(m, 0) == 0 || etpu_model_op(m, 0, 0, &op) != ETPU_OK || op.code != ETPU_OP_CUSTOM ||
      strcmp(op.name, "edgetpu-custom-op") || op.custom_options_size < 64 ||
      !memcmp(op.custom_options, "ETPUSIM1", 8)) {
    etpu_model_free(m);
    return;
  }
  const size_t n = op.custom_options_size;
  uint8_t *work = malloc(n), *orig = malloc(n);
  if (!work || !orig) {
    CHECK(work && orig);
    free(work);
    free(orig);
    etpu_model_free(m);
    return;
  }
  memcpy(orig, op.custom_options, n);
  memcpy(work, orig, n);
  etpu_model_free(m);
  layout L;
  memset(&L, 0, sizeof L);
  for (size_t at = 4; at + 4 <= n; at++) /* the Package: the string whose bytes 4..8 are "DWN1" */
    if (!memcmp(orig + at, "DWN1", 4) && at >= 8 && rd32(orig + at - 8) <= n - (at - 4)) {
      walk_nested(orig, at - 4, rd32(orig + at - 8), 0, &L);
      break;
    }
  if (g_trace) fprintf(stderr, "%s: package walk: %zu tables, %zu offsets, %zu lengths\n", rel, L.tables.n, L.offsets.n, L.lengths.n);
  lcg r = {g_seed ^ hash_str(rel) ^ 0x5041434bu};
  const int K = family_count(n);
  const uint64_t before = S->variants;
  char label[300];
  variant v;
  for (int i = 0; i < K; i++) { /* trunc */
    memset(&v, 0, sizeof v);
    static const size_t back[8] = {1, 2, 3, 4, 5, 8, 12, 16};
    v.size = i < 8 ? n - back[i] : i == 8 ? n / 2 : rnd_below(&r, n);
    snprintf(v.what, sizeof v.what, "custom options truncated to %zu of %zu bytes", v.size, n);
    snprintf(label, sizeof label, "%s#pkg-trunc%d", rel, i);
    check_package_variant(work, v.size, &v, label, S);
  }
  for (int i = 0; i < K; i++) { /* flip */
    memset(&v, 0, sizeof v);
    v.size = n;
    const int nflips = i % 4 == 3 ? 3 : 1;
    int len = snprintf(v.what, sizeof v.what, "xor");
    for (int f = 0; f < nflips; f++) {
      size_t at = i % 2 == 0 ? n - 1 - rnd_below(&r, n < 96 ? n : 96) : near_structure(&r, &L, orig, n);
      uint8_t x = (uint8_t)(1 + rnd(&r) % 255);
      add_edit(&v, work, n, at, 1, work[at] ^ x);
      if (len < (int)sizeof v.what) len += snprintf(v.what + len, sizeof v.what - (size_t)len, " [%zu]^=0x%02x", at, x);
    }
    snprintf(label, sizeof label, "%s#pkg-flip%d", rel, i);
    apply(work, &v);
    check_package_variant(work, n, &v, label, S);
    restore(work, &v);
  }
  const size_t nwords = L.offsets.n + L.lengths.n;
  for (int i = 0; i < K && nwords; i++) { /* offset, length */
    memset(&v, 0, sizeof v);
    v.size = n;
    const size_t k = rnd_below(&r, nwords);
    const size_t at = k < L.offsets.n ? L.offsets.v[k] : L.lengths.v[k - L.offsets.n];
    const uint32_t old = rd32(work + at);
    static const uint32_t fixed[] = {0, 0xFFFFFFFFu, 0x7FFFFFFCu, 0x80000000u, 0x3FFFFFFFu, 0x10000000u};
    const uint32_t c = (uint32_t)i % 11;
    const uint32_t nv = c < 6 ? fixed[c] : c == 6 ? (uint32_t)n : c == 7 ? old + 1 : c == 8 ? old - 4 : c == 9 ? old + 4 : rnd(&r);
    add_edit(&v, work, n, at, 4, nv);
    snprintf(v.what, sizeof v.what, "%s word at %zu: %" PRIu32 " -> %" PRIu32, k < L.offsets.n ? "offset" : "length",
             at, old, nv);
    snprintf(label, sizeof label, "%s#pkg-offset%d", rel, i);
    apply(work, &v);
    check_package_variant(work, n, &v, label, S);
    restore(work, &v);
  }
  for (int i = 0; i < K && L.tables.n; i++) { /* vtable */
    memset(&v, 0, sizeof v);
    v.size = n;
    const size_t t = pick(&r, &L.tables);
    const size_t vt = (size_t)((int64_t)t - (int32_t)rd32(work + t));
    const uint16_t vts = rd16(work + vt);
    const uint32_t kind = (uint32_t)i % 3;
    if (kind == 0) {
      add_edit(&v, work, n, t, 4, rd32(work + t) + (rnd(&r) % 2 ? 2u : 0x10000u));
    } else if (kind == 1) {
      add_edit(&v, work, n, vt, 2, rnd(&r) % 2 ? 0xFFFFu : 3u);
    } else if (vts > 4) {
      add_edit(&v, work, n, vt + 4 + 2 * rnd_below(&r, (vts - 4) / 2), 2, rnd(&r) % 2 ? 0xFFFCu : 1u);
    }
    snprintf(v.what, sizeof v.what, "table at %zu (vtable %zu): edit kind %u", t, vt, kind);
    snprintf(label, sizeof label, "%s#pkg-vtable%d", rel, i);
    apply(work, &v);
    check_package_variant(work, n, &v, label, S);
    restore(work, &v);
  }
  for (int i = 0; i < K; i++) { /* flex: the trailer of the map */
    memset(&v, 0, sizeof v);
    v.size = n;
    const size_t at = n - 1 - (size_t)(i % 24);
    static const uint8_t vals[] = {0, 1, 3, 0x7F, 0xFF, 0x24, 0x14};
    add_edit(&v, work, n, at, 1, vals[rnd(&r) % sizeof vals]);
    snprintf(v.what, sizeof v.what, "byte %zu of the FlexBuffers trailer set to 0x%02x", at, v.e[0].value);
    snprintf(label, sizeof label, "%s#pkg-flex%d", rel, i);
    apply(work, &v);
    check_package_variant(work, n, &v, label, S);
    restore(work, &v);
  }
  CHECK_MSG(memcmp(work, orig, n) == 0, "%s: package work copy not restored", rel);
  *variants_out = S->variants - before;
  free_layout(&L);
  free(work);
  free(orig);
}

static double now_s(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void) {
  const char *dir = tu_shared_dir();
  if (!dir) return tu_skip_code();
  const char *e = getenv("ETPU_ROBUST_SEED");
  if (e && *e) g_seed = strtoull(e, NULL, 0);
  e = getenv("ETPU_ROBUST_PER_FAMILY");
  if (e && *e) g_per_family = atoi(e) > 0 ? atoi(e) : 1;
  e = getenv("ETPU_ROBUST_TRACE");
  g_trace = e && e[0] == '1';
  const char *only = getenv("ETPU_ROBUST_ONLY");
  g_skip = getenv("ETPU_ROBUST_SKIP");
  if (g_skip && !*g_skip) g_skip = NULL;
  printf("robust_corrupt: base seed 0x%016" PRIx64 ", %d variants per family (fewer above 1 MiB)\n", g_seed,
         g_per_family);
  char **paths = NULL;
  size_t np = tu_list_models(dir, &paths);
  CHECK_MSG(np > 0, "no models under %s", dir);
  size_t dlen = strlen(dir);
  stats S = {0};
  size_t models = 0, packages = 0;
  double t0 = now_s();
  for (size_t i = 0; i < np; i++) {
    const char *rel = paths[i];
    if (strncmp(rel, dir, dlen) == 0 && rel[dlen] == '/') rel += dlen + 1;
    if (only && *only && !strstr(paths[i], only)) continue;
    int before = tu_failures;
    uint64_t nv = 0;
    double t1 = now_s();
    run_model(paths[i], rel, &S, &nv);
    uint64_t npk = 0;
    run_package(paths[i], rel, &S, &npk);
    packages += npk != 0;
    nv += npk;
    models++;
    double dt = now_s() - t1;
    if (tu_failures != before || dt > 2.0)
      printf("  %s: %" PRIu64 " variants, %.2f s%s\n", rel, nv, dt, tu_failures != before ? ", FAILURES" : "");
  }
  tu_free_list(paths, np);
  printf("robust_corrupt: %zu models (%zu with Google's Edge TPU package), %" PRIu64 " variants tested in %.1f s: %" PRIu64 " opened OK (written, "
         "reopened), %" PRIu64 " malformed, %" PRIu64 " unsupported, %" PRIu64 " other; %" PRIu64 " skipped\n",
         models, packages, S.variants, now_s() - t0, S.ok, S.malformed, S.unsupported, S.other, g_skipped);
  return tu_finish("robust_corrupt");
}
