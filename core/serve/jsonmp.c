/*
 * jsonmp.c -- JSON <-> msgpack (jsonmp.h).
 *
 * The JSON parser is a recursive descent over the text, nesting bounded at
 * 64 so hostile input cannot exhaust the stack; it writes msgpack as it
 * goes, so a container's element count is only known at its end: elements
 * are packed into a scratch buffer per container and copied behind the
 * header.  Inputs here are command-line sized, so the copies do not matter.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "serve/jsonmp.h"
#include "serve/mp_read.h"
#include "xsell/json.h"

#define MAX_DEPTH 64

typedef struct jparse {
    const char *s, *end, *start;
    char *err;
    size_t errlen;
} jparse;

static int jfail(jparse *j, const char *what)
{
    snprintf(j->err, j->errlen, "JSON: %s at offset %zu", what,
             (size_t)(j->s - j->start));
    return -1;
}

static void skip_ws(jparse *j)
{
    while (j->s < j->end && (*j->s == ' ' || *j->s == '\t' || *j->s == '\n' ||
                             *j->s == '\r'))
        j->s++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(msgpack_sbuffer *b, unsigned cp)
{
    char u[4];
    int n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
        u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    msgpack_sbuffer_write(b, u, (size_t)n);
}

/* Parses a JSON string (j->s at the quote) into tmp (raw bytes). */
static int parse_string(jparse *j, msgpack_sbuffer *tmp)
{
    j->s++;
    for (;;) {
        if (j->s >= j->end)
            return jfail(j, "unterminated string");
        unsigned char c = (unsigned char)*j->s;
        if (c == '"') {
            j->s++;
            return 0;
        }
        if (c < 0x20)
            return jfail(j, "control character in string");
        if (c != '\\') {
            const char *run = j->s;
            while (j->s < j->end && *j->s != '"' && *j->s != '\\' &&
                   (unsigned char)*j->s >= 0x20)
                j->s++;
            msgpack_sbuffer_write(tmp, run, (size_t)(j->s - run));
            continue;
        }
        if (j->end - j->s < 2)
            return jfail(j, "bad escape");
        char e = j->s[1];
        j->s += 2;
        char out;
        switch (e) {
        case '"': out = '"'; break;
        case '\\': out = '\\'; break;
        case '/': out = '/'; break;
        case 'b': out = '\b'; break;
        case 'f': out = '\f'; break;
        case 'n': out = '\n'; break;
        case 'r': out = '\r'; break;
        case 't': out = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (j->end - j->s < 4 || hex4(j->s, &cp))
                return jfail(j, "bad \\u escape");
            j->s += 4;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (j->end - j->s < 6 || j->s[0] != '\\' || j->s[1] != 'u' ||
                    hex4(j->s + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return jfail(j, "unpaired surrogate");
                j->s += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return jfail(j, "unpaired surrogate");
            }
            put_utf8(tmp, cp);
            continue;
        }
        default:
            return jfail(j, "bad escape");
        }
        msgpack_sbuffer_write(tmp, &out, 1);
    }
}

static int parse_value(jparse *j, msgpack_packer *pk, int depth);

/* Parses an array or object body into its own buffer, then packs the header
 * and the body into pk. */
