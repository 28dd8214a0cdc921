/*
 * op_recommend.c -- the recommend op: a request's fields become an
 * xs_request and its filter, the engine answers under the read lock, and
 * the items go back with their names (read under the same lock: ingest may
 * intern new names meanwhile).  Unknown request items are listed in the
 * reply, not refused: a storefront may ask about an item the engine has
 * not seen yet.  A plugin asked alone that answers nothing may say why
 * (the host API's note()): the reply's `note`, "plugin: why".
 *
 * `filter` ({"brand": ["A", "B"], "tags": "organic"}) and `boost`
 * ({"brand:A": 1.5}) become the filter's property terms, strings read in
 * place (the engine resolves them; an unknown property is its
 * bad_request); the request's time is the server's clock, read by the
 * engine only when some catalog entry has dates.
 */
#include <stdio.h>
#include <string.h>

#include "serve/wire.h"

static void pack_evidence(msgpack_packer *pk, const xs_evidence *ev)
{
    for (uint32_t f = 0; f < ev->n; f++) {
        xs_wire_pack_str(pk, ev->f[f].key);
        if (ev->f[f].text)
            xs_wire_pack_str(pk, ev->f[f].text);
        else
            msgpack_pack_double(pk, ev->f[f].value);
    }
}

/* Reads `filter` and `boost` into p->terms and f.  0, or -1 with the
 * error reply packed. */
static int read_rules(xs_protocol *p, xs_filter *f)
{
    if (!p->has[XS_F_FILTER] && !p->has[XS_F_BOOST])
        return 0;
    if (!p->terms &&
        !(p->terms = malloc(2 * XS_PROP_TERMS_MAX * sizeof *p->terms)))
        return xs_wire_fail(p, "internal", "out of memory");
    xs_prop_term *where = p->terms, *boost = p->terms + XS_PROP_TERMS_MAX;
    uint32_t nw = 0, nb = 0, n;
    if (p->has[XS_F_FILTER]) {
        xs_mp m = p->field[XS_F_FILTER];
        if (xs_mp_read_map(&m, &n))
            return xs_wire_want(p, "filter", "a map of property: values",
                                &p->field[XS_F_FILTER]);
        for (uint32_t i = 0; i < n; i++) {
            const char *name, *v;
            uint32_t name_len, v_len, nv = 1;
            if (xs_mp_read_str(&m, &name, &name_len))
                return xs_wire_fail(p, "bad_request",
                                    "filter: keys must be property names");
            int list = xs_mp_type(&m) == XS_MP_ARRAY;
            if (list && xs_mp_read_array(&m, &nv))
                return xs_wire_fail(p, "bad_request", "filter: malformed");
            if (list && nv == 0)
                return xs_wire_fail(p, "bad_request",
                                    "filter.%.*s: no value",
                                    (int)(name_len > 64 ? 64 : name_len),
                                    name);
            for (uint32_t j = 0; j < nv; j++) {
                if (xs_mp_read_str(&m, &v, &v_len))
                    return xs_wire_fail(
                        p, "bad_request",
                        "filter.%.*s: want a string or an array of strings",
                        (int)(name_len > 64 ? 64 : name_len), name);
                if (nw == XS_PROP_TERMS_MAX)
                    return xs_wire_fail(p, "too_large",
                                        "filter: more than %d values",
                                        XS_PROP_TERMS_MAX);
                where[nw++] = (xs_prop_term){name, v, name_len, v_len, 1.0};
            }
        }
    }
    if (p->has[XS_F_BOOST]) {
        xs_mp m = p->field[XS_F_BOOST];
        if (xs_mp_read_map(&m, &n))
            return xs_wire_want(p, "boost", "a map of \"property:value\": "
                                "factor", &p->field[XS_F_BOOST]);
        if (n > XS_PROP_TERMS_MAX)
            return xs_wire_fail(p, "too_large", "boost: more than %d terms",
                                XS_PROP_TERMS_MAX);
        for (uint32_t i = 0; i < n; i++) {
            const char *key;
            uint32_t klen;
            double factor;
            if (xs_mp_read_str(&m, &key, &klen))
                return xs_wire_fail(p, "bad_request",
                                    "boost: keys must be \"property:value\"");
            const char *colon = memchr(key, ':', klen);
            int shown = (int)(klen > 64 ? 64 : klen);
            if (!colon || colon == key || colon + 1 == key + klen)
                return xs_wire_fail(p, "bad_request",
                                    "boost: '%.*s': want \"property:value\"",
                                    shown, key);
            if (xs_mp_read_number(&m, &factor) || !(factor > 0) ||
                factor > 1e300)
                return xs_wire_fail(p, "bad_request",
                                    "boost.%.*s: want a number > 0", shown,
                                    key);
            uint32_t nl = (uint32_t)(colon - key);
            boost[nb++] = (xs_prop_term){key, colon + 1, nl, klen - nl - 1,
                                         factor};
        }
    }
    f->where = where;
    f->n_where = nw;
    f->boost = boost;
    f->n_boost = nb;
    return 0;
}

