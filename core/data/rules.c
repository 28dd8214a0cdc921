/*
 * rules.c -- pairwise association rules (xsell/rules.h).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/rules.h"

int xs_rule_sort_parse(const char *name)
{
    static const char *const names[] = {"lift", "confidence", "support",
                                        "count", "name"};
    for (int i = 0; i < 5; i++)
        if (!strcmp(name, names[i]))
            return i;
    return -1;
}

static int by_name(const xs_dict *d, const xs_rule *a, const xs_rule *b)
{
    int c = strcmp(xs_dict_name(d, a->lhs), xs_dict_name(d, b->lhs));
    return c ? c : strcmp(xs_dict_name(d, a->rhs), xs_dict_name(d, b->rhs));
}

static double sort_key(const xs_rule *r, int key)
{
    switch (key) {
    case XS_RULES_BY_LIFT: return r->lift;
    case XS_RULES_BY_CONFIDENCE: return r->confidence;
    case XS_RULES_BY_SUPPORT:
    case XS_RULES_BY_COUNT: return r->count;
    default: return 0;
    }
}

/* Bottom-up merge sort: qsort has no context for the name tie-break. */
static int sort_rules(xs_rule *r, size_t n, int key, const xs_dict *d)
{
    if (n < 2)
        return 0;
    xs_rule *tmp = malloc(n * sizeof *tmp);
    if (!tmp)
        return -1;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                double ka = sort_key(&r[i], key), kb = sort_key(&r[j], key);
                int take_b = kb > ka || (kb == ka && by_name(d, &r[j], &r[i]) < 0);
                tmp[k++] = take_b ? r[j++] : r[i++];
            }
            while (i < mid)
                tmp[k++] = r[i++];
            while (j < hi)
                tmp[k++] = r[j++];
        }
        memcpy(r, tmp, n * sizeof *r);
    }
    free(tmp);
    return 0;
}

int xs_rules_find(const xs_cooc *c, const xs_dict *names, double min_support,
                  double min_confidence, int sort, xs_rule **out, size_t *n,
                  xs_error *err)
{
    *out = NULL;
    *n = 0;
    if (!(min_support >= 0 && min_support <= 1) ||
        !(min_confidence >= 0 && min_confidence <= 1))
        return xs_error_set(err, XS_ERR_USAGE,
                            "support and confidence must be in [0, 1]");
    uint64_t n_txns = xs_cooc_transactions(c);
    double abs = ceil(min_support * (double)n_txns * (1 - DBL_EPSILON));
    uint32_t min_count = abs < 1 ? 1 : abs > UINT32_MAX ? UINT32_MAX
                                                         : (uint32_t)abs;
    xs_rule *rules = NULL;
    size_t n_rules = 0, cap = 0;
    uint32_t n_items = xs_dict_size(names);
    for (uint32_t a = 0; a < n_items; a++) {
        xs_row row;
        if (!xs_cooc_row(c, a, &row))
            continue;
        for (uint32_t i = 0; i < row.n; i++) {
            uint32_t cnt = row.cnt[i];
            if (cnt < min_count)
                continue;
            double conf = (double)cnt / row.support;
            if (conf < min_confidence - 1e-12)
                continue;
            if (n_rules == cap) {
                cap = cap ? cap * 2 : 1024;
                xs_rule *nr = realloc(rules, cap * sizeof *nr);
                if (!nr) {
                    free(rules);
                    return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
                }
                rules = nr;
            }
            uint32_t b = row.nbr[i];
            xs_rule *r = &rules[n_rules++];
            r->lhs = a;
            r->rhs = b;
            r->count = cnt;
            r->support = (double)cnt / (double)n_txns;
            r->confidence = conf;
            r->lift = (double)cnt * (double)n_txns /
                      ((double)row.support * xs_cooc_support(c, b));
        }
    }
    if (sort_rules(rules, n_rules, sort, names)) {
        free(rules);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    *out = rules;
    *n = n_rules;
    return XS_OK;
}
