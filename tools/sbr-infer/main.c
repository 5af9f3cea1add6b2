/* sbr-infer: top-K recommendations from a model (thin until issue 7). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "device.h"
#include "err.h"

static const char usage[] =
    "Usage: sbr-infer [OPTION]... MODEL SESSIONS -o TOPK\n"
    "Rank the full catalogue for every (prefix, target) sample of a split of SESSIONS\n"
    "and write the top K items and scores per sample (kind sbr.topk).\n"
    "\n"
    "  -o, --output FILE   top-K file to write ('-' for stdout)\n"
    "  -k, --topk K        list length (default 20)\n"
    "  -s, --split NAME    train, valid or test (default test)\n"
    "      --device D      auto, cpu or cuda (default auto)\n"
    "      --threads N     CPU threads (default: all cores)\n"
    "  -q, --quiet         no progress or informational messages\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Status: lands with issue 7; this build checks its arguments and exits 1.\n"
    "\n" SBR_HELP_EXIT;

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-infer", argc, argv);
    enum { OPT_VERSION = 256, OPT_DEVICE, OPT_THREADS };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},       {"topk", required_argument, 0, 'k'},
        {"split", required_argument, 0, 's'},        {"device", required_argument, 0, OPT_DEVICE},
        {"threads", required_argument, 0, OPT_THREADS}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},               {"version", no_argument, 0, OPT_VERSION},
        {0, 0, 0, 0}};
    static const char *const splits[] = {"train", "valid", "test", NULL};
    const char *out = NULL, *device = "auto";
    int c;
    while ((c = getopt_long(argc, argv, "o:k:s:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'k': sbr_arg_int("--topk", optarg, 1, 100000); break;
        case 's': sbr_arg_choice("--split", optarg, splits); break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_THREADS: sbr_arg_int("--threads", optarg, 0, 4096); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (argc - optind != 2)
        sbr_usage_error("expected MODEL and SESSIONS");
    if (!out)
        sbr_usage_error("no output given (-o TOPK)");
    sbr_device_select(device);
    sbr_fatal("inference is not implemented yet (issue 7)");
}
