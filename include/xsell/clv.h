/*
 * xsell/clv.h -- customer lifetime value and churn risk: the BG/NBD model of
 * purchases and dropout (Fader, Hardie & Lee, "Counting your customers the
 * easy way", Marketing Science 24(2), 2005) and the Gamma-Gamma model of
 * spend per purchase (Fader & Hardie, "The Gamma-Gamma Model of Monetary
 * Value", 2013), fitted by maximum likelihood and scored per customer.
 *
 * Definitions (the contract; README "xsell clv" says the same):
 *
 *   purchase day a UTC calendar day on which the customer bought (one or
 *                more purchase events); times are in `unit`s of 1 or 7 days.
 *   until        the end of the calibration period (default: the latest
 *                event); its day is the last calibration day.
 *   x            repeat purchase days: distinct purchase days <= until
 *                after the first.
 *   t_x          recency: last purchase day - first purchase day.
 *   T            age: until's day - first purchase day.
 *   spend        price x weight summed per purchase day; `monetary` is the
 *                mean spend of the repeat days (the first day left out, as
 *                Fader & Hardie do), 0 when x = 0.
 *   p_alive      P(alive | x, t_x, T); 1 when x = 0.
 *   expected     E[Y(h) | x, t_x, T]: purchases in the next h units.
 *   exp_spend    E[M | p, q, v, x, monetary]: expected spend per purchase.
 *   clv          sum over i = 1..h of (E[Y(i)] - E[Y(i-1)]) x exp_spend /
 *                (1 + d)^i, d the discount rate per unit; purchases instead
 *                of money when the data has no price.
 *
 * Customers whose first purchase is after until are left out (counted in
 * left_out).  Nothing here prints; every failure is an xs_error.
 */
#ifndef XSELL_CLV_H
#define XSELL_CLV_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "catalog.h"
#include "dataset.h"
#include "error.h"

/* BG/NBD parameters and how their fit went. */
typedef struct xs_bgnbd {
    double r, alpha, a, b;
    double loglik;   /* sum over the customers */
    int iterations;  /* of the optimizer, both stages */
    int converged;
} xs_bgnbd;

/* Gamma-Gamma parameters (v is the paper's gamma) and their fit. */
typedef struct xs_gamma_gamma {
    double p, q, v;
    double loglik;
    size_t customers; /* fitted on: x > 0 and monetary > 0 */
    int iterations;
    int converged;
} xs_gamma_gamma;

/* Summary of one customer (times in units). */
typedef struct xs_clv_input {
    uint32_t x;
    double t_x, T;
    double monetary;
} xs_clv_input;

/* ---- the models' formulas (clv_bgnbd.c, clv_gg.c, clv_hyp2f1.c) --------- */

/* Gauss hypergeometric 2F1(a, b; c; z) for 0 <= z < 1 and c not 0, -1,
 * -2, ...: the power series, summed until a term no longer changes the sum
 * and the terms fall, at most max_terms terms (0: a million).  Returns 0,
 * or -1 (and the partial sum; NaN for arguments out of range) when it did
 * not converge or overflowed. */
XS_API int xs_hyp2f1(double a, double b, double c, double z,
                     unsigned max_terms, double *out);
/* One customer's BG/NBD log-likelihood (FHL 2005 eq. 6). */
XS_API double xs_bgnbd_loglik(const xs_bgnbd *m, uint32_t x, double t_x,
                              double T);
/* P(alive | x, t_x, T) (FHL 2005 note "Computing P(alive)", eq. 2). */
XS_API double xs_bgnbd_p_alive(const xs_bgnbd *m, uint32_t x, double t_x,
                               double T);
/* E[Y(t) | x, t_x, T] (FHL 2005 eq. 10).  Returns 0 or -1 when 2F1 did not
 * converge (*out is then its best estimate, finite). */
XS_API int xs_bgnbd_expected(const xs_bgnbd *m, double t, uint32_t x,
                             double t_x, double T, double *out);
