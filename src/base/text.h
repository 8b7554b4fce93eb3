/*
 * text.h — a growable string buffer and the one escaper for strings that come
 * from untrusted files (tensor, op, metadata and label names, file names).
 *
 * Every printer of etpu (the CLI's text and JSON, the compile reports, the
 * op-options JSON, etpu_errmsg) passes such strings through these functions,
 * so a model cannot send a terminal escape sequence or invalid UTF-8 through
 * any of them. The rules, for each kind:
 *
 *   input                         TEXT        JSON (inside "...")   HTML
 *   ----------------------------  ----------  --------------------  ----------
 *   valid UTF-8, printable        unchanged   unchanged             unchanged
 *   \n \t \r                      \n \t \r    \n \t \r              \n \t \r
 *   other C0 (0x00-0x1f), 0x7f    \x1b        \u001b                \x1b
 *   C1 code points U+0080-U+009F  \u009b      \u009b                \u009b
 *   bidi overrides U+202A-202E,   \u202e      unchanged             \u202e
 *     U+2066-2069
 *   " and \                       unchanged   \" and \\             &quot; \
 *   & < > '                       unchanged   unchanged             &amp; &lt; &gt; &#39;
 *   invalid UTF-8 byte            \xff        \\xff (the 4          \xff
 *                                             characters \xff)
 *
 * Invalid UTF-8 is any byte that does not start a well-formed sequence:
 * stray continuation bytes, 0xc0, 0xc1 and 0xf5-0xff, truncated sequences,
 * overlong forms (e0 80-9f .., f0 80-8f ..), UTF-16 surrogates (ed a0-bf ..)
 * and code points above U+10FFFF (f4 90-bf ..). Each such byte is escaped on
 * its own and decoding resumes at the next byte.
 *
 * The TEXT form leaves backslashes alone, so escaping twice changes nothing
 * (etpu_errmsg escapes names inside messages that quote other messages). It
 * is for people to read, not to be parsed back: a name that holds the four
 * characters \x1b prints as the escaped ESC does. The output of every kind is
 * valid UTF-8 with no control byte but \n, \t and \r (TEXT, HTML); JSON has
 * none at all.
 */
#ifndef ETPU_TEXT_H
#define ETPU_TEXT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/base.h"

/* A NUL-terminated string that grows through etpu_realloc. Zero-initialize;
 * on out of memory `oom` is set and further appends are ignored. With
 * `fixed`, p and cap are the caller's buffer (cap > 0, p[0] = 0): nothing is
 * allocated, and the first append that does not fit sets `oom` (what came
 * before stays, so the text is cut at a whole escape). */
typedef struct etpu_strbuf {
  char *p;    /* the string (NULL until the first append) */
  size_t len; /* bytes in p, not counting the NUL */
  size_t cap; /* bytes allocated */
  bool oom;   /* an append failed: p holds what came before */
  bool fixed; /* p is the caller's buffer of cap bytes: never reallocated */
} etpu_strbuf;

void etpu_strbuf_printf(etpu_strbuf *b, const char *fmt, ...) ETPU_PRINTF(2, 3);
void etpu_strbuf_vprintf(etpu_strbuf *b, const char *fmt, va_list ap);
void etpu_strbuf_append(etpu_strbuf *b, const char *s, size_t n);
void etpu_strbuf_free(etpu_strbuf *b);

/* Append s escaped for a terminal or a text file (see the table above);
 * NULL appends nothing. */
void etpu_escape_text(etpu_strbuf *b, const char *s);
/* Append s as a JSON string literal, quotes included; NULL gives "". */
void etpu_escape_json(etpu_strbuf *b, const char *s);
/* Append s escaped as HTML text or an attribute value; NULL appends nothing. */
void etpu_escape_html(etpu_strbuf *b, const char *s);

/* Length of the well-formed UTF-8 sequence at s (1 to 4), or 0 when s[0]
 * does not start one (see above). n is the bytes available. */
size_t etpu_utf8_seq(const unsigned char *s, size_t n);

#endif
