/*
 * testgood.c -- a small valid plugin, "testgood", for the loader, search
 * path and host API tests.  It is built into the test-only directory
 * test-plugins, never next to the real plugins.
 *
 * Scoring: every item i not in the request gets score item_count - i, so the
 * expected ranking is simply ascending id.  Besides the honest candidates it
 * pushes junk the host must drop: ids out of range, XS_NONE, NaN and
 * infinite scores, and the request's own items with the highest scores.
 *
 * Options: mode=ids (default) | fail (recommend() reports an internal
 * failure); fail_create=MESSAGE (create() refuses with MESSAGE);
 * fail_prepare=MESSAGE (every prepare() refuses with MESSAGE); log=MESSAGE
 * (create() logs MESSAGE as a warning); watch=1 (explain adds "prepared",
 * the prepare() calls so far, and "asks", the last asks it was given).
 * Any other key is refused, as the ABI demands.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin.h"

typedef struct testgood {
    const xs_host_api *api;
    xs_host *host;
    int fail;
    int watch;
    unsigned prepared, asks;
    char fail_prepare[64]; /* "" : prepare() succeeds */
} testgood;

static int tg_create(const xs_host_api *api, xs_host *host,
                     const xs_option *opts, size_t n_opts, void **state,
                     char *err, size_t errlen)
{
    int fail = 0, watch = 0;
    const char *fail_prepare = "", *log = NULL;
    if (api->abi != XS_PLUGIN_ABI || api->size < sizeof *api) {
        snprintf(err, errlen, "host ABI %u size %u", (unsigned)api->abi,
                 (unsigned)api->size);
        return -1;
    }
    for (size_t i = 0; i < n_opts; i++) {
        if (!strcmp(opts[i].key, "mode") && !strcmp(opts[i].value, "ids")) {
            fail = 0;
        } else if (!strcmp(opts[i].key, "mode") &&
                   !strcmp(opts[i].value, "fail")) {
            fail = 1;
        } else if (!strcmp(opts[i].key, "fail_create")) {
            snprintf(err, errlen, "%s", opts[i].value);
            return -1;
        } else if (!strcmp(opts[i].key, "fail_prepare")) {
            fail_prepare = opts[i].value;
        } else if (!strcmp(opts[i].key, "log")) {
            log = opts[i].value;
        } else if (!strcmp(opts[i].key, "watch")) {
            watch = !strcmp(opts[i].value, "1");
        } else {
            snprintf(err, errlen, "unknown option '%s=%s'", opts[i].key,
                     opts[i].value);
            return -1;
        }
    }
    testgood *tg = calloc(1, sizeof *tg);
    if (!tg) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    tg->api = api;
    tg->host = host;
    tg->fail = fail;
    tg->watch = watch;
    snprintf(tg->fail_prepare, sizeof tg->fail_prepare, "%s", fail_prepare);
    if (log)
        api->log(host, XS_LOG_WARN, "%s", log);
    *state = tg;
    return 0;
}

static int tg_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    testgood *tg = state;
    tg->prepared++;
    tg->asks = asks;
    if (tg->fail_prepare[0]) {
        snprintf(err, errlen, "%s", tg->fail_prepare);
        return -1;
    }
    return 0;
}

static int tg_recommend(void *state, const xs_request *req, xs_result *out)
{
    const testgood *tg = state;
    const xs_host_api *api = tg->api;
    if (tg->fail)
        return -1;
    uint32_t n = api->item_count(tg->host);
    /* junk first, so that a host keeping it would fill the heap with it */
    api->push(out, n, 1e9);
    api->push(out, n + 1000, 1e9);
    api->push(out, XS_NONE, 1e9);
    for (uint32_t i = 0; i < req->n_items; i++)
        api->push(out, req->items[i], 1e12);
    if (n > 0) {
        api->push(out, 0, NAN);
        api->push(out, 0, INFINITY);
        api->push(out, 0, -INFINITY);
    }
    for (uint32_t i = 0; i < n; i++)
        api->push(out, i, (double)(n - i));
    return 0;
}

static int tg_explain(void *state, const xs_request *req, uint32_t item,
                      xs_evidence *ev)
{
    const testgood *tg = state;
    (void)req;
    xs_evidence_add(ev, "id", item, NULL);
    xs_evidence_add(ev, "name", 0, tg->api->item_name(tg->host, item));
    if (tg->watch) {
        xs_evidence_add(ev, "prepared", tg->prepared, NULL);
        xs_evidence_add(ev, "asks", tg->asks, NULL);
    }
    return 0;
}

static void tg_destroy(void *state)
{
    free(state);
}

static const xs_plugin testgood_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "testgood",
    .version = "9.9.9",
    .description = "ranks items by id (tests only)",
    .create = tg_create,
    .recommend = tg_recommend,
    .explain = tg_explain,
    .destroy = tg_destroy,
    .prepare = tg_prepare,
};

XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    return &testgood_plugin;
}
