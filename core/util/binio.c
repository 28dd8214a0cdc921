/*
 * binio.c -- sectioned, checksummed binary files (util/binio.h).
 *
 * The writer keeps a 1 MiB buffer; a section's length is unknown until it
 * ends, so its header is written with length 0 and patched with pwrite()
 * when the section ends (the file is a regular file we own).  The reader
 * keeps the same size of buffer, except that a read larger than the buffer
 * goes straight into the caller's memory: the pools of a co-occurrence
 * table are read once, never copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/binio.h"
#include "util/crc32c.h"

#define BUF_SIZE (1u << 20)
#define HEADER 16 /* tag, reserved, length */

/* ---- writing ------------------------------------------------------------- */

int xs_bw_open(xs_bw *w, const char *path, xs_error *err)
{
    memset(w, 0, sizeof *w);
    w->fd = -1;
    if ((size_t)snprintf(w->path, sizeof w->path, "%s", path) >=
        sizeof w->path)
        return xs_error_set(err, XS_ERR_IO, "%s: path too long", path);
    snprintf(w->tmp, sizeof w->tmp, "%s.tmp", path);
    w->buf = malloc(BUF_SIZE);
    if (!w->buf)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    w->fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        int e = errno;
        free(w->buf);
        w->buf = NULL;
        return xs_error_set(err, XS_ERR_IO, "%s: %s", w->tmp, strerror(e));
    }
    return XS_OK;
}

static void flush(xs_bw *w)
{
    size_t done = 0;
    while (!w->err && done < w->n) {
        ssize_t k = write(w->fd, w->buf + done, w->n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            w->err = k < 0 ? errno : EIO;
        else
            done += (size_t)k;
    }
    w->off += w->n;
    w->n = 0;
}

static void raw(xs_bw *w, const void *p, size_t n)
{
    if (w->err)
        return;
    if (w->n + n > BUF_SIZE)
        flush(w);
    if (n >= BUF_SIZE) { /* large: straight to the file */
        const unsigned char *b = p;
        size_t done = 0;
        while (!w->err && done < n) {
            ssize_t k = write(w->fd, b + done, n - done);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0)
                w->err = k < 0 ? errno : EIO;
            else
                done += (size_t)k;
        }
        w->off += n;
        return;
    }
    memcpy(w->buf + w->n, p, n);
    w->n += n;
}

void xs_bw_begin(xs_bw *w, uint32_t tag)
{
    if (w->in_section && !w->err)
        w->err = -1;
    uint32_t h[4] = {tag, 0, 0, 0};
    w->len_at = w->off + w->n + 8;
    raw(w, h, sizeof h);
    w->crc = 0;
    w->in_section = 1;
}

void xs_bw_put(xs_bw *w, const void *p, size_t n)
{
    if (!w->in_section && !w->err)
        w->err = -1;
    w->crc = xs_crc32c(w->crc, p, n);
    raw(w, p, n);
}

void xs_bw_u32(xs_bw *w, uint32_t v) { xs_bw_put(w, &v, sizeof v); }
void xs_bw_u64(xs_bw *w, uint64_t v) { xs_bw_put(w, &v, sizeof v); }
void xs_bw_i64(xs_bw *w, int64_t v) { xs_bw_put(w, &v, sizeof v); }
void xs_bw_f64(xs_bw *w, double v) { xs_bw_put(w, &v, sizeof v); }

void xs_bw_end(xs_bw *w)
{
    if (!w->in_section && !w->err)
        w->err = -1;
    uint64_t len = w->off + w->n - (w->len_at + 8);
    uint32_t crc = w->crc;
    static const unsigned char zero[8];
    raw(w, &crc, sizeof crc);
    /* the next section starts 8-aligned, so arrays in it can be mapped */
    raw(w, zero, (8 - (w->off + w->n) % 8) % 8);
    w->in_section = 0;
    if (w->err)
        return;
    if (w->len_at >= w->off) { /* still in the buffer */
        memcpy(w->buf + (w->len_at - w->off), &len, sizeof len);
        return;
    }
    flush(w);
    if (!w->err &&
        pwrite(w->fd, &len, sizeof len, (off_t)w->len_at) != sizeof len)
        w->err = errno ? errno : EIO;
}

