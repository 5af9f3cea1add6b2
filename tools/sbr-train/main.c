/* sbr-train: train a session-based recommendation model (thin until issue 7). */
#include <getopt.h>
#include <stdio.h>

#include "cli.h"
#include "device.h"
#include "err.h"

static const char usage[] =
    "Usage: sbr-train [OPTION]... SESSIONS -o MODEL\n"
    "Train a next-item model on the training split of SESSIONS (kind sbr.sessions),\n"
    "select the epoch on the validation split, and write MODEL (kind sbr.model).\n"
    "\n"
    "  -o, --output FILE    model file to write ('-' for stdout)\n"
    "  -m, --model NAME     gru4rec, narm, stamp, srgnn (more to come)\n"
    "      --clusters FILE  switch on CLIP-SBR cluster prompts (kind sbr.clusters)\n"
    "      --device D       auto, cpu or cuda (default auto)\n"
    "      --threads N      CPU threads (default: all cores)\n"
    "  -q, --quiet          no progress or informational messages\n"
    "  -h, --help           show this help and exit\n"
    "      --version        show the version and exit\n"
    "\n"
    "Status: the models land with issue 7; this build trains nothing yet and\n"
    "says so (exit 1) after checking its arguments.\n"
    "\n" SBR_HELP_EXIT;

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-train", argc, argv);
    enum { OPT_VERSION = 256, OPT_CLUSTERS, OPT_DEVICE, OPT_THREADS };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},      {"model", required_argument, 0, 'm'},
        {"clusters", required_argument, 0, OPT_CLUSTERS},
        {"device", required_argument, 0, OPT_DEVICE}, {"threads", required_argument, 0, OPT_THREADS},
        {"quiet", no_argument, 0, 'q'},             {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION},   {0, 0, 0, 0}};
    static const char *const models[] = {"gru4rec", "narm", "stamp", "srgnn", NULL};
    const char *out = NULL, *device = "auto";
    int c;
    while ((c = getopt_long(argc, argv, "o:m:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'm': sbr_arg_choice("--model", optarg, models); break;
        case OPT_CLUSTERS: break;
        case OPT_DEVICE: device = optarg; break;
        case OPT_THREADS: sbr_arg_int("--threads", optarg, 0, 4096); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (optind != argc - 1)
        sbr_usage_error(optind >= argc ? "no SESSIONS file given" : "more than one SESSIONS file given");
    if (!out)
        sbr_usage_error("no output given (-o MODEL)");
    sbr_device_select(device);
    sbr_fatal("training is not implemented yet (issue 7)");
}
