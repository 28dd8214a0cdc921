/*
 * test_image.c -- snapshot images through the library (xs_engine_save,
 * xs_engine_load, xs_image_info_read).
 *
 * On the sample store with both scopes built, after ingest (new customer,
 * new item, an existing order) and catalog changes: the engine loaded
 * from the image has the same counts, the same names for every id, the
 * same row for every item in both scopes and the same catalog entries;
 * the same ingest applied to both afterwards (the loaded one's rows are
 * the image's mapped pages) keeps them equal; loaded under another
 * max_basket, the tables are counted again; the HEAD reads alone; a
 * flipped byte or a cut file is XS_ERR_DATA naming the file and offset.
 * Event types: an image of typed data keeps the types and the other
 * types' events, id for id (the cross tables are built again from them).
 */
#include <fcntl.h>
#include <math.h>
#include <unistd.h>

#include "test_util.h"

#include "xsell/xsell.h"

static xs_engine *sample_engine(const char *src)
{
    char events[4096], catalog[4096];
    snprintf(events, sizeof events, "%s/examples/data/events.csv", src);
    snprintf(catalog, sizeof catalog, "%s/examples/data/catalog.csv", src);
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_events(events, NULL, &err);
    CHECK_MSG(ds != NULL, "%s", err.msg);
    xs_catalog *cat = ds ? xs_catalog_load(catalog, ds->items, &err) : NULL;
    xs_engine_config cfg = {.scope = -1, .threads = 2};
    xs_engine *e = ds ? xs_engine_new(ds, cat, &cfg, &err) : NULL;
    CHECK_MSG(e != NULL, "%s", err.msg);
    if (e)
        CHECK_EQ(xs_engine_use_scope(e, XS_SCOPE_CUSTOMER, &err), XS_OK);
    return e;
}

static void writes(xs_engine *e, int round)
{
    char cust[32], item[32];
    snprintf(cust, sizeof cust, "new-customer-%d", round);
    snprintf(item, sizeof item, "new-item-%d", round);
    xs_ingest_event ev[4] = {
        {cust, "P000001", "O0000001", (uint32_t)strlen(cust), 7, 8,
         1735800000, 1, 2.5, NULL, 0},
        {cust, item, "O0000001", (uint32_t)strlen(cust),
         (uint32_t)strlen(item), 8, 1735800001, 2, NAN, NULL, 0},
        {"C001462", item, NULL, 7, (uint32_t)strlen(item), 0, 1735800002, 1,
         1.0, NULL, 0},
        {"C001462", "P000002", "fresh-order", 7, 7, 11, 1735800003, 1, 1.0, NULL, 0},
    };
    xs_error err = {0};
    CHECK_EQ(xs_engine_ingest(e, ev, 4, &err), XS_OK);
    xs_catalog_item it[2] = {
        {.item = item, .category = "novelty", .title = "A new thing",
         .item_len = (uint32_t)strlen(item), .category_len = 7,
         .title_len = 11, .price = 4.5, .margin = NAN, .in_stock = 1},
        {.item = "P000001", .category = "wine", .item_len = 7,
         .category_len = 4, .price = 99.0, .margin = 0.5, .in_stock = 0},
    };
    CHECK_EQ(xs_engine_catalog_upsert(e, it, 2, NULL, &err), XS_OK);
}

