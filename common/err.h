/* Errors, messages and checked allocation shared by every tool.
 *
 * Library code never exits: it fills an sbr_err and returns -1 (or NULL), so
 * that tests and fuzzers can call it. Only a tool's main turns an error into
 * "sbr-TOOL: message" and an exit code:
 *   0 success, 1 bad input or I/O failure, 2 misuse (bad arguments). */
#ifndef SBR_ERR_H
#define SBR_ERR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* _Noreturn in C11, [[noreturn]] when a CUDA/C++ source includes us. */
#ifdef __cplusplus
#define SBR_NORETURN [[noreturn]]
#else
#define SBR_NORETURN _Noreturn
#endif

#define SBR_EXIT_OK 0
#define SBR_EXIT_FAIL 1
#define SBR_EXIT_USAGE 2

typedef struct {
    char msg[512];
} sbr_err;

/* Formats msg into e (when e is not NULL) and returns -1, so callers can write
 * `return sbr_errf(e, "...")`. */
int sbr_errf(sbr_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prefixes the existing message with "prefix: " (used to add a file name). */
int sbr_err_prefix(sbr_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The running tool's name ("sbr-prep"), used as the prefix of every message. */
void sbr_set_tool(const char *name);
const char *sbr_tool(void);

extern int sbr_quiet; /* -q: suppress informational messages */

/* "sbr-TOOL: message" on stderr, temporary outputs removed, exit 1. */
SBR_NORETURN void sbr_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "sbr-TOOL: message" then "Try 'sbr-TOOL --help'." on stderr, exit 2. */
SBR_NORETURN void sbr_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void sbr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Informational line on stderr unless quiet. */
void sbr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Allocation that cannot fail: out of memory is fatal with the size asked. */
void *sbr_xmalloc(size_t n);
void *sbr_xcalloc(size_t count, size_t size);
void *sbr_xrealloc(void *p, size_t n);
char *sbr_xstrdup(const char *s);

/* Cleanup hooks run by sbr_fatal and on SIGINT/SIGTERM (e.g. remove a
 * half-written temporary file). Returns a handle for sbr_cleanup_remove. */
typedef void (*sbr_cleanup_fn)(void *arg);
int sbr_cleanup_add(sbr_cleanup_fn fn, void *arg);
void sbr_cleanup_remove(int handle);
void sbr_cleanup_run(void);

#ifdef __cplusplus
}
#endif

#endif
