/* sbr-train: train a next-item model on a sessions file. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "cluster.h"
#include "device.h"
#include "err.h"
#include "graph.h"
#include "knn/knn.h"
#include "model/def.h"
#include "model/model_help.h"
#include "model/train.h"
#include "progress.h"
#include "sessions.h"
#include "task.h"
#include "train_knn.h"

static const char usage_head[] =
    "Usage: sbr-train [OPTION]... SESSIONS -o MODEL\n"
    "Train a next-item model on the training split of SESSIONS (kind sbr.sessions, from\n"
    "sbr-prep): every prefix of every training session is a sample (the prefix rule\n"
    "sbr-prep recorded), shuffled each epoch with the seed; full-catalogue softmax\n"
    "cross-entropy; Adam. After each epoch the validation (and test) split is ranked\n"
    "over the whole catalogue. Writes the selected epoch's model (kind sbr.model).\n"
    "\n"
    "Model:\n"
    "  -m, --model NAME      the model (default gru4rec), one of:\n";

static const char usage_model[] =
    "Session-kNN and rule baselines (no parameters: an index of the training split,\n"
    "ranked on the CPU; sbr-train --help-model NAME):\n";

static const char usage_knn[] =
    "      --tune N          kNN and rule models: try N settings of the options (the\n"
    "                        first as given, the others drawn from --help-model's ranges\n"
    "                        with --seed; options given stay fixed), each scored on the\n"
    "                        validation split (--metric), and keep the best; the table\n"
    "                        goes into the model's metadata and --log\n"
    "      --help-model NAME show a model's options (defaults, ranges, help) and presets,\n"
    "                        and exit\n"
    "      --preset NAME     a model's named settings (the official code's per-dataset\n"
    "                        ones; --help-model lists them); options given win\n"
    "      --clusters FILE   CLIP-SBR: one learnable prompt per cluster (kind sbr.clusters,\n"
    "                        from sbr-cluster on this SESSIONS' graph), gated into the item\n"
    "                        embeddings of the model; with it (docs/CLIP-SBR.md):\n"
    "      --prompt-norm AXIS  feature (default): item vectors and prompts normalised\n"
    "                        each; sequence: each feature over a session's clicks\n"
    "                        (the official code's GRU4Rec and NARM; models that embed\n"
    "                        the clicks: gru4rec narm stamp core mean proxysr); none\n"
    "      --prompts LIST    c (default with --clusters): a prompt per cluster; u: a\n"
    "                        prompt per user (sessions with user ids; models that embed\n"
    "                        the clicks); c,u: their sum (the paper's C, U, CU)\n"
    "      --gate-bias X     the prompt gate's bias starts at X (sigmoid(X) open;\n"
    "                        default: small uniform like every bias)\n"
    "      --prompt-l2 X     the prompts' L2 penalty (default: --l2)\n"
    "      --gate-l2 X       the gates' L2 penalty (default: --l2)\n"
    "      --graph FILE      the global item graph of gcegnn, dmignn and npmisr over\n"
    "                        gcegnn (required there): sbr-graph --kind window --window 3\n"
    "                        --topk 12 on this SESSIONS' training split; its neighbour\n"
    "                        table is stored in the model\n"
    "      --encoder NAME    npmisr: its session encoder (default gcegnn; any model\n"
    "                        scored by S . E: gru4rec narm stamp srgnn gcsan gcegnn mean\n"
    "                        lessr); the model is then npmisr-NAME (-m npmisr-NAME says\n"
    "                        the same). CORE's --encoder is its own option\n"
    "\n"
    "Model options: --NAME VALUE for each option the model declares (-d is --dim);\n"
    "a value out of the option's range, or an option the model does not have, is\n"
    "misuse. These models have each:\n";

static const char usage_tail[] =
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
    "                        test epoch (peeks at the test set; labelled as such);\n"
    "                        refit: the number of epochs selected on validation, then\n"
    "                        a fresh model trained on train + valid for that many and\n"
    "                        the test split ranked once (no peeking, all the data);\n"
    "                        for a kNN or rule model, the options (--tune's choice)\n"
    "                        indexed again on train + valid\n"
    "      --metric M        hr@20 (default) or mrr@20: what --select compares\n"
    "      --task T          what every evaluation measures, and so what --select,\n"
    "                        --patience and --tune compare: standard (default), or\n"
    "                        next-unseen (ProxySR): samples whose target occurs in\n"
    "                        their prefix are dropped (counted in the log) and the\n"
    "                        prefix's items are never recommended. Training itself is\n"
    "                        the same; the model records the task and sbr-infer and\n"
    "                        sbr-score follow it\n"
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
    "                        ('-': standard output, when the model is not written there)\n"
    "      --checkpoint FILE write the full training state after every epoch ...\n"
    "      --resume FILE     ... and continue from it (bit-identical on the CPU); the\n"
    "                        model and its options must be the checkpoint's\n"
    "      --device D        auto, cpu or cuda (default auto)\n"
    "      --threads N       CPU threads (default: all cores)\n"
    "      --config FILE     options from FILE, in its place: `key = value` lines with\n"
    "                        the long option names (a flag alone), # comments; options\n"
    "                        after it override them; the model records them expanded\n"
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
    "Examples:\n"
    "  sbr-train -m gru4rec --log gru.log -o gru.model sessions.sbr\n"
    "  sbr-train --help-model dmignn\n"
    "  sbr-graph --kind window -o win.sbr sessions.sbr\n"
    "  sbr-train -m dmignn --preset tmall --graph win.sbr -o dmi.model sessions.sbr\n"
    "\n" SBR_HELP_EXIT;

static SBR_NORETURN void help(void)
{
    fputs(usage_head, stdout);
    sbr_model_help_list(stdout);
    fputs(usage_model, stdout);
    sbr_knn_help_list(stdout);
    fputs(usage_knn, stdout);
    sbr_model_help_options(stdout);
    sbr_knn_help_options(stdout);
    sbr_cli_help(usage_tail);
}

enum {
    OPT_VERSION = 256, OPT_CLUSTERS, OPT_PATIENCE, OPT_LR, OPT_L2, OPT_ADAMW, OPT_LRSTEP,
    OPT_LRGAMMA, OPT_CLIP, OPT_SELECT, OPT_METRIC, OPT_NOTEST, OPT_CHUNK, OPT_MAXSTEPS,
    OPT_TIMELIMIT, OPT_LOG, OPT_CKPT, OPT_RESUME, OPT_DEVICE, OPT_THREADS, OPT_GRAPH,
    OPT_PRESET, OPT_HELP_MODEL, OPT_TUNE, OPT_TASK, OPT_PROMPT_NORM, OPT_GATE_BIAS,
    OPT_PROMPT_L2, OPT_GATE_L2, OPT_PROMPTS, OPT_MODEL_OPTION = 1000 /* + the option's index */
};

