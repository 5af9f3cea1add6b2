/* The kNN and rule methods: their options (session-rec's names and
 * defaults), the ranges --tune draws from, and sbr-train's help on them. */
#include <string.h>

#include "knn/knn.h"

static const char *const samplings[] = {"recent", "random", NULL};
static const char *const similarities[] = {"jaccard", "cosine", "tanimoto", "binary", NULL};
/* session-rec's decay functions (vsknn.py, sr.py); docs/MODELS.md */
static const char *const decays[] = {"same", "div", "linear", "log", "quadratic", NULL};

#define OPT_K SBR_OPT_I("k", 100, 1, 1e6, "neighbour sessions whose items are scored")
#define OPT_SAMPLE(def) \
    SBR_OPT_I("sample_size", def, 0, 1e9, \
              "candidate sessions (sharing an item with the prefix) kept, 0: all")
#define OPT_SAMPLING \
    SBR_OPT_C("sampling", 0, samplings, \
              "which candidates are kept: the most recent, or random (seeded per prefix)")
#define OPT_REMIND SBR_OPT_I("remind", 1, 0, 1, "1: the prefix's own items may be recommended")
#define OPT_PRUNING \
    SBR_OPT_R("pruning", 20, 0, 1e6, \
              "rules kept per item: N >= 1 the N best, a fraction < 1 drops that share, 0 all")
#define OPT_TOPN(def) \
    SBR_OPT_I("top_n", def, 0, 1e9, "only the N most clicked items score their popularity (0: all)")

static const sbr_opt sknn_opts[] = {
    OPT_K, OPT_SAMPLE(500), OPT_SAMPLING,
    SBR_OPT_C("similarity", 0, similarities, "of the prefix's and a session's item sets"),
    {0}};
static const sbr_opt vsknn_opts[] = {
    OPT_K, OPT_SAMPLE(500), OPT_SAMPLING,
    SBR_OPT_C("weighting", 1, decays, "weight of a prefix position in the similarity (div: i/n)"),
    SBR_OPT_C("weighting_score", 1, decays,
              "weight of a neighbour by how recent its latest shared prefix click is (div: 1/step)"),
    SBR_OPT_R("idf_weighting", 0, 0, 1000, "an item's score times 1 + idf * X (0: off)"),
    OPT_REMIND, {0}};
#define STAN_OPTS                                                                          \
    OPT_K, OPT_SAMPLE(5000), OPT_SAMPLING,                                                 \
        SBR_OPT_R("lambda_spw", 1.02, 0, 1000,                                             \
                  "lambda1: prefix position i weighs exp((i - n) / X) (0: off)"),          \
        SBR_OPT_R("lambda_snh", 5, 0, 1e6,                                                 \
                  "lambda2, days: a neighbour weighs exp(-age / X) (0: off)"),             \
        SBR_OPT_R("lambda_inh", 2.05, 0, 1000,                                             \
                  "lambda3: an item X positions from the shared one weighs exp(-d / X) (0: off)"), \
        OPT_REMIND
static const sbr_opt stan_opts[] = {STAN_OPTS, {0}};
static const sbr_opt vstan_opts[] = {
    STAN_OPTS,
    SBR_OPT_R("lambda_ipw", 1.02, 0, 1000,
              "a neighbour weighs exp((p - n) / X), p its latest shared prefix click (0: off)"),
    SBR_OPT_R("lambda_idf", 5, 0, 1000, "an item's score times 1 + idf * X (0: off)"),
    {0}};
static const sbr_opt ar_opts[] = {OPT_PRUNING, {0}};
static const sbr_opt sr_opts[] = {
    SBR_OPT_I("steps", 10, 1, 1000, "a click counts towards the clicks up to N steps before it"),
    SBR_OPT_C("weighting", 1, decays, "weight of a rule i steps apart (div: 1/i)"),
    OPT_PRUNING, {0}};
static const sbr_opt markov_opts[] = {OPT_PRUNING, {0}};
static const sbr_opt pop_opts[] = {OPT_TOPN(0), {0}};
static const sbr_opt spop_opts[] = {OPT_TOPN(100), {0}};

