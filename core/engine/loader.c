/*
 * loader.c -- finding plugin files and opening them safely (loader.h).
 *
 * Opening is all-or-nothing: every check happens before the handle is handed
 * out, and any failure closes the handle again.  Nothing here calls the
 * plugin beyond xs_plugin_entry(): create() is the engine's business.
 *
 * The default directory follows the running libxsell (found with dladdr):
 * the build tree's plugins when it is the build tree's library, else
 * LIBDIR/xsell/plugins beside it, so an installed tree finds its plugins
 * under whatever prefix it was installed or moved to.
 *
 * Trust (docs/plugins.md, "Trust"): a plugin runs with xsell's privileges
 * from the moment dlopen() runs its constructors, so before that the file
 * and every directory above it must be owned by root or the effective user
 * and writable by their owner alone.  The file is opened (O_NONBLOCK, so a
 * FIFO cannot hang us) and checked with fstat(); its canonical path
 * (realpath) must still name that same file; the directory holding it may
 * not be group- or world-writable at all, the directories above it only
 * when sticky (like /tmp: others may add entries there but not rename
 * ours).  Then the canonical path is dlopen()ed: every component of it was
 * just checked, so only root or the user themselves could swap the file
 * between the check and the load -- the race that remains is one with
 * ourselves.  (dlopen of /proc/self/fd/N would close even that, but leaves
 * the object named by a dead descriptor for debuggers and sanitizers.)
 * Relative XSELL_PLUGIN_PATH entries are refused; a relative --plugin-dir
 * is made absolute once, when the path is built.
 */
#define _GNU_SOURCE /* dladdr */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xsell/loader.h"

/* Every ABI 3 table has the fields up to destroy(); the rest are optional
 * hooks, read only when the table's size covers them. */
#define XS_PLUGIN_MIN_SIZE offsetof(xs_plugin, catalog)

#ifndef XS_BUILD_PLUGIN_DIR
#define XS_BUILD_PLUGIN_DIR ""
#endif
#ifndef XS_INSTALL_PLUGIN_DIR
#define XS_INSTALL_PLUGIN_DIR ""
#endif
#ifndef XS_BUILD_LIB_DIR
#define XS_BUILD_LIB_DIR ""
#endif

static int valid_name(const char *s)
{
    size_t n = 0;
    if (!s || !*s)
        return 0;
    for (; s[n]; n++)
        if (!(islower((unsigned char)s[n]) || isdigit((unsigned char)s[n]) ||
              s[n] == '_' || s[n] == '-'))
            return 0;
    return n <= 32;
}

/* ---- trust --------------------------------------------------------------- */

#define XS_TRUST_HINT \
    " (a plugin runs with xsell's privileges; see \"Trust\" in docs/plugins.md)"

/* 0 when st is owned by root or the effective user and writable by its
 * owner alone (group or world write allowed when sticky_ok and the sticky
 * bit is set); else 1 with the reason in why. */
static int untrusted(const struct stat *st, int sticky_ok, char *why,
                     size_t len)
{
    uid_t me = geteuid();
    int sticky = sticky_ok && (st->st_mode & S_ISVTX);
    if (st->st_uid != 0 && st->st_uid != me)
        snprintf(why, len, "owned by uid %lu (only root and uid %lu are "
                 "trusted)", (unsigned long)st->st_uid, (unsigned long)me);
    else if ((st->st_mode & S_IWOTH) && !sticky)
        snprintf(why, len, "world-writable");
    else if ((st->st_mode & S_IWGRP) && !sticky)
        snprintf(why, len, "group-writable");
    else
        return 0;
    return 1;
}

/* Checks every directory of the canonical path canon (the file's own
 * strictly, those above it allowing the sticky bit) up to "/". */
static int check_dirs(const char *path, const char *canon, xs_error *err)
{
    char dir[4096], why[128];
    if ((size_t)snprintf(dir, sizeof dir, "%s", canon) >= sizeof dir)
        return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: path too long",
                            path);
    for (int own = 1;; own = 0) {
        char *slash = strrchr(dir, '/');
        if (!slash)
            return XS_OK;
        slash[slash == dir] = '\0'; /* "/x" -> "/" */
        struct stat st;
        if (stat(dir, &st) != 0)
            return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: %s: %s", path,
                                dir, strerror(errno));
        if (untrusted(&st, !own, why, sizeof why))
            return xs_error_set(err, XS_ERR_PLUGIN,
                                "plugin %s: refused: directory %s is %s"
                                XS_TRUST_HINT, path, dir, why);
        if (!strcmp(dir, "/"))
            return XS_OK;
    }
}

