/*
 * xsell/catalog.h -- item attributes: category, price, margin, stock, title.
 *
 * The catalog shares the item dictionary of the dataset it describes: items
 * named only in the catalog are interned there too (they can be recommended
 * by catalog-driven plugins, never by co-occurrence).  The catalog owns its
 * category dictionary and titles.
 *
 * File: CSV with header; columns item,category,price and optional
 * margin,in_stock,title.  Price must be a non-negative number; in_stock is
 * a boolean (true|false|yes|no|on|off|1|0, any case; empty: in stock).  A
 * repeated item: the last line wins, counted in `duplicates`.
 *
 * Properties and lifecycle.  Optional columns available_from and expires
 * (timestamps as xsell/parse.h reads them; empty: none) bound when an item
 * may be returned: from available_from (inclusive) until expires
 * (exclusive), judged against the request's time.  hidden (a boolean)
 * keeps an item known but never returned.  Every other column is a
 * property named by its header: one value per cell, except `tags`, whose
 * cell is split on '|'; an empty cell or part gives no value.  Property
 * names hold no ':' (a boost names "property:value").
 */
#ifndef XSELL_CATALOG_H
#define XSELL_CATALOG_H

#include "api.h"
#include "dict.h"
#include "error.h"
#include "plugin.h"

typedef struct xs_catalog xs_catalog;

/* Loads path, interning items into `items`.  Returns the catalog (owned by
 * the caller) or NULL with err set.  On failure `items` may have gained ids,
 * which is harmless: an id without events or catalog entry is never
 * recommended. */
XS_API xs_catalog *xs_catalog_load(const char *path, xs_dict *items,
                                   xs_error *err);
XS_API void xs_catalog_free(xs_catalog *c);

/* Returns 1 and fills *out when item is in the catalog, else 0. */
XS_API int xs_catalog_get(const xs_catalog *c, uint32_t item,
                          xs_item_info *out);
XS_API uint32_t xs_catalog_size(const xs_catalog *c);
XS_API size_t xs_catalog_duplicates(const xs_catalog *c);
/* Category id of a name, or XS_NONE. */
XS_API uint32_t xs_catalog_category(const xs_catalog *c, const char *name);
XS_API uint32_t xs_catalog_category_count(const xs_catalog *c);
XS_API const char *xs_catalog_category_name(const xs_catalog *c,
                                            uint32_t category);

/* An empty catalog (NULL when out of memory), for catalogs built at run
 * time. */
XS_API xs_catalog *xs_catalog_new(void);

/* One property value of an item: the property's name and one value (a
 * property with several values, like tags, comes once per value).  Not
 * NUL-terminated. */
typedef struct xs_prop_value {
    const char *name, *value;
    uint32_t name_len, value_len;
} xs_prop_value;

#define XS_ITEM_PROPS_MAX 64 /* property values of one item */

/* One entry as written by xs_catalog_put: category is a name (interned),
 * price >= 0 and finite, margin NaN or finite, title NULL or copied.
 * The fields after title were added later: zero means none (no property,
 * no start, no end, shown), so an entry initialised without them is what
 * it was before. */
typedef struct xs_catalog_entry {
    const char *category;
    size_t category_len;
    double price;
    double margin;
    int in_stock;
    const char *title;
    size_t title_len;
    const xs_prop_value *props; /* n_props values (interned), may be NULL */
    size_t n_props;             /* at most XS_ITEM_PROPS_MAX */
    int64_t available_from;     /* unix seconds; 0: always available */
    int64_t expires;            /* unix seconds; 0: never expires */
    int hidden;                 /* known, never returned */
} xs_catalog_entry;

/* Adds or replaces the entry of item (a dense id of the shared item
 * dictionary).  Returns 1 when the item was new to the catalog, 0 when
 * replaced, -1 when out of memory (the catalog is unchanged). */
XS_API int xs_catalog_put(xs_catalog *c, uint32_t item,
                          const xs_catalog_entry *in);

/* Removes item's entry (price, title, properties, dates) and marks it
 * deleted: the item is never returned again until an xs_catalog_put gives
 * it an entry.  Returns 1 when it had an entry, 0 when not, -1 when out of
 * memory. */
XS_API int xs_catalog_delete(xs_catalog *c, uint32_t item);

/* Fast path for the business rules: 1 and the item's stock flag and
 * category when it has an entry, else 0. */
XS_API int xs_catalog_stock(const xs_catalog *c, uint32_t item, int *in_stock,
                            uint32_t *category);

#endif
