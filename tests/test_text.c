/*
 * test_text.c — the escaper for strings from untrusted files (src/base/text.h):
 * every single byte, every two- and three-byte sequence against an
 * independent decoder, the UTF-8 edges (overlong forms, surrogates, the last
 * code point, truncated sequences), random strings (output always valid UTF-8
 * without control bytes; the text form idempotent), the public etpu_escape()
 * with short buffers, and etpu_errmsg() escaping what a message quotes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/text.h"
#include "testutil.h"

static char *esc(int kind, const char *s) {
  etpu_strbuf b = {0};
  if (kind == ETPU_ESCAPE_JSON)
    etpu_escape_json(&b, s);
  else if (kind == ETPU_ESCAPE_HTML)
    etpu_escape_html(&b, s);
  else
    etpu_escape_text(&b, s);
  if (!b.p) etpu_strbuf_append(&b, "", 0);
  return b.p;
}

static void expect(int kind, const char *in, const char *want) {
  char *got = esc(kind, in);
  CHECK_MSG(got && !strcmp(got, want), "kind %d: input '%s': want '%s', got '%s'", kind, in, want, got ? got : "(null)");
  etpu_free(got);
}

/* The reference: decode by the textbook bit patterns, then reject overlong
 * forms, surrogates and values past U+10FFFF. Returns the length or 0. */
