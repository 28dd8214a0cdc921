/*
 * host.c -- the host API table (xsell/plugin.h) over the engine.
 *
 * Every function here is a thin, checked view of engine data: ids are range
 * checked, unknown scopes answer "nothing", and nothing a plugin passes in
 * can make the host read out of bounds.  push() is where the engine's rules
 * for all plugins live: request items, unknown ids and non-finite scores
 * never enter a result.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_internal.h"
#include "util/sort_u32.h"
#include "xsell/measure.h"

static const xs_engine *E(const xs_host *h)
{
    return h->engine;
}

static uint32_t h_item_count(const xs_host *h)
{
    return xs_dict_size(E(h)->ds->items);
}

static const char *h_item_name(const xs_host *h, uint32_t item)
{
    return xs_dict_name(E(h)->ds->items, item);
}

static uint32_t h_item_lookup(const xs_host *h, const char *name)
{
    return name ? xs_dict_find(E(h)->ds->items, name, strlen(name)) : XS_NONE;
}

static uint32_t h_customer_count(const xs_host *h)
{
    const xs_engine *e = E(h); /* as xs_engine_info_get counts them */
    return e->ds->has_customer || e->ingested ? xs_dict_size(e->ds->customers)
                                              : 0;
}

static int h_use_scope(xs_host *h, int scope)
{
    return xs_engine_use_scope(h->engine, scope, NULL) == XS_OK ? 0 : -1;
}

static int h_default_scope(const xs_host *h)
{
    return E(h)->default_scope;
}

static const xs_cooc *table(const xs_host *h, int scope)
{
    return scope == XS_SCOPE_BASKET || scope == XS_SCOPE_CUSTOMER
               ? E(h)->cooc[scope]
               : NULL;
}

static uint64_t h_transactions(const xs_host *h, int scope)
{
    const xs_cooc *c = table(h, scope);
    return c ? xs_cooc_transactions(c) : 0;
}

static int h_row(const xs_host *h, int scope, uint32_t item, xs_row *out)
{
    const xs_cooc *c = table(h, scope);
    return c && out ? xs_cooc_row(c, item, out) : 0;
}

static uint32_t h_pair_count(const xs_host *h, int scope, uint32_t a,
                             uint32_t b)
{
    const xs_cooc *c = table(h, scope);
    return c ? xs_cooc_pair(c, a, b) : 0;
}

static uint32_t h_support(const xs_host *h, int scope, uint32_t item)
{
    const xs_cooc *c = table(h, scope);
    return c ? xs_cooc_support(c, item) : 0;
}

static const uint32_t *h_supports(const xs_host *h, int scope, uint32_t *n)
{
    const xs_cooc *c = table(h, scope);
    *n = c ? xs_cooc_support_count(c) : 0;
    return c ? xs_cooc_support_array(c) : NULL;
}

static const uint32_t *h_row_versions(const xs_host *h, int scope,
                                      uint32_t *n)
{
    const xs_cooc *c = table(h, scope);
    *n = c ? xs_cooc_support_count(c) : 0;
    return c ? xs_cooc_version_array(c) : NULL;
}

static int h_item_info(const xs_host *h, uint32_t item, xs_item_info *out)
{
    return out ? xs_catalog_get(E(h)->cat, item, out) : 0;
}

static int h_history(const xs_host *h, uint32_t customer, const xs_event **ev,
                     size_t *n)
{
    return xs_engine_history(E(h), customer, ev, n);
}

int xs_engine_history(const xs_engine *e, uint32_t customer,
                      const xs_event **ev, size_t *n)
{
    *ev = NULL;
    *n = 0;
    if (e->history) { /* ingest added to it */
        live_history *lh = NULL;
        HASH_FIND(hh, e->history, &customer, sizeof customer, lh);
        if (lh) {
            *ev = lh->ev;
            *n = lh->n;
            return 1;
        }
    }
    if (!e->hist_off || customer >= e->hist_customers)
        return 0;
    *ev = e->ds->events + e->hist_off[customer];
    *n = e->hist_off[customer + 1] - e->hist_off[customer];
    return 1;
}

