/*
 * data/props.h -- item properties (brand, tags, any extra catalog column)
 * as interned labels, and a request's property filter and boosts resolved
 * against them (props.c).
 *
 * A label is one (property, value) pair, named "property:value" in one
 * dictionary (so a boost key "brand:A" is looked up as it is written);
 * property names never hold ':' (refused where they come in), so the
 * first ':' of a label splits it.  Label and property ids are dense and
 * never change; an item's labels are a sorted array of label ids owned by
 * its catalog entry (data/catalog.c).
 *
 * Ownership: xs_props owns its dictionaries and label -> property map.
 * A query points into memory its builder keeps for the request (the
 * engine's context).
 */
#ifndef XS_DATA_PROPS_H
#define XS_DATA_PROPS_H

#include <stddef.h>
#include <stdint.h>

#include "util/binio.h"
#include "xsell/catalog.h"
#include "xsell/dict.h"

#define XS_PROP_NAME_MAX 64 /* bytes in a property name */

typedef struct xs_props {
    xs_dict *names;       /* property names */
    xs_dict *labels;      /* "name:value" */
    uint32_t *label_prop; /* label id -> property id */
    uint32_t cap_labels;
} xs_props;

/* 0, or -1 when out of memory. */
int xs_props_init(xs_props *p);
void xs_props_free(xs_props *p);

/* Why a property name is refused (empty, too long, holds ':' or a
 * control byte), or NULL when it is good. */
const char *xs_props_bad_name(const char *name, size_t len);

/* Interns the label of (name, value) into *label.  0, or -1 when out of
 * memory.  Names are checked by the caller (xs_props_bad_name). */
int xs_props_intern(xs_props *p, const char *name, size_t name_len,
                    const char *value, size_t value_len, uint32_t *label);
/* The property id of a name, or XS_NONE. */
uint32_t xs_props_property(const xs_props *p, const char *name, size_t len);
/* The label of (name, value), or XS_NONE. */
uint32_t xs_props_find(const xs_props *p, const char *name, size_t name_len,
                       const char *value, size_t value_len);
/* The label "name:value" as one string (a boost key), or XS_NONE. */
uint32_t xs_props_find_key(const xs_props *p, const char *key, size_t len);

/* Both dictionaries in two sections (labels rebuild label_prop on read). */
void xs_props_image_write(const xs_props *p, xs_bw *w);
/* Into an initialised, empty p.  0 or -1 (r says why). */
int xs_props_image_read(xs_props *p, xs_br *r);

/* A request's property rules, resolved to label ids.
 *   need: the filter's labels, grouped by property (group g is
 *         need[group_end[g-1] .. group_end[g]), each group sorted); an
 *         item passes when it holds a label of every group (values of one
 *         property OR-ed, properties AND-ed);
 *   boost_label / boost: factors, the product of those whose label the
 *         item holds multiplies its score;
 *   nothing: a filter group named only values no item has: no item
 *         passes.
 * max_factor bounds the boost, so a candidate that cannot beat the
 * heap's worst even at max_factor is refused before its labels are read. */
typedef struct xs_prop_query {
    const uint32_t *need;
    const uint32_t *group_end;
    uint32_t n_groups;
    const uint32_t *boost_label;
    const double *boost;
    uint32_t n_boost;
    double max_factor; /* the product of the factors > 1 (1 when none):
                          no item's boost exceeds it */
    int nothing;
} xs_prop_query;

/* Whether an item holding labels[0..n) (sorted) passes q's filter; when it
 * does, *factor is its boost (1 without one). */
int xs_prop_query_match(const xs_prop_query *q, const uint32_t *labels,
                        uint32_t n, double *factor);

#endif
