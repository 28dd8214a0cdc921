/*
 * engine/engine_state.h -- the engine object: what the facade (engine.c),
 * the settings, ingest and catalog upsert share.  The request path reaches
 * the pieces (store, registry, rules) through their own headers.
 *
 * Ownership: the engine owns the store, the registry (and so the plugins),
 * the rules and the pool.  Contexts belong to their threads and are freed
 * before the engine.
 *
 * Threads: `lock` is a writer-preferring rwlock.  Requests hold it for
 * reading; ingest and catalog upsert for writing, so plugins' observe() and
 * catalog() never overlap a recommend().  `writers` orders writes among
 * themselves (journal order = application order) without holding readers
 * back while a journal waits for its disk.  Building (new, add_plugin,
 * settings) is single threaded, before serving.
 */
#ifndef XS_ENGINE_ENGINE_STATE_H
#define XS_ENGINE_ENGINE_STATE_H

#include <pthread.h>

#include "engine/business_rules.h"
#include "engine/host.h"
#include "engine/pool.h"
#include "engine/registry.h"
#include "engine/store.h"
#include "xsell/engine.h"

struct xs_engine {
    xs_engine_config cfg; /* plugin_dir cleared: the caller's string */
    xs_store store;
    xs_host host;         /* what plugins hold: the store and the log */
    xs_registry plugins;
    xs_business_rules rules;
    int fill;             /* plugin filling short blends, -1: none */
    int fill_set;         /* `fill` was set: its default no longer applies */
    xs_pool *pool;        /* blend fan-out; NULL: run in the caller */
    pthread_rwlock_t lock;
    pthread_mutex_t writers; /* held by a write from its journal call to
                                the end of its application, and by
                                xs_engine_writes_pause */
    xs_journal journal;      /* hooks NULL: writes are not journaled */
};

#endif
