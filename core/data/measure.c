/*
 * measure.c -- similarity measures from co-occurrence counts (measure.h).
 *
 * The arithmetic is xs_measure_value in xsell/plugin.h (inline, shared with
 * plugins); this file names the measures and gives the host its entry
 * points.  All of it is in double from 64-bit counts: no product overflows.
 */
#include <math.h>
#include <string.h>

#include "xsell/measure.h"

static const char *const measure_names[XS_MEASURE_COUNT_OF] = {
    "count", "confidence", "lift", "jaccard", "cosine", "llr"};

double xs_llr(uint64_t k11, uint64_t k12, uint64_t k21, uint64_t k22)
{
    return xs_llr_value(k11, k12, k21, k22);
}

double xs_measure(int measure, uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                  uint64_t n)
{
    return xs_measure_value(measure, n_ab, n_a, n_b, n);
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
