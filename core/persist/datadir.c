/*
 * datadir.c -- the data directory (xsell/datadir.h): lock, snapshot, log,
 * and the background thread that keeps them.
 *
 * Writes reach the log through the engine's journal hooks, which the
 * engine calls under its writer mutex: so records are appended one at a
 * time, in the order the batches are applied, and the encode buffer needs
 * no lock of its own.  A save pauses writes (that same mutex), so the
 * image and the log's last seq are one consistent cut; then the log is
 * emptied.  Readers are never stopped: the image is written under the
 * engine's read lock.
 *
 * The background thread wakes once a second: with `everysec` it syncs the
 * log; it saves when --save-every's count or time has come.  Saves are
 * serialised by save_mu (the thread, the `save` op and shutdown may ask at
 * once).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "persist/records.h"
#include "persist/wal.h"
#include "xsell/datadir.h"

#define SNAPSHOT "snapshot.xsi"
#define LOG_FILE "wal.log"
#define LOCK_FILE "LOCK"

struct xs_datadir {
    xs_datadir_config cfg;
    char dir[4096];
    char snapshot[4200], log_path[4200], lock_path[4200];
    int lock_fd;
    xs_engine *engine;
    xs_wal *wal;
    xs_buf buf;                 /* the record being appended (writer mutex) */
    pthread_mutex_t save_mu;    /* one save at a time */
    pthread_mutex_t mu;         /* what follows */
    pthread_cond_t wake;
    int stop;
    pthread_t thread;
    int thread_started;
    uint64_t snapshot_seq;
    int64_t snapshot_written;
    uint32_t snapshot_scopes;   /* the tables the snapshot holds */
    double last_save;           /* monotonic seconds */
    uint64_t saves;
    _Atomic uint64_t writes_since_save;
};

