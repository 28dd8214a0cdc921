/*
 * engine/image.h -- the store as a snapshot image file, and back.
 *
 * The image holds the data, not the plugins: dictionaries (so every id
 * keeps its meaning), every event (loaded and ingested, in the order the
 * histories index them), the catalog, and the co-occurrence table of each
 * scope built, compacted.  Plugins are loaded afterwards and prepare from
 * it exactly as from a fresh load; tables are not rebuilt.
 *
 * Layout (util/binio.h sections, in this order):
 *   HEAD  magic "XSELLIMG", format, byte order, xs_image_info, flags
 *   DICT items, DICT customers, [DICT orders]
 *   EVNT  the events (xs_event, raw)
 *   [DICT categories, CATL]                  when a catalog is held
 *   [COOC basket] [COOC customer]            the tables built
 *   END   empty: the file is whole
 */
#ifndef XS_ENGINE_IMAGE_H
#define XS_ENGINE_IMAGE_H

#include "engine/store.h"
#include "xsell/engine.h"

/* Writes s to path atomically (path.tmp, fsync, rename, fsync of the
 * directory).  info (may be NULL) receives what was written; seq is the
 * last log record the image holds.  The caller keeps writers out. */
int xs_image_write(const xs_store *s, const char *path, uint64_t seq,
                   xs_image_info *info, xs_error *err);

/* What an image holds, read back: the dataset, catalog and tables are the
 * caller's (xs_store_init_image takes them). */
typedef struct xs_image_parts {
    xs_dataset *ds;
    xs_catalog *cat;
    xs_cooc *cooc[2];
    int default_scope;
    uint64_t ingested;
    xs_image_info info;
} xs_image_parts;

int xs_image_read(const char *path, xs_image_parts *out, xs_error *err);
void xs_image_parts_free(xs_image_parts *p);

#endif
