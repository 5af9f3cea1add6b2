/* sbr-gen: a deterministic synthetic click log (the default dataset, and
 * large inputs for benchmarks). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "gen.h"
#include "io.h"
#include "progress.h"

static const char usage[] =
    "Usage: sbr-gen [OPTION]...\n"
    "Write a synthetic click log (SYNTHETIC data, not real users) for sbr-prep.\n"
    "Items fall into clusters with power-law popularity; sessions mostly follow\n"
    "fixed item-to-item transitions inside a cluster, with repeats and a few\n"
    "users coming back for several sessions, so that a sequence model clearly\n"
    "beats a popularity ranking. The same seed gives the same bytes.\n"
    "\n"
    "  -n, --clicks N      view clicks to write (default 200000)\n"
    "      --items N       catalogue size (default 5000)\n"
    "      --clusters N    item clusters (default 50)\n"
    "      --users N       users that sessions are drawn from, by a power law\n"
    "                      (default: sessions / 3); a user still busy in an earlier\n"
    "                      session gets a fresh id instead, so the log has more\n"
    "                      distinct users than N\n"
    "      --days D        time span in days (default 28)\n"
    "  -s, --seed S        random seed (default 1)\n"
    "      --layout L      tsv: SessionId<TAB>ItemId<TAB>Time<TAB>UserId with a header\n"
    "                      (session-rec layout, default); kaggle: RetailRocket events.csv\n"
    "                      (timestamp ms,visitorid,event,itemid,transactionid) with\n"
    "                      some addtocart and transaction rows\n"
    "      --p-follow P    probability of following a transition (default 0.75)\n"
    "      --p-cluster P   probability of a move to a popular item of the current\n"
    "                      cluster (default 0.12); repeats take 0.08, and the three\n"
    "                      sum to at most 1: the rest jumps to a random cluster\n"
    "      --user-interest P  probability that a returning user's session starts in,\n"
    "                      and jumps to, that user's home cluster (default 0: a\n"
    "                      user's sessions have nothing in common; > 0 for\n"
    "                      logged-in-user studies)\n"
    "  -o, --output FILE   output (default '-': standard output)\n"
    "  -q, --quiet         no summary on stderr\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Example: sbr-gen -n 30000000 --layout kaggle -o big.csv\n"
    "\n" SBR_HELP_EXIT;

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-gen", argc, argv);
    enum { OPT_VERSION = 256, OPT_ITEMS, OPT_CLUSTERS, OPT_USERS, OPT_DAYS, OPT_LAYOUT, OPT_FOLLOW, OPT_PCLUSTER, OPT_UINT };
    static const struct option opts[] = {
        {"clicks", required_argument, 0, 'n'},   {"items", required_argument, 0, OPT_ITEMS},
        {"clusters", required_argument, 0, OPT_CLUSTERS},
        {"users", required_argument, 0, OPT_USERS}, {"days", required_argument, 0, OPT_DAYS},
        {"seed", required_argument, 0, 's'},     {"layout", required_argument, 0, OPT_LAYOUT},
        {"p-follow", required_argument, 0, OPT_FOLLOW},
        {"p-cluster", required_argument, 0, OPT_PCLUSTER},
        {"user-interest", required_argument, 0, OPT_UINT},
        {"output", required_argument, 0, 'o'},   {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},           {"version", no_argument, 0, OPT_VERSION},
        {0, 0, 0, 0}};
    static const char *const layouts[] = {"tsv", "kaggle", NULL};
    gen_opts o;
    gen_defaults(&o);
    const char *output = "-";
    int c;
    while ((c = getopt_long(argc, argv, "n:s:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'n': o.clicks = sbr_arg_int("--clicks", optarg, 1, 10000000000LL); break;
        case OPT_ITEMS: o.items = sbr_arg_int("--items", optarg, 2, 100000000); break;
        case OPT_CLUSTERS: o.clusters = sbr_arg_int("--clusters", optarg, 1, 1000000); break;
        case OPT_USERS: o.users = sbr_arg_int("--users", optarg, 1, 1000000000); break;
        case OPT_DAYS: o.days = sbr_arg_double("--days", optarg, 0.01, 36500); break;
        case 's': o.seed = (uint64_t)sbr_arg_int("--seed", optarg, 0, INT64_MAX); break;
        case OPT_LAYOUT: o.layout = (gen_layout)sbr_arg_choice("--layout", optarg, layouts); break;
        case OPT_FOLLOW: o.p_follow = sbr_arg_double("--p-follow", optarg, 0, 1); break;
        case OPT_PCLUSTER: o.p_cluster = sbr_arg_double("--p-cluster", optarg, 0, 1); break;
        case OPT_UINT: o.user_interest = sbr_arg_double("--user-interest", optarg, 0, 1); break;
        case 'o': output = optarg; break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (optind < argc)
        sbr_usage_error("unexpected argument '%s'", argv[optind]);
    if (o.p_follow + o.p_repeat + o.p_cluster > 1 + 1e-9)
        sbr_usage_error("--p-follow %g and --p-cluster %g with the repeats' %g sum to more than 1",
                        o.p_follow, o.p_cluster, o.p_repeat);
    if (o.clusters > o.items)
        sbr_usage_error("--clusters %lld is more than --items %lld", (long long)o.clusters,
                        (long long)o.items);
    double t0 = sbr_now();
    sbr_out out;
    sbr_err e;
    if (sbr_out_open(&out, output, 0, &e) < 0)
        sbr_fatal("%s: %s", output, e.msg);
    int64_t rows, sessions;
    if (gen_write(&o, out.fp, &rows, &sessions, &e) < 0) {
        sbr_out_abort(&out);
        sbr_fatal("%s: %s", output, e.msg);
    }
    if (sbr_out_commit(&out, &e) < 0)
        sbr_fatal("%s: %s", output, e.msg);
    double dt = sbr_now() - t0;
    sbr_info("wrote %lld rows (%lld view clicks, %lld sessions) to %s in %.2f s (%.1f M rows/s)",
             (long long)rows, (long long)o.clicks, (long long)sessions, output, dt,
             dt > 0 ? (double)rows / dt / 1e6 : 0.0);
    return SBR_EXIT_OK;
}
