/*
 * test_upsell_exact.c -- the upsell plugin on generated stores, against
 * answers computed here by scanning every band (test_upsell.c has the
 * hand-worked fixture): on a store of 2,000 items every answer for every
 * item is exactly the in-stock items of its band, threads asking at once
 * get the answers of a lone caller, and the served top k (threshold
 * algorithm, sweeps) equals a brute-force scoring of every candidate over
 * random requests, options and k.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xsell/gen.h"
#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

/* Several threads, each with its own context, asking the same requests:
 * every answer equals the one computed alone first. */
#define RACE_REQUESTS 200
#define RACE_THREADS 4
#define RACE_K 20

typedef struct race {
    xs_engine *e;
    uint32_t items[RACE_REQUESTS][2];
    uint32_t want[RACE_REQUESTS][RACE_K];
    double score[RACE_REQUESTS][RACE_K];
    size_t n[RACE_REQUESTS];
    int mismatches[RACE_THREADS];
    int failed[RACE_THREADS];
} race;

typedef struct racer {
    race *r;
    int id;
} racer;

static int race_run(race *r, xs_context *ctx, int i, int record)
{
    xs_request req = {r->items[i], 2, XS_NONE, RACE_K, 0, XS_NONE};
    const xs_rec *recs;
    size_t n;
    xs_error err = {0};
    if (xs_engine_recommend(r->e, ctx, "upsell", &req, &recs, &n, &err))
        return -1;
    if (record) {
        r->n[i] = n;
        for (size_t j = 0; j < n; j++) {
            r->want[i][j] = recs[j].item;
            r->score[i][j] = recs[j].score;
        }
        return 0;
    }
    int same = n == r->n[i];
    for (size_t j = 0; same && j < n; j++)
        same = recs[j].item == r->want[i][j] && recs[j].score == r->score[i][j];
    return same ? 0 : 1;
}

static void *racer_main(void *arg)
{
    racer *me = arg;
    xs_context *ctx = xs_context_new(me->r->e);
    if (!ctx) {
        me->r->failed[me->id] = 1;
        return NULL;
    }
    for (int round = 0; round < 5; round++)
        for (int i = 0; i < RACE_REQUESTS; i++) {
            int rc = race_run(me->r, ctx, (i + me->id * 37) % RACE_REQUESTS, 0);
            me->r->failed[me->id] |= rc < 0;
            me->r->mismatches[me->id] += rc > 0;
        }
    xs_context_free(ctx);
    return NULL;
}

