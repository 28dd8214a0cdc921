/*
 * catalog.c -- item attributes read from a catalog CSV (see catalog.h).
 *
 * Storage is an array indexed by dense item id (items are dense, so this is
 * both the smallest and the fastest map); the category names are interned in
 * a dictionary of the catalog's own.  Titles are owned copies.
 *
 * The request filter asks every candidate's stock and category
 * (xs_catalog_stock), so those live a second time in a packed array of 4
 * bytes per item, `rule`: a candidate costs one cache line in 16 items'
 * worth instead of one in 40-byte entries.  Invariant: rule[i] is
 * pack(e[i]) for every i < cap (set wherever an entry changes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/image.h"
#include "xsell/catalog.h"
#include "xsell/dataset.h"
#include "xsell/plugin_util.h"

typedef struct cat_entry {
    int present;
    int in_stock;
    uint32_t category;
    double price;
    double margin;
    char *title;
} cat_entry;

/* rule[i]: RULE_PRESENT, RULE_IN_STOCK and the category in the low bits
 * (RULE_CAT_BIG when it does not fit: read e[i]). */
#define RULE_PRESENT 0x80000000u
#define RULE_IN_STOCK 0x40000000u
#define RULE_CAT_BIG 0x3FFFFFFFu

struct xs_catalog {
    cat_entry *e;
    uint32_t *rule; /* cap entries, packed from e (above) */
    uint32_t cap;
    uint32_t n; /* distinct items present */
    size_t duplicates;
    xs_dict *categories;
};

void xs_catalog_free(xs_catalog *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->cap; i++)
        free(c->e[i].title);
    free(c->e);
    free(c->rule);
    xs_dict_free(c->categories);
    free(c);
}

/* Packs e[item] into rule[item] (the invariant above). */
static void pack_rule(xs_catalog *c, uint32_t item)
{
    const cat_entry *e = &c->e[item];
    uint32_t v = 0;
    if (e->present)
        v = RULE_PRESENT | (e->in_stock ? RULE_IN_STOCK : 0) |
            (e->category < RULE_CAT_BIG ? e->category : RULE_CAT_BIG);
    c->rule[item] = v;
}

static int grow(xs_catalog *c, uint32_t item)
{
    if (item < c->cap)
        return 0;
    uint32_t cap = c->cap ? c->cap : 1024;
    while (cap <= item)
        cap *= 2;
    cat_entry *e = realloc(c->e, (size_t)cap * sizeof *e);
    if (!e)
        return -1;
    memset(e + c->cap, 0, (size_t)(cap - c->cap) * sizeof *e);
    c->e = e;
    uint32_t *rule = realloc(c->rule, (size_t)cap * sizeof *rule);
    if (!rule)
        return -1; /* e grew, cap did not: both stay consistent up to cap */
    memset(rule + c->cap, 0, (size_t)(cap - c->cap) * sizeof *rule);
    c->rule = rule;
    c->cap = cap;
    return 0;
}

enum { C_ITEM, C_CATEGORY, C_PRICE, C_MARGIN, C_IN_STOCK, C_TITLE, C_COUNT };
static const char *const cat_col[C_COUNT] = {"item",   "category", "price",
                                             "margin", "in_stock", "title"};

