/*
 * cooc.c -- building and reading co-occurrence tables.
 *
 * Build (Gustavson's row-by-row sparse product, halved by symmetry):
 *   1. Invert the transactions: for every item, the positions where it occurs
 *      (its index in the transaction's item array and that transaction's
 *      end).  support[a] is the number of such positions.
 *   2. Upper rows: for each item a, walk the items that follow a in each of
 *      its transactions (they are > a since transactions are sorted) and
 *      count them in a dense accumulator; emit U(a) = {(c, n_ac) : c > a}
 *      sorted.  Items are handed out in blocks to worker threads, each with
 *      its own accumulator and output buffer.
 *   3. Mirror: row(a) = L(a) ++ U(a), where L(a) = {(b, n_ab) : b < a, a in
 *      U(b)}.  Visiting b ascending and appending b to the rows of U(b)'s
 *      members leaves every L sorted without a sort.
 * The cost is the sum over transactions of |t|^2 / 2 additions.
 *
 * Storage: all rows live in two pool arrays (neighbours, counts: 8 bytes per
 * stored pair and direction).  The item -> row map is a uthash table of row
 * blocks, one entry per 64 consecutive item ids holding their offsets, plus
 * a dense support array: about 9 bytes per item, against scipy CSR's 12
 * (indptr and the diagonal), and nothing per pair.  Build memory: the pools
 * plus U (4 bytes per stored pair and direction) plus the inverted index;
 * large arrays come from bigmem.c (huge pages, reserved not touched).
 *
 * Online updates (xs_cooc_update) cost what the batch changes, not what the
 * rows hold: the first update of a built row copies it once into a row of
 * its own with spare room (a dense array of pointers by item, made on the
 * first update), and the pool pages it leaves are given back to the system;
 * later updates add to existing pairs in place (a binary search each) and
 * insert new neighbours by moving the row's tail, growing the row by half
 * again when it is full (the old allocation freed).  A batch is planned
 * first (every allocation made), then applied, so it is applied whole or
 * not at all.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "util/bigmem.h"
#include "util/sort_u32.h"
#include "util/xs_uthash.h"
#include "xsell/cooc.h"
#include "xsell/plugin_util.h"

/* The rows of ROW_BLOCK consecutive item ids: row i of the block spans
 * pool[base + off[i], base + off[i + 1]).  One hash entry per block keeps
 * the map under 6 bytes per item while blocks of items without rows (items
 * known only from the catalog, or outside this scope) cost nothing. */
#define ROW_BLOCK 64
typedef struct row_block {
    uint32_t key; /* item id / ROW_BLOCK */
    uint64_t base;
    uint32_t off[ROW_BLOCK + 1];
    UT_hash_handle hh;
} row_block;

/* A row moved out of the pool by online updates: it replaces the item's
 * row in the blocks, which is never read again.  One allocation: the
 * header, nbr[cap], then cnt[cap]; n <= cap pairs are used. */
typedef struct live_row {
    uint32_t n, cap;
    uint32_t v[];
} live_row;

#define LIVE_NBR(lr) ((lr)->v)
#define LIVE_CNT(lr) ((lr)->v + (lr)->cap)
#define LIVE_SIZE(cap) (sizeof(live_row) + 2 * sizeof(uint32_t) * (size_t)(cap))

struct xs_cooc {
    live_row **live;   /* by item id (live_cap entries), NULL where the
                          row is still the built one; NULL until the
                          first update */
    uint32_t live_cap;
    size_t live_bytes;     /* the live rows and the pointer array */
    size_t pool_released;  /* pool bytes given back (rows moved to live) */
    uint32_t support_cap;
    row_block *blocks; /* array of n_blocks, owned */
    row_block *map;    /* uthash head over blocks */
    uint32_t n_blocks;
    uint32_t n_rows;
    uint32_t n_items;
    uint32_t *support; /* dense by item id */
    uint32_t *version; /* dense by item id: bumped when a row changes */
    uint32_t *nbr;    /* pools */
    uint32_t *cnt;
    uint64_t n_pairs; /* directed */
    uint64_t pool_pairs; /* what nbr and cnt were allocated for: n_pairs
                            grows with online updates, the pools do not */
    uint64_t n_txns;
    xs_br_mapping pool_map[2]; /* when the pools are a snapshot image's
                                  pages (xs_cooc_image_read), not ours */
};

/* ---- step 2: upper rows, in parallel ------------------------------------ */

typedef struct inv_entry {
    uint32_t pos; /* index in t->items */
    uint32_t end; /* end of that transaction in t->items */
} inv_entry;

/* A worker's output: U rows of the items it took, back to back.  Reserved
 * for the worst case (address space only), so it never moves. */
typedef struct upper_buf {
    uint32_t *nbr, *cnt;
    uint64_t n, cap;
} upper_buf;

