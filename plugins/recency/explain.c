/*
 * explain.c -- recency's explain() (recency/recency.h): the item that
 * contributed most to a recommended one, and the numbers behind it.  It
 * follows what the request scored: the neighbour lists when they are in
 * use, D for basket requests when it is.  It allocates (a sort of the
 * history per explained item), unlike recommend().
 */
#include <math.h>
#include <stdlib.h>

#include "recency/recency.h"

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
    return xs_sorted_has(row.nbr, row.n, c);
}

/* The same for a basket item a and D's lists. */
static int scored_from_d(const recency *r, uint32_t a, uint32_t c)
{
    uint32_t n_ver;
    const uint32_t *ver = list_versions(r, &n_ver);
    if (!ver || !r->decayed || a >= r->n_dlists || !r->dlists[a].capped ||
        !dlist_current(r, a, ver, n_ver))
        return 1;
    return xs_sorted_has(r->dlists[a].nbr, r->dlists[a].n, c);
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
    item_aff *v = malloc((total + 1) * sizeof *v);
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
            count = recency_d_pair(r, a, item);
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

int recency_explain(void *state, const xs_request *req, uint32_t item,
                      xs_evidence *ev)
{
    const recency *r = state;
    size_t nh;
    const xs_event *h = personal_history(r, req, &nh);
    if (h)
        return explain_personal(r, req, h, nh, item, ev);
    return explain_basket(r, req, item, ev);
}
