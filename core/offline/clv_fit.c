/*
 * clv_fit.c -- maximum-likelihood fits of BG/NBD (r, alpha, a, b) and
 * Gamma-Gamma (p, q, v) over a population of customers.
 *
 * Both minimise the mean negative log-likelihood over the log parameters
 * (clv_optim.c), so the parameters stay positive and the gradient test is
 * on the same scale whatever the number of customers.
 *
 * Cost.  The optimizer evaluates the likelihood a thousand times or so;
 * with a million customers that would be a billion lgamma calls.  But a
 * customer enters BG/NBD only through (x, t_x, T), and on day data these
 * repeat a lot: the customers are collapsed into distinct triples with a
 * weight, sorted by x, so each lgamma term is computed once per distinct x
 * and each log(alpha + t) once per distinct time value; what is left per
 * triple is two multiply-adds and one log1p(exp()).  Gamma-Gamma has a
 * continuous m_x, so only the per-x terms are shared there.
 *
 * Ownership: the fits copy what they need from their input and free it
 * before returning.
 */
#include <math.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "offline/clv_int.h"

#define RUNAWAY 13.8 /* |log parameter| past this (e^13.8 ~ 1e6) ran away */

typedef struct triple {
    uint32_t x;
    double t_x, T;
} triple;

static int cmp_triple(const void *pa, const void *pb)
{
    const triple *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    if (a->t_x != b->t_x)
        return a->t_x < b->t_x ? -1 : 1;
    return (a->T > b->T) - (a->T < b->T);
}

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* sorts and dedups v[0..n); returns the new length */
static size_t unique_doubles(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[i] != v[k - 1])
            v[k++] = v[i];
    return k;
}

static uint32_t index_of(const double *v, size_t n, double key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}


/* ---- a deterministic parallel sum ----------------------------------------
 * The likelihood is a sum over up to a million terms, evaluated a thousand
 * times: it is cut into CHUNKS fixed slices, each summed with Neumaier's
 * compensation, the slices spread over the threads and added in slice
 * order, so the value does not depend on the thread count and its rounding
 * stays near one ulp (the optimizer's difference quotients need that). */
#define CHUNKS 32

typedef double (*chunk_fn)(void *ctx, size_t from, size_t to);

typedef struct par_job {
    chunk_fn fn;
    void *ctx;
    size_t n;
    int threads, self;
    double *part;
    pthread_t tid;
} par_job;

static void *par_run(void *arg)
{
    par_job *j = arg;
    for (int k = j->self; k < CHUNKS; k += j->threads)
        j->part[k] = j->fn(j->ctx, j->n * (size_t)k / CHUNKS,
                           j->n * (size_t)(k + 1) / CHUNKS);
    return NULL;
}

static int fit_threads(size_t n)
{
    if (n < 50000)
        return 1;
    long p = sysconf(_SC_NPROCESSORS_ONLN);
    return p < 1 ? 1 : p > 8 ? 8 : (int)p;
}

static double par_sum(chunk_fn fn, void *ctx, size_t n, int threads)
{
    double part[CHUNKS];
    par_job job[8];
    int started = 1;
    for (int t = 0; t < threads; t++) {
        job[t] = (par_job){fn, ctx, n, threads, t, part, 0};
        if (t > 0) {
            if (pthread_create(&job[t].tid, NULL, par_run, &job[t]))
                break;
            started = t + 1;
        }
    }
    par_run(&job[0]);
    for (int t = started; t < threads; t++) /* not started: here */
        par_run(&job[t]);
    for (int t = 1; t < started; t++)
        pthread_join(job[t].tid, NULL);
    double sum = 0, comp = 0;
    for (int k = 0; k < CHUNKS; k++) {
        double v = part[k], t = sum + v;
        comp += fabs(sum) >= fabs(v) ? (sum - t) + v : (v - t) + sum;
        sum = t;
    }
    return sum + comp;
}

/* Neumaier's compensated sum, one term at a time */
typedef struct ksum {
    double s, c;
} ksum;

static inline void kadd(ksum *k, double v)
{
    double t = k->s + v;
    k->c += fabs(k->s) >= fabs(v) ? (k->s - t) + v : (v - t) + k->s;
    k->s = t;
}

typedef struct bg_ctx {
    size_t n_uniq, n_x, n_tv;
    double total;     /* customers */
    int threads;
    uint32_t *xval;   /* distinct x, ascending */
    size_t *xend;     /* triples of xval[g] end at xend[g] */
    double *xw;       /* customers with x = xval[g] */
    uint32_t *gi;     /* per triple: its x group */
    uint32_t *it, *itx; /* per triple: index of T and t_x in tv */
    double *w;        /* per triple: customers */
    double *tv;       /* distinct time values (T and t_x) */
    double *logt;     /* per evaluation: log(alpha + tv[j]) */
    double *c4, *rx;  /* per evaluation and x group: log(a/(b+x-1)), r+x */
} bg_ctx;

