/*
 * test_loaders.c -- tests for the data file loaders (xsell/dataset.h,
 * xsell/catalog.h); the strict parsers they use are test_parse.c's.
 *
 * Owns: xs_dataset_load_baskets, xs_dataset_load_events, xs_catalog_load and
 * xs_columns_parse, on good input
 * (UTF-8 BOM, CRLF, blank lines, RFC 4180 quoting, tab separation, mapped
 * and reordered columns, ISO-8601 and unix timestamps, a file read through
 * a pipe) and on every bad input we know of.  For each failure the loader
 * must return NULL, set err->code (XS_ERR_IO for the file, XS_ERR_DATA for
 * its content) and write a message "path:LINE: reason" whose line number
 * is the physical line of the offending record, counted across blank
 * lines, CRLF line ends and line breaks inside quoted fields.
 *
 * The shared groceries.csv, when present, is checked against its known
 * figures; when absent that part is skipped (the rest still runs).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "xsell/catalog.h"
#include "xsell/dataset.h"

/* ---- helpers -------------------------------------------------------------- */

/* Checks the outcome of a failed load: NULL, the code, and a message that
 * starts with "path:line: " (or "path: " when line is 0) and holds needle.
 * `at` is the caller's line, for the report. */
static void expect_err(int at, const void *result, const xs_error *err,
                       int code, const char *path, long line,
                       const char *needle)
{
    char prefix[4200];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%ld: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    xt_record(result == NULL, __FILE__, at, "loader returned NULL (%s)",
              err->msg);
    xt_record(err->code == code, __FILE__, at,
              "err.code == %d (got %d: \"%s\")", code, err->code, err->msg);
    xt_record(strncmp(err->msg, prefix, strlen(prefix)) == 0, __FILE__, at,
              "message \"%s\" starts with \"%s\"", err->msg, prefix);
    if (needle)
        xt_record(strstr(err->msg, needle) != NULL, __FILE__, at,
                  "message \"%s\" mentions \"%s\"", err->msg, needle);
}

static const char *case_file(int at, const char *kind, const char *content)
{
    char name[64];
    snprintf(name, sizeof name, "%s_%d.csv", kind, at);
    return xt_write_str(name, content);
}

static void baskets_fail(int at, const char *content, int code, long line,
                         const char *needle)
{
    const char *path = case_file(at, "baskets", content);
    if (!path)
        return;
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_baskets(path, &err);
    expect_err(at, ds, &err, code, path, line, needle);
    xs_dataset_free(ds);
}

static void events_fail(int at, const char *content, const char *spec,
                        int code, long line, const char *needle)
{
    const char *path = case_file(at, "events", content);
    if (!path)
        return;
    xs_columns cols = {0};
    xs_error err = {0};
    if (spec && !xt_record(xs_columns_parse(&cols, spec, &err) == XS_OK,
                           __FILE__, at, "columns '%s': %s", spec, err.msg)) {
        xs_columns_free(&cols);
        return;
    }
    xs_dataset *ds = xs_dataset_load_events(path, &cols, &err);
    expect_err(at, ds, &err, code, path, line, needle);
    xs_dataset_free(ds);
    xs_columns_free(&cols);
}

static void catalog_fail(int at, const char *content, int code, long line,
                         const char *needle)
{
    const char *path = case_file(at, "catalog", content);
    xs_dict *items = xs_dict_new();
    if (!path || !xt_record(items != NULL, __FILE__, at, "xs_dict_new")) {
        xs_dict_free(items);
        return;
    }
    xs_error err = {0};
    xs_catalog *c = xs_catalog_load(path, items, &err);
    expect_err(at, c, &err, code, path, line, needle);
    xs_catalog_free(c);
    xs_dict_free(items);
}

#define BASKETS_FAIL(content, code, line, needle)                             \
    baskets_fail(__LINE__, content, code, line, needle)
#define EVENTS_FAIL(content, spec, code, line, needle)                        \
    events_fail(__LINE__, content, spec, code, line, needle)
#define CATALOG_FAIL(content, code, line, needle)                             \
    catalog_fail(__LINE__, content, code, line, needle)

/* Loads a baskets/events file expected to be good; NULL with a failed check
 * otherwise. */
static xs_dataset *load_baskets_ok(int at, const char *name,
                                   const char *content)
{
    const char *path = xt_write_str(name, content);
    if (!path)
        return NULL;
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_baskets(path, &err);
    xt_record(ds != NULL, __FILE__, at, "load_baskets(%s): %s", name, err.msg);
    return ds;
}

static xs_dataset *load_events_ok(int at, const char *name,
                                  const char *content, const char *spec)
{
    const char *path = xt_write_str(name, content);
    if (!path)
        return NULL;
    xs_columns cols = {0};
    xs_error err = {0};
    xs_dataset *ds = NULL;
    if (xt_record(!spec || xs_columns_parse(&cols, spec, &err) == XS_OK,
                  __FILE__, at, "columns '%s': %s", spec ? spec : "",
                  err.msg)) {
        ds = xs_dataset_load_events(path, spec ? &cols : NULL, &err);
        xt_record(ds != NULL, __FILE__, at, "load_events(%s): %s", name,
                  err.msg);
    }
    xs_columns_free(&cols);
    return ds;
}

