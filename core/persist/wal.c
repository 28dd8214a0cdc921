/*
 * wal.c -- the write-ahead log (persist/wal.h).
 *
 * Opening maps the file read-only and walks it record by record.  The
 * first record that does not check out (short header, bad magic, length
 * past the end, checksum mismatch, seq out of order) ends the good part;
 * then the rest of the file is searched for any record that does check
 * out.  None: the damage is a torn tail, the remains of a write the crash
 * interrupted; it is cut off (ftruncate) and reported with its offset.
 * Some: the damage is in the middle, which no crash of ours produces, so
 * the log is refused unless the caller asked to recover, which skips to
 * the next good record and counts what it dropped.
 *
 * Appending is one writev(2) of header and payload at the end of the file
 * (O_APPEND).  Durability is tracked in bytes: `appended` and `synced`
 * under the log's mutex; a commit waits until `synced` passes what was
 * appended when it was called, running the fdatasync itself when no other
 * thread is already running one (group commit).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "persist/wal.h"
#include "util/binio.h"
#include "util/crc32c.h"

#define MAGIC XS_TAG('X', 'S', 'W', 'L')
#define HEADER 24
#define MAX_RECORD (1u << 30)

struct xs_wal {
    int fd;
    char path[4096];
    xs_fsync_policy policy;
    pthread_mutex_t mu;
    pthread_cond_t synced_cv;
    uint64_t last_seq;  /* written under the engine's writer mutex */
    uint64_t records;   /* in the file */
    uint64_t appended;  /* bytes in the file */
    uint64_t synced;    /* bytes known durable */
    int syncing;        /* a thread is in fdatasync */
    int sync_errno;     /* of the last failed fdatasync, 0 after a good one */
};

typedef struct rec_head {
    uint32_t magic, len;
    uint64_t seq;
    uint32_t type, crc;
} rec_head;

static uint32_t rec_crc(const rec_head *h, const void *payload)
{
    uint32_t c = xs_crc32c(0, &h->len, sizeof h->len);
    c = xs_crc32c(c, &h->seq, sizeof h->seq);
    c = xs_crc32c(c, &h->type, sizeof h->type);
    return xs_crc32c(c, payload, h->len);
}

/* 1 when a whole, checked record starts at off. */
static int good_at(const unsigned char *p, uint64_t size, uint64_t off,
                   rec_head *h)
{
    if (size - off < HEADER)
        return 0;
    memcpy(h, p + off, sizeof *h);
    return h->magic == MAGIC && h->len <= MAX_RECORD &&
           h->len <= size - off - HEADER &&
           (h->type >= XS_WAL_INGEST && h->type <= XS_WAL_INGEST_TYPED) &&
           rec_crc(h, p + off + HEADER) == h->crc;
}

/* The next offset after `from` where a good record starts, or size. */
static uint64_t next_good(const unsigned char *p, uint64_t size, uint64_t from)
{
    rec_head h;
    for (uint64_t off = from; off + HEADER <= size; off++) {
        uint32_t magic;
        memcpy(&magic, p + off, sizeof magic);
        if (magic == MAGIC && good_at(p, size, off, &h))
            return off;
    }
    return size;
}

static const char *damage_name(const unsigned char *p, uint64_t size,
                               uint64_t off)
{
    rec_head h;
    if (size - off < HEADER)
        return "a record header cut short";
    memcpy(&h, p + off, sizeof h);
    if (h.magic != MAGIC)
        return "no record marker";
    if (h.len > MAX_RECORD || h.len > size - off - HEADER)
        return "a record running past the end of the file";
    return "a record failing its checksum";
}

