/*
 * engine_internal.h -- the engine's insides, shared by engine.c (life cycle,
 * requests), host.c (the API table handed to plugins) and ingest.c (online
 * updates).  Not installed.
 */
#ifndef XS_ENGINE_INTERNAL_H
#define XS_ENGINE_INTERNAL_H

#include <pthread.h>

#include "util/xs_uthash.h"
#include "xsell/engine.h"
#include "xsell/topk.h"

/* What a plugin sees as its host: a thin handle on the engine. */
struct xs_host {
    xs_engine *engine;
};

typedef struct xs_pool xs_pool; /* fanout.c */

typedef struct plugin_instance {
    xs_plugin_so so;
    void *state;
    double weight;            /* in the blend (filter.c) */
    _Atomic uint64_t dropped; /* candidates push() refused as invalid */
} plugin_instance;

/* The items of one transaction (order or customer) touched by ingest:
 * copied from the built transactions on first touch, then kept here. */
typedef struct live_group {
    uint32_t group;
    uint32_t n, cap;
    uint32_t *items; /* sorted */
    UT_hash_handle hh;
} live_group;

/* A customer's history once ingest has added to it: the built history plus
 * the new events, by time. */
typedef struct live_history {
    uint32_t customer;
    size_t n, cap;
    xs_event *ev;
    UT_hash_handle hh;
} live_history;

struct xs_engine {
    xs_dataset *ds;
    xs_catalog *cat;
    xs_engine_config cfg;
    int default_scope;
    xs_txns txns[2];
    xs_cooc *cooc[2];
    uint32_t *hist_off; /* customer -> first event (events sorted by
                           customer, then time); NULL without customers */
    uint32_t hist_customers; /* customers covered by hist_off */
    xs_host host;
    xs_plugin_path path;
    plugin_instance *plugins;
    size_t n_plugins;
    /* online ingest (ingest.c), guarded by lock */
    pthread_rwlock_t lock;
    live_group *groups[2]; /* per scope */
    live_history *history;
    uint64_t ingested;
    size_t live_bytes;
    int64_t latest_ts; /* latest event time, loaded or ingested */
    /* business rules and blend settings (filter.c) */
    int exclude_owned;
    uint32_t *rebuy; /* category ids bought again, sorted */
    uint32_t n_rebuy;
    int fill;        /* plugin index filling short blends, -1: none */
    xs_pool *pool;   /* blend fan-out helpers; NULL: run in the caller */
};

/* Frees the ingest overlays (ingest.c). */
void xs_engine_live_free(xs_engine *e);

/* Per-request result sink (a plugin's xs_result). */
typedef struct scratch_chunk {
    struct scratch_chunk *next;
    size_t cap, used;
    max_align_t data[];
} scratch_chunk;

struct xs_result {
    xs_topk topk;
    const uint32_t *exclude; /* sorted */
    uint32_t n_exclude;
    uint32_t n_items;
    const xs_catalog *cat;   /* for the stock and category rules */
    uint32_t category;       /* XS_NONE: no category filter */
    uint64_t dropped; /* unknown ids or non-finite scores, since creation */
    scratch_chunk *scratch;
};

/* One plugin run of a request, for the fan-out pool (fanout.c). */
enum { XS_TASK_QUEUED = 1, XS_TASK_RUNNING, XS_TASK_DONE };
typedef struct xs_task {
    plugin_instance *pi;
    const xs_request *req; /* shared by a request's tasks, read only */
    uint32_t k;
    xs_result *res;        /* the task's own; the filters copied in */
    int rc;                /* XS_OK, XS_ERR_NOMEM or XS_ERR_PLUGIN */
    int state;             /* XS_TASK_*, guarded by the pool's lock */
    struct xs_task *next;
} xs_task;

/* threads >= 1 helpers; NULL when none could be started. */
xs_pool *xs_pool_new(int threads);
void xs_pool_free(xs_pool *p);
/* Runs the n tasks, tasks[0] and any not started by the pool in the
 * calling thread; returns when all are done.  p may be NULL: all run in
 * the caller. */
void xs_pool_run(xs_pool *p, xs_task *tasks, size_t n);
/* Runs one task: its plugin into its result (engine.c). */
int xs_task_run(xs_task *t);

/* One plugin's normalised contribution to a blended item (blend.c). */
typedef struct blend_part {
    uint32_t item;
    uint32_t plugin; /* index in the engine's plugins */
    double score;    /* weight x normalised score */
} blend_part;

struct xs_context {
    xs_engine *engine;
    xs_result res;
    xs_rec *recs;
    uint32_t cap_recs;
    uint32_t *exclude; /* request items + exclusions + owned, sorted */
    uint32_t cap_exclude;
    blend_part *parts; /* the blend's plugin lists, then sorted by item */
    size_t n_parts, cap_parts;
    char *names;       /* the recs' joined plugin names, XS_NAMES_LEN each */
    uint32_t cap_names;
    xs_result *sub;    /* the blend: one result per plugin ... */
    xs_task *tasks;    /* ... and one task each */
    size_t n_sub;
};

#define XS_NAMES_LEN 160

/* Runs one plugin into ctx->res for req with result size k (the request's
 * filters already set by xs_filter_prepare); the heap is sorted on
 * return. */
int xs_engine_run_plugin(xs_engine *e, xs_context *ctx, plugin_instance *pi,
                         const xs_request *req, uint32_t k, xs_error *err);
/* The error of a failed task, set in err; returns its code. */
int xs_engine_task_error(const xs_task *t, xs_error *err);
/* Fills ctx->recs[0..n) from the sorted heap for plugin pi. */
int xs_engine_recs_from_heap(xs_engine *e, xs_context *ctx,
                             plugin_instance *pi, const xs_request *req,
                             size_t *n, xs_error *err);
int xs_context_recs_reserve(xs_context *ctx, uint32_t n);

/* Sets up ctx->res's exclusions and filters for a request (filter.c). */
int xs_filter_prepare(xs_engine *e, xs_context *ctx, const xs_request *req,
                      const xs_filter *f, xs_error *err);

/* The blend (blend.c). */
int xs_blend_recommend(xs_engine *e, xs_context *ctx, const xs_request *req,
                       const xs_rec **out, size_t *n, xs_error *err);

/* The customer's history (host.c): 1 and its events, or 0. */
int xs_engine_history(const xs_engine *e, uint32_t customer,
                      const xs_event **ev, size_t *n);

/* Index of plugin `name` or -1. */
int xs_engine_plugin_index(const xs_engine *e, const char *name);

extern const xs_host_api xs_host_api_table;

/* Scratch memory life cycle (host.c). */
void xs_result_scratch_reset(xs_result *r);
void xs_result_scratch_free(xs_result *r);

#endif
