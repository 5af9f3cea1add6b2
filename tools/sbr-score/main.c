/* sbr-score: ranking metrics of a top-K file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "json.h"
#include "metrics.h"
#include "report_unc.h"
#include "sessions.h"
#include "task.h"
#include "topk.h"

static const char usage[] =
    "Usage: sbr-score [OPTION]... TOPK\n"
    "Compute HR, MRR and NDCG at each cutoff and Cov@K (distinct recommended items over\n"
    "the catalogue) of a top-K file (kind sbr.topk, from sbr-infer) against its targets,\n"
    "overall and by prefix length. Prints a table; TOPK may be '-'. Every metric is in\n"
    "percent, here as in the JSON, the .metrics file, the training logs and the model.\n"
    "HR@K is what SBR papers call P@K or Recall@K (one target per sample).\n"
    "\n"
    "When TOPK carries each sample's uncertainty (sbr-infer --uncertainty: the entropy\n"
    "H and the top-1 probability p of the softmax its list ranks from), also HR@K and\n"
    "MRR@K by entropy decile (the scored samples sorted by H, lowest first, in ten\n"
    "groups of equal size: does a low uncertainty mean more hits?) and the expected\n"
    "calibration error of p: ECE = sum over 10 equal-width bins of p ([0,0.1), ...,\n"
    "[0.9,1]) of |bin| / n |acc(bin) - conf(bin)|, acc the share of the bin's samples\n"
    "whose first item is the target, conf their mean p (percent; H in nats).\n"
    "For a model that samples its session vector (NP-MiSR: TOPK's spread, the RMS\n"
    "distance of its K sampled session vectors from their mean), also HR@K and MRR@K\n"
    "by spread decile, in the same way (JSON: uncertainty.spread_deciles).\n"
    "\n"
    "  -c, --cutoffs LIST    comma-separated cutoffs, each <= the list length (default 5,10,20)\n"
    "      --task T          standard: score every sample; next-unseen (ProxySR): skip\n"
    "                        the samples whose target occurs in their prefix, counted.\n"
    "                        Default: the task TOPK was ranked for (sbr-infer --task;\n"
    "                        the model's), said on stderr when it is next-unseen; a\n"
    "                        task that does not fit the lists is warned about\n"
    "      --next-unseen     the same as --task next-unseen\n"
    "  -s, --sessions FILE   check the targets against this sessions file ...\n"
    "      --split NAME      ... and split (default test)\n"
    "  -o, --output FILE     also write the metrics as kind sbr.metrics ('-': stdout,\n"
    "                        and the table goes to stderr)\n"
    "      --json            print the metrics as one JSON object instead of the table\n"
    "  -q, --quiet           no informational messages\n"
    "  -h, --help            show this help and exit\n"
    "      --version         show the version and exit\n"
    "\n"
    "Example: sbr-infer model.sbr sessions.sbr -o - | sbr-score -\n"
    "\n" SBR_HELP_EXIT;

static int parse_cutoffs(const char *s, int *out)
{
    int n = 0;
    char *copy = sbr_xstrdup(s), *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == SBR_MAX_CUTOFFS)
            sbr_usage_error("--cutoffs: at most %d values", SBR_MAX_CUTOFFS);
        out[n] = (int)sbr_arg_int("--cutoffs", tok, 1, 1000000);
        if (n && out[n] <= out[n - 1])
            sbr_usage_error("--cutoffs: values must increase");
        n++;
    }
    free(copy);
    if (!n)
        sbr_usage_error("--cutoffs: empty list");
    return n;
}

/* The targets of the topk rows must be those of the split's samples, in
 * order, and their repeat flags what task.h says of those samples. */
static void check_targets(const sbr_topk *t, const char *path, const char *split_name)
{
    sbr_sessions s;
    sbr_err e;
    if (sbr_sessions_read(path, &s, &e))
        sbr_fatal("%s", e.msg); /* the message names the file */
    int sp = 0;
    while (sp < SBR_NSPLITS && strcmp(sbr_split_names[sp], split_name))
        sp++;
    if (sp == SBR_NSPLITS)
        sbr_usage_error("--split: '%s' is not one of train, valid, test", split_name);
    sbr_samples smp;
    sbr_samples_build(&s.split[sp], s.min_prefix, &smp);
    if (smp.n != t->n)
        sbr_fatal("%s has %lld rows but the %s split of %s has %lld samples", t->file.path,
                  (long long)t->n, split_name, path, (long long)smp.n);
    for (int64_t i = 0; i < smp.n; i++) {
        const sbr_split *x = &s.split[sp];
        int32_t target = x->items[x->offsets[smp.session[i]] + smp.prefix_len[i]];
        if (target != t->targets[i])
            sbr_fatal("%s: row %lld has target %d but sample %lld of %s is %d", t->file.path,
                      (long long)i, t->targets[i], (long long)i, path, target);
        int rep = sbr_task_is_repeat(x->items + x->offsets[smp.session[i]], smp.prefix_len[i],
                                     target);
        if (rep != t->repeat[i])
            sbr_fatal("%s: row %lld has repeat flag %d but sample %lld of %s is %sa repeat",
                      t->file.path, (long long)i, t->repeat[i], (long long)i, path,
                      rep ? "" : "not ");
    }
    sbr_samples_free(&smp);
    sbr_sessions_free(&s);
}

