/*
 * lists.c -- the upsell plugin's substitute lists (upsell/upsell.h): what
 * bounds the cost of a request whatever the viewed items' rows hold.
 *
 * A candidate's score is a pair part plus a prior part (upsell.h):
 *
 *     score(c) = sum over viewed a of subst(a, c) uplift(a, c)
 *              + sum over viewed a of prior pop(c) uplift(a, c)
 *
 * The prior part is read best first from the category's rankings
 * (index.c, serve.c step 2).  The pair part is non-zero only for c in a's
 * customer-scope row and a's band, and those neighbours are what a
 * popular item has thousands of.  So each indexed item a keeps a list of
 * its max_neighbours best in-band neighbours by the pair part,
 * subst(a, c) uplift(a, c), precomputed (a float rounded up, so it never
 * understates the double), with the pair counts it was computed from.  A
 * request reads its viewed items' lists rank by rank (serve.c, a threshold
 * algorithm): every candidate met is scored exactly over all viewed items,
 * and the search stops once k kept candidates outscore what an unread one
 * could reach, the lists' next keys plus the largest prior part.  `full`
 * says the list holds every in-band neighbour with subst > 0; past the end
 * of a capped list its last key still bounds the unread neighbours, and
 * serve.c goes on through the rankings with that bound, scoring each item
 * from the rows (or, with no prior part to rank by, reads whole rows).
 * Answers are therefore the whole-row answers.
 *
 * Under writes (the drift rule, as copurchase's).  A list is valid while
 * the item's customer and basket rows keep the versions it was built from:
 * prepare() rebuilds the list of every item whose rows changed, whose
 * catalog entry changed, or that is a neighbour of an item whose entry
 * changed in the category it left or entered (rows are symmetric: c is in
 * a's row exactly when a is in c's, and lists hold items of their own
 * category, so those are the lists it can enter or leave); all lists once the customer transactions grew by `refresh` since
 * they were all built.  Meanwhile an untouched list keeps the keys it was
 * built with while supports drift (jaccard and cosine only fall when a
 * neighbour's support rises; lift and llr can rise with the transaction
 * count); totals are always computed from live counts, so drift can only
 * move where the search stops.  A request whose viewed item's list does
 * not match its rows (a prepare that ran out of memory) reads whole rows.
 *
 * Ownership: each list owns its entries; the plugin owns the lists and the
 * dirty flags.  prepare() and the catalog hook run under the host's write
 * discipline; requests only read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upsell/upsell.h"

/* x as a float, rounded up. */
static float round_up(double x)
{
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

static int entry_before(const void *x, const void *y)
{
    const sub_entry *a = x, *b = y;
    if (a->key != b->key)
        return a->key > b->key ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

void upsell_lists_free(upsell *u)
{
    for (uint32_t a = 0; a < u->n_lists; a++)
        free(u->lists[a].e);
    free(u->lists);
    free(u->dirty);
    u->lists = NULL;
    u->dirty = NULL;
    u->n_lists = 0;
    u->list_entries = 0;
}

/* Lists and flags for every indexed item (new ones zeroed: not built). */
static int lists_grow(upsell *u)
{
    if (u->n_items <= u->n_lists)
        return 0;
    sub_list *l = xs_grow_zeroed(u->lists, u->n_lists, u->n_items, sizeof *l);
    if (!l)
        return -1;
    u->lists = l;
    uint8_t *d = xs_grow_zeroed(u->dirty, u->n_lists, u->n_items, 1);
    if (!d)
        return -1;
    u->dirty = d;
    u->n_lists = u->n_items;
    return 0;
}

/* (Re)builds a's list from its rows of versions cver and bver.  buf has
 * room for *cap entries, grown as needed.  On -1 (out of memory) the list
 * is left empty and not built: requests read a's whole rows meanwhile. */
static int build_list(upsell *u, uint32_t a, const counts *k, uint32_t cver,
                      uint32_t bver, sub_entry **buf, uint32_t *cap)
{
    sub_list *l = &u->lists[a];
    u->list_entries -= l->n;
    free(l->e);
    *l = (sub_list){0};
    viewed v;
    uint32_t n = 0;
    if (upsell_view(u, a, &v) && v.cust.n) {
        if (v.cust.n > *cap) {
            sub_entry *g = realloc(*buf, (size_t)v.cust.n * sizeof *g);
            if (!g)
                return -1;
            *buf = g;
            *cap = v.cust.n;
        }
        uint32_t pb = 0; /* position in the basket row (both sorted) */
        for (uint32_t j = 0; j < v.cust.n; j++) {
            uint32_t c = v.cust.nbr[j];
            if (c >= u->n_items)
                continue;
            const item_ent *it = &u->items[c];
            if (c == a || it->category != v.category ||
                !(it->price >= v.plo) || !(it->price <= v.phi))
                continue;
            uint32_t n_bac = 0;
            while (pb < v.bask.n && v.bask.nbr[pb] < c)
                pb++;
            if (pb < v.bask.n && v.bask.nbr[pb] == c)
                n_bac = v.bask.cnt[pb];
            double s = upsell_subst(u, k, &v, c, v.cust.cnt[j], n_bac);
            if (!(s > 0))
                continue; /* scores like any non-neighbour */
            double key = s * upsell_uplift(u, &v, it->price, it->margin);
            (*buf)[n++] = (sub_entry){c, v.cust.cnt[j], n_bac, round_up(key)};
        }
    }
    uint32_t keep = n < u->max_nb ? n : u->max_nb;
    if (keep) {
        qsort(*buf, n, sizeof **buf, entry_before);
        l->e = malloc((size_t)keep * sizeof *l->e);
        if (!l->e)
            return -1;
        memcpy(l->e, *buf, (size_t)keep * sizeof *l->e);
    }
    l->n = keep;
    l->full = n <= u->max_nb;
    l->cver = cver;
    l->bver = bver;
    l->built = 1;
    u->list_entries += keep;
    return 0;
}

int upsell_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    upsell *u = state;
    const xs_host_api *api = u->api;
    unsigned answered = XS_ASK_ITEMS | (u->history ? XS_ASK_CUSTOMER : 0);
    if (!u->max_nb || !u->has_customer || !(asks & answered))
        return 0;
    if (lists_grow(u))
        goto oom;
    counts k;
    upsell_counts(u, &k);
    uint32_t n_cv = 0, n_bv = 0;
    const uint32_t *cv = api->row_versions(u->host, XS_SCOPE_CUSTOMER, &n_cv);
    const uint32_t *bv =
        u->has_basket ? api->row_versions(u->host, XS_SCOPE_BASKET, &n_bv)
                      : NULL;
    int all = u->n_built == 0 ||
              (double)k.n > (double)u->n_built * (1 + u->refresh);
    sub_entry *buf = NULL;
    uint32_t cap = 0;
    for (uint32_t a = 0; a < u->n_lists; a++) {
        const sub_list *l = &u->lists[a];
        uint32_t c_ver = a < n_cv ? cv[a] : 0, b_ver = a < n_bv ? bv[a] : 0;
        if (!all && l->built && !u->dirty[a] && l->cver == c_ver &&
            l->bver == b_ver)
            continue;
        if (build_list(u, a, &k, c_ver, b_ver, &buf, &cap)) {
            free(buf);
            goto oom;
        }
        u->dirty[a] = 0;
        u->rebuilt += !all;
    }
    free(buf);
    if (all) {
        u->n_built = k.n ? k.n : 1;
        u->rebuilt_all++;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory building substitute lists");
    return -1;
}

int upsell_lists_mark(upsell *u, const uint32_t *items, const uint32_t *was,
                      size_t n)
{
    if (!u->max_nb || u->n_built == 0)
        return 0; /* no lists yet: the first prepare builds them all */
    if (lists_grow(u))
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = items[i];
        if (c >= u->n_lists)
            continue;
        u->dirty[c] = 1;
        uint32_t now = u->items[c].category;
        xs_row row;
        if ((was[i] == XS_NONE && now == XS_NONE) ||
            !u->api->row(u->host, XS_SCOPE_CUSTOMER, c, &row))
            continue;
        for (uint32_t j = 0; j < row.n; j++) {
            uint32_t a = row.nbr[j];
            /* only a list of c's old or new category can hold c */
            if (a < u->n_lists && (u->items[a].category == was[i] ||
                                   u->items[a].category == now))
                u->dirty[a] = 1;
        }
    }
    return 0;
}

int upsell_stats(void *state, xs_evidence *out)
{
    const upsell *u = state;
    xs_evidence_add(out, "max_neighbours", u->max_nb, NULL);
    xs_evidence_add(out, "list_entries", (double)u->list_entries, NULL);
    xs_evidence_add(out, "lists_rebuilt", (double)u->rebuilt, NULL);
    xs_evidence_add(out, "full_refreshes", (double)u->rebuilt_all, NULL);
    return 0;
}
