/*
 * ingest.c -- applying new events to a running engine.
 *
 * A batch goes through three steps, in this order, so that it is applied
 * whole or not at all:
 *   1. validate every event (no lock held): any bad field refuses the batch;
 *   2. journal it (the engine's journal hook, under the writer mutex that
 *      stays held through step 3, so the log's order is the order the
 *      batches were applied in: where a write-ahead log makes
 *      the batch durable before anyone is told it was accepted);
 *   3. apply it under the engine's write lock: intern new ids, work out the
 *      new pairs per built scope against the transactions they join, update
 *      the co-occurrence tables (xs_cooc_update), the customers' histories,
 *      then tell every plugin (observe) and let it prepare again before the
 *      lock is released, so no request sees a plugin half updated.
 *
 * An event may come without a time (XS_TS_LATEST, xsell/engine.h): it
 * takes the latest time of the data, resolved between steps 1 and 2 so the
 * journal holds the time applied and a replay gives the same weights.
 *
 * Event types (xsell/dataset.h "Event types").  An event whose type is not
 * the primary one (a view, a cart) joins no transaction and no history:
 * it is appended to the data's other events (so a snapshot keeps it),
 * counted into the cross-occurrence tables (xs_xocc_add: the customer's
 * list, supports and pairs with its purchases) and handed to the plugins'
 * observe_types(); its order is ignored, as at load.  A new type name is
 * interned (XS_TYPES_MAX at most: past it the batch is refused naming the
 * event, checked under the writer mutex) and the event_weights set so
 * far apply to it.  Purchases join the cross tables too (xs_xocc_add with
 * the customer's history before them), so after a batch the tables are
 * those a load of the same events builds.  Data loaded without a type
 * column gets its types and tables on the first event of another type
 * (xs_store_use_types).
 *
 * Transactions touched online are kept in a uthash map per scope (group id
 * -> sorted items, the store's live transactions), seeded from the built
 * transactions on first touch, so a later event of the same order pairs
 * with everything the order already holds.  Memory grows with what is
 * touched; nothing here is compacted yet.
 *
 * The bound (xsell/engine.h): a transaction holds at most the store's
 * max_basket items; an item arriving at a full one stays out of it (no
 * support, no pair), as xs_txns_build_max leaves it out at load.  So an
 * event costs at most max_basket pairs, and a batch is linear in its size
 * whatever the histories hold.  Before the journal, a batch that would take
 * an order past the bound is refused whole (check_orders), under the
 * writer mutex, so no other write moves the orders between check and
 * application.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_state.h"
#include "xsell/plugin_util.h"

static int check_id(const char *s, uint32_t len, size_t i, const char *what,
                    xs_error *err)
{
    if (!s || len == 0)
        return xs_error_set(err, XS_ERR_USAGE, "events[%zu].%s: empty", i,
                            what);
    if (len > XS_ID_MAX)
        return xs_error_set(err, XS_ERR_USAGE,
                            "events[%zu].%s: longer than %d bytes", i, what,
                            XS_ID_MAX);
    return XS_OK;
}

/* Whether an event is of the primary type (no type, or its name). */
static int primary(const xs_ingest_event *e)
{
    return !e->type || (e->type_len == sizeof XS_PRIMARY_TYPE - 1 &&
                        !memcmp(e->type, XS_PRIMARY_TYPE, e->type_len));
}

