/*
 * dtoa.c -- shortest round-trip decimal text of a double (dtoa.h).
 *
 * The algorithm is Schubfach (Raffaello Giulietti, "The Schubfach way to
 * render doubles", 2020), as the JDK's jdk.internal.math.DoubleToDecimal
 * implements it since Java 19.  v = c 2^q is the midpoint of its rounding
 * interval R = [c - 1/2, c + 1/2] 2^q (halved below at a power of two,
 * closed when c is even, open when odd).  With k = floor(log10(2^q)) (or
 * floor(log10(3/4 2^q)) at a power of two), v 10^-k has 16 or 17 digits
 * left of the point, and one multiplication by the 126-bit g(k) of
 * dtoa_pow10.c gives vb, vbl, vbr: 4 v 10^-k and the interval's ends,
 * rounded to odd ("rop") so that every comparison below is exact.  Then:
 *   - if one multiple of 10 of s = floor(v 10^-k) (s' or s' + 10) lies in
 *     R, the answer has at most 16 digits and it is that one;
 *   - else of s and s + 1, the one in R, or when both are, the closer
 *     (ties to even s).
 * That is the shortest decimal in R and, of the shortest, the closest to
 * v: the paper proves it, and its one multiplication and no loop make it a
 * single pass (no printf, no strtod).  Trailing zeros are then cut.
 *
 * Invariants: g(k) is exact to within one unit of 2^-126 relative, which
 * the paper shows is enough for every double, and the table's k range
 * covers every double.  R is narrower than 10^(k+1), so a decimal shorter
 * than s's is a multiple of 10^(k+1) and one of the two tried.  Where this
 * departs from the JDK it is for subnormals, whose text Java wants with two
 * digits at least: the JDK scales c < 3 by 10 and tries s' only when
 * s >= 100; here nothing is scaled and s' is tried when s >= 10 (s < 10
 * happens for c = 1, 2 only, where s itself has one digit), so
 * 2^-1074 prints as 5e-324 and not 4.9e-324.
 *
 * The layout, xs_dtoa_format, is printf's %.<P>g with P = max(15,
 * digits), so text that the old 15/16/17-digit snprintf + strtod method
 * printed is printed identically, except that this one is shorter where a
 * 16-digit decimal in R was not the correctly rounded 16 digits, and for
 * subnormals (whose 15 digits read back without being the shortest):
 * test_dtoa.c checks exactly that.
 *
 * No state, no allocation; needs a 64x64 -> 128-bit product (unsigned
 * __int128 where the compiler has it, four 32-bit products otherwise or
 * when XS_DTOA_NO_INT128 is defined).
 */
#include <math.h>
#include <string.h>

#include "util/dtoa.h"

#define C_MIN ((uint64_t)1 << 52)
#define Q_MIN (-1074)
#define MASK_63 (((uint64_t)1 << 63) - 1)

/* floor(q log10 2), floor(q log10 2 + log10 3/4), floor(e log2 10) for the
 * ranges used (the JDK's MathUtils); >> of a negative number is
 * arithmetic (floor) with the compilers this builds with. */
static int flog10pow2(int q)
{
    return (int)(((int64_t)q * 661971961083LL) >> 41);
}

static int flog10_three_quarters_pow2(int q)
{
    return (int)(((int64_t)q * 661971961083LL - 274743187321LL) >> 41);
}

static int flog2pow10(int e)
{
    return (int)(((int64_t)e * 913124641741LL) >> 38);
}