static void print_table(FILE *fp, const sbr_metrics *m, const sbr_topk *t, const char *path,
                        sbr_task task)
{
    fprintf(fp, "%s: %lld samples", path, (long long)m->n_samples);
    if (sbr_task_excludes(task))
        fprintf(fp, " (%lld repeats skipped: next-unseen)", (long long)m->n_skipped);
    if (m->n_unseen_targets)
        fprintf(fp, ", %lld targets outside the catalogue (misses)", (long long)m->n_unseen_targets);
    fprintf(fp, ", %lld items\n\n%-8s", (long long)t->n_items, "metric");
    for (int c = 0; c < m->n_cutoffs; c++)
        fprintf(fp, "  %7s@%-3d", "", m->cutoffs[c]);
    const char *names[4] = {"HR", "MRR", "NDCG", "Cov"};
    for (int r = 0; r < 4; r++) {
        fprintf(fp, "\n%-8s", names[r]);
        for (int c = 0; c < m->n_cutoffs; c++) {
            double v = r == 0 ? m->all[c].hr : r == 1 ? m->all[c].mrr : r == 2 ? m->all[c].ndcg
                                                                              : m->coverage[c];
            fprintf(fp, "  %11.2f", 100 * v);
        }
    }
    int last = m->n_cutoffs - 1;
    fprintf(fp, "\n\nby prefix length (@%d)\n%-8s %10s %8s %8s\n", m->cutoffs[last], "length",
           "samples", "HR", "MRR");
    for (int b = 0; b < SBR_LEN_BUCKETS; b++) {
        const sbr_metric_row *r = &m->by_len[b][last];
        if (r->n)
            fprintf(fp, "%-8s %10lld %8.2f %8.2f\n", sbr_len_bucket_names[b], (long long)r->n,
                   100 * r->hr, 100 * r->mrr);
    }
}

static char *metrics_json(const sbr_metrics *m, const sbr_unc_metrics *u, sbr_task task)
{
    sbr_buf b = {0};
    sbr_buf_printf(&b, "{\"samples\":%lld,\"skipped\":%lld,\"unseen_targets\":%lld,\"task\":\"%s\"",
                   (long long)m->n_samples, (long long)m->n_skipped,
                   (long long)m->n_unseen_targets, sbr_task_name(task));
    for (int c = 0; c < m->n_cutoffs; c++) {
        int k = m->cutoffs[c];
        sbr_buf_printf(&b, ",\"HR@%d\":%.6f,\"MRR@%d\":%.6f,\"NDCG@%d\":%.6f,\"Cov@%d\":%.6f", k,
                       100 * m->all[c].hr, k, 100 * m->all[c].mrr, k, 100 * m->all[c].ndcg, k,
                       100 * m->coverage[c]);
    }
    int last = m->n_cutoffs - 1;
    sbr_buf_puts(&b, ",\"by_length\":[");
    for (int bk = 0, first = 1; bk < SBR_LEN_BUCKETS; bk++) {
        const sbr_metric_row *r = &m->by_len[bk][last];
        if (!r->n)
            continue;
        sbr_buf_printf(&b, "%s{\"length\":\"%s\",\"samples\":%lld,\"HR@%d\":%.6f,\"MRR@%d\":%.6f}",
                       first ? "" : ",", sbr_len_bucket_names[bk], (long long)r->n,
                       m->cutoffs[last], 100 * r->hr, m->cutoffs[last], 100 * r->mrr);
        first = 0;
    }
    sbr_buf_puts(&b, "]");
    if (u)
        unc_json(&b, u, m);
    sbr_buf_puts(&b, "}");
    return b.s;
}

