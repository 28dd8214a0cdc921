/*
 * xsell/plugin.h -- the plugin ABI.  This header, and the header-only
 * helpers of xsell/plugin_util.h, are all a plugin author needs.
 *
 * A plugin is a shared object that exports exactly one symbol,
 * xs_plugin_entry(), returning a pointer to a static xs_plugin table.  The
 * host loads it with dlopen(RTLD_NOW | RTLD_LOCAL), checks the table, then
 * calls create() handing over an xs_host_api table: the only way a plugin
 * reaches the engine's data (SQLite's sqlite3_api_routines and Redis
 * modules are the model).
 *
 * Versions.  XS_PLUGIN_ABI is the major version: the host loads a plugin
 * only when the table's abi equals its own.  Within a major version both
 * tables only ever grow at the end, and each carries its size as built:
 * a host reads a plugin's optional hooks only when the plugin's `size`
 * covers them (an older plugin simply has none of the newer hooks), and a
 * plugin calls a host function only when the host's `size` covers it
 * (XS_HOST_HAS).  A new optional hook or host function is therefore never
 * a new major version; only changing or removing a field is.
 *
 * Ids.  Items and customers are interned by the host into dense uint32_t ids
 * (0 .. item_count-1); XS_NONE means "no such id".  Names are available
 * through item_name()/item_lookup().
 *
 * Life cycle and threads.
 *   create()    once, single threaded: options, state.
 *   prepare()   once after create(), and again after every burst of
 *               observe()/catalog() calls, on one thread, before the plugin
 *               serves: build or refresh what recommend() reads.  `asks`
 *               says which requests will come (XS_ASK_*): a plugin may skip
 *               what only serves requests that will not.
 *   recommend(), explain(), stats()   on any number of threads at once,
 *               against read-only state: they must not change the state.
 *   observe(), catalog()     under the host's write discipline, never
 *               concurrently with recommend() or with each other.
 *   destroy()   once, last.
 *
 * Ownership.  What a plugin reaches through the host during a request
 * (rows, names, histories, supports, item info) is valid until that
 * request ends.  Outside a request, what it reached in create() or
 * prepare() is valid until the next observe() or catalog(): ingest moves
 * rows, supports and histories.  A plugin keeps its own copies of anything
 * it needs longer.  Memory from scratch() lives until the request ends.
 * The plugin owns its state and frees it in destroy().
 *
 * Errors.  create() and prepare() write a message into err; the host
 * prefixes "plugin NAME: ", as it does to the plugin's log lines, so a
 * plugin never names itself in a message.
 *
 * Business rules.  The host filters what push() accepts: request items, the
 * request's exclusions, items the customer already owns (unless the engine
 * or request keeps them, or their category is re-bought), out-of-stock
 * items and, with a category filter, items of other categories.  A plugin
 * that pushes candidates in descending score order may stop once k pushes
 * have been kept.
 */
#ifndef XSELL_PLUGIN_H
#define XSELL_PLUGIN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XS_PLUGIN_ABI 3 /* the major version: must match */
#define XS_NONE 0xFFFFFFFFu

#if defined(__GNUC__)
#define XS_EXPORT __attribute__((visibility("default")))
#define XS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define XS_EXPORT
#define XS_PRINTF(f, a)
#endif

typedef struct xs_host xs_host;     /* the engine, as seen by a plugin */
typedef struct xs_result xs_result; /* one request's bounded result heap */

/* Co-occurrence scope: items bought in the same order, or by the same
 * customer. */
enum xs_scope { XS_SCOPE_BASKET = 0, XS_SCOPE_CUSTOMER = 1 };

/* Similarity measures computed from the counts n_ab, n_a, n_b, n. */
enum xs_measure {
    XS_MEASURE_COUNT = 0,  /* n_ab */
    XS_MEASURE_CONFIDENCE, /* P(b|a) = n_ab / n_a */
    XS_MEASURE_LIFT,       /* n_ab * n / (n_a * n_b) */
    XS_MEASURE_JACCARD,    /* n_ab / (n_a + n_b - n_ab) */
    XS_MEASURE_COSINE,     /* n_ab / sqrt(n_a * n_b) */
    XS_MEASURE_LLR,        /* Dunning's G^2, as Mahout computes it */
    XS_MEASURE_COUNT_OF
};

