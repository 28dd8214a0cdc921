/*
 * records.c -- encoding ingest and catalog batches as log payloads
 * (persist/records.h).
 *
 * The catalog record has two versions: the first (type 2) as logs written
 * before properties hold it, read for replay, and catalog2 (type 3), the
 * only one written now, which adds deletion, hidden, dates and
 * properties.  A log may hold both; each record says which it is.
 *
 * Fixed fields first, then the strings back to back, so decoding is one
 * pass with a bounds check per field and the decoded batch points into
 * the payload (no copies).  Byte order is the machine's: a log is replayed
 * where it was written (the snapshot's byte-order mark guards the pair).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "persist/records.h"

#define NONE_LEN UINT32_MAX

void xs_buf_free(xs_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static int put(xs_buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            return -1;
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
    return 0;
}

static int put_u32(xs_buf *b, uint32_t v) { return put(b, &v, sizeof v); }
static int put_f64(xs_buf *b, double v) { return put(b, &v, sizeof v); }

/* An event's type as logged: NULL for the primary type. */
static const char *type_of(const xs_ingest_event *e)
{
    if (!e->type || (e->type_len == sizeof XS_PRIMARY_TYPE - 1 &&
                     !memcmp(e->type, XS_PRIMARY_TYPE, e->type_len)))
        return NULL;
    return e->type;
}

int xs_record_ingest_typed(const xs_ingest_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (type_of(&ev[i]))
            return 1;
    return 0;
}

int xs_record_ingest(xs_buf *b, const xs_ingest_event *ev, size_t n,
                     int typed)
{
    b->n = 0;
    int bad = put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n && !bad; i++) {
        const xs_ingest_event *e = &ev[i];
        const char *t = typed ? type_of(e) : NULL;
        bad = put_u32(b, e->customer_len) || put_u32(b, e->item_len) ||
              put_u32(b, e->order ? e->order_len : NONE_LEN) ||
              (typed && put_u32(b, t ? e->type_len : NONE_LEN)) ||
              put(b, &e->ts, sizeof e->ts) || put_f64(b, e->weight) ||
              put_f64(b, e->price) || put(b, e->customer, e->customer_len) ||
              put(b, e->item, e->item_len) ||
              (e->order && put(b, e->order, e->order_len)) ||
              (t && put(b, t, e->type_len));
    }
    return bad ? -1 : 0;
}

int xs_record_catalog(xs_buf *b, const xs_catalog_item *it, size_t n)
{
    b->n = 0;
    int bad = put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n && !bad; i++) {
        const xs_catalog_item *c = &it[i];
        bad = put_u32(b, c->item_len) || put_u32(b, c->category_len) ||
              put_u32(b, c->title ? c->title_len : NONE_LEN) ||
              put_u32(b, c->in_stock ? 1 : 0) || put_f64(b, c->price) ||
              put_f64(b, c->margin) || put(b, c->item, c->item_len) ||
              put(b, c->category, c->category_len) ||
              (c->title && put(b, c->title, c->title_len));
    }
    return bad ? -1 : 0;
}

/* A cursor over a payload. */
typedef struct cur {
    const unsigned char *p;
    size_t left;
} cur;

static int get(cur *c, void *out, size_t n)
{
    if (n > c->left)
        return -1;
    memcpy(out, c->p, n);
    c->p += n;
    c->left -= n;
    return 0;
}

static const char *str(cur *c, uint32_t len)
{
    if (len == NONE_LEN)
        return NULL;
    if (len > c->left)
        return NULL;
    const char *s = (const char *)c->p;
    c->p += len;
    c->left -= len;
    return s;
}

long xs_record_read_ingest(const void *p, size_t len, int typed,
                           xs_ingest_event **out, const char **why)
{
    cur c = {p, len};
    uint32_t n;
    *out = NULL;
    if (get(&c, &n, sizeof n) || (size_t)n > len / (typed ? 40 : 36)) {
        *why = "bad event count";
        return -1;
    }
    xs_ingest_event *ev = calloc(n ? n : 1, sizeof *ev);
    if (!ev) {
        *why = "out of memory";
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l[4] = {0, 0, 0, NONE_LEN};
        xs_ingest_event *e = &ev[i];
        if (get(&c, l, (typed ? 4 : 3) * sizeof *l) ||
            get(&c, &e->ts, sizeof e->ts) ||
            get(&c, &e->weight, sizeof e->weight) ||
            get(&c, &e->price, sizeof e->price) ||
            !(e->customer = str(&c, l[0])) || !(e->item = str(&c, l[1])) ||
            (l[2] != NONE_LEN && !(e->order = str(&c, l[2]))) ||
            (l[3] != NONE_LEN && !(e->type = str(&c, l[3])))) {
            free(ev);
            *why = "an event cut short";
            return -1;
        }
        e->customer_len = l[0];
        e->item_len = l[1];
        e->order_len = l[2] == NONE_LEN ? 0 : l[2];
        e->type_len = l[3] == NONE_LEN ? 0 : l[3];
    }
    if (c.left) {
        free(ev);
        *why = "bytes after the last event";
        return -1;
    }
    *out = ev;
    return (long)n;
}

