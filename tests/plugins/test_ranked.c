/*
 * test_ranked.c -- basket requests answered from ranked neighbour lists
 * with the threshold algorithm (plugins/common/ranked.h), for copurchase
 * (max_neighbours) and recency (basket_neighbours), against the same
 * plugin scoring whole rows (cap 0) on the example store:
 *
 *   - a cap no row exceeds answers bit for bit as whole rows;
 *   - under any cap (1, 3, 20, the default) every item answered carries its
 *     exact whole-row total, answers are sorted, and a one-item request
 *     with k within the cap is the whole-row answer;
 *   - after ingest (lists rebuilt for the rows that changed, every list
 *     with refresh=0) the same holds against whole rows that ingested the
 *     same orders.
 * It also prints how often the capped top 10 is the exact top 10, and
 * checks the header's parts on their own: lookups through row samples
 * against a linear search, list building (best first, ties by id, the
 * cap, scores rounded up).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xsell/xsell.h"

#include "common/ranked.h"
#include "fixture.h"
#include "test_util.h"

#define N_REQ 300
#define K 10

typedef struct plugin_case {
    const char *plugin;
    const char *cap_key; /* the option of the cap */
    const char *const *pins;
} plugin_case;

static uint64_t rng_next(uint64_t *s) /* splitmix64 */
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static xs_engine *engine_for(const char *events, const plugin_case *pc,
                             const char *cap, const char *refresh)
{
    const char *opts[8] = {cap, refresh, NULL};
    if (!refresh)
        opts[1] = NULL;
    const char *all[16];
    xs_engine *e = xtp_engine_with(events, NULL, pc->plugin,
                                   xtp_opts_pinned(opts, pc->pins, all, 16));
    xs_error err = {0};
    if (e)
        CHECK_MSG(xs_engine_set_rule(e, "exclude_owned", "false", &err) ==
                      XS_OK,
                  "exclude_owned: %s", err.msg);
    return e;
}

/* A basket of 1 to 4 items drawn by popularity (a random event's item). */
static uint32_t draw_basket(const xs_dataset *ds, uint64_t *rng,
                            uint32_t *items)
{
    uint32_t n = 1 + (uint32_t)(rng_next(rng) % 4), m = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t it = ds->events[rng_next(rng) % ds->n_events].item;
        uint32_t j = 0;
        while (j < m && items[j] != it)
            j++;
        if (j == m)
            items[m++] = it;
    }
    for (uint32_t i = 1; i < m; i++) /* sorted, as the engine wants */
        for (uint32_t j = i; j > 0 && items[j - 1] > items[j]; j--) {
            uint32_t t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    return m;
}

static int ask(xs_engine *e, xs_context *ctx, const char *plugin,
               const uint32_t *items, uint32_t n, uint32_t k,
               const xs_rec **out, size_t *got)
{
    xs_request req = {items, n, XS_NONE, k, 0, XS_NONE};
    xs_error err = {0};
    return CHECK_MSG(xs_engine_recommend(e, ctx, plugin, &req, out, got,
                                         &err) == XS_OK,
                     "recommend %s: %s", plugin, err.msg);
}

/* Compares the ranked engine r with whole rows w on N_REQ baskets; with
 * `same` every answer must be bit-identical.  Returns the share of
 * identical top-K lists. */
