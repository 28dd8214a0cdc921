/*
 * popular.c -- the cold-start answer: the items bought most, optionally
 * recently, overall or in a category.
 *
 * Popularity.  For item i, over its events e:
 *
 *     popularity(i) = sum over e of  w(e) * 2^(-(t_ref - t_e) / half_life)
 *
 * w(e) is 1 (weight=one) or the event's weight, a quantity or a rating
 * (weight=event); half_life is in days, 0 (the default) meaning no decay:
 * popularity is then the plain event count (or weight sum).  t_ref defaults
 * to the latest event time of the data.  Events come from every customer's
 * history.  Data without customers has no times either: popularity is then
 * the item's support in the default scope (the transactions holding it),
 * and half_life and weight do not apply (a warning says so when set).
 *
 * Lists.  Items with at least one event, sorted by (popularity desc, id
 * asc): one list of all of them and, when there is a catalog, one per
 * category.  recommend() walks a list in that order and stops once k
 * pushes were kept by the host, so a request costs O(k) plus the items the
 * host's rules drop (owned, out of stock, in the request).  Which list:
 *   - a request category filter (req->category): that category's list,
 *     whatever the options;
 *   - per_category=true and request items with categories: the lists of
 *     those categories, merged (a heap of cursors, O(k log m) for m
 *     categories);
 *   - otherwise the list of all items.
 * Scores are the popularities.
 *
 * Updates.  observe() adds new events with the same formula and the same
 * t_ref, so events newer than t_ref weigh more than 1 (ranking does not
 * depend on t_ref); the changed items are taken out of their lists and
 * merged back in order, O(list + c log c) for c changed items.  Should a
 * weight pass 2^512, t_ref moves to the new event's time, every
 * popularity is rescaled and the lists re-sorted: same order, no overflow
 * (popularities that underflow to 0 keep their items, last).  For the same
 * reason create() moves a t_ref more than 512 half-lives before the latest
 * event to the latest event.
 * With supports (no customers) observe() re-reads the changed items'
 * supports.  The catalog() hook rebuilds the category lists from the list
 * of all items, O(items).  Both run under the host's write discipline;
 * recommend() and explain() only read.
 *
 * Event types (docs/plugins.md "Event types").  types=purchase (the
 * default) counts the customers' purchases as above; types=NAME counts the
 * events of that type only (types=view: the most viewed items); types=all
 * counts every type, each event times its type's weight (event_weights,
 * read in create(): purchase 1, others 0 unless set).  Other types come
 * from the host's type_events at create(); observe() adds purchases times
 * the purchase type's factor and observe_types() the other types' events
 * ingested online, each times its type's factor (with types=all, a type
 * first seen online weighs what event_weights says of it).
 * Data without customers counts supports whatever the option.
 *
 * Options (xsell/plugin_util.h syntax): half_life=DAYS in [0, 1000000] (0:
 * no decay), t_ref=TIME (unix seconds or YYYY-MM-DD; the latest event
 * time), weight=one|event (one), per_category=BOOL (false),
 * types=purchase|all|NAME (purchase).
 *
 * Explain: popularity, rank (1-based position in the list served from,
 * before the host's rules; in merged category lists, among all their items)
 * and category (when the item has one).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin_util.h"

#define RESCALE_LOG2 512.0 /* rebase t_ref beyond weights of 2^512 */

/* Items sorted by (popularity desc, id asc). */
typedef struct pop_list {
    uint32_t *ids; /* owned */
    uint32_t n;
} pop_list;

typedef struct popular {
    const xs_host_api *api;
    xs_host *host;
    double half_life; /* seconds; 0: no decay */
    int64_t t_ref;
    int weight_event;
    int per_category;
    int from_events; /* 1: customer histories; 0: supports of `scope` */
    int scope;
    double *pop;      /* by item */
    uint8_t *seen;    /* the item has events (is in the lists) */
    uint8_t *mark;    /* scratch for updates, all 0 between them */
    uint32_t *cat_of; /* by item: category or XS_NONE */
    uint32_t n_items; /* entries of the arrays above */
    double tw[64];    /* factor of each event type (option types) */
    int typed;        /* some type other than purchase counts */
    int types_all;    /* types=all: every type by its weight */
    pop_list all;
    pop_list *cats; /* by category id */
    uint32_t n_cats;
} popular;

