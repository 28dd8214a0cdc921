/*
 * cmd_clv.c -- `xsell clv`: customer lifetime value and churn risk per
 * customer (BG/NBD and Gamma-Gamma, include/xsell/clv.h), written to --out
 * as csv or json, the fit as one JSON object to --summary, and a human
 * summary on stderr.  The computing is xs_clv_compute; this file parses
 * options, loads the data and prints.
 *
 * --out and --summary are written to a temporary file beside them and
 * renamed over them once complete (cli/atomic_out.h), so a reader never
 * sees half a table (stdout is written as is).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/atomic_out.h"
#include "cli/cli.h"
#include "xsell/clv.h"

#define CMD "clv"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell clv --events FILE [options]\n"
            "\nCustomer lifetime value and churn risk: BG/NBD (purchases and "
            "dropout) and\nGamma-Gamma (spend per purchase) fitted by maximum "
            "likelihood, then per\ncustomer P(alive), expected purchases and "
            "spend over a horizon, and CLV.\n\n"
            "  --events FILE      CSV with header: customer,item,timestamp"
            "[,weight,price,order]\n"
            "  --columns MAP      column names, e.g. customer=user,"
            "timestamp=date\n"
            "  --catalog FILE     CSV item,category,price: prices of events "
            "without one\n"
            "  --until T          end of the calibration period: unix seconds "
            "or YYYY-MM-DD\n"
            "                     (its day included); default the latest "
            "event\n"
            "  --holdout-until T  compare predictions with the purchase days "
            "in (until, T]\n"
            "  --unit U           day or week (7 days; default)\n"
            "  --horizon N        units to predict over (default 52 weeks "
            "or 364 days)\n"
            "  --discount R       discount rate per unit for CLV (default "
            "0)\n"
            "  --threads N        scoring threads (default: one per "
            "processor)\n"
            "  --out FILE         per-customer table (- for stdout)\n"
            "  --format F         csv or json (default csv)\n"
            "  --summary FILE     the fit as one JSON object (- for stdout; "
            "the default\n"
            "                     when --out is not given)\n"
            "%s"
            "\ncsv columns: customer,x,t_x,T,monetary,p_alive,"
            "expected_purchases,\n  expected_spend,clv[,holdout]\n",
            CLI_LOAD_HELP);
}

static int parse_time(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    if (len == 0 || xs_parse_timestamp(s, len, out))
        return -1;
    if (len == 10 && s[4] == '-' && s[7] == '-')
        *out += 86399; /* a date: its last second */
    return 0;
}

static void num(FILE *f, double v)
{
    if (isfinite(v))
        xs_json_number(f, v);
    else
        fputs("null", f);
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v))
        xs_json_number(f, v);
}

typedef struct out_ctx {
    const xs_clv *c;
    const xs_dict *customers;
    int format;
} out_ctx;

static void write_csv(FILE *f, const out_ctx *o)
{
    const xs_clv *c = o->c;
    fprintf(f, "customer,x,t_x,T,monetary,p_alive,expected_purchases,"
               "expected_spend,clv%s\n", c->has_holdout ? ",holdout" : "");
    for (size_t i = 0; i < c->n; i++) {
        const xs_clv_row *r = &c->rows[i];
        xs_csv_field(f, xs_dict_name(o->customers, r->customer));
        fprintf(f, ",%u,", r->in.x);
        csv_num(f, r->in.t_x);
        fputc(',', f);
        csv_num(f, r->in.T);
        fputc(',', f);
        csv_num(f, r->in.monetary);
        fputc(',', f);
        csv_num(f, r->p_alive);
        fputc(',', f);
        csv_num(f, r->expected);
        fputc(',', f);
        csv_num(f, r->exp_spend);
        fputc(',', f);
        csv_num(f, r->clv);
        if (c->has_holdout)
            fprintf(f, ",%u", r->holdout);
        fputc('\n', f);
    }
}

static void write_json(FILE *f, const out_ctx *o)
{
    const xs_clv *c = o->c;
    fputs("[", f);
    for (size_t i = 0; i < c->n; i++) {
        const xs_clv_row *r = &c->rows[i];
        fputs(i ? ",\n{\"customer\":" : "\n{\"customer\":", f);
        xs_json_string(f, xs_dict_name(o->customers, r->customer));
        fprintf(f, ",\"x\":%u,\"t_x\":", r->in.x);
        num(f, r->in.t_x);
        fputs(",\"T\":", f);
        num(f, r->in.T);
        fputs(",\"monetary\":", f);
        num(f, r->in.monetary);
        fputs(",\"p_alive\":", f);
        num(f, r->p_alive);
        fputs(",\"expected_purchases\":", f);
        num(f, r->expected);
        fputs(",\"expected_spend\":", f);
        num(f, r->exp_spend);
        fputs(",\"clv\":", f);
        num(f, r->clv);
        if (c->has_holdout)
            fprintf(f, ",\"holdout\":%u", r->holdout);
        fputc('}', f);
    }
    fputs("]\n", f);
}

