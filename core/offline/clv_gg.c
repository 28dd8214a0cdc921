/*
 * clv_gg.c -- the Gamma-Gamma model of spend per purchase of one customer
 * (Fader & Hardie, "The Gamma-Gamma Model of Monetary Value", 2013; "FH"
 * below): the log-likelihood of a customer's mean spend and the
 * conditional expectation of its spend per purchase.
 *
 * A customer is (x, m_x): x repeat purchases of mean spend m_x > 0.  Spend
 * per purchase is gamma(p, nu), nu across customers gamma(q, v) (v is the
 * paper's gamma).  In logs throughout; x in the hundreds and spends in the
 * thousands stay far from overflow.
 */
#include <math.h>

#include "offline/clv_int.h"

/* FH eq. 3 (the density of m_x given x, with z_x = x m_x):
 *   f(m_x | p, q, v, x) = Gamma(px+q) / (Gamma(px) Gamma(q))
 *       v^q m_x^(px-1) x^(px) / (v + x m_x)^(px+q). */
double xs_gg_loglik(const xs_gamma_gamma *m, uint32_t x, double monetary)
{
    double p = m->p, q = m->q, v = m->v, xd = x, px = p * xd;
    return lgamma(px + q) - lgamma(px) - lgamma(q) + q * log(v) +
           (px - 1) * log(monetary) + px * log(xd) -
           (px + q) * log(v + xd * monetary);
}

/* FH eq. 5: E(M | p, q, v, m_x, x) = (q-1)/(px+q-1) p v/(q-1)
 *   + px/(px+q-1) m_x = p (v + x m_x) / (px + q - 1); for x = 0 the
 * population mean p v / (q - 1), defined for q > 1 only: NaN otherwise. */
double xs_gg_expected_spend(const xs_gamma_gamma *m, uint32_t x,
                            double monetary)
{
    double xd = x, den = m->p * xd + m->q - 1;
    if (!(den > 0))
        return NAN;
    return m->p * (m->v + (x ? xd * monetary : 0)) / den;
}
