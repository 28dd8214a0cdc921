/*
 * engine/settings.h -- applying the engine's default settings (settings.c
 * holds the table of them and the parser xs_engine_set_rule).
 */
#ifndef XS_ENGINE_SETTINGS_H
#define XS_ENGINE_SETTINGS_H

#include <stddef.h>

#include "xsell/engine.h"

/* The defaults that need no plugin; at engine creation. */
int xs_settings_defaults(xs_engine *e, xs_error *err);

/* The defaults that name plugin i, just loaded (its blend weight, the fill
 * when the fill was not set). */
void xs_settings_plugin_loaded(xs_engine *e, size_t i);

#endif
