/*
 * test_persist.c -- the pieces under the data dir, compiled in from their
 * sources (they are private to libxsell): CRC-32C, sectioned files, log
 * payloads and the write-ahead log.
 *
 * CRC-32C: the published check value on both paths, both paths equal on
 * random lengths and alignments, and continuation.  Sections: a round
 * trip, a flipped byte (checksum mismatch naming the offset), a cut file,
 * an atomic commit that leaves no .tmp.  Payloads: ingest and catalog
 * batches round trip field for field; a cut payload is refused.  The log:
 * records replay in order with their seqs; those a snapshot holds are
 * skipped; a torn tail is cut at the last good record (offset reported,
 * file shortened, appends go on); a flipped byte before the end refuses
 * the open naming the offset, or with recover drops that record and
 * counts it; a gap in the seqs is refused; restart empties the log and
 * seqs go on; `always` commits from many threads.  The catalog2 record
 * (deletion, hidden, dates, properties) round trips and every cut of it
 * is refused; a data dir whose log holds a first-version catalog record
 * (as written before catalog2) and a catalog2 one replays both.
 */
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#include "persist/records.h"
#include "persist/wal.h"
#include "util/binio.h"
#include "util/crc32c.h"
#include "xsell/xsell.h"

static void test_crc(void)
{
    CHECK_EQU(xs_crc32c(0, "123456789", 9), 0xE3069283u);
    CHECK_EQU(xs_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    CHECK_EQU(xs_crc32c(0, "", 0), 0);
    unsigned char buf[1000];
    unsigned x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 9; off++)
        for (size_t n = 0; n + off <= sizeof buf; n += 37)
            CHECK_EQU(xs_crc32c(0, buf + off, n),
                      xs_crc32c_portable(0, buf + off, n));
    CHECK_EQU(xs_crc32c(xs_crc32c(0, buf, 333), buf + 333, 667),
              xs_crc32c(0, buf, 1000));
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) ? -1 : st.st_size;
}

static void flip(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    unsigned char b = 0;
    CHECK(fd >= 0 && pread(fd, &b, 1, at) == 1);
    b ^= 0x20;
    CHECK(pwrite(fd, &b, 1, at) == 1);
    close(fd);
}

static void test_sections(void)
{
    const char *path = xt_track("s.bin", 0);
    xs_error err = {0};
    xs_bw w;
    CHECK_EQ(xs_bw_open(&w, path, &err), XS_OK);
    xs_bw_begin(&w, XS_TAG('A', 'A', 'A', 'A'));
    xs_bw_u32(&w, 7);
    xs_bw_put(&w, "hello", 5);
    xs_bw_end(&w);
    static uint32_t big[600000]; /* more than the buffer: written straight */
    for (uint32_t i = 0; i < 600000; i++)
        big[i] = i * 3;
    xs_bw_begin(&w, XS_TAG('B', 'B', 'B', 'B'));
    xs_bw_put(&w, big, sizeof big);
    xs_bw_f64(&w, 2.5);
    xs_bw_end(&w);
    CHECK_EQ(xs_bw_commit(&w, &err), XS_OK);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);

    xs_br r;
    uint32_t tag;
    uint64_t len;
    char s[6] = {0};
    CHECK_EQ(xs_br_open(&r, path, &err), XS_OK);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), 1);
    CHECK_EQU(tag, XS_TAG('A', 'A', 'A', 'A'));
    CHECK_EQU(len, 9);
    CHECK_EQU(xs_br_u32(&r), 7);
    CHECK_EQ(xs_br_get(&r, s, 5), 0);
    CHECK_STR(s, "hello");
    CHECK_EQ(xs_br_end(&r), 0);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), 1);
    xs_br_mapping m;
    const uint32_t *mapped = xs_br_map(&r, sizeof big, &m);
    CHECK(mapped != NULL);
    int same = mapped != NULL;
    for (uint32_t i = 0; same && i < 600000; i++)
        same = mapped[i] == i * 3;
    CHECK(same);
    CHECK(xs_br_f64(&r) == 2.5);
    CHECK_EQ(xs_br_end(&r), 0);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), 0); /* the end */
    xs_br_close(&r);
    xs_br_unmap(&m);

    /* a flipped byte inside section B */
    flip(path, 100000);
    CHECK_EQ(xs_br_open(&r, path, &err), XS_OK);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), 1);
    CHECK_EQ(xs_br_end(&r), 0);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), 1);
    CHECK_EQ(xs_br_end(&r), -1);
    CHECK_HAS(err.msg, "checksum mismatch");
    CHECK_HAS(err.msg, "s.bin: offset");
    xs_br_close(&r);

    /* cut short: the second section runs past the end */
    CHECK_EQ(truncate(path, 5000), 0);
    CHECK_EQ(xs_br_open(&r, path, &err), XS_OK);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), 1);
    CHECK_EQ(xs_br_end(&r), 0);
    CHECK_EQ(xs_br_begin(&r, &tag, &len), -1);
    CHECK_HAS(err.msg, "past the end of the file");
    xs_br_close(&r);
}

