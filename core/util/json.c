/*
 * json.c -- writing JSON and CSV values (json.h).
 *
 * Client data stays data.  Ids, categories and titles are bytes the
 * client chose; every writer here returns them as given, escaped for the
 * context and never interpreted.  A JSON string is written so that it is
 * also safe inside an HTML <script> element or attribute and in a
 * JavaScript string literal: besides RFC 8259's escapes, < > & become
 * \u003c \u003e \u0026 (so no "</script" or "<!--" can appear), DEL and
 * U+2028/U+2029 are escaped as well.  JSON text must be Unicode, so bytes
 * that are not well-formed UTF-8 (stray continuation bytes, overlong forms,
 * surrogates, past U+10FFFF, cut sequences) each become U+FFFD; well-formed
 * UTF-8 reads back exactly.  The one escaper, xs_json_escape, serves the
 * stream writers and the batch scorer's buffers alike.  Numbers are the
 * shortest text that reads back exactly, in one pass (util/dtoa.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dtoa.h"
#include "xsell/json.h"

void xs_format_double(char *buf, size_t len, double v)
{
    if (len >= XS_DTOA_BUF) {
        xs_dtoa_format(buf, v);
        return;
    }
    char tmp[XS_DTOA_BUF];
    size_t n = xs_dtoa_format(tmp, v);
    if (len) { /* cut as snprintf would */
        n = n < len ? n : len - 1;
        memcpy(buf, tmp, n);
        buf[n] = 0;
    }
}

void xs_json_number(FILE *f, double v)
{
    char buf[40];
    xs_format_double(buf, sizeof buf, v);
    fputs(buf, f);
}

/* Length of the well-formed UTF-8 sequence (2 to 4 bytes) at p, of the n
 * bytes left, or 0 when there is none (RFC 3629, Unicode table 3-7). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        if (c == 0xe0)
            lo = 0xa0; /* no overlong forms */
        else if (c == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* Escapes the one character at s (a byte, or a UTF-8 sequence) into w:
 * at most 6 bytes written, their count returned, *adv set to the bytes of
 * s consumed. */
static size_t esc_unit(char *w, const unsigned char *s, size_t n, size_t *adv)
{
    static const char hex[] = "0123456789abcdef";
    unsigned c = s[0];
    *adv = 1;
    if (c >= 0x80) {
        size_t len = utf8_seq(s, n);
        if (len == 0) {
            memcpy(w, "\\ufffd", 6);
            return 6;
        }
        *adv = len;
        if (len == 3 && c == 0xe2 && s[1] == 0x80 &&
            (s[2] == 0xa8 || s[2] == 0xa9)) {
            memcpy(w, s[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
            return 6;
        }
        memcpy(w, s, len);
        return len;
    }
    char short_form = 0;
    switch (c) {
    case '"': short_form = '"'; break;
    case '\\': short_form = '\\'; break;
    case '\b': short_form = 'b'; break;
    case '\f': short_form = 'f'; break;
    case '\n': short_form = 'n'; break;
    case '\r': short_form = 'r'; break;
    case '\t': short_form = 't'; break;
    default: break;
    }
    if (short_form) {
        w[0] = '\\';
        w[1] = short_form;
        return 2;
    }
    if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
        memcpy(w, "\\u00", 4);
        w[4] = hex[c >> 4];
        w[5] = hex[c & 15];
        return 6;
    }
    w[0] = (char)c;
    return 1;
}

size_t xs_json_escape(char *dst, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    char *w = dst;
    *w++ = '"';
    for (size_t i = 0, adv; i < n; i += adv)
        w += esc_unit(w, s + i, n - i, &adv);
    *w++ = '"';
    return (size_t)(w - dst);
}

void xs_json_bytes(FILE *f, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    char buf[512];
    size_t o = 0;
    buf[o++] = '"';
    for (size_t i = 0, adv; i < n; i += adv) {
        if (o > sizeof buf - 8) {
            fwrite(buf, 1, o, f);
            o = 0;
        }
        o += esc_unit(buf + o, s + i, n - i, &adv);
    }
    buf[o++] = '"';
    fwrite(buf, 1, o, f);
}

void xs_json_string(FILE *f, const char *s)
{
    xs_json_bytes(f, s, strlen(s));
}

size_t xs_csv_escape(char *dst, const char *s, size_t n)
{
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n)) {
        memcpy(dst, s, n);
        return n;
    }
    char *w = dst;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *w++ = '"';
        *w++ = s[i];
    }
    *w++ = '"';
    return (size_t)(w - dst);
}

void xs_csv_field(FILE *f, const char *s)
{
    size_t n = strlen(s);
    if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n) &&
        !memchr(s, '\r', n)) {
        fwrite(s, 1, n, f);
        return;
    }
    putc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            putc('"', f);
        putc(*p, f);
    }
    putc('"', f);
}
