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
 * stored pair and direction); the item -> row map is a uthash table whose
 * entries are one array of row headers, so the hash costs per item, not per
 * pair.  Peak memory during the build is the pools plus U (4 bytes per stored
 * pair and direction).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sort_u32.h"
#include "xs_uthash.h"
#include "xsell/cooc.h"

typedef struct cooc_row {
    uint32_t item;
    uint32_t support;
    uint32_t n;
    uint64_t off; /* into the pools */
    UT_hash_handle hh;
} cooc_row;

struct xs_cooc {
    cooc_row *rows;   /* one per item with support, owned */
    cooc_row *map;    /* uthash head over rows */
    uint32_t n_rows;
    uint32_t n_items;
    uint32_t *support; /* dense by item id */
    uint32_t *nbr;    /* pools */
    uint32_t *cnt;
    uint64_t n_pairs; /* directed */
    uint64_t n_txns;
};

/* ---- step 2: upper rows, in parallel ------------------------------------ */

typedef struct inv_entry {
    uint32_t pos; /* index in t->items */
    uint32_t end; /* end of that transaction in t->items */
} inv_entry;

typedef struct upper_buf {
    uint32_t *nbr, *cnt;
    uint64_t n, cap;
} upper_buf;

typedef struct build_job {
    const xs_txns *t;
    const uint64_t *inv_off; /* n_items + 1 */
    const inv_entry *inv;
    uint32_t n_items;
    _Atomic uint32_t next_block;
    /* per item: where its U lives */
    uint32_t *u_len;
    uint64_t *u_off;
    uint8_t *u_buf; /* index of the upper_buf */
    upper_buf *bufs;
    _Atomic int failed; /* any worker may set it to 1 */
} build_job;

typedef struct build_worker {
    build_job *job;
    int id;
} build_worker;

#define ITEM_BLOCK 256

static int upper_reserve(upper_buf *b, uint64_t more)
{
    if (b->n + more <= b->cap)
        return 0;
    uint64_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->n + more)
        cap *= 2;
    uint32_t *n1 = realloc(b->nbr, cap * sizeof *n1);
    if (!n1)
        return -1;
    b->nbr = n1;
    uint32_t *c1 = realloc(b->cnt, cap * sizeof *c1);
    if (!c1)
        return -1;
    b->cnt = c1;
    b->cap = cap;
    return 0;
}

