/*
 * op_write.c -- the ops that change the engine: ingest (new events) and
 * catalog (new or changed catalog entries).  Each reads its whole array
 * into the handler's buffers first (the first bad entry refuses the
 * request, naming it), then hands the batch to the engine, which validates
 * it again and applies it whole or not at all.  With a data dir, the
 * engine has journaled the batch before applying it, and the reply waits
 * for the server's commit hook (the fsync policy) before it goes out.
 * `save` writes a snapshot through the server's save hook.
 *
 * A catalog entry may carry `properties` ({"brand": "A", "tags": ["x",
 * "y"]}: strings read in place into the handler's value array, at most
 * XS_CATALOG_PROPS per request), `available_from` and `expires` (unix
 * seconds or a timestamp string, nil for none), `hidden`, or be
 * {"item": ID, "delete": true}, which needs nothing else.
 */
#include <math.h>
#include <stdlib.h>

#include "serve/wire.h"

/* Reads one ingest event map into ev. */
static int read_event(xs_protocol *p, xs_mp *m, uint32_t i, xs_ingest_event *ev,
                      char *text)
{
    uint32_t n;
    if (xs_mp_read_map(m, &n))
        return xs_wire_fail(p, "bad_request", "events[%u]: want a map, not %s",
                            i, xs_mp_type_name(xs_mp_type(m)));
    *ev = (xs_ingest_event){0};
    ev->ts = XS_TS_LATEST; /* no ts: the data's latest time, never the
                              host's clock (xs_engine_ingest resolves it) */
    ev->weight = 1.0;
    ev->price = NAN;
    int seen_customer = 0, seen_item = 0;
    for (uint32_t f = 0; f < n; f++) {
        const char *key;
        uint32_t klen;
        if (xs_mp_read_str(m, &key, &klen))
            return xs_wire_fail(p, "bad_request",
                                "events[%u]: keys must be strings", i);
        int nil = xs_mp_type(m) == XS_MP_NIL;
        if (xs_mp_str_eq(key, klen, "customer")) {
            if (xs_wire_read_id(m, text, &ev->customer, &ev->customer_len))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].customer: want a string id", i);
            seen_customer = 1;
        } else if (xs_mp_str_eq(key, klen, "item")) {
            if (xs_wire_read_id(m, text + XS_ID_TEXT, &ev->item, &ev->item_len))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].item: want a string id", i);
            seen_item = 1;
        } else if (xs_mp_str_eq(key, klen, "order")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_wire_read_id(m, text + 2 * XS_ID_TEXT, &ev->order,
                                     &ev->order_len))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].order: want a string id", i);
        } else if (xs_mp_str_eq(key, klen, "ts")) {
            double t;
            if (xs_mp_read_number(m, &t) || fabs(t) > 9.2e15)
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].ts: want unix seconds", i);
            ev->ts = (int64_t)floor(t);
        } else if (xs_mp_str_eq(key, klen, "qty")) {
            if (xs_mp_read_number(m, &ev->weight))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].qty: want a number", i);
        } else if (xs_mp_str_eq(key, klen, "price")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_number(m, &ev->price))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].price: want a number", i);
        } else if (xs_mp_str_eq(key, klen, "type")) {
            /* any type name (docs/protocol.md "ingest"); nil: purchase.
             * The string points into the request, which outlives the
             * batch; the engine checks the name. */
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_str(m, &ev->type, &ev->type_len))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].type: want a string", i);
            else if (!xs_type_name_ok(ev->type, ev->type_len))
                return xs_wire_fail(p, "bad_request",
                                    "events[%u].type: not a type name (1 to "
                                    "%d bytes, no spaces, commas, '=' or "
                                    "'\"')", i, XS_TYPE_NAME_MAX);
        } else if (xs_mp_skip(m, XS_MAX_DEPTH)) {
            return xs_wire_fail(p, "bad_request", "events[%u]: malformed", i);
        }
    }
    if (!seen_customer || !seen_item)
        return xs_wire_fail(p, "bad_request", "events[%u]: missing field '%s'",
                            i, seen_customer ? "item" : "customer");
    return 0;
}

