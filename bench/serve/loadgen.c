/*
 * loadgen.c -- load generator for bench/serve.
 *
 *   loadgen --connect EP --items FILE [--clients C] [--window W]
 *           [--requests N] [--rate R] [--basket B] [--k K] [--seed S]
 *           [--ingest-rate E] [--warmup N] [--plugin P] [--customers FILE]
 *           [--curve-server-key FILE --curve-key FILE]
 *
 * C client threads, each with one DEALER socket and at most W requests in
 * flight, send N recommend requests in all: B item ids drawn from FILE (one
 * id per line; drawing lines weights items by how often they occur), k = K,
 * (with --plugin, "plugin": P; with --customers, a "customer" drawn from
 * FILE the same way), each tagged with an "id" the reply echoes, so latency is measured per
 * request even though replies come back out of order.  --rate R paces the
 * sends (R per second over all clients; 0: as fast as the window allows).
 * --ingest-rate E adds a thread ingesting E events per second (batches of
 * 10) over a REQ socket while the readers run.
 *
 * With the two key files (`xsell keygen`), every socket talks CURVE.
 *
 * Prints one JSON line: requests, errors, seconds, throughput and latency
 * percentiles (microseconds, exact: every latency is kept and sorted).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <zmq.h>

#include "serve/mp_read.h"

typedef struct options {
    const char *connect;
    const char *items_file;
    const char *plugin, *customers_file;
    char server_pub[41], client_pub[41], client_sec[41]; /* "" : plain */
    int clients, window, basket, k;
    long requests, warmup;
    double rate, ingest_rate;
    unsigned long long seed;
} options;

/* The first line of a key file: 40 Z85 characters, or -1. */
static int read_key(const char *path, char out[41])
{
    FILE *f = fopen(path, "r");
    char line[128] = "";
    int ok = f && fgets(line, sizeof line, f);
    if (f)
        fclose(f);
    line[strcspn(line, "\r\n")] = '\0';
    if (!ok || strlen(line) != 40)
        return -1;
    memcpy(out, line, 41);
    return 0;
}

/* CURVE on sock when the options name keys; 0 or -1. */
static int curve(void *sock, const struct options *o);

typedef struct shared {
    const options *o;
    void *ctx;
    char **items;
    size_t n_items;
    char **customers;
    size_t n_customers;
    _Atomic int stop_ingest;
    _Atomic long ingested, ingest_errors;
} shared;

static int curve(void *sock, const options *o)
{
    if (!o->server_pub[0])
        return 0;
    return zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, o->server_pub, 40) ||
                   zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, o->client_pub,
                                  40) ||
                   zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, o->client_sec, 40)
               ? -1
               : 0;
}

