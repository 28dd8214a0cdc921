/*
 * test_dtoa.c -- xs_format_double (util/dtoa.c, Schubfach) against the C
 * library, on about two million doubles: random bit patterns (both signs),
 * uniform values in [0, 1], ratios of counts as rules and scores give them,
 * integers (below and past 2^53), powers of 10 and 2 and their neighbours,
 * random subnormals and the 20,000 smallest, the extremes, and the
 * algorithm's edges (c = 2^52 at every exponent, the one-digit subnormals,
 * the integer fast path's bounds).
 *
 * For each v: the text reads back (strtod) as v exactly; it is the
 * shortest such (no decimal with one digit fewer reads back: the two
 * neighbours of the correctly rounded one are tried, wherever the old
 * text does not already prove it); and it is the old
 * method's text (kept below as old_format: %.15g, %.16g, %.17g until one
 * reads back) except where it is strictly shorter, which happens in the
 * documented cases only: a subnormal (its %.15g reads back without being
 * shortest), or the old text had 17 digits where a 16-digit decimal reads
 * back (the 16-digit one is not the correctly rounded one, so %.16g
 * missed it).  The tally of those differences is printed.
 *
 * Not timed; under AddressSanitizer a quarter of the random values.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/json.h"

#if defined(__SANITIZE_ADDRESS__)
#define SCALE 4
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALE 4
#endif
#endif
#ifndef SCALE
#define SCALE 1
#endif

/* The previous xs_format_double, the reference. */
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

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void) /* splitmix64 */
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static long n_values, n_shorter_sub, n_shorter_17;

/* Significant digits of a %g-style text, and its mantissa digits in d. */
static int digits(const char *s, char *d)
{
    int n = 0, lead = 1;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (lead && *s == '0')
            continue;
        lead = 0;
        d[n++] = *s;
    }
    while (n > 0 && d[n - 1] == '0') /* an integer's trailing zeros */
        n--;
    d[n] = 0;
    return n;
}

/* No decimal of n - 1 significant digits reads back as v. */
static int shortest(double v, int n)
{
    if (n <= 1)
        return 1;
    char buf[64];
    snprintf(buf, sizeof buf, "%.*e", n - 2, fabs(v)); /* n - 1 digits */
    char *e = strchr(buf, 'e');
    int x = atoi(e + 1);
    char d[32];
    int k = 0;
    for (char *p = buf; p < e; p++)
        if (*p != '.')
            d[k++] = *p;
    d[k] = 0;
    long long m = atoll(d);
    for (long long c = m - 1; c <= m + 1; c++) {
        if (c <= 0)
            continue;
        snprintf(buf, sizeof buf, "%llde%d", c, x - (k - 1));
        if (strtod(buf, NULL) == fabs(v))
            return 0;
    }
    return 1;
}

static void one(double v)
{
    char got[40], want[40], dg[32], dw[32];
    n_values++;
    xs_format_double(got, sizeof got, v);
    old_format(want, sizeof want, v);
    if (!isfinite(v)) {
        CHECK_STR(got, "null");
        return;
    }
    double back = strtod(got, NULL);
    if (!CHECK_MSG(back == v && (v != 0 || strcmp(got, "0") == 0),
                   "%a: '%s' reads back as %a", v, got, back))
        return;
    int ng = digits(got, dg), nw = digits(want, dw);
    int same = strcmp(got, want) == 0;
    /* the old text, when it has at most 15 digits and is not subnormal, is
     * the shortest already (15 digits always read back) */
    if (!same || ng > 15 || fabs(v) < DBL_MIN)
        CHECK_MSG(v == 0 || shortest(v, ng), "%a: '%s' is not the shortest",
                  v, got);
    if (same)
        return;
    int sub = fabs(v) < DBL_MIN;
    if (!CHECK_MSG(ng < nw && (sub || nw == 17),
                   "%a: '%s', the old method '%s'", v, got, want))
        return;
    if (sub)
        n_shorter_sub++;
    else
        n_shorter_17++;
}

static void both(double v)
{
    one(v);
    one(-v);
}

static void around(double v, int k) /* v and its k neighbours each side */
{
    double lo = v, hi = v;
    both(v);
    for (int i = 0; i < k; i++) {
        lo = nextafter(lo, 0);
        hi = nextafter(hi, INFINITY);
        both(lo);
        if (isfinite(hi))
            both(hi);
    }
}

