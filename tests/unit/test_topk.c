/*
 * test_topk.c -- tests for the bounded result heap (xsell/topk.h).
 *
 * Owns: after any sequence of pushes the heap holds exactly the k best
 * entries (score descending, then item id ascending) and xs_topk_sort()
 * lists them in that order -- checked against a sorted brute force over
 * random scores drawn from a small set so that ties are common; the value
 * push returns (1 exactly when the new entry is among the k best so far);
 * k = 0, k = 1, k larger than the number of pushes; xs_topk_reset() reusing
 * the array without reallocating when k shrinks or stays, growing it when
 * k grows; xs_scored_before() itself.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/topk.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint32_t rng_below(uint32_t n)
{
    return (uint32_t)(rng_next() % n);
}

/* Brute-force order: score descending, item ascending. */
static int cmp_best_first(const void *pa, const void *pb)
{
    const xs_scored *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

static int cmp_item(const void *pa, const void *pb)
{
    const xs_scored *a = pa, *b = pb;
    return a->item < b->item ? -1 : a->item > b->item;
}

/* Pushes n distinct items with scores from `levels` values (ties when
 * levels is small), checks every return value and the final content. */
static void run_case(xs_topk *t, uint32_t k, uint32_t n, uint32_t levels)
{
    xs_scored *all = malloc((n ? n : 1) * sizeof *all);
    uint32_t *perm = malloc((n ? n : 1) * sizeof *perm);
    if (!CHECK(all && perm)) {
        free(all);
        free(perm);
        return;
    }
    /* distinct items in random order, from a range wider than n */
    for (uint32_t i = 0; i < n; i++)
        perm[i] = i * 3 + rng_below(3);
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = rng_below(i), tmp = perm[i - 1];
        perm[i - 1] = perm[j];
        perm[j] = tmp;
    }
    if (!CHECK_EQ(xs_topk_reset(t, k), 0))
        goto out;
    CHECK_EQU(t->k, k);
    CHECK_EQU(t->n, 0);
    size_t bad_ret = 0;
    for (uint32_t i = 0; i < n; i++) {
        all[i].item = perm[i];
        all[i].score = (double)rng_below(levels) * 0.25 - 1.0;
        /* kept iff fewer than k earlier entries rank before it */
        uint32_t better = 0;
        for (uint32_t j = 0; j < i; j++)
            better += cmp_best_first(&all[j], &all[i]) < 0;
        int want = better < k;
        int got = xs_topk_push(t, all[i].item, all[i].score);
        if (got != want && bad_ret++ < 5)
            fprintf(stderr, "  k=%u push #%u (item %u, score %g) returned %d, "
                    "want %d\n", k, i, all[i].item, all[i].score, got, want);
    }
    CHECK_MSG(bad_ret == 0, "k=%u n=%u levels=%u: %zu wrong push results", k,
              n, levels, bad_ret);
    uint32_t keep = n < k ? n : k;
    CHECK_EQU(t->n, keep);
    qsort(all, n, sizeof *all, cmp_best_first);
    /* before sorting: the same set, in heap order */
    xs_scored *held = malloc((keep ? keep : 1) * sizeof *held);
    xs_scored *want = malloc((keep ? keep : 1) * sizeof *want);
    if (CHECK(held && want) && t->n == keep) {
        memcpy(held, t->heap, keep * sizeof *held);
        memcpy(want, all, keep * sizeof *want);
        qsort(held, keep, sizeof *held, cmp_item);
        qsort(want, keep, sizeof *want, cmp_item);
        size_t diff = 0;
        for (uint32_t i = 0; i < keep; i++)
            diff += held[i].item != want[i].item ||
                    held[i].score != want[i].score;
        CHECK_MSG(diff == 0, "k=%u n=%u: held set differs in %zu places", k,
                  n, diff);
        /* after sorting: exactly the brute force's first `keep` */
        xs_topk_sort(t);
        diff = 0;
        for (uint32_t i = 0; i < keep; i++)
            if (t->heap[i].item != all[i].item ||
                t->heap[i].score != all[i].score) {
                if (diff++ < 5)
                    fprintf(stderr, "  k=%u n=%u rank %u: (%u, %g), want "
                            "(%u, %g)\n", k, n, i, t->heap[i].item,
                            t->heap[i].score, all[i].item, all[i].score);
            }
        CHECK_MSG(diff == 0, "k=%u n=%u levels=%u: sorted result differs in "
                  "%zu ranks", k, n, levels, diff);
        CHECK_EQU(t->n, keep); /* sorting keeps the count */
    }
    free(held);
    free(want);
out:
    free(all);
    free(perm);
}

