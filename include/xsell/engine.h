/*
 * xsell/engine.h -- the engine: one object owning the data, the co-occurrence
 * tables and the loaded plugins.
 *
 * Life cycle: xs_engine_new() takes ownership of a dataset and an optional
 * catalog; xs_engine_add_plugin() loads, creates and prepares plugins
 * (single threaded; prepared for the requests xs_engine_config.asks names);
 * then xs_engine_recommend() may run from many threads at once, each with
 * its own xs_context.
 *
 * Online updates: xs_engine_ingest() may run while others read.  It takes
 * the engine's write lock; every reader that may overlap an ingest brackets
 * its reads (id lookups, recommend, reading names of results) with
 * xs_engine_read_lock()/xs_engine_read_unlock().  The lock prefers writers,
 * so a stream of readers cannot starve ingest.
 */
#ifndef XSELL_ENGINE_H
#define XSELL_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"
#include "catalog.h"
#include "cooc.h"
#include "dataset.h"
#include "error.h"
#include "loader.h"
#include "plugin.h"

typedef struct xs_engine xs_engine;
typedef struct xs_context xs_context;

/* One event as it arrives online: external ids as byte strings (not
 * NUL-terminated), order optional (order == NULL). */
typedef struct xs_ingest_event {
    const char *customer;
    const char *item;
    const char *order;
    uint32_t customer_len, item_len, order_len;
    int64_t ts;    /* unix seconds, or XS_TS_LATEST */
    double weight; /* >= 0 */
    double price;  /* >= 0, or NaN when unknown */
    /* The event type's name (xsell/dataset.h "Event types"): NULL (or
     * XS_PRIMARY_TYPE) a purchase; any other valid name an event of that
     * type (interned on first use, at most XS_TYPES_MAX types in all),
     * which feeds the cross-occurrence tables and the customer's other
     * events, not the co-occurrence tables nor the history (its order is
     * ignored, as at load). */
    const char *type;
    uint32_t type_len;
} xs_ingest_event;

/* An event time to be resolved by xs_engine_ingest: the latest event time
 * of the data when the batch is applied (the store's latest time, or a
 * later time given by an event of the same batch; 0 when the data has no
 * timestamps).  An event without a time so weighs like the newest data,
 * never like the host's wall clock, which on data that ended long ago
 * would put it far ahead of everything loaded. */
#define XS_TS_LATEST INT64_MIN

struct xs_catalog_item;

/* Where writes are made durable (a write-ahead log): each hook is called
 * with a batch already validated, before it is applied, under the engine's
 * writer mutex, so the journal's order is the order of application.  A
 * non-zero return refuses the batch (nothing applied). */
typedef struct xs_journal {
    int (*ingest)(void *arg, const xs_ingest_event *ev, size_t n,
                  xs_error *err);
    int (*catalog)(void *arg, const struct xs_catalog_item *it, size_t n,
                   xs_error *err);
    void *arg;
} xs_journal;

typedef struct xs_engine_config {
    const char *plugin_dir; /* --plugin-dir, may be NULL */
    int scope;              /* XS_SCOPE_*, or -1: basket when orders known */
    int threads;            /* for table building; 0: one */
    int blend_threads;      /* helper threads running a blend's plugins
                               beside its caller; 0: none, the caller runs
                               them one after the other */
    void (*log)(void *arg, int level, const char *msg); /* NULL: stderr */
    void *log_arg;
    unsigned asks; /* the requests this engine will answer, XS_ASK_* bits
                      (xsell/plugin.h); 0: all.  Plugins prepare for these
                      only (batch scoring asks for customers alone, and no
                      plugin builds what serves baskets); a request of
                      another kind is refused with XS_ERR_USAGE */
    uint32_t max_basket; /* items one transaction (an order, or a customer)
                            feeds into pair counting; 0:
                            XS_MAX_BASKET_DEFAULT.  See "The bound" below */
} xs_engine_config;

/* The bound on pair work (xs_engine_config.max_basket, `--max-basket`).
 * Pairs cost the square of a transaction's size, so a transaction feeds
 * at most max_basket distinct items into the co-occurrence tables: its
 * first max_basket distinct items, in time order (the order events arrive
 * in, online).  Items past them are kept everywhere else (histories,
 * popularity, owned items) but add no support and no pair in that scope.
 *   - Basket scope: an ingest that would take an order past the bound is
 *     refused whole with XS_ERR_LIMIT (the `too_large` reply) naming the
 *     order and the bound; orders in loaded files keep their first
 *     max_basket items.
 *   - Customer scope, where histories grow without end: never refused; a
 *     customer's first max_basket distinct items pair, later ones do not.
 * Tables built at load and tables grown by ingest follow the same rule, so
 * a restart from the same events (each customer's in time order) gives the
 * same tables. */
#define XS_MAX_BASKET_DEFAULT 1000