static const struct option train_opts[] = {
    {"model", required_argument, 0, 'm'},        {"clusters", required_argument, 0, OPT_CLUSTERS},
    {"epochs", required_argument, 0, 'e'},       {"patience", required_argument, 0, OPT_PATIENCE},
    {"batch", required_argument, 0, 'b'},        {"lr", required_argument, 0, OPT_LR},
    {"l2", required_argument, 0, OPT_L2},        {"adamw", no_argument, 0, OPT_ADAMW},
    {"lr-step", required_argument, 0, OPT_LRSTEP}, {"lr-gamma", required_argument, 0, OPT_LRGAMMA},
    {"clip", required_argument, 0, OPT_CLIP},    {"seed", required_argument, 0, 's'},
    {"select", required_argument, 0, OPT_SELECT}, {"metric", required_argument, 0, OPT_METRIC},
    {"no-test", no_argument, 0, OPT_NOTEST},     {"chunk", required_argument, 0, OPT_CHUNK},
    {"max-steps", required_argument, 0, OPT_MAXSTEPS},
    {"time-limit", required_argument, 0, OPT_TIMELIMIT},
    {"output", required_argument, 0, 'o'},       {"log", required_argument, 0, OPT_LOG},
    {"checkpoint", required_argument, 0, OPT_CKPT}, {"resume", required_argument, 0, OPT_RESUME},
    {"device", required_argument, 0, OPT_DEVICE}, {"threads", required_argument, 0, OPT_THREADS},
    {"graph", required_argument, 0, OPT_GRAPH},   {"preset", required_argument, 0, OPT_PRESET},
    {"help-model", required_argument, 0, OPT_HELP_MODEL},
    {"tune", required_argument, 0, OPT_TUNE},   {"task", required_argument, 0, OPT_TASK},
    {"prompt-norm", required_argument, 0, OPT_PROMPT_NORM},
    {"gate-bias", required_argument, 0, OPT_GATE_BIAS},
    {"prompt-l2", required_argument, 0, OPT_PROMPT_L2},
    {"gate-l2", required_argument, 0, OPT_GATE_L2},
    {"prompts", required_argument, 0, OPT_PROMPTS},
    {"quiet", no_argument, 0, 'q'},               {"help", no_argument, 0, 'h'},
    {"version", no_argument, 0, OPT_VERSION}};

