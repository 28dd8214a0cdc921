/*
 * image.c -- writing the store as a snapshot image and reading it back
 * (engine/image.h).
 *
 * Events are written customer by customer from the histories (loaded or
 * live), after the events without a customer: the order xs_history_init
 * leaves a fresh load in, so a store read back is the store a fresh load
 * of the same events builds, id for id and event for event, and plugins
 * prepare from it the same way.  Only the HEAD section is needed to say
 * what an image holds (xs_image_info_read).
 *
 * Event types: an image of data with a type column (F_TYPES) has, after
 * the events, the types dictionary and the other types' events in their
 * order (OTHR); it is format 2, so a build that cannot read them says so
 * instead of misreading the sections.  Images without types stay format 1
 * and byte for byte what they were.  The cross-occurrence tables are built
 * again at load (engine/store.c), not stored.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/image.h"
#include "engine/image.h"

#define MAGIC "XSELLIMG"
#define FORMAT 1
#define FORMAT_TYPES 2 /* with F_TYPES: the types and the other events */
#define BYTE_ORDER_MARK 0x01020304u
#define SEC_HEAD XS_TAG('H', 'E', 'A', 'D')
#define SEC_EVENTS XS_TAG('E', 'V', 'N', 'T')
#define SEC_END XS_TAG('E', 'N', 'D', '.')
#define SEC_OTHER XS_TAG('O', 'T', 'H', 'R')

enum { F_CUSTOMER = 1, F_TIMESTAMP = 2, F_WEIGHT = 4, F_PRICE = 8,
       F_ORDERS_DICT = 16, F_CATALOG = 32, F_BASKET = 64, F_CUSTOMER_SCOPE = 128,
       F_TYPES = 256,
       F_CATALOG_EXT = 512 /* the catalog's CATX part follows it */ };

static void put_events(xs_bw *w, const xs_event *ev, size_t n,
                       uint64_t *count)
{
    if (n)
        xs_bw_put(w, ev, n * sizeof *ev);
    *count += n;
}

int xs_image_write(const xs_store *s, const char *path, uint64_t seq,
                   xs_image_info *info, xs_error *err)
{
    const xs_dataset *ds = s->ds;
    xs_image_info in = {0};
    in.seq = seq;
    in.written = (int64_t)time(NULL);
    in.ingested = s->ingested_before + s->ingested;
    in.max_basket = s->max_basket;
    in.events = ds->n_events + s->ingested;
    in.items = xs_dict_size(ds->items);
    in.customers = xs_dict_size(ds->customers);
    in.orders = ds->n_orders;
    in.catalog_items = s->cat ? xs_catalog_size(s->cat) : 0;
    for (int sc = 0; sc < 2; sc++) {
        in.pairs[sc] = s->cooc[sc] ? xs_cooc_pairs(s->cooc[sc]) : 0;
        in.scopes |= s->cooc[sc] ? 1u << sc : 0;
    }
    uint32_t flags = (ds->has_customer ? F_CUSTOMER : 0) |
                     (ds->has_timestamp ? F_TIMESTAMP : 0) |
                     (ds->has_weight ? F_WEIGHT : 0) |
                     (ds->has_price ? F_PRICE : 0) |
                     (ds->orders ? F_ORDERS_DICT : 0) |
                     (s->cat ? F_CATALOG | F_CATALOG_EXT : 0) |
                     (ds->types ? F_TYPES : 0) |
                     (s->cooc[XS_SCOPE_BASKET] ? F_BASKET : 0) |
                     (s->cooc[XS_SCOPE_CUSTOMER] ? F_CUSTOMER_SCOPE : 0);
    xs_bw w;
    int rc = xs_bw_open(&w, path, err);
    if (rc)
        return rc;
    xs_bw_begin(&w, SEC_HEAD);
    xs_bw_put(&w, MAGIC, 8);
    xs_bw_u32(&w, ds->types ? FORMAT_TYPES : FORMAT);
    xs_bw_u32(&w, BYTE_ORDER_MARK);
    xs_bw_put(&w, &in, sizeof in);
    xs_bw_u32(&w, flags);
    xs_bw_u32(&w, (uint32_t)s->default_scope);
    xs_bw_u32(&w, ds->order_base);
    xs_bw_u64(&w, ds->duplicates);
    xs_bw_end(&w);

    xs_dict_image_write(ds->items, &w);
    xs_dict_image_write(ds->customers, &w);
    if (ds->orders)
        xs_dict_image_write(ds->orders, &w);

    xs_bw_begin(&w, SEC_EVENTS);
    xs_bw_u64(&w, in.events);
    uint64_t count = 0;
    for (size_t i = 0, j; i < ds->n_events; i = j) { /* runs without one */
        for (j = i; j < ds->n_events && ds->events[j].customer == XS_NONE; j++)
            ;
        put_events(&w, ds->events + i, j - i, &count);
        while (j < ds->n_events && ds->events[j].customer != XS_NONE)
            j++;
    }
    for (uint32_t c = 0; c < in.customers; c++) {
        const xs_event *ev;
        size_t n;
        if (xs_history_get(&s->hist, c, &ev, &n))
            put_events(&w, ev, n, &count);
    }
    xs_bw_end(&w);
    if (ds->types) {
        xs_dict_image_write(ds->types, &w);
        xs_bw_begin(&w, SEC_OTHER);
        xs_bw_u64(&w, ds->n_other);
        if (ds->n_other)
            xs_bw_put(&w, ds->other, ds->n_other * sizeof *ds->other);
        xs_bw_end(&w);
    }
    if (s->cat) {
        xs_catalog_image_write(s->cat, &w);
        xs_catalog_image_write_ext(s->cat, &w);
    }
    for (int sc = 0; sc < 2; sc++)
        if (s->cooc[sc])
            xs_cooc_image_write(s->cooc[sc], &w);
    xs_bw_begin(&w, SEC_END);
    xs_bw_end(&w);
    in.bytes = xs_bw_size(&w);
    if (count != in.events) {
        xs_bw_abort(&w);
        return xs_error_set(err, XS_ERR_INTERNAL,
                            "%s: %llu events in the histories, %llu counted",
                            path, (unsigned long long)count,
                            (unsigned long long)in.events);
    }
    if ((rc = xs_bw_commit(&w, err)))
        return rc;
    if (info)
        *info = in;
    return XS_OK;
}

