/*
 * test_recency.c -- the recency plugin through the engine API, on
 * tests/data/plugins/recency_events.csv, with answers worked out by hand and
 * checked against an independent brute force written from the formulas in
 * plugins/recency/recency.h (recency_model.c); test_recency_online.c has
 * ingest, prepare() and the neighbour lists.
 *
 * The fixture (columns customer,item,timestamp,weight,order; day n means
 * 2024-01-01 + n days, so day 0 = Jan 1, 30 = Jan 31, 60 = Mar 1, 90 =
 * Mar 31, 120 = Apr 30, the latest event: the default t_ref).  Ids by first
 * appearance: apple 0, bread 1, cheese 2, xmas 3, xtra 4, yam 5, yolk 6,
 * ma 7 .. me 11.  Three separate worlds:
 *
 *   basket ordering  u1 o1 day 0: apple, bread;  u2 o2 day 60: apple, cheese
 *   personal         p o3 day 0: xmas (weight 5);  q o4 day 30: xmas, xtra;
 *                    r o5 day 60: yam, yolk;  p o6 day 120: yam (weight 2)
 *   a mix            m1, m2, m3 in orders o10..o15, for the brute force
 *                    (repeat purchases, an item bought twice in one order,
 *                    mb-mc seen in 2 orders for min_count)
 *
 * Hand-worked answers (half_life 30 days, basket scope, t_ref day 120):
 *
 *   Basket {apple}.  Group decays: o1 2^(-120/30) = 1/16, o2 2^(-60/30) =
 *   1/4.  D_apple = 5/16, D_bread = 1/16, D_cheese = 1/4, D_apple,bread =
 *   1/16, D_apple,cheese = 1/4.  jaccard(bread) = (1/16) / (5/16 + 1/16 -
 *   1/16) = 0.2, jaccard(cheese) = (1/4) / (5/16 + 1/4 - 1/4) = 0.8: cheese,
 *   co-bought recently, first although its id is higher.  With half_life
 *   1e300 days every decay is exactly 1: both 1 / (2 + 1 - 1) = 0.5, a tie,
 *   bread (lower id) first.  similarity=count: 1/4 and 1/16.
 *
 *   Customer p.  a(xmas) = 5 * 2^(-120/30) = 0.3125, a(yam) = 2 * 1 = 2.
 *   Counts (orders): n_xmas = 2, n_xtra = 1, n_xmas,xtra = 1; the same for
 *   yam/yolk.  jaccard 1 / (2 + 1 - 1) = 0.5 for both pairs, so score(yolk)
 *   = 2 * 0.5 = 1, score(xtra) = 0.3125 * 0.5 = 0.15625: yolk first though
 *   xmas was bought with the larger weight.  Owned items score their self
 *   term a(i) * 1 (yam 2, xmas 0.3125) when kept.  weight=one: a(xmas) =
 *   1/16, a(yam) = 1: yolk 0.5, xtra 0.03125.  cosine: 1 / sqrt(2 * 1).
 *   t_ref = 2024-03-31 (30 days earlier): every affinity doubles (yam's
 *   event, after t_ref, weighs 2^(30/30) = 2 per unit), so do the scores.
 *
 *   Ingest (observe) of u3 o9 day 150: apple, bread; u2 o2 day 150: bread;
 *   u1 o1 day 150: apple (t_ref stays day 120: day 150 weighs 2).  Groups:
 *   o1 apple 2, bread 1/16; o2 apple 1/4, cheese 1/4, bread 2; o9 apple 2,
 *   bread 2.  D_apple = 4.25, D_bread = 4.0625, D_apple,bread = min(2, 1/16)
 *   + min(1/4, 2) + 2 = 2.3125 (a pair counts from its older purchase), so
 *   jaccard(bread) = 2.3125 / (4.25 + 4.0625 - 2.3125) = 0.3854, cheese
 *   0.25 / 4.25 = 0.0588: bread first.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "recency_model.h"
#include "test_util.h"

static void test_basket_recency(void)
{
    static const char *const def[] = {NULL};
    xs_engine *e = recency_on(fixture, 0, def);
    if (!e)
        return;
    xs_context *ctx = xs_context_new(e);
    CHECK_EQU(xs_engine_item(e, "bread"), 1);
    CHECK_EQU(xs_engine_item(e, "cheese"), 2);
    /* no customer: the basket path on D */
    const want w[] = {{"cheese", 0.8}, {"bread", 0.2}};
    const xs_rec *r = expect("basket {apple}", e, ctx, NULL, "apple", 10,
                             1e-6, w, 2);
    if (r) {
        check_text(&r[0], "from", "apple");
        check_num(&r[0], "decayed_count", 0.25);
        check_num(&r[0], "similarity", 0.8);
        check_num(&r[1], "decayed_count", 1.0 / 16);
    }
    /* an unknown customer falls back to the basket path */
    expect("unknown customer", e, ctx, "nobody", "apple", 10, 1e-6, w, 2);
    /* k respected */
    expect("k=1", e, ctx, NULL, "apple", 1, 1e-6, w, 1);
    /* nothing to score */
    size_t n = 99;
    run(e, ctx, NULL, "", 10, &n);
    CHECK_EQU(n, 0);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const huge[] = {"half_life=1e300", NULL};
    e = recency_on(fixture, 0, huge);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want tie[] = {{"bread", 0.5}, {"cheese", 0.5}};
    expect("huge half_life: a tie, lower id first", e, ctx, NULL, "apple", 10,
           0, tie, 2);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const count[] = {"similarity=count", NULL};
    e = recency_on(fixture, 0, count);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want wc[] = {{"cheese", 0.25}, {"bread", 1.0 / 16}};
    expect("count", e, ctx, NULL, "apple", 10, 1e-6, wc, 2);
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_personal(void)
{
    static const char *const def[] = {NULL};
    xs_engine *e = recency_on(fixture, 0, def);
    if (!e)
        return;
    xs_context *ctx = xs_context_new(e);
    /* owned items kept: their self terms show */
    const want all[] = {{"yam", 2.0}, {"yolk", 1.0}, {"xmas", 0.3125},
                        {"xtra", 0.15625}};
    const xs_rec *r = expect("p, owned kept", e, ctx, "p", "", 10, 1e-12,
                             all, 4);
    if (r) {
        check_text(&r[1], "from", "yam");
        check_num(&r[1], "affinity", 2.0);
        check_num(&r[1], "similarity", 0.5);
        check_num(&r[1], "age_days", 0);
        check_num(&r[1], "half_life_days", 30);
        check_text(&r[3], "from", "xmas");
        check_num(&r[3], "affinity", 0.3125);
        check_num(&r[3], "age_days", 120);
    }
    expect("p, k=2", e, ctx, "p", "", 2, 1e-12, all, 2);
    /* the engine's default: owned items dropped */
    xs_error err = {0};
    CHECK(xs_engine_set_rule(e, "exclude_owned", "true", &err) == XS_OK);
    const want fresh[] = {{"yolk", 1.0}, {"xtra", 0.15625}};
    expect("p, owned dropped", e, ctx, "p", "", 10, 1e-12, fresh, 2);
    /* a request item adds affinity 1 (viewed now): apple's neighbours join
     * with the plain-count jaccard 1 / (2 + 1 - 1) */
    const want viewed[] = {{"yolk", 1.0}, {"bread", 0.5}, {"cheese", 0.5},
                           {"xtra", 0.15625}};
    expect("p viewing apple", e, ctx, "p", "apple", 10, 1e-12, viewed, 4);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const one[] = {"weight=one", NULL};
    e = recency_on(fixture, 0, one);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want w1[] = {{"yam", 1.0}, {"yolk", 0.5}, {"xmas", 0.0625},
                       {"xtra", 0.03125}};
    r = expect("weight=one", e, ctx, "p", "", 10, 1e-12, w1, 4);
    if (r)
        check_num(&r[3], "affinity", 0.0625);
    xs_context_free(ctx);
    xs_engine_free(e);

    static const char *const cos[] = {"similarity=cosine", NULL};
    e = recency_on(fixture, 0, cos);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want wcos[] = {{"yam", 2.0},
                         {"yolk", 2.0 / sqrt(2)},
                         {"xmas", 0.3125},
                         {"xtra", 0.3125 / sqrt(2)}};
    expect("cosine", e, ctx, "p", "", 10, 1e-12, wcos, 4);
    xs_context_free(ctx);
    xs_engine_free(e);

    /* t_ref 30 days before the latest event: the same ranking, every score
     * times 2^(30/30) */
    static const char *const tref[] = {"t_ref=2024-03-31", NULL};
    e = recency_on(fixture, 0, tref);
    if (!e)
        return;
    ctx = xs_context_new(e);
    const want w2[] = {{"yam", 4.0}, {"yolk", 2.0}, {"xmas", 0.625},
                       {"xtra", 0.3125}};
    expect("t_ref=2024-03-31", e, ctx, "p", "", 10, 1e-12, w2, 4);
    xs_context_free(ctx);
    xs_engine_free(e);
    /* the same as unix seconds, with a half-life of 15 days: 2^(30/15) */
    char opt[64];
    snprintf(opt, sizeof opt, "t_ref=%lld",
             (long long)when("2024-03-31"));
    const char *const tsec[] = {opt, "half_life=15", NULL};
    e = recency_on(fixture, 0, tsec);
    if (!e)
        return;
    ctx = xs_context_new(e);
    /* a(xmas) = 5 * 2^(-90/15) = 5/64, a(yam) = 2 * 2^(30/15) = 8; at the
     * default t_ref: 5/256 and 2, so 4 times less */
    const want w3[] = {{"yam", 8.0}, {"yolk", 4.0}, {"xmas", 5.0 / 64},
                       {"xtra", 5.0 / 128}};
    expect("t_ref in seconds", e, ctx, "p", "", 10, 1e-12, w3, 4);
    xs_context_free(ctx);
    xs_engine_free(e);
}

