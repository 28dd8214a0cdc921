/*
 * data/xocc.h -- cross-occurrence tables: for each event type other than
 * the primary one, which items the buyers of an item also viewed (carted,
 * ...), counted over customers.
 *
 * Ownership: xs_xocc_build returns a table the caller frees; rows read
 * through xs_xocc_row point into it and live as long as it does.
 */
#ifndef XS_DATA_XOCC_H
#define XS_DATA_XOCC_H

#include <stdint.h>

#include "xsell/dataset.h"
#include "xsell/error.h"
#include "xsell/plugin.h"

typedef struct xs_xocc_type {
    uint32_t *off;     /* n_items + 1 offsets into nbr/cnt, by bought item */
    uint32_t *nbr;     /* items of this type, ascending within a row */
    uint32_t *cnt;     /* customers who bought the row's item and did this
                          type on nbr[i] */
    uint32_t *support; /* by item: customers who did this type on it */
    uint64_t pairs;
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
} xs_xocc;

/* Builds the tables of ds's types (ds->types must be set).  A customer
 * feeds its first max_basket distinct purchased items (file order) and
 * its first max_basket distinct items of each type, as the co-occurrence
 * tables bound a transaction.  NULL with err set when out of memory. */
xs_xocc *xs_xocc_build(const xs_dataset *ds, uint32_t max_basket,
                       xs_error *err);
void xs_xocc_free(xs_xocc *x);

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