static int is_excluded(const xs_result *r, uint32_t item)
{
    uint32_t i = xs_lower_bound_u32(r->exclude, r->n_exclude, item);
    return i < r->n_exclude && r->exclude[i] == item;
}

static int h_push(xs_result *r, uint32_t item, double score)
{
    if (item >= r->n_items || !isfinite(score)) {
        r->dropped++;
        return 0;
    }
    /* most candidates lose to the worst kept: refuse them before the
     * exclusion search */
    const xs_topk *t = &r->topk;
    if (t->n == t->k && t->k &&
        (score < t->heap[0].score ||
         (score == t->heap[0].score && item > t->heap[0].item)))
        return 0;
    if (r->n_exclude && is_excluded(r, item))
        return 0;
    if (r->cat) { /* the stock and category rules */
        int in_stock;
        uint32_t category;
        if (xs_catalog_stock(r->cat, item, &in_stock, &category)) {
            if (!in_stock ||
                (r->category != XS_NONE && category != r->category))
                return 0;
        } else if (r->category != XS_NONE) {
            return 0;
        }
    }
    return xs_topk_push(&r->topk, item, score);
}

void xs_result_scratch_reset(xs_result *r)
{
    scratch_chunk *c = r->scratch;
    if (c && c->next) { /* several chunks: keep one as large as them all */
        size_t total = 0;
        for (scratch_chunk *p = c; p; p = p->next)
            total += p->cap;
        xs_result_scratch_free(r);
        c = malloc(sizeof *c + total);
        if (c) {
            c->next = NULL;
            c->cap = total;
        }
        r->scratch = c;
    }
    if (c)
        c->used = 0;
}

void xs_result_scratch_free(xs_result *r)
{
    for (scratch_chunk *c = r->scratch, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    r->scratch = NULL;
}

static void *h_scratch(xs_result *r, size_t bytes)
{
    const size_t align = sizeof(max_align_t);
    bytes = (bytes + align - 1) / align * align;
    scratch_chunk *c = r->scratch;
    if (!c || c->cap - c->used < bytes) {
        size_t cap = bytes > 65536 ? bytes : 65536;
        if (c && cap < 2 * c->cap)
            cap = 2 * c->cap;
        scratch_chunk *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->next = c;
        n->cap = cap;
        n->used = 0;
        r->scratch = c = n;
    }
    void *p = (char *)c->data + c->used;
    c->used += bytes;
    return p;
}

static uint32_t h_catalog_size(const xs_host *h)
{
    return xs_catalog_size(E(h)->cat);
}

static uint32_t h_category_count(const xs_host *h)
{
    return xs_catalog_category_count(E(h)->cat);
}

static const char *h_category_name(const xs_host *h, uint32_t category)
{
    return xs_catalog_category_name(E(h)->cat, category);
}

static uint32_t h_category_lookup(const xs_host *h, const char *name)
{
    return name ? xs_catalog_category(E(h)->cat, name) : XS_NONE;
}

static int64_t h_latest_time(const xs_host *h)
{
    return E(h)->latest_ts;
}

static void h_log(const xs_host *h, int level, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const xs_engine *e = E(h);
    if (e->cfg.log)
        e->cfg.log(e->cfg.log_arg, level, msg);
    else if (level >= XS_LOG_INFO)
        fprintf(stderr, "xsell: %s\n", msg);
}

const xs_host_api xs_host_api_table = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_host_api),
    .item_count = h_item_count,
    .item_name = h_item_name,
    .item_lookup = h_item_lookup,
    .customer_count = h_customer_count,
    .use_scope = h_use_scope,
    .default_scope = h_default_scope,
    .transactions = h_transactions,
    .row = h_row,
    .pair_count = h_pair_count,
    .support = h_support,
    .measure = xs_measure,
    .measure_parse = xs_measure_parse,
    .measure_name = xs_measure_name,
    .item_info = h_item_info,
    .history = h_history,
    .push = h_push,
    .scratch = h_scratch,
    .log = h_log,
    .supports = h_supports,
    .row_versions = h_row_versions,
    .catalog_size = h_catalog_size,
    .category_count = h_category_count,
    .category_name = h_category_name,
    .category_lookup = h_category_lookup,
    .latest_time = h_latest_time,
};
