/*
 * persist/wal.h -- the write-ahead log: an append-only file of records,
 * each made durable as the fsync policy says before its write is
 * acknowledged.
 *
 * A record is
 *
 *     magic u32 "XSWL" | length u32 | seq u64 | type u32 | crc32c u32 | payload
 *
 * where the CRC-32C covers length, seq, type and the payload, and seq
 * numbers follow each other without gaps (the first after a snapshot is
 * the snapshot's seq + 1).  A record is written with one write(2), so a
 * crash leaves at most one torn record, at the end.
 *
 * Threads: xs_wal_append runs under the engine's writer mutex (one writer
 * at a time); xs_wal_commit and xs_wal_sync may run from any thread: the
 * log's own mutex guards what is durable.  Group commit: with `always`,
 * writers waiting at once share one fdatasync.
 */
#ifndef XS_PERSIST_WAL_H
#define XS_PERSIST_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "xsell/datadir.h"
#include "xsell/error.h"

/* Record types.  XS_WAL_CATALOG is the catalog record as first written
 * (still read, never written now); XS_WAL_CATALOG2 adds deletion, hidden,
 * dates and properties; XS_WAL_INGEST_TYPED is an ingest with event types
 * (persist/records.h). */
enum { XS_WAL_INGEST = 1, XS_WAL_CATALOG = 2, XS_WAL_CATALOG2 = 3,
       XS_WAL_INGEST_TYPED = 4 };

typedef struct xs_wal xs_wal;

/* Called for each record to replay; non-zero stops the scan with err. */
typedef int (*xs_wal_apply_fn)(void *arg, uint32_t type, uint64_t seq,
                               const void *payload, size_t len,
                               xs_error *err);

/* What opening the log found. */
typedef struct xs_wal_report {
    uint64_t records;      /* records replayed */
    uint64_t skipped;      /* records already in the snapshot */
    uint64_t last_seq;     /* of the last good record (or after) */
    uint64_t bytes;        /* of the log once opened */
    uint64_t torn_at;      /* offset where a torn tail was cut, or UINT64_MAX */
    uint64_t torn_bytes;   /* bytes cut there */
    uint64_t dropped;      /* with recover: bytes of damaged records skipped */
    uint64_t dropped_seqs; /* with recover: records missing from the seqs */
    char first_damage[160]; /* with recover: what was dropped first */
} xs_wal_report;

/* Opens (creating) path, replays every record with seq > after through
 * apply, cuts a torn tail (reported in rep), and leaves the log open for
 * appending.  Damage before the tail is XS_ERR_DATA naming the offset,
 * unless recover (then damaged records are skipped and counted). */
int xs_wal_open(const char *path, xs_fsync_policy policy, uint64_t after,
                int recover, xs_wal_apply_fn apply, void *arg, xs_wal **out,
                xs_wal_report *rep, xs_error *err);
/* Appends one record (seq = last + 1, returned in *seq); the bytes are in
 * the file (the page cache) when it returns: a crash of the process loses
 * nothing, a crash of the machine what the policy allows. */
int xs_wal_append(xs_wal *w, uint32_t type, const void *payload, size_t len,
                  uint64_t *seq, xs_error *err);
/* Returns once everything appended before the call is as durable as the
 * policy promises: fdatasync with `always` (shared by concurrent
 * callers), nothing otherwise. */
int xs_wal_commit(xs_wal *w, xs_error *err);
/* fdatasync now if anything appended is not yet synced (everysec's timer,
 * shutdown).  0 or -1 with errno. */
int xs_wal_sync(xs_wal *w);
/* After a snapshot holding every record: empties the log (seqs go on). */
int xs_wal_restart(xs_wal *w, xs_error *err);
uint64_t xs_wal_last_seq(xs_wal *w);
/* Records and bytes in the log now. */
void xs_wal_size(xs_wal *w, uint64_t *records, uint64_t *bytes);
void xs_wal_close(xs_wal *w);

/* Reads a log without opening it for writing (xsell snapshot): counts
 * good records, the seq range, and where damage starts (UINT64_MAX: none). */
int xs_wal_inspect(const char *path, uint64_t *records, uint64_t *first_seq,
                   uint64_t *last_seq, uint64_t *damage_at, xs_error *err);

#endif
