/* The training loop: epochs over the prefix samples of the training split,
 * shuffled per epoch with the seed; evaluation on the validation split (and
 * the test split) after each epoch; model selection; learning-rate decay;
 * early stopping; checkpoints that resume bit-identically on the CPU. */
#ifndef SBR_MODEL_TRAIN_H
#define SBR_MODEL_TRAIN_H

#include <signal.h>
#include <stdio.h>

#include "metrics.h"
#include "model/batch.h"
#include "model/model.h"
#include "sessions.h"

/* VALID: the epoch of the best validation metric. BEST_TEST: the papers'
 * practice (peeks at the test set). REFIT: as VALID, then sbr-train trains
 * a fresh model on train + valid for the selected number of epochs
 * (sbr_sessions_refit), that pass under LAST: every epoch kept in turn, no
 * validation, the test split ranked once, after the last epoch. */
typedef enum {
    SBR_SELECT_VALID = 0,
    SBR_SELECT_BEST_TEST = 1,
    SBR_SELECT_REFIT = 2,
    SBR_SELECT_LAST = 3
} sbr_select;

typedef struct {
    int epochs, patience, batch;
    double lr, l2, lr_gamma, clip;
    double l2_prompt, l2_gate; /* CLIP-SBR's prompts' and gates' L2 (< 0: l2) */
    int lr_step, adamw, chunk;
    sbr_select select;
    int select_mrr;      /* select on MRR@20 (else HR@20) */
    int eval_test;       /* evaluate the test split after every epoch */
    sbr_task task;       /* what the evaluations rank and count (task.h); selection uses them */
    int max_steps;       /* stop after this many steps in total (0: no limit; tests) */
    double max_seconds;  /* stop after the epoch that ends past this much training (0: none) */
    const char *checkpoint; /* write the full state here after every epoch */
    FILE *log;           /* one line per epoch, or NULL */
    const char *phase;   /* written into every log line ("refit"), or NULL */
} sbr_train_cfg;

/* Metrics of one evaluation: HR, MRR, NDCG at 5/10/20, Cov@20. */
typedef struct {
    int done;
    sbr_metrics m;
} sbr_eval_result;

typedef struct {
    int epoch;              /* epochs completed */
    int best_epoch;         /* selected epoch (1-based), 0 when none */
    double best_score;
    sbr_eval_result valid[1], test[1]; /* at the selected epoch */
    sbr_eval_result best_test;         /* best test HR@20 / MRR@20 over epochs (each its max) */
    double best_test_hr, best_test_mrr;
    int stopped_early;      /* patience ran out */
    const char *stopped_by; /* "time limit" or "SIGUSR1" when one stopped it, else NULL */
    int64_t steps;
    double seconds;
} sbr_train_state;

/* Set (by a signal handler) to ask sbr_train to stop after the epoch in
 * progress, as if patience had run out: the selected model is still kept. */
extern volatile sig_atomic_t sbr_train_stop_requested;

/* Trains m on s; on return m holds the parameters of the selected epoch.
 * resume: a checkpoint tfile (or NULL) to continue from. */
int sbr_train(sbr_model *m, const sbr_sessions *s, const sbr_clip_map *clip,
              const sbr_train_cfg *tc, sbr_train_state *st, const sbr_tfile *resume, sbr_err *e);

/* Writes the training state (epoch, selection, task, the evaluations'
 * dropped repeats) into a model file's metadata. */
void sbr_train_state_meta(const sbr_train_state *st, const sbr_train_cfg *tc, sbr_tw *w);

#endif
