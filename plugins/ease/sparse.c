/*
 * ease/sparse.c -- the scalable fit: EASE restricted to each item's
 * strongest neighbours (the method is in ease/ease.h, "Sparse mode").
 *
 * Column j of B is the ridge regression (1) of j on its neighbour set N_j
 * only: an m x m system (m = |N_j| <= neighbours) built from the host's
 * rows -- G_ab for a, b in N_j by walking row a against a map of N_j's
 * places when the row is short, else by binary search in row a from
 * where the previous b was found (N_j is sorted by id), whichever costs
 * less -- and solved by LAPACKE_dposv (Cholesky).  Columns are independent, so the fit runs on
 * `threads` pthreads taking columns from a shared counter; each thread
 * owns its work space (the system, the right-hand side, the best-m heap,
 * the place map: 4 bytes per item id)
 * and writes its column into its own slice of one column-major buffer
 * whose offsets were laid out before the threads start.  The host's rows
 * are only read (no writer runs during prepare()).
 *
 * The columns are then transposed into rows (row i: the j with B_ij kept,
 * ascending), the layout scoring wants: a request sums the rows of its
 * items.  Peak memory: 2 x 12 bytes per kept entry (columns and rows) for
 * the transposition, then 12.  Work: n m^3 / 3 for the solves plus
 * n m^2 log(row) for the systems.
 *
 * With neighbours >= n - 1 every other item is in N_j and the result is
 * the dense fit's, to rounding (test_ease checks it).
 */
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ease/ease.h"

typedef struct sp_job {
    const ease *e;
    const ease_model *m;
    uint32_t cap;         /* max |N_j| */
    int all;              /* N_j = every other item */
    const uint64_t *cs;   /* column j's slice: cs[j] .. cs[j+1] */
    uint32_t *ccols;      /* N_j (model indices, ascending) */
    double *cvals;        /* B_{N_j, j} */
    atomic_uint next;
    atomic_int failed;    /* LAPACK info of the first failure, or -1 oom */
} sp_job;

/* The neighbour set of column j into nj (model indices, ascending); its
 * size. */
static uint32_t neighbour_set(const sp_job *job, uint32_t j, const xs_row *rj,
                              xs_cand *heap, uint32_t *nj)
{
    const ease_model *m = job->m;
    uint32_t k = 0;
    if (job->all) {
        for (uint32_t a = 0; a < m->n; a++)
            if (a != j)
                nj[k++] = a;
        return k;
    }
    if (rj->n <= job->cap) {
        for (uint32_t p = 0; p < rj->n; p++)
            nj[k++] = m->index[rj->nbr[p]];
        return k;
    }
    uint32_t h = 0;
    for (uint32_t p = 0; p < rj->n; p++) /* ties: lower position, lower id */
        xs_best_offer(heap, &h, job->cap,
                      (xs_cand){.item = p, .score = (double)rj->cnt[p]});
    for (uint32_t p = 0; p < h; p++)
        nj[k++] = m->index[rj->nbr[heap[p].item]];
    qsort(nj, k, sizeof *nj, xs_cmp_u32);
    return k;
}

/* G_{a,b} from row a for ascending b's: the count, searching on from *at. */
static double pair_from(const xs_row *ra, uint32_t item_b, uint32_t *at)
{
    uint32_t p = *at + xs_lower_bound(ra->nbr + *at, ra->n - *at, item_b);
    *at = p;
    return p < ra->n && ra->nbr[p] == item_b ? (double)ra->cnt[p] : 0.0;
}

static int solve_column(sp_job *job, uint32_t j, double *a, double *rhs,
                        xs_cand *heap, uint32_t *nj, uint32_t *pos)
{
    const ease *e = job->e;
    const ease_model *m = job->m;
    const xs_host_api *api = e->api;
    xs_row rj;
    if (!api->row(e->host, e->cfg.scope, m->ids[j], &rj))
        rj = (xs_row){m->ids[j], 0, 0, NULL, NULL};
    uint32_t k = neighbour_set(job, j, &rj, heap, nj);
    if (k == 0)
        return 0;
    uint32_t at = 0;
    for (uint32_t p = 0; p < k; p++)
        rhs[p] = pair_from(&rj, m->ids[nj[p]], &at);
    for (uint32_t p = 0; p < k; p++)
        pos[m->ids[nj[p]]] = p;
    for (uint32_t p = 0; p < k; p++) {
        xs_row ra;
        double *ap = a + (size_t)p * k;
        uint32_t ia = m->ids[nj[p]];
        if (!api->row(e->host, e->cfg.scope, ia, &ra))
            ra = (xs_row){ia, 0, 0, NULL, NULL};
        ap[p] = (double)ra.support + e->cfg.lambda;
        /* G_ab for the b after a in N_j: walk row a through pos[] when
         * it is short, else search it for each b */
        double search = (double)(k - p) * 4.0 * (log2((double)ra.n + 1) + 1);
        if ((double)ra.n <= search) {
            memset(ap + p + 1, 0, (size_t)(k - p - 1) * sizeof *ap);
            for (uint32_t r = 0; r < ra.n; r++) {
                uint32_t q = pos[ra.nbr[r]];
                if (q != XS_NONE && q > p)
                    ap[q] = (double)ra.cnt[r];
            }
        } else {
            at = 0;
            for (uint32_t q = p + 1; q < k; q++)
                ap[q] = pair_from(&ra, m->ids[nj[q]], &at);
        }
    }
    for (uint32_t p = 0; p < k; p++)
        pos[m->ids[nj[p]]] = XS_NONE;
    /* row-major upper = column-major lower of the symmetric system:
     * LAPACKE then solves in place, without transposing a copy */
    lapack_int rc = LAPACKE_dposv(LAPACK_COL_MAJOR, 'L', (lapack_int)k, 1, a,
                                  (lapack_int)k, rhs, (lapack_int)k);
    if (rc)
        return (int)rc;
    uint64_t o = job->cs[j];
    memcpy(job->ccols + o, nj, k * sizeof *nj);
    memcpy(job->cvals + o, rhs, k * sizeof *rhs);
    return 0;
}

