/*
 * json.h -- minimal JSON and CSV writing helpers for the CLI and reports.
 *
 * Numbers are written in the shortest form that reads back to the same
 * double; strings are escaped per RFC 8259 (control bytes as \u00XX, other
 * bytes passed through, so UTF-8 input stays UTF-8).
 */
#ifndef XSELL_JSON_H
#define XSELL_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "api.h"

XS_API void xs_json_string(FILE *f, const char *s);
XS_API void xs_json_number(FILE *f, double v);
/* A CSV field, quoted when it holds a comma, quote, CR or LF. */
XS_API void xs_csv_field(FILE *f, const char *s);
/* Shortest round-trip text of v into buf (at least 32 bytes). */
XS_API void xs_format_double(char *buf, size_t len, double v);

#endif
