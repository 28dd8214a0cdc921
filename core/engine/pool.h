/*
 * engine/pool.h -- a small pool of threads running jobs beside their
 * caller (the blend's fan-out: several plugins of one request at once).
 *
 * A job is a function and its argument; the pool knows nothing of what it
 * runs.  The caller owns the jobs' memory; xs_pool_run returns only when
 * all of them are done, so a job never outlives its caller's frame.
 */
#ifndef XS_ENGINE_POOL_H
#define XS_ENGINE_POOL_H

#include <stddef.h>

enum { XS_JOB_QUEUED = 1, XS_JOB_RUNNING, XS_JOB_DONE };

typedef struct xs_job {
    void (*run)(void *arg);
    void *arg;
    int state; /* XS_JOB_*, guarded by the pool's lock */
    struct xs_job *next;
} xs_job;

typedef struct xs_pool xs_pool;

/* threads >= 1 helpers; NULL when none could be started. */
xs_pool *xs_pool_new(int threads);
void xs_pool_free(xs_pool *p);

/* Runs the n jobs: jobs[0] and any the pool has not started in the
 * calling thread, the rest on pool threads; returns when all are done.
 * p may be NULL: all run in the caller, in order. */
void xs_pool_run(xs_pool *p, xs_job *jobs, size_t n);

#endif
