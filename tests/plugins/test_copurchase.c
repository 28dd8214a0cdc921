/*
 * test_copurchase.c -- the copurchase plugin through the engine API, on
 * tests/data/cli/small_baskets.csv, whose answers are worked out by hand.
 *
 * The fixture: 12 baskets; ids by first appearance
 *   milk 0 (7 baskets), bread 1 (7), yogurt 2 (5), jam 3 (4), tea 4 (2),
 *   coffee 5 (2)
 * pairs: milk-bread 5, milk-yogurt 3, milk-jam 3, milk-coffee 1,
 *   bread-yogurt 3, bread-jam 2, bread-coffee 1, yogurt-jam 2, coffee-tea 1.
 * Names are chosen so that id order differs from name order (yogurt < jam by
 * id, jam < yogurt by name; milk < bread by id), so ties show which one the
 * engine uses: the contract is "equal scores by lower item id".
 *
 * What is checked (plugins/copurchase.c states the rules):
 *   - a one-item basket scores each candidate c with m(a -> c) exactly
 *     (lift n_ac*N/(n_a*n_c), confidence n_ac/n_a, count n_ac);
 *   - a larger basket scores c with the sum over basket items a of
 *     m(a -> c), over the terms whose n_ac >= min_count;
 *   - basket items are never returned; k is respected;
 *   - min_count, and min_support as arules' ceil(s * N * (1 - DBL_EPSILON)),
 *     the larger of the two winning;
 *   - explain: support, confidence, lift, count of the strongest rule and
 *     its basket item in "from".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"


#define N 12.0 /* baskets in the fixture */

/* The measures, written the way the formulas read. */
static double lift(double ab, double a, double b)
{
    return ab * N / (a * b);
}

static char fixture[512];

/* An engine on the fixture (or on ds when given) with copurchase created
 * from "key=value" options (NULL terminated).  The hand-worked answers
 * below are of lift with every pair counted: measure=lift and min_count=1
 * are added unless opts set them (test_defaults checks the defaults). */
static xs_engine *engine_with_raw(xs_dataset *ds, const char *const *opts);
static xs_engine *engine_with(xs_dataset *ds, const char *const *opts)
{
    static const char *const lift[] = {"measure=lift", "min_count=1", NULL};
    const char *all[16];
    return engine_with_raw(ds, xtp_opts_pinned(opts, lift, all, 16));
}

static xs_engine *engine_with_raw(xs_dataset *ds, const char *const *opts)
{
    xs_error err = {0};
    if (!ds && !(ds = xs_dataset_load_baskets(fixture, &err))) {
        CHECK_MSG(0, "load %s: %s", fixture, err.msg);
        return NULL;
    }
    xs_engine_config cfg = {.plugin_dir = NULL, .scope = -1, .threads = 1};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
    if (!e) {
        CHECK_MSG(0, "engine: %s", err.msg);
        return NULL;
    }
    if (xtp_add(e, "copurchase", opts, &err)) {
        CHECK_MSG(0, "add copurchase: %s", err.msg);
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

typedef struct want {
    const char *item;
    double score;
} want;

static const double *evidence(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key) && !r->ev.f[i].text)
            return &r->ev.f[i].value;
    return NULL;
}

static const char *evidence_text(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key))
            return r->ev.f[i].text;
    return NULL;
}

static int close_to(double got, double want_, double rel)
{
    if (rel == 0)
        return got == want_;
    return fabs(got - want_) <= rel * fabs(want_);
}

/* Runs basket (comma separated names) with k; expects exactly the list w
 * (n_w entries) in that order, scores equal (rel == 0) or within rel.
 * Returns the results (owned by ctx) for further checks. */
