/*
 * ease/ease.c -- the ease plugin's options, life cycle and table (the
 * method is in ease/ease.h).
 *
 * Options (xsell/plugin_util.h syntax; defaults in brackets):
 *   lambda=L         number > 0 [100]: the ridge penalty (the sweep in
 *                    bench/peers/ease.sh: 100 is within 1.1 % of the best
 *                    hit rate on groceries, online retail and MovieLens)
 *   mode=M           auto|dense|sparse [auto: dense up to max_dense items,
 *                    sparse above]
 *   max_dense=N      integer 1..200000 [16384]: the largest model the
 *                    dense mode fits (8 n^2 bytes: 2 GiB at the default)
 *   neighbours=M     integer 1..100000 [200]: sparse mode's N_j
 *   scope=S          auto|basket|customer [auto: the engine's default]
 *   refit_every=N    integer >= 0 [1000]: refit once N events have been
 *                    observed since the last fit (0: never online)
 *   threads=T        integer 0..256 [0: the CPUs]: sparse fit threads
 *   weights=W        binary|event [binary]: X binary, or X_ti = the sum
 *                    of item i's event weights in transaction t (dense
 *                    mode only; see ease/ease.h)
 *
 * Life cycle.  prepare() fits when nothing is fitted yet, or when
 * refit_every events have been observed since the last fit; observe()
 * only counts.  A refit builds the new model beside the old one and swaps
 * them only when it succeeded, so a failed refit keeps answering from the
 * last fit.  Each fit is logged at INFO with its duration.
 *
 * Stats (the stats() hook, the server's `stats` op under "plugins":
 * {"ease": {...}}): mode (dense, sparse, none), items (in the model),
 * lambda, fits, fitted_events (events observed before the last fit),
 * stale_events (observed since: not in the answers yet),
 * last_fit_seconds (since the last fit), fit_ms (its duration),
 * refit_every.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ease/ease.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int ez_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    static const char *const modes[] = {"auto", "dense", "sparse", NULL};
    static const char *const weights[] = {"binary", "event", NULL};
    ease_cfg cfg = {.scope = -1,
                    .mode = EASE_AUTO,
                    .lambda = EASE_DEFAULT_LAMBDA,
                    .neighbours = EASE_DEFAULT_NEIGHBOURS,
                    .max_dense = EASE_DEFAULT_MAX_DENSE,
                    .refit_every = EASE_DEFAULT_REFIT_EVERY,
                    .threads = 0,
                    .weights = EASE_W_BINARY};
    const xs_opt_spec spec[] = {
        {.key = "lambda", .type = XS_OPT_NUMBER, .out = &cfg.lambda,
         .lo = 0, .hi = INFINITY, .lo_open = 1},
        {.key = "mode", .type = XS_OPT_CHOICE, .out = &cfg.mode,
         .choices = modes},
        {.key = "max_dense", .type = XS_OPT_INTEGER, .out = &cfg.max_dense,
         .lo = 1, .hi = 200000},
        {.key = "neighbours", .type = XS_OPT_INTEGER, .out = &cfg.neighbours,
         .lo = 1, .hi = 100000},
        {.key = "scope", .type = XS_OPT_SCOPE, .out = &cfg.scope},
        {.key = "refit_every", .type = XS_OPT_INTEGER,
         .out = &cfg.refit_every, .lo = 0, .hi = UINT32_MAX},
        {.key = "threads", .type = XS_OPT_INTEGER, .out = &cfg.threads,
         .lo = 0, .hi = 256},
        {.key = "weights", .type = XS_OPT_CHOICE, .out = &cfg.weights,
         .choices = weights},
    };
    if (xs_opts_parse(api, spec, sizeof spec / sizeof *spec, opts, n_opts,
                      err, errlen) ||
        xs_use_scope(api, host, &cfg.scope, err, errlen))
        return -1;
    if (cfg.weights == EASE_W_EVENT && cfg.mode == EASE_SPARSE) {
        snprintf(err, errlen, "weights=event needs mode=dense (the sparse "
                 "fit reads the host's binary rows)");
        return -1;
    }
    ease *e = calloc(1, sizeof *e);
    if (!e) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->api = api;
    e->host = host;
    e->cfg = cfg;
    *state = e;
    return 0;
}

static void ez_destroy(void *state)
{
    ease *e = state;
    ease_model_free(&e->m);
    free(e);
}

static int ez_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    ease *e = state;
    (void)asks; /* one model serves both kinds of request */
    if (e->fitted &&
        (e->cfg.refit_every == 0 || e->stale_events < e->cfg.refit_every))
        return 0;
    ease_model m;
    double t0 = now_ms();
    if (ease_fit(e, &m, err, errlen))
        return -1; /* the last fit, if any, keeps answering */
    e->fit_ms = now_ms() - t0;
    ease_model_free(&e->m);
    e->m = m;
    e->fitted = 1;
    e->fits++;
    e->fitted_events += e->stale_events;
    e->stale_events = 0;
    e->fit_at = (int64_t)time(NULL);
    if (m.dense)
        e->api->log(e->host, XS_LOG_INFO, "fit: dense, %u items, lambda %g, "
                    "weights %s, %.1f ms", (unsigned)m.n, e->cfg.lambda,
                    e->cfg.weights == EASE_W_EVENT ? "event" : "binary",
                    e->fit_ms);
    else
        e->api->log(e->host, XS_LOG_INFO, "fit: sparse, %u items, "
                    "neighbours %u, %llu entries, lambda %g, %.1f ms",
                    (unsigned)m.n, (unsigned)e->cfg.neighbours,
                    (unsigned long long)m.entries, e->cfg.lambda, e->fit_ms);
    return 0;
}

static int ez_observe(void *state, const xs_event *ev, size_t n)
{
    ease *e = state;
    (void)ev; /* the host's tables already hold them: the refit reads them */
    e->stale_events += n;
    return 0;
}

/* The staleness and the last fit, for the server's stats op. */
static int ez_stats(void *state, xs_evidence *out)
{
    const ease *e = state;
    int64_t now = (int64_t)time(NULL);
    xs_evidence_add(out, "mode", 0,
                    !e->fitted ? "none" : e->m.dense ? "dense" : "sparse");
    xs_evidence_add(out, "items", e->m.n, NULL);
    xs_evidence_add(out, "lambda", e->cfg.lambda, NULL);
    xs_evidence_add(out, "fits", (double)e->fits, NULL);
    xs_evidence_add(out, "fitted_events", (double)e->fitted_events, NULL);
    xs_evidence_add(out, "stale_events", (double)e->stale_events, NULL);
    xs_evidence_add(out, "last_fit_seconds",
                    e->fitted && now > e->fit_at ? (double)(now - e->fit_at)
                                                 : 0.0,
                    NULL);
    xs_evidence_add(out, "fit_ms", e->fit_ms, NULL);
    xs_evidence_add(out, "refit_every", e->cfg.refit_every, NULL);
    return 0;
}

static const xs_plugin ease_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "ease",
    .version = "1.0.0",
    .description = "EASE: a closed-form item-item linear model (dense "
                   "LAPACK solve, or each item's strongest neighbours)",
    .create = ez_create,
    .recommend = ease_recommend,
    .explain = ease_explain,
    .observe = ez_observe,
    .destroy = ez_destroy,
    .prepare = ez_prepare,
    .stats = ez_stats,
};

XS_PLUGIN_ENTRY(ease_plugin)
