/*
 * cmd_segment.c -- `xsell segment`: RFM scores and segments per customer,
 * written to --out as csv or json, a human summary on stderr and optionally
 * an HTML report.  The computing is xs_segment_compute and the report
 * xs_segment_write_html (core/segment.c, core/segment_report.c); this file
 * parses options, loads the data and prints.  The report's lifetime value
 * is xs_clv_compute as of the same `now`, with `xsell clv`'s defaults; when
 * the models cannot be fitted the report says why and the command still
 * succeeds.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/atomic_out.h"
#include "cli/cli.h"
#include "xsell/segment.h"

#define CMD "segment"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell segment --events FILE --out FILE [options]\n"
            "\nRFM segmentation: per customer recency (days since the last "
            "purchase),\nfrequency (distinct orders, or distinct purchase "
            "days without an order\ncolumn) and monetary value (sum of price x "
            "weight), scored 1..bins by rank,\nand a segment (Champions, "
            "Loyal, ... Lost) from the R and F scores.\n\n"
            "  --events FILE      CSV with header: customer,item,timestamp"
            "[,weight,price,order]\n"
            "  --columns MAP      column names, e.g. customer=user,"
            "timestamp=date\n"
            "  --catalog FILE     CSV item,category,price: prices of events "
            "without one\n"
            "  --out FILE         where the per-customer table goes (- for "
            "stdout)\n"
            "  --format F         csv or json (default csv)\n"
            "  --now T            reference time: unix seconds or YYYY-MM-DD "
            "(the end of\n"
            "                     that day); default the latest event; later "
            "events are ignored\n"
            "  --bins N           scores 1..N, N in 2..10 (default 5)\n"
            "  --no-monetary      no M score, revenue or Pareto (data "
            "without prices)\n"
            "  --period A..B      customer retention rate over [A, B] (A: "
            "start of its day,\n"
            "                     B: end of its day when dates)\n"
            "  --active-days W    a customer is active at t when it bought "
            "in the W days\n"
            "                     before t (default 365), for the CRR\n"
            "  --report FILE      write an HTML report (charts and summary), "
            "with each\n"
            "                     segment's lifetime value over 52 weeks and "
            "the P(alive)\n"
            "                     distribution (BG/NBD and Gamma-Gamma as "
            "`xsell clv`)\n"
            "%s"
            "\n--out and --report are written to a temporary beside the file "
            "and renamed\nwhen complete; SIGINT/SIGTERM remove it (exit "
            "130/143)\n"
            "\ncsv columns: customer,recency_days,frequency,monetary,r,f,m,"
            "segment\n", CLI_LOAD_HELP);
}

/* T: unix seconds or an ISO-8601 date/time; a bare date YYYY-MM-DD is its
 * first second, or its last with end_of_day.  Returns 0 or -1. */
static int parse_time(const char *s, size_t len, int end_of_day, int64_t *out)
{
    if (len == 0 || xs_parse_timestamp(s, len, out))
        return -1;
    int is_date = len == 10 && s[4] == '-' && s[7] == '-';
    if (is_date && end_of_day)
        *out += 86399;
    return 0;
}

