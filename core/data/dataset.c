/*
 * dataset.c -- the event store and its two file loaders.
 *
 * Loaders build a fresh dataset and hand it over only when the whole file
 * has been read without error; on any error the partial dataset is freed, so
 * callers never see half a file.  What a record means is said here (a
 * header, one block's records turned into events with block-local ids);
 * streaming the file, the threads, interning in file order and progress are
 * data/load.c's.  The parse functions run on several blocks at once: they
 * read their context and write only their block.
 *
 * Event types: the optional `type` column is interned like the ids (the
 * types dictionary starts with XS_PRIMARY_TYPE, so the primary type is id
 * 0 in every file), and once the file is read the events of other types
 * move to ds->other (split_types, a stable pass) and items and customers
 * are numbered again, purchases first (renumber: a pass over the events
 * and a second dictionary, paid only by files with views).  ds->events and
 * the ids then are what the same file without those lines would give, so
 * nothing that reads purchases changes when a file gains views.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/datefmt.h"
#include "data/load.h"
#include "data/returns.h"
#include "xsell/dataset.h"

/* ---- column mapping ------------------------------------------------------ */

int xs_columns_parse(xs_columns *cols, const char *spec, xs_error *err)
{
    free(cols->owned);
    cols->owned = strdup(spec ? spec : "");
    if (!cols->owned)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    char *save = NULL;
    for (char *tok = strtok_r(cols->owned, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq || eq == tok || !eq[1])
            return xs_error_set(err, XS_ERR_USAGE,
                                "--columns: '%s' is not ROLE=NAME", tok);
        *eq = '\0';
        const char *name = eq + 1;
        if (!strcmp(tok, "customer"))
            cols->customer = name;
        else if (!strcmp(tok, "item"))
            cols->item = name;
        else if (!strcmp(tok, "timestamp"))
            cols->timestamp = name;
        else if (!strcmp(tok, "weight"))
            cols->weight = name;
        else if (!strcmp(tok, "price"))
            cols->price = name;
        else if (!strcmp(tok, "order"))
            cols->order = name;
        else if (!strcmp(tok, "type"))
            cols->type = name;
        else
            return xs_error_set(err, XS_ERR_USAGE,
                                "--columns: unknown role '%s' (roles: customer, "
                                "item, timestamp, weight, price, order, type)", tok);
    }
    return XS_OK;
}

void xs_columns_free(xs_columns *cols)
{
    free(cols->owned);
    memset(cols, 0, sizeof *cols);
}

/* ---- the store ----------------------------------------------------------- */

xs_dataset *xs_dataset_new(void)
{
    xs_dataset *ds = calloc(1, sizeof *ds);
    if (!ds)
        return NULL;
    ds->items = xs_dict_new();
    ds->customers = xs_dict_new();
    if (!ds->items || !ds->customers) {
        xs_dataset_free(ds);
        return NULL;
    }
    return ds;
}

void xs_dataset_free(xs_dataset *ds)
{
    if (!ds)
        return;
    xs_dict_free(ds->items);
    xs_dict_free(ds->customers);
    xs_dict_free(ds->orders);
    xs_dict_free(ds->types);
    free(ds->events);
    free(ds->other);
    free(ds);
}

/* Appends ev to the array *v of *n events (room for *cap, doubled from
 * first when full); 0 or -1 (memory: the array as it was). */
static int append_event(xs_event **v, size_t *n, size_t *cap, size_t first,
                        const xs_event *ev)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : first;
        xs_event *e = realloc(*v, c * sizeof *e);
        if (!e)
            return -1;
        *v = e;
        *cap = c;
    }
    (*v)[(*n)++] = *ev;
    return 0;
}

int xs_dataset_push(xs_dataset *ds, const xs_event *ev)
{
    return append_event(&ds->events, &ds->n_events, &ds->cap_events, 4096, ev);
}

int xs_dataset_push_other(xs_dataset *ds, const xs_event *ev)
{
    return append_event(&ds->other, &ds->n_other, &ds->cap_other, 1024, ev);
}

int xs_dataset_use_types(xs_dataset *ds)
{
    uint32_t id;
    if (ds->types)
        return 0;
    if (!(ds->types = xs_dict_new()) ||
        xs_dict_intern(ds->types, XS_PRIMARY_TYPE, strlen(XS_PRIMARY_TYPE),
                       &id))
        return -1;
    return 0;
}

