/*
 * test_eval.c -- the evaluation library (xsell/eval.h): every metric on
 * cases worked out by hand (no hits, |R| < k, |R| > k, a short list), the
 * accumulator's means and coverage, and the three splits: determinism
 * (same seed same split, another seed another), train and test disjoint
 * with the input as their union, each method's rule, and the errors
 * (empty test set, temporal without timestamps, bad ratio or method);
 * the basket split (whole baskets, round(ratio x n) in train, one hidden
 * item per held-out basket of >= 2 distinct items, orders required).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/xsell.h"

#define TOL 1e-12

static double lg(double x) { return log2(x); }

static void test_user_metrics(void)
{
    xs_user_metrics m;
    xs_error err = {0};
    /* hits at ranks 2 and 5 of 5, |R| = 3 */
    const uint32_t rec1[] = {1, 2, 3, 4, 5}, rel1[] = {2, 5, 9};
    CHECK_EQ(xs_eval_user(rec1, 5, rel1, 3, 5, &m, &err), XS_OK);
    CHECK_NEAR(m.precision, 2.0 / 5, TOL);
    CHECK_NEAR(m.recall, 2.0 / 3, TOL);
    CHECK_NEAR(m.ndcg, (1 / lg(3) + 1 / lg(6)) / (1 + 1 / lg(3) + 1 / lg(4)),
               TOL);
    CHECK_NEAR(m.ap, (1.0 / 2 + 2.0 / 5) / 3, TOL);
    CHECK_EQ(m.hit, 1);
    CHECK_EQU(m.hits, 2);
    CHECK_NEAR(m.rr, 0.5, TOL); /* first hit at rank 2 */
    /* no hits */
    const uint32_t rec2[] = {1, 2}, rel2[] = {3};
    CHECK_EQ(xs_eval_user(rec2, 2, rel2, 1, 2, &m, &err), XS_OK);
    CHECK_NEAR(m.precision, 0, TOL);
    CHECK_NEAR(m.recall, 0, TOL);
    CHECK_NEAR(m.ndcg, 0, TOL);
    CHECK_NEAR(m.ap, 0, TOL);
    CHECK_NEAR(m.rr, 0, TOL);
    CHECK_EQ(m.hit, 0);
    /* |R| = 1 < k = 4, hit at rank 1: ideal over one rank */
    const uint32_t rec3[] = {7, 8, 9, 10}, rel3[] = {7};
    CHECK_EQ(xs_eval_user(rec3, 4, rel3, 1, 4, &m, &err), XS_OK);
    CHECK_NEAR(m.precision, 0.25, TOL);
    CHECK_NEAR(m.recall, 1, TOL);
    CHECK_NEAR(m.ndcg, 1, TOL);
    CHECK_NEAR(m.ap, 1, TOL);
    /* |R| = 1 < k, hit at rank 3 */
    const uint32_t rec3b[] = {8, 9, 7}, rel3b[] = {7};
    CHECK_EQ(xs_eval_user(rec3b, 3, rel3b, 1, 4, &m, &err), XS_OK);
    CHECK_NEAR(m.ndcg, 1 / lg(4), TOL);
    CHECK_NEAR(m.ap, 1.0 / 3, TOL);
    CHECK_NEAR(m.rr, 1.0 / 3, TOL); /* one relevant item: rr = ap */
    /* |R| = 5 > k = 2, both hit: ndcg 1, ap divided by |R| (not k) */
    const uint32_t rec4[] = {1, 2}, rel4[] = {1, 2, 3, 4, 5};
    CHECK_EQ(xs_eval_user(rec4, 2, rel4, 5, 2, &m, &err), XS_OK);
    CHECK_NEAR(m.precision, 1, TOL);
    CHECK_NEAR(m.recall, 0.4, TOL);
    CHECK_NEAR(m.ndcg, 1, TOL);
    CHECK_NEAR(m.ap, 0.4, TOL);
    /* |R| = 4 > k = 3, hit at rank 2 only */
    const uint32_t rec4b[] = {9, 3, 8}, rel4b[] = {1, 2, 3, 4};
    CHECK_EQ(xs_eval_user(rec4b, 3, rel4b, 4, 3, &m, &err), XS_OK);
    CHECK_NEAR(m.precision, 1.0 / 3, TOL);
    CHECK_NEAR(m.recall, 0.25, TOL);
    CHECK_NEAR(m.ndcg, (1 / lg(3)) / (1 + 1 / lg(3) + 1 / lg(4)), TOL);
    CHECK_NEAR(m.ap, (1.0 / 2) / 4, TOL);
    /* a list shorter than k: precision still over k */
    const uint32_t rec5[] = {3}, rel5[] = {3};
    CHECK_EQ(xs_eval_user(rec5, 1, rel5, 1, 10, &m, &err), XS_OK);
    CHECK_NEAR(m.precision, 0.1, TOL);
    CHECK_NEAR(m.ndcg, 1, TOL);
    /* only the first k of a longer list count */
    const uint32_t rec6[] = {1, 2, 3}, rel6[] = {3};
    CHECK_EQ(xs_eval_user(rec6, 3, rel6, 1, 2, &m, &err), XS_OK);
    CHECK_EQU(m.hits, 0);
    /* errors */
    CHECK_EQ(xs_eval_user(rec1, 5, rel1, 3, 0, &m, &err), XS_ERR_USAGE);
    CHECK_EQ(xs_eval_user(rec1, 5, rel1, 0, 5, &m, &err), XS_ERR_USAGE);
}