typedef struct client {
    shared *sh;
    int id;
    long todo;
    double *lat; /* microseconds, one per request */
    long n_lat;
    long errors;
    double started, finished;
} client;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long next_rand(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* Reads "id" and "ok" from a reply.  Returns 0 when both were found. */
static int read_reply(const void *buf, size_t len, int64_t *id, int *ok)
{
    xs_mp m;
    uint32_t n;
    int found = 0;
    xs_mp_init(&m, buf, len);
    if (xs_mp_read_map(&m, &n))
        return -1;
    *ok = 1; /* the echo server returns the request, which has no "ok" */
    for (uint32_t i = 0; i < n && found < 2; i++) {
        const char *key;
        uint32_t kl;
        if (xs_mp_read_str(&m, &key, &kl))
            return -1;
        if (xs_mp_str_eq(key, kl, "id")) {
            if (xs_mp_read_int(&m, id))
                return -1;
            found++;
        } else if (xs_mp_str_eq(key, kl, "ok")) {
            if (xs_mp_read_bool(&m, ok))
                return -1;
            found++;
        } else if (xs_mp_skip(&m, 16)) {
            return -1;
        }
    }
    return found ? 0 : -1;
}

static void *client_main(void *arg)
{
    client *c = arg;
    const options *o = c->sh->o;
    void *sock = zmq_socket(c->sh->ctx, ZMQ_DEALER);
    int linger = 0, hwm = 100000, rcvto = 10000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &rcvto, sizeof rcvto);
    if (curve(sock, o) || zmq_connect(sock, o->connect)) {
        fprintf(stderr, "loadgen: connect: %s\n", zmq_strerror(errno));
        return NULL;
    }
    unsigned long long rng = o->seed * 1000003ULL + (unsigned long long)c->id;
    double *sent_at = calloc((size_t)o->window, sizeof *sent_at);
    int *free_slots = malloc((size_t)o->window * sizeof *free_slots);
    int n_free = o->window;
    for (int i = 0; i < o->window; i++)
        free_slots[i] = o->window - 1 - i;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    long sent = 0, done = 0;
    double interval = o->rate > 0 ? o->clients / o->rate : 0;
    c->started = now();
    double next_send = c->started;
    while (done < c->todo) {
        /* send while the window and the pace allow */
        while (sent < c->todo && n_free > 0 &&
               (interval == 0 || now() >= next_send)) {
            int slot = free_slots[--n_free];
            msgpack_sbuffer_clear(&buf);
            msgpack_pack_map(&pk, 4 + (o->plugin != NULL) +
                                      (c->sh->n_customers > 0));
            if (o->plugin) {
                pack_str(&pk, "plugin");
                pack_str(&pk, o->plugin);
            }
            if (c->sh->n_customers) {
                pack_str(&pk, "customer");
                pack_str(&pk, c->sh->customers[next_rand(&rng) %
                                               c->sh->n_customers]);
            }
            pack_str(&pk, "id");
            msgpack_pack_int64(&pk, slot);
            pack_str(&pk, "op");
            pack_str(&pk, "recommend");
            pack_str(&pk, "items");
            msgpack_pack_array(&pk, (size_t)o->basket);
            for (int b = 0; b < o->basket; b++)
                pack_str(&pk, c->sh->items[next_rand(&rng) % c->sh->n_items]);
            pack_str(&pk, "k");
            msgpack_pack_int(&pk, o->k);
            sent_at[slot] = now();
            if (zmq_send(sock, buf.data, buf.size, 0) < 0) {
                c->errors++;
                free_slots[n_free++] = slot;
                break;
            }
            sent++;
            next_send += interval;
        }
        /* receive what has arrived (wait a little when nothing can be sent) */
        int wait_ms = n_free == 0 || sent == c->todo ? 1000 : 0;
        if (interval > 0 && n_free > 0 && sent < c->todo) {
            /* sleep to the next send time in whole milliseconds: the sends
             * due by then go out together (spinning would steal the CPU
             * the server needs on a small machine) */
            double dt = next_send - now();
            wait_ms = dt > 0 ? (int)ceil(dt * 1000) : 0;
        }
        zmq_pollitem_t it = {sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, wait_ms) <= 0) {
            if (n_free == 0 && wait_ms >= 1000 && ++c->errors > 10)
                break; /* the server stopped answering */
            continue;
        }
        for (;;) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            int64_t id;
            int ok;
            if (read_reply(zmq_msg_data(&m), zmq_msg_size(&m), &id, &ok) ||
                id < 0 || id >= o->window) {
                c->errors++;
            } else {
                if (!ok)
                    c->errors++;
                c->lat[c->n_lat++] = (now() - sent_at[id]) * 1e6;
                free_slots[n_free++] = (int)id;
            }
            done++;
            zmq_msg_close(&m);
        }
    }
    c->finished = now();
    msgpack_sbuffer_destroy(&buf);
    free(sent_at);
    free(free_slots);
    zmq_close(sock);
    return NULL;
}

