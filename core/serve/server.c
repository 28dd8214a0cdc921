/*
 * server.c -- the ZeroMQ front of the engine (xsell/server.h).
 *
 *   clients (REQ/DEALER) --tcp--> ROUTER [proxy loop, caller's thread]
 *                                    |  DEALER --inproc--> N worker DEALERs
 *
 * The proxy loop moves whole messages between the ROUTER and the DEALER
 * without copying (zmq_msg_t), counting requests in flight; the DEALER
 * spreads them round-robin over the workers.  Each worker owns a protocol
 * handler (reply buffer, engine context) and answers one request at a time.
 * With one worker (--threads 1) there is no proxy: the worker serves the
 * ROUTER directly on the caller's thread, which saves two thread hand-offs
 * per request (bench/RESULTS.md measures both).
 *
 * Stopping: xs_server_stop() writes a byte to a pipe the proxy loop polls.
 * The loop then stops reading the ROUTER, keeps passing replies back until
 * nothing is in flight (or a few seconds pass), and returns; the context is
 * then shut down, which wakes the idle workers with ETERM.
 *
 * Envelope: the ROUTER prepends the client's identity, a REQ client adds an
 * empty delimiter; so a worker sees [id, payload] or [id, "", payload] and
 * replies with the same envelope.  Any other shape is answered with a
 * bad_request error.  Messages over ZMQ_MAXMSGSIZE never reach a worker:
 * ZeroMQ drops the connection that sent them.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zmq.h>

#include "serve/protocol.h"
#include "serve/stats.h"
#include "xsell/server.h"

#define MAX_FRAMES 4
#define DRAIN_SECONDS 5.0

typedef struct worker {
    struct xs_server *srv;
    pthread_t tid;
    int started;
    xs_stats stats;
    xs_protocol *proto;
} worker;

struct xs_server {
    xs_engine *engine;
    void *ctx;
    void *frontend, *backend;
    char endpoint[256];
    char inproc[64];
    int stop_pipe[2];
    int threads;
    worker *workers;
    xs_stats **stats;
    xs_protocol_shared shared;
};

static int zfail(xs_error *err, const char *what)
{
    return xs_error_set(err, XS_ERR_IO, "%s: %s", what, zmq_strerror(errno));
}

xs_server *xs_server_new(xs_engine *e, const xs_server_config *cfg,
                         xs_error *err)
{
    xs_server *s = calloc(1, sizeof *s);
    if (!s) {
        xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->engine = e;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    const char *bind = cfg && cfg->bind ? cfg->bind : XS_DEFAULT_BIND;
    int64_t max_msg = cfg && cfg->max_msg > 0 ? cfg->max_msg : XS_DEFAULT_MAX_MSG;
    s->threads = cfg && cfg->threads > 0 ? cfg->threads
                                         : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->threads < 1)
        s->threads = 1;
    if (s->threads > 256)
        s->threads = 256;
    const char *def = cfg && cfg->default_plugin ? cfg->default_plugin : NULL;
    if (xs_engine_plugin_count(e) == 0) {
        xs_error_set(err, XS_ERR_USAGE, "no plugin loaded to serve");
        goto fail;
    }
    s->shared.engine = e;
    s->shared.default_plugin = def;
    s->shared.started = xs_now();
    if (pipe(s->stop_pipe)) {
        xs_error_set(err, XS_ERR_IO, "pipe: %s", strerror(errno));
        goto fail;
    }
    fcntl(s->stop_pipe[1], F_SETFL, O_NONBLOCK);
    s->ctx = zmq_ctx_new();
    if (!s->ctx) {
        zfail(err, "zmq_ctx_new");
        goto fail;
    }
    s->frontend = zmq_socket(s->ctx, ZMQ_ROUTER);
    s->backend = zmq_socket(s->ctx, ZMQ_DEALER);
    if (!s->frontend || !s->backend) {
        zfail(err, "zmq_socket");
        goto fail;
    }
    int linger = 0;
    zmq_setsockopt(s->frontend, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->backend, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->frontend, ZMQ_MAXMSGSIZE, &max_msg, sizeof max_msg);
    if (zmq_bind(s->frontend, bind)) {
        xs_error_set(err, XS_ERR_IO, "cannot bind %s: %s", bind,
                     zmq_strerror(errno));
        goto fail;
    }
    size_t len = sizeof s->endpoint;
    if (zmq_getsockopt(s->frontend, ZMQ_LAST_ENDPOINT, s->endpoint, &len))
        snprintf(s->endpoint, sizeof s->endpoint, "%s", bind);
    snprintf(s->inproc, sizeof s->inproc, "inproc://xsell-workers-%p",
             (void *)s);
    if (zmq_bind(s->backend, s->inproc)) {
        zfail(err, "inproc bind");
        goto fail;
    }
    s->workers = calloc((size_t)s->threads, sizeof *s->workers);
    s->stats = calloc((size_t)s->threads, sizeof *s->stats);
    if (!s->workers || !s->stats) {
        xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < s->threads; i++)
        s->stats[i] = &s->workers[i].stats;
    s->shared.stats = s->stats;
    s->shared.n_stats = s->threads;
    for (int i = 0; i < s->threads; i++) {
        s->workers[i].srv = s;
        if (!(s->workers[i].proto = xs_protocol_new(&s->shared))) {
            xs_error_set(err, XS_ERR_NOMEM, "out of memory");
            goto fail;
        }
    }
    return s;
fail:
    xs_server_free(s);
    return NULL;
}

const char *xs_server_endpoint(const xs_server *s)
{
    return s->endpoint;
}

void xs_server_stop(xs_server *s)
{
    char b = 1;
    ssize_t w = write(s->stop_pipe[1], &b, 1);
    (void)w; /* a full pipe already holds a stop request */
}

