/*
 * eval.c -- offline evaluation: train/test splits and top-k metrics (see
 * xsell/eval.h for the definitions).
 *
 * Splits work on a customer grouping of the events built by a counting
 * sort: order[] lists event indices grouped by customer id, each group in
 * file order.  The stratified shuffle draws from splitmix64 seeded with
 * the seed mixed with an FNV-1a hash of the customer's name, so a
 * customer's split depends on the seed, its name and its own events only,
 * not on where other customers appear in the file.
 *
 * Baskets (the basket split, its hidden items and its files) are indexed by
 * order id minus order_base: the orders dictionary's index for --events,
 * the basket's ordinal for --baskets; every event of a dataset with orders
 * has one.  The basket protocol's run is in eval_basket.c.
 *
 * Event types: a split is a split of the primary (purchase) events; the
 * train side also gets the other types' events (views, carts) except
 * those of a (customer, item) pair the test side holds a purchase of,
 * unless the view is at least XS_EVAL_VIEW_GAP older than the pair's
 * first test purchase: a view in the session of a held-out purchase would
 * tell the train engine the answer, a view days before it is what a shop
 * knows when the customer comes back (other_to_train).  The test side
 * gets none.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/eval.h"
#include "xsell/plugin_util.h"

int xs_split_parse(const char *name)
{
    if (!strcmp(name, "stratified"))
        return XS_SPLIT_STRATIFIED;
    if (!strcmp(name, "temporal"))
        return XS_SPLIT_TEMPORAL;
    if (!strcmp(name, "leave-last"))
        return XS_SPLIT_LEAVE_LAST;
    if (!strcmp(name, "basket"))
        return XS_SPLIT_BASKET;
    return -1;
}

const char *xs_split_name(int method)
{
    switch (method) {
    case XS_SPLIT_STRATIFIED: return "stratified";
    case XS_SPLIT_TEMPORAL: return "temporal";
    case XS_SPLIT_LEAVE_LAST: return "leave-last";
    case XS_SPLIT_BASKET: return "basket";
    default: return "?";
    }
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Uniform in [0, n) without modulo bias worth speaking of (n < 2^32). */
static size_t draw(uint64_t *s, size_t n)
{
    return (size_t)(((splitmix64(s) >> 32) * (uint64_t)n) >> 32);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Groups event indices by customer: start[c] .. start[c+1] in order[]. */
static int group_by_customer(const xs_dataset *ds, uint32_t n_cust,
                             size_t **start_out, size_t **order_out)
{
    size_t *start = calloc((size_t)n_cust + 1, sizeof *start);
    size_t *order = malloc((ds->n_events ? ds->n_events : 1) * sizeof *order);
    size_t *fill = calloc((size_t)n_cust + 1, sizeof *fill);
    if (!start || !order || !fill) {
        free(start);
        free(order);
        free(fill);
        return -1;
    }
    for (size_t i = 0; i < ds->n_events; i++)
        start[ds->events[i].customer + 1]++;
    for (uint32_t c = 0; c < n_cust; c++)
        start[c + 1] += start[c];
    memcpy(fill, start, ((size_t)n_cust + 1) * sizeof *fill);
    for (size_t i = 0; i < ds->n_events; i++)
        order[fill[ds->events[i].customer]++] = i;
    free(fill);
    *start_out = start;
    *order_out = order;
    return 0;
}

/* The basket of event i (0 .. ds->n_orders), or XS_NONE. */
static uint32_t basket_of(const xs_dataset *ds, size_t i)
{
    uint32_t o = ds->events[i].order;
    return o == XS_NONE || o < ds->order_base ||
                   o - ds->order_base >= ds->n_orders
               ? XS_NONE
               : o - ds->order_base;
}

static int need_orders(const xs_dataset *ds, xs_error *err)
{
    if (ds->n_orders)
        return XS_OK;
    return xs_error_set(err, XS_ERR_USAGE,
                        "the basket split needs orders: --baskets, or "
                        "--events with an order column");
}

/* Whole baskets: shuffled by splitmix64 from the seed, the first
 * round(ratio x n) train. */
static int split_baskets(const xs_dataset *ds, double ratio, uint64_t seed,
                         unsigned char *is_test, xs_error *err)
{
    int rc = need_orders(ds, err);
    if (rc)
        return rc;
    uint32_t n = ds->n_orders;
    uint32_t *perm = malloc((size_t)n * sizeof *perm);
    unsigned char *test = calloc(n, 1);
    if (!perm || !test) {
        free(perm);
        free(test);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    for (uint32_t b = 0; b < n; b++)
        perm[b] = b;
    uint64_t s = seed;
    for (uint32_t j = n - 1; j > 0; j--) {
        uint32_t r = (uint32_t)draw(&s, (size_t)j + 1), t = perm[j];
        perm[j] = perm[r];
        perm[r] = t;
    }
    for (size_t j = (size_t)llround(ratio * (double)n); j < n; j++)
        test[perm[j]] = 1;
    for (size_t i = 0; i < ds->n_events; i++) {
        uint32_t b = basket_of(ds, i);
        is_test[i] = b != XS_NONE && test[b];
    }
    free(perm);
    free(test);
    return XS_OK;
}

int xs_split(const xs_dataset *ds, int method, double ratio, uint64_t seed,
             unsigned char *is_test, xs_error *err)
{
    if (method < XS_SPLIT_STRATIFIED || method > XS_SPLIT_BASKET)
        return xs_error_set(err, XS_ERR_USAGE, "unknown split method %d",
                            method);
    if (!(ratio > 0 && ratio < 1))
        return xs_error_set(err, XS_ERR_USAGE,
                            "split ratio must be in (0, 1), not %g", ratio);
    if (method == XS_SPLIT_BASKET) {
        int rc = split_baskets(ds, ratio, seed, is_test, err);
        if (rc)
            return rc;
    } else if (!ds->has_customer)
        return xs_error_set(err, XS_ERR_USAGE,
                            "evaluation needs customers (--events with a "
                            "customer column)");
    if (method == XS_SPLIT_TEMPORAL && !ds->has_timestamp)
        return xs_error_set(err, XS_ERR_USAGE,
                            "the temporal split needs event timestamps: the "
                            "data has no timestamp column");
    size_t n = ds->n_events;
    uint32_t n_cust = xs_dict_size(ds->customers);
    if (method != XS_SPLIT_BASKET)
        memset(is_test, 0, n);
    if (method == XS_SPLIT_BASKET) {
        /* done above */
    } else if (method == XS_SPLIT_TEMPORAL) {
        int64_t *ts = malloc((n ? n : 1) * sizeof *ts);
        if (!ts)
            return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
            ts[i] = ds->events[i].ts;
        qsort(ts, n, sizeof *ts, cmp_i64);
        size_t m = (size_t)llround(ratio * (double)n);
        if (m < 1)
            m = 1;
        if (m > n)
            m = n;
        int64_t cut = n ? ts[m - 1] : 0;
        free(ts);
        for (size_t i = 0; i < n; i++)
            is_test[i] = ds->events[i].ts > cut;
    } else {
        size_t *start, *order;
        if (group_by_customer(ds, n_cust, &start, &order))
            return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        for (uint32_t c = 0; c < n_cust; c++) {
            size_t *ev = order + start[c], m = start[c + 1] - start[c];
            if (m < 2)
                continue;
            if (method == XS_SPLIT_LEAVE_LAST) {
                size_t last = ev[0];
                for (size_t j = 1; j < m; j++)
                    if (ds->events[ev[j]].ts >= ds->events[last].ts)
                        last = ev[j];
                is_test[last] = 1;
                continue;
            }
            uint64_t s = seed ^ fnv1a(xs_dict_name(ds->customers, c));
            for (size_t j = m - 1; j > 0; j--) {
                size_t r = draw(&s, j + 1), t = ev[j];
                ev[j] = ev[r];
                ev[r] = t;
            }
            size_t n_train = (size_t)llround(ratio * (double)m);
            for (size_t j = n_train; j < m; j++)
                is_test[ev[j]] = 1;
        }
        free(start);
        free(order);
    }
    size_t n_test = 0;
    for (size_t i = 0; i < n; i++)
        n_test += is_test[i];
    if (n_test == 0)
        return xs_error_set(err, XS_ERR_DATA,
                            "the test set is empty: the %s split at ratio %g "
                            "holds out no event (too few %s or a ratio too "
                            "close to 1)",
                            xs_split_name(method), ratio,
                            method == XS_SPLIT_BASKET ? "baskets"
                                                      : "events per customer");
    return XS_OK;
}

/* A view must be this much older than the held-out purchase of its
 * (customer, item) pair to stay in train: one day, longer than a session. */
#define XS_EVAL_VIEW_GAP 86400

typedef struct held_pair {
    uint64_t key; /* customer << 32 | item */
    int64_t ts;   /* the pair's first test purchase */
} held_pair;

static int cmp_held(const void *a, const void *b)
{
    const held_pair *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

static int cmp_held_key(const void *a, const void *b)
{
    uint64_t x = ((const held_pair *)a)->key, y = ((const held_pair *)b)->key;
    return x < y ? -1 : x > y;
}

/* Copies ds's events of other types into out (the train side): types and
 * ids interned in out, events of a (customer, item) pair that the test side
 * buys left out.  Returns 0 or -1 (memory). */
static int other_to_train(const xs_dataset *ds, const unsigned char *is_test,
                          xs_dataset *out)
{
    size_t n_test = 0;
    for (size_t i = 0; i < ds->n_events; i++)
        n_test += is_test[i] != 0;
    held_pair *held = malloc((n_test ? n_test : 1) * sizeof *held);
    if (!held || xs_dataset_use_types(out)) {
        free(held);
        return -1;
    }
    size_t m = 0, u = 0;
    for (size_t i = 0; i < ds->n_events; i++)
        if (is_test[i])
            held[m++] = (held_pair){(uint64_t)ds->events[i].customer << 32 |
                                        ds->events[i].item,
                                    ds->events[i].ts};
    qsort(held, m, sizeof *held, cmp_held);
    for (size_t i = 0; i < m; i++) /* each pair once, its first purchase */
        if (u == 0 || held[i].key != held[u - 1].key)
            held[u++] = held[i];
    for (size_t i = 0; i < ds->n_other; i++) {
        xs_event ev = ds->other[i];
        held_pair key = {(uint64_t)ev.customer << 32 | ev.item, 0};
        const held_pair *h = bsearch(&key, held, u, sizeof *held,
                                     cmp_held_key);
        if (h && !(ev.ts <= h->ts - XS_EVAL_VIEW_GAP))
            continue;
        const char *s;
        if (ev.customer != XS_NONE) {
            s = xs_dict_name(ds->customers, ev.customer);
            if (xs_dict_intern(out->customers, s, strlen(s), &ev.customer))
                goto nomem;
        }
        s = xs_dict_name(ds->items, ev.item);
        if (xs_dict_intern(out->items, s, strlen(s), &ev.item))
            goto nomem;
        s = xs_dict_name(ds->types, ev.reserved);
        if (xs_dict_intern(out->types, s, strlen(s), &ev.reserved))
            goto nomem;
        ev.order = XS_NONE; /* orders are the purchases' */
        if (xs_dataset_push_other(out, &ev))
            goto nomem;
    }
    free(held);
    return 0;
nomem:
    free(held);
    return -1;
}

xs_dataset *xs_dataset_subset(const xs_dataset *ds,
                              const unsigned char *is_test, int side,
                              xs_error *err)
{
    xs_dataset *out = xs_dataset_new();
    uint32_t *renum = NULL; /* --baskets: basket -> new ordinal + 1 */
    if (!out || (ds->orders && !(out->orders = xs_dict_new())))
        goto nomem;
    if (!ds->orders && ds->n_orders &&
        !(renum = calloc(ds->n_orders, sizeof *renum)))
        goto nomem;
    out->has_customer = ds->has_customer;
    out->has_timestamp = ds->has_timestamp;
    out->has_weight = ds->has_weight;
    out->has_price = ds->has_price;
    for (size_t i = 0; i < ds->n_events; i++) {
        if (is_test[i] != side)
            continue;
        xs_event ev = ds->events[i];
        const char *s;
        if (ev.customer != XS_NONE) {
            s = xs_dict_name(ds->customers, ev.customer);
            if (xs_dict_intern(out->customers, s, strlen(s), &ev.customer))
                goto nomem;
        }
        s = xs_dict_name(ds->items, ev.item);
        if (xs_dict_intern(out->items, s, strlen(s), &ev.item))
            goto nomem;
        if (ds->orders && ev.order != XS_NONE) {
            s = xs_dict_name(ds->orders, ev.order - ds->order_base);
            if (!s || xs_dict_intern(out->orders, s, strlen(s), &ev.order))
                goto nomem;
        } else if (renum && basket_of(ds, i) != XS_NONE) {
            uint32_t b = basket_of(ds, i);
            if (!renum[b])
                renum[b] = ++out->n_orders;
            ev.order = renum[b] - 1;
        } else if (!ds->orders) {
            ev.order = XS_NONE;
        }
        if (xs_dataset_push(out, &ev))
            goto nomem;
    }
    if (out->orders)
        out->n_orders = xs_dict_size(out->orders);
    if (ds->types && side == 0 && other_to_train(ds, is_test, out))
        goto nomem;
    free(renum);
    return out;
nomem:
    free(renum);
    xs_dataset_free(out);
    xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    return NULL;
}

static int put_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (n && !strpbrk(s, ",\"\r\n\t") && s[0] != ' ' && s[n - 1] != ' ')
        return fputs(s, f) < 0 ? -1 : 0;
    if (fputc('"', f) == EOF)
        return -1;
    for (; *s; s++)
        if ((*s == '"' && fputc('"', f) == EOF) || fputc(*s, f) == EOF)
            return -1;
    return fputc('"', f) == EOF ? -1 : 0;
}

int xs_split_write(const xs_dataset *ds, const unsigned char *is_test,
                   int side, const char *path, xs_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
    int bad = fprintf(f, "customer,item%s%s\n",
                      ds->has_timestamp ? ",timestamp" : "",
                      ds->has_weight ? ",weight" : "") < 0;
    for (size_t i = 0; i < ds->n_events && !bad; i++) {
        const xs_event *ev = &ds->events[i];
        if (is_test[i] != side)
            continue;
        bad |= put_field(f, xs_dict_name(ds->customers, ev->customer)) ||
               fputc(',', f) == EOF ||
               put_field(f, xs_dict_name(ds->items, ev->item));
        if (ds->has_timestamp)
            bad |= fprintf(f, ",%lld", (long long)ev->ts) < 0;
        if (ds->has_weight)
            bad |= fprintf(f, ",%.17g", ev->weight) < 0;
        bad |= fputc('\n', f) == EOF;
    }
    if (fclose(f) || bad)
        return xs_error_set(err, XS_ERR_IO, "%s: write failed", path);
    return XS_OK;
}

/* ---- the basket protocol's hidden items and files ------------------------ */

/* Groups event indices by basket: start[b] .. start[b+1] in order[], each
 * basket in file order; events without a basket are left out. */
static int group_by_basket(const xs_dataset *ds, size_t **start_out,
                           size_t **order_out)
{
    uint32_t n_b = ds->n_orders;
    size_t *start = calloc((size_t)n_b + 2, sizeof *start);
    size_t *order = malloc((ds->n_events ? ds->n_events : 1) * sizeof *order);
    if (!start || !order) {
        free(start);
        free(order);
        return -1;
    }
    for (size_t i = 0; i < ds->n_events; i++) {
        uint32_t b = basket_of(ds, i);
        if (b != XS_NONE)
            start[b + 2]++;
    }
    for (uint32_t b = 0; b < n_b; b++)
        start[b + 2] += start[b + 1];
    for (size_t i = 0; i < ds->n_events; i++) { /* start[b + 1] fills */
        uint32_t b = basket_of(ds, i);
        if (b != XS_NONE)
            order[start[b + 1]++] = i;
    }
    *start_out = start;
    *order_out = order;
    return 0;
}

int xs_basket_hide(const xs_dataset *ds, const unsigned char *is_test,
                   uint64_t seed, unsigned char *hidden, xs_error *err)
{
    int rc = need_orders(ds, err);
    if (rc)
        return rc;
    memset(hidden, 0, ds->n_events);
    size_t *start, *order;
    uint32_t *distinct = malloc((ds->n_events ? ds->n_events : 1) *
                                sizeof *distinct);
    uint32_t *mark = calloc((size_t)xs_dict_size(ds->items) + 1,
                            sizeof *mark); /* basket + 1 last seen in */
    if (!distinct || !mark || group_by_basket(ds, &start, &order)) {
        free(distinct);
        free(mark);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    for (uint32_t b = 0; b < ds->n_orders; b++) {
        size_t lo = start[b], hi = start[b + 1], d = 0;
        if (lo == hi || !is_test[order[lo]])
            continue;
        for (size_t j = lo; j < hi; j++) { /* first-seen order */
            uint32_t it = ds->events[order[j]].item;
            if (mark[it] != b + 1) {
                mark[it] = b + 1;
                distinct[d++] = it;
            }
        }
        if (d < 2)
            continue;
        uint64_t s = seed ^ (0xD6E8FEB86659FD93ull * ((uint64_t)b + 1));
        uint32_t it = distinct[draw(&s, d)];
        for (size_t j = lo; j < hi; j++)
            hidden[order[j]] = ds->events[order[j]].item == it;
    }
    free(distinct);
    free(mark);
    free(start);
    free(order);
    return XS_OK;
}

int xs_split_write_baskets(const xs_dataset *ds, const unsigned char *is_test,
                           const unsigned char *hidden, int side,
                           const char *path, xs_error *err)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
    int bad = fprintf(f, "customer,item%s%s,order%s\n",
                      ds->has_timestamp ? ",timestamp" : "",
                      ds->has_weight ? ",weight" : "",
                      side ? ",hidden" : "") < 0;
    for (size_t i = 0; i < ds->n_events && !bad; i++) {
        const xs_event *ev = &ds->events[i];
        uint32_t b = basket_of(ds, i);
        if (is_test[i] != side || b == XS_NONE)
            continue;
        char num[16];
        const char *order = num;
        if (ds->orders)
            order = xs_dict_name(ds->orders, b);
        else
            snprintf(num, sizeof num, "%u", (unsigned)b + 1);
        const char *cust = ds->has_customer && ev->customer != XS_NONE
                               ? xs_dict_name(ds->customers, ev->customer)
                               : order;
        bad |= put_field(f, cust) || fputc(',', f) == EOF ||
               put_field(f, xs_dict_name(ds->items, ev->item));
        if (ds->has_timestamp)
            bad |= fprintf(f, ",%lld", (long long)ev->ts) < 0;
        if (ds->has_weight)
            bad |= fprintf(f, ",%.17g", ev->weight) < 0;
        bad |= fputc(',', f) == EOF || put_field(f, order);
        if (side)
            bad |= fprintf(f, ",%d", hidden[i] ? 1 : 0) < 0;
        bad |= fputc('\n', f) == EOF;
    }
    if (fclose(f) || bad)
        return xs_error_set(err, XS_ERR_IO, "%s: write failed", path);
    return XS_OK;
}

/* ---- metrics -------------------------------------------------------------- */

static int in_sorted(const uint32_t *a, size_t n, uint32_t x)
{
    uint32_t i = xs_lower_bound(a, (uint32_t)n, x);
    return i < n && a[i] == x;
}

int xs_eval_user(const uint32_t *rec, size_t n_rec, const uint32_t *rel,
                 size_t n_rel, uint32_t k, xs_user_metrics *out,
                 xs_error *err)
{
    memset(out, 0, sizeof *out);
    if (k == 0)
        return xs_error_set(err, XS_ERR_USAGE, "k must be >= 1");
    if (n_rel == 0)
        return xs_error_set(err, XS_ERR_USAGE, "no relevant items");
    if (n_rec > k)
        n_rec = k;
    double dcg = 0, idcg = 0, sum_prec = 0;
    uint32_t hits = 0;
    for (size_t r = 1; r <= n_rec; r++) {
        if (!in_sorted(rel, n_rel, rec[r - 1]))
            continue;
        if (!hits)
            out->rr = 1.0 / (double)r;
        hits++;
        dcg += 1.0 / log2((double)r + 1);
        sum_prec += (double)hits / (double)r;
    }
    size_t ideal = n_rel < k ? n_rel : k;
    for (size_t r = 1; r <= ideal; r++)
        idcg += 1.0 / log2((double)r + 1);
    out->hits = hits;
    out->hit = hits > 0;
    out->precision = (double)hits / k;
    out->recall = (double)hits / (double)n_rel;
    out->ndcg = dcg / idcg;
    out->ap = sum_prec / (double)n_rel;
    return XS_OK;
}

struct xs_eval {
    uint32_t n_items, k;
    unsigned char *seen; /* recommended items, grown on demand */
    size_t n_seen_cap;
    uint64_t distinct, users;
    double sum_p, sum_r, sum_ndcg, sum_ap, sum_hit, sum_rr;
};

xs_eval *xs_eval_new(uint32_t n_items, uint32_t k)
{
    xs_eval *ev = calloc(1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->n_items = n_items;
    ev->k = k;
    ev->n_seen_cap = n_items ? n_items : 1;
    if (!(ev->seen = calloc(ev->n_seen_cap, 1))) {
        free(ev);
        return NULL;
    }
    return ev;
}

void xs_eval_free(xs_eval *ev)
{
    if (!ev)
        return;
    free(ev->seen);
    free(ev);
}

int xs_eval_add(xs_eval *ev, const uint32_t *rec, size_t n_rec,
                const uint32_t *rel, size_t n_rel, xs_error *err)
{
    xs_user_metrics m;
    int rc = xs_eval_user(rec, n_rec, rel, n_rel, ev->k, &m, err);
    if (rc)
        return rc;
    if (n_rec > ev->k)
        n_rec = ev->k;
    for (size_t i = 0; i < n_rec; i++) {
        if (rec[i] >= ev->n_seen_cap) {
            size_t cap = (size_t)rec[i] + 1 + ev->n_seen_cap;
            unsigned char *s = realloc(ev->seen, cap);
            if (!s)
                return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
            memset(s + ev->n_seen_cap, 0, cap - ev->n_seen_cap);
            ev->seen = s;
            ev->n_seen_cap = cap;
        }
        if (!ev->seen[rec[i]]) {
            ev->seen[rec[i]] = 1;
            ev->distinct++;
        }
    }
    ev->users++;
    ev->sum_p += m.precision;
    ev->sum_r += m.recall;
    ev->sum_ndcg += m.ndcg;
    ev->sum_ap += m.ap;
    ev->sum_hit += m.hit;
    ev->sum_rr += m.rr;
    return XS_OK;
}

void xs_eval_result(const xs_eval *ev, xs_eval_report *out)
{
    memset(out, 0, sizeof *out);
    out->users = ev->users;
    if (ev->n_items)
        out->coverage = (double)ev->distinct / ev->n_items;
    if (!ev->users)
        return;
    double u = (double)ev->users;
    out->precision = ev->sum_p / u;
    out->recall = ev->sum_r / u;
    out->ndcg = ev->sum_ndcg / u;
    out->map = ev->sum_ap / u;
    out->hit_rate = ev->sum_hit / u;
    out->mrr = ev->sum_rr / u;
}
