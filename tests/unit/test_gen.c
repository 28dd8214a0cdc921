/*
 * test_gen.c -- tests for the synthetic store generator (xs_gen_write).
 *
 * Owns: checking that gen is deterministic (same seed, same bytes; other
 * seed, other bytes), that its files have the promised headers and shape
 * (event items exist in the catalog, no item twice in an order, one
 * customer and timestamp per order, timestamps inside the year, each
 * customer's orders increasing in time), and that bad parameters and
 * unwritable places are refused with the right status.
 *
 * Standalone: main returns 0 when every check passes and prints each
 * failure on stderr.  Temporary directories live under /tmp and are
 * removed at the end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xsell/error.h"
#include "xsell/gen.h"

#define YEAR_SECONDS (365 * 86400LL)
#define DEFAULT_START 1735689600LL

typedef struct test_ctx {
    int failures;
    char dirs[8][64];
    int ndirs;
} test_ctx;

#define CHECK(t, cond, ...)                                                   \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);              \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            (t)->failures++;                                                  \
        }                                                                     \
    } while (0)

/* A new empty directory under /tmp, remembered for cleanup; NULL on error. */
static const char *temp_dir(test_ctx *t)
{
    if (t->ndirs >= 8)
        return NULL;
    char *d = t->dirs[t->ndirs];
    strcpy(d, "/tmp/xsell_test_gen_XXXXXX");
    if (!mkdtemp(d)) {
        perror("mkdtemp");
        return NULL;
    }
    t->ndirs++;
    return d;
}

static void cleanup(test_ctx *t)
{
    static const char *const names[] = {"catalog.csv", "events.csv", "sub",
                                        "blocker"};
    char path[128];
    for (int i = 0; i < t->ndirs; i++) {
        for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
            snprintf(path, sizeof path, "%s/sub/%s", t->dirs[i], names[k]);
            unlink(path);
            snprintf(path, sizeof path, "%s/%s", t->dirs[i], names[k]);
            unlink(path);
        }
        snprintf(path, sizeof path, "%s/sub", t->dirs[i]);
        rmdir(path);
        rmdir(t->dirs[i]);
    }
}

/* Whole file into a NUL-terminated malloc'd buffer (caller frees), or
 * NULL. */
static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 4096 + 1 > cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}

/* Splits a line (modified in place) at commas into at most max fields. */
static int split(char *line, char **field, int max)
{
    int n = 0;
    field[n++] = line;
    for (char *p = line; *p; p++) {
        if (*p == ',') {
            *p = '\0';
            if (n == max)
                return -1;
            field[n++] = p + 1;
        }
    }
    return n;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct event_key {
    char order[16];
    char item[16];
} event_key;

static int cmp_event(const void *a, const void *b)
{
    const event_key *x = a, *y = b;
    int c = strcmp(x->order, y->order);
    return c ? c : strcmp(x->item, y->item);
}

static int generate(test_ctx *t, const char *dir, uint32_t customers,
                    uint32_t items, uint32_t orders, uint64_t seed,
                    int64_t start, uint64_t *lines)
{
    xs_error err;
    memset(&err, 0, sizeof err);
    xs_gen_params p = {customers, items, orders, seed, start, lines, 0, 0, 0};
    int rc = xs_gen_write(&p, dir, &err);
    CHECK(t, rc == XS_OK, "xs_gen_write(%s) = %d: %s", dir, rc, err.msg);
    return rc;
}

static int same_file(const char *a, const char *b, const char *name)
{
    size_t la = 0, lb = 0;
    char *x = slurp(a, name, &la), *y = slurp(b, name, &lb);
    int same = x && y && la == lb && memcmp(x, y, la) == 0;
    free(x);
    free(y);
    return same;
}

static void test_determinism(test_ctx *t)
{
    const char *a = temp_dir(t), *b = temp_dir(t), *c = temp_dir(t);
    CHECK(t, a && b && c, "mkdtemp failed");
    if (!a || !b || !c)
        return;
    if (generate(t, a, 300, 120, 900, 7, 0, NULL) ||
        generate(t, b, 300, 120, 900, 7, 0, NULL) ||
        generate(t, c, 300, 120, 900, 8, 0, NULL))
        return;
    CHECK(t, same_file(a, b, "catalog.csv"), "same seed, catalog differs");
    CHECK(t, same_file(a, b, "events.csv"), "same seed, events differ");
    CHECK(t, !same_file(a, c, "events.csv"), "other seed, same events");
    CHECK(t, !same_file(a, c, "catalog.csv"), "other seed, same catalog");
}

static void check_catalog(test_ctx *t, char *cat, uint32_t items,
                          char ***ids_out)
{
    char **ids = calloc(items + 1, sizeof *ids);
    uint32_t n = 0;
    char *save = NULL;
    char *line = strtok_r(cat, "\n", &save);
    CHECK(t, line && strcmp(line, "item,category,price,margin,in_stock,title") == 0,
          "catalog header is '%s'", line ? line : "(none)");
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[8];
        int nf = split(line, f, 8);
        CHECK(t, nf == 6, "catalog line %" PRIu32 " has %d fields", n + 2, nf);
        if (nf != 6 || n >= items)
            break;
        double price = atof(f[2]), margin = atof(f[3]);
        CHECK(t, price > 0, "catalog %s: price %s", f[0], f[2]);
        CHECK(t, margin >= 0.05 && margin <= 0.60, "catalog %s: margin %s",
              f[0], f[3]);
        CHECK(t, strcmp(f[4], "0") == 0 || strcmp(f[4], "1") == 0,
              "catalog %s: in_stock %s", f[0], f[4]);
        CHECK(t, f[0][0] == 'P' && strlen(f[0]) == 7, "catalog item id %s", f[0]);
        ids[n++] = f[0];
    }
    CHECK(t, n == items, "catalog has %" PRIu32 " items, want %" PRIu32, n,
          items);
    qsort(ids, n, sizeof *ids, cmp_str);
    for (uint32_t i = 1; i < n; i++)
        CHECK(t, strcmp(ids[i - 1], ids[i]) != 0, "item %s twice", ids[i]);
    *ids_out = ids;
}

