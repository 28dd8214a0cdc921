/*
 * persist/records.h -- the payloads of the write-ahead log's records: an
 * ingest batch or a catalog batch, encoded as the engine received it
 * (after validation) and decoded for replay.
 *
 *   ingest:  n u32, then per event: customer_len, item_len, order_len
 *            (UINT32_MAX: none) u32; ts i64; weight, price f64; the bytes
 *   ingest with types (record XS_WAL_INGEST_TYPED): the same with a
 *            type_len u32 (UINT32_MAX: the primary type) after order_len
 *            and the type's bytes after the order's.  A batch of
 *            purchases only is written in the first form, so logs of
 *            servers that never see another type stay readable by builds
 *            older than the types.
 *   catalog: n u32, then per entry: item_len, category_len, title_len
 *            (UINT32_MAX: none), in_stock u32; price, margin f64; the bytes
 *            (record type 2: still read, no longer written)
 *   catalog2: n u32, then per entry: item_len, category_len, title_len
 *            (UINT32_MAX: none), in_stock, flags (1 remove, 2 hidden),
 *            n_props u32; price, margin f64; available_from, expires i64;
 *            per property name_len, value_len u32; then the bytes: item,
 *            category, title, each property's name and value (type 3)
 */
#ifndef XS_PERSIST_RECORDS_H
#define XS_PERSIST_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/engine.h"

/* A growable byte buffer, reused from record to record. */
typedef struct xs_buf {
    unsigned char *p;
    size_t n, cap;
} xs_buf;

void xs_buf_free(xs_buf *b);

/* Encode into b (emptied first).  0 or -1 (memory). */
int xs_record_ingest(xs_buf *b, const xs_ingest_event *ev, size_t n,
                     int typed);
/* Whether a batch needs the typed form (an event of another type). */
int xs_record_ingest_typed(const xs_ingest_event *ev, size_t n);
int xs_record_catalog(xs_buf *b, const xs_catalog_item *it, size_t n);
int xs_record_catalog2(xs_buf *b, const xs_catalog_item *it, size_t n);

/* Decode p[0..len) into *ev / *it (malloc'd arrays pointing into p; the
 * caller frees the array).  Returns the count, or -1 with a reason in why
 * when the payload does not parse. */
long xs_record_read_ingest(const void *p, size_t len, int typed,
                           xs_ingest_event **ev, const char **why);
long xs_record_read_catalog(const void *p, size_t len, xs_catalog_item **it,
                            const char **why);
/* As above for catalog2; the entries' property arrays live in the same
 * allocation as *it (one free). */
long xs_record_read_catalog2(const void *p, size_t len, xs_catalog_item **it,
                             const char **why);

#endif
