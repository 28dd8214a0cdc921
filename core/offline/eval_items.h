/*
 * offline/eval_items.h -- what both evaluation protocols (eval_run.c, the
 * customer protocol; eval_basket.c, the basket protocol) share before
 * they ask: which items the train engine knows, and where each item of the
 * whole dataset lands in the engine's ids.
 */
#ifndef XS_OFFLINE_EVAL_ITEMS_H
#define XS_OFFLINE_EVAL_ITEMS_H

#include <stdint.h>

#include "xsell/eval.h"

/* has_events[t] (n_engine + 1 entries, zeroed) = 1 for every engine item
 * with a train event, *n_train their count; item_map[i] (one entry per
 * item of ds) = the engine id of ds's item i when it has train events,
 * else n_engine + i (an id no recommendation can hit). */
void xs_eval_map_items(xs_engine *e, const xs_dataset *ds,
                       unsigned char *has_events, uint32_t *item_map,
                       uint32_t *n_train);

#endif
