/*
 * upsell.c -- "a better version of what you are looking at": pricier items
 * of the same category, ranked by how much they stand in for the viewed
 * item and by the margin they add.
 *
 * Candidates.  For a viewed item a with a catalog entry of category C and
 * price p > 0, the candidates are the other items of C priced in
 * [min_ratio * p, max_ratio * p].  Viewed items are the request's items or,
 * for a request with none but a known customer, the customer's `history`
 * most recent distinct purchases (newest first).
 *
 * Scoring.  A substitute is bought by the same customers, rarely in the same
 * basket (people choose one or the other):
 *
 *     subst(a, c) = m_customer(a, c) * (1 - n_basket(a, c) / n_customer(a, c))
 *
 * m the `similarity` measure of the customer-scope pair counts; the basket
 * factor applies only when the data has orders (basket scope) and
 * n_customer(a, c) > 0, and is clamped to [0, 1].  Without customer scope
 * (data without customers) subst is 0 and the prior alone ranks (a warning
 * is logged at create).  Then
 *
 *     score(c) = sum over viewed a with c in a's band of
 *                (subst(a, c) + prior * pop(c)) * uplift(a, c)
 *
 *     pop(c)   = support(c) / largest support in c's category  (0 .. 1;
 *                customer scope, basket scope when there are no customers)
 *     uplift   = (price_c margin_c / (price_a margin_a)) ^ margin_weight
 *                when both margins are known and > 0, else 1.
 *
 * margin is the catalog's gross margin as a fraction of price.  Every
 * candidate is pushed, score 0 included: an item never sold yet is still a
 * better version of the viewed one, ranked last.
 *
 * Options: min_ratio=R > 0 (1.05), max_ratio=R > 0 and >= min_ratio (2.5),
 * similarity=count|confidence|lift|jaccard|cosine|llr (jaccard),
 * prior=P >= 0 (0.01), margin_weight=W in [0, 100] (1; 0 ignores margins),
 * history=N in 0..100 (5; 0: requests without items get nothing).
 *
 * Explain: from (the viewed item contributing most), category, price_delta
 * (price_c - price_a), price_ratio (price_c / price_a), similarity
 * (subst(a, c)) and margin_uplift (uplift(a, c)) for that item.
 *
 * Index.  Per category, the catalog's items sorted by (price, id), with
 * their margin, and the category's largest support.  create() builds it
 * (refusing an engine without a catalog); the catalog() hook re-sorts the
 * categories an item left or entered; observe() raises the largest
 * supports.  Both run under the host's write discipline; recommend() and
 * explain() only read.
 *
 * Serving cost: per viewed item two binary searches for its band and one
 * lookup of each of its rows, then per candidate a binary search in each
 * row (customer, basket) and the push: O(B log d) for bands totalling B
 * items and rows of d neighbours, no hashing and no call but push() per
 * candidate.  Viewed items of one category are swept together over the
 * union of their bands (O(B m) comparisons for m of them), so a candidate
 * is pushed once with its summed score, without sorting candidates.  The
 * viewed items live in request scratch memory; nothing is allocated with
 * malloc while serving.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin.h"

#define HISTORY_MAX 100

/* One item of a category's index. */
typedef struct band_entry {
    double price;
    double margin; /* NaN when unknown */
    uint32_t item;
} band_entry;

typedef struct cat_index {
    band_entry *e; /* sorted by (price, item); owned */
    uint32_t n, cap;
    uint32_t max_sup; /* largest support (pop scope) among e */
} cat_index;

typedef struct upsell {
    const xs_host_api *api;
    xs_host *host;
    double min_ratio, max_ratio, prior, margin_weight;
    int measure;
    uint32_t history;
    int has_customer; /* customer scope: similarity */
    int has_basket;   /* basket scope: the basket factor */
    int pop_scope;    /* customer when available, else basket */
    cat_index *cats;  /* by category id; owned */
    uint32_t n_cats;
    uint32_t *cat_of; /* item -> its category in the index, or XS_NONE */
    uint32_t n_items; /* entries of cat_of */
} upsell;

