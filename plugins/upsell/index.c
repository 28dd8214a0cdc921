/*
 * index.c -- the upsell plugin's index (upsell/upsell.h).
 *
 * Per category: the catalog's items sorted by (price, id) and by id, and
 * the category's largest support; and per item its category, price,
 * margin and support.  The items are also ranked for serving (serve.c):
 * those whose uplift is always 1 (margin unknown or <= 0, or
 * margin_weight 0) by support, the others both by support and by
 * log(support) + margin_weight * log(price * margin).  create() builds it
 * (refusing an engine without a catalog); the catalog() hook rebuilds the
 * categories an item left or entered; observe() raises the largest
 * supports and re-ranks the items whose support changed (an insertion
 * pass over the nearly sorted rankings of each category touched).  Both
 * run under the host's write discipline; recommend() and explain() only
 * read.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "upsell/upsell.h"

static int by_price(const void *x, const void *y)
{
    const band_entry *a = x, *b = y;
    if (a->price != b->price)
        return a->price < b->price ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

/* Sorts r[0..n), nearly sorted when few keys changed: insertion sort then,
 * else qsort. */
static void rank_sort(ranked *r, uint32_t n, int nearly)
{
    if (n < 2) /* r may be NULL then */
        return;
    if (!nearly) {
        qsort(r, n, sizeof *r, xs_cmp_cand_best);
        return;
    }
    for (uint32_t i = 1; i < n; i++) {
        ranked x = r[i];
        uint32_t j = i;
        for (; j > 0 && xs_cand_before(&x, &r[j - 1]); j--)
            r[j] = r[j - 1];
        r[j] = x;
    }
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
            ci->one[ci->n_one++] =
                (ranked){.item = c, .score = (double)it->sup};
        } else {
            ci->lsup[ci->n_lift] =
                (ranked){.item = c, .score = (double)it->sup};
            ci->lift[ci->n_lift++] = (ranked){.item = c, .score = lift_key(it)};
        }
    }
    qsort(ci->ids, ci->n, sizeof *ci->ids, xs_cmp_u32);
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
int upsell_reindex(upsell *u, const uint32_t *items, size_t n)
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
        cat_index *c = xs_grow_zeroed(u->cats, u->n_cats, n_cats, sizeof *c);
        if (!c)
            goto out;
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

int upsell_catalog(void *state, const uint32_t *items, size_t n)
{
    upsell *u = state;
    /* the categories the items leave: lists there may hold them */
    uint32_t *was = malloc((n ? n : 1) * sizeof *was);
    int rc = was ? 0 : -1;
    for (size_t i = 0; was && i < n; i++)
        was[i] = items[i] < u->n_items ? u->items[items[i]].category : XS_NONE;
    if (!rc)
        rc = upsell_reindex(u, items, n);
    if (!rc)
        rc = upsell_lists_mark(u, items, was, n);
    free(was);
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
        r[j].score = by_lift ? lift_key(it) : (double)it->sup;
    }
    rank_sort(r, n, nearly);
}

/* New events only raise supports: keep each category's largest current
 * and its rankings sorted by the new supports. */
int upsell_observe(void *state, const xs_event *ev, size_t n)
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