int xs_type_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > XS_TYPE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 127 ||
            s[i] == ',' || s[i] == '=' || s[i] == '"')
            return 0;
    return 1;
}

/* The id field `which` (0: item, 1: customer) of an event. */
static uint32_t *id_of(xs_event *e, int which)
{
    return which ? &e->customer : &e->item;
}

/* Renumbers dictionary *dp in order of first appearance in ds->events,
 * then in ds->other: the ids the file without its other types' lines
 * gives, and names seen only in views after them.  0 or -1 (memory). */
static int renumber(xs_dataset *ds, xs_dict **dp, int which)
{
    uint32_t n = xs_dict_size(*dp), id;
    uint32_t *map = malloc(((size_t)n + 1) * sizeof *map);
    xs_dict *d = xs_dict_new();
    if (!map || !d)
        goto nomem;
    memset(map, 0xFF, ((size_t)n + 1) * sizeof *map);
    for (int pass = 0; pass < 2; pass++) {
        xs_event *ev = pass ? ds->other : ds->events;
        size_t m = pass ? ds->n_other : ds->n_events;
        for (size_t i = 0; i < m; i++) {
            uint32_t *f = id_of(&ev[i], which);
            if (*f >= n)
                continue;
            if (map[*f] == XS_NONE) {
                const char *name = xs_dict_name(*dp, *f);
                if (xs_dict_intern(d, name, strlen(name), &id))
                    goto nomem;
                map[*f] = id;
            }
            *f = map[*f];
        }
    }
    free(map);
    xs_dict_free(*dp);
    *dp = d;
    return 0;
nomem:
    free(map);
    xs_dict_free(d);
    return -1;
}

/* Moves the events of non-primary types from ds->events to ds->other,
 * both keeping file order, and renumbers items and customers so that
 * those of purchases have the ids of the file without the other lines.
 * Returns 0 or -1 (memory). */
static int split_types(xs_dataset *ds)
{
    size_t kept = 0;
    for (size_t i = 0; i < ds->n_events; i++) {
        if (ds->events[i].reserved == 0)
            ds->events[kept++] = ds->events[i];
        else if (xs_dataset_push_other(ds, &ds->events[i]))
            return -1;
    }
    ds->n_events = kept;
    if (ds->n_other == 0)
        return 0;
    return renumber(ds, &ds->items, 0) || renumber(ds, &ds->customers, 1)
               ? -1
               : 0;
}

/* ---- --baskets ----------------------------------------------------------- */

/* Column names of events files and of common exports: a --baskets file
 * whose first line is only such names is an events file given the wrong
 * way (its prices, dates and ids would become "items"). */
static const char *const header_names[] = {
    "customer", "customer_id", "customerid", "user", "user_id", "userid",
    "visitorid", "item", "item_id", "itemid", "product", "product_id",
    "productid", "movieid", "sku", "stockcode", "timestamp", "time", "date",
    "datetime", "invoicedate", "event", "type", "event_type", "weight",
    "rating", "quantity", "qty", "price", "unitprice", "amount", "order",
    "order_id", "orderid", "invoice", "invoiceno", "transaction",
    "transactionid", "session", "session_id", "description", "title",
    "country", "category", "brand", "tags"};

/* 1 when the n bytes at s name a known column, case aside. */
static int known_column(const char *s, size_t n)
{
    for (size_t k = 0; k < sizeof header_names / sizeof *header_names; k++) {
        const char *h = header_names[k];
        size_t i = 0;
        while (i < n && h[i] &&
               (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]) == h[i])
            i++;
        if (i == n && !h[i])
            return 1;
    }
    return 0;
}

/* Refuses a first line of two or more known column names (looked at in
 * the raw bytes: nothing is consumed or unquoted). */