static double now_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void say(xs_datadir *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(xs_datadir *d, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (d->cfg.log)
        d->cfg.log(d->cfg.log_arg, msg);
    else
        fprintf(stderr, "data dir %s: %s\n", d->dir, msg);
}

int xs_datadir_open(const xs_datadir_config *cfg, xs_datadir **out,
                    xs_error *err)
{
    *out = NULL;
    if (!cfg || !cfg->dir || !*cfg->dir)
        return xs_error_set(err, XS_ERR_USAGE, "no data dir given");
    xs_datadir *d = calloc(1, sizeof *d);
    if (!d)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    d->cfg = *cfg;
    d->lock_fd = -1;
    snprintf(d->dir, sizeof d->dir, "%s", cfg->dir);
    d->cfg.dir = d->dir;
    snprintf(d->snapshot, sizeof d->snapshot, "%s/%s", d->dir, SNAPSHOT);
    snprintf(d->log_path, sizeof d->log_path, "%s/%s", d->dir, LOG_FILE);
    snprintf(d->lock_path, sizeof d->lock_path, "%s/%s", d->dir, LOCK_FILE);
    pthread_mutex_init(&d->save_mu, NULL);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->wake, NULL);
    d->last_save = now_mono();
    int rc;
    if (mkdir(d->dir, 0755) && errno != EEXIST) {
        rc = xs_error_set(err, XS_ERR_IO, "%s: %s", d->dir, strerror(errno));
        goto fail;
    }
    d->lock_fd = open(d->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (d->lock_fd < 0) {
        rc = xs_error_set(err, XS_ERR_IO, "%s: %s", d->lock_path,
                          strerror(errno));
        goto fail;
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB)) {
        char pid[32] = "";
        ssize_t k = pread(d->lock_fd, pid, sizeof pid - 1, 0);
        pid[k > 0 ? k : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        rc = xs_error_set(err, XS_ERR_IO,
                          "data dir %s is in use by another process%s%s",
                          d->dir, *pid ? " (pid " : "", *pid ? pid : "");
        if (*pid)
            strncat(err->msg, ")", sizeof err->msg - strlen(err->msg) - 1);
        goto fail;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(d->lock_fd, 0) || pwrite(d->lock_fd, pid, (size_t)len, 0) < 0) {
        rc = xs_error_set(err, XS_ERR_IO, "%s: %s", d->lock_path,
                          strerror(errno));
        goto fail;
    }
    char tmp[4300]; /* what a crash during a save left: never read */
    snprintf(tmp, sizeof tmp, "%s.tmp", d->snapshot);
    unlink(tmp);
    *out = d;
    return XS_OK;
fail:
    xs_datadir_close(d);
    return rc;
}

int xs_datadir_has_snapshot(const xs_datadir *d)
{
    return access(d->snapshot, F_OK) == 0;
}

xs_engine *xs_datadir_load(xs_datadir *d, const xs_engine_config *cfg,
                           xs_error *err)
{
    xs_image_info info;
    xs_engine *e = xs_engine_load(d->snapshot, cfg, &info, err);
    if (e) {
        d->snapshot_seq = info.seq;
        d->snapshot_written = info.written;
        d->snapshot_scopes = info.scopes;
    }
    return e;
}

/* Saves under paused writes; see the top of the file. */
static int save(xs_datadir *d, xs_engine *e, xs_image_info *info,
                xs_error *err)
{
    pthread_mutex_lock(&d->save_mu);
    xs_engine_writes_pause(e);
    uint64_t seq = d->wal ? xs_wal_last_seq(d->wal) : d->snapshot_seq;
    xs_image_info in;
    int rc = xs_engine_save(e, d->snapshot, seq, &in, err);
    if (rc == XS_OK && d->wal)
        rc = xs_wal_restart(d->wal, err);
    if (rc == XS_OK) {
        d->snapshot_seq = seq;
        d->snapshot_written = in.written;
        d->snapshot_scopes = in.scopes;
        d->writes_since_save = 0;
        pthread_mutex_lock(&d->mu);
        d->saves++;
        d->last_save = now_mono();
        pthread_mutex_unlock(&d->mu);
        if (info)
            *info = in;
    }
    xs_engine_writes_resume(e);
    pthread_mutex_unlock(&d->save_mu);
    return rc;
}

int xs_datadir_seed(xs_datadir *d, xs_engine *e, xs_error *err)
{
    return save(d, e, NULL, err);
}

int xs_datadir_dirty(xs_datadir *d)
{
    uint64_t records = 0, bytes = 0;
    if (d->wal)
        xs_wal_size(d->wal, &records, &bytes);
    if (d->writes_since_save || records || !d->engine)
        return 1; /* the log holds what the snapshot does not */
    for (int sc = 0; sc < 2; sc++)
        if (xs_engine_cooc(d->engine, sc) && !(d->snapshot_scopes & 1u << sc))
            return 1;
    return 0;
}

int xs_datadir_save(xs_datadir *d, xs_image_info *info, xs_error *err)
{
    if (!d->engine)
        return xs_error_set(err, XS_ERR_USAGE, "data dir %s: no engine "
                            "attached", d->dir);
    return save(d, d->engine, info, err);
}

/* ---- the journal ---------------------------------------------------------- */

static int journal_ingest(void *arg, const xs_ingest_event *ev, size_t n,
                          xs_error *err)
{
    xs_datadir *d = arg;
    int typed = xs_record_ingest_typed(ev, n);
    if (xs_record_ingest(&d->buf, ev, n, typed))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    int rc = xs_wal_append(d->wal, typed ? XS_WAL_INGEST_TYPED : XS_WAL_INGEST,
                           d->buf.p, d->buf.n, NULL, err);
    if (rc == XS_OK)
        d->writes_since_save += n;
    return rc;
}

static int journal_catalog(void *arg, const xs_catalog_item *it, size_t n,
                           xs_error *err)
{
    xs_datadir *d = arg;
    if (xs_record_catalog2(&d->buf, it, n))
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    int rc = xs_wal_append(d->wal, XS_WAL_CATALOG2, d->buf.p, d->buf.n, NULL,
                           err);
    if (rc == XS_OK)
        d->writes_since_save += n;
    return rc;
}

int xs_datadir_commit(xs_datadir *d, xs_error *err)
{
    return d->wal ? xs_wal_commit(d->wal, err) : XS_OK;
}

/* Replays one record into the engine (not journaled yet). */
static int replay(void *arg, uint32_t type, uint64_t seq, const void *p,
                  size_t len, xs_error *err)
{
    xs_datadir *d = arg;
    const char *why = NULL;
    int rc;
    if (type == XS_WAL_INGEST || type == XS_WAL_INGEST_TYPED) {
        xs_ingest_event *ev;
        long n = xs_record_read_ingest(p, len, type == XS_WAL_INGEST_TYPED,
                                       &ev, &why);
        if (n < 0)
            goto bad;
        rc = xs_engine_ingest(d->engine, ev, (size_t)n, err);
        free(ev);
    } else {
        xs_catalog_item *it; /* both versions: old logs replay */
        long n = type == XS_WAL_CATALOG
                     ? xs_record_read_catalog(p, len, &it, &why)
                     : xs_record_read_catalog2(p, len, &it, &why);
        if (n < 0)
            goto bad;
        rc = xs_engine_catalog_upsert(d->engine, it, (size_t)n, NULL, err);
        free(it);
    }
    if (rc) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return xs_error_set(err, rc, "%s: record %llu: %s", d->log_path,
                            (unsigned long long)seq, msg);
    }
    return XS_OK;
bad:
    return xs_error_set(err, XS_ERR_DATA, "%s: record %llu: %s", d->log_path,
                        (unsigned long long)seq, why);
}

