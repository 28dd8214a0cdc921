/*
 * csv.h -- a CSV record reader over bytes held in memory: a whole file
 * (xs_csv_open, the catalog's loader) or one block of a file streamed by
 * data/csv_blocks.h (xs_csv_open_mem, the data loaders).
 *
 * A whole file is read once into a buffer owned by the reader; a block's
 * buffer stays its caller's.  Fields are unquoted and NUL-terminated in
 * place.  In-place rewriting never touches
 * other records, so every field of every record stays valid until
 * xs_csv_close().
 *
 * Accepted: a UTF-8 BOM, LF or CRLF line ends, blank lines (skipped), RFC 4180
 * quoting (delimiters, quotes as "" and line breaks inside quotes).  Unquoted
 * fields are trimmed of surrounding spaces.
 */
#ifndef XS_CSV_H
#define XS_CSV_H

#include <stddef.h>

#include "xsell/dataset.h"
#include "xsell/error.h"

#define XS_CSV_PROGRESS_STEP (1u << 20) /* bytes between progress reports */

typedef struct xs_csv_cell {
    char *s; /* NUL-terminated */
    size_t len;
    int quoted;
} xs_csv_cell;

typedef struct xs_csv {
    const char *path;
    char *buf;
    size_t buf_size; /* non-zero: buf came from xs_big_alloc */
    size_t len, pos;
    size_t line;     /* line number where the current record starts */
    size_t next_line;
    char delim;
    xs_csv_cell *f; /* fields of the current record */
    size_t n, cap;
    const xs_progress *progress; /* NULL: none */
    size_t reported;             /* pos at the last report */
    int borrowed;                /* buf belongs to the caller */
    size_t err_pos; /* where xs_csv_next's last syntax error was found;
                       SIZE_MAX: nowhere to resume (an open quote) */
} xs_csv;

/* Reads path whole.  Returns XS_OK, XS_ERR_IO (message names the file),
 * XS_ERR_DATA ("path:LINE: ..." for a NUL byte or text that is not UTF-8)
 * or XS_ERR_NOMEM.  The reader keeps a pointer to path. */
int xs_csv_open(xs_csv *c, const char *path, char delim, xs_error *err);
/* The same, reporting to progress (NULL: none) while reading the file and,
 * through xs_csv_next, while parsing it; a stop asked by progress fails
 * with XS_ERR_IO. */
int xs_csv_open_progress(xs_csv *c, const char *path, char delim,
                         const xs_progress *progress, xs_error *err);
/* A reader over buf[0..len), which the caller owns and keeps until
 * xs_csv_close: buf[len] must be '\0' and fields are unquoted in place.
 * Line numbers start at first_line; no BOM is looked for and there is no
 * progress (a block of a file streamed by data/csv_blocks.h). */
void xs_csv_open_mem(xs_csv *c, const char *path, char *buf, size_t len,
                     char delim, size_t first_line);
void xs_csv_close(xs_csv *c);

/* Looks at the first non-blank line and picks tab when it has tabs and no
 * commas, else comma. */
char xs_csv_sniff(const xs_csv *c);

/* Reads the next non-blank record into c->f / c->n.  Returns 1 for a record,
 * 0 at the end, or -1 with err set (unterminated quote, stray quote). */
int xs_csv_next(xs_csv *c, xs_error *err);

/* After xs_csv_next failed on a record's syntax: moves past the physical
 * line holding the error, so the next call reads the record after it (a
 * loader skipping bad lines).  Returns 0, or -1 when there is no such line
 * (a quote left open runs to the end of the input). */
int xs_csv_skip_bad(xs_csv *c);

#endif
