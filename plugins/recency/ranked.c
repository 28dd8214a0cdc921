/*
 * ranked.c -- recency's basket requests at a bounded cost: each item's
 * best neighbours by the basket score, ranked, and the threshold algorithm
 * over them (common/ranked.h; the option basket_neighbours, recency.h).
 *
 * The score a list ranks by is the one the basket path sums: with D the
 * decayed measure m(D_ac, D_a, D_c, N_D), without D the measure of the
 * plain counts m(n_ac, n_a, n_c, N), both among the pairs with n_ac >=
 * min_count.  A list's payload is the entry's position in the row it was
 * built from (D's row, or the host's), so while that row is unchanged the
 * entry's own term is read without a search; other basket items' terms are
 * found by binary search in their rows.  Totals are always computed from
 * the live rows and sums: a request's answer is the whole-row answer
 * whenever the threshold proves it, and otherwise the lists' candidates
 * with their exact totals.
 *
 * With D and min_count > 1 a pair counts only when its plain count reaches
 * min_count, which is in the host's row: a second lookup per pair.  So
 * each rebuilt list comes with a bit per entry of the item's D row saying
 * whether the pair counts (elig), read instead of the host's row while the
 * list is current.
 *
 * Up to date: prepare() rebuilds the list of every item whose D row or
 * host row changed since its list was built, and every list once the
 * transactions grew by `refresh` (a fraction) since they were all built.
 */
#include <stdlib.h>
#include <string.h>

#include "recency/recency.h"

void recency_free_ranked(recency *r)
{
    for (uint32_t i = 0; i < r->n_ranked; i++) {
        ranked_free(&r->ranked[i]);
        ranked_sample_free(&r->dsample[i]);
        ranked_sample_free(&r->hsample[i]);
        free(r->elig[i]);
    }
    free(r->elig);
    r->elig = NULL;
    free(r->ranked);
    free(r->ranked_hver);
    free(r->dsample);
    free(r->hsample);
    r->dsample = r->hsample = NULL;
    r->ranked = NULL;
    r->ranked_hver = NULL;
    r->n_ranked = 0;
    r->ranked_entries = 0;
    r->ranked_n = 0;
}

/* Rows the basket path reads for item a: D's row (with D) or the host's. */
static uint32_t source_version(const recency *r, uint32_t a,
                               const uint32_t *ver, uint32_t n_ver)
{
    if (r->decayed)
        return a < r->n_rows ? r->rows[a].version : 0;
    return host_version(ver, n_ver, a);
}

static int current(const recency *r, uint32_t a, const uint32_t *ver,
                   uint32_t n_ver)
{
    const ranked_list *l = &r->ranked[a];
    return l->built && l->version == source_version(r, a, ver, n_ver) &&
           (!r->decayed || r->min_count <= 1 ||
            r->ranked_hver[a] == host_version(ver, n_ver, a));
}

/* The entries of item a's list, before ranking, in e (room for its row);
 * with D and min_count > 1 the eligible entries of D's row marked in elig
 * (zeroed, a bit per entry). */
static uint32_t entries(const recency *r, uint32_t a, const uint32_t *sup,
                        uint32_t n_sup, uint64_t n, ranked_entry *e,
                        uint64_t *elig)
{
    uint32_t m = 0;
    xs_row host = {0};
    int have_host = r->api->row(r->host, r->scope, a, &host);
    if (!r->decayed) {
        for (uint32_t j = 0; have_host && j < host.n; j++) {
            uint32_t c = host.nbr[j], n_ac = host.cnt[j];
            if (n_ac >= r->min_count)
                e[m++] = (ranked_entry){
                    c, j,
                    xs_measure_value(r->measure, n_ac, host.support,
                                     c < n_sup ? sup[c] : 0, n)};
        }
        return m;
    }
    if (a >= r->n_rows)
        return 0;
    const drow *d = &r->rows[a];
    const double da = r->dsup[a], nd = r->n_d, scale = d->scale;
    uint32_t hp = 0;
    for (uint32_t j = 0; j < d->n; j++) {
        uint32_t c = d->nbr[j];
        if (r->min_count > 1) {
            while (hp < host.n && host.nbr[hp] < c)
                hp++;
            if (hp == host.n || host.nbr[hp] != c ||
                host.cnt[hp] < r->min_count)
                continue;
            elig[j >> 6] |= (uint64_t)1 << (j & 63);
        }
        double dc = c < r->n_rows ? r->dsup[c] : 0;
        e[m++] = (ranked_entry){
            c, j, measure_real(r->measure, d->w[j] * scale, da, dc, nd)};
    }
    return m;
}