static void check_threads(xs_engine *e, uint32_t n_items)
{
    race *r = calloc(1, sizeof *r);
    xs_context *ctx = xs_context_new(e);
    if (!CHECK(r && ctx)) {
        free(r);
        xs_context_free(ctx);
        return;
    }
    r->e = e;
    uint64_t x = 12345;
    size_t answers = 0;
    for (int i = 0; i < RACE_REQUESTS; i++) {
        for (int j = 0; j < 2; j++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            r->items[i][j] = (uint32_t)(x >> 33) % n_items;
        }
        r->items[i][1] += r->items[i][1] == r->items[i][0];
        r->items[i][1] %= n_items;
        xs_request_items(r->items[i], 2);
        CHECK(race_run(r, ctx, i, 1) == 0);
        answers += r->n[i];
    }
    pthread_t t[RACE_THREADS];
    racer who[RACE_THREADS];
    int started = 0;
    for (int i = 0; i < RACE_THREADS; i++) {
        who[i] = (racer){r, i};
        started += pthread_create(&t[i], NULL, racer_main, &who[i]) == 0;
    }
    for (int i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(started, RACE_THREADS);
    CHECK_MSG(answers > RACE_REQUESTS, "only %zu answers to compare",
              answers);
    for (int i = 0; i < RACE_THREADS; i++) {
        CHECK_MSG(!r->failed[i], "thread %d: a request failed", i);
        CHECK_MSG(r->mismatches[i] == 0, "thread %d: %d answers differ", i,
                  r->mismatches[i]);
    }
    xs_context_free(ctx);
    free(r);
}

/* Every item of a generated store: the answer is exactly the in-stock
 * items of its category priced in its band (k = 1000 holds them all). */
static void test_generated_store(void)
{
    const char *dir = xt_mkdir("store");
    if (!dir)
        return;
    const char *catalog = xt_track("store/catalog.csv", 0);
    const char *events = xt_track("store/events.csv", 0);
    xs_gen_params p = {.customers = 1500, .items = 2000, .orders = 6000,
                       .seed = 7};
    xs_error err = {0};
    if (!CHECK_MSG(xs_gen_write(&p, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    xs_engine *e = xtp_engine(events, catalog);
    if (!e)
        return;
    if (!CHECK_MSG(xtp_add(e, "upsell", NULL, &err) == XS_OK, "add: %s", err.msg)) {
        xs_engine_free(e);
        return;
    }
    xs_context *ctx = xs_context_new(e);
    const xs_catalog *cat = xs_engine_catalog(e);
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    size_t asked = 0, answers = 0, bad = 0;
    double seconds = 0;
    for (uint32_t a = 0; ctx && a < n_items; a++) {
        xs_item_info ia;
        if (!xs_catalog_get(cat, a, &ia) || !(ia.price > 0))
            continue;
        double lo = 1.05 * ia.price, hi = 2.5 * ia.price;
        size_t expected = 0;
        for (uint32_t c = 0; c < n_items; c++) {
            xs_item_info ic;
            expected += c != a && xs_catalog_get(cat, c, &ic) && ic.in_stock &&
                    ic.category == ia.category && ic.price >= lo &&
                    ic.price <= hi;
        }
        xs_request req = {&a, 1, XS_NONE, XS_K_MAX, 0, XS_NONE};
        const xs_rec *r;
        size_t n;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = xs_engine_recommend(e, ctx, "upsell", &req, &r, &n, &err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        seconds += (double)(t1.tv_sec - t0.tv_sec) +
                   (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        asked++;
        if (!CHECK_MSG(rc == XS_OK, "item %u: %s", a, err.msg))
            break;
        answers += n;
        /* the first few failures are shown, all are counted */
        if (n != (expected < XS_K_MAX ? expected : XS_K_MAX) && ++bad <= 5)
            fprintf(stderr, "item %s: %zu answers, want %zu\n",
                    xs_engine_item_name(e, a), n, expected);
        for (size_t i = 0; i < n; i++) {
            xs_item_info ic;
            int ok = r[i].item != a && xs_catalog_get(cat, r[i].item, &ic) &&
                     ic.category == ia.category && ic.price >= lo &&
                     ic.price <= hi && ic.in_stock;
            for (size_t j = 0; ok && j < i; j++)
                ok = r[j].item != r[i].item;
            if (!ok && ++bad <= 5)
                fprintf(stderr, "item %s (%s, %g): answer %s out of band or "
                        "repeated\n", xs_engine_item_name(e, a),
                        ia.category_name, ia.price,
                        xs_engine_item_name(e, r[i].item));
        }
    }
    CHECK_MSG(bad == 0, "%zu bad answers for the generated store", bad);
    CHECK_MSG(asked > 1000 && answers > asked, "asked %zu items, %zu answers",
              asked, answers);
    printf("generated store: %zu items asked, %.1f answers each, %.1f us "
           "per request\n",
           asked, asked ? (double)answers / asked : 0,
           asked ? seconds / asked * 1e6 : 0);
    xs_context_free(ctx);
    check_threads(e, n_items);
    xs_engine_free(e);
}

/* ---- the exact top k against a brute-force scan -------------------------- */

typedef struct scored {
    uint32_t item;
    double score;
} scored;

static int scored_order(const void *x, const void *y)
{
    const scored *a = x, *b = y;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return (a->item > b->item) - (a->item < b->item);
}

/* One viewed item of the brute force: its band and what scores read. */
typedef struct bf_viewed {
    uint32_t item, category, lo; /* lo: items of its category below plo */
    uint32_t max_sup;            /* the largest support in its category */
    double price, pm, plo, phi;
} bf_viewed;

static double bf_pm(double price, double margin)
{
    return isfinite(margin) && margin > 0 && price > 0 ? price * margin : NAN;
}

/* The answer upsell must give, by the formulas of its header, scoring
 * every item of every band: the k best of items[0..n) (sorted), without
 * exclude[0..n_ex), out-of-stock items and request items.  The viewed
 * items' contributions are summed in the plugin's order (by category,
 * then band start). */
static size_t brute_force(xs_engine *e, double min_ratio, double max_ratio,
                          double prior, double w, const uint32_t *items,
                          uint32_t n, const uint32_t *exclude, uint32_t n_ex,
                          uint32_t k, scored *out)
{
    const xs_catalog *cat = xs_engine_catalog(e);
    const xs_cooc *cust = xs_engine_cooc(e, XS_SCOPE_CUSTOMER);
    const xs_cooc *bask = xs_engine_cooc(e, XS_SCOPE_BASKET);
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    const uint32_t *sup = xs_cooc_support_array(cust);
    uint32_t n_sup = xs_cooc_support_count(cust);
    uint64_t n_tx = xs_cooc_transactions(cust);
    bf_viewed v[16];
    uint32_t nv = 0;
    for (uint32_t i = 0; i < n && nv < 16; i++) {
        xs_item_info a;
        if (!xs_catalog_get(cat, items[i], &a) || a.category == XS_NONE ||
            !(a.price > 0))
            continue;
        bf_viewed x = {items[i], a.category, 0, 0, a.price,
                       bf_pm(a.price, a.margin), min_ratio * a.price,
                       max_ratio * a.price};
        for (uint32_t c = 0; c < n_items; c++) {
            xs_item_info ic;
            if (!xs_catalog_get(cat, c, &ic) || ic.category != x.category)
                continue;
            x.lo += ic.price < x.plo;
            if (c < n_sup && sup[c] > x.max_sup)
                x.max_sup = sup[c];
        }
        uint32_t j = nv++; /* stable insertion by (category, lo) */
        while (j > 0 && (v[j - 1].category > x.category ||
                         (v[j - 1].category == x.category && v[j - 1].lo > x.lo))) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
    size_t n_out = 0;
    for (uint32_t c = 0; c < n_items; c++) {
        xs_item_info ic;
        if (!xs_catalog_get(cat, c, &ic) || !ic.in_stock)
            continue;
        int skip = 0;
        for (uint32_t i = 0; i < n; i++)
            skip |= items[i] == c;
        for (uint32_t i = 0; i < n_ex; i++)
            skip |= exclude[i] == c;
        if (skip)
            continue;
        uint32_t max_sup = 0; /* the largest support of c's category */
        for (uint32_t i = 0; i < nv; i++)
            if (v[i].category == ic.category)
                max_sup = v[i].max_sup;
        double score = 0, pop = max_sup && c < n_sup ? (double)sup[c] / max_sup
                                                     : 0;
        int any = 0;
        for (uint32_t i = 0; i < nv; i++) {
            if (v[i].category != ic.category || c == v[i].item ||
                ic.price < v[i].plo || ic.price > v[i].phi)
                continue;
            any = 1;
            double s = 0;
            uint32_t n_ac = xs_cooc_pair(cust, v[i].item, c);
            if (n_ac) {
                s = xs_measure_value(XS_MEASURE_JACCARD, n_ac,
                                     xs_cooc_support(cust, v[i].item),
                                     c < n_sup ? sup[c] : 0, n_tx);
                xs_row br;
                if (bask && xs_cooc_row(bask, v[i].item, &br) && br.n) {
                    double f = 1 - (double)xs_cooc_pair(bask, v[i].item, c) /
                                       n_ac;
                    s *= f < 0 ? 0 : f;
                }
            }
            double pm = bf_pm(ic.price, ic.margin), up = 1;
            if (w != 0 && !isnan(pm) && !isnan(v[i].pm))
                up = w == 1 ? pm / v[i].pm : pow(pm / v[i].pm, w);
            score += (s + prior * pop) * up;
        }
        if (any && isfinite(score))
            out[n_out++] = (scored){c, score};
    }
    qsort(out, n_out, sizeof *out, scored_order);
    return n_out < k ? n_out : k;
}

/* Random requests on a generated store: 1 to 4 viewed items, often of one
 * category (their bands summed), some exclusions; each answer must equal
 * the brute force's exactly (items, order and scores). */
static size_t compare_exact(const char *label, xs_engine *e, xs_context *ctx,
                            double prior, double w, uint64_t seed,
                            int requests, scored *ref)
{
    const xs_catalog *cat = xs_engine_catalog(e);
    uint32_t n_items = xs_dict_size(xs_engine_dataset(e)->items);
    static const uint32_t ks[] = {1, 10, 100};
    size_t bad = 0;
    uint64_t x = seed;
#define NEXT() (x = x * 6364136223846793005ULL + 1442695040888963407ULL, \
                (uint32_t)(x >> 33))
    for (int r = 0; r < requests; r++) {
        uint32_t items[4], n = 1 + NEXT() % 4, ex[24], n_ex = 0;
        xs_item_info first;
        items[0] = NEXT() % n_items;
        int has = xs_catalog_get(cat, items[0], &first);
        for (uint32_t i = 1; i < n; i++) {
            items[i] = NEXT() % n_items;
            for (int t = 0; has && NEXT() % 3 && t < 200; t++) {
                xs_item_info ii; /* mostly the first one's category */
                if (xs_catalog_get(cat, items[i], &ii) &&
                    ii.category == first.category)
                    break;
                items[i] = NEXT() % n_items;
            }
        }
        n = xs_request_items(items, n);
        if (NEXT() % 3 == 0) /* exclusions, mostly of the first's category */
            n_ex = NEXT() % 24;
        for (uint32_t i = 0; i < n_ex; i++) {
            ex[i] = NEXT() % n_items;
            for (int t = 0; has && i % 2 == 0 && t < 200; t++) {
                xs_item_info ii;
                if (xs_catalog_get(cat, ex[i], &ii) &&
                    ii.category == first.category)
                    break;
                ex[i] = NEXT() % n_items;
            }
        }
        uint32_t k = ks[NEXT() % 3];
        xs_request req = {items, n, XS_NONE, k, 0, XS_NONE};
        const xs_rec *got;
        size_t n_got;
        xs_error err = {0};
        if (!CHECK_MSG(xs_engine_recommend_excluding(e, ctx, "upsell", &req, ex,
                                                     n_ex, &got, &n_got,
                                                     &err) == XS_OK,
                       "%s: %s", label, err.msg))
            return bad + 1;
        size_t n_want = brute_force(e, 1.05, 2.5, prior, w, items, n, ex,
                                    n_ex, k, ref);
        int same = n_got == n_want;
        for (size_t i = 0; same && i < n_got; i++)
            same = got[i].item == ref[i].item && got[i].score == ref[i].score;
        if (!same && ++bad <= 3) {
            fprintf(stderr, "%s: request %d (%u items, k %u, %u excluded): "
                    "%zu answers, want %zu\n", label, r, n, k, n_ex, n_got,
                    n_want);
            for (size_t i = 0; i < n_got || i < n_want; i++)
                if (i < 12)
                    fprintf(stderr, "   got %6d %.17g  want %6d %.17g\n",
                            i < n_got ? (int)got[i].item : -1,
                            i < n_got ? got[i].score : 0,
                            i < n_want ? (int)ref[i].item : -1,
                            i < n_want ? ref[i].score : 0);
        }
    }
#undef NEXT
    return bad;
}

/* The generated store under every prior and margin weight: before and
 * after a catalog upsert (moved, repriced, new and out-of-stock items) and
 * an ingest (supports and largest supports change). */
static void test_exact_top_k(void)
{
    const char *dir = xt_mkdir("exact");
    if (!dir)
        return;
    const char *catalog = xt_track("exact/catalog.csv", 0);
    const char *events = xt_track("exact/events.csv", 0);
    xs_gen_params p = {.customers = 1500, .items = 2000, .orders = 6000,
                       .seed = 11};
    xs_error err = {0};
    if (!CHECK_MSG(xs_gen_write(&p, dir, &err) == XS_OK, "gen: %s", err.msg))
        return;
    scored *ref = malloc(4000 * sizeof *ref);
    if (!CHECK(ref != NULL))
        return;
    static const char *const priors[] = {"0", "0.01", "1"};
    static const char *const weights[] = {"0", "1", "2"};
    /* substitute lists of the default length, none (whole rows), and of
     * one entry: capped lists, read past their end through the rows */
    static const char *const caps[] = {"max_neighbours=50",
                                       "max_neighbours=0",
                                       "max_neighbours=1"};
    for (int ci = 0; ci < 3; ci++)
    for (int pi = 0; pi < 3; pi++)
        for (int wi = 0; wi < 3; wi++) {
            char o1[32], o2[32], label[128];
            snprintf(o1, sizeof o1, "prior=%s", priors[pi]);
            snprintf(o2, sizeof o2, "margin_weight=%s", weights[wi]);
            xs_engine *e = xtp_engine(events, catalog);
            if (!e)
                continue;
            xs_context *ctx = NULL;
            if (!CHECK_MSG(xtp_add(e, "upsell",
                                   (const char *const[]){o1, o2, caps[ci],
                                                         NULL},
                                   &err) == XS_OK,
                           "add: %s", err.msg) ||
                !CHECK((ctx = xs_context_new(e)) != NULL)) {
                xs_engine_free(e);
                continue;
            }
            double prior = atof(priors[pi]), w = atof(weights[wi]);
            uint64_t seed = (uint64_t)(pi * 3 + wi) * 7919 + 1;
            size_t bad;
            snprintf(label, sizeof label, "%s %s %s", o1, o2, caps[ci]);
            bad = compare_exact(label, e, ctx, prior, w, seed, 120, ref);
            CHECK_MSG(bad == 0, "%s: %zu answers differ", label, bad);

            /* the catalog changes: repriced, moved, out of stock, new */
            const xs_catalog *cat = xs_engine_catalog(e);
            xs_catalog_item up[41];
            char names[41][32], cats[41][64];
            size_t n_up = 0;
            for (uint32_t i = 0; i < 40; i++) {
                uint32_t a = (uint32_t)(seed * 31 + i * 47) % 2000;
                xs_item_info info;
                if (!xs_catalog_get(cat, a, &info) || !info.category_name)
                    continue;
                xs_item_info other; /* a category taken from another item */
                uint32_t b = (a * 7 + 3) % 2000;
                const char *cn = i % 4 == 0 && xs_catalog_get(cat, b, &other) &&
                                         other.category_name
                                     ? other.category_name
                                     : info.category_name;
                snprintf(names[n_up], sizeof names[0], "%s",
                         xs_engine_item_name(e, a));
                snprintf(cats[n_up], sizeof cats[0], "%s", cn);
                up[n_up] = xtp_catalog_item(names[n_up], cats[n_up],
                                 info.price * (0.5 + (i % 7) * 0.25),
                                 i % 5 == 0 ? NAN : info.margin);
                up[n_up].in_stock = i % 6 != 0;
                n_up++;
            }
            xs_item_info some;
            if (xs_catalog_get(cat, 5, &some) && some.category_name) {
                snprintf(cats[n_up], sizeof cats[0], "%s", some.category_name);
                up[n_up] = xtp_catalog_item("NEW-ITEM", cats[n_up], some.price * 1.5, 0.3);
                n_up++;
            }
            if (!CHECK_MSG(xs_engine_catalog_upsert(e, up, n_up, NULL, &err) ==
                               XS_OK,
                           "upsert: %s", err.msg))
                goto next;
            snprintf(label, sizeof label, "%s %s %s after upsert", o1, o2,
                     caps[ci]);
            bad = compare_exact(label, e, ctx, prior, w, seed + 1, 80, ref);
            CHECK_MSG(bad == 0, "%s: %zu answers differ", label, bad);

            /* new events: supports rise, the new item sells */
            xs_ingest_event ev[60];
            char ev_item[60][32], ev_cust[60][32];
            const xs_dataset *ds = xs_engine_dataset(e);
            for (int i = 0; i < 60; i++) {
                const char *it = i % 10 == 0
                                     ? "NEW-ITEM"
                                     : xs_engine_item_name(
                                           e, ds->events[(size_t)(i * 997 +
                                                                  (int)seed) %
                                                         ds->n_events]
                                                  .item);
                snprintf(ev_item[i], sizeof ev_item[0], "%s", it);
                snprintf(ev_cust[i], sizeof ev_cust[0], "NEWC%d", i % 7);
                ev[i] = (xs_ingest_event){ev_cust[i], ev_item[i], NULL,
                                          (uint32_t)strlen(ev_cust[i]),
                                          (uint32_t)strlen(ev_item[i]), 0,
                                          1767225600 + i, 1, NAN, NULL, 0};
            }
            if (!CHECK_MSG(xs_engine_ingest(e, ev, 60, &err) == XS_OK,
                           "ingest: %s", err.msg))
                goto next;
            snprintf(label, sizeof label, "%s %s %s after ingest", o1, o2,
                     caps[ci]);
            bad = compare_exact(label, e, ctx, prior, w, seed + 2, 80, ref);
            CHECK_MSG(bad == 0, "%s: %zu answers differ", label, bad);
        next:
            xs_context_free(ctx);
            xs_engine_free(e);
        }
    free(ref);
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    test_generated_store();
    test_exact_top_k();
    return xt_done();
}
