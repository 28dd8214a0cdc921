/*
 * bench_load.c -- the CSV loaders, and the build on top of them.
 *
 *   bench_load (--events FILE | --baskets FILE) [--threads N]
 *              [--block BYTES] [--load-only] [--latin1]
 *
 * Loads the file with N threads (xs_dataset_load_*_opts), then, unless
 * --load-only, builds what a recommender builds first: the transactions
 * (orders, or customers when the file has none) and their co-occurrence
 * table on the same N threads.  Prints one JSON line: seconds to load and
 * to build, events, peak resident memory (getrusage) and its bytes per
 * loaded line, and a checksum of the dataset (ids and sizes), so runs at
 * different thread counts, and before/after builds, are seen to agree.
 *
 * --latin1 loads the file as Latin-1 (transcoded to UTF-8) instead of
 * checking it is UTF-8 (bench/load/messy.sh measures both).
 *
 * Compiled with -DXS_BENCH_SERIAL_API it uses the loaders without options
 * (one thread, the whole file in memory before this change), to measure
 * an older libxsell with the same program (bench/load/run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "xsell/xsell.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* FNV-1a over the events' ids and the dictionaries' sizes. */
static uint64_t checksum(const xs_dataset *ds)
{
    uint64_t h = 1469598103934665603ULL;
#define MIX(v) (h = (h ^ (uint64_t)(v)) * 1099511628211ULL)
    for (size_t i = 0; i < ds->n_events; i++) {
        MIX(ds->events[i].customer);
        MIX(ds->events[i].item);
        MIX(ds->events[i].order);
    }
    MIX(xs_dict_size(ds->items));
    MIX(xs_dict_size(ds->customers));
    MIX(ds->n_orders);
#undef MIX
    return h;
}

int main(int argc, char **argv)
{
    const char *baskets = NULL, *events = NULL;
    int threads = 1, load_only = 0, latin1 = 0;
    size_t block = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--load-only"))
            load_only = 1;
        else if (!strcmp(argv[i], "--latin1"))
            latin1 = 1;
        else if (i + 1 >= argc)
            break;
        else if (!strcmp(argv[i], "--baskets"))
            baskets = argv[++i];
        else if (!strcmp(argv[i], "--events"))
            events = argv[++i];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--block"))
            block = (size_t)strtoull(argv[++i], NULL, 10);
    }
    if (!baskets == !events) {
        fprintf(stderr, "usage: bench_load (--baskets FILE | --events FILE) "
                        "[--threads N] [--block BYTES] [--load-only] "
                        "[--latin1]\n");
        return 2;
    }
    xs_error err = {0};
    double t0 = now();
#ifdef XS_BENCH_SERIAL_API
    (void)block;
    (void)latin1;
    xs_dataset *ds = baskets ? xs_dataset_load_baskets(baskets, &err)
                             : xs_dataset_load_events(events, NULL, &err);
#else
    xs_load_options o = {.threads = threads, .block_size = block,
                         .encoding = latin1 ? XS_ENCODING_LATIN1
                                            : XS_ENCODING_UTF8};
    xs_dataset *ds = baskets ? xs_dataset_load_baskets_opts(baskets, &o, &err)
                             : xs_dataset_load_events_opts(events, NULL, &o,
                                                           &err);
#endif
    if (!ds) {
        fprintf(stderr, "bench_load: %s\n", err.msg);
        return 1;
    }
    double t1 = now(), t2 = t1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double load_rss = ru.ru_maxrss * 1024.0;
    if (!load_only) {
        xs_txns t;
        int scope = ds->n_orders ? XS_SCOPE_BASKET : XS_SCOPE_CUSTOMER;
        if (xs_txns_build(ds, scope, &t, &err)) {
            fprintf(stderr, "bench_load: %s\n", err.msg);
            return 1;
        }
        xs_cooc *c = xs_cooc_build(&t, xs_dict_size(ds->items), threads, &err);
        if (!c) {
            fprintf(stderr, "bench_load: %s\n", err.msg);
            return 1;
        }
        t2 = now();
        xs_cooc_free(c);
        xs_txns_free(&t);
    }
    printf("{\"threads\":%d,\"events\":%zu,\"load_s\":%.4f,\"build_s\":%.4f,"
           "\"total_s\":%.4f,\"load_rss_mb\":%.1f,"
           "\"load_bytes_per_line\":%.1f,\"checksum\":\"%016llx\"}\n",
           threads, ds->n_events, t1 - t0, t2 - t1, t2 - t0,
           load_rss / 1048576.0, load_rss / (double)ds->n_events,
           (unsigned long long)checksum(ds));
    xs_dataset_free(ds);
    return 0;
}
