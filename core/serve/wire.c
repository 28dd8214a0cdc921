/*
 * wire.c -- reading request fields and packing replies (serve/wire.h).
 *
 * Every reader checks the type of what it reads and answers a mismatch
 * with an error reply naming the field; nothing here allocates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "serve/wire.h"

const char *const xs_wire_field_names[XS_F_COUNT] = {
    "op",           "items",   "customer", "k",           "plugin",
    "exclude",      "explain", "events",   "min_support", "min_confidence",
    "limit",        "sort",    "scope",    "id",          "category",
    "exclude_owned", "filter", "boost"};

void xs_wire_pack_str(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void xs_wire_pack_strn(msgpack_packer *pk, const char *s, uint32_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

void xs_wire_pack_name(msgpack_packer *pk, const xs_dict *d, uint32_t id)
{
    uint32_t n;
    const char *s = xs_dict_key(d, id, &n);
    if (s)
        xs_wire_pack_strn(pk, s, n);
    else
        msgpack_pack_nil(pk);
}

/* Starts a reply map of n entries plus "ok" and the echoed "id". */
void xs_wire_head(xs_protocol *p, uint32_t n, int ok)
{
    msgpack_pack_map(&p->pk, n + 1 + (p->id != NULL));
    xs_wire_pack_str(&p->pk, "ok");
    if (ok)
        msgpack_pack_true(&p->pk);
    else
        msgpack_pack_false(&p->pk);
    if (p->id) {
        xs_wire_pack_str(&p->pk, "id");
        msgpack_sbuffer_write(&p->buf, (const char *)p->id, p->id_len);
    }
}

int xs_wire_fail(xs_protocol *p, const char *code, const char *fmt, ...)
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
    xs_wire_head(p, 1, 0);
    xs_wire_pack_str(&p->pk, "error");
    msgpack_pack_map(&p->pk, 2);
    xs_wire_pack_str(&p->pk, "code");
    xs_wire_pack_str(&p->pk, code);
    xs_wire_pack_str(&p->pk, "message");
    xs_wire_pack_str(&p->pk, p->err);
    return -1;
}

/* An id: a string, or an integer written in decimal into text. */
int xs_wire_read_id(xs_mp *m, char *text, const char **s, uint32_t *len)
{
    if (xs_mp_type(m) == XS_MP_STR)
        return xs_mp_read_str(m, s, len);
    int64_t v;
    if (xs_mp_read_int(m, &v))
        return -1;
    *len = (uint32_t)snprintf(text, XS_ID_TEXT, "%lld", (long long)v);
    *s = text;
    return 0;
}

int xs_wire_want(xs_protocol *p, const char *field, const char *what,
                 const xs_mp *m)
{
    return xs_wire_fail(p, "bad_request", "%s: want %s, not %s", field, what,
                        xs_mp_type_name(xs_mp_type(m)));
}

int xs_wire_opt_int(xs_protocol *p, int f, int64_t def, int64_t lo, int64_t hi,
                    int64_t *out)
{
    *out = def;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    if (xs_mp_read_int(&m, out))
        return xs_wire_want(p, xs_wire_field_names[f], "an integer",
                            &p->field[f]);
    if (*out < lo || *out > hi)
        return xs_wire_fail(p, "bad_request", "%s must be %lld..%lld, not %lld",
                            xs_wire_field_names[f], (long long)lo,
                            (long long)hi, (long long)*out);
    return 0;
}

int xs_wire_opt_number(xs_protocol *p, int f, double def, double lo, double hi,
                       double *out)
{
    *out = def;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    if (xs_mp_read_number(&m, out))
        return xs_wire_want(p, xs_wire_field_names[f], "a number",
                            &p->field[f]);
    if (*out < lo || *out > hi)
        return xs_wire_fail(p, "bad_request", "%s must be in [%g, %g]",
                            xs_wire_field_names[f], lo, hi);
    return 0;
}

int xs_wire_opt_str(xs_protocol *p, int f, const char **s, uint32_t *len)
{
    *s = NULL;
    *len = 0;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    if (xs_mp_type(&m) == XS_MP_NIL)
        return 0;
    if (xs_mp_read_str(&m, s, len))
        return xs_wire_want(p, xs_wire_field_names[f], "a string",
                            &p->field[f]);
    return 0;
}

/* Reads an array of ids and looks them up (caller holds the read lock).
 * Known ids go to ids[], unknown ones to p->unknown when record_unknown. */
int xs_wire_read_ids(xs_protocol *p, int f, uint32_t *ids, uint32_t *n,
                     int record_unknown)
{
    *n = 0;
    if (!p->has[f])
        return 0;
    xs_mp m = p->field[f];
    uint32_t count;
    if (xs_mp_read_array(&m, &count))
        return xs_wire_want(p, xs_wire_field_names[f], "an array of ids",
                            &p->field[f]);
    if (count > XS_MAX_ITEMS)
        return xs_wire_fail(p, "too_large", "%s: %u entries (at most %d)",
                            xs_wire_field_names[f], count, XS_MAX_ITEMS);
    const xs_dataset *ds = xs_engine_dataset(p->sh->engine);
    char text[XS_ID_TEXT];
    for (uint32_t i = 0; i < count; i++) {
        const char *s;
        uint32_t len;
        if (xs_wire_read_id(&m, text, &s, &len))
            return xs_wire_fail(
                p, "bad_request", "%s[%u]: want a string id, not %s",
                xs_wire_field_names[f], i, xs_mp_type_name(xs_mp_type(&m)));
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
