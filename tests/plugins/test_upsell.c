/*
 * test_upsell.c -- the upsell plugin through the engine API, on
 * tests/data/plugins/upsell_{catalog,events,baskets}.csv, answers worked
 * out by hand, and a property check over a generated store.
 *
 * The fixture.  Catalog (price, margin 0.4 unless said):
 *   shoes: S1 50, S2 40, S3 60, S4 80, S5 100, S6 130, S7 52
 *   bags: B1 70 (0.5); watches: W1 100 (0.2), WA 150 (0.1), WB 150 (0.5)
 * Events (customer: orders):
 *   c1: {S1} {S3}   c2: {S1} {S3}        -- S3 bought instead of S1
 *   c3: {S1,S4}     c4: {S1,S4}          -- S4 bought with S1
 *   c5: {S5}        c6: {B1,S2}
 *   c7: {W1} {WA} {WB}   c8: {W1} {WA} {WB}
 * Ids by first appearance: S1 0, S3 1, S4 2, S5 3, B1 4, S2 5, W1 6, WA 7,
 * WB 8 (then the catalog-only S6, S7).
 * Customer supports: S1 4, S3 2, S4 2, S5 1, S2 1, W1 2, WA 2, WB 2.
 *
 * Viewing S1 (50): band [52.5, 125] -> S3, S4, S5 (S7 52 and S6 130 are
 * outside, S2 is cheaper, B1 another category).
 *   subst(S1,S3) = jaccard 2/(4+2-2) = 0.5, never in a basket with S1: 0.5
 *   subst(S1,S4) = 0.5 * (1 - 2/2) = 0       (always in the same basket)
 *   subst(S1,S5) = 0                          (no common customer)
 *   pop (largest support in shoes is S1's 4): S3 .5, S4 .5, S5 .25
 *   uplift with equal margins = price ratio: 1.2, 1.6, 2.0
 *   score: S3 (0.5 + .01*.5)*1.2 = 0.606, S4 .005*1.6 = 0.008,
 *          S5 .0025*2 = 0.005
 * Viewing W1 (100, margin 0.2): WA and WB both subst 1 (jaccard 2/2, never
 * in a basket with W1), pop 1: 1.01 each before uplift; uplift WA
 * 150*.1/(100*.2) = 0.75, WB 150*.5/20 = 3.75: WB 3.7875 before WA 0.7575.
 * With margin_weight=0 they tie and the lower id (WA) comes first.
 *
 * What is checked: band and category (never cheaper, never another
 * category, bands from the options), ranking by substitutability, the
 * margin uplift breaking a similarity tie, several viewed items summed, the
 * history fallback for a customer-only request, data without customers
 * (prior only, a warning), refusing without a catalog, refusing unknown and
 * bad options, explain, the catalog hook (a new item, a changed category, a
 * changed price).  test_upsell_exact.c checks the answers on generated
 * stores against every band scanned.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

/* The fixture engine with upsell created from opts. */
static xs_engine *fixture_engine(const char *const *opts)
{
    return xtp_engine_with(xtp_data("plugins/upsell_events.csv"),
                           xtp_data("plugins/upsell_catalog.csv"), "upsell", opts);
}

typedef struct want {
    const char *item;
    double score;
} want;

static int close_to(double got, double w)
{
    return fabs(got - w) <= 1e-12 * (fabs(w) > 1 ? fabs(w) : 1);
}

/* Asks upsell for the items (comma separated names, "" for none) of
 * customer (name or NULL); expects exactly w[0..n_w) in order. */
static const xs_rec *expect(const char *label, xs_engine *e, xs_context *ctx,
                            const char *items, const char *customer,
                            uint32_t k, const want *w, size_t n_w,
                            size_t *n_out)
{
    uint32_t ids[16];
    uint32_t n_ids = xtp_items(e, items, ids, 16);
    uint32_t cust = XS_NONE;
    if (customer) {
        const xs_dict *cd = xs_engine_dataset(e)->customers;
        cust = xs_dict_find(cd, customer, strlen(customer));
        CHECK_MSG(cust != XS_NONE, "%s: no customer '%s'", label, customer);
    }
    xs_request req = {ids, n_ids, cust, k, 1, XS_NONE};
    const xs_rec *recs = NULL;
    size_t n = 0;
    xs_error err = {0};
    int rc = xs_engine_recommend(e, ctx, "upsell", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_OK, "%s: %s", label, err.msg);
    *n_out = n;
    int ok = n == n_w;
    for (size_t i = 0; ok && i < n; i++)
        ok = !strcmp(xs_engine_item_name(e, recs[i].item), w[i].item) &&
             close_to(recs[i].score, w[i].score);
    if (!ok) {
        CHECK_MSG(0, "%s: {%s} k=%u gave:", label, items, (unsigned)k);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "   got  %-4s %.17g\n",
                    xs_engine_item_name(e, recs[i].item), recs[i].score);
        for (size_t i = 0; i < n_w; i++)
            fprintf(stderr, "   want %-4s %.17g\n", w[i].item, w[i].score);
    }
    return recs;
}