/* The trust checks on path (see the top of the file); on success *canon is
 * the canonical path to dlopen (owned by the caller). */
static int check_trust(const char *path, char **canon, xs_error *err)
{
    *canon = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: %s", path,
                            strerror(errno));
    struct stat st, again;
    char why[128];
    int bad = fstat(fd, &st);
    close(fd);
    if (bad)
        return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: %s", path,
                            strerror(errno));
    if (!S_ISREG(st.st_mode))
        return xs_error_set(err, XS_ERR_PLUGIN,
                            "plugin %s: not a regular file", path);
    if (untrusted(&st, 0, why, sizeof why))
        return xs_error_set(err, XS_ERR_PLUGIN,
                            "plugin %s: refused: the file is %s" XS_TRUST_HINT,
                            path, why);
    char *c = realpath(path, NULL);
    if (!c)
        return xs_error_set(err, errno == ENOMEM ? XS_ERR_NOMEM : XS_ERR_PLUGIN,
                            "plugin %s: %s", path, strerror(errno));
    if (stat(c, &again) != 0 || again.st_dev != st.st_dev ||
        again.st_ino != st.st_ino) {
        free(c);
        return xs_error_set(err, XS_ERR_PLUGIN,
                            "plugin %s: refused: the file changed while it "
                            "was checked", path);
    }
    int rc = check_dirs(path, c, err);
    if (rc) {
        free(c);
        return rc;
    }
    *canon = c;
    return XS_OK;
}

int xs_plugin_so_open(const char *path, xs_plugin_so *so, xs_error *err)
{
    memset(so, 0, sizeof *so);
    char *canon;
    int rc = check_trust(path, &canon, err);
    if (rc)
        return rc;
    dlerror();
    void *h = dlopen(canon, RTLD_NOW | RTLD_LOCAL);
    free(canon);
    if (!h) {
        const char *e = dlerror();
        return xs_error_set(err, XS_ERR_PLUGIN, "plugin %s: cannot load: %s",
                            path, e ? e : "unknown dlopen error");
    }
    dlerror();
    void *sym = dlsym(h, "xs_plugin_entry");
    const char *e = dlerror();
    if (e || !sym) {
        xs_error_set(err, XS_ERR_PLUGIN,
                     "plugin %s: no symbol xs_plugin_entry (%s)", path,
                     e ? e : "null symbol");
        goto fail;
    }
    /* ISO C forbids converting void* to a function pointer; POSIX requires
     * dlsym's result to allow it.  memcpy keeps -Wpedantic quiet. */
    xs_plugin_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry);
    const xs_plugin *p = entry();
    if (!p) {
        xs_error_set(err, XS_ERR_PLUGIN,
                     "plugin %s: xs_plugin_entry returned NULL", path);
        goto fail;
    }
    if (p->abi != XS_PLUGIN_ABI) {
        xs_error_set(err, XS_ERR_PLUGIN,
                     "plugin %s: ABI %u, but this xsell speaks ABI %u "
                     "(rebuild the plugin against this xsell/plugin.h)",
                     path, (unsigned)p->abi, (unsigned)XS_PLUGIN_ABI);
        goto fail;
    }
    if (p->size < XS_PLUGIN_MIN_SIZE) {
        xs_error_set(err, XS_ERR_PLUGIN,
                     "plugin %s: its table says %u bytes, less than the %zu "
                     "of every ABI %u table (set .size = sizeof(xs_plugin))",
                     path, (unsigned)p->size, (size_t)XS_PLUGIN_MIN_SIZE,
                     (unsigned)XS_PLUGIN_ABI);
        goto fail;
    }
    if (!valid_name(p->name)) {
        xs_error_set(err, XS_ERR_PLUGIN,
                     "plugin %s: invalid name (want 1-32 of [a-z0-9_-])", path);
        goto fail;
    }
    if (!p->create || !p->recommend || !p->destroy) {
        xs_error_set(err, XS_ERR_PLUGIN,
                     "plugin %s (%s): create, recommend and destroy are "
                     "required", path, p->name);
        goto fail;
    }
    /* the host's copy: as much of the table as both know, the rest NULL */
    xs_plugin *copy = calloc(1, sizeof *copy);
    so->path = strdup(path);
    if (!copy || !so->path) {
        free(copy);
        free(so->path);
        so->path = NULL;
        xs_error_set(err, XS_ERR_NOMEM, "plugin %s: out of memory", path);
        goto fail;
    }
    memcpy(copy, p, p->size < sizeof *copy ? p->size : sizeof *copy);
    copy->size = sizeof *copy;
    so->handle = h;
    so->table = copy;
    return XS_OK;