#define MAX_MODEL_OPTS 128

typedef struct {
    const char *sessions, *out, *clusters, *log, *checkpoint, *resume, *device, *graph, *preset;
    const char *model;
    int threads, tune;
    uint64_t seed;
    /* CLIP-SBR's front: given (1) or not, and the values */
    int prompt_norm_given, gate_bias_given;
    const char *prompts;        /* --prompts as given, or NULL */
    int cluster_prompts, user_prompts;
    sbr_prompt_norm prompt_norm;
    double gate_bias;
    sbr_train_cfg tc;
    /* the model options given, in order: their names and texts */
    int n_given;
    const char *given_name[MAX_MODEL_OPTS], *given_text[MAX_MODEL_OPTS];
} args;

/* The long options: sbr-train's own, then every option some model declares
 * (their command-line spellings in flags). */
static struct option *option_table(const char **names, int n, char (*flags)[64])
{
    size_t own = sizeof train_opts / sizeof train_opts[0];
    struct option *t = sbr_xcalloc(own + (size_t)n + 1, sizeof *t);
    memcpy(t, train_opts, sizeof train_opts);
    for (int k = 0; k < n; k++) {
        sbr_opt_flag(names[k], flags[k], sizeof flags[k]);
        for (size_t i = 0; i < own; i++) /* getopt would take sbr-train's and hide the model's */
            if (strcmp(train_opts[i].name, flags[k]) == 0)
                sbr_fatal("internal error: the model option --%s is one of sbr-train's", flags[k]);
        t[own + k] = (struct option){flags[k], required_argument, 0, OPT_MODEL_OPTION + k};
    }
    return t;
}

static SBR_NORETURN void help_model(const char *name)
{
    if (sbr_knn_help(stdout, name) && sbr_model_help(stdout, name))
        sbr_usage_error("--help-model: unknown model \"%s\"", name);
    exit(fflush(stdout) == 0 && !ferror(stdout) ? SBR_EXIT_OK : SBR_EXIT_FAIL);
}

static void given(args *a, const char *name, const char *text)
{
    if (a->n_given == MAX_MODEL_OPTS)
        sbr_usage_error("more than %d model options", MAX_MODEL_OPTS);
    a->given_name[a->n_given] = name;
    a->given_text[a->n_given++] = text;
}

/* A neural model's name or a kNN method's (misuse: neither); a wrapper
 * over an encoder by its full name too ("npmisr-srgnn"). */
static const char *model_name(const char *s)
{
    if (strchr(s, '-') && sbr_model_def_for(s, SBR_PREC_F32))
        return s;
    static const char *all[64];
    int n = 0;
    for (int i = 0; sbr_model_names[i] && n < 62; i++)
        all[n++] = sbr_model_names[i];
    for (int i = 0; sbr_knn_names[i] && n < 63; i++)
        all[n++] = sbr_knn_names[i];
    all[n] = NULL;
    return all[sbr_arg_choice("--model", s, all)];
}

/* Every model option name, the neural models' then the kNN methods' new ones. */
static int all_option_names(const char **names, int cap)
{
    int n = sbr_model_option_names(names, cap);
    const char *knn[64];
    int nk = sbr_knn_option_names(knn, 64);
    for (int j = 0; j < nk; j++) {
        int k = 0;
        while (k < n && strcmp(names[k], knn[j]) != 0)
            k++;
        if (k == n && n < cap)
            names[n++] = knn[j];
    }
    return n;
}

