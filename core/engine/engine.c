/*
 * engine.c -- the engine object: data, tables, plugins, requests.
 *
 * Ownership: the engine owns the dataset, the catalog, the tables and the
 * plugin instances.  Contexts belong to their creator (one per thread) and
 * must be freed before the engine.
 *
 * Threads: building (xs_engine_new, use_scope, add_plugin) is single
 * threaded; xs_engine_recommend only reads engine state and writes its
 * context, so any number of threads may call it at once.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writer preference */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine_internal.h"

/* Orders the events by customer, then time (stable), and records where each
 * customer's history starts. */
static int index_history(xs_engine *e)
{
    xs_dataset *ds = e->ds;
    if (!ds->has_customer)
        return 0;
    uint32_t nc = xs_dict_size(ds->customers);
    uint32_t *off = calloc((size_t)nc + 1, sizeof *off);
    xs_event *sorted = malloc((ds->n_events ? ds->n_events : 1) * sizeof *sorted);
    if (!off || !sorted || ds->n_events > UINT32_MAX) {
        free(off);
        free(sorted);
        return -1;
    }
    for (size_t i = 0; i < ds->n_events; i++)
        off[ds->events[i].customer + 1]++;
    for (uint32_t c = 0; c < nc; c++)
        off[c + 1] += off[c];
    uint32_t *fill = malloc(((size_t)nc + 1) * sizeof *fill);
    if (!fill) {
        free(off);
        free(sorted);
        return -1;
    }
    memcpy(fill, off, ((size_t)nc + 1) * sizeof *fill);
    for (size_t i = 0; i < ds->n_events; i++)
        sorted[fill[ds->events[i].customer]++] = ds->events[i];
    free(fill);
    /* insertion sort by time within each customer: histories are short and
     * usually already in order */
    for (uint32_t c = 0; c < nc; c++) {
        xs_event *h = sorted + off[c];
        uint32_t n = off[c + 1] - off[c];
        for (uint32_t i = 1; i < n; i++) {
            xs_event v = h[i];
            uint32_t j = i;
            while (j > 0 && h[j - 1].ts > v.ts) {
                h[j] = h[j - 1];
                j--;
            }
            h[j] = v;
        }
    }
    free(ds->events);
    ds->events = sorted;
    ds->cap_events = ds->n_events ? ds->n_events : 1;
    e->hist_off = off;
    e->hist_customers = nc;
    return 0;
}

xs_engine *xs_engine_new(xs_dataset *ds, xs_catalog *cat,
                         const xs_engine_config *cfg, xs_error *err)
{
    xs_engine *e = calloc(1, sizeof *e);
    if (!e) {
        xs_dataset_free(ds);
        xs_catalog_free(cat);
        xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    e->ds = ds;
    e->cat = cat;
    e->host.engine = e;
    e->exclude_owned = 1;
    e->fill = -2; /* popular, when loaded */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int lock_rc = pthread_rwlock_init(&e->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (lock_rc) {
        xs_dataset_free(ds);
        xs_catalog_free(cat);
        free(e);
        xs_error_set(err, XS_ERR_INTERNAL, "cannot create the engine lock");
        return NULL;
    }
    if (cfg)
        e->cfg = *cfg;
    else
        e->cfg.scope = -1;
    if (e->cfg.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        e->cfg.threads = n > 0 ? (int)n : 1;
    }
    e->default_scope = e->cfg.scope >= 0 ? e->cfg.scope
                       : ds->n_orders    ? XS_SCOPE_BASKET
                                         : XS_SCOPE_CUSTOMER;
    if (xs_plugin_path_init(&e->path, e->cfg.plugin_dir, err))
        goto fail;
    e->cfg.plugin_dir = NULL; /* the caller's string is not ours to keep */
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].ts > e->latest_ts)
            e->latest_ts = ds->events[i].ts;
    if (index_history(e)) {
        xs_error_set(err, XS_ERR_NOMEM, "out of memory indexing histories");
        goto fail;
    }
    if (xs_engine_use_scope(e, e->default_scope, err))
        goto fail;
    if (e->cfg.blend_threads > 0 &&
        !(e->pool = xs_pool_new(e->cfg.blend_threads))) {
        xs_error_set(err, XS_ERR_INTERNAL, "cannot start blend threads");
        goto fail;
    }
    return e;
fail:
    xs_engine_free(e);
    return NULL;
}

