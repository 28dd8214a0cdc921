/*
 * gen.c -- the deterministic synthetic store (xs_gen_write).
 *
 * Owns: building an imaginary shop in memory from xs_gen_params and writing
 * it as DIR/catalog.csv and DIR/events.csv.  Nothing else in the library
 * depends on it; it exists for demos, tests and benchmarks.
 *
 * Determinism: every random choice comes from one xoshiro256** generator
 * (seeded through splitmix64 from p->seed) that lives in a gen_store on the
 * stack of xs_gen_write, consumed in a fixed order: catalog, complements,
 * customers, order placement, order contents.  No rand(), no globals, no
 * clock; numbers are written from integers (prices in cents, margins in
 * percent), so the same parameters give the same bytes.
 *
 * The model, in the order it is built:
 *   - catalog: GEN_NCAT fixed categories, each with a traffic weight, a
 *     median price, a price spread, a base margin and a "paired" category
 *     (coffee -> bakery, pasta -> sauces, ...).  Items are dealt to
 *     categories in proportion to the weights (largest remainder), then
 *     shuffled so ids do not follow categories.  Price is log-normal around
 *     the category median; in_stock is 1 for ~95% of items.
 *   - popularity: within a category, items get a random rank r and weight
 *     1/(r+1)^GEN_ZIPF_S.  The cumulative weights depend only on r, so one
 *     table of prefix sums (as long as the largest category) serves every
 *     category by binary search over its first n entries.
 *   - complements: every item has 1-3 complements, chosen uniformly (not by
 *     popularity, so the pairing is item-specific) from its paired category
 *     with probability 0.8, else from its own category.  The first one is
 *     the strongest.
 *   - customers: 2-4 favourite categories with Dirichlet(1) weights, and a
 *     heavy-tailed (Pareto) activity weight that decides how many orders
 *     they place; every customer gets one order when orders >= customers.
 *   - orders: each gets a customer and a time (a day of the year, shop hours
 *     07:00-22:00).  Orders are sorted by (time, customer) and numbered in
 *     that order, with same-second collisions of one customer bumped by a
 *     second, so each customer's orders are strictly increasing in time and
 *     the whole file is chronological.
 *   - lines: 1..GEN_MAX_LINES per order (mean ~3.5), never the same item
 *     twice.  A primary line re-buys from the customer's recent history with
 *     probability 0.25, else picks a category (a favourite 90% of the time)
 *     and a Zipf-popular item in it; with probability 0.35, and if the
 *     order has room, a complement of the primary is added next.  History
 *     is a per-customer ring of the last GEN_HIST lines, filled after each
 *     order.
 *
 *   - event types (xsell/gen.h "Event types"): a second generator (vrng)
 *     draws the cold items, views, carts and reconsiderings; an order's
 *     views and carts are written before its purchases, at its time.
 *
 * Memory: O(items + customers + orders), all freed before returning.
 */
#include "xsell/gen.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "xsell/error.h"

#define GEN_NCAT 20
#define GEN_MAX_ITEMS 10000000u
#define GEN_MAX_CUSTOMERS 100000000u
#define GEN_MAX_ORDERS 100000000u
#define GEN_DEFAULT_START INT64_C(1735689600) /* 2025-01-01T00:00:00Z */
#define GEN_DAYS 365
#define GEN_YEAR ((int64_t)GEN_DAYS * 86400)
#define GEN_MAX_START (INT64_C(253402300799) - GEN_YEAR) /* ends by 9999 */
#define GEN_ZIPF_S 1.1
#define GEN_MAX_LINES 8      /* lines per order */
#define GEN_MAX_COMP 3       /* complements per item */
#define GEN_MAX_FAV 4        /* favourite categories per customer */
#define GEN_HIST 32          /* remembered lines per customer */
#define GEN_P_REPEAT 0.25
#define GEN_P_COMPLEMENT 0.35
#define GEN_P_FAVOURITE 0.90
#define GEN_P_PAIRED 0.80
#define GEN_P_COLD_PASS 0.80 /* a cold item picked is only viewed */
#define GEN_P_RECONSIDER 0.10 /* a pick is a cold item viewed before */
#define GEN_MAX_SEEN 64      /* views and carts kept per order */
#define GEN_IO_BUF (1u << 20)
#define GEN_PI 3.14159265358979323846

/* ------------------------------------------------------------------ */
/* The shop's categories.                                             */

typedef struct gen_category {
    const char *name;
    const char *label;   /* for titles */
    double weight;       /* share of items and of shopping traffic */
    double median_price; /* in currency units */
    double spread;       /* sigma of log(price) */
    unsigned margin_pct; /* typical margin, percent */
    int paired;          /* index of the complementary category */
} gen_category;

