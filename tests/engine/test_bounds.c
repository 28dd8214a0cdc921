/*
 * test_bounds.c -- bounded work and memory under ingest (issue 11): the
 * --max-basket rule and tables updated in place.
 *
 *   - the rule: an ingest taking an order past max_basket distinct items is
 *     refused whole (XS_ERR_LIMIT, naming the bound), nothing applied; the
 *     same item again counts once; exactly max_basket is accepted; the
 *     10,000-item order against the default bound (1000) is refused;
 *   - load = online: a generated store with orders and customers over the
 *     bound, loaded in part and ingested for the rest in small batches (in
 *     time order), has the tables of the whole store loaded at once, in
 *     both scopes (transactions, pairs, every support and row, by name),
 *     and recency answers alike (its decayed table follows the rule too);
 *   - memory: thousands of ingests adding to one hot item's existing pairs
 *     leave the table's bytes exactly as they were after the first (the
 *     row is updated in place, no rewritten copies), and new neighbours
 *     cost a bounded number of bytes per pair.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "test_util.h"

#define N_CUST 30
#define N_ITEMS 40
#define MAX_B 8 /* the bound the generated store is built against */

typedef struct gen_event {
    char customer[16], item[16], order[16];
    int64_t ts;
} gen_event;

static gen_event *events;
static size_t n_events, n_loaded;

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

/* Orders of 1..14 events (items repeat sometimes) for the loaded part,
 * 1..MAX_B for the ingested part (a larger one would be refused), one
 * order straddling the split; timestamps strictly increasing. */
static void generate(void)
{
    size_t cap = 4096;
    events = calloc(cap, sizeof *events);
    int64_t ts = 1700000000;
    for (int o = 0; o < 160; o++) {
        int loaded = o < 90;
        uint32_t size = o == 89 ? 6 : loaded ? 1 + rnd(14) : 1 + rnd(MAX_B);
        uint32_t cust = rnd(N_CUST);
        if (o == 89)
            n_loaded = n_events + 3; /* split inside this order */
        for (uint32_t k = 0; k < size && n_events < cap; k++) {
            gen_event *e = &events[n_events++];
            snprintf(e->customer, sizeof e->customer, "C%02u", cust);
            snprintf(e->item, sizeof e->item, "I%02u", rnd(N_ITEMS));
            snprintf(e->order, sizeof e->order, "O%03d", o);
            e->ts = ts++;
        }
    }
}

static const char *write_csv(const char *name, size_t n)
{
    size_t cap = 64 + n * 64, at = 0;
    char *buf = malloc(cap);
    at += (size_t)snprintf(buf, cap, "customer,item,timestamp,order\n");
    for (size_t i = 0; i < n; i++)
        at += (size_t)snprintf(buf + at, cap - at, "%s,%s,%" PRId64 ",%s\n",
                               events[i].customer, events[i].item,
                               events[i].ts, events[i].order);
    const char *path = xt_write_str(name, buf);
    free(buf);
    return path;
}

