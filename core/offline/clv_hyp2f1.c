/*
 * clv_hyp2f1.c -- the Gauss hypergeometric function 2F1(a, b; c; z) on
 * 0 <= z < 1, as BG/NBD needs it (Fader, Hardie & Lee 2005, eq. 10).
 *
 * The power series sum_k (a)_k (b)_k / ((c)_k k!) z^k, each term from the
 * last by the ratio (a+k)(b+k) z / ((c+k)(k+1)).  It converges for every
 * z < 1, but the terms may grow for a while before they fall (while
 * (a+k)(b+k) > (c+k)(k+1)/z), so the sum stops only when a term no longer
 * changes it AND the next ratio is below 1: from there on the terms fall.
 * A term that is exactly 0 (a or b a non-positive integer) ends a
 * terminating series.  The guard is a term limit; past it, or on overflow,
 * the caller gets -1 and the partial sum and decides what to do.
 *
 * The callers keep the parameters small: clv_bgnbd.c applies Euler's
 * transformation 2F1(a,b;c;z) = (1-z)^(c-a-b) 2F1(c-a,c-b;c;z) first, which
 * turns BG/NBD's (r+x, b+x; a+b+x-1) into (a+b-1-r, a-1; a+b+x-1), whose
 * series converges in a few terms however many purchases x counts.
 */
#include <math.h>

#include "offline/clv_int.h"

#define DEFAULT_TERMS 1000000u

/* sum_{k>=1} t_k with t_1 = first, t_{k+1} = t_k (a+k)(b+k) z /
 * ((c+k)(k+1)). */
static int series(double first, double a, double b, double c, double z,
                  unsigned max_terms, double *out)
{
    if (!max_terms)
        max_terms = DEFAULT_TERMS;
    double term = first, sum = first;
    for (unsigned k = 1; k < max_terms; k++) {
        if (term == 0) {
            *out = sum;
            return 0;
        }
        double ratio = (a + k) * (b + k) * z / ((c + k) * (k + 1));
        term *= ratio;
        double next = sum + term;
        if (!isfinite(next)) {
            *out = sum;
            return -1;
        }
        int settled = next == sum || fabs(term) <= 1e-17 * fabs(next);
        sum = next;
        if (settled && fabs((a + k + 1) * (b + k + 1) * z) <
                           fabs((c + k + 1) * (k + 2)))
        {
            *out = sum;
            return 0;
        }
    }
    *out = sum;
    return -1;
}

int xs_hyp2f1(double a, double b, double c, double z, unsigned max_terms,
              double *out)
{
    if (!(z >= 0 && z < 1) || !isfinite(c) || (c <= 0 && c == floor(c)) ||
        !isfinite(a) || !isfinite(b)) {
        *out = NAN;
        return -1;
    }
    double s;
    int rc = series(a * b * z / c, a, b, c, z, max_terms, &s);
    *out = 1 + s;
    return rc;
}

int clv_hyp2f1_tail(double a, double b, double c, double z,
                    unsigned max_terms, double *out)
{
    /* (F - 1) / b = sum_{k>=1} (a)_k (b+1)_{k-1} / ((c)_k k!) z^k: the
     * same ratios as F's series, b's Pochhammer shifted by one. */
    if (!(z >= 0 && z < 1) || !isfinite(c) || (c <= 0 && c == floor(c)) ||
        !isfinite(a) || !isfinite(b)) {
        *out = 0;
        return -1;
    }
    return series(a * z / c, a, b, c, z, max_terms, out);
}
