/*
 * protocol.c -- requests to replies (protocol.h, docs/protocol.md).
 *
 * A request is read in two passes over the received bytes: xs_mp_check
 * proves it is one well-formed msgpack value nested at most XS_MAX_DEPTH
 * deep, then the top-level map is scanned once, recording where each known
 * field's value starts.  Each op then reads its fields with type checks;
 * every problem becomes an error reply naming the field.  Nothing is
 * allocated per request once the handler is warm: ids, exclusions and
 * ingest events go to arrays the handler keeps, strings are read in place.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "serve/mp_read.h"
#include "serve/protocol.h"
#include "xsell/rules.h"

enum field_id {
    F_OP, F_ITEMS, F_CUSTOMER, F_K, F_PLUGIN, F_EXCLUDE, F_EXPLAIN, F_EVENTS,
    F_MIN_SUPPORT, F_MIN_CONFIDENCE, F_LIMIT, F_SORT, F_SCOPE, F_ID,
    F_CATEGORY, F_EXCLUDE_OWNED, F_COUNT
};

static const char *const field_names[F_COUNT] = {
    "op",          "items",          "customer", "k",    "plugin",
    "exclude",     "explain",        "events",   "min_support",
    "min_confidence", "limit",       "sort",     "scope", "id",
    "category",    "exclude_owned"};

/* Bytes for integer ids turned into strings: three per event at most. */
#define ID_TEXT 24

struct xs_protocol {
    const xs_protocol_shared *sh;
    xs_context *ctx;
    msgpack_sbuffer buf;
    msgpack_packer pk;
    xs_mp field[F_COUNT];
    int has[F_COUNT];
    uint32_t ids[XS_MAX_ITEMS];
    uint32_t exclude[XS_MAX_ITEMS];
    struct { const char *s; uint32_t len; } unknown[XS_MAX_ITEMS];
    char unknown_text[XS_MAX_ITEMS][ID_TEXT]; /* unknown integer ids */
    uint32_t n_unknown;
    xs_ingest_event *events; /* XS_INGEST_MAX, on first ingest */
    xs_catalog_item *catalog; /* XS_INGEST_MAX, on first catalog op */
    char *id_text;           /* 3 * XS_INGEST_MAX * ID_TEXT */
    char err[256];
    const uint8_t *id; /* the request's "id" value, echoed in the reply */
    size_t id_len;
};

double xs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

xs_protocol *xs_protocol_new(const xs_protocol_shared *sh)
{
    xs_protocol *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->sh = sh;
    p->ctx = xs_context_new(sh->engine);
    if (!p->ctx) {
        free(p);
        return NULL;
    }
    msgpack_sbuffer_init(&p->buf);
    msgpack_packer_init(&p->pk, &p->buf, msgpack_sbuffer_write);
    return p;
}

void xs_protocol_free(xs_protocol *p)
{
    if (!p)
        return;
    xs_context_free(p->ctx);
    msgpack_sbuffer_destroy(&p->buf);
    free(p->events);
    free(p->catalog);
    free(p->id_text);
    free(p);
}

/* ---- packing helpers ------------------------------------------------------ */

static void pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

static void pack_strn(msgpack_packer *pk, const char *s, uint32_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

/* Starts a reply map of n entries plus "ok" and the echoed "id". */
static void pack_head(xs_protocol *p, uint32_t n, int ok)
{
    msgpack_pack_map(&p->pk, n + 1 + (p->id != NULL));
    pack_str(&p->pk, "ok");
    if (ok)
        msgpack_pack_true(&p->pk);
    else
        msgpack_pack_false(&p->pk);
    if (p->id) {
        pack_str(&p->pk, "id");
        msgpack_sbuffer_write(&p->buf, (const char *)p->id, p->id_len);
    }
}


/* Replaces whatever was packed with an error reply; returns -1. */
static int fail(xs_protocol *p, const char *code, const char *fmt, ...)
    XS_PRINTF(3, 4);
static int fail(xs_protocol *p, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err, sizeof p->err, fmt, ap);
    va_end(ap);
    /* Messages quote request bytes (an unknown op or plugin, cut to a few
     * dozen bytes): keep them ASCII, so that they are valid UTF-8 strings
     * any client can decode. */
    for (char *c = p->err; *c; c++)
        if ((unsigned char)*c >= 0x80)
            *c = '?';
    msgpack_sbuffer_clear(&p->buf);
    pack_head(p, 1, 0);
    pack_str(&p->pk, "error");
    msgpack_pack_map(&p->pk, 2);
    pack_str(&p->pk, "code");
    pack_str(&p->pk, code);
    pack_str(&p->pk, "message");
    pack_str(&p->pk, p->err);
    return -1;
}

