/*
 * test_score.c -- xs_score_run (batch scoring) through the library.
 *
 * The shard hash against FNV-1a-64 reference vectors; on the sample store
 * (examples/data, recency + popular): the same bytes whatever the threads
 * and chunk size; shards partition the customers; a refusing writer stops
 * the run with XS_ERR_IO (no hang) whatever the threads; bad configs are
 * XS_ERR_USAGE; an empty list writes the header only; jsonl has one line
 * per customer.
 */
#include "test_util.h"

#include "xsell/xsell.h"

typedef struct mem {
    char *p;
    size_t len, cap;
    int calls, fail_after; /* fail_after < 0: never */
} mem;

static int mem_write(void *arg, const char *buf, size_t len)
{
    mem *m = arg;
    if (m->fail_after >= 0 && m->calls++ >= m->fail_after)
        return -1;
    if (m->len + len > m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap < m->len + len)
            cap *= 2;
        char *p = realloc(m->p, cap);
        if (!p)
            return -1;
        m->p = p;
        m->cap = cap;
    }
    memcpy(m->p + m->len, buf, len);
    m->len += len;
    return 0;
}

static xs_score_config base(mem *m)
{
    xs_score_config c = {0};
    c.k = 5;
    c.threads = 1;
    c.format = XS_SCORE_CSV;
    c.header = 1;
    c.exclude_owned = -1;
    c.write = mem_write;
    c.write_arg = m;
    return c;
}

static size_t count_lines(const mem *m)
{
    size_t n = 0;
    for (size_t i = 0; i < m->len; i++)
        n += m->p[i] == '\n';
    return n;
}

int main(void)
{
    CHECK_EQU(xs_score_shard_hash("", 0), 0xcbf29ce484222325ULL);
    CHECK_EQU(xs_score_shard_hash("a", 1), 0xaf63dc4c8601ec8cULL);
    CHECK_EQU(xs_score_shard_hash("foobar", 6), 0x85944171f73967e8ULL);

    const char *src = getenv("XS_SOURCE_DIR");
    if (!src)
        return xt_skip("XS_SOURCE_DIR not set");
    char events[4096];
    snprintf(events, sizeof events, "%s/examples/data/events.csv", src);
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(events, &cols, &err);
    if (!CHECK_MSG(ds, "load: %s", err.msg))
        return xt_done();
    xs_engine_config ecfg = {.scope = -1, .threads = 1};
    xs_engine *e = xs_engine_new(ds, NULL, &ecfg, &err);
    if (!CHECK_MSG(e, "engine: %s", err.msg))
        return xt_done();
    if (!CHECK_MSG(!xs_engine_add_plugin(e, "recency", NULL, 0, &err) &&
                       !xs_engine_add_plugin(e, "popular", NULL, 0, &err),
                   "plugins: %s", err.msg)) {
        xs_engine_free(e);
        return xt_done();
    }
    uint32_t n_cust = xs_dict_size(xs_engine_dataset(e)->customers);
    CHECK_EQU(n_cust, 2000);

    /* reference: one thread, default chunk, the blend */
    mem ref = {.fail_after = -1};
    xs_score_config c = base(&ref);
    xs_score_stats st;
    CHECK_EQ(xs_score_run(e, &c, &st, &err), XS_OK);
    CHECK_EQU(st.scored, n_cust);
    CHECK_EQU(count_lines(&ref), st.rows + 1);
    CHECK(ref.len > 32 && !memcmp(ref.p, "customer,rank,item,score,plugin\n",
                                  32));
    const int threads[] = {2, 3, 4, 8};
    const uint32_t chunks[] = {1, 7, 256, 5000};
    for (int t = 0; t < 4; t++)
        for (int ch = 0; ch < 4; ch++) {
            mem m = {.fail_after = -1};
            c = base(&m);
            c.threads = threads[t];
            c.chunk = chunks[ch];
            CHECK_EQ(xs_score_run(e, &c, NULL, &err), XS_OK);
            CHECK_MSG(m.len == ref.len && !memcmp(m.p, ref.p, m.len),
                      "threads %d chunk %u: output differs", threads[t],
                      chunks[ch]);
            free(m.p);
        }

    /* shards partition the customers and the rows */
    uint64_t scored = 0, rows = 0;
    for (uint32_t i = 0; i < 4; i++) {
        mem m = {.fail_after = -1};
        c = base(&m);
        c.threads = 2;
        c.shard = i;
        c.n_shards = 4;
        CHECK_EQ(xs_score_run(e, &c, &st, &err), XS_OK);
        CHECK_EQU(st.scored + st.other_shard, n_cust);
        scored += st.scored;
        rows += st.rows;
        free(m.p);
    }
    CHECK_EQU(scored, n_cust);
    CHECK_EQU(rows, count_lines(&ref) - 1);

    /* a refusing writer stops the run, with one thread or many */
    for (int t = 1; t <= 4; t++) {
        mem m = {.fail_after = 3};
        c = base(&m);
        c.threads = t;
        c.chunk = 16;
        CHECK_EQ(xs_score_run(e, &c, &st, &err), XS_ERR_IO);
        CHECK(st.scored < n_cust);
        free(m.p);
    }

    /* bad configs */
    mem m = {.fail_after = -1};
    c = base(&m);
    c.k = 0;
    CHECK_EQ(xs_score_run(e, &c, NULL, &err), XS_ERR_USAGE);
    c = base(&m);
    c.k = XS_K_MAX + 1;
    CHECK_EQ(xs_score_run(e, &c, NULL, &err), XS_ERR_USAGE);
    c = base(&m);
    c.shard = 3;
    c.n_shards = 2;
    CHECK_EQ(xs_score_run(e, &c, NULL, &err), XS_ERR_USAGE);
    c = base(&m);
    c.format = 7;
    CHECK_EQ(xs_score_run(e, &c, NULL, &err), XS_ERR_USAGE);
    uint32_t bad_id = n_cust;
    c = base(&m);
    c.customers = &bad_id;
    c.n_customers = 1;
    CHECK_EQ(xs_score_run(e, &c, NULL, &err), XS_ERR_USAGE);
    CHECK_EQU(m.len, 0); /* nothing written before the refusal */

    /* an empty list: the header only; a list: its order, repeats kept */
    uint32_t some[] = {5, 1, 5};
    c = base(&m);
    c.customers = some;
    c.n_customers = 0;
    CHECK_EQ(xs_score_run(e, &c, &st, &err), XS_OK);
    CHECK_EQU(m.len, 32);
    CHECK_EQU(st.scored, 0);
    m.len = 0;
    c.n_customers = 3;
    c.header = 0;
    c.format = XS_SCORE_JSONL;
    c.threads = 3;
    c.chunk = 1;
    CHECK_EQ(xs_score_run(e, &c, &st, &err), XS_OK);
    CHECK_EQU(st.scored, 3);
    CHECK_EQU(count_lines(&m), 3);
    const xs_dict *names = xs_engine_dataset(e)->customers;
    char want[256];
    snprintf(want, sizeof want, "{\"customer\":\"%s\",",
             xs_dict_name(names, 5));
    CHECK(m.len > strlen(want) && !memcmp(m.p, want, strlen(want)));
    free(m.p);
    free(ref.p);
    xs_engine_free(e);
    return xt_done();
}