typedef struct build_job {
    const xs_txns *t;
    const uint64_t *inv_off; /* n_items + 1 */
    const inv_entry *inv;
    uint32_t n_items;
    int threads;
    _Atomic uint32_t next_block;
    /* per item: where its U lives */
    uint32_t *u_len;
    uint64_t *u_off;
    uint8_t *u_buf; /* index of the upper_buf */
    upper_buf *bufs;
    /* step 3 */
    const uint32_t *deg;   /* lower degree */
    const uint64_t *start; /* row start in the pools */
    uint64_t *fill;        /* lower cursor per row */
    const uint32_t *range; /* threads + 1 row boundaries */
    uint32_t *nbr, *cnt;   /* the pools */
    _Atomic int failed;    /* any worker may set it to 1 */
} build_job;

typedef struct build_worker {
    build_job *job;
    int id;
} build_worker;

#define ITEM_BLOCK 64

static void *build_upper(void *arg)
{
    build_worker *w = arg;
    build_job *job = w->job;
    const uint32_t n = job->n_items;
    const uint32_t *items = job->t->items;
    upper_buf *out = &job->bufs[w->id];
    size_t vec = (size_t)(n ? n : 1) * sizeof(uint32_t);
    uint32_t *acc = xs_big_alloc(vec);
    uint32_t *touched = xs_big_alloc(vec);
    uint32_t *tmp = xs_big_alloc(vec);
    if (!acc || !touched || !tmp) {
        job->failed = 1;
        goto done;
    }
    for (;;) {
        uint32_t block = atomic_fetch_add(&job->next_block, 1);
        uint64_t lo = (uint64_t)block * ITEM_BLOCK;
        if (lo >= n || job->failed)
            break;
        uint32_t hi = lo + ITEM_BLOCK < n ? (uint32_t)lo + ITEM_BLOCK : n;
        for (uint32_t a = (uint32_t)lo; a < hi; a++) {
            uint32_t nt = 0;
            for (uint64_t k = job->inv_off[a]; k < job->inv_off[a + 1]; k++) {
                const inv_entry *e = &job->inv[k];
                for (uint32_t q = e->pos + 1; q < e->end; q++) {
                    uint32_t c = items[q];
                    if (acc[c]++ == 0)
                        touched[nt++] = c;
                }
            }
            /* sorted emission: scan the accumulator when dense, else sort */
            uint32_t *dn = out->nbr + out->n, *dc = out->cnt + out->n;
            if (nt > 64 && (uint64_t)nt * 16 > (uint64_t)(n - a)) {
                uint32_t m = 0;
                for (uint32_t c = a + 1; m < nt; c++)
                    if (acc[c]) {
                        dn[m] = c;
                        dc[m++] = acc[c];
                        acc[c] = 0;
                    }
            } else {
                xs_sort_u32(touched, nt, tmp);
                for (uint32_t m = 0; m < nt; m++) {
                    uint32_t c = touched[m];
                    dn[m] = c;
                    dc[m] = acc[c];
                    acc[c] = 0;
                }
            }
            job->u_len[a] = nt;
            job->u_off[a] = out->n;
            job->u_buf[a] = (uint8_t)w->id;
            out->n += nt;
        }
    }
done:
    xs_big_free(acc, vec);
    xs_big_free(touched, vec);
    xs_big_free(tmp, vec);
    return NULL;
}

/* ---- step 3: mirror, in parallel by destination rows --------------------- */

static void *build_mirror(void *arg)
{
    build_worker *w = arg;
    build_job *job = w->job;
    const uint32_t lo = job->range[w->id], hi = job->range[w->id + 1];
    if (lo >= hi)
        return NULL;
    for (uint32_t a = 0; a < job->n_items; a++) {
        const upper_buf *b = &job->bufs[job->u_buf[a]];
        const uint32_t *un = b->nbr + job->u_off[a], *uc = b->cnt + job->u_off[a];
        uint32_t len = job->u_len[a];
        if (a >= lo && a < hi) { /* the item's own upper part */
            uint64_t dst = job->start[a] + job->deg[a];
            memcpy(job->nbr + dst, un, len * sizeof *un);
            memcpy(job->cnt + dst, uc, len * sizeof *uc);
        }
        if (a + 1 >= hi || len == 0 || un[len - 1] < lo)
            continue;
        /* U(a) is sorted: find its members in [lo, hi) */
        for (uint32_t m = xs_lower_bound(un, len, lo); m < len && un[m] < hi; m++) {
            uint64_t p = job->fill[un[m]]++;
            job->nbr[p] = a;
            job->cnt[p] = uc[m];
        }
    }
    return NULL;
}

