/*
 * test_segment.c -- tests for RFM segmentation (xsell/segment.h).
 *
 * Owns: xs_segment_compute, xs_segment_of, xs_segment_name and
 * xs_segment_write_html, on the hand-made store tests/data/segment/
 * events.csv, whose every figure is worked out below, and on the error
 * cases (no timestamps, no prices, a bad now, bins or period).
 *
 * The store: 12 customers C01..C12 (in that order in the file), latest
 * event 2024-06-30 00:00 UTC = now.  Each customer's orders are 10 days
 * apart, the last `recency` days before now; the earlier orders are one
 * line price 10 x 1, the last one line priced to make the total (C01's
 * last order has two lines: 2 x 100 and 1 x 350).
 *
 *   cust  recency F   M  |  p_R  R  |  p_F  F  |  p_M  M  | segment
 *   C01      0    6 600  |  10   5  |  10   5  |  10   5  | Champions
 *   C02      1    5 500  |   9   4  |   8   4  |   9   4  | Loyal
 *   C03      2    1  20  |   8   4  |   0   1  |   1   1  | Promising
 *   C04     10    4 300  |   7   3  |   7   3  |   7   3  | Need attention
 *   C05     20    3 150  |   6   3  |   6   3  |   6   3  | Need attention
 *   C06     40    2  80  |   5   3  |   4   2  |   5   3  | About to sleep
 *   C07     60    5 450  |   4   2  |   8   4  |   8   4  | At risk
 *   C08     90    1  30  |   3   2  |   0   1  |   2   1  | Hibernating
 *   C09    120    2  60  |   2   1  |   4   2  |   4   2  | Hibernating
 *   C10    200    1  10  |   0   1  |   0   1  |   0   1  | Lost
 *   C11      0    1  40  |  10   5  |   0   1  |   3   2  | New
 *   C12    150    7 700  |   1   1  |  11   5  |  11   5  | Cannot lose them
 *
 * p = customers strictly worse (N = 12), score = 1 + floor(5 p / 12):
 * p 0..2 -> 1, 3..4 -> 2, 5..7 -> 3, 8..9 -> 4, 10..11 -> 5.  Ties: C01 and
 * C11 share recency 0 (both p = 10); F = 1 for C03, C08, C10, C11 (p = 0),
 * F = 2 for C06, C09 (p = 4), F = 5 for C02, C07 (p = 8).
 *
 * Revenue 2940; per segment Champions 600, Loyal 500, New 40, Promising 20,
 * Need attention 450, About to sleep 80, At risk 450, Cannot lose them 700,
 * Hibernating 90, Lost 10, Potential loyalist 0.  Pareto: ceil(0.2 x 12) =
 * 3 customers, C12 + C01 + C02 = 1800, share 1800 / 2940 = 0.6122449.
 * Loyal list: C01, C02.
 *
 * CRR over 2024-05-31 00:00 .. 2024-06-30 23:59:59 with W = 60 days (d =
 * days before now of a purchase):
 *   S, active at A (a purchase in [A - 60 d, A), i.e. 30 < d <= 90):
 *     C01 (40), C02 (31), C04 (40), C05 (40), C06 (40), C07 (60), C08 (90)
 *     = 7;
 *   E, active at B (a purchase in (B - 60 d, B], i.e. d <= 59):
 *     C01, C02, C03, C04, C05, C06, C11 = 7;
 *   N, first purchase in [A, B] (d <= 30): C03, C11 = 2;
 *   CRR = (7 - 2) / 7 x 100 = 71.428571...
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/segment.h"

#define NOW 1719705600LL /* 2024-06-30 00:00:00 UTC */

static xs_dataset *load(const char *path)
{
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_events(path, NULL, &err);
    CHECK_MSG(ds != NULL, "load %s: %s", path, err.msg);
    return ds;
}

static const char *fixture(void)
{
    static char path[4096];
    const char *dir = getenv("XS_TEST_DATA");
    snprintf(path, sizeof path, "%s/segment/events.csv", dir ? dir : "data");
    return path;
}

