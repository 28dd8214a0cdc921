/*
 * test_popular.c -- the popular plugin through the engine API, on
 * tests/data/plugins/popular_{events,catalog,baskets}.csv, answers worked
 * out by hand.
 *
 * The fixture.  T = 1735689600 (the latest event), d = one day:
 *   item     id  category  events (time, weight)
 *   U_TOP    0   cups      5 at T (customers a1..a5)
 *   T_OLD    1   tea       4 at T - 100d (a1, b2..b4)
 *   T_NEW    2   tea       3 at T - 1d
 *   C_MID    3   coffee    2 at T
 *   T_LOW    4   tea       1 at T - 2d
 *   C_RARE   5   coffee    1 at T, weight 6
 *   C_OOS    6   coffee    7 at T - 3d, out of stock
 *   X_NOCAT  7   (none)    1 at T
 *   U_NONE   8   cups      never sold
 *
 * Popularity (served lists leave out C_OOS, dropped by the stock rule, and
 * U_NONE, never sold):
 *   default (counts):  C_OOS 7, U_TOP 5, T_OLD 4, T_NEW 3, C_MID 2,
 *                      T_LOW 1, C_RARE 1, X_NOCAT 1 (ties by id)
 *   weight=event:      C_OOS 7, C_RARE 6, U_TOP 5, T_OLD 4, ...
 *   half_life=1:       U_TOP 5, C_MID 2, T_NEW 3/2, C_RARE 1, X_NOCAT 1,
 *                      C_OOS 7/8, T_LOW 1/4, T_OLD 4 * 2^-100
 *   half_life=1 with t_ref = T - 1d: all doubled, same order.
 * Every value is exact in binary, so scores are compared exactly.
 *
 * What is checked: the orders above, k respected, no duplicates, cold start
 * (no items, no customer) and a customer's owned items dropped with k
 * still filled, the category filter (req.category) and per_category (one
 * category, merged categories, items without category), explain
 * (popularity, rank in the list served from, category), observe through
 * xs_engine_ingest (an item moves up, a new item, a far-future event with
 * decay rescales without overflow), the catalog hook, data without
 * customers (supports), and option refusals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

#define T 1735689600LL
#define DAY 86400LL

/* An engine on the fixture (or baskets) with popular created from
 * "key=value" options; NULL with err filled when refused. */
static xs_engine *engine_with(const char *events, const char *catalog,
                              const char *const *opts, xs_error *err)
{
    xs_engine *e = xtp_engine(events, catalog);
    if (e && xtp_add(e, "popular", opts, err)) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

static xs_engine *fixture_engine(const char *const *opts)
{
    xs_error err = {0};
    xs_engine *e = engine_with(xtp_data("plugins/popular_events.csv"),
                               xtp_data("plugins/popular_catalog.csv"), opts, &err);
    CHECK_MSG(e != NULL, "popular: %s", err.msg);
    return e;
}

typedef struct want {
    const char *item;
    double score;
} want;

/* A request: items (comma separated names), customer name or NULL,
 * category name or NULL. */
typedef struct ask {
    const char *items;
    const char *customer;
    const char *category;
    uint32_t k;
} ask;

static const xs_rec *expect(const char *label, xs_engine *e, xs_context *ctx,
                            ask a, const want *w, size_t n_w, size_t *n_out)
{
    uint32_t ids[16];
    uint32_t n_ids = xtp_items(e, a.items ? a.items : "", ids, 16);
    uint32_t cust = XS_NONE, cat = XS_NONE;
    if (a.customer) {
        const xs_dict *cd = xs_engine_dataset(e)->customers;
        cust = xs_dict_find(cd, a.customer, strlen(a.customer));
        CHECK_MSG(cust != XS_NONE, "%s: no customer '%s'", label, a.customer);
    }
    if (a.category) {
        cat = xs_catalog_category(xs_engine_catalog(e), a.category);
        CHECK_MSG(cat != XS_NONE, "%s: no category '%s'", label, a.category);
    }
    xs_request req = {ids, n_ids, cust, a.k ? a.k : 10, 1, cat};
    const xs_rec *recs = NULL;
    size_t n = 0;
    xs_error err = {0};
    int rc = xs_engine_recommend(e, ctx, "popular", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_OK, "%s: %s", label, err.msg);
    *n_out = n;
    int ok = n == n_w;
    for (size_t i = 0; ok && i < n; i++)
        ok = !strcmp(xs_engine_item_name(e, recs[i].item), w[i].item) &&
             recs[i].score == w[i].score;
    if (!ok) {
        CHECK_MSG(0, "%s gave:", label);
        for (size_t i = 0; i < n; i++)
            fprintf(stderr, "   got  %-8s %.17g\n",
                    xs_engine_item_name(e, recs[i].item), recs[i].score);
        for (size_t i = 0; i < n_w; i++)
            fprintf(stderr, "   want %-8s %.17g\n", w[i].item, w[i].score);
    }
    CHECK_MSG(n <= req.k, "%s: %zu answers for k=%u", label, n,
              (unsigned)req.k);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(recs[i].item != recs[j].item, "%s: %s twice", label,
                      xs_engine_item_name(e, recs[i].item));
    return recs;
}

#define EXPECT(label, e, ctx, a, n_out, ...)                                   \
    expect(label, e, ctx, a, (const want[]){__VA_ARGS__},                      \
           sizeof((const want[]){__VA_ARGS__}) / sizeof(want), n_out)
#define EXPECT_NONE(label, e, ctx, a, n_out)                                   \
    expect(label, e, ctx, a, NULL, 0, n_out)
#define ASK(...) ((ask){__VA_ARGS__})

static const xs_evidence_field *field(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key))
            return &r->ev.f[i];
    return NULL;
}

