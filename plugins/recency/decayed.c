/*
 * decayed.c -- recency's decayed co-occurrence table D, for requests with
 * items (recency/recency.h): building it, and keeping it up to date.
 *
 * Memory.  D holds, per item, its neighbours sorted by id with a float
 * weight relative to the row's largest value (stored as a double scale per
 * row, so rows keep 24 bits of precision however old the data): 8 bytes per
 * directed pair, as the host's count tables, plus 40 bytes per item
 * (row header and D_a).  Building it costs one pass over each group's pairs
 * with a dense accumulator (O(sum of group sizes squared)).  MovieLens
 * small (610 customers, 9,724 items, customer scope): 26.3 M pairs, 211 MB,
 * built in about 0.9 s by prepare(); a personal request costs 1.6-2.2 ms
 * (the rows of a customer's history hold 945,000 entries on average, 2 ns
 * each).
 * Ingesting an event costs a binary search per pair it changes when the
 * pair exists (rows are updated in place), else a rewrite of the row.
 *
 *
 * Online updates.  observe() recomputes the contribution of every group the
 * new events touched before (the history without those events) and after,
 * and adds the difference to D for the pairs involving items whose latest
 * event in the group changed; rows that change are rewritten whole.
 *
 * The bound (the host's max_basket): a group pairs only its first
 * max_basket distinct items in history (time) order, the host's rule for
 * its tables, so D and the counts describe the same groups and an event
 * changes at most max_basket pairs per group: the pair work of an update is
 * linear in the batch, the group's history is only read (a sort of its
 * events).  An item leaving a group's first max_basket (an event older than
 * the group's others arriving late) keeps its pairs at weight 0.
 * Affinities need nothing (read from the history per request).  Decays are
 * computed in double; ages beyond about 1000 half-lives underflow to 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "recency/recency.h"

/* ---- building ----------------------------------------------------------- */

void recency_free_rows(recency *r)
{
    for (uint32_t i = 0; i < r->n_rows; i++)
        free(r->rows[i].nbr);
    free(r->rows);
    free(r->dsup);
    r->rows = NULL;
    r->dsup = NULL;
    r->n_rows = 0;
}

/* Grows rows and dsup to n items (new entries empty). */
static int grow_rows(recency *r, uint32_t n)
{
    if (n <= r->n_rows)
        return 0;
    drow *rows = xs_grow_zeroed(r->rows, r->n_rows, n, sizeof *rows);
    if (rows)
        r->rows = rows;
    double *dsup = rows ? xs_grow_zeroed(r->dsup, r->n_rows, n, sizeof *dsup)
                        : NULL;
    if (!dsup)
        return -1; /* rows may have grown: harmless, n_rows says what is */
    r->dsup = dsup;
    r->n_rows = n;
    return 0;
}

/* Replaces row a by the n values v[] (double, in t_ref terms) of the
 * neighbours nbr[], which must be sorted. */
static int set_row(recency *r, uint32_t a, const uint32_t *nbr,
                   const double *v, uint32_t n)
{
    drow *row = &r->rows[a];
    uint32_t *mem = NULL;
    if (n) {
        mem = malloc((size_t)n * (sizeof *mem + sizeof(float)));
        if (!mem)
            return -1;
    }
    double top = 0;
    for (uint32_t i = 0; i < n; i++)
        if (v[i] > top)
            top = v[i];
    double scale = top > 0 ? top : 1.0;
    float *w = (float *)(mem + n);
    for (uint32_t i = 0; i < n; i++) {
        mem[i] = nbr[i];
        w[i] = (float)(v[i] / scale);
    }
    r->d_pairs += n;
    r->d_pairs -= row->n;
    free(row->nbr);
    *row = (drow){mem, n ? w : NULL, n, row->version + 1, scale};
    return 0;
}

/* One entry of a customer's group list while building: item, its latest
 * time, the group key. */
typedef struct gev {
    uint32_t key; /* order (basket scope), 0 (customer scope) */
    uint32_t item;
    int64_t ts;
    size_t first; /* position in the history of its first event */
} gev;

static int by_first(const void *x, const void *y)
{
    const gev *a = x, *b = y;
    return (a->first > b->first) - (a->first < b->first);
}

static int by_key_item_ts(const void *x, const void *y)
{
    const gev *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    return (a->ts > b->ts) - (a->ts < b->ts);
}

/* The groups of one customer's history: appends (key, item, latest ts)
 * entries, one per distinct item of each group, to *out (sorted by key,
 * item).  tmp holds at least n entries. */
