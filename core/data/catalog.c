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
 *
 * Lifecycle and properties (issue 15) keep that path as it was: an item
 * with dates, hidden or deleted has RULE_SPECIAL set, and only then is its
 * entry read (xs_catalog_admits); the category field lost one bit to it
 * (categories past 2^29 - 1 are read from the entry, as before past
 * 2^30 - 1).  A deleted item has no entry (present 0) but keeps
 * RULE_SPECIAL so it is refused: an item known from events is otherwise
 * returned without an entry.  Properties are labels (data/props.h), an
 * owned sorted array per entry, read only by requests that filter or
 * boost on them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/catalog_rules.h"
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
    uint32_t *labels; /* sorted, owned; NULL when none */
    uint32_t n_labels;
    int hidden, deleted; /* deleted: present is 0 */
    int64_t from, until; /* available_from, expires; 0: none */
} cat_entry;

/* rule[i]: RULE_PRESENT, RULE_IN_STOCK and the category in the low bits
 * (RULE_CAT_BIG when it does not fit: read e[i]). */
#define RULE_PRESENT 0x80000000u
#define RULE_IN_STOCK 0x40000000u
#define RULE_SPECIAL 0x20000000u /* dates, hidden or deleted: read e[i] */
#define RULE_CAT_BIG 0x1FFFFFFFu

struct xs_catalog {
    cat_entry *e;
    uint32_t *rule; /* cap entries, packed from e (above) */
    uint32_t cap;
    uint32_t n; /* distinct items present */
    size_t duplicates;
    xs_dict *categories;
    xs_props props;
    int dated; /* some entry ever had a date */
};

void xs_catalog_free(xs_catalog *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->cap; i++) {
        free(c->e[i].title);
        free(c->e[i].labels);
    }
    free(c->e);
    free(c->rule);
    xs_dict_free(c->categories);
    xs_props_free(&c->props);
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
    if (e->hidden || e->deleted || e->from || e->until)
        v |= RULE_SPECIAL;
    if (e->from || e->until)
        c->dated = 1;
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

enum { C_ITEM, C_CATEGORY, C_PRICE, C_MARGIN, C_IN_STOCK, C_TITLE,
       C_AVAILABLE_FROM, C_EXPIRES, C_HIDDEN, C_COUNT };
static const char *const cat_col[C_COUNT] = {
    "item",  "category",       "price",   "margin", "in_stock",
    "title", "available_from", "expires", "hidden"};

/* Gives e the labels of props[0..n) (interned, sorted, unique), freeing
 * what it had.  0 or -1 (memory; e unchanged). */
static int set_labels(xs_catalog *c, cat_entry *e, const xs_prop_value *props,
                      size_t n)
{
    uint32_t *v = NULL;
    if (n && !(v = malloc(n * sizeof *v)))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (xs_props_intern(&c->props, props[i].name, props[i].name_len,
                            props[i].value, props[i].value_len, &v[i])) {
            free(v);
            return -1;
        }
    free(e->labels);
    e->labels = v;
    e->n_labels = n ? xs_sort_unique(v, (uint32_t)n) : 0;
    return 0;
}

/* Reads the optional timestamp column col of the record into *t (0 when
 * absent or empty).  0, or -1 with err set. */
static int read_time(const xs_csv *csv, long col, const char *name,
                     const char *path, int64_t *t, xs_error *err)
{
    *t = 0;
    if (col < 0 || csv->f[col].len == 0)
        return 0;
    if (xs_parse_timestamp(csv->f[col].s, csv->f[col].len, t) || *t == 0) {
        xs_error_set(err, XS_ERR_DATA,
                     "%s:%zu: bad %s '%.40s' (want unix seconds or "
                     "YYYY-MM-DD[Thh:mm[:ss]], after 1970)", path, csv->line,
                     name, csv->f[col].s);
        return -1;
    }
    return 0;
}