void xs_protocol_error(xs_protocol *p, const char *code, const char *msg,
                       const char **reply, size_t *reply_len)
{
    p->id = NULL;
    fail(p, code, "%s", msg);
    *reply = p->buf.data;
    *reply_len = p->buf.size;
}

/* ---- reading fields -------------------------------------------------------- */

/* An id: a string, or an integer written in decimal into text. */
static int read_id(xs_mp *m, char *text, const char **s, uint32_t *len)
{
    if (xs_mp_type(m) == XS_MP_STR)
        return xs_mp_read_str(m, s, len);
    int64_t v;
    if (xs_mp_read_int(m, &v))
        return -1;
    *len = (uint32_t)snprintf(text, ID_TEXT, "%lld", (long long)v);
    *s = text;
    return 0;
}

static int want(xs_protocol *p, const char *field, const char *what,
                const xs_mp *m)
{
    return fail(p, "bad_request", "%s: want %s, not %s", field, what,
                xs_mp_type_name(xs_mp_type(m)));
}

static int opt_int(xs_protocol *p, int f, int64_t def, int64_t lo, int64_t hi,
                   int64_t *out)
{
    *out = def;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    if (xs_mp_read_int(&m, out))
        return want(p, field_names[f], "an integer", &p->field[f]);
    if (*out < lo || *out > hi)
        return fail(p, "bad_request", "%s must be %lld..%lld, not %lld",
                    field_names[f], (long long)lo, (long long)hi,
                    (long long)*out);
    return 0;
}

static int opt_number(xs_protocol *p, int f, double def, double lo, double hi,
                      double *out)
{
    *out = def;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    if (xs_mp_read_number(&m, out))
        return want(p, field_names[f], "a number", &p->field[f]);
    if (*out < lo || *out > hi)
        return fail(p, "bad_request", "%s must be in [%g, %g]",
                    field_names[f], lo, hi);
    return 0;
}

static int opt_str(xs_protocol *p, int f, const char **s, uint32_t *len)
{
    *s = NULL;
    *len = 0;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    if (xs_mp_type(&m) == XS_MP_NIL)
        return 0;
    if (xs_mp_read_str(&m, s, len))
        return want(p, field_names[f], "a string", &p->field[f]);
    return 0;
}

/* Reads an array of ids and looks them up (caller holds the read lock).
 * Known ids go to ids[], unknown ones to p->unknown when record_unknown. */
static int read_id_array(xs_protocol *p, int f, uint32_t *ids, uint32_t *n,
                         int record_unknown)
{
    *n = 0;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    uint32_t count;
    if (xs_mp_read_array(&m, &count))
        return want(p, field_names[f], "an array of ids", &p->field[f]);
    if (count > XS_MAX_ITEMS)
        return fail(p, "too_large", "%s: %u entries (at most %d)",
                    field_names[f], count, XS_MAX_ITEMS);
    const xs_dataset *ds = xs_engine_dataset(p->sh->engine);
    char text[ID_TEXT];
    for (uint32_t i = 0; i < count; i++) {
        const char *s;
        uint32_t len;
        if (read_id(&m, text, &s, &len))
            return fail(p, "bad_request", "%s[%u]: want a string id, not %s",
                        field_names[f], i, xs_mp_type_name(xs_mp_type(&m)));
        uint32_t id = xs_dict_find(ds->items, s, len);
        if (id != XS_NONE)
            ids[(*n)++] = id;
        else if (record_unknown) { /* names in the message, or integers */
            if (s == text)
                s = memcpy(p->unknown_text[p->n_unknown], text, len);
            p->unknown[p->n_unknown].s = s;
            p->unknown[p->n_unknown++].len = len;
        }
    }
    return 0;
}

