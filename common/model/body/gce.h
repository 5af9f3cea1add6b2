/* GCE-GNN's context layer and positional part (body/gce.c), shared by
 * GCE-GNN and DMI-GNN (common/models/gcegnn.c, dmignn.c). Over the T
 * session nodes (each prefix's unique items, packed: b->nodes):
 *   one front call embeds the nodes' items and their K global neighbours;
 *   s    = mean of the prefix's click embeddings, per node (the session info)
 *   h^s  = edge_attn_local over the four-type session graph (LeakyReLU 0.2)
 *          of the node embeddings (DMI-GNN: L2-normalised first)
 *   h^g  = edge_attn_global: session-aware attention over the K neighbours
 *          (1 hop, q1 . LeakyReLU_0.2(W1 [s * h_n ; w_n])), relu(W2 [h_v ; agg])
 *   h    = dropout(h^g, dropout_hidden) + dropout(h^s, dropout)
 *   hs   = h gathered back to the clicks [B, L, d]
 * and the readouts' positional part z_j = tanh(W3 [P[len - 1 - j] ; hs_j]).
 * Not copied from the official code: it samples each item's neighbour list
 * to 12 with replacement (duplicates, and id-0 neighbours with a learned
 * embedding for items without any); here an item has its n <= K distinct
 * heaviest neighbours and the softmax runs over those n (n = 0: the
 * aggregate is 0). dropout_gcn (on [h_v ; agg] inside the aggregator)
 * reaches the op as a [T, 2d] table of factors drawn from the model's
 * dropout stream. docs/MODELS.md. */
#ifndef SBR_MODEL_BODY_GCE_H
#define SBR_MODEL_BODY_GCE_H

typedef struct {
    real *a;    /* [4, d] local.a: one attention vector per edge type */
    /* global.w1 [d, d + 1], global.q1 [d], global.w2 [d, 2d] */
    R(sbr_nn_edge_attn_global_w) agg;
    real *pos;  /* [max_len, d] read.pos: reversed positions */
    real *w3;   /* [d, 2d] read.w3 (no bias, as the official w_1) */
} R(sbr_gce_w);

typedef struct {
    R(sbr_front_act) front;   /* the front's use on the nodes and their neighbours */
    real *Xf;                 /* [T (1 + K), d] the nodes' vectors, then the neighbours' */
    real *Xs;                 /* [B L, d] the clicks' vectors */
    real *sm;                 /* [B, d] the session means */
    real *sT;                 /* [T, d] each node's session mean */
    real *hn, *nin;           /* [T, d], [T]: the nodes L2-normalised (DMI-GNN) */
    real *hin;                /* the local attention's input: hn, or the nodes' Xf */
    real *hl, *alpha;         /* [T, d] h^s; [E + 1] its attention */
    /* y = h^g [T, d]; saved u [T K, d], alpha [T K + 1], cat [T, 2d] */
    R(sbr_nn_edge_attn_global_out) agg;
    real *dtab;               /* [T, 2d] dropout_gcn's factors */
    uint8_t *dmask;           /* [T, 2d] */
    real *drop;               /* the factors the aggregator used: dtab or NULL */
    uint8_t *mg, *ml;         /* [T, d] the branches' dropout masks */
    real *hgd, *hld, *h;      /* [T, d] the branches after dropout; their sum */
    real *hs;                 /* [B L, d] h gathered to the clicks */
    real *pe, *pcat, *z;      /* [B L, d], [B L, 2d], [B L, d] the positional part */
    real *g, *gp; /* the backward's gradient buffers of the context and the
                   * positions (body/gce.c), each block zeroed together */
} R(sbr_gce_act);

typedef struct {
    R(sbr_gce_w) w, g;
    R(sbr_gce_act) a;
    int d, P, norm_local;
    double p_local, p_global, p_gcn; /* dropout, dropout_hidden, dropout_gcn */
    double used[3];                  /* the rates of the last forward (0 in evaluation) */
} R(sbr_gce);

/* The context's parameters (local.a, global.*), then the positions'
 * (read.pos, read.w3), reading the options dropout, dropout_hidden,
 * dropout_gcn and max_len. norm_local: the local attention sees
 * L2-normalised node embeddings (DMI-GNN). */
void R(sbr_gce_declare)(sbr_model *m, R(sbr_gce) *c, int norm_local);
void R(sbr_gce_layout)(const R(sbr_front) *f, R(sbr_gce) *c, sbr_lay *l, const sbr_dims *dm);
size_t R(sbr_gce_scratch)(const sbr_dims *dm, int d);
/* hs [B L, d], the clicks' vectors (padding rows are those of the row's
 * first node; readouts mask them), and z [B L, d] the positional part. */
void R(sbr_gce_forward)(sbr_model *m, const R(sbr_front) *f, R(sbr_gce) *c, const sbr_batch *b,
                        int train);
/* From dz and dhs [B L, d] (dhs is added to) to the parameters and the front. */
void R(sbr_gce_backward)(sbr_model *m, const R(sbr_front) *f, R(sbr_gce) *c, const sbr_batch *b,
                         const real *dz, real *dhs);

#define SBR_GCE_SLOPE ((real)0.2)

#endif
