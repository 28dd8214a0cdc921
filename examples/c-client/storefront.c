/*
 * storefront.c -- an online shop talking to an xsell server, in C11 with
 * libzmq and msgpack-c.  The same three pages as examples/python/storefront.py:
 *
 *   1. product page  "customers who also bought" items for one product
 *   2. basket page   items for the whole basket, minus what is already in it
 *   3. checkout      the order (and another shopper's order of the same
 *                    product) is ingested, then the product page is asked
 *                    again: the orders count at once
 *
 * One request is one msgpack map in one frame on a REQ socket; one reply is
 * one map (docs/protocol.md).  Requests are packed with msgpack_packer,
 * replies read with msgpack_unpack_next.
 *
 *   storefront [--connect ENDPOINT] [--catalog FILE] [--product ID] [--k N]
 *              [--timeout-ms N] [--curve-server-key FILE --curve-key FILE]
 *
 * With --curve-server-key (the server's .pub) and --curve-key (this client's
 * .key, from `xsell keygen`) the client talks CURVE to a server started with
 * `xsell serve --curve-key server.key --clients DIR`; this client's .pub must
 * be in DIR/write, since the checkout ingests.
 *
 * Exit status: 0 ok, 1 an error reply, no reply in time, a bad catalog or a
 * bad key file, 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L /* getline, strdup */

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <msgpack.h>
#include <zmq.h>

#define SHOPPER "C001462"       /* the signed-in customer */
#define OTHER_SHOPPER "C000007" /* another, checking out the same product */
#define NEW_PREFIX "PNEW-"      /* products launched by the checkout step */
#define NEW_PRODUCT_PRICE 24.90 /* price of products not in the catalog */

/* ------------------------------------------------------------------------
 * A tiny client: one request, one reply.
 */
typedef struct {
    void *ctx, *sock;
    const char *endpoint;
    int timeout_ms;
    bool curve;
} xs_client;

/* CURVE keys, each 40 characters of Z85 text and a NUL. */
typedef struct {
    char server_public[41], public[41], secret[41];
} xs_curve_keys;

/* A reply: `root` is a map whose strings point into `frame`, so both live
 * until xs_reply_free. */
typedef struct {
    zmq_msg_t frame;
    msgpack_unpacked up;
    const msgpack_object *root;
} xs_reply;

static void xs_client_close(xs_client *c)
{
    if (c->sock && zmq_close(c->sock) != 0)
        fprintf(stderr, "storefront: zmq_close: %s\n", zmq_strerror(errno));
    if (c->ctx)
        while (zmq_ctx_term(c->ctx) != 0 && errno == EINTR)
            ;
    c->sock = c->ctx = NULL;
}

/* Reads a CURVE key file as `xsell keygen` writes it (one line of 40 Z85
 * characters) into z85.  A secret key that group or others may read is
 * refused, as xsell refuses its own.  0, or -1 reported on stderr. */
static int curve_key_read(const char *path, bool secret, char z85[41])
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "storefront: %s: %s\n", path, strerror(errno));
        return -1;
    }
    struct stat st;
    char buf[128], why[96] = "";
    uint8_t bin[32];
    if (fstat(fileno(f), &st) != 0)
        snprintf(why, sizeof why, "%s", strerror(errno));
    else if (secret && (st.st_mode & 077))
        snprintf(why, sizeof why, "a secret key others may read (mode %03o; chmod 600 it)",
                 (unsigned)(st.st_mode & 0777));
    else if (!fgets(buf, sizeof buf, f))
        snprintf(why, sizeof why, "%s", ferror(f) ? strerror(errno) : "empty file");
    fclose(f);
    if (!*why) {
        size_t n = strlen(buf);
        while (n > 0 && strchr(" \t\r\n", buf[n - 1]))
            buf[--n] = '\0';
        if (n != 40 || !zmq_z85_decode(bin, buf))
            snprintf(why, sizeof why, "not a CURVE key (want 40 characters of Z85 text, "
                                      "as `xsell keygen` writes)");
    }
    if (*why) {
        fprintf(stderr, "storefront: %s: %s\n", path, why);
        return -1;
    }
    memcpy(z85, buf, 41);
    return 0;
}

