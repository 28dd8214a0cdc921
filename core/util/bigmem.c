/*
 * bigmem.c -- see bigmem.h.  No header is stored before the block, so the
 * caller passes the size back on free, as munmap wants.
 */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <sys/mman.h>

#include "util/bigmem.h"

#define BIG_MIN (1u << 20)
#define HUGE_PAGE ((size_t)2 << 20)

static size_t round_up(size_t bytes)
{
    return (bytes + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
}

void *xs_big_alloc(size_t bytes)
{
    if (bytes < BIG_MIN)
        return calloc(1, bytes ? bytes : 1);
    size_t len = round_up(bytes);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

void xs_big_free(void *p, size_t bytes)
{
    if (!p)
        return;
    if (bytes < BIG_MIN)
        free(p);
    else
        munmap(p, round_up(bytes));
}
