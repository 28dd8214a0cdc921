/*
 * interrupt.c -- removing the temporaries of unfinished output on SIGINT
 * and SIGTERM (see interrupt.h).
 *
 * The one piece of global mutable state outside main: a signal handler can
 * reach nothing else.  Invariants: pending[i] holds a complete,
 * NUL-terminated path whenever used[i] is set; both are written only with
 * SIGINT and SIGTERM blocked in the writing thread, and other threads
 * (score's workers) are started after the registration they may be
 * interrupted in, so they inherit no half-written slot.  The message is
 * written once, before the handlers are installed.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/interrupt.h"

static char pending[CLI_INTERRUPT_SLOTS][PATH_MAX];
static volatile sig_atomic_t used[CLI_INTERRUPT_SLOTS];
static volatile sig_atomic_t installed;
static char message[96];
static size_t message_len;

static void on_signal(int sig)
{
    for (int i = 0; i < CLI_INTERRUPT_SLOTS; i++)
        if (used[i])
            unlink(pending[i]);
    ssize_t w = write(STDERR_FILENO, message, message_len);
    (void)w; /* nothing to do about it */
    _exit(128 + sig);
}

/* Blocks (how = SIG_BLOCK) or restores the two signals. */
static void mask(int how, sigset_t *old)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    if (how == SIG_BLOCK)
        pthread_sigmask(SIG_BLOCK, &s, old);
    else
        pthread_sigmask(SIG_SETMASK, old, NULL);
}

static void install(const char *cmd)
{
    int n = snprintf(message, sizeof message, "xsell %s: interrupted\n", cmd);
    message_len = n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n
                                                          : sizeof message - 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    installed = 1;
}

int cli_interrupt_create(const char *cmd, char *tmpl, int *slot)
{
    size_t n = strlen(tmpl);
    *slot = -1;
    if (n >= PATH_MAX) {
        errno = ENAMETOOLONG;
        return -1;
    }
    sigset_t old;
    mask(SIG_BLOCK, &old);
    if (!installed)
        install(cmd);
    int free_slot = -1;
    for (int i = 0; i < CLI_INTERRUPT_SLOTS && free_slot < 0; i++)
        if (!used[i])
            free_slot = i;
    int fd = -1;
    if (free_slot < 0) {
        errno = EMFILE;
    } else if ((fd = mkstemp(tmpl)) >= 0) {
        memcpy(pending[free_slot], tmpl, n + 1);
        used[free_slot] = 1;
        *slot = free_slot;
    }
    int e = errno;
    mask(SIG_SETMASK, &old);
    errno = e;
    return fd;
}

void cli_interrupt_remove(int slot)
{
    if (slot < 0 || slot >= CLI_INTERRUPT_SLOTS)
        return;
    sigset_t old;
    mask(SIG_BLOCK, &old);
    used[slot] = 0;
    mask(SIG_SETMASK, &old);
}