static size_t customer_groups(const recency *r, const xs_event *h, size_t n,
                              gev *tmp, gev *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->scope == XS_SCOPE_BASKET && h[i].order == XS_NONE)
            continue;
        tmp[m++] = (gev){r->scope == XS_SCOPE_BASKET ? h[i].order : 0,
                         h[i].item, h[i].ts, i};
    }
    if (m > 1)
        qsort(tmp, m, sizeof *tmp, by_key_item_ts);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && out[k - 1].key == tmp[i].key &&
            out[k - 1].item == tmp[i].item) {
            out[k - 1].ts = tmp[i].ts; /* sorted by ts: the latest wins */
            if (tmp[i].first < out[k - 1].first)
                out[k - 1].first = tmp[i].first;
        } else {
            out[k++] = tmp[i];
        }
    }
    if (!r->max_basket)
        return k;
    size_t w = 0; /* groups over the bound keep their first items */
    for (size_t i = 0; i < k;) {
        size_t j = i, len;
        while (j < k && out[j].key == out[i].key)
            j++;
        len = j - i;
        if (len > r->max_basket) {
            qsort(out + i, len, sizeof *out, by_first);
            len = r->max_basket;
            qsort(out + i, len, sizeof *out, by_key_item_ts);
        }
        memmove(out + w, out + i, len * sizeof *out);
        w += len;
        i = j;
    }
    return w;
}

/* Builds D from every customer's history. */
int recency_build_d(recency *r)
{
    const xs_host_api *api = r->api;
    uint32_t n_cust = api->customer_count(r->host);
    uint32_t n_items = api->item_count(r->host);
    size_t n_ev = 0, max_hist = 0;
    for (uint32_t c = 0; c < n_cust; c++) {
        const xs_event *h;
        size_t n;
        if (api->history(r->host, c, &h, &n)) {
            n_ev += n;
            if (n > max_hist)
                max_hist = n;
        }
    }
    int rc = -1;
    /* groups in CSR form: items gi[], decays gd[], group g is
     * [goff[g], goff[g+1]) */
    uint32_t *gi = malloc((n_ev + 1) * sizeof *gi);
    double *gd = malloc((n_ev + 1) * sizeof *gd);
    size_t *goff = malloc((n_ev + 2) * sizeof *goff);
    gev *tmp = malloc((max_hist + 1) * sizeof *tmp);
    gev *grp = malloc((max_hist + 1) * sizeof *grp);
    /* inverted index: item -> (group, decay of the item in it) */
    size_t *ioff = calloc((size_t)n_items + 1, sizeof *ioff);
    uint32_t *ig = NULL;
    double *idc = NULL;
    double *acc = calloc((size_t)n_items + 1, sizeof *acc);
    uint32_t *stamp = calloc((size_t)n_items + 1, sizeof *stamp);
    uint32_t *touched = malloc(((size_t)n_items + 1) * sizeof *touched);
    double *vals = malloc(((size_t)n_items + 1) * sizeof *vals);
    if (!gi || !gd || !goff || !tmp || !grp || !ioff || !acc || !stamp ||
        !touched || !vals || grow_rows(r, n_items))
        goto out;
    size_t n_groups = 0, n_gi = 0;
    goff[0] = 0;
    r->n_d = 0;
    for (uint32_t c = 0; c < n_cust; c++) {
        const xs_event *h;
        size_t n;
        if (!api->history(r->host, c, &h, &n) || n == 0)
            continue;
        size_t k = customer_groups(r, h, n, tmp, grp);
        for (size_t i = 0; i < k;) {
            size_t j = i;
            double top = 0;
            for (; j < k && grp[j].key == grp[i].key; j++) {
                if (grp[j].item >= n_items)
                    continue;
                double d = decay(r, grp[j].ts);
                gi[n_gi] = grp[j].item;
                gd[n_gi++] = d;
                ioff[grp[j].item + 1]++;
                if (d > top)
                    top = d;
            }
            r->n_d += top;
            goff[++n_groups] = n_gi;
            i = j;
        }
    }
    for (uint32_t a = 0; a < n_items; a++)
        ioff[a + 1] += ioff[a];
    ig = malloc((n_gi + 1) * sizeof *ig);
    idc = malloc((n_gi + 1) * sizeof *idc);
    size_t *fill = malloc(((size_t)n_items + 1) * sizeof *fill);
    if (!ig || !idc || !fill) {
        free(fill);
        goto out;
    }
    memcpy(fill, ioff, ((size_t)n_items + 1) * sizeof *fill);
    for (size_t g = 0; g < n_groups; g++)
        for (size_t p = goff[g]; p < goff[g + 1]; p++) {
            size_t at = fill[gi[p]]++;
            ig[at] = (uint32_t)g;
            idc[at] = gd[p];
        }
    free(fill);
    for (uint32_t a = 0; a < n_items; a++) {
        uint32_t n_t = 0;
        double sup = 0;
        for (size_t p = ioff[a]; p < ioff[a + 1]; p++) {
            size_t g = ig[p];
            double da = idc[p];
            sup += da;
            for (size_t q = goff[g]; q < goff[g + 1]; q++) {
                uint32_t b = gi[q];
                if (b == a)
                    continue;
                if (stamp[b] != a + 1) {
                    stamp[b] = a + 1;
                    touched[n_t++] = b;
                }
                acc[b] += da < gd[q] ? da : gd[q];
            }
        }
        r->dsup[a] = sup;
        if (n_t * 16ull >= n_items) { /* many: collect in id order */
            n_t = 0;
            for (uint32_t b = 0; b < n_items; b++)
                if (stamp[b] == a + 1)
                    touched[n_t++] = b;
        } else {
            qsort(touched, n_t, sizeof *touched, xs_cmp_u32);
        }
        for (uint32_t i = 0; i < n_t; i++) {
            vals[i] = acc[touched[i]];
            acc[touched[i]] = 0;
        }
        if (set_row(r, a, touched, vals, n_t))
            goto out;
    }
    rc = 0;
out:
    free(gi);
    free(gd);
    free(goff);
    free(tmp);
    free(grp);
    free(ioff);
    free(ig);
    free(idc);
    free(acc);
    free(stamp);
    free(touched);
    free(vals);
    return rc;
}