enum xs_log_level { XS_LOG_DEBUG = 0, XS_LOG_INFO, XS_LOG_WARN, XS_LOG_ERROR };

/* One purchase (or rating) event.  `reserved` is the event's type id
 * (docs/plugins.md "Event types"): 0, the primary type (purchase), for
 * every event of history() and observe(); other types (view, cart, ...)
 * reach a plugin only through type_events(), the cross rows and, when
 * ingested online, the optional observe_types() hook.  The
 * field keeps its old name so the layout and older plugins are unchanged. */
typedef struct xs_event {
    uint32_t customer; /* XS_NONE when unknown */
    uint32_t item;
    uint32_t order;    /* XS_NONE when unknown */
    uint32_t reserved; /* the type id; 0: the primary type */
    int64_t ts;        /* unix seconds; 0 when unknown */
    double weight;     /* quantity or rating; 1 by default */
    double price;      /* unit price; NaN when unknown */
} xs_event;

/* One row of a co-occurrence table: item `item`, seen in `support`
 * transactions, co-occurs with nbr[i] in cnt[i] transactions.  nbr is sorted
 * ascending and never contains `item`. */
typedef struct xs_row {
    uint32_t item;
    uint32_t support;
    uint32_t n;
    const uint32_t *nbr;
    const uint32_t *cnt;
} xs_row;

/* Catalog attributes of an item.  price/margin are NaN when unknown. */
typedef struct xs_item_info {
    uint32_t category;         /* XS_NONE when unknown */
    const char *category_name; /* NULL when unknown */
    double price;
    double margin;
    int in_stock;              /* 1 unless the catalog says otherwise */
    const char *title;         /* NULL when unknown */
} xs_item_info;

/* A plugin option, "key=value" as the user wrote it. */
typedef struct xs_option {
    const char *key;
    const char *value;
} xs_option;

/* A recommendation request.  items are the basket or viewed page (sorted
 * ascending, unique, all known); the host never returns them. */
typedef struct xs_request {
    const uint32_t *items;
    uint32_t n_items;
    uint32_t customer; /* XS_NONE when absent or unknown */
    uint32_t k;        /* result size, 1 .. XS_K_MAX */
    int explain;       /* non-zero: explain() will be called on the results */
    uint32_t category; /* XS_NONE, or the only category the host keeps */
} xs_request;

#define XS_K_MAX 1000

/* Evidence for one recommended item: named numbers, or named strings when
 * `text` is non-NULL (text must outlive the request: host or static). */
#define XS_EVIDENCE_MAX 12
typedef struct xs_evidence_field {
    const char *key;
    double value;
    const char *text;
} xs_evidence_field;

typedef struct xs_evidence {
    uint32_t n;
    xs_evidence_field f[XS_EVIDENCE_MAX];
} xs_evidence;

/* The requests a host will send until the next prepare(), a set of bits. */
enum xs_ask {
    XS_ASK_CUSTOMER = 1, /* requests without items: a customer, or none */
    XS_ASK_ITEMS = 2,    /* requests with items, with or without a customer */
    XS_ASK_ALL = 3
};