/* The triples' part of the sum: w (log(e^A3 + [x>0] e^A4)) with
 * A3 = -(r+x) log(alpha+T), A4 = log(a/(b+x-1)) - (r+x) log(alpha+t_x). */
static double bg_chunk(void *arg, size_t from, size_t to)
{
    const bg_ctx *c = arg;
    ksum k = {0, 0};
    for (size_t i = from; i < to; i++) {
        uint32_t g = c->gi[i];
        double rx = c->rx[g], a3 = -rx * c->logt[c->it[i]], ll = a3;
        if (c->xval[g] > 0) {
            double a4 = c->c4[g] - rx * c->logt[c->itx[i]];
            double hi = a3 > a4 ? a3 : a4, lo = a3 > a4 ? a4 : a3;
            ll = hi + log1p(exp(lo - hi));
        }
        kadd(&k, c->w[i] * ll);
    }
    return k.s + k.c;
}

static double bg_objective(const double *th, void *arg)
{
    bg_ctx *c = arg;
    double r = exp(th[0]), al = exp(th[1]), a = exp(th[2]), b = exp(th[3]);
    if (!(r > 0 && al > 0 && a > 0 && b > 0) || !isfinite(r + al + a + b))
        return INFINITY;
    for (size_t j = 0; j < c->n_tv; j++)
        c->logt[j] = log(al + c->tv[j]);
    /* per x: the common factor, log Gamma(r+x) alpha^r / Gamma(r) +
     * log B(a, b+x) / B(a, b), once per customer */
    double common = -lgamma(r) + r * log(al) + lgamma(a + b) - lgamma(b);
    double la = log(a);
    ksum k = {0, 0};
    for (size_t g = 0; g < c->n_x; g++) {
        double x = c->xval[g];
        c->rx[g] = r + x;
        c->c4[g] = x > 0 ? la - log(b + x - 1) : 0;
        kadd(&k, (common + lgamma(r + x) + lgamma(b + x) -
                  lgamma(a + b + x)) * c->xw[g]);
    }
    double sum = k.s + k.c + par_sum(bg_chunk, c, c->n_uniq, c->threads);
    double f = -sum / c->total;
    return isfinite(f) ? f : INFINITY;
}

static void bg_ctx_free(bg_ctx *c)
{
    free(c->xval);
    free(c->xend);
    free(c->xw);
    free(c->gi);
    free(c->c4);
    free(c->rx);
    free(c->it);
    free(c->itx);
    free(c->w);
    free(c->tv);
    free(c->logt);
}

/* The parameter to blame when a fit fails: the one furthest out, else the
 * one whose gradient is largest. */
static int blame(const double *th, const double *g, int d, int *ran)
{
    int k = 0;
    for (int i = 1; i < d; i++)
        if (fabs(th[i]) > fabs(th[k]))
            k = i;
    if (fabs(th[k]) > RUNAWAY) {
        *ran = 1;
        return k;
    }
    *ran = 0;
    k = 0;
    for (int i = 1; i < d; i++)
        if (!(fabs(g[i]) <= fabs(g[k])))
            k = i;
    return k;
}

