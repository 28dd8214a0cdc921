/*
 * clv_optim.c -- the optimizer the CLV fits share: unconstrained
 * minimisation of a smooth function of a few variables (the models' log
 * parameters), robust from a poor start and converged tightly at the end.
 *
 * Two stages.  Nelder-Mead (Lagarias et al.'s standard coefficients) walks
 * from the start to the basin without derivatives and without trusting
 * the function outside its domain (+inf there is simply a bad vertex).
 * BFGS then converges: central-difference gradients (step 1e-5 relative),
 * the inverse-Hessian update, and a backtracking line search that accepts
 * the Armijo condition.  BFGS stops at |g|_inf <= GGOAL, or when the
 * function stops decreasing above its rounding; convergence is then judged
 * by the gradient alone, |g|_inf <= GTOL on the caller's (per-customer
 * mean) scale, not by a stalled step, so a flat ridge running to infinity
 * is reported as not converged and the caller can name the parameter that
 * ran away.
 *
 * No allocation: dim <= MAXD, everything on the stack.
 */
#include <math.h>
#include <string.h>

#include "offline/clv_int.h"

#define MAXD 8
#define NM_MAX_ITER 1500
#define BFGS_MAX_ITER 300
#define GTOL 1e-6   /* converged */
#define GGOAL 1e-9  /* where BFGS stops when it can */

static void gradient(clv_objective f, void *ctx, int d, const double *x,
                     double *g)
{
    double y[MAXD];
    memcpy(y, x, (size_t)d * sizeof *y);
    for (int i = 0; i < d; i++) {
        double h = 1e-5 * (1 + fabs(x[i]));
        y[i] = x[i] + h;
        double fp = f(y, ctx);
        y[i] = x[i] - h;
        double fm = f(y, ctx);
        y[i] = x[i];
        g[i] = isfinite(fp) && isfinite(fm) ? (fp - fm) / (2 * h) : NAN;
    }
}

static double gmax(int d, const double *g)
{
    double m = 0;
    for (int i = 0; i < d; i++) {
        if (isnan(g[i]))
            return INFINITY;
        if (fabs(g[i]) > m)
            m = fabs(g[i]);
    }
    return m;
}

static int nelder_mead(clv_objective f, void *ctx, int d, double *x0)
{
    double s[MAXD + 1][MAXD], fv[MAXD + 1];
    for (int i = 0; i <= d; i++) {
        memcpy(s[i], x0, (size_t)d * sizeof(double));
        if (i > 0)
            s[i][i - 1] += 0.5;
        fv[i] = f(s[i], ctx);
    }
    int it;
    for (it = 0; it < NM_MAX_ITER; it++) {
        /* order: best at 0, worst at d (insertion sort, d is tiny) */
        for (int i = 1; i <= d; i++)
            for (int j = i; j > 0 && !(fv[j - 1] <= fv[j]); j--) {
                double t = fv[j];
                fv[j] = fv[j - 1];
                fv[j - 1] = t;
                double tmp[MAXD];
                memcpy(tmp, s[j], sizeof tmp);
                memcpy(s[j], s[j - 1], sizeof tmp);
                memcpy(s[j - 1], tmp, sizeof tmp);
            }
        double size = 0;
        for (int i = 1; i <= d; i++)
            for (int k = 0; k < d; k++)
                size = fmax(size, fabs(s[i][k] - s[0][k]));
        /* near is enough: BFGS converges from here */
        if (isfinite(fv[d]) && fv[d] - fv[0] <= 1e-10 * (1 + fabs(fv[0])) &&
            size < 1e-3)
            break;
        double c[MAXD] = {0}, xr[MAXD], xe[MAXD], xc[MAXD];
        for (int i = 0; i < d; i++)
            for (int k = 0; k < d; k++)
                c[k] += s[i][k] / d;
        for (int k = 0; k < d; k++)
            xr[k] = c[k] + (c[k] - s[d][k]);
        double fr = f(xr, ctx);
        if (fr < fv[0]) {
            for (int k = 0; k < d; k++)
                xe[k] = c[k] + 2 * (c[k] - s[d][k]);
            double fe = f(xe, ctx);
            if (fe < fr) {
                memcpy(s[d], xe, (size_t)d * sizeof(double));
                fv[d] = fe;
            } else {
                memcpy(s[d], xr, (size_t)d * sizeof(double));
                fv[d] = fr;
            }
            continue;
        }
        if (fr < fv[d - 1]) {
            memcpy(s[d], xr, (size_t)d * sizeof(double));
            fv[d] = fr;
            continue;
        }
        int outside = fr < fv[d];
        for (int k = 0; k < d; k++)
            xc[k] = outside ? c[k] + 0.5 * (xr[k] - c[k])
                            : c[k] + 0.5 * (s[d][k] - c[k]);
        double fc = f(xc, ctx);
        if (fc < (outside ? fr : fv[d])) {
            memcpy(s[d], xc, (size_t)d * sizeof(double));
            fv[d] = fc;
            continue;
        }
        for (int i = 1; i <= d; i++) { /* shrink towards the best */
            for (int k = 0; k < d; k++)
                s[i][k] = s[0][k] + 0.5 * (s[i][k] - s[0][k]);
            fv[i] = f(s[i], ctx);
        }
    }
    int best = 0;
    for (int i = 1; i <= d; i++)
        if (fv[i] < fv[best])
            best = i;
    memcpy(x0, s[best], (size_t)d * sizeof(double));
    return it;
}

