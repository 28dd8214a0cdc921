/*
 * xsell/rules.h -- pairwise association rules from a co-occurrence table.
 *
 * Every rule a -> b (one item each side) with support >= S and confidence
 * >= C, valued as arules' apriori does for rules of length 2: support =
 * n_ab / N, confidence = n_ab / n_a, lift = n_ab N / (n_a n_b).  Thresholds
 * as arules: the pair count must reach ceil(S N (1 - DBL_EPSILON)) and the
 * confidence C - 1e-12.
 */
#ifndef XSELL_RULES_H
#define XSELL_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "cooc.h"
#include "dict.h"
#include "error.h"

typedef struct xs_rule {
    uint32_t lhs, rhs, count;
    double support, confidence, lift;
} xs_rule;

enum xs_rule_sort {
    XS_RULES_BY_LIFT = 0,
    XS_RULES_BY_CONFIDENCE,
    XS_RULES_BY_SUPPORT,
    XS_RULES_BY_COUNT,
    XS_RULES_BY_NAME
};

/* Sort key of a name ("lift", ...), or -1. */
XS_API int xs_rule_sort_parse(const char *name);

/* Finds the rules of table c, sorted by key (descending; ties and
 * XS_RULES_BY_NAME by lhs then rhs name from `names`).  On XS_OK *out is a
 * malloc'd array of *n rules owned by the caller. */
XS_API int xs_rules_find(const xs_cooc *c, const xs_dict *names,
                         double min_support, double min_confidence, int sort,
                         xs_rule **out, size_t *n, xs_error *err);

#endif
