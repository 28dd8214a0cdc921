/*
 * engine/registry.h -- the loaded plugins: finding and opening their files
 * (xsell/loader.h), creating them, calling their hooks, and destroying
 * them, in load order.
 *
 * Threads: adding plugins and calling observe()/catalog() run under the
 * engine's write discipline; reading the instances (recommend, explain)
 * and the dropped counters may run on any number of threads.
 */
#ifndef XS_ENGINE_REGISTRY_H
#define XS_ENGINE_REGISTRY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "xsell/error.h"
#include "xsell/loader.h"
#include "xsell/plugin.h"

/* One loaded plugin. */
typedef struct xs_plugin_instance {
    xs_plugin_so so;
    void *state;              /* from create(), passed to every callback */
    double weight;            /* in the blend */
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

/* Loads plugin `name` (or a path) and creates it with the options against
 * the host (api, host).  XS_ERR_NOTFOUND when no file is found,
 * XS_ERR_PLUGIN on any load or create failure, XS_ERR_USAGE for a
 * duplicate or reserved name. */
int xs_registry_add(xs_registry *r, const char *name, const xs_host_api *api,
                    xs_host *host, const xs_option *opts, size_t n_opts,
                    xs_error *err);

/* Index of the plugin named `name`, or -1. */
int xs_registry_find(const xs_registry *r, const char *name);

/* Every plugin's observe() with the new events, its catalog() with the
 * changed items (those that have the hook). */
void xs_registry_observe(xs_registry *r, const xs_event *ev, size_t n);
void xs_registry_catalog(xs_registry *r, const uint32_t *items, size_t n);

#endif