/* Runs fn on `threads` workers (the caller's thread is worker 0). */
static void run_workers(build_job *job, void *(*fn)(void *))
{
    build_worker workers[64];
    pthread_t tid[64];
    int started[64] = {0};
    for (int i = 0; i < job->threads; i++) {
        workers[i].job = job;
        workers[i].id = i;
    }
    for (int i = 1; i < job->threads; i++)
        started[i] = pthread_create(&tid[i], NULL, fn, &workers[i]) == 0;
    fn(&workers[0]);
    /* a worker that could not be started runs here, so its share is done */
    for (int i = 1; i < job->threads; i++)
        if (!started[i])
            fn(&workers[i]);
    for (int i = 1; i < job->threads; i++)
        if (started[i])
            pthread_join(tid[i], NULL);
}

/* ---- the whole build ----------------------------------------------------- */

void xs_cooc_free(xs_cooc *c)
{
    if (!c)
        return;
    HASH_CLEAR(hh, c->map);
    for (uint32_t i = 0; c->live && i < c->live_cap; i++)
        free(c->live[i]);
    free(c->live);
    free(c->blocks);
    free(c->support);
    free(c->version);
    if (c->pool_map[0].base || c->pool_map[1].base) {
        xs_br_unmap(&c->pool_map[0]);
        xs_br_unmap(&c->pool_map[1]);
    } else {
        xs_big_free(c->nbr, c->pool_pairs * sizeof *c->nbr);
        xs_big_free(c->cnt, c->pool_pairs * sizeof *c->cnt);
    }
    free(c);
}