#define EXPECT(label, e, ctx, items, cust, k, n_out, ...)                      \
    expect(label, e, ctx, items, cust, k, (const want[]){__VA_ARGS__},         \
           sizeof((const want[]){__VA_ARGS__}) / sizeof(want), n_out)
#define EXPECT_NONE(label, e, ctx, items, cust, k, n_out)                      \
    expect(label, e, ctx, items, cust, k, NULL, 0, n_out)

static void expect_explain(const char *label, const xs_rec *r,
                           const char *from, const char *category,
                           double delta, double ratio, double sim,
                           double uplift)
{
    const xs_evidence_field *f = xtp_field(r, "from"), *c = xtp_field(r, "category"),
                            *d = xtp_field(r, "price_delta"),
                            *q = xtp_field(r, "price_ratio"),
                            *s = xtp_field(r, "similarity"),
                            *u = xtp_field(r, "margin_uplift");
    CHECK_MSG(f && f->text && !strcmp(f->text, from), "%s: from '%s', want "
              "'%s'", label, f && f->text ? f->text : "(none)", from);
    CHECK_MSG(c && c->text && !strcmp(c->text, category), "%s: category "
              "'%s', want '%s'", label, c && c->text ? c->text : "(none)",
              category);
    CHECK_MSG(d && close_to(d->value, delta), "%s: price_delta %.17g, want "
              "%.17g", label, d ? d->value : NAN, delta);
    CHECK_MSG(q && close_to(q->value, ratio), "%s: price_ratio %.17g, want "
              "%.17g", label, q ? q->value : NAN, ratio);
    CHECK_MSG(s && close_to(s->value, sim), "%s: similarity %.17g, want "
              "%.17g", label, s ? s->value : NAN, sim);
    CHECK_MSG(u && close_to(u->value, uplift), "%s: margin_uplift %.17g, "
              "want %.17g", label, u ? u->value : NAN, uplift);
}

/* The fixture's scores for viewing S1 with the default options. */
#define S3_FROM_S1 ((0.5 + 0.01 * 0.5) * (60 * 0.4) / (50 * 0.4))
#define S4_FROM_S1 ((0 + 0.01 * 0.5) * (80 * 0.4) / (50 * 0.4))
#define S5_FROM_S1 ((0 + 0.01 * 0.25) * (100 * 0.4) / (50 * 0.4))

