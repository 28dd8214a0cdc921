/*
 * xocc.c -- the cross-occurrence tables of event types (data/xocc.h): for
 * a type t other than the primary one (a view, a cart), the pairs
 * (p bought, o t-ed) over customers, as the Universal Recommender's
 * correlated cross-occurrence (CCO) counts them.
 *
 * Why the rows are keyed by the bought item.  A plugin answering a basket
 * B (or a customer's latest purchases) asks "what did the buyers of B
 * view", row by row of B; the counts are symmetric data, so the same table
 * answers "what did viewers of o buy" by reading columns, which nothing
 * needs yet.  A plugin scores a pair with the measures of xsell/plugin.h
 * from n_po (cnt), n_p (bought[p]), n_o (support[o]) and n (customers),
 * LLR deciding which pairs are evidence (docs/plugins.md "Event types").
 *
 * The scope is always the customer: views and carts rarely carry an
 * order, and the point of them is what a customer looked at around what
 * they bought.  The bound is the co-occurrence tables' (--max-basket): a
 * customer feeds its first max_basket distinct items of each kind, in file
 * order, so a crawler's thousand views cost at most max_basket^2 pairs.
 *
 * Building: events grouped by customer with a counting sort (one for the
 * purchases, one for the other types), each customer's distinct items
 * found with a stamp per item, every (p, o) pair written as a 64-bit key
 * p << 32 | o into one array per type, sorted, and run-length counted
 * into compressed rows.  Memory: the pairs before counting (8 bytes each),
 * then 8 bytes per distinct pair.
 *
 * Invariants: rows are sorted by nbr and hold no zero count; support[o] <=
 * n and cnt <= min(bought[p], support[o]).
 *
 * Ingest (xs_xocc_add, under the engine's write lock).  An event changes
 * what a fresh build of the events so far plus it would give, no more: a
 * purchase of p by c that is among c's first max_basket distinct purchases
 * counts c in bought[p] and adds (p, o) for each o among c's first
 * max_basket distinct items of each other type; an event of type t on o
 * likewise adds c to support[o] and (p, o) for c's purchases.  The
 * customer's purchases come from the caller (the engine's histories), its
 * other events from the lists here.  A row changed is copied out of the
 * built arrays into a live row (sorted, grown by doubling) that replaces
 * it from then on; a customer's list likewise.  Cost per event: the
 * customer's events of the kinds involved plus, for one that counts, up to
 * max_basket pairs per type, each a binary search and an insertion.
 * Nothing is compacted: memory grows with what is touched (live_bytes).
 */
#include <stdlib.h>
#include <string.h>

#include "data/xocc.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

void xs_xocc_free(xs_xocc *x)
{
    if (!x)
        return;
    for (uint32_t t = 0; x->t && t < x->n_types; t++) {
        free(x->t[t].off);
        free(x->t[t].nbr);
        free(x->t[t].cnt);
        free(x->t[t].support);
        for (uint32_t i = 0; x->t[t].live && i < x->n_items; i++)
            if (x->t[t].live[i]) {
                free(x->t[t].live[i]->nbr);
                free(x->t[t].live[i]->cnt);
                free(x->t[t].live[i]);
            }
        free(x->t[t].live);
    }
    for (uint32_t c = 0; x->cust && c < x->cap_cust; c++)
        if (x->cust[c]) {
            free(x->cust[c]->ev);
            free(x->cust[c]);
        }
    free(x->cust);
    free(x->stamp);
    free(x->t);
    free(x->bought);
    free(x->ev);
    free(x->start);
    free(x);
}

/* Events of ev[0..n) with a customer, grouped by customer: idx[start[c] ..
 * start[c + 1]) in file order.  0 or -1 (memory). */
static int group(const xs_event *ev, size_t n, uint32_t n_cust,
                 size_t **start_out, size_t **idx_out)
{
    size_t *start = calloc((size_t)n_cust + 2, sizeof *start);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!start || !idx) {
        free(start);
        free(idx);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (ev[i].customer < n_cust)
            start[ev[i].customer + 2]++;
    for (uint32_t c = 0; c < n_cust; c++)
        start[c + 2] += start[c + 1];
    for (size_t i = 0; i < n; i++)
        if (ev[i].customer < n_cust)
            idx[start[ev[i].customer + 1]++] = i;
    *start_out = start;
    *idx_out = idx;
    return 0;
}

/* The first `max` distinct items of customer c's events of type `type`
 * into out; stamp[item] == mark means seen.  Returns the count. */
