/*
 * test_itemsets.c -- itemset rules (xsell/itemsets.h) against brute force.
 *
 * Owns:
 *   - xs_itemsets_rules on random baskets (seeded here: splitmix64) for
 *     several seeds, supports, confidences and max_len 2..4 (and up to
 *     the longest), with the pair counts made up front and without: the
 *     rules it
 *     emits are exactly those of a brute force that counts every subset of
 *     the (at most 12) items as a bit mask over all transactions and applies
 *     arules' rules (count >= ceil(S N (1 - DBL_EPSILON)), at least 1;
 *     confidence >= C - 1e-12) -- the same set, no rule twice, the same
 *     count, and support, confidence and lift equal to the last bit;
 *   - edge cases: empty transactions (they count in N), single-item
 *     transactions, no transaction, a threshold exactly equal to a count
 *     (kept) and one ulp above it (dropped), duplicates in a basket line
 *     (through the loader and xs_itemsets_txns);
 *   - max_len 2 equals xs_rules_find on the co-occurrence table, bit for
 *     bit;
 *   - xs_itemsets_txns: the engine's transactions under a bound, events out
 *     of time order (item supports equal the engine's table);
 *   - the callback's stop status, bad configurations;
 *   - xs_rule_heap: the best K of a random rule set equal the first K of a
 *     full sort by xs_itemset_rule_cmp for every key; no limit: all, sorted;
 *     the cap returns XS_ERR_LIMIT.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/xsell.h"

#define MAX_ITEMS 12

static uint64_t rng_state;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* A rule as a bit mask of the lhs and the rhs item. */
typedef struct got_rule {
    uint32_t lhs, rhs, count;
    double support, confidence, lift;
} got_rule;

typedef struct got {
    got_rule *r;
    size_t n, cap;
    int stop_after; /* > 0: return XS_ERR_LIMIT at that rule */
} got;

static int collect(void *arg, const xs_itemset_rule *r)
{
    got *g = arg;
    if (g->stop_after && (int)g->n == g->stop_after)
        return XS_ERR_LIMIT;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->r = realloc(g->r, g->cap * sizeof *g->r);
        if (!g->r)
            abort();
    }
    got_rule *x = &g->r[g->n++];
    x->lhs = 0;
    for (uint32_t i = 0; i < r->n_lhs; i++)
        x->lhs |= 1u << r->lhs[i];
    x->rhs = r->rhs;
    x->count = r->count;
    x->support = r->support;
    x->confidence = r->confidence;
    x->lift = r->lift;
    return XS_OK;
}

/* xs_itemsets_config.pair_bytes for check_case: 0 (pairs counted up
 * front) or 1 (every subset count found on the fly). */
static size_t pair_bytes;

static uint32_t min_count_of(double s, uint32_t n)
{
    double a = ceil(s * (double)n * (1 - DBL_EPSILON));
    return a < 1 ? 1 : (uint32_t)a;
}

/* Mines t and compares with the brute force over masks; returns the number
 * of rules expected. */
static size_t check_case(const xs_txns *t, uint32_t n_items, double s,
                         double c, unsigned max_len, const char *label)
{
    static uint32_t cnt[1u << MAX_ITEMS];
    uint32_t full = 1u << n_items;
    memset(cnt, 0, full * sizeof *cnt);
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t tm = 0;
        for (uint32_t k = t->off[i]; k < t->off[i + 1]; k++)
            tm |= 1u << t->items[k];
        /* every subset of tm */
        for (uint32_t sub = tm;; sub = (sub - 1) & tm) {
            cnt[sub]++;
            if (!sub)
                break;
        }
    }
    uint32_t minc = min_count_of(s, t->n);
    got g = {0};
    xs_error err = {0};
    xs_itemsets_config cfg = {s, c, max_len, pair_bytes};
    int rc = xs_itemsets_rules(t, n_items, &cfg, collect, &g, &err);
    CHECK_MSG(rc == XS_OK, "%s: rc %d %s", label, rc, err.msg);
    /* every rule emitted is expected, once, with exact values */
    size_t want = 0;
    for (uint32_t x = 1; x < full; x++) {
        int k = __builtin_popcount(x);
        if (k < 2 || k > (int)max_len || cnt[x] < minc)
            continue;
        for (uint32_t r = 0; r < n_items; r++) {
            if (!(x >> r & 1))
                continue;
            uint32_t l = x & ~(1u << r);
            double conf = (double)cnt[x] / cnt[l];
            if (conf < c - 1e-12)
                continue;
            want++;
            double sup = (double)cnt[x] / (double)t->n;
            double lift = (double)cnt[x] * (double)t->n /
                          ((double)cnt[l] * (double)cnt[1u << r]);
            int found = 0;
            for (size_t i = 0; i < g.n; i++) {
                got_rule *q = &g.r[i];
                if (q->lhs != l || q->rhs != r)
                    continue;
                found++;
                CHECK_MSG(q->count == cnt[x] && q->support == sup &&
                          q->confidence == conf && q->lift == lift,
                          "%s: rule %x -> %u: got %u %.17g %.17g %.17g, want "
                          "%u %.17g %.17g %.17g", label, l, r, q->count,
                          q->support, q->confidence, q->lift, cnt[x], sup,
                          conf, lift);
            }
            CHECK_MSG(found == 1, "%s: rule %x -> %u found %d times", label,
                      l, r, found);
        }
    }
    CHECK_MSG(g.n == want, "%s: %zu rules, want %zu", label, g.n, want);
    free(g.r);
    return want;
}

