/*
 * data/rule_order.h -- sorting a whole array of rules (rule_order.c).
 */
#ifndef XS_DATA_RULE_ORDER_H
#define XS_DATA_RULE_ORDER_H

#include <stddef.h>

#include "xsell/dict.h"
#include "xsell/itemsets.h"

/* Sorts r[0..n) in xs_itemset_rule_cmp's order for `sort` (each lhs
 * sorted by name already, as xs_rule_heap holds them).  0, or -1 when out
 * of memory (r then unchanged). */
int xs_rule_order_sort(xs_itemset_rule *r, size_t n, int sort,
                       const xs_dict *names);

#endif
