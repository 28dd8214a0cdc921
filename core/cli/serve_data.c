/*
 * serve_data.c -- `xsell serve --data-dir`: where the engine comes from
 * when the server keeps its data on disk (xsell/datadir.h), and the hooks
 * that tie the server's writes and `save` op to the data dir.
 *
 * First start (no snapshot in DIR): the CSV files are loaded as without a
 * data dir and saved at once as DIR's first snapshot.  Later starts load
 * the snapshot (the CSV options are then ignored, and the start-up line
 * says so) and replay the log on top, before any plugin is loaded, so the
 * plugins prepare once from the whole data.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

int cli_parse_save_every(const char *arg, xs_datadir_config *cfg)
{
    char *end;
    double v = strtod(arg, &end);
    if (end == arg || v <= 0 || v > 1e15)
        return -1;
    double unit = 0;
    if (!*end)
        unit = -1; /* events */
    else if (!strcmp(end, "s"))
        unit = 1;
    else if (!strcmp(end, "m"))
        unit = 60;
    else if (!strcmp(end, "h"))
        unit = 3600;
    else
        return -1;
    if (unit < 0)
        cfg->save_every_events = (uint64_t)v;
    else
        cfg->save_every_seconds = v * unit;
    return 0;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

int cli_serve_open(const cli_data *d, const xs_datadir_config *dcfg,
                   xs_engine **out, xs_datadir **dd_out)
{
    *out = NULL;
    *dd_out = NULL;
    xs_error err = {0};
    xs_datadir *dd;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (xs_datadir_open(dcfg, &dd, &err))
        return cli_fail("serve", CLI_RUNTIME, "%s", err.msg);
    xs_engine *e = NULL;
    int rc;
    if (xs_datadir_has_snapshot(dd)) {
        xs_engine_config cfg;
        if ((rc = cli_engine_config("serve", d, &cfg)))
            goto fail;
        if (d->baskets || d->events || d->catalog)
            fprintf(stderr, "xsell serve: data dir %s holds a snapshot: "
                    "--baskets, --events and --catalog are not read\n",
                    dcfg->dir);
        if (!(e = xs_datadir_load(dd, &cfg, &err))) {
            rc = cli_fail("serve", cli_exit_code(err.code), "%s", err.msg);
            goto fail;
        }
        xs_engine_info info;
        xs_engine_info_get(e, &info);
        fprintf(stderr, "xsell serve: data dir %s: snapshot of %llu events "
                "loaded in %.2f s\n", dcfg->dir,
                (unsigned long long)info.events, seconds_since(&t0));
    } else {
        if (!d->baskets && !d->events) {
            rc = cli_fail("serve", CLI_USAGE, "data dir %s is empty: give "
                          "--baskets FILE or --events FILE to seed it",
                          dcfg->dir);
            goto fail;
        }
        if ((rc = cli_engine_open("serve", d, &e)))
            goto fail;
        if (xs_datadir_seed(dd, e, &err)) {
            rc = cli_fail("serve", CLI_RUNTIME, "%s", err.msg);
            goto fail;
        }
        fprintf(stderr, "xsell serve: data dir %s seeded from %s in %.2f s\n",
                dcfg->dir, d->events ? d->events : d->baskets,
                seconds_since(&t0));
    }
    if (xs_datadir_attach(dd, e, &err)) {
        rc = cli_fail("serve", cli_exit_code(err.code), "%s", err.msg);
        goto fail;
    }
    *out = e;
    *dd_out = dd;
    return CLI_OK;
fail:
    xs_datadir_close(dd);
    xs_engine_free(e);
    return rc;
}

int cli_serve_commit(void *arg, xs_error *err)
{
    return xs_datadir_commit(arg, err);
}

int cli_serve_save(void *arg, xs_image_info *info, xs_error *err)
{
    return xs_datadir_save(arg, info, err);
}
