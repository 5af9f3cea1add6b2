/* The host side of a batch: turns samples of a session split into the
 * padded arrays and session graphs a model reads (sbr_batch in model.h). */
#ifndef SBR_MODEL_BATCH_H
#define SBR_MODEL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "model/model.h"
#include "sessions.h"

typedef struct {
    sbr_batch b;       /* host pointers into the buffers below */
    int max_B, max_L;  /* capacity */
    int graph;         /* build session graphs */
    size_t elem;       /* size of an edge weight: 4 or 8 */
    int32_t *buf;      /* all int32 arrays, one allocation */
    void *wbuf;        /* edge weights */
} sbr_batch_buf;

/* max_L: the longest prefix a batch may hold (the model's max_len). */
void sbr_batch_buf_init(sbr_batch_buf *bb, int max_B, int max_L, int graph, size_t elem);
void sbr_batch_buf_free(sbr_batch_buf *bb);

/* Fills the batch with samples order[0..B) of smp (a split's samples).
 * Prefixes longer than max_L keep their last max_L items; items above
 * n_items become 0; clusters [n_items + 1] (or NULL) gives the cluster of
 * each item for CLIP prompts; targets are copied as they are. */
void sbr_batch_fill(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                    const int64_t *order, int B, int n_items, const int32_t *clusters);

#endif
