/* Ranking metrics over full-catalogue top-K lists, one target per sample:
 * HR@K (the papers' P@K / Recall@K), MRR@K, NDCG@K, Cov@K; overall and by
 * prefix length. */
#ifndef SBR_METRICS_H
#define SBR_METRICS_H

#include <stdint.h>

#include "topk.h"

#define SBR_MAX_CUTOFFS 8
#define SBR_LEN_BUCKETS 7 /* prefix lengths 1, 2, 3, 4, 5-6, 7-9, 10+ */

typedef struct {
    int64_t n;     /* samples counted */
    double hr, mrr, ndcg; /* means over samples, in [0, 1] */
} sbr_metric_row;

typedef struct {
    int n_cutoffs;
    int cutoffs[SBR_MAX_CUTOFFS];
    int64_t n_samples, n_skipped; /* skipped: repeat samples the task drops (task.h) */
    int64_t n_unseen_targets;     /* targets outside the catalogue (always misses) */
    sbr_metric_row all[SBR_MAX_CUTOFFS];
    double coverage[SBR_MAX_CUTOFFS]; /* distinct items in the top-K lists / n_items */
    sbr_metric_row by_len[SBR_LEN_BUCKETS][SBR_MAX_CUTOFFS];
} sbr_metrics;

extern const char *const sbr_len_bucket_names[SBR_LEN_BUCKETS];
int sbr_len_bucket(int prefix_len);

/* Under task next-unseen the repeat samples (t->repeat) are skipped and
 * counted in n_skipped (ProxySR's protocol, task.h). Cutoffs must be <= t->k. */
void sbr_metrics_compute(const sbr_topk *t, const int *cutoffs, int n_cutoffs, sbr_task task,
                         sbr_metrics *m);

#endif
