/*
 * base.h — what every etpu module shares: the allocator hook, a bump arena,
 * the per-thread error message, checked size arithmetic, and file access
 * (memory maps and atomic writes). Nothing here knows about models.
 */
#ifndef ETPU_BASE_H
#define ETPU_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"

/* The .tflite format is little-endian and etpu reads tensor data (int32
 * biases, float weights, its own payload) in place: a big-endian target would
 * compute wrong numbers, so it does not build (CMakeLists.txt says so too). */
#if defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#error "etpu supports little-endian targets only: the .tflite format is little-endian and tensor data is read in place"
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ETPU_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ETPU_PRINTF(a, b)
#endif

/* Heap through the hook of etpu_set_allocator(). */
void *etpu_malloc(size_t size);
void *etpu_calloc(size_t n, size_t size); /* overflow-checked, zeroed */
void *etpu_realloc(void *ptr, size_t size);
/* etpu_free() is public (etpu.h). */

/* Record "fmt..." as the thread's error message and return status. */
etpu_status etpu_fail(etpu_status status, const char *fmt, ...) ETPU_PRINTF(2, 3);
/* Same, prefixing "label: ". */
etpu_status etpu_failv(etpu_status status, const char *fmt, va_list ap);
/* Prepend "prefix: " to the current message (keeps the status). */
etpu_status etpu_fail_prefix(etpu_status status, const char *prefix);
/* Clear the thread's message. */
void etpu_clear_error(void);

/* Evaluate an etpu_status expression; return it from the caller unless OK. */
#define ETPU_TRY(x)                 \
  do {                              \
    etpu_status st_ = (x);          \
    if (st_ != ETPU_OK) return st_; \
  } while (0)

/* Checked arithmetic: false on overflow. */
static inline bool etpu_mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return false;
  *out = a * b;
  return true;
}
static inline bool etpu_add_size(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return false;
  *out = a + b;
  return true;
}

/* Little-endian loads and stores (the .tflite format and etpu's payload). */
static inline uint16_t etpu_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t etpu_rd32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t etpu_rd64(const uint8_t *p) { return (uint64_t)etpu_rd32(p) | ((uint64_t)etpu_rd32(p + 4) << 32); }
static inline void etpu_wr16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void etpu_wr32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void etpu_wr64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* A bump arena: many small allocations freed together. Blocks come from
 * etpu_malloc. */
typedef struct etpu_arena_block etpu_arena_block;
typedef struct etpu_arena {
  etpu_arena_block *head; /* newest block */
  size_t used;            /* bytes used in head */
  size_t cap;             /* capacity of head */
  size_t total;           /* bytes obtained from the heap */
} etpu_arena;

void etpu_arena_init(etpu_arena *a);
void etpu_arena_free(etpu_arena *a);
/* 16-byte aligned, zeroed; NULL on out of memory. */
void *etpu_arena_alloc(etpu_arena *a, size_t size);
void *etpu_arena_array(etpu_arena *a, size_t n, size_t size);
void *etpu_arena_dup(etpu_arena *a, const void *src, size_t size);
char *etpu_arena_strdup(etpu_arena *a, const char *s);

/* A read-only file image: memory-mapped when possible. */
typedef struct etpu_file_image {
  const uint8_t *data;
  size_t size;
  void *map;     /* mmap base, or NULL */
  size_t map_size;
  void *heap;    /* heap copy, or NULL */
} etpu_file_image;

etpu_status etpu_file_map(const char *path, etpu_file_image *out);
void etpu_file_unmap(etpu_file_image *img);

/* Bytes [p, p + size) of a mapped image will not be read again soon (weights
 * now packed elsewhere): drop the whole pages inside them from this process's
 * resident memory (madvise MADV_DONTNEED on the read-only file mapping; a
 * later read faults them in again from the file, the same bytes). No-op for
 * a heap image, a range outside the mapping, or where the platform has no
 * madvise. */
void etpu_file_release(const etpu_file_image *img, const void *p, size_t size);

/* Read a whole file into the heap (bounded by max_size). */
etpu_status etpu_file_read(const char *path, size_t max_size, void **data_out, size_t *size_out);

/* Write parts atomically: "<path>.tmp.<pid>" then rename. */
typedef struct etpu_iovec {
  const void *data;
  size_t size;
} etpu_iovec;
etpu_status etpu_file_write_atomic(const char *path, const etpu_iovec *parts, size_t count);

#endif