#define TUNE_NEIGH {"k", 20, 1500, 1}, {"sample_size", 100, 10000, 1}, {"sampling", 0, 1, 0}
static const sbr_knn_tune_range sknn_tune[] = {TUNE_NEIGH, {"similarity", 0, 3, 0}, {0}};
static const sbr_knn_tune_range vsknn_tune[] = {
    TUNE_NEIGH, {"weighting", 0, 4, 0}, {"weighting_score", 0, 4, 0},
    {"idf_weighting", 0, 10, 0}, {"remind", 0, 1, 0}, {0}};
#define TUNE_STAN                                                                     \
    TUNE_NEIGH, {"lambda_spw", 0.1, 10, 1}, {"lambda_snh", 1, 100, 1},                \
        {"lambda_inh", 0.1, 10, 1}, {"remind", 0, 1, 0}
static const sbr_knn_tune_range stan_tune[] = {TUNE_STAN, {0}};
static const sbr_knn_tune_range vstan_tune[] = {
    TUNE_STAN, {"lambda_ipw", 0.1, 10, 1}, {"lambda_idf", 0, 10, 0}, {0}};
static const sbr_knn_tune_range ar_tune[] = {{"pruning", 0, 100, 0}, {0}};
static const sbr_knn_tune_range sr_tune[] = {
    {"steps", 1, 20, 0}, {"weighting", 0, 4, 0}, {"pruning", 0, 100, 0}, {0}};
static const sbr_knn_tune_range pop_tune[] = {{"top_n", 0, 1000, 0}, {0}};

#define LJ18 "Ludewig & Jannach 2018, Evaluation of session-based recommendation algorithms, UMUAI 28"
static const sbr_knn_def defs[] = {
    {"sknn", "session-kNN: items of the k most similar past sessions",
     "Jannach & Ludewig 2017 (RecSys), as in " LJ18 "; session-rec knn/sknn.py",
     SBR_KNN_NEIGHBOURS, sknn_opts, sknn_tune},
    {"vsknn", "V-SKNN: session-kNN weighting recent prefix clicks, and IDF",
     LJ18 "; session-rec knn/vsknn.py", SBR_KNN_NEIGHBOURS, vsknn_opts, vsknn_tune},
    {"stan", "STAN: session-kNN with three recency/position decays",
     "Garg et al. 2019, Sequence and time aware neighborhood for session-based "
     "recommendations (SIGIR); session-rec knn/stan.py",
     SBR_KNN_NEIGHBOURS, stan_opts, stan_tune},
    {"vstan", "V-STAN: STAN with V-SKNN's neighbour decay and IDF",
     "Ludewig et al. 2021, Empirical analysis of session-based recommendation algorithms, "
     "UMUAI 31; session-rec knn/vstan.py",
     SBR_KNN_NEIGHBOURS, vstan_opts, vstan_tune},
    {"ar", "association rules: co-occurrence counts with the last click",
     LJ18 "; session-rec baselines/ar.py", SBR_KNN_RULES, ar_opts, ar_tune},
    {"sr", "sequential rules: the clicks that followed the last click, decayed",
     "Kamehkhosh et al. 2017 (TempRec), as in " LJ18 "; session-rec baselines/sr.py",
     SBR_KNN_RULES, sr_opts, sr_tune},
    {"markov", "first-order Markov chain: the clicks that came right after the last",
     LJ18 "; session-rec baselines/markov.py", SBR_KNN_RULES, markov_opts, ar_tune},
    {"pop", "popularity: the most clicked training items",
     LJ18 "; session-rec baselines/pop.py", SBR_KNN_POP, pop_opts, pop_tune},
    {"spop", "session popularity: the prefix's items by their clicks in it, then pop",
     LJ18 "; session-rec baselines/spop.py", SBR_KNN_POP, spop_opts, pop_tune},
};
#define N_DEFS (int)(sizeof defs / sizeof defs[0])

