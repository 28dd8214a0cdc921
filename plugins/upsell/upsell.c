/*
 * upsell.c -- the upsell plugin's options, life cycle and table (the
 * method is in upsell/upsell.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "upsell/upsell.h"

static void up_destroy(void *state)
{
    upsell *u = state;
    if (!u)
        return;
    for (uint32_t c = 0; c < u->n_cats; c++) {
        cat_index *ci = &u->cats[c];
        free(ci->e);
        free(ci->ids);
        free(ci->one);
        free(ci->lift);
        free(ci->lsup);
    }
    free(u->cats);
    free(u->items);
    upsell_lists_free(u);
    free(u);
}

static int up_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    double min_ratio = 1.05, max_ratio = 2.5, prior = 0.01, margin_weight = 1;
    uint32_t history = 5, max_nb = 50;
    double refresh = 0.05;
    int measure = XS_MEASURE_JACCARD;
    const xs_opt_spec spec[] = {
        {.key = "min_ratio", .type = XS_OPT_NUMBER, .out = &min_ratio,
         .lo = 0, .hi = INFINITY, .lo_open = 1},
        {.key = "max_ratio", .type = XS_OPT_NUMBER, .out = &max_ratio,
         .lo = 0, .hi = INFINITY, .lo_open = 1},
        {.key = "similarity", .type = XS_OPT_MEASURE, .out = &measure},
        {.key = "prior", .type = XS_OPT_NUMBER, .out = &prior, .lo = 0,
         .hi = INFINITY},
        {.key = "margin_weight", .type = XS_OPT_NUMBER,
         .out = &margin_weight, .lo = 0, .hi = 100},
        {.key = "history", .type = XS_OPT_INTEGER, .out = &history, .lo = 0,
         .hi = HISTORY_MAX},
        {.key = "max_neighbours", .type = XS_OPT_INTEGER, .out = &max_nb,
         .lo = 0, .hi = 1000000},
        {.key = "refresh", .type = XS_OPT_NUMBER, .out = &refresh, .lo = 0,
         .hi = INFINITY},
    };
    if (xs_opts_parse(api, spec, sizeof spec / sizeof *spec, opts, n_opts,
                      err, errlen))
        return -1;
    if (min_ratio > max_ratio) {
        snprintf(err, errlen, "min_ratio (%g) must not exceed "
                 "max_ratio (%g)", min_ratio, max_ratio);
        return -1;
    }
    if (api->catalog_size(host) == 0) {
        snprintf(err, errlen, "needs a catalog (--catalog FILE): it "
                 "compares categories and prices");
        return -1;
    }
    upsell *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *u = (upsell){.api = api,
                  .host = host,
                  .min_ratio = min_ratio,
                  .max_ratio = max_ratio,
                  .prior = prior,
                  .margin_weight = margin_weight,
                  .measure = measure,
                  .history = history,
                  .max_nb = max_nb,
                  .refresh = refresh};
    u->has_customer = api->use_scope(host, XS_SCOPE_CUSTOMER) == 0;
    u->has_basket = api->use_scope(host, XS_SCOPE_BASKET) == 0;
    u->pop_scope = u->has_customer ? XS_SCOPE_CUSTOMER
                   : u->has_basket ? XS_SCOPE_BASKET
                                   : api->default_scope(host);
    if (!u->has_customer)
        api->log(host, XS_LOG_WARN, "the data has no customers: "
                 "ranking by popularity and margin only");
    uint32_t n = api->item_count(host);
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    if (all)
        for (uint32_t i = 0; i < n; i++)
            all[i] = i;
    if (!all || upsell_reindex(u, all, n)) {
        free(all);
        up_destroy(u);
        snprintf(err, errlen, "out of memory building the price "
                 "index");
        return -1;
    }
    free(all);
    *state = u;
    return 0;
}

static const xs_plugin upsell_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "upsell",
    .version = "1.0.0",
    .description = "pricier items of the viewed item's category, bought by "
                   "the same customers instead of it",
    .create = up_create,
    .recommend = upsell_recommend,
    .explain = upsell_explain,
    .observe = upsell_observe,
    .destroy = up_destroy,
    .catalog = upsell_catalog,
    .prepare = upsell_prepare,
    .stats = upsell_stats,
};

XS_PLUGIN_ENTRY(upsell_plugin)
