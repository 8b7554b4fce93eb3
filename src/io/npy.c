/*
 * npy.c — NumPy .npy files: read (versions 1.0, 2.0, 3.0) and write
 * (1.0, or 2.0 when the header needs more than 64 KiB).
 *
 *   offset  size  field
 *   ------  ----  ---------------------------------------------------------
 *   0       6     "\x93NUMPY"
 *   6       1     major version (1, 2 or 3)
 *   7       1     minor version (0)
 *   8       2|4   header length HLEN: u16 for 1.x, u32 for 2.x and 3.x
 *   10|12   HLEN  a Python dict literal, padded with spaces and ended by
 *                 '\n': {'descr': '<f4', 'fortran_order': False,
 *                 'shape': (1, 224, 224, 3), }
 *   ...           the elements, exactly product(shape) x itemsize bytes
 *
 * The header is parsed by a small tokenizer (strings, True/False, tuples
 * of integers) that accepts exactly the three keys and rejects anything
 * else; the data size it implies must equal the bytes the file holds.
 */
#include <stdio.h>
#include <string.h>

#include "io/io.h"

typedef struct npy_dtype {
  const char *descr; /* as written; the first character is the byte order */
  int32_t type;
  size_t size;
} npy_dtype;

static const npy_dtype k_dtypes[] = {
    {"<f4", ETPU_FLOAT32, 4}, {"|u1", ETPU_UINT8, 1},  {"|i1", ETPU_INT8, 1},    {"<i2", ETPU_INT16, 2},
    {"<i4", ETPU_INT32, 4},   {"<i8", ETPU_INT64, 8},  {"|b1", ETPU_BOOL, 1},    {"<f2", ETPU_FLOAT16, 2},
    {"<f8", ETPU_FLOAT64, 8}, {"<u2", ETPU_UINT16, 2}, {"<u4", ETPU_UINT32, 4},  {"<u8", ETPU_UINT64, 8},
    {"<c8", ETPU_COMPLEX64, 8}, {"<c16", ETPU_COMPLEX128, 16},
};
#define NDTYPES (sizeof k_dtypes / sizeof k_dtypes[0])

static const npy_dtype *dtype_by_type(int32_t type) {
  for (size_t i = 0; i < NDTYPES; i++)
    if (k_dtypes[i].type == type) return &k_dtypes[i];
  return NULL;
}

/* ---- header parsing ----------------------------------------------------- */

typedef struct hdr_parser {
  const char *p, *end;
  const char *label;
} hdr_parser;

static etpu_status hbad(const hdr_parser *h, etpu_status st, const char *what) {
  return etpu_fail(st, "%s: .npy header: %s", h->label, what);
}

static void skip_ws(hdr_parser *h) {
  while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n' || *h->p == '\r')) h->p++;
}

static bool eat(hdr_parser *h, char c) {
  skip_ws(h);
  if (h->p < h->end && *h->p == c) {
    h->p++;
    return true;
  }
  return false;
}

/* A quoted string into buf (at most cap - 1 characters). */
static etpu_status parse_string(hdr_parser *h, char *buf, size_t cap) {
  skip_ws(h);
  if (h->p >= h->end || (*h->p != '\'' && *h->p != '"')) return hbad(h, ETPU_MALFORMED, "expected a quoted string");
  char q = *h->p++;
  size_t n = 0;
  while (h->p < h->end && *h->p != q) {
    if (*h->p == '\\' || n + 1 >= cap) return hbad(h, ETPU_MALFORMED, "string too long or escaped");
    buf[n++] = *h->p++;
  }
  if (h->p >= h->end) return hbad(h, ETPU_MALFORMED, "unterminated string");
  h->p++;
  buf[n] = 0;
  return ETPU_OK;
}

