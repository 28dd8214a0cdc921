/*
 * test_cooc.c -- tests for transactions and co-occurrence tables
 * (xsell/cooc.h).
 *
 * Owns: xs_txns_build (basket and customer scope: one sorted, duplicate-free
 * transaction per group; events without an order left out of basket scope;
 * unavailable scopes refused with XS_ERR_NOTFOUND) and xs_cooc_build with 1
 * and 3 threads, compared pair by pair with a brute-force dense count matrix
 * over random baskets from a seeded generator: empty baskets, singletons,
 * baskets of 200+ items, skewed item popularity, duplicates inside a basket.
 * Every xs_cooc_pair(a, b), every row from xs_cooc_row (ascending, no self,
 * right counts, right support) and the table totals (transactions, items,
 * pairs) must match.  Also: a table of a single transaction, items that never
 * co-occur (a row with n == 0), empty tables, out-of-range ids, and item ids
 * wide enough to need every pass of the radix sort.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/cooc.h"
#include "xsell/dataset.h"

/* ---- a seeded generator --------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_unit(void)
{
    return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* Popular items have low ids: id = n * u^3. */
static uint32_t skewed(uint32_t n)
{
    double u = rng_unit();
    uint32_t v = (uint32_t)((double)n * u * u * u);
    return v < n ? v : n - 1;
}

typedef struct gen_params {
    const char *label;
    uint32_t n_items;
    uint32_t n_baskets;
    uint32_t n_customers; /* 0: anonymous baskets (no customer scope) */
    uint32_t n_big;       /* baskets of 200+ items */
    uint32_t n_loose;     /* customer events without an order */
    uint64_t seed;
} gen_params;

/* Builds the dataset the way a loader would: items interned as names,
 * events with order = basket index, n_orders = number of baskets (empty
 * baskets included: they are transactions without items). */
static xs_dataset *generate(const gen_params *p)
{
    rng_state = p->seed;
    xs_dataset *ds = xs_dataset_new();
    if (!ds)
        return NULL;
    char name[32];
    /* intern every item up front in id order, so id == index */
    for (uint32_t i = 0; i < p->n_items; i++) {
        uint32_t id;
        int len = snprintf(name, sizeof name, "item%u", i);
        if (xs_dict_intern(ds->items, name, (size_t)len, &id) || id != i)
            goto fail;
    }
    for (uint32_t b = 0; b < p->n_baskets; b++) {
        uint32_t cust = XS_NONE;
        if (p->n_customers) {
            int len = snprintf(name, sizeof name, "cust%u",
                               skewed(p->n_customers));
            if (xs_dict_intern(ds->customers, name, (size_t)len, &cust))
                goto fail;
        }
        uint32_t size, r = rng_below(100);
        int big = b < p->n_big;
        if (big)
            size = 200 + rng_below(200);
        else if (r < 10)
            size = 0;
        else if (r < 30)
            size = 1;
        else if (r < 90)
            size = 2 + rng_below(7);
        else
            size = 9 + rng_below(40);
        uint32_t first = 0;
        for (uint32_t j = 0; j < size; j++) {
            /* big baskets mostly uniform so they hold 200+ distinct items */
            uint32_t item = big && rng_below(5) ? rng_below(p->n_items)
                                                : skewed(p->n_items);
            if (j == 0)
                first = item;
            xs_event ev = {cust, item, b, 0, (int64_t)b, 1.0, NAN};
            if (xs_dataset_push(ds, &ev))
                goto fail;
            /* now and then the same item again in the same basket */
            if (rng_below(10) == 0) {
                ev.item = first;
                if (xs_dataset_push(ds, &ev))
                    goto fail;
            }
        }
    }
    for (uint32_t k = 0; k < p->n_loose && p->n_customers; k++) {
        uint32_t cust;
        int len = snprintf(name, sizeof name, "cust%u",
                           rng_below(p->n_customers));
        if (xs_dict_intern(ds->customers, name, (size_t)len, &cust))
            goto fail;
        xs_event ev = {cust, skewed(p->n_items), XS_NONE, 0, 0, 1.0, NAN};
        if (xs_dataset_push(ds, &ev))
            goto fail;
    }
    ds->n_orders = p->n_baskets;
    ds->has_customer = p->n_customers > 0;
    return ds;
fail:
    xs_dataset_free(ds);
    return NULL;
}

