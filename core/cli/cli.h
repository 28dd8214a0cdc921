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
int cmd_snapshot(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_segment(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_clv(int argc, char **argv);

/* Data options shared by every command that reads purchase data. */
typedef struct cli_data {
    const char *baskets;
    const char *events;
    const char *catalog;
    const char *columns;
    const char *plugin_dir;
    const char *scope; /* "basket", "customer" or NULL (auto) */
    const char *max_basket; /* --max-basket, NULL: the default */
    int blend_threads; /* see xs_engine_config; set by serve */
    unsigned asks;     /* see xs_engine_config; 0: all requests */
    const xs_progress *progress; /* for the data file's loader; set by serve */
    int load_threads; /* the data file's loader (xs_load_options); 0: one
                         per online processor; serve and score set theirs */
    /* messy input (cli_load_options): NULL, the defaults */
    const char *on_bad_line; /* error, warn or skip */
    const char *returns;     /* error, subtract or drop */
    const char *encoding;    /* utf8 or latin1 */
    const char *date_format; /* strptime format of the timestamp column */
} cli_data;

/* getopt_long codes and table entries of the data options, and the handler
 * that stores them: returns 1 when opt was a data option. */
enum { OPT_BASKETS = 1000, OPT_EVENTS, OPT_CATALOG, OPT_COLUMNS,
       OPT_PLUGIN_DIR, OPT_SCOPE, OPT_MAX_BASKET, OPT_ON_BAD_LINE,
       OPT_RETURNS, OPT_ENCODING, OPT_DATE_FORMAT, OPT_FIRST_FREE };
/* The messy-input options, also taken by commands with data options of
 * their own (segment). */
#define CLI_LOAD_OPTIONS                                                      \
    {"on-bad-line", required_argument, NULL, OPT_ON_BAD_LINE},                \
        {"returns", required_argument, NULL, OPT_RETURNS},                    \
        {"encoding", required_argument, NULL, OPT_ENCODING},                  \
        {"date-format", required_argument, NULL, OPT_DATE_FORMAT}
#define CLI_LOAD_HELP                                                          \
    "  --on-bad-line M    error (default), warn or skip: a line that does "    \
    "not parse\n"                                                              \
    "                     stops the load, or is skipped and counted (warn "    \
    "names the\n"                                                              \
    "                     first 5 as file:line)\n"                             \
    "  --returns M        negative weight (quantity) lines: error (default), " \
    "drop, or\n"                                                               \
    "                     subtract from the customer's earlier purchases of " \
    "the item\n"                                                               \
    "  --encoding E       utf8 (default: other bytes are an error) or latin1 " \
    "(transcoded)\n"                                                           \
    "  --date-format FMT  strptime format of the timestamp column, e.g. "      \
    "'%m/%d/%Y %H:%M'\n"
#define CLI_DATA_OPTIONS                                                      \
    CLI_LOAD_OPTIONS,                                                         \
    {"baskets", required_argument, NULL, OPT_BASKETS},                        \
        {"events", required_argument, NULL, OPT_EVENTS},                      \
        {"catalog", required_argument, NULL, OPT_CATALOG},                    \
        {"columns", required_argument, NULL, OPT_COLUMNS},                    \
        {"plugin-dir", required_argument, NULL, OPT_PLUGIN_DIR},              \
        {"scope", required_argument, NULL, OPT_SCOPE},                        \
        {"max-basket", required_argument, NULL, OPT_MAX_BASKET}
#define CLI_DATA_HELP                                                          \
    "data:\n"                                                                  \
    "  --baskets FILE     one basket per line, items comma separated\n"        \
    "  --events FILE      CSV with header: customer,item[,timestamp,weight,"   \
    "price,order,type]\n"                                                      \
    "  --columns MAP      column names, e.g. customer=userId,item=movieId\n"   \
    "  --catalog FILE     CSV item,category,price[,margin,in_stock,title]\n"   \
    "  --scope S          co-occurrence scope: basket, customer or auto "      \
    "(default: basket when orders are known)\n"                                \
    "  --max-basket N     items of one order (or customer) that pair "         \
    "(default 1000):\n"                                                        \
    "                     a customer's first N distinct items pair, an "       \
    "order's too, and\n"                                                       \
    "                     `serve` refuses an ingest taking an order past N\n"  \
    "  --plugin-dir DIR   look for plugins here first\n"                      \
    CLI_LOAD_HELP
int cli_data_option(cli_data *d, int opt, const char *arg);
/* The loader options d's messy-input strings ask for (report: where the
 * loader says what it skipped).  CLI_OK, or CLI_USAGE after printing. */
int cli_load_options(const char *cmd, const cli_data *d, xs_load_options *lo,
                     xs_load_report *report);
/* Tells stderr what the load of path skipped or changed (bad lines, with
 * the first ones named for --on-bad-line warn; returns). */
void cli_load_report(const char *cmd, const char *path, const cli_data *d,
                     const xs_load_report *report);
/* An events file (with --columns and d's messy-input options, the load
 * reported on stderr) and, when catalog is not NULL, its catalog, for the
 * commands with data options of their own (segment, clv): CLI_OK with
 * *cols, *ds and *cat (NULL without catalog) owned by the caller, or an exit
 * code after printing, nothing left to free. */
int cli_events_load(const char *cmd, const cli_data *d, const char *events,
                    const char *columns, const char *catalog,
                    xs_columns *cols, xs_dataset **ds, xs_catalog **cat);
/* --max-basket as a number (0 when not given: the engine's default);
 * CLI_OK or CLI_USAGE after printing. */
int cli_max_basket(const char *cmd, const cli_data *d, uint32_t *out);

/* The dataset and catalog d names (no engine): CLI_OK with *ds (and *cat,
 * NULL without --catalog) owned by the caller, or an exit code, the error
 * reported.  --columns with --baskets is a usage error. */
int cli_data_load(const char *cmd, const cli_data *d, xs_dataset **ds,
                  xs_catalog **cat);
/* Loads the data named by d into a new engine.  Returns CLI_OK with *out set,
 * or an exit code after printing the error prefixed by cmd. */
int cli_engine_open(const char *cmd, const cli_data *d, xs_engine **out);
/* `xsell serve --data-dir` (serve_data.c): the engine from the data dir
 * (or the CSV files seeding it), the log replayed and attached; and the
 * server's hooks over the data dir. */
int cli_serve_open(const cli_data *d, const xs_datadir_config *dcfg,
                   xs_engine **e, xs_datadir **dd);
int cli_parse_save_every(const char *arg, xs_datadir_config *cfg);
int cli_serve_commit(void *arg, xs_error *err);

/* serve_security.c: the server's keys (CLI or config file) and protected
 * mode.  Fills cfg's curve_secret (pointing at secret), clients_dir and
 * insecure; CLI_OK or an exit code after printing why. */
typedef struct cli_serve_keys {
    const char *curve_key, *clients;
    int insecure;
} cli_serve_keys;
int cli_serve_security(const cli_serve_keys *k, xs_server_config *cfg,
                       char secret[41]);
/* 1 for loopback TCP, ipc:// and inproc:// endpoints. */
int cli_endpoint_is_local(const char *endpoint);
int cli_serve_save(void *arg, xs_image_info *info, xs_error *err);

/* The engine configuration d asks for (--scope, --plugin-dir, ...). */
int cli_engine_config(const char *cmd, const cli_data *d,
                      xs_engine_config *cfg);

/* Reports an error as "xsell CMD: message" on stderr and returns code. */
int cli_fail(const char *cmd, int code, const char *fmt, ...) XS_PRINTF(3, 4);

/* Client data for a terminal table: s itself when it holds no control
 * byte, else a copy in *buf (the caller frees it) with each C0 byte and DEL
 * shown as \xNN, so an id or title cannot move the cursor, recolour or
 * retitle the terminal; "?" when out of memory.  JSON and CSV output carry
 * the bytes as given instead (xsell/json.h). */
const char *cli_printable(const char *s, char **buf);

/* Exit code for a library status: usage errors 2, everything else 1. */
int cli_exit_code(int status);

/* Strict number parsing for option values: the whole string must be a
 * number in [lo, hi].  Return 0 or -1. */
int cli_parse_long(const char *s, long lo, long hi, long *out);
int cli_parse_double(const char *s, double lo, double hi, double *out);

/* Plugins, their options and the engine's rules (plugin_setup.c).
 *
 * Options come from --plugin-opt PLUGIN.KEY=VALUE, --set KEY=VALUE (an
 * engine setting: exclude_owned, rebuy, fill, weight.PLUGIN), a command's
 * shorthands (--measure: stored with plugin NULL, for the command's plugin)
 * and --config FILE, whose lines are `PLUGIN.KEY = VALUE`,
 * `engine.KEY = VALUE` or `plugins = a,b,...`, with # comments.  The file
 * is read first, so the command line wins.  Strings point into argv or the
 * file's text, owned here. */
#define CLI_MAX_PLUGIN_OPTS 64
#define CLI_MAX_PLUGINS 16
typedef struct cli_plugins {
    const char *list;   /* --plugins, or the file's `plugins` */
    const char *config; /* --config FILE */
    const char *plugin[CLI_MAX_PLUGIN_OPTS]; /* NULL: the command's plugin;
                                                "engine": a setting */
    xs_option opt[CLI_MAX_PLUGIN_OPTS];
    unsigned from_file[CLI_MAX_PLUGIN_OPTS]; /* line in the file, 0: not */
    size_t n;
    char *text; /* the config file, split in place */
    int list_from_cli;
    const char *curve_key, *clients; /* the file's serve.curve_key and
                                        serve.clients (serve's --curve-key
                                        and --clients win) */
} cli_plugins;

/* Reads --config now if given and not read yet (serve needs its keys
 * before it binds).  CLI_OK or an exit code after printing the error. */
int cli_config_read(cli_plugins *p, const char *cmd);

enum { OPT_PLUGINS = 1100, OPT_PLUGIN_OPT, OPT_CONFIG, OPT_SET,
       OPT_EVENT_WEIGHTS };
#define CLI_PLUGIN_OPTIONS                                                    \
    {"plugins", required_argument, NULL, OPT_PLUGINS},                        \
        {"plugin-opt", required_argument, NULL, OPT_PLUGIN_OPT},              \
        {"config", required_argument, NULL, OPT_CONFIG},                      \
        {"set", required_argument, NULL, OPT_SET},                            \
        {"event-weights", required_argument, NULL, OPT_EVENT_WEIGHTS}
#define CLI_PLUGIN_HELP                                                        \
    "plugins and rules:\n"                                                     \
    "  --plugins a,b,...  plugins to load (default copurchase,recency,popular "\
    "and,\n"                                                                   \
    "                     with --catalog, upsell); names or paths to .so "     \
    "files\n"                                                                  \
    "  --plugin-opt P.K=V option K=V for plugin P (repeatable)\n"              \
    "  --set KEY=VALUE    engine rule: exclude_owned=true|false, "             \
    "rebuy=cat1,cat2,\n"                                                       \
    "                     fill=PLUGIN|none, weight.PLUGIN=W, "                 \
    "weight.PLUGIN.customer=W\n"                                              \
    "                     (W for requests with a customer and no items; "      \
    "repeatable)\n"                                                           \
    "  --event-weights T=W,...  weights of event types (a `type` column):\n"    \
    "                     view=0.2,cart=0.5,purchase=1 (= --set "             \
    "event_weights=...;\n"                                                     \
    "                     default purchase=1, other types 0: unused)\n"       \
    "  --config FILE      lines `plugins = a,b`, `P.K = V`, `engine.KEY = V`; " \
    "# comments;\n"                                                            \
    "                     the command line wins\n"

/* Handles one of CLI_PLUGIN_OPTIONS: 1 when taken, 0 when opt is not one of
 * them, -1 after printing a usage error. */
int cli_plugins_option(cli_plugins *p, const char *cmd, int opt, char *arg);
/* A shorthand's KEY and VALUE for the command's plugin: 0 or CLI_USAGE. */
int cli_plugins_shorthand(cli_plugins *p, const char *cmd, const char *key,
                          const char *value);
/* Reads --config (once), then loads the plugins: `only` when non-NULL
 * (a name or path) and no --plugins was given, else the list or the default
 * set; creates each with its options (the unnamed shorthands go to
 * `shorthand_for`), refuses command-line options for plugins not loaded,
 * then applies the engine settings.  Returns CLI_OK or an exit code after
 * printing the error. */
int cli_plugins_load(cli_plugins *p, const char *cmd, const cli_data *d,
                     xs_engine *e, const char *only,
                     const char *shorthand_for);
void cli_plugins_free(cli_plugins *p);
/* The name to ask for --plugin PLUGIN once the plugins are loaded: the
 * loaded plugin of that name (PLUGIN may be a path), NULL in *ask for
 * "blend".  Returns CLI_OK or CLI_USAGE after printing. */
int cli_plugin_target(const char *cmd, const cli_plugins *pl,
                      const xs_engine *e, const char *plugin,
                      const char **ask);
/* The name plugin options are matched against: the plugin's name, or for a
 * path the file name without ".so". */
void cli_plugin_key(const char *plugin, char *out, size_t len);

/* A request's property filter, boosts and time (request_rules.c):
 * --filter PROPERTY=V1,V2 (repeatable; values of one property OR-ed,
 * properties AND-ed), --boost PROPERTY:VALUE=FACTOR[,...] (repeatable),
 * --now TIME, and the config file's `request.filter = ...`,
 * `request.boost = ...`, `request.now = ...` (the command line wins per
 * property, per property:value, and for the time). */
#define CLI_MAX_RULE_TERMS 256
typedef struct cli_rules {
    xs_prop_term where[CLI_MAX_RULE_TERMS];
    unsigned where_line[CLI_MAX_RULE_TERMS]; /* config line, 0: argv */
    uint32_t n_where;
    xs_prop_term boost[CLI_MAX_RULE_TERMS];
    unsigned boost_line[CLI_MAX_RULE_TERMS];
    uint32_t n_boost;
    int64_t now; /* 0: the clock */
    int now_from_cli;
} cli_rules;

enum { OPT_FILTER = 1200, OPT_BOOST, OPT_NOW };
#define CLI_RULES_OPTIONS                                                     \
    {"filter", required_argument, NULL, OPT_FILTER},                          \
        {"boost", required_argument, NULL, OPT_BOOST},                        \
        {"now", required_argument, NULL, OPT_NOW}
#define CLI_RULES_HELP                                                         \
    "item properties and lifecycle (catalog columns):\n"                       \
    "  --filter P=V1,V2   only items whose property P is V1 or V2 "            \
    "(repeatable:\n"                                                           \
    "                     each property must match; tags match any tag)\n"    \
    "  --boost P:V=F      multiply the score of items with P = V by F > 0 "     \
    "(repeatable,\n"                                                           \
    "                     comma separated)\n"                                  \
    "  --now TIME         the time available_from/expires are judged at "      \
    "(unix\n"                                                                  \
    "                     seconds or YYYY-MM-DD[Thh:mm]; default: the clock)\n" \
    "  (--config lines `request.filter = P=V1,V2`, `request.boost = P:V=F`, " \
    "`request.now = T`)\n"

/* Handles one of CLI_RULES_OPTIONS: 1 when taken, 0 when opt is not one
 * of them, -1 after printing a usage error.  arg is split in place. */
int cli_rules_option(cli_rules *r, const char *cmd, int opt, char *arg);
/* Adds the config file's request.* lines of p (read by
 * cli_plugins_load) under the command line's.  CLI_OK or CLI_USAGE after
 * printing. */
int cli_rules_from_config(cli_rules *r, const cli_plugins *p, const char *cmd);
/* Points f's where, boost and now at r's. */
void cli_rules_apply(const cli_rules *r, xs_filter *f);

/* Output formats. */
enum cli_format { CLI_TABLE = 0, CLI_JSON, CLI_CSV };
/* Parses "table|json|csv" restricted to the formats in `allowed` (a bitmask
 * of 1 << CLI_*).  Returns the format or -1. */
int cli_parse_format(const char *s, unsigned allowed);

#endif
