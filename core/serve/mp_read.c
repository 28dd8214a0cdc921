/*
 * mp_read.c -- the msgpack request reader (mp_read.h).
 *
 * Format reference: the msgpack specification (fixint, fixmap, fixarray,
 * fixstr, nil, bool, bin/ext 8/16/32, float 32/64, [u]int 8..64, str 8/16/32,
 * array/map 16/32, fixext 1..16).  Multi-byte numbers are big endian.
 */
#include <math.h>
#include <string.h>

#include "serve/mp_read.h"

static uint64_t be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

int xs_mp_type(const xs_mp *m)
{
    if (m->p >= m->end)
        return XS_MP_INVALID;
    uint8_t b = *m->p;
    if (b <= 0x7f || b >= 0xe0)
        return XS_MP_INT;
    if (b <= 0x8f)
        return XS_MP_MAP;
    if (b <= 0x9f)
        return XS_MP_ARRAY;
    if (b <= 0xbf)
        return XS_MP_STR;
    switch (b) {
    case 0xc0: return XS_MP_NIL;
    case 0xc2: case 0xc3: return XS_MP_BOOL;
    case 0xc4: case 0xc5: case 0xc6: return XS_MP_BIN;
    case 0xc7: case 0xc8: case 0xc9: return XS_MP_EXT;
    case 0xca: case 0xcb: return XS_MP_FLOAT;
    case 0xcc: case 0xcd: case 0xce: case 0xcf:
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: return XS_MP_INT;
    case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: return XS_MP_EXT;
    case 0xd9: case 0xda: case 0xdb: return XS_MP_STR;
    case 0xdc: case 0xdd: return XS_MP_ARRAY;
    case 0xde: case 0xdf: return XS_MP_MAP;
    default: return XS_MP_INVALID; /* 0xc1 is never used */
    }
}

const char *xs_mp_type_name(int type)
{
    static const char *const names[] = {"invalid", "nil",   "boolean",
                                        "integer", "float", "string",
                                        "binary",  "array", "map",
                                        "extension"};
    return type >= 0 && type <= XS_MP_EXT ? names[type] : "invalid";
}

static size_t left(const xs_mp *m)
{
    return (size_t)(m->end - m->p);
}

/* Reads a container header: fix range [lo, lo + 15], 16- and 32-bit forms. */
static int read_header(xs_mp *m, uint8_t fix_lo, uint8_t fix_hi, uint8_t b16,
                       uint8_t b32, uint32_t *n)
{
    if (left(m) < 1)
        return -1;
    uint8_t b = *m->p;
    uint64_t count;
    size_t hdr;
    if (b >= fix_lo && b <= fix_hi) {
        count = b - fix_lo;
        hdr = 1;
    } else if (b == b16 && left(m) >= 3) {
        count = be(m->p + 1, 2);
        hdr = 3;
    } else if (b == b32 && left(m) >= 5) {
        count = be(m->p + 1, 4);
        hdr = 5;
    } else {
        return -1;
    }
    /* every element takes at least one byte */
    if (count > left(m) - hdr)
        return -1;
    m->p += hdr;
    *n = (uint32_t)count;
    return 0;
}

int xs_mp_read_map(xs_mp *m, uint32_t *n)
{
    const uint8_t *start = m->p;
    if (read_header(m, 0x80, 0x8f, 0xde, 0xdf, n))
        return -1;
    if (*n > left(m) / 2) { /* a pair takes at least two bytes */
        m->p = start;
        return -1;
    }
    return 0;
}

int xs_mp_read_array(xs_mp *m, uint32_t *n)
{
    return read_header(m, 0x90, 0x9f, 0xdc, 0xdd, n);
}

int xs_mp_read_str(xs_mp *m, const char **s, uint32_t *len)
{
    if (left(m) < 1)
        return -1;
    uint8_t b = *m->p;
    uint64_t n;
    size_t hdr;
    if (b >= 0xa0 && b <= 0xbf) {
        n = b - 0xa0;
        hdr = 1;
    } else if (b == 0xd9 && left(m) >= 2) {
        n = m->p[1];
        hdr = 2;
    } else if (b == 0xda && left(m) >= 3) {
        n = be(m->p + 1, 2);
        hdr = 3;
    } else if (b == 0xdb && left(m) >= 5) {
        n = be(m->p + 1, 4);
        hdr = 5;
    } else {
        return -1;
    }
    if (n > left(m) - hdr)
        return -1;
    *s = (const char *)m->p + hdr;
    *len = (uint32_t)n;
    m->p += hdr + n;
    return 0;
}

int xs_mp_read_int(xs_mp *m, int64_t *v)
{
    if (left(m) < 1)
        return -1;
    uint8_t b = *m->p;
    if (b <= 0x7f) {
        *v = b;
        m->p++;
        return 0;
    }
    if (b >= 0xe0) {
        *v = (int8_t)b;
        m->p++;
        return 0;
    }
    int n;
    int is_signed;
    switch (b) {
    case 0xcc: n = 1; is_signed = 0; break;
    case 0xcd: n = 2; is_signed = 0; break;
    case 0xce: n = 4; is_signed = 0; break;
    case 0xcf: n = 8; is_signed = 0; break;
    case 0xd0: n = 1; is_signed = 1; break;
    case 0xd1: n = 2; is_signed = 1; break;
    case 0xd2: n = 4; is_signed = 1; break;
    case 0xd3: n = 8; is_signed = 1; break;
    default: return -1;
    }
    if (left(m) < (size_t)n + 1)
        return -1;
    uint64_t u = be(m->p + 1, n);
    if (is_signed) {
        switch (n) {
        case 1: *v = (int8_t)u; break;
        case 2: *v = (int16_t)u; break;
        case 4: *v = (int32_t)u; break;
        default: *v = (int64_t)u; break;
        }
    } else {
        if (u > INT64_MAX)
            return -1;
        *v = (int64_t)u;
    }
    m->p += n + 1;
    return 0;
}

