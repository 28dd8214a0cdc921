/*
 * op_rules.c -- the rules op: the association rules of a scope's table,
 * as `xsell rules` finds them, at most `limit` of them in the reply.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "serve/wire.h"
#include "xsell/rules.h"

int xs_op_rules(xs_protocol *p)
{
    xs_engine *e = p->sh->engine;
    double min_support, min_conf;
    int64_t limit;
    const char *sort_s, *scope_s;
    uint32_t sort_len, scope_len;
    if (xs_wire_opt_number(p, XS_F_MIN_SUPPORT, 0.1, 0, 1, &min_support) ||
        xs_wire_opt_number(p, XS_F_MIN_CONFIDENCE, 0.8, 0, 1, &min_conf) ||
        xs_wire_opt_int(p, XS_F_LIMIT, 100, 1, XS_MAX_RULES, &limit) ||
        xs_wire_opt_str(p, XS_F_SORT, &sort_s, &sort_len) ||
        xs_wire_opt_str(p, XS_F_SCOPE, &scope_s, &scope_len))
        return -1;
    int sort = XS_RULES_BY_LIFT;
    if (sort_s) {
        char name[16];
        snprintf(name, sizeof name, "%.*s",
                 (int)(sort_len < 15 ? sort_len : 15), sort_s);
        if (sort_len >= 15 || memchr(sort_s, '\0', sort_len) ||
            (sort = xs_rule_sort_parse(name)) < 0)
            return xs_wire_fail(p, "bad_request",
                                "sort: want lift, confidence, "
                                "support, count or name");
    }
    int scope = xs_engine_default_scope(e);
    if (scope_s) {
        if (xs_mp_str_eq(scope_s, scope_len, "basket"))
            scope = XS_SCOPE_BASKET;
        else if (xs_mp_str_eq(scope_s, scope_len, "customer"))
            scope = XS_SCOPE_CUSTOMER;
        else
            return xs_wire_fail(p, "bad_request",
                                "scope: want basket or customer");
    }
    xs_engine_read_lock(e);
    const xs_cooc *c = xs_engine_cooc(e, scope);
    if (!c) {
        xs_engine_read_unlock(e);
        return xs_wire_fail(p, "unavailable",
                            "no %s-scope table on this server",
                            scope == XS_SCOPE_BASKET ? "basket" : "customer");
    }
    xs_rule *rules;
    size_t n;
    xs_error err;
    if (xs_rules_find(c, xs_engine_dataset(e)->items, min_support, min_conf,
                      sort, &rules, &n, &err)) {
        xs_engine_read_unlock(e);
        return xs_wire_fail(p, "internal", "%s", err.msg);
    }
    size_t shown = n < (size_t)limit ? n : (size_t)limit;
    msgpack_packer *pk = &p->pk;
    xs_wire_head(p, 3, 1);
    xs_wire_pack_str(pk, "transactions");
    msgpack_pack_uint64(pk, xs_cooc_transactions(c));
    xs_wire_pack_str(pk, "total");
    msgpack_pack_uint64(pk, n);
    xs_wire_pack_str(pk, "rules");
    msgpack_pack_array(pk, shown);
    const xs_dict *names = xs_engine_dataset(e)->items;
    for (size_t i = 0; i < shown; i++) {
        const xs_rule *r = &rules[i];
        msgpack_pack_map(pk, 6);
        xs_wire_pack_str(pk, "lhs");
        xs_wire_pack_name(pk, names, r->lhs);
        xs_wire_pack_str(pk, "rhs");
        xs_wire_pack_name(pk, names, r->rhs);
        xs_wire_pack_str(pk, "support");
        msgpack_pack_double(pk, r->support);
        xs_wire_pack_str(pk, "confidence");
        msgpack_pack_double(pk, r->confidence);
        xs_wire_pack_str(pk, "lift");
        msgpack_pack_double(pk, r->lift);
        xs_wire_pack_str(pk, "count");
        msgpack_pack_uint32(pk, r->count);
    }
    xs_engine_read_unlock(e);
    free(rules);
    return 0;
}
