/*
 * xsell/gen.h -- a deterministic synthetic store for demos, tests and
 * benchmarks.
 *
 * Writes DIR/catalog.csv (item,category,price,margin,in_stock,title) and
 * DIR/events.csv (customer,item,timestamp,weight,price,order).  The store has
 * power-law item popularity, per-customer category affinities, complementary
 * products bought together, repeat purchases and a year of timestamps.  Same
 * parameters and seed, same bytes.
 *
 * Event types (views, carts, cold > 0): events.csv gains a `type` column
 * (purchase, view, cart), views and carts with an empty order.  Every
 * purchase line is viewed first, with `views` more browsing views on
 * average (a complement of the item or an item of its category); a
 * purchase is carted first with probability `carts`.  A `cold` share of the
 * items are looked at but seldom bought: picked for an order, a cold item
 * is only viewed (carted with probability carts / 2) 4 times in 5, and the
 * customer picks again; the last cold item a customer passed by is bought
 * on a later visit with probability 0.1 per pick (viewed, bought later).  These draws come from a second generator: with
 * cold at 0, the purchase lines (without the type column) are byte for byte
 * the file written without views and carts; cold > 0 changes the purchases
 * (the rejected picks).
 */
#ifndef XSELL_GEN_H
#define XSELL_GEN_H

#include <stdint.h>

#include "api.h"
#include "error.h"

typedef struct xs_gen_params {
    uint32_t customers; /* >= 1 */
    uint32_t items;     /* >= 2 */
    uint32_t orders;    /* >= 1; orders in all, spread over customers */
    uint64_t seed;
    int64_t start;      /* unix seconds of the first day; 0: 2025-01-01 */
    /* Optional output, may be NULL: on success xs_gen_write stores the number
     * of lines written to events.csv (header excluded) here.  Not owned. */
    uint64_t *lines_out;
    double views; /* >= 0: mean browsing views per purchase line; 0: none */
    double carts; /* 0..1: share of purchase lines carted first */
    double cold;  /* 0..1: share of items viewed but seldom bought */
} xs_gen_params;

/* Creates dir if missing and writes the two files.  Returns XS_OK or an
 * error (XS_ERR_USAGE for bad parameters -- limits: items <= 10,000,000,
 * customers and orders <= 100,000,000, start >= 0 -- XS_ERR_IO,
 * XS_ERR_NOMEM).  Prints nothing. */
XS_API int xs_gen_write(const xs_gen_params *p, const char *dir, xs_error *err);

#endif
