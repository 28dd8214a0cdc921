/*
 * test_dict.c -- tests for the string interning dictionary (xsell/dict.h).
 *
 * Owns: ids are dense and handed out in first-seen order; the same bytes
 * always give the same id; lookups of absent strings (including prefixes,
 * extensions and case variants of present ones) give XS_NONE; keys are
 * byte strings of the given length (commas, quotes, UTF-8, an embedded NUL,
 * the empty string, a string longer than an arena chunk); names round trip
 * and the pointers returned stay valid and unchanged while the dictionary
 * grows to 100,000 entries; out-of-range ids have no name; dictionaries are
 * independent of each other.  The table's hash (util/hash.h): keys of every
 * length 0..64, all-NUL keys and keys differing in one byte at any position
 * get distinct ids and are all found with their stored length; two keys
 * with the same 32-bit hash (found by search) stay apart; the low bits
 * uthash buckets by are spread evenly.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "util/hash.h"
#include "xsell/dict.h"
#include "xsell/plugin.h"

#define N_BIG 100000

static uint32_t intern_s(xs_dict *d, const char *s)
{
    uint32_t id = XS_NONE;
    if (xs_dict_intern(d, s, strlen(s), &id) != 0)
        return XS_NONE;
    return id;
}

static uint32_t find_s(const xs_dict *d, const char *s)
{
    return xs_dict_find(d, s, strlen(s));
}

/* Key number i of the big test: varied lengths so the arena packing is
 * exercised, all distinct. */
static int big_key(char *buf, size_t len, uint32_t i)
{
    static const char pad[] = "-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
    return snprintf(buf, len, "sku%u%.*s", i, (int)(i * 7 % 40), pad);
}

static void test_empty(void)
{
    xs_dict *d = xs_dict_new();
    if (!CHECK(d != NULL))
        return;
    CHECK_EQ(xs_dict_size(d), 0);
    CHECK(xs_dict_name(d, 0) == NULL);
    CHECK(xs_dict_name(d, XS_NONE) == NULL);
    CHECK_EQU(find_s(d, "a"), XS_NONE);
    CHECK_EQU(xs_dict_find(d, "", 0), XS_NONE);
    xs_dict_free(d);
    xs_dict_free(NULL); /* must be a no-op */
}

static void test_basic(void)
{
    xs_dict *d = xs_dict_new();
    if (!CHECK(d != NULL))
        return;
    /* first-seen order, dense */
    CHECK_EQU(intern_s(d, "milk"), 0);
    CHECK_EQU(intern_s(d, "bread"), 1);
    CHECK_EQU(intern_s(d, "milk"), 0); /* same string, same id */
    CHECK_EQU(intern_s(d, "eggs"), 2);
    CHECK_EQU(intern_s(d, "bread"), 1);
    CHECK_EQ(xs_dict_size(d), 3);

    CHECK_EQU(find_s(d, "milk"), 0);
    CHECK_EQU(find_s(d, "bread"), 1);
    CHECK_EQU(find_s(d, "eggs"), 2);
    /* absent: other strings, prefixes, extensions, case, whitespace */
    CHECK_EQU(find_s(d, "butter"), XS_NONE);
    CHECK_EQU(find_s(d, "mil"), XS_NONE);
    CHECK_EQU(find_s(d, "milks"), XS_NONE);
    CHECK_EQU(find_s(d, "Milk"), XS_NONE);
    CHECK_EQU(find_s(d, " milk"), XS_NONE);
    CHECK_EQU(find_s(d, ""), XS_NONE);
    /* find did not intern */
    CHECK_EQ(xs_dict_size(d), 3);

    /* the key is s[0..len), not up to a NUL */
    CHECK_EQU(xs_dict_find(d, "milkshake", 4), 0);
    uint32_t id = XS_NONE;
    CHECK_EQ(xs_dict_intern(d, "breadcrumbs", 5, &id), 0);
    CHECK_EQU(id, 1);
    CHECK_EQ(xs_dict_intern(d, "eggsplant", 3, &id), 0);
    CHECK_EQU(id, 3); /* "egg" is new */
    CHECK_STR(xs_dict_name(d, 3), "egg");

    CHECK_STR(xs_dict_name(d, 0), "milk");
    CHECK_STR(xs_dict_name(d, 1), "bread");
    CHECK_STR(xs_dict_name(d, 2), "eggs");
    CHECK(xs_dict_name(d, 4) == NULL);
    CHECK(xs_dict_name(d, XS_NONE) == NULL);
    CHECK(xs_dict_bytes(d) > 0);
    xs_dict_free(d);
}

