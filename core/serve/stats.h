/*
 * stats.h -- request counters and latency histograms for the server.
 *
 * Each worker thread owns one xs_stats and is its only writer; the `stats`
 * op reads all of them while they run.  Counters are relaxed atomics, so
 * reading is race-free and costs the writers nothing but a plain add.
 *
 * Latency histogram: log-linear buckets over nanoseconds, 16 sub-buckets per
 * power of two (relative error under 6.25%), 64 ns resolution at the
 * bottom, hours at the top.
 */
#ifndef XS_STATS_H
#define XS_STATS_H

#include <stdatomic.h>
#include <stdint.h>

enum xs_op {
    XS_OP_RECOMMEND = 0,
    XS_OP_INGEST,
    XS_OP_RULES,
    XS_OP_STATS,
    XS_OP_HEALTH,
    XS_OP_PLUGINS,
    XS_OP_CATALOG,
    XS_OP_SAVE,
    XS_OP_INVALID, /* requests whose op could not be read */
    XS_OP_COUNT
};

#define XS_HIST_SUB 16
#define XS_HIST_BUCKETS (37 * XS_HIST_SUB)

typedef struct xs_stats {
    _Atomic uint64_t requests[XS_OP_COUNT];
    _Atomic uint64_t errors[XS_OP_COUNT];
    _Atomic uint64_t hist[XS_HIST_BUCKETS];
    _Atomic uint64_t max_ns;
} xs_stats;

/* Name of an op ("recommend", ...), "invalid" for XS_OP_INVALID. */
const char *xs_op_name(int op);
/* Op id of a name, or XS_OP_INVALID. */
int xs_op_parse(const char *s, uint32_t len);

/* Records one request (by its single writer). */
void xs_stats_record(xs_stats *s, int op, int failed, uint64_t ns);

/* Totals over n stats blocks: requests/errors per op and latency
 * percentiles in microseconds. */
typedef struct xs_stats_summary {
    uint64_t requests[XS_OP_COUNT];
    uint64_t errors[XS_OP_COUNT];
    uint64_t total;
    double p50_us, p90_us, p99_us, max_us;
} xs_stats_summary;

void xs_stats_summarize(xs_stats *const *s, int n, xs_stats_summary *out);

#endif
