/*
 * util/dtoa.h -- shortest round-trip decimal text of a double (dtoa.c).
 */
#ifndef XS_UTIL_DTOA_H
#define XS_UTIL_DTOA_H

#include <stddef.h>
#include <stdint.h>

/* The decimal exponents of dtoa_pow10.c's table. */
#define XS_DTOA_K_MIN (-324)
#define XS_DTOA_K_MAX 292

/* The most bytes xs_dtoa_format writes, the NUL included. */
#define XS_DTOA_BUF 32

/* g(k) for k in [XS_DTOA_K_MIN, XS_DTOA_K_MAX] as {high 63 bits, low 63
 * bits} (generated; see dtoa_pow10.c). */
extern const uint64_t xs_dtoa_pow10[XS_DTOA_K_MAX - XS_DTOA_K_MIN + 1][2];

/* For a finite v > 0: the decimal f * 10^e with the fewest significant
 * digits that reads back as v (round to nearest, ties to even), and of
 * those the closest to v; f has no trailing zero and at most 17 digits. */
void xs_dtoa_shortest(double v, uint64_t *f, int *e);

/* v as text into out (XS_DTOA_BUF bytes), NUL terminated; returns its
 * length.  The layout is printf's %.<P>g with P = max(15, digits), the
 * digits being xs_dtoa_shortest's: plain decimal for a decimal exponent X
 * with -4 <= X < P, else d.ddde+XX (two exponent digits at least); "null"
 * for NaN and infinities, "0" for both zeros. */
size_t xs_dtoa_format(char *out, double v);

#endif
