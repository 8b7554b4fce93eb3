/*
 * pool.c — the thread pool of pool.h: pthreads, C11 atomics, and one
 * mutex / two condition variables for sleeping.
 *
 * A job is published by bumping `generation` under the mutex and waking the
 * workers; each thread (caller included) then claims units with an atomic
 * fetch-add on `next` until the count is reached, and a worker that finishes
 * decrements `active`; the last one signals the caller. Workers and the
 * caller first spin (SPIN_ROUNDS pause instructions) on the atomics before
 * taking the mutex, because an invoke publishes one job per layer a few
 * microseconds apart and a sleep/wake round trip costs more than most layers.
 * The mutex orders every sleep against the matching change, so no wake-up is
 * lost: a worker re-checks `generation` under the mutex before it waits, and
 * the caller re-checks `active` under the mutex before it waits.
 */
#if defined(__linux__)
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <sched.h>
#endif
#include "base/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"

enum { SPIN_ROUNDS = 1 << 12 };

struct etpu_pool {
  uint32_t threads;        /* the caller and the workers that exist */
  pthread_t *workers;      /* threads − 1 */
  struct worker_arg *args; /* threads − 1: what each worker is told */
  pthread_mutex_t mu;      /* guards sleeping on wake / done, and the failure below */
  pthread_cond_t wake;     /* a new job or stop */
  pthread_cond_t done;     /* active reached 0 */
  etpu_pool_task task;     /* the current job, written before generation is bumped */
  void *ctx;
  size_t count;
  atomic_size_t next;      /* the next unit to claim */
  atomic_uint generation;  /* bumped once per job */
  atomic_uint active;      /* workers that have not finished the current job */
  atomic_bool failed;      /* a unit failed: skip the rest */
  atomic_bool stop;        /* destroy: workers exit */
  etpu_status status;      /* the first failure (under mu) */
  char message[1024];      /* its message */
};

typedef struct worker_arg {
  etpu_pool *pool;
  uint32_t id;
} worker_arg;

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

uint32_t etpu_pool_default_threads(void) {
  /* ETPU_NUM_THREADS=N (1..ETPU_POOL_MAX_THREADS) overrides, as
   * OMP_NUM_THREADS does for OpenMP programs; any other value is ignored. */
  const char *env = getenv("ETPU_NUM_THREADS");
  if (env && *env) {
    char *end = NULL;
    const long v = strtol(env, &end, 10);
    if (end && *end == 0 && v >= 1 && v <= ETPU_POOL_MAX_THREADS) return (uint32_t)v;
  }
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    const int n = CPU_COUNT(&set);
    if (n >= 1) return n > ETPU_POOL_MAX_THREADS ? ETPU_POOL_MAX_THREADS : (uint32_t)n;
  }
#endif
  const long n = sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) return 1;
  return n > ETPU_POOL_MAX_THREADS ? ETPU_POOL_MAX_THREADS : (uint32_t)n;
}

/* Claim and run units of the current job until none is left. */
static void work(etpu_pool *p, uint32_t id) {
  for (;;) {
    if (atomic_load_explicit(&p->failed, memory_order_relaxed)) return;
    const size_t u = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
    if (u >= p->count) return;
    const etpu_status st = p->task(p->ctx, id, u);
    if (st != ETPU_OK) {
      pthread_mutex_lock(&p->mu);
      if (p->status == ETPU_OK) {
        p->status = st;
        snprintf(p->message, sizeof p->message, "%s", etpu_errmsg());
      }
      pthread_mutex_unlock(&p->mu);
      atomic_store(&p->failed, true);
      return;
    }
  }
}

