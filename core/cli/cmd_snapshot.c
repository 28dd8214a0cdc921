/*
 * cmd_snapshot.c -- `xsell snapshot DIR`: what a data dir holds, read
 * without locking it (a running server may own it): the snapshot's HEAD
 * and a walk over the log's records.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

static void help(FILE *f)
{
    fprintf(f, "usage: xsell snapshot DIR\n\n"
               "Prints what the data dir DIR of `xsell serve --data-dir` "
               "holds: the snapshot\n(events, items, customers, the last "
               "log sequence number it holds) and the\nwrite-ahead log "
               "(records, their sequence numbers, damage if any).\n");
}

int cmd_snapshot(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        help(stdout);
        return CLI_OK;
    }
    if (argc != 2) {
        help(stderr);
        return CLI_USAGE;
    }
    xs_datadir_report r;
    xs_error err = {0};
    if (xs_datadir_inspect(argv[1], &r, &err))
        return cli_fail("snapshot", cli_exit_code(err.code), "%s", err.msg);
    printf("data dir %s\n", argv[1]);
    if (r.has_snapshot) {
        char when[32] = "?";
        time_t t = (time_t)r.image.written;
        struct tm tm;
        if (gmtime_r(&t, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        printf("snapshot: %.1f MB, written %s, holds the log to seq %" PRIu64
               "\n  events %" PRIu64 " (%" PRIu64 " ingested), items %u, "
               "customers %u, orders %u, catalog items %u\n"
               "  pairs: basket %" PRIu64 ", customer %" PRIu64 "\n",
               r.image.bytes / 1e6, when, r.image.seq, r.image.events,
               r.image.ingested, r.image.items, r.image.customers,
               r.image.orders, r.image.catalog_items, r.image.pairs[0],
               r.image.pairs[1]);
    } else {
        printf("snapshot: none\n");
    }
    if (r.log_records)
        printf("log: %" PRIu64 " records (seq %" PRIu64 "..%" PRIu64
               "), %" PRIu64 " bytes\n", r.log_records, r.log_first_seq,
               r.log_last_seq, r.log_bytes);
    else
        printf("log: empty (%" PRIu64 " bytes)\n", r.log_bytes);
    if (r.log_damage_at != UINT64_MAX)
        printf("log: damaged or torn from offset %" PRIu64 " (a start cuts "
               "a torn tail; damage before the end needs --recover)\n",
               r.log_damage_at);
    return CLI_OK;
}
