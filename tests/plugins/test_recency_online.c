/*
 * test_recency_online.c -- the recency plugin as data changes and as it is
 * prepared (the fixture and its hand-worked answers: test_recency.c):
 *
 *   - ingest: an engine fed the batch online answers as one built on the
 *     combined data, every item and customer, and the hand-worked answer
 *     after the batch; the brute force agrees on the combined data;
 *   - prepare(): an engine answering customers only never builds the
 *     decayed table and refuses requests with items; one answering
 *     everything builds it once, not again after an ingest, and answers
 *     the same from four threads as from one;
 *   - max_neighbours: a cap no row exceeds answers bit for bit as whole
 *     rows; a real cap against the brute force of the capped lists; lists
 *     kept up to date by ingest.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "recency_model.h"
#include "test_util.h"

static void test_observe(void)
{
    /* t_ref pinned: the combined data's latest event is later.  lift reads
     * N_D, confidence D_a, jaccard all of them. */
    static const char *const scopes[4][4] = {
        {"t_ref=2024-04-30", "scope=basket", NULL},
        {"t_ref=2024-04-30", "scope=customer", NULL},
        {"t_ref=2024-04-30", "scope=basket", "similarity=lift", NULL},
        {"t_ref=2024-04-30", "scope=customer", "similarity=confidence",
         NULL}};
    for (int s = 0; s < 4; s++) {
        xs_engine *live = recency_on(fixture, 0, scopes[s]);
        xs_engine *full = recency_on(combined, 0, scopes[s]);
        if (!live || !full) {
            xs_engine_free(live);
            xs_engine_free(full);
            return;
        }
        xs_context *cl = xs_context_new(live), *cf = xs_context_new(full);
        if (s == 0) {
            const want before[] = {{"cheese", 0.8}, {"bread", 0.2}};
            expect("before ingest", live, cl, NULL, "apple", 10, 1e-6, before,
                   2);
        }
        /* s > 0: no basket request before the ingest, so D is first built
         * after it, from the histories with the new events */
        if (ingest_batch(live) == XS_OK) {
            if (s == 0) {
                const want after[] = {{"bread", 2.3125 / 6},
                                      {"cheese", 0.25 / 4.25}};
                expect("after ingest", live, cl, NULL, "apple", 10, 1e-6,
                       after, 2);
            }
            static const char *const labels[] = {
                "basket scope", "customer scope", "basket scope, lift",
                "customer scope, confidence"};
            const char *label = labels[s];
            const xs_dataset *ds = xs_engine_dataset(full);
            uint32_t n_items = xs_dict_size(ds->items);
            CHECK_EQU(xs_dict_size(xs_engine_dataset(live)->items), n_items);
            for (uint32_t i = 0; i < n_items; i++)
                compare_engines(label, live, cl, full, cf, NULL,
                                xs_engine_item_name(full, i), 1e-5);
            uint32_t n_cust = xs_dict_size(ds->customers);
            for (uint32_t c = 0; c < n_cust; c++)
                compare_engines(label, live, cl, full, cf,
                                xs_dict_name(ds->customers, c), "", 1e-9);
        }
        xs_context_free(cl);
        xs_context_free(cf);
        xs_engine_free(live);
        xs_engine_free(full);
    }
    /* and the combined engine agrees with the brute force */
    brute_force_check(combined, when("2024-05-30"));
}

/* ---- the decayed table is built by prepare(), for requests with items ---------- */

static void count_builds(void *arg, int level, const char *msg)
{
    (void)level;
    if (strstr(msg, "plugin recency: decayed table of"))
        atomic_fetch_add((atomic_int *)arg, 1);
}

/* The fixture in an engine answering `asks`, whose log counts D's builds
 * into *builds. */
static xs_engine *counted_engine(const char *const *opts, unsigned asks,
                                 atomic_int *builds)
{
    xs_error err = {0};
    xs_columns cols = {0};
    xs_dataset *ds = xs_dataset_load_events(fixture, &cols, &err);
    if (!CHECK_MSG(ds != NULL, "load: %s", err.msg))
        return NULL;
    xs_engine_config cfg = {.plugin_dir = xtp_plugin_dir(), .scope = -1,
                            .threads = 1, .log = count_builds,
                            .log_arg = builds, .asks = asks};
    xs_engine *e = xs_engine_new(ds, NULL, &cfg, &err);
    char msg[512];
    if (!CHECK_MSG(e != NULL, "engine: %s", err.msg) ||
        !CHECK_MSG(add_recency(e, opts, msg, sizeof msg) == XS_OK,
                   "add recency: %s", msg)) {
        xs_engine_free(e);
        return NULL;
    }
    return e;
}

/* Every one-item basket's answer on e, flattened into item[] and score[]
 * (n entries, malloc'd), each answer ended by XS_NONE; start (if not NULL)
 * is waited on before the first request. */
