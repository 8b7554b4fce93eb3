/*
 * base.c — allocator hook, arena, per-thread error message and file access.
 *
 * Error messages live in a fixed per-thread buffer so that reporting never
 * allocates and etpu_errmsg() never returns NULL. Files are opened read-only
 * and memory-mapped; outputs are written to a temporary file in the target's
 * directory and renamed over the target, so a reader never sees a partial file
 * and a failed write leaves any existing file untouched.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* madvise, MADV_DONTNEED (etpu_file_release) */
#include "base/base.h"

#include "base/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- allocator ---------------------------------------------------------- */

static void *default_malloc(void *u, size_t n) { (void)u; return malloc(n ? n : 1); }
static void *default_realloc(void *u, void *p, size_t n) { (void)u; return realloc(p, n ? n : 1); }
static void default_free(void *u, void *p) { (void)u; free(p); }

static etpu_allocator g_alloc = {default_malloc, default_realloc, default_free, NULL};

void etpu_set_allocator(const etpu_allocator *a) {
  if (a && a->malloc_fn && a->realloc_fn && a->free_fn)
    g_alloc = *a;
  else
    g_alloc = (etpu_allocator){default_malloc, default_realloc, default_free, NULL};
}

void *etpu_malloc(size_t size) { return g_alloc.malloc_fn(g_alloc.user, size); }

void *etpu_calloc(size_t n, size_t size) {
  size_t total;
  if (!etpu_mul_size(n, size, &total)) return NULL;
  void *p = etpu_malloc(total);
  if (p) memset(p, 0, total);
  return p;
}

void *etpu_realloc(void *ptr, size_t size) { return g_alloc.realloc_fn(g_alloc.user, ptr, size); }

void etpu_free(void *ptr) {
  if (ptr) g_alloc.free_fn(g_alloc.user, ptr);
}

/* ---- status and errors -------------------------------------------------- */

const char *etpu_status_name(etpu_status s) {
  switch (s) {
#define ETPU_X_(name, value, text) \
  case name:                       \
    return text;
    ETPU_STATUS_LIST(ETPU_X_)
#undef ETPU_X_
  }
  return "unknown status";
}

const char *etpu_version(void) { return "0.1.0"; }

static _Thread_local char g_err[1024];

const char *etpu_errmsg(void) { return g_err; }

void etpu_clear_error(void) { g_err[0] = 0; }

/* Messages quote names from files: escape them (text.h) as they are
 * recorded, so every printer of etpu_errmsg() is safe. Nothing allocates. */
etpu_status etpu_failv(etpu_status status, const char *fmt, va_list ap) {
  char tmp[sizeof g_err];
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  g_err[0] = 0;
  etpu_strbuf b = {g_err, 0, sizeof g_err, false, true};
  etpu_escape_text(&b, tmp);
  return status;
}

etpu_status etpu_fail(etpu_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  etpu_failv(status, fmt, ap);
  va_end(ap);
  return status;
}

etpu_status etpu_fail_prefix(etpu_status status, const char *prefix) {
  char tmp[sizeof g_err];
  memcpy(tmp, g_err, sizeof tmp);
  g_err[0] = 0;
  etpu_strbuf b = {g_err, 0, sizeof g_err, false, true};
  etpu_escape_text(&b, prefix);
  etpu_strbuf_append(&b, ": ", 2);
  etpu_strbuf_append(&b, tmp, strlen(tmp));
  if (b.oom) {
    /* Keep as much of the message as fits after the prefix. */
    size_t room = sizeof g_err - 1 - b.len;
    size_t n = strlen(tmp) < room ? strlen(tmp) : room;
    while (n > 0 && ((unsigned char)tmp[n] & 0xc0) == 0x80) n--;
    memcpy(g_err + b.len, tmp, n);
    g_err[b.len + n] = 0;
  }
  return status;
}

/* ---- arena -------------------------------------------------------------- */

struct etpu_arena_block {
  etpu_arena_block *next;
  size_t pad; /* keeps the payload 16-byte aligned */
  _Alignas(16) unsigned char payload[];
};

void etpu_arena_init(etpu_arena *a) { memset(a, 0, sizeof *a); }

