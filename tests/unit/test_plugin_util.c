/*
 * test_plugin_util.c -- the header-only helpers of xsell/plugin_util.h,
 * without an engine:
 *
 *   - values: numbers (whole string, finite, ranges), integers (digits
 *     only), the one boolean dialect, times (unix seconds; dates and date
 *     times against days counted by hand, leap years, bad days, hours);
 *   - option tables: every type read into its out, given flags, defaults
 *     left alone, the exact messages (unknown key listing the table's keys
 *     in order; "KEY: want WHAT, not 'VALUE'" for each type);
 *   - the best m: xs_best_offer over random streams against sorting them
 *     all (ties included), xs_best_sort, m = 0 and m > stream;
 *   - ids: comparators, lower bound, membership, row counts, sort-unique,
 *     xs_grow_zeroed.
 */
#include <stdlib.h>
#include <string.h>

#include "xsell/plugin_util.h"

#include "test_util.h"

/* A host API with just what the option parser uses: the measure names. */
static const char *const measures[] = {"count", "confidence", "lift",
                                       "jaccard", "cosine", "llr"};

static int t_measure_parse(const char *name)
{
    for (int i = 0; i < 6; i++)
        if (!strcmp(name, measures[i]))
            return i;
    return -1;
}

static const char *t_measure_name(int m)
{
    return m >= 0 && m < 6 ? measures[m] : NULL;
}

static void test_values(void)
{
    double d;
    CHECK(xs_opt_number("0.5", 0, 1, &d) == 0 && d == 0.5);
    CHECK(xs_opt_number("1e3", 0, 1e6, &d) == 0 && d == 1000);
    static const char *const bad_num[] = {"", "x", "0.5x", " 1", "nan",
                                          "inf", "-inf", "2"};
    for (size_t i = 0; i < sizeof bad_num / sizeof *bad_num; i++)
        CHECK_MSG(xs_opt_number(bad_num[i], 0, 1, &d) == -1, "number '%s'",
                  bad_num[i]);
    CHECK(xs_opt_integer("4294967295", 0, 4294967295.0, &d) == 0 &&
          d == 4294967295.0);
    static const char *const bad_int[] = {"", "-1", "+1", "1.0", "1e3",
                                          "4294967296", "12345678901234567"};
    for (size_t i = 0; i < sizeof bad_int / sizeof *bad_int; i++)
        CHECK_MSG(xs_opt_integer(bad_int[i], 0, 4294967295.0, &d) == -1,
                  "integer '%s'", bad_int[i]);

    static const char *const yes[] = {"true", "TRUE", "Yes", "on", "1"};
    static const char *const no[] = {"false", "False", "NO", "off", "0"};
    static const char *const neither[] = {"", "maybe", "2", "truee",
                                          "y", "n", "enabled"};
    int b;
    for (size_t i = 0; i < 5; i++) {
        CHECK_MSG(xs_opt_bool(yes[i], &b) == 0 && b == 1, "bool %s", yes[i]);
        CHECK_MSG(xs_opt_bool(no[i], &b) == 0 && b == 0, "bool %s", no[i]);
    }
    for (size_t i = 0; i < sizeof neither / sizeof *neither; i++)
        CHECK_MSG(xs_opt_bool(neither[i], &b) == -1, "bool '%s'", neither[i]);

    /* times: days counted by hand from 1970-01-01 */
    static const struct {
        const char *s;
        int64_t t;
    } good[] = {
        {"0", 0},
        {"1700000000", 1700000000},
        {"-86400", -86400},
        {"1970-01-01", 0},
        {"1970-03-01", 59 * 86400LL},
        {"2000-02-29", 11016 * 86400LL},       /* 2000 is a leap year */
        {"2024-04-30", 19843 * 86400LL},
        {"2024-04-30T12:30", 19843 * 86400LL + 45000},
        {"2024-04-30 12:30:15", 19843 * 86400LL + 45015},
        {"1969-12-31", -86400},
        {"0001-01-01", -62135596800LL},
        {"9999-12-31", 253402214400LL},
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        int64_t t = 42;
        CHECK_MSG(xs_opt_time(good[i].s, &t) == 0 && t == good[i].t,
                  "time %s: %lld, want %lld", good[i].s, (long long)t,
                  (long long)good[i].t);
    }
    static const char *const bad_time[] = {
        "",           "yesterday",        "1.5",        "2024-1-01",
        "2024-02-30", "1900-02-29",       "2023-02-29", "2024-13-01",
        "0000-01-01", "2024-04-30T24:00", "2024-04-30T12:60",
        "2024-04-30T12", "2024-04-30X12:30", "1e9",     "1234567890123"};
    for (size_t i = 0; i < sizeof bad_time / sizeof *bad_time; i++) {
        int64_t t = 42;
        CHECK_MSG(xs_opt_time(bad_time[i], &t) == -1 && t == 42,
                  "time '%s' accepted", bad_time[i]);
    }
}

