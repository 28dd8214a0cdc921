/*
 * test_blend.c -- the blend through the engine API: the same answers
 * whether a blend's plugins run in the caller or side by side in the
 * fan-out pool, from one thread or many; and the rules and fill on the
 * engine level (server_blend.py and cli_blend.py check the method itself
 * against an independent model).
 *
 * On the sample store (examples/data) with copurchase, upsell, recency and
 * popular:
 *   - 600 requests (basket, customer, both, cold start, category filter,
 *     exclusions, explain) give identical items, scores, plugin names and
 *     evidence with blend_threads 0, 1 and 3;
 *   - 4 threads, each with its own context, sharing one pool, get the same
 *     answers as the single caller (no deadlock, no mixing);
 *   - every answer obeys the rules: no request item, no exclusion, nothing
 *     out of stock, nothing owned, the category kept;
 *   - a plugin that fails makes the blend fail with its name, with or
 *     without the pool, and the next request is answered.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "test_util.h"

#define N_REQ 600
#define MAX_K 20

typedef struct answer {
    size_t n;
    uint32_t item[MAX_K];
    double score[MAX_K];
    char plugin[MAX_K][64];
    uint32_t n_ev[MAX_K];
    double ev_sum[MAX_K];
} answer;

typedef struct request {
    uint32_t items[3];
    uint32_t n_items;
    uint32_t customer;
    uint32_t k;
    uint32_t category;
    uint32_t exclude[2];
    uint32_t n_exclude;
    int explain;
} request;

static char events[512], catalog[512];
static request reqs[N_REQ];

static xs_engine *engine(int blend_threads)
{
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(events, &cols, &err);
    xs_catalog *cat = ds ? xs_catalog_load(catalog, ds->items, &err) : NULL;
    if (!CHECK_MSG(ds && cat, "load: %s", err.msg)) {
        xs_dataset_free(ds);
        return NULL;
    }
    xs_engine_config cfg = {.plugin_dir = getenv("XS_PLUGIN_DIR"),
                            .scope = -1,
                            .threads = 1,
                            .blend_threads = blend_threads};
    xs_engine *e = xs_engine_new(ds, cat, &cfg, &err);
    if (!CHECK_MSG(e, "engine: %s", err.msg))
        return NULL;
    static const char *const names[] = {"copurchase", "upsell", "recency",
                                        "popular"};
    for (int i = 0; i < 4; i++)
        if (!CHECK_MSG(!xs_engine_add_plugin(e, names[i], NULL, 0, &err),
                       "%s: %s", names[i], err.msg)) {
            xs_engine_free(e);
            return NULL;
        }
    return e;
}

static void make_requests(const xs_engine *e)
{
    const xs_dataset *ds = xs_engine_dataset(e);
    const xs_catalog *cat = xs_engine_catalog(e);
    uint64_t s = 12345;
    for (int r = 0; r < N_REQ; r++) {
        request *q = &reqs[r];
        memset(q, 0, sizeof *q);
        int kind = r % 6;
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        const xs_event *ev = &ds->events[(s >> 33) % ds->n_events];
        q->n_items = kind == 0 || kind == 4 ? 0 : 1 + (uint32_t)(r % 3);
        for (uint32_t i = 0; i < q->n_items; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            q->items[i] = ds->events[(s >> 33) % ds->n_events].item;
        }
        q->n_items = xs_request_items(q->items, q->n_items);
        q->customer = kind == 1 || kind == 3 || kind == 4 ? XS_NONE : ev->customer;
        q->k = 1 + (uint32_t)(r % MAX_K);
        q->category = XS_NONE;
        if (kind == 5) {
            xs_item_info info;
            if (xs_catalog_get(cat, ev->item, &info))
                q->category = info.category;
        }
        if (kind == 2) {
            q->exclude[0] = ev->item;
            q->exclude[1] = (ev->item + 7) % xs_dict_size(ds->items);
            q->n_exclude = 2;
        }
        q->explain = r % 4 == 0;
    }
}

/* Runs request r, recording the answer; 0 or an error code. */
static int ask(xs_engine *e, xs_context *ctx, int r, answer *a)
{
    const request *q = &reqs[r];
    xs_request req = {q->items, q->n_items, q->customer, q->k, q->explain,
                      q->category};
    xs_filter f = {.exclude = q->exclude, .n_exclude = q->n_exclude,
                   .exclude_owned = -1};
    const xs_rec *recs;
    size_t n;
    xs_error err = {0};
    int rc = xs_engine_recommend_filtered(e, ctx, NULL, &req, &f, &recs, &n,
                                          &err);
    if (rc)
        return rc;
    a->n = n;
    for (size_t i = 0; i < n && i < MAX_K; i++) {
        a->item[i] = recs[i].item;
        a->score[i] = recs[i].score;
        snprintf(a->plugin[i], sizeof a->plugin[i], "%s", recs[i].plugin);
        a->n_ev[i] = recs[i].ev.n;
        a->ev_sum[i] = 0;
        for (uint32_t f2 = 0; f2 < recs[i].ev.n; f2++)
            a->ev_sum[i] += recs[i].ev.f[f2].value;
    }
    return 0;
}

static int same(const answer *a, const answer *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->item[i] != b->item[i] || a->score[i] != b->score[i] ||
            strcmp(a->plugin[i], b->plugin[i]) || a->n_ev[i] != b->n_ev[i] ||
            a->ev_sum[i] != b->ev_sum[i])
            return 0;
    return 1;
}

static answer want[N_REQ];

