/*
 * load.h -- the engine of both CSV loaders: a file streamed in blocks,
 * parsed on several threads, names interned in file order.
 *
 * A loader (data/dataset.c) supplies how one block's records turn into
 * events (spec->parse) and, for files with one, how the header is read
 * (spec->header); xs_load_run does the rest:
 *
 *   1. read: the file is read in blocks cut between records
 *      (data/csv_blocks.h), 4 blocks per thread in a round, so memory
 *      holds a round of the file, never all of it;
 *   2. parse: each block on its own thread, its names interned into
 *      block-local tables (xs_load_intern: local ids in the block's order
 *      of first appearance), its events kept with local ids;
 *   3. intern: the dictionaries' shards (util/dict_bulk.h) split among the
 *      threads; each thread takes the names of its shards, block after
 *      block in file order, finding or adding them (unnumbered);
 *   4. number: one thread gives the names new to the dictionary their ids,
 *      block after block, in each block's local order: exactly the order of
 *      first appearance in the file, so every id is the one a line-by-line
 *      loader gives;
 *   5. remap: each block's events, their local ids replaced, copied to the
 *      dataset in file order, each block on its own thread.
 *
 * Text: each block is checked to be UTF-8 without NUL bytes (or read as
 * Latin-1 and transcoded) before it is parsed (data/text.h).
 *
 * Errors: the first failing block in file order wins, and a parse error's
 * line number (counted from the block's start) is moved by the lines of
 * the blocks before it, so messages read `file:line: reason` with the
 * line of the first bad record in the file.  threads == 1 runs the same
 * steps on the calling thread.
 */
#ifndef XS_LOAD_H
#define XS_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "data/csv.h"
#include "util/dict_bulk.h"
#include "xsell/dataset.h"

/* XS_LOAD_TYPE: event type names (events' `reserved` field, the type id). */
enum { XS_LOAD_CUSTOMER, XS_LOAD_ITEM, XS_LOAD_ORDER, XS_LOAD_TYPE,
       XS_LOAD_DICTS };

typedef struct xs_load_name {
    const char *s; /* in the block's buffer */
    uint32_t len, hash;
} xs_load_name;

/* A block's names of one dictionary, local ids in first-appearance order. */
typedef struct xs_load_names {
    uint32_t *slot; /* open addressing: 0 empty, else local id + 1 */
    uint32_t mask;
    xs_load_name *nm;
    uint32_t n, cap;
    uint32_t *order; /* local ids grouped by shard, in local order; later
                        local id -> dictionary id */
    uint32_t start[XS_DICT_SHARDS + 1];
    xs_dict_entry **ref;  /* local id -> dictionary entry */
    unsigned char *first; /* local id -> new to the dictionary here */
} xs_load_names;

typedef struct xs_load_block {
    xs_csv csv;  /* over this block, at its first record (after a header) */
    xs_event *ev; /* ids local to the block; order: see xs_load_spec */
    size_t n_ev, cap_ev;
    size_t records;    /* records parsed */
    size_t duplicates; /* the loader's count, summed over blocks */
    xs_load_names names[XS_LOAD_DICTS];
    /* lines skipped (spec->on_bad_line), their first descriptions with
     * lines counted from the block's start; returns dropped or kept */
    uint64_t bad;
    unsigned n_shown;
    char shown[XS_LOAD_SHOWN][XS_LOAD_SHOWN_LEN];
    uint64_t returns;
    int skip_bad; /* spec->on_bad_line == XS_BAD_LINE_SKIP */
    /* the driver's */
    char *buf;
    size_t len;
    char delim;
    int ready; /* buf checked (encoding) and csv opened over it */
    uint64_t end;       /* file offset just past the block */
    uint64_t line_base; /* true line = csv line + line_base */
    size_t lines_end;   /* csv.next_line after the last record */
    int failed;
    xs_error err;
} xs_load_block;

/* Interns s[0..len) into b's local table of dictionary `dict`; *id gets
 * its local id.  Returns 0, or -1 when out of memory. */
int xs_load_intern(xs_load_block *b, int dict, const char *s, size_t len,
                   uint32_t *id);
/* Appends an event with local ids.  Returns 0, or -1 when out of memory. */
int xs_load_push(xs_load_block *b, const xs_event *ev);
/* A parser found a bad line, described in *err ("path:LINE: reason"):
 * returns -1 to fail the load with it, or 0 when bad lines are skipped
 * (counted, the first few kept; the parser goes on with the next record,
 * after xs_csv_skip_bad for a CSV syntax error). */
int xs_load_bad(xs_load_block *b, const xs_error *err);

typedef struct xs_load_spec {
    const char *path;
    int threads;       /* 1: the calling thread only; <= 0: every core */
    size_t block_size; /* 0: XS_CSV_BLOCK */
    const xs_progress *progress; /* NULL: none */
    xs_dict *dicts[XS_LOAD_DICTS]; /* NULL: not interned (ids left as is) */
    /* orders are record numbers (baskets): an event's local order is its
     * record's index in the block, made global by adding the records of
     * the blocks before; max_records bounds their count ("too many
     * records_name"). */
    int record_orders;
    size_t max_records;
    const char *records_name;
    /* Reads the header through the first block's reader, whose delimiter
     * it may set (then every block's); NULL: no header.  0 or -1, err set. */
    int (*header)(void *arg, xs_csv *c, xs_error *err);
    /* Parses every record of b->csv into b.  Runs on any thread, on several
     * blocks at once; arg is shared and read-only.  0 or -1, err set. */
    int (*parse)(void *arg, xs_load_block *b, xs_error *err);
    void *arg;
    /* messy input (xs_load_options): bad lines, the file's encoding (each
     * block checked, or transcoded, before it is parsed, on the parsing
     * threads), and where to sum what was skipped (NULL: nowhere) */
    int on_bad_line;
    int encoding;
    xs_load_report *report;
} xs_load_spec;

/* Loads spec->path into ds: events appended (ds has none before), names
 * interned into spec->dicts, ds->duplicates summed.  *records gets the
 * number of records.  Returns 0, or -1 with err set; ds is then partly
 * filled and only fit to be freed. */
int xs_load_run(const xs_load_spec *spec, xs_dataset *ds, size_t *records,
                xs_error *err);

#endif