static void test_records(void)
{
    xs_ingest_event ev[3] = {
        {"c1", "i1", NULL, 2, 2, 0, 100, 1.0, 2.5, NULL, 0},
        {"cust\0two", "item-2", "o7", 8, 6, 2, -5, 3.0, 0.0, NULL, 0},
        {"c3", "i3", "", 2, 2, 0, 7, 0.5, 0.0, NULL, 0},
    };
    ev[2].price = __builtin_nan("");
    xs_buf b = {0};
    CHECK_EQ(xs_record_ingest_typed(ev, 3), 0);
    CHECK_EQ(xs_record_ingest(&b, ev, 3, 0), 0);
    xs_ingest_event *got;
    const char *why = NULL;
    CHECK_EQ(xs_record_read_ingest(b.p, b.n, 0, &got, &why), 3);
    for (int i = 0; i < 3; i++) {
        CHECK_EQU(got[i].customer_len, ev[i].customer_len);
        CHECK(!memcmp(got[i].customer, ev[i].customer, ev[i].customer_len));
        CHECK(!memcmp(got[i].item, ev[i].item, ev[i].item_len));
        CHECK_EQ(!got[i].order, !ev[i].order);
        CHECK_EQ(got[i].ts, ev[i].ts);
        CHECK(got[i].weight == ev[i].weight);
    }
    CHECK(got[1].order && !memcmp(got[1].order, "o7", 2));
    CHECK(__builtin_isnan(got[2].price));
    free(got);
    CHECK_EQ(xs_record_read_ingest(b.p, b.n - 1, 0, &got, &why), -1);
    CHECK(why != NULL);

    /* the typed form: a type name where given, none for the primary */
    ev[0].type = "view";
    ev[0].type_len = 4;
    ev[1].type = "purchase";
    ev[1].type_len = 8;
    CHECK_EQ(xs_record_ingest_typed(ev, 3), 1);
    CHECK_EQ(xs_record_ingest_typed(ev + 1, 2), 0);
    CHECK_EQ(xs_record_ingest(&b, ev, 3, 1), 0);
    CHECK_EQ(xs_record_read_ingest(b.p, b.n, 1, &got, &why), 3);
    CHECK(got[0].type && got[0].type_len == 4 &&
          !memcmp(got[0].type, "view", 4));
    CHECK(got[1].type == NULL && got[2].type == NULL);
    CHECK(got[1].order && !memcmp(got[1].order, "o7", 2));
    CHECK_EQ(got[0].ts, 100);
    free(got);
    CHECK_EQ(xs_record_read_ingest(b.p, b.n - 1, 1, &got, &why), -1);

    xs_catalog_item it[2] = {
        {.item = "p1", .category = "wine", .title = "Red", .item_len = 2,
         .category_len = 4, .title_len = 3, .price = 9.5, .margin = 0.25,
         .in_stock = 1},
        {.item = "p2", .category = "beer", .item_len = 2, .category_len = 4,
         .price = 1.0, .margin = __builtin_nan(""), .in_stock = 0},
    };
    CHECK_EQ(xs_record_catalog(&b, it, 2), 0);
    xs_catalog_item *gi;
    CHECK_EQ(xs_record_read_catalog(b.p, b.n, &gi, &why), 2);
    CHECK(!memcmp(gi[0].title, "Red", 3) && gi[0].title_len == 3);
    CHECK(gi[1].title == NULL && gi[1].in_stock == 0);
    CHECK(gi[0].price == 9.5 && __builtin_isnan(gi[1].margin));
    free(gi);
    CHECK_EQ(xs_record_read_catalog(b.p, 3, &gi, &why), -1);

    /* catalog2 (record type 3): deletion, hidden, dates, properties */
    xs_prop_value pv[3] = {{"brand", "B1", 5, 2},
                           {"tags", "organic", 4, 7},
                           {"tags", "vegan", 4, 5}};
    xs_catalog_item it2[3] = {
        {.item = "p1", .category = "wine", .item_len = 2, .category_len = 4,
         .price = 9.5, .margin = 0.25, .in_stock = 1, .hidden = 1,
         .available_from = 1700000000, .expires = 1800000000, .props = pv,
         .n_props = 3},
        {.item = "p2", .item_len = 2, .remove = 1, .margin = NAN},
        {.item = "p3", .category = "beer", .title = "T", .item_len = 2,
         .category_len = 4, .title_len = 1, .price = 1, .margin = NAN},
    };
    CHECK_EQ(xs_record_catalog2(&b, it2, 3), 0);
    CHECK_EQ(xs_record_read_catalog2(b.p, b.n, &gi, &why), 3);
    CHECK(gi[0].hidden && !gi[0].remove && gi[0].n_props == 3);
    CHECK(gi[0].available_from == 1700000000 && gi[0].expires == 1800000000);
    CHECK(gi[0].props[2].value_len == 5 &&
          !memcmp(gi[0].props[2].value, "vegan", 5) &&
          !memcmp(gi[0].props[1].name, "tags", 4));
    CHECK(gi[1].remove && gi[1].n_props == 0 && gi[1].item_len == 2);
    CHECK(gi[2].title_len == 1 && !gi[2].hidden && gi[2].n_props == 0);
    free(gi);
    for (size_t cut = 0; cut < b.n; cut += 7) /* every cut refused */
        CHECK_EQ(xs_record_read_catalog2(b.p, cut, &gi, &why), -1);
    xs_buf_free(&b);
}