/* The keys for --curve-server-key and --curve-key, this client's public key
 * derived from its secret one.  0, or -1 reported on stderr. */
static int curve_keys_load(xs_curve_keys *k, const char *server_key, const char *client_key)
{
    if (curve_key_read(server_key, false, k->server_public) ||
        curve_key_read(client_key, true, k->secret))
        return -1;
    if (zmq_curve_public(k->public, k->secret) != 0) {
        fprintf(stderr, "storefront: %s: %s\n", client_key, zmq_strerror(errno));
        return -1;
    }
    return 0;
}

/* Connects a REQ socket to endpoint; with keys (else NULL), over CURVE. */
static int xs_client_open(xs_client *c, const char *endpoint, int timeout_ms,
                          const xs_curve_keys *keys)
{
    int linger = 0;
    c->endpoint = endpoint;
    c->timeout_ms = timeout_ms;
    c->curve = keys != NULL;
    c->sock = NULL;
    /* The keys go in before connect: the handshake starts there. */
    if (!(c->ctx = zmq_ctx_new()) || !(c->sock = zmq_socket(c->ctx, ZMQ_REQ)) ||
        zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger) ||
        zmq_setsockopt(c->sock, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) ||
        zmq_setsockopt(c->sock, ZMQ_SNDTIMEO, &timeout_ms, sizeof timeout_ms) ||
        (keys && (zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, keys->server_public, 40) ||
                  zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, keys->public, 40) ||
                  zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, keys->secret, 40))) ||
        zmq_connect(c->sock, endpoint)) {
        fprintf(stderr, "storefront: %s: %s\n", endpoint, zmq_strerror(errno));
        xs_client_close(c);
        return -1;
    }
    return 0;
}

static void xs_reply_free(xs_reply *r)
{
    msgpack_unpacked_destroy(&r->up);
    zmq_msg_close(&r->frame);
}

