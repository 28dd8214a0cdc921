/*
 * serve/wire.h -- what the handlers of the wire protocol share: the
 * handler's state, the request's fields as found by the first pass, and
 * the helpers that read fields (with the error reply naming the field) and
 * pack replies.  One file per op family implements the ops (op_*.c);
 * protocol.c reads the request and dispatches.
 *
 * Ownership: a handler belongs to one worker thread; everything here
 * points into the request being handled or into the handler's own
 * buffers, valid until its next request.
 */
#ifndef XS_SERVE_WIRE_H
#define XS_SERVE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "serve/mp_read.h"
#include "serve/protocol.h"
#include "xsell/dict.h"
#include "xsell/engine.h"

/* The request fields any op reads, found in one pass over the map. */
enum xs_field {
    XS_F_OP, XS_F_ITEMS, XS_F_CUSTOMER, XS_F_K, XS_F_PLUGIN, XS_F_EXCLUDE,
    XS_F_EXPLAIN, XS_F_EVENTS, XS_F_MIN_SUPPORT, XS_F_MIN_CONFIDENCE,
    XS_F_LIMIT, XS_F_SORT, XS_F_SCOPE, XS_F_ID, XS_F_CATEGORY,
    XS_F_EXCLUDE_OWNED, XS_F_FILTER, XS_F_BOOST, XS_F_COUNT
};

/* The fields' names on the wire, by enum xs_field. */
extern const char *const xs_wire_field_names[XS_F_COUNT];

/* Property values in one catalog request (all its items together). */
#define XS_CATALOG_PROPS 65536

/* Bytes for integer ids turned into strings: three per event at most. */
#define XS_ID_TEXT 24

struct xs_protocol {
    const xs_protocol_shared *sh;
    xs_context *ctx;
    msgpack_sbuffer buf; /* the reply */
    msgpack_packer pk;
    xs_mp field[XS_F_COUNT]; /* where each field's value starts */
    int has[XS_F_COUNT];
    uint32_t ids[XS_MAX_ITEMS];
    uint32_t exclude[XS_MAX_ITEMS];
    struct { const char *s; uint32_t len; } unknown[XS_MAX_ITEMS];
    char unknown_text[XS_MAX_ITEMS][XS_ID_TEXT]; /* unknown integer ids */
    uint32_t n_unknown;
    xs_ingest_event *events;  /* XS_INGEST_MAX, on first ingest */
    xs_catalog_item *catalog; /* XS_INGEST_MAX, on first catalog op */
    xs_prop_value *props;     /* XS_CATALOG_PROPS, on first catalog op
                                 naming properties */
    xs_prop_term *terms;      /* 2 x XS_PROP_TERMS_MAX: a recommend's
                                 filter, then its boosts; on first use */
    char *id_text;            /* 3 * XS_INGEST_MAX * XS_ID_TEXT */
    char err[256];
    const uint8_t *id; /* the request's "id" value, echoed in the reply */
    size_t id_len;
};

/* ---- replies ---- */

void xs_wire_pack_str(msgpack_packer *pk, const char *s);
void xs_wire_pack_strn(msgpack_packer *pk, const char *s, uint32_t n);
/* Packs the name of id in d with the length the dictionary stores (no
 * strlen, embedded NULs kept); nil for an id d does not hold. */
void xs_wire_pack_name(msgpack_packer *pk, const xs_dict *d, uint32_t id);
/* Starts a reply map of n entries plus "ok" and the echoed "id". */
void xs_wire_head(xs_protocol *p, uint32_t n, int ok);
/* Replaces whatever was packed with an error reply {"ok": false, "error":
 * {"code", "message"}}, the message made ASCII; returns -1. */
int xs_wire_fail(xs_protocol *p, const char *code, const char *fmt, ...)
    XS_PRINTF(3, 4);
/* The error reply for a field of the wrong type: "FIELD: want WHAT, not
 * TYPE"; returns -1. */
int xs_wire_want(xs_protocol *p, const char *field, const char *what,
                 const xs_mp *m);

/* ---- fields ---- (each returns 0, or -1 with the error reply packed) */

/* An id: a string, or an integer written in decimal into text (at least
 * XS_ID_TEXT bytes).  Returns 0 or -1 (no reply packed). */
int xs_wire_read_id(xs_mp *m, char *text, const char **s, uint32_t *len);
/* Optional fields with their default and range. */
int xs_wire_opt_int(xs_protocol *p, int f, int64_t def, int64_t lo,
                    int64_t hi, int64_t *out);
int xs_wire_opt_number(xs_protocol *p, int f, double def, double lo,
                       double hi, double *out);
/* *s NULL when absent or nil. */
int xs_wire_opt_str(xs_protocol *p, int f, const char **s, uint32_t *len);
/* An array of item ids looked up in the engine (the caller holds the read
 * lock): known ones to ids[], unknown ones to p->unknown when
 * record_unknown. */
int xs_wire_read_ids(xs_protocol *p, int f, uint32_t *ids, uint32_t *n,
                     int record_unknown);

/* ---- the ops ---- (0, or -1 with the error reply packed) */

int xs_op_recommend(xs_protocol *p); /* op_recommend.c */
int xs_op_ingest(xs_protocol *p);    /* op_write.c */
int xs_op_catalog(xs_protocol *p);   /* op_write.c */
int xs_op_save(xs_protocol *p);      /* op_write.c */
int xs_op_rules(xs_protocol *p);     /* op_rules.c */
int xs_op_stats(xs_protocol *p);     /* op_info.c */
int xs_op_health(xs_protocol *p);    /* op_info.c */
int xs_op_plugins(xs_protocol *p);   /* op_info.c */

#endif
