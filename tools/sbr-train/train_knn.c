/* sbr-train -m sknn|vsknn|stan|vstan|ar|sr|markov|pop|spop: index the
 * training split (and search the options on the validation split with
 * --tune), write the model file. No epochs: the neural training options
 * (--epochs, --checkpoint, ...) are accepted and have nothing to do. */
#include "train_knn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "err.h"
#include "knn/knn.h"
#include "metrics.h"
#include "model/eval.h"
#include "progress.h"
#include "sessions.h"

static void refuse_neural(const sbr_knn_train_args *a)
{
    const char *what = a->clusters ? "--clusters" : a->graph ? "--graph"
                     : a->resume   ? "--resume"   : a->preset ? "--preset" : NULL;
    if (what)
        sbr_usage_error("%s is for the neural models, not %s", what, a->model);
}

/* The method's defaults, then the options given (misuse when out of range or
 * not the method's); fixed[i]: option i was given. */
static void options(const sbr_knn_train_args *a, sbr_model_cfg *c, int *fixed)
{
    sbr_err e;
    sbr_knn_defaults(a->model, c);
    for (int k = 0; k < a->n_given; k++) {
        int i = sbr_cfg_find(c, a->given_name[k]);
        if (i < 0) {
            char flag[64];
            sbr_opt_flag(a->given_name[k], flag, sizeof flag);
            sbr_usage_error("--%s is not an option of %s (sbr-train --help-model %s lists "
                            "its)", flag, a->model, a->model);
        }
        if (sbr_cfg_parse(c, a->given_name[k], a->given_text[k], &e))
            sbr_usage_error("%s", e.msg);
        fixed[i] = 1;
    }
}

/* The validation split's HR@20 / MRR@20 under the task, into mt; 0 when
 * there is no validation split. */
static int validate(const sbr_knn *m, const sbr_sessions *s, sbr_task task, sbr_metrics *mt)
{
    const sbr_split *va = &s->split[SBR_VALID];
    if (sbr_samples_count(va, s->min_prefix) == 0)
        return 0;
    sbr_topk t;
    sbr_knn_eval_split(m, va, s->min_prefix, 20, task, 1, &t);
    sbr_metrics_compute(&t, (int[]){20}, 1, task, mt);
    sbr_eval_topk_free(&t);
    return 1;
}

/* The validation figures: a line on stderr, the log's members. */
static void report_valid(const sbr_knn_train_args *a, const sbr_metrics *mt, FILE *log)
{
    char dropped[64] = "";
    if (sbr_task_excludes(a->task))
        snprintf(dropped, sizeof dropped, ", %lld repeats dropped", (long long)mt->n_skipped);
    sbr_info("validation (task %s%s): HR@20 %.2f MRR@20 %.2f", sbr_task_name(a->task), dropped,
             100 * mt->all[0].hr, 100 * mt->all[0].mrr);
    if (!log)
        return;
    fprintf(log, ", \"valid_HR@20\": %.6f, \"valid_MRR@20\": %.6f", 100 * mt->all[0].hr,
            100 * mt->all[0].mrr);
    if (sbr_task_excludes(a->task))
        fprintf(log, ", \"valid_repeats_dropped\": %lld", (long long)mt->n_skipped);
}