xs_catalog *xs_catalog_load(const char *path, xs_dict *items, xs_error *err)
{
    xs_csv csv;
    if (xs_csv_open(&csv, path, ',', err))
        return NULL;
    csv.delim = xs_csv_sniff(&csv);
    xs_catalog *c = xs_catalog_new();
    long *prop_col = NULL; /* the property columns, n_prop of them */
    size_t n_prop = 0;
    if (!c)
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
    /* every other column is a property named by its header */
    if (!(prop_col = malloc((ncols ? ncols : 1) * sizeof *prop_col)))
        goto nomem;
    char **prop_name = calloc(ncols ? ncols : 1, sizeof *prop_name);
    if (!prop_name)
        goto nomem;
    for (size_t i = 0; i < ncols; i++) {
        int known = 0;
        for (int r = 0; r < C_COUNT; r++)
            known |= idx[r] == (long)i;
        if (known)
            continue;
        const char *why = xs_props_bad_name(csv.f[i].s, csv.f[i].len);
        if (why) {
            xs_error_set(err, XS_ERR_DATA, "%s:%zu: column %zu: %s", path,
                         csv.line, i + 1, why);
            goto fail_names;
        }
        if (!(prop_name[n_prop] = strndup(csv.f[i].s, csv.f[i].len)))
            goto nomem_names;
        prop_col[n_prop++] = (long)i;
    }
    xs_prop_value pv[XS_ITEM_PROPS_MAX];
    while ((rc = xs_csv_next(&csv, err)) == 1) {
        const xs_csv_cell *f = csv.f;
        if (csv.n != ncols) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: expected %zu fields as in the header, found "
                         "%zu", path, csv.line, ncols, csv.n);
            goto fail_names;
        }
        const xs_csv_cell *it = &f[idx[C_ITEM]], *cat = &f[idx[C_CATEGORY]],
                           *pr = &f[idx[C_PRICE]];
        if (it->len == 0 || cat->len == 0) {
            xs_error_set(err, XS_ERR_DATA, "%s:%zu: empty %s", path, csv.line,
                         it->len == 0 ? "item" : "category");
            goto fail_names;
        }
        cat_entry ne = {1, 1, 0, NAN, NAN, NULL, NULL, 0, 0, 0, 0, 0};
        if (pr->len == 0 || xs_parse_double(pr->s, pr->len, &ne.price) ||
            ne.price < 0) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: bad price '%.40s' (want a number >= 0)", path,
                         csv.line, pr->s);
            goto fail_names;
        }
        if (idx[C_MARGIN] >= 0 && f[idx[C_MARGIN]].len > 0 &&
            xs_parse_double(f[idx[C_MARGIN]].s, f[idx[C_MARGIN]].len,
                            &ne.margin)) {
            xs_error_set(err, XS_ERR_DATA, "%s:%zu: bad margin '%.40s'", path,
                         csv.line, f[idx[C_MARGIN]].s);
            goto fail_names;
        }
        if (idx[C_IN_STOCK] >= 0 && f[idx[C_IN_STOCK]].len > 0 &&
            xs_opt_bool(f[idx[C_IN_STOCK]].s, &ne.in_stock)) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: bad in_stock '%.40s' (want true or false: "
                         "1/0, yes/no, on/off)",
                         path, csv.line, f[idx[C_IN_STOCK]].s);
            goto fail_names;
        }
        if (idx[C_HIDDEN] >= 0 && f[idx[C_HIDDEN]].len > 0 &&
            xs_opt_bool(f[idx[C_HIDDEN]].s, &ne.hidden)) {
            xs_error_set(err, XS_ERR_DATA,
                         "%s:%zu: bad hidden '%.40s' (want true or false: "
                         "1/0, yes/no, on/off)",
                         path, csv.line, f[idx[C_HIDDEN]].s);
            goto fail_names;
        }
        if (read_time(&csv, idx[C_AVAILABLE_FROM], "available_from", path,
                      &ne.from, err) ||
            read_time(&csv, idx[C_EXPIRES], "expires", path, &ne.until, err))
            goto fail_names;
        size_t n_pv = 0;
        for (size_t k = 0; k < n_prop; k++) {
            const xs_csv_cell *pc = &f[prop_col[k]];
            int split = !strcmp(prop_name[k], "tags");
            size_t nl = strlen(prop_name[k]);
            for (size_t a = 0; a < pc->len;) {
                size_t b = a;
                while (b < pc->len && !(split && pc->s[b] == '|'))
                    b++;
                if (b > a) {
                    if (n_pv == XS_ITEM_PROPS_MAX) {
                        xs_error_set(err, XS_ERR_DATA,
                                     "%s:%zu: more than %d property values",
                                     path, csv.line, XS_ITEM_PROPS_MAX);
                        goto fail_names;
                    }
                    pv[n_pv++] = (xs_prop_value){
                        prop_name[k], pc->s + a, (uint32_t)nl,
                        (uint32_t)(b - a)};
                }
                a = b + 1;
            }
        }
        uint32_t item;
        if (xs_dict_intern(items, it->s, it->len, &item) ||
            xs_dict_intern(c->categories, cat->s, cat->len, &ne.category) ||
            grow(c, item) || set_labels(c, &ne, pv, n_pv))
            goto nomem_names;
        if (idx[C_TITLE] >= 0 && f[idx[C_TITLE]].len > 0 &&
            !(ne.title = strdup(f[idx[C_TITLE]].s))) {
            free(ne.labels);
            goto nomem_names;
        }
        cat_entry *e = &c->e[item];
        if (e->present) {
            c->duplicates++;
            free(e->title);
        } else {
            c->n++;
        }
        free(e->labels);
        *e = ne;
        pack_rule(c, item);
    }
    for (size_t k = 0; k < n_prop; k++)
        free(prop_name[k]);
    free(prop_name);
    if (rc < 0)
        goto fail;
    free(prop_col);
    xs_csv_close(&csv);
    return c;
