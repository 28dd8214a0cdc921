/*
 * common/ranked.h -- ranked neighbour lists and the threshold algorithm:
 * how the built-in plugins answer a basket request at a bounded cost that
 * does not grow with how popular the basket's items are.
 *
 * The problem.  A pairwise plugin scores a candidate c for a basket
 * a_1 .. a_m as
 *
 *     total(c) = sum over i of s(a_i, c)
 *
 * (copurchase: the measure of the rule a_i -> c; recency: the decayed
 * measure).  Scoring whole rows costs the sum of the basket items' row
 * lengths, thousands of entries for popular items, which are what real
 * traffic asks about most.
 *
 * Ranked lists.  Each item a keeps a list of its best neighbours by s(a, .)
 * itself, best first (ties by lower id), at most `cap` of them: id, the
 * plugin's payload (a pair count, a decayed weight) and the score when the
 * list was built, as a float rounded up (so it never understates the
 * double it stands for).  `full` says the list holds every neighbour a has
 * (its row was no longer than cap).
 *
 * The threshold algorithm (Fagin, Lotem and Naor, 2001).  The lists of the
 * basket items are read in parallel, one rank at a time.  Every candidate
 * met for the first time is scored exactly -- s(a_j, c) for every basket
 * item, from the plugin's live data (a lookup in a_j's row): the `exact`
 * callback -- and pushed.  After each rank d the threshold
 *
 *     tau(d) = sum over i of  score_i(d)
 *
 * bounds the total of any candidate not met yet (score_i(d) is list i's
 * score at rank d; past its end, 0 for a full list, its last score for a
 * capped one).  Once k candidates the host kept score above tau, no unseen
 * candidate can enter the top k: the answer is the exact whole-row answer,
 * found after reading d ranks instead of whole rows.  When a capped list
 * runs out first the answer is made of the candidates of the lists, each
 * with its exact total -- never a partial sum, unlike summing capped lists.
 * A one-item basket stops after k admitted candidates score above the
 * list's next score.  Candidates are checked with the host's admits()
 * (the request's rules) and pushed only at the end: when the lists run
 * out before k admitted candidates and the answer is not proven, nothing
 * is pushed and the plugin reads whole rows instead, so a request whose
 * best neighbours are filtered away still gets a full, exact answer.
 * Cost: at most m x cap list entries and, per distinct candidate, m - 1
 * lookups (through a sample of the row: ranked_sample); in practice tens
 * of ranks.
 *
 * Drift.  Scores depend on counts that ingest changes (supports, the
 * transaction count, decay sums).  A plugin rebuilds the list of every item
 * whose row changed (those lists are exact again), and every list once the
 * data has grown by its refresh fraction since the lists were last all
 * built.  Between refreshes a list of an untouched item keeps its order and
 * scores while its neighbours' supports drift; totals are always exact
 * (live), only the order lists are read in and the threshold use the
 * stored scores, so drift can only end the search slightly early or late.
 *
 * Ownership: a list owns one allocation (ids, payloads, scores); the query
 * allocates nothing but request scratch.
 */
#ifndef XS_PLUGIN_COMMON_RANKED_H
#define XS_PLUGIN_COMMON_RANKED_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin_util.h"

typedef struct ranked_list {
    uint32_t *id;    /* n ids, best first; aux and score follow in the same
                        allocation */
    uint32_t *aux;   /* the plugin's payload per entry */
    float *score;    /* s(a, id[i]) when built, rounded up */
    uint32_t n;
    uint32_t version; /* the source row version it was built from */
    uint8_t built;
    uint8_t full;    /* every neighbour of the item is in the list */
} ranked_list;

/* One candidate offered to ranked_build: a neighbour, its payload and its
 * score. */
typedef struct ranked_entry {
    uint32_t id, aux;
    double score;
} ranked_entry;

static inline void ranked_free(ranked_list *l)
{
    free(l->id);
    memset(l, 0, sizeof *l);
}

