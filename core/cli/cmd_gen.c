/*
 * cmd_gen.c -- `xsell gen`: write a deterministic synthetic store.
 *
 * Owns: the gen subcommand's options and messages.  The store itself is
 * made by xs_gen_write (core/gen.c), which prints nothing; this file parses
 * the options, calls it and reports one summary line on stderr.  Exit codes
 * as in cli.h: 0 ok, 1 runtime error, 2 usage error.
 */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

#define GEN_DEFAULT_CUSTOMERS 1000
#define GEN_DEFAULT_ITEMS 500
#define GEN_DEFAULT_ORDERS 5000
#define GEN_DEFAULT_SEED 42

/* Widest value the option parser accepts for a uint32 field; the library
 * enforces the real limits. */
#if LONG_MAX > 0xffffffff
#define GEN_U32_MAX 0xffffffffL
#else
#define GEN_U32_MAX LONG_MAX
#endif

static void gen_usage(FILE *out)
{
    fprintf(out,
            "usage: xsell gen [--customers N] [--items M] [--orders K]\n"
            "                 [--seed S] [--start UNIX_SECONDS]\n"
            "                 [--views V] [--carts P] [--cold F] --out DIR\n"
            "\n"
            "Writes a deterministic synthetic store: DIR/catalog.csv\n"
            "(item,category,price,margin,in_stock,title) and DIR/events.csv\n"
            "(customer,item,timestamp,weight,price,order), with power-law item\n"
            "popularity, customer category affinities, complementary products\n"
            "bought together, repeat purchases and a year of timestamps.\n"
            "Same options, same bytes.\n"
            "\n"
            "  --customers N   customers (default %d)\n"
            "  --items M       catalog items, 2..10000000 (default %d)\n"
            "  --orders K      orders in all (default %d)\n"
            "  --seed S        random seed (default %d)\n"
            "  --start T       unix seconds of the first day (default\n"
            "                  1735689600, 2025-01-01T00:00:00Z)\n"
            "  --views V       event types: V browsing views per purchase on\n"
            "                  average, besides a view of each item bought\n"
            "                  (adds a type column: purchase, view, cart)\n"
            "  --carts P       share of purchases carted first, 0..1\n"
            "  --cold F        share of cold items, 0..1: picked for an order,\n"
            "                  a cold item is only viewed 4 times in 5\n"
            "                  (few purchases, many views)\n"
            "  --out DIR       output directory, created if missing\n"
            "  --help          this text\n",
            GEN_DEFAULT_CUSTOMERS, GEN_DEFAULT_ITEMS, GEN_DEFAULT_ORDERS,
            GEN_DEFAULT_SEED);
}

/* Reports a usage error followed by the usage text; returns CLI_USAGE. */
static int gen_usage_error(const char *msg, const char *arg)
{
    cli_fail("gen", CLI_USAGE, "%s%s%s", msg, arg ? " " : "", arg ? arg : "");
    gen_usage(stderr);
    return CLI_USAGE;
}

static int gen_option_long(const char *name, const char *val, long lo,
                           long hi, long *out)
{
    if (cli_parse_long(val, lo, hi, out) == 0)
        return 0;
    cli_fail("gen", CLI_USAGE, "--%s: '%s' is not an integer in %ld..%ld",
             name, val, lo, hi);
    gen_usage(stderr);
    return -1;
}

int cmd_gen(int argc, char **argv)
{
    enum { OPT_CUSTOMERS = 256, OPT_ITEMS, OPT_ORDERS, OPT_SEED, OPT_START,
           OPT_OUT, OPT_HELP, OPT_VIEWS, OPT_CARTS, OPT_COLD };
    static const struct option opts[] = {
        {"customers", required_argument, NULL, OPT_CUSTOMERS},
        {"items", required_argument, NULL, OPT_ITEMS},
        {"orders", required_argument, NULL, OPT_ORDERS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"start", required_argument, NULL, OPT_START},
        {"out", required_argument, NULL, OPT_OUT},
        {"views", required_argument, NULL, OPT_VIEWS},
        {"carts", required_argument, NULL, OPT_CARTS},
        {"cold", required_argument, NULL, OPT_COLD},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    long customers = GEN_DEFAULT_CUSTOMERS, items = GEN_DEFAULT_ITEMS;
    long orders = GEN_DEFAULT_ORDERS, seed = GEN_DEFAULT_SEED, start = 0;
    const char *out = NULL;
    double views = 0, carts = 0, cold = 0;

    optind = 1;
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, ":h", opts, NULL);
        if (c == -1)
            break;
        switch (c) {
        case OPT_CUSTOMERS:
            if (gen_option_long("customers", optarg, 0, GEN_U32_MAX, &customers))
                return CLI_USAGE;
            break;
        case OPT_ITEMS:
            if (gen_option_long("items", optarg, 0, GEN_U32_MAX, &items))
                return CLI_USAGE;
            break;
        case OPT_ORDERS:
            if (gen_option_long("orders", optarg, 0, GEN_U32_MAX, &orders))
                return CLI_USAGE;
            break;
        case OPT_SEED:
            if (gen_option_long("seed", optarg, 0, LONG_MAX, &seed))
                return CLI_USAGE;
            break;
        case OPT_START:
            if (gen_option_long("start", optarg, 0, LONG_MAX, &start))
                return CLI_USAGE;
            break;
        case OPT_OUT:
            out = optarg;
            break;
        case OPT_VIEWS:
        case OPT_CARTS:
        case OPT_COLD: {
            double *dst = c == OPT_VIEWS ? &views : c == OPT_CARTS ? &carts
                                                                  : &cold;
            if (cli_parse_double(optarg, 0, c == OPT_VIEWS ? 100 : 1, dst))
                return gen_usage_error(c == OPT_VIEWS ? "--views: want a "
                                                        "number in 0..100, not"
                                                      : "--carts/--cold: want "
                                                        "a number in 0..1, not",
                                       optarg);
            break;
        }
        case OPT_HELP:
        case 'h':
            gen_usage(stdout);
            return CLI_OK;
        case ':':
            return gen_usage_error("missing value for", argv[optind - 1]);
        default: {
            char shortopt[3] = {'-', (char)optopt, '\0'};
            return gen_usage_error("unknown option", optopt > 0 && optopt < 256
                                                         ? shortopt
                                                         : argv[optind - 1]);
        }
        }
    }
    if (optind < argc)
        return gen_usage_error("unexpected argument", argv[optind]);
    if (!out || !*out)
        return gen_usage_error("--out DIR is required", NULL);

    uint64_t lines = 0;
    xs_gen_params p;
    memset(&p, 0, sizeof p);
    p.customers = (uint32_t)customers;
    p.items = (uint32_t)items;
    p.orders = (uint32_t)orders;
    p.seed = (uint64_t)seed;
    p.start = (int64_t)start;
    p.lines_out = &lines;
    p.views = views;
    p.carts = carts;
    p.cold = cold;

    xs_error err;
    memset(&err, 0, sizeof err);
    int rc = xs_gen_write(&p, out, &err);
    if (rc != XS_OK)
        return cli_fail("gen", cli_exit_code(rc), "%s", err.msg);

    const char *sep = out[strlen(out) - 1] == '/' ? "" : "/";
    fprintf(stderr,
            "xsell gen: wrote %s%scatalog.csv (%" PRIu32 " items) and "
            "%s%sevents.csv (%" PRIu64 " lines, %" PRIu32 " orders)\n",
            out, sep, p.items, out, sep, lines, p.orders);
    return CLI_OK;
}
