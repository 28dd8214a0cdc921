/*
 * handoff.c -- the default shape of the server (XS_SHAPE_HANDOFF): one I/O
 * thread owns the ROUTER; worker threads take requests from an in-process
 * queue, not from a socket.
 *
 *   clients --tcp--> ROUTER  [I/O thread: reads, sends; never serves]
 *                      |  todo ring (mutex, condvar)      ^ done list
 *                      v                                  |  (eventfd)
 *                   workers 0..N-1  ----------------------+
 *
 * Why: behind the proxy a request crossed two inproc ZeroMQ pipes, each a
 * mailbox signal and a thread wake-up; here a request is a slot index
 * moved under a mutex, a worker is woken only when one sleeps and the
 * queue holds work, and the I/O thread only when it blocks in poll.
 * (bench/serve/run.sh measures the shapes; on 2 cores, the I/O thread
 * serving requests itself between reads won nothing measurable, and it
 * would hold every reply and the stop behind a slow request.)
 *
 * The I/O thread, each turn: sends every finished reply (one lock takes
 * the whole done list), reads up to 256 messages off the ROUTER into slots
 * and queues them with one lock, retries parked replies, then polls.
 * Before it polls it raises io_waiting and rechecks the done list; a
 * worker that finishes a request writes the eventfd only if it finds
 * io_waiting raised (and clears it), so no wake-up is lost and a busy I/O
 * thread is not signalled.  An idle worker looks at the queue for spin_us
 * (default 0: spinning takes the core from the I/O thread when cores are
 * few) before it sleeps on the condvar.
 *
 * Ownership: a slot (server_int.h) belongs to the I/O thread while it is
 * free, queued or done; to one worker from its pop to its push on the done
 * list (`working`, both under the mutex).  The worker reads the payload
 * and writes the slot's reply, nothing else; only the I/O thread touches
 * the ROUTER and the identity.  The role is read on the I/O thread, from
 * the message as it came off the socket.
 *
 * Bounds, stats, stopping: as the proxy (server.c).  The slots bound the
 * requests in flight (XS_IN_FLIGHT_PER_WORKER per thread) and the rings
 * hold slot indices, so they never overflow; with no free slot the ROUTER
 * is not read.  A request is counted in its worker's stats before its
 * reply is handed on.  At a stop the ROUTER is no longer read and replies
 * flow until no slot is used; at the drain limit `expired` is set,
 * finished replies go, and every other slot is answered shutting_down: a
 * queued one is taken off the queue, a working one keeps its slot until
 * xs_server_free has joined its worker (its reply goes nowhere).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "serve/auth.h"
#include "serve/server_int.h"

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

int xs_srv_queue_init(xs_server *s)
{
    xs_srv_queue *q = &s->q;
    q->wake_fd = -1;
    q->todo = calloc(s->n_slots, sizeof *q->todo);
    q->done = calloc(s->n_slots, sizeof *q->done);
    q->scratch = calloc(s->n_slots, sizeof *q->scratch);
    if (!q->todo || !q->done || !q->scratch) {
        errno = ENOMEM;
        return -1;
    }
    q->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (q->wake_fd < 0)
        return -1;
    if (pthread_mutex_init(&q->mu, NULL))
        return -1;
    if (pthread_cond_init(&q->work, NULL)) {
        pthread_mutex_destroy(&q->mu);
        return -1;
    }
    q->ready = 1;
    return 0;
}

void xs_srv_queue_free(xs_server *s)
{
    xs_srv_queue *q = &s->q;
    if (q->ready) {
        pthread_mutex_lock(&q->mu);
        q->quit = 1;
        pthread_cond_broadcast(&q->work);
        pthread_mutex_unlock(&q->mu);
        for (int i = 0; s->workers && i < s->threads; i++)
            if (s->workers[i].started) {
                pthread_join(s->workers[i].tid, NULL);
                s->workers[i].started = 0;
            }
        pthread_cond_destroy(&q->work);
        pthread_mutex_destroy(&q->mu);
        q->ready = 0;
    }
    if (q->wake_fd >= 0)
        close(q->wake_fd);
    q->wake_fd = -1;
    free(q->todo);
    free(q->done);
    free(q->scratch);
    q->todo = q->done = q->scratch = NULL;
}

/* Pops the oldest queued slot; the caller holds the mutex, todo_n > 0. */
static uint32_t pop_locked(xs_server *s)
{
    xs_srv_queue *q = &s->q;
    uint32_t i = q->todo[q->todo_head];
    q->todo_head = (q->todo_head + 1) % s->n_slots;
    atomic_fetch_sub(&q->todo_n, 1);
    return i;
}