static void test_accumulator(void)
{
    xs_error err = {0};
    xs_eval *ev = xs_eval_new(10, 2);
    if (!CHECK(ev != NULL))
        return;
    xs_eval_report r;
    xs_eval_result(ev, &r);
    CHECK_EQU(r.users, 0);
    CHECK_NEAR(r.precision, 0, TOL);
    const uint32_t a[] = {1, 2}, ra[] = {2}, b[] = {2, 3}, rb[] = {9};
    CHECK_EQ(xs_eval_add(ev, a, 2, ra, 1, &err), XS_OK);
    CHECK_EQ(xs_eval_add(ev, b, 2, rb, 1, &err), XS_OK);
    xs_eval_result(ev, &r);
    CHECK_EQU(r.users, 2);
    CHECK_NEAR(r.precision, (0.5 + 0) / 2, TOL);
    CHECK_NEAR(r.recall, (1 + 0) / 2.0, TOL);
    CHECK_NEAR(r.ndcg, (1 / lg(3)) / 2, TOL);
    CHECK_NEAR(r.map, (0.5 + 0) / 2, TOL);
    CHECK_NEAR(r.hit_rate, 0.5, TOL);
    CHECK_NEAR(r.mrr, (0.5 + 0) / 2, TOL);
    CHECK_NEAR(r.coverage, 3.0 / 10, TOL); /* items 1, 2, 3 */
    xs_eval_free(ev);
}

/* A dataset of n_cust customers, customer c with (c % 7) + 1 events on
 * distinct items at pseudo-random times (some equal). */
