/*
 * test_json.c -- the writers of client strings (xsell/json.h): JSON strings
 * escaped per RFC 8259 and safe inside <script> (no "</script", "<!--", no
 * raw < > &), control bytes, DEL, U+2028/U+2029, well-formed UTF-8 passed
 * through, every ill-formed byte as U+FFFD, the buffer and stream writers
 * agreeing, the worst-case bound; CSV fields quoted per RFC 4180 and
 * otherwise as given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "xsell/json.h"

/* s (n bytes) through xs_json_escape and xs_json_bytes; both must agree
 * with want and stay within the bound. */
static void json_is(const char *s, size_t n, const char *want)
{
    char *buf = malloc(XS_JSON_ESCAPED_MAX(n) + 1);
    if (!CHECK(buf != NULL))
        return;
    size_t len = xs_json_escape(buf, s, n);
    CHECK(len <= XS_JSON_ESCAPED_MAX(n));
    buf[len] = 0;
    CHECK_MSG(strcmp(buf, want) == 0, "escape: got %s, want %s", buf, want);
    char *mem = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&mem, &mlen);
    if (CHECK(f != NULL)) {
        xs_json_bytes(f, s, n);
        fclose(f);
        CHECK_MSG(mlen == len && memcmp(mem, buf, len) == 0,
                  "bytes: got %s, want %s", mem, want);
    }
    free(mem);
    free(buf);
}

#define JSON_IS(lit, want) json_is(lit, sizeof lit - 1, want)

static void test_json(void)
{
    JSON_IS("", "\"\"");
    JSON_IS("P0001", "\"P0001\"");
    JSON_IS("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
    JSON_IS("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
    JSON_IS("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    JSON_IS("a\0b", "\"a\\u0000b\"");
    JSON_IS("<script>alert(1)</script>",
            "\"\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\"");
    JSON_IS("<!-- &amp;", "\"\\u003c!-- \\u0026amp;\"");
    /* well-formed UTF-8: 2, 3 and 4 bytes, the edges */
    JSON_IS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
            "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    JSON_IS("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
            "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
            "\"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80"
            "\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
    JSON_IS("\xe2\x80\xa8|\xe2\x80\xa9|\xe2\x80\xa7",
            "\"\\u2028|\\u2029|\xe2\x80\xa7\"");
    /* ill-formed: each byte U+FFFD, what follows kept */
    JSON_IS("a\x80z", "\"a\\ufffdz\"");
    JSON_IS("\xc0\xaf", "\"\\ufffd\\ufffd\"");             /* overlong / */
    JSON_IS("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");  /* overlong */
    JSON_IS("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");  /* surrogate */
    JSON_IS("\xf4\x90\x80\x80",
            "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");            /* > U+10FFFF */
    JSON_IS("\xf5\xff", "\"\\ufffd\\ufffd\"");
    JSON_IS("x\xe2\x82", "\"x\\ufffd\\ufffd\"");            /* cut short */
    JSON_IS("\xc3<", "\"\\ufffd\\u003c\"");
    /* the worst case: every byte six */
    JSON_IS("<<<", "\"\\u003c\\u003c\\u003c\"");

    /* long strings through the stream writer's flushes, a 3-byte
     * character across each possible buffer boundary */
    for (size_t pad = 0; pad < 8; pad++) {
        size_t n = 2000 + pad;
        char *s = malloc(n), *want = malloc(n + 3);
        if (!CHECK(s && want)) {
            free(s);
            free(want);
            return;
        }
        for (size_t i = 0; i < n; i++)
            s[i] = 'a' + (char)(i % 26);
        for (size_t i = pad; i + 3 <= n; i += 7)
            memcpy(s + i, "\xe2\x82\xac", 3);
        want[0] = '"';
        memcpy(want + 1, s, n);
        memcpy(want + n + 1, "\"", 2);
        json_is(s, n, want);
        free(s);
        free(want);
    }
    char *mem = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&mem, &mlen);
    if (CHECK(f != NULL)) {
        xs_json_string(f, "</script><script>");
        fclose(f);
        CHECK(strstr(mem, "<") == NULL && strstr(mem, ">") == NULL);
    }
    free(mem);
}

static void csv_is(const char *s, const char *want)
{
    size_t n = strlen(s);
    char buf[256];
    size_t len = xs_csv_escape(buf, s, n);
    CHECK(len <= XS_CSV_ESCAPED_MAX(n));
    buf[len] = 0;
    CHECK_MSG(strcmp(buf, want) == 0, "csv: got [%s], want [%s]", buf, want);
    char *mem = NULL;
    size_t mlen = 0;
    FILE *f = open_memstream(&mem, &mlen);
    if (CHECK(f != NULL)) {
        xs_csv_field(f, s);
        fclose(f);
        CHECK_MSG(mlen == len && memcmp(mem, buf, len) == 0,
                  "csv_field: got [%s], want [%s]", mem, want);
    }
    free(mem);
}

static void test_csv(void)
{
    csv_is("", "");
    csv_is("P0001", "P0001");
    csv_is("<script>alert(1)</script>", "<script>alert(1)</script>");
    csv_is("a,b", "\"a,b\"");
    csv_is("say \"hi\"", "\"say \"\"hi\"\"\"");
    csv_is("two\nlines", "\"two\nlines\"");
    csv_is("cr\r", "\"cr\r\"");
    csv_is("\"", "\"\"\"\"");
    /* no formula neutralising: the field as given (json.h) */
    csv_is("=1+1", "=1+1");
    csv_is("-3", "-3");
}

int main(void)
{
    test_json();
    test_csv();
    return xt_done();
}