static const xs_rec *expect(const char *label, xs_engine *e, xs_context *ctx,
                            const char *basket, uint32_t k, double rel,
                            const want *w, size_t n_w, size_t *n_out)
{
    uint32_t ids[16];
    uint32_t n_ids = xtp_items(e, basket, ids, 16);
    xs_request req = {ids, n_ids, XS_NONE, k, 1, XS_NONE};
    const xs_rec *recs = NULL;
    size_t n = 0;
    xs_error err = {0};
    int rc = xs_engine_recommend(e, ctx, "copurchase", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_OK, "%s: %s", label, err.msg);
    *n_out = n;
    int ok = n == n_w;
    for (size_t i = 0; ok && i < n; i++)
        ok = !strcmp(xs_engine_item_name(e, recs[i].item), w[i].item) &&
             close_to(recs[i].score, w[i].score, rel);
    if (!ok) {
        CHECK_MSG(0, "%s: basket {%s} k=%u gave:", label, basket, (unsigned)k);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "   got  %-8s %.17g\n",
                    xs_engine_item_name(e, recs[i].item), recs[i].score);
        for (size_t i = 0; i < n_w; i++)
            fprintf(stderr, "   want %-8s %.17g\n", w[i].item, w[i].score);
    }
    for (size_t i = 0; i < n; i++) {
        for (uint32_t j = 0; j < n_ids; j++)
            CHECK_MSG(recs[i].item != ids[j], "%s: basket item %s returned", label,
                  xs_engine_item_name(e, recs[i].item));
        CHECK_MSG(recs[i].plugin && !strcmp(recs[i].plugin, "copurchase"),
              "%s: plugin name", label);
    }
    return recs;
}

#define EXPECT(label, e, ctx, basket, k, rel, n_out, ...)                      \
    expect(label, e, ctx, basket, k, rel, (const want[]){__VA_ARGS__},         \
           sizeof((const want[]){__VA_ARGS__}) / sizeof(want), n_out)
/* Expects no result at all. */
#define EXPECT_NONE(label, e, ctx, basket, k, n_out)                           \
    expect(label, e, ctx, basket, k, 0, NULL, 0, n_out)

/* The explain fields of rec: the rule from -> rec.item with count n_ac,
 * n_from and n_item supports. */
static void expect_explain(const char *label, const xs_engine *e,
                           const xs_rec *r, const char *from, double n_ac,
                           double n_from, double n_item)
{
    const char *item = xs_engine_item_name(e, r->item);
    const double *s = evidence(r, "support"), *c = evidence(r, "confidence"),
                 *l = evidence(r, "lift"), *k = evidence(r, "count");
    const char *f = evidence_text(r, "from");
    CHECK_MSG(s && *s == n_ac / N, "%s: %s support %.17g, want %.17g", label, item,
          s ? *s : NAN, n_ac / N);
    CHECK_MSG(c && *c == n_ac / n_from, "%s: %s confidence %.17g, want %.17g",
          label, item, c ? *c : NAN, n_ac / n_from);
    CHECK_MSG(l && *l == lift(n_ac, n_from, n_item),
          "%s: %s lift %.17g, want %.17g", label, item, l ? *l : NAN,
          lift(n_ac, n_from, n_item));
    CHECK_MSG(k && *k == n_ac, "%s: %s count %.17g, want %g", label, item,
          k ? *k : NAN, n_ac);
    if (from)
        CHECK_MSG(f && !strcmp(f, from), "%s: %s from '%s', want '%s'", label,
              item, f ? f : "(none)", from);
}

static void test_fixture_ids(void)
{
    xs_engine *e = engine_with(NULL, NULL);
    if (!e)
        return;
    const char *names[] = {"milk", "bread", "yogurt", "jam", "tea", "coffee"};
    for (uint32_t i = 0; i < 6; i++)
        CHECK_MSG(xs_engine_item(e, names[i]) == i, "%s has id %u, want %u",
              names[i], xs_engine_item(e, names[i]), i);
    const xs_cooc *t = xs_engine_cooc(e, xs_engine_default_scope(e));
    CHECK_MSG(t && xs_cooc_transactions(t) == 12, "transactions %llu, want 12",
          t ? (unsigned long long)xs_cooc_transactions(t) : 0ULL);
    xs_engine_free(e);
}