static uint32_t distinct(const xs_event *ev, const size_t *start,
                         const size_t *idx, uint32_t c, uint32_t type,
                         uint32_t max, uint32_t *stamp, uint32_t mark,
                         uint32_t *out)
{
    uint32_t m = 0;
    for (size_t j = start[c]; j < start[c + 1] && m < max; j++) {
        const xs_event *e = &ev[idx[j]];
        if (e->reserved != type || stamp[e->item] == mark)
            continue;
        stamp[e->item] = mark;
        out[m++] = e->item;
    }
    return m;
}

/* Run-length counts the sorted keys into type table tt.  0 or -1. */
static int compress(xs_xocc_type *tt, uint64_t *key, size_t n_key,
                    uint32_t n_items)
{
    size_t n_pair = 0;
    for (size_t i = 0; i < n_key; i++)
        n_pair += i == 0 || key[i] != key[i - 1];
    tt->off = calloc((size_t)n_items + 1, sizeof *tt->off);
    tt->nbr = malloc((n_pair ? n_pair : 1) * sizeof *tt->nbr);
    tt->cnt = malloc((n_pair ? n_pair : 1) * sizeof *tt->cnt);
    if (!tt->off || !tt->nbr || !tt->cnt)
        return -1;
    size_t w = 0;
    for (size_t i = 0; i < n_key; i++) {
        if (i > 0 && key[i] == key[i - 1]) {
            tt->cnt[w - 1]++;
            continue;
        }
        tt->off[(key[i] >> 32) + 1]++;
        tt->nbr[w] = (uint32_t)key[i];
        tt->cnt[w++] = 1;
    }
    for (uint32_t p = 0; p < n_items; p++)
        tt->off[p + 1] += tt->off[p];
    tt->pairs = n_pair;
    return 0;
}

xs_xocc *xs_xocc_build(const xs_dataset *ds, uint32_t max_basket,
                       xs_error *err)
{
    uint32_t n_items = xs_dict_size(ds->items);
    uint32_t n_cust = xs_dict_size(ds->customers);
    uint32_t n_types = ds->types ? xs_dict_size(ds->types) : 1;
    uint32_t max = max_basket ? max_basket : UINT32_MAX;
    size_t *ps = NULL, *pi = NULL, *os = NULL, *oi = NULL;
    uint32_t *stamp = calloc((size_t)n_items + 1, sizeof *stamp);
    uint32_t *pbuf = malloc(((size_t)n_items + 1) * sizeof *pbuf);
    uint32_t *obuf = malloc(((size_t)n_items + 1) * sizeof *obuf);
    uint64_t *key = NULL;
    size_t n_key = 0, cap_key = 0;
    uint32_t mark = 0;
    xs_xocc *x = calloc(1, sizeof *x);
    if (!x || !stamp || !pbuf || !obuf ||
        !(x->t = calloc(n_types, sizeof *x->t)) ||
        !(x->bought = calloc((size_t)n_items + 1, sizeof *x->bought)) ||
        group(ds->events, ds->n_events, n_cust, &ps, &pi) ||
        group(ds->other, ds->n_other, n_cust, &os, &oi))
        goto nomem;
    x->n_types = x->cap_types = n_types;
    x->n_items = x->n_built = n_items;
    x->cap_items = n_items + 1;
    for (uint32_t c = 0; c < n_cust; c++) {
        uint32_t np = distinct(ds->events, ps, pi, c, 0, max, stamp, ++mark,
                               pbuf);
        x->n += np > 0 || os[c + 1] > os[c];
        for (uint32_t j = 0; j < np; j++)
            x->bought[pbuf[j]]++;
    }
    for (uint32_t t = 1; t < n_types; t++) {
        xs_xocc_type *tt = &x->t[t];
        if (!(tt->support = calloc((size_t)n_items + 1, sizeof *tt->support)))
            goto nomem;
        n_key = 0;
        for (uint32_t c = 0; c < n_cust; c++) {
            if (os[c + 1] == os[c])
                continue;
            uint32_t no = distinct(ds->other, os, oi, c, t, max, stamp,
                                   ++mark, obuf);
            for (uint32_t j = 0; j < no; j++)
                tt->support[obuf[j]]++;
            uint32_t np = no ? distinct(ds->events, ps, pi, c, 0, max, stamp,
                                        ++mark, pbuf)
                             : 0;
            if ((uint64_t)np * no > SIZE_MAX / 16 - n_key)
                goto nomem;
            if (n_key + (size_t)np * no > cap_key) {
                size_t cap = cap_key ? cap_key : 4096;
                while (cap < n_key + (size_t)np * no)
                    cap *= 2;
                uint64_t *k = realloc(key, cap * sizeof *k);
                if (!k)
                    goto nomem;
                key = k;
                cap_key = cap;
            }
            for (uint32_t a = 0; a < np; a++)
                for (uint32_t b = 0; b < no; b++)
                    key[n_key++] = (uint64_t)pbuf[a] << 32 | obuf[b];
        }
        qsort(key, n_key, sizeof *key, cmp_u64);
        if (compress(tt, key, n_key, n_items))
            goto nomem;
    }
    if (!(x->ev = malloc((ds->n_other ? ds->n_other : 1) * sizeof *x->ev)))
        goto nomem;
    for (size_t j = 0; j < os[n_cust]; j++)
        x->ev[j] = ds->other[oi[j]];
    x->start = os; /* start[c] .. start[c + 1] after the grouping's fill */
    x->n_cust = n_cust;
    os = NULL;
    goto done;
nomem:
    xs_xocc_free(x);
    x = NULL;
    xs_error_set(err, XS_ERR_NOMEM, "cross-occurrence tables: out of memory");
done:
    free(key);
    free(stamp);
    free(pbuf);
    free(obuf);
    free(ps);
    free(pi);
    free(os);
    free(oi);
    return x;
}

