/*
 * test_load_parallel.c -- the streamed, parallel loaders
 * (xs_dataset_load_{events,baskets}_opts; core/data/load.c).
 *
 * Owns: for every thread count in {1, 2, 4, 7} and block sizes from one
 * byte up (so block boundaries fall everywhere: inside quoted fields, in
 * the middle of a CRLF, of a BOM'd header, of "" escapes), a load gives
 * the very dataset of the one-thread, one-block load (the line-by-line
 * reader over the whole file): the same ids in first-appearance order, the
 * same events in file order, orders, duplicates and flags; and every bad
 * input fails with the same code and the same "file:line: reason" message,
 * the line of the first bad record in the file even when a later block
 * fails too.  Also: progress reports (monotonic, ending at 100% with the
 * file's line count), a stop from progress, and a stream (FIFO) read in
 * small blocks on several threads.
 */
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
#include "xsell/dataset.h"

static const int threads_list[] = {1, 2, 4, 7};
static const size_t blocks_list[] = {1, 2, 3, 7, 64, 0};
#define N_THREADS (sizeof threads_list / sizeof *threads_list)
#define N_BLOCKS (sizeof blocks_list / sizeof *blocks_list)

/* ---- helpers -------------------------------------------------------------- */

static xs_dataset *load(int events, const char *path, const xs_columns *cols,
                        int threads, size_t block, const xs_progress *pr,
                        xs_error *err)
{
    xs_load_options o = {.threads = threads, .block_size = block,
                         .progress = pr};
    return events ? xs_dataset_load_events_opts(path, cols, &o, err)
                  : xs_dataset_load_baskets_opts(path, &o, err);
}

/* 1 when both dictionaries hold the same names under the same ids. */
static int same_dict(const xs_dict *a, const xs_dict *b)
{
    if (!a || !b)
        return !a && !b;
    if (xs_dict_size(a) != xs_dict_size(b))
        return 0;
    for (uint32_t id = 0; id < xs_dict_size(a); id++) {
        uint32_t la, lb;
        const char *sa = xs_dict_key(a, id, &la), *sb = xs_dict_key(b, id, &lb);
        if (la != lb || memcmp(sa, sb, la) || xs_dict_find(b, sa, la) != id)
            return 0;
    }
    return 1;
}

/* Why a and b differ, or NULL when they are the same dataset. */
static const char *diff(const xs_dataset *a, const xs_dataset *b)
{
    if (a->n_events != b->n_events)
        return "event count";
    if (memcmp(a->events, b->events, a->n_events * sizeof *a->events))
        return "events";
    if (a->n_orders != b->n_orders || a->order_base != b->order_base)
        return "orders";
    if (a->duplicates != b->duplicates)
        return "duplicates";
    if (a->has_customer != b->has_customer ||
        a->has_timestamp != b->has_timestamp ||
        a->has_weight != b->has_weight || a->has_price != b->has_price)
        return "flags";
    if (!same_dict(a->items, b->items))
        return "items";
    if (!same_dict(a->customers, b->customers))
        return "customers";
    if (!same_dict(a->orders, b->orders))
        return "order names";
    return NULL;
}

/* Loads path at every thread count and block size; each must equal the
 * one-thread whole-file load, which is returned (NULL on failure). */
static xs_dataset *check_same(int at, int events, const char *path,
                              const xs_columns *cols, const size_t *blocks,
                              size_t n_blocks)
{
    xs_error err = {0};
    xs_dataset *ref = load(events, path, cols, 1, SIZE_MAX / 4, NULL, &err);
    if (!xt_record(ref != NULL, __FILE__, at, "reference load: %s", err.msg))
        return NULL;
    for (size_t t = 0; t < N_THREADS; t++)
        for (size_t k = 0; k < n_blocks; k++) {
            xs_dataset *ds = load(events, path, cols, threads_list[t],
                                  blocks[k], NULL, &err);
            if (!xt_record(ds != NULL, __FILE__, at, "T=%d block %zu: %s",
                           threads_list[t], blocks[k], err.msg))
                continue;
            const char *why = diff(ref, ds);
            xt_record(why == NULL, __FILE__, at, "T=%d block %zu: %s differ",
                      threads_list[t], blocks[k], why ? why : "");
            xs_dataset_free(ds);
        }
    return ref;
}

