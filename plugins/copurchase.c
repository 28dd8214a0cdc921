/*
 * copurchase.c -- "customers who bought this also bought": scores items by
 * how strongly they co-occur with the request's items.
 *
 * Scoring.  For a request basket B and a candidate c not in B:
 *
 *     score(c) = sum over a in B with n_ac >= min_count of  m(a -> c)
 *
 * where m is the chosen measure (cosine by default) of the rule a -> c.  Items
 * of B that never co-occur with c contribute nothing, so a candidate linked
 * to several basket items outranks one linked to a single item of the same
 * strength.  For a one-item basket the score is exactly m(a -> c).
 *
 * min_count is the larger of the min_count option and the absolute count
 * that min_support demands, ceil(min_support * N), computed as arules does.
 *
 * Defaults, chosen by measurement (bench/RESULTS.md, "Defaults"): cosine,
 * and pairs seen in at least 2 transactions.  In the basket-completion
 * evaluation cosine is the best measure on the generated store and within
 * 4% and 9% of the best on groceries and Online Retail, where the measure
 * that beats it on one falls far behind on the other; lift, the measure of
 * association rules, is the worst everywhere (it ranks pairs of rare items
 * first).  The
 * threshold is evidence for live serving: one ingested order can make a
 * pair, and a pair seen once must not outrank pairs seen often (on the
 * evaluations it is level with 1 on groceries and Online Retail over four
 * seeds and gains 2.6% on the generated store).  measure=lift min_count=1 is the association rules'
 * ranking; `xsell rules` keeps arules' figures whatever these are.
 *
 * Serving cost.  Each item keeps a ranked list of its max_neighbours best
 * neighbours by the rule's score (precomputed, rounded up to a float, with
 * the pair count as payload), built by prepare().  A request reads the
 * lists of its basket items with the threshold algorithm
 * (common/ranked.h): one rank of every list at a time, each candidate met
 * scored exactly over the whole basket (its count in the other items' rows,
 * found through a sample of each row: one block of the row per lookup),
 * until k kept candidates outscore what any unseen one could reach.  A
 * one-item basket stops after k kept pushes.  So a request costs at most
 * max_neighbours ranks whatever the rows hold, and its answer is the
 * whole-row answer whenever the threshold proves it; when a list runs out
 * first, the answer is the lists' candidates, each with its exact total
 * (never a partial sum), provided they give k candidates the host admits;
 * when they run out before (many of the best neighbours out of stock,
 * owned or in the basket) or the request wants more than max_neighbours
 * results, the request reads whole rows: the lists cannot hold its
 * answer.  The default, 50, is the shortest list whose basket-completion
 * hit rate is within 1% of whole rows on groceries, Online Retail and the
 * generated stores (it is identical on all four) and whose top 10 overlap
 * the whole-row top 10 by more than 99% (bench/RESULTS.md, "Bounded
 * requests").
 *
 * Lists under ingest (the drift rule).  prepare() rebuilds the list (and
 * row sample) of every item whose host row changed, so the items an ingest
 * touches are exact again at once, and every list once the transactions
 * grew by `refresh` (a fraction, 0.05) since they were all built.  Between
 * full refreshes an untouched item's list keeps the order and scores it was
 * built with while its neighbours' supports drift; totals are always
 * computed from the live counts, so drift only moves where the search
 * stops.  refresh=0 rebuilds every list after every write burst.
 * max_neighbours=0 serves from whole rows (a k-way merge of the basket's
 * rows, sorted by id, with the measure inlined), exactly: batch work that
 * wants no lists at all.
 *
 * Customer-only requests.  A request with no items but a known customer
 * takes the customer's `history` latest distinct purchases (time order, the
 * latest first) as the basket B, so copurchase answers "what goes with
 * what you bought lately"; the host drops what the customer owns unless
 * owned items are kept.  A request it still cannot answer (no items and no
 * customer, a customer without purchases, history=0) gets nothing, and the
 * plugin says why through the host's note() (the reply's `note` when it
 * answers alone; in a blend it simply adds nothing).
 *
 * Options: measure=count|confidence|lift|jaccard|cosine|llr (cosine),
 * min_support=S in [0,1] (0), min_count=N >= 1 (2),
 * max_neighbours=M >= 0 (50; 0: whole rows, no lists),
 * refresh=F >= 0 (0.05: rebuild every list once the data grew by 5%),
 * scope=auto|basket|customer (auto: the engine's default scope),
 * history=N in 0..100 (5; 0: customer-only requests get nothing),
 * cross_llr=G >= 0 (3.84; see "Event types").
 *
 * Event types (docs/plugins.md "Event types").  With data holding other
 * event types (views, carts) and a weight w_t > 0 for one of them
 * (event_weights), the score adds what the buyers of the basket did:
 *
 *     score(c) = w_purchase * (the sum above)
 *              + sum over types t, a in B with LLR(a, t:c) >= cross_llr
 *                of  w_t * m(a -> t:c)
 *
 * where a -> t:c is the cross-occurrence pair "bought a, did t on c" over
 * customers (the host's cross_row: n_ac its count, n_a a's buyers, n_c the
 * customers who did t on c).  LLR decides which pairs are evidence, as the
 * Universal Recommender's CCO keeps only the correlated cross-occurrences
 * (cross_llr: 3.84 by default, G^2's 5% point with one degree of freedom;
 * 0 keeps every pair of at least min_count); m is the plugin's measure, so
 * a view pair and a purchase pair are on one scale and w_t says what a
 * view is worth against a purchase.  This path sums whole rows into a
 * dense array of item_count() scores (8 bytes an item per request), with
 * no ranked lists: it is for stores that weigh other types, and costs
 * nothing when every other weight is 0 (the default), where answers are
 * exactly those of data without types.
 *
 * Explain: support, confidence, lift and count of the rule a -> c for the
 * basket item a contributing most (named in "from"); with weighted types,
 * also the cross pair contributing most: cross_type, cross_count (its
 * customers) and cross_from (its basket item).
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ranked.h"
#include "xsell/plugin_util.h"

typedef struct copurchase {
    const xs_host_api *api;
    xs_host *host;
    int measure;
    int scope;
    uint32_t min_count;
    uint32_t max_nb;  /* 0: serve from whole rows */
    uint32_t history; /* latest distinct purchases used as the basket of a
                         customer-only request; 0: none */
    double refresh;   /* growth of the transactions that rebuilds every
                         list */
    uint64_t n;       /* transactions */
    uint64_t n_built; /* transactions when every list was last built */
    ranked_list *lists; /* by item id, when max_nb > 0 */
    ranked_sample *samples; /* of each item's row, by item id (n_lists) */
    uint32_t n_lists;
    uint64_t list_entries;
    uint64_t rebuilt_all, rebuilt; /* full refreshes, single lists */
    double cross_llr; /* LLR a cross-occurrence pair needs to count */
} copurchase;

