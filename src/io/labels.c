/*
 * labels.c — classifier label files: one label per line (imagenet_labels
 * .txt, whose line 0 is "background"), or "ID label" / "ID: label" lines
 * (the form Coral's read_label_file also accepts; used when every non-blank
 * line starts that way).
 */
#include <stdio.h>
#include <string.h>

#include "io/io.h"

#define LABELS_MAX_BYTES ((size_t)64 << 20)

struct etpu_labels {
  char *text;          /* the file, lines NUL-terminated in place */
  const char **label;  /* count entries; NULL where an ID file has a gap */
  uint32_t count;
  bool with_ids;       /* "ID label" form: no background offset */
};

static bool is_space(char c) { return c == ' ' || c == '\t'; }

/* "123 label" or "123: label": the ID and where the label starts. */
static bool id_line(const char *s, uint32_t *id, const char **rest) {
  const char *p = s;
  uint64_t v = 0;
  if (*p < '0' || *p > '9') return false;
  while (*p >= '0' && *p <= '9') {
    v = v * 10u + (uint64_t)(*p - '0');
    if (v > 10000000u) return false;
    p++;
  }
  if (*p != ':' && !is_space(*p)) return false;
  while (*p == ':' || is_space(*p)) p++;
  if (!*p) return false;
  *id = (uint32_t)v;
  *rest = p;
  return true;
}

etpu_status etpu_labels_read(const char *path, etpu_labels **out) {
  if (!path || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_labels_read: NULL argument");
  void *data;
  size_t n;
  etpu_status st = etpu_file_read(path, LABELS_MAX_BYTES, &data, &n);
  if (st != ETPU_OK) return st == ETPU_INVALID_ARGUMENT ? etpu_fail_prefix(ETPU_MALFORMED, "labels") : st;
  if (memchr(data, 0, n)) {
    etpu_free(data);
    return etpu_fail(ETPU_MALFORMED, "%s: labels: a NUL byte; label files are text", path);
  }
  etpu_labels *l = etpu_calloc(1, sizeof *l);
  char *text = etpu_malloc(n + 1);
  if (!l || !text) {
    etpu_free(data);
    etpu_free(l);
    etpu_free(text);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  memcpy(text, data, n);
  text[n] = 0;
  etpu_free(data);
  l->text = text;
  /* Split into lines; a final newline ends the last line. */
  uint32_t nlines = 0;
  for (size_t i = 0; i < n; i++) nlines += text[i] == '\n';
  if (n && text[n - 1] != '\n') nlines++;
  const char **line = etpu_calloc(nlines + 1u, sizeof *line);
  if (!line) {
    etpu_labels_free(l);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  char *p = text;
  for (uint32_t i = 0; i < nlines; i++) {
    line[i] = p;
    char *nl = strchr(p, '\n');
    char *end = nl ? nl : p + strlen(p);
    while (end > p && (end[-1] == '\r' || is_space(end[-1]))) end--;
    *end = 0;
    p = nl ? nl + 1 : end;
  }
  /* The ID form when every non-blank line has an ID. */
  bool ids = nlines > 0;
  uint32_t max_id = 0, id;
  const char *rest;
  for (uint32_t i = 0; i < nlines && ids; i++) {
    if (!line[i][0]) continue;
    if (!id_line(line[i], &id, &rest))
      ids = false;
    else if (id > max_id)
      max_id = id;
  }
  if (ids) {
    const char **byid = etpu_calloc((size_t)max_id + 1u, sizeof *byid);
    if (!byid) {
      etpu_free(line);
      etpu_labels_free(l);
      return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    for (uint32_t i = 0; i < nlines; i++)
      if (line[i][0] && id_line(line[i], &id, &rest)) byid[id] = rest;
    etpu_free(line);
    l->label = byid;
    l->count = max_id + 1u;
    l->with_ids = true;
  } else {
    l->label = line;
    l->count = nlines;
  }
  *out = l;
  return ETPU_OK;
}

void etpu_labels_free(etpu_labels *l) {
  if (!l) return;
  etpu_free((void *)l->label);
  etpu_free(l->text);
  etpu_free(l);
}

uint32_t etpu_labels_count(const etpu_labels *l) { return l ? l->count : 0; }

const char *etpu_labels_get(const etpu_labels *l, uint32_t classes, uint32_t index) {
  if (!l) return "";
  uint64_t i = index;
  if (!l->with_ids && classes > 0 && l->count == (uint64_t)classes + 1u) i++;
  if (i >= l->count || !l->label[i]) return "";
  return l->label[i];
}
