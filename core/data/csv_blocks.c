/*
 * csv_blocks.c -- reading a CSV file in blocks cut between records (see
 * csv_blocks.h).
 *
 * Invariants: carry[0..carry_len) are the bytes read but not yet handed
 * out; they start outside quotes (they follow a cut, or are the file's
 * start).  Each block handed out is a fresh buffer the caller owns, so
 * blocks can be parsed (in place) on other threads while the next ones
 * are read.  Memory: one block being filled plus the carry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/csv_blocks.h"

/* Offset just past the last '\n' of p[0..n), or 0. */
static size_t last_newline(const char *p, size_t n)
{
    while (n && p[n - 1] != '\n')
        n--;
    return n;
}

size_t xs_csv_safe_cut(const char *buf, size_t len)
{
    size_t cut = 0, i = 0;
    for (;;) {
        /* buf[i..) starts outside quotes: up to the next quote it stays so */
        const char *q = memchr(buf + i, '"', len - i);
        size_t j = q ? (size_t)(q - buf) : len;
        size_t k = last_newline(buf + i, j - i);
        if (k)
            cut = i + k;
        if (!q)
            return cut;
        const char *r = memchr(q + 1, '"', len - j - 1); /* the closing one */
        if (!r)
            return cut;
        i = (size_t)(r - buf) + 1;
    }
}

/* 1 when p[0..n) has only line breaks, spaces and tabs (blank lines). */
static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != '\n' && p[i] != '\r' && p[i] != ' ' && p[i] != '\t')
            return 0;
    return 1;
}

int xs_csv_blocks_open(xs_csv_blocks *b, const char *path, size_t block_size,
                       xs_error *err)
{
    memset(b, 0, sizeof *b);
    b->path = path;
    b->block = block_size ? block_size : XS_CSV_BLOCK;
    b->f = fopen(path, "rb");
    if (!b->f)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(b->f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(b->f);
            b->f = NULL;
            return xs_error_set(err, XS_ERR_IO, "%s: is a directory", path);
        }
        if (S_ISREG(st.st_mode))
            b->size = (uint64_t)st.st_size;
    }
    return XS_OK;
}

void xs_csv_blocks_close(xs_csv_blocks *b)
{
    if (b->f)
        fclose(b->f);
    free(b->carry);
    memset(b, 0, sizeof *b);
}

/* Reads into buf[*len..cap) until full or the end; -1 on a read error. */
static int fill(xs_csv_blocks *b, char *buf, size_t *len, size_t cap)
{
    while (*len < cap && !b->eof) {
        size_t got = fread(buf + *len, 1, cap - *len, b->f);
        *len += got;
        b->read += got;
        if (got == 0) {
            if (ferror(b->f))
                return -1;
            b->eof = 1;
        }
    }
    return 0;
}

int xs_csv_blocks_next(xs_csv_blocks *b, xs_csv_block *out, xs_error *err)
{
    memset(out, 0, sizeof *out);
    if (b->eof && b->carry_len == 0)
        return 0;
    size_t want = b->block, len = b->carry_len, cut;
    if (b->size && b->size - b->read < want) /* a small file: no more */
        want = (size_t)(b->size - b->read) + 1; /* + 1: sees the end */
    size_t cap = b->carry_len + want;
    char *buf = malloc(cap + 1);
    if (!buf)
        goto nomem;
    if (b->carry_len)
        memcpy(buf, b->carry, b->carry_len);
    for (;;) {
        if (fill(b, buf, &len, cap)) {
            int e = errno;
            free(buf);
            return xs_error_set(err, XS_ERR_IO, "%s: read failed: %s",
                                b->path, strerror(e));
        }
        if (!b->started && (len >= 3 || b->eof)) {
            b->started = 1;
            if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {
                memmove(buf, buf + 3, len - 3);
                len -= 3;
                b->offset = 3;
                continue; /* fill the three bytes back */
            }
        }
        if (b->eof) {
            cut = len;
            break;
        }
        cut = b->started ? xs_csv_safe_cut(buf, len) : 0;
        /* the first block holds the first record (a header is read alone) */
        if (cut && (b->handed || !blank(buf, cut)))
            break;
        /* no whole record yet: a longer block */
        size_t ncap = cap * 2;
        char *nbuf = realloc(buf, ncap + 1);
        if (!nbuf)
            goto nomem;
        buf = nbuf;
        cap = ncap;
    }
    size_t rest = len - cut;
    if (rest > b->carry_cap) {
        char *c = realloc(b->carry, rest);
        if (!c)
            goto nomem;
        b->carry = c;
        b->carry_cap = rest;
    }
    if (rest)
        memcpy(b->carry, buf + cut, rest);
    b->carry_len = rest;
    if (cut == 0) { /* only the end of an empty file */
        free(buf);
        return 0;
    }
    buf[cut] = '\0';
    out->buf = buf;
    out->len = cut;
    out->offset = b->offset;
    b->offset += cut;
    b->handed = 1;
    return 1;
nomem:
    free(buf);
    return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", b->path);
}
