/*
 * cmd_serve.c -- `xsell serve`: load the data, load the plugins, serve them
 * over ZeroMQ until SIGINT or SIGTERM.
 *
 * Signals are blocked in every thread and taken by one thread with sigwait,
 * which asks the server to stop; so no code runs in a signal handler.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"


static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell serve (--baskets FILE | --events FILE) [options]\n\n"
            "Serves recommendations over ZeroMQ: a ROUTER socket taking one "
            "msgpack map per\nrequest (see docs/protocol.md), until SIGINT or "
            "SIGTERM.\n\n"
            "  --bind ENDPOINT     where to listen (default %s; port * picks "
            "a free one)\n"
            "  --threads N         worker threads (default: one per core)\n"
            "  --default-plugin P  the plugin answering requests that name "
            "none (default:\n"
            "                      blend, the blend of all loaded plugins)\n"
            "  --blend-threads N   threads running a blend's plugins side by "
            "side (default 0:\n"
            "                      each worker runs them one after the "
            "other)\n"
            "  --port-file FILE    write the bound endpoint to FILE (for "
            "scripts and tests)\n"
            "  --max-msg BYTES     largest request accepted (default %d); a "
            "client sending\n"
            "                      more is disconnected by ZeroMQ\n\n%s\n%s",
            XS_DEFAULT_BIND, XS_DEFAULT_MAX_MSG, CLI_PLUGIN_HELP,
            CLI_DATA_HELP);
}

typedef struct sig_waiter {
    sigset_t set;
    xs_server *srv;
    int sig;
} sig_waiter;

static void *wait_signal(void *arg)
{
    sig_waiter *w = arg;
    if (sigwait(&w->set, &w->sig) == 0 && w->sig != SIGUSR2)
        xs_server_stop(w->srv);
    return NULL;
}

static int write_port_file(const char *path, const char *endpoint)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "%s\n", endpoint) < 0;
    bad |= fclose(f) != 0;
    return bad || rename(tmp, path) ? -1 : 0;
}

int cmd_serve(int argc, char **argv)
{
    enum { O_BIND = OPT_FIRST_FREE, O_THREADS, O_DEFAULT_PLUGIN, O_PORT_FILE,
           O_MAX_MSG, O_BLEND_THREADS };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        CLI_PLUGIN_OPTIONS,
        {"bind", required_argument, NULL, O_BIND},
        {"threads", required_argument, NULL, O_THREADS},
        {"default-plugin", required_argument, NULL, O_DEFAULT_PLUGIN},
        {"blend-threads", required_argument, NULL, O_BLEND_THREADS},
        {"port-file", required_argument, NULL, O_PORT_FILE},
        {"max-msg", required_argument, NULL, O_MAX_MSG},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    xs_server_config cfg = {0};
    const char *port_file = NULL, *default_plugin = NULL;
    cli_plugins pl = {0};
    long v;
    int c, taken, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (cli_data_option(&d, c, optarg))
            continue;
        if ((taken = cli_plugins_option(&pl, "serve", c, optarg)) < 0)
            return CLI_USAGE;
        if (taken)
            continue;
        switch (c) {
        case 'h':
            help(stdout);
            return CLI_OK;
        case O_BIND: cfg.bind = optarg; break;
        case O_DEFAULT_PLUGIN: default_plugin = optarg; break;
        case O_PORT_FILE: port_file = optarg; break;
        case O_THREADS:
            if (cli_parse_long(optarg, 1, 256, &v))
                return cli_fail("serve", CLI_USAGE,
                                "--threads: want 1..256, not '%s'", optarg);
            cfg.threads = (int)v;
            break;
        case O_BLEND_THREADS:
            if (cli_parse_long(optarg, 0, 64, &v))
                return cli_fail("serve", CLI_USAGE,
                                "--blend-threads: want 0..64, not '%s'",
                                optarg);
            d.blend_threads = (int)v;
            break;
        case O_MAX_MSG:
            if (cli_parse_long(optarg, 64, 1L << 30, &v))
                return cli_fail("serve", CLI_USAGE,
                                "--max-msg: want 64..%ld bytes, not '%s'",
                                1L << 30, optarg);
            cfg.max_msg = v;
            break;
        default:
            return cli_fail("serve", CLI_USAGE, "bad option '%s' (see --help)",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail("serve", CLI_USAGE, "unexpected argument '%s'",
                        argv[optind]);
    /* Block the stop signals before any thread exists, so all inherit it. */
    sig_waiter waiter = {0};
    sigemptyset(&waiter.set);
    sigaddset(&waiter.set, SIGINT);
    sigaddset(&waiter.set, SIGTERM);
    sigaddset(&waiter.set, SIGUSR2); /* our own wake-up at the end */
    pthread_sigmask(SIG_BLOCK, &waiter.set, NULL);

    xs_engine *e = NULL;
    if ((rc = cli_engine_open("serve", &d, &e)) ||
        (rc = cli_plugins_load(&pl, "serve", &d, e, NULL, NULL))) {
        xs_engine_free(e);
        cli_plugins_free(&pl);
        return rc;
    }
    cli_plugins_free(&pl); /* plugins copy what they keep of options */
    xs_error err = {0};
    if (default_plugin && strcmp(default_plugin, "blend")) {
        for (size_t i = 0; i < xs_engine_plugin_count(e); i++)
            if (!strcmp(xs_engine_plugin(e, i)->name, default_plugin))
                cfg.default_plugin = xs_engine_plugin(e, i)->name;
        if (!cfg.default_plugin) {
            xs_engine_free(e);
            return cli_fail("serve", CLI_USAGE,
                            "--default-plugin: '%s' is not loaded",
                            default_plugin);
        }
    }
    xs_server *srv = xs_server_new(e, &cfg, &err);
    if (!srv) {
        xs_engine_free(e);
        return cli_fail("serve", cli_exit_code(err.code), "%s", err.msg);
    }
    if (port_file && write_port_file(port_file, xs_server_endpoint(srv))) {
        rc = cli_fail("serve", CLI_RUNTIME, "%s: %s", port_file,
                      strerror(errno));
        xs_server_free(srv);
        xs_engine_free(e);
        return rc;
    }
    xs_engine_info info;
    xs_engine_info_get(e, &info);
    fprintf(stderr, "xsell serve: %u items, %u customers, %llu events; "
            "plugins:", info.items, info.customers,
            (unsigned long long)info.events);
    for (size_t i = 0; i < xs_engine_plugin_count(e); i++)
        fprintf(stderr, " %s", xs_engine_plugin(e, i)->name);
    fprintf(stderr, "\nxsell serve: listening on %s\n", xs_server_endpoint(srv));
    waiter.srv = srv;
    pthread_t sig_tid;
    int have_waiter = pthread_create(&sig_tid, NULL, wait_signal, &waiter) == 0;
    if (!have_waiter)
        fprintf(stderr, "xsell serve: cannot watch for signals\n");
    rc = xs_server_run(srv, &err) ? CLI_RUNTIME : CLI_OK;
    if (have_waiter) {
        pthread_kill(sig_tid, SIGUSR2); /* harmless if it already returned */
        pthread_join(sig_tid, NULL);
    }
    if (rc)
        fprintf(stderr, "xsell serve: %s\n", err.msg);
    else
        fprintf(stderr, "xsell serve: stopped%s\n",
                waiter.sig == SIGINT    ? " (SIGINT)"
                : waiter.sig == SIGTERM ? " (SIGTERM)"
                                        : "");
    xs_server_free(srv);
    xs_engine_free(e);
    if (port_file)
        unlink(port_file);
    return rc;
}
