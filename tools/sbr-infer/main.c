/* sbr-infer: top-K recommendations from a trained model. */
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "device.h"
#include "err.h"
#include "knn/knn.h"
#include "model/def.h"
#include "model/eval.h"
#include "model/loaded.h"
#include "progress.h"
#include "sessions.h"
#include "serve.h"
#include "task.h"
#include "topk.h"

static const char usage[] =
    "Usage: sbr-infer [OPTION]... MODEL SESSIONS -o TOPK\n"
    "  or:  sbr-infer --stdin-text [OPTION]... MODEL\n"
    "Rank the full catalogue for every (prefix, next item) sample of a split of\n"
    "SESSIONS with MODEL (kind sbr.model, from sbr-train) and write the K best items\n"
    "and their scores per sample (kind sbr.topk, for sbr-score). SESSIONS must come\n"
    "from the same sbr-prep run as the model's training data. Items unseen in training\n"
    "have no embedding; with CLIP-SBR prompts they take the cluster most common among\n"
    "their session's known items (CLIP-SBR 3.3).\n"
    "\n"
    "With --stdin-text, a service: read sessions from standard input, one per line\n"
    "as original item ids separated by spaces or commas, and answer each line with\n"
    "one line, in order, flushed (it can sit in a shell pipeline or behind a TCP\n"
    "port: docs/TRAINING.md). A line that is not a list of item ids gets an error\n"
    "answer (and a message on stderr) and the service goes on; ids the model does\n"
    "not know are ranked as unseen items and counted. Runs on one thread unless\n"
    "--threads says otherwise.\n"
    "\n"
    "  -o, --output FILE   top-K file to write ('-' for stdout)\n"
    "  -k, --topk K        list length (default 20)\n"
    "  -s, --split NAME    train, valid or test (default test)\n"
    "      --task T        rank for the standard task or the next-unseen one\n"
    "                      (ProxySR: an item of the prefix itself is never\n"
    "                      recommended). Default: the task MODEL was selected\n"
    "                      under (sbr-train --task; standard for older models),\n"
    "                      said on stderr when it is next-unseen. The top-K file\n"
    "                      records the task and sbr-score follows it\n"
    "      --exclude-seen  the same as --task next-unseen\n"
    "      --no-exclude-seen\n"
    "                      the same as --task standard\n"
    "      --stdin-text    the line service (see above)\n"
    "      --format F      its answers: text (default: the ids; an error line starts\n"
    "                      'error: '), tsv (LINE, ok, unknown ids, the ids, their\n"
    "                      scores; or LINE, error, message) or jsonl ({\"line\",\n"
    "                      \"items\", \"scores\", \"unknown\"} or {\"line\", \"error\"})\n"
    "      --uncertainty   also write, per sample, the entropy (in nats) and the\n"
    "                      top-1 probability of the softmax over the items its list\n"
    "                      ranks from (the prefix's items left out under next-unseen)\n"
    "                      as tensors entropy and top1_prob of TOPK, which sbr-score\n"
    "                      then reports by entropy decile and as a calibration error;\n"
    "                      with --stdin-text each line ends with a tab, the entropy and\n"
    "                      the probability. A model that samples its session vector\n"
    "                      (npmisr) adds each sample's spread, the RMS distance of its\n"
    "                      K sampled session vectors from their mean (tensor spread;\n"
    "                      a third number in text mode), which sbr-score also reports\n"
    "                      by decile. For models whose scores are S . E softmaxes\n"
    "                      (every neural model but tagnn and proxysr, which score\n"
    "                      otherwise, as the kNN and rule baselines do: misuse)\n"
    "      --interest-weights FILE  also write each sample's readout weights (kind\n"
    "                      sbr.interests: weights [samples, U, max_len], 0 past the\n"
    "                      prefix, position j = the prefix's j-th kept click; prefix_len):\n"
    "                      dmignn's U interests, gcegnn's attention weights (U = 1)\n"
    "  -b, --batch N       samples per forward pass (default 100)\n"
    "      --chunk N       items per chunk of the catalogue scan (default 2048)\n"
    "      --device D      auto, cpu or cuda (default auto)\n"
    "      --threads N     CPU threads (default: all cores; 1 with --stdin-text)\n"
    "  -q, --quiet         no progress or informational messages\n"
    "  -h, --help          show this help and exit\n"
    "      --version       show the version and exit\n"
    "\n"
    "Examples:\n"
    "  sbr-infer model.sbr sessions.sbr -o - | sbr-score -\n"
    "  echo '214536502 214536500' | sbr-infer --stdin-text -k 5 model.sbr\n"
    "\n" SBR_HELP_EXIT;

