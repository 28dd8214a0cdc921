/*
 * host.c -- the host API table (engine/host.h, xsell/plugin.h) over the
 * store.
 *
 * Every function here is a thin, checked view of store data: ids are range
 * checked, unknown scopes answer "nothing", and nothing a plugin passes in
 * can make the host read out of bounds.  push() and scratch() are the
 * result's (engine/result.c), where the rules for all plugins live.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/host.h"
#include "engine/result.h"
#include "xsell/measure.h"

static const xs_store *S(const xs_host *h)
{
    return h->store;
}

static uint32_t h_item_count(const xs_host *h)
{
    return xs_dict_size(S(h)->ds->items);
}

static const char *h_item_name(const xs_host *h, uint32_t item)
{
    return xs_dict_name(S(h)->ds->items, item);
}

static uint32_t h_item_lookup(const xs_host *h, const char *name)
{
    return name ? xs_dict_find(S(h)->ds->items, name, strlen(name)) : XS_NONE;
}

static uint32_t h_customer_count(const xs_host *h)
{
    return xs_store_customers(S(h));
}

static int h_use_scope(xs_host *h, int scope)
{
    return xs_store_use_scope(h->store, scope, NULL) == XS_OK ? 0 : -1;
}

static int h_default_scope(const xs_host *h)
{
    return S(h)->default_scope;
}

static const xs_cooc *table(const xs_host *h, int scope)
{
    return xs_store_cooc(S(h), scope);
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
    return out ? xs_catalog_get(S(h)->cat, item, out) : 0;
}

static int h_history(const xs_host *h, uint32_t customer, const xs_event **ev,
                     size_t *n)
{
    return xs_history_get(&S(h)->hist, customer, ev, n);
}

static uint32_t h_catalog_size(const xs_host *h)
{
    return xs_catalog_size(S(h)->cat);
}

static uint32_t h_category_count(const xs_host *h)
{
    return xs_catalog_category_count(S(h)->cat);
}

static const char *h_category_name(const xs_host *h, uint32_t category)
{
    return xs_catalog_category_name(S(h)->cat, category);
}

static uint32_t h_category_lookup(const xs_host *h, const char *name)
{
    return name ? xs_catalog_category(S(h)->cat, name) : XS_NONE;
}

static int64_t h_latest_time(const xs_host *h)
{
    return S(h)->latest_ts;
}

static uint32_t h_max_basket(const xs_host *h)
{
    return S(h)->max_basket;
}

static uint32_t h_type_count(const xs_host *h)
{
    const xs_dataset *ds = S(h)->ds;
    return ds->types ? xs_dict_size(ds->types) : 1;
}

static const char *h_type_name(const xs_host *h, uint32_t type)
{
    const xs_dataset *ds = S(h)->ds;
    if (!ds->types)
        return type == 0 ? XS_PRIMARY_TYPE : NULL;
    return xs_dict_name(ds->types, type);
}

static double h_type_weight(const xs_host *h, uint32_t type)
{
    return type < h_type_count(h) && type < XS_TYPES_MAX
               ? S(h)->type_weight[type]
               : 0.0;
}

static int h_cross_row(const xs_host *h, uint32_t type, uint32_t item,
                       xs_row *out)
{
    return out ? xs_xocc_row(S(h)->xocc, type, item, out) : 0;
}

static uint32_t h_type_support(const xs_host *h, uint32_t type, uint32_t item)
{
    return xs_xocc_support(S(h)->xocc, type, item);
}

static uint64_t h_type_transactions(const xs_host *h)
{
    return S(h)->xocc ? S(h)->xocc->n : 0;
}

static int h_type_events(const xs_host *h, uint32_t customer,
                         const xs_event **ev, size_t *n)
{
    return ev && n ? xs_xocc_events(S(h)->xocc, customer, ev, n) : 0;
}

void xs_host_log(const xs_host *h, int level, const char *fmt, ...)
{
    char msg[512];
    int at = h->name ? snprintf(msg, sizeof msg, "plugin %s: ", h->name) : 0;
    if (at < 0 || (size_t)at >= sizeof msg)
        at = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + at, sizeof msg - (size_t)at, fmt, ap);
    va_end(ap);
    if (h->log)
        h->log(h->log_arg, level, msg);
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
    .push = xs_result_push,
    .scratch = xs_result_scratch,
    .log = xs_host_log,
    .supports = h_supports,
    .row_versions = h_row_versions,
    .catalog_size = h_catalog_size,
    .category_count = h_category_count,
    .category_name = h_category_name,
    .category_lookup = h_category_lookup,
    .latest_time = h_latest_time,
    .max_basket = h_max_basket,
    .note = xs_result_note,
    .admits = xs_result_admits,
    .type_count = h_type_count,
    .type_name = h_type_name,
    .type_weight = h_type_weight,
    .cross_row = h_cross_row,
    .type_support = h_type_support,
    .type_transactions = h_type_transactions,
    .type_events = h_type_events,
};