/* ---- ops ------------------------------------------------------------------- */

static void pack_evidence(msgpack_packer *pk, const xs_evidence *ev)
{
    for (uint32_t f = 0; f < ev->n; f++) {
        pack_str(pk, ev->f[f].key);
        if (ev->f[f].text)
            pack_str(pk, ev->f[f].text);
        else
            msgpack_pack_double(pk, ev->f[f].value);
    }
}

static int op_recommend(xs_protocol *p)
{
    xs_engine *e = p->sh->engine;
    int64_t k;
    const char *plugin, *customer;
    uint32_t plugin_len, customer_len;
    int explain = 0;
    if (opt_int(p, F_K, 10, 1, XS_K_MAX, &k) ||
        opt_str(p, F_PLUGIN, &plugin, &plugin_len))
        return -1;
    if (p->has[F_EXPLAIN]) {
        xs_mp m = p->field[F_EXPLAIN];
        if (xs_mp_read_bool(&m, &explain))
            return want(p, "explain", "a boolean", &p->field[F_EXPLAIN]);
    }
    int exclude_owned = -1;
    if (p->has[F_EXCLUDE_OWNED]) {
        xs_mp m = p->field[F_EXCLUDE_OWNED];
        if (xs_mp_read_bool(&m, &exclude_owned))
            return want(p, "exclude_owned", "a boolean",
                        &p->field[F_EXCLUDE_OWNED]);
    }
    const char *cat_s;
    uint32_t cat_len;
    if (opt_str(p, F_CATEGORY, &cat_s, &cat_len))
        return -1;
    char category[256];
    if (cat_s) {
        if (cat_len >= sizeof category || memchr(cat_s, '\0', cat_len))
            return fail(p, "bad_request", "unknown category");
        memcpy(category, cat_s, cat_len);
        category[cat_len] = '\0';
    }
    char name[64];
    const char *chosen = NULL; /* NULL: the blend */
    if (plugin) {
        if (plugin_len >= sizeof name || memchr(plugin, '\0', plugin_len))
            return fail(p, "unknown_plugin", "unknown plugin");
        memcpy(name, plugin, plugin_len);
        name[plugin_len] = '\0';
        chosen = name;
    } else {
        chosen = p->sh->default_plugin;
    }
    char cust_text[ID_TEXT];
    customer = NULL;
    customer_len = 0;
    if (p->has[F_CUSTOMER]) {
        xs_mp m = p->field[F_CUSTOMER];
        if (xs_mp_type(&m) != XS_MP_NIL &&
            read_id(&m, cust_text, &customer, &customer_len))
            return want(p, "customer", "a string id", &p->field[F_CUSTOMER]);
    }
    xs_engine_read_lock(e);
    uint32_t n_ids, n_ex;
    p->n_unknown = 0;
    int rc = read_id_array(p, F_ITEMS, p->ids, &n_ids, 1);
    if (rc == 0)
        rc = read_id_array(p, F_EXCLUDE, p->exclude, &n_ex, 0);
    if (rc) {
        xs_engine_read_unlock(e);
        return rc;
    }
    n_ids = xs_request_items(p->ids, n_ids);
    xs_request req = {p->ids, n_ids, XS_NONE, (uint32_t)k, explain, XS_NONE};
    if (customer) {
        const xs_dataset *ds = xs_engine_dataset(e);
        req.customer = xs_dict_find(ds->customers, customer, customer_len);
    }
    if (cat_s) {
        req.category = xs_catalog_category(xs_engine_catalog(e), category);
        if (req.category == XS_NONE) {
            xs_engine_read_unlock(e);
            return fail(p, "bad_request", "unknown category '%.60s'",
                        category);
        }
    }
    const xs_rec *recs;
    size_t n;
    xs_error err;
    xs_filter filter = {p->exclude, n_ex, exclude_owned};
    if (xs_engine_recommend_filtered(e, p->ctx, chosen, &req, &filter, &recs,
                                     &n, &err)) {
        xs_engine_read_unlock(e);
        if (err.code == XS_ERR_NOTFOUND)
            return fail(p, "unknown_plugin", "%s", err.msg);
        return fail(p, err.code == XS_ERR_USAGE ? "bad_request" : "internal",
                    "%s", err.msg);
    }
    msgpack_packer *pk = &p->pk;
    pack_head(p, p->n_unknown ? 2 : 1, 1);
    pack_str(pk, "items");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map(pk, 3 + recs[i].ev.n);
        pack_str(pk, "item");
        pack_str(pk, xs_engine_item_name(e, recs[i].item));
        pack_str(pk, "score");
        msgpack_pack_double(pk, recs[i].score);
        pack_str(pk, "plugin");
        pack_str(pk, recs[i].plugin);
        pack_evidence(pk, &recs[i].ev);
    }
    xs_engine_read_unlock(e);
    if (p->n_unknown) {
        pack_str(pk, "unknown");
        msgpack_pack_array(pk, p->n_unknown);
        for (uint32_t i = 0; i < p->n_unknown; i++)
            pack_strn(pk, p->unknown[i].s, p->unknown[i].len);
    }
    return 0;
}

