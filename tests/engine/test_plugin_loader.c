/*
 * test_plugin_loader.c -- the plugin loader (loader.h) and the engine's
 * xs_engine_add_plugin: every way a plugin file can be wrong, and the
 * search path.
 *
 * Contract under test (DESIGN.md, "Plugin ABI"): every failure -- missing
 * file, not a shared object (dlerror() text), unresolved symbols, no entry
 * symbol, wrong ABI, NULL table, bad name, missing callbacks, create()
 * failure, duplicate name, bad options -- becomes an error whose message
 * names the file; nothing crashes and nothing stays loaded.  Search order:
 * --plugin-dir, then XSELL_PLUGIN_PATH (colon separated), then the build
 * default.
 *
 * The broken plugins come from tests/plugins/ (built into
 * $XS_TEST_PLUGIN_DIR); the real copurchase plugin from $XS_PLUGIN_DIR.
 * Temporary files live under /tmp and are removed at the end.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsell/xsell.h"

#include "test_util.h"


static const char *tp_dir;     /* test plugins */
static const char *plugin_dir; /* real plugins (build default) */
static const char *data_dir;   /* tests/data */
static char tmp[64];           /* scratch directory */

static char *fmt(char *buf, size_t len, const char *f, ...) XS_PRINTF(3, 4);
static char *fmt(char *buf, size_t len, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, len, f, ap);
    va_end(ap);
    return buf;
}

static int has(const char *msg, const char *needle)
{
    return needle && strstr(msg, needle) != NULL;
}

/* 1 when the shared object at path is currently loaded in this process. */
static int is_loaded(const char *path)
{
    void *h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (h) {
        dlclose(h);
        return 1;
    }
    return 0;
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f)
        fclose(f);
    else
        perror(path);
}

/* ---- xs_plugin_so_open on every kind of bad file ------------------------ */

/* Opens file (in the test plugin dir unless it holds a '/'), expects
 * failure with a message naming the file and holding each of the NULL
 * terminated needles. */
static void expect_open_fails(const char *file, ...)
{
    char path[512];
    if (strchr(file, '/'))
        fmt(path, sizeof path, "%s", file);
    else
        fmt(path, sizeof path, "%s/%s", tp_dir, file);
    xs_plugin_so so;
    memset(&so, 0xAB, sizeof so);
    xs_error err = {0};
    int rc = xs_plugin_so_open(path, &so, &err);
    CHECK_MSG(rc == XS_ERR_PLUGIN, "%s: status %d, want XS_ERR_PLUGIN (%d)", file,
          rc, XS_ERR_PLUGIN);
    CHECK_MSG(err.code == rc, "%s: err.code %d != status %d", file, err.code, rc);
    CHECK_MSG(has(err.msg, path), "%s: message does not name the file: '%s'",
          file, err.msg);
    CHECK_MSG(so.handle == NULL && so.table == NULL && so.path == NULL,
          "%s: failed open left *so filled", file);
    va_list ap;
    va_start(ap, file);
    for (const char *n; (n = va_arg(ap, const char *));)
        CHECK_MSG(has(err.msg, n), "%s: message lacks '%s': '%s'", file, n,
              err.msg);
    va_end(ap);
    CHECK_MSG(!is_loaded(path), "%s: still loaded after a failed open", file);
    /* the same failure without an error buffer must not crash */
    rc = xs_plugin_so_open(path, &so, NULL);
    CHECK_MSG(rc == XS_ERR_PLUGIN, "%s: status %d without err", file, rc);
}

/* The dlerror() text for dlopen(path), as the loader would see it. */
static void dlerror_of(const char *path, char *out, size_t len)
{
    out[0] = '\0';
    dlerror();
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h) {
        dlclose(h);
        return;
    }
    const char *e = dlerror();
    fmt(out, len, "%s", e ? e : "");
}