/* Everything observable through the library is equal. */
static void same(xs_engine *a, xs_engine *b)
{
    xs_engine_info ia, ib;
    xs_engine_info_get(a, &ia);
    xs_engine_info_get(b, &ib);
    CHECK_EQU(ia.customers, ib.customers);
    CHECK_EQU(ia.items, ib.items);
    CHECK_EQU(ia.events, ib.events);
    for (int sc = 0; sc < 2; sc++) {
        CHECK_EQU(ia.transactions[sc], ib.transactions[sc]);
        CHECK_EQU(ia.pairs[sc], ib.pairs[sc]);
    }
    const xs_dataset *da = xs_engine_dataset(a), *db = xs_engine_dataset(b);
    int names = 1;
    for (uint32_t i = 0; i < ia.items && names; i++)
        names = !strcmp(xs_dict_name(da->items, i), xs_dict_name(db->items, i));
    for (uint32_t i = 0; i < ia.customers && names; i++)
        names = !strcmp(xs_dict_name(da->customers, i),
                        xs_dict_name(db->customers, i));
    CHECK(names);
    int rows = 1;
    for (int sc = 0; sc < 2; sc++) {
        const xs_cooc *ca = xs_engine_cooc(a, sc), *cb = xs_engine_cooc(b, sc);
        CHECK(ca && cb);
        for (uint32_t i = 0; ca && cb && i < ia.items && rows; i++) {
            xs_row ra, rb;
            int ha = xs_cooc_row(ca, i, &ra), hb = xs_cooc_row(cb, i, &rb);
            rows = ha == hb &&
                   (!ha || (ra.support == rb.support && ra.n == rb.n &&
                            !memcmp(ra.nbr, rb.nbr, ra.n * sizeof *ra.nbr) &&
                            !memcmp(ra.cnt, rb.cnt, ra.n * sizeof *ra.cnt)));
            if (!rows)
                CHECK_MSG(0, "scope %d: row of item %u differs", sc, i);
        }
    }
    const xs_catalog *ka = xs_engine_catalog(a), *kb = xs_engine_catalog(b);
    CHECK_EQU(xs_catalog_size(ka), xs_catalog_size(kb));
    int entries = 1;
    for (uint32_t i = 0; i < ia.items && entries; i++) {
        xs_item_info x, y;
        int hx = xs_catalog_get(ka, i, &x), hy = xs_catalog_get(kb, i, &y);
        entries = hx == hy &&
                  (!hx || (x.category == y.category && x.price == y.price &&
                           x.in_stock == y.in_stock &&
                           !strcmp(x.category_name, y.category_name) &&
                           !x.title == !y.title &&
                           (!x.title || !strcmp(x.title, y.title))));
    }
    CHECK(entries);
}

static void typed_image(void)
{
    const char *ev = xt_write_str("typed.csv",
                                  "customer,item,type,order\n"
                                  "c1,A,purchase,o1\nc1,X,view,\n"
                                  "c2,A,purchase,o2\nc2,B,purchase,o2\n"
                                  "c2,X,view,\nc3,Y,cart,\nc3,B,purchase,o3\n");
    xs_error err = {0};
    xs_dataset *ds = ev ? xs_dataset_load_events(ev, NULL, &err) : NULL;
    CHECK_MSG(ds != NULL, "%s", err.msg);
    xs_engine_config cfg = {.scope = -1, .threads = 1};
    xs_engine *a = ds ? xs_engine_new(ds, NULL, &cfg, &err) : NULL;
    if (!CHECK(a != NULL))
        return;
    CHECK_EQ(xs_engine_use_scope(a, XS_SCOPE_CUSTOMER, &err), XS_OK);
    const char *path = xt_track("typed.xsi", 0);
    CHECK_EQ(xs_engine_save(a, path, 1, NULL, &err), XS_OK);
    xs_engine *b = xs_engine_load(path, &cfg, NULL, &err);
    CHECK_MSG(b != NULL, "%s", err.msg);
    if (b) {
        same(a, b);
        const xs_dataset *da = xs_engine_dataset(a), *db = xs_engine_dataset(b);
        CHECK(db->types != NULL);
        CHECK_EQU(xs_dict_size(db->types), xs_dict_size(da->types));
        for (uint32_t t = 0; db->types && t < xs_dict_size(da->types); t++)
            CHECK_STR(xs_dict_name(db->types, t), xs_dict_name(da->types, t));
        CHECK_EQU(db->n_other, 3);
        CHECK(db->n_other == da->n_other &&
              !memcmp(db->other, da->other, da->n_other * sizeof *da->other));
        xs_engine_free(b);
    }
    xs_engine_free(a);
}