static void *worker_main(void *arg) {
  const worker_arg a = *(worker_arg *)arg;
  etpu_pool *p = a.pool;
  unsigned seen = 0;
  for (;;) {
    unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
    for (int i = 0; i < SPIN_ROUNDS && g == seen && !atomic_load(&p->stop); i++) {
      cpu_relax();
      g = atomic_load_explicit(&p->generation, memory_order_acquire);
    }
    if (g == seen) {
      pthread_mutex_lock(&p->mu);
      while ((g = atomic_load(&p->generation)) == seen && !atomic_load(&p->stop)) pthread_cond_wait(&p->wake, &p->mu);
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) break;
    seen = g;
    work(p, a.id);
    if (atomic_fetch_sub_explicit(&p->active, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
  }
  return NULL;
}

etpu_status etpu_pool_create(uint32_t threads, etpu_pool **out) {
  if (!out) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_pool_create: NULL argument");
  if (threads == 0) threads = etpu_pool_default_threads();
  if (threads > ETPU_POOL_MAX_THREADS)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "%u threads asked for: at most %d", threads, ETPU_POOL_MAX_THREADS);
  etpu_pool *p = etpu_calloc(1, sizeof *p);
  if (!p) return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory for a thread pool");
  p->threads = 1;
  if (pthread_mutex_init(&p->mu, NULL) != 0) {
    etpu_free(p);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "cannot create a thread pool's mutex");
  }
  if (pthread_cond_init(&p->wake, NULL) != 0) {
    pthread_mutex_destroy(&p->mu);
    etpu_free(p);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "cannot create a thread pool's condition variable");
  }
  if (pthread_cond_init(&p->done, NULL) != 0) {
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    etpu_free(p);
    return etpu_fail(ETPU_OUT_OF_MEMORY, "cannot create a thread pool's condition variable");
  }
  atomic_init(&p->next, 0);
  atomic_init(&p->generation, 0);
  atomic_init(&p->active, 0);
  atomic_init(&p->failed, false);
  atomic_init(&p->stop, false);
  if (threads > 1) {
    p->workers = etpu_calloc(threads - 1, sizeof *p->workers);
    p->args = etpu_calloc(threads - 1, sizeof *p->args);
    if (!p->workers || !p->args) {
      etpu_pool_free(p);
      return etpu_fail(ETPU_OUT_OF_MEMORY, "out of memory for %u worker threads", threads - 1);
    }
    /* A worker the system refuses leaves a smaller pool, not an error: the
     * bytes computed do not depend on the count. */
    for (uint32_t i = 1; i < threads; i++) {
      worker_arg *a = &p->args[i - 1];
      a->pool = p;
      a->id = i;
      if (pthread_create(&p->workers[i - 1], NULL, worker_main, a) != 0) break;
      p->threads++;
    }
  }
  *out = p;
  return ETPU_OK;
}

uint32_t etpu_pool_threads(const etpu_pool *p) { return p ? p->threads : 1; }

etpu_status etpu_pool_run(etpu_pool *p, size_t count, etpu_pool_task task, void *ctx) {
  if (!task) return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_pool_run: NULL task");
  if (!p || p->threads == 1 || count <= 1) {
    for (size_t u = 0; u < count; u++) ETPU_TRY(task(ctx, 0, u));
    return ETPU_OK;
  }
  p->task = task;
  p->ctx = ctx;
  p->count = count;
  p->status = ETPU_OK;
  atomic_store(&p->failed, false);
  atomic_store(&p->next, 0);
  atomic_store(&p->active, p->threads - 1);
  pthread_mutex_lock(&p->mu);
  atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  work(p, 0);
  for (int i = 0; i < SPIN_ROUNDS && atomic_load_explicit(&p->active, memory_order_acquire) != 0; i++) cpu_relax();
  pthread_mutex_lock(&p->mu);
  while (atomic_load(&p->active) != 0) pthread_cond_wait(&p->done, &p->mu);
  const etpu_status st = p->status;
  pthread_mutex_unlock(&p->mu);
  if (st != ETPU_OK) return etpu_fail(st, "%s", p->message);
  return ETPU_OK;
}

void etpu_pool_free(etpu_pool *p) {
  if (!p) return;
  if (p->threads > 1) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, true);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t i = 0; i + 1 < p->threads; i++) pthread_join(p->workers[i], NULL);
  }
  etpu_free(p->workers);
  etpu_free(p->args);
  pthread_cond_destroy(&p->done);
  pthread_cond_destroy(&p->wake);
  pthread_mutex_destroy(&p->mu);
  etpu_free(p);
}