/* An item and its sort key, for qsort (which takes no context). */
typedef struct keyed {
    double pop;
    uint32_t item;
    uint32_t cat;
} keyed;

static int by_key(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->pop != b->pop)
        return a->pop > b->pop ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

static int by_cat_key(const void *x, const void *y)
{
    const keyed *a = x, *b = y;
    if (a->cat != b->cat)
        return a->cat < b->cat ? -1 : 1;
    return by_key(x, y);
}

/* Item a ranks before item b. */
static inline int before(const popular *p, uint32_t a, uint32_t b)
{
    return p->pop[a] > p->pop[b] || (p->pop[a] == p->pop[b] && a < b);
}

/* Entries of l ranking before item (its 0-based rank when it is in l). */
static uint32_t rank_in(const popular *p, const pop_list *l, uint32_t item)
{
    uint32_t lo = 0, hi = l->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (before(p, l->ids[mid], item))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static double event_weight(const popular *p, const xs_event *e)
{
    double w = p->weight_event ? e->weight : 1.0;
    if (p->half_life > 0)
        w *= exp2(-(double)(p->t_ref - e->ts) / p->half_life);
    return w;
}

/* Grows the per-item arrays to the host's item count; new items start
 * unseen, with their catalog category. */
static int grow_items(popular *p)
{
    uint32_t n = p->api->item_count(p->host);
    if (n <= p->n_items)
        return 0;
    double *pop = realloc(p->pop, n * sizeof *pop);
    if (pop)
        p->pop = pop;
    uint8_t *seen = realloc(p->seen, n);
    if (seen)
        p->seen = seen;
    uint8_t *mark = realloc(p->mark, n);
    if (mark)
        p->mark = mark;
    uint32_t *cat = realloc(p->cat_of, n * sizeof *cat);
    if (cat)
        p->cat_of = cat;
    if (!pop || !seen || !mark || !cat)
        return -1;
    for (uint32_t i = p->n_items; i < n; i++) {
        xs_item_info info;
        p->pop[i] = 0;
        p->seen[i] = 0;
        p->mark[i] = 0;
        p->cat_of[i] = p->api->item_info(p->host, i, &info) ? info.category
                                                            : XS_NONE;
    }
    p->n_items = n;
    return 0;
}

/* The category lists from the list of all items (which is in order). */
static int rebuild_categories(popular *p)
{
    uint32_t n_cats = p->api->category_count(p->host);
    uint32_t *count = calloc(n_cats ? n_cats : 1, sizeof *count);
    pop_list *cats = calloc(n_cats ? n_cats : 1, sizeof *cats);
    int rc = -1;
    if (!count || !cats)
        goto out;
    for (uint32_t i = 0; i < p->all.n; i++) {
        uint32_t c = p->cat_of[p->all.ids[i]];
        if (c < n_cats)
            count[c]++;
    }
    for (uint32_t c = 0; c < n_cats; c++)
        if (count[c] && !(cats[c].ids = malloc(count[c] * sizeof(uint32_t))))
            goto out;
    for (uint32_t i = 0; i < p->all.n; i++) {
        uint32_t a = p->all.ids[i], c = p->cat_of[a];
        if (c < n_cats)
            cats[c].ids[cats[c].n++] = a;
    }
    for (uint32_t c = 0; c < p->n_cats; c++)
        free(p->cats[c].ids);
    free(p->cats);
    p->cats = cats;
    p->n_cats = n_cats;
    cats = NULL;
    rc = 0;
out:
    if (cats)
        for (uint32_t c = 0; c < n_cats; c++)
            free(cats[c].ids);
    free(cats);
    free(count);
    return rc;
}

/* Every list from the popularities. */
static int rebuild_lists(popular *p)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < p->n_items; i++)
        n += p->seen[i];
    keyed *k = malloc((n ? n : 1) * sizeof *k);
    uint32_t *ids = malloc((n ? n : 1) * sizeof *ids);
    if (!k || !ids) {
        free(k);
        free(ids);
        return -1;
    }
    n = 0;
    for (uint32_t i = 0; i < p->n_items; i++)
        if (p->seen[i])
            k[n++] = (keyed){p->pop[i], i, 0};
    qsort(k, n, sizeof *k, by_key);
    for (uint32_t i = 0; i < n; i++)
        ids[i] = k[i].item;
    free(k);
    free(p->all.ids);
    p->all = (pop_list){ids, n};
    return rebuild_categories(p);
}

