#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "json.h"

static char *args_json;

/* libgomp spins up to 300,000 times at a barrier before it sleeps, and reads
 * that count once, as it loads. Next to another busy process a spinning
 * thread holds the core the thread it waits for needs: two SR-GNN trainings
 * on 2 cores ran 17x slower than one (diginetica, 255 against 4,316 samples/s)
 * instead of 2x. With 10,000 spins: 1,686 beside the other, and within noise
 * of the default alone (-3%). So a tool re-executes itself once with
 * GOMP_SPINCOUNT=10000, unless the user set a wait policy of their own (or
 * /proc/self/exe is missing: then it runs on with the default). */
static void set_omp_spin(char **argv)
{
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY"))
        return;
    if (setenv("GOMP_SPINCOUNT", "10000", 1) != 0)
        return;
    execv("/proc/self/exe", argv);
}

void sbr_cli_begin(const char *tool, int argc, char **argv)
{
    set_omp_spin(argv);
    sbr_set_tool(tool);
    sbr_buf b = {0};
    sbr_buf_puts(&b, "[");
    for (int i = 0; i < argc; i++) {
        if (i)
            sbr_buf_puts(&b, ",");
        sbr_buf_json_str(&b, argv[i]);
    }
    sbr_buf_puts(&b, "]");
    free(args_json);
    args_json = b.s;
}

const char *sbr_cli_args_json(void) { return args_json ? args_json : "[]"; }

void sbr_cli_help(const char *text)
{
    fputs(text, stdout);
    exit(fflush(stdout) == 0 && !ferror(stdout) ? SBR_EXIT_OK : SBR_EXIT_FAIL);
}

void sbr_cli_version(void)
{
    printf("%s %s\n", sbr_tool(), SBR_VERSION);
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
