/*
 * cmd_serve.c -- `xsell serve`: bind, load the data, load the plugins, serve
 * them over ZeroMQ until SIGINT or SIGTERM.
 *
 * The socket is bound first, so a busy port fails at once, not after a
 * long load; the engine is attached to the server once loaded.
 *
 * Signals are blocked in every thread and taken by one thread looping on
 * sigwait, so no code runs in a signal handler.  SIGINT, SIGTERM: while
 * serving, the server is asked to stop (it drains, see xsell/server.h);
 * while loading, the loader's progress callback sees the stop and ends the
 * load with an error, and a load still running a second later (a phase
 * with no progress callback) is ended by _exit(1).  SIGHUP: with CURVE,
 * the clients directory is read again; otherwise, like SIGUSR1 and
 * SIGUSR2, a line on stderr, nothing else.  SIGPIPE is ignored.  The
 * thread's own wake-up at the end is a SIGUSR2 sent after setting `done`,
 * so an outside SIGUSR2 never ends it.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
            "  --threads N         worker threads, also loading the data "
            "(default: one per\n"
            "                      core)\n"
            "  --shape S           how requests reach the workers (threads > "
            "1): handoff\n"
            "                      (default: one I/O thread owns the socket, "
            "the workers\n"
            "                      take requests from a queue) or proxy "
            "(worker sockets\n"
            "                      behind an inproc proxy)\n"
            "  --io-threads N      ZeroMQ I/O threads (default 1)\n"
            "  --spin-us N         how long an idle worker looks for work "
            "before it sleeps\n"
            "                      (default %d; 0: sleeps at once)\n"
            "  --default-plugin P  the plugin answering requests that name "
            "none (default:\n"
            "                      blend, the blend of all loaded plugins)\n"
            "  --blend-threads N   threads running a blend's plugins side by "
            "side (default 0:\n"
            "                      each worker runs them one after the "
            "other)\n"
            "  --port-file FILE    write the bound endpoint to FILE (for "
            "scripts and tests)\n"
            "  --max-msg BYTES     largest request, one frame (default %d); "
            "ZeroMQ disconnects\n"
            "                      a client sending more, more frames get "
            "bad_request\n"
            "  --drain SECONDS     at SIGINT/SIGTERM, how long requests "
            "already taken may\n"
            "                      take; then they are answered "
            "shutting_down (default 5)\n"
            "  --data-dir DIR      keep the data in DIR (created if missing): "
            "a snapshot and a\n"
            "                      write-ahead log of every ingest and "
            "catalog; the CSV files\n"
            "                      seed an empty DIR, later starts load DIR\n"
            "  --fsync POLICY      always (before each reply), everysec "
            "(default) or no\n"
            "  --save-every N      snapshot after N events, or Ns/Nm/Nh "
            "since the last one\n"
            "                      (both may be given); SIGTERM and the "
            "save op always do\n"
            "  --recover           start despite a damaged log, keeping what "
            "reads\n"
            "  --curve-key FILE    the server's CURVE secret key (xsell "
            "keygen); with\n"
            "  --clients DIR       only keys in DIR/read (read ops) and "
            "DIR/write (every op)\n"
            "                      get in; SIGHUP reads DIR again\n"
            "  --insecure          serve beyond loopback without keys "
            "(refused otherwise)\n\n%s\n%s",
            XS_DEFAULT_BIND, XS_DEFAULT_SPIN_US, XS_DEFAULT_MAX_MSG, CLI_PLUGIN_HELP,
            CLI_DATA_HELP);
}

/* What the signal thread shares with the main thread. */
typedef struct sig_waiter {
    sigset_t set;
    xs_server *srv;
    atomic_int sig;     /* the stop signal taken (SIGINT, SIGTERM), or 0 */
    atomic_int serving; /* loaded: a stop is the server's business */
    atomic_int done;    /* main is finishing: SIGUSR2 is its wake-up */
    double last;        /* progress: the last line, or the load's start */
    int lines;          /* progress lines printed */
} sig_waiter;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *sig_name(int sig)
{
    return sig == SIGINT    ? "SIGINT"
           : sig == SIGTERM ? "SIGTERM"
           : sig == SIGHUP  ? "SIGHUP"
           : sig == SIGUSR1 ? "SIGUSR1"
           : sig == SIGUSR2 ? "SIGUSR2"
                            : "a signal";
}

/* A stop during the load: the progress callback ends the load; a load
 * that has not ended a second later is in a phase nothing interrupts. */
