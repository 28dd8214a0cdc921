/*
 * xsell/dataset.h -- purchase events and the loaders that read them.
 *
 * A dataset owns its events and the dictionaries of items, customers and
 * orders.  Loaders either return a complete dataset or NULL with an error:
 * nothing is ever half-loaded.
 *
 *   --baskets FILE   one basket per line, items comma separated; every line is
 *                    one order of an anonymous customer.
 *   --events FILE    CSV with a header; columns customer,item and optional
 *                    timestamp,weight,price,order,type (names remapped by
 *                    xs_columns); comma or tab separated, detected from the
 *                    header line.
 *
 * Event types.  With a `type` column every event has a type name (view,
 * cart, purchase, or any name), interned in ds->types and kept as a type id
 * in the event's `reserved` field.  Type 0 is the primary type, always
 * "purchase" (interned first, whether the file names it or not): primary
 * events are ds->events, exactly the events a file without a type column
 * gives, and feed everything purchases feed (tables, histories, owned
 * items).  Events of the other types are ds->other, in file order, read
 * only by the cross-occurrence tables (xsell/xocc.h).  Without a type
 * column ds->types is NULL and ds->other empty.
 *
 * Both accept a UTF-8 BOM, CRLF line ends, blank lines, RFC 4180 quoting.
 * Both refuse NUL bytes and text that is not UTF-8 (xs_load_options.encoding
 * declares Latin-1), and --baskets refuses a file whose first line is a
 * header of known column names (customer,item, userId,movieId, ...): such a
 * file is an events file.
 */
#ifndef XSELL_DATASET_H
#define XSELL_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "dict.h"
#include "error.h"
#include "parse.h"
#include "plugin.h"

/* Column names in the events header; NULL means the default name. */
typedef struct xs_columns {
    const char *customer;  /* default "customer" */
    const char *item;      /* default "item" */
    const char *timestamp; /* default "timestamp" */
    const char *weight;    /* default "weight" */
    const char *price;     /* default "price" */
    const char *order;     /* default "order" */
    char *owned;           /* storage behind a parsed spec */
    const char *type;      /* default "type" (optional column) */
} xs_columns;

/* Parses "customer=userId,item=movieId,weight=rating" into cols, which must be
 * zero-initialised.  Free with xs_columns_free(). */
XS_API int xs_columns_parse(xs_columns *cols, const char *spec, xs_error *err);
XS_API void xs_columns_free(xs_columns *cols);

typedef struct xs_dataset {
    xs_dict *items;
    xs_dict *customers;
    xs_dict *orders; /* NULL for --baskets: order = line number */
    xs_event *events;
    size_t n_events;
    size_t cap_events;
    uint32_t n_orders;  /* 0 when the data has no orders */
    uint32_t order_base; /* order id of orders dict entry 0 (non-zero when
                            --baskets data gains named orders online) */
    int has_customer;
    int has_timestamp;
    int has_weight;
    int has_price;
    size_t duplicates; /* repeated item in the same basket line */
    /* Event types (see "Event types" above); NULL / empty without a type
     * column. */
    xs_dict *types;   /* type names; id 0 is XS_PRIMARY_TYPE */
    xs_event *other;  /* events of types other than 0, in file order */
    size_t n_other;
    size_t cap_other;
} xs_dataset;

/* The primary type's name: type id 0. */
#define XS_PRIMARY_TYPE "purchase"
/* Type names: [a-z0-9_-]+, at most XS_TYPE_NAME_MAX bytes; at most
 * XS_TYPES_MAX types. */
#define XS_TYPE_NAME_MAX 32
#define XS_TYPES_MAX 64

/* An empty dataset with its dictionaries; NULL when out of memory. */
XS_API xs_dataset *xs_dataset_new(void);
XS_API void xs_dataset_free(xs_dataset *ds);

/* Appends one event (ids already interned).  Returns 0 or -1 (memory). */
XS_API int xs_dataset_push(xs_dataset *ds, const xs_event *ev);
/* Appends one event of a type other than the primary (ev->reserved != 0)
 * to ds->other.  Returns 0 or -1 (memory). */
XS_API int xs_dataset_push_other(xs_dataset *ds, const xs_event *ev);
/* Gives ds a types dictionary when it has none, with XS_PRIMARY_TYPE as
 * id 0.  Returns 0 or -1 (memory). */
XS_API int xs_dataset_use_types(xs_dataset *ds);
/* Whether name is a valid type name (see XS_TYPE_NAME_MAX). */
XS_API int xs_type_name_ok(const char *s, size_t len);

/* Loaders.  Return a new dataset owned by the caller, or NULL with err set. */
XS_API xs_dataset *xs_dataset_load_baskets(const char *path, xs_error *err);
XS_API xs_dataset *
xs_dataset_load_events(const char *path, const xs_columns *cols, xs_error *err);