void xs_engine_free(xs_engine *e)
{
    if (!e)
        return;
    xs_pool_free(e->pool);
    for (size_t i = e->n_plugins; i-- > 0;) {
        e->plugins[i].so.table->destroy(e->plugins[i].state);
        xs_plugin_so_close(&e->plugins[i].so);
    }
    free(e->plugins);
    free(e->rebuy);
    for (int s = 0; s < 2; s++) {
        xs_cooc_free(e->cooc[s]);
        xs_txns_free(&e->txns[s]);
    }
    free(e->hist_off);
    xs_engine_live_free(e);
    pthread_rwlock_destroy(&e->lock);
    xs_plugin_path_free(&e->path);
    xs_dataset_free(e->ds);
    xs_catalog_free(e->cat);
    free(e);
}

const xs_dataset *xs_engine_dataset(const xs_engine *e)
{
    return e->ds;
}

const xs_catalog *xs_engine_catalog(const xs_engine *e)
{
    return e->cat;
}

int xs_engine_default_scope(const xs_engine *e)
{
    return e->default_scope;
}

int xs_engine_use_scope(xs_engine *e, int scope, xs_error *err)
{
    if (scope != XS_SCOPE_BASKET && scope != XS_SCOPE_CUSTOMER)
        return xs_error_set(err, XS_ERR_USAGE, "unknown scope %d", scope);
    if (e->cooc[scope])
        return XS_OK;
    int rc = xs_txns_build(e->ds, scope, &e->txns[scope], err);
    if (rc)
        return rc;
    e->cooc[scope] = xs_cooc_build(&e->txns[scope], xs_dict_size(e->ds->items),
                                   e->cfg.threads, err);
    if (!e->cooc[scope]) {
        xs_txns_free(&e->txns[scope]);
        return err ? err->code : XS_ERR_NOMEM;
    }
    return XS_OK;
}

const xs_cooc *xs_engine_cooc(const xs_engine *e, int scope)
{
    return scope == XS_SCOPE_BASKET || scope == XS_SCOPE_CUSTOMER
               ? e->cooc[scope]
               : NULL;
}

int xs_engine_plugin_index(const xs_engine *e, const char *name)
{
    for (size_t i = 0; i < e->n_plugins; i++)
        if (!strcmp(e->plugins[i].so.table->name, name))
            return (int)i;
    return -1;
}