static void *sp_worker(void *arg)
{
    sp_job *job = arg;
    size_t cap = job->cap;
    double *a = malloc(cap * cap * sizeof *a + 1);
    double *rhs = malloc(cap * sizeof *rhs + 1);
    xs_cand *heap = malloc(cap * sizeof *heap + 1);
    uint32_t *nj = malloc(cap * sizeof *nj + 1);
    uint32_t *pos = malloc((size_t)job->m->n_ids * sizeof *pos + 1);
    if (pos) /* item id -> place in N_j, XS_NONE outside it */
        memset(pos, 0xFF, (size_t)job->m->n_ids * sizeof *pos);
    if (!a || !rhs || !heap || !nj || !pos) {
        int none = 0;
        atomic_compare_exchange_strong(&job->failed, &none, -1);
    } else {
        for (;;) {
            if (atomic_load(&job->failed))
                break;
            uint32_t j = atomic_fetch_add(&job->next, 1);
            if (j >= job->m->n)
                break;
            int rc = solve_column(job, j, a, rhs, heap, nj, pos);
            if (rc) {
                int none = 0;
                atomic_compare_exchange_strong(&job->failed, &none, rc);
            }
        }
    }
    free(a);
    free(rhs);
    free(heap);
    free(nj);
    free(pos);
    return NULL;
}

static uint32_t cpu_count(uint32_t want)
{
    if (want)
        return want;
    long c = sysconf(_SC_NPROCESSORS_ONLN);
    return c > 0 ? (uint32_t)(c > 256 ? 256 : c) : 1;
}

/* The columns (cs, ccols, cvals) transposed into m's rows. */
static int transpose(ease_model *m, const uint64_t *cs, const uint32_t *ccols,
                     const double *cvals)
{
    uint64_t total = cs[m->n];
    m->rs = calloc((size_t)m->n + 1, sizeof *m->rs);
    m->cols = malloc(total * sizeof *m->cols + 1);
    m->vals = malloc(total * sizeof *m->vals + 1);
    uint64_t *fill = malloc(((size_t)m->n + 1) * sizeof *fill);
    if (!m->rs || !m->cols || !m->vals || !fill) {
        free(fill);
        return -1;
    }
    for (uint64_t p = 0; p < total; p++)
        m->rs[ccols[p] + 1]++;
    for (uint32_t i = 0; i < m->n; i++)
        m->rs[i + 1] += m->rs[i];
    memcpy(fill, m->rs, ((size_t)m->n + 1) * sizeof *fill);
    for (uint32_t j = 0; j < m->n; j++) /* j ascending: rows come sorted */
        for (uint64_t p = cs[j]; p < cs[j + 1]; p++) {
            uint64_t at = fill[ccols[p]]++;
            m->cols[at] = j;
            m->vals[at] = cvals[p];
        }
    free(fill);
    m->entries = total;
    return 0;
}

int ease_fit_sparse(const ease *e, ease_model *m, char *err, size_t errlen)
{
    const xs_host_api *api = e->api;
    sp_job job = {.e = e, .m = m};
    job.all = m->n > 0 && e->cfg.neighbours >= m->n - 1;
    job.cap = job.all ? (m->n ? m->n - 1 : 0) : e->cfg.neighbours;
    uint64_t *cs = malloc(((size_t)m->n + 1) * sizeof *cs);
    if (!cs)
        goto oom;
    cs[0] = 0;
    for (uint32_t j = 0; j < m->n; j++) {
        xs_row r;
        uint32_t len = api->row(e->host, e->cfg.scope, m->ids[j], &r) ? r.n
                                                                      : 0;
        cs[j + 1] = cs[j] + (job.all ? job.cap : len < job.cap ? len : job.cap);
    }
    job.cs = cs;
    job.ccols = malloc(cs[m->n] * sizeof *job.ccols + 1);
    job.cvals = malloc(cs[m->n] * sizeof *job.cvals + 1);
    if (!job.ccols || !job.cvals)
        goto oom;
    atomic_init(&job.next, 0);
    atomic_init(&job.failed, 0);
    uint32_t n_threads = cpu_count(e->cfg.threads);
    if (n_threads > m->n)
        n_threads = m->n ? m->n : 1;
    pthread_t *tid = malloc(n_threads * sizeof *tid);
    if (!tid)
        goto oom;
    uint32_t started = 0;
    for (uint32_t t = 1; t < n_threads; t++) /* the caller is thread 0 */
        if (pthread_create(&tid[started], NULL, sp_worker, &job) == 0)
            started++;
    sp_worker(&job);
    for (uint32_t t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    free(tid);
    int failed = atomic_load(&job.failed);
    if (failed == -1)
        goto oom;
    if (failed) {
        snprintf(err, errlen, "a neighbour system failed to solve (LAPACK "
                 "info %d); raise lambda", failed);
        goto fail;
    }
    if (transpose(m, cs, job.ccols, job.cvals))
        goto oom;
    free(cs);
    free(job.ccols);
    free(job.cvals);
    m->dense = 0;
    return 0;
oom:
    snprintf(err, errlen, "out of memory for the sparse model of %u items "
             "(neighbours=%u)", (unsigned)m->n, (unsigned)e->cfg.neighbours);
fail:
    free(cs);
    free(job.ccols);
    free(job.cvals);
    return -1;
}
