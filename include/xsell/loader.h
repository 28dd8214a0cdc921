/*
 * xsell/loader.h -- finding and opening plugin shared objects.
 *
 * Search order for a plugin named NAME (file NAME.so): the --plugin-dir
 * directory, then each directory of XSELL_PLUGIN_PATH (colon separated), then
 * the default: lib/xsell/plugins beside the running libxsell when it is
 * installed (wherever the prefix was moved), or, for the build tree's
 * libxsell, the build tree's plugin directory then the configured install
 * directory.  A name holding
 * a '/' is taken as a path.
 *
 * Opening first checks trust (docs/plugins.md, "Trust"): the file and every
 * directory above it must be owned by root or the effective user and
 * writable by their owner alone (directories above the file's own may be
 * sticky, like /tmp); nothing that fails is dlopen()ed.  Then it uses
 * dlopen(RTLD_NOW | RTLD_LOCAL) and checks the entry symbol, the
 * ABI (major) number, the table's size, the name and the mandatory
 * callbacks.  Every failure becomes an error message that names the file.
 */
#ifndef XSELL_LOADER_H
#define XSELL_LOADER_H

#include <stddef.h>

#include "api.h"
#include "error.h"
#include "plugin.h"

typedef struct xs_plugin_so {
    void *handle;           /* from dlopen */
    const xs_plugin *table; /* the plugin's table as this host knows it: a
                               copy (owned) of what xs_plugin_entry()
                               returned, the hooks beyond the plugin's size
                               NULL; its strings are the plugin's */
    char *path;             /* owned */
} xs_plugin_so;

/* Checks, opens and validates path.  On success fills *so (close it with
 * xs_plugin_so_close); on failure returns XS_ERR_PLUGIN with err set and
 * leaves nothing open; a file refused for trust ("refused: ...") was never
 * dlopen()ed. */
XS_API int xs_plugin_so_open(const char *path, xs_plugin_so *so, xs_error *err);
XS_API void xs_plugin_so_close(xs_plugin_so *so);

typedef struct xs_plugin_path {
    char **dirs; /* owned, in search order */
    size_t n;
} xs_plugin_path;

/* Builds the search path from plugin_dir (may be NULL; a relative one is
 * made absolute), XSELL_PLUGIN_PATH and the defaults.  A relative
 * XSELL_PLUGIN_PATH entry is refused: XS_ERR_USAGE, naming it. */
XS_API int xs_plugin_path_init(xs_plugin_path *pp, const char *plugin_dir,
                               xs_error *err);
XS_API void xs_plugin_path_free(xs_plugin_path *pp);

/* Resolves a plugin name (or a path) to a file.  Returns XS_OK with the file
 * in out, or XS_ERR_NOTFOUND with err listing where it looked. */
XS_API int xs_plugin_path_resolve(const xs_plugin_path *pp, const char *name,
                                  char *out, size_t outlen, xs_error *err);

/* Calls fn for every *.so file in the search path, first directory first,
 * files sorted by name; a name already seen in an earlier directory is
 * skipped.  Stops early and returns fn's value when it is non-zero. */
XS_API int xs_plugin_path_each(const xs_plugin_path *pp,
                               int (*fn)(const char *file, void *arg),
                               void *arg);

#endif