/* The host API table: only ever grows at the end (see "Versions"). */
typedef struct xs_host_api {
    uint32_t abi;  /* XS_PLUGIN_ABI of the host */
    uint32_t size; /* sizeof(xs_host_api) of the host */

    /* Dictionary. */
    uint32_t (*item_count)(const xs_host *h);
    const char *(*item_name)(const xs_host *h, uint32_t item);
    uint32_t (*item_lookup)(const xs_host *h, const char *name);
    uint32_t (*customer_count)(const xs_host *h);

    /* Co-occurrence.  use_scope() builds the table of a scope if needed; call
     * it from create(), not while serving.  Returns 0, or -1 when that scope
     * cannot be had (no order column for basket scope, no customer column
     * for customer scope).  default_scope() is basket when orders are known
     * and customer otherwise, unless the user chose. */
    int (*use_scope)(xs_host *h, int scope);
    int (*default_scope)(const xs_host *h);
    uint64_t (*transactions)(const xs_host *h, int scope);
    /* Fills *out and returns 1 when item has a row, else returns 0. */
    int (*row)(const xs_host *h, int scope, uint32_t item, xs_row *out);
    uint32_t (*pair_count)(const xs_host *h, int scope, uint32_t a, uint32_t b);
    /* Transactions holding item (0 for unknown ids); O(1). */
    uint32_t (*support)(const xs_host *h, int scope, uint32_t item);

    /* Measures: one implementation shared by host and plugins. */
    double (*measure)(int measure, uint64_t n_ab, uint64_t n_a, uint64_t n_b,
                      uint64_t n);
    int (*measure_parse)(const char *name); /* -1 when unknown */
    const char *(*measure_name)(int measure);

    /* Catalog.  Returns 1 and fills *out when the item is in the catalog. */
    int (*item_info)(const xs_host *h, uint32_t item, xs_item_info *out);

    /* Customer history: the customer's events ordered by time. */
    int (*history)(const xs_host *h, uint32_t customer, const xs_event **ev,
                   size_t *n);

    /* Results.  push() offers a candidate to the request's bounded heap; it
     * drops request items, unknown ids and non-finite scores.  Returns 1 if
     * kept for now, 0 if dropped.  scratch() returns memory that lives until
     * the request ends (not zeroed), or NULL when out of memory. */
    int (*push)(xs_result *r, uint32_t item, double score);
    void *(*scratch)(xs_result *r, size_t bytes);

    /* Logging, to the host's log. */
    void (*log)(const xs_host *h, int level, const char *fmt, ...)
        XS_PRINTF(3, 4);

    /* The support of every item of a scope as one array indexed by item id
     * (*n entries), for loops that would otherwise call support() per
     * candidate.  Valid until the request ends; NULL when the scope has no
     * table. */
    const uint32_t *(*supports)(const xs_host *h, int scope, uint32_t *n);

    /* Row versions of a scope, indexed like supports(): 0 for a row as
     * built, changed whenever ingest changes the row.  A plugin that keeps
     * something derived from rows compares these in observe() to know what
     * to refresh. */
    const uint32_t *(*row_versions)(const xs_host *h, int scope, uint32_t *n);

    /* Catalog size: items with catalog entries (0 when there is no
     * catalog).  Categories are dense ids 0 .. category_count()-1. */
    uint32_t (*catalog_size)(const xs_host *h);
    uint32_t (*category_count)(const xs_host *h);
    const char *(*category_name)(const xs_host *h, uint32_t category);
    uint32_t (*category_lookup)(const xs_host *h, const char *name);

    /* The latest event time of the data (loaded or ingested), unix seconds;
     * 0 when the data has no timestamps. */
    int64_t (*latest_time)(const xs_host *h);

    /* The bound on pair work (--max-basket): a transaction (an order, or a
     * customer) feeds only its first max_basket distinct items, in time
     * order, into the co-occurrence tables; later items add no support and
     * no pair.  A plugin pairing items itself applies the same rule, so its
     * work per event stays bounded too.  0 would mean no bound. */
    uint32_t (*max_basket)(const xs_host *h);

    /* Says why this request gets nothing from the plugin ("no items, and
     * the customer has no purchases"), when it cannot answer a request of
     * its kind.  why must outlive the request (static text, or scratch()).
     * A plugin answering alone with no items has the reason in the reply
     * (the server's `note`, "NAME: why"); in a blend the plugin simply
     * contributes nothing.  The last call of a run wins. */
    void (*note)(xs_result *r, const char *why);

    /* Whether push() would take item for its rules alone (a known id, not
     * a request item, not excluded, in stock and in the request's category
     * when it has one), whatever the heap holds.  For a plugin that decides
     * between ways of answering before it pushes anything (the built-in
     * plugins' ranked lists fall back to whole rows when the lists cannot
     * fill k). */
    int (*admits)(const xs_result *r, uint32_t item);

    /* Event types (docs/plugins.md "Event types").  Types are dense ids
     * 0 .. type_count()-1; 0 is the primary type ("purchase"), the only one
     * in the co-occurrence tables, history() and observe().  type_count()
     * is 1 for data without a type column.  type_weight() is the user's
     * weight of a type (event_weights: 1 for the primary type and 0 for
     * the others unless set); read it per request, it may be set after
     * prepare(). */
    uint32_t (*type_count)(const xs_host *h);
    const char *(*type_name)(const xs_host *h, uint32_t type);
    double (*type_weight)(const xs_host *h, uint32_t type);
    /* The cross-occurrence row of bought item `item` for type `type` > 0:
     * nbr[i] are the items that cnt[i] of the item's buyers did `type` on
     * (customers; support = the item's buyers).  Returns 1 and fills *out,
     * or 0 (type 0, unknown ids, no types). */
    int (*cross_row)(const xs_host *h, uint32_t type, uint32_t item,
                     xs_row *out);
    /* Customers who did `type` on item (type 0: who bought it), and the
     * customers of the cross tables (n of their measures). */
    uint32_t (*type_support)(const xs_host *h, uint32_t type, uint32_t item);
    uint64_t (*type_transactions)(const xs_host *h);
    /* A customer's events of the types other than 0, in file order (the
     * type id in `reserved`).  Returns 1 and fills, or 0 when none. */
    int (*type_events)(const xs_host *h, uint32_t customer,
                       const xs_event **ev, size_t *n);
} xs_host_api;