uint64_t xs_bw_size(const xs_bw *w)
{
    return w->off + w->n;
}

int xs_fsync_dir(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int xs_bw_commit(xs_bw *w, xs_error *err)
{
    flush(w);
    if (!w->err && w->in_section)
        w->err = -1;
    if (!w->err && fsync(w->fd))
        w->err = errno;
    if (close(w->fd) && !w->err)
        w->err = errno;
    w->fd = -1;
    free(w->buf);
    w->buf = NULL;
    if (!w->err && rename(w->tmp, w->path))
        w->err = errno;
    if (w->err) {
        int e = w->err;
        unlink(w->tmp);
        return xs_error_set(err, XS_ERR_IO, "%s: %s", w->tmp,
                            e < 0 ? "sections not closed" : strerror(e));
    }
    if (xs_fsync_dir(w->path))
        return xs_error_set(err, XS_ERR_IO, "%s: fsync of its directory: %s",
                            w->path, strerror(errno));
    return XS_OK;
}

void xs_bw_abort(xs_bw *w)
{
    if (w->fd >= 0) {
        close(w->fd);
        unlink(w->tmp);
    }
    w->fd = -1;
    free(w->buf);
    w->buf = NULL;
}

/* ---- reading ------------------------------------------------------------- */

int xs_br_fail(xs_br *r, const char *fmt, ...)
{
    if (r->failed)
        return -1;
    r->failed = 1;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xs_error_set(r->err, XS_ERR_DATA, "%s: offset %llu: %s", r->path,
                 (unsigned long long)(r->off + r->pos), msg);
    return -1;
}

int xs_br_open(xs_br *r, const char *path, xs_error *err)
{
    memset(r, 0, sizeof *r);
    r->err = err;
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0)
        return xs_error_set(err, errno == ENOENT ? XS_ERR_NOTFOUND : XS_ERR_IO,
                            "%s: %s", path, strerror(errno));
    struct stat st;
    r->buf = malloc(BUF_SIZE);
    if (fstat(r->fd, &st) || !r->buf) {
        int e = errno;
        close(r->fd);
        free(r->buf);
        r->fd = -1;
        r->buf = NULL;
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(e));
    }
    r->size = (uint64_t)st.st_size;
    return XS_OK;
}

/* Reads exactly n bytes from the file into p. */
static int read_full(xs_br *r, void *p, size_t n)
{
    unsigned char *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t k = read(r->fd, b + done, n - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return xs_br_fail(r, "read: %s", strerror(errno));
        if (k == 0)
            return xs_br_fail(r, "file ends inside a section");
        done += (size_t)k;
    }
    return 0;
}

/* Bytes straight from the file (no section accounting). */
static int take(xs_br *r, void *p, size_t n)
{
    if (r->failed)
        return -1;
    unsigned char *b = p;
    size_t have = r->n - r->pos;
    if (have >= n) {
        memcpy(b, r->buf + r->pos, n);
        r->pos += n;
        return 0;
    }
    memcpy(b, r->buf + r->pos, have);
    b += have;
    n -= have;
    r->off += r->n;
    r->pos = r->n = 0;
    if (n >= BUF_SIZE / 2) {
        if (read_full(r, b, n))
            return -1;
        r->off += n;
        return 0;
    }
    uint64_t left = r->size - r->off;
    size_t want = left < BUF_SIZE ? (size_t)left : BUF_SIZE;
    if (want < n)
        return xs_br_fail(r, "file ends inside a section");
    if (read_full(r, r->buf, want))
        return -1;
    r->n = want;
    memcpy(b, r->buf, n);
    r->pos = n;
    return 0;
}

