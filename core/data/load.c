/*
 * load.c -- streamed, parallel CSV loading (see load.h for the steps).
 *
 * Ownership: a round's blocks (their buffers, local tables and events)
 * belong to xs_load_run and are freed when the round is merged; names
 * point into a block's buffer until step 3 copies the new ones into the
 * dictionary.  Threads: steps 2, 3 and 5 run as tasks on up to `threads`
 * threads (the calling one included), started per step and joined before
 * the next; a task writes only its own block (2, 5) or its own shards of
 * the dictionaries and the ref/first slots of their names (3), so tasks
 * share nothing mutable.  Steps 1 and 4 and the progress reports run on
 * the calling thread.
 *
 * Memory: a round holds ROUND_BLOCKS blocks per thread of input, their
 * events and local tables; the dataset's events grow by doubling (realloc,
 * which moves large arrays by remapping pages) and are trimmed at the end.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stdio.h>

#include "data/csv_blocks.h"
#include "data/load.h"
#include "data/text.h"
#include "util/hash.h"

#define ROUND_BLOCKS 4 /* blocks per thread in a round */

/* ---- block-local names ---------------------------------------------------- */

static int names_grow(xs_load_names *t)
{
    uint32_t cap = t->cap ? t->cap * 2 : 256;
    xs_load_name *nm = realloc(t->nm, (size_t)cap * sizeof *nm);
    if (!nm)
        return -1;
    t->nm = nm;
    t->cap = cap;
    uint32_t slots = cap * 2; /* load at most one half */
    uint32_t *slot = calloc(slots, sizeof *slot);
    if (!slot)
        return -1;
    free(t->slot);
    t->slot = slot;
    t->mask = slots - 1;
    for (uint32_t id = 0; id < t->n; id++) {
        uint32_t i = t->nm[id].hash & t->mask;
        while (slot[i])
            i = (i + 1) & t->mask;
        slot[i] = id + 1;
    }
    return 0;
}

int xs_load_intern(xs_load_block *b, int dict, const char *s, size_t len,
                   uint32_t *id)
{
    xs_load_names *t = &b->names[dict];
    if (len > UINT32_MAX)
        return -1;
    uint32_t h = xs_hash_bytes(s, len);
    if (t->slot) {
        for (uint32_t i = h & t->mask;; i = (i + 1) & t->mask) {
            uint32_t v = t->slot[i];
            if (!v)
                break;
            const xs_load_name *n = &t->nm[v - 1];
            if (n->hash == h && n->len == len && !memcmp(n->s, s, len)) {
                *id = v - 1;
                return 0;
            }
        }
    }
    if (t->n == t->cap && names_grow(t))
        return -1;
    uint32_t i = h & t->mask;
    while (t->slot[i])
        i = (i + 1) & t->mask;
    t->slot[i] = t->n + 1;
    t->nm[t->n] = (xs_load_name){s, (uint32_t)len, h};
    *id = t->n++;
    return 0;
}

int xs_load_push(xs_load_block *b, const xs_event *ev)
{
    if (b->n_ev == b->cap_ev) {
        size_t cap = b->cap_ev ? b->cap_ev * 2 : 4096;
        xs_event *e = realloc(b->ev, cap * sizeof *e);
        if (!e)
            return -1;
        b->ev = e;
        b->cap_ev = cap;
    }
    b->ev[b->n_ev++] = *ev;
    return 0;
}

int xs_load_bad(xs_load_block *b, const xs_error *err)
{
    if (!b->skip_bad)
        return -1;
    if (b->n_shown < XS_LOAD_SHOWN) { /* cut short if need be */
        size_t n = strnlen(err->msg, XS_LOAD_SHOWN_LEN - 1);
        memcpy(b->shown[b->n_shown], err->msg, n);
        b->shown[b->n_shown++][n] = '\0';
    }
    b->bad++;
    return 0;
}

/* Checks b's text (or transcodes it from Latin-1) and opens its reader;
 * once per block.  0, or -1 with err set ("path:LINE: reason", the line
 * counted from the block's start). */