static int validate(const xs_ingest_event *ev, size_t n, xs_error *err)
{
    if (n > XS_INGEST_MAX)
        return xs_error_set(err, XS_ERR_USAGE,
                            "%zu events in one batch (at most %d)", n,
                            XS_INGEST_MAX);
    for (size_t i = 0; i < n; i++) {
        int rc;
        if ((rc = check_id(ev[i].customer, ev[i].customer_len, i, "customer",
                           err)) ||
            (rc = check_id(ev[i].item, ev[i].item_len, i, "item", err)) ||
            (ev[i].order &&
             (rc = check_id(ev[i].order, ev[i].order_len, i, "order", err))))
            return rc;
        if (!isfinite(ev[i].weight) || ev[i].weight < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "events[%zu].qty: want a number >= 0", i);
        if (!isnan(ev[i].price) && (!isfinite(ev[i].price) || ev[i].price < 0))
            return xs_error_set(err, XS_ERR_USAGE,
                                "events[%zu].price: want a number >= 0", i);
        if (ev[i].type && !xs_type_name_ok(ev[i].type, ev[i].type_len))
            return xs_error_set(err, XS_ERR_USAGE,
                                "events[%zu].type: not a type name (1 to %d "
                                "bytes, no spaces, commas, '=' or '\"')", i,
                                XS_TYPE_NAME_MAX);
    }
    return XS_OK;
}

/* Refuses a batch whose new type names would take the data past
 * XS_TYPES_MAX types, naming the first event past it.  The caller keeps
 * other writers out. */
static int check_types(const xs_store *st, const xs_ingest_event *ev,
                       size_t n, xs_error *err)
{
    const xs_dict *types = st->ds->types;
    uint32_t have = types ? xs_dict_size(types) : 1;
    uint32_t fresh = 0;
    for (size_t i = 0; i < n; i++) {
        if (primary(&ev[i]) ||
            (types && xs_dict_find(types, ev[i].type, ev[i].type_len) !=
                          XS_NONE))
            continue;
        size_t j = 0; /* new: counted at its first event in the batch */
        while (j < i && (primary(&ev[j]) || ev[j].type_len != ev[i].type_len ||
                         memcmp(ev[j].type, ev[i].type, ev[i].type_len)))
            j++;
        if (j < i)
            continue;
        if (have + ++fresh > XS_TYPES_MAX)
            return xs_error_set(err, XS_ERR_USAGE,
                                "events[%zu].type: '%.*s' would be event type "
                                "%u, more than %d", i, (int)ev[i].type_len,
                                ev[i].type, have + fresh, XS_TYPES_MAX);
    }
    return XS_OK;
}

/* Growable arrays for the batch's increments. */
typedef struct inc_list {
    xs_pair_inc *v;
    size_t n, cap;
} inc_list;

static int inc_push(inc_list *l, uint32_t a, uint32_t b)
{
    if (l->n + 2 > l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        xs_pair_inc *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = (xs_pair_inc){a, b, 1};
    l->v[l->n++] = (xs_pair_inc){b, a, 1};
    return 0;
}

typedef struct u32_list {
    uint32_t *v;
    size_t n, cap;
} u32_list;

static int u32_push(u32_list *l, uint32_t x)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return 0;
}

/* The live items of a group, created from the built transactions (or
 * empty) on first touch.  *is_new tells whether the group existed before. */
static xs_live_txn *group_get(xs_store *st, int scope, uint32_t g,
                              int *is_new)
{
    xs_live_txn *lg = NULL;
    HASH_FIND(hh, st->live[scope], &g, sizeof g, lg);
    *is_new = 0;
    if (lg)
        return lg;
    const xs_txns *t = &st->txns[scope];
    uint32_t n = g < t->n ? t->off[g + 1] - t->off[g] : 0;
    *is_new = n == 0;
    lg = calloc(1, sizeof *lg);
    if (!lg)
        return NULL;
    lg->group = g;
    lg->cap = n + 4;
    lg->items = malloc(lg->cap * sizeof *lg->items);
    if (!lg->items) {
        free(lg);
        return NULL;
    }
    if (n)
        memcpy(lg->items, t->items + t->off[g], n * sizeof *lg->items);
    lg->n = n;
    int hash_oom = 0;
    HASH_ADD(hh, st->live[scope], group, sizeof lg->group, lg);
    if (hash_oom) {
        free(lg->items);
        free(lg);
        return NULL;
    }
    st->live_txn_bytes[scope] += sizeof *lg + lg->cap * sizeof *lg->items;
    return lg;
}

