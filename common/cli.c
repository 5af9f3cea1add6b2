#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "json.h"

static char *args_json;
static const char *argv0_path; /* argv[0] as run, before it became the tool's name */

/* libgomp spins up to 300,000 times at a barrier before it sleeps. Next to
 * another busy process a spinning thread holds the core the thread it waits
 * for needs: two SR-GNN trainings on 2 cores ran 17x slower than one
 * (diginetica, 255 against 4,316 samples/s) instead of 2x. With
 * GOMP_SPINCOUNT=10000: 1,686 beside the other, and within noise of the
 * default alone (-3%). libgomp reads it once, in its initialiser, before
 * main, and glibc's own initialiser resets the environment to the process's
 * first one after an executable's preinit functions run (tried: a setenv
 * there is lost), so a tool re-executes itself with it set, unless the user
 * set it or an OMP_WAIT_POLICY, or /proc/self/exe is missing. It sets
 * OPENBLAS_NUM_THREADS=1 beside it: the tools run BLAS on one thread per
 * OpenMP thread (sbr_set_threads, docs/OPS.md), and OpenBLAS's own pool,
 * never used, spun in sched_yield. The re-execution loads the libraries
 * twice (about 10 ms for sbr-train), so it is skipped where no OpenMP team
 * runs: --help, --version, and one thread (--threads 1; --stdin-text, whose
 * default it is). Which it is changes only speed, never a result.
 * (malloc's transparent huge pages, once a third setting here, are
 * sbr_xmalloc's madvise now: common/err.c.) */
static int runs_threads(int argc, char **argv)
{
    int text = 0, threads_given = 0, one = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h") || !strcmp(a, "--version") ||
            !strncmp(a, "--help-", 7))
            return 0;
        if (!strcmp(a, "--stdin-text"))
            text = 1;
        if (!strcmp(a, "--threads") || !strncmp(a, "--threads=", 10)) {
            const char *v = a[9] == '=' ? a + 10 : i + 1 < argc ? argv[i + 1] : "";
            threads_given = 1, one = !strcmp(v, "1");
        }
    }
    return threads_given ? !one : !text;
}

static void set_runtime_env(int argc, char **argv)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || !runs_threads(argc, argv))
        return;
    setenv("GOMP_SPINCOUNT", "10000", 1);
    if (!getenv("OPENBLAS_NUM_THREADS"))
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
    execv("/proc/self/exe", argv);
}

void sbr_cli_set_args(int argc, char **argv)
{
    sbr_buf b = {0};
    sbr_buf_puts(&b, "[");
    for (int i = 0; i < argc; i++) {
        if (i)
            sbr_buf_puts(&b, ",");
        sbr_buf_json_str(&b, i == 0 && argv0_path ? argv0_path : argv[i]);
    }
    sbr_buf_puts(&b, "]");
    free(args_json);
    args_json = b.s;
}

void sbr_cli_begin(const char *tool, int argc, char **argv)
{
    set_runtime_env(argc, argv);
    sbr_set_tool(tool);
    sbr_cli_set_args(argc, argv);
    argv0_path = argc > 0 ? argv[0] : NULL;
    /* getopt names the program by argv[0]: "sbr-train: unrecognized option",
     * as every other message says, rather than the path it was run by */
    if (argc > 0)
        argv[0] = (char *)tool;
}

const char *sbr_cli_args_json(void) { return args_json ? args_json : "[]"; }

FILE *sbr_cli_log_open(const char *path, int append)
{
    if (strcmp(path, "-") == 0)
        return stdout;
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f)
        sbr_fatal("%s: cannot open the log: %s", path, strerror(errno));
    return f;
}

void sbr_cli_log_close(FILE *log, const char *path)
{
    int bad = log == stdout ? fflush(log) != 0 || ferror(log) : fclose(log) != 0;
    if (bad)
        sbr_fatal("%s: write failed", log == stdout ? "standard output" : path);
}

void sbr_cli_help(const char *text)
{
    fputs(text, stdout);
    exit(fflush(stdout) == 0 && !ferror(stdout) ? SBR_EXIT_OK : SBR_EXIT_FAIL);
}

void sbr_cli_version(void)
{
    printf("%s %s\n", sbr_tool(), sbr_version());
    exit(fflush(stdout) == 0 && !ferror(stdout) ? SBR_EXIT_OK : SBR_EXIT_FAIL);
}

void sbr_cli_bad_option(void)
{
    /* getopt_long has already printed what was wrong. */
    fprintf(stderr, "Try '%s --help' for more information.\n", sbr_tool());
    exit(SBR_EXIT_USAGE);
}

long long sbr_arg_int(const char *opt, const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end || errno)
        sbr_usage_error("%s: not an integer: '%s'", opt, s);
    if (v < lo || v > hi)
        sbr_usage_error("%s: %lld is out of range [%lld, %lld]", opt, v, lo, hi);
    return v;
}

double sbr_arg_double(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        sbr_usage_error("%s: not a number: '%s'", opt, s);
    if (v < lo || v > hi)
        sbr_usage_error("%s: %g is out of range [%g, %g]", opt, v, lo, hi);
    return v;
}

double sbr_arg_duration(const char *opt, const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !isfinite(v) || v < 0)
        sbr_usage_error("%s: not a duration: '%s' (e.g. 90s, 30m, 2h, 7d)", opt, s);
    double unit = 1;
    if (*end) {
        if (end[1])
            sbr_usage_error("%s: not a duration: '%s' (e.g. 90s, 30m, 2h, 7d)", opt, s);
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: sbr_usage_error("%s: unknown unit in '%s' (s, m, h or d)", opt, s);
        }
    }
    return v * unit;
}

int sbr_arg_choice(const char *opt, const char *s, const char *const *choices)
{
    char list[512] = "";
    for (int i = 0; choices[i]; i++) {
        if (strcmp(s, choices[i]) == 0)
            return i;
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, choices[i], sizeof list - strlen(list) - 1);
    }
    sbr_usage_error("%s: '%s' is not one of: %s", opt, s, list);
}

const char *sbr_cli_one_input(int argc, char **argv, int optind, const char *what)
{
    if (optind >= argc)
        sbr_usage_error("no %s file given (use '-' for standard input)", what);
    if (argc - optind > 1)
        sbr_usage_error("one %s file expected, got %d", what, argc - optind);
    return argv[optind];
}
