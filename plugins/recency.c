/*
 * recency.c -- "what this customer is likely to buy next": SAR-style
 * personalisation, weighting recent behaviour more than old.
 *
 * Decay.  An event at time t weighs d(t) = 2^(-(t_ref - t) / half_life):
 * 1 at t_ref, 1/2 one half-life earlier; events after t_ref weigh more
 * than 1.  t_ref is fixed when the plugin is created.  Every weight scales by
 * the same factor when t_ref moves, so rankings do not depend on t_ref, only
 * the reported numbers do (personal scores scale by 2^(delta / half_life));
 * the one exception is a personal request that also names items, whose
 * fixed affinity of 1 (below) weighs more against the history when t_ref
 * is later.
 *
 * Personal requests (a customer with a history).  The affinity of the
 * customer to item i is
 *
 *     a(i) = sum over the customer's events e on i of  w_e * d(t_e)
 *            (+ 1 when i is one of the request's items: viewed now)
 *
 * with w_e the event's weight (rating, quantity) or 1 (weight=one), and
 *
 *     score(c) = sum over items i with a(i) > 0 of  a(i) * sim(i, c)
 *
 * sim(i, c) the similarity measure of the plain co-occurrence counts of the
 * scope: m(n_ic, n_i, n_c, N) for pairs with n_ic >= min_count, and for
 * i == c the item's self-similarity m(n_c, n_c, n_c, N) (1 for jaccard), as
 * SAR's A x S has it; the host drops owned items unless they are kept.  With
 * the defaults (weight=event, jaccard, min_count=1, t_ref the latest event)
 * in customer scope (the default when the data has no orders) this is SAR's
 * score exactly.
 *
 * Basket requests (no customer, an unknown one, or one without history).
 * Time-decayed co-occurrence, so that recent co-purchases outrank old ones.
 * A group is a customer (customer scope) or one order of a customer (basket
 * scope); within a group item i has decay d_i = d(latest event of i in the
 * group).  Over all groups:
 *
 *     D_ab = sum of min(d_a, d_b)   over groups holding a and b (a != b)
 *     D_a  = sum of d_a             over groups holding a
 *     N_D  = sum of max_i d_i       over groups
 *
 *     score(c) = sum over basket items a with n_ac >= min_count of
 *                m(D_ac, D_a, D_c, N_D)
 *
 * with m the measure on real-valued counts: count D_ac; confidence D_ac/D_a;
 * lift D_ac N_D / (D_a D_c); jaccard D_ac / (D_a + D_c - D_ac); cosine
 * D_ac / sqrt(D_a D_c).  A pair counts from the older of its two purchases
 * in the group (in basket scope they share the order's time), so D_ac <=
 * min(D_a, D_c) as with counts: decayed confidence, jaccard and cosine stay
 * in [0, 1].  llr
 * needs counts: with similarity=llr basket requests use the plain counts
 * (no decay) and D is not built.  D is not built either when the data has
 * no timestamps (latest_time() == 0: every decay would be 1) or no customers
 * (--baskets data); basket requests then score m(n_ac, n_a, n_c, N) on the
 * host's rows.  Whether D is used is decided in create(): data that gains
 * timestamps or customers online keeps the plain counts.  D is built by
 * prepare() when the host will send requests with items (XS_ASK_ITEMS),
 * from the histories as they are then: batch work that only asks personal
 * questions (xsell score, eval) never pays for it, and until then
 * observe() has nothing to update.  A basket scope
 * order shared by several customers counts as one group per customer in D
 * (the host counts it once).
 *
 * Nothing to score (no history, no items): nothing is pushed, so the
 * engine's blend fills from `popular`.  Candidates scoring 0 are not pushed.
 *
 * Options (defaults in brackets):
 *   half_life=DAYS     > 0 [30]
 *   t_ref=T            unix seconds or YYYY-MM-DD (UTC) [latest_time(): the
 *                      latest event, so answers are reproducible]
 *   similarity=M       count|confidence|lift|jaccard|cosine|llr [jaccard]
 *   scope=S            auto|basket|customer [auto: the engine's default]
 *   weight=W           event|one [event]: event weights as affinity weights,
 *                      or 1 per event
 *   min_count=N        integer >= 1 [1]: pairs seen in fewer transactions
 *                      are ignored (on both paths, by the plain counts)
 *   max_neighbours=M   integer >= 0 [0: exact]: score each item from its M
 *                      most similar neighbours only (below)
 *
 * Neighbour lists (max_neighbours).  A row can hold thousands of
 * neighbours and a request pays for every one.  With M > 0 each item i
 * keeps a list L(i) of its M best neighbours, ties by lower id, and
 *
 *     personal:  score(c) = a(c) sim(c, c) + sum over items i != c with
 *                a(i) > 0 and c in L(i) of  a(i) sim(i, c)
 *     basket:    score(c) = sum over basket items a with c in L_D(a) of
 *                m(D_ac, D_a, D_c, N_D)
 *
 * L(i) is chosen by sim(i, c) on the plain counts (among pairs with n_ic >=
 * min_count), the measure the personal path scores with; it also serves
 * basket requests when D is not built.  L_D(a) is chosen by the decayed
 * measure m(D_ac, D_a, D_c, N_D) the basket path scores with (among pairs
 * with n_ac >= min_count).  A row of at most M entries is used in place,
 * whole (no copy); a longer one is copied to its list.  Lists are built in
 * create() and, in observe(), rebuilt for the items whose host row version
 * changed (L) or whose row of D changed (L_D; with min_count > 1 also when
 * the host row changed).  A list keeps the order it was chosen in while
 * the supports (and D_c, N_D) of other items drift with ingest; scores are
 * always computed from the live values.  max_neighbours=0 serves whole rows
 * and is exact; a cap no row exceeds gives the same answers bit for bit.
 * With M > 0 a candidate outside an item's list misses that item's
 * contribution (the self term sim(c, c) is always kept), so scores are
 * lower bounds of the exact ones and rankings can change; a request costs
 * O(history x M) instead of O(sum of row lengths).  Memory: 8 bytes per
 * copied entry in each kind of list, plus 24 bytes per item per kind.
 * Explain follows the lists: from is the item contributing most among those
 * whose list holds c.
 *
 * Explain.  Personal: from (the item contributing most, a(i) sim(i, c)),
 * affinity a(from), similarity sim(from, c), age_days (t_ref minus from's
 * latest event, 0 for an item only viewed now), half_life_days.  Basket:
 * from (the basket item contributing most), decayed_count D_from,c (the
 * plain count without D), similarity.
 *
 * Serving cost.  A personal request reads the customer's history once
 * (affinities in a scratch hash) and the host row of every item it touched;
 * a basket request reads one row of D per basket item.  Scores accumulate
 * in request scratch memory: a dense array over all items when the rows to
 * read hold at least item_count/8 entries (long histories: one memset and
 * one scan, then one division and one add per row entry, the measure
 * folded into the loop), else an open-addressing hash sized to twice the
 * candidate bound.  No malloc while serving, except in explain
 * (a sort of the history per explained item).  Time: O(sum of the row
 * lengths) plus O(item_count) in dense mode; with max_neighbours=M each row
 * read is at most M long.  Generated store (1 M events, 100,000 items),
 * customer + 3 viewed items: 356 us exact, 42 us with M=100 (top-10
 * overlap with exact 0.99 over 2,000 customers).
 *
 * Memory.  D holds, per item, its neighbours sorted by id with a float
 * weight relative to the row's largest value (stored as a double scale per
 * row, so rows keep 24 bits of precision however old the data): 8 bytes per
 * directed pair, as the host's count tables, plus 40 bytes per item
 * (row header and D_a).  Building it costs one pass over each group's pairs
 * with a dense accumulator (O(sum of group sizes squared)).  MovieLens
 * small (610 customers, 9,724 items, customer scope): 26.3 M pairs, 211 MB,
 * built in about 0.9 s when first needed; a personal request costs 1.6-2.2 ms (the rows
 * of a customer's history hold 945,000 entries on average, 2 ns each).
 * Ingesting an event costs a binary search per pair it changes when the
 * pair exists (rows are updated in place), else a rewrite of the row.
 *
 * Online updates.  observe() recomputes the contribution of every group the
 * new events touched before (the history without those events) and after,
 * and adds the difference to D for the pairs involving items whose latest
 * event in the group changed; rows that change are rewritten whole.
 * Affinities need nothing (read from the history per request).  Decays are
 * computed in double; ages beyond about 1000 half-lives underflow to 0.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin.h"

#define SECONDS_PER_DAY 86400.0
#define DEFAULT_HALF_LIFE_DAYS 30.0

/* One row of D: neighbours sorted ascending, D_ab = w[i] * scale.  nbr and
 * w share one allocation (w right after the n ids). */