int xs_op_ingest(xs_protocol *p)
{
    if (!p->has[XS_F_EVENTS])
        return xs_wire_fail(p, "bad_request", "missing field 'events'");
    xs_mp m = p->field[XS_F_EVENTS];
    uint32_t n;
    if (xs_mp_read_array(&m, &n))
        return xs_wire_want(p, "events", "an array of maps",
                            &p->field[XS_F_EVENTS]);
    if (n > XS_INGEST_MAX)
        return xs_wire_fail(p, "too_large",
                            "events: %u in one request (at most %d)", n,
                            XS_INGEST_MAX);
    /* the id text buffer is shared with catalog: either op may come first */
    if (!p->events)
        p->events = malloc(XS_INGEST_MAX * sizeof *p->events);
    if (!p->id_text)
        p->id_text = malloc((size_t)XS_INGEST_MAX * 3 * XS_ID_TEXT);
    if (!p->events || !p->id_text)
        return xs_wire_fail(p, "internal", "out of memory");
    for (uint32_t i = 0; i < n; i++)
        if (read_event(p, &m, i, &p->events[i],
                       p->id_text + (size_t)i * 3 * XS_ID_TEXT))
            return -1;
    xs_error err;
    if (xs_engine_ingest(p->sh->engine, p->events, n, &err))
        return xs_wire_fail(p,
                            err.code == XS_ERR_USAGE   ? "bad_request"
                            : err.code == XS_ERR_LIMIT ? "too_large"
                                                       : "internal",
                            "%s", err.msg);
    if (p->sh->commit && p->sh->commit(p->sh->persist_arg, &err))
        return xs_wire_fail(p, "internal", "applied, not known durable: %s",
                            err.msg);
    xs_wire_head(p, 1, 1);
    xs_wire_pack_str(&p->pk, "accepted");
    msgpack_pack_uint32(&p->pk, n);
    return 0;
}

/* Reads a date field (unix seconds, a timestamp string, or nil: none)
 * into *t.  0 or -1 (reply packed). */
static int read_date(xs_protocol *p, xs_mp *m, uint32_t i, const char *field,
                     int64_t *t)
{
    int type = xs_mp_type(m);
    *t = 0;
    if (type == XS_MP_NIL)
        return xs_mp_read_nil(m);
    if (type == XS_MP_STR) {
        const char *s;
        uint32_t len;
        if (!xs_mp_read_str(m, &s, &len) && !xs_parse_timestamp(s, len, t) &&
            *t > 0)
            return 0;
    } else {
        double v;
        if (!xs_mp_read_number(m, &v) && v >= 1 && v < 9.2e15) {
            *t = (int64_t)floor(v);
            return 0;
        }
    }
    return xs_wire_fail(p, "bad_request",
                        "items[%u].%s: want unix seconds (> 0), a timestamp "
                        "string or nil", i, field);
}

/* Reads an entry's `properties` map into p->props from *used on. */
static int read_props(xs_protocol *p, xs_mp *m, uint32_t i,
                      xs_catalog_item *it, uint32_t *used)
{
    uint32_t n;
    if (xs_mp_read_map(m, &n))
        return xs_wire_fail(p, "bad_request",
                            "items[%u].properties: want a map", i);
    if (!p->props &&
        !(p->props = malloc(XS_CATALOG_PROPS * sizeof *p->props)))
        return xs_wire_fail(p, "internal", "out of memory");
    it->props = p->props + *used;
    it->n_props = 0;
    for (uint32_t k = 0; k < n; k++) {
        const char *name, *v;
        uint32_t name_len, v_len, nv = 1;
        if (xs_mp_read_str(m, &name, &name_len))
            return xs_wire_fail(p, "bad_request",
                                "items[%u].properties: keys must be strings",
                                i);
        int list = xs_mp_type(m) == XS_MP_ARRAY;
        if (list && xs_mp_read_array(m, &nv))
            return xs_wire_fail(p, "bad_request",
                                "items[%u].properties: malformed", i);
        for (uint32_t j = 0; j < nv; j++) {
            if (xs_mp_read_str(m, &v, &v_len))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].properties.%.*s: want a string "
                                    "or an array of strings", i,
                                    (int)(name_len > 64 ? 64 : name_len),
                                    name);
            if (*used == XS_CATALOG_PROPS)
                return xs_wire_fail(p, "too_large",
                                    "items: more than %d property values in "
                                    "one request", XS_CATALOG_PROPS);
            p->props[(*used)++] = (xs_prop_value){name, v, name_len, v_len};
            it->n_props++;
        }
    }
    return 0;
}

