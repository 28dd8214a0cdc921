/*
 * crc32c.c -- CRC-32C (util/crc32c.h).
 *
 * On x86-64 the SSE4.2 crc32 instruction does the work, 8 bytes at a time
 * (about 20 GB/s); the processor is asked each call (a load of what
 * __builtin_cpu_init found), so nothing here is mutable state.  Elsewhere a
 * constant 16-entry table of the reflected polynomial 0x82F63B78 handles a
 * nibble per step: slower, the same result.  The unit test checks the
 * published check value ("123456789" -> 0xE3069283) and both paths
 * against each other.
 */
#include <string.h>

#include "util/crc32c.h"

/* nibble[n]: the CRC register after shifting in the 4 bits n. */
static const uint32_t nibble[16] = {
    0x00000000u, 0x105EC76Fu, 0x20BD8EDEu, 0x30E349B1u,
    0x417B1DBCu, 0x5125DAD3u, 0x61C69362u, 0x7198540Du,
    0x82F63B78u, 0x92A8FC17u, 0xA24BB5A6u, 0xB21572C9u,
    0xC38D26C4u, 0xD3D3E1ABu, 0xE330A81Au, 0xF36E6F75u};

uint32_t xs_crc32c_portable(uint32_t crc, const void *p, size_t n)
{
    const unsigned char *b = p;
    crc = ~crc;
    while (n--) {
        crc ^= *b++;
        crc = (crc >> 4) ^ nibble[crc & 15];
        crc = (crc >> 4) ^ nibble[crc & 15];
    }
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t crc, const unsigned char *p, size_t n)
{
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        n -= 8;
    }
    crc = (uint32_t)c;
    while (n--)
        crc = __builtin_ia32_crc32qi(crc, *p++);
    return ~crc;
}

uint32_t xs_crc32c(uint32_t crc, const void *p, size_t n)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2"))
        return crc_hw(crc, p, n);
    return xs_crc32c_portable(crc, p, n);
}
#else
uint32_t xs_crc32c(uint32_t crc, const void *p, size_t n)
{
    return xs_crc32c_portable(crc, p, n);
}
#endif