/* D_ab, or 0 when a and b never share a group. */
double recency_d_pair(const recency *r, uint32_t a, uint32_t b)
{
    if (a >= r->n_rows)
        return 0;
    const drow *row = &r->rows[a];
    uint32_t i = xs_lower_bound(row->nbr, row->n, b);
    return i < row->n && row->nbr[i] == b ? row->w[i] * row->scale : 0;
}

/* ---- online updates ----------------------------------------------------- */

/* One item of a touched group: its latest time after the new events and
 * before them (INT64_MIN: absent before). */
typedef struct gitem {
    uint32_t item;
    int64_t after, before;
    size_t first_a, first_b; /* its first event in the history, after and
                                before (SIZE_MAX: none) */
} gitem;

/* A group's event while diffing: removed marks the batch's own events. */
typedef struct hev {
    uint32_t item;
    int removed;
    int64_t ts;
    size_t idx; /* position in the history */
} hev;

static int by_item_ts(const void *x, const void *y)
{
    const hev *a = x, *b = y;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    return (a->ts > b->ts) - (a->ts < b->ts);
}

typedef struct delta {
    uint32_t a, b;
    double d;
} delta;

static int by_pair(const void *x, const void *y)
{
    const delta *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

typedef struct delta_list {
    delta *v;
    size_t n, cap;
} delta_list;

static int delta_push(delta_list *l, uint32_t a, uint32_t b, double d)
{
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        delta *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (delta){a, b, d};
    l->v[l->n++] = (delta){b, a, d};
    return 0;
}

/* The batch events of one group, by index into the batch. */
typedef struct bref {
    uint32_t customer, key;
    size_t idx;
} bref;

static int by_group(const void *x, const void *y)
{
    const bref *a = x, *b = y;
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* An item's position in the order the bound counts in. */
typedef struct first_of {
    size_t first, i;
} first_of;

static int by_first_of(const void *x, const void *y)
{
    const first_of *a = x, *b = y;
    return (a->first > b->first) - (a->first < b->first);
}

/* Marks the items of it[0, k) past the group's first max distinct ones (by
 * first event, after the batch or, with `before`, without it) absent on
 * that side.  f holds k entries. */
static void bound_items(gitem *it, size_t k, uint32_t max, int before,
                        first_of *f)
{
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        size_t first = before ? it[i].first_b : it[i].first_a;
        if (first != SIZE_MAX)
            f[n++] = (first_of){first, i};
    }
    if (n <= max)
        return;
    qsort(f, n, sizeof *f, by_first_of);
    for (size_t q = max; q < n; q++)
        *(before ? &it[f[q].i].before : &it[f[q].i].after) = INT64_MIN;
}

/* The difference one group makes to D: the group's history events are
 * h[0..nh) (new ones included); the new ones are ev[refs[i].idx]. */
static int diff_group(recency *r, const xs_event *h, size_t nh, uint32_t key,
                      const xs_event *ev, const bref *refs, size_t n_refs,
                      delta_list *out)
{
    int rc = -1;
    hev *g = malloc((nh + 1) * sizeof *g);
    gitem *it = malloc((nh + 1) * sizeof *it);
    double *da = malloc((nh + 1) * sizeof *da);
    double *db = malloc((nh + 1) * sizeof *db);
    uint8_t *changed = malloc(nh + 1);
    size_t *pres = malloc((nh + 1) * sizeof *pres);
    first_of *f = r->max_basket && nh > r->max_basket
                      ? malloc((nh + 1) * sizeof *f)
                      : NULL;
    if (!g || !it || !da || !db || !changed || !pres ||
        (r->max_basket && nh > r->max_basket && !f))
        goto out;
    size_t m = 0;
    for (size_t i = 0; i < nh; i++)
        if (r->scope != XS_SCOPE_BASKET || h[i].order == key)
            g[m++] = (hev){h[i].item, 0, h[i].ts, i};
    if (m > 1)
        qsort(g, m, sizeof *g, by_item_ts);
    for (size_t i = 0; i < n_refs; i++) { /* take the batch's events out */
        const xs_event *e = &ev[refs[i].idx];
        size_t lo = 0, hi = m;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (g[mid].item < e->item ||
                (g[mid].item == e->item && g[mid].ts < e->ts))
                lo = mid + 1;
            else
                hi = mid;
        }
        while (lo < m && g[lo].item == e->item && g[lo].ts == e->ts &&
               g[lo].removed)
            lo++;
        if (lo < m && g[lo].item == e->item && g[lo].ts == e->ts)
            g[lo].removed = 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (!k || it[k - 1].item != g[i].item)
            it[k++] = (gitem){g[i].item, INT64_MIN, INT64_MIN, SIZE_MAX,
                              SIZE_MAX};
        gitem *x = &it[k - 1];
        if (g[i].ts > x->after)
            x->after = g[i].ts;
        if (g[i].idx < x->first_a)
            x->first_a = g[i].idx;
        if (!g[i].removed && g[i].ts > x->before)
            x->before = g[i].ts;
        if (!g[i].removed && g[i].idx < x->first_b)
            x->first_b = g[i].idx;
    }
    if (r->max_basket && k > r->max_basket) { /* the bound, both sides */
        bound_items(it, k, r->max_basket, 0, f);
        bound_items(it, k, r->max_basket, 1, f);
    }
    double top_a = 0, top_b = 0;
    int any_changed = 0;
    size_t n_pres = 0; /* the items present before or after */
    for (size_t i = 0; i < k; i++) {
        da[i] = it[i].after == INT64_MIN ? 0 : decay(r, it[i].after);
        db[i] = it[i].before == INT64_MIN ? 0 : decay(r, it[i].before);
        changed[i] = it[i].before != it[i].after;
        any_changed |= changed[i];
        if (it[i].after != INT64_MIN && da[i] > top_a)
            top_a = da[i];
        if (it[i].before != INT64_MIN && db[i] > top_b)
            top_b = db[i];
        if ((it[i].after != INT64_MIN || it[i].before != INT64_MIN) &&
            it[i].item < r->n_rows)
            pres[n_pres++] = i;
    }
    if (!any_changed) {
        rc = 0;
        goto out;
    }
    r->n_d += top_a - top_b;
    for (size_t i = 0; i < k; i++) {
        if (!changed[i] || it[i].item >= r->n_rows)
            continue;
        r->dsup[it[i].item] += da[i] - db[i];
        for (size_t q = 0; q < n_pres; q++) {
            size_t j = pres[q];
            if (j == i || (changed[j] && j < i))
                continue;
            /* absent sides weigh 0: min() gives 0 */
            double wa = da[i] < da[j] ? da[i] : da[j];
            double wb = db[i] < db[j] ? db[i] : db[j];
            int was = it[i].before != INT64_MIN && it[j].before != INT64_MIN;
            int is = it[i].after != INT64_MIN && it[j].after != INT64_MIN;
            if ((wa != wb || (is && !was)) &&
                delta_push(out, it[i].item, it[j].item, wa - wb))
                goto out;
        }
    }
    rc = 0;
out:
    free(g);
    free(it);
    free(da);
    free(db);
    free(changed);
    free(pres);
    free(f);
    return rc;
}

