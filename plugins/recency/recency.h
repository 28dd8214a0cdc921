/*
 * recency/recency.h -- the recency plugin, "what this customer is likely to
 * buy next": SAR-style personalisation, weighting recent behaviour more
 * than old.  This header holds the method (below) and what the plugin's
 * files share: options and life cycle (recency.c), scoring (score.c), the
 * decayed table (decayed.c), neighbour lists (lists.c), explain
 * (explain.c).
 *
 * Decay.  An event at time t weighs d(t) = 2^(-(t_ref - t) / half_life):
 * 1 at t_ref, 1/2 one half-life earlier; events after t_ref weigh more
 * than 1.  t_ref is fixed when the plugin is created.  Every weight scales by
 * the same factor when t_ref moves, so rankings do not depend on t_ref, only
 * the reported numbers do (personal scores scale by 2^(delta / half_life));
 * the one exception is a personal request that also names items, whose
 * fixed affinity of 1 (below) weighs more against the history when t_ref
 * is later.
 *
 * Personal requests (a customer with a history).  The affinity of the
 * customer to item i is
 *
 *     a(i) = sum over the customer's events e on i of  w_e * d(t_e)
 *            (+ 1 when i is one of the request's items: viewed now)
 *
 * with w_e the event's weight (rating, quantity) or 1 (weight=one), and
 *
 *     score(c) = sum over items i with a(i) > 0 of  a(i) * sim(i, c)
 *
 * sim(i, c) the similarity measure of the plain co-occurrence counts of the
 * scope: m(n_ic, n_i, n_c, N) for pairs with n_ic >= min_count, and for
 * i == c the item's self-similarity m(n_c, n_c, n_c, N) (1 for jaccard), as
 * SAR's A x S has it; the host drops owned items unless they are kept.  With
 * similarity=jaccard, min_count=1 and half_life=30 (and the defaults
 * weight=event, t_ref the latest event) in customer scope (the default when
 * the data has no orders) this is SAR's score exactly.
 *
 * Defaults, chosen by measurement (bench/RESULTS.md, "Defaults"): cosine,
 * min_count=2 and a half-life of 365 days.  On MovieLens (customer split
 * 75/25) they are 25% above SAR's settings (jaccard, 1, 30 days) in nDCG,
 * and 25% above on the generated store's basket evaluation.  A half-life
 * of a year still weighs a purchase of last month about 1.9 times one of
 * a year ago.  The threshold
 * keeps one ingested order from outranking pairs seen often
 * (tests/plugins/test_evidence.c).  SAR exactly: similarity=jaccard
 * min_count=1 half_life=30.
 *
 * Basket requests (no customer, an unknown one, or one without history).
 * Time-decayed co-occurrence, so that recent co-purchases outrank old ones.
 * A group is a customer (customer scope) or one order of a customer (basket
 * scope); within a group item i has decay d_i = d(latest event of i in the
 * group).  Over all groups:
 *
 *     D_ab = sum of min(d_a, d_b)   over groups holding a and b (a != b)
 *     D_a  = sum of d_a             over groups holding a
 *     N_D  = sum of max_i d_i       over groups
 *
 *     score(c) = sum over basket items a with n_ac >= min_count of
 *                m(D_ac, D_a, D_c, N_D)
 *
 * with m the measure on real-valued counts: count D_ac; confidence D_ac/D_a;
 * lift D_ac N_D / (D_a D_c); jaccard D_ac / (D_a + D_c - D_ac); cosine
 * D_ac / sqrt(D_a D_c).  A pair counts from the older of its two purchases
 * in the group (in basket scope they share the order's time), so D_ac <=
 * min(D_a, D_c) as with counts: decayed confidence, jaccard and cosine stay
 * in [0, 1].  llr
 * needs counts: with similarity=llr basket requests use the plain counts
 * (no decay) and D is not built.  D is not built either when the data has
 * no timestamps (latest_time() == 0: every decay would be 1) or no customers
 * (--baskets data); basket requests then score m(n_ac, n_a, n_c, N) on the
 * host's rows.  Whether D is used is decided in create(): data that gains
 * timestamps or customers online keeps the plain counts.  D is built by
 * prepare() when the host will send requests with items (XS_ASK_ITEMS),
 * from the histories as they are then: batch work that only asks personal
 * questions (xsell score, eval) never pays for it, and until then
 * observe() has nothing to update.  A basket scope
 * order shared by several customers counts as one group per customer in D
 * (the host counts it once).
 *
 * Event types (docs/plugins.md "Event types").  The customer's events of
 * other types (the host's type_events: views, carts) add to the affinity
 * like purchases, each times its type's weight w_t (event_weights; 0 by
 * default, when they add nothing):
 *
 *     a(i) += sum over the customer's events e of type t on i of
 *             w_t * w_e * d(t_e)
 *
 * so a customer who viewed i gets i's neighbours (and i itself, by its
 * self-similarity, unless bought) in proportion to w_t.  Similarities stay
 * those of the purchases.  A customer with views but no purchase has no
 * history: the request is a basket request, as before.
 *
 * Nothing to score (no history, no items): nothing is pushed, so the
 * engine's blend fills from `popular`.  Candidates scoring 0 are not pushed.
 *
 * Options (xsell/plugin_util.h syntax; defaults in brackets):
 *   half_life=DAYS     > 0 [365]
 *   t_ref=TIME         unix seconds or YYYY-MM-DD[THH:MM[:SS]] (UTC)
 *                      [latest_time(): the latest event, so answers are
 *                      reproducible]
 *   similarity=M       count|confidence|lift|jaccard|cosine|llr [cosine]
 *   scope=S            auto|basket|customer [auto: the engine's default]
 *   weight=W           event|one [event]: event weights as affinity weights,
 *                      or 1 per event
 *   min_count=N        integer >= 1 [2]: pairs seen in fewer transactions
 *                      are ignored (on both paths, by the plain counts)
 *   max_neighbours=M   integer >= 0 [0: exact]: score each item from its M
 *                      most similar neighbours only (below)
 *   basket_neighbours=M  integer >= 0 [50]: basket requests read ranked
 *                      lists of M entries (below); 0: the paths above
 *   refresh=F          number >= 0 [0.05]: every ranked list is rebuilt
 *                      once the transactions grew by this fraction
 *
 * Neighbour lists (max_neighbours).  A row can hold thousands of
 * neighbours and a request pays for every one.  With M > 0 each item i
 * keeps a list L(i) of its M best neighbours, ties by lower id, and
 *
 *     personal:  score(c) = a(c) sim(c, c) + sum over items i != c with
 *                a(i) > 0 and c in L(i) of  a(i) sim(i, c)
 *     basket:    score(c) = sum over basket items a with c in L_D(a) of
 *                m(D_ac, D_a, D_c, N_D)
 *
 * L(i) is chosen by sim(i, c) on the plain counts (among pairs with n_ic >=
 * min_count), the measure the personal path scores with; it also serves
 * basket requests when D is not built.  L_D(a) is chosen by the decayed
 * measure m(D_ac, D_a, D_c, N_D) the basket path scores with (among pairs
 * with n_ac >= min_count).  A row of at most M entries is used in place,
 * whole (no copy); a longer one is copied to its list.  Lists are built by
 * prepare() and, after each ingest, rebuilt for the items whose host row
 * version changed (L) or whose row of D changed (L_D; with min_count > 1
 * also when the host row changed).  A list keeps the order it was chosen in while
 * the supports (and D_c, N_D) of other items drift with ingest; scores are
 * always computed from the live values.  max_neighbours=0 serves whole rows
 * and is exact; a cap no row exceeds gives the same answers bit for bit.
 * With M > 0 a candidate outside an item's list misses that item's
 * contribution (the self term sim(c, c) is always kept), so scores are
 * lower bounds of the exact ones and rankings can change; a request costs
 * O(history x M) instead of O(sum of row lengths).  Memory: 8 bytes per
 * copied entry in each kind of list, plus 24 bytes per item per kind.
 * Explain follows the lists: from is the item contributing most among those
 * whose list holds c.
 *
 * Ranked basket lists (basket_neighbours=M, ranked.c).  Basket requests
 * are answered with the threshold algorithm of common/ranked.h over each
 * basket item's M best neighbours by the basket score (decayed with D,
 * plain counts without), every candidate met scored exactly over the whole
 * basket from the live rows: the whole-row answer whenever the threshold
 * proves it, else the lists' candidates with their exact totals, at a cost
 * of at most M ranks per basket item; a request for more than M results,
 * or one whose lists run out before k candidates the host admits, reads
 * whole rows.  The default, 50, gives the whole-row hit rate on every
 * basket-completion evaluation and a top 10 overlapping the whole-row one
 * by more than 99% (bench/RESULTS.md, "Bounded requests").  Lists of items whose D row (or
 * host row, with min_count > 1) changed are rebuilt by prepare(), all of
 * them once the transactions grew by `refresh`.  With basket_neighbours=M
 * > 0, max_neighbours caps the personal path only.
 *
 * Explain.  Personal: from (the item contributing most, a(i) sim(i, c)),
 * affinity a(from), similarity sim(from, c), age_days (t_ref minus from's
 * latest event, 0 for an item only viewed now), half_life_days.  Basket:
 * from (the basket item contributing most), decayed_count D_from,c (the
 * plain count without D), similarity.
 *
 */
