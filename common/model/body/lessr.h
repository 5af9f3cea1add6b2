/* LESSR's two layers (body/lessr.c; Chen and Wong 2020, as the official
 * lessr.py runs them without batch norm: docs/MODELS.md), over the T session
 * nodes of a batch and its EOP multigraph and shortcut graph (b->eop). A
 * layer maps x [T, n] (n: its input width) to out [T, d]:
 *   EOPA (layers 0, 2, ...): a GRU (hidden n) runs over each node's
 *     in-neighbours in edge order, h_i its last state (0 without in-edges);
 *     out = PReLU(W_self x_i + W_neigh h_i)  (no biases)
 *   SGAT (layers 1, 3, ...): over the shortcut in-edges j -> i,
 *     q = W_q x + b_q, k = W_k x, v = W_v x,
 *     alpha = softmax_j(w_e . sigmoid(q_j + k_i)), out = PReLU(sum_j alpha v_j)
 * The GRU runs step by step over the step-major edges: step s is one
 * gru_cell over the nodes with more than s in-edges (their rows first). */
#ifndef SBR_MODEL_BODY_LESSR_H
#define SBR_MODEL_BODY_LESSR_H

typedef struct {
    /* EOPA: gru (w_ih [3n, n], b_ih [3n], w_hh [3n, n], b_hh [3n]),
     * fc_self, fc_neigh [d, n] */
    R(sbr_nn_gru_w) gru;
    real *w_self, *w_neigh;
    /* SGAT: fc_q [d, n] + [d], fc_k, fc_v [d, n], attn_e [1, d] */
    real *wq, *bq, *wk, *wv, *we;
    real *prelu; /* [d] the PReLU's slopes */
} R(sbr_lessr_w);

/* The sizes a layer's buffers are laid out (or run) for. */
typedef struct {
    int T;   /* nodes */
    int E;   /* EOP edges */
    int nnz; /* shortcut edges */
    int n;   /* the layer's input width */
    int d;   /* its output width */
} sbr_lessr_dims;

typedef struct {
    real *pre;                     /* [T, d] before the PReLU */
    real *gi, *gie, *gates;        /* EOPA: [T, 3n], [E, 3n], [E, 3n] */
    real *hs, *ghn, *neigh, *tmp;  /* EOPA: [E + 1, n], [E, n], [T, n], [T, d] */
    real *q, *k, *v, *alpha;       /* SGAT: [T, d] each, [nnz] */
} R(sbr_lessr_act);

/* Layer l (EOPA when even) of input width n. */
void R(sbr_lessr_declare)(sbr_model *m, R(sbr_lessr_w) *w, int l, int n);
void R(sbr_lessr_layout)(R(sbr_lessr_act) *a, sbr_lay *lay, int l, const sbr_lessr_dims *dm);
/* The gradient buffers a layer's backward takes (reals), for dm. */
size_t R(sbr_lessr_grad_size)(int l, const sbr_lessr_dims *dm);
size_t R(sbr_lessr_scratch)(int l, const sbr_lessr_dims *dm);
/* out [T, d] from x [T, n], over batch b's nodes and graphs. */
void R(sbr_lessr_forward)(sbr_model *m, int l, R(sbr_lessr_act) *a, const R(sbr_lessr_w) *w,
                          real *out, const real *x, const sbr_batch *b, int n);
/* dx [T, n] += and dw's fields += from dout [T, d]; gbuf: the layer's
 * gradient buffers (sbr_lessr_grad_size reals, any content). */
void R(sbr_lessr_backward)(sbr_model *m, int l, const R(sbr_lessr_act) *a,
                           const R(sbr_lessr_w) *w, const R(sbr_lessr_w) *dw, real *dx,
                           const real *dout, const real *x, const sbr_batch *b, int n,
                           real *gbuf);

#endif
