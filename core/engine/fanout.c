/*
 * fanout.c -- a small pool of threads that run a blend's plugins beside the
 * calling thread, so a blend costs about its slowest plugin rather than the
 * sum of them all.
 *
 * The caller hands over all its tasks but one, runs that one itself, then
 * takes back every task of its own that no pool thread has started and runs
 * it too; only then does it wait, for tasks already running.  So a busy
 * pool (every core serving) degrades to running the blend sequentially in
 * the caller, never to waiting in a queue, and no caller can deadlock on
 * another's tasks.
 *
 * A task's memory is the caller's (its context); a task is never left in the
 * queue once its caller returns: the caller unlinks what it takes back, and
 * waits for the rest to finish.  Pool threads only read engine and plugin
 * state, under the read lock the caller holds for the whole request.
 */
#include <stdlib.h>

#include "engine/engine_internal.h"

struct xs_pool {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a task was queued, or stop */
    pthread_cond_t done; /* a task finished */
    xs_task *head, *tail;
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
        xs_task *t = p->head;
        p->head = t->next;
        if (!p->head)
            p->tail = NULL;
        t->state = XS_TASK_RUNNING;
        pthread_mutex_unlock(&p->mu);
        t->rc = xs_task_run(t);
        pthread_mutex_lock(&p->mu);
        t->state = XS_TASK_DONE;
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

/* Unlinks t from the queue (lock held); 1 when it was there. */
static int unlink_task(xs_pool *p, xs_task *t)
{
    xs_task *prev = NULL;
    for (xs_task *q = p->head; q; prev = q, q = q->next) {
        if (q != t)
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

void xs_pool_run(xs_pool *p, xs_task *tasks, size_t n)
{
    if (!p || n < 2) {
        for (size_t i = 0; i < n; i++)
            tasks[i].rc = xs_task_run(&tasks[i]);
        return;
    }
    pthread_mutex_lock(&p->mu);
    for (size_t i = 1; i < n; i++) {
        tasks[i].state = XS_TASK_QUEUED;
        tasks[i].next = NULL;
        if (p->tail)
            p->tail->next = &tasks[i];
        else
            p->head = &tasks[i];
        p->tail = &tasks[i];
    }
    if (n - 1 < (size_t)p->n)
        for (size_t i = 1; i < n; i++)
            pthread_cond_signal(&p->work);
    else
        pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    tasks[0].rc = xs_task_run(&tasks[0]);
    pthread_mutex_lock(&p->mu);
    for (size_t i = 1; i < n; i++) /* take back what nobody started */
        if (tasks[i].state == XS_TASK_QUEUED && unlink_task(p, &tasks[i])) {
            tasks[i].state = XS_TASK_RUNNING;
            pthread_mutex_unlock(&p->mu);
            tasks[i].rc = xs_task_run(&tasks[i]);
            pthread_mutex_lock(&p->mu);
            tasks[i].state = XS_TASK_DONE;
        }
    for (size_t i = 1; i < n; i++)
        while (tasks[i].state != XS_TASK_DONE)
            pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
