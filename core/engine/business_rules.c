/*
 * business_rules.c -- the rules every answer obeys (engine/business_rules.h).
 *
 * A request's rules become three things in its result's filter, which
 * push() (engine/result.c) checks for every candidate that could enter the
 * heap:
 *   - one sorted exclusion list: the request's items, its `exclude` ids and,
 *     when owned items are dropped, every item of the customer's history
 *     except those of re-bought categories;
 *   - the catalog, for the stock rule (out-of-stock items never enter);
 *   - the category filter (only items of that category enter; items
 *     without a catalog entry have no category and do not).
 * The exclusion list lives in the context and is reused from request to
 * request; building it costs a sort of the customer's history.  A request
 * with neither exclusions nor owned items to drop uses its own items, no
 * copy.
 *
 * Lifecycle needs the request's time: the filter's `now`, else the clock,
 * read only when some catalog entry has dates (hidden and deleted items
 * need no time).  Property rules (xs_filter's where and boost) are
 * resolved here from names to label ids (data/props.h), into context
 * memory: a property nobody has is the caller's mistake (XS_ERR_USAGE), a
 * value nobody has simply matches nothing.  A request without them leaves
 * the filter's query NULL and push() its fast path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/catalog_rules.h"
#include "engine/business_rules.h"
#include "xsell/plugin_util.h"

void xs_business_rules_init(xs_business_rules *b)
{
    memset(b, 0, sizeof *b);
    b->exclude_owned = 1;
}

void xs_business_rules_free(xs_business_rules *b)
{
    free(b->rebuy);
    memset(b, 0, sizeof *b);
}

int xs_business_rules_set_rebuy(xs_business_rules *b, const xs_catalog *cat,
                                const char *value, xs_error *err)
{
    size_t len = strlen(value);
    uint32_t *ids = malloc((len / 2 + 1) * sizeof *ids);
    char *copy = strdup(value);
    uint32_t n = 0;
    int rc = XS_OK;
    if (!ids || !copy) {
        rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        goto out;
    }
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t tl = strlen(tok);
        while (tl && tok[tl - 1] == ' ')
            tok[--tl] = '\0';
        if (!tl)
            continue;
        uint32_t c = xs_catalog_category(cat, tok);
        if (c == XS_NONE) {
            rc = xs_error_set(err, XS_ERR_USAGE,
                              cat ? "rebuy: unknown category '%s'"
                                  : "rebuy: unknown category '%s' (no "
                                    "catalog loaded)",
                              tok);
            goto out;
        }
        ids[n++] = c;
    }
    n = xs_sort_unique(ids, n);
    free(b->rebuy);
    b->rebuy = ids;
    b->n_rebuy = n;
    ids = NULL;
out:
    free(ids);
    free(copy);
    return rc;
}

static int is_rebuy(const xs_business_rules *b, const xs_catalog *cat,
                    uint32_t item)
{
    int in_stock;
    uint32_t category;
    if (!b->n_rebuy || !xs_catalog_stock(cat, item, &in_stock, &category))
        return 0;
    uint32_t i = xs_lower_bound(b->rebuy, b->n_rebuy, category);
    return i < b->n_rebuy && b->rebuy[i] == category;
}

/* The property of term t, or XS_NONE with err set. */
static uint32_t term_property(const xs_props *p, const char *what,
                              const xs_prop_term *t, xs_error *err)
{
    uint32_t prop = p ? xs_props_property(p, t->name, t->name_len)
                      : XS_NONE;
    if (prop == XS_NONE)
        xs_error_set(err, XS_ERR_USAGE,
                     "%s: unknown property '%.*s' (no catalog entry has it)",
                     what, (int)(t->name_len > 64 ? 64 : t->name_len),
                     t->name);
    return prop;
}