static void write_metrics(const sbr_metrics *m, const char *json, const char *out, sbr_task task)
{
    double hr[SBR_MAX_CUTOFFS], mrr[SBR_MAX_CUTOFFS], ndcg[SBR_MAX_CUTOFFS];
    int32_t cut[SBR_MAX_CUTOFFS];
    double cov[SBR_MAX_CUTOFFS];
    for (int c = 0; c < m->n_cutoffs; c++) { /* percent, as every number sbr shows */
        cut[c] = m->cutoffs[c];
        hr[c] = 100 * m->all[c].hr;
        mrr[c] = 100 * m->all[c].mrr;
        ndcg[c] = 100 * m->all[c].ndcg;
        cov[c] = 100 * m->coverage[c];
    }
    sbr_tw *w = sbr_tw_new("sbr.metrics");
    sbr_tw_meta(w, "unit", "percent");
    sbr_tw_meta(w, "metrics", json);
    sbr_tw_meta(w, "protocol", sbr_task_name(task));
    sbr_tw_add1(w, "cutoffs", SBR_I32, m->n_cutoffs, cut);
    sbr_tw_add1(w, "hr", SBR_F64, m->n_cutoffs, hr);
    sbr_tw_add1(w, "mrr", SBR_F64, m->n_cutoffs, mrr);
    sbr_tw_add1(w, "ndcg", SBR_F64, m->n_cutoffs, ndcg);
    sbr_tw_add1(w, "coverage", SBR_F64, m->n_cutoffs, cov);
    sbr_err e;
    if (sbr_tw_write(w, out, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", out, e.msg);
    sbr_tw_free(w);
}

/* The task to score under: the one asked for (given), else the lists'.
 * Says so when the lists' is next-unseen, and warns when the task does not
 * fit the lists. */
static sbr_task scoring_task(const sbr_topk *t, const char *path, int given, sbr_task task)
{
    if (!given) {
        if (sbr_task_excludes(t->task))
            sbr_info("%s: lists for the next-unseen task: repeat samples are skipped "
                     "(--task standard to count them)", path);
        return t->task;
    }
    int64_t repeats = 0;
    for (int64_t i = 0; i < t->n; i++)
        repeats += t->repeat[i] != 0;
    if (sbr_task_excludes(task) && !t->exclude_seen)
        sbr_warn("%s: --task next-unseen on lists that may contain prefix items (made for the "
                 "standard task, without sbr-infer --exclude-seen)", path);
    else if (!sbr_task_excludes(task) && t->exclude_seen && repeats)
        sbr_warn("%s: --task standard on lists made without each prefix's items: its %lld "
                 "repeat samples are misses by construction", path, (long long)repeats);
    return task;
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-score", argc, argv);
    enum { OPT_VERSION = 256, OPT_JSON, OPT_NEXT_UNSEEN, OPT_SPLIT, OPT_TASK };
    static const struct option opts[] = {
        {"cutoffs", required_argument, 0, 'c'}, {"next-unseen", no_argument, 0, OPT_NEXT_UNSEEN},
        {"sessions", required_argument, 0, 's'}, {"split", required_argument, 0, OPT_SPLIT},
        {"output", required_argument, 0, 'o'}, {"json", no_argument, 0, OPT_JSON},
        {"quiet", no_argument, 0, 'q'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, OPT_VERSION}, {"task", required_argument, 0, OPT_TASK},
        {0, 0, 0, 0}};
    int cutoffs[SBR_MAX_CUTOFFS] = {5, 10, 20}, n_cutoffs = 3, json = 0, task_given = 0, c;
    sbr_task task = SBR_TASK_STANDARD;
    const char *out = NULL, *sessions = NULL, *split = "test";
    while ((c = getopt_long(argc, argv, "c:s:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': n_cutoffs = parse_cutoffs(optarg, cutoffs); break;
        case OPT_NEXT_UNSEEN: task = SBR_TASK_NEXT_UNSEEN, task_given = 1; break;
        case OPT_TASK:
            task = (sbr_task)sbr_arg_choice("--task", optarg, sbr_task_names);
            task_given = 1;
            break;
        case 's': sessions = optarg; break;
        case OPT_SPLIT: split = optarg; break;
        case 'o': out = optarg; break;
        case OPT_JSON: json = 1; break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (argc - optind != 1)
        sbr_usage_error(optind >= argc ? "no TOPK file given" : "expected one TOPK file");
    const char *path = argv[optind];
    /* With -o - the metrics file takes stdout, so the table goes to stderr. */
    FILE *report = out && strcmp(out, "-") == 0 ? stderr : stdout;
    sbr_topk t;
    sbr_err e;
    if (sbr_topk_read(path, &t, &e))
        sbr_fatal("%s: %s", path, e.msg);
    if (t.n == 0)
        sbr_fatal("%s: no samples to score (empty split?)", path);
    if (cutoffs[n_cutoffs - 1] > t.k)
        sbr_fatal("%s: lists hold %d items, cutoff %d asks for more (rerun sbr-infer -k %d)",
                  path, t.k, cutoffs[n_cutoffs - 1], cutoffs[n_cutoffs - 1]);
    task = scoring_task(&t, path, task_given, task);
    if (sessions)
        check_targets(&t, sessions, split);
    sbr_metrics m;
    sbr_metrics_compute(&t, cutoffs, n_cutoffs, task, &m);
    sbr_unc_metrics u; /* when the lists carry their uncertainty */
    int unc = sbr_unc_metrics_compute(&t, cutoffs, n_cutoffs, task, &u) == 0;
    char *js = metrics_json(&m, unc ? &u : NULL, task);
    if (json)
        fprintf(report, "%s\n", js);
    else if (!(report == stderr && sbr_quiet)) {
        print_table(report, &m, &t, path, task);
        if (unc)
            unc_print(report, &u, &m);
    }
    if (out)
        write_metrics(&m, js, out, task);
    free(js);
    sbr_topk_free(&t);
    if (fflush(stdout) != 0 || ferror(stdout))
        sbr_fatal("write to stdout failed");
    return SBR_EXIT_OK;
}
