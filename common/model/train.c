#include "model/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/devmem.h"
#include "model/def.h"
#include "model/eval.h"
#include "model/prefetch.h"
#include "progress.h"
#include "rng.h"

static const int cutoffs[3] = {5, 10, 20};

/* Fisher-Yates with a stream keyed by (seed, epoch): the order of an epoch
 * does not depend on what came before, so a resumed run sees the same. */
static void shuffle(int64_t *order, int64_t n, uint64_t seed, int epoch)
{
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    uint64_t key = sbr_rng_hash(seed ^ 0x5EEDF00Dull, (uint64_t)epoch);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(sbr_rng_hash(key, (uint64_t)i) % (uint64_t)(i + 1));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
}

static void evaluate(sbr_model *m, const sbr_split *sp, int min_prefix, const sbr_clip_map *clip,
                     const sbr_train_cfg *tc, sbr_eval_result *r)
{
    /* the model is sized for this batch */
    sbr_eval_cfg ec = {20, tc->batch, tc->task, tc->chunk, 0, NULL, 0};
    sbr_topk t;
    sbr_eval_split(m, sp, min_prefix, clip, &ec, &t);
    sbr_metrics_compute(&t, cutoffs, 3, tc->task, &r->m);
    r->done = 1;
    sbr_eval_topk_free(&t);
}

/* Host copy of the parameters (as stored on the device: f32 or f64). */
static void params_to_host(sbr_model *m, void *host)
{
    sbr_dev_download(m->prec, host, m->params.base, m->params.bytes);
}

static void params_from_host(sbr_model *m, const void *host)
{
    sbr_dev_upload(m->prec, m->params.base, host, m->params.bytes);
}

/* Adds the host copy `host` of the parameters to w as F32 tensors "PREFIX<name>". */
static void add_host_params(sbr_model *m, const void *host, float *f32, const char *prefix,
                            sbr_tw *w)
{
    int64_t n = sbr_arena_numel(&m->params);
    for (int64_t k = 0; k < n; k++)
        f32[k] = m->elem == 8 ? (float)((const double *)host)[k] : ((const float *)host)[k];
    for (int i = 0; i < m->params.n; i++) {
        const sbr_view *v = &m->params.views[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, v->name);
        sbr_tw_add(w, name, SBR_F32, v->ndim, v->shape, f32 + v->offset / m->elem);
    }
}

static int load_host_params(sbr_model *m, const sbr_tfile *f, const char *prefix, void *host,
                            sbr_err *e)
{
    for (int i = 0; i < m->params.n; i++) {
        const sbr_view *v = &m->params.views[i];
        char name[128];
        snprintf(name, sizeof name, "%s%s", prefix, v->name);
        const sbr_tensor *t = sbr_tfile_need(f, name, SBR_F32, v->ndim, e);
        if (!t)
            return -1;
        if (t->numel != v->numel)
            return sbr_errf(e, "tensor \"%s\" does not fit the model", name);
        for (int64_t k = 0; k < v->numel; k++) {
            float x = ((const float *)t->data)[k];
            if (m->elem == 8)
                ((double *)host)[v->offset / 8 + (size_t)k] = x;
            else
                ((float *)host)[v->offset / 4 + (size_t)k] = x;
        }
    }
    return 0;
}

typedef struct {
    int bad; /* epochs without improvement */
} run_state;