int xs_br_begin(xs_br *r, uint32_t *tag, uint64_t *len)
{
    if (r->failed)
        return -1;
    if (r->in_section)
        return xs_br_fail(r, "section not finished");
    if (r->off + r->pos == r->size)
        return 0;
    uint32_t h[2];
    uint64_t l;
    if (r->size - (r->off + r->pos) < HEADER + 4)
        return xs_br_fail(r, "file ends inside a section header");
    if (take(r, h, sizeof h) || take(r, &l, sizeof l))
        return -1;
    if (l > r->size - (r->off + r->pos) - 4)
        return xs_br_fail(r, "section of %llu bytes runs past the end of "
                          "the file", (unsigned long long)l);
    r->tag = h[0];
    r->sec_end = r->off + r->pos + l;
    r->crc = 0;
    r->in_section = 1;
    *tag = h[0];
    *len = l;
    return 1;
}

uint64_t xs_br_left(const xs_br *r)
{
    return r->in_section ? r->sec_end - (r->off + r->pos) : 0;
}

int xs_br_get(xs_br *r, void *p, size_t n)
{
    if (r->failed)
        return -1;
    if (!r->in_section || n > xs_br_left(r))
        return xs_br_fail(r, "read past the end of section %.4s",
                          (const char *)&r->tag);
    if (take(r, p, n))
        return -1;
    r->crc = xs_crc32c(r->crc, p, n);
    return 0;
}

void *xs_br_map(xs_br *r, size_t n, xs_br_mapping *m)
{
    memset(m, 0, sizeof *m);
    if (r->failed)
        return NULL;
    if (!r->in_section || n > xs_br_left(r)) {
        xs_br_fail(r, "mapping past the end of section %.4s",
                   (const char *)&r->tag);
        return NULL;
    }
    if (n == 0)
        return NULL;
    uint64_t at = r->off + r->pos;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t start = at - at % (uint64_t)page;
    size_t len = (size_t)(at - start) + n;
    /* private and writable: pages are the file's until written, and a
     * write (none is planned) would copy, never reach the file */
    void *base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE, r->fd,
                      (off_t)start);
    if (base == MAP_FAILED) {
        xs_br_fail(r, "mmap: %s", strerror(errno));
        return NULL;
    }
    unsigned char *p = (unsigned char *)base + (at - start);
    r->crc = xs_crc32c(r->crc, p, n);
    r->off = at + n;
    r->pos = r->n = 0;
    if (lseek(r->fd, (off_t)r->off, SEEK_SET) < 0) {
        munmap(base, len);
        xs_br_fail(r, "lseek: %s", strerror(errno));
        return NULL;
    }
    m->base = base;
    m->len = len;
    return p;
}

void xs_br_unmap(xs_br_mapping *m)
{
    if (m->base)
        munmap(m->base, m->len);
    memset(m, 0, sizeof *m);
}

uint32_t xs_br_u32(xs_br *r)
{
    uint32_t v = 0;
    return xs_br_get(r, &v, sizeof v) ? 0 : v;
}

uint64_t xs_br_u64(xs_br *r)
{
    uint64_t v = 0;
    return xs_br_get(r, &v, sizeof v) ? 0 : v;
}

int64_t xs_br_i64(xs_br *r)
{
    int64_t v = 0;
    return xs_br_get(r, &v, sizeof v) ? 0 : v;
}

double xs_br_f64(xs_br *r)
{
    double v = 0;
    return xs_br_get(r, &v, sizeof v) ? 0 : v;
}

int xs_br_end(xs_br *r)
{
    if (r->failed)
        return -1;
    unsigned char tmp[4096];
    uint64_t left;
    while ((left = xs_br_left(r)) > 0)
        if (xs_br_get(r, tmp, left < sizeof tmp ? (size_t)left : sizeof tmp))
            return -1;
    uint32_t crc;
    unsigned char pad[8];
    if (take(r, &crc, sizeof crc))
        return -1;
    uint64_t at = r->off + r->pos, skip = (8 - at % 8) % 8;
    if (skip > r->size - at || take(r, pad, (size_t)skip))
        return xs_br_fail(r, "file ends inside a section's padding");
    r->in_section = 0;
    if (crc != r->crc) {
        return xs_br_fail(r, "section %.4s: checksum mismatch (stored "
                          "%08x, computed %08x)", (const char *)&r->tag, crc,
                          r->crc);
    }
    return 0;
}

void xs_br_close(xs_br *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    free(r->buf);
    r->buf = NULL;
}