static const char *item_of(const xs_dataset *ds, size_t i)
{
    return i < ds->n_events ? xs_dict_name(ds->items, ds->events[i].item)
                            : NULL;
}

static const char *customer_of(const xs_dataset *ds, size_t i)
{
    return i < ds->n_events ? xs_dict_name(ds->customers,
                                           ds->events[i].customer)
                            : NULL;
}

static const char *order_of(const xs_dataset *ds, size_t i)
{
    return i < ds->n_events && ds->orders
               ? xs_dict_name(ds->orders, ds->events[i].order)
               : NULL;
}

/* ---- xs_parse_double ------------------------------------------------------ */

static void test_columns(void)
{
    xs_columns cols = {0};
    xs_error err = {0};
    CHECK_EQ(xs_columns_parse(&cols, "customer=userId,item=movieId,"
                              "weight=rating,timestamp=ts,price=cost,"
                              "order=invoice", &err), XS_OK);
    CHECK_STR(cols.customer, "userId");
    CHECK_STR(cols.item, "movieId");
    CHECK_STR(cols.weight, "rating");
    CHECK_STR(cols.timestamp, "ts");
    CHECK_STR(cols.price, "cost");
    CHECK_STR(cols.order, "invoice");
    xs_columns_free(&cols);

    /* roles not named keep their defaults (NULL) */
    xs_columns some = {0};
    CHECK_EQ(xs_columns_parse(&some, "item=sku", &err), XS_OK);
    CHECK_STR(some.item, "sku");
    CHECK(some.customer == NULL && some.weight == NULL &&
          some.timestamp == NULL && some.price == NULL && some.order == NULL);
    xs_columns_free(&some);

    xs_columns none = {0};
    CHECK_EQ(xs_columns_parse(&none, "", &err), XS_OK);
    CHECK(none.customer == NULL && none.item == NULL && none.weight == NULL &&
          none.timestamp == NULL && none.price == NULL && none.order == NULL);
    xs_columns_free(&none);
    xs_columns null_spec = {0};
    CHECK_EQ(xs_columns_parse(&null_spec, NULL, &err), XS_OK);
    xs_columns_free(&null_spec);

    static const struct {
        const char *spec, *needle;
    } bad[] = {
        {"customer", "customer"},          {"=userId", "=userId"},
        {"customer=", "customer="},        {"colour=red", "colour"},
        {"item=a,weight", "weight"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        xs_columns bc = {0};
        xs_error_clear(&err);
        int rc = xs_columns_parse(&bc, bad[i].spec, &err);
        CHECK_MSG(rc == XS_ERR_USAGE && err.code == XS_ERR_USAGE &&
                  strstr(err.msg, bad[i].needle),
                  "xs_columns_parse(\"%s\") = %d (%s), want XS_ERR_USAGE "
                  "naming \"%s\"", bad[i].spec, rc, err.msg, bad[i].needle);
        xs_columns_free(&bc);
    }
}

/* ---- baskets -------------------------------------------------------------- */

static void test_baskets_good(void)
{
    /* BOM, CRLF, blank lines (also CRLF and whitespace-only), spaces around
     * fields, quoted fields with commas and doubled quotes, duplicates in a
     * basket, no final newline. */
    const char *text = "\xEF\xBB\xBF"
                       "milk,bread\r\n"
                       "\r\n"
                       "  eggs , \"a,b\" ,\"say \"\"hi\"\"\"\r\n"
                       "   \n"
                       "milk,milk,bread,milk\n"
                       "\t\n"
                       "\"multi\nline\",caf\xc3\xa9\n"
                       "bread";
    xs_dataset *ds = load_baskets_ok(__LINE__, "good_baskets.csv", text);
    if (!ds)
        return;
    static const char *const names[] = {"milk", "bread", "eggs", "a,b",
                                        "say \"hi\"", "multi\nline",
                                        "caf\xc3\xa9"};
    CHECK_EQ(xs_dict_size(ds->items), 7);
    for (uint32_t i = 0; i < 7; i++)
        CHECK_STR(xs_dict_name(ds->items, i), names[i]);
    /* (item, basket) in file order, each item once per basket */
    static const struct {
        uint32_t item, order;
    } want[] = {{0, 0}, {1, 0}, {2, 1}, {3, 1}, {4, 1}, {0, 2},
                {1, 2}, {5, 3}, {6, 3}, {1, 4}};
    const size_t n_want = sizeof want / sizeof want[0];
    CHECK_EQ(ds->n_orders, 5);
    CHECK_EQ(ds->duplicates, 2); /* the 2nd and 3rd milk of basket 2 */
    if (CHECK_EQ(ds->n_events, n_want)) {
        size_t bad = 0;
        for (size_t i = 0; i < n_want; i++) {
            const xs_event *e = &ds->events[i];
            if (e->item != want[i].item || e->order != want[i].order ||
                e->customer != XS_NONE || e->weight != 1.0 || e->ts != 0 ||
                !isnan(e->price)) {
                bad++;
                fprintf(stderr, "  event %zu: item %u order %u customer %u "
                        "weight %g ts %lld price %g\n", i, e->item, e->order,
                        e->customer, e->weight, (long long)e->ts, e->price);
            }
        }
        CHECK_EQ(bad, 0);
    }
    CHECK(ds->orders == NULL);
    CHECK_EQ(ds->has_customer, 0);
    CHECK_EQ(ds->has_timestamp, 0);
    CHECK_EQ(ds->has_weight, 0);
    CHECK_EQ(ds->has_price, 0);
    xs_dataset_free(ds);

    /* a file with one item and no newline */
    ds = load_baskets_ok(__LINE__, "one.csv", "x");
    if (ds) {
        CHECK_EQ(ds->n_events, 1);
        CHECK_EQ(ds->n_orders, 1);
        CHECK_EQ(ds->duplicates, 0);
        xs_dataset_free(ds);
    }
}

/* Writes `lines` baskets "itemK,itemK+1,itemK+2" to f; returns 0 or -1. */
static int write_baskets(FILE *f, int lines)
{
    for (int k = 0; k < lines; k++)
        if (fprintf(f, "item%d,item%d,item%d\n", k % 1000, (k + 1) % 1000,
                    (k + 2) % 1000) < 0)
            return -1;
    return 0;
}

/* A file bigger than any first guess, read through a pipe (as with
 * --baskets <(zcat ...)), where the size is unknown beforehand. */
static void test_baskets_pipe(void)
{
    const int lines = 20000; /* ~ 500 KB */
    const char *fifo = xt_missing("baskets.fifo");
    if (!fifo || !CHECK(mkfifo(fifo, 0600) == 0))
        return;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(fifo, "w");
        int rc = f ? write_baskets(f, lines) : -1;
        if (f && fclose(f) != 0)
            rc = -1;
        _exit(rc ? 1 : 0);
    }
    if (!CHECK(pid > 0))
        return;
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_baskets(fifo, &err);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    if (CHECK_MSG(ds != NULL, "pipe: %s", err.msg)) {
        CHECK_EQ(ds->n_orders, lines);
        CHECK_EQ(ds->n_events, 3 * lines);
        CHECK_EQ(xs_dict_size(ds->items), 1000);
        /* the last basket came through whole */
        const xs_event *e = &ds->events[ds->n_events - 1];
        CHECK_STR(xs_dict_name(ds->items, e->item), "item1");
        CHECK_EQ(e->order, lines - 1);
    }
    xs_dataset_free(ds);

    /* the same through a regular file */
    const char *path = xt_missing("big_baskets.csv");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (CHECK(f != NULL)) {
        int rc = write_baskets(f, lines);
        CHECK(fclose(f) == 0 && rc == 0);
        ds = xs_dataset_load_baskets(path, &err);
        if (CHECK_MSG(ds != NULL, "%s", err.msg)) {
            CHECK_EQ(ds->n_orders, lines);
            CHECK_EQ(ds->n_events, 3 * lines);
        }
        xs_dataset_free(ds);
    }
}