typedef struct seen {
    uint64_t seq[64];
    char payload[64][16];
    int n;
} seen;

static int collect(void *arg, uint32_t type, uint64_t seq, const void *p,
                   size_t len, xs_error *err)
{
    (void)err;
    seen *s = arg;
    if (s->n < 64 && type == XS_WAL_INGEST && len < 16) {
        s->seq[s->n] = seq;
        memcpy(s->payload[s->n], p, len);
        s->payload[s->n][len] = '\0';
        s->n++;
    }
    return 0;
}

/* A log of `n` records "r1".."rn" at path (fresh). */
static void write_log(const char *path, int n, xs_fsync_policy pol)
{
    unlink(path);
    xs_wal *w;
    xs_wal_report rep;
    seen s = {0};
    xs_error err = {0};
    CHECK_EQ(xs_wal_open(path, pol, 0, 0, collect, &s, &w, &rep, &err), 0);
    for (int i = 1; i <= n; i++) {
        char p[16];
        uint64_t seq;
        snprintf(p, sizeof p, "r%d", i);
        CHECK_EQ(xs_wal_append(w, XS_WAL_INGEST, p, strlen(p), &seq, &err),
                 0);
        CHECK_EQU(seq, (uint64_t)i);
        CHECK_EQ(xs_wal_commit(w, &err), 0);
    }
    xs_wal_close(w);
}

typedef struct committer {
    xs_wal *w;
    pthread_mutex_t *mu; /* the engine's writer mutex, in the real thing */
    int fails;
} committer;

static void *commit_many(void *arg)
{
    committer *c = arg;
    xs_error err;
    for (int i = 0; i < 50; i++) {
        pthread_mutex_lock(c->mu);
        c->fails += xs_wal_append(c->w, XS_WAL_INGEST, "x", 1, NULL, &err) != 0;
        pthread_mutex_unlock(c->mu);
        c->fails += xs_wal_commit(c->w, &err) != 0;
    }
    return NULL;
}

