/*
 * settings.c -- the engine's settings (xs_engine_set_rule): the business
 * rules and the blend's weights and fill, as "key" = "value" strings, and
 * the table of their defaults.
 *
 * Settings are strings so the config file, the CLI and embedders share one
 * parser; they are made before serving (no lock: single threaded set-up).
 * Booleans are the one dialect of xsell/plugin_util.h.
 *
 * Defaults are data, not code: the table below, applied through the same
 * parser.  A default naming a plugin applies when that plugin loads (and
 * the fill's only while `fill` was not set), so no plugin's name appears
 * anywhere else in the engine.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine_state.h"
#include "engine/settings.h"
#include "xsell/plugin_util.h"

static const struct {
    const char *key, *value;
    const char *plugin; /* applies when this plugin loads; NULL: at once */
} defaults[] = {
    {"exclude_owned", "true", NULL},
    {"fill", "popular", "popular"},      /* cold starts, short blends */
    /* Chosen by measurement (bench/RESULTS.md, "Defaults").  popular
     * blends a little as well as filling: a quarter weight lifted every
     * evaluation (both protocols, every data set) above each plugin alone.
     * A customer without items is recency's question; copurchase answers
     * it from the customer's latest purchases, a fallback that lowered the
     * blend below recency alone at every weight tried.  upsell answers its
     * own slot (a dearer substitute), not "what next": blended, it lowered
     * both evaluations. */
    {"weight.popular", "0.25", "popular"},
    {"weight.copurchase.customer", "0", "copurchase"},
    {"weight.upsell", "0", "upsell"},
};

/* One setting, without marking `fill` as set (the defaults go through here
 * too). */
static int apply(xs_engine *e, const char *key, const char *value,
                 xs_error *err)
{
    if (!strcmp(key, "exclude_owned")) {
        if (xs_opt_bool(value, &e->rules.exclude_owned))
            return xs_error_set(err, XS_ERR_USAGE,
                                "exclude_owned: want true or false, not '%s'",
                                value);
        return XS_OK;
    }
    if (!strcmp(key, "event_weights"))
        return xs_store_set_type_weights(&e->store, value, err);
    if (!strcmp(key, "rebuy"))
        return xs_business_rules_set_rebuy(&e->rules, e->store.cat, value,
                                           err);
    if (!strcmp(key, "fill")) {
        int i = strcmp(value, "none") ? xs_registry_find(&e->plugins, value)
                                      : -1;
        if (i < 0 && strcmp(value, "none"))
            return xs_error_set(err, XS_ERR_USAGE,
                                "fill: no plugin '%s' is loaded", value);
        e->fill = i;
        return XS_OK;
    }
    if (!strncmp(key, "weight.", 7)) {
        /* weight.NAME or weight.NAME.customer: names hold no '.' */
        char name[64];
        const char *dot = strchr(key + 7, '.');
        size_t len = dot ? (size_t)(dot - (key + 7)) : strlen(key + 7);
        if (dot && strcmp(dot + 1, "customer"))
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: want weight.PLUGIN or "
                                "weight.PLUGIN.customer", key);
        if (len >= sizeof name)
            len = sizeof name - 1; /* too long for a name: not found */
        memcpy(name, key + 7, len);
        name[len] = '\0';
        int i = xs_registry_find(&e->plugins, name);
        if (i < 0)
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: no plugin '%s' is loaded", key, name);
        double w;
        if (xs_opt_number(value, 0, INFINITY, &w))
            return xs_error_set(err, XS_ERR_USAGE,
                                "%s: want a number >= 0, not '%s'", key, value);
        if (dot)
            e->plugins.v[i].weight_customer = w;
        else
            e->plugins.v[i].weight = w;
        return XS_OK;
    }
    return xs_error_set(err, XS_ERR_USAGE,
                        "unknown setting '%s' (exclude_owned, rebuy, fill, "
                        "weight.PLUGIN, weight.PLUGIN.customer)", key);
}

int xs_settings_defaults(xs_engine *e, xs_error *err)
{
    e->fill = -1;
    e->fill_set = 0;
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) {
        int rc;
        if (!defaults[i].plugin &&
            (rc = apply(e, defaults[i].key, defaults[i].value, err)))
            return rc;
    }
    return XS_OK;
}

void xs_settings_plugin_loaded(xs_engine *e, size_t i)
{
    const char *name = e->plugins.v[i].so.table->name;
    /* the plugin named is loaded: these settings cannot fail */
    for (size_t d = 0; d < sizeof defaults / sizeof *defaults; d++)
        if (defaults[d].plugin && !strcmp(defaults[d].plugin, name) &&
            !(e->fill_set && !strcmp(defaults[d].key, "fill")))
            apply(e, defaults[d].key, defaults[d].value, NULL);
}

int xs_engine_set_rule(xs_engine *e, const char *key, const char *value,
                       xs_error *err)
{
    int rc = apply(e, key, value, err);
    if (rc == XS_OK && !strcmp(key, "fill"))
        e->fill_set = 1; /* its default no longer applies */
    return rc;
}
