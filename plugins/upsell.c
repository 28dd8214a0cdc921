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
 * Index.  Per category: the catalog's items sorted by (price, id) and by
 * id, and the category's largest support; and per item its category,
 * price, margin and support.  The items are also ranked for serving (see
 * below): those whose uplift is always 1 (margin unknown or <= 0, or
 * margin_weight 0) by support, the others both by support and by
 * log(support) + margin_weight * log(price * margin).  create() builds it
 * (refusing an engine without a catalog); the catalog() hook rebuilds the
 * categories an item left or entered; observe() raises the largest
 * supports and re-ranks the items whose support changed (an insertion
 * pass over the nearly sorted rankings of each category touched).  Both
 * run under the host's write discipline; recommend() and explain() only
 * read.
 *
 * Serving.  The answer is the exact top k, equal to scoring every item of
 * every band.  Viewed items are grouped by category (categories never
 * share candidates).  A group whose bands hold at most 4k + 64 items is
 * swept in price order, every candidate scored and pushed.  For a larger
 * group, in three steps:
 *  1. the neighbours of each viewed item a in its customer-scope row that
 *     lie in a's band are scored exactly and pushed: they are the only
 *     candidates with subst > 0.  The union of the group's bands is set in
 *     a request bitmap, so reading a row costs a bit test per neighbour;
 *     the neighbours kept are then scored, their pair counts read by a
 *     linear merge with the (sorted) rows;
 *  2. every other candidate c scores prior * pop(c) * sum of its uplifts,
 *     at most prior / max_support * (support(c) * m) for the uplift-1
 *     items and prior / max_support * (exp(log(support(c)) + W log(pm_c)
 *     + L) S + support(c) B) for the others, where m viewed items of the
 *     group, B of them with an unknown margin, and L, S such that
 *     exp(L) S = sum over the others of (pm_a)^-W.  The rankings are read
 *     best first (a threshold algorithm: always the ranking whose next
 *     bound is largest), each item scored exactly and pushed when it lies
 *     in a band, until k pushes were kept (push() returns 1; the plugin
 *     keeps the k best kept scores in a small heap) and the bound of every
 *     unread item falls below the k-th best kept score (ties are read:
 *     the host breaks them by id);
 *  3. items of support 0 (and, with prior 0, all the rest) score 0: when
 *     fewer than k pushes were kept or the k-th best is 0, the category is
 *     read in id order and its unread band items pushed, until k of these
 *     pushes were kept.
 *
 * Serving cost: per viewed item two binary searches for its band and one
 * lookup of each of its rows; per large group O(U) to set and clear the
 * bitmap for bands whose union holds U items, O(d) bit tests for rows of
 * d neighbours (the main cost on large stores: popular items have
 * thousands of neighbours), and O(m) per neighbour in a band, scored; then
 * O(m) per item read in steps 2 and 3, typically a few times k when
 * popularity and margin rank the band's best first (at worst the whole
 * category, as a full sweep would).  A sweep costs O(B m + B log d) for
 * bands of B items.  The viewed items, the heap of the k best, the bitmaps
 * (scored; in a band) and the neighbours kept live in request scratch
 * memory; nothing is allocated with malloc while serving.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin.h"

#define HISTORY_MAX 100

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif

/* One item of a category's price index. */
typedef struct band_entry {
    double price;
    double margin; /* NaN when unknown */
    uint32_t item;
} band_entry;

/* One item of a ranking, best first: by key descending, then id. */
typedef struct ranked {
    double key;
    uint32_t item;
} ranked;

typedef struct cat_index {
    band_entry *e; /* sorted by (price, item); owned */
    uint32_t *ids; /* the same items by id; owned */
    ranked *one;   /* uplift always 1: key support; owned */
    ranked *lift;  /* the others: key log(support) + W log(pm); owned */
    ranked *lsup;  /* the items of lift, key support; owned */
    uint32_t n, n_one, n_lift, cap;
    uint32_t max_sup; /* largest support (pop scope) among e */
    uint32_t changed; /* supports changed since the rankings were sorted */
} cat_index;

