/* sbr-cluster: Leiden clusters of a graph file (kind sbr.clusters). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cluster.h"
#include "device.h"
#include "err.h"
#include "graph.h"
#include "progress.h"
#include "tfile.h"

static const char usage[] =
    "Usage: sbr-cluster [OPTION]... GRAPH\n"
    "Cluster the items of a graph file (sbr-graph output) with Leiden (igraph), the\n"
    "modularity objective, and write an sbr.clusters file: a cluster id per item (ids\n"
    "from 1, numbered by decreasing size; 0 is padding) and the cluster sizes.\n"
    "GRAPH may be '-' for standard input. A graph that is not symmetric (window with\n"
    "top-k, transition) is clustered on its undirected union.\n"
    "\n"
    "  -r, --resolution R   modularity resolution gamma (default 1.0)\n"
    "  -s, --seed N         seed of igraph's random generator (default 42)\n"
    "  -R, --restarts N     run Leiden N times, from seeds N, N+1, ..., and keep the\n"
    "                       partition of highest modularity (default 3)\n"
    "  -b, --beta B         randomness of Leiden's refinement (default 0.01)\n"
    "  -n, --iterations N   run N iterations (default: until the partition no longer\n"
    "                       changes, at most 1000)\n"
    "      --isolated RULE  items without any edge: single (default), a singleton\n"
    "                       cluster each; frequent, the most frequent cluster (the one\n"
    "                       with the largest total weighted degree)\n"
    "  -o, --output FILE    output file (default '-': standard output, never a terminal)\n"
    "  -l, --level N        zstd level of the output, 0 = uncompressed (default 3)\n"
    "      --threads N      threads (default 0: all cores)\n"
    "  -q, --quiet          no summary on standard error\n"
    "  -h, --help           show this help and exit\n"
    "      --version        show the version and exit\n"
    "\n"
    "Summary on standard error: clusters, largest, singletons, modularity, iterations,\n"
    "time. The modularity in the metadata is igraph's modularity of the partition at\n"
    "resolution R. Format: docs/GRAPH.md.\n"
    "\n"
    "Example: sbr-graph sessions.sbr -o - | sbr-cluster - --seed 1 -o clusters.sbr\n"
    "\n" SBR_HELP_EXIT;

static void on_iteration(int64_t it, int64_t n_clusters, double quality, void *arg)
{
    sbr_progress *p = arg;
    char extra[96];
    snprintf(extra, sizeof extra, "%lld clusters, quality %.6f", (long long)n_clusters, quality);
    sbr_progress_update(p, it, extra);
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-cluster", argc, argv);
    enum { OPT_VERSION = 256, OPT_ISOLATED, OPT_THREADS };
    static const struct option opts[] = {
        {"resolution", required_argument, 0, 'r'}, {"seed", required_argument, 0, 's'},
        {"beta", required_argument, 0, 'b'},       {"iterations", required_argument, 0, 'n'},
        {"restarts", required_argument, 0, 'R'},
        {"isolated", required_argument, 0, OPT_ISOLATED},
        {"output", required_argument, 0, 'o'},     {"level", required_argument, 0, 'l'},
        {"threads", required_argument, 0, OPT_THREADS},
        {"quiet", no_argument, 0, 'q'},            {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION},  {0, 0, 0, 0}};
    sbr_leiden_opts o = {.resolution = 1.0, .beta = 0.01, .seed = 42, .restarts = 3,
                         .max_iterations = -1, .isolated = SBR_ISOLATED_SINGLE};
    const char *out = "-";
    int level = SBR_ZSTD_LEVEL, threads = 0, c;
    while ((c = getopt_long(argc, argv, "r:s:b:n:R:o:l:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'r': o.resolution = sbr_arg_double("--resolution", optarg, 1e-9, 1e9); break;
        case 's': o.seed = (uint64_t)sbr_arg_int("--seed", optarg, 0, INT64_MAX); break;
        case 'b': o.beta = sbr_arg_double("--beta", optarg, 1e-9, 1e9); break;
        case 'R': o.restarts = (int)sbr_arg_int("--restarts", optarg, 1, 1000); break;
        case 'n': o.max_iterations = sbr_arg_int("--iterations", optarg, 1, 1000000); break;
        case OPT_ISOLATED:
            o.isolated = (sbr_isolated_rule)sbr_arg_choice("--isolated", optarg, sbr_isolated_names);
            break;
        case 'o': out = optarg; break;
        case 'l': level = (int)sbr_arg_int("--level", optarg, 0, 19); break;
        case OPT_THREADS: threads = (int)sbr_arg_int("--threads", optarg, 0, 4096); break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    const char *in = sbr_cli_one_input(argc, argv, optind, "GRAPH");
    sbr_set_threads(threads);

    sbr_graph g;
    sbr_err e;
    if (sbr_graph_read(in, &g, &e) < 0)
        sbr_fatal("%s: %s", in, e.msg);
    if (!g.symmetric)
        sbr_info("%s: %s graph is not symmetric: clustering its undirected union", in,
                 sbr_graph_kind_names[g.kind]);
    sbr_progress p;
    sbr_progress_start(&p, "leiden", o.max_iterations > 0 ? o.max_iterations : 0, "iterations");
    sbr_clusters cl;
    if (sbr_cluster_leiden(&g, &o, &cl, on_iteration, &p, &e) < 0)
        sbr_fatal("%s: %s", in, e.msg);
    sbr_progress_end(&p, NULL);
    if (!cl.stable && o.max_iterations < 0)
        sbr_warn("the partition still changed after %lld iterations", (long long)cl.iterations);

    sbr_tw *w = sbr_tw_new("sbr.clusters");
    sbr_clusters_add_to(&cl, w);
    sbr_tw_meta(w, "graph.kind", sbr_graph_kind_names[g.kind]);
    sbr_tw_metaf(w, "graph.n_edges", "%lld", (long long)g.n_edges);
    if (sbr_tw_write(w, out, level, &e) < 0)
        sbr_fatal("%s: %s", out, e.msg);
    sbr_tw_free(w);
    sbr_info("%lld clusters (%lld from Leiden over %lld items with an edge, %lld isolated items "
             "-> %s), largest %lld items, %lld singletons",
             (long long)cl.n_clusters, (long long)cl.n_graph_clusters,
             (long long)(cl.n_items - cl.n_isolated), (long long)cl.n_isolated,
             sbr_isolated_names[o.isolated], (long long)sbr_clusters_largest(&cl),
             (long long)sbr_clusters_singletons(&cl));
    sbr_info("modularity %.6f (resolution %g), best of %d runs: seed %llu, %lld iterations "
             "(%s); %lld iterations in all, %.2f s, peak memory %.0f MiB",
             cl.modularity, o.resolution, cl.restarts, (unsigned long long)cl.best_seed,
             (long long)cl.iterations, cl.stable ? "stable" : "not stable",
             (long long)cl.total_iterations, cl.seconds, (double)sbr_peak_rss() / (1 << 20));
    sbr_clusters_free(&cl);
    sbr_graph_free(&g);
    return SBR_EXIT_OK;
}