static void test_grid(void)
{
    /* Every cell of the 5 x 5 grid has exactly one segment, and each
     * segment's cells are those of the documented map. */
    static const char *const want[5][5] = {
        {"Lost", "Hibernating", "At risk", "At risk", "Cannot lose them"},
        {"Hibernating", "Hibernating", "At risk", "At risk",
         "Cannot lose them"},
        {"About to sleep", "About to sleep", "Need attention", "Loyal",
         "Loyal"},
        {"Promising", "Potential loyalist", "Potential loyalist", "Loyal",
         "Loyal"},
        {"New", "Potential loyalist", "Potential loyalist", "Champions",
         "Champions"}};
    int seen[XS_SEG_COUNT] = {0};
    for (int r = 1; r <= 5; r++)
        for (int f = 1; f <= 5; f++) {
            int s = xs_segment_of(r, f, 5);
            CHECK_STR(xs_segment_name(s), want[r - 1][f - 1]);
            if (s >= 0 && s < XS_SEG_COUNT)
                seen[s]++;
        }
    for (int s = 0; s < XS_SEG_COUNT; s++)
        CHECK_MSG(seen[s] > 0, "segment %s has no cell", xs_segment_name(s));
    CHECK_EQ(xs_segment_of(0, 1, 5), -1);
    CHECK_EQ(xs_segment_of(6, 1, 5), -1);
    CHECK_EQ(xs_segment_of(1, 1, 1), -1);
    CHECK(xs_segment_name(XS_SEG_COUNT) == NULL);
    /* Other bins map through their bin centres: with 3 bins 1 -> 1, 2 -> 3,
     * 3 -> 5; with 10 bins 1, 2 -> 1 and 9, 10 -> 5. */
    CHECK_STR(xs_segment_name(xs_segment_of(3, 3, 3)), "Champions");
    CHECK_STR(xs_segment_name(xs_segment_of(1, 1, 3)), "Lost");
    CHECK_STR(xs_segment_name(xs_segment_of(2, 2, 3)), "Need attention");
    CHECK_STR(xs_segment_name(xs_segment_of(10, 9, 10)), "Champions");
    CHECK_STR(xs_segment_name(xs_segment_of(2, 1, 10)), "Lost");
    /* With 2 bins 1 -> 2 and 2 -> 4. */
    CHECK_STR(xs_segment_name(xs_segment_of(1, 2, 2)), "At risk");
    CHECK_STR(xs_segment_name(xs_segment_of(2, 2, 2)), "Loyal");
    CHECK_EQ(xs_segment_of(1, 10, 2), -1);
}

