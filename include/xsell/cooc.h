/*
 * xsell/cooc.h -- transactions and co-occurrence tables.
 *
 * Transactions are the item sets that co-occurrence counts over: one per
 * order (basket scope) or one per customer (customer scope), each sorted and
 * free of duplicates, stored compressed (CSR).
 *
 * A co-occurrence table maps each item to its row: the item's own support
 * and its neighbours with pair counts, as two compact sorted arrays carved
 * from one pool.  A pair costs 8 bytes per direction; the map is a uthash
 * table of 64-item row blocks, so the hash costs under 6 bytes per item and
 * nothing per pair.  Built once, read-only
 * afterwards except through xs_cooc_update (online ingest), which moves a
 * row it touches, once, into an allocation of its own with spare room and
 * updates it there in place; lookups are safe from any number of threads
 * between updates.
 */
#ifndef XSELL_COOC_H
#define XSELL_COOC_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "dataset.h"
#include "error.h"
#include "plugin.h"

typedef struct xs_txns {
    uint32_t n;      /* number of transactions */
    uint32_t *off;   /* n + 1 offsets into items */
    uint32_t *items; /* sorted, unique within a transaction */
} xs_txns;

/* Groups the dataset's events into transactions of the given scope.  Returns
 * XS_OK, or XS_ERR_NOTFOUND when the scope is unavailable (no orders for
 * basket scope, no customers for customer scope), or XS_ERR_NOMEM. */
XS_API int xs_txns_build(const xs_dataset *ds, int scope, xs_txns *out,
                         xs_error *err);
/* The same with a bound: a transaction feeds at most max items into pair
 * counting (0: no bound).  A group holding more distinct items keeps the
 * first max of them in the order of ds's events (time order once an engine
 * has indexed the histories); the later ones are left out of the
 * transaction (no support, no pairs), which is what xs_engine_ingest does
 * with items arriving at a full transaction. */
XS_API int xs_txns_build_max(const xs_dataset *ds, int scope, uint32_t max,
                             xs_txns *out, xs_error *err);
XS_API void xs_txns_free(xs_txns *t);

typedef struct xs_cooc xs_cooc;

/* Counts every pair of items sharing a transaction.  n_items bounds the item
 * ids.  Uses up to `threads` threads (0 or 1: one).  Returns the table, owned
 * by the caller, or NULL with err set. */
XS_API xs_cooc *xs_cooc_build(const xs_txns *t, uint32_t n_items, int threads,
                              xs_error *err);
XS_API void xs_cooc_free(xs_cooc *c);

/* Returns 1 and fills *out if item has a row (it appears in a transaction). */
XS_API int xs_cooc_row(const xs_cooc *c, uint32_t item, xs_row *out);
/* Number of transactions holding both a and b (0 when a == b). */
XS_API uint32_t xs_cooc_pair(const xs_cooc *c, uint32_t a, uint32_t b);
/* Transactions holding item (0 when none or out of range); O(1). */
XS_API uint32_t xs_cooc_support(const xs_cooc *c, uint32_t item);
/* The support array (indexed by item id, xs_cooc_support_count entries);
 * valid until the next xs_cooc_update. */
XS_API const uint32_t *xs_cooc_support_array(const xs_cooc *c);
XS_API uint32_t xs_cooc_support_count(const xs_cooc *c);
/* Row versions, indexed like the supports: 0 for a row as built, bumped
 * each time xs_cooc_update changes it. */
XS_API const uint32_t *xs_cooc_version_array(const xs_cooc *c);
/* Transactions counted. */
XS_API uint64_t xs_cooc_transactions(const xs_cooc *c);
/* Items with a row. */
XS_API uint32_t xs_cooc_items(const xs_cooc *c);
/* Stored pairs, counting (a,b) and (b,a) separately. */
XS_API uint64_t xs_cooc_pairs(const xs_cooc *c);
/* Bytes held by the table (pool, rows, hash, rows moved by updates; pool
 * pages given back are not counted). */
XS_API size_t xs_cooc_bytes(const xs_cooc *c);

/* One increment of the directed pair (a, b) by n. */
typedef struct xs_pair_inc {
    uint32_t a, b, n;
} xs_pair_inc;

/* Applies online updates: n_items is the new number of item ids (never
 * less than before), sup[] lists items gaining one transaction (repeat an
 * item to count it twice), inc[] the pair increments in both directions
 * (reordered and merged in place), new_txns the transactions that did not
 * exist.  Costs the increments (a binary search each) plus, for a row
 * gaining neighbours, moving the part of the row above the first new one;
 * a built row is copied once, on its first update.  All or nothing: on
 * XS_ERR_NOMEM the table is unchanged.
 * Not safe against concurrent readers: the caller holds the write lock. */
XS_API int xs_cooc_update(xs_cooc *c, uint32_t n_items, const uint32_t *sup,
                          size_t n_sup, xs_pair_inc *inc, size_t n_inc,
                          uint64_t new_txns, xs_error *err);

#endif