typedef struct cursor {
    const uint32_t *nbr, *cnt;
    uint32_t pos, len;
    uint32_t support; /* of the basket item */
} cursor;

/* Score of the rule a -> c, given the supports array of the scope. */
static inline double rule_score(const copurchase *cp, uint32_t n_ac,
                                uint32_t sup_a, uint32_t c,
                                const uint32_t *sup, uint32_t n_sup)
{
    return xs_measure_value(cp->measure, n_ac, sup_a, c < n_sup ? sup[c] : 0,
                            cp->n);
}

/* The default measure and evidence threshold (see "Defaults" above). */
#define DEFAULT_MEASURE XS_MEASURE_COSINE
#define DEFAULT_MIN_COUNT 2

/* Default length of the ranked lists (the option max_neighbours), chosen
 * by measurement (bench/quality/neighbours.sh): with the threshold
 * algorithm's exact totals, 20 already keeps the hit rate within 0.3% of
 * whole rows on groceries, Online Retail and the generated stores, but
 * Online Retail's three-item top 10 overlap whole rows by 0.956 at 20 and
 * 0.997 at 50.  It bounds a request at 50 ranks of each basket item's
 * list.  0 serves whole rows. */
#define DEFAULT_MAX_NB 50

/* The option history: latest distinct purchases a customer-only request
 * uses as its basket. */
