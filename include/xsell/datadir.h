/*
 * xsell/datadir.h -- a data directory: the engine's data kept on disk as a
 * snapshot image plus a write-ahead log, so that every acknowledged write
 * survives a crash or a restart (Redis's RDB + AOF, in one directory).
 *
 *     DIR/LOCK          flock()ed by the one process using DIR
 *     DIR/snapshot.xsi  the engine image at some log seq (xs_engine_save)
 *     DIR/wal.log       the records after it (persist/wal.h)
 *
 * Life cycle (xsell serve does exactly this):
 *   xs_datadir_open        lock DIR (created if missing)
 *   xs_datadir_load        the engine from the snapshot, when DIR has one;
 *   or xs_engine_new + xs_datadir_seed   from the CSV files, saved at once
 *   xs_datadir_attach      replay the log into the engine, then journal
 *                          every write and start the background thread
 *                          (everysec fsync, --save-every)
 *   ... writes: the engine journals, the server calls xs_datadir_commit
 *       before replying; xs_datadir_save at any time (the `save` op)
 *   xs_datadir_save, xs_datadir_close     at shutdown
 *
 * A snapshot restarts the log: writes pause while the image is written
 * (requests go on), then the log is emptied.  A crash between the two
 * leaves records the snapshot already holds; their seqs say so and replay
 * skips them, so nothing is applied twice.
 */
#ifndef XSELL_DATADIR_H
#define XSELL_DATADIR_H

#include <stdint.h>

#include "api.h"
#include "engine.h"
#include "error.h"

typedef enum xs_fsync_policy {
    XS_FSYNC_EVERYSEC = 0, /* fdatasync once a second: a power cut loses at
                              most about a second; a crash of the process
                              nothing */
    XS_FSYNC_ALWAYS,       /* before every acknowledgement (group commit) */
    XS_FSYNC_NO            /* left to the operating system */
} xs_fsync_policy;

typedef struct xs_datadir_config {
    const char *dir;
    xs_fsync_policy fsync;
    uint64_t save_every_events;  /* snapshot after this many events and
                                    catalog entries; 0: never */
    double save_every_seconds;   /* ... or this long since the last one
                                    (with at least one write); 0: never */
    int recover;                 /* start despite a damaged log, keeping
                                    the records that read */
    void (*log)(void *arg, const char *msg); /* NULL: stderr */
    void *log_arg;
} xs_datadir_config;

typedef struct xs_datadir xs_datadir;

/* Creates DIR if missing and locks it (XS_ERR_IO "... in use by process
 * N" when another process holds it). */
XS_API int xs_datadir_open(const xs_datadir_config *cfg, xs_datadir **out,
                           xs_error *err);
/* 1 when DIR holds a snapshot. */
XS_API int xs_datadir_has_snapshot(const xs_datadir *d);
/* The engine from DIR's snapshot (xs_engine_load). */
XS_API xs_engine *xs_datadir_load(xs_datadir *d, const xs_engine_config *cfg,
                                  xs_error *err);
/* First start: saves e (built from the CSV files) as DIR's snapshot. */
XS_API int xs_datadir_seed(xs_datadir *d, xs_engine *e, xs_error *err);
/* Replays DIR's log into e (before plugins are added is fastest: they
 * prepare once from the result), then journals e's writes into it and
 * starts the background thread.  A damaged log: see xs_datadir_config. */
XS_API int xs_datadir_attach(xs_datadir *d, xs_engine *e, xs_error *err);
/* After a write returned: waits until it is as durable as the policy
 * promises (the reply may go out then). */
XS_API int xs_datadir_commit(xs_datadir *d, xs_error *err);
/* 1 when a snapshot now would hold something the last one does not (a
 * record in the log, or a table built since). */
XS_API int xs_datadir_dirty(xs_datadir *d);
/* Writes a snapshot now and restarts the log.  info may be NULL. */
XS_API int xs_datadir_save(xs_datadir *d, xs_image_info *info, xs_error *err);

/* Figures for `stats` and the start-up line. */
typedef struct xs_datadir_info {
    uint64_t seq;              /* last record written */
    uint64_t log_records, log_bytes;
    uint64_t snapshot_seq;     /* seq of the last snapshot */
    int64_t snapshot_written;  /* unix seconds, 0: none */
    uint64_t saves;            /* snapshots written by this process */
    uint64_t writes_since_save; /* events and catalog entries */
} xs_datadir_info;
XS_API void xs_datadir_info_get(xs_datadir *d, xs_datadir_info *out);

/* Stops the background thread, syncs the log, unlocks DIR; does not save.
 * The engine must be freed after, not before. */
XS_API void xs_datadir_close(xs_datadir *d);

/* What DIR holds, without locking it (xsell snapshot). */
typedef struct xs_datadir_report {
    int has_snapshot;
    xs_image_info image;
    uint64_t log_records, log_first_seq, log_last_seq, log_bytes;
    uint64_t log_damage_at; /* UINT64_MAX: none */
} xs_datadir_report;
XS_API int xs_datadir_inspect(const char *dir, xs_datadir_report *out,
                              xs_error *err);

#endif