/* A worker's next slot, marked working; 0 when the server is quitting. */
static int next_slot(xs_server *s, uint32_t *i)
{
    xs_srv_queue *q = &s->q;
    if (s->spin_us > 0 && atomic_load_explicit(&q->todo_n,
                                               memory_order_relaxed) == 0) {
        double until = xs_now() + s->spin_us * 1e-6;
        while (atomic_load_explicit(&q->todo_n, memory_order_relaxed) == 0 &&
               xs_now() < until)
            for (int k = 0; k < 16; k++)
                cpu_relax();
    }
    pthread_mutex_lock(&q->mu);
    while (!q->quit && atomic_load(&q->todo_n) == 0) {
        q->sleeping++;
        pthread_cond_wait(&q->work, &q->mu);
        q->sleeping--;
    }
    int ok = !q->quit;
    if (ok) {
        *i = pop_locked(s);
        s->slots[*i].working = 1;
    }
    pthread_mutex_unlock(&q->mu);
    return ok;
}

/* Answers sl's request with w's protocol; counted in w's stats before the
 * reply is handed on. */
static void handle(xs_srv_worker *w, xs_srv_slot *sl, const char **reply,
                   size_t *len)
{
    double t0 = xs_now();
    int failed = 1;
    int op = xs_protocol_handle(w->proto, zmq_msg_data(&sl->payload),
                                zmq_msg_size(&sl->payload), sl->role, reply,
                                len, &failed);
    xs_stats_record(&w->stats, op, failed, (uint64_t)((xs_now() - t0) * 1e9));
}

static void *worker_main(void *arg)
{
    xs_srv_worker *w = arg;
    xs_server *s = w->srv;
    xs_srv_queue *q = &s->q;
    uint32_t i;
    while (next_slot(s, &i)) {
        xs_srv_slot *sl = &s->slots[i];
        /* once expired, the I/O thread has answered it */
        if (!atomic_load(&s->expired)) {
            const char *reply;
            size_t len;
            handle(w, sl, &reply, &len);
            /* a failed copy leaves the reply empty: nothing is sent */
            if (zmq_msg_init_size(&sl->reply, len) == 0)
                memcpy(zmq_msg_data(&sl->reply), reply, len);
            else
                zmq_msg_init(&sl->reply);
        }
        pthread_mutex_lock(&q->mu);
        sl->working = 0;
        q->done[atomic_load(&q->done_n)] = i;
        atomic_fetch_add(&q->done_n, 1);
        pthread_mutex_unlock(&q->mu);
        if (atomic_exchange(&q->io_waiting, 0)) {
            uint64_t one = 1;
            ssize_t r = write(q->wake_fd, &one, sizeof one);
            (void)r; /* a full counter already wakes the poll */
        }
    }
    return NULL;
}

/* Sends every finished reply, in the order the workers finished them. */
static void send_done(xs_server *s)
{
    xs_srv_queue *q = &s->q;
    if (atomic_load(&q->done_n) == 0)
        return;
    pthread_mutex_lock(&q->mu);
    uint32_t n = atomic_load(&q->done_n);
    memcpy(q->scratch, q->done, n * sizeof *q->done);
    atomic_store(&q->done_n, 0);
    pthread_mutex_unlock(&q->mu);
    for (uint32_t k = 0; k < n; k++) {
        xs_srv_slot *sl = &s->slots[q->scratch[k]];
        if (zmq_msg_size(&sl->reply) > 0)
            xs_srv_deliver(s, &sl->ident, sl->delim, &sl->reply);
        xs_srv_slot_release(s, q->scratch[k]);
    }
}

/* Reads up to 256 messages off the ROUTER while slots are free: requests
 * are queued (one lock for all), anything else is refused here. */