int xs_mp_read_number(xs_mp *m, double *v)
{
    if (left(m) < 1)
        return -1;
    uint8_t b = *m->p;
    if (b == 0xca && left(m) >= 5) {
        uint32_t u = (uint32_t)be(m->p + 1, 4);
        float f;
        memcpy(&f, &u, 4);
        if (!isfinite(f))
            return -1;
        *v = f;
        m->p += 5;
        return 0;
    }
    if (b == 0xcb && left(m) >= 9) {
        uint64_t u = be(m->p + 1, 8);
        double d;
        memcpy(&d, &u, 8);
        if (!isfinite(d))
            return -1;
        *v = d;
        m->p += 9;
        return 0;
    }
    int64_t i;
    if (xs_mp_read_int(m, &i))
        return -1;
    *v = (double)i;
    return 0;
}

int xs_mp_read_bool(xs_mp *m, int *v)
{
    if (left(m) < 1 || (*m->p != 0xc2 && *m->p != 0xc3))
        return -1;
    *v = *m->p++ == 0xc3;
    return 0;
}

int xs_mp_read_nil(xs_mp *m)
{
    if (left(m) < 1 || *m->p != 0xc0)
        return -1;
    m->p++;
    return 0;
}

/* Bytes taken by the scalar (or container header) at m->p, and the number
 * of child values that follow it.  -1 when malformed. */
static int64_t head_size(const xs_mp *m, uint64_t *children)
{
    size_t n = left(m);
    if (n < 1)
        return -1;
    uint8_t b = *m->p;
    *children = 0;
    uint64_t len;
    if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
        return 1;
    if (b <= 0x8f) {
        *children = 2u * (b - 0x80);
        return 1;
    }
    if (b <= 0x9f) {
        *children = b - 0x90;
        return 1;
    }
    if (b <= 0xbf)
        len = b - 0xa0 + 1;
    else
        switch (b) {
        case 0xc4: case 0xd9:
            if (n < 2) return -1;
            len = 2 + m->p[1];
            break;
        case 0xc5: case 0xda:
            if (n < 3) return -1;
            len = 3 + be(m->p + 1, 2);
            break;
        case 0xc6: case 0xdb:
            if (n < 5) return -1;
            len = 5 + be(m->p + 1, 4);
            break;
        case 0xc7:
            if (n < 3) return -1;
            len = 3 + m->p[1];
            break;
        case 0xc8:
            if (n < 4) return -1;
            len = 4 + be(m->p + 1, 2);
            break;
        case 0xc9:
            if (n < 6) return -1;
            len = 6 + be(m->p + 1, 4);
            break;
        case 0xca: len = 5; break;
        case 0xcb: len = 9; break;
        case 0xcc: case 0xd0: len = 2; break;
        case 0xcd: case 0xd1: len = 3; break;
        case 0xce: case 0xd2: len = 5; break;
        case 0xcf: case 0xd3: len = 9; break;
        case 0xd4: len = 3; break;
        case 0xd5: len = 4; break;
        case 0xd6: len = 6; break;
        case 0xd7: len = 10; break;
        case 0xd8: len = 18; break;
        case 0xdc: case 0xde:
            if (n < 3) return -1;
            *children = be(m->p + 1, 2) * (b == 0xde ? 2 : 1);
            len = 3;
            break;
        case 0xdd: case 0xdf:
            if (n < 5) return -1;
            *children = be(m->p + 1, 4) * (b == 0xdf ? 2 : 1);
            len = 5;
            break;
        default:
            return -1;
        }
    if (len > n || *children > n - len)
        return -1;
    return (int64_t)len;
}

int xs_mp_skip(xs_mp *m, int max_depth)
{
    /* pending[d] = values still to skip at depth d */
    uint64_t pending[64];
    if (max_depth < 1 || max_depth > 64)
        max_depth = 64;
    const uint8_t *start = m->p;
    int depth = 0;
    pending[0] = 1;
    while (depth >= 0) {
        if (pending[depth] == 0) {
            depth--;
            continue;
        }
        pending[depth]--;
        uint64_t children;
        int64_t h = head_size(m, &children);
        if (h < 0)
            goto bad;
        m->p += h;
        if (children) {
            if (depth + 1 >= max_depth)
                goto bad;
            pending[++depth] = children;
        }
    }
    return 0;
bad:
    m->p = start;
    return -1;
}

int xs_mp_check(const void *buf, size_t len, int max_depth)
{
    xs_mp m;
    xs_mp_init(&m, buf, len);
    return xs_mp_skip(&m, max_depth) == 0 && m.p == m.end ? 0 : -1;
}

int xs_mp_str_eq(const char *s, uint32_t len, const char *lit)
{
    size_t n = strlen(lit);
    return n == len && memcmp(s, lit, n) == 0;
}
