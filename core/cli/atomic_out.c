/*
 * atomic_out.c -- output written to a temporary and renamed over its
 * target (see atomic_out.h).
 *
 * Ownership: o->tmp is malloc'ed here and freed by commit or abort, which
 * also unregister it from cli/interrupt.c before freeing, so the signal
 * handler only ever unlinks a path that is still pending.  Order at commit:
 * the data is flushed and fsync'ed before the rename, so after a crash the
 * target holds the old file or the whole new one; the rename comes before
 * the unregistering, so a signal in between unlinks a name that no longer
 * exists (harmless).
 *
 * XSELL_TEST_HOLD_OUTPUT=SECONDS (tests only) sleeps that long before the
 * rename, the whole output written to the temporary: the tests interrupt a
 * command there, deterministically mid-run.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/atomic_out.h"
#include "cli/cli.h"
#include "cli/interrupt.h"

int cli_out_open(cli_out *o, const char *cmd, const char *path)
{
    memset(o, 0, sizeof *o);
    o->path = path;
    o->slot = -1;
    if (!strcmp(path, "-")) {
        o->f = stdout;
        return CLI_OK;
    }
    const char *slash = strrchr(path, '/');
    size_t dir_len = slash ? (size_t)(slash + 1 - path) : 0;
    size_t len = strlen(path) + 16;
    if (!(o->tmp = malloc(len)))
        return cli_fail(cmd, CLI_RUNTIME, "out of memory");
    snprintf(o->tmp, len, "%.*s.%s.tmp-XXXXXX", (int)dir_len, path,
             path + dir_len);
    int fd = cli_interrupt_create(cmd, o->tmp, &o->slot);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return cli_fail(cmd, CLI_RUNTIME, "%s: cannot write: %s", path,
                        strerror(e));
    }
    mode_t um = umask(0);
    umask(um);
    if (fchmod(fd, 0666 & ~um) || !(o->f = fdopen(fd, "wb"))) {
        int e = errno;
        close(fd);
        cli_out_abort(o);
        return cli_fail(cmd, CLI_RUNTIME, "%s: cannot write: %s", path,
                        strerror(e));
    }
    return CLI_OK;
}

void cli_out_release(cli_out *o)
{
    if (o->f && o->tmp)
        fclose(o->f);
    if (o->tmp)
        o->f = NULL;
}

static void hold_for_tests(void)
{
    const char *s = getenv("XSELL_TEST_HOLD_OUTPUT");
    long secs = s ? strtol(s, NULL, 10) : 0;
    if (secs > 0 && secs < 600) {
        struct timespec ts = {secs, 0};
        while (nanosleep(&ts, &ts) && errno == EINTR)
            ;
    }
}

int cli_out_commit(cli_out *o, const char *cmd)
{
    if (!o->tmp) { /* standard output */
        int bad = o->f && fflush(o->f) != 0;
        o->f = NULL;
        return bad ? cli_fail(cmd, CLI_RUNTIME, "standard output: %s",
                              strerror(errno))
                   : CLI_OK;
    }
    int e = 0;
    if (o->f) {
        if (fflush(o->f) || ferror(o->f) || fsync(fileno(o->f)))
            e = errno ? errno : EIO;
        if (fclose(o->f) && !e)
            e = errno ? errno : EIO;
        o->f = NULL;
    }
    if (!e) {
        hold_for_tests();
        if (rename(o->tmp, o->path))
            e = errno;
    }
    if (e) {
        cli_out_abort(o);
        return cli_fail(cmd, CLI_RUNTIME, "%s: write error: %s", o->path,
                        strerror(e));
    }
    cli_interrupt_remove(o->slot);
    free(o->tmp);
    o->tmp = NULL;
    o->slot = -1;
    return CLI_OK;
}

void cli_out_abort(cli_out *o)
{
    if (o->f && o->tmp)
        fclose(o->f);
    o->f = NULL;
    if (o->tmp) {
        unlink(o->tmp);
        cli_interrupt_remove(o->slot);
        free(o->tmp);
    }
    o->tmp = NULL;
    o->slot = -1;
}