static double compare(const char *label, const plugin_case *pc, xs_engine *r,
                      xs_engine *w, int same, uint32_t cap, uint64_t seed)
{
    xs_context *cr = xs_context_new(r), *cw = xs_context_new(w);
    xs_context *cx = xs_context_new(w);
    const xs_dataset *ds = xs_engine_dataset(w);
    uint64_t rng = seed;
    int identical = 0, asked = 0;
    for (int q = 0; q < N_REQ && cr && cw && cx; q++) {
        uint32_t items[4];
        uint32_t n = draw_basket(ds, &rng, items);
        const xs_rec *a, *b, *all;
        size_t na, nb, nall;
        if (!ask(r, cr, pc->plugin, items, n, K, &a, &na) ||
            !ask(w, cw, pc->plugin, items, n, K, &b, &nb) ||
            !ask(w, cx, pc->plugin, items, n, XS_K_MAX, &all, &nall))
            break;
        asked++;
        int same_list = na == nb;
        for (size_t i = 0; same_list && i < na; i++)
            same_list = a[i].item == b[i].item && a[i].score == b[i].score;
        identical += same_list;
        if (same)
            CHECK_MSG(same_list, "%s: basket %d (%u items): %zu vs %zu "
                      "results, not the whole-row answer", label, q,
                      (unsigned)n, na, nb);
        /* one item: the list's own order, exact while k fits in it */
        if (n == 1 && cap >= K)
            CHECK_MSG(same_list, "%s: one-item basket %d differs", label, q);
        for (size_t i = 0; i < na; i++) {
            if (i)
                CHECK_MSG(a[i - 1].score >= a[i].score, "%s: basket %d not "
                          "sorted at %zu", label, q, i);
            double want = NAN;
            for (size_t j = 0; j < nall; j++)
                if (all[j].item == a[i].item)
                    want = all[j].score;
            CHECK_MSG(fabs(a[i].score - want) <= 1e-12 * fabs(want),
                      "%s: basket %d: item %u scores %.17g, whole rows %.17g",
                      label, q, (unsigned)a[i].item, a[i].score, want);
        }
    }
    xs_context_free(cr);
    xs_context_free(cw);
    xs_context_free(cx);
    return asked ? (double)identical / asked : 0;
}

/* Orders ingested by both engines: 40 of 2 to 4 popular items. */
static void ingest_same(xs_engine *a, xs_engine *b, uint64_t seed)
{
    const xs_dataset *ds = xs_engine_dataset(a);
    uint64_t rng = seed;
    xs_ingest_event ev[4];
    char order[32];
    for (int o = 0; o < 40; o++) {
        snprintf(order, sizeof order, "ranked-order-%d", o);
        uint32_t items[4];
        uint32_t n = draw_basket(ds, &rng, items);
        if (n < 2)
            continue;
        for (uint32_t i = 0; i < n; i++) {
            const char *name = xs_dict_name(ds->items, items[i]);
            ev[i] = (xs_ingest_event){"ranked-customer", name, order, 15,
                                      (uint32_t)strlen(name),
                                      (uint32_t)strlen(order), XS_TS_LATEST,
                                      1.0, NAN, NULL, 0};
        }
        xs_error err = {0};
        CHECK_MSG(xs_engine_ingest(a, ev, n, &err) == XS_OK, "ingest: %s",
                  err.msg);
        CHECK_MSG(xs_engine_ingest(b, ev, n, &err) == XS_OK, "ingest: %s",
                  err.msg);
    }
}

static void run_case(const char *events, const plugin_case *pc)
{
    char exact[64], full[64];
    snprintf(exact, sizeof exact, "%s=0", pc->cap_key);
    snprintf(full, sizeof full, "%s=1000000", pc->cap_key);
    const char *caps[] = {full, "1", "3", "20", NULL /* the default */};
    const uint32_t cap_n[] = {1000000, 1, 3, 20, 50};
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
        char cap[64], label[128];
        const char *opt = caps[c];
        if (opt && opt != full) {
            snprintf(cap, sizeof cap, "%s=%s", pc->cap_key, caps[c]);
            opt = cap;
        }
        xs_engine *w = engine_for(events, pc, exact, NULL);
        xs_engine *r = engine_for(events, pc, opt, NULL);
        if (!w || !r) {
            xs_engine_free(w);
            xs_engine_free(r);
            return;
        }
        snprintf(label, sizeof label, "%s %s", pc->plugin,
                 opt ? opt : "default");
        double share = compare(label, pc, r, w, opt == full, cap_n[c],
                               7 + c);
        printf("# %s: identical top %d in %.1f%% of %d baskets\n", label, K,
               100 * share, N_REQ);
        xs_engine_free(r);
        /* after ingest: every list refreshed (refresh=0) */
        r = engine_for(events, pc, opt, "refresh=0");
        if (r) {
            ingest_same(r, w, 99 + c);
            snprintf(label, sizeof label, "%s %s after ingest", pc->plugin,
                     opt ? opt : "default");
            compare(label, pc, r, w, opt == full, cap_n[c], 17 + c);
        }
        xs_engine_free(r);
        xs_engine_free(w);
    }
}

/* ranked_find, ranked_find_sampled (fresh and stale samples) and
 * ranked_build against plain searches and sorts. */
