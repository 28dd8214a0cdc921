/*
 * json.h -- minimal JSON and CSV writing helpers for the CLI and reports.
 *
 * Numbers are written in the shortest form that reads back to the same
 * double.  Strings are client data returned as given: escaped per RFC 8259
 * and, beyond it, so that the text is also safe inside an HTML <script>
 * element and a JavaScript string (< > & DEL U+2028 U+2029 as \uXXXX);
 * well-formed UTF-8 passes through and reads back exactly, each byte that
 * is not well-formed UTF-8 becomes U+FFFD (JSON text must be Unicode).
 * CSV fields are quoted per RFC 4180 and otherwise written as given: no
 * spreadsheet-formula neutralising (a leading = + - @ stays), since the
 * files are data for programs and ids must read back byte for byte.
 */
#ifndef XSELL_JSON_H
#define XSELL_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "api.h"

XS_API void xs_json_string(FILE *f, const char *s);
/* The n bytes at s as a JSON string (NUL bytes included, as \u0000). */
XS_API void xs_json_bytes(FILE *f, const char *s, size_t n);
/* The most bytes xs_json_escape writes for n bytes of input. */
#define XS_JSON_ESCAPED_MAX(n) (6 * (size_t)(n) + 2)
/* Writes the n bytes at s as a JSON string, quotes included, into dst
 * (room for XS_JSON_ESCAPED_MAX(n) bytes, no NUL added); returns the bytes
 * written. */
XS_API size_t xs_json_escape(char *dst, const char *s, size_t n);
XS_API void xs_json_number(FILE *f, double v);
/* A CSV field, quoted when it holds a comma, quote, CR or LF. */
XS_API void xs_csv_field(FILE *f, const char *s);
/* The most bytes xs_csv_escape writes for n bytes of input. */
#define XS_CSV_ESCAPED_MAX(n) (2 * (size_t)(n) + 2)
/* The n bytes at s as a CSV field (quoted as xs_csv_field) into dst (room
 * for XS_CSV_ESCAPED_MAX(n) bytes, no NUL added); returns the bytes
 * written. */
XS_API size_t xs_csv_escape(char *dst, const char *s, size_t n);
/* Shortest round-trip text of v into buf (at least 32 bytes; a shorter
 * buf gets the text cut as snprintf cuts): the fewest significant digits
 * that read back (strtod) as v, the closest to v of those, laid out as
 * printf's %.<P>g with P = max(15, digits); "null" for NaN and infinities,
 * "0" for both zeros. */
XS_API void xs_format_double(char *buf, size_t len, double v);

#endif
