/*
 * util/dict_bulk.h -- filling a dictionary from names known to be
 * distinct (a snapshot image, whose checksum vouches for its content):
 * no lookup before each insert, about half the cost of xs_dict_intern.
 */
#ifndef XS_DICT_BULK_H
#define XS_DICT_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/dict.h"

/* Adds s[0..len) as the next id without looking for it first.  The caller
 * guarantees it is not in d.  Returns 0, or -1 when out of memory. */
int xs_dict_add_unique(xs_dict *d, const char *s, size_t len);

#endif