static void print_date(FILE *f, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char buf[32];
    if (gmtime_r(&tt, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d", &tm))
        fputs(buf, f);
    else
        fprintf(f, "%lld", (long long)t);
}

static void write_csv(FILE *f, const xs_segmentation *s, const xs_dict *cu)
{
    fprintf(f, "customer,recency_days,frequency,monetary,r,f,m,segment\n");
    for (size_t i = 0; i < s->n; i++) {
        const xs_segment_row *r = &s->rows[i];
        char m[40] = "";
        if (s->monetary) /* 15 digits: money without the sum's float noise */
            snprintf(m, sizeof m, "%.15g", r->monetary);
        xs_csv_field(f, xs_dict_name(cu, r->customer));
        fprintf(f, ",%lld,%u,%s,%d,%d,", (long long)r->recency_days,
                r->frequency, m, r->r, r->f);
        if (s->monetary)
            fprintf(f, "%d", r->m);
        fprintf(f, ",%s\n", xs_segment_name(r->segment));
    }
}

static void json_num_or_null(FILE *f, double v)
{
    if (isnan(v))
        fputs("null", f);
    else
        xs_json_number(f, v);
}

static void write_json(FILE *f, const xs_segmentation *s, const xs_dict *cu,
                       int by_order)
{
    fprintf(f, "{\"now\":%lld,\"bins\":%d,\"monetary\":%s,"
               "\"frequency_of\":\"%s\",\"customers\":[",
            (long long)s->now, s->bins, s->monetary ? "true" : "false",
            by_order ? "orders" : "days");
    for (size_t i = 0; i < s->n; i++) {
        const xs_segment_row *r = &s->rows[i];
        fputs(i ? ",\n{\"customer\":" : "\n{\"customer\":", f);
        xs_json_string(f, xs_dict_name(cu, r->customer));
        fprintf(f, ",\"recency_days\":%lld,\"frequency\":%u,\"monetary\":",
                (long long)r->recency_days, r->frequency);
        json_num_or_null(f, r->monetary);
        fprintf(f, ",\"r\":%d,\"f\":%d,\"m\":", r->r, r->f);
        if (s->monetary)
            fprintf(f, "%d", r->m);
        else
            fputs("null", f);
        fprintf(f, ",\"segment\":\"%s\"}", xs_segment_name(r->segment));
    }
    fprintf(f, "],\n\"summary\":{\"customers\":%zu,\"revenue\":", s->n);
    json_num_or_null(f, s->monetary ? s->total_revenue : NAN);
    fputs(",\"segments\":[", f);
    for (int i = 0; i < XS_SEG_COUNT; i++) {
        fprintf(f, "%s{\"segment\":\"%s\",\"customers\":%zu,\"revenue\":",
                i ? "," : "", xs_segment_name(i), s->count[i]);
        json_num_or_null(f, s->monetary ? s->revenue[i] : NAN);
        fputc('}', f);
    }
    fprintf(f, "],\"pareto\":{\"top_customers\":%zu,\"top_share\":",
            s->top_n);
    json_num_or_null(f, s->top_share);
    fputs("},\"loyal\":[", f);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        int seg = s->rows[i].segment;
        if (seg != XS_SEG_CHAMPIONS && seg != XS_SEG_LOYAL)
            continue;
        if (k++)
            fputc(',', f);
        xs_json_string(f, xs_dict_name(cu, s->rows[i].customer));
    }
    fputs("],\"crr\":", f);
    if (s->has_crr) {
        fprintf(f, "{\"from\":%lld,\"to\":%lld,\"active_days\":%d,"
                   "\"start\":%zu,\"end\":%zu,\"new\":%zu,\"crr\":",
                (long long)s->period_from, (long long)s->period_to,
                s->active_days, s->crr_start, s->crr_end, s->crr_new);
        json_num_or_null(f, s->crr);
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fputs("}}\n", f);
}

static void write_summary(FILE *f, const xs_segmentation *s, int by_order)
{
    fprintf(f, "xsell segment: %zu customers as of ", s->n);
    print_date(f, s->now);
    fprintf(f, " (frequency: distinct %s; scores 1..%d)\n",
            by_order ? "orders" : "purchase days", s->bins);
    fprintf(f, "  %-20s %9s %7s", "segment", "customers", "share");
    if (s->monetary)
        fprintf(f, " %14s %7s", "revenue", "share");
    fputc('\n', f);
    for (int i = 0; i < XS_SEG_COUNT; i++) {
        fprintf(f, "  %-20s %9zu %6.1f%%", xs_segment_name(i), s->count[i],
                s->n ? 100.0 * (double)s->count[i] / (double)s->n : 0.0);
        if (s->monetary)
            fprintf(f, " %14.2f %6.1f%%", s->revenue[i],
                    s->total_revenue > 0
                        ? 100.0 * s->revenue[i] / s->total_revenue
                        : 0.0);
        fputc('\n', f);
    }
    if (s->monetary) {
        fprintf(f, "  revenue %.2f; top 20%% (%zu customers): ",
                s->total_revenue, s->top_n);
        if (isnan(s->top_share))
            fprintf(f, "n/a\n");
        else
            fprintf(f, "%.1f%% of revenue\n", s->top_share * 100.0);
    }
    fprintf(f, "  loyal customers (Champions + Loyal): %zu\n",
            s->count[XS_SEG_CHAMPIONS] + s->count[XS_SEG_LOYAL]);
    if (s->has_crr) {
        fprintf(f, "  CRR ");
        print_date(f, s->period_from);
        fprintf(f, "..");
        print_date(f, s->period_to);
        fprintf(f, " (active: bought within %d days): S=%zu E=%zu N=%zu -> ",
                s->active_days, s->crr_start, s->crr_end, s->crr_new);
        if (isnan(s->crr))
            fprintf(f, "n/a (no customer active at the start)\n");
        else
            fprintf(f, "%.1f%%\n", s->crr);
    }
}

/* Writes to path ("-": stdout) with fn, through a temporary renamed over
 * path when complete (cli/atomic_out.h); returns CLI_OK or CLI_RUNTIME. */
static int write_file(const char *path, const char *what,
                      int (*fn)(FILE *, void *), void *arg)
{
    cli_out o;
    if (cli_out_open(&o, CMD, path))
        return CLI_RUNTIME;
    int rc = fn(o.f, arg);
    if (ferror(o.f))
        rc = -1;
    if (rc) {
        cli_out_abort(&o);
        return cli_fail(CMD, CLI_RUNTIME, "%s: error writing %s", path, what);
    }
    return cli_out_commit(&o, CMD);
}

typedef struct out_ctx {
    const xs_segmentation *s;
    const xs_dict *customers;
    int format;
    int by_order;
} out_ctx;

static int write_table(FILE *f, void *arg)
{
    out_ctx *o = arg;
    if (o->format == CLI_JSON)
        write_json(f, o->s, o->customers, o->by_order);
    else
        write_csv(f, o->s, o->customers);
    return 0;
}

static int write_report(FILE *f, void *arg)
{
    out_ctx *o = arg;
    return xs_segment_write_html(o->s, o->customers, NULL, f, NULL);
}

/* The report's CLV: xsell clv's defaults as of the segmentation's now. */
static void add_clv(xs_segmentation *s, const xs_dataset *ds,
                    const xs_catalog *cat, const xs_segment_config *scfg)
{
    xs_clv_config cfg = {.has_until = 1, .until = s->now, .unit_days = 7,
                         .no_monetary = scfg->no_monetary,
                         .timestamp_column = scfg->timestamp_column,
                         .price_column = scfg->price_column};
    xs_clv *c = NULL;
    xs_error err = {0};
    if (xs_clv_compute(ds, cat, &cfg, &c, &err) == XS_OK)
        xs_segment_add_clv(s, c);
    else
        snprintf(s->clv_note, sizeof s->clv_note, "%s", err.msg);
    xs_clv_free(c);
}

int cmd_segment(int argc, char **argv)
{
    enum { O_EVENTS = OPT_FIRST_FREE, O_CATALOG, O_COLUMNS, O_OUT, O_FORMAT,
           O_NOW, O_BINS, O_NO_MONETARY, O_PERIOD, O_ACTIVE, O_REPORT };
    static const struct option opts[] = {
        {"events", required_argument, NULL, O_EVENTS},
        {"catalog", required_argument, NULL, O_CATALOG},
        {"columns", required_argument, NULL, O_COLUMNS},
        {"out", required_argument, NULL, O_OUT},
        {"format", required_argument, NULL, O_FORMAT},
        {"now", required_argument, NULL, O_NOW},
        {"bins", required_argument, NULL, O_BINS},
        {"no-monetary", no_argument, NULL, O_NO_MONETARY},
        {"period", required_argument, NULL, O_PERIOD},
        {"active-days", required_argument, NULL, O_ACTIVE},
        {"report", required_argument, NULL, O_REPORT},
        CLI_LOAD_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *events = NULL, *catalog = NULL, *columns = NULL, *out = NULL,
               *report = NULL;
    cli_data d = {0}; /* its messy-input options only */
    xs_segment_config cfg = {.bins = 5, .active_days = 365};
    int format = CLI_CSV, c;
    long v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c >= OPT_ON_BAD_LINE && c <= OPT_DATE_FORMAT &&
            cli_data_option(&d, c, optarg))
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            return CLI_OK;
        case O_EVENTS: events = optarg; break;
        case O_CATALOG: catalog = optarg; break;
        case O_COLUMNS: columns = optarg; break;
        case O_OUT: out = optarg; break;
        case O_REPORT: report = optarg; break;
        case O_NO_MONETARY: cfg.no_monetary = 1; break;
        case O_FORMAT:
            if ((format = cli_parse_format(optarg, 1u << CLI_JSON |
                                                       1u << CLI_CSV)) < 0)
                return cli_fail(CMD, CLI_USAGE,
                                "--format: want csv or json, not '%s'",
                                optarg);
            break;
        case O_BINS:
            if (cli_parse_long(optarg, 2, 10, &v))
                return cli_fail(CMD, CLI_USAGE,
                                "--bins: want an integer in 2..10, not '%s'",
                                optarg);
            cfg.bins = (int)v;
            break;
        case O_ACTIVE:
            if (cli_parse_long(optarg, 1, 36500, &v))
                return cli_fail(CMD, CLI_USAGE,
                                "--active-days: want an integer in 1..36500, "
                                "not '%s'", optarg);
            cfg.active_days = (int)v;
            break;
        case O_NOW:
            if (parse_time(optarg, strlen(optarg), 1, &cfg.now))
                return cli_fail(CMD, CLI_USAGE,
                                "--now: want unix seconds or a date "
                                "YYYY-MM-DD, not '%s'", optarg);
            cfg.has_now = 1;
            break;
        case O_PERIOD: {
            const char *dots = strstr(optarg, "..");
            if (!dots ||
                parse_time(optarg, (size_t)(dots - optarg), 0,
                           &cfg.period_from) ||
                parse_time(dots + 2, strlen(dots + 2), 1, &cfg.period_to))
                return cli_fail(CMD, CLI_USAGE,
                                "--period: want A..B, each unix seconds or "
                                "YYYY-MM-DD, not '%s'", optarg);
            if (cfg.period_from > cfg.period_to)
                return cli_fail(CMD, CLI_USAGE,
                                "--period: '%s' ends before it starts",
                                optarg);
            cfg.has_period = 1;
            break;
        }
        default:
            return cli_fail(CMD, CLI_USAGE, "bad option '%s' (see --help)",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail(CMD, CLI_USAGE, "unexpected argument '%s'",
                        argv[optind]);
    if (!events)
        return cli_fail(CMD, CLI_USAGE, "--events FILE is required");
    if (!out)
        return cli_fail(CMD, CLI_USAGE, "--out FILE is required (- for "
                        "stdout)");
    if (report && !strcmp(report, "-") && !strcmp(out, "-"))
        return cli_fail(CMD, CLI_USAGE, "--out and --report cannot both be "
                        "stdout");

    xs_error err = {0};
    xs_columns cols;
    xs_dataset *ds;
    xs_catalog *cat;
    int lrc = cli_events_load(CMD, &d, events, columns, catalog, &cols, &ds,
                              &cat);
    if (lrc)
        return lrc;
    cfg.timestamp_column = cols.timestamp;
    cfg.price_column = cols.price;
    xs_segmentation *s = NULL;
    int status = xs_segment_compute(ds, cat, &cfg, &s, &err);
    int rc = CLI_OK;
    if (status) {
        rc = cli_fail(CMD, cli_exit_code(status), "%s: %s", events, err.msg);
    } else {
        if (report)
            add_clv(s, ds, cat, &cfg);
        out_ctx o = {s, ds->customers, format, ds->orders != NULL};
        rc = write_file(out, "the table", write_table, &o);
        if (!rc && report)
            rc = write_file(report, "the report", write_report, &o);
        if (!rc)
            write_summary(stderr, s, o.by_order);
    }
    xs_segmentation_free(s);
    xs_catalog_free(cat);
    xs_dataset_free(ds);
    xs_columns_free(&cols);
    return rc;
}
