/* A kNN method over a whole split (sbr_knn_eval_split) and the search of
 * its options on the validation split (sbr_knn_tune). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "knn/knn.h"
#include "metrics.h"
#include "progress.h"
#include "rng.h"

void sbr_knn_eval_split(const sbr_knn *m, const sbr_split *sp, int min_prefix, int K,
                        sbr_task task, int progress, sbr_topk *t)
{
    sbr_samples smp;
    sbr_samples_build(sp, min_prefix, &smp);
    memset(t, 0, sizeof *t);
    t->n = smp.n;
    t->k = K;
    t->n_items = m->cfg.n_items;
    t->task = task;
    t->exclude_seen = sbr_task_excludes(task);
    t->items = sbr_xcalloc((size_t)smp.n * K + 1, sizeof(int32_t));
    t->scores = sbr_xcalloc((size_t)smp.n * K + 1, sizeof(float));
    t->targets = sbr_xcalloc((size_t)smp.n + 1, sizeof(int32_t));
    t->prefix_len = sbr_xcalloc((size_t)smp.n + 1, sizeof(int32_t));
    t->repeat = sbr_xcalloc((size_t)smp.n + 1, 1);
    sbr_progress p;
    sbr_progress_start(&p, "ranking", smp.n, "samples");
    if (!progress)
        p.active = 0;
#pragma omp parallel
    {
        sbr_knn_work *w = sbr_knn_work_new(m);
#pragma omp for schedule(dynamic, 256)
        for (int64_t i = 0; i < smp.n; i++) {
            int64_t s = smp.session[i], off = sp->offsets[s];
            int len = smp.prefix_len[i];
            const int32_t *row = sp->items + off;
            sbr_knn_query q = {row, len, sp->times ? sp->times[off + len - 1] : -1, (uint64_t)i};
            sbr_knn_rank(m, w, &q, K, t->exclude_seen, t->items + (size_t)i * K,
                         t->scores + (size_t)i * K);
            t->targets[i] = row[len];
            t->prefix_len[i] = len;
            t->repeat[i] = (uint8_t)sbr_task_is_repeat(row, len, row[len]);
            if ((i & 4095) == 0 && omp_get_thread_num() == 0) /* roughly: dynamic order */
                sbr_progress_update(&p, i, NULL);
        }
        sbr_knn_work_free(w);
    }
    sbr_progress_end(&p, NULL);
    sbr_samples_free(&smp);
}

/* --- --tune ------------------------------------------------------------------ */

/* Option i of m drawn from its range in the method's table. */
static void draw(sbr_knn *m, const sbr_knn_tune_range *t, sbr_rng *r)
{
    int i = sbr_cfg_find(&m->cfg, t->name);
    const sbr_opt *o = &m->cfg.opts[i];
    double u = sbr_rng_uniform(r), v;
    if (o->type == SBR_OPT_CHOICE || (o->type == SBR_OPT_INT && !t->log))
        v = t->lo + (double)sbr_rng_below(r, (uint64_t)(t->hi - t->lo + 1));
    else if (t->log)
        v = exp(log(t->lo) + u * (log(t->hi) - log(t->lo)));
    else
        v = t->lo + u * (t->hi - t->lo);
    if (o->type == SBR_OPT_INT)
        v = floor(v + 0.5);
    else if (o->type == SBR_OPT_REAL) { /* three significant digits: a readable table */
        char buf[32];
        snprintf(buf, sizeof buf, "%.3g", v);
        v = strtod(buf, NULL);
    }
    m->cfg.opt[i] = v;
}

/* One line of the table: the setting and its validation metrics. */
static void describe(const sbr_model_cfg *c, char *buf, size_t n)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; c->opts[i].name && at < n; i++) {
        char v[64];
        sbr_opt_format(&c->opts[i], c->opt[i], v, sizeof v);
        at += (size_t)snprintf(buf + at, n - at, "%s%s=%s", i ? " " : "", c->opts[i].name, v);
    }
}

static void append(char **table, size_t *len, const char *line)
{
    size_t n = strlen(line);
    *table = sbr_xrealloc(*table, *len + n + 2);
    memcpy(*table + *len, line, n);
    (*table)[*len + n] = '\n';
    *len += n + 1;
    (*table)[*len] = 0;
}

char *sbr_knn_tune(sbr_knn *m, const sbr_sessions *s, const sbr_knn_tune_cfg *tc, sbr_err *e)
{
    const sbr_split *va = &s->split[SBR_VALID];
    if (sbr_samples_count(va, s->min_prefix) == 0) {
        sbr_errf(e, "--tune needs a validation split, and this file has none");
        return NULL;
    }
    sbr_rng r;
    sbr_rng_init(&r, sbr_rng_hash(m->cfg.seed, 0x74756e65ULL));
    double best = -1, best_opt[SBR_MODEL_MAX_OPTS];
    int best_trial = 0;
    char *table = NULL, line[1024], set[768];
    size_t len = 0;
    for (int trial = 0; trial < tc->n; trial++) {
        for (const sbr_knn_tune_range *t = m->def->tune; trial > 0 && t->name; t++)
            if (!tc->fixed[sbr_cfg_find(&m->cfg, t->name)])
                draw(m, t, &r);
        int ki = sbr_cfg_find(&m->cfg, "k");
        if (ki >= 0 && m->cfg.opt[ki] > (double)m->ix.n_sessions)
            m->cfg.opt[ki] = (double)m->ix.n_sessions;
        sbr_knn_refit(m, NULL);
        sbr_topk t;
        double t0 = sbr_now();
        sbr_knn_eval_split(m, va, s->min_prefix, 20, tc->task, 0, &t);
        sbr_metrics mt;
        sbr_metrics_compute(&t, (int[]){20}, 1, tc->task, &mt);
        free(t.items), free(t.scores), free(t.targets), free(t.prefix_len), free(t.repeat);
        double hr = mt.all[0].hr, mrr = mt.all[0].mrr, v = tc->by_mrr ? mrr : hr;
        describe(&m->cfg, set, sizeof set);
        snprintf(line, sizeof line, "%d %s hr@20=%.4f mrr@20=%.4f", trial + 1, set, 100 * hr,
                 100 * mrr);
        append(&table, &len, line);
        sbr_info("tune %d/%d: %s: HR@20 %.2f MRR@20 %.2f (%.1f s)", trial + 1, tc->n, set,
                 100 * hr, 100 * mrr, sbr_now() - t0);
        if (tc->log)
            fprintf(tc->log, "{\"tune\": %d, \"setting\": \"%s\", \"valid_HR@20\": %.6f, "
                             "\"valid_MRR@20\": %.6f, \"seconds\": %.3f}\n",
                    trial + 1, set, 100 * hr, 100 * mrr, sbr_now() - t0);
        if (v > best) {
            best = v;
            best_trial = trial;
            memcpy(best_opt, m->cfg.opt, sizeof best_opt);
        }
    }
    memcpy(m->cfg.opt, best_opt, sizeof best_opt);
    sbr_knn_refit(m, NULL);
    describe(&m->cfg, set, sizeof set);
    snprintf(line, sizeof line, "best: %d (%s %.4f)", best_trial + 1,
             tc->by_mrr ? "mrr@20" : "hr@20", 100 * best);
    append(&table, &len, line);
    sbr_info("tune: kept setting %d: %s", best_trial + 1, set);
    return table;
}
