/*
 * dict.c -- the string <-> dense id dictionary.
 *
 * The table is split into XS_DICT_SHARDS shards by the top bits of the
 * string's hash (util/dict_bulk.h); each shard owns its slots and its
 * string arena, so a bulk loader may fill different shards from different
 * threads at once (xs_dict_shard_intern) and number the new entries
 * afterwards, in the order it chooses (xs_dict_number).  Every other path
 * (intern, find, add_unique) goes through the same shards on one thread.
 *
 * Each name is one record in its shard's arena, [id u32][length u32][bytes]
 * [NUL], never moved (chunks are only added), so names handed
 * out stay valid and a record is the entry a bulk loader holds.  A shard
 * finds records by open addressing with linear probing: two parallel
 * arrays, the hash of the record in each slot (compared first, so a probe
 * rarely touches the arena) and a pointer to its bytes; at most 7 slots in
 * 10 are used (the table doubles past that).  names[] maps id -> bytes; a
 * record added by xs_dict_shard_intern has id XS_NONE and is not in
 * names[] until numbered.  The cost per distinct name is its record (9
 * bytes + the name, rounded to 4), 12 bytes per slot at 35 to 70% load and
 * 8 in names[]: about 50 bytes for an 8-byte id, against ~115 with a uthash
 * handle per entry.  Arena chunks start at 1 KiB and double to 64 KiB, so a
 * dictionary of a few names stays small although it has 32 shards.
 *
 * The hash is util/hash.h's word-at-a-time multiply-mix (bench/dict),
 * computed once per lookup; it is never stored outside the process (images
 * keep names in id order and rebuild the table), so changing it changes no
 * file format.
 */
#include <stdlib.h>
#include <string.h>

#include "util/dict_bulk.h"
#include "util/hash.h"
#include "xsell/dict.h"
#include "xsell/plugin.h"

#define ARENA_CHUNK_MIN 1024
#define ARENA_CHUNK_MAX (64 * 1024)
#define SLOTS_MIN 16
#define REC_HEAD 8 /* id, length */

typedef struct arena_chunk {
    struct arena_chunk *next;
    size_t used, cap;
    char data[]; /* records, 4-byte aligned */
} arena_chunk;

typedef struct shard {
    uint32_t *tag; /* hash of each slot's name */
    char **key;    /* each slot's name (its record's bytes); NULL: empty */
    uint32_t mask; /* slots - 1; no slots before the first name */
    uint32_t used;
    arena_chunk *chunks;
    size_t bytes;
} shard;

struct xs_dict {
    shard sh[XS_DICT_SHARDS];
    const char **names;
    uint32_t n, cap;
    size_t bytes; /* names[] */
};

/* A record's fields, from its bytes (memcpy: no alignment assumed). */
static uint32_t rec_get(const char *key, int field)
{
    uint32_t v;
    memcpy(&v, key - REC_HEAD + 4 * field, sizeof v);
    return v;
}

static void rec_set(char *key, int field, uint32_t v)
{
    memcpy(key - REC_HEAD + 4 * field, &v, sizeof v);
}

enum { REC_ID, REC_LEN };

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
        free(sh->tag);
        free(sh->key);
        for (arena_chunk *c = sh->chunks, *nc; c; c = nc) {
            nc = c->next;
            free(c);
        }
    }
    free(d->names);
    free(d);
}

/* Copies s into the shard's arena as a record without an id; returns its
 * bytes. */
static char *arena_copy(shard *sh, const char *s, size_t len)
{
    arena_chunk *c = sh->chunks;
    size_t need = (REC_HEAD + len + 1 + 3) & ~(size_t)3;
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
    char *key = c->data + c->used + REC_HEAD;
    rec_set(key, REC_ID, XS_NONE);
    rec_set(key, REC_LEN, (uint32_t)len);
    memcpy(key, s, len);
    key[len] = '\0';
    c->used += need;
    return key;
}

/* The slot holding s, or the empty slot where it would go. */
static uint32_t probe(const shard *sh, const char *s, size_t len,
                      uint32_t hash)
{
    uint32_t i = hash & sh->mask;
    for (;; i = (i + 1) & sh->mask) {
        const char *k = sh->key[i];
        if (!k || (sh->tag[i] == hash && rec_get(k, REC_LEN) == len &&
                   !memcmp(k, s, len)))
            return i;
    }
}