/* The float that is the smallest >= x (x finite). */
static inline float ranked_up(double x)
{
    float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

/* e[0 .. n) before f: higher score, then lower id. */
static inline int ranked_before(const ranked_entry *e, const ranked_entry *f)
{
    return e->score > f->score || (e->score == f->score && e->id < f->id);
}

static inline int ranked_cmp(const void *a, const void *b)
{
    const ranked_entry *x = a, *y = b;
    return ranked_before(x, y) ? -1 : ranked_before(y, x);
}

/* Restores the heap e[0 .. n) below i: every entry ranks before (is
 * better than) its parent, so e[0] is the worst. */
static inline void ranked_sift_(ranked_entry *e, uint32_t n, uint32_t i)
{
    ranked_entry v = e[i];
    for (;;) {
        uint32_t l = 2 * i + 1, w = i;
        const ranked_entry *worst = &v;
        if (l < n && ranked_before(worst, &e[l]))
            worst = &e[w = l];
        if (l + 1 < n && ranked_before(worst, &e[l + 1]))
            w = l + 1;
        if (w == i)
            break;
        e[i] = e[w];
        i = w;
    }
    e[i] = v;
}

/* (Re)builds l from the n entries e (reordered in place): the best `cap`
 * of them by score, best first; entries scoring <= 0 or not finite are left
 * out.  cap 0 keeps all.  Returns 0, or -1 out of memory (l then empty and
 * not built). */
static inline int ranked_build(ranked_list *l, ranked_entry *e, uint32_t n,
                               uint32_t cap, uint32_t version)
{
    free(l->id);
    memset(l, 0, sizeof *l);
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++)
        if (e[i].score > 0 && isfinite(e[i].score))
            e[w++] = e[i];
    n = w;
    uint32_t keep = cap && n > cap ? cap : n;
    if (keep < n) {
        /* the best keep, moved to e[0 .. keep): a heap there with the
         * worst kept at e[0], offered the rest in turn */
        for (uint32_t i = keep / 2; i-- > 0;)
            ranked_sift_(e, keep, i);
        for (uint32_t i = keep; i < n; i++)
            if (ranked_before(&e[i], &e[0])) {
                e[0] = e[i];
                ranked_sift_(e, keep, 0);
            }
        n = keep;
    }
    if (n > 1)
        qsort(e, n, sizeof *e, ranked_cmp);
    l->version = version;
    l->built = 1;
    l->full = keep == w;
    if (n == 0)
        return 0;
    uint32_t *mem = malloc((size_t)n * (2 * sizeof(uint32_t) + sizeof(float)));
    if (!mem) {
        l->built = 0;
        return -1;
    }
    l->id = mem;
    l->aux = mem + n;
    l->score = (float *)(mem + 2 * (size_t)n);
    for (uint32_t i = 0; i < n; i++) {
        l->id[i] = e[i].id;
        l->aux[i] = e[i].aux;
        l->score[i] = ranked_up(e[i].score);
    }
    l->n = n;
    return 0;
}

/* Index of key in the ascending ids a[0 .. n), or n when absent: a
 * branch-free binary search (the exact() lookups of the threshold
 * algorithm are most of its time, and a branchy search mispredicts half
 * its steps). */
static inline uint32_t ranked_find(const uint32_t *a, uint32_t n,
                                   uint32_t key)
{
    if (n == 0)
        return 0;
    const uint32_t *base = a;
    uint32_t len = n;
    while (len > 1) {
        uint32_t half = len / 2;
        XS_PREFETCH(&base[half / 2]);
        XS_PREFETCH(&base[half + half / 2]);
        base = base[half - 1] < key ? base + half : base;
        len -= half;
    }
    uint32_t i = (uint32_t)(base - a) + (*base < key);
    return i < n && a[i] == key ? i : n;
}

/* Index of the last entry <= key in the ascending a[0 .. n), or
 * UINT32_MAX when every entry is > key. */
static inline uint32_t ranked_find_le_(const uint32_t *a, uint32_t n,
                                       uint32_t key)
{
    const uint32_t *base = a;
    uint32_t len = n;
    while (len > 1) {
        uint32_t half = len / 2;
        base = base[half] <= key ? base + half : base;
        len -= half;
    }
    if (*base > key)
        return UINT32_MAX;
    return (uint32_t)(base - a);
}

/* A sample of a long sorted row: the first id of every RANKED_BLOCK, so
 * that a lookup searches the sample (small, and cached across a request's
 * lookups in the same row) and then one block of the row (one or two cache
 * lines) instead of missing the cache at every step of a search over the
 * whole row.  Valid for the row version it was made from; rows shorter
 * than 4 blocks get none. */
#define RANKED_BLOCK 16
typedef struct ranked_sample {
    uint32_t *first; /* first[b] = ids[b * RANKED_BLOCK] */
    uint32_t n;
    uint32_t version;
    uint8_t built;
} ranked_sample;