nomem_names:
    xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
fail_names:
    for (size_t k = 0; k < n_prop; k++)
        free(prop_name[k]);
    free(prop_name);
    goto fail;
nomem:
    xs_error_set(err, XS_ERR_NOMEM, "%s: out of memory", path);
fail:
    free(prop_col);
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
    if (!c)
        return NULL;
    if (!(c->categories = xs_dict_new()) || xs_props_init(&c->props)) {
        xs_dict_free(c->categories);
        free(c);
        c = NULL;
    }
    return c;
}

int xs_catalog_put(xs_catalog *c, uint32_t item, const xs_catalog_entry *in)
{
    cat_entry ne = {1,    in->in_stock ? 1 : 0, 0,
                    in->price, in->margin,     NULL,
                    NULL, 0,                    in->hidden ? 1 : 0,
                    0,    in->available_from,   in->expires};
    if (grow(c, item) ||
        xs_dict_intern(c->categories, in->category, in->category_len,
                       &ne.category) ||
        set_labels(c, &ne, in->props, in->n_props))
        return -1;
    if (in->title && !(ne.title = strndup(in->title, in->title_len))) {
        free(ne.labels);
        return -1;
    }
    cat_entry *e = &c->e[item];
    int fresh = !e->present;
    free(e->title);
    free(e->labels);
    *e = ne;
    pack_rule(c, item);
    c->n += fresh;
    return fresh;
}

int xs_catalog_delete(xs_catalog *c, uint32_t item)
{
    if (grow(c, item))
        return -1;
    cat_entry *e = &c->e[item];
    int had = e->present;
    free(e->title);
    free(e->labels);
    *e = (cat_entry){0};
    e->deleted = 1;
    pack_rule(c, item);
    c->n -= (uint32_t)had;
    return had;
}

/* The slow half of xs_catalog_admits: an item with RULE_SPECIAL. */
static int life_admits(const cat_entry *e, int64_t now)
{
    if (e->deleted || e->hidden)
        return 0;
    if (e->from && now < e->from)
        return 0;
    return !e->until || now < e->until;
}

int xs_catalog_admits(const xs_catalog *c, uint32_t item, uint32_t category,
                      int64_t now)
{
    if (!c || item >= c->cap)
        return category == XS_NONE;
    uint32_t v = c->rule[item];
    if ((v & RULE_SPECIAL) && !life_admits(&c->e[item], now))
        return 0;
    if (!(v & RULE_PRESENT))
        return category == XS_NONE;
    if (!(v & RULE_IN_STOCK))
        return 0;
    if (category == XS_NONE)
        return 1;
    v &= RULE_CAT_BIG;
    return (v == RULE_CAT_BIG ? c->e[item].category : v) == category;
}