static void write_summary_json(FILE *f, const xs_clv *c)
{
    fprintf(f, "{\"customers\":%zu,\"left_out\":%zu,\"repeat_customers\":%zu,"
               "\"until\":%lld,\"unit_days\":%d,\"horizon\":%d,\"discount\":",
            c->n, c->left_out, c->repeat, (long long)c->until, c->unit_days,
            c->horizon);
    num(f, c->discount);
    fputs(",\"bgnbd\":{\"r\":", f);
    num(f, c->bg.r);
    fputs(",\"alpha\":", f);
    num(f, c->bg.alpha);
    fputs(",\"a\":", f);
    num(f, c->bg.a);
    fputs(",\"b\":", f);
    num(f, c->bg.b);
    fputs(",\"loglik\":", f);
    num(f, c->bg.loglik);
    fprintf(f, ",\"iterations\":%d,\"converged\":%s}", c->bg.iterations,
            c->bg.converged ? "true" : "false");
    fputs(",\"gamma_gamma\":", f);
    if (c->has_gg) {
        fputs("{\"p\":", f);
        num(f, c->gg.p);
        fputs(",\"q\":", f);
        num(f, c->gg.q);
        fputs(",\"v\":", f);
        num(f, c->gg.v);
        fputs(",\"loglik\":", f);
        num(f, c->gg.loglik);
        fprintf(f, ",\"customers\":%zu,\"iterations\":%d,\"converged\":%s",
                c->gg.customers, c->gg.iterations,
                c->gg.converged ? "true" : "false");
        if (c->gg_note[0]) {
            fputs(",\"note\":", f);
            xs_json_string(f, c->gg_note);
        }
        fputc('}', f);
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\"monetary\":%s", c->monetary ? "true" : "false");
    if (!c->monetary)
        fputs(",\"note\":\"no price in the events or the catalog: "
              "Gamma-Gamma skipped, CLV counts purchases\"", f);
    fprintf(f, ",\"nonconverged\":%zu,\"seconds\":{\"summary\":%.3f,"
               "\"bgnbd\":%.3f,\"gamma_gamma\":%.3f,\"score\":%.3f}",
            c->nonconverged, c->seconds[0], c->seconds[1], c->seconds[2],
            c->seconds[3]);
    double clv = 0, exp = 0;
    for (size_t i = 0; i < c->n; i++) {
        clv += c->rows[i].clv;
        exp += c->rows[i].expected;
    }
    fputs(",\"expected_purchases\":", f);
    num(f, exp);
    fputs(",\"clv\":", f);
    num(f, clv);
    if (c->has_holdout) {
        fprintf(f, ",\"holdout\":{\"until\":%lld,\"actual\":",
                (long long)c->holdout_until);
        num(f, c->holdout_actual);
        fputs(",\"predicted\":", f);
        num(f, c->holdout_predicted);
        fputs(",\"by_frequency\":[", f);
        for (int b = 0; b < XS_CLV_HOLDOUT_BINS; b++) {
            fprintf(f, "%s{\"x\":\"%d%s\",\"customers\":%zu,\"actual\":",
                    b ? "," : "", b, b == XS_CLV_HOLDOUT_BINS - 1 ? "+" : "",
                    c->hold_customers[b]);
            num(f, c->hold_actual[b]);
            fputs(",\"predicted\":", f);
            num(f, c->hold_predicted[b]);
            fputc('}', f);
        }
        fputs("]}", f);
    }
    fputs("}\n", f);
}

static void write_human(FILE *f, const xs_clv *c)
{
    fprintf(f, "xsell clv: %zu customers (%zu with repeat purchases), %zu "
               "left out (first purchase after until)\n",
            c->n, c->repeat, c->left_out);
    fprintf(f, "  BG/NBD r=%.6g alpha=%.6g a=%.6g b=%.6g loglik=%.10g (%d "
               "iterations)\n", c->bg.r, c->bg.alpha, c->bg.a, c->bg.b,
            c->bg.loglik, c->bg.iterations);
    if (c->has_gg)
        fprintf(f, "  Gamma-Gamma p=%.6g q=%.6g v=%.6g on %zu customers\n",
                c->gg.p, c->gg.q, c->gg.v, c->gg.customers);
    else
        fprintf(f, "  no price in the events or the catalog: Gamma-Gamma "
                   "skipped, CLV counts purchases\n");
    if (c->gg_note[0])
        fprintf(f, "  note: %s\n", c->gg_note);
    if (c->has_holdout)
        fprintf(f, "  holdout: %.0f purchase days observed, %.2f predicted\n",
                c->holdout_actual, c->holdout_predicted);
    if (c->nonconverged)
        fprintf(f, "  warning: %zu expectations hit 2F1's term limit (a "
                   "bound was used)\n", c->nonconverged);
}

/* Writes with fn to path ("-": stdout), through a temporary renamed over
 * path when complete (cli/atomic_out.h; SIGINT/SIGTERM remove it).
 * CLI_OK or CLI_RUNTIME. */
static int write_file(const char *path, const char *what,
                      void (*fn)(FILE *, const void *), const void *arg)
{
    cli_out o;
    if (cli_out_open(&o, CMD, path))
        return CLI_RUNTIME;
    fn(o.f, arg);
    if (ferror(o.f)) {
        cli_out_abort(&o);
        return cli_fail(CMD, CLI_RUNTIME, "%s: error writing %s", path, what);
    }
    return cli_out_commit(&o, CMD);
}

