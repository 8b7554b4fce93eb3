/*
 * pool.h — a small fixed thread pool that splits a range of work units over
 * its threads: the one place etpu creates threads (pthreads; the platform
 * layer, beside base.c's file maps and atomic writes).
 *
 * An interpreter owns one pool of N threads: the thread that calls
 * etpu_pool_run() and N − 1 workers. etpu_pool_run(pool, count, task, ctx)
 * hands out the units 0 .. count − 1 one at a time to whichever thread is
 * free (an atomic ticket), calls task(ctx, worker, unit) for each, and
 * returns when all are done — waiting for units, not for workers, so a
 * worker the system has not scheduled costs the caller nothing. `worker` (0 .. N − 1; 0 is the caller) selects
 * the caller's per-thread scratch. Which thread computes which unit varies
 * from run to run; the bytes do not, as long as units write disjoint outputs
 * and each unit's result does not depend on who computes it — the contract
 * of the kernels' run_range entry points.
 *
 * Workers spin briefly after a job (the next layer of an invoke follows
 * within microseconds) and then sleep on a condition variable, so an idle
 * interpreter costs no CPU. A pool of one thread creates no worker and runs
 * every unit on the caller.
 */
#ifndef ETPU_BASE_POOL_H
#define ETPU_BASE_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "etpu/etpu.h"

typedef struct etpu_pool etpu_pool;

/* One unit of work. Returns ETPU_OK, or a status with the thread's error
 * message set (etpu_fail); the pool reports the first failure. */
typedef etpu_status (*etpu_pool_task)(void *ctx, uint32_t worker, size_t unit);

/* ETPU_NUM_THREADS from the environment when it holds a count 1..256;
 * else the threads this process may run on (its CPU affinity mask where the
 * platform has one, else the online processors), at least 1. */
uint32_t etpu_pool_default_threads(void);

/* A pool of `threads` threads, the caller's included (0: the default above;
 * at most ETPU_POOL_MAX_THREADS). If the system refuses a worker thread the
 * pool keeps the ones it has (etpu_pool_threads says how many): results are
 * the same bytes with any count. ETPU_OUT_OF_MEMORY when the pool itself
 * cannot be allocated. */
enum { ETPU_POOL_MAX_THREADS = 256 };
ETPU_WUR etpu_status etpu_pool_create(uint32_t threads, etpu_pool **pool_out);

/* Threads that run units, the caller's included (>= 1). NULL: 1. */
uint32_t etpu_pool_threads(const etpu_pool *pool);

/* Run task for every unit in [0, count) and wait for all. pool NULL runs
 * them on the caller. Not reentrant: one etpu_pool_run at a time per pool
 * (an interpreter is used by one thread at a time). Returns the status of
 * a failed unit (its message copied to the caller's error message), else
 * ETPU_OK; after a failure the units not yet started are skipped. */
ETPU_WUR etpu_status etpu_pool_run(etpu_pool *pool, size_t count, etpu_pool_task task, void *ctx);

/* Stop and join the workers, free the pool. NULL is a no-op. */
void etpu_pool_free(etpu_pool *pool);

#endif /* ETPU_BASE_POOL_H */
