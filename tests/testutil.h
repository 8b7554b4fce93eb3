/*
 * testutil.h — small helpers shared by etpu's C tests: check macros that
 * report file:line, the location of ../shared/data, and the list of every
 * model file in it.
 *
 * Shared data: ETPU_SHARED_DATA (environment) overrides the path compiled in
 * from CMake. When the folder is absent a test prints why and exits 77, which
 * ctest reports as skipped (SKIP_RETURN_CODE) — and CI sets
 * ETPU_REQUIRE_SHARED_DATA=1 so that a missing folder fails instead.
 */
#ifndef ETPU_TESTUTIL_H
#define ETPU_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "etpu/etpu.h"

extern int tu_failures;
extern int tu_checks;

#define CHECK(cond)                                                               \
  do {                                                                            \
    tu_checks++;                                                                  \
    if (!(cond)) {                                                                \
      tu_failures++;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
    }                                                                             \
  } while (0)

#define CHECK_MSG(cond, ...)                                                      \
  do {                                                                            \
    tu_checks++;                                                                  \
    if (!(cond)) {                                                                \
      tu_failures++;                                                              \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);    \
      fprintf(stderr, __VA_ARGS__);                                               \
      fputc('\n', stderr);                                                        \
    }                                                                             \
  } while (0)

#define CHECK_OK(expr)                                                            \
  do {                                                                            \
    etpu_status st_ = (expr);                                                     \
    tu_checks++;                                                                  \
    if (st_ != ETPU_OK) {                                                         \
      tu_failures++;                                                              \
      fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #expr,   \
              etpu_status_name(st_), etpu_errmsg());                              \
    }                                                                             \
  } while (0)

/* Print "N passed, N failed" and return the process exit code. */
int tu_finish(const char *name);

/* The shared data folder, or NULL after printing why (then exit with
 * tu_skip_code()). */
const char *tu_shared_dir(void);
int tu_skip_code(void); /* 77, or 1 when ETPU_REQUIRE_SHARED_DATA=1 */

/* Every model file under shared data (.tflite, and the .bin files of quantizer_cases),
 * sorted; returns the count. Free with tu_free_list. */
size_t tu_list_models(const char *dir, char ***paths_out);
void tu_free_list(char **paths, size_t n);

/* The entries of a folder but "." names, sorted, malloc'd (free with
 * tu_free_list). A folder that cannot be opened or read (readdir failing,
 * e.g. EOVERFLOW without large-file support) is a failed check, never an
 * empty listing; returns the count (0 then). */
size_t tu_list_dir(const char *dir, char ***names_out);

/* Read a whole file (malloc'd). */
bool tu_read_file(const char *path, unsigned char **data_out, size_t *size_out);

#endif