static int parse_container(jparse *j, msgpack_packer *pk, int depth, int obj)
{
    if (depth >= MAX_DEPTH)
        return jfail(j, "nesting too deep");
    char close = obj ? '}' : ']';
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    msgpack_packer bp;
    msgpack_packer_init(&bp, &body, msgpack_sbuffer_write);
    uint32_t n = 0;
    int rc = 0;
    j->s++;
    skip_ws(j);
    if (j->s < j->end && *j->s == close) {
        j->s++;
    } else {
        for (;;) {
            skip_ws(j);
            if (obj) {
                if (j->s >= j->end || *j->s != '"') {
                    rc = jfail(j, "expected a string key");
                    break;
                }
                msgpack_sbuffer key;
                msgpack_sbuffer_init(&key);
                rc = parse_string(j, &key);
                if (rc == 0) {
                    msgpack_pack_str(&bp, key.size);
                    msgpack_pack_str_body(&bp, key.data, key.size);
                }
                msgpack_sbuffer_destroy(&key);
                if (rc)
                    break;
                skip_ws(j);
                if (j->s >= j->end || *j->s != ':') {
                    rc = jfail(j, "expected ':'");
                    break;
                }
                j->s++;
            }
            if ((rc = parse_value(j, &bp, depth + 1)))
                break;
            n++;
            skip_ws(j);
            if (j->s < j->end && *j->s == ',') {
                j->s++;
                continue;
            }
            if (j->s < j->end && *j->s == close) {
                j->s++;
                break;
            }
            rc = jfail(j, obj ? "expected ',' or '}'" : "expected ',' or ']'");
            break;
        }
    }
    if (rc == 0) {
        if (obj)
            msgpack_pack_map(pk, n);
        else
            msgpack_pack_array(pk, n);
        if (body.size)
            msgpack_sbuffer_write(pk->data, body.data, body.size);
    }
    msgpack_sbuffer_destroy(&body);
    return rc;
}

static int parse_number(jparse *j, msgpack_packer *pk)
{
    const char *p = j->s;
    if (p < j->end && *p == '-')
        p++;
    if (p >= j->end || !isdigit((unsigned char)*p))
        return jfail(j, "bad number");
    if (*p == '0' && p + 1 < j->end && isdigit((unsigned char)p[1]))
        return jfail(j, "leading zero");
    while (p < j->end && isdigit((unsigned char)*p))
        p++;
    int integral = 1;
    if (p < j->end && *p == '.') {
        integral = 0;
        p++;
        if (p >= j->end || !isdigit((unsigned char)*p))
            return jfail(j, "bad number");
        while (p < j->end && isdigit((unsigned char)*p))
            p++;
    }
    if (p < j->end && (*p == 'e' || *p == 'E')) {
        integral = 0;
        p++;
        if (p < j->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= j->end || !isdigit((unsigned char)*p))
            return jfail(j, "bad number");
        while (p < j->end && isdigit((unsigned char)*p))
            p++;
    }
    char buf[64];
    size_t n = (size_t)(p - j->s);
    if (n >= sizeof buf)
        return jfail(j, "number too long");
    memcpy(buf, j->s, n);
    buf[n] = '\0';
    errno = 0;
    if (integral) {
        if (buf[0] == '-') {
            long long v = strtoll(buf, NULL, 10);
            if (errno)
                return jfail(j, "integer out of range");
            msgpack_pack_int64(pk, v);
        } else {
            unsigned long long v = strtoull(buf, NULL, 10);
            if (errno)
                return jfail(j, "integer out of range");
            msgpack_pack_uint64(pk, v);
        }
    } else {
        double v = strtod(buf, NULL);
        if (!isfinite(v))
            return jfail(j, "number out of range");
        msgpack_pack_double(pk, v);
    }
    j->s = p;
    return 0;
}

static int literal(jparse *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->s) < n || memcmp(j->s, word, n))
        return -1;
    j->s += n;
    return 0;
}

static int parse_value(jparse *j, msgpack_packer *pk, int depth)
{
    skip_ws(j);
    if (j->s >= j->end)
        return jfail(j, "unexpected end");
    switch (*j->s) {
    case '{':
        return parse_container(j, pk, depth, 1);
    case '[':
        return parse_container(j, pk, depth, 0);
    case '"': {
        msgpack_sbuffer str;
        msgpack_sbuffer_init(&str);
        int rc = parse_string(j, &str);
        if (rc == 0) {
            msgpack_pack_str(pk, str.size);
            msgpack_pack_str_body(pk, str.data, str.size);
        }
        msgpack_sbuffer_destroy(&str);
        return rc;
    }
    case 't':
        if (literal(j, "true"))
            return jfail(j, "bad literal");
        return msgpack_pack_true(pk);
    case 'f':
        if (literal(j, "false"))
            return jfail(j, "bad literal");
        return msgpack_pack_false(pk);
    case 'n':
        if (literal(j, "null"))
            return jfail(j, "bad literal");
        return msgpack_pack_nil(pk);
    default:
        return parse_number(j, pk);
    }
}