int xs_catalog_dated(const xs_catalog *c)
{
    return c && c->dated;
}

const uint32_t *xs_catalog_labels(const xs_catalog *c, uint32_t item,
                                  uint32_t *n)
{
    if (!c || item >= c->cap || !c->e[item].n_labels) {
        *n = 0;
        return NULL;
    }
    *n = c->e[item].n_labels;
    return c->e[item].labels;
}

const xs_props *xs_catalog_props(const xs_catalog *c)
{
    return &c->props;
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

/* Whether entry e has anything for the CATX section. */
static int has_ext(const cat_entry *e)
{
    return e->n_labels || e->hidden || e->deleted || e->from || e->until;
}

void xs_catalog_image_write_ext(const xs_catalog *c, xs_bw *w)
{
    xs_props_image_write(&c->props, w);
    xs_bw_begin(w, XS_SEC_CATALOG_EXT);
    uint32_t m = 0;
    for (uint32_t i = 0; i < c->cap; i++)
        m += (uint32_t)has_ext(&c->e[i]);
    xs_bw_u32(w, m);
    for (uint32_t i = 0; i < c->cap; i++) {
        const cat_entry *e = &c->e[i];
        if (!has_ext(e))
            continue;
        uint32_t head[3] = {i, (uint32_t)e->hidden | (uint32_t)e->deleted << 1,
                            e->n_labels};
        xs_bw_put(w, head, sizeof head);
        xs_bw_i64(w, e->from);
        xs_bw_i64(w, e->until);
        if (e->n_labels)
            xs_bw_put(w, e->labels, e->n_labels * sizeof *e->labels);
    }
    xs_bw_end(w);
}

int xs_catalog_image_read_ext(xs_catalog *c, xs_br *r)
{
    uint32_t tag;
    uint64_t size;
    if (xs_props_image_read(&c->props, r))
        return -1;
    if (xs_br_begin(r, &tag, &size) != 1 || tag != XS_SEC_CATALOG_EXT)
        return xs_br_fail(r, "want the catalog's properties section");
    uint32_t m = xs_br_u32(r), n_labels = xs_dict_size(c->props.labels);
    for (uint32_t k = 0; k < m && !r->failed; k++) {
        uint32_t head[3];
        if (xs_br_get(r, head, sizeof head))
            break;
        int64_t from = xs_br_i64(r), until = xs_br_i64(r);
        if (head[0] == XS_NONE || head[1] > 3 ||
            (uint64_t)head[2] * 4 > xs_br_left(r) ||
            head[2] > XS_ITEM_PROPS_MAX) {
            xs_br_fail(r, "catalog properties entry %u is damaged", k);
            break;
        }
        if (grow(c, head[0]))
            return xs_br_fail(r, "out of memory");
        cat_entry *e = &c->e[head[0]];
        int deleted = (head[1] & 2) != 0;
        if (deleted == e->present || e->deleted || e->n_labels) {
            xs_br_fail(r, "catalog properties entry %u does not match item "
                       "%u", k, head[0]);
            break;
        }
        e->hidden = (int)(head[1] & 1);
        e->deleted = deleted;
        e->from = from;
        e->until = until;
        if (head[2]) {
            if (!(e->labels = malloc(head[2] * sizeof *e->labels)))
                return xs_br_fail(r, "out of memory");
            if (xs_br_get(r, e->labels, head[2] * sizeof *e->labels))
                break;
            e->n_labels = head[2];
            for (uint32_t j = 0; j < head[2]; j++)
                if (e->labels[j] >= n_labels ||
                    (j && e->labels[j] <= e->labels[j - 1]))
                    return xs_br_fail(r, "catalog properties entry %u holds "
                                      "a bad label", k);
        }
        pack_rule(c, head[0]);
    }
    return r->failed ? -1 : xs_br_end(r);
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
        *e = (cat_entry){.present = 1, .in_stock = head[2] ? 1 : 0,
                         .category = head[1], .price = price,
                         .margin = margin};
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