/* The plugin table: only ever grows at the end (see "Versions"). */
typedef struct xs_plugin {
    uint32_t abi;            /* XS_PLUGIN_ABI */
    uint32_t size;           /* sizeof(xs_plugin) as the plugin was built */
    const char *name;        /* unique, [a-z0-9_-], at most 32 chars */
    const char *version;
    const char *description; /* one line */

    /* Reads the options and makes the plugin's state.  Returns 0 and sets
     * *state, or non-zero with a message in err.  Unknown option keys and
     * bad values must be refused.  The option strings are the caller's:
     * copy what the state keeps.  Heavy building belongs in prepare(). */
    int (*create)(const xs_host_api *api, xs_host *host, const xs_option *opts,
                  size_t n_opts, void **state, char *err, size_t errlen);

    /* Scores candidates for req, push()ing them into out.  Returns 0, or
     * non-zero on an internal failure. */
    int (*recommend)(void *state, const xs_request *req, xs_result *out);

    /* Optional.  Fills the evidence for one item the plugin recommended. */
    int (*explain)(void *state, const xs_request *req, uint32_t item,
                   xs_evidence *ev);

    /* Optional.  New events, already added to the host's tables; whatever
     * the plugin reached of the host before is invalid now. */
    int (*observe)(void *state, const xs_event *ev, size_t n);

    void (*destroy)(void *state);

    /* ---- optional hooks: read only when `size` covers them ---- */

    /* Catalog entries of these items were added or changed (already
     * visible through item_info).  Called like observe(). */
    int (*catalog)(void *state, const uint32_t *items, size_t n);

    /* Builds or refreshes what recommend() and explain() read, for the
     * requests of `asks` (XS_ASK_*): once after create(), and after every
     * burst of observe()/catalog(), before the plugin serves again.
     * Returns 0, or non-zero with a message in err (after create() the
     * plugin is then not loaded; after a burst it must keep answering from
     * what it has). */
    int (*prepare)(void *state, unsigned asks, char *err, size_t errlen);

    /* Optional.  Figures for monitoring, as named numbers (and strings,
     * text as in evidence) in *out: the server's `stats` op reports them
     * under "plugins": {NAME: {...}}.  Called like recommend(): on any
     * thread, against read-only state.  Returns 0, or non-zero when it has
     * nothing to say. */
    int (*stats)(void *state, xs_evidence *out);

    /* Optional.  New events of types other than the primary (views,
     * carts: `reserved` is the type id, > 0), ingested online; already in
     * the host's cross rows and type_events(), and type_count() counts a
     * type first seen in them.  Called like observe() (observe() itself
     * sees purchases only, as ever). */
    int (*observe_types)(void *state, const xs_event *ev, size_t n);
} xs_plugin;