static void write_model(const sbr_knn_train_args *a, const sbr_knn *m, const sbr_sessions *s,
                        const char *table, const sbr_metrics *valid)
{
    sbr_tw *w = sbr_tw_new("sbr.model");
    sbr_knn_add_to(m, w);
    sbr_tw_metaf(w, "min_prefix", "%d", s->min_prefix);
    sbr_task_add_to(a->task, w);
    /* as the neural models' "selection" says what chose their epoch */
    sbr_tw_metaf(w, "selection", "%s%s", a->refit ? "refit: " : "",
                 !a->tune ? "the options as given"
                 : a->by_mrr ? "the options of the best valid MRR@20 (--tune)"
                             : "the options of the best valid HR@20 (--tune)");
    if (a->refit)
        sbr_tw_meta(w, "refit", "indexed on train + valid");
    if (valid && sbr_task_excludes(a->task))
        sbr_tw_metaf(w, "valid.repeats_dropped", "%lld", (long long)valid->n_skipped);
    sbr_tw_add1(w, "items.original", SBR_I64, s->n_items + 1, s->original);
    if (table) {
        sbr_tw_metaf(w, "tune.trials", "%d", a->tune);
        sbr_tw_metaf(w, "tune.metric", "%s%s", a->by_mrr ? "valid mrr@20" : "valid hr@20",
                     sbr_task_excludes(a->task) ? " (task next-unseen)" : "");
        sbr_tw_meta(w, "tune.table", table);
    }
    sbr_err e;
    if (sbr_tw_write(w, a->out, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", a->out, e.msg);
    sbr_tw_free(w);
}

/* --select refit: the settings chosen on validation (the given ones without
 * --tune) indexed again on train + valid, the most recent sessions included,
 * as the neural models' refit trains on them (docs/TRAINING.md). */
static void refit(const sbr_knn_train_args *a, const sbr_sessions *s, sbr_sessions *merged,
                  sbr_knn *m)
{
    sbr_err e;
    if (sbr_samples_count(&s->split[SBR_VALID], s->min_prefix) == 0)
        sbr_usage_error("%s: --select refit indexes train + valid, and this file has no "
                        "validation split (sbr-prep --valid-frac)", a->sessions);
    if (sbr_sessions_refit(s, merged, &e))
        sbr_fatal("%s: refit: %s", a->sessions, e.msg);
    sbr_model_cfg chosen = m->cfg;
    sbr_knn_free(m);
    const sbr_split *tv = &merged->split[SBR_TRAIN];
    if (sbr_knn_build(m, &chosen, tv, &e))
        sbr_fatal("%s: refit: %s", a->sessions, e.msg);
    sbr_info("refit: the %s settings indexed on train + valid: %lld sessions, %lld clicks",
             a->tune ? "chosen" : "given", (long long)tv->n_sessions,
             (long long)tv->offsets[tv->n_sessions]);
}

void sbr_train_knn(const sbr_knn_train_args *a)
{
    refuse_neural(a);
    sbr_model_cfg cfg;
    int fixed[SBR_MODEL_MAX_OPTS] = {0};
    options(a, &cfg, fixed);
    sbr_sessions s;
    sbr_err e;
    if (sbr_sessions_read(a->sessions, &s, &e))
        sbr_fatal("%s", e.msg);
    if (a->tune && sbr_samples_count(&s.split[SBR_VALID], s.min_prefix) == 0)
        sbr_usage_error("%s: --tune scores settings on the validation split, and this file has "
                        "none (sbr-prep --valid-frac)", a->sessions);
    cfg.seed = a->seed;
    cfg.n_items = (int)s.n_items;
    const sbr_split *tr = &s.split[SBR_TRAIN];
    int ki = sbr_cfg_find(&cfg, "k");
    if (ki >= 0 && cfg.opt[ki] > (double)tr->n_sessions && tr->n_sessions > 0) {
        sbr_warn("--k %.0f is more than the %lld training sessions: k = %lld", cfg.opt[ki],
                 (long long)tr->n_sessions, (long long)tr->n_sessions);
        cfg.opt[ki] = (double)tr->n_sessions;
    }
    FILE *log = a->log ? sbr_cli_log_open(a->log, 0) : NULL;
    double t0 = sbr_now();
    sbr_knn m;
    if (sbr_knn_build(&m, &cfg, tr, &e))
        sbr_fatal("%s: %s", a->sessions, e.msg);
    double t_index = sbr_now() - t0;
    sbr_info("%s: indexed %lld training sessions, %lld clicks, %lld items in %.2f s (recency: %s)",
             cfg.model, (long long)tr->n_sessions, (long long)tr->offsets[tr->n_sessions],
             (long long)s.n_items, t_index,
             m.ix.has_time ? "last click times" : "session order: the file has no timestamps");
    char *table = NULL;
    if (a->tune) {
        sbr_knn_tune_cfg tc = {a->tune, a->by_mrr, fixed, log, a->task};
        if (!(table = sbr_knn_tune(&m, &s, &tc, &e)))
            sbr_fatal("%s: %s", a->sessions, e.msg);
    }
    sbr_metrics mt;
    int has_valid = validate(&m, &s, a->task, &mt);
    sbr_sessions merged = {0};
    if (a->refit)
        refit(a, &s, &merged, &m);
    if (log)
        fprintf(log, "{\"model\": \"%s\", \"task\": \"%s\", \"index_seconds\": %.3f, "
                     "\"seconds\": %.3f",
                cfg.model, sbr_task_name(a->task), t_index, sbr_now() - t0);
    if (has_valid)
        report_valid(a, &mt, log);
    if (log) {
        fprintf(log, ", \"peak_rss_mib\": %.1f}\n", (double)sbr_peak_rss() / (1 << 20));
        sbr_cli_log_close(log, a->log);
    }
    write_model(a, &m, a->refit ? &merged : &s, table, has_valid ? &mt : NULL);
    sbr_info("%.2f s, peak memory %.0f MiB", sbr_now() - t0, (double)sbr_peak_rss() / (1 << 20));
    free(table);
    sbr_knn_free(&m);
    if (a->refit)
        sbr_sessions_free(&merged);
    sbr_sessions_free(&s);
}
