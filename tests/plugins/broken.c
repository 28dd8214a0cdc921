/*
 * broken.c -- deliberately broken plugins for test_plugin_loader and the
 * `xsell plugins` test.  One source, one shared object per XS_BROKEN_* kind
 * (tests/cli.cmake builds them into the test-only directory test-plugins,
 * never next to the real plugins).  Every kind breaks exactly one rule of
 * the ABI in xsell/plugin.h; the loader must refuse each with a message
 * naming the file, and must never crash.
 */
#include <stdio.h>

#include "xsell/plugin.h"

#define XS_BROKEN_BAD_ABI 1         /* abi != XS_PLUGIN_ABI */
#define XS_BROKEN_NULL_ENTRY 2      /* xs_plugin_entry() returns NULL */
#define XS_BROKEN_NO_ENTRY 3        /* no xs_plugin_entry symbol at all */
#define XS_BROKEN_BAD_NAME 4        /* name outside [a-z0-9_-] */
#define XS_BROKEN_NULL_NAME 5       /* name NULL */
#define XS_BROKEN_LONG_NAME 6       /* name of 33 characters */
#define XS_BROKEN_NO_CREATE 7       /* mandatory callbacks missing */
#define XS_BROKEN_NO_RECOMMEND 8
#define XS_BROKEN_NO_DESTROY 9
#define XS_BROKEN_CREATE_FAILS 10   /* create() refuses, with a message */
#define XS_BROKEN_CREATE_SILENT 11  /* create() refuses, no message */
#define XS_BROKEN_DUP_NAME 12       /* a valid plugin named "copurchase" */
#define XS_BROKEN_UNRESOLVED 13     /* needs a symbol nobody defines */
#define XS_BROKEN_SMALL_SIZE 14     /* size below the fields of every ABI 3
                                       table */
#define XS_BROKEN_PREPARE_FAILS 15  /* prepare() refuses, with a message */

#ifndef XS_BROKEN
#error "define XS_BROKEN to one of the XS_BROKEN_* kinds"
#endif

#if XS_BROKEN == XS_BROKEN_UNRESOLVED
/* Defined nowhere: dlopen(RTLD_NOW) must fail with dlerror() naming it. */
extern int xs_test_symbol_defined_nowhere(int);
#endif

static int b_create(const xs_host_api *api, xs_host *host,
                    const xs_option *opts, size_t n_opts, void **state,
                    char *err, size_t errlen)
{
    (void)api;
    (void)host;
    (void)opts;
    (void)n_opts;
#if XS_BROKEN == XS_BROKEN_CREATE_FAILS
    snprintf(err, errlen, "broken: the frobnicator is missing");
    *state = NULL;
    return -1;
#elif XS_BROKEN == XS_BROKEN_CREATE_SILENT
    (void)err;
    (void)errlen;
    *state = NULL;
    return 7;
#else
    (void)err;
    (void)errlen;
    static int dummy;
    *state = &dummy;
    return 0;
#endif
}

static int b_recommend(void *state, const xs_request *req, xs_result *out)
{
    (void)state;
    (void)req;
    (void)out;
#if XS_BROKEN == XS_BROKEN_UNRESOLVED
    return xs_test_symbol_defined_nowhere(1);
#else
    return 0;
#endif
}

static void b_destroy(void *state)
{
    (void)state;
}

static int b_prepare(void *state, unsigned asks, char *err, size_t errlen)
{
    (void)state;
    (void)asks;
#if XS_BROKEN == XS_BROKEN_PREPARE_FAILS
    snprintf(err, errlen, "the gizmo would not warm up");
    return -1;
#else
    (void)err;
    (void)errlen;
    return 0;
#endif
}

#if XS_BROKEN == XS_BROKEN_BAD_NAME
#define B_NAME "Bad Name!"
#elif XS_BROKEN == XS_BROKEN_NULL_NAME
#define B_NAME NULL
#elif XS_BROKEN == XS_BROKEN_LONG_NAME
#define B_NAME "abcdefghijklmnopqrstuvwxyz0123456" /* 33 */
#elif XS_BROKEN == XS_BROKEN_DUP_NAME
#define B_NAME "copurchase"
#else
#define B_NAME "broken"
#endif

static const xs_plugin broken_plugin = {
#if XS_BROKEN == XS_BROKEN_BAD_ABI
    .abi = XS_PLUGIN_ABI + 41,
#else
    .abi = XS_PLUGIN_ABI,
#endif
#if XS_BROKEN == XS_BROKEN_SMALL_SIZE
    .size = 8,
#else
    .size = sizeof(xs_plugin),
#endif
    .name = B_NAME,
    .version = "0.0.1",
    .description = "a deliberately broken plugin (tests only)",
#if XS_BROKEN != XS_BROKEN_NO_CREATE
    .create = b_create,
#endif
#if XS_BROKEN != XS_BROKEN_NO_RECOMMEND
    .recommend = b_recommend,
#endif
#if XS_BROKEN != XS_BROKEN_NO_DESTROY
    .destroy = b_destroy,
#endif
    .prepare = b_prepare,
};

#if XS_BROKEN == XS_BROKEN_NO_ENTRY
/* Exported, but under the wrong name. */
XS_EXPORT const xs_plugin *xs_plugin_entry_v0(void);
XS_EXPORT const xs_plugin *xs_plugin_entry_v0(void)
{
    return &broken_plugin;
}
#else
XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    /* the kinds leaving a callback out still compile it */
    (void)b_create;
    (void)b_recommend;
    (void)b_destroy;
    (void)b_prepare;
#if XS_BROKEN == XS_BROKEN_NULL_ENTRY
    return (void)broken_plugin, NULL;
#else
    return &broken_plugin;
#endif
}
#endif
