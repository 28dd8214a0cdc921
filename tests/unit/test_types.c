/*
 * test_types.c -- event types: the events loader's `type` column
 * (xsell/dataset.h "Event types") and the cross-occurrence tables built
 * from it (data/xocc.h, compiled in: the tables are not exported).
 *
 * Owns: the primary type is id 0 whatever the file's first type; purchases
 * stay in ds->events with the ids the file without the other lines gives,
 * the other types go to ds->other in file order with their type id in
 * `reserved` and no order; the same for every thread count and block size;
 * a file without the column has no types; the bad type names, too many
 * types and a file without purchases are `file:line` / `file:` errors.  The
 * tables' counts equal a brute force over a seeded random store, with and
 * without the max_basket bound; rows are sorted; the events by customer are
 * each customer's in file order.  Ingest's updates (xs_xocc_add, one event
 * at a time with the customer's purchases before it) from a build of part
 * of the events, and from empty tables (types and items first seen then),
 * end equal to a build of all of them: counts, rows, supports, n and each
 * customer's events.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/xocc.h"
#include "test_util.h"
#include "xsell/dataset.h"

static xs_dataset *load(const char *name, const char *text, const char *spec,
                        int threads, size_t block, xs_error *err)
{
    const char *path = xt_write_str(name, text);
    if (!path)
        return NULL;
    xs_columns cols = {0};
    if (spec && xs_columns_parse(&cols, spec, err)) {
        xs_columns_free(&cols);
        return NULL;
    }
    xs_load_options o = {.threads = threads, .block_size = block};
    xs_dataset *ds = xs_dataset_load_events_opts(path, &cols, &o, err);
    xs_columns_free(&cols);
    return ds;
}

static const char *name_of(const xs_dict *d, uint32_t id)
{
    const char *s = xs_dict_name(d, id);
    return s ? s : "(none)";
}

static void test_loader(void)
{
    static const char text[] =
        "customer,item,type,order,timestamp\n"
        "c9,V,view,,10\n"
        "c1,A,purchase,o1,11\n"
        "c1,V,cart,o1,12\n"
        "c2,B,purchase,o2,13\n"
        "c3,W,view,o9,14\n"
        "c1,B,purchase,o1,15\n";
    xs_error err = {0};
    xs_dataset *ds = load("typed.csv", text, NULL, 1, 0, &err);
    if (!CHECK(ds != NULL))
        return;
    CHECK(ds->types != NULL);
    CHECK_EQ(xs_dict_size(ds->types), 3);
    CHECK_STR(name_of(ds->types, 0), "purchase");
    CHECK_STR(name_of(ds->types, 1), "view");
    CHECK_STR(name_of(ds->types, 2), "cart");
    CHECK_EQ(ds->n_events, 3);
    CHECK_EQ(ds->n_other, 3);
    CHECK_EQ(ds->n_orders, 2); /* o9 is a view's: not an order */
    /* purchases' ids first, in their order: as the file without views */
    CHECK_STR(name_of(ds->items, 0), "A");
    CHECK_STR(name_of(ds->items, 1), "B");
    CHECK_STR(name_of(ds->items, 2), "V");
    CHECK_STR(name_of(ds->items, 3), "W");
    CHECK_STR(name_of(ds->customers, 0), "c1");
    CHECK_STR(name_of(ds->customers, 1), "c2");
    CHECK_STR(name_of(ds->customers, 2), "c9");
    CHECK_STR(name_of(ds->customers, 3), "c3");
    for (size_t i = 0; i < ds->n_events; i++)
        CHECK_EQ(ds->events[i].reserved, 0);
    if (ds->n_other == 3) {
        static const char *const it[] = {"V", "V", "W"};
        static const char *const cu[] = {"c9", "c1", "c3"};
        static const uint32_t ty[] = {1, 2, 1};
        static const int64_t ts[] = {10, 12, 14};
        for (size_t i = 0; i < 3; i++) {
            CHECK_STR(name_of(ds->items, ds->other[i].item), it[i]);
            CHECK_STR(name_of(ds->customers, ds->other[i].customer), cu[i]);
            CHECK_EQ(ds->other[i].reserved, ty[i]);
            CHECK_EQ(ds->other[i].order, XS_NONE);
            CHECK_EQ(ds->other[i].ts, ts[i]);
        }
    }
    xs_dataset_free(ds);

    /* no column: no types; a mapped column */
    ds = load("untyped.csv", "customer,item\nc1,A\n", NULL, 1, 0, &err);
    if (CHECK(ds != NULL)) {
        CHECK(ds->types == NULL);
        CHECK_EQ(ds->n_other, 0);
        xs_dataset_free(ds);
    }
    ds = load("mapped.csv", "u,i,kind\nc1,A,view\nc1,B,purchase\n",
              "customer=u,item=i,type=kind", 1, 0, &err);
    if (CHECK(ds != NULL)) {
        CHECK_EQ(ds->n_events, 1);
        CHECK_EQ(ds->n_other, 1);
        xs_dataset_free(ds);
    }
}

