/*
 * bench_dict.c -- the dictionary's string hash: uthash's default (Jenkins)
 * against util/hash.h's word-at-a-time multiply-mix, in the same run.
 *
 *   bench_dict EVENTS.csv [--runs N] [--lines N]
 *
 * Reads the customer and item columns of an events file (the first two
 * fields of each line after the header) and, per run and per variant,
 * interns every reference in file order (as the loader does) and then looks
 * every reference up again (as a request does).  Variants "jen" and "xs"
 * are the same table as core/util/dict.c (entry blocks, uthash keyed by
 * pointer) compiled twice with a different HASH_FUNCTION; "dict" is the
 * library's xs_dict itself, which should match "xs".  Variants interleave
 * within each run so they see the same machine noise.  Prints one JSON line
 * per run and variant, then the medians and the jen/xs ratios.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/hash.h"
#include "xsell/dict.h"
#include "xsell/plugin.h"

/* HASH_FUNCTION expands at each use: BENCH_HASH is redefined per variant. */
#define HASH_FUNCTION(k, l, h) BENCH_HASH(k, l, h)
#include "util/xs_uthash.h"

typedef struct {
    const char *s;
    uint32_t len;
} ref;

typedef struct entry {
    const char *key;
    uint32_t len, id;
    UT_hash_handle hh;
} entry;

typedef struct {
    entry *head, *e;
    uint32_t n, cap;
    char *arena; /* keys copied as [u32 length][bytes][NUL], as dict.c does */
    size_t used;
} table;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Entries live in one array sized for every reference so they never move;
 * keys are copied into one arena laid out as dict.c's. */
#define VARIANT(NAME)                                                         \
    static uint32_t intern_##NAME(table *t, const char *s, uint32_t len)      \
    {                                                                         \
        entry *e = NULL;                                                      \
        HASH_FIND(hh, t->head, s, len, e);                                    \
        if (e)                                                                \
            return e->id;                                                     \
        e = &t->e[t->n];                                                      \
        char *k = t->arena + t->used;                                         \
        memcpy(k, &len, sizeof len);                                          \
        memcpy(k + sizeof len, s, len);                                       \
        k[sizeof len + len] = '\0';                                           \
        t->used += sizeof len + len + 1;                                      \
        e->key = k + sizeof len;                                              \
        e->len = len;                                                         \
        e->id = t->n++;                                                       \
        int hash_oom = 0;                                                     \
        HASH_ADD_KEYPTR(hh, t->head, e->key, e->len, e);                      \
        return hash_oom ? XS_NONE : e->id;                                    \
    }                                                                         \
    static uint32_t find_##NAME(const table *t, const char *s, uint32_t len)  \
    {                                                                         \
        entry *e = NULL;                                                      \
        HASH_FIND(hh, t->head, s, len, e);                                    \
        return e ? e->id : XS_NONE;                                           \
    }

#define BENCH_HASH(k, l, h) HASH_JEN(k, l, h)
VARIANT(jen)
#undef BENCH_HASH
#define BENCH_HASH(k, l, h) XS_HASH_FUNCTION(k, l, h)
VARIANT(xs)
#undef BENCH_HASH

typedef struct {
    double intern_ns, find_ns;
    uint64_t check;
    unsigned buckets, nonideal; /* uthash's table after interning */
} result;

#define RUN_TABLE(NAME)                                                       \
    static result run_##NAME(const ref *r, size_t n)                          \
    {                                                                         \
        result out = {0, 0, 0, 0, 0};                                         \
        size_t bytes = 1;                                                     \
        for (size_t i = 0; i < n; i++)                                        \
            bytes += r[i].len + 5;                                            \
        table t = {NULL, calloc(n ? n : 1, sizeof(entry)), 0, 0,              \
                   malloc(bytes), 0};                                         \
        if (!t.e || !t.arena) {                                               \
            free(t.e);                                                        \
            free(t.arena);                                                    \
            return out;                                                       \
        }                                                                     \
        double t0 = now();                                                    \
        for (size_t i = 0; i < n; i++)                                        \
            out.check += intern_##NAME(&t, r[i].s, r[i].len);                 \
        double t1 = now();                                                    \
        for (size_t i = 0; i < n; i++)                                        \
            out.check += find_##NAME(&t, r[i].s, r[i].len);                   \
        double t2 = now();                                                    \
        out.intern_ns = (t1 - t0) * 1e9 / (double)n;                          \
        out.find_ns = (t2 - t1) * 1e9 / (double)n;                            \
        if (t.head) {                                                         \
            out.buckets = t.head->hh.tbl->num_buckets;                        \
            out.nonideal = t.head->hh.tbl->nonideal_items;                    \
        }                                                                     \
        HASH_CLEAR(hh, t.head);                                               \
        free(t.e);                                                            \
        free(t.arena);                                                        \
        return out;                                                           \
    }
RUN_TABLE(jen)
RUN_TABLE(xs)

