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
 *
 * An entry replaces the item's whole entry, properties and dates
 * included; `remove` deletes it (xs_catalog_delete: the item stays in the
 * dictionary and its events stay counted, but it is never returned until
 * an entry is put back).  Both take effect for the next request: requests
 * read the catalog under the read lock this write excludes.
 */
#include <math.h>
#include <stdlib.h>

#include "data/props.h"
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
        if (it[i].remove)
            continue; /* the item is all a deletion reads */
        if (it[i].n_props > XS_ITEM_PROPS_MAX)
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu].properties: %u values (at most "
                                "%d)", i, it[i].n_props, XS_ITEM_PROPS_MAX);
        for (uint32_t k = 0; k < it[i].n_props; k++) {
            const xs_prop_value *pv = &it[i].props[k];
            const char *why = xs_props_bad_name(pv->name, pv->name_len);
            if (why)
                return xs_error_set(err, XS_ERR_USAGE,
                                    "items[%zu].properties: %s", i, why);
            if (!pv->value || pv->value_len == 0 || pv->value_len > XS_ID_MAX)
                return xs_error_set(err, XS_ERR_USAGE,
                                    "items[%zu].properties.%.*s: want values "
                                    "of 1..%d bytes", i, (int)pv->name_len,
                                    pv->name, XS_ID_MAX);
        }
        if (it[i].available_from < 0 || it[i].expires < 0 ||
            (it[i].available_from && it[i].expires &&
             it[i].expires <= it[i].available_from))
            return xs_error_set(err, XS_ERR_USAGE,
                                "items[%zu]: want 0 <= available_from < "
                                "expires (unix seconds)", i);
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
        const xs_catalog_item *in = &items[i];
        xs_catalog_entry ce = {in->category,  in->category_len, in->price,
                               in->margin,    in->in_stock,     in->title,
                               in->title_len, in->props,        in->n_props,
                               in->available_from, in->expires, in->hidden};
        int put;
        if (xs_dict_intern(st->ds->items, in->item, in->item_len, &ids[i]) ||
            (put = in->remove ? xs_catalog_delete(st->cat, ids[i])
                              : xs_catalog_put(st->cat, ids[i], &ce)) < 0) {
            rc = XS_ERR_NOMEM;
            break;
        }
        fresh += in->remove ? 0 : (size_t)put;
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