typedef struct answers {
    xs_engine *e;
    pthread_barrier_t *start;
    uint32_t *item;
    double *score;
    size_t n;
    int ok;
} answers;

static void *basket_answers(void *arg)
{
    answers *a = arg;
    uint32_t n_items = xs_dict_size(xs_engine_dataset(a->e)->items);
    a->item = malloc(((size_t)n_items * (MAX_REC + 1)) * sizeof *a->item);
    a->score = malloc(((size_t)n_items * (MAX_REC + 1)) * sizeof *a->score);
    xs_context *ctx = xs_context_new(a->e);
    a->ok = a->item && a->score && ctx;
    if (a->start)
        pthread_barrier_wait(a->start);
    for (uint32_t x = 0; a->ok && x < n_items; x++) {
        xs_request req = {&x, 1, XS_NONE, MAX_REC, 0, XS_NONE};
        const xs_rec *r = NULL;
        size_t n = 0;
        xs_error err = {0};
        a->ok = xs_engine_recommend(a->e, ctx, "recency", &req, &r, &n,
                                    &err) == XS_OK;
        for (size_t i = 0; a->ok && i < n; i++) {
            a->item[a->n] = r[i].item;
            a->score[a->n++] = r[i].score;
        }
        a->item[a->n] = XS_NONE;
        a->score[a->n++] = 0;
    }
    xs_context_free(ctx);
    return NULL;
}

static int same_answers_as(const answers *a, const answers *b)
{
    if (!a->ok || !b->ok || a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->item[i] != b->item[i] || a->score[i] != b->score[i])
            return 0;
    return 1;
}

/* An engine answering customers only never builds D, answers every
 * personal request as an engine answering everything does, and refuses
 * requests with items; an engine answering everything builds D once, in
 * prepare() when the plugin is added, not again after an ingest (observe
 * updates it), and its basket answers from four threads at once equal
 * those of one thread. */
static void test_prepare_table(void)
{
    static const char *const cases[][3] = {
        {"t_ref=2024-04-30", NULL},
        {"t_ref=2024-04-30", "max_neighbours=1", NULL},
        {"t_ref=2024-04-30", "scope=customer", "similarity=cosine"},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const char *opts[4] = {cases[t][0], cases[t][1], cases[t][2], NULL};
        atomic_int cust_builds = 0, all_builds = 0;
        xs_engine *cust = counted_engine(opts, XS_ASK_CUSTOMER, &cust_builds);
        xs_engine *all = counted_engine(opts, 0, &all_builds);
        if (!cust || !all) {
            xs_engine_free(cust);
            xs_engine_free(all);
            return;
        }
        CHECK_MSG(atomic_load(&all_builds) == 1, "case %zu: prepare built D "
                  "%d times", t, atomic_load(&all_builds));
        /* every customer, personal: no D, the same answers */
        xs_context *cc = xs_context_new(cust), *ca = xs_context_new(all);
        const xs_dataset *ds = xs_engine_dataset(cust);
        xs_error err = {0};
        for (uint32_t c = 0; c < xs_dict_size(ds->customers); c++)
            compare_engines("customers only", cust, cc, all, ca,
                            xs_dict_name(ds->customers, c), "", 0);
        CHECK_MSG(atomic_load(&cust_builds) == 0, "case %zu: an engine "
                  "answering customers only built D %d times", t,
                  atomic_load(&cust_builds));
        uint32_t x = 0;
        xs_request basket = {&x, 1, XS_NONE, MAX_REC, 0, XS_NONE};
        const xs_rec *r = NULL;
        size_t n = 0;
        CHECK_MSG(xs_engine_recommend(cust, cc, "recency", &basket, &r, &n,
                                      &err) == XS_ERR_USAGE &&
                      strstr(err.msg, "without items only"),
                  "case %zu: a basket request to an engine answering "
                  "customers only: %s", t, err.msg);
        xs_context_free(cc);
        xs_context_free(ca);
        /* four threads' basket requests at once, against one thread's */
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, 4);
        answers a[4] = {{0}}, ref = {all, NULL, NULL, NULL, 0, 0};
        pthread_t th[4];
        for (int i = 0; i < 4; i++) {
            a[i].e = all;
            a[i].start = &start;
            CHECK(pthread_create(&th[i], NULL, basket_answers, &a[i]) == 0);
        }
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        basket_answers(&ref);
        CHECK_MSG(ref.ok && ref.n > xs_dict_size(ds->items), "case %zu: no "
                  "basket answers", t);
        for (int i = 0; i < 4; i++) {
            CHECK_MSG(same_answers_as(&a[i], &ref), "case %zu thread %d: "
                      "answers differ from one thread's", t, i);
            free(a[i].item);
            free(a[i].score);
        }
        free(ref.item);
        free(ref.score);
        /* an ingest: observe() updates D, prepare() does not build it */
        CHECK_MSG(ingest_batch(all) == XS_OK, "case %zu: ingest", t);
        CHECK_MSG(atomic_load(&all_builds) == 1, "case %zu: D built %d "
                  "times after an ingest", t, atomic_load(&all_builds));
        xs_engine_free(cust);
        xs_engine_free(all);
    }
}

