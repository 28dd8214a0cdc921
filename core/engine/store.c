/*
 * store.c -- the engine's data (engine/store.h): building it, the tables
 * of each scope, its size.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/image.h"
#include "engine/store.h"

int xs_store_init(xs_store *s, xs_dataset *ds, xs_catalog *cat, int scope,
                  int threads, uint32_t max_basket, xs_error *err)
{
    memset(s, 0, sizeof *s);
    s->max_basket = max_basket;
    s->ds = ds;
    s->cat = cat;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    s->threads = threads;
    s->default_scope = scope >= 0   ? scope
                       : ds->n_orders ? XS_SCOPE_BASKET
                                      : XS_SCOPE_CUSTOMER;
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].ts > s->latest_ts)
            s->latest_ts = ds->events[i].ts;
    if (xs_history_init(&s->hist, ds))
        return xs_error_set(err, XS_ERR_NOMEM,
                            "out of memory indexing histories");
    return xs_store_use_scope(s, s->default_scope, err);
}

int xs_store_init_image(xs_store *s, xs_image_parts *p, int threads,
                        uint32_t max_basket, xs_error *err)
{
    memset(s, 0, sizeof *s);
    s->max_basket = max_basket;
    s->ds = p->ds;
    s->cat = p->cat;
    p->ds = NULL;
    p->cat = NULL;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    s->threads = threads;
    s->default_scope = p->default_scope;
    s->ingested = 0; /* the image's events are all loaded events now */
    s->ingested_before = p->ingested;
    for (size_t i = 0; i < s->ds->n_events; i++)
        if (s->ds->events[i].ts > s->latest_ts)
            s->latest_ts = s->ds->events[i].ts;
    if (xs_history_init(&s->hist, s->ds))
        return xs_error_set(err, XS_ERR_NOMEM,
                            "out of memory indexing histories");
    for (int sc = 0; sc < 2; sc++) {
        if (!p->cooc[sc])
            continue;
        int rc = xs_txns_build_max(s->ds, sc, s->max_basket, &s->txns[sc],
                                   err);
        if (rc)
            return rc;
        s->cooc[sc] = p->cooc[sc];
        p->cooc[sc] = NULL;
    }
    return xs_store_use_scope(s, s->default_scope, err);
}

void xs_store_free(xs_store *s)
{
    for (int sc = 0; sc < 2; sc++) {
        xs_cooc_free(s->cooc[sc]);
        xs_txns_free(&s->txns[sc]);
        xs_live_txn *t, *tmp;
        HASH_ITER(hh, s->live[sc], t, tmp) {
            HASH_DEL(s->live[sc], t);
            free(t->items);
            free(t);
        }
    }
    xs_history_free(&s->hist);
    xs_dataset_free(s->ds);
    xs_catalog_free(s->cat);
    memset(s, 0, sizeof *s);
}

int xs_store_use_scope(xs_store *s, int scope, xs_error *err)
{
    if (scope != XS_SCOPE_BASKET && scope != XS_SCOPE_CUSTOMER)
        return xs_error_set(err, XS_ERR_USAGE, "unknown scope %d", scope);
    if (s->cooc[scope])
        return XS_OK;
    int rc = xs_txns_build_max(s->ds, scope, s->max_basket, &s->txns[scope],
                               err);
    if (rc)
        return rc;
    s->cooc[scope] = xs_cooc_build(&s->txns[scope], xs_dict_size(s->ds->items),
                                   s->threads, err);
    if (!s->cooc[scope]) {
        xs_txns_free(&s->txns[scope]);
        return err ? err->code : XS_ERR_NOMEM;
    }
    return XS_OK;
}

const xs_cooc *xs_store_cooc(const xs_store *s, int scope)
{
    return scope == XS_SCOPE_BASKET || scope == XS_SCOPE_CUSTOMER
               ? s->cooc[scope]
               : NULL;
}

uint32_t xs_store_customers(const xs_store *s)
{
    return xs_dict_size(s->ds->customers); /* empty without customers */
}

size_t xs_store_table_bytes(const xs_store *s, int scope)
{
    if (!s->cooc[scope])
        return 0;
    const xs_txns *t = &s->txns[scope];
    return xs_cooc_bytes(s->cooc[scope]) +
           ((size_t)t->n + 1 + t->off[t->n]) * sizeof(uint32_t) +
           s->live_txn_bytes[scope] + HASH_OVERHEAD(hh, s->live[scope]);
}

size_t xs_store_bytes(const xs_store *s)
{
    const xs_dataset *ds = s->ds;
    size_t bytes = ds->cap_events * sizeof(xs_event) +
                   xs_dict_bytes(ds->items) + xs_dict_bytes(ds->customers) +
                   (ds->orders ? xs_dict_bytes(ds->orders) : 0) +
                   s->hist.live_bytes + HASH_OVERHEAD(hh, s->hist.live);
    for (int sc = 0; sc < 2; sc++)
        bytes += xs_store_table_bytes(s, sc);
    return bytes;
}