int recency_refresh_ranked(recency *r)
{
    if (!r->basket_nb || (r->decayed && !r->d_built))
        return 0;
    const xs_host_api *api = r->api;
    uint32_t n_ver = 0, n_sup = 0;
    const uint32_t *ver = api->row_versions(r->host, r->scope, &n_ver);
    const uint32_t *sup = api->supports(r->host, r->scope, &n_sup);
    uint64_t n = api->transactions(r->host, r->scope);
    uint32_t items = r->decayed ? r->n_rows : n_ver;
    if (items > r->n_ranked) {
        ranked_list *l = xs_grow_zeroed(r->ranked, r->n_ranked, items,
                                        sizeof *l);
        if (!l)
            return -1;
        r->ranked = l;
        uint32_t *h = xs_grow_zeroed(r->ranked_hver, r->n_ranked, items,
                                     sizeof *h);
        if (!h)
            return -1;
        r->ranked_hver = h;
        ranked_sample *ds = xs_grow_zeroed(r->dsample, r->n_ranked, items,
                                           sizeof *ds);
        if (!ds)
            return -1;
        r->dsample = ds;
        ranked_sample *hs = xs_grow_zeroed(r->hsample, r->n_ranked, items,
                                           sizeof *hs);
        if (!hs)
            return -1;
        r->hsample = hs;
        uint64_t **el = xs_grow_zeroed(r->elig, r->n_ranked, items,
                                       sizeof *el);
        if (!el)
            return -1;
        r->elig = el;
        r->n_ranked = items;
    }
    int all = r->ranked_n == 0 ||
              (double)n > (double)r->ranked_n * (1 + r->refresh);
    ranked_entry *e = NULL;
    uint32_t e_cap = 0;
    int rc = 0;
    for (uint32_t a = 0; a < r->n_ranked && !rc; a++) {
        if (!all && current(r, a, ver, n_ver))
            continue;
        xs_row host = {0};
        uint32_t len = r->decayed ? (a < r->n_rows ? r->rows[a].n : 0)
                       : api->row(r->host, r->scope, a, &host) ? host.n
                                                               : 0;
        if (len > e_cap) {
            ranked_entry *g = realloc(e, (size_t)len * sizeof *e);
            if (!g) {
                rc = -1;
                break;
            }
            e = g;
            e_cap = len;
        }
        uint64_t *elig = NULL;
        if (r->decayed && r->min_count > 1) {
            size_t words = ((size_t)len + 63) / 64;
            elig = realloc(r->elig[a], (words ? words : 1) * sizeof *elig);
            if (!elig) {
                rc = -1;
                break;
            }
            memset(elig, 0, (words ? words : 1) * sizeof *elig);
            r->elig[a] = elig;
        }
        ranked_list *l = &r->ranked[a];
        r->ranked_entries -= l->n;
        uint32_t m = entries(r, a, sup, n_sup, n, e, elig);
        rc = ranked_build(l, e, m, r->basket_nb,
                          source_version(r, a, ver, n_ver));
        r->ranked_hver[a] = host_version(ver, n_ver, a);
        r->ranked_entries += l->n;
        if (!rc && r->decayed && a < r->n_rows)
            rc = ranked_sample_build(&r->dsample[a], r->rows[a].nbr,
                                     r->rows[a].n, r->rows[a].version);
        if (!rc && (!r->decayed || r->min_count > 1)) {
            if (!api->row(r->host, r->scope, a, &host))
                host.n = 0;
            rc = ranked_sample_build(&r->hsample[a], host.nbr, host.n,
                                     host_version(ver, n_ver, a));
        }
    }
    free(e);
    if (!rc && all)
        r->ranked_n = n ? n : 1;
    return rc;
}

