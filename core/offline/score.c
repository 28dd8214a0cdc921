/*
 * score.c -- batch scoring (see xsell/score.h).
 *
 * Design.  The customer list (after sharding) is cut into chunks of
 * cfg->chunk consecutive customers.  A ring of R = 4 x threads slots holds
 * the chunks in flight: chunk j lives in slot j mod R, and may only be
 * claimed once chunk j - R has been written (j < written + R), so a slot is
 * never shared.  Workers claim chunks in increasing order under the mutex,
 * format them outside it into the slot's buffer and mark the slot ready;
 * the calling thread waits for slot `written mod R`, writes it, frees it.
 *
 * Invariants: only the calling thread writes output and calls progress;
 * a slot's buffer belongs to the worker that claimed it until `ready`, then
 * to the calling thread until `written` passes it.  Buffers grow to the
 * largest chunk seen and are reused, so the hot loop allocates nothing once
 * warm beyond what xs_engine_recommend_filtered does (nothing, once its
 * context is warm).  The first error stops every thread; it is the one
 * reported.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsell/json.h"
#include "xsell/score.h"

uint64_t xs_score_shard_hash(const char *s, size_t len)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int xs_score_write_file(void *arg, const char *buf, size_t len)
{
    return fwrite(buf, 1, len, (FILE *)arg) == len ? 0 : -1;
}

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

/* Makes room for n more bytes; -1 when out of memory. */
static int sbuf_reserve(sbuf *b, size_t n)
{
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->len + n)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* The append helpers assume room was reserved (see put_len). */
static void put(sbuf *b, const char *s, size_t n)
{
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Worst-case bytes of s as a CSV field or a JSON string (json.h: the one
 * escaper of client strings, shared with the CLI). */
static size_t csv_len(size_t n) { return XS_CSV_ESCAPED_MAX(n); }
static size_t json_len(size_t n) { return XS_JSON_ESCAPED_MAX(n); }

static void put_csv(sbuf *b, const char *s, size_t n)
{
    b->len += xs_csv_escape(b->p + b->len, s, n);
}

static void put_json(sbuf *b, const char *s, size_t n)
{
    b->len += xs_json_escape(b->p + b->len, s, n);
}

typedef struct slot {
    sbuf b;
    int ready;
    uint64_t scored, empty, rows;
} slot;

typedef struct run {
    xs_engine *e;
    const xs_score_config *cfg;
    const xs_dict *names;
    const uint32_t *ids; /* the customers to score, in output order */
    size_t n, chunk, n_chunks;
    slot *ring;
    size_t n_ring;
    pthread_mutex_t mu;
    pthread_cond_t cv_free, cv_ready;
    size_t next;    /* next chunk to claim */
    size_t written; /* chunks written */
    int failed;
    xs_error err; /* the first error */
} run;

/* Formats chunk j into s.  Returns XS_OK or an error in *err. */
static int format_chunk(run *r, xs_context *ctx, size_t j, slot *s,
                        xs_error *err)
{
    static const uint32_t no_items[1] = {0};
    const xs_score_config *cfg = r->cfg;
    xs_filter filter = {.exclude_owned = cfg->exclude_owned};
    if (cfg->rules) {
        filter.where = cfg->rules->where;
        filter.n_where = cfg->rules->n_where;
        filter.boost = cfg->rules->boost;
        filter.n_boost = cfg->rules->n_boost;
        filter.now = cfg->rules->now;
    }
    size_t lo = j * r->chunk, hi = lo + r->chunk < r->n ? lo + r->chunk : r->n;
    s->b.len = 0;
    s->scored = s->empty = s->rows = 0;
    for (size_t i = lo; i < hi; i++) {
        uint32_t c = r->ids[i];
        xs_request req = {no_items, 0, c, cfg->k, 0, XS_NONE};
        const xs_rec *recs;
        size_t n;
        int rc = xs_engine_recommend_filtered(r->e, ctx, cfg->plugin, &req,
                                              &filter, &recs, &n, err);
        if (rc)
            return rc;
        const char *cname = xs_dict_name(r->names, c);
        size_t clen = strlen(cname);
        s->scored++;
        s->rows += n;
        if (n == 0)
            s->empty++;
        if (cfg->format == XS_SCORE_JSONL) {
            if (sbuf_reserve(&s->b, 32 + json_len(clen)))
                goto nomem;
            put(&s->b, "{\"customer\":", 12);
            put_json(&s->b, cname, clen);
            put(&s->b, ",\"items\":[", 10);
        }
        for (size_t k = 0; k < n; k++) {
            const char *item = xs_engine_item_name(r->e, recs[k].item);
            const char *plugin = recs[k].plugin ? recs[k].plugin : "";
            size_t ilen = strlen(item), plen = strlen(plugin);
            char num[48];
            xs_format_double(num, sizeof num, recs[k].score);
            size_t nlen = strlen(num);
            if (cfg->format == XS_SCORE_JSONL) {
                if (sbuf_reserve(&s->b, 64 + json_len(ilen) + json_len(plen) +
                                            nlen))
                    goto nomem;
                put(&s->b, k ? ",{\"item\":" : "{\"item\":", k ? 9 : 8);
                put_json(&s->b, item, ilen);
                put(&s->b, ",\"score\":", 9);
                put(&s->b, num, nlen);
                put(&s->b, ",\"plugin\":", 10);
                put_json(&s->b, plugin, plen);
                put(&s->b, "}", 1);
            } else {
                char rank[24];
                int rlen = snprintf(rank, sizeof rank, ",%zu,", k + 1);
                if (sbuf_reserve(&s->b, 8 + csv_len(clen) + (size_t)rlen +
                                            csv_len(ilen) + nlen +
                                            csv_len(plen)))
                    goto nomem;
                put_csv(&s->b, cname, clen);
                put(&s->b, rank, (size_t)rlen);
                put_csv(&s->b, item, ilen);
                put(&s->b, ",", 1);
                put(&s->b, num, nlen);
                put(&s->b, ",", 1);
                put_csv(&s->b, plugin, plen);
                put(&s->b, "\n", 1);
            }
        }
        if (cfg->format == XS_SCORE_JSONL)
            put(&s->b, "]}\n", 3);
    }
    return XS_OK;
nomem:
    return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
}

/* Records the first error and wakes everybody.  Caller holds r->mu. */
static void fail_locked(run *r, const xs_error *err)
{
    if (!r->failed) {
        r->failed = 1;
        r->err = *err;
    }
    pthread_cond_broadcast(&r->cv_free);
    pthread_cond_broadcast(&r->cv_ready);
}

static void *worker(void *arg)
{
    run *r = arg;
    xs_error err = {0};
    xs_context *ctx = xs_context_new(r->e);
    pthread_mutex_lock(&r->mu);
    if (!ctx) {
        xs_error_set(&err, XS_ERR_NOMEM, "out of memory");
        fail_locked(r, &err);
    }
    while (ctx) {
        while (!r->failed && r->next < r->n_chunks &&
               r->next >= r->written + r->n_ring)
            pthread_cond_wait(&r->cv_free, &r->mu);
        if (r->failed || r->next >= r->n_chunks)
            break;
        size_t j = r->next++;
        slot *s = &r->ring[j % r->n_ring];
        pthread_mutex_unlock(&r->mu);
        int rc = format_chunk(r, ctx, j, s, &err);
        pthread_mutex_lock(&r->mu);
        if (rc) {
            fail_locked(r, &err);
            break;
        }
        s->ready = 1;
        pthread_cond_broadcast(&r->cv_ready);
    }
    pthread_mutex_unlock(&r->mu);
    xs_context_free(ctx);
    return NULL;
}

static int write_out(const xs_score_config *cfg, const char *p, size_t n,
                     xs_error *err)
{
    if (n && cfg->write(cfg->write_arg, p, n))
        return xs_error_set(err, XS_ERR_IO, "write failed");
    return XS_OK;
}

int xs_score_run(xs_engine *e, const xs_score_config *cfg,
                 xs_score_stats *stats, xs_error *err)
{
    xs_score_stats st = {0};
    if (stats)
        *stats = st;
    if (!cfg || !cfg->write)
        return xs_error_set(err, XS_ERR_USAGE, "score: no writer");
    if (cfg->k < 1 || cfg->k > XS_K_MAX)
        return xs_error_set(err, XS_ERR_USAGE, "score: k must be in 1..%d",
                            XS_K_MAX);
    if (cfg->format != XS_SCORE_CSV && cfg->format != XS_SCORE_JSONL)
        return xs_error_set(err, XS_ERR_USAGE, "score: unknown format");
    if (cfg->n_shards > 1 && cfg->shard >= cfg->n_shards)
        return xs_error_set(err, XS_ERR_USAGE, "score: shard %u of %u",
                            cfg->shard, cfg->n_shards);
    const xs_dataset *ds = xs_engine_dataset(e);
    const xs_dict *names = ds->customers;
    uint32_t n_all = xs_dict_size(names);
    if (cfg->customers)
        for (size_t i = 0; i < cfg->n_customers; i++)
            if (cfg->customers[i] >= n_all)
                return xs_error_set(err, XS_ERR_USAGE,
                                    "score: customer id %u out of range",
                                    cfg->customers[i]);
    if (cfg->rules && (cfg->rules->n_where || cfg->rules->n_boost)) {
        /* one anonymous request first: a filter the engine refuses fails
         * here, before a line is written */
        static const uint32_t none[1] = {0};
        xs_request req = {none, 0, XS_NONE, cfg->k, 0, XS_NONE};
        xs_filter f = {.exclude_owned = -1,
                       .where = cfg->rules->where,
                       .n_where = cfg->rules->n_where,
                       .boost = cfg->rules->boost,
                       .n_boost = cfg->rules->n_boost,
                       .now = cfg->rules->now};
        xs_context *ctx = xs_context_new(e);
        const xs_rec *recs;
        size_t got;
        if (!ctx)
            return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        int rc = xs_engine_recommend_filtered(e, ctx, cfg->plugin, &req, &f,
                                              &recs, &got, err);
        xs_context_free(ctx);
        if (rc)
            return rc;
    }

    /* the customers of this shard, in output order */
    size_t n_in = cfg->customers ? cfg->n_customers : n_all;
    uint32_t *own = NULL;
    const uint32_t *ids = cfg->customers;
    size_t n = n_in;
    if (!cfg->customers || cfg->n_shards > 1) {
        if (!(own = malloc((n_in ? n_in : 1) * sizeof *own)))
            return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        n = 0;
        for (size_t i = 0; i < n_in; i++) {
            uint32_t c = cfg->customers ? cfg->customers[i] : (uint32_t)i;
            if (cfg->n_shards > 1) {
                const char *s = xs_dict_name(names, c);
                if (xs_score_shard_hash(s, strlen(s)) % cfg->n_shards !=
                    cfg->shard) {
                    st.other_shard++;
                    continue;
                }
            }
            own[n++] = c;
        }
        ids = own;
    }

    int rc = XS_OK;
    if (cfg->format == XS_SCORE_CSV && cfg->header)
        rc = write_out(cfg, "customer,rank,item,score,plugin\n", 32, err);

    run r = {0};
    r.e = e;
    r.cfg = cfg;
    r.names = names;
    r.ids = ids;
    r.n = n;
    long threads = cfg->threads > 0 ? cfg->threads
                                    : sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    /* default: 256, or smaller so that every thread gets 8 chunks or more
     * (customers' costs differ a lot: a few long histories must not leave
     * one thread working alone); the output does not depend on it */
    r.chunk = cfg->chunk;
    if (!r.chunk) {
        size_t c = n / ((size_t)threads * 8);
        r.chunk = c < 1 ? 1 : c > 256 ? 256 : c;
    }
    r.n_chunks = (n + r.chunk - 1) / r.chunk;
    if ((size_t)threads > r.n_chunks)
        threads = r.n_chunks ? (long)r.n_chunks : 1;
    r.n_ring = 4 * (size_t)threads;
    pthread_t *tid = NULL;
    long started = 0;
    if (rc || r.n_chunks == 0)
        goto done;
    r.ring = calloc(r.n_ring, sizeof *r.ring);
    tid = calloc((size_t)threads, sizeof *tid);
    if (!r.ring || !tid) {
        rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
        goto done;
    }
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv_free, NULL);
    pthread_cond_init(&r.cv_ready, NULL);
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &r))
            break;
    if (started == 0) {
        rc = xs_error_set(err, XS_ERR_NOMEM, "cannot start a thread");
    } else {
        uint64_t done_customers = 0;
        for (size_t w = 0; w < r.n_chunks; w++) {
            slot *s = &r.ring[w % r.n_ring];
            pthread_mutex_lock(&r.mu);
            while (!s->ready && !r.failed)
                pthread_cond_wait(&r.cv_ready, &r.mu);
            int failed = r.failed;
            pthread_mutex_unlock(&r.mu);
            if (failed)
                break;
            xs_error werr = {0};
            int wrc = write_out(cfg, s->b.p, s->b.len, &werr);
            st.scored += s->scored;
            st.empty += s->empty;
            st.rows += s->rows;
            done_customers += s->scored;
            pthread_mutex_lock(&r.mu);
            if (wrc) {
                fail_locked(&r, &werr);
                pthread_mutex_unlock(&r.mu);
                break;
            }
            s->ready = 0;
            r.written++;
            pthread_cond_broadcast(&r.cv_free);
            pthread_mutex_unlock(&r.mu);
            if (cfg->progress)
                cfg->progress(cfg->progress_arg, done_customers, n);
        }
        for (long t = 0; t < started; t++)
            pthread_join(tid[t], NULL);
        if (r.failed) {
            rc = r.err.code ? r.err.code : XS_ERR_INTERNAL;
            if (err)
                *err = r.err;
        }
    }
    pthread_cond_destroy(&r.cv_ready);
    pthread_cond_destroy(&r.cv_free);
    pthread_mutex_destroy(&r.mu);
done:
    if (r.ring)
        for (size_t i = 0; i < r.n_ring; i++)
            free(r.ring[i].b.p);
    free(r.ring);
    free(tid);
    free(own);
    if (stats)
        *stats = st;
    return rc;
}
