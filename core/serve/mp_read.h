/*
 * mp_read.h -- a bounds-checked, zero-copy msgpack reader for requests.
 *
 * Requests come from the network, so they are read with a cursor over the
 * received bytes instead of being unpacked into an object tree: nothing is
 * allocated, strings point into the message, container sizes are checked
 * against the bytes left (an element takes at least one byte), and nesting is
 * bounded.  msgpack-c's unpacker, by contrast, allocates per message and
 * sizes its allocations from the declared counts.  Replies are written with
 * msgpack-c's packer.
 *
 * Every read function returns 0 and advances the cursor, or -1 (type
 * mismatch, truncation) leaving the cursor where it was.
 */
#ifndef XS_MP_READ_H
#define XS_MP_READ_H

#include <stddef.h>
#include <stdint.h>

typedef struct xs_mp {
    const uint8_t *p, *end;
} xs_mp;

enum xs_mp_type {
    XS_MP_INVALID = 0,
    XS_MP_NIL,
    XS_MP_BOOL,
    XS_MP_INT, /* signed or unsigned integer */
    XS_MP_FLOAT,
    XS_MP_STR,
    XS_MP_BIN,
    XS_MP_ARRAY,
    XS_MP_MAP,
    XS_MP_EXT
};

static inline void xs_mp_init(xs_mp *m, const void *buf, size_t len)
{
    m->p = buf;
    m->end = m->p + len;
}

/* Type of the next value, XS_MP_INVALID at the end or on a reserved byte. */
int xs_mp_type(const xs_mp *m);
/* A name for a type, for messages ("string", "map", ...). */
const char *xs_mp_type_name(int type);

int xs_mp_read_map(xs_mp *m, uint32_t *n);
int xs_mp_read_array(xs_mp *m, uint32_t *n);
int xs_mp_read_str(xs_mp *m, const char **s, uint32_t *len);
/* Integers that fit int64_t. */
int xs_mp_read_int(xs_mp *m, int64_t *v);
/* Integers or floats, as double (finite only). */
int xs_mp_read_number(xs_mp *m, double *v);
int xs_mp_read_bool(xs_mp *m, int *v);
int xs_mp_read_nil(xs_mp *m);

/* Skips one value of any type, nested at most max_depth deep. */
int xs_mp_skip(xs_mp *m, int max_depth);

/* 0 when buf holds exactly one well-formed value nested at most max_depth
 * deep, else -1. */
int xs_mp_check(const void *buf, size_t len, int max_depth);

/* String equality helper for map keys. */
int xs_mp_str_eq(const char *s, uint32_t len, const char *lit);

#endif