static void parse_one(args *a, int c, const char *const *names)
{
    static const char *const selects[] = {"valid", "best-test", "refit", NULL};
    static const char *const metrics[] = {"hr@20", "mrr@20", NULL};
    switch (c) {
    case 'm': a->model = model_name(optarg); break;
    case 'd': given(a, "dim", optarg); break;
    case OPT_CLUSTERS: a->clusters = optarg; break;
    case OPT_PROMPT_NORM:
        a->prompt_norm = (sbr_prompt_norm)sbr_arg_choice("--prompt-norm", optarg,
                                                         sbr_prompt_norm_names);
        a->prompt_norm_given = 1;
        break;
    case OPT_GATE_BIAS:
        a->gate_bias = sbr_arg_double("--gate-bias", optarg, -30, 30);
        a->gate_bias_given = 1;
        break;
    case OPT_PROMPTS: a->prompts = optarg; break;
    case OPT_PROMPT_L2: a->tc.l2_prompt = sbr_arg_double("--prompt-l2", optarg, 0, 10); break;
    case OPT_GATE_L2: a->tc.l2_gate = sbr_arg_double("--gate-l2", optarg, 0, 10); break;
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
    case OPT_TASK: a->tc.task = (sbr_task)sbr_arg_choice("--task", optarg, sbr_task_names); break;
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
    case OPT_PRESET: a->preset = optarg; break;
    case OPT_HELP_MODEL: help_model(optarg);
    case OPT_TUNE: a->tune = (int)sbr_arg_int("--tune", optarg, 1, 100000); break;
    case 'q': sbr_quiet = 1; break;
    case 'h': help();
    case OPT_VERSION: sbr_cli_version();
    default:
        if (c < OPT_MODEL_OPTION)
            sbr_cli_bad_option();
        given(a, names[c - OPT_MODEL_OPTION], optarg);
    }
}

/* A wrapper (NP-MiSR) takes its session encoder from --encoder NAME: the
 * model becomes "WRAPPER-NAME" (misuse: a name that is no model, or a model
 * that cannot be an encoder, saying why). Other models' --encoder (CORE's)
 * stays a model option. */
static void wrapper_encoder(args *a)
{
    const sbr_model_def *def = sbr_model_def_for(a->model, SBR_PREC_F32);
    if (!def || !def->encoder || strchr(a->model, '-'))
        return;
    for (int k = 0; k < a->n_given; k++) {
        if (strcmp(a->given_name[k], "encoder") != 0)
            continue;
        const char *enc = a->given_text[k];
        const sbr_model_def *ed = sbr_model_def_for(enc, SBR_PREC_F32);
        const char *why = !ed ? "no such model" : ed->encoder ? "it wraps an encoder itself"
                                                               : sbr_encoder_unfit(ed);
        if (why)
            sbr_usage_error("--encoder %s: not an encoder for %s: %s", enc, a->model, why);
        static char name[64];
        snprintf(name, sizeof name, "%s-%s", a->model, enc);
        if (!sbr_model_def_for(name, SBR_PREC_F32))
            sbr_usage_error("--encoder %s: not an encoder for %s", enc, a->model);
        a->model = name;
        for (int j = k + 1; j < a->n_given; j++) /* the option is spent */
            a->given_name[j - 1] = a->given_name[j], a->given_text[j - 1] = a->given_text[j];
        a->n_given--;
        k--;
    }
}

/* CLIP-SBR's front options need prompts, and the sequence axis a model
 * that embeds sessions of clicks. */
static void prompt_kinds(args *a)
{
    a->cluster_prompts = a->clusters != NULL;
    if (!a->prompts)
        return;
    a->cluster_prompts = 0;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", a->prompts);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
        if (!strcmp(t, "c"))
            a->cluster_prompts = 1;
        else if (!strcmp(t, "u"))
            a->user_prompts = 1;
        else if (!strcmp(t, "s"))
            sbr_usage_error("--prompts s: session prompts need a session that recurs across "
                            "splits; under sbr's splits no test session is in training "
                            "(docs/CLIP-SBR.md)");
        else
            sbr_usage_error("--prompts: '%s' is not c or u (a list like c,u)", t);
    }
    if (!a->cluster_prompts && !a->user_prompts)
        sbr_usage_error("--prompts: no kind given (c, u or c,u)");
    if (a->cluster_prompts && !a->clusters)
        sbr_usage_error("--prompts %s: cluster prompts need --clusters FILE", a->prompts);
    if (!a->cluster_prompts && a->clusters)
        sbr_usage_error("--prompts %s has no c: drop --clusters", a->prompts);
}