static void test_wal(void)
{
    const char *path = xt_track("wal.log", 0);
    xs_error err = {0};
    xs_wal *w;
    xs_wal_report rep;
    seen s = {0};
    write_log(path, 5, XS_FSYNC_ALWAYS);
    off_t size5 = file_size(path);
    off_t rec = size5 / 5; /* "r1".."r5": all the same size */

    CHECK_EQ(xs_wal_open(path, XS_FSYNC_NO, 0, 0, collect, &s, &w, &rep,
                         &err), 0);
    CHECK_EQ(s.n, 5);
    CHECK_EQU(s.seq[4], 5);
    CHECK_STR(s.payload[2], "r3");
    CHECK_EQU(rep.records, 5);
    CHECK_EQU(rep.torn_at, UINT64_MAX);
    xs_wal_close(w);

    memset(&s, 0, sizeof s); /* a snapshot holds 1..3 */
    CHECK_EQ(xs_wal_open(path, XS_FSYNC_NO, 3, 0, collect, &s, &w, &rep,
                         &err), 0);
    CHECK_EQ(s.n, 2);
    CHECK_EQU(s.seq[0], 4);
    CHECK_EQU(rep.skipped, 3);
    xs_wal_close(w);

    /* a torn tail: half of a record more */
    char junk[64];
    int fd = open(path, O_RDONLY);
    CHECK(rec / 2 <= (off_t)sizeof junk &&
          pread(fd, junk, (size_t)rec / 2, 0) == rec / 2);
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND);
    CHECK(write(fd, junk, (size_t)rec / 2) == rec / 2);
    close(fd);
    memset(&s, 0, sizeof s);
    CHECK_EQ(xs_wal_open(path, XS_FSYNC_NO, 0, 0, collect, &s, &w, &rep,
                         &err), 0);
    CHECK_EQ(s.n, 5);
    CHECK_EQU(rep.torn_at, (uint64_t)size5);
    CHECK_EQ(file_size(path), size5);
    uint64_t seq;
    CHECK_EQ(xs_wal_append(w, XS_WAL_INGEST, "r6", 2, &seq, &err), 0);
    CHECK_EQU(seq, 6);
    xs_wal_close(w);

    /* a flipped byte in record 2 of 6: refused, naming its offset */
    flip(path, rec + 20); /* record 2's checksum */
    memset(&s, 0, sizeof s);
    CHECK_EQ(xs_wal_open(path, XS_FSYNC_NO, 0, 0, collect, &s, &w, &rep,
                         &err), XS_ERR_DATA);
    char want[64];
    snprintf(want, sizeof want, "offset %lld", (long long)rec);
    CHECK_HAS(err.msg, want);
    CHECK_HAS(err.msg, "--recover");
    memset(&s, 0, sizeof s);
    CHECK_EQ(xs_wal_open(path, XS_FSYNC_NO, 0, 1, collect, &s, &w, &rep,
                         &err), 0);
    CHECK_EQ(s.n, 5);
    CHECK_STR(s.payload[1], "r3");
    CHECK_EQU(rep.dropped, (uint64_t)rec);
    CHECK_EQU(rep.dropped_seqs, 1);
    CHECK_HAS(rep.first_damage, want);

    /* restart empties it; seqs go on; many threads commit together */
    CHECK_EQ(xs_wal_restart(w, &err), 0);
    CHECK_EQ(file_size(path), 0);
    xs_wal_close(w);
    write_log(path, 0, XS_FSYNC_ALWAYS);
    memset(&s, 0, sizeof s);
    CHECK_EQ(xs_wal_open(path, XS_FSYNC_ALWAYS, 6, 0, collect, &s, &w, &rep,
                         &err), 0);
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    committer c[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        c[i] = (committer){w, &mu, 0};
        CHECK_EQ(pthread_create(&t[i], NULL, commit_many, &c[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(c[i].fails, 0);
    }
    CHECK_EQU(xs_wal_last_seq(w), 206);
    xs_wal_close(w);

    /* a gap: records 1..3 missing after a snapshot at 0 */
    write_log(path, 5, XS_FSYNC_NO);
    int in = open(path, O_RDONLY);
    char *all = malloc((size_t)size5);
    CHECK(pread(in, all, (size_t)size5, 0) == size5);
    close(in);
    const char *tail = xt_write_file("gap.log", all + 3 * rec,
                                     (size_t)(2 * rec));
    free(all);
    CHECK_EQ(xs_wal_open(tail, XS_FSYNC_NO, 0, 0, collect, &s, &w, &rep,
                         &err), XS_ERR_DATA);
    CHECK_HAS(err.msg, "records are missing");

    uint64_t n, first, last, dmg;
    CHECK_EQ(xs_wal_inspect(path, &n, &first, &last, &dmg, &err), 0);
    CHECK_EQU(n, 5);
    CHECK_EQU(first, 1);
    CHECK_EQU(last, 5);
    CHECK_EQU(dmg, UINT64_MAX);
}

static int no_apply(void *arg, uint32_t type, uint64_t seq, const void *p,
                    size_t len, xs_error *err)
{
    (void)arg, (void)type, (void)seq, (void)p, (void)len, (void)err;
    return 0;
}

/* A log written before catalog2 (a type 2 record) followed by a type 3
 * one: the data dir replays both, in order, into the engine. */
static void test_old_catalog_log(void)
{
    const char *src = getenv("XS_SOURCE_DIR");
    if (!src)
        return; /* ctest sets it; the other tests still run */
    char events[4096], catalog[4096];
    snprintf(events, sizeof events, "%s/examples/data/events.csv", src);
    snprintf(catalog, sizeof catalog, "%s/examples/data/catalog.csv", src);
    xs_error err = {0};
    xs_dataset *ds = xs_dataset_load_events(events, NULL, &err);
    if (!CHECK(ds != NULL))
        return;
    xs_catalog *cat = xs_catalog_load(catalog, ds->items, &err);
    xs_engine_config cfg = {.scope = -1, .threads = 1};
    xs_engine *e = xs_engine_new(ds, cat, &cfg, &err);
    if (!CHECK(e != NULL))
        return;
    const char *dir = xt_mkdir("olddir");
    const char *lock = xt_track("olddir/LOCK", 0);
    const char *snap = xt_track("olddir/snapshot.xsi", 0);
    const char *log = xt_track("olddir/wal.log", 0);
    (void)lock, (void)snap;
    xs_datadir_config dc = {.dir = dir, .fsync = XS_FSYNC_NO};
    xs_datadir *d = NULL;
    CHECK_EQ(xs_datadir_open(&dc, &d, &err), XS_OK);
    CHECK_EQ(xs_datadir_seed(d, e, &err), XS_OK);
    xs_datadir_close(d);
    xs_engine_free(e);

    xs_catalog_item old = {.item = "OLD1", .category = "wine", .item_len = 4,
                           .category_len = 4, .price = 3, .margin = NAN,
                           .in_stock = 1};
    xs_prop_value pv = {"brand", "B9", 5, 2};
    xs_catalog_item now[2] = {
        {.item = "P000251", .item_len = 7, .remove = 1, .margin = NAN},
        {.item = "P000073", .category = "frozen", .item_len = 7,
         .category_len = 6, .price = 4, .margin = NAN, .in_stock = 1,
         .hidden = 1, .props = &pv, .n_props = 1}};
    xs_buf b = {0};
    xs_wal *w = NULL;
    xs_wal_report rep;
    CHECK_EQ(xs_wal_open(log, XS_FSYNC_NO, 0, 0, no_apply, NULL, &w, &rep,
                         &err), XS_OK);
    CHECK_EQ(xs_record_catalog(&b, &old, 1), 0);
    CHECK_EQ(xs_wal_append(w, XS_WAL_CATALOG, b.p, b.n, NULL, &err), XS_OK);
    CHECK_EQ(xs_record_catalog2(&b, now, 2), 0);
    CHECK_EQ(xs_wal_append(w, XS_WAL_CATALOG2, b.p, b.n, NULL, &err), XS_OK);
    xs_wal_close(w);
    xs_buf_free(&b);

    CHECK_EQ(xs_datadir_open(&dc, &d, &err), XS_OK);
    e = xs_datadir_load(d, &cfg, &err);
    CHECK_MSG(e != NULL, "%s", err.msg);
    if (e && CHECK_EQ(xs_datadir_attach(d, e, &err), XS_OK)) {
        const xs_catalog *c = xs_engine_catalog(e);
        xs_item_info info;
        CHECK(xs_catalog_get(c, xs_engine_item(e, "OLD1"), &info) &&
              info.price == 3 && !strcmp(info.category_name, "wine"));
        CHECK(!xs_catalog_get(c, xs_engine_item(e, "P000251"), &info));
        CHECK(xs_catalog_get(c, xs_engine_item(e, "P000073"), &info) &&
              info.price == 4);
    }
    xs_datadir_close(d);
    xs_engine_free(e);
}

int main(void)
{
    test_crc();
    test_sections();
    test_records();
    test_wal();
    test_old_catalog_log();
    return xt_done();
}