static void write_checkpoint(sbr_model *m, const sbr_train_cfg *tc, const sbr_train_state *st,
                             const run_state *rs, const void *best, float *f32)
{
    sbr_tw *w = sbr_tw_new("sbr.model");
    sbr_model_add_to(m, w, 1);
    sbr_train_state_meta(st, tc, w);
    sbr_tw_metaf(w, "checkpoint.bad_epochs", "%d", rs->bad);
    sbr_tw_metaf(w, "checkpoint.best_score", "%.17g", st->best_score);
    sbr_tw_metaf(w, "checkpoint.best_test_hr", "%.17g", st->best_test_hr);
    sbr_tw_metaf(w, "checkpoint.best_test_mrr", "%.17g", st->best_test_mrr);
    sbr_tw_metaf(w, "checkpoint.steps", "%lld", (long long)st->steps);
    add_host_params(m, best, f32, "best.", w);
    sbr_err e;
    if (sbr_tw_write(w, tc->checkpoint, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", tc->checkpoint, e.msg);
    sbr_tw_free(w);
}

static double meta_num(const sbr_tfile *f, const char *key)
{
    const char *v = sbr_tfile_meta(f, key);
    return v ? strtod(v, NULL) : 0;
}

static int resume_from(sbr_model *m, const sbr_tfile *f, sbr_train_state *st, run_state *rs,
                       void *best, sbr_err *e)
{
    if (sbr_model_load(m, f, 1, e) || load_host_params(m, f, "best.", best, e))
        return -1;
    st->epoch = (int)meta_num(f, "epochs_done");
    st->best_epoch = (int)meta_num(f, "selected_epoch");
    st->best_score = meta_num(f, "checkpoint.best_score");
    st->best_test_hr = meta_num(f, "checkpoint.best_test_hr");
    st->best_test_mrr = meta_num(f, "checkpoint.best_test_mrr");
    st->steps = (int64_t)meta_num(f, "checkpoint.steps");
    rs->bad = (int)meta_num(f, "checkpoint.bad_epochs");
    return 0;
}

/* The end of the epoch's line: the task its evaluations ranked for, and
 * under next-unseen the repeat samples they dropped. */
static void task_text(const sbr_train_cfg *tc, const sbr_eval_result *v, const sbr_eval_result *t,
                      char *buf, size_t n)
{
    int k = snprintf(buf, n, "  task %s", sbr_task_name(tc->task));
    if (!sbr_task_excludes(tc->task) || (!v->done && !t->done))
        return;
    k += snprintf(buf + k, n - (size_t)k, ", repeats dropped:");
    if (v->done)
        k += snprintf(buf + k, n - (size_t)k, " valid %lld", (long long)v->m.n_skipped);
    if (t->done)
        snprintf(buf + k, n - (size_t)k, "%s test %lld", v->done ? "," : "",
                 (long long)t->m.n_skipped);
}

/* The task and the repeats each evaluation dropped, as JSON members. */
static void log_task(FILE *log, const sbr_train_cfg *tc, const sbr_eval_result *const rs[2])
{
    static const char *const names[2] = {"valid", "test"};
    fprintf(log, ",\"task\":\"%s\"", sbr_task_name(tc->task));
    for (int k = 0; k < 2 && sbr_task_excludes(tc->task); k++)
        if (rs[k]->done)
            fprintf(log, ",\"%s_repeats_dropped\":%lld", names[k], (long long)rs[k]->m.n_skipped);
}

/* xloss: the mean of the model's own loss term (DMI-GNN's regulariser), part
 * of loss; 0 for models without one (then not logged). */
static void log_epoch(const sbr_train_cfg *tc, int epoch, double loss, double xloss, double lr,
                      double secs, double rate, const sbr_eval_result *v, const sbr_eval_result *t)
{
    char line[512];
    int n = snprintf(line, sizeof line, "%s%sepoch %d  loss %.4f  lr %.2g  %.0fs  %.0f samples/s",
                     tc->phase ? tc->phase : "", tc->phase ? " " : "", epoch, loss, lr, secs, rate);
    if (xloss != 0)
        n += snprintf(line + n, sizeof line - (size_t)n, "  reg %.4f", xloss);
    if (v->done)
        n += snprintf(line + n, sizeof line - (size_t)n, "  valid HR@20 %.2f MRR@20 %.2f",
                      100 * v->m.all[2].hr, 100 * v->m.all[2].mrr);
    if (t->done)
        n += snprintf(line + n, sizeof line - (size_t)n, "  test HR@20 %.2f MRR@20 %.2f",
                      100 * t->m.all[2].hr, 100 * t->m.all[2].mrr);
    task_text(tc, v, t, line + n, sizeof line - (size_t)n);
    sbr_info("%s", line);
    if (tc->log) {
        fprintf(tc->log, "{\"epoch\":%d,\"loss\":%.6f,\"lr\":%.6g,\"seconds\":%.3f,"
                         "\"samples_per_s\":%.1f",
                epoch, loss, lr, secs, rate);
        if (tc->phase)
            fprintf(tc->log, ",\"phase\":\"%s\"", tc->phase);
        if (xloss != 0)
            fprintf(tc->log, ",\"reg_loss\":%.6f", xloss);
        const char *names[2] = {"valid", "test"};
        const sbr_eval_result *rs[2] = {v, t};
        for (int k = 0; k < 2; k++)
            if (rs[k]->done)
                for (int c = 0; c < 3; c++)
                    fprintf(tc->log, ",\"%s_HR@%d\":%.4f,\"%s_MRR@%d\":%.4f,\"%s_NDCG@%d\":%.4f",
                            names[k], cutoffs[c], 100 * rs[k]->m.all[c].hr, names[k], cutoffs[c],
                            100 * rs[k]->m.all[c].mrr, names[k], cutoffs[c],
                            100 * rs[k]->m.all[c].ndcg);
        log_task(tc->log, tc, rs);
        fprintf(tc->log, "}\n");
        fflush(tc->log);
    }
}

volatile sig_atomic_t sbr_train_stop_requested;

/* SBR_STEP_TIMING=1 prints, after each epoch, where the host spent the
 * epoch's wall time per step: building batches (fill), queueing the step's
 * work (launch: on the GPU the host does not wait there), and the reads of
 * the loss sums (which wait for the GPU). =2 also waits for the device after
 * every step (sync), so that launch + sync is the step's whole time: how much
 * of it the GPU needs beyond the host's launches. =3 profiles every 16th
 * step on the GPU (at most 200 an epoch) and prints, per launch site, its GPU
 * time per step (docs/GPU.md); the profiled steps are left out of the
 * timing line, but their 20 ms holds slow the epoch (its log's seconds). */
typedef struct {
    int mode;
    double fill, launch, read, sync;
    int64_t held;      /* profiled steps (mode 3), left out */
    double held_secs;  /* their time */
} step_timing;

static void step_timing_print(const step_timing *tm, int64_t nb, double secs)
{
    int64_t n = nb - tm->held;
    if (!tm->mode || n <= 0)
        return;
    double k = 1e3 / (double)n;
    sbr_info("step timing (ms per step, %lld steps%s): wall %.4f  fill %.4f  launch %.4f  "
             "loss reads %.4f%s%.4f",
             (long long)n, tm->held ? ", the profiled ones left out" : "",
             (secs - tm->held_secs) * k, tm->fill * k, tm->launch * k, tm->read * k,
             tm->mode == 2 ? "  device wait " : "  (no sync) ", tm->sync * k);
}

/* Steps between two readings of the loss sums for the progress line. */
#define LOSS_READ_EVERY 64

/* Reads the loss sums after nb steps into sums and the progress text. */
static void loss_text(sbr_model *m, int64_t nb, double sums[2], char *extra, size_t n)
{
    sbr_model_loss_sums(m, sums);
    if (sums[1] != 0) /* the model's own loss term, apart (its part of the loss) */
        snprintf(extra, n, "loss %.4f (reg %.4f)", sums[0] / (double)nb, sums[1] / (double)nb);
    else
        snprintf(extra, n, "loss %.4f", sums[0] / (double)nb);
}

int sbr_train(sbr_model *m, const sbr_sessions *s, const sbr_clip_map *clip,
              const sbr_train_cfg *tc, sbr_train_state *st, const sbr_tfile *resume, sbr_err *e)
{
    memset(st, 0, sizeof *st);
    const sbr_split *tr = &s->split[SBR_TRAIN], *va = &s->split[SBR_VALID],
                    *te = &s->split[SBR_TEST];
    sbr_samples smp;
    sbr_samples_build(tr, s->min_prefix, &smp);
    if (smp.n == 0)
        return sbr_errf(e, "the training split has no samples");
    int has_valid = sbr_samples_count(va, s->min_prefix) > 0;
    int has_test = sbr_samples_count(te, s->min_prefix) > 0;
    int on_valid = tc->select == SBR_SELECT_VALID || tc->select == SBR_SELECT_REFIT;
    if (on_valid && !has_valid)
        return sbr_errf(e, "no validation samples to select the epoch on (sbr-prep --valid-frac "
                           "> 0, or sbr-train --select best-test)");
    if (tc->select == SBR_SELECT_BEST_TEST && !has_test)
        return sbr_errf(e, "--select best-test needs test samples");
    size_t pbytes = m->params.bytes;
    void *best = sbr_xcalloc(1, pbytes);
    float *f32 = sbr_xmalloc(sizeof(float) * (size_t)sbr_arena_numel(&m->params) + 4);
    run_state rs = {0};
    params_to_host(m, best);
    if (resume && resume_from(m, resume, st, &rs, best, e)) {
        free(best);
        free(f32);
        return -1;
    }
    /* a model that retrieves contexts: its pool from the training split
     * (before the feeder, whose batches then mark each sample's own pair) */
    int pooled = (m->def->needs & SBR_NEEDS_POOL) != 0;
    if (pooled && m->pool.split != tr && sbr_model_pool_draw(m, tr, s->min_prefix, e)) {
        free(best);
        free(f32);
        sbr_samples_free(&smp);
        return -1;
    }
    if (pooled)
        sbr_model_pool_refresh(m, clip);
    int pool_epoch = -1; /* the epoch whose final weights the pool's vectors are of */
    sbr_feeder f;
    sbr_feeder_init(&f, m, tc->batch);
    /* on the GPU the host sets the pace: batches are built on a second thread
     * (on the CPU that thread would take a core from the step's own);
     * SBR_PREFETCH=0 or 1 says otherwise (tests: the same bits either way) */
    const char *pf_env = getenv("SBR_PREFETCH");
    int prefetch = pf_env ? atoi(pf_env) != 0 : m->prec == SBR_PREC_CUDA;
    sbr_prefetch pf;
    if (prefetch)
        sbr_prefetch_init(&pf, &f, m);
    int64_t *order = sbr_xmalloc(sizeof(int64_t) * (size_t)smp.n);
    sbr_step_cfg sc = {tc->lr, tc->l2, tc->clip, tc->adamw, tc->chunk,
                       tc->l2_prompt < 0 ? tc->l2 : tc->l2_prompt,
                       tc->l2_gate < 0 ? tc->l2 : tc->l2_gate};
    double t_all = sbr_now();
    const char *timing_env = getenv("SBR_STEP_TIMING");
    int timing = timing_env ? atoi(timing_env) : 0;
    for (int epoch = st->epoch; epoch < tc->epochs; epoch++) {
        sc.lr = sbr_nn_lr_step(tc->lr, tc->lr_gamma, tc->lr_step, epoch);
        m->epoch = epoch;
        shuffle(order, smp.n, m->cfg.seed, epoch);
        sbr_progress p;
        char label[32], extra[64];
        snprintf(label, sizeof label, "epoch %d", epoch + 1);
        sbr_progress_start(&p, label, smp.n, "samples");
        double t0 = sbr_now(), sums[2] = {0, 0};
        int64_t nb = 0, seen = 0;
        extra[0] = 0;
        sbr_model_loss_sums_reset(m);
        step_timing tm = {timing, 0, 0, 0, 0, 0, 0};
        if (prefetch)
            sbr_prefetch_start(&pf, tr, &smp, order, smp.n, tc->batch, m->cfg.n_items, clip);
        for (int64_t at = 0; at < smp.n; at += tc->batch) {
            int B = smp.n - at < tc->batch ? (int)(smp.n - at) : tc->batch;
            double c0 = tm.mode ? sbr_now() : 0;
            const sbr_batch *b =
                prefetch ? sbr_feeder_put(&f, sbr_prefetch_next(&pf))
                         : sbr_feeder_fill(&f, tr, &smp, order + at, B, m->cfg.n_items, clip);
            double c1 = tm.mode ? sbr_now() : 0;
            int profiled = tm.mode == 3 && nb % 16 == 15 && nb < 16 * 200;
            if (profiled)
                sbr_model_prof_begin(m);
            sbr_model_train_step(m, b, &sc);
            if (pooled && m->pool_refresh_steps > 0 && (st->steps + 1) % m->pool_refresh_steps == 0)
                sbr_model_pool_refresh(m, clip); /* the contexts follow the encoder */
            if (profiled) { /* its hold is not its time */
                sbr_model_prof_end(m);
                tm.held++;
                tm.held_secs += sbr_now() - c0;
            } else if (tm.mode) {
                double c2 = sbr_now();
                if (tm.mode == 2)
                    sbr_model_sync(m);
                double c3 = sbr_now();
                tm.fill += c1 - c0, tm.launch += c2 - c1, tm.sync += c3 - c2;
            }
            nb++;
            seen += B;
            st->steps++;
            int last = at + B >= smp.n || (tc->max_steps && st->steps >= tc->max_steps);
            /* reading the sums waits for the GPU: not at every step */
            if (nb % LOSS_READ_EVERY == 1 || last) {
                double r0 = tm.mode ? sbr_now() : 0;
                loss_text(m, nb, sums, extra, sizeof extra);
                if (tm.mode)
                    tm.read += sbr_now() - r0;
            }
            sbr_progress_update(&p, at + B, extra);
            if (tc->max_steps && st->steps >= tc->max_steps)
                break;
        }
        if (prefetch)
            sbr_prefetch_stop(&pf);
        sbr_progress_end(&p, extra);
        if (pooled) { /* the contexts of the evaluations and the next epoch (timed with it) */
            sbr_model_pool_refresh(m, clip);
            pool_epoch = epoch + 1;
        }
        double secs = sbr_now() - t0, loss_sum = sums[0], xloss_sum = sums[1];
        step_timing_print(&tm, nb, secs);
        if (tm.mode) { /* misses cost the host a heuristic each */
            int lt_none, lt_algo = sbr_model_gemm_plans(m, &lt_none);
            if (lt_algo + lt_none > 0)
                sbr_info("cublasLt plans so far: %d GEMM shapes with an algorithm, %d on cuBLAS",
                         lt_algo, lt_none);
        }
        if (tm.mode == 3)
            sbr_model_prof_report(m, stderr, "step profile");
        sbr_eval_result v = {0}, t = {0};
        int last = tc->select == SBR_SELECT_LAST;
        if (has_valid && !last)
            evaluate(m, va, s->min_prefix, clip, tc, &v);
        if (has_test && (tc->eval_test || tc->select == SBR_SELECT_BEST_TEST ||
                         (last && epoch + 1 == tc->epochs)))
            evaluate(m, te, s->min_prefix, clip, tc, &t);
        st->epoch = epoch + 1;
        const sbr_eval_result *sel = on_valid ? &v : &t;
        double score = tc->select_mrr ? sel->m.all[2].mrr : sel->m.all[2].hr;
        if (last || st->best_epoch == 0 || score > st->best_score) {
            st->best_epoch = epoch + 1;
            st->best_score = score;
            st->valid[0] = v;
            st->test[0] = t;
            params_to_host(m, best);
            rs.bad = 0;
        } else
            rs.bad++;
        if (t.done) {
            st->best_test_hr = fmax(st->best_test_hr, t.m.all[2].hr);
            st->best_test_mrr = fmax(st->best_test_mrr, t.m.all[2].mrr);
        }
        log_epoch(tc, epoch + 1, loss_sum / (double)(nb ? nb : 1),
                  xloss_sum / (double)(nb ? nb : 1), sc.lr, secs,
                  (double)seen / (secs > 0 ? secs : 1), &v, &t);
        if (tc->checkpoint)
            write_checkpoint(m, tc, st, &rs, best, f32);
        if (tc->max_steps && st->steps >= tc->max_steps)
            break;
        if (tc->patience > 0 && rs.bad >= tc->patience) {
            st->stopped_early = 1;
            sbr_info("no improvement for %d epochs: stopping", rs.bad);
            break;
        }
        int asked = sbr_train_stop_requested; /* read once: a signal may come meanwhile */
        int out_of_time = tc->max_seconds > 0 && sbr_now() - t_all >= tc->max_seconds;
        if (epoch + 1 < tc->epochs && (asked || out_of_time)) {
            st->stopped_by = asked ? "SIGUSR1" : "time limit";
            sbr_info("%s: stopping after epoch %d", st->stopped_by, epoch + 1);
            break;
        }
    }
    st->seconds = sbr_now() - t_all;
    sbr_model_loss_sums_off(m);
    params_from_host(m, best);
    m->epoch = st->best_epoch > 0 ? st->best_epoch - 1 : m->epoch;
    if (pooled && pool_epoch != st->best_epoch) /* the selected weights' pool, for the file */
        sbr_model_pool_refresh(m, clip);
    free(order);
    free(best);
    free(f32);
    if (prefetch)
        sbr_prefetch_free(&pf);
    sbr_feeder_free(&f);
    sbr_samples_free(&smp);
    return 0;
}

void sbr_train_state_meta(const sbr_train_state *st, const sbr_train_cfg *tc, sbr_tw *w)
{
    sbr_tw_metaf(w, "epochs_done", "%d", st->epoch);
    sbr_tw_metaf(w, "selected_epoch", "%d", st->best_epoch);
    if (st->stopped_by)
        sbr_tw_meta(w, "stopped_by", st->stopped_by);
    static const char *const sel[4][2] = {
        {"valid HR@20", "valid MRR@20"},
        {"best-test HR@20 (peeks at the test set)", "best-test MRR@20 (peeks at the test set)"},
        {"valid HR@20", "valid MRR@20"},
        {"refit: the epochs selected on valid HR@20, trained on train + valid",
         "refit: the epochs selected on valid MRR@20, trained on train + valid"}};
    sbr_tw_meta(w, "selection", sel[tc->select][tc->select_mrr != 0]);
    sbr_task_add_to(tc->task, w);
    const char *names[2] = {"valid", "test"};
    const sbr_eval_result *rs[2] = {st->valid, st->test};
    for (int k = 0; k < 2; k++)
        if (rs[k]->done && sbr_task_excludes(tc->task)) {
            char key[64];
            snprintf(key, sizeof key, "%s.repeats_dropped", names[k]);
            sbr_tw_metaf(w, key, "%lld", (long long)rs[k]->m.n_skipped);
        }
    for (int k = 0; k < 2; k++)
        if (rs[k]->done)
            for (int c = 0; c < 3; c++) {
                char key[64];
                snprintf(key, sizeof key, "%s.HR@%d", names[k], cutoffs[c]);
                sbr_tw_metaf(w, key, "%.4f", 100 * rs[k]->m.all[c].hr);
                snprintf(key, sizeof key, "%s.MRR@%d", names[k], cutoffs[c]);
                sbr_tw_metaf(w, key, "%.4f", 100 * rs[k]->m.all[c].mrr);
            }
    if (st->best_test_hr > 0) {
        sbr_tw_metaf(w, "best_test.HR@20", "%.4f", 100 * st->best_test_hr);
        sbr_tw_metaf(w, "best_test.MRR@20", "%.4f", 100 * st->best_test_mrr);
    }
}