static int bfgs(clv_objective f, void *ctx, int d, double *x, double *g,
                int *iters)
{
    double H[MAXD][MAXD], gn[MAXD], xn[MAXD], p[MAXD], sv[MAXD], yv[MAXD];
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++)
            H[i][j] = i == j;
    double fx = f(x, ctx);
    gradient(f, ctx, d, x, g);
    int it, stalled = 0;
    for (it = 0; it < BFGS_MAX_ITER && isfinite(fx); it++) {
        if (gmax(d, g) <= GGOAL)
            break;
        double slope = 0;
        for (int i = 0; i < d; i++) {
            p[i] = 0;
            for (int j = 0; j < d; j++)
                p[i] -= H[i][j] * g[j];
            slope += p[i] * g[i];
        }
        if (!(slope < 0)) { /* not a descent direction: restart */
            for (int i = 0; i < d; i++) {
                for (int j = 0; j < d; j++)
                    H[i][j] = i == j;
                p[i] = -g[i];
            }
            slope = 0;
            for (int i = 0; i < d; i++)
                slope += p[i] * g[i];
        }
        double step = 1, fn = INFINITY;
        /* no step longer than 5 in any log parameter */
        double pm = 0;
        for (int i = 0; i < d; i++)
            pm = fmax(pm, fabs(p[i]));
        if (pm > 5)
            step = 5 / pm;
        int k;
        for (k = 0; k < 60; k++, step *= 0.5) {
            for (int i = 0; i < d; i++)
                xn[i] = x[i] + step * p[i];
            fn = f(xn, ctx);
            if (isfinite(fn) && fn <= fx + 1e-4 * step * slope)
                break;
        }
        if (k == 60) /* no decrease left at this precision */
            break;
        /* decreases at the rounding level of f are noise: three in a row
         * end the search */
        stalled = fx - fn <= 1e-14 * fabs(fx) ? stalled + 1 : 0;
        if (stalled == 3)
            break;
        gradient(f, ctx, d, xn, gn);
        if (gmax(d, gn) == INFINITY)
            break;
        double sy = 0;
        for (int i = 0; i < d; i++) {
            sv[i] = xn[i] - x[i];
            yv[i] = gn[i] - g[i];
            sy += sv[i] * yv[i];
        }
        memcpy(x, xn, (size_t)d * sizeof *x);
        memcpy(g, gn, (size_t)d * sizeof *g);
        fx = fn;
        if (sy <= 1e-300)
            continue;
        double Hy[MAXD], yHy = 0;
        for (int i = 0; i < d; i++) {
            Hy[i] = 0;
            for (int j = 0; j < d; j++)
                Hy[i] += H[i][j] * yv[j];
            yHy += yv[i] * Hy[i];
        }
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                H[i][j] += (sy + yHy) * sv[i] * sv[j] / (sy * sy) -
                           (Hy[i] * sv[j] + sv[i] * Hy[j]) / sy;
    }
    *iters += it;
    return gmax(d, g) <= GTOL ? 0 : -1;
}

int clv_minimize(clv_objective f, void *ctx, int dim, double *theta,
                 int *iterations, double *grad)
{
    if (dim < 1 || dim > MAXD)
        return -1;
    *iterations = nelder_mead(f, ctx, dim, theta);
    return bfgs(f, ctx, dim, theta, grad, iterations);
}