xs_cooc *xs_cooc_build(const xs_txns *t, uint32_t n_items, int threads,
                       xs_error *err)
{
    if (threads < 1)
        threads = 1;
    if (threads > 64)
        threads = 64;
    xs_cooc *c = calloc(1, sizeof *c);
    const size_t nv = (size_t)n_items + 1;
    uint64_t nnz = t->off[t->n];
    uint64_t *inv_off = calloc(nv, sizeof *inv_off);
    inv_entry *inv = xs_big_alloc((nnz ? nnz : 1) * sizeof *inv);
    build_job job = {0};
    upper_buf bufs[64];
    memset(bufs, 0, sizeof bufs);
    uint64_t *fill = NULL, *start = NULL, bound = 0;
    uint32_t *deg = NULL, range[65];
    if (!c || !inv_off || !inv)
        goto nomem;
    c->n_txns = t->n;

    /* step 1: invert, and bound the upper pairs by the additions to come */
    for (uint32_t tx = 0; tx < t->n; tx++) {
        uint64_t len = t->off[tx + 1] - t->off[tx];
        bound += len * (len ? len - 1 : 0) / 2;
    }
    if (bound > (uint64_t)n_items * (n_items ? n_items - 1 : 0) / 2)
        bound = (uint64_t)n_items * (n_items ? n_items - 1 : 0) / 2;
    for (uint64_t j = 0; j < nnz; j++)
        inv_off[t->items[j] + 1]++;
    for (uint32_t a = 0; a < n_items; a++)
        inv_off[a + 1] += inv_off[a];
    fill = malloc(nv * sizeof *fill);
    if (!fill)
        goto nomem;
    memcpy(fill, inv_off, nv * sizeof *fill);
    for (uint32_t tx = 0; tx < t->n; tx++)
        for (uint32_t j = t->off[tx]; j < t->off[tx + 1]; j++) {
            inv_entry *e = &inv[fill[t->items[j]]++];
            e->pos = j;
            e->end = t->off[tx + 1];
        }

    /* step 2: upper rows */
    job.t = t;
    job.inv_off = inv_off;
    job.inv = inv;
    job.n_items = n_items;
    job.threads = threads;
    job.bufs = bufs;
    job.u_len = calloc(nv, sizeof *job.u_len);
    job.u_off = calloc(nv, sizeof *job.u_off);
    job.u_buf = calloc(nv, 1);
    if (!job.u_len || !job.u_off || !job.u_buf)
        goto nomem;
    for (int i = 0; i < threads; i++) {
        bufs[i].cap = bound;
        bufs[i].nbr = xs_big_alloc((bound ? bound : 1) * sizeof(uint32_t));
        bufs[i].cnt = xs_big_alloc((bound ? bound : 1) * sizeof(uint32_t));
        if (!bufs[i].nbr || !bufs[i].cnt)
            goto nomem;
    }
    run_workers(&job, build_upper);
    xs_big_free(inv, (nnz ? nnz : 1) * sizeof *inv);
    inv = NULL;
    if (job.failed)
        goto nomem;

    /* step 3: mirror into the pools */
    deg = calloc(nv, sizeof *deg); /* lower degree */
    start = malloc(nv * sizeof *start);
    if (!deg || !start)
        goto nomem;
    uint64_t upper = 0;
    for (uint32_t a = 0; a < n_items; a++) {
        const upper_buf *b = &bufs[job.u_buf[a]];
        const uint32_t *un = b->nbr + job.u_off[a];
        for (uint32_t m = 0; m < job.u_len[a]; m++)
            deg[un[m]]++;
        upper += job.u_len[a];
    }
    c->n_pairs = 2 * upper;
    c->pool_pairs = c->n_pairs ? c->n_pairs : 1;
    c->nbr = xs_big_alloc(c->pool_pairs * sizeof *c->nbr);
    c->cnt = xs_big_alloc(c->pool_pairs * sizeof *c->cnt);
    if (!c->nbr || !c->cnt)
        goto nomem;
    uint64_t pos = 0;
    range[0] = 0;
    int r = 1;
    for (uint32_t a = 0; a < n_items; a++) {
        start[a] = pos;
        fill[a] = pos; /* lower cursor */
        pos += (uint64_t)deg[a] + job.u_len[a];
        /* balance the mirror by pairs written */
        while (r < threads && pos * threads >= c->n_pairs * (uint64_t)r)
            range[r++] = a + 1;
    }
    while (r <= threads)
        range[r++] = n_items;
    job.deg = deg;
    job.start = start;
    job.fill = fill;
    job.range = range;
    job.nbr = c->nbr;
    job.cnt = c->cnt;
    run_workers(&job, build_mirror);
    for (int i = 0; i < threads; i++) {
        xs_big_free(bufs[i].nbr, (bound ? bound : 1) * sizeof(uint32_t));
        xs_big_free(bufs[i].cnt, (bound ? bound : 1) * sizeof(uint32_t));
        bufs[i].nbr = bufs[i].cnt = NULL;
    }

    /* the item -> row map: supports, then one hash entry per block */
    c->support = calloc(nv, sizeof *c->support);
    c->version = calloc(nv, sizeof *c->version);
    uint32_t n_blocks = 0;
    for (uint32_t b = 0; b * (uint64_t)ROW_BLOCK < n_items; b++) {
        uint32_t lo = b * ROW_BLOCK;
        uint32_t hi = n_items - lo > ROW_BLOCK ? lo + ROW_BLOCK : n_items;
        n_blocks += inv_off[hi] > inv_off[lo];
    }
    c->blocks = calloc(n_blocks ? n_blocks : 1, sizeof *c->blocks);
    if (!c->support || !c->version || !c->blocks)
        goto nomem;
    c->n_items = n_items;
    c->support_cap = n_items + 1;
    int hash_oom = 0;
    for (uint32_t b = 0; b * (uint64_t)ROW_BLOCK < n_items; b++) {
        uint32_t lo = b * ROW_BLOCK;
        uint32_t hi = n_items - lo > ROW_BLOCK ? lo + ROW_BLOCK : n_items;
        if (inv_off[hi] == inv_off[lo])
            continue;
        row_block *blk = &c->blocks[c->n_blocks++];
        blk->key = b;
        blk->base = start[lo];
        uint64_t end = hi < n_items ? start[hi] : c->n_pairs;
        if (end - blk->base > UINT32_MAX) {
            xs_error_set(err, XS_ERR_DATA, "co-occurrence rows too large");
            goto fail;
        }
        for (uint32_t i = 0; i <= ROW_BLOCK; i++)
            blk->off[i] = (uint32_t)((lo + i < hi ? start[lo + i] : end) -
                                     blk->base);
        for (uint32_t a = lo; a < hi; a++) {
            c->support[a] = (uint32_t)(inv_off[a + 1] - inv_off[a]);
            c->n_rows += c->support[a] > 0;
        }
        HASH_ADD(hh, c->map, key, sizeof blk->key, blk);
        if (hash_oom)
            goto nomem;
    }
    free(inv_off);
    free(fill);
    free(start);
    free(deg);
    free(job.u_len);
    free(job.u_off);
    free(job.u_buf);
    return c;
nomem:
    xs_error_set(err, XS_ERR_NOMEM, "out of memory building co-occurrence");
fail:
    for (int i = 0; i < threads; i++) {
        xs_big_free(bufs[i].nbr, (bound ? bound : 1) * sizeof(uint32_t));
        xs_big_free(bufs[i].cnt, (bound ? bound : 1) * sizeof(uint32_t));
        bufs[i].nbr = bufs[i].cnt = NULL;
    }
    free(inv_off);
    xs_big_free(inv, (nnz ? nnz : 1) * sizeof *inv);
    free(fill);
    free(start);
    free(deg);
    free(job.u_len);
    free(job.u_off);
    free(job.u_buf);
    xs_cooc_free(c);
    return NULL;
}

/* ---- reading -------------------------------------------------------------- */