static void test_odd_bytes(void)
{
    static const char *const keys[] = {
        "a,b",              /* embedded comma */
        "\"quoted\"",       /* quotes */
        "say \"hi\", ok",   /* both */
        "caf\xc3\xa9",      /* café, precomposed */
        "cafe\xcc\x81",     /* café, combining accent: other bytes */
        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", /* 日本語 */
        "\xf0\x9f\x9b\x92", /* 🛒 (4-byte UTF-8) */
        "tab\there",
        "line\nbreak",
        " lead and trail ",
    };
    const size_t n = sizeof keys / sizeof keys[0];
    xs_dict *d = xs_dict_new();
    if (!CHECK(d != NULL))
        return;
    for (size_t i = 0; i < n; i++)
        CHECK_EQU(intern_s(d, keys[i]), i);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQU(find_s(d, keys[i]), i);
        CHECK_STR(xs_dict_name(d, (uint32_t)i), keys[i]);
    }
    /* the combining and precomposed forms stay distinct */
    CHECK(find_s(d, keys[3]) != find_s(d, keys[4]));

    /* the empty string is a key like any other */
    uint32_t e = XS_NONE;
    CHECK_EQ(xs_dict_intern(d, "", 0, &e), 0);
    CHECK_EQU(e, n);
    CHECK_EQU(xs_dict_find(d, "", 0), n);
    CHECK_STR(xs_dict_name(d, e), "");

    /* an embedded NUL: "a\0b" (3 bytes) differs from "a" */
    uint32_t a = intern_s(d, "a"), anb = XS_NONE;
    CHECK_EQ(xs_dict_intern(d, "a\0b", 3, &anb), 0);
    CHECK(anb != a && anb != XS_NONE);
    CHECK_EQU(xs_dict_find(d, "a\0b", 3), anb);
    CHECK_EQU(xs_dict_find(d, "a\0c", 3), XS_NONE);
    const char *nm = xs_dict_name(d, anb);
    CHECK(nm != NULL && memcmp(nm, "a\0b", 4) == 0); /* copied + NUL */

    /* a key longer than an arena chunk (64 KiB), then small ones again */
    size_t big = 200000;
    char *s = malloc(big);
    if (CHECK(s != NULL)) {
        for (size_t i = 0; i < big; i++)
            s[i] = (char)('a' + i % 26);
        const char *before = xs_dict_name(d, 0);
        uint32_t id = XS_NONE;
        CHECK_EQ(xs_dict_intern(d, s, big, &id), 0);
        CHECK_EQU(id, xs_dict_size(d) - 1);
        CHECK_EQU(xs_dict_find(d, s, big), id);
        CHECK_EQU(xs_dict_find(d, s, big - 1), XS_NONE);
        nm = xs_dict_name(d, id);
        CHECK(nm != NULL && strlen(nm) == big && memcmp(nm, s, big) == 0);
        uint32_t after = intern_s(d, "after-the-big-one");
        CHECK_EQU(after, id + 1);
        CHECK_STR(xs_dict_name(d, after), "after-the-big-one");
        CHECK(xs_dict_name(d, 0) == before);
        CHECK_STR(xs_dict_name(d, 0), keys[0]);
        free(s);
    }
    xs_dict_free(d);
}

