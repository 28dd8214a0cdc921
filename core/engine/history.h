/*
 * engine/history.h -- every customer's events in time order: the loaded
 * events, indexed once, and what ingest added since.
 *
 * Loaded events are sorted by customer, then time, in the dataset's own
 * array, with an offset per customer.  A customer touched by ingest gets a
 * copy of its loaded history that grows with each new event (a uthash map
 * from customer id), so the loaded array never moves.
 *
 * Ownership and threads: the history belongs to the engine's store.
 * xs_history_get() may run on any number of threads; xs_history_add() runs
 * under the engine's write lock and may move the events of the customer it
 * adds to (what a plugin reached before is invalid after an ingest).
 */
#ifndef XS_ENGINE_HISTORY_H
#define XS_ENGINE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "util/xs_uthash.h"
#include "xsell/dataset.h"

/* A customer's history once ingest has added to it. */
typedef struct xs_live_history {
    uint32_t customer;
    size_t n, cap;
    xs_event *ev; /* by time */
    UT_hash_handle hh;
} xs_live_history;

typedef struct xs_history {
    const xs_dataset *ds; /* events sorted by customer, then time */
    uint32_t *off;        /* customer -> first event; NULL without customers */
    uint32_t n_customers; /* customers covered by off */
    xs_live_history *live;
    size_t live_bytes;    /* held by the live histories */
} xs_history;

/* Sorts ds's events by customer, then time (stable), and indexes them.
 * Data without customers has no histories.  Returns 0 or -1 (memory). */
int xs_history_init(xs_history *h, xs_dataset *ds);
void xs_history_free(xs_history *h);

/* 1 and the customer's events (by time), or 0 when it has none. */
int xs_history_get(const xs_history *h, uint32_t customer,
                   const xs_event **ev, size_t *n);

/* Appends one event to its customer's history, keeping time order.
 * Returns 0 or -1 (memory; the history is then unchanged). */
int xs_history_add(xs_history *h, const xs_event *ev);

#endif
