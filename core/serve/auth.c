/*
 * auth.c -- CURVE keys and the ZAP handler (serve/auth.h), and the key
 * files of xsell/server.h (xs_curve_keygen, xs_curve_key_read).
 *
 * A key file is one line of Z85 text (40 characters, 32 bytes): NAME.pub
 * the public key, NAME.key the secret key, created 0600 and refused when
 * group or others may read it (as ssh refuses a private key others can
 * read).  The key table is a sorted array of binary public keys with their
 * role and name; a handshake costs one binary search.
 *
 * ZAP (RFC 27): a request is [version "1.0", request id, domain, address,
 * routing id, mechanism, credentials...]; for CURVE the one credential is
 * the client's 32-byte public key.  The reply is [version, request id,
 * status code, status text, user id, metadata].
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "serve/auth.h"
#include "xsell/server.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define NAME_MAX_LEN 64

typedef struct key {
    uint8_t pub[32];
    int role;
    char name[NAME_MAX_LEN];
} key;

struct xs_auth {
    void *sock;
    char dir[4096];
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    key *keys; /* sorted by pub */
    uint32_t n_keys;
    _Atomic uint64_t refused;
};

/* ---- key files ------------------------------------------------------------ */

int xs_curve_key_read(const char *path, int secret, char z85[41],
                      xs_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return xs_error_set(err, errno == ENOENT ? XS_ERR_NOTFOUND : XS_ERR_IO,
                            "%s: %s", path, strerror(errno));
    struct stat st;
    char buf[128];
    ssize_t n = fstat(fd, &st) ? -1 : read(fd, buf, sizeof buf - 1);
    int e = errno;
    close(fd);
    if (n < 0)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(e));
    if (secret && (st.st_mode & 077))
        return xs_error_set(err, XS_ERR_USAGE,
                            "%s: a secret key others may read (mode %03o; "
                            "chmod 600 it)", path,
                            (unsigned)(st.st_mode & 0777));
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    uint8_t bin[32];
    if (strlen(buf) != 40 || !zmq_z85_decode(bin, buf))
        return xs_error_set(err, XS_ERR_USAGE,
                            "%s: not a CURVE key (want 40 characters of Z85 "
                            "text, as `xsell keygen` writes)", path);
    memcpy(z85, buf, 41);
    return XS_OK;
}

/* Creates path with exactly `text`, failing if it exists. */
static int write_new(const char *path, const char *text, mode_t mode,
                     xs_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(errno));
    size_t len = strlen(text);
    int bad = write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) ||
              fsync(fd);
    int e = errno;
    if (close(fd) || bad) {
        unlink(path);
        return xs_error_set(err, XS_ERR_IO, "%s: %s", path, strerror(e));
    }
    return XS_OK;
}

int xs_curve_keygen(const char *name, char pub_out[41], xs_error *err)
{
    char pub[41], sec[41], path[4200], line[48];
    if (zmq_curve_keypair(pub, sec))
        return xs_error_set(err, XS_ERR_USAGE, "this libzmq has no CURVE "
                            "support (%s)", zmq_strerror(errno));
    snprintf(path, sizeof path, "%s.key", name);
    snprintf(line, sizeof line, "%s\n", sec);
    int rc = write_new(path, line, 0600, err);
    if (rc)
        return rc;
    snprintf(path, sizeof path, "%s.pub", name);
    snprintf(line, sizeof line, "%s\n", pub);
    if ((rc = write_new(path, line, 0644, err))) {
        snprintf(path, sizeof path, "%s.key", name);
        unlink(path);
        return rc;
    }
    if (pub_out)
        memcpy(pub_out, pub, 41);
    return XS_OK;
}

/* ---- the key table -------------------------------------------------------- */

static int by_pub(const void *x, const void *y)
{
    const key *a = x, *b = y;
    int c = memcmp(a->pub, b->pub, 32);
    return c ? c : b->role - a->role; /* write first */
}

/* Appends DIR/sub's *.pub to *v. */
static int load_role(const char *dir, const char *sub, int role, key **v,
                     uint32_t *n, uint32_t *cap, uint32_t *count,
                     xs_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT ? XS_OK
                               : xs_error_set(err, XS_ERR_IO, "%s: %s", path,
                                              strerror(errno));
    struct dirent *de;
    int rc = XS_OK;
    while (rc == XS_OK && (de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || strcmp(de->d_name + len - 4, ".pub"))
            continue;
        char file[4608], z85[41];
        snprintf(file, sizeof file, "%s/%s", path, de->d_name);
        if ((rc = xs_curve_key_read(file, 0, z85, err)))
            break;
        if (*n == *cap) {
            uint32_t c = *cap ? *cap * 2 : 16;
            key *k = realloc(*v, c * sizeof *k);
            if (!k) {
                rc = xs_error_set(err, XS_ERR_NOMEM, "out of memory");
                break;
            }
            *v = k;
            *cap = c;
        }
        key *k = &(*v)[(*n)++];
        zmq_z85_decode(k->pub, z85);
        k->role = role;
        snprintf(k->name, sizeof k->name, "%.*s",
                 (int)(len - 4 < NAME_MAX_LEN - 1 ? len - 4 : NAME_MAX_LEN - 1),
                 de->d_name);
        (*count)++;
    }
    closedir(d);
    return rc;
}

