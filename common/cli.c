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
 * default alone (-3%). libgomp reads it once, in its initialiser, so it is
 * set in the executable's preinit array, which the dynamic loader runs before
 * any library's initialiser (a tool used to re-execute itself to set it,
 * which doubled its start-up). Not when the user chose it, or an
 * OMP_WAIT_POLICY. (The other setting the re-execution made, malloc's
 * transparent huge pages, is sbr_xmalloc's madvise now: common/err.c.) */
static void set_runtime_env(void)
{
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT"))
        setenv("GOMP_SPINCOUNT", "10000", 1);
}

__attribute__((used, section(".preinit_array"))) static void (*const sbr_preinit)(void) =
    set_runtime_env;

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