static void test_open_failures(void)
{
    char path[512], e[1024];

    /* missing file: in an existing and in a missing directory */
    expect_open_fails("nosuch.so", "No such file", (char *)NULL);
    expect_open_fails("/nonexistent-xsell-dir/nosuch.so", "No such file",
                      (char *)NULL);

    /* not a shared object: the dlerror() text must come through */
    const char *not_so[] = {"not_elf.so", "empty.so"};
    for (size_t i = 0; i < 2; i++) {
        dlerror_of(fmt(path, sizeof path, "%s/%s", tp_dir, not_so[i]), e,
                   sizeof e);
        CHECK_MSG(e[0], "%s: dlopen unexpectedly succeeded", not_so[i]);
        expect_open_fails(not_so[i], e, (char *)NULL);
    }
    /* a directory is not a shared object either: refused before dlopen */
    expect_open_fails(tmp, "not a regular file", (char *)NULL);

    /* RTLD_NOW: an unresolved symbol fails at load time, named */
    dlerror_of(fmt(path, sizeof path, "%s/unresolved.so", tp_dir), e,
               sizeof e);
    CHECK_MSG(has(e, "xs_test_symbol_defined_nowhere"),
          "dlopen of unresolved.so: unexpected dlerror '%s'", e);
    expect_open_fails("unresolved.so", e, "xs_test_symbol_defined_nowhere",
                      (char *)NULL);

    expect_open_fails("no_entry.so", "xs_plugin_entry", (char *)NULL);

    /* wrong ABI: both numbers named */
    char want[32], got[32];
    fmt(got, sizeof got, "ABI %u", (unsigned)(XS_PLUGIN_ABI + 41));
    fmt(want, sizeof want, "ABI %u", (unsigned)XS_PLUGIN_ABI);
    expect_open_fails("bad_abi.so", got, want, (char *)NULL);

    expect_open_fails("null_entry.so", "NULL", (char *)NULL);
    expect_open_fails("bad_name.so", "name", (char *)NULL);
    expect_open_fails("null_name.so", "name", (char *)NULL);
    expect_open_fails("long_name.so", "name", (char *)NULL);
    expect_open_fails("no_create.so", "create", (char *)NULL);
    expect_open_fails("no_recommend.so", "recommend", (char *)NULL);
    expect_open_fails("no_destroy.so", "destroy", (char *)NULL);

    /* and the good one opens, stays loaded while open, unloads on close */
    xs_plugin_so so;
    xs_error err = {0};
    fmt(path, sizeof path, "%s/testgood.so", tp_dir);
    int rc = xs_plugin_so_open(path, &so, &err);
    CHECK_MSG(rc == XS_OK, "testgood.so: %d %s", rc, err.msg);
    if (rc == XS_OK) {
        CHECK_MSG(so.table && so.table->name &&
                  !strcmp(so.table->name, "testgood"),
              "testgood.so: wrong table");
        CHECK_MSG(so.path && !strcmp(so.path, path), "testgood.so: path '%s'",
              so.path ? so.path : "(null)");
        CHECK_MSG(is_loaded(path), "testgood.so: not loaded while open");
        xs_plugin_so_close(&so);
        CHECK_MSG(so.handle == NULL && so.path == NULL, "close left *so filled");
        CHECK_MSG(!is_loaded(path), "testgood.so: still loaded after close");
    }
    /* create() failures and the duplicate-named plugin still open fine:
     * those are the engine's business */
    const char *fine[] = {"create_fails.so", "create_silent.so",
                          "dup_name.so"};
    for (size_t i = 0; i < 3; i++) {
        fmt(path, sizeof path, "%s/%s", tp_dir, fine[i]);
        rc = xs_plugin_so_open(path, &so, &err);
        CHECK_MSG(rc == XS_OK, "%s: %d %s", fine[i], rc, err.msg);
        if (rc == XS_OK)
            xs_plugin_so_close(&so);
    }
}

/* ---- the search path ---------------------------------------------------- */

static int collect(const char *file, void *arg)
{
    char *list = arg;
    size_t used = strlen(list);
    snprintf(list + used, 4096 - used, "%s;", file);
    return 0;
}

static int stop_at_second(const char *file, void *arg)
{
    int *calls = arg;
    (void)file;
    return ++*calls == 2 ? 42 : 0;
}

