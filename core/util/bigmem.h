/*
 * bigmem.h -- large, short-lived arrays for table building.
 *
 * Building a table touches hundreds of megabytes of fresh memory; taken page
 * by 4 KiB page, the page faults cost as much as the counting.  These arrays
 * come straight from mmap with MADV_HUGEPAGE (2 MiB pages where the kernel
 * allows it), and a growable array reserves its worst case as address space
 * only (MAP_NORESERVE): touching is what costs, not reserving.  Requests
 * under 1 MiB are plain calloc.
 */
#ifndef XS_BIGMEM_H
#define XS_BIGMEM_H

#include <stddef.h>

/* At least `bytes` of zeroed memory, or NULL. */
void *xs_big_alloc(size_t bytes);
/* Frees memory from xs_big_alloc; bytes must be the size asked for. */
void xs_big_free(void *p, size_t bytes);
/* Gives the whole pages of p[off, off + len) back to the system, for an
 * array p of `bytes` whose range will never be read or written again: one
 * from xs_big_alloc, or any mapping (a private file mapping's pages are
 * dropped, not written back).  Returns the bytes given back (0 for arrays
 * under 1 MiB, which may come from calloc). */
size_t xs_big_release(void *p, size_t bytes, size_t off, size_t len);

#endif
