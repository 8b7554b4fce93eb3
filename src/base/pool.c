/*
 * pool.c — the thread pool of pool.h: pthreads, C11 atomics, and one
 * mutex / two condition variables for sleeping.
 *
 * One 64-bit atomic ticket says which job is open and which unit is next:
 * its high 32 bits are the job's generation, its low 32 bits the next unit,
 * or CLOSED between jobs. A job is opened by writing its task, context and
 * count (atomics, relaxed) while the ticket is CLOSED and then publishing
 * (generation + 1, 0) with release order. Any thread, the caller included,
 * claims unit u by a compare-and-swap of (g, u) to (g, u + 1) with u below
 * the count it read after loading (g, u): the swap succeeds only if the job
 * is still open, and the job stays open until every claimed unit has
 * finished, so the task and context read before the swap are the job's.
 * Each finished unit bumps `finished`; the thread that finishes the last one
 * wakes the caller if it sleeps. The caller then closes the ticket.
 *
 * So the caller waits only for units, never for a worker that was not
 * scheduled in time: on a busy machine it runs every unit itself and a late
 * worker finds the job closed. Workers and the caller first spin
 * (SPIN_ROUNDS pause instructions) before taking the mutex, because an
 * invoke opens one job per layer a few microseconds apart and a sleep/wake
 * round trip costs more than most layers. The mutex orders every sleep
 * against the change it waits for (a worker re-checks the ticket, the caller
 * re-checks `finished`, under the mutex), so no wake-up is lost.
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

#define CLOSED UINT64_C(0xffffffff)
#define TICKET(gen, unit) (((uint64_t)(gen) << 32) | (uint64_t)(unit))

struct etpu_pool {
  uint32_t threads;                /* the caller and the workers that exist */
  pthread_t *workers;              /* threads − 1 */
  struct worker_arg *args;         /* threads − 1: what each worker is told */
  pthread_mutex_t mu;              /* guards sleeping on wake / done, and the failure below */
  pthread_cond_t wake;             /* a job opened, or stop */
  pthread_cond_t done;             /* the last unit finished */
  _Atomic(etpu_pool_task) task;    /* the open job: written while the ticket is CLOSED */
  _Atomic(void *) ctx;
  atomic_size_t count;
  _Atomic uint64_t ticket;         /* (generation, next unit or CLOSED) */
  atomic_size_t finished;          /* units of the open job finished (run or skipped) */
  atomic_bool failed;              /* a unit failed: the rest are skipped */
  atomic_bool stop;                /* destroy: workers exit */
  atomic_bool caller_sleeps;       /* the caller waits on `done` */
  etpu_status status;              /* the first failure (under mu) */
  char message[1024];              /* its message */
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

/* Claim and run units of job `gen` until none is left or the job closed. */
static void work(etpu_pool *p, uint32_t id, uint32_t gen) {
  uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
  for (;;) {
    if ((t >> 32) != gen || (t & CLOSED) == CLOSED) return;
    const etpu_pool_task task = atomic_load_explicit(&p->task, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
    const size_t count = atomic_load_explicit(&p->count, memory_order_relaxed);
    const size_t u = (size_t)(t & CLOSED);
    if (u >= count) return;
    if (!atomic_compare_exchange_weak_explicit(&p->ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire))
      continue; /* t now holds the ticket as it is */
    if (!atomic_load_explicit(&p->failed, memory_order_relaxed)) {
      const etpu_status st = task(ctx, id, u);
      if (st != ETPU_OK) {
        pthread_mutex_lock(&p->mu);
        if (p->status == ETPU_OK) {
          p->status = st;
          snprintf(p->message, sizeof p->message, "%s", etpu_errmsg());
        }
        pthread_mutex_unlock(&p->mu);
        atomic_store(&p->failed, true);
      }
    }
    if (atomic_fetch_add(&p->finished, 1) + 1 == count &&
        atomic_load(&p->caller_sleeps)) {
      pthread_mutex_lock(&p->mu);
      pthread_cond_signal(&p->done);
      pthread_mutex_unlock(&p->mu);
    }
    t = atomic_load_explicit(&p->ticket, memory_order_acquire);
  }
}

static void *worker_main(void *arg) {
  const worker_arg a = *(worker_arg *)arg;
  etpu_pool *p = a.pool;
  uint32_t seen = 0; /* the last generation this worker took part in */
  for (;;) {
    uint64_t t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    for (int i = 0; i < SPIN_ROUNDS && ((t >> 32) == seen || (t & CLOSED) == CLOSED) && !atomic_load(&p->stop);
         i++) {
      cpu_relax();
      t = atomic_load_explicit(&p->ticket, memory_order_acquire);
    }
    if ((t >> 32) == seen || (t & CLOSED) == CLOSED) {
      pthread_mutex_lock(&p->mu);
      for (;;) {
        t = atomic_load(&p->ticket);
        if (((t >> 32) != seen && (t & CLOSED) != CLOSED) || atomic_load(&p->stop)) break;
        pthread_cond_wait(&p->wake, &p->mu);
      }
      pthread_mutex_unlock(&p->mu);
    }
    if (atomic_load(&p->stop)) break;
    seen = (uint32_t)(t >> 32);
    work(p, a.id, seen);
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
  atomic_init(&p->task, NULL);
  atomic_init(&p->ctx, NULL);
  atomic_init(&p->count, 0);
  atomic_init(&p->ticket, TICKET(0, CLOSED));
  atomic_init(&p->finished, 0);
  atomic_init(&p->failed, false);
  atomic_init(&p->stop, false);
  atomic_init(&p->caller_sleeps, false);
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
  if (count >= CLOSED)
    return etpu_fail(ETPU_INVALID_ARGUMENT, "etpu_pool_run: %zu units, at most %llu", count,
                     (unsigned long long)CLOSED - 1);
  /* The ticket is CLOSED: no thread reads the job's fields. */
  const uint32_t gen = (uint32_t)(atomic_load(&p->ticket) >> 32) + 1;
  atomic_store_explicit(&p->task, task, memory_order_relaxed);
  atomic_store_explicit(&p->ctx, ctx, memory_order_relaxed);
  atomic_store_explicit(&p->count, count, memory_order_relaxed);
  atomic_store_explicit(&p->finished, 0, memory_order_relaxed);
  atomic_store_explicit(&p->failed, false, memory_order_relaxed);
  p->status = ETPU_OK;
  pthread_mutex_lock(&p->mu);
  atomic_store_explicit(&p->ticket, TICKET(gen, 0), memory_order_release);
  pthread_cond_broadcast(&p->wake);
  pthread_mutex_unlock(&p->mu);
  work(p, 0, gen);
  for (int i = 0; i < SPIN_ROUNDS && atomic_load_explicit(&p->finished, memory_order_acquire) < count; i++)
    cpu_relax();
  if (atomic_load_explicit(&p->finished, memory_order_acquire) < count) {
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_sleeps, true);
    while (atomic_load(&p->finished) < count) pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->caller_sleeps, false);
    pthread_mutex_unlock(&p->mu);
  }
  atomic_store_explicit(&p->ticket, TICKET(gen, CLOSED), memory_order_release);
  pthread_mutex_lock(&p->mu);
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
