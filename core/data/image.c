/*
 * image.c -- dictionaries in a snapshot image (data/image.h).
 *
 * A dictionary is written as its count, the length of every name, then
 * the names back to back; reading adds them in id order to an empty
 * dictionary, so every id means what it meant when written (without a
 * lookup each: the names were distinct when written and the section's
 * checksum says they still are).  The catalog
 * and the co-occurrence tables write themselves (catalog.c, cooc.c): they
 * keep their layout private.
 */
#include <stdlib.h>

#include "data/image.h"
#include "util/dict_bulk.h"

void xs_dict_image_write(const xs_dict *d, xs_bw *w)
{
    uint32_t n = xs_dict_size(d), len;
    xs_bw_begin(w, XS_SEC_DICT);
    xs_bw_u32(w, n);
    for (uint32_t i = 0; i < n; i++) {
        xs_dict_key(d, i, &len);
        xs_bw_u32(w, len);
    }
    for (uint32_t i = 0; i < n; i++) {
        const char *s = xs_dict_key(d, i, &len);
        xs_bw_put(w, s, len);
    }
    xs_bw_end(w);
}

int xs_dict_image_read(xs_dict *d, xs_br *r)
{
    uint32_t tag;
    uint64_t size;
    if (xs_br_begin(r, &tag, &size) != 1 || tag != XS_SEC_DICT)
        return xs_br_fail(r, "want a dictionary section");
    uint32_t n = xs_br_u32(r);
    if ((uint64_t)n * 4 > xs_br_left(r))
        return xs_br_fail(r, "dictionary of %u names in %llu bytes", n,
                          (unsigned long long)xs_br_left(r));
    uint32_t *len = malloc(((size_t)n + 1) * sizeof *len);
    char *buf = NULL;
    if (!len)
        return xs_br_fail(r, "out of memory");
    uint64_t total = 0;
    int rc = xs_br_get(r, len, (size_t)n * sizeof *len);
    for (uint32_t i = 0; i < n && !rc; i++)
        total += len[i];
    if (!rc && total != xs_br_left(r))
        rc = xs_br_fail(r, "dictionary names take %llu bytes, the section "
                        "%llu", (unsigned long long)total,
                        (unsigned long long)xs_br_left(r));
    if (!rc && !(buf = malloc(total ? total : 1)))
        rc = xs_br_fail(r, "out of memory");
    if (!rc)
        rc = xs_br_get(r, buf, total);
    const char *p = buf;
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (xs_dict_add_unique(d, p, len[i]))
            rc = xs_br_fail(r, "out of memory");
        p += len[i];
    }
    free(len);
    free(buf);
    return rc ? rc : xs_br_end(r);
}
