/*
 * xsell/engine.h -- the engine: one object owning the data, the co-occurrence
 * tables and the loaded plugins.
 *
 * Life cycle: xs_engine_new() takes ownership of a dataset and an optional
 * catalog; xs_engine_add_plugin() loads and creates plugins (single
 * threaded); then xs_engine_recommend() may run from many threads at once,
 * each with its own xs_context.
 *
 * Online updates: xs_engine_ingest() may run while others read.  It takes
 * the engine's write lock; every reader that may overlap an ingest brackets
 * its reads (id lookups, recommend, reading names of results) with
 * xs_engine_read_lock()/xs_engine_read_unlock().  The lock prefers writers,
 * so a stream of readers cannot starve ingest.
 */
#ifndef XSELL_ENGINE_H
#define XSELL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "cooc.h"
#include "dataset.h"
#include "error.h"
#include "loader.h"
#include "plugin.h"

typedef struct xs_engine xs_engine;
typedef struct xs_context xs_context;

/* One event as it arrives online: external ids as byte strings (not
 * NUL-terminated), order optional (order == NULL). */
typedef struct xs_ingest_event {
    const char *customer;
    const char *item;
    const char *order;
    uint32_t customer_len, item_len, order_len;
    int64_t ts;    /* unix seconds */
    double weight; /* >= 0 */
    double price;  /* >= 0, or NaN when unknown */
} xs_ingest_event;

/* Called by xs_engine_ingest after the batch is validated and before it is
 * applied; a non-zero return refuses the batch (nothing applied).  This is
 * where a write-ahead log makes ingest durable. */
typedef int (*xs_journal_fn)(void *arg, const xs_ingest_event *ev, size_t n,
                             xs_error *err);

typedef struct xs_engine_config {
    const char *plugin_dir; /* --plugin-dir, may be NULL */
    int scope;              /* XS_SCOPE_*, or -1: basket when orders known */
    int threads;            /* for table building; 0: one */
    void (*log)(void *arg, int level, const char *msg); /* NULL: stderr */
    void *log_arg;
    xs_journal_fn journal; /* NULL: ingest is not journaled */
    void *journal_arg;
} xs_engine_config;

/* Takes ownership of ds and cat (cat may be NULL) even on failure. */
xs_engine *xs_engine_new(xs_dataset *ds, xs_catalog *cat,
                         const xs_engine_config *cfg, xs_error *err);
void xs_engine_free(xs_engine *e);

const xs_dataset *xs_engine_dataset(const xs_engine *e);
const xs_catalog *xs_engine_catalog(const xs_engine *e);
int xs_engine_default_scope(const xs_engine *e);

/* Builds the table of a scope if not built yet.  XS_ERR_NOTFOUND when the
 * data cannot give that scope. */
int xs_engine_use_scope(xs_engine *e, int scope, xs_error *err);
/* The table of a scope, or NULL when not built. */
const xs_cooc *xs_engine_cooc(const xs_engine *e, int scope);

/* Loads plugin `name` (or a path) and creates it with the options.
 * XS_ERR_NOTFOUND when no file is found, XS_ERR_PLUGIN on any load or create
 * failure, XS_ERR_USAGE for a duplicate name. */
int xs_engine_add_plugin(xs_engine *e, const char *name, const xs_option *opts,
                         size_t n_opts, xs_error *err);
size_t xs_engine_plugin_count(const xs_engine *e);
const xs_plugin *xs_engine_plugin(const xs_engine *e, size_t i);

/* Item id of a name, or XS_NONE. */
uint32_t xs_engine_item(const xs_engine *e, const char *name);
const char *xs_engine_item_name(const xs_engine *e, uint32_t item);

/* One recommended item. */
typedef struct xs_rec {
    uint32_t item;
    double score;
    const char *plugin; /* name of the plugin that produced it */
    xs_evidence ev;     /* filled when the request asked to explain */
} xs_rec;

/* Per-thread request state: result heap, scratch memory, output.  Reused
 * from request to request without allocating once warm. */
xs_context *xs_context_new(xs_engine *e);
void xs_context_free(xs_context *ctx);

/* Runs plugin `plugin` on req.  On XS_OK, *out points at *n results owned by
 * ctx, valid until the next call with ctx.  req->items must be sorted and
 * unique (see xs_request_items). */
int xs_engine_recommend(xs_engine *e, xs_context *ctx, const char *plugin,
                        const xs_request *req, const xs_rec **out, size_t *n,
                        xs_error *err);

/* Like xs_engine_recommend, and also never returns the n_exclude items of
 * exclude (any order, duplicates allowed). */
int xs_engine_recommend_excluding(xs_engine *e, xs_context *ctx,
                                  const char *plugin, const xs_request *req,
                                  const uint32_t *exclude, uint32_t n_exclude,
                                  const xs_rec **out, size_t *n,
                                  xs_error *err);

/* Reader side of the engine lock (see the top of this file). */
void xs_engine_read_lock(xs_engine *e);
void xs_engine_read_unlock(xs_engine *e);

#define XS_INGEST_MAX 10000 /* events in one batch */
#define XS_ID_MAX 1024      /* bytes in one external id */

/* Validates the whole batch (ids non-empty and at most XS_ID_MAX bytes,
 * weight finite and >= 0, price NaN or finite and >= 0), refusing it whole
 * with XS_ERR_USAGE and a message naming the event ("events[3].item: ...");
 * then calls the journal, then, under the write lock, interns the new ids,
 * extends the co-occurrence tables, the customers' histories, and calls every
 * plugin's observe().  The next recommend sees the events. */
int xs_engine_ingest(xs_engine *e, const xs_ingest_event *ev, size_t n,
                     xs_error *err);

/* Figures for monitoring. */
typedef struct xs_engine_info {
    uint32_t customers, items;
    uint64_t events;    /* loaded + ingested */
    uint64_t ingested;
    uint64_t transactions[2]; /* per scope; 0 when not built */
    uint64_t pairs[2];        /* stored directed pairs per scope */
    size_t bytes;             /* data, dictionaries and tables */
} xs_engine_info;

/* Fills *out; the caller holds the read lock when ingest may run. */
void xs_engine_info_get(const xs_engine *e, xs_engine_info *out);

/* Sorts ids ascending and removes duplicates in place; returns the new
 * count. */
uint32_t xs_request_items(uint32_t *ids, uint32_t n);

#endif
