/*
 * bench_cooc.c -- load + co-occurrence counting benchmark.
 *
 *   bench_cooc (--baskets FILE | --events FILE) [--threads N]
 *
 * Prints one JSON line: seconds to load and to count, peak resident memory,
 * table size and bytes per stored pair, and a checksum (sum of all pair
 * counts) that bench/cooc/cooc_scipy.py prints too, so both sides are seen
 * to compute the same table.
 */
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

int main(int argc, char **argv)
{
    const char *baskets = NULL, *events = NULL;
    int threads = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--baskets"))
            baskets = argv[i + 1];
        else if (!strcmp(argv[i], "--events"))
            events = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
    }
    if (!baskets == !events) {
        fprintf(stderr, "usage: bench_cooc (--baskets FILE | --events FILE) "
                        "[--threads N]\n");
        return 2;
    }
    xs_error err = {0};
    double t0 = now();
    xs_dataset *ds = baskets ? xs_dataset_load_baskets(baskets, &err)
                             : xs_dataset_load_events(events, NULL, &err);
    if (!ds) {
        fprintf(stderr, "bench_cooc: %s\n", err.msg);
        return 1;
    }
    double t1 = now();
    xs_txns t;
    if (xs_txns_build(ds, XS_SCOPE_BASKET, &t, &err)) {
        fprintf(stderr, "bench_cooc: %s\n", err.msg);
        return 1;
    }
    xs_cooc *c = xs_cooc_build(&t, xs_dict_size(ds->items), threads, &err);
    if (!c) {
        fprintf(stderr, "bench_cooc: %s\n", err.msg);
        return 1;
    }
    double t2 = now();
    uint64_t checksum = 0;
    for (uint32_t a = 0; a < xs_dict_size(ds->items); a++) {
        xs_row row;
        if (xs_cooc_row(c, a, &row))
            for (uint32_t i = 0; i < row.n; i++)
                checksum += row.cnt[i];
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t pairs = xs_cooc_pairs(c);
    size_t bytes = xs_cooc_bytes(c);
    printf("{\"impl\":\"xsell\",\"threads\":%d,\"transactions\":%u,"
           "\"items\":%u,\"load_s\":%.4f,\"count_s\":%.4f,\"total_s\":%.4f,"
           "\"peak_rss_mb\":%.1f,\"pairs\":%llu,\"table_mb\":%.2f,"
           "\"bytes_per_pair\":%.2f,\"checksum\":%llu}\n",
           threads, t.n, xs_cooc_items(c), t1 - t0, t2 - t1, t2 - t0,
           ru.ru_maxrss / 1024.0, (unsigned long long)pairs, bytes / 1048576.0,
           pairs ? (double)bytes / (double)pairs : 0.0,
           (unsigned long long)checksum);
    xs_cooc_free(c);
    xs_txns_free(&t);
    xs_dataset_free(ds);
    return 0;
}
