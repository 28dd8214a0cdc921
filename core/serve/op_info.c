/*
 * op_info.c -- the ops that describe the server: stats (request counts and
 * latencies of every worker, the engine's figures, memory, plugins'
 * dropped candidates and their own figures from their stats() hooks),
 * health and plugins.
 */
#include <stdio.h>

#include "serve/auth.h"
#include "serve/wire.h"

static size_t rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%lu %lu", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return (size_t)rss * 4096;
}

/* One field of a plugin's figures: its text, an integral value as an
 * integer, else a double. */
static void pack_figure(msgpack_packer *pk, const xs_evidence_field *f)
{
    xs_wire_pack_str(pk, f->key ? f->key : "");
    double v = f->value;
    if (f->text)
        xs_wire_pack_str(pk, f->text);
    else if (v >= 0 && v < 9007199254740992.0 && v == (double)(uint64_t)v)
        msgpack_pack_uint64(pk, (uint64_t)v);
    else
        msgpack_pack_double(pk, v);
}

int xs_op_stats(xs_protocol *p)
{
    xs_stats_summary s;
    xs_stats_summarize(p->sh->stats, p->sh->n_stats, &s);
    xs_engine_info info;
    xs_engine_read_lock(p->sh->engine);
    xs_engine_info_get(p->sh->engine, &info);
    xs_engine_read_unlock(p->sh->engine);
    msgpack_packer *pk = &p->pk;
    xs_wire_head(p, 12, 1);
    xs_wire_pack_str(pk, "uptime_s");
    msgpack_pack_double(pk, xs_now() - p->sh->started);
    xs_wire_pack_str(pk, "requests");
    msgpack_pack_map(pk, XS_OP_COUNT);
    for (int op = 0; op < XS_OP_COUNT; op++) {
        xs_wire_pack_str(pk, xs_op_name(op));
        msgpack_pack_map(pk, 2);
        xs_wire_pack_str(pk, "count");
        msgpack_pack_uint64(pk, s.requests[op]);
        xs_wire_pack_str(pk, "errors");
        msgpack_pack_uint64(pk, s.errors[op]);
    }
    xs_wire_pack_str(pk, "latency_us");
    msgpack_pack_map(pk, 4);
    xs_wire_pack_str(pk, "p50");
    msgpack_pack_double(pk, s.p50_us);
    xs_wire_pack_str(pk, "p90");
    msgpack_pack_double(pk, s.p90_us);
    xs_wire_pack_str(pk, "p99");
    msgpack_pack_double(pk, s.p99_us);
    xs_wire_pack_str(pk, "max");
    msgpack_pack_double(pk, s.max_us);
    xs_wire_pack_str(pk, "customers");
    msgpack_pack_uint32(pk, info.customers);
    xs_wire_pack_str(pk, "items");
    msgpack_pack_uint32(pk, info.items);
    xs_wire_pack_str(pk, "events");
    msgpack_pack_uint64(pk, info.events);
    xs_wire_pack_str(pk, "ingested");
    msgpack_pack_uint64(pk, info.ingested);
    xs_wire_pack_str(pk, "transactions");
    msgpack_pack_map(pk, 2);
    xs_wire_pack_str(pk, "basket");
    msgpack_pack_uint64(pk, info.transactions[XS_SCOPE_BASKET]);
    xs_wire_pack_str(pk, "customer");
    msgpack_pack_uint64(pk, info.transactions[XS_SCOPE_CUSTOMER]);
    xs_wire_pack_str(pk, "pairs");
    msgpack_pack_map(pk, 2);
    xs_wire_pack_str(pk, "basket");
    msgpack_pack_uint64(pk, info.pairs[XS_SCOPE_BASKET]);
    xs_wire_pack_str(pk, "customer");
    msgpack_pack_uint64(pk, info.pairs[XS_SCOPE_CUSTOMER]);
    xs_wire_pack_str(pk, "memory");
    msgpack_pack_map(pk, 5);
    xs_wire_pack_str(pk, "data_bytes");
    msgpack_pack_uint64(pk, info.bytes);
    xs_wire_pack_str(pk, "rss_bytes");
    msgpack_pack_uint64(pk, rss_bytes());
    xs_wire_pack_str(pk, "table_bytes");
    msgpack_pack_map(pk, 2);
    xs_wire_pack_str(pk, "basket");
    msgpack_pack_uint64(pk, info.table_bytes[XS_SCOPE_BASKET]);
    xs_wire_pack_str(pk, "customer");
    msgpack_pack_uint64(pk, info.table_bytes[XS_SCOPE_CUSTOMER]);
    /* the averages: what memory tracks (0 without events or pairs) */
    uint64_t pairs = info.pairs[0] + info.pairs[1];
    size_t tables = info.table_bytes[0] + info.table_bytes[1];
    xs_wire_pack_str(pk, "bytes_per_event");
    msgpack_pack_double(pk, info.events ? (double)info.bytes /
                                              (double)info.events
                                        : 0.0);
    xs_wire_pack_str(pk, "bytes_per_pair");
    msgpack_pack_double(pk, pairs ? (double)tables / (double)pairs : 0.0);
    const xs_engine *e = p->sh->engine;
    size_t np = xs_engine_plugin_count(e);
    xs_wire_pack_str(pk, "plugins");
    msgpack_pack_map(pk, np);
    /* each plugin's own figures (its stats() hook) after "dropped": read
     * like a request, under the read lock */
    xs_engine_read_lock(p->sh->engine);
    for (size_t i = 0; i < np; i++) {
        xs_evidence ev;
        int nf = xs_engine_plugin_stats(e, i, &ev);
        xs_wire_pack_str(pk, xs_engine_plugin(e, i)->name);
        msgpack_pack_map(pk, 1 + (uint32_t)nf);
        xs_wire_pack_str(pk, "dropped");
        msgpack_pack_uint64(pk, xs_engine_plugin_dropped(e, i));
        for (int f = 0; f < nf; f++)
            pack_figure(pk, &ev.f[f]);
    }
    xs_engine_read_unlock(p->sh->engine);
    xs_wire_pack_str(pk, "security");
    msgpack_pack_map(pk, 4);
    xs_wire_pack_str(pk, "curve");
    (p->sh->curve ? msgpack_pack_true : msgpack_pack_false)(pk);
    xs_wire_pack_str(pk, "insecure");
    (p->sh->insecure ? msgpack_pack_true : msgpack_pack_false)(pk);
    xs_wire_pack_str(pk, "refused_handshakes");
    msgpack_pack_uint64(pk, xs_auth_refused(p->sh->auth));
    xs_wire_pack_str(pk, "forbidden");
    msgpack_pack_uint64(pk, atomic_load((_Atomic uint64_t *)&p->sh->forbidden));
    return 0;
}

