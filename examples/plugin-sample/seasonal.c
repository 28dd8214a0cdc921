/*
 * seasonal.c -- a sample xsell plugin, built out of tree against the
 * installed SDK: items that sell unusually well at this time of year.
 *
 * It is written to be read.  Everything a plugin needs is in
 * <xsell/plugin.h>; the plugin exports one function, xs_plugin_entry(),
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
 * Options (anything else is refused):
 *   date=YYYY-MM-DD | unix seconds   the reference (default: the latest
 *                                    event time of the data)
 *   window=DAYS                      1..182 (default 30)
 *   smoothing=A                      0..1e6 (default 5)
 *   min_lift=L                       1..1e6 (default 1.5)
 *   categories=basket|all            basket (default): when the request's
 *                                    items have catalog categories, keep
 *                                    to those categories; all: never
 *
 * Threads and updates.  create() counts every customer's history once and
 * ranks the items; recommend() only reads that ranking, so it is safe on
 * many threads.  observe() (online events) adds the new events to the
 * counts and ranks again: the host never runs it alongside recommend().
 * The reference stays the one chosen at create().
 */
#define _POSIX_C_SOURCE 200809L /* gmtime_r */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xsell/plugin.h>

#define DAY 86400.0
#define YEAR (365.2425 * DAY) /* the mean Gregorian year, in seconds */

typedef struct ranked {
    double score;
    uint32_t item;
} ranked;

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
    ranked *rank;        /* items with lift >= min_lift, best first */
    uint32_t n_rank;
} seasonal;

/* ---- options -------------------------------------------------------------- */

/* Days from 1970-01-01 to a date of the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD" (midnight UTC) or unix seconds, in the years 1..9999.
 * Returns 0 or -1. */
static int parse_date(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d, len = -1;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &len) == 3 && len == 10 &&
        !s[len]) {
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] ||
            (m == 2 && d == 29 && !leap))
            return -1;
        *out = days_from_civil(y, m, d) * 86400;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno || v < -62135596800LL ||
        v > 253402300799LL)
        return -1;
    *out = v;
    return 0;
}

/* A number filling the whole string, within [lo, hi]. */
static int parse_number(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

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

static int by_score(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->score != b->score)
        return a->score < b->score ? 1 : -1;
    return (a->item > b->item) - (a->item < b->item); /* then lower id */
}

/* Ranks every item with lift >= min_lift by score.  Returns 0 or -1
 * (memory). */
static int rank_items(seasonal *s)
{
    ranked *r = realloc(s->rank, (s->n_items ? s->n_items : 1) * sizeof *r);
    if (!r)
        return -1;
    s->rank = r;
    s->n_rank = 0;
    s->share = expected_share(s);
    for (uint32_t c = 0; c < s->n_items; c++) {
        double l = lift(s, c);
        if (l >= s->min_lift && s->season[c] > 0)
            r[s->n_rank++] = (ranked){l * log1p(s->season[c]), c};
    }
    qsort(r, s->n_rank, sizeof *r, by_score);
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
    int64_t ref = api->latest_time(host);
    double window = 30, smoothing = 5, min_lift = 1.5;
    int by_category = 1;
    /* Options first: refuse unknown keys and bad values, naming them. */
    for (size_t i = 0; i < n_opts; i++) {
        const char *k = opts[i].key, *v = opts[i].value;
        if (!strcmp(k, "date")) {
            if (parse_date(v, &ref)) {
                snprintf(err, errlen, "date: want YYYY-MM-DD or unix seconds "
                         "(years 1..9999), not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "window")) {
            if (parse_number(v, 1, 182, &window) || window != floor(window)) {
                snprintf(err, errlen, "window: want whole days in 1..182, "
                         "not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "smoothing")) {
            if (parse_number(v, 0, 1e6, &smoothing)) {
                snprintf(err, errlen, "smoothing: want a number in [0, 1e6], "
                         "not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "min_lift")) {
            if (parse_number(v, 1, 1e6, &min_lift)) {
                snprintf(err, errlen, "min_lift: want a number in [1, 1e6], "
                         "not '%s'", v);
                return -1;
            }
        } else if (!strcmp(k, "categories")) {
            if (!strcmp(v, "basket") || !strcmp(v, "all")) {
                by_category = !strcmp(v, "basket");
            } else {
                snprintf(err, errlen, "categories: want basket or all, not "
                         "'%s'", v);
                return -1;
            }
        } else {
            snprintf(err, errlen, "unknown option '%s' (date, window, "
                     "smoothing, min_lift, categories)", k);
            return -1;
        }
    }
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
                    .by_category = by_category};
    time_t t = (time_t)ref;
    struct tm tm;
    if (!gmtime_r(&t, &tm) ||
        !strftime(s->ref_text, sizeof s->ref_text, "%Y-%m-%d", &tm))
        snprintf(s->ref_text, sizeof s->ref_text, "?");

    /* One pass over every customer's history. */
    if (grow(s)) {
        seasonal_destroy(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint32_t customers = api->customer_count(host);
    for (uint32_t c = 0; c < customers; c++) {
        const xs_event *ev;
        size_t n;
        if (api->history(host, c, &ev, &n))
            count(s, ev, n);
    }
    if (rank_items(s)) {
        seasonal_destroy(s);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    api->log(host, XS_LOG_INFO, "seasonal: %s +/- %.0f days: %.0f of %.0f "
             "sales in season (%.1f%% expected), %u seasonal items",
             s->ref_text, window, s->all_season, s->all_sales,
             100 * s->share, (unsigned)s->n_rank);
    if (s->share <= 0 || s->share >= 1) /* say why nothing will come */
        api->log(host, XS_LOG_WARN, "seasonal: %s of the data's days are in "
                 "the season: nothing to compare, no item is seasonal",
                 s->share <= 0 ? "none" : "all");
    *state = s;
    return 0;
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

/* New events are already in the host's tables: count them and rank again. */
static int seasonal_observe(void *state, const xs_event *ev, size_t n)
{
    seasonal *s = state;
    if (grow(s))
        return -1;
    count(s, ev, n);
    return rank_items(s);
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
};

XS_EXPORT const xs_plugin *xs_plugin_entry(void)
{
    return &seasonal_plugin;
}