static void test_baskets_bad(void)
{
    xs_error err = {0};
    /* missing file, also with a NULL error */
    const char *missing = xt_missing("no_such_file.csv");
    xs_dataset *ds = xs_dataset_load_baskets(missing, &err);
    expect_err(__LINE__, ds, &err, XS_ERR_IO, missing, 0, NULL);
    xs_dataset_free(ds);
    ds = xs_dataset_load_baskets(missing, NULL);
    CHECK(ds == NULL);
    xs_dataset_free(ds);

    /* a directory */
    const char *dir = xt_mkdir("a_directory");
    if (dir) {
        xs_error_clear(&err);
        ds = xs_dataset_load_baskets(dir, &err);
        expect_err(__LINE__, ds, &err, XS_ERR_IO, dir, 0, "directory");
        xs_dataset_free(ds);
    }

    /* unreadable (root reads anyway: skip there) */
    const char *locked = xt_write_str("locked.csv", "a,b\n");
    if (locked && geteuid() != 0) {
        CHECK(chmod(locked, 0) == 0);
        xs_error_clear(&err);
        ds = xs_dataset_load_baskets(locked, &err);
        expect_err(__LINE__, ds, &err, XS_ERR_IO, locked, 0, NULL);
        xs_dataset_free(ds);
        chmod(locked, 0600);
    } else if (locked) {
        printf("note: running as root, unreadable-file check skipped\n");
    }

    /* no content */
    BASKETS_FAIL("", XS_ERR_DATA, 0, "empty");
    BASKETS_FAIL("\n\n   \r\n\t\n\n", XS_ERR_DATA, 0, "empty");
    BASKETS_FAIL("\xEF\xBB\xBF", XS_ERR_DATA, 0, "empty");
    BASKETS_FAIL("\xEF\xBB\xBF\r\n", XS_ERR_DATA, 0, "empty");

    /* empty item names, with the line counted across blank lines and CRLF */
    BASKETS_FAIL("a,,b\n", XS_ERR_DATA, 1, "field 2");
    BASKETS_FAIL("a,b,\n", XS_ERR_DATA, 1, "field 3");
    BASKETS_FAIL(",a\n", XS_ERR_DATA, 1, "field 1");
    BASKETS_FAIL("a,b\r\n\r\n\nc,,d\r\n", XS_ERR_DATA, 4, "field 2");
    BASKETS_FAIL("\xEF\xBB\xBF\n  \n\t\r\nx\r\ny\r\n\r\n,\r\n", XS_ERR_DATA, 7,
                 NULL);
    BASKETS_FAIL("a\n\"\"\n", XS_ERR_DATA, 2, NULL); /* "" is empty too */
    /* a quoted field spanning lines moves the count on */
    BASKETS_FAIL("\"x\ny\",z\n\nq,\n", XS_ERR_DATA, 4, NULL);
    BASKETS_FAIL("\"x\r\ny\r\nz\",w\r\nq,,r\r\n", XS_ERR_DATA, 4, NULL);

    /* malformed CSV */
    BASKETS_FAIL("a,b\n\"c,d\n", XS_ERR_DATA, 2, "unterminated");
    BASKETS_FAIL("a,b\n\nc,d\"e\n", XS_ERR_DATA, 3, "quote");
    BASKETS_FAIL("\"a\"b,c\n", XS_ERR_DATA, 1, "quoted");
    BASKETS_FAIL("a\rb\n", XS_ERR_DATA, 1, "carriage return");
}

