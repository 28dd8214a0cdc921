/*
 * jsonmp.h -- converting between JSON text and msgpack, for `xsell query`
 * and the tests: people and scripts speak JSON, the wire speaks msgpack.
 */
#ifndef XS_JSONMP_H
#define XS_JSONMP_H

#include <stddef.h>
#include <stdio.h>

#include <msgpack.h>

/* Parses one JSON value (surrounding whitespace allowed) and appends its
 * msgpack encoding to out.  Integers become msgpack integers, other numbers
 * doubles.  Returns 0, or -1 with a message naming the offset in err. */
int xs_json_to_msgpack(const char *text, size_t len, msgpack_sbuffer *out,
                       char *err, size_t errlen);

/* Writes the msgpack value in buf as one line of JSON.  Binary and extension
 * values become strings; non-string map keys are written as strings.
 * Returns 0, or -1 when buf is not exactly one well-formed value. */
int xs_msgpack_to_json(const void *buf, size_t len, FILE *f);

#endif
