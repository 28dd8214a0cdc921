/*
 * xsell/engine.h -- the engine: one object owning the data, the co-occurrence
 * tables and the loaded plugins.
 *
 * Life cycle: xs_engine_new() takes ownership of a dataset and an optional
 * catalog; xs_engine_add_plugin() loads and creates plugins (single
 * threaded); then xs_engine_recommend() may run from many threads at once,
 * each with its own xs_context.
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

typedef struct xs_engine_config {
    const char *plugin_dir; /* --plugin-dir, may be NULL */
    int scope;              /* XS_SCOPE_*, or -1: basket when orders known */
    int threads;            /* for table building; 0: one */
    void (*log)(void *arg, int level, const char *msg); /* NULL: stderr */
    void *log_arg;
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

/* Sorts ids ascending and removes duplicates in place; returns the new
 * count. */
uint32_t xs_request_items(uint32_t *ids, uint32_t n);

#endif
