/*
 * engine.c -- the engine facade (xsell/engine.h): life cycle, plugins,
 * requests, the lock.
 *
 * A request goes: checks (k, category, plugin name) -> the business rules
 * set the result's filter (business_rules.c) -> one plugin runs into the
 * context's result (run.c) and its heap becomes the answer (context.c), or
 * the blend runs them all (blend.c).  Nothing here scores.
 *
 * Ownership and threads: see engine/engine_state.h.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np: writer preference */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/blend.h"
#include "engine/business_rules.h"
#include "engine/context.h"
#include "engine/engine_state.h"
#include "engine/image.h"
#include "engine/run.h"
#include "engine/settings.h"
#include "xsell/plugin_util.h"

/* The engine without its store: locks, configuration, rules.  NULL with
 * err set. */
static xs_engine *engine_alloc(const xs_engine_config *cfg, xs_error *err)
{
    xs_engine *e = calloc(1, sizeof *e);
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr,
                                  PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int lock_rc = e ? pthread_rwlock_init(&e->lock, &attr) : 0;
    pthread_rwlockattr_destroy(&attr);
    if (e && !lock_rc && pthread_mutex_init(&e->writers, NULL)) {
        pthread_rwlock_destroy(&e->lock);
        lock_rc = 1;
    }
    if (!e || lock_rc) {
        free(e);
        xs_error_set(err, e ? XS_ERR_INTERNAL : XS_ERR_NOMEM,
                     e ? "cannot create the engine lock" : "out of memory");
        return NULL;
    }
    if (cfg)
        e->cfg = *cfg;
    else
        e->cfg.scope = -1;
    e->cfg.plugin_dir = NULL; /* the caller's string is not ours to keep */
    e->cfg.asks &= XS_ASK_ALL;
    if (!e->cfg.asks)
        e->cfg.asks = XS_ASK_ALL;
    if (!e->cfg.max_basket)
        e->cfg.max_basket = XS_MAX_BASKET_DEFAULT;
    e->host = (xs_host){&e->store, e->cfg.log, e->cfg.log_arg, NULL};
    xs_business_rules_init(&e->rules);
    return e;
}