int xs_xocc_row(const xs_xocc *x, uint32_t type, uint32_t item, xs_row *out)
{
    if (!x || type == 0 || type >= x->n_types || item >= x->n_items)
        return 0;
    const xs_xocc_type *tt = &x->t[type];
    const xs_xocc_live *l = tt->live ? tt->live[item] : NULL;
    out->item = item;
    out->support = x->bought[item];
    if (l) {
        out->n = l->n;
        out->nbr = l->nbr;
        out->cnt = l->cnt;
    } else if (tt->off && item < x->n_built) {
        out->n = tt->off[item + 1] - tt->off[item];
        out->nbr = tt->nbr + tt->off[item];
        out->cnt = tt->cnt + tt->off[item];
    } else {
        out->n = 0;
        out->nbr = out->cnt = NULL;
    }
    return 1;
}

uint32_t xs_xocc_support(const xs_xocc *x, uint32_t type, uint32_t item)
{
    if (!x || type >= x->n_types || item >= x->n_items)
        return 0;
    if (type == 0)
        return x->bought[item];
    return x->t[type].support ? x->t[type].support[item] : 0;
}

int xs_xocc_events(const xs_xocc *x, uint32_t c, const xs_event **ev,
                   size_t *n)
{
    if (x && c < x->cap_cust && x->cust[c]) {
        *ev = x->cust[c]->ev;
        *n = x->cust[c]->n;
        return *n > 0;
    }
    if (!x || c >= x->n_cust || x->start[c + 1] == x->start[c])
        return 0;
    *ev = x->ev + x->start[c];
    *n = x->start[c + 1] - x->start[c];
    return 1;
}

size_t xs_xocc_bytes(const xs_xocc *x)
{
    if (!x)
        return 0;
    size_t b = sizeof *x + (size_t)x->n_types * sizeof *x->t +
               ((size_t)x->n_items + 1) * sizeof *x->bought +
               x->start[x->n_cust] * sizeof *x->ev +
               ((size_t)x->n_cust + 2) * sizeof *x->start;
    for (uint32_t t = 1; t < x->n_types; t++)
        b += ((size_t)x->n_items + 1) * 2 * sizeof(uint32_t) +
             (size_t)x->t[t].pairs * 2 * sizeof(uint32_t);
    return b + x->live_bytes;
}

/* ---- ingest ------------------------------------------------------------- */

/* Reallocates *p from `old` to `cap` entries of `size` bytes, zeroing the
 * new ones.  0 or -1. */
static int grow_zero(void *p, size_t old, size_t cap, size_t size)
{
    void **pp = p;
    unsigned char *q = realloc(*pp, (cap ? cap : 1) * size);
    if (!q)
        return -1;
    if (cap > old)
        memset(q + old * size, 0, (cap - old) * size);
    *pp = q;
    return 0;
}

xs_xocc *xs_xocc_empty(uint32_t n_items)
{
    xs_xocc *x = calloc(1, sizeof *x);
    if (!x || !(x->t = calloc(1, sizeof *x->t)) ||
        !(x->bought = calloc((size_t)n_items + 1, sizeof *x->bought)) ||
        !(x->start = calloc(2, sizeof *x->start)) ||
        !(x->ev = malloc(sizeof *x->ev))) {
        xs_xocc_free(x);
        return NULL;
    }
    x->n_types = x->cap_types = 1;
    x->n_items = n_items;
    x->cap_items = n_items + 1;
    return x;
}