/* Takes ownership of ds and cat (cat may be NULL) even on failure. */
XS_API xs_engine *xs_engine_new(xs_dataset *ds, xs_catalog *cat,
                                const xs_engine_config *cfg, xs_error *err);
XS_API void xs_engine_free(xs_engine *e);

XS_API const xs_dataset *xs_engine_dataset(const xs_engine *e);
XS_API const xs_catalog *xs_engine_catalog(const xs_engine *e);
XS_API int xs_engine_default_scope(const xs_engine *e);

/* Builds the table of a scope if not built yet.  XS_ERR_NOTFOUND when the
 * data cannot give that scope. */
XS_API int xs_engine_use_scope(xs_engine *e, int scope, xs_error *err);
/* The table of a scope, or NULL when not built. */
XS_API const xs_cooc *xs_engine_cooc(const xs_engine *e, int scope);

/* Loads plugin `name` (or a path), creates it with the options and
 * prepares it for the engine's asks (xs_engine_config.asks), so that it can
 * serve at once.  XS_ERR_NOTFOUND when no file is found, XS_ERR_PLUGIN on
 * any load, create or prepare failure (the message "plugin NAME: ...",
 * or the file where no name is known yet), XS_ERR_USAGE for a duplicate
 * name. */
XS_API int xs_engine_add_plugin(xs_engine *e, const char *name,
                                const xs_option *opts, size_t n_opts,
                                xs_error *err);
XS_API size_t xs_engine_plugin_count(const xs_engine *e);
XS_API const xs_plugin *xs_engine_plugin(const xs_engine *e, size_t i);

/* Item id of a name, or XS_NONE. */
XS_API uint32_t xs_engine_item(const xs_engine *e, const char *name);
XS_API const char *xs_engine_item_name(const xs_engine *e, uint32_t item);

/* One recommended item. */
typedef struct xs_rec {
    uint32_t item;
    double score;
    const char *plugin; /* the plugin(s) that produced it, joined by '+' */
    xs_evidence ev;     /* filled when the request asked to explain */
} xs_rec;

/* Per-thread request state: result heap, scratch memory, output.  Reused
 * from request to request without allocating once warm. */
XS_API xs_context *xs_context_new(xs_engine *e);
XS_API void xs_context_free(xs_context *ctx);

/* Why the plugin of ctx's last request answered nothing, as it said
 * through the host API's note() (xsell/plugin.h), or NULL: it said
 * nothing, or the request was blended (a plugin with nothing to say adds
 * nothing to a blend).  Valid until ctx's next request. */
XS_API const char *xs_context_note(const xs_context *ctx);

/* Runs plugin `plugin` on req.  On XS_OK, *out points at *n results owned by
 * ctx, valid until the next call with ctx.  req->items must be sorted and
 * unique (see xs_request_items). */
XS_API int xs_engine_recommend(xs_engine *e, xs_context *ctx,
                               const char *plugin, const xs_request *req,
                               const xs_rec **out, size_t *n, xs_error *err);

/* Like xs_engine_recommend, and also never returns the n_exclude items of
 * exclude (any order, duplicates allowed). */
XS_API int xs_engine_recommend_excluding(xs_engine *e, xs_context *ctx,
                                         const char *plugin,
                                         const xs_request *req,
                                         const uint32_t *exclude,
                                         uint32_t n_exclude, const xs_rec **out,
                                         size_t *n, xs_error *err);

/* ---- blend and business rules ---------------------------------------------
 *
 * Rules applied to every answer, whichever plugin produced it: never the
 * request's items or exclusions; never an out-of-stock item; never an item
 * the customer already bought, unless the engine or the request keeps owned
 * items or the item's category is one that is bought again ("rebuy"); with a
 * category filter, only that category.
 *
 * The blend (plugin NULL or "blend") asks every loaded plugin whose weight
 * is > 0 for its top max(2k, k+10), normalises each list by its top score
 * (s / max; (s - min) / (max - min) when max <= 0), sums weight x normalised
 * score per item and keeps the k best with a sum > 0; when fewer than k remain it fills
 * from the fill plugin (the setting `fill`), ranked below every blended
 * item.  Each result names its plugins joined by '+'.
 */