typedef struct {
    const char *model, *sessions, *out, *device, *iw_out;
    int K, split, text, batch, chunk, threads; /* threads -1: not given */
    sbr_serve_format format; /* --format (text mode) */
    int task_given; /* --task, --exclude-seen or --no-exclude-seen (else: the model's) */
    int unc;        /* --uncertainty */
    sbr_task task;
} args;

static void parse(int argc, char **argv, args *a)
{
    enum { OPT_VERSION = 256, OPT_EXCL, OPT_NO_EXCL, OPT_TASK, OPT_TEXT, OPT_CHUNK, OPT_DEVICE,
           OPT_THREADS, OPT_IW, OPT_UNC, OPT_FORMAT };
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'},    {"topk", required_argument, 0, 'k'},
        {"split", required_argument, 0, 's'},     {"exclude-seen", no_argument, 0, OPT_EXCL},
        {"stdin-text", no_argument, 0, OPT_TEXT}, {"batch", required_argument, 0, 'b'},
        {"chunk", required_argument, 0, OPT_CHUNK}, {"device", required_argument, 0, OPT_DEVICE},
        {"threads", required_argument, 0, OPT_THREADS}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'},            {"version", no_argument, 0, OPT_VERSION},
        {"interest-weights", required_argument, 0, OPT_IW},
        {"no-exclude-seen", no_argument, 0, OPT_NO_EXCL}, {"task", required_argument, 0, OPT_TASK},
        {"uncertainty", no_argument, 0, OPT_UNC}, {"format", required_argument, 0, OPT_FORMAT},
        {0, 0, 0, 0}};
    static const char *const splits[] = {"train", "valid", "test", NULL};
    memset(a, 0, sizeof *a);
    a->device = "auto";
    a->K = 20;
    a->split = SBR_TEST;
    a->batch = 100;
    a->chunk = 2048;
    a->threads = -1;
    int c;
    int format_given = 0;
    while ((c = getopt_long(argc, argv, "o:k:s:b:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case 'k': a->K = (int)sbr_arg_int("--topk", optarg, 1, 100000); break;
        case 's': a->split = sbr_arg_choice("--split", optarg, splits); break;
        case OPT_EXCL: a->task = SBR_TASK_NEXT_UNSEEN, a->task_given = 1; break;
        case OPT_NO_EXCL: a->task = SBR_TASK_STANDARD, a->task_given = 1; break;
        case OPT_TASK:
            a->task = (sbr_task)sbr_arg_choice("--task", optarg, sbr_task_names);
            a->task_given = 1;
            break;
        case OPT_TEXT: a->text = 1; break;
        case 'b': a->batch = (int)sbr_arg_int("--batch", optarg, 1, 1 << 20); break;
        case OPT_CHUNK: a->chunk = (int)sbr_arg_int("--chunk", optarg, 1, 1 << 24); break;
        case OPT_DEVICE: a->device = optarg; break;
        case OPT_THREADS: a->threads = (int)sbr_arg_int("--threads", optarg, 0, 4096); break;
        case OPT_IW: a->iw_out = optarg; break;
        case OPT_UNC: a->unc = 1; break;
        case OPT_FORMAT:
            a->format = (sbr_serve_format)sbr_arg_choice("--format", optarg,
                                                        sbr_serve_format_names);
            format_given = 1;
            break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    int want = a->text ? 1 : 2;
    if (argc - optind != want)
        sbr_usage_error(a->text ? "--stdin-text takes one MODEL" : "expected MODEL and SESSIONS");
    a->model = argv[optind];
    a->sessions = a->text ? NULL : argv[optind + 1];
    if (a->text && a->out)
        sbr_usage_error("--stdin-text writes to standard output; drop -o");
    if (!a->text && !a->out)
        sbr_usage_error("no output given (-o TOPK)");
    if (format_given && !a->text)
        sbr_usage_error("--format is the answers' layout of --stdin-text");
    if (a->threads < 0) /* a service shares its machine (docs/TRAINING.md) */
        a->threads = a->text ? 1 : 0;
    if (a->text && a->iw_out)
        sbr_usage_error("--interest-weights ranks a SESSIONS split: not with --stdin-text");
}

/* The task to rank for: the one asked for, else the one the model was
 * selected under; a model of the next-unseen task says so, as does a task
 * asked for that is not the model's. */
static void resolve_task(args *a, sbr_task model_task)
{
    if (!a->task_given) {
        a->task = model_task;
        if (sbr_task_excludes(model_task))
            sbr_info("%s: selected for the next-unseen task: ranking without each prefix's own "
                     "items (--no-exclude-seen to keep them)", a->model);
    } else if (a->task != model_task)
        sbr_info("%s: selected for the %s task, ranked for the %s task as asked", a->model,
                 sbr_task_name(model_task), sbr_task_name(a->task));
}

/* --interest-weights: [n, U, max_len] weights and each sample's prefix length. */
static void write_weights(const args *a, const sbr_loaded_model *lm, const sbr_topk *t, float *iw)
{
    int U = lm->m.interests, Lw = lm->m.max_L;
    int32_t *kept = sbr_xmalloc(sizeof(int32_t) * (size_t)(t->n + 1));
    for (int64_t i = 0; i < t->n; i++) /* the positions the model saw (max_len kept) */
        kept[i] = t->prefix_len[i] < Lw ? t->prefix_len[i] : Lw;
    sbr_tw *w = sbr_tw_new("sbr.interests");
    sbr_tw_add(w, "weights", SBR_F32, 3, (int64_t[]){t->n, U, Lw}, iw);
    sbr_tw_add1(w, "prefix_len", SBR_I32, t->n, kept);
    sbr_tw_meta(w, "model", lm->m.cfg.model);
    sbr_tw_meta(w, "split", sbr_split_names[a->split]);
    sbr_tw_metaf(w, "interests", "%d", U);
    sbr_tw_meta(w, "pool", lm->m.pool_sum ? "sum" : "max");
    sbr_err e;
    if (sbr_tw_write(w, a->iw_out, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", a->iw_out, e.msg);
    sbr_tw_free(w);
    free(kept);
    free(iw);
}

/* --uncertainty: the means, on stderr (the file has every sample's). */
static void info_uncertainty(const sbr_topk *t)
{
    double h = 0, p = 0, sp = 0;
    for (int64_t i = 0; i < t->n; i++)
        h += t->entropy[i], p += t->top1[i], sp += t->spread ? t->spread[i] : 0;
    char more[64] = ""; /* a sampling model's (NP-MiSR) */
    if (t->spread)
        snprintf(more, sizeof more, ", mean spread %.4g", sp / (double)t->n);
    sbr_info("uncertainty: mean entropy %.4f nats (log of the catalogue: %.4f), mean top-1 "
             "probability %.2f%%%s", h / (double)t->n, log((double)t->n_items),
             100 * p / (double)t->n, more);
}

static void rank_split(const args *a, sbr_loaded_model *lm)
{
    sbr_sessions s;
    sbr_err e;
    if (sbr_sessions_read(a->sessions, &s, &e))
        sbr_fatal("%s", e.msg); /* the message names the file */
    if (sbr_loaded_check_sessions(lm, &s, &e))
        sbr_fatal("%s: %s", a->sessions, e.msg);
    if (a->K > lm->m.cfg.n_items)
        sbr_fatal("%s: -k %d is larger than the catalogue (%d items)", a->model, a->K,
                  lm->m.cfg.n_items);
    const sbr_split *sp = &s.split[a->split];
    if (sbr_samples_count(sp, s.min_prefix) == 0)
        sbr_fatal("%s: the %s split has no samples", a->sessions, sbr_split_names[a->split]);
    float *iw = NULL;
    if (a->iw_out && !(lm->m.def->needs & SBR_NEEDS_GLOBAL))
        sbr_fatal("%s: --interest-weights: a %s model has no readout weights to show (gcegnn and "
                  "dmignn have)", a->model, lm->m.cfg.model);
    if (lm->m.cfg.n_users > 0) { /* users the model does not know take the anonymous path */
        int64_t c[3];
        sbr_users_count(&lm->m, sp, c);
        sbr_info("users: %s sessions of %lld known users, %lld of users the model does not "
                 "know (ranked as anonymous), %lld anonymous", sbr_split_names[a->split],
                 (long long)c[0], (long long)c[1], (long long)c[2]);
    }
    sbr_eval_cfg ec = {a->K, a->batch, a->task, a->chunk, 1, a->iw_out ? &iw : NULL, a->unc};
    sbr_topk t;
    double t0 = sbr_now();
    sbr_eval_split(&lm->m, sp, s.min_prefix, lm->clip.cluster ? &lm->clip : NULL, &ec, &t);
    double secs = sbr_now() - t0;
    sbr_info("ranked %lld samples over %d items in %.2f s (%.0f samples/s)", (long long)t.n,
             lm->m.cfg.n_items, secs, (double)t.n / (secs > 0 ? secs : 1e-9));
    if (t.entropy)
        info_uncertainty(&t);
    sbr_tw *w = sbr_tw_new("sbr.topk");
    sbr_topk_add_to(&t, w);
    sbr_tw_meta(w, "split", sbr_split_names[a->split]);
    sbr_tw_meta(w, "model", lm->m.cfg.model);
    if (sbr_tw_write(w, a->out, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", a->out, e.msg);
    sbr_tw_free(w);
    if (iw)
        write_weights(a, lm, &t, iw);
    sbr_eval_topk_free(&t);
    sbr_sessions_free(&s);
}

/* --- text mode: a service over lines (common/serve.c) --------------------- */

/* Says how many lines were answered, once the input ends. */
static void serve_report(const sbr_serve_counts *n)
{
    sbr_info("answered %lld lines (%lld errors); %lld unknown item ids ranked as unseen items",
             (long long)n->lines, (long long)n->errors, (long long)n->unknown_ids);
}

static void serve(const args *a, const int64_t *original, int n_items, sbr_serve_rank_fn rank,
                  void *user)
{
    sbr_serve_cfg c = {original, n_items, a->K < n_items ? a->K : n_items, a->format, rank, user};
    sbr_serve_counts n;
    if (sbr_serve_lines(stdin, stdout, &c, &n))
        sbr_fatal("write to stdout failed");
    serve_report(&n);
}

typedef struct {
    const args *a;
    sbr_loaded_model *lm;
} neural_ranker;

/* One request as a one-sample split (its target a placeholder). */
static int neural_rank(void *user, int32_t *ids, int n, sbr_serve_answer *ans, char *msg,
                       size_t cap)
{
    neural_ranker *r = user;
    (void)msg, (void)cap;
    ids[n] = 1; /* the placeholder target: the sample is the whole line */
    int64_t off[2] = {0, n + 1};
    sbr_split sp = {1, off, ids, NULL, NULL, 1};
    sbr_samples smp;
    sbr_samples_build(&sp, 1, &smp);
    int K = ans->k;
    sbr_eval_cfg ec = {K, 1, r->a->task, r->a->chunk, 0, NULL, r->a->unc};
    sbr_topk t;
    sbr_eval_split(&r->lm->m, &sp, 1, r->lm->clip.cluster ? &r->lm->clip : NULL, &ec, &t);
    memcpy(ans->items, t.items, sizeof(int32_t) * (size_t)K);
    memcpy(ans->scores, t.scores, sizeof(float) * (size_t)K);
    if (t.entropy) {
        ans->unc[0] = t.entropy[0], ans->unc[1] = t.top1[0], ans->n_unc = 2;
        if (t.spread) /* a sampling model's (NP-MiSR): a third */
            ans->unc[2] = t.spread[0], ans->n_unc = 3;
    }
    sbr_eval_topk_free(&t);
    sbr_samples_free(&smp);
    return 0;
}

static void serve_text(const args *a, sbr_loaded_model *lm)
{
    neural_ranker r = {a, lm};
    serve(a, lm->original, lm->m.cfg.n_items, neural_rank, &r);
}

/* --- kNN and rule models (common/knn): ranked on the CPU ------------------ */

static void knn_check(const args *a, const sbr_knn *m, const int64_t *original,
                      const sbr_sessions *s)
{
    if (s->n_items != m->cfg.n_items ||
        memcmp(s->original, original, sizeof(int64_t) * (size_t)(s->n_items + 1)) != 0)
        sbr_fatal("%s: not the data the model was trained on (%lld catalogue items, the model "
                  "%d, or numbered differently)", a->sessions, (long long)s->n_items,
                  m->cfg.n_items);
    if (a->K > m->cfg.n_items)
        sbr_fatal("%s: -k %d is larger than the catalogue (%d items)", a->model, a->K,
                  m->cfg.n_items);
    if (a->iw_out)
        sbr_fatal("%s: --interest-weights: a %s model has no readout weights to show", a->model,
                  m->cfg.model);
}

static void knn_rank_split(const args *a, const sbr_knn *m, const int64_t *original)
{
    sbr_sessions s;
    sbr_err e;
    if (sbr_sessions_read(a->sessions, &s, &e))
        sbr_fatal("%s", e.msg);
    knn_check(a, m, original, &s);
    const sbr_split *sp = &s.split[a->split];
    if (sbr_samples_count(sp, s.min_prefix) == 0)
        sbr_fatal("%s: the %s split has no samples", a->sessions, sbr_split_names[a->split]);
    sbr_topk t;
    double t0 = sbr_now();
    sbr_knn_eval_split(m, sp, s.min_prefix, a->K, a->task, 1, &t);
    double secs = sbr_now() - t0;
    sbr_info("ranked %lld samples over %d items in %.2f s (%.0f samples/s, CPU)", (long long)t.n,
             m->cfg.n_items, secs, (double)t.n / (secs > 0 ? secs : 1e-9));
    sbr_tw *w = sbr_tw_new("sbr.topk");
    sbr_topk_add_to(&t, w);
    sbr_tw_meta(w, "split", sbr_split_names[a->split]);
    sbr_tw_meta(w, "model", m->cfg.model);
    if (sbr_tw_write(w, a->out, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", a->out, e.msg);
    sbr_tw_free(w);
    sbr_eval_topk_free(&t);
    sbr_sessions_free(&s);
}

typedef struct {
    const args *a;
    const sbr_knn *m;
    sbr_knn_work *w;
} knn_ranker;

static int knn_rank(void *user, int32_t *ids, int n, sbr_serve_answer *ans, char *msg,
                    size_t cap)
{
    knn_ranker *r = user;
    (void)msg, (void)cap;
    sbr_knn_query q = {ids, n, -1, (uint64_t)(ans->line - 1)}; /* the line's sampling stream */
    sbr_knn_rank(r->m, r->w, &q, ans->k, sbr_task_excludes(r->a->task), ans->items, ans->scores);
    return 0;
}

static void knn_serve_text(const args *a, const sbr_knn *m, const int64_t *original)
{
    knn_ranker r = {a, m, sbr_knn_work_new(m)};
    serve(a, original, m->cfg.n_items, knn_rank, &r);
    sbr_knn_work_free(r.w);
}

/* A kNN model file: read, ranked, freed; 0 when f is another model's. */
static int run_knn(args *a, sbr_tfile *f)
{
    if (!sbr_knn_is_model_file(f))
        return 0;
    sbr_knn m;
    sbr_err e;
    const sbr_tensor *orig;
    sbr_task task;
    if (sbr_knn_read(&m, f, &e) || sbr_task_of_file(f, &task, &e) ||
        !(orig = sbr_tfile_need(f, "items.original", SBR_I64, 1, &e)))
        sbr_fatal("%s: %s", a->model, e.msg);
    resolve_task(a, task);
    if (a->unc)
        sbr_usage_error("%s: --uncertainty: a %s model has no softmax over the catalogue (the "
                        "kNN and rule baselines score by similarity or counts)", a->model,
                        m.cfg.model);
    if (orig->numel != m.cfg.n_items + 1)
        sbr_fatal("%s: items.original has %lld entries for %d items", a->model,
                  (long long)orig->numel, m.cfg.n_items);
    if (a->text)
        knn_serve_text(a, &m, orig->data);
    else
        knn_rank_split(a, &m, orig->data);
    sbr_knn_free(&m);
    sbr_tfile_free(f);
    return 1;
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-infer", argc, argv);
    args a;
    parse(argc, argv, &a);
    sbr_device dev = sbr_device_select(a.device);
    sbr_set_threads(a.threads);
    sbr_loaded_model lm;
    sbr_err e;
    sbr_tfile f;
    if (sbr_tfile_read(a.model, &f, &e))
        sbr_fatal("%s: %s", a.model, e.msg);
    if (run_knn(&a, &f))
        return SBR_EXIT_OK;
    if (sbr_loaded_open_file(&lm, &f, dev == SBR_DEV_CUDA ? SBR_PREC_CUDA : SBR_PREC_F32,
                        a.text ? 1 : a.batch, a.chunk, a.K, &e))
        sbr_fatal("%s: %s", a.model, e.msg);
    resolve_task(&a, lm.task);
    const char *no = a.unc ? sbr_model_no_uncertainty(&lm.m) : NULL;
    if (no)
        sbr_usage_error("%s: --uncertainty is not available for model %s: %s", a.model,
                        lm.m.cfg.model, no);
    if (a.text)
        serve_text(&a, &lm);
    else
        rank_split(&a, &lm);
    sbr_loaded_close(&lm);
    return SBR_EXIT_OK;
}
