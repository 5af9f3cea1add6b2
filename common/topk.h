/* Top-K files (kind "sbr.topk"), written by sbr-infer and read by sbr-score:
 * for each evaluated sample, the K best items with their scores, the target
 * and what the metrics need to know about the sample.
 *
 *   items      I32 [S, K]  internal item ids, best first; 0 pads a short list
 *   scores     F32 [S, K]  their scores (same order)
 *   targets    I32 [S]     the next item (> n_items: unseen in training, a miss)
 *   prefix_len I32 [S]     length of the session prefix
 *   repeat     U8  [S]     1 when the target already occurs in the prefix
 *                          (a repeat sample, task.h)
 * and with sbr-infer --uncertainty (optional: older files have neither, and
 * readers that do not know them skip them), of the softmax over the items
 * the list was ranked from:
 *   entropy    F32 [S]     its entropy in nats, 0 .. log n_items
 *   top1_prob  F32 [S]     its largest probability, that of the first item
 *                          (0 for an empty list)
 * and, for a model that samples its session vector (NP-MiSR: K latent
 * samples decoded and averaged), only with the two above:
 *   spread     F32 [S]     the spread of its K sampled session vectors h_k
 *                          around their mean S, as an RMS distance:
 *                          sqrt((1/K) sum_k |h_k - S|^2), >= 0
 * Metadata: n_items, k, split, exclude_seen (0/1), task, model. The task is
 * next-unseen exactly when the lists leave out the prefix's items
 * (exclude_seen 1): those lists are the next-unseen task's rankings, and
 * scored as standard every repeat would be a miss by construction. */
#ifndef SBR_TOPK_H
#define SBR_TOPK_H

#include <stdint.h>

#include "err.h"
#include "task.h"
#include "tfile.h"

typedef struct {
    int64_t n;        /* samples S */
    int k;            /* list length K */
    int64_t n_items;  /* catalogue size */
    int exclude_seen; /* prefix items were masked out of the ranking */
    sbr_task task;    /* what the lists were made for (the file's "task") */
    int32_t *items;   /* [n, k] */
    float *scores;    /* [n, k] */
    int32_t *targets; /* [n] */
    int32_t *prefix_len; /* [n] */
    uint8_t *repeat;  /* [n] */
    float *entropy;   /* [n] or NULL: the file has no uncertainty */
    float *top1;      /* [n] or NULL, with entropy */
    float *spread;    /* [n] or NULL: a sampling model's spread, with entropy */
    sbr_tfile file;   /* backing storage when read */
} sbr_topk;

/* Reads and validates a top-K file (kind, shapes, ids in 0..n_items, no id
 * twice in a row, padding only at the end of a row, finite scores in
 * non-increasing order, a task that agrees with exclude_seen; files written
 * before "task" existed take the one exclude_seen says; entropy and
 * top1_prob together or neither, finite, in their ranges; spread only with
 * them, finite and >= 0). */
int sbr_topk_read(const char *path, sbr_topk *t, sbr_err *e);
/* Adds the tensors and metadata of t to a writer. */
void sbr_topk_add_to(const sbr_topk *t, sbr_tw *w);
void sbr_topk_free(sbr_topk *t);

#endif
