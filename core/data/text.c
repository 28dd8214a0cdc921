/*
 * text.c -- UTF-8 checking and Latin-1 transcoding of data blocks (see
 * text.h).
 *
 * The check runs on every byte the loaders read, on the parsing threads:
 * runs of ASCII are skipped eight bytes at a time (a word with no high bit
 * and no zero byte), which is nearly all of a typical export; the rest is
 * decoded by the table of well-formed sequences of the Unicode standard
 * (table 3-7), so any other sequence stops the check at its first byte.
 * Transcoding Latin-1 copies ASCII runs a word at a time the same way.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/text.h"

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* 1 when the 8 bytes at p are ASCII and none is NUL. */
static int plain8(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return !(w & HIGHS) && !((w - ONES) & ~w & HIGHS);
}

int xs_text_check(const char *buf, size_t len, size_t *at)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8 && plain8(s + i)) {
            i += 8;
            continue;
        }
        unsigned c = s[i];
        if (c == 0) {
            *at = i;
            return XS_TEXT_NUL;
        }
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;         /* continuation bytes */
        unsigned lo = 0x80, hi = 0xBF; /* range of the first continuation */
        if (c >= 0xC2 && c <= 0xDF)
            n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* past U+10FFFF */
        } else {
            *at = i;
            return XS_TEXT_BAD_UTF8;
        }
        if (len - i <= n || s[i + 1] < lo || s[i + 1] > hi) {
            *at = i;
            return XS_TEXT_BAD_UTF8;
        }
        for (size_t k = 2; k <= n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF) {
                *at = i;
                return XS_TEXT_BAD_UTF8;
            }
        i += n + 1;
    }
    return XS_TEXT_OK;
}

size_t xs_text_find_nul(const char *buf, size_t len)
{
    const char *z = memchr(buf, '\0', len);
    return z ? (size_t)(z - buf) : len;
}

char *xs_text_latin1_to_utf8(const char *buf, size_t len, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)buf;
    size_t high = 0, i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        high += (size_t)__builtin_popcountll(w & HIGHS);
    }
    for (; i < len; i++)
        high += s[i] >> 7;
    char *out = malloc(len + high + 1);
    if (!out)
        return NULL;
    unsigned char *w = (unsigned char *)out;
    for (i = 0; i < len; i++) {
        if (len - i >= 8) { /* runs of ASCII copied a word at a time */
            uint64_t v;
            memcpy(&v, s + i, 8);
            if (!(v & HIGHS)) {
                memcpy(w, &v, 8);
                w += 8;
                i += 7;
                continue;
            }
        }
        unsigned c = s[i];
        if (c < 0x80) {
            *w++ = (unsigned char)c;
        } else {
            *w++ = (unsigned char)(0xC0 | (c >> 6));
            *w++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    *w = '\0';
    *out_len = len + high;
    return out;
}

size_t xs_text_line_of(const char *buf, size_t at)
{
    size_t line = 1;
    for (const char *p = buf, *end = buf + at;
         (p = memchr(p, '\n', (size_t)(end - p))); p++)
        line++;
    return line;
}