static size_t ref_seq(const unsigned char *s, size_t n) {
  if (n == 0) return 0;
  unsigned c = s[0];
  size_t len;
  uint32_t cp, min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f, min = 0x80;
  else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f, min = 0x800;
  else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07, min = 0x10000;
  else return 0;
  if (n < len) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((s[k] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[k] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/* Output rules every kind keeps: valid UTF-8, no C0 byte (but \n \t \r in
 * none of them either: they are escaped), no DEL, no C1 code point. */
static bool clean(const char *out) {
  const unsigned char *s = (const unsigned char *)out;
  size_t n = strlen(out);
  for (size_t i = 0; i < n;) {
    size_t len = ref_seq(s + i, n - i);
    if (len == 0 || s[i] < 0x20 || s[i] == 0x7f) return false;
    if (len == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) return false;
    i += len;
  }
  return true;
}

static void every_single_byte(void) {
  for (int c = 1; c < 256; c++) {
    char in[2] = {(char)c, 0}, t[16], j[16];
    if (c == '\n') strcpy(t, "\\n"), strcpy(j, "\"\\n\"");
    else if (c == '\t') strcpy(t, "\\t"), strcpy(j, "\"\\t\"");
    else if (c == '\r') strcpy(t, "\\r"), strcpy(j, "\"\\r\"");
    else if (c < 0x20 || c == 0x7f) snprintf(t, sizeof t, "\\x%02x", c), snprintf(j, sizeof j, "\"\\u%04x\"", c);
    else if (c >= 0x80) snprintf(t, sizeof t, "\\x%02x", c), snprintf(j, sizeof j, "\"\\\\x%02x\"", c);
    else if (c == '"') strcpy(t, "\""), strcpy(j, "\"\\\"\"");
    else if (c == '\\') strcpy(t, "\\"), strcpy(j, "\"\\\\\"");
    else snprintf(t, sizeof t, "%c", c), snprintf(j, sizeof j, "\"%c\"", c);
    expect(ETPU_ESCAPE_TEXT, in, t);
    expect(ETPU_ESCAPE_JSON, in, j);
  }
}

static void decoder_against_reference(void) {
  unsigned char s[4];
  uint32_t bad = 0;
  for (uint32_t a = 0x80; a < 0x100; a++)
    for (uint32_t b = 0; b < 0x100; b++) {
      s[0] = (unsigned char)a, s[1] = (unsigned char)b;
      if (etpu_utf8_seq(s, 2) != ref_seq(s, 2)) bad++;
      for (uint32_t c = 0; c < 0x100; c++) {
        s[2] = (unsigned char)c;
        if (etpu_utf8_seq(s, 3) != ref_seq(s, 3)) bad++;
      }
    }
  static const unsigned char edge[] = {0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff};
  for (uint32_t a = 0xf0; a < 0x100; a++)
    for (uint32_t b = 0x80; b < 0xc0; b++)
      for (size_t c = 0; c < sizeof edge; c++)
        for (size_t d = 0; d < sizeof edge; d++) {
          s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = edge[c], s[3] = edge[d];
          if (etpu_utf8_seq(s, 4) != ref_seq(s, 4)) bad++;
        }
  CHECK_MSG(bad == 0, "%u sequences judged unlike the reference decoder", bad);
}

static void utf8_edges(void) {
  /* Valid: unchanged in text and JSON. */
  static const char *const ok[] = {"\xc2\xa0", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                                   "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "caf\xc3\xa9 \xe6\x97\xa5"};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    expect(ETPU_ESCAPE_TEXT, ok[i], ok[i]);
    char j[64];
    snprintf(j, sizeof j, "\"%s\"", ok[i]);
    expect(ETPU_ESCAPE_JSON, ok[i], j);
  }
  /* Overlong, surrogates, past U+10FFFF, truncated, stray: byte by byte. */
  static const char *const bad[][2] = {
      {"\xc0\x80", "\\xc0\\x80"},
      {"\xc1\xbf", "\\xc1\\xbf"},
      {"\xe0\x9f\xbf", "\\xe0\\x9f\\xbf"},
      {"\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf"},
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},
      {"\xed\xbf\xbf", "\\xed\\xbf\\xbf"},
      {"\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
      {"\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80"},
      {"a\xe2\x82z", "a\\xe2\\x82z"},
      {"\xe2\x82", "\\xe2\\x82"},
      {"\x80\xc3\xa9", "\\x80\xc3\xa9"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) expect(ETPU_ESCAPE_TEXT, bad[i][0], bad[i][1]);
  expect(ETPU_ESCAPE_JSON, "\xed\xa0\x80", "\"\\\\xed\\\\xa0\\\\x80\"");
  /* C1 controls as code points (CSI U+009B is ESC [ to many terminals). */
  expect(ETPU_ESCAPE_TEXT, "\xc2\x80x\xc2\x9b" "2J\xc2\x9f", "\\u0080x\\u009b2J\\u009f");
  expect(ETPU_ESCAPE_JSON, "\xc2\x9b", "\"\\u009b\"");
  /* Bidi overrides: escaped for people, not in JSON. */
  expect(ETPU_ESCAPE_TEXT, "a\xe2\x80\xae" "b\xe2\x81\xa6", "a\\u202eb\\u2066");
  expect(ETPU_ESCAPE_JSON, "\xe2\x80\xae", "\"\xe2\x80\xae\"");
  expect(ETPU_ESCAPE_TEXT, "\xe2\x80\xa9", "\xe2\x80\xa9");
  /* ANSI sequences. */
  expect(ETPU_ESCAPE_TEXT, "\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07");
  expect(ETPU_ESCAPE_JSON, "\x1b[31m\"q\"\\", "\"\\u001b[31m\\\"q\\\"\\\\\"");
  /* HTML. */
  expect(ETPU_ESCAPE_HTML, "<a href=\"x\">&'\x1b\xff", "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\\x1b\\xff");
  expect(ETPU_ESCAPE_TEXT, NULL, "");
  expect(ETPU_ESCAPE_JSON, NULL, "\"\"");
}

static uint32_t rng = 20261207u;
static uint32_t next(void) {
  rng = rng * 1664525u + 1013904223u;
  return rng >> 8;
}

static void random_strings(void) {
  printf("random strings: seed 20261207\n");
  uint32_t bad = 0, not_idem = 0;
  for (int t = 0; t < 20000; t++) {
    char in[64];
    size_t n = next() % 63;
    for (size_t i = 0; i < n; i++) {
      uint32_t r = next();
      /* Bias towards the interesting bytes. */
      in[i] = (char)(r % 4 == 0 ? 0x80 + (r >> 4) % 0x80 : r % 4 == 1 ? (r >> 4) % 0x20 : (r >> 4) % 0x100);
      if (in[i] == 0) in[i] = 'x';
    }
    in[n] = 0;
    for (int kind = 0; kind < 3; kind++) {
      char *o = esc(kind, in);
      if (!o || !clean(o)) bad++;
      if (kind == ETPU_ESCAPE_TEXT && o) {
        char *o2 = esc(kind, o);
        if (!o2 || strcmp(o, o2)) not_idem++;
        etpu_free(o2);
      }
      etpu_free(o);
    }
  }
  CHECK_MSG(bad == 0, "%u outputs not clean UTF-8", bad);
  CHECK_MSG(not_idem == 0, "%u text escapes changed when escaped again", not_idem);
}

static void public_api(void) {
  char buf[8];
  size_t need = etpu_escape(ETPU_ESCAPE_TEXT, "ab\x1b[2J", buf, sizeof buf);
  CHECK(need == strlen("ab\\x1b[2J") + 1);
  CHECK(!strcmp(buf, "ab\\x1b["));
  /* A cut never splits a UTF-8 character. */
  need = etpu_escape(ETPU_ESCAPE_TEXT, "abcdef\xc3\xa9", buf, sizeof buf);
  CHECK(need == 9);
  CHECK(!strcmp(buf, "abcdef"));
  need = etpu_escape(ETPU_ESCAPE_JSON, "\xff", buf, sizeof buf);
  CHECK(need == 8 && !strcmp(buf, "\"\\\\xff\""));
  CHECK(etpu_escape(ETPU_ESCAPE_HTML, "<", NULL, 0) == 5);
}

static void error_messages(void) {
  etpu_fail(ETPU_MALFORMED, "tensor '%s': bad", "\x1b[2J\xff\n");
  CHECK_MSG(!strcmp(etpu_errmsg(), "tensor '\\x1b[2J\\xff\\n': bad"), "got '%s'", etpu_errmsg());
  etpu_fail_prefix(ETPU_MALFORMED, "m\x07.tflite");
  CHECK_MSG(!strcmp(etpu_errmsg(), "m\\x07.tflite: tensor '\\x1b[2J\\xff\\n': bad"), "got '%s'", etpu_errmsg());
  /* A message quoting a message is not escaped twice. */
  char prev[256];
  snprintf(prev, sizeof prev, "%s", etpu_errmsg());
  etpu_fail(ETPU_MALFORMED, "op 3: %s", etpu_errmsg());
  char want[300];
  snprintf(want, sizeof want, "op 3: %s", prev);
  CHECK_MSG(!strcmp(etpu_errmsg(), want), "got '%s'", etpu_errmsg());
  /* A long name is cut at a whole escape and the message stays clean. */
  char name[2000];
  for (size_t i = 0; i < sizeof name - 1; i++) name[i] = (char)(i % 3 ? 0x1b : 0xc3);
  name[sizeof name - 1] = 0;
  etpu_fail(ETPU_MALFORMED, "%s", name);
  CHECK(strlen(etpu_errmsg()) < 1024 && clean(etpu_errmsg()));
}

int main(void) {
  every_single_byte();
  decoder_against_reference();
  utf8_edges();
  random_strings();
  public_api();
  error_messages();
  return tu_finish("test_text");
}