enum {
    C_COFFEE, C_TEA, C_BAKERY, C_DAIRY, C_CHEESE, C_CEREAL, C_PASTA,
    C_SAUCES, C_SNACKS, C_BEVERAGES, C_WINE, C_DELI, C_PRODUCE, C_SPICES,
    C_FROZEN, C_DESSERTS, C_BABY, C_PERSONAL, C_HOUSEHOLD, C_PET
};

static const gen_category gen_categories[GEN_NCAT] = {
    {"coffee", "Coffee", 1.2, 8.50, 0.45, 35, C_BAKERY},
    {"tea", "Tea", 0.8, 5.00, 0.45, 40, C_DESSERTS},
    {"bakery", "Bakery", 1.6, 3.20, 0.40, 45, C_DAIRY},
    {"dairy", "Dairy", 2.0, 2.60, 0.40, 20, C_CEREAL},
    {"cheese", "Cheese", 1.0, 5.50, 0.50, 30, C_WINE},
    {"cereal", "Cereal", 0.9, 4.20, 0.35, 25, C_DAIRY},
    {"pasta", "Pasta", 1.0, 2.20, 0.40, 30, C_SAUCES},
    {"sauces", "Sauces", 0.9, 3.40, 0.40, 35, C_PASTA},
    {"snacks", "Snacks", 1.5, 2.80, 0.50, 40, C_BEVERAGES},
    {"beverages", "Beverages", 1.6, 2.10, 0.60, 30, C_SNACKS},
    {"wine", "Wine", 0.8, 12.00, 0.60, 40, C_CHEESE},
    {"deli", "Deli", 1.0, 6.00, 0.50, 30, C_BAKERY},
    {"produce", "Produce", 2.0, 2.00, 0.50, 15, C_SPICES},
    {"spices", "Spices", 0.5, 3.00, 0.40, 55, C_PRODUCE},
    {"frozen", "Frozen", 1.1, 4.50, 0.50, 25, C_DESSERTS},
    {"desserts", "Desserts", 0.8, 4.00, 0.50, 35, C_COFFEE},
    {"baby", "Baby", 0.5, 9.00, 0.60, 20, C_PERSONAL},
    {"personal-care", "Personal-care", 0.9, 5.50, 0.60, 45, C_HOUSEHOLD},
    {"household", "Household", 1.0, 4.80, 0.60, 30, C_PERSONAL},
    {"pet", "Pet", 0.6, 7.50, 0.70, 30, C_HOUSEHOLD},
};

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded by splitmix64.                 */

