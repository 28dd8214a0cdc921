/*
 * xsell/eval.h -- offline evaluation: splitting purchase events into train
 * and test, and the ranking metrics of top-k recommendations.
 *
 * A split marks each event of a dataset train (0) or test (1) in a byte
 * array the caller owns; it is a pure function of the events, the method,
 * the ratio and the seed.  Train and test are disjoint and together are the
 * whole input, by construction.
 *
 *   stratified  per customer, its events in file order are shuffled by a
 *               generator seeded from (seed, customer name); the first
 *               round(ratio x n) go to train, the rest to test.  A customer
 *               with one event stays in train.
 *   temporal    one global cut: t_cut is the time of the round(ratio x n)-th
 *               event in time order (at least the first); events at or
 *               before t_cut are train, later ones test.  Needs timestamps.
 *   leave-last  each customer's last event (latest time, ties: the later
 *               line of the file) is test; a customer with one event stays
 *               in train.
 *   basket      whole baskets (orders): the baskets, in order of first
 *               appearance, are shuffled by a generator seeded with the
 *               seed; the first round(ratio x n) go to train, the others
 *               (every event of them) to test.  Needs orders (--baskets,
 *               or --events with an order column), not customers.
 *
 * Metrics, per evaluated user, with R the distinct relevant items (|R| > 0)
 * and hits the ranks r (1-based, r <= k) of recommended items in R:
 *
 *   precision@k = |hits| / k
 *   recall@k    = |hits| / |R|
 *   ndcg@k      = sum over hits of 1/log2(r+1), divided by the same sum over
 *                 ranks 1..min(k, |R|) (the ideal ranking)
 *   ap@k        = (sum over hits r of precision@r) / |R|
 *   rr          = 1 / the smallest hit rank, 0 without a hit
 *   hit         = 1 when |hits| >= 1
 *
 * The report averages each over the evaluated users (map is the mean ap,
 * mrr the mean rr; with one relevant item, as in the basket protocol,
 * ap = rr);
 * coverage = distinct items recommended to anyone / items in train.
 *
 * Every function returns XS_OK or an error status with err filled; nothing
 * here prints.
 */
#ifndef XSELL_EVAL_H
#define XSELL_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "dataset.h"
#include "engine.h"
#include "error.h"

enum xs_split_method {
    XS_SPLIT_STRATIFIED = 0,
    XS_SPLIT_TEMPORAL,
    XS_SPLIT_LEAVE_LAST,
    XS_SPLIT_BASKET
};

/* "stratified", "temporal", "leave-last" or "basket": the method, or -1. */
XS_API int xs_split_parse(const char *name);
XS_API const char *xs_split_name(int method);

/* Fills is_test[0 .. ds->n_events) (caller-owned) with 0 (train) or 1
 * (test).  ratio must be in (0, 1).  XS_ERR_USAGE for a bad method or
 * ratio, for data without customers (basket: without orders), and for
 * temporal on data without timestamps; XS_ERR_DATA when the test side
 * comes out empty. */
XS_API int xs_split(const xs_dataset *ds, int method, double ratio,
                    uint64_t seed, unsigned char *is_test, xs_error *err);

/* A new dataset (owned by the caller) holding, in file order, the events
 * of ds with is_test[i] == side, their ids interned afresh (first-seen
 * order) and the has_* flags of ds; --baskets baskets (orders without
 * names) are renumbered 0.. in first-seen order.  NULL with err set when
 * out of memory. */
XS_API xs_dataset *xs_dataset_subset(const xs_dataset *ds,
                                     const unsigned char *is_test, int side,
                                     xs_error *err);

/* Writes the events of one side as CSV to path: header customer,item and
 * then timestamp (unix seconds) and weight when ds has them; fields quoted
 * as RFC 4180 when needed.  XS_ERR_IO naming the file on failure. */
XS_API int xs_split_write(const xs_dataset *ds, const unsigned char *is_test,
                          int side, const char *path, xs_error *err);

/* The metrics of one user. */
typedef struct xs_user_metrics {
    double precision, recall, ndcg, ap;
    int hit;
    uint32_t hits;
    double rr; /* 1 / the rank of the first hit; 0 without a hit */
} xs_user_metrics;

/* Scores the ranked list rec[0 .. n_rec) (n_rec <= k counts; only the first
 * k are looked at) against the relevant items rel[0 .. n_rel), sorted
 * ascending and unique, n_rel > 0.  XS_ERR_USAGE when k == 0 or n_rel == 0. */
