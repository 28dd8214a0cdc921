/*
 * xsell/parse.h -- the number and time syntax of every data file and of
 * the ingest op.
 */
#ifndef XSELL_PARSE_H
#define XSELL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "api.h"

/* Parses a timestamp: unix seconds (integer or decimal) or ISO-8601
 * (YYYY-MM-DD, YYYY-MM-DD[T ]hh:mm[:ss[.frac]][Z|+hh:mm|-hh:mm], read as UTC
 * when no offset is given).  Returns 0 and sets *out, or -1. */
XS_API int xs_parse_timestamp(const char *s, size_t len, int64_t *out);

/* Parses a finite decimal number filling the whole of s[0..len).  Returns 0
 * or -1. */
XS_API int xs_parse_double(const char *s, size_t len, double *out);

#endif
