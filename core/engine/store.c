/*
 * store.c -- the engine's data (engine/store.h): building it, the tables
 * of each scope, its size.
 *
 * Event types: the co-occurrence tables and histories are built from the
 * primary events only (ds->events), exactly as for data without types;
 * the cross-occurrence tables of the other types (data/xocc.h) are built
 * beside them at init, whatever the weights, so a weight set later (the
 * config file and --set come after the load) needs no rebuild.
 */
#include <math.h>
#include <stdio.h>
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
    s->type_weight[0] = 1.0;
    if (ds->types && !(s->xocc = xs_xocc_build(ds, max_basket, err)))
        return err ? err->code : XS_ERR_NOMEM;
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
    s->type_weight[0] = 1.0;
    if (s->ds->types && !(s->xocc = xs_xocc_build(s->ds, max_basket, err)))
        return err ? err->code : XS_ERR_NOMEM;
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
    xs_xocc_free(s->xocc);
    free(s->weight_specs);
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

static int apply_type_weights(xs_store *s, const char *spec, xs_error *err)
{
    double w[XS_TYPES_MAX];
    memcpy(w, s->type_weight, sizeof w);
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        char num[64];
        size_t nlen = eq ? len - (size_t)(eq + 1 - p) : 0;
        double v = 0;
        char *stop = NULL;
        if (eq && nlen > 0 && nlen < sizeof num) {
            memcpy(num, eq + 1, nlen);
            num[nlen] = '\0';
            v = strtod(num, &stop);
        }
        if (!eq || !xs_type_name_ok(p, (size_t)(eq - p)) || !stop ||
            *stop || !isfinite(v) || v < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "event_weights: '%.*s' is not TYPE=WEIGHT "
                                "(a type name and a number >= 0)",
                                (int)(len > 80 ? 80 : len), p);
        uint32_t t = XS_NONE;
        size_t tl = (size_t)(eq - p);
        if (tl == strlen(XS_PRIMARY_TYPE) && !memcmp(p, XS_PRIMARY_TYPE, tl))
            t = 0;
        else if (s->ds->types)
            t = xs_dict_find(s->ds->types, p, tl);
        if (t < XS_TYPES_MAX)
            w[t] = v;
        p += len;
        if (*p == ',')
            p++;
    }
    memcpy(s->type_weight, w, sizeof w);
    return XS_OK;
}

int xs_store_set_type_weights(xs_store *s, const char *spec, xs_error *err)
{
    int rc = apply_type_weights(s, spec, err);
    if (rc || !*spec)
        return rc;
    size_t have = s->weight_specs ? strlen(s->weight_specs) : 0;
    char *all = realloc(s->weight_specs, have + strlen(spec) + 2);
    if (!all)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    if (have)
        all[have++] = ',';
    strcpy(all + have, spec);
    s->weight_specs = all;
    return XS_OK;
}

void xs_store_types_changed(xs_store *s)
{
    if (s->weight_specs) /* checked when set: cannot fail */
        apply_type_weights(s, s->weight_specs, NULL);
}

int xs_store_use_types(xs_store *s)
{
    if (s->xocc)
        return 0;
    if (xs_dataset_use_types(s->ds) ||
        !(s->xocc = xs_xocc_empty(xs_dict_size(s->ds->items))))
        return -1;
    uint32_t nc = xs_store_customers(s);
    for (uint32_t c = 0; c < nc; c++) {
        const xs_event *ev;
        size_t n;
        if (xs_history_get(&s->hist, c, &ev, &n) &&
            xs_xocc_add_buyer(s->xocc, ev, n, s->max_basket))
            return -1;
    }
    return 0;
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
    bytes += ds->cap_other * sizeof(xs_event) + xs_xocc_bytes(s->xocc) +
             (ds->types ? xs_dict_bytes(ds->types) : 0);
    return bytes;
}
