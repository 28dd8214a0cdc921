/*
 * itemsets.c -- association rules over frequent itemsets (xsell/itemsets.h).
 *
 * Items are the frequent ones only (count >= the minimum: no itemset
 * holding another can be frequent, so dropping the rest is exact), ranked
 * by ascending count, ties by id; each transaction is rewritten as its
 * frequent items' ranks, ascending.  Mining is Eclat, depth first:
 *
 *   lv[0]          every frequent item with its transaction-id list
 *   lv[d], d >= 1  the frequent extensions j > p_d of the prefix
 *                  P = p_1..p_d (each p_k a member of lv[k-1]), with the
 *                  id list of P + {j}
 *
 * lv[d] is counted by projection: over the transactions of P, the items
 * after p_d that are members of lv[d-1] after p_d (the only candidates:
 * P - p_d + j must be frequent) are counted, then the frequent ones get
 * their id lists in a second pass.  Id lists come out sorted because the
 * transactions are scanned in order.
 *
 * Rules of the itemsets X = P + {j} (all j of lv[d], |X| = d + 1) are
 * emitted before descending.  X - r for each r in X:
 *   r = j          P itself: its count is its member's in lv[d-1];
 *   r = p_d        p_1..p_{d-1} + j, a member of lv[d-1] (its by_item);
 *   r = p_m, m < d counted now, for every j of lv[d] at once, over the
 *                  transactions of p_1..p_{m-1} + p_{m+1} (the id list of
 *                  member p_{m+1} of lv[m-1]) that hold p_{m+2}..p_d too;
 *                  with d = 2 (X - p_1 = {p_2, j}) read from the triangle
 *                  of pair counts when there is one (max_len > 2 and at
 *                  most pair_bytes of it), made up front.
 * (The code counts from 0: p[0] is p_1, lv[m] holds p[m]'s siblings.)
 * Invariants: lv[k].by_item[j] is the count of member j of lv[k] and is
 * only read for members; lv[0..d] stay as they are while lv[d+1..] are
 * rebuilt below them.  Memory: the rewritten transactions, the item id
 * lists, lv[1..max_len-1] (each member's list no longer than its
 * prefix's, a level's lists together no longer than the transactions), the
 * pair triangle; the counters are per item.  Nothing depends on the number
 * of itemsets or rules found.
 *
 * Values are computed in the same double operations as rules.c, so
 * max_len 2 gives xs_rules_find's figures bit for bit.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/rule_order.h"
#include "xsell/itemsets.h"

#define MAXL XS_ITEMSETS_MAX_LEN

typedef struct level {
    uint32_t n;        /* members */
    uint32_t *item;    /* ranks, ascending (n) */
    uint32_t *cnt;     /* counts (n) */
    uint32_t *off;     /* id list offsets (n + 1) */
    uint32_t *tid;     /* id lists */
    size_t tcap;       /* room in tid */
    uint32_t *by_item; /* count by rank, valid for members (F) */
} level;

typedef struct miner {
    uint32_t F, min_count;
    uint64_t N;
    double min_conf;
    unsigned max_len;
    size_t pair_bytes;
    uint32_t *rank_item; /* rank -> item id */
    uint32_t *icnt;      /* rank -> count */
    uint32_t *toff;      /* rewritten transactions (N + 1 offsets) */
    uint32_t *titem;
    level lv[MAXL];
    uint32_t *scratch;   /* by rank, all 0 between uses */
    uint32_t *mark;      /* by rank: == token when a candidate / member */
    uint32_t token;
    uint32_t *q[MAXL];   /* q[m][j]: count of P - p_m + j */
    uint32_t *pair;      /* with max_len > 2 and few items: pair counts,
                            pair[pair_row(a) + b] for ranks a < b */
    uint32_t p[MAXL];    /* the prefix, ranks */
    uint32_t at[MAXL];   /* p[k]'s index in lv[k] */
    xs_itemset_rule_fn fn;
    void *arg;
} miner;

