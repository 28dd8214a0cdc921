/*
 * topk.c -- the bounded result heap (topk.h).
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

/* "worse" = ranks after: the heap keeps the worst at the root. */
static void sift_down(xs_scored *h, uint32_t n, uint32_t i)
{
    xs_scored v = h[i];
    for (;;) {
        uint32_t l = 2 * i + 1, w = i;
        const xs_scored *worst = &v;
        if (l < n && xs_scored_before(worst, &h[l])) {
            w = l;
            worst = &h[l];
        }
        if (l + 1 < n && xs_scored_before(worst, &h[l + 1]))
            w = l + 1;
        if (w == i)
            break;
        h[i] = h[w];
        i = w;
    }
    h[i] = v;
}

int xs_topk_push(xs_topk *t, uint32_t item, double score)
{
    xs_scored s = {item, score};
    if (t->k == 0)
        return 0;
    if (t->n < t->k) {
        uint32_t i = t->n++;
        while (i > 0) {
            uint32_t p = (i - 1) / 2;
            if (!xs_scored_before(&t->heap[p], &s))
                break;
            t->heap[i] = t->heap[p];
            i = p;
        }
        t->heap[i] = s;
        return 1;
    }
    if (!xs_scored_before(&s, &t->heap[0]))
        return 0;
    t->heap[0] = s;
    sift_down(t->heap, t->n, 0);
    return 1;
}

void xs_topk_sort(xs_topk *t)
{
    /* heap sort: repeatedly move the worst to the end */
    for (uint32_t n = t->n; n > 1; n--) {
        xs_scored worst = t->heap[0];
        t->heap[0] = t->heap[n - 1];
        t->heap[n - 1] = worst;
        sift_down(t->heap, n - 1, 0);
    }
}
