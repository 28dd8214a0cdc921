/*
 * test_plugin_abi.c -- the plugin contract of ABI 3 (xsell/plugin.h), as
 * the engine keeps it:
 *
 *   - versions: a table smaller than every ABI 3 table is refused, naming
 *     the file; a table of an older minor version (no prepare()) loads and
 *     its memory beyond its size is never read (the fixture's prepare()
 *     there aborts); a table of a newer minor version (a hook this host
 *     does not know) loads, its known hooks called, the rest ignored;
 *   - prepare(): called once after create(), again after every ingest and
 *     catalog upsert, always with the engine's asks; an engine answering
 *     customers only passes XS_ASK_CUSTOMER and refuses requests with
 *     items; a prepare() failure when adding refuses the plugin with its
 *     message, leaving nothing loaded;
 *   - one error rule: "plugin NAME: message (FILE)", the plugin never
 *     naming itself (checked on every built-in plugin's bad option), and
 *     "plugin NAME: " before every line a plugin logs;
 *   - settings: the defaults (fill=popular, weight.popular=0) apply when
 *     popular loads and not before; fill=none set before popular loads
 *     stays none.
 *
 * Fixtures: tests/plugins/versions.c, broken.c and testgood.c, built into
 * $XS_TEST_PLUGIN_DIR; the built-in plugins from $XS_PLUGIN_DIR.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "test_util.h"

static const char *tp_dir, *plugin_dir, *src_dir;

/* The log lines an engine wrote, for the log checks. */
static char log_lines[16][512];
static int n_log;

static void keep_log(void *arg, int level, const char *msg)
{
    (void)arg;
    (void)level;
    if (n_log < 16)
        snprintf(log_lines[n_log++], sizeof log_lines[0], "%s", msg);
}

/* The example store (customers, orders, times, a catalog) in an engine
 * answering `asks`, looking for plugins in pdir first. */
static xs_engine *store_engine(const char *pdir, unsigned asks)
{
    char ev[512], cat[512];
    snprintf(ev, sizeof ev, "%s/examples/data/events.csv", src_dir);
    snprintf(cat, sizeof cat, "%s/examples/data/catalog.csv", src_dir);
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(ev, &cols, &err);
    if (!CHECK_MSG(ds != NULL, "load %s: %s", ev, err.msg))
        return NULL;
    xs_catalog *c = xs_catalog_load(cat, ds->items, &err);
    if (!CHECK_MSG(c != NULL, "load %s: %s", cat, err.msg)) {
        xs_dataset_free(ds);
        return NULL;
    }
    xs_engine_config cfg = {.plugin_dir = pdir, .scope = -1, .threads = 1,
                            .log = keep_log, .asks = asks};
    xs_engine *e = xs_engine_new(ds, c, &cfg, &err);
    CHECK_MSG(e != NULL, "engine: %s", err.msg);
    return e;
}

/* One request to plugin `plugin` (NULL: the blend) for item `item` (NULL:
 * none) and customer `customer` (NULL: none); *n results, NULL on error
 * with the status in *rc. */
static const xs_rec *ask(xs_engine *e, xs_context *ctx, const char *plugin,
                         const char *item, const char *customer, int explain,
                         size_t *n, int *rc, xs_error *err)
{
    uint32_t id = item ? xs_engine_item(e, item) : XS_NONE;
    uint32_t cust = XS_NONE;
    if (customer) {
        const xs_dataset *ds = xs_engine_dataset(e);
        cust = xs_dict_find(ds->customers, customer, strlen(customer));
    }
    xs_request req = {&id, item ? 1 : 0, cust, 5, explain, XS_NONE};
    const xs_rec *r = NULL;
    *n = 0;
    *rc = xs_engine_recommend(e, ctx, plugin, &req, &r, n, err);
    return *rc == XS_OK ? r : NULL;
}

/* The evidence value of `key` of rec, or -1. */
static double evidence(const xs_rec *rec, const char *key)
{
    for (uint32_t i = 0; i < rec->ev.n; i++)
        if (!strcmp(rec->ev.f[i].key, key))
            return rec->ev.f[i].value;
    return -1;
}