static void stop_loading(sig_waiter *w, int sig)
{
    fprintf(stderr, "xsell serve: %s while loading: stopping\n",
            sig_name(sig));
    for (int i = 0; i < 100; i++) {
        if (atomic_load(&w->done) || atomic_load(&w->serving))
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "xsell serve: still loading 1 s after %s: exiting\n",
            sig_name(sig));
    _exit(CLI_RUNTIME);
}

/* SIGHUP with CURVE: the clients directory again.  0 without CURVE. */
static int reload(sig_waiter *w)
{
    xs_error err = {0};
    uint32_t nr = 0, nw = 0;
    int rc = xs_server_reload_clients(w->srv, &nr, &nw, &err);
    if (rc == XS_ERR_USAGE && strstr(err.msg, "no CURVE key"))
        return 0;
    if (rc)
        fprintf(stderr, "xsell serve: SIGHUP: clients not reloaded (the old "
                "keys stay): %s\n", err.msg);
    else
        fprintf(stderr, "xsell serve: SIGHUP: clients reloaded: %u read, %u "
                "write keys\n", nr, nw);
    return 1;
}

static void *wait_signal(void *arg)
{
    sig_waiter *w = arg;
    for (;;) {
        int sig;
        if (sigwait(&w->set, &sig))
            continue;
        if (sig == SIGUSR2 && atomic_load(&w->done))
            return NULL;
        if (sig == SIGINT || sig == SIGTERM) {
            int none = 0;
            atomic_compare_exchange_strong(&w->sig, &none, sig);
            xs_server_stop(w->srv); /* kept until run if not serving yet */
            if (!atomic_load(&w->serving))
                stop_loading(w, sig);
        } else if (sig == SIGHUP && reload(w)) {
            continue; /* the clients directory was read again */
        } else {
            fprintf(stderr, "xsell serve: %s ignored (SIGINT or SIGTERM "
                    "stops the server)\n", sig_name(sig));
        }
    }
}

/* The data loader's progress: a line every second or so (and the 100%
 * line when there were others), and the end of the load once a stop
 * signal came. */
