/*
 * text.c — the growable string buffer and the escaper for untrusted strings
 * (text.h draws the rules as a table). One decoder walks the string: each
 * well-formed UTF-8 sequence is copied or, when it is a control code point,
 * escaped by code point; each byte that does not start one is escaped by its
 * value. The public etpu_escape() wraps the three kinds for callers of the
 * public header (the CLI).
 */
#include "base/text.h"

#include <stdio.h>
#include <string.h>

/* ---- growable buffer ---------------------------------------------------- */

static bool reserve(etpu_strbuf *b, size_t extra) {
  if (b->oom) return false;
  size_t need;
  if (!etpu_add_size(b->len, extra, &need) || !etpu_add_size(need, 1, &need)) {
    b->oom = true;
    return false;
  }
  if (need <= b->cap) return true;
  if (b->fixed) {
    b->oom = true;
    return false;
  }
  size_t nc = b->cap ? b->cap : 256;
  while (nc < need) {
    if (nc > SIZE_MAX / 2) {
      nc = need;
      break;
    }
    nc *= 2;
  }
  char *np = etpu_realloc(b->p, nc);
  if (!np) {
    b->oom = true;
    return false;
  }
  b->p = np;
  b->cap = nc;
  return true;
}

void etpu_strbuf_append(etpu_strbuf *b, const char *s, size_t n) {
  if (!reserve(b, n)) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = 0;
}

void etpu_strbuf_vprintf(etpu_strbuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || !reserve(b, (size_t)n)) return;
  vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
  b->len += (size_t)n;
}

void etpu_strbuf_printf(etpu_strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  etpu_strbuf_vprintf(b, fmt, ap);
  va_end(ap);
}

void etpu_strbuf_free(etpu_strbuf *b) {
  if (!b->fixed) etpu_free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- UTF-8 -------------------------------------------------------------- */

size_t etpu_utf8_seq(const unsigned char *s, size_t n) {
  if (n == 0) return 0;
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    if (c == 0xe0) lo = 0xa0;      /* overlong below U+0800 */
    else if (c == 0xed) hi = 0x9f; /* surrogates U+D800-U+DFFF */
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    if (c == 0xf0) lo = 0x90;      /* overlong below U+10000 */
    else if (c == 0xf4) hi = 0x8f; /* above U+10FFFF */
  } else {
    return 0; /* continuation byte, 0xc0, 0xc1, 0xf5-0xff */
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t k = 2; k < len; k++)
    if (s[k] < 0x80 || s[k] > 0xbf) return 0;
  return len;
}

static uint32_t decode(const unsigned char *s, size_t len) {
  if (len == 1) return s[0];
  uint32_t cp = s[0] & (0x7fu >> len);
  for (size_t k = 1; k < len; k++) cp = (cp << 6) | (s[k] & 0x3fu);
  return cp;
}

/* ---- the escaper -------------------------------------------------------- */

typedef enum kind { KIND_TEXT, KIND_JSON, KIND_HTML } kind;

static void put_cp(etpu_strbuf *b, uint32_t cp) { etpu_strbuf_printf(b, "\\u%04x", (unsigned)cp); }

static void escape(etpu_strbuf *b, const char *str, kind k) {
  if (!str) return;
  const unsigned char *s = (const unsigned char *)str;
  size_t n = strlen(str), i = 0;
  while (i < n && !b->oom) {
    /* Copy the longest run that needs nothing. */
    size_t run = i;
    for (;;) {
      unsigned char c = s[run];
      if (c >= 0x20 && c < 0x7f) {
        if (k == KIND_JSON && (c == '"' || c == '\\')) break;
        if (k == KIND_HTML && (c == '&' || c == '<' || c == '>' || c == '"' || c == '\'')) break;
        run++;
        continue;
      }
      if (c < 0x80) break;
      size_t len = etpu_utf8_seq(s + run, n - run);
      if (len == 0) break;
      uint32_t cp = decode(s + run, len);
      if (cp <= 0x9f) break;                                             /* C1 */
      if (k != KIND_JSON && ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))) break; /* bidi */
      run += len;
    }
    if (run > i) etpu_strbuf_append(b, str + i, run - i);
    i = run;
    if (i >= n) break;
    unsigned char c = s[i];
    if (c < 0x80) {
      i++;
      if (c == '\n') etpu_strbuf_append(b, "\\n", 2);
      else if (c == '\t') etpu_strbuf_append(b, "\\t", 2);
      else if (c == '\r') etpu_strbuf_append(b, "\\r", 2);
      else if (k == KIND_JSON && c == '"') etpu_strbuf_append(b, "\\\"", 2);
      else if (k == KIND_JSON && c == '\\') etpu_strbuf_append(b, "\\\\", 2);
      else if (k == KIND_JSON) put_cp(b, c);
      else if (c == '&') etpu_strbuf_append(b, "&amp;", 5);
      else if (c == '<') etpu_strbuf_append(b, "&lt;", 4);
      else if (c == '>') etpu_strbuf_append(b, "&gt;", 4);
      else if (c == '"') etpu_strbuf_append(b, "&quot;", 6);
      else if (c == '\'') etpu_strbuf_append(b, "&#39;", 5);
      else etpu_strbuf_printf(b, "\\x%02x", c);
      continue;
    }
    size_t len = etpu_utf8_seq(s + i, n - i);
    if (len == 0) {
      /* JSON: the four characters \xff, so the value reads as the text does. */
      etpu_strbuf_printf(b, k == KIND_JSON ? "\\\\x%02x" : "\\x%02x", c);
      i++;
      continue;
    }
    put_cp(b, decode(s + i, len));
    i += len;
  }
}

void etpu_escape_text(etpu_strbuf *b, const char *s) { escape(b, s, KIND_TEXT); }

void etpu_escape_json(etpu_strbuf *b, const char *s) {
  etpu_strbuf_append(b, "\"", 1);
  escape(b, s, KIND_JSON);
  etpu_strbuf_append(b, "\"", 1);
}

void etpu_escape_html(etpu_strbuf *b, const char *s) { escape(b, s, KIND_HTML); }

size_t etpu_escape(int kind_, const char *s, char *buf, size_t cap) {
  etpu_strbuf b = {0};
  if (kind_ == ETPU_ESCAPE_JSON)
    etpu_escape_json(&b, s);
  else
    escape(&b, s, kind_ == ETPU_ESCAPE_HTML ? KIND_HTML : KIND_TEXT);
  size_t need = b.oom ? 0 : b.len + 1;
  if (cap) {
    size_t n = b.len < cap - 1 ? b.len : cap - 1;
    /* Cut at a whole character: never inside an escape's UTF-8 sequence. */
    while (n > 0 && n < b.len && ((unsigned char)b.p[n] & 0xc0) == 0x80) n--;
    if (n) memcpy(buf, b.p, n);
    buf[n] = 0;
  }
  etpu_strbuf_free(&b);
  return need;
}