long xs_record_read_catalog(const void *p, size_t len, xs_catalog_item **out,
                            const char **why)
{
    cur c = {p, len};
    uint32_t n;
    *out = NULL;
    if (get(&c, &n, sizeof n) || (size_t)n > len / 32) {
        *why = "bad entry count";
        return -1;
    }
    xs_catalog_item *it = calloc(n ? n : 1, sizeof *it);
    if (!it) {
        *why = "out of memory";
        return -1;
    }
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l[4];
        xs_catalog_item *e = &it[i];
        if (get(&c, l, sizeof l) || get(&c, &e->price, sizeof e->price) ||
            get(&c, &e->margin, sizeof e->margin) ||
            !(e->item = str(&c, l[0])) || !(e->category = str(&c, l[1])) ||
            (l[2] != NONE_LEN && !(e->title = str(&c, l[2])))) {
            free(it);
            *why = "an entry cut short";
            return -1;
        }
        e->item_len = l[0];
        e->category_len = l[1];
        e->title_len = l[2] == NONE_LEN ? 0 : l[2];
        e->in_stock = (int)l[3];
    }
    if (c.left) {
        free(it);
        *why = "bytes after the last entry";
        return -1;
    }
    *out = it;
    return (long)n;
}

int xs_record_catalog2(xs_buf *b, const xs_catalog_item *it, size_t n)
{
    b->n = 0;
    int bad = put_u32(b, (uint32_t)n);
    for (size_t i = 0; i < n && !bad; i++) {
        const xs_catalog_item *c = &it[i];
        uint32_t flags = (c->remove ? 1u : 0) | (c->hidden ? 2u : 0);
        bad = put_u32(b, c->item_len) || put_u32(b, c->category_len) ||
              put_u32(b, c->title ? c->title_len : NONE_LEN) ||
              put_u32(b, c->in_stock ? 1 : 0) || put_u32(b, flags) ||
              put_u32(b, c->n_props) || put_f64(b, c->price) ||
              put_f64(b, c->margin) ||
              put(b, &c->available_from, sizeof c->available_from) ||
              put(b, &c->expires, sizeof c->expires);
        for (uint32_t k = 0; k < c->n_props && !bad; k++)
            bad = put_u32(b, c->props[k].name_len) ||
                  put_u32(b, c->props[k].value_len);
        bad = bad || put(b, c->item, c->item_len) ||
              put(b, c->category, c->category_len) ||
              (c->title && put(b, c->title, c->title_len));
        for (uint32_t k = 0; k < c->n_props && !bad; k++)
            bad = put(b, c->props[k].name, c->props[k].name_len) ||
                  put(b, c->props[k].value, c->props[k].value_len);
    }
    return bad ? -1 : 0;
}

long xs_record_read_catalog2(const void *p, size_t len, xs_catalog_item **out,
                             const char **why)
{
    cur c = {p, len};
    uint32_t n;
    *out = NULL;
    if (get(&c, &n, sizeof n) || (size_t)n > len / 56) {
        *why = "bad entry count";
        return -1;
    }
    /* the entries, then room for every property the payload could hold
     * (8 bytes of lengths each) */
    size_t max_props = len / 8;
    xs_catalog_item *it =
        calloc(1, (n ? n : 1) * sizeof *it + max_props * sizeof(xs_prop_value));
    if (!it) {
        *why = "out of memory";
        return -1;
    }
    xs_prop_value *pv = (xs_prop_value *)(void *)(it + (n ? n : 1));
    size_t used = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t l[6];
        xs_catalog_item *e = &it[i];
        if (get(&c, l, sizeof l) || get(&c, &e->price, sizeof e->price) ||
            get(&c, &e->margin, sizeof e->margin) ||
            get(&c, &e->available_from, sizeof e->available_from) ||
            get(&c, &e->expires, sizeof e->expires) ||
            l[5] > max_props - used)
            goto short_entry;
        e->props = pv + used;
        e->n_props = l[5];
        for (uint32_t k = 0; k < l[5]; k++) {
            xs_prop_value *v = &pv[used + k];
            if (get(&c, &v->name_len, sizeof v->name_len) ||
                get(&c, &v->value_len, sizeof v->value_len))
                goto short_entry;
        }
        if (!(e->item = str(&c, l[0])) || !(e->category = str(&c, l[1])) ||
            (l[2] != NONE_LEN && !(e->title = str(&c, l[2]))))
            goto short_entry;
        for (uint32_t k = 0; k < l[5]; k++) {
            xs_prop_value *v = &pv[used + k];
            if (v->name_len == NONE_LEN || v->value_len == NONE_LEN ||
                !(v->name = str(&c, v->name_len)) ||
                !(v->value = str(&c, v->value_len)))
                goto short_entry;
        }
        used += l[5];
        e->item_len = l[0];
        e->category_len = l[1];
        e->title_len = l[2] == NONE_LEN ? 0 : l[2];
        e->in_stock = (int)l[3];
        e->remove = (l[4] & 1) != 0;
        e->hidden = (l[4] & 2) != 0;
    }
    if (c.left) {
        free(it);
        *why = "bytes after the last entry";
        return -1;
    }
    *out = it;
    return (long)n;
short_entry:
    free(it);
    *why = "an entry cut short";
    return -1;
}