/* The HEAD section: info, flags, default scope, order base, duplicates. */
static int read_head(xs_br *r, xs_image_info *info, uint32_t *flags,
                     int *scope, uint32_t *order_base, uint64_t *dups)
{
    uint32_t tag;
    uint64_t len;
    char magic[8];
    if (xs_br_begin(r, &tag, &len) != 1 || tag != SEC_HEAD ||
        len < 8 || xs_br_get(r, magic, 8) || memcmp(magic, MAGIC, 8))
        return xs_br_fail(r, "not an xsell snapshot image");
    uint32_t format = xs_br_u32(r), bom = xs_br_u32(r);
    if (!r->failed && bom != BYTE_ORDER_MARK)
        return xs_br_fail(r, "written on a machine of another byte order");
    if (!r->failed && format != FORMAT && format != FORMAT_TYPES)
        return xs_br_fail(r, "image format %u (this build reads %u and %u)",
                          format, FORMAT, FORMAT_TYPES);
    if (xs_br_get(r, info, sizeof *info))
        return -1;
    *flags = xs_br_u32(r);
    if (!r->failed && (format == FORMAT_TYPES) != !!(*flags & F_TYPES))
        return xs_br_fail(r, "image format %u with%s event types", format,
                          *flags & F_TYPES ? "" : "out");
    *scope = (int)xs_br_u32(r);
    *order_base = xs_br_u32(r);
    *dups = xs_br_u64(r);
    if (!r->failed && *scope != XS_SCOPE_BASKET && *scope != XS_SCOPE_CUSTOMER)
        return xs_br_fail(r, "bad default scope %d", *scope);
    info->bytes = r->size;
    return xs_br_end(r);
}

int xs_image_info_read(const char *path, xs_image_info *out, xs_error *err)
{
    xs_br r;
    int rc = xs_br_open(&r, path, err);
    if (rc)
        return rc;
    uint32_t flags, base;
    uint64_t dups;
    int scope;
    rc = read_head(&r, out, &flags, &scope, &base, &dups) ? XS_ERR_DATA : 0;
    xs_br_close(&r);
    return rc;
}

void xs_image_parts_free(xs_image_parts *p)
{
    xs_dataset_free(p->ds);
    xs_catalog_free(p->cat);
    for (int sc = 0; sc < 2; sc++)
        xs_cooc_free(p->cooc[sc]);
    memset(p, 0, sizeof *p);
}

/* The types dictionary and the OTHR section into ds; every id checked. */
static int read_other(xs_br *r, xs_dataset *ds)
{
    uint32_t tag;
    uint64_t len;
    if (!(ds->types = xs_dict_new()))
        return xs_br_fail(r, "out of memory"), -1;
    if (xs_dict_image_read(ds->types, r))
        return -1;
    uint32_t nt = xs_dict_size(ds->types);
    if (nt < 1 || nt > XS_TYPES_MAX)
        return xs_br_fail(r, "%u event types", nt), -1;
    if (xs_br_begin(r, &tag, &len) != 1 || tag != SEC_OTHER)
        return xs_br_fail(r, "want the other types' events"), -1;
    uint64_t n = xs_br_u64(r);
    if (r->failed || n * sizeof(xs_event) != xs_br_left(r))
        return xs_br_fail(r, "other events: %llu in %llu bytes",
                          (unsigned long long)n,
                          (unsigned long long)xs_br_left(r)), -1;
    ds->cap_other = n ? n : 1;
    if (!(ds->other = malloc(ds->cap_other * sizeof *ds->other)))
        return xs_br_fail(r, "out of memory"), -1;
    if (xs_br_get(r, ds->other, n * sizeof *ds->other) || xs_br_end(r))
        return -1;
    ds->n_other = n;
    uint32_t ni = xs_dict_size(ds->items), nc = xs_dict_size(ds->customers);
    for (uint64_t i = 0; i < n; i++) {
        const xs_event *e = &ds->other[i];
        if (e->item >= ni || (e->customer != XS_NONE && e->customer >= nc) ||
            e->reserved == 0 || e->reserved >= nt)
            return xs_br_fail(r, "other event %llu names an unknown id",
                              (unsigned long long)i), -1;
    }
    return 0;
}

