/*
 * hash.h -- the string hash of the dictionary (core/util/dict.c).
 *
 * A multiply-mix over 8-byte words in the style of wyhash/xxh3's short-key
 * path, written here: each word is xored into a 64-bit state that is then
 * multiplied by an odd constant and folded (high half into low half), so
 * every input bit reaches the low bits uthash uses to pick a bucket.  The
 * length is mixed into the seed, so "a" and "a\0" hash apart.  Loads go
 * through memcpy (no alignment assumed, UBSan clean); the result depends on the
 * machine's byte order, which is fine because it is never persisted: the
 * snapshot image stores names in id order and rebuilds the table.
 *
 * Measured against uthash's default (Jenkins) in bench/dict.
 */
#ifndef XS_HASH_H
#define XS_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define XS_HASH_K1 0x9e3779b97f4a7c15ULL /* odd: a bijective multiply */
#define XS_HASH_K2 0xbf58476d1ce4e5b9ULL
#define XS_HASH_K3 0x94d049bb133111ebULL

static inline uint64_t xs_hash_load64(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static inline uint64_t xs_hash_load32(const unsigned char *p)
{
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

static inline uint64_t xs_hash_step(uint64_t h, uint64_t w)
{
    h = (h ^ w) * XS_HASH_K1;
    return h ^ (h >> 32);
}

/* The 32-bit hash of len bytes at key (any bytes, NULs included).  Keys of
 * up to 8 bytes are one step: 4..8 bytes as two 4-byte loads that overlap,
 * 1..3 bytes as first, middle and last byte (together they cover every
 * byte; the length in the seed tells the overlaps apart).  Longer keys step
 * over whole words and end with the last 8 bytes, overlapping the previous
 * word; only fixed-size memcpy, which compilers turn into plain loads. */
static inline uint32_t xs_hash_bytes(const void *key, size_t len)
{
    const unsigned char *p = key;
    uint64_t h = XS_HASH_K3 ^ ((uint64_t)len * XS_HASH_K1);
    if (len <= 8) {
        uint64_t w = 0;
        if (len >= 4)
            w = xs_hash_load32(p) << 32 | xs_hash_load32(p + len - 4);
        else if (len)
            w = (uint64_t)p[0] << 16 | (uint64_t)p[len >> 1] << 8 | p[len - 1];
        h = xs_hash_step(h, w);
    } else {
        size_t n = len;
        while (n > 8) {
            h = xs_hash_step(h, xs_hash_load64(p));
            p += 8;
            n -= 8;
        }
        h = xs_hash_step(h, xs_hash_load64(p + n - 8));
    }
    /* splitmix64's finaliser: every bit reaches the low bits */
    h ^= h >> 30;
    h *= XS_HASH_K2;
    h ^= h >> 27;
    h *= XS_HASH_K3;
    h ^= h >> 31;
    return (uint32_t)h;
}

/* uthash's hook: `#define HASH_FUNCTION XS_HASH_FUNCTION` before including
 * util/xs_uthash.h (bench/dict does, to compare it with Jenkins on the same
 * table; dict.c calls xs_hash_bytes itself, the integer-keyed tables keep
 * Jenkins). */
#define XS_HASH_FUNCTION(keyptr, keylen, hashv) \
    ((hashv) = xs_hash_bytes((keyptr), (size_t)(keylen)))

#endif
