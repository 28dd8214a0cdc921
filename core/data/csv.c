/*
 * csv.c -- the CSV record reader (see csv.h).
 *
 * Invariant: buf has at least len + 1 bytes and buf[len] == '\0', so writing
 * the NUL terminator of the last field never runs past the buffer.
 *
 * A whole file (the catalog) must be UTF-8 without NUL bytes
 * (data/text.h), checked once read; blocks are checked by data/load.c.
 *
 * Progress (optional, xs_csv_open_progress): the file is read in chunks of
 * XS_CSV_PROGRESS_STEP bytes with a report after each, and xs_csv_next
 * reports whenever it has moved that far since the last report; either
 * stops with an error when the callback asks to.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/bigmem.h"
#include "data/csv.h"
#include "data/text.h"
#include "util/stream.h"

/* Calls c's progress callback; returns non-zero when it asks to stop. */
static int report(xs_csv *c, int parsing, size_t done, size_t total)
{
    xs_load_status st = {c->path, parsing, done, total,
                         parsing ? c->next_line - 1 : 0};
    c->reported = done;
    return c->progress->fn(c->progress->arg, &st);
}

/* xs_read_stream's progress: bytes read from a stream of unknown size. */
static int stream_report(void *arg, size_t done)
{
    return report(arg, 0, done, 0);
}

/* Reads a regular file of known size into huge pages.  Returns 0 when read
 * whole, 1 when the file changed size meanwhile (caller retries the slow
 * way), 2 when the progress callback stopped it, -1 on a read error with
 * errno set. */
static int read_sized(FILE *f, size_t size, xs_csv *c)
{
    size_t cap = size + 2; /* one byte to notice growth, one for the NUL */
    char *buf = xs_big_alloc(cap);
    if (!buf) {
        errno = ENOMEM;
        return -1;
    }
    size_t len = 0, got;
    do {
        size_t want = size + 1 - len;
        if (c->progress && want > XS_CSV_PROGRESS_STEP)
            want = XS_CSV_PROGRESS_STEP;
        got = fread(buf + len, 1, want, f);
        len += got;
        if (c->progress && got && !ferror(f) && report(c, 0, len, size)) {
            xs_big_free(buf, cap);
            return 2;
        }
    } while (got && len < size + 1);
    c->reported = 0;
    if (ferror(f)) {
        xs_big_free(buf, cap);
        return -1;
    }
    if (len != size) {
        xs_big_free(buf, cap);
        return 1;
    }
    c->buf = buf;
    c->buf_size = cap;
    c->len = len;
    return 0;
}

int xs_csv_open(xs_csv *c, const char *path, char delim, xs_error *err)
{
    return xs_csv_open_progress(c, path, delim, NULL, err);
}

int xs_csv_open_progress(xs_csv *c, const char *path, char delim,
                         const xs_progress *progress, xs_error *err)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->progress = progress && progress->fn ? progress : NULL;
    c->delim = delim ? delim : ',';
    c->line = c->next_line = 1;
    FILE *f = fopen(path, "rb");
    if (!f)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return xs_error_set(err, XS_ERR_IO, "%s: is a directory", path);
    }
    int rc = 1;
    if (S_ISREG(st.st_mode) && st.st_size > 0)
        rc = read_sized(f, (size_t)st.st_size, c);
    if (rc == 1) {
        rewind(f);
        c->buf = xs_read_stream_progress(f, &c->len, XS_CSV_PROGRESS_STEP,
                                         c->progress ? stream_report : NULL,
                                         c);
        c->reported = 0;
        rc = c->buf ? 0 : errno == ECANCELED ? 2 : -1;
    }
    if (rc == 2) {
        fclose(f);
        return xs_error_set(err, XS_ERR_IO, "%s: load interrupted while "
                            "reading", path);
    }
    if (rc) {
        int e = errno;
        fclose(f);
        return xs_error_set(err, e == ENOMEM ? XS_ERR_NOMEM : XS_ERR_IO,
                            "%s: read failed: %s", path, strerror(e));
    }
    fclose(f);
    c->buf[c->len] = '\0';
    if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    size_t at;
    int kind = xs_text_check(c->buf, c->len, &at);
    if (kind != XS_TEXT_OK) {
        size_t line = xs_text_line_of(c->buf, at);
        unsigned byte = (unsigned char)c->buf[at];
        xs_csv_close(c);
        return kind == XS_TEXT_NUL
                   ? xs_error_set(err, XS_ERR_DATA, "%s:%zu: NUL byte (a "
                                  "binary or UTF-16 file?)", path, line)
                   : xs_error_set(err, XS_ERR_DATA, "%s:%zu: not UTF-8 "
                                  "(byte 0x%02X); convert the file, e.g. "
                                  "iconv -f latin1 -t utf-8", path, line,
                                  byte);
    }
    return XS_OK;
}

void xs_csv_open_mem(xs_csv *c, const char *path, char *buf, size_t len,
                     char delim, size_t first_line)
{
    memset(c, 0, sizeof *c);
    c->path = path;
    c->delim = delim ? delim : ',';
    c->line = c->next_line = first_line;
    c->buf = buf;
    c->len = len;
    c->borrowed = 1;
}