/* What follows the store: the registry, default settings, the pool. */
static xs_engine *engine_finish(xs_engine *e, const xs_engine_config *cfg,
                                xs_error *err)
{
    if (xs_registry_init(&e->plugins, cfg ? cfg->plugin_dir : NULL, err) ||
        xs_settings_defaults(e, err))
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

xs_engine *xs_engine_new(xs_dataset *ds, xs_catalog *cat,
                         const xs_engine_config *cfg, xs_error *err)
{
    xs_engine *e = engine_alloc(cfg, err);
    if (!e) {
        xs_dataset_free(ds);
        xs_catalog_free(cat);
        return NULL;
    }
    if (xs_store_init(&e->store, ds, cat, e->cfg.scope, e->cfg.threads,
                      e->cfg.max_basket,
                      err)) {
        xs_engine_free(e);
        return NULL;
    }
    return engine_finish(e, cfg, err);
}

xs_engine *xs_engine_load(const char *path, const xs_engine_config *cfg,
                          xs_image_info *info, xs_error *err)
{
    xs_image_parts parts;
    if (xs_image_read(path, &parts, err))
        return NULL;
    if (info)
        *info = parts.info;
    xs_engine *e = engine_alloc(cfg, err);
    if (e && parts.info.max_basket != e->cfg.max_basket) {
        /* counted under another bound: the tables are rebuilt from the
         * events (the default scope's now, others when a plugin asks) */
        for (int sc = 0; sc < 2; sc++) {
            xs_cooc_free(parts.cooc[sc]);
            parts.cooc[sc] = NULL;
        }
        char msg[200];
        snprintf(msg, sizeof msg, "%s: tables counted with max_basket %u, "
                 "rebuilt for %u", path, parts.info.max_basket,
                 e->cfg.max_basket);
        if (e->cfg.log)
            e->cfg.log(e->cfg.log_arg, XS_LOG_WARN, msg);
        else
            fprintf(stderr, "xsell: %s\n", msg);
    }
    if (e && xs_store_init_image(&e->store, &parts, e->cfg.threads,
                                 e->cfg.max_basket, err)) {
        xs_engine_free(e);
        e = NULL;
    }
    xs_image_parts_free(&parts);
    return e ? engine_finish(e, cfg, err) : NULL;
}

int xs_engine_save(xs_engine *e, const char *path, uint64_t seq,
                   xs_image_info *info, xs_error *err)
{
    pthread_rwlock_rdlock(&e->lock);
    int rc = xs_image_write(&e->store, path, seq, info, err);
    pthread_rwlock_unlock(&e->lock);
    return rc;
}

void xs_engine_set_journal(xs_engine *e, const xs_journal *j)
{
    if (j)
        e->journal = *j;
    else
        memset(&e->journal, 0, sizeof e->journal);
}

void xs_engine_writes_pause(xs_engine *e)
{
    pthread_mutex_lock(&e->writers);
}

void xs_engine_writes_resume(xs_engine *e)
{
    pthread_mutex_unlock(&e->writers);
}

void xs_engine_free(xs_engine *e)
{
    if (!e)
        return;
    xs_pool_free(e->pool);
    xs_registry_free(&e->plugins); /* plugins go before the data they read */
    xs_business_rules_free(&e->rules);
    xs_store_free(&e->store);
    pthread_rwlock_destroy(&e->lock);
    pthread_mutex_destroy(&e->writers);
    free(e);
}

const xs_dataset *xs_engine_dataset(const xs_engine *e)
{
    return e->store.ds;
}

const xs_catalog *xs_engine_catalog(const xs_engine *e)
{
    return e->store.cat;
}

int xs_engine_default_scope(const xs_engine *e)
{
    return e->store.default_scope;
}

int xs_engine_use_scope(xs_engine *e, int scope, xs_error *err)
{
    return xs_store_use_scope(&e->store, scope, err);
}

const xs_cooc *xs_engine_cooc(const xs_engine *e, int scope)
{
    return xs_store_cooc(&e->store, scope);
}

int xs_engine_add_plugin(xs_engine *e, const char *name, const xs_option *opts,
                         size_t n_opts, xs_error *err)
{
    int rc = xs_registry_add(&e->plugins, name, &e->host, e->cfg.asks, opts,
                             n_opts, err);
    if (rc == XS_OK)
        xs_settings_plugin_loaded(e, e->plugins.n - 1);
    return rc;
}

size_t xs_engine_plugin_count(const xs_engine *e)
{
    return e->plugins.n;
}

const xs_plugin *xs_engine_plugin(const xs_engine *e, size_t i)
{
    return i < e->plugins.n ? e->plugins.v[i].so.table : NULL;
}

uint64_t xs_engine_plugin_dropped(const xs_engine *e, size_t i)
{
    return i < e->plugins.n
               ? atomic_load_explicit(&e->plugins.v[i].dropped,
                                      memory_order_relaxed)
               : 0;
}

int xs_engine_plugin_stats(const xs_engine *e, size_t i, xs_evidence *out)
{
    return xs_registry_stats(&e->plugins, i, out);
}

uint32_t xs_engine_item(const xs_engine *e, const char *name)
{
    return xs_dict_find(e->store.ds->items, name, strlen(name));
}

const char *xs_engine_item_name(const xs_engine *e, uint32_t item)
{
    return xs_dict_name(e->store.ds->items, item);
}

/* ---- requests ------------------------------------------------------------ */

uint32_t xs_request_items(uint32_t *ids, uint32_t n)
{
    return xs_sort_unique(ids, n);
}

int xs_engine_recommend(xs_engine *e, xs_context *ctx, const char *plugin,
                        const xs_request *req, const xs_rec **out, size_t *n,
                        xs_error *err)
{
    return xs_engine_recommend_filtered(e, ctx, plugin, req, NULL, out, n,
                                        err);
}

int xs_engine_recommend_excluding(xs_engine *e, xs_context *ctx,
                                  const char *plugin, const xs_request *req,
                                  const uint32_t *exclude, uint32_t n_exclude,
                                  const xs_rec **out, size_t *n,
                                  xs_error *err)
{
    xs_filter f = {.exclude = exclude, .n_exclude = n_exclude,
                   .exclude_owned = -1};
    return xs_engine_recommend_filtered(e, ctx, plugin, req, &f, out, n, err);
}

int xs_engine_recommend_filtered(xs_engine *e, xs_context *ctx,
                                 const char *plugin, const xs_request *req,
                                 const xs_filter *filter, const xs_rec **out,
                                 size_t *n, xs_error *err)
{
    *out = NULL;
    *n = 0;
    ctx->res.note = NULL; /* none unless the plugin says (xs_context_note) */
    if (req->k < 1 || req->k > XS_K_MAX)
        return xs_error_set(err, XS_ERR_USAGE, "k must be 1..%d, not %u",
                            XS_K_MAX, (unsigned)req->k);
    if (req->category != XS_NONE &&
        req->category >= xs_catalog_category_count(e->store.cat))
        return xs_error_set(err, XS_ERR_USAGE, "unknown category id %u",
                            (unsigned)req->category);
    if (!(e->cfg.asks & (req->n_items ? XS_ASK_ITEMS : XS_ASK_CUSTOMER)))
        return xs_error_set(err, XS_ERR_USAGE,
                            "this engine answers requests %s items only (its "
                            "plugins were prepared for them)",
                            req->n_items ? "without" : "with");
    int blend = !plugin || !strcmp(plugin, "blend");
    int i = blend ? -1 : xs_registry_find(&e->plugins, plugin);
    if (!blend && i < 0)
        return xs_error_set(err, XS_ERR_NOTFOUND, "unknown plugin '%s'",
                            plugin);
    int rc = xs_business_rules_apply(&e->rules, &e->store, ctx, req, filter,
                                     err);
    if (rc)
        return rc;
    if (blend) {
        rc = xs_blend_run(&e->plugins, e->pool, e->fill, ctx, req, out, n,
                          err);
        ctx->res.note = NULL; /* the fill's, if any: a blend has none */
        return rc;
    }
    xs_task task = {&e->plugins.v[i], req, req->k, &ctx->res, XS_OK};
    if (xs_task_run(&task))
        return xs_task_error(&task, err);
    if ((rc = xs_context_recs_from(ctx, &e->plugins.v[i], req, n, err)))
        return rc;
    *out = ctx->recs;
    return XS_OK;
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
    const xs_store *s = &e->store;
    memset(out, 0, sizeof *out);
    out->customers = xs_store_customers(s);
    out->items = xs_dict_size(s->ds->items);
    out->ingested = s->ingested + s->ingested_other;
    out->events = s->ds->n_events + s->ingested;
    for (int sc = 0; sc < 2; sc++) {
        if (!s->cooc[sc])
            continue;
        out->transactions[sc] = xs_cooc_transactions(s->cooc[sc]);
        out->pairs[sc] = xs_cooc_pairs(s->cooc[sc]);
        out->table_bytes[sc] = xs_store_table_bytes(s, sc);
    }
    out->bytes = xs_store_bytes(s);
}
