/* Session-kNN and rule baselines (issue #23): SKNN, V-SKNN, STAN, V-STAN,
 * association rules (AR), sequential rules (SR), a first-order Markov chain,
 * popularity (pop) and session popularity (spop), after session-rec
 * (rn5l/session-rec, Ludewig & Jannach 2018; Garg et al. 2019; Ludewig et
 * al. 2021). No parameters are learned: "training" builds an index of the
 * training split, written into the model file (kind sbr.model, model = the
 * method's name, docs/FORMAT.md), and ranking scores the full catalogue for
 * each prefix on the CPU. docs/MODELS.md, "Session-kNN and rule baselines".
 *
 * Ties: every ranking (neighbour sessions, items) orders by the higher score
 * first, then by the more recent session / the smaller item id. Items no
 * neighbour or rule reaches score 0 (pop and spop: their popularity) and
 * fill the list in that order, so a top-K list is always the first K of a
 * full-catalogue ranking. */
#ifndef SBR_KNN_H
#define SBR_KNN_H

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "model/options.h"
#include "sessions.h"
#include "tfile.h"
#include "topk.h"

typedef enum { SBR_KNN_NEIGHBOURS, SBR_KNN_RULES, SBR_KNN_POP } sbr_knn_family;

/* The range --tune draws an option from (log: log-uniform). */
typedef struct {
    const char *name;
    double lo, hi;
    int log;
} sbr_knn_tune_range;

typedef struct {
    const char *name, *about, *paper;
    sbr_knn_family family;
    const sbr_opt *opts;             /* {0}-terminated, as the neural models' */
    const sbr_knn_tune_range *tune;  /* {0}-terminated */
} sbr_knn_def;

extern const char *const sbr_knn_names[]; /* NULL-terminated */
const sbr_knn_def *sbr_knn_def_for(const char *name); /* NULL: not a kNN method */
/* Fills c with the method's name and defaults (c->opts = its options). */
int sbr_knn_defaults(const char *name, sbr_model_cfg *c);

/* sbr-train --help: the methods, one line each; the options they declare. */
void sbr_knn_help_list(FILE *out);
void sbr_knn_help_options(FILE *out);
int sbr_knn_option_names(const char **names, int cap); /* distinct, in order */
void sbr_knn_help_option_owners(FILE *out, const char *name);
/* sbr-train --help-model NAME; -1 when NAME is no kNN method. */
int sbr_knn_help(FILE *out, const char *name);

/* The index of a training split. Sessions are renumbered by recency: 0 is
 * the session whose last click is latest (ties, and every session when the
 * file has no timestamps: the later in the file first). Arrays either own
 * their memory or point into the model file they were read from. */
typedef struct {
    int64_t n_items, n_sessions;
    int has_time;          /* session times are Unix seconds (else: -rank) */
    int64_t *sess_off;     /* [S + 1] clicks of session s: sess_items[sess_off[s]..) */
    int32_t *sess_items;   /* click order */
    int64_t *sess_time;    /* [S] time of each session's last click */
    int64_t *set_off;      /* [S + 1] distinct items of s, ascending */
    int32_t *set_items;
    int64_t *inv_off;      /* [N + 2] sessions of item i: inv_sess[inv_off[i]..), ascending */
    int32_t *inv_sess;
    int64_t *clicks;       /* [N + 1] training clicks per item */
    /* rules (ar, sr, markov): item i's targets, best first */
    int64_t *rule_off;     /* [N + 2] */
    int32_t *rule_item;
    double *rule_w;
    int rules_owned;       /* the three above were built here (else: the file's) */
    /* derived at build or load, never stored */
    double *idf;           /* [N + 1] log(S / clicks) */
    double *base;          /* [N + 1] score of an item no neighbour/rule reaches */
    int32_t *base_order;   /* [N] items by base desc, id asc */
    int64_t t_end;         /* latest session time (prefixes without time) */
    void *owned[16];
    int n_owned;
} sbr_knn_index;

typedef struct {
    sbr_model_cfg cfg; /* model, options (cfg.opt), n_items, seed */
    const sbr_knn_def *def;
    sbr_knn_index ix;
} sbr_knn;

/* Builds the index of split sp for c's method (c->n_items set). -1 with e
 * set when the split has no session. */
int sbr_knn_build(sbr_knn *m, const sbr_model_cfg *c, const sbr_split *sp, sbr_err *e);
/* Rebuilds what depends on the options (rules, popularity) after cfg changed. */
void sbr_knn_refit(sbr_knn *m, const sbr_split *sp);
/* The model's metadata and tensors (the arrays must live until the write). */
void sbr_knn_add_to(const sbr_knn *m, sbr_tw *w);
/* A model file of a kNN method: 1 when f's "model" is one, else 0. */
int sbr_knn_is_model_file(const sbr_tfile *f);
/* Reads the method, options and index from a model file (f outlives m). */
int sbr_knn_read(sbr_knn *m, const sbr_tfile *f, sbr_err *e);
void sbr_knn_free(sbr_knn *m);

/* One prefix: items (ids > n_items are unknown: ignored), its last click's
 * time (-1: none; STAN's recency then counts from the end of training), and
 * an id that seeds random sampling (the sample's index). */
typedef struct {
    const int32_t *items;
    int len;
    int64_t time;
    uint64_t id;
} sbr_knn_query;

typedef struct sbr_knn_work sbr_knn_work;
sbr_knn_work *sbr_knn_work_new(const sbr_knn *m);
void sbr_knn_work_free(sbr_knn_work *w);
/* The K best items and scores of one prefix (exclude_seen: none of the
 * prefix's items, as task.h defines them). K <= n_items; fewer only when
 * exclusions empty the catalogue (items 0, scores 0 pad the rest). */
void sbr_knn_rank(const sbr_knn *m, sbr_knn_work *w, const sbr_knn_query *q, int K,
                  int exclude_seen, int32_t *items, float *scores);
/* Ranks every sample of a split for the task (threads over samples; results
 * do not depend on their number). Fills t as sbr_eval_split does (free with
 * sbr_eval_topk_free). */
void sbr_knn_eval_split(const sbr_knn *m, const sbr_split *sp, int min_prefix, int K,
                        sbr_task task, int progress, sbr_topk *t);

/* --tune: n settings (the first: the options as given; the rest drawn from
 * the method's ranges, options given on the command line held), each scored
 * on the validation split at HR@20 / MRR@20 under the task; m is left with
 * the best. The
 * table (one line per setting) is returned malloc'd for the metadata and
 * log. fixed[i]: option i was given (not drawn). */
typedef struct {
    int n;
    int by_mrr;       /* select on MRR@20 instead of HR@20 */
    const int *fixed; /* [number of options] */
    FILE *log;        /* one JSON line per setting, or NULL */
    sbr_task task;    /* what each setting is scored on */
} sbr_knn_tune_cfg;
char *sbr_knn_tune(sbr_knn *m, const sbr_sessions *s, const sbr_knn_tune_cfg *tc, sbr_err *e);

#endif
