/*
 * sort_u32.c -- sorting ids (util/sort_u32.h): an LSD radix sort, passes of
 * 11 bits, two for ids below 2^22, three above; short arrays go to the
 * insertion sort.
 */
#include <string.h>

#include "util/sort_u32.h"

/* One LSD pass over 11 bits at `shift`, from src to dst. */
static void radix_pass(const uint32_t *src, uint32_t *dst, size_t n, int shift)
{
    uint32_t cnt[2048] = {0};
    for (size_t i = 0; i < n; i++)
        cnt[(src[i] >> shift) & 2047]++;
    uint32_t sum = 0;
    for (size_t i = 0; i < 2048; i++) {
        uint32_t t = cnt[i];
        cnt[i] = sum;
        sum += t;
    }
    for (size_t i = 0; i < n; i++)
        dst[cnt[(src[i] >> shift) & 2047]++] = src[i];
}

void xs_sort_u32(uint32_t *a, size_t n, uint32_t *tmp)
{
    if (n <= 48) {
        xs_sort_u32_small(a, n);
        return;
    }
    uint32_t max = 0;
    for (size_t i = 0; i < n; i++)
        max |= a[i];
    radix_pass(a, tmp, n, 0);
    radix_pass(tmp, a, n, 11);
    if (max >> 22) {
        radix_pass(a, tmp, n, 22);
        memcpy(a, tmp, n * sizeof *a);
    }
}