/* Same dataset for any thread count and block size. */
static void test_parallel(void)
{
    char *text = malloc(1 << 20);
    if (!CHECK(text != NULL))
        return;
    size_t at = (size_t)sprintf(text, "customer,item,type\n");
    uint64_t s = 7;
    static const char *const types[] = {"view", "purchase", "cart", "wish"};
    for (int i = 0; i < 20000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        at += (size_t)sprintf(text + at, "c%u,i%u,%s\n",
                              (unsigned)(s >> 40) % 300,
                              (unsigned)(s >> 20) % 500,
                              types[(s >> 10) % 4]);
    }
    xs_error err = {0};
    xs_dataset *a = load("par.csv", text, NULL, 1, 0, &err);
    xs_dataset *b = load("par2.csv", text, NULL, 3, 4096, &err);
    if (CHECK(a != NULL) && CHECK(b != NULL)) {
        CHECK_EQ(a->n_events, b->n_events);
        CHECK_EQ(a->n_other, b->n_other);
        CHECK_EQ(xs_dict_size(b->types), 4);
        CHECK_STR(name_of(b->types, 0), "purchase");
        CHECK(a->n_events == b->n_events &&
              !memcmp(a->events, b->events, a->n_events * sizeof *a->events));
        CHECK(a->n_other == b->n_other &&
              !memcmp(a->other, b->other, a->n_other * sizeof *a->other));
        for (uint32_t t = 0; t < 4; t++)
            CHECK_STR(name_of(a->types, t), name_of(b->types, t));
    }
    xs_dataset_free(a);
    xs_dataset_free(b);
    free(text);
}

static void expect_fail(int at, const char *text, const char *needle,
                        long line)
{
    char name[32], prefix[256];
    snprintf(name, sizeof name, "bad_%d.csv", at);
    xs_error err = {0};
    const char *path = xt_write_str(name, text);
    if (!path)
        return;
    xs_dataset *ds = xs_dataset_load_events(path, NULL, &err);
    xt_record(ds == NULL, __FILE__, at, "refused");
    xt_record(err.code == XS_ERR_DATA, __FILE__, at, "XS_ERR_DATA (%d: %s)",
              err.code, err.msg);
    if (line)
        snprintf(prefix, sizeof prefix, "%s:%ld: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    xt_record(!strncmp(err.msg, prefix, strlen(prefix)) &&
                  strstr(err.msg, needle),
              __FILE__, at, "message \"%s\" is \"%s...%s\"", err.msg, prefix,
              needle);
    xs_dataset_free(ds);
}

static void test_bad(void)
{
    expect_fail(__LINE__, "customer,item,type\nc1,A,purchase\nc1,B,\n",
                "bad type ''", 3);
    expect_fail(__LINE__, "customer,item,type\nc1,A,add to cart\n",
                "bad type 'add to cart'", 2);
    expect_fail(__LINE__, "customer,item,type\nc1,A,a=b\n", "bad type", 2);
    expect_fail(__LINE__,
                "customer,item,type\nc1,A,"
                "abcdefghijabcdefghijabcdefghijabc\n",
                "bad type", 2);
    expect_fail(__LINE__, "customer,item,type\nc1,A,view\nc2,B,cart\n",
                "no 'purchase' events", 0);
    expect_fail(__LINE__, "customer,item,type,order\nc1,A,purchase,\n",
                "empty order", 2);
    char many[4096];
    size_t at = (size_t)sprintf(many, "customer,item,type\nc,A,purchase\n");
    for (int i = 0; i < XS_TYPES_MAX; i++)
        at += (size_t)sprintf(many + at, "c,A,t%d\n", i);
    expect_fail(__LINE__, many, "event types (at most 64)", 0);
}

/* ---- the tables against a brute force ------------------------------------ */

#define NC 40
#define NI 30