int main(void)
{
    typed_image();
    const char *src = getenv("XS_SOURCE_DIR");
    if (!src)
        return xt_skip("XS_SOURCE_DIR not set");
    xs_engine *a = sample_engine(src);
    if (!a)
        return xt_done();
    writes(a, 1);
    const char *path = xt_track("snap.xsi", 0);
    xs_error err = {0};
    xs_image_info saved, head, loaded;
    CHECK_EQ(xs_engine_save(a, path, 42, &saved, &err), XS_OK);
    CHECK_EQU(saved.seq, 42);
    CHECK_EQU(saved.ingested, 4);
    CHECK_EQU(saved.scopes, 3);
    CHECK_EQ(xs_image_info_read(path, &head, &err), XS_OK);
    CHECK_EQU(head.events, saved.events);
    CHECK_EQU(head.bytes, saved.bytes);
    xs_engine_config cfg = {.scope = -1, .threads = 2};
    xs_engine *b = xs_engine_load(path, &cfg, &loaded, &err);
    CHECK_MSG(b != NULL, "%s", err.msg);
    if (b) {
        CHECK_EQU(loaded.seq, 42);
        same(a, b);
        writes(a, 2);
        writes(b, 2);
        same(a, b);
        /* saved again from the loaded engine, read again: still equal */
        const char *p2 = xt_track("snap2.xsi", 0);
        CHECK_EQ(xs_engine_save(b, p2, 43, &saved, &err), XS_OK);
        CHECK_EQU(saved.ingested, 8);
        xs_engine *c = xs_engine_load(p2, &cfg, NULL, &err);
        CHECK_MSG(c != NULL, "%s", err.msg);
        if (c)
            same(a, c);
        xs_engine_free(c);
        xs_engine_free(b);
    }
    /* loaded under another bound: the tables are counted again */
    xs_engine_config small = {.scope = -1, .threads = 2, .max_basket = 2};
    xs_engine *d = xs_engine_load(path, &small, NULL, &err);
    CHECK_MSG(d != NULL, "%s", err.msg);
    if (d) {
        xs_engine_info ia, id;
        xs_engine_info_get(a, &ia);
        xs_engine_info_get(d, &id);
        CHECK(id.pairs[XS_SCOPE_BASKET] < ia.pairs[XS_SCOPE_BASKET]);
        CHECK(xs_engine_cooc(d, XS_SCOPE_CUSTOMER) == NULL);
        xs_engine_free(d);
    }
    /* damage: a flipped byte in the middle, then a cut file */
    int fd = open(path, O_RDWR);
    unsigned char byte;
    off_t mid = (off_t)(saved.bytes / 2);
    CHECK(fd >= 0 && pread(fd, &byte, 1, mid) == 1);
    byte ^= 1;
    CHECK(pwrite(fd, &byte, 1, mid) == 1);
    close(fd);
    CHECK(xs_engine_load(path, &cfg, NULL, &err) == NULL);
    CHECK_EQ(err.code, XS_ERR_DATA);
    CHECK_HAS(err.msg, "snap.xsi: offset");
    CHECK_HAS(err.msg, "checksum mismatch");
    CHECK_EQ(truncate(path, 3000), 0);
    CHECK(xs_engine_load(path, &cfg, NULL, &err) == NULL);
    CHECK_EQ(err.code, XS_ERR_DATA);
    CHECK_HAS(err.msg, "snap.xsi: offset");
    CHECK(xs_engine_load(xt_missing("none.xsi"), &cfg, NULL, &err) == NULL);
    CHECK_EQ(err.code, XS_ERR_NOTFOUND);
    xs_engine_free(a);
    return xt_done();
}