int xs_bgnbd_fit(const xs_clv_input *in, size_t n, xs_bgnbd *out,
                 xs_error *err)
{
    memset(out, 0, sizeof *out);
    size_t repeat = 0;
    for (size_t i = 0; i < n; i++)
        repeat += in[i].x > 0;
    if (repeat < XS_CLV_MIN_REPEAT)
        return xs_error_set(err, XS_ERR_DATA,
                            "%zu of %zu customers bought again after their "
                            "first purchase day: BG/NBD needs at least %d "
                            "(give more data, or a later --until)",
                            repeat, n, XS_CLV_MIN_REPEAT);
    bg_ctx c = {0};
    triple *t = malloc(n * sizeof *t);
    c.tv = malloc(2 * n * sizeof *c.tv);
    if (!t || !c.tv) {
        free(t);
        bg_ctx_free(&c);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        t[i] = (triple){in[i].x, in[i].t_x, in[i].T};
        c.tv[2 * i] = in[i].t_x;
        c.tv[2 * i + 1] = in[i].T;
    }
    qsort(t, n, sizeof *t, cmp_triple);
    c.n_tv = unique_doubles(c.tv, 2 * n);
    size_t nu = 0, nx = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || cmp_triple(&t[i], &t[i - 1]))
            nu++;
        if (i == 0 || t[i].x != t[i - 1].x)
            nx++;
    }
    c.xval = malloc(nx * sizeof *c.xval);
    c.xend = malloc(nx * sizeof *c.xend);
    c.xw = malloc(nx * sizeof *c.xw);
    c.c4 = malloc(nx * sizeof *c.c4);
    c.rx = malloc(nx * sizeof *c.rx);
    c.gi = malloc(nu * sizeof *c.gi);
    c.it = malloc(nu * sizeof *c.it);
    c.itx = malloc(nu * sizeof *c.itx);
    c.w = malloc(nu * sizeof *c.w);
    c.logt = malloc(c.n_tv * sizeof *c.logt);
    if (!c.xval || !c.xend || !c.xw || !c.c4 || !c.rx || !c.gi || !c.it ||
        !c.itx || !c.w || !c.logt) {
        free(t);
        bg_ctx_free(&c);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    size_t u = 0, g = 0;
    for (size_t i = 0; i < n; i++) { /* the distinct triples */
        if (i == 0 || cmp_triple(&t[i], &t[i - 1])) {
            c.it[u] = index_of(c.tv, c.n_tv, t[i].T);
            c.itx[u] = index_of(c.tv, c.n_tv, t[i].t_x);
            c.w[u] = 0;
            u++;
        }
        c.w[u - 1] += 1;
    }
    u = 0;
    for (size_t i = 0; i < n; i++) { /* the groups of equal x */
        int new_triple = i == 0 || cmp_triple(&t[i], &t[i - 1]);
        if (i == 0 || t[i].x != t[i - 1].x) {
            if (i > 0)
                c.xend[g - 1] = u;
            c.xw[g] = 0;
            c.xval[g++] = t[i].x;
        }
        c.xw[g - 1] += 1;
        if (new_triple)
            c.gi[u++] = (uint32_t)(g - 1);
    }
    c.xend[g - 1] = u;
    c.n_uniq = nu;
    c.n_x = nx;
    c.total = (double)n;
    c.threads = fit_threads(nu);
    free(t);

    double th[4] = {0, 0, 0, 0}, grad[4] = {0};
    int iters = 0;
    int rc = clv_minimize(bg_objective, &c, 4, th, &iters, grad);
    double f = bg_objective(th, &c);
    bg_ctx_free(&c);
    out->r = exp(th[0]);
    out->alpha = exp(th[1]);
    out->a = exp(th[2]);
    out->b = exp(th[3]);
    out->loglik = -f * (double)n;
    out->iterations = iters;
    out->converged = rc == 0;
    int ran, k = blame(th, grad, 4, &ran);
    static const char *const names[4] = {"r", "alpha", "a", "b"};
    if (ran || rc || !isfinite(f))
        return xs_error_set(
            err, XS_ERR_DATA,
            "the BG/NBD fit did not converge after %d iterations: parameter "
            "%s %s %.6g (r=%.6g alpha=%.6g a=%.6g b=%.6g); the purchases may "
            "show no dropout or no spread of rates: try a longer calibration "
            "period (a later --until), the other --unit, or more customers",
            iters, names[k], ran ? "ran away to" : "is still moving at",
            exp(th[k]), out->r, out->alpha, out->a, out->b);
    return XS_OK;
}

typedef struct gg_ctx {
    size_t n, n_x;
    int threads;
    uint32_t *xval;   /* distinct x, ascending */
    size_t *xend;
    uint32_t *gi;     /* per customer (sorted by x): its x group */
    double *m, *lm;   /* per customer: m_x and log m_x */
    double *px;       /* per evaluation and x group: p x */
} gg_ctx;

/* The customers' part: (px-1) log m_x - (px+q) log(v + x m_x). */
static double gg_chunk(void *arg, size_t from, size_t to)
{
    const gg_ctx *c = arg;
    double q = c->px[c->n_x], v = c->px[c->n_x + 1];
    ksum k = {0, 0};
    for (size_t i = from; i < to; i++) {
        uint32_t g = c->gi[i];
        double px = c->px[g];
        kadd(&k, (px - 1) * c->lm[i] -
                     (px + q) * log(v + c->xval[g] * c->m[i]));
    }
    return k.s + k.c;
}

