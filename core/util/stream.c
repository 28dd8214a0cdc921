/*
 * stream.c -- reading a stream whole (stream.h): for files whose size is
 * not known in advance (pipes, stdin).
 */
#include <errno.h>
#include <stdlib.h>

#include "util/stream.h"

char *xs_read_stream(FILE *f, size_t *len)
{
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            errno = ENOMEM;
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (ferror(f)) {
            free(buf);
            return NULL;
        }
        if (n < cap)
            break;
        char *nb = realloc(buf, cap * 2);
        if (!nb)
            free(buf);
        buf = nb;
        cap *= 2;
    }
    *len = n;
    return buf;
}