static void *ingest_main(void *arg)
{
    shared *sh = arg;
    void *sock = zmq_socket(sh->ctx, ZMQ_REQ);
    int linger = 0, to = 5000;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &to, sizeof to);
    curve(sock, sh->o);
    zmq_connect(sock, sh->o->connect);
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &buf, msgpack_sbuffer_write);
    unsigned long long rng = sh->o->seed ^ 0xabcdefULL;
    double interval = 10.0 / sh->o->ingest_rate, next = now();
    long order = 0;
    while (!atomic_load(&sh->stop_ingest)) {
        double dt = next - now();
        if (dt > 0) {
            struct timespec ts = {(time_t)dt, (long)((dt - (time_t)dt) * 1e9)};
            nanosleep(&ts, NULL);
        }
        next += interval;
        msgpack_sbuffer_clear(&buf);
        msgpack_pack_map(&pk, 2);
        pack_str(&pk, "op");
        pack_str(&pk, "ingest");
        pack_str(&pk, "events");
        msgpack_pack_array(&pk, 10);
        char cust[32], ord[32];
        for (int i = 0; i < 10; i++) {
            if (i % 3 == 0) {
                order++;
                snprintf(ord, sizeof ord, "LOADGEN-O%ld", order);
                snprintf(cust, sizeof cust, "LOADGEN-C%llu",
                         next_rand(&rng) % 1000);
            }
            msgpack_pack_map(&pk, 3);
            pack_str(&pk, "customer");
            pack_str(&pk, cust);
            pack_str(&pk, "item");
            pack_str(&pk, sh->items[next_rand(&rng) % sh->n_items]);
            pack_str(&pk, "order");
            pack_str(&pk, ord);
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_send(sock, buf.data, buf.size, 0) < 0 ||
            zmq_msg_recv(&m, sock, 0) < 0) {
            atomic_fetch_add(&sh->ingest_errors, 1);
            zmq_msg_close(&m);
            break;
        }
        int64_t id;
        int ok = 0;
        read_reply(zmq_msg_data(&m), zmq_msg_size(&m), &id, &ok);
        zmq_msg_close(&m);
        if (ok)
            atomic_fetch_add(&sh->ingested, 10);
        else
            atomic_fetch_add(&sh->ingest_errors, 1);
    }
    msgpack_sbuffer_destroy(&buf);
    zmq_close(sock);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static char **read_items(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    size_t cap = 1024;
    char **v = malloc(cap * sizeof *v);
    char line[1100];
    *n = 0;
    while (v && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (*n == cap) {
            char **nv = realloc(v, 2 * cap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = strdup(line);
    }
    fclose(f);
    return v;
}

/* One run of `requests` over the clients; fills the summary. */
static int run(shared *sh, long requests, int print)
{
    const options *o = sh->o;
    client *cl = calloc((size_t)o->clients, sizeof *cl);
    pthread_t *tid = calloc((size_t)o->clients, sizeof *tid);
    for (int i = 0; i < o->clients; i++) {
        cl[i].sh = sh;
        cl[i].id = i;
        cl[i].todo = requests / o->clients + (i < requests % o->clients);
        cl[i].lat = malloc(((size_t)cl[i].todo + 1) * sizeof *cl[i].lat);
        pthread_create(&tid[i], NULL, client_main, &cl[i]);
    }
    pthread_t itid;
    int ingesting = print && o->ingest_rate > 0;
    if (ingesting)
        pthread_create(&itid, NULL, ingest_main, sh);
    for (int i = 0; i < o->clients; i++)
        pthread_join(tid[i], NULL);
    if (ingesting) {
        atomic_store(&sh->stop_ingest, 1);
        pthread_join(itid, NULL);
    }
    long total = 0, errors = 0;
    double t0 = 1e300, t1 = 0;
    for (int i = 0; i < o->clients; i++) {
        total += cl[i].n_lat;
        errors += cl[i].errors;
        if (cl[i].started < t0)
            t0 = cl[i].started;
        if (cl[i].finished > t1)
            t1 = cl[i].finished;
    }
    double *all = malloc(((size_t)total + 1) * sizeof *all);
    long k = 0;
    for (int i = 0; i < o->clients; i++) {
        memcpy(all + k, cl[i].lat, (size_t)cl[i].n_lat * sizeof *all);
        k += cl[i].n_lat;
        free(cl[i].lat);
    }
    qsort(all, (size_t)total, sizeof *all, cmp_double);
#define PCT(q) (total ? all[(long)((q) * (double)(total - 1))] : 0.0)
    if (print)
        printf("{\"requests\":%ld,\"errors\":%ld,\"seconds\":%.3f,"
               "\"throughput\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
               "\"p99_us\":%.1f,\"max_us\":%.1f,\"clients\":%d,\"window\":%d,"
               "\"rate\":%.0f,\"ingested\":%ld,\"ingest_errors\":%ld}\n",
               total, errors, t1 - t0, total / (t1 - t0), PCT(0.50),
               PCT(0.90), PCT(0.99), total ? all[total - 1] : 0.0, o->clients,
               o->window, o->rate, atomic_load(&sh->ingested),
               atomic_load(&sh->ingest_errors));
#undef PCT
    free(all);
    free(cl);
    free(tid);
    return errors ? 1 : 0;
}

int main(int argc, char **argv)
{
    options o = {.clients = 2, .window = 64, .basket = 3, .k = 10,
                 .requests = 200000, .warmup = 20000, .seed = 42};
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *a = argv[i], *v = argv[i + 1];
        if (!strcmp(a, "--connect")) o.connect = v;
        else if (!strcmp(a, "--items")) o.items_file = v;
        else if (!strcmp(a, "--clients")) o.clients = atoi(v);
        else if (!strcmp(a, "--window")) o.window = atoi(v);
        else if (!strcmp(a, "--requests")) o.requests = atol(v);
        else if (!strcmp(a, "--warmup")) o.warmup = atol(v);
        else if (!strcmp(a, "--rate")) o.rate = atof(v);
        else if (!strcmp(a, "--basket")) o.basket = atoi(v);
        else if (!strcmp(a, "--k")) o.k = atoi(v);
        else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--ingest-rate")) o.ingest_rate = atof(v);
        else if (!strcmp(a, "--plugin")) o.plugin = v;
        else if (!strcmp(a, "--customers")) o.customers_file = v;
        else if (!strcmp(a, "--curve-server-key")) {
            if (read_key(v, o.server_pub)) {
                fprintf(stderr, "loadgen: %s: not a key\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--curve-key")) {
            if (read_key(v, o.client_sec) ||
                zmq_curve_public(o.client_pub, o.client_sec)) {
                fprintf(stderr, "loadgen: %s: not a key\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "loadgen: unknown option %s\n", a);
            return 2;
        }
    }
    if (!o.connect || !o.items_file || o.clients < 1 || o.window < 1 ||
        o.basket < 1 || o.requests < 1) {
        fprintf(stderr, "usage: loadgen --connect EP --items FILE [--clients C]"
                        " [--window W] [--requests N] [--rate R] [--basket B]"
                        " [--k K] [--seed S] [--ingest-rate E] [--warmup N]"
                        " [--plugin P] [--customers FILE]"
                        " [--curve-server-key FILE --curve-key FILE]\n");
        return 2;
    }
    shared sh = {0};
    sh.o = &o;
    sh.items = read_items(o.items_file, &sh.n_items);
    if (!sh.items || !sh.n_items) {
        fprintf(stderr, "loadgen: no items in %s\n", o.items_file);
        return 1;
    }
    if (o.customers_file) {
        sh.customers = read_items(o.customers_file, &sh.n_customers);
        if (!sh.customers || !sh.n_customers) {
            fprintf(stderr, "loadgen: no customers in %s\n", o.customers_file);
            return 1;
        }
    }
    sh.ctx = zmq_ctx_new();
    if (o.warmup > 0)
        run(&sh, o.warmup, 0);
    int rc = run(&sh, o.requests, 1);
    zmq_ctx_term(sh.ctx);
    for (size_t i = 0; i < sh.n_items; i++)
        free(sh.items[i]);
    free(sh.items);
    for (size_t i = 0; i < sh.n_customers; i++)
        free(sh.customers[i]);
    free(sh.customers);
    return rc;
}
