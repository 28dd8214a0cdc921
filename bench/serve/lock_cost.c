/*
 * lock_cost.c -- what the engine's read lock costs a request: the time of a
 * read lock + unlock of a writer-preferring pthread_rwlock (the kind the
 * engine uses), from one thread and from two threads at once (the lock's
 * cache line then moves between cores).
 *
 *   lock_cost [ITERATIONS]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static pthread_rwlock_t lock;
static long iterations = 10000000;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void *reader(void *arg)
{
    (void)arg;
    for (long i = 0; i < iterations; i++) {
        pthread_rwlock_rdlock(&lock);
        pthread_rwlock_unlock(&lock);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        iterations = atol(argv[1]);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock, &attr);
    double t0 = now();
    reader(NULL);
    double one = (now() - t0) / (double)iterations * 1e9;
    pthread_t a, b;
    t0 = now();
    pthread_create(&a, NULL, reader, NULL);
    pthread_create(&b, NULL, reader, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    double two = (now() - t0) / (double)iterations * 1e9;
    printf("{\"one_thread_ns\":%.1f,\"two_threads_ns\":%.1f}\n", one, two);
    return 0;
}