static int block_prepare(const xs_load_spec *spec, xs_load_block *b,
                         xs_error *err)
{
    if (b->ready)
        return 0;
    size_t at = b->len;
    int kind = XS_TEXT_OK;
    if (spec->encoding == XS_ENCODING_LATIN1) {
        if ((at = xs_text_find_nul(b->buf, b->len)) < b->len)
            kind = XS_TEXT_NUL;
    } else {
        kind = xs_text_check(b->buf, b->len, &at);
    }
    if (kind != XS_TEXT_OK) {
        size_t line = xs_text_line_of(b->buf, at), col = at;
        while (col && b->buf[col - 1] != '\n')
            col--;
        col = at - col + 1;
        if (kind == XS_TEXT_NUL)
            return xs_error_set(err, XS_ERR_DATA, "%s:%zu: NUL byte at "
                                "column %zu (a binary or UTF-16 file?)",
                                spec->path, line, col), -1;
        return xs_error_set(err, XS_ERR_DATA, "%s:%zu: not UTF-8 (byte "
                            "0x%02X at column %zu); a Latin-1 file loads "
                            "with encoding latin1 (--encoding latin1)",
                            spec->path, line,
                            (unsigned)(unsigned char)b->buf[at], col), -1;
    }
    if (spec->encoding == XS_ENCODING_LATIN1) {
        size_t n;
        char *u = xs_text_latin1_to_utf8(b->buf, b->len, &n);
        if (!u)
            return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory",
                                spec->path), -1;
        free(b->buf);
        b->buf = u;
        b->len = n;
    }
    xs_csv_open_mem(&b->csv, spec->path, b->buf, b->len, b->delim, 1);
    b->ready = 1;
    return 0;
}

/* Groups t's local ids by shard (stable: local order within a shard). */
static int names_group(xs_load_names *t)
{
    free(t->slot); /* lookups are over */
    t->slot = NULL;
    if (!t->n)
        return 0;
    t->order = malloc((size_t)t->n * sizeof *t->order);
    t->ref = malloc((size_t)t->n * sizeof *t->ref);
    t->first = malloc(t->n);
    if (!t->order || !t->ref || !t->first)
        return -1;
    uint32_t count[XS_DICT_SHARDS] = {0};
    for (uint32_t id = 0; id < t->n; id++)
        count[xs_dict_shard_of(t->nm[id].hash)]++;
    t->start[0] = 0;
    for (unsigned s = 0; s < XS_DICT_SHARDS; s++)
        t->start[s + 1] = t->start[s] + count[s];
    uint32_t at[XS_DICT_SHARDS];
    memcpy(at, t->start, sizeof at);
    for (uint32_t id = 0; id < t->n; id++)
        t->order[at[xs_dict_shard_of(t->nm[id].hash)]++] = id;
    return 0;
}

static void names_free(xs_load_names *t)
{
    free(t->slot);
    free(t->nm);
    free(t->order);
    free(t->ref);
    free(t->first);
}

static void block_free(xs_load_block *b)
{
    for (int k = 0; k < XS_LOAD_DICTS; k++)
        names_free(&b->names[k]);
    free(b->ev);
    xs_csv_close(&b->csv); /* its fields; the buffer is borrowed */
    free(b->buf);
    memset(b, 0, sizeof *b);
}

/* ---- tasks on threads ----------------------------------------------------- */

typedef struct tasks {
    void (*fn)(void *arg, size_t i);
    void *arg;
    size_t n;
    atomic_size_t next;
} tasks;

static void *task_loop(void *p)
{
    tasks *t = p;
    size_t i;
    while ((i = atomic_fetch_add(&t->next, 1)) < t->n)
        t->fn(t->arg, i);
    return NULL;
}

/* Runs fn(arg, 0..n-1) on up to `threads` threads, this one included.  A
 * thread that cannot start leaves its share to the others. */