/* Walks the mapped log; see the top of the file. */
static int scan(xs_wal *w, const unsigned char *p, uint64_t size,
                uint64_t after, int recover, xs_wal_apply_fn apply, void *arg,
                xs_wal_report *rep, uint64_t *good_end, xs_error *err)
{
    uint64_t off = 0, expect = 0; /* 0: the first record sets it */
    rec_head h;
    while (off < size) {
        if (good_at(p, size, off, &h) && (expect == 0 || h.seq == expect)) {
            if (expect == 0 && h.seq > after + 1 && !recover)
                return xs_error_set(
                    err, XS_ERR_DATA,
                    "%s: offset 0: the log starts at record %llu, the "
                    "snapshot ends at %llu: records are missing (--recover "
                    "starts anyway)", w->path, (unsigned long long)h.seq,
                    (unsigned long long)after);
            if (expect == 0 && h.seq > after + 1)
                rep->dropped_seqs += h.seq - after - 1;
            if (h.seq > after) {
                if (apply(arg, h.type, h.seq, p + off + HEADER, h.len, err))
                    return err->code ? err->code : XS_ERR_DATA;
                rep->records++;
            } else {
                rep->skipped++;
            }
            w->last_seq = h.seq > w->last_seq ? h.seq : w->last_seq;
            w->records++;
            expect = h.seq + 1;
            off += HEADER + h.len;
            continue;
        }
        const char *what = good_at(p, size, off, &h)
                               ? "a record out of sequence"
                               : damage_name(p, size, off);
        uint64_t next = next_good(p, size, off + 1);
        if (next == size) { /* a torn tail */
            rep->torn_at = off;
            rep->torn_bytes = size - off;
            break;
        }
        if (!recover)
            return xs_error_set(
                err, XS_ERR_DATA,
                "%s: offset %llu: %s, and good records follow at offset "
                "%llu: the log is damaged before its end (--recover keeps "
                "the records that read and drops the rest)",
                w->path, (unsigned long long)off, what,
                (unsigned long long)next);
        if (!rep->dropped)
            snprintf(rep->first_damage, sizeof rep->first_damage,
                     "offset %llu: %s", (unsigned long long)off, what);
        rep->dropped += next - off;
        good_at(p, size, next, &h);
        if (expect && h.seq > expect)
            rep->dropped_seqs += h.seq - expect;
        if (expect && h.seq < expect) { /* an old copy: skip it too */
            off = next + HEADER + h.len;
            rep->dropped += HEADER + h.len;
            continue;
        }
        expect = h.seq;
        off = next;
    }
    *good_end = rep->torn_at == UINT64_MAX ? size : rep->torn_at;
    if (rep->dropped && off >= size)
        *good_end = size;
    return XS_OK;
}

int xs_wal_open(const char *path, xs_fsync_policy policy, uint64_t after,
                int recover, xs_wal_apply_fn apply, void *arg, xs_wal **out,
                xs_wal_report *rep, xs_error *err)
{
    *out = NULL;
    memset(rep, 0, sizeof *rep);
    rep->torn_at = UINT64_MAX;
    xs_wal *w = calloc(1, sizeof *w);
    if (!w)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    snprintf(w->path, sizeof w->path, "%s", path);
    w->policy = policy;
    w->last_seq = after;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->synced_cv, NULL);
    w->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    struct stat st;
    if (w->fd < 0 || fstat(w->fd, &st)) {
        int rc = xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
        xs_wal_close(w);
        return rc;
    }
    uint64_t size = (uint64_t)st.st_size, good_end = 0;
    int rc = XS_OK;
    if (size) {
        void *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, w->fd, 0);
        if (p == MAP_FAILED) {
            rc = xs_error_set(err, XS_ERR_IO, "%s: mmap: %s", path,
                              strerror(errno));
        } else {
            posix_madvise(p, size, POSIX_MADV_SEQUENTIAL);
            rc = scan(w, p, size, after, recover, apply, arg, rep, &good_end,
                      err);
            munmap(p, size);
        }
    }
    if (rc == XS_OK && good_end < size &&
        (ftruncate(w->fd, (off_t)good_end) || fdatasync(w->fd)))
        rc = xs_error_set(err, XS_ERR_IO, "%s: cutting the torn tail: %s",
                          path, strerror(errno));
    if (rc) {
        xs_wal_close(w);
        return rc;
    }
    w->appended = w->synced = good_end;
    rep->last_seq = w->last_seq;
    rep->bytes = good_end;
    *out = w;
    return XS_OK;
}