/* Where a loader is, reported to an xs_progress after each block of input
 * (xs_load_options.block_size): `parsing` for a file of known size, and
 * as reading (total 0) for a stream, whose last report is parsing with
 * done == total. */
typedef struct xs_load_status {
    const char *path;
    int parsing;    /* 0: reading the file, 1: parsing it */
    uint64_t done;  /* bytes read, or parsed, so far */
    uint64_t total; /* the file's size; 0 while reading a stream */
    uint64_t lines; /* lines parsed so far */
} xs_load_status;

/* A progress callback for a long load (progress lines, cancelling).  fn
 * runs on the loading thread; a non-zero return stops the load, which
 * fails with XS_ERR_IO ("PATH: load interrupted at line N"). */
typedef struct xs_progress {
    int (*fn)(void *arg, const xs_load_status *st);
    void *arg;
} xs_progress;

/* The loaders above with a progress callback (NULL: none). */
XS_API xs_dataset *xs_dataset_load_baskets_progress(const char *path,
                                                    const xs_progress *progress,
                                                    xs_error *err);
XS_API xs_dataset *xs_dataset_load_events_progress(const char *path,
                                                   const xs_columns *cols,
                                                   const xs_progress *progress,
                                                   xs_error *err);

/* How a file is loaded.  The file is streamed in blocks of block_size bytes
 * (0: 256 KiB), cut between records, parsed on `threads` threads side by
 * side; ids, events and errors are the same for every thread count and
 * block size.  Memory holds 4 x threads x block_size bytes of the file at
 * a time (and their events), not the whole file. */
/* Messy input (what a zeroed xs_load_options asks for comes first). */
enum { XS_BAD_LINE_ERROR, XS_BAD_LINE_SKIP };
enum { XS_RETURNS_ERROR, XS_RETURNS_SUBTRACT, XS_RETURNS_DROP };
enum { XS_ENCODING_UTF8, XS_ENCODING_LATIN1 };

#define XS_LOAD_SHOWN 5        /* bad lines described in a report */
#define XS_LOAD_SHOWN_LEN 200  /* bytes of each description */

/* What a load skipped or changed, filled by the loaders when asked
 * (xs_load_options.report). */
typedef struct xs_load_report {
    uint64_t bad_lines; /* lines skipped (XS_BAD_LINE_SKIP) */
    unsigned n_shown;   /* the first min(bad_lines, XS_LOAD_SHOWN): */
    char shown[XS_LOAD_SHOWN][XS_LOAD_SHOWN_LEN]; /* "file:line: reason" */
    uint64_t returns;   /* lines with a negative weight (quantity) */
    uint64_t returns_unmatched; /* subtract: returns left with more quantity
                                   than the customer's earlier purchases of
                                   the item (the excess is dropped) */
    uint64_t removed;   /* subtract: purchases whose weight fell to 0 */
} xs_load_report;

typedef struct xs_load_options {
    int threads;       /* parsing threads; 1: the calling thread only;
                          <= 0: one per online processor */
    size_t block_size; /* 0: the default (256 KiB) */
    const xs_progress *progress; /* NULL: none */
    /* A line that does not parse (fields, empty ids, numbers, dates, CSV
     * syntax but for a quote left open) fails the load (XS_BAD_LINE_ERROR)
     * or is skipped, counted and the first few described in report
     * (XS_BAD_LINE_SKIP).  Invalid text (below) is never skipped. */
    int on_bad_line;
    /* Events whose weight column (a quantity) is negative, a return:
     * XS_RETURNS_ERROR fails the load (a bad line); XS_RETURNS_DROP skips
     * them; XS_RETURNS_SUBTRACT takes the quantity off the same customer's
     * latest earlier purchases of the item (in file order), removing a
     * purchase that falls to 0, and the return itself.  Dropped and
     * subtracted returns add no order, customer or item of their own: the
     * dataset is the one the file would give with them removed (and the
     * purchases reduced). */
    int returns;
    /* The file's bytes: UTF-8 (XS_ENCODING_UTF8: anything else is an error
     * naming file:line) or Latin-1, transcoded to UTF-8.  NUL bytes are
     * refused either way. */
    int encoding;
    /* strptime(3) format of the timestamp column ("%m/%d/%Y %H:%M"), read
     * as UTC and filling the whole field; NULL: unix seconds or ISO-8601. */
    const char *date_format;
    xs_load_report *report; /* NULL: not wanted; else zeroed and filled */
} xs_load_options;

/* The loaders above with options (NULL: one thread, default blocks, no
 * progress); the ones without options use one thread. */
XS_API xs_dataset *xs_dataset_load_baskets_opts(const char *path,
                                                const xs_load_options *opt,
                                                xs_error *err);
XS_API xs_dataset *xs_dataset_load_events_opts(const char *path,
                                               const xs_columns *cols,
                                               const xs_load_options *opt,
                                               xs_error *err);

#endif