typedef struct gen_rng {
    uint64_t s[4];
} gen_rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static void rng_seed(gen_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(gen_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n), n >= 1 (multiply-shift; bias < 2^-32). */
static uint32_t rng_below(gen_rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static double rng_unit(gen_rng *r)
{
    return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* Uniform in (0, 1]. */
static double rng_unit_open(gen_rng *r)
{
    return ((double)(rng_next(r) >> 11) + 1.0) * 0x1.0p-53;
}

static double rng_normal(gen_rng *r)
{
    double u1 = rng_unit_open(r), u2 = rng_unit(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * GEN_PI * u2);
}

/* First index i in cum[0..n) with u < cum[i]; cum ascending, u < cum[n-1]. */
static uint32_t cum_search(const double *cum, uint32_t n, double u)
{
    uint32_t lo = 0, hi = n - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u < cum[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ------------------------------------------------------------------ */
/* The store being generated.                                         */

typedef struct gen_order {
    int64_t ts;
    uint32_t customer;
} gen_order;

typedef struct gen_store {
    gen_rng rng;
    gen_rng vrng;     /* event types' draws */
    int typed;        /* views, carts or cold asked for */
    double views, carts;
    uint8_t *cold;    /* per item, NULL without cold items */
    uint32_t *considered; /* per customer: the last cold item passed by + 1 */
    uint32_t cu;      /* the customer of the order being made */
    uint32_t seen[GEN_MAX_SEEN]; /* this order's views (item << 1) and
                                    carts (item << 1 | 1) */
    int n_seen;
    uint32_t items, customers, orders;
    int64_t start;

    /* catalog, indexed by item (0-based; the id is item + 1) */
    uint8_t *item_cat;
    uint32_t *price_cents;
    uint8_t *margin_pct;
    uint8_t *in_stock;
    uint32_t *comp;   /* GEN_MAX_COMP per item */
    uint8_t *ncomp;

    /* popularity: ranked[cat_start[c] + r] is category c's rank-r item */
    uint32_t *ranked;
    uint32_t cat_start[GEN_NCAT], cat_count[GEN_NCAT];
    double *zipf_cum; /* prefix sums of 1/(r+1)^s, max category size */
    double cat_cum[GEN_NCAT]; /* traffic over non-empty categories */

    /* customers */
    uint8_t *fav;     /* GEN_MAX_FAV per customer */
    float *fav_cum;   /* cumulative weights, last one 1 */
    uint8_t *nfav;
    uint32_t *norders;
    uint64_t *hist_off; /* ring of recent items in hist */
    uint32_t *hist_cap, *hist_len;
    uint32_t *hist;

    gen_order *ord;
} gen_store;

static void store_free(gen_store *g)
{
    free(g->item_cat);
    free(g->price_cents);
    free(g->margin_pct);
    free(g->in_stock);
    free(g->comp);
    free(g->ncomp);
    free(g->ranked);
    free(g->zipf_cum);
    free(g->fav);
    free(g->fav_cum);
    free(g->nfav);
    free(g->norders);
    free(g->hist_off);
    free(g->hist_cap);
    free(g->hist_len);
    free(g->hist);
    free(g->ord);
    free(g->cold);
    free(g->considered);
}

/* Notes a view (cart 0) or cart (1) of item in the order being made. */
static void seen(gen_store *g, uint32_t item, int cart)
{
    if (g->n_seen < GEN_MAX_SEEN)
        g->seen[g->n_seen++] = item << 1 | (uint32_t)cart;
}

/* Whether a pick of item is only looked at (a cold item, 4 times in 5),
 * noting the view (and maybe a cart). */
static int cold_pass(gen_store *g, uint32_t item)
{
    if (!g->cold || !g->cold[item] || rng_unit(&g->vrng) >= GEN_P_COLD_PASS)
        return 0;
    seen(g, item, 0);
    if (rng_unit(&g->vrng) < g->carts / 2)
        seen(g, item, 1);
    g->considered[g->cu] = item + 1;
    return 1;
}

/* calloc of n elements of size sz, NULL on overflow too. */
static void *gen_alloc(size_t n, size_t sz)
{
    return calloc(n ? n : 1, sz);
}

/* Items per category by largest remainder; categories with no items left
 * get cat_count 0 (only when items < GEN_NCAT or so). */
static void deal_categories(gen_store *g)
{
    double total = 0, frac[GEN_NCAT];
    uint32_t dealt = 0;
    for (int c = 0; c < GEN_NCAT; c++)
        total += gen_categories[c].weight;
    for (int c = 0; c < GEN_NCAT; c++) {
        double share = (double)g->items * gen_categories[c].weight / total;
        g->cat_count[c] = (uint32_t)share;
        frac[c] = share - (double)g->cat_count[c];
        dealt += g->cat_count[c];
    }
    while (dealt < g->items) {
        int best = 0;
        for (int c = 1; c < GEN_NCAT; c++)
            if (frac[c] > frac[best])
                best = c;
        g->cat_count[best]++;
        frac[best] = -1.0;
        dealt++;
    }
}

static int build_catalog(gen_store *g)
{
    uint32_t n = g->items, maxcat = 0;
    g->item_cat = gen_alloc(n, sizeof *g->item_cat);
    g->price_cents = gen_alloc(n, sizeof *g->price_cents);
    g->margin_pct = gen_alloc(n, sizeof *g->margin_pct);
    g->in_stock = gen_alloc(n, sizeof *g->in_stock);
    g->ranked = gen_alloc(n, sizeof *g->ranked);
    if (!g->item_cat || !g->price_cents || !g->margin_pct || !g->in_stock ||
        !g->ranked)
        return -1;

    deal_categories(g);
    uint32_t at = 0;
    for (int c = 0; c < GEN_NCAT; c++) {
        g->cat_start[c] = at;
        for (uint32_t k = 0; k < g->cat_count[c]; k++)
            g->item_cat[at++] = (uint8_t)c;
        if (g->cat_count[c] > maxcat)
            maxcat = g->cat_count[c];
    }
    for (uint32_t i = n - 1; i > 0; i--) { /* ids do not follow categories */
        uint32_t j = rng_below(&g->rng, i + 1);
        uint8_t t = g->item_cat[i];
        g->item_cat[i] = g->item_cat[j];
        g->item_cat[j] = t;
    }

    /* group by category in id order, then shuffle each group into ranks */
    uint32_t fill[GEN_NCAT];
    memcpy(fill, g->cat_start, sizeof fill);
    for (uint32_t i = 0; i < n; i++)
        g->ranked[fill[g->item_cat[i]]++] = i;
    for (int c = 0; c < GEN_NCAT; c++) {
        uint32_t *seg = g->ranked + g->cat_start[c];
        for (uint32_t i = g->cat_count[c]; i > 1; i--) {
            uint32_t j = rng_below(&g->rng, i);
            uint32_t t = seg[i - 1];
            seg[i - 1] = seg[j];
            seg[j] = t;
        }
    }

    g->zipf_cum = gen_alloc(maxcat, sizeof *g->zipf_cum);
    if (!g->zipf_cum)
        return -1;
    double sum = 0;
    for (uint32_t r = 0; r < maxcat; r++) {
        sum += pow((double)r + 1.0, -GEN_ZIPF_S);
        g->zipf_cum[r] = sum;
    }

    double traffic = 0;
    for (int c = 0; c < GEN_NCAT; c++) {
        if (g->cat_count[c])
            traffic += gen_categories[c].weight;
        g->cat_cum[c] = traffic;
    }

    for (uint32_t i = 0; i < n; i++) {
        const gen_category *cat = &gen_categories[g->item_cat[i]];
        double price = cat->median_price * exp(cat->spread * rng_normal(&g->rng));
        if (price < 0.25)
            price = 0.25;
        if (price > cat->median_price * 20)
            price = cat->median_price * 20;
        uint32_t cents = (uint32_t)(price * 100.0 + 0.5);
        if (cents >= 1000) /* x.49 and x.99 endings above ten */
            cents = cents - cents % 100 + (cents % 100 < 50 ? 49 : 99);
        g->price_cents[i] = cents;
        int m = (int)cat->margin_pct + (int)rng_below(&g->rng, 21) - 10;
        g->margin_pct[i] = (uint8_t)(m < 5 ? 5 : m > 60 ? 60 : m);
        g->in_stock[i] = rng_unit(&g->rng) < 0.95;
    }
    return 0;
}

/* A uniformly chosen item of category c other than self, or UINT32_MAX. */
static uint32_t uniform_in(gen_store *g, int c, uint32_t self)
{
    uint32_t n = g->cat_count[c];
    if (n == 0 || (n == 1 && g->ranked[g->cat_start[c]] == self))
        return UINT32_MAX;
    for (;;) {
        uint32_t it = g->ranked[g->cat_start[c] + rng_below(&g->rng, n)];
        if (it != self)
            return it;
    }
}

/* A category drawn by traffic among the non-empty ones. */
static int pick_category(gen_store *g)
{
    double total = g->cat_cum[GEN_NCAT - 1];
    int c = (int)cum_search(g->cat_cum, GEN_NCAT, rng_unit(&g->rng) * total);
    while (g->cat_count[c] == 0) /* u rounded up to total: step back */
        c--;
    return c;
}

static int build_complements(gen_store *g)
{
    uint32_t n = g->items;
    g->comp = gen_alloc((size_t)n * GEN_MAX_COMP, sizeof *g->comp);
    g->ncomp = gen_alloc(n, sizeof *g->ncomp);
    if (!g->comp || !g->ncomp)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        int c = g->item_cat[i];
        uint32_t want = 1 + rng_below(&g->rng, GEN_MAX_COMP), have = 0;
        uint32_t *row = g->comp + (size_t)i * GEN_MAX_COMP;
        for (uint32_t tries = 0; have < want && tries < 4 * GEN_MAX_COMP; tries++) {
            uint32_t it = UINT32_MAX;
            if (rng_unit(&g->rng) < GEN_P_PAIRED)
                it = uniform_in(g, gen_categories[c].paired, i);
            if (it == UINT32_MAX)
                it = uniform_in(g, c, i);
            if (it == UINT32_MAX) { /* alone in its category: anything */
                it = rng_below(&g->rng, n - 1);
                if (it >= i)
                    it++;
            }
            int dup = 0;
            for (uint32_t k = 0; k < have; k++)
                dup |= row[k] == it;
            if (!dup)
                row[have++] = it;
        }
        g->ncomp[i] = (uint8_t)have;
    }
    return 0;
}

static int build_customers(gen_store *g)
{
    uint32_t n = g->customers;
    int ncat = 0;
    for (int c = 0; c < GEN_NCAT; c++)
        ncat += g->cat_count[c] > 0;

    g->fav = gen_alloc((size_t)n * GEN_MAX_FAV, sizeof *g->fav);
    g->fav_cum = gen_alloc((size_t)n * GEN_MAX_FAV, sizeof *g->fav_cum);
    g->nfav = gen_alloc(n, sizeof *g->nfav);
    g->norders = gen_alloc(n, sizeof *g->norders);
    double *activity = gen_alloc(n, sizeof *activity);
    if (!g->fav || !g->fav_cum || !g->nfav || !g->norders || !activity) {
        free(activity);
        return -1;
    }

    double act = 0;
    for (uint32_t cu = 0; cu < n; cu++) {
        uint8_t *fav = g->fav + (size_t)cu * GEN_MAX_FAV;
        float *cum = g->fav_cum + (size_t)cu * GEN_MAX_FAV;
        int want = 2 + (int)rng_below(&g->rng, GEN_MAX_FAV - 1), have = 0;
        if (want > ncat)
            want = ncat;
        double w[GEN_MAX_FAV], wsum = 0;
        while (have < want) {
            int c = pick_category(g);
            int dup = 0;
            for (int k = 0; k < have; k++)
                dup |= fav[k] == c;
            if (dup)
                continue;
            fav[have] = (uint8_t)c;
            w[have] = -log(rng_unit_open(&g->rng)); /* Gamma(1): Dirichlet */
            wsum += w[have++];
        }
        double run = 0;
        for (int k = 0; k < have; k++) {
            run += w[k] / wsum;
            cum[k] = (float)run;
        }
        cum[have - 1] = 1.0f;
        g->nfav[cu] = (uint8_t)have;

        double a = pow(rng_unit_open(&g->rng), -1.0 / 1.5); /* Pareto */
        act += a < 100 ? a : 100;
        activity[cu] = act;
    }

    uint32_t left = g->orders;
    if (g->orders >= n) {
        for (uint32_t cu = 0; cu < n; cu++)
            g->norders[cu] = 1;
        left -= n;
    }
    for (uint32_t k = 0; k < left; k++)
        g->norders[cum_search(activity, n, rng_unit(&g->rng) * act)]++;
    free(activity);
    return 0;
}

static int order_cmp(const void *a, const void *b)
{
    const gen_order *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->customer > y->customer) - (x->customer < y->customer);
}

/* Places the orders in time, chronologically, each customer's strictly
 * increasing; sizes the history rings. */
static int build_orders(gen_store *g)
{
    uint32_t n = g->customers;
    g->ord = gen_alloc(g->orders, sizeof *g->ord);
    g->hist_off = gen_alloc(n, sizeof *g->hist_off);
    g->hist_cap = gen_alloc(n, sizeof *g->hist_cap);
    g->hist_len = gen_alloc(n, sizeof *g->hist_len);
    if (!g->ord || !g->hist_off || !g->hist_cap || !g->hist_len)
        return -1;

    uint32_t k = 0;
    uint64_t off = 0;
    for (uint32_t cu = 0; cu < n; cu++) {
        uint64_t cap = (uint64_t)g->norders[cu] * GEN_MAX_LINES;
        g->hist_cap[cu] = (uint32_t)(cap < GEN_HIST ? cap : GEN_HIST);
        g->hist_off[cu] = off;
        off += g->hist_cap[cu];
        for (uint32_t j = 0; j < g->norders[cu]; j++) {
            int64_t day = rng_below(&g->rng, GEN_DAYS);
            int64_t sec = 7 * 3600 + rng_below(&g->rng, 15 * 3600);
            g->ord[k].ts = g->start + day * 86400 + sec;
            g->ord[k++].customer = cu;
        }
    }
    if (off > SIZE_MAX / sizeof *g->hist)
        return -1;
    g->hist = gen_alloc((size_t)off, sizeof *g->hist);
    if (!g->hist)
        return -1;

    /* Equal (ts, customer) pairs are interchangeable, so qsort's instability
     * cannot change the result. */
    qsort(g->ord, g->orders, sizeof *g->ord, order_cmp);
    int bumped = 0;
    int64_t *last = gen_alloc(n, sizeof *last);
    if (!last)
        return -1;
    for (uint32_t i = 0; i < g->orders; i++) {
        gen_order *o = &g->ord[i];
        if (last[o->customer] && o->ts <= last[o->customer]) {
            o->ts = last[o->customer] + 1;
            bumped = 1;
        }
        last[o->customer] = o->ts;
    }
    free(last);
    if (bumped)
        qsort(g->ord, g->orders, sizeof *g->ord, order_cmp);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Output.                                                            */

typedef struct gen_file {
    FILE *f;
    char *vbuf;
    char *path;
    int errnum; /* first write error, 0 if none */
} gen_file;

static char *path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *s = malloc(a + b + 2);
    if (!s)
        return NULL;
    memcpy(s, dir, a);
    size_t at = a;
    if (a == 0 || dir[a - 1] != '/')
        s[at++] = '/';
    memcpy(s + at, name, b + 1);
    return s;
}

static int file_open(gen_file *f, const char *dir, const char *name,
                     xs_error *err)
{
    memset(f, 0, sizeof *f);
    f->path = path_join(dir, name);
    f->vbuf = malloc(GEN_IO_BUF);
    if (!f->path || !f->vbuf)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    f->f = fopen(f->path, "w");
    if (!f->f)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", f->path, strerror(errno));
    setvbuf(f->f, f->vbuf, _IOFBF, GEN_IO_BUF);
    return XS_OK;
}

static void file_put(gen_file *f, const char *s, size_t n)
{
    if (!f->errnum && fwrite(s, 1, n, f->f) != n)
        f->errnum = errno ? errno : EIO;
}

/* Closes f and frees it; reports the first error unless one is already
 * being returned (rc != XS_OK). */
static int file_close(gen_file *f, int rc, xs_error *err)
{
    if (f->f) {
        if (fclose(f->f) != 0 && !f->errnum)
            f->errnum = errno ? errno : EIO;
        f->f = NULL;
        if (rc == XS_OK && f->errnum)
            rc = xs_error_set(err, XS_ERR_IO, "%s: %s", f->path,
                              strerror(f->errnum));
    }
    free(f->vbuf);
    free(f->path);
    f->vbuf = f->path = NULL;
    return rc;
}

static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static char *put_field(char *p, const char *s)
{
    if (!strpbrk(s, ",\"\r\n"))
        return put_str(p, s);
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* Decimal n, zero padded to width digits. */
static char *put_num(char *p, uint64_t n, int width)
{
    char tmp[24];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    while (k < width)
        tmp[k++] = '0';
    while (k)
        *p++ = tmp[--k];
    return p;
}

static char *put_cents(char *p, uint32_t cents)
{
    p = put_num(p, cents / 100, 1);
    *p++ = '.';
    return put_num(p, cents % 100, 2);
}

static int write_catalog(gen_store *g, const char *dir, xs_error *err)
{
    gen_file f;
    int rc = file_open(&f, dir, "catalog.csv", err);
    if (rc == XS_OK) {
        static const char header[] = "item,category,price,margin,in_stock,title\n";
        char line[256], title[64];
        file_put(&f, header, sizeof header - 1);
        for (uint32_t i = 0; i < g->items && !f.errnum; i++) {
            const gen_category *cat = &gen_categories[g->item_cat[i]];
            char *p = line;
            *p++ = 'P';
            p = put_num(p, (uint64_t)i + 1, 6);
            *p++ = ',';
            p = put_field(p, cat->name);
            *p++ = ',';
            p = put_cents(p, g->price_cents[i]);
            *p++ = ',';
            p = put_cents(p, g->margin_pct[i]);
            *p++ = ',';
            *p++ = g->in_stock[i] ? '1' : '0';
            *p++ = ',';
            char *t = put_str(title, cat->label);
            t = put_str(t, " item ");
            *put_num(t, (uint64_t)i + 1, 1) = '\0';
            p = put_field(p, title);
            *p++ = '\n';
            file_put(&f, line, (size_t)(p - line));
        }
    }
    return file_close(&f, rc, err);
}

static int in_basket(const uint32_t *b, int n, uint32_t it)
{
    for (int k = 0; k < n; k++)
        if (b[k] == it)
            return 1;
    return 0;
}

/* A primary pick for customer cu, not already in the basket, or
 * UINT32_MAX after a few tries. */
static uint32_t pick_primary(gen_store *g, uint32_t cu, const uint32_t *b,
                             int nb)
{
    const uint32_t *hist = g->hist + g->hist_off[cu];
    uint32_t nhist = g->hist_len[cu] < g->hist_cap[cu] ? g->hist_len[cu]
                                                       : g->hist_cap[cu];
    for (int tries = 0; tries < 8; tries++) {
        uint32_t it, back = g->cold ? g->considered[cu] : 0;
        if (back && rng_unit(&g->vrng) < GEN_P_RECONSIDER &&
            !in_basket(b, nb, back - 1)) { /* bought on a later visit */
            g->considered[cu] = 0;
            return back - 1;
        }
        if (nhist && rng_unit(&g->rng) < GEN_P_REPEAT) {
            it = hist[rng_below(&g->rng, nhist)];
        } else {
            int c;
            if (rng_unit(&g->rng) < GEN_P_FAVOURITE) {
                const uint8_t *fav = g->fav + (size_t)cu * GEN_MAX_FAV;
                const float *cum = g->fav_cum + (size_t)cu * GEN_MAX_FAV;
                float u = (float)rng_unit(&g->rng);
                int k = 0;
                while (k + 1 < g->nfav[cu] && u >= cum[k])
                    k++;
                c = fav[k];
            } else {
                c = pick_category(g);
            }
            uint32_t n = g->cat_count[c];
            uint32_t r = cum_search(g->zipf_cum, n,
                                    rng_unit(&g->rng) * g->zipf_cum[n - 1]);
            it = g->ranked[g->cat_start[c] + r];
        }
        if (!in_basket(b, nb, it) && !cold_pass(g, it))
            return it;
    }
    return UINT32_MAX;
}

/* One of item's complements, the first most likely, or UINT32_MAX. */
static uint32_t pick_complement(gen_store *g, uint32_t item)
{
    static const double share[GEN_MAX_COMP] = {0.6, 0.85, 1.0};
    uint32_t n = g->ncomp[item];
    if (n == 0)
        return UINT32_MAX;
    double u = rng_unit(&g->rng) * share[n - 1];
    uint32_t k = 0;
    while (k + 1 < n && u >= share[k])
        k++;
    return g->comp[(size_t)item * GEN_MAX_COMP + k];
}

/* Lines wanted in an order, complements included: 1..GEN_MAX_LINES with
 * weights 20,20,16,13,10,8,7,6 (mean 3.55). */
static int pick_size(gen_rng *r)
{
    static const unsigned cum[GEN_MAX_LINES] = {20, 40, 56, 69, 79, 87, 94, 100};
    unsigned u = rng_below(r, 100);
    int k = 0;
    while (u >= cum[k])
        k++;
    return k + 1;
}

/* The order's views and carts (the cold items passed by, then each
 * purchase line's view, browsing views and cart), written before its
 * purchases.  Returns the lines written. */
static uint64_t browse(gen_store *g, const uint32_t *basket, int nb,
                       gen_file *f, const char *head, size_t head_len,
                       int64_t ts)
{
    for (int k = 0; k < nb; k++) {
        uint32_t it = basket[k], c = g->item_cat[it];
        seen(g, it, 0);
        double v = g->views;
        for (; v > 0; v -= 1) {
            if (v < 1 && rng_unit(&g->vrng) >= v)
                break;
            uint32_t b;
            if (g->ncomp[it] && rng_unit(&g->vrng) < 0.5) {
                b = g->comp[(size_t)it * GEN_MAX_COMP +
                            rng_below(&g->vrng, g->ncomp[it])];
            } else {
                uint32_t n = g->cat_count[c];
                b = g->ranked[g->cat_start[c] +
                              cum_search(g->zipf_cum, n,
                                         rng_unit(&g->vrng) *
                                             g->zipf_cum[n - 1])];
            }
            seen(g, b, 0);
        }
        if (rng_unit(&g->vrng) < g->carts)
            seen(g, it, 1);
    }
    char line[128];
    for (int k = 0; k < g->n_seen; k++) {
        uint32_t it = g->seen[k] >> 1;
        char *p = line;
        memcpy(p, head, head_len);
        p += head_len;
        *p++ = 'P';
        p = put_num(p, (uint64_t)it + 1, 6);
        *p++ = ',';
        p = put_num(p, (uint64_t)ts, 1);
        p = put_str(p, ",1,");
        p = put_cents(p, g->price_cents[it]);
        p = put_str(p, g->seen[k] & 1 ? ",,cart\n" : ",,view\n");
        file_put(f, line, (size_t)(p - line));
    }
    return (uint64_t)g->n_seen;
}

static int write_events(gen_store *g, const char *dir, uint64_t *lines,
                        xs_error *err)
{
    gen_file f;
    int rc = file_open(&f, dir, "events.csv", err);
    *lines = 0;
    if (rc == XS_OK) {
        static const char header[] = "customer,item,timestamp,weight,price,order\n";
        char line[128];
        uint32_t basket[GEN_MAX_LINES];
        file_put(&f, header, sizeof header - 2);
        if (g->typed)
            file_put(&f, ",type", 5);
        file_put(&f, "\n", 1);
        for (uint32_t o = 0; o < g->orders && !f.errnum; o++) {
            uint32_t cu = g->ord[o].customer;
            int want = pick_size(&g->rng), nb = 0;
            g->n_seen = 0;
            g->cu = cu;
            for (int k = 0; k < 2 * want && nb < want; k++) {
                uint32_t it = pick_primary(g, cu, basket, nb);
                if (it == UINT32_MAX)
                    continue;
                basket[nb++] = it;
                if (nb < want && rng_unit(&g->rng) < GEN_P_COMPLEMENT) {
                    uint32_t co = pick_complement(g, it);
                    if (co != UINT32_MAX && !in_basket(basket, nb, co) &&
                        !cold_pass(g, co))
                        basket[nb++] = co;
                }
            }
            /* nb >= 1: the first primary pick always succeeds (unless
             * cold items pass it by: an order of views only) */
            char head[64], *h = head;
            *h++ = 'C';
            h = put_num(h, (uint64_t)cu + 1, 6);
            *h++ = ',';
            size_t head_len = (size_t)(h - head);
            if (g->typed)
                *lines += browse(g, basket, nb, &f, head, head_len,
                                 g->ord[o].ts);
            for (int k = 0; k < nb; k++) {
                uint32_t it = basket[k];
                unsigned u = rng_below(&g->rng, 100);
                char *p = line;
                memcpy(p, head, head_len);
                p += head_len;
                *p++ = 'P';
                p = put_num(p, (uint64_t)it + 1, 6);
                *p++ = ',';
                p = put_num(p, (uint64_t)g->ord[o].ts, 1);
                *p++ = ',';
                *p++ = u < 82 ? '1' : u < 95 ? '2' : '3';
                *p++ = ',';
                p = put_cents(p, g->price_cents[it]);
                *p++ = ',';
                *p++ = 'O';
                p = put_num(p, (uint64_t)o + 1, 7);
                if (g->typed)
                    p = put_str(p, ",purchase");
                *p++ = '\n';
                file_put(&f, line, (size_t)(p - line));

                uint32_t *ring = g->hist + g->hist_off[cu];
                ring[g->hist_len[cu] % g->hist_cap[cu]] = it;
                g->hist_len[cu]++;
            }
            *lines += (uint64_t)nb;
        }
    }
    return file_close(&f, rc, err);
}

/* ------------------------------------------------------------------ */

int xs_gen_write(const xs_gen_params *p, const char *dir, xs_error *err)
{
    if (!p || !dir || !*dir)
        return xs_error_set(err, XS_ERR_USAGE, "no parameters or no "
                                               "output directory");
    if (p->customers < 1 || p->customers > GEN_MAX_CUSTOMERS)
        return xs_error_set(err, XS_ERR_USAGE,
                            "customers must be in 1..%u, got %" PRIu32,
                            GEN_MAX_CUSTOMERS, p->customers);
    if (p->items < 2 || p->items > GEN_MAX_ITEMS)
        return xs_error_set(err, XS_ERR_USAGE,
                            "items must be in 2..%u, got %" PRIu32,
                            GEN_MAX_ITEMS, p->items);
    if (p->orders < 1 || p->orders > GEN_MAX_ORDERS)
        return xs_error_set(err, XS_ERR_USAGE,
                            "orders must be in 1..%u, got %" PRIu32,
                            GEN_MAX_ORDERS, p->orders);
    if (p->start < 0 || p->start > GEN_MAX_START)
        return xs_error_set(err, XS_ERR_USAGE,
                            "start must be unix seconds in 0..%" PRId64
                            ", got %" PRId64, GEN_MAX_START, p->start);

    if (!(p->views >= 0 && p->views <= 100) ||
        !(p->carts >= 0 && p->carts <= 1) || !(p->cold >= 0 && p->cold <= 1))
        return xs_error_set(err, XS_ERR_USAGE,
                            "views must be in 0..100, carts and cold in 0..1");
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", dir, strerror(errno));

    gen_store g;
    memset(&g, 0, sizeof g);
    rng_seed(&g.rng, p->seed);
    g.items = p->items;
    g.customers = p->customers;
    g.orders = p->orders;
    g.start = p->start ? p->start : GEN_DEFAULT_START;
    g.typed = p->views > 0 || p->carts > 0 || p->cold > 0;
    g.views = p->views;
    g.carts = p->carts;
    rng_seed(&g.vrng, p->seed ^ UINT64_C(0x5bd1e9955bd1e995));

    uint64_t lines = 0;
    int rc = XS_OK;
    if (build_catalog(&g) != 0 || build_complements(&g) != 0 ||
        build_customers(&g) != 0 || build_orders(&g) != 0)
        rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory generating %" PRIu32
                          " items, %" PRIu32 " customers, %" PRIu32 " orders",
                          p->items, p->customers, p->orders);
    if (rc == XS_OK && p->cold > 0) {
        if (!(g.cold = gen_alloc(g.items, 1)) ||
            !(g.considered = gen_alloc(g.customers, sizeof *g.considered)))
            rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        for (uint32_t i = 0; g.cold && i < g.items; i++)
            g.cold[i] = rng_unit(&g.vrng) < p->cold;
    }
    if (rc == XS_OK)
        rc = write_catalog(&g, dir, err);
    if (rc == XS_OK)
        rc = write_events(&g, dir, &lines, err);
    store_free(&g);
    if (rc == XS_OK && p->lines_out)
        *p->lines_out = lines;
    return rc;
}
