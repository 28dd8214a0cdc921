/*
 * seasonal.c -- a sample xsell plugin, built out of tree against the
 * installed SDK: items that sell unusually well at this time of year.
 *
 * It is written to be read.  Everything a plugin needs is in
 * <xsell/plugin.h>, and <xsell/plugin_util.h> has the helpers (options,
 * the best m, ids); the plugin exports one function, xs_plugin_entry(),
 * returning the table at the bottom of this file.
 *
 * The idea.  Take a reference day (by default the latest sale in the data)
 * and a window of W days on each side of it, on every year of the data: the
 * "season".  An item sold evenly over time makes a share S of its sales in
 * the season, S being the share of the data's time span that lies in the
 * season (about 2W / 365 when the data covers whole years).  An item that
 * makes a larger share of its sales there is seasonal.
 *
 *   sales(c)      purchase events of item c (each event counts once)
 *   season(c)     those whose time of year is within W days of the
 *                 reference's time of year (any year)
 *   S             days of the data's span [first sale, last sale] that
 *                 are in the season / days of the span
 *   lift(c)       (season(c) + a S) / ((sales(c) + a) S)
 *                 the item's season share over the expected one, with `a`
 *                 (option smoothing) pseudo-sales at the expected share:
 *                 an item seen twice cannot reach a lift of 1/S
 *   score(c)      lift(c) x ln(1 + season(c)), for items with
 *                 lift(c) >= min_lift
 *
 * The logarithm is the popularity factor: among items of similar lift,
 * the one that sells more in the season comes first, without letting a
 * best seller of lift 1.1 beat a true seasonal item.  min_lift (1.5) keeps
 * out the items that are merely noisy: a steady seller bought on a few
 * fixed days easily shows a lift of 1.1 or 1.2 in some window.
 *
 * Time of year.  Two times are in the same season when their distance
 * modulo the mean Gregorian year (365.2425 days) is at most W days, so no
 * calendar is needed; against calendar dates that distance is off by less
 * than a day for data spanning a few decades.
 * Events with no timestamp (ts 0) are not counted.
 *
 * Options (anything else is refused, in plugin_util's words):
 *   date=TIME                        the reference, unix seconds or
 *                                    YYYY-MM-DD (default: the latest event
 *                                    time of the data)
 *   window=DAYS                      whole days, 1..182 (default 30)
 *   smoothing=A                      0..1e6 (default 5)
 *   min_lift=L                       1..1e6 (default 1.5)
 *   categories=basket|all            basket (default): when the request's
 *                                    items have catalog categories, keep
 *                                    to those categories; all: never
 *
 * Life cycle, threads and updates (ABI 3).  create() reads the options and
 * checks the data; prepare() -- called once after create() and again after
 * every burst of online events -- counts every customer's history the
 * first time and ranks the items; observe() adds new events to the counts,
 * and the prepare() that follows ranks again.  recommend() only reads the
 * ranking, so it is safe on many threads; the host never runs observe() or
 * prepare() alongside it.  The reference stays the one chosen at create().
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xsell/plugin_util.h>

#define DAY 86400.0
#define YEAR (365.2425 * DAY) /* the mean Gregorian year, in seconds */

/* The plugin's state: created in create(), freed in destroy(). */
typedef struct seasonal {
    const xs_host_api *api;
    xs_host *host;
    int64_t ref;         /* reference time, unix seconds */
    double window;       /* W, in days */
    double smoothing;    /* a */
    double min_lift;
    int by_category;     /* categories=basket */
    char ref_text[16];   /* the reference as YYYY-MM-DD, for explain */
    uint32_t n_items;    /* length of sales[] and season[] */
    double *sales;       /* by item id */
    double *season;      /* by item id */
    int64_t first, last; /* the data's time span (0, 0: no sale yet) */
    double share;        /* S, for that span */
    double all_sales, all_season; /* the whole store, for the log */
    xs_cand *rank;       /* items with lift >= min_lift, best first */
    uint32_t n_rank;
    int counted;         /* the histories have been counted */
} seasonal;

/* ---- counting and ranking ------------------------------------------------- */

/* Is time ts within `window` days of the reference's time of year? */
static int in_season(const seasonal *s, int64_t ts)
{
    double d = fmod((double)ts - (double)s->ref, YEAR);
    if (d < 0)
        d += YEAR;
    if (d > YEAR / 2)
        d = YEAR - d;
    return d <= s->window * DAY;
}

/* Grows the per-item arrays to the host's item count (ingest interns new
 * items).  Returns 0 or -1 when out of memory. */
