/*
 * options.c -- what the subcommands share: error reporting, strict option
 * value parsing, output formats and opening an engine on the data options.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

const char *cli_printable(const char *s, char **buf)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0, ctl = 0;
    for (; s[n]; n++)
        ctl += (unsigned char)s[n] < 0x20 || s[n] == 0x7f;
    *buf = NULL;
    if (!ctl)
        return s;
    char *w = malloc(n + 3 * ctl + 1);
    if (!w)
        return "?";
    *buf = w;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            *w++ = '\\';
            *w++ = 'x';
            *w++ = hex[*p >> 4];
            *w++ = hex[*p & 15];
        } else {
            *w++ = (char)*p;
        }
    }
    *w = '\0';
    return *buf;
}

int cli_fail(const char *cmd, int code, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "xsell %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

int cli_exit_code(int status)
{
    return status == XS_OK ? CLI_OK
           : status == XS_ERR_USAGE ? CLI_USAGE
                                    : CLI_RUNTIME;
}

int cli_parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_double(const char *s, double lo, double hi, double *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    double v = strtod(s, &end);
    if (*end || end == s || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_format(const char *s, unsigned allowed)
{
    static const char *const names[] = {"table", "json", "csv"};
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, names[i]) && (allowed & (1u << i)))
            return i;
    return -1;
}

int cli_data_option(cli_data *d, int opt, const char *arg)
{
    switch (opt) {
    case OPT_BASKETS: d->baskets = arg; return 1;
    case OPT_EVENTS: d->events = arg; return 1;
    case OPT_CATALOG: d->catalog = arg; return 1;
    case OPT_COLUMNS: d->columns = arg; return 1;
    case OPT_PLUGIN_DIR: d->plugin_dir = arg; return 1;
    case OPT_SCOPE: d->scope = arg; return 1;
    case OPT_MAX_BASKET: d->max_basket = arg; return 1;
    case OPT_ON_BAD_LINE: d->on_bad_line = arg; return 1;
    case OPT_RETURNS: d->returns = arg; return 1;
    case OPT_ENCODING: d->encoding = arg; return 1;
    case OPT_DATE_FORMAT: d->date_format = arg; return 1;
    default: return 0;
    }
}

/* The index of s in names[0..n), or -1. */
static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

int cli_load_options(const char *cmd, const cli_data *d, xs_load_options *lo,
                     xs_load_report *report)
{
    static const char *const bad[] = {"error", "warn", "skip"};
    static const char *const ret[] = {"error", "subtract", "drop"};
    static const char *const enc[] = {"utf8", "latin1", "utf-8", "latin-1",
                                      "iso-8859-1"};
    int v;
    if (d->on_bad_line) {
        if ((v = pick(d->on_bad_line, bad, 3)) < 0)
            return cli_fail(cmd, CLI_USAGE, "--on-bad-line: want error, warn "
                            "or skip, not '%s'", d->on_bad_line);
        lo->on_bad_line = v ? XS_BAD_LINE_SKIP : XS_BAD_LINE_ERROR;
    }
    if (d->returns) {
        if ((v = pick(d->returns, ret, 3)) < 0)
            return cli_fail(cmd, CLI_USAGE, "--returns: want error, subtract "
                            "or drop, not '%s'", d->returns);
        lo->returns = v == 1 ? XS_RETURNS_SUBTRACT
                      : v == 2 ? XS_RETURNS_DROP
                               : XS_RETURNS_ERROR;
    }
    if (d->encoding) {
        if ((v = pick(d->encoding, enc, 5)) < 0)
            return cli_fail(cmd, CLI_USAGE, "--encoding: want utf8 or latin1, "
                            "not '%s'", d->encoding);
        lo->encoding = v == 0 || v == 2 ? XS_ENCODING_UTF8
                                        : XS_ENCODING_LATIN1;
    }
    if (d->date_format && !*d->date_format)
        return cli_fail(cmd, CLI_USAGE, "--date-format: empty format");
    lo->date_format = d->date_format;
    lo->report = report;
    return CLI_OK;
}

void cli_load_report(const char *cmd, const char *path, const cli_data *d,
                     const xs_load_report *r)
{
    if (r->bad_lines) {
        int warn = d->on_bad_line && !strcmp(d->on_bad_line, "warn");
        for (unsigned i = 0; warn && i < r->n_shown; i++)
            fprintf(stderr, "xsell %s: skipped %s\n", cmd, r->shown[i]);
        fprintf(stderr, "xsell %s: %s: %llu bad line%s skipped%s%s\n", cmd,
                path, (unsigned long long)r->bad_lines,
                r->bad_lines == 1 ? "" : "s",
                warn || !r->n_shown ? "" : "; the first: ",
                warn || !r->n_shown ? "" : r->shown[0]);
    }
    if (r->returns)
        fprintf(stderr, "xsell %s: %s: %llu return%s %s", cmd, path,
                (unsigned long long)r->returns, r->returns == 1 ? "" : "s",
                d->returns && !strcmp(d->returns, "drop") ? "dropped\n"
                                                          : "subtracted");
    if (r->returns && !(d->returns && !strcmp(d->returns, "drop")))
        fprintf(stderr, " (%llu purchase%s removed, %llu return%s beyond the "
                "purchases before %s)\n", (unsigned long long)r->removed,
                r->removed == 1 ? "" : "s",
                (unsigned long long)r->returns_unmatched,
                r->returns_unmatched == 1 ? "" : "s",
                r->returns_unmatched == 1 ? "it" : "them");
}

