/*
 * bench_format.c -- ns per number of xs_format_double (util/dtoa.c, one
 * pass) against the method it replaced (kept here as old_format: %.15g,
 * %.16g, %.17g, each followed by strtod, until one reads back) and a bare
 * snprintf("%.17g") (one call, not the shortest), on the same arrays of
 * doubles, interleaved within each run so that all three see the same
 * machine noise.
 *
 *   bench_format [--runs R] [--n N]     (defaults: 7, 1000000)
 *
 * Sets: "rules" (support, confidence, lift of random counts, what `xsell
 * rules` prints), "unit" (uniform in [0, 1], scores), "bits" (random
 * finite bit patterns), "ints" (integers below 10^6).  One JSON line per
 * run and set, then '#' lines: the medians and the old/new ratio.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xsell/json.h"

static void old_format(char *buf, size_t len, double v)
{
    if (!isfinite(v)) {
        snprintf(buf, len, "null");
        return;
    }
    if (v == 0) {
        snprintf(buf, len, "0");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, len, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

static void new_format(char *buf, size_t len, double v)
{
    xs_format_double(buf, len, v);
}

static void g17(char *buf, size_t len, double v)
{
    snprintf(buf, len, "%.17g", v);
}

static uint64_t state = 42;

static uint64_t next(void) /* splitmix64 */
{
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

typedef void (*fmt_fn)(char *, size_t, double);

static double run(fmt_fn f, const double *v, size_t n, size_t *bytes)
{
    char buf[40];
    size_t b = 0;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        f(buf, sizeof buf, v[i]);
        b += strlen(buf);
    }
    double t = now() - t0;
    *bytes = b;
    return t * 1e9 / (double)n;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *x, int n)
{
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    int runs = 7;
    size_t n = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--n"))
            n = (size_t)atol(argv[i + 1]);
    }
    if (runs < 1 || runs > 99 || n < 1) {
        fprintf(stderr, "usage: bench_format [--runs R] [--n N]\n");
        return 2;
    }
    static const char *const sets[] = {"rules", "unit", "bits", "ints"};
    static const char *const impl[] = {"old", "new", "g17"};
    static const fmt_fn fns[] = {old_format, new_format, g17};
    double *v = malloc(n * sizeof *v);
    double ns[4][3][99];
    size_t bytes[4][3];
    if (!v)
        return 1;
    for (int s = 0; s < 4; s++) {
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next();
            double c = (double)(1 + (r & 0xfff)), nt = 9835;
            double a = c + (double)(r >> 12 & 0xfff), b = c + (double)(r >> 24 & 0xfff);
            switch (s) {
            case 0:
                v[i] = i % 3 == 0 ? c / nt : i % 3 == 1 ? c / a
                                                         : c * nt / (a * b);
                break;
            case 1: v[i] = (double)(r >> 11) / 9007199254740992.0; break;
            case 2:
                memcpy(&v[i], &r, sizeof r);
                while (!isfinite(v[i])) {
                    r = next();
                    memcpy(&v[i], &r, sizeof r);
                }
                break;
            default: v[i] = (double)(r % 1000000); break;
            }
        }
        for (int k = 0; k < runs; k++) {
            for (int m = 0; m < 3; m++) { /* rotate who goes first */
                int j = (m + k) % 3;
                ns[s][j][k] = run(fns[j], v, n, &bytes[s][j]);
                printf("{\"set\":\"%s\",\"impl\":\"%s\",\"run\":%d,"
                       "\"ns_per_number\":%.2f,\"bytes\":%zu}\n",
                       sets[s], impl[j], k, ns[s][j][k], bytes[s][j]);
            }
        }
    }
    printf("# %d runs of %zu numbers each; medians, ns per number\n", runs, n);
    printf("# set    old      new      %%.17g    old/new  %%.17g/new  "
           "bytes old/new\n");
    for (int s = 0; s < 4; s++) {
        double mo = median(ns[s][0], runs), mn = median(ns[s][1], runs);
        double mg = median(ns[s][2], runs);
        printf("# %-6s %-8.1f %-8.1f %-8.1f %-8.2f %-10.2f %.4f\n", sets[s],
               mo, mn, mg, mo / mn, mg / mn,
               (double)bytes[s][0] / (double)bytes[s][1]);
    }
    free(v);
    return 0;
}