/* ---- max_neighbours ---------------------------------------------------------- */

/* The option sets the max_neighbours tests run (with the cap appended). */
static const char *const cap_cases[][5] = {
    {"scope=basket", NULL},
    {"scope=customer", NULL},
    {"similarity=lift", "half_life=7", NULL},
    {"similarity=confidence", "scope=customer", "weight=one", NULL},
    {"similarity=cosine", "min_count=2", "scope=customer", NULL},
    {"min_count=2", NULL},
    {"similarity=count", "half_life=90", NULL},
    {"similarity=llr", NULL},
};
#define N_CAP_CASES (sizeof cap_cases / sizeof *cap_cases)

/* cap_cases[t] plus extra (NULL: none) into opts. */
static void cap_opts(size_t t, const char *extra, const char **opts)
{
    size_t n = 0;
    for (; cap_cases[t][n]; n++)
        opts[n] = cap_cases[t][n];
    if (extra)
        opts[n++] = extra;
    opts[n] = NULL;
}

/* One request on two engines over the same data: the same items in the
 * same order with bit-identical scores and evidence. */
static void same_request(const char *label, xs_engine *a, xs_context *ca,
                         xs_engine *b, xs_context *cb, uint32_t cust,
                         const uint32_t *items, uint32_t n_items)
{
    xs_request req = {items, n_items, cust, MAX_REC, 1, XS_NONE};
    const xs_rec *ra = NULL, *rb = NULL;
    size_t na = 0, nb = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(a, ca, "recency", &req, &ra, &na,
                                       &err) == XS_OK &&
                       xs_engine_recommend(b, cb, "recency", &req, &rb, &nb,
                                           &err) == XS_OK,
                   "%s: %s", label, err.msg))
        return;
    int ok = na == nb;
    for (size_t i = 0; ok && i < na; i++) {
        ok = ra[i].item == rb[i].item && ra[i].score == rb[i].score &&
             ra[i].ev.n == rb[i].ev.n;
        for (uint32_t f = 0; ok && f < ra[i].ev.n; f++) {
            const xs_evidence_field *x = &ra[i].ev.f[f], *y = &rb[i].ev.f[f];
            ok = !strcmp(x->key, y->key) && x->value == y->value &&
                 !x->text == !y->text && (!x->text || !strcmp(x->text, y->text));
        }
    }
    CHECK_MSG(ok, "%s: customer %u, %u items: answers differ (%zu vs %zu "
              "results)", label, (unsigned)cust, (unsigned)n_items, na, nb);
}

/* Every customer (alone and viewing an item) and every one- and two-item
 * basket, on two engines. */
static void same_answers(const char *label, xs_engine *a, xs_engine *b)
{
    xs_context *ca = xs_context_new(a), *cb = xs_context_new(b);
    const xs_dataset *ds = xs_engine_dataset(a);
    uint32_t n_items = xs_dict_size(ds->items);
    uint32_t n_cust = xs_dict_size(ds->customers);
    for (uint32_t c = 0; c < n_cust; c++) {
        same_request(label, a, ca, b, cb, c, NULL, 0);
        uint32_t it[1] = {(c * 7) % n_items};
        same_request(label, a, ca, b, cb, c, it, 1);
    }
    for (uint32_t x = 0; x < n_items; x++) {
        same_request(label, a, ca, b, cb, XS_NONE, &x, 1);
        for (uint32_t y = x + 1; y < n_items; y++) {
            uint32_t it[2] = {x, y};
            same_request(label, a, ca, b, cb, XS_NONE, it, 2);
        }
    }
    xs_context_free(ca);
    xs_context_free(cb);
}

/* max_neighbours=0 is the default, and a cap no row exceeds changes
 * nothing: bit-identical answers and evidence, before and after ingest. */
static void test_max_neighbours_exact(void)
{
    static const char *const caps[] = {"max_neighbours=0",
                                       "max_neighbours=32",
                                       "max_neighbours=4294967295"};
    for (size_t t = 0; t < N_CAP_CASES; t++)
        for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
            const char *plain[8], *capped[8];
            cap_opts(t, NULL, plain);
            cap_opts(t, caps[k], capped);
            char label[128];
            snprintf(label, sizeof label, "case %zu %s", t, caps[k]);
            xs_engine *a = recency_on(fixture, 0, plain);
            xs_engine *b = recency_on(fixture, 0, capped);
            if (a && b) {
                CHECK(xs_dict_size(xs_engine_dataset(a)->items) <= 32);
                same_answers(label, a, b);
                if (ingest_batch(a) == XS_OK && ingest_batch(b) == XS_OK) {
                    snprintf(label, sizeof label, "case %zu %s, ingested", t,
                             caps[k]);
                    same_answers(label, a, b);
                }
            }
            xs_engine_free(a);
            xs_engine_free(b);
        }
}