/* One customer's Gamma-Gamma log-likelihood (FH 2013 eq. 3), x > 0 and
 * monetary > 0. */
XS_API double xs_gg_loglik(const xs_gamma_gamma *m, uint32_t x,
                           double monetary);
/* E[M | p, q, v, x, monetary] (FH 2013 eq. 5); q > 1. */
XS_API double xs_gg_expected_spend(const xs_gamma_gamma *m, uint32_t x,
                                   double monetary);

/* ---- fitting (clv_fit.c) ------------------------------------------------ */

/* Maximum-likelihood BG/NBD on n customers: XS_OK with *out, XS_ERR_DATA
 * when fewer than XS_CLV_MIN_REPEAT have x > 0 or the optimizer ran away
 * (the message names the parameter and what to try). */
#define XS_CLV_MIN_REPEAT 5
XS_API int xs_bgnbd_fit(const xs_clv_input *in, size_t n, xs_bgnbd *out,
                        xs_error *err);
/* Maximum-likelihood Gamma-Gamma on the customers with x > 0 and
 * monetary > 0. */
XS_API int xs_gg_fit(const xs_clv_input *in, size_t n, xs_gamma_gamma *out,
                     xs_error *err);

/* ---- customers, from events to values (clv.c) --------------------------- */

typedef struct xs_clv_config {
    int has_until;          /* else until = the latest event */
    int64_t until;          /* unix seconds */
    int has_holdout;
    int64_t holdout_until;  /* must be after until */
    int unit_days;          /* 1 or 7; 0 means 7 */
    int horizon;            /* units; 0 means 52 weeks' worth */
    double discount;        /* per unit, >= 0 */
    int threads;            /* scoring threads; <= 0: one per processor */
    int no_monetary;        /* CLV in purchases even when prices exist */
    const char *timestamp_column; /* names for messages; NULL: defaults */
    const char *price_column;
} xs_clv_config;

typedef struct xs_clv_row {
    uint32_t customer;  /* id in the dataset's customer dictionary */
    xs_clv_input in;    /* monetary NaN without prices */
    uint32_t holdout;   /* purchase days in (until, holdout_until] */
    double p_alive, expected, exp_spend, clv; /* exp_spend NaN without
                                                 prices */
} xs_clv_row;

#define XS_CLV_HOLDOUT_BINS 8 /* calibration frequency 0..6, 7+ */

typedef struct xs_clv {
    xs_clv_row *rows;   /* in customer order (first appearance) */
    size_t n;
    size_t left_out;    /* first purchase after until */
    size_t repeat;      /* customers with x > 0 */
    int64_t until, holdout_until;
    int unit_days, horizon;
    double discount;
    int monetary;       /* 0: no price, Gamma-Gamma skipped */
    int has_gg;         /* Gamma-Gamma fitted */
    char gg_note[160];  /* why not, when monetary but !has_gg */
    xs_bgnbd bg;
    xs_gamma_gamma gg;
    size_t nonconverged; /* expectations whose 2F1 hit its term limit */
    double seconds[4];   /* wall time: summary, BG/NBD fit, Gamma-Gamma
                            fit, scoring */
    int has_holdout;
    double holdout_actual, holdout_predicted;
    size_t hold_customers[XS_CLV_HOLDOUT_BINS];
    double hold_actual[XS_CLV_HOLDOUT_BINS];
    double hold_predicted[XS_CLV_HOLDOUT_BINS];
} xs_clv;

/* Summarises, fits and scores the customers of ds (events with customers
 * and timestamps); cat may be NULL.  Returns XS_OK with *out (free with
 * xs_clv_free), XS_ERR_USAGE for a bad config, XS_ERR_DATA for data the
 * models cannot fit. */
XS_API int xs_clv_compute(const xs_dataset *ds, const xs_catalog *cat,
                          const xs_clv_config *cfg, xs_clv **out,
                          xs_error *err);
XS_API void xs_clv_free(xs_clv *c);

#endif
