/*
 * xsell/itemsets.h -- association rules over frequent itemsets.
 *
 * Every rule L -> r with 1 <= |L| <= max_len - 1 and r not in L whose
 * itemset X = L + {r} is frequent, valued as arules' apriori(minlen = 2,
 * maxlen = max_len) does: count = n_X, support = n_X / N, confidence =
 * n_X / n_L, lift = n_X N / (n_L n_r).  Thresholds as arules and
 * xsell/rules.h: n_X >= ceil(S N (1 - DBL_EPSILON)) (at least 1) and
 * confidence >= C - 1e-12.  For max_len 2 the rules and their values are
 * bit for bit those of xs_rules_find.
 *
 * Mining is depth-first (Eclat over transaction-id lists, items in
 * ascending count order) and streams: each rule goes to a callback as it is
 * found and nothing of it is kept.  Memory is the transactions restricted
 * to frequent items, their id lists, and at most max_len - 1 levels of
 * candidate lists under the current prefix (each no longer than the
 * prefix's list): it does not grow with the number of itemsets or rules.
 * A subset count that is neither the prefix's nor a sibling's is counted
 * on the fly, once per prefix, over the transactions of the rest.
 *
 * xs_rule_heap holds rules for a sorted answer: the best `limit` of them
 * (a heap, O(limit) memory) or, with no limit, all of them up to a cap.
 */
#ifndef XSELL_ITEMSETS_H
#define XSELL_ITEMSETS_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "cooc.h"
#include "dataset.h"
#include "dict.h"
#include "error.h"
#include "rules.h"

/* The longest itemset (lhs items + 1) a rule may have: arules' default
 * maxlen. */
#define XS_ITEMSETS_MAX_LEN 10

typedef struct xs_itemset_rule {
    uint32_t lhs[XS_ITEMSETS_MAX_LEN - 1]; /* item ids; order: see below */
    uint32_t n_lhs, rhs, count;
    double support, confidence, lift;
} xs_itemset_rule;

/* Called with each rule found (lhs in no particular order); returns XS_OK
 * to go on, anything else stops the mining, which returns that status. */
typedef int (*xs_itemset_rule_fn)(void *arg, const xs_itemset_rule *r);

typedef struct xs_itemsets_config {
    double min_support;    /* 0..1 */
    double min_confidence; /* 0..1 */
    unsigned max_len;      /* 2..XS_ITEMSETS_MAX_LEN */
    size_t pair_bytes;     /* with max_len > 2, pairs of frequent items are
                              counted up front into a triangle when it takes
                              at most this (0: 64 MiB; 1: never), else each
                              pair count a rule needs is counted when needed */
} xs_itemsets_config;

/* The transactions of a scope as an engine counts them (xs_engine_new on
 * ds with this max_basket; 0: no bound): a transaction over the bound
 * keeps its first max_basket distinct items with the events of each
 * customer in time order, as the engine's history index orders them.  ds
 * is not changed; *out as xs_txns_build_max. */
XS_API int xs_itemsets_txns(const xs_dataset *ds, int scope,
                            uint32_t max_basket, xs_txns *out, xs_error *err);

/* Mines the rules of t (item ids < n_items) and calls fn for each.
 * Returns XS_OK, XS_ERR_USAGE (a bad cfg), XS_ERR_NOMEM, or the status fn
 * stopped it with (err then says "stopped"). */
XS_API int xs_itemsets_rules(const xs_txns *t, uint32_t n_items,
                             const xs_itemsets_config *cfg,
                             xs_itemset_rule_fn fn, void *arg, xs_error *err);

/* Sorts r's lhs by name (strcmp), the order every printed rule uses. */
XS_API void xs_itemset_rule_sort_lhs(xs_itemset_rule *r, const xs_dict *names);

/* Rule order for `sort` (XS_RULES_BY_*, xsell/rules.h): the key
 * descending, ties (and XS_RULES_BY_NAME) by lhs names (lhs sorted by
 * name, compared item by item, a shorter lhs first when one is a prefix of
 * the other), then rhs name.  < 0 when a comes first. */
XS_API int xs_itemset_rule_cmp(const xs_itemset_rule *a,
                               const xs_itemset_rule *b, int sort,
                               const xs_dict *names);

typedef struct xs_rule_heap xs_rule_heap;

/* A holder of rules in `sort` order keeping the best `limit` (0: all, up
 * to max_held, 0: no cap).  names is borrowed.  NULL when out of memory. */
XS_API xs_rule_heap *xs_rule_heap_new(const xs_dict *names, int sort,
                                      size_t limit, size_t max_held);
XS_API void xs_rule_heap_free(xs_rule_heap *h);
/* An xs_itemset_rule_fn (arg: the heap): XS_OK, XS_ERR_NOMEM, or
 * XS_ERR_LIMIT when it already holds max_held rules and has no limit. */
XS_API int xs_rule_heap_push(void *heap, const xs_itemset_rule *r);
/* Sorts what it holds (first = best) and returns it, *n rules; owned by
 * the heap, valid until it is freed.  Pushing afterwards is not allowed.
 * The sort computes its keys once and takes 32 bytes a rule (plus 4 an
 * item) while it runs; without that memory it heap-sorts in place. */
XS_API const xs_itemset_rule *xs_rule_heap_sorted(xs_rule_heap *h, size_t *n);

#endif
