/*
 * test_clv.c -- tests for customer lifetime value (xsell/clv.h).
 *
 * Owns: xs_hyp2f1, the BG/NBD and Gamma-Gamma formulas, the fits and
 * xs_clv_compute.
 *
 *   - formulas against values worked out by hand (r = alpha = a = b = 1,
 *     where the likelihood is a sum of simple fractions; 2F1 with a closed
 *     form) and against the published CDNOW example of Fader, Hardie & Lee
 *     (r = 0.243, alpha = 4.414, a = 0.793, b = 2.426: the customer with
 *     x = 2, t_x = 30.43, T = 38.86 expects 1.226 purchases in the next 39
 *     weeks), with the other CDNOW-parameter figures from scipy
 *     (bench/peers/clv.py's functions);
 *   - extreme customers: one purchase, 500 purchase days in one week, zero
 *     spend, horizons of a week and of a century, a = 1 exactly: every
 *     figure finite and in range;
 *   - recovery: customers simulated from BG/NBD and Gamma-Gamma with known
 *     parameters (seeded here), fitted back;
 *   - xs_clv_compute on a small hand-made store: the summary, the
 *     customers left out, the holdout counts and sums, no prices, and the
 *     errors (a holdout before until, too few repeat customers, a fit that
 *     runs away); xs_segment_add_clv's sums per segment and histogram.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/clv.h"
#include "xsell/segment.h"

#define CLOSE(a, b, tol)                                                     \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <=                              \
                  (tol) * fmax(1.0, fabs((double)(b))),                     \
              "%s = %.17g, want %.17g", #a, (double)(a), (double)(b))

/* ---- a seeded generator and the distributions the models mix ---------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static double unif(void) /* (0, 1) */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
    return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}

/* Gamma(shape k, scale 1): Marsaglia & Tsang, boosted for k < 1. */
static double gamma1(double k)
{
    if (k < 1)
        return gamma1(k + 1) * pow(unif(), 1 / k);
    double d = k - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x = normal(), v = 1 + c * x;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = unif();
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v))
            return d * v;
    }
}

static double beta1(double a, double b)
{
    double x = gamma1(a), y = gamma1(b);
    return x / (x + y);
}

/* ---- formulas ----------------------------------------------------------- */

static void test_hyp2f1(void)
{
    double v;
    /* 2F1(1, 1; 2; z) = -log(1 - z) / z */
    CHECK(xs_hyp2f1(1, 1, 2, 0.5, 0, &v) == 0);
    CLOSE(v, 2 * log(2.0), 1e-15);
    /* 2F1(a, b; b; z) = (1 - z)^-a */
    CHECK(xs_hyp2f1(2.5, 3, 3, 0.3, 0, &v) == 0);
    CLOSE(v, pow(0.7, -2.5), 1e-14);
    /* a terminating series: 2F1(-2, b; c; z) = 1 - 2bz/c +
     * b(b+1)z^2/(c(c+1)) */
    CHECK(xs_hyp2f1(-2, 3, 4, 0.5, 0, &v) == 0);
    CLOSE(v, 1 - 2 * 3 * 0.5 / 4 + 3 * 4 * 0.25 / (4 * 5), 1e-15);
    /* scipy.special.hyp2f1 */
    CHECK(xs_hyp2f1(0.5, 1.5, 2.5, 0.9, 0, &v) == 0);
    CLOSE(v, 1.6673034691845778, 1e-13);
    CHECK(xs_hyp2f1(-0.3, 2.2, 0.4, 0.7, 0, &v) == 0);
    CLOSE(v, -2.4452956757151796, 1e-13);
    /* the guard: too few terms for z near 1 is -1 with a finite sum; out
     * of the domain is -1 */
    CHECK(xs_hyp2f1(1, 1, 2, 0.999999, 100, &v) == -1);
    CHECK(isfinite(v));
    CHECK(xs_hyp2f1(1, 1, 2, 1.0, 0, &v) == -1);
    CHECK(xs_hyp2f1(1, 1, -2, 0.5, 0, &v) == -1);
}

