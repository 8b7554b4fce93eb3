/*
 * bench_util.h — what the benchmark mains share: where the shared data is
 * (ETPU_SHARED_DATA, else the folder CMake names, else ../shared/data), the
 * optional leading repetition count some of them take, and a monotonic
 * clock in ms with the median of a sample (needs _POSIX_C_SOURCE >= 199309L
 * defined before the first include, for clock_gettime).
 */
#ifndef ETPU_BENCH_UTIL_H
#define ETPU_BENCH_UTIL_H

#include <stdlib.h>
#include <time.h>

#ifndef ETPU_SHARED_DATA_DIR
#define ETPU_SHARED_DATA_DIR "../shared/data"
#endif

static inline const char *bench_shared_dir(void) {
  const char *env = getenv("ETPU_SHARED_DATA");
  return env && env[0] ? env : ETPU_SHARED_DATA_DIR;
}

/* When argv[1] is a whole number in 1..max, store it in *count and return 2,
 * the index of the first argument after it; else leave *count and return 1. */
static inline int bench_leading_count(int argc, char **argv, int max, int *count) {
  if (argc < 2) return 1;
  char *end;
  long v = strtol(argv[1], &end, 10);
  if (*end || v < 1 || v > max) return 1;
  *count = (int)v;
  return 2;
}

/* Milliseconds on the monotonic clock. */
static inline double bench_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static inline int bench_cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The median of v[0..n-1], n >= 1; sorts v (so v[0] is then the minimum). */
static inline double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#endif /* ETPU_BENCH_UTIL_H */