/* Reads one ingest event map into ev. */
static int read_event(xs_protocol *p, xs_mp *m, uint32_t i, xs_ingest_event *ev,
                      char *text)
{
    uint32_t n;
    if (xs_mp_read_map(m, &n))
        return fail(p, "bad_request", "events[%u]: want a map, not %s", i,
                    xs_mp_type_name(xs_mp_type(m)));
    *ev = (xs_ingest_event){0};
    ev->ts = (int64_t)time(NULL);
    ev->weight = 1.0;
    ev->price = NAN;
    int seen_customer = 0, seen_item = 0;
    for (uint32_t f = 0; f < n; f++) {
        const char *key;
        uint32_t klen;
        if (xs_mp_read_str(m, &key, &klen))
            return fail(p, "bad_request", "events[%u]: keys must be strings",
                        i);
        int nil = xs_mp_type(m) == XS_MP_NIL;
        if (xs_mp_str_eq(key, klen, "customer")) {
            if (read_id(m, text, &ev->customer, &ev->customer_len))
                return fail(p, "bad_request",
                            "events[%u].customer: want a string id", i);
            seen_customer = 1;
        } else if (xs_mp_str_eq(key, klen, "item")) {
            if (read_id(m, text + ID_TEXT, &ev->item, &ev->item_len))
                return fail(p, "bad_request",
                            "events[%u].item: want a string id", i);
            seen_item = 1;
        } else if (xs_mp_str_eq(key, klen, "order")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (read_id(m, text + 2 * ID_TEXT, &ev->order, &ev->order_len))
                return fail(p, "bad_request",
                            "events[%u].order: want a string id", i);
        } else if (xs_mp_str_eq(key, klen, "ts")) {
            double t;
            if (xs_mp_read_number(m, &t) || fabs(t) > 9.2e15)
                return fail(p, "bad_request",
                            "events[%u].ts: want unix seconds", i);
            ev->ts = (int64_t)floor(t);
        } else if (xs_mp_str_eq(key, klen, "qty")) {
            if (xs_mp_read_number(m, &ev->weight))
                return fail(p, "bad_request", "events[%u].qty: want a number",
                            i);
        } else if (xs_mp_str_eq(key, klen, "price")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_number(m, &ev->price))
                return fail(p, "bad_request",
                            "events[%u].price: want a number", i);
        } else if (xs_mp_skip(m, XS_MAX_DEPTH)) {
            return fail(p, "bad_request", "events[%u]: malformed", i);
        }
    }
    if (!seen_customer || !seen_item)
        return fail(p, "bad_request", "events[%u]: missing field '%s'", i,
                    seen_customer ? "item" : "customer");
    return 0;
}

