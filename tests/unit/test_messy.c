/*
 * test_messy.c -- the loaders on messy input (xs_load_options): bad lines
 * refused or skipped and counted, returns subtracted or dropped, exported
 * date formats, text that is not UTF-8 (refused, or Latin-1 transcoded),
 * NUL bytes (in the catalog too), an events file given as baskets; and
 * the UCI Online Retail fixture, which loads with the documented options
 * into exactly the dataset of its cleaned copy.
 *
 * Owns: the messy-input fields of xs_load_options and xs_load_report, and
 * data/text.h (compiled in from its source).  Each case runs at several
 * block sizes and thread counts, so a bad line in a later block is
 * counted and named at its line in the file.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/text.h"
#include "test_util.h"
#include "xsell/catalog.h"
#include "xsell/dataset.h"

static const size_t BLOCKS[] = {0, 7, 64};
static const int THREADS[] = {1, 3};

static xs_dataset *load(int events, const char *path, const char *cols,
                        xs_load_options *o, xs_error *err)
{
    xs_columns c = {0};
    if (cols && xs_columns_parse(&c, cols, err))
        return NULL;
    xs_dataset *ds = events ? xs_dataset_load_events_opts(path, &c, o, err)
                            : xs_dataset_load_baskets_opts(path, o, err);
    xs_columns_free(&c);
    return ds;
}

/* A load that must fail at path:line with needle in the message, at every
 * block size and thread count. */
static void fails(int at, int events, const char *path, xs_load_options o,
                  long line, const char *needle)
{
    char want[600];
    snprintf(want, sizeof want, "%s:%ld: ", path, line);
    for (size_t b = 0; b < sizeof BLOCKS / sizeof *BLOCKS; b++)
        for (size_t t = 0; t < sizeof THREADS / sizeof *THREADS; t++) {
            xs_error err = {0};
            o.block_size = BLOCKS[b];
            o.threads = THREADS[t];
            xs_dataset *ds = load(events, path, NULL, &o, &err);
            CHECK_MSG(!ds, "line %d: loaded, want an error", at);
            CHECK_MSG(err.code == XS_ERR_DATA &&
                          !strncmp(err.msg, want, strlen(want)) &&
                          strstr(err.msg, needle),
                      "line %d (block %zu, %d threads): got '%s', want "
                      "'%s...%s'", at, BLOCKS[b], THREADS[t], err.msg, want,
                      needle);
            xs_dataset_free(ds);
        }
}

/* ---- text.h ------------------------------------------------------------- */

