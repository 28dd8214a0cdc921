/*
 * cmd_query.c -- `xsell query`: a client for people and scripts, like
 * redis-cli.  The op and a JSON object become one msgpack request; the reply
 * is printed as one line of JSON.  Exit 1 on an error reply or a timeout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <zmq.h>

#include "cli/cli.h"
#include "util/stream.h"
#include "serve/jsonmp.h"
#include "serve/mp_read.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: xsell query [--connect ENDPOINT] [--timeout-ms N] OP "
            "['JSON' | -]\n\n"
            "Sends {\"op\": OP, ...JSON} to an xsell server and prints the "
            "reply as JSON.\nJSON is an object with the request's other "
            "fields; - reads it from stdin.\n\n"
            "  --connect ENDPOINT  server (default %s)\n"
            "  --timeout-ms N      give up after N ms (default 5000)\n"
            "  --curve-server-key FILE  the server's public key (.pub): "
            "talk CURVE\n"
            "  --curve-key FILE    this client's secret key (.key, mode "
            "600)\n\n"
            "examples:\n"
            "  xsell query health\n"
            "  xsell query recommend '{\"items\": [\"P000030\"], \"k\": 5, "
            "\"explain\": true}'\n"
            "  xsell query ingest '{\"events\": [{\"customer\": \"C1\", "
            "\"item\": \"P000030\", \"order\": \"O9\"}]}'\n\n"
            "exit status: 0 ok, 1 error reply or timeout, 2 usage error\n",
            XS_DEFAULT_BIND);
}

/* Builds {"op": op, <fields of the JSON object>} into out. */
static int build_request(const char *op, const char *json, size_t json_len,
                         msgpack_sbuffer *out, char *err, size_t errlen)
{
    msgpack_sbuffer body;
    msgpack_sbuffer_init(&body);
    uint32_t n = 0;
    xs_mp m = {NULL, NULL};
    if (json) {
        if (xs_json_to_msgpack(json, json_len, &body, err, errlen)) {
            msgpack_sbuffer_destroy(&body);
            return -1;
        }
        xs_mp_init(&m, body.data, body.size);
        if (xs_mp_read_map(&m, &n)) {
            snprintf(err, errlen, "the JSON must be an object");
            msgpack_sbuffer_destroy(&body);
            return -1;
        }
    }
    msgpack_packer pk;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, n + 1);
    msgpack_pack_str(&pk, 2);
    msgpack_pack_str_body(&pk, "op", 2);
    msgpack_pack_str(&pk, strlen(op));
    msgpack_pack_str_body(&pk, op, strlen(op));
    if (n)
        msgpack_sbuffer_write(out, (const char *)m.p, (size_t)(m.end - m.p));
    msgpack_sbuffer_destroy(&body);
    return 0;
}

/* 1 when the reply is a map whose "ok" is true. */
static int reply_ok(const void *buf, size_t len)
{
    xs_mp m;
    uint32_t n;
    xs_mp_init(&m, buf, len);
    if (xs_mp_read_map(&m, &n))
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *k;
        uint32_t kl;
        int b;
        if (xs_mp_read_str(&m, &k, &kl))
            return 0;
        if (xs_mp_str_eq(k, kl, "ok"))
            return xs_mp_read_bool(&m, &b) == 0 && b;
        if (xs_mp_skip(&m, 64))
            return 0;
    }
    return 0;
}

int cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {
        {"connect", required_argument, NULL, 'c'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"curve-server-key", required_argument, NULL, 'S'},
        {"curve-key", required_argument, NULL, 'K'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *endpoint = XS_DEFAULT_BIND;
    const char *server_key = NULL, *client_key = NULL;
    long timeout = 5000;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            help(stdout);
            return CLI_OK;
        case 'c': endpoint = optarg; break;
        case 'S': server_key = optarg; break;
        case 'K': client_key = optarg; break;
        case 't':
            if (cli_parse_long(optarg, 1, 3600000, &timeout))
                return cli_fail("query", CLI_USAGE,
                                "--timeout-ms: want 1..3600000, not '%s'",
                                optarg);
            break;
        default:
            return cli_fail("query", CLI_USAGE, "bad option '%s' (see --help)",
                            argv[optind - 1]);
        }
    }
    if (optind >= argc || optind + 2 < argc)
        return cli_fail("query", CLI_USAGE,
                        "want OP and at most one JSON argument (see --help)");
    char server_pub[41], client_sec[41], client_pub[41];
    xs_error kerr = {0};
    if (!server_key != !client_key)
        return cli_fail("query", CLI_USAGE, "--curve-server-key and "
                        "--curve-key go together");
    if (server_key && (xs_curve_key_read(server_key, 0, server_pub, &kerr) ||
                       xs_curve_key_read(client_key, 1, client_sec, &kerr)))
        return cli_fail("query", cli_exit_code(kerr.code), "%s", kerr.msg);
    if (server_key && zmq_curve_public(client_pub, client_sec))
        return cli_fail("query", CLI_USAGE, "%s: %s", client_key,
                        zmq_strerror(errno));
    const char *op = argv[optind];
    const char *json = optind + 1 < argc ? argv[optind + 1] : NULL;
    char *stdin_json = NULL;
    size_t json_len = json ? strlen(json) : 0;
    if (json && !strcmp(json, "-")) {
        json = stdin_json = xs_read_stream(stdin, &json_len);
        if (!json)
            return cli_fail("query", CLI_RUNTIME, "out of memory");
    }
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    char err[256];
    if (build_request(op, json, json_len, &req, err, sizeof err)) {
        free(stdin_json);
        msgpack_sbuffer_destroy(&req);
        return cli_fail("query", CLI_USAGE, "%s", err);
    }
    free(stdin_json);
    int rc = CLI_RUNTIME;
    void *ctx = zmq_ctx_new();
    void *sock = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
    if (!sock) {
        cli_fail("query", CLI_RUNTIME, "zmq: %s", zmq_strerror(errno));
        goto out;
    }
    int linger = 0, ms = (int)timeout;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(sock, ZMQ_RCVTIMEO, &ms, sizeof ms);
    zmq_setsockopt(sock, ZMQ_SNDTIMEO, &ms, sizeof ms);
    if (server_key && (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, server_pub, 40) ||
                       zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, client_pub, 40) ||
                       zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, client_sec, 40))) {
        rc = cli_fail("query", CLI_RUNTIME, "CURVE: %s", zmq_strerror(errno));
        goto out;
    }
    if (zmq_connect(sock, endpoint)) {
        rc = cli_fail("query", CLI_USAGE, "cannot connect to %s: %s", endpoint,
                      zmq_strerror(errno));
        goto out;
    }
    if (zmq_send(sock, req.data, req.size, 0) < 0) {
        cli_fail("query", CLI_RUNTIME, "send to %s: %s", endpoint,
                 zmq_strerror(errno));
        goto out;
    }
    zmq_msg_t reply;
    zmq_msg_init(&reply);
    if (zmq_msg_recv(&reply, sock, 0) < 0) {
        cli_fail("query", CLI_RUNTIME, "no reply from %s within %ld ms%s",
                 endpoint, timeout,
                 server_key ? " (with CURVE, an unknown key or a wrong "
                              "server key look like this)"
                            : "");
        zmq_msg_close(&reply);
        goto out;
    }
    const void *data = zmq_msg_data(&reply);
    size_t size = zmq_msg_size(&reply);
    if (xs_msgpack_to_json(data, size, stdout)) {
        cli_fail("query", CLI_RUNTIME, "the reply is not msgpack");
    } else {
        putchar('\n');
        rc = reply_ok(data, size) ? CLI_OK : CLI_RUNTIME;
    }
    zmq_msg_close(&reply);
out:
    if (sock)
        zmq_close(sock);
    if (ctx)
        zmq_ctx_term(ctx);
    msgpack_sbuffer_destroy(&req);
    return rc;
}
