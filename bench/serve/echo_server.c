/*
 * echo_server.c -- the ceiling for bench/serve: a bare ZeroMQ ROUTER that
 * sends every message straight back, frames untouched, on one thread.
 * Whatever xsell serve achieves is compared with this, measured with the
 * same load generator, requests and window in the same run.
 *
 *   echo_server ENDPOINT [PORT_FILE]
 *
 * Runs until SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: echo_server ENDPOINT [PORT_FILE]\n");
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    void *ctx = zmq_ctx_new();
    void *sock = zmq_socket(ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(sock, argv[1])) {
        fprintf(stderr, "echo_server: bind %s: %s\n", argv[1],
                zmq_strerror(zmq_errno()));
        return 1;
    }
    char ep[256];
    size_t len = sizeof ep;
    zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, ep, &len);
    if (argc > 2) {
        FILE *f = fopen(argv[2], "w");
        if (f) {
            fprintf(f, "%s\n", ep);
            fclose(f);
        }
    }
    fprintf(stderr, "echo_server: listening on %s\n", ep);
    while (!stop) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            continue; /* EINTR on a signal: the loop test sees stop */
        }
        int more = zmq_msg_more(&m);
        if (zmq_msg_send(&m, sock, more ? ZMQ_SNDMORE : 0) < 0)
            zmq_msg_close(&m);
    }
    zmq_close(sock);
    zmq_ctx_term(ctx);
    return 0;
}
