/*
 * error.c -- filling xs_error.  The message is always NUL-terminated and
 * silently truncated to the buffer.
 */
#include <stdarg.h>
#include <stdio.h>

#include "xsell/error.h"

int xs_error_set(xs_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void xs_error_clear(xs_error *err)
{
    if (err) {
        err->code = XS_OK;
        err->msg[0] = '\0';
    }
}
