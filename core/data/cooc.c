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
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

/* A row rewritten by online updates: it replaces the item's row in the
 * blocks, which stays allocated but unread. */
typedef struct live_row {
    uint32_t item;
    uint32_t n;
    uint32_t *nbr; /* one allocation: nbr[n] then cnt[n] */
    uint32_t *cnt;
    UT_hash_handle hh;
} live_row;

struct xs_cooc {
    live_row *live;    /* uthash head over rows rewritten by xs_cooc_update */
    size_t live_bytes;
    uint32_t support_cap;
    row_block *blocks; /* array of n_blocks, owned */
    row_block *map;    /* uthash head over blocks */
    uint32_t n_blocks;
    uint32_t n_rows;
    uint32_t n_items;
    uint32_t *support; /* dense by item id */
    uint32_t *version; /* dense by item id: bumped when a row is rewritten */
    uint32_t *nbr;    /* pools */
    uint32_t *cnt;
    uint64_t n_pairs; /* directed */
    uint64_t pool_pairs; /* what nbr and cnt were allocated for: n_pairs
                            grows with online updates, the pools do not */
    uint64_t n_txns;
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
    live_row *lr, *tmp;
    HASH_ITER(hh, c->live, lr, tmp) {
        HASH_DEL(c->live, lr);
        free(lr->nbr);
        free(lr);
    }
    free(c->blocks);
    free(c->support);
    free(c->version);
    xs_big_free(c->nbr, c->pool_pairs * sizeof *c->nbr);
    xs_big_free(c->cnt, c->pool_pairs * sizeof *c->cnt);
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
    if (c->live) {
        live_row *lr = NULL;
        HASH_FIND(hh, c->live, &item, sizeof item, lr);
        if (lr) {
            *nbr = lr->nbr;
            *cnt = lr->cnt;
            *n = lr->n;
            return 1;
        }
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

int xs_cooc_update(xs_cooc *c, uint32_t n_items, const uint32_t *sup,
                   size_t n_sup, xs_pair_inc *inc, size_t n_inc,
                   uint64_t new_txns, xs_error *err)
{
    /* Phase 1 allocates everything the update needs; phase 2 cannot fail,
     * so an update is applied whole or not at all. */
    uint32_t *support = c->support, *version = c->version;
    uint32_t cap = c->support_cap;
    if (n_items + 1 > cap) {
        while (cap < n_items + 1)
            cap = cap < 1024 ? 1024 : cap * 2;
        support = calloc(cap, sizeof *support);
        version = calloc(cap, sizeof *version);
        if (!support || !version) {
            free(support);
            free(version);
            return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        }
        memcpy(support, c->support, (size_t)c->n_items * sizeof *support);
        memcpy(version, c->version, (size_t)c->n_items * sizeof *version);
    }
    if (n_inc) /* inc is NULL when the batch made no pair */
        qsort(inc, n_inc, sizeof *inc, cmp_inc);
    size_t n_runs = 0;
    for (size_t i = 0; i < n_inc; i++)
        n_runs += i == 0 || inc[i].a != inc[i - 1].a;
    live_row **fresh = calloc(n_runs ? n_runs : 1, sizeof *fresh);
    if (!fresh)
        goto nomem;
    uint64_t new_pairs = 0;
    size_t r = 0;
    for (size_t i = 0; i < n_inc; r++) {
        uint32_t a = inc[i].a;
        size_t j = i;
        while (j < n_inc && inc[j].a == a)
            j++;
        const uint32_t *on = NULL, *oc = NULL;
        uint32_t olen = 0;
        if (a < c->n_items && c->support[a])
            find_row(c, a, &on, &oc, &olen);
        live_row *lr = malloc(sizeof *lr);
        size_t max = (size_t)olen + (j - i);
        uint32_t *buf = malloc(2 * max * sizeof *buf);
        if (!lr || !buf) {
            free(lr);
            free(buf);
            goto nomem;
        }
        fresh[r] = lr;
        lr->item = a;
        lr->nbr = buf;
        lr->cnt = buf + max;
        /* merge the old row with the sorted increments */
        uint32_t n = 0, p = 0;
        for (size_t k = i; k < j || p < olen;) {
            uint32_t b;
            uint32_t add = 0;
            if (k < j && (p >= olen || inc[k].b <= on[p]))
                b = inc[k].b;
            else
                b = on[p];
            uint32_t old = p < olen && on[p] == b ? oc[p++] : 0;
            if (!old)
                new_pairs++;
            while (k < j && inc[k].b == b)
                add += inc[k++].n;
            lr->nbr[n] = b;
            lr->cnt[n++] = old + add;
        }
        lr->n = n;
        i = j;
    }
    /* phase 2 */
    if (support != c->support) {
        free(c->support);
        free(c->version);
        c->support = support;
        c->version = version;
        c->support_cap = cap;
    }
    if (n_items > c->n_items)
        c->n_items = n_items;
    for (size_t i = 0; i < n_sup; i++) {
        c->n_rows += c->support[sup[i]] == 0;
        c->support[sup[i]]++;
    }
    c->n_txns += new_txns;
    c->n_pairs += new_pairs;
    for (size_t i = 0; i < n_runs; i++) {
        live_row *old = NULL, *lr = fresh[i];
        HASH_FIND(hh, c->live, &lr->item, sizeof lr->item, old);
        if (old) {
            HASH_DEL(c->live, old);
            c->live_bytes -= sizeof *old + 2 * sizeof(uint32_t) * old->n;
            free(old->nbr);
            free(old);
        }
        int hash_oom = 0;
        HASH_ADD(hh, c->live, item, sizeof lr->item, lr);
        if (hash_oom) { /* only the first add can fail: keep the old row */
            free(lr->nbr);
            free(lr);
            continue;
        }
        c->version[lr->item]++;
        c->live_bytes += sizeof *lr + 2 * sizeof(uint32_t) * lr->n;
    }
    free(fresh);
    return XS_OK;
nomem:
    for (size_t i = 0; fresh && i < n_runs; i++)
        if (fresh[i]) {
            free(fresh[i]->nbr);
            free(fresh[i]);
        }
    free(fresh);
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
    return sizeof *c + c->pool_pairs * 2 * sizeof(uint32_t) +
           (size_t)c->n_blocks * sizeof(row_block) +
           (size_t)c->support_cap * 2 * sizeof(uint32_t) + c->live_bytes +
           HASH_OVERHEAD(hh, c->map) + HASH_OVERHEAD(hh, c->live);
}
