#include "err.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int sbr_quiet = 0;
static const char *tool_name = "sbr";

void sbr_set_tool(const char *name) { tool_name = name; }
const char *sbr_tool(void) { return tool_name; }

int sbr_errf(sbr_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int sbr_err_prefix(sbr_err *e, const char *fmt, ...)
{
    if (!e)
        return -1;
    char prefix[256], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    /* "prefix: old", cut to fit (by hand: snprintf would warn of truncation). */
    size_t at = 0, cap = sizeof e->msg - 1;
    for (const char *parts[3] = {prefix, ": ", old}, **p = parts; p < parts + 3; p++)
        for (const char *c = *p; *c && at < cap; c++)
            e->msg[at++] = *c;
    e->msg[at] = 0;
    return -1;
}

/* --- cleanup hooks ------------------------------------------------------- */

#define MAX_CLEANUPS 32
static struct {
    sbr_cleanup_fn fn;
    void *arg;
} cleanups[MAX_CLEANUPS];

int sbr_cleanup_add(sbr_cleanup_fn fn, void *arg)
{
    for (int i = 0; i < MAX_CLEANUPS; i++)
        if (!cleanups[i].fn) {
            cleanups[i].fn = fn;
            cleanups[i].arg = arg;
            return i;
        }
    return -1; /* full: the caller still works, only without crash cleanup */
}

void sbr_cleanup_remove(int handle)
{
    if (handle >= 0 && handle < MAX_CLEANUPS)
        cleanups[handle].fn = NULL;
}

void sbr_cleanup_run(void)
{
    for (int i = MAX_CLEANUPS - 1; i >= 0; i--)
        if (cleanups[i].fn) {
            sbr_cleanup_fn fn = cleanups[i].fn;
            cleanups[i].fn = NULL;
            fn(cleanups[i].arg);
        }
}

static void on_signal(int sig)
{
    /* Only async-signal-safe work happens in the hooks (unlink). */
    sbr_cleanup_run();
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((constructor)) static void install_signal_cleanup(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    signal(SIGPIPE, on_signal);
}

/* --- messages ------------------------------------------------------------ */

static void vmessage(const char *fmt, va_list ap)
{
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s: %s\n", tool_name, line);
}

void sbr_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    sbr_cleanup_run();
    exit(SBR_EXIT_FAIL);
}

void sbr_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", tool_name);
    sbr_cleanup_run();
    exit(SBR_EXIT_USAGE);
}

void sbr_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: warning: %s\n", tool_name, line);
}

void sbr_info(const char *fmt, ...)
{
    if (sbr_quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vmessage(fmt, ap);
    va_end(ap);
}

/* --- allocation ---------------------------------------------------------- */

void *sbr_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        sbr_fatal("out of memory allocating %zu bytes", n);
    return p;
}

void *sbr_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        sbr_fatal("out of memory allocating %zu x %zu bytes", count, size);
    return p;
}

void *sbr_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        sbr_fatal("out of memory allocating %zu bytes", n);
    return q;
}

char *sbr_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sbr_xmalloc(n);
    memcpy(d, s, n);
    return d;
}
