/*
 * props.c -- item properties as labels, and matching a request's
 * property rules (data/props.h).
 *
 * Why labels: a filter or boost names (property, value) pairs, and an item
 * holds a handful of them, so the pair is the unit: one dictionary of
 * "name:value" strings gives each pair a dense id, an item keeps the sorted
 * ids it holds, and a request's rules become short sorted id lists.
 * Matching an item is then a merge of two tiny sorted lists per filter
 * group (an item has a few labels, a request a few values), no string is
 * touched while scoring.  label_prop maps a label back to its property so
 * a resolved filter can be grouped by property.
 *
 * Invariant: label_prop[l] is the property of label l for every
 * l < xs_dict_size(labels) (set as each label is interned).
 */
#include <stdlib.h>
#include <string.h>

#include "data/image.h"
#include "data/props.h"
#include "xsell/plugin_util.h"

int xs_props_init(xs_props *p)
{
    memset(p, 0, sizeof *p);
    if (!(p->names = xs_dict_new()) || !(p->labels = xs_dict_new())) {
        xs_props_free(p);
        return -1;
    }
    return 0;
}

void xs_props_free(xs_props *p)
{
    xs_dict_free(p->names);
    xs_dict_free(p->labels);
    free(p->label_prop);
    memset(p, 0, sizeof *p);
}

const char *xs_props_bad_name(const char *name, size_t len)
{
    if (len == 0)
        return "empty property name";
    if (len > XS_PROP_NAME_MAX)
        return "property name longer than 64 bytes";
    for (size_t i = 0; i < len; i++) {
        if (name[i] == ':')
            return "property name holding ':'";
        if ((unsigned char)name[i] < 0x20)
            return "property name holding a control byte";
    }
    return NULL;
}

/* "name:value" into buf (room for XS_PROP_NAME_MAX + 1 + value_len);
 * returns its length. */
static size_t label_key(char *buf, const char *name, size_t name_len,
                        const char *value, size_t value_len)
{
    memcpy(buf, name, name_len);
    buf[name_len] = ':';
    memcpy(buf + name_len + 1, value, value_len);
    return name_len + 1 + value_len;
}

/* Records property `prop` for a label id just interned (the invariant). */
static int set_label_prop(xs_props *p, uint32_t label, uint32_t prop)
{
    if (label >= p->cap_labels) {
        uint32_t cap = p->cap_labels ? p->cap_labels * 2 : 64;
        while (cap <= label)
            cap *= 2;
        uint32_t *v = realloc(p->label_prop, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        p->label_prop = v;
        p->cap_labels = cap;
    }
    p->label_prop[label] = prop;
    return 0;
}

int xs_props_intern(xs_props *p, const char *name, size_t name_len,
                    const char *value, size_t value_len, uint32_t *label)
{
    char stack[512];
    size_t need = name_len + 1 + value_len;
    char *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf)
        return -1;
    size_t len = label_key(buf, name, name_len, value, value_len);
    uint32_t before = xs_dict_size(p->labels), prop;
    int rc = xs_dict_intern(p->labels, buf, len, label);
    if (buf != stack)
        free(buf);
    if (rc)
        return -1;
    if (*label < before)
        return 0;
    if (xs_dict_intern(p->names, name, name_len, &prop))
        return -1;
    return set_label_prop(p, *label, prop);
}

uint32_t xs_props_property(const xs_props *p, const char *name, size_t len)
{
    return xs_dict_find(p->names, name, len);
}

uint32_t xs_props_find(const xs_props *p, const char *name, size_t name_len,
                       const char *value, size_t value_len)
{
    char stack[512];
    size_t need = name_len + 1 + value_len;
    char *buf = need <= sizeof stack ? stack : malloc(need);
    if (!buf)
        return XS_NONE;
    size_t len = label_key(buf, name, name_len, value, value_len);
    uint32_t id = xs_dict_find(p->labels, buf, len);
    if (buf != stack)
        free(buf);
    return id;
}

uint32_t xs_props_find_key(const xs_props *p, const char *key, size_t len)
{
    return xs_dict_find(p->labels, key, len);
}

void xs_props_image_write(const xs_props *p, xs_bw *w)
{
    xs_dict_image_write(p->names, w);
    xs_dict_image_write(p->labels, w);
}

int xs_props_image_read(xs_props *p, xs_br *r)
{
    if (xs_dict_image_read(p->names, r) || xs_dict_image_read(p->labels, r))
        return -1;
    uint32_t n = xs_dict_size(p->labels);
    for (uint32_t l = 0; l < n; l++) {
        uint32_t len;
        const char *key = xs_dict_key(p->labels, l, &len);
        const char *colon = memchr(key, ':', len);
        uint32_t prop = colon ? xs_dict_find(p->names, key,
                                             (size_t)(colon - key))
                              : XS_NONE;
        if (prop == XS_NONE)
            return xs_br_fail(r, "label %u names no known property", l);
        if (set_label_prop(p, l, prop))
            return xs_br_fail(r, "out of memory");
    }
    return 0;
}

/* 1 when sorted a[0..na) and b[0..nb) share an id. */
static int meet(const uint32_t *a, uint32_t na, const uint32_t *b,
                uint32_t nb)
{
    uint32_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j])
            return 1;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return 0;
}

int xs_prop_query_match(const xs_prop_query *q, const uint32_t *labels,
                        uint32_t n, double *factor)
{
    *factor = 1.0;
    if (q->nothing)
        return 0;
    uint32_t start = 0;
    for (uint32_t g = 0; g < q->n_groups; g++) {
        if (!meet(q->need + start, q->group_end[g] - start, labels, n))
            return 0;
        start = q->group_end[g];
    }
    for (uint32_t b = 0; b < q->n_boost && n; b++) {
        uint32_t i = xs_lower_bound(labels, n, q->boost_label[b]);
        if (i < n && labels[i] == q->boost_label[b])
            *factor *= q->boost[b];
    }
    return 1;
}