const char *const sbr_knn_names[] = {"sknn", "vsknn", "stan",  "vstan", "ar",
                                     "sr",   "markov", "pop", "spop",  NULL};

const sbr_knn_def *sbr_knn_def_for(const char *name)
{
    for (int i = 0; name && i < N_DEFS; i++)
        if (strcmp(defs[i].name, name) == 0)
            return &defs[i];
    return NULL;
}

int sbr_knn_defaults(const char *name, sbr_model_cfg *c)
{
    const sbr_knn_def *d = sbr_knn_def_for(name);
    memset(c, 0, sizeof *c);
    if (!d)
        return -1;
    snprintf(c->model, sizeof c->model, "%s", d->name);
    c->opts = d->opts;
    for (int i = 0; d->opts[i].name; i++)
        c->opt[i] = d->opts[i].def;
    c->seed = 1;
    return 0;
}

void sbr_knn_help_list(FILE *out)
{
    for (int i = 0; i < N_DEFS; i++)
        fprintf(out, "        %-9s %s\n", defs[i].name, defs[i].about);
}

int sbr_knn_option_names(const char **names, int cap)
{
    int n = 0;
    for (int i = 0; i < N_DEFS; i++)
        for (const sbr_opt *o = defs[i].opts; o->name; o++) {
            int k = 0;
            while (k < n && strcmp(names[k], o->name) != 0)
                k++;
            if (k == n && n < cap)
                names[n++] = o->name;
        }
    return n;
}

void sbr_knn_help_option_owners(FILE *out, const char *name)
{
    for (int i = 0; i < N_DEFS; i++)
        for (const sbr_opt *o = defs[i].opts; o->name; o++)
            if (strcmp(o->name, name) == 0)
                fprintf(out, " %s", defs[i].name);
}

void sbr_knn_help_options(FILE *out)
{
    const char *names[64];
    int n = sbr_knn_option_names(names, 64);
    sbr_opt_help_list(out, names, n, sbr_knn_help_option_owners);
}

static void help_tune(FILE *out, const sbr_knn_def *d)
{
    fprintf(out, "\n--tune N draws each of these uniformly (log: log-uniformly) from:\n");
    for (const sbr_knn_tune_range *t = d->tune; t->name; t++) {
        const sbr_opt *o = d->opts;
        while (strcmp(o->name, t->name) != 0)
            o++;
        if (o->type == SBR_OPT_CHOICE) {
            char r[128];
            sbr_opt_range(o, r, sizeof r);
            fprintf(out, "  %-16s %s\n", t->name, r);
        } else
            fprintf(out, "  %-16s %g..%g%s\n", t->name, t->lo, t->hi, t->log ? " (log)" : "");
    }
}

int sbr_knn_help(FILE *out, const char *name)
{
    const sbr_knn_def *d = sbr_knn_def_for(name);
    if (!d)
        return -1;
    fprintf(out, "%s: %s\n  %s\n", d->name, d->about, d->paper);
    fprintf(out, "  No parameters are learned: sbr-train indexes the training split (no epochs),\n"
                 "  sbr-infer ranks the full catalogue on the CPU; --tune N searches the options\n"
                 "  on the validation split. docs/MODELS.md, \"Session-kNN and rule baselines\".\n");
    fprintf(out, "\nOptions (--NAME VALUE; session-rec's defaults; every value is written into "
                 "the model file):\n");
    fprintf(out, "  %-22s %-10s %-16s %s\n", "option", "default", "range", "");
    for (const sbr_opt *o = d->opts; o->name; o++) {
        char flag[64], def[64], range[128];
        sbr_opt_flag(o->name, flag, sizeof flag);
        snprintf(flag + strlen(flag), sizeof flag - strlen(flag), " %s", sbr_opt_type_word(o));
        sbr_opt_format(o, o->def, def, sizeof def);
        sbr_opt_range(o, range, sizeof range);
        fprintf(out, "  --%-20s %-10s %-16s %s\n", flag, def, range, o->help);
    }
    help_tune(out, d);
    return 0;
}
