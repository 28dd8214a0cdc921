/*
 * clv_int.h -- what the clv*.c files share and nothing else sees: the
 * tail of the Gauss series that BG/NBD's conditional expectation needs,
 * the optimizer, and the summary of the events.
 */
#ifndef XS_CLV_INT_H
#define XS_CLV_INT_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/clv.h"

/* (2F1(a, b; c; z) - 1) / b, for b possibly 0 (the limit), 0 <= z < 1,
 * c not 0, -1, -2, ...: the series
 *   sum_{k>=1} (a)_k (b+1)_{k-1} / ((c)_k k!) z^k.
 * Returns 0, or -1 when it did not converge in max_terms (0: a million) terms or
 * overflowed (*out is then the partial sum). */
int clv_hyp2f1_tail(double a, double b, double c, double z,
                    unsigned max_terms, double *out);

/* Minimises f over R^dim from theta (updated in place): Nelder-Mead to get
 * near, then BFGS with central-difference gradients to converge.  f returns
 * +inf where it is undefined.  *iterations counts both stages; *gnorm is
 * the largest gradient component at the end and grad[] the gradient
 * (dim <= 8).  Returns 0 when the gradient test passed, -1 otherwise. */
typedef double (*clv_objective)(const double *theta, void *ctx);
int clv_minimize(clv_objective f, void *ctx, int dim, double *theta,
                 int *iterations, double *grad);

/* One customer's calibration summary in whole days, before it is put in
 * units, and its holdout count. */
typedef struct clv_days {
    uint32_t customer;
    uint32_t x;          /* repeat purchase days <= until */
    int64_t first, last; /* purchase days (days since the epoch) */
    double repeat_spend; /* spend of the repeat days; NaN without prices */
    uint32_t holdout;    /* purchase days in (until, holdout_until] */
} clv_days;

/* Is this event a purchase?  The one place that decides which events CLV
 * counts (clv_summary.c). */
int clv_is_purchase(const xs_event *ev);

/* The summaries of ds's customers whose first purchase is on or before
 * until_day, in customer order: XS_OK with *out (malloc'd) and *n, and
 * *left_out the customers whose first purchase is later.  monetary: sum
 * price x weight (prices from the events, else cat). */
int clv_summarise(const xs_dataset *ds, const xs_catalog *cat, int monetary,
                  int64_t until_day, int has_holdout, int64_t holdout_day,
                  const char *price_column, clv_days **out, size_t *n,
                  size_t *left_out, xs_error *err);

#endif