/* ---- events --------------------------------------------------------------- */

static void test_events_good(void)
{
    const char *text = "customer,item,timestamp,weight,price,order\n"
                       "c1,i1,2020-01-01,2,9.99,o1\n"
                       "\n"
                       "c2,i2,1577836800,1.5,0,o2\n"
                       "\"Smith, J\",i1,2020-01-01T12:34:56+02:00,1e1,10,o1\n"
                       "c1,\"say \"\"hi\"\"\",2020-01-01 00:00:01.5,0,0.5,"
                       "o3\n";
    xs_dataset *ds = load_events_ok(__LINE__, "events_all.csv", text, NULL);
    if (ds) {
        CHECK_EQ(ds->n_events, 4);
        CHECK_EQ(ds->has_customer, 1);
        CHECK_EQ(ds->has_timestamp, 1);
        CHECK_EQ(ds->has_weight, 1);
        CHECK_EQ(ds->has_price, 1);
        CHECK_EQ(ds->n_orders, 3);
        CHECK(ds->orders != NULL);
        CHECK_EQ(ds->duplicates, 0);
        CHECK_EQ(xs_dict_size(ds->customers), 3);
        CHECK_EQ(xs_dict_size(ds->items), 3);
        if (ds->n_events == 4) {
            static const char *const cu[] = {"c1", "c2", "Smith, J", "c1"};
            static const char *const it[] = {"i1", "i2", "i1", "say \"hi\""};
            static const char *const od[] = {"o1", "o2", "o1", "o3"};
            static const int64_t ts[] = {1577836800, 1577836800, 1577874896,
                                         1577836801};
            static const double w[] = {2, 1.5, 10, 0};
            static const double pr[] = {9.99, 0, 10, 0.5};
            for (size_t i = 0; i < 4; i++) {
                CHECK_STR(customer_of(ds, i), cu[i]);
                CHECK_STR(item_of(ds, i), it[i]);
                CHECK_STR(order_of(ds, i), od[i]);
                CHECK_EQ(ds->events[i].ts, ts[i]);
                CHECK(ds->events[i].weight == w[i]);
                CHECK(ds->events[i].price == pr[i]);
            }
            /* same customer, same id; same order, same id */
            CHECK_EQU(ds->events[0].customer, ds->events[3].customer);
            CHECK_EQU(ds->events[0].order, ds->events[2].order);
        }
        xs_dataset_free(ds);
    }

    /* Only the required columns, in another order, with extra columns,
     * BOM and CRLF: defaults for the rest. */
    ds = load_events_ok(__LINE__, "events_min.csv",
                        "\xEF\xBB\xBFnote,item,customer\r\n"
                        "\r\n"
                        "x,\"a,1\",u1\r\n"
                        "\"y, with comma\",b,u2\r\n",
                        NULL);
    if (ds) {
        CHECK_EQ(ds->n_events, 2);
        CHECK_STR(item_of(ds, 0), "a,1");
        CHECK_STR(customer_of(ds, 0), "u1");
        CHECK_STR(item_of(ds, 1), "b");
        CHECK_STR(customer_of(ds, 1), "u2");
        CHECK_EQ(ds->has_timestamp, 0);
        CHECK_EQ(ds->has_weight, 0);
        CHECK_EQ(ds->has_price, 0);
        CHECK_EQ(ds->n_orders, 0);
        CHECK(ds->orders == NULL);
        for (size_t i = 0; i < ds->n_events; i++) {
            CHECK_EQ(ds->events[i].ts, 0);
            CHECK(ds->events[i].weight == 1.0);
            CHECK(isnan(ds->events[i].price));
            CHECK_EQU(ds->events[i].order, XS_NONE);
        }
        xs_dataset_free(ds);
    }

    /* Tab separated, detected from the header; a comma inside a field is
     * then just a character. */
    ds = load_events_ok(__LINE__, "events.tsv",
                        "customer\titem\tweight\ttimestamp\n"
                        "c1\ti,1\t3\t2020-01-01T00:00:00Z\n"
                        "\n"
                        "c2\t\"i2\"\t4.5\t1577836801\n",
                        NULL);
    if (ds) {
        CHECK_EQ(ds->n_events, 2);
        CHECK_STR(item_of(ds, 0), "i,1");
        CHECK_STR(item_of(ds, 1), "i2");
        CHECK(ds->n_events == 2 && ds->events[1].weight == 4.5);
        CHECK(ds->n_events == 2 && ds->events[0].ts == 1577836800);
        xs_dataset_free(ds);
    }

    /* A header holding both commas and a tab is comma separated; the tab
     * is then part of a name. */
    ds = load_events_ok(__LINE__, "events_mixed.csv",
                        "customer,item,odd\tname\n"
                        "c1,i1,x\ty\n",
                        NULL);
    if (ds) {
        CHECK_EQ(ds->n_events, 1);
        CHECK_STR(customer_of(ds, 0), "c1");
        CHECK_STR(item_of(ds, 0), "i1");
        xs_dataset_free(ds);
    }

    /* MovieLens-style names mapped with --columns */
    ds = load_events_ok(__LINE__, "ratings.csv",
                        "userId,movieId,rating,timestamp\n"
                        "1,31,2.5,1260759144\n"
                        "1,1029,3.0,1260759179\n"
                        "7,31,4.0,851866703\n",
                        "customer=userId,item=movieId,weight=rating");
    if (ds) {
        CHECK_EQ(ds->n_events, 3);
        CHECK_EQ(xs_dict_size(ds->customers), 2);
        CHECK_EQ(xs_dict_size(ds->items), 2);
        CHECK_STR(item_of(ds, 1), "1029");
        CHECK_STR(customer_of(ds, 2), "7");
        CHECK(ds->n_events == 3 && ds->events[2].weight == 4.0);
        CHECK(ds->n_events == 3 && ds->events[2].ts == 851866703);
        CHECK_EQ(ds->has_weight, 1);
        xs_dataset_free(ds);
    }
}