static int op_ingest(xs_protocol *p)
{
    if (!p->has[F_EVENTS])
        return fail(p, "bad_request", "missing field 'events'");
    xs_mp m = p->field[F_EVENTS];
    uint32_t n;
    if (xs_mp_read_array(&m, &n))
        return want(p, "events", "an array of maps", &p->field[F_EVENTS]);
    if (n > XS_INGEST_MAX)
        return fail(p, "too_large", "events: %u in one request (at most %d)",
                    n, XS_INGEST_MAX);
    if (!p->events) {
        p->events = malloc(XS_INGEST_MAX * sizeof *p->events);
        p->id_text = malloc((size_t)XS_INGEST_MAX * 3 * ID_TEXT);
        if (!p->events || !p->id_text)
            return fail(p, "internal", "out of memory");
    }
    for (uint32_t i = 0; i < n; i++)
        if (read_event(p, &m, i, &p->events[i],
                       p->id_text + (size_t)i * 3 * ID_TEXT))
            return -1;
    xs_error err;
    if (xs_engine_ingest(p->sh->engine, p->events, n, &err))
        return fail(p, err.code == XS_ERR_USAGE ? "bad_request" : "internal",
                    "%s", err.msg);
    pack_head(p, 1, 1);
    pack_str(&p->pk, "accepted");
    msgpack_pack_uint32(&p->pk, n);
    return 0;
}

/* Reads one catalog entry map into it. */
static int read_catalog_item(xs_protocol *p, xs_mp *m, uint32_t i,
                             xs_catalog_item *it, char *text)
{
    uint32_t n;
    if (xs_mp_read_map(m, &n))
        return fail(p, "bad_request", "items[%u]: want a map, not %s", i,
                    xs_mp_type_name(xs_mp_type(m)));
    *it = (xs_catalog_item){0};
    it->margin = NAN;
    it->price = NAN;
    it->in_stock = 1;
    for (uint32_t f = 0; f < n; f++) {
        const char *key;
        uint32_t klen;
        if (xs_mp_read_str(m, &key, &klen))
            return fail(p, "bad_request", "items[%u]: keys must be strings",
                        i);
        int nil = xs_mp_type(m) == XS_MP_NIL;
        if (xs_mp_str_eq(key, klen, "item")) {
            if (read_id(m, text, &it->item, &it->item_len))
                return fail(p, "bad_request",
                            "items[%u].item: want a string id", i);
        } else if (xs_mp_str_eq(key, klen, "category")) {
            if (read_id(m, text + ID_TEXT, &it->category, &it->category_len))
                return fail(p, "bad_request",
                            "items[%u].category: want a string", i);
        } else if (xs_mp_str_eq(key, klen, "price")) {
            if (xs_mp_read_number(m, &it->price))
                return fail(p, "bad_request",
                            "items[%u].price: want a number", i);
        } else if (xs_mp_str_eq(key, klen, "margin")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_number(m, &it->margin))
                return fail(p, "bad_request",
                            "items[%u].margin: want a number", i);
        } else if (xs_mp_str_eq(key, klen, "in_stock")) {
            if (xs_mp_read_bool(m, &it->in_stock))
                return fail(p, "bad_request",
                            "items[%u].in_stock: want a boolean", i);
        } else if (xs_mp_str_eq(key, klen, "title")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_str(m, &it->title, &it->title_len))
                return fail(p, "bad_request",
                            "items[%u].title: want a string", i);
        } else if (xs_mp_skip(m, XS_MAX_DEPTH)) {
            return fail(p, "bad_request", "items[%u]: malformed", i);
        }
    }
    const char *missing = !it->item ? "item" : !it->category ? "category"
                          : isnan(it->price) ? "price" : NULL;
    if (missing)
        return fail(p, "bad_request", "items[%u]: missing field '%s'", i,
                    missing);
    return 0;
}