static void table_fn(FILE *f, const void *arg)
{
    const out_ctx *o = arg;
    if (o->format == CLI_JSON)
        write_json(f, o);
    else
        write_csv(f, o);
}

static void summary_fn(FILE *f, const void *arg)
{
    write_summary_json(f, ((const out_ctx *)arg)->c);
}

int cmd_clv(int argc, char **argv)
{
    enum { O_EVENTS = OPT_FIRST_FREE, O_CATALOG, O_COLUMNS, O_OUT, O_FORMAT,
           O_UNTIL, O_HOLDOUT, O_UNIT, O_HORIZON, O_DISCOUNT, O_SUMMARY,
           O_THREADS };
    static const struct option opts[] = {
        {"events", required_argument, NULL, O_EVENTS},
        {"catalog", required_argument, NULL, O_CATALOG},
        {"columns", required_argument, NULL, O_COLUMNS},
        {"out", required_argument, NULL, O_OUT},
        {"format", required_argument, NULL, O_FORMAT},
        {"until", required_argument, NULL, O_UNTIL},
        {"holdout-until", required_argument, NULL, O_HOLDOUT},
        {"unit", required_argument, NULL, O_UNIT},
        {"horizon", required_argument, NULL, O_HORIZON},
        {"discount", required_argument, NULL, O_DISCOUNT},
        {"summary", required_argument, NULL, O_SUMMARY},
        {"threads", required_argument, NULL, O_THREADS},
        CLI_LOAD_OPTIONS,
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *events = NULL, *catalog = NULL, *columns = NULL, *out = NULL,
               *summary = NULL;
    xs_clv_config cfg = {.unit_days = 7};
    cli_data d = {0}; /* its messy-input options only */
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
        case O_SUMMARY: summary = optarg; break;
        case O_FORMAT:
            if ((format = cli_parse_format(optarg, 1u << CLI_JSON |
                                                       1u << CLI_CSV)) < 0)
                return cli_fail(CMD, CLI_USAGE,
                                "--format: want csv or json, not '%s'",
                                optarg);
            break;
        case O_UNTIL:
            if (parse_time(optarg, &cfg.until))
                return cli_fail(CMD, CLI_USAGE,
                                "--until: want unix seconds or a date "
                                "YYYY-MM-DD, not '%s'", optarg);
            cfg.has_until = 1;
            break;
        case O_HOLDOUT:
            if (parse_time(optarg, &cfg.holdout_until))
                return cli_fail(CMD, CLI_USAGE,
                                "--holdout-until: want unix seconds or a "
                                "date YYYY-MM-DD, not '%s'", optarg);
            cfg.has_holdout = 1;
            break;
        case O_UNIT:
            if (!strcmp(optarg, "day"))
                cfg.unit_days = 1;
            else if (!strcmp(optarg, "week"))
                cfg.unit_days = 7;
            else
                return cli_fail(CMD, CLI_USAGE,
                                "--unit: want day or week, not '%s'", optarg);
            break;
        case O_HORIZON:
            if (cli_parse_long(optarg, 1, 100000, &v))
                return cli_fail(CMD, CLI_USAGE,
                                "--horizon: want an integer in 1..100000, "
                                "not '%s'", optarg);
            cfg.horizon = (int)v;
            break;
        case O_DISCOUNT:
            if (cli_parse_double(optarg, 0, 10, &cfg.discount))
                return cli_fail(CMD, CLI_USAGE,
                                "--discount: want a rate per unit in 0..10, "
                                "not '%s'", optarg);
            break;
        case O_THREADS:
            if (cli_parse_long(optarg, 1, 64, &v))
                return cli_fail(CMD, CLI_USAGE,
                                "--threads: want an integer in 1..64, not "
                                "'%s'", optarg);
            cfg.threads = (int)v;
            break;
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
    if (!out && !summary)
        summary = "-";
    if (out && summary && !strcmp(out, "-") && !strcmp(summary, "-"))
        return cli_fail(CMD, CLI_USAGE, "--out and --summary cannot both be "
                        "stdout");
    if (cfg.has_holdout && cfg.has_until && cfg.holdout_until <= cfg.until)
        return cli_fail(CMD, CLI_USAGE, "--holdout-until must be after "
                        "--until");

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
    xs_clv *res = NULL;
    int status = xs_clv_compute(ds, cat, &cfg, &res, &err);
    int rc = CLI_OK;
    if (status) {
        rc = cli_fail(CMD, cli_exit_code(status), "%s: %s", events, err.msg);
    } else {
        out_ctx o = {res, ds->customers, format};
        if (out)
            rc = write_file(out, "the table", table_fn, &o);
        if (!rc && summary)
            rc = write_file(summary, "the summary", summary_fn, &o);
        if (!rc)
            write_human(stderr, res);
    }
    xs_clv_free(res);
    xs_catalog_free(cat);
    xs_dataset_free(ds);
    xs_columns_free(&cols);
    return rc;
}
