/*
 * test_util.h -- the few helpers every unit test shares.
 *
 * Checks.  CHECK(cond) and its typed relatives record one check each; a
 * failed check prints "file:line: FAIL expression" (with the values for the
 * typed forms) on stderr and is counted, and the test goes on.  Each macro
 * evaluates its arguments once and yields 1 when the check passed, so a test
 * can skip what depends on a failed precondition:
 *
 *     xs_dataset *ds = load(...);
 *     if (!CHECK(ds != NULL)) return xt_done();
 *
 * main() ends with `return xt_done();`: it prints the tally, removes the
 * temporary files and returns 1 when any check failed, else 0.  xt_skip()
 * returns 77 (ctest's SKIP_RETURN_CODE) for a test that cannot run at all.
 *
 * Temporary files.  xt_write_file() writes given bytes to a named file in a
 * private directory made once per process with mkdtemp() under $TMPDIR (or
 * /tmp).  The helper owns the returned paths; they stay valid until
 * xt_done()/xt_skip(), which delete the files and the directory.
 *
 * Everything here is static inline but the state, of which a test program
 * has one whatever number of its files include this (each defines it weak,
 * the linker keeps one); written for a single thread.
 */
#ifndef XS_TEST_UTIL_H
#define XS_TEST_UTIL_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XT_MAX_PATHS 256

typedef struct xt_state {
    long checks;
    long failures;
    char dir[4096]; /* empty until the first temporary file */
    char *paths[XT_MAX_PATHS]; /* created paths, owned, removed in reverse */
    int is_dir[XT_MAX_PATHS];
    int n_paths;
} xt_state;

__attribute__((weak)) xt_state xt_g;

/* ---- checks --------------------------------------------------------------- */

static inline int xt_record(int ok, const char *file, int line,
                            const char *fmt, ...)
{
    xt_g.checks++;
    if (ok)
        return 1;
    xt_g.failures++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: FAIL ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 0;
}

static inline int xt_check_eq(long long a, long long b, const char *ea,
                              const char *eb, const char *file, int line)
{
    return xt_record(a == b, file, line, "%s == %s (%lld vs %lld)", ea, eb, a,
                     b);
}

static inline int xt_check_equ(unsigned long long a, unsigned long long b,
                               const char *ea, const char *eb,
                               const char *file, int line)
{
    return xt_record(a == b, file, line, "%s == %s (%llu vs %llu)", ea, eb, a,
                     b);
}

static inline int xt_check_str(const char *a, const char *b, const char *ea,
                               const char *eb, const char *file, int line)
{
    int ok = a && b ? strcmp(a, b) == 0 : a == b;
    return xt_record(ok, file, line, "%s equals %s (\"%s\" vs \"%s\")", ea, eb,
                     a ? a : "(null)", b ? b : "(null)");
}

static inline int xt_check_has(const char *hay, const char *needle,
                               const char *eh, const char *file, int line)
{
    int ok = hay && needle && strstr(hay, needle) != NULL;
    return xt_record(ok, file, line, "%s contains \"%s\" (it is \"%s\")", eh,
                     needle ? needle : "(null)", hay ? hay : "(null)");
}

/* |a - b| <= tol, both finite (or both the same infinity). */
static inline int xt_check_near(double a, double b, double tol,
                                const char *ea, const char *eb,
                                const char *file, int line)
{
    int ok = a == b || fabs(a - b) <= tol;
    return xt_record(ok, file, line, "%s ~= %s (%.17g vs %.17g, tol %g)", ea,
                     eb, a, b, tol);
}