/* Receives one whole message into msgs (at most MAX_FRAMES kept, the rest
 * counted and dropped).  Returns the frame count, 0 when flags has
 * ZMQ_DONTWAIT and nothing is waiting, or -1 on ETERM/error. */
static int recv_message(void *sock, zmq_msg_t *msgs, int *kept, int flags)
{
    int n = 0;
    *kept = 0;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        /* only the first frame may be waited for: the rest are there */
        if (zmq_msg_recv(&m, sock, n == 0 ? flags : 0) < 0) {
            int e = errno;
            zmq_msg_close(&m);
            for (int i = 0; i < *kept; i++)
                zmq_msg_close(&msgs[i]);
            *kept = 0;
            return n == 0 && e == EAGAIN ? 0 : -1;
        }
        int more = zmq_msg_more(&m);
        if (*kept < MAX_FRAMES)
            msgs[(*kept)++] = m;
        else
            zmq_msg_close(&m);
        n++;
        if (!more)
            return n;
    }
}

/* Receives one request from sock, answers it on sock.  Returns 0 when one
 * was served, 1 when none was waiting (flags ZMQ_DONTWAIT), -1 on ETERM or
 * another socket error. */
static int serve_one(worker *w, void *sock, int flags)
{
    zmq_msg_t f[MAX_FRAMES];
    int kept, n = recv_message(sock, f, &kept, flags);
    if (n <= 0)
        return n == 0 ? 1 : -1;
    double t0 = xs_now();
    /* envelope: identity, then an optional empty delimiter */
    int env = 1;
    if (kept >= 2 && zmq_msg_size(&f[1]) == 0 && n >= 3)
        env = 2;
    const char *reply;
    size_t reply_len;
    int op = XS_OP_INVALID, failed = 1;
    if (n == env + 1) {
        op = xs_protocol_handle(w->proto, zmq_msg_data(&f[env]),
                                zmq_msg_size(&f[env]), &reply, &reply_len,
                                &failed);
    } else {
        char msg[96];
        snprintf(msg, sizeof msg, "a request is exactly one frame (got %d)",
                 n - env);
        xs_protocol_error(w->proto, "bad_request", msg, &reply, &reply_len);
    }
    int ok = 1;
    for (int i = 0; i < env && ok; i++)
        ok = zmq_msg_send(&f[i], sock, ZMQ_SNDMORE) >= 0;
    if (ok)
        zmq_send(sock, reply, reply_len, 0);
    for (int i = ok ? env : 0; i < kept; i++)
        zmq_msg_close(&f[i]);
    xs_stats_record(&w->stats, op, failed, (uint64_t)((xs_now() - t0) * 1e9));
    return 0;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    xs_server *s = w->srv;
    void *sock = zmq_socket(s->ctx, ZMQ_DEALER);
    int linger = 0;
    if (!sock)
        return NULL;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_connect(sock, s->inproc)) {
        zmq_close(sock);
        return NULL;
    }
    while (serve_one(w, sock, 0) >= 0)
        ; /* until the context is shut down */
    zmq_close(sock);
    return NULL;
}

