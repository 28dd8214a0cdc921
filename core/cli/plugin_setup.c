/*
 * plugin_setup.c -- what recommend and serve share about plugins: which to
 * load, the options each gets, the engine's rules, and the config file
 * that can hold all three (see cli.h).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/stream.h"

static int push(cli_plugins *p, const char *cmd, const char *plugin,
                const char *key, const char *value, size_t from_file)
{
    if (p->n == CLI_MAX_PLUGIN_OPTS)
        return cli_fail(cmd, CLI_USAGE, "at most %d plugin options and "
                        "settings", CLI_MAX_PLUGIN_OPTS);
    p->plugin[p->n] = plugin;
    p->opt[p->n].key = key;
    p->opt[p->n].value = value;
    p->from_file[p->n] = (unsigned)from_file;
    p->n++;
    return 0;
}

/* "P.K=V" split in place into its three parts; -1 when malformed. */
static int split_spec(char *spec, char **plugin, char **key, char **value)
{
    char *dot = strchr(spec, '.'), *eq = strchr(spec, '=');
    if (!dot || !eq || dot > eq || dot == spec || eq == dot + 1)
        return -1;
    *dot = *eq = '\0';
    *plugin = spec;
    *key = dot + 1;
    *value = eq + 1;
    return 0;
}

int cli_plugins_option(cli_plugins *p, const char *cmd, int opt, char *arg)
{
    char *plugin, *key, *value;
    switch (opt) {
    case OPT_PLUGINS:
        p->list = arg;
        p->list_from_cli = 1;
        return 1;
    case OPT_CONFIG:
        p->config = arg;
        return 1;
    case OPT_PLUGIN_OPT:
        if (split_spec(arg, &plugin, &key, &value)) {
            cli_fail(cmd, CLI_USAGE,
                     "--plugin-opt: want PLUGIN.KEY=VALUE, not '%s'", arg);
            return -1;
        }
        return push(p, cmd, plugin, key, value, 0) ? -1 : 1;
    case OPT_SET: {
        char *eq = strchr(arg, '=');
        if (!eq || eq == arg) {
            cli_fail(cmd, CLI_USAGE, "--set: want KEY=VALUE, not '%s'", arg);
            return -1;
        }
        *eq = '\0';
        return push(p, cmd, "engine", arg, eq + 1, 0) ? -1 : 1;
    }
    case OPT_EVENT_WEIGHTS: /* --set event_weights=... */
        return push(p, cmd, "engine", "event_weights", arg, 0) ? -1 : 1;
    default:
        return 0;
    }
}

int cli_plugins_shorthand(cli_plugins *p, const char *cmd, const char *key,
                          const char *value)
{
    return push(p, cmd, NULL, key, value, 0) ? CLI_USAGE : 0;
}

void cli_plugins_free(cli_plugins *p)
{
    free(p->text);
    p->text = NULL;
}

