/*
 * store.c -- the engine's data (engine/store.h): building it, the tables
 * of each scope, its size.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/store.h"

int xs_store_init(xs_store *s, xs_dataset *ds, xs_catalog *cat, int scope,
                  int threads, xs_error *err)
{
    memset(s, 0, sizeof *s);
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
    int rc = xs_txns_build(s->ds, scope, &s->txns[scope], err);
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
    return s->ds->has_customer || s->ingested
               ? xs_dict_size(s->ds->customers)
               : 0;
}

size_t xs_store_bytes(const xs_store *s)
{
    const xs_dataset *ds = s->ds;
    size_t bytes = ds->cap_events * sizeof(xs_event) +
                   xs_dict_bytes(ds->items) + xs_dict_bytes(ds->customers) +
                   (ds->orders ? xs_dict_bytes(ds->orders) : 0) +
                   s->live_bytes + s->hist.live_bytes;
    for (int sc = 0; sc < 2; sc++)
        if (s->cooc[sc])
            bytes += xs_cooc_bytes(s->cooc[sc]) +
                     ((size_t)s->txns[sc].n + 1 +
                      s->txns[sc].off[s->txns[sc].n]) *
                         sizeof(uint32_t);
    return bytes;
}
