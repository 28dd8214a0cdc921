/*
 * engine/store.h -- the engine's data: the events and their dictionaries,
 * the catalog, the co-occurrence table of each scope built, the customers'
 * histories, and what ingest added to them.
 *
 * The store is what plugins read through the host API and what ingest and
 * the catalog op write.  It holds no lock: readers and writers are kept
 * apart by the engine's lock (engine/engine_state.h).
 *
 * Ownership: the store owns the dataset and catalog handed to
 * xs_store_init, the tables, histories and live transactions.
 */
#ifndef XS_ENGINE_STORE_H
#define XS_ENGINE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "data/xocc.h"
#include "engine/history.h"
#include "util/xs_uthash.h"
#include "xsell/catalog.h"
#include "xsell/cooc.h"
#include "xsell/dataset.h"
#include "xsell/error.h"

/* The items of one transaction (order or customer) touched by ingest:
 * copied from the built transactions on first touch, then kept here. */
typedef struct xs_live_txn {
    uint32_t group;
    uint32_t n, cap;
    uint32_t *items; /* sorted */
    UT_hash_handle hh;
} xs_live_txn;

typedef struct xs_store {
    xs_dataset *ds;
    xs_catalog *cat;   /* NULL until a catalog is loaded or sent */
    int default_scope; /* XS_SCOPE_* */
    int threads;       /* for table building, >= 1 */
    xs_txns txns[2];   /* per scope, built with the table */
    xs_cooc *cooc[2];  /* per scope; NULL when not built */
    xs_history hist;
    xs_live_txn *live[2]; /* per scope: transactions touched by ingest */
    uint32_t max_basket;  /* items of a transaction that pair (> 0; see
                             "The bound" in xsell/engine.h) */
    size_t live_txn_bytes[2]; /* held by each scope's live transactions */
    uint64_t ingested;    /* purchases added by ingest (to the histories) */
    uint64_t ingested_other; /* events of other types added by ingest */
    uint64_t ingested_before; /* of the loaded events, those a snapshot
                                 image says were ingested before it */
    int64_t latest_ts;    /* latest event time, loaded or ingested */
    /* Event types: the cross-occurrence tables (NULL when the data has no
     * type column) and each type's weight, by type id: 1 for the primary
     * type, 0 for the others until event_weights says otherwise. */
    xs_xocc *xocc;
    double type_weight[XS_TYPES_MAX];
    /* Every event_weights spec set, in order, ','-joined: applied again
     * when ingest interns a new type, so a weight named before the type
     * existed applies to it (as it would have at load). */
    char *weight_specs;
} xs_store;

/* Takes ownership of ds and cat (cat may be NULL) even on failure; indexes
 * the histories and builds the table of the default scope (scope, or -1:
 * basket when the data has orders).  threads <= 0: one per processor.
 * Transactions feed at most max_basket items (> 0) into the tables
 * (xs_txns_build_max), at load and by ingest. */
int xs_store_init(xs_store *s, xs_dataset *ds, xs_catalog *cat, int scope,
                  int threads, uint32_t max_basket, xs_error *err);
/* The same from a snapshot image: takes the parts' dataset, catalog and
 * tables (p keeps what is left, for xs_image_parts_free); builds only the
 * transactions of each table, and the default scope's table if the image
 * has none. */
struct xs_image_parts;
int xs_store_init_image(xs_store *s, struct xs_image_parts *p, int threads,
                        uint32_t max_basket, xs_error *err);
void xs_store_free(xs_store *s);

/* Builds the table of a scope if not built yet.  XS_ERR_NOTFOUND when the
 * data cannot give that scope. */
int xs_store_use_scope(xs_store *s, int scope, xs_error *err);

/* The table of a scope, or NULL when not built (or not a scope). */
const xs_cooc *xs_store_cooc(const xs_store *s, int scope);

/* Sets the types' weights from "view=0.2,cart=0.5,purchase=1": each NAME
 * a type name (types the data does not have are accepted and ignored),
 * each weight a finite number >= 0; types not named keep their weight.
 * XS_ERR_USAGE naming the bad entry. */
int xs_store_set_type_weights(xs_store *s, const char *spec, xs_error *err);
/* Applies the specs set so far again (after a type was interned). */
void xs_store_types_changed(xs_store *s);
/* Gives a store whose data had no type column its types dictionary and
 * cross-occurrence tables (buyers counted from the histories), for the
 * first event of another type ingested.  0 or -1 (memory). */
int xs_store_use_types(xs_store *s);

/* Customers known: those of the data, and those ingest added. */
uint32_t xs_store_customers(const xs_store *s);

/* Bytes held by a scope's table, its transactions and live transactions
 * (0 when not built). */
size_t xs_store_table_bytes(const xs_store *s, int scope);
/* Bytes held by the data, dictionaries, tables and live overlays. */
size_t xs_store_bytes(const xs_store *s);

#endif