int xs_op_health(xs_protocol *p)
{
    xs_wire_head(p, 2, 1);
    xs_wire_pack_str(&p->pk, "status");
    xs_wire_pack_str(&p->pk, "serving");
    xs_wire_pack_str(&p->pk, "uptime_s");
    msgpack_pack_double(&p->pk, xs_now() - p->sh->started);
    return 0;
}

int xs_op_plugins(xs_protocol *p)
{
    const xs_engine *e = p->sh->engine;
    size_t n = xs_engine_plugin_count(e);
    xs_wire_head(p, 2, 1);
    xs_wire_pack_str(&p->pk, "default");
    xs_wire_pack_str(&p->pk,
                     p->sh->default_plugin ? p->sh->default_plugin : "blend");
    xs_wire_pack_str(&p->pk, "plugins");
    msgpack_pack_array(&p->pk, n);
    for (size_t i = 0; i < n; i++) {
        const xs_plugin *pl = xs_engine_plugin(e, i);
        msgpack_pack_map(&p->pk, 4);
        xs_wire_pack_str(&p->pk, "name");
        xs_wire_pack_str(&p->pk, pl->name);
        xs_wire_pack_str(&p->pk, "version");
        xs_wire_pack_str(&p->pk, pl->version ? pl->version : "");
        xs_wire_pack_str(&p->pk, "abi");
        msgpack_pack_uint32(&p->pk, pl->abi);
        xs_wire_pack_str(&p->pk, "description");
        xs_wire_pack_str(&p->pk, pl->description ? pl->description : "");
    }
    return 0;
}