/* Resolves f's where and boost into ctx->q (see the top of the file). */
static int resolve_props(const xs_store *s, xs_context *ctx,
                         const xs_filter *f, xs_error *err)
{
    uint32_t nw = f->n_where, nb = f->n_boost;
    if (nw > XS_PROP_TERMS_MAX || nb > XS_PROP_TERMS_MAX)
        return xs_error_set(err, XS_ERR_USAGE,
                            "%s: %u terms (at most %d)",
                            nw > XS_PROP_TERMS_MAX ? "filter" : "boost",
                            nw > XS_PROP_TERMS_MAX ? nw : nb,
                            XS_PROP_TERMS_MAX);
    uint32_t cap = nw > nb ? nw : nb;
    if (xs_context_query_reserve(ctx, cap ? cap : 1))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    const xs_props *p = s->cat ? xs_catalog_props(s->cat) : NULL;
    uint32_t *lab = ctx->q_ids, *ends = ctx->q_ids + ctx->cap_q,
             *blab = ctx->q_ids + 2 * (size_t)ctx->cap_q;
    /* filter: (property, label) pairs sorted by insertion (ends holds the
     * property keys until compacted), one group per property */
    xs_prop_query *q = &ctx->q;
    memset(q, 0, sizeof *q);
    uint32_t n = 0;
    for (uint32_t i = 0; i < nw; i++) {
        const xs_prop_term *t = &f->where[i];
        uint32_t prop = term_property(p, "filter", t, err);
        if (prop == XS_NONE)
            return XS_ERR_USAGE;
        uint32_t l = xs_props_find(p, t->name, t->name_len, t->value,
                                   t->value_len);
        /* keyed by property: insertion keeps (prop, label) order; an
         * unknown value keeps its property's group alive but empty */
        uint32_t j = n;
        while (j && (ends[j - 1] > prop ||
                     (ends[j - 1] == prop && lab[j - 1] > l))) {
            ends[j] = ends[j - 1];
            lab[j] = lab[j - 1];
            j--;
        }
        ends[j] = prop;
        lab[j] = l;
        n++;
    }
    /* compact: per property its known labels, unique; group ends */
    uint32_t out = 0, g = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t prop = ends[i], start = out;
        for (; i < n && ends[i] == prop; i++)
            if (lab[i] != XS_NONE && (out == start || lab[out - 1] != lab[i]))
                lab[out++] = lab[i];
        if (out == start)
            q->nothing = 1; /* no value of this property exists */
        ends[g++] = out;    /* g <= i: never overwrites an unread key */
    }
    q->need = lab;
    q->group_end = ends;
    q->n_groups = g;
    double *factor = ctx->q_boost;
    uint32_t m = 0;
    q->max_factor = 1.0;
    for (uint32_t i = 0; i < nb; i++) {
        const xs_prop_term *t = &f->boost[i];
        if (!isfinite(t->factor) || t->factor <= 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "boost '%.*s:%.*s': want a factor > 0",
                                (int)(t->name_len > 64 ? 64 : t->name_len),
                                t->name,
                                (int)(t->value_len > 64 ? 64 : t->value_len),
                                t->value);
        if (term_property(p, "boost", t, err) == XS_NONE)
            return XS_ERR_USAGE;
        uint32_t l = xs_props_find(p, t->name, t->name_len, t->value,
                                   t->value_len);
        if (l == XS_NONE || t->factor == 1.0)
            continue; /* no item has it, or it changes nothing */
        blab[m] = l;
        factor[m++] = t->factor;
        if (t->factor > 1.0)
            q->max_factor *= t->factor;
    }
    q->boost_label = blab;
    q->boost = factor;
    q->n_boost = m;
    ctx->res.filter.q = q;
    return XS_OK;
}

int xs_business_rules_apply(const xs_business_rules *b, const xs_store *s,
                            xs_context *ctx, const xs_request *req,
                            const xs_filter *f, xs_error *err)
{
    xs_result_filter *rf = &ctx->res.filter;
    rf->n_items = xs_dict_size(s->ds->items);
    rf->cat = s->cat;
    rf->category = req->category;
    rf->q = NULL;
    rf->now = f && f->now ? f->now
              : xs_catalog_dated(s->cat) ? (int64_t)time(NULL)
                                         : 0;
    if (f && (f->n_where || f->n_boost)) {
        int rc = resolve_props(s, ctx, f, err);
        if (rc)
            return rc;
    }
    int owned = f && f->exclude_owned >= 0 ? f->exclude_owned
                                           : b->exclude_owned;
    const xs_event *hist = NULL;
    size_t n_hist = 0;
    if (owned && req->customer != XS_NONE)
        xs_history_get(&s->hist, req->customer, &hist, &n_hist);
    uint32_t n_extra = f ? f->n_exclude : 0;
    if (n_extra == 0 && n_hist == 0) { /* the common case: no copy */
        rf->exclude = req->items;
        rf->n_exclude = req->n_items;
        return XS_OK;
    }
    if (xs_context_exclude_reserve(ctx,
                                   (size_t)req->n_items + n_extra + n_hist))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    uint32_t *v = ctx->exclude;
    size_t n = 0;
    if (req->n_items) /* items may be NULL when there are none */
        memcpy(v, req->items, req->n_items * sizeof *v);
    n += req->n_items;
    if (n_extra) {
        memcpy(v + n, f->exclude, n_extra * sizeof *v);
        n += n_extra;
    }
    for (size_t i = 0; i < n_hist; i++)
        if (!is_rebuy(b, s->cat, hist[i].item))
            v[n++] = hist[i].item;
    rf->exclude = v;
    rf->n_exclude = xs_sort_unique(v, (uint32_t)n);
    return XS_OK;
}