static inline void ranked_sample_free(ranked_sample *s)
{
    free(s->first);
    memset(s, 0, sizeof *s);
}

/* (Re)makes s from the row ids[0 .. n) of version `version`.  0, or -1 out
 * of memory (s then empty: lookups search the whole row). */
static inline int ranked_sample_build(ranked_sample *s, const uint32_t *ids,
                                      uint32_t n, uint32_t version)
{
    free(s->first);
    memset(s, 0, sizeof *s);
    s->version = version;
    if (n < 4 * RANKED_BLOCK) {
        s->built = 1;
        return 0;
    }
    uint32_t m = (n + RANKED_BLOCK - 1) / RANKED_BLOCK;
    s->first = malloc((size_t)m * sizeof *s->first);
    if (!s->first)
        return -1;
    for (uint32_t b = 0; b < m; b++)
        s->first[b] = ids[(size_t)b * RANKED_BLOCK];
    s->n = m;
    s->built = 1;
    return 0;
}

/* ranked_find through the sample s of the row (NULL, stale or empty:
 * the whole row). */
static inline uint32_t ranked_find_sampled(const uint32_t *a, uint32_t n,
                                           const ranked_sample *s,
                                           uint32_t version, uint32_t key)
{
    if (!s || !s->first || s->version != version)
        return ranked_find(a, n, key);
    /* the last block whose first id is <= key */
    uint32_t b = ranked_find_le_(s->first, s->n, key);
    if (b == UINT32_MAX)
        return n;
    uint32_t lo = b * RANKED_BLOCK;
    uint32_t len = n - lo < RANKED_BLOCK ? n - lo : RANKED_BLOCK;
    uint32_t i = ranked_find(a + lo, len, key);
    return i == len ? n : lo + i;
}

/* Prefetches the block of the row ids[0 .. n) (and of its parallel array
 * vals, 4-byte entries; may be NULL) where ranked_find_sampled will look
 * for key.  Without a current sample, nothing (the search would start from
 * the middle). */
static inline void ranked_prefetch_row(const uint32_t *ids, const void *vals,
                                       uint32_t n, const ranked_sample *s,
                                       uint32_t version, uint32_t key)
{
    if (!s || !s->first || s->version != version || n == 0)
        return;
    uint32_t b = ranked_find_le_(s->first, s->n, key);
    if (b == UINT32_MAX)
        return;
    size_t at = (size_t)b * RANKED_BLOCK;
    XS_PREFETCH(&ids[at]);
    XS_PREFETCH(&ids[at + RANKED_BLOCK - 1 < n ? at + RANKED_BLOCK - 1
                                                : n - 1]);
    if (vals) {
        const uint32_t *v = vals;
        XS_PREFETCH(&v[at]);
        XS_PREFETCH(&v[at + RANKED_BLOCK - 1 < n ? at + RANKED_BLOCK - 1
                                                  : n - 1]);
    }
}

/* Exact s(basket item j, c), given list i met c at entry `at` of list i
 * (j == i: the entry's payload is at hand).  Returns the score (<= 0: no
 * contribution). */
typedef double (*ranked_exact_fn)(void *arg, uint32_t j, uint32_t c,
                                  const ranked_list *li, uint32_t i,
                                  uint32_t at);

/* Asks the memory exact(arg, j, c, ...) will read for (optional): the
 * candidates of one rank are announced before any is scored, so that their
 * cache misses overlap instead of following one another. */
typedef void (*ranked_prefetch_fn)(void *arg, uint32_t j, uint32_t c);

/* The scores of the k best kept so far (the host's heap, mirrored to
 * know when to stop): a min-heap of doubles. */