static void test_random(void)
{
    static const uint32_t ks[] = {1, 2, 3, 5, 10, 64, 100, 1000};
    static const uint32_t ns[] = {0, 1, 2, 7, 100, 1500};
    static const uint32_t levels[] = {1, 3, 20, 1000000};
    xs_topk t = {0};
    for (size_t a = 0; a < sizeof ks / sizeof ks[0]; a++)
        for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
            for (size_t c = 0; c < sizeof levels / sizeof levels[0]; c++)
                run_case(&t, ks[a], ns[b], levels[c]);
    xs_topk_free(&t);
}

static void test_small_cases(void)
{
    xs_topk t = {0};
    /* k = 1: only the best survives; ties go to the lower id */
    CHECK_EQ(xs_topk_reset(&t, 1), 0);
    CHECK_EQ(xs_topk_push(&t, 7, 1.0), 1);
    CHECK_EQ(xs_topk_push(&t, 9, 1.0), 0);  /* tie, higher id: out */
    CHECK_EQ(xs_topk_push(&t, 3, 1.0), 1);  /* tie, lower id: in */
    CHECK_EQ(xs_topk_push(&t, 1, 0.5), 0);
    CHECK_EQ(xs_topk_push(&t, 50, 2.0), 1);
    CHECK_EQ(xs_topk_push(&t, 60, -3.0), 0);
    xs_topk_sort(&t);
    CHECK_EQU(t.n, 1);
    CHECK(t.heap[0].item == 50 && t.heap[0].score == 2.0);

    /* k larger than the number of pushes: everything kept, sorted */
    CHECK_EQ(xs_topk_reset(&t, 10), 0);
    CHECK_EQ(xs_topk_push(&t, 4, 0.5), 1);
    CHECK_EQ(xs_topk_push(&t, 2, 0.5), 1);
    CHECK_EQ(xs_topk_push(&t, 8, -1.0), 1);
    CHECK_EQ(xs_topk_push(&t, 6, 3.0), 1);
    CHECK_EQU(t.n, 4);
    xs_topk_sort(&t);
    static const uint32_t order[] = {6, 2, 4, 8};
    for (int i = 0; i < 4; i++)
        CHECK_EQU(t.heap[i].item, order[i]);

    /* k = 0 keeps nothing */
    CHECK_EQ(xs_topk_reset(&t, 0), 0);
    CHECK_EQ(xs_topk_push(&t, 1, 100.0), 0);
    CHECK_EQU(t.n, 0);
    xs_topk_sort(&t); /* on nothing: harmless */
    CHECK_EQU(t.n, 0);

    /* sorting a single entry, and extreme scores */
    CHECK_EQ(xs_topk_reset(&t, 3), 0);
    CHECK_EQ(xs_topk_push(&t, 5, -INFINITY), 1);
    xs_topk_sort(&t);
    CHECK(t.n == 1 && t.heap[0].item == 5);
    CHECK_EQ(xs_topk_reset(&t, 2), 0);
    CHECK_EQ(xs_topk_push(&t, 1, -INFINITY), 1);
    CHECK_EQ(xs_topk_push(&t, 2, INFINITY), 1);
    CHECK_EQ(xs_topk_push(&t, 3, 1e308), 1);   /* beats -inf */
    CHECK_EQ(xs_topk_push(&t, 4, -1e308), 0);
    CHECK_EQ(xs_topk_push(&t, 0, 1e308), 1);   /* tie with 3, lower id */
    xs_topk_sort(&t);
    CHECK(t.n == 2 && t.heap[0].item == 2 && t.heap[1].item == 0);
    /* -0.0 == 0.0: a tie, decided by the id */
    CHECK_EQ(xs_topk_reset(&t, 1), 0);
    CHECK_EQ(xs_topk_push(&t, 9, 0.0), 1);
    CHECK_EQ(xs_topk_push(&t, 8, -0.0), 1);
    CHECK_EQ(xs_topk_push(&t, 10, 0.0), 0);
    CHECK(t.n == 1 && t.heap[0].item == 8);
    /* ids at the top of the range */
    CHECK_EQ(xs_topk_reset(&t, 2), 0);
    CHECK_EQ(xs_topk_push(&t, UINT32_MAX - 1, 1.0), 1);
    CHECK_EQ(xs_topk_push(&t, 0, 1.0), 1);
    CHECK_EQ(xs_topk_push(&t, UINT32_MAX - 2, 1.0), 1);
    xs_topk_sort(&t);
    CHECK(t.n == 2 && t.heap[0].item == 0 && t.heap[1].item == UINT32_MAX - 2);
    xs_topk_free(&t);
}

