/*
 * returns.h -- returns (events of negative weight, a quantity) taken off
 * the purchases they return, once a file is loaded (xs_load_options
 * returns = XS_RETURNS_SUBTRACT).
 */
#ifndef XS_RETURNS_H
#define XS_RETURNS_H

#include "xsell/dataset.h"

/* Each event of negative weight -q, in file order, takes q off the weights
 * of the latest earlier events of the same customer and item, latest
 * first; an event that falls to 0 is removed, and so is the return.  What
 * no purchase covers is dropped and counted in report->returns_unmatched
 * (report may be NULL).  When anything was removed the dictionaries are
 * rebuilt from the remaining events in their order, so names and ids are
 * those of the file with the returns applied by hand.  Returns 0, or -1
 * with err set (out of memory; ds then only fit to be freed). */
int xs_returns_subtract(xs_dataset *ds, xs_load_report *report,
                        xs_error *err);

#endif