int xs_xocc_grow(xs_xocc *x, uint32_t n_items, uint32_t n_types)
{
    if (n_types > XS_TYPES_MAX || n_items == UINT32_MAX)
        return -1;
    if (n_types > x->cap_types) {
        if (grow_zero(&x->t, x->cap_types, XS_TYPES_MAX, sizeof *x->t))
            return -1;
        x->cap_types = XS_TYPES_MAX;
    }
    if (n_items + 1 > x->cap_items) {
        uint32_t cap = x->cap_items;
        while (cap < n_items + 1)
            cap = cap < UINT32_MAX / 2 ? cap * 2 : UINT32_MAX;
        if (grow_zero(&x->bought, x->cap_items, cap, sizeof *x->bought) ||
            (x->stamp &&
             grow_zero(&x->stamp, x->cap_items, cap, sizeof *x->stamp)))
            return -1;
        for (uint32_t t = 1; t < x->n_types; t++)
            if ((x->t[t].support &&
                 grow_zero(&x->t[t].support, x->cap_items, cap,
                           sizeof *x->t[t].support)) ||
                (x->t[t].live && grow_zero(&x->t[t].live, x->cap_items, cap,
                                           sizeof *x->t[t].live)))
                return -1;
        x->cap_items = cap;
    }
    for (uint32_t t = x->n_types; t < n_types; t++)
        if (!(x->t[t].support = calloc(x->cap_items, sizeof(uint32_t))))
            return -1;
        else
            x->n_types = t + 1;
    if (n_items > x->n_items)
        x->n_items = n_items;
    return 0;
}

/* The first `max` distinct items of type `type` among ev[0..n) into out
 * (malloc'd, *m of them); *has: whether `item` is one of them.  0 or -1. */
static int first_distinct(xs_xocc *x, const xs_event *ev, size_t n,
                          uint32_t type, uint32_t max, uint32_t item,
                          uint32_t **out, uint32_t *m, int *has)
{
    if (!x->stamp && !(x->stamp = calloc(x->cap_items, sizeof *x->stamp)))
        return -1;
    if (++x->mark == 0) { /* wrapped: stamps of old marks would match */
        memset(x->stamp, 0, x->cap_items * sizeof *x->stamp);
        x->mark = 1;
    }
    *m = 0;
    *has = 0;
    *out = malloc((n < max ? n : max) * sizeof **out + sizeof **out);
    if (!*out)
        return -1;
    for (size_t i = 0; i < n && *m < max; i++) {
        uint32_t it = ev[i].item;
        if (ev[i].reserved != type || it >= x->n_items ||
            x->stamp[it] == x->mark)
            continue;
        x->stamp[it] = x->mark;
        (*out)[(*m)++] = it;
        *has |= it == item;
    }
    return 0;
}

/* Adds 1 to pair (p, o) of type t: the live row, copied on first touch. */
static int pair_inc(xs_xocc *x, uint32_t t, uint32_t p, uint32_t o)
{
    xs_xocc_type *tt = &x->t[t];
    if (!tt->live && !(tt->live = calloc(x->cap_items, sizeof *tt->live)))
        return -1;
    xs_xocc_live *l = tt->live[p];
    if (!l) {
        xs_row r;
        xs_xocc_row(x, t, p, &r);
        if (!(l = calloc(1, sizeof *l)))
            return -1;
        l->cap = r.n + 4;
        l->nbr = malloc(l->cap * sizeof *l->nbr);
        l->cnt = malloc(l->cap * sizeof *l->cnt);
        if (!l->nbr || !l->cnt) {
            free(l->nbr);
            free(l->cnt);
            free(l);
            return -1;
        }
        if (r.n) {
            memcpy(l->nbr, r.nbr, r.n * sizeof *l->nbr);
            memcpy(l->cnt, r.cnt, r.n * sizeof *l->cnt);
        }
        l->n = r.n;
        tt->live[p] = l;
        x->live_bytes += sizeof *l + (size_t)l->cap * 2 * sizeof(uint32_t);
    }
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (l->nbr[mid] < o)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < l->n && l->nbr[lo] == o) {
        l->cnt[lo]++;
        return 0;
    }
    if (l->n == l->cap) {
        uint32_t cap = l->cap * 2;
        uint32_t *nb = realloc(l->nbr, cap * sizeof *nb);
        if (!nb)
            return -1;
        l->nbr = nb;
        uint32_t *cn = realloc(l->cnt, cap * sizeof *cn);
        if (!cn)
            return -1;
        l->cnt = cn;
        x->live_bytes += (size_t)(cap - l->cap) * 2 * sizeof(uint32_t);
        l->cap = cap;
    }
    memmove(l->nbr + lo + 1, l->nbr + lo, (l->n - lo) * sizeof *l->nbr);
    memmove(l->cnt + lo + 1, l->cnt + lo, (l->n - lo) * sizeof *l->cnt);
    l->nbr[lo] = o;
    l->cnt[lo] = 1;
    l->n++;
    return 0;
}

