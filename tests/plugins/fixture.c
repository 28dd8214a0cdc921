/*
 * fixture.c -- what the plugin tests share (fixture.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test_util.h"

static char data_dir[2048], plugin_dir[2048];
static char log_lines[16][512];
static int n_log;

int xtp_init(void)
{
    const char *d = getenv("XS_TEST_DATA"), *b = getenv("XS_BUILD_DIR");
    if (!d || !b)
        return xt_skip("XS_TEST_DATA and XS_BUILD_DIR are set by ctest");
    unsetenv("XSELL_PLUGIN_PATH");
    snprintf(data_dir, sizeof data_dir, "%s", d);
    snprintf(plugin_dir, sizeof plugin_dir, "%s/plugins", b);
    return 0;
}

const char *xtp_data(const char *rel)
{
    static char path[4][2600];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", data_dir, rel);
    return p;
}

const char *xtp_plugin_dir(void)
{
    return plugin_dir;
}

static void keep_log(void *arg, int level, const char *msg)
{
    (void)arg;
    if (level >= XS_LOG_WARN && n_log < 16)
        snprintf(log_lines[n_log++], sizeof log_lines[0], "%s", msg);
}

int xtp_logged(const char *needle)
{
    for (int i = 0; i < n_log; i++)
        if (strstr(log_lines[i], needle))
            return 1;
    return 0;
}

xs_engine *xtp_engine(const char *events, const char *catalog)
{
    xs_error err = {0};
    xs_columns cols = {0};
    const char *base = strrchr(events, '/');
    xs_dataset *ds = strstr(base ? base : events, "baskets")
                         ? xs_dataset_load_baskets(events, &err)
                         : xs_dataset_load_events(events, &cols, &err);
    if (!ds) {
        CHECK_MSG(0, "load %s: %s", events, err.msg);
        return NULL;
    }
    xs_catalog *cat = NULL;
    if (catalog && !(cat = xs_catalog_load(catalog, ds->items, &err))) {
        CHECK_MSG(0, "load %s: %s", catalog, err.msg);
        xs_dataset_free(ds);
        return NULL;
    }
    xs_engine_config cfg = {.plugin_dir = plugin_dir, .scope = -1,
                            .threads = 1, .log = keep_log};
    n_log = 0;
    xs_engine *e = xs_engine_new(ds, cat, &cfg, &err);
    CHECK_MSG(e != NULL, "engine: %s", err.msg);
    return e;
}

int xtp_add(xs_engine *e, const char *plugin, const char *const *opts,
            xs_error *err)
{
    xs_option o[16];
    char buf[16][160];
    size_t n = 0;
    for (; opts && opts[n] && n < 16; n++) {
        snprintf(buf[n], sizeof buf[n], "%s", opts[n]);
        char *eq = strchr(buf[n], '=');
        if (eq)
            *eq = '\0';
        o[n].key = buf[n];
        o[n].value = eq ? eq + 1 : "";
    }
    return xs_engine_add_plugin(e, plugin, o, n, err);
}

static int sets_key(const char *const *opts, const char *pin)
{
    size_t len = strcspn(pin, "=");
    for (; opts && *opts; opts++)
        if (!strncmp(*opts, pin, len) && (*opts)[len] == '=')
            return 1;
    return 0;
}

const char **xtp_opts_pinned(const char *const *opts, const char *const *pins,
                             const char **out, size_t cap)
{
    size_t n = 0;
    for (; opts && opts[n] && n + 1 < cap; n++)
        out[n] = opts[n];
    for (; pins && *pins && n + 1 < cap; pins++)
        if (!sets_key(opts, *pins))
            out[n++] = *pins;
    out[n] = NULL;
    return out;
}

xs_engine *xtp_engine_with(const char *events, const char *catalog,
                           const char *plugin, const char *const *opts)
{
    xs_engine *e = xtp_engine(events, catalog);
    xs_error err = {0};
    if (e && !CHECK_MSG(xtp_add(e, plugin, opts, &err) == XS_OK,
                        "add %s: %s", plugin, err.msg)) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

uint32_t xtp_items(xs_engine *e, const char *names, uint32_t *ids,
                   uint32_t cap)
{
    uint32_t n = 0;
    char copy[512];
    snprintf(copy, sizeof copy, "%s", names);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && n < cap;
         t = strtok_r(NULL, ",", &save)) {
        ids[n] = xs_engine_item(e, t);
        if (CHECK_MSG(ids[n] != XS_NONE, "no item '%s'", t))
            n++;
    }
    return xs_request_items(ids, n);
}

uint32_t xtp_customer(xs_engine *e, const char *name)
{
    const xs_dict *d = xs_engine_dataset(e)->customers;
    return xs_dict_find(d, name, strlen(name));
}

const xs_evidence_field *xtp_field(const xs_rec *r, const char *key)
{
    for (uint32_t i = 0; i < r->ev.n; i++)
        if (!strcmp(r->ev.f[i].key, key))
            return &r->ev.f[i];
    return NULL;
}

xs_catalog_item xtp_catalog_item(const char *item, const char *category,
                                 double price, double margin)
{
    return (xs_catalog_item){.item = item,
                             .category = category,
                             .item_len = (uint32_t)strlen(item),
                             .category_len = (uint32_t)strlen(category),
                             .price = price,
                             .margin = margin,
                             .in_stock = 1};
}