static void clip_options(args *a)
{
    prompt_kinds(a);
    const sbr_model_def *def = sbr_model_def_for(a->model, SBR_PREC_F32);
    if (a->user_prompts && def && !def->front_seq)
        sbr_usage_error("--prompts u: a user's prompt joins each click of its sessions; %s does "
                        "not embed the clicks as sessions (gru4rec narm stamp core mean proxysr)",
                        a->model);
    const char *given = a->prompt_norm_given ? "--prompt-norm"
                        : a->gate_bias_given ? "--gate-bias"
                        : a->tc.l2_prompt >= 0 ? "--prompt-l2"
                        : a->tc.l2_gate >= 0   ? "--gate-l2"
                                               : NULL;
    if (given && !a->clusters && !a->user_prompts)
        sbr_usage_error("%s is for CLIP-SBR's prompts: give --clusters FILE", given);
    if (a->prompt_norm == SBR_PROMPT_NORM_SEQUENCE && def && !def->front_seq)
        sbr_usage_error("--prompt-norm sequence normalises along a session's clicks; %s does not "
                        "embed them as sessions (feature or none)", a->model);
}

static void parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->model = "gru4rec";
    a->device = "auto";
    a->seed = 1;
    a->tc = (sbr_train_cfg){.epochs = 30, .patience = 3, .batch = 100, .lr = 1e-3, .l2 = 1e-5,
                            .lr_gamma = 0.1, .lr_step = 3, .chunk = 2048, .eval_test = 1,
                            .l2_prompt = -1, .l2_gate = -1};
    static const char *names[MAX_MODEL_OPTS];
    static char flags[MAX_MODEL_OPTS][64];
    int n = all_option_names(names, MAX_MODEL_OPTS);
    struct option *table = option_table(names, n, flags);
    sbr_cli_config(&argc, &argv, table);
    int c;
    while ((c = getopt_long(argc, argv, "m:d:e:b:s:o:qh", table, NULL)) != -1)
        parse_one(a, c, names);
    free(table);
    if (optind != argc - 1)
        sbr_usage_error(optind >= argc ? "no SESSIONS file given" : "more than one SESSIONS file given");
    a->sessions = argv[optind];
    if (!a->out)
        sbr_usage_error("no output given (-o MODEL)");
    if (a->log && strcmp(a->log, "-") == 0 && strcmp(a->out, "-") == 0)
        sbr_usage_error("--log - and -o - would both write to standard output");
    if (sbr_knn_def_for(a->model))
        return; /* train_knn.c checks the rest */
    wrapper_encoder(a);
    if (a->tune)
        sbr_usage_error("--tune is for the kNN and rule models, not %s", a->model);
    if (a->tc.select == SBR_SELECT_BEST_TEST && !a->tc.eval_test)
        sbr_usage_error("--select best-test needs the test split ranked: drop --no-test");
    clip_options(a);
    unsigned needs = sbr_model_needs(a->model);
    if ((needs & SBR_NEEDS_GLOBAL) && !a->graph)
        sbr_usage_error("--model %s needs its global graph: --graph FILE (sbr-graph --kind window)",
                        a->model);
    if (!(needs & SBR_NEEDS_GLOBAL) && a->graph)
        sbr_usage_error("--graph is for models with a global graph (gcegnn, dmignn), not %s",
                        a->model);
}

/* The model's options: its defaults, the preset, then the options given;
 * misuse (exit 2) for an option the model lacks or a value out of range. */
static void model_options(const args *a, sbr_model_cfg *cfg)
{
    sbr_err e;
    const sbr_model_def *def = sbr_model_def_for(a->model, SBR_PREC_F32);
    if (sbr_cfg_preset(cfg, def->presets, a->preset, &e))
        sbr_usage_error("--preset: %s", e.msg);
    for (int k = 0; k < a->n_given; k++) {
        char flag[64];
        sbr_opt_flag(a->given_name[k], flag, sizeof flag);
        if (sbr_cfg_find(cfg, a->given_name[k]) < 0) {
            fprintf(stderr, "%s: --%s is not an option of %s (it is of:", sbr_tool(), flag, a->model);
            sbr_model_help_option_owners(stderr, a->given_name[k]);
            sbr_knn_help_option_owners(stderr, a->given_name[k]);
            fprintf(stderr, "); sbr-train --help-model %s lists %s's\n", a->model, a->model);
            exit(SBR_EXIT_USAGE);
        }
        if (sbr_cfg_parse(cfg, a->given_name[k], a->given_text[k], &e))
            sbr_usage_error("%s", e.msg);
    }
}

