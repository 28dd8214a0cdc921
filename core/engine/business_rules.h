/*
 * engine/business_rules.h -- the rules every answer obeys, whichever
 * plugin produced it (xsell/engine.h, "blend and business rules"): never
 * the request's items or exclusions, never an out-of-stock item, never an
 * item the customer owns unless kept or re-bought, only the request's
 * category when it names one.
 */
#ifndef XS_ENGINE_BUSINESS_RULES_H
#define XS_ENGINE_BUSINESS_RULES_H

#include <stdint.h>

#include "engine/context.h"
#include "engine/store.h"

typedef struct xs_business_rules {
    int exclude_owned; /* drop items the customer bought (default 1) */
    uint32_t *rebuy;   /* category ids bought again, sorted; owned */
    uint32_t n_rebuy;
} xs_business_rules;

void xs_business_rules_init(xs_business_rules *b);
void xs_business_rules_free(xs_business_rules *b);

/* rebuy = "cat1,cat2": every name must be a category of cat (which may be
 * NULL: then every name is refused).  XS_ERR_USAGE naming the category. */
int xs_business_rules_set_rebuy(xs_business_rules *b, const xs_catalog *cat,
                                const char *value, xs_error *err);

/* Sets ctx->res's filter for req: the exclusion list (request items, the
 * filter's exclusions and, when owned items are dropped, the customer's
 * items outside re-bought categories), the catalog and the category.
 * f may be NULL.  XS_OK or XS_ERR_NOMEM. */
int xs_business_rules_apply(const xs_business_rules *b, const xs_store *s,
                            xs_context *ctx, const xs_request *req,
                            const xs_filter *f, xs_error *err);

#endif