int xs_engine_add_plugin(xs_engine *e, const char *name, const xs_option *opts,
                         size_t n_opts, xs_error *err)
{
    char file[4096];
    int rc = xs_plugin_path_resolve(&e->path, name, file, sizeof file, err);
    if (rc)
        return rc;
    plugin_instance pi = {0};
    if ((rc = xs_plugin_so_open(file, &pi.so, err)))
        return rc;
    if (!strcmp(pi.so.table->name, "blend")) {
        xs_error_set(err, XS_ERR_USAGE,
                     "plugin %s: the name 'blend' is reserved for the blend of "
                     "all plugins", file);
        xs_plugin_so_close(&pi.so);
        return XS_ERR_USAGE;
    }
    if (xs_engine_plugin_index(e, pi.so.table->name) >= 0) {
        xs_error_set(err, XS_ERR_USAGE,
                     "plugin %s: a plugin named '%s' is already loaded", file,
                     pi.so.table->name);
        xs_plugin_so_close(&pi.so);
        return XS_ERR_USAGE;
    }
    plugin_instance *grown =
        realloc(e->plugins, (e->n_plugins + 1) * sizeof *grown);
    if (!grown) {
        xs_plugin_so_close(&pi.so);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    e->plugins = grown;
    char msg[400] = "";
    if (pi.so.table->create(&xs_host_api_table, &e->host, opts, n_opts,
                            &pi.state, msg, sizeof msg)) {
        xs_error_set(err, XS_ERR_PLUGIN, "plugin %s (%s): %s", file,
                     pi.so.table->name, msg[0] ? msg : "create failed");
        xs_plugin_so_close(&pi.so);
        return XS_ERR_PLUGIN;
    }
    /* popular answers cold starts and fills short blends: weight 0 */
    pi.weight = strcmp(pi.so.table->name, "popular") ? 1.0 : 0.0;
    e->plugins[e->n_plugins++] = pi;
    return XS_OK;
}

size_t xs_engine_plugin_count(const xs_engine *e)
{
    return e->n_plugins;
}

const xs_plugin *xs_engine_plugin(const xs_engine *e, size_t i)
{
    return i < e->n_plugins ? e->plugins[i].so.table : NULL;
}

uint32_t xs_engine_item(const xs_engine *e, const char *name)
{
    return xs_dict_find(e->ds->items, name, strlen(name));
}

const char *xs_engine_item_name(const xs_engine *e, uint32_t item)
{
    return xs_dict_name(e->ds->items, item);
}

/* ---- requests ------------------------------------------------------------ */

xs_context *xs_context_new(xs_engine *e)
{
    xs_context *ctx = calloc(1, sizeof *ctx);
    if (ctx)
        ctx->engine = e;
    return ctx;
}

void xs_context_free(xs_context *ctx)
{
    if (!ctx)
        return;
    xs_topk_free(&ctx->res.topk);
    xs_result_scratch_free(&ctx->res);
    for (size_t i = 0; i < ctx->n_sub; i++) {
        xs_topk_free(&ctx->sub[i].topk);
        xs_result_scratch_free(&ctx->sub[i]);
    }
    free(ctx->sub);
    free(ctx->tasks);
    free(ctx->recs);
    free(ctx->names);
    free(ctx->parts);
    free(ctx->exclude);
    free(ctx);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

uint32_t xs_request_items(uint32_t *ids, uint32_t n)
{
    qsort(ids, n, sizeof *ids, cmp_u32);
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++)
        if (w == 0 || ids[i] != ids[w - 1])
            ids[w++] = ids[i];
    return w;
}

int xs_engine_recommend(xs_engine *e, xs_context *ctx, const char *plugin,
                        const xs_request *req, const xs_rec **out, size_t *n,
                        xs_error *err)
{
    return xs_engine_recommend_excluding(e, ctx, plugin, req, NULL, 0, out, n,
                                         err);
}

int xs_context_recs_reserve(xs_context *ctx, uint32_t n)
{
    if (n <= ctx->cap_recs)
        return 0;
    xs_rec *recs = realloc(ctx->recs, n * sizeof *recs);
    if (!recs)
        return -1;
    ctx->recs = recs;
    char *names = realloc(ctx->names, (size_t)n * XS_NAMES_LEN);
    if (!names)
        return -1;
    ctx->names = names;
    ctx->cap_recs = n;
    return 0;
}

int xs_engine_recommend_excluding(xs_engine *e, xs_context *ctx,
                                  const char *plugin, const xs_request *req,
                                  const uint32_t *exclude, uint32_t n_exclude,
                                  const xs_rec **out, size_t *n,
                                  xs_error *err)
{
    xs_filter f = {exclude, n_exclude, -1};
    return xs_engine_recommend_filtered(e, ctx, plugin, req, &f, out, n, err);
}

int xs_task_run(xs_task *t)
{
    xs_result *r = t->res;
    if (xs_topk_reset(&r->topk, t->k))
        return XS_ERR_NOMEM;
    xs_result_scratch_reset(r);
    r->dropped = 0;
    xs_request sub = *t->req;
    sub.k = t->k;
    int rc = t->pi->so.table->recommend(t->pi->state, &sub, r);
    if (r->dropped)
        atomic_fetch_add_explicit(&t->pi->dropped, r->dropped,
                                  memory_order_relaxed);
    if (rc)
        return XS_ERR_PLUGIN;
    xs_topk_sort(&r->topk);
    return XS_OK;
}

int xs_engine_task_error(const xs_task *t, xs_error *err)
{
    if (t->rc == XS_ERR_NOMEM)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s failed",
                        t->pi->so.table->name);
}

int xs_engine_run_plugin(xs_engine *e, xs_context *ctx, plugin_instance *pi,
                         const xs_request *req, uint32_t k, xs_error *err)
{
    (void)e;
    xs_task t = {pi, req, k, &ctx->res, XS_OK, 0, NULL};
    t.rc = xs_task_run(&t);
    return t.rc ? xs_engine_task_error(&t, err) : XS_OK;
}

int xs_engine_recs_from_heap(xs_engine *e, xs_context *ctx,
                             plugin_instance *pi, const xs_request *req,
                             size_t *n, xs_error *err)
{
    (void)e;
    xs_result *r = &ctx->res;
    if (xs_context_recs_reserve(ctx, r->topk.n))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    const xs_plugin *p = pi->so.table;
    for (uint32_t i = 0; i < r->topk.n; i++) {
        xs_rec *rec = &ctx->recs[i];
        rec->item = r->topk.heap[i].item;
        rec->score = r->topk.heap[i].score;
        rec->plugin = p->name;
        rec->ev.n = 0;
        if (req->explain && p->explain)
            p->explain(pi->state, req, rec->item, &rec->ev);
    }
    *n = r->topk.n;
    return XS_OK;
}

