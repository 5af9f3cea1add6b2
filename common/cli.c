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

/* Settings read only as a process starts, before main, so a tool
 * re-executes itself once with them (unless the user set them, or
 * /proc/self/exe is missing; glibc's own initialiser resets the environment
 * to the process's first after an executable's preinit functions run, so a
 * setenv there is lost: tried):
 *
 * - libgomp spins up to 300,000 times at a barrier before it sleeps. Next to
 *   another busy process a spinning thread holds the core the thread it
 *   waits for needs: two SR-GNN trainings on 2 cores ran 17x slower than one
 *   (diginetica, 255 against 4,316 samples/s) instead of 2x. With
 *   GOMP_SPINCOUNT=10000: 1,686 beside the other, and within noise of the
 *   default alone (-3%). Not when the user chose an OMP_WAIT_POLICY.
 * - glibc.malloc.hugetlb=1: malloc asks for transparent huge pages on its
 *   large blocks (the kernel's setting here is "madvise"), so filling
 *   hundreds of megabytes takes 512 times fewer page faults: sbr-prep on a
 *   30-million-row log 6.0 -> 3.5 s on this VM (an madvise of sbr_xmalloc's
 *   blocks instead, tried, gained nothing: most pages are touched as arrays
 *   grow, before any hint).
 * - OPENBLAS_NUM_THREADS=1: the tools run BLAS on one thread per OpenMP
 *   thread (sbr_set_threads, docs/OPS.md); OpenBLAS's own pool, never used,
 *   spun in sched_yield.
 *
 * The re-execution loads the libraries twice (about 10 ms for sbr-train), so
 * it is skipped where start-up is the point: --help, --version and the
 * --stdin-text service (one thread by default). Which it is changes speed,
 * never a result. */
static int wants_runtime_env(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h") ||
            !strcmp(argv[i], "--version") || !strncmp(argv[i], "--help-", 7) ||
            !strcmp(argv[i], "--stdin-text"))
            return 0;
    return 1;
}

/* Sets name=value unless name is set already; 1 when it set it. */
static int env_default(const char *name, const char *value)
{
    return !getenv(name) && setenv(name, value, 1) == 0;
}

static void set_runtime_env(int argc, char **argv)
{
    if (!wants_runtime_env(argc, argv))
        return;
    int changed = 0;
    if (!getenv("OMP_WAIT_POLICY"))
        changed |= env_default("GOMP_SPINCOUNT", "10000");
    changed |= env_default("GLIBC_TUNABLES", "glibc.malloc.hugetlb=1");
    changed |= env_default("OPENBLAS_NUM_THREADS", "1");
    if (changed)
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
