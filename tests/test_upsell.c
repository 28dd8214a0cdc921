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
 * changed price), and on a generated store of 2,000 items that every
 * answer for every item is exactly the in-stock items of its band, and
 * that threads asking at once get the answers of a lone caller.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xsell/gen.h"
#include "xsell/xsell.h"

#include "test_util.h"

static char data_dir[2048], plugin_dir[2048];

/* Log lines the engine's plugins wrote (the last few). */
static char log_lines[8][512];
static int n_log;

static void capture_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level >= XS_LOG_WARN && n_log < 8)
        snprintf(log_lines[n_log++], sizeof log_lines[0], "%s", msg);
}

static int logged(const char *needle)
{
    for (int i = 0; i < n_log; i++)
        if (strstr(log_lines[i], needle))
            return 1;
    return 0;
}

static const char *fixture(const char *name)
{
    static char path[4][2600];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/plugins/%s", data_dir, name);
    return p;
}

/* An engine on events (or baskets, when the name says so) and catalog
 * (NULL: none), without plugins; NULL with a failed check on error. */
static xs_engine *engine_on(const char *events, const char *catalog)
{
    xs_error err = {0};
    xs_dataset *ds = strstr(events, "baskets")
                         ? xs_dataset_load_baskets(events, &err)
                         : xs_dataset_load_events(events, NULL, &err);
    if (!ds) {
        CHECK_MSG(0, "load %s: %s", events, err.msg);
        return NULL;
    }
    xs_catalog *cat = NULL;
    if (catalog && !(cat = xs_catalog_load(catalog, ds->items, &err))) {
        CHECK_MSG(0, "load %s: %s", catalog, err.msg);
        xs_dataset_free(ds);
        return NULL;
    }
    xs_engine_config cfg = {.plugin_dir = plugin_dir,
                            .scope = -1,
                            .threads = 1,
                            .log = capture_log};
    n_log = 0;
    xs_engine *e = xs_engine_new(ds, cat, &cfg, &err);
    CHECK_MSG(e != NULL, "engine: %s", err.msg);
    return e;
}

/* Adds upsell with "key=value" options (NULL terminated); returns the
 * status, the message in err. */
static int add_upsell(xs_engine *e, const char *const *opts, xs_error *err)
{
    xs_option o[8];
    char buf[8][64];
    size_t n = 0;
    for (; opts && opts[n] && n < 8; n++) {
        snprintf(buf[n], sizeof buf[n], "%s", opts[n]);
        char *eq = strchr(buf[n], '=');
        *eq = '\0';
        o[n].key = buf[n];
        o[n].value = eq + 1;
    }
    return xs_engine_add_plugin(e, "upsell", o, n, err);
}

/* The fixture engine with upsell created from opts. */
static xs_engine *fixture_engine(const char *const *opts)
{
    xs_engine *e = engine_on(fixture("upsell_events.csv"),
                             fixture("upsell_catalog.csv"));
    if (!e)
        return NULL;
    xs_error err = {0};
    if (!CHECK_MSG(add_upsell(e, opts, &err) == XS_OK, "add upsell: %s",
                   err.msg)) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
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
    uint32_t ids[16], n_ids = 0;
    char copy[256];
    snprintf(copy, sizeof copy, "%s", items);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n_ids < 16;
         t = strtok_r(NULL, ",", &save)) {
        ids[n_ids] = xs_engine_item(e, t);
        CHECK_MSG(ids[n_ids] != XS_NONE, "%s: no item '%s'", label, t);
        n_ids++;
    }
    n_ids = xs_request_items(ids, n_ids);
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

static const xs_evidence_field *field(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key))
            return &r->ev.f[i];
    return NULL;
}