/* Small caps against the brute force over independently computed lists,
 * and hand-worked cases: basket {apple} with max_neighbours=1 keeps
 * cheese (jaccard 0.8) and drops bread (0.2); customer p with
 * max_neighbours=1 in customer scope is unchanged (rows of one). */
static void test_max_neighbours_capped(void)
{
    static const char *const one[] = {"max_neighbours=1", NULL};
    xs_engine *e = recency_on(fixture, 0, one);
    if (e) {
        xs_context *ctx = xs_context_new(e);
        const want w[] = {{"cheese", 0.8}};
        const xs_rec *r = expect("basket {apple}, max_neighbours=1", e, ctx,
                                 NULL, "apple", 10, 1e-6, w, 1);
        if (r)
            check_text(&r[0], "from", "apple");
        const want wp[] = {{"yam", 2.0}, {"yolk", 1.0}, {"xmas", 0.3125},
                           {"xtra", 0.15625}};
        expect("p, max_neighbours=1", e, ctx, "p", "", 10, 1e-12, wp, 4);
        /* apple viewed now: its list by the plain jaccard (bread and cheese
         * tie at 0.5) is {bread}, the lower id */
        const want wv[] = {{"yam", 2.0}, {"yolk", 1.0}, {"bread", 0.5},
                           {"xmas", 0.3125}, {"xtra", 0.15625}};
        expect("p viewing apple, max_neighbours=1", e, ctx, "p", "apple", 10,
               1e-12, wv, 5);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    for (uint32_t m = 1; m <= 3; m++) {
        brute_force_check_m(fixture, when("2024-04-30"), m);
        brute_force_check_m(combined, when("2024-05-30"), m);
    }
}

/* Lists refresh on ingest: an engine that ingested the batch answers as
 * one built from the combined data with the same cap. */
static void test_max_neighbours_observe(void)
{
    static const char *const base[][4] = {
        {"t_ref=2024-04-30", "scope=basket", NULL},
        {"t_ref=2024-04-30", "scope=customer", NULL},
        {"t_ref=2024-04-30", "scope=basket", "similarity=count", NULL},
        {"t_ref=2024-04-30", "scope=customer", "similarity=confidence",
         NULL},
        {"t_ref=2024-04-30", "scope=basket", "min_count=2", NULL},
        {"t_ref=2024-04-30", "similarity=llr", NULL},
    };
    static const char *const caps[] = {"max_neighbours=1", "max_neighbours=2"};
    for (size_t s = 0; s < sizeof base / sizeof *base; s++)
        for (size_t k = 0; k < sizeof caps / sizeof *caps; k++) {
            const char *opts[6];
            size_t n = 0;
            for (; base[s][n]; n++)
                opts[n] = base[s][n];
            opts[n++] = caps[k];
            opts[n] = NULL;
            xs_engine *live = recency_on(fixture, 0, opts);
            xs_engine *full = recency_on(combined, 0, opts);
            if (live && full && ingest_batch(live) == XS_OK) {
                char label[128];
                snprintf(label, sizeof label, "observe case %zu %s", s,
                         caps[k]);
                xs_context *cl = xs_context_new(live);
                xs_context *cf = xs_context_new(full);
                const xs_dataset *ds = xs_engine_dataset(full);
                uint32_t n_items = xs_dict_size(ds->items);
                CHECK_EQU(xs_dict_size(xs_engine_dataset(live)->items),
                          n_items);
                for (uint32_t i = 0; i < n_items; i++)
                    compare_engines(label, live, cl, full, cf, NULL,
                                    xs_engine_item_name(full, i), 1e-5);
                uint32_t n_cust = xs_dict_size(ds->customers);
                for (uint32_t c = 0; c < n_cust; c++) {
                    const char *cn = xs_dict_name(ds->customers, c);
                    compare_engines(label, live, cl, full, cf, cn, "", 1e-9);
                    compare_engines(label, live, cl, full, cf, cn, "apple",
                                    1e-9);
                }
                xs_context_free(cl);
                xs_context_free(cf);
            }
            xs_engine_free(live);
            xs_engine_free(full);
        }
}

int main(void)
{
    int rc = recency_model_init();
    if (rc)
        return rc;
    test_observe();
    test_prepare_table();
    test_max_neighbours_exact();
    test_max_neighbours_capped();
    test_max_neighbours_observe();
    return xt_done();
}
