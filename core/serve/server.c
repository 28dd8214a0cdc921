/*
 * server.c -- the ZeroMQ front of the engine (xsell/server.h).
 *
 * Three shapes behind one ROUTER, all on the caller's thread:
 *   --threads 1        the worker serves the ROUTER itself (run_direct)
 *   handoff (default)  an I/O thread and an in-process queue: handoff.c
 *   --shape proxy      ROUTER [proxy loop] | DEALER --inproc--> N worker
 *                      DEALERs (run_proxy, below)
 * This file owns what they share (server_int.h): the server object, the
 * messages read off the ROUTER, and the replies sent on it, parked ones
 * included.
 *
 * Envelope: the ROUTER prepends the client's identity, a REQ client adds an
 * empty delimiter; so a request is [id, payload] or [id, "", payload] and
 * its reply goes back with the same envelope.  xs_srv_take() reads one
 * message, keeps its first three frames and closes every further frame as
 * soon as it is read; a message of any other shape is answered bad_request
 * and never passed on, and once a large one is dropped the allocator is
 * asked to give its memory back.  (ZeroMQ assembles a whole message before
 * delivering it, and ZMQ_MAXMSGSIZE bounds each frame, not their number:
 * docs/protocol.md says what that leaves.)
 *
 * The proxy loop takes each request into a slot of a fixed table (the
 * client's identity, its envelope, a reference to the payload) and sends a
 * worker [tag, payload]; the worker answers [tag, reply] and the proxy
 * sends the reply with the slot's envelope.  The table bounds the requests
 * in flight (XS_IN_FLIGHT_PER_WORKER per worker): when it is full the proxy
 * stops reading the ROUTER, and ZeroMQ's queue of each client
 * (XS_SERVER_RCVHWM), then TCP, push back.  With one worker (--threads 1)
 * there is no proxy: the worker serves the ROUTER directly on the caller's
 * thread, which saves two thread hand-offs per request.
 *
 * Replies: the ROUTER queues at most XS_SERVER_SNDHWM replies per client
 * (ZMQ_ROUTER_MANDATORY: a full queue is an EAGAIN, not a silent drop).  A
 * reply meeting a full queue is parked: kept aside, at most PARK_BYTES and
 * PARK_MAX of them for all clients, and tried again every XS_PARK_POLL_MS;
 * one not delivered within PARK_SECONDS is dropped.  So a client reading
 * its replies loses none, however many it keeps in flight (its queue
 * drains in milliseconds), and one that never reads holds at most
 * XS_SERVER_SNDHWM replies of the server's memory, plus parked ones for a
 * second.
 *
 * Stopping: xs_server_stop() writes a byte to a pipe the loop polls.  The
 * loop stops reading the ROUTER and passes replies back until nothing is in
 * flight or parked.  At the drain limit it sets `expired` (a worker then drops the
 * requests it has not started instead of answering them) and answers every
 * request still in the table `shutting_down`, reading the request's id
 * from the slot's payload reference.  The context is then shut down, which
 * wakes the idle workers with ETERM; a worker inside a request finishes it
 * first, and its reply goes nowhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <zmq.h>

#include "serve/auth.h"
#include "serve/server_int.h"

#define CLOSE_LINGER_MS 1000 /* how long the last replies may take to leave */
#define TRIM_BYTES (1 << 20) /* a dropped message this large: trim the heap */
#define PARK_MAX 4096        /* replies waiting for a full client queue */
#define PARK_BYTES (32u << 20)
#define PARK_SECONDS 1.0

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
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    s->q.wake_fd = -1; /* the queue is set up for the handoff shape only */
    const char *bind = cfg && cfg->bind ? cfg->bind : XS_DEFAULT_BIND;
    s->max_msg = cfg && cfg->max_msg > 0 ? cfg->max_msg : XS_DEFAULT_MAX_MSG;
    s->threads = cfg && cfg->threads > 0 ? cfg->threads
                                         : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (s->threads < 1)
        s->threads = 1;
    if (s->threads > 256)
        s->threads = 256;
    if (pipe(s->stop_pipe)) {
        xs_error_set(err, XS_ERR_IO, "pipe: %s", strerror(errno));
        goto fail;
    }
    fcntl(s->stop_pipe[1], F_SETFL, O_NONBLOCK);
    s->shape = cfg && cfg->shape == XS_SHAPE_PROXY && s->threads > 1
                   ? XS_SHAPE_PROXY
                   : XS_SHAPE_HANDOFF;
    s->spin_us = !cfg || cfg->spin_us == 0 ? XS_DEFAULT_SPIN_US
                 : cfg->spin_us < 0        ? 0
                                           : cfg->spin_us;
    s->ctx = zmq_ctx_new();
    if (!s->ctx) {
        zfail(err, "zmq_ctx_new");
        goto fail;
    }
    if (cfg && cfg->io_threads > 0 &&
        zmq_ctx_set(s->ctx, ZMQ_IO_THREADS, cfg->io_threads)) {
        zfail(err, "ZMQ_IO_THREADS");
        goto fail;
    }
    s->frontend = zmq_socket(s->ctx, ZMQ_ROUTER);
    if (s->shape == XS_SHAPE_PROXY)
        s->backend = zmq_socket(s->ctx, ZMQ_DEALER);
    if (!s->frontend || (s->shape == XS_SHAPE_PROXY && !s->backend)) {
        zfail(err, "zmq_socket");
        goto fail;
    }
    int linger = 0, sndhwm = XS_SERVER_SNDHWM, rcvhwm = XS_SERVER_RCVHWM;
    int mandatory = 1;
    zmq_setsockopt(s->frontend, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->frontend, ZMQ_ROUTER_MANDATORY, &mandatory,
                   sizeof mandatory);
    if (s->backend)
        zmq_setsockopt(s->backend, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s->frontend, ZMQ_MAXMSGSIZE, &s->max_msg,
                   sizeof s->max_msg);
    zmq_setsockopt(s->frontend, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm);
    zmq_setsockopt(s->frontend, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    if (cfg && cfg->curve_secret) { /* before bind: no plain connection */
        int on = 1;
        if (!cfg->clients_dir) {
            xs_error_set(err, XS_ERR_USAGE, "a CURVE key needs a clients "
                         "directory (--clients DIR)");
            goto fail;
        }
        if (xs_auth_start(s->ctx, cfg->clients_dir, &s->auth, err))
            goto fail;
        if (zmq_setsockopt(s->frontend, ZMQ_CURVE_SERVER, &on, sizeof on) ||
            zmq_setsockopt(s->frontend, ZMQ_CURVE_SECRETKEY,
                           cfg->curve_secret, 40) ||
            zmq_setsockopt(s->frontend, ZMQ_ZAP_DOMAIN, "xsell", 5)) {
            zfail(err, "CURVE");
            goto fail;
        }
        s->shared.curve = 1;
        s->shared.auth = s->auth;
    }
    s->shared.insecure = cfg && cfg->insecure;
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
    if (s->backend && zmq_bind(s->backend, s->inproc)) {
        zfail(err, "inproc bind");
        goto fail;
    }
    s->n_slots = (uint32_t)s->threads * XS_IN_FLIGHT_PER_WORKER;
    s->workers = calloc((size_t)s->threads, sizeof *s->workers);
    s->stats = calloc((size_t)s->threads + 1, sizeof *s->stats);
    s->slots = calloc(s->n_slots, sizeof *s->slots);
    s->free_slots = calloc(s->n_slots, sizeof *s->free_slots);
    s->park = calloc(PARK_MAX, sizeof *s->park);
    if (!s->workers || !s->stats || !s->slots || !s->free_slots ||
        !s->park) {
        xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < s->n_slots; i++)
        s->free_slots[i] = s->n_slots - 1 - i;
    s->n_free = s->n_slots;
    for (int i = 0; i < s->threads; i++) {
        s->workers[i].srv = s;
        s->stats[i] = &s->workers[i].stats;
    }
    s->stats[s->threads] = &s->proxy_stats;
    if (s->threads > 1 && s->shape == XS_SHAPE_HANDOFF &&
        xs_srv_queue_init(s)) {
        xs_error_set(err, XS_ERR_NOMEM, "cannot set up the workers' queue: "
                     "%s", strerror(errno));
        goto fail;
    }
    if (e && xs_server_attach(s, e, cfg, err))
        goto fail;
    return s;
fail:
    xs_server_free(s);
    return NULL;
}