void cli_plugin_key(const char *plugin, char *out, size_t len)
{
    const char *slash = strrchr(plugin, '/');
    const char *base = slash ? slash + 1 : plugin;
    size_t n = strlen(base);
    if (slash && n > 3 && !strcmp(base + n - 3, ".so"))
        n -= 3;
    snprintf(out, len, "%.*s", (int)n, base);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

/* Reads the config file into p: its options go before the command line's
 * (which therefore win: plugins and settings take the last value). */
static int read_config(cli_plugins *p, const char *cmd)
{
    FILE *f = fopen(p->config, "rb");
    if (!f)
        return cli_fail(cmd, CLI_RUNTIME, "%s: %s", p->config,
                        strerror(errno));
    size_t len;
    char *text = xs_read_stream(f, &len);
    int bad = ferror(f);
    fclose(f);
    if (!text || bad) {
        free(text);
        return cli_fail(cmd, CLI_RUNTIME, "%s: cannot read", p->config);
    }
    if (len > (1u << 20)) {
        free(text);
        return cli_fail(cmd, CLI_RUNTIME, "%s: too large (1 MB at most)",
                        p->config);
    }
    text[len] = '\0';
    p->text = text;
    /* the file's entries first: move the command line's after them */
    size_t n_cli = p->n;
    const char *cli_plugin[CLI_MAX_PLUGIN_OPTS];
    xs_option cli_opt[CLI_MAX_PLUGIN_OPTS];
    memcpy(cli_plugin, p->plugin, n_cli * sizeof *cli_plugin);
    memcpy(cli_opt, p->opt, n_cli * sizeof *cli_opt);
    p->n = 0;
    size_t line = 0;
    for (char *s = text, *next; s && *s; s = next) {
        line++;
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        char *hash = strchr(s, '#');
        if (hash)
            *hash = '\0';
        s = trim(s);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            return cli_fail(cmd, CLI_USAGE, "%s:%zu: want NAME.KEY = VALUE",
                            p->config, line);
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (!strcmp(key, "plugins")) {
            if (!p->list_from_cli)
                p->list = value;
            continue;
        }
        if (!strcmp(key, "serve.curve_key") || !strcmp(key, "serve.clients")) {
            *(key[6] == 'c' && key[7] == 'u' ? &p->curve_key : &p->clients) =
                value;
            continue;
        }
        char *dot = strchr(key, '.');
        if (!dot || dot == key || !dot[1])
            return cli_fail(cmd, CLI_USAGE, "%s:%zu: want NAME.KEY = VALUE, "
                            "not '%s'", p->config, line, key);
        *dot = '\0';
        if (push(p, cmd, key, dot + 1, value, line))
            return CLI_USAGE;
    }
    for (size_t i = 0; i < n_cli; i++)
        if (push(p, cmd, cli_plugin[i], cli_opt[i].key, cli_opt[i].value, 0))
            return CLI_USAGE;
    return CLI_OK;
}

int cli_config_read(cli_plugins *p, const char *cmd)
{
    return p->config && !p->text ? read_config(p, cmd) : CLI_OK;
}

int cli_plugins_load(cli_plugins *p, const char *cmd, const cli_data *d,
                     xs_engine *e, const char *only, const char *shorthand_for)
{
    int rc;
    if (p->config && !p->text && (rc = read_config(p, cmd)))
        return rc;
    char buf[1024];
    const char *list = p->list;
    if (!list && only)
        list = only;
    if (!list)
        list = d->catalog || xs_engine_catalog(e)
                   ? "copurchase,upsell,recency,popular"
                          : "copurchase,recency,popular";
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf)
        return cli_fail(cmd, CLI_USAGE, "--plugins: list too long");
    char *names[CLI_MAX_PLUGINS], *save = NULL;
    int n_names = 0;
    for (char *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        if (!*tok)
            continue;
        if (n_names == CLI_MAX_PLUGINS)
            return cli_fail(cmd, CLI_USAGE, "--plugins: at most %d",
                            CLI_MAX_PLUGINS);
        names[n_names++] = tok;
    }
    if (n_names == 0)
        return cli_fail(cmd, CLI_USAGE, "--plugins: name at least one");
    char keys[CLI_MAX_PLUGINS][256];
    xs_error err = {0};
    /* event_weights first: plugins may read them in create() (popular's
     * types=all); the other settings name loaded plugins, so they come
     * last (event_weights again, the same) */
    for (size_t o = 0; o < p->n; o++)
        if (p->plugin[o] && !strcmp(p->plugin[o], "engine") &&
            !strcmp(p->opt[o].key, "event_weights") &&
            xs_engine_set_rule(e, p->opt[o].key, p->opt[o].value, &err)) {
            if (p->from_file[o])
                return cli_fail(cmd, CLI_USAGE, "%s:%u: %s", p->config,
                                p->from_file[o], err.msg);
            return cli_fail(cmd, CLI_USAGE, "--set %s", err.msg);
        }
    for (int i = 0; i < n_names; i++) {
        cli_plugin_key(names[i], keys[i], sizeof keys[i]);
        xs_option mine[CLI_MAX_PLUGIN_OPTS];
        size_t n_mine = 0;
        int shorthands = shorthand_for && !strcmp(keys[i], shorthand_for);
        for (size_t o = 0; o < p->n; o++)
            if (p->plugin[o] ? !strcmp(p->plugin[o], keys[i]) : shorthands)
                mine[n_mine++] = p->opt[o];
        if (xs_engine_add_plugin(e, names[i], mine, n_mine, &err))
            /* no such plugin is a runtime error (like a missing data
             * file); only a malformed name or a duplicate is a usage
             * error */
            return cli_fail(cmd, cli_exit_code(err.code), "%s", err.msg);
    }
    /* options for plugins that are not loaded are mistakes on the command
     * line; a config file may hold options for plugins used elsewhere */
    for (size_t o = 0; o < p->n; o++) {
        if (!p->plugin[o] || p->from_file[o] ||
            !strcmp(p->plugin[o], "engine"))
            continue;
        int found = 0;
        for (int i = 0; i < n_names && !found; i++)
            found = !strcmp(p->plugin[o], keys[i]);
        if (!found)
            return cli_fail(cmd, CLI_USAGE, "--plugin-opt %s.%s: plugin '%s' "
                            "is not loaded", p->plugin[o], p->opt[o].key,
                            p->plugin[o]);
    }
    for (size_t o = 0; o < p->n; o++)
        if (p->plugin[o] && !strcmp(p->plugin[o], "engine") &&
            xs_engine_set_rule(e, p->opt[o].key, p->opt[o].value, &err)) {
            if (p->from_file[o])
                return cli_fail(cmd, CLI_USAGE, "%s:%u: %s", p->config,
                                p->from_file[o], err.msg);
            return cli_fail(cmd, CLI_USAGE, "--set %s", err.msg);
        }
    return CLI_OK;
}

int cli_plugin_target(const char *cmd, const cli_plugins *pl,
                      const xs_engine *e, const char *plugin,
                      const char **ask)
{
    *ask = NULL;
    if (!strcmp(plugin, "blend"))
        return CLI_OK;
    char key[256];
    cli_plugin_key(plugin, key, sizeof key);
    for (size_t i = 0; i < xs_engine_plugin_count(e) && !*ask; i++)
        if (!strcmp(xs_engine_plugin(e, i)->name, key))
            *ask = xs_engine_plugin(e, i)->name;
    if (!*ask && !pl->list) /* the one loaded, named by its path */
        *ask = xs_engine_plugin(e, 0)->name;
    if (!*ask)
        return cli_fail(cmd, CLI_USAGE, "--plugin %s: not among --plugins",
                        plugin);
    return CLI_OK;
}
