/*
 * dict.c -- the string <-> dense id dictionary.
 *
 * The table is split into XS_DICT_SHARDS shards by the top bits of the
 * string's hash (util/dict_bulk.h); each shard owns its uthash head, its
 * entry blocks and its string arena, so a bulk loader may fill different
 * shards from different threads at once (xs_dict_shard_intern) and number
 * the new entries afterwards, in the order it chooses (xs_dict_number).
 * Every other path (intern, find, add_unique) goes through the same shards
 * on one thread.
 *
 * Entries live in blocks so their addresses never move (uthash links the
 * entries themselves); strings are copied into an arena of chunks.  Blocks
 * and chunks start small and double up to a cap, so a dictionary of a few
 * names stays small although it has 32 shards.  names[] maps id -> string;
 * an entry added by xs_dict_shard_intern has no id (XS_NONE) and is not in
 * names[] until numbered.  One uthash handle (~56 bytes) per distinct string
 * is the price of the hash; it is paid per item or customer, never per event
 * or pair.  The table hashes with util/hash.h's word-at-a-time multiply-mix
 * instead of uthash's byte-wise Jenkins (bench/dict), computed once per
 * lookup and handed to uthash; the hash is never stored (images keep names
 * in id order), so changing it changes no file format.
 */
#include <stdlib.h>
#include <string.h>

#include "util/dict_bulk.h"
#include "util/hash.h"
#define HASH_FUNCTION XS_HASH_FUNCTION /* before uthash.h: this table only */
#include "util/xs_uthash.h"
#include "xsell/dict.h"
#include "xsell/plugin.h"

#define ENTRY_BLOCK_MIN 16
#define ENTRY_BLOCK_MAX 1024
#define ARENA_CHUNK_MIN 1024
#define ARENA_CHUNK_MAX (64 * 1024)

struct xs_dict_entry {
    const char *key;
    uint32_t len;
    uint32_t id; /* XS_NONE until numbered */
    UT_hash_handle hh;
};
typedef struct xs_dict_entry dict_entry;

typedef struct entry_block {
    struct entry_block *next;
    uint32_t used, cap;
    dict_entry e[];
} entry_block;

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

typedef struct shard {
    dict_entry *head; /* uthash head */
    entry_block *blocks;
    arena_chunk *chunks;
    size_t bytes;
} shard;

struct xs_dict {
    shard sh[XS_DICT_SHARDS];
    const char **names;
    uint32_t n, cap;
    size_t bytes; /* names[] */
};

xs_dict *xs_dict_new(void)
{
    return calloc(1, sizeof(xs_dict));
}

void xs_dict_free(xs_dict *d)
{
    if (!d)
        return;
    for (unsigned s = 0; s < XS_DICT_SHARDS; s++) {
        shard *sh = &d->sh[s];
        HASH_CLEAR(hh, sh->head);
        for (entry_block *b = sh->blocks, *nb; b; b = nb) {
            nb = b->next;
            free(b);
        }
        for (arena_chunk *c = sh->chunks, *nc; c; c = nc) {
            nc = c->next;
            free(c);
        }
    }
    free(d->names);
    free(d);
}

/* Copies s into the shard's arena as [length u32][bytes][NUL] (the length
 * lets xs_dict_key answer ids with embedded NULs); returns the bytes. */