static inline void ranked_kept_add(double *h, uint32_t *n, uint32_t k,
                                   double x)
{
    if (*n < k) {
        uint32_t i = (*n)++;
        while (i > 0 && h[(i - 1) / 2] > x) {
            h[i] = h[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        h[i] = x;
        return;
    }
    if (k == 0 || x <= h[0])
        return;
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, s = i;
        double v = x;
        if (l < k && h[l] < v)
            v = h[s = l];
        if (l + 1 < k && h[l + 1] < v)
            s = l + 1;
        if (s == i)
            break;
        h[i] = h[s];
        i = s;
    }
    h[i] = x;
}

/* Answers the basket whose m items have the lists L[0 .. m) (NULL or empty
 * for items without neighbours) with the threshold algorithm, for a host
 * heap of req_k.  Candidates are scored and checked with the host's
 * admits() first and pushed only at the end, so that a caller can answer
 * some other way when the lists cannot: returns 1 when the answer was
 * pushed -- the threshold proved it, every list was whole, or the lists
 * gave req_k admitted candidates -- 0 when nothing was pushed because the
 * lists ran out before req_k admitted candidates (the caller then reads
 * whole rows), -1 out of scratch memory. */
static inline int ranked_answer(const xs_host_api *api, xs_result *out,
                                const ranked_list *const *L, uint32_t m,
                                uint32_t req_k, ranked_exact_fn exact,
                                ranked_prefetch_fn prefetch, void *arg)
{
    uint32_t longest = 0, total = 0;
    int whole = 1; /* every list holds all its item's neighbours */
    for (uint32_t i = 0; i < m; i++)
        if (L[i]) {
            total += L[i]->n;
            if (L[i]->n > longest)
                longest = L[i]->n;
            whole &= L[i]->full;
        }
    if (total == 0 || req_k == 0)
        return whole ? 1 : 0;
    double *kept = api->scratch(out, (size_t)req_k * sizeof *kept);
    xs_cand *buf = api->scratch(out, (size_t)total * sizeof *buf);
    if (!kept || !buf)
        return -1;
    uint32_t n_kept = 0, n_buf = 0;
    int proven = 0;
    if (m == 1) { /* one list: its own order is the total's */
        const ranked_list *l = L[0];
        for (uint32_t d = 0; d < l->n && !proven; d++) {
            uint32_t c = l->id[d];
            double x = exact(arg, 0, c, l, 0, d);
            if (x > 0 && api->admits(out, c)) {
                buf[n_buf++] = (xs_cand){c, x};
                ranked_kept_add(kept, &n_kept, req_k, x);
            }
            /* the next entry scores at most score[d + 1] (rounded up) */
            proven = n_kept == req_k &&
                     (d + 1 == l->n || kept[0] > l->score[d + 1]);
        }
    } else {
        /* candidates met: an open-addressing set in scratch */
        uint32_t bits = 4;
        while ((1u << bits) < 2 * total)
            bits++;
        uint32_t mask = (1u << bits) - 1, shift = 32 - bits;
        uint32_t *seen = api->scratch(out, ((size_t)mask + 1) * sizeof *seen);
        if (!seen)
            return -1;
        memset(seen, 0xFF, ((size_t)mask + 1) * sizeof *seen);
        /* one rank's new admitted candidates: list, entry */
        uint32_t *rank_c = api->scratch(out, (size_t)m * 2 * sizeof *rank_c);
        if (!rank_c)
            return -1;
        uint32_t *rank_i = rank_c + m;
        for (uint32_t d = 0; d < longest && !proven; d++) {
            double tau = 0;
            uint32_t nr = 0;
            for (uint32_t i = 0; i < m; i++) {
                const ranked_list *l = L[i];
                if (!l || l->n == 0)
                    continue;
                if (d >= l->n) {
                    if (!l->full)
                        tau += l->score[l->n - 1];
                    continue;
                }
                tau += l->score[d];
                uint32_t c = l->id[d];
                uint32_t s = (uint32_t)(c * 0x9E3779B1u) >> shift;
                while (seen[s] != c && seen[s] != XS_NONE)
                    s = (s + 1) & mask;
                if (seen[s] == c)
                    continue;
                seen[s] = c;
                if (!api->admits(out, c))
                    continue;
                rank_c[nr] = c;
                rank_i[nr++] = i;
                if (prefetch)
                    for (uint32_t j = 0; j < m; j++)
                        if (j != i)
                            prefetch(arg, j, c);
            }
            for (uint32_t r = 0; r < nr; r++) {
                uint32_t c = rank_c[r], i = rank_i[r];
                double x = 0;
                for (uint32_t j = 0; j < m; j++) {
                    double y = exact(arg, j, c, L[i], i, d);
                    if (y > 0)
                        x += y;
                }
                if (x > 0) {
                    buf[n_buf++] = (xs_cand){c, x};
                    ranked_kept_add(kept, &n_kept, req_k, x);
                }
            }
            proven = n_kept == req_k && kept[0] > tau;
        }
    }
    if (!proven && !whole && n_kept < req_k)
        return 0;
    for (uint32_t i = 0; i < n_buf; i++)
        api->push(out, buf[i].item, buf[i].score);
    return 1;
}

#endif