static void take_batch(xs_server *s)
{
    xs_srv_queue *q = &s->q;
    uint32_t n = 0;
    for (int budget = 256; budget > 0 && s->n_free > 0; budget--) {
        xs_srv_message m;
        if (xs_srv_take(s->frontend, &m, ZMQ_DONTWAIT) <= 0)
            break;
        int env;
        if (!xs_srv_message_env(&m, &env)) {
            xs_srv_refuse(s, &m, env);
            continue;
        }
        uint32_t i = s->free_slots[--s->n_free];
        xs_srv_slot *sl = &s->slots[i];
        sl->used = 1;
        sl->working = 0;
        sl->delim = env == 2;
        sl->role = xs_auth_role(&m.f[env]);
        zmq_msg_init(&sl->ident);
        zmq_msg_move(&sl->ident, &m.f[0]);
        zmq_msg_init(&sl->payload);
        zmq_msg_move(&sl->payload, &m.f[env]);
        zmq_msg_init(&sl->reply);
        xs_srv_message_close(&m);
        q->scratch[n++] = i;
    }
    if (!n)
        return;
    pthread_mutex_lock(&q->mu);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t at = (q->todo_head + atomic_load(&q->todo_n)) % s->n_slots;
        q->todo[at] = q->scratch[k];
        atomic_fetch_add(&q->todo_n, 1);
    }
    int wake = (int)atomic_load(&q->todo_n);
    if (wake > q->sleeping)
        wake = q->sleeping;
    if (wake == q->sleeping && wake > 1)
        pthread_cond_broadcast(&q->work);
    else
        for (int k = 0; k < wake; k++)
            pthread_cond_signal(&q->work);
    pthread_mutex_unlock(&q->mu);
}

/* The drain limit passed: finished replies go, every other request taken
 * is answered shutting_down, and the workers start no more. */
static void expire(xs_server *s)
{
    xs_srv_queue *q = &s->q;
    atomic_store(&s->expired, 1);
    send_done(s);
    char msg[200];
    xs_srv_expired_message(s, msg, sizeof msg);
    pthread_mutex_lock(&q->mu);
    atomic_store(&q->todo_n, 0);
    for (uint32_t i = 0; i < s->n_slots; i++) {
        xs_srv_slot *sl = &s->slots[i];
        if (!sl->used)
            continue;
        xs_srv_expire_slot(s, sl, msg);
        if (sl->working) /* the worker still reads the payload */
            continue;
        xs_srv_slot_release(s, i);
    }
    pthread_mutex_unlock(&q->mu);
}

int xs_srv_run_handoff(xs_server *s, xs_error *err)
{
    xs_srv_queue *q = &s->q;
    int rc = xs_srv_start_workers(s, worker_main, err);
    zmq_pollitem_t items[3] = {
        {NULL, s->stop_pipe[0], ZMQ_POLLIN, 0},
        {NULL, q->wake_fd, ZMQ_POLLIN, 0},
        {s->frontend, 0, ZMQ_POLLIN, 0},
    };
    int stopping = 0;
    double stop_at = 0;
    for (;;) {
        int take = !stopping && s->n_free > 0;
        long timeout = s->n_park ? XS_PARK_POLL_MS : stopping ? 50 : -1;
        atomic_store(&q->io_waiting, 1);
        if (atomic_load(&q->done_n))
            timeout = 0;
        int n = zmq_poll(items, take ? 3 : 2, timeout);
        atomic_store(&q->io_waiting, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (!rc)
                rc = xs_error_set(err, XS_ERR_IO, "poll: %s",
                                  zmq_strerror(errno));
            break;
        }
        if (items[1].revents & ZMQ_POLLIN) {
            uint64_t v;
            ssize_t r = read(q->wake_fd, &v, sizeof v);
            (void)r; /* EAGAIN: another turn took it */
        }
        if (!stopping && (items[0].revents & ZMQ_POLLIN)) {
            stopping = 1;
            stop_at = xs_now();
        }
        send_done(s); /* first: they finish work already done */
        if (take && (items[2].revents & ZMQ_POLLIN))
            take_batch(s);
        if (s->n_park)
            xs_srv_retry_parked(s, 0);
        if (stopping && ((s->n_free == s->n_slots && !s->n_park) ||
                         xs_now() - stop_at >= s->drain_s))
            break;
    }
    expire(s); /* whatever is left */
    xs_srv_retry_parked(s, 1);
    return rc;
}