static void expect_explain(const char *label, const xs_rec *r,
                           const char *from, const char *category,
                           double delta, double ratio, double sim,
                           double uplift)
{
    const xs_evidence_field *f = field(r, "from"), *c = field(r, "category"),
                            *d = field(r, "price_delta"),
                            *q = field(r, "price_ratio"),
                            *s = field(r, "similarity"),
                            *u = field(r, "margin_uplift");
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
                  "similarity, prior, margin_weight, history)"},
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
        xs_engine *e = engine_on(fixture("upsell_events.csv"),
                                 fixture("upsell_catalog.csv"));
        if (!e)
            continue;
        xs_error err = {0};
        int rc = add_upsell(e, (const char *const[]){bad[i].opt, NULL}, &err);
        CHECK_MSG(rc == XS_ERR_PLUGIN, "%s: rc %d, want XS_ERR_PLUGIN",
                  bad[i].opt, rc);
        CHECK_HAS(err.msg, bad[i].msg);
        CHECK_EQU(xs_engine_plugin_count(e), 0);
        xs_engine_free(e);
    }
    /* no catalog */
    xs_engine *e = engine_on(fixture("upsell_events.csv"), NULL);
    if (e) {
        xs_error err = {0};
        CHECK_EQ(add_upsell(e, NULL, &err), XS_ERR_PLUGIN);
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
    xs_engine *e = engine_on(fixture("upsell_baskets.csv"),
                             fixture("upsell_catalog.csv"));
    if (!e)
        return;
    xs_error err = {0};
    if (CHECK_MSG(add_upsell(e, NULL, &err) == XS_OK, "add: %s", err.msg)) {
        CHECK_MSG(logged("upsell: the data has no customers"),
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

static xs_catalog_item entry(const char *item, const char *category,
                             double price, double margin)
{
    return (xs_catalog_item){item,
                             category,
                             NULL,
                             (uint32_t)strlen(item),
                             (uint32_t)strlen(category),
                             0,
                             price,
                             margin,
                             1};
}

static void test_catalog_hook(void)
{
    size_t n, added = 0;
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    /* a new shoe at 90, never sold: in S1's band, score 0 */
    xs_catalog_item s8 = entry("S8", "shoes", 90, 0.4);
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
    xs_catalog_item batch[] = {entry("S3", "bags", 60, 0.4),
                               entry("S5", "shoes", 200, 0.4),
                               entry("H1", "hats", 20, 0.5),
                               entry("H2", "hats", 30, 0.5)};
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

/* Several threads, each with its own context, asking the same requests:
 * every answer equals the one computed alone first. */
#define RACE_REQUESTS 200
#define RACE_THREADS 4
#define RACE_K 20

typedef struct race {
    xs_engine *e;
    uint32_t items[RACE_REQUESTS][2];
    uint32_t want[RACE_REQUESTS][RACE_K];
    double score[RACE_REQUESTS][RACE_K];
    size_t n[RACE_REQUESTS];
    int mismatches[RACE_THREADS];
    int failed[RACE_THREADS];
} race;

typedef struct racer {
    race *r;
    int id;
} racer;

static int race_run(race *r, xs_context *ctx, int i, int record)
{
    xs_request req = {r->items[i], 2, XS_NONE, RACE_K, 0, XS_NONE};
    const xs_rec *recs;
    size_t n;
    xs_error err = {0};
    if (xs_engine_recommend(r->e, ctx, "upsell", &req, &recs, &n, &err))
        return -1;
    if (record) {
        r->n[i] = n;
        for (size_t j = 0; j < n; j++) {
            r->want[i][j] = recs[j].item;
            r->score[i][j] = recs[j].score;
        }
        return 0;
    }
    int same = n == r->n[i];
    for (size_t j = 0; same && j < n; j++)
        same = recs[j].item == r->want[i][j] && recs[j].score == r->score[i][j];
    return same ? 0 : 1;
}

static void *racer_main(void *arg)
{
    racer *me = arg;
    xs_context *ctx = xs_context_new(me->r->e);
    if (!ctx) {
        me->r->failed[me->id] = 1;
        return NULL;
    }
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < RACE_REQUESTS; i++) {
            int rc = race_run(me->r, ctx, (i + me->id * 37) % RACE_REQUESTS, 0);
            me->r->failed[me->id] |= rc < 0;
            me->r->mismatches[me->id] += rc > 0;
        }
    xs_context_free(ctx);
    return NULL;
}

static void check_threads(xs_engine *e, uint32_t n_items)
{
    race *r = calloc(1, sizeof *r);
    xs_context *ctx = xs_context_new(e);
    if (!CHECK(r && ctx)) {
        free(r);
        xs_context_free(ctx);
        return;
    }
    r->e = e;
    uint64_t x = 12345;
    size_t answers = 0;
    for (int i = 0; i < RACE_REQUESTS; i++) {
        for (int j = 0; j < 2; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            r->items[i][j] = (uint32_t)(x >> 33) % n_items;
        }
        r->items[i][1] += r->items[i][1] == r->items[i][0];
        r->items[i][1] %= n_items;
        xs_request_items(r->items[i], 2);
        CHECK(race_run(r, ctx, i, 1) == 0);
        answers += r->n[i];
    }
    pthread_t t[RACE_THREADS];
    racer who[RACE_THREADS];
    int started = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        who[i] = (racer){r, i};
        started += pthread_create(&t[i], NULL, racer_main, &who[i]) == 0;
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(started, RACE_THREADS);
    CHECK_MSG(answers > RACE_REQUESTS, "only %zu answers to compare",
              answers);
    for (int i = 0; i < RACE_THREADS; i++) {
        CHECK_MSG(!r->failed[i], "thread %d: a request failed", i);
        CHECK_MSG(r->mismatches[i] == 0, "thread %d: %d answers differ", i,
                  r->mismatches[i]);
    }
    xs_context_free(ctx);
    free(r);
}

/* Every item of a generated store: the answer is exactly the in-stock
 * items of its category priced in its band (k = 1000 holds them all). */
static void test_generated_store(void)
{
    const char *dir = xt_mkdir("store");
    if (!dir)
        return;
    const char *catalog = xt_track("store/catalog.csv", 0);
    const char *events = xt_track("store/events.csv", 0);
    xs_gen_params p = {.customers = 1500, .items = 2000, .orders = 6000,
                       .seed = 7};
    xs_error err = {0};
    if (!CHECK_MSG(xs_gen_write(&p, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    xs_engine *e = engine_on(events, catalog);
    if (!e)
        return;
    if (!CHECK_MSG(add_upsell(e, NULL, &err) == XS_OK, "add: %s", err.msg)) {
        xs_engine_free(e);
        return;
    }
    xs_context *ctx = xs_context_new(e);
    const xs_catalog *cat = xs_engine_catalog(e);
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    size_t asked = 0, answers = 0, bad = 0;
    double seconds = 0;
    for (uint32_t a = 0; ctx && a < n_items; a++) {
        xs_item_info ia;
        if (!xs_catalog_get(cat, a, &ia) || !(ia.price > 0))
            continue;
        double lo = 1.05 * ia.price, hi = 2.5 * ia.price;
        size_t expected = 0;
        for (uint32_t c = 0; c < n_items; c++) {
            xs_item_info ic;
            expected += c != a && xs_catalog_get(cat, c, &ic) && ic.in_stock &&
                    ic.category == ia.category && ic.price >= lo &&
                    ic.price <= hi;
        }
        xs_request req = {&a, 1, XS_NONE, XS_K_MAX, 0, XS_NONE};
        const xs_rec *r;
        size_t n;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = xs_engine_recommend(e, ctx, "upsell", &req, &r, &n, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        seconds += (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        asked++;
        if (!CHECK_MSG(rc == XS_OK, "item %u: %s", a, err.msg))
            break;
        answers += n;
        /* the first few failures are shown, all are counted */
        if (n != (expected < XS_K_MAX ? expected : XS_K_MAX) && ++bad <= 5)
            fprintf(stderr, "item %s: %zu answers, want %zu\n",
                    xs_engine_item_name(e, a), n, expected);
        for (size_t i = 0; i < n; i++) {
            xs_item_info ic;
            int ok = r[i].item != a && xs_catalog_get(cat, r[i].item, &ic) &&
                     ic.category == ia.category && ic.price >= lo &&
                     ic.price <= hi && ic.in_stock;
            for (size_t j = 0; ok && j < i; j++)
                ok = r[j].item != r[i].item;
            if (!ok && ++bad <= 5)
                fprintf(stderr, "item %s (%s, %g): answer %s out of band or "
                        "repeated\n", xs_engine_item_name(e, a),
                        ia.category_name, ia.price,
                        xs_engine_item_name(e, r[i].item));
        }
    }
    CHECK_MSG(bad == 0, "%zu bad answers for the generated store", bad);
    CHECK_MSG(asked > 1000 && answers > asked, "asked %zu items, %zu answers",
              asked, answers);
    printf("generated store: %zu items asked, %.1f answers each, %.1f us "
           "per request\n",
           asked, asked ? (double)answers / asked : 0,
           asked ? seconds / asked * 1e6 : 0);
    xs_context_free(ctx);
    check_threads(e, n_items);
    xs_engine_free(e);
}

/* ---- the exact top k against a brute-force scan -------------------------- */

typedef struct scored {
    uint32_t item;
    double score;
} scored;

static int scored_order(const void *x, const void *y)
{
    const scored *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

/* One viewed item of the brute force: its band and what scores read. */
typedef struct bf_viewed {
    uint32_t item, category, lo; /* lo: items of its category below plo */
    uint32_t max_sup;            /* the largest support in its category */
    double price, pm, plo, phi;
} bf_viewed;

static double bf_pm(double price, double margin)
{
    return isfinite(margin) && margin > 0 && price > 0 ? price * margin : NAN;
}

/* The answer upsell must give, by the formulas of its header, scoring
 * every item of every band: the k best of items[0..n) (sorted), without
 * exclude[0..n_ex), out-of-stock items and request items.  The viewed
 * items' contributions are summed in the plugin's order (by category,
 * then band start). */
static size_t brute_force(xs_engine *e, double min_ratio, double max_ratio,
                          double prior, double w, const uint32_t *items,
                          uint32_t n, const uint32_t *exclude, uint32_t n_ex,
                          uint32_t k, scored *out)
{
    const xs_catalog *cat = xs_engine_catalog(e);
    const xs_cooc *cust = xs_engine_cooc(e, XS_SCOPE_CUSTOMER);
    const xs_cooc *bask = xs_engine_cooc(e, XS_SCOPE_BASKET);
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    const uint32_t *sup = xs_cooc_support_array(cust);
    uint32_t n_sup = xs_cooc_support_count(cust);
    uint64_t n_tx = xs_cooc_transactions(cust);
    bf_viewed v[16];
    uint32_t nv = 0;
    for (uint32_t i = 0; i < n && nv < 16; i++) {
        xs_item_info a;
        if (!xs_catalog_get(cat, items[i], &a) || a.category == XS_NONE ||
            !(a.price > 0))
            continue;
        bf_viewed x = {items[i], a.category, 0, 0, a.price,
                       bf_pm(a.price, a.margin), min_ratio * a.price,
                       max_ratio * a.price};
        for (uint32_t c = 0; c < n_items; c++) {
            xs_item_info ic;
            if (!xs_catalog_get(cat, c, &ic) || ic.category != x.category)
                continue;
            x.lo += ic.price < x.plo;
            if (c < n_sup && sup[c] > x.max_sup)
                x.max_sup = sup[c];
        }
        uint32_t j = nv++; /* stable insertion by (category, lo) */
        while (j > 0 && (v[j - 1].category > x.category ||
                         (v[j - 1].category == x.category && v[j - 1].lo > x.lo))) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    size_t n_out = 0;
    for (uint32_t c = 0; c < n_items; c++) {
        xs_item_info ic;
        if (!xs_catalog_get(cat, c, &ic) || !ic.in_stock)
            continue;
        int skip = 0;
        for (uint32_t i = 0; i < n; i++)
            skip |= items[i] == c;
        for (uint32_t i = 0; i < n_ex; i++)
            skip |= exclude[i] == c;
        if (skip)
            continue;
        uint32_t max_sup = 0; /* the largest support of c's category */
        for (uint32_t i = 0; i < nv; i++)
            if (v[i].category == ic.category)
                max_sup = v[i].max_sup;
        double score = 0, pop = max_sup && c < n_sup ? (double)sup[c] / max_sup
                                                     : 0;
        int any = 0;
        for (uint32_t i = 0; i < nv; i++) {
            if (v[i].category != ic.category || c == v[i].item ||
                ic.price < v[i].plo || ic.price > v[i].phi)
                continue;
            any = 1;
            double s = 0;
            uint32_t n_ac = xs_cooc_pair(cust, v[i].item, c);
            if (n_ac) {
                s = xs_measure_value(XS_MEASURE_JACCARD, n_ac,
                                     xs_cooc_support(cust, v[i].item),
                                     c < n_sup ? sup[c] : 0, n_tx);
                xs_row br;
                if (bask && xs_cooc_row(bask, v[i].item, &br) && br.n) {
                    double f = 1 - (double)xs_cooc_pair(bask, v[i].item, c) /
                                       n_ac;
                    s *= f < 0 ? 0 : f;
                }
            }
            double pm = bf_pm(ic.price, ic.margin), up = 1;
            if (w != 0 && !isnan(pm) && !isnan(v[i].pm))
                up = w == 1 ? pm / v[i].pm : pow(pm / v[i].pm, w);
            score += (s + prior * pop) * up;
        }
        if (any && isfinite(score))
            out[n_out++] = (scored){c, score};
    }
    qsort(out, n_out, sizeof *out, scored_order);
    return n_out < k ? n_out : k;
}

/* Random requests on a generated store: 1 to 4 viewed items, often of one
 * category (their bands summed), some exclusions; each answer must equal
 * the brute force's exactly (items, order and scores). */
static size_t compare_exact(const char *label, xs_engine *e, xs_context *ctx,
                            double prior, double w, uint64_t seed,
                            int requests, scored *ref)
{
    const xs_catalog *cat = xs_engine_catalog(e);
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    static const uint32_t ks[] = {1, 10, 100};
    size_t bad = 0;
    uint64_t x = seed;
#define NEXT() (x = x * 6364136223846793005ULL + 1442695040888963407ULL, \
                (uint32_t)(x >> 33))
    for (int r = 0; r < requests; r++) {
        uint32_t items[4], n = 1 + NEXT() % 4, ex[24], n_ex = 0;
        xs_item_info first;
        items[0] = NEXT() % n_items;
        int has = xs_catalog_get(cat, items[0], &first);
        for (uint32_t i = 1; i < n; i++) {
            items[i] = NEXT() % n_items;
            for (int t = 0; has && NEXT() % 3 && t < 200; t++) {
                xs_item_info ii; /* mostly the first one's category */
                if (xs_catalog_get(cat, items[i], &ii) &&
                    ii.category == first.category)
                    break;
                items[i] = NEXT() % n_items;
            }
        }
        n = xs_request_items(items, n);
        if (NEXT() % 3 == 0) /* exclusions, mostly of the first's category */
            n_ex = NEXT() % 24;
        for (uint32_t i = 0; i < n_ex; i++) {
            ex[i] = NEXT() % n_items;
            for (int t = 0; has && i % 2 == 0 && t < 200; t++) {
                xs_item_info ii;
                if (xs_catalog_get(cat, ex[i], &ii) &&
                    ii.category == first.category)
                    break;
                ex[i] = NEXT() % n_items;
            }
        }
        uint32_t k = ks[NEXT() % 3];
        xs_request req = {items, n, XS_NONE, k, 0, XS_NONE};
        const xs_rec *got;
        size_t n_got;
        xs_error err = {0};
        if (!CHECK_MSG(xs_engine_recommend_excluding(e, ctx, "upsell", &req, ex,
                                                     n_ex, &got, &n_got,
                                                     &err) == XS_OK,
                       "%s: %s", label, err.msg))
            return bad + 1;
        size_t n_want = brute_force(e, 1.05, 2.5, prior, w, items, n, ex,
                                    n_ex, k, ref);
        int same = n_got == n_want;
        for (size_t i = 0; same && i < n_got; i++)
            same = got[i].item == ref[i].item && got[i].score == ref[i].score;
        if (!same && ++bad <= 3) {
            fprintf(stderr, "%s: request %d (%u items, k %u, %u excluded): "
                    "%zu answers, want %zu\n", label, r, n, k, n_ex, n_got,
                    n_want);
            for (size_t i = 0; i < n_got || i < n_want; i++)
                if (i < 12)
                    fprintf(stderr, "   got %6d %.17g  want %6d %.17g\n",
                            i < n_got ? (int)got[i].item : -1,
                            i < n_got ? got[i].score : 0,
                            i < n_want ? (int)ref[i].item : -1,
                            i < n_want ? ref[i].score : 0);
        }
    }
#undef NEXT
    return bad;
}

/* The generated store under every prior and margin weight: before and
 * after a catalog upsert (moved, repriced, new and out-of-stock items) and
 * an ingest (supports and largest supports change). */
static void test_exact_top_k(void)
{
    const char *dir = xt_mkdir("exact");
    if (!dir)
        return;
    const char *catalog = xt_track("exact/catalog.csv", 0);
    const char *events = xt_track("exact/events.csv", 0);
    xs_gen_params p = {.customers = 1500, .items = 2000, .orders = 6000,
                       .seed = 11};
    xs_error err = {0};
    if (!CHECK_MSG(xs_gen_write(&p, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    scored *ref = malloc(4000 * sizeof *ref);
    if (!CHECK(ref != NULL))
        return;
    static const char *const priors[] = {"0", "0.01", "1"};
    static const char *const weights[] = {"0", "1", "2"};
    for (int pi = 0; pi < 3; pi++)
        for (int wi = 0; wi < 3; wi++) {
            char o1[32], o2[32], label[96];
            snprintf(o1, sizeof o1, "prior=%s", priors[pi]);
            snprintf(o2, sizeof o2, "margin_weight=%s", weights[wi]);
            xs_engine *e = engine_on(events, catalog);
            if (!e)
                continue;
            xs_context *ctx = NULL;
            if (!CHECK_MSG(add_upsell(e, (const char *const[]){o1, o2, NULL},
                                      &err) == XS_OK,
                           "add: %s", err.msg) ||
                !CHECK((ctx = xs_context_new(e)) != NULL)) {
                xs_engine_free(e);
                continue;
            }
            double prior = atof(priors[pi]), w = atof(weights[wi]);
            uint64_t seed = (uint64_t)(pi * 3 + wi) * 7919 + 1;
            size_t bad;
            snprintf(label, sizeof label, "%s %s", o1, o2);
            bad = compare_exact(label, e, ctx, prior, w, seed, 120, ref);
            CHECK_MSG(bad == 0, "%s: %zu answers differ", label, bad);

            /* the catalog changes: repriced, moved, out of stock, new */
            const xs_catalog *cat = xs_engine_catalog(e);
            xs_catalog_item up[41];
            char names[41][32], cats[41][64];
            size_t n_up = 0;
            for (uint32_t i = 0; i < 40; i++) {
                uint32_t a = (uint32_t)(seed * 31 + i * 47) % 2000;
                xs_item_info info;
                if (!xs_catalog_get(cat, a, &info) || !info.category_name)
                    continue;
                xs_item_info other; /* a category taken from another item */
                uint32_t b = (a * 7 + 3) % 2000;
                const char *cn = i % 4 == 0 && xs_catalog_get(cat, b, &other) &&
                                         other.category_name
                                     ? other.category_name
                                     : info.category_name;
                snprintf(names[n_up], sizeof names[0], "%s",
                         xs_engine_item_name(e, a));
                snprintf(cats[n_up], sizeof cats[0], "%s", cn);
                up[n_up] = entry(names[n_up], cats[n_up],
                                 info.price * (0.5 + (i % 7) * 0.25),
                                 i % 5 == 0 ? NAN : info.margin);
                up[n_up].in_stock = i % 6 != 0;
                n_up++;
            }
            xs_item_info some;
            if (xs_catalog_get(cat, 5, &some) && some.category_name) {
                snprintf(cats[n_up], sizeof cats[0], "%s", some.category_name);
                up[n_up] = entry("NEW-ITEM", cats[n_up], some.price * 1.5, 0.3);
                n_up++;
            }
            if (!CHECK_MSG(xs_engine_catalog_upsert(e, up, n_up, NULL, &err) ==
                               XS_OK,
                           "upsert: %s", err.msg))
                goto next;
            snprintf(label, sizeof label, "%s %s after upsert", o1, o2);
            bad = compare_exact(label, e, ctx, prior, w, seed + 1, 80, ref);
            CHECK_MSG(bad == 0, "%s: %zu answers differ", label, bad);

            /* new events: supports rise, the new item sells */
            xs_ingest_event ev[60];
            char ev_item[60][32], ev_cust[60][32];
            const xs_dataset *ds = xs_engine_dataset(e);
            for (int i = 0; i < 60; i++) {
                const char *it = i % 10 == 0
                                     ? "NEW-ITEM"
                                     : xs_engine_item_name(
                                           e, ds->events[(size_t)(i * 997 +
                                                                  (int)seed) %
                                                         ds->n_events]
                                                  .item);
                snprintf(ev_item[i], sizeof ev_item[0], "%s", it);
                snprintf(ev_cust[i], sizeof ev_cust[0], "NEWC%d", i % 7);
                ev[i] = (xs_ingest_event){ev_cust[i], ev_item[i], NULL,
                                          (uint32_t)strlen(ev_cust[i]),
                                          (uint32_t)strlen(ev_item[i]), 0,
                                          1767225600 + i, 1, NAN};
            }
            if (!CHECK_MSG(xs_engine_ingest(e, ev, 60, &err) == XS_OK,
                           "ingest: %s", err.msg))
                goto next;
            snprintf(label, sizeof label, "%s %s after ingest", o1, o2);
            bad = compare_exact(label, e, ctx, prior, w, seed + 2, 80, ref);
            CHECK_MSG(bad == 0, "%s: %zu answers differ", label, bad);
        next:
            xs_context_free(ctx);
            xs_engine_free(e);
        }
    free(ref);
}

int main(void)
{
    const char *d = getenv("XS_TEST_DATA"), *b = getenv("XS_BUILD_DIR");
    if (!d || !b)
        return xt_skip("XS_TEST_DATA and XS_BUILD_DIR are set by ctest");
    snprintf(data_dir, sizeof data_dir, "%s", d);
    snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", b);
    test_band_and_ranking();
    test_options();
    test_refusals();
    test_history();
    test_no_customers();
    test_catalog_hook();
    test_generated_store();
    test_exact_top_k();
    return xt_done();
}
