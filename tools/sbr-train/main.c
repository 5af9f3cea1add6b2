/* sbr-train: train a next-item model on a sessions file. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cluster.h"
#include "device.h"
#include "err.h"
#include "graph.h"
#include "model/model.h"
#include "model/train.h"
#include "progress.h"
#include "sessions.h"

static const char usage[] =
    "Usage: sbr-train [OPTION]... SESSIONS -o MODEL\n"
    "Train a next-item model on the training split of SESSIONS (kind sbr.sessions, from\n"
    "sbr-prep): every prefix of every training session is a sample (the prefix rule\n"
    "sbr-prep recorded), shuffled each epoch with the seed; full-catalogue softmax\n"
    "cross-entropy; Adam. After each epoch the validation (and test) split is ranked\n"
    "over the whole catalogue. Writes the selected epoch's model (kind sbr.model).\n"
    "\n"
    "Model:\n"
    "  -m, --model NAME      gru4rec (default), narm, stamp, srgnn, gcegnn or dmignn\n"
    "      --clusters FILE   CLIP-SBR: one learnable prompt per cluster (kind sbr.clusters,\n"
    "                        from sbr-cluster on this SESSIONS' graph), gated into the item\n"
    "                        embeddings of the model\n"
    "  -d, --dim N           embedding size (100)\n"
    "      --hidden N        recurrent hidden size (100)\n"
    "      --layers N        GNN steps / stacked blocks (model default)\n"
    "      --dropout P       dropout on the input embeddings (model default)\n"
    "      --dropout-hidden P  dropout inside the model (model default)\n"
    "      --max-len N       keep the last N clicks of a prefix (50; 0 = all)\n"
    "\n"
    "GCE-GNN and DMI-GNN (gcegnn, dmignn; --dropout is their dropout on the session-graph\n"
    "branch (0), --dropout-hidden on the global branch (0.5)):\n"
    "      --graph FILE      the global item graph (required): sbr-graph --kind window\n"
    "                        --window 3 --topk 12 on this SESSIONS' training split; its\n"
    "                        neighbour table is stored in the model\n"
    "      --global-k N      neighbours kept per item, the heaviest first (12)\n"
    "      --dropout-gcn P   dropout on [own ; aggregate] in the global aggregator\n"
    "                        (gcegnn 0, dmignn 0.8: the official defaults; the official\n"
    "                        GCE-GNN code takes 0.2 on diginetica, as make pipeline does)\n"
    "      --interests U     dmignn: session vectors per sample (3; 1 = single interest)\n"
    "      --interest-pool P dmignn: max (default: an item's score is its best interest's)\n"
    "                        or sum (the ablation)\n"
    "      --dmi-eta X       dmignn: the DMI regulariser's length offset eta (12)\n"
    "      --dmi-beta X      dmignn: its weight beta (0.005; 0 = off, the ablation)\n"
    "                        (defaults: the official code's RetailRocket settings; Tmall:\n"
    "                        --interests 5 --dmi-eta 8 --dmi-beta 0.02)\n"
    "\n"
    "Training (defaults of the SR-GNN lineage):\n"
    "  -e, --epochs N        at most N epochs (30)\n"
    "      --patience N      stop after N epochs without improvement (3; 0 = never)\n"
    "  -b, --batch N         samples per step (100)\n"
    "      --lr X            Adam learning rate (0.001)\n"
    "      --l2 X            L2 penalty, coupled as torch Adam's weight_decay (1e-5)\n"
    "      --adamw           decoupled weight decay instead\n"
    "      --lr-step N       multiply the learning rate by --lr-gamma every N epochs (3)\n"
    "      --lr-gamma X      (0.1)\n"
    "      --clip X          clip the gradient norm at X (0 = off)\n"
    "  -s, --seed N          seed of initialisation, shuffling and dropout (1)\n"
    "      --select WHAT     valid (default): keep the epoch with the best validation\n"
    "                        metric; best-test: the papers' practice of keeping the best\n"
    "                        test epoch (peeks at the test set; labelled as such)\n"
    "      --metric M        hr@20 (default) or mrr@20: what --select compares\n"
    "      --no-test         do not rank the test split after each epoch\n"
    "      --chunk N         items per chunk of the fused scoring (2048)\n"
    "      --time-limit T    stop after the epoch that ends past T of training in this run\n"
    "                        (e.g. 90m, 2h), keeping the selected epoch as usual; a\n"
    "                        SIGUSR1 (kill -USR1 PID) does the same at once\n"
    "      --max-steps N     stop after N steps in total (for tests)\n"
    "\n"
    "Output:\n"
    "  -o, --output FILE     the model ('-' for stdout)\n"
    "      --log FILE        one JSON line per epoch: loss, metrics, seconds, samples/s\n"
    "      --checkpoint FILE write the full training state after every epoch ...\n"
    "      --resume FILE     ... and continue from it (bit-identical on the CPU)\n"
    "      --device D        auto, cpu or cuda (default auto)\n"
    "      --threads N       CPU threads (default: all cores)\n"
    "  -q, --quiet           no progress or informational messages\n"
    "  -h, --help            show this help and exit\n"
    "      --version         show the version and exit\n"
    "\n"
    "Environment:\n"
    "  SBR_STEP_TIMING=N     after each epoch, where a step's time went: 1, the\n"
    "                        host's time in building batches, queueing the step and\n"
    "                        reading losses; 2, also the wait for the device after\n"
    "                        each step; 3, the GPU time of every 16th step by launch\n"
    "                        site (docs/GPU.md)\n"
    "  SBR_PREFETCH=0|1      build batches on a second thread (default: with --device\n"
    "                        cuda only); the same batches either way\n"
    "  SBR_CUBLAS_MATH=M     cuBLAS math mode on the GPU: pedantic (default), default\n"
    "                        (cuBLAS's FP32 mode) or tf32 (changes results)\n"
    "  SBR_GEMM=cublas|lt    the GPU's GEMMs on cuBLAS (default) or on cublasLt with\n"
    "                        plans cached per shape and biases fused\n"
    "\n"
    "Example:\n"
    "  sbr-train -m gru4rec --log gru.log -o gru.model sessions.sbr\n"
    "  sbr-graph --kind window -o win.sbr sessions.sbr\n"
    "  sbr-train -m dmignn --graph win.sbr -o dmi.model sessions.sbr\n"
    "\n" SBR_HELP_EXIT;

enum {
    OPT_VERSION = 256, OPT_CLUSTERS, OPT_HIDDEN, OPT_LAYERS, OPT_DROPOUT, OPT_DROPOUT_H, OPT_DROPOUT_G,
    OPT_MAXLEN, OPT_PATIENCE, OPT_LR, OPT_L2, OPT_ADAMW, OPT_LRSTEP, OPT_LRGAMMA, OPT_CLIP,
    OPT_SELECT, OPT_METRIC, OPT_NOTEST, OPT_CHUNK, OPT_MAXSTEPS, OPT_TIMELIMIT, OPT_LOG, OPT_CKPT, OPT_RESUME,
    OPT_DEVICE, OPT_THREADS, OPT_GRAPH, OPT_GLOBALK, OPT_INTERESTS, OPT_POOL, OPT_ETA, OPT_BETA
};

static const struct option opts[] = {
    {"model", required_argument, 0, 'm'},        {"clusters", required_argument, 0, OPT_CLUSTERS},
    {"dim", required_argument, 0, 'd'},          {"hidden", required_argument, 0, OPT_HIDDEN},
    {"layers", required_argument, 0, OPT_LAYERS}, {"dropout", required_argument, 0, OPT_DROPOUT},
    {"dropout-hidden", required_argument, 0, OPT_DROPOUT_H},
    {"dropout-gcn", required_argument, 0, OPT_DROPOUT_G},
    {"max-len", required_argument, 0, OPT_MAXLEN}, {"epochs", required_argument, 0, 'e'},
    {"patience", required_argument, 0, OPT_PATIENCE}, {"batch", required_argument, 0, 'b'},
    {"lr", required_argument, 0, OPT_LR},         {"l2", required_argument, 0, OPT_L2},
    {"adamw", no_argument, 0, OPT_ADAMW},         {"lr-step", required_argument, 0, OPT_LRSTEP},
    {"lr-gamma", required_argument, 0, OPT_LRGAMMA}, {"clip", required_argument, 0, OPT_CLIP},
    {"seed", required_argument, 0, 's'},          {"select", required_argument, 0, OPT_SELECT},
    {"metric", required_argument, 0, OPT_METRIC}, {"no-test", no_argument, 0, OPT_NOTEST},
    {"chunk", required_argument, 0, OPT_CHUNK},   {"max-steps", required_argument, 0, OPT_MAXSTEPS},
    {"time-limit", required_argument, 0, OPT_TIMELIMIT},
    {"output", required_argument, 0, 'o'},        {"log", required_argument, 0, OPT_LOG},
    {"checkpoint", required_argument, 0, OPT_CKPT}, {"resume", required_argument, 0, OPT_RESUME},
    {"device", required_argument, 0, OPT_DEVICE}, {"threads", required_argument, 0, OPT_THREADS},
    {"graph", required_argument, 0, OPT_GRAPH},   {"global-k", required_argument, 0, OPT_GLOBALK},
    {"interests", required_argument, 0, OPT_INTERESTS},
    {"interest-pool", required_argument, 0, OPT_POOL},
    {"dmi-eta", required_argument, 0, OPT_ETA},   {"dmi-beta", required_argument, 0, OPT_BETA},
    {"quiet", no_argument, 0, 'q'},               {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, OPT_VERSION},     {0, 0, 0, 0}};

typedef struct {
    const char *sessions, *out, *clusters, *log, *checkpoint, *resume, *device;
    const char *model;
    int threads;
    /* -1 / negative: keep the model's default */
    int d, hidden, layers, max_len;
    double dropout, dropout_h, dropout_g;
    uint64_t seed;
    sbr_train_cfg tc;
    /* GCE-GNN / DMI-GNN; -1 / has_* 0: the model's default */
    const char *graph;
    int global_k, interests, pool, has_eta, has_beta;
    double eta, beta;
} args;

