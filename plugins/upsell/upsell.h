/*
 * upsell/upsell.h -- the upsell plugin: "a better version of what you are
 * looking at": pricier items of the same category, ranked by how much they
 * stand in for the viewed item and by the margin they add.  This header
 * holds what its files share: the method (below), the state and the index
 * (index.c), serving (serve.c), options and life cycle (upsell.c).
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
 * Options (xsell/plugin_util.h syntax): min_ratio=R > 0 (1.05),
 * max_ratio=R > 0 and >= min_ratio (2.5), similarity=MEASURE (jaccard),
 * prior=P >= 0 (0.01), margin_weight=W in [0, 100] (1; 0 ignores margins),
 * history=N in 0..100 (5; 0: requests without items get nothing),
 * max_neighbours=M >= 0 (50: each item's substitute list, lists.c; 0: whole
 * rows), refresh=F >= 0 (0.05: every list rebuilt once the customer
 * transactions grew by 5%).
 *
 * Explain: from (the viewed item contributing most), category, price_delta
 * (price_c - price_a), price_ratio (price_c / price_a), similarity
 * (subst(a, c)) and margin_uplift (uplift(a, c)) for that item.
 *
 * How the index is built and kept up to date is in index.c; the
 * substitute lists that bound a request's cost, in lists.c; how a request
 * is answered exactly without scoring every candidate, in serve.c.
 */
#ifndef XS_PLUGIN_UPSELL_H
#define XS_PLUGIN_UPSELL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "xsell/plugin_util.h"

#define HISTORY_MAX 100

/* One item of a category's price index. */
typedef struct band_entry {
    double price;
    double margin; /* NaN when unknown */
    uint32_t item;
} band_entry;

/* One item of a ranking (score: the ranking's key), best
 * first: by key descending, then id (xs_cand_before). */
typedef xs_cand ranked;

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

/* One entry of an item's substitute list: an in-band neighbour c of a,
 * its pair counts when the list was built (customer scope; basket scope,
 * 0 without orders) and its key, subst(a, c) * uplift(a, c) then, rounded
 * up to a float. */
typedef struct sub_entry {
    uint32_t item, n_ac, n_bac;
    float key;
} sub_entry;

/* Item a's substitute list (lists.c): its best `max_neighbours`
 * neighbours by key, best first (ties by id).  Valid for serving while
 * the versions of a's rows are those it was built from. */
typedef struct sub_list {
    sub_entry *e; /* n entries; owned */
    uint32_t n;
    uint32_t cver, bver; /* row versions (customer, basket) built from */
    uint8_t built;
    uint8_t full; /* every in-band neighbour with subst > 0 is listed */
} sub_list;

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
    /* the substitute lists (lists.c) */
    uint32_t max_nb;  /* option max_neighbours; 0: whole rows, no lists */
    double refresh;   /* growth of the transactions that rebuilds them all */
    sub_list *lists;  /* by item id; owned */
    uint8_t *dirty;   /* by item id: rebuild at the next prepare; owned */
    uint32_t n_lists; /* entries of lists and dirty */
    uint64_t n_built; /* customer transactions when all were last built */
    uint64_t list_entries, rebuilt, rebuilt_all;
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

/* The supports and transactions one request reads. */
typedef struct counts {
    const uint32_t *sup; /* customer scope */
    uint32_t n_sup;
    const uint32_t *pop; /* pop scope */
    uint32_t n_pop;
    uint64_t n; /* customer transactions */
} counts;

/* price * margin, or NaN when the margin is unknown or not > 0. */
static inline double price_margin(double price, double margin)
{
    return isfinite(margin) && margin > 0 && price > 0 ? price * margin : NAN;
}

/* serve.c: the counts a request reads; subst(a, c) from its pair counts;
 * the uplift of an item priced `price` with margin `margin` over viewed
 * v. */
void upsell_counts(const upsell *u, counts *k);
double upsell_subst(const upsell *u, const counts *k, const viewed *v,
                    uint32_t c, uint32_t n_ac, uint32_t n_bac);
double upsell_uplift(const upsell *u, const viewed *v, double price,
                     double margin);
/* serve.c: fills *v for item a; 1 when a has a band, else 0. */
int upsell_view(const upsell *u, uint32_t a, viewed *v);

/* lists.c: the substitute lists up to date (prepare()); the items whose
 * lists a catalog change of items[0 .. n) may change marked for the next
 * prepare (was[i]: the category items[i] was indexed under before); the
 * lists freed; their figures for stats(). */
int upsell_prepare(void *state, unsigned asks, char *err, size_t errlen);
int upsell_lists_mark(upsell *u, const uint32_t *items, const uint32_t *was,
                      size_t n);
void upsell_lists_free(upsell *u);
int upsell_stats(void *state, xs_evidence *out);

/* index.c: the catalog entries of items[0 .. n) changed (or are new):
 * each leaves the category it was indexed under and enters its current
 * one.  On -1 (out of memory) the index is as it was. */
int upsell_reindex(upsell *u, const uint32_t *items, size_t n);
int upsell_catalog(void *state, const uint32_t *items, size_t n);
int upsell_observe(void *state, const xs_event *ev, size_t n);

/* serve.c: the plugin's recommend() and explain(). */
int upsell_recommend(void *state, const xs_request *req, xs_result *out);
int upsell_explain(void *state, const xs_request *req, uint32_t item,
                   xs_evidence *ev);

#endif
