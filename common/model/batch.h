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
    /* build what only a backward reads (the transposes' weights, the grouped
     * ids): 1 from sbr_batch_buf_init; evaluation turns it off */
    int backward;
    size_t elem;       /* size of an edge weight: 4 or 8 */
    int32_t *buf;      /* all int32 arrays, one allocation */
    int32_t *ord_spare; /* [B*L] in buf: the spare of group_ids' sort */
    void *wbuf;        /* edge weights */
    /* GCE-GNN's inputs (sbr_batch_buf_model): the four-type session graph
     * and the global neighbours from the model's table. */
    int local4;
    int K;                        /* neighbours per node (0: no global graph) */
    const int32_t *tab_nbr, *tab_n; /* the model's table [rows, K], [rows] */
    const float *tab_w;
    int64_t tab_rows;
    int32_t *xbuf;     /* le_*, gids, cgids, gn */
    void *xwbuf;       /* gw, flen */
} sbr_batch_buf;

/* max_L: the longest prefix a batch may hold (the model's max_len). */
void sbr_batch_buf_init(sbr_batch_buf *bb, int max_B, int max_L, int graph, size_t elem);
void sbr_batch_buf_free(sbr_batch_buf *bb);
/* Prepares the buffer for what model m reads beyond the plain batch (the
 * session graphs, GCE-GNN's four-type graph, the global neighbours of its
 * table); call after init. */
void sbr_batch_buf_model(sbr_batch_buf *bb, const sbr_model *m);

/* Cluster ids for CLIP-SBR prompts: cluster [n_items + 1] of the training
 * items; items unseen in training take a cluster by the rule of
 * common/unseen.h (their session's known items, else `frequent`). */
typedef struct {
    const int32_t *cluster;
    int32_t frequent;
} sbr_clip_map;

/* Fills the batch with samples order[0..B) of smp (a split's samples).
 * Prefixes longer than max_L keep their last max_L items; items above
 * n_items become 0 (no embedding; with clip their position still gets a
 * cluster prompt); targets are copied as they are. clip may be NULL. */
void sbr_batch_fill(sbr_batch_buf *bb, const sbr_split *sp, const sbr_samples *smp,
                    const int64_t *order, int B, int n_items, const sbr_clip_map *clip);

/* A batch where the model computes: for the CPU precisions the host batch
 * itself, for CUDA a device copy (one device allocation, reused). Once the
 * feeder knows the model (sbr_feeder_model), from its second batch on a CUDA
 * batch is packed into one of two page-locked staging buffers and sent in one copy queued on the
 * model's stream: the host fills the next batch while the GPU still runs
 * the last step (the copy waits for it in stream order), and a staging
 * buffer is refilled only after its copy has completed. */
typedef struct {
    sbr_batch_buf host;
    sbr_prec prec;
    sbr_batch dev;
    void *dev_mem;
    size_t dev_bytes;
    sbr_nn_ctx *ctx;     /* the model's (CUDA): stream of the async copies */
    int64_t fills;       /* batches filled so far (staging starts at the second) */
    char *stage[2];      /* page-locked [dev_bytes] each, or NULL: sync copies */
    void *stage_done[2]; /* events: stage[k]'s last copy has completed */
    int stage_next;
    char *stage_cur;     /* the buffer being packed by this fill */
} sbr_feeder;

void sbr_feeder_init(sbr_feeder *f, sbr_prec prec, int max_B, int max_L, int graph);
void sbr_feeder_free(sbr_feeder *f);
/* sbr_batch_buf_model for the feeder's host batch (and its device copy). */
void sbr_feeder_model(sbr_feeder *f, const sbr_model *m);
/* Fills (as sbr_batch_fill) and returns the batch on the model's device. */
const sbr_batch *sbr_feeder_fill(sbr_feeder *f, const sbr_split *sp, const sbr_samples *smp,
                                 const int64_t *order, int B, int n_items,
                                 const sbr_clip_map *clip);
/* The same for a batch filled elsewhere (sbr_batch_fill on a buffer set up
 * like the feeder's: init and sbr_batch_buf_model with the same sizes and
 * model). The CPU precisions compute on hb itself, so it must stay as it is
 * until the step is done; on CUDA it is copied out before this returns. */
const sbr_batch *sbr_feeder_put(sbr_feeder *f, const sbr_batch_buf *hb);

#endif