int xs_image_read(const char *path, xs_image_parts *out, xs_error *err)
{
    memset(out, 0, sizeof *out);
    xs_br r;
    int rc = xs_br_open(&r, path, err);
    if (rc)
        return rc;
    uint32_t flags, tag;
    uint64_t dups, len;
    xs_dataset *ds = xs_dataset_new();
    out->ds = ds;
    if (!ds) {
        xs_br_close(&r);
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    }
    if (read_head(&r, &out->info, &flags, &out->default_scope,
                  &ds->order_base, &dups) ||
        xs_dict_image_read(ds->items, &r) ||
        xs_dict_image_read(ds->customers, &r))
        goto fail;
    ds->duplicates = (size_t)dups;
    ds->has_customer = !!(flags & F_CUSTOMER);
    ds->has_timestamp = !!(flags & F_TIMESTAMP);
    ds->has_weight = !!(flags & F_WEIGHT);
    ds->has_price = !!(flags & F_PRICE);
    ds->n_orders = out->info.orders;
    if (flags & F_ORDERS_DICT) {
        if (!(ds->orders = xs_dict_new())) {
            xs_br_fail(&r, "out of memory");
            goto fail;
        }
        if (xs_dict_image_read(ds->orders, &r))
            goto fail;
    }
    if (xs_br_begin(&r, &tag, &len) != 1 || tag != SEC_EVENTS) {
        xs_br_fail(&r, "want the events section");
        goto fail;
    }
    uint64_t n = xs_br_u64(&r);
    if (r.failed || n != out->info.events ||
        n * sizeof(xs_event) != xs_br_left(&r)) {
        xs_br_fail(&r, "events section: %llu events in %llu bytes",
                   (unsigned long long)n, (unsigned long long)xs_br_left(&r));
        goto fail;
    }
    free(ds->events);
    ds->cap_events = n ? n : 1;
    if (!(ds->events = malloc(ds->cap_events * sizeof *ds->events))) {
        xs_br_fail(&r, "out of memory");
        goto fail;
    }
    if (xs_br_get(&r, ds->events, n * sizeof *ds->events) || xs_br_end(&r))
        goto fail;
    ds->n_events = n;
    uint32_t ni = xs_dict_size(ds->items), nc = xs_dict_size(ds->customers);
    for (uint64_t i = 0; i < n; i++) {
        const xs_event *e = &ds->events[i];
        if (e->item >= ni || (e->customer != XS_NONE && e->customer >= nc) ||
            (e->order != XS_NONE && e->order >= ds->n_orders)) {
            xs_br_fail(&r, "event %llu names an unknown id",
                       (unsigned long long)i);
            goto fail;
        }
    }
    if ((flags & F_TYPES) && read_other(&r, ds))
        goto fail;
    if ((flags & F_CATALOG) && !(out->cat = xs_catalog_image_read(&r)))
        goto fail;
    if ((flags & F_CATALOG_EXT) &&
        (!out->cat || xs_catalog_image_read_ext(out->cat, &r)))
        goto fail;
    for (int sc = 0; sc < 2; sc++) {
        uint32_t bit = sc == XS_SCOPE_BASKET ? F_BASKET : F_CUSTOMER_SCOPE;
        if (!(flags & bit))
            continue;
        if (!(out->cooc[sc] = xs_cooc_image_read(&r)))
            goto fail;
        if (xs_cooc_support_count(out->cooc[sc]) > ni) {
            xs_br_fail(&r, "co-occurrence table of more items than the "
                       "dictionary");
            goto fail;
        }
    }
    if (xs_br_begin(&r, &tag, &len) != 1 || tag != SEC_END || xs_br_end(&r)) {
        xs_br_fail(&r, "the image ends early (no END section)");
        goto fail;
    }
    out->ingested = out->info.ingested;
    xs_br_close(&r);
    return XS_OK;
fail:
    xs_br_close(&r);
    xs_image_parts_free(out);
    return err ? (err->code ? err->code : XS_ERR_DATA) : XS_ERR_DATA;
}