static int baskets_header(void *arg, xs_csv *c, xs_error *err)
{
    const char *path = arg;
    const char *p = c->buf + c->pos, *end = c->buf + c->len;
    size_t line = c->next_line;
    for (;;) { /* the first non-blank line */
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q >= end || *q != '\n')
            break;
        p = q + 1;
        line++;
    }
    const char *eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
    if (!eol)
        eol = end;
    size_t fields = 0;
    for (const char *f = p; f <= eol;) {
        const char *stop = f;
        while (stop < eol && *stop != ',' && *stop != '\t')
            stop++;
        const char *a = f, *b = stop;
        while (a < b && (*a == ' ' || *a == '"'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '"' || b[-1] == '\r'))
            b--;
        if (!known_column(a, (size_t)(b - a)))
            return 0;
        fields++;
        f = stop + 1;
    }
    if (fields < 2)
        return 0;
    int n = (int)(eol - p);
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return xs_error_set(err, XS_ERR_DATA, "%s:%zu: the first line is a "
                        "header of column names (%.*s): this is an events "
                        "file; give it with --events (and --columns when "
                        "its names differ), not --baskets", path, line,
                        n > 120 ? 120 : n, p), -1;
}

/* One block of baskets: a record per basket, its order the record's index
 * (made global by the driver); an item repeated in a basket is counted,
 * not stored.  A bad line (an empty item, CSV syntax) is refused before
 * any of its items is interned, so a skipped line leaves no trace. */
static int baskets_parse(void *arg, xs_load_block *b, xs_error *err)
{
    const char *path = arg;
    xs_csv *c = &b->csv;
    uint32_t *seen = NULL; /* seen[local item] = 1 + last basket holding it */
    uint32_t seen_cap = 0;
    int rc;
    while ((rc = xs_csv_next(c, err)) != 0) {
        if (rc < 0) {
            if (err->code == XS_ERR_DATA && !xs_load_bad(b, err) &&
                !xs_csv_skip_bad(c))
                continue;
            goto fail;
        }
        size_t empty = 0;
        for (size_t i = 0; i < c->n && !empty; i++)
            if (c->f[i].len == 0)
                empty = i + 1;
        if (empty) {
            xs_error_set(err, XS_ERR_DATA, "%s:%zu: empty item name in field "
                         "%zu (stray comma?)", path, c->line, empty);
            if (xs_load_bad(b, err))
                goto fail;
            continue;
        }
        uint32_t basket = (uint32_t)b->records++;
        for (size_t i = 0; i < c->n; i++) {
            xs_event ev = {XS_NONE, 0, basket, 0, 0, 1.0, NAN};
            if (xs_load_intern(b, XS_LOAD_ITEM, c->f[i].s, c->f[i].len,
                               &ev.item))
                goto nomem;
            if (ev.item >= seen_cap) {
                uint32_t cap = seen_cap ? seen_cap * 2 : 1024;
                while (cap <= ev.item)
                    cap *= 2;
                uint32_t *s = realloc(seen, (size_t)cap * sizeof *s);
                if (!s)
                    goto nomem;
                memset(s + seen_cap, 0, (size_t)(cap - seen_cap) * sizeof *s);
                seen = s;
                seen_cap = cap;
            }
            if (seen[ev.item] == basket + 1) {
                b->duplicates++;
                continue;
            }
            seen[ev.item] = basket + 1;
            if (xs_load_push(b, &ev))
                goto nomem;
        }
    }
    free(seen);
    return 0;
nomem:
    xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
fail:
    free(seen);
    return -1;
}

xs_dataset *xs_dataset_load_baskets(const char *path, xs_error *err)
{
    return xs_dataset_load_baskets_opts(path, NULL, err);
}

xs_dataset *xs_dataset_load_baskets_progress(const char *path,
                                             const xs_progress *progress,
                                             xs_error *err)
{
    xs_load_options o = {.threads = 1, .progress = progress};
    return xs_dataset_load_baskets_opts(path, &o, err);
}

