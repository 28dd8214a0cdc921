/*
 * pool.c -- a small pool of threads running a caller's jobs beside it
 * (engine/pool.h); the blend uses it so that a blend costs about its
 * slowest plugin rather than the sum of them all.
 *
 * The caller hands over all its jobs but one, runs that one itself, then
 * takes back every job of its own that no pool thread has started and runs
 * it too; only then does it wait, for jobs already running.  So a busy
 * pool (every core serving) degrades to running the jobs sequentially in
 * the caller, never to waiting in a queue, and no caller can deadlock on
 * another's jobs.
 *
 * A job's memory is the caller's; a job is never left in the queue once its
 * caller returns: the caller unlinks what it takes back, and waits for the
 * rest to finish.
 */
#include <pthread.h>
#include <stdlib.h>

#include "engine/pool.h"

struct xs_pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t done; /* a job finished */
    xs_job *head, *tail;
    int stop;
    int n;
    pthread_t *th;
};

static void *pool_main(void *arg)
{
    xs_pool *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stop)
            pthread_cond_wait(&p->work, &p->mu);
        if (p->stop)
            break;
        xs_job *j = p->head;
        p->head = j->next;
        if (!p->head)
            p->tail = NULL;
        j->state = XS_JOB_RUNNING;
        pthread_mutex_unlock(&p->mu);
        j->run(j->arg);
        pthread_mutex_lock(&p->mu);
        j->state = XS_JOB_DONE;
        pthread_cond_broadcast(&p->done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

xs_pool *xs_pool_new(int threads)
{
    xs_pool *p = calloc(1, sizeof *p);
    if (!p || threads < 1)
        goto fail;
    p->th = calloc((size_t)threads, sizeof *p->th);
    if (!p->th || pthread_mutex_init(&p->mu, NULL))
        goto fail;
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->done, NULL);
    for (; p->n < threads; p->n++)
        if (pthread_create(&p->th[p->n], NULL, pool_main, p))
            break;
    if (p->n == 0) {
        xs_pool_free(p);
        return NULL;
    }
    return p;
fail:
    if (p)
        free(p->th);
    free(p);
    return NULL;
}

void xs_pool_free(xs_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n; i++)
        pthread_join(p->th[i], NULL);
    if (p->th) {
        pthread_cond_destroy(&p->work);
        pthread_cond_destroy(&p->done);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->th);
    free(p);
}

/* Unlinks j from the queue (lock held); 1 when it was there. */
static int unlink_job(xs_pool *p, xs_job *j)
{
    xs_job *prev = NULL;
    for (xs_job *q = p->head; q; prev = q, q = q->next) {
        if (q != j)
            continue;
        if (prev)
            prev->next = q->next;
        else
            p->head = q->next;
        if (p->tail == q)
            p->tail = prev;
        return 1;
    }
    return 0;
}

void xs_pool_run(xs_pool *p, xs_job *jobs, size_t n)
{
    if (!p || n < 2) {
        for (size_t i = 0; i < n; i++)
            jobs[i].run(jobs[i].arg);
        return;
    }
    pthread_mutex_lock(&p->mu);
    for (size_t i = 1; i < n; i++) {
        jobs[i].state = XS_JOB_QUEUED;
        jobs[i].next = NULL;
        if (p->tail)
            p->tail->next = &jobs[i];
        else
            p->head = &jobs[i];
        p->tail = &jobs[i];
    }
    if (n - 1 < (size_t)p->n)
        for (size_t i = 1; i < n; i++)
            pthread_cond_signal(&p->work);
    else
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    jobs[0].run(jobs[0].arg);
    pthread_mutex_lock(&p->mu);
    for (size_t i = 1; i < n; i++) /* take back what nobody started */
        if (jobs[i].state == XS_JOB_QUEUED && unlink_job(p, &jobs[i])) {
            jobs[i].state = XS_JOB_RUNNING;
            pthread_mutex_unlock(&p->mu);
            jobs[i].run(jobs[i].arg);
            pthread_mutex_lock(&p->mu);
            jobs[i].state = XS_JOB_DONE;
        }
    for (size_t i = 1; i < n; i++)
        while (jobs[i].state != XS_JOB_DONE)
            pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