static int load_progress(void *arg, const xs_load_status *st)
{
    sig_waiter *w = arg;
    if (atomic_load(&w->sig))
        return 1;
    double t = now_s();
    int end = st->parsing && st->done == st->total;
    if (t - w->last < 1.0 && !(end && w->lines))
        return 0;
    w->last = t;
    w->lines++;
    double pct = st->total ? 100.0 * (double)st->done / (double)st->total : 0;
    if (!st->parsing && !st->total) /* a pipe: the size is not known */
        fprintf(stderr, "xsell serve: reading %s: %.1f MB\n", st->path,
                (double)st->done / 1e6);
    else if (!st->parsing)
        fprintf(stderr, "xsell serve: reading %s: %.0f%%\n", st->path, pct);
    else
        fprintf(stderr, "xsell serve: loading %s: %.0f%% (%.2fM lines)\n",
                st->path, pct, (double)st->lines / 1e6);
    return 0;
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
           O_MAX_MSG, O_BLEND_THREADS, O_DATA_DIR, O_FSYNC, O_SAVE_EVERY,
           O_RECOVER, O_DRAIN, O_CURVE_KEY, O_CLIENTS, O_INSECURE, O_SHAPE,
           O_IO_THREADS, O_SPIN_US };
    static const struct option opts[] = {
        CLI_DATA_OPTIONS,
        CLI_PLUGIN_OPTIONS,
        {"bind", required_argument, NULL, O_BIND},
        {"threads", required_argument, NULL, O_THREADS},
        {"default-plugin", required_argument, NULL, O_DEFAULT_PLUGIN},
        {"blend-threads", required_argument, NULL, O_BLEND_THREADS},
        {"port-file", required_argument, NULL, O_PORT_FILE},
        {"max-msg", required_argument, NULL, O_MAX_MSG},
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"fsync", required_argument, NULL, O_FSYNC},
        {"save-every", required_argument, NULL, O_SAVE_EVERY},
        {"recover", no_argument, NULL, O_RECOVER},
        {"drain", required_argument, NULL, O_DRAIN},
        {"curve-key", required_argument, NULL, O_CURVE_KEY},
        {"clients", required_argument, NULL, O_CLIENTS},
        {"insecure", no_argument, NULL, O_INSECURE},
        {"shape", required_argument, NULL, O_SHAPE},
        {"io-threads", required_argument, NULL, O_IO_THREADS},
        {"spin-us", required_argument, NULL, O_SPIN_US},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    cli_data d = {0};
    xs_server_config cfg = {0};
    const char *port_file = NULL, *default_plugin = NULL;
    cli_plugins pl = {0};
    xs_datadir_config dcfg = {0};
    cli_serve_keys keys = {0};
    int fsync_set = 0;
    char secret[41];
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
        case O_SHAPE:
            if (!strcmp(optarg, "handoff"))
                cfg.shape = XS_SHAPE_HANDOFF;
            else if (!strcmp(optarg, "proxy"))
                cfg.shape = XS_SHAPE_PROXY;
            else
                return cli_fail("serve", CLI_USAGE, "--shape: want handoff "
                                "or proxy, not '%s'", optarg);
            break;
        case O_IO_THREADS:
            if (cli_parse_long(optarg, 1, 64, &v))
                return cli_fail("serve", CLI_USAGE,
                                "--io-threads: want 1..64, not '%s'", optarg);
            cfg.io_threads = (int)v;
            break;
        case O_SPIN_US:
            if (cli_parse_long(optarg, 0, 10000, &v))
                return cli_fail("serve", CLI_USAGE,
                                "--spin-us: want 0..10000, not '%s'", optarg);
            cfg.spin_us = v ? (int)v : -1; /* -1: no spinning */
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
        case O_DATA_DIR: dcfg.dir = optarg; break;
        case O_CURVE_KEY: keys.curve_key = optarg; break;
        case O_CLIENTS: keys.clients = optarg; break;
        case O_INSECURE: keys.insecure = 1; break;
        case O_RECOVER: dcfg.recover = 1; break;
        case O_DRAIN: {
            double dv;
            if (cli_parse_double(optarg, 0, 3600, &dv))
                return cli_fail("serve", CLI_USAGE,
                                "--drain: want 0..3600 seconds, not '%s'",
                                optarg);
            cfg.drain_s = dv > 0 ? dv : -1; /* -1: no wait */
            break;
        }
        case O_FSYNC:
            fsync_set = 1;
            if (!strcmp(optarg, "always"))
                dcfg.fsync = XS_FSYNC_ALWAYS;
            else if (!strcmp(optarg, "everysec"))
                dcfg.fsync = XS_FSYNC_EVERYSEC;
            else if (!strcmp(optarg, "no"))
                dcfg.fsync = XS_FSYNC_NO;
            else
                return cli_fail("serve", CLI_USAGE,
                                "--fsync: want always, everysec or no, not "
                                "'%s'", optarg);
            break;
        case O_SAVE_EVERY:
            if (cli_parse_save_every(optarg, &dcfg))
                return cli_fail("serve", CLI_USAGE,
                                "--save-every: want N (events) or N followed "
                                "by s, m or h, not '%s'", optarg);
            break;
        default:
            return cli_fail("serve", CLI_USAGE, "bad option '%s' (see --help)",
                            argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_fail("serve", CLI_USAGE, "unexpected argument '%s'",
                        argv[optind]);
    if (!dcfg.dir && (fsync_set || dcfg.save_every_events ||
                      dcfg.save_every_seconds > 0 || dcfg.recover))
        return cli_fail("serve", CLI_USAGE, "--fsync, --save-every and "
                        "--recover need --data-dir DIR");
    /* Block the signals before any thread exists, so all inherit it. */
    sig_waiter waiter = {0};
    sigemptyset(&waiter.set);
    sigaddset(&waiter.set, SIGINT);
    sigaddset(&waiter.set, SIGTERM);
    sigaddset(&waiter.set, SIGHUP);
    sigaddset(&waiter.set, SIGUSR1);
    sigaddset(&waiter.set, SIGUSR2); /* also our own wake-up at the end */
    pthread_sigmask(SIG_BLOCK, &waiter.set, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* the keys (the config file may name them) and protected mode */
    if ((rc = cli_config_read(&pl, "serve"))) {
        cli_plugins_free(&pl);
        return rc;
    }
    keys.curve_key = keys.curve_key ? keys.curve_key : pl.curve_key;
    keys.clients = keys.clients ? keys.clients : pl.clients;
    if ((rc = cli_serve_security(&keys, &cfg, secret))) {
        cli_plugins_free(&pl);
        return rc;
    }
    xs_engine *e = NULL;
    xs_datadir *dd = NULL;
    xs_error err = {0};
    /* bind first: a busy port fails now, not after the load */
    xs_server *srv = xs_server_new(NULL, &cfg, &err);
    if (!srv)
        return cli_fail("serve", cli_exit_code(err.code), "%s", err.msg);
    fprintf(stderr, "xsell serve: bound %s; loading\n",
            xs_server_endpoint(srv));
    waiter.srv = srv;
    waiter.last = now_s();
    pthread_t sig_tid;
    int have_waiter = pthread_create(&sig_tid, NULL, wait_signal, &waiter) == 0;
    if (!have_waiter)
        fprintf(stderr, "xsell serve: cannot watch for signals\n");
    xs_progress progress = {load_progress, &waiter};
    d.progress = &progress;
    d.load_threads = cfg.threads;
    if ((rc = dcfg.dir ? cli_serve_open(&d, &dcfg, &e, &dd)
                       : cli_engine_open("serve", &d, &e)) ||
        (rc = cli_plugins_load(&pl, "serve", &d, e, NULL, NULL))) {
        cli_plugins_free(&pl);
        goto done;
    }
    cli_plugins_free(&pl); /* plugins copy what they keep of options */
    if (default_plugin && strcmp(default_plugin, "blend")) {
        for (size_t i = 0; i < xs_engine_plugin_count(e); i++)
            if (!strcmp(xs_engine_plugin(e, i)->name, default_plugin))
                cfg.default_plugin = xs_engine_plugin(e, i)->name;
        if (!cfg.default_plugin) {
            rc = cli_fail("serve", CLI_USAGE,
                          "--default-plugin: '%s' is not loaded",
                          default_plugin);
            goto done;
        }
    }
    if (dd) {
        cfg.commit = cli_serve_commit;
        cfg.save = cli_serve_save;
        cfg.persist_arg = dd;
    }
    if (atomic_load(&waiter.sig)) {
        rc = CLI_RUNTIME; /* a stop came during the load */
        goto done;
    }
    if (xs_server_attach(srv, e, &cfg, &err)) {
        rc = cli_fail("serve", cli_exit_code(err.code), "%s", err.msg);
        goto done;
    }
    if (port_file && write_port_file(port_file, xs_server_endpoint(srv))) {
        rc = cli_fail("serve", CLI_RUNTIME, "%s: %s", port_file,
                      strerror(errno));
        goto done;
    }
    xs_engine_info info;
    xs_engine_info_get(e, &info);
    fprintf(stderr, "xsell serve: %u items, %u customers, %llu events; "
            "plugins:", info.items, info.customers,
            (unsigned long long)info.events);
    for (size_t i = 0; i < xs_engine_plugin_count(e); i++)
        fprintf(stderr, " %s", xs_engine_plugin(e, i)->name);
    fprintf(stderr, "\nxsell serve: listening on %s\n", xs_server_endpoint(srv));
    atomic_store(&waiter.serving, 1);
    rc = xs_server_run(srv, &err) ? CLI_RUNTIME : CLI_OK;
    int sig = atomic_load(&waiter.sig);
    if (rc)
        fprintf(stderr, "xsell serve: %s\n", err.msg);
    else
        fprintf(stderr, "xsell serve: stopped%s%s%s\n", sig ? " (" : "",
                sig ? sig_name(sig) : "", sig ? ")" : "");
    if (dd && rc == CLI_OK && !xs_datadir_dirty(dd)) {
        fprintf(stderr, "xsell serve: nothing new since the last snapshot\n");
    } else if (dd && rc == CLI_OK) { /* the log already holds everything:
                                        a snapshot makes the next start fast */
        xs_image_info saved;
        if (xs_datadir_save(dd, &saved, &err))
            fprintf(stderr, "xsell serve: snapshot at shutdown failed (the "
                    "log keeps every write): %s\n", err.msg);
        else
            fprintf(stderr, "xsell serve: snapshot of %llu events saved "
                    "(seq %llu)\n", (unsigned long long)saved.events,
                    (unsigned long long)saved.seq);
    }
    if (port_file)
        unlink(port_file);
done:
    if (atomic_load(&waiter.sig) && !atomic_load(&waiter.serving))
        fprintf(stderr, "xsell serve: stopped while loading (%s)\n",
                sig_name(atomic_load(&waiter.sig)));
    if (have_waiter) {
        atomic_store(&waiter.done, 1);
        pthread_kill(sig_tid, SIGUSR2); /* the thread returns on it */
        pthread_join(sig_tid, NULL);
    }
    xs_server_free(srv);
    xs_datadir_close(dd); /* before the engine it journals */
    xs_engine_free(e);
    return rc;
}
