/*
 * xs_uthash.h -- uthash configured never to exit().
 *
 * With HASH_NONFATAL_OOM a failed bucket allocation leaves the object out of
 * the table and runs uthash_nonfatal_oom(), which here sets a local flag:
 * every function that adds to a hash declares `int hash_oom = 0;` and checks
 * it after HASH_ADD*.
 */
#ifndef XS_UTHASH_H
#define XS_UTHASH_H

#include <stdlib.h>

#define HASH_NONFATAL_OOM 1
#define uthash_nonfatal_oom(obj) \
    do {                         \
        (void)(obj);             \
        hash_oom = 1;            \
    } while (0)

#include "uthash.h"

#endif
