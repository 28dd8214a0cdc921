/*
 * datefmt.h -- timestamps written in an export's own date format
 * ("12/1/2010 8:26" is "%m/%d/%Y %H:%M"), read with strptime(3).
 */
#ifndef XS_DATEFMT_H
#define XS_DATEFMT_H

#include <stdint.h>

/* Parses the NUL-terminated s with the strptime format fmt, which must
 * consume all of s (trailing spaces aside), as a UTC time: *out gets unix
 * seconds.  Fields the format lacks are 0 (a date alone is midnight).
 * Returns 0, or -1 when s does not match. */
int xs_parse_date_format(const char *s, const char *fmt, int64_t *out);

#endif