/* ---- pushing the best first ---------------------------------------------------- */

/* The plugin pushes its best m candidates first and the rest only when the
 * host refused too many of them: excluding the first e items of the full
 * answer must give the items after them, for every e (the refusals
 * outnumbering m for the larger e), personal and basket requests alike. */
static void expect_after_exclusions(const char *label, xs_engine *e,
                                    xs_context *ctx, uint32_t cust,
                                    const uint32_t *items, uint32_t n_items)
{
    xs_request req = {items, n_items, cust, MAX_REC, 0, XS_NONE};
    const xs_rec *r = NULL;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(e, ctx, "recency", &req, &r, &n,
                                       &err) == XS_OK, "%s: %s", label,
                   err.msg))
        return;
    uint32_t full[MAX_REC];
    double score[MAX_REC];
    for (size_t i = 0; i < n; i++) {
        full[i] = r[i].item;
        score[i] = r[i].score;
    }
    for (size_t ex = 1; ex < n; ex++) {
        req.k = 2;
        const xs_rec *q = NULL;
        size_t nq = 0;
        if (!CHECK_MSG(xs_engine_recommend_excluding(e, ctx, "recency", &req,
                                                     full, (uint32_t)ex, &q,
                                                     &nq, &err) == XS_OK,
                       "%s: %s", label, err.msg))
            return;
        size_t n_want = n - ex < 2 ? n - ex : 2;
        int ok = nq == n_want;
        for (size_t i = 0; ok && i < nq; i++)
            ok = q[i].item == full[ex + i] && q[i].score == score[ex + i];
        CHECK_MSG(ok, "%s: customer %u, %u items, %zu excluded: %zu results, "
                  "not the %zu after them", label, (unsigned)cust,
                  (unsigned)n_items, ex, nq, n_want);
    }
}

