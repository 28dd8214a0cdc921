/*
 * text.h -- the text encoding of data files: checking that a block is
 * UTF-8 without NUL bytes, and transcoding Latin-1 (ISO-8859-1) to UTF-8.
 *
 * Every name the loaders intern ends up in JSON answers, CSV output and
 * msgpack strings, which promise UTF-8; a NUL byte would cut a C string
 * short, so an id would silently lose its tail.  Both are therefore
 * refused at load, naming the line, unless the file is declared Latin-1,
 * in which case each byte 0x80..0xFF becomes its two-byte UTF-8 form (NUL
 * still refused).  Neither changes where lines break: every byte a CSV
 * reader looks for (quote, delimiter, CR, LF) is ASCII and stays as is.
 */
#ifndef XS_TEXT_H
#define XS_TEXT_H

#include <stddef.h>

enum { XS_TEXT_OK, XS_TEXT_NUL, XS_TEXT_BAD_UTF8 };

/* Looks for the first NUL byte or byte sequence that is not UTF-8 in
 * buf[0..len) (overlong forms, surrogates and code points past U+10FFFF
 * are not UTF-8).  Returns XS_TEXT_OK, or the kind with *at set to its
 * offset. */
int xs_text_check(const char *buf, size_t len, size_t *at);

/* The offset of the first NUL byte of buf[0..len), or len. */
size_t xs_text_find_nul(const char *buf, size_t len);

/* buf[0..len) read as Latin-1, in UTF-8: a malloc'ed copy (the caller
 * frees it) of *out_len bytes plus a terminating NUL, or NULL when out of
 * memory. */
char *xs_text_latin1_to_utf8(const char *buf, size_t len, size_t *out_len);

/* The 1-based line of offset at in buf (line breaks before it + 1). */
size_t xs_text_line_of(const char *buf, size_t at);

#endif
