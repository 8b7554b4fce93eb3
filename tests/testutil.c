/*
 * testutil.c — helpers for etpu's C tests (see testutil.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int tu_failures = 0;
int tu_checks = 0;

int tu_finish(const char *name) {
  printf("%s: %d checks\n", name, tu_checks);
  printf("%d passed, %d failed\n", tu_checks - tu_failures, tu_failures);
  return tu_failures ? 1 : 0;
}

int tu_skip_code(void) {
  const char *req = getenv("ETPU_REQUIRE_SHARED_DATA");
  return (req && req[0] == '1') ? 1 : 77;
}

const char *tu_shared_dir(void) {
  const char *env = getenv("ETPU_SHARED_DATA");
  const char *dir = env && env[0] ? env : ETPU_SHARED_DATA_DIR;
  struct stat st;
  if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr,
            "shared test data not found at '%s': this test needs ../shared/data beside the clone "
            "(or ETPU_SHARED_DATA=DIR); skipping\n",
            dir);
    return NULL;
  }
  return dir;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

size_t tu_list_dir(const char *dir, char ***names_out) {
  *names_out = NULL;
  DIR *d = opendir(dir);
  tu_checks++;
  if (!d) {
    tu_failures++;
    fprintf(stderr, "cannot open folder %s: %s\n", dir, strerror(errno));
    return 0;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  bool failed = false;
  for (;;) {
    errno = 0;
    struct dirent *e = readdir(d);
    if (!e) {
      if (errno != 0) {
        fprintf(stderr, "cannot read folder %s: %s\n", dir, strerror(errno));
        failed = true;
      }
      break;
    }
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 64;
      char **grown = realloc(names, nc * sizeof *grown);
      if (!grown) {
        fprintf(stderr, "out of memory listing %s\n", dir);
        failed = true;
        break;
      }
      names = grown;
      cap = nc;
    }
    names[n] = strdup(e->d_name);
    if (!names[n]) {
      fprintf(stderr, "out of memory listing %s\n", dir);
      failed = true;
      break;
    }
    n++;
  }
  closedir(d);
  if (failed) {
    tu_failures++;
    tu_free_list(names, n);
    return 0;
  }
  if (n) qsort(names, n, sizeof *names, cmp_str);
  *names_out = names;
  return n;
}

static void walk(const char *dir, char ***list, size_t *n, size_t *cap) {
  char **names;
  const size_t count = tu_list_dir(dir, &names);
  for (size_t k = 0; k < count; k++) {
    size_t len = strlen(dir) + strlen(names[k]) + 2;
    char *p = malloc(len);
    CHECK(p != NULL);
    if (!p) continue;
    snprintf(p, len, "%s/%s", dir, names[k]);
    struct stat st;
    if (stat(p, &st) != 0) {
      CHECK_MSG(false, "cannot stat %s", p);
      free(p);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      walk(p, list, n, cap);
      free(p);
      continue;
    }
    const char *name = names[k];
    size_t nl = strlen(name);
    bool is_model = (nl > 7 && !strcmp(name + nl - 7, ".tflite")) ||
                    (nl > 4 && !strcmp(name + nl - 4, ".bin") && strstr(p, "quantizer_cases"));
    if (!is_model) {
      free(p);
      continue;
    }
    if (*n == *cap) {
      size_t nc = *cap ? *cap * 2 : 64;
      char **nl2 = realloc(*list, nc * sizeof *nl2);
      CHECK(nl2 != NULL);
      if (!nl2) {
        free(p);
        continue;
      }
      *list = nl2;
      *cap = nc;
    }
    (*list)[(*n)++] = p;
  }
  tu_free_list(names, count);
}

size_t tu_list_models(const char *dir, char ***paths_out) {
  char **list = NULL;
  size_t n = 0, cap = 0;
  walk(dir, &list, &n, &cap);
  if (n) qsort(list, n, sizeof *list, cmp_str);
  *paths_out = list;
  return n;
}

void tu_free_list(char **paths, size_t n) {
  for (size_t i = 0; i < n; i++) free(paths[i]);
  free(paths);
}

bool tu_read_file(const char *path, unsigned char **data_out, size_t *size_out) {
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return false;
  }
  long sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return false;
  }
  unsigned char *buf = malloc((size_t)sz + 1);
  if (!buf) {
    fclose(f);
    return false;
  }
  size_t got = fread(buf, 1, (size_t)sz, f);
  fclose(f);
  if (got != (size_t)sz) {
    free(buf);
    return false;
  }
  *data_out = buf;
  *size_out = (size_t)sz;
  return true;
}