/* Exact layouts: the %g style kept. */
static void layout(void)
{
    static const struct { double v; const char *s; } t[] = {
        {0, "0"}, {-0.0, "0"}, {1, "1"}, {-1, "-1"}, {0.1, "0.1"},
        {0.5, "0.5"}, {1.5, "1.5"}, {100, "100"}, {123456, "123456"},
        {1e14, "100000000000000"}, {1e15, "1e+15"}, {1e16, "1e+16"},
        {123456789012345.0, "123456789012345"},
        {1234567890123456.0, "1234567890123456"},
        {12345678901234567.0, "12345678901234568"},
        {1e-4, "0.0001"}, {1.5e-4, "0.00015"}, {1e-5, "1e-05"},
        {1.25e-5, "1.25e-05"}, {0.3, "0.3"}, {0.1 + 0.2, "0.30000000000000004"},
        {1.0 / 3, "0.3333333333333333"}, {2.0 / 3, "0.6666666666666666"},
        {1e23, "1e+23"}, {1e100, "1e+100"}, {1e-100, "1e-100"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {DBL_MIN, "2.2250738585072014e-308"},
        {DBL_TRUE_MIN, "5e-324"}, {-DBL_TRUE_MIN, "-5e-324"},
        {9007199254740993.0, "9007199254740992"},
        {5e-324 * 3, "1.5e-323"}, {0.001234, "0.001234"},
        /* the two kinds of difference from the old method: a power of two
         * whose correctly rounded 16 digits fall outside its (narrower
         * below) interval, old "5.9604644775390625e-08"; a subnormal, old
         * "4.94065645841247e-324" */
        {0x1p-24, "5.960464477539063e-08"}, {0x1p-1074, "5e-324"},
    };
    for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
        char buf[40];
        xs_format_double(buf, sizeof buf, t[i].v);
        CHECK_MSG(strcmp(buf, t[i].s) == 0, "%a: got '%s', want '%s'",
                  t[i].v, buf, t[i].s);
    }
    char buf[40];
    xs_format_double(buf, sizeof buf, NAN);
    CHECK_STR(buf, "null");
    xs_format_double(buf, sizeof buf, -INFINITY);
    CHECK_STR(buf, "null");
    xs_format_double(buf, 5, 0.123456); /* cut as snprintf cuts */
    CHECK_STR(buf, "0.12");
    xs_format_double(buf, 1, 0.5);
    CHECK_STR(buf, "");
}

int main(void)
{
    layout();
    long n = 300000 / SCALE;
    for (long i = 0; i < n; i++) { /* random bit patterns, both signs */
        double v = from_bits(next());
        if (isfinite(v))
            one(v);
    }
    for (long i = 0; i < n; i++) /* uniform in [0, 1] */
        one((double)(next() >> 11) / 9007199254740992.0);
    for (long i = 0; i < n / 4; i++) { /* rule values: counts over counts */
        uint64_t r = next();
        double nt = (double)(1 + (r & 0xfffff));
        double c = (double)(1 + (r >> 20 & 0xffff));
        double a = c + (double)(r >> 36 & 0xffff), b = c + (double)(r >> 52);
        one(c / nt);
        one(c / a);
        one(c * nt / (a * b));
        one((double)(next() >> 11) / 9007199254740992.0 * 1000);
    }
    for (long i = 0; i < n / 4; i++) { /* integers */
        one((double)(next() >> 11)); /* below 2^53 */
        one((double)(next() % 100000));
        one((double)(next() >> 1)); /* up to 2^63 */
        one(ldexp((double)(next() >> 11), (int)(next() % 200)));
    }
    for (long i = 0; i < n / 4; i++) /* subnormals */
        one(from_bits(next() >> 12));
    for (uint64_t t = 1; t <= 20000; t++) /* the smallest, each */
        both(from_bits(t));
    for (int e = -1074; e <= 1023; e++) /* powers of 2: c = 2^52 */
        around(ldexp(1, e), 3);
    for (int k = -325; k <= 308; k++) { /* powers of 10 */
        char buf[16];
        snprintf(buf, sizeof buf, "1e%d", k);
        around(strtod(buf, NULL), 3);
    }
    around(DBL_MAX, 8);
    around(DBL_MIN, 8);
    around(9007199254740992.0, 8); /* 2^53: the integer fast path's end */
    around(4503599627370496.0, 8); /* 2^52 */
    one(INFINITY);
    one(NAN);
    printf("%ld values; shorter than the old method: %ld subnormals, %ld "
           "where it took 17 digits\n",
           n_values, n_shorter_sub, n_shorter_17);
    return xt_done();
}