/* Random transactions over n_items items: sizes 0..max_size, items drawn
 * with skew (low ids more often), duplicates dropped, sorted. */
static void random_txns(xs_txns *t, uint32_t n_txns, uint32_t n_items,
                        uint32_t max_size)
{
    t->n = n_txns;
    t->off = malloc(((size_t)n_txns + 1) * sizeof *t->off);
    t->items = malloc(((size_t)n_txns * max_size + 1) * sizeof *t->items);
    if (!t->off || !t->items)
        abort();
    uint32_t w = 0;
    for (uint32_t i = 0; i < n_txns; i++) {
        t->off[i] = w;
        uint32_t k = rng_below(max_size + 1), mask = 0;
        for (uint32_t j = 0; j < k; j++) {
            uint32_t a = rng_below(n_items), b = rng_below(n_items);
            mask |= 1u << (a < b ? a : b);
        }
        for (uint32_t it = 0; it < n_items; it++)
            if (mask >> it & 1)
                t->items[w++] = it;
    }
    t->off[n_txns] = w;
}

static void test_random(void)
{
    static const double sups[] = {0, 0.02, 0.05, 0.1, 0.2, 0.35};
    static const double confs[] = {0, 0.3, 0.5, 0.8, 1.0};
    size_t total = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        rng_state = seed * 0x1234567ULL;
        uint32_t n_items = 3 + rng_below(MAX_ITEMS - 2);
        uint32_t n_txns = 1 + rng_below(80);
        xs_txns t;
        random_txns(&t, n_txns, n_items, 2 + rng_below(7));
        for (unsigned len = 2; len <= 4; len++)
            for (size_t si = 0; si < sizeof sups / sizeof *sups; si++)
                for (size_t ci = 0; ci < sizeof confs / sizeof *confs; ci++) {
                    char label[120];
                    snprintf(label, sizeof label, "seed %llu len %u s %g c %g",
                             (unsigned long long)seed, len, sups[si],
                             confs[ci]);
                    total += check_case(&t, n_items, sups[si], confs[ci], len,
                                        label);
                }
        /* up to the longest: every itemset of this data */
        total += check_case(&t, n_items, 0, 0, XS_ITEMSETS_MAX_LEN, "max len");
        xs_txns_free(&t);
    }
    CHECK_MSG(total > 10000, "only %zu rules over all cases: a weak test",
              total);
}

static void test_edges(void)
{
    /* empty and single-item transactions count in N */
    uint32_t off[] = {0, 0, 1, 3, 3, 6, 7};
    uint32_t items[] = {2, 0, 1, 0, 1, 2, 1};
    xs_txns t = {6, off, items};
    check_case(&t, 3, 0, 0, 3, "edges");
    got g = {0};
    xs_error err = {0};
    xs_itemsets_config cfg = {0, 0, 2, 0};
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_OK);
    /* {0,1} in 2 of 6: 0 -> 1 support 2/6, confidence 2/2, lift 2*6/(2*3) */
    int seen = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.r[i].lhs == 1 && g.r[i].rhs == 1) {
            seen = 1;
            CHECK(g.r[i].count == 2 && g.r[i].support == 2.0 / 6 &&
                  g.r[i].confidence == 1 && g.r[i].lift == 2.0);
        }
    CHECK(seen);
    /* threshold equal to a count: {0,1} has count 2 = 2/6 of 6: kept; a
     * hair above: gone */
    g.n = 0;
    cfg.min_support = 2.0 / 6;
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_OK);
    CHECK_EQU(g.n, 2);
    g.n = 0;
    cfg.min_support = nextafter(2.0 / 6, 1) + 1e-12;
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_OK);
    CHECK_EQU(g.n, 0);
    /* the stop status comes back */
    g.n = 0;
    g.stop_after = 1;
    cfg.min_support = 0;
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_ERR_LIMIT);
    CHECK_EQU(g.n, 1);
    free(g.r);
    g = (got){0};
    /* bad configurations */
    cfg = (xs_itemsets_config){0, 0, 1, 0};
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_ERR_USAGE);
    cfg.max_len = XS_ITEMSETS_MAX_LEN + 1;
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_ERR_USAGE);
    cfg = (xs_itemsets_config){1.5, 0, 2, 0};
    CHECK_EQ(xs_itemsets_rules(&t, 3, &cfg, collect, &g, &err), XS_ERR_USAGE);
    /* no transaction at all */
    uint32_t off0[] = {0};
    xs_txns none = {0, off0, items};
    check_case(&none, 3, 0, 0, 3, "no transactions");
    free(g.r);
}