static void test_text(void)
{
    static const struct {
        const char *s;
        size_t len;
        int kind;
        size_t at;
    } cases[] = {
        {"plain ascii, long enough for words", 34, XS_TEXT_OK, 0},
        {"caf\xc3\xa9", 5, XS_TEXT_OK, 0},
        {"\xe2\x82\xac and \xf0\x9f\x98\x80", 12, XS_TEXT_OK, 0},
        {"caf\xe9 au lait", 12, XS_TEXT_BAD_UTF8, 3},      /* Latin-1 */
        {"0123456789\xc3", 11, XS_TEXT_BAD_UTF8, 10},      /* cut short */
        {"\xc0\xaf", 2, XS_TEXT_BAD_UTF8, 0},              /* overlong */
        {"\xe0\x80\xaf", 3, XS_TEXT_BAD_UTF8, 0},          /* overlong */
        {"ab\xed\xa0\x80", 5, XS_TEXT_BAD_UTF8, 2},        /* surrogate */
        {"\xf4\x90\x80\x80", 4, XS_TEXT_BAD_UTF8, 0},      /* > U+10FFFF */
        {"\xe2\x82x", 3, XS_TEXT_BAD_UTF8, 0},             /* bad tail */
        {"abcdefgh\0ijk", 12, XS_TEXT_NUL, 8},
        {"ab\0", 3, XS_TEXT_NUL, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t at = 99;
        int k = xs_text_check(cases[i].s, cases[i].len, &at);
        CHECK_MSG(k == cases[i].kind && (k == XS_TEXT_OK || at == cases[i].at),
                  "xs_text_check case %zu: kind %d at %zu", i, k, at);
    }
    size_t n;
    char *u = xs_text_latin1_to_utf8("caf\xe9 \xff", 6, &n);
    if (CHECK(u))
        CHECK(n == 8 && !memcmp(u, "caf\xc3\xa9 \xc3\xbf", 9));
    free(u);
    CHECK_EQU(xs_text_line_of("a\nb\nc", 4), 3);
}

/* ---- bad lines ------------------------------------------------------------ */

/* lines: 1 header, 2 ok, 3 empty customer, 4 stray quote, 5 ok, 6 too many
 * fields, 7 bad weight, 8 bad timestamp, 9 blank, 10 ok */
static const char BAD_EVENTS[] =
    "customer,item,timestamp,weight\n"
    "c1,a,1,1\n"
    ",b,1,1\n"
    "c2,x\"y,1,1\n"
    "c2,a,2,1\n"
    "c3,a,3,1,9\n"
    "c3,a,3,heavy\n"
    "c3,a,yesterday,1\n"
    "\n"
    "c4,b,4,1\n";

static void test_bad_lines(void)
{
    const char *path = xt_write_str("bad_events.csv", BAD_EVENTS);
    if (!path)
        return;
    fails(__LINE__, 1, path, (xs_load_options){0}, 3, "empty customer");
    for (size_t b = 0; b < sizeof BLOCKS / sizeof *BLOCKS; b++)
        for (size_t t = 0; t < sizeof THREADS / sizeof *THREADS; t++) {
            xs_load_report r;
            xs_load_options o = {.threads = THREADS[t],
                                 .block_size = BLOCKS[b],
                                 .on_bad_line = XS_BAD_LINE_SKIP,
                                 .report = &r};
            xs_error err = {0};
            xs_dataset *ds = load(1, path, NULL, &o, &err);
            if (!CHECK_MSG(ds, "skip: %s", err.msg))
                continue;
            CHECK_EQU(ds->n_events, 3);
            /* the skipped lines left no names: c1, c2, c4 and a, b */
            CHECK_EQU(xs_dict_size(ds->customers), 3);
            CHECK_EQU(xs_dict_size(ds->items), 2);
            CHECK_EQU(xs_dict_find(ds->customers, "c3", 2), XS_NONE);
            CHECK_EQU(r.bad_lines, 5);
            CHECK_EQU(r.n_shown, 5);
            static const char *const lines[] = {":3: empty customer",
                                                ":4: stray quote",
                                                ":6: expected 4 fields",
                                                ":7: bad weight",
                                                ":8: bad timestamp"};
            for (unsigned i = 0; i < r.n_shown && i < 5; i++)
                CHECK_MSG(strstr(r.shown[i], lines[i]) &&
                              !strncmp(r.shown[i], path, strlen(path)),
                          "shown[%u] = '%s', want '%s'", i, r.shown[i],
                          lines[i]);
            xs_dataset_free(ds);
        }
    /* a quote left open is never skipped: nowhere to resume */
    const char *open = xt_write_str("open_quote.csv",
                                    "customer,item\nc1,a\nc2,\"b\nc3,c\n");
    xs_load_options o = {.on_bad_line = XS_BAD_LINE_SKIP};
    if (open)
        fails(__LINE__, 1, open, o, 3, "unterminated quoted field");
    /* baskets: an empty item skips the basket, numbering stays dense */
    const char *bk = xt_write_str("bad_baskets.csv", "a,b\na,,b\nb,c\n");
    xs_load_report r;
    o.report = &r;
    xs_error err = {0};
    xs_dataset *ds = bk ? load(0, bk, NULL, &o, &err) : NULL;
    if (CHECK_MSG(ds, "%s", err.msg)) {
        CHECK_EQU(ds->n_orders, 2);
        CHECK_EQU(ds->n_events, 4);
        CHECK_EQU(r.bad_lines, 1);
        CHECK_HAS(r.shown[0], ":2: empty item name");
    }
    xs_dataset_free(ds);
}

/* ---- returns -------------------------------------------------------------- */

static void test_returns(void)
{
    const char *path = xt_write_str(
        "returns.csv",
        "customer,item,order,weight\n"
        "c1,a,o1,3\n"     /* 2 */
        "c1,b,o1,1\n"     /* 3 */
        "c1,a,o2,2\n"     /* 4 */
        "c2,a,o3,1\n"     /* 5 */
        "c1,a,r1,-4\n"    /* 6: 2 off o2 (gone), 2 off o1 (1 left) */
        "c2,z,r2,-1\n"    /* 7: nothing to subtract from */
        "c3,q,o4,1\n"     /* 8 */
        "c3,q,r3,-1\n");  /* 9: c3's only purchase: c3, q and o4 go */
    if (!path)
        return;
    fails(__LINE__, 1, path, (xs_load_options){0}, 6, "bad weight '-4'");
    for (size_t b = 0; b < sizeof BLOCKS / sizeof *BLOCKS; b++)
        for (size_t t = 0; t < sizeof THREADS / sizeof *THREADS; t++) {
            xs_load_report r;
            xs_load_options o = {.threads = THREADS[t],
                                 .block_size = BLOCKS[b],
                                 .returns = XS_RETURNS_SUBTRACT,
                                 .report = &r};
            xs_error err = {0};
            xs_dataset *ds = load(1, path, NULL, &o, &err);
            if (!CHECK_MSG(ds, "subtract: %s", err.msg))
                continue;
            CHECK_EQU(ds->n_events, 3);
            CHECK_EQU(r.returns, 3);
            CHECK_EQU(r.returns_unmatched, 1);
            CHECK_EQU(r.removed, 2);
            CHECK_EQU(ds->n_orders, 2); /* o1, o3 */
            CHECK_EQU(xs_dict_size(ds->customers), 2);
            CHECK_EQU(xs_dict_size(ds->items), 2); /* a, b */
            if (ds->n_events == 3) {
                CHECK_STR(xs_dict_name(ds->items, ds->events[0].item), "a");
                CHECK_NEAR(ds->events[0].weight, 1, 0);
                CHECK_STR(xs_dict_name(ds->orders, ds->events[0].order),
                          "o1");
                CHECK_STR(xs_dict_name(ds->customers,
                                       ds->events[2].customer), "c2");
            }
            xs_dataset_free(ds);
            o.returns = XS_RETURNS_DROP;
            ds = load(1, path, NULL, &o, &err);
            if (CHECK_MSG(ds, "drop: %s", err.msg)) {
                CHECK_EQU(ds->n_events, 5);
                CHECK_EQU(ds->n_orders, 4); /* no r1, r2, r3 */
                CHECK_EQU(xs_dict_find(ds->items, "z", 1), XS_NONE);
                CHECK_EQU(r.returns, 3);
            }
            xs_dataset_free(ds);
        }
}

/* ---- dates, text, headers ------------------------------------------------- */

static void test_dates(void)
{
    const char *path = xt_write_str("dates.csv",
                                    "customer,item,timestamp\n"
                                    "c1,a,12/1/2010 8:26\n"
                                    "c1,b,2/29/2012 23:59\n");
    if (!path)
        return;
    fails(__LINE__, 1, path, (xs_load_options){0}, 2, "bad timestamp");
    xs_load_options o = {.date_format = "%m/%d/%Y %H:%M"};
    xs_error err = {0};
    xs_dataset *ds = load(1, path, NULL, &o, &err);
    if (CHECK_MSG(ds, "%s", err.msg) && CHECK_EQU(ds->n_events, 2)) {
        CHECK_EQ(ds->events[0].ts, 1291191960); /* 2010-12-01T08:26:00Z */
        CHECK_EQ(ds->events[1].ts, 1330559940); /* 2012-02-29T23:59:00Z */
    }
    xs_dataset_free(ds);
    const char *bad = xt_write_str("dates_bad.csv",
                                   "customer,item,timestamp\n"
                                   "c1,a,12/1/2010 8:26\n"
                                   "c1,b,2010-12-01\n");
    if (bad)
        fails(__LINE__, 1, bad, o, 3, "want the date format");
}

static void test_text_files(void)
{
    const char *latin = xt_write_str("latin1.csv",
                                     "customer,item\nc1,caf\xe9\nc2,tea\n");
    const char *nul = xt_write_file("nul.csv",
                                    "customer,item\nc1,ab\0cd\nc2,tea\n", 30);
    const char *bnul = xt_write_file("nul_baskets.csv", "a,b\nc\0d,e\n", 10);
    if (!latin || !nul || !bnul)
        return;
    xs_load_options o = {0};
    fails(__LINE__, 1, latin, o, 2, "not UTF-8 (byte 0xE9 at column 7)");
    fails(__LINE__, 1, nul, o, 2, "NUL byte at column 6");
    fails(__LINE__, 0, bnul, o, 2, "NUL byte");
    o.encoding = XS_ENCODING_LATIN1;
    fails(__LINE__, 1, nul, o, 2, "NUL byte"); /* Latin-1 or not */
    xs_error err = {0};
    xs_dataset *ds = load(1, latin, NULL, &o, &err);
    if (CHECK_MSG(ds, "%s", err.msg))
        CHECK(xs_dict_find(ds->items, "caf\xc3\xa9", 5) == 0);
    xs_dataset_free(ds);
}

/* The catalog is read whole (data/csv.c): the same refusals, no
 * transcoding (it has no encoding option). */
static void test_catalog_text(void)
{
    const char *latin = xt_write_str("cat_latin1.csv",
                                     "item,category,price\na,x,1\n"
                                     "b,caf\xe9,2\n");
    const char *nul = xt_write_file("cat_nul.csv",
                                    "item,category,price\na,x\0y,1\n", 28);
    xs_dict *items = xs_dict_new();
    if (!latin || !nul || !CHECK(items))
        return;
    xs_error err = {0};
    xs_catalog *cat = xs_catalog_load(latin, items, &err);
    CHECK(!cat && err.code == XS_ERR_DATA);
    CHECK_HAS(err.msg, "cat_latin1.csv:3: not UTF-8 (byte 0xE9)");
    xs_catalog_free(cat);
    cat = xs_catalog_load(nul, items, &err);
    CHECK(!cat && err.code == XS_ERR_DATA);
    CHECK_HAS(err.msg, "cat_nul.csv:2: NUL byte");
    xs_catalog_free(cat);
    xs_dict_free(items);
}

static void test_baskets_header(void)
{
    static const struct {
        const char *text;
        int refused;
    } cases[] = {
        {"customer,item,timestamp,price,order\nc1,a,1,5.72,o1\n", 1},
        {"userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n", 1},
        {"\n\"InvoiceNo\",StockCode,Quantity\r\n1,2,3\r\n", 1},
        {"milk,bread\nmilk\n", 0},
        {"item\na\n", 0}, /* one field: a basket of one */
        {"customer,milk\nbread\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char name[32];
        snprintf(name, sizeof name, "header_%zu.csv", i);
        const char *path = xt_write_str(name, cases[i].text);
        if (!path)
            continue;
        if (cases[i].refused) {
            fails(__LINE__, 0, path, (xs_load_options){0}, i == 2 ? 2 : 1,
                  "give it with --events");
            continue;
        }
        xs_error err = {0};
        xs_dataset *ds = load(0, path, NULL, NULL, &err);
        CHECK_MSG(ds, "case %zu: %s", i, err.msg);
        xs_dataset_free(ds);
    }
}

/* ---- the UCI Online Retail fixture ---------------------------------------- */

#define UCI_COLUMNS                                                          \
    "customer=CustomerID,item=StockCode,order=InvoiceNo,weight=Quantity,"   \
    "timestamp=InvoiceDate,price=UnitPrice"

static void test_uci(void)
{
    const char *dir = getenv("XS_TEST_DATA");
    if (!CHECK_MSG(dir, "XS_TEST_DATA is not set (ctest sets it)"))
        return;
    char raw[4096], clean[4096];
    snprintf(raw, sizeof raw, "%s/messy/uci_online_retail.csv", dir);
    snprintf(clean, sizeof clean, "%s/messy/uci_online_retail_clean.csv",
             dir);
    xs_error err = {0};
    xs_dataset *want = load(1, clean, UCI_COLUMNS, NULL, &err);
    if (!CHECK_MSG(want, "%s", err.msg))
        return;
    /* as exported, the loader stops at the first imperfect line */
    xs_dataset *ds = load(1, raw, UCI_COLUMNS, NULL, &err);
    CHECK(!ds && strstr(err.msg, ":27: not UTF-8"));
    xs_dataset_free(ds);
    for (size_t b = 0; b < sizeof BLOCKS / sizeof *BLOCKS; b++)
        for (size_t t = 0; t < sizeof THREADS / sizeof *THREADS; t++) {
            xs_load_report r;
            xs_load_options o = {.threads = THREADS[t],
                                 .block_size = BLOCKS[b],
                                 .on_bad_line = XS_BAD_LINE_SKIP,
                                 .returns = XS_RETURNS_SUBTRACT,
                                 .encoding = XS_ENCODING_LATIN1,
                                 .date_format = "%m/%d/%Y %H:%M",
                                 .report = &r};
            ds = load(1, raw, UCI_COLUMNS, &o, &err);
            if (!CHECK_MSG(ds, "%s", err.msg))
                continue;
            CHECK_EQU(r.bad_lines, 1); /* the guest checkout */
            CHECK_HAS(r.shown[0], "uci_online_retail.csv:16: empty customer");
            CHECK_EQU(r.returns, 3);
            CHECK_EQU(r.returns_unmatched, 0);
            /* the same dataset: events, names, ids, orders */
            CHECK_EQU(ds->n_events, want->n_events);
            CHECK_EQU(ds->n_orders, want->n_orders);
            CHECK_EQU(xs_dict_size(ds->customers),
                      xs_dict_size(want->customers));
            CHECK_EQU(xs_dict_size(ds->items), xs_dict_size(want->items));
            for (size_t i = 0; i < ds->n_events && i < want->n_events; i++) {
                const xs_event *a = &ds->events[i], *w = &want->events[i];
                CHECK_MSG(a->customer == w->customer && a->item == w->item &&
                              a->order == w->order && a->ts == w->ts &&
                              a->weight == w->weight && a->price == w->price,
                          "event %zu differs", i);
            }
            for (uint32_t id = 0; id < xs_dict_size(want->items); id++)
                CHECK_STR(xs_dict_name(ds->items, id),
                          xs_dict_name(want->items, id));
            for (uint32_t id = 0; id < want->n_orders; id++)
                CHECK_STR(xs_dict_name(ds->orders, id),
                          xs_dict_name(want->orders, id));
            xs_dataset_free(ds);
        }
    xs_dataset_free(want);
}

int main(void)
{
    test_text();
    test_bad_lines();
    test_returns();
    test_dates();
    test_text_files();
    test_catalog_text();
    test_baskets_header();
    test_uci();
    return xt_done();
}