/* How many times needle occurs in s. */
static int count_of(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void test_versions(void)
{
    char f[512];
    xs_plugin_so so;
    xs_error err = {0};
    snprintf(f, sizeof f, "%s/small_size.so", tp_dir);
    CHECK(xs_plugin_so_open(f, &so, &err) == XS_ERR_PLUGIN);
    CHECK_HAS(err.msg, f);
    CHECK_HAS(err.msg, "its table says 8 bytes");

    xs_engine *e = store_engine(tp_dir, 0);
    if (!e)
        return;
    CHECK_MSG(xs_engine_add_plugin(e, "older", NULL, 0, &err) == XS_OK,
              "older: %s", err.msg);
    CHECK_MSG(xs_engine_add_plugin(e, "newer", NULL, 0, &err) == XS_OK,
              "newer: %s", err.msg);
    xs_context *ctx = xs_context_new(e);
    size_t n;
    int rc;
    /* score 1 + prepare() calls: never for older, once for newer */
    const xs_rec *r = ask(e, ctx, "older", "P000251", NULL, 0, &n, &rc, &err);
    CHECK_MSG(r && n == 1 && r[0].score == 1.0, "older: %d %s", rc, err.msg);
    r = ask(e, ctx, "newer", "P000251", NULL, 0, &n, &rc, &err);
    CHECK_MSG(r && n == 1 && r[0].score == 2.0, "newer: %d %s", rc, err.msg);
    /* an ingest prepares newer again, older never */
    xs_ingest_event ev = {"C000001", "P000001", NULL, 7, 7, 0,
                          1735700000, 1, 1.0, NULL, 0};
    CHECK_MSG(xs_engine_ingest(e, &ev, 1, &err) == XS_OK, "ingest: %s",
              err.msg);
    r = ask(e, ctx, "older", "P000251", NULL, 0, &n, &rc, &err);
    CHECK_MSG(r && n == 1 && r[0].score == 1.0, "older after ingest");
    r = ask(e, ctx, "newer", "P000251", NULL, 0, &n, &rc, &err);
    CHECK_MSG(r && n == 1 && r[0].score == 3.0, "newer after ingest");
    const xs_plugin *p = xs_engine_plugin(e, 0);
    CHECK_MSG(p && p->prepare == NULL, "older's table as the host sees it "
              "has a prepare()");
    xs_context_free(ctx);
    xs_engine_free(e);
}

static void test_prepare(void)
{
    xs_error err = {0};
    size_t n;
    int rc;
    for (int kind = 0; kind < 2; kind++) {
        unsigned asks = kind ? XS_ASK_CUSTOMER : 0;
        xs_engine *e = store_engine(tp_dir, asks);
        if (!e)
            return;
        xs_option o = {"watch", "1"};
        CHECK_MSG(xs_engine_add_plugin(e, "testgood", &o, 1, &err) == XS_OK,
                  "testgood: %s", err.msg);
        xs_context *ctx = xs_context_new(e);
        double want_asks = kind ? XS_ASK_CUSTOMER : XS_ASK_ALL;
        const xs_rec *r =
            ask(e, ctx, "testgood", NULL, "C001462", 1, &n, &rc, &err);
        CHECK_MSG(r && n > 0 && evidence(&r[0], "prepared") == 1 &&
                      evidence(&r[0], "asks") == want_asks,
                  "kind %d: after create: %d %s", kind, rc, err.msg);
        xs_ingest_event ev = {"C000001", "P000001", NULL, 7, 7, 0,
                              1735700000, 1, 1.0, NULL, 0};
        CHECK(xs_engine_ingest(e, &ev, 1, &err) == XS_OK);
        r = ask(e, ctx, "testgood", NULL, "C001462", 1, &n, &rc, &err);
        CHECK_MSG(r && n > 0 && evidence(&r[0], "prepared") == 2 &&
                      evidence(&r[0], "asks") == want_asks,
                  "kind %d: after ingest", kind);
        xs_catalog_item it = {.item = "P000001", .category = "dairy",
                              .item_len = 7, .category_len = 5, .price = 2.5,
                              .margin = 0.3, .in_stock = 1};
        CHECK(xs_engine_catalog_upsert(e, &it, 1, NULL, &err) == XS_OK);
        r = ask(e, ctx, "testgood", NULL, "C001462", 1, &n, &rc, &err);
        CHECK_MSG(r && n > 0 && evidence(&r[0], "prepared") == 3,
                  "kind %d: after catalog", kind);
        /* requests with items: refused when the engine answers customers */
        r = ask(e, ctx, "testgood", "P000030", NULL, 1, &n, &rc, &err);
        if (kind)
            CHECK_MSG(rc == XS_ERR_USAGE && strstr(err.msg, "items"),
                      "customers only, a request with items: %d %s", rc,
                      err.msg);
        else
            CHECK_MSG(rc == XS_OK && n > 0, "a request with items: %s",
                      err.msg);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    /* a prepare() failure refuses the plugin, with its message */
    xs_engine *e = store_engine(tp_dir, 0);
    if (!e)
        return;
    char f[512];
    snprintf(f, sizeof f, "%s/prepare_fails.so", tp_dir);
    CHECK(xs_engine_add_plugin(e, f, NULL, 0, &err) == XS_ERR_PLUGIN);
    CHECK_HAS(err.msg, "plugin broken: the gizmo would not warm up (");
    CHECK_HAS(err.msg, f);
    xs_option fp = {"fail_prepare", "no warmth"};
    CHECK(xs_engine_add_plugin(e, "testgood", &fp, 1, &err) ==
          XS_ERR_PLUGIN);
    CHECK_HAS(err.msg, "plugin testgood: no warmth (");
    CHECK_EQU(xs_engine_plugin_count(e), 0);
    xs_engine_free(e);
}

static void test_messages(void)
{
    static const struct {
        const char *plugin, *key, *value;
    } bad[] = {
        {"copurchase", "min_count", "0"}, {"copurchase", "colour", "red"},
        {"recency", "half_life", "0"},    {"recency", "colour", "red"},
        {"popular", "weight", "rating"},  {"popular", "colour", "red"},
        {"upsell", "prior", "-1"},        {"upsell", "colour", "red"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xs_engine *e = store_engine(NULL, 0);
        if (!e)
            return;
        xs_option o = {bad[i].key, bad[i].value};
        xs_error err = {0};
        char prefix[64], file[512];
        snprintf(prefix, sizeof prefix, "plugin %s: ", bad[i].plugin);
        snprintf(file, sizeof file, "(%s/%s.so)", plugin_dir, bad[i].plugin);
        CHECK(xs_engine_add_plugin(e, bad[i].plugin, &o, 1, &err) ==
              XS_ERR_PLUGIN);
        CHECK_MSG(!strncmp(err.msg, prefix, strlen(prefix)) &&
                      strstr(err.msg, bad[i].key) &&
                      strstr(err.msg, file) &&
                      count_of(err.msg, bad[i].plugin) == 2,
                  "%s %s=%s: '%s' (want '%s...%s', the name once before "
                  "the file)", bad[i].plugin, bad[i].key, bad[i].value,
                  err.msg, prefix, file);
        xs_engine_free(e);
    }
    /* what a plugin logs comes out after its name */
    xs_engine *e = store_engine(tp_dir, 0);
    if (!e)
        return;
    n_log = 0;
    xs_option o = {"log", "hello from create"};
    xs_error err = {0};
    CHECK(xs_engine_add_plugin(e, "testgood", &o, 1, &err) == XS_OK);
    int seen = 0;
    for (int i = 0; i < n_log; i++)
        seen |= !strcmp(log_lines[i], "plugin testgood: hello from create");
    CHECK_MSG(seen, "log line not prefixed (%d lines)", n_log);
    xs_engine_free(e);
}

/* The answer's plugin names for a cold start (no items, no customer),
 * and its top score (0 when empty). */
static double cold_plugins(xs_engine *e, char *out, size_t len)
{
    xs_context *ctx = xs_context_new(e);
    size_t n;
    int rc;
    xs_error err = {0};
    const xs_rec *r = ask(e, ctx, NULL, NULL, NULL, 0, &n, &rc, &err);
    CHECK_MSG(rc == XS_OK, "cold start: %s", err.msg);
    out[0] = '\0';
    for (size_t i = 0; r && i < n; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "",
                 r[i].plugin);
    double top = r && n ? r[0].score : 0;
    xs_context_free(ctx);
    return top;
}

static void test_defaults(void)
{
    char got[256];
    xs_error err = {0};
    /* copurchase alone: the default fill names no loaded plugin */
    xs_engine *e = store_engine(NULL, 0);
    if (!e)
        return;
    CHECK(xs_engine_add_plugin(e, "copurchase", NULL, 0, &err) == XS_OK);
    cold_plugins(e, got, sizeof got);
    CHECK_MSG(!strcmp(got, ""), "cold start without popular: '%s'", got);
    /* popular loads: it blends at its default weight 0.25 (its top item
     * 0.25 x 1), and fills too */
    CHECK(xs_engine_add_plugin(e, "popular", NULL, 0, &err) == XS_OK);
    double top = cold_plugins(e, got, sizeof got);
    CHECK_MSG(!strcmp(got, "popular popular popular popular popular") &&
                  top == 0.25,
              "cold start with popular: '%s', top %g", got, top);
    /* weight.popular=0: it only fills, its top item at half the score of
     * a blended one */
    CHECK(xs_engine_set_rule(e, "weight.popular", "0", &err) == XS_OK);
    top = cold_plugins(e, got, sizeof got);
    CHECK_MSG(!strcmp(got, "popular popular popular popular popular") &&
                  top == 0.5,
              "cold start, popular filling: '%s', top %g", got, top);
    /* weight.popular=1: popular blends (top 1), nothing left to fill */
    CHECK(xs_engine_set_rule(e, "weight.popular", "1", &err) == XS_OK);
    top = cold_plugins(e, got, sizeof got);
    CHECK_MSG(!strcmp(got, "popular popular popular popular popular") &&
                  top == 1.0,
              "cold start, popular blended: '%s', top %g", got, top);
    xs_engine_free(e);
    /* fill=none before popular loads: stays none */
    e = store_engine(NULL, 0);
    if (!e)
        return;
    CHECK(xs_engine_set_rule(e, "fill", "none", &err) == XS_OK);
    CHECK(xs_engine_set_rule(e, "fill", "popular", &err) == XS_ERR_USAGE);
    CHECK_HAS(err.msg, "fill: no plugin 'popular' is loaded");
    CHECK(xs_engine_add_plugin(e, "copurchase", NULL, 0, &err) == XS_OK);
    CHECK(xs_engine_add_plugin(e, "popular", NULL, 0, &err) == XS_OK);
    CHECK(xs_engine_set_rule(e, "weight.popular", "0", &err) == XS_OK);
    cold_plugins(e, got, sizeof got);
    CHECK_MSG(!strcmp(got, ""), "fill=none, then popular (weight 0): '%s'",
              got);
    /* the boolean dialect of the settings */
    static const char *const yes[] = {"true", "TRUE", "Yes", "on", "1"};
    static const char *const no[] = {"false", "No", "OFF", "0"};
    for (size_t i = 0; i < 5; i++)
        CHECK(xs_engine_set_rule(e, "exclude_owned", yes[i], &err) == XS_OK);
    for (size_t i = 0; i < 4; i++)
        CHECK(xs_engine_set_rule(e, "exclude_owned", no[i], &err) == XS_OK);
    CHECK(xs_engine_set_rule(e, "exclude_owned", "maybe", &err) ==
          XS_ERR_USAGE);
    xs_engine_free(e);
}

int main(void)
{
    tp_dir = getenv("XS_TEST_PLUGIN_DIR");
    plugin_dir = getenv("XS_PLUGIN_DIR");
    src_dir = getenv("XS_SOURCE_DIR");
    if (!tp_dir || !plugin_dir || !src_dir)
        return xt_skip("XS_TEST_PLUGIN_DIR, XS_PLUGIN_DIR and XS_SOURCE_DIR "
                       "are set by ctest");
    unsetenv("XSELL_PLUGIN_PATH");
    test_versions();
    test_prepare();
    test_messages();
    test_defaults();
    return xt_done();
}