/* Takes the marked items out of l and merges in ins[0..n_ins) (in list
 * order, all marked). */
static int list_merge(const popular *p, pop_list *l, const keyed *ins,
                      uint32_t n_ins)
{
    uint32_t *out = malloc(((size_t)l->n + n_ins + 1) * sizeof *out);
    if (!out)
        return -1;
    uint32_t i = 0, j = 0, w = 0;
    for (;;) {
        while (i < l->n && p->mark[l->ids[i]])
            i++;
        if (i == l->n && j == n_ins)
            break;
        if (j == n_ins || (i < l->n && before(p, l->ids[i], ins[j].item)))
            out[w++] = l->ids[i++];
        else
            out[w++] = ins[j++].item;
    }
    free(l->ids);
    l->ids = out;
    l->n = w;
    return 0;
}

/* The popularities of the n marked items of `changed` changed: put them in
 * their new places in the list of all items and their category's. */
static int reorder(popular *p, const uint32_t *changed, uint32_t n)
{
    keyed *k = malloc((n ? n : 1) * sizeof *k);
    if (!k)
        return -1;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++)
        if (p->seen[changed[i]])
            k[m++] = (keyed){p->pop[changed[i]], changed[i],
                             p->cat_of[changed[i]]};
    qsort(k, m, sizeof *k, by_key);
    int rc = list_merge(p, &p->all, k, m);
    qsort(k, m, sizeof *k, by_cat_key);
    for (uint32_t i = 0; i < m && rc == 0;) {
        uint32_t c = k[i].cat, j = i;
        while (j < m && k[j].cat == c)
            j++;
        if (c < p->n_cats)
            rc = list_merge(p, &p->cats[c], k + i, j - i);
        i = j;
    }
    free(k);
    return rc;
}

/* Rebases t_ref to t: every popularity times 2^(-(t - t_ref) / half_life). */
static void rescale(popular *p, int64_t t)
{
    double f = exp2(-(double)(t - p->t_ref) / p->half_life);
    for (uint32_t i = 0; i < p->n_items; i++)
        p->pop[i] *= f;
    p->t_ref = t;
}

/* The factor of event type t (observe_types). */
static double type_factor(const popular *p, uint32_t t)
{
    if (t >= 64)
        return 0;
    if (p->types_all && XS_HOST_HAS(p->api, type_weight))
        return p->api->type_weight(p->host, t);
    return p->tw[t];
}