/* Finds item's row; returns 0 when it has none. */
static int find_row(const xs_cooc *c, uint32_t item, const uint32_t **nbr,
                    const uint32_t **cnt, uint32_t *n)
{
    if (item >= c->n_items || c->support[item] == 0)
        return 0;
    if (c->live && item < c->live_cap && c->live[item]) {
        const live_row *lr = c->live[item];
        *nbr = LIVE_NBR(lr);
        *cnt = LIVE_CNT(lr);
        *n = lr->n;
        return 1;
    }
    uint32_t key = item / ROW_BLOCK, i = item % ROW_BLOCK;
    row_block *b = NULL;
    HASH_FIND(hh, c->map, &key, sizeof key, b);
    if (!b) { /* an item whose first transaction came online */
        *n = 0;
        *nbr = *cnt = NULL;
        return 1;
    }
    uint64_t off = b->base + b->off[i];
    *nbr = c->nbr + off;
    *cnt = c->cnt + off;
    *n = b->off[i + 1] - b->off[i];
    return 1;
}

int xs_cooc_row(const xs_cooc *c, uint32_t item, xs_row *out)
{
    const uint32_t *nbr, *cnt;
    uint32_t n;
    if (!find_row(c, item, &nbr, &cnt, &n))
        return 0;
    out->item = item;
    out->support = c->support[item];
    out->n = n;
    out->nbr = nbr;
    out->cnt = cnt;
    return 1;
}

uint32_t xs_cooc_pair(const xs_cooc *c, uint32_t a, uint32_t b)
{
    const uint32_t *nbr, *cnt;
    uint32_t n;
    if (!find_row(c, a, &nbr, &cnt, &n))
        return 0;
    uint32_t i = xs_lower_bound(nbr, n, b);
    return i < n && nbr[i] == b ? cnt[i] : 0;
}

/* ---- online updates ------------------------------------------------------- */

static int cmp_inc(const void *x, const void *y)
{
    const xs_pair_inc *a = x, *b = y;
    if (a->a != b->a)
        return a->a < b->a ? -1 : 1;
    return (a->b > b->b) - (a->b < b->b);
}

/* One row of a batch: its increments inc[lo, hi) (sorted by neighbour,
 * one per neighbour), how many neighbours are new, and the allocation it
 * moves to (NULL: updated where it is). */
typedef struct row_plan {
    uint32_t a, added;
    size_t lo, hi;
    live_row *fresh;
} row_plan;

/* Room for need pairs: a built row's first copy gets an eighth more (most
 * rows only see their counts grow), a live row that fills up half again. */
static uint32_t row_cap(uint32_t need, uint32_t old_cap)
{
    uint64_t cap = old_cap ? (uint64_t)old_cap + old_cap / 2
                           : (uint64_t)need + need / 8;
    if (cap < need)
        cap = need;
    cap += 4;
    return cap > UINT32_MAX ? UINT32_MAX : (uint32_t)cap;
}

/* Writes the row (on, oc, olen) merged with the increments inc[0, k) into
 * lr, which has room for them all. */
static void merge_into(live_row *lr, const uint32_t *on, const uint32_t *oc,
                       uint32_t olen, const xs_pair_inc *inc, size_t k)
{
    uint32_t *dn = LIVE_NBR(lr), *dc = LIVE_CNT(lr);
    uint32_t n = 0, p = 0;
    size_t j = 0;
    while (p < olen || j < k) {
        if (j == k || (p < olen && on[p] < inc[j].b)) {
            dn[n] = on[p];
            dc[n++] = oc[p++];
        } else if (p < olen && on[p] == inc[j].b) {
            dn[n] = on[p];
            dc[n++] = oc[p++] + inc[j++].n;
        } else {
            dn[n] = inc[j].b;
            dc[n++] = inc[j++].n;
        }
    }
    lr->n = n;
}

/* Adds the increments inc[0, k) to lr in place, with lr's room for the
 * `added` new neighbours among them.  at[j] is where inc[j]'s neighbour is
 * or would go in the row as it is (found when the batch was planned),
 * is_new[j] whether it is new.  From the largest down: a new neighbour moves
 * the part of the row above it (one memmove per array) up by the new ones
 * still to place below, so the row moves once above the smallest new one;
 * a count below every new one is added where it is. */
static void update_in_place(live_row *lr, const xs_pair_inc *inc, size_t k,
                            uint32_t added, const uint32_t *at,
                            const uint8_t *is_new)
{
    uint32_t *nbr = LIVE_NBR(lr), *cnt = LIVE_CNT(lr);
    uint32_t end = lr->n, shift = added; /* [0, end) has not moved */
    for (size_t j = k; j-- > 0;) {
        uint32_t p = at[j];
        if (!is_new[j]) {
            cnt[p] += inc[j].n; /* p < end: not moved yet */
            continue;
        }
        memmove(nbr + p + shift, nbr + p, (size_t)(end - p) * sizeof *nbr);
        memmove(cnt + p + shift, cnt + p, (size_t)(end - p) * sizeof *cnt);
        end = p;
        shift--;
        nbr[p + shift] = inc[j].b;
        cnt[p + shift] = inc[j].n;
    }
    lr->n += added;
}