static void test_many(void)
{
    xs_dict *d = xs_dict_new();
    if (!CHECK(d != NULL))
        return;
    const char **early = calloc(1000, sizeof *early);
    if (!CHECK(early != NULL)) {
        xs_dict_free(d);
        return;
    }
    char buf[96];
    size_t bad_intern = 0, bad_again = 0, bad_find = 0, bad_name = 0,
           bad_ptr = 0, bad_absent = 0;
    size_t bytes_small = 0;
    for (uint32_t i = 0; i < N_BIG; i++) {
        int len = big_key(buf, sizeof buf, i);
        uint32_t id = XS_NONE;
        if (xs_dict_intern(d, buf, (size_t)len, &id) != 0 || id != i) {
            if (bad_intern++ < 5)
                fprintf(stderr, "  intern %s -> %u, want %u\n", buf, id, i);
        }
        if (i < 1000)
            early[i] = xs_dict_name(d, i);
        if (i == 999)
            bytes_small = xs_dict_bytes(d);
    }
    CHECK_EQ(bad_intern, 0);
    CHECK_EQU(xs_dict_size(d), N_BIG);
    CHECK(xs_dict_bytes(d) > bytes_small);

    for (uint32_t i = 0; i < N_BIG; i++) {
        int len = big_key(buf, sizeof buf, i);
        uint32_t id = XS_NONE;
        if (xs_dict_intern(d, buf, (size_t)len, &id) != 0 || id != i)
            bad_again++;
        if (xs_dict_find(d, buf, (size_t)len) != i)
            bad_find++;
        const char *nm = xs_dict_name(d, i);
        if (!nm || strcmp(nm, buf) != 0) {
            if (bad_name++ < 5)
                fprintf(stderr, "  name(%u) = %s, want %s\n", i,
                        nm ? nm : "(null)", buf);
        }
        if (i < 1000 && early[i] != nm)
            bad_ptr++;
        /* absent neighbours: one byte more, one byte fewer, other prefix */
        buf[len] = '!';
        if (xs_dict_find(d, buf, (size_t)len + 1) != XS_NONE)
            bad_absent++;
        buf[0] = 'S';
        if (xs_dict_find(d, buf, (size_t)len) != XS_NONE)
            bad_absent++;
    }
    CHECK_EQ(bad_again, 0);
    CHECK_EQ(bad_find, 0);
    CHECK_EQ(bad_name, 0);
    CHECK_EQ(bad_ptr, 0); /* names stable after growth */
    CHECK_EQ(bad_absent, 0);
    CHECK_EQU(xs_dict_size(d), N_BIG); /* re-interning added nothing */
    int len = big_key(buf, sizeof buf, N_BIG);
    CHECK_EQU(xs_dict_find(d, buf, (size_t)len), XS_NONE);
    CHECK(xs_dict_name(d, N_BIG) == NULL);
    CHECK_EQU(xs_dict_find(d, "sku", 3), XS_NONE);
    CHECK_EQU(xs_dict_find(d, "sku1", 4), XS_NONE); /* "sku1" is "sku1-" */
    free(early);
    xs_dict_free(d);
}

/* Keys of every length 0..64: the all-NUL key of that length, an ASCII key,
 * and for each byte position the ASCII key with that byte flipped (the word
 * loop and the 0..7-byte tail both see every position). */
#define HL_MAX 64
static size_t hl_key(unsigned char *buf, size_t len, int kind)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = kind == 0 ? 0 : (unsigned char)('a' + (i * 7 + len) % 26);
    if (kind >= 2)
        buf[(size_t)(kind - 2)] ^= 0x80; /* flip one byte */
    return len;
}

static void test_hash_lengths(void)
{
    xs_dict *d = xs_dict_new();
    if (!CHECK(d != NULL))
        return;
    unsigned char buf[HL_MAX];
    uint32_t next = 0;
    size_t bad_id = 0, bad_find = 0, bad_key = 0;
    for (int pass = 0; pass < 2; pass++) { /* intern, then find again */
        uint32_t want = 0;
        for (size_t len = 0; len <= HL_MAX; len++)
            for (int kind = 0; kind < 2 + (int)len; kind++) {
                if (len == 0 && kind == 1)
                    continue; /* the empty key once */
                hl_key(buf, len, kind);
                uint32_t id = XS_NONE;
                if (pass == 0) {
                    if (xs_dict_intern(d, (char *)buf, len, &id) || id != next)
                        bad_id++;
                    next++;
                } else {
                    if (xs_dict_find(d, (char *)buf, len) != want)
                        bad_find++;
                    uint32_t kl = UINT32_MAX;
                    const char *k = xs_dict_key(d, want, &kl);
                    if (!k || kl != len || memcmp(k, buf, len) || k[len])
                        bad_key++;
                    want++;
                }
            }
    }
    CHECK_EQ(bad_id, 0);
    CHECK_EQ(bad_find, 0);
    CHECK_EQ(bad_key, 0);
    CHECK_EQU(xs_dict_size(d), next);
    /* a NUL more or fewer is another key */
    memset(buf, 0, sizeof buf);
    CHECK_EQU(xs_dict_find(d, (char *)buf, 3), 8); /* after 1 + 3 + 4 keys */
    xs_dict_free(d);
}

