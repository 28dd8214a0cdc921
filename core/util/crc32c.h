/*
 * crc32c.h -- CRC-32C (Castagnoli), the checksum of the data dir's files.
 *
 * The same polynomial as iSCSI, ext4 and LevelDB's log: the SSE4.2 crc32
 * instruction computes it when the processor has one (about 8 bytes a
 * cycle), a table otherwise.  xs_crc32c(0, p, n) starts a checksum;
 * xs_crc32c(c, q, m) continues it over the next bytes.
 */
#ifndef XS_CRC32C_H
#define XS_CRC32C_H

#include <stddef.h>
#include <stdint.h>

uint32_t xs_crc32c(uint32_t crc, const void *p, size_t n);
/* The table path alone (for the tests: both paths agree). */
uint32_t xs_crc32c_portable(uint32_t crc, const void *p, size_t n);

#endif
