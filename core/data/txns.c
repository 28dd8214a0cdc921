/*
 * txns.c -- grouping events into transactions (CSR).
 *
 * A counting sort by group (order or customer) lays the items out group by
 * group; each group is then sorted and deduplicated in place and the whole
 * array compacted, so the result is exactly the set of distinct items of
 * every group.  Groups without events do not exist (ids come from events).
 *
 * The bound (xs_txns_build_max): a group of more than max events keeps the
 * first max distinct items in the order of the dataset's events (the
 * counting sort keeps that order within a group), found with a stamp per
 * item, before the sort: the rule online ingest applies as events arrive,
 * so tables built at load and tables grown by ingest agree.
 */
#include <stdlib.h>
#include <string.h>

#include "util/sort_u32.h"
#include "xsell/cooc.h"

void xs_txns_free(xs_txns *t)
{
    free(t->off);
    free(t->items);
    memset(t, 0, sizeof *t);
}

int xs_txns_build(const xs_dataset *ds, int scope, xs_txns *out, xs_error *err)
{
    return xs_txns_build_max(ds, scope, 0, out, err);
}

/* Keeps the first max distinct items of a[0, n) in place, in their order;
 * returns how many.  stamp (by item id) holds no value `mark` on entry. */
static uint32_t first_distinct(uint32_t *a, uint32_t n, uint32_t max,
                               uint32_t *stamp, uint32_t mark)
{
    uint32_t w = 0;
    for (uint32_t i = 0; i < n && w < max; i++)
        if (stamp[a[i]] != mark) {
            stamp[a[i]] = mark;
            a[w++] = a[i];
        }
    return w;
}

int xs_txns_build_max(const xs_dataset *ds, int scope, uint32_t max,
                      xs_txns *out, xs_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t *stamp = NULL; /* by item, made when a group is over max */
    uint32_t ngroups;
    int by_order = scope == XS_SCOPE_BASKET;
    if (by_order) {
        if (ds->n_orders == 0)
            return xs_error_set(err, XS_ERR_NOTFOUND,
                                "basket scope needs orders: give --baskets or "
                                "an events file with an order column");
        ngroups = ds->n_orders;
    } else if (scope == XS_SCOPE_CUSTOMER) {
        if (!ds->has_customer)
            return xs_error_set(err, XS_ERR_NOTFOUND,
                                "customer scope needs customers: give an "
                                "events file with a customer column");
        ngroups = xs_dict_size(ds->customers);
    } else {
        return xs_error_set(err, XS_ERR_USAGE, "unknown scope %d", scope);
    }
    uint32_t *off = calloc((size_t)ngroups + 1, sizeof *off);
    uint32_t *items = malloc((ds->n_events ? ds->n_events : 1) * sizeof *items);
    uint32_t *tmp = NULL;
    if (!off || !items || ds->n_events > UINT32_MAX - 1)
        goto nomem;
    for (size_t i = 0; i < ds->n_events; i++) {
        uint32_t g = by_order ? ds->events[i].order : ds->events[i].customer;
        if (g >= ngroups) /* an event without order in a file with orders */
            continue;
        off[g + 1]++;
    }
    uint32_t maxlen = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
        if (off[g + 1] > maxlen)
            maxlen = off[g + 1];
        off[g + 1] += off[g];
    }
    {
        uint32_t *fill = malloc((size_t)ngroups * sizeof *fill);
        if (!fill)
            goto nomem;
        memcpy(fill, off, (size_t)ngroups * sizeof *fill);
        for (size_t i = 0; i < ds->n_events; i++) {
            uint32_t g = by_order ? ds->events[i].order : ds->events[i].customer;
            if (g < ngroups)
                items[fill[g]++] = ds->events[i].item;
        }
        free(fill);
    }
    tmp = malloc(((size_t)maxlen + 1) * sizeof *tmp);
    if (!tmp)
        goto nomem;
    uint32_t w = 0, start = 0;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t end = off[g + 1], n = end - start;
        uint32_t *a = items + start;
        if (max && n > max) {
            if (!stamp && !(stamp = calloc((size_t)xs_dict_size(ds->items) + 1,
                                           sizeof *stamp)))
                goto nomem;
            n = first_distinct(a, n, max, stamp, g + 1);
        }
        xs_sort_u32(a, n, tmp);
        off[g] = w;
        for (uint32_t i = 0; i < n; i++)
            if (i == 0 || a[i] != a[i - 1])
                items[w++] = a[i];
        start = end;
    }
    off[ngroups] = w;
    free(tmp);
    free(stamp);
    out->n = ngroups;
    out->off = off;
    out->items = items;
    return XS_OK;
nomem:
    free(off);
    free(items);
    free(tmp);
    free(stamp);
    return xs_error_set(err, XS_ERR_NOMEM, "out of memory grouping %zu events",
                        ds->n_events);
}