/* New events: purchases (types 0) or events of other types (types 1). */
static int observe_kind(popular *p, const xs_event *ev, size_t n, int types)
{
    if (grow_items(p))
        goto oom;
    uint32_t *changed = malloc((n ? n : 1) * sizeof *changed);
    if (!changed)
        goto oom;
    uint32_t n_changed = 0, n_sup = 0;
    int rebased = 0;
    const uint32_t *sup =
        p->from_events ? NULL : p->api->supports(p->host, p->scope, &n_sup);
    for (size_t i = 0; i < n; i++) {
        uint32_t a = ev[i].item;
        if (a >= p->n_items)
            continue;
        if (p->from_events) {
            if (p->half_life > 0 &&
                (double)(ev[i].ts - p->t_ref) / p->half_life > RESCALE_LOG2) {
                rescale(p, ev[i].ts);
                rebased = 1;
            }
            double f = types ? type_factor(p, ev[i].reserved) : p->tw[0];
            if (!(f > 0))
                continue; /* this type does not count */
            p->pop[a] += f * event_weight(p, &ev[i]);
            p->seen[a] = 1;
        } else if (types) {
            continue; /* supports: purchases only */
        } else {
            p->pop[a] = a < n_sup ? sup[a] : 0;
            p->seen[a] = p->pop[a] > 0;
        }
        if (!p->mark[a]) {
            p->mark[a] = 1;
            changed[n_changed++] = a;
        }
    }
    int rc = rebased ? rebuild_lists(p) : reorder(p, changed, n_changed);
    for (uint32_t i = 0; i < n_changed; i++)
        p->mark[changed[i]] = 0;
    free(changed);
    if (rc)
        goto oom;
    return 0;
oom:
    p->api->log(p->host, XS_LOG_ERROR,
                "out of memory updating the popular lists");
    return -1;
}

static int pop_observe(void *state, const xs_event *ev, size_t n)
{
    return observe_kind(state, ev, n, 0);
}

static int pop_observe_types(void *state, const xs_event *ev, size_t n)
{
    return observe_kind(state, ev, n, 1);
}

static int pop_catalog(void *state, const uint32_t *items, size_t n)
{
    popular *p = state;
    if (grow_items(p))
        goto oom;
    for (size_t i = 0; i < n; i++) {
        xs_item_info info;
        if (items[i] < p->n_items)
            p->cat_of[items[i]] = p->api->item_info(p->host, items[i], &info)
                                      ? info.category
                                      : XS_NONE;
    }
    if (rebuild_categories(p))
        goto oom;
    return 0;
oom:
    p->api->log(p->host, XS_LOG_ERROR,
                "out of memory updating the category lists");
    return -1;
}

/* Pushes l's items in order until k were kept. */
static void serve_list(const popular *p, const pop_list *l, uint32_t k,
                       xs_result *out)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < l->n && kept < k; i++)
        kept += p->api->push(out, l->ids[i], p->pop[l->ids[i]]) == 1;
}

/* The distinct categories of the request's items into cats (sorted);
 * returns how many. */
static uint32_t request_categories(const popular *p, const xs_request *req,
                                   uint32_t *cats)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < req->n_items; i++) {
        uint32_t a = req->items[i];
        if (a < p->n_items && p->cat_of[a] < p->n_cats)
            cats[n++] = p->cat_of[a];
    }
    return xs_sort_unique(cats, n);
}

/* A cursor in one category list, for the merge. */
typedef struct cursor {
    const uint32_t *ids;
    uint32_t pos, n;
} cursor;

static void heap_down(const popular *p, cursor *h, uint32_t n, uint32_t i)
{
    cursor v = h[i];
    for (;;) {
        uint32_t l = 2 * i + 1, m = l;
        if (l >= n)
            break;
        if (l + 1 < n && before(p, h[l + 1].ids[h[l + 1].pos],
                                h[l].ids[h[l].pos]))
            m = l + 1;
        if (!before(p, h[m].ids[h[m].pos], v.ids[v.pos]))
            break;
        h[i] = h[m];
        i = m;
    }
    h[i] = v;
}

static int pop_recommend(void *state, const xs_request *req, xs_result *out)
{
    const popular *p = state;
    const xs_host_api *api = p->api;
    if (req->category != XS_NONE) {
        if (req->category < p->n_cats)
            serve_list(p, &p->cats[req->category], req->k, out);
        return 0;
    }
    if (!p->per_category || req->n_items == 0 || p->n_cats == 0) {
        serve_list(p, &p->all, req->k, out);
        return 0;
    }
    uint32_t *cats = api->scratch(out, req->n_items * sizeof *cats);
    cursor *heap = api->scratch(out, req->n_items * sizeof *heap);
    if (!cats || !heap)
        return -1;
    uint32_t m = request_categories(p, req, cats), n = 0;
    if (m == 0) { /* no item has a category: the overall list */
        serve_list(p, &p->all, req->k, out);
        return 0;
    }
    for (uint32_t i = 0; i < m; i++)
        if (p->cats[cats[i]].n)
            heap[n++] = (cursor){p->cats[cats[i]].ids, 0, p->cats[cats[i]].n};
    for (uint32_t i = n / 2; i-- > 0;)
        heap_down(p, heap, n, i);
    for (uint32_t kept = 0; n > 0 && kept < req->k;) {
        uint32_t a = heap->ids[heap->pos];
        kept += api->push(out, a, p->pop[a]) == 1;
        if (++heap->pos == heap->n)
            heap[0] = heap[--n];
        if (n > 0)
            heap_down(p, heap, n, 0);
    }
    return 0;
}