void etpu_arena_free(etpu_arena *a) {
  etpu_arena_block *b = a->head;
  while (b) {
    etpu_arena_block *n = b->next;
    etpu_free(b);
    b = n;
  }
  etpu_arena_init(a);
}

void *etpu_arena_alloc(etpu_arena *a, size_t size) {
  size_t need = (size + 15) & ~(size_t)15;
  if (need < size) return NULL;
  if (!a->head || a->cap - a->used < need) {
    size_t cap = a->total < 4096 ? 4096 : a->total; /* geometric growth */
    if (cap > ((size_t)64 << 20)) cap = (size_t)64 << 20;
    if (cap < need) cap = need;
    size_t bytes;
    if (!etpu_add_size(sizeof(etpu_arena_block), cap, &bytes)) return NULL;
    etpu_arena_block *b = etpu_malloc(bytes);
    if (!b) return NULL;
    b->next = a->head;
    a->head = b;
    a->used = 0;
    a->cap = cap;
    a->total += cap;
  }
  void *p = a->head->payload + a->used;
  a->used += need;
  memset(p, 0, size);
  return p;
}

void *etpu_arena_array(etpu_arena *a, size_t n, size_t size) {
  size_t total;
  if (!etpu_mul_size(n, size, &total)) return NULL;
  return etpu_arena_alloc(a, total);
}

void *etpu_arena_dup(etpu_arena *a, const void *src, size_t size) {
  void *p = etpu_arena_alloc(a, size);
  if (p && size) memcpy(p, src, size);
  return p;
}

char *etpu_arena_strdup(etpu_arena *a, const char *s) { return etpu_arena_dup(a, s, strlen(s) + 1); }

/* ---- files -------------------------------------------------------------- */

