/*
 * serve.c -- the upsell plugin's recommend() and explain()
 * (upsell/upsell.h).
 *
 * The answer is the exact top k, equal to scoring every item of
 * every band.  Viewed items are grouped by category (categories never
 * share candidates).  A group whose bands hold at most 4k + 64 items is
 * swept in price order, every candidate scored and pushed.  For a larger
 * group, in three steps:
 *  1. the neighbours of each viewed item a in its customer-scope row that
 *     lie in a's band: they are the only candidates with subst > 0.  By
 *     default they are read from the viewed items' substitute lists
 *     (lists.c), best pair part first, rank by rank, each candidate scored
 *     exactly over every viewed item and pushed, until no unread candidate
 *     can enter (its pair part is at most the lists' next keys, its prior
 *     part at most step 2's first bound); when every list was read, the
 *     last keys of the capped ones (`rest`) are added to step 2's bound and
 *     step 2 scores what it reads from the rows (a lookup per viewed item),
 *     or, with no prior part to rank by, whole rows are read as below.
 *     With max_neighbours=0 (or a list that does not match its rows) whole
 *     rows are read: the union of the group's bands is set in a request
 *     bitmap, so reading a row costs a bit test per neighbour; the
 *     neighbours kept are then scored, their pair counts read by a linear
 *     merge with the (sorted) rows;
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
 * lookup of each of its rows; per large group, from the lists, at most
 * max_neighbours ranks of m lists, O(m log d) per candidate met; from
 * whole rows, O(U) to set and clear the bitmap for bands whose union holds
 * U items, O(d) bit tests for rows of d neighbours (the main cost on large
 * stores: popular items have thousands of neighbours, which is why the
 * lists exist), and O(m) per neighbour in a band, scored; then
 * O(m) per item read in steps 2 and 3, typically a few times k when
 * popularity and margin rank the band's best first (at worst the whole
 * category, as a full sweep would).  A sweep costs O(B m + B log d) for
 * bands of B items.  The viewed items, the heap of the k best, the bitmaps
 * (scored; in a band) and the neighbours kept live in request scratch
 * memory; nothing is allocated with malloc while serving.
 */
#include <math.h>
#include <string.h>

#include "upsell/upsell.h"

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

/* Fills *v for item a and returns 1 when a has a catalog entry, a category
 * in the index and a price > 0, else 0. */
int upsell_view(const upsell *u, uint32_t a, viewed *v)
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

/* The viewed items of req into v[HISTORY_MAX or req->n_items]: the
 * request's items when it has some, else the customer's most recent
 * distinct purchases.  Returns how many have a band. */
static uint32_t viewed_items(const upsell *u, const xs_request *req,
                             viewed *v)
{
    uint32_t n = 0;
    if (req->n_items) {
        for (uint32_t i = 0; i < req->n_items; i++)
            n += upsell_view(u, req->items[i], &v[n]);
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
        n += upsell_view(u, a, &v[n]);
    }
    return n;
}

void upsell_counts(const upsell *u, counts *c)
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
double upsell_subst(const upsell *u, const counts *k, const viewed *v,
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
    uint32_t n_ac = xs_row_count(&v->cust, c);
    if (n_ac == 0)
        return 0;
    return upsell_subst(u, k, v, c, n_ac, xs_row_count(&v->bask, c));
}

double upsell_uplift(const upsell *u, const viewed *v, double price,
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
    double lift = upsell_uplift(u, v, price, margin);
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
    xs_cand *best; /* the best `want` kept, worst at the root */
    uint32_t n_best, want;
    uint64_t *seen; /* bit per item id < u->n_items: scored */
    uint64_t *band; /* the same: in a band of the group in step 1 */
    size_t words;   /* of each bitmap */
    int band_clear; /* band was zeroed (on first use) */
    int lookup;     /* unscored items may have subst > 0: score_of reads
                       the rows */
} serving;

/* Pushes c with score; on a keep, records it among the k best kept. */
static int offer(serving *s, uint32_t c, double score)
{
    if (!s->u->api->push(s->out, c, score))
        return 0;
    xs_best_offer(s->best, &s->n_best, s->want, (xs_cand){.item = c, .score = score});
    return 1;
}