xs_catalog *xs_catalog_load(const char *path, xs_dict *items, xs_error *err)
{
    xs_csv csv;
    if (xs_csv_open(&csv, path, ',', err))
        return NULL;
    csv.delim = xs_csv_sniff(&csv);
    xs_catalog *c = calloc(1, sizeof *c);
    if (!c || !(c->categories = xs_dict_new()))
        goto nomem;
    int rc = xs_csv_next(&csv, err);
    if (rc < 0)
        goto fail;
    if (rc == 0) {
        xs_error_set(err, XS_ERR_DATA, "%s: empty file (expected a header "
                     "line)", path);
        goto fail;
    }
    long idx[C_COUNT];
    size_t ncols = csv.n;
    for (int r = 0; r < C_COUNT; r++) {
        idx[r] = -1;
        for (size_t i = 0; i < csv.n; i++)
            if (!strcmp(csv.f[i].s, cat_col[r]))
                idx[r] = (long)i;
        if (idx[r] < 0 && r <= C_PRICE) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: missing required column '%s' (a catalog "
                         "needs item,category,price)", path, csv.line,
                         cat_col[r]);
            goto fail;
        }
    }
    while ((rc = xs_csv_next(&csv, err)) == 1) {
        const xs_csv_cell *f = csv.f;
        if (csv.n != ncols) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: expected %zu fields as in the header, found "
                         "%zu", path, csv.line, ncols, csv.n);
            goto fail;
        }
        const xs_csv_cell *it = &f[idx[C_ITEM]], *cat = &f[idx[C_CATEGORY]],
                           *pr = &f[idx[C_PRICE]];
        if (it->len == 0 || cat->len == 0) {
            xs_error_set(err, XS_ERR_DATA, "%s:%zu: empty %s", path, csv.line,
                         it->len == 0 ? "item" : "category");
            goto fail;
        }
        cat_entry ne = {1, 1, 0, NAN, NAN, NULL};
        if (pr->len == 0 || xs_parse_double(pr->s, pr->len, &ne.price) ||
            ne.price < 0) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: bad price '%.40s' (want a number >= 0)", path,
                         csv.line, pr->s);
            goto fail;
        }
        if (idx[C_MARGIN] >= 0 && f[idx[C_MARGIN]].len > 0 &&
            xs_parse_double(f[idx[C_MARGIN]].s, f[idx[C_MARGIN]].len,
                            &ne.margin)) {
            xs_error_set(err, XS_ERR_DATA, "%s:%zu: bad margin '%.40s'", path,
                         csv.line, f[idx[C_MARGIN]].s);
            goto fail;
        }
        if (idx[C_IN_STOCK] >= 0 && f[idx[C_IN_STOCK]].len > 0 &&
            xs_opt_bool(f[idx[C_IN_STOCK]].s, &ne.in_stock)) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: bad in_stock '%.40s' (want true or false: "
                         "1/0, yes/no, on/off)",
                         path, csv.line, f[idx[C_IN_STOCK]].s);
            goto fail;
        }
        uint32_t item;
        if (xs_dict_intern(items, it->s, it->len, &item) ||
            xs_dict_intern(c->categories, cat->s, cat->len, &ne.category) ||
            grow(c, item))
            goto nomem;
        if (idx[C_TITLE] >= 0 && f[idx[C_TITLE]].len > 0 &&
            !(ne.title = strdup(f[idx[C_TITLE]].s)))
            goto nomem;
        cat_entry *e = &c->e[item];
        if (e->present) {
            c->duplicates++;
            free(e->title);
        } else {
            c->n++;
        }
        *e = ne;
        pack_rule(c, item);
    }
    if (rc < 0)
        goto fail;
    xs_csv_close(&csv);
    return c;
nomem:
    xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
fail:
    xs_csv_close(&csv);
    xs_catalog_free(c);
    return NULL;
}

int xs_catalog_get(const xs_catalog *c, uint32_t item, xs_item_info *out)
{
    if (!c || item >= c->cap || !c->e[item].present)
        return 0;
    const cat_entry *e = &c->e[item];
    out->category = e->category;
    out->category_name = xs_dict_name(c->categories, e->category);
    out->price = e->price;
    out->margin = e->margin;
    out->in_stock = e->in_stock;
    out->title = e->title;
    return 1;
}

uint32_t xs_catalog_size(const xs_catalog *c)
{
    return c ? c->n : 0;
}

size_t xs_catalog_duplicates(const xs_catalog *c)
{
    return c ? c->duplicates : 0;
}

uint32_t xs_catalog_category(const xs_catalog *c, const char *name)
{
    return c ? xs_dict_find(c->categories, name, strlen(name)) : XS_NONE;
}

uint32_t xs_catalog_category_count(const xs_catalog *c)
{
    return c ? xs_dict_size(c->categories) : 0;
}

const char *xs_catalog_category_name(const xs_catalog *c, uint32_t category)
{
    return c ? xs_dict_name(c->categories, category) : NULL;
}

xs_catalog *xs_catalog_new(void)
{
    xs_catalog *c = calloc(1, sizeof *c);
    if (c && !(c->categories = xs_dict_new())) {
        free(c);
        c = NULL;
    }
    return c;
}