static int grow(seasonal *s)
{
    uint32_t n = s->api->item_count(s->host);
    if (n <= s->n_items)
        return 0;
    double *a = realloc(s->sales, n * sizeof *a);
    if (!a)
        return -1;
    s->sales = a;
    double *b = realloc(s->season, n * sizeof *b);
    if (!b)
        return -1;
    s->season = b;
    for (uint32_t i = s->n_items; i < n; i++)
        s->sales[i] = s->season[i] = 0;
    s->n_items = n;
    return 0;
}

static void count(seasonal *s, const xs_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ev[i].ts == 0 || ev[i].item >= s->n_items)
            continue; /* no time: no season */
        int hit = in_season(s, ev[i].ts);
        s->sales[ev[i].item] += 1;
        s->season[ev[i].item] += hit;
        s->all_sales += 1;
        s->all_season += hit;
        if (s->first == 0 || ev[i].ts < s->first)
            s->first = ev[i].ts;
        if (ev[i].ts > s->last)
            s->last = ev[i].ts;
    }
}

/* S: the share of the days from the first sale to the last that are in
 * the season, one step per day (a few thousand for years of data; longer
 * steps for spans over 100,000 days). */
static double expected_share(const seasonal *s)
{
    double span = (double)s->last - (double)s->first;
    double step = span > 1e5 * DAY ? span / 1e5 : DAY;
    double days = 0, hits = 0;
    for (double t = 0; t <= span; t += step) {
        days += 1;
        hits += in_season(s, s->first + (int64_t)t);
    }
    return s->all_sales > 0 && days > 0 ? hits / days : 0;
}

/* lift(c), as in the comment at the top; 0 when no day of the data is in
 * the season, or every day is (nothing to compare with). */
static double lift(const seasonal *s, uint32_t c)
{
    if (s->share <= 0 || s->share >= 1)
        return 0;
    return (s->season[c] + s->smoothing * s->share) /
           ((s->sales[c] + s->smoothing) * s->share);
}

/* Ranks every item with lift >= min_lift by score.  Returns 0 or -1
 * (memory). */
static int rank_items(seasonal *s)
{
    xs_cand *r = realloc(s->rank, (s->n_items ? s->n_items : 1) * sizeof *r);
    if (!r)
        return -1;
    s->rank = r;
    s->n_rank = 0;
    s->share = expected_share(s);
    for (uint32_t c = 0; c < s->n_items; c++) {
        double l = lift(s, c);
        if (l >= s->min_lift && s->season[c] > 0)
            r[s->n_rank++] =
                (xs_cand){.item = c, .score = l * log1p(s->season[c])};
    }
    qsort(r, s->n_rank, sizeof *r, xs_cmp_cand_best); /* score, then id */
    return 0;
}

/* ---- the callbacks -------------------------------------------------------- */

static void seasonal_destroy(void *state)
{
    seasonal *s = state;
    free(s->sales);
    free(s->season);
    free(s->rank);
    free(s);
}

static int seasonal_create(const xs_host_api *api, xs_host *host,
                           const xs_option *opts, size_t n_opts, void **state,
                           char *err, size_t errlen)
{
    static const char *const categories[] = {"basket", "all", NULL};
    int64_t ref = api->latest_time(host);
    double smoothing = 5, min_lift = 1.5;
    uint32_t window = 30;
    int all_categories = 0;
    /* Options first: unknown keys and bad values are refused, named. */
    const xs_opt_spec spec[] = {
        {.key = "date", .type = XS_OPT_TIME, .out = &ref},
        {.key = "window", .type = XS_OPT_INTEGER, .out = &window, .lo = 1,
         .hi = 182},
        {.key = "smoothing", .type = XS_OPT_NUMBER, .out = &smoothing,
         .lo = 0, .hi = 1e6},
        {.key = "min_lift", .type = XS_OPT_NUMBER, .out = &min_lift, .lo = 1,
         .hi = 1e6},
        {.key = "categories", .type = XS_OPT_CHOICE, .out = &all_categories,
         .choices = categories},
    };
    if (xs_opts_parse(api, spec, sizeof spec / sizeof *spec, opts, n_opts,
                      err, errlen))
        return -1;
    /* The data must say who bought what when. */
    if (api->latest_time(host) == 0 || api->customer_count(host) == 0) {
        snprintf(err, errlen, "needs events with customers and timestamps "
                 "(--events with a timestamp column)");
        return -1;
    }

    seasonal *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *s = (seasonal){.api = api, .host = host, .ref = ref, .window = window,
                    .smoothing = smoothing, .min_lift = min_lift,
                    .by_category = !all_categories};
    time_t t = (time_t)ref;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        !strftime(s->ref_text, sizeof s->ref_text, "%Y-%m-%d", &tm))
        snprintf(s->ref_text, sizeof s->ref_text, "?");
    *state = s;
    return 0;
}