#define DEFAULT_HISTORY 5
#define HISTORY_MAX 100

/* The option refresh: every list is rebuilt once the transactions grew by
 * this fraction since they were all last built. */
#define DEFAULT_REFRESH 0.05

/* The option cross_llr (see "Event types"). */
#define DEFAULT_CROSS_LLR 3.84

static void free_lists(copurchase *cp)
{
    for (uint32_t i = 0; i < cp->n_lists; i++) {
        ranked_free(&cp->lists[i]);
        ranked_sample_free(&cp->samples[i]);
    }
    free(cp->lists);
    free(cp->samples);
    cp->lists = NULL;
    cp->samples = NULL;
    cp->n_lists = 0;
    cp->list_entries = 0;
}

/* (Re)builds the ranked list of item a from its row of version `version`:
 * its max_nb best neighbours by the rule's score among the pairs with
 * n_ac >= min_count, the count as payload.  e has room for the row. */
static int build_list(copurchase *cp, uint32_t a, uint32_t version,
                      const uint32_t *sup, uint32_t n_sup,
                      ranked_entry **e, uint32_t *e_cap)
{
    ranked_list *l = &cp->lists[a];
    cp->list_entries -= l->n;
    xs_row row;
    if (!cp->api->row(cp->host, cp->scope, a, &row))
        row.n = 0;
    if (row.n > *e_cap) {
        ranked_entry *g = realloc(*e, (size_t)row.n * sizeof **e);
        if (!g) {
            ranked_free(l);
            return -1;
        }
        *e = g;
        *e_cap = row.n;
    }
    uint32_t n = 0;
    for (uint32_t i = 0; i < row.n; i++)
        if (row.cnt[i] >= cp->min_count)
            (*e)[n++] = (ranked_entry){
                row.nbr[i], row.cnt[i],
                rule_score(cp, row.cnt[i], row.support, row.nbr[i], sup,
                           n_sup)};
    if (ranked_build(l, *e, n, cp->max_nb, version) ||
        ranked_sample_build(&cp->samples[a], row.nbr, row.n, version))
        return -1;
    cp->list_entries += l->n;
    return 0;
}

/* The transactions counted, and every list up to date: rebuilt for each
 * item whose host row changed since its list was built, and all of them
 * once the transactions grew by the refresh fraction since they were all
 * last built (the drift rule, common/ranked.h).  No lists without a cap or
 * without requests naming items (the only ones this plugin answers). */
static int cp_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    copurchase *cp = state;
    const xs_host_api *api = cp->api;
    cp->n = api->transactions(cp->host, cp->scope);
    unsigned baskets = XS_ASK_ITEMS | (cp->history ? XS_ASK_CUSTOMER : 0);
    if (!cp->max_nb || !(asks & baskets))
        return 0;
    uint32_t n_ver, n_sup;
    const uint32_t *ver = api->row_versions(cp->host, cp->scope, &n_ver);
    const uint32_t *sup = api->supports(cp->host, cp->scope, &n_sup);
    if (n_ver > cp->n_lists) {
        ranked_list *l = xs_grow_zeroed(cp->lists, cp->n_lists, n_ver,
                                        sizeof *l);
        if (!l)
            goto oom;
        cp->lists = l;
        ranked_sample *sm = xs_grow_zeroed(cp->samples, cp->n_lists, n_ver,
                                           sizeof *sm);
        if (!sm)
            goto oom;
        cp->samples = sm;
        cp->n_lists = n_ver;
    }
    int all = cp->n_built == 0 ||
              (double)cp->n > (double)cp->n_built * (1 + cp->refresh);
    ranked_entry *e = NULL;
    uint32_t e_cap = 0;
    for (uint32_t a = 0; a < n_ver; a++)
        if (all || !cp->lists[a].built || cp->lists[a].version != ver[a]) {
            if (build_list(cp, a, ver[a], sup, n_sup, &e, &e_cap)) {
                free(e);
                goto oom;
            }
            cp->rebuilt += !all;
        }
    free(e);
    if (all) {
        cp->n_built = cp->n ? cp->n : 1;
        cp->rebuilt_all++;
    }
    return 0;