/* Pairs of frequent items are counted up front (sum of |t|^2 / 2 over the
 * rewritten transactions) when the triangle takes at most this much
 * (xs_itemsets_config.pair_bytes). */
#define PAIR_BYTES ((size_t)64 << 20)

/* Index of pair (a, b), a < b, is pair_row(a) + b. */
static uint64_t pair_row(const miner *m, uint32_t a)
{
    return (uint64_t)a * m->F - (uint64_t)a * (a + 1) / 2 - a - 1;
}

static uint32_t next_token(miner *m)
{
    if (++m->token == 0) { /* wrapped: no stale mark may equal a new one */
        memset(m->mark, 0, (size_t)m->F * sizeof *m->mark);
        m->token = 1;
    }
    return m->token;
}

/* First index of a[0, n) holding a value > v. */
static uint32_t after(const uint32_t *a, uint32_t n, uint32_t v)
{
    uint32_t lo = 0, hi = n;
    if (n <= 16) { /* most transactions: a scan beats the branches */
        while (lo < n && a[lo] <= v)
            lo++;
        return lo;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* 1 when the ascending ranks want[0, k) are all in the transaction a. */
static int holds(const uint32_t *a, uint32_t n, const uint32_t *want,
                 unsigned k)
{
    uint32_t from = 0;
    for (unsigned i = 0; i < k; i++) {
        uint32_t pos = from + after(a + from, n - from, want[i]);
        if (pos == from || a[pos - 1] != want[i])
            return 0;
        from = pos;
    }
    return 1;
}

static int level_room(level *l, uint32_t n, size_t tids)
{
    uint32_t *it = realloc(l->item, ((size_t)n + 1) * sizeof *it);
    if (it)
        l->item = it;
    uint32_t *c = realloc(l->cnt, ((size_t)n + 1) * sizeof *c);
    if (c)
        l->cnt = c;
    uint32_t *o = realloc(l->off, ((size_t)n + 2) * sizeof *o);
    if (o)
        l->off = o;
    if (!it || !c || !o)
        return -1;
    if (tids > l->tcap) {
        size_t cap = l->tcap ? l->tcap : 1024;
        while (cap < tids)
            cap *= 2;
        uint32_t *t = realloc(l->tid, cap * sizeof *t);
        if (!t)
            return -1;
        l->tid = t;
        l->tcap = cap;
    }
    return 0;
}

/* Builds lv[d] (d >= 1) from the prefix p[0, d). */
static int extend(miner *m, unsigned d)
{
    level *up = &m->lv[d - 1], *l = &m->lv[d];
    uint32_t idx = m->at[d - 1], last = m->p[d - 1];
    l->n = 0;
    if (idx + 1 >= up->n)
        return 0;
    uint32_t tok = next_token(m);
    for (uint32_t k = idx + 1; k < up->n; k++)
        m->mark[up->item[k]] = tok;
    const uint32_t *ids = up->tid + up->off[idx];
    uint32_t nids = up->cnt[idx];
    for (uint32_t i = 0; i < nids; i++) {
        const uint32_t *a = m->titem + m->toff[ids[i]];
        uint32_t n = m->toff[ids[i] + 1] - m->toff[ids[i]];
        for (uint32_t k = after(a, n, last); k < n; k++)
            if (m->mark[a[k]] == tok)
                m->scratch[a[k]]++;
    }
    uint32_t members = 0;
    size_t tids = 0;
    for (uint32_t k = idx + 1; k < up->n; k++) {
        uint32_t c = m->scratch[up->item[k]];
        if (c >= m->min_count) {
            members++;
            tids += c;
        }
    }
    if (!members) {
        for (uint32_t k = idx + 1; k < up->n; k++)
            m->scratch[up->item[k]] = 0;
        return 0;
    }
    if (level_room(l, members, tids))
        return -1;
    tok = next_token(m); /* now: the members */
    size_t pos = 0;
    for (uint32_t k = idx + 1; k < up->n; k++) {
        uint32_t j = up->item[k], c = m->scratch[j];
        m->scratch[j] = 0;
        if (c < m->min_count)
            continue;
        l->item[l->n] = j;
        l->cnt[l->n] = c;
        l->off[l->n] = (uint32_t)pos;
        l->by_item[j] = c;
        m->mark[j] = tok;
        m->scratch[j] = (uint32_t)pos; /* fill cursor */
        pos += c;
        l->n++;
    }
    l->off[l->n] = (uint32_t)pos;
    for (uint32_t i = 0; i < nids; i++) {
        const uint32_t *a = m->titem + m->toff[ids[i]];
        uint32_t n = m->toff[ids[i] + 1] - m->toff[ids[i]];
        for (uint32_t k = after(a, n, last); k < n; k++)
            if (m->mark[a[k]] == tok)
                l->tid[m->scratch[a[k]]++] = ids[i];
    }
    for (uint32_t k = 0; k < l->n; k++)
        m->scratch[l->item[k]] = 0;
    return 0;
}

/* q[mi][j] for every member j of lv[d]: the count of P - p_mi + j,
 * mi < d - 1.  The members are marked with the current token. */
static void count_without(miner *m, unsigned d, unsigned mi)
{
    level *l = &m->lv[d];
    uint32_t *q = m->q[mi];
    if (d == 2 && m->pair) { /* P - p_0 = {p_1}: pairs, counted already */
        uint64_t row = pair_row(m, m->p[1]);
        for (uint32_t k = 0; k < l->n; k++)
            q[l->item[k]] = m->pair[row + l->item[k]];
        return;
    }
    for (uint32_t k = 0; k < l->n; k++)
        q[l->item[k]] = 0;
    /* base: the transactions of p_0..p_{mi-1} + p_{mi+1}, member p_{mi+1}
     * of lv[mi]; the rest of P - p_mi (ascending ranks) is checked in each */
    const level *b = &m->lv[mi];
    uint32_t at = after(b->item, b->n, m->p[mi + 1]) - 1;
    const uint32_t *ids = b->tid + b->off[at];
    uint32_t nids = b->cnt[at];
    const uint32_t *rest = m->p + mi + 2;
    unsigned nrest = d - mi - 2;
    uint32_t tok = m->token, last = m->p[d - 1];
    for (uint32_t i = 0; i < nids; i++) {
        const uint32_t *a = m->titem + m->toff[ids[i]];
        uint32_t n = m->toff[ids[i] + 1] - m->toff[ids[i]];
        if (nrest && !holds(a, n, rest, nrest))
            continue;
        for (uint32_t k = after(a, n, last); k < n; k++)
            if (m->mark[a[k]] == tok)
                q[a[k]]++;
    }
}

/* The rules of X = p[0, d) + {j}, j member k of lv[d]. */
static int emit(miner *m, unsigned d, uint32_t k)
{
    const level *l = &m->lv[d], *up = &m->lv[d - 1];
    uint32_t j = l->item[k], cnt = l->cnt[k];
    uint32_t x[MAXL];
    memcpy(x, m->p, d * sizeof *x);
    x[d] = j;
    xs_itemset_rule r;
    memset(&r, 0, sizeof r);
    for (unsigned out = 0; out <= d; out++) { /* x[out] on the right */
        uint32_t lhs_cnt;
        if (out == d)
            lhs_cnt = up->cnt[m->at[d - 1]];
        else if (out == d - 1)
            lhs_cnt = up->by_item[j];
        else
            lhs_cnt = m->q[out][j];
        double conf = (double)cnt / lhs_cnt;
        if (conf < m->min_conf - 1e-12)
            continue;
        uint32_t rhs = x[out];
        r.n_lhs = 0;
        for (unsigned i = 0; i <= d; i++)
            if (i != out)
                r.lhs[r.n_lhs++] = m->rank_item[x[i]];
        r.rhs = m->rank_item[rhs];
        r.count = cnt;
        r.support = (double)cnt / (double)m->N;
        r.confidence = conf;
        r.lift = (double)cnt * (double)m->N /
                 ((double)lhs_cnt * (double)m->icnt[rhs]);
        int rc = m->fn(m->arg, &r);
        if (rc)
            return rc;
    }
    return XS_OK;
}

/* Everything below the prefix p[0, d), d >= 1. */
static int descend(miner *m, unsigned d)
{
    if (extend(m, d))
        return XS_ERR_NOMEM;
    level *l = &m->lv[d];
    if (!l->n)
        return XS_OK;
    for (unsigned mi = 0; mi + 1 < d; mi++)
        count_without(m, d, mi);
    for (uint32_t k = 0; k < l->n; k++) {
        int rc = emit(m, d, k);
        if (rc)
            return rc;
    }
    if (d + 1 >= m->max_len)
        return XS_OK;
    for (uint32_t k = 0; k < l->n; k++) {
        m->p[d] = l->item[k];
        m->at[d] = k;
        int rc = descend(m, d + 1);
        if (rc)
            return rc;
    }
    return XS_OK;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

static int cmp_u64(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

static void miner_free(miner *m)
{
    free(m->rank_item);
    free(m->icnt);
    free(m->toff);
    free(m->titem);
    free(m->scratch);
    free(m->mark);
    free(m->pair);
    for (unsigned d = 0; d < MAXL; d++) {
        free(m->lv[d].item);
        free(m->lv[d].cnt);
        free(m->lv[d].off);
        free(m->lv[d].tid);
        free(m->lv[d].by_item);
        free(m->q[d]);
    }
}

/* Ranks, rewritten transactions, lv[0]; -1 when out of memory. */
static int miner_init(miner *m, const xs_txns *t, uint32_t n_items)
{
    uint32_t *count = calloc((size_t)n_items + 1, sizeof *count);
    uint32_t *rank = NULL;
    if (!count)
        return -1;
    for (size_t i = 0; i < (size_t)t->off[t->n]; i++)
        if (t->items[i] < n_items)
            count[t->items[i]]++;
    uint32_t F = 0;
    for (uint32_t i = 0; i < n_items; i++)
        F += count[i] >= m->min_count;
    m->F = F;
    size_t Fa = F ? F : 1;
    m->rank_item = malloc(Fa * sizeof *m->rank_item);
    m->icnt = malloc(Fa * sizeof *m->icnt);
    m->scratch = calloc(Fa, sizeof *m->scratch);
    m->mark = calloc(Fa, sizeof *m->mark);
    m->toff = malloc(((size_t)t->n + 1) * sizeof *m->toff);
    rank = malloc(((size_t)n_items + 1) * sizeof *rank);
    int bad = !m->rank_item || !m->icnt || !m->scratch || !m->mark ||
              !m->toff || !rank;
    for (unsigned d = 0; d < m->max_len && !bad; d++) {
        bad |= !(m->lv[d].by_item = malloc(Fa * sizeof(uint32_t)));
        bad |= !(m->q[d] = malloc(Fa * sizeof(uint32_t)));
    }
    if (bad)
        goto fail;
    F = 0;
    for (uint32_t i = 0; i < n_items; i++)
        if (count[i] >= m->min_count)
            m->rank_item[F++] = i;
    { /* ascending count, ties by id */
        uint64_t *key = malloc(Fa * sizeof *key);
        if (!key)
            goto fail;
        for (uint32_t r = 0; r < F; r++)
            key[r] = (uint64_t)count[m->rank_item[r]] << 32 | m->rank_item[r];
        qsort(key, F, sizeof *key, cmp_u64);
        for (uint32_t r = 0; r < F; r++)
            m->rank_item[r] = (uint32_t)key[r];
        free(key);
    }
    for (uint32_t i = 0; i < n_items; i++)
        rank[i] = UINT32_MAX;
    size_t occ = 0;
    for (uint32_t r = 0; r < F; r++) {
        rank[m->rank_item[r]] = r;
        m->icnt[r] = count[m->rank_item[r]];
        occ += m->icnt[r];
    }
    if (!(m->titem = malloc((occ ? occ : 1) * sizeof *m->titem)))
        goto fail;
    size_t w = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        m->toff[i] = (uint32_t)w;
        size_t from = w;
        for (uint32_t k = t->off[i]; k < t->off[i + 1]; k++) {
            uint32_t it = t->items[k];
            if (it < n_items && rank[it] != UINT32_MAX)
                m->titem[w++] = rank[it];
        }
        /* ranks ascending (item ids were): insertion sort when short */
        size_t n = w - from;
        uint32_t *a = m->titem + from;
        if (n > 32) {
            qsort(a, n, sizeof *a, cmp_u32);
            continue;
        }
        for (size_t x = 1; x < n; x++) {
            uint32_t v = a[x];
            size_t y = x;
            while (y > 0 && a[y - 1] > v) {
                a[y] = a[y - 1];
                y--;
            }
            a[y] = v;
        }
    }
    m->toff[t->n] = (uint32_t)w;
    /* lv[0]: every item, its id list */
    level *l = &m->lv[0];
    if (level_room(l, F, occ))
        goto fail;
    l->n = F;
    size_t pos = 0;
    for (uint32_t r = 0; r < F; r++) {
        l->item[r] = r;
        l->cnt[r] = m->icnt[r];
        l->by_item[r] = m->icnt[r];
        l->off[r] = (uint32_t)pos;
        m->scratch[r] = (uint32_t)pos;
        pos += m->icnt[r];
    }
    l->off[F] = (uint32_t)pos;
    for (uint32_t i = 0; i < t->n; i++)
        for (uint32_t k = m->toff[i]; k < m->toff[i + 1]; k++)
            l->tid[m->scratch[m->titem[k]]++] = i;
    memset(m->scratch, 0, Fa * sizeof *m->scratch);
    uint64_t pairs = (uint64_t)F * (F ? F - 1 : 0) / 2;
    if (m->max_len > 2 && pairs && pairs <= m->pair_bytes / 4 &&
        (m->pair = calloc((size_t)pairs, sizeof *m->pair)))
        for (uint32_t i = 0; i < t->n; i++)
            for (uint32_t x = m->toff[i]; x < m->toff[i + 1]; x++) {
                uint32_t *row = m->pair + pair_row(m, m->titem[x]);
                for (uint32_t y = x + 1; y < m->toff[i + 1]; y++)
                    row[m->titem[y]]++;
            }
    free(count);
    free(rank);
    return 0;
fail:
    free(count);
    free(rank);
    return -1;
}

int xs_itemsets_rules(const xs_txns *t, uint32_t n_items,
                      const xs_itemsets_config *cfg, xs_itemset_rule_fn fn,
                      void *arg, xs_error *err)
{
    if (!(cfg->min_support >= 0 && cfg->min_support <= 1) ||
        !(cfg->min_confidence >= 0 && cfg->min_confidence <= 1))
        return xs_error_set(err, XS_ERR_USAGE,
                            "support and confidence must be in [0, 1]");
    if (cfg->max_len < 2 || cfg->max_len > MAXL)
        return xs_error_set(err, XS_ERR_USAGE,
                            "max_len must be in [2, %d], not %u", MAXL,
                            cfg->max_len);
    if ((uint64_t)t->off[t->n] >= UINT32_MAX)
        return xs_error_set(err, XS_ERR_DATA, "too many items in "
                            "transactions for 32-bit id lists");
    miner m;
    memset(&m, 0, sizeof m);
    m.N = t->n;
    m.min_conf = cfg->min_confidence;
    m.max_len = cfg->max_len;
    m.pair_bytes = cfg->pair_bytes ? cfg->pair_bytes : PAIR_BYTES;
    m.fn = fn;
    m.arg = arg;
    double abs = ceil(cfg->min_support * (double)m.N * (1 - DBL_EPSILON));
    m.min_count = abs < 1 ? 1 : abs > UINT32_MAX ? UINT32_MAX : (uint32_t)abs;
    if (miner_init(&m, t, n_items)) {
        miner_free(&m);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory mining rules");
    }
    int rc = XS_OK;
    for (uint32_t r = 0; r < m.F && rc == XS_OK; r++) {
        m.p[0] = r;
        m.at[0] = r;
        rc = descend(&m, 1);
    }
    miner_free(&m);
    if (rc == XS_ERR_NOMEM)
        return xs_error_set(err, rc, "out of memory mining rules");
    if (rc)
        return xs_error_set(err, rc, "stopped");
    return XS_OK;
}

/* ---- transactions as the engine counts them --------------------------------- */

int xs_itemsets_txns(const xs_dataset *ds, int scope, uint32_t max_basket,
                     xs_txns *out, xs_error *err)
{
    uint32_t nc = xs_dict_size(ds->customers);
    if (!nc || !max_basket) /* no history order to follow, or no bound */
        return xs_txns_build_max(ds, scope, max_basket, out, err);
    /* engine/history.c's order: by customer (those without one last, in
     * their order), each customer's events stably by time */
    size_t n = ds->n_events;
    uint32_t *off = calloc((size_t)nc + 2, sizeof *off);
    xs_event *ev = malloc((n ? n : 1) * sizeof *ev);
    if (!off || !ev) {
        free(off);
        free(ev);
        memset(out, 0, sizeof *out);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory ordering %zu "
                            "events", n);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t c = ds->events[i].customer;
        off[(c == XS_NONE || c >= nc ? nc : c) + 1]++;
    }
    for (uint32_t c = 0; c < nc; c++)
        off[c + 1] += off[c];
    for (size_t i = 0; i < n; i++) {
        uint32_t c = ds->events[i].customer;
        ev[off[c == XS_NONE || c >= nc ? nc : c]++] = ds->events[i];
    }
    /* off[c] is now the end of customer c */
    uint32_t start = 0;
    for (uint32_t c = 0; c < nc; c++) {
        xs_event *e = ev + start;
        uint32_t k = off[c] - start;
        for (uint32_t i = 1; i < k; i++) {
            xs_event v = e[i];
            uint32_t j = i;
            while (j > 0 && e[j - 1].ts > v.ts) {
                e[j] = e[j - 1];
                j--;
            }
            e[j] = v;
        }
        start = off[c];
    }
    free(off);
    xs_dataset view = *ds;
    view.events = ev;
    int rc = xs_txns_build_max(&view, scope, max_basket, out, err);
    free(ev);
    return rc;
}

/* ---- order and the heap ------------------------------------------------------------ */

void xs_itemset_rule_sort_lhs(xs_itemset_rule *r, const xs_dict *names)
{
    for (uint32_t i = 1; i < r->n_lhs; i++) {
        uint32_t v = r->lhs[i], j = i;
        const char *nv = xs_dict_name(names, v);
        while (j > 0 && strcmp(xs_dict_name(names, r->lhs[j - 1]), nv) > 0) {
            r->lhs[j] = r->lhs[j - 1];
            j--;
        }
        r->lhs[j] = v;
    }
}

static double sort_key(const xs_itemset_rule *r, int key)
{
    switch (key) {
    case XS_RULES_BY_LIFT: return r->lift;
    case XS_RULES_BY_CONFIDENCE: return r->confidence;
    case XS_RULES_BY_SUPPORT:
    case XS_RULES_BY_COUNT: return r->count;
    default: return 0;
    }
}

int xs_itemset_rule_cmp(const xs_itemset_rule *a, const xs_itemset_rule *b,
                        int sort, const xs_dict *names)
{
    double ka = sort_key(a, sort), kb = sort_key(b, sort);
    if (ka != kb)
        return ka > kb ? -1 : 1;
    for (uint32_t i = 0; i < a->n_lhs && i < b->n_lhs; i++) {
        if (a->lhs[i] == b->lhs[i])
            continue;
        int c = strcmp(xs_dict_name(names, a->lhs[i]),
                       xs_dict_name(names, b->lhs[i]));
        if (c)
            return c;
    }
    if (a->n_lhs != b->n_lhs)
        return a->n_lhs < b->n_lhs ? -1 : 1;
    if (a->rhs == b->rhs)
        return 0;
    return strcmp(xs_dict_name(names, a->rhs), xs_dict_name(names, b->rhs));
}

struct xs_rule_heap {
    const xs_dict *names;
    int sort, sorted;
    size_t limit, max_held, n, cap;
    xs_itemset_rule *r;
};

xs_rule_heap *xs_rule_heap_new(const xs_dict *names, int sort, size_t limit,
                               size_t max_held)
{
    xs_rule_heap *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->names = names;
    h->sort = sort;
    h->limit = limit;
    h->max_held = max_held;
    return h;
}

void xs_rule_heap_free(xs_rule_heap *h)
{
    if (h) {
        free(h->r);
        free(h);
    }
}

/* The heap keeps the worst rule at the root: cmp(parent, child) >= 0. */
static void sift_down(xs_rule_heap *h, size_t i, size_t n)
{
    for (;;) {
        size_t w = i, a = 2 * i + 1, b = a + 1;
        if (a < n && xs_itemset_rule_cmp(&h->r[a], &h->r[w], h->sort,
                                         h->names) > 0)
            w = a;
        if (b < n && xs_itemset_rule_cmp(&h->r[b], &h->r[w], h->sort,
                                         h->names) > 0)
            w = b;
        if (w == i)
            return;
        xs_itemset_rule t = h->r[i];
        h->r[i] = h->r[w];
        h->r[w] = t;
        i = w;
    }
}

static void sift_up(xs_rule_heap *h, size_t i)
{
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (xs_itemset_rule_cmp(&h->r[i], &h->r[up], h->sort, h->names) <= 0)
            return;
        xs_itemset_rule t = h->r[i];
        h->r[i] = h->r[up];
        h->r[up] = t;
        i = up;
    }
}

int xs_rule_heap_push(void *heap, const xs_itemset_rule *r)
{
    xs_rule_heap *h = heap;
    xs_itemset_rule x = *r;
    xs_itemset_rule_sort_lhs(&x, h->names);
    if (h->limit && h->n == h->limit) {
        if (xs_itemset_rule_cmp(&x, &h->r[0], h->sort, h->names) >= 0)
            return XS_OK; /* no better than the worst kept */
        h->r[0] = x;
        sift_down(h, 0, h->n);
        return XS_OK;
    }
    if (!h->limit && h->max_held && h->n == h->max_held)
        return XS_ERR_LIMIT;
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 256;
        if (h->limit && cap > h->limit)
            cap = h->limit;
        if (!h->limit && h->max_held && cap > h->max_held)
            cap = h->max_held;
        xs_itemset_rule *nr = realloc(h->r, cap * sizeof *nr);
        if (!nr)
            return XS_ERR_NOMEM;
        h->r = nr;
        h->cap = cap;
    }
    h->r[h->n++] = x;
    if (h->limit)
        sift_up(h, h->n - 1);
    return XS_OK;
}

const xs_itemset_rule *xs_rule_heap_sorted(xs_rule_heap *h, size_t *n)
{
    if (!h->sorted && xs_rule_order_sort(h->r, h->n, h->sort, h->names) == 0)
        h->sorted = 1; /* keys computed once (rule_order.c) */
    if (!h->sorted) { /* out of memory for that: sort in place */
        if (!h->limit) /* appended: make the heap now */
            for (size_t i = h->n / 2; i-- > 0;)
                sift_down(h, i, h->n);
        for (size_t end = h->n; end > 1; end--) { /* worst to the back */
            xs_itemset_rule t = h->r[0];
            h->r[0] = h->r[end - 1];
            h->r[end - 1] = t;
            sift_down(h, 0, end - 1);
        }
        h->sorted = 1;
    }
    *n = h->n;
    return h->r;
}