void xs_csv_close(xs_csv *c)
{
    if (c->borrowed)
        ;
    else if (c->buf_size)
        xs_big_free(c->buf, c->buf_size);
    else
        free(c->buf);
    free(c->f);
    memset(c, 0, sizeof *c);
}

static int is_blank_line(const char *p, const char *end)
{
    for (; p < end && *p != '\n'; p++)
        if (*p != '\r' && *p != ' ' && *p != '\t')
            return 0;
    return 1;
}

char xs_csv_sniff(const xs_csv *c)
{
    const char *p = c->buf + c->pos, *end = c->buf + c->len;
    while (p < end && is_blank_line(p, end)) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        p = nl ? nl + 1 : end;
    }
    int tabs = 0, commas = 0;
    for (; p < end && *p != '\n'; p++) {
        tabs += *p == '\t';
        commas += *p == ',';
    }
    return tabs && !commas ? '\t' : ',';
}

static int push_field(xs_csv *c, char *s, size_t len, int quoted)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        xs_csv_cell *f = realloc(c->f, cap * sizeof *f);
        if (!f)
            return -1;
        c->f = f;
        c->cap = cap;
    }
    c->f[c->n].s = s;
    c->f[c->n].len = len;
    c->f[c->n].quoted = quoted;
    c->n++;
    return 0;
}

int xs_csv_next(xs_csv *c, xs_error *err)
{
    char *buf = c->buf, *end = c->buf + c->len;
    const char delim = c->delim;
    c->n = 0;
    if (c->progress && c->pos - c->reported >= XS_CSV_PROGRESS_STEP &&
        report(c, 1, c->pos, c->len))
        return xs_error_set(err, XS_ERR_IO,
                            "%s: load interrupted at line %zu", c->path,
                            c->next_line), -1;
    /* skip blank lines */
    for (;;) {
        if (c->pos >= c->len) {
            if (c->progress && c->reported < c->len)
                report(c, 1, c->len, c->len); /* 100%: a stop comes too late */
            return 0;
        }
        char *p = buf + c->pos;
        if (!is_blank_line(p, end))
            break;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        c->pos = nl ? (size_t)(nl + 1 - buf) : c->len;
        c->next_line++;
    }
    c->line = c->next_line;
    char *p = buf + c->pos;
    for (;;) {
        /* one field starts at p */
        while (p < end && *p == ' ' && delim != ' ')
            p++;
        char *start, *stop;
        int quoted = 0;
        if (p < end && *p == '"') {
            quoted = 1;
            char *w = p; /* write position: content moves left by one+ */
            start = p;
            p++;
            for (;;) {
                if (p >= end)
                    return c->err_pos = SIZE_MAX,
                           xs_error_set(err, XS_ERR_DATA,
                                        "%s:%zu: unterminated quoted field",
                                        c->path, c->line), -1;
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        *w++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (*p == '\n')
                    c->next_line++;
                *w++ = *p++;
            }
            stop = w;
            while (p < end && (*p == ' ' || (*p == '\t' && delim != '\t')))
                p++;
            if (p < end && *p != delim && *p != '\n' && *p != '\r')
                return c->err_pos = (size_t)(p - buf),
                       xs_error_set(err, XS_ERR_DATA,
                                    "%s:%zu: unexpected text after a quoted "
                                    "field", c->path, c->line), -1;
        } else {
            start = p;
            while (p < end && *p != delim && *p != '\n' && *p != '\r') {
                if (*p == '"')
                    return c->err_pos = (size_t)(p - buf),
                           xs_error_set(err, XS_ERR_DATA,
                                        "%s:%zu: stray quote inside an "
                                        "unquoted field", c->path, c->line), -1;
                p++;
            }
            stop = p;
            while (stop > start && (stop[-1] == ' ' ||
                                    (stop[-1] == '\t' && delim != '\t')))
                stop--;
        }
        /* p is at a delimiter, CR, LF or the end */
        char term = p < end ? *p : '\0';
        if (term == '\r') {
            if (p + 1 < end && p[1] != '\n')
                return c->err_pos = (size_t)(p - buf),
                       xs_error_set(err, XS_ERR_DATA,
                                    "%s:%zu: bare carriage return", c->path,
                                    c->line), -1;
            term = '\n';
            *p++ = '\0'; /* the CR */
        }
        *stop = '\0'; /* stop <= p: never beyond the terminator */
        if (push_field(c, start, (size_t)(stop - start), quoted) < 0)
            return xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory",
                                c->path), -1;
        if (term == delim) {
            p++;
            continue;
        }
        if (term == '\n') {
            p++;
            c->next_line++;
        }
        break;
    }
    c->pos = (size_t)(p - buf);
    return 1;
}

int xs_csv_skip_bad(xs_csv *c)
{
    if (c->err_pos == SIZE_MAX || c->err_pos > c->len)
        return -1;
    const char *p = c->buf + c->err_pos, *end = c->buf + c->len;
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    c->pos = nl ? (size_t)(nl + 1 - c->buf) : c->len;
    c->next_line += nl != NULL;
    c->err_pos = SIZE_MAX;
    return 0;
}
