/*
 * serve_security.c -- `xsell serve`'s keys and exposure: the CURVE key and
 * clients directory (from the command line or the config file), and
 * protected mode (as Redis's): a server reachable from the network must
 * have keys, or be told --insecure.
 *
 * Local endpoints are loopback TCP (127.0.0.0/8, localhost, ::1, the `lo`
 * interface), ipc:// and inproc://; anything else (0.0.0.0, *, another
 * address or interface) is the network.
 */
#include <string.h>

#include "cli/cli.h"

int cli_endpoint_is_local(const char *ep)
{
    if (!strncmp(ep, "ipc://", 6) || !strncmp(ep, "inproc://", 9))
        return 1;
    if (strncmp(ep, "tcp://", 6))
        return 0;
    const char *h = ep + 6;
    return !strncmp(h, "127.", 4) || !strncmp(h, "localhost:", 10) ||
           !strncmp(h, "[::1]:", 6) || !strncmp(h, "lo:", 3);
}

int cli_serve_security(const cli_serve_keys *k, xs_server_config *cfg,
                       char secret[41])
{
    const char *bind = cfg->bind ? cfg->bind : XS_DEFAULT_BIND;
    xs_error err = {0};
    if (k->clients && !k->curve_key)
        return cli_fail("serve", CLI_USAGE,
                        "--clients needs --curve-key (the server's secret "
                        "key)");
    if (k->curve_key) {
        if (!k->clients)
            return cli_fail("serve", CLI_USAGE,
                            "--curve-key needs --clients DIR (DIR/read and "
                            "DIR/write hold the clients' .pub files)");
        if (xs_curve_key_read(k->curve_key, 1, secret, &err))
            return cli_fail("serve", cli_exit_code(err.code), "%s", err.msg);
        cfg->curve_secret = secret;
        cfg->clients_dir = k->clients;
        return CLI_OK;
    }
    if (cli_endpoint_is_local(bind))
        return CLI_OK;
    if (!k->insecure)
        return cli_fail(
            "serve", CLI_USAGE,
            "--bind %s reaches beyond this machine and the server has no "
            "keys: refused (protected mode).\n"
            "  make keys:  xsell keygen server; xsell keygen shop; "
            "mkdir -p clients/write; cp shop.pub clients/write/\n"
            "  then serve: xsell serve ... --bind %s --curve-key server.key "
            "--clients clients\n"
            "  clients:    xsell query --curve-server-key server.pub "
            "--curve-key shop.key ...\n"
            "  (--insecure serves anyone who can reach the port)",
            bind, bind);
    fprintf(stderr, "xsell serve: WARNING: --insecure: %s is open to anyone "
            "who can reach it, with every op (ingest, catalog, save) and no "
            "encryption\n", bind);
    cfg->insecure = 1;
    return CLI_OK;
}