/* Whether a host API table has function `fn`: call newer host functions
 * only when it does. */
#define XS_HOST_HAS(api, fn)                                                   \
    ((api)->size >= offsetof(xs_host_api, fn) + sizeof((api)->fn))

/* Whether a plugin table has hook `hook` (for hosts). */
#define XS_PLUGIN_HAS(p, hook)                                                 \
    ((p)->size >= offsetof(xs_plugin, hook) + sizeof((p)->hook))

typedef const xs_plugin *(*xs_plugin_entry_fn)(void);

/* Each plugin defines this, and exports nothing else. */
XS_EXPORT const xs_plugin *xs_plugin_entry(void);

/* The measures, inline so hot loops pay no call: the host's measure() is
 * this same function.  For the rule a -> b over n transactions: count n_ab;
 * confidence n_ab / n_a; lift n_ab n / (n_a n_b); jaccard n_ab / (n_a + n_b
 * - n_ab); cosine n_ab / sqrt(n_a n_b); llr Dunning's G^2 of the 2x2 table,
 * as Mahout's LogLikelihood computes it.  Degenerate inputs give 0. */
static inline double xs_xlogx_(double x)
{
    return x == 0 ? 0.0 : x * log(x);
}

static inline double xs_llr_value(uint64_t k11, uint64_t k12, uint64_t k21,
                                  uint64_t k22)
{
    double a = (double)k11, b = (double)k12, c = (double)k21, d = (double)k22;
    double row = xs_xlogx_(a + b + c + d) - xs_xlogx_(a + b) - xs_xlogx_(c + d);
    double col = xs_xlogx_(a + b + c + d) - xs_xlogx_(a + c) - xs_xlogx_(b + d);
    double mat = xs_xlogx_(a + b + c + d) - xs_xlogx_(a) - xs_xlogx_(b) -
                 xs_xlogx_(c) - xs_xlogx_(d);
    return row + col < mat ? 0.0 : 2.0 * (row + col - mat); /* round-off */
}

static inline double xs_measure_value(int measure, uint64_t n_ab, uint64_t n_a,
                                      uint64_t n_b, uint64_t n)
{
    double ab = (double)n_ab, a = (double)n_a, b = (double)n_b;
    switch (measure) {
    case XS_MEASURE_COUNT:
        return ab;
    case XS_MEASURE_CONFIDENCE:
        return n_a ? ab / a : 0.0;
    case XS_MEASURE_LIFT:
        return n_a && n_b ? ab * (double)n / (a * b) : 0.0;
    case XS_MEASURE_JACCARD:
        return n_a + n_b > n_ab ? ab / (a + b - ab) : 0.0;
    case XS_MEASURE_COSINE:
        return n_a && n_b ? ab / sqrt(a * b) : 0.0;
    case XS_MEASURE_LLR:
        if (n_ab > n_a || n_ab > n_b || n_a + n_b - n_ab > n)
            return 0.0; /* inconsistent counts */
        return xs_llr_value(n_ab, n_a - n_ab, n_b - n_ab, n - n_a - n_b + n_ab);
    default:
        return 0.0;
    }
}

/* Helper for plugins: append a field to evidence (ignored when full). */
static inline void xs_evidence_add(xs_evidence *ev, const char *key,
                                   double value, const char *text)
{
    if (ev->n < XS_EVIDENCE_MAX) {
        ev->f[ev->n].key = key;
        ev->f[ev->n].value = value;
        ev->f[ev->n].text = text;
        ev->n++;
    }
}

#ifdef __cplusplus
}
#endif
#endif /* XSELL_PLUGIN_H */
