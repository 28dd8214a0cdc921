/*
 * interrupt.h -- SIGINT and SIGTERM while a command writes its output:
 * the temporaries registered here are removed, "xsell CMD: interrupted" is
 * printed and the process exits 130 (SIGINT) or 143 (SIGTERM).
 *
 * The handler does async-signal-safe work only: unlink(2) of paths copied
 * here beforehand, write(2) of a message prepared beforehand, _exit(2).
 * Registering and unregistering block both signals meanwhile, so the
 * handler never sees a half-copied path.  The handlers are installed by the
 * first cli_interrupt_add and stay for the life of the process.
 */
#ifndef XSELL_CLI_INTERRUPT_H
#define XSELL_CLI_INTERRUPT_H

#define CLI_INTERRUPT_SLOTS 4 /* temporaries pending at once */

/* Creates a temporary file from tmpl (mkstemp(3): it ends in XXXXXX,
 * replaced in place) and registers it for removal on SIGINT/SIGTERM, with
 * both signals blocked from before the file exists until it is registered;
 * the handlers are installed on first use, with cmd in the message.
 * Returns the open descriptor and *slot (for cli_interrupt_remove), or -1
 * with errno set (ENAMETOOLONG, EMFILE: no slot free, or mkstemp's). */
int cli_interrupt_create(const char *cmd, char *tmpl, int *slot);
/* Forgets a slot (-1: nothing); the file itself is not touched. */
void cli_interrupt_remove(int slot);

#endif