static void test_store(void)
{
    static const struct {
        const char *name;
        long recency, f, m;
        int r_s, f_s, m_s;
        const char *segment;
    } want[12] = {
        {"C01", 0, 6, 600, 5, 5, 5, "Champions"},
        {"C02", 1, 5, 500, 4, 4, 4, "Loyal"},
        {"C03", 2, 1, 20, 4, 1, 1, "Promising"},
        {"C04", 10, 4, 300, 3, 3, 3, "Need attention"},
        {"C05", 20, 3, 150, 3, 3, 3, "Need attention"},
        {"C06", 40, 2, 80, 3, 2, 3, "About to sleep"},
        {"C07", 60, 5, 450, 2, 4, 4, "At risk"},
        {"C08", 90, 1, 30, 2, 1, 1, "Hibernating"},
        {"C09", 120, 2, 60, 1, 2, 2, "Hibernating"},
        {"C10", 200, 1, 10, 1, 1, 1, "Lost"},
        {"C11", 0, 1, 40, 5, 1, 2, "New"},
        {"C12", 150, 7, 700, 1, 5, 5, "Cannot lose them"},
    };
    xs_dataset *ds = load(fixture());
    if (!ds)
        return;
    xs_segment_config cfg = {.bins = 5, .has_period = 1,
                             .period_from = NOW - 30 * 86400LL,
                             .period_to = NOW + 86399, .active_days = 60};
    xs_segmentation *s = NULL;
    xs_error err = {0};
    if (!CHECK_MSG(xs_segment_compute(ds, NULL, &cfg, &s, &err) == XS_OK,
                   "compute: %s", err.msg)) {
        xs_dataset_free(ds);
        return;
    }
    CHECK_EQ(s->now, NOW);
    if (CHECK_EQU(s->n, 12))
        for (int i = 0; i < 12; i++) {
            const xs_segment_row *r = &s->rows[i];
            CHECK_STR(xs_dict_name(ds->customers, r->customer), want[i].name);
            CHECK_EQ(r->recency_days, want[i].recency);
            CHECK_EQ(r->frequency, want[i].f);
            CHECK_NEAR(r->monetary, (double)want[i].m, 1e-9);
            CHECK_EQ(r->r, want[i].r_s);
            CHECK_EQ(r->f, want[i].f_s);
            CHECK_EQ(r->m, want[i].m_s);
            CHECK_STR(xs_segment_name(r->segment), want[i].segment);
        }
    static const size_t count[XS_SEG_COUNT] = {1, 1, 0, 1, 1, 2, 1, 1, 1, 2,
                                               1};
    static const double revenue[XS_SEG_COUNT] = {600, 500, 0,  40, 20, 450,
                                                 80,  450, 700, 90, 10};
    for (int i = 0; i < XS_SEG_COUNT; i++) {
        CHECK_EQU(s->count[i], count[i]);
        CHECK_NEAR(s->revenue[i], revenue[i], 1e-9);
    }
    CHECK_NEAR(s->total_revenue, 2940, 1e-9);
    CHECK_EQU(s->top_n, 3);
    CHECK_NEAR(s->top_share, 1800.0 / 2940.0, 1e-12);
    CHECK_STR(xs_dict_name(ds->customers, s->rows[s->by_value[0]].customer),
              "C12");
    CHECK(s->has_crr);
    CHECK_EQU(s->crr_start, 7);
    CHECK_EQU(s->crr_end, 7);
    CHECK_EQU(s->crr_new, 2);
    CHECK_NEAR(s->crr, 500.0 / 7.0, 1e-9);

    /* The report: three charts, no script, nothing fetched. */
    char *html = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&html, &len);
    if (CHECK(f != NULL)) {
        CHECK_EQ(xs_segment_write_html(s, ds->customers, NULL, f, &err),
                 XS_OK);
        fclose(f);
        int svgs = 0;
        for (const char *p = html; (p = strstr(p, "<svg")); p++)
            svgs++;
        CHECK_EQ(svgs, 3);
        CHECK(strstr(html, "<script") == NULL);
        CHECK(strstr(html, "http:") == NULL && strstr(html, "https:") == NULL);
        /* the second wall: a policy that allows no script at all */
        CHECK_HAS(html, "Content-Security-Policy");
        CHECK_HAS(html, "default-src 'none'");
        CHECK_HAS(html, "71.4%");
        CHECK_HAS(html, "61.2%");
        free(html);
    }
    xs_segmentation_free(s);

    /* --no-monetary: same R, F and segments; no M, revenue or Pareto. */
    xs_segment_config nm = {.no_monetary = 1};
    if (CHECK(xs_segment_compute(ds, NULL, &nm, &s, &err) == XS_OK)) {
        CHECK_EQ(s->bins, 5);
        CHECK_EQ(s->monetary, 0);
        for (size_t i = 0; i < s->n && i < 12; i++) {
            CHECK_STR(xs_segment_name(s->rows[i].segment), want[i].segment);
            CHECK_EQ(s->rows[i].m, 0);
            CHECK(isnan(s->rows[i].monetary));
        }
        CHECK(isnan(s->top_share));
        CHECK(!s->has_crr);
        xs_segmentation_free(s);
    }

    /* now = 2024-06-10 00:00: events after it are ignored.  C03 (d = 2)
     * and C11 (d = 0) have none left and drop out; C01's last purchase is
     * 2024-06-10 (recency 0, F 4, M 40). */
    xs_segment_config early = {.has_now = 1, .now = NOW - 20 * 86400LL};
    if (CHECK(xs_segment_compute(ds, NULL, &early, &s, &err) == XS_OK)) {
        CHECK_EQU(s->n, 10);
        CHECK_STR(xs_dict_name(ds->customers, s->rows[0].customer), "C01");
        CHECK_EQ(s->rows[0].recency_days, 0);
        CHECK_EQ(s->rows[0].frequency, 4);
        CHECK_NEAR(s->rows[0].monetary, 40, 1e-9);
        CHECK_STR(xs_dict_name(ds->customers, s->rows[2].customer), "C04");
        xs_segmentation_free(s);
    }
    xs_dataset_free(ds);
}

/* Frequency counts orders, or purchase days without an order column; the
 * catalog prices events without a price. */
