/*
 * xsell/score.h -- batch scoring: the top-k of many customers at once,
 * written as CSV or JSON lines.
 *
 * The customers are split into chunks of consecutive customers; worker
 * threads (each with its own xs_context) take chunks in order and format
 * them into chunk buffers; the calling thread writes the buffers strictly in
 * chunk order through a bounded ring of buffers (at most 4 per thread in
 * flight).  The output therefore depends on the engine, the plugin, k, the
 * customer list and the shard only, never on the number of threads.
 *
 * Sharding: customer c belongs to shard xs_score_shard_hash(id) mod N, where
 * id is the customer's external id as bytes and the hash is 64-bit FNV-1a
 * (offset basis 14695981039346656037, prime 1099511628211, one byte at a
 * time).  N runs over shards 0..N-1 give disjoint outputs whose rows, put
 * back in the unsharded order, are the unsharded output.
 *
 * Nothing here prints: bytes go to a write callback, progress to a progress
 * callback, errors come back as a status and an xs_error.
 */
#ifndef XSELL_SCORE_H
#define XSELL_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "engine.h"
#include "error.h"

enum xs_score_format { XS_SCORE_CSV = 0, XS_SCORE_JSONL };

/* Writes len bytes; returns 0, or non-zero to stop the run (XS_ERR_IO). */
typedef int (*xs_score_write_fn)(void *arg, const char *buf, size_t len);

/* Called from the calling thread after each chunk is written (done of
 * total customers); throttling any display is the callee's business. */
typedef void (*xs_score_progress_fn)(void *arg, uint64_t done,
                                     uint64_t total);

typedef struct xs_score_config {
    const char *plugin;  /* a loaded plugin's name, or NULL/"blend" */
    uint32_t k;          /* 1 .. XS_K_MAX */
    int threads;         /* worker threads; <= 0: online processors */
    int format;          /* XS_SCORE_CSV or XS_SCORE_JSONL */
    int header;          /* CSV: write the header line */
    int exclude_owned;   /* -1: the engine's rule, 0: keep, 1: drop */
    /* Property filter, boosts and time of every request (their where,
     * boost and now; exclude and exclude_owned are not read): NULL, none.
     * A filter the engine refuses (an unknown property) fails the run
     * before anything is written. */
    const xs_filter *rules;
    /* The customers, by engine id, in output order (duplicates are scored
     * again); NULL: every customer of the data, in first-appearance order. */
    const uint32_t *customers;
    size_t n_customers;
    uint32_t shard, n_shards; /* n_shards <= 1: no sharding */
    uint32_t chunk;           /* customers per chunk; 0: 256, or fewer
                                 to give each thread 8 chunks */
    xs_score_write_fn write;
    void *write_arg;
    xs_score_progress_fn progress; /* may be NULL */
    void *progress_arg;
} xs_score_config;

typedef struct xs_score_stats {
    uint64_t scored;      /* customers answered (in this shard) */
    uint64_t empty;       /* of which with no recommendation */
    uint64_t other_shard; /* customers left to other shards */
    uint64_t rows;        /* recommendations written */
} xs_score_stats;

/* 64-bit FNV-1a of s[0..len). */
XS_API uint64_t xs_score_shard_hash(const char *s, size_t len);

/* Scores the customers of cfg with engine e (plugins loaded, no ingest
 * running) and writes them through cfg->write.  *stats (may be NULL) is
 * filled even on failure.  Returns XS_OK, XS_ERR_USAGE for a bad config
 * (k, shard, format, unknown customer id), XS_ERR_NOMEM, XS_ERR_IO when the
 * writer refused, or the engine's error for a failed recommendation. */
XS_API int xs_score_run(xs_engine *e, const xs_score_config *cfg,
                        xs_score_stats *stats, xs_error *err);

/* A writer for xs_score_config.write: arg is a FILE *. */
XS_API int xs_score_write_file(void *arg, const char *buf, size_t len);

#endif
