/*
 * xsell/server.h -- serving an engine over ZeroMQ: a ROUTER socket in
 * front, worker threads behind, msgpack requests and replies
 * (docs/protocol.md).
 *
 * Life cycle: xs_server_new() binds (so the endpoint is known and errors
 * come early, before a long load: pass no engine, then hand it over with
 * xs_server_attach()); xs_server_run() serves on the calling thread until
 * xs_server_stop(); then it stops reading requests, lets the workers answer
 * every request already taken, answers those still unanswered after
 * drain_s with a `shutting_down` error, and returns.  xs_server_free()
 * releases everything; the engine stays the caller's.
 *
 * Bounds (docs/protocol.md, Limits): a request is one frame after the
 * envelope, of at most max_msg bytes; a message of more frames is refused
 * as it is read.  Each client has at most XS_SERVER_RCVHWM requests and
 * XS_SERVER_SNDHWM replies queued; a reply finding its client's queue full
 * waits aside (32 MiB at most for all clients) and is dropped after a
 * second, so a client that never reads holds at most XS_SERVER_SNDHWM
 * replies of the server's memory for long.
 */
#ifndef XSELL_SERVER_H
#define XSELL_SERVER_H

#include <stdint.h>

#include "api.h"
#include "engine.h"
#include "error.h"

#define XS_DEFAULT_BIND "tcp://127.0.0.1:5555"
#define XS_DEFAULT_MAX_MSG (1 << 20)
#define XS_DEFAULT_DRAIN 5.0  /* seconds */
#define XS_SERVER_SNDHWM 16   /* replies queued per client */
#define XS_SERVER_RCVHWM 64   /* requests queued per client */
#define XS_DEFAULT_SPIN_US 0 /* a spinning worker takes the core from the
                                 I/O thread when cores are few */

typedef struct xs_server_config {
    const char *bind;           /* NULL: XS_DEFAULT_BIND */
    int threads;                /* worker threads; 0: one per core */
    const char *default_plugin; /* for requests without "plugin"; NULL:
                                   the blend of all loaded plugins */
    int64_t max_msg;            /* ZMQ_MAXMSGSIZE; 0: XS_DEFAULT_MAX_MSG */
    double drain_s;             /* how long a stop waits for requests taken;
                                   0: XS_DEFAULT_DRAIN; < 0: no wait */
    /* Durability (xsell/datadir.h), all NULL without a data dir: commit is
     * called after a write (ingest, catalog) is applied and before its
     * reply, and returns once the write is as durable as promised (an
     * error replies "internal": applied, not known durable); save answers
     * the `save` op. */
    int (*commit)(void *arg, xs_error *err);
    int (*save)(void *arg, xs_image_info *info, xs_error *err);
    void *persist_arg;
    /* Authentication (read by xs_server_new): with curve_secret (the
     * server's secret key, 40 characters of Z85), the socket is a CURVE
     * server and only the public keys of clients_dir/read/ and
     * clients_dir/write/ get in; read keys may not `ingest`, `catalog` or
     * `save` (`forbidden`).  NULL: plain TCP, every client may do all. */
    const char *curve_secret;
    const char *clients_dir;
    int insecure; /* reported by `stats`: bound beyond loopback without
                     keys, on purpose (--insecure) */
    /* How requests reach the workers (threads > 1): XS_SHAPE_HANDOFF (0,
     * the default) or XS_SHAPE_PROXY; with one thread the worker serves
     * the socket itself whatever the shape. */
    int shape;
    int io_threads; /* ZeroMQ I/O threads; 0: 1 */
    int spin_us;    /* handoff: how long an idle worker looks for work
                       before it sleeps; 0: XS_DEFAULT_SPIN_US, < 0: none */
} xs_server_config;

#define XS_SHAPE_HANDOFF 0 /* one I/O thread owns the ROUTER and hands
                              requests to the workers through a queue */
#define XS_SHAPE_PROXY 1   /* a proxy loop passes requests to worker
                              sockets over inproc:// */

typedef struct xs_server xs_server;

/* Creates the sockets and binds.  The engine must outlive the server and
 * have its plugins loaded; e NULL: bind only, xs_server_attach() gives the
 * engine later (requests sent meanwhile wait).  NULL with err set on
 * failure. */
XS_API xs_server *xs_server_new(xs_engine *e, const xs_server_config *cfg,
                                xs_error *err);
/* Gives a server made without an engine its engine and what cfg says
 * beyond the sockets (default_plugin, drain_s, the durability hooks; bind,
 * max_msg and threads stay those given to xs_server_new).  Once only, before
 * xs_server_run.  Returns XS_OK or an error code with err set. */
XS_API int xs_server_attach(xs_server *s, xs_engine *e,
                            const xs_server_config *cfg, xs_error *err);
/* Reads the clients directory again (SIGHUP): keys added or removed take
 * effect for the next handshake; connections already in keep their role.
 * On failure the old keys stay.  XS_ERR_USAGE without CURVE. */
XS_API int xs_server_reload_clients(xs_server *s, uint32_t *n_read,
                                    uint32_t *n_write, xs_error *err);

/* CURVE key files: NAME.key (the secret key, mode 0600) and NAME.pub (the
 * public key), each one line of Z85 text.  keygen refuses to overwrite
 * either; pub (may be NULL) receives the public key. */
XS_API int xs_curve_keygen(const char *name, char pub[41], xs_error *err);
/* Reads a key file into z85 (40 characters and a NUL).  A secret key
 * (secret != 0) that group or others may read is refused (XS_ERR_USAGE). */
XS_API int xs_curve_key_read(const char *path, int secret, char z85[41],
                             xs_error *err);

/* The endpoint actually bound ("tcp://127.0.0.1:40123" for port *). */
XS_API const char *xs_server_endpoint(const xs_server *s);
/* Serves until xs_server_stop; returns XS_OK or an error code.  A stop
 * asked before it is called makes it return at once. */
XS_API int xs_server_run(xs_server *s, xs_error *err);
/* Asks a running server to stop.  Async-signal-safe (one write to a
 * pipe), callable from any thread or a signal handler. */
XS_API void xs_server_stop(xs_server *s);
XS_API void xs_server_free(xs_server *s);

#endif