/* Gives back the whole pages of the built row at pool offset off, n pairs
 * long, once it has moved to a live row. */
static void release_built(xs_cooc *c, uint64_t off, uint32_t n)
{
    size_t bytes = c->pool_pairs * sizeof *c->nbr;
    c->pool_released += xs_big_release(c->nbr, bytes, off * sizeof *c->nbr,
                                       (size_t)n * sizeof *c->nbr);
    c->pool_released += xs_big_release(c->cnt, bytes, off * sizeof *c->cnt,
                                       (size_t)n * sizeof *c->cnt);
}

int xs_cooc_update(xs_cooc *c, uint32_t n_items, const uint32_t *sup,
                   size_t n_sup, xs_pair_inc *inc, size_t n_inc,
                   uint64_t new_txns, xs_error *err)
{
    /* Phase 1 allocates everything the update needs; phase 2 cannot fail,
     * so an update is applied whole or not at all. */
    uint32_t *support = c->support, *version = c->version;
    live_row **live = c->live;
    uint32_t cap = c->support_cap, live_cap = c->live_cap;
    row_plan *plan = NULL;
    uint32_t *at = NULL;   /* by increment: its place in its row */
    uint8_t *is_new = NULL; /* by increment: a new neighbour */
    size_t n_runs = 0;
    if (n_items + 1 > cap) {
        while (cap < n_items + 1)
            cap = cap < 1024 ? 1024 : cap * 2;
        support = calloc(cap, sizeof *support);
        version = calloc(cap, sizeof *version);
        if (!support || !version)
            goto nomem;
        memcpy(support, c->support, (size_t)c->n_items * sizeof *support);
        memcpy(version, c->version, (size_t)c->n_items * sizeof *version);
    }
    if (n_inc) { /* inc is NULL when the batch made no pair */
        qsort(inc, n_inc, sizeof *inc, cmp_inc);
        size_t w = 0; /* one increment per pair */
        for (size_t i = 0; i < n_inc; i++)
            if (w && inc[w - 1].a == inc[i].a && inc[w - 1].b == inc[i].b)
                inc[w - 1].n += inc[i].n;
            else
                inc[w++] = inc[i];
        n_inc = w;
        if (inc[n_inc - 1].a >= live_cap || !live) {
            live_cap = cap;
            live = calloc(live_cap, sizeof *live);
            if (!live)
                goto nomem;
        }
    }
    for (size_t i = 0; i < n_inc; i++)
        n_runs += i == 0 || inc[i].a != inc[i - 1].a;
    plan = calloc(n_runs ? n_runs : 1, sizeof *plan);
    at = malloc((n_inc ? n_inc : 1) * sizeof *at);
    is_new = malloc(n_inc ? n_inc : 1);
    if (!plan || !at || !is_new)
        goto nomem;
    size_t r = 0;
    for (size_t i = 0; i < n_inc; r++) {
        row_plan *pl = &plan[r];
        pl->a = inc[i].a;
        pl->lo = i;
        while (i < n_inc && inc[i].a == pl->a)
            i++;
        pl->hi = i;
        const uint32_t *on = NULL, *oc = NULL;
        uint32_t olen = 0, pos = 0;
        if (pl->a < c->n_items && c->support[pl->a])
            find_row(c, pl->a, &on, &oc, &olen);
        for (size_t k = pl->lo; k < pl->hi; k++) {
            if (olen)
                pos += xs_lower_bound(on + pos, olen - pos, inc[k].b);
            at[k] = pos;
            is_new[k] = pos == olen || on[pos] != inc[k].b;
            pl->added += is_new[k];
        }
        const live_row *old = c->live && pl->a < c->live_cap
                                  ? c->live[pl->a] : NULL;
        uint32_t need = olen + pl->added;
        if (old && old->cap >= need)
            continue;
        uint32_t rc = row_cap(need, old ? old->cap : 0);
        if (!(pl->fresh = malloc(LIVE_SIZE(rc))))
            goto nomem;
        pl->fresh->cap = rc;
    }
    /* phase 2 */
    if (support != c->support) {
        free(c->support);
        free(c->version);
        c->support = support;
        c->version = version;
        c->support_cap = cap;
    }
    if (live != c->live) {
        if (c->live)
            memcpy(live, c->live, (size_t)c->live_cap * sizeof *live);
        free(c->live);
        c->live_bytes += (size_t)(live_cap - c->live_cap) * sizeof *live;
        c->live = live;
        c->live_cap = live_cap;
    }
    if (n_items > c->n_items)
        c->n_items = n_items;
    for (size_t i = 0; i < n_sup; i++) {
        c->n_rows += c->support[sup[i]] == 0;
        c->support[sup[i]]++;
    }
    c->n_txns += new_txns;
    for (size_t i = 0; i < n_runs; i++) {
        row_plan *pl = &plan[i];
        live_row *old = c->live[pl->a];
        c->n_pairs += pl->added;
        c->version[pl->a]++;
        if (!pl->fresh) {
            update_in_place(old, inc + pl->lo, pl->hi - pl->lo, pl->added,
                            at + pl->lo, is_new + pl->lo);
            continue;
        }
        if (old) {
            merge_into(pl->fresh, LIVE_NBR(old), LIVE_CNT(old), old->n,
                       inc + pl->lo, pl->hi - pl->lo);
            c->live_bytes -= LIVE_SIZE(old->cap);
            free(old);
        } else {
            const uint32_t *on = NULL, *oc = NULL;
            uint32_t olen = 0;
            if (pl->a < c->n_items && c->support[pl->a])
                find_row(c, pl->a, &on, &oc, &olen);
            merge_into(pl->fresh, on, oc, olen, inc + pl->lo,
                       pl->hi - pl->lo);
            if (olen)
                release_built(c, (uint64_t)(on - c->nbr), olen);
        }
        c->live[pl->a] = pl->fresh;
        c->live_bytes += LIVE_SIZE(pl->fresh->cap);
    }
    free(plan);
    free(at);
    free(is_new);
    return XS_OK;
nomem:
    for (size_t i = 0; plan && i < n_runs; i++)
        free(plan[i].fresh);
    free(plan);
    free(at);
    free(is_new);
    if (live != c->live)
        free(live);
    if (support != c->support) {
        free(support);
        free(version);
    }
    return xs_error_set(err, XS_ERR_NOMEM, "out of memory updating "
                        "co-occurrence");
}