static int pop_explain(void *state, const xs_request *req, uint32_t item,
                       xs_evidence *ev)
{
    const popular *p = state;
    if (item >= p->n_items || !p->seen[item])
        return 0;
    uint32_t rank = 0;
    if (req->category != XS_NONE) {
        if (req->category < p->n_cats)
            rank = rank_in(p, &p->cats[req->category], item);
    } else {
        int merged = 0;
        if (p->per_category)
            for (uint32_t i = 0; i < req->n_items; i++) {
                uint32_t a = req->items[i], c;
                if (a >= p->n_items || (c = p->cat_of[a]) >= p->n_cats)
                    continue;
                uint32_t j = 0; /* each category once */
                while (j < i && (req->items[j] >= p->n_items ||
                                 p->cat_of[req->items[j]] != c))
                    j++;
                if (j == i)
                    rank += rank_in(p, &p->cats[c], item);
                merged = 1;
            }
        if (!merged)
            rank = rank_in(p, &p->all, item);
    }
    xs_evidence_add(ev, "popularity", p->pop[item], NULL);
    xs_evidence_add(ev, "rank", (double)rank + 1, NULL);
    if (p->cat_of[item] != XS_NONE) {
        const char *name = p->api->category_name(p->host, p->cat_of[item]);
        if (name)
            xs_evidence_add(ev, "category", 0, name);
    }
    return 0;
}

static void pop_destroy(void *state)
{
    popular *p = state;
    if (!p)
        return;
    for (uint32_t c = 0; c < p->n_cats; c++)
        free(p->cats[c].ids);
    free(p->cats);
    free(p->all.ids);
    free(p->pop);
    free(p->seen);
    free(p->mark);
    free(p->cat_of);
    free(p);
}

/* The option types: the factor of each event type in p->tw. */
static int set_types(popular *p, const char *types, char *err, size_t errlen)
{
    const xs_host_api *api = p->api;
    uint32_t nt = XS_HOST_HAS(api, type_events) ? api->type_count(p->host)
                                                 : 1;
    if (nt > 64)
        nt = 64;
    if (!strcmp(types, "all")) {
        p->types_all = 1;
        for (uint32_t t = 0; t < nt; t++)
            p->tw[t] = t == 0 && nt == 1 ? 1.0
                                        : api->type_weight(p->host, t);
    } else {
        uint32_t t = 0;
        while (t < nt && strcmp(types, t ? api->type_name(p->host, t)
                                         : "purchase"))
            t++;
        if (t == nt) {
            snprintf(err, errlen, "types: '%s' is not an event type of the "
                     "data (want purchase, all or a type name)", types);
            return -1;
        }
        p->tw[t] = 1.0;
    }
    for (uint32_t t = 1; t < nt; t++)
        p->typed |= p->tw[t] > 0;
    return 0;
}