oom: /* a list not rebuilt is empty: its item adds nothing meanwhile */
    snprintf(err, errlen, "out of memory building neighbour lists");
    return -1;
}

static int cp_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    int measure = DEFAULT_MEASURE, scope = -1;
    double min_support = 0;
    uint32_t min_count = DEFAULT_MIN_COUNT, max_nb = DEFAULT_MAX_NB;
    uint32_t history = DEFAULT_HISTORY;
    double refresh = DEFAULT_REFRESH;
    double cross_llr = DEFAULT_CROSS_LLR;
    const xs_opt_spec spec[] = {
        {.key = "measure", .type = XS_OPT_MEASURE, .out = &measure},
        {.key = "min_support", .type = XS_OPT_NUMBER, .out = &min_support,
         .lo = 0, .hi = 1},
        {.key = "min_count", .type = XS_OPT_INTEGER, .out = &min_count,
         .lo = 1, .hi = UINT32_MAX},
        {.key = "max_neighbours", .type = XS_OPT_INTEGER, .out = &max_nb,
         .lo = 0, .hi = 1000000},
        {.key = "scope", .type = XS_OPT_SCOPE, .out = &scope},
        {.key = "history", .type = XS_OPT_INTEGER, .out = &history, .lo = 0,
         .hi = HISTORY_MAX},
        {.key = "refresh", .type = XS_OPT_NUMBER, .out = &refresh, .lo = 0,
         .hi = 1000},
        {.key = "cross_llr", .type = XS_OPT_NUMBER, .out = &cross_llr,
         .lo = 0, .hi = 1e9},
    };
    if (xs_opts_parse(api, spec, sizeof spec / sizeof *spec, opts, n_opts,
                      err, errlen) ||
        xs_use_scope(api, host, &scope, err, errlen))
        return -1;
    copurchase *cp = calloc(1, sizeof *cp);
    if (!cp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    cp->api = api;
    cp->host = host;
    cp->measure = measure;
    cp->scope = scope;
    cp->n = api->transactions(host, scope);
    /* arules: absolute support = ceil(n * s * (1 - DBL_EPSILON)) */
    double abs_support = ceil(min_support * (double)cp->n * (1 - DBL_EPSILON));
    cp->min_count = abs_support > min_count ? (uint32_t)abs_support
                                            : min_count;
    cp->max_nb = max_nb;
    cp->history = history;
    cp->refresh = refresh;
    cp->cross_llr = cross_llr;
    *state = cp;
    return 0;
}

static void cp_destroy(void *state)
{
    copurchase *cp = state;
    free_lists(cp);
    free(cp);
}

/* Cursor heap ordered by current neighbour id (for large baskets). */
static uint32_t cur_key(const cursor *c)
{
    return c->nbr[c->pos];
}