static void test_shape(test_ctx *t)
{
    const uint32_t customers = 200, items = 150, orders = 700;
    const int64_t start = 1700000000;
    const char *d = temp_dir(t);
    uint64_t lines = 0;
    if (!d || generate(t, d, customers, items, orders, 42, start, &lines))
        return;
    char *cat = slurp(d, "catalog.csv", NULL);
    char *ev = slurp(d, "events.csv", NULL);
    CHECK(t, cat && ev, "cannot read generated files in %s", d);
    if (!cat || !ev) {
        free(cat);
        free(ev);
        return;
    }

    char **ids = NULL;
    check_catalog(t, cat, items, &ids);

    event_key *keys = calloc(lines + 1, sizeof *keys);
    int64_t *last_ts = calloc(customers + 2, sizeof *last_ts);
    char prev_order[16] = "", prev_cust[16] = "";
    int64_t prev_ts = 0;
    uint64_t n = 0, norders = 0, customers_seen = 0, bad = 0;
    char *save = NULL;
    char *line = strtok_r(ev, "\n", &save);
    CHECK(t, line && strcmp(line, "customer,item,timestamp,weight,price,order") == 0,
          "events header is '%s'", line ? line : "(none)");
    while ((line = strtok_r(NULL, "\n", &save)) != NULL && bad < 20) {
        char *f[8];
        int nf = split(line, f, 8);
        if (nf != 6 || n >= lines) {
            CHECK(t, 0, "events line %" PRIu64 ": %d fields", n + 2, nf);
            bad++;
            continue;
        }
        const char *key = f[1];
        if (!bsearch(&key, ids, items, sizeof *ids, cmp_str)) {
            CHECK(t, 0, "event item %s not in catalog", f[1]);
            bad++;
        }
        int64_t ts = strtoll(f[2], NULL, 10);
        if (ts < start || ts >= start + YEAR_SECONDS) {
            CHECK(t, 0, "timestamp %s outside the year", f[2]);
            bad++;
        }
        int w = atoi(f[3]);
        if (w < 1 || w > 3) {
            CHECK(t, 0, "weight %s", f[3]);
            bad++;
        }
        long cu = strtol(f[0] + 1, NULL, 10);
        if (f[0][0] != 'C' || cu < 1 || cu > (long)customers) {
            CHECK(t, 0, "customer id %s", f[0]);
            bad++;
            cu = 0;
        }
        if (strcmp(f[5], prev_order) != 0) { /* a new order */
            norders++;
            if (last_ts[cu]) {
                if (ts <= last_ts[cu]) {
                    CHECK(t, 0, "customer %s: order %s not after the last", f[0],
                          f[5]);
                    bad++;
                }
            } else {
                customers_seen++;
            }
            last_ts[cu] = ts;
            snprintf(prev_order, sizeof prev_order, "%s", f[5]);
            snprintf(prev_cust, sizeof prev_cust, "%s", f[0]);
            prev_ts = ts;
        } else if (strcmp(f[0], prev_cust) != 0 || ts != prev_ts) {
            CHECK(t, 0, "order %s: lines disagree on customer or time", f[5]);
            bad++;
        }
        snprintf(keys[n].order, sizeof keys[n].order, "%s", f[5]);
        snprintf(keys[n].item, sizeof keys[n].item, "%s", f[1]);
        n++;
    }
    CHECK(t, n == lines, "events has %" PRIu64 " lines, lines_out %" PRIu64, n,
          lines);
    CHECK(t, norders == orders, "%" PRIu64 " orders, want %" PRIu32, norders,
          orders);
    CHECK(t, customers_seen == customers,
          "%" PRIu64 " customers ordered, want all %" PRIu32, customers_seen,
          customers);
    CHECK(t, lines >= 2 * (uint64_t)orders && lines <= 6 * (uint64_t)orders,
          "%" PRIu64 " lines for %" PRIu32 " orders: implausible", lines,
          orders);

    qsort(keys, n, sizeof *keys, cmp_event);
    for (uint64_t i = 1; i < n; i++)
        CHECK(t, cmp_event(&keys[i - 1], &keys[i]) != 0,
              "order %s has item %s twice", keys[i].order, keys[i].item);

    free(keys);
    free(last_ts);
    free(ids);
    free(cat);
    free(ev);
}