/* Adds item to its group in one scope, recording new pairs and support. */
static int scope_add(xs_store *st, int scope, uint32_t g, uint32_t item,
                     inc_list *inc, u32_list *sup, uint64_t *new_txns)
{
    int is_new;
    xs_live_txn *lg = group_get(st, scope, g, &is_new);
    if (!lg)
        return -1;
    uint32_t pos = xs_lower_bound(lg->items, lg->n, item);
    if (pos < lg->n && lg->items[pos] == item)
        return 0; /* already in this transaction: counts once */
    if (lg->n >= st->max_basket)
        return 0; /* full: later items pair no more (the bound) */
    if (lg->n == lg->cap) { /* doubled, up to the bound */
        uint32_t cap = lg->cap * 2 > st->max_basket && st->max_basket > lg->n
                           ? st->max_basket
                           : lg->cap * 2;
        uint32_t *v = realloc(lg->items, cap * sizeof *v);
        if (!v)
            return -1;
        st->live_txn_bytes[scope] += (cap - lg->cap) * sizeof *v;
        lg->items = v;
        lg->cap = cap;
    }
    for (uint32_t i = 0; i < lg->n; i++)
        if (inc_push(inc, item, lg->items[i]))
            return -1;
    if (u32_push(sup, item))
        return -1;
    memmove(lg->items + pos + 1, lg->items + pos,
            (lg->n - pos) * sizeof *lg->items);
    lg->items[pos] = item;
    lg->n++;
    *new_txns += is_new;
    return 0;
}

static int intern(xs_dict *d, const char *s, uint32_t len, uint32_t *id)
{
    return xs_dict_intern(d, s, len, id);
}

static int bytes_cmp(const char *a, uint32_t na, const char *b, uint32_t nb)
{
    int c = memcmp(a, b, na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static int by_order_item(const void *x, const void *y)
{
    const xs_ingest_event *a = *(const xs_ingest_event *const *)x;
    const xs_ingest_event *b = *(const xs_ingest_event *const *)y;
    int c = bytes_cmp(a->order, a->order_len, b->order, b->order_len);
    return c ? c : bytes_cmp(a->item, a->item_len, b->item, b->item_len);
}

/* The items basket scope holds for order `name` now (none when unknown). */
static const uint32_t *order_items(const xs_store *st, const char *name,
                                   uint32_t len, uint32_t *n)
{
    const xs_dataset *ds = st->ds;
    uint32_t o = ds->orders ? xs_dict_find(ds->orders, name, len) : XS_NONE;
    *n = 0;
    if (o == XS_NONE)
        return NULL;
    uint32_t g = ds->order_base + o;
    xs_live_txn *lg = NULL;
    HASH_FIND(hh, st->live[XS_SCOPE_BASKET], &g, sizeof g, lg);
    if (lg) {
        *n = lg->n;
        return lg->items;
    }
    const xs_txns *t = &st->txns[XS_SCOPE_BASKET];
    if (g >= t->n)
        return NULL;
    *n = t->off[g + 1] - t->off[g];
    return t->items + t->off[g];
}

/* Refuses (XS_ERR_LIMIT) a batch that would take an order of basket scope
 * past max_basket distinct items: the batch's events sorted by (order,
 * item), each order's new distinct items counted against what it holds.
 * The caller keeps other writers out. */
static int check_orders(const xs_store *st, const xs_ingest_event *ev,
                        size_t n, xs_error *err)
{
    if (!st->cooc[XS_SCOPE_BASKET])
        return XS_OK;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += ev[i].order != NULL && primary(&ev[i]);
    if (m == 0)
        return XS_OK;
    const xs_ingest_event **ref = malloc(m * sizeof *ref);
    if (!ref)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    m = 0;
    for (size_t i = 0; i < n; i++)
        if (ev[i].order && primary(&ev[i]))
            ref[m++] = &ev[i];
    qsort(ref, m, sizeof *ref, by_order_item);
    int rc = XS_OK;
    for (size_t i = 0; i < m && rc == XS_OK;) {
        const xs_ingest_event *o = ref[i];
        uint32_t have, added = 0;
        const uint32_t *items = order_items(st, o->order, o->order_len, &have);
        size_t j = i;
        for (; j < m && !bytes_cmp(ref[j]->order, ref[j]->order_len, o->order,
                                   o->order_len); j++) {
            if (j > i && !by_order_item(&ref[j - 1], &ref[j]))
                continue; /* the same item again */
            uint32_t id = have ? xs_dict_find(st->ds->items, ref[j]->item,
                                              ref[j]->item_len)
                               : XS_NONE;
            uint32_t p = id == XS_NONE ? have : xs_lower_bound(items, have, id);
            added += p == have || items[p] != id;
        }
        if ((uint64_t)have + added > st->max_basket)
            rc = xs_error_set(err, XS_ERR_LIMIT,
                              "events: order '%.*s' would hold %llu distinct "
                              "items, more than the bound of %u "
                              "(--max-basket)",
                              (int)(o->order_len > 64 ? 64 : o->order_len),
                              o->order, (unsigned long long)have + added,
                              (unsigned)st->max_basket);
        i = j;
    }
    free(ref);
    return rc;
}

/* The batch with its XS_TS_LATEST times resolved: ev itself when it has
 * none, else a copy in *copy (the caller frees it; the ids stay the
 * caller's).  The time given is the latest of the data and of the batch's
 * own times, read under the writer mutex (latest_ts changes only under it).
 * Returns NULL when out of memory. */
static const xs_ingest_event *resolve_times(const xs_store *st,
                                            const xs_ingest_event *ev,
                                            size_t n, xs_ingest_event **copy)
{
    int64_t latest = st->latest_ts;
    size_t unresolved = 0;
    *copy = NULL;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].ts == XS_TS_LATEST)
            unresolved++;
        else if (ev[i].ts > latest && primary(&ev[i]))
            latest = ev[i].ts; /* the data's latest: purchases', as at load */
    }
    if (unresolved == 0)
        return ev;
    *copy = malloc(n * sizeof **copy);
    if (!*copy)
        return NULL;
    memcpy(*copy, ev, n * sizeof **copy);
    for (size_t i = 0; i < n; i++)
        if ((*copy)[i].ts == XS_TS_LATEST)
            (*copy)[i].ts = latest;
    return *copy;
}