fail:
    dlclose(h);
    return err ? err->code : XS_ERR_PLUGIN;
}

void xs_plugin_so_close(xs_plugin_so *so)
{
    free((void *)so->table);
    if (so->handle)
        dlclose(so->handle);
    free(so->path);
    memset(so, 0, sizeof *so);
}

/* ---- search path --------------------------------------------------------- */

static int add_dir(xs_plugin_path *pp, const char *dir, size_t len)
{
    if (len == 0)
        return 0;
    char **d = realloc(pp->dirs, (pp->n + 1) * sizeof *d);
    if (!d)
        return -1;
    pp->dirs = d;
    if (!(d[pp->n] = strndup(dir, len)))
        return -1;
    pp->n++;
    return 0;
}

/* The directory of the running libxsell, resolved (owned by the caller), or
 * NULL when it cannot be told. */
static char *library_dir(void)
{
    static const char anchor = 0; /* any address inside libxsell */
    Dl_info info;
    if (!dladdr(&anchor, &info) || !info.dli_fname)
        return NULL;
    char *dir = realpath(info.dli_fname, NULL);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (!slash) {
        free(dir);
        return NULL;
    }
    *slash = '\0';
    return dir;
}

static int same_dir(const char *a, const char *b)
{
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
           sa.st_ino == sb.st_ino;
}

