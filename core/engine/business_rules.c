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
 */
#include <stdlib.h>
#include <string.h>

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

int xs_business_rules_apply(const xs_business_rules *b, const xs_store *s,
                            xs_context *ctx, const xs_request *req,
                            const xs_filter *f, xs_error *err)
{
    xs_result_filter *rf = &ctx->res.filter;
    rf->n_items = xs_dict_size(s->ds->items);
    rf->cat = s->cat;
    rf->category = req->category;
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