static void test_default_start(test_ctx *t)
{
    const char *d = temp_dir(t);
    if (!d || generate(t, d, 5, 2, 20, 1, 0, NULL))
        return;
    char *ev = slurp(d, "events.csv", NULL);
    CHECK(t, ev != NULL, "cannot read %s/events.csv", d);
    if (!ev)
        return;
    char *save = NULL;
    strtok_r(ev, "\n", &save);
    char *line;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        char *f[8];
        if (split(line, f, 8) != 6)
            continue;
        int64_t ts = strtoll(f[2], NULL, 10);
        CHECK(t, ts >= DEFAULT_START && ts < DEFAULT_START + YEAR_SECONDS,
              "start 0: timestamp %s not in 2025", f[2]);
    }
    free(ev);
}

static void expect_status(test_ctx *t, const xs_gen_params *p, const char *dir,
                          int want, const char *what)
{
    xs_error err;
    memset(&err, 0, sizeof err);
    int rc = xs_gen_write(p, dir, &err);
    CHECK(t, rc == want, "%s: status %d, want %d (%s)", what, rc, want, err.msg);
    if (rc != XS_OK)
        CHECK(t, err.msg[0] != '\0', "%s: no error message", what);
}

static void test_errors(test_ctx *t)
{
    const char *d = temp_dir(t);
    if (!d)
        return;
    xs_gen_params ok = {10, 10, 10, 1, 0, NULL, 0, 0, 0}, p;
    p = ok, p.items = 1;
    expect_status(t, &p, d, XS_ERR_USAGE, "items=1");
    p = ok, p.items = 10000001;
    expect_status(t, &p, d, XS_ERR_USAGE, "items=10000001");
    p = ok, p.customers = 0;
    expect_status(t, &p, d, XS_ERR_USAGE, "customers=0");
    p = ok, p.orders = 0;
    expect_status(t, &p, d, XS_ERR_USAGE, "orders=0");
    p = ok, p.start = -5;
    expect_status(t, &p, d, XS_ERR_USAGE, "start=-5");
    expect_status(t, NULL, d, XS_ERR_USAGE, "NULL params");

    /* a directory below a regular file cannot be created */
    char blocker[128], below[160];
    snprintf(blocker, sizeof blocker, "%s/blocker", d);
    FILE *f = fopen(blocker, "w");
    CHECK(t, f != NULL, "cannot create %s", blocker);
    if (f)
        fclose(f);
    snprintf(below, sizeof below, "%s/sub", blocker);
    expect_status(t, &ok, below, XS_ERR_IO, "dir below a file");

    /* the directory is created when missing, and reused when present */
    snprintf(below, sizeof below, "%s/sub", d);
    expect_status(t, &ok, below, XS_OK, "missing dir");
    expect_status(t, &ok, below, XS_OK, "existing dir");
}

int main(void)
{
    test_ctx t;
    memset(&t, 0, sizeof t);
    test_determinism(&t);
    test_shape(&t);
    test_default_start(&t);
    test_errors(&t);
    cleanup(&t);
    if (t.failures) {
        fprintf(stderr, "test_gen: %d check(s) failed\n", t.failures);
        return 1;
    }
    printf("test_gen: ok\n");
    return 0;
}
