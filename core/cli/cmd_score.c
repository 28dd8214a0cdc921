/*
 * cmd_score.c -- `xsell score`: the top-k of every customer (or of a list),
 * in parallel, to a CSV or JSON-lines file, optionally one shard of N.
 *
 * The work is xs_score_run's (core/score.c); this file parses options,
 * resolves the --customers list, draws the progress bar (stderr, terminals
 * only) and prints the summary.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/atomic_out.h"
#include "cli/cli.h"
#include "util/stream.h"
#include "xsell/score.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell score --events FILE --out FILE [options]\n\n"
            "Writes the top-k recommendations of every customer of the data "
            "(in order of\nfirst appearance) or of the --customers list, "
            "using all cores.\n\n"
            "  --out FILE          output file ('-': stdout); required\n"
            "  --format F          csv (customer,rank,item,score,plugin; "
            "default) or jsonl\n"
            "                      (one {\"customer\",\"items\":[...]} "
            "per line)\n"
            "  --k N               items per customer, 1..%d (default 10)\n"
            "  --plugin NAME       plugin to ask (default blend): copurchase, "
            "upsell,\n"
            "                      recency, popular, a path to a .so, or blend "
            "(all of --plugins)\n"
            "  --customers FILE    only these customers, one id per line, in "
            "this order;\n"
            "                      unknown ids are counted and skipped; a first "
            "line\n"
            "                      'customer' (a header) is skipped\n"
            "  --threads N         worker threads, also loading the data "
            "(default: every\n"
            "                      online processor)\n"
            "  --shard I/N         only customers whose id hashes to I mod N "
            "(64-bit FNV-1a of\n"
            "                      the id's bytes); 0 <= I < N\n"
            "  --quiet             no progress bar, warnings or summary on "
            "stderr\n\n%s\n%s\n%s",
            XS_K_MAX, CLI_RULES_HELP, CLI_PLUGIN_HELP, CLI_DATA_HELP);
}

/* "I/N" with 0 <= I < N <= 2^20.  Returns 0 or -1. */
static int parse_shard(const char *s, uint32_t *i, uint32_t *n)
{
    char buf[64];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf)
        return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    long a, b;
    if (cli_parse_long(buf, 0, 1L << 20, &a) ||
        cli_parse_long(slash + 1, 1, 1L << 20, &b) || a >= b ||
        buf[0] == '+' || buf[0] == ' ' || slash[1] == '+' || slash[1] == ' ')
        return -1;
    *i = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Progress bar: redrawn at most 10 times a second, and once at the end. */
typedef struct progress {
    double start, last;
    int drawn;
} progress;

static void progress_draw(void *arg, uint64_t done, uint64_t total)
{
    progress *p = arg;
    double t = now_s();
    if (done < total && t - p->last < 0.1)
        return;
    p->last = t;
    p->drawn = 1;
    double el = t - p->start, rate = el > 0 ? (double)done / el : 0;
    long eta = rate > 0 ? (long)((double)(total - done) / rate + 0.5) : 0;
    fprintf(stderr, "\rxsell score: %llu/%llu (%5.1f%%)  %.0f customers/s  "
            "ETA %ld:%02ld:%02ld ", (unsigned long long)done,
            (unsigned long long)total,
            total ? 100.0 * (double)done / (double)total : 100.0, rate,
            eta / 3600, eta / 60 % 60, eta % 60);
    fflush(stderr);
}

/* Reads the --customers file: one id per line (CRLF, a UTF-8 BOM, blank
 * lines and one RFC 4180 quoted field per line accepted; a first line
 * "customer" that names no customer is a header, skipped).  Known ids go to
 * *ids in file order; unknown ones in this shard are counted and the first
 * few reported.  Returns CLI_OK or an exit code after printing. */
