/*
 * engine/run.h -- one plugin answering one request into a result: the unit
 * of work of a single-plugin request and of each plugin of a blend.
 */
#ifndef XS_ENGINE_RUN_H
#define XS_ENGINE_RUN_H

#include <stdint.h>

#include "engine/registry.h"
#include "engine/result.h"

typedef struct xs_task {
    xs_plugin_instance *pi;
    const xs_request *req; /* shared by a request's tasks, read only */
    uint32_t k;            /* result size asked of the plugin */
    xs_result *res;        /* the task's own; its filter set by the caller */
    int rc;                /* XS_OK, XS_ERR_NOMEM or XS_ERR_PLUGIN */
} xs_task;

/* Runs the plugin for req with result size k into res, whose heap is
 * sorted best first on return; sets and returns t->rc.  Candidates the
 * host dropped as invalid are added to the plugin's counter. */
int xs_task_run(xs_task *t);

/* xs_task_run for the pool (engine/pool.h): arg is the task. */
void xs_task_job(void *arg);

/* The error of a failed task, set in err; returns its code. */
int xs_task_error(const xs_task *t, xs_error *err);

#endif