uint32_t xs_cooc_support(const xs_cooc *c, uint32_t item)
{
    return item < c->n_items ? c->support[item] : 0;
}

const uint32_t *xs_cooc_support_array(const xs_cooc *c)
{
    return c->support;
}

const uint32_t *xs_cooc_version_array(const xs_cooc *c)
{
    return c->version;
}

uint32_t xs_cooc_support_count(const xs_cooc *c)
{
    return c->n_items;
}

uint64_t xs_cooc_transactions(const xs_cooc *c)
{
    return c->n_txns;
}

uint32_t xs_cooc_items(const xs_cooc *c)
{
    return c->n_rows;
}

uint64_t xs_cooc_pairs(const xs_cooc *c)
{
    return c->n_pairs;
}

size_t xs_cooc_bytes(const xs_cooc *c)
{
    return sizeof *c + c->pool_pairs * 2 * sizeof(uint32_t) -
           c->pool_released + (size_t)c->n_blocks * sizeof(row_block) +
           (size_t)c->support_cap * 2 * sizeof(uint32_t) + c->live_bytes +
           HASH_OVERHEAD(hh, c->map);
}

/* ---- in a snapshot image (data/image.h) ---------------------------------- *
 * counts, supports, row lengths, then the neighbour pool and the count pool
 * as they read now: rows rewritten by ingest are merged in, so the image
 * is compact and reads back as a table with no live rows. */

void xs_cooc_image_write(const xs_cooc *c, xs_bw *w)
{
    uint64_t pairs = 0;
    const uint32_t *nbr, *cnt;
    uint32_t n;
    xs_bw_begin(w, XS_SEC_COOC);
    xs_bw_u32(w, c->n_items);
    xs_bw_u64(w, c->n_txns);
    for (uint32_t a = 0; a < c->n_items; a++)
        if (find_row(c, a, &nbr, &cnt, &n))
            pairs += n;
    xs_bw_u64(w, pairs);
    xs_bw_put(w, c->support, (size_t)c->n_items * sizeof *c->support);
    for (uint32_t a = 0; a < c->n_items; a++)
        xs_bw_u32(w, find_row(c, a, &nbr, &cnt, &n) ? n : 0);
    for (int pool = 0; pool < 2; pool++)
        for (uint32_t a = 0; a < c->n_items; a++)
            if (find_row(c, a, &nbr, &cnt, &n) && n)
                xs_bw_put(w, pool ? cnt : nbr, (size_t)n * sizeof *nbr);
    xs_bw_end(w);
}

