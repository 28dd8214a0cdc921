/*
 * xsell/dict.h -- interning of external string ids into dense uint32_t ids.
 *
 * Ids are handed out 0, 1, 2, ... in first-seen order and never change.  The
 * dictionary owns copies of the strings; names returned stay valid until the
 * dictionary is freed.  Lookups are safe from several threads at once as long
 * as nobody interns concurrently.
 */
#ifndef XSELL_DICT_H
#define XSELL_DICT_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

typedef struct xs_dict xs_dict;

XS_API xs_dict *xs_dict_new(void); /* NULL when out of memory */
XS_API void xs_dict_free(xs_dict *d);

/* Interns s[0..len) and stores its id in *id.  Returns 0, or -1 when out of
 * memory or the dictionary is full. */
XS_API int xs_dict_intern(xs_dict *d, const char *s, size_t len, uint32_t *id);

/* Returns the id of s[0..len), or XS_NONE (UINT32_MAX) when absent. */
XS_API uint32_t xs_dict_find(const xs_dict *d, const char *s, size_t len);

/* Name of id (NUL-terminated), or NULL when id is out of range. */
XS_API const char *xs_dict_name(const xs_dict *d, uint32_t id);
/* Name of id and its length in bytes (ids may hold NUL bytes); NULL when
 * id is out of range. */
XS_API const char *xs_dict_key(const xs_dict *d, uint32_t id, uint32_t *len);
XS_API uint32_t xs_dict_size(const xs_dict *d);
/* Bytes held by the dictionary. */
XS_API size_t xs_dict_bytes(const xs_dict *d);

#endif