typedef struct drow {
    uint32_t *nbr;
    float *w;
    uint32_t n;
    uint32_t version; /* bumped whenever the row changes */
    double scale;
} drow;

/* The neighbours item a is served from on the personal path (and the basket
 * path without D) with max_neighbours=M: its host row in place when the row
 * holds at most M entries (capped == 0), else its M best by sim (capped ==
 * 1; nbr[0..n) sorted by id, cnt[i] at nbr + n, one allocation). */
typedef struct nb_list {
    uint32_t *nbr;
    uint32_t n;
    uint32_t version; /* host row version it was made from */
    uint8_t built, capped;
} nb_list;

/* The same for D's rows on the basket path: nbr[0..n) sorted by id, float
 * weights (on the D row's scale) right after them. */
typedef struct d_list {
    uint32_t *nbr;
    uint32_t n;
    uint32_t dver; /* D row version it was made from */
    uint32_t hver; /* host row version (read only when min_count > 1) */
    uint8_t built, capped;
} d_list;

typedef struct recency {
    const xs_host_api *api;
    xs_host *host;
    int measure;
    int scope;
    int weight_one;     /* 1: every event counts 1 */
    uint32_t min_count;
    double half_life_days;
    double inv_half_life; /* 1 / half-life in seconds */
    int64_t t_ref;
    int decayed;        /* D is used (for basket requests) */
    int d_built;        /* D (and its lists) built, by prepare() */
    drow *rows;         /* D by item id (n_rows entries) */
    double *dsup;       /* D_a by item id */
    uint32_t n_rows;
    double n_d;         /* N_D */
    uint64_t d_pairs;   /* directed pairs stored in D */
    uint32_t max_nb;    /* 0: serve from whole rows */
    nb_list *lists;     /* by item id (n_lists entries), when max_nb > 0 */
    uint32_t n_lists;
    d_list *dlists;     /* by item id (n_dlists entries), when max_nb > 0 */
    uint32_t n_dlists;
    uint64_t list_entries; /* entries held in capped lists (both kinds) */
} recency;

static inline double decay(const recency *r, int64_t ts)
{
    return exp2(-(double)(r->t_ref - ts) * r->inv_half_life);
}

/* The measures on real-valued (decayed) counts; llr never comes here. */
static inline double measure_real(int m, double ab, double a, double b,
                                  double n)
{
    switch (m) {
    case XS_MEASURE_COUNT:
        return ab;
    case XS_MEASURE_CONFIDENCE:
        return a > 0 ? ab / a : 0.0;
    case XS_MEASURE_LIFT:
        return a > 0 && b > 0 ? ab * n / (a * b) : 0.0;
    case XS_MEASURE_JACCARD:
        return a + b - ab > 0 ? ab / (a + b - ab) : 0.0;
    case XS_MEASURE_COSINE:
        return a > 0 && b > 0 ? ab / sqrt(a * b) : 0.0;
    default:
        return 0.0;
    }
}

/* ---- options ------------------------------------------------------------- */

static int parse_number(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* t_ref: unix seconds (an integer) or YYYY-MM-DD, midnight UTC. */
static int parse_time(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    int all_digits = *p != '\0';
    for (const char *q = p; *q; q++)
        all_digits &= *q >= '0' && *q <= '9';
    if (all_digits && strlen(p) <= 15) {
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    static const char pattern[] = "dddd-dd-dd";
    if (strlen(s) != sizeof pattern - 1)
        return -1;
    for (size_t i = 0; pattern[i]; i++)
        if (pattern[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != '-')
            return -1;
    int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
    static const int mdays[12] = {31, 29, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
        (m == 2 && d == 29 && !leap))
        return -1;
    *out = days_from_civil(y, m, d) * 86400;
    return 0;
}

/* ---- D: building ---------------------------------------------------------- */

static void free_rows(recency *r)
{
    for (uint32_t i = 0; i < r->n_rows; i++)
        free(r->rows[i].nbr);
    free(r->rows);
    free(r->dsup);
    r->rows = NULL;
    r->dsup = NULL;
    r->n_rows = 0;
}

/* Grows rows and dsup to n items (new entries empty). */
static int grow_rows(recency *r, uint32_t n)
{
    if (n <= r->n_rows)
        return 0;
    drow *rows = realloc(r->rows, (size_t)n * sizeof *rows);
    if (!rows)
        return -1;
    r->rows = rows;
    double *dsup = realloc(r->dsup, (size_t)n * sizeof *dsup);
    if (!dsup)
        return -1;
    r->dsup = dsup;
    memset(rows + r->n_rows, 0, (size_t)(n - r->n_rows) * sizeof *rows);
    memset(dsup + r->n_rows, 0, (size_t)(n - r->n_rows) * sizeof *dsup);
    r->n_rows = n;
    return 0;
}

/* Replaces row a by the n values v[] (double, in t_ref terms) of the
 * neighbours nbr[], which must be sorted. */
static int set_row(recency *r, uint32_t a, const uint32_t *nbr,
                   const double *v, uint32_t n)
{
    drow *row = &r->rows[a];
    uint32_t *mem = NULL;
    if (n) {
        mem = malloc((size_t)n * (sizeof *mem + sizeof(float)));
        if (!mem)
            return -1;
    }
    double top = 0;
    for (uint32_t i = 0; i < n; i++)
        if (v[i] > top)
            top = v[i];
    double scale = top > 0 ? top : 1.0;
    float *w = (float *)(mem + n);
    for (uint32_t i = 0; i < n; i++) {
        mem[i] = nbr[i];
        w[i] = (float)(v[i] / scale);
    }
    r->d_pairs += n;
    r->d_pairs -= row->n;
    free(row->nbr);
    *row = (drow){mem, n ? w : NULL, n, row->version + 1, scale};
    return 0;
}

/* One entry of a customer's group list while building: item, its latest
 * time, the group key. */
typedef struct gev {
    uint32_t key; /* order (basket scope), 0 (customer scope) */
    uint32_t item;
    int64_t ts;
} gev;

static int by_key_item_ts(const void *x, const void *y)
{
    const gev *a = x, *b = y;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    return (a->ts > b->ts) - (a->ts < b->ts);
}

static int by_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

/* The groups of one customer's history: appends (key, item, latest ts)
 * entries, one per distinct item of each group, to *out (sorted by key,
 * item).  tmp holds at least n entries. */
static size_t customer_groups(const recency *r, const xs_event *h, size_t n,
                              gev *tmp, gev *out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->scope == XS_SCOPE_BASKET && h[i].order == XS_NONE)
            continue;
        tmp[m++] = (gev){r->scope == XS_SCOPE_BASKET ? h[i].order : 0,
                         h[i].item, h[i].ts};
    }
    qsort(tmp, m, sizeof *tmp, by_key_item_ts);
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (k && out[k - 1].key == tmp[i].key && out[k - 1].item == tmp[i].item)
            out[k - 1].ts = tmp[i].ts; /* sorted by ts: the latest wins */
        else
            out[k++] = tmp[i];
    }
    return k;
}

