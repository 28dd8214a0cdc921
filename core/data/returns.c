/*
 * returns.c -- returns subtracted from the purchases they return (see
 * returns.h).
 *
 * One pass in file order with a table from (customer, item) to the latest
 * event of that pair still holding weight, and a chain (prev) from each
 * such event to the one before it: a return walks the chain back from the
 * head, taking weight off until its quantity is used up; events emptied
 * are marked and dropped by a compaction at the end.  Memory: the table
 * (two slots per event at most, 16 bytes each), the chain and a mark per
 * event, only when the file holds a return at all.
 *
 * The dictionaries are then rebuilt by interning, in event order, the
 * names the remaining events use: a name only a removed event used (the
 * customer whose every purchase came back, the order fully returned) is
 * gone, and ids are in order of first appearance as a loader gives them.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "data/returns.h"

#define EMPTY UINT64_MAX
#define NO_EVENT SIZE_MAX

/* The slot of key in the table of mask + 1 slots (open addressing). */
static size_t slot_of(const uint64_t *keys, size_t mask, uint64_t key)
{
    size_t i = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    while (keys[i] != EMPTY && keys[i] != key)
        i = (i + 1) & mask;
    return i;
}

/* Replaces *d by a dictionary of the names the events' field uses, in
 * their order.  off is the field's offset in xs_event.  0 or -1 (memory). */
static int rebuild(xs_dict **d, xs_event *ev, size_t n, size_t off)
{
    uint32_t old_n = xs_dict_size(*d);
    uint32_t *map = malloc(((size_t)old_n + 1) * sizeof *map);
    xs_dict *nd = xs_dict_new();
    if (!map || !nd)
        goto nomem;
    memset(map, 0xff, ((size_t)old_n + 1) * sizeof *map); /* XS_NONE */
    for (size_t i = 0; i < n; i++) {
        uint32_t *id = (uint32_t *)((char *)&ev[i] + off);
        if (*id == XS_NONE || *id >= old_n)
            continue;
        if (map[*id] == XS_NONE) {
            uint32_t len;
            const char *s = xs_dict_key(*d, *id, &len);
            if (xs_dict_intern(nd, s, len, &map[*id]))
                goto nomem;
        }
        *id = map[*id];
    }
    free(map);
    xs_dict_free(*d);
    *d = nd;
    return 0;
nomem:
    free(map);
    xs_dict_free(nd);
    return -1;
}

int xs_returns_subtract(xs_dataset *ds, xs_load_report *report,
                        xs_error *err)
{
    size_t n = ds->n_events, first = 0;
    xs_event *ev = ds->events;
    while (first < n && !(ev[first].weight < 0))
        first++;
    if (first == n)
        return 0;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    uint64_t *keys = malloc(cap * sizeof *keys);
    size_t *head = malloc(cap * sizeof *head);
    size_t *prev = malloc(n * sizeof *prev);
    unsigned char *gone = calloc(n, 1);
    uint64_t unmatched = 0, removed = 0;
    if (!keys || !head || !prev || !gone)
        goto nomem;
    memset(keys, 0xff, cap * sizeof *keys); /* EMPTY */
    for (size_t i = 0; i < n; i++) {
        uint64_t key = (uint64_t)ev[i].customer << 32 | ev[i].item;
        size_t s = slot_of(keys, cap - 1, key);
        if (keys[s] == EMPTY) {
            keys[s] = key;
            head[s] = NO_EVENT;
        }
        if (!(ev[i].weight < 0)) {
            if (ev[i].weight > 0) {
                prev[i] = head[s];
                head[s] = i;
            }
            continue;
        }
        double q = -ev[i].weight;
        size_t j = head[s];
        gone[i] = 1;
        while (q > 0 && j != NO_EVENT) {
            if (ev[j].weight > q) {
                ev[j].weight -= q;
                q = 0;
            } else {
                q -= ev[j].weight;
                ev[j].weight = 0;
                gone[j] = 1;
                removed++;
                j = prev[j];
            }
        }
        head[s] = j;
        unmatched += q > 0;
    }
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (!gone[i])
            ev[w++] = ev[i];
    ds->n_events = w;
    free(keys);
    free(head);
    free(prev);
    free(gone);
    keys = NULL;
    head = prev = NULL;
    gone = NULL;
    if (rebuild(&ds->customers, ev, w, offsetof(xs_event, customer)) ||
        rebuild(&ds->items, ev, w, offsetof(xs_event, item)) ||
        (ds->orders && rebuild(&ds->orders, ev, w, offsetof(xs_event, order))))
        goto nomem;
    if (report) {
        report->returns_unmatched = unmatched;
        report->removed = removed;
    }
    return 0;
nomem:
    free(keys);
    free(head);
    free(prev);
    free(gone);
    return xs_error_set(err, XS_ERR_NOMEM, "out of memory subtracting "
                        "returns"), -1;
}