static xs_dataset *make_data(uint32_t n_cust, int with_ts)
{
    xs_dataset *ds = xs_dataset_new();
    if (!ds)
        return NULL;
    ds->has_customer = 1;
    ds->has_timestamp = with_ts;
    ds->has_weight = 1;
    uint64_t s = 12345;
    char name[32];
    for (uint32_t round = 0; round < 7; round++)
        for (uint32_t c = 0; c < n_cust; c++) {
            if (round > c % 7)
                continue;
            xs_event ev = {0, 0, XS_NONE, 0, 0, 1.0, NAN};
            snprintf(name, sizeof name, "cust%u", c);
            xs_dict_intern(ds->customers, name, strlen(name), &ev.customer);
            snprintf(name, sizeof name, "item%u", (c * 3 + round * 5) % 23);
            xs_dict_intern(ds->items, name, strlen(name), &ev.item);
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            ev.ts = with_ts ? 1600000000 + (int64_t)((s >> 33) % 50) * 3600
                            : 0;
            ev.weight = (double)((s >> 20) % 5 + 1);
            xs_dataset_push(ds, &ev);
        }
    return ds;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every event as "customer|item|ts|weight", sorted. */
static char **event_keys(const xs_dataset *ds)
{
    char **k = calloc(ds->n_events + 1, sizeof *k);
    for (size_t i = 0; k && i < ds->n_events; i++) {
        const xs_event *e = &ds->events[i];
        char buf[128];
        snprintf(buf, sizeof buf, "%s|%s|%lld|%g",
                 xs_dict_name(ds->customers, e->customer),
                 xs_dict_name(ds->items, e->item), (long long)e->ts,
                 e->weight);
        k[i] = strdup(buf);
    }
    if (k)
        qsort(k, ds->n_events, sizeof *k, cmp_str);
    return k;
}

static void free_keys(char **k, size_t n)
{
    for (size_t i = 0; k && i < n; i++)
        free(k[i]);
    free(k);
}

/* train and test partition ds: the multiset union of their events is ds's. */
static void check_partition(const xs_dataset *ds, const unsigned char *t)
{
    xs_error err = {0};
    xs_dataset *tr = xs_dataset_subset(ds, t, 0, &err);
    xs_dataset *te = xs_dataset_subset(ds, t, 1, &err);
    if (!CHECK(tr && te)) {
        xs_dataset_free(tr);
        xs_dataset_free(te);
        return;
    }
    CHECK_EQU(tr->n_events + te->n_events, ds->n_events);
    CHECK(te->n_events > 0 && tr->n_events > 0);
    xs_dataset *both = xs_dataset_new();
    for (int side = 0; side < 2; side++) {
        const xs_dataset *p = side ? te : tr;
        for (size_t i = 0; i < p->n_events; i++) {
            xs_event e = p->events[i];
            const char *c = xs_dict_name(p->customers, e.customer);
            const char *it = xs_dict_name(p->items, e.item);
            xs_dict_intern(both->customers, c, strlen(c), &e.customer);
            xs_dict_intern(both->items, it, strlen(it), &e.item);
            xs_dataset_push(both, &e);
        }
    }
    char **a = event_keys(ds), **b = event_keys(both);
    int same = a && b && both->n_events == ds->n_events;
    for (size_t i = 0; same && i < ds->n_events; i++)
        same = !strcmp(a[i], b[i]);
    CHECK_MSG(same, "train + test events == input events");
    free_keys(a, ds->n_events);
    free_keys(b, both->n_events);
    xs_dataset_free(both);
    xs_dataset_free(tr);
    xs_dataset_free(te);
}

static void test_stratified(void)
{
    xs_error err = {0};
    xs_dataset *ds = make_data(60, 1);
    if (!CHECK(ds != NULL))
        return;
    size_t n = ds->n_events;
    unsigned char *a = malloc(n), *b = malloc(n), *c = malloc(n);
    CHECK_EQ(xs_split(ds, XS_SPLIT_STRATIFIED, 0.75, 42, a, &err), XS_OK);
    CHECK_EQ(xs_split(ds, XS_SPLIT_STRATIFIED, 0.75, 42, b, &err), XS_OK);
    CHECK_EQ(xs_split(ds, XS_SPLIT_STRATIFIED, 0.75, 43, c, &err), XS_OK);
    CHECK_MSG(!memcmp(a, b, n), "same seed, same split");
    CHECK_MSG(memcmp(a, c, n) != 0, "another seed, another split");
    /* per customer: round(0.75 n) in train, one-event customers in train */
    uint32_t nc = xs_dict_size(ds->customers);
    size_t *cnt = calloc(nc, sizeof *cnt), *tst = calloc(nc, sizeof *tst);
    for (size_t i = 0; i < n; i++) {
        cnt[ds->events[i].customer]++;
        tst[ds->events[i].customer] += a[i];
    }
    int ok = 1;
    for (uint32_t k = 0; k < nc; k++) {
        size_t want_train = cnt[k] < 2 ? cnt[k]
                                       : (size_t)llround(0.75 * (double)cnt[k]);
        ok &= cnt[k] - tst[k] == want_train;
    }
    CHECK_MSG(ok, "each customer keeps round(0.75 n) events in train");
    check_partition(ds, a);
    check_partition(ds, c);
    free(cnt);
    free(tst);
    /* errors: bad ratio, bad method */
    CHECK_EQ(xs_split(ds, XS_SPLIT_STRATIFIED, 0, 1, a, &err), XS_ERR_USAGE);
    CHECK_EQ(xs_split(ds, XS_SPLIT_STRATIFIED, 1, 1, a, &err), XS_ERR_USAGE);
    CHECK_EQ(xs_split(ds, XS_SPLIT_STRATIFIED, NAN, 1, a, &err),
             XS_ERR_USAGE);
    CHECK_EQ(xs_split(ds, 17, 0.5, 1, a, &err), XS_ERR_USAGE);
    CHECK_EQ(xs_split_parse("stratified"), XS_SPLIT_STRATIFIED);
    CHECK_EQ(xs_split_parse("temporal"), XS_SPLIT_TEMPORAL);
    CHECK_EQ(xs_split_parse("leave-last"), XS_SPLIT_LEAVE_LAST);
    CHECK_EQ(xs_split_parse("random"), -1);
    free(a);
    free(b);
    free(c);
    xs_dataset_free(ds);
}

static void test_temporal(void)
{
    xs_error err = {0};
    xs_dataset *ds = make_data(60, 1);
    if (!CHECK(ds != NULL))
        return;
    size_t n = ds->n_events;
    unsigned char *a = malloc(n), *b = malloc(n);
    CHECK_EQ(xs_split(ds, XS_SPLIT_TEMPORAL, 0.7, 1, a, &err), XS_OK);
    CHECK_EQ(xs_split(ds, XS_SPLIT_TEMPORAL, 0.7, 2, b, &err), XS_OK);
    CHECK_MSG(!memcmp(a, b, n), "temporal does not depend on the seed");
    int64_t max_train = INT64_MIN, min_test = INT64_MAX;
    size_t n_train = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t t = ds->events[i].ts;
        if (a[i] && t < min_test)
            min_test = t;
        if (!a[i] && t > max_train)
            max_train = t;
        n_train += !a[i];
    }
    CHECK(max_train < min_test);
    /* ties at the cut go to train: at least round(0.7 n) train events */
    CHECK(n_train >= (size_t)llround(0.7 * (double)n));
    check_partition(ds, a);
    xs_dataset_free(ds);
    /* no timestamps */
    ds = make_data(10, 0);
    err.msg[0] = '\0';
    CHECK_EQ(xs_split(ds, XS_SPLIT_TEMPORAL, 0.7, 1, a, &err), XS_ERR_USAGE);
    CHECK_HAS(err.msg, "timestamp");
    free(a);
    free(b);
    xs_dataset_free(ds);
}