static double gg_objective(const double *th, void *arg)
{
    gg_ctx *c = arg;
    double p = exp(th[0]), q = exp(th[1]), v = exp(th[2]);
    if (!(p > 0 && q > 0 && v > 0) || !isfinite(p + q + v))
        return INFINITY;
    ksum k = {0, 0};
    kadd(&k, (double)c->n * (q * log(v) - lgamma(q)));
    for (size_t g = 0; g < c->n_x; g++) {
        double x = c->xval[g], px = p * x;
        size_t cnt = c->xend[g] - (g ? c->xend[g - 1] : 0);
        c->px[g] = px;
        kadd(&k, (lgamma(px + q) - lgamma(px) + px * log(x)) * (double)cnt);
    }
    c->px[c->n_x] = q;
    c->px[c->n_x + 1] = v;
    double sum = k.s + k.c + par_sum(gg_chunk, c, c->n, c->threads);
    double f = -sum / (double)c->n;
    return isfinite(f) ? f : INFINITY;
}

typedef struct xm {
    uint32_t x;
    double m;
} xm;

static int cmp_xm(const void *pa, const void *pb)
{
    const xm *a = pa, *b = pb;
    if (a->x != b->x)
        return a->x < b->x ? -1 : 1;
    return (a->m > b->m) - (a->m < b->m);
}

int xs_gg_fit(const xs_clv_input *in, size_t n, xs_gamma_gamma *out,
              xs_error *err)
{
    memset(out, 0, sizeof *out);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += in[i].x > 0 && in[i].monetary > 0 && isfinite(in[i].monetary);
    out->customers = k;
    if (k < XS_CLV_MIN_REPEAT)
        return xs_error_set(err, XS_ERR_DATA,
                            "%zu customers have repeat purchases with a "
                            "spend above 0: Gamma-Gamma needs at least %d",
                            k, XS_CLV_MIN_REPEAT);
    gg_ctx c = {0};
    xm *v = malloc(k * sizeof *v);
    c.m = malloc(k * sizeof *c.m);
    c.lm = malloc(k * sizeof *c.lm);
    c.xval = malloc(k * sizeof *c.xval);
    c.xend = malloc(k * sizeof *c.xend);
    c.gi = malloc(k * sizeof *c.gi);
    c.px = malloc((k + 2) * sizeof *c.px);
    if (!v || !c.m || !c.lm || !c.xval || !c.xend || !c.gi || !c.px) {
        free(c.gi);
        free(c.px);
        free(v);
        free(c.m);
        free(c.lm);
        free(c.xval);
        free(c.xend);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    k = 0;
    for (size_t i = 0; i < n; i++)
        if (in[i].x > 0 && in[i].monetary > 0 && isfinite(in[i].monetary))
            v[k++] = (xm){in[i].x, in[i].monetary};
    qsort(v, k, sizeof *v, cmp_xm);
    size_t g = 0;
    for (size_t i = 0; i < k; i++) {
        if (i == 0 || v[i].x != v[i - 1].x) {
            if (i > 0)
                c.xend[g - 1] = i;
            c.xval[g++] = v[i].x;
        }
        c.gi[i] = (uint32_t)(g - 1);
        c.m[i] = v[i].m;
        c.lm[i] = log(v[i].m);
    }
    c.xend[g - 1] = k;
    c.n = k;
    c.n_x = g;
    c.threads = fit_threads(k);
    free(v);

    /* start at p = 1, q = 2, v = the mean spend: E[M] starts at the mean */
    double mean = 0;
    for (size_t i = 0; i < k; i++)
        mean += c.m[i] / (double)k;
    double th[3] = {0, log(2.0), log(mean)}, grad[3] = {0};
    int iters = 0;
    int rc = clv_minimize(gg_objective, &c, 3, th, &iters, grad);
    double f = gg_objective(th, &c);
    free(c.m);
    free(c.lm);
    free(c.xval);
    free(c.xend);
    free(c.gi);
    free(c.px);
    out->p = exp(th[0]);
    out->q = exp(th[1]);
    out->v = exp(th[2]);
    out->loglik = -f * (double)k;
    out->iterations = iters;
    out->converged = rc == 0;
    int ran, b = blame(th, grad, 3, &ran);
    static const char *const names[3] = {"p", "q", "v"};
    if (ran || rc || !isfinite(f))
        return xs_error_set(
            err, XS_ERR_DATA,
            "the Gamma-Gamma fit did not converge after %d iterations: "
            "parameter %s %s %.6g (p=%.6g q=%.6g v=%.6g); spend per purchase "
            "may not vary between customers: check the prices, or leave the "
            "spend out (CLV in purchases)",
            iters, names[b], ran ? "ran away to" : "is still moving at",
            exp(th[b]), out->p, out->q, out->v);
    return XS_OK;
}