int xs_wal_append(xs_wal *w, uint32_t type, const void *payload, size_t len,
                  uint64_t *seq, xs_error *err)
{
    if (len > MAX_RECORD)
        return xs_error_set(err, XS_ERR_USAGE, "a log record of %zu bytes "
                            "(at most %u)", len, MAX_RECORD);
    rec_head h = {MAGIC, (uint32_t)len, w->last_seq + 1, type, 0};
    h.crc = rec_crc(&h, payload);
    struct iovec iov[2] = {{&h, HEADER}, {(void *)payload, len}};
    size_t want = HEADER + len, done = 0;
    while (done < want) {
        ssize_t k = writev(w->fd, iov, 2);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            /* a partial record is a torn tail: cut it now */
            if (done && ftruncate(w->fd, (off_t)w->appended) == 0)
                done = 0;
            return xs_error_set(err, XS_ERR_IO, "%s: write: %s", w->path,
                                strerror(e));
        }
        done += (size_t)k;
        for (int i = 0; i < 2; i++) { /* advance past what was written */
            size_t t = (size_t)k < iov[i].iov_len ? (size_t)k : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + t;
            iov[i].iov_len -= t;
            k -= (ssize_t)t;
        }
    }
    pthread_mutex_lock(&w->mu);
    w->appended += want;
    w->records++;
    w->last_seq = h.seq;
    pthread_mutex_unlock(&w->mu);
    if (seq)
        *seq = h.seq;
    return XS_OK;
}

/* Syncs up to at least `target` bytes; called with w->mu held. */
static int sync_to(xs_wal *w, uint64_t target)
{
    while (w->synced < target) {
        if (w->syncing) {
            pthread_cond_wait(&w->synced_cv, &w->mu);
            continue;
        }
        w->syncing = 1;
        uint64_t upto = w->appended;
        pthread_mutex_unlock(&w->mu);
        int rc = fdatasync(w->fd);
        int e = errno;
        pthread_mutex_lock(&w->mu);
        w->syncing = 0;
        if (rc == 0 && upto > w->synced)
            w->synced = upto;
        w->sync_errno = rc ? e : 0;
        pthread_cond_broadcast(&w->synced_cv);
        if (rc) {
            errno = e;
            return -1;
        }
    }
    return 0;
}

int xs_wal_commit(xs_wal *w, xs_error *err)
{
    if (w->policy != XS_FSYNC_ALWAYS)
        return XS_OK;
    pthread_mutex_lock(&w->mu);
    int rc = sync_to(w, w->appended);
    int e = errno;
    pthread_mutex_unlock(&w->mu);
    if (rc)
        return xs_error_set(err, XS_ERR_IO, "%s: fdatasync: %s", w->path,
                            strerror(e));
    return XS_OK;
}

int xs_wal_sync(xs_wal *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = sync_to(w, w->appended);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int xs_wal_restart(xs_wal *w, xs_error *err)
{
    pthread_mutex_lock(&w->mu);
    while (w->syncing)
        pthread_cond_wait(&w->synced_cv, &w->mu);
    int rc = ftruncate(w->fd, 0) || fdatasync(w->fd);
    int e = errno;
    if (!rc) {
        w->appended = w->synced = 0;
        w->records = 0;
    }
    pthread_mutex_unlock(&w->mu);
    if (rc)
        return xs_error_set(err, XS_ERR_IO, "%s: emptying the log: %s",
                            w->path, strerror(e));
    return XS_OK;
}

uint64_t xs_wal_last_seq(xs_wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t s = w->last_seq;
    pthread_mutex_unlock(&w->mu);
    return s;
}

void xs_wal_size(xs_wal *w, uint64_t *records, uint64_t *bytes)
{
    pthread_mutex_lock(&w->mu);
    *records = w->records;
    *bytes = w->appended;
    pthread_mutex_unlock(&w->mu);
}

void xs_wal_close(xs_wal *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        if (w->appended > w->synced)
            fdatasync(w->fd);
        close(w->fd);
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->synced_cv);
    free(w);
}

int xs_wal_inspect(const char *path, uint64_t *records, uint64_t *first_seq,
                   uint64_t *last_seq, uint64_t *damage_at, xs_error *err)
{
    *records = *first_seq = *last_seq = 0;
    *damage_at = UINT64_MAX;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return xs_error_set(err, errno == ENOENT ? XS_ERR_NOTFOUND : XS_ERR_IO,
                            "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st)) {
        close(fd);
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
    }
    uint64_t size = (uint64_t)st.st_size, off = 0;
    if (size) {
        const unsigned char *p = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return xs_error_set(err, XS_ERR_IO, "%s: mmap: %s", path,
                                strerror(errno));
        }
        rec_head h;
        while (off < size && good_at(p, size, off, &h) &&
               (!*records || h.seq == *last_seq + 1)) {
            if (!*records)
                *first_seq = h.seq;
            *last_seq = h.seq;
            (*records)++;
            off += HEADER + h.len;
        }
        munmap((void *)p, size);
    }
    close(fd);
    if (off < size)
        *damage_at = off;
    return XS_OK;
}