#ifndef XS_PLUGIN_RECENCY_H
#define XS_PLUGIN_RECENCY_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ranked.h"
#include "xsell/plugin_util.h"

#define SECONDS_PER_DAY 86400.0

#define DEFAULT_HALF_LIFE_DAYS 365.0

/* basket_neighbours: the ranked list of each item answering basket
 * requests holds its best this many (0: whole rows or max_neighbours
 * lists); refresh: every ranked list is rebuilt once the transactions grew
 * by this fraction since they were all built. */
#define DEFAULT_BASKET_NB 50
#define DEFAULT_REFRESH 0.05

/* One row of D: neighbours sorted ascending, D_ab = w[i] * scale.  nbr and
 * w share one allocation (w right after the n ids). */
typedef struct drow {
    uint32_t *nbr;
    float *w;
    uint32_t n;
    uint32_t version; /* bumped whenever the row changes */
    double scale;
} drow;

/* The neighbours item a is served from on the personal path (and the basket
 * path without D) with max_neighbours=M: its host row in place when the row
 * holds at most M entries (capped == 0), else its M best by sim (capped ==
 * 1; nbr[0..n) sorted by id, cnt[i] at nbr + n, one allocation). */
typedef struct nb_list {
    uint32_t *nbr;
    uint32_t n;
    uint32_t version; /* host row version it was made from */
    uint8_t built, capped;
} nb_list;

