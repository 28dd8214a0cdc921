/*
 * versions.c -- valid plugins built as other minor versions of ABI 3 would
 * build them, for test_plugin_loader (one source, one shared object per
 * XS_VERSIONS kind, in the test-only plugin directory).
 *
 *   XS_VERSIONS_OLDER ("older")  a table whose size ends before prepare(),
 *       as a plugin built before that hook existed: the host must load it
 *       and never read the hooks beyond its size -- the table's memory does
 *       hold a prepare() here, which aborts when called.
 *   XS_VERSIONS_NEWER ("newer")  a table larger than this host's, with a
 *       hook the host does not know after prepare(): the host must load it,
 *       call the hooks it knows and ignore the rest.
 */
#include <stddef.h>
#include <stdlib.h>

#include "xsell/plugin.h"

#define XS_VERSIONS_OLDER 1
#define XS_VERSIONS_NEWER 2

#ifndef XS_VERSIONS
#error "define XS_VERSIONS to one of the XS_VERSIONS_* kinds"
#endif

typedef struct counts {
    const xs_host_api *api;
    unsigned prepared;
} counts;

static int v_create(const xs_host_api *api, xs_host *host,
                    const xs_option *opts, size_t n_opts, void **state,
                    char *err, size_t errlen)
{
    (void)host;
    (void)opts;
    (void)n_opts;
    (void)err;
    (void)errlen;
    counts *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->api = api;
    *state = c;
    return 0;
}

/* Pushes item 0 with 1 + the number of prepare() calls as its score. */
static int v_recommend(void *state, const xs_request *req, xs_result *out)
{
    const counts *c = state;
    (void)req;
    c->api->push(out, 0, 1.0 + c->prepared);
    return 0;
}

static void v_destroy(void *state)
{
    free(state);
}

static int v_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    (void)asks;
    (void)err;
    (void)errlen;
#if XS_VERSIONS == XS_VERSIONS_OLDER
    (void)state;
    abort(); /* beyond this plugin's size: never called */
#else
    ((counts *)state)->prepared++;
    return 0;
#endif
}

static int v_unknown_hook(void *state)
{
    (void)state;
    abort(); /* a hook of a later ABI 3: this host knows nothing of it */
}

/* The plugin table followed by one more hook, as a later header would
 * declare it. */
typedef struct later_plugin {
    xs_plugin base;
    int (*later_hook)(void *state);
} later_plugin;

static const later_plugin table = {
    .base = {
        .abi = XS_PLUGIN_ABI,
#if XS_VERSIONS == XS_VERSIONS_OLDER
        .size = offsetof(xs_plugin, prepare),
        .name = "older",
#else
        .size = sizeof(later_plugin),
        .name = "newer",
#endif
        .version = "3.0.0",
        .description = "a table of another minor version (tests only)",
        .create = v_create,
        .recommend = v_recommend,
        .destroy = v_destroy,
        .prepare = v_prepare,
    },
    .later_hook = v_unknown_hook,
};

XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    return &table.base;
}