static result run_dict(const ref *r, size_t n)
{
    result out = {0, 0, 0, 0, 0};
    xs_dict *d = xs_dict_new();
    if (!d)
        return out;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        uint32_t id = XS_NONE;
        xs_dict_intern(d, r[i].s, r[i].len, &id);
        out.check += id;
    }
    double t1 = now();
    for (size_t i = 0; i < n; i++)
        out.check += xs_dict_find(d, r[i].s, r[i].len);
    double t2 = now();
    out.intern_ns = (t1 - t0) * 1e9 / (double)n;
    out.find_ns = (t2 - t1) * 1e9 / (double)n;
    xs_dict_free(d);
    return out;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Customer names and item names go to one reference list each, interleaved
 * as the file has them (two dictionaries would halve each table; one keeps
 * the bench simple and the table at the size of both). */
static ref *read_refs(const char *path, size_t max_lines, char **buf_out,
                      size_t *n_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[size] = '\0';
    size_t cap = 1 << 20, n = 0, lines = 0;
    ref *r = malloc(cap * sizeof *r);
    char *p = strchr(buf, '\n'); /* skip the header */
    p = p ? p + 1 : buf + size;
    while (r && p < buf + size && lines < max_lines) {
        char *eol = memchr(p, '\n', (size_t)(buf + size - p));
        if (!eol)
            eol = buf + size;
        char *c1 = memchr(p, ',', (size_t)(eol - p));
        char *c2 = c1 ? memchr(c1 + 1, ',', (size_t)(eol - c1 - 1)) : NULL;
        if (c1 && c2) {
            if (n + 2 > cap) {
                ref *g = realloc(r, (cap *= 2) * sizeof *r);
                if (!g) {
                    free(r);
                    r = NULL;
                    break;
                }
                r = g;
            }
            r[n++] = (ref){p, (uint32_t)(c1 - p)};
            r[n++] = (ref){c1 + 1, (uint32_t)(c2 - c1 - 1)};
        }
        lines++;
        p = eol + 1;
    }
    *buf_out = buf;
    *n_out = n;
    return r;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_dict EVENTS.csv [--runs N] "
                        "[--lines N]\n");
        return 2;
    }
    int runs = 5;
    size_t max_lines = SIZE_MAX;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--runs"))
            runs = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--lines"))
            max_lines = (size_t)strtoull(argv[i + 1], NULL, 10);
    }
    if (runs < 1 || runs > 99)
        runs = 5;
    char *buf = NULL;
    size_t n = 0;
    ref *r = read_refs(argv[1], max_lines, &buf, &n);
    if (!r || n == 0) {
        fprintf(stderr, "bench_dict: cannot read %s\n", argv[1]);
        return 1;
    }
    static const char *names[3] = {"jen", "xs", "dict"};
    double in[3][99], fi[3][99], hs[2][99];
    uint64_t check[3] = {0, 0, 0};
    for (int k = 0; k < runs; k++) {
        for (int j = 0; j < 3; j++) { /* order alternates run by run */
            int v = k % 2 ? 2 - j : j;
            result res = v == 0 ? run_jen(r, n)
                         : v == 1 ? run_xs(r, n)
                                  : run_dict(r, n);
            in[v][k] = res.intern_ns;
            fi[v][k] = res.find_ns;
            check[v] = res.check;
            printf("{\"run\":%d,\"variant\":\"%s\",\"refs\":%zu,"
                   "\"intern_ns\":%.2f,\"find_ns\":%.2f,\"buckets\":%u,"
                   "\"nonideal\":%u}\n",
                   k + 1, names[v], n, res.intern_ns, res.find_ns,
                   res.buckets, res.nonideal);
        }
        for (int v = 0; v < 2; v++) { /* the hash alone */
            uint32_t acc = 0;
            double t0 = now();
            for (size_t i = 0; i < n; i++) {
                unsigned h = 0;
                if (v == 0)
                    HASH_JEN(r[i].s, r[i].len, h);
                else
                    XS_HASH_FUNCTION(r[i].s, r[i].len, h);
                acc += h;
            }
            hs[v][k] = (now() - t0) * 1e9 / (double)n;
            printf("{\"run\":%d,\"variant\":\"%s\",\"hash_ns\":%.2f,"
                   "\"sum\":%u}\n",
                   k + 1, names[v], hs[v][k], acc);
        }
    }
    if (check[0] != check[1] || check[1] != check[2]) {
        fprintf(stderr, "bench_dict: variants disagree on ids\n");
        return 1;
    }
    double mi[3], mf[3], mh[2];
    for (int v = 0; v < 3; v++) {
        mi[v] = median(in[v], runs);
        mf[v] = median(fi[v], runs);
    }
    for (int v = 0; v < 2; v++)
        mh[v] = median(hs[v], runs);
    printf("# %zu references, median of %d runs, ns per operation\n", n,
           runs);
    printf("# variant  hash   intern  lookup\n");
    printf("# jen    %6.2f %7.2f %7.2f\n", mh[0], mi[0], mf[0]);
    printf("# xs     %6.2f %7.2f %7.2f\n", mh[1], mi[1], mf[1]);
    printf("# dict   %6s %7.2f %7.2f\n", "-", mi[2], mf[2]);
    printf("# jen/xs %6.2f %7.2f %7.2f\n", mh[0] / mh[1], mi[0] / mi[1],
           mf[0] / mf[1]);
    free(r);
    free(buf);
    return 0;
}