etpu_status etpu_file_map(const char *path, etpu_file_image *out) {
  memset(out, 0, sizeof *out);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return etpu_fail(ETPU_IO_ERROR, "%s: cannot open: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int e = errno;
    close(fd);
    return etpu_fail(ETPU_IO_ERROR, "%s: cannot stat: %s", path, strerror(e));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return etpu_fail(ETPU_IO_ERROR, "%s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > (uint64_t)SIZE_MAX) {
    close(fd);
    return etpu_fail(ETPU_IO_ERROR, "%s: file too large for this machine", path);
  }
  size_t size = (size_t)st.st_size;
  if (size == 0) {
    close(fd);
    out->data = (const uint8_t *)"";
    return ETPU_OK;
  }
  void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (m == MAP_FAILED) {
    /* Fall back to reading (e.g. file systems without mmap). */
    void *buf = etpu_malloc(size);
    if (!buf) {
      close(fd);
      return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory reading %zu bytes", path, size);
    }
    size_t got = 0;
    while (got < size) {
      ssize_t r = read(fd, (char *)buf + got, size - got);
      if (r <= 0) {
        int e = errno;
        etpu_free(buf);
        close(fd);
        return etpu_fail(ETPU_IO_ERROR, "%s: read failed: %s", path, r == 0 ? "unexpected end of file" : strerror(e));
      }
      got += (size_t)r;
    }
    close(fd);
    out->heap = buf;
    out->data = buf;
    out->size = size;
    return ETPU_OK;
  }
  close(fd);
  out->map = m;
  out->map_size = size;
  out->data = m;
  out->size = size;
  return ETPU_OK;
}

void etpu_file_unmap(etpu_file_image *img) {
  if (img->map) munmap(img->map, img->map_size);
  etpu_free(img->heap);
  memset(img, 0, sizeof *img);
}

void etpu_file_release(const etpu_file_image *img, const void *p, size_t size) {
#ifdef MADV_DONTNEED
  if (!img || !img->map || !p || size == 0) return;
  const uintptr_t base = (uintptr_t)img->map, at = (uintptr_t)p;
  if (at < base || at - base > img->map_size || size > img->map_size - (at - base)) return;
  const long page_size = sysconf(_SC_PAGESIZE);
  if (page_size <= 0) return;
  const uintptr_t page = (uintptr_t)page_size;
  const uintptr_t first = (at + page - 1) / page * page, last = (at + size) / page * page; /* whole pages inside */
  if (last > first) (void)madvise((void *)first, (size_t)(last - first), MADV_DONTNEED);
#else
  (void)img, (void)p, (void)size;
#endif
}

etpu_status etpu_file_read(const char *path, size_t max_size, void **data_out, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return etpu_fail(ETPU_IO_ERROR, "%s: cannot open: %s", path, strerror(errno));
  size_t cap = 0, n = 0;
  char *buf = NULL;
  for (;;) {
    if (n == cap) {
      if (cap >= max_size) {
        etpu_free(buf);
        fclose(f);
        return etpu_fail(ETPU_INVALID_ARGUMENT, "%s: larger than the limit of %zu bytes", path, max_size);
      }
      size_t ncap = cap ? cap * 2 : 65536;
      if (ncap > max_size) ncap = max_size;
      char *nb = etpu_realloc(buf, ncap);
      if (!nb) {
        etpu_free(buf);
        fclose(f);
        return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
      }
      buf = nb;
      cap = ncap;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    etpu_free(buf);
    return etpu_fail(ETPU_IO_ERROR, "%s: read error", path);
  }
  *data_out = buf;
  *size_out = n;
  return ETPU_OK;
}

etpu_status etpu_write_file_atomic(const char *path, const void *data, size_t size) {
  if (!path || (!data && size)) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_write_file_atomic: NULL argument");
  etpu_iovec part = {data, size};
  return etpu_file_write_atomic(path, &part, 1);
}

etpu_status etpu_file_check_writable(const char *path) {
  if (!path || !*path) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_file_check_writable: no path");
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
    return etpu_fail(ETPU_IO_ERROR, "%s: cannot write the output: it is a folder", path);
  size_t plen = strlen(path);
  char *tmp = etpu_malloc(plen + 32);
  if (!tmp) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
  /* The very file etpu_file_write_atomic will create, made and removed. */
  snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
  etpu_status rc = ETPU_OK;
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  } else if (errno != EEXIST) {
    rc = etpu_fail(ETPU_IO_ERROR, "%s: cannot write the output (creating %s): %s", path, tmp, strerror(errno));
  }
  etpu_free(tmp);
  return rc;
}

etpu_status etpu_file_write_atomic(const char *path, const etpu_iovec *parts, size_t count) {
  size_t plen = strlen(path);
  char *tmp = etpu_malloc(plen + 32);
  if (!tmp) return etpu_fail(ETPU_OUT_OF_MEMORY, "%s: out of memory", path);
  snprintf(tmp, plen + 32, "%s.tmp.%ld", path, (long)getpid());
  /* 0666 less the umask: the mode of any file the user creates. */
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
  if (fd < 0) {
    etpu_status st = etpu_fail(ETPU_IO_ERROR, "%s: cannot create %s: %s", path, tmp, strerror(errno));
    etpu_free(tmp);
    return st;
  }
  for (size_t i = 0; i < count; i++) {
    const char *p = parts[i].data;
    size_t left = parts[i].size;
    while (left > 0) {
      ssize_t w = write(fd, p, left);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        etpu_status st = etpu_fail(ETPU_IO_ERROR, "%s: write failed: %s", path, w < 0 ? strerror(errno) : "no progress");
        close(fd);
        unlink(tmp);
        etpu_free(tmp);
        return st;
      }
      p += w;
      left -= (size_t)w;
    }
  }
  if (fsync(fd) != 0 && errno != EINVAL) {
    etpu_status st = etpu_fail(ETPU_IO_ERROR, "%s: fsync failed: %s", path, strerror(errno));
    close(fd);
    unlink(tmp);
    etpu_free(tmp);
    return st;
  }
  if (close(fd) != 0) {
    etpu_status st = etpu_fail(ETPU_IO_ERROR, "%s: close failed: %s", path, strerror(errno));
    unlink(tmp);
    etpu_free(tmp);
    return st;
  }
  if (rename(tmp, path) != 0) {
    etpu_status st = etpu_fail(ETPU_IO_ERROR, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    unlink(tmp);
    etpu_free(tmp);
    return st;
  }
  etpu_free(tmp);
  return ETPU_OK;
}
