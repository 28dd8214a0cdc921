/*
 * cli.h -- the xsell command's subcommands and the options they share.
 *
 * Every subcommand is `int cmd_NAME(int argc, char **argv)` with argv[0] the
 * subcommand name, returning the process exit code: 0 ok, 1 runtime error,
 * 2 usage error.  Errors go to stderr as "xsell NAME: message".
 */
#ifndef XSELL_CLI_H
#define XSELL_CLI_H

#include <stdio.h>

#include "xsell/xsell.h"

enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2 };

int cmd_rules(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_plugins(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_query(int argc, char **argv);

/* Data options shared by every command that reads purchase data. */
typedef struct cli_data {
    const char *baskets;
    const char *events;
    const char *catalog;
    const char *columns;
    const char *plugin_dir;
    const char *scope; /* "basket", "customer" or NULL (auto) */
} cli_data;

/* getopt_long codes and table entries of the data options, and the handler
 * that stores them: returns 1 when opt was a data option. */
enum { OPT_BASKETS = 1000, OPT_EVENTS, OPT_CATALOG, OPT_COLUMNS,
       OPT_PLUGIN_DIR, OPT_SCOPE, OPT_FIRST_FREE };
#define CLI_DATA_OPTIONS                                                      \
    {"baskets", required_argument, NULL, OPT_BASKETS},                        \
        {"events", required_argument, NULL, OPT_EVENTS},                      \
        {"catalog", required_argument, NULL, OPT_CATALOG},                    \
        {"columns", required_argument, NULL, OPT_COLUMNS},                    \
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},              \
        {"scope", required_argument, NULL, OPT_SCOPE}
#define CLI_DATA_HELP                                                          \
    "data:\n"                                                                  \
    "  --baskets FILE     one basket per line, items comma separated\n"        \
    "  --events FILE      CSV with header: customer,item[,timestamp,weight,"   \
    "price,order]\n"                                                           \
    "  --columns MAP      column names, e.g. customer=userId,item=movieId\n"   \
    "  --catalog FILE     CSV item,category,price[,margin,in_stock,title]\n"   \
    "  --scope S          co-occurrence scope: basket, customer or auto "      \
    "(default: basket when orders are known)\n"                                \
    "  --plugin-dir DIR   look for plugins here first\n"
int cli_data_option(cli_data *d, int opt, const char *arg);

/* Loads the data named by d into a new engine.  Returns CLI_OK with *out set,
 * or an exit code after printing the error prefixed by cmd. */
int cli_engine_open(const char *cmd, const cli_data *d, xs_engine **out);

/* Reports an error as "xsell CMD: message" on stderr and returns code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...) XS_PRINTF(3, 4);

/* Exit code for a library status: usage errors 2, everything else 1. */
int cli_exit_code(int status);

/* Strict number parsing for option values: the whole string must be a
 * number in [lo, hi].  Return 0 or -1. */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* Plugin options from --plugin-opt PLUGIN.KEY=VALUE (and the shorthands a
 * command maps onto one plugin, stored with plugin NULL).  Strings point
 * into argv, which the parser splits in place. */
#define CLI_MAX_PLUGIN_OPTS 64
typedef struct cli_plugin_opts {
    const char *plugin[CLI_MAX_PLUGIN_OPTS]; /* NULL: the command's plugin */
    xs_option opt[CLI_MAX_PLUGIN_OPTS];
    size_t n;
} cli_plugin_opts;

/* cli_plugin_opt_add takes a "PLUGIN.KEY=VALUE" spec (split in place);
 * cli_plugin_opt_set a shorthand's KEY and VALUE for the command's plugin.
 * Both return 0, or print a usage error for cmd and return CLI_USAGE. */
int cli_plugin_opt_add(cli_plugin_opts *o, const char *cmd, char *spec);
int cli_plugin_opt_set(cli_plugin_opts *o, const char *cmd, const char *key,
                       const char *value);
/* The options for plugin name (its own, plus the unnamed ones when
 * with_unnamed), copied to out; returns their number. */
size_t cli_plugin_opts_for(const cli_plugin_opts *o, const char *name,
                           int with_unnamed, xs_option *out);

/* Output formats. */
enum cli_format { CLI_TABLE = 0, CLI_JSON, CLI_CSV };
/* Parses "table|json|csv" restricted to the formats in `allowed` (a bitmask
 * of 1 << CLI_*).  Returns the format or -1. */
int cli_parse_format(const char *s, unsigned allowed);

#endif