xs_dataset *xs_dataset_load_baskets_opts(const char *path,
                                         const xs_load_options *opt,
                                         xs_error *err)
{
    xs_dataset *ds = xs_dataset_new();
    if (!ds) {
        xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    xs_load_spec spec = {
        .path = path,
        .threads = opt ? opt->threads : 1,
        .block_size = opt ? opt->block_size : 0,
        .progress = opt && opt->progress && opt->progress->fn ? opt->progress
                                                              : NULL,
        .dicts = {NULL, ds->items, NULL},
        .record_orders = 1,
        .max_records = XS_NONE - 1,
        .records_name = "baskets",
        .header = baskets_header,
        .parse = baskets_parse,
        .arg = (void *)path,
        .on_bad_line = opt ? opt->on_bad_line : XS_BAD_LINE_ERROR,
        .encoding = opt ? opt->encoding : XS_ENCODING_UTF8,
        .report = opt ? opt->report : NULL,
    };
    if (spec.report)
        memset(spec.report, 0, sizeof *spec.report);
    size_t records;
    if (xs_load_run(&spec, ds, &records, err))
        goto fail;
    if (ds->n_events == 0) {
        xs_error_set(err, XS_ERR_DATA, "%s: empty file (no baskets)", path);
        goto fail;
    }
    ds->n_orders = (uint32_t)records;
    return ds;
fail:
    xs_dataset_free(ds);
    return NULL;
}

/* ---- --events ------------------------------------------------------------ */

enum { COL_CUSTOMER, COL_ITEM, COL_TIMESTAMP, COL_WEIGHT, COL_PRICE, COL_ORDER,
       COL_TYPE, COL_COUNT };

static const char *const col_role[COL_COUNT] = {
    "customer", "item", "timestamp", "weight", "price", "order", "type"};

/* The events loader's context: set by the header, read by every block. */
typedef struct events_ctx {
    const char *path;
    const char *want[COL_COUNT];
    long idx[COL_COUNT]; /* column of each role, -1: absent */
    size_t ncols;
    const char *date_format; /* NULL: unix seconds or ISO-8601 */
    int returns;             /* XS_RETURNS_* */
} events_ctx;

/* Writes the header's names, comma separated, into buf for messages. */
static void header_list(const xs_csv *c, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < c->n && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? "," : "",
                         c->f[i].s);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Picks the delimiter and finds each role's column. */
static int events_header(void *arg, xs_csv *c, xs_error *err)
{
    events_ctx *x = arg;
    c->delim = xs_csv_sniff(c);
    int rc = xs_csv_next(c, err);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return xs_error_set(err, XS_ERR_DATA, "%s: empty file (expected a "
                            "header line)", x->path), -1;
    x->ncols = c->n;
    for (int r = 0; r < COL_COUNT; r++) {
        const char *name = x->want[r] ? x->want[r] : col_role[r];
        x->idx[r] = -1;
        for (size_t i = 0; i < c->n; i++)
            if (!strcmp(c->f[i].s, name)) {
                x->idx[r] = (long)i;
                break;
            }
        if (x->idx[r] < 0 && (r <= COL_ITEM || x->want[r])) {
            char hdr[256];
            header_list(c, hdr, sizeof hdr);
            return xs_error_set(err, XS_ERR_DATA,
                                "%s:%zu: missing required column '%s'%s%s%s "
                                "(header: %s)", x->path, c->line, name,
                                x->want[r] ? " (mapped to " : "",
                                x->want[r] ? col_role[r] : "",
                                x->want[r] ? ")" : "", hdr), -1;
        }
    }
    return 0;
}

/* One block of events.  Every field is checked before any is interned, so
 * a bad line skipped, or a return dropped, leaves no name behind. */
static int events_parse(void *arg, xs_load_block *b, xs_error *err)
{
    const events_ctx *x = arg;
    const char *path = x->path;
    const long *idx = x->idx;
    xs_csv *c = &b->csv;
    int rc;
    /* Files are usually grouped by order or customer: remembering the last
     * string of each id column skips most lookups. */
    const char *last_cu = NULL, *last_it = NULL, *last_or = NULL;
    size_t last_cu_len = 0, last_it_len = 0, last_or_len = 0;
    uint32_t last_cu_id = XS_NONE, last_it_id = XS_NONE, last_or_id = XS_NONE;
#define INTERN_CACHED(dict, f, last, last_len, last_id, out)                 \
    do {                                                                     \
        if ((f)->len == last_len && last && !memcmp((f)->s, last, last_len)) \
            *(out) = last_id;                                                \
        else if (xs_load_intern(b, dict, (f)->s, (f)->len, out))             \
            goto nomem;                                                      \
        last = (f)->s;                                                       \
        last_len = (f)->len;                                                 \
        last_id = *(out);                                                    \
    } while (0)
    /* a bad line: the load fails, or the line is skipped */
#define BAD(...)                                                             \
    do {                                                                     \
        xs_error_set(err, XS_ERR_DATA, __VA_ARGS__);                         \
        if (xs_load_bad(b, err))                                             \
            return -1;                                                       \
        goto next;                                                           \
    } while (0)
    while ((rc = xs_csv_next(c, err)) != 0) {
        if (rc < 0) {
            if (err->code == XS_ERR_DATA && !xs_load_bad(b, err) &&
                !xs_csv_skip_bad(c))
                continue;
            return -1;
        }
        if (c->n != x->ncols)
            BAD("%s:%zu: expected %zu fields as in the header, found %zu",
                path, c->line, x->ncols, c->n);
        const xs_csv_cell *f = c->f;
        xs_event ev = {XS_NONE, 0, XS_NONE, 0, 0, 1.0, NAN};
        int other = 0; /* of a type other than the primary */
        const xs_csv_cell *cu = &f[idx[COL_CUSTOMER]], *it = &f[idx[COL_ITEM]];
        if (cu->len == 0 || it->len == 0)
            BAD("%s:%zu: empty %s", path, c->line,
                cu->len == 0 ? "customer" : "item");
        if (idx[COL_TIMESTAMP] >= 0) {
            const xs_csv_cell *t = &f[idx[COL_TIMESTAMP]];
            if (x->date_format) {
                if (xs_parse_date_format(t->s, x->date_format, &ev.ts))
                    BAD("%s:%zu: bad timestamp '%.40s' (want the date "
                        "format '%s')", path, c->line, t->s, x->date_format);
            } else if (xs_parse_timestamp(t->s, t->len, &ev.ts)) {
                BAD("%s:%zu: bad timestamp '%.40s' (want unix seconds or "
                    "ISO-8601, or give its date format)", path, c->line,
                    t->s);
            }
        }
        int is_return = 0;
        if (idx[COL_WEIGHT] >= 0) {
            const xs_csv_cell *w = &f[idx[COL_WEIGHT]];
            if (xs_parse_double(w->s, w->len, &ev.weight) || isnan(ev.weight))
                BAD("%s:%zu: bad weight '%.40s' (want a number >= 0)", path,
                    c->line, w->s);
            if (ev.weight < 0) {
                if (x->returns == XS_RETURNS_ERROR)
                    BAD("%s:%zu: bad weight '%.40s' (negative: a return? "
                        "returns subtract or drop: --returns)", path, c->line,
                        w->s);
                b->returns++;
                if (x->returns == XS_RETURNS_DROP)
                    goto next;
                is_return = 1; /* subtracted once the file is loaded */
            }
        }
        if (idx[COL_PRICE] >= 0) {
            const xs_csv_cell *pr = &f[idx[COL_PRICE]];
            if (xs_parse_double(pr->s, pr->len, &ev.price) || ev.price < 0)
                BAD("%s:%zu: bad price '%.40s' (want a number >= 0)", path,
                    c->line, pr->s);
        }
        if (idx[COL_TYPE] >= 0) {
            const xs_csv_cell *t = &f[idx[COL_TYPE]];
            if (!xs_type_name_ok(t->s, t->len))
                BAD("%s:%zu: bad type '%.40s' (want a name of 1 to %d "
                    "characters, no spaces, commas or '=')", path, c->line,
                    t->s, XS_TYPE_NAME_MAX);
            if (xs_load_intern(b, XS_LOAD_TYPE, t->s, t->len, &ev.reserved))
                goto nomem;
            other = t->len != sizeof XS_PRIMARY_TYPE - 1 ||
                    memcmp(t->s, XS_PRIMARY_TYPE, t->len);
        }
        /* other types leave the order out: orders are the purchases' (the
         * orders dictionary equals the file's without those lines) */
        if (idx[COL_ORDER] >= 0 && !is_return && !other &&
            f[idx[COL_ORDER]].len == 0)
            BAD("%s:%zu: empty order", path, c->line);
        INTERN_CACHED(XS_LOAD_CUSTOMER, cu, last_cu, last_cu_len, last_cu_id,
                      &ev.customer);
        INTERN_CACHED(XS_LOAD_ITEM, it, last_it, last_it_len, last_it_id,
                      &ev.item);
        if (idx[COL_ORDER] >= 0 && !is_return && !other) /* a return joins
                                                             no order */
            INTERN_CACHED(XS_LOAD_ORDER, &f[idx[COL_ORDER]], last_or,
                          last_or_len, last_or_id, &ev.order);
        if (xs_load_push(b, &ev))
            goto nomem;
        b->records++;
    next:;
    }
#undef BAD
#undef INTERN_CACHED
    return 0;
nomem:
    return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path), -1;
}

