/*
 * history.c -- customers' histories (engine/history.h).
 *
 * Indexing is a counting sort of the events by customer followed by an
 * insertion sort by time within each customer: histories are short and
 * usually already in order.  A live history is seeded from the loaded one
 * on the customer's first ingested event; new events are usually the
 * latest, so keeping time order costs one comparison each.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/history.h"

int xs_history_init(xs_history *h, xs_dataset *ds)
{
    memset(h, 0, sizeof *h);
    h->ds = ds;
    uint32_t nc = xs_dict_size(ds->customers);
    if (nc == 0) /* --baskets data, until ingest names customers */
        return 0;
    uint32_t *off = calloc((size_t)nc + 1, sizeof *off);
    xs_event *sorted = malloc((ds->n_events ? ds->n_events : 1) * sizeof *sorted);
    uint32_t *fill = malloc(((size_t)nc + 1) * sizeof *fill);
    if (!off || !sorted || !fill || ds->n_events > UINT32_MAX) {
        free(off);
        free(sorted);
        free(fill);
        return -1;
    }
    /* events without a customer (basket lines of a snapshot that ingest
     * added customers to) go last, in their order, outside every history */
    size_t tail = 0;
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].customer == XS_NONE)
            tail++;
        else
            off[ds->events[i].customer + 1]++;
    for (uint32_t c = 0; c < nc; c++)
        off[c + 1] += off[c];
    memcpy(fill, off, ((size_t)nc + 1) * sizeof *fill);
    size_t rest = ds->n_events - tail;
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].customer == XS_NONE)
            sorted[rest++] = ds->events[i];
        else
            sorted[fill[ds->events[i].customer]++] = ds->events[i];
    free(fill);
    for (uint32_t c = 0; c < nc; c++) {
        xs_event *ev = sorted + off[c];
        uint32_t n = off[c + 1] - off[c];
        for (uint32_t i = 1; i < n; i++) {
            xs_event v = ev[i];
            uint32_t j = i;
            while (j > 0 && ev[j - 1].ts > v.ts) {
                ev[j] = ev[j - 1];
                j--;
            }
            ev[j] = v;
        }
    }
    free(ds->events);
    ds->events = sorted;
    ds->cap_events = ds->n_events ? ds->n_events : 1;
    h->off = off;
    h->n_customers = nc;
    return 0;
}

void xs_history_free(xs_history *h)
{
    xs_live_history *lh, *tmp;
    HASH_ITER(hh, h->live, lh, tmp) {
        HASH_DEL(h->live, lh);
        free(lh->ev);
        free(lh);
    }
    free(h->off);
    memset(h, 0, sizeof *h);
}

/* The loaded history of customer c (possibly empty). */
static const xs_event *loaded(const xs_history *h, uint32_t c, size_t *n)
{
    if (!h->off || c >= h->n_customers) {
        *n = 0;
        return NULL;
    }
    *n = h->off[c + 1] - h->off[c];
    return h->ds->events + h->off[c];
}

int xs_history_get(const xs_history *h, uint32_t customer,
                   const xs_event **ev, size_t *n)
{
    *ev = NULL;
    *n = 0;
    if (h->live) { /* ingest added to it */
        xs_live_history *lh = NULL;
        HASH_FIND(hh, h->live, &customer, sizeof customer, lh);
        if (lh) {
            *ev = lh->ev;
            *n = lh->n;
            return 1;
        }
    }
    if (!h->off || customer >= h->n_customers)
        return 0;
    *ev = loaded(h, customer, n);
    return 1;
}

int xs_history_add(xs_history *h, const xs_event *ev)
{
    xs_live_history *lh = NULL;
    HASH_FIND(hh, h->live, &ev->customer, sizeof ev->customer, lh);
    if (!lh) {
        lh = calloc(1, sizeof *lh);
        if (!lh)
            return -1;
        lh->customer = ev->customer;
        size_t n;
        const xs_event *base = loaded(h, ev->customer, &n);
        lh->cap = n + 8;
        lh->ev = malloc(lh->cap * sizeof *lh->ev);
        if (!lh->ev) {
            free(lh);
            return -1;
        }
        if (n)
            memcpy(lh->ev, base, n * sizeof *lh->ev);
        lh->n = n;
        int hash_oom = 0;
        HASH_ADD(hh, h->live, customer, sizeof lh->customer, lh);
        if (hash_oom) {
            free(lh->ev);
            free(lh);
            return -1;
        }
        h->live_bytes += sizeof *lh + lh->cap * sizeof *lh->ev;
    }
    if (lh->n == lh->cap) {
        size_t cap = lh->cap * 2;
        xs_event *v = realloc(lh->ev, cap * sizeof *v);
        if (!v)
            return -1;
        h->live_bytes += (cap - lh->cap) * sizeof *v;
        lh->ev = v;
        lh->cap = cap;
    }
    size_t i = lh->n++; /* keep time order; new events are usually latest */
    while (i > 0 && lh->ev[i - 1].ts > ev->ts) {
        lh->ev[i] = lh->ev[i - 1];
        i--;
    }
    lh->ev[i] = *ev;
    return 0;
}