/* The high 64 bits of a * b, and *lo the low. */
static uint64_t mul128(uint64_t a, uint64_t b, uint64_t *lo)
{
#if defined(__SIZEOF_INT128__) && !defined(XS_DTOA_NO_INT128)
    unsigned __int128 p = (unsigned __int128)a * b;
    *lo = (uint64_t)p;
    return (uint64_t)(p >> 64);
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = (mid << 32) | (uint32_t)p00;
    return p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

static uint64_t mulhi(uint64_t a, uint64_t b)
{
    uint64_t lo;
    return mul128(a, b, &lo);
}

/* g cp 2^-127 rounded to odd (g = g1 2^63 + g0): the integer part, its
 * lowest bit set when a nonzero fraction was cut. */
static uint64_t rop(uint64_t g1, uint64_t g0, uint64_t cp)
{
    uint64_t x1 = mulhi(g0, cp);
    uint64_t y0, y1 = mul128(g1, cp, &y0);
    uint64_t z = (y0 >> 1) + x1;
    uint64_t vbp = y1 + (z >> 63);
    return vbp | (((z & MASK_63) + MASK_63) >> 63);
}

/* v = c 2^q, c > 0. */
static void to_decimal(int q, uint64_t c, uint64_t *f, int *e)
{
    uint64_t out = c & 1;
    uint64_t cb = c << 2, cbr = cb + 2, cbl;
    int k;
    if (c != C_MIN || q == Q_MIN) {
        cbl = cb - 2;
        k = flog10pow2(q);
    } else {
        cbl = cb - 1;
        k = flog10_three_quarters_pow2(q);
    }
    int h = q + flog2pow10(-k) + 2;
    const uint64_t *g = xs_dtoa_pow10[k - XS_DTOA_K_MIN];
    uint64_t vb = rop(g[0], g[1], cb << h);
    uint64_t vbl = rop(g[0], g[1], cbl << h);
    uint64_t vbr = rop(g[0], g[1], cbr << h);
    uint64_t s = vb >> 2;
    if (s >= 10) { /* the JDK: s >= 100 (Java wants 2 digits) */
        /* s / 10 * 10: the multiplier is ceil(2^64 / 10), exact here */
        uint64_t sp10 = 10 * mulhi(s, 1844674407370955168ULL);
        uint64_t tp10 = sp10 + 10;
        int upin = vbl + out <= sp10 << 2;
        int wpin = (tp10 << 2) + out <= vbr;
        if (upin != wpin) {
            *f = upin ? sp10 : tp10;
            *e = k;
            return;
        }
    }
    uint64_t t = s + 1;
    int uin = vbl + out <= s << 2;
    int win = (t << 2) + out <= vbr;
    if (uin != win) {
        *f = uin ? s : t;
        *e = k;
        return;
    }
    int64_t cmp = (int64_t)(vb - ((s + t) << 1));
    *f = cmp < 0 || (cmp == 0 && (s & 1) == 0) ? s : t;
    *e = k;
}

void xs_dtoa_shortest(double v, uint64_t *f, int *e)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    uint64_t t = bits & (C_MIN - 1);
    int bq = (int)(bits >> 52) & 0x7ff;
    if (bq != 0) {
        int mq = -Q_MIN + 1 - bq; /* -q */
        uint64_t c = C_MIN | t;
        if (0 < mq && mq < 53 && (c >> mq) << mq == c) {
            *f = c >> mq; /* an integer below 2^53: itself */
            *e = 0;
        } else {
            to_decimal(-mq, c, f, e);
        }
    } else {
        to_decimal(Q_MIN, t, f, e);
    }
    while (*f % 10 == 0) { /* at most 16 rounds; f > 0 */
        *f /= 10;
        ++*e;
    }
}

/* The decimal digits of f > 0 written so that they end at end; returns
 * their count.  Two digits at a time, in 32-bit arithmetic below 10^8. */
static int digits_of(uint64_t f, char *end)
{
    static const char pairs[] =
        "0001020304050607080910111213141516171819"
        "2021222324252627282930313233343536373839"
        "4041424344454647484950515253545556575859"
        "6061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char *w = end;
    while (f >= 100000000) { /* eight digits at a time */
        uint32_t lo = (uint32_t)(f % 100000000);
        f /= 100000000;
        for (int i = 0; i < 4; i++) {
            w -= 2;
            memcpy(w, pairs + 2 * (lo % 100), 2);
            lo /= 100;
        }
    }
    uint32_t x = (uint32_t)f;
    while (x >= 100) {
        w -= 2;
        memcpy(w, pairs + 2 * (x % 100), 2);
        x /= 100;
    }
    if (x >= 10) {
        w -= 2;
        memcpy(w, pairs + 2 * x, 2);
    } else {
        *--w = (char)('0' + x);
    }
    return (int)(end - w);
}

size_t xs_dtoa_format(char *out, double v)
{
    if (!isfinite(v)) {
        memcpy(out, "null", 5);
        return 4;
    }
    if (v == 0) {
        memcpy(out, "0", 2);
        return 1;
    }
    char *w = out;
    if (v < 0) {
        *w++ = '-';
        v = -v;
    }
    uint64_t f;
    int e;
    xs_dtoa_shortest(v, &f, &e);
    char dig[24];
    int n = digits_of(f, dig + 24);
    const char *d = dig + 24 - n;
    int x = e + n - 1; /* v = d.ddd 10^x */
    int p = n > 15 ? n : 15;
    if (x < -4 || x >= p) {
        *w++ = d[0];
        if (n > 1) {
            *w++ = '.';
            memcpy(w, d + 1, (size_t)n - 1);
            w += n - 1;
        }
        *w++ = 'e';
        *w++ = x < 0 ? '-' : '+';
        unsigned ax = (unsigned)(x < 0 ? -x : x);
        if (ax >= 100)
            *w++ = (char)('0' + ax / 100);
        *w++ = (char)('0' + ax / 10 % 10);
        *w++ = (char)('0' + ax % 10);
    } else if (x < 0) {
        *w++ = '0';
        *w++ = '.';
        for (int i = -1; i > x; i--)
            *w++ = '0';
        memcpy(w, d, (size_t)n);
        w += n;
    } else if (n <= x + 1) { /* an integer: d then zeros */
        memcpy(w, d, (size_t)n);
        w += n;
        for (int i = n; i <= x; i++)
            *w++ = '0';
    } else {
        memcpy(w, d, (size_t)x + 1);
        w += x + 1;
        *w++ = '.';
        memcpy(w, d + x + 1, (size_t)(n - x - 1));
        w += n - x - 1;
    }
    *w = 0;
    return (size_t)(w - out);
}