/* ---- the brute force ------------------------------------------------------ */

typedef struct brute {
    uint32_t n_items;
    uint32_t n_txns;
    uint32_t *m;       /* n_items x n_items pair counts (diagonal 0) */
    uint32_t *support; /* n_items */
    uint8_t *member;   /* n_txns x n_items: item in transaction */
} brute;

static void brute_free(brute *b)
{
    free(b->m);
    free(b->support);
    free(b->member);
    memset(b, 0, sizeof *b);
}

/* Counts straight from the events: membership matrix, then every pair of
 * every transaction.  Returns 0 or -1 (memory). */
static int brute_build(brute *b, const xs_dataset *ds, int scope)
{
    memset(b, 0, sizeof *b);
    uint32_t n = xs_dict_size(ds->items);
    uint32_t g = scope == XS_SCOPE_BASKET ? ds->n_orders
                                          : xs_dict_size(ds->customers);
    b->n_items = n;
    b->n_txns = g;
    b->m = calloc((size_t)n * n + 1, sizeof *b->m);
    b->support = calloc((size_t)n + 1, sizeof *b->support);
    b->member = calloc((size_t)g * n + 1, 1);
    uint32_t *list = malloc(((size_t)n + 1) * sizeof *list);
    if (!b->m || !b->support || !b->member || !list) {
        free(list);
        brute_free(b);
        return -1;
    }
    for (size_t i = 0; i < ds->n_events; i++) {
        const xs_event *e = &ds->events[i];
        uint32_t grp = scope == XS_SCOPE_BASKET ? e->order : e->customer;
        if (grp != XS_NONE)
            b->member[(size_t)grp * n + e->item] = 1;
    }
    for (uint32_t t = 0; t < g; t++) {
        uint32_t k = 0;
        for (uint32_t a = 0; a < n; a++)
            if (b->member[(size_t)t * n + a])
                list[k++] = a;
        for (uint32_t x = 0; x < k; x++) {
            b->support[list[x]]++;
            for (uint32_t y = 0; y < k; y++)
                if (x != y)
                    b->m[(size_t)list[x] * n + list[y]]++;
        }
    }
    free(list);
    return 0;
}

/* ---- comparisons ---------------------------------------------------------- */

static void compare_txns(const char *label, const xs_txns *t, const brute *b)
{
    if (!CHECK_MSG(t->n == b->n_txns, "%s: %u transactions, want %u", label,
                   t->n, b->n_txns))
        return;
    size_t bad = 0, nnz = 0;
    CHECK_EQU(t->off[0], 0);
    for (uint32_t x = 0; x < t->n; x++) {
        uint32_t lo = t->off[x], hi = t->off[x + 1];
        uint32_t want = 0;
        for (uint32_t a = 0; a < b->n_items; a++)
            want += b->member[(size_t)x * b->n_items + a];
        int ok = hi >= lo && hi - lo == want;
        for (uint32_t j = lo; ok && j < hi; j++)
            ok = t->items[j] < b->n_items &&
                 b->member[(size_t)x * b->n_items + t->items[j]] &&
                 (j == lo || t->items[j - 1] < t->items[j]);
        if (!ok && bad++ < 5)
            fprintf(stderr, "  %s: transaction %u wrong (%u items, want %u)\n",
                    label, x, hi - lo, want);
        nnz += want;
    }
    CHECK_MSG(bad == 0, "%s: %zu transactions differ from the brute force",
              label, bad);
    CHECK_EQU(t->off[t->n], nnz);
}