static void test_frequency_and_catalog(void)
{
    const char *with_orders = xt_write_str(
        "orders.csv", "customer,item,timestamp,order,weight\n"
                      "X,A,2024-01-01 09:00,O1,1\n"
                      "X,B,2024-01-01 09:00,O1,3\n"
                      "X,A,2024-01-01 17:00,O2,1\n"
                      "X,A,2024-01-05,O3,1\n"
                      "Y,B,2024-01-05,O4,2\n");
    const char *no_orders = xt_write_str(
        "days.csv", "customer,item,timestamp,weight\n"
                    "X,A,2024-01-01 09:00,1\n"
                    "X,B,2024-01-01 09:00,3\n"
                    "X,A,2024-01-01 17:00,1\n"
                    "X,A,2024-01-05,1\n"
                    "Y,B,2024-01-05,2\n");
    const char *catalog = xt_write_str("catalog.csv", "item,category,price\n"
                                                      "A,c,1.5\nB,c,4\n");
    xs_error err = {0};
    xs_dataset *a = load(with_orders), *b = load(no_orders);
    if (!a || !b)
        goto out;
    xs_catalog *cat = xs_catalog_load(catalog, a->items, &err);
    xs_catalog *cat_b = xs_catalog_load(catalog, b->items, &err);
    if (!CHECK(cat && cat_b)) {
        xs_catalog_free(cat);
        xs_catalog_free(cat_b);
        goto out;
    }
    xs_segment_config cfg = {0};
    xs_segmentation *s;
    if (CHECK(xs_segment_compute(a, cat, &cfg, &s, &err) == XS_OK)) {
        /* X: orders O1, O2, O3 = 3; money 1.5 + 3 x 4 + 1.5 + 1.5 = 16.5. */
        CHECK_EQ(s->rows[0].frequency, 3);
        CHECK_NEAR(s->rows[0].monetary, 16.5, 1e-12);
        CHECK_EQ(s->rows[0].recency_days, 0);
        CHECK_EQ(s->rows[1].frequency, 1);
        CHECK_NEAR(s->rows[1].monetary, 8, 1e-12);
        xs_segmentation_free(s);
    }
    if (CHECK(xs_segment_compute(b, cat_b, &cfg, &s, &err) == XS_OK)) {
        /* X: days 2024-01-01 and 2024-01-05 = 2. */
        CHECK_EQ(s->rows[0].frequency, 2);
        CHECK_NEAR(s->rows[0].monetary, 16.5, 1e-12);
        xs_segmentation_free(s);
    }
    /* An item the catalog does not price. */
    const char *partial = xt_write_str("partial.csv",
                                       "item,category,price\nA,c,1.5\n");
    xs_catalog *cp = xs_catalog_load(partial, b->items, &err);
    if (CHECK(cp != NULL)) {
        CHECK_EQ(xs_segment_compute(b, cp, &cfg, &s, &err), XS_ERR_DATA);
        CHECK(s == NULL);
        CHECK_HAS(err.msg, "item 'B' has no price");
        xs_catalog_free(cp);
    }
    xs_catalog_free(cat);
    xs_catalog_free(cat_b);
out:
    xs_dataset_free(a);
    xs_dataset_free(b);
}

static void test_errors(void)
{
    xs_error err = {0};
    xs_segmentation *s = NULL;
    xs_segment_config cfg = {0};
    const char *no_ts = xt_write_str("no_ts.csv", "customer,item,price\n"
                                                  "X,A,1\n");
    xs_dataset *ds = load(no_ts);
    if (ds) {
        cfg.timestamp_column = "date";
        CHECK_EQ(xs_segment_compute(ds, NULL, &cfg, &s, &err), XS_ERR_DATA);
        CHECK_HAS(err.msg, "no 'date' column");
        cfg.timestamp_column = NULL;
        xs_dataset_free(ds);
    }
    const char *no_price = xt_write_str("no_price.csv",
                                        "customer,item,timestamp\n"
                                        "X,A,2024-01-01\n");
    ds = load(no_price);
    if (ds) {
        CHECK_EQ(xs_segment_compute(ds, NULL, &cfg, &s, &err), XS_ERR_DATA);
        CHECK_HAS(err.msg, "no 'price' column");
        CHECK_HAS(err.msg, "--no-monetary");
        cfg.no_monetary = 1;
        CHECK_EQ(xs_segment_compute(ds, NULL, &cfg, &s, &err), XS_OK);
        xs_segmentation_free(s);
        xs_dataset_free(ds);
    }
    ds = load(fixture());
    if (ds) {
        xs_segment_config bad = {.bins = 11};
        CHECK_EQ(xs_segment_compute(ds, NULL, &bad, &s, &err), XS_ERR_USAGE);
        bad = (xs_segment_config){.bins = 1};
        CHECK_EQ(xs_segment_compute(ds, NULL, &bad, &s, &err), XS_ERR_USAGE);
        /* now before the first event (2023-12-13, C12's first order). */
        bad = (xs_segment_config){.has_now = 1, .now = NOW - 400 * 86400LL};
        CHECK_EQ(xs_segment_compute(ds, NULL, &bad, &s, &err), XS_ERR_USAGE);
        CHECK_HAS(err.msg, "before the first event");
        /* A period reaching past the data, before it, or reversed. */
        bad = (xs_segment_config){.has_period = 1, .period_from = NOW,
                                  .period_to = NOW + 2 * 86400LL};
        CHECK_EQ(xs_segment_compute(ds, NULL, &bad, &s, &err), XS_ERR_USAGE);
        CHECK_HAS(err.msg, "outside the data");
        bad.period_from = NOW - 300 * 86400LL;
        bad.period_to = NOW;
        CHECK_EQ(xs_segment_compute(ds, NULL, &bad, &s, &err), XS_ERR_USAGE);
        bad.period_from = NOW;
        bad.period_to = NOW - 86400;
        CHECK_EQ(xs_segment_compute(ds, NULL, &bad, &s, &err), XS_ERR_USAGE);
        CHECK(s == NULL);
        xs_dataset_free(ds);
    }
}

int main(void)
{
    test_grid();
    test_store();
    test_frequency_and_catalog();
    test_errors();
    return xt_done();
}