static void test_header(void)
{
    uint64_t rng = 3;
    uint32_t ids[3000];
    for (uint32_t len = 0; len <= 3000; len += len < 80 ? 1 : 97) {
        uint32_t v = 0;
        for (uint32_t i = 0; i < len; i++)
            ids[i] = v += 1 + (uint32_t)(rng_next(&rng) % 5);
        ranked_sample s = {0};
        CHECK(ranked_sample_build(&s, ids, len, 7) == 0);
        CHECK(len < 4 * RANKED_BLOCK || s.n == (len + RANKED_BLOCK - 1) /
                                                   RANKED_BLOCK);
        for (uint32_t key = 0; key <= v + 2; key++) {
            uint32_t want = len;
            for (uint32_t i = 0; i < len; i++)
                if (ids[i] == key)
                    want = i;
            uint32_t a = ranked_find(ids, len, key);
            uint32_t b = ranked_find_sampled(ids, len, &s, 7, key);
            uint32_t c = ranked_find_sampled(ids, len, &s, 8, key); /* stale */
            if (!CHECK_MSG(a == want && b == want && c == want,
                           "row of %u: key %u at %u, found %u/%u/%u", len,
                           key, want, a, b, c))
                break;
        }
        ranked_sample_free(&s);
    }
    /* build: 1000 entries with many ties, caps 0, 1, 7, 1000, 2000 */
    ranked_entry e[1000], copy[1000];
    for (uint32_t i = 0; i < 1000; i++)
        e[i] = (ranked_entry){999 - i, i,
                              i % 13 == 0 ? -1.0 : (double)(i % 17) / 7};
    const uint32_t caps[] = {0, 1, 7, 1000, 2000};
    for (size_t t = 0; t < sizeof caps / sizeof *caps; t++) {
        memcpy(copy, e, sizeof e);
        ranked_list l = {0};
        CHECK(ranked_build(&l, copy, 1000, caps[t], 5) == 0);
        /* positives: i % 13 != 0 and i % 17 != 0 */
        uint32_t pos = 0;
        for (uint32_t i = 0; i < 1000; i++)
            pos += i % 13 != 0 && i % 17 != 0;
        uint32_t want = caps[t] && caps[t] < pos ? caps[t] : pos;
        CHECK_MSG(l.n == want && l.built && l.version == 5 &&
                      l.full == (want == pos),
                  "cap %u: %u entries (want %u), full %d", caps[t], l.n,
                  want, l.full);
        for (uint32_t i = 0; i < l.n; i++) {
            uint32_t src = 999 - l.id[i];
            double sc = (double)(src % 17) / 7;
            CHECK_MSG(l.aux[i] == src && (double)l.score[i] >= sc &&
                          (double)l.score[i] - sc < 1e-6,
                      "cap %u entry %u", caps[t], i);
            if (i) {
                double p = (double)((999 - l.id[i - 1]) % 17) / 7;
                CHECK_MSG(p > sc || (p == sc && l.id[i - 1] < l.id[i]),
                          "cap %u: entry %u out of order", caps[t], i);
            }
        }
        ranked_free(&l);
    }
}

/* Options errors name the option. */
static void test_options(const char *events)
{
    static const char *const bad[][2] = {
        {"copurchase", "refresh=-1"},  {"copurchase", "refresh=x"},
        {"recency", "refresh=-0.5"},   {"recency", "basket_neighbours=-1"},
        {"recency", "basket_neighbours=2000000"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xs_engine *e = xtp_engine(events, NULL);
        if (!e)
            return;
        const char *opts[] = {bad[i][1], NULL};
        xs_error err = {0};
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)strcspn(bad[i][1], "="),
                 bad[i][1]);
        CHECK_MSG(xtp_add(e, bad[i][0], opts, &err) != XS_OK &&
                      strstr(err.msg, key),
                  "%s %s: want an error naming %s, got '%s'", bad[i][0],
                  bad[i][1], key, err.msg);
        xs_engine_free(e);
    }
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    char events[4096];
    snprintf(events, sizeof events, "%s",
             xtp_data("../../examples/data/events.csv"));
    static const char *const cp_pins[] = {NULL};
    static const char *const rc_pins[] = {NULL};
    const plugin_case cases[] = {
        {"copurchase", "max_neighbours", cp_pins},
        {"recency", "basket_neighbours", rc_pins},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_case(events, &cases[i]);
    test_options(events);
    test_header();
    return xt_done();
}