/* The value of key in map, or NULL. */
static const msgpack_object *map_get(const msgpack_object *map, const char *key)
{
    size_t n = strlen(key);
    if (!map || map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n &&
            !memcmp(k->via.str.ptr, key, n))
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static bool obj_num(const msgpack_object *o, double *d)
{
    if (!o)
        return false;
    switch (o->type) {
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: *d = o->via.f64; return true;
    case MSGPACK_OBJECT_POSITIVE_INTEGER: *d = (double)o->via.u64; return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: *d = (double)o->via.i64; return true;
    default: return false;
    }
}

/* A string field as printf's "%.*s" wants it ("?" when missing). */
static int str_len(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_STR ? (int)o->via.str.size : 1;
}
static const char *str_ptr(const msgpack_object *o)
{
    return o && o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : "?";
}

/* Sends req and waits for the reply.  0 with *r to free on an "ok" reply;
 * -1 (reported on stderr, nothing to free) on an error reply or timeout. */
static int xs_request(xs_client *c, const msgpack_sbuffer *req, xs_reply *r)
{
    if (zmq_send(c->sock, req->data, req->size, 0) != (int)req->size) {
        fprintf(stderr, "storefront: send to %s: %s\n", c->endpoint,
                zmq_strerror(errno));
        return -1;
    }
    if (zmq_msg_init(&r->frame) != 0)
        return -1;
    if (zmq_msg_recv(&r->frame, c->sock, 0) < 0) {
        if (errno == EAGAIN)
            fprintf(stderr, "storefront: timeout: no reply from %s within %d ms%s\n",
                    c->endpoint, c->timeout_ms,
                    c->curve ? " (with CURVE, an unknown key or a wrong server key look "
                               "like this)"
                             : "");
        else
            fprintf(stderr, "storefront: receive from %s: %s\n", c->endpoint,
                    zmq_strerror(errno));
        zmq_msg_close(&r->frame);
        return -1;
    }
    const char *data = zmq_msg_data(&r->frame);
    size_t size = zmq_msg_size(&r->frame), off = 0;
    msgpack_unpacked_init(&r->up);
    if (msgpack_unpack_next(&r->up, data, size, &off) != MSGPACK_UNPACK_SUCCESS ||
        off != size || r->up.data.type != MSGPACK_OBJECT_MAP) {
        fprintf(stderr, "storefront: the reply is not one msgpack map\n");
        xs_reply_free(r);
        return -1;
    }
    r->root = &r->up.data;
    const msgpack_object *ok = map_get(r->root, "ok");
    if (!ok || ok->type != MSGPACK_OBJECT_BOOLEAN || !ok->via.boolean) {
        const msgpack_object *err = map_get(r->root, "error");
        const msgpack_object *code = map_get(err, "code"), *msg = map_get(err, "message");
        fprintf(stderr, "storefront: %.*s: %.*s\n", str_len(code), str_ptr(code),
                str_len(msg), str_ptr(msg));
        xs_reply_free(r);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Packing requests.  msgpack_pack_* return 0, or -1 when out of memory.
 */
static int pack_cstr(msgpack_packer *pk, const char *s)
{
    size_t n = strlen(s);
    return msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, s, n) ? -1 : 0;
}

static int pack_kv(msgpack_packer *pk, const char *key, const char *val)
{
    return pack_cstr(pk, key) || pack_cstr(pk, val) ? -1 : 0;
}

static int pack_strs(msgpack_packer *pk, const char *const *v, size_t n)
{
    if (msgpack_pack_array(pk, n))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (pack_cstr(pk, v[i]))
            return -1;
    return 0;
}

/* {"op": "recommend", "items": [...], "k": k, "explain": explain,
 *  "exclude": [...], "customer": customer}; the last two when given. */
static int pack_recommend(msgpack_sbuffer *sb, const char *const *items, size_t n_items,
                          const char *const *exclude, size_t n_exclude,
                          const char *customer, long k, bool explain)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_map(&pk, 4u + (exclude != NULL) + (customer != NULL)) ||
        pack_kv(&pk, "op", "recommend") ||
        pack_cstr(&pk, "items") || pack_strs(&pk, items, n_items) ||
        pack_cstr(&pk, "k") || msgpack_pack_long(&pk, k) ||
        pack_cstr(&pk, "explain") ||
        (explain ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk)))
        return -1;
    if (exclude && (pack_cstr(&pk, "exclude") || pack_strs(&pk, exclude, n_exclude)))
        return -1;
    if (customer && pack_kv(&pk, "customer", customer))
        return -1;
    return 0;
}

/* {"op": "ingest", "events": [{"customer", "item", "qty", "price", "order"},
 *  ...]}: one order, one event per item.  No "ts": an event without one
 * weighs like the newest data. */
static int pack_ingest(msgpack_sbuffer *sb, const char *customer, const char *order,
                       const char *const *items, const double *prices, size_t n)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_map(&pk, 2) || pack_kv(&pk, "op", "ingest") ||
        pack_cstr(&pk, "events") || msgpack_pack_array(&pk, n))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (msgpack_pack_map(&pk, 5) || pack_kv(&pk, "customer", customer) ||
            pack_kv(&pk, "item", items[i]) ||
            pack_cstr(&pk, "qty") || msgpack_pack_int(&pk, 1) ||
            pack_cstr(&pk, "price") || msgpack_pack_double(&pk, prices[i]) ||
            pack_kv(&pk, "order", order))
            return -1;
    return 0;
}

/* ------------------------------------------------------------------------
 * The catalog (item,category,price[,margin,in_stock,title]): titles and
 * prices, sorted by id.  Comma separated, RFC 4180 quotes, one record a line.
 */