XS_API int xs_eval_user(const uint32_t *rec, size_t n_rec, const uint32_t *rel,
                        size_t n_rel, uint32_t k, xs_user_metrics *out,
                        xs_error *err);

/* Means over users. */
typedef struct xs_eval_report {
    double precision, recall, ndcg, map, hit_rate, coverage;
    uint64_t users; /* evaluated */
    double mrr;     /* mean rr */
} xs_eval_report;

/* Accumulates users' metrics and the items recommended.  n_items: the items
 * in train (coverage's denominator); recommended ids must be below it. */
typedef struct xs_eval xs_eval;
XS_API xs_eval *xs_eval_new(uint32_t n_items, uint32_t k); /* NULL: no memory */
       XS_API void xs_eval_free(xs_eval *ev);
XS_API int xs_eval_add(xs_eval *ev, const uint32_t *rec, size_t n_rec,
                       const uint32_t *rel, size_t n_rel, xs_error *err);
/* The means so far (all zero with no users). */
XS_API void xs_eval_result(const xs_eval *ev, xs_eval_report *out);

/* ---- a whole evaluation ---------------------------------------------------
 *
 * Every test customer of a split is asked for its top k by engine e, under
 * the engine's rules, which drop what it bought in train (exclude_owned).
 * e must be built on the train side, xs_dataset_subset(ds, is_test, 0), and
 * may add a catalog: the train items are the items of e's events.  The
 * relevant items of a customer are its distinct test items it did not buy
 * in train; items new to train still count as relevant (no model can find
 * them, as in any offline split).  Evaluated: the customers with a train
 * history and at least one relevant item; the others are counted as
 * skipped. */
typedef struct xs_eval_skipped {
    uint64_t cold;        /* test events but no train events */
    uint64_t no_relevant; /* every test item already bought in train */
} xs_eval_skipped;

/* Runs the evaluation of plugin (a loaded plugin's name, or NULL/"blend")
 * with list length k (1 .. XS_K_MAX) and fills *report and *skipped.
 * XS_ERR_USAGE for a bad k, the engine's error for a failed request,
 * XS_ERR_NOMEM. */
XS_API int xs_eval_run(xs_engine *e, const char *plugin, uint32_t k,
                       const xs_dataset *ds, const unsigned char *is_test,
                       xs_eval_report *report, xs_eval_skipped *skipped,
                       xs_error *err);

/* ---- the basket protocol (run: eval_basket.c) ------------------------------
 *
 * After a basket split, each held-out basket with >= 2 distinct items
 * hides one of them: its distinct items in first-seen order, the hidden
 * one drawn by a generator seeded with (seed, the basket's index).  The
 * request holds the basket's other items (those known to train; no
 * customer), and the single relevant item is the hidden one.  Skipped, and
 * counted: held-out baskets with fewer than 2 distinct items
 * (skipped->no_relevant: nothing to hide) and those none of whose other
 * items occur in train (skipped->cold: nothing to ask with). */

/* Fills hidden[0 .. ds->n_events) (caller-owned) with 1 for the events of
 * each test basket's hidden item, 0 elsewhere.  XS_ERR_USAGE when ds has
 * no orders, XS_ERR_NOMEM. */
XS_API int xs_basket_hide(const xs_dataset *ds, const unsigned char *is_test,
                          uint64_t seed, unsigned char *hidden, xs_error *err);

/* Runs the basket protocol for plugin (as xs_eval_run) on engine e built on
 * the train side of a basket split, e's asks including XS_ASK_ITEMS. */
XS_API int xs_eval_run_baskets(xs_engine *e, const char *plugin, uint32_t k,
                               const xs_dataset *ds,
                               const unsigned char *is_test,
                               const unsigned char *hidden,
                               xs_eval_report *report,
                               xs_eval_skipped *skipped, xs_error *err);

/* Writes one side of a basket split as CSV to path: header customer,item,
 * then timestamp and weight when ds has them, then order, and on the test
 * side (side 1) hidden (1 for the hidden item's rows); without customers
 * (--baskets) the customer field repeats the order.  The order is the
 * order's name, or for --baskets the basket's 1-based ordinal in the file.
 * XS_ERR_IO naming the file on failure. */
XS_API int xs_split_write_baskets(const xs_dataset *ds,
                                  const unsigned char *is_test,
                                  const unsigned char *hidden, int side,
                                  const char *path, xs_error *err);

#endif