static void run_tasks(int threads, size_t n, void (*fn)(void *, size_t),
                      void *arg)
{
    tasks t = {fn, arg, n, 0};
    pthread_t tid[256];
    size_t started = 0, want = (size_t)threads < n ? (size_t)threads : n;
    if (want > 256)
        want = 256;
    for (size_t i = 1; i < want; i++)
        if (pthread_create(&tid[started], NULL, task_loop, &t) == 0)
            started++;
    task_loop(&t);
    for (size_t i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
}

/* ---- the steps ------------------------------------------------------------ */

typedef struct load_round {
    const xs_load_spec *spec;
    xs_load_block *blk;
    size_t nb;
    xs_event *out;       /* the dataset's events */
    size_t *ev_base;     /* per block: its first event in out */
    size_t *record_base; /* per block: records before it */
    atomic_int failed;   /* step 3 ran out of memory */
} load_round;

/* Step 2. */
static void parse_task(void *arg, size_t i)
{
    load_round *r = arg;
    xs_load_block *b = &r->blk[i];
    if (block_prepare(r->spec, b, &b->err) ||
        r->spec->parse(r->spec->arg, b, &b->err)) {
        b->failed = 1;
        return;
    }
    b->lines_end = b->csv.next_line;
    for (int k = 0; k < XS_LOAD_DICTS; k++)
        if (names_group(&b->names[k])) {
            xs_error_set(&b->err, XS_ERR_NOMEM, "%s: out of memory",
                         r->spec->path);
            b->failed = 1;
            return;
        }
}

/* Step 3: shard s of every dictionary, blocks in file order. */
static void intern_task(void *arg, size_t s)
{
    load_round *r = arg;
    for (size_t i = 0; i < r->nb; i++)
        for (int k = 0; k < XS_LOAD_DICTS; k++) {
            xs_dict *d = r->spec->dicts[k];
            xs_load_names *t = &r->blk[i].names[k];
            if (!d || !t->n)
                continue;
            for (uint32_t o = t->start[s]; o < t->start[s + 1]; o++) {
                uint32_t id = t->order[o];
                const xs_load_name *n = &t->nm[id];
                int added = 0;
                t->ref[id] = xs_dict_shard_intern(d, n->s, n->len, n->hash,
                                                  &added);
                t->first[id] = (unsigned char)added;
                if (!t->ref[id]) {
                    atomic_store(&r->failed, 1);
                    return;
                }
            }
        }
}

/* Step 5. */
static void remap_task(void *arg, size_t i)
{
    load_round *r = arg;
    xs_load_block *b = &r->blk[i];
    const uint32_t *map[XS_LOAD_DICTS] = {NULL};
    for (int k = 0; k < XS_LOAD_DICTS; k++) {
        xs_load_names *t = &b->names[k];
        if (!r->spec->dicts[k] || !t->n)
            continue;
        for (uint32_t id = 0; id < t->n; id++) /* order is free now */
            t->order[id] = xs_dict_entry_id(t->ref[id]);
        map[k] = t->order;
    }
    xs_event *out = r->out + r->ev_base[i];
    uint32_t rbase = (uint32_t)r->record_base[i];
    for (size_t e = 0; e < b->n_ev; e++) {
        xs_event ev = b->ev[e];
        if (map[XS_LOAD_CUSTOMER] && ev.customer != XS_NONE)
            ev.customer = map[XS_LOAD_CUSTOMER][ev.customer];
        if (map[XS_LOAD_ITEM] && ev.item != XS_NONE)
            ev.item = map[XS_LOAD_ITEM][ev.item];
        if (r->spec->record_orders)
            ev.order += rbase;
        else if (map[XS_LOAD_ORDER] && ev.order != XS_NONE)
            ev.order = map[XS_LOAD_ORDER][ev.order];
        if (map[XS_LOAD_TYPE])
            ev.reserved = map[XS_LOAD_TYPE][ev.reserved];
        out[e] = ev;
    }
}

/* msg ("path:LINE: reason", LINE counted from a block's start) with the
 * line moved by the line_base lines before the block, into out. */
static void at_file_line(const xs_load_spec *spec, uint64_t line_base,
                         const char *m, char *out, size_t len)
{
    size_t plen = strlen(spec->path);
    if (line_base && !strncmp(m, spec->path, plen) && m[plen] == ':' &&
        m[plen + 1] >= '0' && m[plen + 1] <= '9') {
        char *rest;
        unsigned long long line = strtoull(m + plen + 1, &rest, 10);
        if (*rest == ':') {
            int w = snprintf(out, len, "%s:%llu", spec->path,
                             line + (unsigned long long)line_base);
            if (w >= 0 && (size_t)w < len) {
                size_t n = strnlen(rest, len - (size_t)w - 1);
                memcpy(out + w, rest, n);
                out[(size_t)w + n] = '\0';
            }
            return;
        }
    }
    size_t n = strnlen(m, len - 1);
    memcpy(out, m, n);
    out[n] = '\0';
}

/* b's error as err, its line counted from the file's start. */
static void error_at_file_line(const xs_load_spec *spec,
                               const xs_load_block *b, xs_error *err)
{
    char msg[sizeof err->msg];
    at_file_line(spec, b->line_base, b->err.msg, msg, sizeof msg);
    xs_error_set(err, b->err.code, "%s", msg);
}

/* Adds what block b skipped to spec->report. */
static void add_report(const xs_load_spec *spec, const xs_load_block *b)
{
    xs_load_report *r = spec->report;
    if (!r)
        return;
    r->bad_lines += b->bad;
    r->returns += b->returns;
    for (unsigned k = 0; k < b->n_shown && r->n_shown < XS_LOAD_SHOWN; k++)
        at_file_line(spec, b->line_base, b->shown[k], r->shown[r->n_shown++],
                     XS_LOAD_SHOWN_LEN);
}

/* The progress report after a block ending at `done`; non-zero: stop. */
static int report(const xs_load_spec *spec, int parsing, uint64_t done,
                  uint64_t total, uint64_t lines)
{
    xs_load_status st = {spec->path, parsing, done, total, lines};
    return spec->progress->fn(spec->progress->arg, &st);
}

/* ---- the driver ----------------------------------------------------------- */

typedef struct run_state {
    const xs_load_spec *spec;
    xs_csv_blocks in;
    int threads;
    char delim;
    int first; /* the next block is the file's first */
    uint64_t line_base;
    size_t records;
} run_state;

/* Step 1 for one block: reads it and opens its reader; the file's first
 * block has its header read here.  1: a block, 0: the end, -1: error. */
static int read_block(run_state *st, xs_load_block *b, xs_error *err)
{
    memset(b, 0, sizeof *b);
    xs_csv_block cb;
    int rc = xs_csv_blocks_next(&st->in, &cb, err);
    if (rc < 0)
        return -1;
    if (rc == 0 && !st->first)
        return 0;
    if (rc == 0) { /* an empty file still has its header read */
        cb.buf = calloc(1, 1);
        if (!cb.buf)
            return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory",
                                st->spec->path), -1;
        cb.offset = st->in.offset;
    }
    b->buf = cb.buf;
    b->len = cb.len;
    b->end = cb.offset + cb.len;
    b->delim = st->delim;
    b->skip_bad = st->spec->on_bad_line == XS_BAD_LINE_SKIP;
    if (st->first) { /* checked here, for its header; the others in step 2 */
        st->first = 0;
        if (block_prepare(st->spec, b, err) ||
            (st->spec->header &&
             st->spec->header(st->spec->arg, &b->csv, err))) {
            block_free(b);
            return -1;
        }
        st->delim = b->csv.delim;
    }
    return 1;
}