/* Duplicates in a line, through the loader; max_len 2 against
 * xs_rules_find on the table, bit for bit. */
static void test_loaded(void)
{
    const char *path = xt_write_str("b.csv",
                                    "a,b,a,c\nb,c\n\nc,a,c\nd\na,b,c,d\n"
                                    "b,d,b\nc\n");
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_baskets(path, &err);
    if (!CHECK(ds != NULL))
        return;
    xs_txns t;
    if (!CHECK(xs_itemsets_txns(ds, XS_SCOPE_BASKET, 1000, &t, &err) ==
               XS_OK)) {
        xs_dataset_free(ds);
        return;
    }
    CHECK_EQU(t.n, 7);
    uint32_t n_items = xs_dict_size(ds->items);
    check_case(&t, n_items, 0, 0, 4, "loaded");
    check_case(&t, n_items, 0.2, 0.4, 3, "loaded 0.2");
    xs_cooc *c = xs_cooc_build(&t, n_items, 1, &err);
    if (CHECK(c != NULL)) {
        for (int k = 0; k < 3; k++) {
            double s = k * 0.15, conf = k * 0.3;
            xs_rule *want;
            size_t nw;
            CHECK_EQ(xs_rules_find(c, ds->items, s, conf, XS_RULES_BY_NAME,
                                   &want, &nw, &err), XS_OK);
            xs_rule_heap *h = xs_rule_heap_new(ds->items, XS_RULES_BY_NAME,
                                               0, 0);
            xs_itemsets_config cfg = {s, conf, 2, 0};
            CHECK_EQ(xs_itemsets_rules(&t, n_items, &cfg, xs_rule_heap_push,
                                       h, &err), XS_OK);
            size_t n;
            const xs_itemset_rule *r = xs_rule_heap_sorted(h, &n);
            CHECK_EQU(n, nw);
            for (size_t i = 0; i < n && i < nw; i++)
                CHECK_MSG(r[i].n_lhs == 1 && r[i].lhs[0] == want[i].lhs &&
                          r[i].rhs == want[i].rhs &&
                          r[i].count == want[i].count &&
                          r[i].support == want[i].support &&
                          r[i].confidence == want[i].confidence &&
                          r[i].lift == want[i].lift,
                          "max_len 2 vs xs_rules_find: rule %zu differs", i);
            xs_rule_heap_free(h);
            free(want);
        }
        xs_cooc_free(c);
    }
    xs_txns_free(&t);
    xs_dataset_free(ds);
}