/* Builds D from every customer's history. */
static int build_d(recency *r)
{
    const xs_host_api *api = r->api;
    uint32_t n_cust = api->customer_count(r->host);
    uint32_t n_items = api->item_count(r->host);
    size_t n_ev = 0, max_hist = 0;
    for (uint32_t c = 0; c < n_cust; c++) {
        const xs_event *h;
        size_t n;
        if (api->history(r->host, c, &h, &n)) {
            n_ev += n;
            if (n > max_hist)
                max_hist = n;
        }
    }
    int rc = -1;
    /* groups in CSR form: items gi[], decays gd[], group g is
     * [goff[g], goff[g+1]) */
    uint32_t *gi = malloc((n_ev + 1) * sizeof *gi);
    double *gd = malloc((n_ev + 1) * sizeof *gd);
    size_t *goff = malloc((n_ev + 2) * sizeof *goff);
    gev *tmp = malloc((max_hist + 1) * sizeof *tmp);
    gev *grp = malloc((max_hist + 1) * sizeof *grp);
    /* inverted index: item -> (group, decay of the item in it) */
    size_t *ioff = calloc((size_t)n_items + 1, sizeof *ioff);
    uint32_t *ig = NULL;
    double *idc = NULL;
    double *acc = calloc((size_t)n_items + 1, sizeof *acc);
    uint32_t *stamp = calloc((size_t)n_items + 1, sizeof *stamp);
    uint32_t *touched = malloc(((size_t)n_items + 1) * sizeof *touched);
    double *vals = malloc(((size_t)n_items + 1) * sizeof *vals);
    if (!gi || !gd || !goff || !tmp || !grp || !ioff || !acc || !stamp ||
        !touched || !vals || grow_rows(r, n_items))
        goto out;
    size_t n_groups = 0, n_gi = 0;
    goff[0] = 0;
    r->n_d = 0;
    for (uint32_t c = 0; c < n_cust; c++) {
        const xs_event *h;
        size_t n;
        if (!api->history(r->host, c, &h, &n) || n == 0)
            continue;
        size_t k = customer_groups(r, h, n, tmp, grp);
        for (size_t i = 0; i < k;) {
            size_t j = i;
            double top = 0;
            for (; j < k && grp[j].key == grp[i].key; j++) {
                if (grp[j].item >= n_items)
                    continue;
                double d = decay(r, grp[j].ts);
                gi[n_gi] = grp[j].item;
                gd[n_gi++] = d;
                ioff[grp[j].item + 1]++;
                if (d > top)
                    top = d;
            }
            r->n_d += top;
            goff[++n_groups] = n_gi;
            i = j;
        }
    }
    for (uint32_t a = 0; a < n_items; a++)
        ioff[a + 1] += ioff[a];
    ig = malloc((n_gi + 1) * sizeof *ig);
    idc = malloc((n_gi + 1) * sizeof *idc);
    size_t *fill = malloc(((size_t)n_items + 1) * sizeof *fill);
    if (!ig || !idc || !fill) {
        free(fill);
        goto out;
    }
    memcpy(fill, ioff, ((size_t)n_items + 1) * sizeof *fill);
    for (size_t g = 0; g < n_groups; g++)
        for (size_t p = goff[g]; p < goff[g + 1]; p++) {
            size_t at = fill[gi[p]]++;
            ig[at] = (uint32_t)g;
            idc[at] = gd[p];
        }
    free(fill);
    for (uint32_t a = 0; a < n_items; a++) {
        uint32_t n_t = 0;
        double sup = 0;
        for (size_t p = ioff[a]; p < ioff[a + 1]; p++) {
            size_t g = ig[p];
            double da = idc[p];
            sup += da;
            for (size_t q = goff[g]; q < goff[g + 1]; q++) {
                uint32_t b = gi[q];
                if (b == a)
                    continue;
                if (stamp[b] != a + 1) {
                    stamp[b] = a + 1;
                    touched[n_t++] = b;
                }
                acc[b] += da < gd[q] ? da : gd[q];
            }
        }
        r->dsup[a] = sup;
        if (n_t * 16ull >= n_items) { /* many: collect in id order */
            n_t = 0;
            for (uint32_t b = 0; b < n_items; b++)
                if (stamp[b] == a + 1)
                    touched[n_t++] = b;
        } else {
            qsort(touched, n_t, sizeof *touched, by_u32);
        }
        for (uint32_t i = 0; i < n_t; i++) {
            vals[i] = acc[touched[i]];
            acc[touched[i]] = 0;
        }
        if (set_row(r, a, touched, vals, n_t))
            goto out;
    }
    rc = 0;
out:
    free(gi);
    free(gd);
    free(goff);
    free(tmp);
    free(grp);
    free(ioff);
    free(ig);
    free(idc);
    free(acc);
    free(stamp);
    free(touched);
    free(vals);
    return rc;
}

/* D_ab, or 0 when a and b never share a group. */
static double d_pair(const recency *r, uint32_t a, uint32_t b)
{
    if (a >= r->n_rows)
        return 0;
    const drow *row = &r->rows[a];
    uint32_t lo = 0, hi = row->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (row->nbr[mid] < b)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < row->n && row->nbr[lo] == b ? row->w[lo] * row->scale : 0;
}


/* ---- neighbour lists (max_neighbours) ------------------------------------- */

/* A candidate neighbour while choosing a list: its score, its index in the
 * row, its id. */
typedef struct cand {
    double s;
    uint32_t idx, id;
} cand;

/* x ranks before y: higher score, then lower id. */
static inline int ranks_before(const cand *x, const cand *y)
{
    return x->s > y->s || (x->s == y->s && x->id < y->id);
}

/* The heap of the best m candidates so far, the worst at the root. */
static void sift_down(cand *h, uint32_t n, uint32_t i)
{
    cand v = h[i];
    for (;;) {
        uint32_t l = 2 * i + 1, w = i;
        const cand *worst = &v;
        if (l < n && ranks_before(worst, &h[l]))
            worst = &h[w = l];
        if (l + 1 < n && ranks_before(worst, &h[l + 1]))
            w = l + 1;
        if (w == i)
            break;
        h[i] = h[w];
        i = w;
    }
    h[i] = v;
}

