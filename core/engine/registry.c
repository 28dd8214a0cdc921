/*
 * registry.c -- the loaded plugins (engine/registry.h).
 *
 * Adding is all or nothing: the file is resolved and opened (every check
 * of the loader passed), its name checked against the reserved "blend" and
 * the plugins already loaded, then create() and prepare() are called; any
 * failure destroys what was made, closes the file again and leaves the
 * registry as it was.  Messages follow one rule: the plugin writes what is
 * wrong, the host prefixes "plugin NAME: " (and, for create() and prepare()
 * failures, adds the file in parentheses: the same name may be found in
 * several directories).
 */
#include <stdlib.h>
#include <string.h>

#include "engine/registry.h"

/* The size of the messages plugins write (create, prepare). */
#define XS_PLUGIN_MSG 400

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
        free(r->v[i].host);
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

int xs_registry_add(xs_registry *r, const char *name, const xs_host *host,
                    unsigned asks, const xs_option *opts, size_t n_opts,
                    xs_error *err)
{
    char file[4096];
    int rc = xs_plugin_path_resolve(&r->path, name, file, sizeof file, err);
    if (rc)
        return rc;
    xs_plugin_instance pi = {0};
    if ((rc = xs_plugin_so_open(file, &pi.so, err)))
        return rc;
    const xs_plugin *p = pi.so.table;
    if (!strcmp(p->name, "blend")) {
        rc = xs_error_set(err, XS_ERR_USAGE,
                          "plugin %s: the name 'blend' is reserved for the "
                          "blend of all plugins", file);
        goto fail;
    }
    if (xs_registry_find(r, p->name) >= 0) {
        rc = xs_error_set(err, XS_ERR_USAGE,
                          "plugin %s: a plugin named '%s' is already loaded",
                          file, p->name);
        goto fail;
    }
    xs_plugin_instance *grown = realloc(r->v, (r->n + 1) * sizeof *grown);
    if (grown)
        r->v = grown;
    if (!grown || !(pi.host = malloc(sizeof *pi.host))) {
        rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    *pi.host = *host;
    pi.host->name = p->name;
    char msg[XS_PLUGIN_MSG] = "";
    if (p->create(&xs_host_api_table, pi.host, opts, n_opts, &pi.state, msg,
                  sizeof msg)) {
        rc = xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: %s (%s)", p->name,
                          msg[0] ? msg : "create failed", file);
        goto fail;
    }
    if (p->prepare && p->prepare(pi.state, asks, msg, sizeof msg)) {
        rc = xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: %s (%s)", p->name,
                          msg[0] ? msg : "prepare failed", file);
        p->destroy(pi.state);
        goto fail;
    }
    pi.weight = 1.0;
    pi.weight_customer = -1;
    r->v[r->n++] = pi;
    return XS_OK;
fail:
    free(pi.host);
    xs_plugin_so_close(&pi.so);
    return rc;
}

void xs_registry_prepare(xs_registry *r, unsigned asks)
{
    for (size_t i = 0; i < r->n; i++) {
        const xs_plugin *p = r->v[i].so.table;
        char msg[XS_PLUGIN_MSG] = "";
        if (p->prepare && p->prepare(r->v[i].state, asks, msg, sizeof msg))
            xs_host_log(r->v[i].host, XS_LOG_ERROR, "%s",
                        msg[0] ? msg : "prepare failed");
    }
}

int xs_registry_stats(const xs_registry *r, size_t i, xs_evidence *out)
{
    out->n = 0;
    if (i >= r->n || !r->v[i].so.table->stats)
        return 0;
    if (r->v[i].so.table->stats(r->v[i].state, out)) {
        out->n = 0;
        return 0;
    }
    if (out->n > XS_EVIDENCE_MAX)
        out->n = XS_EVIDENCE_MAX;
    return (int)out->n;
}

void xs_registry_observe(xs_registry *r, const xs_event *ev, size_t n)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].so.table->observe)
            r->v[i].so.table->observe(r->v[i].state, ev, n);
}

void xs_registry_observe_types(xs_registry *r, const xs_event *ev, size_t n)
{
    for (size_t i = 0; i < r->n && n; i++)
        if (XS_PLUGIN_HAS(r->v[i].so.table, observe_types) &&
            r->v[i].so.table->observe_types)
            r->v[i].so.table->observe_types(r->v[i].state, ev, n);
}

void xs_registry_catalog(xs_registry *r, const uint32_t *items, size_t n)
{
    for (size_t i = 0; i < r->n; i++)
        if (r->v[i].so.table->catalog)
            r->v[i].so.table->catalog(r->v[i].state, items, n);
}