static xs_engine *open_engine(const char *csv, uint32_t max_basket,
                              int recency)
{
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(csv, &cols, &err);
    if (!CHECK_MSG(ds != NULL, "load %s: %s", csv, err.msg))
        return NULL;
    xs_engine_config cfg = {.plugin_dir = getenv("XS_PLUGIN_DIR"),
                            .scope = -1,
                            .threads = 1,
                            .max_basket = max_basket};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
    if (!CHECK_MSG(e != NULL, "engine: %s", err.msg))
        return NULL;
    /* pinned: the part's latest event is earlier than the whole's */
    const xs_option t_ref = {"t_ref", "1700001000"};
    if (!CHECK_MSG(xs_engine_use_scope(e, XS_SCOPE_CUSTOMER, &err) == XS_OK,
                   "customer scope: %s", err.msg) ||
        (recency &&
         !CHECK_MSG(xs_engine_add_plugin(e, "recency", &t_ref, 1, &err) ==
                        XS_OK,
                    "recency: %s", err.msg))) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

static xs_ingest_event as_ingest(const gen_event *g)
{
    return (xs_ingest_event){g->customer, g->item, g->order,
                             (uint32_t)strlen(g->customer),
                             (uint32_t)strlen(g->item),
                             (uint32_t)strlen(g->order), g->ts, 1.0, NAN, NULL, 0};
}

/* The row of `name` in a as (neighbour name, count), compared with b's. */
static void compare_rows(const char *label, const xs_engine *a,
                         const xs_engine *b, int scope, const char *name)
{
    const xs_cooc *ca = xs_engine_cooc(a, scope), *cb = xs_engine_cooc(b, scope);
    uint32_t ia = xs_engine_item(a, name), ib = xs_engine_item(b, name);
    xs_row ra = {0}, rb = {0};
    int ha = ia != XS_NONE && xs_cooc_row(ca, ia, &ra);
    int hb = ib != XS_NONE && xs_cooc_row(cb, ib, &rb);
    if (!CHECK_MSG(ha == hb, "%s %s: row %d vs %d", label, name, ha, hb) || !ha)
        return;
    CHECK_MSG(ra.support == rb.support, "%s %s: support %u vs %u", label, name,
              ra.support, rb.support);
    if (!CHECK_MSG(ra.n == rb.n, "%s %s: %u vs %u neighbours", label, name,
                   ra.n, rb.n))
        return;
    /* ids agree (interned in the same order), but compare names anyway */
    for (uint32_t i = 0; i < ra.n; i++) {
        const char *na = xs_engine_item_name(a, ra.nbr[i]);
        uint32_t j = xs_engine_item(b, na);
        uint32_t cnt = j == XS_NONE ? 0 : xs_cooc_pair(cb, ib, j);
        CHECK_MSG(cnt == ra.cnt[i], "%s %s-%s: count %u vs %u", label, name,
                  na, ra.cnt[i], cnt);
    }
}

static void compare_tables(const char *label, const xs_engine *live,
                           const xs_engine *full)
{
    for (int s = 0; s < 2; s++) {
        const xs_cooc *cl = xs_engine_cooc(live, s), *cf = xs_engine_cooc(full, s);
        if (!CHECK(cl && cf))
            continue;
        CHECK_MSG(xs_cooc_transactions(cl) == xs_cooc_transactions(cf),
                  "%s scope %d: %" PRIu64 " vs %" PRIu64 " transactions",
                  label, s, xs_cooc_transactions(cl), xs_cooc_transactions(cf));
        CHECK_MSG(xs_cooc_pairs(cl) == xs_cooc_pairs(cf),
                  "%s scope %d: %" PRIu64 " vs %" PRIu64 " pairs", label, s,
                  xs_cooc_pairs(cl), xs_cooc_pairs(cf));
        CHECK_EQU(xs_cooc_items(cl), xs_cooc_items(cf));
        const xs_dataset *ds = xs_engine_dataset(full);
        for (uint32_t i = 0; i < xs_dict_size(ds->items); i++)
            compare_rows(label, live, full, s, xs_engine_item_name(full, i));
    }
}

/* Recency's answers for every one-item basket and every customer. */
static void compare_recency(xs_engine *live, xs_engine *full)
{
    xs_context *cl = xs_context_new(live), *cf = xs_context_new(full);
    const xs_dataset *ds = xs_engine_dataset(full);
    uint32_t n_items = xs_dict_size(ds->items);
    uint32_t n_cust = xs_dict_size(ds->customers);
    for (uint32_t q = 0; q < n_items + n_cust; q++) {
        uint32_t il = XS_NONE, iff = XS_NONE;
        xs_request rl = {&il, 0, XS_NONE, 10, 0, XS_NONE};
        xs_request rf = {&iff, 0, XS_NONE, 10, 0, XS_NONE};
        const char *what;
        if (q < n_items) {
            what = xs_engine_item_name(full, q);
            iff = q;
            il = xs_engine_item(live, what);
            rl.n_items = rf.n_items = 1;
        } else {
            what = xs_dict_name(ds->customers, q - n_items);
            rf.customer = q - n_items;
            rl.customer = xs_dict_find(xs_engine_dataset(live)->customers, what,
                                       strlen(what));
        }
        const xs_rec *al = NULL, *af = NULL;
        size_t nl = 0, nf = 0;
        xs_error err = {0};
        int okl = xs_engine_recommend(live, cl, "recency", &rl, &al, &nl, &err);
        int okf = xs_engine_recommend(full, cf, "recency", &rf, &af, &nf, &err);
        if (!CHECK_MSG(okl == XS_OK && okf == XS_OK, "recency %s: %s", what,
                       err.msg) ||
            !CHECK_MSG(nl == nf, "recency %s: %zu vs %zu", what, nl, nf))
            continue;
        for (size_t i = 0; i < nl; i++) {
            double tol = 1e-5 * fabs(af[i].score) + 1e-12;
            CHECK_MSG(!strcmp(xs_engine_item_name(live, al[i].item),
                              xs_engine_item_name(full, af[i].item)),
                      "recency %s #%zu: %s vs %s", what, i,
                      xs_engine_item_name(live, al[i].item),
                      xs_engine_item_name(full, af[i].item));
            CHECK_MSG(fabs(al[i].score - af[i].score) <= tol,
                      "recency %s #%zu: %.9g vs %.9g", what, i, al[i].score,
                      af[i].score);
        }
    }
    xs_context_free(cl);
    xs_context_free(cf);
}

/* The store as loaded at once = part loaded and the rest ingested. */
static void test_load_equals_online(void)
{
    const char *part = write_csv("part.csv", n_loaded);
    const char *whole = write_csv("whole.csv", n_events);
    /* the rule is exercised: an order and customers over the bound */
    uint32_t biggest_order = 0, seen[N_CUST][N_ITEMS] = {{0}}, max_cust = 0;
    for (size_t i = 0, start = 0; i <= n_events; i++) {
        if (i == n_events || strcmp(events[i].order, events[start].order)) {
            uint32_t distinct = 0, mark[N_ITEMS] = {0};
            for (size_t j = start; j < i; j++)
                distinct += !mark[atoi(events[j].item + 1)]++;
            if (distinct > biggest_order)
                biggest_order = distinct;
            start = i;
        }
        if (i < n_events)
            seen[atoi(events[i].customer + 1)][atoi(events[i].item + 1)] = 1;
    }
    for (int c = 0; c < N_CUST; c++) {
        uint32_t d = 0;
        for (int i = 0; i < N_ITEMS; i++)
            d += seen[c][i];
        if (d > max_cust)
            max_cust = d;
    }
    CHECK_MSG(biggest_order > MAX_B && max_cust > 2 * MAX_B,
              "generated store: largest order %u, customer %u distinct items",
              biggest_order, max_cust);

    for (int with_recency = 0; with_recency < 2; with_recency++) {
        xs_engine *live = open_engine(part, MAX_B, with_recency);
        xs_engine *full = open_engine(whole, MAX_B, with_recency);
        if (!live || !full) {
            xs_engine_free(live);
            xs_engine_free(full);
            return;
        }
        xs_ingest_event batch[8];
        for (size_t i = n_loaded; i < n_events;) {
            size_t n = 1 + rnd(7);
            if (n > n_events - i)
                n = n_events - i;
            for (size_t k = 0; k < n; k++)
                batch[k] = as_ingest(&events[i + k]);
            xs_error err = {0};
            if (!CHECK_MSG(xs_engine_ingest(live, batch, n, &err) == XS_OK,
                           "ingest at %zu: %s", i, err.msg))
                break;
            i += n;
        }
        compare_tables(with_recency ? "with recency" : "load = online", live,
                       full);
        if (with_recency)
            compare_recency(live, full);
        xs_engine_free(live);
        xs_engine_free(full);
    }

    /* no bound in effect (larger than any transaction): the same again */
    xs_engine *live = open_engine(part, 1000000, 0);
    xs_engine *full = open_engine(whole, 1000000, 0);
    for (size_t i = n_loaded; live && full && i < n_events; i++) {
        xs_ingest_event ev = as_ingest(&events[i]);
        xs_error err = {0};
        CHECK_MSG(xs_engine_ingest(live, &ev, 1, &err) == XS_OK, "%s",
                  err.msg);
    }
    if (live && full)
        compare_tables("unbounded", live, full);
    xs_engine_free(live);
    xs_engine_free(full);
}

static void snapshot(const xs_engine *e, uint64_t pairs[2], uint64_t txns[2],
                     uint32_t *items)
{
    for (int s = 0; s < 2; s++) {
        pairs[s] = xs_cooc_pairs(xs_engine_cooc(e, s));
        txns[s] = xs_cooc_transactions(xs_engine_cooc(e, s));
    }
    *items = xs_dict_size(xs_engine_dataset(e)->items);
}

/* n events of one order, items named PREFIX0.. (distinct unless `same`). */
static int ingest_order(xs_engine *e, const char *order, size_t n,
                        const char *prefix, int same, xs_error *err)
{
    xs_ingest_event *ev = calloc(n ? n : 1, sizeof *ev);
    char (*names)[24] = calloc(n ? n : 1, sizeof *names);
    if (!ev || !names) {
        free(ev);
        free(names);
        return XS_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(names[i], sizeof names[i], "%s%zu", prefix, same ? 0 : i);
        ev[i] = (xs_ingest_event){"BIG", names[i], order, 3,
                                  (uint32_t)strlen(names[i]),
                                  (uint32_t)strlen(order), 1800000000, 1.0,
                                  NAN, NULL, 0};
    }
    int rc = xs_engine_ingest(e, ev, n, err);
    free(ev);
    free(names);
    return rc;
}

static void test_refused(void)
{
    const char *whole = write_csv("whole2.csv", n_events);
    xs_engine *e = open_engine(whole, MAX_B, 0);
    if (!e)
        return;
    uint64_t p0[2], t0[2], p1[2], t1[2];
    uint32_t i0, i1;
    snapshot(e, p0, t0, &i0);
    xs_error err = {0};
    /* one past the bound: refused whole, nothing applied */
    CHECK_EQ(ingest_order(e, "NEW1", MAX_B + 1, "X", 0, &err), XS_ERR_LIMIT);
    CHECK_HAS(err.msg, "NEW1");
    CHECK_HAS(err.msg, "8");
    snapshot(e, p1, t1, &i1);
    CHECK(p1[0] == p0[0] && p1[1] == p0[1] && t1[0] == t0[0] &&
          t1[1] == t0[1] && i1 == i0);
    /* the same item many times is one item */
    CHECK_EQ(ingest_order(e, "NEW2", 50, "Y", 1, &err), XS_OK);
    /* exactly the bound: accepted, then one more item refused */
    CHECK_EQ(ingest_order(e, "NEW3", MAX_B, "Z", 0, &err), XS_OK);
    snapshot(e, p1, t1, &i1);
    CHECK_EQU(p1[0], p0[0] + MAX_B * (MAX_B - 1));
    CHECK_EQU(t1[0], t0[0] + 2);
    CHECK_EQ(ingest_order(e, "NEW3", 1, "W", 0, &err), XS_ERR_LIMIT);
    CHECK_EQ(ingest_order(e, "NEW3", 3, "Z", 0, &err), XS_OK); /* held */
    /* a loaded order over the bound: its first items hold it full */
    for (size_t i = 0, start = 0; i <= n_loaded; i++)
        if (i == n_loaded || strcmp(events[i].order, events[start].order)) {
            uint32_t distinct = 0, mark[N_ITEMS] = {0};
            for (size_t j = start; j < i; j++)
                distinct += !mark[atoi(events[j].item + 1)]++;
            if (distinct > MAX_B) {
                CHECK_EQ(ingest_order(e, events[start].order, 1, "V", 0,
                                      &err),
                         XS_ERR_LIMIT);
                break;
            }
            start = i;
        }
    xs_engine_free(e);

    /* the default bound: a 10,000-item order is refused at once */
    e = open_engine(whole, 0, 0);
    if (!e)
        return;
    snapshot(e, p0, t0, &i0);
    CHECK_EQ(ingest_order(e, "HUGE", 10000, "H", 0, &err), XS_ERR_LIMIT);
    CHECK_HAS(err.msg, "1000");
    snapshot(e, p1, t1, &i1);
    CHECK(p1[0] == p0[0] && p1[1] == p0[1] && i1 == i0);
    /* 1000 distinct: accepted, 1000 x 999 pairs, the customer pairs too */
    CHECK_EQ(ingest_order(e, "FULL", XS_MAX_BASKET_DEFAULT, "F", 0, &err),
             XS_OK);
    snapshot(e, p1, t1, &i1);
    CHECK_EQU(p1[0], p0[0] + 1000ull * 999);
    CHECK_EQU(p1[1], p0[1] + 1000ull * 999);
    /* the same customer's next 1000 items (another order): the order
     * pairs, the customer, full, does not */
    CHECK_EQ(ingest_order(e, "FULL2", XS_MAX_BASKET_DEFAULT, "G", 0, &err),
             XS_OK);
    uint64_t p2[2], t2[2];
    uint32_t i2;
    snapshot(e, p2, t2, &i2);
    CHECK_EQU(p2[0], p1[0] + 1000ull * 999);
    CHECK_EQU(p2[1], p1[1]);
    CHECK_EQU(i2, i1 + 1000);
    xs_engine_free(e);
}

/* One hot item: increments of its existing pairs leave the table's bytes
 * as they are; new neighbours cost a bounded amount each. */
static void test_hot_row(void)
{
    const char *whole = write_csv("whole3.csv", n_events);
    xs_engine *e = open_engine(whole, 0, 0);
    if (!e)
        return;
    const xs_cooc *c = xs_engine_cooc(e, XS_SCOPE_BASKET);
    char order[32];
    xs_error err = {0};
    /* first touch: the hot item with every item of the store */
    xs_ingest_event ev[N_ITEMS];
    char names[N_ITEMS][8];
    for (int i = 0; i < N_ITEMS; i++) {
        snprintf(names[i], sizeof names[i], "I%02d", i);
        ev[i] = (xs_ingest_event){"HOT", names[i], "HOT0", 3, 3, 4,
                                  1800000000, 1.0, NAN, NULL, 0};
    }
    if (!CHECK_EQ(xs_engine_ingest(e, ev, N_ITEMS, &err), XS_OK))
        goto out;
    size_t bytes0 = xs_cooc_bytes(c);
    uint64_t pairs0 = xs_cooc_pairs(c);
    uint32_t hot = xs_engine_item(e, "I00");
    uint32_t sup0 = xs_cooc_support(c, hot);
    uint32_t pair0 = xs_cooc_pair(c, hot, xs_engine_item(e, "I01"));
    /* 3000 orders (hot, one of the others): counts only */
    for (int k = 0; k < 3000; k++) {
        snprintf(order, sizeof order, "H%d", k);
        xs_ingest_event two[2] = {ev[0], ev[1 + k % (N_ITEMS - 1)]};
        two[0].order = two[1].order = order;
        two[0].order_len = two[1].order_len = (uint32_t)strlen(order);
        if (!CHECK_EQ(xs_engine_ingest(e, two, 2, &err), XS_OK))
            goto out;
    }
    CHECK_MSG(xs_cooc_bytes(c) == bytes0, "bytes %zu -> %zu after 3000 "
              "increments", bytes0, xs_cooc_bytes(c));
    CHECK_EQU(xs_cooc_pairs(c), pairs0);
    CHECK_EQU(xs_cooc_support(c, hot), sup0 + 3000);
    CHECK_EQU(xs_cooc_pair(c, hot, xs_engine_item(e, "I01")),
              pair0 + (3000 + N_ITEMS - 2) / (N_ITEMS - 1));
    /* 2000 new neighbours of the hot item, one per ingest */
    for (int k = 0; k < 2000; k++) {
        char item[16];
        snprintf(order, sizeof order, "N%d", k);
        snprintf(item, sizeof item, "NEW%d", k);
        xs_ingest_event two[2] = {ev[0], ev[0]};
        two[1].item = item;
        two[1].item_len = (uint32_t)strlen(item);
        two[0].order = two[1].order = order;
        two[0].order_len = two[1].order_len = (uint32_t)strlen(order);
        if (!CHECK_EQ(xs_engine_ingest(e, two, 2, &err), XS_OK))
            goto out;
    }
    uint64_t added = xs_cooc_pairs(c) - pairs0;
    CHECK_EQU(added, 2 * 2000);
    /* per directed pair: 8 bytes, the rows' room, a new item's row, its
     * support, version and row pointer */
    double per_pair = (double)(xs_cooc_bytes(c) - bytes0) / (double)added;
    CHECK_MSG(per_pair < 48, "%.1f bytes per new pair", per_pair);
    xs_row row;
    CHECK(xs_cooc_row(c, hot, &row) && row.n == N_ITEMS - 1 + 2000);
    for (uint32_t i = 1; i < row.n; i++)
        CHECK(row.nbr[i - 1] < row.nbr[i]);
out:
    xs_engine_free(e);
}

int main(void)
{
    generate();
    if (!CHECK(n_events > 0 && n_loaded > 0 && n_loaded < n_events))
        return xt_done();
    test_refused();
    test_load_equals_online();
    test_hot_row();
    free(events);
    return xt_done();
}