/* The file must fail alike at every thread count and block size: code,
 * "path:line: " and needle, and the very message of the one-thread load. */
static void check_fail(int at, int events, const char *content,
                       const xs_columns *cols, int code, long line,
                       const char *needle)
{
    char name[64];
    snprintf(name, sizeof name, "bad_%d.csv", at);
    const char *path = xt_write_str(name, content);
    if (!path)
        return;
    char prefix[4200];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "%s:%ld: ", path, line);
    else
        snprintf(prefix, sizeof prefix, "%s: ", path);
    xs_error ref = {0};
    xs_dataset *ds = load(events, path, cols, 1, 0, NULL, &ref);
    xt_record(ds == NULL, __FILE__, at, "one thread: fails");
    xs_dataset_free(ds);
    for (size_t t = 0; t < N_THREADS; t++)
        for (size_t k = 0; k < N_BLOCKS; k++) {
            xs_error err = {0};
            ds = load(events, path, cols, threads_list[t], blocks_list[k],
                      NULL, &err);
            int ok = ds == NULL && err.code == code &&
                     !strncmp(err.msg, prefix, strlen(prefix)) &&
                     (!needle || strstr(err.msg, needle)) &&
                     !strcmp(err.msg, ref.msg);
            xt_record(ok, __FILE__, at,
                      "T=%d block %zu: \"%s\" (code %d), want code %d, "
                      "\"%s...%s\" as \"%s\"", threads_list[t],
                      blocks_list[k], err.msg, err.code, code, prefix,
                      needle ? needle : "", ref.msg);
            xs_dataset_free(ds);
        }
}

/* ---- good input ----------------------------------------------------------- */

static void test_events_same(void)
{
    /* BOM, CRLF, blank lines, quoted commas, "" and line breaks (LF and
     * CRLF) inside quotes, spaces around fields */
    const char *text =
        "\xEF\xBB\xBF" "customer,item,timestamp,weight,price,order\r\n"
        "c1,i1,2020-01-01,2,9.99,o1\r\n"
        "\r\n"
        "\n"
        "\"Smith, J\",\"say \"\"hi\"\"\",1577836800,1.5,0,o2\n"
        "c2,\"two\nlines\",2020-01-01T12:34:56+02:00,1e1,10,\"o,3\"\n"
        "  c1 , i1 ,1,1,1, o1 \r\n"
        "c3,\"crlf\r\ninside\",2,3,4,o4\r\n"
        "\"\"\"q\"\"\",i2,5,0,0.5,o4\n"
        "c2,\"two\nlines\",6,1,1,o5";
    const char *path = xt_write_str("events_same.csv", text);
    if (!path)
        return;
    xs_dataset *ref = check_same(__LINE__, 1, path, NULL, blocks_list,
                                 N_BLOCKS);
    if (ref) { /* and it is what the file says */
        CHECK_EQ(ref->n_events, 7);
        CHECK_EQ(xs_dict_size(ref->customers), 5);
        CHECK_STR(xs_dict_name(ref->customers, 1), "Smith, J");
        CHECK_STR(xs_dict_name(ref->customers, 4), "\"q\"");
        CHECK_STR(xs_dict_name(ref->items, 1), "say \"hi\"");
        CHECK_STR(xs_dict_name(ref->items, 2), "two\nlines");
        CHECK_STR(xs_dict_name(ref->items, 3), "crlf\r\ninside");
        CHECK_EQ(ref->n_orders, 5);
        CHECK_STR(xs_dict_name(ref->orders, 2), "o,3");
        CHECK_EQ(ref->events[3].customer, 0);
        CHECK_EQ(ref->events[3].order, 0);
        CHECK_EQ(ref->events[6].item, 2);
        CHECK_EQ(ref->events[6].order, 4);
        CHECK(ref->has_timestamp && ref->has_weight && ref->has_price);
        xs_dataset_free(ref);
    }

    /* tab separated, no order column, mapped names */
    const char *tabs = "user\tthing\tr\n"
                       "u1\t\"a\tb\"\t4\n"
                       "u2\tx\t5\n"
                       "\n"
                       "u1\tx\t1\n";
    path = xt_write_str("events_tabs.csv", tabs);
    xs_columns cols = {0};
    xs_error err = {0};
    if (path && CHECK(xs_columns_parse(&cols, "customer=user,item=thing,"
                                       "weight=r", &err) == 0)) {
        ref = check_same(__LINE__, 1, path, &cols, blocks_list, N_BLOCKS);
        if (ref) {
            CHECK(ref->orders == NULL);
            CHECK_EQ(ref->n_orders, 0);
            CHECK_EQ(ref->events[0].order, XS_NONE);
            CHECK_STR(xs_dict_name(ref->items, 0), "a\tb");
            CHECK(!ref->has_timestamp && ref->has_weight && !ref->has_price);
        }
        xs_dataset_free(ref);
    }
    xs_columns_free(&cols);
}