static void test_one_item(void)
{
    size_t n;
    const xs_rec *r;
    xs_engine *e = engine_with(NULL, NULL); /* lift, every pair */
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    r = EXPECT("lift {milk}", e, ctx, "milk", 10, 0, &n,
               {"jam", lift(3, 7, 4)}, {"bread", lift(5, 7, 7)},
               {"yogurt", lift(3, 7, 5)}, {"coffee", lift(1, 7, 2)});
    if (n == 4) {
        expect_explain("lift {milk}", e, &r[0], "milk", 3, 7, 4);
        expect_explain("lift {milk}", e, &r[1], "milk", 5, 7, 7);
        expect_explain("lift {milk}", e, &r[2], "milk", 3, 7, 5);
        expect_explain("lift {milk}", e, &r[3], "milk", 1, 7, 2);
    }
    /* k respected: the best k of the same list */
    EXPECT("lift {milk} k=1", e, ctx, "milk", 1, 0, &n,
           {"jam", lift(3, 7, 4)});
    EXPECT("lift {milk} k=2", e, ctx, "milk", 2, 0, &n,
           {"jam", lift(3, 7, 4)}, {"bread", lift(5, 7, 7)});
    /* tie milk/bread (12/14 each): lower id first, though b < m by name */
    r = EXPECT("lift {coffee}", e, ctx, "coffee", 10, 0, &n,
               {"tea", lift(1, 2, 2)}, {"milk", lift(1, 2, 7)},
               {"bread", lift(1, 2, 7)});
    if (n == 3)
        expect_explain("lift {coffee}", e, &r[0], "coffee", 1, 2, 2);
    /* tea co-occurs with coffee only */
    EXPECT("lift {tea}", e, ctx, "tea", 10, 0, &n, {"coffee", lift(1, 2, 2)});
    /* an empty basket gives nothing */
    {
        xs_request req = {NULL, 0, XS_NONE, 10, 1, XS_NONE};
        const xs_rec *recs;
        xs_error err = {0};
        int rc = xs_engine_recommend(e, ctx, "copurchase", &req, &recs, &n,
                                     &err);
        CHECK_MSG(rc == XS_OK && n == 0, "empty basket: %d, %zu results", rc, n);
    }
out:
    xs_context_free(ctx);
    xs_engine_free(e);

    /* confidence: yogurt and jam tie at 3/7; yogurt has the lower id */
    e = engine_with(NULL, (const char *const[]){"measure=confidence", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        r = EXPECT("confidence {milk}", e, ctx, "milk", 10, 0, &n,
                   {"bread", 5.0 / 7}, {"yogurt", 3.0 / 7}, {"jam", 3.0 / 7},
                   {"coffee", 1.0 / 7});
        if (n == 4)
            expect_explain("confidence {milk}", e, &r[2], "milk", 3, 7, 4);
        /* confidence is directional: jam -> milk is 3/4, not 3/7 */
        EXPECT("confidence {jam}", e, ctx, "jam", 10, 0, &n,
               {"milk", 3.0 / 4}, {"bread", 2.0 / 4}, {"yogurt", 2.0 / 4});
    }
    xs_context_free(ctx);
    xs_engine_free(e);

    e = engine_with(NULL, (const char *const[]){"measure=count", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT("count {milk}", e, ctx, "milk", 10, 0, &n, {"bread", 5},
               {"yogurt", 3}, {"jam", 3}, {"coffee", 1});
    xs_context_free(ctx);
    xs_engine_free(e);

    e = engine_with(NULL, (const char *const[]){"measure=jaccard", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx) /* n_ab / (n_a + n_b - n_ab) */
        EXPECT("jaccard {milk}", e, ctx, "milk", 10, 0, &n,
               {"bread", 5.0 / 9}, {"jam", 3.0 / 8}, {"yogurt", 3.0 / 9},
               {"coffee", 1.0 / 8});
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_baskets(void)
{
    size_t n;
    const xs_rec *r;
    xs_engine *e = engine_with(NULL, NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    /* sums over the basket; milk and bread themselves never come back */
    r = EXPECT("lift {milk,bread}", e, ctx, "milk,bread", 10, 1e-12, &n,
               {"jam", lift(3, 7, 4) + lift(2, 7, 4)},
               {"yogurt", lift(3, 7, 5) + lift(3, 7, 5)},
               {"coffee", lift(1, 7, 2) + lift(1, 7, 2)});
    if (n == 3) {
        /* jam: milk -> jam (36/28) beats bread -> jam (24/28) */
        expect_explain("lift {milk,bread}", e, &r[0], "milk", 3, 7, 4);
        /* yogurt: both rules equal; the numbers are the same either way */
        expect_explain("lift {milk,bread}", e, &r[1], NULL, 3, 7, 5);
    }
    /* same basket, other order, repeated items: same answer */
    EXPECT("lift {bread,milk,bread}", e, ctx, "bread,milk,bread", 10, 1e-12,
           &n, {"jam", lift(3, 7, 4) + lift(2, 7, 4)},
           {"yogurt", lift(3, 7, 5) + lift(3, 7, 5)},
           {"coffee", lift(1, 7, 2) + lift(1, 7, 2)});
    /* rows that do not overlap: merged */
    EXPECT("lift {tea,jam}", e, ctx, "tea,jam", 10, 1e-12, &n,
           {"coffee", lift(1, 2, 2)}, {"milk", lift(3, 4, 7)},
           {"yogurt", lift(2, 4, 5)}, {"bread", lift(2, 4, 7)});
    r = EXPECT("lift {milk,bread,yogurt}", e, ctx, "milk,bread,yogurt", 10,
               1e-12, &n,
               {"jam", lift(3, 7, 4) + lift(2, 7, 4) + lift(2, 5, 4)},
               {"coffee", lift(1, 7, 2) + lift(1, 7, 2)});
    if (n == 2)
        expect_explain("lift {milk,bread,yogurt}", e, &r[0], "milk", 3, 7, 4);
    EXPECT("lift {milk,bread,yogurt} k=1", e, ctx, "milk,bread,yogurt", 1,
           1e-12, &n, {"jam", lift(3, 7, 4) + lift(2, 7, 4) + lift(2, 5, 4)});
    /* every item in the basket: nothing left to recommend */
    EXPECT_NONE("lift {all}", e, ctx, "milk,bread,yogurt,jam,tea,coffee", 10,
                &n);
out:
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_thresholds(void)
{
    size_t n;
    const xs_rec *r;
    /* each option set with the same expected answer for {milk,bread}:
     * min count 3 drops bread -> jam (2) and both coffee terms (1) */
    const char *const three[][3] = {
        {"min_count=3", NULL, NULL},
        {"min_support=0.25", NULL, NULL},              /* ceil(3 - eps) = 3 */
        {"min_support=0.2", NULL, NULL},               /* ceil(2.4) = 3 */
        {"min_support=0.25", "min_count=2", NULL},     /* the larger: 3 */
        {"min_support=0.1", "min_count=3", NULL},      /* the larger: 3 */
    };
    for (size_t i = 0; i < sizeof three / sizeof *three; i++) {
        char label[96];
        snprintf(label, sizeof label, "{milk,bread} %s %s", three[i][0],
                 three[i][1] ? three[i][1] : "");
        xs_engine *e = engine_with(NULL, three[i]);
        xs_context *ctx = e ? xs_context_new(e) : NULL;
        if (ctx) {
            r = EXPECT(label, e, ctx, "milk,bread", 10, 1e-12, &n,
                       {"yogurt", lift(3, 7, 5) + lift(3, 7, 5)},
                       {"jam", lift(3, 7, 4)});
            if (n == 2) /* explain skips rules under the threshold too */
                expect_explain(label, e, &r[1], "milk", 3, 7, 4);
            /* for {milk}, coffee (1) goes */
            EXPECT(label, e, ctx, "milk", 10, 0, &n,
                   {"jam", lift(3, 7, 4)}, {"bread", lift(5, 7, 7)},
                   {"yogurt", lift(3, 7, 5)});
            EXPECT_NONE(label, e, ctx, "tea", 10, &n);
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    /* min count 2: only the coffee terms go */
    const char *const two[][2] = {{"min_count=2", NULL},
                                  {"min_support=0.1", NULL}, /* ceil(1.2) */
                                  {"min_support=0.16", NULL}}; /* 1.92 */
    for (size_t i = 0; i < sizeof two / sizeof *two; i++) {
        xs_engine *e = engine_with(NULL, two[i]);
        xs_context *ctx = e ? xs_context_new(e) : NULL;
        if (ctx)
            EXPECT(two[i][0], e, ctx, "milk,bread", 10, 1e-12, &n,
                   {"jam", lift(3, 7, 4) + lift(2, 7, 4)},
                   {"yogurt", lift(3, 7, 5) + lift(3, 7, 5)});
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    /* min count 4 or 5: only milk -> bread (5) survives; 6: nothing */
    const char *const hi[][2] = {{"min_count=4", NULL},
                                 {"min_count=5", NULL},
                                 {"min_support=0.4", NULL}}; /* 4.8 -> 5 */
    for (size_t i = 0; i < sizeof hi / sizeof *hi; i++) {
        xs_engine *e = engine_with(NULL, hi[i]);
        xs_context *ctx = e ? xs_context_new(e) : NULL;
        if (ctx) {
            EXPECT(hi[i][0], e, ctx, "milk", 10, 0, &n,
                   {"bread", lift(5, 7, 7)});
            /* jam -> milk (3, lift 36/28) outscores bread -> milk (5, lift
             * 60/49) but is under the threshold: neither the score nor the
             * explanation may use it */
            r = EXPECT(hi[i][0], e, ctx, "jam,bread", 10, 0, &n,
                       {"milk", lift(5, 7, 7)});
            if (n == 1)
                expect_explain(hi[i][0], e, &r[0], "bread", 5, 7, 7);
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    xs_engine *e = engine_with(NULL, (const char *const[]){"min_count=6",
                                                           NULL});
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT_NONE("min_count=6", e, ctx, "milk", 10, &n);
    xs_context_free(ctx);
    xs_engine_free(e);
}

/* arules' rounding: with N = 100, 0.07 * 100 is 7.000000000000001 in
 * doubles; the minimum count must be 7, not 8. */
static void test_support_rounding(void)
{
    const double s[] = {0.07, 0.08};
    const size_t want_n[] = {1, 0};
    for (int t = 0; t < 2; t++) {
        xs_dataset *ds = xs_dataset_new();
        if (!ds) {
            CHECK_MSG(0, "out of memory");
            return;
        }
        uint32_t x, y;
        xs_dict_intern(ds->items, "x", 1, &x);
        xs_dict_intern(ds->items, "y", 1, &y);
        for (uint32_t b = 0; b < 100; b++) {
            char name[16];
            int len = snprintf(name, sizeof name, "f%u", (unsigned)b);
            xs_event ev = {XS_NONE, 0, b, 0, 0, 1.0, NAN};
            xs_dict_intern(ds->items, name, (size_t)len, &ev.item);
            xs_dataset_push(ds, &ev);
            if (b < 7) { /* x and y together in 7 baskets */
                ev.item = x;
                xs_dataset_push(ds, &ev);
                ev.item = y;
                xs_dataset_push(ds, &ev);
            }
        }
        ds->n_orders = 100;
        char opt[32];
        snprintf(opt, sizeof opt, "min_support=%g", s[t]);
        xs_engine *e = engine_with(ds, (const char *const[]){opt, NULL});
        xs_context *ctx = e ? xs_context_new(e) : NULL;
        if (ctx) {
            xs_request req = {&x, 1, XS_NONE, 100, 0, XS_NONE};
            const xs_rec *recs;
            size_t n = 0;
            xs_error err = {0};
            int rc = xs_engine_recommend(e, ctx, "copurchase", &req, &recs,
                                         &n, &err);
            CHECK_MSG(rc == XS_OK && n == want_n[t],
                  "%s on 100 baskets, pair count 7: %zu results, want %zu",
                  opt, n, want_n[t]);
            if (n == 1)
                CHECK_MSG(recs[0].item == y && recs[0].score == 7.0 * 100 / 49,
                      "%s: got item %u score %.17g", opt, recs[0].item,
                      recs[0].score);
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
}

/* The defaults (plugins/copurchase.c, "Defaults"): cosine, pairs seen in
 * at least 2 baskets.  {milk}: coffee (1 basket with milk) is left out;
 * cosine n_ac / sqrt(n_a n_c). */
static void test_defaults(void)
{
    size_t n;
    xs_engine *e = engine_with_raw(NULL, NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        EXPECT("defaults {milk}", e, ctx, "milk", 10, 1e-15, &n,
               {"bread", 5 / sqrt(7 * 7)}, {"jam", 3 / sqrt(7 * 4)},
               {"yogurt", 3 / sqrt(7 * 5)});
        /* tea: its one pair (coffee) is below the threshold */
        EXPECT_NONE("defaults {tea}", e, ctx, "tea", 10, &n);
    }
    xs_context_free(ctx);
    xs_engine_free(e);
}

/* The default neighbour cap (plugins/copurchase.c, DEFAULT_MAX_NB): 1500.
 * hub goes with x0000..x1599, twice each (3200 baskets); x0000..x0099 also
 * go with w (twice each) and x0000 with y (twice), so hub's 1500 best
 * neighbours by cosine are x0100..x1599 (2 / sqrt(3200 * 2)) and x0000
 * (support 6) is its weakest.  Basket {hub, y}: x0000 is outside hub's
 * list, but y's list meets it and the threshold algorithm scores it
 * exactly, hub's part included, 2 / sqrt(2 * 6) + 2 / sqrt(3200 * 6): the
 * same as from whole rows (max_neighbours=0, or a cap hub's row fits:
 * 1600).  {hub} alone is the same either way (k <= the cap). */
static void test_default_cap(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/xt_copurchase_cap_%d.csv",
             (int)getpid());
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    for (int i = 0; i < 1600; i++)
        for (int t = 0; t < 2; t++)
            fprintf(f, "hub,x%04d\n", i);
    for (int i = 0; i < 100; i++)
        for (int t = 0; t < 2; t++)
            fprintf(f, "w,x%04d\n", i);
    fprintf(f, "y,x0000\ny,x0000\n");
    fclose(f);
    static const char *const exact[] = {"max_neighbours=0", NULL};
    static const char *const cap1500[] = {"max_neighbours=1500", NULL};
    static const char *const cap1600[] = {"max_neighbours=1600", NULL};
    const struct {
        const char *label;
        const char *const *opts;
    } runs[] = {{"default", NULL},
                {"max_neighbours=1500", cap1500},
                {"max_neighbours=0", exact},
                {"max_neighbours=1600", cap1600}};
    const double y_part = 2 / sqrt(2.0 * 6), hub_part = 2 / sqrt(3200.0 * 6);
    const double top = 2 / sqrt(3200.0 * 2);
    for (size_t r = 0; r < sizeof runs / sizeof *runs; r++) {
        xs_error err = {0};
        xs_dataset *ds = xs_dataset_load_baskets(path, &err);
        CHECK_MSG(ds != NULL, "load %s: %s", path, err.msg);
        if (!ds)
            break;
        xs_engine *e = engine_with_raw(ds, runs[r].opts);
        xs_context *ctx = e ? xs_context_new(e) : NULL;
        if (ctx) {
            char label[96];
            size_t n;
            snprintf(label, sizeof label, "%s {hub, y}", runs[r].label);
            EXPECT(label, e, ctx, "hub,y", 1, 1e-12, &n,
                   {"x0000", y_part + hub_part});
            snprintf(label, sizeof label, "%s {hub}", runs[r].label);
            EXPECT(label, e, ctx, "hub", 3, 1e-12, &n, {"x0100", top},
                   {"x0101", top}, {"x0102", top});
        }
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    unlink(path);
}

int main(void)
{
    const char *data = getenv("XS_TEST_DATA");
    if (!data || !getenv("XS_PLUGIN_DIR")) {
        fprintf(stderr, "set XS_TEST_DATA and XS_PLUGIN_DIR (ctest does)\n");
        return 1;
    }
    unsetenv("XSELL_PLUGIN_PATH");
    snprintf(fixture, sizeof fixture, "%s/cli/small_baskets.csv", data);
    test_fixture_ids();
    test_one_item();
    test_baskets();
    test_thresholds();
    test_support_rounding();
    test_defaults();
    test_default_cap();
    return xt_done();
}