/* The same for D's rows on the basket path: nbr[0..n) sorted by id, float
 * weights (on the D row's scale) right after them. */
typedef struct d_list {
    uint32_t *nbr;
    uint32_t n;
    uint32_t dver; /* D row version it was made from */
    uint32_t hver; /* host row version (read only when min_count > 1) */
    uint8_t built, capped;
} d_list;

typedef struct recency {
    const xs_host_api *api;
    xs_host *host;
    int measure;
    int scope;
    int weight_one;     /* 1: every event counts 1 */
    uint32_t min_count;
    double half_life_days;
    double inv_half_life; /* 1 / half-life in seconds */
    int64_t t_ref;
    int decayed;        /* D is used (for basket requests) */
    int d_built;        /* D (and its lists) built, by prepare() */
    drow *rows;         /* D by item id (n_rows entries) */
    double *dsup;       /* D_a by item id */
    uint32_t n_rows;
    double n_d;         /* N_D */
    uint64_t d_pairs;   /* directed pairs stored in D */
    uint32_t max_nb;    /* 0: serve from whole rows */
    uint32_t max_basket; /* the host's bound on a group's items (0: none):
                            D pairs a group's first max_basket distinct
                            items, in history order, as the host's tables
                            do */
    nb_list *lists;     /* by item id (n_lists entries), when max_nb > 0 */
    uint32_t n_lists;
    d_list *dlists;     /* by item id (n_dlists entries), when max_nb > 0 */
    uint32_t n_dlists;
    uint64_t list_entries; /* entries held in capped lists (both kinds) */
    uint32_t basket_nb; /* basket_neighbours: ranked lists answer basket
                           requests (ranked.c); 0: the paths above */
    double refresh;     /* growth of the transactions that rebuilds every
                           ranked list */
    ranked_list *ranked; /* by item id (n_ranked entries) */
    uint32_t *ranked_hver; /* host row version each was built from */
    ranked_sample *dsample; /* of D's rows, by item id (n_ranked) */
    ranked_sample *hsample; /* of the host's rows, by item id (n_ranked) */
    uint64_t **elig;    /* with D and min_count > 1: bit j of elig[a] says
                           whether D's entry j of row a has n_ac >=
                           min_count, valid while a's list is current */
    uint32_t n_ranked;
    uint64_t ranked_entries;
    uint64_t ranked_n;   /* transactions when all were last built */
} recency;

