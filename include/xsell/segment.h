/*
 * xsell/segment.h -- RFM segmentation of customers, with the summary figures
 * a marketer asks for: customers and revenue per segment, the Pareto share
 * of the top 20% and the customer retention rate (CRR) over a period.
 *
 * Definitions (the contract; docs/segment-readme.md says the same):
 *
 *   now          cfg->now, or the latest event time.  Events after now are
 *                ignored; a customer with no event at or before now is left
 *                out.
 *   recency      floor((now - last purchase) / 86400): whole days.
 *   frequency    distinct orders of the customer when the data has an order
 *                column, else distinct purchase days (UTC calendar days).
 *   monetary     sum of price x weight over the customer's events; price is
 *                the event's price column, else the catalog's price.
 *   scores       1..bins by rank: with N customers and p the number of
 *                customers whose value is strictly worse, score = 1 +
 *                floor(p x bins / N).  Equal values share a score (the lower
 *                bin of their tie); "better" is a higher frequency or
 *                monetary and a lower recency.
 *   segment      from R and F only (M never changes the segment), on the
 *                5 x 5 grid of XS_SEGMENT_*; for bins != 5 a score s maps
 *                to the grid as 1 + floor((s - 1/2) x 5 / bins).
 *   Pareto       the ceil(0.2 N) customers of highest monetary (ties: the
 *                earlier customer first) and their share of all revenue.
 *   CRR          (E - N) / S x 100, a customer being active at t when it
 *                bought in the active_days window before t: S = active at
 *                the start A (a purchase in [A - W, A)), E = active at the
 *                end B (a purchase in (B - W, B]), N = customers whose first
 *                purchase is in [A, B].
 */
#ifndef XSELL_SEGMENT_H
#define XSELL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "catalog.h"
#include "clv.h"
#include "dataset.h"
#include "error.h"

/* Bins of the report's P(alive) histogram. */
#define XS_SEG_PALIVE_BINS 10

/* Segments, in the order reports list them. */
enum xs_segment {
    XS_SEG_CHAMPIONS = 0,
    XS_SEG_LOYAL,
    XS_SEG_POTENTIAL,
    XS_SEG_NEW,
    XS_SEG_PROMISING,
    XS_SEG_NEED_ATTENTION,
    XS_SEG_ABOUT_TO_SLEEP,
    XS_SEG_AT_RISK,
    XS_SEG_CANNOT_LOSE,
    XS_SEG_HIBERNATING,
    XS_SEG_LOST,
    XS_SEG_COUNT
};

/* "Champions", "Loyal", ...; NULL out of range. */
XS_API const char *xs_segment_name(int segment);
/* The segment of scores r and f in 1..bins (bins 2..10). */
XS_API int xs_segment_of(int r, int f, int bins);

typedef struct xs_segment_config {
    int bins;           /* 2..10; 0 means 5 */
    int has_now;        /* else now = the latest event time */
    int64_t now;
    int no_monetary;    /* leave out M, revenue and Pareto */
    int has_period;     /* compute the CRR over [period_from, period_to] */
    int64_t period_from;
    int64_t period_to;
    int active_days;    /* CRR's activity window W in days; 0 means 365 */
    const char *timestamp_column; /* names for messages; NULL: defaults */
    const char *price_column;
} xs_segment_config;

typedef struct xs_segment_row {
    uint32_t customer;  /* id in the dataset's customer dictionary */
    int64_t recency_days;
    uint32_t frequency;
    double monetary;    /* NaN with no_monetary */
    int r, f, m;        /* m is 0 with no_monetary */
    int segment;
} xs_segment_row;

typedef struct xs_segmentation {
    xs_segment_row *rows; /* in customer order (first appearance) */
    size_t n;
    int bins;
    int monetary;         /* 0 with no_monetary */
    int64_t now;
    int64_t first_ts, last_ts; /* the data's time span (all events) */
    size_t count[XS_SEG_COUNT];
    double revenue[XS_SEG_COUNT];
    double total_revenue;
    size_t *by_value;     /* row indices, monetary descending, ties by row */
    size_t top_n;         /* ceil(0.2 n) */
    double top_share;     /* revenue share of the top_n; NaN when no revenue */
    int has_crr;
    int64_t period_from, period_to;
    int active_days;
    size_t crr_start, crr_end, crr_new;
    double crr;           /* percent; NaN when crr_start is 0 */
    /* Lifetime value (xs_segment_add_clv), for the report. */
    int has_clv;
    int clv_money;        /* CLV in money, else in expected purchases */
    int clv_horizon, clv_unit_days;
    double clv[XS_SEG_COUNT]; /* sum of the segment's customers' CLV */
    double clv_total;
    size_t p_alive_hist[XS_SEG_PALIVE_BINS]; /* [k]: p_alive in
                               [k/B, (k+1)/B), the last bin closed */
    char clv_note[512];   /* why there is no CLV; "" when not asked */
} xs_segmentation;

/* Segments the customers of ds (an --events dataset with timestamps).  cat
 * may be NULL.  Returns XS_OK with *out set (owned by the caller, free with
 * xs_segmentation_free), or an error: XS_ERR_USAGE for a bad config (bins,
 * a now before every event, a period outside the data), XS_ERR_DATA when
 * the data lacks timestamps or prices. */
XS_API int xs_segment_compute(const xs_dataset *ds, const xs_catalog *cat,
                              const xs_segment_config *cfg,
                              xs_segmentation **out, xs_error *err);
XS_API void xs_segmentation_free(xs_segmentation *s);

/* Adds c's CLV to s: per segment the sum of its customers' CLV, and the
 * histogram of p_alive over the customers c scored (c computed on the same
 * dataset, until = s->now).  Customers of s that c left out count as 0. */
XS_API void xs_segment_add_clv(xs_segmentation *s, const xs_clv *c);

/* Writes one self-contained HTML page (inline CSS and SVG, no script, no
 * external reference) with bar charts of customers and revenue per segment,
 * the Pareto curve and a table of the summary figures.  customers names the
 * rows' ids.  title may be NULL.  Returns XS_OK or XS_ERR_IO. */
XS_API int xs_segment_write_html(const xs_segmentation *s,
                                 const xs_dict *customers, const char *title,
                                 FILE *f, xs_error *err);

#endif