static void test_bgnbd_by_hand(void)
{
    xs_bgnbd one = {.r = 1, .alpha = 1, .a = 1, .b = 1};
    /* x = 0, T = 1: B(1,1)/B(1,1) Gamma(1) 1^1 / (Gamma(1) 2^1) = 1/2 */
    CLOSE(xs_bgnbd_loglik(&one, 0, 0, 1), -log(2.0), 1e-15);
    /* x = 1, t_x = 1, T = 2: B(1,2)/B(1,1) Gamma(2)/(3^2) = 1/18, plus
     * B(2,1)/B(1,1) Gamma(2)/(2^2) = 1/8: 13/72 */
    CLOSE(xs_bgnbd_loglik(&one, 1, 1, 2), log(13.0 / 72), 1e-15);
    /* P(alive) = 1 / (1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)) =
     * 1 / (1 + (3/2)^2) = 4/13; and 1 for x = 0 */
    CLOSE(xs_bgnbd_p_alive(&one, 1, 1, 2), 4.0 / 13, 1e-15);
    CHECK(xs_bgnbd_p_alive(&one, 0, 0, 5) == 1.0);

    /* CDNOW (FHL 2005): the published example and scipy's figures */
    xs_bgnbd cd = {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426};
    double e;
    CHECK(xs_bgnbd_expected(&cd, 39, 2, 30.43, 38.86, &e) == 0);
    CLOSE(e, 1.226028174767135, 1e-12);
    CHECK(fabs(e - 1.226) < 5e-4);
    CLOSE(xs_bgnbd_loglik(&cd, 2, 30.43, 38.86), -9.45860630706627, 1e-13);
    CLOSE(xs_bgnbd_p_alive(&cd, 2, 30.43, 38.86), 0.726578570080673, 1e-13);
    CHECK(xs_bgnbd_expected(&cd, 39, 0, 0, 38.86, &e) == 0);
    CLOSE(e, 0.19509805201125396, 1e-12);
    CLOSE(xs_bgnbd_loglik(&cd, 0, 0, 38.86), -0.5547132764381585, 1e-13);
    CHECK(xs_bgnbd_expected(&cd, 52, 7, 35, 38.86, &e) == 0);
    CLOSE(e, 5.520567507999366, 1e-12);
    CLOSE(xs_bgnbd_loglik(&cd, 7, 35, 38.86), -22.13694492750796, 1e-13);
    CLOSE(xs_bgnbd_p_alive(&cd, 7, 35, 38.86), 0.8437678219280121, 1e-13);
    CHECK(xs_bgnbd_expected(&cd, 10, 50, 38, 38.86, &e) == 0);
    CLOSE(e, 10.27009275977707, 1e-12);
    CLOSE(xs_bgnbd_loglik(&cd, 50, 38, 38.86), -47.1622293786011, 1e-13);
    CLOSE(xs_bgnbd_p_alive(&cd, 50, 38, 38.86), 0.9594382814767689, 1e-13);
    CHECK(xs_bgnbd_expected(&cd, 0, 2, 30.43, 38.86, &e) == 0 && e == 0);

    /* a = 1 is the formula's 0/0: the limit is continuous with its
     * neighbours */
    double lo, mid, hi;
    xs_bgnbd m = cd;
    m.a = 1 - 1e-7;
    CHECK(xs_bgnbd_expected(&m, 39, 2, 30.43, 38.86, &lo) == 0);
    m.a = 1;
    CHECK(xs_bgnbd_expected(&m, 39, 2, 30.43, 38.86, &mid) == 0);
    m.a = 1 + 1e-7;
    CHECK(xs_bgnbd_expected(&m, 39, 2, 30.43, 38.86, &hi) == 0);
    CHECK(isfinite(mid) && mid > 0);
    CLOSE(mid, lo, 1e-6);
    CLOSE(mid, hi, 1e-6);
}