static char *lookup(const xs_dict *d, const char *s, size_t len,
                    uint32_t hash)
{
    const shard *sh = &d->sh[xs_dict_shard_of(hash)];
    return sh->key ? sh->key[probe(sh, s, len, hash)] : NULL;
}

/* Doubles sh's slots (or makes the first ones). */
static int grow(shard *sh)
{
    uint32_t slots = sh->key ? (sh->mask + 1) * 2 : SLOTS_MIN;
    uint32_t *tag = malloc((size_t)slots * sizeof *tag);
    char **key = calloc(slots, sizeof *key);
    if (!tag || !key || slots == 0) {
        free(tag);
        free(key);
        return -1;
    }
    uint32_t mask = slots - 1;
    if (sh->key)
        for (uint32_t i = 0; i <= sh->mask; i++) {
            if (!sh->key[i])
                continue;
            uint32_t j = sh->tag[i] & mask;
            while (key[j])
                j = (j + 1) & mask;
            key[j] = sh->key[i];
            tag[j] = sh->tag[i];
        }
    sh->bytes += (size_t)slots * (sizeof *tag + sizeof *key) -
                 (sh->key ? (size_t)(sh->mask + 1) *
                                (sizeof *tag + sizeof *key)
                          : 0);
    free(sh->tag);
    free(sh->key);
    sh->tag = tag;
    sh->key = key;
    sh->mask = mask;
    return 0;
}

/* Adds s to its shard without an id (the caller knows it is not there). */
static char *shard_add(xs_dict *d, const char *s, size_t len, uint32_t hash)
{
    if (len > UINT32_MAX - REC_HEAD - 4)
        return NULL;
    shard *sh = &d->sh[xs_dict_shard_of(hash)];
    if ((!sh->key || (uint64_t)(sh->used + 1) * 10 >
                         (uint64_t)(sh->mask + 1) * 7) &&
        grow(sh))
        return NULL;
    char *key = arena_copy(sh, s, len);
    if (!key)
        return NULL;
    uint32_t i = probe(sh, s, len, hash);
    sh->key[i] = key;
    sh->tag[i] = hash;
    sh->used++;
    return key;
}

int xs_dict_number(xs_dict *d, xs_dict_entry *e, uint32_t *id)
{
    char *key = (char *)e;
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
    d->names[d->n] = key;
    rec_set(key, REC_ID, d->n);
    *id = d->n++;
    return 0;
}

uint32_t xs_dict_find(const xs_dict *d, const char *s, size_t len)
{
    const char *k = lookup(d, s, len, xs_hash_bytes(s, len));
    return k ? rec_get(k, REC_ID) : XS_NONE;
}

/* Adds s as the next id (the caller knows it is not in d). */
static int add(xs_dict *d, const char *s, size_t len, uint32_t hash,
               uint32_t *id)
{
    if (d->n == XS_NONE - 1)
        return -1;
    char *k = shard_add(d, s, len, hash);
    return k ? xs_dict_number(d, (xs_dict_entry *)k, id) : -1;
}

xs_dict_entry *xs_dict_shard_intern(xs_dict *d, const char *s, size_t len,
                                    uint32_t hash, int *added)
{
    char *k = lookup(d, s, len, hash);
    *added = !k;
    return (xs_dict_entry *)(k ? k : shard_add(d, s, len, hash));
}

uint32_t xs_dict_entry_id(const xs_dict_entry *e)
{
    return rec_get((const char *)e, REC_ID);
}

const char *xs_dict_name(const xs_dict *d, uint32_t id)
{
    return id < d->n ? d->names[id] : NULL;
}

int xs_dict_intern(xs_dict *d, const char *s, size_t len, uint32_t *id)
{
    uint32_t hash = xs_hash_bytes(s, len);
    char *k = lookup(d, s, len, hash);
    if (k && rec_get(k, REC_ID) != XS_NONE) {
        *id = rec_get(k, REC_ID);
        return 0;
    }
    if (k) /* left unnumbered by a failed bulk load: number it now */
        return xs_dict_number(d, (xs_dict_entry *)k, id);
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
    *len = rec_get(d->names[id], REC_LEN);
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
        bytes += d->sh[s].bytes;
    return bytes;
}