/* The first time, one pass over every customer's history; every time, the
 * ranking from the counts (observe() added the new events to them). */
static int seasonal_prepare(void *state, unsigned asks, char *err,
                            size_t errlen)
{
    seasonal *s = state;
    const xs_host_api *api = s->api;
    (void)asks; /* every kind of request is served from the one ranking */
    if (grow(s))
        goto oom;
    if (!s->counted) {
        uint32_t customers = api->customer_count(s->host);
        for (uint32_t c = 0; c < customers; c++) {
            const xs_event *ev;
            size_t n;
            if (api->history(s->host, c, &ev, &n))
                count(s, ev, n);
        }
        s->counted = 1;
    }
    if (rank_items(s))
        goto oom;
    api->log(s->host, XS_LOG_INFO, "%s +/- %.0f days: %.0f of %.0f sales in "
             "season (%.1f%% expected), %u seasonal items", s->ref_text,
             s->window, s->all_season, s->all_sales, 100 * s->share,
             (unsigned)s->n_rank);
    if (s->share <= 0 || s->share >= 1) /* say why nothing will come */
        api->log(s->host, XS_LOG_WARN, "%s of the data's days are in the "
                 "season: nothing to compare, no item is seasonal",
                 s->share <= 0 ? "none" : "all");
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int seasonal_recommend(void *state, const xs_request *req,
                              xs_result *out)
{
    const seasonal *s = state;
    const xs_host_api *api = s->api;
    /* The categories of the request's items (when asked to keep to them),
     * in request scratch memory: nothing to free, nothing shared. */
    uint32_t *cats = NULL, n_cats = 0;
    if (s->by_category && req->n_items > 0) {
        if (!(cats = api->scratch(out, req->n_items * sizeof *cats)))
            return -1;
        for (uint32_t i = 0; i < req->n_items; i++) {
            xs_item_info info;
            if (api->item_info(s->host, req->items[i], &info) &&
                info.category != XS_NONE)
                cats[n_cats++] = info.category;
        }
    }
    /* The ranking is best first, so stop once k items have been kept
     * (push() refuses the request's items, owned ones, out of stock...). */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < s->n_rank && kept < req->k; i++) {
        uint32_t c = s->rank[i].item;
        if (n_cats > 0) {
            xs_item_info info;
            int same = 0;
            if (api->item_info(s->host, c, &info))
                for (uint32_t j = 0; j < n_cats && !same; j++)
                    same = info.category == cats[j];
            if (!same)
                continue;
        }
        kept += (uint32_t)api->push(out, c, s->rank[i].score);
    }
    return 0;
}

static int seasonal_explain(void *state, const xs_request *req, uint32_t item,
                            xs_evidence *ev)
{
    const seasonal *s = state;
    (void)req;
    if (item >= s->n_items)
        return 0;
    xs_evidence_add(ev, "season_sales", s->season[item], NULL);
    xs_evidence_add(ev, "sales", s->sales[item], NULL);
    xs_evidence_add(ev, "season_share",
                    s->sales[item] > 0 ? s->season[item] / s->sales[item] : 0,
                    NULL);
    xs_evidence_add(ev, "expected_share", s->share, NULL);
    xs_evidence_add(ev, "lift", lift(s, item), NULL);
    xs_evidence_add(ev, "window", s->window, NULL);
    xs_evidence_add(ev, "reference", 0, s->ref_text); /* lives in the state */
    return 0;
}

/* New events are already in the host's tables: count them (the prepare()
 * that follows ranks again). */
static int seasonal_observe(void *state, const xs_event *ev, size_t n)
{
    seasonal *s = state;
    if (!s->counted)
        return 0; /* prepare() counts them with the histories */
    if (grow(s))
        return -1;
    count(s, ev, n);
    return 0;
}

static const xs_plugin seasonal_plugin = {
    .abi = XS_PLUGIN_ABI,
    .size = sizeof(xs_plugin),
    .name = "seasonal",
    .version = "1.0.0",
    .description = "items that sell unusually well at this time of year",
    .create = seasonal_create,
    .recommend = seasonal_recommend,
    .explain = seasonal_explain,
    .observe = seasonal_observe,
    .destroy = seasonal_destroy,
    .prepare = seasonal_prepare,
};

XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    return &seasonal_plugin;
}
