/*
 * rule_order.c -- sorting a whole array of rules (rule_order.h), with
 * every key computed once.
 *
 * xs_itemset_rule_cmp's order is the measure descending, then the lhs
 * names item by item, a shorter lhs first, then the rhs name.  A
 * comparison sort calling it re-reads the measure and compares names with
 * strcmp for every tie, O(n log n) times.  Here instead:
 *   - each item that occurs gets its rank in name order once (one qsort of
 *     the distinct items by strcmp); names are unique, so comparing ranks
 *     is comparing names;
 *   - each rule gets a 64-bit key whose ascending unsigned order is its
 *     measure's descending order (the IEEE bits, sign-folded, inverted);
 *   - (key, index) pairs are sorted by an LSD radix sort, 8 bits a pass,
 *     passes where every key has the same byte skipped (doubles of one
 *     range share their high bytes); it is stable, so equal keys keep
 *     their input order;
 *   - each run of equal keys is then sorted by the ranks: its key fields
 *     are free, so they take each rule's first two ranks as one number,
 *     and only rules equal in those are read again (a merge sort, an
 *     insertion sort for short runs); the order is total and does not
 *     depend on the input order;
 *   - the rules are permuted in place by following the permutation's
 *     cycles (no second copy of the rules).
 * Memory: 16 bytes a rule for the pairs (twice, for the radix passes),
 * 4 bytes an item for the ranks.  The measures are finite and >= 0 (counts
 * over counts), -0 is folded onto 0 so that it ties with 0 as `==` does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/rule_order.h"

typedef struct keyed {
    uint64_t key;
    uint64_t idx;
} keyed;

typedef struct named {
    const char *name;
    uint32_t id;
} named;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named *)a)->name, ((const named *)b)->name);
}

/* rank[id] for every item of r (others left UINT32_MAX); NULL when out of
 * memory.  Caller frees. */
static uint32_t *name_ranks(const xs_itemset_rule *r, size_t n,
                            const xs_dict *names)
{
    uint32_t n_items = xs_dict_size(names);
    uint32_t *rank = malloc((n_items ? n_items : 1) * sizeof *rank);
    if (!rank)
        return NULL;
    memset(rank, 0xff, (size_t)n_items * sizeof *rank);
    uint32_t used = 0;
    for (size_t i = 0; i < n; i++) { /* mark: 0 = occurs */
        for (uint32_t j = 0; j < r[i].n_lhs; j++)
            if (rank[r[i].lhs[j]] == UINT32_MAX) {
                rank[r[i].lhs[j]] = 0;
                used++;
            }
        if (rank[r[i].rhs] == UINT32_MAX) {
            rank[r[i].rhs] = 0;
            used++;
        }
    }
    named *nm = malloc((used ? used : 1) * sizeof *nm);
    if (!nm) {
        free(rank);
        return NULL;
    }
    uint32_t k = 0;
    for (uint32_t id = 0; id < n_items; id++)
        if (rank[id] == 0)
            nm[k++] = (named){xs_dict_name(names, id), id};
    qsort(nm, used, sizeof *nm, by_name);
    for (uint32_t i = 0; i < used; i++)
        rank[nm[i].id] = i;
    free(nm);
    return rank;
}

static double measure(const xs_itemset_rule *r, int sort)
{
    switch (sort) {
    case XS_RULES_BY_LIFT: return r->lift;
    case XS_RULES_BY_CONFIDENCE: return r->confidence;
    case XS_RULES_BY_SUPPORT:
    case XS_RULES_BY_COUNT: return r->count;
    default: return 0;
    }
}

/* Ascending key = descending measure. */
static uint64_t desc_key(double v)
{
    if (v == 0)
        v = 0; /* -0 ties with 0 */
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    b = b >> 63 ? ~b : b | (uint64_t)1 << 63; /* ascending with v */
    return ~b;
}

/* Stable LSD radix sort of a[0..n) by key, tmp of the same size as
 * scratch; returns the one of the two that holds the result. */
