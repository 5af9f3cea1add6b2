/* sbr-graph: global item graph of a sessions file (kind sbr.graph). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "err.h"
#include "graph.h"
#include "progress.h"
#include "sessions.h"
#include "tfile.h"

static const char usage[] =
    "Usage: sbr-graph [OPTION]... SESSIONS\n"
    "Build the global item graph of a sessions file (sbr-prep output) and write it\n"
    "as an sbr.graph file: CSR offsets, neighbours and weights over nodes 0..n_items\n"
    "(node 0 is padding). Built from the training split only unless --include says\n"
    "otherwise. SESSIONS may be '-' for standard input.\n"
    "\n"
    "  -k, --kind KIND        adjacent (default): undirected, an edge per pair of\n"
    "                           consecutive clicks, weight = times the pair occurs\n"
    "                           (CLIP-SBR);\n"
    "                         window: undirected co-occurrence within +-W positions,\n"
    "                           weight = count, top K neighbours per item (GCE-GNN);\n"
    "                         transition: directed next-item counts (Markov, rules)\n"
    "  -w, --window W         window kind: positions on each side (default 3)\n"
    "  -K, --topk K           window kind: neighbours kept per item by weight, ties to\n"
    "                         the smaller item id (default 12; 0 keeps all)\n"
    "      --self-loops       keep pairs of an item with itself (default: dropped, counted)\n"
    "      --include SPLITS   also use these splits: valid, or valid,test (test leaks\n"
    "                         the evaluation targets into the graph: only for comparison)\n"
    "  -o, --output FILE      output file (default '-': standard output, never a terminal)\n"
    "  -l, --level N          zstd level of the output, 0 = uncompressed (default 3)\n"
    "      --threads N        threads (default 0: all cores)\n"
    "  -q, --quiet            no summary on standard error\n"
    "  -h, --help             show this help and exit\n"
    "      --version          show the version and exit\n"
    "\n"
    "Summary on standard error: nodes, edges, isolated items, what was dropped, and the\n"
    "weight and degree distributions. Format: docs/GRAPH.md.\n"
    "\n"
    "Example: sbr-prep ... -o - | sbr-graph - -o - | sbr-cluster - -o clusters.sbr\n"
    "\n" SBR_HELP_EXIT;

static int parse_include(const char *s)
{
    static const char *const names[] = {"valid", "test", "valid,test", "test,valid", NULL};
    int i = sbr_arg_choice("--include", s, names);
    return i == 0 ? 1 << SBR_VALID : i == 1 ? 1 << SBR_TEST : (1 << SBR_VALID) | (1 << SBR_TEST);
}

static void summary(const sbr_graph *g, double seconds)
{
    if (sbr_quiet)
        return;
    sbr_graph_summary s;
    sbr_graph_summarize(g, &s);
    const sbr_graph_build_stats *b = &g->build;
    sbr_info("%s graph: %lld nodes (%lld items + padding), %lld edges (%lld stored entries), "
             "%lld isolated items",
             sbr_graph_kind_names[g->kind], (long long)g->n_nodes, (long long)g->n_items,
             (long long)g->n_edges, (long long)g->nnz, (long long)s.isolated);
    char topk[96] = "";
    if (g->topk > 0)
        snprintf(topk, sizeof topk, ", %lld entries beyond top-%d", (long long)b->topk_dropped,
                 g->topk);
    sbr_info("read %lld sessions, %lld clicks, %lld item pairs; dropped %lld self-loops, %lld "
             "pairs with non-catalogue items%s",
             (long long)b->sessions, (long long)b->clicks, (long long)b->pairs,
             (long long)b->self_dropped, (long long)b->unknown_dropped, topk);
    sbr_info("weight: min %g median %g mean %.3f p99 %g max %g (sum of stored entries %.0f)",
             s.weight.min, s.weight.median, s.weight.mean, s.weight.p99, s.weight.max,
             s.total_weight);
    sbr_info("degree (items with an edge): min %g median %g mean %.2f p99 %g max %g",
             s.degree.min, s.degree.median, s.degree.mean, s.degree.p99, s.degree.max);
    sbr_info("built in %.2f s, peak memory %.0f MiB", seconds,
             (double)sbr_peak_rss() / (1 << 20));
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-graph", argc, argv);
    enum { OPT_VERSION = 256, OPT_SELF, OPT_INCLUDE, OPT_THREADS };
    static const struct option opts[] = {
        {"kind", required_argument, 0, 'k'},   {"window", required_argument, 0, 'w'},
        {"topk", required_argument, 0, 'K'},   {"self-loops", no_argument, 0, OPT_SELF},
        {"include", required_argument, 0, OPT_INCLUDE},
        {"output", required_argument, 0, 'o'}, {"level", required_argument, 0, 'l'},
        {"threads", required_argument, 0, OPT_THREADS},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    sbr_graph_opts o = {SBR_GRAPH_ADJACENT, 3, 12, 0, 1 << SBR_TRAIN};
    const char *out = "-";
    int level = SBR_ZSTD_LEVEL, threads = 0, window_set = 0, topk_set = 0, c;
    while ((c = getopt_long(argc, argv, "k:w:K:o:l:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'k': o.kind = (sbr_graph_kind)sbr_arg_choice("--kind", optarg, sbr_graph_kind_names); break;
        case 'w': o.window = (int)sbr_arg_int("--window", optarg, 1, 1000); window_set = 1; break;
        case 'K': o.topk = (int)sbr_arg_int("--topk", optarg, 0, 1000000000); topk_set = 1; break;
        case OPT_SELF: o.self_loops = 1; break;
        case OPT_INCLUDE: o.splits |= parse_include(optarg); break;
        case 'o': out = optarg; break;
        case 'l': level = (int)sbr_arg_int("--level", optarg, 0, 19); break;
        case OPT_THREADS: threads = (int)sbr_arg_int("--threads", optarg, 0, 4096); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    const char *in = sbr_cli_one_input(argc, argv, optind, "SESSIONS");
    if (o.kind != SBR_GRAPH_WINDOW && (window_set || topk_set))
        sbr_usage_error("--window and --topk apply to --kind window only");
    if (o.kind != SBR_GRAPH_WINDOW) {
        o.window = 1;
        o.topk = 0;
    }
    sbr_set_threads(threads);
    if (o.splits & (1 << SBR_TEST))
        sbr_warn("--include test: test clicks shape the graph, so evaluation targets leak "
                 "into it; use only to compare with code that does this");

    double t0 = sbr_now();
    sbr_sessions s;
    sbr_err e;
    if (sbr_sessions_read(in, &s, &e) < 0) /* the message already names the file */
        sbr_fatal("%s", e.msg);
    double t1 = sbr_now();
    sbr_graph g;
    if (sbr_graph_build(&s, &o, &g, &e) < 0)
        sbr_fatal("%s: %s", in, e.msg);
    double t2 = sbr_now();
    sbr_tw *w = sbr_tw_new("sbr.graph");
    sbr_graph_add_to(&g, w);
    if (sbr_tw_write(w, out, level, &e) < 0)
        sbr_fatal("%s: %s", out, e.msg);
    sbr_tw_free(w);
    if (!sbr_quiet)
        sbr_info("read %s in %.2f s, wrote %s in %.2f s", in, t1 - t0,
                 strcmp(out, "-") ? out : "standard output", sbr_now() - t2);
    summary(&g, t2 - t1);
    sbr_graph_free(&g);
    sbr_sessions_free(&s);
    return SBR_EXIT_OK;
}
