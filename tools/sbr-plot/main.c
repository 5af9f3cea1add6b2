/* sbr-plot: pictures of training runs (common/plot.c). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "plot.h"

static const char usage[] =
    "Usage: sbr-plot [OPTION]... LOG...\n"
    "  or:  sbr-plot --bars [OPTION]... METRICS...\n"
    "Draw the training curves of sbr-train --log files (one JSON line per epoch): the\n"
    "training loss, HR@K and MRR@K per epoch, validation solid and test dashed, one\n"
    "colour per run. With --bars, HR@K and MRR@K of sbr-score's .metrics files (-o) as\n"
    "grouped bars, one group per file. Each run is named by its file name. Needs gnuplot\n"
    "(Debian: gnuplot-nox).\n"
    "\n"
    "  -o, --output FILE   the picture: SVG, or PNG when FILE ends in .png (default\n"
    "                      curves.svg, with --bars results.svg; '-': SVG to stdout)\n"
    "      --format FMT    svg or png, whatever the name says\n"
    "  -k, --cutoff K      the K of HR@K and MRR@K (default 20)\n"
    "      --bars          a bar chart of .metrics files instead of curves\n"
    "  -t, --title TEXT    a title over the picture\n"
    "      --script        write the gnuplot script (data inline) instead of running it\n"
    "  -q, --quiet         no informational messages\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Example: sbr-plot -o runs.png work/retailrocket/srgnn.log work/retailrocket/srgnn-clip.log\n"
    "\n" SBR_HELP_EXIT;

enum { OPT_FORMAT = 256, OPT_BARS, OPT_SCRIPT, OPT_VERSION };

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-plot", argc, argv);
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"format", required_argument, 0, OPT_FORMAT},
        {"cutoff", required_argument, 0, 'k'}, {"bars", no_argument, 0, OPT_BARS},
        {"title", required_argument, 0, 't'},  {"script", no_argument, 0, OPT_SCRIPT},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    static const char *const formats[] = {"svg", "png", NULL};
    sbr_plot_cfg c = {.cutoff = 20};
    int bars = 0, format = -1, quiet = 0, opt;
    while ((opt = getopt_long(argc, argv, "o:k:t:qh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o': c.output = optarg; break;
        case OPT_FORMAT: format = sbr_arg_choice("--format", optarg, formats); break;
        case 'k': c.cutoff = (int)sbr_arg_int("--cutoff", optarg, 1, 1000000); break;
        case OPT_BARS: bars = 1; break;
        case 't': c.title = optarg; break;
        case OPT_SCRIPT: c.script_only = 1; break;
        case 'q': quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (optind >= argc)
        sbr_usage_error("no input: name at least one %s file", bars ? ".metrics" : "--log");
    c.inputs = (const char *const *)argv + optind;
    c.n_inputs = argc - optind;
    if (!c.output)
        c.output = bars ? "results.svg" : "curves.svg";
    c.format = format >= 0 ? (sbr_plot_format)format : sbr_plot_format_of(c.output);
    sbr_err e;
    if ((bars ? sbr_plot_bars : sbr_plot_curves)(&c, &e))
        sbr_fatal("%s", e.msg);
    if (!quiet && strcmp(c.output, "-"))
        sbr_info("%s: %s of %d %s", c.output, c.script_only ? "gnuplot script" : "picture",
                 c.n_inputs, bars ? "metrics files" : "logs");
    return 0;
}
