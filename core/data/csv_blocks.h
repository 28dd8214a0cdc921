/*
 * csv_blocks.h -- a CSV file streamed in blocks that end between records.
 *
 * The file is read in blocks of about `block` bytes, each cut after the
 * last line break that lies outside quotes, so every block holds whole
 * records and can be parsed on its own (data/csv.h, xs_csv_open_mem).
 * The bytes after the cut start the next block; the first block reaches
 * at least past the first non-blank line (a header is read from it
 * alone).  A record longer than a
 * block (or a quote left open: everything after it is one record) grows
 * the block until the record ends or the file does.
 *
 * Where the quotes are is found by their parity: in valid CSV every '"'
 * opens or closes a quoted field or is half of a "" inside one, so a line
 * break is outside quotes exactly when an even number of quotes precede it
 * in the block (blocks start outside quotes).  In a file that is not valid
 * CSV the cuts up to the first malformed record are still right, so the
 * parser of that record's block reports it, at its line, as it would on
 * the whole file.
 */
#ifndef XS_CSV_BLOCKS_H
#define XS_CSV_BLOCKS_H

#include <stdint.h>
#include <stdio.h>

#include "xsell/error.h"

#define XS_CSV_BLOCK (256u << 10) /* default block size in bytes: small
                                     blocks keep a round (threads x block,
                                     with its events and names) small */

typedef struct xs_csv_blocks {
    const char *path;
    FILE *f;
    size_t block;   /* bytes read per block */
    char *carry;    /* bytes after the last cut */
    size_t carry_len, carry_cap;
    uint64_t offset; /* file offset of the next block's first byte */
    uint64_t size;   /* the file's size; 0 when unknown (a pipe) */
    uint64_t read;   /* bytes read so far */
    int eof, started; /* started: a BOM was looked for */
    int handed;       /* a block was handed out */
} xs_csv_blocks;

/* One block: buf[0..len) with buf[len] == '\0', malloc'ed, owned by the
 * caller (free()); offset is where it starts in the file (after a BOM). */
typedef struct xs_csv_block {
    char *buf;
    size_t len;
    uint64_t offset;
} xs_csv_block;

/* Opens path for reading in blocks of block_size bytes (0: XS_CSV_BLOCK).
 * Returns XS_OK or XS_ERR_IO naming the file (missing, a directory). */
int xs_csv_blocks_open(xs_csv_blocks *b, const char *path, size_t block_size,
                       xs_error *err);
/* Reads the next block into *out.  Returns 1 for a block, 0 at the end of
 * the file, -1 with err set (XS_ERR_IO, XS_ERR_NOMEM).  A UTF-8 BOM at
 * the start of the file is skipped. */
int xs_csv_blocks_next(xs_csv_blocks *b, xs_csv_block *out, xs_error *err);
void xs_csv_blocks_close(xs_csv_blocks *b);

/* The length of buf[0..len)'s longest prefix that ends with a line break
 * outside quotes (0 when there is none); buf starts outside quotes.
 * Exposed for the tests. */
size_t xs_csv_safe_cut(const char *buf, size_t len);

#endif
