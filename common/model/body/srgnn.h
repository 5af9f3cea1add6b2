/* SR-GNN's session encoder (body/srgnn.c), shared by SR-GNN and TAGNN
 * (common/models/srgnn.c, tagnn.c): the session-graph encoder that GC-SAN
 * shares too (body/sessgraph.h: the front on the batch's nodes, `layers`
 * gated graph steps, the per-click node states v_i (hseq) by `alias`, the
 * last click's v_last), then the soft-attention readout
 *   alpha_i = w3^T sigmoid(W1 v_last + b1 + W2 v_i + b2)
 *             (SR-GNN: as it is; softmax on: softmax over i < len, TAGNN)
 *   a = sum_{i < len} alpha_i v_i
 *   S = W_t [a ; v_last] + b_t   (linear_transform, 2d -> d).
 * Every parameter uniform(-1/sqrt(d), 1/sqrt(d)) (official reset_parameters).
 * Optional dropout on the node embeddings (option `dropout`). docs/MODELS.md. */
#ifndef SBR_MODEL_BODY_SRGNN_H
#define SBR_MODEL_BODY_SRGNN_H

#include "model/body/sessgraph.h"

typedef struct {
    /* w_in, w_out [d, d], b_in, b_out, b_iah, b_oah [d], w_ih [3d, 2d], b_ih [3d],
     * w_hh [3d, d], b_hh [3d] */
    R(sbr_nn_ggnn_w) gnn;
    real *w1, *b1, *w2, *b2;           /* linear_one, linear_two: [d, d], [d] */
    real *w3;                          /* linear_three [1, d] */
    real *wt, *bt;                     /* linear_transform [d, 2d], [d] */
} R(sbr_srgnn_w);

typedef struct {
    /* the session-graph encoder (body/sessgraph.h): the nodes' states, the
     * clicks' hseq [B L, d] and the last click's vl [B, d] */
    R(sbr_sgraph) sg;
    real *gate;               /* [B L, d] the readout's gates */
    real *alpha, *logit;      /* [B, L] the readout's weights; before the softmax */
    real *q1, *ra;            /* [B, d] */
    real *c;                  /* [B, 2d] [a ; v_last] */
    real *g;                  /* the backward's gradient buffers, zeroed together */
} R(sbr_srgnn_act);

typedef struct {
    R(sbr_front) front;
    R(sbr_srgnn_w) w, g;
    R(sbr_srgnn_act) a;
    int softmax;
} R(sbr_srgnn);

/* The front, then SR-GNN's parameters under SR-GNN's names, reading the
 * options layers and dropout. softmax: the readout's weights normalised
 * over the prefix (TAGNN). */
void R(sbr_srgnn_declare)(sbr_model *m, R(sbr_srgnn) *s, int softmax);
void R(sbr_srgnn_layout)(sbr_model *m, R(sbr_srgnn) *s, sbr_lay *l, const sbr_dims *dm);
size_t R(sbr_srgnn_scratch)(const sbr_dims *dm, int d);
/* S [B, d]; s->a.sg.hseq [B L, d] holds the clicks' node states after. */
void R(sbr_srgnn_forward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, real *S, int train);
/* From dS [B, d] and, when not NULL, a further gradient dhseq [B L, d] of
 * the clicks' states (TAGNN's target term) to the parameters and the front. */
void R(sbr_srgnn_backward)(sbr_model *m, R(sbr_srgnn) *s, const sbr_batch *b, const real *dS,
                           const real *dhseq);

#endif