/* Customer c's list, copied out of the built arrays on first touch. */
static xs_xocc_cust *cust_get(xs_xocc *x, uint32_t c)
{
    if (c >= x->cap_cust) {
        uint32_t cap = x->cap_cust ? x->cap_cust : 64;
        while (cap <= c)
            cap = cap < UINT32_MAX / 2 ? cap * 2 : UINT32_MAX;
        if (grow_zero(&x->cust, x->cap_cust, cap, sizeof *x->cust))
            return NULL;
        x->cap_cust = cap;
    }
    if (x->cust[c])
        return x->cust[c];
    size_t n = c < x->n_cust ? x->start[c + 1] - x->start[c] : 0;
    xs_xocc_cust *l = calloc(1, sizeof *l);
    if (!l || !(l->ev = malloc((n + 4) * sizeof *l->ev))) {
        free(l);
        return NULL;
    }
    if (n)
        memcpy(l->ev, x->ev + x->start[c], n * sizeof *l->ev);
    l->n = n;
    l->cap = n + 4;
    x->cust[c] = l;
    x->live_bytes += sizeof *l + l->cap * sizeof *l->ev;
    return l;
}

int xs_xocc_add_buyer(xs_xocc *x, const xs_event *ev, size_t n,
                      uint32_t max_basket)
{
    uint32_t *p, np;
    int has;
    if (first_distinct(x, ev, n, 0, max_basket ? max_basket : UINT32_MAX,
                       XS_NONE, &p, &np, &has))
        return -1;
    for (uint32_t j = 0; j < np; j++)
        x->bought[p[j]]++;
    x->n += np > 0;
    free(p);
    return 0;
}

int xs_xocc_add(xs_xocc *x, const xs_event *ev, const xs_event *hist,
                size_t n_hist, uint32_t max_basket)
{
    uint32_t max = max_basket ? max_basket : UINT32_MAX;
    uint32_t c = ev->customer, t = ev->reserved, item = ev->item;
    if (c == XS_NONE || t >= x->n_types || item >= x->n_items)
        return 0;
    xs_xocc_cust *l = cust_get(x, c);
    if (!l)
        return -1;
    int had_any = n_hist > 0 || l->n > 0, has, rc = 0;
    uint32_t *a = NULL, *b = NULL, na, nb;
    if (t == 0) { /* a purchase: bought, and pairs with each other type */
        if (first_distinct(x, hist, n_hist, 0, max, item, &a, &na, &has))
            return -1;
        if (!has && na < max) {
            x->bought[item]++;
            x->n += !had_any;
            for (uint32_t u = 1; u < x->n_types && rc == 0; u++) {
                free(b);
                b = NULL;
                rc = first_distinct(x, l->ev, l->n, u, max, XS_NONE, &b, &nb,
                                    &has);
                for (uint32_t j = 0; j < nb && rc == 0; j++)
                    rc = pair_inc(x, u, item, b[j]);
            }
        }
    } else { /* another type: the list, support, pairs with purchases */
        if (first_distinct(x, l->ev, l->n, t, max, item, &b, &nb, &has))
            return -1;
        if (l->n == l->cap) {
            size_t cap = l->cap * 2;
            xs_event *v = realloc(l->ev, cap * sizeof *v);
            if (!v) {
                free(b);
                return -1;
            }
            x->live_bytes += (cap - l->cap) * sizeof *v;
            l->ev = v;
            l->cap = cap;
        }
        l->ev[l->n++] = *ev;
        if (!has && nb < max) {
            x->t[t].support[item]++;
            x->n += !had_any;
            rc = first_distinct(x, hist, n_hist, 0, max, XS_NONE, &a, &na,
                                &has);
            for (uint32_t j = 0; j < na && rc == 0; j++)
                rc = pair_inc(x, t, a[j], item);
        }
    }
    free(a);
    free(b);
    return rc;
}
