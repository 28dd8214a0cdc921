/*
 * stats.c -- request counters and latency histograms (stats.h).
 */
#include <string.h>

#include "serve/stats.h"

static const char *const op_names[XS_OP_COUNT] = {
    "recommend", "ingest", "rules",   "stats",
    "health",    "plugins", "catalog", "save", "invalid"};

const char *xs_op_name(int op)
{
    return op >= 0 && op < XS_OP_COUNT ? op_names[op] : "invalid";
}

int xs_op_parse(const char *s, uint32_t len)
{
    for (int i = 0; i < XS_OP_INVALID; i++)
        if (strlen(op_names[i]) == len && !memcmp(op_names[i], s, len))
            return i;
    return XS_OP_INVALID;
}

/* Bucket of a latency: values under 1024 ns share the first buckets. */
static int bucket_of(uint64_t ns)
{
    uint64_t us16 = ns >> 6; /* units of 64 ns */
    if (us16 < XS_HIST_SUB)
        return (int)us16;
    int log = 63 - __builtin_clzll(us16); /* >= 4 */
    int sub = (int)((us16 >> (log - 4)) & (XS_HIST_SUB - 1));
    int b = (log - 3) * XS_HIST_SUB + sub;
    return b < XS_HIST_BUCKETS ? b : XS_HIST_BUCKETS - 1;
}

/* Upper bound (ns) of a bucket. */
static double bucket_top(int b)
{
    if (b < XS_HIST_SUB)
        return (b + 1) * 64.0;
    int log = b / XS_HIST_SUB + 3, sub = b % XS_HIST_SUB;
    return (double)(((uint64_t)(XS_HIST_SUB + sub + 1)) << (log - 4)) * 64.0;
}

void xs_stats_record(xs_stats *s, int op, int failed, uint64_t ns)
{
    if (op < 0 || op >= XS_OP_COUNT)
        op = XS_OP_INVALID;
    atomic_fetch_add_explicit(&s->requests[op], 1, memory_order_relaxed);
    if (failed)
        atomic_fetch_add_explicit(&s->errors[op], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->hist[bucket_of(ns)], 1, memory_order_relaxed);
    if (ns > atomic_load_explicit(&s->max_ns, memory_order_relaxed))
        atomic_store_explicit(&s->max_ns, ns, memory_order_relaxed);
}

void xs_stats_summarize(xs_stats *const *s, int n, xs_stats_summary *out)
{
    static uint64_t zero[XS_HIST_BUCKETS];
    uint64_t hist[XS_HIST_BUCKETS];
    memcpy(hist, zero, sizeof hist);
    memset(out, 0, sizeof *out);
    uint64_t max = 0;
    for (int i = 0; i < n; i++) {
        for (int op = 0; op < XS_OP_COUNT; op++) {
            out->requests[op] += atomic_load_explicit(&s[i]->requests[op],
                                                      memory_order_relaxed);
            out->errors[op] += atomic_load_explicit(&s[i]->errors[op],
                                                    memory_order_relaxed);
        }
        for (int b = 0; b < XS_HIST_BUCKETS; b++)
            hist[b] += atomic_load_explicit(&s[i]->hist[b], memory_order_relaxed);
        uint64_t m = atomic_load_explicit(&s[i]->max_ns, memory_order_relaxed);
        if (m > max)
            max = m;
    }
    uint64_t total = 0;
    for (int b = 0; b < XS_HIST_BUCKETS; b++)
        total += hist[b];
    out->total = total;
    out->max_us = max / 1000.0;
    if (!total)
        return;
    const double q[3] = {0.50, 0.90, 0.99};
    double *dst[3] = {&out->p50_us, &out->p90_us, &out->p99_us};
    for (int k = 0; k < 3; k++) {
        uint64_t rank = (uint64_t)(q[k] * (double)total);
        if (rank >= total)
            rank = total - 1;
        uint64_t seen = 0;
        for (int b = 0; b < XS_HIST_BUCKETS; b++) {
            seen += hist[b];
            if (seen > rank) {
                double top = bucket_top(b) / 1000.0;
                *dst[k] = top < out->max_us ? top : out->max_us;
                break;
            }
        }
    }
}
