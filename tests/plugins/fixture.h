/*
 * fixture.h -- what the plugin tests share (fixture.c): engines on the
 * files of tests/data with the built-in plugins, plugins added from
 * "key=value" strings, the engine's log, item lists by name.
 *
 * Every function records a failed check (test_util.h) when something it
 * was asked to do cannot be done, so a test reads as a list of checks.
 */
#ifndef XT_PLUGIN_FIXTURE_H
#define XT_PLUGIN_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/xsell.h"

/* tests/data and the built plugins, from XS_TEST_DATA and XS_BUILD_DIR
 * (ctest sets both): 0, or xt_skip()'s code to return from main. */
int xtp_init(void);

/* tests/data/REL (valid until four more calls). */
const char *xtp_data(const char *rel);
/* The built plugins' directory. */
const char *xtp_plugin_dir(void);

/* An engine on events (baskets when the file name says "baskets") and
 * catalog (NULL: none), plugins found in the build tree, one thread, its
 * log kept (xtp_logged); NULL with a failed check. */
xs_engine *xtp_engine(const char *events, const char *catalog);

/* Adds plugin with "key=value" options (NULL terminated, at most 16):
 * the engine's status, its message in err. */
int xtp_add(xs_engine *e, const char *plugin, const char *const *opts,
            xs_error *err);

/* Copies opts (NULL terminated) into out (room for cap, NULL terminated)
 * and appends each "key=value" of pins (NULL terminated) whose key opts
 * do not set: tests written for one setting pin it, whatever the plugin's
 * defaults become.  Returns out. */
const char **xtp_opts_pinned(const char *const *opts, const char *const *pins,
                             const char **out, size_t cap);

/* xtp_engine with plugin added; NULL with a failed check. */
xs_engine *xtp_engine_with(const char *events, const char *catalog,
                           const char *plugin, const char *const *opts);

/* Whether a log line holding needle was written since the last
 * xtp_engine (WARN and above, the last 16 lines). */
int xtp_logged(const char *needle);

/* The ids of the comma separated item names (a failed check for unknown
 * names), sorted and unique, in ids (room for cap); their count. */
uint32_t xtp_items(xs_engine *e, const char *names, uint32_t *ids,
                   uint32_t cap);

/* The id of customer name, or XS_NONE. */
uint32_t xtp_customer(xs_engine *e, const char *name);

/* A catalog op entry (in stock, no title); the strings are the caller's. */
xs_catalog_item xtp_catalog_item(const char *item, const char *category,
                                 double price, double margin);

/* The evidence field named key of r, or NULL. */
const xs_evidence_field *xtp_field(const xs_rec *r, const char *key);

#endif