static inline double decay(const recency *r, int64_t ts)
{
    return exp2(-(double)(r->t_ref - ts) * r->inv_half_life);
}

/* The measures on real-valued (decayed) counts; llr never comes here. */
static inline double measure_real(int m, double ab, double a, double b,
                                  double n)
{
    switch (m) {
    case XS_MEASURE_COUNT:
        return ab;
    case XS_MEASURE_CONFIDENCE:
        return a > 0 ? ab / a : 0.0;
    case XS_MEASURE_LIFT:
        return a > 0 && b > 0 ? ab * n / (a * b) : 0.0;
    case XS_MEASURE_JACCARD:
        return a + b - ab > 0 ? ab / (a + b - ab) : 0.0;
    case XS_MEASURE_COSINE:
        return a > 0 && b > 0 ? ab / sqrt(a * b) : 0.0;
    default:
        return 0.0;
    }
}

/* The host row version of item a (0 when the scope has none). */
static inline uint32_t host_version(const uint32_t *ver, uint32_t n_ver,
                                    uint32_t a)
{
    return ver && a < n_ver ? ver[a] : 0;
}

static inline int dlist_current(const recency *r, uint32_t a,
                                const uint32_t *ver, uint32_t n_ver)
{
    const d_list *l = &r->dlists[a];
    return l->built && l->dver == r->rows[a].version &&
           (r->min_count <= 1 || l->hver == host_version(ver, n_ver, a));
}

/* The host's row versions when the plugin keeps lists, else NULL. */
static inline const uint32_t *list_versions(const recency *r,
                                            uint32_t *n_ver)
{
    *n_ver = 0;
    return r->max_nb ? r->api->row_versions(r->host, r->scope, n_ver) : NULL;
}

/* What item a is scored from by sim: its capped list when it has a current
 * one (with a's live support), else its host row, whole (a row no longer
 * than max_nb, or a list that could not be refreshed). */
static inline int neighbours(const recency *r, uint32_t a,
                             const uint32_t *ver, uint32_t n_ver,
                             const uint32_t *sup, uint32_t n_sup,
                             xs_row *out)
{
    if (ver && a < r->n_lists && a < n_ver) {
        const nb_list *l = &r->lists[a];
        if (l->built && l->capped && l->version == ver[a]) {
            *out = (xs_row){a, a < n_sup ? sup[a] : 0, l->n, l->nbr,
                            l->nbr + l->n};
            return 1;
        }
    }
    return r->api->row(r->host, r->scope, a, out);
}

/* The customer's history when the request is personal, else NULL. */
static inline const xs_event *personal_history(const recency *r,
                                               const xs_request *req,
                                               size_t *nh)
{
    const xs_event *h = NULL;
    *nh = 0;
    if (req->customer == XS_NONE ||
        !r->api->history(r->host, req->customer, &h, nh) || *nh == 0)
        return NULL;
    return h;
}

/* decayed.c: D built from every customer's history (0, or -1 out of
 * memory: call recency_free_rows); freed; one pair; a batch of events
 * added. */
int recency_build_d(recency *r);
void recency_free_rows(recency *r);
double recency_d_pair(const recency *r, uint32_t a, uint32_t b);
int recency_observe_d(recency *r, const xs_event *ev, size_t n);

/* lists.c: every list brought up to date (0, or -1 out of memory: the
 * lists not rebuilt serve from whole rows); all freed. */
int recency_refresh_all(recency *r);
void recency_free_lists(recency *r);

/* ranked.c: the ranked basket lists brought up to date (0, or -1 out of
 * memory); freed; a basket request answered from them (1, or 0 when the
 * lists ran out and nothing was pushed, or -1 out of scratch memory). */
int recency_refresh_ranked(recency *r);
void recency_free_ranked(recency *r);
int recency_basket_ranked(const recency *r, const xs_request *req,
                          xs_result *out);

/* score.c: a personal request (h: the customer's nh events), a basket
 * request.  0, or -1 out of scratch memory or D missing. */
int recency_personal(const recency *r, const xs_request *req,
                     const xs_event *h, size_t nh, xs_result *out);
int recency_basket(const recency *r, const xs_request *req, xs_result *out);

/* explain.c: the plugin's explain(). */
int recency_explain(void *state, const xs_request *req, uint32_t item,
                    xs_evidence *ev);

#endif