int xs_plugin_path_init(xs_plugin_path *pp, const char *plugin_dir,
                        xs_error *err)
{
    memset(pp, 0, sizeof *pp);
    int bad = 0;
    if (plugin_dir && *plugin_dir && plugin_dir[0] != '/') {
        /* relative: absolute from here on, whatever the process does to its
         * working directory later */
        char *abs = realpath(plugin_dir, NULL), cwd[4096];
        if (!abs && getcwd(cwd, sizeof cwd)) {
            size_t len = strlen(cwd) + strlen(plugin_dir) + 2;
            if ((abs = malloc(len)))
                snprintf(abs, len, "%s/%s", cwd, plugin_dir);
        }
        if (!abs)
            return xs_error_set(err, XS_ERR_USAGE,
                                "plugin directory %s: cannot make it "
                                "absolute: %s", plugin_dir, strerror(errno));
        bad |= add_dir(pp, abs, strlen(abs));
        free(abs);
    } else if (plugin_dir) {
        bad |= add_dir(pp, plugin_dir, strlen(plugin_dir));
    }
    const char *env = getenv("XSELL_PLUGIN_PATH");
    while (env && *env) {
        const char *colon = strchr(env, ':');
        size_t len = colon ? (size_t)(colon - env) : strlen(env);
        if (len && env[0] != '/') {
            xs_plugin_path_free(pp);
            return xs_error_set(err, XS_ERR_USAGE,
                                "XSELL_PLUGIN_PATH: '%.*s' is relative; its "
                                "entries must be absolute directories (a "
                                "relative one would load plugins from "
                                "wherever xsell is started)",
                                (int)(len > 200 ? 200 : len), env);
        }
        bad |= add_dir(pp, env, len);
        env = colon ? colon + 1 : NULL;
    }
    char *lib = library_dir();
    if (!lib || same_dir(lib, XS_BUILD_LIB_DIR)) { /* the build tree */
        bad |= add_dir(pp, XS_BUILD_PLUGIN_DIR, strlen(XS_BUILD_PLUGIN_DIR));
        bad |= add_dir(pp, XS_INSTALL_PLUGIN_DIR, strlen(XS_INSTALL_PLUGIN_DIR));
    } else { /* installed: LIBDIR/xsell/plugins beside libxsell */
        size_t len = strlen(lib) + sizeof "/xsell/plugins";
        char *dir = malloc(len);
        if (dir)
            snprintf(dir, len, "%s/xsell/plugins", lib);
        bad |= !dir || add_dir(pp, dir, strlen(dir));
        free(dir);
    }
    free(lib);
    if (bad) {
        xs_plugin_path_free(pp);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    return XS_OK;
}

void xs_plugin_path_free(xs_plugin_path *pp)
{
    for (size_t i = 0; i < pp->n; i++)
        free(pp->dirs[i]);
    free(pp->dirs);
    memset(pp, 0, sizeof *pp);
}

int xs_plugin_path_resolve(const xs_plugin_path *pp, const char *name,
                           char *out, size_t outlen, xs_error *err)
{
    struct stat st;
    if (strchr(name, '/')) {
        if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
            return xs_error_set(err, XS_ERR_USAGE, "plugin path too long");
        return XS_OK;
    }
    if (!valid_name(name))
        return xs_error_set(err, XS_ERR_USAGE,
                            "'%s' is not a plugin name (want [a-z0-9_-])",
                            name);
    /* as much of the list as the error message holds; whole directories
     * only, "..." when some are left out */
    char looked[400] = "";
    size_t used = 0;
    for (size_t i = 0; i < pp->n; i++) {
        if ((size_t)snprintf(out, outlen, "%s/%s.so", pp->dirs[i], name) >=
            outlen)
            continue;
        if (stat(out, &st) == 0 && S_ISREG(st.st_mode))
            return XS_OK;
        if (used == SIZE_MAX)
            continue;
        if (used + strlen(pp->dirs[i]) + 7 < sizeof looked) {
            used += (size_t)snprintf(looked + used, sizeof looked - used,
                                     "%s%s", used ? ", " : "", pp->dirs[i]);
        } else {
            snprintf(looked + used, sizeof looked - used, "%s...",
                     used ? ", " : "");
            used = SIZE_MAX;
        }
    }
    return xs_error_set(err, XS_ERR_NOTFOUND,
                        "no plugin '%s' (looked in: %s; see --plugin-dir and "
                        "XSELL_PLUGIN_PATH)", name, looked);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the regular *.so files in dir (owned by the caller),
 * or NULL with *n = 0 when it cannot be read. */
static char **list_plugins(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        char full[4096];
        struct stat st;
        if (len < 4 || strcmp(de->d_name + len - 3, ".so") ||
            (size_t)snprintf(full, sizeof full, "%s/%s", dir, de->d_name) >=
                sizeof full ||
            stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue; /* only regular files are plugins */
        char **nn = realloc(names, (*n + 1) * sizeof *nn);
        if (!nn)
            break;
        names = nn;
        if ((names[*n] = strdup(de->d_name)))
            (*n)++;
    }
    closedir(d);
    if (names)
        qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

int xs_plugin_path_each(const xs_plugin_path *pp,
                        int (*fn)(const char *file, void *arg), void *arg)
{
    int rc = 0;
    for (size_t i = 0; i < pp->n && rc == 0; i++) {
        size_t n;
        char **names = list_plugins(pp->dirs[i], &n);
        for (size_t j = 0; j < n; j++) {
            /* hidden by a file of the same name in an earlier directory? */
            int hidden = 0;
            char file[4096];
            struct stat st;
            for (size_t k = 0; k < i && !hidden; k++)
                hidden = (size_t)snprintf(file, sizeof file, "%s/%s",
                                          pp->dirs[k], names[j]) <
                             sizeof file &&
                         stat(file, &st) == 0 && S_ISREG(st.st_mode);
            if (!hidden && rc == 0 &&
                (size_t)snprintf(file, sizeof file, "%s/%s", pp->dirs[i],
                                 names[j]) < sizeof file)
                rc = fn(file, arg);
            free(names[j]);
        }
        free(names);
    }
    return rc;
}