static void heap_down(cursor **h, uint32_t n, uint32_t i)
{
    cursor *v = h[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        uint32_t best = cur_key(v);
        if (l < n && cur_key(h[l]) < best) {
            m = l;
            best = cur_key(h[l]);
        }
        if (l + 1 < n && cur_key(h[l + 1]) < best)
            m = l + 1;
        if (m == i)
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = v;
}

/* A cursor over item a's whole row.  Returns 0 when a has no neighbours. */
static int whole_row(const copurchase *cp, uint32_t a, cursor *c)
{
    xs_row row;
    if (!cp->api->row(cp->host, cp->scope, a, &row) || row.n == 0)
        return 0;
    *c = (cursor){row.nbr, row.cnt, 0, row.n, row.support};
    return 1;
}

/* The supports of the candidates are read in neighbour order, which is
 * random in memory: ask for them a few entries ahead. */
#define PREFETCH_AHEAD 8

static inline void prefetch_support(const uint32_t *sup, uint32_t n_sup,
                                    uint32_t c)
{
    if (c < n_sup)
        XS_PREFETCH(&sup[c]);
}

/* Baskets up to this size merge their rows by scanning the cursors; larger
 * ones keep the cursors in a heap. */
#define SCAN_MERGE_MAX 8

/* The basket of req: its items, or for a customer-only request the
 * customer's `history` latest distinct purchases, sorted, in buf (room for
 * HISTORY_MAX).  *n = 0 when there is none; then *why says why. */
static const uint32_t *basket_of(const copurchase *cp, const xs_request *req,
                                 uint32_t *buf, uint32_t *n, const char **why)
{
    *why = NULL;
    *n = req->n_items;
    if (req->n_items)
        return req->items;
    const xs_event *ev = NULL;
    size_t n_ev = 0;
    if (req->customer == XS_NONE)
        *why = "no items and no known customer: nothing to find "
               "co-purchases of";
    else if (cp->history == 0)
        *why = "no items, and history=0: a customer's purchases are not used "
               "as the basket";
    else if (!cp->api->history(cp->host, req->customer, &ev, &n_ev) ||
             n_ev == 0)
        *why = "no items, and the customer has no purchases";
    if (*why)
        return NULL;
    uint32_t m = 0;
    for (size_t i = n_ev; i-- > 0 && m < cp->history;) {
        uint32_t a = ev[i].item, j = 0;
        while (j < m && buf[j] != a)
            j++;
        if (j == m)
            buf[m++] = a;
    }
    for (uint32_t i = 1; i < m; i++) /* sorted, as request items are */
        for (uint32_t j = i; j > 0 && buf[j - 1] > buf[j]; j--) {
            uint32_t t = buf[j];
            buf[j] = buf[j - 1];
            buf[j - 1] = t;
        }
    *n = m;
    return buf;
}

static int score_basket(const copurchase *cp, const uint32_t *items,
                        uint32_t n_items, uint32_t k, xs_result *out);

/* Whether the host has types and some type other than 0 weighs > 0. */
static int types_weighted(const copurchase *cp)
{
    const xs_host_api *api = cp->api;
    if (!XS_HOST_HAS(api, type_events))
        return 0;
    uint32_t nt = api->type_count(cp->host);
    for (uint32_t t = 1; t < nt; t++)
        if (api->type_weight(cp->host, t) > 0)
            return 1;
    return 0;
}

/* "Event types": the whole rows of the basket's items and their cross
 * rows, summed per candidate into a dense array, then pushed. */
static int score_typed(const copurchase *cp, const uint32_t *items,
                       uint32_t n_items, xs_result *out)
{
    const xs_host_api *api = cp->api;
    xs_host *h = cp->host;
    uint32_t n_it = api->item_count(h), n_sup, n_touched = 0;
    const uint32_t *sup = api->supports(h, cp->scope, &n_sup);
    double *acc = api->scratch(out, (size_t)n_it * sizeof *acc);
    uint32_t *touched = api->scratch(out, (size_t)n_it * sizeof *touched);
    if (!acc || !touched)
        return -1;
    for (uint32_t c = 0; c < n_it; c++)
        acc[c] = NAN; /* NaN: not a candidate yet */
    double w0 = api->type_weight(h, 0);
    uint64_t n_cust = api->type_transactions(h);
    uint32_t nt = api->type_count(h);
    for (uint32_t i = 0; i < n_items; i++) {
        cursor c;
        if (w0 > 0 && whole_row(cp, items[i], &c))
            for (uint32_t j = 0; j < c.len; j++) {
                uint32_t b = c.nbr[j];
                if (c.cnt[j] < cp->min_count || b >= n_it)
                    continue;
                if (isnan(acc[b])) {
                    acc[b] = 0;
                    touched[n_touched++] = b;
                }
                acc[b] += w0 * rule_score(cp, c.cnt[j], c.support, b, sup,
                                          n_sup);
            }
        for (uint32_t t = 1; t < nt; t++) {
            double wt = api->type_weight(h, t);
            xs_row r;
            if (!(wt > 0) || !api->cross_row(h, t, items[i], &r))
                continue;
            for (uint32_t j = 0; j < r.n; j++) {
                uint32_t b = r.nbr[j];
                if (r.cnt[j] < cp->min_count || b >= n_it)
                    continue;
                uint32_t n_b = api->type_support(h, t, b);
                if (xs_measure_value(XS_MEASURE_LLR, r.cnt[j], r.support, n_b,
                                     n_cust) < cp->cross_llr)
                    continue;
                if (isnan(acc[b])) {
                    acc[b] = 0;
                    touched[n_touched++] = b;
                }
                acc[b] += wt * xs_measure_value(cp->measure, r.cnt[j],
                                                r.support, n_b, n_cust);
            }
        }
    }
    for (uint32_t j = 0; j < n_touched; j++)
        if (acc[touched[j]] > 0)
            api->push(out, touched[j], acc[touched[j]]);
    return 0;
}

static int cp_recommend(void *state, const xs_request *req, xs_result *out)
{
    const copurchase *cp = state;
    uint32_t buf[HISTORY_MAX], n_items;
    const char *why;
    const uint32_t *items = basket_of(cp, req, buf, &n_items, &why);
    if (!items) {
        if (XS_HOST_HAS(cp->api, note))
            cp->api->note(out, why);
        return 0;
    }
    if (types_weighted(cp))
        return score_typed(cp, items, n_items, out);
    return score_basket(cp, items, n_items, req->k, out);
}

/* What the threshold algorithm's exact() reads: the basket items' rows
 * and supports. */
typedef struct ranked_ctx {
    const copurchase *cp;
    const xs_row *rows; /* by basket position; n == 0: no row */
    const uint32_t *items; /* by basket position */
    const uint32_t *ver;   /* the host's row versions */
    uint32_t n_ver;
    const uint32_t *sup;
    uint32_t n_sup;
} ranked_ctx;

/* s(a_j, c): the rule's score from the pair count -- the list entry's
 * payload when list i is a_j's own, else looked up in a_j's row. */
static double exact_score(void *arg, uint32_t j, uint32_t c,
                          const ranked_list *li, uint32_t i, uint32_t at)
{
    const ranked_ctx *x = arg;
    const xs_row *r = &x->rows[j];
    uint32_t n_ac;
    if (j == i) {
        n_ac = li->aux[at];
    } else {
        uint32_t a = x->items[j];
        uint32_t p = ranked_find_sampled(
            r->nbr, r->n, &x->cp->samples[a],
            a < x->n_ver ? x->ver[a] : 0, c);
        if (p == r->n)
            return 0;
        n_ac = r->cnt[p];
    }
    if (n_ac < x->cp->min_count)
        return 0;
    return rule_score(x->cp, n_ac, r->support, c, x->sup, x->n_sup);
}

/* Asks for the block of a_j's row where c would be, and c's support. */
static void prefetch_score(void *arg, uint32_t j, uint32_t c)
{
    const ranked_ctx *x = arg;
    const xs_row *r = &x->rows[j];
    uint32_t a = x->items[j];
    ranked_prefetch_row(r->nbr, r->cnt, r->n, &x->cp->samples[a],
                        a < x->n_ver ? x->ver[a] : 0, c);
    if (c < x->n_sup)
        XS_PREFETCH(&x->sup[c]);
}

/* The basket answered from the ranked lists (common/ranked.h): 1 when
 * answered, 0 when the lists ran out (nothing pushed), -1 out of memory. */
static int score_ranked(const copurchase *cp, const uint32_t *items,
                        uint32_t n_items, uint32_t k, const uint32_t *sup,
                        uint32_t n_sup, xs_result *out)
{
    const xs_host_api *api = cp->api;
    xs_row *rows = api->scratch(out, n_items * sizeof *rows);
    const ranked_list **L = api->scratch(out, n_items * sizeof *L);
    uint32_t *its = api->scratch(out, n_items * sizeof *its);
    if (!rows || !L || !its)
        return -1;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        uint32_t a = items[i];
        if (a >= cp->n_lists || cp->lists[a].n == 0 ||
            !api->row(cp->host, cp->scope, a, &rows[m]))
            continue;
        its[m] = a;
        L[m++] = &cp->lists[a];
    }
    ranked_ctx x = {cp, rows, its, NULL, 0, sup, n_sup};
    x.ver = api->row_versions(cp->host, cp->scope, &x.n_ver);
    return ranked_answer(api, out, L, m, k, exact_score, prefetch_score, &x);
}