static void model_config(const args *a, const sbr_sessions *s, const sbr_clusters *cl,
                         sbr_model_cfg *cfg)
{
    sbr_model_defaults(a->model, cfg);
    model_options(a, cfg);
    cfg->seed = a->seed;
    cfg->n_items = (int)s->n_items;
    cfg->n_clusters = cl ? (int)cl->n_clusters : 0;
    cfg->prompt_norm = a->prompt_norm;
    cfg->user_prompts = a->user_prompts;
    cfg->has_gate_bias = a->gate_bias_given;
    cfg->gate_bias = a->gate_bias;
    int ml = sbr_cfg_find(cfg, "max_len");
    if (ml >= 0 && cfg->opt[ml] == 0) { /* all: the longest prefix of any split */
        int64_t longest = 1;
        for (int k = 0; k < SBR_NSPLITS; k++)
            for (int64_t i = 0; i < s->split[k].n_sessions; i++) {
                int64_t len = s->split[k].offsets[i + 1] - s->split[k].offsets[i];
                longest = len > longest ? len : longest;
            }
        cfg->opt[ml] = (double)(longest < 100000 ? longest : 100000);
    }
}

/* A checkpoint to resume must be of this model with these options, seed and
 * task (its selection so far was made under its task). */
static void check_resume(const args *a, const sbr_tfile *f, const sbr_model_cfg *rc,
                         const sbr_model_cfg *cfg)
{
    sbr_task task;
    sbr_err e;
    if (sbr_task_of_file(f, &task, &e))
        sbr_fatal("%s: %s", a->resume, e.msg);
    if (task != a->tc.task)
        sbr_fatal("%s: a checkpoint of the %s task; this run asks for %s", a->resume,
                  sbr_task_name(task), sbr_task_name(a->tc.task));
    if (strcmp(rc->model, cfg->model) || rc->n_items != cfg->n_items ||
        rc->n_clusters != cfg->n_clusters || rc->n_users != cfg->n_users)
        sbr_fatal("%s: a checkpoint of another model or data (%s, %d items, %d clusters)",
                  a->resume, rc->model, rc->n_items, rc->n_clusters);
    if (rc->prompt_norm != cfg->prompt_norm)
        sbr_fatal("%s: a checkpoint with --prompt-norm %s; this run asks for %s", a->resume,
                  sbr_prompt_norm_names[rc->prompt_norm], sbr_prompt_norm_names[cfg->prompt_norm]);
    if (rc->seed != cfg->seed) /* the order of the epochs to come and their dropout masks */
        sbr_fatal("%s: a checkpoint of seed %llu; this run asks for %llu", a->resume,
                  (unsigned long long)rc->seed, (unsigned long long)cfg->seed);
    for (int i = 0; cfg->opts[i].name; i++)
        if (rc->opt[i] != cfg->opt[i]) {
            char was[64], now[64];
            sbr_opt_format(&cfg->opts[i], rc->opt[i], was, sizeof was);
            sbr_opt_format(&cfg->opts[i], cfg->opt[i], now, sizeof now);
            sbr_fatal("%s: a checkpoint with %s %s; this run asks for %s", a->resume,
                      cfg->opts[i].name, was, now);
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
        full += m->gtab_n[i] == m->global_k;
    }
    sbr_info("global graph: %lld items with %d neighbours, %lld with fewer, %lld with none "
             "(their global aggregate is 0)", (long long)full, m->global_k,
             (long long)(s->n_items - full - none), (long long)none);
    sbr_graph_free(&g);
}

/* --users 1: the users of the training split who log in (the model's
 * user_fraction of them), into cfg->n_users and *ids. */
