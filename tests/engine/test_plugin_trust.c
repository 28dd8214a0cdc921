/*
 * test_plugin_trust.c -- the loader's trust checks (loader.h,
 * docs/plugins.md "Trust").
 *
 * Contract under test: a plugin file that is group- or world-writable, a
 * directory holding it that is, a directory above it that is without the
 * sticky bit, or any of those owned by a uid other than root's or ours, is
 * refused with XS_ERR_PLUGIN and a message naming the file (and the
 * directory) and saying why -- and the file is never dlopen()ed: the
 * marker plugin (testgood.c built with a constructor that creates
 * $XS_MARKER_FILE) leaves no marker.  A symbolic link is judged by where
 * it leads.  A relative XSELL_PLUGIN_PATH entry is refused when the path
 * is built; a relative plugin directory is made absolute.  A properly
 * owned 0755 directory with a 0644 file loads.  The ownership cases need
 * root (chown to 65534) and are skipped otherwise.
 *
 * Everything happens in a mkdtemp() directory under /tmp (itself 1777:
 * a sticky ancestor, which is allowed), removed at the end.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <stdarg.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsell/xsell.h"

#include "test_util.h"

static const char *tp_dir; /* test plugins, marker.so among them */
static char tmp[64];       /* scratch directory, 0700 */
static char marker[128];   /* $XS_MARKER_FILE */

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

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Copies the test plugin marker.so to dst with the given mode. */
static void install(const char *dst, mode_t mode)
{
    char src[512], buf[8192];
    FILE *in = fopen(fmt(src, sizeof src, "%s/marker.so", tp_dir), "rb");
    FILE *out = fopen(dst, "wb");
    CHECK_MSG(in && out, "copy %s to %s", src, dst);
    size_t n;
    while (in && out && (n = fread(buf, 1, sizeof buf, in)) > 0)
        CHECK(fwrite(buf, 1, n, out) == n);
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    CHECK(chmod(dst, mode) == 0);
}

static void make_dir(const char *dir, mode_t mode)
{
    CHECK_MSG(mkdir(dir, 0700) == 0 && chmod(dir, mode) == 0, "mkdir %s",
              dir);
}

/* Opens path; expects a trust refusal naming the path and holding each
 * NULL-terminated needle, and no marker (never dlopen()ed). */
static void expect_refused(const char *path, ...)
{
    xs_plugin_so so;
    xs_error err = {0};
    unlink(marker);
    int rc = xs_plugin_so_open(path, &so, &err);
    CHECK_MSG(rc == XS_ERR_PLUGIN, "%s: status %d, want XS_ERR_PLUGIN: %s",
              path, rc, err.msg);
    if (rc == XS_OK)
        xs_plugin_so_close(&so);
    CHECK_MSG(has(err.msg, path) && has(err.msg, "refused"),
              "%s: message '%s'", path, err.msg);
    va_list ap;
    va_start(ap, path);
    for (const char *n; (n = va_arg(ap, const char *));)
        CHECK_MSG(has(err.msg, n), "%s: message lacks '%s': '%s'", path, n,
                  err.msg);
    va_end(ap);
    CHECK_MSG(!exists(marker), "%s: refused, but its constructor ran", path);
}

static void expect_loads(const char *path)
{
    xs_plugin_so so;
    xs_error err = {0};
    unlink(marker);
    int rc = xs_plugin_so_open(path, &so, &err);
    CHECK_MSG(rc == XS_OK, "%s: %d %s", path, rc, err.msg);
    if (rc == XS_OK) {
        CHECK_MSG(so.path && !strcmp(so.path, path), "%s: path '%s'", path,
                  so.path ? so.path : "(null)");
        xs_plugin_so_close(&so);
    }
    CHECK_MSG(exists(marker), "%s: loaded, but no marker", path);
    unlink(marker);
}