static int op_catalog(xs_protocol *p)
{
    if (!p->has[F_ITEMS])
        return fail(p, "bad_request", "missing field 'items'");
    xs_mp m = p->field[F_ITEMS];
    uint32_t n;
    if (xs_mp_read_array(&m, &n))
        return want(p, "items", "an array of maps", &p->field[F_ITEMS]);
    if (n > XS_INGEST_MAX)
        return fail(p, "too_large", "items: %u in one request (at most %d)",
                    n, XS_INGEST_MAX);
    if (!p->catalog) {
        p->catalog = malloc(XS_INGEST_MAX * sizeof *p->catalog);
        if (!p->id_text)
            p->id_text = malloc((size_t)XS_INGEST_MAX * 3 * ID_TEXT);
        if (!p->catalog || !p->id_text)
            return fail(p, "internal", "out of memory");
    }
    for (uint32_t i = 0; i < n; i++)
        if (read_catalog_item(p, &m, i, &p->catalog[i],
                              p->id_text + (size_t)i * 3 * ID_TEXT))
            return -1;
    xs_error err;
    size_t added;
    if (xs_engine_catalog_upsert(p->sh->engine, p->catalog, n, &added, &err))
        return fail(p, err.code == XS_ERR_USAGE ? "bad_request" : "internal",
                    "%s", err.msg);
    pack_head(p, 2, 1);
    pack_str(&p->pk, "accepted");
    msgpack_pack_uint32(&p->pk, n);
    pack_str(&p->pk, "added");
    msgpack_pack_uint64(&p->pk, added);
    return 0;
}

static int op_rules(xs_protocol *p)
{
    xs_engine *e = p->sh->engine;
    double min_support, min_conf;
    int64_t limit;
    const char *sort_s, *scope_s;
    uint32_t sort_len, scope_len;
    if (opt_number(p, F_MIN_SUPPORT, 0.1, 0, 1, &min_support) ||
        opt_number(p, F_MIN_CONFIDENCE, 0.8, 0, 1, &min_conf) ||
        opt_int(p, F_LIMIT, 100, 1, XS_MAX_RULES, &limit) ||
        opt_str(p, F_SORT, &sort_s, &sort_len) ||
        opt_str(p, F_SCOPE, &scope_s, &scope_len))
        return -1;
    int sort = XS_RULES_BY_LIFT;
    if (sort_s) {
        char name[16];
        snprintf(name, sizeof name, "%.*s", (int)(sort_len < 15 ? sort_len : 15),
                 sort_s);
        if (sort_len >= 15 || memchr(sort_s, '\0', sort_len) ||
            (sort = xs_rule_sort_parse(name)) < 0)
            return fail(p, "bad_request", "sort: want lift, confidence, "
                        "support, count or name");
    }
    int scope = xs_engine_default_scope(e);
    if (scope_s) {
        if (xs_mp_str_eq(scope_s, scope_len, "basket"))
            scope = XS_SCOPE_BASKET;
        else if (xs_mp_str_eq(scope_s, scope_len, "customer"))
            scope = XS_SCOPE_CUSTOMER;
        else
            return fail(p, "bad_request", "scope: want basket or customer");
    }
    xs_engine_read_lock(e);
    const xs_cooc *c = xs_engine_cooc(e, scope);
    if (!c) {
        xs_engine_read_unlock(e);
        return fail(p, "unavailable", "no %s-scope table on this server",
                    scope == XS_SCOPE_BASKET ? "basket" : "customer");
    }
    xs_rule *rules;
    size_t n;
    xs_error err;
    if (xs_rules_find(c, xs_engine_dataset(e)->items, min_support, min_conf,
                      sort, &rules, &n, &err)) {
        xs_engine_read_unlock(e);
        return fail(p, "internal", "%s", err.msg);
    }
    size_t shown = n < (size_t)limit ? n : (size_t)limit;
    msgpack_packer *pk = &p->pk;
    pack_head(p, 3, 1);
    pack_str(pk, "transactions");
    msgpack_pack_uint64(pk, xs_cooc_transactions(c));
    pack_str(pk, "total");
    msgpack_pack_uint64(pk, n);
    pack_str(pk, "rules");
    msgpack_pack_array(pk, shown);
    for (size_t i = 0; i < shown; i++) {
        const xs_rule *r = &rules[i];
        msgpack_pack_map(pk, 6);
        pack_str(pk, "lhs");
        pack_str(pk, xs_engine_item_name(e, r->lhs));
        pack_str(pk, "rhs");
        pack_str(pk, xs_engine_item_name(e, r->rhs));
        pack_str(pk, "support");
        msgpack_pack_double(pk, r->support);
        pack_str(pk, "confidence");
        msgpack_pack_double(pk, r->confidence);
        pack_str(pk, "lift");
        msgpack_pack_double(pk, r->lift);
        pack_str(pk, "count");
        msgpack_pack_uint32(pk, r->count);
    }
    xs_engine_read_unlock(e);
    free(rules);
    return 0;
}

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (size_t)rss * 4096;
}

