/*
 * result.c -- a plugin run's result (engine/result.h): push() and scratch
 * memory.
 *
 * push() is where the rules every plugin obeys are enforced: unknown ids
 * and non-finite scores are dropped and counted, then a candidate that
 * cannot beat the worst kept is refused before the costlier checks
 * (exclusions by binary search, stock and category through the catalog).
 * Lifecycle (hidden, deleted, dated items) rides in the catalog's packed
 * word (xs_catalog_admits), so a request without property rules costs what
 * it did.  A request with property rules takes push_query instead: the
 * item's labels are read first because a boost changes the score the
 * heap compares (data/props.h; engine/run.c asks plugins for more
 * candidates when there are boosts).
 *
 * Scratch memory is a list of chunks, each at least twice the one before;
 * a reset rewinds the newest and, when a request needed several, replaces
 * them by one chunk as large as them all, so a warm context serves from
 * one chunk without allocating.
 */
#include <math.h>
#include <stdlib.h>

#include "data/catalog_rules.h"
#include "engine/result.h"
#include "xsell/plugin.h"
#include "xsell/plugin_util.h"

struct xs_scratch_chunk {
    struct xs_scratch_chunk *next;
    size_t cap, used;
    max_align_t data[];
};

static void scratch_free(xs_result *r)
{
    for (xs_scratch_chunk *c = r->scratch, *n; c; c = n) {
        n = c->next;
        free(c);
    }
    r->scratch = NULL;
}

static void scratch_rewind(xs_result *r)
{
    xs_scratch_chunk *c = r->scratch;
    if (c && c->next) { /* several chunks: keep one as large as them all */
        size_t total = 0;
        for (xs_scratch_chunk *p = c; p; p = p->next)
            total += p->cap;
        scratch_free(r);
        c = malloc(sizeof *c + total);
        if (c) {
            c->next = NULL;
            c->cap = total;
        }
        r->scratch = c;
    }
    if (c)
        c->used = 0;
}

int xs_result_reset(xs_result *r, uint32_t k)
{
    if (xs_topk_reset(&r->topk, k))
        return -1;
    scratch_rewind(r);
    r->dropped = 0;
    r->note = NULL;
    return 0;
}

void xs_result_free(xs_result *r)
{
    xs_topk_free(&r->topk);
    scratch_free(r);
}

static int is_excluded(const xs_result_filter *f, uint32_t item)
{
    uint32_t i = xs_lower_bound(f->exclude, f->n_exclude, item);
    return i < f->n_exclude && f->exclude[i] == item;
}

int xs_result_admits(const xs_result *r, uint32_t item)
{
    const xs_result_filter *f = &r->filter;
    if (item >= f->n_items || (f->n_exclude && is_excluded(f, item)))
        return 0;
    if (f->cat && !xs_catalog_admits(f->cat, item, f->category, f->now))
        return 0;
    if (f->q) {
        uint32_t n;
        const uint32_t *labels = xs_catalog_labels(f->cat, item, &n);
        double factor;
        return xs_prop_query_match(f->q, labels, n, &factor);
    }
    return 1;
}

/* push() for a request with property rules: a candidate that cannot beat
 * the worst kept even at the largest boost is refused first (as push()
 * does), then the rules, then the boosted score into the heap.  Kept out
 * of line: inlined, it changed push()'s code for requests without rules
 * (+4% instructions in push() by callgrind; out of line, -1% against the
 * code before properties). */
__attribute__((noinline)) static int push_query(xs_result *r, uint32_t item,
                                                double score)
{
    const xs_result_filter *f = &r->filter;
    const xs_topk *t = &r->topk;
    if (t->n == t->k && t->k) {
        double mf = f->q->max_factor,
               best = score >= 0 ? score * mf : score / mf;
        if (best < t->heap[0].score ||
            (best == t->heap[0].score && item > t->heap[0].item))
            return 0;
    }
    if (f->n_exclude && is_excluded(f, item))
        return 0;
    if (!xs_catalog_admits(f->cat, item, f->category, f->now))
        return 0;
    uint32_t n;
    const uint32_t *labels = xs_catalog_labels(f->cat, item, &n);
    double factor;
    if (!xs_prop_query_match(f->q, labels, n, &factor))
        return 0;
    if (factor != 1.0)
        score = score >= 0 ? score * factor : score / factor;
    return xs_topk_push(&r->topk, item, score);
}

int xs_result_push(xs_result *r, uint32_t item, double score)
{
    const xs_result_filter *f = &r->filter;
    if (item >= f->n_items || !isfinite(score)) {
        r->dropped++;
        return 0;
    }
    if (f->q)
        return push_query(r, item, score);
    /* most candidates lose to the worst kept: refuse them before the
     * exclusion search */
    const xs_topk *t = &r->topk;
    if (t->n == t->k && t->k &&
        (score < t->heap[0].score ||
         (score == t->heap[0].score && item > t->heap[0].item)))
        return 0;
    if (f->n_exclude && is_excluded(f, item))
        return 0;
    /* stock, category, lifecycle */
    if (f->cat && !xs_catalog_admits(f->cat, item, f->category, f->now))
        return 0;
    return xs_topk_push(&r->topk, item, score);
}

void xs_result_note(xs_result *r, const char *why)
{
    r->note = why;
}

void *xs_result_scratch(xs_result *r, size_t bytes)
{
    const size_t align = sizeof(max_align_t);
    bytes = (bytes + align - 1) / align * align;
    xs_scratch_chunk *c = r->scratch;
    if (!c || c->cap - c->used < bytes) {
        size_t cap = bytes > 65536 ? bytes : 65536;
        if (c && cap < 2 * c->cap)
            cap = 2 * c->cap;
        xs_scratch_chunk *n = malloc(sizeof *n + cap);
        if (!n)
            return NULL;
        n->next = c;
        n->cap = cap;
        n->used = 0;
        r->scratch = c = n;
    }
    void *p = (char *)c->data + c->used;
    c->used += bytes;
    return p;
}