static void test_leave_last(void)
{
    xs_error err = {0};
    xs_dataset *ds = make_data(60, 1);
    if (!CHECK(ds != NULL))
        return;
    /* a tie for the last time: the later line is held out */
    xs_event tie = ds->events[0];
    tie.item = ds->events[1].item;
    uint32_t c0 = tie.customer;
    int64_t max = INT64_MIN;
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].customer == c0 && ds->events[i].ts > max)
            max = ds->events[i].ts;
    tie.ts = max;
    xs_dataset_push(ds, &tie);
    tie.item = ds->events[2].item;
    xs_dataset_push(ds, &tie);
    size_t n = ds->n_events;
    unsigned char *a = malloc(n);
    CHECK_EQ(xs_split(ds, XS_SPLIT_LEAVE_LAST, 0.5, 1, a, &err), XS_OK);
    uint32_t nc = xs_dict_size(ds->customers);
    int ok = 1;
    for (uint32_t c = 0; c < nc; c++) {
        size_t cnt = 0, tests = 0, last = 0;
        int64_t t = INT64_MIN;
        for (size_t i = 0; i < n; i++) {
            if (ds->events[i].customer != c)
                continue;
            cnt++;
            tests += a[i];
            if (ds->events[i].ts >= t) {
                t = ds->events[i].ts;
                last = i;
            }
        }
        ok &= cnt < 2 ? tests == 0 : tests == 1 && a[last];
    }
    CHECK_MSG(ok, "one held-out event per customer: its last");
    CHECK_EQ(a[n - 1], 1);
    CHECK_EQ(a[n - 2], 0);
    check_partition(ds, a);
    free(a);
    xs_dataset_free(ds);
}

static void test_empty_test(void)
{
    xs_error err = {0};
    /* every customer has one event: nothing to hold out */
    xs_dataset *ds = make_data(1, 1);
    if (!CHECK(ds != NULL && ds->n_events == 1))
        return;
    unsigned char a[1];
    for (int m = XS_SPLIT_STRATIFIED; m <= XS_SPLIT_LEAVE_LAST; m++) {
        err.msg[0] = '\0';
        CHECK_EQ(xs_split(ds, m, 0.75, 1, a, &err), XS_ERR_DATA);
        CHECK_HAS(err.msg, "test set is empty");
    }
    xs_dataset_free(ds);
}

static void test_write(void)
{
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_new();
    ds->has_customer = ds->has_timestamp = ds->has_weight = 1;
    const char *items[] = {"plain", "with, comma", "quote\"d"};
    for (int i = 0; i < 3; i++) {
        xs_event ev = {0, 0, XS_NONE, 0, 100 + i, 1.5, NAN};
        xs_dict_intern(ds->customers, "c", 1, &ev.customer);
        xs_dict_intern(ds->items, items[i], strlen(items[i]), &ev.item);
        xs_dataset_push(ds, &ev);
    }
    unsigned char t[3] = {0, 1, 0};
    const char *path = xt_write_str("train.csv", "");
    CHECK_EQ(xs_split_write(ds, t, 0, path, &err), XS_OK);
    FILE *f = fopen(path, "r");
    char buf[256] = {0};
    size_t got = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[got] = '\0';
    CHECK_STR(buf, "customer,item,timestamp,weight\nc,plain,100,1.5\n"
                   "c,\"quote\"\"d\",102,1.5\n");
    CHECK_EQ(xs_split_write(ds, t, 1, "/nonexistent/dir/x.csv", &err),
             XS_ERR_IO);
    xs_dataset_free(ds);
}