static void test_xocc(uint32_t max_basket)
{
    /* a random store: customers' events of types purchase, view, cart */
    static char text[1 << 16];
    size_t at = (size_t)sprintf(text, "customer,item,type\n");
    uint64_t s = 42 + max_basket;
    static const char *const types[] = {"purchase", "view", "cart"};
    for (int i = 0; i < 900; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        at += (size_t)sprintf(text + at, "c%u,i%u,%s\n",
                              (unsigned)(s >> 40) % NC,
                              (unsigned)(s >> 20) % NI,
                              types[(s >> 10) % 3]);
    }
    xs_error err = {0};
    xs_dataset *ds = load("xocc.csv", text, NULL, 1, 0, &err);
    if (!CHECK(ds != NULL))
        return;
    xs_xocc *x = xs_xocc_build(ds, max_basket, &err);
    if (!CHECK(x != NULL)) {
        xs_dataset_free(ds);
        return;
    }
    uint32_t nt = xs_dict_size(ds->types), ni = xs_dict_size(ds->items);
    uint32_t nc = xs_dict_size(ds->customers);
    CHECK_EQ(x->n_types, nt);
    /* brute force: per customer, first max_basket distinct items of each
     * type in file order */
    static unsigned char has[NC][3][NI];
    memset(has, 0, sizeof has);
    static uint32_t cnt_k[NC][3];
    memset(cnt_k, 0, sizeof cnt_k);
    for (int pass = 0; pass < 2; pass++) {
        const xs_event *ev = pass ? ds->other : ds->events;
        size_t n = pass ? ds->n_other : ds->n_events;
        for (size_t i = 0; i < n; i++) {
            uint32_t c = ev[i].customer, t = ev[i].reserved, it = ev[i].item;
            if (!has[c][t][it] && cnt_k[c][t] < max_basket) {
                has[c][t][it] = 1;
                cnt_k[c][t]++;
            }
        }
    }
    uint64_t n_any = 0;
    for (uint32_t c = 0; c < nc; c++)
        n_any += cnt_k[c][0] + cnt_k[c][1] + cnt_k[c][2] > 0;
    CHECK_EQU(x->n, n_any);
    int bad = 0;
    for (uint32_t p = 0; p < ni; p++) {
        uint32_t buyers = 0;
        for (uint32_t c = 0; c < nc; c++)
            buyers += has[c][0][p];
        bad += xs_xocc_support(x, 0, p) != buyers;
        for (uint32_t t = 1; t < nt; t++) {
            xs_row r;
            if (!xs_xocc_row(x, t, p, &r)) {
                bad++;
                continue;
            }
            bad += r.support != buyers;
            uint32_t k = 0;
            for (uint32_t o = 0; o < ni; o++) {
                uint32_t want = 0, sup = 0;
                for (uint32_t c = 0; c < nc; c++) {
                    want += has[c][0][p] && has[c][t][o];
                    sup += has[c][t][o];
                }
                if (p == 0)
                    bad += xs_xocc_support(x, t, o) != sup;
                if (want == 0)
                    continue;
                bad += k >= r.n || r.nbr[k] != o || r.cnt[k] != want;
                k++;
            }
            bad += k != r.n;
        }
    }
    CHECK_EQ(bad, 0);
    xs_row r;
    CHECK_EQ(xs_xocc_row(x, 0, 0, &r), 0); /* the primary has no table */
    CHECK_EQ(xs_xocc_row(x, nt, 0, &r), 0);
    CHECK_EQ(xs_xocc_row(x, 1, ni, &r), 0);
    /* events by customer: each customer's other events, file order */
    size_t seen = 0;
    for (uint32_t c = 0; c < nc; c++) {
        const xs_event *ev;
        size_t n;
        if (!xs_xocc_events(x, c, &ev, &n))
            continue;
        for (size_t i = 0; i < n; i++) {
            bad += ev[i].customer != c || ev[i].reserved == 0;
            if (i)
                bad += ev[i - 1].ts > ev[i].ts; /* no ts: 0s */
        }
        seen += n;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQU(seen, ds->n_other);
    xs_xocc_free(x);
    xs_dataset_free(ds);
}

/* Whether x and y hold the same tables over ni items and nt types, and
 * the same events for nc customers.  Returns the differences. */
static int xocc_diff(const xs_xocc *x, const xs_xocc *y, uint32_t ni,
                     uint32_t nt, uint32_t nc)
{
    int bad = x->n != y->n;
    for (uint32_t p = 0; p < ni; p++) {
        bad += xs_xocc_support(x, 0, p) != xs_xocc_support(y, 0, p);
        for (uint32_t t = 1; t < nt; t++) {
            xs_row a, b;
            bad += xs_xocc_support(x, t, p) != xs_xocc_support(y, t, p);
            if (!xs_xocc_row(x, t, p, &a) || !xs_xocc_row(y, t, p, &b)) {
                bad++;
                continue;
            }
            bad += a.n != b.n || a.support != b.support;
            for (uint32_t i = 0; i < a.n && i < b.n; i++)
                bad += a.nbr[i] != b.nbr[i] || a.cnt[i] != b.cnt[i];
        }
    }
    for (uint32_t c = 0; c < nc; c++) {
        const xs_event *ea = NULL, *eb = NULL;
        size_t na = 0, nb = 0;
        int ha = xs_xocc_events(x, c, &ea, &na);
        int hb = xs_xocc_events(y, c, &eb, &nb);
        bad += ha != hb || na != nb;
        for (size_t i = 0; ha && hb && i < na && i < nb; i++)
            bad += ea[i].item != eb[i].item || ea[i].customer != c ||
                   ea[i].reserved != eb[i].reserved || ea[i].ts != eb[i].ts;
    }
    return bad;
}

/* Ingest: tables updated event by event equal a build of all events. */
static void test_xocc_add(uint32_t max_basket, int from_empty)
{
    static char text[1 << 16];
    size_t at = (size_t)sprintf(text, "customer,item,type,timestamp\n");
    uint64_t s = 7 + max_basket + (uint64_t)from_empty;
    static const char *const types[] = {"purchase", "view", "cart"};
    for (int i = 0; i < 900; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        at += (size_t)sprintf(text + at, "c%u,i%u,%s,%d\n",
                              (unsigned)(s >> 40) % NC,
                              (unsigned)(s >> 20) % NI,
                              types[(s >> 10) % 3], 1000 + i);
    }
    xs_error err = {0};
    xs_dataset *ds = load("xadd.csv", text, NULL, 1, 0, &err);
    if (!CHECK(ds != NULL))
        return;
    uint32_t nt = xs_dict_size(ds->types), ni = xs_dict_size(ds->items);
    uint32_t nc = xs_dict_size(ds->customers);
    size_t ne = ds->n_events, no = ds->n_other;
    size_t ie = from_empty ? 0 : ne / 2, io = from_empty ? 0 : no / 3;
    xs_xocc *full = xs_xocc_build(ds, max_basket, &err), *x;
    if (from_empty) {
        x = xs_xocc_empty(0);
    } else { /* built from the first events of each kind */
        ds->n_events = ie;
        ds->n_other = io;
        x = xs_xocc_build(ds, max_basket, &err);
        ds->n_events = ne;
        ds->n_other = no;
    }
    xs_event *hist = malloc((ne + 1) * sizeof *hist);
    if (!CHECK(full && x && hist))
        goto out;
    if (from_empty) /* a type and items at a time, as ingest meets them */
        CHECK_EQ(xs_xocc_grow(x, ni / 2, 2), 0);
    else
        CHECK_EQ(xs_xocc_grow(x, ni, nt), 0);
    while (ie < ne || io < no) {
        const xs_event *e = io >= no || (ie < ne && (ie + io) % 2 == 0)
                                ? &ds->events[ie++]
                                : &ds->other[io++];
        size_t lim = e->reserved == 0 ? ie - 1 : ie, nh = 0;
        for (size_t j = 0; j < lim; j++)
            if (ds->events[j].customer == e->customer)
                hist[nh++] = ds->events[j];
        if (e->item >= x->n_items || e->reserved >= x->n_types)
            CHECK_EQ(xs_xocc_grow(x, ni, nt), 0);
        if (CHECK_EQ(xs_xocc_add(x, e, hist, nh, max_basket), 0) == 0)
            break;
    }
    CHECK_EQ(x->n_types, nt);
    CHECK_EQ(xocc_diff(x, full, ni, nt, nc), 0);
    CHECK(xs_xocc_bytes(x) > 0);
out:
    free(hist);
    xs_xocc_free(x);
    xs_xocc_free(full);
    xs_dataset_free(ds);
}

int main(void)
{
    test_loader();
    test_parallel();
    test_bad();
    test_xocc(1000);
    test_xocc(3);
    test_xocc_add(1000, 0);
    test_xocc_add(3, 0);
    test_xocc_add(1000, 1);
    test_xocc_add(2, 1);
    return xt_done();
}
