/*
 * xsell/topk.h -- a bounded min-heap keeping the k best scored items.
 *
 * Order: higher score first; equal scores by lower item id (deterministic).
 * The heap owns its array; xs_topk_reset() reuses it without allocating.
 * It is the heap of xsell/plugin_util.h (xs_best_offer, xs_best_sort) with
 * an array it owns: one implementation for the engine and the plugins.
 */
#ifndef XSELL_TOPK_H
#define XSELL_TOPK_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "plugin_util.h"

/* A scored item: {score, item}. */
typedef xs_cand xs_scored;

typedef struct xs_topk {
    uint32_t k;   /* capacity in use */
    uint32_t n;   /* entries held */
    uint32_t cap; /* allocated entries */
    xs_scored *heap;
} xs_topk;

/* Prepares t for k entries (allocating only when k grows).  Returns 0 or -1
 * when out of memory. */
XS_API int xs_topk_reset(xs_topk *t, uint32_t k);
XS_API void xs_topk_free(xs_topk *t);
/* Offers (item, score); returns 1 when kept, 0 when not good enough.  Offer
 * each item at most once between resets. */
XS_API int xs_topk_push(xs_topk *t, uint32_t item, double score);
/* Sorts the held entries best-first in place; the heap is then spent until
 * the next reset. */
XS_API void xs_topk_sort(xs_topk *t);
/* 1 when a ranks before b. */
static inline int xs_scored_before(const xs_scored *a, const xs_scored *b)
{
    return xs_cand_before(a, b);
}

#endif