static void test_events_bad(void)
{
    xs_error err = {0};
    const char *missing = xt_missing("no_events.csv");
    xs_dataset *ds = xs_dataset_load_events(missing, NULL, &err);
    expect_err(__LINE__, ds, &err, XS_ERR_IO, missing, 0, NULL);
    xs_dataset_free(ds);
    const char *dir = xt_mkdir("events_dir");
    if (dir) {
        xs_error_clear(&err);
        ds = xs_dataset_load_events(dir, NULL, &err);
        expect_err(__LINE__, ds, &err, XS_ERR_IO, dir, 0, "directory");
        xs_dataset_free(ds);
    }
    const char *locked = xt_write_str("locked_events.csv", "customer,item\n"
                                      "a,b\n");
    if (locked && geteuid() != 0) {
        CHECK(chmod(locked, 0) == 0);
        xs_error_clear(&err);
        ds = xs_dataset_load_events(locked, NULL, &err);
        expect_err(__LINE__, ds, &err, XS_ERR_IO, locked, 0, NULL);
        xs_dataset_free(ds);
        chmod(locked, 0600);
    }

    /* no content */
    EVENTS_FAIL("", NULL, XS_ERR_DATA, 0, "empty");
    EVENTS_FAIL("\n \r\n\n", NULL, XS_ERR_DATA, 0, "empty");
    EVENTS_FAIL("customer,item\n", NULL, XS_ERR_DATA, 0, "no events");
    EVENTS_FAIL("customer,item\r\n\r\n\r\n", NULL, XS_ERR_DATA, 0,
                "no events");

    /* required and mapped columns */
    EVENTS_FAIL("item,weight\nx,1\n", NULL, XS_ERR_DATA, 1, "'customer'");
    EVENTS_FAIL("customer,product\nx,1\n", NULL, XS_ERR_DATA, 1, "'item'");
    EVENTS_FAIL("\xEF\xBB\xBF\n\r\nuser,item\nx,1\n", NULL, XS_ERR_DATA, 3,
                "'customer'");
    EVENTS_FAIL("customer,item,weight\nx,1,1\n", "weight=rating", XS_ERR_DATA,
                1, "'rating'");
    EVENTS_FAIL("customer,item\nx,1\n", "item=movieId", XS_ERR_DATA, 1,
                "'movieId'");
    EVENTS_FAIL("userId,item\nx,1\n", "customer=user", XS_ERR_DATA, 1,
                "'user'");
    EVENTS_FAIL("customer,item\nx,1\n", "order=invoice", XS_ERR_DATA, 1,
                "'invoice'");

    /* field counts */
    EVENTS_FAIL("customer,item\nc1,i1\nc2,i2,extra\n", NULL, XS_ERR_DATA, 3,
                "expected 2 fields");
    EVENTS_FAIL("customer,item,weight\r\nc1,i1,1\r\n\r\nc2\r\n", NULL,
                XS_ERR_DATA, 4, "found 1");
    EVENTS_FAIL("customer,item\nc1,i1,\n", NULL, XS_ERR_DATA, 2, NULL);

    /* empty values */
    EVENTS_FAIL("customer,item\nc1,i1\n,i2\n", NULL, XS_ERR_DATA, 3,
                "customer");
    EVENTS_FAIL("customer,item\nc1,\"\"\n", NULL, XS_ERR_DATA, 2, "item");
    EVENTS_FAIL("customer,item,order\nc1,i1,o1\nc1,i2,\n", NULL, XS_ERR_DATA,
                3, "order");

    /* timestamps: line numbers across blank lines, CRLF, quoted breaks */
    EVENTS_FAIL("customer,item,timestamp\r\nc,i,2020-01-01\r\n\r\n"
                "c,i,2020-13-01\r\n", NULL, XS_ERR_DATA, 4, "timestamp");
    EVENTS_FAIL("customer,item,timestamp\nc,i,12abc\n", NULL, XS_ERR_DATA, 2,
                "12abc");
    EVENTS_FAIL("customer,item,timestamp\nc,i,1\nc,i,\n", NULL, XS_ERR_DATA,
                3, "timestamp");
    EVENTS_FAIL("customer,item,timestamp\nc,i,nan\n", NULL, XS_ERR_DATA, 2,
                "timestamp");
    EVENTS_FAIL("customer,item,timestamp\n\"multi\nline\",i,1\n\nc,i,x\n",
                NULL, XS_ERR_DATA, 5, "timestamp");
    EVENTS_FAIL("u,m,t\n1,2,3\n1,2,2020-02-30\n", "customer=u,item=m,"
                "timestamp=t", XS_ERR_DATA, 3, "timestamp");

    /* weights */
    EVENTS_FAIL("customer,item,weight\nc,i,1\nc,i,abc\n", NULL, XS_ERR_DATA,
                3, "weight");
    EVENTS_FAIL("customer,item,weight\nc,i,-1\n", NULL, XS_ERR_DATA, 2,
                "weight");
    EVENTS_FAIL("customer,item,weight\r\n\r\nc,i,inf\r\n", NULL, XS_ERR_DATA,
                3, "weight");
    EVENTS_FAIL("customer,item,weight\nc,i,\n", NULL, XS_ERR_DATA, 2,
                "weight");
    EVENTS_FAIL("customer\titem\tweight\nc\ti\t1\n\nc\ti\tnan\n", NULL,
                XS_ERR_DATA, 4, "weight");
    EVENTS_FAIL("userId,movieId,rating\n1,2,3\n1,2,x\n",
                "customer=userId,item=movieId,weight=rating", XS_ERR_DATA, 3,
                "weight");

    /* prices */
    EVENTS_FAIL("customer,item,price\nc,i,$5\n", NULL, XS_ERR_DATA, 2,
                "price");
    EVENTS_FAIL("customer,item,price\nc,i,1\n\n\nc,i,-0.01\n", NULL,
                XS_ERR_DATA, 5, "price");
    EVENTS_FAIL("customer,item,price\nc,i,1,5\n", NULL, XS_ERR_DATA, 2, NULL);

    /* malformed CSV inside the body */
    EVENTS_FAIL("customer,item\nc,\"i\n", NULL, XS_ERR_DATA, 2,
                "unterminated");
    EVENTS_FAIL("customer,item\r\n\r\nc,i\"x\r\n", NULL, XS_ERR_DATA, 3,
                "quote");
}