typedef struct {
    char *id, *title;
    double price;
    size_t line;
} product;

typedef struct {
    product *v;
    size_t n;
} catalog;

static void catalog_free(catalog *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].id);
        free(c->v[i].title);
    }
    free(c->v);
    c->v = NULL;
    c->n = 0;
}

/* Splits one record (line end removed) into at most max fields, in place.
 * Returns the count, or -1 on a stray quote or too many fields. */
static int csv_split(char *s, char **f, int max)
{
    for (int n = 0; n < max;) {
        char *out = s;
        f[n++] = out;
        if (*s == '"') {
            for (s++;; s++) {
                if (*s == '\0')
                    return -1;
                if (*s == '"' && *++s != '"')
                    break;
                *out++ = *s;
            }
            if (*s != ',' && *s != '\0')
                return -1;
        } else {
            while (*s && *s != ',')
                out = ++s;
        }
        char end = *s;
        *out = '\0';
        if (!end)
            return n;
        s++;
    }
    return -1;
}

static int col_index(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i], name))
            return i;
    return -1;
}

static int by_id_then_last(const void *a, const void *b)
{
    const product *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    return c ? c : (x->line < y->line) - (x->line > y->line);
}

static int catalog_load(catalog *c, const char *path)
{
    enum { MAX_COLS = 64 };
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "storefront: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *line = NULL, *fields[MAX_COLS];
    size_t cap = 0, lineno = 0, alloc = 0;
    ssize_t len;
    int item_col = -1, price_col = -1, title_col = -1;
    const char *why = NULL;
    c->v = NULL;
    c->n = 0;
    while (!why && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        char *s = lineno == 1 && !strncmp(line, "\xEF\xBB\xBF", 3) ? line + 3 : line;
        if (!*s)
            continue;
        int n = csv_split(s, fields, MAX_COLS);
        if (n < 0) {
            why = "bad quoting or too many columns";
        } else if (item_col < 0) { /* the header */
            item_col = col_index(fields, n, "item");
            price_col = col_index(fields, n, "price");
            title_col = col_index(fields, n, "title");
            if (item_col < 0)
                why = "no item column";
        } else if (item_col >= n || !*fields[item_col]) {
            why = "no item";
        } else {
            if (c->n == alloc) {
                size_t na = alloc ? 2 * alloc : 256;
                product *nv = realloc(c->v, na * sizeof *nv);
                if (!nv) {
                    why = "out of memory";
                    break;
                }
                c->v = nv;
                alloc = na;
            }
            product *p = &c->v[c->n];
            const char *title = title_col >= 0 && title_col < n ? fields[title_col] : "";
            char *end = NULL;
            p->price = -1; /* unknown */
            if (price_col >= 0 && price_col < n && *fields[price_col]) {
                errno = 0;
                p->price = strtod(fields[price_col], &end);
                if (errno || *end || p->price < 0)
                    why = "bad price";
            }
            p->line = lineno;
            p->id = strdup(fields[item_col]);
            p->title = strdup(*title ? title : fields[item_col]);
            if (!p->id || !p->title) {
                free(p->id);
                free(p->title);
                why = "out of memory";
            } else if (why) {
                free(p->id);
                free(p->title);
            } else {
                c->n++;
            }
        }
    }
    if (!why && ferror(f))
        why = strerror(errno);
    if (!why && item_col < 0)
        why = "empty file";
    free(line);
    if (fclose(f) != 0 && !why)
        why = strerror(errno);
    if (why) {
        fprintf(stderr, "storefront: %s:%zu: %s\n", path, lineno, why);
        catalog_free(c);
        return -1;
    }
    /* Sorted by id, a repeated id's last line first: keep that one. */
    if (c->n)
        qsort(c->v, c->n, sizeof *c->v, by_id_then_last);
    size_t kept = 0;
    for (size_t i = 0; i < c->n; i++) {
        if (kept && !strcmp(c->v[kept - 1].id, c->v[i].id)) {
            free(c->v[i].id);
            free(c->v[i].title);
        } else {
            c->v[kept++] = c->v[i];
        }
    }
    c->n = kept;
    return 0;
}