/* Steps 2 to 5 on blk[0..nb); 0 or -1 with err set. */
static int merge_round(run_state *st, xs_dataset *ds, xs_load_block *blk,
                       size_t nb, xs_error *err)
{
    const xs_load_spec *spec = st->spec;
    size_t ev_base[nb], record_base[nb];
    load_round r = {spec, blk, nb, NULL, ev_base, record_base, 0};
    run_tasks(st->threads, nb, parse_task, &r);
    /* the first failure in file order; line bases as we go */
    size_t n_ev = ds->n_events;
    for (size_t i = 0; i < nb; i++) {
        blk[i].line_base = st->line_base;
        if (blk[i].failed) {
            error_at_file_line(spec, &blk[i], err);
            return -1;
        }
        if (spec->max_records &&
            blk[i].records > spec->max_records - st->records)
            return xs_error_set(err, XS_ERR_DATA, "%s:%llu: too many %s",
                                spec->path,
                                (unsigned long long)st->line_base + 1,
                                spec->records_name), -1;
        add_report(spec, &blk[i]);
        st->line_base += blk[i].lines_end - 1;
        ev_base[i] = n_ev;
        record_base[i] = st->records;
        n_ev += blk[i].n_ev;
        st->records += blk[i].records;
    }
    run_tasks(st->threads, XS_DICT_SHARDS, intern_task, &r);
    if (atomic_load(&r.failed))
        goto nomem;
    for (size_t i = 0; i < nb; i++) /* step 4 */
        for (int k = 0; k < XS_LOAD_DICTS; k++) {
            xs_load_names *t = &blk[i].names[k];
            if (!spec->dicts[k])
                continue;
            for (uint32_t id = 0; id < t->n; id++) {
                uint32_t gid;
                if (t->first[id] &&
                    xs_dict_number(spec->dicts[k], t->ref[id], &gid))
                    goto nomem;
            }
        }
    if (n_ev > ds->cap_events) {
        size_t cap = ds->cap_events ? ds->cap_events * 2 : 4096;
        if (cap < n_ev)
            cap = n_ev;
        /* the first time, room for the whole file at the first round's
         * events per byte (+5%): one large allocation, which malloc maps
         * apart and realloc later moves by remapping, instead of a series
         * of copies whose freed predecessors stay resident in the heap */
        uint64_t seen = blk[nb - 1].end;
        if (!ds->cap_events && st->in.size > seen && seen) {
            double guess = (double)n_ev * (double)st->in.size / (double)seen;
            if (guess * 1.05 > (double)cap && guess * 1.05 < (double)SIZE_MAX /
                                                     (2 * sizeof(xs_event)))
                cap = (size_t)(guess * 1.05);
        }
        xs_event *e = realloc(ds->events, cap * sizeof *e);
        if (!e)
            goto nomem;
        ds->events = e;
        ds->cap_events = cap;
    }
    r.out = ds->events;
    run_tasks(st->threads, nb, remap_task, &r);
    ds->n_events = n_ev;
    for (size_t i = 0; i < nb; i++) {
        ds->duplicates += blk[i].duplicates;
        if (!spec->progress)
            continue;
        /* a file of known size reports parsing, a stream reading (its
         * size is not known before its end); at 100% a stop is too late */
        uint64_t total = st->in.size;
        int last = total && blk[i].end == total;
        if (report(spec, total != 0, blk[i].end, total,
                   blk[i].line_base + blk[i].lines_end - 1) &&
            !last)
            return xs_error_set(err, XS_ERR_IO,
                                "%s: load interrupted at line %llu",
                                spec->path,
                                (unsigned long long)(blk[i].line_base +
                                                     blk[i].lines_end)), -1;
    }
    return 0;
nomem:
    return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", spec->path),
           -1;
}

