/*
 * xsell/server.h -- serving an engine over ZeroMQ: a ROUTER socket in
 * front, worker threads behind, msgpack requests and replies
 * (docs/protocol.md).
 *
 * Life cycle: xs_server_new() binds (so the endpoint is known and errors
 * come early); xs_server_run() serves on the calling thread until
 * xs_server_stop(); then it stops reading requests, lets the workers answer
 * every request already taken, and returns.  xs_server_free() releases
 * everything; the engine stays the caller's.
 */
#ifndef XSELL_SERVER_H
#define XSELL_SERVER_H

#include <stdint.h>

#include "api.h"
#include "engine.h"
#include "error.h"

#define XS_DEFAULT_BIND "tcp://127.0.0.1:5555"
#define XS_DEFAULT_MAX_MSG (1 << 20)

typedef struct xs_server_config {
    const char *bind;           /* NULL: XS_DEFAULT_BIND */
    int threads;                /* worker threads; 0: one per core */
    const char *default_plugin; /* for requests without "plugin"; NULL:
                                   the blend of all loaded plugins */
    int64_t max_msg;            /* ZMQ_MAXMSGSIZE; 0: XS_DEFAULT_MAX_MSG */
} xs_server_config;

typedef struct xs_server xs_server;

/* Creates the sockets and binds.  The engine must outlive the server and
 * have its plugins loaded.  NULL with err set on failure. */
XS_API xs_server *xs_server_new(xs_engine *e, const xs_server_config *cfg,
                                xs_error *err);
/* The endpoint actually bound ("tcp://127.0.0.1:40123" for port *). */
XS_API const char *xs_server_endpoint(const xs_server *s);
/* Serves until xs_server_stop; returns XS_OK or an error code. */
XS_API int xs_server_run(xs_server *s, xs_error *err);
/* Asks a running server to stop.  Async-signal-safe (one write to a
 * pipe), callable from any thread or a signal handler. */
XS_API void xs_server_stop(xs_server *s);
XS_API void xs_server_free(xs_server *s);

#endif
