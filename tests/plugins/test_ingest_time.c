/*
 * test_ingest_time.c -- ingested events weigh like the data (issue 13,
 * "Ingest weighs like the data"), on the sample store of examples/data,
 * whose events ended long before any clock this test runs under:
 *
 *   - an event without a time (XS_TS_LATEST, what the server's ingest op
 *     sends for an event without `ts`) takes the latest event time of the
 *     data, and the journal hook (the data dir's log) is handed that time,
 *     not the sentinel;
 *   - in a batch, a later time given by another event wins;
 *   - recency (half-life 30 days, t_ref the data's latest time)
 *     scores a customer whose one event was ingested without a time like
 *     the newest loaded purchase (affinity 1: jaccard scores <= 1), where
 *     the same event stamped 300 days after the data would weigh 2^10 times
 *     more: the ratio is checked, so the test sees the difference the
 *     wall clock made.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "xsell/xsell.h"

#include "fixture.h"
#include "test_util.h"

#define DAY 86400

/* What the journal hook was handed, by the last batch. */
static int64_t journal_ts[8];
static size_t journal_n;

static int journal_ingest(void *arg, const xs_ingest_event *ev, size_t n,
                          xs_error *err)
{
    (void)arg;
    (void)err;
    journal_n = n;
    for (size_t i = 0; i < n && i < 8; i++)
        journal_ts[i] = ev[i].ts;
    return XS_OK;
}

static xs_ingest_event event(const char *customer, const char *item,
                             int64_t ts)
{
    return (xs_ingest_event){.customer = customer,
                             .item = item,
                             .customer_len = (uint32_t)strlen(customer),
                             .item_len = (uint32_t)strlen(item),
                             .ts = ts,
                             .weight = 1,
                             .price = NAN};
}

/* recency's top score for customer name (no items), 0 when none. */
static double top_score(xs_engine *e, xs_context *ctx, const char *name)
{
    xs_request req = {.customer = xtp_customer(e, name), .k = 5,
                      .category = XS_NONE};
    const xs_rec *out;
    size_t n = 0;
    xs_error err = {0};
    if (!CHECK(req.customer != XS_NONE) ||
        !CHECK_MSG(xs_engine_recommend(e, ctx, "recency", &req, &out, &n,
                                       &err) == XS_OK,
                   "recommend: %s", err.msg) ||
        !CHECK_MSG(n > 0, "no recommendation for %s", name))
        return 0;
    return out[0].score;
}

static const char *const half_life_30[] = {"half_life=30", NULL};

int main(void)
{
    int rc = xtp_init();
    if (rc)
        return rc;
    xs_engine *e = xtp_engine_with(xtp_data("../../examples/data/events.csv"),
                                   NULL, "recency", half_life_30);
    if (!e)
        return xt_done();
    const xs_dataset *ds = xs_engine_dataset(e);
    int64_t latest = 0;
    for (size_t i = 0; i < ds->n_events; i++)
        if (ds->events[i].ts > latest)
            latest = ds->events[i].ts;
    CHECK(latest > 0);
    xs_journal j = {.ingest = journal_ingest};
    xs_engine_set_journal(e, &j);
    xs_context *ctx = xs_context_new(e);
    xs_error err = {0};

    /* no time: the data's latest, handed to the journal resolved */
    xs_ingest_event a = event("ZNEW", "P000030", XS_TS_LATEST);
    CHECK_MSG(xs_engine_ingest(e, &a, 1, &err) == XS_OK, "ingest: %s",
              err.msg);
    CHECK_EQU(journal_n, 1);
    CHECK_MSG(journal_ts[0] == latest, "journal ts %lld, want %lld",
              (long long)journal_ts[0], (long long)latest);
    double s_new = top_score(e, ctx, "ZNEW");
    CHECK_MSG(s_new > 0 && s_new <= 1 + 1e-9,
              "a customer of one timestamp-less event scores %g (affinity 1, "
              "similarity at most 1)", s_new);

    /* the same purchase stamped 300 days after the data: 2^(300/30) */
    xs_ingest_event late = event("ZLATE", "P000030", latest + 300 * DAY);
    CHECK(xs_engine_ingest(e, &late, 1, &err) == XS_OK);
    double s_late = top_score(e, ctx, "ZLATE");
    CHECK_MSG(s_new > 0 && fabs(s_late / s_new - 1024) < 1e-6 * 1024,
              "ratio %g, want 1024", s_new > 0 ? s_late / s_new : 0);

    /* in a batch, a later given time wins; the data's latest moved too */
    xs_ingest_event batch[2] = {event("ZB", "P000251", XS_TS_LATEST),
                                event("ZB", "P000030", latest + 301 * DAY)};
    CHECK(xs_engine_ingest(e, batch, 2, &err) == XS_OK);
    CHECK_EQU(journal_n, 2);
    CHECK(journal_ts[0] == latest + 301 * DAY);
    CHECK(journal_ts[1] == latest + 301 * DAY);
    xs_ingest_event b = event("ZC", "P000251", XS_TS_LATEST);
    CHECK(xs_engine_ingest(e, &b, 1, &err) == XS_OK);
    CHECK(journal_ts[0] == latest + 301 * DAY);

    xs_engine_set_journal(e, NULL);
    xs_context_free(ctx);
    xs_engine_free(e);
    return xt_done();
}