static void test_gg_by_hand(void)
{
    xs_gamma_gamma one = {.p = 1, .q = 1, .v = 1};
    /* x = 1, m = 1: Gamma(2)/(Gamma(1) Gamma(1)) 1 1 1 / 2^2 = 1/4 */
    CLOSE(xs_gg_loglik(&one, 1, 1), -2 * log(2.0), 1e-15);
    /* p (v + x m) / (px + q - 1) = 2 / 1; q = 1 and x = 0: undefined */
    CLOSE(xs_gg_expected_spend(&one, 1, 1), 2, 1e-15);
    CHECK(isnan(xs_gg_expected_spend(&one, 0, 0)));
    xs_gamma_gamma g = {.p = 6.25, .q = 3.74, .v = 15.44}; /* FH 2013 */
    CLOSE(xs_gg_loglik(&g, 1, 10), -3.92135050211197, 1e-13);
    CLOSE(xs_gg_expected_spend(&g, 1, 10), 17.68631813125695, 1e-13);
    CLOSE(xs_gg_loglik(&g, 5, 35.5), -4.064402654844599, 1e-13);
    CLOSE(xs_gg_expected_spend(&g, 5, 35.5), 35.47734627831715, 1e-13);
    CLOSE(xs_gg_loglik(&g, 100, 2), -34.41854995091626, 1e-13);
    CLOSE(xs_gg_expected_spend(&g, 100, 2), 2.144996336062701, 1e-13);
    /* zero spend: the customer's own mean pulls towards 0, stays finite */
    double z = xs_gg_expected_spend(&g, 3, 0);
    CHECK(isfinite(z) && z > 0 && z < g.p * g.v / (g.q - 1));
}

static void test_extremes(void)
{
    const xs_bgnbd ms[] = {
        {.r = 0.243, .alpha = 4.414, .a = 0.793, .b = 2.426},
        {.r = 1.36, .alpha = 22.96, .a = 0.108, .b = 0.926},
        {.r = 50, .alpha = 0.01, .a = 30, .b = 0.05},
        {.r = 1e-3, .alpha = 1e3, .a = 1, .b = 1e3}};
    const struct {
        uint32_t x;
        double t_x, T;
    } cs[] = {{0, 0, 0},     {0, 0, 52},   {1, 0, 0},      {500, 1, 1},
              {500, 0.5, 1}, {500, 1, 520}, {1, 52, 52},   {3000, 100, 100},
              {20, 0, 100}};
    const double hs[] = {1, 52, 5200};
    for (size_t i = 0; i < sizeof ms / sizeof *ms; i++)
        for (size_t j = 0; j < sizeof cs / sizeof *cs; j++) {
            double ll = xs_bgnbd_loglik(&ms[i], cs[j].x, cs[j].t_x, cs[j].T);
            double pa = xs_bgnbd_p_alive(&ms[i], cs[j].x, cs[j].t_x, cs[j].T);
            /* a density in t_x: its log may be above 0 */
            CHECK_MSG(isfinite(ll), "model %zu customer %zu: loglik %g", i,
                      j, ll);
            CHECK_MSG(pa >= 0 && pa <= 1, "model %zu customer %zu: p_alive "
                      "%g", i, j, pa);
            for (size_t k = 0; k < sizeof hs / sizeof *hs; k++) {
                double e;
                xs_bgnbd_expected(&ms[i], hs[k], cs[j].x, cs[j].t_x, cs[j].T,
                                  &e);
                CHECK_MSG(isfinite(e) && e >= 0, "model %zu customer %zu "
                          "horizon %g: expected %g", i, j, hs[k], e);
            }
        }
    /* 500 purchase days in a week, observed at once: alive, buying at
     * about its own rate (500 a week) */
    xs_bgnbd cd = ms[0];
    double e;
    CHECK(xs_bgnbd_expected(&cd, 1, 500, 1, 1, &e) == 0);
    CHECK(xs_bgnbd_p_alive(&cd, 500, 1, 1) > 0.998);
    CHECK_MSG(e > 50 && e < 100, "e = %g", e); /* (r+x)/(alpha+T) = 92 */
    /* the same customer silent for ten years: dead */
    CHECK(xs_bgnbd_p_alive(&cd, 500, 1, 521) < 1e-100);
    CHECK(xs_bgnbd_expected(&cd, 52, 500, 1, 521, &e) == 0 && e < 1e-100);
}

/* ---- recovery ----------------------------------------------------------- */