static void test_band_and_ranking(void)
{
    size_t n;
    const xs_rec *r;
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    /* S3 (other baskets) outranks the pricier S4 (same baskets) */
    r = EXPECT("{S1}", e, ctx, "S1", NULL, 10, &n, {"S3", S3_FROM_S1},
               {"S4", S4_FROM_S1}, {"S5", S5_FROM_S1});
    if (n == 3) {
        expect_explain("{S1} S3", &r[0], "S1", "shoes", 10, 1.2, 0.5, 1.2);
        expect_explain("{S1} S4", &r[1], "S1", "shoes", 30, 1.6, 0, 1.6);
        expect_explain("{S1} S5", &r[2], "S1", "shoes", 50, 2.0, 0, 2.0);
    }
    EXPECT("{S1} k=1", e, ctx, "S1", NULL, 1, &n, {"S3", S3_FROM_S1});
    /* the margin uplift: WB's margin puts it first */
    r = EXPECT("{W1}", e, ctx, "W1", NULL, 10, &n,
               {"WB", 1.01 * (150 * 0.5) / (100 * 0.2)},
               {"WA", 1.01 * (150 * 0.1) / (100 * 0.2)});
    if (n == 2)
        expect_explain("{W1} WB", &r[0], "W1", "watches", 50, 1.5, 1,
                       (150 * 0.5) / (100 * 0.2));
    /* the cheapest item of a category: S2 (40) -> [42, 100]: S7 52, S1 50,
     * S3 60, S4 80, S5 100 (inclusive).  subst(S2, x) = 0 (c6 bought
     * nothing else of shoes), so prior * pop * uplift: S1 .01*1*1.25,
     * S3 .01*.5*1.5, S4 .01*.5*2, S5 .01*.25*2.5, S7 0 */
    EXPECT("{S2}", e, ctx, "S2", NULL, 10, &n, {"S1", 0.01 * 1 * 1.25},
           {"S4", 0.01 * 0.5 * 2}, {"S3", 0.01 * 0.5 * 1.5},
           {"S5", 0.01 * 0.25 * 2.5}, {"S7", 0});
    /* the priciest: nothing above S6 (130) */
    EXPECT_NONE("{S6}", e, ctx, "S6", NULL, 10, &n);
    /* bags has one item: nothing */
    EXPECT_NONE("{B1}", e, ctx, "B1", NULL, 10, &n);
    /* two viewed items of other categories: both bands */
    EXPECT("{S1,W1}", e, ctx, "S1,W1", NULL, 10, &n,
           {"WB", 1.01 * 3.75}, {"WA", 1.01 * 0.75}, {"S3", S3_FROM_S1},
           {"S4", S4_FROM_S1}, {"S5", S5_FROM_S1});
    /* two of the same category: contributions summed.  S3 (60) -> [63,
     * 150]: S4, S5, S6, all subst 0 (no customer in common with S3):
     * S4 .005*80/60, S5 .0025*100/60, S6 0; S3 itself is a request item */
    r = EXPECT("{S1,S3}", e, ctx, "S1,S3", NULL, 10, &n,
               {"S4", S4_FROM_S1 + 0.005 * (80 * 0.4) / (60 * 0.4)},
               {"S5", S5_FROM_S1 + 0.0025 * (100 * 0.4) / (60 * 0.4)},
               {"S6", 0});
    if (n == 3) { /* S1's contribution (.008) beats S3's (.00667) */
        expect_explain("{S1,S3} S4", &r[0], "S1", "shoes", 30, 1.6, 0, 1.6);
        expect_explain("{S1,S3} S6", &r[2], "S3", "shoes", 70, 130.0 / 60, 0,
                       130.0 / 60);
    }
out:
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_options(void)
{
    size_t n;
    struct {
        const char *opts[4];
        const char *label;
    } cases[] = {
        {{"min_ratio=1.5", "max_ratio=2", NULL}, "band [75, 100]"},
        {{"min_ratio=0.5", "max_ratio=1.1", NULL}, "band [25, 55]"},
        {{"margin_weight=0", "prior=0", NULL}, "similarity only"},
        {{"margin_weight=0", NULL}, "no margins"},
        {{"margin_weight=2", NULL}, "margin squared"},
        {{"similarity=count", NULL}, "count"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xs_engine *e = fixture_engine(cases[i].opts);
        xs_context *ctx = e ? xs_context_new(e) : NULL;
        if (!ctx) {
            xs_engine_free(e);
            continue;
        }
        const char *l = cases[i].label;
        switch (i) {
        case 0:
            EXPECT(l, e, ctx, "S1", NULL, 10, &n, {"S4", S4_FROM_S1},
                   {"S5", S5_FROM_S1});
            break;
        case 1: /* asked for: cheaper ones too, S1 itself never */
            EXPECT(l, e, ctx, "S1", NULL, 10, &n,
                   {"S2", 0.01 * 0.25 * 40 / 50}, {"S7", 0});
            break;
        case 2: /* S4 and S5 tie at 0: lower id (S4) first */
            EXPECT(l, e, ctx, "S1", NULL, 10, &n, {"S3", 0.5}, {"S4", 0},
                   {"S5", 0});
            EXPECT(l, e, ctx, "W1", NULL, 10, &n, {"WA", 1}, {"WB", 1});
            break;
        case 3: /* the tie WA/WB is broken by id without margins */
            EXPECT(l, e, ctx, "W1", NULL, 10, &n, {"WA", 1.01}, {"WB", 1.01});
            EXPECT(l, e, ctx, "S1", NULL, 10, &n, {"S3", 0.505},
                   {"S4", 0.005}, {"S5", 0.0025});
            break;
        case 4:
            EXPECT(l, e, ctx, "W1", NULL, 10, &n, {"WB", 1.01 * 3.75 * 3.75},
                   {"WA", 1.01 * 0.75 * 0.75});
            break;
        case 5: /* count: n_ac times the basket factor */
            EXPECT(l, e, ctx, "S1", NULL, 10, &n,
                   {"S3", (2 + 0.005) * 1.2}, {"S4", S4_FROM_S1},
                   {"S5", S5_FROM_S1});
            break;
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
}

static void test_refusals(void)
{
    static const struct {
        const char *opt;
        const char *msg;
    } bad[] = {
        {"foo=1", "plugin upsell: unknown option 'foo' (min_ratio, max_ratio, "
                  "similarity, prior, margin_weight, history, max_neighbours, "
                  "refresh)"},
        {"max_neighbours=-1", "plugin upsell: max_neighbours: want an "
                              "integer"},
        {"refresh=-0.5", "plugin upsell: refresh: want a number"},
        {"min_ratio=x", "plugin upsell: min_ratio: want a number > 0, not 'x'"},
        {"min_ratio=0", "plugin upsell: min_ratio: want a number > 0, not '0'"},
        {"max_ratio=-2", "plugin upsell: max_ratio: want a number > 0, not '-2'"},
        {"max_ratio=", "plugin upsell: max_ratio: want a number > 0, not ''"},
        {"min_ratio=3", "plugin upsell: min_ratio (3) must not exceed max_ratio "
                        "(2.5)"},
        {"similarity=magic", "plugin upsell: similarity: want count, confidence, "
                             "lift, jaccard, cosine or llr, not 'magic'"},
        {"prior=-0.5", "plugin upsell: prior: want a number >= 0, not '-0.5'"},
        {"prior=nan", "plugin upsell: prior: want a number >= 0, not 'nan'"},
        {"margin_weight=-1", "plugin upsell: margin_weight: want a number in [0, "
                             "100], not '-1'"},
        {"history=2.5", "plugin upsell: history: want an integer in 0..100, not "
                        "'2.5'"},
        {"history=101", "plugin upsell: history: want an integer in 0..100, not "
                        "'101'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xs_engine *e = xtp_engine(xtp_data("plugins/upsell_events.csv"),
                                 xtp_data("plugins/upsell_catalog.csv"));
        if (!e)
            continue;
        xs_error err = {0};
        int rc = xtp_add(e, "upsell", (const char *const[]){bad[i].opt, NULL}, &err);
        CHECK_MSG(rc == XS_ERR_PLUGIN, "%s: rc %d, want XS_ERR_PLUGIN",
                  bad[i].opt, rc);
        CHECK_HAS(err.msg, bad[i].msg);
        CHECK_EQU(xs_engine_plugin_count(e), 0);
        xs_engine_free(e);
    }
    /* no catalog */
    xs_engine *e = xtp_engine(xtp_data("plugins/upsell_events.csv"), NULL);
    if (e) {
        xs_error err = {0};
        CHECK_EQ(xtp_add(e, "upsell", NULL, &err), XS_ERR_PLUGIN);
        CHECK_HAS(err.msg, "plugin upsell: needs a catalog (--catalog FILE): "
                           "it compares categories and prices");
        xs_engine_free(e);
    }
}

static void test_history(void)
{
    size_t n;
    const xs_rec *r;
    /* c1 bought S1 (t 1000) then S3 (t 2000): viewed S3, S1.  Owned S1 and
     * S3 are dropped by the engine's rule.  S3 (60) adds, with subst 0:
     * S4 .005*80/60, S5 .0025*100/60, S6 0 */
    const double s4 = S4_FROM_S1 + 0.005 * 80 / 60;
    const double s5 = S5_FROM_S1 + 0.0025 * 100 / 60;
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        r = EXPECT("c1", e, ctx, "", "c1", 10, &n, {"S4", s4}, {"S5", s5},
                   {"S6", 0});
        if (n == 3)
            expect_explain("c1 S4", &r[0], "S1", "shoes", 30, 1.6, 0, 1.6);
        /* items in the request win over the history */
        EXPECT("c1 {W1}", e, ctx, "W1", "c1", 10, &n, {"WB", 1.01 * 3.75},
               {"WA", 1.01 * 0.75});
        /* keeping owned items: S3 comes back, from S1 */
        xs_error err = {0};
        if (CHECK_MSG(xs_engine_set_rule(e, "exclude_owned", "false", &err) ==
                          XS_OK,
                      "set_rule: %s", err.msg)) {
            EXPECT("c1 owned kept", e, ctx, "", "c1", 10, &n,
                   {"S3", S3_FROM_S1}, {"S4", s4}, {"S5", s5}, {"S6", 0});
        }
        /* c5 bought S5 (100): [105, 250] holds S6 alone, never sold */
        EXPECT("c5", e, ctx, "", "c5", 10, &n, {"S6", 0});
    }
    xs_context_free(ctx);
    xs_engine_free(e);

    /* history=1: only the most recent (S3) */
    e = fixture_engine((const char *const[]){"history=1", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT("c1 history=1", e, ctx, "", "c1", 10, &n,
               {"S4", 0.005 * 80 / 60}, {"S5", 0.0025 * 100 / 60}, {"S6", 0});
    xs_context_free(ctx);
    xs_engine_free(e);

    e = fixture_engine((const char *const[]){"history=0", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT_NONE("c1 history=0", e, ctx, "", "c1", 10, &n);
    xs_context_free(ctx);
    xs_engine_free(e);
}

/* Baskets without customers: subst is 0, the prior ranks.  Basket
 * supports: S1 2, S3 2, S4 1, S5 1 -> pop S3 1, S4 .5, S5 .5. */
static void test_no_customers(void)
{
    size_t n;
    xs_engine *e = xtp_engine(xtp_data("plugins/upsell_baskets.csv"),
                             xtp_data("plugins/upsell_catalog.csv"));
    if (!e)
        return;
    xs_error err = {0};
    if (CHECK_MSG(xtp_add(e, "upsell", NULL, &err) == XS_OK, "add: %s", err.msg)) {
        CHECK_MSG(xtp_logged("upsell: the data has no customers"),
                  "no warning about customers logged");
        xs_context *ctx = xs_context_new(e);
        if (ctx)
            EXPECT("baskets {S1}", e, ctx, "S1", NULL, 10, &n,
                   {"S3", 0.01 * 1 * 1.2}, {"S5", 0.01 * 0.5 * 2},
                   {"S4", 0.01 * 0.5 * 1.6});
        xs_context_free(ctx);
    }
    xs_engine_free(e);
}

static void test_catalog_hook(void)
{
    size_t n, added = 0;
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    /* a new shoe at 90, never sold: in S1's band, score 0 */
    xs_catalog_item s8 = xtp_catalog_item("S8", "shoes", 90, 0.4);
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_catalog_upsert(e, &s8, 1, &added, &err) ==
                       XS_OK,
                   "upsert: %s", err.msg))
        goto out;
    CHECK_EQU(added, 1);
    EXPECT("{S1} + S8", e, ctx, "S1", NULL, 10, &n, {"S3", S3_FROM_S1},
           {"S4", S4_FROM_S1}, {"S5", S5_FROM_S1}, {"S8", 0});
    /* S3 moves to bags, S5 to 200: both leave S1's band; a new category
     * appears with two items */
    xs_catalog_item batch[] = {xtp_catalog_item("S3", "bags", 60, 0.4),
                               xtp_catalog_item("S5", "shoes", 200, 0.4),
                               xtp_catalog_item("H1", "hats", 20, 0.5),
                               xtp_catalog_item("H2", "hats", 30, 0.5)};
    if (!CHECK_MSG(xs_engine_catalog_upsert(e, batch, 4, &added, &err) ==
                       XS_OK,
                   "upsert: %s", err.msg))
        goto out;
    CHECK_EQU(added, 2);
    EXPECT("{S1} after moves", e, ctx, "S1", NULL, 10, &n,
           {"S4", S4_FROM_S1}, {"S8", 0});
    /* S3 is now bags' (B1 70 in [63, 150]); B1 subst with S3 0 (c6 only),
     * pop 1/2 (S3's 2 is now the largest in bags), uplift 70*.5/(60*.4) */
    EXPECT("{S3} in bags", e, ctx, "S3", NULL, 10, &n,
           {"B1", 0.01 * 0.5 * (70 * 0.5) / (60 * 0.4)});
    EXPECT("{H1}", e, ctx, "H1", NULL, 10, &n, {"H2", 0});
out:
    xs_context_free(ctx);
    xs_engine_free(e);
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    test_band_and_ranking();
    test_options();
    test_refusals();
    test_history();
    test_no_customers();
    test_catalog_hook();
    return xt_done();
}