/* Largest value a row stores relative to its scale before it is rewritten
 * with a new one (float holds up to 2^127). */
#define MAX_REL_WEIGHT 0x1p60

/* Adds the deltas d[0..n) (all of row a, sorted by b) in place when every
 * neighbour is already in the row and the values stay in range; returns 1
 * when done, 0 when the row must be rewritten. */
static int update_row(recency *r, uint32_t a, const delta *d, size_t n)
{
    drow *row = &r->rows[a];
    uint32_t lo = 0;
    for (size_t j = 0; j < n; j++) { /* every neighbour there, values ok */
        lo += xs_lower_bound(row->nbr + lo, row->n - lo, d[j].b);
        if (lo == row->n || row->nbr[lo] != d[j].b ||
            row->w[lo] + d[j].d / row->scale > MAX_REL_WEIGHT)
            return 0;
    }
    lo = 0;
    for (size_t j = 0; j < n; j++) {
        while (row->nbr[lo] < d[j].b)
            lo++;
        double x = row->w[lo] * row->scale + d[j].d;
        row->w[lo] = (float)((x > 0 ? x : 0) / row->scale);
    }
    row->version++;
    return 1;
}

/* Applies the deltas d[0..n) (all of row a, sorted by b): in place when it
 * can, else by rewriting the row whole. */
