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
    for (size_t a = 0; a < n; a++) {
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
    int rc = dense ? fit_dense(e, m, err, errlen)
                   : ease_fit_sparse(e, m, err, errlen);
    if (rc)
        ease_model_free(m);
    return rc;
}
