/*
 * xsell/measure.h -- similarity measures from co-occurrence counts.
 *
 * For the rule a -> b over n transactions, n_a holding a, n_b holding b and
 * n_ab holding both:
 *   count       n_ab
 *   confidence  n_ab / n_a                       (arules' confidence)
 *   lift        n_ab * n / (n_a * n_b)           (arules' lift)
 *   jaccard     n_ab / (n_a + n_b - n_ab)
 *   cosine      n_ab / sqrt(n_a * n_b)
 *   llr         Dunning's log-likelihood ratio G^2 of the 2x2 table
 *               k11 = n_ab, k12 = n_a - n_ab, k21 = n_b - n_ab,
 *               k22 = n - n_a - n_b + n_ab, computed as Mahout does
 *               (2 * (H_rows + H_cols - H_matrix) with unnormalised entropy).
 *   support     n_ab / n                         (arules' support)
 * Degenerate inputs (zero denominators) give 0.
 */
#ifndef XSELL_MEASURE_H
#define XSELL_MEASURE_H

#include <stdint.h>

#include "api.h"
#include "plugin.h"

XS_API double xs_measure(int measure, uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                         uint64_t n);
/* Measure id of name ("lift", ...), or -1. */
XS_API int xs_measure_parse(const char *name);
/* Name of a measure id, or NULL. */
XS_API const char *xs_measure_name(int measure);
/* Dunning's LLR of a 2x2 contingency table (Mahout's logLikelihoodRatio). */
XS_API double xs_llr(uint64_t k11, uint64_t k12, uint64_t k21, uint64_t k22);

#endif