/* 1 when no candidate with a score below `bound` can enter the result:
 * k pushes kept and the k-th best above the bound (ties rank by id, so an
 * equal score could still enter).  The bound is widened for rounding. */
static int beaten(const serving *s, double bound)
{
    return s->n_best == s->want && bound * (1 + 1e-9) < s->best[0].score;
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

/* The exact score of c, an indexed item of the group's category: with
 * s->lookup its pair counts read from the rows, else c is known not to be
 * a neighbour of any viewed item of v[0..m) whose band holds it (subst
 * 0); returns 0 when no band holds it. */
static int score_of(const serving *s, const viewed *v, uint32_t m, uint32_t c,
                    double *score)
{
    const item_ent *it = &s->u->items[c];
    int any = 0;
    *score = 0;
    for (uint32_t i = 0; i < m; i++)
        if (c != v[i].item && it->price >= v[i].plo && it->price <= v[i].phi) {
            double sim = s->lookup ? subst(s->u, s->k, &v[i], c) : 0;
            *score += contribution(s->u, s->k, &v[i], c, it->price, it->margin,
                                   sim, NULL);
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
            XS_PREFETCH(&u->items[c]);
            if (c < s->k->n_pop)
                XS_PREFETCH(&s->k->pop[c]);
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
                                  upsell_subst(u, s->k, &v[i], c, a, b), NULL);
        }
        offer(s, c, score);
    }
}

/* Step 1 from whole rows for the m viewed items of v: the neighbours in
 * the union of their bands.  Returns -1 when out of scratch memory. */
static int serve_rows(serving *s, const viewed *v, uint32_t m, uint32_t *pos)
{
    size_t n_nbr = 0;
    for (uint32_t i = 0; i < m; i++)
        n_nbr += v[i].cust.n;
    uint32_t *cand =
        s->u->api->scratch(s->out, (n_nbr ? n_nbr : 1) * sizeof *cand);
    if (!cand)
        return -1;
    if (!s->band_clear) {
        memset(s->band, 0, s->words * 8);
        s->band_clear = 1;
    }
    mark_bands(s, v, m, 1);
    serve_neighbours(s, v, m, cand, pos);
    mark_bands(s, v, m, 0);
    return 0;
}

/* The lists of the group's viewed items into L when every one can serve
 * (built from the rows the host holds now); 0 when one cannot. */
static int group_lists(const serving *s, const viewed *v, uint32_t m,
                       const sub_list **L)
{
    const upsell *u = s->u;
    if (!u->max_nb || !u->lists)
        return 0;
    uint32_t n_cv = 0, n_bv = 0;
    const uint32_t *cv =
        u->api->row_versions(u->host, XS_SCOPE_CUSTOMER, &n_cv);
    const uint32_t *bv =
        u->has_basket ? u->api->row_versions(u->host, XS_SCOPE_BASKET, &n_bv)
                      : NULL;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t a = v[i].item;
        if (a >= u->n_lists)
            return 0;
        const sub_list *l = &u->lists[a];
        if (!l->built || l->cver != (a < n_cv ? cv[a] : 0) ||
            l->bver != (a < n_bv ? bv[a] : 0))
            return 0;
        L[i] = l;
    }
    return 1;
}

/* The key bounding list l's unread entries from rank d on. */
static double list_bound(const sub_list *l, uint32_t d)
{
    if (d < l->n)
        return l->e[d].key;
    return l->full || l->n == 0 ? 0 : l->e[l->n - 1].key;
}

/* Step 1 from the substitute lists (lists.c): rank by rank, each candidate
 * met scored exactly over every viewed item (the pair counts of the list's
 * own item from the entry, the others' from their rows) and pushed, until
 * no unread candidate can enter: its pair part is at most the lists' next
 * keys, its prior part at most p0.  Returns 1 when stopped so; else every
 * list was read and *rest receives the bound of the pair part of any
 * unread candidate (the last keys of the capped lists). */