static void compare_cooc(const char *label, const xs_cooc *c, const brute *b)
{
    const uint32_t n = b->n_items;
    uint64_t pairs = 0;
    uint32_t items = 0;
    size_t bad_support = 0, bad_row = 0, bad_pair = 0;
    for (uint32_t a = 0; a < n; a++) {
        uint32_t sup = b->support[a];
        items += sup > 0;
        uint32_t deg = 0;
        for (uint32_t x = 0; x < n; x++)
            deg += b->m[(size_t)a * n + x] > 0;
        pairs += deg;
        if (xs_cooc_support(c, a) != sup)
            bad_support++;
        xs_row r;
        memset(&r, 0, sizeof r);
        int has = xs_cooc_row(c, a, &r);
        int ok = has == (sup > 0);
        if (ok && has) {
            ok = r.item == a && r.support == sup && r.n == deg &&
                 (r.n == 0 || (r.nbr && r.cnt));
            for (uint32_t i = 0; ok && i < r.n; i++)
                ok = r.nbr[i] < n && r.nbr[i] != a &&
                     (i == 0 || r.nbr[i - 1] < r.nbr[i]) &&
                     r.cnt[i] == b->m[(size_t)a * n + r.nbr[i]];
        }
        if (!ok && bad_row++ < 5)
            fprintf(stderr, "  %s: row %u wrong (has %d support %u n %u; "
                    "want support %u n %u)\n", label, a, has, r.support, r.n,
                    sup, deg);
        /* every pair, including a == b and pairs that never occur */
        for (uint32_t x = 0; x < n; x++) {
            uint32_t got = xs_cooc_pair(c, a, x);
            uint32_t want = b->m[(size_t)a * n + x];
            if (got != want && bad_pair++ < 5)
                fprintf(stderr, "  %s: pair(%u, %u) = %u, want %u\n", label,
                        a, x, got, want);
        }
    }
    CHECK_MSG(bad_support == 0, "%s: %zu supports differ", label,
              bad_support);
    CHECK_MSG(bad_row == 0, "%s: %zu rows differ", label, bad_row);
    CHECK_MSG(bad_pair == 0, "%s: %zu pair counts differ", label, bad_pair);
    CHECK_EQU(xs_cooc_transactions(c), b->n_txns);
    CHECK_EQU(xs_cooc_items(c), items);
    CHECK_EQU(xs_cooc_pairs(c), pairs);
    CHECK(xs_cooc_bytes(c) >= xs_cooc_pairs(c) * 2 * sizeof(uint32_t));
    /* out of range */
    xs_row r;
    CHECK_EQ(xs_cooc_row(c, n, &r), 0);
    CHECK_EQ(xs_cooc_row(c, XS_NONE, &r), 0);
    CHECK_EQU(xs_cooc_support(c, n), 0);
    CHECK_EQU(xs_cooc_support(c, XS_NONE), 0);
    CHECK_EQU(xs_cooc_pair(c, 0, n), 0);
    CHECK_EQU(xs_cooc_pair(c, n, 0), 0);
    CHECK_EQU(xs_cooc_pair(c, XS_NONE, XS_NONE), 0);
}

/* Builds txns and tables (1 and 3 threads) for one scope and compares. */
static void check_scope(const char *label, const xs_dataset *ds, int scope)
{
    char what[128];
    brute b;
    if (!CHECK(brute_build(&b, ds, scope) == 0))
        return;
    xs_txns t;
    xs_error err = {0};
    int rc = xs_txns_build(ds, scope, &t, &err);
    if (CHECK_MSG(rc == XS_OK, "%s: xs_txns_build: %s", label, err.msg)) {
        snprintf(what, sizeof what, "%s/%s txns", label,
                 scope == XS_SCOPE_BASKET ? "basket" : "customer");
        compare_txns(what, &t, &b);
        static const int threads[] = {1, 3};
        for (size_t i = 0; i < 2; i++) {
            xs_cooc *c = xs_cooc_build(&t, xs_dict_size(ds->items),
                                       threads[i], &err);
            snprintf(what, sizeof what, "%s/%s/%d thread%s", label,
                     scope == XS_SCOPE_BASKET ? "basket" : "customer",
                     threads[i], threads[i] > 1 ? "s" : "");
            if (CHECK_MSG(c != NULL, "%s: %s", what, err.msg))
                compare_cooc(what, c, &b);
            xs_cooc_free(c);
        }
        xs_txns_free(&t);
    }
    brute_free(&b);
}