/* ---- catalog -------------------------------------------------------------- */

static void test_catalog_good(void)
{
    xs_dict *items = xs_dict_new();
    if (!CHECK(items != NULL))
        return;
    uint32_t pre = XS_NONE;
    CHECK_EQ(xs_dict_intern(items, "i2", 2, &pre), 0); /* id 0, from events */
    const char *path = xt_write_str("catalog.csv",
        "\xEF\xBB\xBFitem,category,price,margin,in_stock,title\r\n"
        "i1,dairy,1.5,0.3,1,\"Milk, whole\"\r\n"
        "\r\n"
        "i2,bakery,2,,no,\r\n"
        "i3,dairy,0,0.1,TRUE,Eggs\r\n"
        "i1,dairy,1.75,0.35,false,Milk v2\r\n"
        "i4,\"tea, green\",3.25,-0.5,,\"The \"\"best\"\" tea\"\r\n"
        "i2,bakery,2.5,,yes,\r\n");
    xs_error err = {0};
    xs_catalog *c = path ? xs_catalog_load(path, items, &err) : NULL;
    if (!CHECK_MSG(c != NULL, "catalog: %s", err.msg)) {
        xs_dict_free(items);
        return;
    }
    CHECK_EQ(xs_catalog_size(c), 4);
    CHECK_EQ(xs_catalog_duplicates(c), 2); /* i1 and i2 again */
    /* items shared with the dataset's dictionary: i2 kept its id */
    CHECK_EQU(xs_dict_find(items, "i2", 2), 0);
    CHECK_EQU(xs_dict_find(items, "i1", 2), 1);
    CHECK_EQU(xs_dict_find(items, "i3", 2), 2);
    CHECK_EQU(xs_dict_find(items, "i4", 2), 3);

    xs_item_info info;
    memset(&info, 0, sizeof info);
    if (CHECK(xs_catalog_get(c, 1, &info) == 1)) { /* i1: the last line wins */
        CHECK_STR(info.category_name, "dairy");
        CHECK(info.price == 1.75);
        CHECK(info.margin == 0.35);
        CHECK_EQ(info.in_stock, 0);
        CHECK_STR(info.title, "Milk v2");
        CHECK_EQU(info.category, xs_catalog_category(c, "dairy"));
    }
    if (CHECK(xs_catalog_get(c, 0, &info) == 1)) { /* i2: empty optionals */
        CHECK_STR(info.category_name, "bakery");
        CHECK(info.price == 2.5); /* the last line */
        CHECK(isnan(info.margin));
        CHECK_EQ(info.in_stock, 1);
        CHECK(info.title == NULL);
    }
    if (CHECK(xs_catalog_get(c, 2, &info) == 1)) {
        CHECK(info.price == 0.0);
        CHECK_EQ(info.in_stock, 1);
        CHECK_STR(info.title, "Eggs");
    }
    if (CHECK(xs_catalog_get(c, 3, &info) == 1)) { /* i4: quoting */
        CHECK_STR(info.category_name, "tea, green");
        CHECK(info.price == 3.25);
        CHECK(info.margin == -0.5);
        CHECK_EQ(info.in_stock, 1); /* empty: the default */
        CHECK_STR(info.title, "The \"best\" tea");
    }
    uint32_t dairy = xs_catalog_category(c, "dairy"),
             bakery = xs_catalog_category(c, "bakery");
    CHECK(dairy != XS_NONE && bakery != XS_NONE && dairy != bakery);
    CHECK_EQU(xs_catalog_category(c, "tea, green"),
              xs_catalog_get(c, 3, &info) ? info.category : XS_NONE - 1);
    CHECK_EQU(xs_catalog_category(c, "nope"), XS_NONE);
    CHECK_EQU(xs_catalog_category(c, "Dairy"), XS_NONE);
    /* not in the catalog */
    uint32_t extra = XS_NONE;
    CHECK_EQ(xs_dict_intern(items, "zzz", 3, &extra), 0);
    CHECK_EQ(xs_catalog_get(c, extra, &info), 0);
    CHECK_EQ(xs_catalog_get(c, 5000000, &info), 0);
    CHECK_EQ(xs_catalog_get(c, XS_NONE, &info), 0);
    xs_catalog_free(c);

    /* NULL catalog accessors */
    CHECK_EQ(xs_catalog_size(NULL), 0);
    CHECK_EQ(xs_catalog_duplicates(NULL), 0);
    CHECK_EQ(xs_catalog_get(NULL, 0, &info), 0);
    CHECK_EQU(xs_catalog_category(NULL, "dairy"), XS_NONE);
    xs_catalog_free(NULL);

    /* optional columns absent, columns reordered, an extra column */
    path = xt_write_str("catalog_min.csv",
                        "price,colour,item,category\n9,red,x,c\n0.5,blue,y,c\n");
    xs_error_clear(&err);
    c = path ? xs_catalog_load(path, items, &err) : NULL;
    if (CHECK_MSG(c != NULL, "catalog_min: %s", err.msg)) {
        CHECK_EQ(xs_catalog_size(c), 2);
        CHECK_EQ(xs_catalog_duplicates(c), 0);
        uint32_t x = xs_dict_find(items, "x", 1);
        if (CHECK(xs_catalog_get(c, x, &info) == 1)) {
            CHECK(info.price == 9.0);
            CHECK(isnan(info.margin));
            CHECK_EQ(info.in_stock, 1);
            CHECK(info.title == NULL);
            CHECK_STR(info.category_name, "c");
        }
        CHECK_EQ(xs_catalog_get(c, 0, &info), 0); /* i2 is not in this one */
        xs_catalog_free(c);
    }

    /* every accepted spelling of in_stock (the one boolean dialect) */
    path = xt_write_str("catalog_stock.csv",
                        "item,category,price,in_stock\n"
                        "s1,c,1,1\ns2,c,1,0\ns3,c,1,true\ns4,c,1,false\n"
                        "s5,c,1,yes\ns6,c,1,no\ns7,c,1,TRUE\ns8,c,1,No\n"
                        "s9,c,1,Yes\ns10,c,1,FALSE\ns11,c,1,on\n"
                        "s12,c,1,OFF\n");
    xs_error_clear(&err);
    c = path ? xs_catalog_load(path, items, &err) : NULL;
    if (CHECK_MSG(c != NULL, "catalog_stock: %s", err.msg)) {
        static const int want[] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
        for (int i = 0; i < 12; i++) {
            char name[8];
            int len = snprintf(name, sizeof name, "s%d", i + 1);
            uint32_t id = xs_dict_find(items, name, (size_t)len);
            int got = xs_catalog_get(c, id, &info) ? info.in_stock : -1;
            CHECK_MSG(got == want[i], "in_stock of %s: %d, want %d", name,
                      got, want[i]);
        }
        xs_catalog_free(c);
    }
    xs_dict_free(items);
}