static void test_search_path(void)
{
    char d[256], a[256], b[256], p[512], out[4096], want[512];
    fmt(d, sizeof d, "%s/d", tmp);
    fmt(a, sizeof a, "%s/a", tmp);
    fmt(b, sizeof b, "%s/b", tmp);
    mkdir(d, 0755);
    mkdir(a, 0755);
    mkdir(b, 0755);
    /* tp.so in all three, only_b.so in b, copurchase.so nowhere but the
     * build default; resolution only looks for regular files */
    const char *files[] = {"d/tp.so", "a/tp.so", "b/tp.so", "b/only_b.so",
                           "a/x.so", "a/c.so", "a/notes.txt", "d/x.so",
                           "d/b.so", "b/z.so"};
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        touch(fmt(p, sizeof p, "%s/%s", tmp, files[i]));
    char env[600];
    fmt(env, sizeof env, "%s::%s:", a, b); /* empty entries are skipped */
    setenv("XSELL_PLUGIN_PATH", env, 1);

    xs_plugin_path pp;
    xs_error err = {0};
    int rc = xs_plugin_path_init(&pp, d, &err);
    CHECK_MSG(rc == XS_OK, "path_init: %s", err.msg);
    if (rc)
        return;
    CHECK_MSG(pp.n >= 4, "path has %zu dirs, want >= 4", pp.n);
    if (pp.n >= 4) {
        CHECK_MSG(!strcmp(pp.dirs[0], d), "dirs[0] '%s', want --plugin-dir '%s'",
              pp.dirs[0], d);
        CHECK_MSG(!strcmp(pp.dirs[1], a), "dirs[1] '%s', want '%s'", pp.dirs[1],
              a);
        CHECK_MSG(!strcmp(pp.dirs[2], b), "dirs[2] '%s', want '%s'", pp.dirs[2],
              b);
        CHECK_MSG(!strcmp(pp.dirs[3], plugin_dir),
              "dirs[3] '%s', want the build default '%s'", pp.dirs[3],
              plugin_dir);
        for (size_t i = 4; i < pp.n; i++)
            CHECK_MSG(pp.dirs[i][0], "dirs[%zu] is empty", i);
    }

    /* first directory wins */
    rc = xs_plugin_path_resolve(&pp, "tp", out, sizeof out, &err);
    CHECK_MSG(rc == XS_OK && !strcmp(out, fmt(want, sizeof want, "%s/tp.so", d)),
          "resolve tp: %d '%s', want '%s'", rc, out, want);
    rc = xs_plugin_path_resolve(&pp, "only_b", out, sizeof out, &err);
    CHECK_MSG(rc == XS_OK &&
              !strcmp(out, fmt(want, sizeof want, "%s/only_b.so", b)),
          "resolve only_b: %d '%s', want '%s'", rc, out, want);
    rc = xs_plugin_path_resolve(&pp, "copurchase", out, sizeof out, &err);
    CHECK_MSG(rc == XS_OK &&
              !strcmp(out, fmt(want, sizeof want, "%s/copurchase.so",
                               plugin_dir)),
          "resolve copurchase: %d '%s', want '%s'", rc, out, want);
    /* a directory named NAME.so is not a plugin file */
    mkdir(fmt(p, sizeof p, "%s/only_dir.so", b), 0755);
    rc = xs_plugin_path_resolve(&pp, "only_dir", out, sizeof out, &err);
    CHECK_MSG(rc == XS_ERR_NOTFOUND, "resolve only_dir: %d, want NOTFOUND", rc);
    rmdir(p);
    /* a name holding '/' is a path, taken as is */
    rc = xs_plugin_path_resolve(&pp, "./some/where.so", out, sizeof out, &err);
    CHECK_MSG(rc == XS_OK && !strcmp(out, "./some/where.so"),
          "resolve a path: %d '%s'", rc, out);
    /* unknown name: NOTFOUND, naming the plugin and every place looked */
    rc = xs_plugin_path_resolve(&pp, "nosuch", out, sizeof out, &err);
    CHECK_MSG(rc == XS_ERR_NOTFOUND, "resolve nosuch: %d, want NOTFOUND", rc);
    CHECK_MSG(has(err.msg, "nosuch"), "resolve nosuch: '%s'", err.msg);
    const char *looked[] = {d, a, b, plugin_dir};
    for (size_t i = 0; i < 4; i++)
        CHECK_MSG(has(err.msg, looked[i]),
              "resolve nosuch: message does not list '%s': '%s'", looked[i],
              err.msg);
    /* not a valid name */
    rc = xs_plugin_path_resolve(&pp, "Bad.Name", out, sizeof out, &err);
    CHECK_MSG(rc == XS_ERR_USAGE && has(err.msg, "Bad.Name"),
          "resolve Bad.Name: %d '%s'", rc, err.msg);
    rc = xs_plugin_path_resolve(&pp, "", out, sizeof out, &err);
    CHECK_MSG(rc != XS_OK, "resolve '': accepted");

    /* each: first dir first, names sorted, a name seen earlier skipped,
     * only *.so */
    char list[4096] = "";
    rc = xs_plugin_path_each(&pp, collect, list);
    CHECK_MSG(rc == 0, "path_each: %d", rc);
    char w[4096];
    fmt(w, sizeof w, "%s/b.so;%s/tp.so;%s/x.so;%s/c.so;%s/only_b.so;%s/z.so;",
        d, d, d, a, b, b);
    CHECK_MSG(!strncmp(list, w, strlen(w)), "path_each order:\n got  %s\n want %s",
          list, w);
    CHECK_MSG(!has(list, "notes.txt"), "path_each visits non-.so files");
    fmt(w, sizeof w, "%s/copurchase.so;", plugin_dir);
    CHECK_MSG(has(list, w), "path_each misses the build default's copurchase");
    int calls = 0;
    rc = xs_plugin_path_each(&pp, stop_at_second, &calls);
    CHECK_MSG(rc == 42 && calls == 2, "path_each: no early stop (%d, %d calls)",
          rc, calls);
    xs_plugin_path_free(&pp);

    /* long directories: the list in the message holds whole directories,
     * in order, and says "..." when it leaves some out */
    {
        char ld[200], la[120], lb[120], lenv[300];
        fmt(ld, sizeof ld, "%s/%0150d", tmp, 0);
        fmt(la, sizeof la, "%s/%080d", tmp, 1);
        fmt(lb, sizeof lb, "%s/%080d", tmp, 2);
        fmt(lenv, sizeof lenv, "%s:%s", la, lb);
        setenv("XSELL_PLUGIN_PATH", lenv, 1);
        xs_plugin_path lp;
        if (xs_plugin_path_init(&lp, ld, &err) == XS_OK) {
            rc = xs_plugin_path_resolve(&lp, "nosuch", out, sizeof out, &err);
            CHECK_MSG(rc == XS_ERR_NOTFOUND, "long dirs: %d", rc);
            const char *s = strstr(err.msg, "looked in: ");
            const char *e = s ? strstr(s, "; see") : NULL;
            CHECK_MSG(s && e, "long dirs: no list in '%s'", err.msg);
            if (s && e) {
                char names[512];
                s += strlen("looked in: ");
                fmt(names, sizeof names, "%.*s", (int)(e - s), s);
                size_t i = 0, listed = 0;
                int cut = 0;
                char *save = NULL;
                for (char *t = strtok_r(names, ",", &save); t;
                     t = strtok_r(NULL, ",", &save), i++) {
                    t += *t == ' ';
                    if (!strcmp(t, "...")) {
                        cut = 1;
                        continue;
                    }
                    CHECK_MSG(!cut && i < lp.n && !strcmp(t, lp.dirs[i]),
                          "long dirs: entry %zu '%s' is not dirs[%zu] '%s'",
                          i, t, i, i < lp.n ? lp.dirs[i] : "");
                    listed++;
                }
                CHECK_MSG(listed >= 3, "long dirs: only %zu listed: %s", listed,
                      err.msg);
                CHECK_MSG(listed == lp.n || cut,
                      "long dirs: %zu of %zu listed, no '...': %s", listed,
                      lp.n, err.msg);
            }
            xs_plugin_path_free(&lp);
        }
        setenv("XSELL_PLUGIN_PATH", env, 1);
    }

    /* without --plugin-dir, XSELL_PLUGIN_PATH comes first */
    rc = xs_plugin_path_init(&pp, NULL, &err);
    CHECK_MSG(rc == XS_OK, "path_init: %s", err.msg);
    if (rc == XS_OK) {
        rc = xs_plugin_path_resolve(&pp, "tp", out, sizeof out, &err);
        CHECK_MSG(rc == XS_OK &&
                  !strcmp(out, fmt(want, sizeof want, "%s/tp.so", a)),
              "resolve tp without --plugin-dir: '%s', want '%s'", out, want);
        xs_plugin_path_free(&pp);
    }
    /* without either, the build default */
    unsetenv("XSELL_PLUGIN_PATH");
    rc = xs_plugin_path_init(&pp, NULL, &err);
    CHECK_MSG(rc == XS_OK, "path_init: %s", err.msg);
    if (rc == XS_OK) {
        CHECK_MSG(pp.n >= 1 && !strcmp(pp.dirs[0], plugin_dir),
              "default path starts with '%s', want '%s'",
              pp.n ? pp.dirs[0] : "", plugin_dir);
        rc = xs_plugin_path_resolve(&pp, "tp", out, sizeof out, &err);
        CHECK_MSG(rc == XS_ERR_NOTFOUND, "tp found without its dirs: '%s'", out);
        xs_plugin_path_free(&pp);
    }

    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        unlink(fmt(p, sizeof p, "%s/%s", tmp, files[i]));
    rmdir(d);
    rmdir(a);
    rmdir(b);
}