/* The type id of a non-primary event, interned (the weights set so far
 * applied again to a new one).  0 or -1 (memory). */
static int type_id(xs_store *st, const xs_ingest_event *e, uint32_t *t)
{
    uint32_t before = xs_dict_size(st->ds->types);
    if (xs_dict_intern(st->ds->types, e->type, e->type_len, t))
        return -1;
    if (*t == before)
        xs_store_types_changed(st);
    return 0;
}

/* Counts d into the cross-occurrence tables (d's customer's purchases
 * before it from the histories).  0 or -1 (memory). */
static int xocc_event(xs_store *st, const xs_event *d)
{
    const xs_event *hist;
    size_t n_hist;
    if (xs_xocc_grow(st->xocc, xs_dict_size(st->ds->items),
                     xs_dict_size(st->ds->types)))
        return -1;
    xs_history_get(&st->hist, d->customer, &hist, &n_hist);
    return xs_xocc_add(st->xocc, d, hist, n_hist, st->max_basket);
}

int xs_engine_ingest(xs_engine *e, const xs_ingest_event *ev, size_t n,
                     xs_error *err)
{
    int rc = validate(ev, n, err);
    if (rc)
        return rc;
    /* purchases from dense[0], other types from dense[n] */
    xs_event *dense = malloc((n ? 2 * n : 1) * sizeof *dense);
    size_t np = 0, no = 0;
    inc_list inc[2] = {{0}};
    u32_list sup[2] = {{0}};
    uint64_t new_txns[2] = {0, 0};
    if (!dense)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&e->writers); /* journal order = application order */
    xs_ingest_event *resolved = NULL;
    if ((rc = check_types(&e->store, ev, n, err)) == XS_OK &&
        (rc = check_orders(&e->store, ev, n, err)) == XS_OK &&
        !(ev = resolve_times(&e->store, ev, n, &resolved)))
        rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    if (rc || (e->journal.ingest &&
               (rc = e->journal.ingest(e->journal.arg, ev, n, err)))) {
        pthread_mutex_unlock(&e->writers);
        free(resolved);
        free(dense);
        return rc;
    }
    pthread_rwlock_wrlock(&e->lock);
    xs_store *st = &e->store;
    xs_dataset *ds = st->ds;
    rc = XS_OK;
    for (size_t i = 0; i < n && rc == XS_OK; i++) {
        int prim = primary(&ev[i]);
        xs_event *d = prim ? &dense[np] : &dense[n + no];
        uint32_t t = 0;
        *d = (xs_event){XS_NONE, 0, XS_NONE, 0, ev[i].ts, ev[i].weight,
                        ev[i].price};
        if ((!prim && (xs_store_use_types(st) || type_id(st, &ev[i], &t))) ||
            intern(ds->customers, ev[i].customer, ev[i].customer_len,
                   &d->customer) ||
            intern(ds->items, ev[i].item, ev[i].item_len, &d->item)) {
            rc = XS_ERR_NOMEM;
            break;
        }
        if (!prim) { /* no order, no transaction, no history */
            d->reserved = t;
            if (xocc_event(st, d) || xs_dataset_push_other(ds, d))
                rc = XS_ERR_NOMEM;
            no++;
            continue;
        }
        if (ev[i].order) {
            if (!ds->orders) { /* --baskets data: named orders follow lines */
                ds->orders = xs_dict_new();
                ds->order_base = ds->n_orders;
            }
            uint32_t o;
            if (!ds->orders ||
                intern(ds->orders, ev[i].order, ev[i].order_len, &o)) {
                rc = XS_ERR_NOMEM;
                break;
            }
            d->order = ds->order_base + o;
            if (d->order + 1 > ds->n_orders)
                ds->n_orders = d->order + 1;
        }
        for (int s = 0; s < 2; s++) {
            if (!st->cooc[s])
                continue;
            uint32_t g = s == XS_SCOPE_BASKET ? d->order : d->customer;
            if (g != XS_NONE &&
                scope_add(st, s, g, d->item, &inc[s], &sup[s], &new_txns[s])) {
                rc = XS_ERR_NOMEM;
                break;
            }
        }
        if (rc == XS_OK && st->xocc && xocc_event(st, d))
            rc = XS_ERR_NOMEM;
        if (rc == XS_OK && xs_history_add(&st->hist, d))
            rc = XS_ERR_NOMEM;
        if (d->ts > st->latest_ts)
            st->latest_ts = d->ts;
        np++;
    }
    /* Out of memory part way is the one failure left after validation.  The
     * counts are then not updated, but ids interned and the live
     * transactions and histories of the events before stay ahead of them:
     * the error says "internal", not "refused". */
    uint32_t n_items = xs_dict_size(ds->items);
    for (int s = 0; s < 2 && rc == XS_OK; s++)
        if (st->cooc[s])
            rc = xs_cooc_update(st->cooc[s], n_items, sup[s].v, sup[s].n,
                                inc[s].v, inc[s].n, new_txns[s], err);
    if (rc == XS_OK) {
        st->ingested += np;
        st->ingested_other += no;
        if (np || !no)
            xs_registry_observe(&e->plugins, dense, np);
        xs_registry_observe_types(&e->plugins, dense + n, no);
        xs_registry_prepare(&e->plugins, e->cfg.asks);
    }
    pthread_rwlock_unlock(&e->lock);
    pthread_mutex_unlock(&e->writers);
    free(resolved);
    for (int s = 0; s < 2; s++) {
        free(inc[s].v);
        free(sup[s].v);
    }
    free(dense);
    if (rc == XS_ERR_NOMEM)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory applying events");
    return rc;
}