/* category NULL: the item has none, and no such field. */
static void expect_explain(const char *label, const xs_rec *r, double pop,
                           double rank, const char *category)
{
    const xs_evidence_field *p = field(r, "popularity"),
                            *k = field(r, "rank"), *c = field(r, "category");
    CHECK_MSG(p && p->value == pop, "%s: popularity %.17g, want %.17g",
              label, p ? p->value : NAN, pop);
    CHECK_MSG(k && k->value == rank, "%s: rank %g, want %g", label,
              k ? k->value : NAN, rank);
    if (category)
        CHECK_MSG(c && c->text && !strcmp(c->text, category),
                  "%s: category '%s', want '%s'", label,
                  c && c->text ? c->text : "(none)", category);
    else
        CHECK_MSG(!c, "%s: a category for an item without one", label);
}

static void test_orders(void)
{
    size_t n;
    const xs_rec *r;
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    /* cold start: no items, no customer */
    r = EXPECT("counts", e, ctx, ASK(.k = 10), &n, {"U_TOP", 5}, {"T_OLD", 4},
               {"T_NEW", 3}, {"C_MID", 2}, {"T_LOW", 1}, {"C_RARE", 1},
               {"X_NOCAT", 1});
    if (n == 7) { /* ranks count C_OOS, first in the list */
        expect_explain("counts U_TOP", &r[0], 5, 2, "cups");
        expect_explain("counts T_LOW", &r[4], 1, 6, "tea");
        expect_explain("counts X_NOCAT", &r[6], 1, 8, NULL);
    }
    EXPECT("counts k=1", e, ctx, ASK(.k = 1), &n, {"U_TOP", 5});
    EXPECT("counts k=3", e, ctx, ASK(.k = 3), &n, {"U_TOP", 5},
           {"T_OLD", 4}, {"T_NEW", 3});
    /* request items are not returned; the next ones fill k */
    EXPECT("counts {U_TOP,C_MID} k=3", e, ctx,
           ASK(.items = "U_TOP,C_MID", .k = 3), &n, {"T_OLD", 4}, {"T_NEW", 3},
           {"T_LOW", 1});
    /* a1 owns U_TOP and T_OLD: dropped, k still filled */
    EXPECT("a1 k=3", e, ctx, ASK(.customer = "a1", .k = 3), &n, {"T_NEW", 3},
           {"C_MID", 2}, {"T_LOW", 1});
    /* a customer never seen: XS_NONE, the cold start */
    EXPECT("unknown customer k=2", e, ctx, ASK(.items = "", .k = 2), &n,
           {"U_TOP", 5}, {"T_OLD", 4});
out:
    xs_context_free(ctx);
    xs_engine_free(e);

    e = fixture_engine((const char *const[]){"weight=event", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT("weight=event", e, ctx, ASK(.k = 10), &n, {"C_RARE", 6},
               {"U_TOP", 5}, {"T_OLD", 4}, {"T_NEW", 3}, {"C_MID", 2},
               {"T_LOW", 1}, {"X_NOCAT", 1});
    xs_context_free(ctx);
    xs_engine_free(e);

    /* decay: the old best-seller T_OLD falls to the end */
    e = fixture_engine((const char *const[]){"half_life=1", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        r = EXPECT("half_life=1", e, ctx, ASK(.k = 10), &n, {"U_TOP", 5},
                   {"C_MID", 2}, {"T_NEW", 1.5}, {"C_RARE", 1},
                   {"X_NOCAT", 1}, {"T_LOW", 0.25}, {"T_OLD", ldexp(1, -98)});
        if (n == 7) /* C_OOS (7/8) is 6th in the list */
            expect_explain("half_life=1 T_LOW", &r[5], 0.25, 7, "tea");
    }
    xs_context_free(ctx);
    xs_engine_free(e);

    /* t_ref one day earlier: everything doubles, same order */
    char t_ref[64];
    snprintf(t_ref, sizeof t_ref, "t_ref=%lld", T - DAY);
    e = fixture_engine((const char *const[]){"half_life=1", t_ref, NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT("half_life=1 t_ref=T-1d", e, ctx, ASK(.k = 10), &n,
               {"U_TOP", 10}, {"C_MID", 4}, {"T_NEW", 3}, {"C_RARE", 2},
               {"X_NOCAT", 2}, {"T_LOW", 0.5}, {"T_OLD", ldexp(1, -97)});
    xs_context_free(ctx);
    xs_engine_free(e);

    /* a t_ref so far back that weights would overflow: moved to T */
    e = fixture_engine((const char *const[]){"half_life=1", "t_ref=0", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx)
        EXPECT("half_life=1 t_ref=0", e, ctx, ASK(.k = 3), &n,
               {"U_TOP", 5}, {"C_MID", 2}, {"T_NEW", 1.5});
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_categories(void)
{
    size_t n;
    const xs_rec *r;
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        /* the filter, whatever per_category says */
        r = EXPECT("tea", e, ctx, ASK(.category = "tea"), &n, {"T_OLD", 4},
                   {"T_NEW", 3}, {"T_LOW", 1});
        if (n == 3)
            expect_explain("tea T_LOW", &r[2], 1, 3, "tea");
        r = EXPECT("coffee", e, ctx, ASK(.category = "coffee"), &n,
                   {"C_MID", 2}, {"C_RARE", 1});
        if (n == 2)
            expect_explain("coffee C_MID", &r[0], 2, 2, "coffee");
        EXPECT("cups", e, ctx, ASK(.category = "cups"), &n, {"U_TOP", 5});
        EXPECT("tea k=1", e, ctx,
               ASK(.items = "T_OLD", .category = "tea", .k = 1), &n,
               {"T_NEW", 3});
        /* per_category off: items do not choose the list */
        EXPECT("{T_NEW}", e, ctx, ASK(.items = "T_NEW", .k = 3), &n,
               {"U_TOP", 5}, {"T_OLD", 4}, {"C_MID", 2});
    }
    xs_context_free(ctx);
    xs_engine_free(e);

    e = fixture_engine((const char *const[]){"per_category=true", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        EXPECT("per_category {T_NEW}", e, ctx, ASK(.items = "T_NEW"), &n,
               {"T_OLD", 4}, {"T_LOW", 1});
        /* tea and coffee merged: C_OOS 7, T_OLD 4, T_NEW 3, C_MID 2,
         * T_LOW 1, C_RARE 1 */
        r = EXPECT("per_category {T_NEW,C_MID}", e, ctx,
                   ASK(.items = "T_NEW,C_MID"), &n, {"T_OLD", 4}, {"T_LOW", 1},
                   {"C_RARE", 1});
        if (n == 3) {
            expect_explain("merged T_OLD", &r[0], 4, 2, "tea");
            expect_explain("merged T_LOW", &r[1], 1, 5, "tea");
            expect_explain("merged C_RARE", &r[2], 1, 6, "coffee");
        }
        EXPECT("per_category {T_NEW,C_MID} k=2", e, ctx,
               ASK(.items = "T_NEW,C_MID", .k = 2), &n, {"T_OLD", 4},
               {"T_LOW", 1});
        /* the same category twice is served once */
        EXPECT("per_category {T_NEW,T_LOW}", e, ctx,
               ASK(.items = "T_NEW,T_LOW"), &n, {"T_OLD", 4});
        /* an item without category: the overall list */
        EXPECT("per_category {X_NOCAT}", e, ctx,
               ASK(.items = "X_NOCAT", .k = 2), &n, {"U_TOP", 5}, {"T_OLD", 4});
        /* the filter wins over the items' categories */
        EXPECT("per_category {T_NEW} coffee", e, ctx,
               ASK(.items = "T_NEW", .category = "coffee"), &n, {"C_MID", 2},
               {"C_RARE", 1});
        /* no items: the overall list */
        EXPECT("per_category cold", e, ctx, ASK(.k = 2), &n,
               {"U_TOP", 5}, {"T_OLD", 4});
    }
    xs_context_free(ctx);
    xs_engine_free(e);
}

static xs_ingest_event event(const char *customer, const char *item,
                             int64_t ts)
{
    return (xs_ingest_event){customer, item, NULL, (uint32_t)strlen(customer),
                             (uint32_t)strlen(item), 0, ts, 1, NAN, NULL, 0};
}

static void test_observe(void)
{
    size_t n;
    const xs_rec *r;
    xs_error err = {0};
    xs_engine *e = fixture_engine(NULL);
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        xs_ingest_event ev[5];
        for (int i = 0; i < 5; i++)
            ev[i] = event("z1", "T_LOW", T);
        if (CHECK_MSG(xs_engine_ingest(e, ev, 5, &err) == XS_OK, "ingest: %s",
                      err.msg)) {
            r = EXPECT("T_LOW +5", e, ctx, ASK(.k = 10), &n, {"T_LOW", 6},
                       {"U_TOP", 5}, {"T_OLD", 4}, {"T_NEW", 3}, {"C_MID", 2},
                       {"C_RARE", 1}, {"X_NOCAT", 1});
            if (n == 7)
                expect_explain("T_LOW +5", &r[0], 6, 2, "tea");
            r = EXPECT("T_LOW +5 tea", e, ctx, ASK(.category = "tea"), &n,
                       {"T_LOW", 6}, {"T_OLD", 4}, {"T_NEW", 3});
            if (n == 3)
                expect_explain("T_LOW +5 tea", &r[0], 6, 1, "tea");
        }
        /* a new item, not in the catalog */
        xs_ingest_event nv[8];
        for (int i = 0; i < 8; i++)
            nv[i] = event(i % 2 ? "z2" : "z3", "NEW1", T);
        if (CHECK_MSG(xs_engine_ingest(e, nv, 8, &err) == XS_OK, "ingest: %s",
                      err.msg)) {
            EXPECT("NEW1 +8", e, ctx, ASK(.k = 3), &n, {"NEW1", 8},
                   {"T_LOW", 6}, {"U_TOP", 5});
            EXPECT("NEW1 +8 tea", e, ctx, ASK(.category = "tea", .k = 1), &n,
                   {"T_LOW", 6});
        }
    }
    xs_context_free(ctx);
    xs_engine_free(e);

    /* decay: an event a day after T weighs 2 (half_life 1 day); then one
     * 1000 days later weighs 2^1000 against T: t_ref moves there and every
     * popularity is rescaled by 2^-1000 (T_OLD's 2^-98 underflows to 0) */
    e = fixture_engine((const char *const[]){"half_life=1", NULL});
    ctx = e ? xs_context_new(e) : NULL;
    if (ctx) {
        xs_ingest_event one = event("z1", "T_LOW", T + DAY);
        if (CHECK_MSG(xs_engine_ingest(e, &one, 1, &err) == XS_OK,
                      "ingest: %s", err.msg))
            EXPECT("decay T_LOW +2", e, ctx, ASK(.k = 10), &n, {"U_TOP", 5},
                   {"T_LOW", 2.25}, {"C_MID", 2}, {"T_NEW", 1.5},
                   {"C_RARE", 1}, {"X_NOCAT", 1}, {"T_OLD", ldexp(1, -98)});
        xs_ingest_event far = event("z1", "C_MID", T + 1000 * DAY);
        if (CHECK_MSG(xs_engine_ingest(e, &far, 1, &err) == XS_OK,
                      "ingest: %s", err.msg))
            EXPECT("decay far", e, ctx, ASK(.k = 10), &n, {"C_MID", 1},
                   {"U_TOP", ldexp(5, -1000)}, {"T_LOW", ldexp(2.25, -1000)},
                   {"T_NEW", ldexp(1.5, -1000)}, {"C_RARE", ldexp(1, -1000)},
                   {"X_NOCAT", ldexp(1, -1000)}, {"T_OLD", 0});
    }
    xs_context_free(ctx);
    xs_engine_free(e);
}

static xs_catalog_item entry(const char *item, const char *category,
                             int in_stock)
{
    return (xs_catalog_item){.item = item,
                             .category = category,
                             .item_len = (uint32_t)strlen(item),
                             .category_len = (uint32_t)strlen(category),
                             .price = 5,
                             .margin = NAN,
                             .in_stock = in_stock};
}

static void test_catalog_hook(void)
{
    size_t n, added;
    xs_error err = {0};
    xs_engine *e = fixture_engine((const char *const[]){"per_category=true",
                                                        NULL});
    xs_context *ctx = e ? xs_context_new(e) : NULL;
    if (!ctx)
        goto out;
    /* T_LOW to coffee, C_MID to a new category, X_NOCAT gets one */
    xs_catalog_item batch[] = {entry("T_LOW", "coffee", 1),
                               entry("C_MID", "juice", 1),
                               entry("X_NOCAT", "tea", 1)};
    if (!CHECK_MSG(xs_engine_catalog_upsert(e, batch, 3, &added, &err) ==
                       XS_OK,
                   "upsert: %s", err.msg))
        goto out;
    CHECK_EQU(added, 1);
    EXPECT("hook tea", e, ctx, ASK(.category = "tea"), &n, {"T_OLD", 4},
           {"T_NEW", 3}, {"X_NOCAT", 1});
    EXPECT("hook coffee", e, ctx, ASK(.category = "coffee"), &n,
           {"T_LOW", 1}, {"C_RARE", 1});
    EXPECT("hook juice", e, ctx, ASK(.category = "juice"), &n, {"C_MID", 2});
    EXPECT("hook per_category {C_RARE}", e, ctx, ASK(.items = "C_RARE"), &n,
           {"T_LOW", 1});
out:
    xs_context_free(ctx);
    xs_engine_free(e);
}

/* Baskets: x in 3, y in 2, z in 1. */
static void test_no_customers(void)
{
    size_t n;
    xs_error err = {0};
    xs_engine *e = engine_with(xtp_data("plugins/popular_baskets.csv"), NULL,
                               (const char *const[]){"half_life=3", NULL},
                               &err);
    if (!CHECK_MSG(e != NULL, "popular on baskets: %s", err.msg))
        return;
    CHECK_MSG(xtp_logged("half_life and weight do not apply"),
              "no warning that half_life does not apply");
    xs_context *ctx = xs_context_new(e);
    if (ctx) {
        EXPECT("baskets", e, ctx, ASK(.k = 10), &n, {"x", 3}, {"y", 2},
               {"z", 1});
        EXPECT("baskets {x}", e, ctx, ASK(.items = "x"), &n, {"y", 2},
               {"z", 1});
        /* ingest: supports re-read (z in 2 more orders) */
        xs_ingest_event ev[2] = {event("q", "z", 0), event("q", "z", 0)};
        ev[0].order = "n1";
        ev[0].order_len = 2;
        ev[1].order = "n2";
        ev[1].order_len = 2;
        if (CHECK_MSG(xs_engine_ingest(e, ev, 2, &err) == XS_OK, "ingest: %s",
                      err.msg))
            EXPECT("baskets z +2", e, ctx, ASK(.k = 10), &n, {"x", 3}, {"z", 3},
                   {"y", 2});
    }
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_refusals(void)
{
    static const struct {
        const char *opt;
        const char *msg;
    } bad[] = {
        {"foo=1", "plugin popular: unknown option 'foo' (half_life, t_ref, "
                  "weight, per_category)"},
        {"half_life=-1", "plugin popular: half_life: want a number of days "
                         "in [0, 1000000], not '-1'"},
        {"half_life=soon", "plugin popular: half_life: want a number of days "
                           "in [0, 1000000], not 'soon'"},
        {"t_ref=yesterday", "plugin popular: t_ref: want unix seconds or "
                            "YYYY-MM-DD, not 'yesterday'"},
        {"t_ref=1.5", "plugin popular: t_ref: want unix seconds or "
                      "YYYY-MM-DD, not '1.5'"},
        {"weight=rating", "plugin popular: weight: want one or event, not "
                          "'rating'"},
        {"per_category=maybe", "plugin popular: per_category: want true or "
                               "false, not 'maybe'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xs_error err = {0};
        xs_engine *e =
            engine_with(xtp_data("plugins/popular_events.csv"),
                        xtp_data("plugins/popular_catalog.csv"),
                        (const char *const[]){bad[i].opt, NULL}, &err);
        CHECK_MSG(e == NULL && err.code == XS_ERR_PLUGIN,
                  "%s: accepted or wrong code %d", bad[i].opt, err.code);
        CHECK_HAS(err.msg, bad[i].msg);
        xs_engine_free(e);
    }
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    test_orders();
    test_categories();
    test_observe();
    test_catalog_hook();
    test_no_customers();
    test_refusals();
    return xt_done();
}