int cli_events_load(const char *cmd, const cli_data *d, const char *events,
                    const char *columns, const char *catalog,
                    xs_columns *cols, xs_dataset **ds, xs_catalog **cat)
{
    xs_error err = {0};
    *cols = (xs_columns){0};
    *ds = NULL;
    *cat = NULL;
    if (columns && xs_columns_parse(cols, columns, &err)) {
        xs_columns_free(cols);
        return cli_fail(cmd, cli_exit_code(err.code), "%s", err.msg);
    }
    xs_load_options lo = {.threads = 0}; /* one per online processor */
    xs_load_report report;
    int rc = cli_load_options(cmd, d, &lo, &report);
    if (rc) {
        xs_columns_free(cols);
        return rc;
    }
    if (!(*ds = xs_dataset_load_events_opts(events, cols, &lo, &err))) {
        xs_columns_free(cols);
        return cli_fail(cmd, CLI_RUNTIME, "%s", err.msg);
    }
    cli_load_report(cmd, events, d, &report);
    if (catalog && !(*cat = xs_catalog_load(catalog, (*ds)->items, &err))) {
        xs_dataset_free(*ds);
        *ds = NULL;
        xs_columns_free(cols);
        return cli_fail(cmd, CLI_RUNTIME, "%s", err.msg);
    }
    return CLI_OK;
}

int cli_max_basket(const char *cmd, const cli_data *d, uint32_t *out)
{
    long v = 0;
    if (d->max_basket && cli_parse_long(d->max_basket, 1, 100000000, &v))
        return cli_fail(cmd, CLI_USAGE,
                        "--max-basket: want 1..100000000 items, not '%s'",
                        d->max_basket);
    *out = (uint32_t)v;
    return CLI_OK;
}

int cli_engine_config(const char *cmd, const cli_data *d,
                      xs_engine_config *cfg)
{
    *cfg = (xs_engine_config){.plugin_dir = d->plugin_dir, .scope = -1,
                              .blend_threads = d->blend_threads,
                              .asks = d->asks};
    if (cli_max_basket(cmd, d, &cfg->max_basket))
        return CLI_USAGE;
    if (d->scope) {
        if (!strcmp(d->scope, "basket"))
            cfg->scope = XS_SCOPE_BASKET;
        else if (!strcmp(d->scope, "customer"))
            cfg->scope = XS_SCOPE_CUSTOMER;
        else if (strcmp(d->scope, "auto"))
            return cli_fail(cmd, CLI_USAGE,
                            "--scope: want basket, customer or auto, not '%s'",
                            d->scope);
    }
    return CLI_OK;
}

int cli_data_load(const char *cmd, const cli_data *d, xs_dataset **ds_out,
                  xs_catalog **cat_out)
{
    *ds_out = NULL;
    *cat_out = NULL;
    if (d->columns && d->baskets)
        return cli_fail(cmd, CLI_USAGE, "--columns applies to --events only");
    xs_error err = {0};
    xs_dataset *ds;
    xs_load_options lo = {.threads = d->load_threads, .progress = d->progress};
    xs_load_report report;
    int rc = cli_load_options(cmd, d, &lo, &report);
    if (rc)
        return rc;
    if (d->baskets) {
        ds = xs_dataset_load_baskets_opts(d->baskets, &lo, &err);
    } else {
        xs_columns cols = {0};
        if (d->columns && xs_columns_parse(&cols, d->columns, &err)) {
            xs_columns_free(&cols);
            return cli_fail(cmd, cli_exit_code(err.code), "%s", err.msg);
        }
        ds = xs_dataset_load_events_opts(d->events, &cols, &lo, &err);
        xs_columns_free(&cols);
    }
    if (!ds)
        return cli_fail(cmd, CLI_RUNTIME, "%s", err.msg);
    cli_load_report(cmd, d->baskets ? d->baskets : d->events, d, &report);
    xs_catalog *cat = NULL;
    if (d->catalog && !(cat = xs_catalog_load(d->catalog, ds->items, &err))) {
        xs_dataset_free(ds);
        return cli_fail(cmd, CLI_RUNTIME, "%s", err.msg);
    }
    if (cat && xs_catalog_duplicates(cat))
        fprintf(stderr, "xsell %s: %s: %zu repeated items (the last line of "
                "each wins)\n", cmd, d->catalog, xs_catalog_duplicates(cat));
    *ds_out = ds;
    *cat_out = cat;
    return CLI_OK;
}

int cli_engine_open(const char *cmd, const cli_data *d, xs_engine **out)
{
    *out = NULL;
    if (!d->baskets == !d->events)
        return cli_fail(cmd, CLI_USAGE,
                        "give exactly one of --baskets FILE or --events FILE");
    xs_engine_config cfg;
    int rc = cli_engine_config(cmd, d, &cfg);
    if (rc)
        return rc;
    xs_dataset *ds;
    xs_catalog *cat;
    if ((rc = cli_data_load(cmd, d, &ds, &cat)))
        return rc;
    xs_error err = {0};
    xs_engine *e = xs_engine_new(ds, cat, &cfg, &err);
    if (!e)
        return cli_fail(cmd, err.code == XS_ERR_NOTFOUND ? CLI_USAGE
                                                         : CLI_RUNTIME,
                        "%s", err.msg);
    *out = e;
    return CLI_OK;
}
