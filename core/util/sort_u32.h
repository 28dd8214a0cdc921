/*
 * sort_u32.h -- sorting arrays of uint32_t: insertion sort for short runs,
 * LSD radix sort (11-bit passes, two or three) for long ones.  The radix path
 * needs a caller-provided temporary array of n elements.  (Binary search and
 * sort-unique are xsell/plugin_util.h's, shared with the plugins.)
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

/* Sorts a[0..n) ascending; tmp must hold n elements when n > 48. */
void xs_sort_u32(uint32_t *a, size_t n, uint32_t *tmp);

#endif
