/* The parts of a batch (batch.h), each with its capacity, its layout over
 * its own buffers, its builder and its upload. Internal to batch.c and
 * feeder.c: a new part adds its file and its four calls there. */
#ifndef SBR_MODEL_BATCH_PARTS_H
#define SBR_MODEL_BATCH_PARTS_H

#include "model/batch.h"

/* The nodes (batch_nodes.c): unique items of each prefix, packed. */
size_t sbr_nodes_ints(int B, int L);
void sbr_nodes_layout(sbr_batch_nodes *p, int32_t *buf, int B, int L);
void sbr_nodes_build(sbr_batch_nodes *p, const sbr_batch *b);
void sbr_nodes_upload(sbr_upload *u, sbr_batch_nodes *d, const sbr_batch *b);

/* SR-GNN's in/out adjacency (batch_adj.c). */
size_t sbr_adj_ints(int B, int L);
size_t sbr_adj_reals(int B, int L);
void sbr_adj_layout(sbr_batch_adj *p, int32_t *buf, void *w, size_t elem, int B, int L);
/* backward: also the transposes' weights (else in_tw = out_tw = NULL). */
void sbr_adj_build(sbr_batch_adj *p, const sbr_batch_nodes *nd, const sbr_batch *b, size_t elem,
                   int backward);
void sbr_adj_upload(sbr_upload *u, sbr_batch_adj *d, const sbr_batch_adj *h, int T);

/* GCE-GNN's four-type session graph (batch_local4.c). */
size_t sbr_local4_ints(int B, int L);
void sbr_local4_layout(sbr_batch_local4 *p, int32_t *buf, int B, int L);
void sbr_local4_build(sbr_batch_local4 *p, const sbr_batch_nodes *nd, const sbr_batch *b);
void sbr_local4_upload(sbr_upload *u, sbr_batch_local4 *d, const sbr_batch_local4 *h, int T);

/* The global neighbours (batch_global.c), from the model's table. */
typedef struct {
    int K;
    const int32_t *nbr, *n; /* [rows, K], [rows] */
    const float *w;         /* [rows, K] */
    int64_t rows;
} sbr_global_table;
size_t sbr_global_ints(int B, int L, int K);
size_t sbr_global_reals(int B, int L, int K);
void sbr_global_layout(sbr_batch_global *p, int32_t *buf, void *w, int B, int L, int K);
/* clusters: the items' clusters (CLIP) or NULL. */
void sbr_global_build(sbr_batch_global *p, const sbr_batch_nodes *nd, const sbr_global_table *t,
                      const int32_t *clusters, size_t elem);
void sbr_global_upload(sbr_upload *u, sbr_batch_global *d, int T, size_t elem);

#endif
