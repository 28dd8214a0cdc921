/*
 * cmd_plugins.c -- `xsell plugins`: what plugins the search path offers,
 * each opened (not created) to read its table; files that fail to load are
 * reported with the loader's message.  A file the loader refuses for trust
 * (docs/plugins.md, "Trust") is reported the same way and was never
 * dlopen()ed: the loader checks before it loads, so listing a directory
 * runs no code from a file it would not load for the server either.
 */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"

typedef struct list_state {
    int format;
    int n_ok, n_bad;
} list_state;

static int list_one(const char *file, void *arg)
{
    list_state *st = arg;
    xs_plugin_so so;
    xs_error err = {0};
    if (xs_plugin_so_open(file, &so, &err)) {
        fprintf(stderr, "xsell plugins: %s\n", err.msg);
        st->n_bad++;
        return 0;
    }
    const xs_plugin *p = so.table;
    if (st->format == CLI_JSON) {
        printf(st->n_ok ? ",{\"name\":" : "{\"name\":");
        xs_json_string(stdout, p->name);
        printf(",\"version\":");
        xs_json_string(stdout, p->version ? p->version : "");
        printf(",\"abi\":%u,\"description\":", (unsigned)p->abi);
        xs_json_string(stdout, p->description ? p->description : "");
        printf(",\"file\":");
        xs_json_string(stdout, file);
        putchar('}');
    } else {
        printf("%-14s %-9s %-4u %s\n%-14s %s\n", p->name,
               p->version ? p->version : "", (unsigned)p->abi,
               p->description ? p->description : "", "", file);
    }
    st->n_ok++;
    xs_plugin_so_close(&so);
    return 0;
}

int cmd_plugins(int argc, char **argv)
{
    static const struct option opts[] = {
        {"plugin-dir", required_argument, NULL, 'd'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *dir = NULL;
    list_state st = {CLI_TABLE, 0, 0};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            printf("usage: xsell plugins [--plugin-dir DIR] [--format "
                   "table|json]\n\nLists the plugins found in --plugin-dir, "
                   "XSELL_PLUGIN_PATH (colon separated),\nand the default "
                   "directory (lib/xsell/plugins beside libxsell, or the build "
                   "tree's\nplugins), in that order: name, version, ABI, "
                   "description and file.\nFiles that fail to load, or "
                   "that are refused (group- or world-writable, or\nowned "
                   "by another user; never loaded), are reported on stderr "
                   "and make the\nexit code 1.\n");
            return CLI_OK;
        case 'd': dir = optarg; break;
        case 'f':
            if ((st.format = cli_parse_format(optarg, 1u << CLI_TABLE |
                                                          1u << CLI_JSON)) < 0)
                return cli_fail("plugins", CLI_USAGE,
                                "--format: want table or json, not '%s'",
                                optarg);
            break;
        default:
            return cli_fail("plugins", CLI_USAGE,
                            "bad option '%s' (see --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail("plugins", CLI_USAGE, "unexpected argument '%s'",
                        argv[optind]);
    xs_plugin_path pp;
    xs_error err = {0};
    if (xs_plugin_path_init(&pp, dir, &err))
        return cli_fail("plugins", CLI_RUNTIME, "%s", err.msg);
    if (st.format == CLI_JSON)
        printf("{\"plugins\":[");
    else
        printf("%-14s %-9s %-4s %s\n", "name", "version", "abi",
               "description / file");
    xs_plugin_path_each(&pp, list_one, &st);
    if (st.format == CLI_JSON)
        printf("]}\n");
    xs_plugin_path_free(&pp);
    return st.n_bad ? CLI_RUNTIME : CLI_OK;
}