/* Scores the candidates of the basket items[0 .. n_items), sorted. */
static int score_basket(const copurchase *cp, const uint32_t *items,
                        uint32_t n_items, uint32_t k, xs_result *out)
{
    const xs_host_api *api = cp->api;
    uint32_t n_sup;
    const uint32_t *sup = api->supports(cp->host, cp->scope, &n_sup);
    const uint32_t minc = cp->min_count;
    if (cp->max_nb && cp->lists && k <= cp->max_nb &&
        XS_HOST_HAS(api, admits)) {
        int rc = score_ranked(cp, items, n_items, k, sup, n_sup, out);
        if (rc)
            return rc < 0 ? -1 : 0;
    } /* else whole rows: no lists, k beyond them, or they ran out */
    if (n_items == 1) { /* the common case: stream the row */
        cursor c;
        if (!whole_row(cp, items[0], &c))
            return 0;
        for (uint32_t i = 0; i < c.len; i++) {
            if (i + PREFETCH_AHEAD < c.len)
                prefetch_support(sup, n_sup, c.nbr[i + PREFETCH_AHEAD]);
            if (c.cnt[i] >= minc)
                api->push(out, c.nbr[i],
                          rule_score(cp, c.cnt[i], c.support, c.nbr[i], sup,
                                     n_sup));
        }
        return 0;
    }
    cursor *cur = api->scratch(out, n_items * sizeof *cur);
    cursor **heap = api->scratch(out, n_items * sizeof *heap);
    if (!cur || !heap)
        return -1;
    uint32_t n = 0;
    for (uint32_t i = 0; i < n_items; i++)
        if (whole_row(cp, items[i], &cur[n])) {
            heap[n] = &cur[n];
            n++;
        }
    if (n <= SCAN_MERGE_MAX) {
        while (n > 0) {
            uint32_t c = UINT32_MAX;
            for (uint32_t i = 0; i < n; i++)
                if (cur_key(&cur[i]) < c)
                    c = cur_key(&cur[i]);
            double score = 0;
            int any = 0;
            for (uint32_t i = 0; i < n;) {
                cursor *q = &cur[i];
                if (cur_key(q) == c) {
                    if (q->pos + PREFETCH_AHEAD < q->len)
                        prefetch_support(sup, n_sup,
                                         q->nbr[q->pos + PREFETCH_AHEAD]);
                    uint32_t n_ac = q->cnt[q->pos];
                    if (n_ac >= minc) {
                        score += rule_score(cp, n_ac, q->support, c, sup,
                                            n_sup);
                        any = 1;
                    }
                    if (++q->pos == q->len) { /* row done: drop it */
                        cur[i] = cur[--n];
                        continue;
                    }
                }
                i++;
            }
            if (any)
                api->push(out, c, score);
        }
        return 0;
    }
    for (uint32_t i = n / 2; i-- > 0;)
        heap_down(heap, n, i);
    while (n > 0) {
        uint32_t c = cur_key(heap[0]);
        double score = 0;
        int any = 0;
        while (n > 0 && cur_key(heap[0]) == c) {
            cursor *top = heap[0];
            uint32_t n_ac = top->cnt[top->pos];
            if (n_ac >= minc) {
                score += rule_score(cp, n_ac, top->support, c, sup, n_sup);
                any = 1;
            }
            if (++top->pos == top->len)
                heap[0] = heap[--n];
            if (n > 0)
                heap_down(heap, n, 0);
        }
        if (any)
            api->push(out, c, score);
    }
    return 0;
}