/* The product with id (len bytes, not NUL-terminated), or NULL. */
static const product *catalog_find(const catalog *c, const char *id, size_t len)
{
    size_t lo = 0, hi = c->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, n = strlen(c->v[mid].id);
        int cmp = memcmp(id, c->v[mid].id, len < n ? len : n);
        if (!cmp)
            cmp = (len > n) - (len < n);
        if (!cmp)
            return &c->v[mid];
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* "P000030  Frozen item 30" with a catalog, else "P000030". */
static void item_name(char *buf, size_t size, const catalog *c, const char *id, size_t len)
{
    const product *p = catalog_find(c, id, len);
    if (p)
        snprintf(buf, size, "%.*s  %s", (int)len, id, p->title);
    else
        snprintf(buf, size, "%.*s", (int)len, id);
}

static double item_price(const catalog *c, const char *id)
{
    const product *p = catalog_find(c, id, strlen(id));
    return p && p->price >= 0 ? p->price : NEW_PRODUCT_PRICE;
}

/* ------------------------------------------------------------------------
 * The pages.
 */

/* Prints the reply's items; returns the 1-based rank of `find` (0: absent). */
static size_t show_items(const msgpack_object *reply, const catalog *cat, const char *find)
{
    const msgpack_object *items = map_get(reply, "items");
    size_t found = 0;
    if (!items || items->type != MSGPACK_OBJECT_ARRAY || !items->via.array.size) {
        printf("   (nothing yet)\n");
        return 0;
    }
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        const msgpack_object *r = &items->via.array.ptr[i];
        const msgpack_object *item = map_get(r, "item");
        double score = 0, count, confidence;
        char name[256];
        if (!item || item->type != MSGPACK_OBJECT_STR)
            continue;
        item_name(name, sizeof name, cat, item->via.str.ptr, item->via.str.size);
        (void)obj_num(map_get(r, "score"), &score);
        printf("   %u. %-28s score %7.2f", (unsigned)i + 1, name, score);
        /* Evidence, with "explain": true (copurchase's fields). */
        if (obj_num(map_get(r, "count"), &count) &&
            obj_num(map_get(r, "confidence"), &confidence))
            printf("  (together in %g order%s, confidence %.0f%%)", count,
                   count == 1 ? "" : "s", confidence * 100);
        putchar('\n');
        if (find && item->via.str.size == strlen(find) &&
            !memcmp(item->via.str.ptr, find, item->via.str.size))
            found = i + 1;
    }
    return found;
}

static int product_page(xs_client *xs, const catalog *cat, const char *product_id, long k,
                        const char *find, xs_reply *r)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    const char *items[] = {product_id};
    int rc = pack_recommend(&sb, items, 1, NULL, 0, NULL, k, true);
    if (rc)
        fprintf(stderr, "storefront: out of memory\n");
    else
        rc = xs_request(xs, &sb, r);
    msgpack_sbuffer_destroy(&sb);
    if (rc)
        return -1;
    const msgpack_object *unknown = map_get(r->root, "unknown");
    if (unknown && unknown->type == MSGPACK_OBJECT_ARRAY && unknown->via.array.size)
        printf("   (the server does not know %s yet)\n", product_id);
    printf("   Customers who bought %s also bought:\n", find ? product_id : "this");
    size_t rank = show_items(r->root, cat, find);
    if (find && rank)
        printf("   -> %s is now #%zu: the orders count at once\n", find, rank);
    else if (find)
        printf("   -> %s is not in the top %ld\n", find, k);
    return 0;
}

typedef struct {
    const char *connect, *catalog, *product;
    long k, timeout_ms;
    const char *curve_server_key, *curve_key;
} options;