static void *build_upper(void *arg)
{
    build_worker *w = arg;
    build_job *job = w->job;
    const uint32_t n = job->n_items;
    const uint32_t *items = job->t->items;
    upper_buf *out = &job->bufs[w->id];
    uint32_t *acc = calloc(n ? n : 1, sizeof *acc);
    uint32_t *touched = malloc((n ? n : 1) * sizeof *touched);
    uint32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
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
            if (upper_reserve(out, nt)) {
                job->failed = 1;
                goto done;
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
    free(acc);
    free(touched);
    free(tmp);
    return NULL;
}

/* ---- the whole build ----------------------------------------------------- */

void xs_cooc_free(xs_cooc *c)
{
    if (!c)
        return;
    HASH_CLEAR(hh, c->map);
    free(c->rows);
    free(c->support);
    free(c->nbr);
    free(c->cnt);
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
    uint64_t *inv_off = calloc((size_t)n_items + 1, sizeof *inv_off);
    uint64_t nnz = t->off[t->n];
    inv_entry *inv = malloc((nnz ? nnz : 1) * sizeof *inv);
    build_job job = {0};
    upper_buf bufs[64];
    memset(bufs, 0, sizeof bufs);
    uint64_t *fill = NULL, *start = NULL;
    uint32_t *deg = NULL;
    if (!c || !inv_off || !inv)
        goto nomem;
    c->n_txns = t->n;

    /* step 1: invert */
    for (uint64_t j = 0; j < nnz; j++)
        inv_off[t->items[j] + 1]++;
    for (uint32_t a = 0; a < n_items; a++)
        inv_off[a + 1] += inv_off[a];
    fill = malloc(((size_t)n_items + 1) * sizeof *fill);
    if (!fill)
        goto nomem;
    memcpy(fill, inv_off, ((size_t)n_items + 1) * sizeof *fill);
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
    job.bufs = bufs;
    job.u_len = calloc((size_t)n_items + 1, sizeof *job.u_len);
    job.u_off = calloc((size_t)n_items + 1, sizeof *job.u_off);
    job.u_buf = calloc((size_t)n_items + 1, 1);
    if (!job.u_len || !job.u_off || !job.u_buf)
        goto nomem;
    {
        build_worker workers[64];
        pthread_t tid[64];
        int started = 0;
        for (int i = 0; i < threads; i++) {
            workers[i].job = &job;
            workers[i].id = i;
            if (i > 0 && pthread_create(&tid[i], NULL, build_upper, &workers[i]))
                break;
            started = i + 1;
        }
        build_upper(&workers[0]);
        for (int i = 1; i < started; i++)
            pthread_join(tid[i], NULL);
    }
    free(inv);
    inv = NULL;
    if (job.failed)
        goto nomem;

    /* step 3: mirror into the pools */
    deg = calloc((size_t)n_items + 1, sizeof *deg); /* lower degree */
    start = malloc(((size_t)n_items + 1) * sizeof *start);
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
    c->nbr = malloc((c->n_pairs ? c->n_pairs : 1) * sizeof *c->nbr);
    c->cnt = malloc((c->n_pairs ? c->n_pairs : 1) * sizeof *c->cnt);
    if (!c->nbr || !c->cnt)
        goto nomem;
    uint64_t pos = 0;
    for (uint32_t a = 0; a < n_items; a++) {
        start[a] = pos;
        fill[a] = pos; /* lower cursor */
        pos += (uint64_t)deg[a] + job.u_len[a];
    }
    for (uint32_t a = 0; a < n_items; a++) {
        const upper_buf *b = &bufs[job.u_buf[a]];
        const uint32_t *un = b->nbr + job.u_off[a], *uc = b->cnt + job.u_off[a];
        uint32_t len = job.u_len[a];
        for (uint32_t m = 0; m < len; m++) {
            uint64_t p = fill[un[m]]++;
            c->nbr[p] = a;
            c->cnt[p] = uc[m];
        }
        uint64_t dst = start[a] + deg[a];
        memcpy(c->nbr + dst, un, len * sizeof *un);
        memcpy(c->cnt + dst, uc, len * sizeof *uc);
    }
    for (int i = 0; i < 64; i++) {
        free(bufs[i].nbr);
        free(bufs[i].cnt);
        bufs[i].nbr = bufs[i].cnt = NULL;
    }

    /* the item -> row map */
    uint32_t n_rows = 0;
    for (uint32_t a = 0; a < n_items; a++)
        n_rows += inv_off[a + 1] > inv_off[a];
    c->rows = calloc(n_rows ? n_rows : 1, sizeof *c->rows);
    c->support = calloc((size_t)n_items + 1, sizeof *c->support);
    if (!c->rows || !c->support)
        goto nomem;
    c->n_items = n_items;
    int hash_oom = 0;
    for (uint32_t a = 0; a < n_items; a++) {
        uint64_t sup = inv_off[a + 1] - inv_off[a];
        if (!sup)
            continue;
        cooc_row *r = &c->rows[c->n_rows++];
        r->item = a;
        r->support = (uint32_t)sup;
        c->support[a] = (uint32_t)sup;
        r->n = deg[a] + job.u_len[a];
        r->off = start[a];
        HASH_ADD(hh, c->map, item, sizeof r->item, r);
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
    for (int i = 0; i < 64; i++) {
        free(bufs[i].nbr);
        free(bufs[i].cnt);
    }
    free(inv_off);
    free(inv);
    free(fill);
    free(start);
    free(deg);
    free(job.u_len);
    free(job.u_off);
    free(job.u_buf);
    xs_cooc_free(c);
    xs_error_set(err, XS_ERR_NOMEM, "out of memory building co-occurrence");
    return NULL;
}

/* ---- reading -------------------------------------------------------------- */

static const cooc_row *find_row(const xs_cooc *c, uint32_t item)
{
    cooc_row *r = NULL;
    HASH_FIND(hh, c->map, &item, sizeof item, r);
    return r;
}

int xs_cooc_row(const xs_cooc *c, uint32_t item, xs_row *out)
{
    const cooc_row *r = find_row(c, item);
    if (!r)
        return 0;
    out->item = item;
    out->support = r->support;
    out->n = r->n;
    out->nbr = c->nbr + r->off;
    out->cnt = c->cnt + r->off;
    return 1;
}

uint32_t xs_cooc_pair(const xs_cooc *c, uint32_t a, uint32_t b)
{
    const cooc_row *r = find_row(c, a);
    if (!r)
        return 0;
    const uint32_t *nbr = c->nbr + r->off;
    uint32_t lo = 0, hi = r->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nbr[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < r->n && nbr[lo] == b ? c->cnt[r->off + lo] : 0;
}

uint32_t xs_cooc_support(const xs_cooc *c, uint32_t item)
{
    return item < c->n_items ? c->support[item] : 0;
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
    return sizeof *c + c->n_pairs * 2 * sizeof(uint32_t) +
           (size_t)c->n_rows * sizeof(cooc_row) +
           (size_t)c->n_items * sizeof(uint32_t) + HASH_OVERHEAD(hh, c->map);
}