static char *arena_copy(shard *sh, const char *s, size_t len)
{
    arena_chunk *c = sh->chunks;
    size_t need = len + 1 + sizeof(uint32_t);
    if (!c || c->cap - c->used < need) {
        size_t cap = c ? c->cap * 2 : ARENA_CHUNK_MIN;
        if (cap > ARENA_CHUNK_MAX)
            cap = ARENA_CHUNK_MAX;
        if (cap < need)
            cap = need;
        c = malloc(sizeof(arena_chunk) + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = sh->chunks;
        sh->chunks = c;
        sh->bytes += sizeof(arena_chunk) + cap;
    }
    char *p = c->data + c->used;
    uint32_t l = (uint32_t)len;
    memcpy(p, &l, sizeof l);
    p += sizeof l;
    memcpy(p, s, len);
    p[len] = '\0';
    c->used += need;
    return p;
}

static dict_entry *entry_alloc(shard *sh)
{
    entry_block *b = sh->blocks;
    if (!b || b->used == b->cap) {
        uint32_t cap = b ? b->cap * 2 : ENTRY_BLOCK_MIN;
        if (cap > ENTRY_BLOCK_MAX)
            cap = ENTRY_BLOCK_MAX;
        size_t size = sizeof(entry_block) + (size_t)cap * sizeof(dict_entry);
        b = malloc(size);
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = sh->blocks;
        sh->blocks = b;
        sh->bytes += size;
    }
    return &b->e[b->used++];
}

static dict_entry *lookup(const xs_dict *d, const char *s, size_t len,
                          uint32_t hash)
{
    dict_entry *e = NULL;
    HASH_FIND_BYHASHVALUE(hh, d->sh[xs_dict_shard_of(hash)].head, s, len,
                          hash, e);
    return e;
}

uint32_t xs_dict_find(const xs_dict *d, const char *s, size_t len)
{
    dict_entry *e = lookup(d, s, len, xs_hash_bytes(s, len));
    return e ? e->id : XS_NONE;
}

/* Adds s to its shard without an id (the caller knows it is not there). */
static dict_entry *shard_add(xs_dict *d, const char *s, size_t len,
                             uint32_t hash)
{
    if (len > UINT32_MAX)
        return NULL;
    shard *sh = &d->sh[xs_dict_shard_of(hash)];
    char *key = arena_copy(sh, s, len);
    dict_entry *e = key ? entry_alloc(sh) : NULL;
    if (!e)
        return NULL;
    e->key = key;
    e->len = (uint32_t)len;
    e->id = XS_NONE;
    int hash_oom = 0;
    HASH_ADD_KEYPTR_BYHASHVALUE(hh, sh->head, e->key, e->len, hash, e);
    if (hash_oom)
        return NULL; /* the entry and key stay unused in their blocks */
    return e;
}

int xs_dict_number(xs_dict *d, xs_dict_entry *e, uint32_t *id)
{
    if (d->n == XS_NONE - 1)
        return -1;
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? d->cap * 2 : 256;
        const char **names = realloc(d->names, (size_t)cap * sizeof *names);
        if (!names)
            return -1;
        d->bytes += (size_t)(cap - d->cap) * sizeof *names;
        d->names = names;
        d->cap = cap;
    }
    d->names[d->n] = e->key;
    e->id = d->n;
    *id = d->n++;
    return 0;
}

/* Adds s as the next id (the caller knows it is not in d). */
static int add(xs_dict *d, const char *s, size_t len, uint32_t hash,
               uint32_t *id)
{
    if (d->n == XS_NONE - 1)
        return -1;
    dict_entry *e = shard_add(d, s, len, hash);
    return e ? xs_dict_number(d, e, id) : -1;
}

xs_dict_entry *xs_dict_shard_intern(xs_dict *d, const char *s, size_t len,
                                    uint32_t hash, int *added)
{
    dict_entry *e = lookup(d, s, len, hash);
    *added = !e;
    return e ? e : shard_add(d, s, len, hash);
}

uint32_t xs_dict_entry_id(const xs_dict_entry *e)
{
    return e->id;
}

const char *xs_dict_name(const xs_dict *d, uint32_t id)
{
    return id < d->n ? d->names[id] : NULL;
}

int xs_dict_intern(xs_dict *d, const char *s, size_t len, uint32_t *id)
{
    uint32_t hash = xs_hash_bytes(s, len);
    dict_entry *e = lookup(d, s, len, hash);
    if (e && e->id != XS_NONE) {
        *id = e->id;
        return 0;
    }
    if (e) /* left unnumbered by a failed bulk load: number it now */
        return xs_dict_number(d, e, id);
    return add(d, s, len, hash, id);
}

int xs_dict_add_unique(xs_dict *d, const char *s, size_t len)
{
    uint32_t id;
    return add(d, s, len, xs_hash_bytes(s, len), &id);
}

const char *xs_dict_key(const xs_dict *d, uint32_t id, uint32_t *len)
{
    if (id >= d->n)
        return NULL;
    memcpy(len, d->names[id] - sizeof *len, sizeof *len);
    return d->names[id];
}

uint32_t xs_dict_size(const xs_dict *d)
{
    return d->n;
}

size_t xs_dict_bytes(const xs_dict *d)
{
    size_t bytes = sizeof *d + d->bytes;
    for (unsigned s = 0; s < XS_DICT_SHARDS; s++)
        bytes += d->sh[s].bytes + HASH_OVERHEAD(hh, d->sh[s].head);
    return bytes;
}