static int apply_row(recency *r, uint32_t a, const delta *d, size_t n)
{
    if (update_row(r, a, d, n))
        return 0;
    const drow *row = &r->rows[a];
    size_t cap = row->n + n;
    uint32_t *nbr = malloc((cap + 1) * sizeof *nbr);
    double *v = malloc((cap + 1) * sizeof *v);
    if (!nbr || !v) {
        free(nbr);
        free(v);
        return -1;
    }
    size_t i = 0, j = 0, m = 0;
    while (i < row->n || j < n) {
        uint32_t b = i < row->n && (j == n || row->nbr[i] <= d[j].b)
                         ? row->nbr[i]
                         : d[j].b;
        double x = 0;
        if (i < row->n && row->nbr[i] == b)
            x = row->w[i++] * row->scale;
        for (; j < n && d[j].b == b; j++)
            x += d[j].d;
        nbr[m] = b;
        v[m++] = x > 0 ? x : 0;
    }
    int rc = set_row(r, a, nbr, v, (uint32_t)m);
    free(nbr);
    free(v);
    return rc;
}

/* Adds the batch's difference to D. */
int recency_observe_d(recency *r, const xs_event *ev, size_t n)
{
    const xs_host_api *api = r->api;
    if (grow_rows(r, api->item_count(r->host)))
        return -1;
    bref *refs = malloc((n + 1) * sizeof *refs);
    if (!refs)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].customer == XS_NONE)
            continue;
        if (r->scope == XS_SCOPE_BASKET && ev[i].order == XS_NONE)
            continue;
        refs[m++] = (bref){ev[i].customer,
                           r->scope == XS_SCOPE_BASKET ? ev[i].order : 0, i};
    }
    if (m > 1)
        qsort(refs, m, sizeof *refs, by_group);
    delta_list dl = {0};
    int rc = 0;
    for (size_t i = 0; i < m && !rc;) {
        size_t j = i;
        while (j < m && refs[j].customer == refs[i].customer &&
               refs[j].key == refs[i].key)
            j++;
        const xs_event *h;
        size_t nh;
        if (api->history(r->host, refs[i].customer, &h, &nh))
            rc = diff_group(r, h, nh, refs[i].key, ev, refs + i, j - i, &dl);
        i = j;
    }
    free(refs);
    if (!rc) {
        if (dl.n > 1) /* dl.v is NULL when the batch made no pair */
            qsort(dl.v, dl.n, sizeof *dl.v, by_pair);
        for (size_t i = 0; i < dl.n && !rc;) {
            size_t j = i;
            while (j < dl.n && dl.v[j].a == dl.v[i].a)
                j++;
            rc = apply_row(r, dl.v[i].a, dl.v + i, j - i);
            i = j;
        }
    }
    free(dl.v);
    if (rc)
        api->log(r->host, XS_LOG_ERROR,
                 "out of memory updating the decayed table");
    return rc;
}