static etpu_status parse_shape(hdr_parser *h, uint32_t *rank, int32_t *shape) {
  if (!eat(h, '(')) return hbad(h, ETPU_MALFORMED, "'shape' must be a tuple of integers");
  *rank = 0;
  for (;;) {
    skip_ws(h);
    if (eat(h, ')')) return ETPU_OK;
    if (h->p >= h->end || *h->p < '0' || *h->p > '9')
      return hbad(h, ETPU_MALFORMED, "'shape' must be a tuple of non-negative integers");
    uint64_t v = 0;
    while (h->p < h->end && *h->p >= '0' && *h->p <= '9') {
      v = v * 10u + (uint64_t)(*h->p - '0');
      if (v > INT32_MAX) return hbad(h, ETPU_UNSUPPORTED, "a dimension exceeds 2^31 - 1");
      h->p++;
    }
    if (h->p < h->end && *h->p == 'L') h->p++; /* Python 2 longs */
    if (*rank == ETPU_NPY_MAX_RANK) return hbad(h, ETPU_UNSUPPORTED, "more than 8 dimensions");
    shape[(*rank)++] = (int32_t)v;
    if (eat(h, ',')) continue;
    if (eat(h, ')')) return ETPU_OK;
    return hbad(h, ETPU_MALFORMED, "'shape' tuple: expected ',' or ')'");
  }
}