static void *background(void *arg)
{
    xs_datadir *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 1;
        pthread_cond_timedwait(&d->wake, &d->mu, &until);
        if (d->stop)
            break;
        double since = now_mono() - d->last_save;
        pthread_mutex_unlock(&d->mu);
        if (d->cfg.fsync == XS_FSYNC_EVERYSEC && xs_wal_sync(d->wal))
            say(d, "fdatasync of %s failed: %s", d->log_path, strerror(errno));
        uint64_t writes = d->writes_since_save;
        int due = (d->cfg.save_every_events &&
                   writes >= d->cfg.save_every_events) ||
                  (d->cfg.save_every_seconds > 0 && writes > 0 &&
                   since >= d->cfg.save_every_seconds);
        if (due) {
            xs_error err = {0};
            double t0 = now_mono();
            xs_image_info info;
            if (save(d, d->engine, &info, &err))
                say(d, "snapshot failed: %s", err.msg);
            else
                say(d, "snapshot: %llu events, seq %llu, %.1f MB in %.2f s "
                    "(--save-every)", (unsigned long long)info.events,
                    (unsigned long long)info.seq, info.bytes / 1e6,
                    now_mono() - t0);
        }
        pthread_mutex_lock(&d->mu);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

int xs_datadir_attach(xs_datadir *d, xs_engine *e, xs_error *err)
{
    d->engine = e;
    xs_wal_report rep;
    double t0 = now_mono();
    int rc = xs_wal_open(d->log_path, d->cfg.fsync, d->snapshot_seq,
                         d->cfg.recover, replay, d, &d->wal, &rep, err);
    if (rc)
        return rc;
    if (rep.records)
        say(d, "replayed %llu log records (to seq %llu) in %.2f s",
            (unsigned long long)rep.records,
            (unsigned long long)rep.last_seq, now_mono() - t0);
    if (rep.torn_at != UINT64_MAX)
        say(d, "warning: %s: torn tail at offset %llu: %llu bytes of an "
            "unfinished record cut off", d->log_path,
            (unsigned long long)rep.torn_at,
            (unsigned long long)rep.torn_bytes);
    if (rep.dropped || rep.dropped_seqs)
        say(d, "warning: --recover: %s: dropped %llu damaged bytes (first at "
            "%s); %llu records missing from the sequence",
            d->log_path, (unsigned long long)rep.dropped,
            rep.first_damage[0] ? rep.first_damage : "-",
            (unsigned long long)rep.dropped_seqs);
    /* every record now applied: a recovered log is rewritten clean */
    if ((rep.dropped || rep.dropped_seqs) && (rc = save(d, e, NULL, err)))
        return rc;
    xs_journal j = {journal_ingest, journal_catalog, d};
    xs_engine_set_journal(e, &j);
    if (pthread_create(&d->thread, NULL, background, d))
        return xs_error_set(err, XS_ERR_INTERNAL,
                            "cannot start the data dir thread");
    d->thread_started = 1;
    return XS_OK;
}

void xs_datadir_info_get(xs_datadir *d, xs_datadir_info *out)
{
    memset(out, 0, sizeof *out);
    if (d->wal) {
        out->seq = xs_wal_last_seq(d->wal);
        xs_wal_size(d->wal, &out->log_records, &out->log_bytes);
    }
    pthread_mutex_lock(&d->mu);
    out->snapshot_seq = d->snapshot_seq;
    out->snapshot_written = d->snapshot_written;
    out->saves = d->saves;
    pthread_mutex_unlock(&d->mu);
    out->writes_since_save = d->writes_since_save;
}

void xs_datadir_close(xs_datadir *d)
{
    if (!d)
        return;
    if (d->thread_started) {
        pthread_mutex_lock(&d->mu);
        d->stop = 1;
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->thread, NULL);
    }
    if (d->engine && d->wal)
        xs_engine_set_journal(d->engine, NULL);
    xs_wal_close(d->wal); /* syncs what is left */
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* releases the flock */
    xs_buf_free(&d->buf);
    pthread_mutex_destroy(&d->save_mu);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->wake);
    free(d);
}

int xs_datadir_inspect(const char *dir, xs_datadir_report *out, xs_error *err)
{
    memset(out, 0, sizeof *out);
    out->log_damage_at = UINT64_MAX;
    char path[4200];
    struct stat st;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode))
        return xs_error_set(err, XS_ERR_NOTFOUND, "%s: not a directory", dir);
    snprintf(path, sizeof path, "%s/%s", dir, SNAPSHOT);
    int rc = xs_image_info_read(path, &out->image, err);
    if (rc && rc != XS_ERR_NOTFOUND)
        return rc;
    out->has_snapshot = rc == XS_OK;
    snprintf(path, sizeof path, "%s/%s", dir, LOG_FILE);
    if (stat(path, &st) == 0)
        out->log_bytes = (uint64_t)st.st_size;
    rc = xs_wal_inspect(path, &out->log_records, &out->log_first_seq,
                        &out->log_last_seq, &out->log_damage_at, err);
    return rc == XS_ERR_NOTFOUND ? XS_OK : rc;
}
