/*
 * util/dict_bulk.h -- filling a dictionary in bulk.
 *
 * xs_dict_add_unique: names known to be distinct (a snapshot image, whose
 * checksum vouches for its content): no lookup before each insert, about
 * half the cost of xs_dict_intern.
 *
 * xs_dict_shard_intern / xs_dict_number: a loader on several threads.  The
 * table is split into XS_DICT_SHARDS shards by the top bits of the name's
 * hash (xs_hash_bytes); calls for names of different shards may run on
 * different threads at once, as long as nothing else touches the
 * dictionary meanwhile.  A name added that way has no id (lookups answer
 * XS_NONE) until xs_dict_number gives it the next one, on one thread, in
 * the order the caller wants ids handed out (first appearance in a file).
 */
#ifndef XS_DICT_BULK_H
#define XS_DICT_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/dict.h"

#define XS_DICT_SHARD_BITS 5
#define XS_DICT_SHARDS (1u << XS_DICT_SHARD_BITS)

/* The shard of a name of hash h (its top bits: uthash buckets by the low
 * ones). */
static inline unsigned xs_dict_shard_of(uint32_t h)
{
    return h >> (32 - XS_DICT_SHARD_BITS);
}

typedef struct xs_dict_entry xs_dict_entry;

/* Adds s[0..len) as the next id without looking for it first.  The caller
 * guarantees it is not in d.  Returns 0, or -1 when out of memory. */
int xs_dict_add_unique(xs_dict *d, const char *s, size_t len);

/* Finds s[0..len), of hash `hash` (xs_hash_bytes), or adds it to its shard
 * without an id; *added says which.  Returns the entry (valid as long as
 * d), or NULL when out of memory. */
xs_dict_entry *xs_dict_shard_intern(xs_dict *d, const char *s, size_t len,
                                    uint32_t hash, int *added);
/* Gives e, added by xs_dict_shard_intern, the next id, stored in *id.
 * Returns 0, or -1 when out of memory or the dictionary is full. */
int xs_dict_number(xs_dict *d, xs_dict_entry *e, uint32_t *id);
/* e's id, XS_NONE before xs_dict_number. */
uint32_t xs_dict_entry_id(const xs_dict_entry *e);

#endif
