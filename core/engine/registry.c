/*
 * registry.c -- the loaded plugins (engine/registry.h).
 *
 * Adding is all or nothing: the file is resolved and opened (every check
 * of the loader passed), its name checked against the reserved "blend" and
 * the plugins already loaded, then create() is called; any failure closes
 * the file again and leaves the registry as it was.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"

int xs_registry_init(xs_registry *r, const char *plugin_dir, xs_error *err)
{
    memset(r, 0, sizeof *r);
    return xs_plugin_path_init(&r->path, plugin_dir, err);
}

void xs_registry_free(xs_registry *r)
{
    for (size_t i = r->n; i-- > 0;) {
        r->v[i].so.table->destroy(r->v[i].state);
        xs_plugin_so_close(&r->v[i].so);
    }
    free(r->v);
    xs_plugin_path_free(&r->path);
    memset(r, 0, sizeof *r);
}

int xs_registry_find(const xs_registry *r, const char *name)
{
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->v[i].so.table->name, name))
            return (int)i;
    return -1;
}

int xs_registry_add(xs_registry *r, const char *name, const xs_host_api *api,
                    xs_host *host, const xs_option *opts, size_t n_opts,
                    xs_error *err)
{
    char file[4096];
    int rc = xs_plugin_path_resolve(&r->path, name, file, sizeof file, err);
    if (rc)
        return rc;
    xs_plugin_instance pi = {0};
    if ((rc = xs_plugin_so_open(file, &pi.so, err)))
        return rc;
    if (!strcmp(pi.so.table->name, "blend")) {
        xs_error_set(err, XS_ERR_USAGE,
                     "plugin %s: the name 'blend' is reserved for the blend of "
                     "all plugins", file);
        xs_plugin_so_close(&pi.so);
        return XS_ERR_USAGE;
    }
    if (xs_registry_find(r, pi.so.table->name) >= 0) {
        xs_error_set(err, XS_ERR_USAGE,
                     "plugin %s: a plugin named '%s' is already loaded", file,
                     pi.so.table->name);
        xs_plugin_so_close(&pi.so);
        return XS_ERR_USAGE;
    }
    xs_plugin_instance *grown = realloc(r->v, (r->n + 1) * sizeof *grown);
    if (!grown) {
        xs_plugin_so_close(&pi.so);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    r->v = grown;
    char msg[400] = "";
    if (pi.so.table->create(api, host, opts, n_opts, &pi.state, msg,
                            sizeof msg)) {
        xs_error_set(err, XS_ERR_PLUGIN, "plugin %s (%s): %s", file,
                     pi.so.table->name, msg[0] ? msg : "create failed");
        xs_plugin_so_close(&pi.so);
        return XS_ERR_PLUGIN;
    }
    /* popular answers cold starts and fills short blends: weight 0 */
    pi.weight = strcmp(pi.so.table->name, "popular") ? 1.0 : 0.0;
    r->v[r->n++] = pi;
    return XS_OK;
}

void xs_registry_observe(xs_registry *r, const xs_event *ev, size_t n)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].so.table->observe)
            r->v[i].so.table->observe(r->v[i].state, ev, n);
}

void xs_registry_catalog(xs_registry *r, const uint32_t *items, size_t n)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].so.table->catalog)
            r->v[i].so.table->catalog(r->v[i].state, items, n);
}