int xs_load_run(const xs_load_spec *spec, xs_dataset *ds, size_t *records,
                xs_error *err)
{
    run_state st = {.spec = spec, .threads = spec->threads, .delim = ',',
                    .first = 1};
    *records = 0;
    if (st.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        st.threads = n > 0 ? (int)n : 1;
    }
    if (st.threads > 256)
        st.threads = 256;
    if (xs_csv_blocks_open(&st.in, spec->path, spec->block_size, err))
        return -1;
    /* a round of ROUND_BLOCKS blocks per thread: threads take them as they
     * come free, so one thread held up (by a busy machine) holds the
     * others up less, and there are fewer rounds to join */
    size_t round_blocks = (size_t)st.threads * ROUND_BLOCKS;
    xs_load_block *blk = calloc(round_blocks, sizeof *blk);
    if (!blk) {
        xs_csv_blocks_close(&st.in);
        return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory",
                            spec->path), -1;
    }
    int rc = 0, more = 1;
    uint64_t done = 0;
    while (more && !rc) {
        size_t nb = 0;
        while (nb < round_blocks) {
            int got = read_block(&st, &blk[nb], err);
            if (got < 0)
                rc = -1;
            if (got <= 0) {
                more = 0;
                break;
            }
            nb++;
        }
        if (!rc && nb)
            rc = merge_round(&st, ds, blk, nb, err);
        if (nb)
            done = blk[nb - 1].end;
        for (size_t i = 0; i < nb; i++)
            block_free(&blk[i]);
    }
    free(blk);
    if (!rc && spec->progress && !st.in.size)
        report(spec, 1, done, done, st.line_base); /* a stream: 100% */
    xs_csv_blocks_close(&st.in);
    if (rc)
        return -1;
    if (ds->n_events && ds->n_events < ds->cap_events) {
        xs_event *e = realloc(ds->events, ds->n_events * sizeof *e);
        if (e) {
            ds->events = e;
            ds->cap_events = ds->n_events;
        }
    }
    *records = st.records;
    return 0;
}