etpu_status etpu_npy_decode(const void *data, size_t n, const char *label, etpu_npy **out) {
  if (!label) label = "<buffer>";
  if (!out || (!data && n)) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_npy_decode: NULL argument");
  const uint8_t *d = data;
  if (n < 10 || memcmp(d, "\x93NUMPY", 6) != 0)
    return etpu_fail(ETPU_MALFORMED, "%s: not a .npy file (no \\x93NUMPY magic)", label);
  uint32_t major = d[6], minor = d[7];
  size_t hstart;
  uint64_t hlen;
  if (major == 1) {
    hstart = 10;
    hlen = etpu_io_rd16(d + 8);
  } else if (major == 2 || major == 3) {
    if (n < 12) return etpu_fail(ETPU_MALFORMED, "%s: .npy: truncated before the header length", label);
    hstart = 12;
    hlen = etpu_io_rd32(d + 8);
  } else {
    return etpu_fail(ETPU_UNSUPPORTED, "%s: .npy format version %u.%u; etpu reads 1.0, 2.0 and 3.0", label, major, minor);
  }
  if (minor != 0)
    return etpu_fail(ETPU_UNSUPPORTED, "%s: .npy format version %u.%u; etpu reads 1.0, 2.0 and 3.0", label, major, minor);
  if (hlen > n - hstart)
    return etpu_fail(ETPU_MALFORMED, "%s: .npy: the %llu-byte header runs past the end of the %zu-byte file", label,
                     (unsigned long long)hlen, n);
  hdr_parser h = {(const char *)d + hstart, (const char *)d + hstart + hlen, label};
  char descr[16] = "", key[32];
  int fortran = -1;
  bool have_shape = false;
  uint32_t rank = 0;
  int32_t shape[ETPU_NPY_MAX_RANK] = {0};
  if (!eat(&h, '{')) return hbad(&h, ETPU_MALFORMED, "expected a dict '{...}'");
  while (!eat(&h, '}')) {
    etpu_status st = parse_string(&h, key, sizeof key);
    if (st != ETPU_OK) return st;
    if (!eat(&h, ':')) return hbad(&h, ETPU_MALFORMED, "expected ':' after a key");
    if (!strcmp(key, "descr")) {
      skip_ws(&h);
      if (h.p < h.end && *h.p == '[') return hbad(&h, ETPU_UNSUPPORTED, "structured dtypes are not supported");
      if ((st = parse_string(&h, descr, sizeof descr)) != ETPU_OK) return st;
    } else if (!strcmp(key, "fortran_order")) {
      skip_ws(&h);
      if ((size_t)(h.end - h.p) >= 4 && !memcmp(h.p, "True", 4)) {
        fortran = 1;
        h.p += 4;
      } else if ((size_t)(h.end - h.p) >= 5 && !memcmp(h.p, "False", 5)) {
        fortran = 0;
        h.p += 5;
      } else {
        return hbad(&h, ETPU_MALFORMED, "'fortran_order' must be True or False");
      }
    } else if (!strcmp(key, "shape")) {
      if ((st = parse_shape(&h, &rank, shape)) != ETPU_OK) return st;
      have_shape = true;
    } else {
      return etpu_fail(ETPU_MALFORMED, "%s: .npy header: unknown key '%s'", label, key);
    }
    if (eat(&h, ',')) continue;
    if (eat(&h, '}')) break;
    return hbad(&h, ETPU_MALFORMED, "expected ',' or '}'");
  }
  skip_ws(&h);
  if (h.p != h.end) return hbad(&h, ETPU_MALFORMED, "text after the closing '}'");
  if (!descr[0] || fortran < 0 || !have_shape)
    return hbad(&h, ETPU_MALFORMED, "needs the keys 'descr', 'fortran_order' and 'shape'");
  const npy_dtype *dt = NULL;
  for (size_t i = 0; i < NDTYPES && !dt; i++) {
    const npy_dtype *c = &k_dtypes[i];
    if (!strcmp(descr + 1, c->descr + 1) &&
        (descr[0] == c->descr[0] || (c->size == 1 && (descr[0] == '|' || descr[0] == '<' || descr[0] == '>'))))
      dt = c;
  }
  if (!dt) {
    if (descr[0] == '>')
      return etpu_fail(ETPU_UNSUPPORTED, "%s: .npy dtype '%s' is big-endian; etpu reads little-endian arrays", label, descr);
    return etpu_fail(ETPU_UNSUPPORTED,
                     "%s: .npy dtype '%s' is not supported (<f2 <f4 <f8 |i1 |u1 <i2 <u2 <i4 <u4 <i8 <u8 |b1 <c8 <c16)",
                     label, descr);
  }
  if (fortran == 1) {
    uint32_t big = 0;
    for (uint32_t i = 0; i < rank; i++) big += shape[i] > 1;
    if (big > 1) return etpu_fail(ETPU_UNSUPPORTED, "%s: .npy array is in Fortran order; etpu reads C order", label);
  }
  uint64_t elems = 1;
  bool over = false;
  for (uint32_t i = 0; i < rank; i++) {
    if (shape[i] && elems > UINT64_MAX / (uint64_t)shape[i]) over = true;
    elems *= (uint64_t)shape[i];
  }
  size_t dstart = hstart + (size_t)hlen;
  uint64_t bytes = elems * dt->size;
  if (over || elems > UINT64_MAX / dt->size || bytes != n - dstart)
    return etpu_fail(ETPU_MALFORMED, "%s: .npy: shape and dtype '%s' need %s%llu bytes of data; the file holds %zu after the header",
                     label, descr, over || elems > UINT64_MAX / dt->size ? "more than " : "",
                     (unsigned long long)(over ? UINT64_MAX : bytes), n - dstart);
  size_t head = (sizeof(etpu_npy) + 15u) & ~(size_t)15u;
  etpu_npy *a = etpu_malloc(head + (size_t)bytes + 1);
  if (!a) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory for %llu bytes of .npy data", label,
                           (unsigned long long)bytes);
  memset(a, 0, sizeof *a);
  a->type = dt->type;
  a->rank = rank;
  memcpy(a->shape, shape, sizeof shape);
  a->size = (size_t)bytes;
  a->data = (uint8_t *)a + head;
  if (bytes) memcpy(a->data, d + dstart, (size_t)bytes);
  *out = a;
  return ETPU_OK;
}

