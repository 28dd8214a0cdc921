/*
 * sort_u32.h -- sorting arrays of uint32_t: insertion sort for short runs,
 * LSD radix sort (11-bit passes, two or three) for long ones.  The radix path
 * needs a caller-provided temporary array of n elements.  And the binary
 * search that goes with sorted ids.
 */
#ifndef XS_SORT_U32_H
#define XS_SORT_U32_H

#include <stddef.h>
#include <stdint.h>

static inline void xs_sort_u32_small(uint32_t *a, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint32_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Index of the first element of sorted a[0..n) that is >= key (n if none). */
static inline uint32_t xs_lower_bound_u32(const uint32_t *a, uint32_t n,
                                          uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Sorts a[0..n) ascending; tmp must hold n elements when n > 48. */
void xs_sort_u32(uint32_t *a, size_t n, uint32_t *tmp);

/* Sorts a[0..n) ascending and removes duplicates in place; returns the
 * new count.  No temporary memory (qsort). */
uint32_t xs_sort_unique_u32(uint32_t *a, uint32_t n);

#endif