/* The rules, checked on an answer. */
static void check_rules(const xs_engine *e, int r, const answer *a)
{
    const request *q = &reqs[r];
    const xs_catalog *cat = xs_engine_catalog(e);
    const xs_dataset *ds = xs_engine_dataset(e);
    CHECK_MSG(a->n <= q->k, "request %d: %zu items for k=%u", r, a->n, q->k);
    for (size_t i = 0; i < a->n; i++) {
        uint32_t it = a->item[i];
        for (uint32_t j = 0; j < q->n_items; j++)
            CHECK_MSG(it != q->items[j], "request %d: a request item", r);
        for (uint32_t j = 0; j < q->n_exclude; j++)
            CHECK_MSG(it != q->exclude[j], "request %d: an excluded item", r);
        xs_item_info info;
        if (xs_catalog_get(cat, it, &info)) {
            CHECK_MSG(info.in_stock, "request %d: out of stock %s", r,
                      xs_dict_name(ds->items, it));
            CHECK_MSG(q->category == XS_NONE || info.category == q->category,
                      "request %d: another category", r);
        }
        if (q->customer != XS_NONE)
            for (size_t ev = 0; ev < ds->n_events; ev++)
                if (ds->events[ev].customer == q->customer &&
                    ds->events[ev].item == it) {
                    CHECK_MSG(0, "request %d: owned item %s", r,
                              xs_dict_name(ds->items, it));
                    break;
                }
        for (size_t j = 0; j < i; j++)
            CHECK_MSG(a->item[j] != it, "request %d: a duplicate", r);
        if (i)
            CHECK_MSG(a->score[i] <= a->score[i - 1],
                      "request %d: not best first", r);
    }
}

typedef struct worker {
    xs_engine *e;
    int first;
    int mismatches;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    xs_context *ctx = xs_context_new(w->e);
    for (int i = 0; i < N_REQ && ctx; i++) {
        int r = (w->first + i) % N_REQ;
        answer a;
        if (ask(w->e, ctx, r, &a) || !same(&a, &want[r]))
            w->mismatches++;
    }
    xs_context_free(ctx);
    return NULL;
}

static void test_same_answers(void)
{
    xs_engine *e0 = engine(0);
    if (!e0)
        return;
    make_requests(e0);
    xs_context *ctx = xs_context_new(e0);
    size_t filled = 0, blended = 0;
    for (int r = 0; r < N_REQ; r++) {
        CHECK_MSG(ask(e0, ctx, r, &want[r]) == 0, "request %d failed", r);
        check_rules(e0, r, &want[r]);
        for (size_t i = 0; i < want[r].n; i++) {
            filled += !strcmp(want[r].plugin[i], "popular");
            blended += strchr(want[r].plugin[i], '+') != NULL;
        }
    }
    /* the requests exercise both the blend proper and the fill */
    CHECK_MSG(filled > 100 && blended > 100, "filled %zu, blended %zu",
              filled, blended);
    xs_context_free(ctx);
    xs_engine_free(e0);
    for (int bt = 1; bt <= 3; bt += 2) {
        xs_engine *e = engine(bt);
        if (!e)
            return;
        ctx = xs_context_new(e);
        int bad = 0;
        for (int r = 0; r < N_REQ; r++) {
            answer a;
            if (ask(e, ctx, r, &a) || !same(&a, &want[r]))
                bad++;
        }
        CHECK_MSG(bad == 0, "blend_threads=%d: %d answers differ", bt, bad);
        xs_context_free(ctx);
        /* several callers sharing the pool */
        worker w[4];
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            w[i] = (worker){e, i * (N_REQ / 4), 0};
            CHECK(pthread_create(&th[i], NULL, run_worker, &w[i]) == 0);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            CHECK_MSG(w[i].mismatches == 0,
                      "blend_threads=%d, caller %d: %d answers differ", bt, i,
                      w[i].mismatches);
        }
        xs_engine_free(e);
    }
}

/* A failing plugin in the blend: an error naming it, with and without the
 * pool; the engine keeps answering. */
static void test_failing_plugin(void)
{
    const char *tp = getenv("XS_TEST_PLUGIN_DIR");
    if (!tp)
        return;
    char path[600];
    snprintf(path, sizeof path, "%s/testgood.so", tp);
    for (int bt = 0; bt <= 1; bt++) {
        xs_engine *e = engine(bt);
        if (!e)
            return;
        xs_error err = {0};
        xs_option o = {"mode", "fail"};
        CHECK(!xs_engine_add_plugin(e, path, &o, 1, &err));
        xs_context *ctx = xs_context_new(e);
        uint32_t item = 0;
        xs_request req = {&item, 1, XS_NONE, 5, 0, XS_NONE};
        const xs_rec *recs;
        size_t n;
        int rc = xs_engine_recommend_filtered(e, ctx, NULL, &req, NULL, &recs,
                                              &n, &err);
        CHECK_EQ(rc, XS_ERR_PLUGIN);
        CHECK_HAS(err.msg, "testgood");
        CHECK(!xs_engine_set_rule(e, "weight.testgood", "0", &err));
        CHECK_EQ(xs_engine_recommend_filtered(e, ctx, NULL, &req, NULL, &recs,
                                              &n, &err),
                 XS_OK);
        CHECK(n == 5);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
}

int main(void)
{
    const char *src = getenv("XS_SOURCE_DIR");
    if (!src || !getenv("XS_PLUGIN_DIR")) {
        fprintf(stderr, "set XS_SOURCE_DIR and XS_PLUGIN_DIR (ctest does)\n");
        return 1;
    }
    unsetenv("XSELL_PLUGIN_PATH");
    snprintf(events, sizeof events, "%s/examples/data/events.csv", src);
    snprintf(catalog, sizeof catalog, "%s/examples/data/catalog.csv", src);
    test_same_answers();
    test_failing_plugin();
    return xt_done();
}