static keyed *radix_sort(keyed *a, keyed *tmp, size_t n)
{
    uint64_t all_or = 0, all_and = ~(uint64_t)0;
    for (size_t i = 0; i < n; i++) {
        all_or |= a[i].key;
        all_and &= a[i].key;
    }
    for (int shift = 0; shift < 64; shift += 8) {
        if ((((all_or ^ all_and) >> shift) & 0xff) == 0)
            continue; /* every key has this byte */
        size_t count[256] = {0};
        for (size_t i = 0; i < n; i++)
            count[a[i].key >> shift & 0xff]++;
        size_t sum = 0;
        for (int d = 0; d < 256; d++) {
            size_t c = count[d];
            count[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[a[i].key >> shift & 0xff]++] = a[i];
        keyed *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* The tie order: lhs ranks item by item, shorter first, then rhs rank. */
static int by_ranks(const xs_itemset_rule *a, const xs_itemset_rule *b,
                    const uint32_t *rank)
{
    for (uint32_t i = 0; i < a->n_lhs && i < b->n_lhs; i++) {
        uint32_t x = rank[a->lhs[i]], y = rank[b->lhs[i]];
        if (x != y)
            return x < y ? -1 : 1;
    }
    if (a->n_lhs != b->n_lhs)
        return a->n_lhs < b->n_lhs ? -1 : 1;
    uint32_t x = rank[a->rhs], y = rank[b->rhs];
    return x < y ? -1 : x > y;
}

/* a before b within a run: by key (the tie prefix, see below), then by
 * the ranks read from the rules. */
static int run_less(const keyed *a, const keyed *b, const xs_itemset_rule *r,
                    const uint32_t *rank)
{
    if (a->key != b->key)
        return a->key < b->key;
    return by_ranks(&r[a->idx], &r[b->idx], rank) < 0;
}

/* Sorts a[0..n) by run_less: insertion sort when short, else merge sort
 * through tmp (room for n); stable. */
static void sort_run(keyed *a, keyed *tmp, size_t n, const xs_itemset_rule *r,
                     const uint32_t *rank)
{
    if (n <= 16) {
        for (size_t i = 1; i < n; i++) {
            keyed v = a[i];
            size_t j = i;
            while (j > 0 && run_less(&v, &a[j - 1], r, rank)) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = v;
        }
        return;
    }
    size_t h = n / 2;
    sort_run(a, tmp, h, r, rank);
    sort_run(a + h, tmp, n - h, r, rank);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        tmp[k++] = run_less(&a[j], &a[i], r, rank) ? a[j++] : a[i++];
    while (i < h)
        tmp[k++] = a[i++];
    memcpy(a, tmp, k * sizeof *a); /* a[j..n) is in place already */
}

/* The first two places of by_ranks' order as one number: the first lhs
 * item's rank, then 0 for a one-item lhs (shorter first) or the second
 * item's rank + 1.  Equal prefixes fall back to by_ranks. */
static uint64_t tie_prefix(const xs_itemset_rule *r, const uint32_t *rank)
{
    uint64_t second = r->n_lhs > 1 ? (uint64_t)rank[r->lhs[1]] + 1 : 0;
    return (uint64_t)rank[r->lhs[0]] << 32 | second;
}

int xs_rule_order_sort(xs_itemset_rule *r, size_t n, int sort,
                       const xs_dict *names)
{
    if (n < 2)
        return 0;
    keyed *a = malloc(n * sizeof *a), *tmp = malloc(n * sizeof *tmp);
    uint32_t *rank = name_ranks(r, n, names);
    if (!a || !tmp || !rank) {
        free(a);
        free(tmp);
        free(rank);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        a[i] = (keyed){desc_key(measure(&r[i], sort)), i};
    keyed *s = radix_sort(a, tmp, n), *scratch = s == a ? tmp : a;
    for (size_t lo = 0, hi; lo < n; lo = hi) {
        for (hi = lo + 1; hi < n && s[hi].key == s[lo].key; hi++)
            ;
        if (hi - lo < 2)
            continue;
        /* the run's keys are all equal and not read again: each now holds
         * its rule's tie prefix, so most ties are settled without reading
         * the rules */
        for (size_t i = lo; i < hi; i++)
            s[i].key = tie_prefix(&r[s[i].idx], rank);
        sort_run(s + lo, scratch, hi - lo, r, rank);
    }
    /* position i gets rule s[i].idx: follow each cycle once, marking a
     * done position by idx = n */
    for (size_t i = 0; i < n; i++) {
        if (s[i].idx == n || s[i].idx == i)
            continue;
        xs_itemset_rule first = r[i];
        size_t at = i;
        while (s[at].idx != i) {
            size_t from = (size_t)s[at].idx;
            r[at] = r[from];
            s[at].idx = n;
            at = from;
        }
        r[at] = first;
        s[at].idx = n;
    }
    free(a);
    free(tmp);
    free(rank);
    return 0;
}