static void test_modes(void)
{
    char ok[128], f[256], ww[128], gw[128], st[128], in[128], l[256];
    fmt(ok, sizeof ok, "%s/ok", tmp);
    make_dir(ok, 0755);
    fmt(f, sizeof f, "%s/p.so", ok);

    /* the control: 0755 directory, 0644 file, ours */
    install(f, 0644);
    expect_loads(f);
    install(f, 0755);
    expect_loads(f);
    /* the file writable by others */
    chmod(f, 0664);
    expect_refused(f, "file is group-writable", (char *)NULL);
    chmod(f, 0646);
    expect_refused(f, "file is world-writable", (char *)NULL);
    chmod(f, 0644);

    /* the directory holding it writable by others, sticky or not */
    fmt(ww, sizeof ww, "%s/ww", tmp);
    make_dir(ww, 0777);
    install(fmt(f, sizeof f, "%s/p.so", ww), 0644);
    expect_refused(f, ww, "is world-writable", (char *)NULL);
    chmod(ww, 01777);
    expect_refused(f, ww, "is world-writable", (char *)NULL);
    fmt(gw, sizeof gw, "%s/gw", tmp);
    make_dir(gw, 0775);
    install(fmt(f, sizeof f, "%s/p.so", gw), 0644);
    expect_refused(f, gw, "is group-writable", (char *)NULL);

    /* a directory above: refused unless sticky (like /tmp) */
    fmt(st, sizeof st, "%s/st", tmp);
    make_dir(st, 0777);
    fmt(in, sizeof in, "%s/in", st);
    make_dir(in, 0755);
    install(fmt(f, sizeof f, "%s/p.so", in), 0644);
    expect_refused(f, st, "is world-writable", (char *)NULL);
    chmod(st, 01777);
    expect_loads(f);
    unlink(f);
    rmdir(in);

    /* a link from a trusted directory is judged by where it leads */
    fmt(l, sizeof l, "%s/link.so", ok);
    CHECK(symlink(fmt(f, sizeof f, "%s/p.so", ww), l) == 0);
    expect_refused(l, ww, "is world-writable", (char *)NULL);
    unlink(l);

    /* through the engine: the refusal comes out of xs_engine_add_plugin */
    char csv[512];
    xs_error err = {0};
    fmt(csv, sizeof csv, "%s/cli/small_baskets.csv", getenv("XS_TEST_DATA"));
    xs_dataset *ds = xs_dataset_load_baskets(csv, &err);
    CHECK_MSG(ds, "load %s: %s", csv, err.msg);
    xs_engine_config cfg = {.plugin_dir = ww, .scope = -1, .threads = 1};
    xs_engine *e = ds ? xs_engine_new(ds, NULL, &cfg, &err) : NULL;
    CHECK_MSG(!ds || e, "engine: %s", err.msg);
    if (e) {
        unlink(marker);
        int rc = xs_engine_add_plugin(e, "p", NULL, 0, &err);
        CHECK_MSG(rc == XS_ERR_PLUGIN && has(err.msg, ww) &&
                      has(err.msg, "world-writable"),
                  "engine add from %s: %d '%s'", ww, rc, err.msg);
        CHECK_MSG(xs_engine_plugin_count(e) == 0, "refused plugin counted");
        CHECK_MSG(!exists(marker), "engine: refused, but its constructor ran");
        xs_engine_free(e);
    }
    unlink(fmt(f, sizeof f, "%s/p.so", ww));
    unlink(fmt(f, sizeof f, "%s/p.so", gw));
    unlink(fmt(f, sizeof f, "%s/p.so", ok));
    rmdir(ww);
    rmdir(gw);
    rmdir(st);
    rmdir(ok);
}

/* Other owners: root only (chown); uid 65534 is nobody's on most systems
 * and never ours as root. */