/* Settings, as "key" = "value" strings (the config file and the CLI use the
 * same keys).  Call before serving.
 *   exclude_owned   true|false        drop items the customer bought
 *                                     (default true)
 *   rebuy           cat1,cat2,...     categories bought again: owned items
 *                                     of these stay eligible (catalog
 *                                     categories; unknown ones refused)
 *   weight.NAME     number >= 0       blend weight of plugin NAME (default
 *                                     1)
 *   weight.NAME.customer  number >= 0 its weight in requests with a
 *                                     customer and no items (default: not
 *                                     set, weight.NAME applies)
 *   fill            NAME|none         plugin that fills short blends
 *   event_weights   TYPE=W,...        weights of the event types (xsell/
 *                                     dataset.h "Event types"): view=0.2,
 *                                     cart=0.5,purchase=1; plugins read
 *                                     them through the host (type_weight);
 *                                     default purchase 1, every other 0
 *                                     (types ignored until weighted)
 * Defaults (chosen by measurement): exclude_owned=true, fill=popular,
 * weight.popular=0.25 (it blends a little and fills), weight.upsell=0 (it
 * answers its own slot), weight.copurchase.customer=0 (recency answers
 * customers); a
 * default naming a plugin that is not loaded does nothing, a setting made
 * explicitly must name a loaded one.
 * Booleans: true|false|yes|no|on|off|1|0, any case.
 * XS_ERR_USAGE for an unknown key or bad value. */
XS_API int xs_engine_set_rule(xs_engine *e, const char *key, const char *value,
                              xs_error *err);

/* One property term of a request: property `name` and one of its values
 * (not NUL-terminated); factor is a boost's multiplier (finite, > 0),
 * unused in a filter. */
typedef struct xs_prop_term {
    const char *name, *value;
    uint32_t name_len, value_len;
    double factor;
} xs_prop_term;

#define XS_PROP_TERMS_MAX 256 /* terms of one request's filter or boost */

/* Per-request rule overrides.  The fields after exclude_owned were added
 * later; zero means none (the clock, no property rule).
 *
 * Properties (xsell/catalog.h).  `where` keeps only items holding, for
 * every property it names, at least one of the values it names for that
 * property (values of one property OR-ed, properties AND-ed); a property
 * no catalog entry has is refused (XS_ERR_USAGE, "unknown property"), a
 * value no item has matches nothing.  `boost` multiplies the score of an
 * item holding the (name, value) by factor (divides a negative score, so
 * a factor > 1 always raises); several matching boosts multiply.  Boosts
 * are applied in push(), before the heap compares, and with boosts each
 * plugin is asked for max(4k, k + 50) candidates (at most XS_K_MAX; the
 * blend's own 2k widened the same way) of which the k best boosted are
 * kept: an item the plugin ranks below that depth is not seen, whatever
 * its boost.
 *
 * Lifecycle.  Items hidden or deleted in the catalog are never returned;
 * items with dates only between available_from (inclusive) and expires
 * (exclusive), judged at `now` (unix seconds; 0: the host's clock when
 * the request runs). */
typedef struct xs_filter {
    const uint32_t *exclude; /* any order, duplicates allowed */
    uint32_t n_exclude;
    int exclude_owned; /* -1: the engine's setting, 0: keep, 1: drop */
    const xs_prop_term *where; /* the property filter, n_where terms */
    uint32_t n_where;
    const xs_prop_term *boost; /* boosts, n_boost terms */
    uint32_t n_boost;
    int64_t now;
} xs_filter;

/* The general form of xs_engine_recommend: plugin NULL or "blend" for the
 * blend; filter may be NULL. */
XS_API int
xs_engine_recommend_filtered(xs_engine *e, xs_context *ctx, const char *plugin,
                             const xs_request *req, const xs_filter *filter,
                             const xs_rec **out, size_t *n, xs_error *err);

/* Candidates plugin i offered that the host dropped as unknown ids or
 * non-finite scores, since the engine started. */
XS_API uint64_t xs_engine_plugin_dropped(const xs_engine *e, size_t i);

/* Plugin i's own monitoring figures (its optional stats() hook,
 * xsell/plugin.h) into *out: the number of fields, 0 when it has none.
 * Call it under xs_engine_read_lock, like a request. */
XS_API int xs_engine_plugin_stats(const xs_engine *e, size_t i,
                                  xs_evidence *out);

/* ---- run-time catalog ------------------------------------------------------ */

/* One catalog entry as it arrives online (strings not NUL-terminated).
 * The fields after in_stock were added later; zero means none.  With
 * `remove` set only item is read: the item's entry is deleted and the item
 * is never returned again until an entry for it is put back. */
typedef struct xs_catalog_item {
    const char *item, *category, *title; /* title may be NULL */
    uint32_t item_len, category_len, title_len;
    double price;  /* finite, >= 0 */
    double margin; /* NaN when unknown */
    int in_stock;
    int remove;                 /* delete the item */
    int hidden;                 /* known, never returned */
    int64_t available_from;     /* unix seconds; 0: always */
    int64_t expires;            /* unix seconds; 0: never */
    const xs_prop_value *props; /* its properties (replacing all it had) */
    uint32_t n_props;           /* at most XS_ITEM_PROPS_MAX */
} xs_catalog_item;