/* Evidence of the cross pair contributing most to item (see "Event
 * types"): its type, count (customers) and basket item. */
static void explain_cross(const copurchase *cp, const uint32_t *items,
                          uint32_t n_items, uint32_t item, xs_evidence *ev)
{
    const xs_host_api *api = cp->api;
    xs_host *h = cp->host;
    uint64_t n_cust = api->type_transactions(h);
    double best = 0;
    uint32_t best_t = 0, best_a = XS_NONE, best_n = 0;
    for (uint32_t i = 0; i < n_items; i++)
        for (uint32_t t = 1; t < api->type_count(h); t++) {
            double wt = api->type_weight(h, t);
            xs_row r;
            if (!(wt > 0) || !api->cross_row(h, t, items[i], &r))
                continue;
            uint32_t n = xs_row_count(&r, item);
            uint32_t n_b = api->type_support(h, t, item);
            if (n < cp->min_count ||
                xs_measure_value(XS_MEASURE_LLR, n, r.support, n_b, n_cust) <
                    cp->cross_llr)
                continue;
            double s = wt * xs_measure_value(cp->measure, n, r.support, n_b,
                                             n_cust);
            if (s > best) {
                best = s;
                best_t = t;
                best_a = items[i];
                best_n = n;
            }
        }
    if (best_a == XS_NONE)
        return;
    xs_evidence_add(ev, "cross_type", 0, api->type_name(h, best_t));
    xs_evidence_add(ev, "cross_count", best_n, NULL);
    xs_evidence_add(ev, "cross_from", 0, api->item_name(h, best_a));
}

