/* The pieces of a neural process (body/np.c; NP-MiSR's, common/models/npmisr.c),
 * compiled per precision: a two-layer perceptron, a Gaussian head, and the
 * spread of K decoded vectors around their mean. */
#ifndef SBR_MODEL_BODY_NP_H
#define SBR_MODEL_BODY_NP_H

/* y [n, d] = W2 relu(W1 x + b1) + b2, x [n, in]. */
typedef struct {
    real *w1, *b1; /* [d, in], [d] */
    real *w2, *b2; /* [d, d], [d] */
} R(sbr_mlp2_w);

typedef struct {
    real *h, *ha; /* [n, d] before and after the ReLU */
} R(sbr_mlp2_a);

/* PREFIX.w1, .b1, .w2, .b2 (uniform, the model's scale) for w, a member of
 * the weight group being declared. */
void R(sbr_mlp2_declare)(sbr_model *m, R(sbr_mlp2_w) *w, const char *prefix, int64_t in,
                         int64_t d);
void R(sbr_mlp2_forward)(sbr_nn_ctx *ctx, const R(sbr_mlp2_w) *w, R(sbr_mlp2_a) *a, real *y,
                         const real *x, int n, int in, int d);
/* dx [n, in] += from dy; the parameters' gradients into g; dh: two zeroed
 * [n, d] buffers. */
void R(sbr_mlp2_backward)(sbr_nn_ctx *ctx, const R(sbr_mlp2_w) *w, const R(sbr_mlp2_w) *g,
                          const R(sbr_mlp2_a) *a, real *dx, real *const dh[2], const real *dy,
                          const real *x, int n, int in, int d);

/* A diagonal Gaussian of a code s [B, d]: mu = W_mu s + b_mu, sigma = 0.1 +
 * 0.9 softplus(W_sg s + b_sg) (positive, away from 0), [B, dz] each. */
typedef struct {
    real *mu_w, *mu_b; /* [dz, d], [dz] */
    real *sg_w, *sg_b; /* [dz, d], [dz] */
} R(sbr_gauss_head_w);

typedef struct {
    real *mu, *pre, *sp, *sig; /* [B, dz]: mu, sigma's head before and after softplus, sigma */
} R(sbr_gauss_a);

/* PREFIX.mu.w, .mu.b, .sigma.w, .sigma.b. */
void R(sbr_gauss_head_declare)(sbr_model *m, R(sbr_gauss_head_w) *w, const char *prefix,
                               int64_t d, int64_t dz);
void R(sbr_gauss_head_forward)(sbr_nn_ctx *ctx, const R(sbr_gauss_head_w) *w, R(sbr_gauss_a) *g,
                               const real *s, int B, int d, int dz);
/* ds [B, d] += from dg = {dmu, dsp, dpre, dsig} (dsp, dpre zeroed). */
void R(sbr_gauss_head_backward)(sbr_nn_ctx *ctx, const R(sbr_gauss_head_w) *w,
                                const R(sbr_gauss_head_w) *g, const R(sbr_gauss_a) *a, real *ds,
                                real *const dg[4], const real *s, int B, int d, int dz);

/* The context of each row: the C pairs of the model's pool (m->pool) with
 * the largest cos(x, x_c), never the row's own session's (b->pool) and,
 * with causal, of the sessions before its own only (a training row; slots
 * past what its past holds stay empty: zero pairs, no gradient), their
 * items, and [x_c ; y_c] with y_c the item table's row. */
typedef struct {
    int32_t *idx, *citem; /* [B, C] the pool rows, their items */
    real *sim;            /* [B, C] their cosines */
    real *xc, *yc, *pc;   /* [B C, d], [B C, d], [B C, 2d] */
} R(sbr_np_ctx_a);
void R(sbr_np_context)(sbr_model *m, R(sbr_np_ctx_a) *a, const sbr_batch *b, const real *x,
                       int C, int causal);
/* Its op scratch for batches of B. */
size_t R(sbr_np_context_scratch)(const sbr_model *m, int B, int C);

/* The spread of h [B, K, d] around its mean S [B, d]: var [B] = (1/K)
 * sum_k |h_k - S|^2; work: neg [B, d], dev [B K, d], sq [B K]. */
typedef struct {
    real *neg, *dev, *sq;
} R(sbr_spread_work);
void R(sbr_np_spread)(sbr_nn_ctx *ctx, real *var, const R(sbr_spread_work) *w, const real *h,
                      const real *S, int B, int K, int d);

#endif