static void test_owners(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_plugin_trust: not root, ownership cases "
                        "skipped\n");
        return;
    }
    char d[128], sub[128], f[256];
    fmt(d, sizeof d, "%s/own", tmp);
    make_dir(d, 0755);
    install(fmt(f, sizeof f, "%s/p.so", d), 0644);
    expect_loads(f);
    CHECK(chown(f, 65534, 65534) == 0);
    expect_refused(f, "file is owned by uid 65534", (char *)NULL);
    CHECK(chown(f, 0, 0) == 0);
    CHECK(chown(d, 65534, 65534) == 0);
    expect_refused(f, d, "is owned by uid 65534", (char *)NULL);
    /* a directory above, owned by another uid */
    fmt(sub, sizeof sub, "%s/sub", d);
    make_dir(sub, 0755);
    install(fmt(f, sizeof f, "%s/p.so", sub), 0644);
    expect_refused(f, d, "is owned by uid 65534", (char *)NULL);
    CHECK(chown(d, 0, 0) == 0);
    expect_loads(f);
    unlink(f);
    rmdir(sub);
    unlink(fmt(f, sizeof f, "%s/p.so", d));
    rmdir(d);
}

static void test_path(void)
{
    xs_plugin_path pp;
    xs_error err = {0};
    /* a relative XSELL_PLUGIN_PATH entry, anywhere in the list */
    const char *bad[] = {"plugins", "/usr/lib:plugins", "./p::/x",
                         "/a:../b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("XSELL_PLUGIN_PATH", bad[i], 1);
        memset(&err, 0, sizeof err);
        int rc = xs_plugin_path_init(&pp, NULL, &err);
        CHECK_MSG(rc == XS_ERR_USAGE && has(err.msg, "XSELL_PLUGIN_PATH") &&
                      has(err.msg, "relative"),
                  "XSELL_PLUGIN_PATH=%s: %d '%s'", bad[i], rc, err.msg);
        if (rc == XS_OK)
            xs_plugin_path_free(&pp);
        CHECK_MSG(pp.n == 0 && pp.dirs == NULL, "refused path left dirs");
    }
    unsetenv("XSELL_PLUGIN_PATH");

    /* a relative plugin directory is made absolute, once */
    char ok[128], f[256], out[4096], cwd[4096];
    fmt(ok, sizeof ok, "%s/rel", tmp);
    make_dir(ok, 0755);
    install(fmt(f, sizeof f, "%s/p.so", ok), 0644);
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    CHECK(chdir(tmp) == 0);
    int rc = xs_plugin_path_init(&pp, "rel", &err);
    CHECK(chdir(cwd) == 0);
    CHECK_MSG(rc == XS_OK, "relative plugin dir: %s", err.msg);
    if (rc == XS_OK) {
        char *real = realpath(ok, NULL);
        CHECK_MSG(pp.n >= 1 && real && !strcmp(pp.dirs[0], real),
                  "relative plugin dir: dirs[0] '%s', want '%s'",
                  pp.n ? pp.dirs[0] : "", real ? real : "");
        rc = xs_plugin_path_resolve(&pp, "p", out, sizeof out, &err);
        CHECK_MSG(rc == XS_OK, "resolve p: %s", err.msg);
        if (rc == XS_OK)
            expect_loads(out);
        free(real);
        xs_plugin_path_free(&pp);
    }
    unlink(f);
    rmdir(ok);
}

int main(void)
{
    tp_dir = getenv("XS_TEST_PLUGIN_DIR");
    if (!tp_dir || !getenv("XS_TEST_DATA")) {
        fprintf(stderr, "set XS_TEST_PLUGIN_DIR and XS_TEST_DATA (ctest "
                        "does)\n");
        return 1;
    }
    unsetenv("XSELL_PLUGIN_PATH");
    strcpy(tmp, "/tmp/xst_XXXXXX");
    if (!mkdtemp(tmp)) {
        perror("mkdtemp");
        return 1;
    }
    fmt(marker, sizeof marker, "%s/marker", tmp);
    setenv("XS_MARKER_FILE", marker, 1);
    /* the scratch directory itself must pass: ours, 0700; /tmp above it is
     * sticky */
    test_modes();
    test_owners();
    test_path();
    unlink(marker);
    rmdir(tmp);
    return xt_done();
}