static int cp_explain(void *state, const xs_request *req, uint32_t item,
                      xs_evidence *ev)
{
    const copurchase *cp = state;
    const xs_host_api *api = cp->api;
    uint32_t best_a = XS_NONE, best_n = 0, best_sup = 0;
    double best = -INFINITY;
    uint32_t buf[HISTORY_MAX], n_items;
    const char *why;
    const uint32_t *items = basket_of(cp, req, buf, &n_items, &why);
    for (uint32_t i = 0; i < n_items; i++) {
        uint32_t a = items[i];
        uint32_t n_ac = api->pair_count(cp->host, cp->scope, a, item);
        if (n_ac < cp->min_count)
            continue;
        uint32_t sup_a = api->support(cp->host, cp->scope, a);
        uint32_t sup_c = api->support(cp->host, cp->scope, item);
        double s = xs_measure_value(cp->measure, n_ac, sup_a, sup_c, cp->n);
        if (s > best) {
            best = s;
            best_a = a;
            best_n = n_ac;
            best_sup = sup_a;
        }
    }
    if (types_weighted(cp))
        explain_cross(cp, items, n_items, item, ev);
    if (best_a == XS_NONE)
        return 0;
    uint32_t sup_c = api->support(cp->host, cp->scope, item);
    double n = (double)cp->n;
    xs_evidence_add(ev, "support", best_n / n, NULL);
    xs_evidence_add(ev, "confidence", (double)best_n / best_sup, NULL);
    xs_evidence_add(ev, "lift", best_n * n / ((double)best_sup * sup_c), NULL);
    xs_evidence_add(ev, "count", best_n, NULL);
    xs_evidence_add(ev, "from", 0, api->item_name(cp->host, best_a));
    return 0;
}

/* The lists, for the server's stats op: their entries, how many single
 * lists were rebuilt after ingest, and how many full refreshes ran. */
static int cp_stats(void *state, xs_evidence *out)
{
    const copurchase *cp = state;
    xs_evidence_add(out, "max_neighbours", cp->max_nb, NULL);
    xs_evidence_add(out, "list_entries", (double)cp->list_entries, NULL);
    xs_evidence_add(out, "lists_rebuilt", (double)cp->rebuilt, NULL);
    xs_evidence_add(out, "full_refreshes", (double)cp->rebuilt_all, NULL);
    return 0;
}

static const xs_plugin copurchase_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "copurchase",
    .version = "1.0.0",
    .description = "items bought together with the basket (lift, confidence, "
                   "jaccard, cosine, llr or count)",
    .create = cp_create,
    .recommend = cp_recommend,
    .explain = cp_explain,
    .destroy = cp_destroy,
    .prepare = cp_prepare,
    .stats = cp_stats,
};

XS_PLUGIN_ENTRY(copurchase_plugin)