static int op_stats(xs_protocol *p)
{
    xs_stats_summary s;
    xs_stats_summarize(p->sh->stats, p->sh->n_stats, &s);
    xs_engine_info info;
    xs_engine_read_lock(p->sh->engine);
    xs_engine_info_get(p->sh->engine, &info);
    xs_engine_read_unlock(p->sh->engine);
    msgpack_packer *pk = &p->pk;
    pack_head(p, 11, 1);
    pack_str(pk, "uptime_s");
    msgpack_pack_double(pk, xs_now() - p->sh->started);
    pack_str(pk, "requests");
    msgpack_pack_map(pk, XS_OP_COUNT);
    for (int op = 0; op < XS_OP_COUNT; op++) {
        pack_str(pk, xs_op_name(op));
        msgpack_pack_map(pk, 2);
        pack_str(pk, "count");
        msgpack_pack_uint64(pk, s.requests[op]);
        pack_str(pk, "errors");
        msgpack_pack_uint64(pk, s.errors[op]);
    }
    pack_str(pk, "latency_us");
    msgpack_pack_map(pk, 4);
    pack_str(pk, "p50");
    msgpack_pack_double(pk, s.p50_us);
    pack_str(pk, "p90");
    msgpack_pack_double(pk, s.p90_us);
    pack_str(pk, "p99");
    msgpack_pack_double(pk, s.p99_us);
    pack_str(pk, "max");
    msgpack_pack_double(pk, s.max_us);
    pack_str(pk, "customers");
    msgpack_pack_uint32(pk, info.customers);
    pack_str(pk, "items");
    msgpack_pack_uint32(pk, info.items);
    pack_str(pk, "events");
    msgpack_pack_uint64(pk, info.events);
    pack_str(pk, "ingested");
    msgpack_pack_uint64(pk, info.ingested);
    pack_str(pk, "transactions");
    msgpack_pack_map(pk, 2);
    pack_str(pk, "basket");
    msgpack_pack_uint64(pk, info.transactions[XS_SCOPE_BASKET]);
    pack_str(pk, "customer");
    msgpack_pack_uint64(pk, info.transactions[XS_SCOPE_CUSTOMER]);
    pack_str(pk, "pairs");
    msgpack_pack_map(pk, 2);
    pack_str(pk, "basket");
    msgpack_pack_uint64(pk, info.pairs[XS_SCOPE_BASKET]);
    pack_str(pk, "customer");
    msgpack_pack_uint64(pk, info.pairs[XS_SCOPE_CUSTOMER]);
    pack_str(pk, "memory");
    msgpack_pack_map(pk, 2);
    pack_str(pk, "data_bytes");
    msgpack_pack_uint64(pk, info.bytes);
    pack_str(pk, "rss_bytes");
    msgpack_pack_uint64(pk, rss_bytes());
    const xs_engine *e = p->sh->engine;
    size_t np = xs_engine_plugin_count(e);
    pack_str(pk, "plugins");
    msgpack_pack_map(pk, np);
    for (size_t i = 0; i < np; i++) {
        pack_str(pk, xs_engine_plugin(e, i)->name);
        msgpack_pack_map(pk, 1);
        pack_str(pk, "dropped");
        msgpack_pack_uint64(pk, xs_engine_plugin_dropped(e, i));
    }
    return 0;
}

static int op_health(xs_protocol *p)
{
    pack_head(p, 2, 1);
    pack_str(&p->pk, "status");
    pack_str(&p->pk, "serving");
    pack_str(&p->pk, "uptime_s");
    msgpack_pack_double(&p->pk, xs_now() - p->sh->started);
    return 0;
}

