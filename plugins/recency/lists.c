/*
 * lists.c -- recency's neighbour lists (max_neighbours; recency/recency.h):
 * the M best neighbours of each item by the measure it is scored with,
 * on the plain counts (L) and on D (L_D), chosen by prepare() and chosen
 * again for the rows that changed.
 */
#include <stdlib.h>
#include <string.h>

#include "recency/recency.h"

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

void recency_free_lists(recency *r)
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
                      xs_cand *heap)
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
        /* ties by position in the row: by lower id */
        xs_cand x = {.item = j,
                     .score = xs_measure_value(r->measure, n_ac, row.support,
                                               c < n_sup ? sup[c] : 0, n)};
        xs_best_offer(heap, &k, r->max_nb, x);
    }
    qsort(heap, k, sizeof *heap, xs_cmp_cand_id); /* lists stay sorted */
    uint32_t *mem = NULL;
    if (k) {
        mem = malloc(2 * (size_t)k * sizeof *mem);
        if (!mem) {
            l->built = 0;
            return -1;
        }
        for (uint32_t j = 0; j < k; j++) {
            mem[j] = row.nbr[heap[j].item];
            mem[k + j] = row.cnt[heap[j].item];
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
        nb_list *l = xs_grow_zeroed(r->lists, r->n_lists, n_ver, sizeof *l);
        if (!l)
            return -1;
        r->lists = l;
        r->n_lists = n_ver;
    }
    uint32_t longest = 0;
    xs_row row;
    for (uint32_t a = 0; a < n_ver; a++)
        if ((!r->lists[a].built || r->lists[a].version != ver[a]) &&
            api->row(r->host, r->scope, a, &row) && row.n > longest)
            longest = row.n;
    xs_cand *heap = malloc(((size_t)heap_size(r, longest) + 1) * sizeof *heap);
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
static int build_dlist(recency *r, uint32_t a, uint32_t hver, xs_cand *heap,
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
        xs_cand x = {.item = j,
                     .score = measure_real(r->measure, d->w[j] * scale, da,
                                           dc, nd)};
        xs_best_offer(heap, &k, r->max_nb, x);
    }
    qsort(heap, k, sizeof *heap, xs_cmp_cand_id);
    uint32_t *mem = NULL;
    if (k) {
        mem = malloc((size_t)k * (sizeof *mem + sizeof(float)));
        if (!mem) {
            l->built = 0;
            return -1;
        }
        float *w = (float *)(mem + k);
        for (uint32_t j = 0; j < k; j++) {
            mem[j] = d->nbr[heap[j].item];
            w[j] = d->w[heap[j].item];
        }
    }
    *l = (d_list){mem, k, d->version, hver, 1, 1};
    r->list_entries += k;
    return 0;
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
        d_list *l = xs_grow_zeroed(r->dlists, r->n_dlists, r->n_rows,
                                   sizeof *l);
        if (!l)
            return -1;
        r->dlists = l;
        r->n_dlists = r->n_rows;
    }
    uint32_t longest = 0;
    for (uint32_t a = 0; a < r->n_rows; a++)
        if (!dlist_current(r, a, ver, n_ver) && r->rows[a].n > longest)
            longest = r->rows[a].n;
    xs_cand *heap = malloc(((size_t)heap_size(r, longest) + 1) * sizeof *heap);
    uint8_t *ok = malloc((size_t)longest + 1);
    int rc = heap && ok ? 0 : -1;
    for (uint32_t a = 0; a < r->n_rows && !rc; a++)
        if (!dlist_current(r, a, ver, n_ver))
            rc = build_dlist(r, a, host_version(ver, n_ver, a), heap, ok);
    free(heap);
    free(ok);
    return rc;
}

int recency_refresh_all(recency *r)
{
    if (!r->max_nb)
        return 0;
    return refresh_lists(r) || (r->d_built && refresh_dlists(r)) ? -1 : 0;
}
