/* Full-catalogue evaluation of a model on a split: top-K lists for every
 * sample (what sbr-infer writes and what the trainer scores each epoch). */
#ifndef SBR_MODEL_EVAL_H
#define SBR_MODEL_EVAL_H

#include "model/batch.h"
#include "model/model.h"
#include "sessions.h"
#include "topk.h"

typedef struct {
    int K;            /* list length */
    int batch;        /* samples per forward */
    sbr_task task;    /* next-unseen: rank without the prefix's items (task.h) */
    int chunk;        /* items per score chunk */
    int progress;     /* show a progress line */
    /* Models with interests: when set, *interest_weights receives the
     * interest weights of every sample, [n, U, max_len] (0 past a prefix's
     * length; position j of the kept prefix), malloc'd. */
    float **interest_weights;
    /* 1: also the uncertainty of every sample's ranking (t->entropy, t->top1;
     * sbr_model_topk_unc), for models that have it (sbr_model_no_uncertainty);
     * for a model that samples its session vector (m->spread: NP-MiSR) also
     * its spread, t->spread, the RMS distance of the samples from their mean */
    int uncertainty;
} sbr_eval_cfg;

/* Ranks every sample of split sp (prefix rule min_prefix) with model m, for
 * ec->task; every sample is ranked and its repeat flag set, so that the
 * metrics (not the ranking) drop what the task drops, counting it. Fills t
 * with host arrays it owns (free with sbr_eval_topk_free). */
void sbr_eval_split(sbr_model *m, const sbr_split *sp, int min_prefix, const sbr_clip_map *clip,
                    const sbr_eval_cfg *ec, sbr_topk *t);
void sbr_eval_topk_free(sbr_topk *t);

#endif