/* One worker: it serves the ROUTER itself on the caller's thread, without
 * the proxy hop.  A stop request is taken between requests. */
static int run_direct(xs_server *s)
{
    zmq_pollitem_t items[2] = {
        {NULL, s->stop_pipe[0], ZMQ_POLLIN, 0},
        {s->frontend, 0, ZMQ_POLLIN, 0},
    };
    for (;;) {
        if (zmq_poll(items, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return XS_ERR_IO;
        }
        if (items[0].revents & ZMQ_POLLIN)
            return XS_OK;
        int budget = 256; /* then look at the stop pipe again */
        while (budget-- > 0 && serve_one(&s->workers[0], s->frontend,
                                         ZMQ_DONTWAIT) == 0)
            ;
    }
}

/* Moves one whole message from src to dst.  Returns 0, or -1 when src
 * fails (ETERM). */
static int forward(void *src, void *dst)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, src, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return errno == EAGAIN ? 1 : -1;
        }
        int more = zmq_msg_more(&m);
        if (zmq_msg_send(&m, dst, more ? ZMQ_SNDMORE : 0) < 0)
            zmq_msg_close(&m); /* peer gone (ROUTER drops): nothing to do */
        if (!more)
            return 0;
    }
}

int xs_server_run(xs_server *s, xs_error *err)
{
    if (s->threads == 1) {
        int rc = run_direct(s);
        if (rc)
            xs_error_set(err, rc, "poll: %s", zmq_strerror(errno));
        return rc;
    }
    for (int i = 0; i < s->threads; i++) {
        if (pthread_create(&s->workers[i].tid, NULL, worker_main,
                           &s->workers[i])) {
            xs_server_stop(s);
            xs_error_set(err, XS_ERR_INTERNAL, "cannot start worker %d", i);
            break;
        }
        s->workers[i].started = 1;
    }
    zmq_pollitem_t items[3] = {
        {NULL, s->stop_pipe[0], ZMQ_POLLIN, 0},
        {s->backend, 0, ZMQ_POLLIN, 0},
        {s->frontend, 0, ZMQ_POLLIN, 0},
    };
    int64_t in_flight = 0;
    int stopping = 0;
    double stop_at = 0;
    for (;;) {
        int n_items = stopping ? 2 : 3;
        long timeout = stopping ? 100 : -1;
        if (zmq_poll(items, n_items, timeout) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (!stopping && (items[0].revents & ZMQ_POLLIN)) {
            stopping = 1;
            stop_at = xs_now();
        }
        /* replies first: they finish work already done */
        if (items[1].revents & ZMQ_POLLIN)
            while (forward(s->backend, s->frontend) == 0)
                in_flight--;
        if (!stopping && (items[2].revents & ZMQ_POLLIN)) {
            int budget = 256; /* keep replies flowing under load */
            while (budget-- > 0 && forward(s->frontend, s->backend) == 0)
                in_flight++;
        }
        if (stopping && (in_flight <= 0 || xs_now() - stop_at > DRAIN_SECONDS))
            break;
    }
    return XS_OK;
}

void xs_server_free(xs_server *s)
{
    if (!s)
        return;
    if (s->frontend)
        zmq_close(s->frontend);
    if (s->backend)
        zmq_close(s->backend);
    if (s->ctx)
        zmq_ctx_shutdown(s->ctx); /* wakes the workers with ETERM */
    for (int i = 0; s->workers && i < s->threads; i++)
        if (s->workers[i].started)
            pthread_join(s->workers[i].tid, NULL);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    for (int i = 0; s->workers && i < s->threads; i++)
        xs_protocol_free(s->workers[i].proto);
    free(s->workers);
    free(s->stats);
    if (s->stop_pipe[0] >= 0)
        close(s->stop_pipe[0]);
    if (s->stop_pipe[1] >= 0)
        close(s->stop_pipe[1]);
    free(s);
}