static void test_recover_bgnbd(void)
{
    const xs_bgnbd truth = {.r = 0.8, .alpha = 6, .a = 0.7, .b = 2.5};
    const size_t n = 20000;
    xs_clv_input *in = calloc(n, sizeof *in);
    if (!CHECK(in != NULL))
        return;
    rng_state = 20240601;
    for (size_t i = 0; i < n; i++) {
        double lambda = gamma1(truth.r) / truth.alpha;
        double p = beta1(truth.a, truth.b);
        double T = 20 + 40 * unif(), t = 0;
        uint32_t x = 0;
        double last = 0;
        for (;;) { /* FHL's story: buy, then drop out with probability p */
            t += -log(unif()) / lambda;
            if (t > T)
                break;
            x++;
            last = t;
            if (unif() < p)
                break;
        }
        in[i] = (xs_clv_input){x, last, T, NAN};
    }
    xs_bgnbd m;
    xs_error err = {0};
    int rc = xs_bgnbd_fit(in, n, &m, &err);
    CHECK_MSG(rc == XS_OK, "fit: %s", err.msg);
    CHECK(m.converged);
    printf("bgnbd recovered r=%g alpha=%g a=%g b=%g (truth 0.8 6 0.7 2.5) "
           "in %d iterations\n", m.r, m.alpha, m.a, m.b, m.iterations);
    CHECK_MSG(fabs(m.r / truth.r - 1) < 0.1, "r %g", m.r);
    CHECK_MSG(fabs(m.alpha / truth.alpha - 1) < 0.1, "alpha %g", m.alpha);
    CHECK_MSG(fabs(m.a / truth.a - 1) < 0.25, "a %g", m.a);
    CHECK_MSG(fabs(m.b / truth.b - 1) < 0.25, "b %g", m.b);
    /* the optimum: the truth's likelihood is no higher */
    double lt = 0;
    for (size_t i = 0; i < n; i++)
        lt += xs_bgnbd_loglik(&truth, in[i].x, in[i].t_x, in[i].T);
    CHECK(m.loglik >= lt);
    free(in);
}

static void test_recover_gg(void)
{
    const double p = 6, q = 4, v = 15;
    const size_t n = 20000;
    xs_clv_input *in = calloc(n, sizeof *in);
    if (!CHECK(in != NULL))
        return;
    rng_state = 7;
    for (size_t i = 0; i < n; i++) {
        double nu = gamma1(q) / v, sum = 0; /* nu ~ Gamma(q, rate v) */
        uint32_t x = 1 + (uint32_t)(unif() * 10);
        for (uint32_t k = 0; k < x; k++)
            sum += gamma1(p) / nu; /* z ~ Gamma(p, rate nu) */
        in[i] = (xs_clv_input){x, 0, 0, sum / x};
    }
    in[0].monetary = 0; /* a zero spend is left out of the fit */
    xs_gamma_gamma g;
    xs_error err = {0};
    CHECK_MSG(xs_gg_fit(in, n, &g, &err) == XS_OK, "fit: %s", err.msg);
    printf("gamma-gamma recovered p=%g q=%g v=%g (truth 6 4 15)\n", g.p, g.q,
           g.v);
    CHECK(g.customers == n - 1);
    CHECK_MSG(fabs(g.p / p - 1) < 0.1, "p %g", g.p);
    CHECK_MSG(fabs(g.q / q - 1) < 0.1, "q %g", g.q);
    CHECK_MSG(fabs(g.v / v - 1) < 0.15, "v %g", g.v);
    free(in);
}

static void test_fit_errors(void)
{
    xs_clv_input in[40];
    xs_bgnbd m;
    xs_error err = {0};
    /* four repeat customers: too few */
    for (int i = 0; i < 40; i++)
        in[i] = (xs_clv_input){i < 4 ? 2 : 0, i < 4 ? 3 : 0, 10, 1};
    CHECK(xs_bgnbd_fit(in, 40, &m, &err) == XS_ERR_DATA);
    CHECK_MSG(strstr(err.msg, "at least 5") != NULL, "%s", err.msg);
    /* everyone buys every day and is still there: no dropout, no spread of
     * rates; the fit runs away and says which parameter */
    for (int i = 0; i < 40; i++)
        in[i] = (xs_clv_input){29, 29, 29, 1};
    int rc = xs_bgnbd_fit(in, 40, &m, &err);
    CHECK(rc == XS_ERR_DATA);
    CHECK_MSG(strstr(err.msg, "did not converge") && strstr(err.msg,
                                                            "parameter "),
              "%s", err.msg);
    printf("runaway: %s\n", err.msg);
}