/* ---- the tests ------------------------------------------------------------ */

static void test_random(void)
{
    static const gen_params cases[] = {
        /* label       items baskets customers big loose seed */
        {"tiny",          10,      6,        0,   0,    0, 1},
        {"small",         60,    300,        0,   2,    0, 2},
        {"anon",        1500,   2500,        0,  25,    0, 3},
        {"sparse",      3000,    800,        0,   0,    0, 4},
        {"customers",    900,   1500,      400,  12,  300, 5},
        {"one-customer", 300,     50,        1,   3,   10, 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gen_params *p = &cases[i];
        xs_dataset *ds = generate(p);
        if (!CHECK_MSG(ds != NULL, "%s: generate", p->label))
            continue;
        check_scope(p->label, ds, XS_SCOPE_BASKET);
        xs_txns t;
        xs_error err = {0};
        if (p->n_customers) {
            check_scope(p->label, ds, XS_SCOPE_CUSTOMER);
        } else {
            /* anonymous baskets: no customer scope */
            CHECK_EQ(xs_txns_build(ds, XS_SCOPE_CUSTOMER, &t, &err),
                     XS_ERR_NOTFOUND);
            CHECK_EQ(err.code, XS_ERR_NOTFOUND);
        }
        xs_dataset_free(ds);
    }
}

/* The same data without orders (an events file without an order column):
 * basket scope is unavailable; customer scope still works. */
static void test_scopes_unavailable(void)
{
    gen_params p = {"no-orders", 200, 300, 50, 1, 20, 7};
    xs_dataset *ds = generate(&p);
    if (!CHECK(ds != NULL))
        return;
    for (size_t i = 0; i < ds->n_events; i++)
        ds->events[i].order = XS_NONE;
    ds->n_orders = 0;
    xs_txns t;
    xs_error err = {0};
    CHECK_EQ(xs_txns_build(ds, XS_SCOPE_BASKET, &t, &err), XS_ERR_NOTFOUND);
    CHECK_EQ(err.code, XS_ERR_NOTFOUND);
    CHECK(err.msg[0] != '\0');
    xs_error_clear(&err);
    CHECK_EQ(xs_txns_build(ds, 42, &t, &err), XS_ERR_USAGE);
    check_scope(p.label, ds, XS_SCOPE_CUSTOMER);
    xs_dataset_free(ds);

    /* an empty dataset has neither scope */
    ds = xs_dataset_new();
    if (CHECK(ds != NULL)) {
        CHECK_EQ(xs_txns_build(ds, XS_SCOPE_BASKET, &t, &err),
                 XS_ERR_NOTFOUND);
        CHECK_EQ(xs_txns_build(ds, XS_SCOPE_CUSTOMER, &t, &err),
                 XS_ERR_NOTFOUND);
        xs_dataset_free(ds);
    }
}

/* Transactions built by hand (sorted, unique), as the header allows. */
static xs_cooc *build_table(uint32_t *off, uint32_t *items, uint32_t n,
                            uint32_t n_items, int threads)
{
    xs_txns t = {n, off, items};
    xs_error err = {0};
    xs_cooc *c = xs_cooc_build(&t, n_items, threads, &err);
    CHECK_MSG(c != NULL, "xs_cooc_build: %s", err.msg);
    return c;
}

static void test_single_transaction(void)
{
    uint32_t off[] = {0, 3}, items[] = {2, 5, 9};
    xs_cooc *c = build_table(off, items, 1, 12, 1);
    if (!c)
        return;
    CHECK_EQU(xs_cooc_transactions(c), 1);
    CHECK_EQU(xs_cooc_items(c), 3);
    CHECK_EQU(xs_cooc_pairs(c), 6); /* 3 pairs, both directions */
    xs_row r;
    if (CHECK(xs_cooc_row(c, 5, &r) == 1)) {
        CHECK(r.item == 5 && r.support == 1 && r.n == 2);
        CHECK(r.n == 2 && r.nbr[0] == 2 && r.nbr[1] == 9);
        CHECK(r.n == 2 && r.cnt[0] == 1 && r.cnt[1] == 1);
    }
    if (CHECK(xs_cooc_row(c, 9, &r) == 1))
        CHECK(r.n == 2 && r.nbr[0] == 2 && r.nbr[1] == 5);
    CHECK_EQ(xs_cooc_row(c, 0, &r), 0);
    CHECK_EQ(xs_cooc_row(c, 11, &r), 0);
    CHECK_EQU(xs_cooc_pair(c, 2, 9), 1);
    CHECK_EQU(xs_cooc_pair(c, 9, 2), 1);
    CHECK_EQU(xs_cooc_pair(c, 2, 2), 0);
    CHECK_EQU(xs_cooc_pair(c, 2, 3), 0);
    CHECK_EQU(xs_cooc_support(c, 9), 1);
    CHECK_EQU(xs_cooc_support(c, 3), 0);
    xs_cooc_free(c);
    xs_cooc_free(NULL);
}

static void test_never_together(void)
{
    /* {0,1} {7} {1} {7} {} {3,4,0}: item 7 is bought twice, always alone */
    uint32_t off[] = {0, 2, 3, 4, 5, 5, 8};
    uint32_t items[] = {0, 1, 7, 1, 7, 0, 3, 4};
    for (int threads = 1; threads <= 3; threads += 2) {
        xs_cooc *c = build_table(off, items, 6, 8, threads);
        if (!c)
            return;
        xs_row r;
        if (CHECK(xs_cooc_row(c, 7, &r) == 1))
            CHECK(r.item == 7 && r.support == 2 && r.n == 0);
        for (uint32_t x = 0; x < 8; x++)
            CHECK_EQU(xs_cooc_pair(c, 7, x) + xs_cooc_pair(c, x, 7), 0);
        if (CHECK(xs_cooc_row(c, 0, &r) == 1)) /* 0: with 1, 3, 4 */
            CHECK(r.support == 2 && r.n == 3 && r.nbr[0] == 1 &&
                  r.nbr[1] == 3 && r.nbr[2] == 4);
        if (CHECK(xs_cooc_row(c, 1, &r) == 1))
            CHECK(r.support == 2 && r.n == 1 && r.nbr[0] == 0 &&
                  r.cnt[0] == 1);
        CHECK_EQU(xs_cooc_transactions(c), 6); /* the empty one counts */
        CHECK_EQU(xs_cooc_items(c), 5);        /* 0 1 3 4 7 */
        CHECK_EQU(xs_cooc_pairs(c), 8);        /* 01 03 04 34, twice */
        CHECK_EQ(xs_cooc_row(c, 2, &r), 0);    /* never bought */
        xs_cooc_free(c);
    }
}

static void test_empty_tables(void)
{
    uint32_t off0[] = {0}, item0[] = {0};
    xs_cooc *c = build_table(off0, item0, 0, 5, 1);
    if (c) {
        CHECK_EQU(xs_cooc_transactions(c), 0);
        CHECK_EQU(xs_cooc_items(c), 0);
        CHECK_EQU(xs_cooc_pairs(c), 0);
        xs_row r;
        CHECK_EQ(xs_cooc_row(c, 0, &r), 0);
        CHECK_EQU(xs_cooc_pair(c, 0, 1), 0);
        xs_cooc_free(c);
    }
    uint32_t off3[] = {0, 0, 0, 0};
    c = build_table(off3, item0, 3, 0, 3); /* no items at all */
    if (c) {
        CHECK_EQU(xs_cooc_transactions(c), 3);
        CHECK_EQU(xs_cooc_items(c), 0);
        CHECK_EQU(xs_cooc_pairs(c), 0);
        CHECK_EQU(xs_cooc_support(c, 0), 0);
        xs_cooc_free(c);
    }
    /* singletons only: rows without neighbours; thread counts out of range
     * (0, 1000) are clamped, not refused */
    uint32_t off4[] = {0, 1, 2, 3, 4}, items4[] = {3, 1, 3, 0};
    static const int threads[] = {0, 1000};
    for (int i = 0; i < 2; i++) {
        c = build_table(off4, items4, 4, 4, threads[i]);
        if (!c)
            continue;
        CHECK_EQU(xs_cooc_items(c), 3);
        CHECK_EQU(xs_cooc_pairs(c), 0);
        CHECK_EQU(xs_cooc_support(c, 3), 2);
        xs_row r;
        CHECK(xs_cooc_row(c, 3, &r) == 1 && r.n == 0 && r.support == 2);
        xs_cooc_free(c);
    }
}

/* Item ids of 23 bits and more need the third radix pass of the
 * transaction sort (11 bits per pass).
 * xs_txns_build reads ids only, so these items are not interned. */
static void test_wide_ids(void)
{
    rng_state = 99;
    xs_dataset *ds = xs_dataset_new();
    if (!CHECK(ds != NULL))
        return;
    enum { GROUPS = 4, PER = 300 };
    static uint32_t want[GROUPS][PER];
    static uint32_t nwant[GROUPS];
    for (uint32_t g = 0; g < GROUPS; g++) {
        for (uint32_t j = 0; j < PER; j++) {
            /* ids below 2^11, 2^23, 2^26 and 2^32 - 1; some repeated */
            static const uint32_t range[GROUPS] = {2000, 1u << 23, 1u << 26,
                                                   UINT32_MAX - 1};
            uint32_t id = rng_below(range[g]);
            if (j % 17 == 5)
                id = want[g][0];
            xs_event ev = {XS_NONE, id, g, 0, 0, 1.0, NAN};
            CHECK(xs_dataset_push(ds, &ev) == 0);
            want[g][j] = id;
        }
    }
    ds->n_orders = GROUPS;
    /* expected: each group's ids sorted and unique */
    for (uint32_t g = 0; g < GROUPS; g++) {
        uint32_t *a = want[g], n = PER, w = 0;
        for (uint32_t i = 1; i < n; i++) /* insertion sort */
            for (uint32_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
                uint32_t tmp = a[j];
                a[j] = a[j - 1];
                a[j - 1] = tmp;
            }
        for (uint32_t i = 0; i < n; i++)
            if (i == 0 || a[i] != a[i - 1])
                a[w++] = a[i];
        nwant[g] = w;
    }
    xs_txns t;
    xs_error err = {0};
    if (CHECK_EQ(xs_txns_build(ds, XS_SCOPE_BASKET, &t, &err), XS_OK)) {
        CHECK_EQU(t.n, GROUPS);
        for (uint32_t g = 0; g < GROUPS && t.n == GROUPS; g++) {
            uint32_t len = t.off[g + 1] - t.off[g];
            int same = len == nwant[g] &&
                       memcmp(t.items + t.off[g], want[g],
                              len * sizeof(uint32_t)) == 0;
            CHECK_MSG(same, "wide ids: group %u differs (%u items, want %u)",
                      g, len, nwant[g]);
        }
        xs_txns_free(&t);
    }
    xs_dataset_free(ds);
}

int main(void)
{
    test_single_transaction();
    test_never_together();
    test_empty_tables();
    test_scopes_unavailable();
    test_wide_ids();
    test_random();
    return xt_done();
}