static int64_t collect_users(const args *a, const sbr_sessions *s, sbr_model_cfg *cfg,
                             int64_t **ids)
{
    *ids = NULL;
    int bias = sbr_cfg_find(cfg, "users") >= 0 && sbr_cfg_int(cfg, "users");
    if (!bias && !cfg->user_prompts)
        return 0;
    const char *why = bias ? "--users 1" : "--prompts with u";
    const sbr_split *tr = &s->split[SBR_TRAIN];
    if (!tr->users)
        sbr_usage_error("%s: %s, but its sessions carry no user ids (sbr-prep keeps them "
                        "from logs with a user column)", a->sessions, why);
    double frac = sbr_cfg_get_or(cfg, "user_fraction", 1);
    int64_t n = sbr_users_collect(tr, frac, cfg->seed, ids);
    if (n == 0)
        sbr_usage_error("%s: %s, but no training session has a user%s", a->sessions, why,
                        frac < 1 ? " who logs in at this --user-fraction" : "");
    if (n > (1 << 30))
        sbr_fatal("%s: %lld users: more than the model takes", a->sessions, (long long)n);
    cfg->n_users = (int)n;
    return n;
}

static void report_users(const sbr_model *m, const sbr_sessions *s)
{
    int64_t c[3];
    sbr_users_count(m, &s->split[SBR_TRAIN], c);
    sbr_info("users: %d log in (user_fraction %g); training sessions: %lld of theirs, %lld of "
             "users who do not log in, %lld anonymous", m->cfg.n_users,
             sbr_cfg_get_or(&m->cfg, "user_fraction", 1), (long long)c[0], (long long)c[1],
             (long long)c[2]);
}