#define USAGE                                                                          \
    "usage: storefront [--connect ENDPOINT] [--catalog FILE] [--product ID] [--k N]\n" \
    "                  [--timeout-ms N] [--curve-server-key FILE --curve-key FILE]\n"

static int usage(const char *what, const char *arg)
{
    fprintf(stderr, "storefront: %s '%s'\n" USAGE, what, arg);
    return 2;
}

/* --name VALUE or --name=VALUE at argv[*i]; advances *i past the value. */
static bool opt(const char *name, int argc, char **argv, int *i, const char **val, int *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n))
        return false;
    if (a[n] == '=')
        *val = a + n + 1;
    else if (a[n] == '\0' && *i + 1 < argc)
        *val = argv[++*i];
    else if (a[n] == '\0')
        *bad = 1;
    else
        return false;
    return true;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    *o = (options){"tcp://127.0.0.1:5555", NULL, "P000030", 5, 5000, NULL, NULL};
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int bad = 0;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf(USAGE "A storefront asking xsell for recommendations (docs/protocol.md).\n"
                         "\n"
                         "  --connect ENDPOINT      the server (default tcp://127.0.0.1:5555)\n"
                         "  --catalog FILE          catalog CSV, to print titles\n"
                         "  --product ID            the product page (default P000030)\n"
                         "  --k N                   items per list (default 5)\n"
                         "  --timeout-ms N          give up after N ms without a reply "
                         "(default 5000)\n"
                         "  --curve-server-key FILE the server's public key (.pub, from "
                         "`xsell keygen`):\n"
                         "                          talk CURVE\n"
                         "  --curve-key FILE        this client's secret key (.key, mode 600), "
                         "with\n"
                         "                          --curve-server-key\n");
            return 0;
        }
        if (opt("--connect", argc, argv, &i, &v, &bad))
            o->connect = v;
        else if (opt("--catalog", argc, argv, &i, &v, &bad))
            o->catalog = v;
        else if (opt("--product", argc, argv, &i, &v, &bad))
            o->product = v;
        else if (opt("--k", argc, argv, &i, &v, &bad)) {
            /* Not checked here: the server says what it accepts. */
            if (!bad && parse_long(v, INT_MIN, INT_MAX, &o->k))
                return usage("--k: want an integer, not", v);
        } else if (opt("--timeout-ms", argc, argv, &i, &v, &bad)) {
            if (!bad && parse_long(v, 1, 3600000, &o->timeout_ms))
                return usage("--timeout-ms: want 1..3600000, not", v);
        } else if (opt("--curve-server-key", argc, argv, &i, &v, &bad))
            o->curve_server_key = v;
        else if (opt("--curve-key", argc, argv, &i, &v, &bad))
            o->curve_key = v;
        else
            return usage("unknown argument", argv[i]);
        if (bad)
            return usage("no value after", argv[i]);
    }
    if (!o->curve_server_key != !o->curve_key)
        return usage("--curve-server-key and --curve-key go together, not only",
                     o->curve_key ? "--curve-key" : "--curve-server-key");
    return -1; /* go on */
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0)
        return rc;
    xs_curve_keys keys;
    if (o.curve_key && curve_keys_load(&keys, o.curve_server_key, o.curve_key))
        return 1;
    catalog cat = {NULL, 0};
    if (o.catalog && catalog_load(&cat, o.catalog))
        return 1;
    xs_client xs;
    if (xs_client_open(&xs, o.connect, (int)o.timeout_ms, o.curve_key ? &keys : NULL)) {
        catalog_free(&cat);
        return 1;
    }
    rc = 1;
    char name[256], *second = NULL;
    xs_reply r;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);

    /* 1. Product page: "customers who also bought". */
    item_name(name, sizeof name, &cat, o.product, strlen(o.product));
    printf("1. Product page: %s\n", name);
    if (product_page(&xs, &cat, o.product, o.k, NULL, &r))
        goto out;
    /* The shopper takes the product and the first suggestion (skipping new
     * products from earlier runs of this demo). */
    const msgpack_object *items = map_get(r.root, "items");
    for (uint32_t i = 0; items && items->type == MSGPACK_OBJECT_ARRAY &&
                         i < items->via.array.size && !second; i++) {
        const msgpack_object *it = map_get(&items->via.array.ptr[i], "item");
        if (!it || it->type != MSGPACK_OBJECT_STR ||
            (it->via.str.size >= strlen(NEW_PREFIX) &&
             !memcmp(it->via.str.ptr, NEW_PREFIX, strlen(NEW_PREFIX))))
            continue;
        if (!(second = strndup(it->via.str.ptr, it->via.str.size))) {
            fprintf(stderr, "storefront: out of memory\n");
            xs_reply_free(&r);
            goto out;
        }
    }
    xs_reply_free(&r);

    /* 2. Basket page.  Basket items are never returned anyway; exclude is
     * where a shop would also list what the shopper already owns. */
    const char *basket[3] = {o.product, second, NULL};
    size_t n_basket = second ? 2 : 1;
    printf("\n2. Basket page: %s%s%s\n", o.product, second ? ", " : "", second ? second : "");
    if (pack_recommend(&sb, basket, n_basket, basket, n_basket, SHOPPER, o.k, false)) {
        fprintf(stderr, "storefront: out of memory\n");
        goto out;
    }
    if (xs_request(&xs, &sb, &r))
        goto out;
    printf("   You may also like:\n");
    show_items(r.root, &cat, NULL);
    xs_reply_free(&r);

    /* 3. Checkout: the basket plus a product launched today, which no order
     * has ever held (new ids on every run), and a second order of the
     * product with it from another shopper: a pair seen in one order is
     * not evidence enough to recommend (copurchase's min_count, 2 by
     * default), two are. */
    time_t now = time(NULL);
    char order[64], new_item[64];
    if (now == (time_t)-1) {
        fprintf(stderr, "storefront: time: %s\n", strerror(errno));
        goto out;
    }
    snprintf(order, sizeof order, "WEB-%lld-%ld", (long long)now, (long)getpid());
    snprintf(new_item, sizeof new_item, NEW_PREFIX "%lld-%ld", (long long)now,
             (long)getpid());
    basket[n_basket++] = new_item;
    double prices[3];
    for (size_t i = 0; i < n_basket; i++)
        prices[i] = item_price(&cat, basket[i]);
    char order2[80];
    snprintf(order2, sizeof order2, "%s-2", order);
    const char *pair[2] = {o.product, new_item};
    double pair_prices[2] = {item_price(&cat, o.product),
                             item_price(&cat, new_item)};
    double accepted = 0;
    for (int k = 0; k < 2; k++) {
        double got = 0;
        msgpack_sbuffer_clear(&sb);
        if (k == 0 ? pack_ingest(&sb, SHOPPER, order, basket, prices, n_basket)
                   : pack_ingest(&sb, OTHER_SHOPPER, order2, pair, pair_prices,
                                 2)) {
            fprintf(stderr, "storefront: out of memory\n");
            goto out;
        }
        if (xs_request(&xs, &sb, &r))
            goto out;
        (void)obj_num(map_get(r.root, "accepted"), &got);
        accepted += got;
        xs_reply_free(&r);
    }
    printf("\n3. Checkout: order %s (", order);
    for (size_t i = 0; i < n_basket; i++)
        printf("%s%s", i ? ", " : "", basket[i]);
    printf(") and %s (%s, %s): %g events ingested\n", order2, o.product,
           new_item, accepted);
    if (product_page(&xs, &cat, o.product, o.k, new_item, &r))
        goto out;
    xs_reply_free(&r);
    rc = 0;
out:
    msgpack_sbuffer_destroy(&sb);
    free(second);
    xs_client_close(&xs);
    catalog_free(&cat);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "storefront: writing the output: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}
