/*
 * bigmem.c -- see bigmem.h.  No header is stored before the block, so the
 * caller passes the size back on free, as munmap wants.  Releasing part of
 * a mapped array is madvise(MADV_DONTNEED) on the pages wholly inside the
 * range: the mapping stays, the memory goes back (a huge page is split).
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

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

size_t xs_big_release(void *p, size_t bytes, size_t off, size_t len)
{
    if (!p || bytes < BIG_MIN || off >= bytes)
        return 0;
    if (len > bytes - off)
        len = bytes - off;
    long ps = sysconf(_SC_PAGESIZE);
    uintptr_t page = ps > 0 ? (uintptr_t)ps : 4096;
    uintptr_t lo = ((uintptr_t)p + off + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)p + off + len) & ~(page - 1);
    if (hi <= lo || madvise((void *)lo, hi - lo, MADV_DONTNEED))
        return 0;
    return hi - lo;
}
