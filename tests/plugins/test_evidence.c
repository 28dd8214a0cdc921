/*
 * test_evidence.c -- under the defaults, one ingested order cannot outrank
 * a pair seen often (issue 13, "Defaults from measurement" and "Ingest
 * weighs like the data").
 *
 * The store: item A bought with B in 10 orders spread over the first 300
 * days; B is popular (200 more orders), A sold with fillers in 20 more.
 * Then one order {A, NEW} is ingested without a time, so it takes the
 * data's latest time and is the freshest event there is.  Asked for A:
 *
 *   - copurchase, recency and the default blend (copurchase, recency,
 *     popular), all at their defaults, rank B above NEW, or leave NEW out:
 *     a pair seen once is below the evidence threshold (min_count 2);
 *   - the same request with min_count=1 and the old default measure (lift)
 *     puts NEW above B (lift 7.5 against B's 0.35), so the check above sees
 *     what the threshold changes and cannot pass by accident;
 *   - a second order {A, NEW} makes the pair seen twice: NEW is a
 *     candidate again (evidence, not a ban).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

#define DAY 86400
#define T0 1735689600 /* 2025-01-01 */

static xs_ingest_event event(const char *customer, const char *item,
                             const char *order)
{
    return (xs_ingest_event){.customer = customer,
                             .item = item,
                             .order = order,
                             .customer_len = (uint32_t)strlen(customer),
                             .item_len = (uint32_t)strlen(item),
                             .order_len = (uint32_t)strlen(order),
                             .ts = XS_TS_LATEST,
                             .weight = 1,
                             .price = 2.5};
}

/* Writes the store to path: 0, or -1 with a failed check. */
static int write_store(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!CHECK_MSG(f != NULL, "cannot write %s", path))
        return -1;
    fprintf(f, "customer,item,timestamp,weight,price,order\n");
    int o = 0;
    for (int i = 0; i < 10; i++, o++) { /* A with B, days 0..270 */
        long t = T0 + (long)i * 30 * DAY;
        fprintf(f, "C%03d,A,%ld,1,1,O%04d\n", o, t, o);
        fprintf(f, "C%03d,B,%ld,1,1,O%04d\n", o, t, o);
    }
    for (int i = 0; i < 200; i++, o++) /* B popular, with a filler */
        fprintf(f, "C%03d,B,%ld,1,1,O%04d\nC%03d,F%d,%ld,1,1,O%04d\n", o,
                (long)T0 + (long)(i % 300) * DAY, o, o, i % 7,
                (long)T0 + (long)(i % 300) * DAY, o);
    for (int i = 0; i < 20; i++, o++) /* A with fillers */
        fprintf(f, "C%03d,A,%ld,1,1,O%04d\nC%03d,G%d,%ld,1,1,O%04d\n", o,
                (long)T0 + (long)(i * 15) * DAY, o, o, i % 5,
                (long)T0 + (long)(i * 15) * DAY, o);
    return CHECK(fclose(f) == 0) ? 0 : -1;
}

/* The rank (0-based) of item in plugin's answer for {A}, or -1. */
static int rank_of(xs_engine *e, xs_context *ctx, const char *plugin,
                   const char *item)
{
    uint32_t a = xs_engine_item(e, "A"), want = xs_engine_item(e, item);
    xs_request req = {.items = &a, .n_items = 1, .customer = XS_NONE,
                      .k = 20, .category = XS_NONE};
    const xs_rec *out;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK_MSG(xs_engine_recommend(e, ctx, plugin, &req, &out, &n,
                                       &err) == XS_OK,
                   "%s: %s", plugin ? plugin : "blend", err.msg))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (out[i].item == want)
            return (int)i;
    return -1;
}

/* Whether B ranks above NEW (or NEW is absent) for plugin. */
static int b_above_new(xs_engine *e, xs_context *ctx, const char *plugin)
{
    int rb = rank_of(e, ctx, plugin, "B"), rn = rank_of(e, ctx, plugin, "NEW");
    return CHECK_MSG(rb >= 0 && (rn < 0 || rb < rn),
                     "%s: B at %d, NEW at %d (want B first)",
                     plugin ? plugin : "blend", rb, rn);
}

static xs_engine *engine(const char *path, const char *const *cp_opts)
{
    xs_engine *e = xtp_engine(path, NULL);
    xs_error err = {0};
    if (!e)
        return NULL;
    const char *names[] = {"copurchase", "recency", "popular"};
    for (int i = 0; i < 3; i++)
        if (!CHECK_MSG(xtp_add(e, names[i], i == 0 ? cp_opts : NULL, &err) ==
                           XS_OK,
                       "add %s: %s", names[i], err.msg)) {
            xs_engine_free(e);
            return NULL;
        }
    return e;
}

static void ingest_new(xs_engine *e, const char *customer, const char *order)
{
    xs_ingest_event ev[2] = {event(customer, "A", order),
                             event(customer, "NEW", order)};
    xs_error err = {0};
    CHECK_MSG(xs_engine_ingest(e, ev, 2, &err) == XS_OK, "ingest: %s",
              err.msg);
}

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/tmp/xt_evidence_%d.csv", (int)getpid());
    if (write_store(path))
        return xt_done();

    /* the defaults */
    xs_engine *e = engine(path, NULL);
    if (e) {
        xs_context *ctx = xs_context_new(e);
        ingest_new(e, "Z1", "ZO1");
        CHECK(xs_engine_item(e, "NEW") != XS_NONE);
        b_above_new(e, ctx, "copurchase");
        b_above_new(e, ctx, "recency");
        b_above_new(e, ctx, NULL);
        CHECK_MSG(rank_of(e, ctx, "copurchase", "NEW") < 0,
                  "a pair seen once is below copurchase's threshold");
        /* seen twice: evidence enough, NEW is a candidate again */
        ingest_new(e, "Z2", "ZO2");
        CHECK_MSG(rank_of(e, ctx, "copurchase", "NEW") >= 0,
                  "a pair seen twice is a candidate");
        xs_context_free(ctx);
        xs_engine_free(e);
    }

    /* what the threshold prevents: lift, pairs seen once counted */
    const char *old[] = {"measure=lift", "min_count=1", NULL};
    e = engine(path, old);
    if (e) {
        xs_context *ctx = xs_context_new(e);
        ingest_new(e, "Z1", "ZO1");
        int rb = rank_of(e, ctx, "copurchase", "B"),
            rn = rank_of(e, ctx, "copurchase", "NEW");
        CHECK_MSG(rn >= 0 && (rb < 0 || rn < rb),
                  "lift counting pairs seen once puts NEW (at %d) above B "
                  "(at %d)", rn, rb);
        xs_context_free(ctx);
        xs_engine_free(e);
    }
    unlink(path);
    return xt_done();
}