/* A viewed item with its band and its rows (n = 0 when it has none). */
typedef struct viewed {
    uint32_t item, category;
    uint32_t lo, hi; /* band: cats[category].e[lo .. hi) */
    double price;
    double pm; /* price * margin, NaN when margin unknown or <= 0 */
    xs_row cust, bask;
} viewed;

static int parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int by_price(const void *x, const void *y)
{
    const band_entry *a = x, *b = y;
    if (a->price != b->price)
        return a->price < b->price ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

/* Viewed items by category, then band start. */
static int by_band(const void *x, const void *y)
{
    const viewed *a = x, *b = y;
    if (a->category != b->category)
        return a->category < b->category ? -1 : 1;
    return (a->lo > b->lo) - (a->lo < b->lo);
}

/* First entry of e[0..n) priced >= p (strict: > p). */
static uint32_t price_bound(const band_entry *e, uint32_t n, double p,
                            int strict)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (strict ? e[mid].price <= p : e[mid].price < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double price_margin(double price, double margin)
{
    return isfinite(margin) && margin > 0 && price > 0 ? price * margin : NAN;
}

/* Fills *v for item a and returns 1 when a has a catalog entry, a category
 * in the index and a price > 0, else 0. */
static int view(const upsell *u, uint32_t a, viewed *v)
{
    xs_item_info info;
    if (!u->api->item_info(u->host, a, &info) || info.category == XS_NONE ||
        info.category >= u->n_cats || !(info.price > 0) ||
        !isfinite(info.price))
        return 0;
    const cat_index *ci = &u->cats[info.category];
    v->item = a;
    v->category = info.category;
    v->lo = price_bound(ci->e, ci->n, u->min_ratio * info.price, 0);
    v->hi = price_bound(ci->e, ci->n, u->max_ratio * info.price, 1);
    if (v->hi < v->lo)
        v->hi = v->lo;
    v->price = info.price;
    v->pm = price_margin(info.price, info.margin);
    if (!u->has_customer ||
        !u->api->row(u->host, XS_SCOPE_CUSTOMER, a, &v->cust))
        v->cust.n = 0;
    if (!u->has_basket || !u->api->row(u->host, XS_SCOPE_BASKET, a, &v->bask))
        v->bask.n = 0;
    return 1;
}

/* n_ac in row r (0 when c is not a neighbour). */
static uint32_t row_count(const xs_row *r, uint32_t c)
{
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (r->nbr[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && r->nbr[lo] == c ? r->cnt[lo] : 0;
}

/* The viewed items of req into v[HISTORY_MAX or req->n_items]: the
 * request's items when it has some, else the customer's most recent
 * distinct purchases.  Returns how many have a band. */
static uint32_t viewed_items(const upsell *u, const xs_request *req,
                             viewed *v)
{
    uint32_t n = 0;
    if (req->n_items) {
        for (uint32_t i = 0; i < req->n_items; i++)
            n += view(u, req->items[i], &v[n]);
        return n;
    }
    if (req->customer == XS_NONE || u->history == 0)
        return 0;
    const xs_event *ev;
    size_t n_ev;
    if (!u->api->history(u->host, req->customer, &ev, &n_ev))
        return 0;
    uint32_t seen[HISTORY_MAX], n_seen = 0;
    for (size_t i = n_ev; i-- > 0 && n_seen < u->history;) {
        uint32_t a = ev[i].item, j = 0;
        while (j < n_seen && seen[j] != a)
            j++;
        if (j < n_seen)
            continue;
        seen[n_seen++] = a;
        n += view(u, a, &v[n]);
    }
    return n;
}

/* The supports and transactions one request reads. */
typedef struct counts {
    const uint32_t *sup; /* customer scope */
    uint32_t n_sup;
    const uint32_t *pop; /* pop scope */
    uint32_t n_pop;
    uint64_t n; /* customer transactions */
} counts;

static void counts_get(const upsell *u, counts *c)
{
    const xs_host_api *api = u->api;
    c->sup = NULL;
    c->n_sup = 0;
    c->n = 0;
    if (u->has_customer) {
        c->sup = api->supports(u->host, XS_SCOPE_CUSTOMER, &c->n_sup);
        c->n = api->transactions(u->host, XS_SCOPE_CUSTOMER);
    }
    c->pop = api->supports(u->host, u->pop_scope, &c->n_pop);
}

static double subst(const upsell *u, const counts *k, const viewed *v,
                    uint32_t c)
{
    uint32_t n_ac = row_count(&v->cust, c);
    if (n_ac == 0)
        return 0;
    double s = xs_measure_value(u->measure, n_ac, v->cust.support,
                                c < k->n_sup ? k->sup[c] : 0, k->n);
    if (v->bask.n) {
        double f = 1 - (double)row_count(&v->bask, c) / n_ac;
        s *= f < 0 ? 0 : f;
    }
    return s;
}

static double uplift(const upsell *u, const viewed *v, double price,
                     double margin)
{
    double pm = price_margin(price, margin);
    if (u->margin_weight == 0 || isnan(pm) || isnan(v->pm))
        return 1;
    return u->margin_weight == 1 ? pm / v->pm
                                 : pow(pm / v->pm, u->margin_weight);
}

static double pop(const upsell *u, const counts *k, uint32_t c,
                  uint32_t category)
{
    uint32_t m = u->cats[category].max_sup;
    return m && c < k->n_pop ? (double)k->pop[c] / m : 0;
}

/* The contribution of viewed item v to candidate b (an entry of its band);
 * *s and *up receive subst and uplift when not NULL. */
static double contribution(const upsell *u, const counts *k, const viewed *v,
                           const band_entry *b, double *s, double *up)
{
    double sim = subst(u, k, v, b->item);
    double lift = uplift(u, v, b->price, b->margin);
    if (s)
        *s = sim;
    if (up)
        *up = lift;
    return (sim + u->prior * pop(u, k, b->item, v->category)) * lift;
}

/* Pushes the candidates of m viewed items of one category, sorted by band
 * start: a sweep over the union of their bands, each position summing the
 * bands holding it.  O(union x m) comparisons, one contribution per
 * (viewed item, candidate) pair. */
static void serve_category(const upsell *u, const counts *k, const viewed *v,
                           uint32_t m, xs_result *out)
{
    const band_entry *e = u->cats[v[0].category].e;
    uint32_t end = 0;
    for (uint32_t i = 0; i < m; i++)
        if (v[i].hi > end)
            end = v[i].hi;
    for (uint32_t j = v[0].lo; j < end;) {
        double score = 0;
        int covered = 0, any = 0;
        uint32_t next = end; /* the next band start after j */
        for (uint32_t i = 0; i < m; i++) {
            if (v[i].lo <= j && j < v[i].hi) {
                covered = 1;
                if (e[j].item != v[i].item) {
                    score += contribution(u, k, &v[i], &e[j], NULL, NULL);
                    any = 1;
                }
            } else if (v[i].lo > j && v[i].lo < next) {
                next = v[i].lo;
            }
        }
        if (!covered) { /* a gap between bands */
            j = next;
            continue;
        }
        if (any)
            u->api->push(out, e[j].item, score);
        j++;
    }
}

static int up_recommend(void *state, const xs_request *req, xs_result *out)
{
    const upsell *u = state;
    uint32_t cap = req->n_items ? req->n_items : HISTORY_MAX;
    viewed *v = u->api->scratch(out, cap * sizeof *v);
    if (!v)
        return -1;
    uint32_t nv = viewed_items(u, req, v);
    if (nv == 0)
        return 0;
    counts k;
    counts_get(u, &k);
    if (nv > 1)
        qsort(v, nv, sizeof *v, by_band);
    for (uint32_t g = 0; g < nv;) { /* categories never share candidates */
        uint32_t h = g + 1;
        while (h < nv && v[h].category == v[g].category)
            h++;
        serve_category(u, &k, v + g, h - g, out);
        g = h;
    }
    return 0;
}

static int up_explain(void *state, const xs_request *req, uint32_t item,
                      xs_evidence *ev)
{
    const upsell *u = state;
    const xs_host_api *api = u->api;
    xs_item_info info;
    if (!api->item_info(u->host, item, &info))
        return 0;
    const band_entry cand = {info.price, info.margin, item};
    viewed hist[HISTORY_MAX], one, from = {0};
    uint32_t nv = req->n_items ? req->n_items : viewed_items(u, req, hist);
    counts k;
    counts_get(u, &k);
    double best = -INFINITY, best_s = 0, best_up = 1;
    for (uint32_t i = 0; i < nv; i++) {
        if (!req->n_items)
            one = hist[i];
        else if (!view(u, req->items[i], &one))
            continue;
        if (one.item == item || one.category != info.category ||
            info.price < u->min_ratio * one.price ||
            info.price > u->max_ratio * one.price)
            continue; /* not in this item's band */
        double s, up;
        double score = contribution(u, &k, &one, &cand, &s, &up);
        if (score > best) {
            best = score;
            best_s = s;
            best_up = up;
            from = one;
        }
    }
    if (best == -INFINITY)
        return 0;
    xs_evidence_add(ev, "from", 0, api->item_name(u->host, from.item));
    if (info.category_name)
        xs_evidence_add(ev, "category", 0, info.category_name);
    xs_evidence_add(ev, "price_delta", info.price - from.price, NULL);
    xs_evidence_add(ev, "price_ratio", info.price / from.price, NULL);
    xs_evidence_add(ev, "similarity", best_s, NULL);
    xs_evidence_add(ev, "margin_uplift", best_up, NULL);
    return 0;
}

/* ---- the index --------------------------------------------------------- */

static uint32_t largest_support(const upsell *u, const cat_index *ci)
{
    uint32_t n_pop, m = 0;
    const uint32_t *sup = u->api->supports(u->host, u->pop_scope, &n_pop);
    for (uint32_t i = 0; i < ci->n; i++)
        if (ci->e[i].item < n_pop && sup[ci->e[i].item] > m)
            m = sup[ci->e[i].item];
    return m;
}

/* The catalog entries of items[0..n) changed (or are new): each leaves the
 * category it was indexed under and enters its current one.  Everything
 * that can fail is allocated before the index is touched, so on -1 (out of
 * memory) the index is as it was. */
static int reindex(upsell *u, const uint32_t *items, size_t n)
{
    const xs_host_api *api = u->api;
    uint32_t n_items = api->item_count(u->host);
    uint32_t n_cats = api->category_count(u->host);
    if (n_cats < u->n_cats)
        n_cats = u->n_cats; /* categories are never removed */
    int rc = -1;
    uint32_t *new_cat = malloc((n ? n : 1) * sizeof *new_cat);
    uint32_t *add = calloc(n_cats ? n_cats : 1, sizeof *add);
    uint8_t *touched = calloc(n_cats ? n_cats : 1, 1);
    uint8_t *moving = calloc(n_items ? n_items : 1, 1);
    if (!new_cat || !add || !touched || !moving)
        goto out;
    if (n_items > u->n_items) {
        uint32_t *c = realloc(u->cat_of, n_items * sizeof *c);
        if (!c)
            goto out;
        for (uint32_t i = u->n_items; i < n_items; i++)
            c[i] = XS_NONE;
        u->cat_of = c;
        u->n_items = n_items;
    }
    if (n_cats > u->n_cats) {
        cat_index *c = realloc(u->cats, n_cats * sizeof *c);
        if (!c)
            goto out;
        memset(c + u->n_cats, 0, (n_cats - u->n_cats) * sizeof *c);
        u->cats = c;
        u->n_cats = n_cats;
    }
    for (size_t i = 0; i < n; i++) {
        xs_item_info info;
        uint32_t a = items[i];
        new_cat[i] = XS_NONE;
        if (a >= n_items || moving[a])
            continue; /* unknown, or repeated in the batch */
        moving[a] = 1;
        if (api->item_info(u->host, a, &info) && info.category < n_cats) {
            new_cat[i] = info.category;
            add[info.category]++;
            touched[info.category] = 1;
        }
        if (u->cat_of[a] != XS_NONE)
            touched[u->cat_of[a]] = 1;
    }
    for (uint32_t c = 0; c < n_cats; c++) { /* room for the newcomers */
        cat_index *ci = &u->cats[c];
        if (!add[c] || ci->n + add[c] <= ci->cap)
            continue;
        uint32_t cap = ci->cap ? ci->cap : 16;
        while (cap < ci->n + add[c])
            cap *= 2;
        band_entry *e = realloc(ci->e, cap * sizeof *e);
        if (!e)
            goto out;
        ci->e = e;
        ci->cap = cap;
    }
    /* nothing fails from here on */
    for (uint32_t c = 0; c < n_cats; c++) {
        if (!touched[c])
            continue;
        cat_index *ci = &u->cats[c];
        uint32_t w = 0;
        for (uint32_t j = 0; j < ci->n; j++)
            if (!moving[ci->e[j].item])
                ci->e[w++] = ci->e[j];
        ci->n = w;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t a = items[i];
        if (a >= n_items || !moving[a])
            continue;
        moving[a] = 0; /* a repeated id was recorded once */
        u->cat_of[a] = new_cat[i];
        if (new_cat[i] == XS_NONE)
            continue;
        xs_item_info info;
        api->item_info(u->host, a, &info);
        cat_index *ci = &u->cats[new_cat[i]];
        ci->e[ci->n++] = (band_entry){info.price, info.margin, a};
    }
    for (uint32_t c = 0; c < n_cats; c++) {
        if (!touched[c])
            continue;
        cat_index *ci = &u->cats[c];
        qsort(ci->e, ci->n, sizeof *ci->e, by_price);
        ci->max_sup = largest_support(u, ci);
    }
    rc = 0;
out:
    free(new_cat);
    free(add);
    free(touched);
    free(moving);
    return rc;
}

static int up_catalog(void *state, const uint32_t *items, size_t n)
{
    upsell *u = state;
    int rc = reindex(u, items, n);
    if (rc)
        u->api->log(u->host, XS_LOG_ERROR,
                    "upsell: out of memory updating the catalog index");
    return rc;
}

/* New events only raise supports: keep each category's largest current. */
static int up_observe(void *state, const xs_event *ev, size_t n)
{
    upsell *u = state;
    uint32_t n_pop;
    const uint32_t *sup = u->api->supports(u->host, u->pop_scope, &n_pop);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = ev[i].item;
        if (a >= u->n_items || a >= n_pop || u->cat_of[a] == XS_NONE)
            continue;
        cat_index *ci = &u->cats[u->cat_of[a]];
        if (sup[a] > ci->max_sup)
            ci->max_sup = sup[a];
    }
    return 0;
}

static void up_destroy(void *state)
{
    upsell *u = state;
    if (!u)
        return;
    for (uint32_t c = 0; c < u->n_cats; c++)
        free(u->cats[c].e);
    free(u->cats);
    free(u->cat_of);
    free(u);
}

#define OPTIONS                                                                \
    "min_ratio, max_ratio, similarity, prior, margin_weight, history"

static int up_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    double min_ratio = 1.05, max_ratio = 2.5, prior = 0.01, margin_weight = 1;
    double history = 5;
    int measure = XS_MEASURE_JACCARD;
    for (size_t i = 0; i < n_opts; i++) {
        const char *k = opts[i].key, *v = opts[i].value;
        if (!strcmp(k, "min_ratio") || !strcmp(k, "max_ratio")) {
            double *r = !strcmp(k, "min_ratio") ? &min_ratio : &max_ratio;
            if (parse_number(v, 0, INFINITY, r) || *r <= 0) {
                snprintf(err, errlen, "upsell: %s: want a number > 0, not "
                         "'%s'", k, v);
                return -1;
            }
        } else if (!strcmp(k, "similarity")) {
            if ((measure = api->measure_parse(v)) < 0) {
                snprintf(err, errlen, "upsell: similarity: want count, "
                         "confidence, lift, jaccard, cosine or llr, not '%s'",
                         v);
                return -1;
            }
        } else if (!strcmp(k, "prior")) {
            if (parse_number(v, 0, INFINITY, &prior)) {
                snprintf(err, errlen, "upsell: prior: want a number >= 0, not "
                         "'%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "margin_weight")) {
            if (parse_number(v, 0, 100, &margin_weight)) {
                snprintf(err, errlen, "upsell: margin_weight: want a number "
                         "in [0, 100], not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "history")) {
            if (parse_number(v, 0, HISTORY_MAX, &history) ||
                history != floor(history)) {
                snprintf(err, errlen, "upsell: history: want an integer in "
                         "0..%d, not '%s'", HISTORY_MAX, v);
                return -1;
            }
        } else {
            snprintf(err, errlen, "upsell: unknown option '%s' (" OPTIONS ")",
                     k);
            return -1;
        }
    }
    if (min_ratio > max_ratio) {
        snprintf(err, errlen, "upsell: min_ratio (%g) must not exceed "
                 "max_ratio (%g)", min_ratio, max_ratio);
        return -1;
    }
    if (api->catalog_size(host) == 0) {
        snprintf(err, errlen, "upsell needs a catalog (--catalog FILE): it "
                 "compares categories and prices");
        return -1;
    }
    upsell *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "upsell: out of memory");
        return -1;
    }
    *u = (upsell){.api = api,
                  .host = host,
                  .min_ratio = min_ratio,
                  .max_ratio = max_ratio,
                  .prior = prior,
                  .margin_weight = margin_weight,
                  .measure = measure,
                  .history = (uint32_t)history};
    u->has_customer = api->use_scope(host, XS_SCOPE_CUSTOMER) == 0;
    u->has_basket = api->use_scope(host, XS_SCOPE_BASKET) == 0;
    u->pop_scope = u->has_customer ? XS_SCOPE_CUSTOMER
                   : u->has_basket ? XS_SCOPE_BASKET
                                   : api->default_scope(host);
    if (!u->has_customer)
        api->log(host, XS_LOG_WARN, "upsell: the data has no customers: "
                 "ranking by popularity and margin only");
    uint32_t n = api->item_count(host);
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    if (all)
        for (uint32_t i = 0; i < n; i++)
            all[i] = i;
    if (!all || reindex(u, all, n)) {
        free(all);
        up_destroy(u);
        snprintf(err, errlen, "upsell: out of memory building the price "
                 "index");
        return -1;
    }
    free(all);
    *state = u;
    return 0;
}

static const xs_plugin upsell_plugin = {
    .abi = XS_PLUGIN_ABI,
    .name = "upsell",
    .version = "1.0.0",
    .description = "pricier items of the viewed item's category, bought by "
                   "the same customers instead of it",
    .create = up_create,
    .recommend = up_recommend,
    .explain = up_explain,
    .observe = up_observe,
    .destroy = up_destroy,
    .catalog = up_catalog,
};

XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    return &upsell_plugin;
}