xs_dataset *xs_dataset_load_events(const char *path, const xs_columns *cols,
                                   xs_error *err)
{
    return xs_dataset_load_events_opts(path, cols, NULL, err);
}

xs_dataset *xs_dataset_load_events_progress(const char *path,
                                            const xs_columns *cols,
                                            const xs_progress *progress,
                                            xs_error *err)
{
    xs_load_options o = {.threads = 1, .progress = progress};
    return xs_dataset_load_events_opts(path, cols, &o, err);
}

xs_dataset *xs_dataset_load_events_opts(const char *path,
                                        const xs_columns *cols,
                                        const xs_load_options *opt,
                                        xs_error *err)
{
    static const xs_columns defaults = {0};
    if (!cols)
        cols = &defaults;
    events_ctx x = {path,
                    {cols->customer, cols->item, cols->timestamp,
                     cols->weight, cols->price, cols->order, cols->type},
                    {0},
                    0,
                    opt ? opt->date_format : NULL,
                    opt ? opt->returns : XS_RETURNS_ERROR};
    xs_dataset *ds = xs_dataset_new();
    if (!ds || !(ds->orders = xs_dict_new()) || xs_dataset_use_types(ds)) {
        xs_dataset_free(ds);
        xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
        return NULL;
    }
    xs_load_spec spec = {
        .path = path,
        .threads = opt ? opt->threads : 1,
        .block_size = opt ? opt->block_size : 0,
        .progress = opt && opt->progress && opt->progress->fn ? opt->progress
                                                              : NULL,
        .dicts = {ds->customers, ds->items, ds->orders, ds->types},
        .header = events_header,
        .parse = events_parse,
        .arg = &x,
        .on_bad_line = opt ? opt->on_bad_line : XS_BAD_LINE_ERROR,
        .encoding = opt ? opt->encoding : XS_ENCODING_UTF8,
        .report = opt ? opt->report : NULL,
    };
    if (spec.report)
        memset(spec.report, 0, sizeof *spec.report);
    size_t records;
    if (xs_load_run(&spec, ds, &records, err))
        goto fail;
    if (ds->n_events == 0) {
        xs_error_set(err, XS_ERR_DATA, "%s: no events after the header", path);
        goto fail;
    }
    if (x.idx[COL_TYPE] < 0) { /* no type column: no types dictionary */
        xs_dict_free(ds->types);
        ds->types = NULL;
    }
    if (ds->types) {
        if (xs_dict_size(ds->types) > XS_TYPES_MAX) {
            xs_error_set(err, XS_ERR_DATA, "%s: %u event types (at most %d)",
                         path, xs_dict_size(ds->types), XS_TYPES_MAX);
            goto fail;
        }
        if (split_types(ds)) {
            xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
            goto fail;
        }
        if (ds->n_events == 0) {
            xs_error_set(err, XS_ERR_DATA, "%s: no '%s' events (the primary "
                         "type) after the header", path, XS_PRIMARY_TYPE);
            goto fail;
        }
    }
    /* returns cancel purchases (after the split: never a view) */
    if (x.returns == XS_RETURNS_SUBTRACT &&
        xs_returns_subtract(ds, spec.report, err))
        goto fail;
    ds->has_customer = 1;
    ds->has_timestamp = x.idx[COL_TIMESTAMP] >= 0;
    ds->has_weight = x.idx[COL_WEIGHT] >= 0;
    ds->has_price = x.idx[COL_PRICE] >= 0;
    if (x.idx[COL_ORDER] < 0) { /* no order column: no orders dictionary */
        xs_dict_free(ds->orders);
        ds->orders = NULL;
    }
    ds->n_orders = ds->orders ? xs_dict_size(ds->orders) : 0;
    return ds;
fail:
    xs_dataset_free(ds);
    return NULL;
}