/* ---- through the engine -------------------------------------------------- */

static xs_engine *small_engine(const char *pdir)
{
    char path[512];
    xs_error err = {0};
    fmt(path, sizeof path, "%s/cli/small_baskets.csv", data_dir);
    xs_dataset *ds = xs_dataset_load_baskets(path, &err);
    CHECK_MSG(ds, "load %s: %s", path, err.msg);
    if (!ds)
        return NULL;
    xs_engine_config cfg = {.plugin_dir = pdir, .scope = -1, .threads = 1};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
    CHECK_MSG(e, "engine: %s", err.msg);
    return e;
}

/* Adds plugin name with "k=v" options; expects status want and a message
 * holding each NULL-terminated needle.  Returns the status. */
static int add_expect(xs_engine *e, const char *name, int want, size_t n_opts,
                      const xs_option *opts, ...)
{
    xs_error err = {0};
    size_t before = xs_engine_plugin_count(e);
    int rc = xs_engine_add_plugin(e, name, opts, n_opts, &err);
    const char *o = n_opts ? opts[0].key : "";
    CHECK_MSG(rc == want, "add %s (%s=%s): status %d, want %d: %s", name, o,
          n_opts ? opts[0].value : "", rc, want, err.msg);
    if (rc != XS_OK) {
        CHECK_MSG(xs_engine_plugin_count(e) == before,
              "add %s: failed but the plugin count changed", name);
        CHECK_MSG(err.msg[0], "add %s: no message", name);
        va_list ap;
        va_start(ap, opts);
        for (const char *n; (n = va_arg(ap, const char *));)
            CHECK_MSG(has(err.msg, n), "add %s (%s): message lacks '%s': '%s'",
                  name, o, n, err.msg);
        va_end(ap);
    }
    return rc;
}