/* Validates the whole batch (refused whole with XS_ERR_USAGE naming the
 * entry, "items[2].price: ..."), then under the write lock interns new
 * items, adds or replaces their entries (or deletes them: `remove`) (creating the catalog when the
 * engine has none) and calls every plugin's catalog() hook, then its
 * prepare().  *added (may be NULL) receives the number of items new to the
 * catalog. */
XS_API int xs_engine_catalog_upsert(xs_engine *e, const xs_catalog_item *items,
                                    size_t n, size_t *added, xs_error *err);

/* Sets (or, with NULL, clears) the journal every later write goes
 * through; single threaded, while no write runs. */
XS_API void xs_engine_set_journal(xs_engine *e, const xs_journal *j);

/* Writers (ingest, catalog upsert) hold the engine's writer mutex from
 * their journal call to the end of their application.  Pausing takes it:
 * no write starts or is half done until resume (a snapshot's consistent
 * cut).  Never call a write from the pausing thread. */
XS_API void xs_engine_writes_pause(xs_engine *e);
XS_API void xs_engine_writes_resume(xs_engine *e);

/* ---- snapshot images -------------------------------------------------------- */

/* What a snapshot image holds (its HEAD section). */
typedef struct xs_image_info {
    uint64_t seq;           /* the last journal record it holds */
    int64_t written;        /* unix seconds */
    uint64_t events;        /* loaded and ingested */
    uint64_t ingested;      /* of which ingested since the CSV files */
    uint32_t items, customers, orders, catalog_items;
    uint64_t pairs[2];      /* stored directed pairs per scope */
    uint32_t scopes;        /* bit 1 << XS_SCOPE_*: the tables it holds */
    uint32_t max_basket;    /* the bound its tables were counted under */
    uint64_t bytes;         /* size of the file */
} xs_image_info;

/* Writes the engine's data (dictionaries, events, catalog, the tables
 * built; not plugins or settings) to path atomically: path.tmp, fsync,
 * rename, fsync of the directory.  Takes the read lock: requests go on;
 * the caller pauses writes for a cut consistent with its journal (seq is
 * stored as the last record the image holds).  info may be NULL. */
XS_API int xs_engine_save(xs_engine *e, const char *path, uint64_t seq,
                          xs_image_info *info, xs_error *err);
/* A new engine from an image: the same ids, events and tables as the
 * engine saved, without rebuilding the tables (unless they were counted
 * under another max_basket: then they are rebuilt, with a warning through
 * the config's log); plugins are added as after
 * xs_engine_new.  info (may be NULL) receives the image's HEAD.  A damaged
 * image fails with XS_ERR_DATA naming the file and byte offset. */
XS_API xs_engine *xs_engine_load(const char *path, const xs_engine_config *cfg,
                                 xs_image_info *info, xs_error *err);
/* Reads the HEAD of an image only. */
XS_API int xs_image_info_read(const char *path, xs_image_info *out,
                              xs_error *err);

/* Reader side of the engine lock (see the top of this file). */
XS_API void xs_engine_read_lock(xs_engine *e);
XS_API void xs_engine_read_unlock(xs_engine *e);

#define XS_INGEST_MAX 10000 /* events in one batch */
#define XS_ID_MAX 1024      /* bytes in one external id */

/* Validates the whole batch (ids non-empty and at most XS_ID_MAX bytes,
 * weight finite and >= 0, price NaN or finite and >= 0), refusing it whole
 * with XS_ERR_USAGE and a message naming the event ("events[3].item: ...");
 * refuses it whole with XS_ERR_LIMIT when it would take an order of basket
 * scope past max_basket distinct items ("The bound" above); resolves
 * XS_TS_LATEST times (under the writer mutex, so the journal records the
 * resolved time and a replay gives the same one);
 * then calls the journal's ingest hook, then, under the write lock, interns
 * the new ids,
 * extends the co-occurrence tables, the customers' histories, and calls every
 * plugin's observe(), then its prepare().  The next recommend sees the
 * events. */
XS_API int xs_engine_ingest(xs_engine *e, const xs_ingest_event *ev, size_t n,
                            xs_error *err);

/* Figures for monitoring. */
typedef struct xs_engine_info {
    uint32_t customers, items;
    uint64_t events;    /* loaded + ingested */
    uint64_t ingested;
    uint64_t transactions[2]; /* per scope; 0 when not built */
    uint64_t pairs[2];        /* stored directed pairs per scope */
    size_t bytes;             /* data, dictionaries and tables */
    size_t table_bytes[2];    /* per scope: its table and transactions, and
                                 what ingest added to them (0 when not
                                 built); included in bytes */
} xs_engine_info;

/* Fills *out; the caller holds the read lock when ingest may run. */
XS_API void xs_engine_info_get(const xs_engine *e, xs_engine_info *out);

/* Sorts ids ascending and removes duplicates in place; returns the new
 * count. */
XS_API uint32_t xs_request_items(uint32_t *ids, uint32_t n);

#endif
