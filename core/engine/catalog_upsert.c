/*
 * catalog_upsert.c -- catalog changes on a running engine (the `catalog` op).
 *
 * Like ingest: the whole batch is validated first and refused whole, so a
 * bad entry changes nothing; then, under the engine's write lock, items are
 * interned (an item new to the data can be recommended by catalog-driven
 * plugins at once), entries added or replaced, and every plugin's catalog()
 * hook told which items changed so it can re-index them.
 *
 * Journaled like ingest (the engine's journal hook, under the writer
 * mutex): a price change acknowledged is a price change a restart keeps.
 */
#include <math.h>
#include <stdlib.h>

#include "engine/engine_state.h"

#define XS_CATALOG_MAX XS_INGEST_MAX /* entries in one batch */
#define XS_TITLE_MAX 4096            /* bytes in one title */

static int validate(const xs_catalog_item *it, size_t n, xs_error *err)
{
    if (n > XS_CATALOG_MAX)
        return xs_error_set(err, XS_ERR_USAGE,
                            "%zu items in one batch (at most %d)", n,
                            XS_CATALOG_MAX);
    for (size_t i = 0; i < n; i++) {
        if (!it[i].item || it[i].item_len == 0 || it[i].item_len > XS_ID_MAX)
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu].item: want 1..%d bytes", i,
                                XS_ID_MAX);
        if (!it[i].category || it[i].category_len == 0 ||
            it[i].category_len > XS_ID_MAX)
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu].category: want 1..%d bytes", i,
                                XS_ID_MAX);
        if (!isfinite(it[i].price) || it[i].price < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu].price: want a number >= 0", i);
        if (!isnan(it[i].margin) && !isfinite(it[i].margin))
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu].margin: want a finite number", i);
        if (it[i].title && it[i].title_len > XS_TITLE_MAX)
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu].title: longer than %d bytes", i,
                                XS_TITLE_MAX);
    }
    return XS_OK;
}

int xs_engine_catalog_upsert(xs_engine *e, const xs_catalog_item *items,
                             size_t n, size_t *added, xs_error *err)
{
    if (added)
        *added = 0;
    int rc = validate(items, n, err);
    if (rc)
        return rc;
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    size_t fresh = 0;
    pthread_mutex_lock(&e->writers); /* journal order = application order */
    if (e->journal.catalog &&
        (rc = e->journal.catalog(e->journal.arg, items, n, err))) {
        pthread_mutex_unlock(&e->writers);
        free(ids);
        return rc;
    }
    pthread_rwlock_wrlock(&e->lock);
    xs_store *st = &e->store;
    if (!st->cat && !(st->cat = xs_catalog_new()))
        rc = XS_ERR_NOMEM;
    for (size_t i = 0; i < n && rc == XS_OK; i++) {
        xs_catalog_entry ce = {items[i].category, items[i].category_len,
                               items[i].price, items[i].margin,
                               items[i].in_stock, items[i].title,
                               items[i].title_len};
        int put;
        if (xs_dict_intern(st->ds->items, items[i].item, items[i].item_len,
                           &ids[i]) ||
            (put = xs_catalog_put(st->cat, ids[i], &ce)) < 0) {
            rc = XS_ERR_NOMEM;
            break;
        }
        fresh += (size_t)put;
    }
    /* entries applied before a failure stay: tell the plugins about them */
    size_t applied = rc == XS_OK ? n : 0;
    if (applied) {
        xs_registry_catalog(&e->plugins, ids, applied);
        xs_registry_prepare(&e->plugins, e->cfg.asks);
    }
    pthread_rwlock_unlock(&e->lock);
    pthread_mutex_unlock(&e->writers);
    free(ids);
    if (rc)
        return xs_error_set(err, XS_ERR_NOMEM,
                            "out of memory applying catalog entries");
    if (added)
        *added = fresh;
    return XS_OK;
}