static int pop_create(const xs_host_api *api, xs_host *host,
                      const xs_option *opts, size_t n_opts, void **state,
                      char *err, size_t errlen)
{
    static const char *const weights[] = {"one", "event", NULL};
    double half_life = 0;
    int64_t t_ref = 0;
    int have_t_ref = 0, weight_event = 0, per_category = 0;
    const char *types = "purchase";
    /* types takes any name: read here, the rest by xs_opts_parse */
    xs_option rest[32];
    size_t n_rest = 0;
    for (size_t i = 0; i < n_opts; i++) {
        if (!strcmp(opts[i].key, "types"))
            types = opts[i].value;
        else if (n_rest < sizeof rest / sizeof *rest)
            rest[n_rest++] = opts[i];
        else {
            snprintf(err, errlen, "too many options");
            return -1;
        }
    }
    opts = rest;
    n_opts = n_rest;
    const xs_opt_spec spec[] = {
        {.key = "half_life", .type = XS_OPT_DAYS, .out = &half_life,
         .lo = 0, .hi = 1e6},
        {.key = "t_ref", .type = XS_OPT_TIME, .out = &t_ref,
         .given = &have_t_ref},
        {.key = "weight", .type = XS_OPT_CHOICE, .out = &weight_event,
         .choices = weights},
        {.key = "per_category", .type = XS_OPT_BOOL, .out = &per_category},
    };
    if (xs_opts_parse(api, spec, sizeof spec / sizeof *spec, opts, n_opts,
                      err, errlen))
        return -1;
    popular *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    p->api = api;
    p->host = host;
    p->half_life = half_life * 86400.0;
    p->t_ref = have_t_ref ? t_ref : api->latest_time(host);
    if (p->half_life > 0 && (double)(api->latest_time(host) - p->t_ref) /
                                    p->half_life > RESCALE_LOG2)
        p->t_ref = api->latest_time(host); /* same order, finite weights */
    p->weight_event = weight_event;
    p->per_category = per_category;
    if (set_types(p, types, err, errlen)) {
        pop_destroy(p);
        return -1;
    }
    p->from_events = api->customer_count(host) > 0;
    p->scope = api->default_scope(host);
    if (grow_items(p))
        goto oom;
    if (p->from_events) {
        uint32_t nc = api->customer_count(host);
        for (uint32_t c = 0; c < nc; c++) {
            const xs_event *ev;
            size_t n;
            if (p->tw[0] > 0 && api->history(host, c, &ev, &n))
                for (size_t i = 0; i < n; i++)
                    if (ev[i].item < p->n_items) {
                        p->pop[ev[i].item] +=
                            p->tw[0] * event_weight(p, &ev[i]);
                        p->seen[ev[i].item] = 1;
                    }
            if (p->typed && api->type_events(host, c, &ev, &n))
                for (size_t i = 0; i < n; i++) {
                    uint32_t t = ev[i].reserved;
                    if (ev[i].item < p->n_items && t < 64 && p->tw[t] > 0) {
                        p->pop[ev[i].item] += p->tw[t] * event_weight(p,
                                                                      &ev[i]);
                        p->seen[ev[i].item] = 1;
                    }
                }
        }
    } else {
        uint32_t n_sup;
        api->use_scope(host, p->scope);
        const uint32_t *sup = api->supports(host, p->scope, &n_sup);
        for (uint32_t i = 0; i < p->n_items && i < n_sup; i++) {
            p->pop[i] = sup[i];
            p->seen[i] = sup[i] > 0;
        }
        if (half_life > 0 || weight_event)
            api->log(host, XS_LOG_WARN, "the data has no customers "
                     "(nor times): popularity is the item's support; "
                     "half_life and weight do not apply");
    }
    if (per_category && api->catalog_size(host) == 0)
        api->log(host, XS_LOG_INFO, "per_category without a "
                 "catalog: serving the overall list");
    if (rebuild_lists(p))
        goto oom;
    *state = p;
    return 0;
oom:
    pop_destroy(p);
    snprintf(err, errlen, "out of memory");
    return -1;
}

static const xs_plugin popular_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "popular",
    .version = "1.0.0",
    .description = "the most bought items, overall or per category, "
                   "optionally decayed by age",
    .create = pop_create,
    .recommend = pop_recommend,
    .explain = pop_explain,
    .observe = pop_observe,
    .observe_types = pop_observe_types,
    .destroy = pop_destroy,
    .catalog = pop_catalog,
};

XS_PLUGIN_ENTRY(popular_plugin)