xs_cooc *xs_cooc_image_read(xs_br *r)
{
    uint32_t tag;
    uint64_t size;
    if (xs_br_begin(r, &tag, &size) != 1 || tag != XS_SEC_COOC) {
        xs_br_fail(r, "want a co-occurrence section");
        return NULL;
    }
    uint32_t n_items = xs_br_u32(r);
    uint64_t n_txns = xs_br_u64(r), pairs = xs_br_u64(r);
    if (r->failed || (uint64_t)n_items * 8 + pairs * 8 != xs_br_left(r)) {
        xs_br_fail(r, "co-occurrence section of %u items and %llu pairs "
                   "in %llu bytes", n_items, (unsigned long long)pairs,
                   (unsigned long long)xs_br_left(r));
        return NULL;
    }
    xs_cooc *c = calloc(1, sizeof *c);
    uint32_t *len = malloc(((size_t)n_items + 1) * sizeof *len);
    uint64_t *start = malloc(((size_t)n_items + 1) * sizeof *start);
    if (!c || !len || !start)
        goto nomem;
    c->n_txns = n_txns;
    c->n_pairs = pairs;
    c->pool_pairs = pairs ? pairs : 1;
    c->support_cap = n_items + 1;
    c->support = calloc(c->support_cap, sizeof *c->support);
    c->version = calloc(c->support_cap, sizeof *c->version);
    if (!c->support || !c->version)
        goto nomem;
    c->n_items = n_items;
    if (xs_br_get(r, c->support, (size_t)n_items * sizeof *c->support) ||
        xs_br_get(r, len, (size_t)n_items * sizeof *len))
        goto fail;
    uint64_t pos = 0;
    for (uint32_t a = 0; a < n_items; a++) {
        start[a] = pos;
        pos += len[a];
        c->n_rows += c->support[a] > 0;
        if (len[a] && !c->support[a]) {
            xs_br_fail(r, "item %u has neighbours but no support", a);
            goto fail;
        }
    }
    start[n_items] = pos;
    if (pos != pairs) {
        xs_br_fail(r, "rows hold %llu pairs, the header says %llu",
                   (unsigned long long)pos, (unsigned long long)pairs);
        goto fail;
    }
    /* the pools are mapped from the image, not read: no copy, no zeroed
     * pages, and the page cache shares them (a table with no pairs gets a
     * one-pair pool of its own, as a build gives it) */
    if (pairs) {
        c->nbr = xs_br_map(r, pairs * sizeof *c->nbr, &c->pool_map[0]);
        if (c->nbr)
            c->cnt = xs_br_map(r, pairs * sizeof *c->cnt, &c->pool_map[1]);
        if (!c->nbr || !c->cnt)
            goto fail;
    } else if (!(c->nbr = xs_big_alloc(sizeof *c->nbr)) ||
               !(c->cnt = xs_big_alloc(sizeof *c->cnt))) {
        goto nomem;
    }
    if (xs_br_end(r))
        goto fail;
    for (uint64_t k = 0; k < pairs; k++)
        if (c->nbr[k] >= n_items) {
            xs_br_fail(r, "neighbour %u out of range", c->nbr[k]);
            goto fail;
        }
    uint32_t n_blocks = 0;
    for (uint32_t lo = 0; lo < n_items; lo += ROW_BLOCK) {
        uint32_t hi = n_items - lo > ROW_BLOCK ? lo + ROW_BLOCK : n_items;
        int any = 0;
        for (uint32_t a = lo; a < hi && !any; a++)
            any = c->support[a] > 0;
        n_blocks += any;
    }
    if (!(c->blocks = calloc(n_blocks ? n_blocks : 1, sizeof *c->blocks)))
        goto nomem;
    for (uint32_t lo = 0; lo < n_items; lo += ROW_BLOCK) {
        uint32_t hi = n_items - lo > ROW_BLOCK ? lo + ROW_BLOCK : n_items;
        int any = 0;
        for (uint32_t a = lo; a < hi && !any; a++)
            any = c->support[a] > 0;
        if (!any)
            continue;
        row_block *blk = &c->blocks[c->n_blocks++];
        blk->key = lo / ROW_BLOCK;
        blk->base = start[lo];
        if (start[hi] - blk->base > UINT32_MAX) {
            xs_br_fail(r, "co-occurrence rows too large");
            goto fail;
        }
        for (uint32_t i = 0; i <= ROW_BLOCK; i++)
            blk->off[i] = (uint32_t)(start[lo + i < hi ? lo + i : hi] -
                                     blk->base);
        int hash_oom = 0;
        HASH_ADD(hh, c->map, key, sizeof blk->key, blk);
        if (hash_oom)
            goto nomem;
    }
    free(len);
    free(start);
    return c;
nomem:
    xs_br_fail(r, "out of memory reading co-occurrence");
fail:
    free(len);
    free(start);
    xs_cooc_free(c);
    return NULL;
}
