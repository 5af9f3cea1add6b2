/* Config files for the tools: plain `key = value` lines, the keys being the
 * long option names (`epochs = 20`, `model = srgnn`, `adamw` alone for a
 * flag), `#` comments. The file's options take the place of `--config FILE`
 * on the command line, so the options after it override them and those
 * before it are overridden (getopt: the last value wins). */
#ifndef SBR_CONFIG_H
#define SBR_CONFIG_H

#include <getopt.h>

/* When argv holds `--config FILE` (or --config=FILE), replaces *argc / *argv
 * by argv with FILE's options, as `--key value`, in place of it; the provenance (sbr.args) records the result and sbr.inputs the
 * file. Keys are checked against table (getopt_long's, {0}-terminated): an
 * unknown key, a flag given a value or an option without one is misuse
 * (exit 2) naming FILE:LINE; an unreadable file exits 1. */
void sbr_cli_config(int *argc, char ***argv, const struct option *table);

#endif
