/*
 * engine/registry.h -- the loaded plugins: finding and opening their files
 * (xsell/loader.h), creating and preparing them, calling their hooks, and
 * destroying them, in load order.
 *
 * Each plugin gets its own xs_host (the engine's, with the plugin's name),
 * so that the host can prefix "plugin NAME: " to whatever the plugin logs.
 *
 * Threads: adding plugins, observe(), catalog() and prepare() run under
 * the engine's write discipline; reading the instances (recommend,
 * explain) and the dropped counters may run on any number of threads.
 */
#ifndef XS_ENGINE_REGISTRY_H
#define XS_ENGINE_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/host.h"
#include "xsell/error.h"
#include "xsell/loader.h"
#include "xsell/plugin.h"

/* One loaded plugin. */
typedef struct xs_plugin_instance {
    xs_plugin_so so;          /* so.table: the hooks this host may call */
    xs_host *host;            /* the plugin's handle on the host (owned) */
    void *state;              /* from create(), passed to every callback */
    double weight;            /* in the blend */
    double weight_customer;   /* in the blend of a customer-only request
                                 (no items); < 0: weight */
    _Atomic uint64_t dropped; /* candidates push() refused as invalid */
} xs_plugin_instance;

typedef struct xs_registry {
    xs_plugin_path path;
    xs_plugin_instance *v; /* load order */
    size_t n;
} xs_registry;

/* The search path from plugin_dir (may be NULL, not kept), the
 * environment and the defaults; no plugin loaded. */
int xs_registry_init(xs_registry *r, const char *plugin_dir, xs_error *err);
/* Destroys the plugins, last loaded first, and closes their files. */
void xs_registry_free(xs_registry *r);

/* Loads plugin `name` (or a path), creates it with the options against a
 * copy of host (named after the plugin) and prepares it for `asks`.
 * XS_ERR_NOTFOUND when no file is found, XS_ERR_PLUGIN on any load,
 * create or prepare failure ("plugin NAME: the plugin's message (FILE)"),
 * XS_ERR_USAGE for a duplicate or reserved name; the registry is then as
 * it was. */
int xs_registry_add(xs_registry *r, const char *name, const xs_host *host,
                    unsigned asks, const xs_option *opts, size_t n_opts,
                    xs_error *err);

/* Index of the plugin named `name`, or -1. */
int xs_registry_find(const xs_registry *r, const char *name);

/* A burst of writes: every plugin's observe() with the new events, or its
 * catalog() with the changed items (those that have the hook).  The caller
 * then calls xs_registry_prepare, before any request can run. */
void xs_registry_observe(xs_registry *r, const xs_event *ev, size_t n);
/* The same for events of other types (observe_types(), where a plugin's
 * table has it). */
void xs_registry_observe_types(xs_registry *r, const xs_event *ev, size_t n);
void xs_registry_catalog(xs_registry *r, const uint32_t *items, size_t n);

/* Plugin i's monitoring figures (its optional stats() hook) into *out:
 * the number of fields, 0 when it has none or the hook declined.  Runs
 * like recommend(): under the engine's read lock, on any thread. */
int xs_registry_stats(const xs_registry *r, size_t i, xs_evidence *out);

/* Every plugin's prepare(asks) (those that have it); a failure is logged
 * through the plugin's host, and the plugin keeps serving. */
void xs_registry_prepare(xs_registry *r, unsigned asks);

#endif
