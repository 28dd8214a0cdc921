/*
 * stream.h -- reading a stream whole into memory.
 */
#ifndef XS_STREAM_H
#define XS_STREAM_H

#include <stddef.h>
#include <stdio.h>

/* Reads f to its end into malloc'd memory with at least one spare byte
 * after the data (for a NUL).  Returns the buffer (owned by the caller) and
 * its length in *len, or NULL with errno set. */
char *xs_read_stream(FILE *f, size_t *len);
/* The same, calling fn(arg, bytes read so far) after each read of at most
 * step bytes; a non-zero return stops: NULL with errno ECANCELED. */
char *xs_read_stream_progress(FILE *f, size_t *len, size_t step,
                              int (*fn)(void *arg, size_t done), void *arg);

#endif
