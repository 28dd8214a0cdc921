/*
 * binio.h -- the data dir's binary files: a buffered writer that checksums
 * sections and commits its file atomically, and the matching reader.
 *
 * A file is a sequence of sections:
 *
 *     tag u32 | reserved u32 | length u64 | payload[length] | crc32c u32
 *     | zero bytes to the next multiple of 8
 *
 * where the CRC-32C covers the payload.  Numbers are written in the
 * machine's byte order; a file starts with a section whose first field
 * says which, so a file from another byte order is refused, not misread.
 *
 * Writing goes to PATH.tmp; xs_bw_commit() flushes, fsyncs, renames it over
 * PATH and fsyncs the directory, so PATH is always either the old file or
 * the new one, whole.  Errors are sticky: a failed write makes every later
 * call a no-op and commit report the first failure.
 *
 * Reading is sequential.  Every failure names the file and the byte offset
 * ("data/snapshot.xsi: offset 1048612: section 'COOC' checksum mismatch")
 * and is sticky too, so a reader may chain reads and check once.
 */
#ifndef XS_BINIO_H
#define XS_BINIO_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/error.h"

#define XS_TAG(a, b, c, d)                                                   \
    ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 |              \
     (uint32_t)(d) << 24)

typedef struct xs_bw {
    int fd;
    char path[4096], tmp[4100];
    unsigned char *buf;
    size_t n;          /* bytes pending in buf */
    uint64_t off;      /* file offset of buf[0] */
    uint64_t len_at;   /* file offset of the open section's length */
    uint32_t crc;      /* of the open section's payload so far */
    int in_section;
    int err;           /* errno of the first failure, or -1: misuse */
} xs_bw;

/* Creates PATH.tmp.  Returns XS_OK or XS_ERR_IO (err says why). */
int xs_bw_open(xs_bw *w, const char *path, xs_error *err);
void xs_bw_begin(xs_bw *w, uint32_t tag);
void xs_bw_put(xs_bw *w, const void *p, size_t n);
void xs_bw_u32(xs_bw *w, uint32_t v);
void xs_bw_u64(xs_bw *w, uint64_t v);
void xs_bw_i64(xs_bw *w, int64_t v);
void xs_bw_f64(xs_bw *w, double v);
void xs_bw_end(xs_bw *w);
/* Bytes written so far. */
uint64_t xs_bw_size(const xs_bw *w);
/* Flush, fsync, rename over PATH, fsync the directory; the writer is
 * closed either way (on failure PATH.tmp is removed and PATH untouched). */
int xs_bw_commit(xs_bw *w, xs_error *err);
/* Closes and removes PATH.tmp. */
void xs_bw_abort(xs_bw *w);

typedef struct xs_br {
    int fd;
    char path[4096];
    unsigned char *buf;
    size_t pos, n;     /* buf[pos..n) not yet consumed */
    uint64_t off;      /* file offset of buf[0] */
    uint64_t size;     /* of the file */
    uint64_t sec_end;  /* file offset where the open section's payload ends */
    uint32_t tag, crc;
    int in_section;
    xs_error *err;     /* where the first failure is written */
    int failed;
} xs_br;

/* Opens path.  XS_ERR_NOTFOUND when it does not exist, XS_ERR_IO. */
int xs_br_open(xs_br *r, const char *path, xs_error *err);
/* Reads the next section's header.  Returns 1 with *tag and *len, 0 at the
 * end of the file, -1 on failure. */
int xs_br_begin(xs_br *r, uint32_t *tag, uint64_t *len);
/* Reads n bytes of the open section into p (large reads go straight to p).
 * Returns 0 or -1 (reading past the section is a failure). */
int xs_br_get(xs_br *r, void *p, size_t n);
/* A region of the file mapped into memory (xs_br_map). */
typedef struct xs_br_mapping {
    void *base;
    size_t len;
} xs_br_mapping;
/* Maps the next n bytes of the open section instead of reading them: the
 * pages are the page cache's, nothing is copied or zeroed; the checksum
 * still covers them (so each page is touched once, here).  Returns the
 * bytes (valid until xs_br_unmap(m), after the reader is closed too), or
 * NULL on failure or when n is 0.  The section's offset of the bytes must
 * suit their type: sections start 8-aligned. */
void *xs_br_map(xs_br *r, size_t n, xs_br_mapping *m);
void xs_br_unmap(xs_br_mapping *m);
uint32_t xs_br_u32(xs_br *r);
uint64_t xs_br_u64(xs_br *r);
int64_t xs_br_i64(xs_br *r);
double xs_br_f64(xs_br *r);
/* Bytes of the open section not read yet. */
uint64_t xs_br_left(const xs_br *r);
/* Skips what is left of the section, checks its checksum.  0 or -1. */
int xs_br_end(xs_br *r);
/* Records a failure of the content ("items: 3 names, want 4") at the
 * current offset; returns -1. */
int xs_br_fail(xs_br *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void xs_br_close(xs_br *r);

/* fsync of the directory holding path (after a rename or create). */
int xs_fsync_dir(const char *path);

#endif