/* The engine's transactions under a bound with events out of time order. */
static void test_txns_order(void)
{
    const char *path = xt_write_str(
        "ev.csv", "customer,item,timestamp,order\n"
                  "c1,e,2024-01-05,o1\nc1,a,2024-01-01,o1\nc2,b,2024-01-02,o2\n"
                  "c1,d,2024-01-04,o1\nc1,b,2024-01-02,o1\nc2,a,2024-01-01,o2\n"
                  "c1,c,2024-01-03,o1\nc3,e,2024-01-01,o3\nc2,e,2024-01-03,o2\n");
    for (int scope = XS_SCOPE_BASKET; scope <= XS_SCOPE_CUSTOMER; scope++)
        for (uint32_t max = 1; max <= 4; max++) {
            xs_error err = {0};
            xs_dataset *ds = xs_dataset_load_events(path, NULL, &err);
            if (!CHECK(ds != NULL))
                return;
            xs_txns t;
            CHECK_EQ(xs_itemsets_txns(ds, scope, max, &t, &err), XS_OK);
            uint32_t n_items = xs_dict_size(ds->items);
            uint32_t *sup = calloc(n_items, sizeof *sup);
            for (uint32_t i = 0; i < t.off[t.n]; i++)
                sup[t.items[i]]++;
            xs_engine_config cfg = {.scope = scope, .max_basket = max};
            xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
            if (CHECK(e != NULL)) {
                const xs_cooc *c = xs_engine_cooc(e, scope);
                CHECK_EQU(xs_cooc_transactions(c), t.n);
                for (uint32_t i = 0; i < n_items; i++)
                    CHECK_MSG(xs_cooc_support(c, i) == sup[i],
                              "scope %d max %u item %u: %u vs engine %u",
                              scope, max, i, sup[i], xs_cooc_support(c, i));
                xs_engine_free(e);
            }
            if (max == 2 && scope == XS_SCOPE_BASKET) /* o1 keeps a, b */
                CHECK(sup[1] == 2 && sup[2] == 2 && sup[4] == 0);
            free(sup);
            xs_txns_free(&t);
        }
}

static int cmp_key;
static const xs_dict *cmp_names;

static int cmp_rules(const void *a, const void *b)
{
    return xs_itemset_rule_cmp(a, b, cmp_key, cmp_names);
}

static void test_heap(void)
{
    xs_dict *names = xs_dict_new();
    if (!CHECK(names != NULL))
        return;
    /* names not in id order */
    static const char *nm[] = {"m", "c", "x", "a", "q", "b", "z", "k"};
    for (uint32_t i = 0; i < 8; i++) {
        uint32_t id;
        xs_dict_intern(names, nm[i], strlen(nm[i]), &id);
    }
    rng_state = 99;
    xs_txns t;
    random_txns(&t, 60, 8, 6);
    for (int key = XS_RULES_BY_LIFT; key <= XS_RULES_BY_NAME; key++) {
        xs_rule_heap *all = xs_rule_heap_new(names, key, 0, 0);
        xs_itemsets_config cfg = {0.02, 0.1, 4, 0};
        xs_error err = {0};
        CHECK_EQ(xs_itemsets_rules(&t, 8, &cfg, xs_rule_heap_push, all,
                                   &err), XS_OK);
        size_t n;
        const xs_itemset_rule *r = xs_rule_heap_sorted(all, &n);
        CHECK_MSG(n > 100, "heap: only %zu rules", n);
        xs_itemset_rule *copy = malloc((n ? n : 1) * sizeof *copy);
        memcpy(copy, r, n * sizeof *copy);
        cmp_key = key;
        cmp_names = names;
        qsort(copy, n, sizeof *copy, cmp_rules);
        for (size_t i = 0; i < n; i++) {
            CHECK(memcmp(&copy[i], &r[i], sizeof *r) == 0);
            for (uint32_t k = 1; k < r[i].n_lhs; k++) /* lhs by name */
                CHECK(strcmp(xs_dict_name(names, r[i].lhs[k - 1]),
                             xs_dict_name(names, r[i].lhs[k])) < 0);
            if (i)
                CHECK(xs_itemset_rule_cmp(&r[i - 1], &r[i], key, names) < 0);
        }
        for (size_t k = 1; k <= n + 1; k += k < 10 ? 1 : 37) {
            xs_rule_heap *top = xs_rule_heap_new(names, key, k, 0);
            CHECK_EQ(xs_itemsets_rules(&t, 8, &cfg, xs_rule_heap_push, top,
                                       &err), XS_OK);
            size_t m;
            const xs_itemset_rule *b = xs_rule_heap_sorted(top, &m);
            CHECK_EQU(m, k < n ? k : n);
            CHECK(memcmp(b, copy, m * sizeof *b) == 0);
            xs_rule_heap_free(top);
        }
        /* the cap */
        xs_rule_heap *cap = xs_rule_heap_new(names, key, 0, 10);
        CHECK_EQ(xs_itemsets_rules(&t, 8, &cfg, xs_rule_heap_push, cap, &err),
                 XS_ERR_LIMIT);
        xs_rule_heap_free(cap);
        free(copy);
        xs_rule_heap_free(all);
    }
    xs_txns_free(&t);
    xs_dict_free(names);
}

int main(void)
{
    test_random();
    pair_bytes = 1;
    test_random();
    test_edges();
    test_loaded();
    pair_bytes = 0;
    test_edges();
    test_loaded();
    test_txns_order();
    test_heap();
    return xt_done();
}