int xs_op_recommend(xs_protocol *p)
{
    xs_engine *e = p->sh->engine;
    int64_t k;
    const char *plugin, *customer;
    uint32_t plugin_len, customer_len;
    int explain = 0;
    if (xs_wire_opt_int(p, XS_F_K, 10, 1, XS_K_MAX, &k) ||
        xs_wire_opt_str(p, XS_F_PLUGIN, &plugin, &plugin_len))
        return -1;
    if (p->has[XS_F_EXPLAIN]) {
        xs_mp m = p->field[XS_F_EXPLAIN];
        if (xs_mp_read_bool(&m, &explain))
            return xs_wire_want(p, "explain", "a boolean",
                                &p->field[XS_F_EXPLAIN]);
    }
    int exclude_owned = -1;
    if (p->has[XS_F_EXCLUDE_OWNED]) {
        xs_mp m = p->field[XS_F_EXCLUDE_OWNED];
        if (xs_mp_read_bool(&m, &exclude_owned))
            return xs_wire_want(p, "exclude_owned", "a boolean",
                                &p->field[XS_F_EXCLUDE_OWNED]);
    }
    const char *cat_s;
    uint32_t cat_len;
    if (xs_wire_opt_str(p, XS_F_CATEGORY, &cat_s, &cat_len))
        return -1;
    char category[256];
    if (cat_s) {
        if (cat_len >= sizeof category || memchr(cat_s, '\0', cat_len))
            return xs_wire_fail(p, "bad_request", "unknown category");
        memcpy(category, cat_s, cat_len);
        category[cat_len] = '\0';
    }
    char name[64];
    const char *chosen = NULL; /* NULL: the blend */
    if (plugin) {
        if (plugin_len >= sizeof name || memchr(plugin, '\0', plugin_len))
            return xs_wire_fail(p, "unknown_plugin", "unknown plugin");
        memcpy(name, plugin, plugin_len);
        name[plugin_len] = '\0';
        chosen = name;
    } else {
        chosen = p->sh->default_plugin;
    }
    char cust_text[XS_ID_TEXT];
    customer = NULL;
    customer_len = 0;
    if (p->has[XS_F_CUSTOMER]) {
        xs_mp m = p->field[XS_F_CUSTOMER];
        if (xs_mp_type(&m) != XS_MP_NIL &&
            xs_wire_read_id(&m, cust_text, &customer, &customer_len))
            return xs_wire_want(p, "customer", "a string id",
                                &p->field[XS_F_CUSTOMER]);
    }
    xs_engine_read_lock(e);
    uint32_t n_ids, n_ex;
    p->n_unknown = 0;
    int rc = xs_wire_read_ids(p, XS_F_ITEMS, p->ids, &n_ids, 1);
    if (rc == 0)
        rc = xs_wire_read_ids(p, XS_F_EXCLUDE, p->exclude, &n_ex, 0);
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
            return xs_wire_fail(p, "bad_request", "unknown category '%.60s'",
                                category);
        }
    }
    const xs_rec *recs;
    size_t n;
    xs_error err;
    xs_filter filter = {.exclude = p->exclude, .n_exclude = n_ex,
                        .exclude_owned = exclude_owned};
    if (read_rules(p, &filter)) {
        xs_engine_read_unlock(e);
        return -1;
    }
    if (xs_engine_recommend_filtered(e, p->ctx, chosen, &req, &filter, &recs,
                                     &n, &err)) {
        xs_engine_read_unlock(e);
        if (err.code == XS_ERR_NOTFOUND)
            return xs_wire_fail(p, "unknown_plugin", "%s", err.msg);
        return xs_wire_fail(
            p, err.code == XS_ERR_USAGE ? "bad_request" : "internal", "%s",
            err.msg);
    }
    msgpack_packer *pk = &p->pk;
    const xs_dict *names = xs_engine_dataset(e)->items;
    /* Start every name's cache misses before packing: the loads of the
     * names' addresses are independent, so they overlap here instead of
     * costing one stall per result in the loop below. */
    for (size_t i = 0; i < n; i++) {
        const char *s = xs_dict_name(names, recs[i].item);
        if (s)
            __builtin_prefetch(s);
    }
    /* a plugin answering alone with nothing may say why (xs_context_note) */
    const char *note = n == 0 && chosen ? xs_context_note(p->ctx) : NULL;
    xs_wire_head(p, 1 + (p->n_unknown > 0) + (note != NULL), 1);
    xs_wire_pack_str(pk, "items");
    msgpack_pack_array(pk, n);
    for (size_t i = 0; i < n; i++) {
        msgpack_pack_map(pk, 3 + recs[i].ev.n);
        xs_wire_pack_str(pk, "item");
        xs_wire_pack_name(pk, names, recs[i].item); /* O(1), no strlen */
        xs_wire_pack_str(pk, "score");
        msgpack_pack_double(pk, recs[i].score);
        xs_wire_pack_str(pk, "plugin");
        xs_wire_pack_str(pk, recs[i].plugin);
        pack_evidence(pk, &recs[i].ev);
    }
    if (note) {
        char text[320]; /* a longer reason is cut */
        snprintf(text, sizeof text, "%s: %s", chosen, note);
        xs_wire_pack_str(pk, "note");
        xs_wire_pack_str(pk, text);
    }
    xs_engine_read_unlock(e);
    if (p->n_unknown) {
        xs_wire_pack_str(pk, "unknown");
        msgpack_pack_array(pk, p->n_unknown);
        for (uint32_t i = 0; i < p->n_unknown; i++)
            xs_wire_pack_strn(pk, p->unknown[i].s, p->unknown[i].len);
    }
    return 0;
}
