/*
 * settings.c -- the engine's settings (xs_engine_set_rule): the business
 * rules and the blend's weights and fill, as "key" = "value" strings.
 *
 * Settings are strings so the config file, the CLI and embedders share one
 * parser; they are made before serving (no lock: single threaded set-up).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/engine_state.h"

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
        !strcasecmp(s, "on"))
        *out = 1;
    else if (!strcmp(s, "0") || !strcasecmp(s, "false") ||
             !strcasecmp(s, "no") || !strcasecmp(s, "off"))
        *out = 0;
    else
        return -1;
    return 0;
}

int xs_engine_set_rule(xs_engine *e, const char *key, const char *value,
                       xs_error *err)
{
    if (!strcmp(key, "exclude_owned")) {
        if (parse_bool(value, &e->rules.exclude_owned))
            return xs_error_set(err, XS_ERR_USAGE,
                                "exclude_owned: want true or false, not '%s'",
                                value);
        return XS_OK;
    }
    if (!strcmp(key, "rebuy"))
        return xs_business_rules_set_rebuy(&e->rules, e->store.cat, value,
                                           err);
    if (!strcmp(key, "fill")) {
        if (!strcmp(value, "none")) {
            e->fill = -1;
            return XS_OK;
        }
        int i = xs_registry_find(&e->plugins, value);
        if (i < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "fill: no plugin '%s' is loaded", value);
        e->fill = i;
        return XS_OK;
    }
    if (!strncmp(key, "weight.", 7)) {
        int i = xs_registry_find(&e->plugins, key + 7);
        if (i < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: no plugin '%s' is loaded", key, key + 7);
        char *end;
        double w = strtod(value, &end);
        if (!*value || *end || !isfinite(w) || w < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: want a number >= 0, not '%s'", key, value);
        e->plugins.v[i].weight = w;
        return XS_OK;
    }
    return xs_error_set(err, XS_ERR_USAGE,
                        "unknown setting '%s' (exclude_owned, rebuy, fill, "
                        "weight.PLUGIN)", key);
}