static void test_refusals(void)
{
    /* a generated store: requests with hundreds of candidates, many more
     * than the plugin picks first */
    char dir[1024], events[1100];
    snprintf(dir, sizeof dir, "%s/refusals", xt_tmpdir());
    snprintf(events, sizeof events, "%s/events.csv", dir);
    xs_gen_params g = {300, 200, 1500, 11, 0, NULL, 0, 0, 0};
    xs_error err = {0};
    if (!CHECK_MSG(xs_gen_write(&g, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    static const char *const cases[][3] = {
        {NULL},
        {"scope=customer", "similarity=cosine", NULL},
        {"similarity=llr", NULL},
        {"max_neighbours=5", NULL},
    };
    static const char *const labels[] = {"defaults", "customer, cosine",
                                         "llr", "max_neighbours=5"};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        xs_engine *e = recency_on(events, 0, cases[t]);
        if (!e)
            return;
        xs_context *ctx = xs_context_new(e);
        uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
        for (uint32_t c = 0; c < 300; c += 29)
            expect_after_exclusions(labels[t], e, ctx, c, NULL, 0);
        for (uint32_t x = 0; x < n_items; x += 37)
            expect_after_exclusions(labels[t], e, ctx, XS_NONE, &x, 1);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
}

static void test_no_decay(void)
{
    /* --baskets data: no customers, no timestamps; plain-count jaccard of
     * small_baskets.csv: milk 7, bread 7 (5 together), yogurt 5 (3), jam 4
     * (3), coffee 2 (1) */
    static const char *const def[] = {NULL};
    xs_engine *e = recency_on(baskets, 1, def);
    if (!e)
        return;
    xs_context *ctx = xs_context_new(e);
    const want w[] = {{"bread", 5.0 / 9}, {"jam", 3.0 / 8},
                      {"yogurt", 3.0 / 9}, {"coffee", 1.0 / 8}};
    const xs_rec *r = expect("baskets {milk}", e, ctx, NULL, "milk", 10,
                             1e-12, w, 4);
    if (r)
        check_num(&r[0], "decayed_count", 5);
    xs_context_free(ctx);
    xs_engine_free(e);
    /* llr: plain counts on the basket path, and it serves */
    static const char *const llr[] = {"similarity=llr", NULL};
    e = recency_on(fixture, 0, llr);
    if (!e)
        return;
    ctx = xs_context_new(e);
    size_t n;
    run(e, ctx, NULL, "apple", 10, &n);
    CHECK_EQU(n, 2);
    run(e, ctx, "p", "", 10, &n);
    CHECK(n > 0);
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_bad_options(void)
{
    static const struct {
        const char *opt, *needle;
        int is_baskets;
    } bad[] = {
        {"colour=red", "colour", 0},
        {"half_life=0", "half_life", 0},
        {"half_life=-3", "half_life", 0},
        {"half_life=x", "half_life", 0},
        {"half_life=inf", "half_life", 0},
        {"similarity=foo", "similarity", 0},
        {"t_ref=garbage", "t_ref", 0},
        {"t_ref=2024-02-30", "t_ref", 0},
        {"t_ref=2024-1-01", "t_ref", 0},
        {"weight=x", "weight", 0},
        {"min_count=0", "min_count", 0},
        {"min_count=1.5", "min_count", 0},
        {"scope=everything", "scope", 0},
        {"scope=customer", "scope", 1},
        {"max_neighbours=-1", "max_neighbours", 0},
        {"max_neighbours=x", "max_neighbours", 0},
        {"max_neighbours=1.5", "max_neighbours", 0},
        {"max_neighbours=", "max_neighbours", 0},
        {"max_neighbours=4294967296", "max_neighbours", 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xs_engine *e = engine_on(bad[i].is_baskets ? baskets : fixture,
                                 bad[i].is_baskets);
        if (!e)
            continue;
        const char *const opts[] = {bad[i].opt, NULL};
        char msg[512];
        int rc = add_recency(e, opts, msg, sizeof msg);
        CHECK_MSG(rc != XS_OK, "%s accepted", bad[i].opt);
        CHECK_MSG(strstr(msg, bad[i].needle) && strstr(msg, "recency"),
                  "%s: message '%s'", bad[i].opt, msg);
        xs_engine_free(e);
    }
    /* and the good spellings */
    xs_engine *e = engine_on(fixture, 0);
    if (e) {
        const char *const opts[] = {"half_life=0.5", "t_ref=1700000000",
                                    "similarity=lift", "scope=auto",
                                    "weight=event", "min_count=3",
                                    "max_neighbours=5", NULL};
        char msg[512];
        CHECK_MSG(add_recency(e, opts, msg, sizeof msg) == XS_OK, "%s", msg);
        xs_engine_free(e);
    }
}

/* The defaults (recency.h, "Defaults"): cosine, min_count=2 and a
 * half-life of 365 days, the other tests pinning SAR's jaccard, 1 and 30
 * (add_recency).  On the baskets, cosine
 * of the plain counts with coffee (1 basket with milk) left out; on a
 * generated store, the defaults answer exactly as the two options given. */
static void test_defaults(void)
{
    xs_engine *e = engine_on(baskets, 1);
    xs_error err = {0};
    if (!e || !CHECK_MSG(xtp_add(e, "recency", NULL, &err) == XS_OK, "%s",
                         err.msg)) {
        xs_engine_free(e);
        return;
    }
    xs_context *ctx = xs_context_new(e);
    const want w[] = {{"bread", 5.0 / 7}, {"jam", 3.0 / sqrt(28)},
                      {"yogurt", 3.0 / sqrt(35)}};
    expect("defaults, baskets {milk}", e, ctx, NULL, "milk", 10, 1e-12, w, 3);
    xs_context_free(ctx);
    xs_engine_free(e);

    char dir[1024], events[1100];
    snprintf(dir, sizeof dir, "%s/defaults", xt_tmpdir());
    snprintf(events, sizeof events, "%s/events.csv", dir);
    xs_gen_params g = {200, 150, 900, 5, 0, NULL, 0, 0, 0};
    if (!CHECK_MSG(xs_gen_write(&g, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    xs_engine *d = engine_on(events, 0);
    static const char *const given[] = {"similarity=cosine", "min_count=2",
                                        "half_life=365", NULL};
    xs_engine *o = recency_on(events, 0, given);
    if (d && o &&
        CHECK_MSG(xtp_add(d, "recency", NULL, &err) == XS_OK, "%s",
                  err.msg) &&
        CHECK(xs_engine_set_rule(d, "exclude_owned", "false", &err) ==
              XS_OK)) {
        xs_context *cd = xs_context_new(d), *co = xs_context_new(o);
        uint32_t n_items = xs_dict_size(xs_engine_dataset(d)->items);
        for (uint32_t c = 0; c < 200 + n_items; c += 13) {
            uint32_t item = c >= 200 ? c - 200 : 0;
            xs_request req = {c >= 200 ? &item : NULL, c >= 200,
                              c < 200 ? c : XS_NONE, 20, 0, XS_NONE};
            const xs_rec *rd, *ro;
            size_t nd = 0, no = 0;
            int ok = xs_engine_recommend(d, cd, "recency", &req, &rd, &nd,
                                         &err) == XS_OK &&
                     xs_engine_recommend(o, co, "recency", &req, &ro, &no,
                                         &err) == XS_OK &&
                     nd == no;
            for (size_t i = 0; ok && i < nd; i++)
                ok = rd[i].item == ro[i].item && rd[i].score == ro[i].score;
            CHECK_MSG(ok, "defaults differ from similarity=cosine "
                          "min_count=2 half_life=365 (request %u)",
                      (unsigned)c);
        }
        xs_context_free(cd);
        xs_context_free(co);
    }
    xs_engine_free(d);
    xs_engine_free(o);
}

int main(void)
{
    int rc = recency_model_init();
    if (rc)
        return rc;
    test_basket_recency();
    test_personal();
    brute_force_check(fixture, when("2024-04-30"));
    test_refusals();
    test_no_decay();
    test_bad_options();
    test_defaults();
    return xt_done();
}