static void test_baskets_same(void)
{
    const char *text = "\xEF\xBB\xBF" "a,b,a\r\n"
                       "\r\n"
                       "\"x,y\",\"q\"\"q\",b\n"
                       "\n\n"
                       "\"multi\r\nline\",a, b ,b\n"
                       "c";
    const char *path = xt_write_str("baskets_same.csv", text);
    if (!path)
        return;
    xs_dataset *ref = check_same(__LINE__, 0, path, NULL, blocks_list,
                                 N_BLOCKS);
    if (ref) {
        CHECK_EQ(ref->n_orders, 4);
        CHECK_EQ(ref->n_events, 9);
        CHECK_EQ(ref->duplicates, 2);
        CHECK_STR(xs_dict_name(ref->items, 2), "x,y");
        CHECK_STR(xs_dict_name(ref->items, 3), "q\"q");
        CHECK_STR(xs_dict_name(ref->items, 4), "multi\r\nline");
        CHECK_EQ(ref->events[ref->n_events - 1].order, 3);
        CHECK(ref->orders == NULL && !ref->has_customer);
        xs_dataset_free(ref);
    }
}

/* A few thousand lines: names repeat across blocks, some quoted with
 * commas, quotes and line breaks, blank lines and CRLF here and there. */
static void test_generated(void)
{
    size_t cap = 1 << 20, len = 0;
    char *text = malloc(cap);
    if (!CHECK(text != NULL))
        return;
    uint32_t x = 12345;
#define RND() (x = x * 1103515245u + 12345u, (x >> 8) % 1000)
    len += (size_t)snprintf(text + len, cap - len,
                            "order,customer,item,weight\n");
    for (int i = 0; i < 4000 && len + 200 < cap; i++) {
        unsigned c = RND() % 300, it = RND() % 150, kind = RND() % 10;
        const char *eol = kind == 0 ? "\r\n" : "\n";
        if (kind == 1)
            len += (size_t)snprintf(text + len, cap - len, "\n");
        if (kind == 2)
            len += (size_t)snprintf(text + len, cap - len,
                                    "o%d,\"c, %u\",\"it\"\"%u\nx\",%u%s",
                                    i / 3, c, it, c % 7, eol);
        else
            len += (size_t)snprintf(text + len, cap - len, "o%d,c%u,i%u,%u%s",
                                    i / 3, c, it, c % 7, eol);
    }
#undef RND
    const char *path = xt_write_file("generated.csv", text, len);
    /* the baskets loader refuses a header of column names: its copy
     * starts at the first record */
    const char *nl = memchr(text, '\n', len);
    const char *bpath = nl ? xt_write_file("generated_baskets.csv", nl + 1,
                                           len - (size_t)(nl + 1 - text))
                           : NULL;
    free(text);
    if (!path || !bpath)
        return;
    static const size_t blocks[] = {61, 1000, 4096, 0};
    xs_dataset *ds = check_same(__LINE__, 1, path, NULL, blocks,
                                sizeof blocks / sizeof *blocks);
    if (ds)
        CHECK(ds->n_events == 4000 && ds->n_orders == 1334);
    xs_dataset_free(ds);

    /* the same records as baskets: every line a basket */
    ds = check_same(__LINE__, 0, bpath, NULL, blocks,
                    sizeof blocks / sizeof *blocks);
    xs_dataset_free(ds);
}