typedef struct { uint32_t h, i; } hash_pair;

static int pair_cmp(const void *a, const void *b)
{
    const hash_pair *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Two keys with the same 32-bit hash (found among 200,000 by the birthday
 * bound) get distinct ids and are both found; the low 16 bits are spread
 * evenly over the big test's keys. */
static void test_hash_collision(void)
{
    enum { N = 200000 };
    hash_pair *v = malloc(N * sizeof *v);
    uint32_t *bucket = calloc(1u << 16, sizeof *bucket);
    if (!CHECK(v != NULL && bucket != NULL)) {
        free(v);
        free(bucket);
        return;
    }
    char buf[96];
    for (uint32_t i = 0; i < N; i++) {
        int len = big_key(buf, sizeof buf, i);
        v[i].h = xs_hash_bytes(buf, (size_t)len);
        v[i].i = i;
        bucket[v[i].h & 0xffff]++;
    }
    /* even spread: 200000 keys in 65536 buckets, mean ~3.05 */
    uint32_t max = 0;
    double chi = 0, mean = (double)N / 65536;
    for (uint32_t b = 0; b < 1u << 16; b++) {
        max = bucket[b] > max ? bucket[b] : max;
        chi += (bucket[b] - mean) * (bucket[b] - mean) / mean;
    }
    CHECK(max < 20);
    CHECK(chi < 65536 * 1.1); /* chi-square ~ 65535 +- 362 when uniform */
    qsort(v, N, sizeof *v, pair_cmp);
    size_t same = 0;
    uint32_t a = XS_NONE, b = XS_NONE;
    for (uint32_t i = 1; i < N; i++)
        if (v[i].h == v[i - 1].h) {
            same++;
            a = v[i - 1].i;
            b = v[i].i;
        }
    CHECK(same < 40); /* ~4.7 expected for 32-bit hashes */
    if (CHECK(a != XS_NONE)) {
        xs_dict *d = xs_dict_new();
        if (CHECK(d != NULL)) {
            char ka[96], kb[96];
            int la = big_key(ka, sizeof ka, a), lb = big_key(kb, sizeof kb, b);
            CHECK_EQU(xs_hash_bytes(ka, (size_t)la),
                      xs_hash_bytes(kb, (size_t)lb));
            uint32_t ia = XS_NONE, ib = XS_NONE;
            CHECK_EQ(xs_dict_intern(d, ka, (size_t)la, &ia), 0);
            CHECK_EQ(xs_dict_intern(d, kb, (size_t)lb, &ib), 0);
            CHECK_EQU(ia, 0);
            CHECK_EQU(ib, 1);
            CHECK_EQU(xs_dict_find(d, ka, (size_t)la), 0);
            CHECK_EQU(xs_dict_find(d, kb, (size_t)lb), 1);
            CHECK_STR(xs_dict_name(d, 1), kb);
            xs_dict_free(d);
        }
    }
    /* the hash is a function of the bytes and their number only */
    CHECK_EQU(xs_hash_bytes("a\0", 1), xs_hash_bytes("a", 1));
    CHECK(xs_hash_bytes("a\0", 2) != xs_hash_bytes("a", 1));
    CHECK(xs_hash_bytes("", 0) != xs_hash_bytes("\0", 1));
    free(v);
    free(bucket);
}

static void test_independent(void)
{
    xs_dict *a = xs_dict_new(), *b = xs_dict_new();
    if (!CHECK(a != NULL && b != NULL)) {
        xs_dict_free(a);
        xs_dict_free(b);
        return;
    }
    CHECK_EQU(intern_s(a, "x"), 0);
    CHECK_EQU(intern_s(a, "y"), 1);
    CHECK_EQU(intern_s(b, "y"), 0);
    CHECK_EQU(find_s(b, "x"), XS_NONE);
    CHECK_EQU(find_s(a, "y"), 1);
    CHECK_EQ(xs_dict_size(a), 2);
    CHECK_EQ(xs_dict_size(b), 1);
    xs_dict_free(a);
    CHECK_STR(xs_dict_name(b, 0), "y");
    xs_dict_free(b);
}

int main(void)
{
    test_empty();
    test_basic();
    test_odd_bytes();
    test_many();
    test_independent();
    test_hash_lengths();
    test_hash_collision();
    return xt_done();
}