int xs_auth_reload(xs_auth *a, uint32_t *n_read, uint32_t *n_write,
                   xs_error *err)
{
    key *v = NULL;
    uint32_t n = 0, cap = 0, nr = 0, nw = 0;
    struct stat st;
    if (stat(a->dir, &st) || !S_ISDIR(st.st_mode))
        return xs_error_set(err, XS_ERR_USAGE, "--clients %s: not a "
                            "directory", a->dir);
    int rc = load_role(a->dir, "read", XS_ROLE_READ, &v, &n, &cap, &nr, err);
    if (!rc)
        rc = load_role(a->dir, "write", XS_ROLE_WRITE, &v, &n, &cap, &nw, err);
    if (!rc && n == 0)
        rc = xs_error_set(err, XS_ERR_USAGE, "--clients %s: no key in "
                          "%s/read or %s/write (xsell keygen NAME, then copy "
                          "NAME.pub there)", a->dir, a->dir, a->dir);
    if (rc) {
        free(v);
        return rc;
    }
    qsort(v, n, sizeof *v, by_pub);
    pthread_mutex_lock(&a->mu);
    key *old = a->keys;
    a->keys = v;
    a->n_keys = n;
    pthread_mutex_unlock(&a->mu);
    free(old);
    if (n_read)
        *n_read = nr;
    if (n_write)
        *n_write = nw;
    return XS_OK;
}

/* ---- the handler ---------------------------------------------------------- */

/* Looks the key up: 1 and its user id, or 0. */
static int lookup(xs_auth *a, const uint8_t *pub, char *user, size_t len)
{
    int found = 0;
    pthread_mutex_lock(&a->mu);
    uint32_t lo = 0, hi = a->n_keys;
    while (lo < hi) { /* the first entry >= pub: write sorts first */
        uint32_t mid = lo + (hi - lo) / 2;
        if (memcmp(a->keys[mid].pub, pub, 32) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < a->n_keys && !memcmp(a->keys[lo].pub, pub, 32)) {
        snprintf(user, len, "%s:%s",
                 a->keys[lo].role == XS_ROLE_WRITE ? "write" : "read",
                 a->keys[lo].name);
        found = 1;
    }
    pthread_mutex_unlock(&a->mu);
    return found;
}

static void *handler(void *arg)
{
    xs_auth *a = arg;
    for (;;) {
        zmq_msg_t f[8];
        int n = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, a->sock, 0) < 0) {
                zmq_msg_close(&m);
                for (int i = 0; i < n; i++)
                    zmq_msg_close(&f[i]);
                if (errno == EINTR)
                    goto next;
                return NULL; /* ETERM: the server is closing */
            }
            more = zmq_msg_more(&m);
            if (n < 8)
                f[n++] = m;
            else
                zmq_msg_close(&m);
        }
        /* version, request id, domain, address, identity, mechanism, key */
        char user[NAME_MAX_LEN + 8] = "";
        int ok = n >= 7 && zmq_msg_size(&f[5]) == 5 &&
                 !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
                 zmq_msg_size(&f[6]) == 32 &&
                 lookup(a, zmq_msg_data(&f[6]), user, sizeof user);
        if (!ok)
            atomic_fetch_add(&a->refused, 1);
        if (n >= 2) {
            zmq_send(a->sock, "1.0", 3, ZMQ_SNDMORE);
            zmq_send(a->sock, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
                     ZMQ_SNDMORE);
            zmq_send(a->sock, ok ? "200" : "400", 3, ZMQ_SNDMORE);
            const char *text = ok ? "OK" : "unknown key";
            zmq_send(a->sock, text, strlen(text), ZMQ_SNDMORE);
            zmq_send(a->sock, user, ok ? strlen(user) : 0, ZMQ_SNDMORE);
            zmq_send(a->sock, "", 0, 0);
        }
        for (int i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
    next:;
    }
}

int xs_auth_start(void *ctx, const char *dir, xs_auth **out, xs_error *err)
{
    *out = NULL;
    xs_auth *a = calloc(1, sizeof *a);
    if (!a)
        return xs_error_set(err, XS_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    snprintf(a->dir, sizeof a->dir, "%s", dir);
    int rc = xs_auth_reload(a, NULL, NULL, err);
    if (rc)
        goto fail;
    a->sock = zmq_socket(ctx, ZMQ_REP);
    int linger = 0;
    if (!a->sock || zmq_setsockopt(a->sock, ZMQ_LINGER, &linger,
                                   sizeof linger) ||
        zmq_bind(a->sock, ZAP_ENDPOINT)) {
        rc = xs_error_set(err, XS_ERR_IO, "ZAP handler: %s",
                          zmq_strerror(errno));
        goto fail;
    }
    if (pthread_create(&a->thread, NULL, handler, a)) {
        rc = xs_error_set(err, XS_ERR_INTERNAL, "cannot start the ZAP "
                          "handler");
        goto fail;
    }
    a->started = 1;
    *out = a;
    return XS_OK;
fail:
    if (a->sock)
        zmq_close(a->sock);
    a->sock = NULL;
    xs_auth_stop(a);
    return rc;
}

uint64_t xs_auth_refused(xs_auth *a)
{
    return a ? atomic_load(&a->refused) : 0;
}

void xs_auth_stop(xs_auth *a)
{
    if (!a)
        return;
    if (a->started)
        pthread_join(a->thread, NULL);
    if (a->sock)
        zmq_close(a->sock);
    pthread_mutex_destroy(&a->mu);
    free(a->keys);
    free(a);
}

int xs_auth_role(zmq_msg_t *m)
{
    const char *user = zmq_msg_gets(m, "User-Id");
    if (!user || !*user)
        return XS_ROLE_WRITE; /* no CURVE: the bind decides who comes in */
    return strncmp(user, "write:", 6) ? XS_ROLE_READ : XS_ROLE_WRITE;
}
