/*
 * server_int.h -- what the shapes of the server share (server.c).
 *
 * server.c owns the server object, the ROUTER, the messages read off it and
 * the replies sent on it (parked ones included), and the two shapes that
 * need no hand-off: direct (one thread) and the proxy.  handoff.c is the
 * default shape: one I/O thread owns the ROUTER and hands requests to
 * worker threads through an in-process queue.  A ZeroMQ socket is used by
 * one thread only: every function here that takes the server touches the
 * ROUTER and runs on the thread that owns it.
 */
#ifndef XS_SERVER_INT_H
#define XS_SERVER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <zmq.h>

#include "serve/auth.h"
#include "serve/protocol.h"
#include "serve/stats.h"
#include "xsell/server.h"

#define XS_IN_FLIGHT_PER_WORKER 64
#define XS_PARK_POLL_MS 2

typedef struct xs_srv_worker {
    struct xs_server *srv;
    pthread_t tid;
    int started;
    xs_stats stats;
    xs_protocol *proto;
} xs_srv_worker;

/* A reply waiting for room in its client's queue. */
typedef struct xs_srv_parked {
    zmq_msg_t ident;
    zmq_msg_t reply;
    int delim;
    double since;
} xs_srv_parked;

/* A request in flight through the proxy or the hand-off queue. */
typedef struct xs_srv_slot {
    zmq_msg_t ident;   /* the client's routing id */
    zmq_msg_t payload; /* the request (proxy: a reference, for its id) */
    zmq_msg_t reply;   /* handoff: the worker's reply */
    uint32_t gen;      /* proxy: bumped at each use, a stale tag never
                          matches */
    int role;          /* handoff: read on the I/O thread */
    int delim;         /* the request came after an empty delimiter */
    int used;
    int working;       /* handoff: a worker has it (under the queue's
                          mutex) */
} xs_srv_slot;

/* The hand-off queue (handoff.c); its rings hold slot indices and never
 * overflow: the slots bound them. */
typedef struct xs_srv_queue {
    pthread_mutex_t mu;
    pthread_cond_t work; /* todo became non-empty, or quit */
    uint32_t *todo, todo_head;
    _Atomic uint32_t todo_n;
    uint32_t *done;
    _Atomic uint32_t done_n;
    uint32_t *scratch; /* the I/O thread's: a batch of slot indices */
    int sleeping; /* workers waiting on `work` */
    int quit;
    int wake_fd;            /* eventfd the I/O thread polls; -1 */
    atomic_int io_waiting;  /* the I/O thread may block in poll */
    int ready;              /* mu and work initialised */
} xs_srv_queue;

struct xs_server {
    xs_engine *engine; /* NULL until attached */
    void *ctx;
    void *frontend, *backend;
    char endpoint[256];
    char inproc[64];
    int stop_pipe[2];
    int threads;
    int shape;  /* XS_SHAPE_* */
    int spin_us;     /* handoff: how long an idle worker spins */
    int64_t max_msg;
    double drain_s;
    xs_srv_worker *workers;
    xs_stats **stats;         /* the workers', then the front's */
    xs_stats proxy_stats;     /* messages the front refused itself */
    xs_protocol *proxy_proto; /* the front's own replies; threads > 1 */
    xs_srv_slot *slots;       /* n_slots; free ones listed in free_slots */
    uint32_t *free_slots, n_free, n_slots;
    atomic_int expired;       /* the drain limit passed */
    xs_auth *auth;            /* the ZAP handler; NULL without CURVE */
    xs_srv_parked *park;      /* n_park replies, oldest first */
    uint32_t n_park;
    size_t park_bytes;
    xs_srv_queue q;
    xs_protocol_shared shared;
};

/* One message as read: its first frames and its size. */
typedef struct xs_srv_message {
    zmq_msg_t f[3];
    int kept;     /* frames held in f */
    int frames;   /* frames of the whole message */
    size_t bytes; /* bytes of the whole message */
} xs_srv_message;

void xs_srv_message_close(xs_srv_message *m);
/* Receives one whole message; 1, 0 when flags has ZMQ_DONTWAIT and none
 * is waiting, -1 on ETERM or another error. */
int xs_srv_take(void *sock, xs_srv_message *m, int flags);
/* *env: the envelope's frames; returns whether m is one request. */
int xs_srv_message_env(const xs_srv_message *m, int *env);
/* The bad_request reply to a message that is not one request. */
void xs_srv_refuse_shape(const struct xs_server *s, xs_protocol *p,
                         const xs_srv_message *m, int env,
                         const char **reply, size_t *len);
void xs_srv_trim_after(const xs_srv_message *m);
/* Sends a reply to its client or parks it; ident and reply are taken. */
void xs_srv_deliver(struct xs_server *s, zmq_msg_t *ident, int delim,
                    zmq_msg_t *reply);
void xs_srv_deliver_copy(struct xs_server *s, zmq_msg_t *ident, int delim,
                         const char *reply, size_t len);
void xs_srv_retry_parked(struct xs_server *s, int final);
/* Closes slot i's messages and lists it free. */
void xs_srv_slot_release(struct xs_server *s, uint32_t i);
/* The message of a shutting_down reply at the drain limit. */
void xs_srv_expired_message(const struct xs_server *s, char *buf,
                            size_t size);
/* Answers slot sl's request shutting_down (msg: xs_srv_expired_message);
 * the slot stays used. */
void xs_srv_expire_slot(struct xs_server *s, xs_srv_slot *sl,
                        const char *msg);
/* Answers (and counts as invalid) a message of the wrong shape taken off
 * the ROUTER, and closes it. */
void xs_srv_refuse(struct xs_server *s, xs_srv_message *m, int env);
/* Starts s->threads workers running fn(&s->workers[i]); on a failure
 * stops the server (the started ones finish) and returns the error. */
int xs_srv_start_workers(struct xs_server *s, void *(*fn)(void *),
                         xs_error *err);

/* handoff.c */
int xs_srv_queue_init(struct xs_server *s);
int xs_srv_run_handoff(struct xs_server *s, xs_error *err);
/* Stops and joins the workers; called by xs_server_free. */
void xs_srv_queue_free(struct xs_server *s);

#endif
