/*
 * main.c -- the xsell command: dispatches to a subcommand.
 *
 * Exit codes (contract): 0 ok, 1 runtime error, 2 usage error.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static int cmd_version(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: xsell version\n\nPrints the version of xsell and "
               "of its plugin ABI.\n");
        return CLI_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "xsell version: unexpected argument '%s'\n", argv[1]);
        return CLI_USAGE;
    }
    printf("xsell %s (plugin ABI %d)\n", XSELL_VERSION, XS_PLUGIN_ABI);
    return CLI_OK;
}

static const command commands[] = {
    {"recommend", cmd_recommend, "recommend items for a basket"},
    {"rules", cmd_rules, "print pairwise association rules (as arules)"},
    {"serve", cmd_serve, "serve recommendations over ZeroMQ + msgpack"},
    {"query", cmd_query, "send one request to a server, print the reply"},
    {"plugins", cmd_plugins, "list the plugins xsell can load"},
    {"eval", cmd_eval, "evaluate a plugin offline: split, recommend, score"},
    {"score", cmd_score, "top-k of every customer to a file, in parallel"},
    {"segment", cmd_segment, "RFM scores and customer segments, with a report"},
    {"clv", cmd_clv, "customer lifetime value and churn risk (BG/NBD)"},
    {"gen", cmd_gen, "write a synthetic store (catalog and events)"},
    {"snapshot", cmd_snapshot, "show what a server's data dir holds"},
    {"keygen", cmd_keygen, "make a CURVE key pair for a server or client"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: xsell COMMAND [OPTIONS]   (xsell COMMAND --help for "
               "details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\ndata options shared by commands that read purchases:\n"
               "  --baskets FILE   one basket per line, items comma separated\n"
               "  --events FILE    CSV with header: customer,item and optional "
               "timestamp,weight,price,order\n"
               "  --columns MAP    rename columns, e.g. "
               "customer=userId,item=movieId,weight=rating\n"
               "  --catalog FILE   CSV item,category,price and optional "
               "margin,in_stock,title\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--help") || !strcmp(name, "-h") ||
        !strcmp(name, "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(name, "--version"))
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(name, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "xsell: unknown command '%s'\n\n", name);
    usage(stderr);
    return CLI_USAGE;
}