int xs_server_attach(xs_server *s, xs_engine *e, const xs_server_config *cfg,
                     xs_error *err)
{
    if (s->engine || !e)
        return xs_error_set(err, XS_ERR_USAGE, s->engine
                                                   ? "the server has an engine"
                                                   : "no engine to serve");
    if (xs_engine_plugin_count(e) == 0)
        return xs_error_set(err, XS_ERR_USAGE, "no plugin loaded to serve");
    s->shared.engine = e;
    s->shared.default_plugin = cfg ? cfg->default_plugin : NULL;
    s->shared.started = xs_now();
    s->shared.stats = s->stats;
    s->shared.n_stats = s->threads + 1;
    if (cfg) {
        s->shared.commit = cfg->commit;
        s->shared.save = cfg->save;
        s->shared.persist_arg = cfg->persist_arg;
    }
    s->drain_s = !cfg || cfg->drain_s == 0 ? XS_DEFAULT_DRAIN
                 : cfg->drain_s < 0        ? 0
                                           : cfg->drain_s;
    int ok = 1;
    for (int i = 0; i < s->threads && ok; i++)
        ok = (s->workers[i].proto = xs_protocol_new(&s->shared)) != NULL;
    if (ok && s->threads > 1)
        ok = (s->proxy_proto = xs_protocol_new(&s->shared)) != NULL;
    if (!ok) {
        for (int i = 0; i < s->threads; i++) {
            xs_protocol_free(s->workers[i].proto);
            s->workers[i].proto = NULL;
        }
        s->shared.engine = NULL;
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    s->engine = e;
    return XS_OK;
}

int xs_server_reload_clients(xs_server *s, uint32_t *n_read,
                             uint32_t *n_write, xs_error *err)
{
    if (!s->auth)
        return xs_error_set(err, XS_ERR_USAGE, "the server has no CURVE "
                            "key: no clients to reload");
    return xs_auth_reload(s->auth, n_read, n_write, err);
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

/* ---- messages ------------------------------------------------------------ */

void xs_srv_message_close(xs_srv_message *m)
{
    for (int i = 0; i < m->kept; i++)
        zmq_msg_close(&m->f[i]);
    m->kept = 0;
}

/* Receives one whole message into m, keeping its first three frames and
 * closing each later one as it comes.  Returns 1, 0 when flags has
 * ZMQ_DONTWAIT and nothing is waiting, or -1 on ETERM or another error. */
int xs_srv_take(void *sock, xs_srv_message *m, int flags)
{
    m->kept = m->frames = 0;
    m->bytes = 0;
    for (;;) {
        zmq_msg_t scratch;
        zmq_msg_t *f = m->kept < 3 ? &m->f[m->kept] : &scratch;
        zmq_msg_init(f);
        /* only the first frame may be waited for: the rest are there */
        if (zmq_msg_recv(f, sock, m->frames == 0 ? flags : 0) < 0) {
            int e = errno;
            zmq_msg_close(f);
            xs_srv_message_close(m);
            return m->frames == 0 && e == EAGAIN ? 0 : -1;
        }
        int more = zmq_msg_more(f);
        m->bytes += zmq_msg_size(f);
        m->frames++;
        if (f == &scratch)
            zmq_msg_close(f);
        else
            m->kept++;
        if (!more)
            return 1;
    }
}

/* Sets *env to the frames of m's envelope (the identity, then an empty
 * delimiter if there is one) and returns whether m is a request: exactly
 * one frame after the envelope. */
int xs_srv_message_env(const xs_srv_message *m, int *env)
{
    *env = m->kept >= 2 && m->frames >= 3 && zmq_msg_size(&m->f[1]) == 0 ? 2
                                                                          : 1;
    return m->frames == *env + 1;
}

/* The bad_request reply to a message that is not one request. */
void xs_srv_refuse_shape(const xs_server *s, xs_protocol *p,
                         const xs_srv_message *m, int env, const char **reply,
                         size_t *len)
{
    char msg[160];
    snprintf(msg, sizeof msg,
             "a request is exactly one frame of at most %lld bytes (got %d "
             "frames, %zu bytes)",
             (long long)s->max_msg, m->frames - env, m->bytes);
    xs_protocol_error(p, "bad_request", msg, reply, len);
}

/* Gives the memory of a large dropped message back to the system. */
void xs_srv_trim_after(const xs_srv_message *m)
{
#ifdef __GLIBC__
    if (m->bytes >= TRIM_BYTES)
        malloc_trim(0);
#else
    (void)m;
#endif
}

/* ---- replies to clients ------------------------------------------------- */

/* Sends [ident, (""), reply] on the ROUTER without waiting.  Returns 1 when
 * the client's queue is full (nothing sent, both kept), else 0: sent, or
 * dropped because the client is gone. */
static int try_send(void *router, zmq_msg_t *ident, int delim,
                    zmq_msg_t *reply)
{
    if (zmq_msg_send(ident, router, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return errno == EAGAIN; /* EHOSTUNREACH: gone */
    if (delim)
        zmq_send(router, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_msg_send(reply, router, ZMQ_DONTWAIT);
    return 0;
}

/* Sends a reply to its client, or parks it when the client's queue is
 * full (drops it when the park is full).  ident and reply are taken: they
 * are left empty. */
void xs_srv_deliver(xs_server *s, zmq_msg_t *ident, int delim,
                    zmq_msg_t *reply)
{
    size_t len = zmq_msg_size(reply);
    if (try_send(s->frontend, ident, delim, reply) &&
        s->n_park < PARK_MAX && s->park_bytes + len <= PARK_BYTES) {
        xs_srv_parked *p = &s->park[s->n_park++];
        zmq_msg_init(&p->ident);
        zmq_msg_move(&p->ident, ident);
        zmq_msg_init(&p->reply);
        zmq_msg_move(&p->reply, reply);
        p->delim = delim;
        p->since = xs_now();
        s->park_bytes += len;
    }
    zmq_msg_close(ident);
    zmq_msg_init(ident);
    zmq_msg_close(reply);
    zmq_msg_init(reply);
}

/* xs_srv_deliver() of a copy of reply[0..len). */
void xs_srv_deliver_copy(xs_server *s, zmq_msg_t *ident, int delim,
                         const char *reply, size_t len)
{
    zmq_msg_t r;
    if (zmq_msg_init_size(&r, len)) {
        zmq_msg_close(ident);
        zmq_msg_init(ident);
        return;
    }
    memcpy(zmq_msg_data(&r), reply, len);
    xs_srv_deliver(s, ident, delim, &r);
}

/* Tries the parked replies again, oldest first; drops those parked for
 * PARK_SECONDS, and all that cannot go at once when final. */
void xs_srv_retry_parked(xs_server *s, int final)
{
    double now = xs_now();
    uint32_t w = 0;
    for (uint32_t i = 0; i < s->n_park; i++) {
        xs_srv_parked *p = &s->park[i];
        size_t len = zmq_msg_size(&p->reply);
        if (try_send(s->frontend, &p->ident, p->delim, &p->reply) &&
            !final && now - p->since < PARK_SECONDS) {
            if (w != i) {
                xs_srv_parked *q = &s->park[w];
                zmq_msg_init(&q->ident);
                zmq_msg_move(&q->ident, &p->ident);
                zmq_msg_init(&q->reply);
                zmq_msg_move(&q->reply, &p->reply);
                q->delim = p->delim;
                q->since = p->since;
                zmq_msg_close(&p->ident);
                zmq_msg_close(&p->reply);
            }
            w++;
            continue;
        }
        s->park_bytes -= len;
        zmq_msg_close(&p->ident);
        zmq_msg_close(&p->reply);
    }
    s->n_park = w;
}

void xs_srv_expired_message(const xs_server *s, char *buf, size_t size)
{
    snprintf(buf, size,
             "the server is stopping: no answer within the %.3g s drain "
             "limit (a write may or may not have been applied)",
             s->drain_s);
}

/* ---- one worker on the ROUTER (--threads 1) ------------------------------ */

/* Receives one request from the ROUTER and answers it.  Returns 0 when one
 * was served, 1 when none was waiting (ZMQ_DONTWAIT), -1 on ETERM or
 * another socket error. */
static int serve_direct(xs_srv_worker *w, void *sock, int flags)
{
    xs_srv_message m;
    int rc = xs_srv_take(sock, &m, flags);
    if (rc <= 0)
        return rc == 0 ? 1 : -1;
    double t0 = xs_now();
    const char *reply;
    size_t reply_len;
    int env, op = XS_OP_INVALID, failed = 1;
    int request = xs_srv_message_env(&m, &env);
    if (request)
        op = xs_protocol_handle(w->proto, zmq_msg_data(&m.f[env]),
                                zmq_msg_size(&m.f[env]),
                                xs_auth_role(&m.f[env]), &reply, &reply_len,
                                &failed);
    else
        xs_srv_refuse_shape(w->srv, w->proto, &m, env, &reply, &reply_len);
    /* counted before the reply leaves: a client that has its reply sees
     * the request in the next stats, whichever worker answers that */
    xs_stats_record(&w->stats, op, failed, (uint64_t)((xs_now() - t0) * 1e9));
    xs_srv_deliver_copy(w->srv, &m.f[0], env == 2, reply, reply_len);
    xs_srv_message_close(&m);
    if (!request)
        xs_srv_trim_after(&m);
    return 0;
}

/* Serves the ROUTER on the caller's thread; a stop request is taken
 * between requests, so every request taken is answered. */
static int run_direct(xs_server *s)
{
    zmq_pollitem_t items[2] = {
        {NULL, s->stop_pipe[0], ZMQ_POLLIN, 0},
        {s->frontend, 0, ZMQ_POLLIN, 0},
    };
    for (;;) {
        if (zmq_poll(items, 2, s->n_park ? XS_PARK_POLL_MS : -1) < 0) {
            if (errno == EINTR)
                continue;
            return XS_ERR_IO;
        }
        if (s->n_park)
            xs_srv_retry_parked(s, 0);
        if (items[0].revents & ZMQ_POLLIN) {
            /* every request taken is answered: let parked replies go */
            double stop_at = xs_now();
            while (s->n_park && xs_now() - stop_at < s->drain_s) {
                zmq_poll(NULL, 0, XS_PARK_POLL_MS);
                xs_srv_retry_parked(s, 0);
            }
            xs_srv_retry_parked(s, 1);
            return XS_OK;
        }
        int budget = 256; /* then look at the stop pipe again */
        while (budget-- > 0 && serve_direct(&s->workers[0], s->frontend,
                                            ZMQ_DONTWAIT) == 0)
            ;
    }
}

/* ---- workers behind the proxy -------------------------------------------- */

static void *worker_main(void *arg)
{
    xs_srv_worker *w = arg;
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
    xs_srv_message m;
    while (xs_srv_take(sock, &m, 0) > 0) { /* until ETERM */
        /* [tag, payload]; once expired, the proxy has answered it */
        if (m.frames == 2 && !atomic_load(&s->expired)) {
            double t0 = xs_now();
            const char *reply;
            size_t len;
            int failed;
            uint32_t tag[3] = {0, 0, XS_ROLE_READ};
            if (zmq_msg_size(&m.f[0]) == sizeof tag)
                memcpy(tag, zmq_msg_data(&m.f[0]), sizeof tag);
            int op = xs_protocol_handle(w->proto, zmq_msg_data(&m.f[1]),
                                        zmq_msg_size(&m.f[1]), (int)tag[2],
                                        &reply, &len, &failed);
            /* counted before the reply leaves (see serve_direct) */
            xs_stats_record(&w->stats, op, failed,
                            (uint64_t)((xs_now() - t0) * 1e9));
            if (zmq_msg_send(&m.f[0], sock, ZMQ_SNDMORE) >= 0) /* the tag */
                zmq_send(sock, reply, len, 0);
        }
        xs_srv_message_close(&m);
    }
    zmq_close(sock);
    return NULL;
}

/* ---- the proxy ----------------------------------------------------------- */

void xs_srv_slot_release(xs_server *s, uint32_t i)
{
    zmq_msg_close(&s->slots[i].ident);
    zmq_msg_close(&s->slots[i].payload);
    zmq_msg_close(&s->slots[i].reply);
    s->slots[i].used = 0;
    s->free_slots[s->n_free++] = i;
}

void xs_srv_refuse(xs_server *s, xs_srv_message *m, int env)
{
    double t0 = xs_now();
    const char *reply;
    size_t len;
    xs_srv_refuse_shape(s, s->proxy_proto, m, env, &reply, &len);
    xs_srv_deliver_copy(s, &m->f[0], env == 2, reply, len);
    xs_srv_message_close(m);
    xs_srv_trim_after(m);
    xs_stats_record(&s->proxy_stats, XS_OP_INVALID, 1,
                    (uint64_t)((xs_now() - t0) * 1e9));
}

/* Takes one message from the ROUTER: a request goes to a free slot and to
 * the workers, anything else is refused here.  Returns 0 when a message
 * was taken, 1 when none was waiting, -1 on a socket error. */
static int proxy_take(xs_server *s)
{
    xs_srv_message m;
    int rc = xs_srv_take(s->frontend, &m, ZMQ_DONTWAIT);
    if (rc <= 0)
        return rc == 0 ? 1 : -1;
    int env;
    if (!xs_srv_message_env(&m, &env)) {
        xs_srv_refuse(s, &m, env);
        return 0;
    }
    uint32_t i = s->free_slots[--s->n_free]; /* the caller saw one free */
    xs_srv_slot *sl = &s->slots[i];
    sl->used = 1;
    sl->gen++;
    sl->delim = env == 2;
    zmq_msg_init(&sl->ident);
    zmq_msg_move(&sl->ident, &m.f[0]);
    zmq_msg_init(&sl->payload);
    zmq_msg_copy(&sl->payload, &m.f[env]);
    zmq_msg_init(&sl->reply);
    /* the role is read here: a message's properties stay on this side */
    uint32_t tag[3] = {i, sl->gen, (uint32_t)xs_auth_role(&m.f[env])};
    rc = zmq_send(s->backend, tag, sizeof tag, ZMQ_SNDMORE) < 0 ||
                 zmq_msg_send(&m.f[env], s->backend, 0) < 0
             ? -1
             : 0;
    if (rc)
        xs_srv_slot_release(s, i);
    xs_srv_message_close(&m);
    return rc;
}

/* Sends one reply of the workers to its client.  Returns 0 when one was
 * passed on (or dropped, when stale), 1 when none was waiting, -1 on a
 * socket error. */
static int proxy_reply(xs_server *s)
{
    xs_srv_message m;
    int rc = xs_srv_take(s->backend, &m, ZMQ_DONTWAIT);
    if (rc <= 0)
        return rc == 0 ? 1 : -1;
    uint32_t tag[3];
    if (m.frames == 2 && zmq_msg_size(&m.f[0]) == sizeof tag) {
        memcpy(tag, zmq_msg_data(&m.f[0]), sizeof tag);
        xs_srv_slot *sl = tag[0] < s->n_slots ? &s->slots[tag[0]] : NULL;
        if (sl && sl->used && sl->gen == tag[1]) {
            xs_srv_deliver(s, &sl->ident, sl->delim, &m.f[1]);
            xs_srv_slot_release(s, tag[0]);
        }
    }
    xs_srv_message_close(&m);
    return 0;
}

void xs_srv_expire_slot(xs_server *s, xs_srv_slot *sl, const char *msg)
{
    const char *reply;
    size_t len;
    xs_protocol_refuse(s->proxy_proto, zmq_msg_data(&sl->payload),
                       zmq_msg_size(&sl->payload), "shutting_down", msg,
                       &reply, &len);
    xs_srv_deliver_copy(s, &sl->ident, sl->delim, reply, len);
}

/* The drain limit passed: every request still in flight is answered
 * shutting_down, and the workers drop those they have not started. */
static void proxy_expire(xs_server *s)
{
    atomic_store(&s->expired, 1);
    char msg[200];
    xs_srv_expired_message(s, msg, sizeof msg);
    for (uint32_t i = 0; i < s->n_slots; i++) {
        xs_srv_slot *sl = &s->slots[i];
        if (!sl->used)
            continue;
        xs_srv_expire_slot(s, sl, msg);
        xs_srv_slot_release(s, i);
    }
}

int xs_srv_start_workers(xs_server *s, void *(*fn)(void *), xs_error *err)
{
    for (int i = 0; i < s->threads; i++) {
        if (pthread_create(&s->workers[i].tid, NULL, fn, &s->workers[i])) {
            xs_server_stop(s);
            return xs_error_set(err, XS_ERR_INTERNAL,
                                "cannot start worker %d", i);
        }
        s->workers[i].started = 1;
    }
    return XS_OK;
}

static int run_proxy(xs_server *s, xs_error *err)
{
    int rc = xs_srv_start_workers(s, worker_main, err);
    zmq_pollitem_t items[3] = {
        {NULL, s->stop_pipe[0], ZMQ_POLLIN, 0},
        {s->backend, 0, ZMQ_POLLIN, 0},
        {s->frontend, 0, ZMQ_POLLIN, 0},
    };
    int stopping = 0;
    double stop_at = 0;
    for (;;) {
        int take = !stopping && s->n_free > 0;
        long timeout = s->n_park ? XS_PARK_POLL_MS : stopping ? 50 : -1;
        if (zmq_poll(items, take ? 3 : 2, timeout) < 0) {
            if (errno == EINTR)
                continue;
            if (!rc)
                rc = zfail(err, "poll");
            stopping = 1;
            break;
        }
        if (!stopping && (items[0].revents & ZMQ_POLLIN)) {
            stopping = 1;
            stop_at = xs_now();
        }
        /* replies first: they finish work already done */
        if (items[1].revents & ZMQ_POLLIN)
            while (proxy_reply(s) == 0)
                ;
        if (take && (items[2].revents & ZMQ_POLLIN)) {
            int budget = 256; /* keep replies flowing under load */
            while (budget-- > 0 && s->n_free > 0 && proxy_take(s) == 0)
                ;
        }
        if (s->n_park)
            xs_srv_retry_parked(s, 0);
        if (stopping && ((s->n_free == s->n_slots && !s->n_park) ||
                         xs_now() - stop_at >= s->drain_s))
            break;
    }
    proxy_expire(s); /* whatever is left */
    xs_srv_retry_parked(s, 1);
    return rc;
}

int xs_server_run(xs_server *s, xs_error *err)
{
    if (!s->engine)
        return xs_error_set(err, XS_ERR_USAGE,
                            "xs_server_run: no engine attached");
    int rc;
    if (s->threads == 1) {
        rc = run_direct(s);
        if (rc)
            xs_error_set(err, rc, "poll: %s", zmq_strerror(errno));
    } else if (s->shape == XS_SHAPE_PROXY) {
        rc = run_proxy(s, err);
    } else {
        rc = xs_srv_run_handoff(s, err);
    }
    /* the last replies (and the shutting_down ones) get a moment to leave
     * when the socket closes */
    int linger = CLOSE_LINGER_MS;
    zmq_setsockopt(s->frontend, ZMQ_LINGER, &linger, sizeof linger);
    return rc;
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
    xs_srv_queue_free(s);         /* stops and joins the queue's workers */
    xs_auth_stop(s->auth);        /* and the ZAP handler */
    for (int i = 0; s->workers && i < s->threads; i++)
        if (s->workers[i].started)
            pthread_join(s->workers[i].tid, NULL);
    for (uint32_t i = 0; s->slots && i < s->n_slots; i++)
        if (s->slots[i].used)
            xs_srv_slot_release(s, i);
    for (uint32_t i = 0; s->park && i < s->n_park; i++) {
        zmq_msg_close(&s->park[i].ident);
        zmq_msg_close(&s->park[i].reply);
    }
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    for (int i = 0; s->workers && i < s->threads; i++)
        xs_protocol_free(s->workers[i].proto);
    xs_protocol_free(s->proxy_proto);
    free(s->workers);
    free(s->stats);
    free(s->slots);
    free(s->free_slots);
    free(s->park);
    if (s->stop_pipe[0] >= 0)
        close(s->stop_pipe[0]);
    if (s->stop_pipe[1] >= 0)
        close(s->stop_pipe[1]);
    free(s);
}
