/*
 * recency.c -- the recency plugin's options, life cycle, recommend()
 * dispatch and table (the method is in recency/recency.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "recency/recency.h"

static int rc_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    static const char *const weights[] = {"event", "one", NULL};
    int measure = XS_MEASURE_COSINE, scope = -1, weight_one = 0;
    int have_tref = 0;
    int64_t t_ref = 0;
    double half_life = DEFAULT_HALF_LIFE_DAYS;
    uint32_t min_count = 2, max_nb = 0, basket_nb = DEFAULT_BASKET_NB;
    double refresh = DEFAULT_REFRESH;
    const xs_opt_spec spec[] = {
        {.key = "half_life", .type = XS_OPT_DAYS, .out = &half_life,
         .lo = 0, .hi = INFINITY, .lo_open = 1},
        {.key = "t_ref", .type = XS_OPT_TIME, .out = &t_ref,
         .given = &have_tref},
        {.key = "similarity", .type = XS_OPT_MEASURE, .out = &measure},
        {.key = "scope", .type = XS_OPT_SCOPE, .out = &scope},
        {.key = "weight", .type = XS_OPT_CHOICE, .out = &weight_one,
         .choices = weights},
        {.key = "min_count", .type = XS_OPT_INTEGER, .out = &min_count,
         .lo = 1, .hi = UINT32_MAX},
        {.key = "max_neighbours", .type = XS_OPT_INTEGER, .out = &max_nb,
         .lo = 0, .hi = UINT32_MAX},
        {.key = "basket_neighbours", .type = XS_OPT_INTEGER,
         .out = &basket_nb, .lo = 0, .hi = 1000000},
        {.key = "refresh", .type = XS_OPT_NUMBER, .out = &refresh, .lo = 0,
         .hi = 1000},
    };
    if (xs_opts_parse(api, spec, sizeof spec / sizeof *spec, opts, n_opts,
                      err, errlen) ||
        xs_use_scope(api, host, &scope, err, errlen))
        return -1;
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
    r->min_count = min_count;
    r->half_life_days = half_life;
    r->inv_half_life = 1.0 / (half_life * SECONDS_PER_DAY);
    r->t_ref = have_tref ? t_ref : latest;
    r->decayed = latest != 0 && api->customer_count(host) > 0 &&
                 measure != XS_MEASURE_LLR;
    r->max_nb = max_nb;
    r->basket_nb = basket_nb;
    r->refresh = refresh;
    r->max_basket = XS_HOST_HAS(api, max_basket) ? api->max_basket(host) : 0;
    *state = r;
    return 0;
}

static void rc_destroy(void *state)
{
    recency *r = state;
    recency_free_lists(r);
    recency_free_ranked(r);
    recency_free_rows(r);
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
        if (recency_build_d(r)) {
            recency_free_rows(r);
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
    if ((asks & XS_ASK_ITEMS) && recency_refresh_ranked(r)) {
        snprintf(err, errlen, "out of memory building ranked basket lists");
        return -1;
    }
    if (recency_refresh_all(r)) {
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

static int rc_recommend(void *state, const xs_request *req, xs_result *out)
{
    const recency *r = state;
    size_t nh;
    const xs_event *h = personal_history(r, req, &nh);
    if (h)
        return recency_personal(r, req, h, nh, out);
    if (req->n_items && r->basket_nb && r->ranked &&
        req->k <= r->basket_nb && XS_HOST_HAS(r->api, admits)) {
        int rc = recency_basket_ranked(r, req, out);
        if (rc)
            return rc < 0 ? -1 : 0;
    } /* else whole rows: no lists, k beyond them, or they ran out */
    if (req->n_items)
        return recency_basket(r, req, out);
    return 0;
}

static int rc_observe(void *state, const xs_event *ev, size_t n)
{
    recency *r = state;
    if (n == 0)
        return 0;
    /* D not built yet: built later from the histories, these included;
     * the lists are refreshed by prepare(), which follows */
    return r->d_built ? recency_observe_d(r, ev, n) : 0;
}

/* The ranked basket lists, for the server's stats op. */
static int rc_stats(void *state, xs_evidence *out)
{
    const recency *r = state;
    xs_evidence_add(out, "basket_neighbours", r->basket_nb, NULL);
    xs_evidence_add(out, "ranked_entries", (double)r->ranked_entries, NULL);
    xs_evidence_add(out, "decayed_pairs", (double)r->d_pairs, NULL);
    return 0;
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
    .explain = recency_explain,
    .observe = rc_observe,
    .destroy = rc_destroy,
    .prepare = rc_prepare,
    .stats = rc_stats,
};

XS_PLUGIN_ENTRY(recency_plugin)