/* ---- xs_clv_compute ----------------------------------------------------- */

#define D0 1704067200LL /* 2024-01-01 00:00:00 UTC */
#define DAYS(n) (D0 + 86400LL * (n))

static xs_dataset *load_csv(const char *name, const char *text)
{
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_events(xt_write_file(name, text, strlen(
                                                text)),
                                            NULL, &err);
    CHECK_MSG(ds != NULL, "%s", err.msg);
    return ds;
}

/* The store: until = day 30 (end), holdout to day 40.
 *   A: days 0 (10 + 5), 10 (20), 10 (again, 4), 25 (30); holdout day 35
 *      -> x 2, t_x 25, T 30, monetary (24 + 30)/2 = 27, holdout 1
 *   B: day 5 only; holdout days 32, 33, 33 -> x 0, t_x 0, T 25, holdout 2
 *   C: days 20, 21 -> x 1, t_x 1, T 10, monetary 7
 *   D: day 31 only: first purchase after until, left out
 *   E..I: days 1, 15 and 29 (x 2, t_x 28, T 29), price 0: zero spend
 *   J..M: days 2 and 30 (x 1, t_x 28, T 28); J buys on day 45, after
 *      the holdout: not counted
 * and, with `fillers`, 400 customers Z000.. simulated from BG/NBD (one
 * event a day at most, days 0..44, price 1 + k % 7) so that the models
 * have something to fit. */