static int op_plugins(xs_protocol *p)
{
    const xs_engine *e = p->sh->engine;
    size_t n = xs_engine_plugin_count(e);
    pack_head(p, 2, 1);
    pack_str(&p->pk, "default");
    pack_str(&p->pk, p->sh->default_plugin ? p->sh->default_plugin : "blend");
    pack_str(&p->pk, "plugins");
    msgpack_pack_array(&p->pk, n);
    for (size_t i = 0; i < n; i++) {
        const xs_plugin *pl = xs_engine_plugin(e, i);
        msgpack_pack_map(&p->pk, 4);
        pack_str(&p->pk, "name");
        pack_str(&p->pk, pl->name);
        pack_str(&p->pk, "version");
        pack_str(&p->pk, pl->version ? pl->version : "");
        pack_str(&p->pk, "abi");
        msgpack_pack_uint32(&p->pk, pl->abi);
        pack_str(&p->pk, "description");
        pack_str(&p->pk, pl->description ? pl->description : "");
    }
    return 0;
}

/* ---- dispatch --------------------------------------------------------------- */

static int parse_request(xs_protocol *p, const void *req, size_t len, int *op)
{
    *op = XS_OP_INVALID;
    p->id = NULL; /* never the previous request's (its bytes are freed) */
    if (xs_mp_check(req, len, XS_MAX_DEPTH))
        return fail(p, "bad_request", "not one msgpack value (or nested "
                    "deeper than %d)", XS_MAX_DEPTH);
    xs_mp m;
    xs_mp_init(&m, req, len);
    uint32_t n;
    if (xs_mp_read_map(&m, &n))
        return fail(p, "bad_request", "a request is a map, not %s",
                    xs_mp_type_name(xs_mp_type(&m)));
    memset(p->has, 0, sizeof p->has);
    p->id = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const char *key;
        uint32_t klen;
        if (xs_mp_read_str(&m, &key, &klen))
            return fail(p, "bad_request", "keys must be strings");
        int f;
        for (f = 0; f < F_COUNT; f++)
            if (xs_mp_str_eq(key, klen, field_names[f]))
                break;
        if (f < F_COUNT) {
            if (p->has[f])
                return fail(p, "bad_request", "field '%s' given twice",
                            field_names[f]);
            p->has[f] = 1;
            p->field[f] = m;
        } /* unknown fields are ignored: newer clients may send more */
        xs_mp_skip(&m, XS_MAX_DEPTH); /* checked above: cannot fail */
        if (f == F_ID) { /* echo a string or integer id of sane size */
            int t = xs_mp_type(&p->field[F_ID]);
            size_t id_len = (size_t)(m.p - p->field[F_ID].p);
            if ((t == XS_MP_STR || t == XS_MP_INT) && id_len <= 256) {
                p->id = p->field[F_ID].p;
                p->id_len = id_len;
            }
        }
    }
    if (!p->has[F_OP])
        return fail(p, "bad_request", "missing field 'op'");
    xs_mp om = p->field[F_OP];
    const char *s;
    uint32_t slen;
    if (xs_mp_read_str(&om, &s, &slen))
        return want(p, "op", "a string", &p->field[F_OP]);
    *op = xs_op_parse(s, slen);
    if (*op == XS_OP_INVALID)
        return fail(p, "unknown_op", "unknown op '%.*s' (recommend, ingest, "
                    "catalog, rules, stats, health, plugins)", (int)(slen < 40 ? slen : 40),
                    s);
    return 0;
}

int xs_protocol_handle(xs_protocol *p, const void *req, size_t len,
                       const char **reply, size_t *reply_len, int *failed)
{
    int op;
    msgpack_sbuffer_clear(&p->buf);
    int rc = parse_request(p, req, len, &op);
    if (rc == 0) {
        switch (op) {
        case XS_OP_RECOMMEND: rc = op_recommend(p); break;
        case XS_OP_INGEST: rc = op_ingest(p); break;
        case XS_OP_RULES: rc = op_rules(p); break;
        case XS_OP_STATS: rc = op_stats(p); break;
        case XS_OP_HEALTH: rc = op_health(p); break;
        case XS_OP_PLUGINS: rc = op_plugins(p); break;
        case XS_OP_CATALOG: rc = op_catalog(p); break;
        default: rc = fail(p, "unknown_op", "unknown op"); break;
        }
    }
    *failed = rc != 0;
    *reply = p->buf.data;
    *reply_len = p->buf.size;
    return op;
}