int xs_catalog_put(xs_catalog *c, uint32_t item, const xs_catalog_entry *in)
{
    cat_entry ne = {1, in->in_stock ? 1 : 0, 0, in->price, in->margin, NULL};
    if (grow(c, item) ||
        xs_dict_intern(c->categories, in->category, in->category_len,
                       &ne.category))
        return -1;
    if (in->title && !(ne.title = strndup(in->title, in->title_len)))
        return -1;
    cat_entry *e = &c->e[item];
    int fresh = !e->present;
    free(e->title);
    *e = ne;
    pack_rule(c, item);
    c->n += fresh;
    return fresh;
}

int xs_catalog_stock(const xs_catalog *c, uint32_t item, int *in_stock,
                     uint32_t *category)
{
    if (!c || item >= c->cap)
        return 0;
    uint32_t v = c->rule[item];
    if (!(v & RULE_PRESENT))
        return 0;
    *in_stock = (v & RULE_IN_STOCK) != 0;
    v &= RULE_CAT_BIG;
    *category = v == RULE_CAT_BIG ? c->e[item].category : v;
    return 1;
}

/* ---- in a snapshot image (data/image.h) ---------------------------------- */

void xs_catalog_image_write(const xs_catalog *c, xs_bw *w)
{
    xs_dict_image_write(c->categories, w);
    xs_bw_begin(w, XS_SEC_CATALOG);
    xs_bw_u32(w, c->n);
    xs_bw_u64(w, c->duplicates);
    for (uint32_t i = 0; i < c->cap; i++) {
        const cat_entry *e = &c->e[i];
        if (!e->present)
            continue;
        uint32_t tl = e->title ? (uint32_t)strlen(e->title) : UINT32_MAX;
        uint32_t head[4] = {i, e->category, (uint32_t)e->in_stock, tl};
        xs_bw_put(w, head, sizeof head);
        xs_bw_f64(w, e->price);
        xs_bw_f64(w, e->margin);
        if (e->title)
            xs_bw_put(w, e->title, tl);
    }
    xs_bw_end(w);
}

xs_catalog *xs_catalog_image_read(xs_br *r)
{
    xs_catalog *c = xs_catalog_new();
    uint32_t tag;
    uint64_t size;
    if (!c) {
        xs_br_fail(r, "out of memory");
        return NULL;
    }
    if (xs_dict_image_read(c->categories, r) ||
        xs_br_begin(r, &tag, &size) != 1 || tag != XS_SEC_CATALOG) {
        xs_br_fail(r, "want the catalog section");
        goto fail;
    }
    uint32_t n = xs_br_u32(r);
    c->duplicates = (size_t)xs_br_u64(r);
    uint32_t n_cat = xs_dict_size(c->categories);
    for (uint32_t k = 0; k < n && !r->failed; k++) {
        uint32_t head[4];
        if (xs_br_get(r, head, sizeof head))
            break;
        double price = xs_br_f64(r), margin = xs_br_f64(r);
        if (head[0] == XS_NONE || head[1] >= n_cat ||
            (head[3] != UINT32_MAX && head[3] > xs_br_left(r))) {
            xs_br_fail(r, "catalog entry %u is damaged", k);
            break;
        }
        if (grow(c, head[0])) {
            xs_br_fail(r, "out of memory");
            break;
        }
        cat_entry *e = &c->e[head[0]];
        if (e->present) {
            xs_br_fail(r, "catalog entry %u repeats item %u", k, head[0]);
            break;
        }
        *e = (cat_entry){1, head[2] ? 1 : 0, head[1], price, margin, NULL};
        pack_rule(c, head[0]);
        c->n++;
        if (head[3] != UINT32_MAX) {
            if (!(e->title = malloc((size_t)head[3] + 1))) {
                xs_br_fail(r, "out of memory");
                break;
            }
            if (xs_br_get(r, e->title, head[3]))
                break;
            e->title[head[3]] = '\0';
        }
    }
    if (!r->failed && xs_br_end(r) == 0)
        return c;
fail:
    xs_catalog_free(c);
    return NULL;
}