static char *store_text(int with_price, int fillers)
{
    static char buf[1 << 17];
    size_t o = 0;
    o += (size_t)snprintf(buf + o, sizeof buf - o, "customer,item,timestamp%s\n",
                          with_price ? ",price" : "");
#define EV(c, d, p)                                                           \
    do {                                                                      \
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%s,i,%lld", c,        \
                              (long long)DAYS(d) + 3600);                     \
        if (with_price)                                                       \
            o += (size_t)snprintf(buf + o, sizeof buf - o, ",%g", (double)p); \
        buf[o++] = '\n';                                                      \
    } while (0)
    EV("A", 0, 10); EV("A", 0, 5); EV("A", 10, 20); EV("A", 10, 4);
    EV("A", 25, 30); EV("A", 35, 1);
    EV("B", 5, 3); EV("B", 32, 1); EV("B", 33, 1); EV("B", 33, 1);
    EV("C", 20, 2); EV("C", 21, 7);
    EV("D", 31, 9);
    const char *zero[] = {"E", "F", "G", "H", "I"};
    for (int i = 0; i < 5; i++) {
        EV(zero[i], 1, 0); EV(zero[i], 15, 0); EV(zero[i], 29, 0);
    }
    const char *late[] = {"J", "K", "L", "M"};
    for (int i = 0; i < 4; i++) {
        EV(late[i], 2, 1 + i); EV(late[i], 30, 2 + i);
    }
    EV("J", 45, 1);
    rng_state = 99;
    for (int k = 0; fillers && k < 400; k++) {
        char name[8];
        snprintf(name, sizeof name, "Z%03d", k);
        double lambda = gamma1(0.8) / 4, p = beta1(0.6, 2.5);
        double t = 45 * unif(); /* the first purchase */
        int last = -1;
        while (t < 45) {
            if ((int)t != last)
                EV(name, (int)t, 1 + k % 7);
            last = (int)t;
            if (unif() < p)
                break;
            t += -log(unif()) / lambda;
        }
    }
#undef EV
    buf[o] = 0;
    return buf;
}

static const xs_clv_row *row_of(const xs_clv *c, const xs_dataset *ds,
                                const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (!strcmp(xs_dict_name(ds->customers, c->rows[i].customer), name))
            return &c->rows[i];
    return NULL;
}

static void test_compute(void)
{
    xs_dataset *ds = load_csv("store.csv", store_text(1, 1));
    if (!ds)
        return;
    xs_clv_config cfg = {.has_until = 1, .until = DAYS(30) + 86399,
                         .has_holdout = 1, .holdout_until = DAYS(40),
                         .unit_days = 1, .horizon = 30, .threads = 2};
    xs_clv *c = NULL;
    xs_error err = {0};
    int rc = xs_clv_compute(ds, NULL, &cfg, &c, &err);
    if (!CHECK_MSG(rc == XS_OK, "compute: %s", err.msg)) {
        xs_dataset_free(ds);
        return;
    }
    /* the fillers' share of the counts, from their rows */
    size_t zn = 0, zrep = 0, zleft;
    for (size_t i = 0; i < c->n; i++)
        if (xs_dict_name(ds->customers, c->rows[i].customer)[0] == 'Z') {
            zn++;
            zrep += c->rows[i].in.x > 0;
        }
    zleft = c->left_out - 1;
    CHECK(zn + zleft == 400);
    CHECK(c->n == 12 + zn);
    CHECK(c->repeat == 11 + zrep);
    CHECK(c->monetary && c->has_gg);
    CHECK(c->gg.customers == 6 + zrep); /* E..I spent nothing */
    const xs_clv_row *a = row_of(c, ds, "A"), *b = row_of(c, ds, "B"),
                     *cc = row_of(c, ds, "C"), *e = row_of(c, ds, "E"),
                     *j = row_of(c, ds, "J");
    CHECK(row_of(c, ds, "D") == NULL);
    if (CHECK(a && b && cc && e && j)) {
        CHECK(a->in.x == 2 && a->in.t_x == 25 && a->in.T == 30);
        CLOSE(a->in.monetary, 27, 1e-15);
        CHECK(a->holdout == 1);
        CHECK(b->in.x == 0 && b->in.t_x == 0 && b->in.T == 25);
        CHECK(b->in.monetary == 0 && b->holdout == 2 && b->p_alive == 1);
        CHECK(cc->in.x == 1 && cc->in.t_x == 1 && cc->in.T == 10);
        CLOSE(cc->in.monetary, 7, 1e-15);
        CHECK(e->in.x == 2 && e->in.t_x == 28 && e->in.monetary == 0);
        CHECK(j->in.x == 1 && j->holdout == 0);
        for (size_t i = 0; i < c->n; i++) {
            const xs_clv_row *r = &c->rows[i];
            CHECK(isfinite(r->p_alive) && isfinite(r->expected) &&
                  isfinite(r->exp_spend) && isfinite(r->clv));
            double want;
            xs_bgnbd_expected(&c->bg, 30, r->in.x, r->in.t_x, r->in.T,
                              &want);
            CLOSE(r->expected, want, 1e-15);
            CLOSE(r->clv, r->expected * r->exp_spend, 1e-14);
        }
    }
    /* the holdout: 10 days; A 1 + B 2 of the hand-made customers (J's day
     * 45 is later), and the fillers' own; the sums per calibration
     * frequency, 7+ together */
    CHECK(c->has_holdout);
    double pred = 0, pred_bin[XS_CLV_HOLDOUT_BINS] = {0};
    double act = 0, act_bin[XS_CLV_HOLDOUT_BINS] = {0};
    size_t cnt_bin[XS_CLV_HOLDOUT_BINS] = {0};
    for (size_t i = 0; i < c->n; i++) {
        const xs_clv_row *r = &c->rows[i];
        double v;
        xs_bgnbd_expected(&c->bg, 10, r->in.x, r->in.t_x, r->in.T, &v);
        int k = r->in.x > 7 ? 7 : (int)r->in.x;
        pred += v;
        pred_bin[k] += v;
        act += r->holdout;
        act_bin[k] += r->holdout;
        cnt_bin[k]++;
    }
    double hand = a && b && j ? (double)a->holdout + b->holdout + j->holdout
                                : -1;
    CHECK(hand == 3);
    CHECK(c->holdout_actual == act);
    CLOSE(c->holdout_predicted, pred, 1e-12);
    for (int k = 0; k < XS_CLV_HOLDOUT_BINS; k++) {
        CHECK(c->hold_customers[k] == cnt_bin[k]);
        CHECK(c->hold_actual[k] == act_bin[k]);
        CLOSE(c->hold_predicted[k], pred_bin[k], 1e-12);
    }

    /* joined to the segments as of until: D (first purchase day 31) is in
     * neither; every scored customer is in the histogram once, and each
     * segment's CLV is the sum of its customers' */
    xs_segment_config scfg = {.has_now = 1, .now = cfg.until};
    xs_segmentation *s = NULL;
    if (CHECK(xs_segment_compute(ds, NULL, &scfg, &s, &err) == XS_OK)) {
        xs_segment_add_clv(s, c);
        size_t hist = 0;
        for (int k = 0; k < XS_SEG_PALIVE_BINS; k++)
            hist += s->p_alive_hist[k];
        CHECK(s->has_clv && s->clv_money && hist == c->n);
        double want[XS_SEG_COUNT] = {0}, total = 0;
        for (size_t i = 0; i < c->n; i++)
            for (size_t k = 0; k < s->n; k++)
                if (s->rows[k].customer == c->rows[i].customer) {
                    want[s->rows[k].segment] += c->rows[i].clv;
                    total += c->rows[i].clv;
                }
        for (int g = 0; g < XS_SEG_COUNT; g++)
            CLOSE(s->clv[g], want[g], 1e-12);
        CLOSE(s->clv_total, total, 1e-12);
        xs_segmentation_free(s);
    }
    xs_clv_free(c);

    /* discounting: CLV is below the undiscounted one, above 0 */
    cfg.discount = 0.01;
    cfg.has_holdout = 0;
    rc = xs_clv_compute(ds, NULL, &cfg, &c, &err);
    if (CHECK_MSG(rc == XS_OK, "%s", err.msg)) {
        for (size_t i = 0; i < c->n; i++) {
            const xs_clv_row *r = &c->rows[i];
            double plain = r->expected * r->exp_spend;
            CHECK(r->clv <= plain && (r->clv > 0 || plain == 0));
            CHECK(r->clv >= plain / pow(1.01, 30));
        }
        xs_clv_free(c);
    }

    /* errors: a holdout that ends on until's day; an until before the data;
     * an until where only four customers came back */
    cfg.discount = 0;
    cfg.has_holdout = 1;
    cfg.holdout_until = DAYS(30) + 100;
    CHECK(xs_clv_compute(ds, NULL, &cfg, &c, &err) == XS_ERR_USAGE);
    CHECK_MSG(strstr(err.msg, "holdout") != NULL, "%s", err.msg);
    cfg.has_holdout = 0;
    cfg.until = DAYS(-1);
    CHECK(xs_clv_compute(ds, NULL, &cfg, &c, &err) == XS_ERR_USAGE);
    xs_dataset_free(ds);
    ds = load_csv("small.csv", store_text(1, 0)); /* no fillers */
    if (!ds)
        return;
    cfg.until = DAYS(12); /* only A has come back */
    CHECK(xs_clv_compute(ds, NULL, &cfg, &c, &err) == XS_ERR_DATA);
    CHECK_MSG(strstr(err.msg, "at least 5") != NULL, "%s", err.msg);
    xs_dataset_free(ds);

    /* no prices: purchases only */
    ds = load_csv("noprice.csv", store_text(0, 1));
    if (!ds)
        return;
    cfg = (xs_clv_config){.has_until = 1, .until = DAYS(30) + 86399,
                          .unit_days = 7, .horizon = 4};
    rc = xs_clv_compute(ds, NULL, &cfg, &c, &err);
    if (CHECK_MSG(rc == XS_OK, "%s", err.msg)) {
        CHECK(!c->monetary && !c->has_gg);
        const xs_clv_row *r = row_of(c, ds, "A");
        if (CHECK(r)) {
            CLOSE(r->in.t_x, 25 / 7.0, 1e-15);
            CLOSE(r->in.T, 30 / 7.0, 1e-15);
            CHECK(isnan(r->in.monetary) && isnan(r->exp_spend));
            CHECK(r->clv == r->expected);
        }
        xs_clv_free(c);
    }
    xs_dataset_free(ds);
}

int main(void)
{
    test_hyp2f1();
    test_bgnbd_by_hand();
    test_gg_by_hand();
    test_extremes();
    test_recover_bgnbd();
    test_recover_gg();
    test_fit_errors();
    test_compute();
    return xt_done();
}