etpu_status etpu_npy_read(const char *path, etpu_npy **out) {
  if (!path || !out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_npy_read: NULL argument");
  etpu_file_image f;
  etpu_status st = etpu_file_map(path, &f);
  if (st != ETPU_OK) return st;
  st = etpu_npy_decode(f.data, f.size, path, out);
  etpu_file_unmap(&f);
  return st;
}

void etpu_npy_free(etpu_npy *a) { etpu_free(a); }

/* ---- writing ------------------------------------------------------------ */

/* The header (magic .. padding '\n') into buf; returns its length. */
static size_t build_header(const npy_dtype *dt, uint32_t rank, const int32_t *shape, char *buf, size_t cap) {
  char dict[400];
  size_t k = (size_t)snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", dt->descr);
  for (uint32_t i = 0; i < rank; i++) k += (size_t)snprintf(dict + k, sizeof dict - k, "%s%d", i ? ", " : "", shape[i]);
  k += (size_t)snprintf(dict + k, sizeof dict - k, "%s), }", rank == 1 ? "," : "");
  /* 10-byte preamble + dict + spaces + '\n', a multiple of 64. */
  size_t total = (10 + k + 1 + 63) & ~(size_t)63;
  if (total > cap) return 0;
  memcpy(buf, "\x93NUMPY\x01\x00", 8);
  uint16_t hl = (uint16_t)(total - 10);
  buf[8] = (char)(hl & 0xff);
  buf[9] = (char)(hl >> 8);
  memcpy(buf + 10, dict, k);
  memset(buf + 10 + k, ' ', total - 10 - k - 1);
  buf[total - 1] = '\n';
  return total;
}

static etpu_status check_array(int32_t type, uint32_t rank, const int32_t *shape, const void *data, size_t size,
                               const npy_dtype **dt_out) {
  if ((rank && !shape) || (!data && size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "npy: NULL argument");
  const npy_dtype *dt = dtype_by_type(type);
  if (!dt) return etpu_fail(ETPU_UNSUPPORTED, "npy: type %s cannot be stored in a .npy file", etpu_dtype_name(type));
  if (rank > ETPU_NPY_MAX_RANK) return etpu_fail(ETPU_UNSUPPORTED, "npy: rank %u (at most 8)", rank);
  uint64_t elems = 1;
  for (uint32_t i = 0; i < rank; i++) {
    if (shape[i] < 0) return etpu_fail(ETPU_INVALID_ARGUMENT, "npy: dimension %u is negative (%d)", i, shape[i]);
    elems *= (uint64_t)shape[i];
  }
  if (elems * dt->size != size)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "npy: shape x %s needs %llu bytes; %zu given", etpu_dtype_name(type),
                     (unsigned long long)(elems * dt->size), size);
  *dt_out = dt;
  return ETPU_OK;
}

etpu_status etpu_npy_encode(int32_t type, uint32_t rank, const int32_t *shape, const void *data, size_t size,
                            void **bytes_out, size_t *size_out) {
  if (!bytes_out || !size_out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_npy_encode: NULL argument");
  const npy_dtype *dt;
  etpu_status st = check_array(type, rank, shape, data, size, &dt);
  if (st != ETPU_OK) return st;
  char hdr[512];
  size_t hn = build_header(dt, rank, shape, hdr, sizeof hdr);
  size_t total;
  if (!hn || !etpu_add_size(hn, size, &total)) return etpu_fail(ETPU_INVALID_ARGUMENT, "npy: array too large");
  uint8_t *buf = etpu_malloc(total);
  if (!buf) return etpu_fail(ETPU_OUT_OF_MEMORY, "npy: out of memory for %zu bytes", total);
  memcpy(buf, hdr, hn);
  if (size) memcpy(buf + hn, data, size);
  *bytes_out = buf;
  *size_out = total;
  return ETPU_OK;
}

etpu_status etpu_npy_write(const char *path, int32_t type, uint32_t rank, const int32_t *shape, const void *data,
                           size_t size) {
  if (!path) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_npy_write: NULL path");
  const npy_dtype *dt;
  etpu_status st = check_array(type, rank, shape, data, size, &dt);
  if (st != ETPU_OK) return etpu_fail_prefix(st, path);
  char hdr[512];
  size_t hn = build_header(dt, rank, shape, hdr, sizeof hdr);
  if (!hn) return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: npy header too long", path);
  etpu_iovec parts[2] = {{hdr, hn}, {data, size}};
  return etpu_file_write_atomic(path, parts, 2);
}