#define CHECK(cond) xt_record((cond) != 0, __FILE__, __LINE__, "%s", #cond)
/* CHECK with a printf-style explanation printed on failure. */
#define CHECK_MSG(cond, ...) xt_record((cond) != 0, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ(a, b)                                                        \
    xt_check_eq((long long)(a), (long long)(b), #a, #b, __FILE__, __LINE__)
#define CHECK_EQU(a, b)                                                       \
    xt_check_equ((unsigned long long)(a), (unsigned long long)(b), #a, #b,    \
                 __FILE__, __LINE__)
#define CHECK_STR(a, b) xt_check_str((a), (b), #a, #b, __FILE__, __LINE__)
#define CHECK_HAS(hay, needle)                                                \
    xt_check_has((hay), (needle), #hay, __FILE__, __LINE__)
#define CHECK_NEAR(a, b, tol)                                                 \
    xt_check_near((a), (b), (tol), #a, #b, __FILE__, __LINE__)

/* ---- temporary files ------------------------------------------------------ */

/* The private directory, made on first use; NULL (and a failed check) when
 * it cannot be made. */
static inline const char *xt_tmpdir(void)
{
    if (xt_g.dir[0])
        return xt_g.dir;
    const char *base = getenv("TMPDIR");
    if (!base || !*base)
        base = "/tmp";
    int w = snprintf(xt_g.dir, sizeof xt_g.dir, "%s/xsell_unit_XXXXXX", base);
    if (w < 0 || (size_t)w >= sizeof xt_g.dir || !mkdtemp(xt_g.dir)) {
        xt_record(0, __FILE__, __LINE__, "mkdtemp under %s: %s", base,
                  strerror(errno));
        xt_g.dir[0] = '\0';
        return NULL;
    }
    return xt_g.dir;
}

/* dir/name as a new owned string remembered for removal; NULL on failure. */
static inline const char *xt_track(const char *name, int is_dir)
{
    const char *dir = xt_tmpdir();
    if (!dir)
        return NULL;
    if (xt_g.n_paths == XT_MAX_PATHS) {
        xt_record(0, __FILE__, __LINE__, "too many temporary files");
        return NULL;
    }
    size_t len = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(len);
    if (!p) {
        xt_record(0, __FILE__, __LINE__, "out of memory");
        return NULL;
    }
    snprintf(p, len, "%s/%s", dir, name);
    for (int i = 0; i < xt_g.n_paths; i++)
        if (!strcmp(xt_g.paths[i], p)) { /* rewritten: keep one entry */
            free(p);
            return xt_g.paths[i];
        }
    xt_g.paths[xt_g.n_paths] = p;
    xt_g.is_dir[xt_g.n_paths] = is_dir;
    xt_g.n_paths++;
    return p;
}

/* Writes len bytes to a file called name in the private directory
 * (replacing it) and returns its path, or NULL with a failed check. */
static inline const char *xt_write_file(const char *name, const void *bytes,
                                        size_t len)
{
    const char *path = xt_track(name, 0);
    if (!path)
        return NULL;
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(bytes, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok) {
        xt_record(0, __FILE__, __LINE__, "cannot write %s: %s", path,
                  strerror(errno));
        return NULL;
    }
    return path;
}

/* xt_write_file for a NUL-terminated text (the NUL is not written). */
static inline const char *xt_write_str(const char *name, const char *text)
{
    return xt_write_file(name, text, strlen(text));
}

/* Makes a subdirectory of the private directory; its path or NULL. */
static inline const char *xt_mkdir(const char *name)
{
    const char *path = xt_track(name, 1);
    if (path && mkdir(path, 0700) != 0 && errno != EEXIST) {
        xt_record(0, __FILE__, __LINE__, "mkdir %s: %s", path,
                  strerror(errno));
        return NULL;
    }
    return path;
}

/* A path in the private directory that does not exist. */
static inline const char *xt_missing(const char *name)
{
    const char *path = xt_track(name, 0);
    if (path)
        unlink(path);
    return path;
}

static inline void xt_cleanup(void)
{
    for (int i = xt_g.n_paths - 1; i >= 0; i--) {
        if (xt_g.is_dir[i])
            rmdir(xt_g.paths[i]);
        else
            unlink(xt_g.paths[i]);
        free(xt_g.paths[i]);
    }
    xt_g.n_paths = 0;
    if (xt_g.dir[0] && rmdir(xt_g.dir) != 0)
        fprintf(stderr, "note: could not remove %s: %s\n", xt_g.dir,
                strerror(errno));
    xt_g.dir[0] = '\0';
}

/* ---- the end of main ------------------------------------------------------ */

/* Prints the tally, cleans up; 1 when a check failed, else 0. */
static inline int xt_done(void)
{
    xt_cleanup();
    printf("%ld checks, %ld failed\n", xt_g.checks, xt_g.failures);
    return xt_g.failures ? 1 : 0;
}

/* For a test that cannot run here: cleans up and returns 77 (skipped), or
 * 1 when a check already failed. */
static inline int xt_skip(const char *why)
{
    xt_cleanup();
    printf("SKIP: %s\n", why);
    return xt_g.failures ? 1 : 77;
}

#endif