/* Parses "k=v" strings against the test table; the message in err. */
static int parse(const char *const *kv, size_t n, char *err, size_t errlen,
                 double *num, uint32_t *integer, double *days, int *flag,
                 int64_t *t, int *t_given, int *choice, int *measure,
                 int *scope)
{
    static const char *const choices[] = {"one", "event", "all", NULL};
    const xs_host_api api = {.abi = XS_PLUGIN_ABI,
                             .size = sizeof api,
                             .measure_parse = t_measure_parse,
                             .measure_name = t_measure_name};
    const xs_opt_spec spec[] = {
        {.key = "num", .type = XS_OPT_NUMBER, .out = num, .lo = 0, .hi = 1},
        {.key = "int", .type = XS_OPT_INTEGER, .out = integer, .lo = 1,
         .hi = 100},
        {.key = "days", .type = XS_OPT_DAYS, .out = days, .lo = 0,
         .hi = INFINITY, .lo_open = 1},
        {.key = "flag", .type = XS_OPT_BOOL, .out = flag},
        {.key = "t", .type = XS_OPT_TIME, .out = t, .given = t_given},
        {.key = "choice", .type = XS_OPT_CHOICE, .out = choice,
         .choices = choices},
        {.key = "measure", .type = XS_OPT_MEASURE, .out = measure},
        {.key = "scope", .type = XS_OPT_SCOPE, .out = scope},
    };
    xs_option opts[16];
    char keys[16][32];
    for (size_t i = 0; i < n; i++) {
        size_t k = strcspn(kv[i], "=");
        snprintf(keys[i], sizeof keys[i], "%.*s", (int)k, kv[i]);
        opts[i] = (xs_option){keys[i], kv[i][k] ? kv[i] + k + 1 : ""};
    }
    return xs_opts_parse(&api, spec, sizeof spec / sizeof *spec, opts, n,
                         err, errlen);
}