/* What the index knows of an item. */
typedef struct item_ent {
    double price, margin; /* as indexed */
    double lpm;      /* W log(price * margin), NaN when the uplift is 1 */
    uint32_t category; /* XS_NONE when not indexed */
    uint32_t sup;      /* support (pop scope) the rankings are sorted by */
} item_ent;

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
    item_ent *items;  /* by item id; owned */
    uint32_t n_items; /* entries of items */
} upsell;

/* A viewed item with its band and its rows (n = 0 when it has none). */
typedef struct viewed {
    uint32_t item, category;
    uint32_t lo, hi;  /* band: cats[category].e[lo .. hi) */
    double plo, phi;  /* band: prices in [plo, phi] */
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

static int by_id(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* Best first: key descending, then id ascending. */
static int ranked_before(const ranked *a, const ranked *b)
{
    return a->key > b->key || (a->key == b->key && a->item < b->item);
}

static int by_rank(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    return ranked_before(a, b) ? -1 : ranked_before(b, a) ? 1 : 0;
}

/* Sorts r[0..n), nearly sorted when few keys changed: insertion sort then,
 * else qsort. */
static void rank_sort(ranked *r, uint32_t n, int nearly)
{
    if (!nearly) {
        qsort(r, n, sizeof *r, by_rank);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        ranked x = r[i];
        uint32_t j = i;
        for (; j > 0 && ranked_before(&x, &r[j - 1]); j--)
            r[j] = r[j - 1];
        r[j] = x;
    }
}

/* Viewed items by category, then band start. */
static int viewed_before(const viewed *a, const viewed *b)
{
    if (a->category != b->category)
        return a->category < b->category;
    return a->lo < b->lo;
}

/* A stable insertion sort: a few items, and qsort may allocate.  Viewed items sharing a band start keep their order, so the
 * scores are summed in a fixed order. */
static void sort_viewed(viewed *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        viewed x = v[i];
        uint32_t j = i;
        for (; j > 0 && viewed_before(&x, &v[j - 1]); j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
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
    v->plo = u->min_ratio * info.price;
    v->phi = u->max_ratio * info.price;
    v->lo = price_bound(ci->e, ci->n, v->plo, 0);
    v->hi = price_bound(ci->e, ci->n, v->phi, 1);
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

/* subst(a, c) for viewed item v = a from the pair counts n_ac (customer
 * scope) and n_bac (basket scope, used only when v has a basket row). */
static double subst_counts(const upsell *u, const counts *k, const viewed *v,
                           uint32_t c, uint32_t n_ac, uint32_t n_bac)
{
    if (n_ac == 0)
        return 0;
    double s = xs_measure_value(u->measure, n_ac, v->cust.support,
                                c < k->n_sup ? k->sup[c] : 0, k->n);
    if (v->bask.n) {
        double f = 1 - (double)n_bac / n_ac;
        s *= f < 0 ? 0 : f;
    }
    return s;
}

static double subst(const upsell *u, const counts *k, const viewed *v,
                    uint32_t c)
{
    uint32_t n_ac = row_count(&v->cust, c);
    if (n_ac == 0)
        return 0;
    return subst_counts(u, k, v, c, n_ac, row_count(&v->bask, c));
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

/* The contribution of viewed item v to candidate c (in its band, priced
 * price with margin margin) with subst(v, c) = sim; *up receives the
 * uplift when not NULL. */
static double contribution(const upsell *u, const counts *k, const viewed *v,
                           uint32_t c, double price, double margin,
                           double sim, double *up)
{
    double lift = uplift(u, v, price, margin);
    if (up)
        *up = lift;
    return (sim + u->prior * pop(u, k, c, v->category)) * lift;
}

/* ---- the threshold algorithm ------------------------------------------- */

/* One request's state: the k best scores push() kept (a min-heap) and the
 * items already scored (a bitmap), both in scratch memory. */
typedef struct serving {
    const upsell *u;
    const counts *k;
    xs_result *out;
    double *best; /* min-heap of the kept scores, n_best <= want */
    uint32_t n_best, want;
    uint64_t *seen; /* bit per item id < u->n_items: scored */
    uint64_t *band; /* the same: in a band of the group in step 1 */
} serving;

/* Pushes c with score; on a keep, records the score among the k best. */
static int offer(serving *s, uint32_t c, double score)
{
    if (!s->u->api->push(s->out, c, score))
        return 0;
    double *h = s->best;
    uint32_t i;
    if (s->n_best < s->want) { /* sift up */
        for (i = s->n_best++; i > 0 && h[(i - 1) / 2] > score; i = (i - 1) / 2)
            h[i] = h[(i - 1) / 2];
        h[i] = score;
    } else if (score > h[0]) { /* replace the smallest, sift down */
        for (i = 0;;) {
            uint32_t l = 2 * i + 1, w = l;
            if (l >= s->n_best)
                break;
            if (l + 1 < s->n_best && h[l + 1] < h[l])
                w = l + 1;
            if (h[w] >= score)
                break;
            h[i] = h[w];
            i = w;
        }
        h[i] = score;
    }
    return 1;
}

/* 1 when no candidate with a score below `bound` can enter the result:
 * k pushes kept and the k-th best above the bound (ties rank by id, so an
 * equal score could still enter).  The bound is widened for rounding. */
static int beaten(const serving *s, double bound)
{
    return s->n_best == s->want && bound * (1 + 1e-9) < s->best[0];
}

static int in_band(const serving *s, uint32_t c)
{
    return c < s->u->n_items && (s->band[c >> 6] >> (c & 63) & 1);
}

/* Sets (on) or clears the bits of the items of the union of the group's
 * bands in s->band. */
static void mark_bands(serving *s, const viewed *v, uint32_t m, int on)
{
    const band_entry *e = s->u->cats[v[0].category].e;
    uint32_t done = 0; /* e[.. done) marked; v is sorted by band start */
    for (uint32_t i = 0; i < m; i++)
        for (uint32_t j = v[i].lo > done ? v[i].lo : done; j < v[i].hi; j++) {
            uint64_t bit = (uint64_t)1 << (e[j].item & 63);
            if (on)
                s->band[e[j].item >> 6] |= bit;
            else
                s->band[e[j].item >> 6] &= ~bit;
            done = j + 1;
        }
}

/* Marks c scored; returns 1 when it already was. */
static int test_and_set(serving *s, uint32_t c)
{
    uint64_t bit = (uint64_t)1 << (c & 63);
    if (s->seen[c >> 6] & bit)
        return 1;
    s->seen[c >> 6] |= bit;
    return 0;
}

/* The exact score of c, an indexed item of the group's category that is
 * not a neighbour of any viewed item of v[0..m) whose band holds it (subst
 * 0); returns 0 when no band holds it. */
static int score_of(const serving *s, const viewed *v, uint32_t m, uint32_t c,
                    double *score)
{
    const item_ent *it = &s->u->items[c];
    int any = 0;
    *score = 0;
    for (uint32_t i = 0; i < m; i++)
        if (c != v[i].item && it->price >= v[i].plo && it->price <= v[i].phi) {
            *score += contribution(s->u, s->k, &v[i], c, it->price, it->margin,
                                   0, NULL);
            any = 1;
        }
    return any;
}

/* Pushes the candidates of m viewed items of one category, sorted by band
 * start: a sweep over the union of their bands, each position summing the
 * bands holding it.  O(union x m) comparisons, one contribution per
 * (viewed item, candidate) pair. */
static void sweep_category(serving *s, const viewed *v, uint32_t m)
{
    const upsell *u = s->u;
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
                    score += contribution(u, s->k, &v[i], e[j].item,
                                          e[j].price, e[j].margin,
                                          subst(u, s->k, &v[i], e[j].item),
                                          NULL);
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
            offer(s, e[j].item, score);
        j++;
    }
}

/* The count of c in row r from position *p on (rows are sorted by id),
 * advancing *p to the first neighbour >= c: the candidates come in
 * ascending order, so a linear merge reads each row once. */
static uint32_t seek(const xs_row *r, uint32_t *p, uint32_t c)
{
    uint32_t j = *p;
    while (j < r->n && r->nbr[j] < c)
        j++;
    *p = j;
    return j < r->n && r->nbr[j] == c ? r->cnt[j] : 0;
}

/* Step 1: the neighbours of the group's viewed items that lie in their
 * bands.  First each customer row is read for the neighbours in the union
 * of the bands (s->band, a bit test each; the bit is cleared so that a
 * neighbour of several viewed items is kept once), prefetching what
 * scoring them reads; then each is scored exactly.  cand has room for the
 * rows' neighbours, pos for 3m counts: positions in the customer rows, in
 * the basket rows, and n_ac. */
static void serve_neighbours(serving *s, const viewed *v, uint32_t m,
                             uint32_t *cand, uint32_t *pos)
{
    const upsell *u = s->u;
    uint32_t n = 0;
    for (uint32_t i = 0; i < m; i++)
        for (uint32_t j = 0; j < v[i].cust.n; j++) {
            uint32_t c = v[i].cust.nbr[j];
            if (!in_band(s, c))
                continue; /* the common case */
            s->band[c >> 6] &= ~((uint64_t)1 << (c & 63));
            cand[n++] = c;
            PREFETCH(&u->items[c]);
            if (c < s->k->n_pop)
                PREFETCH(&s->k->pop[c]);
        }
    memset(pos, 0, 2 * m * sizeof *pos);
    uint32_t *n_ac = pos + 2 * m;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t c = cand[j];
        if (j && c < cand[j - 1]) /* the next row's: seek from the start */
            memset(pos, 0, 2 * m * sizeof *pos);
        const item_ent *it = &u->items[c];
        int near = 0; /* a neighbour of a viewed item whose band holds it */
        for (uint32_t i = 0; i < m; i++) {
            int band = c != v[i].item && it->price >= v[i].plo &&
                       it->price <= v[i].phi;
            n_ac[i] = band ? seek(&v[i].cust, &pos[i], c) : 0;
            near |= n_ac[i] > 0;
        }
        if (!near || test_and_set(s, c))
            continue; /* a candidate of step 2 */
        double score = 0;
        for (uint32_t i = 0; i < m; i++) {
            if (c == v[i].item || !(it->price >= v[i].plo) ||
                !(it->price <= v[i].phi))
                continue;
            uint32_t a = n_ac[i];
            uint32_t b = a && v[i].bask.n ? seek(&v[i].bask, &pos[m + i], c) : 0;
            score += contribution(u, s->k, &v[i], c, it->price, it->margin,
                                  subst_counts(u, s->k, &v[i], c, a, b), NULL);
        }
        offer(s, c, score);
    }
}

/* Scores and pushes c, not a neighbour of any viewed item whose band holds
 * it, unless already scored. */
static int serve_one(serving *s, const viewed *v, uint32_t m, uint32_t c)
{
    double score;
    if (test_and_set(s, c) || !score_of(s, v, m, c, &score))
        return 0;
    return offer(s, c, score);
}

/* Step 2: the rankings, best bound first, until no unread item can enter.
 * Returns 1 when stopped so (step 3 is then not needed). */
static int serve_ranked(serving *s, const viewed *v, uint32_t m)
{
    const upsell *u = s->u;
    const cat_index *ci = &u->cats[v[0].category];
    if (!(u->prior > 0) || ci->max_sup == 0)
        return 0; /* every score but the neighbours' is 0 */
    double scale = u->prior / ci->max_sup;
    /* sum over the viewed items with a margin of pm_a^-W = exp(L) S */
    double L = -INFINITY, S = 0;
    uint32_t B = 0;
    for (uint32_t i = 0; i < m; i++) {
        if (u->margin_weight == 0 || isnan(v[i].pm))
            B++;
        else if (-u->margin_weight * log(v[i].pm) > L)
            L = -u->margin_weight * log(v[i].pm);
    }
    for (uint32_t i = 0; i < m; i++)
        if (u->margin_weight != 0 && !isnan(v[i].pm))
            S += exp(-u->margin_weight * log(v[i].pm) - L);
    uint32_t io = 0, il = 0, is = 0;
    for (;;) {
        /* the next positive item of each ranking read */
        int one = io < ci->n_one && ci->one[io].key > 0;
        int by_lift = il < ci->n_lift && ci->lift[il].key > -INFINITY;
        int by_sup = is < ci->n_lift && ci->lsup[is].key > 0;
        int lifted = (S == 0 || by_lift) && (B == 0 || by_sup);
        if (!one && !lifted)
            return 0;
        double t_one = one ? ci->one[io].key * m : 0;
        double t_lift = S > 0 && by_lift ? exp(ci->lift[il].key + L) * S : 0;
        double t_sup = B > 0 && by_sup ? ci->lsup[is].key * B : 0;
        double t = lifted && t_lift + t_sup > t_one ? t_lift + t_sup : t_one;
        if (beaten(s, scale * t))
            return 1;
        uint32_t c;
        if (one && (!lifted || t_one >= t_lift + t_sup))
            c = ci->one[io++].item;
        else if (S > 0 && (B == 0 || t_lift >= t_sup))
            c = ci->lift[il++].item;
        else
            c = ci->lsup[is++].item;
        serve_one(s, v, m, c);
    }
}

/* Step 3: the unread band items by id (they all score 0), until k of them
 * were kept. */
static void serve_zeros(serving *s, const viewed *v, uint32_t m)
{
    if (beaten(s, 0))
        return;
    const cat_index *ci = &s->u->cats[v[0].category];
    uint32_t kept = 0;
    for (uint32_t j = 0; j < ci->n && kept < s->want; j++)
        kept += (uint32_t)serve_one(s, v, m, ci->ids[j]);
}

/* The number of viewed items of v[i]'s category from i on. */
static uint32_t group_size(const viewed *v, uint32_t nv, uint32_t i)
{
    uint32_t h = i + 1;
    while (h < nv && v[h].category == v[i].category)
        h++;
    return h - i;
}

static int up_recommend(void *state, const xs_request *req, xs_result *out)
{
    const upsell *u = state;
    const xs_host_api *api = u->api;
    uint32_t cap = req->n_items ? req->n_items : HISTORY_MAX;
    viewed *v = api->scratch(out, cap * sizeof *v);
    if (!v)
        return -1;
    uint32_t nv = viewed_items(u, req, v);
    if (nv == 0 || req->k == 0)
        return 0;
    counts k;
    counts_get(u, &k);
    sort_viewed(v, nv);
    size_t words = ((size_t)u->n_items + 63) / 64;
    serving s = {u, &k, out, api->scratch(out, req->k * sizeof(double)), 0,
                 req->k, api->scratch(out, (words ? words : 1) * 16), NULL};
    if (!s.best || !s.seen)
        return -1;
    s.band = s.seen + words;
    memset(s.seen, 0, words * 16);
    /* the groups, viewed items of one category: small ones are swept, the
     * others' starts kept in g (the sweeps fill the heap early) */
    uint32_t *g = api->scratch(out, nv * sizeof *g), n_g = 0;
    size_t n_nbr = 0;
    for (uint32_t i = 0; i < nv; i++)
        n_nbr += v[i].cust.n;
    uint32_t *pos = api->scratch(out, 3 * nv * sizeof *pos);
    uint32_t *cand = api->scratch(out, (n_nbr ? n_nbr : 1) * sizeof *cand);
    if (!g || !pos || !cand)
        return -1;
    for (uint32_t i = 0, h; i < nv; i = h) {
        uint64_t band = 0;
        for (h = i; h < nv && v[h].category == v[i].category; h++)
            band += v[h].hi - v[h].lo;
        if (req->category != XS_NONE && v[i].category != req->category)
            continue; /* the host would refuse every candidate */
        if (band <= 4 * (uint64_t)req->k + 64)
            sweep_category(&s, v + i, h - i);
        else
            g[n_g++] = i;
    }
    for (uint32_t i = 0; i < n_g; i++) {
        uint32_t m = group_size(v, nv, g[i]);
        mark_bands(&s, v + g[i], m, 1);
        serve_neighbours(&s, v + g[i], m, cand, pos);
        mark_bands(&s, v + g[i], m, 0);
    }
    for (uint32_t i = 0; i < n_g; i++) {
        uint32_t m = group_size(v, nv, g[i]);
        if (!serve_ranked(&s, v + g[i], m))
            serve_zeros(&s, v + g[i], m);
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
        double up, s = subst(u, &k, &one, item);
        double score = contribution(u, &k, &one, item, info.price, info.margin,
                                    s, &up);
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

/* The key of item c in the lift ranking. */
static double lift_key(const item_ent *it)
{
    return it->sup ? log((double)it->sup) + it->lpm : -INFINITY;
}

/* Rebuilds the rankings of ci from its price index and the items' current
 * supports, and its largest support. */
static void rank_category(upsell *u, cat_index *ci, const uint32_t *sup,
                          uint32_t n_sup)
{
    ci->n_one = ci->n_lift = 0;
    ci->max_sup = 0;
    for (uint32_t j = 0; j < ci->n; j++) {
        uint32_t c = ci->e[j].item;
        item_ent *it = &u->items[c];
        it->sup = c < n_sup ? sup[c] : 0;
        if (it->sup > ci->max_sup)
            ci->max_sup = it->sup;
        ci->ids[j] = c;
        if (isnan(it->lpm)) {
            ci->one[ci->n_one++] = (ranked){(double)it->sup, c};
        } else {
            ci->lsup[ci->n_lift] = (ranked){(double)it->sup, c};
            ci->lift[ci->n_lift++] = (ranked){lift_key(it), c};
        }
    }
    qsort(ci->ids, ci->n, sizeof *ci->ids, by_id);
    rank_sort(ci->one, ci->n_one, 0);
    rank_sort(ci->lift, ci->n_lift, 0);
    rank_sort(ci->lsup, ci->n_lift, 0);
    ci->changed = 0;
}

/* Grows the arrays of ci to hold n items; -1 when out of memory (the
 * arrays already grown stay so, harmlessly: cap is what was reached by
 * all). */
static int cat_reserve(cat_index *ci, uint32_t n)
{
    if (n <= ci->cap)
        return 0;
    uint32_t cap = ci->cap ? ci->cap : 16;
    while (cap < n)
        cap *= 2;
    band_entry *e = realloc(ci->e, cap * sizeof *e);
    if (!e)
        return -1;
    ci->e = e;
    uint32_t *ids = realloc(ci->ids, cap * sizeof *ids);
    if (!ids)
        return -1;
    ci->ids = ids;
    ranked **r[3] = {&ci->one, &ci->lift, &ci->lsup};
    for (int i = 0; i < 3; i++) {
        ranked *p = realloc(*r[i], cap * sizeof *p);
        if (!p)
            return -1;
        *r[i] = p;
    }
    ci->cap = cap;
    return 0;
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
        item_ent *c = realloc(u->items, n_items * sizeof *c);
        if (!c)
            goto out;
        for (uint32_t i = u->n_items; i < n_items; i++)
            c[i] = (item_ent){NAN, NAN, NAN, XS_NONE, 0};
        u->items = c;
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
        if (u->items[a].category != XS_NONE)
            touched[u->items[a].category] = 1;
    }
    for (uint32_t c = 0; c < n_cats; c++) /* room for the newcomers */
        if (add[c] && cat_reserve(&u->cats[c], u->cats[c].n + add[c]))
            goto out;
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
        item_ent *it = &u->items[a];
        it->category = new_cat[i];
        if (new_cat[i] == XS_NONE)
            continue;
        xs_item_info info;
        api->item_info(u->host, a, &info);
        double pm = price_margin(info.price, info.margin);
        it->price = info.price;
        it->margin = info.margin;
        it->lpm = u->margin_weight == 0 || isnan(pm)
                      ? NAN
                      : u->margin_weight * log(pm);
        cat_index *ci = &u->cats[new_cat[i]];
        ci->e[ci->n++] = (band_entry){info.price, info.margin, a};
    }
    uint32_t n_sup;
    const uint32_t *sup = api->supports(u->host, u->pop_scope, &n_sup);
    for (uint32_t c = 0; c < n_cats; c++) {
        if (!touched[c])
            continue;
        cat_index *ci = &u->cats[c];
        qsort(ci->e, ci->n, sizeof *ci->e, by_price);
        rank_category(u, ci, sup, n_sup);
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
                    "out of memory updating the catalog index");
    return rc;
}

/* Refreshes the keys of r[0..n) from the items and sorts it again. */
static void rerank(const upsell *u, ranked *r, uint32_t n, int by_lift,
                   int nearly)
{
    for (uint32_t j = 0; j < n; j++) {
        const item_ent *it = &u->items[r[j].item];
        r[j].key = by_lift ? lift_key(it) : (double)it->sup;
    }
    rank_sort(r, n, nearly);
}

/* New events only raise supports: keep each category's largest current
 * and its rankings sorted by the new supports. */
static int up_observe(void *state, const xs_event *ev, size_t n)
{
    upsell *u = state;
    uint32_t n_pop;
    const uint32_t *sup = u->api->supports(u->host, u->pop_scope, &n_pop);
    int any = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t a = ev[i].item;
        if (a >= u->n_items || a >= n_pop || u->items[a].category == XS_NONE)
            continue;
        cat_index *ci = &u->cats[u->items[a].category];
        if (sup[a] > ci->max_sup)
            ci->max_sup = sup[a];
        if (sup[a] != u->items[a].sup) {
            u->items[a].sup = sup[a];
            ci->changed++;
            any = 1;
        }
    }
    for (uint32_t c = 0; any && c < u->n_cats; c++) {
        cat_index *ci = &u->cats[c];
        if (!ci->changed)
            continue;
        /* a few moved items: an insertion pass; many: sort afresh */
        int nearly = ci->changed <= 64;
        rerank(u, ci->one, ci->n_one, 0, nearly);
        rerank(u, ci->lift, ci->n_lift, 1, nearly);
        rerank(u, ci->lsup, ci->n_lift, 0, nearly);
        ci->changed = 0;
    }
    return 0;
}

static void up_destroy(void *state)
{
    upsell *u = state;
    if (!u)
        return;
    for (uint32_t c = 0; c < u->n_cats; c++) {
        cat_index *ci = &u->cats[c];
        free(ci->e);
        free(ci->ids);
        free(ci->one);
        free(ci->lift);
        free(ci->lsup);
    }
    free(u->cats);
    free(u->items);
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
                snprintf(err, errlen, "%s: want a number > 0, not "
                         "'%s'", k, v);
                return -1;
            }
        } else if (!strcmp(k, "similarity")) {
            if ((measure = api->measure_parse(v)) < 0) {
                snprintf(err, errlen, "similarity: want count, "
                         "confidence, lift, jaccard, cosine or llr, not '%s'",
                         v);
                return -1;
            }
        } else if (!strcmp(k, "prior")) {
            if (parse_number(v, 0, INFINITY, &prior)) {
                snprintf(err, errlen, "prior: want a number >= 0, not "
                         "'%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "margin_weight")) {
            if (parse_number(v, 0, 100, &margin_weight)) {
                snprintf(err, errlen, "margin_weight: want a number "
                         "in [0, 100], not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "history")) {
            if (parse_number(v, 0, HISTORY_MAX, &history) ||
                history != floor(history)) {
                snprintf(err, errlen, "history: want an integer in "
                         "0..%d, not '%s'", HISTORY_MAX, v);
                return -1;
            }
        } else {
            snprintf(err, errlen, "unknown option '%s' (" OPTIONS ")",
                     k);
            return -1;
        }
    }
    if (min_ratio > max_ratio) {
        snprintf(err, errlen, "min_ratio (%g) must not exceed "
                 "max_ratio (%g)", min_ratio, max_ratio);
        return -1;
    }
    if (api->catalog_size(host) == 0) {
        snprintf(err, errlen, "needs a catalog (--catalog FILE): it "
                 "compares categories and prices");
        return -1;
    }
    upsell *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
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
        api->log(host, XS_LOG_WARN, "the data has no customers: "
                 "ranking by popularity and margin only");
    uint32_t n = api->item_count(host);
    uint32_t *all = malloc((n ? n : 1) * sizeof *all);
    if (all)
        for (uint32_t i = 0; i < n; i++)
            all[i] = i;
    if (!all || reindex(u, all, n)) {
        free(all);
        up_destroy(u);
        snprintf(err, errlen, "out of memory building the price "
                 "index");
        return -1;
    }
    free(all);
    *state = u;
    return 0;
}

static const xs_plugin upsell_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
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