/* What exact() reads: the basket items, their host rows, the live sums. */
typedef struct basket_ctx {
    const recency *r;
    const uint32_t *items; /* by basket position */
    const xs_row *host;
    const uint32_t *sup;
    uint32_t n_sup;
    uint64_t n;
    const uint32_t *ver;
    uint32_t n_ver;
} basket_ctx;

/* The basket term of items[j] for candidate c (common/ranked.h). */
static double exact(void *arg, uint32_t j, uint32_t c, const ranked_list *li,
                    uint32_t i, uint32_t at)
{
    const basket_ctx *x = arg;
    const recency *r = x->r;
    uint32_t a = x->items[j];
    const xs_row *h = &x->host[j];
    /* the entry's own row position, while that row is the one it was
     * built from */
    int own = j == i && current(r, a, x->ver, x->n_ver);
    if (!r->decayed) {
        uint32_t p = own ? li->aux[at]
                         : ranked_find_sampled(h->nbr, h->n, &r->hsample[a],
                                               host_version(x->ver, x->n_ver,
                                                            a),
                                               c);
        if (p == h->n || h->cnt[p] < r->min_count)
            return 0;
        return xs_measure_value(r->measure, h->cnt[p], h->support,
                                c < x->n_sup ? x->sup[c] : 0, x->n);
    }
    if (a >= r->n_rows)
        return 0;
    const drow *d = &r->rows[a];
    uint32_t p;
    if (own) {
        p = li->aux[at]; /* eligible when built; counts only grow */
    } else {
        p = ranked_find_sampled(d->nbr, d->n, &r->dsample[a], d->version, c);
        if (p == d->n)
            return 0;
        if (r->min_count > 1 && r->elig[a] &&
            current(r, a, x->ver, x->n_ver)) {
            if (!(r->elig[a][p >> 6] >> (p & 63) & 1))
                return 0;
        } else if (r->min_count > 1) {
            uint32_t q = ranked_find_sampled(
                h->nbr, h->n, &r->hsample[a],
                host_version(x->ver, x->n_ver, a), c);
            if (q == h->n || h->cnt[q] < r->min_count)
                return 0;
        }
    }
    double dc = c < r->n_rows ? r->dsup[c] : 0;
    return measure_real(r->measure, d->w[p] * d->scale, r->dsup[a], dc,
                        r->n_d);
}

/* Asks for the blocks of items[j]'s rows where c would be, and D_c. */
static void prefetch(void *arg, uint32_t j, uint32_t c)
{
    const basket_ctx *x = arg;
    const recency *r = x->r;
    uint32_t a = x->items[j];
    const xs_row *h = &x->host[j];
    if (!r->decayed || (r->min_count > 1 &&
                        !(r->elig[a] && current(r, a, x->ver, x->n_ver))))
        ranked_prefetch_row(h->nbr, h->cnt, h->n, &r->hsample[a],
                            host_version(x->ver, x->n_ver, a), c);
    if (r->decayed && a < r->n_rows) {
        const drow *d = &r->rows[a];
        ranked_prefetch_row(d->nbr, d->w, d->n, &r->dsample[a], d->version,
                            c);
        if (c < r->n_rows)
            XS_PREFETCH(&r->dsup[c]);
    }
}

int recency_basket_ranked(const recency *r, const xs_request *req,
                          xs_result *out)
{
    const xs_host_api *api = r->api;
    uint32_t m = req->n_items;
    const ranked_list **L = api->scratch(out, m * sizeof *L);
    uint32_t *items = api->scratch(out, m * sizeof *items);
    xs_row *host = api->scratch(out, m * sizeof *host);
    if (!L || !items || !host)
        return -1;
    basket_ctx x = {r, items, host, NULL, 0, 0, NULL, 0};
    x.ver = api->row_versions(r->host, r->scope, &x.n_ver);
    x.sup = api->supports(r->host, r->scope, &x.n_sup);
    x.n = api->transactions(r->host, r->scope);
    uint32_t k = 0;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t a = req->items[i];
        if (a >= r->n_ranked || r->ranked[a].n == 0)
            continue;
        if (!api->row(r->host, r->scope, a, &host[k]))
            host[k] = (xs_row){a, 0, 0, NULL, NULL};
        items[k] = a;
        L[k++] = &r->ranked[a];
    }
    return ranked_answer(api, out, L, k, req->k, exact, prefetch, &x);
}