static void test_engine_add(void)
{
    char cp[512], f[512], g[512];
    fmt(cp, sizeof cp, "%s/copurchase.so", plugin_dir);
    xs_engine *e = small_engine(NULL);
    if (!e)
        return;

    /* unknown name: where it looked */
    add_expect(e, "nosuch", XS_ERR_NOTFOUND, 0, NULL, "nosuch", plugin_dir,
               (char *)NULL);
    add_expect(e, "Not A Name", XS_ERR_USAGE, 0, NULL, "Not A Name",
               (char *)NULL);
    /* a path to a missing file, to a broken file */
    fmt(f, sizeof f, "%s/nosuch.so", tp_dir);
    add_expect(e, f, XS_ERR_PLUGIN, 0, NULL, f, (char *)NULL);
    fmt(f, sizeof f, "%s/bad_abi.so", tp_dir);
    add_expect(e, f, XS_ERR_PLUGIN, 0, NULL, f, (char *)NULL);

    /* create() failures: the plugin's message comes through, file named */
    fmt(f, sizeof f, "%s/create_fails.so", tp_dir);
    add_expect(e, f, XS_ERR_PLUGIN, 0, NULL, f,
               "broken: the frobnicator is missing", (char *)NULL);
    CHECK_MSG(!is_loaded(f), "create_fails.so still loaded after failing");
    fmt(f, sizeof f, "%s/create_silent.so", tp_dir);
    add_expect(e, f, XS_ERR_PLUGIN, 0, NULL, f, "create", (char *)NULL);

    /* copurchase options: unknown keys and bad values refused, by name */
    struct {
        xs_option o;
        const char *needle;
    } bad[] = {
        {{"foo", "1"}, "foo"},
        {{"measure", "foo"}, "foo"},
        {{"measure", ""}, "measure"},
        {{"min_support", "2"}, "min_support"},
        {{"min_support", "-0.1"}, "min_support"},
        {{"min_support", "abc"}, "min_support"},
        {{"min_support", "nan"}, "min_support"},
        {{"min_support", "0.5x"}, "min_support"},
        {{"min_count", "0"}, "min_count"},
        {{"min_count", "-1"}, "min_count"},
        {{"min_count", "1.5"}, "min_count"},
        {{"min_count", "4294967296"}, "min_count"},
        {{"min_count", ""}, "min_count"},
        {{"scope", "bogus"}, "scope"},
        {{"scope", "customer"}, "customer"}, /* baskets have no customers */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        add_expect(e, "copurchase", XS_ERR_PLUGIN, 1, &bad[i].o, cp,
                   bad[i].needle, (char *)NULL);
    /* the valid forms of the same options */
    {
        xs_option ok[] = {{"measure", "confidence"}, {"min_support", "0"},
                          {"min_count", "1"}, {"scope", "basket"}};
        add_expect(e, "copurchase", XS_OK, 4, ok, (char *)NULL);
    }
    CHECK_MSG(xs_engine_plugin_count(e) == 1, "plugin count %zu, want 1",
          xs_engine_plugin_count(e));

    /* duplicate names: the same plugin twice, or another file with the same
     * name; both refused, naming the file and the name */
    add_expect(e, "copurchase", XS_ERR_USAGE, 0, NULL, cp, "copurchase",
               (char *)NULL);
    fmt(f, sizeof f, "%s/dup_name.so", tp_dir);
    add_expect(e, f, XS_ERR_USAGE, 0, NULL, f, "copurchase", (char *)NULL);
    CHECK_MSG(xs_engine_plugin_count(e) == 1, "plugin count %zu, want 1",
          xs_engine_plugin_count(e));
    CHECK_MSG(!is_loaded(f), "dup_name.so still loaded after refusal");

    /* a plugin that loads fine from a path, next to copurchase */
    fmt(g, sizeof g, "%s/testgood.so", tp_dir);
    add_expect(e, g, XS_OK, 0, NULL, (char *)NULL);
    CHECK_MSG(xs_engine_plugin_count(e) == 2, "plugin count %zu, want 2",
          xs_engine_plugin_count(e));
    const xs_plugin *p0 = xs_engine_plugin(e, 0), *p1 = xs_engine_plugin(e, 1);
    CHECK_MSG(p0 && !strcmp(p0->name, "copurchase") && p1 &&
              !strcmp(p1->name, "testgood"),
          "plugins are not copurchase, testgood");
    CHECK_MSG(xs_engine_plugin(e, 2) == NULL, "plugin(2) is not NULL");

    /* after all that, the engine still serves */
    xs_context *ctx = xs_context_new(e);
    uint32_t milk = xs_engine_item(e, "milk");
    xs_request req = {&milk, 1, XS_NONE, 3, 1, XS_NONE};
    const xs_rec *recs;
    size_t n;
    xs_error err = {0};
    int rc = xs_engine_recommend(e, ctx, "copurchase", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_OK && n == 3, "recommend after failures: %d, %zu: %s", rc,
          n, err.msg);
    rc = xs_engine_recommend(e, ctx, "nosuch", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_ERR_NOTFOUND && has(err.msg, "nosuch"),
          "recommend with an unknown plugin: %d '%s'", rc, err.msg);
    req.k = 0;
    rc = xs_engine_recommend(e, ctx, "copurchase", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_ERR_USAGE, "k = 0: %d", rc);
    req.k = XS_K_MAX + 1;
    rc = xs_engine_recommend(e, ctx, "copurchase", &req, &recs, &n, &err);
    CHECK_MSG(rc == XS_ERR_USAGE, "k = XS_K_MAX + 1: %d", rc);
    xs_context_free(ctx);
    xs_engine_free(e);
    CHECK_MSG(!is_loaded(g), "testgood.so still loaded after xs_engine_free");
}

/* The host drops junk whatever a plugin pushes: out-of-range ids, XS_NONE,
 * non-finite scores and the request's own items. */
static void test_host_filters(void)
{
    xs_engine *e = small_engine(tp_dir); /* "testgood" found by name */
    if (!e)
        return;
    xs_error err = {0};
    int rc = xs_engine_add_plugin(e, "testgood", NULL, 0, &err);
    CHECK_MSG(rc == XS_OK, "add testgood by name via plugin_dir: %s", err.msg);
    xs_context *ctx = xs_context_new(e);
    if (rc == XS_OK && ctx) {
        uint32_t n_items = (uint32_t)xs_dict_size(xs_engine_dataset(e)->items);
        uint32_t items[2] = {xs_engine_item(e, "milk"),
                             xs_engine_item(e, "yogurt")};
        xs_request req = {items, 2, XS_NONE, XS_K_MAX, 1, XS_NONE};
        const xs_rec *recs;
        size_t n;
        rc = xs_engine_recommend(e, ctx, "testgood", &req, &recs, &n, &err);
        CHECK_MSG(rc == XS_OK, "testgood: %s", err.msg);
        CHECK_MSG(n == n_items - 2, "testgood: %zu results, want %u", n,
              n_items - 2);
        uint32_t expect = 0;
        for (size_t i = 0; rc == XS_OK && i < n; i++) {
            while (expect == items[0] || expect == items[1])
                expect++;
            CHECK_MSG(recs[i].item == expect && recs[i].score == n_items - expect,
                  "testgood result %zu: item %u score %g, want %u", i,
                  recs[i].item, recs[i].score, expect);
            CHECK_MSG(recs[i].plugin && !strcmp(recs[i].plugin, "testgood"),
                  "result %zu: plugin '%s'", i,
                  recs[i].plugin ? recs[i].plugin : "(null)");
            CHECK_MSG(recs[i].ev.n == 2 && recs[i].ev.f[0].value == recs[i].item &&
                      recs[i].ev.f[1].text &&
                      !strcmp(recs[i].ev.f[1].text,
                              xs_engine_item_name(e, recs[i].item)),
                  "result %zu: evidence not passed through", i);
            expect++;
        }
    }
    xs_context_free(ctx);
    xs_engine_free(e);

    /* a plugin reporting an internal failure: an error, not a crash */
    e = small_engine(tp_dir);
    if (!e)
        return;
    xs_option o = {"mode", "fail"};
    rc = xs_engine_add_plugin(e, "testgood", &o, 1, &err);
    CHECK_MSG(rc == XS_OK, "add testgood mode=fail: %s", err.msg);
    ctx = xs_context_new(e);
    if (rc == XS_OK && ctx) {
        uint32_t milk = xs_engine_item(e, "milk");
        xs_request req = {&milk, 1, XS_NONE, 5, 0, XS_NONE};
        const xs_rec *recs = NULL;
        size_t n = 99;
        rc = xs_engine_recommend(e, ctx, "testgood", &req, &recs, &n, &err);
        CHECK_MSG(rc == XS_ERR_PLUGIN && has(err.msg, "testgood"),
              "failing recommend: %d '%s'", rc, err.msg);
        CHECK_MSG(n == 0, "failing recommend returned %zu results", n);
    }
    /* create() failure message passed through from an option */
    xs_option fc = {"fail_create", "cannot reach the moon"};
    xs_engine *e2 = small_engine(tp_dir);
    if (e2) {
        add_expect(e2, "testgood", XS_ERR_PLUGIN, 1, &fc, "testgood.so",
                   "cannot reach the moon", (char *)NULL);
        xs_engine_free(e2);
    }
    xs_context_free(ctx);
    xs_engine_free(e);
}

int main(void)
{
    tp_dir = getenv("XS_TEST_PLUGIN_DIR");
    plugin_dir = getenv("XS_PLUGIN_DIR");
    data_dir = getenv("XS_TEST_DATA");
    if (!tp_dir || !plugin_dir || !data_dir) {
        fprintf(stderr, "set XS_TEST_PLUGIN_DIR, XS_PLUGIN_DIR and "
                        "XS_TEST_DATA (ctest does)\n");
        return 1;
    }
    unsetenv("XSELL_PLUGIN_PATH");
    strcpy(tmp, "/tmp/xsl_XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_open_failures();
    test_search_path();
    test_engine_add();
    test_host_filters();
    rmdir(tmp);
    return xt_done();
}