static void sift_up(cand *h, uint32_t i)
{
    cand v = h[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!ranks_before(&h[p], &v))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

/* Offers x to the heap h of *n (at most m) entries. */
static inline void keep_best(cand *h, uint32_t *n, uint32_t m, cand x)
{
    if (*n < m) {
        h[*n] = x;
        sift_up(h, (*n)++);
    } else if (ranks_before(&x, &h[0])) {
        h[0] = x;
        sift_down(h, m, 0);
    }
}

static int by_idx(const void *x, const void *y)
{
    const cand *a = x, *b = y;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static void free_dlists(recency *r)
{
    for (uint32_t i = 0; i < r->n_dlists; i++) {
        if (r->dlists[i].capped)
            r->list_entries -= r->dlists[i].n;
        free(r->dlists[i].nbr);
    }
    free(r->dlists);
    r->dlists = NULL;
    r->n_dlists = 0;
}

static void free_lists(recency *r)
{
    for (uint32_t i = 0; i < r->n_lists; i++)
        free(r->lists[i].nbr);
    free(r->lists);
    r->lists = NULL;
    r->n_lists = 0;
    free_dlists(r);
    r->list_entries = 0;
}

/* (Re)builds the list of item a from its host row of version `version`:
 * the max_nb best neighbours by sim(a, c) among those with n_ac >=
 * min_count, when the row is longer than max_nb.  heap holds max_nb. */
static int build_list(recency *r, uint32_t a, uint32_t version,
                      const uint32_t *sup, uint32_t n_sup, uint64_t n,
                      cand *heap)
{
    nb_list *l = &r->lists[a];
    if (l->capped)
        r->list_entries -= l->n;
    free(l->nbr);
    *l = (nb_list){NULL, 0, version, 1, 0};
    xs_row row;
    if (!r->api->row(r->host, r->scope, a, &row) || row.n <= r->max_nb)
        return 0; /* served from the host row in place */
    uint32_t k = 0;
    for (uint32_t j = 0; j < row.n; j++) {
        uint32_t c = row.nbr[j], n_ac = row.cnt[j];
        if (n_ac < r->min_count)
            continue;
        cand x = {xs_measure_value(r->measure, n_ac, row.support,
                                   c < n_sup ? sup[c] : 0, n),
                  j, c};
        keep_best(heap, &k, r->max_nb, x);
    }
    qsort(heap, k, sizeof *heap, by_idx); /* lists stay sorted by id */
    uint32_t *mem = NULL;
    if (k) {
        mem = malloc(2 * (size_t)k * sizeof *mem);
        if (!mem) {
            l->built = 0;
            return -1;
        }
        for (uint32_t j = 0; j < k; j++) {
            mem[j] = row.nbr[heap[j].idx];
            mem[k + j] = row.cnt[heap[j].idx];
        }
    }
    *l = (nb_list){mem, k, version, 1, 1};
    r->list_entries += k;
    return 0;
}

/* The longest host row of the scope, capped at max_nb: the heap size the
 * lists need. */
static uint32_t heap_size(const recency *r, uint32_t longest)
{
    return longest < r->max_nb ? longest : r->max_nb;
}

/* Brings every personal list up to date with the host's row versions. */
static int refresh_lists(recency *r)
{
    const xs_host_api *api = r->api;
    uint32_t n_ver, n_sup;
    const uint32_t *ver = api->row_versions(r->host, r->scope, &n_ver);
    const uint32_t *sup = api->supports(r->host, r->scope, &n_sup);
    uint64_t n = api->transactions(r->host, r->scope);
    if (!ver || n_ver == 0)
        return 0;
    if (n_ver > r->n_lists) {
        nb_list *l = realloc(r->lists, (size_t)n_ver * sizeof *l);
        if (!l)
            return -1;
        memset(l + r->n_lists, 0, (size_t)(n_ver - r->n_lists) * sizeof *l);
        r->lists = l;
        r->n_lists = n_ver;
    }
    uint32_t longest = 0;
    xs_row row;
    for (uint32_t a = 0; a < n_ver; a++)
        if ((!r->lists[a].built || r->lists[a].version != ver[a]) &&
            api->row(r->host, r->scope, a, &row) && row.n > longest)
            longest = row.n;
    cand *heap = malloc(((size_t)heap_size(r, longest) + 1) * sizeof *heap);
    if (!heap)
        return -1;
    int rc = 0;
    for (uint32_t a = 0; a < n_ver && !rc; a++)
        if (!r->lists[a].built || r->lists[a].version != ver[a])
            rc = build_list(r, a, ver[a], sup, n_sup, n, heap);
    free(heap);
    return rc;
}

/* Whether n_ac >= min_count for the entries of D's row a: marks ok[j]
 * (merging with the host row, whose neighbours include D's). */
static void d_eligible(const recency *r, const drow *d, const xs_row *host,
                       uint8_t *ok)
{
    uint32_t hp = 0;
    for (uint32_t j = 0; j < d->n; j++) {
        uint32_t c = d->nbr[j];
        while (hp < host->n && host->nbr[hp] < c)
            hp++;
        ok[j] = hp < host->n && host->nbr[hp] == c &&
                host->cnt[hp] >= r->min_count;
    }
}

/* (Re)builds the basket list of item a from its row of D: the max_nb best
 * neighbours by m(D_ac, D_a, D_c, N_D) among those with n_ac >= min_count,
 * when the row is longer than max_nb. */
static int build_dlist(recency *r, uint32_t a, uint32_t hver, cand *heap,
                       uint8_t *ok)
{
    d_list *l = &r->dlists[a];
    const drow *d = &r->rows[a];
    if (l->capped)
        r->list_entries -= l->n;
    free(l->nbr);
    *l = (d_list){NULL, 0, d->version, hver, 1, 0};
    if (d->n <= r->max_nb)
        return 0; /* served from D's row in place */
    if (r->min_count > 1) {
        xs_row host = {0};
        if (!r->api->row(r->host, r->scope, a, &host))
            host.n = 0;
        d_eligible(r, d, &host, ok);
    }
    const double da = r->dsup[a], nd = r->n_d, scale = d->scale;
    uint32_t k = 0;
    for (uint32_t j = 0; j < d->n; j++) {
        uint32_t c = d->nbr[j];
        if (r->min_count > 1 && !ok[j])
            continue;
        double dc = c < r->n_rows ? r->dsup[c] : 0;
        cand x = {measure_real(r->measure, d->w[j] * scale, da, dc, nd), j,
                  c};
        keep_best(heap, &k, r->max_nb, x);
    }
    qsort(heap, k, sizeof *heap, by_idx);
    uint32_t *mem = NULL;
    if (k) {
        mem = malloc((size_t)k * (sizeof *mem + sizeof(float)));
        if (!mem) {
            l->built = 0;
            return -1;
        }
        float *w = (float *)(mem + k);
        for (uint32_t j = 0; j < k; j++) {
            mem[j] = d->nbr[heap[j].idx];
            w[j] = d->w[heap[j].idx];
        }
    }
    *l = (d_list){mem, k, d->version, hver, 1, 1};
    r->list_entries += k;
    return 0;
}

/* The host row version of item a (0 when the scope has none). */
static inline uint32_t host_version(const uint32_t *ver, uint32_t n_ver,
                                    uint32_t a)
{
    return ver && a < n_ver ? ver[a] : 0;
}

static inline int dlist_current(const recency *r, uint32_t a,
                                const uint32_t *ver, uint32_t n_ver)
{
    const d_list *l = &r->dlists[a];
    return l->built && l->dver == r->rows[a].version &&
           (r->min_count <= 1 || l->hver == host_version(ver, n_ver, a));
}

/* Brings every basket list up to date with D (and, when min_count > 1,
 * with the host's row versions). */
static int refresh_dlists(recency *r)
{
    if (!r->decayed)
        return 0;
    uint32_t n_ver;
    const uint32_t *ver = r->api->row_versions(r->host, r->scope, &n_ver);
    if (r->n_rows > r->n_dlists) {
        d_list *l = realloc(r->dlists, (size_t)r->n_rows * sizeof *l);
        if (!l)
            return -1;
        memset(l + r->n_dlists, 0,
               (size_t)(r->n_rows - r->n_dlists) * sizeof *l);
        r->dlists = l;
        r->n_dlists = r->n_rows;
    }
    uint32_t longest = 0;
    for (uint32_t a = 0; a < r->n_rows; a++)
        if (!dlist_current(r, a, ver, n_ver) && r->rows[a].n > longest)
            longest = r->rows[a].n;
    cand *heap = malloc(((size_t)heap_size(r, longest) + 1) * sizeof *heap);
    uint8_t *ok = malloc((size_t)longest + 1);
    int rc = heap && ok ? 0 : -1;
    for (uint32_t a = 0; a < r->n_rows && !rc; a++)
        if (!dlist_current(r, a, ver, n_ver))
            rc = build_dlist(r, a, host_version(ver, n_ver, a), heap, ok);
    free(heap);
    free(ok);
    return rc;
}

static int refresh_all(recency *r)
{
    if (!r->max_nb)
        return 0;
    return refresh_lists(r) || (r->d_built && refresh_dlists(r)) ? -1 : 0;
}

/* ---- create / destroy ------------------------------------------------------ */

static int rc_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    int measure = XS_MEASURE_JACCARD, scope = -1, weight_one = 0;
    int have_tref = 0;
    int64_t t_ref = 0;
    double half_life = DEFAULT_HALF_LIFE_DAYS, min_count = 1, max_nb = 0;
    for (size_t i = 0; i < n_opts; i++) {
        const char *k = opts[i].key, *v = opts[i].value;
        if (!strcmp(k, "half_life")) {
            if (parse_number(v, &half_life) || !(half_life > 0)) {
                snprintf(err, errlen, "half_life: want a number of "
                         "days > 0, not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "t_ref")) {
            if (parse_time(v, &t_ref)) {
                snprintf(err, errlen, "t_ref: want unix seconds or "
                         "YYYY-MM-DD, not '%s'", v);
                return -1;
            }
            have_tref = 1;
        } else if (!strcmp(k, "similarity")) {
            if ((measure = api->measure_parse(v)) < 0) {
                snprintf(err, errlen, "similarity: unknown measure "
                         "'%s' (count, confidence, lift, jaccard, cosine, "
                         "llr)", v);
                return -1;
            }
        } else if (!strcmp(k, "scope")) {
            if (!strcmp(v, "basket")) {
                scope = XS_SCOPE_BASKET;
            } else if (!strcmp(v, "customer")) {
                scope = XS_SCOPE_CUSTOMER;
            } else if (!strcmp(v, "auto")) {
                scope = -1;
            } else {
                snprintf(err, errlen, "scope: want auto, basket or "
                         "customer, not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "weight")) {
            if (!strcmp(v, "event")) {
                weight_one = 0;
            } else if (!strcmp(v, "one")) {
                weight_one = 1;
            } else {
                snprintf(err, errlen, "weight: want event or one, "
                         "not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "min_count")) {
            if (parse_number(v, &min_count) || min_count < 1 ||
                min_count > 4294967295.0 || min_count != floor(min_count)) {
                snprintf(err, errlen, "min_count: want an integer "
                         ">= 1, not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "max_neighbours")) {
            if (parse_number(v, &max_nb) || max_nb < 0 ||
                max_nb > 4294967295.0 || max_nb != floor(max_nb)) {
                snprintf(err, errlen, "max_neighbours: want an "
                         "integer >= 0, not '%s'", v);
                return -1;
            }
        } else {
            snprintf(err, errlen, "unknown option '%s' (half_life, "
                     "t_ref, similarity, scope, weight, min_count, "
                     "max_neighbours)", k);
            return -1;
        }
    }
    if (scope < 0)
        scope = api->default_scope(host);
    if (api->use_scope(host, scope)) {
        snprintf(err, errlen, "scope: the data has no %s scope",
                 scope == XS_SCOPE_BASKET ? "basket (order)" : "customer");
        return -1;
    }
    recency *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int64_t latest = api->latest_time(host);
    r->api = api;
    r->host = host;
    r->measure = measure;
    r->scope = scope;
    r->weight_one = weight_one;
    r->min_count = (uint32_t)min_count;
    r->half_life_days = half_life;
    r->inv_half_life = 1.0 / (half_life * SECONDS_PER_DAY);
    r->t_ref = have_tref ? t_ref : latest;
    r->decayed = latest != 0 && api->customer_count(host) > 0 &&
                 measure != XS_MEASURE_LLR;
    r->max_nb = (uint32_t)max_nb;
    *state = r;
    return 0;
}

static void rc_destroy(void *state)
{
    recency *r = state;
    free_lists(r);
    free_rows(r);
    free(r);
}

/* D, when requests with items will come and it is not built yet (built
 * once: observe() keeps it up to date), and the neighbour lists of both
 * kinds.  A failed build leaves no D behind and is tried again by the next
 * prepare(); basket requests fail meanwhile (rc_recommend). */
static int rc_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    recency *r = state;
    if (r->decayed && (asks & XS_ASK_ITEMS) && !r->d_built) {
        if (build_d(r)) {
            free_rows(r);
            snprintf(err, errlen, "out of memory building the decayed "
                     "co-occurrence table");
            return -1;
        }
        r->d_built = 1;
        r->api->log(r->host, XS_LOG_DEBUG, "decayed table of %u items, %llu "
                    "pairs, %zu bytes", (unsigned)r->n_rows,
                    (unsigned long long)r->d_pairs,
                    (size_t)(r->d_pairs * (sizeof(uint32_t) + sizeof(float)) +
                             r->n_rows * (sizeof(drow) + sizeof(double))));
    }
    if (refresh_all(r)) {
        snprintf(err, errlen, "out of memory building neighbour lists "
                 "(stale ones serve from whole rows)");
        return -1;
    }
    if (r->max_nb)
        r->api->log(r->host, XS_LOG_DEBUG, "neighbour lists of at most %u, "
                    "%llu entries copied", (unsigned)r->max_nb,
                    (unsigned long long)r->list_entries);
    return 0;
}

/* ---- serving ---------------------------------------------------------------- */

/* Scores by candidate, in request scratch memory: dense (key == NULL,
 * val[item], 0 meaning nothing yet) or an open-addressing hash (key[slot]
 * == XS_NONE when free). */
typedef struct acc {
    double *val;
    uint32_t *key;
    uint32_t mask, shift, n; /* n: entries of val (dense) or slots */
} acc;

static inline uint32_t hash_slot(uint32_t item, uint32_t shift)
{
    return (uint32_t)(item * 0x9E3779B1u) >> shift;
}

/* Slot of item in a hash (keys/mask/shift), added when missing. */
static inline uint32_t hash_find(uint32_t *key, uint32_t mask, uint32_t shift,
                                 uint32_t item, int *added)
{
    uint32_t s = hash_slot(item, shift);
    while (key[s] != item) {
        if (key[s] == XS_NONE) {
            key[s] = item;
            *added = 1;
            return s;
        }
        s = (s + 1) & mask;
    }
    *added = 0;
    return s;
}

/* Sizes the accumulator for `bound` additions over `n_items` ids. */
static int acc_init(acc *a, xs_result *out, const xs_host_api *api,
                    uint64_t bound, uint32_t n_items)
{
    if (bound * 8 >= n_items) {
        a->key = NULL;
        a->n = n_items;
        a->val = api->scratch(out, (size_t)n_items * sizeof *a->val + 1);
        if (!a->val)
            return -1;
        memset(a->val, 0, (size_t)n_items * sizeof *a->val);
        return 0;
    }
    uint32_t bits = 4;
    while ((1ull << bits) < 2 * bound)
        bits++;
    a->n = 1u << bits;
    a->mask = a->n - 1;
    a->shift = 32 - bits;
    a->key = api->scratch(out, (size_t)a->n * sizeof *a->key);
    a->val = api->scratch(out, (size_t)a->n * sizeof *a->val);
    if (!a->key || !a->val)
        return -1;
    memset(a->key, 0xFF, (size_t)a->n * sizeof *a->key);
    return 0;
}

static inline void acc_add(acc *a, uint32_t item, double x)
{
    if (!a->key) {
        if (item < a->n)
            a->val[item] += x;
        return;
    }
    int added;
    uint32_t s = hash_find(a->key, a->mask, a->shift, item, &added);
    a->val[s] = added ? x : a->val[s] + x;
}

static int best_first(const void *x, const void *y)
{
    return ranks_before(x, y) ? -1 : ranks_before(y, x) ? 1 : 0;
}

/* Offers candidate (item, v) to the heap of the best m, keeping *thr the
 * score a candidate needs to be looked at (the worst kept once full). */
static inline void acc_offer(cand *h, uint32_t *n, uint32_t m, double *thr,
                             uint32_t item, double v)
{
    keep_best(h, n, m, (cand){v, 0, item});
    if (*n == m)
        *thr = h[0].s;
}

/* Pushes the candidates scoring > 0.  The host keeps the k best it admits,
 * and once k pushes made in its order (higher score, then lower id) have
 * been kept, nothing after them can be, so the best m (>= k: k plus what
 * the rules are expected to refuse) are picked here, with one compare per
 * candidate against the worst kept, and pushed best first until k are
 * kept.  Only when the host refused so many of them that fewer than k were
 * kept are the others pushed too (any order: the host's heap ranks them).
 * Pushing every candidate cost a host call each, tens of thousands in a
 * dense request. */
static int acc_push(const acc *a, const xs_host_api *api, xs_result *out,
                    uint32_t k, uint32_t m)
{
    cand *h = api->scratch(out, ((size_t)m + 1) * sizeof *h);
    if (!h)
        return -1;
    uint32_t n = 0;
    double thr = 0; /* candidates need > 0, then >= the worst kept */
    if (!a->key) {
        for (uint32_t c = 0; c < a->n; c++)
            if (a->val[c] >= thr && a->val[c] > 0)
                acc_offer(h, &n, m, &thr, c, a->val[c]);
    } else {
        for (uint32_t s = 0; s < a->n; s++)
            if (a->key[s] != XS_NONE && a->val[s] >= thr && a->val[s] > 0)
                acc_offer(h, &n, m, &thr, a->key[s], a->val[s]);
    }
    qsort(h, n, sizeof *h, best_first);
    uint32_t kept = 0;
    for (uint32_t i = 0; i < n && kept < k; i++)
        kept += api->push(out, h[i].id, h[i].s) == 1;
    if (kept >= k || n < m)
        return 0; /* k kept, or every candidate offered */
    const cand last = h[m - 1];
    if (!a->key) {
        for (uint32_t c = 0; c < a->n; c++) {
            cand x = {a->val[c], 0, c};
            if (x.s > 0 && ranks_before(&last, &x))
                api->push(out, c, x.s);
        }
    } else {
        for (uint32_t s = 0; s < a->n; s++) {
            if (a->key[s] == XS_NONE)
                continue;
            cand x = {a->val[s], 0, a->key[s]};
            if (x.s > 0 && ranks_before(&last, &x))
                api->push(out, x.id, x.s);
        }
    }
    return 0;
}

/* The customer's affinities in scratch: distinct items in first-seen order
 * (items[], values aff[]), n of them.  Request items add 1 each. */
typedef struct affinity {
    uint32_t *items;
    double *aff;
    uint32_t n;
} affinity;

static int affinities(const recency *r, const xs_request *req,
                      const xs_event *h, size_t nh, xs_result *out,
                      affinity *af)
{
    const xs_host_api *api = r->api;
    size_t total = nh + req->n_items;
    uint32_t bits = 4;
    while ((1ull << bits) < 2 * (uint64_t)total)
        bits++;
    uint32_t cap = 1u << bits, mask = cap - 1, shift = 32 - bits;
    uint32_t *key = api->scratch(out, (size_t)cap * sizeof *key);
    uint32_t *slot_of = api->scratch(out, (size_t)cap * sizeof *slot_of);
    af->items = api->scratch(out, (total + 1) * sizeof *af->items);
    af->aff = api->scratch(out, (total + 1) * sizeof *af->aff);
    if (!key || !slot_of || !af->items || !af->aff)
        return -1;
    memset(key, 0xFF, (size_t)cap * sizeof *key);
    af->n = 0;
    for (size_t i = 0; i < total; i++) {
        uint32_t item = i < nh ? h[i].item : req->items[i - nh];
        double x = i >= nh     ? 1.0
                   : r->weight_one ? decay(r, h[i].ts)
                                   : h[i].weight * decay(r, h[i].ts);
        int added;
        uint32_t s = hash_find(key, mask, shift, item, &added);
        if (added) {
            slot_of[s] = af->n;
            af->items[af->n] = item;
            af->aff[af->n++] = x;
        } else {
            af->aff[slot_of[s]] += x;
        }
    }
    return 0;
}

/* The supports prefetch: candidates' supports are read in neighbour order,
 * which is random in memory. */
#define PREFETCH_AHEAD 8

static inline void prefetch(const void *p)
{
#if defined(__GNUC__)
    __builtin_prefetch(p);
#else
    (void)p;
#endif
}

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* The dense loop of add_row for one measure m: called with a constant m so
 * that the measure's switch folds away and the loop is one division and
 * one add per entry. */
static ALWAYS_INLINE void row_dense(double *val, uint32_t n_val,
                                    const xs_row *row, double ai,
                                    const uint32_t *sup, uint32_t n_sup,
                                    uint64_t n, uint32_t minc, const int m)
{
    const uint32_t *nbr = row->nbr, *cnt = row->cnt;
    const uint32_t n_i = row->support;
    for (uint32_t j = 0; j < row->n; j++) {
        if (j + PREFETCH_AHEAD < row->n && nbr[j + PREFETCH_AHEAD] < n_sup)
            prefetch(&sup[nbr[j + PREFETCH_AHEAD]]);
        uint32_t c = nbr[j], n_ic = cnt[j];
        if (n_ic < minc || c >= n_val)
            continue;
        uint32_t n_c = c < n_sup ? sup[c] : 0;
        val[c] += ai * xs_measure_value(m, n_ic, n_i, n_c, n);
    }
}

/* a * m(n_ic, n_i, n_c, N) over the row of i, with the self term. */
static void add_row(const recency *r, acc *a, const xs_row *row, double ai,
                    const uint32_t *sup, uint32_t n_sup, uint64_t n)
{
    const uint32_t minc = r->min_count;
    const int m = r->measure;
    if (row->support >= minc)
        acc_add(a, row->item,
                ai * xs_measure_value(m, row->support, row->support,
                                      row->support, n));
    if (!a->key) {
        switch (m) {
        case XS_MEASURE_JACCARD:
            row_dense(a->val, a->n, row, ai, sup, n_sup, n, minc,
                      XS_MEASURE_JACCARD);
            return;
        case XS_MEASURE_COSINE:
            row_dense(a->val, a->n, row, ai, sup, n_sup, n, minc,
                      XS_MEASURE_COSINE);
            return;
        case XS_MEASURE_LIFT:
            row_dense(a->val, a->n, row, ai, sup, n_sup, n, minc,
                      XS_MEASURE_LIFT);
            return;
        default:
            row_dense(a->val, a->n, row, ai, sup, n_sup, n, minc, m);
            return;
        }
    }
    for (uint32_t j = 0; j < row->n; j++) {
        uint32_t c = row->nbr[j], n_ic = row->cnt[j];
        if (n_ic < minc)
            continue;
        uint32_t n_c = c < n_sup ? sup[c] : 0;
        acc_add(a, c, ai * xs_measure_value(m, n_ic, row->support, n_c, n));
    }
}

/* The host's row versions when the plugin keeps lists, else NULL. */
static const uint32_t *list_versions(const recency *r, uint32_t *n_ver)
{
    *n_ver = 0;
    return r->max_nb ? r->api->row_versions(r->host, r->scope, n_ver) : NULL;
}

/* What item a is scored from by sim: its capped list when it has a current
 * one (with a's live support), else its host row, whole (a row no longer
 * than max_nb, or a list that could not be refreshed). */
static inline int neighbours(const recency *r, uint32_t a,
                             const uint32_t *ver, uint32_t n_ver,
                             const uint32_t *sup, uint32_t n_sup,
                             xs_row *out)
{
    if (ver && a < r->n_lists && a < n_ver) {
        const nb_list *l = &r->lists[a];
        if (l->built && l->capped && l->version == ver[a]) {
            *out = (xs_row){a, a < n_sup ? sup[a] : 0, l->n, l->nbr,
                            l->nbr + l->n};
            return 1;
        }
    }
    return r->api->row(r->host, r->scope, a, out);
}

static int personal(const recency *r, const xs_request *req,
                    const xs_event *h, size_t nh, xs_result *out)
{
    const xs_host_api *api = r->api;
    affinity af;
    if (affinities(r, req, h, nh, out, &af))
        return -1;
    uint32_t n_sup;
    const uint32_t *sup = api->supports(r->host, r->scope, &n_sup);
    uint64_t n = api->transactions(r->host, r->scope);
    uint32_t n_items = api->item_count(r->host);
    if (n_sup > n_items)
        n_items = n_sup;
    uint32_t n_ver;
    const uint32_t *ver = list_versions(r, &n_ver);
    uint64_t bound = 0;
    xs_row row;
    for (uint32_t i = 0; i < af.n; i++)
        if (af.aff[i] > 0 &&
            neighbours(r, af.items[i], ver, n_ver, sup, n_sup, &row))
            bound += (uint64_t)row.n + 1;
    if (bound == 0)
        return 0;
    acc sc;
    if (acc_init(&sc, out, api, bound, n_items))
        return -1;
    for (uint32_t i = 0; i < af.n; i++)
        if (af.aff[i] > 0 &&
            neighbours(r, af.items[i], ver, n_ver, sup, n_sup, &row))
            add_row(r, &sc, &row, af.aff[i], sup, n_sup, n);
    /* the host refuses the customer's own items (unless kept) and the
     * request's: expect that many refusals */
    return acc_push(&sc, api, out, req->k, req->k + af.n + 8);
}

/* Basket requests without D: m(n_ac, n_a, n_c, N) on the host's rows. */
static void add_row_counts(const recency *r, acc *a, const xs_row *row,
                           const uint32_t *sup, uint32_t n_sup, uint64_t n)
{
    for (uint32_t j = 0; j < row->n; j++) {
        uint32_t c = row->nbr[j], n_ac = row->cnt[j];
        if (n_ac < r->min_count)
            continue;
        acc_add(a, c,
                xs_measure_value(r->measure, n_ac, row->support,
                                 c < n_sup ? sup[c] : 0, n));
    }
}

/* Basket requests with D: m(D_ac, D_a, D_c, N_D) over a's row of D, the
 * pairs with n_ac >= min_count (looked up in the host row, whose
 * neighbours include D's, when min_count > 1). */
static void add_row_decayed(const recency *r, acc *a, uint32_t item,
                            const uint32_t *ver, uint32_t n_ver)
{
    if (item >= r->n_rows)
        return;
    const drow *d = &r->rows[item];
    if (ver && item < r->n_dlists && r->dlists[item].capped &&
        dlist_current(r, item, ver, n_ver)) {
        /* the list: every entry had n_ac >= min_count when it was chosen,
         * and the host row has not changed since */
        const d_list *l = &r->dlists[item];
        const float *w = (const float *)(l->nbr + l->n);
        const double da = r->dsup[item], nd = r->n_d, scale = d->scale;
        for (uint32_t j = 0; j < l->n; j++) {
            uint32_t c = l->nbr[j];
            double dc = c < r->n_rows ? r->dsup[c] : 0;
            acc_add(a, c, measure_real(r->measure, w[j] * scale, da, dc, nd));
        }
        return;
    }
    const double da = r->dsup[item], nd = r->n_d, scale = d->scale;
    xs_row host = {0};
    uint32_t hp = 0;
    int filter = r->min_count > 1;
    if (filter && !r->api->row(r->host, r->scope, item, &host))
        return;
    for (uint32_t j = 0; j < d->n; j++) {
        uint32_t c = d->nbr[j];
        if (filter) {
            while (hp < host.n && host.nbr[hp] < c)
                hp++;
            if (hp == host.n || host.nbr[hp] != c ||
                host.cnt[hp] < r->min_count)
                continue;
        }
        double dc = c < r->n_rows ? r->dsup[c] : 0;
        acc_add(a, c, measure_real(r->measure, d->w[j] * scale, da, dc, nd));
    }
}

static int basket(const recency *r, const xs_request *req, xs_result *out)
{
    const xs_host_api *api = r->api;
    if (r->decayed && !r->d_built)
        return -1; /* not prepared for requests with items */
    uint32_t n_sup;
    const uint32_t *sup = api->supports(r->host, r->scope, &n_sup);
    uint64_t n = api->transactions(r->host, r->scope);
    uint32_t n_items = api->item_count(r->host);
    if (n_sup > n_items)
        n_items = n_sup;
    if (r->decayed && r->n_rows > n_items)
        n_items = r->n_rows;
    uint32_t n_ver;
    const uint32_t *ver = list_versions(r, &n_ver);
    uint64_t bound = 0;
    xs_row row;
    for (uint32_t i = 0; i < req->n_items; i++) {
        uint32_t a = req->items[i];
        if (r->decayed)
            bound += a >= r->n_rows ? 0
                     : ver && a < r->n_dlists && r->dlists[a].capped &&
                             dlist_current(r, a, ver, n_ver)
                         ? r->dlists[a].n
                         : r->rows[a].n;
        else if (neighbours(r, a, ver, n_ver, sup, n_sup, &row))
            bound += row.n;
    }
    if (bound == 0)
        return 0;
    acc sc;
    if (acc_init(&sc, out, api, bound, n_items))
        return -1;
    for (uint32_t i = 0; i < req->n_items; i++) {
        if (r->decayed)
            add_row_decayed(r, &sc, req->items[i], ver, n_ver);
        else if (neighbours(r, req->items[i], ver, n_ver, sup, n_sup, &row))
            add_row_counts(r, &sc, &row, sup, n_sup, n);
    }
    return acc_push(&sc, api, out, req->k, req->k + req->n_items + 8);
}

/* The customer's history when the request is personal, else NULL. */
static const xs_event *personal_history(const recency *r,
                                        const xs_request *req, size_t *nh)
{
    const xs_event *h = NULL;
    *nh = 0;
    if (req->customer == XS_NONE ||
        !r->api->history(r->host, req->customer, &h, nh) || *nh == 0)
        return NULL;
    return h;
}

static int rc_recommend(void *state, const xs_request *req, xs_result *out)
{
    const recency *r = state;
    size_t nh;
    const xs_event *h = personal_history(r, req, &nh);
    if (h)
        return personal(r, req, h, nh, out);
    if (req->n_items)
        return basket(r, req, out);
    return 0;
}

/* ---- explain ----------------------------------------------------------------- */

typedef struct item_aff {
    uint32_t item;
    int64_t latest; /* INT64_MIN: only viewed now */
    double aff;
} item_aff;

static int by_item(const void *x, const void *y)
{
    const item_aff *a = x, *b = y;
    return (a->item > b->item) - (a->item < b->item);
}

/* Whether c is among nbr[0..n) (sorted). */
static int in_sorted(const uint32_t *nbr, uint32_t n, uint32_t c)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nbr[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && nbr[lo] == c;
}

/* Whether the request scores c from i's neighbours: always, unless i has a
 * current capped list without c. */
static int scored_from(const recency *r, uint32_t i, uint32_t c)
{
    uint32_t n_ver, n_sup;
    const uint32_t *ver = list_versions(r, &n_ver);
    const uint32_t *sup = r->api->supports(r->host, r->scope, &n_sup);
    xs_row row;
    if (i == c || !ver || i >= r->n_lists || !r->lists[i].capped ||
        !neighbours(r, i, ver, n_ver, sup, n_sup, &row) ||
        row.nbr != r->lists[i].nbr)
        return 1;
    return in_sorted(row.nbr, row.n, c);
}

/* The same for a basket item a and D's lists. */
static int scored_from_d(const recency *r, uint32_t a, uint32_t c)
{
    uint32_t n_ver;
    const uint32_t *ver = list_versions(r, &n_ver);
    if (!ver || !r->decayed || a >= r->n_dlists || !r->dlists[a].capped ||
        !dlist_current(r, a, ver, n_ver))
        return 1;
    return in_sorted(r->dlists[a].nbr, r->dlists[a].n, c);
}

/* sim(i, c) on the host's counts, as add_row computes it (0 when c is not
 * in i's list). */
static double similarity(const recency *r, uint32_t i, uint32_t c)
{
    const xs_host_api *api = r->api;
    if (!scored_from(r, i, c))
        return 0;
    uint32_t n_i = api->support(r->host, r->scope, i);
    uint32_t n_ic = i == c ? n_i : api->pair_count(r->host, r->scope, i, c);
    if (n_ic == 0 || n_ic < r->min_count)
        return 0;
    return xs_measure_value(r->measure, n_ic, n_i,
                            api->support(r->host, r->scope, c),
                            api->transactions(r->host, r->scope));
}

static int explain_personal(const recency *r, const xs_request *req,
                            const xs_event *h, size_t nh, uint32_t item,
                            xs_evidence *ev)
{
    size_t total = nh + req->n_items;
    item_aff *v = malloc(total * sizeof *v);
    if (!v)
        return -1;
    for (size_t i = 0; i < nh; i++)
        v[i] = (item_aff){h[i].item, h[i].ts,
                          (r->weight_one ? 1.0 : h[i].weight) *
                              decay(r, h[i].ts)};
    for (uint32_t i = 0; i < req->n_items; i++)
        v[nh + i] = (item_aff){req->items[i], INT64_MIN, 1.0};
    qsort(v, total, sizeof *v, by_item);
    uint32_t best_i = XS_NONE;
    double best = 0, best_aff = 0, best_sim = 0;
    int64_t best_latest = INT64_MIN;
    for (size_t i = 0; i < total;) {
        size_t j = i;
        double aff = 0;
        int64_t latest = INT64_MIN;
        for (; j < total && v[j].item == v[i].item; j++) {
            aff += v[j].aff;
            if (v[j].latest > latest)
                latest = v[j].latest;
        }
        if (aff > 0) {
            double sim = similarity(r, v[i].item, item);
            double contrib = aff * sim;
            if (contrib > best ||
                (contrib == best && contrib > 0 && v[i].item < best_i)) {
                best = contrib;
                best_i = v[i].item;
                best_aff = aff;
                best_sim = sim;
                best_latest = latest;
            }
        }
        i = j;
    }
    free(v);
    if (best_i == XS_NONE)
        return 0;
    double age = best_latest == INT64_MIN
                     ? 0.0
                     : (double)(r->t_ref - best_latest) / SECONDS_PER_DAY;
    xs_evidence_add(ev, "from", 0, r->api->item_name(r->host, best_i));
    xs_evidence_add(ev, "affinity", best_aff, NULL);
    xs_evidence_add(ev, "similarity", best_sim, NULL);
    xs_evidence_add(ev, "age_days", age, NULL);
    xs_evidence_add(ev, "half_life_days", r->half_life_days, NULL);
    return 0;
}

static int explain_basket(const recency *r, const xs_request *req,
                          uint32_t item, xs_evidence *ev)
{
    const xs_host_api *api = r->api;
    uint32_t best_a = XS_NONE;
    double best = -INFINITY, best_count = 0;
    if (r->decayed && !r->d_built)
        return -1; /* not prepared for requests with items */
    for (uint32_t i = 0; i < req->n_items; i++) {
        uint32_t a = req->items[i];
        uint32_t n_ac = api->pair_count(r->host, r->scope, a, item);
        if (n_ac == 0 || n_ac < r->min_count)
            continue;
        if (r->decayed ? !scored_from_d(r, a, item) : !scored_from(r, a, item))
            continue;
        double count, s;
        if (r->decayed) {
            count = d_pair(r, a, item);
            s = measure_real(r->measure, count, r->dsup[a],
                             item < r->n_rows ? r->dsup[item] : 0, r->n_d);
        } else {
            count = n_ac;
            s = xs_measure_value(r->measure, n_ac,
                                 api->support(r->host, r->scope, a),
                                 api->support(r->host, r->scope, item),
                                 api->transactions(r->host, r->scope));
        }
        if (s > best) {
            best = s;
            best_a = a;
            best_count = count;
        }
    }
    if (best_a == XS_NONE)
        return 0;
    xs_evidence_add(ev, "from", 0, api->item_name(r->host, best_a));
    xs_evidence_add(ev, "decayed_count", best_count, NULL);
    xs_evidence_add(ev, "similarity", best, NULL);
    return 0;
}

static int rc_explain(void *state, const xs_request *req, uint32_t item,
                      xs_evidence *ev)
{
    const recency *r = state;
    size_t nh;
    const xs_event *h = personal_history(r, req, &nh);
    if (h)
        return explain_personal(r, req, h, nh, item, ev);
    return explain_basket(r, req, item, ev);
}

/* ---- observe ------------------------------------------------------------------ */

/* One item of a touched group: its latest time after the new events and
 * before them (INT64_MIN: absent before). */
typedef struct gitem {
    uint32_t item;
    int64_t after, before;
} gitem;

/* A group's event while diffing: removed marks the batch's own events. */
typedef struct hev {
    uint32_t item;
    int removed;
    int64_t ts;
} hev;

static int by_item_ts(const void *x, const void *y)
{
    const hev *a = x, *b = y;
    if (a->item != b->item)
        return a->item < b->item ? -1 : 1;
    return (a->ts > b->ts) - (a->ts < b->ts);
}

typedef struct delta {
    uint32_t a, b;
    double d;
} delta;

static int by_pair(const void *x, const void *y)
{
    const delta *p = x, *q = y;
    if (p->a != q->a)
        return p->a < q->a ? -1 : 1;
    return (p->b > q->b) - (p->b < q->b);
}

typedef struct delta_list {
    delta *v;
    size_t n, cap;
} delta_list;

static int delta_push(delta_list *l, uint32_t a, uint32_t b, double d)
{
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 256;
        delta *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (delta){a, b, d};
    l->v[l->n++] = (delta){b, a, d};
    return 0;
}

/* The batch events of one group, by index into the batch. */
typedef struct bref {
    uint32_t customer, key;
    size_t idx;
} bref;

static int by_group(const void *x, const void *y)
{
    const bref *a = x, *b = y;
    if (a->customer != b->customer)
        return a->customer < b->customer ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* The difference one group makes to D: the group's history events are
 * h[0..nh) (new ones included); the new ones are ev[refs[i].idx]. */
static int diff_group(recency *r, const xs_event *h, size_t nh, uint32_t key,
                      const xs_event *ev, const bref *refs, size_t n_refs,
                      delta_list *out)
{
    int rc = -1;
    hev *g = malloc((nh + 1) * sizeof *g);
    gitem *it = malloc((nh + 1) * sizeof *it);
    double *da = malloc((nh + 1) * sizeof *da);
    double *db = malloc((nh + 1) * sizeof *db);
    uint8_t *changed = malloc(nh + 1);
    if (!g || !it || !da || !db || !changed)
        goto out;
    size_t m = 0;
    for (size_t i = 0; i < nh; i++)
        if (r->scope != XS_SCOPE_BASKET || h[i].order == key)
            g[m++] = (hev){h[i].item, 0, h[i].ts};
    qsort(g, m, sizeof *g, by_item_ts);
    for (size_t i = 0; i < n_refs; i++) { /* take the batch's events out */
        const xs_event *e = &ev[refs[i].idx];
        size_t lo = 0, hi = m;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (g[mid].item < e->item ||
                (g[mid].item == e->item && g[mid].ts < e->ts))
                lo = mid + 1;
            else
                hi = mid;
        }
        while (lo < m && g[lo].item == e->item && g[lo].ts == e->ts &&
               g[lo].removed)
            lo++;
        if (lo < m && g[lo].item == e->item && g[lo].ts == e->ts)
            g[lo].removed = 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        if (!k || it[k - 1].item != g[i].item)
            it[k++] = (gitem){g[i].item, INT64_MIN, INT64_MIN};
        if (g[i].ts > it[k - 1].after)
            it[k - 1].after = g[i].ts;
        if (!g[i].removed && g[i].ts > it[k - 1].before)
            it[k - 1].before = g[i].ts;
    }
    double top_a = 0, top_b = 0;
    int any_changed = 0;
    for (size_t i = 0; i < k; i++) {
        da[i] = decay(r, it[i].after);
        db[i] = it[i].before == INT64_MIN ? 0 : decay(r, it[i].before);
        changed[i] = it[i].before != it[i].after;
        any_changed |= changed[i];
        if (da[i] > top_a)
            top_a = da[i];
        if (it[i].before != INT64_MIN && db[i] > top_b)
            top_b = db[i];
    }
    if (!any_changed) {
        rc = 0;
        goto out;
    }
    r->n_d += top_a - top_b;
    for (size_t i = 0; i < k; i++) {
        if (!changed[i] || it[i].item >= r->n_rows)
            continue;
        r->dsup[it[i].item] += da[i] - db[i];
        for (size_t j = 0; j < k; j++) {
            if (j == i || (changed[j] && j < i) || it[j].item >= r->n_rows)
                continue;
            double wa = da[i] < da[j] ? da[i] : da[j];
            int both = it[i].before != INT64_MIN && it[j].before != INT64_MIN;
            double wb = !both ? 0 : db[i] < db[j] ? db[i] : db[j];
            if ((wa != wb || !both) &&
                delta_push(out, it[i].item, it[j].item, wa - wb))
                goto out;
        }
    }
    rc = 0;
out:
    free(g);
    free(it);
    free(da);
    free(db);
    free(changed);
    return rc;
}

/* Largest value a row stores relative to its scale before it is rewritten
 * with a new one (float holds up to 2^127). */
#define MAX_REL_WEIGHT 0x1p60

/* Adds the deltas d[0..n) (all of row a, sorted by b) in place when every
 * neighbour is already in the row and the values stay in range; returns 1
 * when done, 0 when the row must be rewritten. */
static int update_row(recency *r, uint32_t a, const delta *d, size_t n)
{
    drow *row = &r->rows[a];
    uint32_t lo = 0;
    for (size_t j = 0; j < n; j++) { /* every neighbour there, values ok */
        uint32_t hi = row->n;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (row->nbr[mid] < d[j].b)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == row->n || row->nbr[lo] != d[j].b ||
            row->w[lo] + d[j].d / row->scale > MAX_REL_WEIGHT)
            return 0;
    }
    lo = 0;
    for (size_t j = 0; j < n; j++) {
        while (row->nbr[lo] < d[j].b)
            lo++;
        double x = row->w[lo] * row->scale + d[j].d;
        row->w[lo] = (float)((x > 0 ? x : 0) / row->scale);
    }
    row->version++;
    return 1;
}

/* Applies the deltas d[0..n) (all of row a, sorted by b): in place when it
 * can, else by rewriting the row whole. */
static int apply_row(recency *r, uint32_t a, const delta *d, size_t n)
{
    if (update_row(r, a, d, n))
        return 0;
    const drow *row = &r->rows[a];
    size_t cap = row->n + n;
    uint32_t *nbr = malloc((cap + 1) * sizeof *nbr);
    double *v = malloc((cap + 1) * sizeof *v);
    if (!nbr || !v) {
        free(nbr);
        free(v);
        return -1;
    }
    size_t i = 0, j = 0, m = 0;
    while (i < row->n || j < n) {
        uint32_t b = i < row->n && (j == n || row->nbr[i] <= d[j].b)
                         ? row->nbr[i]
                         : d[j].b;
        double x = 0;
        if (i < row->n && row->nbr[i] == b)
            x = row->w[i++] * row->scale;
        for (; j < n && d[j].b == b; j++)
            x += d[j].d;
        nbr[m] = b;
        v[m++] = x > 0 ? x : 0;
    }
    int rc = set_row(r, a, nbr, v, (uint32_t)m);
    free(nbr);
    free(v);
    return rc;
}

/* Adds the batch's difference to D. */
static int observe_d(recency *r, const xs_event *ev, size_t n)
{
    const xs_host_api *api = r->api;
    if (grow_rows(r, api->item_count(r->host)))
        return -1;
    bref *refs = malloc(n * sizeof *refs);
    if (!refs)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].customer == XS_NONE)
            continue;
        if (r->scope == XS_SCOPE_BASKET && ev[i].order == XS_NONE)
            continue;
        refs[m++] = (bref){ev[i].customer,
                           r->scope == XS_SCOPE_BASKET ? ev[i].order : 0, i};
    }
    qsort(refs, m, sizeof *refs, by_group);
    delta_list dl = {0};
    int rc = 0;
    for (size_t i = 0; i < m && !rc;) {
        size_t j = i;
        while (j < m && refs[j].customer == refs[i].customer &&
               refs[j].key == refs[i].key)
            j++;
        const xs_event *h;
        size_t nh;
        if (api->history(r->host, refs[i].customer, &h, &nh))
            rc = diff_group(r, h, nh, refs[i].key, ev, refs + i, j - i, &dl);
        i = j;
    }
    free(refs);
    if (!rc) {
        qsort(dl.v, dl.n, sizeof *dl.v, by_pair);
        for (size_t i = 0; i < dl.n && !rc;) {
            size_t j = i;
            while (j < dl.n && dl.v[j].a == dl.v[i].a)
                j++;
            rc = apply_row(r, dl.v[i].a, dl.v + i, j - i);
            i = j;
        }
    }
    free(dl.v);
    if (rc)
        api->log(r->host, XS_LOG_ERROR,
                 "out of memory updating the decayed table");
    return rc;
}

static int rc_observe(void *state, const xs_event *ev, size_t n)
{
    recency *r = state;
    if (n == 0)
        return 0;
    /* D not built yet: built later from the histories, these included;
     * the lists are refreshed by prepare(), which follows */
    return r->d_built ? observe_d(r, ev, n) : 0;
}

static const xs_plugin recency_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "recency",
    .version = "1.0.0",
    .description = "what the customer is likely to buy next, recent "
                   "behaviour weighing more (SAR with time decay)",
    .create = rc_create,
    .recommend = rc_recommend,
    .explain = rc_explain,
    .observe = rc_observe,
    .destroy = rc_destroy,
    .prepare = rc_prepare,
};

XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    return &recency_plugin;
}
