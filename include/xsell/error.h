/*
 * xsell/error.h -- how library functions report failure.
 *
 * Every fallible function returns an int status (XS_OK on success) and, when
 * given a non-NULL xs_error, writes a one-line human message there.  Messages
 * about input name the place: "file:line: reason".  Library code never exits.
 */
#ifndef XSELL_ERROR_H
#define XSELL_ERROR_H

#include "api.h"
#include "plugin.h"

enum xs_status {
    XS_OK = 0,
    XS_ERR_USAGE,    /* bad argument or option: the caller's mistake */
    XS_ERR_IO,       /* file missing, unreadable, write failed */
    XS_ERR_DATA,     /* malformed input data */
    XS_ERR_NOMEM,    /* allocation failed */
    XS_ERR_PLUGIN,   /* plugin failed to load or create */
    XS_ERR_NOTFOUND, /* no such plugin, scope, ... */
    XS_ERR_INTERNAL,
    XS_ERR_LIMIT     /* a size limit refuses the request (--max-basket, ...):
                        the message names the limit */
};

typedef struct xs_error {
    int code;
    char msg[512];
} xs_error;

/* Sets err (if non-NULL) and returns code. */
XS_API int xs_error_set(xs_error *err, int code, const char *fmt, ...)
    XS_PRINTF(3, 4);
XS_API void xs_error_clear(xs_error *err);

#endif