/* Reads one catalog entry map into it. */
static int read_catalog_item(xs_protocol *p, xs_mp *m, uint32_t i,
                             xs_catalog_item *it, char *text, uint32_t *used)
{
    uint32_t n;
    if (xs_mp_read_map(m, &n))
        return xs_wire_fail(p, "bad_request", "items[%u]: want a map, not %s",
                            i, xs_mp_type_name(xs_mp_type(m)));
    *it = (xs_catalog_item){0};
    it->margin = NAN;
    it->price = NAN;
    it->in_stock = 1;
    for (uint32_t f = 0; f < n; f++) {
        const char *key;
        uint32_t klen;
        if (xs_mp_read_str(m, &key, &klen))
            return xs_wire_fail(p, "bad_request",
                                "items[%u]: keys must be strings", i);
        int nil = xs_mp_type(m) == XS_MP_NIL;
        if (xs_mp_str_eq(key, klen, "item")) {
            if (xs_wire_read_id(m, text, &it->item, &it->item_len))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].item: want a string id", i);
        } else if (xs_mp_str_eq(key, klen, "category")) {
            if (xs_wire_read_id(m, text + XS_ID_TEXT, &it->category,
                                &it->category_len))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].category: want a string", i);
        } else if (xs_mp_str_eq(key, klen, "price")) {
            if (xs_mp_read_number(m, &it->price))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].price: want a number", i);
        } else if (xs_mp_str_eq(key, klen, "margin")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_number(m, &it->margin))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].margin: want a number", i);
        } else if (xs_mp_str_eq(key, klen, "in_stock")) {
            if (xs_mp_read_bool(m, &it->in_stock))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].in_stock: want a boolean", i);
        } else if (xs_mp_str_eq(key, klen, "title")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (xs_mp_read_str(m, &it->title, &it->title_len))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].title: want a string", i);
        } else if (xs_mp_str_eq(key, klen, "hidden")) {
            if (xs_mp_read_bool(m, &it->hidden))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].hidden: want a boolean", i);
        } else if (xs_mp_str_eq(key, klen, "delete")) {
            if (xs_mp_read_bool(m, &it->remove))
                return xs_wire_fail(p, "bad_request",
                                    "items[%u].delete: want a boolean", i);
        } else if (xs_mp_str_eq(key, klen, "available_from")) {
            if (read_date(p, m, i, "available_from", &it->available_from))
                return -1;
        } else if (xs_mp_str_eq(key, klen, "expires")) {
            if (read_date(p, m, i, "expires", &it->expires))
                return -1;
        } else if (xs_mp_str_eq(key, klen, "properties")) {
            if (nil)
                xs_mp_read_nil(m);
            else if (read_props(p, m, i, it, used))
                return -1;
        } else if (xs_mp_skip(m, XS_MAX_DEPTH)) {
            return xs_wire_fail(p, "bad_request", "items[%u]: malformed", i);
        }
    }
    const char *missing = !it->item          ? "item"
                          : it->remove       ? NULL
                          : !it->category    ? "category"
                          : isnan(it->price) ? "price"
                                             : NULL;
    if (missing)
        return xs_wire_fail(p, "bad_request", "items[%u]: missing field '%s'",
                            i, missing);
    return 0;
}

int xs_op_catalog(xs_protocol *p)
{
    if (!p->has[XS_F_ITEMS])
        return xs_wire_fail(p, "bad_request", "missing field 'items'");
    xs_mp m = p->field[XS_F_ITEMS];
    uint32_t n;
    if (xs_mp_read_array(&m, &n))
        return xs_wire_want(p, "items", "an array of maps",
                            &p->field[XS_F_ITEMS]);
    if (n > XS_INGEST_MAX)
        return xs_wire_fail(p, "too_large",
                            "items: %u in one request (at most %d)", n,
                            XS_INGEST_MAX);
    if (!p->catalog)
        p->catalog = malloc(XS_INGEST_MAX * sizeof *p->catalog);
    if (!p->id_text)
        p->id_text = malloc((size_t)XS_INGEST_MAX * 3 * XS_ID_TEXT);
    if (!p->catalog || !p->id_text)
        return xs_wire_fail(p, "internal", "out of memory");
    uint32_t used = 0; /* property values read so far */
    for (uint32_t i = 0; i < n; i++)
        if (read_catalog_item(p, &m, i, &p->catalog[i],
                              p->id_text + (size_t)i * 3 * XS_ID_TEXT, &used))
            return -1;
    xs_error err;
    size_t added;
    if (xs_engine_catalog_upsert(p->sh->engine, p->catalog, n, &added, &err))
        return xs_wire_fail(
            p, err.code == XS_ERR_USAGE ? "bad_request" : "internal", "%s",
            err.msg);
    if (p->sh->commit && p->sh->commit(p->sh->persist_arg, &err))
        return xs_wire_fail(p, "internal", "applied, not known durable: %s",
                            err.msg);
    xs_wire_head(p, 2, 1);
    xs_wire_pack_str(&p->pk, "accepted");
    msgpack_pack_uint32(&p->pk, n);
    xs_wire_pack_str(&p->pk, "added");
    msgpack_pack_uint64(&p->pk, added);
    return 0;
}

/* `save`: a snapshot now (the data dir's, through the server's hook). */
int xs_op_save(xs_protocol *p)
{
    if (!p->sh->save)
        return xs_wire_fail(p, "unavailable",
                            "save: the server has no data dir (--data-dir)");
    xs_error err;
    xs_image_info info;
    double t0 = xs_now();
    if (p->sh->save(p->sh->persist_arg, &info, &err))
        return xs_wire_fail(p, "internal", "save: %s", err.msg);
    xs_wire_head(p, 4, 1);
    xs_wire_pack_str(&p->pk, "seq");
    msgpack_pack_uint64(&p->pk, info.seq);
    xs_wire_pack_str(&p->pk, "events");
    msgpack_pack_uint64(&p->pk, info.events);
    xs_wire_pack_str(&p->pk, "bytes");
    msgpack_pack_uint64(&p->pk, info.bytes);
    xs_wire_pack_str(&p->pk, "seconds");
    msgpack_pack_double(&p->pk, xs_now() - t0);
    return 0;
}
