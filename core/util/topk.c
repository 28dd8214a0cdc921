/*
 * topk.c -- the bounded result heap (topk.h): an owned array around the
 * heap of xsell/plugin_util.h.
 *
 * A min-heap on (score, -item): the root is the worst entry kept, so a new
 * candidate is compared with the root alone.  Pushing costs O(1) for a
 * rejected candidate and O(log k) for an accepted one.
 */
#include <stdlib.h>

#include "xsell/topk.h"

int xs_topk_reset(xs_topk *t, uint32_t k)
{
    if (k > t->cap) {
        xs_scored *h = realloc(t->heap, (size_t)k * sizeof *h);
        if (!h)
            return -1;
        t->heap = h;
        t->cap = k;
    }
    t->k = k;
    t->n = 0;
    return 0;
}

void xs_topk_free(xs_topk *t)
{
    free(t->heap);
    t->heap = NULL;
    t->k = t->n = t->cap = 0;
}

int xs_topk_push(xs_topk *t, uint32_t item, double score)
{
    return xs_best_offer(t->heap, &t->n, t->k, (xs_cand){.item = item, .score = score});
}

void xs_topk_sort(xs_topk *t)
{
    xs_best_sort(t->heap, t->n);
}