static int read_customers(const char *path, const xs_engine *e, int quiet,
                          uint32_t shard, uint32_t n_shards, uint32_t **ids,
                          size_t *n_ids, uint64_t *unknown)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_fail("score", CLI_RUNTIME, "%s: %s", path, strerror(errno));
    size_t len;
    char *text = xs_read_stream(f, &len);
    int bad = ferror(f);
    fclose(f);
    if (!text || bad) {
        free(text);
        return cli_fail("score", CLI_RUNTIME, "%s: cannot read", path);
    }
    text[len] = '\0';
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    uint32_t *out = malloc(lines * sizeof *out);
    if (!out) {
        free(text);
        return cli_fail("score", CLI_RUNTIME, "out of memory");
    }
    const xs_dict *names = xs_engine_dataset(e)->customers;
    char *s = text;
    if (len >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        s += 3;
    size_t n = 0, line = 0;
    uint64_t n_unknown = 0;
    for (char *next; s && *s; s = next) {
        line++;
        next = strchr(s, '\n');
        char *end = next ? next : s + strlen(s);
        if (next)
            next++;
        if (end > s && end[-1] == '\r')
            end--;
        size_t l = (size_t)(end - s);
        if (l >= 2 && s[0] == '"' && s[l - 1] == '"') { /* "a ""b"", c" */
            char *w = s;
            for (char *r = s + 1; r < end - 1; r++) {
                *w++ = *r;
                if (*r == '"' && r[1] == '"')
                    r++;
            }
            l = (size_t)(w - s);
        }
        if (l == 0)
            continue;
        uint32_t id = xs_dict_find(names, s, l);
        if (id != XS_NONE) {
            out[n++] = id;
            continue;
        }
        if (line == 1 && l == 8 && !memcmp(s, "customer", 8))
            continue; /* a header: score's own customer column fed back */
        if (n_shards > 1 && xs_score_shard_hash(s, l) % n_shards != shard)
            continue;
        if (n_unknown++ < 5 && !quiet)
            fprintf(stderr, "xsell score: %s:%zu: unknown customer '%.*s'; "
                    "skipped\n", path, line, (int)(l > 200 ? 200 : l), s);
    }
    free(text);
    *ids = out;
    *n_ids = n;
    *unknown = n_unknown;
    return CLI_OK;
}

