/*
 * filter.c -- the business rules every answer obeys, and the settings that
 * steer them and the blend (xs_engine_set_rule).
 *
 * A request's rules become three things in its xs_result, which push()
 * (host.c) checks for every candidate that could enter the heap:
 *   - one sorted exclusion list: the request's items, its `exclude` ids and,
 *     when owned items are dropped, every item of the customer's history
 *     except those of re-bought categories;
 *   - the catalog, for the stock rule (out-of-stock items never enter);
 *   - the category filter (only items of that category enter; items
 *     without a catalog entry have no category and do not).
 * The exclusion list lives in the context and is reused from request to
 * request; building it costs a sort of the customer's history.
 *
 * Settings are strings so the config file, the CLI and embedders share one
 * parser; they are made before serving (no lock: single threaded set-up).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine_internal.h"
#include "util/sort_u32.h"

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
        !strcasecmp(s, "on"))
        *out = 1;
    else if (!strcmp(s, "0") || !strcasecmp(s, "false") ||
             !strcasecmp(s, "no") || !strcasecmp(s, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* rebuy = "cat1,cat2": every name must be a catalog category. */
static int set_rebuy(xs_engine *e, const char *value, xs_error *err)
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
        uint32_t c = xs_catalog_category(e->cat, tok);
        if (c == XS_NONE) {
            rc = xs_error_set(err, XS_ERR_USAGE,
                              e->cat ? "rebuy: unknown category '%s'"
                                     : "rebuy: unknown category '%s' (no "
                                       "catalog loaded)",
                              tok);
            goto out;
        }
        ids[n++] = c;
    }
    qsort(ids, n, sizeof *ids, cmp_u32);
    free(e->rebuy);
    e->rebuy = ids;
    e->n_rebuy = n;
    ids = NULL;
out:
    free(ids);
    free(copy);
    return rc;
}

int xs_engine_set_rule(xs_engine *e, const char *key, const char *value,
                       xs_error *err)
{
    if (!strcmp(key, "exclude_owned")) {
        if (parse_bool(value, &e->exclude_owned))
            return xs_error_set(err, XS_ERR_USAGE,
                                "exclude_owned: want true or false, not '%s'",
                                value);
        return XS_OK;
    }
    if (!strcmp(key, "rebuy"))
        return set_rebuy(e, value, err);
    if (!strcmp(key, "fill")) {
        if (!strcmp(value, "none")) {
            e->fill = -1;
            return XS_OK;
        }
        int i = xs_engine_plugin_index(e, value);
        if (i < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "fill: no plugin '%s' is loaded", value);
        e->fill = i;
        return XS_OK;
    }
    if (!strncmp(key, "weight.", 7)) {
        int i = xs_engine_plugin_index(e, key + 7);
        if (i < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: no plugin '%s' is loaded", key, key + 7);
        char *end;
        double w = strtod(value, &end);
        if (!*value || *end || !isfinite(w) || w < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: want a number >= 0, not '%s'", key, value);
        e->plugins[i].weight = w;
        return XS_OK;
    }
    return xs_error_set(err, XS_ERR_USAGE,
                        "unknown setting '%s' (exclude_owned, rebuy, fill, "
                        "weight.PLUGIN)", key);
}

static int is_rebuy(const xs_engine *e, uint32_t item)
{
    int in_stock;
    uint32_t category;
    if (!e->n_rebuy || !xs_catalog_stock(e->cat, item, &in_stock, &category))
        return 0;
    uint32_t i = xs_lower_bound_u32(e->rebuy, e->n_rebuy, category);
    return i < e->n_rebuy && e->rebuy[i] == category;
}

static int reserve(xs_context *ctx, size_t n)
{
    if (n <= ctx->cap_exclude)
        return 0;
    if (n > UINT32_MAX)
        return -1;
    uint32_t *v = realloc(ctx->exclude, n * sizeof *v);
    if (!v)
        return -1;
    ctx->exclude = v;
    ctx->cap_exclude = (uint32_t)n;
    return 0;
}

int xs_filter_prepare(xs_engine *e, xs_context *ctx, const xs_request *req,
                      const xs_filter *f, xs_error *err)
{
    xs_result *r = &ctx->res;
    r->n_items = xs_dict_size(e->ds->items);
    r->cat = e->cat;
    r->category = req->category;
    int owned = f && f->exclude_owned >= 0 ? f->exclude_owned : e->exclude_owned;
    const xs_event *hist = NULL;
    size_t n_hist = 0;
    if (owned && req->customer != XS_NONE)
        xs_engine_history(e, req->customer, &hist, &n_hist);
    uint32_t n_extra = f ? f->n_exclude : 0;
    if (n_extra == 0 && n_hist == 0) { /* the common case: no copy */
        r->exclude = req->items;
        r->n_exclude = req->n_items;
        return XS_OK;
    }
    if (reserve(ctx, (size_t)req->n_items + n_extra + n_hist))
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
        if (!is_rebuy(e, hist[i].item))
            v[n++] = hist[i].item;
    r->exclude = v;
    r->n_exclude = xs_request_items(v, (uint32_t)n);
    return XS_OK;
}
