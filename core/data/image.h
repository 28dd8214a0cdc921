/*
 * data/image.h -- the data module's parts of a snapshot image
 * (engine/image.c writes the whole image): dictionaries, the catalog,
 * co-occurrence tables.  Each writes one section of a util/binio.h file
 * and reads it back into a new object; every count read is checked
 * against what the section still holds, so a damaged file fails with a
 * message naming the offset instead of allocating wildly.
 *
 * Ownership: what a *_image_read returns belongs to the caller.
 */
#ifndef XS_DATA_IMAGE_H
#define XS_DATA_IMAGE_H

#include "util/binio.h"
#include "xsell/catalog.h"
#include "xsell/cooc.h"
#include "xsell/dict.h"

#define XS_SEC_DICT XS_TAG('D', 'I', 'C', 'T')
#define XS_SEC_CATALOG XS_TAG('C', 'A', 'T', 'L')
#define XS_SEC_COOC XS_TAG('C', 'O', 'O', 'C')
#define XS_SEC_CATALOG_EXT XS_TAG('C', 'A', 'T', 'X')

/* Names in id order: count, lengths, bytes. */
void xs_dict_image_write(const xs_dict *d, xs_bw *w);
/* Interns the names of the open section into d (empty) in order, so ids
 * are kept.  0 or -1 (r says why). */
int xs_dict_image_read(xs_dict *d, xs_br *r);

/* The catalog: categories in id order, then every entry present. */
void xs_catalog_image_write(const xs_catalog *c, xs_bw *w);
xs_catalog *xs_catalog_image_read(xs_br *r);
/* Properties, dates, hidden and deleted items (written after the catalog
 * when the image's head says so; images from before have none): the
 * property dictionaries, then one record per item that has any. */
void xs_catalog_image_write_ext(const xs_catalog *c, xs_bw *w);
/* Into c as just read by xs_catalog_image_read.  0 or -1. */
int xs_catalog_image_read_ext(xs_catalog *c, xs_br *r);

/* The table as it reads now (rows touched by ingest merged in), compact. */
void xs_cooc_image_write(const xs_cooc *c, xs_bw *w);
/* A table equal to the one written; NULL when r failed (or memory). */
xs_cooc *xs_cooc_image_read(xs_br *r);

#endif