/* n baskets without customers (as --baskets loads them): basket b holds
 * (b % 4) + 1 items, the last repeated once in every third basket. */
static xs_dataset *make_baskets(uint32_t n)
{
    xs_dataset *ds = xs_dataset_new();
    if (!ds)
        return NULL;
    char name[32];
    for (uint32_t b = 0; b < n; b++) {
        uint32_t m = b % 4 + 1 + (b % 3 == 0);
        for (uint32_t j = 0; j < m; j++) {
            xs_event ev = {XS_NONE, 0, b, 0, 0, 1.0, NAN};
            uint32_t it = j < b % 4 + 1 ? j : j - 1;
            snprintf(name, sizeof name, "item%u", (b * 7 + it * 3) % 19);
            xs_dict_intern(ds->items, name, strlen(name), &ev.item);
            xs_dataset_push(ds, &ev);
        }
        ds->n_orders++;
    }
    return ds;
}

static void test_basket_split(void)
{
    xs_error err = {0};
    const uint32_t n_b = 101;
    xs_dataset *ds = make_baskets(n_b);
    if (!CHECK(ds != NULL))
        return;
    size_t n = ds->n_events;
    unsigned char *t = malloc(n), *t2 = malloc(n), *h = malloc(n);
    CHECK_EQ(xs_split_parse("basket"), XS_SPLIT_BASKET);
    CHECK_EQ(xs_split(ds, XS_SPLIT_BASKET, 0.75, 42, t, &err), XS_OK);
    CHECK_EQ(xs_split(ds, XS_SPLIT_BASKET, 0.75, 42, t2, &err), XS_OK);
    CHECK(memcmp(t, t2, n) == 0); /* same seed, same split */
    CHECK_EQ(xs_split(ds, XS_SPLIT_BASKET, 0.75, 7, t2, &err), XS_OK);
    CHECK(memcmp(t, t2, n) != 0);
    /* whole baskets; n - round(0.75 n) of them held out */
    unsigned char side[101];
    memset(side, 2, sizeof side);
    uint32_t held = 0;
    int whole = 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t b = ds->events[i].order;
        if (side[b] == 2) {
            side[b] = t[i];
            held += t[i];
        }
        whole &= side[b] == t[i];
    }
    CHECK(whole);
    CHECK_EQU(held, n_b - 76);
    /* one hidden item in each held-out basket of >= 2 distinct items */
    CHECK_EQ(xs_basket_hide(ds, t, 42, h, &err), XS_OK);
    for (uint32_t b = 0; b < n_b; b++) {
        uint32_t hidden_item = XS_NONE, n_hidden = 0;
        int ok = 1;
        for (size_t i = 0; i < n; i++) {
            if (ds->events[i].order != b || !h[i])
                continue;
            ok &= t[i] == 1;
            if (hidden_item == XS_NONE)
                hidden_item = ds->events[i].item;
            ok &= ds->events[i].item == hidden_item;
            n_hidden++;
        }
        CHECK(ok);
        /* b % 4 + 1 distinct items (item ids may collide mod 19: no) */
        if (side[b] == 1 && b % 4 > 0)
            CHECK(n_hidden >= 1);
        else
            CHECK_EQU(n_hidden, 0);
    }
    /* the train side keeps its baskets, renumbered */
    xs_dataset *tr = xs_dataset_subset(ds, t, 0, &err);
    if (CHECK(tr != NULL)) {
        CHECK_EQU(tr->n_orders, 76);
        int in_range = 1;
        for (size_t i = 0; i < tr->n_events; i++)
            in_range &= tr->events[i].order < 76;
        CHECK(in_range);
    }
    xs_dataset_free(tr);
    /* orders required */
    xs_dataset *cu = make_data(20, 0);
    if (CHECK(cu != NULL)) {
        CHECK_EQ(xs_split(cu, XS_SPLIT_BASKET, 0.75, 42, t, &err),
                 XS_ERR_USAGE);
        CHECK(strstr(err.msg, "order") != NULL);
    }
    xs_dataset_free(cu);
    free(t);
    free(t2);
    free(h);
    xs_dataset_free(ds);
}

int main(void)
{
    test_user_metrics();
    test_accumulator();
    test_stratified();
    test_temporal();
    test_leave_last();
    test_empty_test();
    test_write();
    test_basket_split();
    return xt_done();
}