static void write_model(const args *a, sbr_model *m, const sbr_sessions *s,
                        const sbr_clusters *cl, const sbr_train_state *st,
                        const sbr_train_cfg *tc)
{
    sbr_tw *w = sbr_tw_new("sbr.model");
    sbr_model_add_to(m, w, 0);
    sbr_train_state_meta(st, tc, w);
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

/* The model of cfg on dev, with its global graph and its users. */
static void build_model(const args *a, const sbr_sessions *s, const sbr_model_cfg *cfg,
                        sbr_device dev, const int64_t *user_ids, sbr_model *m)
{
    sbr_err e;
    if (sbr_model_create(m, cfg, dev == SBR_DEV_CUDA ? SBR_PREC_CUDA : SBR_PREC_F32, a->tc.batch,
                         (int)sbr_cfg_get_or(cfg, "max_len", 1), &e))
        sbr_fatal("%s", e.msg);
    if (a->graph)
        load_graph(a, m, s);
    if (cfg->n_users && sbr_model_set_users(m, user_ids, cfg->n_users, &e))
        sbr_fatal("%s: %s", a->sessions, e.msg);
    if (m->def->needs & SBR_NEEDS_POOL) { /* a pool too small is the options' fault: misuse */
        const sbr_split *tr = &s->split[SBR_TRAIN];
        if (sbr_model_pool_draw(m, tr, s->min_prefix, &e))
            sbr_usage_error("%s: %s", a->sessions, e.msg);
        sbr_info("context pool: %lld pairs, one per drawn training session (%.3g of %lld), "
                 "their vectors recomputed after every epoch", (long long)m->pool.n,
                 m->pool_fraction, (long long)tr->n_sessions);
    }
}

static void report_selected(const sbr_train_cfg *tc, const sbr_train_state *st)
{
    static const char *const how[4] = {"validation", "best test: peeks at the test set",
                                       "validation", "refit: the last"};
    char stop[48] = "";
    if (st->stopped_early)
        snprintf(stop, sizeof stop, ", stopped early");
    else if (st->stopped_by)
        snprintf(stop, sizeof stop, ", stopped by the %s", st->stopped_by);
    sbr_info("%sselected epoch %d of %d (%s)%s; %.0f s, peak memory %.0f MiB",
             tc->phase ? "refit: " : "", st->best_epoch, st->epoch, how[tc->select], stop,
             st->seconds, (double)sbr_peak_rss() / (1 << 20));
}

/* --select refit: a fresh model (the same seed) trained on train + valid for
 * the epochs st selected, into m and st; its sessions into *merged. */
static void refit(const args *a, const sbr_sessions *s, sbr_sessions *merged,
                  const sbr_model_cfg *cfg, sbr_device dev, const int64_t *user_ids,
                  const sbr_clip_map *clip, sbr_train_cfg *tc, sbr_model *m, sbr_train_state *st)
{
    sbr_err e;
    if (st->best_epoch < 1)
        sbr_fatal("%s: refit: no epoch was selected", a->sessions);
    if (sbr_sessions_refit(s, merged, &e))
        sbr_fatal("%s: %s", a->sessions, e.msg);
    int epochs = st->best_epoch;
    sbr_eval_result valid = st->valid[0];
    sbr_info("refit: %d epochs selected on validation; a fresh model trained on train + valid "
             "(%lld samples) for as many, the test split ranked after the last",
             epochs, (long long)sbr_samples_count(&merged->split[SBR_TRAIN], merged->min_prefix));
    sbr_model_free(m);
    build_model(a, merged, cfg, dev, user_ids, m);
    tc->epochs = epochs;
    tc->select = SBR_SELECT_LAST;
    tc->phase = "refit";
    tc->eval_test = 0; /* the test split once, after the last epoch (select LAST) */
    tc->checkpoint = NULL; /* the checkpoints are the first pass's */
    if (sbr_train(m, merged, clip, tc, st, NULL, &e))
        sbr_fatal("%s: refit: %s", a->sessions, e.msg);
    st->valid[0] = valid; /* the validation figures the epochs were selected on */
    report_selected(tc, st);
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
    if (sbr_knn_def_for(a.model)) {
        sbr_set_threads(a.threads);
        sbr_train_knn(&(sbr_knn_train_args){a.sessions, a.out, a.log, a.model, a.seed, a.tune,
                                            a.tc.select_mrr, a.tc.select == SBR_SELECT_REFIT,
                                            a.tc.task, a.n_given, a.given_name, a.given_text,
                                            a.clusters, a.graph, a.resume, a.preset});
        return SBR_EXIT_OK;
    }
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
    int64_t *user_ids;
    collect_users(&a, &s, &cfg, &user_ids);
    sbr_model m;
    cfg.chunk = a.tc.chunk;
    cfg.max_k = 20; /* evaluation lists */
    build_model(&a, &s, &cfg, dev, user_ids, &m);
    if (cfg.n_users)
        report_users(&m, &s);
    sbr_info("%s%s%s%s: %lld items, d %d, %lld parameters; %lld training samples", cfg.model,
             cfg.preset[0] ? " --preset " : "", cfg.preset, clp ? " + CLIP-SBR prompts" : "",
             (long long)cfg.n_items, m.d,
             (long long)sbr_arena_numel(&m.params),
             (long long)sbr_samples_count(&s.split[SBR_TRAIN], s.min_prefix));
    sbr_tfile resume, *rp = NULL;
    if (a.resume) {
        if (sbr_tfile_read(a.resume, &resume, &e))
            sbr_fatal("%s: %s", a.resume, e.msg);
        sbr_model_cfg rc;
        if (sbr_model_read_cfg(&resume, &rc, &e))
            sbr_fatal("%s: %s", a.resume, e.msg);
        check_resume(&a, &resume, &rc, &cfg);
        rp = &resume;
    }
    if (sbr_task_excludes(a.tc.task))
        sbr_info("task next-unseen: each evaluation drops the samples whose target is in their "
                 "prefix and ranks without the prefix's items");
    FILE *log = a.log ? sbr_cli_log_open(a.log, rp != NULL) : NULL;
    a.tc.log = log;
    a.tc.checkpoint = a.checkpoint;
    sbr_clip_map cm = {clp ? clp->cluster : NULL, clp ? clp->frequent : 0};
    sbr_train_state st;
    signal(SIGUSR1, on_usr1);
    if (sbr_train(&m, &s, clp ? &cm : NULL, &a.tc, &st, rp, &e))
        sbr_fatal("%s: %s", a.resume && strstr(e.msg, "tensor") ? a.resume : a.sessions, e.msg);
    report_selected(&a.tc, &st);
    sbr_train_cfg tc = a.tc;
    sbr_sessions merged = {0};
    if (a.tc.select == SBR_SELECT_REFIT)
        refit(&a, &s, &merged, &cfg, dev, user_ids, clp ? &cm : NULL, &tc, &m, &st);
    if (log)
        sbr_cli_log_close(log, a.log);
    write_model(&a, &m, &s, clp, &st, &tc);
    sbr_model_free(&m);
    sbr_sessions_free(&merged);
    free(user_ids);
    return SBR_EXIT_OK;
}
