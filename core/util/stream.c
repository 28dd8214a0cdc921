/*
 * stream.c -- reading a stream whole (stream.h): for files whose size is
 * not known in advance (pipes, stdin).  The buffer doubles as it fills;
 * with a progress callback, each fread asks for at most `step` bytes, so
 * that the callback hears of the stream at least that often.
 */
#include <errno.h>
#include <stdlib.h>

#include "util/stream.h"

char *xs_read_stream(FILE *f, size_t *len)
{
    return xs_read_stream_progress(f, len, 0, NULL, NULL);
}

char *xs_read_stream_progress(FILE *f, size_t *len, size_t step,
                              int (*fn)(void *arg, size_t done), void *arg)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            errno = ENOMEM;
            return NULL;
        }
        size_t want = cap - n;
        if (fn && step && want > step)
            want = step;
        size_t got = fread(buf + n, 1, want, f);
        n += got;
        if (ferror(f)) {
            free(buf);
            return NULL;
        }
        if (fn && got && fn(arg, n)) {
            free(buf);
            errno = ECANCELED;
            return NULL;
        }
        if (got < want)
            break;
        if (n < cap)
            continue;
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    *len = n;
    return buf;
}
