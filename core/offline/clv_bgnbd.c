/*
 * clv_bgnbd.c -- the BG/NBD model of one customer (Fader, Hardie & Lee,
 * "Counting your customers the easy way: an alternative to the Pareto/NBD
 * model", Marketing Science 24(2), 2005; "FHL" below): its log-likelihood,
 * P(alive) and the conditional expectation of purchases.
 *
 * A customer is (x, t_x, T): x repeat purchases, the last at t_x, observed
 * up to T.  Parameters r, alpha (the gamma mixing of purchase rates) and
 * a, b (the beta mixing of the dropout probability), all > 0.
 *
 * Everything is in logs where the paper has products of powers: with
 * hundreds of purchases (alpha + T)^(r + x) overflows a double long before
 * the ratios it is part of do.  No function here returns NaN or infinity
 * for finite positive parameters and 0 <= t_x <= T.
 */
#include <math.h>

#include "offline/clv_int.h"

/* log(e^u + e^v) */
static double log_add(double u, double v)
{
    double hi = u > v ? u : v, lo = u > v ? v : u;
    return hi + log1p(exp(lo - hi));
}

/* FHL eq. 6: L = B(a, b+x)/B(a, b) Gamma(r+x) alpha^r / (Gamma(r)
 * (alpha+T)^(r+x)) + [x > 0] B(a+1, b+x-1)/B(a, b) Gamma(r+x) alpha^r /
 * (Gamma(r) (alpha+t_x)^(r+x)), in logs: the common factor
 * Gamma(r+x) alpha^r / Gamma(r) x B(a, b+x)/B(a, b), then the two terms
 * (B(a+1, b+x-1) / B(a, b+x) = a / (b+x-1)). */
double xs_bgnbd_loglik(const xs_bgnbd *m, uint32_t x, double t_x, double T)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b, xd = x;
    double a1 = lgamma(r + xd) - lgamma(r) + r * log(al);
    double a2 = lgamma(a + b) + lgamma(b + xd) - lgamma(b) -
                lgamma(a + b + xd);
    double a3 = -(r + xd) * log(al + T);
    if (x == 0)
        return a1 + a2 + a3;
    double a4 = log(a) - log(b + xd - 1) - (r + xd) * log(al + t_x);
    return a1 + a2 + log_add(a3, a4);
}

/* log of the odds of having dropped out, [x > 0] a/(b+x-1) ((alpha+T) /
 * (alpha+t_x))^(r+x): FHL's P(alive) note, eq. 2, is 1 / (1 + that). */
static double log_dead_odds(const xs_bgnbd *m, uint32_t x, double t_x,
                            double T)
{
    double xd = x;
    return log(m->a) - log(m->b + xd - 1) +
           (m->r + xd) * log1p((T - t_x) / (m->alpha + t_x));
}

double xs_bgnbd_p_alive(const xs_bgnbd *m, uint32_t x, double t_x, double T)
{
    if (x == 0)
        return 1.0;
    double l = log_dead_odds(m, x, t_x, T);
    if (l > 0) {
        double e = exp(-l);
        return e / (1 + e);
    }
    return 1 / (1 + exp(l));
}

/* FHL eq. 10:
 *   E[Y(t) | x, t_x, T] = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
 *       2F1(r+x, b+x; a+b+x-1; z)] / (1 + [x > 0] a/(b+x-1)
 *       ((alpha+T)/(alpha+t_x))^(r+x)),   z = t / (alpha+T+t).
 * The denominator is 1 / P(alive).  Euler's transformation makes the
 * bracket 1 - G with G = (1-z)^(a-1) F, F = 2F1(a+b-1-r, a-1; a+b+x-1; z),
 * whose parameters do not grow with x.  Near a = 1 both 1 - G and a - 1
 * vanish; with F = 1 + (a-1) H (H = clv_hyp2f1_tail) and
 * u = log(1-z) + log(1 + (a-1) H)/(a-1), log G = (a-1) u and
 *   (1 - G)/(a-1) = -u expm1((a-1) u) / ((a-1) u),
 * which is smooth through a = 1 (the limit is -u, u -> log(1-z) + H). */
int xs_bgnbd_expected(const xs_bgnbd *m, double t, uint32_t x, double t_x,
                      double T, double *out)
{
    double r = m->r, al = m->alpha, a = m->a, b = m->b, xd = x;
    double p_alive = xs_bgnbd_p_alive(m, x, t_x, T);
    if (!(t > 0)) {
        *out = 0;
        return 0;
    }
    double z = t / (al + T + t), am1 = a - 1, h;
    int rc = clv_hyp2f1_tail(a + b - 1 - r, am1, a + b + xd - 1, z, 0, &h);
    double q = NAN; /* (1 - G) / (a - 1) */
    if (!rc) {
        double w = am1 * h, u;
        if (w > -1) {
            u = log1p(-z) + (w != 0 ? log1p(w) / am1 : h);
            double y = am1 * u;
            q = -u * (y != 0 ? expm1(y) / y : 1.0);
        } else { /* F <= 0: no log; the plain form */
            q = (1 - pow(1 - z, am1) * (1 + w)) / am1;
        }
    }
    double e = (a + b + xd - 1) * q * p_alive;
    if (rc || !isfinite(e) || e < 0) {
        /* The series gave no usable sum: the alive customer's expected
         * rate, (r+x)/(alpha+T) per unit, over t, bounds the expectation
         * from above; it is what the caller gets, flagged. */
        *out = p_alive * t * (r + xd) / (al + T);
        return -1;
    }
    *out = e;
    return 0;
}
