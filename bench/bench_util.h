/*
 * bench_util.h — what the benchmark mains share: where the shared data is
 * (ETPU_SHARED_DATA, else the folder CMake names, else ../shared/data) and
 * the optional leading repetition count some of them take.
 */
#ifndef ETPU_BENCH_UTIL_H
#define ETPU_BENCH_UTIL_H

#include <stdlib.h>

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

#endif /* ETPU_BENCH_UTIL_H */
