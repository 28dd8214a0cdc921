/*
 * measure.c -- similarity measures from co-occurrence counts (measure.h).
 *
 * All arithmetic is in double from 64-bit counts, so no product overflows.
 */
#include <math.h>
#include <string.h>

#include "xsell/measure.h"

static const char *const measure_names[XS_MEASURE_COUNT_OF] = {
    "count", "confidence", "lift", "jaccard", "cosine", "llr"};

static double xlogx(uint64_t x)
{
    return x == 0 ? 0.0 : (double)x * log((double)x);
}

/* Unnormalised Shannon entropy, as Mahout's LogLikelihood.entropy(). */
static double entropy4(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    return xlogx(a + b + c + d) - xlogx(a) - xlogx(b) - xlogx(c) - xlogx(d);
}

double xs_llr(uint64_t k11, uint64_t k12, uint64_t k21, uint64_t k22)
{
    double row = entropy4(k11 + k12, k21 + k22, 0, 0);
    double col = entropy4(k11 + k21, k12 + k22, 0, 0);
    double mat = entropy4(k11, k12, k21, k22);
    if (row + col < mat) /* round-off */
        return 0.0;
    return 2.0 * (row + col - mat);
}

double xs_measure(int measure, uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                  uint64_t n)
{
    double ab = (double)n_ab, a = (double)n_a, b = (double)n_b;
    switch (measure) {
    case XS_MEASURE_COUNT:
        return ab;
    case XS_MEASURE_CONFIDENCE:
        return n_a ? ab / a : 0.0;
    case XS_MEASURE_LIFT:
        return n_a && n_b ? ab * (double)n / (a * b) : 0.0;
    case XS_MEASURE_JACCARD:
        return n_a + n_b > n_ab ? ab / (a + b - ab) : 0.0;
    case XS_MEASURE_COSINE:
        return n_a && n_b ? ab / sqrt(a * b) : 0.0;
    case XS_MEASURE_LLR:
        if (n_ab > n_a || n_ab > n_b || n_a + n_b - n_ab > n)
            return 0.0; /* inconsistent counts */
        return xs_llr(n_ab, n_a - n_ab, n_b - n_ab, n - n_a - n_b + n_ab);
    default:
        return 0.0;
    }
}

int xs_measure_parse(const char *name)
{
    for (int i = 0; name && i < XS_MEASURE_COUNT_OF; i++)
        if (!strcmp(name, measure_names[i]))
            return i;
    return -1;
}

const char *xs_measure_name(int measure)
{
    return measure >= 0 && measure < XS_MEASURE_COUNT_OF
               ? measure_names[measure]
               : NULL;
}
