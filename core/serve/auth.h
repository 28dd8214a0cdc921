/*
 * serve/auth.h -- who may connect, and what they may do: the ZAP handler
 * behind a CURVE server socket, and the roles of the keys it knows.
 *
 * The clients directory holds public keys (Z85 text, one per file, as
 * `xsell keygen` writes them):
 *
 *     DIR/read/NAME.pub    recommend, rules, stats, health, plugins
 *     DIR/write/NAME.pub   every op
 *
 * libzmq sends each CURVE handshake to the ZAP endpoint
 * (inproc://zeromq.zap.01) of the socket's context; the handler answers
 * 200 with the user id "read:NAME" or "write:NAME" for a known key (write
 * wins when a key is in both) and 400 otherwise, which ends the
 * connection before any request.  Every message from the connection then
 * carries the user id ("User-Id" property): xs_auth_role reads the role
 * from it.
 *
 * Threads: the handler runs on its own thread; xs_auth_reload may run on
 * any other (SIGHUP): the key table is swapped under a mutex.
 */
#ifndef XS_SERVE_AUTH_H
#define XS_SERVE_AUTH_H

#include <stdint.h>

#include <zmq.h>

#include "xsell/error.h"

enum { XS_ROLE_READ = 1, XS_ROLE_WRITE = 2 };

typedef struct xs_auth xs_auth;

/* Loads DIR's keys, binds the ZAP endpoint in ctx and starts the handler.
 * XS_ERR_USAGE when DIR has no read/ or write/ folder with a key, or a
 * file there is not a key (named). */
int xs_auth_start(void *ctx, const char *dir, xs_auth **out, xs_error *err);
/* Reads DIR again; on failure the old keys stay.  *n_read, *n_write
 * (may be NULL) receive the counts loaded. */
int xs_auth_reload(xs_auth *a, uint32_t *n_read, uint32_t *n_write,
                   xs_error *err);
/* Handshakes refused so far. */
uint64_t xs_auth_refused(xs_auth *a);
/* Stops the handler: call after zmq_ctx_shutdown (its socket gets ETERM),
 * before zmq_ctx_term. */
void xs_auth_stop(xs_auth *a);

/* The role of the connection a message came from: XS_ROLE_WRITE without
 * CURVE (no user id), else what the handler said. */
int xs_auth_role(zmq_msg_t *m);

#endif
