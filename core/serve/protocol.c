/*
 * protocol.c -- requests to replies (protocol.h, docs/protocol.md).
 *
 * A request is read in two passes over the received bytes: xs_mp_check
 * proves it is one well-formed msgpack value nested at most XS_MAX_DEPTH
 * deep, then the top-level map is scanned once, recording where each known
 * field's value starts.  Each op then reads its fields with type checks;
 * every problem becomes an error reply naming the field.  Nothing is
 * allocated per request once the handler is warm: ids, exclusions and
 * ingest events go to arrays the handler keeps, strings are read in place.
 *
 * The field readers and reply packers are in wire.c, the ops in one file
 * per family: op_recommend.c, op_write.c (ingest, catalog), op_rules.c,
 * op_info.c (stats, health, plugins).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/auth.h"
#include "serve/wire.h"

double xs_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

xs_protocol *xs_protocol_new(const xs_protocol_shared *sh)
{
    xs_protocol *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->sh = sh;
    p->ctx = xs_context_new(sh->engine);
    if (!p->ctx) {
        free(p);
        return NULL;
    }
    msgpack_sbuffer_init(&p->buf);
    msgpack_packer_init(&p->pk, &p->buf, msgpack_sbuffer_write);
    return p;
}

void xs_protocol_free(xs_protocol *p)
{
    if (!p)
        return;
    xs_context_free(p->ctx);
    msgpack_sbuffer_destroy(&p->buf);
    free(p->events);
    free(p->catalog);
    free(p->props);
    free(p->terms);
    free(p->id_text);
    free(p);
}

void xs_protocol_error(xs_protocol *p, const char *code, const char *msg,
                       const char **reply, size_t *reply_len)
{
    p->id = NULL;
    xs_wire_fail(p, code, "%s", msg);
    *reply = p->buf.data;
    *reply_len = p->buf.size;
}

static int parse_request(xs_protocol *p, const void *req, size_t len, int *op)
{
    *op = XS_OP_INVALID;
    p->id = NULL; /* never the previous request's (its bytes are freed) */
    if (xs_mp_check(req, len, XS_MAX_DEPTH))
        return xs_wire_fail(p, "bad_request",
                            "not one msgpack value (or nested "
                            "deeper than %d)",
                            XS_MAX_DEPTH);
    xs_mp m;
    xs_mp_init(&m, req, len);
    uint32_t n;
    if (xs_mp_read_map(&m, &n))
        return xs_wire_fail(p, "bad_request", "a request is a map, not %s",
                            xs_mp_type_name(xs_mp_type(&m)));
    memset(p->has, 0, sizeof p->has);
    p->id = NULL;
    for (uint32_t i = 0; i < n; i++) {
        const char *key;
        uint32_t klen;
        if (xs_mp_read_str(&m, &key, &klen))
            return xs_wire_fail(p, "bad_request", "keys must be strings");
        int f;
        for (f = 0; f < XS_F_COUNT; f++)
            if (xs_mp_str_eq(key, klen, xs_wire_field_names[f]))
                break;
        if (f < XS_F_COUNT) {
            if (p->has[f])
                return xs_wire_fail(p, "bad_request", "field '%s' given twice",
                                    xs_wire_field_names[f]);
            p->has[f] = 1;
            p->field[f] = m;
        } /* unknown fields are ignored: newer clients may send more */
        xs_mp_skip(&m, XS_MAX_DEPTH); /* checked above: cannot fail */
        if (f == XS_F_ID) { /* echo a string or integer id of sane size */
            int t = xs_mp_type(&p->field[XS_F_ID]);
            size_t id_len = (size_t)(m.p - p->field[XS_F_ID].p);
            if ((t == XS_MP_STR || t == XS_MP_INT) && id_len <= 256) {
                p->id = p->field[XS_F_ID].p;
                p->id_len = id_len;
            }
        }
    }
    if (!p->has[XS_F_OP])
        return xs_wire_fail(p, "bad_request", "missing field 'op'");
    xs_mp om = p->field[XS_F_OP];
    const char *s;
    uint32_t slen;
    if (xs_mp_read_str(&om, &s, &slen))
        return xs_wire_want(p, "op", "a string", &p->field[XS_F_OP]);
    *op = xs_op_parse(s, slen);
    if (*op == XS_OP_INVALID)
        return xs_wire_fail(p, "unknown_op",
                            "unknown op '%.*s' (recommend, ingest, "
                            "catalog, rules, stats, health, plugins, save)",
                            (int)(slen < 40 ? slen : 40), s);
    return 0;
}

void xs_protocol_refuse(xs_protocol *p, const void *req, size_t len,
                        const char *code, const char *msg,
                        const char **reply, size_t *reply_len)
{
    int op;
    parse_request(p, req, len, &op); /* sets p->id when it finds one */
    xs_wire_fail(p, code, "%s", msg);
    *reply = p->buf.data;
    *reply_len = p->buf.size;
}

/* The handler of each op, by enum xs_op. */
static int (*const handlers[XS_OP_COUNT])(xs_protocol *p) = {
    [XS_OP_RECOMMEND] = xs_op_recommend, [XS_OP_INGEST] = xs_op_ingest,
    [XS_OP_RULES] = xs_op_rules,         [XS_OP_STATS] = xs_op_stats,
    [XS_OP_HEALTH] = xs_op_health,       [XS_OP_PLUGINS] = xs_op_plugins,
    [XS_OP_CATALOG] = xs_op_catalog,     [XS_OP_SAVE] = xs_op_save,
};

/* The ops a read key may not use. */
static int writes(int op)
{
    return op == XS_OP_INGEST || op == XS_OP_CATALOG || op == XS_OP_SAVE;
}

int xs_protocol_handle(xs_protocol *p, const void *req, size_t len,
                       int role, const char **reply, size_t *reply_len,
                       int *failed)
{
    int op;
    msgpack_sbuffer_clear(&p->buf);
    int rc = parse_request(p, req, len, &op);
    if (rc == 0 && role != XS_ROLE_WRITE && writes(op)) {
        atomic_fetch_add((_Atomic uint64_t *)&p->sh->forbidden, 1);
        rc = xs_wire_fail(p, "forbidden", "%s needs a write key (this "
                          "client's key is in the clients directory's read/)",
                          xs_op_name(op));
    } else if (rc == 0)
        rc = op >= 0 && op < XS_OP_COUNT && handlers[op]
                 ? handlers[op](p)
                 : xs_wire_fail(p, "unknown_op", "unknown op");
    *failed = rc != 0;
    *reply = p->buf.data;
    *reply_len = p->buf.size;
    return op;
}
