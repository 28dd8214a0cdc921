/*
 * ease/fit.c -- fitting EASE: the model's items, the choice of mode, and
 * the dense fit (the method is in ease/ease.h).
 *
 * Dense fit.  One n x n array of doubles holds G + lambda I, read from the
 * host's rows (each row holds both halves of the symmetric G, so the
 * array is filled whole).  LAPACKE_dpotrf factors it (Cholesky) and
 * LAPACKE_dpotri turns the factor into P = (G + lambda I)^-1 in the same
 * triangle.  They are called column-major on the lower triangle, which is
 * the row-major upper one: the matrix is symmetric, and LAPACKE does not
 * copy a column-major matrix (row-major calls transpose into a second n^2
 * buffer, doubling the memory).  The other triangle is then
 * mirrored and each column scaled, B_ij = -P_ij / P_jj, B_jj = 0, still in
 * place.  So the fit needs 8 n^2 bytes plus O(n): the documented limit
 * (max_dense items) is stated in those terms.  The BLAS runs the O(n^3)
 * work on its own threads (OpenBLAS: all CPUs unless OPENBLAS_NUM_THREADS
 * says otherwise).  G + lambda I is positive definite for lambda > 0, so
 * a failed factorisation can only mean round-off trouble: it is reported,
 * never papered over.
 *
 * Event weights (weights=event).  G is summed from the customers'
 * histories instead of the rows: each transaction (a customer, or one of
 * its orders in basket scope) becomes a short list of (model index, sum
 * of weights) over its first max_basket distinct items in time order,
 * and its outer product is added to the array, O(sum of |t|^2) work and
 * O(events) scratch.  Basket scope sorts (order, history position) pairs
 * so each order's events come together in time order; events without an
 * order are left out, as the host's tables leave them.  Without customers
 * (--baskets data: every weight 1) the rows are read, as for binary.
 *
 * Ownership: the model's arrays are the plugin's (malloc), freed by
 * ease_model_free(); a failed fit leaves the model empty.
 */
#include <errno.h>
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ease/ease.h"