static void parse(int argc, char **argv, args *a)
{
    static const char *const selects[] = {"valid", "best-test", NULL};
    static const char *const metrics[] = {"hr@20", "mrr@20", NULL};
    static const char *const pools[] = {"max", "sum", NULL};
    memset(a, 0, sizeof *a);
    a->model = "gru4rec";
    a->device = "auto";
    a->d = a->hidden = a->layers = a->max_len = -1;
    a->dropout = a->dropout_h = a->dropout_g = -1;
    a->global_k = a->interests = a->pool = -1;
    a->seed = 1;
    a->tc = (sbr_train_cfg){.epochs = 30, .patience = 3, .batch = 100, .lr = 1e-3, .l2 = 1e-5,
                            .lr_gamma = 0.1, .lr_step = 3, .chunk = 2048, .eval_test = 1};
    int c;
    while ((c = getopt_long(argc, argv, "m:d:e:b:s:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = sbr_model_names[sbr_arg_choice("--model", optarg, sbr_model_names)]; break;
        case OPT_CLUSTERS: a->clusters = optarg; break;
        case 'd': a->d = (int)sbr_arg_int("--dim", optarg, 1, 4096); break;
        case OPT_HIDDEN: a->hidden = (int)sbr_arg_int("--hidden", optarg, 1, 4096); break;
        case OPT_LAYERS: a->layers = (int)sbr_arg_int("--layers", optarg, 1, 64); break;
        case OPT_DROPOUT: a->dropout = sbr_arg_double("--dropout", optarg, 0, 0.99); break;
        case OPT_DROPOUT_H: a->dropout_h = sbr_arg_double("--dropout-hidden", optarg, 0, 0.99); break;
        case OPT_DROPOUT_G: a->dropout_g = sbr_arg_double("--dropout-gcn", optarg, 0, 0.99); break;
        case OPT_MAXLEN: a->max_len = (int)sbr_arg_int("--max-len", optarg, 0, 100000); break;
        case 'e': a->tc.epochs = (int)sbr_arg_int("--epochs", optarg, 1, 100000); break;
        case OPT_PATIENCE: a->tc.patience = (int)sbr_arg_int("--patience", optarg, 0, 100000); break;
        case 'b': a->tc.batch = (int)sbr_arg_int("--batch", optarg, 1, 1 << 20); break;
        case OPT_LR: a->tc.lr = sbr_arg_double("--lr", optarg, 0, 10); break;
        case OPT_L2: a->tc.l2 = sbr_arg_double("--l2", optarg, 0, 10); break;
        case OPT_ADAMW: a->tc.adamw = 1; break;
        case OPT_LRSTEP: a->tc.lr_step = (int)sbr_arg_int("--lr-step", optarg, 0, 100000); break;
        case OPT_LRGAMMA: a->tc.lr_gamma = sbr_arg_double("--lr-gamma", optarg, 0, 1); break;
        case OPT_CLIP: a->tc.clip = sbr_arg_double("--clip", optarg, 0, 1e9); break;
        case 's': a->seed = (uint64_t)sbr_arg_int("--seed", optarg, 0, INT64_MAX); break;
        case OPT_SELECT: a->tc.select = (sbr_select)sbr_arg_choice("--select", optarg, selects); break;
        case OPT_METRIC: a->tc.select_mrr = sbr_arg_choice("--metric", optarg, metrics); break;
        case OPT_NOTEST: a->tc.eval_test = 0; break;
        case OPT_CHUNK: a->tc.chunk = (int)sbr_arg_int("--chunk", optarg, 1, 1 << 24); break;
        case OPT_MAXSTEPS: a->tc.max_steps = (int)sbr_arg_int("--max-steps", optarg, 1, 1 << 30); break;
        case OPT_TIMELIMIT: a->tc.max_seconds = sbr_arg_duration("--time-limit", optarg); break;
        case 'o': a->out = optarg; break;
        case OPT_LOG: a->log = optarg; break;
        case OPT_CKPT: a->checkpoint = optarg; break;
        case OPT_RESUME: a->resume = optarg; break;
        case OPT_DEVICE: a->device = optarg; break;
        case OPT_THREADS: a->threads = (int)sbr_arg_int("--threads", optarg, 0, 4096); break;
        case OPT_GRAPH: a->graph = optarg; break;
        case OPT_GLOBALK: a->global_k = (int)sbr_arg_int("--global-k", optarg, 1, 1000); break;
        case OPT_INTERESTS:
            a->interests = (int)sbr_arg_int("--interests", optarg, 1, SBR_MAX_INTERESTS);
            break;
        case OPT_POOL: a->pool = sbr_arg_choice("--interest-pool", optarg, pools); break;
        case OPT_ETA: a->eta = sbr_arg_double("--dmi-eta", optarg, -1e6, 1e6), a->has_eta = 1; break;
        case OPT_BETA: a->beta = sbr_arg_double("--dmi-beta", optarg, 0, 1e6), a->has_beta = 1; break;
        case 'q': sbr_quiet = 1; break;
        case 'h': sbr_cli_help(usage);
        case OPT_VERSION: sbr_cli_version();
        default: sbr_cli_bad_option();
        }
    }
    if (optind != argc - 1)
        sbr_usage_error(optind >= argc ? "no SESSIONS file given" : "more than one SESSIONS file given");
    a->sessions = argv[optind];
    if (!a->out)
        sbr_usage_error("no output given (-o MODEL)");
    if (a->tc.select == SBR_SELECT_BEST_TEST && !a->tc.eval_test)
        sbr_usage_error("--select best-test needs the test split ranked: drop --no-test");
    unsigned needs = sbr_model_impl_for(a->model, SBR_PREC_F32)->needs;
    if ((needs & SBR_NEEDS_GLOBAL) && !a->graph)
        sbr_usage_error("--model %s needs its global graph: --graph FILE (sbr-graph --kind window)",
                        a->model);
    if (!(needs & SBR_NEEDS_GLOBAL) && (a->graph || a->global_k > 0 || a->dropout_g >= 0))
        sbr_usage_error("--graph, --global-k and --dropout-gcn are for gcegnn and dmignn, not %s",
                        a->model);
    if (!(needs & SBR_NEEDS_INTERESTS) &&
        (a->interests > 0 || a->pool >= 0 || a->has_eta || a->has_beta))
        sbr_usage_error("--interests, --interest-pool, --dmi-eta and --dmi-beta are for dmignn");
}

static void model_config(const args *a, const sbr_sessions *s, const sbr_clusters *cl,
                         sbr_model_cfg *cfg)
{
    sbr_model_defaults(a->model, cfg);
    if (a->d > 0) cfg->d = a->d;
    if (a->hidden > 0) cfg->hidden = a->hidden;
    if (a->layers > 0) cfg->layers = a->layers;
    if (a->max_len >= 0) cfg->max_len = a->max_len;
    if (a->dropout >= 0) cfg->dropout_emb = a->dropout;
    if (a->dropout_h >= 0) cfg->dropout_hidden = a->dropout_h;
    if (a->dropout_g >= 0) cfg->dropout_gcn = a->dropout_g;
    if (a->global_k > 0) cfg->global_k = a->global_k;
    if (a->interests > 0) cfg->interests = a->interests;
    if (a->pool >= 0) cfg->pool_sum = a->pool;
    if (a->has_eta) cfg->dmi_eta = a->eta;
    if (a->has_beta) cfg->dmi_beta = a->beta;
    cfg->seed = a->seed;
    cfg->n_items = (int)s->n_items;
    cfg->n_clusters = cl ? (int)cl->n_clusters : 0;
    if (cfg->max_len == 0) { /* all: the longest prefix of any split */
        for (int k = 0; k < SBR_NSPLITS; k++)
            for (int64_t i = 0; i < s->split[k].n_sessions; i++) {
                int64_t len = s->split[k].offsets[i + 1] - s->split[k].offsets[i];
                cfg->max_len = len > cfg->max_len ? (int)len : cfg->max_len;
            }
    }
}

/* The global graph of GCE-GNN / DMI-GNN: checked, its top-K table kept in m. */
static void load_graph(const args *a, sbr_model *m, const sbr_sessions *s)
{
    sbr_graph g;
    sbr_err e;
    if (sbr_graph_read(a->graph, &g, &e))
        sbr_fatal("%s: %s", a->graph, e.msg);
    if (g.n_items != s->n_items)
        sbr_fatal("%s: a graph of %lld items, but %s has %lld: made from another sessions file?",
                  a->graph, (long long)g.n_items, a->sessions, (long long)s->n_items);
    if (g.splits & (1 << SBR_TEST))
        sbr_fatal("%s: built with the test split's sessions: it would leak test clicks into "
                  "training (sbr-graph without --splits)", a->graph);
    if (sbr_model_set_global(m, &g, &e))
        sbr_fatal("%s: %s", a->graph, e.msg);
    int64_t none = 0, full = 0;
    for (int64_t i = 1; i <= s->n_items; i++) {
        none += m->gtab_n[i] == 0;
        full += m->gtab_n[i] == m->cfg.global_k;
    }
    sbr_info("global graph: %lld items with %d neighbours, %lld with fewer, %lld with none "
             "(their global aggregate is 0)", (long long)full, m->cfg.global_k,
             (long long)(s->n_items - full - none), (long long)none);
    sbr_graph_free(&g);
}

static void write_model(const args *a, sbr_model *m, const sbr_sessions *s,
                        const sbr_clusters *cl, const sbr_train_state *st)
{
    sbr_tw *w = sbr_tw_new("sbr.model");
    sbr_model_add_to(m, w, 0);
    sbr_train_state_meta(st, &a->tc, w);
    sbr_tw_metaf(w, "min_prefix", "%d", s->min_prefix);
    sbr_tw_add1(w, "items.original", SBR_I64, s->n_items + 1, s->original);
    if (cl) {
        sbr_tw_add1(w, "clip.cluster", SBR_I32, cl->n_items + 1, cl->cluster);
        sbr_tw_metaf(w, "clip.frequent", "%d", cl->frequent);
    }
    sbr_err e;
    if (sbr_tw_write(w, a->out, SBR_ZSTD_LEVEL, &e))
        sbr_fatal("%s: %s", a->out, e.msg);
    sbr_tw_free(w);
}

static void on_usr1(int sig)
{
    (void)sig;
    sbr_train_stop_requested = 1;
}

int main(int argc, char **argv)
{
    sbr_cli_begin("sbr-train", argc, argv);
    args a;
    parse(argc, argv, &a);
    sbr_device dev = sbr_device_select(a.device);
    sbr_set_threads(a.threads);
    sbr_sessions s;
    sbr_err e;
    if (sbr_sessions_read(a.sessions, &s, &e)) /* the message names the file */
        sbr_fatal("%s", e.msg);
    sbr_clusters cl, *clp = NULL;
    if (a.clusters) {
        if (sbr_clusters_read(a.clusters, &cl, &e))
            sbr_fatal("%s: %s", a.clusters, e.msg);
        if (cl.n_items != s.n_items)
            sbr_fatal("%s: clusters of %lld items, but %s has %lld: made from another sessions file?",
                      a.clusters, (long long)cl.n_items, a.sessions, (long long)s.n_items);
        clp = &cl;
    }
    sbr_model_cfg cfg;
    model_config(&a, &s, clp, &cfg);
    sbr_model m;
    cfg.chunk = a.tc.chunk;
    cfg.max_k = 20; /* evaluation lists */
    if (sbr_model_create(&m, &cfg, dev == SBR_DEV_CUDA ? SBR_PREC_CUDA : SBR_PREC_F32, a.tc.batch,
                         cfg.max_len, &e))
        sbr_fatal("%s", e.msg);
    if (a.graph)
        load_graph(&a, &m, &s);
    sbr_info("%s%s: %lld items, d %d, %lld parameters; %lld training samples", cfg.model,
             clp ? " + CLIP-SBR prompts" : "", (long long)cfg.n_items, cfg.d,
             (long long)sbr_arena_numel(&m.params),
             (long long)sbr_samples_count(&s.split[SBR_TRAIN], s.min_prefix));
    sbr_tfile resume, *rp = NULL;
    if (a.resume) {
        if (sbr_tfile_read(a.resume, &resume, &e))
            sbr_fatal("%s: %s", a.resume, e.msg);
        sbr_model_cfg rc;
        if (sbr_model_read_cfg(&resume, &rc, &e))
            sbr_fatal("%s: %s", a.resume, e.msg);
        if (strcmp(rc.model, cfg.model) || rc.d != cfg.d || rc.n_items != cfg.n_items ||
            rc.n_clusters != cfg.n_clusters)
            sbr_fatal("%s: a checkpoint of another model or data (%s, d %d, %d items)", a.resume,
                      rc.model, rc.d, rc.n_items);
        rp = &resume;
    }
    FILE *log = NULL;
    if (a.log && !(log = fopen(a.log, rp ? "a" : "w")))
        sbr_fatal("%s: cannot open the log", a.log);
    a.tc.log = log;
    a.tc.checkpoint = a.checkpoint;
    sbr_clip_map cm = {clp ? clp->cluster : NULL, clp ? clp->frequent : 0};
    sbr_train_state st;
    signal(SIGUSR1, on_usr1);
    if (sbr_train(&m, &s, clp ? &cm : NULL, &a.tc, &st, rp, &e))
        sbr_fatal("%s: %s", a.resume && strstr(e.msg, "tensor") ? a.resume : a.sessions, e.msg);
    if (log && fclose(log) != 0)
        sbr_fatal("%s: write failed", a.log);
    char stop[48] = "";
    if (st.stopped_early)
        snprintf(stop, sizeof stop, ", stopped early");
    else if (st.stopped_by)
        snprintf(stop, sizeof stop, ", stopped by the %s", st.stopped_by);
    sbr_info("selected epoch %d of %d (%s)%s; %.0f s, peak memory %.0f MiB", st.best_epoch,
             st.epoch, a.tc.select == SBR_SELECT_VALID ? "validation" : "best test: peeks at the test set",
             stop, st.seconds, (double)sbr_peak_rss() / (1 << 20));
    write_model(&a, &m, &s, clp, &st);
    sbr_model_free(&m);
    return SBR_EXIT_OK;
}