int cmd_score(int argc, char **argv)
{
    enum { O_K = OPT_FIRST_FREE, O_PLUGIN, O_CUSTOMERS, O_THREADS, O_SHARD,
           O_QUIET, O_OUT, O_FORMAT };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        CLI_PLUGIN_OPTIONS,
        CLI_RULES_OPTIONS,
        {"k", required_argument, NULL, O_K},
        {"plugin", required_argument, NULL, O_PLUGIN},
        {"customers", required_argument, NULL, O_CUSTOMERS},
        {"threads", required_argument, NULL, O_THREADS},
        {"shard", required_argument, NULL, O_SHARD},
        {"quiet", no_argument, NULL, O_QUIET},
        {"out", required_argument, NULL, O_OUT},
        {"format", required_argument, NULL, O_FORMAT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    cli_plugins pl = {0};
    cli_rules rules; /* --filter, --boost, --now */
    memset(&rules, 0, sizeof rules);
    const char *plugin = "blend", *customers = NULL, *out_path = NULL;
    long k = 10, threads = 0;
    uint32_t shard = 0, n_shards = 1;
    int quiet = 0, format = XS_SCORE_CSV, c, taken, rc = CLI_USAGE;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_data_option(&d, c, optarg))
            continue;
        if ((taken = cli_plugins_option(&pl, "score", c, optarg)) < 0 ||
            (!taken &&
             (taken = cli_rules_option(&rules, "score", c, optarg)) < 0))
            goto out;
        if (taken)
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            rc = CLI_OK;
            goto out;
        case O_PLUGIN: plugin = optarg; break;
        case O_CUSTOMERS: customers = optarg; break;
        case O_QUIET: quiet = 1; break;
        case O_OUT: out_path = optarg; break;
        case O_K:
            if (cli_parse_long(optarg, 1, XS_K_MAX, &k)) {
                cli_fail("score", CLI_USAGE, "--k: want an integer in 1..%d, "
                         "not '%s'", XS_K_MAX, optarg);
                goto out;
            }
            break;
        case O_THREADS:
            if (cli_parse_long(optarg, 1, 1024, &threads)) {
                cli_fail("score", CLI_USAGE, "--threads: want an integer in "
                         "1..1024, not '%s'", optarg);
                goto out;
            }
            break;
        case O_SHARD:
            if (parse_shard(optarg, &shard, &n_shards)) {
                cli_fail("score", CLI_USAGE, "--shard: want I/N with 0 <= I "
                         "< N, not '%s'", optarg);
                goto out;
            }
            break;
        case O_FORMAT:
            if (!strcmp(optarg, "csv"))
                format = XS_SCORE_CSV;
            else if (!strcmp(optarg, "jsonl"))
                format = XS_SCORE_JSONL;
            else {
                cli_fail("score", CLI_USAGE, "--format: want csv or jsonl, "
                         "not '%s'", optarg);
                goto out;
            }
            break;
        default:
            cli_fail("score", CLI_USAGE, "bad option '%s' (see --help)",
                     argv[optind - 1]);
            goto out;
        }
    }
    if (optind < argc) {
        cli_fail("score", CLI_USAGE, "unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!out_path) {
        cli_fail("score", CLI_USAGE, "--out FILE is required (see --help)");
        goto out;
    }
    if (d.baskets) {
        cli_fail("score", CLI_USAGE, "score needs customers: give --events, "
                 "not --baskets");
        goto out;
    }
    int blend = !strcmp(plugin, "blend");
    double t0 = now_s();
    xs_engine *e = NULL;
    uint32_t *ids = NULL;
    size_t n_ids = 0;
    uint64_t unknown = 0;
    FILE *f = NULL;
    cli_out out = {0};
    d.asks = XS_ASK_CUSTOMER; /* customers only: nothing built for baskets */
    d.load_threads = (int)threads;
    if ((rc = cli_engine_open("score", &d, &e)) ||
        (rc = cli_plugins_load(&pl, "score", &d, e, blend ? NULL : plugin,
                               NULL)) ||
        (rc = cli_rules_from_config(&rules, &pl, "score")))
        goto done;
    const char *ask = NULL;
    if ((rc = cli_plugin_target("score", &pl, e, plugin, &ask)))
        goto done;
    if (!xs_engine_dataset(e)->has_customer) {
        rc = cli_fail("score", CLI_RUNTIME, "%s: the data names no customers",
                      d.events);
        goto done;
    }
    if (customers && (rc = read_customers(customers, e, quiet, shard,
                                          n_shards, &ids, &n_ids, &unknown)))
        goto done;
    if ((rc = cli_out_open(&out, "score", out_path)))
        goto done;
    f = out.f;
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    double t1 = now_s();
    progress prog = {t1, 0, 0};
    xs_filter rule_filter = {.exclude_owned = -1};
    cli_rules_apply(&rules, &rule_filter);
    xs_score_config cfg = {
        .plugin = ask,
        .k = (uint32_t)k,
        .threads = (int)threads,
        .format = format,
        .header = 1,
        .exclude_owned = -1,
        .rules = &rule_filter,
        .customers = customers ? ids : NULL,
        .n_customers = n_ids,
        .shard = shard,
        .n_shards = n_shards,
        .write = xs_score_write_file,
        .write_arg = f,
        .progress = !quiet && isatty(2) ? progress_draw : NULL,
        .progress_arg = &prog,
    };
    xs_score_stats st;
    xs_error err = {0};
    int src = xs_score_run(e, &cfg, &st, &err);
    if (prog.drawn)
        fputc('\n', stderr);
    f = NULL;
    if (src) {
        cli_out_abort(&out); /* never leave a partial file */
        rc = cli_fail("score", cli_exit_code(src), "%s", err.msg);
        goto done;
    }
    if ((rc = cli_out_commit(&out, "score")))
        goto done;
    double t2 = now_s(), secs = t2 - t1;
    if (!quiet) {
        fprintf(stderr, "xsell score: %llu customers scored (%llu with no "
                "recommendation), %llu unknown, %llu in other shards; "
                "load %.2f s, scoring %.2f s, %.0f customers/s\n",
                (unsigned long long)st.scored, (unsigned long long)st.empty,
                (unsigned long long)unknown,
                (unsigned long long)st.other_shard, t1 - t0, secs,
                secs > 0 ? (double)st.scored / secs : 0.0);
        if (unknown > 5)
            fprintf(stderr, "xsell score: %s: %llu unknown customers in all "
                    "(the first 5 shown)\n", customers,
                    (unsigned long long)unknown);
    }
    rc = CLI_OK;
done:
    cli_out_abort(&out);
    free(ids);
    xs_engine_free(e);
out:
    cli_plugins_free(&pl);
    return rc;
}