static int serve_lists(serving *s, const viewed *v, uint32_t m,
                       const sub_list *const *L, double p0, double *rest)
{
    const upsell *u = s->u;
    uint32_t category = v[0].category, depth = 0;
    for (uint32_t i = 0; i < m; i++)
        if (L[i]->n > depth)
            depth = L[i]->n;
    for (uint32_t d = 0; d < depth; d++) {
        for (uint32_t i = 0; i < m; i++) {
            if (d >= L[i]->n)
                continue;
            const sub_entry *e = &L[i]->e[d];
            uint32_t c = e->item;
            const item_ent *it = &u->items[c];
            if (it->category != category || test_and_set(s, c))
                continue;
            double score = 0;
            int any = 0;
            for (uint32_t j = 0; j < m; j++) {
                if (c == v[j].item || !(it->price >= v[j].plo) ||
                    !(it->price <= v[j].phi))
                    continue;
                double sim = j == i ? upsell_subst(u, s->k, &v[j], c, e->n_ac,
                                                   e->n_bac)
                                    : subst(u, s->k, &v[j], c);
                score += contribution(u, s->k, &v[j], c, it->price,
                                      it->margin, sim, NULL);
                any = 1;
            }
            if (any)
                offer(s, c, score);
        }
        double tau = p0;
        for (uint32_t i = 0; i < m; i++)
            tau += list_bound(L[i], d + 1);
        if (beaten(s, tau))
            return 1;
    }
    *rest = 0;
    for (uint32_t i = 0; i < m; i++)
        *rest += list_bound(L[i], L[i]->n);
    return 0;
}

/* Scores and pushes c, not a neighbour of any viewed item whose band holds
 * it (or, with s->lookup, any item), unless already scored. */
static int serve_one(serving *s, const viewed *v, uint32_t m, uint32_t c)
{
    double score;
    if (test_and_set(s, c) || !score_of(s, v, m, c, &score))
        return 0;
    return offer(s, c, score);
}

/* Step 2's position in the category's rankings for one group: the
 * bound of the prior part of any unread item, scale * (its support bound
 * times the sum of the uplifts over the viewed items, as below). */
typedef struct cursor {
    const cat_index *ci;
    uint32_t m, B, io, il, is;
    double scale, L, S;
    uint32_t next; /* the item the bound was computed for */
} cursor;

/* Sets c at the start of v[0..m)'s rankings; 0 when the group has no prior
 * part (prior 0, or no item of the category sold): every score but the
 * pair part is 0 then. */
static int cursor_init(const serving *s, const viewed *v, uint32_t m,
                       cursor *c)
{
    const upsell *u = s->u;
    const cat_index *ci = &u->cats[v[0].category];
    if (!(u->prior > 0) || ci->max_sup == 0)
        return 0;
    *c = (cursor){.ci = ci, .m = m, .scale = u->prior / ci->max_sup,
                  .L = -INFINITY};
    /* sum over the viewed items with a margin of pm_a^-W = exp(L) S */
    for (uint32_t i = 0; i < m; i++) {
        if (u->margin_weight == 0 || isnan(v[i].pm))
            c->B++;
        else if (-u->margin_weight * log(v[i].pm) > c->L)
            c->L = -u->margin_weight * log(v[i].pm);
    }
    for (uint32_t i = 0; i < m; i++)
        if (u->margin_weight != 0 && !isnan(v[i].pm))
            c->S += exp(-u->margin_weight * log(v[i].pm) - c->L);
    return 1;
}

/* The bound of the prior part of every unread item into *t, and the item
 * to read next into c->next; 0 when no unread item has a positive one. */
static int cursor_bound(cursor *c, double *t)
{
    const cat_index *ci = c->ci;
    int one = c->io < ci->n_one && ci->one[c->io].score > 0;
    int by_lift = c->il < ci->n_lift && ci->lift[c->il].score > -INFINITY;
    int by_sup = c->is < ci->n_lift && ci->lsup[c->is].score > 0;
    int lifted = (c->S == 0 || by_lift) && (c->B == 0 || by_sup);
    if (!one && !lifted)
        return 0;
    double t_one = one ? ci->one[c->io].score * c->m : 0;
    double t_lift =
        c->S > 0 && by_lift ? exp(ci->lift[c->il].score + c->L) * c->S : 0;
    double t_sup = c->B > 0 && by_sup ? ci->lsup[c->is].score * c->B : 0;
    double best = lifted && t_lift + t_sup > t_one ? t_lift + t_sup : t_one;
    *t = c->scale * best;
    if (one && (!lifted || t_one >= t_lift + t_sup))
        c->next = ci->one[c->io++].item;
    else if (c->S > 0 && (c->B == 0 || t_lift >= t_sup))
        c->next = ci->lift[c->il++].item;
    else
        c->next = ci->lsup[c->is++].item;
    return 1;
}

