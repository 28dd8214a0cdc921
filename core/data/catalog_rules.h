/*
 * data/catalog_rules.h -- what the request filter asks of the catalog
 * (data/catalog.c): whether an item may be returned at a time, under a
 * category, and the property labels it holds (data/props.h).  Internal to
 * libxsell: the engine's business rules and push() read these.
 */
#ifndef XS_DATA_CATALOG_RULES_H
#define XS_DATA_CATALOG_RULES_H

#include <stdint.h>

#include "data/props.h"
#include "xsell/catalog.h"

/* Whether item may be returned at unix time now: not deleted or hidden,
 * available (now >= available_from, now < expires, where set), in stock,
 * and of `category` unless that is XS_NONE.  An item without an entry has
 * no category: it passes only when category is XS_NONE.  c may be NULL.
 * One load of a packed word for an item without dates or flags. */
int xs_catalog_admits(const xs_catalog *c, uint32_t item, uint32_t category,
                      int64_t now);

/* 1 when some entry ever had a date (the caller then needs a time). */
int xs_catalog_dated(const xs_catalog *c);

/* The sorted labels item holds (*n of them; NULL and 0 when none). */
const uint32_t *xs_catalog_labels(const xs_catalog *c, uint32_t item,
                                  uint32_t *n);

/* The catalog's property names and labels (never NULL for a catalog). */
const xs_props *xs_catalog_props(const xs_catalog *c);

#endif
