/*
 * data/xocc.h -- cross-occurrence tables: for each event type other than
 * the primary one, which items the buyers of an item also viewed (carted,
 * ...), counted over customers.
 *
 * Ownership: xs_xocc_build returns a table the caller frees; rows and
 * events read through xs_xocc_row / xs_xocc_events point into it and stay
 * valid until the next xs_xocc_grow or xs_xocc_add (ingest: under the
 * engine's write lock, like the co-occurrence tables).
 */
#ifndef XS_DATA_XOCC_H
#define XS_DATA_XOCC_H

#include <stdint.h>

#include "xsell/dataset.h"
#include "xsell/error.h"
#include "xsell/plugin.h"

/* A row or a customer's list changed since the build (xs_xocc_add). */
typedef struct xs_xocc_live {
    uint32_t n, cap;
    uint32_t *nbr, *cnt; /* sorted by nbr, as the built rows */
} xs_xocc_live;

typedef struct xs_xocc_cust {
    size_t n, cap;
    xs_event *ev; /* the customer's other events, built ones first */
} xs_xocc_cust;

typedef struct xs_xocc_type {
    uint32_t *off;     /* n_built + 1 offsets into nbr/cnt, by bought item
                          (NULL for a type first seen after the build) */
    uint32_t *nbr;     /* items of this type, ascending within a row */
    uint32_t *cnt;     /* customers who bought the row's item and did this
                          type on nbr[i] */
    uint32_t *support; /* by item: customers who did this type on it */
    uint64_t pairs;
    xs_xocc_live **live; /* by bought item: NULL, or the row as changed */
} xs_xocc_type;

typedef struct xs_xocc {
    uint32_t n_types;  /* the data's types; t[0] (the primary) is empty */
    uint32_t n_items;  /* item ids covered (the dictionary at build) */
    uint64_t n;        /* customers with an event of any type */
    uint32_t *bought;  /* by item: customers who bought it */
    xs_xocc_type *t;   /* n_types entries */
    /* The other types' events by customer, each customer's in file order:
     * ev[start[c] .. start[c + 1]) (n_cust customers at build). */
    xs_event *ev;
    size_t *start;
    uint32_t n_cust;
    /* What ingest changed (xs_xocc_add): items and types past the build,
     * rows and customers' lists copied out of the built arrays. */
    uint32_t n_built;     /* items of the built rows (off) */
    uint32_t cap_items;   /* allocated entries of bought, support, live */
    uint32_t cap_types;   /* allocated entries of t */
    xs_xocc_cust **cust;  /* by customer (cap_cust): NULL: the built list */
    uint32_t cap_cust;
    uint32_t *stamp;      /* by item: scratch for distinct items */
    uint32_t mark;
    size_t live_bytes;    /* held by the live rows and lists */
} xs_xocc;

/* Builds the tables of ds's types (ds->types must be set).  A customer
 * feeds its first max_basket distinct purchased items (file order) and
 * its first max_basket distinct items of each type, as the co-occurrence
 * tables bound a transaction.  NULL with err set when out of memory. */
xs_xocc *xs_xocc_build(const xs_dataset *ds, uint32_t max_basket,
                       xs_error *err);
void xs_xocc_free(xs_xocc *x);

/* Empty tables (types: the primary only) for data that had no type column
 * when the store was built, over n_items items; then
 * xs_xocc_add_buyer once per customer with purchases.  NULL when out of
 * memory. */
xs_xocc *xs_xocc_empty(uint32_t n_items);
/* Counts one customer's purchases (all of them, in order) into the
 * buyers and n of tables without other events.  0 or -1 (memory). */
int xs_xocc_add_buyer(xs_xocc *x, const xs_event *ev, size_t n,
                      uint32_t max_basket);
/* Covers items 0..n_items-1 and types 0..n_types-1 (<= XS_TYPES_MAX):
 * new ones start empty.  0 or -1 (memory). */
int xs_xocc_grow(xs_xocc *x, uint32_t n_items, uint32_t n_types);
/* Adds one event (ev->reserved its type, < n_types; item < n_items after
 * xs_xocc_grow) of customer ev->customer, whose purchases before it are
 * hist[0..n_hist) in order: what xs_xocc_build of the events so far and
 * this one gives (the same max_basket rule: a customer's first max_basket
 * distinct items of each kind count).  An event of another type joins
 * the customer's list (xs_xocc_events).  0 or -1 (memory: the tables may
 * then hold part of the event). */
int xs_xocc_add(xs_xocc *x, const xs_event *ev, const xs_event *hist,
                size_t n_hist, uint32_t max_basket);

/* The row of bought item `item` in type `type`'s table: 1 and *out filled
 * (support: its buyers), or 0 (unknown type or item, or type 0). */
int xs_xocc_row(const xs_xocc *x, uint32_t type, uint32_t item, xs_row *out);
/* Customers who did `type` on item (type 0: bought it); 0 when unknown. */
uint32_t xs_xocc_support(const xs_xocc *x, uint32_t type, uint32_t item);
/* Customer c's events of other types (file order): 1 and *ev, *n set, or
 * 0 when it has none. */
int xs_xocc_events(const xs_xocc *x, uint32_t c, const xs_event **ev,
                   size_t *n);
/* Bytes held. */
size_t xs_xocc_bytes(const xs_xocc *x);

#endif