void ease_model_free(ease_model *m)
{
    free(m->ids);
    free(m->index);
    free(m->b);
    free(m->rs);
    free(m->cols);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

int ease_model_items(const ease *e, ease_model *m)
{
    const xs_host_api *api = e->api;
    uint32_t n_sup = 0;
    const uint32_t *sup = api->supports(e->host, e->cfg.scope, &n_sup);
    uint32_t n_ids = api->item_count(e->host);
    m->n_ids = n_ids;
    m->index = malloc(((size_t)n_ids + 1) * sizeof *m->index);
    m->ids = malloc(((size_t)n_ids + 1) * sizeof *m->ids);
    if (!m->index || !m->ids)
        return -1;
    m->n = 0;
    for (uint32_t i = 0; i < n_ids; i++) {
        if (sup && i < n_sup && sup[i] > 0) {
            m->index[i] = m->n;
            m->ids[m->n++] = i;
        } else {
            m->index[i] = XS_NONE;
        }
    }
    return 0;
}

/* 8 n^2 as "1.5 GiB", "200.0 MiB", "3.0 KiB", "128 B". */
static void bytes_text(char *buf, size_t len, double bytes)
{
    if (bytes >= 1024.0 * 1024 * 1024)
        snprintf(buf, len, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    else if (bytes >= 1024.0 * 1024)
        snprintf(buf, len, "%.1f MiB", bytes / (1024.0 * 1024));
    else if (bytes >= 1024.0)
        snprintf(buf, len, "%.1f KiB", bytes / 1024.0);
    else
        snprintf(buf, len, "%.0f B", bytes);
}

/* One event of basket scope: its order and place (sorted by both). */
typedef struct bev {
    uint32_t order;
    uint32_t item;
    size_t seq;
    double w;
} bev;

static int bev_cmp(const void *pa, const void *pb)
{
    const bev *a = pa, *b = pb;
    if (a->order != b->order)
        return a->order < b->order ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* The transaction being summed: its distinct items (model index or
 * XS_NONE, weight sum), by item id through stamp/pos. */
typedef struct gtx {
    const ease_model *m;
    uint32_t max;       /* max_basket; 0: no bound */
    uint32_t stamp_now;
    uint32_t *stamp;    /* n_ids */
    uint32_t *pos;      /* n_ids */
    uint32_t *ix;       /* n_ids: the list's model indices */
    double *w;          /* n_ids: and weight sums */
    uint32_t len;       /* distinct items so far (model or not) */
} gtx;

static void gtx_add(gtx *t, uint32_t item, double w)
{
    if (item >= t->m->n_ids)
        return; /* newer than the fit's items */
    if (t->stamp[item] == t->stamp_now) {
        t->w[t->pos[item]] += w;
        return;
    }
    if (t->max && t->len >= t->max)
        return; /* past the first max_basket distinct items */
    t->stamp[item] = t->stamp_now;
    t->pos[item] = t->len;
    t->ix[t->len] = t->m->index[item];
    t->w[t->len++] = w;
}

/* Adds the transaction's outer product to g and starts the next one. */
static void gtx_flush(gtx *t, double *g)
{
    size_t n = t->m->n;
    for (uint32_t a = 0; a < t->len; a++) {
        if (t->ix[a] == XS_NONE)
            continue;
        double *ga = g + (size_t)t->ix[a] * n, wa = t->w[a];
        for (uint32_t b = 0; b < t->len; b++)
            if (t->ix[b] != XS_NONE)
                ga[t->ix[b]] += wa * t->w[b];
    }
    t->len = 0;
    if (++t->stamp_now == 0) { /* wrapped: start the stamps over */
        memset(t->stamp, 0, (size_t)t->m->n_ids * sizeof *t->stamp);
        t->stamp_now = 1;
    }
}

/* G = X^T X with X_ti the weight sums (weights=event) into g (n x n,
 * zeroed).  Returns 0, 1 when there are no customers (use the rows), or
 * -1 when out of memory. */
static int gram_events(const ease *e, const ease_model *m, double *g)
{
    const xs_host_api *api = e->api;
    uint32_t nc = api->customer_count(e->host);
    if (nc == 0)
        return 1;
    size_t k = (size_t)m->n_ids + 1;
    gtx t = {.m = m, .max = api->max_basket(e->host), .stamp_now = 1,
             .stamp = calloc(k, sizeof *t.stamp),
             .pos = malloc(k * sizeof *t.pos), .ix = malloc(k * sizeof *t.ix),
             .w = malloc(k * sizeof *t.w)};
    bev *be = NULL;
    int rc = -1;
    if (!t.stamp || !t.pos || !t.ix || !t.w)
        goto done;
    if (e->cfg.scope != XS_SCOPE_BASKET) {
        for (uint32_t c = 0; c < nc; c++) {
            const xs_event *ev = NULL;
            size_t n = 0;
            if (!api->history(e->host, c, &ev, &n) || !ev)
                continue;
            for (size_t i = 0; i < n; i++)
                gtx_add(&t, ev[i].item, ev[i].weight);
            gtx_flush(&t, g);
        }
        rc = 0;
        goto done;
    }
    size_t nb = 0, cap = 0;
    for (uint32_t c = 0; c < nc; c++) {
        const xs_event *ev = NULL;
        size_t n = 0;
        if (!api->history(e->host, c, &ev, &n) || !ev)
            continue;
        for (size_t i = 0; i < n; i++) {
            if (ev[i].order == XS_NONE)
                continue;
            if (nb == cap) {
                size_t nc2 = cap ? 2 * cap : 1024;
                bev *nbe = realloc(be, nc2 * sizeof *be);
                if (!nbe)
                    goto done;
                be = nbe;
                cap = nc2;
            }
            be[nb] = (bev){.order = ev[i].order, .item = ev[i].item,
                           .seq = nb, .w = ev[i].weight};
            nb++;
        }
    }
    if (nb)
        qsort(be, nb, sizeof *be, bev_cmp);
    for (size_t i = 0; i < nb; i++) {
        if (i > 0 && be[i].order != be[i - 1].order)
            gtx_flush(&t, g);
        gtx_add(&t, be[i].item, be[i].w);
    }
    gtx_flush(&t, g);
    rc = 0;
done:
    free(be);
    free(t.stamp);
    free(t.pos);
    free(t.ix);
    free(t.w);
    return rc;
}

static int fit_dense(const ease *e, ease_model *m, char *err, size_t errlen)
{
    const xs_host_api *api = e->api;
    const size_t n = m->n;
    double lambda = e->cfg.lambda;
    double *g = calloc(n > 0 ? n * n : 1, sizeof *g);
    double *inv_d = malloc((n ? n : 1) * sizeof *inv_d);
    if (!g || !inv_d) {
        char b[32];
        bytes_text(b, sizeof b, 8.0 * (double)n * (double)n);
        snprintf(err, errlen, "out of memory for the dense model of %zu "
                 "items (%s); try mode=sparse", n, b);
        free(g);
        free(inv_d);
        return -1;
    }
    int from_rows = 1;
    if (e->cfg.weights == EASE_W_EVENT) {
        int r = gram_events(e, m, g);
        if (r < 0) {
            snprintf(err, errlen, "out of memory summing the event weights");
            free(g);
            free(inv_d);
            return -1;
        }
        if (r == 0) {
            from_rows = 0;
            for (size_t a = 0; a < n; a++)
                g[a * n + a] += lambda;
        }
    }
    for (size_t a = 0; from_rows && a < n; a++) {
        xs_row row;
        double *ga = g + a * n;
        if (!api->row(e->host, e->cfg.scope, m->ids[a], &row)) {
            ga[a] = lambda;
            continue;
        }
        ga[a] = (double)row.support + lambda;
        for (uint32_t k = 0; k < row.n; k++) {
            uint32_t b = row.nbr[k] < m->n_ids ? m->index[row.nbr[k]]
                                               : XS_NONE;
            if (b != XS_NONE)
                ga[b] = (double)row.cnt[k];
        }
    }
    lapack_int rc = n ? LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', (lapack_int)n,
                                       g, (lapack_int)n)
                      : 0;
    if (rc == 0 && n)
        rc = LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', (lapack_int)n, g,
                            (lapack_int)n);
    if (rc != 0) {
        snprintf(err, errlen, "the dense solve failed (LAPACK %s %d): "
                 "G + lambda I is not numerically positive definite; "
                 "raise lambda", rc < 0 ? "argument" : "info", (int)rc);
        free(g);
        free(inv_d);
        return -1;
    }
    /* P's upper triangle (j >= i) is valid: mirror it, then scale */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            g[j * n + i] = g[i * n + j];
    for (size_t j = 0; j < n; j++)
        inv_d[j] = -1.0 / g[j * n + j];
    for (size_t i = 0; i < n; i++) {
        double *bi = g + i * n;
        for (size_t j = 0; j < n; j++)
            bi[j] *= inv_d[j];
        bi[i] = 0.0;
    }
    free(inv_d);
    m->b = g;
    m->dense = 1;
    return 0;
}

int ease_fit(const ease *e, ease_model *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    if (ease_model_items(e, m)) {
        ease_model_free(m);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int dense = e->cfg.mode == EASE_DENSE ||
                (e->cfg.mode == EASE_AUTO && m->n <= e->cfg.max_dense);
    if (dense && m->n > e->cfg.max_dense) {
        char need[32], lim[32];
        bytes_text(need, sizeof need, 8.0 * m->n * (double)m->n);
        bytes_text(lim, sizeof lim,
                   8.0 * e->cfg.max_dense * (double)e->cfg.max_dense);
        snprintf(err, errlen, "mode=dense: %u items need %s (8 n^2 bytes), "
                 "over the limit max_dense=%u items (%s); use mode=sparse "
                 "(each item's strongest neighbours) or raise max_dense",
                 (unsigned)m->n, need, (unsigned)e->cfg.max_dense, lim);
        ease_model_free(m);
        return -1;
    }
    if (!dense && e->cfg.weights == EASE_W_EVENT) {
        snprintf(err, errlen, "weights=event needs mode=dense: %u items are "
                 "over max_dense=%u (raise max_dense)", (unsigned)m->n,
                 (unsigned)e->cfg.max_dense);
        ease_model_free(m);
        return -1;
    }
    int rc = dense ? fit_dense(e, m, err, errlen)
                   : ease_fit_sparse(e, m, err, errlen);
    if (rc)
        ease_model_free(m);
    return rc;
}
