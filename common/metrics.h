/* Ranking metrics over full-catalogue top-K lists, one target per sample:
 * HR@K (the papers' P@K / Recall@K), MRR@K, NDCG@K, Cov@K; overall and by
 * prefix length. For lists with their uncertainty (sbr-infer --uncertainty:
 * entropy and top-1 probability per sample), the metrics by entropy decile
 * and the calibration of the top-1 probability; for a sampling model's lists
 * (NP-MiSR: the spread of its K sampled session vectors) also by spread
 * decile. */
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

#define SBR_UNC_GROUPS 10 /* deciles; equal-width bins of the top-1 probability */

/* One decile by a key (the entropy, or the spread): the scored samples ranked
 * by the key (lowest first, ties by row), group g holding ranks
 * [g n / 10, (g + 1) n / 10). */
typedef struct {
    int64_t n;
    double key_min, key_max, key_mean; /* the key's: nats, or a distance */
    double top1_mean;                  /* mean top-1 probability, in [0, 1] */
    sbr_metric_row at[SBR_MAX_CUTOFFS];
} sbr_unc_decile;

/* One bin of the top-1 probability p: [g / 10, (g + 1) / 10), the last
 * closed at 1. conf: the bin's mean p; acc: the share of its samples whose
 * first item is the target. */
typedef struct {
    int64_t n;
    double conf, acc;
} sbr_unc_bin;

typedef struct {
    int64_t n; /* samples scored (the task's drops as in sbr_metrics) */
    sbr_unc_decile dec[SBR_UNC_GROUPS]; /* by entropy */
    int has_spread;                      /* the lists carry a spread (t->spread) */
    sbr_unc_decile sdec[SBR_UNC_GROUPS]; /* by spread, when has_spread */
    sbr_unc_bin bin[SBR_UNC_GROUPS];
    /* expected calibration error sum_bins n_bin / n |acc - conf|, and the
     * overall top-1 accuracy (HR@1) and mean top-1 probability; in [0, 1] */
    double ece, acc, conf;
} sbr_unc_metrics;

/* For t with entropy and top1 (else -1 and u untouched), and by spread
 * when t has one. */
int sbr_unc_metrics_compute(const sbr_topk *t, const int *cutoffs, int n_cutoffs, sbr_task task,
                            sbr_unc_metrics *u);

#endif