/* Step 2: the rankings, best bound first, until no unread item can enter:
 * its prior part is at most the rankings' bound, its pair part at most
 * rest (0 once every neighbour with subst > 0 was scored).  Returns 1 when
 * stopped so (step 3 is then not needed), 0 when every item with a
 * positive prior part was read, 2 when the group has no prior part. */
static int serve_ranked(serving *s, const viewed *v, uint32_t m, double rest)
{
    cursor c;
    if (!cursor_init(s, v, m, &c))
        return 2;
    double t;
    while (cursor_bound(&c, &t)) {
        if (beaten(s, t + rest))
            return 1;
        serve_one(s, v, m, c.next);
    }
    return 0;
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

int upsell_recommend(void *state, const xs_request *req, xs_result *out)
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
    upsell_counts(u, &k);
    sort_viewed(v, nv);
    size_t words = ((size_t)u->n_items + 63) / 64;
    serving s = {u, &k, out, api->scratch(out, req->k * sizeof(xs_cand)), 0,
                 req->k, api->scratch(out, (words ? words : 1) * 16), NULL,
                 words, 0, 0};
    if (!s.best || !s.seen)
        return -1;
    s.band = s.seen + words;
    memset(s.seen, 0, words * 8); /* band: zeroed when first used */
    /* the groups, viewed items of one category: small ones are swept, the
     * others' starts kept in g (the sweeps fill the heap early) */
    uint32_t *g = api->scratch(out, nv * sizeof *g), n_g = 0;
    double *rest = api->scratch(out, nv * sizeof *rest);
    const sub_list **L = api->scratch(out, nv * sizeof *L);
    uint32_t *pos = api->scratch(out, 3 * nv * sizeof *pos);
    if (!g || !rest || !L || !pos)
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
    /* step 1: from the lists where they serve, else from whole rows; a
     * group its lists finish is dropped from g */
    uint32_t n_left = 0;
    for (uint32_t i = 0; i < n_g; i++) {
        uint32_t m = group_size(v, nv, g[i]);
        const viewed *gv = v + g[i];
        if (group_lists(&s, gv, m, L)) {
            cursor c;
            double p0 = 0;
            if (cursor_init(&s, gv, m, &c) && !cursor_bound(&c, &p0))
                p0 = 0;
            if (serve_lists(&s, gv, m, L, p0, &rest[n_left]))
                continue;
        } else if (serve_rows(&s, gv, m, pos)) {
            return -1;
        } else {
            rest[n_left] = 0;
        }
        g[n_left++] = g[i];
    }
    for (uint32_t i = 0; i < n_left; i++) {
        uint32_t m = group_size(v, nv, g[i]);
        s.lookup = rest[i] > 0;
        int r = serve_ranked(&s, v + g[i], m, rest[i]);
        if (r == 1)
            continue;
        if (r == 2 && s.lookup && !beaten(&s, rest[i])) {
            /* no prior part to rank by: the capped lists' unread
             * neighbours are found in the whole rows */
            if (serve_rows(&s, v + g[i], m, pos))
                return -1;
            s.lookup = 0;
        }
        serve_zeros(&s, v + g[i], m);
    }
    return 0;
}

int upsell_explain(void *state, const xs_request *req, uint32_t item,
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
    upsell_counts(u, &k);
    double best = -INFINITY, best_s = 0, best_up = 1;
    for (uint32_t i = 0; i < nv; i++) {
        if (!req->n_items)
            one = hist[i];
        else if (!upsell_view(u, req->items[i], &one))
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