static void test_catalog_bad(void)
{
    xs_dict *items = xs_dict_new();
    if (!CHECK(items != NULL))
        return;
    xs_error err = {0};
    const char *missing = xt_missing("no_catalog.csv");
    xs_catalog *c = xs_catalog_load(missing, items, &err);
    expect_err(__LINE__, c, &err, XS_ERR_IO, missing, 0, NULL);
    xs_catalog_free(c);
    const char *dir = xt_mkdir("catalog_dir");
    if (dir) {
        xs_error_clear(&err);
        c = xs_catalog_load(dir, items, &err);
        expect_err(__LINE__, c, &err, XS_ERR_IO, dir, 0, "directory");
        xs_catalog_free(c);
    }
    const char *locked = xt_write_str("locked_catalog.csv",
                                      "item,category,price\na,b,1\n");
    if (locked && geteuid() != 0) {
        CHECK(chmod(locked, 0) == 0);
        xs_error_clear(&err);
        c = xs_catalog_load(locked, items, &err);
        expect_err(__LINE__, c, &err, XS_ERR_IO, locked, 0, NULL);
        xs_catalog_free(c);
        chmod(locked, 0600);
    }
    xs_dict_free(items);

    CATALOG_FAIL("", XS_ERR_DATA, 0, "empty");
    CATALOG_FAIL("\r\n\n  \n", XS_ERR_DATA, 0, "empty");
    CATALOG_FAIL("item,category\nx,c\n", XS_ERR_DATA, 1, "'price'");
    CATALOG_FAIL("item,price\nx,1\n", XS_ERR_DATA, 1, "'category'");
    CATALOG_FAIL("\n\nsku,category,price\nx,c,1\n", XS_ERR_DATA, 3, "'item'");

    /* prices: missing, negative, not a number */
    CATALOG_FAIL("item,category,price\nx,c,1\ny,c,\n", XS_ERR_DATA, 3,
                 "price");
    CATALOG_FAIL("item,category,price\r\n\r\nx,c,-1\r\n", XS_ERR_DATA, 3,
                 "price");
    CATALOG_FAIL("item,category,price\nx,c,abc\n", XS_ERR_DATA, 2, "abc");
    CATALOG_FAIL("item,category,price\nx,c,nan\n", XS_ERR_DATA, 2, "price");
    CATALOG_FAIL("item,category,price\nx,c,\"1,5\"\n", XS_ERR_DATA, 2,
                 "price");

    /* other fields */
    CATALOG_FAIL("item,category,price,in_stock\nx,c,1,maybe\n", XS_ERR_DATA,
                 2, "in_stock");
    CATALOG_FAIL("item,category,price,in_stock\nx,c,1,1\n\ny,c,1,2\n",
                 XS_ERR_DATA, 4, "in_stock");
    CATALOG_FAIL("item,category,price,margin\nx,c,1,lots\n", XS_ERR_DATA, 2,
                 "margin");
    CATALOG_FAIL("item,category,price\nx,c,1\ny,c\n", XS_ERR_DATA, 3,
                 "expected 3 fields");
    CATALOG_FAIL("item,category,price\n,c,1\n", XS_ERR_DATA, 2, "item");
    CATALOG_FAIL("item,category,price\nx,,1\n", XS_ERR_DATA, 2, "category");
    CATALOG_FAIL("item,category,title,price\n\"x\n\",c,\"a\nb\",1\n"
                 "y,c,t,-2\n", XS_ERR_DATA, 5, "price");
    CATALOG_FAIL("item,category,price\nx,c,1\n\"y,c,1\n", XS_ERR_DATA, 3,
                 "unterminated");
}

