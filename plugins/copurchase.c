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
 * Serving cost: the rows of the basket's items are sorted by neighbour id,
 * so candidates are produced by a k-way merge of those rows (cursors in
 * request scratch memory, scanned for baskets up to 8 items, in a heap
 * beyond): no per-request allocation, no dense accumulator to clear, one
 * pass over the rows.  Supports come as one array per request and the
 * measure is inlined (xs_measure_value), so the loop makes no calls but the
 * push.
 *
 * Neighbour lists.  An item's row can hold thousands of neighbours (a
 * popular item co-occurs with much of the catalog), and a request pays for
 * every one.  So each item is served from its max_neighbours best
 * neighbours by the measure, chosen by prepare() and chosen again whenever
 * ingest rewrote the item's row (prepare() compares the host's row
 * versions).  A one-item request with k <= max_neighbours gets exactly the
 * answer of the whole row; a larger basket sums over each item's best
 * neighbours, so a candidate outside an item's list misses that item's
 * (small) contribution.  The default, 1500, bounds a request's cost at
 * 1500 entries per basket item and is within 1% of whole rows on the
 * basket-completion evaluations (DEFAULT_MAX_NB); it applies everywhere,
 * `xsell eval` and `xsell score` included, so they measure what is served.
 * max_neighbours=0 serves from whole rows, exactly (batch, evaluation).
 * Rows no longer than the cap are read from the host in the request,
 * whole: only the longer ones are copied.
 * Supports of other items drift with ingest while a list keeps the order it
 * was chosen in; scores are always computed from the live counts.
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
 * max_neighbours=M >= 0 (1500; 0: no cap, whole rows),
 * scope=auto|basket|customer (auto: the engine's default scope),
 * history=N in 0..100 (5; 0: customer-only requests get nothing).
 *
 * Explain: support, confidence, lift and count of the rule a -> c for the
 * basket item a contributing most (named in "from").
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin_util.h"

/* The neighbours of one item the plugin serves from: its max_nb best
 * entries by the measure, kept sorted by neighbour id (owned, nbr with cnt
 * after it), when the row is longer than max_nb; else nothing (owned 0):
 * the request reads the host's row. */
typedef struct nb_list {
    const uint32_t *nbr, *cnt;
    uint32_t n;
    uint32_t version; /* host row version it was made from */
    uint8_t owned;    /* a capped list, ours to free */
    uint8_t built;
} nb_list;

typedef struct copurchase {
    const xs_host_api *api;
    xs_host *host;
    int measure;
    int scope;
    uint32_t min_count;
    uint32_t max_nb;  /* 0: serve from whole rows */
    uint32_t history; /* latest distinct purchases used as the basket of a
                         customer-only request; 0: none */
    uint64_t n;       /* transactions */
    nb_list *lists;   /* by item id */
    uint32_t n_lists;
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

/* Default cap on the neighbours served per item (the option
 * max_neighbours), chosen by measurement (bench/quality/neighbours.sh): the
 * smallest cap of 50, 100, 200, 500, 1000, 1500, 2000 whose basket-protocol
 * hit rate is within 1% of whole rows on groceries, Online Retail and the
 * generated stores (Online Retail, whose rows hold ~1,400 neighbours at the
 * median, binds it: 1000 is 3.9% below).  0 serves whole rows, exactly. */
#define DEFAULT_MAX_NB 1500

/* The option history: latest distinct purchases a customer-only request
 * uses as its basket. */
#define DEFAULT_HISTORY 5
#define HISTORY_MAX 100

static void free_lists(copurchase *cp)
{
    for (uint32_t i = 0; i < cp->n_lists; i++)
        if (cp->lists[i].owned)
            free((void *)cp->lists[i].nbr);
    free(cp->lists);
    cp->lists = NULL;
    cp->n_lists = 0;
}

/* (Re)builds the list of item a from its row of version `version`. */
static int build_list(copurchase *cp, uint32_t a, uint32_t version,
                      const uint32_t *sup, uint32_t n_sup)
{
    nb_list *l = &cp->lists[a];
    if (l->owned)
        free((void *)l->nbr);
    *l = (nb_list){NULL, NULL, 0, version, 0, 1};
    xs_row row;
    if (!cp->api->row(cp->host, cp->scope, a, &row) || row.n == 0)
        return 0;
    uint32_t eligible = 0;
    for (uint32_t i = 0; i < row.n; i++)
        eligible += row.cnt[i] >= cp->min_count;
    if (cp->max_nb == 0 || eligible <= cp->max_nb)
        return 0; /* served from the host's row, whole */
    /* the best max_nb by score, ties by position (the row is sorted by id:
     * by lower id) */
    xs_cand *best = malloc(cp->max_nb * sizeof *best);
    uint32_t *buf = malloc(2 * (size_t)cp->max_nb * sizeof *buf);
    if (!best || !buf) {
        free(best);
        free(buf);
        l->built = 0;
        return -1;
    }
    uint32_t m = 0;
    for (uint32_t i = 0; i < row.n; i++)
        if (row.cnt[i] >= cp->min_count)
            xs_best_offer(best, &m, cp->max_nb,
                          (xs_cand){.item = i,
                                    .score = rule_score(cp, row.cnt[i],
                                                        row.support,
                                                        row.nbr[i], sup,
                                                        n_sup)});
    qsort(best, m, sizeof *best, xs_cmp_cand_id); /* lists stay sorted */
    for (uint32_t i = 0; i < cp->max_nb; i++) {
        buf[i] = row.nbr[best[i].item];
        buf[cp->max_nb + i] = row.cnt[best[i].item];
    }
    free(best);
    l->nbr = buf;
    l->cnt = buf + cp->max_nb;
    l->n = cp->max_nb;
    l->owned = 1;
    return 0;
}

/* The transactions counted, and every list up to date with the host's row
 * versions: none without a cap (every request reads whole rows) or
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
        nb_list *l = xs_grow_zeroed(cp->lists, cp->n_lists, n_ver, sizeof *l);
        if (!l)
            goto oom;
        cp->lists = l;
        cp->n_lists = n_ver;
    }
    for (uint32_t a = 0; a < n_ver; a++)
        if (!cp->lists[a].built || cp->lists[a].version != ver[a])
            if (build_list(cp, a, ver[a], sup, n_sup))
                goto oom;
    return 0;
oom: /* the lists not rebuilt serve from whole rows meanwhile */
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

/* A cursor over what item a is served from: its capped list when current,
 * else its whole row (a row within the cap, or a list that could not be
 * refreshed).  Returns 0 when a has no neighbours. */
static int neighbours(const copurchase *cp, uint32_t a, const uint32_t *ver,
                      uint32_t n_ver, const uint32_t *sup, uint32_t n_sup,
                      cursor *c)
{
    uint32_t support = a < n_sup ? sup[a] : 0;
    if (a < cp->n_lists && a < n_ver && cp->lists[a].owned &&
        cp->lists[a].version == ver[a]) {
        const nb_list *l = &cp->lists[a];
        *c = (cursor){l->nbr, l->cnt, 0, l->n, support};
        return l->n > 0;
    }
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
                        uint32_t n_items, xs_result *out);

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
    return score_basket(cp, items, n_items, out);
}

/* Scores the candidates of the basket items[0 .. n_items), sorted. */
static int score_basket(const copurchase *cp, const uint32_t *items,
                        uint32_t n_items, xs_result *out)
{
    const xs_host_api *api = cp->api;
    uint32_t n_sup;
    const uint32_t *sup = api->supports(cp->host, cp->scope, &n_sup);
    const uint32_t minc = cp->min_count;
    uint32_t n_ver;
    const uint32_t *ver = api->row_versions(cp->host, cp->scope, &n_ver);
    if (n_items == 1) { /* the common case: stream the list */
        cursor c;
        if (!neighbours(cp, items[0], ver, n_ver, sup, n_sup, &c))
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
        if (neighbours(cp, items[i], ver, n_ver, sup, n_sup, &cur[n])) {
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
};

XS_PLUGIN_ENTRY(copurchase_plugin)