static void test_reset_reuse(void)
{
    xs_topk t = {0};
    CHECK_EQ(xs_topk_reset(&t, 10), 0);
    xs_scored *heap = t.heap;
    CHECK(heap != NULL);
    CHECK(t.cap >= 10);
    uint32_t cap = t.cap;
    for (uint32_t i = 0; i < 10; i++)
        xs_topk_push(&t, i, (double)i);
    CHECK_EQU(t.n, 10);
    /* shrinking: same array, same capacity, empty */
    CHECK_EQ(xs_topk_reset(&t, 3), 0);
    CHECK(t.heap == heap);
    CHECK_EQU(t.cap, cap);
    CHECK_EQU(t.k, 3);
    CHECK_EQU(t.n, 0);
    /* and it works as a k = 3 heap, with nothing left from before */
    for (uint32_t i = 100; i < 110; i++)
        xs_topk_push(&t, i, -(double)i);
    xs_topk_sort(&t);
    CHECK(t.n == 3 && t.heap[0].item == 100 && t.heap[1].item == 101 &&
          t.heap[2].item == 102);
    /* back to the old k: still no allocation */
    CHECK_EQ(xs_topk_reset(&t, cap), 0);
    CHECK(t.heap == heap);
    CHECK_EQU(t.cap, cap);
    /* k = 0 keeps the array too */
    CHECK_EQ(xs_topk_reset(&t, 0), 0);
    CHECK(t.heap == heap);
    /* growing allocates enough */
    CHECK_EQ(xs_topk_reset(&t, 5000), 0);
    CHECK(t.cap >= 5000 && t.heap != NULL);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < 5000; i++)
        kept += (uint32_t)xs_topk_push(&t, i, 1.0);
    CHECK_EQU(kept, 5000);
    CHECK_EQU(t.n, 5000);
    CHECK_EQ(xs_topk_push(&t, 5000, 1.0), 0); /* tie, highest id */
    CHECK_EQ(xs_topk_push(&t, 5001, 1.5), 1);
    xs_topk_sort(&t);
    CHECK(t.heap[0].item == 5001 && t.heap[1].item == 0 &&
          t.heap[4999].item == 4998);
    xs_topk_free(&t);
}

static void test_scored_before(void)
{
    xs_scored a = {1, 2.0}, b = {2, 1.0}, c = {3, 2.0}, d = {1, 2.0};
    CHECK_EQ(xs_scored_before(&a, &b), 1); /* higher score */
    CHECK_EQ(xs_scored_before(&b, &a), 0);
    CHECK_EQ(xs_scored_before(&a, &c), 1); /* tie: lower id */
    CHECK_EQ(xs_scored_before(&c, &a), 0);
    CHECK_EQ(xs_scored_before(&a, &d), 0); /* equal: neither first */
    CHECK_EQ(xs_scored_before(&d, &a), 0);
}

int main(void)
{
    test_scored_before();
    test_small_cases();
    test_reset_reuse();
    test_random();
    return xt_done();
}
