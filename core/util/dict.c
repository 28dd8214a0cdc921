/*
 * dict.c -- the string <-> dense id dictionary.
 *
 * Entries live in fixed-size blocks so their addresses never move (uthash
 * links the entries themselves); strings are copied into an arena of large
 * chunks.  names[] maps id -> string.  One uthash handle (~56 bytes) per
 * distinct string is the price of the hash; it is paid per item or customer,
 * never per event or pair.  The table hashes with util/hash.h's word-at-a-
 * time multiply-mix instead of uthash's byte-wise Jenkins (bench/dict); the
 * hash is never stored (images keep names in id order), so changing it
 * changes no file format.
 */
#include <stdlib.h>
#include <string.h>

#include "util/dict_bulk.h"
#include "util/hash.h"
#define HASH_FUNCTION XS_HASH_FUNCTION /* before uthash.h: this table only */
#include "util/xs_uthash.h"
#include "xsell/dict.h"
#include "xsell/plugin.h"

#define ENTRY_BLOCK 1024
#define ARENA_CHUNK (64 * 1024)

typedef struct dict_entry {
    const char *key;
    uint32_t len;
    uint32_t id;
    UT_hash_handle hh;
} dict_entry;

typedef struct entry_block {
    struct entry_block *next;
    uint32_t used;
    dict_entry e[ENTRY_BLOCK];
} entry_block;

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[];
} arena_chunk;

struct xs_dict {
    dict_entry *head; /* uthash head */
    entry_block *blocks;
    arena_chunk *chunks;
    const char **names;
    uint32_t n, cap;
    size_t bytes;
};

xs_dict *xs_dict_new(void)
{
    return calloc(1, sizeof(xs_dict));
}

void xs_dict_free(xs_dict *d)
{
    if (!d)
        return;
    HASH_CLEAR(hh, d->head);
    for (entry_block *b = d->blocks, *nb; b; b = nb) {
        nb = b->next;
        free(b);
    }
    for (arena_chunk *c = d->chunks, *nc; c; c = nc) {
        nc = c->next;
        free(c);
    }
    free(d->names);
    free(d);
}

/* Copies s into the arena as [length u32][bytes][NUL] (the length lets
 * xs_dict_key answer ids with embedded NULs); returns the bytes. */
static char *arena_copy(xs_dict *d, const char *s, size_t len)
{
    arena_chunk *c = d->chunks;
    size_t need = len + 1 + sizeof(uint32_t);
    if (!c || c->cap - c->used < need) {
        size_t cap = need > ARENA_CHUNK ? need : ARENA_CHUNK;
        c = malloc(sizeof(arena_chunk) + cap);
        if (!c)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = d->chunks;
        d->chunks = c;
        d->bytes += sizeof(arena_chunk) + cap;
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

static dict_entry *entry_alloc(xs_dict *d)
{
    entry_block *b = d->blocks;
    if (!b || b->used == ENTRY_BLOCK) {
        b = malloc(sizeof(entry_block));
        if (!b)
            return NULL;
        b->used = 0;
        b->next = d->blocks;
        d->blocks = b;
        d->bytes += sizeof(entry_block);
    }
    return &b->e[b->used++];
}

uint32_t xs_dict_find(const xs_dict *d, const char *s, size_t len)
{
    dict_entry *e = NULL;
    HASH_FIND(hh, d->head, s, len, e);
    return e ? e->id : XS_NONE;
}

/* Adds s as the next id (the caller knows it is not in d). */
static int add(xs_dict *d, const char *s, size_t len, uint32_t *id)
{
    dict_entry *e;
    if (d->n == XS_NONE - 1 || len > UINT32_MAX)
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
    char *key = arena_copy(d, s, len);
    e = key ? entry_alloc(d) : NULL;
    if (!e)
        return -1;
    e->key = key;
    e->len = (uint32_t)len;
    e->id = d->n;
    int hash_oom = 0;
    HASH_ADD_KEYPTR(hh, d->head, e->key, e->len, e);
    if (hash_oom)
        return -1; /* the entry and key stay unused in their blocks */
    d->names[d->n] = key;
    *id = d->n++;
    return 0;
}

const char *xs_dict_name(const xs_dict *d, uint32_t id)
{
    return id < d->n ? d->names[id] : NULL;
}

int xs_dict_intern(xs_dict *d, const char *s, size_t len, uint32_t *id)
{
    dict_entry *e = NULL;
    HASH_FIND(hh, d->head, s, len, e);
    if (e) {
        *id = e->id;
        return 0;
    }
    return add(d, s, len, id);
}

int xs_dict_add_unique(xs_dict *d, const char *s, size_t len)
{
    uint32_t id;
    return add(d, s, len, &id);
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
    return d->bytes + HASH_OVERHEAD(hh, d->head);
}