static void test_options(void)
{
    double num = -1, days = -1;
    uint32_t integer = 0;
    int flag = -1, t_given = 0, choice = -1, measure = -1, scope = 7;
    int64_t t = -1;
    char err[256] = "";
    static const char *const all[] = {
        "num=0.25",     "int=100",    "days=0.5",       "flag=yes",
        "t=2024-04-30", "choice=all", "measure=cosine", "scope=customer"};
    CHECK_MSG(parse(all, 8, err, sizeof err, &num, &integer, &days, &flag, &t,
                    &t_given, &choice, &measure, &scope) == 0,
              "good options: %s", err);
    CHECK(num == 0.25 && integer == 100 && days == 0.5 && flag == 1 &&
          t == 19843 * 86400LL && t_given == 1 && choice == 2 &&
          measure == 4 && scope == XS_SCOPE_CUSTOMER);
    /* nothing given: outs untouched */
    num = -1;
    t_given = 0;
    CHECK(parse(NULL, 0, err, sizeof err, &num, &integer, &days, &flag, &t,
                &t_given, &choice, &measure, &scope) == 0);
    CHECK(num == -1 && t_given == 0);
    static const char *const auto_scope[] = {"scope=auto"};
    CHECK(parse(auto_scope, 1, err, sizeof err, &num, &integer, &days, &flag,
                &t, &t_given, &choice, &measure, &scope) == 0 &&
          scope == -1);
    static const struct {
        const char *kv, *msg;
    } bad[] = {
        {"colour=red", "unknown option 'colour' (num, int, days, flag, t, "
                       "choice, measure, scope)"},
        {"num=2", "num: want a number in [0, 1], not '2'"},
        {"int=0", "int: want an integer in 1..100, not '0'"},
        {"int=1.5", "int: want an integer in 1..100, not '1.5'"},
        {"days=0", "days: want a number of days > 0, not '0'"},
        {"flag=maybe", "flag: want true or false, not 'maybe'"},
        {"t=soon", "t: want unix seconds or YYYY-MM-DD, not 'soon'"},
        {"choice=some", "choice: want one, event or all, not 'some'"},
        {"measure=magic", "measure: want count, confidence, lift, jaccard, "
                          "cosine or llr, not 'magic'"},
        {"scope=store", "scope: want auto, basket or customer, not 'store'"},
        {"num=", "num: want a number in [0, 1], not ''"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        num = -1;
        CHECK_MSG(parse(&bad[i].kv, 1, err, sizeof err, &num, &integer, &days,
                        &flag, &t, &t_given, &choice, &measure, &scope) == -1 &&
                      !strcmp(err, bad[i].msg),
                  "%s: '%s', want '%s'", bad[i].kv, err, bad[i].msg);
    }
    CHECK(num == -1); /* a refused value is not stored */
    /* a short buffer: cut, terminated */
    char tiny[12];
    static const char *const unknown[] = {"colour=red"};
    CHECK(parse(unknown, 1, tiny, sizeof tiny, &num, &integer, &days, &flag,
                &t, &t_given, &choice, &measure, &scope) == -1 &&
          strlen(tiny) == sizeof tiny - 1);
}

static int by_score_desc(const void *x, const void *y)
{
    return xs_cmp_cand_best(x, y);
}

static void test_best(void)
{
    uint64_t rs = 12345;
    for (int round = 0; round < 200; round++) {
        uint32_t n = (uint32_t)(round * 7 % 300), m = (uint32_t)(round % 23);
        xs_cand *all = malloc((n + 1) * sizeof *all);
        xs_cand *h = malloc((m + 1) * sizeof *h);
        if (!CHECK(all && h))
            return;
        uint32_t kept = 0;
        for (uint32_t i = 0; i < n; i++) {
            rs = rs * 6364136223846793005ULL + 1442695040888963407ULL;
            /* few distinct scores: plenty of ties, broken by id */
            all[i] = (xs_cand){.item = (uint32_t)(rs >> 20) % 1000,
                                .score = (double)(rs >> 60)};
            xs_best_offer(h, &kept, m, all[i]);
        }
        CHECK_EQU(kept, n < m ? n : m);
        qsort(all, n, sizeof *all, by_score_desc);
        xs_best_sort(h, kept);
        for (uint32_t i = 0; i < kept; i++)
            CHECK_MSG(h[i].score == all[i].score && h[i].item == all[i].item,
                      "round %d: rank %u: (%g, %u), want (%g, %u)", round, i,
                      h[i].score, h[i].item, all[i].score, all[i].item);
        free(all);
        free(h);
    }
    xs_cand none[1];
    uint32_t kept = 0;
    CHECK(xs_best_offer(none, &kept, 0, (xs_cand){.item = 1, .score = 1}) ==
              0 &&
          kept == 0);
}

static void test_ids(void)
{
    uint32_t a[] = {9, 3, 3, 7, 1, 9, 0};
    CHECK_EQU(xs_sort_unique(a, 7), 5);
    CHECK(a[0] == 0 && a[1] == 1 && a[2] == 3 && a[3] == 7 && a[4] == 9);
    CHECK_EQU(xs_lower_bound(a, 5, 0), 0);
    CHECK_EQU(xs_lower_bound(a, 5, 4), 3);
    CHECK_EQU(xs_lower_bound(a, 5, 10), 5);
    CHECK(xs_sorted_has(a, 5, 7) && !xs_sorted_has(a, 5, 8) &&
          !xs_sorted_has(a, 0, 7));
    const uint32_t nbr[] = {2, 5, 8}, cnt[] = {4, 1, 6};
    const xs_row row = {0, 10, 3, nbr, cnt};
    CHECK(xs_row_count(&row, 5) == 1 && xs_row_count(&row, 8) == 6 &&
          xs_row_count(&row, 3) == 0 && xs_row_count(&row, 9) == 0);
    xs_cand c[] = {{.item = 5, .score = 1},
                   {.item = 2, .score = 3},
                   {.item = 1, .score = 3}};
    qsort(c, 3, sizeof *c, xs_cmp_cand_id);
    CHECK(c[0].item == 1 && c[1].item == 2 && c[2].item == 5);
    qsort(c, 3, sizeof *c, xs_cmp_cand_best);
    CHECK(c[0].item == 1 && c[1].item == 2 && c[2].item == 5);
    int *g = xs_grow_zeroed(NULL, 0, 3, sizeof *g);
    if (CHECK(g != NULL)) {
        CHECK(g[0] == 0 && g[1] == 0 && g[2] == 0);
        g[0] = 7;
        int *h = xs_grow_zeroed(g, 3, 6, sizeof *h);
        if (CHECK(h != NULL)) {
            CHECK(h[0] == 7 && h[3] == 0 && h[5] == 0);
            g = h;
        }
        free(g);
    }
}

int main(void)
{
    test_values();
    test_options();
    test_best();
    test_ids();
    return xt_done();
}