/* ---- the shared groceries data ------------------------------------------- */

static size_t count_item(const xs_dataset *ds, const char *name)
{
    uint32_t id = xs_dict_find(ds->items, name, strlen(name));
    size_t n = 0;
    for (size_t i = 0; id != XS_NONE && i < ds->n_events; i++)
        n += ds->events[i].item == id;
    return n;
}

static void test_groceries(void)
{
    const char *dir = getenv("XS_SHARED_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/groceries.csv", dir ? dir : "");
    if (!dir || access(path, R_OK) != 0) {
        printf("note: %s absent, groceries check skipped\n", path);
        return;
    }
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_baskets(path, &err);
    if (!CHECK_MSG(ds != NULL, "%s", err.msg))
        return;
    /* reference figures from shared/data/README.md (arules' Groceries) */
    CHECK_EQ(ds->n_orders, 9835);
    CHECK_EQ(xs_dict_size(ds->items), 169);
    CHECK_EQ(count_item(ds, "whole milk"), 2513);
    CHECK_EQ(count_item(ds, "other vegetables"), 1903);
    CHECK_EQ(count_item(ds, "root vegetables"), 1072);
    CHECK_EQ(count_item(ds, "herbs"), 160);
    xs_dataset_free(ds);
}

int main(void)
{
    test_columns();
    test_baskets_good();
    test_baskets_pipe();
    test_baskets_bad();
    test_events_good();
    test_events_bad();
    test_catalog_good();
    test_catalog_bad();
    test_groceries();
    return xt_done();
}
