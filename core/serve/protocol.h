/*
 * protocol.h -- the wire protocol: one msgpack request in, one msgpack
 * reply out (docs/protocol.md).  Transport-free, so it is tested without
 * sockets; the server calls it from its worker threads.
 *
 * A handler belongs to one thread: it owns the reply buffer, the engine
 * context and scratch arrays, all reused from request to request.
 */
#ifndef XS_PROTOCOL_H
#define XS_PROTOCOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "serve/stats.h"
#include "xsell/engine.h"

#define XS_MAX_ITEMS 1000  /* items or exclude entries in one recommend */
#define XS_MAX_DEPTH 8     /* msgpack nesting accepted */
#define XS_MAX_RULES 10000 /* rules in one reply */

/* What all handlers share; owned by the server. */
typedef struct xs_protocol_shared {
    xs_engine *engine;
    const char *default_plugin; /* for requests without "plugin"; NULL:
                                   the blend */
    xs_stats **stats;           /* every worker's counters, for "stats" */
    int n_stats;
    double started;             /* monotonic seconds at start */
    int (*commit)(void *arg, xs_error *err); /* NULL: no data dir */
    int (*save)(void *arg, xs_image_info *info, xs_error *err);
    void *persist_arg;
    /* authentication, for `stats` and the role check */
    int curve, insecure;
    struct xs_auth *auth;          /* NULL without CURVE */
    _Atomic uint64_t forbidden;    /* requests refused for their role */
} xs_protocol_shared;

typedef struct xs_protocol xs_protocol;

xs_protocol *xs_protocol_new(const xs_protocol_shared *sh);
void xs_protocol_free(xs_protocol *p);

/* Handles one request from a client of the given role (serve/auth.h:
 * a read role gets `forbidden` for the ops that write).  *reply points at the reply (owned by p, valid until
 * the next call).  Returns the op (XS_OP_INVALID when unreadable) and sets
 * *failed when the reply is an error. */
int xs_protocol_handle(xs_protocol *p, const void *req, size_t len,
                       int role, const char **reply, size_t *reply_len,
                       int *failed);

/* An error reply without a request (transport-level problems such as a
 * multi-frame message). */
void xs_protocol_error(xs_protocol *p, const char *code, const char *msg,
                       const char **reply, size_t *reply_len);

/* An error reply to a request that will not be handled (the server is
 * stopping): the request is read only for its "id", which the reply
 * echoes when there is one. */
void xs_protocol_refuse(xs_protocol *p, const void *req, size_t len,
                        const char *code, const char *msg,
                        const char **reply, size_t *reply_len);

/* Monotonic clock in seconds. */
double xs_now(void);

#endif
