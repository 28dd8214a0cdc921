/*
 * atomic_out.h -- a command's output file, all or nothing.
 *
 * The output is written to a temporary beside the target (same directory,
 * so the final rename(2) never crosses file systems) named
 * ".NAME.tmp-XXXXXX", and renamed over the target once complete: a reader
 * of the target sees the previous complete file or the new complete one,
 * never a prefix.  On an error the temporary is removed and the target left
 * as it was; on SIGINT/SIGTERM meanwhile the temporary is removed by the
 * signal handler (cli/interrupt.h) and the command exits 130/143.
 *
 * "-" means standard output, written in place (nothing to rename).
 *
 *     cli_out o;
 *     if ((rc = cli_out_open(&o, "score", path)))
 *         return rc;                     // reported
 *     ... write to o.f ...
 *     rc = cli_out_commit(&o, "score");  // or cli_out_abort(&o)
 *
 * A writer that opens the file by name itself (a library function given a
 * path) calls cli_out_release first and writes to o.tmp.
 */
#ifndef XSELL_CLI_ATOMIC_OUT_H
#define XSELL_CLI_ATOMIC_OUT_H

#include <stdio.h>

typedef struct cli_out {
    const char *path; /* the target, as given; "-": standard output */
    char *tmp;        /* the temporary (owned); NULL for standard output */
    FILE *f;          /* open for writing; NULL after cli_out_release */
    int slot;         /* interrupt slot, -1: none */
} cli_out;

/* Creates the temporary beside path, open as o->f (mode 0666 less the
 * umask, as fopen would create it).  Returns CLI_OK, or CLI_RUNTIME after
 * printing "xsell CMD: PATH: reason". */
int cli_out_open(cli_out *o, const char *cmd, const char *path);
/* Closes o->f, leaving the temporary to be written by name (o->tmp). */
void cli_out_release(cli_out *o);
/* Flushes, closes and renames the temporary over the target.  Returns
 * CLI_OK, or CLI_RUNTIME after printing why (the temporary removed, the
 * target untouched).  o is done with either way. */
int cli_out_commit(cli_out *o, const char *cmd);
/* Closes and removes the temporary; the target is untouched.  A no-op on a
 * zeroed or finished cli_out. */
void cli_out_abort(cli_out *o);

#endif