int xs_engine_recommend_filtered(xs_engine *e, xs_context *ctx,
                                 const char *plugin, const xs_request *req,
                                 const xs_filter *filter, const xs_rec **out,
                                 size_t *n, xs_error *err)
{
    *out = NULL;
    *n = 0;
    if (req->k < 1 || req->k > XS_K_MAX)
        return xs_error_set(err, XS_ERR_USAGE, "k must be 1..%d, not %u",
                            XS_K_MAX, (unsigned)req->k);
    if (req->category != XS_NONE &&
        req->category >= xs_catalog_category_count(e->cat))
        return xs_error_set(err, XS_ERR_USAGE, "unknown category id %u",
                            (unsigned)req->category);
    int blend = !plugin || !strcmp(plugin, "blend");
    int i = blend ? -1 : xs_engine_plugin_index(e, plugin);
    if (!blend && i < 0)
        return xs_error_set(err, XS_ERR_NOTFOUND, "unknown plugin '%s'",
                            plugin);
    int rc = xs_filter_prepare(e, ctx, req, filter, err);
    if (rc)
        return rc;
    if (blend)
        return xs_blend_recommend(e, ctx, req, out, n, err);
    if ((rc = xs_engine_run_plugin(e, ctx, &e->plugins[i], req, req->k, err)) ||
        (rc = xs_engine_recs_from_heap(e, ctx, &e->plugins[i], req, n, err)))
        return rc;
    *out = ctx->recs;
    return XS_OK;
}

int xs_engine_warm(xs_engine *e, xs_error *err)
{
    if (xs_dict_size(e->ds->items) == 0 || e->n_plugins == 0)
        return XS_OK;
    xs_context *ctx = xs_context_new(e);
    if (!ctx)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    const uint32_t item = 0;
    const xs_request req = {&item, 1, XS_NONE, 1, 0, XS_NONE};
    int rc = XS_OK;
    for (size_t i = 0; i < e->n_plugins; i++) {
        const xs_rec *out;
        size_t n;
        xs_error mine = {0};
        int r = xs_engine_recommend(e, ctx, e->plugins[i].so.table->name,
                                    &req, &out, &n, &mine);
        if (r && rc == XS_OK) { /* the first failure; the rest still warm */
            rc = r;
            if (err)
                *err = mine;
        }
    }
    xs_context_free(ctx);
    return rc;
}

uint64_t xs_engine_plugin_dropped(const xs_engine *e, size_t i)
{
    return i < e->n_plugins
               ? atomic_load_explicit(&e->plugins[i].dropped,
                                      memory_order_relaxed)
               : 0;
}

void xs_engine_read_lock(xs_engine *e)
{
    pthread_rwlock_rdlock(&e->lock);
}

void xs_engine_read_unlock(xs_engine *e)
{
    pthread_rwlock_unlock(&e->lock);
}

void xs_engine_info_get(const xs_engine *e, xs_engine_info *out)
{
    const xs_dataset *ds = e->ds;
    memset(out, 0, sizeof *out);
    out->customers = ds->has_customer || e->ingested
                         ? xs_dict_size(ds->customers)
                         : 0;
    out->items = xs_dict_size(ds->items);
    out->ingested = e->ingested;
    out->events = ds->n_events + e->ingested;
    size_t bytes = ds->cap_events * sizeof(xs_event) +
                   xs_dict_bytes(ds->items) + xs_dict_bytes(ds->customers) +
                   (ds->orders ? xs_dict_bytes(ds->orders) : 0) +
                   e->live_bytes;
    for (int s = 0; s < 2; s++) {
        if (!e->cooc[s])
            continue;
        out->transactions[s] = xs_cooc_transactions(e->cooc[s]);
        out->pairs[s] = xs_cooc_pairs(e->cooc[s]);
        bytes += xs_cooc_bytes(e->cooc[s]) +
                 ((size_t)e->txns[s].n + 1 + e->txns[s].off[e->txns[s].n]) *
                     sizeof(uint32_t);
    }
    out->bytes = bytes;
}
