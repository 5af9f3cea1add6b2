/* sbr-score: metrics of a top-K file (thin until issue 7). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "err.h"

static const char usage[] =
    "Usage: sbr-score [OPTION]... TOPK\n"
    "Compute HR, MRR and NDCG at 5/10/20 and Cov@K of a top-K file (kind sbr.topk)\n"
    "against its targets; print a table and optionally write kind sbr.metrics.\n"
    "\n"
    "  -o, --output FILE   metrics file to write ('-' for stdout)\n"
    "      --json          print the metrics as JSON\n"
    "  -q, --quiet         no informational messages\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Status: lands with issue 7; this build checks its arguments and exits 1.\n"
    "\n" SBR_HELP_EXIT;

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-score", argc, argv);
    enum { OPT_VERSION = 256, OPT_JSON };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"json", no_argument, 0, OPT_JSON},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': break;
        case OPT_JSON: break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (argc - optind != 1)
        sbr_usage_error("expected one TOPK file");
    sbr_fatal("scoring is not implemented yet (issue 7)");
}
