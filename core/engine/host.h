/*
 * engine/host.h -- the host API table (xsell/plugin.h) over the engine's
 * store: what a plugin sees of the engine.
 *
 * Every function of the table is a thin, checked view: ids are range
 * checked, unknown scopes answer "nothing", and nothing a plugin passes in
 * can make the host read out of bounds.  push() and scratch() are the
 * result's own (engine/result.h).
 */
#ifndef XS_ENGINE_HOST_H
#define XS_ENGINE_HOST_H

#include "engine/store.h"
#include "xsell/plugin.h"

/* What a plugin holds as its host: the store, where its log goes, and its
 * own name (each plugin has its own xs_host, engine/registry.c). */
struct xs_host {
    xs_store *store;
    void (*log)(void *arg, int level, const char *msg); /* NULL: stderr */
    void *log_arg;
    const char *name; /* the plugin's, prefixed to its lines; NULL: none */
};

extern const xs_host_api xs_host_api_table;

/* Logs one line through h: "plugin NAME: message" when h has a name. */
void xs_host_log(const xs_host *h, int level, const char *fmt, ...)
    XS_PRINTF(3, 4);

#endif
