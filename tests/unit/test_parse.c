/*
 * test_parse.c -- the strict number and time parsers of every data file
 * (xsell/parse.h): xs_parse_double and xs_parse_timestamp on the forms they
 * take (decimals, exponents; unix seconds, dates, date times with
 * fractions and offsets) and on the near misses they refuse.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test_util.h"
#include "xsell/parse.h"

static void test_parse_double(void)
{
    static const struct {
        const char *s;
        double v;
    } good[] = {
        {"0", 0.0},        {"1", 1.0},        {"-2", -2.0},
        {"+3", 3.0},       {"1.5", 1.5},      {".5", 0.5},
        {"5.", 5.0},       {"1e3", 1000.0},   {"2.5E-2", 0.025},
        {"-0", 0.0},       {"007", 7.0},      {"123456789.25", 123456789.25},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        double v = -12345.0;
        int rc = xs_parse_double(good[i].s, strlen(good[i].s), &v);
        CHECK_MSG(rc == 0 && v == good[i].v, "xs_parse_double(\"%s\") = %d, "
                  "%.17g; want 0, %.17g", good[i].s, rc, v, good[i].v);
    }
    static const char *const bad[] = {
        "",     "nan",  "NaN", "inf", "-inf", "Infinity", "12abc", "abc",
        " 1",   "1 ",   "\t1", "1,5", "0x10", "1e400",    "-1e400", "-",
        "+",    ".",    "e5",  "1e",  "1.2.3", "--1",     "1-",     "$5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double v = 42.0;
        int rc = xs_parse_double(bad[i], strlen(bad[i]), &v);
        CHECK_MSG(rc == -1, "xs_parse_double(\"%s\") refused (got %d, %g)",
                  bad[i], rc, v);
    }
    /* only s[0..len) is read: the rest of the buffer does not matter */
    double v = 0;
    CHECK(xs_parse_double("12345", 2, &v) == 0 && v == 12.0);
    CHECK(xs_parse_double("7xyz", 1, &v) == 0 && v == 7.0);
    CHECK(xs_parse_double("1.5e", 3, &v) == 0 && v == 1.5);
}

/* ---- xs_parse_timestamp --------------------------------------------------- */

static void test_parse_timestamp(void)
{
    /* Expected values computed independently (Python calendar.timegm). */
    static const struct {
        const char *s;
        int64_t v;
    } good[] = {
        {"0", 0},
        {"1577836800", 1577836800},
        {"-1", -1},
        {"1577836800.9", 1577836800},      /* fraction: floor */
        {"-0.5", -1},                      /* floor, not truncation */
        {"2020-01-01", 1577836800},        /* date only: midnight UTC */
        {"2020-01-01T00:00:00Z", 1577836800},
        {"2020-01-01T12:34:56", 1577882096},
        {"2020-01-01 12:34:56", 1577882096},
        {"2020-01-01T12:34:56Z", 1577882096},
        {"2020-01-01T12:34", 1577882040},  /* seconds optional */
        {"2020-01-01T12:34Z", 1577882040},
        {"2020-01-01T12:34:56.789Z", 1577882096}, /* fraction dropped */
        {"2020-01-01T12:34:56,5", 1577882096},
        {"2020-01-01T12:34:56+02:00", 1577874896},
        {"2020-01-01T12:34:56+0200", 1577874896},
        {"2020-01-01T12:34:56+02", 1577874896},
        {"2020-01-01T12:34:56-05:30", 1577901896},
        {"2020-01-01T12:34:56.250+02:00", 1577874896},
        {"2020-01-01T01:00:00+02:00", 1577833200}, /* previous UTC day */
        {"2020-02-29", 1582934400},        /* leap day */
        {"2000-02-29", 951782400},         /* 400-year leap day */
        {"1970-01-01T00:00:00Z", 0},
        {"1969-12-31T23:59:59Z", -1},
        {"1969-12-31T23:59:59.5Z", -1},
        {"2038-01-19T03:14:08Z", 2147483648LL}, /* past int32 */
        {"1900-03-01", -2203891200LL},
        {"1600-01-01", -11676096000LL},
        {"2024-12-31T23:59:59Z", 1735689599},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int64_t v = 123;
        int rc = xs_parse_timestamp(good[i].s, strlen(good[i].s), &v);
        CHECK_MSG(rc == 0 && v == good[i].v, "xs_parse_timestamp(\"%s\") = "
                  "%d, %lld; want 0, %lld", good[i].s, rc, (long long)v,
                  (long long)good[i].v);
    }
    static const char *const bad[] = {
        "",
        "-",
        "nan",
        "inf",
        "12abc",
        "abc",
        "1e9",                   /* not an integer or decimal */
        "1.2.3",
        " 1577836800",
        "1577836800 ",
        "2020-13-01",            /* month 13 */
        "2020-00-10",
        "2020-01-32",
        "2020-01-00",
        "2021-02-29",            /* not a leap year */
        "1900-02-29",            /* century, not leap */
        "2020-04-31",
        "2020-1-1",
        "20-01-01",
        "2020/01/01",
        "2020-01-01T",
        "2020-01-01 ",
        "2020-01-01X10:00",
        "2020-01-01T25:00",
        "2020-01-01T24:00:01",
        "2020-01-01T10:60",
        "2020-01-01T10:00:61",
        "2020-01-01T10",
        "2020-01-01T10:0",
        "2020-01-01T1:00",
        "2020-01-01T10:00:00.",
        "2020-01-01T10:00.5",
        "2020-01-01T10:00:00Zjunk",
        "2020-01-01T10:00:00ZZ",
        "2020-01-01T10:00:00+",
        "2020-01-01T10:00:00+2",
        "2020-01-01T10:00:00+02:",   /* colon without minutes */
        "2020-01-01T10:00:00+02:0",
        "2020-01-01T10:00:00+24:00",
        "2020-01-01T10:00:00+02:60",
        "2020-01-01T10:00:00+02:00:00",
        "2020-01-01T10:00:00 +02:00",
        "2020-01-01Z",
        "2020-01-01+02:00",
        "2020-01-01T10:00:00UTC",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t v = 123;
        int rc = xs_parse_timestamp(bad[i], strlen(bad[i]), &v);
        CHECK_MSG(rc == -1, "xs_parse_timestamp(\"%s\") refused (got %d, "
                  "%lld)", bad[i], rc, (long long)v);
    }
    /* s[0..len) only */
    int64_t v = 0;
    CHECK(xs_parse_timestamp("2020-01-01T12:34:56Z", 10, &v) == 0 &&
          v == 1577836800);
    CHECK(xs_parse_timestamp("1577836800xyz", 10, &v) == 0 &&
          v == 1577836800);
}

/* ---- xs_columns_parse ----------------------------------------------------- */

int main(void)
{
    test_parse_double();
    test_parse_timestamp();
    return xt_done();
}