int xs_json_to_msgpack(const char *text, size_t len, msgpack_sbuffer *out,
                       char *err, size_t errlen)
{
    jparse j = {text, text + len, text, err, errlen};
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    if (parse_value(&j, &pk, 0))
        return -1;
    skip_ws(&j);
    if (j.s != j.end)
        return jfail(&j, "trailing characters");
    return 0;
}

/* ---- msgpack -> JSON ------------------------------------------------------ */

static int to_json(xs_mp *m, FILE *f, int depth, int as_key)
{
    if (depth > MAX_DEPTH)
        return -1;
    int t = xs_mp_type(m);
    const char *s;
    uint32_t n;
    int64_t i;
    double d;
    int b;
    switch (t) {
    case XS_MP_NIL:
        xs_mp_read_nil(m);
        fputs(as_key ? "\"null\"" : "null", f);
        return 0;
    case XS_MP_BOOL:
        xs_mp_read_bool(m, &b);
        fprintf(f, as_key ? "\"%s\"" : "%s", b ? "true" : "false");
        return 0;
    case XS_MP_INT:
        if (xs_mp_read_int(m, &i) == 0) {
            fprintf(f, as_key ? "\"%lld\"" : "%lld", (long long)i);
            return 0;
        }
        if (m->end - m->p >= 9 && *m->p == 0xcf) { /* uint64 above INT64_MAX */
            uint64_t u = 0;
            for (int k = 1; k <= 8; k++)
                u = u << 8 | m->p[k];
            m->p += 9;
            fprintf(f, as_key ? "\"%llu\"" : "%llu", (unsigned long long)u);
            return 0;
        }
        return -1;
    case XS_MP_FLOAT:
        if (xs_mp_read_number(m, &d)) { /* NaN or infinity */
            xs_mp_skip(m, 1);
            fputs(as_key ? "\"null\"" : "null", f);
            return 0;
        }
        if (as_key)
            putc('"', f);
        xs_json_number(f, d);
        if (as_key)
            putc('"', f);
        return 0;
    case XS_MP_STR:
        if (xs_mp_read_str(m, &s, &n))
            return -1;
        xs_json_bytes(f, s, n); /* client data: as given, escaped */
        return 0;
    case XS_MP_ARRAY:
        if (as_key || xs_mp_read_array(m, &n))
            return -1;
        putc('[', f);
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                putc(',', f);
            if (to_json(m, f, depth + 1, 0))
                return -1;
        }
        putc(']', f);
        return 0;
    case XS_MP_MAP:
        if (as_key || xs_mp_read_map(m, &n))
            return -1;
        putc('{', f);
        for (uint32_t k = 0; k < n; k++) {
            if (k)
                putc(',', f);
            if (to_json(m, f, depth + 1, 1))
                return -1;
            putc(':', f);
            if (to_json(m, f, depth + 1, 0))
                return -1;
        }
        putc('}', f);
        return 0;
    case XS_MP_BIN:
    case XS_MP_EXT: {
        const uint8_t *start = m->p;
        if (xs_mp_skip(m, 1))
            return -1;
        fprintf(f, "\"<%s, %zu bytes>\"", xs_mp_type_name(t),
                (size_t)(m->p - start));
        return 0;
    }
    default:
        return -1;
    }
}

int xs_msgpack_to_json(const void *buf, size_t len, FILE *f)
{
    if (xs_mp_check(buf, len, MAX_DEPTH))
        return -1;
    xs_mp m;
    xs_mp_init(&m, buf, len);
    return to_json(&m, f, 0, 0);
}
