/* Command-line conventions shared by every tool (see docs/CLI.md):
 * -h/--help to stdout and exit 0; --version; misuse to stderr with a one-line
 * hint and exit 2; "-" means stdin/stdout; -q/--quiet. */
#ifndef SBR_CLI_H
#define SBR_CLI_H

#include <stdio.h>

#include "err.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The version: the release (the Makefile's SBR_RELEASE) and, in a git
 * checkout, the commit it was built from, "-dirty" with uncommitted changes:
 * "0.1.0+g1163fbc" (common/version.c, from build/gen/version.h). */
const char *sbr_version(void);

/* Closing paragraph of every --help. */
#define SBR_HELP_EXIT                                                                   \
    "Exit status: 0 on success, 1 on bad input or an I/O error (message names the\n"    \
    "file and what is wrong), 2 on misuse (bad or missing arguments).\n"

/* First call of every main: sets the tool name for messages and keeps argv
 * for the provenance metadata of the files the tool writes. */
void sbr_cli_begin(const char *tool, int argc, char **argv);
/* argv as a JSON array string (for metadata "sbr.args"). */
const char *sbr_cli_args_json(void);
/* Replaces the argv that sbr.args records (after a config file expanded it). */
void sbr_cli_set_args(int argc, char **argv);

/* A --log FILE: opened for writing (appending when append), '-' standard
 * output; exits 1 naming it when it cannot be opened. */
FILE *sbr_cli_log_open(const char *path, int append);
/* Closes it (standard output: flushes), every write checked. */
void sbr_cli_log_close(FILE *log, const char *path);

/* Prints help text to stdout and exits 0. */
SBR_NORETURN void sbr_cli_help(const char *text);
/* Prints "sbr-TOOL VERSION" and exits 0. */
SBR_NORETURN void sbr_cli_version(void);

/* Argument parsers: a malformed or out-of-range value is a usage error that
 * names the option. */
long long sbr_arg_int(const char *opt, const char *s, long long lo, long long hi);
double sbr_arg_double(const char *opt, const char *s, double lo, double hi);
/* "90", "90s", "30m", "2h", "7d" -> seconds. */
double sbr_arg_duration(const char *opt, const char *s);
/* Index of s in the NULL-terminated list, else a usage error listing them. */
int sbr_arg_choice(const char *opt, const char *s, const char *const *choices);

/* getopt_long's unknown-option / missing-argument handling: call from the
 * '?' and ':' cases. */
SBR_NORETURN void sbr_cli_bad_option(void);
/* The one input file left after the options (argv[optind]); misuse (exit 2)
 * when there is none or more than one. what names it: "GRAPH". */
const char *sbr_cli_one_input(int argc, char **argv, int optind, const char *what);

#ifdef __cplusplus
}
#endif

#endif