/* ---- bad input ------------------------------------------------------------ */

/* lines 1..5: a header, a record over two lines, a blank line, a record */
#define EV_HEAD                                                           \
    "customer,item,timestamp,weight,price,order\r\n"                      \
    "c1,\"a\nb\",1,1,1,o1\n"                                              \
    "\n"                                                                  \
    "c2,i2,2,1,1,o2\r\n"
/* good lines, then a second error further on: the first must win */
#define EV_TAIL                                                           \
    "c9,i9,1,1,1,o9\nc9,i9,1,1,1,o9\nc9,i9,1,1,1,o9\nc9,i9,1,1,1,o9\n"     \
    ",x,1,1,1,o\n"

static void test_events_fail(void)
{
    check_fail(__LINE__, 1, EV_HEAD "c3,i3\n" EV_TAIL, NULL, XS_ERR_DATA, 6,
               "expected 6 fields");
    check_fail(__LINE__, 1, EV_HEAD ",i3,1,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "empty customer");
    check_fail(__LINE__, 1, EV_HEAD "c3,,1,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "empty item");
    check_fail(__LINE__, 1, EV_HEAD "c3,i3,yesterday,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "bad timestamp");
    check_fail(__LINE__, 1, EV_HEAD "c3,i3,1,-1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "bad weight");
    check_fail(__LINE__, 1, EV_HEAD "c3,i3,1,1,x,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "bad price");
    check_fail(__LINE__, 1, EV_HEAD "c3,i3,1,1,1,\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "empty order");
    check_fail(__LINE__, 1, EV_HEAD "c3,\"i3,1,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "unterminated");
    check_fail(__LINE__, 1, EV_HEAD "c3,i\"3,1,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "stray quote");
    check_fail(__LINE__, 1, EV_HEAD "c3,\"i3\"x,1,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "after a quoted field");
    check_fail(__LINE__, 1, EV_HEAD "c3,i3\r,1,1,1,o3\n" EV_TAIL, NULL,
               XS_ERR_DATA, 6, "carriage return");
    /* only the later error: its own line */
    check_fail(__LINE__, 1, EV_HEAD EV_TAIL, NULL, XS_ERR_DATA, 10,
               "empty customer");
    /* a malformed record whose quote pairs with one much later */
    check_fail(__LINE__, 1, EV_HEAD "c3,i\"3,1,1,1,o3\n" EV_TAIL "c,\"i\",1,1,"
               "1,o\n", NULL, XS_ERR_DATA, 6, "stray quote");
    /* the header */
    check_fail(__LINE__, 1, "\xEF\xBB\xBFuser,item\nu,i\n", NULL, XS_ERR_DATA,
               1, "missing required column 'customer'");
    check_fail(__LINE__, 1, "\n\r\ncustomer,\"it\nem\"\nc,i\n", NULL,
               XS_ERR_DATA, 3, "missing required column 'item'");
    check_fail(__LINE__, 1, "", NULL, XS_ERR_DATA, 0, "empty file");
    check_fail(__LINE__, 1, "\xEF\xBB\xBF\n\n", NULL, XS_ERR_DATA, 0,
               "empty file");
    check_fail(__LINE__, 1, "customer,item\r\n\r\n\n", NULL, XS_ERR_DATA, 0,
               "no events");
    check_fail(__LINE__, 1, "customer,\"item\n", NULL, XS_ERR_DATA, 1,
               "unterminated");
}

static void test_baskets_fail(void)
{
    check_fail(__LINE__, 0, "a,b\r\n\"x\ny\",z\n\nq,,r\nfine\n,\n", NULL,
               XS_ERR_DATA, 5, "field 2");
    check_fail(__LINE__, 0, "a\n\"\"\n", NULL, XS_ERR_DATA, 2, "field 1");
    check_fail(__LINE__, 0, "a,b\n\"c,d\n", NULL, XS_ERR_DATA, 2,
               "unterminated");
    check_fail(__LINE__, 0, "a,b\n\nc,d\"e\nf\n", NULL, XS_ERR_DATA, 3,
               "quote");
    check_fail(__LINE__, 0, "x\n\"a\"b,c\n", NULL, XS_ERR_DATA, 2, "quoted");
    check_fail(__LINE__, 0, "x\ny\na\rb\n", NULL, XS_ERR_DATA, 3,
               "carriage return");
    check_fail(__LINE__, 0, "\xEF\xBB\xBF\r\n\n", NULL, XS_ERR_DATA, 0,
               "empty");
    check_fail(__LINE__, 0, "", NULL, XS_ERR_DATA, 0, "empty");
}

/* ---- progress and streams ------------------------------------------------- */

typedef struct progress_log {
    int calls, stop_at, bad_order;
    uint64_t last_done, last_total, last_lines;
    int last_parsing;
} progress_log;

static int on_progress(void *arg, const xs_load_status *st)
{
    progress_log *p = arg;
    if (st->done < p->last_done || st->lines < p->last_lines)
        p->bad_order++;
    p->calls++;
    p->last_done = st->done;
    p->last_total = st->total;
    p->last_lines = st->lines;
    p->last_parsing = st->parsing;
    return p->stop_at && p->calls == p->stop_at;
}

static void test_progress(void)
{
    size_t cap = 64 * 1024, len = 0;
    char *text = malloc(cap);
    if (!CHECK(text != NULL))
        return;
    for (int i = 0; i < 2000; i++)
        len += (size_t)snprintf(text + len, cap - len, "i%d,i%d\n", i % 50,
                                (i + 1) % 50);
    const char *path = xt_write_file("progress.csv", text, len);
    if (!path) {
        free(text);
        return;
    }
    for (size_t t = 0; t < N_THREADS; t++) {
        progress_log p = {0};
        xs_progress pr = {on_progress, &p};
        xs_error err = {0};
        xs_dataset *ds = load(0, path, NULL, threads_list[t], 1024, &pr, &err);
        if (CHECK_MSG(ds != NULL, "%s", err.msg)) {
            CHECK(p.calls >= 10);
            CHECK_EQ(p.bad_order, 0);
            CHECK(p.last_parsing && p.last_done == len &&
                  p.last_total == len);
            CHECK_EQ(p.last_lines, 2000);
        }
        xs_dataset_free(ds);
        /* a stop at the third report */
        progress_log q = {.stop_at = 3};
        pr.arg = &q;
        ds = load(0, path, NULL, threads_list[t], 1024, &pr, &err);
        CHECK(ds == NULL && err.code == XS_ERR_IO);
        CHECK_HAS(err.msg, "load interrupted at line ");
        CHECK_EQ(q.calls, 3);
        xs_dataset_free(ds);
    }

    /* a FIFO: read in small blocks on several threads, reported as reading
     * until the end, then 100% */
    const char *fifo = xt_missing("progress.fifo");
    if (!fifo || !CHECK(mkfifo(fifo, 0600) == 0)) {
        free(text);
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        FILE *f = fopen(fifo, "w");
        int ok = f && fwrite(text, 1, len, f) == len;
        if (f && fclose(f) != 0)
            ok = 0;
        _exit(ok ? 0 : 1);
    }
    free(text);
    if (!CHECK(pid > 0))
        return;
    progress_log p = {0};
    xs_progress pr = {on_progress, &p};
    xs_error err = {0};
    xs_dataset *ds = load(0, fifo, NULL, 3, 700, &pr, &err);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0);
    xs_dataset *ref = load(0, path, NULL, 1, 0, NULL, &err);
    if (CHECK_MSG(ds != NULL && ref != NULL, "%s", err.msg)) {
        const char *why = diff(ref, ds);
        CHECK_MSG(why == NULL, "fifo: %s differ", why ? why : "");
        CHECK(p.last_parsing && p.last_done == len && p.last_total == len);
        CHECK_EQ(p.last_lines, 2000);
        CHECK_EQ(p.bad_order, 0);
    }
    xs_dataset_free(ds);
    xs_dataset_free(ref);
}

int main(void)
{
    test_events_same();
    test_baskets_same();
    test_generated();
    test_events_fail();
    test_baskets_fail();
    test_progress();
    return xt_done();
}
